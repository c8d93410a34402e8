//! Test fixtures: a virtual clock, a mobile node configuration, and agents that build their
//! advertisements and replies with `mip-wire` and `mip-security` on their own (they share no
//! code with the mobile node core).
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mip_mn::{
    ColocatedAddress, ColocatedMode, DataPlaneRequest, Event, Ipv4Prefix, MnHaSecurity, MobileNode,
    MobileNodeConfig, Solicitation, Transmit,
};
use mip_security::{Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::codes::ReplyCode;
use mip_wire::extension::{append_auth_extension, AuthKind, Extension};
use mip_wire::icmp::{
    AdvertisementCode, AdvertisementExtension, AdvertisementFlags, AgentAdvertisement,
    MobilityAgentAdvertisement, RouterAddress,
};
use mip_wire::registration::{RegistrationReply, RegistrationRequest, RegistrationRequestPacket};

/// Virtual time zero (2023-11-14 22:13:20 UTC).
pub const T0: u64 = 1_700_000_000;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

pub fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_millis(ms)
}

/// Milliseconds since virtual time zero.
pub fn ms_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH + Duration::from_secs(T0))
        .expect("after T0")
        .as_millis() as u64
}

pub fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub const IF: &str = "eth0";
pub const IF2: &str = "wlan0";
pub const KEY: &str = "12345678123456781234567812345678";
pub const SPI: u32 = 0x100;

pub fn home() -> Ipv4Addr {
    a("10.1.1.5")
}
pub fn ha() -> Ipv4Addr {
    a("10.1.1.1")
}
pub fn fa1() -> Ipv4Addr {
    a("192.0.2.1")
}
pub fn fa2() -> Ipv4Addr {
    a("198.51.100.1")
}
pub fn coloc() -> ColocatedAddress {
    ColocatedAddress::new(a("203.0.113.50"), 24, Some(a("203.0.113.1")))
}
pub const FA1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

pub fn sa() -> SecurityAssociation {
    SecurityAssociation::with_defaults(SPI, Key::from_hex(KEY).unwrap())
}

/// The mobile node's configuration: home 10.1.1.5, HA 10.1.1.1, 10.1.1.0/24, one interface,
/// solicitation jitter off (exact schedules).
pub fn config() -> MobileNodeConfig {
    let mut c = MobileNodeConfig::new(
        home(),
        ha(),
        "10.1.1.0/24".parse::<Ipv4Prefix>().unwrap(),
        MnHaSecurity::new(SPI, Key::from_hex(KEY).unwrap()),
        vec![IF.to_owned()],
    );
    c.solicitation.jitter_percent = 0;
    c
}

pub fn colocated_config() -> MobileNodeConfig {
    let mut c = config();
    c.colocated = ColocatedMode::Dynamic;
    c
}

pub fn node_with(c: MobileNodeConfig) -> MobileNode {
    MobileNode::new(c, *b"seed-for-tests!!").expect("valid configuration")
}

pub fn node() -> MobileNode {
    node_with(config())
}

/// An agent advertisement as an agent builds it.
#[derive(Clone, Debug)]
pub struct Adv {
    pub source: Ipv4Addr,
    pub code: u8,
    pub lifetime: u16,
    pub sequence: u16,
    pub registration_lifetime: u16,
    pub flags: u16,
    pub care_of: Vec<Ipv4Addr>,
    /// Prefix length of the router address (the source), when a Prefix-Lengths extension is
    /// sent.
    pub prefix_len: Option<u8>,
}

impl Adv {
    /// A foreign agent (F, T, G) offering its own address as care-of address, /24.
    pub fn fa(source: Ipv4Addr) -> Adv {
        Adv {
            source,
            code: 16,
            lifetime: 30,
            sequence: 300,
            registration_lifetime: 600,
            flags: AdvertisementFlags::F | AdvertisementFlags::T | AdvertisementFlags::G,
            care_of: vec![source],
            prefix_len: Some(24),
        }
    }

    /// The home agent advertising on the home link (H).
    pub fn ha() -> Adv {
        Adv {
            source: ha(),
            code: 0,
            lifetime: 30,
            sequence: 300,
            registration_lifetime: 0xffff,
            flags: AdvertisementFlags::H,
            care_of: vec![],
            prefix_len: Some(24),
        }
    }

    pub fn flags(mut self, f: u16) -> Adv {
        self.flags = f;
        self
    }
    pub fn lifetime(mut self, l: u16) -> Adv {
        self.lifetime = l;
        self
    }
    pub fn seq(mut self, s: u16) -> Adv {
        self.sequence = s;
        self
    }
    pub fn reg_lifetime(mut self, l: u16) -> Adv {
        self.registration_lifetime = l;
        self
    }
    pub fn prefix(mut self, p: Option<u8>) -> Adv {
        self.prefix_len = p;
        self
    }
    pub fn care_of(mut self, c: Vec<Ipv4Addr>) -> Adv {
        self.care_of = c;
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut adv = AgentAdvertisement::new(
            AdvertisementCode::from(self.code),
            self.lifetime,
            vec![RouterAddress {
                address: self.source,
                preference: 0,
            }],
            MobilityAgentAdvertisement {
                sequence: self.sequence,
                registration_lifetime: self.registration_lifetime,
                flags: AdvertisementFlags::from_bits(self.flags),
                care_of_addresses: self.care_of.clone(),
            },
        );
        if let Some(p) = self.prefix_len {
            adv.extensions
                .push(AdvertisementExtension::PrefixLengths(vec![p]));
        }
        adv.to_bytes().unwrap()
    }

    /// Delivers it to the node on `iface` at `t` (link-layer source known).
    pub fn send(&self, n: &mut MobileNode, t: SystemTime, iface: &str) -> Out {
        n.handle_advertisement_from(
            t,
            iface,
            self.source,
            Some(mac_of(self.source)),
            &self.bytes(),
        );
        drain(n)
    }
}

pub fn mac_of(a: Ipv4Addr) -> [u8; 6] {
    let o = a.octets();
    [0x02, 0, o[0], o[1], o[2], o[3]]
}

/// Everything the node queued, drained in the documented order.
#[derive(Debug, Default, Clone)]
pub struct Out {
    pub dataplane: Vec<DataPlaneRequest>,
    pub transmit: Vec<Transmit>,
    pub solicit: Vec<Solicitation>,
    pub events: Vec<Event>,
}

impl Out {
    pub fn extend(&mut self, o: Out) {
        self.dataplane.extend(o.dataplane);
        self.transmit.extend(o.transmit);
        self.solicit.extend(o.solicit);
        self.events.extend(o.events);
    }

    /// The one request sent, parsed.
    pub fn request(&self) -> RegistrationRequest {
        assert_eq!(self.transmit.len(), 1, "expected one request: {self:#?}");
        parse(&self.transmit[0])
    }

    pub fn has_event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(f)
    }
}

pub fn drain(n: &mut MobileNode) -> Out {
    let mut o = Out::default();
    while let Some(d) = n.poll_dataplane() {
        o.dataplane.push(d);
    }
    while let Some(t) = n.poll_transmit() {
        o.transmit.push(t);
    }
    while let Some(s) = n.poll_solicitation() {
        o.solicit.push(s);
    }
    while let Some(e) = n.poll_event() {
        o.events.push(e);
    }
    o
}

pub fn parse(t: &Transmit) -> RegistrationRequest {
    RegistrationRequest::from_bytes(&t.payload).expect("request parses")
}

/// Runs the timers up to and including `until`, collecting what the node does (with the time
/// of each timer, in ms since T0).
pub fn run_until(n: &mut MobileNode, until: SystemTime) -> Vec<(u64, Out)> {
    let mut log = Vec::new();
    for _ in 0..100_000 {
        match n.poll_timeout() {
            Some(d) if d <= until => {
                n.handle_timeout(d);
                let o = drain(n);
                log.push((ms_of(d), o));
            }
            _ => return log,
        }
    }
    panic!("timers do not advance");
}

pub fn merged(log: Vec<(u64, Out)>) -> Out {
    let mut o = Out::default();
    for (_, x) in log {
        o.extend(x);
    }
    o
}

/// Times (ms) at which requests went out.
pub fn request_times(log: &[(u64, Out)]) -> Vec<u64> {
    log.iter()
        .flat_map(|(t, o)| o.transmit.iter().map(move |_| *t))
        .collect()
}

/// True when the request's MN-HA authenticator verifies with `sa` (an independent check with
/// the wire crate's regions).
pub fn request_verifies(payload: &[u8], sa: &SecurityAssociation) -> bool {
    let p = RegistrationRequestPacket::new_checked(payload).unwrap();
    let regions = p.auth_regions().unwrap();
    regions
        .iter()
        .find(|r| r.kind == AuthKind::MnHa)
        .is_some_and(|r| r.spi == sa.spi() && sa.verify(r.covered, r.authenticator))
}

/// A home agent's reply to `req`: code, lifetime, identification as the home agent makes it
/// (copied; or for 133 with timestamps, `ha_seconds` in the high half), signed with `sa`.
pub fn reply_to(
    req: &RegistrationRequest,
    code: u8,
    lifetime: u16,
    sa: &SecurityAssociation,
) -> Vec<u8> {
    reply_with_id(req, code, lifetime, req.identification, Some(sa))
}

pub fn reply_with_id(
    req: &RegistrationRequest,
    code: u8,
    lifetime: u16,
    identification: u64,
    sa: Option<&SecurityAssociation>,
) -> Vec<u8> {
    let r = RegistrationReply {
        code: ReplyCode::from(code),
        lifetime,
        home_address: req.home_address,
        home_agent: req.home_agent,
        identification,
        extensions: req
            .extensions
            .iter()
            .filter(|e| matches!(e, Extension::Nai(_)))
            .cloned()
            .collect(),
    };
    let mut buf = r.to_bytes();
    if let Some(sa) = sa {
        append_auth_extension(&mut buf, AuthKind::MnHa, sa.spi(), 16, |c| {
            sa.authenticator(c)
        })
        .unwrap();
    }
    buf
}

pub fn from_ha() -> SocketAddrV4 {
    SocketAddrV4::new(ha(), 434)
}

pub fn from_fa(fa: Ipv4Addr) -> SocketAddrV4 {
    SocketAddrV4::new(fa, 434)
}

/// Link up, then the FA advertises: the node registers through it. Returns the request.
pub fn registered_via_fa(n: &mut MobileNode, fa: Ipv4Addr, t: SystemTime) -> RegistrationRequest {
    n.link_changed(t, IF, true, None);
    drain(n);
    let out = Adv::fa(fa).send(n, t, IF);
    let req = out.request();
    n.handle_reply(t, from_fa(fa), &reply_to(&req, 0, req.lifetime, &sa()));
    let o = drain(n);
    assert!(
        o.has_event(|e| matches!(e, Event::Registered { .. })),
        "{o:#?}"
    );
    req
}

pub fn hmac_sa() -> SecurityAssociation {
    SecurityAssociation::new(
        SPI,
        Algorithm::HmacMd5,
        Key::from_hex(KEY).unwrap(),
        ReplayProtection::default(),
    )
}

/// Runs the timers until the node sends a request (at most until `limit`): its time (ms) and
/// everything done at that time.
pub fn next_transmit(n: &mut MobileNode, limit: SystemTime) -> Option<(u64, Out)> {
    for _ in 0..100_000 {
        match n.poll_timeout() {
            Some(d) if d <= limit => {
                n.handle_timeout(d);
                let o = drain(n);
                if !o.transmit.is_empty() {
                    return Some((ms_of(d), o));
                }
            }
            _ => return None,
        }
    }
    panic!("timers do not advance");
}
