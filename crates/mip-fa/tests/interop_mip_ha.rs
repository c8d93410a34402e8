//! The foreign agent against the suite's own home agent core (`mip-ha`), both in virtual
//! time: a registration, a renewal and a deregistration go through with FA-HA authentication
//! in both directions; a wrong FA-HA key is caught by each side.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use common::*;
use mip_fa::DataPlaneRequest;
use mip_ha::HomeAgent;
use mip_wire::registration::RegistrationReply;

fn home_agent(fa_key: &str) -> HomeAgent {
    let text = format!(
        "router mobile\n\
         ip mobile home-agent\n\
         ip mobile virtual-network 20.0.0.0 255.0.0.0\n\
         ip mobile host 20.0.0.1 20.0.0.9 virtual-network 20.0.0.0 255.0.0.0\n\
         ip mobile secure host 20.0.0.1 spi 100 key hex {MN_HA_KEY}\n\
         ip mobile secure foreign-agent 68.0.0.31 spi 102 key hex {fa_key}\n"
    );
    HomeAgent::new(&mip_config::parse_ios(&text, "ha.ios").unwrap(), &[HA])
}

fn fa_config() -> mip_config::Config {
    config(&format!(
        "ip mobile secure home-agent 66.0.0.5 spi 102 key hex {FA_HA_KEY}\n"
    ))
}

fn ntp(now: SystemTime) -> u64 {
    mip_security::ntp::from_system_time(now)
}

/// MN → FA → HA → FA → MN. Returns the reply the mobile node gets.
fn exchange(lab: &mut Lab, ha: &mut HomeAgent, req: &Req) -> RegistrationReply {
    let relayed = relay(lab, req);
    assert_eq!(relayed.destination, SocketAddrV4::new(HA, 434));
    ha.handle_request(lab.now, relayed.source, HA, &relayed.payload);
    while ha.poll_store().is_some() {}
    while ha.poll_dataplane().is_some() {}
    let reply = ha.poll_transmit().expect("the home agent answers");
    assert_eq!(reply.destination, relayed.source);
    lab.fa.handle_udp(
        lab.now,
        Some("eth0"),
        SocketAddrV4::new(reply.source, 434),
        *reply.destination.ip(),
        None,
        &reply.payload,
    );
    let mut out = lab.transmits();
    assert_eq!(out.len(), 1);
    let t = out.remove(0);
    assert_eq!(t.link_layer_destination, Some(MN_MAC));
    RegistrationReply::from_bytes(&t.payload).unwrap()
}

#[test]
fn registration_renewal_and_deregistration_through_both_cores() {
    let mut lab = Lab::new(&fa_config());
    let mut ha = home_agent(FA_HA_KEY);
    let req = Req::new(ntp(lab.now));
    let r = exchange(&mut lab, &mut ha, &req);
    assert_eq!(u8::from(r.code), 0, "{r:?}");
    assert_eq!(ha.binding_count(), 1);
    assert_eq!(lab.fa.visitor_count(), 1);
    let b = &ha.bindings(lab.now)[0];
    assert_eq!(b.care_of_address, COA);
    let v = lab.fa.visitor(MN, lab.now).unwrap();
    assert_eq!(u64::from(v.lifetime_granted), b.lifetime_granted.into());
    assert!(matches!(
        &lab.dataplane()[..],
        [DataPlaneRequest::AddVisitor(_)]
    ));

    lab.advance(Duration::from_secs(300));
    let req = Req::new(ntp(lab.now));
    let r = exchange(&mut lab, &mut ha, &req);
    assert_eq!(u8::from(r.code), 0);
    assert!(
        lab.dataplane().is_empty(),
        "a renewal changes nothing in the data plane"
    );

    lab.advance(Duration::from_secs(10));
    let mut dereg = Req::new(ntp(lab.now));
    dereg.lifetime = 0;
    let r = exchange(&mut lab, &mut ha, &dereg);
    assert_eq!(u8::from(r.code), 0);
    assert_eq!(ha.binding_count(), 0);
    assert_eq!(lab.fa.visitor_count(), 0);
    assert!(matches!(
        &lab.dataplane()[..],
        [DataPlaneRequest::RemoveVisitor(_)]
    ));
}

#[test]
fn a_home_agent_denial_reaches_the_mobile_node() {
    let mut lab = Lab::new(&fa_config());
    let mut ha = home_agent(FA_HA_KEY);
    // A stale timestamp: 133 from the home agent, relayed as is.
    let req = Req::new(ntp(lab.now - Duration::from_secs(100)));
    let r = exchange(&mut lab, &mut ha, &req);
    assert_eq!(u8::from(r.code), 133);
    assert_eq!(lab.fa.visitor_count(), 0);
    // A home address the home agent does not serve: 128 ... and the MN-HA SA is missing, so
    // it stays silent; the foreign agent times the request out with 78.
    let mut req = Req::new(ntp(lab.now));
    req.home = Ipv4Addr::new(20, 0, 0, 50);
    relay(&mut lab, &req);
    lab.advance(Duration::from_secs(15));
    let t = lab.transmits();
    assert_eq!(t[0].payload[1], 78);
}

#[test]
fn mismatched_fa_ha_keys_are_caught_by_the_home_agent() {
    let mut lab = Lab::new(&fa_config());
    let mut ha = home_agent(MN_FA_KEY);
    let req = Req::new(ntp(lab.now));
    let relayed = relay(&mut lab, &req);
    ha.handle_request(lab.now, relayed.source, HA, &relayed.payload);
    let reply = ha.poll_transmit().unwrap();
    // 132 (foreign agent failed authentication), signed FA-HA with the home agent's key,
    // which the foreign agent in turn rejects: the mobile node hears 68.
    assert_eq!(reply.payload[1], 132);
    lab.ha_sends(&reply.payload);
    let t = lab.transmits();
    assert_eq!(t[0].payload[1], 68);
    assert_eq!(lab.fa.violations().count(), 1);
}
