//! RFC 5944 §3.6.2 (receiving Registration Replies: §3.6.2.1 validity — identification match
//! on the low-order 32 bits, MN-HA authentication, home address; §3.6.2.2 lifetime; §3.6.2.3
//! denials), in virtual time.

mod common;

use common::*;
use mip_mn::{DataPlaneRequest, DiscardReason, Event, NodeState, RequestKind};
use mip_wire::icmp::AdvertisementFlags as F;
use mip_wire::registration::RegistrationRequest;

fn registering() -> (mip_mn::MobileNode, RegistrationRequest) {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .lifetime(1800)
        .send(&mut n, at(0), IF)
        .request();
    (n, req)
}

fn discarded(o: &Out, reason: DiscardReason) -> bool {
    o.has_event(|e| matches!(e, Event::ReplyDiscarded { reason: r } if *r == reason))
}

/// Accepted: registered, the data plane goes through the agent, the snapshot shows it.
#[test]
fn accepted_through_foreign_agent() {
    let (mut n, req) = registering();
    n.handle_reply(at_ms(300), from_fa(fa1()), &reply_to(&req, 0, 600, &sa()));
    let out = drain(&mut n);
    assert_eq!(
        out.dataplane,
        vec![DataPlaneRequest::UseForeignAgent {
            interface: IF.into(),
            home_address: home(),
            foreign_agent: fa1(),
            foreign_agent_link_layer: Some(mac_of(fa1())),
            care_of_address: fa1(),
            reverse_tunnel: false,
            encapsulating_delivery: false,
        }]
    );
    assert!(out.has_event(|e| matches!(
        e,
        Event::Registered {
            kind: RequestKind::Registration,
            lifetime: 600,
            code: 0,
            ..
        }
    )));
    let s = n.snapshot(at(100));
    assert_eq!(s.state, NodeState::Registered);
    assert_eq!(s.lifetime_granted, Some(600));
    assert_eq!(s.lifetime_remaining_secs, Some(500));
    assert_eq!(s.renewal_in_secs, Some(380));
    assert_eq!(s.care_of_address, Some(fa1()));
    assert_eq!(s.foreign_agent, Some(fa1()));
    assert_eq!(s.last_reply_code, Some(0));
    assert_eq!(s.last_reply_name.as_deref(), Some("registration accepted"));
    assert_eq!(s.flags.as_deref(), Some("--------"));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "registered");
    assert_eq!(json["attachment"], "foreign-agent");
    assert_eq!(n.counters().registrations_accepted, 1);
}

/// §3.6.2.1: the low-order 32 bits of the Identification must match: otherwise the reply is
/// ignored (and counted) and the request stays in flight.
#[test]
fn wrong_identification_is_ignored() {
    let (mut n, req) = registering();
    let wrong = req.identification ^ 1;
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 0, 600, wrong, Some(&sa())),
    );
    let out = drain(&mut n);
    assert!(discarded(&out, DiscardReason::IdentificationMismatch));
    assert_eq!(n.state(), NodeState::Registering);
    assert_eq!(n.counters().replies_identification_mismatch, 1);
    // The high-order half does not matter (timestamps: the HA may put its own there on 133;
    // here an accepted reply with another high half still matches).
    let other_high = req.identification ^ (0x55 << 40);
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 0, 600, other_high, Some(&sa())),
    );
    assert!(drain(&mut n).has_event(|e| matches!(e, Event::Registered { .. })));
}

/// §3.6.2.1: a reply whose MN-HA authenticator does not verify, has another SPI, or is
/// missing (codes other than a foreign agent's denial) is ignored and counted.
#[test]
fn bad_authentication_is_ignored_and_counted() {
    let (mut n, req) = registering();
    let mut bad = reply_to(&req, 0, 600, &sa());
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    n.handle_reply(at(0), from_fa(fa1()), &bad);
    let other_key = mip_security::SecurityAssociation::with_defaults(
        SPI,
        mip_security::Key::from_hex("00000000000000000000000000000000").unwrap(),
    );
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 600, &other_key));
    let other_spi = mip_security::SecurityAssociation::with_defaults(
        0x101,
        mip_security::Key::from_hex(KEY).unwrap(),
    );
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 600, &other_spi));
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 0, 600, req.identification, None),
    );
    // A home agent denial without MN-HA: not authenticated either.
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 130, 0, req.identification, None),
    );
    let out = drain(&mut n);
    assert_eq!(
        out.events
            .iter()
            .filter(|e| matches!(
                e,
                Event::ReplyDiscarded {
                    reason: DiscardReason::Authentication
                }
            ))
            .count(),
        5
    );
    assert_eq!(n.counters().replies_failed_authentication, 5);
    assert_eq!(n.state(), NodeState::Registering);
    assert!(out.dataplane.is_empty());
}

/// The reply must name this mobile node.
#[test]
fn other_home_address_is_ignored() {
    let (mut n, req) = registering();
    let mut other = req.clone();
    other.home_address = a("10.1.1.6");
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&other, 0, 600, &sa()));
    assert!(discarded(&drain(&mut n), DiscardReason::WrongMobileNode));
}

/// Not a reply, cut short, badly framed extensions, an unknown non-skippable extension (RFC
/// 5944 §1.9), no request in flight: dropped and counted.
#[test]
fn malformed_and_unexpected() {
    let (mut n, req) = registering();
    let good = reply_to(&req, 0, 600, &sa());
    n.handle_reply(at(0), from_fa(fa1()), &good[..19]);
    n.handle_reply(at(0), from_fa(fa1()), &[1, 0, 0]);
    n.handle_reply(at(0), from_fa(fa1()), &[]);
    let mut framing = good.clone();
    framing.truncate(good.len() - 3);
    n.handle_reply(at(0), from_fa(fa1()), &framing);
    let out = drain(&mut n);
    assert_eq!(n.counters().replies_malformed, 4, "{out:#?}");
    // Unknown non-skippable extension (type 100) before the MN-HA one.
    let mut r = mip_wire::registration::RegistrationReply::from_bytes(&good).unwrap();
    r.extensions.insert(
        0,
        mip_wire::extension::Extension::UnknownNonSkippable {
            ty: 100,
            data: vec![1],
        },
    );
    n.handle_reply(at(0), from_fa(fa1()), &r.to_bytes());
    assert!(discarded(&drain(&mut n), DiscardReason::UnknownExtension));
    // Unknown skippable extensions are fine.
    let mut r = mip_wire::registration::RegistrationReply::from_bytes(&good).unwrap();
    r.extensions.clear();
    r.extensions
        .push(mip_wire::extension::Extension::UnknownSkippable {
            ty: 200,
            data: vec![1, 2],
        });
    let mut bytes = r.to_bytes();
    let s = sa();
    mip_wire::extension::append_auth_extension(
        &mut bytes,
        mip_wire::extension::AuthKind::MnHa,
        SPI,
        16,
        |c| s.authenticator(c),
    )
    .unwrap();
    n.handle_reply(at(0), from_fa(fa1()), &bytes);
    assert!(drain(&mut n).has_event(|e| matches!(e, Event::Registered { .. })));
    // Now nothing is in flight.
    n.handle_reply(at(1), from_fa(fa1()), &good);
    assert!(discarded(&drain(&mut n), DiscardReason::Unexpected));
    assert_eq!(n.counters().replies_unexpected, 1);
    assert_eq!(n.counters().replies_received, 7);
}

/// §3.6.2.2: the granted lifetime counts from when the request was sent; a lifetime larger
/// than requested is taken as the requested one.
#[test]
fn lifetime_counts_from_the_request() {
    let (mut n, req) = registering();
    // Reply 2.5 s later, granting less than asked.
    n.handle_reply(at_ms(2500), from_fa(fa1()), &reply_to(&req, 0, 100, &sa()));
    drain(&mut n);
    let s = n.snapshot(at(50));
    assert_eq!(s.lifetime_granted, Some(100));
    assert_eq!(s.lifetime_remaining_secs, Some(50));

    let (mut n, req) = registering();
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 0, 9999, &sa()));
    drain(&mut n);
    assert_eq!(n.snapshot(at(0)).lifetime_granted, Some(600));
}

/// A foreign agent's denial (64–127) has no MN-HA extension: it is taken from the agent the
/// request went to, and from nobody else.
#[test]
fn foreign_agent_denial() {
    let (mut n, req) = registering();
    let denial = reply_with_id(&req, 65, 0, req.identification, None);
    n.handle_reply(at(0), from_fa(a("192.0.2.77")), &denial);
    assert!(discarded(&drain(&mut n), DiscardReason::Authentication));
    n.handle_reply(at(0), from_fa(fa1()), &denial);
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(
        e,
        Event::Denied { code: 65, retry_in_ms: 2000, name, .. } if name == "administratively prohibited"
    )));
    assert_eq!(n.state(), NodeState::Denied);
    assert_eq!(n.counters().denied_by_foreign_agent, 1);
    let s = n.snapshot(at(0));
    assert_eq!(s.last_reply_code, Some(65));
}

/// Denials back off: 2 s, 4 s, 8 s ... up to the maximum, and the request goes again.
#[test]
fn denial_backoff() {
    let (mut n, mut req) = registering();
    let mut at_ms_now = 0;
    let mut delays = Vec::new();
    for _ in 0..7 {
        n.handle_reply(
            at_ms(at_ms_now),
            from_fa(fa1()),
            &reply_to(&req, 130, 0, &sa()),
        );
        drain(&mut n);
        let (t, out) = next_transmit(&mut n, at_ms(at_ms_now + 100_000)).unwrap();
        delays.push(t - at_ms_now);
        at_ms_now = t;
        req = parse(&out.transmit[0]);
    }
    assert_eq!(delays, [2000, 4000, 8000, 16000, 32000, 32000, 32000]);
    assert_eq!(n.counters().denied_by_home_agent, 7);
}

/// Denials the node can act on: 69 (shorter lifetime), 72/139 (no G/M), 74/137 (no T), 75/138
/// (T): the adjusted request goes out at once.
#[test]
fn adjusting_denials() {
    let mut c = config();
    c.flags.gre = true;
    c.flags.reverse_tunnel = true;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1()).send(&mut n, at(0), IF).request();
    assert_eq!(req.flags.to_string(), "----G-T-");
    // 69 with the agent's limit.
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 69, 300, req.identification, None),
    );
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(
        e,
        Event::Denied {
            code: 69,
            retry_in_ms: 0,
            ..
        }
    )));
    let req = out.request();
    assert_eq!(req.lifetime, 300);
    // 72: encapsulation unavailable.
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 72, 0, req.identification, None),
    );
    let req = drain(&mut n).request();
    assert_eq!(req.flags.to_string(), "------T-");
    // 137: reverse tunnel unavailable at the HA.
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 137, 0, &sa()));
    let req = drain(&mut n).request();
    assert_eq!(req.flags.to_string(), "--------");
    assert_eq!(req.lifetime, 300);
    // A second 72 cannot be acted on: back off.
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 72, 0, req.identification, None),
    );
    let out = drain(&mut n);
    assert!(out.transmit.is_empty());
    assert!(out.has_event(|e| matches!(
        e,
        Event::Denied {
            code: 72,
            retry_in_ms: 2000,
            ..
        }
    )));

    // 75: T mandatory.
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1())
        .flags(F::F | F::T)
        .send(&mut n, at(0), IF)
        .request();
    assert!(!req.flags.t);
    n.handle_reply(
        at(0),
        from_fa(fa1()),
        &reply_with_id(&req, 75, 0, req.identification, None),
    );
    assert!(drain(&mut n).request().flags.t);
}

/// A deregistration whose reply is a denial: retried after the back-off.
#[test]
fn denied_deregistration_is_retried() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::ha().lifetime(1800).send(&mut n, at(0), IF).request();
    n.handle_reply(at(0), from_ha(), &reply_to(&req, 128, 0, &sa()));
    drain(&mut n);
    assert_eq!(n.state(), NodeState::AtHome);
    let log = run_until(&mut n, at(2));
    let out = merged(log);
    let req = out.request();
    assert_eq!(req.lifetime, 0);
    assert_eq!(req.care_of_address, home());
}

/// Code 1 (simultaneous bindings unsupported) is an acceptance.
#[test]
fn code_1_is_accepted() {
    let mut c = config();
    c.flags.simultaneous_bindings = true;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1()).send(&mut n, at(0), IF).request();
    assert!(req.flags.s);
    n.handle_reply(at(0), from_fa(fa1()), &reply_to(&req, 1, 600, &sa()));
    assert!(drain(&mut n).has_event(|e| matches!(e, Event::Registered { code: 1, .. })));
}
