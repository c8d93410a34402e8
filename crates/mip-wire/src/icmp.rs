//! ICMP agent discovery: Agent Advertisement (type 9) and Agent Solicitation
//! (type 10), RFC 5944 §2 on top of ICMP Router Discovery (RFC 1256).
//!
//! Everything here works on the ICMP message alone (the IP payload, from the
//! ICMP Type octet to the end of the datagram): the length of the message is
//! the length of the buffer. Checksums are verified on parse (unless the
//! `parse_unchecked` variant is used) and computed on emit.
//!
//! An advertisement is laid out as (RFC 1256 §3, RFC 5944 §2.1):
//!
//! ```text
//!  0       type 9 | code 0/16 | checksum(16)
//!  4       num addrs | addr entry size (2) | lifetime(16)
//!  8       router address[i](32) | preference level[i](32)   (num addrs times)
//!  8+8n    extensions: type(8) length(8) data, or a lone 0 octet (padding)
//! ```

use std::net::Ipv4Addr;

use crate::error::{internet_checksum, Error, Result};
use crate::ipv4::{addr_at, be16, check_fixed, short_buffer};

/// ICMP type of an Agent Advertisement (an RFC 1256 Router Advertisement).
pub const TYPE_AGENT_ADVERTISEMENT: u8 = 9;
/// ICMP type of an Agent Solicitation (an RFC 1256 Router Solicitation).
pub const TYPE_AGENT_SOLICITATION: u8 = 10;
/// The only Addr Entry Size this decoder accepts: address plus preference,
/// two 32-bit words (RFC 1256 §3).
pub const ADDR_ENTRY_SIZE: u8 = 2;
/// Length of the fixed part of both messages.
pub const HEADER_LEN: usize = 8;

/// One-byte padding extension (RFC 5944 §2.1.3): a lone zero octet.
pub const EXT_PAD: u8 = 0;
/// Mobility Agent Advertisement Extension (RFC 5944 §2.1.1).
pub const EXT_MOBILITY_AGENT: u8 = 16;
/// Prefix-Lengths Extension (RFC 5944 §2.1.2).
pub const EXT_PREFIX_LENGTHS: u8 = 19;
/// Foreign Agent Challenge Extension (RFC 3012 §3).
pub const EXT_FA_CHALLENGE: u8 = 24;

/// A Registration Lifetime of all ones means "infinity" (RFC 5944 §2.1.1).
pub const REGISTRATION_LIFETIME_INFINITE: u16 = 0xffff;
/// Preference level 0x80000000: the address must not be used as a default
/// router (RFC 1256 §3).
pub const PREFERENCE_NOT_DEFAULT: i32 = i32::MIN;

/// The sequence number an agent puts in its next advertisement.
///
/// RFC 5944 §2.1.1 counts advertisements from 0 when the agent initializes;
/// after 0xffff the count continues at 256, not 0 (RFC 5944 §2.3.2), so that
/// values 0–255 are only ever seen after a reboot and a mobile node can tell
/// a reboot from a rollover (see [`sequence_indicates_reboot`]).
pub fn next_sequence(seq: u16) -> u16 {
    if seq == 0xffff {
        256
    } else {
        seq + 1
    }
}

/// True if an advertisement carrying `received` after one carrying `previous`
/// means the agent rebooted: the number went down and is below 256 (a
/// rollover goes from 0xffff to 256, see [`next_sequence`]). A mobile node
/// that sees this may have lost its binding with that agent and should
/// re-register (RFC 5944 §2.3.2).
pub fn sequence_indicates_reboot(previous: u16, received: u16) -> bool {
    received < 256 && received < previous
}

/// The Code of an Agent Advertisement (RFC 5944 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdvertisementCode {
    /// 0: the agent also routes common (non-Mobile-IP) traffic.
    RoutesCommonTraffic,
    /// 16: the agent does not route common traffic (it still forwards
    /// datagrams from registered mobile nodes to a default router).
    MobilityOnly,
    /// Any other code, kept as received (RFC 1256 receivers discard these).
    Unknown(u8),
}

impl From<u8> for AdvertisementCode {
    fn from(v: u8) -> Self {
        match v {
            0 => AdvertisementCode::RoutesCommonTraffic,
            16 => AdvertisementCode::MobilityOnly,
            other => AdvertisementCode::Unknown(other),
        }
    }
}

impl From<AdvertisementCode> for u8 {
    fn from(c: AdvertisementCode) -> u8 {
        match c {
            AdvertisementCode::RoutesCommonTraffic => 0,
            AdvertisementCode::MobilityOnly => 16,
            AdvertisementCode::Unknown(v) => v,
        }
    }
}

/// The 16 flag bits of the Mobility Agent Advertisement Extension (RFC 5944
/// §2.1.1 defines R B H F M G r T in the first octet, the second octet being
/// reserved; RFC 3519 added U and RFC 3543 X there). Bit values as in
/// WIRE-REGISTRY.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AdvertisementFlags {
    /// R 0x8000: registration with this foreign agent is required, even with
    /// a co-located care-of address.
    pub registration_required: bool,
    /// B 0x4000: busy, no more registrations accepted.
    pub busy: bool,
    /// H 0x2000: the agent is a home agent on this link.
    pub home_agent: bool,
    /// F 0x1000: the agent is a foreign agent on this link.
    pub foreign_agent: bool,
    /// M 0x0800: minimal encapsulation (RFC 2004) supported.
    pub minimal_encapsulation: bool,
    /// G 0x0400: GRE encapsulation supported.
    pub gre_encapsulation: bool,
    /// r 0x0200: reserved (was V, Van Jacobson compression); sent as zero.
    pub reserved_r: bool,
    /// T 0x0100: reverse tunnelling supported (RFC 3024).
    pub reverse_tunnelling: bool,
    /// U 0x0080: UDP tunnelling supported (RFC 3519).
    pub udp_tunnelling: bool,
    /// X 0x0040: registration revocation supported (RFC 3543).
    pub revocation: bool,
    /// The remaining bits (mask 0x003f), kept as received.
    pub unassigned: u16,
}

impl AdvertisementFlags {
    /// R.
    pub const R: u16 = 0x8000;
    /// B.
    pub const B: u16 = 0x4000;
    /// H.
    pub const H: u16 = 0x2000;
    /// F.
    pub const F: u16 = 0x1000;
    /// M.
    pub const M: u16 = 0x0800;
    /// G.
    pub const G: u16 = 0x0400;
    /// r (reserved).
    pub const RESERVED_R: u16 = 0x0200;
    /// T.
    pub const T: u16 = 0x0100;
    /// U.
    pub const U: u16 = 0x0080;
    /// X.
    pub const X: u16 = 0x0040;
    /// Bits with no name in this suite.
    pub const UNASSIGNED_MASK: u16 = 0x003f;

    /// Splits a flags word into named bits; nothing is lost.
    pub fn from_bits(bits: u16) -> Self {
        AdvertisementFlags {
            registration_required: bits & Self::R != 0,
            busy: bits & Self::B != 0,
            home_agent: bits & Self::H != 0,
            foreign_agent: bits & Self::F != 0,
            minimal_encapsulation: bits & Self::M != 0,
            gre_encapsulation: bits & Self::G != 0,
            reserved_r: bits & Self::RESERVED_R != 0,
            reverse_tunnelling: bits & Self::T != 0,
            udp_tunnelling: bits & Self::U != 0,
            revocation: bits & Self::X != 0,
            unassigned: bits & Self::UNASSIGNED_MASK,
        }
    }

    /// The flags word (bits of `unassigned` outside 0x003f are dropped).
    pub fn bits(&self) -> u16 {
        let named = [
            (self.registration_required, Self::R),
            (self.busy, Self::B),
            (self.home_agent, Self::H),
            (self.foreign_agent, Self::F),
            (self.minimal_encapsulation, Self::M),
            (self.gre_encapsulation, Self::G),
            (self.reserved_r, Self::RESERVED_R),
            (self.reverse_tunnelling, Self::T),
            (self.udp_tunnelling, Self::U),
            (self.revocation, Self::X),
        ];
        named
            .iter()
            .filter(|(set, _)| *set)
            .fold(self.unassigned & Self::UNASSIGNED_MASK, |acc, (_, bit)| {
                acc | bit
            })
    }
}

/// One router address entry of the RFC 1256 part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterAddress {
    /// Router Address.
    pub address: Ipv4Addr,
    /// Preference Level: signed, two's complement; higher is preferred;
    /// [`PREFERENCE_NOT_DEFAULT`] means "never a default router".
    pub preference: i32,
}

/// The Mobility Agent Advertisement Extension (type 16, RFC 5944 §2.1.1).
/// Its Length is 6 + 4 * (number of care-of addresses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobilityAgentAdvertisement {
    /// Sequence Number: advertisements sent since the agent initialized
    /// (see [`next_sequence`]).
    pub sequence: u16,
    /// Registration Lifetime in seconds the agent accepts;
    /// [`REGISTRATION_LIFETIME_INFINITE`] is infinity.
    pub registration_lifetime: u16,
    /// The 16 flag bits.
    pub flags: AdvertisementFlags,
    /// Care-of addresses offered by a foreign agent (zero or more).
    pub care_of_addresses: Vec<Ipv4Addr>,
}

impl MobilityAgentAdvertisement {
    /// The value of the Length field.
    pub fn body_len(&self) -> usize {
        6 + 4 * self.care_of_addresses.len()
    }

    fn parse_body(data: &[u8], length_offset: usize) -> Result<Self> {
        // `& 3` rather than `% 4` / `is_multiple_of` (MSRV 1.85)
        if data.len() < 6 || (data.len() - 6) & 3 != 0 {
            return Err(Error::bad_length(length_offset, "length"));
        }
        Ok(MobilityAgentAdvertisement {
            sequence: be16(data, 0),
            registration_lifetime: be16(data, 2),
            flags: AdvertisementFlags::from_bits(be16(data, 4)),
            care_of_addresses: data[6..].chunks_exact(4).map(|c| addr_at(c, 0)).collect(),
        })
    }

    fn emit_body(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&self.sequence.to_be_bytes());
        out[2..4].copy_from_slice(&self.registration_lifetime.to_be_bytes());
        out[4..6].copy_from_slice(&self.flags.bits().to_be_bytes());
        for (chunk, a) in out[6..].chunks_exact_mut(4).zip(&self.care_of_addresses) {
            chunk.copy_from_slice(&a.octets());
        }
    }
}

/// One extension after the router-address list, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AdvertisementExtension {
    /// Type 0: a single padding octet (no Length field).
    Pad,
    /// Type 16.
    MobilityAgent(MobilityAgentAdvertisement),
    /// Type 19: one prefix length per router address (RFC 5944 §2.1.2 says
    /// Length equals Num Addrs; kept as received, not enforced).
    PrefixLengths(Vec<u8>),
    /// Type 24: the foreign agent's challenge value (RFC 3012 §3).
    FaChallenge(Vec<u8>),
    /// Any other type, kept byte for byte with the type/length layout.
    Unknown {
        /// Type octet.
        ext_type: u8,
        /// The bytes after the Length octet.
        data: Vec<u8>,
    },
}

impl AdvertisementExtension {
    /// The Type octet.
    pub fn ext_type(&self) -> u8 {
        match self {
            AdvertisementExtension::Pad => EXT_PAD,
            AdvertisementExtension::MobilityAgent(_) => EXT_MOBILITY_AGENT,
            AdvertisementExtension::PrefixLengths(_) => EXT_PREFIX_LENGTHS,
            AdvertisementExtension::FaChallenge(_) => EXT_FA_CHALLENGE,
            AdvertisementExtension::Unknown { ext_type, .. } => *ext_type,
        }
    }

    fn body_len(&self) -> usize {
        match self {
            AdvertisementExtension::Pad => 0,
            AdvertisementExtension::MobilityAgent(m) => m.body_len(),
            AdvertisementExtension::PrefixLengths(d)
            | AdvertisementExtension::FaChallenge(d)
            | AdvertisementExtension::Unknown { data: d, .. } => d.len(),
        }
    }

    /// Bytes on the wire: 1 for padding, else 2 + Length.
    pub fn buffer_len(&self) -> usize {
        match self {
            AdvertisementExtension::Pad => 1,
            _ => 2 + self.body_len(),
        }
    }

    /// Interprets one extension found by the view (its offset is used in
    /// errors).
    fn from_raw(raw: &RawExtension<'_>) -> Result<Self> {
        Ok(match raw.ext_type {
            EXT_PAD => AdvertisementExtension::Pad,
            EXT_MOBILITY_AGENT => AdvertisementExtension::MobilityAgent(
                MobilityAgentAdvertisement::parse_body(raw.data, raw.offset + 1)?,
            ),
            EXT_PREFIX_LENGTHS => AdvertisementExtension::PrefixLengths(raw.data.to_vec()),
            EXT_FA_CHALLENGE => AdvertisementExtension::FaChallenge(raw.data.to_vec()),
            t => AdvertisementExtension::Unknown {
                ext_type: t,
                data: raw.data.to_vec(),
            },
        })
    }

    /// Writes the extension at the start of `out` (long enough), `offset`
    /// being its position in the message for errors.
    fn emit(&self, out: &mut [u8], offset: usize) -> Result<usize> {
        if let AdvertisementExtension::Pad = self {
            out[0] = EXT_PAD;
            return Ok(1);
        }
        let len = self.body_len();
        let len8 = u8::try_from(len).map_err(|_| Error::bad_length(offset + 1, "length"))?;
        out[0] = self.ext_type();
        out[1] = len8;
        let body = &mut out[2..2 + len];
        match self {
            AdvertisementExtension::Pad => {}
            AdvertisementExtension::MobilityAgent(m) => m.emit_body(body),
            AdvertisementExtension::PrefixLengths(d)
            | AdvertisementExtension::FaChallenge(d)
            | AdvertisementExtension::Unknown { data: d, .. } => body.copy_from_slice(d),
        }
        Ok(2 + len)
    }
}

/// An extension as found in the buffer by [`AgentAdvertisementPacket::extensions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawExtension<'a> {
    /// Offset of the Type octet from the start of the ICMP message.
    pub offset: usize,
    /// Type octet ([`EXT_PAD`] for a padding octet).
    pub ext_type: u8,
    /// The bytes after the Length octet (empty for padding).
    pub data: &'a [u8],
}

/// Iterator over the extensions of a checked advertisement.
#[derive(Debug, Clone)]
pub struct ExtensionIter<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for ExtensionIter<'a> {
    type Item = RawExtension<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.offset;
        let ext_type = *self.buf.get(offset)?;
        if ext_type == EXT_PAD {
            self.offset += 1;
            return Some(RawExtension {
                offset,
                ext_type,
                data: &[],
            });
        }
        let len = usize::from(*self.buf.get(offset + 1)?);
        let data = self.buf.get(offset + 2..offset + 2 + len)?;
        self.offset = offset + 2 + len;
        Some(RawExtension {
            offset,
            ext_type,
            data,
        })
    }
}

/// Iterator over the router addresses of a checked advertisement.
#[derive(Debug, Clone)]
pub struct RouterAddressIter<'a> {
    entries: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for RouterAddressIter<'_> {
    type Item = RouterAddress;

    fn next(&mut self) -> Option<RouterAddress> {
        self.entries.next().map(|e| RouterAddress {
            address: addr_at(e, 0),
            preference: i32::from_be_bytes([e[4], e[5], e[6], e[7]]),
        })
    }
}

const ADV_FIXED: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "code"),
    (2, 2, "checksum"),
    (4, 1, "num addrs"),
    (5, 1, "addr entry size"),
    (6, 2, "lifetime"),
];

const SOL_FIXED: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "code"),
    (2, 2, "checksum"),
    (4, 4, "reserved"),
];

fn check_icmp_checksum(buf: &[u8]) -> Result<()> {
    if internet_checksum(buf) == 0 {
        Ok(())
    } else {
        Err(Error::bad_checksum(2, "checksum"))
    }
}

fn fill_icmp_checksum(msg: &mut [u8]) {
    msg[2] = 0;
    msg[3] = 0;
    let c = internet_checksum(msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
}

/// Field name used for a truncated extension body.
fn ext_body_name(ext_type: u8) -> &'static str {
    match ext_type {
        EXT_MOBILITY_AGENT => "mobility agent advertisement extension",
        EXT_PREFIX_LENGTHS => "prefix lengths",
        EXT_FA_CHALLENGE => "challenge",
        _ => "extension data",
    }
}

/// A read-only view of an Agent Advertisement (or plain Router
/// Advertisement) message.
///
/// [`AgentAdvertisementPacket::new_checked`] checks the type, the Addr Entry
/// Size, that all Num Addrs entries are present, and walks the extension
/// chain once so that every extension's Length fits; the checksum is not
/// verified there (see [`AgentAdvertisementPacket::verify_checksum`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentAdvertisementPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AgentAdvertisementPacket<T> {
    /// Validates the layout of `buffer` (the whole ICMP message).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), &ADV_FIXED[..1])?;
        if b[0] != TYPE_AGENT_ADVERTISEMENT {
            return Err(Error::bad_value(0, "type"));
        }
        check_fixed(b.len(), ADV_FIXED)?;
        // RFC 1256 §5.2 lets receivers accept entries larger than 2 words for
        // future versions; none is defined, and Mobile IP uses 2.
        if b[5] != ADDR_ENTRY_SIZE {
            return Err(Error::bad_value(5, "addr entry size"));
        }
        let ext_start = HEADER_LEN + 8 * usize::from(b[4]);
        if b.len() < ext_start {
            let avail = b.len() - HEADER_LEN;
            let at = HEADER_LEN + avail / 8 * 8;
            check_fixed(
                b.len(),
                &[(at, 4, "router address"), (at + 4, 4, "preference level")],
            )?;
            // not reached: one of the two fields above does not fit
            return Err(Error::truncated(at, "router address", 8, b.len() - at));
        }
        let mut off = ext_start;
        while off < b.len() {
            let t = b[off];
            if t == EXT_PAD {
                off += 1;
                continue;
            }
            if off + 1 >= b.len() {
                return Err(Error::truncated(off + 1, "length", 1, 0));
            }
            let len = usize::from(b[off + 1]);
            let body = off + 2;
            if b.len() - body < len {
                return Err(Error::truncated(
                    body,
                    ext_body_name(t),
                    len,
                    b.len() - body,
                ));
            }
            off = body + len;
        }
        Ok(AgentAdvertisementPacket { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// ICMP Type (9).
    pub fn msg_type(&self) -> u8 {
        self.b()[0]
    }
    /// Code.
    pub fn code(&self) -> AdvertisementCode {
        AdvertisementCode::from(self.b()[1])
    }
    /// Checksum as carried.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 2)
    }
    /// Num Addrs.
    pub fn num_addrs(&self) -> u8 {
        self.b()[4]
    }
    /// Addr Entry Size (2 for a checked view).
    pub fn addr_entry_size(&self) -> u8 {
        self.b()[5]
    }
    /// Lifetime (seconds the advertisement is valid).
    pub fn lifetime(&self) -> u16 {
        be16(self.b(), 6)
    }
    /// The router address entries.
    pub fn router_addresses(&self) -> RouterAddressIter<'_> {
        let end = HEADER_LEN + 8 * usize::from(self.num_addrs());
        RouterAddressIter {
            entries: self.b()[HEADER_LEN..end].chunks_exact(8),
        }
    }
    /// Offset of the first extension octet.
    pub fn extensions_offset(&self) -> usize {
        HEADER_LEN + 8 * usize::from(self.num_addrs())
    }
    /// The extensions, in wire order, padding octets included.
    pub fn extensions(&self) -> ExtensionIter<'_> {
        ExtensionIter {
            buf: self.b(),
            offset: self.extensions_offset(),
        }
    }
    /// True if the ICMP checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.b()) == 0
    }
}

/// An owned Agent Advertisement.
///
/// Extensions are kept in wire order, padding octets and unknown types
/// included, so that `emit(parse(b)) == b`. [`AgentAdvertisement::mobility_agent`],
/// [`AgentAdvertisement::prefix_lengths`] and [`AgentAdvertisement::fa_challenge`]
/// return the first extension of each kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentAdvertisement {
    /// Code (0 or 16).
    pub code: AdvertisementCode,
    /// Lifetime of the advertisement, seconds (RFC 1256).
    pub lifetime: u16,
    /// Router address entries (Num Addrs may be 0 in an Agent Advertisement,
    /// RFC 5944 §2.1).
    pub router_addresses: Vec<RouterAddress>,
    /// Extensions in wire order.
    pub extensions: Vec<AdvertisementExtension>,
}

impl AgentAdvertisement {
    /// An advertisement carrying just the Mobility Agent Advertisement
    /// Extension, which RFC 5944 §2.1 requires.
    pub fn new(
        code: AdvertisementCode,
        lifetime: u16,
        router_addresses: Vec<RouterAddress>,
        mobility: MobilityAgentAdvertisement,
    ) -> Self {
        AgentAdvertisement {
            code,
            lifetime,
            router_addresses,
            extensions: vec![AdvertisementExtension::MobilityAgent(mobility)],
        }
    }

    /// Parses an advertisement, verifying the checksum first (so any single
    /// corrupted octet is reported as `bad_checksum(2, "checksum")`).
    pub fn parse(buf: &[u8]) -> Result<Self> {
        check_fixed(buf.len(), ADV_FIXED)?;
        check_icmp_checksum(buf)?;
        Self::parse_unchecked(buf)
    }

    /// Parses an advertisement without verifying the checksum.
    pub fn parse_unchecked(buf: &[u8]) -> Result<Self> {
        let p = AgentAdvertisementPacket::new_checked(buf)?;
        Ok(AgentAdvertisement {
            code: p.code(),
            lifetime: p.lifetime(),
            router_addresses: p.router_addresses().collect(),
            extensions: p
                .extensions()
                .map(|raw| AdvertisementExtension::from_raw(&raw))
                .collect::<Result<_>>()?,
        })
    }

    /// The first Mobility Agent Advertisement Extension, if any. An
    /// advertisement without one is a plain RFC 1256 Router Advertisement.
    pub fn mobility_agent(&self) -> Option<&MobilityAgentAdvertisement> {
        self.extensions.iter().find_map(|e| match e {
            AdvertisementExtension::MobilityAgent(m) => Some(m),
            _ => None,
        })
    }

    /// The first Prefix-Lengths Extension's prefix lengths, if any.
    pub fn prefix_lengths(&self) -> Option<&[u8]> {
        self.extensions.iter().find_map(|e| match e {
            AdvertisementExtension::PrefixLengths(d) => Some(&d[..]),
            _ => None,
        })
    }

    /// The first FA Challenge Extension's challenge, if any.
    pub fn fa_challenge(&self) -> Option<&[u8]> {
        self.extensions.iter().find_map(|e| match e {
            AdvertisementExtension::FaChallenge(d) => Some(&d[..]),
            _ => None,
        })
    }

    /// Number of one-octet padding extensions.
    pub fn padding_count(&self) -> usize {
        self.extensions
            .iter()
            .filter(|e| matches!(e, AdvertisementExtension::Pad))
            .count()
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + 8 * self.router_addresses.len()
            + self
                .extensions
                .iter()
                .map(AdvertisementExtension::buffer_len)
                .sum::<usize>()
    }

    /// Writes the message with its checksum into the start of `buf` and
    /// returns its length. Fails if `buf` is too short, if there are more than
    /// 255 router addresses, or if an extension's body is longer than 255.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let avail = buf.len();
        let msg = buf.get_mut(..len).ok_or(short_buffer(len, avail))?;
        let num = u8::try_from(self.router_addresses.len())
            .map_err(|_| Error::bad_value(4, "num addrs"))?;
        msg[0] = TYPE_AGENT_ADVERTISEMENT;
        msg[1] = self.code.into();
        msg[4] = num;
        msg[5] = ADDR_ENTRY_SIZE;
        msg[6..8].copy_from_slice(&self.lifetime.to_be_bytes());
        for (entry, r) in msg[HEADER_LEN..]
            .chunks_exact_mut(8)
            .zip(&self.router_addresses)
        {
            entry[..4].copy_from_slice(&r.address.octets());
            entry[4..].copy_from_slice(&r.preference.to_be_bytes());
        }
        let mut off = HEADER_LEN + 8 * self.router_addresses.len();
        for e in &self.extensions {
            off += e.emit(&mut msg[off..], off)?;
        }
        fill_icmp_checksum(msg);
        Ok(len)
    }

    /// The emitted message (see [`AgentAdvertisement::emit`] for the errors).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

/// A read-only view of an Agent Solicitation (RFC 1256 Router Solicitation,
/// RFC 5944 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentSolicitationPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AgentSolicitationPacket<T> {
    /// Checks the type and that the 8 fixed octets are present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), &SOL_FIXED[..1])?;
        if b[0] != TYPE_AGENT_SOLICITATION {
            return Err(Error::bad_value(0, "type"));
        }
        check_fixed(b.len(), SOL_FIXED)?;
        Ok(AgentSolicitationPacket { buffer })
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Code (0 per RFC 1256).
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    /// Checksum as carried.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Reserved (sent as 0, ignored on receipt).
    pub fn reserved(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    /// Octets after the 8-byte message (RFC 1256 receivers accept an ICMP
    /// length of 8 or more).
    pub fn trailing(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
    /// True if the ICMP checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        internet_checksum(self.buffer.as_ref()) == 0
    }
}

/// An owned Agent Solicitation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AgentSolicitation {
    /// Code (0; other values are kept, RFC 1256 receivers discard them).
    pub code: u8,
    /// Reserved word, kept as received.
    pub reserved: u32,
    /// Octets past the 8-byte message, kept as received (normally empty).
    pub trailing: Vec<u8>,
}

impl AgentSolicitation {
    /// Parses and checksum-verifies a solicitation.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        check_fixed(buf.len(), SOL_FIXED)?;
        check_icmp_checksum(buf)?;
        Self::parse_unchecked(buf)
    }

    /// Parses a solicitation without verifying the checksum.
    pub fn parse_unchecked(buf: &[u8]) -> Result<Self> {
        let p = AgentSolicitationPacket::new_checked(buf)?;
        Ok(AgentSolicitation {
            code: p.code(),
            reserved: p.reserved(),
            trailing: p.trailing().to_vec(),
        })
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.trailing.len()
    }

    /// Writes the message with its checksum into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let avail = buf.len();
        let msg = buf.get_mut(..len).ok_or(short_buffer(len, avail))?;
        msg[0] = TYPE_AGENT_SOLICITATION;
        msg[1] = self.code;
        msg[4..8].copy_from_slice(&self.reserved.to_be_bytes());
        msg[HEADER_LEN..].copy_from_slice(&self.trailing);
        fill_icmp_checksum(msg);
        Ok(len)
    }

    /// The emitted message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        // cannot fail: the buffer has exactly the needed length
        let _ = self.emit(&mut v);
        v
    }
}

/// Either agent discovery message, chosen by the ICMP type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentDiscovery {
    /// Type 9.
    Advertisement(AgentAdvertisement),
    /// Type 10.
    Solicitation(AgentSolicitation),
}

impl AgentDiscovery {
    /// Parses (checksum verified) an ICMP message of type 9 or 10; any other
    /// type is `bad_value(0, "type")`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        match buf.first() {
            None => Err(Error::truncated(0, "type", 1, 0)),
            Some(&TYPE_AGENT_ADVERTISEMENT) => {
                AgentAdvertisement::parse(buf).map(AgentDiscovery::Advertisement)
            }
            Some(&TYPE_AGENT_SOLICITATION) => {
                AgentSolicitation::parse(buf).map(AgentDiscovery::Solicitation)
            }
            Some(_) => Err(Error::bad_value(0, "type")),
        }
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        match self {
            AgentDiscovery::Advertisement(a) => a.buffer_len(),
            AgentDiscovery::Solicitation(s) => s.buffer_len(),
        }
    }

    /// Writes the message with its checksum into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            AgentDiscovery::Advertisement(a) => a.emit(buf),
            AgentDiscovery::Solicitation(s) => s.emit(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A foreign agent's advertisement, code 16, written by hand (fields and
    /// checksum cross-checked with tshark 4.0's Mobile IP dissector):
    ///
    /// ```text
    /// 09 10 cksm           type 9, code 16
    /// 01 02 07 08          1 address, entry size 2, lifetime 1800
    /// c0 00 02 01          router address 192.0.2.1
    /// 00 00 00 00          preference 0
    /// 10 0a                mobility agent advertisement, length 6 + 4
    /// 00 05 02 58          sequence 5, registration lifetime 600
    /// 95 00                flags R F G T (0x8000|0x1000|0x0400|0x0100)
    /// c0 00 02 01          care-of address 192.0.2.1
    /// 00                   padding
    /// 13 01 18             prefix lengths: /24
    /// ```
    ///
    /// Checksum by hand, 16-bit words with the checksum as 0:
    /// 0910 + 0102 + 0708 + c000 + 0201 + 100a + 0005 + 0258 + 9500 + c000 +
    /// 0201 + 0013 + 0118 = 0x23dae; folded 0x3db0; complemented 0xc24f.
    const FA_ADV: &str =
        "0910c24f 01020708 c0000201 00000000 100a 00050258 9500 c0000201 00 130118";

    fn fa_adv() -> Vec<u8> {
        hex::decode(FA_ADV.replace(' ', "")).unwrap()
    }

    /// (Also cross-checked with tshark 4.0.) A home + foreign agent, code 0, two routers (the second never a default
    /// router), two care-of addresses, an FA challenge, an unknown skippable
    /// extension and padding:
    ///
    /// ```text
    /// 09 00 cksm  02 02 ff ff                 lifetime 65535
    /// 0a 00 00 01  00 00 00 0a                10.0.0.1, preference 10
    /// 0a 00 00 02  80 00 00 00                10.0.0.2, preference 0x80000000
    /// 10 0e  01 00  ff ff  30 c0              seq 256, infinite, H F X U + unassigned 0x0000
    ///        0a 00 00 01  0a 00 00 03         care-of 10.0.0.1, 10.0.0.3
    /// 00 00                                   two padding octets
    /// 18 04  de ad be ef                      challenge deadbeef
    /// c8 03  61 62 63                         unknown type 200, "abc"
    /// ```
    ///
    /// Flags: H 0x2000 | F 0x1000 | U 0x0080 | X 0x0040 = 0x30c0.
    /// Checksum by hand: 0900 + 0202 + ffff + 0a00 + 0001 + 0000 + 000a +
    /// 0a00 + 0002 + 8000 + 0000 + 100e + 0100 + ffff + 30c0 + 0a00 + 0001 +
    /// 0a00 + 0003 + 0000 + 1804 + dead + beef + c803 + 6162 + 6300 =
    /// 0x636e4; folded 0x36e4 + 6 = 0x36ea; complemented 0xc915.
    const HA_FA_ADV: &str = "0900c9150202ffff 0a0000010000000a 0a00000280000000 \
                             100e0100ffff30c0 0a0000010a000003 0000 1804deadbeef c803616263";

    fn ha_fa_adv() -> Vec<u8> {
        hex::decode(HA_FA_ADV.replace(' ', "")).unwrap()
    }

    #[test]
    fn foreign_agent_advertisement_vector() {
        let b = fa_adv();
        assert_eq!(internet_checksum(&b), 0);
        let p = AgentAdvertisementPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type(), 9);
        assert_eq!(p.code(), AdvertisementCode::MobilityOnly);
        assert_eq!(p.checksum(), 0xc24f);
        assert_eq!(p.num_addrs(), 1);
        assert_eq!(p.addr_entry_size(), 2);
        assert_eq!(p.lifetime(), 1800);
        assert!(p.verify_checksum());
        let raw: Vec<_> = p
            .extensions()
            .map(|e| (e.offset, e.ext_type, e.data.len()))
            .collect();
        assert_eq!(raw, vec![(16, 16, 10), (28, 0, 0), (29, 19, 1)]);

        let a = AgentAdvertisement::parse(&b).unwrap();
        assert_eq!(a.code, AdvertisementCode::MobilityOnly);
        assert_eq!(a.lifetime, 1800);
        assert_eq!(
            a.router_addresses,
            vec![RouterAddress {
                address: Ipv4Addr::new(192, 0, 2, 1),
                preference: 0
            }]
        );
        let m = a.mobility_agent().unwrap();
        assert_eq!(m.sequence, 5);
        assert_eq!(m.registration_lifetime, 600);
        assert_eq!(
            m.flags,
            AdvertisementFlags {
                registration_required: true,
                foreign_agent: true,
                gre_encapsulation: true,
                reverse_tunnelling: true,
                ..Default::default()
            }
        );
        assert_eq!(m.flags.bits(), 0x9500);
        assert_eq!(m.care_of_addresses, vec![Ipv4Addr::new(192, 0, 2, 1)]);
        assert_eq!(a.prefix_lengths(), Some(&[24u8][..]));
        assert_eq!(a.fa_challenge(), None);
        assert_eq!(a.padding_count(), 1);
        assert_eq!(a.extensions[1], AdvertisementExtension::Pad);
        assert_eq!(a.buffer_len(), b.len());
        assert_eq!(a.to_bytes().unwrap(), b);
        assert_eq!(
            AgentDiscovery::parse(&b).unwrap(),
            AgentDiscovery::Advertisement(a)
        );
    }

    #[test]
    fn home_and_foreign_agent_advertisement_vector() {
        let b = ha_fa_adv();
        assert_eq!(internet_checksum(&b), 0);
        let a = AgentAdvertisement::parse(&b).unwrap();
        assert_eq!(a.code, AdvertisementCode::RoutesCommonTraffic);
        assert_eq!(a.lifetime, 0xffff);
        assert_eq!(a.router_addresses.len(), 2);
        assert_eq!(a.router_addresses[0].preference, 10);
        assert_eq!(a.router_addresses[1].address, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(a.router_addresses[1].preference, PREFERENCE_NOT_DEFAULT);
        let m = a.mobility_agent().unwrap();
        assert_eq!(m.sequence, 256);
        assert_eq!(m.registration_lifetime, REGISTRATION_LIFETIME_INFINITE);
        assert!(
            m.flags.home_agent
                && m.flags.foreign_agent
                && m.flags.udp_tunnelling
                && m.flags.revocation
        );
        assert!(!m.flags.registration_required && !m.flags.busy && !m.flags.minimal_encapsulation);
        assert!(!m.flags.gre_encapsulation && !m.flags.reserved_r && !m.flags.reverse_tunnelling);
        assert_eq!(m.flags.unassigned, 0);
        assert_eq!(
            m.care_of_addresses,
            vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 3)]
        );
        assert_eq!(a.padding_count(), 2);
        assert_eq!(a.fa_challenge(), Some(&[0xde, 0xad, 0xbe, 0xef][..]));
        assert_eq!(a.prefix_lengths(), None);
        assert_eq!(
            a.extensions.last(),
            Some(&AdvertisementExtension::Unknown {
                ext_type: 200,
                data: b"abc".to_vec()
            })
        );
        assert_eq!(a.to_bytes().unwrap(), b);
    }

    #[test]
    fn solicitation_vector() {
        // 0a 00 cksm 00000000; checksum = !0x0a00 = 0xf5ff.
        let b = hex::decode("0a00f5ff00000000").unwrap();
        let p = AgentSolicitationPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.code(), p.checksum(), p.reserved()), (0, 0xf5ff, 0));
        assert!(p.trailing().is_empty());
        assert!(p.verify_checksum());
        let s = AgentSolicitation::parse(&b).unwrap();
        assert_eq!(s, AgentSolicitation::default());
        assert_eq!(s.to_bytes(), b);
        assert_eq!(
            AgentDiscovery::parse(&b).unwrap(),
            AgentDiscovery::Solicitation(s)
        );
        for n in 0..b.len() {
            assert!(AgentSolicitation::parse(&b[..n]).is_err());
        }
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                AgentSolicitation::parse(&bad).unwrap_err(),
                Error::bad_checksum(2, "checksum")
            );
        }
    }

    #[test]
    fn sequence_rule() {
        assert_eq!(next_sequence(0), 1);
        assert_eq!(next_sequence(255), 256);
        assert_eq!(next_sequence(0xfffe), 0xffff);
        assert_eq!(next_sequence(0xffff), 256);
        assert!(!sequence_indicates_reboot(0xffff, 256));
        assert!(!sequence_indicates_reboot(0xfff0, 300));
        assert!(sequence_indicates_reboot(0xffff, 0));
        assert!(sequence_indicates_reboot(3000, 255));
        assert!(!sequence_indicates_reboot(3, 4));
    }

    #[test]
    fn flags_round_trip_every_word() {
        for bits in 0..=u16::MAX {
            assert_eq!(AdvertisementFlags::from_bits(bits).bits(), bits);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        // Both vectors end in a non-padding extension: a message that ends in
        // a zero padding octet can lose that octet without changing its
        // checksum, and is then still a valid (shorter) advertisement.
        for b in [fa_adv(), ha_fa_adv()] {
            for n in 0..b.len() {
                assert!(AgentAdvertisement::parse(&b[..n]).is_err(), "length {n}");
                let _ = AgentAdvertisement::parse_unchecked(&b[..n]);
            }
        }
    }

    #[test]
    fn every_flipped_byte_is_a_checksum_error() {
        for b in [fa_adv(), ha_fa_adv()] {
            for i in 0..b.len() {
                for mask in [0x01, 0x80, 0xff] {
                    let mut bad = b.clone();
                    bad[i] ^= mask;
                    assert_eq!(
                        AgentAdvertisement::parse(&bad).unwrap_err(),
                        Error::bad_checksum(2, "checksum")
                    );
                }
            }
        }
    }

    #[test]
    fn structural_errors_name_offset_and_field() {
        let b = fa_adv();
        let p = |v: &[u8]| AgentAdvertisementPacket::new_checked(v.to_vec()).unwrap_err();
        assert_eq!(p(&b[..0]), Error::truncated(0, "type", 1, 0));
        assert_eq!(p(&b[..7]), Error::truncated(6, "lifetime", 2, 1));
        assert_eq!(p(&b[..10]), Error::truncated(8, "router address", 4, 2));
        assert_eq!(p(&b[..14]), Error::truncated(12, "preference level", 4, 2));
        assert_eq!(p(&b[..17]), Error::truncated(17, "length", 1, 0));
        assert_eq!(
            p(&b[..20]),
            Error::truncated(18, "mobility agent advertisement extension", 10, 2)
        );
        let mut bad = b.clone();
        bad[5] = 3;
        assert_eq!(p(&bad), Error::bad_value(5, "addr entry size"));
        let mut bad = b.clone();
        bad[0] = 10;
        assert_eq!(p(&bad), Error::bad_value(0, "type"));
        // a mobility extension whose length is not 6 + 4n
        let mut bad = b.clone();
        bad[17] = 7;
        bad.truncate(16 + 2 + 7);
        assert_eq!(
            AgentAdvertisement::parse_unchecked(&bad).unwrap_err(),
            Error::bad_length(17, "length")
        );
        assert_eq!(
            AgentDiscovery::parse(&[3, 0, 0, 0]).unwrap_err(),
            Error::bad_value(0, "type")
        );
    }

    #[test]
    fn emit_errors() {
        let mut a = AgentAdvertisement::parse(&fa_adv()).unwrap();
        let mut small = [0u8; 10];
        assert_eq!(a.emit(&mut small).unwrap_err(), short_buffer(32, 10));
        a.extensions.push(AdvertisementExtension::Unknown {
            ext_type: 130,
            data: vec![0; 256],
        });
        assert_eq!(a.to_bytes().unwrap_err(), Error::bad_length(33, "length"));
        a.extensions.pop();
        a.router_addresses = vec![
            RouterAddress {
                address: Ipv4Addr::UNSPECIFIED,
                preference: 0
            };
            256
        ];
        assert_eq!(a.to_bytes().unwrap_err(), Error::bad_value(4, "num addrs"));
    }

    fn arb_flags() -> impl Strategy<Value = AdvertisementFlags> {
        any::<u16>().prop_map(AdvertisementFlags::from_bits)
    }

    fn arb_mobility() -> impl Strategy<Value = MobilityAgentAdvertisement> {
        (
            any::<u16>(),
            any::<u16>(),
            arb_flags(),
            proptest::collection::vec(any::<u32>(), 0..5),
        )
            .prop_map(|(sequence, registration_lifetime, flags, coas)| {
                MobilityAgentAdvertisement {
                    sequence,
                    registration_lifetime,
                    flags,
                    care_of_addresses: coas.into_iter().map(Ipv4Addr::from).collect(),
                }
            })
    }

    fn arb_extension() -> impl Strategy<Value = AdvertisementExtension> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            Just(AdvertisementExtension::Pad),
            arb_mobility().prop_map(AdvertisementExtension::MobilityAgent),
            bytes().prop_map(AdvertisementExtension::PrefixLengths),
            bytes().prop_map(AdvertisementExtension::FaChallenge),
            (
                any::<u8>().prop_filter("unknown type", |t| ![0, 16, 19, 24].contains(t)),
                bytes()
            )
                .prop_map(|(ext_type, data)| AdvertisementExtension::Unknown { ext_type, data }),
        ]
    }

    fn arb_advertisement() -> impl Strategy<Value = AgentAdvertisement> {
        (
            any::<u8>(),
            any::<u16>(),
            proptest::collection::vec((any::<u32>(), any::<i32>()), 0..5),
            proptest::collection::vec(arb_extension(), 0..8),
        )
            .prop_map(|(code, lifetime, routers, extensions)| AgentAdvertisement {
                code: code.into(),
                lifetime,
                router_addresses: routers
                    .into_iter()
                    .map(|(a, preference)| RouterAddress {
                        address: a.into(),
                        preference,
                    })
                    .collect(),
                extensions,
            })
    }

    /// Well-formed advertisement bytes built directly (not through `emit`):
    /// raw router entries, then raw type/length extensions (type 16 with a
    /// length of 6 + 4n), padding octets, then the checksum folded in.
    fn arb_advertisement_bytes() -> impl Strategy<Value = Vec<u8>> {
        let ext = prop_oneof![
            Just(vec![0u8]),
            (any::<[u8; 6]>(), 0usize..4, any::<u8>()).prop_map(|(fixed, n, fill)| {
                let mut e = vec![16, (6 + 4 * n) as u8];
                e.extend_from_slice(&fixed);
                e.extend(std::iter::repeat_n(fill, 4 * n));
                e
            }),
            (
                any::<u8>().prop_filter("not pad/16", |t| *t != 0 && *t != 16),
                proptest::collection::vec(any::<u8>(), 0..30)
            )
                .prop_map(|(t, d)| {
                    let mut e = vec![t, d.len() as u8];
                    e.extend(d);
                    e
                }),
        ];
        (
            any::<u8>(),
            any::<u16>(),
            proptest::collection::vec(any::<[u8; 8]>(), 0..4),
            proptest::collection::vec(ext, 0..8),
        )
            .prop_map(|(code, lifetime, routers, exts)| {
                let mut b = vec![9, code, 0, 0, routers.len() as u8, 2];
                b.extend_from_slice(&lifetime.to_be_bytes());
                routers.iter().for_each(|r| b.extend_from_slice(r));
                exts.iter().for_each(|e| b.extend_from_slice(e));
                let c = internet_checksum(&b);
                b[2..4].copy_from_slice(&c.to_be_bytes());
                b
            })
    }

    proptest! {
        #[test]
        fn advertisement_repr_round_trip(a in arb_advertisement()) {
            let b = a.to_bytes().unwrap();
            prop_assert_eq!(b.len(), a.buffer_len());
            prop_assert_eq!(AgentAdvertisement::parse(&b).unwrap(), a);
        }

        #[test]
        fn advertisement_bytes_round_trip(b in arb_advertisement_bytes()) {
            let a = AgentAdvertisement::parse(&b).unwrap();
            prop_assert_eq!(a.to_bytes().unwrap(), b);
        }

        #[test]
        fn solicitation_round_trip(code in any::<u8>(), reserved in any::<u32>(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
            let s = AgentSolicitation { code, reserved, trailing };
            prop_assert_eq!(AgentSolicitation::parse(&s.to_bytes()).unwrap(), s);
        }

        #[test]
        fn never_panics(mut b in proptest::collection::vec(any::<u8>(), 0..64), t in 9u8..=10) {
            if let Some(first) = b.first_mut() { *first = t; }
            let _ = AgentDiscovery::parse(&b);
            let _ = AgentAdvertisement::parse_unchecked(&b);
            let _ = AgentSolicitation::parse_unchecked(&b);
            if let Ok(p) = AgentAdvertisementPacket::new_checked(&b[..]) {
                let _ = (p.router_addresses().count(), p.extensions().count(), p.verify_checksum());
            }
        }
    }
}
