//! RFC 5944 §3.6.1 (sending Registration Requests: IP fields, registration fields, flags,
//! lifetime, extensions), RFC 3024 (T, encapsulating delivery style), RFC 2794 (NAI),
//! §5.7 (identification), checked field by field with the wire crate.

mod common;

use common::*;
use mip_mn::{ColocatedMode, DataPlaneRequest, Delivery, Event, NodeState, RequestKind};
use mip_security::{ntp, Key, ReplayProtection};
use mip_wire::codes::Encapsulation;
use mip_wire::extension::Extension;
use mip_wire::icmp::AdvertisementFlags as F;
use mip_wire::registration::RegistrationRequestPacket;

fn want_everything() -> mip_mn::MobileNodeConfig {
    let mut c = config();
    c.flags.reverse_tunnel = true;
    c.flags.gre = true;
    c.flags.minimal = true;
    c.flags.broadcast = true;
    c.flags.simultaneous_bindings = true;
    c
}

/// §3.6.1.1/§3.6.1.2 through a foreign agent: from the home address to the agent (port 434),
/// to its link-layer address; Care-of Address from the advertisement; Home Address, Home
/// Agent; D clear; the MN-HA authenticator verifies with the SA.
#[test]
fn request_through_foreign_agent() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let adv = Adv::fa(fa1()).care_of(vec![a("192.0.2.100"), a("192.0.2.101")]);
    let out = adv.send(&mut n, at(7), IF);
    let t = &out.transmit[0];
    let req = out.request();
    assert_eq!(t.interface, IF);
    assert_eq!(t.source, home());
    assert_eq!(t.destination, from_fa(fa1()));
    assert_eq!(
        t.delivery,
        Delivery::AgentLinkLayer {
            agent: fa1(),
            link_layer: Some(mac_of(fa1()))
        }
    );
    assert_eq!(req.home_address, home());
    assert_eq!(req.home_agent, ha());
    assert_eq!(req.care_of_address, a("192.0.2.100"));
    assert!(!req.flags.d && !req.flags.r && !req.flags.x);
    assert_eq!(
        req.lifetime, 600,
        "capped by the advertised registration lifetime"
    );
    assert_eq!(req.identification, ntp::from_system_time(at(7)));
    assert!(request_verifies(&t.payload, &sa()));
    assert!(!request_verifies(&t.payload, &hmac_sa()));
    // The MN-HA extension is the last one (nothing was asked after it).
    assert!(matches!(req.extensions.last(), Some(Extension::MnHaAuth { spi, .. }) if *spi == SPI));
}

/// §3.6.1.2, RFC 3024: G, M, T are asked only if the agent advertises them; S and B as
/// configured; G is preferred to M.
#[test]
fn flags_limited_by_the_advertisement() {
    let cases = [
        (F::F, "SB------"),
        (F::F | F::T, "SB----T-"),
        (F::F | F::G | F::M | F::T, "SB--G-T-"),
        (F::F | F::M, "SB-M----"),
    ];
    for (flags, expected) in cases {
        let mut n = node_with(want_everything());
        n.link_changed(at(0), IF, true, None);
        drain(&mut n);
        let req = Adv::fa(fa1())
            .flags(flags)
            .send(&mut n, at(1), IF)
            .request();
        assert_eq!(req.flags.to_string(), expected, "advertised {flags:#06x}");
    }
    // Nothing asked, nothing sent.
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let all = F::F | F::G | F::M | F::T;
    assert_eq!(
        Adv::fa(fa1())
            .flags(all)
            .send(&mut n, at(1), IF)
            .request()
            .flags
            .to_byte(),
        0
    );
}

/// Lifetime = min(configured, advertised registration lifetime); 0xffff advertised is infinity.
#[test]
fn lifetime_capped() {
    for (configured, advertised, expected) in [
        (1800, 600, 600),
        (300, 600, 300),
        (1800, 0xffff, 1800),
        (0xffff, 0xffff, 0xffff),
        (0xffff, 60, 60),
    ] {
        let mut c = config();
        c.lifetime = configured;
        let mut n = node_with(c);
        n.link_changed(at(0), IF, true, None);
        drain(&mut n);
        let req = Adv::fa(fa1())
            .reg_lifetime(advertised)
            .send(&mut n, at(1), IF)
            .request();
        assert_eq!(req.lifetime, expected, "{configured} / {advertised}");
    }
    // An agent that accepts no lifetime at all offers nothing.
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    assert!(Adv::fa(fa1())
        .reg_lifetime(0)
        .send(&mut n, at(1), IF)
        .transmit
        .is_empty());
}

/// §3.6.1.1 co-located: D set, Care-of Address = the node's own address, sent from it straight
/// to the home agent; the flags wanted are asked (no agent to limit them).
#[test]
fn colocated_request() {
    let mut c = want_everything();
    c.colocated = ColocatedMode::Dynamic;
    c.flags.minimal = false;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, Some(coloc()));
    let out = drain(&mut n);
    let t = &out.transmit[0];
    let req = out.request();
    assert_eq!(req.flags.to_string(), "SBD-G-T-");
    assert_eq!(req.care_of_address, coloc().address);
    assert_eq!(req.lifetime, 1800);
    assert_eq!(t.source, coloc().address);
    assert_eq!(t.destination, from_ha());
    assert_eq!(
        t.delivery,
        Delivery::Routed {
            gateway: coloc().gateway
        }
    );
    assert!(request_verifies(&t.payload, &sa()));
    assert!(out.has_event(|e| matches!(
        e,
        Event::Attached {
            colocated: true,
            ..
        }
    )));
    // Accepted: decapsulate (GRE asked) and reverse-tunnel to the home agent.
    n.handle_reply(at(0), from_ha(), &reply_to(&req, 0, 1800, &sa()));
    assert_eq!(
        drain(&mut n).dataplane,
        vec![DataPlaneRequest::UseColocated {
            interface: IF.into(),
            home_address: home(),
            care_of_address: coloc().address,
            gateway: coloc().gateway,
            home_agent: ha(),
            encapsulation: Encapsulation::Gre,
            reverse_tunnel: true,
        }]
    );
    assert_eq!(n.state(), NodeState::Registered);
}

/// A static co-located address on its interface.
#[test]
fn static_colocated_request() {
    let mut c = config();
    c.interfaces = vec![IF.into(), IF2.into()];
    c.colocated = ColocatedMode::Static {
        address: "203.0.113.9/24".parse().unwrap(),
        gateway: Some(a("203.0.113.1")),
        interface: Some(IF2.into()),
    };
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    assert!(drain(&mut n).transmit.is_empty());
    n.link_changed(at(0), IF2, true, None);
    let out = drain(&mut n);
    assert_eq!(out.transmit[0].interface, IF2);
    assert_eq!(out.request().care_of_address, a("203.0.113.9"));
    assert!(out.request().flags.d);
}

/// RFC 5944 §2.1.1: with R set by an agent on the link, the node registers through the
/// foreign agent even though it has a co-located address; without R it registers co-located.
#[test]
fn registration_required_bit() {
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    assert!(drain(&mut n).request().flags.d);
    let out = Adv::fa(a("203.0.113.1"))
        .flags(F::R | F::F | F::T)
        .send(&mut n, at(1), IF);
    let req = out.request();
    assert!(!req.flags.d);
    assert_eq!(req.care_of_address, a("203.0.113.1"));
    assert_eq!(out.transmit[0].destination, from_fa(a("203.0.113.1")));

    // Without R the co-located address is kept.
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    drain(&mut n);
    assert!(Adv::fa(a("203.0.113.1"))
        .send(&mut n, at(1), IF)
        .transmit
        .is_empty());
}

/// RFC 5944 §2.1.1 B: a busy foreign agent takes no new registrations; another one is used.
#[test]
fn busy_agent_is_not_used() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let busy = Adv::fa(fa1()).flags(F::F | F::B);
    assert!(busy.send(&mut n, at(1), IF).transmit.is_empty());
    let out = Adv::fa(a("192.0.2.2")).send(&mut n, at(2), IF);
    assert_eq!(out.request().care_of_address, a("192.0.2.2"));
}

/// RFC 2794: the NAI extension comes before the MN-HA authentication extension (which covers
/// it); RFC 3024 §3.3: the Encapsulating Delivery Style extension, for the foreign agent,
/// after it.
#[test]
fn extension_order() {
    let mut c = config();
    c.nai = Some("mn1@example.net".into());
    c.flags.reverse_tunnel = true;
    c.flags.encapsulating_delivery = true;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::fa(fa1()).send(&mut n, at(1), IF);
    let req = out.request();
    assert!(req.flags.t);
    assert_eq!(req.extensions.len(), 3);
    assert_eq!(
        req.extensions[0],
        Extension::Nai(b"mn1@example.net".to_vec())
    );
    assert!(matches!(req.extensions[1], Extension::MnHaAuth { .. }));
    assert_eq!(req.extensions[2], Extension::EncapsulatingDeliveryStyle);
    let p = RegistrationRequestPacket::new_checked(&out.transmit[0].payload[..]).unwrap();
    let r = &p.auth_regions().unwrap()[0];
    assert!(sa().verify(r.covered, r.authenticator));
    assert!(r.covered.ends_with(&[0x20, 0x14, 0, 0, 1, 0]));

    // Without T (agent does not offer it) the extension is not sent.
    let mut c = config();
    c.flags.reverse_tunnel = true;
    c.flags.encapsulating_delivery = true;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1()).flags(F::F).send(&mut n, at(1), IF).request();
    assert_eq!(req.extensions.len(), 1);
}

/// HMAC-MD5 security associations sign with HMAC-MD5.
#[test]
fn hmac_md5_association() {
    let mut c = config();
    c.security_association.algorithm = mip_security::Algorithm::HmacMd5;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::fa(fa1()).send(&mut n, at(1), IF);
    assert!(request_verifies(&out.transmit[0].payload, &hmac_sa()));
    assert!(!request_verifies(&out.transmit[0].payload, &sa()));
}

/// §5.7.1: timestamps strictly increase, even when the clock does not move or steps back;
/// no two requests share their low-order 32 bits (replies are matched on them).
#[test]
fn timestamps_increase_and_low_halves_differ() {
    let mut n = node();
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let mut req = Adv::fa(fa1()).send(&mut n, at(100), IF).request();
    let mut ids = vec![req.identification];
    for t in [100, 100, 100, 50, 50, 100] {
        n.handle_reply(at(t), from_fa(fa1()), &reply_to(&req, 0, 600, &sa()));
        drain(&mut n);
        n.force_register(at(t));
        req = drain(&mut n).request();
        ids.push(req.identification);
    }
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert!(
        ids.windows(2).all(|w| ntp::is_after(w[1], w[0])),
        "{ids:x?}"
    );
    let mut lows: Vec<u32> = ids.iter().map(|i| *i as u32).collect();
    lows.sort_unstable();
    lows.dedup();
    assert_eq!(lows.len(), ids.len());
}

/// §5.7.2: with nonces the first request carries 0 in the high-order half (no nonce yet) and a
/// random low-order half; later requests carry the home agent's nonce.
#[test]
fn nonce_identifications() {
    let mut c = config();
    c.security_association.replay = ReplayProtection::Nonce;
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let req = Adv::fa(fa1()).send(&mut n, at(1), IF).request();
    assert_eq!(req.identification >> 32, 0);
    let reply_id = (0xabcd_0123u64 << 32) | (req.identification & 0xffff_ffff);
    n.handle_reply(
        at(1),
        from_fa(fa1()),
        &reply_with_id(&req, 133, 0, reply_id, Some(&sa())),
    );
    let out = drain(&mut n);
    let req2 = out.request();
    assert_eq!(req2.identification >> 32, 0xabcd_0123);
    assert_ne!(req2.identification as u32, req.identification as u32);
}

/// Operator deregistration away from home: Lifetime 0 for the care-of address in use, through
/// the same path; then detached and quiet until `force_register`.
#[test]
fn operator_deregistration_away() {
    let mut n = node();
    registered_via_fa(&mut n, fa1(), at(0));
    n.deregister(at(10));
    let out = drain(&mut n);
    let req = out.request();
    assert_eq!(req.lifetime, 0);
    assert_eq!(req.care_of_address, fa1());
    assert_eq!(out.transmit[0].destination, from_fa(fa1()));
    assert!(out.has_event(|e| matches!(
        e,
        Event::RequestSent {
            kind: RequestKind::Deregistration,
            ..
        }
    )));
    n.handle_reply(at(10), from_fa(fa1()), &reply_to(&req, 0, 0, &sa()));
    let out = drain(&mut n);
    assert_eq!(out.dataplane, vec![DataPlaneRequest::Detached]);
    assert_eq!(n.state(), NodeState::AdministrativelyDown);
    // No renewal, no registration, even with the agent advertising.
    for t in (20..1000).step_by(20) {
        let o = Adv::fa(fa1()).send(&mut n, at(t), IF);
        assert!(o.transmit.is_empty(), "at {t}");
        assert!(merged(run_until(&mut n, at(t + 19))).transmit.is_empty());
    }
    n.force_register(at(1000));
    let out = drain(&mut n);
    assert_eq!(out.request().lifetime, 600);
    assert_eq!(n.state(), NodeState::Registering);
}

/// A key given as text (the router's `key ascii`) signs as such.
#[test]
fn key_material_from_ascii() {
    let mut c = config();
    c.security_association = mip_mn::MnHaSecurity::new(0x200, Key::from_ascii("secret").unwrap());
    let mut n = node_with(c);
    n.link_changed(at(0), IF, true, None);
    drain(&mut n);
    let out = Adv::fa(fa1()).send(&mut n, at(1), IF);
    let sa =
        mip_security::SecurityAssociation::with_defaults(0x200, Key::from_ascii("secret").unwrap());
    assert!(request_verifies(&out.transmit[0].payload, &sa));
}
