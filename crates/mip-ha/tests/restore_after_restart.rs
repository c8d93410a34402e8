//! Persistence: every StoreOp serialised to bytes, the home agent rebuilt from them after a
//! "restart": same bindings, remaining lifetimes from the wall-clock expiry, expired ones
//! dropped, replay state restored, data-plane requests emitted again.

mod common;

use common::*;
use mip_ha::session::session_id_extension;
use mip_ha::{DataPlaneRequest as Dp, StoreOp};
use mip_wire::extension::Extension;
use mip_wire::registration::RequestFlags as F;

#[test]
fn restore_rebuilds_bindings_replay_and_dataplane() {
    let mut ha = home_agent();
    let mut log: Vec<Vec<u8>> = Vec::new();
    let mut keep = |out: &Out| {
        for op in &out.store {
            log.push(op.to_bytes());
        }
    };
    let m1 = a("11.0.0.1");
    let m2 = a("10.0.0.2");
    keep(&send(
        &mut ha,
        at(0),
        &Request::new(m1, a("70.0.0.2"), at(0), sa(0x100, MN_KEY)).flags(F::S | F::G | F::B),
    ));
    keep(&send(
        &mut ha,
        at(1),
        &Request::new(m1, a("70.0.0.3"), at(1), sa(0x100, MN_KEY)).flags(F::S),
    ));
    keep(&send(
        &mut ha,
        at(2),
        &Request::new(m2, a("70.0.0.2"), at(2), sa(0x100, VN_KEY)).lifetime(30),
    ));
    let mut nai = Request::new(a("0.0.0.0"), a("70.0.0.4"), at(3), sa(0x100, NAI_KEY));
    nai.before
        .push(Extension::Nai(b"herbert@left.com".to_vec()));
    nai.before.push(session_id_extension(b"PDA"));
    keep(&send(&mut ha, at(3), &nai));
    // A deregistered node whose replay state must survive.
    let m3 = a("10.0.0.3");
    let first = Request::new(m3, a("70.0.0.5"), at(4), sa(0x100, VN_KEY));
    keep(&send(&mut ha, at(4), &first));
    keep(&send(
        &mut ha,
        at(5),
        &Request::new(m3, m3, at(5), sa(0x100, VN_KEY)).lifetime(0),
    ));
    let before = ha.bindings(at(100));
    assert_eq!(before.len(), 4);

    // Restart at t=100: m2's 30 s binding has expired meanwhile.
    let mut ha2 = home_agent();
    let records = log.iter().map(|b| StoreOp::decode(b).unwrap());
    let report = ha2.restore(records, at(100));
    assert_eq!((report.bindings, report.expired), (3, 1));
    // Tunnel ids are renumbered; everything else is the same.
    let no_id = |mut b: mip_ha::BindingSnapshot| {
        b.tunnel = mip_ha::TunnelId(0);
        b
    };
    let after: Vec<_> = ha2.bindings(at(100)).into_iter().map(no_id).collect();
    let expected: Vec<_> = before
        .into_iter()
        .filter(|b| b.home_address != m2)
        .map(no_id)
        .collect();
    assert_eq!(after, expected);
    let m1_first = after
        .iter()
        .find(|b| b.care_of_address == a("70.0.0.2"))
        .unwrap();
    assert_eq!(m1_first.remaining_secs, Some(1700));
    let out = drain(&mut ha2);
    // The expired binding is deleted from the store.
    assert_eq!(
        out.store,
        vec![StoreOp::DeleteBinding {
            home_address: m2,
            care_of_address: a("70.0.0.2")
        }]
    );
    // Data plane re-emitted: tunnels, routes, broadcast, ARP.
    assert!(out.dataplane.iter().any(|d| matches!(
        d,
        Dp::AddTunnel {
            encapsulation: mip_wire::codes::Encapsulation::Gre,
            ..
        }
    )));
    assert_eq!(
        out.dataplane
            .iter()
            .filter(|d| matches!(d, Dp::AddHostRoute { .. }))
            .count(),
        3
    );
    assert!(out
        .dataplane
        .iter()
        .any(|d| matches!(d, Dp::BroadcastForwarding { enable: true, .. })));
    assert!(out
        .dataplane
        .iter()
        .any(|d| matches!(d, Dp::ProxyArp { address, enable: true, .. } if *address == m1)));
    assert_eq!(ha2.poll_timeout(), Some(at(1800)));

    // Replay state restored: old requests are still replays, for bound and unbound nodes.
    assert_eq!(send(&mut ha2, at(100), &first).code(), 133);
    let replay = Request::new(m1, a("70.0.0.3"), at(1), sa(0x100, MN_KEY)).flags(F::S);
    assert_eq!(send(&mut ha2, at(100), &replay).code(), 133);
    assert_eq!(send(&mut ha2, at(100), &nai).code(), 133);
    // And a fresh renewal of the NAI session finds its binding.
    let mut renew = nai.clone();
    renew.ident = mip_security::ntp::from_system_time(at(101));
    let out = send(&mut ha2, at(101), &renew);
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    assert!(out.dataplane.is_empty());
}

#[test]
fn records_snapshot_restores_the_same_state() {
    let mut ha = home_agent();
    send(
        &mut ha,
        at(0),
        &Request::new(a("11.0.0.1"), a("70.0.0.2"), at(0), sa(0x100, MN_KEY)),
    );
    let snapshot: Vec<Vec<u8>> = ha.records().iter().map(StoreOp::to_bytes).collect();
    let mut ha2 = home_agent();
    ha2.restore(snapshot.iter().map(|b| StoreOp::decode(b).unwrap()), at(10));
    assert_eq!(ha2.bindings(at(10)), ha.bindings(at(10)));
}
