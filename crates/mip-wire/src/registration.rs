//! Registration Request (type 1, RFC 5944 §3.3) and Registration Reply
//! (type 3, RFC 5944 §3.4).
//!
//! ```text
//! Request:                                Reply:
//!  0      type = 1                         0      type = 3
//!  1      S B D M G r T x                  1      code
//!  2..4   lifetime                         2..4   lifetime
//!  4..8   home address                     4..8   home address
//!  8..12  home agent                       8..12  home agent
//! 12..16  care-of address                 12..20  identification
//! 16..24  identification                  20..    extensions
//! 24..    extensions
//! ```
//!
//! The views check the fixed part once in `new_checked`; extensions are then
//! framed lazily by [`Extensions`], which reports framing errors per item.
//! The owned forms parse every extension strictly (see
//! [`crate::extension`]).

use core::fmt;
use std::net::Ipv4Addr;

use crate::codes::{MessageType, ReplyCode};
use crate::error::{Error, Result};
use crate::extension::{
    self, check_fields, get_addr, get_u16, get_u64, AuthRegion, Extension, Extensions,
    RawExtension, Writer,
};
use crate::ident::Identification;

/// Length of the fixed part of a Registration Request.
pub const REQUEST_HEADER_LEN: usize = 24;
/// Length of the fixed part of a Registration Reply.
pub const REPLY_HEADER_LEN: usize = 20;
/// A Lifetime of 0xffff means infinity (RFC 5944 §3.3); the codecs keep the
/// number as it is.
pub const LIFETIME_INFINITE: u16 = 0xffff;

/// Fixed fields of a request: (offset, size, RFC name).
const REQUEST_FIELDS: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "flags"),
    (2, 2, "lifetime"),
    (4, 4, "home address"),
    (8, 4, "home agent"),
    (12, 4, "care-of address"),
    (16, 8, "identification"),
];

/// Fixed fields of a reply: (offset, size, RFC name).
const REPLY_FIELDS: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "code"),
    (2, 2, "lifetime"),
    (4, 4, "home address"),
    (8, 4, "home agent"),
    (12, 8, "identification"),
];

/// The flags byte of a Registration Request (RFC 5944 §3.3, RFC 3024 for T).
/// Conversion to and from the byte is lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RequestFlags {
    /// S (0x80): simultaneous bindings.
    pub s: bool,
    /// B (0x40): broadcast datagrams.
    pub b: bool,
    /// D (0x20): decapsulation by mobile node (co-located care-of address).
    pub d: bool,
    /// M (0x10): minimal encapsulation.
    pub m: bool,
    /// G (0x08): GRE encapsulation.
    pub g: bool,
    /// r (0x04): reserved, sent as zero (was V, Van Jacobson compression).
    pub r: bool,
    /// T (0x02): reverse tunnelling requested (RFC 3024).
    pub t: bool,
    /// x (0x01): reserved, sent as zero.
    pub x: bool,
}

impl RequestFlags {
    /// S bit.
    pub const S: u8 = 0x80;
    /// B bit.
    pub const B: u8 = 0x40;
    /// D bit.
    pub const D: u8 = 0x20;
    /// M bit.
    pub const M: u8 = 0x10;
    /// G bit.
    pub const G: u8 = 0x08;
    /// r bit.
    pub const R: u8 = 0x04;
    /// T bit.
    pub const T: u8 = 0x02;
    /// x bit.
    pub const X: u8 = 0x01;

    /// Decodes the flags byte.
    pub const fn from_byte(v: u8) -> Self {
        RequestFlags {
            s: v & Self::S != 0,
            b: v & Self::B != 0,
            d: v & Self::D != 0,
            m: v & Self::M != 0,
            g: v & Self::G != 0,
            r: v & Self::R != 0,
            t: v & Self::T != 0,
            x: v & Self::X != 0,
        }
    }

    /// Encodes the flags byte.
    pub const fn to_byte(self) -> u8 {
        (if self.s { Self::S } else { 0 })
            | (if self.b { Self::B } else { 0 })
            | (if self.d { Self::D } else { 0 })
            | (if self.m { Self::M } else { 0 })
            | (if self.g { Self::G } else { 0 })
            | (if self.r { Self::R } else { 0 })
            | (if self.t { Self::T } else { 0 })
            | (if self.x { Self::X } else { 0 })
    }
}

impl From<u8> for RequestFlags {
    fn from(v: u8) -> Self {
        RequestFlags::from_byte(v)
    }
}

impl From<RequestFlags> for u8 {
    fn from(f: RequestFlags) -> u8 {
        f.to_byte()
    }
}

impl fmt::Display for RequestFlags {
    /// The letters of the set flags, `-` for clear ones: `S-D---T-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = [
            (self.s, 'S'),
            (self.b, 'B'),
            (self.d, 'D'),
            (self.m, 'M'),
            (self.g, 'G'),
            (self.r, 'r'),
            (self.t, 'T'),
            (self.x, 'x'),
        ];
        for (set, c) in bits {
            fmt::Write::write_char(f, if set { c } else { '-' })?;
        }
        Ok(())
    }
}

/// A read-only view of a Registration Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRequestPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RegistrationRequestPacket<T> {
    /// Wraps a buffer without checking it. Getters return zeros for fields
    /// beyond the end of a short buffer; they never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        RegistrationRequestPacket { buffer }
    }

    /// Wraps a buffer after checking that the fixed part is present and the
    /// type is 1.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The checks of [`Self::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        check_fields(b, REQUEST_FIELDS)?;
        if self.msg_type() != u8::from(MessageType::RegistrationRequest) {
            return Err(Error::bad_value(0, "type"));
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Type (1).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// The flags byte as on the wire.
    pub fn flags_byte(&self) -> u8 {
        self.buffer.as_ref().get(1).copied().unwrap_or(0)
    }

    /// The flags.
    pub fn flags(&self) -> RequestFlags {
        RequestFlags::from_byte(self.flags_byte())
    }

    /// Lifetime in seconds (0 deregisters, 0xffff is infinity).
    pub fn lifetime(&self) -> u16 {
        get_u16(self.buffer.as_ref(), 2)
    }

    /// Home Address.
    pub fn home_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 4)
    }

    /// Home Agent.
    pub fn home_agent(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 8)
    }

    /// Care-of Address.
    pub fn care_of_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 12)
    }

    /// Identification.
    pub fn identification(&self) -> u64 {
        get_u64(self.buffer.as_ref(), 16)
    }

    /// Identification as [`Identification`] (for display).
    pub fn ident(&self) -> Identification {
        Identification(self.identification())
    }

    /// The bytes after the fixed part.
    pub fn extension_bytes(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(REQUEST_HEADER_LEN..)
            .unwrap_or(&[])
    }

    /// The extensions, framed; offsets count from the start of the message.
    pub fn extensions(&self) -> Extensions<'_> {
        Extensions::new(self.buffer.as_ref(), REQUEST_HEADER_LEN)
    }

    /// Authentication extensions in order, with what each covers.
    pub fn auth_regions(&self) -> Result<Vec<AuthRegion<'_>>> {
        extension::auth_regions(self.buffer.as_ref(), REQUEST_HEADER_LEN)
    }

    /// The first non-skippable extension this crate does not interpret.
    pub fn first_unknown_non_skippable(&self) -> Result<Option<RawExtension<'_>>> {
        extension::first_unknown_non_skippable(self.buffer.as_ref(), REQUEST_HEADER_LEN)
    }
}

/// A read-only view of a Registration Reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationReplyPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RegistrationReplyPacket<T> {
    /// Wraps a buffer without checking it. Getters return zeros for fields
    /// beyond the end of a short buffer; they never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        RegistrationReplyPacket { buffer }
    }

    /// Wraps a buffer after checking that the fixed part is present and the
    /// type is 3.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The checks of [`Self::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        check_fields(self.buffer.as_ref(), REPLY_FIELDS)?;
        if self.msg_type() != u8::from(MessageType::RegistrationReply) {
            return Err(Error::bad_value(0, "type"));
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Type (3).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// Code.
    pub fn code(&self) -> ReplyCode {
        ReplyCode::from(self.buffer.as_ref().get(1).copied().unwrap_or(0))
    }

    /// Lifetime granted, in seconds.
    pub fn lifetime(&self) -> u16 {
        get_u16(self.buffer.as_ref(), 2)
    }

    /// Home Address.
    pub fn home_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 4)
    }

    /// Home Agent.
    pub fn home_agent(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 8)
    }

    /// Identification.
    pub fn identification(&self) -> u64 {
        get_u64(self.buffer.as_ref(), 12)
    }

    /// Identification as [`Identification`] (for display).
    pub fn ident(&self) -> Identification {
        Identification(self.identification())
    }

    /// The bytes after the fixed part.
    pub fn extension_bytes(&self) -> &[u8] {
        self.buffer.as_ref().get(REPLY_HEADER_LEN..).unwrap_or(&[])
    }

    /// The extensions, framed; offsets count from the start of the message.
    pub fn extensions(&self) -> Extensions<'_> {
        Extensions::new(self.buffer.as_ref(), REPLY_HEADER_LEN)
    }

    /// Authentication extensions in order, with what each covers.
    pub fn auth_regions(&self) -> Result<Vec<AuthRegion<'_>>> {
        extension::auth_regions(self.buffer.as_ref(), REPLY_HEADER_LEN)
    }

    /// The first non-skippable extension this crate does not interpret.
    pub fn first_unknown_non_skippable(&self) -> Result<Option<RawExtension<'_>>> {
        extension::first_unknown_non_skippable(self.buffer.as_ref(), REPLY_HEADER_LEN)
    }
}

/// An owned Registration Request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationRequest {
    /// Flags byte.
    pub flags: RequestFlags,
    /// Lifetime requested, in seconds.
    pub lifetime: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Home Agent.
    pub home_agent: Ipv4Addr,
    /// Care-of Address.
    pub care_of_address: Ipv4Addr,
    /// Identification (see [`Identification`]).
    pub identification: u64,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

impl RegistrationRequest {
    /// Parses a checked view, interpreting every extension.
    pub fn parse<T: AsRef<[u8]>>(packet: &RegistrationRequestPacket<T>) -> Result<Self> {
        packet.check_len()?;
        Ok(RegistrationRequest {
            flags: packet.flags(),
            lifetime: packet.lifetime(),
            home_address: packet.home_address(),
            home_agent: packet.home_agent(),
            care_of_address: packet.care_of_address(),
            identification: packet.identification(),
            extensions: Extension::parse_all(packet.as_bytes(), REQUEST_HEADER_LEN)?,
        })
    }

    /// Parses a message from bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        Self::parse(&RegistrationRequestPacket::new_checked(buf)?)
    }

    /// Bytes needed to emit the message.
    pub fn buffer_len(&self) -> usize {
        REQUEST_HEADER_LEN + Extension::buffer_len_all(&self.extensions)
    }

    /// Writes the message at the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Self::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let (head, rest) = buf.split_at_mut(REQUEST_HEADER_LEN);
        let mut w = Writer::new(head);
        w.put(&[
            u8::from(MessageType::RegistrationRequest),
            self.flags.to_byte(),
        ]);
        w.put(&self.lifetime.to_be_bytes());
        w.put(&self.home_address.octets());
        w.put(&self.home_agent.octets());
        w.put(&self.care_of_address.octets());
        w.put(&self.identification.to_be_bytes());
        Extension::emit_all(&self.extensions, rest);
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }

    /// Identification as [`Identification`] (for display).
    pub fn ident(&self) -> Identification {
        Identification(self.identification)
    }
}

/// An owned Registration Reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationReply {
    /// Code.
    pub code: ReplyCode,
    /// Lifetime granted, in seconds.
    pub lifetime: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Home Agent.
    pub home_agent: Ipv4Addr,
    /// Identification (see [`Identification`]).
    pub identification: u64,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

impl RegistrationReply {
    /// Parses a checked view, interpreting every extension.
    pub fn parse<T: AsRef<[u8]>>(packet: &RegistrationReplyPacket<T>) -> Result<Self> {
        packet.check_len()?;
        Ok(RegistrationReply {
            code: packet.code(),
            lifetime: packet.lifetime(),
            home_address: packet.home_address(),
            home_agent: packet.home_agent(),
            identification: packet.identification(),
            extensions: Extension::parse_all(packet.as_bytes(), REPLY_HEADER_LEN)?,
        })
    }

    /// Parses a message from bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        Self::parse(&RegistrationReplyPacket::new_checked(buf)?)
    }

    /// Bytes needed to emit the message.
    pub fn buffer_len(&self) -> usize {
        REPLY_HEADER_LEN + Extension::buffer_len_all(&self.extensions)
    }

    /// Writes the message at the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Self::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let (head, rest) = buf.split_at_mut(REPLY_HEADER_LEN);
        let mut w = Writer::new(head);
        w.put(&[
            u8::from(MessageType::RegistrationReply),
            u8::from(self.code),
        ]);
        w.put(&self.lifetime.to_be_bytes());
        w.put(&self.home_address.octets());
        w.put(&self.home_agent.octets());
        w.put(&self.identification.to_be_bytes());
        Extension::emit_all(&self.extensions, rest);
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }

    /// Identification as [`Identification`] (for display).
    pub fn ident(&self) -> Identification {
        Identification(self.identification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Encapsulation;
    use crate::extension::{
        append_auth_extension, strategy, AuthKind, RevocationSupport, UdpTunnelReply,
        UdpTunnelReplyCode, UdpTunnelRequest,
    };
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// A request as a mobile node behind a foreign agent sends it: flags D=0,
    /// T and G set, lifetime 1800, HoA 10.1.1.5, HA 10.1.1.1, CoA
    /// 192.0.2.10, identification C1BC0D4F.CB2E4CE8, then NAI "mn1@ex",
    /// UDP tunnel request, revocation support, a pad, an unknown skippable
    /// extension and the MN-HA authentication extension (SPI 0x333).
    const REQUEST_HEX: &str = "
        01 0a 0708 0a010105 0a010101 c000020a c1bc0d4f cb2e4ce8
        83 06 6d6e31406578
        90 06 00 00 80 04 0000
        89 06 8000 5f5e1000
        00
        c8 02 abcd
        20 14 00000333 000102030405060708090a0b0c0d0e0f";

    #[test]
    fn request_vector() {
        let b = h(REQUEST_HEX);
        let p = RegistrationRequestPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type(), 1);
        assert_eq!(p.flags_byte(), 0x0a);
        let f = p.flags();
        assert!(f.g && f.t && !f.s && !f.b && !f.d && !f.m && !f.r && !f.x);
        assert_eq!(f.to_string(), "----G-T-");
        assert_eq!(p.lifetime(), 1800);
        assert_eq!(p.home_address(), Ipv4Addr::new(10, 1, 1, 5));
        assert_eq!(p.home_agent(), Ipv4Addr::new(10, 1, 1, 1));
        assert_eq!(p.care_of_address(), Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(p.identification(), 0xc1bc_0d4f_cb2e_4ce8);
        assert_eq!(p.ident().to_string(), "C1BC0D4F.CB2E4CE8");

        let raws: Vec<_> = p.extensions().map(|r| r.unwrap()).collect();
        let offs: Vec<_> = raws.iter().map(|r| (r.offset, r.ty)).collect();
        assert_eq!(
            offs,
            [
                (24, 131),
                (32, 144),
                (40, 137),
                (48, 0),
                (49, 200),
                (53, 32)
            ]
        );
        assert_eq!(p.first_unknown_non_skippable().unwrap(), None);

        let auth = p.auth_regions().unwrap();
        assert_eq!(auth.len(), 1);
        assert_eq!((auth[0].kind, auth[0].spi), (AuthKind::MnHa, 0x333));
        assert_eq!(auth[0].covered, &b[..59]);
        assert_eq!(auth[0].authenticator, &b[59..]);

        let r = RegistrationRequest::parse(&p).unwrap();
        assert_eq!(r.lifetime, 1800);
        assert_eq!(r.identification, 0xc1bc_0d4f_cb2e_4ce8);
        assert_eq!(
            r.extensions,
            vec![
                Extension::Nai(b"mn1@ex".to_vec()),
                Extension::UdpTunnelRequest(UdpTunnelRequest {
                    subtype: 0,
                    reserved1: 0,
                    force: true,
                    registration_through_fa: false,
                    reserved2: 0,
                    encapsulation: Encapsulation::IpInIp,
                    reserved3: 0,
                }),
                Extension::RevocationSupport(RevocationSupport {
                    i_bit_supported: true,
                    reserved: 0,
                    timestamp: 1_600_000_000,
                }),
                Extension::Pad,
                Extension::UnknownSkippable {
                    ty: 200,
                    data: vec![0xab, 0xcd]
                },
                Extension::MnHaAuth {
                    spi: 0x333,
                    authenticator: (0..16).collect()
                },
            ]
        );
        assert_eq!(r.buffer_len(), b.len());
        assert_eq!(r.to_bytes(), b);
    }

    /// Reply: code 136 (unknown home agent address), lifetime 0, HoA
    /// 10.1.1.5, HA 10.1.1.254, identification 0x0123456789abcdef, UDP
    /// tunnel reply (will do, keepalive 110 s), FA-HA auth (SPI 0x100).
    const REPLY_HEX: &str = "
        03 88 0000 0a010105 0a0101fe 01234567 89abcdef
        2c 06 00 00 0000 006e
        22 08 00000100 a1a2a3a4";

    #[test]
    fn reply_vector() {
        let b = h(REPLY_HEX);
        let p = RegistrationReplyPacket::new_checked(&b).unwrap();
        assert_eq!(p.msg_type(), 3);
        assert_eq!(p.code(), ReplyCode::HaUnknownHomeAgentAddress);
        assert!(p.code().is_from_home_agent());
        assert_eq!(p.lifetime(), 0);
        assert_eq!(p.home_address(), Ipv4Addr::new(10, 1, 1, 5));
        assert_eq!(p.home_agent(), Ipv4Addr::new(10, 1, 1, 254));
        assert_eq!(p.identification(), 0x0123_4567_89ab_cdef);
        let auth = p.auth_regions().unwrap();
        assert_eq!(
            (auth[0].kind, auth[0].extension_offset),
            (AuthKind::FaHa, 28)
        );
        assert_eq!(auth[0].covered, &b[..34]);
        let r = RegistrationReply::from_bytes(&b).unwrap();
        assert_eq!(
            r,
            RegistrationReply {
                code: ReplyCode::HaUnknownHomeAgentAddress,
                lifetime: 0,
                home_address: Ipv4Addr::new(10, 1, 1, 5),
                home_agent: Ipv4Addr::new(10, 1, 1, 254),
                identification: 0x0123_4567_89ab_cdef,
                extensions: vec![
                    Extension::UdpTunnelReply(UdpTunnelReply {
                        subtype: 0,
                        code: UdpTunnelReplyCode::WillDo,
                        force: false,
                        reserved: 0,
                        keepalive_interval: 110,
                    }),
                    Extension::FaHaAuth {
                        spi: 0x100,
                        authenticator: vec![0xa1, 0xa2, 0xa3, 0xa4]
                    },
                ],
            }
        );
        assert_eq!(r.to_bytes(), b);
    }

    #[test]
    fn wrong_type_is_rejected() {
        let mut b = h(REPLY_HEX);
        assert_eq!(
            RegistrationRequestPacket::new_checked(&b).unwrap_err(),
            Error::bad_value(0, "type")
        );
        b[0] = 1;
        assert_eq!(
            RegistrationReplyPacket::new_checked(&b).unwrap_err(),
            Error::bad_value(0, "type")
        );
    }

    #[test]
    fn truncations_are_errors_with_fields() {
        let b = h(REQUEST_HEX);
        // Prefixes ending between two extensions are shorter valid messages.
        let boundaries = [24, 32, 40, 48, 49, 53];
        for n in 0..b.len() {
            let res = RegistrationRequest::from_bytes(&b[..n]);
            assert_eq!(res.is_ok(), boundaries.contains(&n), "prefix {n}");
        }
        let e = |n: usize| RegistrationRequest::from_bytes(&b[..n]).unwrap_err();
        assert_eq!(e(0), Error::truncated(0, "type", 1, 0));
        assert_eq!(e(10), Error::truncated(8, "home agent", 4, 2));
        assert_eq!(e(20), Error::truncated(16, "identification", 8, 4));
        // inside the NAI extension: its length is there, its data is not
        assert_eq!(e(27), Error::truncated(26, "extension data", 6, 1));
        // inside the MN-HA authentication extension
        assert_eq!(e(58), Error::truncated(55, "extension data", 20, 3));

        let b = h(REPLY_HEX);
        for n in 0..b.len() {
            let res = RegistrationReply::from_bytes(&b[..n]);
            assert_eq!(res.is_ok(), [20, 28].contains(&n), "prefix {n}");
        }
        assert_eq!(
            RegistrationReply::from_bytes(&b[..13]).unwrap_err(),
            Error::truncated(12, "identification", 8, 1)
        );
        assert_eq!(
            RegistrationReply::from_bytes(&b[..21]).unwrap_err(),
            Error::truncated(21, "extension length", 1, 0)
        );
    }

    #[test]
    fn malformed_extension_fails_the_owned_parse_but_not_the_view() {
        // revocation support extension with length 2: view frames it, parse rejects it
        let b = h("01 00 0000 00000000 00000000 00000000 0000000000000000 89 02 8000");
        let p = RegistrationRequestPacket::new_checked(&b).unwrap();
        let raw = p.extensions().next().unwrap().unwrap();
        assert_eq!((raw.offset, raw.ty, raw.body.len()), (24, 137, 2));
        assert_eq!(
            RegistrationRequest::parse(&p).unwrap_err(),
            Error::truncated(28, "timestamp", 4, 0)
        );
    }

    #[test]
    fn unknown_non_skippable_is_reported() {
        let b =
            h("01 00 0000 00000000 00000000 00000000 0000000000000000 8300 4001ff 2004 00000001");
        let p = RegistrationRequestPacket::new_checked(&b).unwrap();
        let raw = p.first_unknown_non_skippable().unwrap().unwrap();
        assert_eq!((raw.offset, raw.ty), (26, 64));
        // kept byte for byte by the owned form
        let r = RegistrationRequest::parse(&p).unwrap();
        assert_eq!(
            r.extensions[1],
            Extension::UnknownNonSkippable {
                ty: 64,
                data: vec![0xff]
            }
        );
        assert_eq!(r.to_bytes(), b);
    }

    #[test]
    fn signing_an_emitted_reply() {
        let reply = RegistrationReply {
            code: ReplyCode::Accepted,
            lifetime: 600,
            home_address: Ipv4Addr::new(10, 1, 1, 5),
            home_agent: Ipv4Addr::new(10, 1, 1, 1),
            identification: 42,
            extensions: vec![],
        };
        let mut buf = reply.to_bytes();
        let mut covered = Vec::new();
        append_auth_extension(&mut buf, AuthKind::MnHa, 0x1000, 16, |c| {
            covered = c.to_vec();
            [0x5au8; 16]
        })
        .unwrap();
        let p = RegistrationReplyPacket::new_checked(&buf).unwrap();
        let regions = p.auth_regions().unwrap();
        assert_eq!(regions[0].covered, &covered[..]);
        assert_eq!(covered.len(), REPLY_HEADER_LEN + 6);
        assert_eq!(regions[0].authenticator, &[0x5a; 16]);
    }

    #[test]
    fn flags_are_lossless() {
        for v in 0..=255u8 {
            assert_eq!(RequestFlags::from(v).to_byte(), v);
        }
        assert_eq!(RequestFlags::from(0xff).to_string(), "SBDMGrTx");
        assert_eq!(
            RequestFlags {
                s: true,
                ..Default::default()
            }
            .to_byte(),
            0x80
        );
        assert_eq!(
            RequestFlags {
                x: true,
                ..Default::default()
            }
            .to_byte(),
            0x01
        );
    }

    #[test]
    fn unchecked_views_never_panic() {
        let p = RegistrationRequestPacket::new_unchecked(&[1u8, 2][..]);
        assert_eq!(p.lifetime(), 0);
        assert_eq!(p.identification(), 0);
        assert_eq!(p.extensions().count(), 0);
        let p = RegistrationReplyPacket::new_unchecked(&[][..]);
        assert_eq!(p.code(), ReplyCode::Accepted);
        assert_eq!(p.extension_bytes(), &[] as &[u8]);
    }

    fn addr() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    fn request() -> impl Strategy<Value = RegistrationRequest> {
        (
            any::<u8>(),
            any::<u16>(),
            addr(),
            addr(),
            addr(),
            any::<u64>(),
            strategy::extensions(),
        )
            .prop_map(
                |(f, lifetime, hoa, ha, coa, id, extensions)| RegistrationRequest {
                    flags: f.into(),
                    lifetime,
                    home_address: hoa,
                    home_agent: ha,
                    care_of_address: coa,
                    identification: id,
                    extensions,
                },
            )
    }

    fn reply() -> impl Strategy<Value = RegistrationReply> {
        (
            any::<u8>(),
            any::<u16>(),
            addr(),
            addr(),
            any::<u64>(),
            strategy::extensions(),
        )
            .prop_map(
                |(code, lifetime, hoa, ha, id, extensions)| RegistrationReply {
                    code: code.into(),
                    lifetime,
                    home_address: hoa,
                    home_agent: ha,
                    identification: id,
                    extensions,
                },
            )
    }

    proptest! {
        #[test]
        fn request_round_trip(r in request()) {
            let b = r.to_bytes();
            prop_assert_eq!(b.len(), r.buffer_len());
            let back = RegistrationRequest::from_bytes(&b).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.to_bytes(), b);
        }

        #[test]
        fn reply_round_trip(r in reply()) {
            let b = r.to_bytes();
            let back = RegistrationReply::from_bytes(&b).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.to_bytes(), b);
        }

        #[test]
        fn request_truncations_fail(r in request()) {
            let b = r.to_bytes();
            // A prefix ending exactly between two extensions is a valid, shorter
            // message; every other prefix must be rejected.
            let mut boundaries = vec![REQUEST_HEADER_LEN];
            for e in &r.extensions {
                boundaries.push(boundaries[boundaries.len() - 1] + e.buffer_len());
            }
            for n in 0..b.len() {
                let res = RegistrationRequest::from_bytes(&b[..n]);
                prop_assert_eq!(res.is_ok(), boundaries.contains(&n), "prefix {}", n);
            }
        }

        /// Any bytes after a valid fixed part: never a panic, and whatever
        /// parses re-emits to the same bytes.
        #[test]
        fn arbitrary_tail(head in request(), tail in proptest::collection::vec(any::<u8>(), 0..48)) {
            let mut b = head.to_bytes();
            b.truncate(REQUEST_HEADER_LEN);
            b.extend_from_slice(&tail);
            let p = RegistrationRequestPacket::new_checked(&b[..]).unwrap();
            for raw in p.extensions().flatten() {
                let _ = Extension::parse(&raw);
            }
            let _ = p.auth_regions();
            let _ = p.first_unknown_non_skippable();
            if let Ok(r) = RegistrationRequest::parse(&p) {
                prop_assert_eq!(r.to_bytes(), b.clone());
            }
            b[0] = 3;
            b.truncate(REPLY_HEADER_LEN);
            b.extend_from_slice(&tail);
            if let Ok(r) = RegistrationReply::from_bytes(&b) {
                prop_assert_eq!(r.to_bytes(), b);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = RegistrationRequest::from_bytes(&b);
            let _ = RegistrationReply::from_bytes(&b);
            let p = RegistrationRequestPacket::new_unchecked(&b[..]);
            let _ = (p.flags(), p.lifetime(), p.home_address(), p.identification());
            let _ = p.extensions().count();
        }
    }
}
