//! RFC 5944 §3.8.2.2 (accepting a valid request), §3.6.1.3 / §3.8.2.2 deregistration,
//! simultaneous bindings, lifetime expiry, and seed 002's data-plane effects ("a virtual
//! tunnel is created, a host route ... is added ..., and gratuitous ARPs are sent out";
//! "Tunnels are shared by mobile nodes registered with the same endpoints").
//! The data-plane request sequences are pinned exactly.

mod common;

use common::*;
use mip_ha::{
    ArpReason, BindingSelector, DataPlaneRequest as Dp, MobileNodeKey, StoreOp, TunnelEndpoints,
    TunnelId,
};
use mip_security::ReplayState;
use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::registration::RequestFlags as F;

fn mn() -> std::net::Ipv4Addr {
    a("11.0.0.1")
}
fn coa1() -> std::net::Ipv4Addr {
    a("70.0.0.2")
}
fn coa2() -> std::net::Ipv4Addr {
    a("70.0.0.3")
}
fn mn_sa() -> mip_security::SecurityAssociation {
    sa(0x100, MN_KEY)
}
fn ends(dst: std::net::Ipv4Addr) -> TunnelEndpoints {
    TunnelEndpoints {
        source: ha_addr(),
        destination: dst,
    }
}
fn add_tunnel(id: u32, dst: std::net::Ipv4Addr, e: Encapsulation) -> Dp {
    Dp::AddTunnel {
        tunnel: TunnelId(id),
        endpoints: ends(dst),
        encapsulation: e,
        reverse_allowed: true,
    }
}
fn rm_tunnel(id: u32, dst: std::net::Ipv4Addr, e: Encapsulation) -> Dp {
    Dp::RemoveTunnel {
        tunnel: TunnelId(id),
        endpoints: ends(dst),
        encapsulation: e,
    }
}
fn route(home: std::net::Ipv4Addr, id: u32) -> Dp {
    Dp::AddHostRoute {
        home_address: home,
        tunnel: TunnelId(id),
    }
}
fn unroute(home: std::net::Ipv4Addr, id: u32) -> Dp {
    Dp::RemoveHostRoute {
        home_address: home,
        tunnel: TunnelId(id),
    }
}
fn proxy(home: std::net::Ipv4Addr, on: bool) -> Dp {
    Dp::ProxyArp {
        address: home,
        interface: "Ethernet1".into(),
        enable: on,
    }
}
fn garp(home: std::net::Ipv4Addr, reason: ArpReason) -> Dp {
    Dp::GratuitousArp {
        address: home,
        interface: "Ethernet1".into(),
        reason,
    }
}

#[test]
fn rfc5944_3_8_2_2_accept_creates_binding_and_pins_dataplane_sequence() {
    let mut ha = home_agent();
    let req = Request::new(mn(), coa1(), at(0), mn_sa());
    let out = send(&mut ha, at(0), &req);
    // Store first: replay state, then the binding.
    assert_eq!(out.store.len(), 2);
    assert_eq!(
        out.store[0],
        StoreOp::PutReplay {
            mobile_node: MobileNodeKey::Address(mn()),
            state: ReplayState {
                last_accepted: Some(req.ident),
                issued_nonce: None
            }
        }
    );
    let StoreOp::PutBinding(rec) = &out.store[1] else {
        panic!("{:?}", out.store)
    };
    assert_eq!(
        (rec.home_address, rec.care_of_address, rec.lifetime_granted),
        (mn(), coa1(), 1800)
    );
    assert_eq!(rec.expires_at_ms, (T0 + 1800) * 1000);
    assert_eq!(
        out.dataplane,
        vec![
            add_tunnel(0, coa1(), Encapsulation::IpInIp),
            route(mn(), 0),
            proxy(mn(), true),
            garp(mn(), ArpReason::MobileNodeLeft),
        ]
    );
    let r = out.reply();
    assert_eq!(r.code, ReplyCode::Accepted);
    assert_eq!(
        (r.lifetime, r.home_address, r.home_agent),
        (1800, mn(), ha_addr())
    );
    assert_eq!(r.identification, req.ident);
    assert!(reply_verifies(&out.transmit[0], &mn_sa(), None));
    // RFC 5944 §3.8.3.1: to the request's source address and port, from its destination.
    assert_eq!(out.transmit[0].destination.ip(), &coa1());
    assert_eq!(out.transmit[0].destination.port(), 434);
    assert_eq!(out.transmit[0].source, ha_addr());
    let b = ha.bindings(at(10));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].remaining_secs, Some(1790));
    assert_eq!(b[0].tunnel_endpoints, ends(coa1()));
    assert_eq!(ha.poll_timeout(), Some(at(1800)));
}

#[test]
fn rfc5944_3_8_2_2_requested_lifetime_above_limit_is_reduced_not_refused() {
    let mut p = policy();
    p.lifetime = 300;
    let mut ha = mip_ha::HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).lifetime(9000),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().lifetime, 300);
    assert_eq!(ha.poll_timeout(), Some(at(300)));
    // A shorter request is granted as asked.
    let out = send(
        &mut ha,
        at(5),
        &Request::new(mn(), coa1(), at(5), mn_sa()).lifetime(100),
    );
    assert_eq!(out.reply().lifetime, 100);
    assert_eq!(ha.poll_timeout(), Some(at(105)));
}

#[test]
fn seed002_host_group_lifetime_overrides_home_agent_lifetime() {
    let mut p = policy();
    p.host_groups[0].lifetime = Some(3600);
    let mut ha = mip_ha::HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).lifetime(10000),
    );
    assert_eq!(out.reply().lifetime, 3600);
}

#[test]
fn rfc5944_3_8_2_2_renewal_same_care_of_address_changes_only_the_lifetime() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &Request::new(mn(), coa1(), at(0), mn_sa()));
    let out = send(
        &mut ha,
        at(600),
        &Request::new(mn(), coa1(), at(600), mn_sa()),
    );
    assert_eq!(out.code(), 0);
    assert!(out.dataplane.is_empty(), "{:?}", out.dataplane);
    assert!(
        matches!(out.store[1], StoreOp::PutBinding(ref r) if r.expires_at_ms == (T0 + 2400) * 1000)
    );
    assert_eq!(ha.binding_count(), 1);
    // The old expiry no longer fires.
    assert_eq!(ha.poll_timeout(), Some(at(2400)));
    ha.handle_timeout(at(1800));
    assert_eq!(ha.binding_count(), 1);
}

#[test]
fn rfc5944_3_8_2_2_new_care_of_address_without_s_replaces_make_before_break() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &Request::new(mn(), coa1(), at(0), mn_sa()));
    let out = send(
        &mut ha,
        at(10),
        &Request::new(mn(), coa2(), at(10), mn_sa()),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(
        out.dataplane,
        vec![
            add_tunnel(1, coa2(), Encapsulation::IpInIp),
            route(mn(), 1),
            unroute(mn(), 0),
            rm_tunnel(0, coa1(), Encapsulation::IpInIp),
        ]
    );
    assert!(matches!(&out.store[1], StoreOp::PutBinding(r) if r.care_of_address == coa2()));
    assert_eq!(
        out.store[2],
        StoreOp::DeleteBinding {
            home_address: mn(),
            care_of_address: coa1()
        }
    );
    let b = ha.bindings_of(mn(), at(10));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].care_of_address, coa2());
}

#[test]
fn rfc5944_3_8_2_2_s_bit_keeps_prior_bindings_up_to_the_limit_then_135() {
    let mut ha = home_agent();
    let s = F::S;
    send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(s),
    );
    let out = send(
        &mut ha,
        at(1),
        &Request::new(mn(), coa2(), at(1), mn_sa()).flags(s),
    );
    assert_eq!(out.code(), 0);
    // A second tunnel and route, no ARP (the mobile node was already away).
    assert_eq!(
        out.dataplane,
        vec![add_tunnel(1, coa2(), Encapsulation::IpInIp), route(mn(), 1)]
    );
    let out = send(
        &mut ha,
        at(2),
        &Request::new(mn(), a("70.0.0.4"), at(2), mn_sa()).flags(s),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(ha.bindings_of(mn(), at(2)).len(), 3);
    // Limit 3 reached: a fourth care-of address is refused with 135.
    let out = send(
        &mut ha,
        at(3),
        &Request::new(mn(), a("70.0.0.5"), at(3), mn_sa()).flags(s),
    );
    assert_eq!(out.code(), 135);
    assert!(out.dataplane.is_empty());
    assert_eq!(ha.counters().too_many_bindings, 1);
    // Renewing one of the three is fine.
    let out = send(
        &mut ha,
        at(4),
        &Request::new(mn(), coa2(), at(4), mn_sa()).flags(s),
    );
    assert_eq!(out.code(), 0);
    // Without S, a registration replaces all of them.
    let out = send(&mut ha, at(5), &Request::new(mn(), coa1(), at(5), mn_sa()));
    assert_eq!(out.code(), 0);
    assert_eq!(ha.bindings_of(mn(), at(5)).len(), 1);
    assert_eq!(
        out.dataplane,
        vec![
            unroute(mn(), 1),
            rm_tunnel(1, coa2(), Encapsulation::IpInIp),
            unroute(mn(), 2),
            rm_tunnel(2, a("70.0.0.4"), Encapsulation::IpInIp),
        ]
    );
}

#[test]
fn rfc5944_3_8_2_2_s_bit_unsupported_accepts_with_code_1_and_replaces() {
    let mut p = policy();
    p.simultaneous_bindings = 0;
    let mut ha = mip_ha::HomeAgent::with_options(p, &[ha_addr()], options());
    send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::S),
    );
    let out = send(
        &mut ha,
        at(1),
        &Request::new(mn(), coa2(), at(1), mn_sa()).flags(F::S),
    );
    assert_eq!(out.code(), 1);
    assert_eq!(ha.bindings_of(mn(), at(1)).len(), 1);
    assert_eq!(ha.counters().no_simultaneous_bindings, 2);
}

#[test]
fn rfc5944_3_8_2_2_deregistration_of_one_care_of_address() {
    let mut ha = home_agent();
    send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::S),
    );
    send(
        &mut ha,
        at(1),
        &Request::new(mn(), coa2(), at(1), mn_sa()).flags(F::S),
    );
    let out = send(
        &mut ha,
        at(2),
        &Request::new(mn(), coa1(), at(2), mn_sa())
            .flags(F::S)
            .lifetime(0),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().lifetime, 0);
    assert_eq!(
        out.dataplane,
        vec![
            unroute(mn(), 0),
            rm_tunnel(0, coa1(), Encapsulation::IpInIp)
        ]
    );
    let left = ha.bindings_of(mn(), at(2));
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].care_of_address, coa2());
    assert_eq!(ha.counters().deregister_requests, 1);
    assert_eq!(ha.counters().deregister_replied, 1);
}

#[test]
fn rfc5944_3_8_2_2_deregistration_with_home_address_as_care_of_removes_all_and_arps() {
    let mut ha = home_agent();
    send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::S),
    );
    send(
        &mut ha,
        at(1),
        &Request::new(mn(), coa2(), at(1), mn_sa()).flags(F::S),
    );
    // Back home: lifetime 0, care-of address = home address, sent from the home address.
    let out = send(
        &mut ha,
        at(2),
        &Request::new(mn(), mn(), at(2), mn_sa()).lifetime(0),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(
        out.dataplane,
        vec![
            unroute(mn(), 0),
            rm_tunnel(0, coa1(), Encapsulation::IpInIp),
            unroute(mn(), 1),
            rm_tunnel(1, coa2(), Encapsulation::IpInIp),
            proxy(mn(), false),
            garp(mn(), ArpReason::MobileNodeReturned),
        ]
    );
    assert_eq!(ha.binding_count(), 0);
    assert_eq!(ha.tunnel_count(), 0);
    assert_eq!(ha.poll_timeout(), None);
}

#[test]
fn rfc5944_3_8_2_2_deregistration_without_binding_is_accepted() {
    let mut ha = home_agent();
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), mn(), at(0), mn_sa()).lifetime(0),
    );
    assert_eq!(out.code(), 0);
    assert!(out.dataplane.is_empty());
}

#[test]
fn rfc5944_3_8_2_2_expiry_at_the_exact_virtual_second() {
    let mut ha = home_agent();
    send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).lifetime(60),
    );
    assert_eq!(ha.poll_timeout(), Some(at(60)));
    ha.handle_timeout(at(59));
    assert_eq!(ha.binding_count(), 1);
    assert!(drain(&mut ha).store.is_empty());
    ha.handle_timeout(at(60));
    assert_eq!(ha.binding_count(), 0);
    let out = drain(&mut ha);
    assert_eq!(
        out.store,
        vec![StoreOp::DeleteBinding {
            home_address: mn(),
            care_of_address: coa1()
        }]
    );
    // Expiry: no gratuitous ARP (the node is not known to be home), proxy ARP stops.
    assert_eq!(
        out.dataplane,
        vec![
            unroute(mn(), 0),
            rm_tunnel(0, coa1(), Encapsulation::IpInIp),
            proxy(mn(), false)
        ]
    );
    assert!(out.transmit.is_empty(), "the mobile node is not notified");
    assert_eq!(ha.counters().bindings_expired, 1);
    assert_eq!(ha.poll_timeout(), None);
}

#[test]
fn seed002_tunnels_are_shared_and_removed_with_the_last_binding() {
    let mut ha = home_agent();
    let fa = fa_addr();
    let m1 = a("10.0.0.1");
    let m2 = a("10.0.0.2");
    let vn = sa(0x100, VN_KEY);
    let out = send_from(
        &mut ha,
        at(0),
        fa,
        &Request::new(m1, fa, at(0), vn.clone()).via_fa(),
    );
    assert_eq!(out.code(), 0);
    // Virtual network: no ARP at all.
    assert_eq!(
        out.dataplane,
        vec![add_tunnel(0, fa, Encapsulation::IpInIp), route(m1, 0)]
    );
    let out = send_from(
        &mut ha,
        at(1),
        fa,
        &Request::new(m2, fa, at(1), vn.clone()).via_fa(),
    );
    assert_eq!(out.dataplane, vec![route(m2, 0)]);
    assert_eq!(ha.tunnel_count(), 1);
    let out = send_from(
        &mut ha,
        at(2),
        fa,
        &Request::new(m1, fa, at(2), vn.clone()).via_fa().lifetime(0),
    );
    assert_eq!(out.dataplane, vec![unroute(m1, 0)]);
    let out = send_from(
        &mut ha,
        at(3),
        fa,
        &Request::new(m2, fa, at(3), vn).via_fa().lifetime(0),
    );
    assert_eq!(
        out.dataplane,
        vec![unroute(m2, 0), rm_tunnel(0, fa, Encapsulation::IpInIp)]
    );
    assert_eq!(ha.tunnel_count(), 0);
}

#[test]
fn rfc5944_3_8_2_2_flags_gre_broadcast_and_encapsulation_change_on_renewal() {
    let mut ha = home_agent();
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::G | F::B | F::T),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(
        out.dataplane,
        vec![
            add_tunnel(0, coa1(), Encapsulation::Gre),
            route(mn(), 0),
            Dp::BroadcastForwarding {
                home_address: mn(),
                tunnel: TunnelId(0),
                enable: true,
                interface: Some("Ethernet1".into()),
                colocated: false,
            },
            proxy(mn(), true),
            garp(mn(), ArpReason::MobileNodeLeft),
        ]
    );
    let b = &ha.bindings(at(0))[0];
    assert_eq!(b.flags_text, "sBdmGvT");
    assert!(b.broadcast && b.reverse_tunnel);
    // Renewal asking for IP in IP instead: new tunnel first, then the old one goes.
    let out = send(&mut ha, at(1), &Request::new(mn(), coa1(), at(1), mn_sa()));
    assert_eq!(
        out.dataplane,
        vec![
            add_tunnel(1, coa1(), Encapsulation::IpInIp),
            route(mn(), 1),
            Dp::BroadcastForwarding {
                home_address: mn(),
                tunnel: TunnelId(0),
                enable: false,
                interface: Some("Ethernet1".into()),
                colocated: false,
            },
            unroute(mn(), 0),
            rm_tunnel(0, coa1(), Encapsulation::Gre),
        ]
    );
}

#[test]
fn rfc5944_4_3_broadcast_request_says_whether_the_care_of_address_is_colocated() {
    // D set: the mobile node decapsulates itself, so the data plane tunnels broadcasts once;
    // without D a foreign agent needs them nested (encapsulated to the home address first).
    let mut ha = mip_ha::HomeAgent::with_options(policy(), &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::B | F::D),
    );
    assert_eq!(out.code(), 0);
    assert!(out.dataplane.contains(&Dp::BroadcastForwarding {
        home_address: mn(),
        tunnel: TunnelId(0),
        enable: true,
        interface: Some("Ethernet1".into()),
        colocated: true,
    }));
    // Turning B off on renewal keeps the same description.
    let out = send(
        &mut ha,
        at(1),
        &Request::new(mn(), coa1(), at(1), mn_sa()).flags(F::D),
    );
    assert!(out.dataplane.contains(&Dp::BroadcastForwarding {
        home_address: mn(),
        tunnel: TunnelId(0),
        enable: false,
        interface: Some("Ethernet1".into()),
        colocated: true,
    }));
}

#[test]
fn seed002_broadcast_not_configured_accepts_b_without_forwarding() {
    let mut p = policy();
    p.broadcast = false;
    let mut ha = mip_ha::HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).flags(F::B),
    );
    assert_eq!(out.code(), 0);
    assert!(!out
        .dataplane
        .iter()
        .any(|d| matches!(d, Dp::BroadcastForwarding { .. })));
    assert!(!ha.bindings(at(0))[0].broadcast);
}

#[test]
fn seed000_clear_binding_by_address_and_all() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &Request::new(mn(), coa1(), at(0), mn_sa()));
    let vn = sa(0x100, VN_KEY);
    send(
        &mut ha,
        at(0),
        &Request::new(a("10.0.0.1"), coa1(), at(0), vn),
    );
    assert_eq!(ha.clear_bindings(&BindingSelector::Address(mn())), 1);
    let out = drain(&mut ha);
    assert_eq!(out.dataplane, vec![unroute(mn(), 0), proxy(mn(), false)]);
    assert!(out.transmit.is_empty(), "the mobile node is not notified");
    assert_eq!(ha.clear_bindings(&BindingSelector::All), 1);
    let out = drain(&mut ha);
    assert_eq!(
        out.dataplane,
        vec![
            unroute(a("10.0.0.1"), 0),
            rm_tunnel(0, coa1(), Encapsulation::IpInIp)
        ]
    );
    assert_eq!(ha.binding_count(), 0);
    assert_eq!(ha.counters().bindings_cleared, 2);
    assert_eq!(ha.poll_timeout(), None);
}

#[test]
fn rfc5944_3_8_2_2_infinite_lifetime_never_expires() {
    let mut p = policy();
    p.lifetime = u16::MAX;
    let mut ha = mip_ha::HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).lifetime(u16::MAX),
    );
    assert_eq!(out.reply().lifetime, u16::MAX);
    assert_eq!(ha.poll_timeout(), None);
    assert_eq!(ha.bindings(at(99_999))[0].remaining_secs, None);
}

#[test]
fn seed002_reconfigure_keeps_bindings_and_applies_reverse_tunnel_off_to_tunnels() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &Request::new(mn(), coa1(), at(0), mn_sa()));
    let mut p = policy();
    p.reverse_tunnel = false;
    p.lifetime = 10;
    ha.reconfigure_policy(p, &[ha_addr()]);
    assert_eq!(ha.binding_count(), 1);
    let out = drain(&mut ha);
    assert_eq!(
        out.dataplane,
        vec![Dp::SetTunnelReverse {
            tunnel: TunnelId(0),
            reverse_allowed: false
        }]
    );
    // The lifetime granted before is unaffected.
    assert_eq!(ha.bindings(at(0))[0].lifetime_granted, 1800);
}

/// RFC 5944 §3.8.2.2 expiry driven by the cheap hint an event loop polls after every batch:
/// the hint is never later than the exact deadline, waking at a stale hint (a renewed
/// binding's old expiry) removes nothing, and the binding still goes at its renewed expiry.
#[test]
fn rfc5944_3_8_2_2_expiry_by_timeout_hint_after_renewal() {
    let mut ha = home_agent();
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), coa1(), at(0), mn_sa()).lifetime(100),
    );
    assert_eq!(out.code(), 0);
    let out = send(
        &mut ha,
        at(50),
        &Request::new(mn(), coa1(), at(50), mn_sa()).lifetime(100),
    );
    assert_eq!(out.code(), 0);
    // Renewed to expire at 150; the hint may still say 100, never later than 150.
    let hint = ha.timeout_hint().unwrap();
    assert!(hint <= at(150) && hint >= at(100), "{hint:?}");
    let mut now = hint;
    ha.handle_timeout(now);
    assert_eq!(ha.binding_count(), 1, "a stale hint removes nothing");
    // Follow the hint as a loop would: the binding goes at 150 exactly.
    for _ in 0..3 {
        now = ha.timeout_hint().expect("a binding is left");
        ha.handle_timeout(now);
        if ha.binding_count() == 0 {
            break;
        }
    }
    assert_eq!(now, at(150));
    assert_eq!(ha.binding_count(), 0);
    assert_eq!(ha.timeout_hint(), None);
}
