//! RFC 5944 §2.4.2 (move detection: §2.4.2.1 lifetime expiry, §2.4.2.2 network prefixes),
//! §2.3.2 (agent reboot), link changes, in virtual time.

mod common;

use common::*;
use mip_mn::{DataPlaneRequest, Event, MoveReason, NodeState, RequestKind};

/// §2.4.2.1: the current agent's advertisement Lifetime runs out; another agent whose
/// Lifetime has not expired is used at once.
#[test]
fn lifetime_expiry_moves_to_another_heard_agent() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    // FA2 on the same link (same prefix: no prefix move), advertising with a long lifetime.
    let fa2_same_net = a("192.0.2.2");
    let out = Adv::fa(fa2_same_net).lifetime(1800).send(&mut n, at(5), IF);
    assert!(out.transmit.is_empty(), "no move while FA1 is alive");
    // FA1 keeps advertising until 20 s, then falls silent: gone at 50 s.
    Adv::fa(fa1()).send(&mut n, at(20), IF);
    let log = run_until(&mut n, at(60));
    let (t, out) = log.iter().find(|(_, o)| !o.transmit.is_empty()).unwrap();
    assert_eq!(*t, 50_000);
    assert!(out.has_event(|e| matches!(
        e,
        Event::MovementDetected {
            reason: MoveReason::AgentLifetimeExpired,
            ..
        }
    )));
    assert!(out.has_event(|e| matches!(e, Event::AgentLost { agent, .. } if *agent == fa1())));
    let req = out.request();
    assert_eq!(req.care_of_address, fa2_same_net);
    assert_eq!(out.transmit[0].destination, from_fa(fa2_same_net));
    assert!(
        out.dataplane.is_empty(),
        "the data plane changes when FA2 accepts"
    );
    n.handle_reply(
        at(50),
        from_fa(fa2_same_net),
        &reply_to(&req, 0, 600, &sa()),
    );
    let out = drain(&mut n);
    assert!(matches!(
        &out.dataplane[..],
        [DataPlaneRequest::UseForeignAgent { foreign_agent, .. }] if *foreign_agent == fa2_same_net
    ));
    assert_eq!(n.counters().moves, 1);
}

/// §2.4.2.1: no other agent: the node is detached and searches (see the discovery tests);
/// when an agent answers it registers.
#[test]
fn lifetime_expiry_without_another_agent() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    let out = merged(run_until(&mut n, at(30)));
    assert_eq!(out.dataplane, vec![DataPlaneRequest::Detached]);
    assert!(!out.solicit.is_empty());
    assert_eq!(n.state(), NodeState::Discovering);
    let out = Adv::fa(fa2()).send(&mut n, at(31), IF);
    assert_eq!(out.request().care_of_address, fa2());
}

/// §2.4.2.2: an advertisement from another agent with a different prefix (both with
/// Prefix-Lengths): the node moved, and registers through the new agent at once. The old
/// agent, if still heard, does not pull it back.
#[test]
fn network_prefix_change_moves_and_does_not_flap() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    let out = Adv::fa(fa2()).send(&mut n, at(5), IF);
    assert!(out.has_event(|e| matches!(
        e,
        Event::MovementDetected {
            reason: MoveReason::NetworkPrefix,
            ..
        }
    )));
    let req = out.request();
    assert_eq!(req.care_of_address, fa2());
    n.handle_reply(at(5), from_fa(fa2()), &reply_to(&req, 0, 600, &sa()));
    drain(&mut n);
    assert_eq!(n.snapshot(at(5)).foreign_agent, Some(fa2()));
    // Both keep advertising (a multinetted link): no flapping.
    for t in 6..40 {
        let o1 = Adv::fa(fa1()).send(&mut n, at(t), IF);
        let o2 = Adv::fa(fa2()).send(&mut n, at(t), IF);
        assert!(o1.transmit.is_empty() && o2.transmit.is_empty(), "at {t}");
    }
    assert_eq!(n.snapshot(at(40)).foreign_agent, Some(fa2()));
}

/// §2.4.2.2: not used unless both advertisements carry the Prefix-Lengths extension, nor when
/// switched off.
#[test]
fn network_prefix_method_needs_both_prefix_lengths() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    let out = Adv::fa(fa2()).prefix(None).send(&mut n, at(5), IF);
    assert!(out.transmit.is_empty());

    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    let req = Adv::fa(fa1())
        .prefix(None)
        .send(&mut n, at(0), IF)
        .request();
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 600, &sa()));
    drain(&mut n);
    assert!(Adv::fa(fa2()).send(&mut n, at(5), IF).transmit.is_empty());

    let mut c = config();
    c.move_detection.network_prefix = false;
    let mut n = node_with(c);
    registered_via_fa(&mut n, fa1(), at(0));
    assert!(Adv::fa(fa2()).send(&mut n, at(5), IF).transmit.is_empty());
}

/// §2.3.2: a sequence number below 256 after a higher one: the agent rebooted and lost its
/// visitor list; the node registers again through it at once.
#[test]
fn agent_reboot_triggers_reregistration() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    assert!(Adv::fa(fa1())
        .seq(301)
        .send(&mut n, at(1), IF)
        .transmit
        .is_empty());
    // Rollover 0xffff -> 256 is not a reboot.
    assert!(Adv::fa(fa1())
        .seq(0xffff)
        .send(&mut n, at(2), IF)
        .transmit
        .is_empty());
    assert!(Adv::fa(fa1())
        .seq(256)
        .send(&mut n, at(3), IF)
        .transmit
        .is_empty());
    let out = Adv::fa(fa1()).seq(0).send(&mut n, at(4), IF);
    assert!(out.has_event(|e| matches!(
        e,
        Event::AgentRebooted {
            previous_sequence: 256,
            sequence: 0,
            ..
        }
    )));
    assert!(out.has_event(|e| matches!(
        e,
        Event::RequestSent {
            kind: RequestKind::Registration,
            ..
        }
    )));
    assert_eq!(out.request().care_of_address, fa1());
    assert_eq!(n.counters().agent_reboots, 1);
}

/// RFC 1256: an advertisement with Lifetime 0 withdraws the agent.
#[test]
fn withdrawn_agent() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    Adv::fa(a("192.0.2.2"))
        .lifetime(1800)
        .send(&mut n, at(1), IF);
    let out = Adv::fa(fa1()).lifetime(0).send(&mut n, at(2), IF);
    assert!(out.has_event(|e| matches!(
        e,
        Event::MovementDetected {
            reason: MoveReason::AgentWithdrew,
            ..
        }
    )));
    assert_eq!(out.request().care_of_address, a("192.0.2.2"));
}

/// A link change (new association): agents heard before stay usable for the grace period;
/// the same agent answering keeps the registration; a different one moves the node; silence
/// detaches it.
#[test]
fn link_change_same_agent_keeps_registration() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.link_changed(at(10), IF, true, None);
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(
        e,
        Event::MovementDetected {
            reason: MoveReason::LinkChange,
            ..
        }
    )));
    assert_eq!(out.solicit.len(), 1);
    assert!(out.transmit.is_empty() && out.dataplane.is_empty());
    let out = Adv::fa(fa1()).send(&mut n, at(11), IF);
    assert!(out.transmit.is_empty() && out.dataplane.is_empty());
    assert_eq!(n.state(), NodeState::Registered);
}

#[test]
fn link_change_new_agent_moves() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.link_changed(at(10), IF, true, None);
    drain(&mut n);
    // Same prefix, other agent: the stale FA1 is dropped by the fresh advertisement.
    let out = Adv::fa(a("192.0.2.9")).send(&mut n, at(11), IF);
    assert_eq!(out.request().care_of_address, a("192.0.2.9"));
    assert!(out.has_event(|e| matches!(e, Event::AgentLost { agent, .. } if *agent == fa1())));
}

#[test]
fn link_change_silence_detaches_after_grace() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.link_changed(at(10), IF, true, None);
    drain(&mut n);
    let log = run_until(&mut n, at(20));
    let (t, out) = log
        .iter()
        .find(|(_, o)| !o.dataplane.is_empty())
        .expect("detached");
    assert_eq!(*t, 13_000);
    assert_eq!(out.dataplane, vec![DataPlaneRequest::Detached]);
}

/// Link down: everything heard there is forgotten at once.
#[test]
fn link_down_detaches() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.link_changed(at(10), IF, false, None);
    let out = drain(&mut n);
    assert_eq!(out.dataplane, vec![DataPlaneRequest::Detached]);
    assert!(n.snapshot(at(10)).agents.is_empty());
    assert_eq!(n.state(), NodeState::Idle);
}

/// §2.4.2.2 with a co-located care-of address: an advertisement whose prefix does not contain
/// the address means the address is stale: the node says so and uses the agent meanwhile.
#[test]
fn colocated_address_invalidated_by_prefix() {
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    let req = drain(&mut n).request();
    assert!(req.flags.d);
    n.handle_reply(at(0), from_ha(), &reply_to(&req, 0, 600, &sa()));
    drain(&mut n);
    // An agent of the same prefix changes nothing.
    let same = Adv::fa(a("203.0.113.1"));
    assert!(same.send(&mut n, at(1), IF).transmit.is_empty());
    let out = Adv::fa(fa2()).send(&mut n, at(2), IF);
    assert!(out.has_event(|e| matches!(
        e,
        Event::ColocatedAddressInvalid { address, .. } if *address == coloc().address
    )));
    let req = out.request();
    assert!(!req.flags.d);
    // The agent of the new link, not the one of the address's prefix.
    assert_eq!(req.care_of_address, fa2());
    // A new address from the daemon (DHCP on the new link) brings co-located back.
    let fresh = mip_mn::ColocatedAddress::new(a("198.51.100.77"), 24, Some(fa2()));
    n.link_changed(at(3), IF, true, Some(fresh));
    let out = drain(&mut n);
    let req = out.request();
    assert!(req.flags.d);
    assert_eq!(req.care_of_address, a("198.51.100.77"));
}

/// Interfaces in order of preference: a usable attachment on a more preferred interface wins.
#[test]
fn preferred_interface_wins() {
    let mut c = config();
    c.interfaces = vec![IF.into(), IF2.into()];
    let mut n = node_with(c);
    n.link_changed(at(0), IF2, true, None);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::fa(fa2()).send(&mut n, at(1), IF2);
    assert_eq!(out.transmit[0].interface, IF2);
    let out = Adv::fa(fa1()).send(&mut n, at(2), IF);
    assert_eq!(out.transmit[0].interface, IF);
    assert_eq!(out.request().care_of_address, fa1());
    // IF goes down: back to IF2.
    n.link_changed(at(3), IF, false, None);
    let out = drain(&mut n);
    assert_eq!(out.transmit[0].interface, IF2);
}
