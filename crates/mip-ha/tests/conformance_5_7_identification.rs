//! RFC 5944 §3.8.2.1 (b) and §5.7: the Identification check (timestamps ±window, nonces),
//! code 133 with the home agent's time (or a new nonce) in the high-order 32 bits, replay
//! rejection, and replay state kept across deregistration.

mod common;

use common::*;
use mip_ha::{HomeAgent, MobileNodeKey, StoreOp, ViolationReason};
use mip_security::ntp;
use mip_security::replay::{ha_nonce_from_reply, nonce_request_identification, ClockOffset};

fn mn() -> std::net::Ipv4Addr {
    a("10.0.0.1")
}
fn coa() -> std::net::Ipv4Addr {
    a("70.0.0.2")
}
fn vn_sa() -> mip_security::SecurityAssociation {
    sa(0x100, VN_KEY)
}

#[test]
fn rfc5944_5_7_1_clock_outside_window_is_133_with_ha_time_in_high_bits() {
    let mut ha = home_agent();
    // The mobile node's clock is 100 s behind.
    let mut req = Request::new(mn(), coa(), at(0), vn_sa());
    let mn_clock = ntp::from_system_time(at(900));
    req.ident = mn_clock;
    let out = send(&mut ha, at(1000), &req);
    assert_eq!(out.code(), 133);
    let r = out.reply();
    assert_eq!(
        ntp::seconds(r.identification),
        ntp::seconds(ntp::from_system_time(at(1000)))
    );
    assert_eq!(ntp::fraction(r.identification), ntp::fraction(req.ident));
    assert!(reply_verifies(&out.transmit[0], &vn_sa(), None));
    let v: Vec<_> = ha.violations().collect();
    assert_eq!(v[0].reason, ViolationReason::BadIdentifier);
    assert_eq!(v[0].identification, req.ident);
    assert_eq!(ha.counters().bad_identification, 1);
    // The mobile node resynchronises from the reply and is accepted.
    let offset = ClockOffset::from_rejection(req.ident, r.identification, mn_clock).unwrap();
    let mut again = Request::new(mn(), coa(), at(0), vn_sa());
    again.ident = offset.apply(ntp::from_system_time(at(901)));
    assert_eq!(send(&mut ha, at(1001), &again).code(), 0);
}

#[test]
fn rfc5944_5_7_1_window_edges() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), coa(), at(0), vn_sa());
    req.ident = ntp::from_system_time(at(93));
    assert_eq!(
        send(&mut ha, at(100), &req).code(),
        0,
        "7 s behind is inside"
    );
    req.ident = ntp::from_system_time(at(207)) + 1;
    assert_eq!(
        send(&mut ha, at(200), &req).code(),
        133,
        "just over 7 s ahead is outside"
    );
}

#[test]
fn rfc5944_5_7_replayed_request_is_rejected() {
    let mut ha = home_agent();
    let req = Request::new(mn(), coa(), at(0), vn_sa());
    assert_eq!(send(&mut ha, at(0), &req).code(), 0);
    let out = send(&mut ha, at(2), &req);
    assert_eq!(out.code(), 133);
    assert!(out.dataplane.is_empty());
    assert_eq!(ha.bindings(at(2)).len(), 1);
}

#[test]
fn rfc5944_5_7_replay_state_survives_deregistration() {
    let mut ha = home_agent();
    let reg = Request::new(mn(), coa(), at(0), vn_sa());
    assert_eq!(send(&mut ha, at(0), &reg).code(), 0);
    let dereg = Request::new(mn(), mn(), at(1), vn_sa()).lifetime(0);
    assert_eq!(send(&mut ha, at(1), &dereg).code(), 0);
    assert_eq!(ha.binding_count(), 0);
    // Replaying the first registration after the binding is gone still fails.
    assert_eq!(send(&mut ha, at(3), &reg).code(), 133);
    assert_eq!(ha.binding_count(), 0);
}

#[test]
fn rfc5944_5_7_2_nonces_first_request_gets_133_and_a_nonce() {
    let mut p = policy();
    p.mobile_node_sas.clear();
    let p = p.mobile_node_sa(mn(), mn(), nonce_sa(0x400, VN_KEY));
    let mut ha = HomeAgent::with_options(p, &[ha_addr()], options());
    let nsa = nonce_sa(0x400, VN_KEY);
    let mut req = Request::new(mn(), coa(), at(0), nsa.clone());
    req.ident = nonce_request_identification(None, 0xa0a0_a0a0);
    let out = send(&mut ha, at(0), &req);
    assert_eq!(out.code(), 133);
    let reply_id = out.reply().identification;
    let nonce = ha_nonce_from_reply(req.ident, reply_id).unwrap();
    assert_ne!(nonce, 0);
    assert!(matches!(
        &out.store[0],
        StoreOp::PutReplay { mobile_node: MobileNodeKey::Address(m), state } if *m == mn() && state.issued_nonce == Some(nonce)
    ));
    // With the nonce: accepted, and a new nonce handed over.
    req.ident = nonce_request_identification(Some(nonce), 0xb0b0_b0b0);
    let out = send(&mut ha, at(1), &req);
    assert_eq!(out.code(), 0);
    let next = ha_nonce_from_reply(req.ident, out.reply().identification).unwrap();
    assert_ne!(next, nonce);
    // The old nonce is no good any more.
    req.ident = nonce_request_identification(Some(nonce), 0xc0c0_c0c0);
    assert_eq!(send(&mut ha, at(2), &req).code(), 133);
}
