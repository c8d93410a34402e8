//! Random, truncated and mutated datagrams never panic the foreign agent, and its tables keep
//! their bounds whatever arrives.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use common::*;
use mip_fa::{ChallengeOptions, FaOptions, UnreachableKind};
use mip_wire::extension::Extension;
use mip_wire::registration::RegistrationRequestPacket;
use proptest::prelude::*;

const SECURE: &str = "\
ip mobile secure visitor 20.0.0.1 spi 101 key hex 0102030405060708090a0b0c0d0e0f10
ip mobile secure home-agent 66.0.0.5 spi 102 key hex a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
";

fn lab(challenge: bool) -> Lab {
    let opts = FaOptions {
        challenge: challenge.then(ChallengeOptions::default),
        ..FaOptions::default()
    };
    Lab::with_options(
        &config_with_interface_lines(SECURE, " limit 3 reverse-tunnel"),
        opts,
    )
}

#[derive(Clone, Debug)]
enum Op {
    Request(Vec<u8>, u8),
    Reply(Vec<u8>),
    Solicit(Vec<u8>, u8),
    Icmp(u8),
    Advance(u16),
    Clear,
    Flap(bool),
}

fn valid_request() -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), any::<u16>(), 0u8..4, any::<u8>()).prop_map(|(ident, lifetime, who, flags)| {
        let mut req = Req::new(ident % 8);
        req.lifetime = lifetime % 4000;
        req.home = Ipv4Addr::new(20, 0, 0, 1 + who);
        req.flags = mip_wire::registration::RequestFlags::from_byte(flags & 0xfa);
        if who == 3 {
            req.home = Ipv4Addr::UNSPECIFIED;
            req.before = vec![Extension::Nai(b"a@b.c".to_vec())];
        }
        req.mn_fa = (who == 0).then(|| (0x101, key(MN_FA_KEY)));
        req.bytes()
    })
}

fn mutate(bytes: Vec<u8>, at: usize, byte: u8, cut: usize) -> Vec<u8> {
    let mut b = bytes;
    if !b.is_empty() {
        let i = at % b.len();
        b[i] ^= byte;
    }
    let keep = b.len().saturating_sub(cut % 8);
    b.truncate(keep);
    b
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (proptest::collection::vec(any::<u8>(), 0..80), any::<u8>())
            .prop_map(|(b, i)| Op::Request(b, i)),
        (
            valid_request(),
            any::<usize>(),
            any::<u8>(),
            any::<usize>(),
            any::<u8>()
        )
            .prop_map(|(b, at, x, cut, i)| Op::Request(mutate(b, at, x, cut), i)),
        (valid_request(), any::<u8>()).prop_map(|(b, i)| Op::Request(b, i)),
        (
            any::<u64>(),
            any::<u8>(),
            0u8..4,
            any::<bool>(),
            any::<usize>(),
            any::<u8>()
        )
            .prop_map(|(ident, code, who, fa_ha, at, x)| {
                let home = if who == 3 {
                    Ipv4Addr::UNSPECIFIED
                } else {
                    Ipv4Addr::new(20, 0, 0, 1 + who)
                };
                let r = ha_reply_for(
                    home,
                    ident % 8,
                    code,
                    600,
                    fa_ha.then_some((0x102, FA_HA_KEY)),
                    &[],
                );
                Op::Reply(if x % 3 == 0 { mutate(r, at, x, 0) } else { r })
            }),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Op::Reply),
        (proptest::collection::vec(any::<u8>(), 0..16), any::<u8>())
            .prop_map(|(b, i)| Op::Solicit(b, i)),
        any::<u8>().prop_map(Op::Icmp),
        any::<u16>().prop_map(Op::Advance),
        Just(Op::Clear),
        any::<bool>().prop_map(Op::Flap),
    ]
}

fn run(lab: &mut Lab, ops: Vec<Op>) {
    let names = ["eth0", "eth1", "eth9"];
    for op in ops {
        match op {
            Op::Request(b, i) => {
                let mac = (i % 5 != 0).then_some(MN_MAC);
                lab.fa.handle_udp(
                    lab.now,
                    (i % 7 != 0).then_some(names[usize::from(i) % 3]),
                    SocketAddrV4::new(MN, u16::from(i)),
                    if i % 2 == 0 {
                        FA_LINK
                    } else {
                        Ipv4Addr::BROADCAST
                    },
                    mac,
                    &b,
                );
            }
            Op::Reply(b) => lab.ha_sends(&b),
            Op::Solicit(b, i) => {
                let src = if i % 2 == 0 {
                    FA_LINK
                } else {
                    Ipv4Addr::UNSPECIFIED
                };
                lab.fa
                    .handle_solicitation(lab.now, names[usize::from(i) % 3], src, &b);
            }
            Op::Icmp(k) => {
                let kind = [
                    UnreachableKind::Network,
                    UnreachableKind::Host,
                    UnreachableKind::Port,
                    UnreachableKind::Other,
                ][usize::from(k % 4)];
                lab.fa.handle_icmp_unreachable(lab.now, HA, kind);
            }
            Op::Advance(ms) => lab.advance(Duration::from_millis(u64::from(ms) * 20)),
            Op::Clear => {
                lab.fa.clear_visitors(&mip_fa::VisitorSelector::All);
            }
            Op::Flap(up) => {
                lab.fa.set_interface_up("eth0", up);
            }
        }
        for t in lab.transmits() {
            match t.interface {
                // To a mobile node: a reply of ours or relayed.
                Some(ref i) => {
                    assert_eq!(i, "eth1");
                    assert_eq!(t.payload.first(), Some(&3));
                    assert!(t.payload.len() >= 20);
                }
                // To a home agent: a request whose fixed part parses.
                None => {
                    assert!(RegistrationRequestPacket::new_checked(&t.payload[..]).is_ok());
                    assert_eq!(t.destination.port(), 434);
                    assert!(t.payload.len() <= mip_fa::MAX_UDP_PAYLOAD);
                }
            }
        }
        lab.dataplane();
        for a in lab.advertisements() {
            assert_eq!(a.ttl, 1);
            assert!(mip_wire::icmp::AgentAdvertisement::parse(&a.payload).is_ok());
        }
        // Bounds: five per mobile node, so at most 5 x 4 mobile nodes here.
        assert!(lab.fa.pending_count() <= 20);
        let per_link = lab
            .fa
            .interfaces()
            .iter()
            .map(|i| i.visitors)
            .max()
            .unwrap_or(0);
        assert!(per_link <= 3 + 1, "limit 3 (a renewal may move one)");
        let _ = lab.fa.visitors(lab.now);
        let _ = lab.fa.pending(lab.now);
        let _ = serde_json::to_string(lab.fa.counters()).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_sequences_never_panic(ops in proptest::collection::vec(op(), 1..60)) {
        run(&mut lab(false), ops);
    }

    #[test]
    fn arbitrary_sequences_with_challenges_never_panic(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        run(&mut lab(true), ops);
    }

    #[test]
    fn random_bytes_on_every_input(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut lab = lab(false);
        lab.mn_sends(&bytes);
        lab.ha_sends(&bytes);
        let mut req = bytes.clone();
        if let Some(b) = req.first_mut() { *b = 1; }
        lab.mn_sends(&req);
        let mut rep = bytes.clone();
        if let Some(b) = rep.first_mut() { *b = 3; }
        lab.ha_sends(&rep);
        lab.fa.handle_solicitation(lab.now, "eth1", FA_LINK, &bytes);
        lab.advance(Duration::from_secs(20));
    }
}
