//! IPv4 header (RFC 791): a zero-copy [`Ipv4Packet`] view and an owned
//! [`Ipv4Repr`].
//!
//! The tunnel code (`tunnel.rs`) builds outer headers with the same
//! crate-internal writer that [`Ipv4Repr::emit`] uses, so the data plane never
//! allocates.

use core::fmt;
use std::net::Ipv4Addr;

use crate::error::{internet_checksum, Error, Result};

/// Length of an IPv4 header without options.
pub const MIN_HEADER_LEN: usize = 20;
/// Longest IPv4 header: IHL is 4 bits, counted in 32-bit words (15 * 4).
pub const MAX_HEADER_LEN: usize = 60;
/// Largest value of the Total Length field.
pub const MAX_TOTAL_LEN: usize = 0xffff;

/// Don't Fragment bit of the flags/fragment-offset word.
pub const FLAG_DF: u16 = 0x4000;
/// More Fragments bit of the flags/fragment-offset word.
pub const FLAG_MF: u16 = 0x2000;
/// Reserved bit (must be zero, RFC 791 §3.1) of the flags/fragment-offset word.
pub const FLAG_RESERVED: u16 = 0x8000;
/// Fragment-offset bits of the flags/fragment-offset word (13 bits, in units of 8 octets).
pub const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// Field offsets of the fixed part of the header.
pub(crate) mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
    pub const OPTIONS: usize = 20;
}

/// The IP protocol numbers this suite meets (IANA "Assigned Internet Protocol
/// Numbers"); any other value is kept as [`Protocol::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// 1: ICMP (agent advertisements and solicitations).
    Icmp,
    /// 4: IP in IP (RFC 2003).
    IpIp,
    /// 6: TCP.
    Tcp,
    /// 17: UDP (registration, RFC 3519 UDP tunnelling).
    Udp,
    /// 47: GRE (RFC 2784).
    Gre,
    /// 55: minimal encapsulation (RFC 2004).
    MinimalEncap,
    /// Any other number, kept as received.
    Unknown(u8),
}

impl From<u8> for Protocol {
    fn from(v: u8) -> Self {
        match v {
            1 => Protocol::Icmp,
            4 => Protocol::IpIp,
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            47 => Protocol::Gre,
            55 => Protocol::MinimalEncap,
            other => Protocol::Unknown(other),
        }
    }
}

impl From<Protocol> for u8 {
    fn from(p: Protocol) -> u8 {
        match p {
            Protocol::Icmp => 1,
            Protocol::IpIp => 4,
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Gre => 47,
            Protocol::MinimalEncap => 55,
            Protocol::Unknown(v) => v,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Icmp => f.write_str("ICMP"),
            Protocol::IpIp => f.write_str("IP-in-IP"),
            Protocol::Tcp => f.write_str("TCP"),
            Protocol::Udp => f.write_str("UDP"),
            Protocol::Gre => f.write_str("GRE"),
            Protocol::MinimalEncap => f.write_str("minimal encapsulation"),
            Protocol::Unknown(v) => write!(f, "protocol {v}"),
        }
    }
}

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn addr_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Returns a `Truncated` error for the first of `fields` (offset, length,
/// name) that does not fit in `len` bytes, or `Ok` if all fit.
pub(crate) fn check_fixed(len: usize, fields: &[(usize, usize, &'static str)]) -> Result<()> {
    for &(offset, size, name) in fields {
        if len < offset + size {
            return Err(Error::truncated(
                offset,
                name,
                size,
                len.saturating_sub(offset),
            ));
        }
    }
    Ok(())
}

/// The fixed fields of an IPv4 header, in the order of RFC 791 §3.1.
const FIXED_FIELDS: &[(usize, usize, &str)] = &[
    (field::VER_IHL, 1, "version"),
    (field::TOS, 1, "type of service"),
    (field::TOTAL_LEN, 2, "total length"),
    (field::IDENT, 2, "identification"),
    (field::FLAGS_FRAG, 2, "fragment offset"),
    (field::TTL, 1, "time to live"),
    (field::PROTOCOL, 1, "protocol"),
    (field::CHECKSUM, 2, "header checksum"),
    (field::SRC, 4, "source address"),
    (field::DST, 4, "destination address"),
];

/// A read-only view of an IPv4 datagram.
///
/// [`Ipv4Packet::new_checked`] validates the version, the IHL, the Total Length
/// and that the buffer holds the whole datagram; after that no getter can
/// panic. The buffer may be longer than Total Length (link-layer padding):
/// [`Ipv4Packet::payload`] stops at Total Length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Validates `buffer` as an IPv4 datagram (the checksum is not verified
    /// here: see [`Ipv4Packet::verify_checksum`]).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), FIXED_FIELDS)?;
        if b[field::VER_IHL] >> 4 != 4 {
            return Err(Error::bad_value(field::VER_IHL, "version"));
        }
        let hl = usize::from(b[field::VER_IHL] & 0x0f) * 4;
        if hl < MIN_HEADER_LEN {
            return Err(Error::bad_length(field::VER_IHL, "IHL"));
        }
        if b.len() < hl {
            return Err(Error::truncated(
                field::OPTIONS,
                "options",
                hl - MIN_HEADER_LEN,
                b.len() - MIN_HEADER_LEN,
            ));
        }
        let total = usize::from(be16(b, field::TOTAL_LEN));
        if total < hl {
            return Err(Error::bad_length(field::TOTAL_LEN, "total length"));
        }
        if b.len() < total {
            return Err(Error::truncated(hl, "data", total - hl, b.len() - hl));
        }
        Ok(Ipv4Packet { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version (always 4 for a checked view).
    pub fn version(&self) -> u8 {
        self.b()[field::VER_IHL] >> 4
    }
    /// Internet Header Length, in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.b()[field::VER_IHL] & 0x0f
    }
    /// Header length in bytes (IHL * 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }
    /// The whole type-of-service octet (DSCP << 2 | ECN, RFC 2474/3168).
    pub fn tos(&self) -> u8 {
        self.b()[field::TOS]
    }
    /// Differentiated Services Code Point (upper six bits of the TOS octet).
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }
    /// Explicit Congestion Notification (lower two bits of the TOS octet).
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }
    /// Total Length: header plus data, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(self.b(), field::TOTAL_LEN)
    }
    /// Identification.
    pub fn identification(&self) -> u16 {
        be16(self.b(), field::IDENT)
    }
    /// The whole 16-bit flags / fragment-offset word.
    pub fn flags_and_fragment_offset(&self) -> u16 {
        be16(self.b(), field::FLAGS_FRAG)
    }
    /// The reserved flag (bit 0), which RFC 791 says must be zero.
    pub fn reserved_flag(&self) -> bool {
        self.flags_and_fragment_offset() & FLAG_RESERVED != 0
    }
    /// DF: Don't Fragment.
    pub fn dont_fragment(&self) -> bool {
        self.flags_and_fragment_offset() & FLAG_DF != 0
    }
    /// MF: More Fragments.
    pub fn more_fragments(&self) -> bool {
        self.flags_and_fragment_offset() & FLAG_MF != 0
    }
    /// Fragment Offset, in units of 8 octets as on the wire.
    pub fn fragment_offset(&self) -> u16 {
        self.flags_and_fragment_offset() & FRAGMENT_OFFSET_MASK
    }
    /// True if this datagram is a fragment (MF set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.fragment_offset() != 0
    }
    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }
    /// Protocol of the data.
    pub fn protocol(&self) -> Protocol {
        Protocol::from(self.b()[field::PROTOCOL])
    }
    /// Header Checksum as carried.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), field::CHECKSUM)
    }
    /// Source Address.
    pub fn src_addr(&self) -> Ipv4Addr {
        addr_at(self.b(), field::SRC)
    }
    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr_at(self.b(), field::DST)
    }
    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    /// The options (possibly empty), byte for byte.
    pub fn options(&self) -> &[u8] {
        &self.b()[field::OPTIONS..self.header_len()]
    }
    /// The data: from the end of the header to Total Length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..usize::from(self.total_len())]
    }
    /// The datagram: header and data, without any bytes past Total Length.
    pub fn datagram(&self) -> &[u8] {
        &self.b()[..usize::from(self.total_len())]
    }
    /// True if the header checksum verifies (RFC 791 §3.1, RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.header()) == 0
    }
    /// [`Ipv4Packet::verify_checksum`] as a `Result`: a failure is
    /// `bad_checksum(10, "header checksum")`.
    pub fn check_checksum(&self) -> Result<()> {
        if self.verify_checksum() {
            Ok(())
        } else {
            Err(Error::bad_checksum(field::CHECKSUM, "header checksum"))
        }
    }
}

/// Decrements the TTL of the datagram in `packet` in place, updating the
/// header checksum incrementally (RFC 1624 eqn. 3), and returns the new TTL.
///
/// For a router that forwards a datagram into a tunnel (RFC 2003 §3.1: the
/// inner TTL is decremented when encapsulating as part of forwarding, and a
/// datagram whose TTL reaches 0 is discarded with an ICMP Time Exceeded).
/// A TTL that is already 0 is `bad_value(8, "time to live")`.
pub fn decrement_ttl(packet: &mut [u8]) -> Result<u8> {
    let ttl = Ipv4Packet::new_checked(&packet[..])?.ttl();
    if ttl == 0 {
        return Err(Error::bad_value(field::TTL, "time to live"));
    }
    let old = be16(packet, field::TTL);
    let new = old - 0x0100;
    let mut sum = u32::from(!be16(packet, field::CHECKSUM)) + u32::from(!old) + u32::from(new);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    packet[field::TTL] = ttl - 1;
    packet[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    Ok(ttl - 1)
}

/// The fields of a header to write; options, if any, are already in place in
/// `hdr[20..]` when [`write_header`] is called.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderFields {
    pub tos: u8,
    pub total_len: u16,
    pub identification: u16,
    pub flags_frag: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

/// Writes the fixed part of an IPv4 header into `hdr` (whose length is the
/// header length: a multiple of 4 between 20 and 60) and computes the checksum
/// over all of `hdr`.
pub(crate) fn write_header(hdr: &mut [u8], f: &HeaderFields) {
    debug_assert!((MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(&hdr.len()) && hdr.len() & 3 == 0);
    hdr[field::VER_IHL] = 0x40 | ((hdr.len() / 4) as u8 & 0x0f);
    hdr[field::TOS] = f.tos;
    hdr[field::TOTAL_LEN..field::TOTAL_LEN + 2].copy_from_slice(&f.total_len.to_be_bytes());
    hdr[field::IDENT..field::IDENT + 2].copy_from_slice(&f.identification.to_be_bytes());
    hdr[field::FLAGS_FRAG..field::FLAGS_FRAG + 2].copy_from_slice(&f.flags_frag.to_be_bytes());
    hdr[field::TTL] = f.ttl;
    hdr[field::PROTOCOL] = f.protocol;
    hdr[field::SRC..field::SRC + 4].copy_from_slice(&f.src.octets());
    hdr[field::DST..field::DST + 4].copy_from_slice(&f.dst.octets());
    fill_checksum(hdr);
}

/// Recomputes the header checksum of `hdr` (the whole header, options included).
pub(crate) fn fill_checksum(hdr: &mut [u8]) {
    hdr[field::CHECKSUM] = 0;
    hdr[field::CHECKSUM + 1] = 0;
    let c = internet_checksum(hdr);
    hdr[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&c.to_be_bytes());
}

/// The error returned when an output buffer is too small.
pub(crate) fn short_buffer(needed: usize, available: usize) -> Error {
    Error::truncated(0, "output buffer", needed, available)
}

/// An owned IPv4 header. The checksum is not stored: it is verified by
/// [`Ipv4Repr::parse`] and computed by [`Ipv4Repr::emit`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// The type-of-service octet (DSCP << 2 | ECN).
    pub tos: u8,
    /// Identification.
    pub identification: u16,
    /// The reserved flag bit, kept so that a round trip loses nothing.
    pub reserved_flag: bool,
    /// DF.
    pub dont_fragment: bool,
    /// MF.
    pub more_fragments: bool,
    /// Fragment Offset in units of 8 octets (13 bits).
    pub fragment_offset: u16,
    /// Time to Live.
    pub ttl: u8,
    /// Protocol.
    pub protocol: Protocol,
    /// Source Address.
    pub src_addr: Ipv4Addr,
    /// Destination Address.
    pub dst_addr: Ipv4Addr,
    /// Options, byte for byte, padding included; length a multiple of 4, at most 40.
    pub options: Vec<u8>,
    /// Length of the data that follows the header.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Parses and checksum-verifies the header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let p = Ipv4Packet::new_checked(buf)?;
        p.check_checksum()?;
        Ok(Self::from_packet(&p))
    }

    /// Parses the header at the start of `buf` without verifying its checksum.
    pub fn parse_unchecked(buf: &[u8]) -> Result<Self> {
        Ipv4Packet::new_checked(buf).map(|p| Self::from_packet(&p))
    }

    /// Copies the fields out of a checked view.
    pub fn from_packet<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Self {
        Ipv4Repr {
            tos: p.tos(),
            identification: p.identification(),
            reserved_flag: p.reserved_flag(),
            dont_fragment: p.dont_fragment(),
            more_fragments: p.more_fragments(),
            fragment_offset: p.fragment_offset(),
            ttl: p.ttl(),
            protocol: p.protocol(),
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            options: p.options().to_vec(),
            payload_len: usize::from(p.total_len()) - p.header_len(),
        }
    }

    /// Header length in bytes: 20 plus the options.
    pub fn header_len(&self) -> usize {
        MIN_HEADER_LEN + self.options.len()
    }

    /// Bytes [`Ipv4Repr::emit`] writes: the header only (the data follows it
    /// and is the caller's to place).
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Total Length this header will carry (header plus `payload_len`).
    pub fn total_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header, with a correct checksum, into the start of `buf` and
    /// returns its length. Fails if `buf` is too short, if the options are not
    /// a multiple of 4 bytes or longer than 40, if the total length exceeds
    /// 65535, or if the fragment offset does not fit in 13 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let hl = self.header_len();
        if self.options.len() & 3 != 0 || hl > MAX_HEADER_LEN {
            return Err(Error::bad_length(field::VER_IHL, "IHL"));
        }
        if self.total_len() > MAX_TOTAL_LEN {
            return Err(Error::bad_length(field::TOTAL_LEN, "total length"));
        }
        if self.fragment_offset > FRAGMENT_OFFSET_MASK {
            return Err(Error::bad_value(field::FLAGS_FRAG, "fragment offset"));
        }
        let avail = buf.len();
        let hdr = buf.get_mut(..hl).ok_or(short_buffer(hl, avail))?;
        hdr[field::OPTIONS..].copy_from_slice(&self.options);
        let mut flags_frag = self.fragment_offset;
        if self.reserved_flag {
            flags_frag |= FLAG_RESERVED;
        }
        if self.dont_fragment {
            flags_frag |= FLAG_DF;
        }
        if self.more_fragments {
            flags_frag |= FLAG_MF;
        }
        write_header(
            hdr,
            &HeaderFields {
                tos: self.tos,
                total_len: self.total_len() as u16,
                identification: self.identification,
                flags_frag,
                ttl: self.ttl,
                protocol: self.protocol.into(),
                src: self.src_addr,
                dst: self.dst_addr,
            },
        );
        Ok(hl)
    }

    /// The emitted header as a vector (see [`Ipv4Repr::emit`] for the errors).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A widely reproduced example header (UDP, 115 bytes, DF, TTL 64,
    /// 192.168.0.1 -> 192.168.0.199). Checksum by hand: 4500 + 0073 + 0000 +
    /// 4000 + 4011 + c0a8 + 0001 + c0a8 + 00c7 = 0x2479c; folded 0x479e;
    /// complemented 0xb861.
    const UDP_HEADER: &str = "45000073000040004011b861c0a80001c0a800c7";

    fn with_payload(hdr: &str, payload_len: usize) -> Vec<u8> {
        let mut v = hex::decode(hdr).unwrap();
        v.extend((0..payload_len).map(|i| i as u8));
        v
    }

    #[test]
    fn known_header_parses() {
        let buf = with_payload(UDP_HEADER, 0x73 - 20);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 5);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.tos(), 0);
        assert_eq!(p.total_len(), 115);
        assert_eq!(p.identification(), 0);
        assert!(p.dont_fragment());
        assert!(!p.more_fragments());
        assert!(!p.reserved_flag());
        assert_eq!(p.fragment_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), Protocol::Udp);
        assert_eq!(p.checksum(), 0xb861);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert!(p.options().is_empty());
        assert_eq!(p.payload().len(), 95);
        assert!(p.verify_checksum());

        let r = Ipv4Repr::parse(&buf).unwrap();
        assert_eq!(r.payload_len, 95);
        assert_eq!(r.to_bytes().unwrap(), hex::decode(UDP_HEADER).unwrap());
    }

    #[test]
    fn header_with_options_and_fragment_fields() {
        // IHL 6: one 4-byte option word (Router Alert, RFC 2113: 94 04 00 00).
        // TOS 0xb8 (EF), total 28, id 0x1234, MF + offset 0x0005, TTL 1,
        // protocol 55, 10.0.0.1 -> 10.0.0.2.
        // Checksum by hand: 46b8 + 001c + 1234 + 2005 + 0137 + 0a00 + 0001 +
        // 0a00 + 0002 + 9404 + 0000 = 0x1224b; folded 0x224c; complemented 0xddb3.
        let hdr = "46b8001c123420050137ddb30a0000010a00000294040000";
        let buf = with_payload(hdr, 4);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.dscp(), 46);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.identification(), 0x1234);
        assert!(p.more_fragments());
        assert!(!p.dont_fragment());
        assert_eq!(p.fragment_offset(), 5);
        assert!(p.is_fragment());
        assert_eq!(p.protocol(), Protocol::MinimalEncap);
        assert_eq!(p.options(), &[0x94, 0x04, 0, 0]);
        assert_eq!(p.payload(), &[0, 1, 2, 3]);
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&buf).unwrap();
        assert_eq!(r.to_bytes().unwrap(), hex::decode(hdr).unwrap());
    }

    #[test]
    fn link_padding_is_not_payload() {
        let mut buf = with_payload(UDP_HEADER, 95);
        buf.extend_from_slice(&[0xee; 6]);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), 95);
        assert_eq!(p.datagram().len(), 115);
    }

    #[test]
    fn errors_name_offset_and_field() {
        let buf = with_payload(UDP_HEADER, 95);
        let mut bad = buf.clone();
        bad[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).unwrap_err(),
            Error::bad_value(0, "version")
        );
        bad[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).unwrap_err(),
            Error::bad_length(0, "IHL")
        );
        let mut bad = buf.clone();
        bad[2] = 0;
        bad[3] = 19;
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).unwrap_err(),
            Error::bad_length(2, "total length")
        );
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..100]).unwrap_err(),
            Error::truncated(20, "data", 95, 80)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..11]).unwrap_err(),
            Error::truncated(10, "header checksum", 2, 1)
        );
        let mut bad = buf.clone();
        bad[12] ^= 1;
        assert_eq!(
            Ipv4Repr::parse(&bad).unwrap_err(),
            Error::bad_checksum(10, "header checksum")
        );
        assert!(Ipv4Repr::parse_unchecked(&bad).is_ok());
    }

    #[test]
    fn every_truncation_fails() {
        let buf = with_payload("46b8001c123420050137ddb30a0000010a00000294040000", 4);
        for n in 0..buf.len() {
            assert!(Ipv4Packet::new_checked(&buf[..n]).is_err(), "length {n}");
        }
    }

    #[test]
    fn every_flipped_header_byte_is_caught() {
        let buf = with_payload(UDP_HEADER, 95);
        for i in 0..20 {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            assert!(Ipv4Repr::parse(&bad).is_err(), "byte {i}");
        }
    }

    #[test]
    fn emit_rejects_invalid_reprs() {
        let mut r = Ipv4Repr::parse(&with_payload(UDP_HEADER, 95)).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(r.emit(&mut buf[..19]).unwrap_err(), short_buffer(20, 19));
        r.options = vec![1, 1, 1];
        assert!(r.emit(&mut buf).is_err());
        r.options = vec![1; 44];
        assert!(r.emit(&mut buf).is_err());
        r.options.clear();
        r.payload_len = 65_516;
        assert!(r.emit(&mut buf).is_err());
        r.payload_len = 0;
        r.fragment_offset = 0x2000;
        assert!(r.emit(&mut buf).is_err());
    }

    #[test]
    fn protocol_numbers() {
        for (n, p) in [
            (1, Protocol::Icmp),
            (4, Protocol::IpIp),
            (17, Protocol::Udp),
            (47, Protocol::Gre),
            (55, Protocol::MinimalEncap),
            (200, Protocol::Unknown(200)),
        ] {
            assert_eq!(Protocol::from(n), p);
            assert_eq!(u8::from(p), n);
        }
    }

    #[test]
    fn ttl_decrement() {
        let mut buf = with_payload(UDP_HEADER, 95);
        assert_eq!(decrement_ttl(&mut buf).unwrap(), 63);
        // 0x4011 -> 0x3f11 lowers the sum by 0x0100: checksum 0xb861 + 0x0100
        assert_eq!(&buf[8..12], &[0x3f, 0x11, 0xb9, 0x61]);
        buf[8] = 0;
        fill_checksum(&mut buf[..20]);
        assert_eq!(
            decrement_ttl(&mut buf).unwrap_err(),
            Error::bad_value(8, "time to live")
        );
    }

    pub(crate) fn arb_repr() -> impl Strategy<Value = Ipv4Repr> {
        (
            (
                any::<u8>(),
                any::<u16>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                0u16..=0x1fff,
            ),
            (any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>()),
            (0usize..=10).prop_flat_map(|w| proptest::collection::vec(any::<u8>(), w * 4)),
            0usize..=1400,
        )
            .prop_map(
                |((tos, id, rf, df, mf, off), (ttl, proto, s, d), options, payload_len)| Ipv4Repr {
                    tos,
                    identification: id,
                    reserved_flag: rf,
                    dont_fragment: df,
                    more_fragments: mf,
                    fragment_offset: off,
                    ttl,
                    protocol: Protocol::from(proto),
                    src_addr: Ipv4Addr::from(s),
                    dst_addr: Ipv4Addr::from(d),
                    options,
                    payload_len,
                },
            )
    }

    proptest! {
        #[test]
        fn repr_round_trip(r in arb_repr()) {
            let mut buf = r.to_bytes().unwrap();
            buf.resize(r.total_len(), 0xab);
            let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Ipv4Repr::parse(&buf).unwrap(), r);
        }

        #[test]
        fn ttl_decrement_matches_full_recompute(r in arb_repr()) {
            prop_assume!(r.ttl > 0);
            let mut buf = r.to_bytes().unwrap();
            buf.resize(r.total_len(), 0);
            decrement_ttl(&mut buf).unwrap();
            let mut expected = r.clone();
            expected.ttl -= 1;
            prop_assert_eq!(&buf[..r.header_len()], &expected.to_bytes().unwrap()[..]);
        }

        #[test]
        fn never_panics(buf in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Ipv4Packet::new_checked(&buf[..]) {
                let _ = (p.payload(), p.options(), p.verify_checksum(), p.src_addr(), p.dst_addr());
            }
            let _ = Ipv4Repr::parse(&buf);
        }
    }
}
