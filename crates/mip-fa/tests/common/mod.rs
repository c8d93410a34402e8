//! A virtual link for the foreign agent: a configuration like seed 002's example, a mobile
//! node and a home agent built from `mip-wire` and `mip-security` as independent peers, and a
//! clock that only moves when the test says so.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mip_config::Config;
use mip_fa::{Advertisement, DataPlaneRequest, FaInterface, FaOptions, ForeignAgent, Transmit};
use mip_security::{Key, SecurityAssociation};
use mip_wire::codes::ReplyCode;
use mip_wire::extension::{append_auth_extension, AuthKind, Extension};
use mip_wire::registration::{RegistrationReply, RegistrationRequest, RequestFlags};

pub const COA: Ipv4Addr = Ipv4Addr::new(68, 0, 0, 31);
pub const FA_LINK: Ipv4Addr = Ipv4Addr::new(67, 0, 0, 31);
pub const HA: Ipv4Addr = Ipv4Addr::new(66, 0, 0, 5);
pub const MN: Ipv4Addr = Ipv4Addr::new(20, 0, 0, 1);
pub const MN_MAC: [u8; 6] = [0x00, 0x60, 0x83, 0x7b, 0x95, 0xec];
pub const MN_PORT: u16 = 434;
pub const MN_HA_KEY: &str = "12345678123456781234567812345678";
pub const MN_FA_KEY: &str = "0102030405060708090a0b0c0d0e0f10";
pub const FA_HA_KEY: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

/// Seed 002's foreign agent example, with a home agent SA and an ACL to play with.
pub const BASE: &str = "\
interface eth0
 ip address 68.0.0.31 255.0.0.0
interface eth1
 ip address 67.0.0.31 255.0.0.0
 ip irdp
 ip irdp maxadvertinterval 10
 ip irdp minadvertinterval 7
 ip mobile foreign-service
 ip mobile registration-lifetime 3600
!
router mobile
!
ip mobile foreign-agent care-of eth0
";

pub fn config(extra: &str) -> Config {
    config_with_interface_lines(extra, "")
}

/// `BASE` with `if_lines` added under `interface eth1` and `extra` at the end.
pub fn config_with_interface_lines(extra: &str, if_lines: &str) -> Config {
    let text = BASE.replace(
        " ip mobile foreign-service\n",
        &format!(" ip mobile foreign-service{if_lines}\n"),
    ) + extra;
    mip_config::parse_ios(&text, "test.ios").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

pub fn interfaces() -> Vec<FaInterface> {
    vec![
        FaInterface {
            name: "eth0".into(),
            address: COA,
            prefix_len: 8,
            up: true,
            link_layer: [2, 0, 0, 0, 0, 1],
        },
        FaInterface {
            name: "eth1".into(),
            address: FA_LINK,
            prefix_len: 8,
            up: true,
            link_layer: [2, 0, 0, 0, 0, 2],
        },
    ]
}

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub fn key(hex: &str) -> Key {
    Key::from_hex(hex).unwrap()
}

/// A foreign agent and the virtual clock.
pub struct Lab {
    pub fa: ForeignAgent,
    pub now: SystemTime,
}

impl Lab {
    pub fn new(config: &Config) -> Lab {
        Lab::with_options(config, FaOptions::default())
    }

    pub fn with_options(config: &Config, options: FaOptions) -> Lab {
        let mut fa = ForeignAgent::with_options(config, interfaces(), options);
        let now = t0();
        if fa.poll_timeout().is_some_and(|t| t <= now) {
            fa.handle_timeout(now);
        }
        Lab { fa, now }
    }

    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.fa.poll_timeout() {
            if t > end {
                break;
            }
            let t = t.max(self.now);
            self.now = t;
            self.fa.handle_timeout(t);
        }
        self.now = end;
        self.fa.handle_timeout(end);
    }

    /// The mobile node sends `bytes` on eth1.
    pub fn mn_sends(&mut self, bytes: &[u8]) {
        self.fa.handle_udp(
            self.now,
            Some("eth1"),
            SocketAddrV4::new(MN, MN_PORT),
            FA_LINK,
            Some(MN_MAC),
            bytes,
        );
    }

    /// The home agent sends `bytes`.
    pub fn ha_sends(&mut self, bytes: &[u8]) {
        self.fa.handle_udp(
            self.now,
            Some("eth0"),
            SocketAddrV4::new(HA, 434),
            COA,
            None,
            bytes,
        );
    }

    pub fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.fa.poll_transmit()).collect()
    }

    pub fn dataplane(&mut self) -> Vec<DataPlaneRequest> {
        std::iter::from_fn(|| self.fa.poll_dataplane()).collect()
    }

    pub fn advertisements(&mut self) -> Vec<Advertisement> {
        std::iter::from_fn(|| self.fa.poll_advertisement()).collect()
    }

    /// Sends `req` from the mobile node and returns the one datagram that comes out.
    pub fn one_transmit(&mut self, req: &[u8]) -> Transmit {
        self.mn_sends(req);
        let mut t = self.transmits();
        assert_eq!(t.len(), 1, "expected one datagram, got {t:?}");
        t.remove(0)
    }

    /// Sends `req` and expects the foreign agent's own denial with `code`.
    pub fn expect_denial(&mut self, req: &[u8], code: u8) -> RegistrationReply {
        let t = self.one_transmit(req);
        assert_eq!(t.interface.as_deref(), Some("eth1"), "{t:?}");
        let reply = RegistrationReply::from_bytes(&t.payload).unwrap();
        assert_eq!(u8::from(reply.code), code, "{reply:?}");
        reply
    }
}

/// A mobile node's request builder.
#[derive(Clone)]
pub struct Req {
    pub flags: RequestFlags,
    pub lifetime: u16,
    pub home: Ipv4Addr,
    pub ha: Ipv4Addr,
    pub coa: Ipv4Addr,
    pub ident: u64,
    /// Extensions before MN-HA.
    pub before: Vec<Extension>,
    /// Extensions after MN-HA (before MN-FA).
    pub after: Vec<Extension>,
    pub mn_ha: Option<(u32, Key)>,
    pub mn_fa: Option<(u32, Key)>,
}

impl Req {
    pub fn new(ident: u64) -> Req {
        Req {
            flags: RequestFlags::default(),
            lifetime: 600,
            home: MN,
            ha: HA,
            coa: COA,
            ident,
            before: Vec::new(),
            after: Vec::new(),
            mn_ha: Some((0x100, key(MN_HA_KEY))),
            mn_fa: None,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut extensions = self.before.clone();
        let base = RegistrationRequest {
            flags: self.flags,
            lifetime: self.lifetime,
            home_address: self.home,
            home_agent: self.ha,
            care_of_address: self.coa,
            identification: self.ident,
            extensions: std::mem::take(&mut extensions),
        };
        let mut buf = base.to_bytes();
        if let Some((spi, k)) = &self.mn_ha {
            let sa = SecurityAssociation::with_defaults(*spi, k.clone());
            append_auth_extension(&mut buf, AuthKind::MnHa, *spi, 16, |c| sa.authenticator(c))
                .unwrap();
        }
        for e in &self.after {
            buf.extend_from_slice(&e.to_bytes());
        }
        if let Some((spi, k)) = &self.mn_fa {
            let sa = SecurityAssociation::with_defaults(*spi, k.clone());
            append_auth_extension(&mut buf, AuthKind::MnFa, *spi, 16, |c| sa.authenticator(c))
                .unwrap();
        }
        buf
    }
}

/// A home agent's reply to `req_bytes` (the relayed request), MN-HA signed, optionally FA-HA.
pub fn ha_reply(relayed: &[u8], code: u8, lifetime: u16, fa_ha: Option<(u32, &str)>) -> Vec<u8> {
    let req = RegistrationRequest::from_bytes(relayed).unwrap();
    ha_reply_for(
        req.home_address,
        req.identification,
        code,
        lifetime,
        fa_ha,
        &[],
    )
}

pub fn ha_reply_for(
    home: Ipv4Addr,
    ident: u64,
    code: u8,
    lifetime: u16,
    fa_ha: Option<(u32, &str)>,
    before: &[Extension],
) -> Vec<u8> {
    let reply = RegistrationReply {
        code: ReplyCode::from(code),
        lifetime,
        home_address: home,
        home_agent: HA,
        // A timestamp home agent puts its own time in the high 32 bits.
        identification: (0xDEAD_BEEF_u64 << 32) | (ident & 0xffff_ffff),
        extensions: before.to_vec(),
    };
    let mut buf = reply.to_bytes();
    let mn = SecurityAssociation::with_defaults(0x100, key(MN_HA_KEY));
    append_auth_extension(&mut buf, AuthKind::MnHa, 0x100, 16, |c| mn.authenticator(c)).unwrap();
    if let Some((spi, k)) = fa_ha {
        let sa = SecurityAssociation::with_defaults(spi, key(k));
        append_auth_extension(&mut buf, AuthKind::FaHa, spi, 16, |c| sa.authenticator(c)).unwrap();
    }
    buf
}

/// Verifies the authentication extension of `kind` in `message` with `key` and `spi`.
pub fn verifies(message: &[u8], start: usize, kind: AuthKind, spi: u32, k: &str) -> bool {
    let sa = SecurityAssociation::with_defaults(spi, key(k));
    mip_wire::extension::auth_regions(message, start)
        .unwrap()
        .iter()
        .any(|r| r.kind == kind && r.spi == spi && sa.verify(r.covered, r.authenticator))
}

/// Relays one request and returns the relayed datagram.
pub fn relay(lab: &mut Lab, req: &Req) -> Transmit {
    let t = lab.one_transmit(&req.bytes());
    assert_eq!(t.interface, None, "expected a relay, got {t:?}");
    t
}
