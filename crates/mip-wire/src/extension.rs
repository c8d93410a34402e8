//! Registration extensions (RFC 5944 §1.9–1.11, §3.5) and the extensions of
//! later RFCs that ride in registration and revocation messages.
//!
//! Two layers, as everywhere in this crate:
//!
//! * [`Extensions`] walks the extension area of a message and yields a
//!   [`RawExtension`] for each one: type, header shape ([`Layout`]), offset
//!   from the start of the message, the whole bytes and the body. It only
//!   *frames*: it checks that every length field stays inside the buffer and
//!   nothing else, so an operator tool can always show every extension of a
//!   message, even one whose contents are malformed.
//! * [`Extension`] is the owned, typed form. [`Extension::parse`] interprets
//!   the body of one raw extension and is strict: a known extension whose body
//!   does not have the size its RFC gives is an error (see "Malformed
//!   extensions" below). [`Extension::emit`] writes it back.
//!
//! # Header shapes
//!
//! | Layout | Types | Header |
//! |---|---|---|
//! | [`Layout::Pad`] | 0 | `type` alone, no length |
//! | [`Layout::Short`] | all others | `type(8) length(8)` (RFC 5944 §1.9, §1.11) |
//! | [`Layout::Long`] | 36, 40, 42, 47 | `type(8) sub-type(8) length(16)` (RFC 5944 §1.10) |
//! | [`Layout::Cvse`] | 38 | `type(8) reserved(8) length(16)` (RFC 3115 §2) |
//! | [`Layout::Nvse`] | 134 | `type(8) length(8) reserved(16)` (RFC 3115 §3) |
//!
//! Length fields never count the type and length bytes themselves. The NVSE
//! length *does* count its reserved field (RFC 3115 §3), the CVSE length does
//! not count its reserved byte (RFC 3115 §2), and the long layout's length
//! does not count the sub-type. [`RawExtension::body`] is always what follows
//! the header: for CVSE and NVSE it starts at the Vendor/Org-ID.
//!
//! # Unknown extensions
//!
//! Types 0–127 are non-skippable and 128–255 skippable (RFC 5944 §1.9). A type
//! this crate does not interpret is kept byte for byte in
//! [`Extension::UnknownNonSkippable`] / [`Extension::UnknownSkippable`] (framed
//! with the short layout), so that re-emitting a parsed message reproduces it
//! exactly. A receiver that meets an unrecognised non-skippable extension must
//! discard the message (RFC 5944 §3.6.1.x, §3.7.1, §3.8.1):
//! [`first_unknown_non_skippable`] finds one.
//!
//! # Malformed extensions
//!
//! When the length of a known extension with a fixed-size body (UDP tunnel
//! request/reply, revocation support, mobile network, encapsulating delivery
//! style) disagrees with its RFC, [`Extension::parse`] returns an error rather
//! than guessing: too short is [`ErrorKind::Truncated`](crate::ErrorKind) naming
//! the first missing field, too long is [`ErrorKind::BadLength`](crate::ErrorKind)
//! on the "extension length" field. Variable-size bodies (authenticators,
//! NAI, challenge, vendor data, unknown sub-types) keep every byte, so for any
//! input that parses, `emit(parse(bytes)) == bytes`. Tools that must display
//! such a message use the [`RawExtension`] of the view, which is always
//! available when framing is intact.
//!
//! # Authentication
//!
//! [`auth_region`] returns the bytes an authenticator covers (RFC 5944
//! §3.5.1: the message, all prior extensions, and this extension up to and
//! including its SPI) and the authenticator itself; [`append_auth_extension`]
//! appends a signed authentication extension to an emitted message.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use crate::codes::{code_enum, Encapsulation};
use crate::error::{Error, Result};

/// Extension type numbers (IANA "Extensions to Mobile IP Registration
/// Messages").
pub mod types {
    /// One-byte pad.
    pub const PAD: u8 = 0;
    /// Mobile-Home Authentication Extension (RFC 5944 §3.5.2).
    pub const MN_HA_AUTH: u8 = 32;
    /// Mobile-Foreign Authentication Extension (RFC 5944 §3.5.3).
    pub const MN_FA_AUTH: u8 = 33;
    /// Foreign-Home Authentication Extension (RFC 5944 §3.5.4).
    pub const FA_HA_AUTH: u8 = 34;
    /// Generalized Mobile IP Authentication Extension (RFC 3012 §5).
    pub const GENERALIZED_AUTH: u8 = 36;
    /// Critical Vendor/Organization Specific Extension, old number.
    pub const CVSE_OLD: u8 = 37;
    /// Critical Vendor/Organization Specific Extension (RFC 3115 §2).
    pub const CVSE: u8 = 38;
    /// Generalized MN-FA key extension (RFC 3957).
    pub const GENERALIZED_MN_FA_KEY: u8 = 40;
    /// Generalized MN-HA key extension (RFC 3957).
    pub const GENERALIZED_MN_HA_KEY: u8 = 42;
    /// UDP Tunnel Reply Extension (RFC 3519 §3.2).
    pub const UDP_TUNNEL_REPLY: u8 = 44;
    /// FA Error Extension (RFC 4636).
    pub const FA_ERROR: u8 = 45;
    /// GFA IP Address Extension (RFC 4857).
    pub const GFA_ADDRESS: u8 = 46;
    /// Proxy Mobile IPv4 Non-skippable Extension (RFC 5563).
    pub const PMIPV4_NON_SKIPPABLE: u8 = 47;
    /// SKIP Firewall Traversal Extension (RFC 2356).
    pub const SKIP_FIREWALL: u8 = 129;
    /// Encapsulating Delivery Style Extension (RFC 3024 §3.3).
    pub const ENCAPSULATING_DELIVERY_STYLE: u8 = 130;
    /// Mobile Node NAI Extension (RFC 2794 §2).
    pub const MN_NAI: u8 = 131;
    /// MN-FA Challenge Extension (RFC 3012 §3.1).
    pub const MN_FA_CHALLENGE: u8 = 132;
    /// Normal Vendor/Organization Specific Extension, old number.
    pub const NVSE_OLD: u8 = 133;
    /// Normal Vendor/Organization Specific Extension (RFC 3115 §3).
    pub const NVSE: u8 = 134;
    /// NAI Carrying Extension (RFC 3846).
    pub const NAI_CARRYING: u8 = 136;
    /// Revocation Support Extension (RFC 3543 §3.2).
    pub const REVOCATION_SUPPORT: u8 = 137;
    /// Generalized Link Layer Address Registration Extension (RFC 4881).
    pub const LINK_LAYER_ADDRESS: u8 = 138;
    /// Dynamic HA Extension (RFC 4433).
    pub const DYNAMIC_HA: u8 = 139;
    /// Hierarchical Foreign Agent Extension (RFC 4857).
    pub const HIERARCHICAL_FA: u8 = 140;
    /// Replay Protection Style (RFC 4857).
    pub const REPLAY_PROTECTION_STYLE: u8 = 141;
    /// Regional Registration Lifetime Extension (RFC 4857).
    pub const REGIONAL_LIFETIME: u8 = 142;
    /// UDP Tunnel Request Extension (RFC 3519 §3.1).
    pub const UDP_TUNNEL_REQUEST: u8 = 144;
    /// Message String Extension (RFC 4917).
    pub const MESSAGE_STRING: u8 = 145;
    /// Proxy Mobile IPv4 Skippable Extension (RFC 5563).
    pub const PMIPV4_SKIPPABLE: u8 = 147;
    /// Mobile Network Extension (RFC 5177 §3).
    pub const MOBILE_NETWORK: u8 = 148;
    /// Service Selection Extension (RFC 5446).
    pub const SERVICE_SELECTION: u8 = 151;
    /// Dual Stack (DSMIPv4) Extension (RFC 5454).
    pub const DSMIPV4: u8 = 152;
    /// Skippable extension for experimental use.
    pub const EXPERIMENTAL_SKIPPABLE: u8 = 255;
}

use types::*;

/// The name of an extension type, as its RFC names it; `"unknown extension"`
/// for numbers without an assignment this crate knows.
pub fn name(ty: u8) -> &'static str {
    match ty {
        PAD => "Pad",
        MN_HA_AUTH => "Mobile-Home Authentication Extension",
        MN_FA_AUTH => "Mobile-Foreign Authentication Extension",
        FA_HA_AUTH => "Foreign-Home Authentication Extension",
        GENERALIZED_AUTH => "Generalized Mobile IP Authentication Extension",
        CVSE_OLD => "Critical Vendor/Organization Specific Extension (old)",
        CVSE => "Critical Vendor/Organization Specific Extension",
        GENERALIZED_MN_FA_KEY => "Generalized MN-FA Key Extension",
        GENERALIZED_MN_HA_KEY => "Generalized MN-HA Key Extension",
        UDP_TUNNEL_REPLY => "UDP Tunnel Reply Extension",
        FA_ERROR => "FA Error Extension",
        GFA_ADDRESS => "GFA IP Address Extension",
        PMIPV4_NON_SKIPPABLE => "Proxy Mobile IPv4 Non-skippable Extension",
        SKIP_FIREWALL => "SKIP Firewall Traversal Extension",
        ENCAPSULATING_DELIVERY_STYLE => "Encapsulating Delivery Style Extension",
        MN_NAI => "Mobile Node NAI Extension",
        MN_FA_CHALLENGE => "MN-FA Challenge Extension",
        NVSE_OLD => "Normal Vendor/Organization Specific Extension (old)",
        NVSE => "Normal Vendor/Organization Specific Extension",
        NAI_CARRYING => "NAI Carrying Extension",
        REVOCATION_SUPPORT => "Revocation Support Extension",
        LINK_LAYER_ADDRESS => "Generalized Link Layer Address Registration Extension",
        DYNAMIC_HA => "Dynamic HA Extension",
        HIERARCHICAL_FA => "Hierarchical Foreign Agent Extension",
        REPLAY_PROTECTION_STYLE => "Replay Protection Style",
        REGIONAL_LIFETIME => "Regional Registration Lifetime Extension",
        UDP_TUNNEL_REQUEST => "UDP Tunnel Request Extension",
        MESSAGE_STRING => "Message String Extension",
        PMIPV4_SKIPPABLE => "Proxy Mobile IPv4 Skippable Extension",
        MOBILE_NETWORK => "Mobile Network Extension",
        SERVICE_SELECTION => "Service Selection Extension",
        DSMIPV4 => "Dual Stack (DSMIPv4) Extension",
        EXPERIMENTAL_SKIPPABLE => "Skippable Extension for Experimental Use",
        _ => "unknown extension",
    }
}

/// Types 128–255 may be skipped by a receiver that does not recognise them;
/// types 0–127 may not (RFC 5944 §1.9).
pub const fn is_skippable(ty: u8) -> bool {
    ty >= 128
}

/// Whether [`Extension::parse`] interprets the contents of this type (gives
/// it a typed variant). The generic long-layout types 40, 42 and 47 are framed
/// but not interpreted, and return `false`.
pub const fn is_interpreted(ty: u8) -> bool {
    matches!(
        ty,
        PAD | MN_HA_AUTH
            | MN_FA_AUTH
            | FA_HA_AUTH
            | GENERALIZED_AUTH
            | CVSE
            | UDP_TUNNEL_REPLY
            | ENCAPSULATING_DELIVERY_STYLE
            | MN_NAI
            | MN_FA_CHALLENGE
            | NVSE
            | REVOCATION_SUPPORT
            | UDP_TUNNEL_REQUEST
            | MOBILE_NETWORK
    )
}

/// The header shape of an extension type (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Type 0: a single byte, no length.
    Pad,
    /// `type(8) length(8)`.
    Short,
    /// `type(8) sub-type(8) length(16)` (RFC 5944 §1.10).
    Long,
    /// `type(8) reserved(8) length(16)` (RFC 3115 §2).
    Cvse,
    /// `type(8) length(8) reserved(16)`, length counting the reserved field
    /// (RFC 3115 §3).
    Nvse,
}

impl Layout {
    /// The layout used by extension type `ty`.
    pub const fn of(ty: u8) -> Layout {
        match ty {
            PAD => Layout::Pad,
            GENERALIZED_AUTH
            | GENERALIZED_MN_FA_KEY
            | GENERALIZED_MN_HA_KEY
            | PMIPV4_NON_SKIPPABLE => Layout::Long,
            CVSE => Layout::Cvse,
            NVSE => Layout::Nvse,
            _ => Layout::Short,
        }
    }

    /// Bytes before the body.
    pub const fn header_len(self) -> usize {
        match self {
            Layout::Pad => 1,
            Layout::Short => 2,
            Layout::Long | Layout::Cvse | Layout::Nvse => 4,
        }
    }

    /// Offset of the length field inside the header (0 for a pad, which has
    /// none).
    pub const fn length_field_offset(self) -> usize {
        match self {
            Layout::Pad => 0,
            Layout::Short | Layout::Nvse => 1,
            Layout::Long | Layout::Cvse => 2,
        }
    }

    /// The largest body the length field can describe.
    pub const fn max_body_len(self) -> usize {
        match self {
            Layout::Pad => 0,
            Layout::Short => 255,
            Layout::Nvse => 253,
            Layout::Long | Layout::Cvse => 65535,
        }
    }
}

/// One framed extension inside a message, borrowed from the message buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawExtension<'a> {
    /// Offset of the type byte from the start of the message.
    pub offset: usize,
    /// The extension type.
    pub ty: u8,
    /// The header shape of this type.
    pub layout: Layout,
    /// Bytes before the body (1, 2 or 4).
    pub header_len: usize,
    /// The whole extension: header and body.
    pub bytes: &'a [u8],
    /// The body: everything after the header.
    pub body: &'a [u8],
}

impl<'a> RawExtension<'a> {
    /// Frames the extension starting at `offset` in `message`.
    pub fn parse(message: &'a [u8], offset: usize) -> Result<Self> {
        let rest = message.get(offset..).unwrap_or(&[]);
        let avail = rest.len();
        let ty = match rest.first() {
            Some(&t) => t,
            None => return Err(Error::truncated(offset, "extension type", 1, 0)),
        };
        let layout = Layout::of(ty);
        let header_len = layout.header_len();
        let total = match layout {
            Layout::Pad => 1,
            Layout::Short => 2 + usize::from(be_u8(rest, 1, offset, "extension length")?),
            Layout::Long => {
                be_u8(rest, 1, offset, "sub-type")?;
                4 + usize::from(be_u16(rest, 2, offset, "extension length")?)
            }
            Layout::Cvse => {
                be_u8(rest, 1, offset, "reserved")?;
                4 + usize::from(be_u16(rest, 2, offset, "extension length")?)
            }
            Layout::Nvse => {
                let len = usize::from(be_u8(rest, 1, offset, "extension length")?);
                if len < 2 {
                    // The length must at least cover the reserved field.
                    return Err(Error::bad_length(offset + 1, "extension length"));
                }
                be_u16(rest, 2, offset, "reserved")?;
                2 + len
            }
        };
        match rest.get(..total) {
            Some(bytes) => Ok(RawExtension {
                offset,
                ty,
                layout,
                header_len,
                bytes,
                body: bytes.get(header_len..).unwrap_or(&[]),
            }),
            None => Err(Error::truncated(
                offset + header_len,
                "extension data",
                total - header_len,
                avail.saturating_sub(header_len),
            )),
        }
    }

    /// Offset of the body from the start of the message.
    pub fn body_offset(&self) -> usize {
        self.offset + self.header_len
    }

    /// Offset of the length field from the start of the message.
    pub fn length_field_offset(&self) -> usize {
        self.offset + self.layout.length_field_offset()
    }

    /// The value of the length field as it is on the wire (0 for a pad).
    pub fn length_field(&self) -> u16 {
        match self.layout {
            Layout::Pad => 0,
            Layout::Short | Layout::Nvse => self.bytes.get(1).map_or(0, |&b| u16::from(b)),
            Layout::Long | Layout::Cvse => get_u16(self.bytes, 2),
        }
    }

    /// The sub-type byte of a long-layout extension (36, 40, 42, 47).
    pub fn subtype(&self) -> Option<u8> {
        match self.layout {
            Layout::Long => self.bytes.get(1).copied(),
            _ => None,
        }
    }

    /// The RFC name of the type.
    pub fn name(&self) -> &'static str {
        name(self.ty)
    }

    /// Whether a receiver may skip this extension (RFC 5944 §1.9).
    pub fn is_skippable(&self) -> bool {
        is_skippable(self.ty)
    }

    /// The authentication kind, if this is an authentication extension.
    pub fn auth_kind(&self) -> Option<AuthKind> {
        AuthKind::of(self.ty, self.subtype())
    }

    /// Interprets the body: shorthand for [`Extension::parse`].
    pub fn to_extension(&self) -> Result<Extension> {
        Extension::parse(self)
    }
}

/// Iterator over the extensions of a message, yielding each framed
/// [`RawExtension`] or the framing error that stops the walk (after an error
/// the iterator ends).
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    message: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Extensions<'a> {
    /// Walks `message` from `start` (the end of the fixed part) to its end.
    /// Offsets in the yielded extensions and errors count from the start of
    /// `message`.
    pub fn new(message: &'a [u8], start: usize) -> Self {
        Extensions {
            message,
            offset: start,
            failed: false,
        }
    }

    /// Offset of the next extension to be framed.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Result<RawExtension<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.message.len() {
            return None;
        }
        match RawExtension::parse(self.message, self.offset) {
            Ok(raw) => {
                self.offset += raw.bytes.len();
                Some(Ok(raw))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for Extensions<'_> {}

code_enum! {
    /// Sub-type of the Generalized Mobile IP Authentication Extension (RFC 3012
    /// §5, RFC 4857, RFC 4881; IANA "Generalized Authentication Extension
    /// (Value 36)").
    pub enum GenAuthSubtype {
        MnAaa = 1 => "MN-AAA authentication",
        FaFa = 2 => "FA-FA authentication",
        MnGfa = 3 => "MN-GFA authentication",
        MnPar = 4 => "MN-PAR authentication",
    }
}

code_enum! {
    /// Reply code of the UDP Tunnel Reply Extension (RFC 3519 §3.2).
    pub enum UdpTunnelReplyCode {
        WillDo = 0 => "will do tunneling",
        Declined = 64 => "tunneling declined, reason unspecified",
    }
}

code_enum! {
    /// Code of the Mobile Network Acknowledgement Extension (RFC 5177 §3.2).
    pub enum MobileNetworkAckCode {
        Success = 0 => "success",
        InvalidPrefix = 1 => "invalid prefix",
        Unauthorized = 2 => "mobile router is not authorized for prefix",
        ForwardingSetupFailed = 3 => "forwarding setup failed",
    }
}

/// UDP Tunnel Request Extension body (type 144, RFC 3519 §3.1), length 6:
/// `sub-type(8) reserved1(8) F|R|reserved2(6) encapsulation(8) reserved3(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpTunnelRequest {
    /// Sub-type (0 is the only one defined).
    pub subtype: u8,
    /// "Reserved 1", kept as received.
    pub reserved1: u8,
    /// F (0x80): the mobile node asks for UDP tunnelling even if no NAT is
    /// detected.
    pub force: bool,
    /// R (0x40): the foreign agent's advertisement had R set; registration
    /// goes through the foreign agent.
    pub registration_through_fa: bool,
    /// The six low bits of the flags byte ("Reserved 2"); only `& 0x3f` is
    /// emitted.
    pub reserved2: u8,
    /// What the mobile node will put after the UDP tunnel header: 4, 47 or 55.
    pub encapsulation: Encapsulation,
    /// "Reserved 3", kept as received.
    pub reserved3: u16,
}

impl UdpTunnelRequest {
    /// F flag bit.
    pub const FLAG_F: u8 = 0x80;
    /// R flag bit.
    pub const FLAG_R: u8 = 0x40;

    /// The flags byte as on the wire.
    pub fn flags_byte(&self) -> u8 {
        (if self.force { Self::FLAG_F } else { 0 })
            | (if self.registration_through_fa {
                Self::FLAG_R
            } else {
                0
            })
            | (self.reserved2 & 0x3f)
    }
}

/// UDP Tunnel Reply Extension body (type 44, RFC 3519 §3.2), length 6:
/// `sub-type(8) reply-code(8) F|reserved(15) keepalive-interval(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpTunnelReply {
    /// Sub-type (0 is the only one defined).
    pub subtype: u8,
    /// 0 will do tunnelling, 64 declined.
    pub code: UdpTunnelReplyCode,
    /// F (0x8000): the home agent forces UDP tunnelling.
    pub force: bool,
    /// The 15 low bits of the flags word; only `& 0x7fff` is emitted.
    pub reserved: u16,
    /// Keepalive interval in seconds.
    pub keepalive_interval: u16,
}

impl UdpTunnelReply {
    /// F flag bit.
    pub const FLAG_F: u16 = 0x8000;

    /// The flags word as on the wire.
    pub fn flags_word(&self) -> u16 {
        (if self.force { Self::FLAG_F } else { 0 }) | (self.reserved & 0x7fff)
    }
}

/// Revocation Support Extension body (type 137, RFC 3543 §3.2), length 6:
/// `I|reserved(15) timestamp(32)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RevocationSupport {
    /// I (0x8000): the sender supports the 'I' (inform) bit of revocation
    /// messages.
    pub i_bit_supported: bool,
    /// The 15 low bits of the flags word; only `& 0x7fff` is emitted.
    pub reserved: u16,
    /// Registration revocation timestamp: the sender's clock, against which
    /// the Revocation Identifier of later revocations is checked.
    pub timestamp: u32,
}

impl RevocationSupport {
    /// I flag bit.
    pub const FLAG_I: u16 = 0x8000;

    /// The flags word as on the wire.
    pub fn flags_word(&self) -> u16 {
        (if self.i_bit_supported {
            Self::FLAG_I
        } else {
            0
        }) | (self.reserved & 0x7fff)
    }
}

/// The acknowledgement form of the Mobile Network Extension (RFC 5177 §3.2):
/// `sub-type(8) code(8) prefix-length(8) reserved(8) prefix(32)`, length 8,
/// used both for explicit (sub-type 1) and implicit (sub-type 2) mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MobileNetworkAck {
    /// Result for this prefix.
    pub code: MobileNetworkAckCode,
    /// Prefix length in bits.
    pub prefix_length: u8,
    /// Reserved byte, kept as received.
    pub reserved: u8,
    /// The mobile network prefix.
    pub prefix: Ipv4Addr,
}

/// Mobile Network Extension (type 148, RFC 5177 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MobileNetwork {
    /// Sub-type 0, Mobile Network Request (length 6): `prefix-length(8)
    /// prefix(32)`.
    Request {
        /// Prefix length in bits.
        prefix_length: u8,
        /// The mobile network prefix.
        prefix: Ipv4Addr,
    },
    /// Sub-type 1, explicit mode acknowledgement.
    ExplicitAck(MobileNetworkAck),
    /// Sub-type 2, implicit mode acknowledgement.
    ImplicitAck(MobileNetworkAck),
    /// Any other sub-type: the bytes after the sub-type, kept as received.
    Unknown {
        /// The sub-type.
        subtype: u8,
        /// The rest of the body.
        data: Vec<u8>,
    },
}

impl MobileNetwork {
    /// Sub-type of a Mobile Network Request.
    pub const SUBTYPE_REQUEST: u8 = 0;
    /// Sub-type of an explicit mode acknowledgement.
    pub const SUBTYPE_EXPLICIT_ACK: u8 = 1;
    /// Sub-type of an implicit mode acknowledgement.
    pub const SUBTYPE_IMPLICIT_ACK: u8 = 2;

    /// The sub-type on the wire.
    pub fn subtype(&self) -> u8 {
        match self {
            MobileNetwork::Request { .. } => Self::SUBTYPE_REQUEST,
            MobileNetwork::ExplicitAck(_) => Self::SUBTYPE_EXPLICIT_ACK,
            MobileNetwork::ImplicitAck(_) => Self::SUBTYPE_IMPLICIT_ACK,
            MobileNetwork::Unknown { subtype, .. } => *subtype,
        }
    }
}

/// Which authentication extension, and so which security association, an
/// authenticator belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    /// Type 32, Mobile-Home (RFC 5944 §3.5.2).
    MnHa,
    /// Type 33, Mobile-Foreign (RFC 5944 §3.5.3).
    MnFa,
    /// Type 34, Foreign-Home (RFC 5944 §3.5.4).
    FaHa,
    /// Type 36, generalized (RFC 3012 §5), with its sub-type.
    Generalized(GenAuthSubtype),
}

impl AuthKind {
    /// The kind of extension type `ty` (with the long-layout `subtype` for
    /// type 36), or `None` if `ty` is not an authentication extension.
    pub fn of(ty: u8, subtype: Option<u8>) -> Option<AuthKind> {
        match ty {
            MN_HA_AUTH => Some(AuthKind::MnHa),
            MN_FA_AUTH => Some(AuthKind::MnFa),
            FA_HA_AUTH => Some(AuthKind::FaHa),
            GENERALIZED_AUTH => Some(AuthKind::Generalized(GenAuthSubtype::from(subtype?))),
            _ => None,
        }
    }

    /// The extension type number.
    pub fn type_code(self) -> u8 {
        match self {
            AuthKind::MnHa => MN_HA_AUTH,
            AuthKind::MnFa => MN_FA_AUTH,
            AuthKind::FaHa => FA_HA_AUTH,
            AuthKind::Generalized(_) => GENERALIZED_AUTH,
        }
    }

    /// A short name: "MN-HA", "MN-FA", "FA-HA", or the generalized sub-type's
    /// name ("MN-AAA authentication", ...).
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::MnHa => "MN-HA",
            AuthKind::MnFa => "MN-FA",
            AuthKind::FaHa => "FA-HA",
            AuthKind::Generalized(s) => s.name(),
        }
    }

    /// Header length before the SPI.
    fn header_len(self) -> usize {
        match self {
            AuthKind::Generalized(_) => 4,
            _ => 2,
        }
    }
}

/// An owned, typed extension. See the module documentation for the rules on
/// unknown and malformed extensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Extension {
    /// Type 0: one pad byte.
    Pad,
    /// Type 32, Mobile-Home Authentication (RFC 5944 §3.5.2).
    MnHaAuth {
        /// Security Parameter Index.
        spi: u32,
        /// Authenticator (16 bytes for HMAC-MD5 / prefix+suffix MD5).
        authenticator: Vec<u8>,
    },
    /// Type 33, Mobile-Foreign Authentication (RFC 5944 §3.5.3).
    MnFaAuth {
        /// Security Parameter Index.
        spi: u32,
        /// Authenticator.
        authenticator: Vec<u8>,
    },
    /// Type 34, Foreign-Home Authentication (RFC 5944 §3.5.4).
    FaHaAuth {
        /// Security Parameter Index.
        spi: u32,
        /// Authenticator.
        authenticator: Vec<u8>,
    },
    /// Type 36, Generalized Mobile IP Authentication (RFC 3012 §5).
    GeneralizedAuth {
        /// Which key the authenticator uses.
        subtype: GenAuthSubtype,
        /// Security Parameter Index.
        spi: u32,
        /// Authenticator.
        authenticator: Vec<u8>,
    },
    /// Type 38, Critical Vendor/Organization Specific Extension (RFC 3115 §2).
    Cvse {
        /// The reserved byte of the header, kept as received.
        reserved: u8,
        /// Vendor/Org-ID (an SMI enterprise number: Cisco 9, 3GPP2 5535, ...).
        vendor_id: u32,
        /// Vendor-CVSE-Type.
        vendor_type: u16,
        /// Vendor-CVSE-Value.
        data: Vec<u8>,
    },
    /// Long-layout extensions whose contents are not interpreted: 40 and 42
    /// (generalized key extensions, RFC 3957) and 47 (proxy MIPv4
    /// non-skippable, RFC 5563). `ty` must be one of those.
    GenericLong {
        /// Extension type (40, 42 or 47).
        ty: u8,
        /// Sub-type.
        subtype: u8,
        /// The body after the length field.
        data: Vec<u8>,
    },
    /// Type 44, UDP Tunnel Reply (RFC 3519 §3.2).
    UdpTunnelReply(UdpTunnelReply),
    /// Type 130, Encapsulating Delivery Style (RFC 3024 §3.3): no body.
    EncapsulatingDeliveryStyle,
    /// Type 131, Mobile Node NAI (RFC 2794 §2): the NAI bytes (UTF-8 in
    /// practice; see [`Extension::nai`]).
    Nai(Vec<u8>),
    /// Type 132, MN-FA Challenge (RFC 3012 §3.1): the challenge bytes.
    MnFaChallenge(Vec<u8>),
    /// Type 134, Normal Vendor/Organization Specific Extension (RFC 3115 §3).
    Nvse {
        /// The reserved word of the header, kept as received.
        reserved: u16,
        /// Vendor/Org-ID.
        vendor_id: u32,
        /// Vendor-NVSE-Type.
        vendor_type: u16,
        /// Vendor-NVSE-Value.
        data: Vec<u8>,
    },
    /// Type 137, Revocation Support (RFC 3543 §3.2).
    RevocationSupport(RevocationSupport),
    /// Type 144, UDP Tunnel Request (RFC 3519 §3.1).
    UdpTunnelRequest(UdpTunnelRequest),
    /// Type 148, Mobile Network (RFC 5177 §3).
    MobileNetwork(MobileNetwork),
    /// A skippable type (128–255) whose contents this crate does not
    /// interpret, kept byte for byte (short layout). It may have a name
    /// ([`name`]) all the same.
    UnknownSkippable {
        /// Extension type.
        ty: u8,
        /// Body.
        data: Vec<u8>,
    },
    /// A non-skippable type (1–127) this crate does not interpret, framed with
    /// the short layout and kept byte for byte. A receiver must discard a
    /// message carrying one it does not recognise (RFC 5944 §1.9).
    UnknownNonSkippable {
        /// Extension type.
        ty: u8,
        /// Body.
        data: Vec<u8>,
    },
}

impl Extension {
    /// Interprets a framed extension. Errors carry offsets from the start of
    /// the message the extension was framed in.
    pub fn parse(raw: &RawExtension<'_>) -> Result<Extension> {
        let mut r = Reader::new(raw.body, raw.body_offset());
        let len_at = raw.length_field_offset();
        let ext = match raw.ty {
            PAD => Extension::Pad,
            MN_HA_AUTH | MN_FA_AUTH | FA_HA_AUTH => {
                let spi = r.u32("SPI")?;
                let authenticator = r.rest().to_vec();
                match raw.ty {
                    MN_HA_AUTH => Extension::MnHaAuth { spi, authenticator },
                    MN_FA_AUTH => Extension::MnFaAuth { spi, authenticator },
                    _ => Extension::FaHaAuth { spi, authenticator },
                }
            }
            GENERALIZED_AUTH => {
                let subtype = GenAuthSubtype::from(raw.subtype().unwrap_or(0));
                let spi = r.u32("SPI")?;
                Extension::GeneralizedAuth {
                    subtype,
                    spi,
                    authenticator: r.rest().to_vec(),
                }
            }
            CVSE => {
                let reserved = raw.bytes.get(1).copied().unwrap_or(0);
                let vendor_id = r.u32("Vendor/Org-ID")?;
                let vendor_type = r.u16("Vendor-CVSE-Type")?;
                Extension::Cvse {
                    reserved,
                    vendor_id,
                    vendor_type,
                    data: r.rest().to_vec(),
                }
            }
            NVSE => {
                let reserved = get_u16(raw.bytes, 2);
                let vendor_id = r.u32("Vendor/Org-ID")?;
                let vendor_type = r.u16("Vendor-NVSE-Type")?;
                Extension::Nvse {
                    reserved,
                    vendor_id,
                    vendor_type,
                    data: r.rest().to_vec(),
                }
            }
            GENERALIZED_MN_FA_KEY | GENERALIZED_MN_HA_KEY | PMIPV4_NON_SKIPPABLE => {
                Extension::GenericLong {
                    ty: raw.ty,
                    subtype: raw.subtype().unwrap_or(0),
                    data: r.rest().to_vec(),
                }
            }
            UDP_TUNNEL_REPLY => {
                let subtype = r.u8("sub-type")?;
                let code = UdpTunnelReplyCode::from(r.u8("reply code")?);
                let flags = r.u16("flags")?;
                let keepalive_interval = r.u16("keepalive interval")?;
                r.finish(len_at)?;
                Extension::UdpTunnelReply(UdpTunnelReply {
                    subtype,
                    code,
                    force: flags & UdpTunnelReply::FLAG_F != 0,
                    reserved: flags & 0x7fff,
                    keepalive_interval,
                })
            }
            ENCAPSULATING_DELIVERY_STYLE => {
                r.finish(len_at)?;
                Extension::EncapsulatingDeliveryStyle
            }
            MN_NAI => Extension::Nai(r.rest().to_vec()),
            MN_FA_CHALLENGE => Extension::MnFaChallenge(r.rest().to_vec()),
            REVOCATION_SUPPORT => {
                let flags = r.u16("flags")?;
                let timestamp = r.u32("timestamp")?;
                r.finish(len_at)?;
                Extension::RevocationSupport(RevocationSupport {
                    i_bit_supported: flags & RevocationSupport::FLAG_I != 0,
                    reserved: flags & 0x7fff,
                    timestamp,
                })
            }
            UDP_TUNNEL_REQUEST => {
                let subtype = r.u8("sub-type")?;
                let reserved1 = r.u8("reserved 1")?;
                let flags = r.u8("flags")?;
                let encapsulation = Encapsulation::from(r.u8("encapsulation")?);
                let reserved3 = r.u16("reserved 3")?;
                r.finish(len_at)?;
                Extension::UdpTunnelRequest(UdpTunnelRequest {
                    subtype,
                    reserved1,
                    force: flags & UdpTunnelRequest::FLAG_F != 0,
                    registration_through_fa: flags & UdpTunnelRequest::FLAG_R != 0,
                    reserved2: flags & 0x3f,
                    encapsulation,
                    reserved3,
                })
            }
            MOBILE_NETWORK => {
                let subtype = r.u8("sub-type")?;
                let mn = match subtype {
                    MobileNetwork::SUBTYPE_REQUEST => {
                        let prefix_length = r.u8("prefix length")?;
                        let prefix = r.addr("prefix")?;
                        r.finish(len_at)?;
                        MobileNetwork::Request {
                            prefix_length,
                            prefix,
                        }
                    }
                    MobileNetwork::SUBTYPE_EXPLICIT_ACK | MobileNetwork::SUBTYPE_IMPLICIT_ACK => {
                        let code = MobileNetworkAckCode::from(r.u8("code")?);
                        let prefix_length = r.u8("prefix length")?;
                        let reserved = r.u8("reserved")?;
                        let prefix = r.addr("prefix")?;
                        r.finish(len_at)?;
                        let ack = MobileNetworkAck {
                            code,
                            prefix_length,
                            reserved,
                            prefix,
                        };
                        if subtype == MobileNetwork::SUBTYPE_EXPLICIT_ACK {
                            MobileNetwork::ExplicitAck(ack)
                        } else {
                            MobileNetwork::ImplicitAck(ack)
                        }
                    }
                    _ => MobileNetwork::Unknown {
                        subtype,
                        data: r.rest().to_vec(),
                    },
                };
                Extension::MobileNetwork(mn)
            }
            ty if is_skippable(ty) => Extension::UnknownSkippable {
                ty,
                data: r.rest().to_vec(),
            },
            ty => Extension::UnknownNonSkippable {
                ty,
                data: r.rest().to_vec(),
            },
        };
        Ok(ext)
    }

    /// Frames and interprets every extension of `message` from `start`.
    pub fn parse_all(message: &[u8], start: usize) -> Result<Vec<Extension>> {
        Extensions::new(message, start)
            .map(|raw| Extension::parse(&raw?))
            .collect()
    }

    /// The extension type number.
    pub fn ty(&self) -> u8 {
        match self {
            Extension::Pad => PAD,
            Extension::MnHaAuth { .. } => MN_HA_AUTH,
            Extension::MnFaAuth { .. } => MN_FA_AUTH,
            Extension::FaHaAuth { .. } => FA_HA_AUTH,
            Extension::GeneralizedAuth { .. } => GENERALIZED_AUTH,
            Extension::Cvse { .. } => CVSE,
            Extension::GenericLong { ty, .. } => *ty,
            Extension::UdpTunnelReply(_) => UDP_TUNNEL_REPLY,
            Extension::EncapsulatingDeliveryStyle => ENCAPSULATING_DELIVERY_STYLE,
            Extension::Nai(_) => MN_NAI,
            Extension::MnFaChallenge(_) => MN_FA_CHALLENGE,
            Extension::Nvse { .. } => NVSE,
            Extension::RevocationSupport(_) => REVOCATION_SUPPORT,
            Extension::UdpTunnelRequest(_) => UDP_TUNNEL_REQUEST,
            Extension::MobileNetwork(_) => MOBILE_NETWORK,
            Extension::UnknownSkippable { ty, .. } | Extension::UnknownNonSkippable { ty, .. } => {
                *ty
            }
        }
    }

    /// The RFC name of the type.
    pub fn name(&self) -> &'static str {
        name(self.ty())
    }

    /// The header shape this extension is emitted with.
    pub fn layout(&self) -> Layout {
        match self {
            // Unknown types are always framed short, whatever their number.
            Extension::UnknownSkippable { .. } | Extension::UnknownNonSkippable { .. } => {
                Layout::Short
            }
            other => Layout::of(other.ty()),
        }
    }

    /// For authentication extensions: kind, SPI and authenticator.
    pub fn auth(&self) -> Option<(AuthKind, u32, &[u8])> {
        match self {
            Extension::MnHaAuth { spi, authenticator } => {
                Some((AuthKind::MnHa, *spi, authenticator))
            }
            Extension::MnFaAuth { spi, authenticator } => {
                Some((AuthKind::MnFa, *spi, authenticator))
            }
            Extension::FaHaAuth { spi, authenticator } => {
                Some((AuthKind::FaHa, *spi, authenticator))
            }
            Extension::GeneralizedAuth {
                subtype,
                spi,
                authenticator,
            } => Some((AuthKind::Generalized(*subtype), *spi, authenticator)),
            _ => None,
        }
    }

    /// For a Mobile Node NAI extension: the NAI as text, invalid UTF-8
    /// replaced by U+FFFD.
    pub fn nai(&self) -> Option<Cow<'_, str>> {
        match self {
            Extension::Nai(bytes) => Some(String::from_utf8_lossy(bytes)),
            _ => None,
        }
    }

    /// The body as it would be emitted, before clamping to the length field.
    fn natural_body_len(&self) -> usize {
        match self {
            Extension::Pad | Extension::EncapsulatingDeliveryStyle => 0,
            Extension::MnHaAuth { authenticator, .. }
            | Extension::MnFaAuth { authenticator, .. }
            | Extension::FaHaAuth { authenticator, .. }
            | Extension::GeneralizedAuth { authenticator, .. } => 4 + authenticator.len(),
            Extension::Cvse { data, .. } | Extension::Nvse { data, .. } => 6 + data.len(),
            Extension::GenericLong { data, .. }
            | Extension::Nai(data)
            | Extension::MnFaChallenge(data)
            | Extension::UnknownSkippable { data, .. }
            | Extension::UnknownNonSkippable { data, .. } => data.len(),
            Extension::UdpTunnelReply(_)
            | Extension::RevocationSupport(_)
            | Extension::UdpTunnelRequest(_) => 6,
            Extension::MobileNetwork(mn) => match mn {
                MobileNetwork::Request { .. } => 6,
                MobileNetwork::ExplicitAck(_) | MobileNetwork::ImplicitAck(_) => 8,
                MobileNetwork::Unknown { data, .. } => 1 + data.len(),
            },
        }
    }

    /// Body bytes actually emitted. A body larger than the layout's length
    /// field can describe (for example a 300-byte NAI) is cut to fit, so the
    /// output always frames; such a value is a caller bug.
    fn body_len(&self) -> usize {
        let layout = self.layout();
        let natural = self.natural_body_len();
        debug_assert!(
            natural <= layout.max_body_len(),
            "extension {} body of {} bytes does not fit its length field",
            self.ty(),
            natural
        );
        natural.min(layout.max_body_len())
    }

    /// Bytes needed to emit this extension.
    pub fn buffer_len(&self) -> usize {
        self.layout().header_len() + self.body_len()
    }

    /// Writes the extension to the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Extension::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let layout = self.layout();
        let body_len = self.body_len();
        let ty = self.ty();
        let header_len = layout.header_len();
        let (head, rest) = buf.split_at_mut(header_len);
        head[0] = ty;
        match layout {
            Layout::Pad => {}
            Layout::Short => head[1] = body_len as u8,
            Layout::Long => {
                head[1] = match self {
                    Extension::GeneralizedAuth { subtype, .. } => u8::from(*subtype),
                    Extension::GenericLong { subtype, .. } => *subtype,
                    _ => 0,
                };
                head[2..4].copy_from_slice(&(body_len as u16).to_be_bytes());
            }
            Layout::Cvse => {
                head[1] = match self {
                    Extension::Cvse { reserved, .. } => *reserved,
                    _ => 0,
                };
                head[2..4].copy_from_slice(&(body_len as u16).to_be_bytes());
            }
            Layout::Nvse => {
                head[1] = (body_len + 2) as u8;
                let reserved = match self {
                    Extension::Nvse { reserved, .. } => *reserved,
                    _ => 0,
                };
                head[2..4].copy_from_slice(&reserved.to_be_bytes());
            }
        }
        let mut w = Writer::new(&mut rest[..body_len]);
        self.emit_body(&mut w);
    }

    fn emit_body(&self, w: &mut Writer<'_>) {
        match self {
            Extension::Pad | Extension::EncapsulatingDeliveryStyle => {}
            Extension::MnHaAuth { spi, authenticator }
            | Extension::MnFaAuth { spi, authenticator }
            | Extension::FaHaAuth { spi, authenticator }
            | Extension::GeneralizedAuth {
                spi, authenticator, ..
            } => {
                w.put(&spi.to_be_bytes());
                w.put(authenticator);
            }
            Extension::Cvse {
                vendor_id,
                vendor_type,
                data,
                ..
            }
            | Extension::Nvse {
                vendor_id,
                vendor_type,
                data,
                ..
            } => {
                w.put(&vendor_id.to_be_bytes());
                w.put(&vendor_type.to_be_bytes());
                w.put(data);
            }
            Extension::GenericLong { data, .. }
            | Extension::Nai(data)
            | Extension::MnFaChallenge(data)
            | Extension::UnknownSkippable { data, .. }
            | Extension::UnknownNonSkippable { data, .. } => w.put(data),
            Extension::UdpTunnelReply(r) => {
                w.put(&[r.subtype, u8::from(r.code)]);
                w.put(&r.flags_word().to_be_bytes());
                w.put(&r.keepalive_interval.to_be_bytes());
            }
            Extension::RevocationSupport(r) => {
                w.put(&r.flags_word().to_be_bytes());
                w.put(&r.timestamp.to_be_bytes());
            }
            Extension::UdpTunnelRequest(r) => {
                w.put(&[
                    r.subtype,
                    r.reserved1,
                    r.flags_byte(),
                    u8::from(r.encapsulation),
                ]);
                w.put(&r.reserved3.to_be_bytes());
            }
            Extension::MobileNetwork(mn) => {
                w.put(&[mn.subtype()]);
                match mn {
                    MobileNetwork::Request {
                        prefix_length,
                        prefix,
                    } => {
                        w.put(&[*prefix_length]);
                        w.put(&prefix.octets());
                    }
                    MobileNetwork::ExplicitAck(a) | MobileNetwork::ImplicitAck(a) => {
                        w.put(&[u8::from(a.code), a.prefix_length, a.reserved]);
                        w.put(&a.prefix.octets());
                    }
                    MobileNetwork::Unknown { data, .. } => w.put(data),
                }
            }
        }
    }

    /// The extension as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v);
        v
    }

    /// Total bytes of a list of extensions.
    pub fn buffer_len_all(exts: &[Extension]) -> usize {
        exts.iter().map(Extension::buffer_len).sum()
    }

    /// Writes a list of extensions back to back at the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Extension::buffer_len_all`].
    pub fn emit_all(exts: &[Extension], buf: &mut [u8]) {
        let mut at = 0;
        for e in exts {
            let n = e.buffer_len();
            e.emit(&mut buf[at..at + n]);
            at += n;
        }
    }
}

/// What an authenticator covers, found in a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthRegion<'a> {
    /// Which authentication extension.
    pub kind: AuthKind,
    /// Its Security Parameter Index.
    pub spi: u32,
    /// Offset of the extension's type byte from the start of the message.
    pub extension_offset: usize,
    /// The bytes the authenticator is computed over: from the start of the
    /// message through the end of the SPI of this extension (RFC 5944 §3.5.1,
    /// RFC 3012 §5).
    pub covered: &'a [u8],
    /// The authenticator as received.
    pub authenticator: &'a [u8],
}

/// The covered bytes and authenticator of authentication extension `ext`
/// (type 32, 33, 34 or 36) of `message`, which must be the buffer `ext` was
/// framed in.
///
/// Errors: not an authentication type (bad value, "extension type"); `ext`
/// not found at its offset in `message` (bad value, "extension type"); body
/// shorter than an SPI (truncated, "SPI").
pub fn auth_region<'a>(message: &'a [u8], ext: &RawExtension<'_>) -> Result<AuthRegion<'a>> {
    let kind = ext
        .auth_kind()
        .ok_or(Error::bad_value(ext.offset, "extension type"))?;
    let end = ext.offset.checked_add(ext.bytes.len());
    let here = end.and_then(|end| message.get(ext.offset..end));
    if here != Some(ext.bytes) {
        return Err(Error::bad_value(ext.offset, "extension type"));
    }
    let spi_at = ext.offset + ext.header_len;
    let spi = Reader::new(ext.body, spi_at).u32("SPI")?;
    let covered_end = spi_at + 4;
    let ext_end = ext.offset + ext.bytes.len();
    Ok(AuthRegion {
        kind,
        spi,
        extension_offset: ext.offset,
        covered: message.get(..covered_end).unwrap_or(&[]),
        authenticator: message.get(covered_end..ext_end).unwrap_or(&[]),
    })
}

/// Every authentication extension of `message` (extensions from `start`), in
/// the order they appear. Agents use the order to check placement rules (RFC
/// 5944 §3.6.1.3: the MN-HA authenticator comes after the extensions the home
/// agent relies on, the MN-FA and FA-HA ones after it).
pub fn auth_regions(message: &[u8], start: usize) -> Result<Vec<AuthRegion<'_>>> {
    let mut out = Vec::new();
    for raw in Extensions::new(message, start) {
        let raw = raw?;
        if raw.auth_kind().is_some() {
            out.push(auth_region(message, &raw)?);
        }
    }
    Ok(out)
}

/// The first non-skippable extension (type 1–127) of `message` whose contents
/// this crate does not interpret ([`is_interpreted`] is false: unassigned
/// types, 37, 40, 42, 45, 46, 47). RFC 5944 §1.9: a message carrying a
/// non-skippable extension the receiver does not recognise is silently
/// discarded.
pub fn first_unknown_non_skippable(
    message: &[u8],
    start: usize,
) -> Result<Option<RawExtension<'_>>> {
    first_unsupported_non_skippable(message, start, is_interpreted)
}

/// The first non-skippable extension of `message` for which `supported`
/// returns false: for an agent that recognises a different set of types than
/// [`is_interpreted`].
pub fn first_unsupported_non_skippable(
    message: &[u8],
    start: usize,
    supported: impl Fn(u8) -> bool,
) -> Result<Option<RawExtension<'_>>> {
    for raw in Extensions::new(message, start) {
        let raw = raw?;
        if !is_skippable(raw.ty) && !supported(raw.ty) {
            return Ok(Some(raw));
        }
    }
    Ok(None)
}

/// Appends an authentication extension to the emitted message in `buf`:
/// writes its header (with the length field counting SPI and `auth_len`
/// authenticator bytes) and SPI, calls `sign` with everything the
/// authenticator covers (the whole of `buf` by then, RFC 5944 §3.5.1), and
/// writes the result.
///
/// On error `buf` is left as it was. Errors (offsets into `buf`):
/// * `auth_len` too large for the length field: bad length, "extension
///   length";
/// * `sign` returned other than `auth_len` bytes: bad length,
///   "authenticator".
pub fn append_auth_extension<F, A>(
    buf: &mut Vec<u8>,
    kind: AuthKind,
    spi: u32,
    auth_len: usize,
    sign: F,
) -> Result<()>
where
    F: FnOnce(&[u8]) -> A,
    A: AsRef<[u8]>,
{
    let start = buf.len();
    let body_len = 4 + auth_len;
    match kind {
        AuthKind::Generalized(subtype) => {
            let len = u16::try_from(body_len)
                .map_err(|_| Error::bad_length(start + 2, "extension length"))?;
            buf.push(GENERALIZED_AUTH);
            buf.push(u8::from(subtype));
            buf.extend_from_slice(&len.to_be_bytes());
        }
        _ => {
            let len = u8::try_from(body_len)
                .map_err(|_| Error::bad_length(start + 1, "extension length"))?;
            buf.push(kind.type_code());
            buf.push(len);
        }
    }
    buf.extend_from_slice(&spi.to_be_bytes());
    let auth_at = start + kind.header_len() + 4;
    let authenticator = sign(buf.as_slice());
    let authenticator = authenticator.as_ref();
    if authenticator.len() != auth_len {
        buf.truncate(start);
        return Err(Error::bad_length(auth_at, "authenticator"));
    }
    buf.extend_from_slice(authenticator);
    Ok(())
}

// ---------------------------------------------------------------------------
// Small helpers shared by the message codecs of this crate.

/// A cursor over a sub-slice that reports truncation with absolute offsets.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// `buf` starts at absolute offset `base`.
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(Error::truncated(
                self.base + self.pos,
                field,
                n,
                self.buf.len().saturating_sub(self.pos),
            )),
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.take(1, field)?.first().copied().unwrap_or(0))
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16> {
        Ok(get_u16(self.take(2, field)?, 0))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(get_u32(self.take(4, field)?, 0))
    }

    pub(crate) fn addr(&mut self, field: &'static str) -> Result<Ipv4Addr> {
        Ok(Ipv4Addr::from(self.u32(field)?))
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// A fixed-size body must be used up: leftover bytes mean the length field
    /// at `length_at` is wrong.
    pub(crate) fn finish(&self, length_at: usize) -> Result<()> {
        if self.pos < self.buf.len() {
            Err(Error::bad_length(length_at, "extension length"))
        } else {
            Ok(())
        }
    }
}

/// A cursor writing into a slice; panics past its end (emit's documented
/// contract).
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Writes as much of `bytes` as fits (the slice is sized to the clamped
    /// body, so anything cut here was beyond the length field's reach).
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let room = self.buf.len().saturating_sub(self.pos);
        let n = bytes.len().min(room);
        self.buf[self.pos..self.pos + n].copy_from_slice(&bytes[..n]);
        self.pos += n;
    }
}

/// Checks that `buf` holds every fixed field `(offset, size, name)` (listed in
/// order); the error names the first one that does not fit.
pub(crate) fn check_fields(buf: &[u8], fields: &[(usize, usize, &'static str)]) -> Result<()> {
    for &(at, size, field) in fields {
        if buf.len() < at + size {
            return Err(Error::truncated(
                at,
                field,
                size,
                buf.len().saturating_sub(at),
            ));
        }
    }
    Ok(())
}

/// Big-endian reads that return 0 when out of range (never panic).
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_be_bytes)
}

pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

pub(crate) fn get_addr(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::from(get_u32(b, at))
}

fn be_u8(rest: &[u8], at: usize, base: usize, field: &'static str) -> Result<u8> {
    rest.get(at).copied().ok_or(Error::truncated(
        base + at,
        field,
        1,
        rest.len().saturating_sub(at),
    ))
}

fn be_u16(rest: &[u8], at: usize, base: usize, field: &'static str) -> Result<u16> {
    match rest.get(at..at + 2) {
        Some(s) => Ok(get_u16(s, 0)),
        None => Err(Error::truncated(
            base + at,
            field,
            2,
            rest.len().saturating_sub(at),
        )),
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    //! proptest strategies for extensions, shared with the message tests.
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        vec(any::<u8>(), 0..=max)
    }

    fn addr() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    fn mn_ack() -> impl Strategy<Value = MobileNetworkAck> {
        (any::<u8>(), any::<u8>(), any::<u8>(), addr()).prop_map(
            |(code, prefix_length, reserved, prefix)| MobileNetworkAck {
                code: code.into(),
                prefix_length,
                reserved,
                prefix,
            },
        )
    }

    /// Types that parse to `UnknownSkippable`.
    fn unknown_skippable_ty() -> impl Strategy<Value = u8> {
        (128u8..=255).prop_filter("interpreted", |t| !is_interpreted(*t))
    }

    /// Types that parse to `UnknownNonSkippable`.
    fn unknown_non_skippable_ty() -> impl Strategy<Value = u8> {
        (1u8..=127).prop_filter("interpreted or long", |t| {
            !is_interpreted(*t) && Layout::of(*t) == Layout::Short
        })
    }

    /// Any valid extension (every variant, bodies within their length field).
    pub(crate) fn extension() -> impl Strategy<Value = Extension> {
        prop_oneof![
            Just(Extension::Pad),
            (any::<u32>(), bytes(40))
                .prop_map(|(spi, authenticator)| Extension::MnHaAuth { spi, authenticator }),
            (any::<u32>(), bytes(40))
                .prop_map(|(spi, authenticator)| Extension::MnFaAuth { spi, authenticator }),
            (any::<u32>(), bytes(40))
                .prop_map(|(spi, authenticator)| Extension::FaHaAuth { spi, authenticator }),
            (any::<u8>(), any::<u32>(), bytes(300)).prop_map(|(s, spi, authenticator)| {
                Extension::GeneralizedAuth {
                    subtype: s.into(),
                    spi,
                    authenticator,
                }
            }),
            (any::<u8>(), any::<u32>(), any::<u16>(), bytes(300)).prop_map(
                |(reserved, vendor_id, vendor_type, data)| Extension::Cvse {
                    reserved,
                    vendor_id,
                    vendor_type,
                    data
                }
            ),
            (
                prop::sample::select(vec![40u8, 42, 47]),
                any::<u8>(),
                bytes(300)
            )
                .prop_map(|(ty, subtype, data)| Extension::GenericLong {
                    ty,
                    subtype,
                    data
                }),
            (
                any::<u8>(),
                any::<u8>(),
                any::<bool>(),
                0u16..0x8000,
                any::<u16>()
            )
                .prop_map(|(subtype, code, force, reserved, keepalive_interval)| {
                    Extension::UdpTunnelReply(UdpTunnelReply {
                        subtype,
                        code: code.into(),
                        force,
                        reserved,
                        keepalive_interval,
                    })
                }),
            Just(Extension::EncapsulatingDeliveryStyle),
            bytes(255).prop_map(Extension::Nai),
            bytes(255).prop_map(Extension::MnFaChallenge),
            (any::<u16>(), any::<u32>(), any::<u16>(), bytes(245)).prop_map(
                |(reserved, vendor_id, vendor_type, data)| Extension::Nvse {
                    reserved,
                    vendor_id,
                    vendor_type,
                    data
                }
            ),
            (any::<bool>(), 0u16..0x8000, any::<u32>()).prop_map(
                |(i_bit_supported, reserved, timestamp)| {
                    Extension::RevocationSupport(RevocationSupport {
                        i_bit_supported,
                        reserved,
                        timestamp,
                    })
                }
            ),
            (
                any::<u8>(),
                any::<u8>(),
                any::<bool>(),
                any::<bool>(),
                0u8..0x40,
                any::<u8>(),
                any::<u16>()
            )
                .prop_map(
                    |(subtype, reserved1, force, r, reserved2, encap, reserved3)| {
                        Extension::UdpTunnelRequest(UdpTunnelRequest {
                            subtype,
                            reserved1,
                            force,
                            registration_through_fa: r,
                            reserved2,
                            encapsulation: encap.into(),
                            reserved3,
                        })
                    }
                ),
            (any::<u8>(), addr()).prop_map(|(prefix_length, prefix)| {
                Extension::MobileNetwork(MobileNetwork::Request {
                    prefix_length,
                    prefix,
                })
            }),
            mn_ack().prop_map(|a| Extension::MobileNetwork(MobileNetwork::ExplicitAck(a))),
            mn_ack().prop_map(|a| Extension::MobileNetwork(MobileNetwork::ImplicitAck(a))),
            (3u8..=255, bytes(254)).prop_map(|(subtype, data)| {
                Extension::MobileNetwork(MobileNetwork::Unknown { subtype, data })
            }),
            (unknown_skippable_ty(), bytes(255))
                .prop_map(|(ty, data)| Extension::UnknownSkippable { ty, data }),
            (unknown_non_skippable_ty(), bytes(255))
                .prop_map(|(ty, data)| Extension::UnknownNonSkippable { ty, data }),
        ]
    }

    /// A list of extensions.
    pub(crate) fn extensions() -> impl Strategy<Value = Vec<Extension>> {
        vec(extension(), 0..6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// Frames a single extension placed at offset 0 and parses it.
    fn one(bytes: &[u8]) -> Result<Extension> {
        let raw = RawExtension::parse(bytes, 0)?;
        assert_eq!(raw.bytes.len(), bytes.len(), "framing consumed all bytes");
        Extension::parse(&raw)
    }

    fn round_trip(bytes: &[u8]) -> Extension {
        let e = one(bytes).unwrap();
        assert_eq!(e.buffer_len(), bytes.len());
        assert_eq!(e.to_bytes(), bytes, "re-emit of {e:?}");
        e
    }

    #[test]
    fn pad() {
        assert_eq!(round_trip(&[0]), Extension::Pad);
        let raw = RawExtension::parse(&[0, 0x20], 0).unwrap();
        assert_eq!(
            (raw.layout, raw.header_len, raw.body.len()),
            (Layout::Pad, 1, 0)
        );
    }

    #[test]
    fn mn_ha_auth() {
        // type 32, length 20, SPI 0x00000333, 16-byte authenticator
        let b = h("20 14 00000333 00112233445566778899aabbccddeeff");
        let e = round_trip(&b);
        assert_eq!(
            e,
            Extension::MnHaAuth {
                spi: 0x333,
                authenticator: b[6..].to_vec()
            }
        );
        assert_eq!(e.auth().unwrap().0, AuthKind::MnHa);
        assert_eq!(e.name(), "Mobile-Home Authentication Extension");
    }

    #[test]
    fn mn_fa_and_fa_ha_auth() {
        let e = round_trip(&h("21 06 0000 0100 aabb"));
        assert_eq!(
            e,
            Extension::MnFaAuth {
                spi: 0x100,
                authenticator: vec![0xaa, 0xbb]
            }
        );
        let e = round_trip(&h("22 04 ffffffff"));
        assert_eq!(
            e,
            Extension::FaHaAuth {
                spi: 0xffff_ffff,
                authenticator: vec![]
            }
        );
    }

    #[test]
    fn generalized_auth() {
        // type 36, subtype 1 (MN-AAA), length 0x0008, SPI 2, authenticator 4 bytes
        let e = round_trip(&h("24 01 0008 00000002 deadbeef"));
        assert_eq!(
            e,
            Extension::GeneralizedAuth {
                subtype: GenAuthSubtype::MnAaa,
                spi: 2,
                authenticator: vec![0xde, 0xad, 0xbe, 0xef]
            }
        );
        let e = round_trip(&h("24 09 0004 00000002"));
        assert!(matches!(
            e,
            Extension::GeneralizedAuth {
                subtype: GenAuthSubtype::Unknown(9),
                ..
            }
        ));
    }

    #[test]
    fn cvse() {
        // type 38, reserved 0x5a, length 0x0008, vendor 9 (Cisco), type 0x0102, value c0de
        let b = h("26 5a 0008 00000009 0102 c0de");
        let raw = RawExtension::parse(&b, 0).unwrap();
        assert_eq!(
            (raw.layout, raw.header_len, raw.length_field()),
            (Layout::Cvse, 4, 8)
        );
        assert_eq!(
            round_trip(&b),
            Extension::Cvse {
                reserved: 0x5a,
                vendor_id: 9,
                vendor_type: 0x0102,
                data: vec![0xc0, 0xde]
            }
        );
    }

    #[test]
    fn nvse() {
        // type 134, length 10 (reserved 2 + vendor 4 + type 2 + value 2), reserved 0x0001
        let b = h("86 0a 0001 0000159f 0010 abcd");
        let raw = RawExtension::parse(&b, 0).unwrap();
        assert_eq!(
            (raw.layout, raw.header_len, raw.body.len()),
            (Layout::Nvse, 4, 8)
        );
        assert_eq!(
            round_trip(&b),
            Extension::Nvse {
                reserved: 1,
                vendor_id: 5535,
                vendor_type: 0x10,
                data: vec![0xab, 0xcd]
            }
        );
        // a length that does not even cover the reserved field
        assert_eq!(
            RawExtension::parse(&h("86 01 00"), 0),
            Err(Error::bad_length(1, "extension length"))
        );
        // vendor fields missing
        assert_eq!(
            one(&h("86 04 0000 0000")),
            Err(Error::truncated(4, "Vendor/Org-ID", 4, 2))
        );
    }

    #[test]
    fn generic_long() {
        let e = round_trip(&h("2a 07 0003 010203"));
        assert_eq!(
            e,
            Extension::GenericLong {
                ty: 42,
                subtype: 7,
                data: vec![1, 2, 3]
            }
        );
        let e = round_trip(&h("2f 01 0001 02"));
        assert_eq!(
            e,
            Extension::GenericLong {
                ty: 47,
                subtype: 1,
                data: vec![2]
            }
        );
        let e = round_trip(&h("28 00 0000"));
        assert_eq!(
            e,
            Extension::GenericLong {
                ty: 40,
                subtype: 0,
                data: vec![]
            }
        );
    }

    #[test]
    fn udp_tunnel_reply() {
        // type 44, length 6, subtype 0, code 64, flags F|0x0001, keepalive 30
        let e = round_trip(&h("2c 06 00 40 8001 001e"));
        assert_eq!(
            e,
            Extension::UdpTunnelReply(UdpTunnelReply {
                subtype: 0,
                code: UdpTunnelReplyCode::Declined,
                force: true,
                reserved: 1,
                keepalive_interval: 30,
            })
        );
        assert_eq!(
            one(&h("2c 04 00 00 0000")),
            Err(Error::truncated(6, "keepalive interval", 2, 0))
        );
        assert_eq!(
            one(&h("2c 07 00 00 0000 0000 00")),
            Err(Error::bad_length(1, "extension length"))
        );
    }

    #[test]
    fn udp_tunnel_request() {
        // type 144, length 6, subtype 0, reserved1 0x11, flags F|R|0x01, encap 4, reserved3 0x2233
        let e = round_trip(&h("90 06 00 11 c1 04 2233"));
        assert_eq!(
            e,
            Extension::UdpTunnelRequest(UdpTunnelRequest {
                subtype: 0,
                reserved1: 0x11,
                force: true,
                registration_through_fa: true,
                reserved2: 1,
                encapsulation: Encapsulation::IpInIp,
                reserved3: 0x2233,
            })
        );
        let e = round_trip(&h("90 06 00 00 40 37 0000"));
        let Extension::UdpTunnelRequest(r) = e else {
            panic!()
        };
        assert!(!r.force && r.registration_through_fa);
        assert_eq!(r.encapsulation, Encapsulation::Minimal);
    }

    #[test]
    fn encapsulating_delivery_style() {
        assert_eq!(
            round_trip(&h("82 00")),
            Extension::EncapsulatingDeliveryStyle
        );
        assert_eq!(
            one(&h("82 01 00")),
            Err(Error::bad_length(1, "extension length"))
        );
    }

    #[test]
    fn nai_and_challenge() {
        let e = round_trip(&h("83 0c 6d6e31406578616d706c65ff"));
        assert_eq!(e.nai().unwrap(), "mn1@example\u{fffd}");
        let e = round_trip(&h("84 04 01020304"));
        assert_eq!(e, Extension::MnFaChallenge(vec![1, 2, 3, 4]));
        assert_eq!(e.nai(), None);
    }

    #[test]
    fn revocation_support() {
        // type 137, length 6, flags I, timestamp 0x01020304
        let e = round_trip(&h("89 06 8000 01020304"));
        assert_eq!(
            e,
            Extension::RevocationSupport(RevocationSupport {
                i_bit_supported: true,
                reserved: 0,
                timestamp: 0x0102_0304
            })
        );
        let e = round_trip(&h("89 06 0003 00000000"));
        assert_eq!(
            e,
            Extension::RevocationSupport(RevocationSupport {
                i_bit_supported: false,
                reserved: 3,
                timestamp: 0
            })
        );
        assert_eq!(
            one(&h("89 02 8000")),
            Err(Error::truncated(4, "timestamp", 4, 0))
        );
    }

    #[test]
    fn mobile_network() {
        // request: subtype 0, /24, 192.168.1.0
        let e = round_trip(&h("94 06 00 18 c0a80100"));
        assert_eq!(
            e,
            Extension::MobileNetwork(MobileNetwork::Request {
                prefix_length: 24,
                prefix: Ipv4Addr::new(192, 168, 1, 0)
            })
        );
        // explicit ack: subtype 1, code 2, /16, reserved 0, 10.1.0.0
        let ack = MobileNetworkAck {
            code: MobileNetworkAckCode::Unauthorized,
            prefix_length: 16,
            reserved: 0,
            prefix: Ipv4Addr::new(10, 1, 0, 0),
        };
        assert_eq!(
            round_trip(&h("94 08 01 02 10 00 0a010000")),
            Extension::MobileNetwork(MobileNetwork::ExplicitAck(ack))
        );
        assert_eq!(
            round_trip(&h("94 08 02 02 10 00 0a010000")),
            Extension::MobileNetwork(MobileNetwork::ImplicitAck(ack))
        );
        // unknown subtype kept
        assert_eq!(
            round_trip(&h("94 03 07 aabb")),
            Extension::MobileNetwork(MobileNetwork::Unknown {
                subtype: 7,
                data: vec![0xaa, 0xbb]
            })
        );
        // malformed: request with a 2-byte prefix, ack with trailing bytes, empty body
        assert_eq!(
            one(&h("94 04 00 18 c0a8")),
            Err(Error::truncated(4, "prefix", 4, 2))
        );
        assert_eq!(
            one(&h("94 09 01 00 18 00 c0a80100 ff")),
            Err(Error::bad_length(1, "extension length"))
        );
        assert_eq!(one(&h("94 00")), Err(Error::truncated(2, "sub-type", 1, 0)));
    }

    #[test]
    fn unknown_types_are_kept() {
        // skippable 145 (message string, not interpreted) and unassigned 200
        assert_eq!(
            round_trip(&h("91 03 016869")),
            Extension::UnknownSkippable {
                ty: 145,
                data: vec![1, 0x68, 0x69]
            }
        );
        assert_eq!(
            round_trip(&h("c8 00")),
            Extension::UnknownSkippable {
                ty: 200,
                data: vec![]
            }
        );
        // non-skippable 45 (FA error) and unassigned 100
        assert_eq!(
            round_trip(&h("2d 02 0102")),
            Extension::UnknownNonSkippable {
                ty: 45,
                data: vec![1, 2]
            }
        );
        let e = round_trip(&h("64 01 ff"));
        assert_eq!(
            e,
            Extension::UnknownNonSkippable {
                ty: 100,
                data: vec![0xff]
            }
        );
        assert_eq!(e.name(), "unknown extension");
    }

    #[test]
    fn framing_errors_name_offset_and_field() {
        let msg = h("20 14 00000333 0011");
        // the body claims 20 bytes, 6 remain
        assert_eq!(
            RawExtension::parse(&msg, 0),
            Err(Error::truncated(2, "extension data", 20, 6))
        );
        assert_eq!(
            RawExtension::parse(&[0x20], 0),
            Err(Error::truncated(1, "extension length", 1, 0))
        );
        assert_eq!(
            RawExtension::parse(&[0x24], 0),
            Err(Error::truncated(1, "sub-type", 1, 0))
        );
        assert_eq!(
            RawExtension::parse(&[0x24, 1, 0], 0),
            Err(Error::truncated(2, "extension length", 2, 1))
        );
        assert_eq!(
            RawExtension::parse(&[0x26, 0], 0),
            Err(Error::truncated(2, "extension length", 2, 0))
        );
        assert_eq!(
            RawExtension::parse(&[0x86, 8, 0], 0),
            Err(Error::truncated(2, "reserved", 2, 1))
        );
        assert_eq!(
            RawExtension::parse(&[], 0),
            Err(Error::truncated(0, "extension type", 1, 0))
        );
        // auth body shorter than an SPI
        let e = one(&h("20 02 0000")).unwrap_err();
        assert_eq!(e, Error::truncated(2, "SPI", 4, 2));
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    }

    #[test]
    fn iterator_offsets_and_stop_on_error() {
        // 4 bytes of "message", then pad, NAI "a", skippable 200, then a broken auth
        let msg = h("01020304 00 8301 61 c800 2005 0000");
        let mut it = Extensions::new(&msg, 4);
        let a = it.next().unwrap().unwrap();
        assert_eq!((a.offset, a.ty, a.layout), (4, 0, Layout::Pad));
        let b = it.next().unwrap().unwrap();
        assert_eq!((b.offset, b.ty, b.body), (5, 131, &[0x61][..]));
        let c = it.next().unwrap().unwrap();
        assert_eq!((c.offset, c.ty, c.body.len()), (8, 200, 0));
        assert_eq!(
            it.next(),
            Some(Err(Error::truncated(12, "extension data", 5, 2)))
        );
        assert_eq!(it.next(), None);
        assert_eq!(Extensions::new(&msg, msg.len()).next(), None);
    }

    #[test]
    fn unknown_non_skippable_is_found() {
        let msg = h("ff 8200 2004 00000001 2d00 6400");
        assert_eq!(
            first_unknown_non_skippable(&msg, 1)
                .unwrap()
                .map(|r| (r.offset, r.ty)),
            Some((9, 45))
        );
        let pick =
            first_unsupported_non_skippable(&msg, 1, |t| t == 45 || is_interpreted(t)).unwrap();
        assert_eq!(pick.map(|r| (r.offset, r.ty)), Some((11, 100)));
        let all_ok = first_unsupported_non_skippable(&msg, 1, |_| true).unwrap();
        assert_eq!(all_ok, None);
        assert_eq!(first_unknown_non_skippable(&h("ff 8200"), 1).unwrap(), None);
        assert!(first_unknown_non_skippable(&h("ff 20"), 1).is_err());
    }

    #[test]
    fn auth_region_covers_through_spi() {
        // 4-byte "message", NAI "ab", MN-HA auth (SPI 0x100, auth 4 bytes), FA-HA auth
        // (SPI 7, auth 2 bytes), generalized MN-AAA (SPI 9, auth 1 byte)
        let msg =
            h("aabbccdd 83026162 2008 00000100 01020304 2206 00000007 0506 2401 0005 00000009 07");
        let regions = auth_regions(&msg, 4).unwrap();
        assert_eq!(regions.len(), 3);
        let r = &regions[0];
        assert_eq!(
            (r.kind, r.spi, r.extension_offset),
            (AuthKind::MnHa, 0x100, 8)
        );
        assert_eq!(r.covered, &msg[..14]);
        assert_eq!(r.authenticator, &[1, 2, 3, 4]);
        let r = &regions[1];
        assert_eq!((r.kind, r.spi, r.extension_offset), (AuthKind::FaHa, 7, 18));
        assert_eq!(r.covered, &msg[..24]);
        assert_eq!(r.authenticator, &[5, 6]);
        let r = &regions[2];
        assert_eq!(
            (r.kind, r.spi),
            (AuthKind::Generalized(GenAuthSubtype::MnAaa), 9)
        );
        assert_eq!(r.covered, &msg[..34]);
        assert_eq!(r.authenticator, &[7]);
        // not an auth extension
        let nai = RawExtension::parse(&msg, 4).unwrap();
        assert_eq!(
            auth_region(&msg, &nai),
            Err(Error::bad_value(4, "extension type"))
        );
        // an extension from a different buffer
        let other = h("aabbccdd 2004 00000001");
        let foreign = RawExtension::parse(&other, 4).unwrap();
        assert!(auth_region(&msg, &foreign).is_err());
    }

    #[test]
    fn append_auth_signs_covered_bytes() {
        let mut buf = h("01 02 03");
        let mut seen = Vec::new();
        append_auth_extension(&mut buf, AuthKind::MnHa, 0x333, 4, |covered| {
            seen = covered.to_vec();
            [9u8, 9, 9, 9]
        })
        .unwrap();
        assert_eq!(seen, h("010203 2008 00000333"));
        assert_eq!(buf, h("010203 2008 00000333 09090909"));
        // what we appended is found again, covering the same bytes
        let regions = auth_regions(&buf, 3).unwrap();
        assert_eq!(regions[0].covered, &seen[..]);
        assert_eq!(regions[0].authenticator, &[9, 9, 9, 9]);

        let mut buf = h("01");
        append_auth_extension(
            &mut buf,
            AuthKind::Generalized(GenAuthSubtype::MnAaa),
            5,
            2,
            |c| {
                assert_eq!(c, &h("01 2401 0006 00000005")[..]);
                vec![0xaa, 0xbb]
            },
        )
        .unwrap();
        assert_eq!(buf, h("01 2401 0006 00000005 aabb"));

        // wrong authenticator length leaves the buffer untouched
        let mut buf = h("0102");
        let err = append_auth_extension(&mut buf, AuthKind::FaHa, 1, 16, |_| vec![0; 15]);
        assert_eq!(err, Err(Error::bad_length(8, "authenticator")));
        assert_eq!(buf, h("0102"));
        let err = append_auth_extension(&mut buf, AuthKind::MnFa, 1, 252, |_| vec![]);
        assert_eq!(err, Err(Error::bad_length(3, "extension length")));
        assert_eq!(buf, h("0102"));
    }

    #[test]
    fn names_and_layouts() {
        assert_eq!(name(131), "Mobile Node NAI Extension");
        assert_eq!(name(144), "UDP Tunnel Request Extension");
        assert_eq!(name(201), "unknown extension");
        assert!(is_skippable(128) && !is_skippable(127));
        for ty in [36u8, 40, 42, 47] {
            assert_eq!(Layout::of(ty), Layout::Long);
        }
        assert_eq!(Layout::of(38), Layout::Cvse);
        assert_eq!(Layout::of(134), Layout::Nvse);
        assert_eq!(Layout::of(0), Layout::Pad);
        assert_eq!(Layout::of(32), Layout::Short);
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(e in strategy::extension()) {
            let bytes = e.to_bytes();
            prop_assert_eq!(bytes.len(), e.buffer_len());
            let raw = RawExtension::parse(&bytes, 0).unwrap();
            prop_assert_eq!(raw.bytes.len(), bytes.len());
            prop_assert_eq!(raw.ty, e.ty());
            let back = Extension::parse(&raw).unwrap();
            prop_assert_eq!(&back, &e);
        }

        #[test]
        fn list_round_trip(exts in strategy::extensions()) {
            let mut buf = vec![0; Extension::buffer_len_all(&exts)];
            Extension::emit_all(&exts, &mut buf);
            prop_assert_eq!(Extension::parse_all(&buf, 0).unwrap(), exts);
        }

        /// Arbitrary bytes never panic; whatever parses re-emits identically.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(exts) = Extension::parse_all(&bytes, 0) {
                let mut out = vec![0; Extension::buffer_len_all(&exts)];
                Extension::emit_all(&exts, &mut out);
                prop_assert_eq!(out, bytes.clone());
            }
            for raw in Extensions::new(&bytes, 0).flatten() {
                let _ = auth_region(&bytes, &raw);
            }
            let _ = first_unknown_non_skippable(&bytes, 0);
        }

        /// Correctly framed extensions of any type with arbitrary bodies: the
        /// typed parse either rejects the body or reproduces it exactly.
        #[test]
        fn framed_arbitrary_bodies(
            items in proptest::collection::vec(
                (any::<u8>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)),
                1..5,
            )
        ) {
            let mut msg = Vec::new();
            for (ty, second, body) in &items {
                msg.push(*ty);
                match Layout::of(*ty) {
                    Layout::Pad => {}
                    Layout::Short => {
                        msg.push(body.len() as u8);
                        msg.extend_from_slice(body);
                    }
                    Layout::Long | Layout::Cvse => {
                        msg.push(*second);
                        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
                        msg.extend_from_slice(body);
                    }
                    Layout::Nvse => {
                        msg.push(body.len() as u8 + 2);
                        msg.extend_from_slice(&[*second, 0x5a]);
                        msg.extend_from_slice(body);
                    }
                }
            }
            let framed: Vec<_> = Extensions::new(&msg, 0).collect::<Result<_>>().unwrap();
            prop_assert_eq!(framed.len(), items.len());
            for raw in &framed {
                if let Ok(e) = Extension::parse(raw) {
                    prop_assert_eq!(e.to_bytes(), raw.bytes);
                }
            }
        }

        #[test]
        fn truncations_fail(e in strategy::extension()) {
            let bytes = e.to_bytes();
            for n in 0..bytes.len() {
                prop_assert!(Extension::parse_all(&bytes[..n], 0).is_err() || n == 0);
            }
        }
    }
}
