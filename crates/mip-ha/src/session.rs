//! The session identifier of seed 000 ("a single user can have multiple sessions ... and use
//! the same NAI for all sessions. These individual sessions are identified by the session
//! identifier"), and how it travels in a registration.
//!
//! No public specification carries it, so this product defines it (see
//! `docs/extensions.md`): a Normal Vendor/Organization Specific Extension (NVSE, type 134,
//! RFC 3115 §3) with
//!
//! ```text
//!  0       1       2       3       4       5       6       7       8       8+n
//! +-------+-------+-------+-------+-------+-------+-------+-------+-------+----
//! | 134   | 8 + n | reserved = 0  |   Vendor/Org-ID = 9 (Cisco)   | 0x0A01|session id (n bytes)
//! +-------+-------+-------+-------+-------+-------+-------+-------+-------+----
//! ```
//!
//! * Vendor-NVSE-Type [`SESSION_ID_VENDOR_TYPE`] = 0x0A01;
//! * value: the session identifier, 1 to 24 octets ([`MAX_SESSION_ID_LEN`]: the router's
//!   "string value must be fewer than 25 characters"), compared octet for octet; printable
//!   ASCII is expected (a device name or a MAC address) but not required.
//!
//! The mobile node puts it in the request after the Mobile Node NAI extension and before the
//! MN-HA authentication extension (so that it is authenticated); the home agent copies it
//! into the reply at the same place. A home agent ignores a session identifier that follows
//! the MN-HA extension (RFC 5944 §3.6.1.3). An empty or longer value makes the request
//! poorly formed (134). The extension is skippable: a home agent that does not know it treats
//! all sessions of an NAI as one.
//!
//! The session identifier is meaningful only with an NAI. If it is present in the initial
//! registration it must be present in every renewal (seed 000): a renewal without it is a
//! different session.

use mip_wire::extension::Extension;

/// The vendor id of the extension (Cisco's SMI enterprise number).
pub const SESSION_ID_VENDOR: u32 = 9;
/// The Vendor-NVSE-Type of the session identifier.
pub const SESSION_ID_VENDOR_TYPE: u16 = 0x0A01;
/// The longest session identifier, octets.
pub const MAX_SESSION_ID_LEN: usize = 24;

/// The extension carrying `session_id` (for mobile nodes, foreign agents and tests).
pub fn session_id_extension(session_id: &[u8]) -> Extension {
    Extension::Nvse {
        reserved: 0,
        vendor_id: SESSION_ID_VENDOR,
        vendor_type: SESSION_ID_VENDOR_TYPE,
        data: session_id.to_vec(),
    }
}

/// What an NVSE body (from the Vendor/Org-ID on) says about a session identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionNvse<'a> {
    /// Some other vendor extension.
    NotSession,
    /// A well-formed session identifier.
    Session(&'a [u8]),
    /// A session identifier extension with an empty or too long value.
    Malformed,
}

/// Reads the body of an NVSE (what follows its reserved field).
pub(crate) fn parse_session_nvse(body: &[u8]) -> SessionNvse<'_> {
    if body.len() < 6 {
        return SessionNvse::NotSession;
    }
    let vendor = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let ty = u16::from_be_bytes([body[4], body[5]]);
    if vendor != SESSION_ID_VENDOR || ty != SESSION_ID_VENDOR_TYPE {
        return SessionNvse::NotSession;
    }
    let value = &body[6..];
    if value.is_empty() || value.len() > MAX_SESSION_ID_LEN {
        SessionNvse::Malformed
    } else {
        SessionNvse::Session(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mip_wire::extension::RawExtension;

    #[test]
    fn wire_form() {
        let b = session_id_extension(b"PDA").to_bytes();
        assert_eq!(
            hex::encode(&b),
            "860b000000000009".to_owned() + "0a01504441"
        );
        let raw = RawExtension::parse(&b, 0).unwrap();
        assert_eq!(parse_session_nvse(raw.body), SessionNvse::Session(b"PDA"));
        let long = session_id_extension(&[b'x'; 25]).to_bytes();
        let raw = RawExtension::parse(&long, 0).unwrap();
        assert_eq!(parse_session_nvse(raw.body), SessionNvse::Malformed);
        let other = Extension::Nvse {
            reserved: 0,
            vendor_id: 5535,
            vendor_type: 1,
            data: vec![1],
        }
        .to_bytes();
        let raw = RawExtension::parse(&other, 0).unwrap();
        assert_eq!(parse_session_nvse(raw.body), SessionNvse::NotSession);
    }
}
