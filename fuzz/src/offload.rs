//! Properties of `mip_io::net::offload`, checked on arbitrary bytes.
//!
//! Not part of the `mip-fuzz` library (which must stay `mip-wire`-only, because
//! `crates/mip-wire/tests/corpus.rs` includes it): the `offload` target includes this file
//! with `#[path]`, and so does the stable corpus test `crates/mip-io/tests/offload_corpus.rs`,
//! so both check exactly the same properties.
//!
//! The first byte of the input selects what runs ([`KIND_MASK`]; [`FIXUP`] asks for the
//! packet's lengths and checksums to be recomputed first, so that the fuzzer gets past
//! them), the rest is the input:
//!
//! * [`VNET`]: `VnetHdr::parse` reads the little-endian fields, `to_bytes` gives the bytes
//!   back, and `parse(to_bytes(h)) == h`;
//! * [`PARTIAL`]: `start` (2 bytes, big-endian), `offset` (2 bytes), the packet:
//!   `finish_partial_checksum` succeeds exactly when the field fits, changes only the field,
//!   and stores the complemented ones'-complement sum of `packet[start..]` (a reference
//!   implementation, not the module's `csum_add`), `0xffff` for a UDP zero;
//! * [`SEGMENT`]: `mss` (2 bytes), the packet: `segment_tcp4` succeeds exactly when the
//!   headers and IP total length are sane; then it emits `max(1, ⌈payload / mss⌉)` segments,
//!   each a well-formed IPv4/TCP packet (total length = its length ≤ headers + mss, valid IP
//!   and TCP checksums, the input's headers otherwise, Identification +1 per segment,
//!   sequence number advanced by the payload before it, FIN/PSH on the last segment only,
//!   CWR on the first only), whose payloads put together are the input's payload;
//! * [`SUPER`]: `mtu` (2 bytes), the packet: `received_super_tcp4` accepts exactly the
//!   packets its documentation describes; when it does, only the TCP checksum field changed
//!   (to the pseudo-header sum), the returned header is the expected one, completing the
//!   partial checksum as the header says gives a valid TCP checksum, and segmenting at
//!   `gso_size` gives segments of at most `mtu` bytes (and passes the [`SEGMENT`] checks);
//!   when it does not, the packet is untouched;
//! * [`GRO`] (and the kinds above it): a stream of packets for `Gro::push` (format in
//!   [`gro_packets`]), then `Gro::flush`. What comes out, in order (the held super-segments
//!   given to the flush callback and the packets `push` passes back), must be the packets
//!   that went in, in the same order: each flushed `Held` stands for the next `segments`
//!   packets, all pushed with its tag and answered [`Push::Held`]. Each has
//!   `buf.len() <= MAX_SUPER`, `1 <= segments <= MAX_SEGMENTS` and `inner_bytes()` equal to
//!   the bytes that went in. One segment: `buf` is the packet unchanged, `vnet_hdr()` is
//!   `GSO_NONE`. More: `buf` is the first packet's headers (total length, IP checksum and
//!   the L4 checksum field set to the pseudo-header sum, UDP length, PSH of the last
//!   segment) followed by the payloads; `vnet_hdr()` is `GSO_TCPV4`/`GSO_UDP_L4` with
//!   `gso_size` = the first payload, `hdr_len` = the headers, a partial checksum that
//!   completes into a valid one; every payload but the last is `gso_size` bytes (what the
//!   kernel's segmentation will cut); and `resegment()` gives back exactly the packets that
//!   went in, except that their IP header checksum and TCP checksum come back in canonical
//!   form (a received `0xffff` that verifies may come back `0x0000`, and an IP header
//!   checksum is recomputed, since `Gro` does not check it). The UDP checksum comes back
//!   exactly (a UDP checksum is never `0x0000`).
//!
//! Nothing may panic, whatever the input.

// Included by two crates that each use part of it (the fuzz target only calls `offload`).
#![allow(dead_code)]

use mip_io::net::offload::{
    finish_partial_checksum, received_super_tcp4, segment_tcp4, tcp4_checksum_ok, Gro, Held, Push,
    VnetHdr, F_NEEDS_CSUM, GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_UDP_L4, MAX_SEGMENTS, MAX_SUPER,
    VNET_HDR_LEN,
};

/// The bits of the first byte that select what runs.
pub const KIND_MASK: u8 = 0x07;
/// `VnetHdr::parse` / `to_bytes`.
pub const VNET: u8 = 0;
/// `finish_partial_checksum`.
pub const PARTIAL: u8 = 1;
/// `segment_tcp4`.
pub const SEGMENT: u8 = 2;
/// `received_super_tcp4`.
pub const SUPER: u8 = 3;
/// `Gro` (kinds 4 to 7: the fuzzer gets there more often).
pub const GRO: u8 = 4;
/// Flag on the first byte: recompute the packet's total length and checksums ([`fixup`])
/// before [`PARTIAL`], [`SEGMENT`] and [`SUPER`].
pub const FIXUP: u8 = 0x08;

/// In a [`GRO`] stream, the flag on a packet's op byte that makes it the next segment of the
/// previous packet (see [`gro_packets`]).
pub const OP_NEXT: u8 = 0x80;
/// Literal packet: recompute its lengths and checksums. Next segment: set the TCP flags.
pub const OP_FIX_OR_FLAGS: u8 = 0x01;
/// Next segment: leave a gap of one byte in the sequence numbers (TCP) or IDs (UDP).
pub const OP_GAP: u8 = 0x02;
/// Next segment: flip the low bit of a header byte (before the checksums are computed).
pub const OP_FLIP: u8 = 0x04;
/// Next segment: keep the previous packet's Identification (instead of +1).
pub const OP_SAME_ID: u8 = 0x08;

/// What the checks reached (for the corpus test's coverage assertions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// `VnetHdr::parse` gave a header.
    pub vnet_parsed: usize,
    /// `finish_partial_checksum` succeeded.
    pub partial_done: usize,
    /// `segment_tcp4` succeeded.
    pub segmented: usize,
    /// Segments it emitted, more than one.
    pub segmented_multi: usize,
    /// `received_super_tcp4` accepted the packet.
    pub super_accepted: usize,
    /// Packets pushed into `Gro`.
    pub gro_pushed: usize,
    /// Packets it passed back.
    pub gro_passed: usize,
    /// Flushed TCP super-segments of two segments or more.
    pub gro_tcp_multi: usize,
    /// Flushed UDP super-segments of two datagrams or more.
    pub gro_udp_multi: usize,
    /// Flushed super-segments closed by `MAX_SEGMENTS`.
    pub gro_max_segments: usize,
    /// Flushed super-segments within a segment of `MAX_SUPER`.
    pub gro_near_max_super: usize,
}

impl Reached {
    /// Adds `o` to `self`.
    pub fn add(&mut self, o: &Reached) {
        self.vnet_parsed += o.vnet_parsed;
        self.partial_done += o.partial_done;
        self.segmented += o.segmented;
        self.segmented_multi += o.segmented_multi;
        self.super_accepted += o.super_accepted;
        self.gro_pushed += o.gro_pushed;
        self.gro_passed += o.gro_passed;
        self.gro_tcp_multi += o.gro_tcp_multi;
        self.gro_udp_multi += o.gro_udp_multi;
        self.gro_max_segments += o.gro_max_segments;
        self.gro_near_max_super += o.gro_near_max_super;
    }
}

/// Checks every property that applies to `data` (panics when one fails).
pub fn offload(data: &[u8]) {
    offload_reached(data);
}

/// [`offload`], telling what it reached.
pub fn offload_reached(data: &[u8]) -> Reached {
    let mut r = Reached::default();
    let Some((&sel, rest)) = data.split_first() else {
        return r;
    };
    let fix = sel & FIXUP != 0;
    match sel & KIND_MASK {
        VNET => check_vnet(rest, &mut r),
        PARTIAL if rest.len() >= 4 => {
            let (start, offset) = (be16(rest, 0), be16(rest, 2));
            let p = maybe_fixup(&rest[4..], fix);
            check_partial(&p, start.into(), offset.into(), &mut r);
        }
        SEGMENT if rest.len() >= 2 => {
            let mss = usize::from(be16(rest, 0));
            // No IPv4 packet is longer (and the TUN device's GSO packets are bounded by it).
            let p = maybe_fixup(&rest[2..rest.len().min(2 + 0xffff)], fix);
            check_segment(&p, mss, &mut r);
        }
        SUPER if rest.len() >= 2 => {
            let mtu = usize::from(be16(rest, 0));
            let p = maybe_fixup(&rest[2..], fix);
            check_super(&p, mtu, &mut r);
        }
        PARTIAL | SEGMENT | SUPER => {}
        _ => check_gro(&gro_packets(rest), &mut r),
    }
    r
}

// ------------------------------------------------------------------------ helpers

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `got == want`, shown in hex (and where they first differ) when not.
#[track_caller]
fn same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: differs (lengths {} and {}, first difference at {at:?})\n  expected {}\n  got      {}",
            want.len(),
            got.len(),
            hex(want),
            hex(got)
        );
    }
}

/// Reference ones'-complement sum (RFC 1071) of the bytes put together, as big-endian 16-bit
/// words, an odd last byte padded with zero; never 0 unless every byte is. Deliberately
/// plain (it checks the module's `csum_add`/`fold`), and cheap in debug builds.
fn ref_sum<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u16 {
    let mut s: u64 = 0;
    let mut odd: Option<u8> = None; // a byte waiting for its pair from the next part
    for part in parts {
        let mut i = 0;
        if let (Some(high), Some(&low)) = (odd, part.first()) {
            s += u64::from(high) << 8 | u64::from(low);
            odd = None;
            i = 1;
        }
        while i + 4 <= part.len() {
            s += u64::from(part[i]) << 24
                | u64::from(part[i + 1]) << 16
                | u64::from(part[i + 2]) << 8
                | u64::from(part[i + 3]);
            i += 4;
        }
        if i + 2 <= part.len() {
            s += u64::from(part[i]) << 8 | u64::from(part[i + 1]);
            i += 2;
        }
        if i < part.len() {
            odd = Some(part[i]);
        }
    }
    if let Some(high) = odd {
        s += u64::from(high) << 8;
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The IPv4 pseudo-header of `ip` for `protocol` and `len` bytes of L4 data.
fn pseudo(ip: &[u8], protocol: u8, len: usize) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..8].copy_from_slice(&ip[12..20]);
    h[9] = protocol;
    h[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    h
}

fn ihl(p: &[u8]) -> usize {
    usize::from(p[0] & 0x0f) * 4
}

/// Whether the IPv4 header checksum of `p` verifies.
fn ip_checksum_ok(p: &[u8]) -> bool {
    ref_sum([&p[..ihl(p)]]) == 0xffff
}

/// Whether the TCP (6) or UDP (17) checksum of the IPv4 packet `p` verifies.
fn l4_checksum_ok(p: &[u8], protocol: u8) -> bool {
    let h = ihl(p);
    ref_sum([&pseudo(p, protocol, p.len() - h)[..], &p[h..]]) == 0xffff
}

/// Sets the IPv4 header checksum of `p` to its canonical value.
fn set_ip_checksum_ref(p: &mut [u8]) {
    let h = ihl(p);
    p[10..12].copy_from_slice(&[0, 0]);
    let c = !ref_sum([&p[..h]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Sets the TCP or UDP checksum of the IPv4 packet `p` (UDP: a zero sent as `0xffff`).
fn set_l4_checksum_ref(p: &mut [u8], protocol: u8) {
    let h = ihl(p);
    let at = h + if protocol == 6 { 16 } else { 6 };
    p[at..at + 2].copy_from_slice(&[0, 0]);
    let mut c = !ref_sum([&pseudo(p, protocol, p.len() - h)[..], &p[h..]]);
    if c == 0 && protocol == 17 {
        c = 0xffff;
    }
    p[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// Recomputes what makes a packet pass the checks of the functions under test: for an
/// IPv4 packet of at most 65535 bytes with a whole header, its total length and header
/// checksum, and for TCP or UDP with a whole L4 header, the UDP length and the checksum.
/// Anything else comes back unchanged.
pub fn fixup(p: &[u8]) -> Vec<u8> {
    let mut v = p.to_vec();
    if v.len() < 20 || v[0] >> 4 != 4 || v.len() > 0xffff {
        return v;
    }
    let h = ihl(&v);
    if h < 20 || v.len() < h {
        return v;
    }
    let len = v.len() as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    set_ip_checksum_ref(&mut v);
    match v[9] {
        6 if v.len() >= h + 20 => set_l4_checksum_ref(&mut v, 6),
        17 if v.len() >= h + 8 => {
            let l = (v.len() - h) as u16;
            v[h + 4..h + 6].copy_from_slice(&l.to_be_bytes());
            set_l4_checksum_ref(&mut v, 17);
        }
        _ => {}
    }
    v
}

fn maybe_fixup(p: &[u8], fix: bool) -> Vec<u8> {
    if fix {
        fixup(p)
    } else {
        p.to_vec()
    }
}

// --------------------------------------------------------------------- VnetHdr

fn check_vnet(b: &[u8], r: &mut Reached) {
    let h = VnetHdr::parse(b);
    assert_eq!(
        h.is_some(),
        b.len() >= VNET_HDR_LEN,
        "parse of {} bytes",
        b.len()
    );
    let Some(h) = h else { return };
    r.vnet_parsed += 1;
    let le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let want = VnetHdr {
        flags: b[0],
        gso_type: b[1],
        hdr_len: le(2),
        gso_size: le(4),
        csum_start: le(6),
        csum_offset: le(8),
    };
    assert_eq!(h, want, "fields of {}", hex(&b[..VNET_HDR_LEN]));
    same(
        &h.to_bytes(),
        &b[..VNET_HDR_LEN],
        "VnetHdr::to_bytes(parse(b))",
    );
    assert_eq!(VnetHdr::parse(&h.to_bytes()), Some(h), "parse(to_bytes(h))");
}

// ------------------------------------------------------- finish_partial_checksum

fn check_partial(p: &[u8], start: usize, offset: usize, r: &mut Reached) {
    let mut q = p.to_vec();
    let done = finish_partial_checksum(&mut q, start, offset);
    let fits = start < p.len() && start + offset + 2 <= p.len();
    assert_eq!(
        done,
        fits,
        "finish_partial_checksum(len {}, {start}, {offset})",
        p.len()
    );
    if !done {
        same(&q, p, "packet after a refused finish_partial_checksum");
        return;
    }
    r.partial_done += 1;
    let at = start + offset;
    let mut c = !ref_sum([&p[start..]]);
    if c == 0 && offset == 6 {
        c = 0xffff;
    }
    let mut want = p.to_vec();
    want[at..at + 2].copy_from_slice(&c.to_be_bytes());
    same(&q, &want, "finish_partial_checksum");
    if p.len() >= 40 && p[0] >> 4 == 4 && p[9] == 6 && start == ihl(p) && offset == 16 {
        // The TCP convention: the field held the pseudo-header sum.
        let h = ihl(p);
        let ps = ref_sum([&pseudo(p, 6, p.len() - h)[..]]);
        if h >= 20 && h + 20 <= p.len() && be16(p, h + 16) == ps {
            assert!(l4_checksum_ok(&q, 6), "TCP checksum completed but invalid");
        }
    }
}

// ------------------------------------------------------------------ segment_tcp4

/// The header and payload bounds `segment_tcp4` must accept `p` with, or `None`.
fn segmentable(p: &[u8], mss: usize) -> Option<(usize, usize, usize)> {
    if p.len() < 20 || p[0] >> 4 != 4 || p[9] != 6 || mss == 0 {
        return None;
    }
    let ih = ihl(p);
    if ih < 20 || p.len() < ih + 20 {
        return None;
    }
    let th = usize::from(p[ih + 12] >> 4) * 4;
    if th < 20 || p.len() < ih + th {
        return None;
    }
    let total = match usize::from(be16(p, 2)) {
        0 => p.len(),
        t if t >= ih + th && t <= p.len() => t,
        _ => return None,
    };
    Some((ih, ih + th, total))
}

fn check_segment(p: &[u8], mss: usize, r: &mut Reached) -> Vec<Vec<u8>> {
    let expect = segmentable(p, mss);
    // A scratch buffer with leftovers: the segments must not depend on them.
    let mut scratch = vec![0xa5; 77];
    let mut segs: Vec<Vec<u8>> = Vec::new();
    let res = segment_tcp4(p, mss, &mut scratch, |s| segs.push(s.to_vec()));
    assert_eq!(
        res.is_ok(),
        expect.is_some(),
        "segment_tcp4(len {}, mss {mss}) = {res:?}",
        p.len()
    );
    let (Ok(n), Some((ih, hl, total))) = (res, expect) else {
        assert!(segs.is_empty(), "segments emitted before an error");
        return segs;
    };
    r.segmented += 1;
    let payload = &p[hl..total];
    assert_eq!(n, segs.len(), "returned count vs segments emitted");
    assert_eq!(n, payload.len().div_ceil(mss).max(1), "segment count");
    if n > 1 {
        r.segmented_multi += 1;
    }
    if total == p.len() {
        assert_eq!(
            tcp4_checksum_ok(p),
            l4_checksum_ok(p, 6),
            "tcp4_checksum_ok of the input"
        );
    }
    let id0 = be16(p, 4);
    let seq0 = be32(p, ih + 4);
    let flags = p[ih + 13];
    let mut joined = Vec::with_capacity(payload.len());
    for (i, s) in segs.iter().enumerate() {
        let what = format!("segment {i} of {n}");
        assert!(s.len() >= hl, "{what}: shorter than the headers");
        let chunk = &s[hl..];
        assert!(
            chunk.len() <= mss,
            "{what}: {} payload bytes > mss {mss}",
            chunk.len()
        );
        if i + 1 < n {
            assert_eq!(chunk.len(), mss, "{what}: not the last, but short");
        }
        assert_eq!(usize::from(be16(s, 2)), s.len(), "{what}: IP total length");
        assert!(ip_checksum_ok(s), "{what}: IP header checksum");
        assert!(l4_checksum_ok(s, 6), "{what}: TCP checksum");
        assert!(tcp4_checksum_ok(s), "{what}: tcp4_checksum_ok");
        let mut f = flags;
        if i + 1 < n {
            f &= !(0x01 | 0x08);
        }
        if i > 0 {
            f &= !0x80;
        }
        let mut want = p[..hl].to_vec();
        want[2..4].copy_from_slice(&(s.len() as u16).to_be_bytes());
        want[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
        want[10..12].copy_from_slice(&s[10..12]);
        let seq = seq0.wrapping_add(joined.len() as u32);
        want[ih + 4..ih + 8].copy_from_slice(&seq.to_be_bytes());
        want[ih + 13] = f;
        want[ih + 16..ih + 18].copy_from_slice(&s[ih + 16..ih + 18]);
        same(&s[..hl], &want, &format!("{what}: headers"));
        joined.extend_from_slice(chunk);
    }
    same(&joined, payload, "payloads of the segments put together");
    segs
}

// ------------------------------------------------------------ received_super_tcp4

/// The header length `received_super_tcp4` must accept `p` with, or `None`.
fn received_super(p: &[u8], mtu: usize) -> Option<(usize, usize)> {
    let n = p.len();
    if n <= mtu || !(40..=MAX_SUPER).contains(&n) || p[0] >> 4 != 4 || p[9] != 6 {
        return None;
    }
    let ih = ihl(p);
    if ih < 20 || usize::from(be16(p, 2)) != n || p[6] & 0x3f != 0 || p[7] != 0 {
        return None;
    }
    let th = usize::from(p.get(ih + 12)? >> 4) * 4;
    if th < 20 || n <= ih + th || mtu <= ih + th {
        return None;
    }
    Some((ih, ih + th))
}

fn check_super(p: &[u8], mtu: usize, r: &mut Reached) {
    let mut q = p.to_vec();
    let got = received_super_tcp4(&mut q, mtu);
    let expect = received_super(p, mtu);
    assert_eq!(
        got.is_some(),
        expect.is_some(),
        "received_super_tcp4(len {}, mtu {mtu}) = {got:?}",
        p.len()
    );
    let (Some(h), Some((ih, hl))) = (got, expect) else {
        same(&q, p, "packet after received_super_tcp4 said no");
        return;
    };
    r.super_accepted += 1;
    assert!(p.len() > mtu);
    let want_hdr = VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_TCPV4 | if p[ih + 13] & 0x80 != 0 { GSO_ECN } else { 0 },
        hdr_len: hl as u16,
        gso_size: (mtu - hl) as u16,
        csum_start: ih as u16,
        csum_offset: 16,
    };
    assert_eq!(h, want_hdr, "the header received_super_tcp4 returned");
    let mut want = p.to_vec();
    let ps = ref_sum([&pseudo(p, 6, p.len() - ih)[..]]);
    want[ih + 16..ih + 18].copy_from_slice(&ps.to_be_bytes());
    same(&q, &want, "packet prepared by received_super_tcp4");
    assert!(
        finish_partial_checksum(&mut q, h.csum_start.into(), h.csum_offset.into()),
        "finish_partial_checksum refused the header received_super_tcp4 gave"
    );
    assert!(l4_checksum_ok(&q, 6), "completed TCP checksum");
    assert!(tcp4_checksum_ok(&q), "tcp4_checksum_ok after completion");
    let segs = check_segment(&q, h.gso_size.into(), r);
    assert!(
        !segs.is_empty(),
        "segment_tcp4 refused a received super-segment"
    );
    for (i, s) in segs.iter().enumerate() {
        assert!(s.len() <= mtu, "segment {i}: {} bytes > mtu {mtu}", s.len());
    }
}

// --------------------------------------------------------------------------- Gro

/// Splits a [`GRO`] input into tagged packets. Each packet starts with an op byte whose
/// bits 4 and 5 are the tag:
///
/// * op without [`OP_NEXT`]: a literal packet, a 2-byte big-endian length (cut to what is
///   left), the bytes; [`OP_FIX_OR_FLAGS`]: recompute its lengths and checksums ([`fixup`]);
/// * op with [`OP_NEXT`]: 2-byte payload length `n` and a byte `x`: the next segment of the
///   previous packet's flow (skipped when there is no previous TCP or UDP packet with whole
///   headers): its headers, Identification + 1 ([`OP_SAME_ID`]: the same), TCP sequence
///   number after the previous payload ([`OP_GAP`]: one more; for UDP, ID + 2), `n` bytes of
///   payload made from `x`, TCP flags `x` with [`OP_FIX_OR_FLAGS`], the low bit of header
///   byte `x % headers` flipped with [`OP_FLIP`]; lengths and checksums recomputed.
pub fn gro_packets(mut b: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut budget = 1 << 20; // bytes built: keeps one input cheap for the fuzzer
    while let Some((&op, rest)) = b.split_first() {
        if rest.len() < 2 {
            break;
        }
        let tag = u32::from((op >> 4) & 3);
        let n = usize::from(be16(rest, 0));
        if op & OP_NEXT == 0 {
            let n = n.min(rest.len() - 2);
            let p = &rest[2..2 + n];
            b = &rest[2 + n..];
            out.push((tag, maybe_fixup(p, op & OP_FIX_OR_FLAGS != 0)));
            continue;
        }
        let Some(&x) = rest.get(2) else { break };
        b = &rest[3..];
        let Some((_, prev)) = out.last() else {
            continue;
        };
        let Some(p) = next_segment(prev, op, n, x) else {
            continue;
        };
        if p.len() > budget {
            break;
        }
        budget -= p.len();
        out.push((tag, p));
    }
    out
}

/// The segment after `prev` (see [`gro_packets`]).
fn next_segment(prev: &[u8], op: u8, n: usize, x: u8) -> Option<Vec<u8>> {
    if prev.len() < 20 || prev[0] >> 4 != 4 {
        return None;
    }
    let ih = ihl(prev);
    let hl = match prev[9] {
        6 if ih >= 20 && prev.len() >= ih + 20 => {
            let th = usize::from(prev[ih + 12] >> 4) * 4;
            if th < 20 {
                return None;
            }
            ih + th
        }
        17 if ih >= 20 => ih + 8,
        _ => return None,
    };
    if prev.len() < hl {
        return None;
    }
    let n = n.min(0xffff - hl);
    let mut p = prev[..hl].to_vec();
    p.extend((0..n).map(|i| x.wrapping_add((i as u8).wrapping_mul(31))));
    let gap = usize::from(op & OP_GAP != 0);
    let step: u16 = match (op & OP_SAME_ID != 0, gap == 1 && prev[9] == 17) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    };
    let id = be16(prev, 4).wrapping_add(step);
    p[4..6].copy_from_slice(&id.to_be_bytes());
    if prev[9] == 6 {
        let seq = be32(prev, ih + 4).wrapping_add((prev.len() - hl + gap) as u32);
        p[ih + 4..ih + 8].copy_from_slice(&seq.to_be_bytes());
        if op & OP_FIX_OR_FLAGS != 0 {
            p[ih + 13] = x;
        }
    }
    if op & OP_FLIP != 0 {
        p[usize::from(x) % hl] ^= 1;
    }
    Some(fixup(&p))
}

/// What came out of the coalescer, in order.
enum Out {
    /// A held super-segment given to the flush callback.
    Flushed(Flushed),
    /// `push` answered [`Push::Pass`] for packet `i`.
    Passed(usize),
}

/// What the flush callback saw of a [`Held`].
struct Flushed {
    tag: u32,
    segments: usize,
    buf: Vec<u8>,
    vnet: VnetHdr,
    inner_bytes: usize,
    resegmented: Vec<Vec<u8>>,
}

fn capture(h: &Held) -> Flushed {
    assert!(h.segments >= 1, "a Held of {} segments", h.segments);
    let mut scratch = vec![0x5a; 33];
    let mut resegmented = Vec::new();
    h.resegment(&mut scratch, |s| resegmented.push(s.to_vec()));
    Flushed {
        tag: h.tag,
        segments: h.segments,
        buf: h.buf.clone(),
        vnet: h.vnet_hdr(),
        inner_bytes: h.inner_bytes(),
        resegmented,
    }
}

fn check_gro(packets: &[(u32, Vec<u8>)], r: &mut Reached) {
    let mut gro = Gro::new();
    let mut out: Vec<Out> = Vec::new();
    let mut answers = Vec::with_capacity(packets.len());
    for (i, (tag, p)) in packets.iter().enumerate() {
        let a = gro.push(*tag, p, |h| out.push(Out::Flushed(capture(h))));
        match a {
            Push::Pass => {
                assert!(
                    !gro.is_holding(),
                    "packet {i} passed, but something is held"
                );
                out.push(Out::Passed(i));
            }
            Push::Held => assert!(gro.is_holding(), "packet {i} held, but nothing is"),
        }
        answers.push(a);
    }
    gro.flush(|h| out.push(Out::Flushed(capture(h))));
    assert!(!gro.is_holding(), "held after flush");
    r.gro_pushed += packets.len();

    let mut next = 0;
    for o in &out {
        match o {
            Out::Passed(i) => {
                assert_eq!(*i, next, "packet {i} passed back out of order");
                r.gro_passed += 1;
                next += 1;
            }
            Out::Flushed(f) => {
                let k = f.segments;
                assert!(
                    next + k <= packets.len(),
                    "a Held of {k} segments, but only {} packets were pushed after packet {next}",
                    packets.len() - next
                );
                let span = next..next + k;
                for i in span.clone() {
                    assert_eq!(answers[i], Push::Held, "packet {i} in a Held but passed");
                    assert_eq!(packets[i].0, f.tag, "packet {i}'s tag vs the Held's");
                }
                let ins: Vec<&[u8]> = packets[span].iter().map(|(_, p)| &p[..]).collect();
                check_flushed(f, &ins, next, r);
                next += k;
            }
        }
    }
    assert_eq!(next, packets.len(), "packets pushed but never given back");
}

/// Checks one flushed `Held` against the packets `ins` (starting at packet `first`) that
/// went into it.
fn check_flushed(f: &Flushed, ins: &[&[u8]], first: usize, r: &mut Reached) {
    let k = f.segments;
    let what = format!("Held of packets {first}..{}", first + k);
    assert!(k <= MAX_SEGMENTS, "{what}: {k} segments > MAX_SEGMENTS");
    assert!(
        f.buf.len() <= MAX_SUPER,
        "{what}: {} bytes > MAX_SUPER",
        f.buf.len()
    );
    let inner: usize = ins.iter().map(|p| p.len()).sum();
    assert_eq!(f.inner_bytes, inner, "{what}: inner_bytes()");
    assert_eq!(f.resegmented.len(), k, "{what}: resegment() packet count");
    if k == 1 {
        same(&f.buf, ins[0], &format!("{what}: buf of a single segment"));
        assert_eq!(
            f.vnet,
            VnetHdr::default(),
            "{what}: vnet_hdr() of a single segment"
        );
        assert_eq!(f.vnet.gso_type, GSO_NONE);
        same(&f.resegmented[0], ins[0], &format!("{what}: resegment()"));
        return;
    }
    let p0 = ins[0];
    // Only IPv4 without options, TCP or UDP, is coalesced.
    assert!(
        p0.len() >= 28 && p0[0] == 0x45,
        "{what}: coalesced a non-IPv4 packet or one with IP options"
    );
    let proto = p0[9];
    let hl = match proto {
        6 => 20 + usize::from(p0[32] >> 4) * 4,
        17 => 28,
        _ => panic!("{what}: coalesced protocol {proto}"),
    };
    if proto == 6 {
        r.gro_tcp_multi += 1;
    } else {
        r.gro_udp_multi += 1;
    }
    if k == MAX_SEGMENTS {
        r.gro_max_segments += 1;
    }
    let mss = p0.len().saturating_sub(hl);
    if f.buf.len() + mss > MAX_SUPER {
        r.gro_near_max_super += 1;
    }
    let (gso_type, csum_offset) = if proto == 6 {
        (GSO_TCPV4, 16)
    } else {
        (GSO_UDP_L4, 6)
    };
    let want = VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type,
        hdr_len: hl as u16,
        gso_size: mss as u16,
        csum_start: 20,
        csum_offset,
    };
    assert_eq!(f.vnet, want, "{what}: vnet_hdr()");
    // What the kernel's segmentation will cut: every payload but the last is gso_size.
    for (i, p) in ins.iter().enumerate() {
        assert!(
            p.len() > hl && p[9] == proto,
            "{what}: packet {i} has no payload or another protocol"
        );
        let n = p.len() - hl;
        if i + 1 < k {
            assert_eq!(n, mss, "{what}: payload of packet {i} vs gso_size");
        } else {
            assert!(n <= mss, "{what}: last payload {n} > gso_size {mss}");
        }
    }
    // buf: the first packet's headers, finished, then every payload.
    let len = f.buf.len();
    let mut head = p0[..hl].to_vec();
    head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    set_ip_checksum_ref(&mut head);
    let ps = ref_sum([&pseudo(p0, proto, len - 20)[..]]);
    if proto == 6 {
        head[33] |= ins[k - 1][33] & 0x08;
        head[36..38].copy_from_slice(&ps.to_be_bytes());
    } else {
        head[24..26].copy_from_slice(&((len - 20) as u16).to_be_bytes());
        head[26..28].copy_from_slice(&ps.to_be_bytes());
    }
    let mut whole = head;
    for p in ins {
        whole.extend_from_slice(&p[hl..]);
    }
    same(&f.buf, &whole, &format!("{what}: buf"));
    let mut done = f.buf.clone();
    assert!(
        finish_partial_checksum(
            &mut done,
            f.vnet.csum_start.into(),
            f.vnet.csum_offset.into()
        ),
        "{what}: finish_partial_checksum refused vnet_hdr()'s offsets"
    );
    assert!(ip_checksum_ok(&done), "{what}: IP header checksum");
    assert!(
        l4_checksum_ok(&done, proto),
        "{what}: completed L4 checksum"
    );
    // resegment(): the packets that went in, checksums in canonical form.
    for (i, (got, p)) in f.resegmented.iter().zip(ins).enumerate() {
        let mut want = p.to_vec();
        set_ip_checksum_ref(&mut want);
        // A TCP checksum of 0xffff that verifies comes back as the computed 0x0000 (any
        // other value is the only one that verifies, or an invalid one that must not).
        if proto == 6 && want[36..38] == [0xff, 0xff] && l4_checksum_ok(&want, 6) {
            set_l4_checksum_ref(&mut want, 6);
        }
        if *got != want {
            same(got, &want, &format!("{what}: resegment() packet {i}"));
        }
    }
}
