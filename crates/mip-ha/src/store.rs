//! State the daemon must make durable before it sends a reply ("a reply goes out only after
//! its binding change cannot be lost"), and its compact byte form.
//!
//! Each [`StoreOp`] is a put or a delete under a [`StoreOp::key`]. A store that keeps the
//! latest value per key (or a log of every op, in order) hands the records back to
//! [`HomeAgent::restore`](crate::HomeAgent::restore) after a restart.
//!
//! # Byte layout (version 1)
//!
//! All integers big-endian. Strings are `len(8) bytes` (at most 255 bytes).
//!
//! ```text
//! byte 0   version = 1
//! byte 1   tag: 'B' put binding, 'D' delete binding, 'R' put replay state
//!
//! 'B' (54 bytes + strings)
//!   2..6   home address        6..10  care-of address
//!   10..14 source address      14..16 source port
//!   16..20 home agent address  20..22 lifetime granted (s)
//!   22..30 expiry, ms since 1970-01-01 UTC (0xffff_ffff_ffff_ffff: never)
//!   30     request flags (S B D M G r T x)
//!   31     granted options: 0x01 broadcast, 0x02 direct to MN (D), 0x04 reverse tunnel
//!   32     encapsulation (IP protocol: 4, 47, 55)
//!   33..41 identification
//!   41     presence: 0x01 interface, 0x02 NAI, 0x04 session id
//!   then   interface, NAI, session id (those present, in that order)
//! 'D' (10 bytes)
//!   2..6   home address        6..10  care-of address
//! 'R'
//!   2      presence: 0x01 last accepted timestamp, 0x02 issued nonce, 0x80 key is an NAI
//!   then   key: home address (4) | NAI string, session id string
//!   then   last accepted (8) if present, issued nonce (4) if present
//! ```
//!
//! Keys: `'B' home(4) care-of(4)` for bindings (the delete of a binding has the same key),
//! `'R' 0 home(4)` or `'R' 1 NAI 0x00 session` for replay state.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use mip_security::ReplayState;

/// Whose replay state: a mobile node known by its home address, or an NAI session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MobileNodeKey {
    /// A mobile node identified by its home address.
    Address(Ipv4Addr),
    /// A session of a mobile node identified by NAI (session id empty when none was given).
    Nai {
        /// The NAI.
        nai: String,
        /// The session identifier.
        session: String,
    },
}

/// Everything needed to rebuild one binding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BindingRecord {
    /// Home address.
    pub home_address: Ipv4Addr,
    /// Care-of address.
    pub care_of_address: Ipv4Addr,
    /// Source address and port of the last accepted request.
    pub source: SocketAddrV4,
    /// Home agent address (tunnel source).
    pub home_agent: Ipv4Addr,
    /// Lifetime granted, seconds.
    pub lifetime_granted: u16,
    /// Expiry, ms since the Unix epoch; `u64::MAX` for never.
    pub expires_at_ms: u64,
    /// Flags byte of the request.
    pub flags: u8,
    /// Granted routing options (0x01 broadcast, 0x02 direct, 0x04 reverse tunnel).
    pub options: u8,
    /// Encapsulation (IP protocol number).
    pub encapsulation: u8,
    /// Identification of the last accepted request.
    pub identification: u64,
    /// Home link interface (`None` on a virtual network).
    pub interface: Option<String>,
    /// NAI of the mobile node, when it registered with one.
    pub nai: Option<String>,
    /// Session identifier, when given.
    pub session_id: Option<String>,
}

/// One durable change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StoreOp {
    /// Create or replace a binding.
    PutBinding(BindingRecord),
    /// Forget a binding.
    DeleteBinding {
        /// Home address.
        home_address: Ipv4Addr,
        /// Care-of address.
        care_of_address: Ipv4Addr,
    },
    /// Replay state of a mobile node (kept across deregistration).
    PutReplay {
        /// Whose.
        mobile_node: MobileNodeKey,
        /// The state.
        #[serde(serialize_with = "crate::snapshot::ser_replay")]
        state: ReplayState,
    },
}

/// A record that does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset where decoding stopped.
    pub offset: usize,
    /// What was being read.
    pub what: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad store record at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for DecodeError {}

const VERSION: u8 = 1;

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&b[..n]);
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let s = self
            .at
            .checked_add(n)
            .and_then(|end| self.b.get(self.at..end))
            .ok_or(DecodeError {
                offset: self.at,
                what,
            })?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let s = self.take(4, what)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let s = self.take(8, what)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(s);
        Ok(u64::from_be_bytes(w))
    }
    fn addr(&mut self, what: &'static str) -> Result<Ipv4Addr, DecodeError> {
        Ok(Ipv4Addr::from(self.u32(what)?))
    }
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let n = usize::from(self.u8(what)?);
        let at = self.at;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError { offset: at, what })
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(DecodeError {
                offset: self.at,
                what: "trailing bytes",
            })
        }
    }
}

impl StoreOp {
    /// The key this op puts or deletes under.
    pub fn key(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(16);
        match self {
            StoreOp::PutBinding(b) => {
                k.push(b'B');
                k.extend_from_slice(&b.home_address.octets());
                k.extend_from_slice(&b.care_of_address.octets());
            }
            StoreOp::DeleteBinding {
                home_address,
                care_of_address,
            } => {
                k.push(b'B');
                k.extend_from_slice(&home_address.octets());
                k.extend_from_slice(&care_of_address.octets());
            }
            StoreOp::PutReplay { mobile_node, .. } => {
                k.push(b'R');
                match mobile_node {
                    MobileNodeKey::Address(a) => {
                        k.push(0);
                        k.extend_from_slice(&a.octets());
                    }
                    MobileNodeKey::Nai { nai, session } => {
                        k.push(1);
                        k.extend_from_slice(nai.as_bytes());
                        k.push(0);
                        k.extend_from_slice(session.as_bytes());
                    }
                }
            }
        }
        k
    }

    /// Whether this op deletes its key.
    pub fn is_delete(&self) -> bool {
        matches!(self, StoreOp::DeleteBinding { .. })
    }

    /// Appends the byte form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(VERSION);
        match self {
            StoreOp::PutBinding(b) => {
                out.push(b'B');
                out.extend_from_slice(&b.home_address.octets());
                out.extend_from_slice(&b.care_of_address.octets());
                out.extend_from_slice(&b.source.ip().octets());
                out.extend_from_slice(&b.source.port().to_be_bytes());
                out.extend_from_slice(&b.home_agent.octets());
                out.extend_from_slice(&b.lifetime_granted.to_be_bytes());
                out.extend_from_slice(&b.expires_at_ms.to_be_bytes());
                out.push(b.flags);
                out.push(b.options);
                out.push(b.encapsulation);
                out.extend_from_slice(&b.identification.to_be_bytes());
                let presence = u8::from(b.interface.is_some())
                    | (u8::from(b.nai.is_some()) << 1)
                    | (u8::from(b.session_id.is_some()) << 2);
                out.push(presence);
                for s in [&b.interface, &b.nai, &b.session_id].into_iter().flatten() {
                    put_str(out, s);
                }
            }
            StoreOp::DeleteBinding {
                home_address,
                care_of_address,
            } => {
                out.push(b'D');
                out.extend_from_slice(&home_address.octets());
                out.extend_from_slice(&care_of_address.octets());
            }
            StoreOp::PutReplay { mobile_node, state } => {
                out.push(b'R');
                let nai = matches!(mobile_node, MobileNodeKey::Nai { .. });
                let presence = u8::from(state.last_accepted.is_some())
                    | (u8::from(state.issued_nonce.is_some()) << 1)
                    | (u8::from(nai) << 7);
                out.push(presence);
                match mobile_node {
                    MobileNodeKey::Address(a) => out.extend_from_slice(&a.octets()),
                    MobileNodeKey::Nai { nai, session } => {
                        put_str(out, nai);
                        put_str(out, session);
                    }
                }
                if let Some(t) = state.last_accepted {
                    out.extend_from_slice(&t.to_be_bytes());
                }
                if let Some(n) = state.issued_nonce {
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
        }
    }

    /// The byte form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(64);
        self.encode(&mut v);
        v
    }

    /// Decodes one record. Never panics.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the offset and field.
    pub fn decode(bytes: &[u8]) -> Result<StoreOp, DecodeError> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.u8("version")? != VERSION {
            return Err(DecodeError {
                offset: 0,
                what: "version",
            });
        }
        let op = match r.u8("tag")? {
            b'B' => {
                let home_address = r.addr("home address")?;
                let care_of_address = r.addr("care-of address")?;
                let src = r.addr("source address")?;
                let port = r.u16("source port")?;
                let home_agent = r.addr("home agent")?;
                let lifetime_granted = r.u16("lifetime")?;
                let expires_at_ms = r.u64("expiry")?;
                let flags = r.u8("flags")?;
                let options = r.u8("options")?;
                let encapsulation = r.u8("encapsulation")?;
                let identification = r.u64("identification")?;
                let presence = r.u8("presence")?;
                if presence & !0x07 != 0 {
                    return Err(DecodeError {
                        offset: r.at - 1,
                        what: "presence",
                    });
                }
                let interface = if presence & 1 != 0 {
                    Some(r.string("interface")?)
                } else {
                    None
                };
                let nai = if presence & 2 != 0 {
                    Some(r.string("NAI")?)
                } else {
                    None
                };
                let session_id = if presence & 4 != 0 {
                    Some(r.string("session id")?)
                } else {
                    None
                };
                StoreOp::PutBinding(BindingRecord {
                    home_address,
                    care_of_address,
                    source: SocketAddrV4::new(src, port),
                    home_agent,
                    lifetime_granted,
                    expires_at_ms,
                    flags,
                    options,
                    encapsulation,
                    identification,
                    interface,
                    nai,
                    session_id,
                })
            }
            b'D' => StoreOp::DeleteBinding {
                home_address: r.addr("home address")?,
                care_of_address: r.addr("care-of address")?,
            },
            b'R' => {
                let presence = r.u8("presence")?;
                if presence & !0x83 != 0 {
                    return Err(DecodeError {
                        offset: r.at - 1,
                        what: "presence",
                    });
                }
                let mobile_node = if presence & 0x80 != 0 {
                    MobileNodeKey::Nai {
                        nai: r.string("NAI")?,
                        session: r.string("session id")?,
                    }
                } else {
                    MobileNodeKey::Address(r.addr("home address")?)
                };
                let last_accepted = if presence & 1 != 0 {
                    Some(r.u64("last accepted")?)
                } else {
                    None
                };
                let issued_nonce = if presence & 2 != 0 {
                    Some(r.u32("issued nonce")?)
                } else {
                    None
                };
                StoreOp::PutReplay {
                    mobile_node,
                    state: ReplayState {
                        last_accepted,
                        issued_nonce,
                    },
                }
            }
            _ => {
                return Err(DecodeError {
                    offset: 1,
                    what: "tag",
                })
            }
        };
        r.end()?;
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Vec<StoreOp> {
        vec![
            StoreOp::PutBinding(BindingRecord {
                home_address: Ipv4Addr::new(10, 0, 0, 1),
                care_of_address: Ipv4Addr::new(68, 0, 0, 31),
                source: SocketAddrV4::new(Ipv4Addr::new(68, 0, 0, 31), 434),
                home_agent: Ipv4Addr::new(66, 0, 0, 5),
                lifetime_granted: 10000,
                expires_at_ms: 1_700_000_000_000,
                flags: 0x88,
                options: 0x04,
                encapsulation: 47,
                identification: 0xB750_FAC4_C28F_56A8,
                interface: Some("eth1".into()),
                nai: Some("user01@cisco.com".into()),
                session_id: Some("PDA".into()),
            }),
            StoreOp::DeleteBinding {
                home_address: Ipv4Addr::new(10, 0, 0, 1),
                care_of_address: Ipv4Addr::new(68, 0, 0, 31),
            },
            StoreOp::PutReplay {
                mobile_node: MobileNodeKey::Address(Ipv4Addr::new(10, 0, 0, 1)),
                state: ReplayState {
                    last_accepted: Some(7),
                    issued_nonce: None,
                },
            },
            StoreOp::PutReplay {
                mobile_node: MobileNodeKey::Nai {
                    nai: "a@b".into(),
                    session: String::new(),
                },
                state: ReplayState {
                    last_accepted: None,
                    issued_nonce: Some(9),
                },
            },
        ]
    }

    #[test]
    fn round_trip_and_keys() {
        for op in sample() {
            let b = op.to_bytes();
            assert_eq!(StoreOp::decode(&b).unwrap(), op);
            for n in 0..b.len() {
                assert!(StoreOp::decode(&b[..n]).is_err());
            }
        }
        let s = sample();
        assert_eq!(s[0].key(), s[1].key());
        assert!(s[1].is_delete());
        assert_eq!(s[1].to_bytes().len(), 10);
        assert_eq!(s[0].to_bytes().len(), 42 + 5 + 17 + 4);
    }

    proptest! {
        #[test]
        fn decode_never_panics(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(op) = StoreOp::decode(&b) {
                prop_assert_eq!(op.to_bytes(), b);
            }
        }
    }
}
