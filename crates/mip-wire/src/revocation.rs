//! Registration Revocation (type 7) and Registration Revocation
//! Acknowledgement (type 15) of RFC 3543 §3.
//!
//! ```text
//! Revocation:                              Acknowledgement:
//!  0      type = 7                          0      type = 15
//!  1      reserved                          1      reserved
//!  2..4   A I reserved(14)                  2..4   I reserved(15)
//!  4..8   home address                      4..8   home address
//!  8..12  home domain address               8..12  revocation identifier
//! 12..16  foreign domain address           12..    extensions
//! 16..20  revocation identifier
//! 20..    extensions
//! ```
//!
//! Both are protected by an FA-HA authentication extension (RFC 3543 §4),
//! found with `auth_regions()` exactly as for registration messages. The
//! Revocation Identifier is the sender's timestamp, compared with the one the
//! peer advertised in its Revocation Support extension.

use std::net::Ipv4Addr;

use crate::codes::MessageType;
use crate::error::{Error, Result};
use crate::extension::{
    self, check_fields, get_addr, get_u16, get_u32, AuthRegion, Extension, Extensions,
    RawExtension, Writer,
};

/// Length of the fixed part of a Registration Revocation.
pub const REVOCATION_HEADER_LEN: usize = 20;
/// Length of the fixed part of a Revocation Acknowledgement.
pub const ACK_HEADER_LEN: usize = 12;

const REVOCATION_FIELDS: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "reserved"),
    (2, 2, "flags"),
    (4, 4, "home address"),
    (8, 4, "home domain address"),
    (12, 4, "foreign domain address"),
    (16, 4, "revocation identifier"),
];

const ACK_FIELDS: &[(usize, usize, &str)] = &[
    (0, 1, "type"),
    (1, 1, "reserved"),
    (2, 2, "flags"),
    (4, 4, "home address"),
    (8, 4, "revocation identifier"),
];

/// A bit of the revocation flags word: the revoking agent is the home agent
/// (home domain); clear when a foreign agent revokes.
pub const FLAG_A: u16 = 0x8000;
/// I bit of the revocation flags word: the receiving agent is asked to inform
/// the mobile node (RFC 3543 §3.1). In the acknowledgement the I bit is the
/// top bit and says whether the mobile node was informed.
pub const FLAG_I: u16 = 0x4000;
/// I bit of the acknowledgement flags word.
pub const ACK_FLAG_I: u16 = 0x8000;

/// A read-only view of a Registration Revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRevocationPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RegistrationRevocationPacket<T> {
    /// Wraps a buffer without checking it; getters return zeros past its end.
    pub const fn new_unchecked(buffer: T) -> Self {
        RegistrationRevocationPacket { buffer }
    }

    /// Wraps a buffer after checking the fixed part and the type (7).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The checks of [`Self::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        check_fields(self.buffer.as_ref(), REVOCATION_FIELDS)?;
        if self.msg_type() != u8::from(MessageType::RegistrationRevocation) {
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

    /// Type (7).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// The reserved byte after the type.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref().get(1).copied().unwrap_or(0)
    }

    /// The flags word as on the wire.
    pub fn flags(&self) -> u16 {
        get_u16(self.buffer.as_ref(), 2)
    }

    /// A: sent by the home agent (home domain).
    pub fn sent_by_home_agent(&self) -> bool {
        self.flags() & FLAG_A != 0
    }

    /// I: the receiver is asked to inform the mobile node.
    pub fn inform(&self) -> bool {
        self.flags() & FLAG_I != 0
    }

    /// Home Address of the binding being revoked.
    pub fn home_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 4)
    }

    /// Home Domain Address (the home agent's address).
    pub fn home_domain_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 8)
    }

    /// Foreign Domain Address (the foreign agent's address).
    pub fn foreign_domain_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 12)
    }

    /// Revocation Identifier (the sender's timestamp).
    pub fn revocation_identifier(&self) -> u32 {
        get_u32(self.buffer.as_ref(), 16)
    }

    /// The extensions, framed; offsets count from the start of the message.
    pub fn extensions(&self) -> Extensions<'_> {
        Extensions::new(self.buffer.as_ref(), REVOCATION_HEADER_LEN)
    }

    /// Authentication extensions (normally one FA-HA) with what each covers.
    pub fn auth_regions(&self) -> Result<Vec<AuthRegion<'_>>> {
        extension::auth_regions(self.buffer.as_ref(), REVOCATION_HEADER_LEN)
    }

    /// The first non-skippable extension this crate does not interpret.
    pub fn first_unknown_non_skippable(&self) -> Result<Option<RawExtension<'_>>> {
        extension::first_unknown_non_skippable(self.buffer.as_ref(), REVOCATION_HEADER_LEN)
    }
}

/// A read-only view of a Registration Revocation Acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationAckPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RevocationAckPacket<T> {
    /// Wraps a buffer without checking it; getters return zeros past its end.
    pub const fn new_unchecked(buffer: T) -> Self {
        RevocationAckPacket { buffer }
    }

    /// Wraps a buffer after checking the fixed part and the type (15).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The checks of [`Self::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        check_fields(self.buffer.as_ref(), ACK_FIELDS)?;
        if self.msg_type() != u8::from(MessageType::RevocationAcknowledgement) {
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

    /// Type (15).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// The reserved byte after the type.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref().get(1).copied().unwrap_or(0)
    }

    /// The flags word as on the wire.
    pub fn flags(&self) -> u16 {
        get_u16(self.buffer.as_ref(), 2)
    }

    /// I: the mobile node was informed.
    pub fn inform(&self) -> bool {
        self.flags() & ACK_FLAG_I != 0
    }

    /// Home Address.
    pub fn home_address(&self) -> Ipv4Addr {
        get_addr(self.buffer.as_ref(), 4)
    }

    /// Revocation Identifier, copied from the revocation acknowledged.
    pub fn revocation_identifier(&self) -> u32 {
        get_u32(self.buffer.as_ref(), 8)
    }

    /// The extensions, framed; offsets count from the start of the message.
    pub fn extensions(&self) -> Extensions<'_> {
        Extensions::new(self.buffer.as_ref(), ACK_HEADER_LEN)
    }

    /// Authentication extensions with what each covers.
    pub fn auth_regions(&self) -> Result<Vec<AuthRegion<'_>>> {
        extension::auth_regions(self.buffer.as_ref(), ACK_HEADER_LEN)
    }

    /// The first non-skippable extension this crate does not interpret.
    pub fn first_unknown_non_skippable(&self) -> Result<Option<RawExtension<'_>>> {
        extension::first_unknown_non_skippable(self.buffer.as_ref(), ACK_HEADER_LEN)
    }
}

/// An owned Registration Revocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationRevocation {
    /// Reserved byte after the type, kept as received.
    pub reserved: u8,
    /// A: the revoking agent is the home agent.
    pub sent_by_home_agent: bool,
    /// I: inform the mobile node.
    pub inform: bool,
    /// The 14 low bits of the flags word; only `& 0x3fff` is emitted.
    pub flags_reserved: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Home Domain Address.
    pub home_domain_address: Ipv4Addr,
    /// Foreign Domain Address.
    pub foreign_domain_address: Ipv4Addr,
    /// Revocation Identifier.
    pub revocation_identifier: u32,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

impl RegistrationRevocation {
    /// Parses a view, interpreting every extension.
    pub fn parse<T: AsRef<[u8]>>(packet: &RegistrationRevocationPacket<T>) -> Result<Self> {
        packet.check_len()?;
        Ok(RegistrationRevocation {
            reserved: packet.reserved(),
            sent_by_home_agent: packet.sent_by_home_agent(),
            inform: packet.inform(),
            flags_reserved: packet.flags() & 0x3fff,
            home_address: packet.home_address(),
            home_domain_address: packet.home_domain_address(),
            foreign_domain_address: packet.foreign_domain_address(),
            revocation_identifier: packet.revocation_identifier(),
            extensions: Extension::parse_all(packet.as_bytes(), REVOCATION_HEADER_LEN)?,
        })
    }

    /// Parses a message from bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        Self::parse(&RegistrationRevocationPacket::new_checked(buf)?)
    }

    /// The flags word as on the wire.
    pub fn flags(&self) -> u16 {
        (if self.sent_by_home_agent { FLAG_A } else { 0 })
            | (if self.inform { FLAG_I } else { 0 })
            | (self.flags_reserved & 0x3fff)
    }

    /// Bytes needed to emit the message.
    pub fn buffer_len(&self) -> usize {
        REVOCATION_HEADER_LEN + Extension::buffer_len_all(&self.extensions)
    }

    /// Writes the message at the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Self::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let (head, rest) = buf.split_at_mut(REVOCATION_HEADER_LEN);
        let mut w = Writer::new(head);
        w.put(&[u8::from(MessageType::RegistrationRevocation), self.reserved]);
        w.put(&self.flags().to_be_bytes());
        w.put(&self.home_address.octets());
        w.put(&self.home_domain_address.octets());
        w.put(&self.foreign_domain_address.octets());
        w.put(&self.revocation_identifier.to_be_bytes());
        Extension::emit_all(&self.extensions, rest);
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

/// An owned Registration Revocation Acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RevocationAck {
    /// Reserved byte after the type, kept as received.
    pub reserved: u8,
    /// I: the mobile node was informed.
    pub inform: bool,
    /// The 15 low bits of the flags word; only `& 0x7fff` is emitted.
    pub flags_reserved: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Revocation Identifier.
    pub revocation_identifier: u32,
    /// Extensions in wire order.
    pub extensions: Vec<Extension>,
}

impl RevocationAck {
    /// Parses a view, interpreting every extension.
    pub fn parse<T: AsRef<[u8]>>(packet: &RevocationAckPacket<T>) -> Result<Self> {
        packet.check_len()?;
        Ok(RevocationAck {
            reserved: packet.reserved(),
            inform: packet.inform(),
            flags_reserved: packet.flags() & 0x7fff,
            home_address: packet.home_address(),
            revocation_identifier: packet.revocation_identifier(),
            extensions: Extension::parse_all(packet.as_bytes(), ACK_HEADER_LEN)?,
        })
    }

    /// Parses a message from bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        Self::parse(&RevocationAckPacket::new_checked(buf)?)
    }

    /// The flags word as on the wire.
    pub fn flags(&self) -> u16 {
        (if self.inform { ACK_FLAG_I } else { 0 }) | (self.flags_reserved & 0x7fff)
    }

    /// Bytes needed to emit the message.
    pub fn buffer_len(&self) -> usize {
        ACK_HEADER_LEN + Extension::buffer_len_all(&self.extensions)
    }

    /// Writes the message at the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Self::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let (head, rest) = buf.split_at_mut(ACK_HEADER_LEN);
        let mut w = Writer::new(head);
        w.put(&[
            u8::from(MessageType::RevocationAcknowledgement),
            self.reserved,
        ]);
        w.put(&self.flags().to_be_bytes());
        w.put(&self.home_address.octets());
        w.put(&self.revocation_identifier.to_be_bytes());
        Extension::emit_all(&self.extensions, rest);
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::{strategy, AuthKind};
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// Revocation from a home agent (A) asking to inform the mobile node (I):
    /// HoA 10.1.1.5, HDA 10.1.1.1, FDA 192.0.2.1, identifier 0x5f5e1001,
    /// FA-HA authentication SPI 0x200 with a 16-byte authenticator.
    const REVOCATION_HEX: &str = "
        07 00 c000 0a010105 0a010101 c0000201 5f5e1001
        22 14 00000200 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    /// Acknowledgement with I set, same home address and identifier.
    const ACK_HEX: &str = "
        0f 00 8000 0a010105 5f5e1001
        22 14 00000200 000102030405060708090a0b0c0d0e0f";

    #[test]
    fn revocation_vector() {
        let b = h(REVOCATION_HEX);
        let p = RegistrationRevocationPacket::new_checked(&b).unwrap();
        assert_eq!(p.msg_type(), 7);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.flags(), 0xc000);
        assert!(p.sent_by_home_agent() && p.inform());
        assert_eq!(p.home_address(), Ipv4Addr::new(10, 1, 1, 5));
        assert_eq!(p.home_domain_address(), Ipv4Addr::new(10, 1, 1, 1));
        assert_eq!(p.foreign_domain_address(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.revocation_identifier(), 0x5f5e_1001);
        let auth = p.auth_regions().unwrap();
        assert_eq!(
            (auth[0].kind, auth[0].spi, auth[0].extension_offset),
            (AuthKind::FaHa, 0x200, 20)
        );
        assert_eq!(auth[0].covered, &b[..26]);
        assert_eq!(auth[0].authenticator, &b[26..]);
        assert_eq!(p.first_unknown_non_skippable().unwrap(), None);

        let r = RegistrationRevocation::parse(&p).unwrap();
        assert_eq!(
            r,
            RegistrationRevocation {
                reserved: 0,
                sent_by_home_agent: true,
                inform: true,
                flags_reserved: 0,
                home_address: Ipv4Addr::new(10, 1, 1, 5),
                home_domain_address: Ipv4Addr::new(10, 1, 1, 1),
                foreign_domain_address: Ipv4Addr::new(192, 0, 2, 1),
                revocation_identifier: 0x5f5e_1001,
                extensions: vec![Extension::FaHaAuth {
                    spi: 0x200,
                    authenticator: (0xf0..=0xff).collect()
                }],
            }
        );
        assert_eq!(r.to_bytes(), b);
    }

    #[test]
    fn ack_vector() {
        let b = h(ACK_HEX);
        let p = RevocationAckPacket::new_checked(&b).unwrap();
        assert_eq!(p.msg_type(), 15);
        assert!(p.inform());
        assert_eq!(p.home_address(), Ipv4Addr::new(10, 1, 1, 5));
        assert_eq!(p.revocation_identifier(), 0x5f5e_1001);
        let auth = p.auth_regions().unwrap();
        assert_eq!(auth[0].covered, &b[..18]);
        let r = RevocationAck::from_bytes(&b).unwrap();
        assert_eq!(
            r,
            RevocationAck {
                reserved: 0,
                inform: true,
                flags_reserved: 0,
                home_address: Ipv4Addr::new(10, 1, 1, 5),
                revocation_identifier: 0x5f5e_1001,
                extensions: vec![Extension::FaHaAuth {
                    spi: 0x200,
                    authenticator: (0..16).collect()
                }],
            }
        );
        assert_eq!(r.to_bytes(), b);
    }

    #[test]
    fn reserved_bits_are_kept() {
        let b = h("07 a5 3fff 00000000 00000000 00000000 00000000");
        let r = RegistrationRevocation::from_bytes(&b).unwrap();
        assert_eq!(
            (r.reserved, r.flags_reserved, r.sent_by_home_agent, r.inform),
            (0xa5, 0x3fff, false, false)
        );
        assert_eq!(r.to_bytes(), b);
        let b = h("0f 5a 7ffe 00000000 00000000");
        let r = RevocationAck::from_bytes(&b).unwrap();
        assert_eq!(
            (r.reserved, r.flags_reserved, r.inform),
            (0x5a, 0x7ffe, false)
        );
        assert_eq!(r.to_bytes(), b);
    }

    #[test]
    fn truncations_and_wrong_types() {
        let b = h(REVOCATION_HEX);
        for n in 0..b.len() {
            // 20 bytes is a revocation without extensions
            let res = RegistrationRevocation::from_bytes(&b[..n]);
            assert_eq!(res.is_ok(), n == 20, "prefix {n}");
        }
        assert_eq!(
            RegistrationRevocation::from_bytes(&b[..14]).unwrap_err(),
            Error::truncated(12, "foreign domain address", 4, 2)
        );
        assert_eq!(
            RegistrationRevocation::from_bytes(&b[..30]).unwrap_err(),
            Error::truncated(22, "extension data", 20, 8)
        );
        let a = h(ACK_HEX);
        for n in 0..a.len() {
            let res = RevocationAck::from_bytes(&a[..n]);
            assert_eq!(res.is_ok(), n == 12, "prefix {n}");
        }
        assert_eq!(
            RevocationAck::from_bytes(&a[..9]).unwrap_err(),
            Error::truncated(8, "revocation identifier", 4, 1)
        );
        assert_eq!(
            RevocationAck::from_bytes(&b).unwrap_err(),
            Error::bad_value(0, "type")
        );
        assert_eq!(
            RegistrationRevocation::from_bytes(&a).unwrap_err(),
            Error::bad_value(0, "type")
        );
    }

    fn addr() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    fn revocation() -> impl Strategy<Value = RegistrationRevocation> {
        (
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
            0u16..0x4000,
            (addr(), addr(), addr()),
            any::<u32>(),
            strategy::extensions(),
        )
            .prop_map(|(reserved, a, i, fr, (hoa, hda, fda), id, extensions)| {
                RegistrationRevocation {
                    reserved,
                    sent_by_home_agent: a,
                    inform: i,
                    flags_reserved: fr,
                    home_address: hoa,
                    home_domain_address: hda,
                    foreign_domain_address: fda,
                    revocation_identifier: id,
                    extensions,
                }
            })
    }

    fn ack() -> impl Strategy<Value = RevocationAck> {
        (
            any::<u8>(),
            any::<bool>(),
            0u16..0x8000,
            addr(),
            any::<u32>(),
            strategy::extensions(),
        )
            .prop_map(|(reserved, inform, flags_reserved, hoa, id, extensions)| {
                RevocationAck {
                    reserved,
                    inform,
                    flags_reserved,
                    home_address: hoa,
                    revocation_identifier: id,
                    extensions,
                }
            })
    }

    proptest! {
        #[test]
        fn revocation_round_trip(r in revocation()) {
            let b = r.to_bytes();
            let back = RegistrationRevocation::from_bytes(&b).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.to_bytes(), b);
        }

        #[test]
        fn ack_round_trip(r in ack()) {
            let b = r.to_bytes();
            let back = RevocationAck::from_bytes(&b).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.to_bytes(), b);
        }

        #[test]
        fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut rev = b.clone();
            if let Some(t) = rev.first_mut() { *t = 7; }
            if let Ok(r) = RegistrationRevocation::from_bytes(&rev) {
                prop_assert_eq!(r.to_bytes(), rev);
            }
            let mut ack = b;
            if let Some(t) = ack.first_mut() { *t = 15; }
            if let Ok(r) = RevocationAck::from_bytes(&ack) {
                prop_assert_eq!(r.to_bytes(), ack.clone());
            }
            let p = RevocationAckPacket::new_unchecked(&ack[..]);
            let _ = (p.inform(), p.home_address(), p.revocation_identifier(), p.auth_regions());
        }
    }
}
