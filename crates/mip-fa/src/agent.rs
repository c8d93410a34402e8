//! The foreign agent state machine: agent advertisements (RFC 5944 §2.3), Registration Request
//! relay with a pending table (§3.7.2), Registration Reply relay and the visitor list (§3.7.3),
//! expiry, operator actions.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mip_config::{
    nai_key, Config, Encapsulations, ForeignService, HomeLocation, Irdp, MobileNodeId, Peer,
    SecurityAssociation, DEFAULT_LIFETIME_SECS,
};
use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::extension::{
    append_auth_extension, auth_region, is_skippable, types, AuthKind, Extensions, GenAuthSubtype,
    RawExtension,
};
use mip_wire::icmp::{
    next_sequence, AdvertisementCode, AdvertisementExtension, AdvertisementFlags,
    AgentAdvertisement, AgentSolicitation, MobilityAgentAdvertisement, RouterAddress,
};
use mip_wire::registration::{
    RegistrationReplyPacket, RegistrationRequestPacket, RequestFlags, REPLY_HEADER_LEN,
    REQUEST_HEADER_LEN,
};
use mip_wire::MIP_UDP_PORT;

use crate::output::{
    Advertisement, DataPlaneRequest, Transmit, UnreachableKind, VisitorRoute, ADVERTISEMENT_TTL,
};
use crate::rejection::{AuthFailure, Rejection, Side};
use crate::rng::Rng;
use crate::snapshot::{
    ident_text, mac_text, routing_options, Counters, InterfaceSnapshot, PendingSnapshot, Violation,
    VisitorSnapshot,
};
use crate::timers::{TimerKey, Timers};

/// RFC 1256 §5.1: the first few advertisements of an interface are sent at most this far
/// apart (MAX_INITIAL_ADVERT_INTERVAL, 16 s) ...
pub const MAX_INITIAL_ADVERT_INTERVAL: Duration = Duration::from_secs(16);
/// ... for this many advertisements (MAX_INITIAL_ADVERTISEMENTS).
pub const MAX_INITIAL_ADVERTISEMENTS: u32 = 3;
/// The largest UDP payload an IPv4 datagram can carry.
pub const MAX_UDP_PAYLOAD: usize = 65_507;
/// Seed 002: "At most, five outstanding pending requests per mobile node are allowed."
pub const DEFAULT_PENDING_PER_MOBILE_NODE: usize = 5;
/// All-systems multicast (RFC 1256 AdvertisementAddress default).
pub const ALL_SYSTEMS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);

/// An interface as the system has it: name, primary address, state, link-layer address. The
/// daemon reads these from netlink; an `interface NAME` block with ` ip address A M` in the
/// configuration overrides the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaInterface {
    /// Linux name (`eth1`), as in the configuration.
    pub name: String,
    /// Primary IPv4 address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// Operationally up.
    pub up: bool,
    /// The interface's own link-layer address.
    pub link_layer: [u8; 6],
}

/// FA challenge settings (RFC 3012). The router's configuration has no keyword for them, so
/// they are options of the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeOptions {
    /// Octets of each challenge, 4–255 (RFC 3012 §3: at least 4). Default 16.
    pub length: usize,
    /// How many of the most recent challenges of an interface a request may carry. Older
    /// ones that are still remembered (up to four times as many) are stale (106). Default 3.
    pub window: usize,
}

impl Default for ChallengeOptions {
    fn default() -> Self {
        ChallengeOptions {
            length: 16,
            window: 3,
        }
    }
}

/// Tunables of the core that are not part of the router's configuration.
#[derive(Clone, Debug)]
pub struct FaOptions {
    /// Seed of the xorshift generator used for advertisement jitter and challenges. The
    /// daemon fills it from the system's random source.
    pub seed: u64,
    /// Pending requests allowed per mobile node (seed 002: five).
    pub pending_per_mobile_node: usize,
    /// Pending requests allowed in all (66 beyond).
    pub max_pending: usize,
    /// Entries kept in the violation log (oldest dropped first).
    pub violation_log_capacity: usize,
    /// Where periodic advertisements go: 224.0.0.1 (default, RFC 1256's AdvertisementAddress)
    /// or 255.255.255.255 (the router's IRDP default without `ip irdp multicast`).
    pub advertisement_destination: Ipv4Addr,
    /// Least time between two advertisements answering solicitations on one interface (RFC
    /// 1256 rate limiting). A solicitation arriving sooner is answered by one multicast
    /// advertisement when the gap has passed, so that every solicitation gets an answer.
    pub solicitation_min_gap: Duration,
    /// Send code 78 (registration timeout) to the mobile node when a pending request times
    /// out (RFC 5944 §3.4 defines the code; sending it is optional). Default on.
    pub reply_on_pending_timeout: bool,
    /// Encapsulations decapsulated besides IP in IP (always): M and G in advertisements, 72 for
    /// a request asking for one that is off. Default both (the user-space data plane does GRE
    /// and minimal encapsulation).
    pub encapsulations: Encapsulations,
    /// The Encapsulating Delivery Style (RFC 3024 §3.3) is offered. Default off: a request
    /// carrying the extension gets 79.
    pub encapsulating_delivery: bool,
    /// FA challenges in advertisements and requests (RFC 3012). Default off.
    pub challenge: Option<ChallengeOptions>,
}

impl Default for FaOptions {
    fn default() -> Self {
        FaOptions {
            seed: 0x5EED,
            pending_per_mobile_node: DEFAULT_PENDING_PER_MOBILE_NODE,
            max_pending: 65_536,
            violation_log_capacity: 1024,
            advertisement_destination: ALL_SYSTEMS,
            solicitation_min_gap: Duration::from_millis(100),
            reply_on_pending_timeout: true,
            encapsulations: Encapsulations::default(),
            encapsulating_delivery: false,
            challenge: None,
        }
    }
}

/// Which visitors `clear ip mobile visitor` removes (seed 000: `[ip-address | nai string
/// [session-id string] [ip-address]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitorSelector {
    /// Every visitor.
    All,
    /// The visitor with this home address.
    Address(Ipv4Addr),
    /// The visitors of an NAI: of one session and/or one address, or all of them.
    Nai {
        /// The NAI (realm compared without regard to case).
        nai: String,
        /// Only this session.
        session_id: Option<String>,
        /// Only this home address.
        address: Option<Ipv4Addr>,
    },
}

/// A mobile node as the pending table knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum MnKey {
    Address(u32),
    Nai(String),
}

/// Per-interface settings derived from the configuration.
#[derive(Clone, Debug, Default)]
struct Settings {
    address: Option<(Ipv4Addr, u8)>,
    irdp: Irdp,
    foreign_service: Option<ForeignService>,
    prefix_length: bool,
    registration_lifetime: Option<u16>,
    home_link: bool,
}

/// Challenges issued on one interface, newest first, with whether each was used.
#[derive(Clone, Debug, Default)]
struct Challenges {
    issued: VecDeque<(Vec<u8>, bool)>,
}

struct Iface {
    info: FaInterface,
    settings: Settings,
    sequence: u16,
    /// Periodic advertisements sent since the interface started advertising.
    since_start: u32,
    last_solicited_ms: Option<u64>,
    challenges: Challenges,
}

impl Iface {
    fn address(&self) -> Ipv4Addr {
        self.settings.address.map_or(self.info.address, |(a, _)| a)
    }

    fn prefix_len(&self) -> u8 {
        self.settings
            .address
            .map_or(self.info.prefix_len, |(_, l)| l)
    }

    fn on_link(&self, a: Ipv4Addr) -> bool {
        let mask = mip_config::mask_of(self.prefix_len());
        u32::from(a) & mask == u32::from(self.address()) & mask
    }
}

#[derive(Clone, Debug)]
struct Pending {
    key: MnKey,
    alt_key: Option<MnKey>,
    iface: usize,
    source: SocketAddrV4,
    local: Ipv4Addr,
    link_layer: Option<[u8; 6]>,
    home_address: Ipv4Addr,
    home_agent: Ipv4Addr,
    care_of: Ipv4Addr,
    ident: u64,
    flags: u8,
    lifetime: u16,
    nai: Option<Vec<u8>>,
    session: Option<Vec<u8>>,
    created_ms: u64,
    expires_ms: u64,
}

#[derive(Clone, Debug)]
struct Visitor {
    nai: Option<Vec<u8>>,
    session: Option<Vec<u8>>,
    iface: usize,
    source: SocketAddrV4,
    local: Ipv4Addr,
    link_layer: Option<[u8; 6]>,
    home_agent: Ipv4Addr,
    care_of: Ipv4Addr,
    ident: u64,
    flags: u8,
    lifetime: u16,
    expires_ms: Option<u64>,
    reverse_tunnel: bool,
    encapsulation: Encapsulation,
    decapsulate: bool,
}

/// Where an answer to a mobile node goes, and what it echoes.
#[derive(Clone, Debug)]
struct Target {
    iface: usize,
    source: SocketAddrV4,
    local: Ipv4Addr,
    link_layer: Option<[u8; 6]>,
    home: Ipv4Addr,
    home_agent: Ipv4Addr,
    ident: u64,
    nai: Option<Vec<u8>>,
}

/// Who a violation is about.
struct Violator {
    address: Ipv4Addr,
    nai: Option<String>,
    home_agent: bool,
    spi: u32,
    ident: u64,
}

/// Extensions of a request, found in one walk.
#[derive(Default)]
struct ReqScan<'a> {
    malformed: bool,
    /// End of the first MN-HA (or MN-AAA) extension: what the home agent authenticates and
    /// what is relayed unchanged.
    boundary: Option<usize>,
    nai: Option<&'a [u8]>,
    session: Option<&'a [u8]>,
    challenge: Option<&'a [u8]>,
    mn_fa: Option<RawExtension<'a>>,
    mn_fa_count: u8,
    unknown_after: Option<u8>,
    cvse_after: bool,
    delivery_style: bool,
}

/// Non-skippable types this agent recognises after the MN-HA extension.
fn fa_recognises(ty: u8) -> bool {
    matches!(
        ty,
        types::PAD
            | types::MN_HA_AUTH
            | types::MN_FA_AUTH
            | types::FA_HA_AUTH
            | types::GENERALIZED_AUTH
            | types::CVSE
    )
}

fn session_of(body: &[u8]) -> Option<&[u8]> {
    // The product's session identifier NVSE (docs/extensions.md): vendor 9, type 0x0A01.
    if body.len() < 7 {
        return None;
    }
    let vendor = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let ty = u16::from_be_bytes([body[4], body[5]]);
    (vendor == 9 && ty == 0x0A01 && body.len() <= 6 + 24).then(|| &body[6..])
}

fn scan_request(msg: &[u8]) -> ReqScan<'_> {
    let mut s = ReqScan::default();
    for raw in Extensions::new(msg, REQUEST_HEADER_LEN) {
        let Ok(raw) = raw else {
            s.malformed = true;
            break;
        };
        let after = s.boundary.is_some();
        let end = raw.offset + raw.bytes.len();
        match raw.ty {
            types::MN_HA_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if !after {
                    s.boundary = Some(end);
                }
            }
            types::GENERALIZED_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if !after && raw.subtype() == Some(u8::from(GenAuthSubtype::MnAaa)) {
                    s.boundary = Some(end);
                }
            }
            types::MN_FA_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                s.mn_fa_count = s.mn_fa_count.saturating_add(1);
                if s.mn_fa.is_none() {
                    s.mn_fa = Some(raw);
                }
            }
            types::FA_HA_AUTH if raw.body.len() < 4 => s.malformed = true,
            types::MN_NAI if !after && s.nai.is_none() => s.nai = Some(raw.body),
            types::NVSE if !after && s.session.is_none() => {
                s.session = session_of(raw.body);
            }
            types::MN_FA_CHALLENGE if s.challenge.is_none() => s.challenge = Some(raw.body),
            types::ENCAPSULATING_DELIVERY_STYLE => s.delivery_style = true,
            types::CVSE if after => s.cvse_after = true,
            ty if after && !is_skippable(ty) && !fa_recognises(ty) => {
                s.unknown_after.get_or_insert(ty);
            }
            _ => {}
        }
    }
    s
}

/// Extensions of a reply, found in one walk.
#[derive(Default)]
struct RepScan<'a> {
    malformed: bool,
    boundary: Option<usize>,
    /// Offset of the first FA-HA or MN-FA extension (where a reply without MN-HA is cut).
    first_fa_auth: Option<usize>,
    nai: Option<&'a [u8]>,
    fa_ha: Option<RawExtension<'a>>,
    fa_ha_count: u8,
    unknown_after: Option<u8>,
    cvse_after: bool,
}

fn scan_reply(msg: &[u8]) -> RepScan<'_> {
    let mut s = RepScan::default();
    for raw in Extensions::new(msg, REPLY_HEADER_LEN) {
        let Ok(raw) = raw else {
            s.malformed = true;
            break;
        };
        let after = s.boundary.is_some();
        match raw.ty {
            types::MN_HA_AUTH | types::GENERALIZED_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if !after && raw.ty == types::MN_HA_AUTH {
                    s.boundary = Some(raw.offset + raw.bytes.len());
                }
            }
            types::FA_HA_AUTH | types::MN_FA_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                s.first_fa_auth.get_or_insert(raw.offset);
                if raw.ty == types::FA_HA_AUTH {
                    s.fa_ha_count = s.fa_ha_count.saturating_add(1);
                    if s.fa_ha.is_none() {
                        s.fa_ha = Some(raw);
                    }
                }
            }
            types::MN_NAI if !after && s.nai.is_none() => s.nai = Some(raw.body),
            types::CVSE if after => s.cvse_after = true,
            ty if after && !is_skippable(ty) && !fa_recognises(ty) => {
                s.unknown_after.get_or_insert(ty);
            }
            _ => {}
        }
    }
    s
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn nai_text(nai: &[u8]) -> String {
    String::from_utf8_lossy(nai).into_owned()
}

fn mn_key(nai: Option<&[u8]>, home: Ipv4Addr) -> MnKey {
    match nai {
        Some(n) => MnKey::Nai(nai_key(&String::from_utf8_lossy(n))),
        None => MnKey::Address(u32::from(home)),
    }
}

/// A home agent address the agent cannot relay to.
fn unusable_home_agent(a: Ipv4Addr) -> bool {
    a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback()
}

fn encapsulation_of(flags: RequestFlags) -> Encapsulation {
    if flags.g {
        Encapsulation::Gre
    } else if flags.m {
        Encapsulation::Minimal
    } else {
        Encapsulation::IpInIp
    }
}

/// The foreign agent core. See the crate documentation for the input/output contract.
pub struct ForeignAgent {
    config: Config,
    options: FaOptions,
    rng: Rng,
    ifaces: Vec<Iface>,
    timers: Timers,
    pending: HashMap<u64, Pending>,
    pending_index: HashMap<MnKey, Vec<u64>>,
    next_pending_id: u64,
    visitors: BTreeMap<u32, Visitor>,
    counters: Counters,
    cleared_counters: Option<Counters>,
    violations: VecDeque<Violation>,
    violations_total: u64,
    advertisements: VecDeque<Advertisement>,
    transmits: VecDeque<Transmit>,
    dataplane: VecDeque<DataPlaneRequest>,
}

impl ForeignAgent {
    /// A foreign agent serving `config` on `interfaces`.
    pub fn new(config: &Config, interfaces: Vec<FaInterface>) -> ForeignAgent {
        ForeignAgent::with_options(config, interfaces, FaOptions::default())
    }

    /// Same, with tunables.
    pub fn with_options(
        config: &Config,
        interfaces: Vec<FaInterface>,
        options: FaOptions,
    ) -> ForeignAgent {
        let mut fa = ForeignAgent {
            config: config.clone(),
            rng: Rng::new(options.seed),
            options,
            ifaces: Vec::new(),
            timers: Timers::default(),
            pending: HashMap::new(),
            pending_index: HashMap::new(),
            next_pending_id: 0,
            visitors: BTreeMap::new(),
            counters: Counters::default(),
            cleared_counters: None,
            violations: VecDeque::new(),
            violations_total: 0,
            advertisements: VecDeque::new(),
            transmits: VecDeque::new(),
            dataplane: VecDeque::new(),
        };
        for i in interfaces {
            fa.update_interface(i);
        }
        fa
    }

    /// New configuration (SIGHUP). Visitors and pending requests are kept until they expire,
    /// with what they were granted; advertisements follow the new settings at once
    /// (sequence numbers continue: a restart of the numbering would tell mobile nodes the agent
    /// rebooted, RFC 5944 §2.3.2).
    pub fn reconfigure(&mut self, config: &Config) {
        self.config = config.clone();
        for i in 0..self.ifaces.len() {
            self.ifaces[i].settings = self.settings_for(&self.ifaces[i].info.name);
            self.refresh_advertising(i);
        }
    }

    /// Adds an interface, or replaces what is known of one (address, state, link-layer
    /// address) by name.
    pub fn update_interface(&mut self, info: FaInterface) {
        let settings = self.settings_for(&info.name);
        match self.iface_index(&info.name) {
            Some(i) => {
                self.ifaces[i].info = info;
                self.ifaces[i].settings = settings;
                self.refresh_advertising(i);
            }
            None => self.ifaces.push(Iface {
                info,
                settings,
                sequence: 0,
                since_start: 0,
                last_solicited_ms: None,
                challenges: Challenges::default(),
            }),
        }
    }

    /// An interface went up or down (seed 002: "Only care-of addresses with interfaces that
    /// are up are considered available"). False when the interface is unknown.
    pub fn set_interface_up(&mut self, name: &str, up: bool) -> bool {
        let Some(i) = self.iface_index(name) else {
            return false;
        };
        self.ifaces[i].info.up = up;
        for j in 0..self.ifaces.len() {
            self.refresh_advertising(j);
        }
        true
    }

    fn settings_for(&self, name: &str) -> Settings {
        let home_link = self.config.home_agent_active()
            && (self
                .config
                .host_groups
                .iter()
                .any(|g| matches!(&g.location, HomeLocation::Interface(n) if n == name))
                || self
                    .config
                    .nai_hosts
                    .iter()
                    .any(|h| matches!(&h.location, HomeLocation::Interface(n) if n == name)));
        match self.config.interfaces.get(name) {
            Some(c) => Settings {
                address: c.address.map(|a| (a.address, a.prefix_len)),
                irdp: c.irdp,
                foreign_service: c.foreign_service,
                prefix_length: c.prefix_length,
                registration_lifetime: c.registration_lifetime,
                home_link,
            },
            None => Settings {
                home_link,
                ..Settings::default()
            },
        }
    }

    fn iface_index(&self, name: &str) -> Option<usize> {
        self.ifaces.iter().position(|f| f.info.name == name)
    }

    // ---------------------------------------------------------------------------------------
    // Service state

    /// The care-of addresses advertised now: the addresses of the `care-of` interfaces that
    /// are up, in configuration order.
    pub fn care_of_addresses(&self) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for name in &self.config.foreign_agent.care_of {
            if let Some(f) = self.iface_index(name).map(|i| &self.ifaces[i]) {
                let a = f.address();
                if f.info.up && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// True when the foreign agent serves: `router mobile`, `ip mobile foreign-agent`, and at
    /// least one care-of address available (seed 002).
    pub fn service_enabled(&self) -> bool {
        self.config.foreign_agent_active() && !self.care_of_addresses().is_empty()
    }

    fn is_foreign_service(&self, i: usize) -> bool {
        self.ifaces[i].settings.foreign_service.is_some() && self.service_enabled()
    }

    fn advertising(&self, i: usize) -> bool {
        let f = &self.ifaces[i];
        self.config.mobile_ip
            && f.info.up
            && f.settings.irdp.enabled
            && (self.is_foreign_service(i) || f.settings.home_link)
    }

    /// Starts or stops the advertisement timer of interface `i` after a change.
    fn refresh_advertising(&mut self, i: usize) {
        if !self.advertising(i) {
            self.timers.cancel(TimerKey::Advert(i));
            self.timers.cancel(TimerKey::Solicited(i));
            self.ifaces[i].since_start = 0;
        }
        // Started lazily by `arm` (it needs `now`).
    }

    fn needs_arming(&self) -> bool {
        (0..self.ifaces.len())
            .any(|i| self.advertising(i) && !self.timers.is_set(TimerKey::Advert(i)))
    }

    fn arm(&mut self, now_ms: u64) {
        for i in 0..self.ifaces.len() {
            if self.advertising(i) && !self.timers.is_set(TimerKey::Advert(i)) {
                let at = now_ms + self.advert_delay_ms(i);
                self.timers.set(TimerKey::Advert(i), at);
            }
        }
    }

    /// RFC 1256 §5.1 / RFC 5944 §2.3: a random point in [min, max advertisement interval];
    /// the first MAX_INITIAL_ADVERTISEMENTS no more than 16 s apart.
    fn advert_delay_ms(&mut self, i: usize) -> u64 {
        let irdp = self.ifaces[i].settings.irdp;
        let min = u64::from(irdp.min_interval()) * 1000;
        let max = u64::from(irdp.max_interval()) * 1000;
        let d = self.rng.in_range(min, max);
        if self.ifaces[i].since_start < MAX_INITIAL_ADVERTISEMENTS {
            d.min(MAX_INITIAL_ADVERT_INTERVAL.as_millis() as u64)
        } else {
            d
        }
    }

    // ---------------------------------------------------------------------------------------
    // Outputs

    /// Next data-plane change (visitor entries). Drain first after every input: a visitor's
    /// entry must exist before the reply that tells it it is registered goes out.
    pub fn poll_dataplane(&mut self) -> Option<DataPlaneRequest> {
        self.dataplane.pop_front()
    }

    /// Next UDP datagram (relayed requests, replies to mobile nodes). Drain second.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next agent advertisement. Drain third.
    pub fn poll_advertisement(&mut self) -> Option<Advertisement> {
        self.advertisements.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called: the earliest advertisement, pending
    /// request or visitor deadline. The Unix epoch means "as soon as possible" (an interface
    /// started advertising and its first advertisement is not scheduled yet: that needs
    /// `now`, which only the handlers get).
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        if self.needs_arming() {
            return Some(UNIX_EPOCH);
        }
        self.timers.next().map(from_unix_ms)
    }

    /// Runs every timer due at `now`: periodic and held-back solicited advertisements, pending
    /// requests whose `reg-wait` ran out (RFC 5944 §3.7.1; code 78 to the mobile node), and
    /// visitors whose lifetime ran out (seed 002: "Visitor binding is removed ... when
    /// registration lifetime expires").
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let now_ms = unix_ms(now);
        while let Some((_, key)) = self.timers.pop_due(now_ms) {
            match key {
                TimerKey::Advert(i) => {
                    if self.advertising(i) {
                        let dst = self.options.advertisement_destination;
                        self.send_advertisement(i, dst, false);
                        self.ifaces[i].since_start = self.ifaces[i].since_start.saturating_add(1);
                        let at = now_ms + self.advert_delay_ms(i);
                        self.timers.set(TimerKey::Advert(i), at);
                    }
                }
                TimerKey::Solicited(i) => {
                    if self.advertising(i) {
                        let dst = self.options.advertisement_destination;
                        self.ifaces[i].last_solicited_ms = Some(now_ms);
                        self.send_advertisement(i, dst, true);
                    }
                }
                TimerKey::Pending(id) => {
                    if let Some(p) = self.remove_pending(id) {
                        let target = target_of(&p);
                        let code = if self.options.reply_on_pending_timeout {
                            Some(&target)
                        } else {
                            None
                        };
                        self.reject(Rejection::RegistrationTimeout, code, None, 0, now_ms);
                    }
                }
                TimerKey::Visitor(home) => {
                    if let Some(v) = self.visitors.remove(&home) {
                        self.counters.visitors_expired += 1;
                        let route = self.route_of(Ipv4Addr::from(home), &v);
                        self.dataplane
                            .push_back(DataPlaneRequest::RemoveVisitor(route));
                    }
                }
            }
        }
        self.arm(now_ms);
    }

    // ---------------------------------------------------------------------------------------
    // Agent discovery

    /// An ICMP Agent Solicitation (the ICMP message, from the type byte) arrived on
    /// `interface` from `source`. Every valid solicitation (checksum right, code 0) is
    /// answered (RFC 5944 §2.4, RFC 1256 §5.1):
    /// unicast to `source` when it is an address of the link, else to the all-systems address
    /// on that link (a mobile node away from home solicits from its home address, which
    /// routing would take elsewhere). At most one answer per
    /// [`FaOptions::solicitation_min_gap`] per interface; solicitations inside the gap are
    /// answered together by one multicast advertisement at its end.
    pub fn handle_solicitation(
        &mut self,
        now: SystemTime,
        interface: &str,
        source: Ipv4Addr,
        bytes: &[u8],
    ) {
        let now_ms = unix_ms(now);
        self.arm(now_ms);
        self.counters.solicitations_received += 1;
        let valid = AgentSolicitation::parse(bytes).is_ok_and(|s| s.code == 0);
        let Some(i) = self
            .iface_index(interface)
            .filter(|&i| valid && self.advertising(i))
        else {
            self.counters.solicitations_ignored += 1;
            return;
        };
        let gap = self.options.solicitation_min_gap.as_millis() as u64;
        match self.ifaces[i].last_solicited_ms {
            Some(last) if now_ms < last.saturating_add(gap) => {
                if !self.timers.is_set(TimerKey::Solicited(i)) {
                    self.timers
                        .set(TimerKey::Solicited(i), last.saturating_add(gap));
                }
            }
            _ => {
                self.ifaces[i].last_solicited_ms = Some(now_ms);
                let dst = if !source.is_unspecified() && self.ifaces[i].on_link(source) {
                    source
                } else {
                    self.options.advertisement_destination
                };
                self.send_advertisement(i, dst, true);
            }
        }
    }

    fn advertisement_flags(&self, i: usize) -> AdvertisementFlags {
        let s = &self.ifaces[i].settings;
        let fa = self.is_foreign_service(i);
        let fs = s.foreign_service.unwrap_or_default();
        let home = s.home_link && self.config.home_agent_active();
        let encaps = if fa {
            self.options.encapsulations
        } else {
            self.config.home_agent.encapsulations
        };
        AdvertisementFlags {
            registration_required: fa && fs.registration_required,
            busy: fa && self.link_full(i),
            home_agent: home,
            foreign_agent: fa,
            minimal_encapsulation: encaps.minimal,
            gre_encapsulation: encaps.gre,
            reverse_tunnelling: fa && self.reverse_tunnel_offered(i),
            ..AdvertisementFlags::default()
        }
    }

    fn reverse_tunnel_offered(&self, i: usize) -> bool {
        let fs = self.ifaces[i].settings.foreign_service.unwrap_or_default();
        fs.reverse_tunnel || fs.reverse_tunnel_mandatory || self.config.foreign_agent.reverse_tunnel
    }

    fn visitors_on(&self, i: usize) -> usize {
        self.visitors.values().filter(|v| v.iface == i).count()
    }

    fn link_full(&self, i: usize) -> bool {
        self.ifaces[i]
            .settings
            .foreign_service
            .and_then(|fs| fs.limit)
            .is_some_and(|l| self.visitors_on(i) >= usize::from(l))
    }

    fn registration_lifetime(&self, i: usize) -> u16 {
        self.ifaces[i]
            .settings
            .registration_lifetime
            .unwrap_or(DEFAULT_LIFETIME_SECS)
    }

    fn issue_challenge(&mut self, i: usize) -> Option<Vec<u8>> {
        let opts = self.options.challenge.clone()?;
        let mut c = vec![0u8; opts.length.clamp(4, 255)];
        self.rng.fill(&mut c);
        let ch = &mut self.ifaces[i].challenges;
        ch.issued.push_front((c.clone(), false));
        ch.issued.truncate(opts.window.max(1) * 4);
        Some(c)
    }

    fn send_advertisement(&mut self, i: usize, destination: Ipv4Addr, solicited: bool) {
        let flags = self.advertisement_flags(i);
        let care_of = if flags.foreign_agent {
            self.care_of_addresses()
        } else {
            Vec::new()
        };
        let f = &self.ifaces[i];
        let mobility = MobilityAgentAdvertisement {
            sequence: f.sequence,
            registration_lifetime: self.registration_lifetime(i),
            flags,
            care_of_addresses: care_of,
        };
        let mut adv = AgentAdvertisement::new(
            AdvertisementCode::RoutesCommonTraffic,
            f.settings.irdp.holdtime(),
            vec![RouterAddress {
                address: f.address(),
                preference: 0,
            }],
            mobility,
        );
        if f.settings.prefix_length {
            adv.extensions
                .push(AdvertisementExtension::PrefixLengths(vec![f.prefix_len()]));
        }
        let (source, interface) = (f.address(), f.info.name.clone());
        if flags.foreign_agent {
            if let Some(c) = self.issue_challenge(i) {
                adv.extensions.push(AdvertisementExtension::FaChallenge(c));
            }
        }
        let Ok(payload) = adv.to_bytes() else {
            return;
        };
        let f = &mut self.ifaces[i];
        f.sequence = next_sequence(f.sequence);
        self.counters.advertisements_sent += 1;
        if solicited {
            self.counters.advertisements_response_to_solicitation += 1;
        }
        self.advertisements.push_back(Advertisement {
            interface,
            source,
            destination,
            ttl: ADVERTISEMENT_TTL,
            payload,
            solicited,
        });
    }

    // ---------------------------------------------------------------------------------------
    // UDP 434

    /// A UDP datagram arrived on port 434: `payload` from `source`, sent to `local`, on
    /// `interface` (`None` when the caller does not know it) from the link-layer address
    /// `link_layer_source` (`None` when unknown). Registration Requests are taken only on
    /// foreign-service interfaces; Registration Replies from anywhere. Anything else is
    /// dropped and counted.
    pub fn handle_udp(
        &mut self,
        now: SystemTime,
        interface: Option<&str>,
        source: SocketAddrV4,
        local: Ipv4Addr,
        link_layer_source: Option<[u8; 6]>,
        payload: &[u8],
    ) {
        let now_ms = unix_ms(now);
        self.arm(now_ms);
        match payload.first() {
            Some(1) => {
                self.handle_request(now_ms, interface, source, local, link_layer_source, payload)
            }
            Some(3) => self.handle_reply(now_ms, source, payload),
            _ => self.counters.other_messages_ignored += 1,
        }
    }

    /// An ICMP error (destination unreachable and the like) came back for a request relayed
    /// to `home_agent`: every request pending with that home agent is answered with 80, 81,
    /// 82 or 88 and dropped. Returns how many.
    pub fn handle_icmp_unreachable(
        &mut self,
        now: SystemTime,
        home_agent: Ipv4Addr,
        kind: UnreachableKind,
    ) -> usize {
        let now_ms = unix_ms(now);
        self.arm(now_ms);
        let mut ids: Vec<(u64, u64)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.home_agent == home_agent)
            .map(|(&id, p)| (p.created_ms, id))
            .collect();
        ids.sort_unstable();
        for &(_, id) in &ids {
            if let Some(p) = self.remove_pending(id) {
                let target = target_of(&p);
                self.reject(
                    Rejection::HomeAgentUnreachable(kind),
                    Some(&target),
                    None,
                    0,
                    now_ms,
                );
            }
        }
        ids.len()
    }

    fn handle_request(
        &mut self,
        now_ms: u64,
        interface: Option<&str>,
        source: SocketAddrV4,
        local: Ipv4Addr,
        link_layer: Option<[u8; 6]>,
        payload: &[u8],
    ) {
        let Ok(pkt) = RegistrationRequestPacket::new_checked(payload) else {
            self.counters.requests_in += 1;
            return self.reject(Rejection::Malformed, None, None, 0, now_ms);
        };
        self.counters.requests_in += 1;
        if pkt.lifetime() == 0 {
            self.counters.deregister_requests_in += 1;
        }
        // Seed 002: "the foreign agent will ignore requests when foreign agent service is not
        // enabled on interface or no care-of address is advertised".
        if !self.service_enabled() {
            return self.reject(Rejection::ServiceDisabled, None, None, 0, now_ms);
        }
        let Some(i) = interface
            .and_then(|n| self.iface_index(n))
            .filter(|&i| self.ifaces[i].info.up && self.is_foreign_service(i))
        else {
            return self.reject(Rejection::NotForeignServiceInterface, None, None, 0, now_ms);
        };
        let scan = scan_request(payload);
        let target = Target {
            iface: i,
            source,
            local,
            link_layer,
            home: pkt.home_address(),
            home_agent: pkt.home_agent(),
            ident: pkt.identification(),
            nai: scan.nai.map(<[u8]>::to_vec),
        };
        let flags = pkt.flags();
        // RFC 5944 §1.9: an unrecognised non-skippable extension meant for this agent (after
        // the MN-HA extension; what precedes it is the home agent's business) means silent
        // discard. Framing errors come first: then nothing can be recognised.
        if !scan.malformed {
            if let Some(ty) = scan.unknown_after {
                return self.reject(
                    Rejection::UnknownNonSkippableExtension(ty),
                    None,
                    None,
                    0,
                    now_ms,
                );
            }
        }
        let nai_str = scan.nai.map(nai_text);
        match self.check_request(i, &pkt, flags, &scan, payload) {
            Err((rejection, violation_spi)) => {
                let violator = violation_spi.map(|spi| Violator {
                    address: pkt.home_address(),
                    nai: nai_str.clone(),
                    home_agent: false,
                    spi,
                    ident: pkt.identification(),
                });
                let lifetime = if rejection == Rejection::LifetimeTooLong {
                    self.registration_lifetime(i)
                } else {
                    0
                };
                self.reject(rejection, Some(&target), violator, lifetime, now_ms);
            }
            Ok(boundary) => self.relay(now_ms, &target, &pkt, &scan, payload, boundary),
        }
    }

    /// The validity checks of RFC 5944 §3.7.2.1 and seed 002, in this order. Returns the end
    /// of the MN-HA extension (what is relayed unchanged) or the rejection, with the SPI of a
    /// failing MN-FA extension when the failure is a security violation.
    fn check_request(
        &mut self,
        i: usize,
        pkt: &RegistrationRequestPacket<&[u8]>,
        flags: RequestFlags,
        scan: &ReqScan<'_>,
        payload: &[u8],
    ) -> Result<usize, (Rejection, Option<u32>)> {
        let fail = |r: Rejection| Err((r, None));
        // (1) Extensions that do not frame: 70.
        if scan.malformed {
            return fail(Rejection::PoorlyFormedRequest);
        }
        // (2) FA challenge (RFC 3012 §3.2): 105, 104, 106.
        if self.options.challenge.is_some() {
            let Some(c) = scan.challenge else {
                return fail(Rejection::MissingChallenge);
            };
            self.check_challenge(i, c).map_err(|r| (r, None))?;
        }
        // (3) MN-FA authentication when a visitor SA exists (seed 002: "If a security
        // association exists for a visiting mobile node, visitor is authenticated"; RFC 5944
        // §3.7.2.1: exactly one MN-FA extension, valid): 67 and a violation.
        let boundary = scan.boundary;
        if let Err((f, spi)) = self.verify_mn_fa(pkt.home_address(), scan, payload, boundary) {
            return Err((Rejection::MobileNodeAuthentication(f), Some(spi)));
        }
        // (4) Form: reserved bits r and x set (RFC 5944 §3.7.2.1: rejected with 70), M and G
        // together, no MN-HA extension.
        let Some(boundary) = boundary else {
            return fail(Rejection::PoorlyFormedRequest);
        };
        if flags.r || flags.x || (flags.m && flags.g) {
            return fail(Rejection::PoorlyFormedRequest);
        }
        // (5) Identity (RFC 2794): a zero home address needs an NAI; the home agent must be
        // a unicast address (no dynamic home agent assignment here).
        if pkt.home_address().is_unspecified() && scan.nai.is_none() {
            return fail(Rejection::MissingNai);
        }
        if unusable_home_agent(pkt.home_agent()) {
            return fail(if scan.nai.is_some() {
                Rejection::MissingHomeAgent
            } else {
                Rejection::NonZeroHomeAgentRequired
            });
        }
        // (6) A CVSE meant for this agent: 100 (RFC 3115 §2).
        if scan.cvse_after {
            return fail(Rejection::CvseFromMobileNode);
        }
        let dereg = pkt.lifetime() == 0;
        // (7) Lifetime above the one advertised on the link: 69 (RFC 5944 §3.7.2.2).
        let max = self.registration_lifetime(i);
        if max != mip_wire::registration::LIFETIME_INFINITE && pkt.lifetime() > max {
            return fail(Rejection::LifetimeTooLong);
        }
        // (8) The care-of address must be one this agent offers, unless the mobile node
        // decapsulates itself (D, co-located care-of address): 77.
        if !flags.d && !self.care_of_addresses().contains(&pkt.care_of_address()) {
            return fail(Rejection::InvalidCareOfAddress);
        }
        // (9) home-access: the home agents visitors may register with: 65.
        let fs = self.ifaces[i].settings.foreign_service.unwrap_or_default();
        if let Some(acl) = fs.home_access {
            // A list referenced but not defined filters nothing (the router's behaviour; a
            // validated configuration has none).
            if self.config.access_lists.contains_key(&acl)
                && !self.config.permits(acl, pkt.home_agent())
            {
                return fail(Rejection::HomeAccessDenied);
            }
        }
        // (10) Encapsulation (72) and delivery style (79, RFC 3024 §4.2).
        let enc = self.options.encapsulations;
        if (flags.m && !enc.minimal) || (flags.g && !enc.gre) {
            return fail(Rejection::EncapsulationUnavailable);
        }
        if scan.delivery_style && !self.options.encapsulating_delivery {
            return fail(Rejection::DeliveryStyleNotSupported);
        }
        // (11) Reverse tunnelling (RFC 3024 §4.2): 74, 75.
        if !dereg {
            if flags.t && !flags.d && !self.reverse_tunnel_offered(i) {
                return fail(Rejection::ReverseTunnelUnavailable);
            }
            if !flags.t && fs.reverse_tunnel_mandatory {
                return fail(Rejection::ReverseTunnelMandatory);
            }
        }
        // (12) Resources: the link's visitor limit (new visitors only), five pending requests
        // per mobile node (seed 002), the pending table's size: 66.
        let key = mn_key(scan.nai, pkt.home_address());
        let low = pkt.identification() as u32;
        let retransmission = self.find_pending_by(&key, low).is_some();
        if !dereg && !retransmission && self.link_full(i) && !self.is_visitor(&key, pkt) {
            return fail(Rejection::VisitorLimit);
        }
        if !retransmission {
            let n = self.pending_index.get(&key).map_or(0, Vec::len);
            if n >= self.options.pending_per_mobile_node {
                return fail(Rejection::PendingLimitPerMobileNode);
            }
            if self.pending.len() >= self.options.max_pending {
                return fail(Rejection::PendingTableFull);
            }
        }
        Ok(boundary)
    }

    fn is_visitor(&self, key: &MnKey, pkt: &RegistrationRequestPacket<&[u8]>) -> bool {
        match key {
            MnKey::Address(a) => self.visitors.contains_key(a),
            MnKey::Nai(n) => {
                self.visitors.contains_key(&u32::from(pkt.home_address()))
                    || self.visitors.values().any(|v| {
                        v.nai
                            .as_deref()
                            .is_some_and(|x| nai_key(&String::from_utf8_lossy(x)) == *n)
                    })
            }
        }
    }

    fn check_challenge(&self, i: usize, c: &[u8]) -> Result<(), Rejection> {
        let window = self
            .options
            .challenge
            .as_ref()
            .map_or(1, |o| o.window.max(1));
        let issued = &self.ifaces[i].challenges.issued;
        match issued.iter().position(|(x, _)| x.as_slice() == c) {
            None => Err(Rejection::UnknownChallenge),
            Some(pos) if pos >= window || issued[pos].1 => Err(Rejection::StaleChallenge),
            Some(_) => Ok(()),
        }
    }

    fn mark_challenge_used(&mut self, i: usize, c: &[u8]) {
        if let Some(e) = self.ifaces[i]
            .challenges
            .issued
            .iter_mut()
            .find(|(x, _)| x.as_slice() == c)
        {
            e.1 = true;
        }
    }

    /// The visitor security association of a mobile node (by NAI, then home address), with
    /// inbound SPI `spi` or the first one.
    fn visitor_sa(
        &self,
        nai: Option<&[u8]>,
        home: Ipv4Addr,
        spi: Option<u32>,
    ) -> Option<&SecurityAssociation> {
        if let Some(n) = nai {
            let n = String::from_utf8_lossy(n);
            if let Some(sa) = self
                .config
                .sa_for(Peer::Visitor, MobileNodeId::Nai(&n), spi)
            {
                return Some(sa);
            }
        }
        if home.is_unspecified() {
            return None;
        }
        self.config
            .sa_for(Peer::Visitor, MobileNodeId::Address(home), spi)
    }

    fn verify_mn_fa(
        &self,
        home: Ipv4Addr,
        scan: &ReqScan<'_>,
        payload: &[u8],
        boundary: Option<usize>,
    ) -> Result<(), (AuthFailure, u32)> {
        if self.visitor_sa(scan.nai, home, None).is_none() {
            return Ok(());
        }
        let raw = match (&scan.mn_fa, scan.mn_fa_count) {
            (None, _) => return Err((AuthFailure::MissingExtension, 0)),
            (Some(_), n) if n > 1 => return Err((AuthFailure::Other, 0)),
            (Some(raw), _) => raw,
        };
        let Ok(region) = auth_region(payload, raw) else {
            return Err((AuthFailure::Other, 0));
        };
        // The MN-FA extension follows the MN-HA one (RFC 5944 §3.6.1.3).
        if boundary.is_none_or(|b| raw.offset < b) {
            return Err((AuthFailure::Other, region.spi));
        }
        match self.visitor_sa(scan.nai, home, Some(region.spi)) {
            None => Err((AuthFailure::BadSpi, region.spi)),
            Some(sa) if !sa.inbound().verify(region.covered, region.authenticator) => {
                Err((AuthFailure::BadAuthenticator, region.spi))
            }
            Some(_) => Ok(()),
        }
    }

    /// RFC 5944 §3.7.2.3: relay the request unchanged through the MN-HA extension, drop what
    /// follows it (MN-FA authentication, challenge, delivery style), append FA-HA when an SA
    /// with the home agent exists (seed 002), and keep a pending entry for `reg-wait` seconds.
    fn relay(
        &mut self,
        now_ms: u64,
        target: &Target,
        pkt: &RegistrationRequestPacket<&[u8]>,
        scan: &ReqScan<'_>,
        payload: &[u8],
        boundary: usize,
    ) {
        let mut buf = payload[..boundary.min(payload.len())].to_vec();
        let home_agent = pkt.home_agent();
        if let Some(sa) = self.config.home_agent_sa(home_agent) {
            let out = sa.outbound();
            if append_auth_extension(&mut buf, AuthKind::FaHa, out.spi(), 16, |c| {
                out.authenticator(c)
            })
            .is_err()
            {
                return self.reject(Rejection::Unspecified, Some(target), None, 0, now_ms);
            }
        }
        if buf.len() > MAX_UDP_PAYLOAD {
            return self.reject(Rejection::Unspecified, Some(target), None, 0, now_ms);
        }
        let flags = pkt.flags();
        let care_of = pkt.care_of_address();
        let source = if flags.d || !self.care_of_addresses().contains(&care_of) {
            self.care_of_addresses()
                .first()
                .copied()
                .unwrap_or(self.ifaces[target.iface].address())
        } else {
            care_of
        };
        if let Some(c) = scan.challenge {
            if self.options.challenge.is_some() {
                self.mark_challenge_used(target.iface, c);
            }
        }
        // The pending entry; a retransmission (same mobile node and identification) replaces
        // the one it repeats and restarts its timer.
        let key = mn_key(scan.nai, pkt.home_address());
        let low = pkt.identification() as u32;
        if let Some(old) = self.find_pending_by(&key, low) {
            self.remove_pending(old);
        }
        let alt_key = (scan.nai.is_some() && !pkt.home_address().is_unspecified())
            .then(|| MnKey::Address(u32::from(pkt.home_address())));
        let reg_wait = u64::from(self.config.foreign_agent.reg_wait_secs) * 1000;
        let id = self.next_pending_id;
        self.next_pending_id += 1;
        let p = Pending {
            key: key.clone(),
            alt_key: alt_key.clone(),
            iface: target.iface,
            source: target.source,
            local: target.local,
            link_layer: target.link_layer,
            home_address: pkt.home_address(),
            home_agent,
            care_of,
            ident: pkt.identification(),
            flags: pkt.flags_byte(),
            lifetime: pkt.lifetime(),
            nai: scan.nai.map(<[u8]>::to_vec),
            session: scan.session.map(<[u8]>::to_vec),
            created_ms: now_ms,
            expires_ms: now_ms + reg_wait,
        };
        self.timers.set(TimerKey::Pending(id), p.expires_ms);
        self.pending.insert(id, p);
        self.pending_index.entry(key).or_default().push(id);
        if let Some(k) = alt_key {
            self.pending_index.entry(k).or_default().push(id);
        }
        self.counters.requests_forwarded += 1;
        self.transmits.push_back(Transmit {
            interface: None,
            source: SocketAddrV4::new(source, MIP_UDP_PORT),
            destination: SocketAddrV4::new(home_agent, MIP_UDP_PORT),
            link_layer_destination: None,
            payload: buf,
        });
    }

    fn find_pending_by(&self, key: &MnKey, ident_low: u32) -> Option<u64> {
        self.pending_index.get(key)?.iter().copied().find(|id| {
            self.pending
                .get(id)
                .is_some_and(|p| p.ident as u32 == ident_low)
        })
    }

    fn remove_pending(&mut self, id: u64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        self.timers.cancel(TimerKey::Pending(id));
        for k in std::iter::once(&p.key).chain(p.alt_key.as_ref()) {
            if let Some(v) = self.pending_index.get_mut(k) {
                v.retain(|&x| x != id);
                if v.is_empty() {
                    self.pending_index.remove(k);
                }
            }
        }
        Some(p)
    }

    /// RFC 5944 §3.7.3: a Registration Reply from a home agent.
    fn handle_reply(&mut self, now_ms: u64, source: SocketAddrV4, payload: &[u8]) {
        self.counters.replies_in += 1;
        let Ok(pkt) = RegistrationReplyPacket::new_checked(payload) else {
            return self.reject(Rejection::MalformedReply, None, None, 0, now_ms);
        };
        let scan = scan_reply(payload);
        // §3.7.3.1: the reply must match a pending request by home address (or NAI, RFC
        // 2794) and the low-order 32 bits of the Identification.
        let low = pkt.identification() as u32;
        let found = scan
            .nai
            .and_then(|n| self.find_pending_by(&mn_key(Some(n), Ipv4Addr::UNSPECIFIED), low))
            .or_else(|| self.find_pending_by(&MnKey::Address(u32::from(pkt.home_address())), low));
        let Some(id) = found else {
            return self.reject(Rejection::NoPendingRequest, None, None, 0, now_ms);
        };
        // §1.9: an unknown non-skippable extension meant for this agent: discard (the pending
        // entry stays; the mobile node hears 78 if nothing better comes).
        if !scan.malformed && scan.unknown_after.is_some() {
            return self.reject(Rejection::MalformedReply, None, None, 0, now_ms);
        }
        let Some(p) = self.remove_pending(id) else {
            return;
        };
        let target = target_of(&p);
        if scan.malformed {
            return self.reject(Rejection::PoorlyFormedReply, Some(&target), None, 0, now_ms);
        }
        // §3.7.3.1 and seed 002: "the home agent is authenticated ... if a security
        // association exists for the home agent (IP source address or home agent address in
        // reply)"; also the address the request was relayed to.
        let sa = [*source.ip(), pkt.home_agent(), p.home_agent]
            .into_iter()
            .find_map(|a| self.config.home_agent_sa(a).map(|sa| (a, sa.clone())));
        if let Some((ha_addr, sa)) = sa {
            let failure = match (&scan.fa_ha, scan.fa_ha_count) {
                (None, _) => Some((AuthFailure::MissingExtension, 0)),
                (Some(_), n) if n > 1 => Some((AuthFailure::Other, 0)),
                (Some(raw), _) => match auth_region(payload, raw) {
                    Err(_) => Some((AuthFailure::Other, 0)),
                    Ok(r) if scan.boundary.is_none_or(|b| raw.offset < b) => {
                        Some((AuthFailure::Other, r.spi))
                    }
                    Ok(r) if r.spi != sa.inbound_spi() => Some((AuthFailure::BadSpi, r.spi)),
                    Ok(r) if !sa.inbound().verify(r.covered, r.authenticator) => {
                        Some((AuthFailure::BadAuthenticator, r.spi))
                    }
                    Ok(_) => None,
                },
            };
            if let Some((f, spi)) = failure {
                let violator = Violator {
                    address: ha_addr,
                    nai: p.nai.as_deref().map(nai_text),
                    home_agent: true,
                    spi,
                    ident: pkt.identification(),
                };
                return self.reject(
                    Rejection::HomeAgentAuthentication(f),
                    Some(&target),
                    Some(violator),
                    0,
                    now_ms,
                );
            }
        }
        if scan.cvse_after {
            return self.reject(Rejection::CvseFromHomeAgent, Some(&target), None, 0, now_ms);
        }
        let code = pkt.code();
        let home = pkt.home_address();
        if code.is_accepted() {
            if home.is_unspecified() {
                return self.reject(
                    Rejection::MissingHomeAddress,
                    Some(&target),
                    None,
                    0,
                    now_ms,
                );
            }
            // Seed 002: "When registration is accepted, the foreign agent will create or
            // update the visitor table ... Visitor binding is removed ... when ...
            // deregistration accepted."
            if p.lifetime == 0 || pkt.lifetime() == 0 {
                if let Some(v) = self.visitors.remove(&u32::from(home)) {
                    self.timers.cancel(TimerKey::Visitor(u32::from(home)));
                    self.counters.visitors_deregistered += 1;
                    let route = self.route_of(home, &v);
                    self.dataplane
                        .push_back(DataPlaneRequest::RemoveVisitor(route));
                }
            } else {
                self.upsert_visitor(&p, home, pkt.lifetime().min(p.lifetime));
            }
        }
        // Seed 002: "When registration is denied, the foreign agent will remove request from
        // pending registration table. The visitors table and timers are unaffected."
        let boundary = scan
            .boundary
            .or(scan.first_fa_auth)
            .unwrap_or(payload.len())
            .min(payload.len());
        let buf = payload[..boundary].to_vec();
        self.counters.replies_forwarded += 1;
        self.send_to_mobile_node(&target, home, buf);
    }

    fn upsert_visitor(&mut self, p: &Pending, home: Ipv4Addr, lifetime: u16) {
        let flags = RequestFlags::from_byte(p.flags);
        let v = Visitor {
            nai: p.nai.clone(),
            session: p.session.clone(),
            iface: p.iface,
            source: p.source,
            local: p.local,
            link_layer: p.link_layer,
            home_agent: p.home_agent,
            care_of: p.care_of,
            ident: p.ident,
            flags: p.flags,
            lifetime,
            // Counted from when the request was relayed, so that the entry never outlives the
            // home agent's binding.
            expires_ms: (lifetime != mip_wire::registration::LIFETIME_INFINITE)
                .then(|| p.created_ms + u64::from(lifetime) * 1000),
            reverse_tunnel: flags.t && !flags.d,
            encapsulation: encapsulation_of(flags),
            decapsulate: !flags.d,
        };
        let key = u32::from(home);
        let new_route = self.route_of(home, &v);
        match self.visitors.get(&key) {
            Some(old) => {
                let old_route = self.route_of(home, old);
                if old_route != new_route {
                    self.dataplane
                        .push_back(DataPlaneRequest::RemoveVisitor(old_route));
                    self.dataplane
                        .push_back(DataPlaneRequest::AddVisitor(new_route));
                }
            }
            None => {
                self.counters.visitors_added += 1;
                self.dataplane
                    .push_back(DataPlaneRequest::AddVisitor(new_route));
            }
        }
        match v.expires_ms {
            Some(at) => self.timers.set(TimerKey::Visitor(key), at),
            None => self.timers.cancel(TimerKey::Visitor(key)),
        }
        self.visitors.insert(key, v);
    }

    fn route_of(&self, home: Ipv4Addr, v: &Visitor) -> VisitorRoute {
        VisitorRoute {
            home_address: home,
            interface: self.ifaces[v.iface].info.name.clone(),
            link_layer: v.link_layer,
            care_of_address: v.care_of,
            home_agent: v.home_agent,
            reverse_tunnel: v.reverse_tunnel,
            encapsulation: v.encapsulation,
            decapsulate: v.decapsulate,
        }
    }

    /// The one place a rejection turns into counters, a violation and (maybe) a reply.
    fn reject(
        &mut self,
        rejection: Rejection,
        target: Option<&Target>,
        violator: Option<Violator>,
        lifetime: u16,
        now_ms: u64,
    ) {
        let d = rejection.disposition();
        self.counters.bump(d.counter);
        let code = d.code.filter(|_| target.is_some());
        match (d.side, code.is_some()) {
            (Side::Request, true) => self.counters.requests_denied += 1,
            (Side::Request, false) => self.counters.requests_ignored += 1,
            (Side::Reply, false) if d.code.is_none() => self.counters.replies_ignored += 1,
            (Side::Reply, _) => {}
        }
        if let (Some(reason), Some(v)) = (d.violation, violator) {
            self.violations_total += 1;
            if self.options.violation_log_capacity > 0 {
                if self.violations.len() >= self.options.violation_log_capacity {
                    self.violations.pop_front();
                }
                self.violations.push_back(Violation {
                    address: v.address,
                    nai: v.nai,
                    home_agent: v.home_agent,
                    time_ms: now_ms,
                    spi: v.spi,
                    identification: v.ident,
                    code: d.code.map_or(0, u8::from),
                    reason,
                });
            }
        }
        if let (Some(code), Some(t)) = (code, target) {
            self.send_denial(t, code, lifetime);
        }
    }

    /// RFC 5944 §3.7.2.2: the foreign agent's own reply: Home Address, Home Agent and
    /// Identification copied from the request, the NAI echoed (RFC 2794 §2).
    fn send_denial(&mut self, t: &Target, code: ReplyCode, lifetime: u16) {
        let mut buf = Vec::with_capacity(64);
        buf.push(3);
        buf.push(u8::from(code));
        buf.extend_from_slice(&lifetime.to_be_bytes());
        buf.extend_from_slice(&t.home.octets());
        buf.extend_from_slice(&t.home_agent.octets());
        buf.extend_from_slice(&t.ident.to_be_bytes());
        if let Some(nai) = &t.nai {
            if nai.len() <= 255 {
                buf.push(types::MN_NAI);
                buf.push(nai.len() as u8);
                buf.extend_from_slice(nai);
            }
        }
        self.send_to_mobile_node(t, t.home, buf);
    }

    /// Sends a reply to a mobile node: a new challenge (RFC 3012 §3.1) and the MN-FA
    /// authentication extension when a visitor SA exists (RFC 5944 §3.7.3.2) are appended to
    /// `buf`, which ends with the home agent's MN-HA extension (or is the agent's own reply).
    fn send_to_mobile_node(&mut self, t: &Target, reply_home: Ipv4Addr, mut buf: Vec<u8>) {
        if let Some(c) = self.issue_challenge(t.iface) {
            buf.push(types::MN_FA_CHALLENGE);
            buf.push(c.len() as u8);
            buf.extend_from_slice(&c);
        }
        if let Some(sa) = self.visitor_sa(t.nai.as_deref(), t.home, None) {
            let out = sa.outbound();
            if append_auth_extension(&mut buf, AuthKind::MnFa, out.spi(), 16, |c| {
                out.authenticator(c)
            })
            .is_err()
            {
                return;
            }
        }
        let f = &self.ifaces[t.iface];
        // Seed 000 ("IP dest"): the reply's source is the request's destination, unless that
        // was multicast or broadcast (or not ours): then the interface's address.
        let ours = self.ifaces.iter().any(|g| g.address() == t.local);
        let src = if ours && !t.local.is_multicast() && !t.local.is_broadcast() {
            t.local
        } else {
            f.address()
        };
        let dst = [reply_home, t.home]
            .into_iter()
            .find(|a| !a.is_unspecified())
            .unwrap_or(Ipv4Addr::BROADCAST);
        self.transmits.push_back(Transmit {
            interface: Some(f.info.name.clone()),
            source: SocketAddrV4::new(src, MIP_UDP_PORT),
            destination: SocketAddrV4::new(dst, t.source.port()),
            link_layer_destination: t.link_layer,
            payload: buf,
        });
    }

    // ---------------------------------------------------------------------------------------
    // Operator actions

    /// `clear ip mobile visitor ...`: removes visitors without telling them (seed 002).
    /// Returns how many were removed.
    pub fn clear_visitors(&mut self, selector: &VisitorSelector) -> usize {
        let victims: Vec<u32> = self
            .visitors
            .iter()
            .filter(|(&home, v)| match selector {
                VisitorSelector::All => true,
                VisitorSelector::Address(a) => u32::from(*a) == home,
                VisitorSelector::Nai {
                    nai,
                    session_id,
                    address,
                } => {
                    v.nai
                        .as_deref()
                        .is_some_and(|n| mip_config::nai_eq(&nai_text(n), nai))
                        && session_id
                            .as_ref()
                            .is_none_or(|s| v.session.as_deref() == Some(s.as_bytes()))
                        && address.is_none_or(|a| u32::from(a) == home)
                }
            })
            .map(|(&h, _)| h)
            .collect();
        for &home in &victims {
            if let Some(v) = self.visitors.remove(&home) {
                self.timers.cancel(TimerKey::Visitor(home));
                self.counters.visitors_cleared += 1;
                let route = self.route_of(Ipv4Addr::from(home), &v);
                self.dataplane
                    .push_back(DataPlaneRequest::RemoveVisitor(route));
            }
        }
        victims.len()
    }

    /// `clear ip mobile traffic`: zero the counters, keeping the old values for undo.
    pub fn clear_counters(&mut self) {
        self.cleared_counters = Some(std::mem::take(&mut self.counters));
    }

    /// `clear ip mobile traffic undo`: add back the values of the last clear. False when
    /// there is nothing to undo.
    pub fn undo_clear_counters(&mut self) -> bool {
        match self.cleared_counters.take() {
            Some(old) => {
                self.counters.add(&old);
                true
            }
            None => false,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Snapshots

    /// `show ip mobile traffic` (foreign agent part).
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// `show ip mobile violation`: the most recent violations, oldest first.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter()
    }

    /// Violations logged since start (including those dropped from the log).
    pub fn violations_total(&self) -> u64 {
        self.violations_total
    }

    /// Number of visitors.
    pub fn visitor_count(&self) -> usize {
        self.visitors.len()
    }

    /// Number of pending requests.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// `show ip mobile visitor`: every visitor by home address, remaining lifetimes at `now`.
    pub fn visitors(&self, now: SystemTime) -> Vec<VisitorSnapshot> {
        let now_ms = unix_ms(now);
        self.visitors
            .iter()
            .map(|(&h, v)| self.visitor_snapshot(Ipv4Addr::from(h), v, now_ms))
            .collect()
    }

    /// `show ip mobile visitor ADDRESS`.
    pub fn visitor(&self, home: Ipv4Addr, now: SystemTime) -> Option<VisitorSnapshot> {
        self.visitors
            .get(&u32::from(home))
            .map(|v| self.visitor_snapshot(home, v, unix_ms(now)))
    }

    fn visitor_snapshot(&self, home: Ipv4Addr, v: &Visitor, now_ms: u64) -> VisitorSnapshot {
        VisitorSnapshot {
            home_address: home,
            nai: v.nai.as_deref().map(nai_text),
            session_id: v.session.as_deref().map(nai_text),
            interface: self.ifaces[v.iface].info.name.clone(),
            mac: v.link_layer,
            mac_text: v.link_layer.as_ref().map(mac_text),
            source: v.source,
            destination: v.local,
            home_agent: v.home_agent,
            care_of_address: v.care_of,
            identification: v.ident,
            identification_text: ident_text(v.ident),
            lifetime_granted: v.lifetime,
            remaining_secs: v.expires_ms.map(|e| e.saturating_sub(now_ms) / 1000),
            tunnel_source: v.care_of,
            tunnel_destination: v.home_agent,
            reverse_tunnel: v.reverse_tunnel,
            encapsulation: v.encapsulation,
            flags: v.flags,
            routing_options: routing_options(v.flags, v.reverse_tunnel),
        }
    }

    /// `show ip mobile visitor pending`: pending requests, oldest first.
    pub fn pending(&self, now: SystemTime) -> Vec<PendingSnapshot> {
        let now_ms = unix_ms(now);
        let mut v: Vec<(u64, &Pending)> = self.pending.iter().map(|(&id, p)| (id, p)).collect();
        v.sort_unstable_by_key(|&(id, _)| id);
        v.into_iter()
            .map(|(_, p)| PendingSnapshot {
                home_address: p.home_address,
                nai: p.nai.as_deref().map(nai_text),
                session_id: p.session.as_deref().map(nai_text),
                interface: self.ifaces[p.iface].info.name.clone(),
                mac_text: p.link_layer.as_ref().map(mac_text),
                source: p.source,
                destination: p.local,
                home_agent: p.home_agent,
                care_of_address: p.care_of,
                identification: p.ident,
                identification_text: ident_text(p.ident),
                lifetime_requested: p.lifetime,
                remaining_secs: p.expires_ms.saturating_sub(now_ms) / 1000,
                flags: p.flags,
            })
            .collect()
    }

    /// `show ip mobile interface`: every interface the agent knows.
    pub fn interfaces(&self) -> Vec<InterfaceSnapshot> {
        let care_of = &self.config.foreign_agent.care_of;
        (0..self.ifaces.len())
            .map(|i| {
                let f = &self.ifaces[i];
                InterfaceSnapshot {
                    name: f.info.name.clone(),
                    address: f.address(),
                    prefix_len: f.prefix_len(),
                    up: f.info.up,
                    foreign_service: f.settings.foreign_service.is_some(),
                    care_of: care_of.contains(&f.info.name),
                    advertising: self.advertising(i),
                    advertisement_flags: self.advertisement_flags(i).bits(),
                    registration_lifetime: self.registration_lifetime(i),
                    next_sequence: f.sequence,
                    visitors: self.visitors_on(i),
                    visitor_limit: f.settings.foreign_service.and_then(|fs| fs.limit),
                }
            })
            .collect()
    }

    /// The deadline of the next periodic advertisement on `interface` (for tests and `show`).
    pub fn next_advertisement(&self, interface: &str) -> Option<SystemTime> {
        let i = self.iface_index(interface)?;
        self.timers.deadline(TimerKey::Advert(i)).map(from_unix_ms)
    }
}

fn target_of(p: &Pending) -> Target {
    Target {
        iface: p.iface,
        source: p.source,
        local: p.local,
        link_layer: p.link_layer,
        home: p.home_address,
        home_agent: p.home_agent,
        ident: p.ident,
        nai: p.nai.clone(),
    }
}
