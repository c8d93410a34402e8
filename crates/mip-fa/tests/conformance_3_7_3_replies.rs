//! RFC 5944 §3.7.3 (receiving Registration Replies: validity checks, forwarding to the mobile
//! node) and seed 002 (visitor table, delivery without ARP, expiry, deregistration).

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use common::*;
use mip_fa::{DataPlaneRequest, UnreachableKind, ViolationReason, VisitorRoute};
use mip_wire::codes::Encapsulation;
use mip_wire::extension::{AuthKind, Extension};
use mip_wire::registration::RegistrationReply;

const SECURE_VISITOR: &str =
    "ip mobile secure visitor 20.0.0.1 spi 101 key hex 0102030405060708090a0b0c0d0e0f10\n";
const SECURE_HA: &str =
    "ip mobile secure home-agent 66.0.0.5 spi 102 key hex a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n";

fn route(reverse: bool, encapsulation: Encapsulation) -> VisitorRoute {
    VisitorRoute {
        home_address: MN,
        interface: "eth1".into(),
        link_layer: Some(MN_MAC),
        care_of_address: COA,
        home_agent: HA,
        reverse_tunnel: reverse,
        encapsulation,
        decapsulate: true,
    }
}

/// Registers `req` through the lab (HA accepts with `granted`), returns the reply datagram.
fn register(lab: &mut Lab, req: &Req, granted: u16) -> mip_fa::Transmit {
    let t = relay(lab, req);
    lab.ha_sends(&ha_reply(&t.payload, 0, granted, None));
    let mut out = lab.transmits();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0)
}

#[test]
fn an_accepted_reply_creates_a_visitor_and_is_forwarded_without_arp() {
    let mut lab = Lab::new(&config(""));
    let relayed = relay(&mut lab, &Req::new(0x1111_2222_3333_4444));
    let reply = ha_reply(&relayed.payload, 0, 600, None);
    lab.ha_sends(&reply);
    // Data plane first: the visitor's entry with its link-layer address.
    assert_eq!(
        lab.dataplane(),
        vec![DataPlaneRequest::AddVisitor(route(
            false,
            Encapsulation::IpInIp
        ))]
    );
    let t = lab.transmits();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].interface.as_deref(), Some("eth1"));
    assert_eq!(t[0].link_layer_destination, Some(MN_MAC));
    assert_eq!(t[0].destination, SocketAddrV4::new(MN, MN_PORT));
    assert_eq!(t[0].source, SocketAddrV4::new(FA_LINK, 434));
    // Relayed unchanged (the MN-HA extension still verifies).
    assert_eq!(t[0].payload, reply);
    assert!(verifies(
        &t[0].payload,
        20,
        AuthKind::MnHa,
        0x100,
        MN_HA_KEY
    ));
    assert_eq!(lab.fa.pending_count(), 0);
    let v = lab.fa.visitor(MN, lab.now).unwrap();
    assert_eq!(v.lifetime_granted, 600);
    assert_eq!(v.remaining_secs, Some(600));
    assert_eq!(v.identification, 0x1111_2222_3333_4444);
    let c = lab.fa.counters();
    assert_eq!(
        (c.replies_in, c.replies_forwarded, c.visitors_added),
        (1, 1, 1)
    );
}

#[test]
fn the_visitor_lifetime_is_the_smaller_of_granted_and_requested() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.lifetime = 300;
    register(&mut lab, &req, 900);
    assert_eq!(lab.fa.visitor(MN, lab.now).unwrap().lifetime_granted, 300);
    req.ident = 2;
    register(&mut lab, &req, 120);
    assert_eq!(lab.fa.visitor(MN, lab.now).unwrap().lifetime_granted, 120);
}

#[test]
fn a_reply_without_a_matching_pending_request_is_dropped_and_counted() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &Req::new(0x10));
    // Wrong identification (low 32 bits), wrong home address.
    lab.ha_sends(&ha_reply_for(MN, 0x11, 0, 600, None, &[]));
    lab.ha_sends(&ha_reply_for(
        Ipv4Addr::new(20, 0, 0, 9),
        0x10,
        0,
        600,
        None,
        &[],
    ));
    // Cut short.
    lab.ha_sends(&[3, 0, 0]);
    assert!(lab.transmits().is_empty());
    assert!(lab.dataplane().is_empty());
    let c = lab.fa.counters();
    assert_eq!(c.replies_in, 3);
    assert_eq!(c.replies_no_pending, 2);
    assert_eq!(c.replies_ignored, 3);
    assert_eq!(lab.fa.pending_count(), 1);
    // The high 32 bits may differ (a timestamp home agent puts its own time there).
    lab.ha_sends(&ha_reply_for(MN, 0xABCD_0000_0000_0010, 0, 600, None, &[]));
    assert_eq!(lab.transmits().len(), 1);
}

#[test]
fn a_denial_is_relayed_unchanged_and_leaves_the_visitor_alone() {
    let mut lab = Lab::new(&config(""));
    register(&mut lab, &Req::new(1), 600);
    lab.dataplane();
    lab.advance(Duration::from_secs(100));
    let relayed = relay(&mut lab, &Req::new(2));
    let denial = ha_reply(&relayed.payload, 133, 0, None);
    lab.ha_sends(&denial);
    let t = lab.transmits();
    assert_eq!(t[0].payload, denial);
    assert!(lab.dataplane().is_empty());
    // Seed 002: "The visitors table and timers are unaffected."
    let v = lab.fa.visitor(MN, lab.now).unwrap();
    assert_eq!((v.identification, v.remaining_secs), (1, Some(500)));
    assert_eq!(lab.fa.pending_count(), 0);
}

#[test]
fn code_68_when_the_home_agent_fails_authentication() {
    let mut lab = Lab::new(&config(SECURE_HA));
    // Missing FA-HA.
    let relayed = relay(&mut lab, &Req::new(1));
    lab.ha_sends(&ha_reply(&relayed.payload, 0, 600, None));
    let t = lab.transmits();
    let r = RegistrationReply::from_bytes(&t[0].payload).unwrap();
    assert_eq!(u8::from(r.code), 68);
    assert_eq!(lab.fa.visitor_count(), 0);
    assert!(lab.dataplane().is_empty());
    // Wrong key.
    let relayed = relay(&mut lab, &Req::new(2));
    lab.ha_sends(&ha_reply(
        &relayed.payload,
        0,
        600,
        Some((0x102, MN_FA_KEY)),
    ));
    assert_eq!(lab.transmits()[0].payload[1], 68);
    // Wrong SPI.
    let relayed = relay(&mut lab, &Req::new(3));
    lab.ha_sends(&ha_reply(
        &relayed.payload,
        0,
        600,
        Some((0x103, FA_HA_KEY)),
    ));
    assert_eq!(lab.transmits()[0].payload[1], 68);
    let v: Vec<_> = lab.fa.violations().cloned().collect();
    assert_eq!(v.len(), 3);
    assert!(v
        .iter()
        .all(|v| v.home_agent && v.address == HA && v.code == 68));
    assert_eq!(v[0].reason, ViolationReason::MissingSecurityExtension);
    assert_eq!(v[1].reason, ViolationReason::BadAuthenticator);
    assert_eq!(v[2].reason, ViolationReason::BadSpi);
    assert_eq!(lab.fa.counters().auth_failed_ha, 3);
    // Right: accepted, and the FA-HA extension is not passed on.
    let relayed = relay(&mut lab, &Req::new(4));
    let reply = ha_reply(&relayed.payload, 0, 600, Some((0x102, FA_HA_KEY)));
    lab.ha_sends(&reply);
    let t = lab.transmits();
    assert_eq!(t[0].payload[1], 0);
    assert_eq!(t[0].payload.len(), reply.len() - 22);
    assert_eq!(lab.fa.visitor_count(), 1);
}

#[test]
fn replies_to_a_visitor_with_an_sa_carry_mn_fa() {
    let mut lab = Lab::new(&config(SECURE_VISITOR));
    let mut req = Req::new(1);
    req.mn_fa = Some((0x101, key(MN_FA_KEY)));
    let t = register(&mut lab, &req, 600);
    assert!(verifies(&t.payload, 20, AuthKind::MnHa, 0x100, MN_HA_KEY));
    assert!(verifies(&t.payload, 20, AuthKind::MnFa, 0x101, MN_FA_KEY));
}

#[test]
fn code_71_poorly_formed_reply() {
    let mut lab = Lab::new(&config(""));
    let relayed = relay(&mut lab, &Req::new(1));
    let mut reply = ha_reply(&relayed.payload, 0, 600, None);
    reply.extend_from_slice(&[131, 30]);
    lab.ha_sends(&reply);
    assert_eq!(lab.transmits()[0].payload[1], 71);
    assert_eq!(lab.fa.counters().replies_bad, 1);
    assert_eq!(lab.fa.visitor_count(), 0);
}

#[test]
fn code_101_cvse_from_the_home_agent_and_unknown_extensions() {
    let mut lab = Lab::new(&config(""));
    let relayed = relay(&mut lab, &Req::new(1));
    let mut reply = ha_reply(&relayed.payload, 0, 600, None);
    reply.extend_from_slice(
        &Extension::Cvse {
            reserved: 0,
            vendor_id: 9,
            vendor_type: 3,
            data: vec![],
        }
        .to_bytes(),
    );
    lab.ha_sends(&reply);
    assert_eq!(lab.transmits()[0].payload[1], 101);
    // An unknown non-skippable extension after MN-HA: discarded, the request stays pending.
    let relayed = relay(&mut lab, &Req::new(2));
    let mut reply = ha_reply(&relayed.payload, 0, 600, None);
    reply.extend_from_slice(&[100, 0]);
    lab.ha_sends(&reply);
    assert!(lab.transmits().is_empty());
    assert_eq!(lab.fa.pending_count(), 1);
}

#[test]
fn a_visitor_expires_with_its_lifetime() {
    let mut lab = Lab::new(&config(""));
    register(&mut lab, &Req::new(1), 60);
    lab.dataplane();
    lab.advance(Duration::from_millis(59_999));
    assert_eq!(lab.fa.visitor_count(), 1);
    lab.advance(Duration::from_millis(1));
    assert_eq!(lab.fa.visitor_count(), 0);
    assert_eq!(
        lab.dataplane(),
        vec![DataPlaneRequest::RemoveVisitor(route(
            false,
            Encapsulation::IpInIp
        ))]
    );
    assert_eq!(lab.fa.counters().visitors_expired, 1);
}

#[test]
fn renewal_moves_the_expiry_and_asks_nothing_of_the_data_plane() {
    let mut lab = Lab::new(&config(""));
    register(&mut lab, &Req::new(1), 60);
    lab.dataplane();
    lab.advance(Duration::from_secs(50));
    register(&mut lab, &Req::new(2), 60);
    assert!(lab.dataplane().is_empty());
    lab.advance(Duration::from_secs(50));
    assert_eq!(lab.fa.visitor_count(), 1);
    // A change (GRE now) replaces the entry.
    let mut req = Req::new(3);
    req.flags.g = true;
    register(&mut lab, &req, 60);
    assert_eq!(
        lab.dataplane(),
        vec![
            DataPlaneRequest::RemoveVisitor(route(false, Encapsulation::IpInIp)),
            DataPlaneRequest::AddVisitor(route(false, Encapsulation::Gre)),
        ]
    );
}

#[test]
fn an_accepted_deregistration_removes_the_visitor() {
    let mut lab = Lab::new(&config(""));
    register(&mut lab, &Req::new(1), 600);
    lab.dataplane();
    let mut req = Req::new(2);
    req.lifetime = 0;
    let t = register(&mut lab, &req, 0);
    assert_eq!(t.payload[1], 0);
    assert_eq!(lab.fa.visitor_count(), 0);
    assert_eq!(
        lab.dataplane(),
        vec![DataPlaneRequest::RemoveVisitor(route(
            false,
            Encapsulation::IpInIp
        ))]
    );
    let c = lab.fa.counters();
    assert_eq!((c.deregister_requests_in, c.visitors_deregistered), (1, 1));
    // Its timer is gone too.
    lab.advance(Duration::from_secs(700));
    assert!(lab.dataplane().is_empty());
    assert_eq!(lab.fa.counters().visitors_expired, 0);
}

#[test]
fn an_infinite_lifetime_never_expires() {
    let text = BASE.replace("registration-lifetime 3600", "registration-lifetime 65535");
    let cfg = mip_config::parse_ios(&text, "t.ios").unwrap();
    let mut lab = Lab::new(&cfg);
    let mut req = Req::new(1);
    req.lifetime = 0xffff;
    register(&mut lab, &req, 0xffff);
    lab.advance(Duration::from_secs(100_000));
    let v = lab.fa.visitor(MN, lab.now).unwrap();
    assert_eq!(v.remaining_secs, None);
}

#[test]
fn codes_80_to_88_from_icmp_errors() {
    let mut lab = Lab::new(&config(""));
    let kinds = [
        (UnreachableKind::Network, 80),
        (UnreachableKind::Host, 81),
        (UnreachableKind::Port, 82),
        (UnreachableKind::Other, 88),
    ];
    for (i, (kind, code)) in kinds.into_iter().enumerate() {
        relay(&mut lab, &Req::new(i as u64 + 1));
        assert_eq!(lab.fa.handle_icmp_unreachable(lab.now, HA, kind), 1);
        let t = lab.transmits();
        assert_eq!(t[0].payload[1], code);
        assert_eq!(t[0].link_layer_destination, Some(MN_MAC));
    }
    assert_eq!(
        lab.fa
            .handle_icmp_unreachable(lab.now, HA, UnreachableKind::Host),
        0
    );
    assert_eq!(lab.fa.counters().ha_unreachable, 4);
}

#[test]
fn a_reply_for_one_of_several_pending_requests_leaves_the_others() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &Req::new(1));
    let second = relay(&mut lab, &Req::new(2));
    lab.ha_sends(&ha_reply(&second.payload, 0, 600, None));
    lab.transmits();
    assert_eq!(lab.fa.pending_count(), 1);
    assert_eq!(lab.fa.pending(lab.now)[0].identification, 1);
}
