//! The messages of the benchmark: signed Registration Requests (written in place, no
//! allocation), the bogus ones of the bad-authenticator flood, the echo responder's
//! reply-sized answer, and what the generator reads back from a Registration Reply.
//!
//! A request is the 24-byte fixed part (RFC 5944 §3.3) followed by one MN-HA authentication
//! extension (type 32, length 20: SPI and a 128-bit authenticator, §3.5.2), 46 bytes in all.
//! The authenticator covers the message from its type byte through the SPI (§3.5.1); it is
//! computed by [`mip_security::SecurityAssociation::authenticator`], the code the home agent
//! verifies with.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

use mip_security::SecurityAssociation;
use mip_wire::extension::{types, AuthKind};
use mip_wire::registration::{RegistrationReplyPacket, REPLY_HEADER_LEN, REQUEST_HEADER_LEN};

/// Bytes of a request: fixed part and MN-HA extension.
pub const REQUEST_LEN: usize = REQUEST_HEADER_LEN + 2 + 4 + 16;
/// Bytes of a reply with only the MN-HA extension (what the echo responder sends).
pub const REPLY_LEN: usize = REPLY_HEADER_LEN + 2 + 4 + 16;
/// Bytes covered by the request's authenticator.
const COVERED: usize = REQUEST_HEADER_LEN + 2 + 4;

/// The fixed fields of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestFields {
    /// Flags byte (S B D M G r T x).
    pub flags: u8,
    /// Lifetime requested, seconds.
    pub lifetime: u16,
    /// Home address.
    pub home: Ipv4Addr,
    /// Home agent address.
    pub home_agent: Ipv4Addr,
    /// Care-of address.
    pub care_of: Ipv4Addr,
    /// Identification (NTP timestamp).
    pub identification: u64,
}

fn write_fixed(buf: &mut [u8], f: &RequestFields, spi: u32) {
    buf[0] = 1;
    buf[1] = f.flags;
    buf[2..4].copy_from_slice(&f.lifetime.to_be_bytes());
    buf[4..8].copy_from_slice(&f.home.octets());
    buf[8..12].copy_from_slice(&f.home_agent.octets());
    buf[12..16].copy_from_slice(&f.care_of.octets());
    buf[16..24].copy_from_slice(&f.identification.to_be_bytes());
    buf[24] = types::MN_HA_AUTH;
    buf[25] = 20;
    buf[26..30].copy_from_slice(&spi.to_be_bytes());
}

/// Writes a Registration Request signed with `sa` into `buf` (at least [`REQUEST_LEN`]
/// bytes); returns its length.
pub fn write_request(buf: &mut [u8], f: &RequestFields, sa: &SecurityAssociation) -> usize {
    write_fixed(buf, f, sa.spi());
    let auth = sa.authenticator(&buf[..COVERED]);
    buf[COVERED..REQUEST_LEN].copy_from_slice(&auth);
    REQUEST_LEN
}

/// Writes a request whose authenticator is wrong (derived from `noise`, no hashing): the
/// home agent must refuse it with 131 after one verification.
pub fn write_bad_request(buf: &mut [u8], f: &RequestFields, spi: u32, noise: u64) -> usize {
    write_fixed(buf, f, spi);
    let a = noise.to_le_bytes();
    let b = (!noise).rotate_left(17).to_le_bytes();
    buf[COVERED..COVERED + 8].copy_from_slice(&a);
    buf[COVERED + 8..REQUEST_LEN].copy_from_slice(&b);
    REQUEST_LEN
}

/// The echo responder's answer to `request`: a reply-sized datagram (type 3, code 0) that
/// carries the request's lifetime, home address, home agent, identification and extension
/// bytes, so the generator can match it. It is not signed (the generator does not verify
/// echo replies). `None` for anything shorter than a request's fixed part.
pub fn write_echo_reply(out: &mut [u8], request: &[u8]) -> Option<usize> {
    if request.len() < REQUEST_HEADER_LEN || out.len() < REPLY_LEN {
        return None;
    }
    out[0] = 3;
    out[1] = 0;
    out[2..12].copy_from_slice(&request[2..12]);
    out[12..20].copy_from_slice(&request[16..24]);
    let ext = &request[REQUEST_HEADER_LEN..];
    let n = ext.len().min(REPLY_LEN - REPLY_HEADER_LEN);
    out[REPLY_HEADER_LEN..REPLY_HEADER_LEN + n].copy_from_slice(&ext[..n]);
    out[REPLY_HEADER_LEN + n..REPLY_LEN].fill(0);
    Some(REPLY_LEN)
}

/// What the generator needs from a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplySummary {
    /// Reply code.
    pub code: u8,
    /// Home address.
    pub home: Ipv4Addr,
    /// Identification.
    pub identification: u64,
}

/// Reads the fixed part of a Registration Reply; `None` when it is not one.
pub fn read_reply(buf: &[u8]) -> Option<ReplySummary> {
    if buf.len() < REPLY_HEADER_LEN || buf[0] != 3 {
        return None;
    }
    Some(ReplySummary {
        code: buf[1],
        home: Ipv4Addr::new(buf[4], buf[5], buf[6], buf[7]),
        identification: u64::from_be_bytes([
            buf[12], buf[13], buf[14], buf[15], buf[16], buf[17], buf[18], buf[19],
        ]),
    })
}

/// Whether the reply's MN-HA authentication extension (the first one) has the SPI of `sa`
/// and a valid authenticator (RFC 5944 §3.6.2.1).
pub fn verify_reply(buf: &[u8], sa: &SecurityAssociation) -> bool {
    let Ok(pkt) = RegistrationReplyPacket::new_checked(buf) else {
        return false;
    };
    let Ok(regions) = pkt.auth_regions() else {
        return false;
    };
    regions
        .iter()
        .find(|r| r.kind == AuthKind::MnHa)
        .is_some_and(|r| r.spi == sa.spi() && sa.verify(r.covered, r.authenticator))
}

/// Multiplicative hashing of a `u64` key (the keys are node index and identification bits,
/// never attacker-chosen).
#[derive(Default)]
pub struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, v: u64) {
        let x = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}

/// Requests waiting for their reply, keyed by (node, low 32 bits of the identification) —
/// both home agent replay styles copy those bits into the reply (RFC 5944 §5.7) — with the
/// time they were sent. Timeouts are found in send order, so expiry is O(1) per request.
#[derive(Default)]
pub struct PendingTable {
    map: HashMap<u64, u64, BuildHasherDefault<MixHasher>>,
    order: VecDeque<(u64, u64)>,
}

fn key(node: u32, ident: u64) -> u64 {
    (u64::from(node) << 32) | (ident & 0xffff_ffff)
}

impl PendingTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a request sent at `sent_ns`. False (and nothing recorded) when a request with
    /// the same key is already waiting.
    pub fn insert(&mut self, node: u32, ident: u64, sent_ns: u64) -> bool {
        let k = key(node, ident);
        if self.map.contains_key(&k) {
            return false;
        }
        self.map.insert(k, sent_ns);
        self.order.push_back((sent_ns, k));
        true
    }

    /// The send time of the request this reply answers, removing it.
    pub fn take(&mut self, node: u32, ident: u64) -> Option<u64> {
        self.map.remove(&key(node, ident))
    }

    /// Removes every request sent before `deadline_ns`; calls `expired(node)` for each.
    pub fn expire(&mut self, deadline_ns: u64, mut expired: impl FnMut(u32)) -> u64 {
        let mut n = 0;
        while let Some(&(sent, k)) = self.order.front() {
            if sent >= deadline_ns {
                break;
            }
            self.order.pop_front();
            if self.map.get(&k) == Some(&sent) {
                self.map.remove(&k);
                expired((k >> 32) as u32);
                n += 1;
            }
        }
        if self.map.is_empty() {
            self.order.clear();
        }
        n
    }

    /// Send time of the oldest request that may still be waiting.
    pub fn oldest(&self) -> Option<u64> {
        self.order.front().map(|&(t, _)| t)
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Nothing waiting.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{AuthAlgorithm, Population};
    use mip_wire::extension::{append_auth_extension, auth_regions};
    use mip_wire::registration::{RegistrationRequest, RegistrationRequestPacket, RequestFlags};

    fn fields(pop: &Population, i: u32) -> RequestFields {
        RequestFields {
            flags: 0,
            lifetime: 3600,
            home: pop.home_address(i),
            home_agent: Ipv4Addr::new(127, 0, 0, 1),
            care_of: pop.care_of_address(i),
            identification: 0xE8E8_0000_1234_5678,
        }
    }

    /// The request is what `mip-wire` would build, and the home agent's SA (from the
    /// generated configuration) verifies it; a flood request does not verify.
    #[test]
    fn requests_are_signed_as_mip_wire_and_mip_security_expect() {
        for algorithm in [AuthAlgorithm::HmacMd5, AuthAlgorithm::PrefixSuffix] {
            let pop = Population::new("10.0.0.0/8".parse().unwrap(), 20, "k", algorithm).unwrap();
            let text = crate::config::config_string(&pop, Ipv4Addr::new(127, 0, 0, 1));
            let cfg = mip_config::parse_toml(&text, "ha.toml").unwrap();
            let i = 13;
            let f = fields(&pop, i);
            let sa = pop.security_association(i);
            let mut buf = [0u8; 64];
            let n = write_request(&mut buf, &f, &sa);
            assert_eq!(n, REQUEST_LEN);
            let wire = &buf[..n];

            let mut expected = RegistrationRequest {
                flags: RequestFlags::from_byte(0),
                lifetime: 3600,
                home_address: f.home,
                home_agent: f.home_agent,
                care_of_address: f.care_of,
                identification: f.identification,
                extensions: vec![],
            }
            .to_bytes();
            append_auth_extension(&mut expected, AuthKind::MnHa, sa.spi(), 16, |c| {
                sa.authenticator(c)
            })
            .unwrap();
            assert_eq!(wire, &expected[..]);

            let pkt = RegistrationRequestPacket::new_checked(wire).unwrap();
            assert_eq!(pkt.home_address(), pop.home_address(i));
            let regions = auth_regions(wire, REQUEST_HEADER_LEN).unwrap();
            assert_eq!(regions.len(), 1);
            let ha_sa = cfg.security_associations[i as usize].inbound();
            assert!(ha_sa.verify(regions[0].covered, regions[0].authenticator));
            let other = cfg.security_associations[i as usize + 1].inbound();
            assert!(!other.verify(regions[0].covered, regions[0].authenticator));

            let n = write_bad_request(&mut buf, &f, sa.spi(), 42);
            let regions = auth_regions(&buf[..n], REQUEST_HEADER_LEN).unwrap();
            assert!(!ha_sa.verify(regions[0].covered, regions[0].authenticator));
        }
    }

    /// A reply signed by the home agent core verifies; one byte changed does not.
    #[test]
    fn replies_from_the_core_verify_and_match() {
        let pop = Population::new(
            "10.0.0.0/8".parse().unwrap(),
            5,
            "k",
            AuthAlgorithm::HmacMd5,
        )
        .unwrap();
        let ha_addr = Ipv4Addr::new(127, 0, 0, 1);
        let cfg =
            mip_config::parse_toml(&crate::config::config_string(&pop, ha_addr), "x").unwrap();
        let mut ha = mip_ha::HomeAgent::new(&cfg, &[ha_addr]);
        let now = std::time::SystemTime::now();
        let mut f = fields(&pop, 2);
        f.identification = mip_security::ntp::from_system_time(now);
        let mut buf = [0u8; 64];
        let n = write_request(&mut buf, &f, &pop.security_association(2));
        let src = std::net::SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 5000);
        ha.handle_request(now, src, ha_addr, &buf[..n]);
        while ha.poll_store().is_some() {}
        while ha.poll_dataplane().is_some() {}
        let tx = ha.poll_transmit().expect("a reply");
        let r = read_reply(&tx.payload).unwrap();
        assert_eq!(r.code, 0);
        assert_eq!(r.home, pop.home_address(2));
        assert_eq!(pop.index_of(r.home), Some(2));
        assert_eq!(
            r.identification & 0xffff_ffff,
            f.identification & 0xffff_ffff
        );
        assert!(verify_reply(&tx.payload, &pop.security_association(2)));
        assert!(!verify_reply(&tx.payload, &pop.security_association(3)));
        let mut bad = tx.payload.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!verify_reply(&bad, &pop.security_association(2)));
    }

    #[test]
    fn echo_reply_carries_what_matching_needs() {
        let pop = Population::new(
            "10.0.0.0/8".parse().unwrap(),
            5,
            "k",
            AuthAlgorithm::HmacMd5,
        )
        .unwrap();
        let f = fields(&pop, 4);
        let mut req = [0u8; 64];
        let n = write_request(&mut req, &f, &pop.security_association(4));
        let mut out = [0u8; 64];
        assert_eq!(write_echo_reply(&mut out, &req[..n]), Some(REPLY_LEN));
        let r = read_reply(&out[..REPLY_LEN]).unwrap();
        assert_eq!(r.code, 0);
        assert_eq!(r.home, f.home);
        assert_eq!(r.identification, f.identification);
        assert!(RegistrationReplyPacket::new_checked(&out[..REPLY_LEN]).is_ok());
        assert_eq!(write_echo_reply(&mut out, &req[..10]), None);
        assert!(read_reply(&req[..n]).is_none(), "a request is not a reply");
    }

    #[test]
    fn pending_matching_and_expiry() {
        let mut p = PendingTable::new();
        assert!(p.insert(1, 0xAAAA_0000_0000_0001, 100));
        assert!(p.insert(1, 0xAAAA_0000_0000_0002, 110));
        assert!(p.insert(2, 0xAAAA_0000_0000_0001, 120));
        // Same node, same low 32 bits: refused.
        assert!(!p.insert(1, 0xBBBB_0000_0000_0001, 130));
        assert_eq!(p.len(), 3);
        // A reply matches by the low 32 bits only (a 133 reply rewrites the high ones).
        assert_eq!(p.take(1, 0x1234_5678_0000_0002), Some(110));
        assert_eq!(p.take(1, 0x1234_5678_0000_0002), None);
        assert_eq!(p.take(3, 0xAAAA_0000_0000_0001), None);
        let mut gone = vec![];
        assert_eq!(p.expire(115, |n| gone.push(n)), 1);
        assert_eq!(gone, vec![1]);
        assert_eq!(p.oldest(), Some(120));
        assert_eq!(p.take(2, 1), Some(120));
        assert!(p.is_empty());
        assert_eq!(p.expire(1000, |_| {}), 0);
        assert_eq!(p.oldest(), None);
    }
}
