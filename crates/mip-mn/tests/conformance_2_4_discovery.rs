//! RFC 5944 §2.4 (mobile node considerations: agent solicitation, its rate limits) and
//! §2.4.3 / §4.6 (home detection, returning home), in virtual time.

mod common;

use common::*;
use mip_mn::{DataPlaneRequest, Delivery, Event, NodeState, RequestKind, SolicitationDestination};
use mip_wire::icmp::{AdvertisementFlags, AgentSolicitation};

/// §2.4: solicitations start when the link comes up: three one second apart, then the
/// interval doubles up to the maximum (60 s). Each is an ICMP type 10 to 224.0.0.2, TTL 1.
#[test]
fn solicitation_schedule_on_link_up() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    let first = drain(&mut n);
    assert_eq!(first.solicit.len(), 1);
    let s = &first.solicit[0];
    assert_eq!(s.interface, IF);
    assert_eq!(s.destination, a("224.0.0.2"));
    assert_eq!(s.ttl, 1);
    assert_eq!(
        AgentSolicitation::parse(&s.payload).unwrap(),
        AgentSolicitation::default()
    );
    assert_eq!(n.state(), NodeState::Discovering);

    let log = run_until(&mut n, at(300));
    let times: Vec<u64> = log
        .iter()
        .filter(|(_, o)| !o.solicit.is_empty())
        .map(|(t, o)| {
            assert_eq!(o.solicit.len(), 1);
            *t / 1000
        })
        .collect();
    assert_eq!(times, [1, 2, 4, 8, 16, 32, 64, 124, 184, 244]);
    assert_eq!(n.counters().solicitations_sent, 11);
    // Never more than three in the first three seconds, never two less than a second apart.
    let all: Vec<u64> = std::iter::once(0).chain(times.iter().copied()).collect();
    assert!(all.windows(2).all(|w| w[1] - w[0] >= 1));
    assert_eq!(all.iter().filter(|&&t| t < 3).count(), 3);
}

/// §2.4: "Mobile nodes MUST randomize their solicitation times": with the default jitter every
/// interval lies between its nominal value and 10 % more, never below.
#[test]
fn solicitation_jitter_only_lengthens() {
    let mut c = config();
    c.solicitation.jitter_percent = 10;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let log = run_until(&mut n, at(400));
    let times: Vec<u64> = std::iter::once(0)
        .chain(
            log.iter()
                .filter(|(_, o)| !o.solicit.is_empty())
                .map(|(t, _)| *t),
        )
        .collect();
    let nominal = [1000u64, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
    let mut jittered = 0;
    for (w, nom) in times.windows(2).zip(nominal) {
        let d = w[1] - w[0];
        assert!(
            d >= nom && d <= nom + nom / 10,
            "interval {d} for nominal {nom}"
        );
        jittered += usize::from(d != nom);
    }
    assert!(jittered > 0, "no randomisation at all: {times:?}");
}

#[test]
fn broadcast_destination_and_disabled_solicitation() {
    let mut c = config();
    c.solicitation.destination = SolicitationDestination::Broadcast;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    assert_eq!(drain(&mut n).solicit[0].destination, a("255.255.255.255"));

    let mut c = config();
    c.solicitation.enabled = false;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    assert!(drain(&mut n).solicit.is_empty());
    assert!(run_until(&mut n, at(100))
        .iter()
        .all(|(_, o)| o.solicit.is_empty()));
}

/// §2.4: "Solicitations SHOULD only be sent in the absence of Agent Advertisements".
#[test]
fn an_advertisement_stops_the_search() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    run_until(&mut n, at(1));
    let out = Adv::fa(fa1()).lifetime(1800).send(&mut n, at_ms(1500), IF);
    assert!(out.has_event(|e| matches!(e, Event::AgentHeard { agent, .. } if *agent == fa1())));
    let log = merged(run_until(&mut n, at(100)));
    assert!(log.solicit.is_empty(), "{:?}", log.solicit);
}

/// §2.4: after losing its agent (and being left with none), the node searches again at the
/// initial rate; while still searching it does not speed up on its own.
#[test]
fn search_restarts_fast_after_the_agent_is_lost() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    // The advertisement lifetime is 30 s: at 30 s the agent is gone.
    let log = run_until(&mut n, at(40));
    let lost_at = log
        .iter()
        .find(|(_, o)| o.has_event(|e| matches!(e, Event::AgentLost { .. })))
        .map(|(t, _)| *t)
        .unwrap();
    assert_eq!(lost_at, 30_000);
    let lost = &log.iter().find(|(t, _)| *t == lost_at).unwrap().1;
    assert_eq!(lost.dataplane, vec![DataPlaneRequest::Detached]);
    assert!(lost.has_event(|e| matches!(e, Event::Detached)));
    let times: Vec<u64> = log
        .iter()
        .filter(|(_, o)| !o.solicit.is_empty())
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times, [30_000, 31_000, 32_000, 34_000, 38_000]);
    assert_eq!(n.state(), NodeState::Discovering);
}

/// A link change is a positive indication of a new link: the search restarts at once at the
/// initial rate even while one is running.
#[test]
fn link_change_restarts_the_search() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    run_until(&mut n, at(20));
    n.link_changed(at(21), IF, true, None);
    assert_eq!(drain(&mut n).solicit.len(), 1);
    let log = run_until(&mut n, at(26));
    let times: Vec<u64> = log
        .iter()
        .filter(|(_, o)| !o.solicit.is_empty())
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times, [22_000, 23_000, 25_000]);
    // Link down: silence.
    n.link_changed(at(27), IF, false, None);
    assert!(drain(&mut n).solicit.is_empty());
    assert!(merged(run_until(&mut n, at(200))).solicit.is_empty());
    assert_eq!(n.state(), NodeState::Idle);
}

/// Only configured, up interfaces; only valid advertisements with a mobility agent
/// extension; anything else is counted and ignored.
#[test]
fn advertisements_that_are_ignored() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let good = Adv::fa(fa1()).bytes();
    // Unknown interface.
    n.handle_advertisement(at(1), "eth9", fa1(), &good);
    // Bad checksum.
    let mut bad = good.clone();
    bad[10] ^= 1;
    n.handle_advertisement(at(1), IF, fa1(), &bad);
    // A plain router advertisement (no mobility agent extension).
    let mut plain = mip_wire::icmp::AgentAdvertisement::parse(&good).unwrap();
    plain.extensions.clear();
    n.handle_advertisement(at(1), IF, fa1(), &plain.to_bytes().unwrap());
    // Unknown code.
    let mut odd = Adv::fa(fa1());
    odd.code = 7;
    n.handle_advertisement(at(1), IF, fa1(), &odd.bytes());
    // Truncated.
    n.handle_advertisement(at(1), IF, fa1(), &good[..9]);
    let out = drain(&mut n);
    assert!(out.transmit.is_empty() && out.dataplane.is_empty());
    assert_eq!(n.counters().advertisements_received, 5);
    assert_eq!(n.counters().advertisements_ignored, 5);
    assert!(n.snapshot(at(1)).agents.is_empty());
}

/// §2.4.3 / §4.6: an advertisement with H from the home agent means home: plain routing with
/// gratuitous ARP first, then a deregistration to the home agent (Lifetime 0, Care-of Address
/// = home address), sent from the home address with ordinary routing.
#[test]
fn home_detected_by_home_agent_advertisement() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::ha().send(&mut n, at(1), IF);
    assert_eq!(
        out.dataplane,
        vec![DataPlaneRequest::AtHome {
            interface: IF.into(),
            home_address: home(),
            gratuitous_arp: true,
        }]
    );
    let req = out.request();
    let t = &out.transmit[0];
    assert_eq!(req.lifetime, 0);
    assert_eq!(req.care_of_address, home());
    assert_eq!(req.home_address, home());
    assert_eq!(req.home_agent, ha());
    assert_eq!(req.flags.to_byte(), 0);
    assert_eq!(t.source, home());
    assert_eq!(t.destination, from_ha());
    assert_eq!(t.delivery, Delivery::Routed { gateway: None });
    assert!(request_verifies(&t.payload, &sa()));
    assert!(out.has_event(|e| matches!(e, Event::ReturnedHome { .. })));
    assert_eq!(n.state(), NodeState::Deregistering);

    n.handle_reply(at(1), from_ha(), &reply_to(&req, 0, 0, &sa()));
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(e, Event::Deregistered)));
    assert_eq!(n.state(), NodeState::AtHome);
    assert_eq!(n.counters().deregistrations_accepted, 1);
    // At home nothing more is sent (no renewal, no solicitation) while the HA keeps
    // advertising.
    for t in (10..300).step_by(10) {
        let o = Adv::ha().send(&mut n, at(t), IF);
        assert!(o.transmit.is_empty() && o.solicit.is_empty());
        run_until(&mut n, at(t + 9));
    }
}

/// Home also by an H advertisement from another address of the home network, and by an
/// address in the home network on the link (DHCP at home, no advertisements).
#[test]
fn home_detected_by_prefix_or_address() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let mut other = Adv::ha();
    other.source = a("10.1.1.2");
    let out = other.send(&mut n, at(1), IF);
    assert!(out.has_event(|e| matches!(e, Event::ReturnedHome { .. })));

    // An H advertisement from a foreign network's home agent is not ours.
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let foreign_ha = Adv::fa(fa1()).flags(AdvertisementFlags::H | AdvertisementFlags::F);
    let out = foreign_ha.send(&mut n, at(1), IF);
    assert!(!out.has_event(|e| matches!(e, Event::ReturnedHome { .. })));
    assert_eq!(out.request().care_of_address, fa1());

    let mut n = node();
    n.link_changed(
        at(0),
        IF,
        true,
        Some(mip_mn::ColocatedAddress::new(home(), 24, Some(ha()))),
    );
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(e, Event::ReturnedHome { .. })));
    assert_eq!(out.request().lifetime, 0);
    // Home: no solicitation either.
    assert!(out.solicit.is_empty());
}

/// A foreign agent's advertisement on a new link: the node registers through it at once.
#[test]
fn foreign_agent_found_then_registration() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::fa(fa1()).send(&mut n, at(1), IF);
    assert!(out.has_event(|e| matches!(
        e,
        Event::Attached { foreign_agent: Some(f), colocated: false, .. } if *f == fa1()
    )));
    assert!(out.has_event(|e| matches!(
        e,
        Event::RequestSent {
            kind: RequestKind::Registration,
            retransmission: 0,
            ..
        }
    )));
    assert_eq!(out.request().care_of_address, fa1());
    assert_eq!(n.state(), NodeState::Registering);
    let snap = n.snapshot(at(1));
    assert_eq!(snap.agents.len(), 1);
    assert_eq!(snap.agents[0].flags, "---F-G-T--");
    assert_eq!(snap.agents[0].prefixes, ["192.0.2.1/24"]);
    assert!(snap.agents[0].current);
    assert_eq!(snap.agents[0].expires_in_secs, 30);
}

/// The agent list is bounded: a flood of advertisements from new addresses keeps the current
/// agent.
#[test]
fn agent_flood_is_bounded() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    for i in 0..200u32 {
        let src = std::net::Ipv4Addr::from(0xc633_6400 + i + 2);
        Adv::fa(src).prefix(None).send(&mut n, at(1), IF);
    }
    let snap = n.snapshot(at(1));
    assert_eq!(snap.agents.len(), mip_mn::MAX_AGENTS_PER_INTERFACE);
    assert!(snap.agents.iter().any(|a| a.address == fa1() && a.current));
    assert_eq!(snap.foreign_agent, Some(fa1()));
}
