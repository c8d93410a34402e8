//! RFC 2794 (Mobile Node NAI) at the foreign agent, and seed 000's visitors by NAI and session
//! identifier: the home address assigned by the home agent is filed in the visitor list
//! (seed 001: "FA scans registration reply for IP addresses assigned by HA and adds this
//! address to its visitor table").

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use mip_fa::{DataPlaneRequest, VisitorSelector};
use mip_wire::extension::Extension;

const NAI: &str = "user01@cisco.com";
const ASSIGNED: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 17);

fn session(id: &[u8]) -> Extension {
    Extension::Nvse {
        reserved: 0,
        vendor_id: 9,
        vendor_type: 0x0A01,
        data: id.to_vec(),
    }
}

fn nai_req(ident: u64, sid: &[u8]) -> Req {
    let mut req = Req::new(ident);
    req.home = Ipv4Addr::UNSPECIFIED;
    req.before = vec![Extension::Nai(NAI.as_bytes().to_vec()), session(sid)];
    req
}

fn nai_reply(ident: u64, code: u8, home: Ipv4Addr, sid: &[u8]) -> Vec<u8> {
    ha_reply_for(
        home,
        ident,
        code,
        600,
        None,
        &[Extension::Nai(NAI.as_bytes().to_vec()), session(sid)],
    )
}

#[test]
fn an_nai_registration_files_the_assigned_home_address() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &nai_req(1, b"PDA"));
    let p = &lab.fa.pending(lab.now)[0];
    assert_eq!(p.nai.as_deref(), Some(NAI));
    assert_eq!(p.session_id.as_deref(), Some("PDA"));
    lab.ha_sends(&nai_reply(1, 0, ASSIGNED, b"PDA"));
    let dp = lab.dataplane();
    assert!(matches!(&dp[..], [DataPlaneRequest::AddVisitor(r)] if r.home_address == ASSIGNED));
    let t = lab.transmits();
    // To the assigned address, on the link-layer address learned from the request.
    assert_eq!(t[0].destination, SocketAddrV4::new(ASSIGNED, MN_PORT));
    assert_eq!(t[0].link_layer_destination, Some(MN_MAC));
    let v = lab.fa.visitor(ASSIGNED, lab.now).unwrap();
    assert_eq!(v.nai.as_deref(), Some(NAI));
    assert_eq!(v.session_id.as_deref(), Some("PDA"));
}

#[test]
fn a_reply_matches_by_nai_and_realm_case_does_not_matter() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &nai_req(1, b"PDA"));
    let reply = ha_reply_for(
        ASSIGNED,
        1,
        0,
        600,
        None,
        &[Extension::Nai(b"user01@CISCO.com".to_vec())],
    );
    lab.ha_sends(&reply);
    assert_eq!(lab.fa.visitor_count(), 1);
}

#[test]
fn code_99_when_the_home_agent_assigns_no_address() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &nai_req(1, b"PDA"));
    lab.ha_sends(&nai_reply(1, 0, Ipv4Addr::UNSPECIFIED, b"PDA"));
    let t = lab.transmits();
    assert_eq!(t[0].payload[1], 99);
    // No address yet: limited broadcast, unicast on the link layer.
    assert_eq!(t[0].destination.ip(), &Ipv4Addr::BROADCAST);
    assert_eq!(t[0].link_layer_destination, Some(MN_MAC));
    assert_eq!(lab.fa.visitor_count(), 0);
    assert_eq!(lab.fa.counters().missing_home_address, 1);
}

#[test]
fn five_pending_per_nai() {
    let mut lab = Lab::new(&config(""));
    for i in 1..=5 {
        relay(&mut lab, &nai_req(i, b"PDA"));
    }
    lab.expect_denial(&nai_req(6, b"PDA").bytes(), 66);
}

#[test]
fn clear_visitors_by_nai_session_and_address() {
    let mut lab = Lab::new(&config(""));
    for (ident, sid, home) in [
        (1, &b"PDA"[..], ASSIGNED),
        (2, &b"laptop"[..], Ipv4Addr::new(100, 100, 100, 18)),
        (3, &b"phone"[..], Ipv4Addr::new(100, 100, 100, 19)),
    ] {
        relay(&mut lab, &nai_req(ident, sid));
        lab.ha_sends(&nai_reply(ident, 0, home, sid));
        lab.transmits();
    }
    lab.dataplane();
    assert_eq!(lab.fa.visitor_count(), 3);
    let sel = |session_id: Option<&str>, address: Option<Ipv4Addr>| VisitorSelector::Nai {
        nai: "user01@Cisco.COM".into(),
        session_id: session_id.map(Into::into),
        address,
    };
    assert_eq!(lab.fa.clear_visitors(&sel(Some("nope"), None)), 0);
    assert_eq!(lab.fa.clear_visitors(&sel(Some("PDA"), None)), 1);
    assert_eq!(
        lab.fa
            .clear_visitors(&sel(None, Some(Ipv4Addr::new(100, 100, 100, 18)))),
        1
    );
    assert_eq!(lab.fa.clear_visitors(&sel(None, None)), 1);
    assert_eq!(lab.dataplane().len(), 3);
    assert_eq!(lab.fa.counters().visitors_cleared, 3);
}
