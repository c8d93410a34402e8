//! Every decoder of the crate over a deterministic corpus, on stable Rust.
//!
//! The properties are those of the fuzz targets: `fuzz/src/lib.rs` is
//! included below as module `checks`, so this test and `cargo fuzz` check the
//! same things. For every input, every decoder family runs (registration
//! request and reply, extensions, revocation, agent discovery, IPv4, IP in
//! IP, minimal encapsulation, GRE, UDP tunnel data, `Message`); none may
//! panic, and whatever one accepts must re-encode to the same bytes (or, for
//! decapsulators, re-encapsulate to a packet with the same inner datagram).
//!
//! The corpus:
//! * ~20 000 pseudo-random inputs of 0..300 bytes from a fixed-seed
//!   xorshift generator: raw bytes whose type byte is biased towards the
//!   types the crate decodes; registration-like messages with extension
//!   chains drawn from the extension registry; ICMP agent discovery
//!   messages; IPv4 datagrams, tunnelled or not. Some get random byte
//!   mutations or truncations, and half have their checksums and lengths
//!   recomputed ([`checks::fixup`]) so that they reach past checksum checks;
//! * every truncation and every single-byte mutation (0x00, 0xff and each of
//!   the eight one-bit flips) of valid messages built with the crate's own
//!   representations, each also with its checksums recomputed.
//!
//! A panic or failed property is reported with the input in hex and the
//! panic's location and message.
//!
//! `MIP_FUZZ_SEEDS=DIR cargo test -p mip-wire --test corpus` also writes the
//! valid messages to `DIR/<fuzz target>/` as seed corpora for cargo-fuzz.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;
#[path = "../../../fuzz/src/corpus.rs"]
mod corpus;
use corpus::{hex, Failures, XorShift};

use std::net::Ipv4Addr;
use std::time::Instant;

use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::extension::{
    Extension, GenAuthSubtype, Layout, MobileNetwork, MobileNetworkAck, MobileNetworkAckCode,
    RevocationSupport, UdpTunnelReply, UdpTunnelReplyCode, UdpTunnelRequest,
};
use mip_wire::icmp::{
    AdvertisementCode, AdvertisementExtension, AdvertisementFlags, AgentAdvertisement,
    AgentSolicitation, MobilityAgentAdvertisement, RouterAddress,
};
use mip_wire::ipv4::{Ipv4Repr, Protocol};
use mip_wire::message::Message;
use mip_wire::registration::{RegistrationReply, RegistrationRequest, RequestFlags};
use mip_wire::revocation::{RegistrationRevocation, RevocationAck};
use mip_wire::tunnel::{encapsulate_gre, encapsulate_ipip, encapsulate_minimal, GreRepr};
use mip_wire::udp_tunnel::encapsulate_tunnel_data;

// ---------------------------------------------------------------------------
// Deterministic pseudo-random numbers

impl XorShift {
    fn addr(&mut self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32())
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// One of `items`, or (as often as each of them) a random byte.
    fn pick_or_byte(&mut self, items: &[u8]) -> u8 {
        match self.below(items.len() + 1) {
            i if i < items.len() => items[i],
            _ => self.byte(),
        }
    }

    /// One of `items`, or (as often as each of them) a number below `n`.
    fn pick_or_below(&mut self, items: &[usize], n: usize) -> usize {
        match self.below(items.len() + 1) {
            i if i < items.len() => items[i],
            _ => self.below(n),
        }
    }
}

// ---------------------------------------------------------------------------
// Running the checks

/// Runs [`checks::all`] over inputs, counting what each family accepted and
/// grouping failures by panic location.
struct Runner {
    inputs: usize,
    accepted: [usize; 11],
    failures: Failures,
}

impl Runner {
    fn new() -> Self {
        Runner {
            inputs: 0,
            accepted: [0; 11],
            failures: Failures::new(),
        }
    }

    /// Checks one input; returns which families accepted it (all false if
    /// something panicked).
    fn run(&mut self, origin: &str, input: &[u8]) -> [bool; 11] {
        self.inputs += 1;
        let Some(flags) = self.failures.check(origin, input, || checks::all(input)) else {
            return [false; 11];
        };
        for (n, f) in self.accepted.iter_mut().zip(flags) {
            *n += usize::from(f);
        }
        flags
    }

    fn summary(&self, name: &str) -> String {
        let mut s = format!("{name}: {} inputs; accepted by", self.inputs);
        for (family, n) in checks::FAMILIES.iter().zip(self.accepted) {
            s += &format!(" {family}={n}");
        }
        s
    }

    fn assert_no_failures(&self, name: &str) {
        println!("{}", self.summary(name));
        self.failures.assert_none(name);
    }
}

// ---------------------------------------------------------------------------
// Pseudo-random inputs

/// Extension types with an IANA assignment this crate knows of (see
/// `mip_wire::extension::types`).
const REGISTRY: &[u8] = &[
    0, 32, 33, 34, 36, 37, 38, 40, 42, 44, 45, 46, 47, 129, 130, 131, 132, 133, 134, 136, 137, 138,
    139, 140, 141, 142, 144, 145, 147, 148, 151, 152, 255,
];

/// Message types the crate decodes (UDP 1, 3, 4, 7, 15; ICMP 9, 10).
const TYPES: &[u8] = &[1, 3, 4, 7, 15, 9, 10];

/// A body of the size (mostly) right for a short-layout extension type.
fn short_body(rng: &mut XorShift, ty: u8) -> Vec<u8> {
    let off_by = |rng: &mut XorShift, n: usize| {
        if rng.chance(1, 8) {
            n.saturating_add_signed(rng.pick(&[-1isize, 1, -3, 2]))
        } else {
            n
        }
    };
    match ty {
        44 | 137 | 144 => {
            let n = off_by(rng, 6);
            rng.bytes(n)
        }
        130 => {
            let n = off_by(rng, 0);
            rng.bytes(n)
        }
        148 => {
            let sub = rng.pick_or_byte(&[0, 1, 2, 3]);
            let n = off_by(rng, if sub == 0 { 5 } else { 7 });
            let mut b = vec![sub];
            b.extend(rng.bytes(n));
            b
        }
        32..=34 => {
            let n = {
                let n = rng.pick_or_below(&[4, 20, 12], 24);
                off_by(rng, n)
            };
            rng.bytes(n)
        }
        131 => {
            let n = rng.below(24);
            (0..n).map(|_| rng.pick(b"mn1@example.net\xff")).collect()
        }
        _ => {
            let n = rng.below(12);
            rng.bytes(n)
        }
    }
}

/// One extension, framed (mostly) correctly for its layout.
fn push_extension(rng: &mut XorShift, out: &mut Vec<u8>) {
    let ty = if rng.chance(1, 10) {
        rng.byte()
    } else {
        rng.pick(REGISTRY)
    };
    out.push(ty);
    let bad_len = rng.chance(1, 12);
    match Layout::of(ty) {
        Layout::Pad => {}
        Layout::Short => {
            let body = short_body(rng, ty);
            let len = if bad_len {
                rng.byte()
            } else {
                body.len() as u8
            };
            out.push(len);
            out.extend(body);
        }
        Layout::Long | Layout::Cvse => {
            // 36: sub-type then SPI + authenticator; 38: reserved then
            // vendor id, vendor type, data; 40/42/47: sub-type then data.
            out.push(if ty == 36 {
                rng.pick_or_byte(&[1, 2, 3, 4])
            } else {
                rng.byte()
            });
            let n = match ty {
                36 => 4 + rng.pick_or_below(&[0, 16], 20),
                38 => 6 + rng.below(10),
                _ => rng.below(12),
            };
            let n = if rng.chance(1, 10) {
                n.saturating_sub(3)
            } else {
                n
            };
            let len = if bad_len { rng.u16() } else { n as u16 };
            out.extend(len.to_be_bytes());
            out.extend(rng.bytes(n));
        }
        Layout::Nvse => {
            let n = if rng.chance(1, 10) {
                rng.below(6)
            } else {
                6 + rng.below(10)
            };
            out.push(if bad_len { rng.byte() } else { (n + 2) as u8 });
            out.extend([rng.byte(), rng.byte()]);
            out.extend(rng.bytes(n));
        }
    }
}

/// Raw bytes, the first (type) byte mostly a decoded message type.
fn gen_raw(rng: &mut XorShift) -> Vec<u8> {
    let n = rng.below(300);
    let mut b = rng.bytes(n);
    if n > 0 && rng.chance(3, 4) {
        b[0] = rng.pick(TYPES);
    }
    b
}

/// A registration, reply, revocation or acknowledgement: right-sized fixed
/// part of random bytes, then an extension chain from the registry.
fn gen_registration(rng: &mut XorShift) -> Vec<u8> {
    let ty = if rng.chance(1, 10) {
        rng.byte()
    } else {
        rng.pick(&[1u8, 3, 7, 15])
    };
    let fixed = match ty {
        1 => 24,
        3 | 7 => 20,
        15 => 12,
        _ => rng.below(25),
    };
    let mut b = vec![ty];
    b.extend(rng.bytes(fixed.max(1) - 1));
    for _ in 0..rng.below(7) {
        push_extension(rng, &mut b);
    }
    b
}

/// An ICMP agent advertisement or solicitation (checksum left to fixup).
fn gen_icmp(rng: &mut XorShift) -> Vec<u8> {
    if rng.chance(1, 3) {
        let mut b = vec![10, rng.pick_or_byte(&[0, 0]), 0, 0];
        b.extend(if rng.chance(1, 2) {
            vec![0; 4]
        } else {
            rng.bytes(4)
        });
        let trailing = if rng.chance(1, 4) { rng.below(8) } else { 0 };
        b.extend(rng.bytes(trailing));
        return b;
    }
    let num = if rng.chance(1, 10) {
        rng.byte()
    } else {
        rng.below(4) as u8
    };
    let mut b = vec![9, rng.pick_or_byte(&[0, 16]), 0, 0, num];
    b.push(if rng.chance(1, 10) { rng.byte() } else { 2 });
    b.extend(rng.u16().to_be_bytes());
    b.extend(rng.bytes(8 * usize::from(num.min(8))));
    for _ in 0..rng.below(5) {
        let ty = rng.pick_or_byte(&[0, 16, 16, 19, 24]);
        b.push(ty);
        if ty == 0 {
            continue;
        }
        let n = match ty {
            16 => 6 + 4 * rng.below(3) + usize::from(rng.chance(1, 8)),
            19 => usize::from(num.min(8)),
            _ => rng.below(10),
        };
        b.push(if rng.chance(1, 12) {
            rng.byte()
        } else {
            n as u8
        });
        b.extend(rng.bytes(n));
    }
    b
}

/// An IPv4 datagram built with [`Ipv4Repr`] (checksum correct).
fn gen_datagram(rng: &mut XorShift, protocol: Protocol, payload: &[u8]) -> Vec<u8> {
    let fragment = rng.chance(1, 16);
    let repr = Ipv4Repr {
        tos: rng.byte(),
        identification: rng.u16(),
        reserved_flag: rng.chance(1, 16),
        dont_fragment: rng.chance(1, 2),
        more_fragments: fragment && rng.chance(1, 2),
        fragment_offset: if fragment { rng.u16() & 0x1fff } else { 0 },
        ttl: rng.pick_or_byte(&[0, 1, 64, 255]),
        protocol,
        src_addr: rng.addr(),
        dst_addr: rng.addr(),
        options: {
            let n = 4 * rng.pick(&[0, 0, 0, 1, 2, 10]);
            rng.bytes(n)
        },
        payload_len: payload.len(),
    };
    let mut b = repr.to_bytes().expect("valid generated header");
    b.extend_from_slice(payload);
    b
}

/// IPv4 datagrams, plain or in IP, minimal encapsulation, GRE, or a UDP
/// tunnel data message.
fn gen_tunnel(rng: &mut XorShift) -> Vec<u8> {
    let proto = Protocol::from(rng.pick_or_byte(&[1, 6, 17]));
    let payload = {
        let n = rng.below(48);
        rng.bytes(n)
    };
    let inner = gen_datagram(rng, proto, &payload);
    let src = rng.addr();
    let dst = rng.addr();
    let gre = GreRepr::ipv4(
        rng.chance(1, 2),
        rng.chance(1, 2).then(|| rng.u32()),
        rng.chance(1, 2).then(|| rng.u32()),
    );
    let mut out = vec![0; inner.len() + 64];
    let mut b = match rng.below(6) {
        0 => inner.clone(),
        1 => {
            let n = encapsulate_ipip(&inner, src, dst, rng.byte(), &mut out);
            n.map_or(inner.clone(), |n| out[..n].to_vec())
        }
        2 => {
            // sometimes the encapsulator is the original source (S clear)
            let from = if rng.chance(1, 2) {
                Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15])
            } else {
                src
            };
            let n = encapsulate_minimal(&inner, from, dst, &mut out);
            n.map_or(inner.clone(), |n| out[..n].to_vec())
        }
        3 => {
            let n = encapsulate_gre(&inner, src, dst, rng.byte(), &gre, &mut out);
            n.map_or(inner.clone(), |n| out[..n].to_vec())
        }
        4 => {
            let mut m = vec![4, 4, 0, 0];
            m.extend_from_slice(&inner);
            m
        }
        _ => {
            let n = gre
                .emit_with_payload(&inner, &mut out)
                .expect("GRE into a large enough buffer");
            let mut m = vec![4, 47, 0, 0];
            m.extend_from_slice(&out[..n]);
            m
        }
    };
    if rng.chance(1, 8) {
        // link-layer padding after the datagram
        let n = rng.below(8);
        b.extend(rng.bytes(n));
    }
    b
}

#[test]
fn pseudo_random_corpus() {
    let start = Instant::now();
    let mut rng = XorShift::new(0x4d49_5076_3443_4f52);
    let mut runner = Runner::new();
    for i in 0..20_000 {
        let (kind, mut input) = match rng.below(5) {
            0 => ("raw", gen_raw(&mut rng)),
            1 | 2 => ("registration", gen_registration(&mut rng)),
            3 => ("icmp", gen_icmp(&mut rng)),
            _ => ("ip", gen_tunnel(&mut rng)),
        };
        if rng.chance(1, 3) {
            for _ in 0..1 + rng.below(3) {
                if !input.is_empty() {
                    let at = rng.below(input.len());
                    input[at] = rng.byte();
                }
            }
        }
        if rng.chance(1, 8) && !input.is_empty() {
            let n = rng.below(input.len());
            input.truncate(n);
        }
        input.truncate(299);
        if rng.chance(1, 2) {
            input = checks::fixup(&input);
        }
        runner.run(&format!("random #{i} ({kind})"), &input);
    }
    println!("pseudo_random_corpus: {:?}", start.elapsed());
    runner.assert_no_failures("pseudo_random_corpus");
    // The generator must reach every decoder, not just its error paths.
    for (family, n) in checks::FAMILIES.iter().zip(runner.accepted) {
        assert!(n >= 100, "only {n} random inputs accepted by {family}");
    }
}

// ---------------------------------------------------------------------------
// Mutations of valid messages

fn inner_datagram() -> Vec<u8> {
    let payload = [8, 0, 0xf7, 0xfc, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g'];
    let repr = Ipv4Repr {
        tos: 0x28,
        identification: 0x1c46,
        reserved_flag: false,
        dont_fragment: true,
        more_fragments: false,
        fragment_offset: 0,
        ttl: 63,
        protocol: Protocol::Icmp,
        src_addr: Ipv4Addr::new(10, 1, 0, 5),
        dst_addr: Ipv4Addr::new(10, 2, 0, 9),
        options: vec![0x94, 0x04, 0x00, 0x00], // router alert
        payload_len: payload.len(),
    };
    let mut b = repr.to_bytes().unwrap();
    b.extend_from_slice(&payload);
    b
}

/// Valid messages of every kind, with the family that must accept each.
fn valid_messages() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let hoa = Ipv4Addr::new(10, 1, 1, 5);
    let ha = Ipv4Addr::new(10, 1, 1, 1);
    let coa = Ipv4Addr::new(192, 0, 2, 10);
    let fa_ha = Extension::FaHaAuth {
        spi: 0x100,
        authenticator: (0..16).collect(),
    };
    let mut v = Vec::new();

    let request = RegistrationRequest {
        flags: RequestFlags::from_byte(RequestFlags::T | RequestFlags::G),
        lifetime: 1800,
        home_address: hoa,
        home_agent: ha,
        care_of_address: coa,
        identification: 0xc1bc_0d4f_cb2e_4ce8,
        extensions: vec![
            Extension::Nai(b"mn1@example.net".to_vec()),
            Extension::UnknownSkippable {
                ty: 200,
                data: vec![0xab, 0xcd, 0xef],
            },
            Extension::MnHaAuth {
                spi: 0x333,
                authenticator: (0..16).collect(),
            },
        ],
    };
    v.push(("request", request.to_bytes(), "registration_request"));

    // One of each extension layout and typed form.
    let every_extension = RegistrationRequest {
        extensions: vec![
            Extension::Pad,
            Extension::Nai(b"a@b".to_vec()),
            Extension::UdpTunnelRequest(UdpTunnelRequest {
                subtype: 0,
                reserved1: 0,
                force: true,
                registration_through_fa: false,
                reserved2: 0,
                encapsulation: Encapsulation::Gre,
                reserved3: 0,
            }),
            Extension::RevocationSupport(RevocationSupport {
                i_bit_supported: true,
                reserved: 0,
                timestamp: 1_600_000_000,
            }),
            Extension::MobileNetwork(MobileNetwork::Request {
                prefix_length: 24,
                prefix: Ipv4Addr::new(192, 168, 1, 0),
            }),
            Extension::EncapsulatingDeliveryStyle,
            Extension::Cvse {
                reserved: 0,
                vendor_id: 5535,
                vendor_type: 1,
                data: vec![1, 2, 3],
            },
            Extension::Nvse {
                reserved: 0,
                vendor_id: 9,
                vendor_type: 2,
                data: vec![4, 5],
            },
            Extension::GenericLong {
                ty: 42,
                subtype: 1,
                data: vec![6, 7, 8],
            },
            Extension::UnknownNonSkippable {
                ty: 45,
                data: vec![9],
            },
            Extension::MnHaAuth {
                spi: 0x333,
                authenticator: vec![0x5a; 16],
            },
            Extension::MnFaChallenge(vec![0xc1; 8]),
            Extension::GeneralizedAuth {
                subtype: GenAuthSubtype::MnAaa,
                spi: 2,
                authenticator: vec![0xa5; 16],
            },
            Extension::MnFaAuth {
                spi: 0x444,
                authenticator: vec![0x3c; 16],
            },
        ],
        ..request
    };
    v.push((
        "request with every extension layout",
        every_extension.to_bytes(),
        "registration_request",
    ));

    let reply = RegistrationReply {
        code: ReplyCode::Accepted,
        lifetime: 600,
        home_address: hoa,
        home_agent: ha,
        identification: 0x0123_4567_89ab_cdef,
        extensions: vec![
            Extension::UdpTunnelReply(UdpTunnelReply {
                subtype: 0,
                code: UdpTunnelReplyCode::WillDo,
                force: false,
                reserved: 0,
                keepalive_interval: 110,
            }),
            Extension::MobileNetwork(MobileNetwork::ExplicitAck(MobileNetworkAck {
                code: MobileNetworkAckCode::Success,
                prefix_length: 24,
                reserved: 0,
                prefix: Ipv4Addr::new(192, 168, 1, 0),
            })),
            Extension::MnHaAuth {
                spi: 0x333,
                authenticator: vec![0x77; 16],
            },
            fa_ha.clone(),
        ],
    };
    v.push(("reply", reply.to_bytes(), "registration_reply"));

    let revocation = RegistrationRevocation {
        reserved: 0,
        sent_by_home_agent: true,
        inform: true,
        flags_reserved: 0,
        home_address: hoa,
        home_domain_address: ha,
        foreign_domain_address: coa,
        revocation_identifier: 1_600_000_123,
        extensions: vec![fa_ha.clone()],
    };
    v.push(("revocation", revocation.to_bytes(), "revocation"));
    let ack = RevocationAck {
        reserved: 0,
        inform: true,
        flags_reserved: 0,
        home_address: hoa,
        revocation_identifier: 1_600_000_123,
        extensions: vec![fa_ha],
    };
    v.push(("revocation ack", ack.to_bytes(), "revocation"));

    let advertisement = AgentAdvertisement {
        code: AdvertisementCode::MobilityOnly,
        lifetime: 1800,
        router_addresses: vec![
            RouterAddress {
                address: Ipv4Addr::new(192, 0, 2, 1),
                preference: 0,
            },
            RouterAddress {
                address: Ipv4Addr::new(192, 0, 2, 2),
                preference: -5,
            },
        ],
        extensions: vec![
            AdvertisementExtension::MobilityAgent(MobilityAgentAdvertisement {
                sequence: 256,
                registration_lifetime: 600,
                flags: AdvertisementFlags::from_bits(
                    AdvertisementFlags::F | AdvertisementFlags::G | AdvertisementFlags::T,
                ),
                care_of_addresses: vec![coa, Ipv4Addr::new(192, 0, 2, 11)],
            }),
            AdvertisementExtension::Pad,
            AdvertisementExtension::PrefixLengths(vec![24, 16]),
            AdvertisementExtension::FaChallenge(vec![0x11; 8]),
            AdvertisementExtension::Unknown {
                ext_type: 99,
                data: vec![1, 2],
            },
            AdvertisementExtension::Pad,
        ],
    };
    v.push((
        "advertisement",
        advertisement.to_bytes().unwrap(),
        "agent_discovery",
    ));
    v.push((
        "solicitation",
        AgentSolicitation::default().to_bytes(),
        "agent_discovery",
    ));
    let solicitation = AgentSolicitation {
        code: 0,
        reserved: 0x0102_0304,
        trailing: vec![0xee; 3],
    };
    v.push((
        "solicitation with trailing bytes",
        solicitation.to_bytes(),
        "agent_discovery",
    ));

    let inner = inner_datagram();
    let outer_src = Ipv4Addr::new(198, 51, 100, 1);
    let outer_dst = Ipv4Addr::new(203, 0, 113, 10);
    let mut out = vec![0; 256];
    v.push(("IPv4 datagram with options", inner.clone(), "ipv4"));
    let n = encapsulate_ipip(&inner, outer_src, outer_dst, 64, &mut out).unwrap();
    v.push(("IP in IP", out[..n].to_vec(), "tunnel_ipip"));
    let n = encapsulate_minimal(&inner, outer_src, outer_dst, &mut out).unwrap();
    v.push((
        "minimal encapsulation (S set)",
        out[..n].to_vec(),
        "tunnel_minimal",
    ));
    let n = encapsulate_minimal(&inner, Ipv4Addr::new(10, 1, 0, 5), outer_dst, &mut out).unwrap();
    v.push((
        "minimal encapsulation (S clear)",
        out[..n].to_vec(),
        "tunnel_minimal",
    ));
    let gre = GreRepr::ipv4(true, Some(0x0102_0304), Some(7));
    let n = encapsulate_gre(&inner, outer_src, outer_dst, 64, &gre, &mut out).unwrap();
    v.push(("GRE with C, K, S", out[..n].to_vec(), "tunnel_gre"));
    let n = encapsulate_gre(
        &inner,
        outer_src,
        outer_dst,
        64,
        &GreRepr::ipv4(false, None, None),
        &mut out,
    )
    .unwrap();
    v.push(("GRE, plain", out[..n].to_vec(), "tunnel_gre"));
    let n = encapsulate_tunnel_data(Protocol::IpIp, &inner, &mut out).unwrap();
    v.push(("UDP tunnel data (IPv4)", out[..n].to_vec(), "udp_tunnel"));
    let mut gre_packet = vec![0; 128];
    let g = gre.emit_with_payload(&inner, &mut gre_packet).unwrap();
    let n = encapsulate_tunnel_data(Protocol::Gre, &gre_packet[..g], &mut out).unwrap();
    v.push(("UDP tunnel data (GRE)", out[..n].to_vec(), "udp_tunnel"));
    v
}

#[test]
fn truncations_and_single_byte_mutations() {
    let start = Instant::now();
    let mut runner = Runner::new();
    let seeds = std::env::var_os("MIP_FUZZ_SEEDS").map(std::path::PathBuf::from);
    for (name, msg, family) in valid_messages() {
        if let Some(dir) = &seeds {
            // Seed corpora for `cargo fuzz run <target> <dir>/<target>`.
            for target in [family, "message_any", "extensions"] {
                let dir = dir.join(target);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(name.replace([' ', ','], "_")), &msg).unwrap();
            }
        }
        let index = checks::FAMILIES.iter().position(|f| *f == family).unwrap();
        let flags = runner.run(name, &msg);
        assert!(
            flags[index],
            "{name} ({}) not accepted by {family}",
            hex(&msg)
        );
        for n in 0..msg.len() {
            runner.run(&format!("{name} truncated to {n}"), &msg[..n]);
        }
        for at in 0..msg.len() {
            let flips = (0..8).map(|bit| msg[at] ^ (1 << bit));
            for value in [0x00, 0xff].into_iter().chain(flips) {
                if value == msg[at] {
                    continue;
                }
                let mut m = msg.clone();
                m[at] = value;
                let origin = format!("{name}, byte {at} set to {value:#04x}");
                runner.run(&origin, &m);
                let fixed = checks::fixup(&m);
                if fixed != m {
                    runner.run(&format!("{origin}, checksums fixed"), &fixed);
                }
            }
        }
    }
    println!(
        "truncations_and_single_byte_mutations: {:?}",
        start.elapsed()
    );
    runner.assert_no_failures("truncations_and_single_byte_mutations");
}

// ---------------------------------------------------------------------------
// Specific cases found or pinned while writing the corpus

/// A checksum field of 0xffff where the covered data sums to 0xffff
/// verifies (it is the one's complement "negative zero", RFC 1624 §3), but an
/// encoder computes 0x0000. The decoders accept it and re-encode the
/// canonical form; that is the one difference the round-trip checks allow.
#[test]
fn negative_zero_checksum_is_accepted_and_re_encoded_as_zero() {
    // Solicitation: 0x0a00 + 0xf5ff = 0xffff, so both 0x0000 and 0xffff verify.
    let canonical = hex_bytes("0a00 0000 f5ff0000");
    let negative_zero = hex_bytes("0a00 ffff f5ff0000");
    let s = AgentSolicitation::parse(&canonical).unwrap();
    assert_eq!(AgentSolicitation::parse(&negative_zero), Ok(s.clone()));
    assert_eq!(s.to_bytes(), canonical);
    let m = Message::parse_icmp(&negative_zero).unwrap();
    assert_eq!(m.to_bytes().unwrap(), canonical);

    // IPv4 header whose other words sum to 0xffff.
    let mut header = hex_bytes("4500 0014 0000 0000 4001 0000 00000000 00000000");
    let sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let fill = 0xffff - sum as u16; // make the sum exactly 0xffff
    header[16..18].copy_from_slice(&fill.to_be_bytes());
    let r = Ipv4Repr::parse(&header).unwrap();
    header[10..12].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(Ipv4Repr::parse(&header), Ok(r.clone()));
    let out = r.to_bytes().unwrap();
    assert_eq!(out[10..12], [0, 0]);
    assert_eq!((&out[..10], &out[12..]), (&header[..10], &header[12..]));
}

/// The Reserved field of UDP tunnel data is kept by the owned form and must
/// survive `Message::to_bytes` (it used to be written as zero).
#[test]
fn tunnel_data_reserved_survives_message_round_trip() {
    let mut msg = hex_bytes("04 04 abcd");
    msg.extend(inner_datagram());
    let m = Message::parse_udp(&msg).unwrap();
    let Message::TunnelData(h, _) = &m else {
        panic!("{m:?}")
    };
    assert_eq!(h.reserved, 0xabcd);
    assert_eq!(m.to_bytes().unwrap(), msg);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
