//! The offloads of `mip_io::net::offload` over a deterministic corpus, on stable Rust.
//!
//! The properties are those of the `offload` fuzz target: `fuzz/src/offload.rs` is included
//! below as module `checks`, so this test and `cargo fuzz run offload` check the same
//! things (see that file for the input format and the properties).
//!
//! The corpus (~20 000 inputs, fixed-seed xorshift):
//! * `VnetHdr` bytes of every length around 10;
//! * IPv4/TCP packets built by [`Tcp`] (IP and TCP options of every length, payloads from
//!   empty to 64 KB, every flag, total lengths that agree or not, fragments) for
//!   `finish_partial_checksum`, `segment_tcp4` (MSS from 1 to beyond the payload) and
//!   `received_super_tcp4` (MTUs around the packet and the headers);
//! * GRO streams: runs of consecutive segments of one TCP flow (with and without PSH, with a
//!   short segment, a gap in the sequence numbers or Identifications, a changed header
//!   field, another flow or tunnel interleaved, ID and sequence number wrap-around, up to
//!   `MAX_SEGMENTS` and `MAX_SUPER`, a checksum of `0xffff` that verifies), UDP runs, and
//!   packets that must pass through (SYN, IP options, fragments, broadcast, bad checksums);
//! * random bytes, and random byte mutations and truncations of all the above, with
//!   lengths and checksums recomputed for half of them.
//!
//! A panic or failed property is reported with the input in hex (and the panic's location
//! and message).
//!
//! `MIP_FUZZ_SEEDS=DIR cargo test -p mip-io --test offload_corpus` also writes every tenth
//! input (up to 20 000 bytes) to `DIR/offload/`, a seed corpus for `cargo fuzz run offload`.

#[path = "../../../fuzz/src/offload.rs"]
mod checks;
#[path = "../../../fuzz/src/corpus.rs"]
mod corpus;
use corpus::{Failures, XorShift};

use std::time::Instant;

use checks::{Reached, FIXUP, GRO, OP_NEXT, PARTIAL, SEGMENT, SUPER, VNET};
use mip_io::net::offload::MAX_SEGMENTS;

// ------------------------------------------------------------------------- random numbers

/// One of the items, at random (all of them are evaluated first).
macro_rules! pick {
    ($rng:expr, [$($item:expr),+ $(,)?]) => {{
        let items = [$($item),+];
        let i = $rng.below(items.len());
        items.into_iter().nth(i).unwrap()
    }};
}

impl XorShift {
    /// A length: mostly small, sometimes up to `max`.
    fn len(&mut self, max: usize) -> usize {
        match self.below(32) {
            0..=17 => self.below(max.min(300) + 1),
            18..=29 => self.below(max.min(2000) + 1),
            _ => self.below(max + 1),
        }
    }
}

// ------------------------------------------------------------------------ packet builder

/// An IPv4/TCP or IPv4/UDP packet, built with valid lengths and checksums.
#[derive(Clone)]
struct Tcp {
    udp: bool,
    tos: u8,
    id: u16,
    /// Flags and fragment offset (DF: 0x4000).
    frag: u16,
    ttl: u8,
    src: [u8; 4],
    dst: [u8; 4],
    ip_options: Vec<u8>,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    /// The byte after the data offset (reserved bits and NS).
    reserved: u8,
    flags: u8,
    window: u16,
    urgent: u16,
    tcp_options: Vec<u8>,
    payload: Vec<u8>,
}

impl Tcp {
    fn new(payload_len: usize) -> Tcp {
        Tcp {
            udp: false,
            tos: 0,
            id: 1000,
            frag: 0x4000,
            ttl: 64,
            src: [10, 1, 0, 2],
            dst: [10, 9, 9, 9],
            ip_options: Vec::new(),
            sport: 40000,
            dport: 5201,
            seq: 7,
            ack: 77,
            reserved: 0,
            flags: 0x10,
            window: 500,
            urgent: 0,
            // NOP, NOP, timestamps
            tcp_options: vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            payload: (0..payload_len).map(|i| (i * 7 + 3) as u8).collect(),
        }
    }

    fn udp(payload_len: usize) -> Tcp {
        Tcp {
            udp: true,
            frag: 0,
            sport: 4000,
            tcp_options: Vec::new(),
            ..Tcp::new(payload_len)
        }
    }

    fn random(rng: &mut XorShift, payload_len: usize) -> Tcp {
        let mut t = if rng.chance(1, 4) {
            Tcp::udp(payload_len)
        } else {
            Tcp::new(payload_len)
        };
        t.tos = pick!(rng, [0, 0, 0x10, 0x02, rng.byte()]);
        t.id = rng.u16();
        t.frag = pick!(rng, [0x4000, 0, 0, 0x2000, 0x0001, 0x8000, rng.u16()]);
        t.ttl = pick!(rng, [64, 1, 0, 255]);
        t.src = rng.u32().to_be_bytes();
        t.dst = pick!(
            rng,
            [
                [10, 9, 9, 9],
                [255, 255, 255, 255],
                [224, 0, 0, 1],
                [10, 0, 0, 255]
            ]
        );
        if rng.chance(1, 4) {
            let n = 4 * rng.below(11);
            t.ip_options = pick!(rng, [vec![1; n], rng.bytes(n)]);
        }
        t.sport = rng.u16();
        t.seq = pick!(rng, [rng.u32(), u32::MAX - rng.below(3000) as u32]);
        t.ack = rng.u32();
        t.reserved = pick!(rng, [0, 0, 1, rng.byte() & 0x0f]);
        t.flags = pick!(
            rng,
            [
                0x10,
                0x18,
                0x18,
                0x02,
                0x12,
                0x11,
                0x19,
                0x90,
                0x50,
                0x30,
                rng.byte()
            ]
        );
        t.window = rng.u16();
        t.urgent = pick!(rng, [0, 0, 0, rng.u16()]);
        if !t.udp {
            let n = 4 * rng.below(11);
            t.tcp_options = pick!(rng, [vec![1; n], rng.bytes(n), t.tcp_options.clone()]);
        }
        t
    }

    fn header_len(&self) -> usize {
        20 + self.ip_options.len()
            + if self.udp {
                8
            } else {
                20 + self.tcp_options.len()
            }
    }

    fn build(&self) -> Vec<u8> {
        let ih = 20 + self.ip_options.len();
        let mut p = vec![0u8; ih];
        p[0] = 0x40 | (ih / 4) as u8;
        p[1] = self.tos;
        p[4..6].copy_from_slice(&self.id.to_be_bytes());
        p[6..8].copy_from_slice(&self.frag.to_be_bytes());
        p[8] = self.ttl;
        p[9] = if self.udp { 17 } else { 6 };
        p[12..16].copy_from_slice(&self.src);
        p[16..20].copy_from_slice(&self.dst);
        p[20..].copy_from_slice(&self.ip_options);
        p.extend_from_slice(&self.sport.to_be_bytes());
        p.extend_from_slice(&self.dport.to_be_bytes());
        if !self.udp {
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ack.to_be_bytes());
            p.push((((20 + self.tcp_options.len()) / 4) << 4) as u8 | self.reserved);
            p.push(self.flags);
            p.extend_from_slice(&self.window.to_be_bytes());
            p.extend_from_slice(&[0, 0]);
            p.extend_from_slice(&self.urgent.to_be_bytes());
            p.extend_from_slice(&self.tcp_options);
        } else {
            p.extend_from_slice(&[0; 4]);
        }
        p.extend_from_slice(&self.payload);
        p.truncate(0xffff);
        checks::fixup(&p)
    }

    /// The next segment of the flow, with `payload_len` bytes.
    fn next(&self, payload_len: usize) -> Tcp {
        let mut t = self.clone();
        t.id = t.id.wrapping_add(1);
        t.seq = t.seq.wrapping_add(self.payload.len() as u32);
        let base = self.payload.last().copied().unwrap_or(0);
        t.payload = (0..payload_len)
            .map(|i| base.wrapping_add((i as u8).wrapping_mul(13).wrapping_add(1)))
            .collect();
        t
    }
}

/// A GRO stream input of (tag, packet) pairs, as literal packets.
fn gro_input(packets: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![GRO];
    for (tag, p) in packets {
        v.push((*tag as u8 & 3) << 4);
        v.extend_from_slice(&(p.len() as u16).to_be_bytes());
        v.extend_from_slice(p);
    }
    v
}

fn with_selector(sel: u8, head: &[u8], p: &[u8]) -> Vec<u8> {
    let mut v = vec![sel];
    v.extend_from_slice(head);
    v.extend_from_slice(p);
    v
}

// ------------------------------------------------------------------------- running

/// FNV-1a, to name seed files.
fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

struct Runner {
    inputs: usize,
    reached: Reached,
    failures: Failures,
    /// `MIP_FUZZ_SEEDS`: where to write some of the inputs as a seed corpus.
    seeds: Option<std::path::PathBuf>,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            inputs: 0,
            reached: Reached::default(),
            failures: Failures::new(),
            seeds: std::env::var_os("MIP_FUZZ_SEEDS").map(|d| {
                let d = std::path::PathBuf::from(d).join("offload");
                std::fs::create_dir_all(&d).unwrap();
                d
            }),
        }
    }

    fn run(&mut self, origin: &str, input: &[u8]) {
        self.inputs += 1;
        if let Some(dir) = &self.seeds {
            // Seed corpus for `cargo fuzz run offload <dir>/offload`: every 10th input.
            if self.inputs.is_multiple_of(10) && input.len() <= 20_000 {
                let name = format!("{:016x}", fnv1a(input));
                std::fs::write(dir.join(name), input).unwrap();
            }
        }
        if let Some(r) = self
            .failures
            .check(origin, input, || checks::offload_reached(input))
        {
            self.reached.add(&r);
        }
    }

    /// Runs `input`, and a mutated or truncated copy of it (lengths and checksums of the
    /// packets recomputed for half of those) a third of the time.
    fn run_mutated(&mut self, rng: &mut XorShift, origin: &str, input: &[u8]) {
        self.run(origin, input);
        if !rng.chance(1, 3) || input.len() < 2 {
            return;
        }
        let mut m = input.to_vec();
        if rng.chance(1, 4) {
            m.truncate(1 + rng.below(m.len() - 1));
        } else {
            for _ in 0..1 + rng.below(3) {
                let at = 1 + rng.below(m.len() - 1);
                m[at] = if rng.chance(1, 2) {
                    m[at] ^ (1 << rng.below(8))
                } else {
                    rng.byte()
                };
            }
        }
        if rng.chance(1, 2) {
            m[0] |= FIXUP;
        }
        self.run(&format!("{origin}, mutated"), &m);
    }

    fn assert_no_failures(&self, name: &str, start: Instant) {
        println!(
            "{name}: {} inputs in {:?}; {:?}",
            self.inputs,
            start.elapsed(),
            self.reached
        );
        self.failures.assert_none(name);
    }
}

// -------------------------------------------------------------------------- generators

fn gen_vnet(rng: &mut XorShift) -> Vec<u8> {
    let n = rng.below(14);
    with_selector(VNET, &[], &rng.bytes(n))
}

fn gen_packet(rng: &mut XorShift, max_payload: usize) -> (Tcp, Vec<u8>) {
    let n = rng.len(max_payload);
    let t = Tcp::random(rng, n);
    let mut p = t.build();
    match rng.below(10) {
        0 => p[2..4].copy_from_slice(&[0, 0]), // total length 0 (GSO beyond 64 KB)
        1 => {
            // total length shorter than the buffer (trailing bytes)
            let h = t.header_len().min(p.len());
            let total = (h + rng.below(p.len() - h + 1)) as u16;
            p[2..4].copy_from_slice(&total.to_be_bytes());
        }
        2 => p[2..4].copy_from_slice(&rng.u16().to_be_bytes()),
        3 => {
            let n = rng.below(8);
            p.extend(rng.bytes(n)); // link-layer padding
        }
        _ => {}
    }
    (t, p)
}

fn gen_partial(rng: &mut XorShift) -> Vec<u8> {
    let (t, mut p) = gen_packet(rng, 3000);
    let ih = 20 + t.ip_options.len();
    let off = if t.udp { 6 } else { 16 };
    let (start, offset) = match rng.below(4) {
        0 => (rng.below(p.len() + 4), rng.below(p.len() + 4)),
        1 => (rng.u16().into(), rng.u16().into()),
        _ => (ih, off),
    };
    if start == ih && offset == off && rng.chance(3, 4) && p.len() >= ih + off + 2 {
        // As the kernel hands it: the pseudo-header sum in the checksum field.
        let s = pseudo_sum(&p[12..20], p[9], (p.len() - ih) as u16);
        p[ih + off..ih + off + 2].copy_from_slice(&s.to_be_bytes());
    }
    let mut head = (start as u16).to_be_bytes().to_vec();
    head.extend_from_slice(&(offset as u16).to_be_bytes());
    with_selector(PARTIAL, &head, &p)
}

/// The (non-complemented) ones'-complement sum of the pseudo-header.
fn pseudo_sum(addrs: &[u8], proto: u8, len: u16) -> u16 {
    let mut s: u32 = 0;
    for w in addrs.chunks(2) {
        s += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    s += u32::from(proto) + u32::from(len);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn gen_segment(rng: &mut XorShift) -> Vec<u8> {
    let (t, p) = gen_packet(rng, 65535);
    let payload = p.len().saturating_sub(t.header_len());
    // No more than ~300 segments (debug-mode run time).
    let min = payload / 300 + 1;
    let mss = match rng.below(6) {
        0 => pick!(rng, [536, 1448, 1460, 8948, 65495, 65535]),
        1 => min + rng.below(8),
        2 => payload.max(1) + rng.below(3),
        3 => pick!(rng, [0, 1, 2]),
        _ => min + rng.below(payload + 1),
    };
    let mss = if mss < min && rng.chance(9, 10) {
        min
    } else {
        mss
    };
    with_selector(SEGMENT, &(mss as u16).to_be_bytes(), &p)
}

fn gen_super(rng: &mut XorShift) -> Vec<u8> {
    let (t, mut p) = gen_packet(rng, 65535);
    if rng.chance(3, 4) {
        // What GRO left: a whole packet, the TCP checksum partial or stale.
        let l = (p.len() as u16).to_be_bytes();
        p[2..4].copy_from_slice(&l);
    }
    let h = t.header_len();
    let mtu = match rng.below(6) {
        0 => pick!(rng, [576, 1280, 1500, 9000, 65535]),
        1 => h + rng.below(4),
        2 => p.len().saturating_sub(rng.below(3)),
        3 => (p.len() / (1 + rng.below(300))).max(h + 1),
        _ => (h + 1 + rng.below(p.len().max(1))).max(p.len() / 300),
    };
    with_selector(SUPER, &(mtu.min(65535) as u16).to_be_bytes(), &p)
}

/// A run of consecutive segments of one flow, possibly disturbed.
fn gen_gro(rng: &mut XorShift) -> (String, Vec<u8>) {
    let udp = rng.chance(1, 4);
    let m = MAX_SEGMENTS;
    let (mss, count) = match rng.below(24) {
        0..=11 => (
            pick!(rng, [1, 2, 100, 536, 1448, rng.below(1500) + 1]),
            1 + rng.below(10),
        ),
        12..=14 => (
            pick!(rng, [1, 2, 3, 40, 100]),
            pick!(
                rng,
                [m - 1, m, m, m + 1, m + 3, 2 * m + 1, 100 + rng.below(50)]
            ),
        ),
        15..=22 => (
            pick!(rng, [536, 1448, rng.below(1500) + 1]),
            2 + rng.below(20),
        ),
        _ => (pick!(rng, [8948, 16000, 32000, 65495]), 1 + rng.below(12)),
    };
    let mut first = if udp { Tcp::udp(mss) } else { Tcp::new(mss) };
    first.id = pick!(rng, [1000, 0xffff - rng.below(4) as u16, rng.u16()]);
    first.seq = pick!(rng, [7, u32::MAX - rng.below(3000) as u32, rng.u32()]);
    first.urgent = pick!(rng, [0, 0, rng.u16()]);
    if rng.chance(1, 4) && mss < 65000 {
        first.tcp_options = pick!(rng, [vec![], vec![1; 4], vec![1; 40]]);
    }
    let mut name = format!("GRO {} mss {mss} x{count}", if udp { "UDP" } else { "TCP" });
    // Up to two disturbances, anywhere in the run.
    let disturb: Vec<(usize, usize)> = (0..pick!(rng, [0, 0, 1, 1, 2]))
        .map(|_| (rng.below(count), rng.below(9)))
        .collect();
    let mut packets = Vec::new();
    let mut t = first;
    let other_tag = rng.chance(1, 6);
    for i in 0..count {
        if i > 0 {
            let last = i + 1 == count;
            let n = if last && rng.chance(1, 2) {
                1 + rng.below(mss)
            } else {
                mss
            };
            t = t.next(n);
            t.flags = 0x10;
            if last && rng.chance(1, 2) {
                t.flags = 0x18; // PSH on the last
            }
        }
        for &(_, kind) in disturb.iter().filter(|d| d.0 == i) {
            match kind {
                0 => {
                    name += &format!(", gap at {i}");
                    t.seq = t.seq.wrapping_add(1);
                }
                1 => {
                    name += &format!(", PSH at {i}");
                    t.flags = 0x18;
                }
                2 => {
                    name += &format!(", ID gap at {i}");
                    t.id = t.id.wrapping_add(1);
                }
                3 => {
                    name += &format!(", short at {i}");
                    t.payload.truncate(t.payload.len() / 2);
                }
                4 => {
                    name += &format!(", urgent pointer at {i}");
                    t.urgent = rng.u16();
                }
                5 => {
                    name += &format!(", other flow at {i}");
                    let n = rng.below(200);
                    let mut o = Tcp::random(rng, n);
                    o.frag = 0x4000;
                    packets.push((rng.below(4) as u32, o.build()));
                }
                6 => {
                    name += &format!(", TOS/TTL/window/ack change at {i}");
                    match rng.below(4) {
                        0 => t.tos ^= 4,
                        1 => t.ttl ^= 1,
                        2 => t.window ^= 1,
                        _ => t.ack ^= 1,
                    }
                }
                7 => {
                    name += &format!(", flags {:#x} at {i}", t.flags);
                    t.flags = pick!(rng, [0x11, 0x12, 0x30, 0x50, 0x90, 0x00, 0x08]);
                }
                _ => {
                    name += &format!(", option changed at {i}");
                    if let Some(b) = t.tcp_options.last_mut() {
                        *b ^= 1;
                    }
                }
            }
        }
        let mut p = t.build();
        if rng.chance(1, 200) {
            name += &format!(", packet {i} byte flipped");
            let at = rng.below(p.len());
            p[at] ^= 1 << rng.below(8);
            if rng.chance(1, 2) {
                p = checks::fixup(&p);
            }
        }
        let tag = if other_tag && rng.chance(1, 8) { 2 } else { 1 };
        packets.push((tag, p));
        if i == 0 && rng.chance(1, 40) {
            name += ", same packet twice";
            packets.push((tag, packets[0].1.clone()));
        }
    }
    let mut input = gro_input(&packets);
    if rng.chance(1, 8) {
        // Some "next segment" ops, as a fuzzer would write them.
        for _ in 0..rng.below(6) + 1 {
            input.push(OP_NEXT | (1 << 4) | (rng.byte() & 0x0f));
            let n = pick!(rng, [mss as u16, mss as u16, rng.u16() & 0x7ff]);
            input.extend_from_slice(&n.to_be_bytes());
            input.push(pick!(rng, [0x10, 0x18, rng.byte()]));
        }
        name += ", with next-segment ops";
    }
    (name, input)
}

/// Packets that the coalescer must pass through, mixed with coalescible ones.
fn gen_gro_mixed(rng: &mut XorShift) -> Vec<u8> {
    let mut packets = Vec::new();
    for _ in 0..rng.below(8) + 1 {
        let n = rng.len(3000);
        let mut t = Tcp::random(rng, n);
        if rng.chance(1, 2) {
            t.frag = 0x4000;
            t.ip_options.clear();
            t.flags = pick!(rng, [0x10, 0x18, t.flags]);
            t.dst = [10, 9, 9, 9];
        }
        let mut p = t.build();
        if rng.chance(1, 4) {
            p.truncate(rng.below(p.len() + 1));
        }
        packets.push((rng.below(4) as u32, p));
    }
    gro_input(&packets)
}

/// `t` with its first payload word adjusted so that its TCP or UDP checksum computes to
/// 0x0000: the TCP field reads 0x0000, the UDP field 0xffff (a UDP zero is sent as 0xffff).
fn zero_checksum(t: &mut Tcp) -> Vec<u8> {
    let at = 20 + t.ip_options.len() + if t.udp { 6 } else { 16 };
    let p = t.build();
    let c = u16::from_be_bytes([p[at], p[at + 1]]);
    // Adding the checksum to a payload word (ones' complement) makes the rest sum to 0xffff.
    let w = u16::from_be_bytes([t.payload[0], t.payload[1]]);
    let (s, carry) = w.overflowing_add(c);
    t.payload[..2].copy_from_slice(&(s + u16::from(carry)).to_be_bytes());
    let p = t.build();
    let want = if t.udp { [0xff, 0xff] } else { [0, 0] };
    assert_eq!(p[at..at + 2], want, "the checksum should compute to 0");
    p
}

/// The TCP packet `t` with the checksum field `0xffff` instead of the computed `0x0000`
/// (both verify).
fn negative_zero(t: &mut Tcp) -> Vec<u8> {
    let mut p = zero_checksum(t);
    let at = 20 + t.ip_options.len() + 16;
    p[at..at + 2].copy_from_slice(&[0xff, 0xff]);
    p
}

/// `p` with the pseudo-header sum in its checksum field (as the kernel hands a packet with
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`), as a `PARTIAL` input.
fn partial_input(p: &[u8], udp: bool) -> Vec<u8> {
    let ih = usize::from(p[0] & 0x0f) * 4;
    let off = if udp { 6 } else { 16 };
    let mut p = p.to_vec();
    let ps = pseudo_sum(&p[12..20], p[9], (p.len() - ih) as u16);
    p[ih + off..ih + off + 2].copy_from_slice(&ps.to_be_bytes());
    let mut head = (ih as u16).to_be_bytes().to_vec();
    head.extend_from_slice(&(off as u16).to_be_bytes());
    with_selector(PARTIAL, &head, &p)
}

// ------------------------------------------------------------------------------ tests

#[test]
fn offload_corpus() {
    let start = Instant::now();
    let mut rng = XorShift::new(0x4f46_464c_4f41_4431);
    let mut runner = Runner::new();
    for i in 0..1000 {
        let input = gen_vnet(&mut rng);
        runner.run(&format!("vnet #{i}"), &input);
    }
    for i in 0..2500 {
        let input = gen_partial(&mut rng);
        runner.run_mutated(&mut rng, &format!("partial #{i}"), &input);
    }
    for i in 0..2500 {
        let input = gen_segment(&mut rng);
        runner.run_mutated(&mut rng, &format!("segment #{i}"), &input);
    }
    for i in 0..2500 {
        let input = gen_super(&mut rng);
        runner.run_mutated(&mut rng, &format!("super #{i}"), &input);
    }
    for i in 0..3500 {
        let (name, input) = gen_gro(&mut rng);
        runner.run_mutated(&mut rng, &format!("gro #{i}: {name}"), &input);
    }
    for i in 0..1000 {
        let input = gen_gro_mixed(&mut rng);
        runner.run_mutated(&mut rng, &format!("gro mixed #{i}"), &input);
    }
    for i in 0..2500 {
        let n = rng.len(600);
        let mut input = rng.bytes(n);
        if let Some(b) = input.first_mut() {
            *b &= 0x0f;
        }
        runner.run(&format!("random #{i}"), &input);
    }
    runner.assert_no_failures("offload_corpus", start);
    // The corpus must reach the interesting paths, not just the refusals.
    let r = runner.reached;
    println!("{} inputs", runner.inputs);
    assert!(runner.inputs >= 15_000, "{} inputs", runner.inputs);
    for (what, n, min) in [
        ("VnetHdr parsed", r.vnet_parsed, 100),
        ("partial checksums finished", r.partial_done, 1000),
        ("packets segmented", r.segmented, 1500),
        ("into more than one segment", r.segmented_multi, 700),
        ("received super-segments", r.super_accepted, 700),
        ("GRO TCP super-segments", r.gro_tcp_multi, 1500),
        ("GRO UDP super-segments", r.gro_udp_multi, 500),
        ("GRO passed packets", r.gro_passed, 1000),
        ("GRO closed at MAX_SEGMENTS", r.gro_max_segments, 50),
        ("GRO closed near MAX_SUPER", r.gro_near_max_super, 20),
    ] {
        assert!(n >= min, "only {n} {what}");
    }
}

/// Edge cases of the coalescer, pinned.
#[test]
fn gro_edge_cases() {
    let start = Instant::now();
    let mut runner = Runner::new();
    let run = |runner: &mut Runner, name: &str, segs: &[Tcp]| {
        let packets: Vec<(u32, Vec<u8>)> = segs.iter().map(|t| (1, t.build())).collect();
        runner.run(name, &gro_input(&packets));
    };
    let run_fn = |n: usize, mss: usize, first: Tcp| -> Vec<Tcp> {
        let mut v = vec![first];
        for _ in 1..n {
            let next = v.last().unwrap().next(mss);
            v.push(next);
        }
        v
    };
    // Sizes around MAX_SUPER: 40 + k * mss just under, at and over 65535.
    for mss in [1448usize, 16374, 21831, 21832, 32747, 32748, 65495] {
        for n in [2, 3, 4, 5, 46] {
            let mut first = Tcp::new(mss);
            first.tcp_options.clear();
            run(
                &mut runner,
                &format!("TCP {n} x {mss}"),
                &run_fn(n, mss, first),
            );
        }
    }
    for mss in [1, 2, 3] {
        run(
            &mut runner,
            &format!("TCP {} x {mss}", MAX_SEGMENTS * 2 + 1),
            &run_fn(MAX_SEGMENTS * 2 + 1, mss, Tcp::new(mss)),
        );
        run(
            &mut runner,
            &format!("UDP {} x {mss}", MAX_SEGMENTS * 2 + 1),
            &run_fn(MAX_SEGMENTS * 2 + 1, mss, Tcp::udp(mss)),
        );
    }
    // Identification and sequence numbers wrapping around.
    let mut first = Tcp::new(1000);
    first.id = 0xfffe;
    first.seq = u32::MAX - 1500;
    run(&mut runner, "wrap", &run_fn(5, 1000, first));
    // A TCP checksum of 0xffff where 0x0000 is computed: both verify.
    let mut t = Tcp::new(100);
    let nz = negative_zero(&mut t);
    let next = t.next(100).build();
    let packets = vec![(1, nz.clone()), (1, next)];
    runner.run("negative zero TCP checksum", &gro_input(&packets));
    let packets = vec![(1, nz), (2, Tcp::new(5).build())];
    runner.run("negative zero TCP checksum, alone", &gro_input(&packets));
    // A UDP checksum computing to 0 (sent as 0xffff), first and in the middle of a run.
    for at in [0, 1, 2] {
        let mut segs = run_fn(3, 200, Tcp::udp(200));
        let p = zero_checksum(&mut segs[at]);
        let mut packets: Vec<(u32, Vec<u8>)> = segs.iter().map(|t| (1, t.build())).collect();
        packets[at].1 = p;
        runner.run(&format!("UDP zero checksum at {at}"), &gro_input(&packets));
    }
    // Urgent pointers that differ (URG clear).
    let mut segs = run_fn(3, 500, Tcp::new(500));
    segs[1].urgent = 0x1234;
    run(&mut runner, "urgent pointer differs", &segs);
    let mut segs = run_fn(3, 500, Tcp::new(500));
    segs[0].urgent = 0x1234;
    run(&mut runner, "urgent pointer of the first differs", &segs);
    // Found by cargo fuzz (a harness bug): "next segment" ops after a TCP packet whose data
    // offset is 2 (8 bytes).
    let crash = hex_bytes(
        "0410003445000034fffd400040061db2f70100020a0909099c401451000000070000004d2b1001f4cf5b\
         d7700101080a0000000100000002970001109d0001189a0001b9",
    );
    runner.run(
        "cargo fuzz: next segment after an 8-byte TCP header",
        &crash,
    );
    runner.assert_no_failures("gro_edge_cases", start);
    assert!(
        runner.reached.gro_near_max_super >= 5,
        "{:?}",
        runner.reached
    );
    assert!(runner.reached.gro_max_segments >= 6, "{:?}", runner.reached);
}

/// The other entry points' edge cases, pinned.
#[test]
fn segment_and_super_edge_cases() {
    let start = Instant::now();
    let mut runner = Runner::new();
    let p = Tcp::new(10_000).build();
    for mss in [0u16, 1448, 9999, 10_000, 10_001, 65535] {
        runner.run(
            &format!("segment mss {mss}"),
            &with_selector(SEGMENT, &mss.to_be_bytes(), &p),
        );
    }
    let empty = Tcp::new(0).build();
    runner.run(
        "segment, no payload",
        &with_selector(SEGMENT, &[5, 0xdc], &empty),
    );
    for mtu in [0u16, 51, 52, 53, 1500, 10_051, 10_052, 10_053, 65535] {
        runner.run(
            &format!("super mtu {mtu}"),
            &with_selector(SUPER, &mtu.to_be_bytes(), &p),
        );
    }
    let mut cwr = Tcp::new(5000);
    cwr.flags = 0x80 | 0x18 | 0x01;
    let p = cwr.build();
    runner.run(
        "super with CWR",
        &with_selector(SUPER, &1500u16.to_be_bytes(), &p),
    );
    runner.run(
        "segment with CWR",
        &with_selector(SEGMENT, &1448u16.to_be_bytes(), &p),
    );
    // Partial checksums that complete to 0: TCP stores 0x0000, UDP 0xffff.
    let tcp0 = zero_checksum(&mut Tcp::new(300));
    runner.run(
        "partial TCP checksum completing to 0",
        &partial_input(&tcp0, false),
    );
    let udp0 = zero_checksum(&mut Tcp::udp(300));
    runner.run(
        "partial UDP checksum completing to 0",
        &partial_input(&udp0, true),
    );
    for t in [Tcp::new(1), Tcp::new(1001), Tcp::udp(1), Tcp::udp(999)] {
        runner.run("partial checksum", &partial_input(&t.build(), t.udp));
    }
    runner.assert_no_failures("segment_and_super_edge_cases", start);
    assert_eq!(runner.reached.partial_done, 6, "{:?}", runner.reached);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
