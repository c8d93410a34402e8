//! `show ip mobile host counters` without an address: `HomeAgent::host_counters_iter` lists
//! every mobile node with per-host counters, agreeing with `host_counters(addr)`; the counters
//! outlive the bindings (deregistration, expiry, clear, restore).

mod common;

use std::net::Ipv4Addr;

use common::*;
use mip_ha::{BindingSelector, HaOptions, HomeAgent};

fn vn_sa() -> mip_security::SecurityAssociation {
    sa(0x100, VN_KEY)
}

fn listed(ha: &HomeAgent) -> Vec<(Ipv4Addr, mip_ha::HostCounters)> {
    ha.host_counters_iter().collect()
}

fn agrees(ha: &HomeAgent) {
    let list = listed(ha);
    for (home, c) in &list {
        assert_eq!(ha.host_counters(*home), Some(*c), "{home}");
    }
    let mut homes: Vec<Ipv4Addr> = list.iter().map(|(h, _)| *h).collect();
    homes.sort();
    homes.dedup();
    assert_eq!(homes.len(), list.len(), "each home address once");
}

#[test]
fn lists_every_counted_mobile_node_in_first_counted_order() {
    let mut ha = home_agent();
    assert_eq!(listed(&ha), vec![]);
    let (m3, m1, m5) = (a("10.0.0.3"), a("10.0.0.1"), a("10.0.0.5"));
    assert_eq!(
        send(
            &mut ha,
            at(0),
            &Request::new(m3, a("70.0.0.2"), at(0), vn_sa())
        )
        .code(),
        0
    );
    assert_eq!(
        send(
            &mut ha,
            at(1),
            &Request::new(m1, a("70.0.0.2"), at(1), vn_sa())
        )
        .code(),
        0
    );
    // Denied (bad authenticator): counted too.
    let mut bad = Request::new(m5, a("70.0.0.2"), at(2), vn_sa());
    bad.bad_authenticator = true;
    assert_eq!(send(&mut ha, at(2), &bad).code(), 131);
    // Ignored (no security association): not counted.
    assert!(send(
        &mut ha,
        at(3),
        &Request::new(a("10.9.9.9"), a("70.0.0.2"), at(3), vn_sa())
    )
    .silent());
    // A renewal adds to the existing entry.
    assert_eq!(
        send(
            &mut ha,
            at(4),
            &Request::new(m3, a("70.0.0.2"), at(4), vn_sa())
        )
        .code(),
        0
    );

    let list = listed(&ha);
    let homes: Vec<Ipv4Addr> = list.iter().map(|(h, _)| *h).collect();
    assert_eq!(homes, vec![m3, m1, m5]);
    assert_eq!(
        (list[0].1.accepted, list[0].1.last_accepted_ms),
        (2, (T0 + 4) * 1000)
    );
    assert_eq!((list[1].1.accepted, list[1].1.denied), (1, 0));
    assert_eq!(
        (
            list[2].1.accepted,
            list[2].1.denied,
            list[2].1.violations,
            list[2].1.last_code
        ),
        (0, 1, 1, 131)
    );
    assert_eq!(ha.host_counters(a("10.9.9.9")), None);
    agrees(&ha);
}

#[test]
fn counters_outlive_bindings_and_survive_restore() {
    let mut ha = home_agent();
    let (m1, m2, m4) = (a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.4"));
    for (i, m) in [m1, m2, m4].into_iter().enumerate() {
        let t = i as u64;
        let r = Request::new(m, a("70.0.0.2"), at(t), vn_sa()).lifetime(20);
        assert_eq!(send(&mut ha, at(t), &r).code(), 0);
    }
    // m1 deregisters, m2 is cleared, m4 expires.
    let dereg = Request::new(m1, a("70.0.0.2"), at(5), vn_sa()).lifetime(0);
    assert_eq!(send(&mut ha, at(5), &dereg).code(), 0);
    assert_eq!(ha.clear_bindings(&BindingSelector::Address(m2)), 1);
    ha.handle_timeout(at(100));
    drain(&mut ha);
    assert_eq!(ha.binding_count(), 0);
    let before = listed(&ha);
    assert_eq!(
        before.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
        vec![m1, m2, m4]
    );
    assert_eq!(before[0].1.accepted, 2, "registration and deregistration");
    agrees(&ha);

    // Registering again after the record lost its bindings keeps counting on it.
    let r = Request::new(m2, a("70.0.0.3"), at(110), vn_sa());
    assert_eq!(send(&mut ha, at(110), &r).code(), 0);
    assert_eq!(ha.host_counters(m2).unwrap().accepted, 2);
    assert_eq!(ha.bindings_of(m2, at(110)).len(), 1);

    // A restore rebuilds the bindings; the counters stay.
    let records = ha.records();
    let listed_before_restore = listed(&ha);
    ha.restore(records, at(111));
    drain(&mut ha);
    assert_eq!(listed(&ha), listed_before_restore);
    assert_eq!(ha.bindings_of(m2, at(111)).len(), 1);
    agrees(&ha);
    // And the mobile node renews on its restored binding, counted on the same entry.
    let r = Request::new(m2, a("70.0.0.3"), at(120), vn_sa());
    assert_eq!(send(&mut ha, at(120), &r).code(), 0);
    assert_eq!(ha.host_counters(m2).unwrap().accepted, 3);
    agrees(&ha);
}

#[test]
fn empty_without_per_host_counters() {
    let options = HaOptions {
        per_host_counters: false,
        ..options()
    };
    let mut ha = HomeAgent::with_options(policy(), &[ha_addr()], options);
    let r = Request::new(a("10.0.0.1"), a("70.0.0.2"), at(0), vn_sa());
    assert_eq!(send(&mut ha, at(0), &r).code(), 0);
    assert_eq!(ha.host_counters_iter().count(), 0);
    assert_eq!(ha.host_counters(a("10.0.0.1")), None);
}
