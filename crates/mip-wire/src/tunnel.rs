//! Tunnel encapsulations used between home agent and care-of address:
//! IP in IP (RFC 2003), minimal encapsulation (RFC 2004) and GRE (RFC 2784
//! with the key and sequence number of RFC 2890).
//!
//! The `encapsulate_*` / `decapsulate_*` functions are for the data plane:
//! they write into a caller-provided buffer (or return sub-slices of the
//! input) and never allocate. They take and produce whole IPv4 datagrams.
//!
//! What they leave to the caller, on purpose:
//! * The inner TTL. RFC 2003 §3.1: the encapsulator does not change the inner
//!   TTL, except that a router tunnelling a datagram as part of forwarding it
//!   decrements it first (and discards the datagram if it reaches 0); use
//!   [`crate::ipv4::decrement_ttl`] for that. The same holds for GRE and, on
//!   the one header it keeps, for minimal encapsulation.
//! * Reassembly: the decapsulators refuse an outer fragment (`bad_value(6, "flags")`
//!   or `bad_value(6, "fragment offset")`); reassemble first.
//! * Tunnel loop and source checks (RFC 2003 §3.1 / §4), ICMP error relaying
//!   (RFC 2003 §4) and ECN propagation on decapsulation (RFC 6040).
//! * The inner header checksum is not verified by IP-in-IP and GRE
//!   decapsulation (the datagram is handed on unchanged, and the next hop's IP
//!   input checks it); minimal decapsulation rewrites it.

use std::net::Ipv4Addr;

use crate::error::{internet_checksum, Error, Result};
use crate::ipv4::{
    self, addr_at, be16, check_fixed, field, short_buffer, HeaderFields, Ipv4Packet, Protocol,
    FLAG_DF, MAX_TOTAL_LEN, MIN_HEADER_LEN,
};

/// The outer header an encapsulator adds (IP in IP and GRE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OuterHeader {
    /// Tunnel entry point (source address of the outer header).
    pub src: Ipv4Addr,
    /// Tunnel exit point, e.g. the care-of address.
    pub dst: Ipv4Addr,
    /// TTL of the outer header: enough to reach the exit point.
    pub ttl: u8,
    /// Identification of the outer header. It only matters if the outer
    /// datagram may be fragmented (inner DF clear); it should then come from a
    /// per-destination counter (RFC 6864).
    pub identification: u16,
}

fn check_not_fragment<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<()> {
    if p.more_fragments() {
        Err(Error::bad_value(field::FLAGS_FRAG, "flags"))
    } else if p.fragment_offset() != 0 {
        Err(Error::bad_value(field::FLAGS_FRAG, "fragment offset"))
    } else {
        Ok(())
    }
}

/// Checks the outer header of a tunnelled datagram: layout, checksum,
/// protocol, not a fragment.
fn check_outer(packet: &[u8], protocol: Protocol) -> Result<Ipv4Packet<&[u8]>> {
    let outer = Ipv4Packet::new_checked(packet)?;
    outer.check_checksum()?;
    if outer.protocol() != protocol {
        return Err(Error::bad_value(field::PROTOCOL, "protocol"));
    }
    check_not_fragment(&outer)?;
    Ok(outer)
}

/// Checks that `inner` (found at `base` in the outer buffer) is exactly one
/// IPv4 datagram filling the rest of the outer datagram.
fn check_inner(inner: &[u8], base: usize) -> Result<()> {
    let p = Ipv4Packet::new_checked(inner).map_err(|e| e.shifted(base))?;
    if usize::from(p.total_len()) != inner.len() {
        return Err(Error::bad_length(base + field::TOTAL_LEN, "total length"));
    }
    Ok(())
}

/// Writes a 20-byte outer header for a payload of `payload_len` bytes whose
/// first bytes are the inner datagram `inner`: TOS and DF copied from the
/// inner header (RFC 2003 §3.1).
fn write_outer<T: AsRef<[u8]>>(
    hdr: &mut [u8],
    outer: &OuterHeader,
    inner: &Ipv4Packet<T>,
    protocol: Protocol,
    payload_len: usize,
) {
    ipv4::write_header(
        hdr,
        &HeaderFields {
            tos: inner.tos(),
            total_len: (MIN_HEADER_LEN + payload_len) as u16,
            identification: outer.identification,
            flags_frag: if inner.dont_fragment() { FLAG_DF } else { 0 },
            ttl: outer.ttl,
            protocol: protocol.into(),
            src: outer.src,
            dst: outer.dst,
        },
    );
}

// ---------------------------------------------------------------------------
// IP in IP (RFC 2003)

/// Bytes IP-in-IP encapsulation adds.
pub const IPIP_OVERHEAD: usize = MIN_HEADER_LEN;

/// Encapsulates the IPv4 datagram `inner` in IP (RFC 2003) into `out` and
/// returns the length written.
///
/// The outer header has protocol 4, no options, the TOS octet and the DF bit
/// of the inner header (RFC 2003 §3.1), and takes the inner datagram's
/// Identification (see [`encapsulate_ipip_with`] to choose it). `inner` may be
/// longer than its Total Length (trailing bytes are not copied); it may be a
/// fragment. Fails if `inner` is not an IPv4 datagram (error offsets are in
/// `inner`), if the result would exceed 65535 bytes, or if `out` is too short.
pub fn encapsulate_ipip(
    inner: &[u8],
    outer_src: Ipv4Addr,
    outer_dst: Ipv4Addr,
    ttl: u8,
    out: &mut [u8],
) -> Result<usize> {
    let identification = Ipv4Packet::new_checked(inner)?.identification();
    encapsulate_ipip_with(
        &OuterHeader {
            src: outer_src,
            dst: outer_dst,
            ttl,
            identification,
        },
        inner,
        out,
    )
}

/// [`encapsulate_ipip`] with every outer field chosen by the caller.
pub fn encapsulate_ipip_with(outer: &OuterHeader, inner: &[u8], out: &mut [u8]) -> Result<usize> {
    let ip = Ipv4Packet::new_checked(inner)?;
    let datagram = ip.datagram();
    let total = IPIP_OVERHEAD + datagram.len();
    if total > MAX_TOTAL_LEN {
        return Err(Error::bad_length(field::TOTAL_LEN, "total length"));
    }
    let avail = out.len();
    let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
    let (hdr, payload) = out.split_at_mut(IPIP_OVERHEAD);
    payload.copy_from_slice(datagram);
    write_outer(hdr, outer, &ip, Protocol::IpIp, datagram.len());
    Ok(total)
}

/// Checks an IP-in-IP datagram and returns its outer header and the inner
/// datagram (a sub-slice of `packet`).
///
/// Checks: outer header valid with a correct checksum, protocol 4
/// (`bad_value(9, "protocol")`), not a fragment, and the payload is exactly
/// one IPv4 datagram (`bad_length` at the inner Total Length otherwise).
/// Error offsets are from the start of `packet`.
pub fn decapsulate_ipip(packet: &[u8]) -> Result<(Ipv4Packet<&[u8]>, &[u8])> {
    let outer = check_outer(packet, Protocol::IpIp)?;
    let inner = &packet[outer.header_len()..usize::from(outer.total_len())];
    check_inner(inner, outer.header_len())?;
    Ok((outer, inner))
}

// ---------------------------------------------------------------------------
// Minimal encapsulation (RFC 2004)

/// Minimal forwarding header without the Original Source Address.
pub const MINIMAL_HEADER_LEN: usize = 8;
/// Minimal forwarding header with the Original Source Address (S set).
pub const MINIMAL_HEADER_LEN_WITH_SOURCE: usize = 12;
/// The S bit: Original Source Address present.
pub const MINIMAL_S_BIT: u8 = 0x80;

const MINIMAL_FIXED: &[(usize, usize, &str)] = &[
    (0, 1, "protocol"),
    (1, 1, "S"),
    (2, 2, "header checksum"),
    (4, 4, "original destination address"),
];

/// A read-only view of a minimal forwarding header and what follows it
/// (RFC 2004 §3):
///
/// ```text
/// protocol(8) | S(1) reserved(7) | header checksum(16)
/// original destination address(32)
/// original source address(32)          present iff S
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimalPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MinimalPacket<T> {
    /// Checks that the whole forwarding header (8 or 12 bytes, by S) is there.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), MINIMAL_FIXED)?;
        if b[1] & MINIMAL_S_BIT != 0 {
            check_fixed(b.len(), &[(8, 4, "original source address")])?;
        }
        Ok(MinimalPacket { buffer })
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// Protocol: copied from the original IP header.
    pub fn protocol(&self) -> Protocol {
        Protocol::from(self.b()[0])
    }
    /// S: Original Source Address present.
    pub fn source_present(&self) -> bool {
        self.b()[1] & MINIMAL_S_BIT != 0
    }
    /// The 7 reserved bits (sent as zero).
    pub fn reserved(&self) -> u8 {
        self.b()[1] & !MINIMAL_S_BIT
    }
    /// Header Checksum as carried.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 2)
    }
    /// Original Destination Address.
    pub fn original_destination(&self) -> Ipv4Addr {
        addr_at(self.b(), 4)
    }
    /// Original Source Address, when S is set.
    pub fn original_source(&self) -> Option<Ipv4Addr> {
        self.source_present().then(|| addr_at(self.b(), 8))
    }
    /// 8 or 12.
    pub fn header_len(&self) -> usize {
        if self.source_present() {
            MINIMAL_HEADER_LEN_WITH_SOURCE
        } else {
            MINIMAL_HEADER_LEN
        }
    }
    /// The forwarding header.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    /// The original IP payload after the forwarding header.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// True if the checksum over the forwarding header alone verifies
    /// (RFC 2004 §3: the payload is not covered).
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.header()) == 0
    }
}

/// An owned minimal forwarding header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinimalRepr {
    /// Protocol of the original datagram.
    pub protocol: Protocol,
    /// The 7 reserved bits, kept as received (emit masks them to 7 bits).
    pub reserved: u8,
    /// Original Destination Address.
    pub original_destination: Ipv4Addr,
    /// Original Source Address; present (S set) when the encapsulator is not
    /// the original source.
    pub original_source: Option<Ipv4Addr>,
}

impl MinimalRepr {
    /// Parses the forwarding header at the start of `buf` and verifies its
    /// checksum (`bad_checksum(2, "header checksum")`).
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let p = MinimalPacket::new_checked(buf)?;
        if !p.verify_checksum() {
            return Err(Error::bad_checksum(2, "header checksum"));
        }
        Ok(Self::from_packet(&p))
    }

    /// Parses without verifying the checksum.
    pub fn parse_unchecked(buf: &[u8]) -> Result<Self> {
        MinimalPacket::new_checked(buf).map(|p| Self::from_packet(&p))
    }

    /// Copies the fields out of a checked view.
    pub fn from_packet<T: AsRef<[u8]>>(p: &MinimalPacket<T>) -> Self {
        MinimalRepr {
            protocol: p.protocol(),
            reserved: p.reserved(),
            original_destination: p.original_destination(),
            original_source: p.original_source(),
        }
    }

    /// 8 or 12.
    pub fn header_len(&self) -> usize {
        if self.original_source.is_some() {
            MINIMAL_HEADER_LEN_WITH_SOURCE
        } else {
            MINIMAL_HEADER_LEN
        }
    }

    /// Same as [`MinimalRepr::header_len`].
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the forwarding header with its checksum into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        let avail = buf.len();
        let h = buf.get_mut(..len).ok_or(short_buffer(len, avail))?;
        h[0] = self.protocol.into();
        h[1] = (self.reserved & !MINIMAL_S_BIT)
            | if self.original_source.is_some() {
                MINIMAL_S_BIT
            } else {
                0
            };
        h[2] = 0;
        h[3] = 0;
        h[4..8].copy_from_slice(&self.original_destination.octets());
        if let Some(src) = self.original_source {
            h[8..12].copy_from_slice(&src.octets());
        }
        let c = internet_checksum(h);
        h[2..4].copy_from_slice(&c.to_be_bytes());
        Ok(len)
    }

    /// The emitted header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        // cannot fail: the buffer has exactly the needed length
        let _ = self.emit(&mut v);
        v
    }
}

/// Encapsulates `inner` with minimal encapsulation (RFC 2004 §3) into `out`
/// and returns the length written.
///
/// The inner IP header is kept (options, TOS, Identification, DF and TTL
/// unchanged) and modified: protocol 55, destination `outer_dst`, source
/// `outer_src` if it differs from the original source, Total Length grown by
/// the forwarding header, checksum recomputed. The forwarding header carries
/// the original protocol and destination, and the original source only when
/// it was replaced (S set). A fragment cannot be encapsulated this way (its
/// fragment fields would apply to the new datagram): `bad_value(6, "flags")`
/// or `bad_value(6, "fragment offset")`. Error offsets are in `inner`.
pub fn encapsulate_minimal(
    inner: &[u8],
    outer_src: Ipv4Addr,
    outer_dst: Ipv4Addr,
    out: &mut [u8],
) -> Result<usize> {
    let ip = Ipv4Packet::new_checked(inner)?;
    check_not_fragment(&ip)?;
    let hl = ip.header_len();
    let fwd = MinimalRepr {
        protocol: ip.protocol(),
        reserved: 0,
        original_destination: ip.dst_addr(),
        original_source: (ip.src_addr() != outer_src).then(|| ip.src_addr()),
    };
    let mlen = fwd.header_len();
    let total = usize::from(ip.total_len()) + mlen;
    if total > MAX_TOTAL_LEN {
        return Err(Error::bad_length(field::TOTAL_LEN, "total length"));
    }
    let avail = out.len();
    let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
    let (hdr, rest) = out.split_at_mut(hl);
    hdr.copy_from_slice(ip.header());
    hdr[field::TOTAL_LEN..field::TOTAL_LEN + 2].copy_from_slice(&(total as u16).to_be_bytes());
    hdr[field::PROTOCOL] = Protocol::MinimalEncap.into();
    hdr[field::SRC..field::SRC + 4].copy_from_slice(&outer_src.octets());
    hdr[field::DST..field::DST + 4].copy_from_slice(&outer_dst.octets());
    ipv4::fill_checksum(hdr);
    let (fwd_buf, payload) = rest.split_at_mut(mlen);
    fwd.emit(fwd_buf)?;
    payload.copy_from_slice(ip.payload());
    Ok(total)
}

/// The outer header and forwarding header of a minimally encapsulated datagram.
type MinimalViews<'a> = (Ipv4Packet<&'a [u8]>, MinimalPacket<&'a [u8]>);

/// Checks a minimally encapsulated datagram; returns the outer view and the
/// forwarding header view (whose payload is the original IP payload).
fn check_minimal(packet: &[u8]) -> Result<MinimalViews<'_>> {
    let outer = check_outer(packet, Protocol::MinimalEncap)?;
    let hl = outer.header_len();
    let payload = &packet[hl..usize::from(outer.total_len())];
    let fwd = MinimalPacket::new_checked(payload).map_err(|e| e.shifted(hl))?;
    if !fwd.verify_checksum() {
        return Err(Error::bad_checksum(hl + 2, "header checksum"));
    }
    Ok((outer, fwd))
}

/// Rewrites `hdr` (a copy of the outer header) into the original header.
fn restore_header(hdr: &mut [u8], fwd: &MinimalPacket<&[u8]>, total: usize) {
    hdr[field::TOTAL_LEN..field::TOTAL_LEN + 2].copy_from_slice(&(total as u16).to_be_bytes());
    hdr[field::PROTOCOL] = fwd.protocol().into();
    hdr[field::DST..field::DST + 4].copy_from_slice(&fwd.original_destination().octets());
    if let Some(src) = fwd.original_source() {
        hdr[field::SRC..field::SRC + 4].copy_from_slice(&src.octets());
    }
    ipv4::fill_checksum(hdr);
}

/// Rebuilds the original datagram from a minimally encapsulated one (RFC
/// 2004 §3) into `out` and returns its length.
///
/// Checks the outer header (checksum, protocol 55, not a fragment) and the
/// forwarding header checksum (`bad_checksum(hl + 2, "header checksum")`);
/// error offsets are from the start of `packet`. The rebuilt header gets the
/// original protocol, destination and (if S) source, the Total Length less the
/// forwarding header, and a fresh checksum.
pub fn decapsulate_minimal(packet: &[u8], out: &mut [u8]) -> Result<usize> {
    let (outer, fwd) = check_minimal(packet)?;
    let hl = outer.header_len();
    let total = usize::from(outer.total_len()) - fwd.header_len();
    let avail = out.len();
    let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
    let (hdr, payload) = out.split_at_mut(hl);
    hdr.copy_from_slice(outer.header());
    restore_header(hdr, &fwd, total);
    payload.copy_from_slice(fwd.payload());
    Ok(total)
}

/// [`decapsulate_minimal`] in place: moves the (modified) IP header forward
/// over the forwarding header instead of copying the payload, and returns
/// where the original datagram now lies in `buf`. The bytes before that range
/// are left unspecified.
pub fn decapsulate_minimal_in_place(buf: &mut [u8]) -> Result<core::ops::Range<usize>> {
    let (hl, mlen, total, hdr_copy) = {
        let (outer, fwd) = check_minimal(buf)?;
        let hl = outer.header_len();
        let mut hdr = [0u8; ipv4::MAX_HEADER_LEN];
        hdr[..hl].copy_from_slice(outer.header());
        let total = usize::from(outer.total_len()) - fwd.header_len();
        restore_header(&mut hdr[..hl], &fwd, total);
        (hl, fwd.header_len(), total, hdr)
    };
    buf[mlen..mlen + hl].copy_from_slice(&hdr_copy[..hl]);
    Ok(mlen..mlen + total)
}

// ---------------------------------------------------------------------------
// GRE (RFC 2784, RFC 2890)

/// GRE Protocol Type for an IPv4 payload (an EtherType).
pub const GRE_PROTOCOL_IPV4: u16 = 0x0800;
/// C: Checksum and Reserved1 present.
pub const GRE_FLAG_C: u16 = 0x8000;
/// K: Key present (RFC 2890 §2).
pub const GRE_FLAG_K: u16 = 0x2000;
/// S: Sequence Number present (RFC 2890 §2).
pub const GRE_FLAG_S: u16 = 0x1000;
/// Bits 1, 4 and 5 (RFC 1701's routing, strict-route and first recursion
/// bit): RFC 2784 §2.3 tells a receiver that does not implement RFC 1701 to
/// discard a packet with any of them set.
pub const GRE_RESERVED0_MUST_BE_ZERO: u16 = 0x4c00;
/// Reserved0 bits 6–12: sent as zero, ignored on receipt (RFC 2784 §2.3),
/// kept by this decoder so that a round trip loses nothing.
pub const GRE_RESERVED0_MASK: u16 = 0x03f8;
/// The Ver field (bits 13–15), which must be 0 (RFC 2784 §2.3.1).
pub const GRE_VERSION_MASK: u16 = 0x0007;

/// A read-only view of a GRE packet (header and payload):
///
/// ```text
/// C|0|K|S| reserved0(9) | ver(3) | protocol type(16)
/// checksum(16) | reserved1(16)     present iff C
/// key(32)                          present iff K
/// sequence number(32)              present iff S
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> GrePacket<T> {
    /// Checks the flags word (bits 1, 4, 5 clear, version 0) and that every
    /// optional field the flags announce is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), &[(0, 2, "flags"), (2, 2, "protocol type")])?;
        let w = be16(b, 0);
        if w & GRE_RESERVED0_MUST_BE_ZERO != 0 {
            return Err(Error::bad_value(0, "reserved0"));
        }
        if w & GRE_VERSION_MASK != 0 {
            return Err(Error::bad_value(1, "version"));
        }
        let mut off = 4;
        if w & GRE_FLAG_C != 0 {
            check_fixed(b.len(), &[(off, 2, "checksum"), (off + 2, 2, "reserved1")])?;
            off += 4;
        }
        if w & GRE_FLAG_K != 0 {
            check_fixed(b.len(), &[(off, 4, "key")])?;
            off += 4;
        }
        if w & GRE_FLAG_S != 0 {
            check_fixed(b.len(), &[(off, 4, "sequence number")])?;
        }
        Ok(GrePacket { buffer })
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn word(&self) -> u16 {
        be16(self.b(), 0)
    }
    /// C.
    pub fn checksum_present(&self) -> bool {
        self.word() & GRE_FLAG_C != 0
    }
    /// K.
    pub fn key_present(&self) -> bool {
        self.word() & GRE_FLAG_K != 0
    }
    /// S.
    pub fn sequence_present(&self) -> bool {
        self.word() & GRE_FLAG_S != 0
    }
    /// Reserved0 bits 6–12 (mask [`GRE_RESERVED0_MASK`]).
    pub fn reserved0(&self) -> u16 {
        self.word() & GRE_RESERVED0_MASK
    }
    /// Ver (0 for a checked view).
    pub fn version(&self) -> u8 {
        (self.word() & GRE_VERSION_MASK) as u8
    }
    /// Protocol Type (an EtherType; [`GRE_PROTOCOL_IPV4`] for IPv4).
    pub fn protocol_type(&self) -> u16 {
        be16(self.b(), 2)
    }
    /// Checksum, when C is set.
    pub fn checksum(&self) -> Option<u16> {
        self.checksum_present().then(|| be16(self.b(), 4))
    }
    /// Reserved1, when C is set.
    pub fn reserved1(&self) -> Option<u16> {
        self.checksum_present().then(|| be16(self.b(), 6))
    }
    fn key_offset(&self) -> usize {
        if self.checksum_present() {
            8
        } else {
            4
        }
    }
    /// Key, when K is set.
    pub fn key(&self) -> Option<u32> {
        let o = self.key_offset();
        self.key_present().then(|| {
            u32::from_be_bytes([
                self.b()[o],
                self.b()[o + 1],
                self.b()[o + 2],
                self.b()[o + 3],
            ])
        })
    }
    /// Sequence Number, when S is set.
    pub fn sequence(&self) -> Option<u32> {
        let o = self.key_offset() + if self.key_present() { 4 } else { 0 };
        self.sequence_present().then(|| {
            u32::from_be_bytes([
                self.b()[o],
                self.b()[o + 1],
                self.b()[o + 2],
                self.b()[o + 3],
            ])
        })
    }
    /// Header length: 4, plus 4 for each of C, K, S.
    pub fn header_len(&self) -> usize {
        4 + 4
            * (usize::from(self.checksum_present())
                + usize::from(self.key_present())
                + usize::from(self.sequence_present()))
    }
    /// The header.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// True if C is clear, or if the checksum over header and payload
    /// verifies (RFC 2784 §2.5).
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || internet_checksum(self.b()) == 0
    }
}

/// An owned GRE header. The checksum value is not stored: it is verified by
/// [`GreRepr::parse`] and computed by [`GreRepr::emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GreRepr {
    /// Protocol Type of the payload.
    pub protocol_type: u16,
    /// C: a checksum over header and payload is present.
    pub checksum_present: bool,
    /// Reserved1 (only on the wire when `checksum_present`; 0 otherwise).
    pub reserved1: u16,
    /// Key (RFC 2890 §2.1).
    pub key: Option<u32>,
    /// Sequence Number (RFC 2890 §2.2).
    pub sequence: Option<u32>,
    /// Reserved0 bits 6–12 as received (emit masks with [`GRE_RESERVED0_MASK`]).
    pub reserved0: u16,
}

impl GreRepr {
    /// A header for an IPv4 payload with the given options.
    pub fn ipv4(checksum_present: bool, key: Option<u32>, sequence: Option<u32>) -> Self {
        GreRepr {
            protocol_type: GRE_PROTOCOL_IPV4,
            checksum_present,
            reserved1: 0,
            key,
            sequence,
            reserved0: 0,
        }
    }

    /// Parses the header of the GRE packet `buf` (header and payload),
    /// verifying the checksum when C is set (`bad_checksum(4, "checksum")`).
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let p = GrePacket::new_checked(buf)?;
        if !p.verify_checksum() {
            return Err(Error::bad_checksum(4, "checksum"));
        }
        Ok(Self::from_packet(&p))
    }

    /// Parses without verifying the checksum.
    pub fn parse_unchecked(buf: &[u8]) -> Result<Self> {
        GrePacket::new_checked(buf).map(|p| Self::from_packet(&p))
    }

    /// Copies the fields out of a checked view.
    pub fn from_packet<T: AsRef<[u8]>>(p: &GrePacket<T>) -> Self {
        GreRepr {
            protocol_type: p.protocol_type(),
            checksum_present: p.checksum_present(),
            reserved1: p.reserved1().unwrap_or(0),
            key: p.key(),
            sequence: p.sequence(),
            reserved0: p.reserved0(),
        }
    }

    /// Header length: 4, plus 4 for each of C, K, S.
    pub fn header_len(&self) -> usize {
        4 + 4
            * (usize::from(self.checksum_present)
                + usize::from(self.key.is_some())
                + usize::from(self.sequence.is_some()))
    }

    /// Bytes [`GreRepr::emit`] writes: the header.
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header into the start of `buf` and returns its length.
    ///
    /// `buf` is the whole GRE packet: the payload must already be in place
    /// after the header, because with C set the checksum is computed over all
    /// of `buf` (RFC 2784 §2.5).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let hl = self.header_len();
        if buf.len() < hl {
            return Err(short_buffer(hl, buf.len()));
        }
        let mut w = self.reserved0 & GRE_RESERVED0_MASK;
        let mut off = 4;
        if self.checksum_present {
            w |= GRE_FLAG_C;
            buf[4..6].copy_from_slice(&[0, 0]);
            buf[6..8].copy_from_slice(&self.reserved1.to_be_bytes());
            off += 4;
        }
        if let Some(k) = self.key {
            w |= GRE_FLAG_K;
            buf[off..off + 4].copy_from_slice(&k.to_be_bytes());
            off += 4;
        }
        if let Some(s) = self.sequence {
            w |= GRE_FLAG_S;
            buf[off..off + 4].copy_from_slice(&s.to_be_bytes());
        }
        buf[0..2].copy_from_slice(&w.to_be_bytes());
        buf[2..4].copy_from_slice(&self.protocol_type.to_be_bytes());
        if self.checksum_present {
            let c = internet_checksum(buf);
            buf[4..6].copy_from_slice(&c.to_be_bytes());
        }
        Ok(hl)
    }

    /// Writes the header followed by `payload` into `out` (checksum over
    /// both) and returns the length written.
    pub fn emit_with_payload(&self, payload: &[u8], out: &mut [u8]) -> Result<usize> {
        let total = self.header_len() + payload.len();
        let avail = out.len();
        let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
        out[self.header_len()..].copy_from_slice(payload);
        self.emit(out)?;
        Ok(total)
    }

    /// The header alone (with C set, its checksum covers an empty payload).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        // cannot fail: the buffer has exactly the needed length
        let _ = self.emit(&mut v);
        v
    }
}

/// Encapsulates the IPv4 datagram `inner` in GRE in IPv4 into `out` and
/// returns the length written.
///
/// The outer header is built as for IP in IP (TOS and DF copied from the
/// inner header, Identification taken from it) with protocol 47; `gre` must
/// have Protocol Type 0x0800 (`bad_value(2, "protocol type")` otherwise).
pub fn encapsulate_gre(
    inner: &[u8],
    outer_src: Ipv4Addr,
    outer_dst: Ipv4Addr,
    ttl: u8,
    gre: &GreRepr,
    out: &mut [u8],
) -> Result<usize> {
    let identification = Ipv4Packet::new_checked(inner)?.identification();
    encapsulate_gre_with(
        &OuterHeader {
            src: outer_src,
            dst: outer_dst,
            ttl,
            identification,
        },
        gre,
        inner,
        out,
    )
}

/// [`encapsulate_gre`] with every outer field chosen by the caller.
pub fn encapsulate_gre_with(
    outer: &OuterHeader,
    gre: &GreRepr,
    inner: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    if gre.protocol_type != GRE_PROTOCOL_IPV4 {
        return Err(Error::bad_value(2, "protocol type"));
    }
    let ip = Ipv4Packet::new_checked(inner)?;
    let datagram = ip.datagram();
    let gre_len = gre.header_len() + datagram.len();
    let total = MIN_HEADER_LEN + gre_len;
    if total > MAX_TOTAL_LEN {
        return Err(Error::bad_length(field::TOTAL_LEN, "total length"));
    }
    let avail = out.len();
    let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
    let (hdr, rest) = out.split_at_mut(MIN_HEADER_LEN);
    gre.emit_with_payload(datagram, rest)?;
    write_outer(hdr, outer, &ip, Protocol::Gre, gre_len);
    Ok(total)
}

/// What [`decapsulate_gre`] returns: the outer header, the GRE header and the
/// inner datagram, all borrowed from the input.
pub type GreDecapsulated<'a> = (Ipv4Packet<&'a [u8]>, GreRepr, &'a [u8]);

/// Checks an IPv4-in-GRE-in-IPv4 datagram and returns the outer header, the
/// GRE header and the inner datagram (a sub-slice of `packet`).
///
/// Checks: outer header valid with a correct checksum, protocol 47, not a
/// fragment; GRE header valid, checksum verified when C is set, Protocol Type
/// 0x0800; the payload is exactly one IPv4 datagram. Error offsets are from
/// the start of `packet`.
pub fn decapsulate_gre(packet: &[u8]) -> Result<GreDecapsulated<'_>> {
    let outer = check_outer(packet, Protocol::Gre)?;
    let hl = outer.header_len();
    let total = usize::from(outer.total_len());
    let g = GrePacket::new_checked(&packet[hl..total]).map_err(|e| e.shifted(hl))?;
    if !g.verify_checksum() {
        return Err(Error::bad_checksum(hl + 4, "checksum"));
    }
    if g.protocol_type() != GRE_PROTOCOL_IPV4 {
        return Err(Error::bad_value(hl + 2, "protocol type"));
    }
    let repr = GreRepr::from_packet(&g);
    let inner = &packet[hl + g.header_len()..total];
    check_inner(inner, hl + g.header_len())?;
    Ok((outer, repr, inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4::Ipv4Repr;
    use proptest::prelude::*;

    // Vectors written by hand from RFC 791/2003/2004/2784/2890 layouts. The IP
    // and GRE checksums were cross-checked with tshark 4.0 (which does not
    // dissect minimal encapsulation; those were checked by hand only).

    /// Inner datagram: ICMP echo request 10.1.0.5 -> 10.2.0.9, TOS 0x28
    /// (AF11), id 0x1c46, DF, TTL 63, 28 bytes.
    /// IP checksum: 4528 + 001c + 1c46 + 4000 + 3f01 + 0a01 + 0005 + 0a02 +
    /// 0009 = 0xf49c -> 0x0b63. ICMP: 0800 + 1234 + 0001 = 0x1a35 -> 0xe5ca.
    const INNER: &str = "4528001c1c4640003f010b630a0100050a020009 0800e5ca12340001";

    /// IP in IP, 198.51.100.1 -> 203.0.113.10, TTL 64; TOS, DF and
    /// Identification from the inner header; total 48.
    /// Checksum: 4528 + 0030 + 1c46 + 4000 + 4004 + c633 + 6401 + cb00 +
    /// 710a = 0x347e0 -> 0x47e3 -> 0xb81c.
    const IPIP: &str = "452800301c4640004004b81cc6336401cb00710a";

    /// Minimal encapsulation by 198.51.100.1 (not the source: S set) to
    /// 203.0.113.10. Modified header: total 40, protocol 55, TTL unchanged.
    /// IP checksum: 4528 + 0028 + 1c46 + 4000 + 3f37 + c633 + 6401 + cb00 +
    /// 710a = 0x3470b -> 0x470e -> 0xb8f1.
    /// Forwarding header: 01 80 cksm 0a020009 0a010005; checksum 0180 + 0a02 +
    /// 0009 + 0a01 + 0005 = 0x1591 -> 0xea6e.
    const MIN_S: &str =
        "452800281c4640003f37b8f1c6336401cb00710a 0180ea6e0a0200090a010005 0800e5ca12340001";

    /// Minimal encapsulation by the source itself (10.1.0.5: S clear) to
    /// 203.0.113.10. IP checksum: 4528 + 0024 + 1c46 + 4000 + 3f37 + 0a01 +
    /// 0005 + cb00 + 710a = 0x226d9 -> 0x26db -> 0xd924. Forwarding header
    /// checksum: 0100 + 0a02 + 0009 = 0x0b0b -> 0xf4f4.
    const MIN_NO_S: &str =
        "452800241c4640003f37d9240a010005cb00710a 0100f4f40a020009 0800e5ca12340001";

    /// GRE with C, K (0x17) and S (1), outer total 64, checksum 0xb7e1.
    /// GRE checksum over header (checksum 0) and inner datagram: b000 + 0800 +
    /// 0017 + 0001 + (inner words 0xf49c + 0x0b63 + 0x1a35 + 0xe5ca) = 0x2b816
    /// -> 0xb818 -> 0x47e7.
    const GRE_CKS: &str =
        "452800401c464000402fb7e1c6336401cb00710a b000080047e700000000001700000001";

    /// GRE with no optional field, outer total 52, checksum 0xb7ed.
    const GRE_PLAIN: &str = "452800341c464000402fb7edc6336401cb00710a 00000800";

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }
    fn inner() -> Vec<u8> {
        h(INNER)
    }
    fn cat(a: &str, b: &[u8]) -> Vec<u8> {
        let mut v = h(a);
        v.extend_from_slice(b);
        v
    }
    const HA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const COA: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
    const MN: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);

    #[test]
    fn ipip_vector() {
        let expected = cat(IPIP, &inner());
        let mut out = [0u8; 128];
        let n = encapsulate_ipip(&inner(), HA, COA, 64, &mut out).unwrap();
        assert_eq!(&out[..n], &expected[..]);
        let (outer, inner_back) = decapsulate_ipip(&expected).unwrap();
        assert_eq!(inner_back, &inner()[..]);
        assert_eq!(outer.protocol(), Protocol::IpIp);
        assert_eq!(outer.tos(), 0x28);
        assert!(outer.dont_fragment());
        assert_eq!(outer.ttl(), 64);
        assert_eq!((outer.src_addr(), outer.dst_addr()), (HA, COA));
        assert_eq!(outer.identification(), 0x1c46);
        // the inner TTL is untouched
        assert_eq!(inner_back[8], 63);
    }

    #[test]
    fn ipip_with_chosen_identification_and_df_clear() {
        let mut i = inner();
        i[6] = 0; // DF clear
        crate::ipv4::fill_checksum(&mut i[..20]);
        let outer = OuterHeader {
            src: HA,
            dst: COA,
            ttl: 9,
            identification: 0xbeef,
        };
        let mut out = [0u8; 128];
        let n = encapsulate_ipip_with(&outer, &i, &mut out).unwrap();
        let (o, back) = decapsulate_ipip(&out[..n]).unwrap();
        assert!(!o.dont_fragment());
        assert_eq!(o.identification(), 0xbeef);
        assert_eq!(o.ttl(), 9);
        assert_eq!(back, &i[..]);
    }

    #[test]
    fn ipip_errors() {
        let good = cat(IPIP, &inner());
        let mut out = [0u8; 47];
        assert_eq!(
            encapsulate_ipip(&inner(), HA, COA, 64, &mut out).unwrap_err(),
            short_buffer(48, 47)
        );
        assert_eq!(
            encapsulate_ipip(&inner()[..27], HA, COA, 64, &mut [0; 99])
                .unwrap_err()
                .offset,
            20
        );
        // wrong outer protocol (checksum fixed up)
        let mut bad = good.clone();
        bad[9] = 47;
        crate::ipv4::fill_checksum(&mut bad[..20]);
        assert_eq!(
            decapsulate_ipip(&bad).unwrap_err(),
            Error::bad_value(9, "protocol")
        );
        // outer fragment
        let mut bad = good.clone();
        bad[6] = 0x20;
        crate::ipv4::fill_checksum(&mut bad[..20]);
        assert_eq!(
            decapsulate_ipip(&bad).unwrap_err(),
            Error::bad_value(6, "flags")
        );
        // inner is not IPv4
        let mut bad = good.clone();
        bad[20] = 0x65;
        assert_eq!(
            decapsulate_ipip(&bad).unwrap_err(),
            Error::bad_value(20, "version")
        );
        // inner shorter than the outer payload
        let mut bad = good.clone();
        bad[23] = 27;
        assert_eq!(
            decapsulate_ipip(&bad).unwrap_err(),
            Error::bad_length(22, "total length")
        );
        // outer checksum
        let mut bad = good.clone();
        bad[15] ^= 1;
        assert_eq!(
            decapsulate_ipip(&bad).unwrap_err(),
            Error::bad_checksum(10, "header checksum")
        );
        for n in 0..good.len() {
            assert!(decapsulate_ipip(&good[..n]).is_err(), "length {n}");
        }
    }

    #[test]
    fn minimal_header_vectors() {
        let with_s = h("0180ea6e0a0200090a010005");
        let p = MinimalPacket::new_checked(&with_s[..]).unwrap();
        assert_eq!(p.protocol(), Protocol::Icmp);
        assert!(p.source_present());
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.checksum(), 0xea6e);
        assert_eq!(p.original_destination(), Ipv4Addr::new(10, 2, 0, 9));
        assert_eq!(p.original_source(), Some(MN));
        assert_eq!(p.header_len(), 12);
        assert!(p.verify_checksum());
        let r = MinimalRepr::parse(&with_s).unwrap();
        assert_eq!(r.to_bytes(), with_s);

        let without = h("0100f4f40a020009");
        let r = MinimalRepr::parse(&without).unwrap();
        assert_eq!(
            r,
            MinimalRepr {
                protocol: Protocol::Icmp,
                reserved: 0,
                original_destination: Ipv4Addr::new(10, 2, 0, 9),
                original_source: None
            }
        );
        assert_eq!(r.to_bytes(), without);

        for b in [&with_s, &without] {
            for n in 0..b.len() {
                assert!(MinimalRepr::parse(&b[..n]).is_err(), "length {n}");
            }
            for i in 0..b.len() {
                let mut bad = b.to_vec();
                bad[i] ^= 0x04;
                assert_eq!(
                    MinimalRepr::parse(&bad).unwrap_err(),
                    Error::bad_checksum(2, "header checksum")
                );
            }
        }
        assert_eq!(
            MinimalRepr::parse(&with_s[..10]).unwrap_err(),
            Error::truncated(8, "original source address", 4, 2)
        );
    }

    #[test]
    fn minimal_vectors() {
        for (vector, src) in [(MIN_S, HA), (MIN_NO_S, MN)] {
            let expected = h(vector);
            let mut out = [0u8; 128];
            let n = encapsulate_minimal(&inner(), src, COA, &mut out).unwrap();
            assert_eq!(&out[..n], &expected[..], "{vector}");
            let n = decapsulate_minimal(&expected, &mut out).unwrap();
            assert_eq!(&out[..n], &inner()[..]);
            let mut buf = expected.clone();
            let range = decapsulate_minimal_in_place(&mut buf).unwrap();
            assert_eq!(&buf[range], &inner()[..]);
        }
    }

    #[test]
    fn minimal_errors() {
        let good = h(MIN_S);
        let mut out = [0u8; 128];
        // a fragment cannot be minimally encapsulated
        let mut frag = inner();
        frag[6] = 0x20; // MF
        crate::ipv4::fill_checksum(&mut frag[..20]);
        assert_eq!(
            encapsulate_minimal(&frag, HA, COA, &mut out).unwrap_err(),
            Error::bad_value(6, "flags")
        );
        frag[6] = 0x00;
        frag[7] = 0x08; // offset 8 * 8
        crate::ipv4::fill_checksum(&mut frag[..20]);
        assert_eq!(
            encapsulate_minimal(&frag, HA, COA, &mut out).unwrap_err(),
            Error::bad_value(6, "fragment offset")
        );
        // forwarding header checksum
        let mut bad = good.clone();
        bad[25] ^= 0x01;
        assert_eq!(
            decapsulate_minimal(&bad, &mut out).unwrap_err(),
            Error::bad_checksum(22, "header checksum")
        );
        // the payload is not covered by the forwarding header checksum
        let mut other = good.clone();
        other[35] ^= 0x01;
        assert!(decapsulate_minimal(&other, &mut out).is_ok());
        // S set but the datagram ends inside the original source
        let mut short = good[..30].to_vec();
        short[3] = 30;
        crate::ipv4::fill_checksum(&mut short[..20]);
        assert_eq!(
            decapsulate_minimal(&short, &mut out).unwrap_err(),
            Error::truncated(28, "original source address", 4, 2)
        );
        assert_eq!(
            decapsulate_minimal(&good, &mut out[..27]).unwrap_err(),
            short_buffer(28, 27)
        );
        for n in 0..good.len() {
            assert!(
                decapsulate_minimal(&good[..n], &mut out).is_err(),
                "length {n}"
            );
        }
    }

    #[test]
    fn gre_header_vectors() {
        let pkt = cat("b000080047e700000000001700000001", &inner());
        let g = GrePacket::new_checked(&pkt[..]).unwrap();
        assert!(g.checksum_present() && g.key_present() && g.sequence_present());
        assert_eq!(g.version(), 0);
        assert_eq!(g.reserved0(), 0);
        assert_eq!(g.protocol_type(), GRE_PROTOCOL_IPV4);
        assert_eq!(g.checksum(), Some(0x47e7));
        assert_eq!(g.reserved1(), Some(0));
        assert_eq!(g.key(), Some(0x17));
        assert_eq!(g.sequence(), Some(1));
        assert_eq!(g.header_len(), 16);
        assert_eq!(g.payload(), &inner()[..]);
        assert!(g.verify_checksum());
        let r = GreRepr::parse(&pkt).unwrap();
        assert_eq!(r, GreRepr::ipv4(true, Some(0x17), Some(1)));
        let mut out = [0u8; 64];
        let n = r.emit_with_payload(&inner(), &mut out).unwrap();
        assert_eq!(&out[..n], &pkt[..]);

        // key only, sequence only
        let key_only = h("2000080000000017");
        let g = GrePacket::new_checked(&key_only[..]).unwrap();
        assert_eq!(
            (g.checksum(), g.key(), g.sequence()),
            (None, Some(0x17), None)
        );
        let seq_only = h("1000080000000001");
        let g = GrePacket::new_checked(&seq_only[..]).unwrap();
        assert_eq!((g.checksum(), g.key(), g.sequence()), (None, None, Some(1)));
        assert_eq!(GreRepr::parse(&seq_only).unwrap().to_bytes(), seq_only);

        // every flipped byte of a checksummed packet is caught; payload and
        // checksum bytes as a checksum error
        for i in 0..pkt.len() {
            let mut bad = pkt.clone();
            bad[i] ^= 0x02;
            let e = GreRepr::parse(&bad).unwrap_err();
            if i >= 2 {
                assert_eq!(e, Error::bad_checksum(4, "checksum"), "byte {i}");
            }
        }
        for n in 0..16 {
            assert!(GreRepr::parse(&pkt[..n]).is_err(), "length {n}");
        }
        assert_eq!(
            GreRepr::parse(&h("40000800")).unwrap_err(),
            Error::bad_value(0, "reserved0")
        );
        assert_eq!(
            GreRepr::parse(&h("00010800")).unwrap_err(),
            Error::bad_value(1, "version")
        );
        assert_eq!(
            GreRepr::parse(&h("a0000800000000")).unwrap_err(),
            Error::truncated(6, "reserved1", 2, 1)
        );
        // reserved0 bits 6-12 and reserved1 are kept
        let odd = h("83f80800ffff1234");
        let mut fixed = odd.clone();
        let c = internet_checksum(&[&odd[..4], &[0, 0], &odd[6..]].concat());
        fixed[4..6].copy_from_slice(&c.to_be_bytes());
        let r = GreRepr::parse(&fixed).unwrap();
        assert_eq!((r.reserved0, r.reserved1), (0x03f8, 0x1234));
        assert_eq!(r.to_bytes(), fixed);
    }

    #[test]
    fn gre_vectors() {
        for (vector, gre) in [
            (GRE_CKS, GreRepr::ipv4(true, Some(0x17), Some(1))),
            (GRE_PLAIN, GreRepr::ipv4(false, None, None)),
        ] {
            let expected = cat(vector, &inner());
            let mut out = [0u8; 128];
            let n = encapsulate_gre(&inner(), HA, COA, 64, &gre, &mut out).unwrap();
            assert_eq!(&out[..n], &expected[..]);
            let (outer, g, back) = decapsulate_gre(&expected).unwrap();
            assert_eq!(outer.protocol(), Protocol::Gre);
            assert_eq!(g, gre);
            assert_eq!(back, &inner()[..]);
            for n in 0..expected.len() {
                assert!(decapsulate_gre(&expected[..n]).is_err(), "length {n}");
            }
        }
        let good = cat(GRE_CKS, &inner());
        let mut bad = good.clone();
        bad[40] ^= 0x01; // inside the inner datagram
        assert_eq!(
            decapsulate_gre(&bad).unwrap_err(),
            Error::bad_checksum(24, "checksum")
        );
        let plain = cat(GRE_PLAIN, &inner());
        let mut bad = plain.clone();
        bad[22] = 0x86;
        bad[23] = 0xdd;
        assert_eq!(
            decapsulate_gre(&bad).unwrap_err(),
            Error::bad_value(22, "protocol type")
        );
        let ipv6 = GreRepr {
            protocol_type: 0x86dd,
            ..GreRepr::ipv4(false, None, None)
        };
        assert_eq!(
            encapsulate_gre(&inner(), HA, COA, 64, &ipv6, &mut [0; 128]).unwrap_err(),
            Error::bad_value(2, "protocol type")
        );
    }

    /// Random inner datagrams: a valid header (options included) with random
    /// payload bytes.
    fn arb_inner(allow_fragments: bool) -> impl Strategy<Value = Vec<u8>> {
        (crate::ipv4::tests::arb_repr(), any::<u8>()).prop_map(move |(mut r, fill)| {
            r.payload_len %= 600;
            if !allow_fragments {
                r.more_fragments = false;
                r.fragment_offset = 0;
            }
            let mut v = r.to_bytes().unwrap();
            v.extend((0..r.payload_len).map(|i| (i as u8).wrapping_mul(31) ^ fill));
            v
        })
    }

    fn arb_addr() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    proptest! {
        #[test]
        fn ipip_round_trip(i in arb_inner(true), src in arb_addr(), dst in arb_addr(), ttl in any::<u8>()) {
            let mut out = vec![0u8; 2048];
            let n = encapsulate_ipip(&i, src, dst, ttl, &mut out).unwrap();
            let (o, back) = decapsulate_ipip(&out[..n]).unwrap();
            prop_assert_eq!(back, &i[..]);
            let inner_view = Ipv4Packet::new_checked(&i[..]).unwrap();
            prop_assert_eq!(o.tos(), inner_view.tos());
            prop_assert_eq!(o.dont_fragment(), inner_view.dont_fragment());
            prop_assert_eq!((o.src_addr(), o.dst_addr(), o.ttl()), (src, dst, ttl));
        }

        #[test]
        fn minimal_round_trip(i in arb_inner(false), same_src in any::<bool>(), src in arb_addr(), dst in arb_addr()) {
            let src = if same_src { Ipv4Packet::new_checked(&i[..]).unwrap().src_addr() } else { src };
            let mut enc = vec![0u8; 2048];
            let n = encapsulate_minimal(&i, src, dst, &mut enc).unwrap();
            let fwd = MinimalPacket::new_checked(&enc[Ipv4Packet::new_checked(&enc[..n]).unwrap().header_len()..n]).unwrap();
            prop_assert_eq!(fwd.source_present(), Ipv4Packet::new_checked(&i[..]).unwrap().src_addr() != src);
            let mut dec = vec![0u8; 2048];
            let m = decapsulate_minimal(&enc[..n], &mut dec).unwrap();
            prop_assert_eq!(&dec[..m], &i[..]);
            let range = decapsulate_minimal_in_place(&mut enc[..n]).unwrap();
            prop_assert_eq!(&enc[range], &i[..]);
        }

        #[test]
        fn gre_round_trip(
            i in arb_inner(true),
            c in any::<bool>(),
            key in proptest::option::of(any::<u32>()),
            seq in proptest::option::of(any::<u32>()),
            src in arb_addr(),
            dst in arb_addr(),
        ) {
            let gre = GreRepr::ipv4(c, key, seq);
            let mut out = vec![0u8; 2048];
            let n = encapsulate_gre(&i, src, dst, 64, &gre, &mut out).unwrap();
            let (_, g, back) = decapsulate_gre(&out[..n]).unwrap();
            prop_assert_eq!(g, gre);
            prop_assert_eq!(back, &i[..]);
        }

        #[test]
        fn gre_repr_round_trip(
            protocol_type in any::<u16>(),
            c in any::<bool>(),
            reserved1 in any::<u16>(),
            key in proptest::option::of(any::<u32>()),
            sequence in proptest::option::of(any::<u32>()),
            reserved0 in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let r = GreRepr {
                protocol_type,
                checksum_present: c,
                reserved1: if c { reserved1 } else { 0 },
                key,
                sequence,
                reserved0: reserved0 & GRE_RESERVED0_MASK,
            };
            let mut out = vec![0u8; 64];
            let n = r.emit_with_payload(&payload, &mut out).unwrap();
            prop_assert_eq!(GreRepr::parse(&out[..n]).unwrap(), r);
            let view = GrePacket::new_checked(&out[..n]).unwrap();
            prop_assert_eq!(view.payload(), &payload[..]);
        }

        #[test]
        fn minimal_repr_round_trip(p in any::<u8>(), reserved in 0u8..0x80, d in arb_addr(), s in proptest::option::of(arb_addr())) {
            let r = MinimalRepr { protocol: Protocol::from(p), reserved, original_destination: d, original_source: s };
            prop_assert_eq!(MinimalRepr::parse(&r.to_bytes()).unwrap(), r);
        }

        #[test]
        fn decapsulators_never_panic(b in proptest::collection::vec(any::<u8>(), 0..96), proto in prop_oneof![Just(4u8), Just(47), Just(55)]) {
            // make the outer header plausible so the inner parsers are reached
            let mut b = b;
            if b.len() >= 20 {
                b[0] = 0x45;
                let len = b.len() as u16;
                b[2..4].copy_from_slice(&len.to_be_bytes());
                b[6] = 0;
                b[7] = 0;
                b[9] = proto;
                crate::ipv4::fill_checksum(&mut b[..20]);
            }
            let mut out = [0u8; 128];
            let _ = decapsulate_ipip(&b);
            let _ = decapsulate_gre(&b);
            let _ = decapsulate_minimal(&b, &mut out);
            let _ = decapsulate_minimal_in_place(&mut b.clone());
            let _ = GreRepr::parse(&b);
            let _ = MinimalRepr::parse(&b);
            let _ = Ipv4Repr::parse(&b);
        }
    }
}
