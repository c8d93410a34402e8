//! Bad input never panics the mobile node: random bytes as advertisements and replies, random
//! well-formed advertisements (any flags, lifetimes, sequence numbers, prefixes) and replies
//! (any code, lifetime, identification) to the requests it actually sent, link changes and
//! operator actions, in random order and at random times; and the timers always advance.

mod common;

use std::net::Ipv4Addr;

use common::*;
use mip_mn::{ColocatedAddress, ColocatedMode, MobileNode};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Input {
    RawAdvertisement(u8, Vec<u8>),
    Advertisement {
        iface: u8,
        source: u8,
        flags: u16,
        lifetime: u16,
        sequence: u16,
        registration_lifetime: u16,
        prefix: Option<u8>,
        care_of: Vec<u8>,
    },
    RawReply(Vec<u8>),
    /// A reply to the latest request sent: code, lifetime, whether to sign, identification
    /// tweak.
    Reply {
        code: u8,
        lifetime: u16,
        signed: bool,
        id_xor: u64,
    },
    Link {
        iface: u8,
        up: bool,
        address: Option<(u8, u8)>,
    },
    Force,
    Deregister,
    Advance(u32),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(i, b)| Input::RawAdvertisement(i, b)),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            proptest::option::of(0u8..40),
            proptest::collection::vec(any::<u8>(), 0..3),
        )
            .prop_map(
                |(
                    iface,
                    source,
                    flags,
                    lifetime,
                    sequence,
                    registration_lifetime,
                    prefix,
                    care_of,
                )| {
                    Input::Advertisement {
                        iface,
                        source,
                        flags,
                        lifetime,
                        sequence,
                        registration_lifetime,
                        prefix,
                        care_of,
                    }
                }
            ),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Input::RawReply),
        (
            prop_oneof![
                Just(0u8),
                Just(1),
                Just(133),
                Just(69),
                Just(72),
                Just(75),
                any::<u8>()
            ],
            any::<u16>(),
            any::<bool>(),
            prop_oneof![Just(0u64), Just(1 << 40), any::<u64>()],
        )
            .prop_map(|(code, lifetime, signed, id_xor)| Input::Reply {
                code,
                lifetime,
                signed,
                id_xor
            }),
        (
            any::<u8>(),
            any::<bool>(),
            proptest::option::of((any::<u8>(), 0u8..40))
        )
            .prop_map(|(iface, up, address)| Input::Link { iface, up, address }),
        Just(Input::Force),
        Just(Input::Deregister),
        (0u32..4_000_000).prop_map(Input::Advance),
    ]
}

fn iface(i: u8) -> &'static str {
    [IF, IF2, "ppp0"][usize::from(i % 3)]
}

fn addr(i: u8) -> Ipv4Addr {
    // A few foreign agents, the home agent, the home network, anything.
    match i % 6 {
        0 => fa1(),
        1 => fa2(),
        2 => ha(),
        3 => Ipv4Addr::new(10, 1, 1, i),
        4 => Ipv4Addr::new(192, 0, 2, i),
        _ => Ipv4Addr::new(i, i, 0, 1),
    }
}

fn run(mut n: MobileNode, inputs: Vec<Input>) {
    let mut now_ms: u64 = 0;
    let mut last_request: Option<mip_wire::registration::RegistrationRequest> = None;
    for inp in inputs {
        let now = at_ms(now_ms);
        match inp {
            Input::RawAdvertisement(i, b) => n.handle_advertisement(now, iface(i), addr(i), &b),
            Input::Advertisement {
                iface: i,
                source,
                flags,
                lifetime,
                sequence,
                registration_lifetime,
                prefix,
                care_of,
            } => {
                let adv = Adv {
                    source: addr(source),
                    code: if source % 2 == 0 { 0 } else { 16 },
                    lifetime,
                    sequence,
                    registration_lifetime,
                    flags,
                    care_of: care_of.into_iter().map(addr).collect(),
                    prefix_len: prefix,
                };
                n.handle_advertisement(now, iface(i), adv.source, &adv.bytes());
            }
            Input::RawReply(b) => n.handle_reply(now, from_ha(), &b),
            Input::Reply {
                code,
                lifetime,
                signed,
                id_xor,
            } => {
                if let Some(req) = &last_request {
                    let s = sa();
                    let bytes = reply_with_id(
                        req,
                        code,
                        lifetime,
                        req.identification ^ id_xor,
                        signed.then_some(&s),
                    );
                    n.handle_reply(now, from_fa(fa1()), &bytes);
                    n.handle_reply(now, from_ha(), &bytes);
                }
            }
            Input::Link {
                iface: i,
                up,
                address,
            } => n.link_changed(
                now,
                iface(i),
                up,
                address.map(|(a, l)| ColocatedAddress::new(addr(a), l, Some(addr(a ^ 1)))),
            ),
            Input::Force => n.force_register(now),
            Input::Deregister => n.deregister(now),
            Input::Advance(ms) => {
                now_ms += u64::from(ms);
                let until = at_ms(now_ms);
                for _ in 0..10_000 {
                    match n.poll_timeout() {
                        Some(d) if d <= until => {
                            n.handle_timeout(d);
                            for t in drain(&mut n).transmit {
                                last_request = Some(parse(&t));
                            }
                        }
                        _ => break,
                    }
                }
                // The timers advanced up to `until`.
                assert!(n.poll_timeout().is_none_or(|d| d > until));
            }
        }
        let out = drain(&mut n);
        for t in &out.transmit {
            // Every request the node sends is well formed and signed.
            let req = parse(t);
            assert!(request_verifies(&t.payload, &sa()));
            assert!(!(req.flags.g && req.flags.m));
            last_request = Some(req);
        }
        let _ = n.snapshot(at_ms(now_ms));
        let _ = serde_json::to_string(&n.snapshot(at_ms(now_ms))).unwrap();
        for e in &out.events {
            let _ = e.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_foreign_agent_mode(inputs in proptest::collection::vec(input(), 0..60)) {
        let mut c = config();
        c.interfaces = vec![IF.into(), IF2.into()];
        c.flags.reverse_tunnel = true;
        c.flags.gre = true;
        c.flags.minimal = true;
        c.flags.encapsulating_delivery = true;
        run(node_with(c), inputs);
    }

    #[test]
    fn never_panics_colocated_modes(inputs in proptest::collection::vec(input(), 0..60), dynamic in any::<bool>()) {
        let mut c = config();
        c.interfaces = vec![IF.into(), IF2.into()];
        c.colocated = if dynamic {
            ColocatedMode::Dynamic
        } else {
            ColocatedMode::Static {
                address: "203.0.113.9/24".parse().unwrap(),
                gateway: None,
                interface: Some(IF2.into()),
            }
        };
        c.security_association.replay = if dynamic {
            mip_security::ReplayProtection::Nonce
        } else {
            mip_security::ReplayProtection::default()
        };
        c.solicitation.jitter_percent = 100;
        run(node_with(c), inputs);
    }

    #[test]
    fn arbitrary_reply_bytes(b in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut n = node();
        registered_via_fa(&mut n, fa1(), at(0));
        n.force_register(at(1));
        drain(&mut n);
        n.handle_reply(at(1), from_fa(fa1()), &b);
        let _ = drain(&mut n);
    }
}
