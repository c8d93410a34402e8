//! Test fixtures: a virtual clock, the seed 002 home agent configuration, and a mobile node
//! that builds and signs requests with `mip-wire` and `mip-security` on its own (it shares no
//! code with the home agent core).
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mip_ha::{Acl, DataPlaneRequest, HaOptions, HaPolicy, HomeAgent, StoreOp, Transmit};
use mip_security::{ntp, Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::extension::{append_auth_extension, AuthKind, Extension};
use mip_wire::registration::{
    RegistrationReply, RegistrationReplyPacket, RegistrationRequest, RequestFlags,
};

/// Virtual time zero (2023-11-14 22:13:20 UTC).
pub const T0: u64 = 1_700_000_000;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

pub fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// The home agent's address (seed 002 sample: `Tunnel100 src 66.0.0.5`).
pub fn ha_addr() -> Ipv4Addr {
    a("66.0.0.5")
}

/// The foreign agent of the seed: care-of address 68.0.0.31.
pub fn fa_addr() -> Ipv4Addr {
    a("68.0.0.31")
}

pub fn key(hex: &str) -> Key {
    Key::from_hex(hex).unwrap()
}

pub const MN_KEY: &str = "12345678123456781234567812345678";
pub const VN_KEY: &str = "87654321876543218765432187654321";
pub const FA_KEY: &str = "31323334353637383930313233343536";
pub const NAI_KEY: &str = "11223344556677889900aabbccddeeff";

pub fn sa(spi: u32, hex: &str) -> SecurityAssociation {
    SecurityAssociation::with_defaults(spi, key(hex))
}

pub fn hmac_sa(spi: u32, hex: &str) -> SecurityAssociation {
    SecurityAssociation::new(
        spi,
        Algorithm::HmacMd5,
        key(hex),
        ReplayProtection::default(),
    )
}

pub fn nonce_sa(spi: u32, hex: &str) -> SecurityAssociation {
    SecurityAssociation::new(spi, Algorithm::HmacMd5, key(hex), ReplayProtection::Nonce)
}

/// Seed 002's example, adapted: hosts 11.0.0.1-5 on Ethernet1, hosts 10.0.0.1-10 on the
/// virtual network 10.0.0.0/8, their SAs (SPI 0x100), a foreign agent SA for 68.0.0.31
/// (SPI 0x300), and an NAI host with a pool. Simultaneous bindings: up to 3.
pub fn policy() -> HaPolicy {
    let mut p = HaPolicy::default()
        .host_group_on_interface(a("11.0.0.1"), a("11.0.0.5"), "Ethernet1")
        .host_group_on_virtual_network(a("10.0.0.1"), a("10.0.0.10"), a("10.0.0.0"), a("255.0.0.0"))
        .mobile_node_sa(a("11.0.0.1"), a("11.0.0.5"), sa(0x100, MN_KEY))
        .mobile_node_sa(a("10.0.0.1"), a("10.0.0.10"), sa(0x100, VN_KEY))
        .foreign_agent_sa(fa_addr(), sa(0x300, FA_KEY))
        .nai_sa("herbert@left.com", sa(0x100, NAI_KEY));
    p.simultaneous_bindings = 3;
    p.broadcast = true;
    p.nai_hosts.push(mip_ha::NaiHost {
        nai: "herbert@left.com".into(),
        address: Some(a("10.20.2.100")),
        pool: Some("mobile".into()),
        home: mip_ha::HomeLink::Interface("fa0/1".into()),
        lifetime: None,
        care_of_access: None,
    });
    p.pools.push(mip_ha::AddressPool::new(
        "mobile",
        a("10.20.2.101"),
        a("10.20.2.102"),
    ));
    p
}

pub fn home_agent() -> HomeAgent {
    HomeAgent::with_options(policy(), &[ha_addr()], options())
}

pub fn options() -> HaOptions {
    HaOptions {
        nonce_seed: *b"0123456789abcdef",
        ..HaOptions::default()
    }
}

pub fn deny_acl(addr: &str) -> Acl {
    Acl::new("1")
        .deny(a(addr), a("0.0.0.0"))
        .permit(a("0.0.0.0"), a("255.255.255.255"))
}

/// A Registration Request as a mobile node (and optionally its foreign agent) builds it.
#[derive(Clone)]
pub struct Request {
    pub flags: u8,
    pub lifetime: u16,
    pub home: Ipv4Addr,
    pub ha: Ipv4Addr,
    pub coa: Ipv4Addr,
    pub ident: u64,
    /// Extensions before the MN-HA authentication extension.
    pub before: Vec<Extension>,
    /// The mobile node's SA; `None` leaves the MN-HA extension out.
    pub mn_sa: Option<SecurityAssociation>,
    /// Replaces the authenticator by this one (wrong authenticators).
    pub bad_authenticator: bool,
    /// Extensions after the MN-HA extension (as a foreign agent appends them).
    pub after: Vec<Extension>,
    /// The foreign agent's SA: an FA-HA extension is appended.
    pub fa_sa: Option<SecurityAssociation>,
}

impl Request {
    /// A registration of `home` with care-of address `coa` at time `t`, signed with `sa`.
    pub fn new(home: Ipv4Addr, coa: Ipv4Addr, t: SystemTime, sa: SecurityAssociation) -> Self {
        Request {
            flags: 0,
            lifetime: 1800,
            home,
            ha: ha_addr(),
            coa,
            ident: ntp::from_system_time(t),
            before: Vec::new(),
            mn_sa: Some(sa),
            bad_authenticator: false,
            after: Vec::new(),
            fa_sa: None,
        }
    }

    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }

    pub fn lifetime(mut self, l: u16) -> Self {
        self.lifetime = l;
        self
    }

    pub fn via_fa(mut self) -> Self {
        self.fa_sa = Some(sa(0x300, FA_KEY));
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let fixed = RegistrationRequest {
            flags: RequestFlags::from_byte(self.flags),
            lifetime: self.lifetime,
            home_address: self.home,
            home_agent: self.ha,
            care_of_address: self.coa,
            identification: self.ident,
            extensions: self.before.clone(),
        };
        let mut buf = fixed.to_bytes();
        if let Some(sa) = &self.mn_sa {
            let bad = self.bad_authenticator;
            append_auth_extension(&mut buf, AuthKind::MnHa, sa.spi(), 16, |c| {
                let mut auth = sa.authenticator(c);
                if bad {
                    auth[0] ^= 0xff;
                }
                auth
            })
            .unwrap();
        }
        for e in &self.after {
            buf.extend_from_slice(&e.to_bytes());
        }
        if let Some(fa) = &self.fa_sa {
            append_auth_extension(&mut buf, AuthKind::FaHa, fa.spi(), 16, |c| {
                fa.authenticator(c)
            })
            .unwrap();
        }
        buf
    }
}

/// Everything the home agent queued, drained in the documented order.
#[derive(Debug, Default)]
pub struct Out {
    pub store: Vec<StoreOp>,
    pub dataplane: Vec<DataPlaneRequest>,
    pub transmit: Vec<Transmit>,
}

pub fn drain(ha: &mut HomeAgent) -> Out {
    let mut out = Out::default();
    while let Some(s) = ha.poll_store() {
        out.store.push(s);
    }
    while let Some(d) = ha.poll_dataplane() {
        out.dataplane.push(d);
    }
    while let Some(t) = ha.poll_transmit() {
        out.transmit.push(t);
    }
    out
}

/// Sends `req` from `source` (port 434) to the home agent's address at time `t`.
pub fn send_from(ha: &mut HomeAgent, t: SystemTime, source: Ipv4Addr, req: &Request) -> Out {
    ha.handle_request(t, SocketAddrV4::new(source, 434), ha_addr(), &req.bytes());
    drain(ha)
}

/// Sends `req` from its care-of address (co-located) at time `t`.
pub fn send(ha: &mut HomeAgent, t: SystemTime, req: &Request) -> Out {
    send_from(ha, t, req.coa, req)
}

impl Out {
    /// The one reply, parsed.
    pub fn reply(&self) -> RegistrationReply {
        assert_eq!(self.transmit.len(), 1, "expected one reply: {self:?}");
        RegistrationReply::from_bytes(&self.transmit[0].payload).expect("reply parses")
    }

    pub fn code(&self) -> u8 {
        u8::from(self.reply().code)
    }

    pub fn silent(&self) -> bool {
        self.transmit.is_empty() && self.dataplane.is_empty()
    }
}

/// Checks the reply's MN-HA authenticator with the mobile node's SA (as a mobile node does)
/// and, if given, its FA-HA authenticator with the foreign agent's.
pub fn reply_verifies(
    t: &Transmit,
    mn: &SecurityAssociation,
    fa: Option<&SecurityAssociation>,
) -> bool {
    let p = RegistrationReplyPacket::new_checked(&t.payload[..]).unwrap();
    let regions = p.auth_regions().unwrap();
    let mn_ok = regions
        .iter()
        .find(|r| r.kind == AuthKind::MnHa)
        .is_some_and(|r| r.spi == mn.spi() && mn.verify(r.covered, r.authenticator));
    let fa_ok = match fa {
        None => regions.iter().all(|r| r.kind != AuthKind::FaHa),
        Some(fa) => regions
            .iter()
            .find(|r| r.kind == AuthKind::FaHa)
            .is_some_and(|r| r.spi == fa.spi() && fa.verify(r.covered, r.authenticator)),
    };
    mn_ok && fa_ok
}
