//! RFC 5944 §3.6.3 (registration retransmission: initial timeout ≥ 1 s, doubling, bounded by a
//! maximum and by the requested lifetime), and renewal before expiry, in virtual time.

mod common;

use common::*;
use mip_mn::{DataPlaneRequest, Event, NodeState, RequestKind};
use mip_security::ntp;

/// No reply at all: transmissions at 0, 1, 3, 7, 15, 31 s (waits 1, 2, 4, 8, 16, 32), given
/// up at 63 s, started again one maximum wait later (95 s, then 96, 98 ...). Each
/// transmission is the same request with a new, larger Identification.
#[test]
fn exact_schedule_and_give_up() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let first = Adv::fa(fa1()).lifetime(1800).send(&mut n, at(0), IF);
    let log = run_until(&mut n, at(100));
    let times: Vec<u64> = std::iter::once(0).chain(request_times(&log)).collect();
    assert_eq!(
        times,
        [0, 1000, 3000, 7000, 15000, 31000, 95000, 96000, 98000]
    );
    let gave_up = log
        .iter()
        .find(|(_, o)| o.has_event(|e| matches!(e, Event::NoReply { .. })))
        .unwrap();
    assert_eq!(gave_up.0, 63_000);
    assert!(gave_up.1.has_event(|e| matches!(
        e,
        Event::NoReply {
            kind: RequestKind::Registration,
            transmissions: 6,
            retry_in_ms: Some(32000)
        }
    )));

    let mut reqs = vec![first.request()];
    reqs.extend(log.iter().flat_map(|(_, o)| o.transmit.iter().map(parse)));
    for (i, r) in reqs.iter().enumerate().skip(1) {
        let prev = &reqs[i - 1];
        assert!(ntp::is_after(r.identification, prev.identification));
        assert_eq!(r.care_of_address, prev.care_of_address);
        assert_eq!(r.lifetime, prev.lifetime);
        assert_eq!(r.flags, prev.flags);
    }
    assert_eq!(n.counters().requests_sent, 9);
    assert_eq!(n.counters().retransmissions, 7);
    assert_eq!(n.counters().no_reply, 1);
    // Between 63 and 95 s the operator sees "no reply".
    let mut n2 = node();
    n2.link_changed(at(0), IF, true, None);
    drain(&mut n2);
    Adv::fa(fa1()).lifetime(1800).send(&mut n2, at(0), IF);
    run_until(&mut n2, at(70));
    assert_eq!(n2.state(), NodeState::NoReply);
    assert_eq!(n2.snapshot(at(70)).retransmissions, 0);
}

/// The retransmission count shows in the snapshot while the request is in flight.
#[test]
fn retransmissions_in_snapshot() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    Adv::fa(fa1()).lifetime(1800).send(&mut n, at(0), IF);
    run_until(&mut n, at(8));
    assert_eq!(n.snapshot(at(8)).retransmissions, 3);
    assert_eq!(n.state(), NodeState::Registering);
}

/// Configured initial and maximum waits; the maximum is never above the requested lifetime.
#[test]
fn configured_and_lifetime_bounded_maximum() {
    let mut c = config();
    c.retransmission.initial_ms = 1500;
    c.retransmission.max_ms = 10_000;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    Adv::fa(fa1()).lifetime(1800).send(&mut n, at(0), IF);
    let log = run_until(&mut n, at(36));
    // Waits 1.5, 3, 6, 10 (capped): given up at 20.5 s, again at 30.5 s.
    assert_eq!(
        request_times(&log),
        [1500, 4500, 10500, 30500, 32000, 35000]
    );
    let gave_up = log
        .iter()
        .find(|(_, o)| o.has_event(|e| matches!(e, Event::NoReply { .. })))
        .unwrap();
    assert_eq!(gave_up.0, 20_500);

    // Registration lifetime 5 s advertised: waits 1, 2, 4, 5, then give up.
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .lifetime(1800)
        .reg_lifetime(5)
        .send(&mut n, at(0), IF)
        .request();
    assert_eq!(req.lifetime, 5);
    let log = run_until(&mut n, at(16));
    assert_eq!(request_times(&log), [1000, 3000, 7000]);
    let gave_up = log
        .iter()
        .find(|(_, o)| o.has_event(|e| matches!(e, Event::NoReply { .. })))
        .unwrap();
    assert_eq!(gave_up.0, 12_000);
}

/// A reply to an earlier transmission is as good as one to the latest; the lifetime counts
/// from that transmission.
#[test]
fn reply_to_an_earlier_transmission() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let first = Adv::fa(fa1())
        .lifetime(1800)
        .send(&mut n, at(0), IF)
        .request();
    run_until(&mut n, at(5));
    n.handle_reply(at(5), from_fa(fa1()), &reply_to(&first, 0, 600, &sa()));
    assert!(drain(&mut n).has_event(|e| matches!(e, Event::Registered { .. })));
    assert_eq!(n.snapshot(at(5)).lifetime_remaining_secs, Some(595));
    // No more retransmissions.
    assert!(merged(run_until(&mut n, at(100))).transmit.is_empty());
}

/// Renewal at 80 % of the granted lifetime, counted from the accepted request; the renewal is
/// a new request through the same agent; its acceptance changes nothing in the data plane.
#[test]
fn renewal_timing() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .lifetime(1800)
        .send(&mut n, at(0), IF)
        .request();
    // Accepted 0.2 s after it was sent: renewal at 80 % of 600 s after the send time.
    n.handle_reply(at_ms(200), from_fa(fa1()), &reply_to(&req, 0, 600, &sa()));
    drain(&mut n);
    let (t, out) = next_transmit(&mut n, at(1000)).unwrap();
    assert_eq!(t, 480_000);
    assert!(out.has_event(|e| matches!(
        e,
        Event::RequestSent {
            kind: RequestKind::Renewal,
            ..
        }
    )));
    let renewal = out.request();
    assert_eq!(renewal.care_of_address, fa1());
    assert_eq!(renewal.lifetime, 600);
    assert_eq!(n.state(), NodeState::Renewing);
    // Accepted 0.1 s later: next renewal at 480 + 480 s.
    n.handle_reply(
        at_ms(480_100),
        from_fa(fa1()),
        &reply_to(&renewal, 0, 600, &sa()),
    );
    let out = drain(&mut n);
    assert!(out.dataplane.is_empty());
    assert!(out.has_event(|e| matches!(
        e,
        Event::Registered {
            kind: RequestKind::Renewal,
            ..
        }
    )));
    // Keep the agent alive meanwhile.
    Adv::fa(fa1()).lifetime(1800).send(&mut n, at(900), IF);
    let (t, _) = next_transmit(&mut n, at(2000)).unwrap();
    assert_eq!(t, 960_000);
}

/// Renewal with another percentage; reply to a retransmission: lifetime counted from it.
#[test]
fn renewal_percent_and_retransmitted_request() {
    let mut c = config();
    c.renewal.at_percent = 50;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    Adv::fa(fa1()).lifetime(1800).send(&mut n, at(0), IF);
    let (t, out) = next_transmit(&mut n, at(10)).unwrap();
    assert_eq!(t, 1000);
    let retransmitted = out.request();
    n.handle_reply(
        at_ms(1200),
        from_fa(fa1()),
        &reply_to(&retransmitted, 0, 100, &sa()),
    );
    drain(&mut n);
    let (t, _) = next_transmit(&mut n, at(1000)).unwrap();
    assert_eq!(t, 51_000);
}

/// Renewals that get no reply: the registration expires at its lifetime, is reported, and the
/// node keeps trying as a new registration.
#[test]
fn registration_expires_without_renewal() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .lifetime(0xfff0)
        .send(&mut n, at(0), IF)
        .request();
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 100, &sa()));
    drain(&mut n);
    let log = run_until(&mut n, at(150));
    let expired = log
        .iter()
        .find(|(_, o)| o.has_event(|e| matches!(e, Event::BindingExpired { .. })))
        .unwrap();
    assert_eq!(expired.0, 100_000);
    assert_eq!(n.counters().bindings_expired, 1);
    // Renewal at 80 s, waits 1 2 4 8 16 32: requests at 80, 81, 83, 87, 95 (renewals), 111
    // (a registration by then: expired at 100), given up at 143.
    let sent: Vec<(u64, RequestKind)> = log
        .iter()
        .flat_map(|(t, o)| {
            o.events.iter().filter_map(move |e| match e {
                Event::RequestSent { kind, .. } => Some((*t, *kind)),
                _ => None,
            })
        })
        .collect();
    assert_eq!(
        sent,
        [
            (80_000, RequestKind::Renewal),
            (81_000, RequestKind::Renewal),
            (83_000, RequestKind::Renewal),
            (87_000, RequestKind::Renewal),
            (95_000, RequestKind::Renewal),
            (111_000, RequestKind::Registration),
        ]
    );
    assert!(log.iter().all(|(_, o)| o.dataplane.is_empty()));
}

/// Infinite lifetime (0xffff granted): never renewed.
#[test]
fn infinite_lifetime_is_not_renewed() {
    let mut c = config();
    c.lifetime = 0xffff;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .lifetime(0xffff)
        .reg_lifetime(0xffff)
        .send(&mut n, at(0), IF)
        .request();
    assert_eq!(req.lifetime, 0xffff);
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 0xffff, &sa()));
    let out = drain(&mut n);
    assert!(matches!(
        &out.dataplane[..],
        [DataPlaneRequest::UseForeignAgent { .. }]
    ));
    assert!(next_transmit(&mut n, at(60_000)).is_none());
    assert_eq!(n.snapshot(at(60_000)).lifetime_remaining_secs, None);
}

/// Detached while registered: no renewal is attempted (there is no path), the registration
/// runs out, and the timers keep advancing.
#[test]
fn detached_while_registered() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.link_changed(at(10), IF, false, None);
    drain(&mut n);
    let log = run_until(&mut n, at(2000));
    let out = merged(log);
    assert!(out.transmit.is_empty());
    assert!(out.has_event(|e| matches!(e, Event::BindingExpired { .. })));
    assert!(n.poll_timeout().is_none());
    assert_eq!(n.state(), NodeState::Idle);
}
