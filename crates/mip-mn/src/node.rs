//! The mobile node state machine: agent discovery and move detection (RFC 5944 §2.4),
//! registration (§3.6), identification (§5.7), deregistration at home (§2.4.3, §4.6).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use mip_security::replay::{
    next_identification, nonce_request_identification, reply_matches_request,
};
use mip_security::{ntp, ClockOffset, ReplayProtection, SecurityAssociation, AUTHENTICATOR_LEN};
use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::extension::{
    append_auth_extension, auth_region, is_interpreted, is_skippable, types, AuthKind, Extension,
};
use mip_wire::icmp::{AdvertisementCode, AgentAdvertisement, AgentSolicitation};
use mip_wire::registration::{
    RegistrationReplyPacket, RegistrationRequest, RequestFlags, LIFETIME_INFINITE,
};
use mip_wire::MIP_UDP_PORT;

use crate::agents::{Agent, Agents};
use crate::config::{ColocatedMode, ConfigError, MobileNodeConfig};
use crate::output::{
    ColocatedAddress, DataPlaneRequest, Delivery, DiscardReason, Event, LinkLayerAddress,
    MoveReason, RequestKind, Solicitation, Transmit,
};
use crate::random::Random;
use crate::snapshot::{
    advertisement_flags_text, AgentSnapshot, AttachmentKind, Counters, NodeState, Snapshot,
};
use crate::solicit::Solicitor;

/// Code-133 replies in a row that are answered by resynchronising and retrying at once; after
/// that the node backs off like for any denial (a home agent whose clock jumps around, or a
/// replay protection mismatch, must not make it send in a loop).
pub const MAX_RESYNCS_IN_A_ROW: u32 = 3;

/// Identifications remembered (per node) so that no two recent requests share their
/// low-order 32 bits, on which replies are matched (RFC 5944 §3.6.2.1).
const RECENT_IDENTIFICATIONS: usize = 16;

/// Transmissions of one request remembered for matching late replies.
const SENT_HISTORY: usize = 16;

/// One interface of the configuration.
#[derive(Clone, Debug)]
struct Iface {
    name: String,
    up: bool,
    /// The address the daemon reported on this link.
    address: Option<ColocatedAddress>,
    /// The network-prefix method says the address no longer fits the link.
    address_invalid: bool,
    agents: Agents,
    solicitor: Solicitor,
}

/// A point of attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Attachment {
    /// On the home network.
    Home { iface: usize },
    /// Through a foreign agent, with one of its care-of addresses.
    Foreign {
        iface: usize,
        agent: Ipv4Addr,
        care_of: Ipv4Addr,
    },
    /// With a co-located care-of address.
    Colocated {
        iface: usize,
        address: Ipv4Addr,
        gateway: Option<Ipv4Addr>,
    },
}

impl Attachment {
    fn iface(&self) -> usize {
        match self {
            Attachment::Home { iface }
            | Attachment::Foreign { iface, .. }
            | Attachment::Colocated { iface, .. } => *iface,
        }
    }

    /// Same place for registration purposes (a new gateway is not a move).
    fn same_place(&self, other: &Attachment) -> bool {
        match (self, other) {
            (
                Attachment::Colocated { iface, address, .. },
                Attachment::Colocated {
                    iface: i2,
                    address: a2,
                    ..
                },
            ) => iface == i2 && address == a2,
            (a, b) => a == b,
        }
    }

    fn is_home(&self) -> bool {
        matches!(self, Attachment::Home { .. })
    }

    fn kind(&self) -> AttachmentKind {
        match self {
            Attachment::Home { .. } => AttachmentKind::Home,
            Attachment::Foreign { .. } => AttachmentKind::ForeignAgent,
            Attachment::Colocated { .. } => AttachmentKind::Colocated,
        }
    }
}

/// A registration the home agent accepted.
#[derive(Clone, Debug)]
struct Binding {
    attachment: Attachment,
    care_of: Ipv4Addr,
    flags: RequestFlags,
    requested: u16,
    granted: u16,
    expires: Option<SystemTime>,
    renew_at: Option<SystemTime>,
}

/// What the node knows of its binding at the home agent.
#[derive(Clone, Debug)]
enum HaBinding {
    /// Not known (at start: a binding from before a restart may exist).
    Unknown,
    /// None.
    None,
    /// Accepted, until it expires.
    Active(Binding),
}

/// The fixed contents of a request; every (re)transmission gets a new Identification.
#[derive(Clone, Debug)]
struct Template {
    kind: RequestKind,
    attachment: Attachment,
    interface: String,
    flags: RequestFlags,
    lifetime: u16,
    care_of: Ipv4Addr,
    source: Ipv4Addr,
    destination: SocketAddrV4,
    delivery: Delivery,
    encapsulating_delivery: bool,
}

/// A request waiting for its reply (RFC 5944 §3.6.3).
#[derive(Clone, Debug)]
struct Pending {
    template: Template,
    /// Identification and send time of each transmission, latest last.
    sent: Vec<(u64, SystemTime)>,
    transmissions: u32,
    /// Wait after the latest transmission.
    wait: Duration,
    next_at: SystemTime,
    /// Asked by the operator (`deregister`).
    operator: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RetryReason {
    Denied,
    NoReply,
}

/// A new attempt after a denial or after giving up.
#[derive(Clone, Copy, Debug)]
struct Retry {
    at: SystemTime,
    reason: RetryReason,
    kind: RequestKind,
    operator: bool,
}

/// Adjustments learnt from denials, for the current point of attachment.
#[derive(Clone, Copy, Debug, Default)]
struct Adaptation {
    /// 72/139: ask for no G or M.
    no_encapsulation: bool,
    /// 74/137: ask for no T.
    no_reverse_tunnel: bool,
    /// 75/138: ask for T.
    reverse_tunnel: bool,
    /// 69: the lifetime the foreign agent accepts.
    lifetime_cap: Option<u16>,
}

/// A reply that passed the checks of RFC 5944 §3.6.2.1.
struct ValidReply {
    code: ReplyCode,
    lifetime: u16,
    home_address: Ipv4Addr,
    identification: u64,
    request_id: u64,
    sent_at: SystemTime,
    authenticated: bool,
}

fn after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

fn until(deadline: SystemTime, now: SystemTime) -> Duration {
    deadline.duration_since(now).unwrap_or(Duration::ZERO)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
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

/// The mobile node core. See the crate documentation for inputs, outputs and their order.
pub struct MobileNode {
    cfg: MobileNodeConfig,
    sa: SecurityAssociation,
    /// The home address in use (assigned by the home agent for an NAI node configured with
    /// 0.0.0.0).
    home_address: Ipv4Addr,
    ifaces: Vec<Iface>,
    /// Index of the interface of a static co-located address.
    static_iface: Option<usize>,
    current: Option<Attachment>,
    ha_binding: HaBinding,
    pending: Option<Pending>,
    retry: Option<Retry>,
    admin_down: bool,
    adapt: Adaptation,
    clock_offset: ClockOffset,
    last_sent_id: Option<u64>,
    last_accepted_id: Option<u64>,
    recent_low: VecDeque<u32>,
    ha_nonce: Option<u32>,
    resyncs_in_a_row: u32,
    denials_in_a_row: u32,
    last_reply: Option<ReplyCode>,
    last_dataplane: Option<DataPlaneRequest>,
    random: Random,
    counters: Counters,
    transmits: VecDeque<Transmit>,
    solicitations: VecDeque<Solicitation>,
    dataplane: VecDeque<DataPlaneRequest>,
    events: VecDeque<Event>,
}

impl MobileNode {
    /// A mobile node for `config`. `random_seed` must come from the system's random source: the
    /// node draws nonces (RFC 5944 §5.7.2) and solicitation jitter from it.
    ///
    /// All interfaces start down: report each with [`MobileNode::link_changed`].
    ///
    /// # Errors
    /// The configuration does not validate ([`MobileNodeConfig::validate`]).
    pub fn new(config: MobileNodeConfig, random_seed: [u8; 16]) -> Result<MobileNode, ConfigError> {
        config.validate()?;
        let sa = config.security_association.to_security_association();
        let ifaces = config
            .interfaces
            .iter()
            .map(|name| Iface {
                name: name.clone(),
                up: false,
                address: None,
                address_invalid: false,
                agents: Agents::default(),
                solicitor: Solicitor::default(),
            })
            .collect();
        let static_iface = config
            .static_colocated_interface()
            .and_then(|n| config.interfaces.iter().position(|i| i == n));
        Ok(MobileNode {
            home_address: config.home_address,
            sa,
            ifaces,
            static_iface,
            current: None,
            ha_binding: HaBinding::Unknown,
            pending: None,
            retry: None,
            admin_down: false,
            adapt: Adaptation::default(),
            clock_offset: ClockOffset::ZERO,
            last_sent_id: None,
            last_accepted_id: None,
            recent_low: VecDeque::new(),
            ha_nonce: None,
            resyncs_in_a_row: 0,
            denials_in_a_row: 0,
            last_reply: None,
            last_dataplane: None,
            random: Random::new(random_seed),
            counters: Counters::default(),
            transmits: VecDeque::new(),
            solicitations: VecDeque::new(),
            dataplane: VecDeque::new(),
            events: VecDeque::new(),
            cfg: config,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MobileNodeConfig {
        &self.cfg
    }

    /// The home address in use.
    #[must_use]
    pub fn home_address(&self) -> Ipv4Addr {
        self.home_address
    }

    /// Counters.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The clock offset learnt from code-133 replies.
    #[must_use]
    pub fn clock_offset(&self) -> ClockOffset {
        self.clock_offset
    }

    // ---------------------------------------------------------------------------------------
    // Outputs

    /// Next data-plane request (drain first).
    pub fn poll_dataplane(&mut self) -> Option<DataPlaneRequest> {
        self.dataplane.pop_front()
    }

    /// Next Registration Request to send (drain second).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next agent solicitation to send (drain third).
    pub fn poll_solicitation(&mut self) -> Option<Solicitation> {
        self.solicitations.pop_front()
    }

    /// Next event (drain last).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`MobileNode::handle_timeout`] must next be called (it may be in the past).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        let mut next: Option<SystemTime> = None;
        let mut consider = |t: Option<SystemTime>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.pending.as_ref().map(|p| p.next_at));
        consider(self.retry.as_ref().map(|r| r.at));
        if let HaBinding::Active(b) = &self.ha_binding {
            consider(b.expires);
        }
        consider(self.renewal_due());
        for f in self.ifaces.iter().filter(|f| f.up) {
            consider(f.agents.next_expiry());
            if self.cfg.solicitation.enabled {
                consider(f.solicitor.next_at());
            }
        }
        next
    }

    // ---------------------------------------------------------------------------------------
    // Inputs

    /// The link of `interface` came up (or was re-established: a new access point, a new
    /// link), or went down. `address` is the address the daemon holds on that link (from DHCP,
    /// for instance): a co-located care-of address when `colocated.mode = "dynamic"`, and, when
    /// it lies in the home network, the sign that the node is at home.
    ///
    /// A link coming up starts a search: solicitations at once (RFC 5944 §2.4); agents heard
    /// before stay usable for `move_detection.link_change_grace_ms` unless a fresh
    /// advertisement arrives first. Interfaces not in the configuration are ignored.
    pub fn link_changed(
        &mut self,
        now: SystemTime,
        interface: &str,
        up: bool,
        address: Option<ColocatedAddress>,
    ) {
        let Some(i) = self.iface_index(interface) else {
            return;
        };
        let on_current = self.current.as_ref().is_some_and(|c| c.iface() == i);
        let grace = Duration::from_millis(self.cfg.move_detection.link_change_grace_ms);
        let f = &mut self.ifaces[i];
        if up {
            f.up = true;
            f.address = address;
            f.address_invalid = false;
            f.agents.link_changed(now, grace);
            if self.cfg.solicitation.enabled {
                f.solicitor.start(now, true);
            }
        } else {
            f.up = false;
            f.address = None;
            f.address_invalid = false;
            f.agents.clear();
            f.solicitor.stop();
        }
        if on_current {
            self.events.push_back(Event::MovementDetected {
                interface: interface.to_owned(),
                reason: MoveReason::LinkChange,
            });
        }
        self.reselect(now);
        self.send_solicitations(now);
    }

    /// An ICMP Agent Advertisement (`icmp`: the ICMP message, checksum included) arrived on
    /// `interface` from `source`, its TTL already checked to be 1 by the caller.
    /// Advertisements on an interface not configured or not reported up, with a bad checksum,
    /// an unknown code or no Mobility Agent Advertisement Extension are counted and ignored. See
    /// [`MobileNode::handle_advertisement_from`] to pass the link-layer source too.
    pub fn handle_advertisement(
        &mut self,
        now: SystemTime,
        interface: &str,
        source: Ipv4Addr,
        icmp: &[u8],
    ) {
        self.handle_advertisement_from(now, interface, source, None, icmp);
    }

    /// Same, with the link-layer source address of the frame: registration requests through
    /// that agent are then sent to it without ARP (RFC 5944 §4.6).
    pub fn handle_advertisement_from(
        &mut self,
        now: SystemTime,
        interface: &str,
        source: Ipv4Addr,
        link_layer: Option<LinkLayerAddress>,
        icmp: &[u8],
    ) {
        self.counters.advertisements_received += 1;
        let Some(i) = self.iface_index(interface).filter(|&i| self.ifaces[i].up) else {
            self.counters.advertisements_ignored += 1;
            return;
        };
        // RFC 1256 §5.2 (checksum, code), RFC 5944 §2.1: an advertisement without the Mobility
        // Agent Advertisement Extension is a plain router advertisement.
        let adv = match AgentAdvertisement::parse(icmp) {
            Ok(a) if !matches!(a.code, AdvertisementCode::Unknown(_)) => a,
            _ => {
                self.counters.advertisements_ignored += 1;
                return;
            }
        };
        let Some(ma) = adv.mobility_agent() else {
            self.counters.advertisements_ignored += 1;
            return;
        };
        if source.is_unspecified() || source.is_multicast() || source.is_broadcast() {
            self.counters.advertisements_ignored += 1;
            return;
        }
        let current_agent = match &self.current {
            Some(Attachment::Foreign { iface, agent, .. }) if *iface == i => Some(*agent),
            _ => None,
        };
        let before = self.current.clone();

        // RFC 1256 §5.2: Lifetime 0, the router withdrew.
        if adv.lifetime == 0 {
            if self.ifaces[i].agents.remove(source).is_some() {
                self.agent_lost(i, source, MoveReason::AgentWithdrew);
            }
            self.reselect(now);
            return;
        }

        let recorded =
            self.ifaces[i]
                .agents
                .record(now, source, link_layer, &adv, ma, current_agent);
        if recorded.new && self.ifaces[i].agents.get(source).is_some() {
            self.events.push_back(Event::AgentHeard {
                interface: self.ifaces[i].name.clone(),
                agent: source,
                home_agent: ma.flags.home_agent,
                foreign_agent: ma.flags.foreign_agent,
            });
        }
        // A fresh advertisement after a link change: what was heard before is gone.
        for gone in self.ifaces[i].agents.drop_stale() {
            self.agent_lost(i, gone, MoveReason::LinkChange);
        }
        let mut reregister = false;
        if let Some((previous_sequence, sequence)) = recorded.reboot {
            // RFC 5944 §2.3.2: the agent lost its visitor list; register again through it.
            self.counters.agent_reboots += 1;
            self.events.push_back(Event::AgentRebooted {
                interface: self.ifaces[i].name.clone(),
                agent: source,
                previous_sequence,
                sequence,
            });
            reregister = current_agent == Some(source);
        }
        // RFC 5944 §2.4: solicit only in the absence of advertisements.
        self.ifaces[i].solicitor.stop();
        if self.cfg.move_detection.network_prefix {
            self.network_prefix_check(i, source);
        }
        self.reselect(now);
        let unchanged = match (&before, &self.current) {
            (Some(a), Some(b)) => a.same_place(b),
            _ => false,
        };
        if reregister && unchanged && !self.admin_down {
            self.start_request(now, RequestKind::Registration, false);
        }
    }

    /// A UDP datagram arrived on port 434 from `source`: a Registration Reply, if it is one for
    /// this node (RFC 5944 §3.6.2). Anything else is counted and dropped.
    pub fn handle_reply(&mut self, now: SystemTime, source: SocketAddrV4, payload: &[u8]) {
        self.counters.replies_received += 1;
        match self.check_reply(source, payload) {
            Ok(reply) => self.process_reply(now, reply),
            Err(reason) => {
                let c = &mut self.counters;
                match reason {
                    DiscardReason::Malformed => c.replies_malformed += 1,
                    DiscardReason::Unexpected => c.replies_unexpected += 1,
                    DiscardReason::IdentificationMismatch => {
                        c.replies_identification_mismatch += 1;
                    }
                    DiscardReason::WrongMobileNode => c.replies_wrong_mobile_node += 1,
                    DiscardReason::Authentication => c.replies_failed_authentication += 1,
                    DiscardReason::UnknownExtension => c.replies_unknown_extension += 1,
                }
                self.events.push_back(Event::ReplyDiscarded { reason });
            }
        }
    }

    /// Timers: call at [`MobileNode::poll_timeout`] (calling earlier or more often is
    /// harmless). In order: agent lifetimes (§2.4.2.1), registration expiry, the choice of
    /// attachment, retransmission (§3.6.3), retries, renewal, solicitations.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        for i in 0..self.ifaces.len() {
            for gone in self.ifaces[i].agents.expire(now) {
                self.counters.agents_lost += 1;
                self.agent_lost(i, gone, MoveReason::AgentLifetimeExpired);
            }
        }
        if let HaBinding::Active(b) = &self.ha_binding {
            if b.expires.is_some_and(|e| e <= now) {
                self.counters.bindings_expired += 1;
                self.events.push_back(Event::BindingExpired {
                    care_of_address: b.care_of,
                });
                self.ha_binding = HaBinding::None;
                if let Some(p) = &mut self.pending {
                    if p.template.kind == RequestKind::Renewal {
                        p.template.kind = RequestKind::Registration;
                    }
                }
            }
        }
        self.reselect(now);

        if let Some(p) = &self.pending {
            if p.next_at <= now {
                if p.wait >= self.max_wait(p.template.lifetime) {
                    self.give_up(now);
                } else {
                    let max = self.max_wait(p.template.lifetime);
                    if let Some(p) = &mut self.pending {
                        p.wait = (p.wait * 2).min(max);
                    }
                    self.transmit_pending(now);
                }
            }
        }
        if let Some(r) = self.retry {
            if r.at <= now {
                self.retry = None;
                if r.kind == RequestKind::Deregistration || !self.admin_down {
                    let kind = self.kind_now(r.kind);
                    self.start_request(now, kind, r.operator);
                }
            }
        }
        if self.pending.is_none() && self.retry.is_none() && !self.admin_down {
            let away = self.current.as_ref().is_some_and(|c| !c.is_home());
            match &self.ha_binding {
                HaBinding::Active(_) if self.renewal_due().is_some_and(|r| r <= now) => {
                    let kind = self.kind_now(RequestKind::Renewal);
                    self.start_request(now, kind, false);
                }
                HaBinding::None | HaBinding::Unknown if away => {
                    self.start_request(now, RequestKind::Registration, false);
                }
                _ => {}
            }
        }
        self.send_solicitations(now);
    }

    /// Operator: register now (`force_register`): lifts an administrative deregistration,
    /// forgets back-offs and sends a registration (or, at home, a deregistration) at once.
    pub fn force_register(&mut self, now: SystemTime) {
        self.admin_down = false;
        self.retry = None;
        self.denials_in_a_row = 0;
        self.resyncs_in_a_row = 0;
        self.adapt = Adaptation::default();
        self.reselect(now);
        if self.pending.is_some() {
            return;
        }
        match &self.current {
            Some(Attachment::Home { .. }) => {
                self.start_request(now, RequestKind::Deregistration, false);
            }
            Some(_) => {
                let kind = self.kind_now(RequestKind::Registration);
                self.start_request(now, kind, false);
            }
            None => {
                for f in self.ifaces.iter_mut().filter(|f| f.up) {
                    if self.cfg.solicitation.enabled {
                        f.solicitor.start(now, false);
                    }
                }
                self.send_solicitations(now);
            }
        }
    }

    /// Operator: deregister (lifetime 0) and stay unregistered until
    /// [`MobileNode::force_register`]. Away from home the care-of address in use is
    /// deregistered through the same path (RFC 5944 §3.6.1.2); once accepted the node is
    /// [`DataPlaneRequest::Detached`].
    pub fn deregister(&mut self, now: SystemTime) {
        self.admin_down = true;
        self.retry = None;
        let registered = !matches!(self.ha_binding, HaBinding::None) || self.pending.is_some();
        if self.current.is_some() && registered {
            self.start_request(now, RequestKind::Deregistration, true);
        } else {
            self.pending = None;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Views

    /// The state shown to the operator.
    #[must_use]
    pub fn state(&self) -> NodeState {
        if let Some(p) = &self.pending {
            return match p.template.kind {
                RequestKind::Registration => NodeState::Registering,
                RequestKind::Renewal => NodeState::Renewing,
                RequestKind::Deregistration => NodeState::Deregistering,
            };
        }
        match &self.current {
            Some(Attachment::Home { .. }) => NodeState::AtHome,
            _ if self.admin_down => NodeState::AdministrativelyDown,
            None if self.ifaces.iter().any(|f| f.up) => NodeState::Discovering,
            None => NodeState::Idle,
            Some(c) => match (&self.retry, &self.ha_binding) {
                (Some(r), _) if r.reason == RetryReason::Denied => NodeState::Denied,
                (Some(_), _) => NodeState::NoReply,
                (None, HaBinding::Active(b)) if b.attachment.same_place(c) => NodeState::Registered,
                _ => NodeState::Registering,
            },
        }
    }

    /// Everything `show ip mobile node` shows, at `now`.
    #[must_use]
    pub fn snapshot(&self, now: SystemTime) -> Snapshot {
        let binding = match &self.ha_binding {
            HaBinding::Active(b) => Some(b),
            _ => None,
        };
        let current_agent = match &self.current {
            Some(Attachment::Foreign { agent, iface, .. }) => Some((*iface, *agent)),
            _ => None,
        };
        let care_of = match &self.current {
            Some(Attachment::Foreign { care_of, .. }) => Some(*care_of),
            Some(Attachment::Colocated { address, .. }) => Some(*address),
            Some(Attachment::Home { .. }) => Some(self.home_address),
            None => binding.map(|b| b.care_of),
        };
        let agents = self
            .ifaces
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                f.agents.iter().map(move |a| AgentSnapshot {
                    interface: f.name.clone(),
                    address: a.address,
                    flags: advertisement_flags_text(&a.flags),
                    sequence: a.sequence,
                    advertisement_lifetime: a.advertisement_lifetime,
                    expires_in_secs: ceil_secs(until(a.expires, now)),
                    last_heard_secs_ago: now
                        .duration_since(a.last_heard)
                        .unwrap_or(Duration::ZERO)
                        .as_secs(),
                    registration_lifetime: a.registration_lifetime,
                    care_of_addresses: a.care_of_addresses.clone(),
                    prefixes: a
                        .routers
                        .iter()
                        .map(|(r, l)| match l {
                            Some(l) => format!("{r}/{l}"),
                            None => r.to_string(),
                        })
                        .collect(),
                    current: current_agent == Some((i, a.address)),
                })
            })
            .collect();
        Snapshot {
            state: self.state(),
            home_address: self.home_address,
            home_agent: self.cfg.home_agent,
            nai: self.cfg.nai.clone(),
            interface: self
                .current
                .as_ref()
                .map(|c| self.ifaces[c.iface()].name.clone()),
            attachment: self.current.as_ref().map(Attachment::kind),
            foreign_agent: current_agent.map(|(_, a)| a),
            care_of_address: care_of,
            flags: binding.map(|b| b.flags.to_string()),
            lifetime_requested: self
                .pending
                .as_ref()
                .map(|p| p.template.lifetime)
                .or(binding.map(|b| b.requested)),
            lifetime_granted: binding.map(|b| b.granted),
            lifetime_remaining_secs: binding
                .and_then(|b| b.expires.map(|e| until(e, now).as_secs())),
            renewal_in_secs: binding.and_then(|b| b.renew_at.map(|r| until(r, now).as_secs())),
            last_reply_code: self.last_reply.map(u8::from),
            last_reply_name: self.last_reply.map(|c| c.name().to_owned()),
            retransmissions: self
                .pending
                .as_ref()
                .map_or(0, |p| p.transmissions.saturating_sub(1)),
            clock_offset_secs: self.clock_offset.as_secs_f64(),
            counters: self.counters,
            agents,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Discovery and move detection

    fn iface_index(&self, name: &str) -> Option<usize> {
        self.ifaces.iter().position(|f| f.name == name)
    }

    fn agent_lost(&mut self, i: usize, agent: Ipv4Addr, reason: MoveReason) {
        let name = self.ifaces[i].name.clone();
        self.events.push_back(Event::AgentLost {
            interface: name.clone(),
            agent,
        });
        if matches!(&self.current, Some(Attachment::Foreign { iface, agent: a, .. }) if *iface == i && *a == agent)
        {
            self.events.push_back(Event::MovementDetected {
                interface: name,
                reason,
            });
        }
    }

    /// RFC 5944 §2.4.2.2: an advertisement from another agent on the current link whose
    /// prefixes share none with the current care-of address's means the node moved — only when
    /// both prefixes are known (Prefix-Lengths extensions on both advertisements; for a
    /// co-located address, its own prefix).
    fn network_prefix_check(&mut self, i: usize, source: Ipv4Addr) {
        let f = &self.ifaces[i];
        let Some(new) = f.agents.get(source) else {
            return;
        };
        match &self.current {
            Some(Attachment::Foreign { iface, agent, .. }) if *iface == i && *agent != source => {
                let Some(cur) = f.agents.get(*agent) else {
                    return;
                };
                if !new.superseded && cur.prefixes_differ(new) {
                    let agent = *agent;
                    if let Some(cur) = self.ifaces[i].agents.get_mut(agent) {
                        cur.superseded = true;
                    }
                    self.events.push_back(Event::MovementDetected {
                        interface: self.ifaces[i].name.clone(),
                        reason: MoveReason::NetworkPrefix,
                    });
                }
            }
            Some(Attachment::Colocated { iface, address, .. }) if *iface == i => {
                let address = *address;
                let differs = new.has_prefix_lengths
                    && new.prefixes().next().is_some()
                    && !new.prefix_contains(address);
                if differs && !f.address_invalid {
                    self.ifaces[i].address_invalid = true;
                    // Agents of the address's prefix belong to the link the node left.
                    let old_link: Vec<Ipv4Addr> = self.ifaces[i]
                        .agents
                        .iter()
                        .filter(|a| a.prefix_contains(address))
                        .map(|a| a.address)
                        .collect();
                    for agent in old_link {
                        if let Some(a) = self.ifaces[i].agents.get_mut(agent) {
                            a.superseded = true;
                        }
                    }
                    let interface = self.ifaces[i].name.clone();
                    self.events.push_back(Event::MovementDetected {
                        interface: interface.clone(),
                        reason: MoveReason::NetworkPrefix,
                    });
                    self.events
                        .push_back(Event::ColocatedAddressInvalid { interface, address });
                }
            }
            _ => {}
        }
    }

    /// On the home network: an address in the home network on the link, or an advertisement
    /// with H from the home agent or from the home network.
    fn is_home_link(&self, i: usize) -> bool {
        let f = &self.ifaces[i];
        let home_net = &self.cfg.home_network;
        let ha = self.cfg.home_agent;
        f.address.is_some_and(|a| home_net.contains(a.address))
            || f.agents.iter().any(|a| {
                a.flags.home_agent
                    && (a.address == ha
                        || a.routers.iter().any(|(r, _)| *r == ha)
                        || home_net.contains(a.address))
            })
    }

    /// The co-located care-of address usable on interface `i`, if any.
    fn usable_colocated(&self, i: usize) -> Option<ColocatedAddress> {
        let f = &self.ifaces[i];
        if f.address_invalid {
            return None;
        }
        let a = match &self.cfg.colocated {
            ColocatedMode::Off => return None,
            ColocatedMode::Dynamic => f.address?,
            ColocatedMode::Static {
                address, gateway, ..
            } => {
                if self.static_iface != Some(i) {
                    return None;
                }
                ColocatedAddress::new(address.address(), address.len(), *gateway)
            }
        };
        (!self.cfg.home_network.contains(a.address) && !a.address.is_unspecified()).then_some(a)
    }

    /// The foreign agent to register through on interface `i`: one offering a care-of address
    /// and not busy (busy only matters for a new registration, RFC 5944 §2.1.1). Ranked: not
    /// left by the prefix method, heard since the last link change, the current one, first
    /// heard.
    fn best_foreign_agent(&self, i: usize) -> Option<&Agent> {
        let current = match &self.current {
            Some(Attachment::Foreign { iface, agent, .. }) if *iface == i => Some(*agent),
            _ => None,
        };
        self.ifaces[i]
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.offers_care_of() && (!a.flags.busy || Some(a.address) == current))
            .min_by_key(|(n, a)| (a.superseded, a.stale, Some(a.address) != current, *n))
            .map(|(_, a)| a)
    }

    /// The point of attachment to use: the first interface (in configuration order) that is up
    /// and offers one. Home first; then a co-located address unless an agent there sets R
    /// (RFC 5944 §2.1.1: registration through the foreign agent required, even with a
    /// co-located care-of address); then a foreign agent.
    fn choose(&self) -> Option<Attachment> {
        for (i, f) in self.ifaces.iter().enumerate() {
            if !f.up {
                continue;
            }
            if self.is_home_link(i) {
                return Some(Attachment::Home { iface: i });
            }
            let registration_required = f
                .agents
                .iter()
                .any(|a| a.flags.registration_required && a.flags.foreign_agent);
            if !registration_required {
                if let Some(c) = self.usable_colocated(i) {
                    return Some(Attachment::Colocated {
                        iface: i,
                        address: c.address,
                        gateway: c.gateway,
                    });
                }
            }
            if let Some(a) = self.best_foreign_agent(i) {
                let care_of = match &self.current {
                    Some(Attachment::Foreign {
                        iface,
                        agent,
                        care_of,
                    }) if *iface == i
                        && *agent == a.address
                        && a.care_of_addresses.contains(care_of) =>
                    {
                        *care_of
                    }
                    _ => a.care_of_addresses[0],
                };
                return Some(Attachment::Foreign {
                    iface: i,
                    agent: a.address,
                    care_of,
                });
            }
        }
        None
    }

    /// Re-evaluates the point of attachment and acts on a change.
    fn reselect(&mut self, now: SystemTime) {
        let new = self.choose();
        let same = match (&self.current, &new) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_place(b),
            _ => false,
        };
        if same {
            self.current = new;
            return;
        }
        let old = std::mem::replace(&mut self.current, new.clone());
        self.pending = None;
        self.retry = None;
        self.adapt = Adaptation::default();
        self.resyncs_in_a_row = 0;
        self.denials_in_a_row = 0;
        if old.is_some() && new.is_some() {
            self.counters.moves += 1;
        }
        match new {
            None => {
                if self.last_dataplane.is_some() {
                    self.emit_dataplane(DataPlaneRequest::Detached);
                }
                self.events.push_back(Event::Detached);
                // RFC 5944 §2.4: after being registered, search again at the initial rate.
                if self.cfg.solicitation.enabled {
                    for f in self.ifaces.iter_mut().filter(|f| f.up) {
                        f.solicitor.start(now, false);
                    }
                }
            }
            Some(Attachment::Home { iface }) => {
                let interface = self.ifaces[iface].name.clone();
                // RFC 5944 §4.6: back home, the node announces its own link-layer address for
                // the home address (gratuitous ARP) — also at start, when a binding may exist.
                let gratuitous_arp = old.is_some() || !matches!(self.ha_binding, HaBinding::None);
                self.emit_dataplane(DataPlaneRequest::AtHome {
                    interface: interface.clone(),
                    home_address: self.home_address,
                    gratuitous_arp,
                });
                self.events.push_back(Event::ReturnedHome { interface });
                self.ifaces[iface].solicitor.stop();
                // RFC 5944 §2.4.3 (returning home): deregister.
                if !matches!(self.ha_binding, HaBinding::None) {
                    self.start_request(now, RequestKind::Deregistration, false);
                }
            }
            Some(away) => {
                let (foreign_agent, care_of_address, colocated) = match &away {
                    Attachment::Foreign { agent, care_of, .. } => (Some(*agent), *care_of, false),
                    Attachment::Colocated { address, .. } => (None, *address, true),
                    Attachment::Home { .. } => (None, self.home_address, false),
                };
                self.events.push_back(Event::Attached {
                    interface: self.ifaces[away.iface()].name.clone(),
                    foreign_agent,
                    care_of_address,
                    colocated,
                });
                if !self.admin_down {
                    self.start_request(now, RequestKind::Registration, false);
                }
            }
        }
    }

    fn send_solicitations(&mut self, now: SystemTime) {
        if !self.cfg.solicitation.enabled {
            return;
        }
        let scfg = self.cfg.solicitation;
        for i in 0..self.ifaces.len() {
            if !self.ifaces[i].up || !self.ifaces[i].solicitor.due(now) {
                continue;
            }
            self.solicitations.push_back(Solicitation {
                interface: self.ifaces[i].name.clone(),
                destination: scfg.destination.address(),
                ttl: 1,
                payload: AgentSolicitation::default().to_bytes(),
            });
            self.counters.solicitations_sent += 1;
            let r = self.random.next_u32();
            self.ifaces[i].solicitor.sent_one(now, &scfg, r);
        }
    }

    fn emit_dataplane(&mut self, req: DataPlaneRequest) {
        if self.last_dataplane.as_ref() != Some(&req) {
            self.last_dataplane = Some(req.clone());
            self.dataplane.push_back(req);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Registration (RFC 5944 §3.6.1)

    /// When the registration must be renewed: nothing in flight or waiting, not
    /// administratively down, attached away from home.
    fn renewal_due(&self) -> Option<SystemTime> {
        let HaBinding::Active(b) = &self.ha_binding else {
            return None;
        };
        let away = self.current.as_ref().is_some_and(|c| !c.is_home());
        (self.pending.is_none() && self.retry.is_none() && !self.admin_down && away)
            .then_some(b.renew_at)
            .flatten()
    }

    /// Registration or renewal, whichever fits the binding and the current attachment.
    fn kind_now(&self, wanted: RequestKind) -> RequestKind {
        match (wanted, &self.ha_binding, &self.current) {
            (RequestKind::Deregistration, _, _) => RequestKind::Deregistration,
            (_, HaBinding::Active(b), Some(c)) if b.attachment.same_place(c) => {
                RequestKind::Renewal
            }
            _ => RequestKind::Registration,
        }
    }

    /// The longest wait between transmissions: the configured maximum, but no more than the
    /// requested lifetime (RFC 5944 §3.6.3).
    fn max_wait(&self, lifetime: u16) -> Duration {
        let r = &self.cfg.retransmission;
        let mut ms = r.max_ms;
        if lifetime != 0 && lifetime != LIFETIME_INFINITE {
            ms = ms.min(u64::from(lifetime) * 1000);
        }
        Duration::from_millis(ms.max(r.initial_ms))
    }

    /// The request for `kind` at attachment `att` (RFC 5944 §3.6.1.1, §3.6.1.2).
    fn template(&self, kind: RequestKind, att: &Attachment) -> Option<Template> {
        let cfg = &self.cfg;
        let want = &cfg.flags;
        let home = self.home_address;
        let ha = SocketAddrV4::new(cfg.home_agent, MIP_UDP_PORT);
        let dereg = kind == RequestKind::Deregistration;
        let cap = |l: u16, agent_cap: Option<u16>| -> u16 {
            let mut l = l;
            if let Some(c) = agent_cap {
                l = l.min(c);
            }
            if let Some(c) = self.adapt.lifetime_cap {
                l = l.min(c);
            }
            l.max(1)
        };
        let want_t =
            (want.reverse_tunnel || self.adapt.reverse_tunnel) && !self.adapt.no_reverse_tunnel;
        let t = match att {
            Attachment::Home { iface } => Template {
                kind: RequestKind::Deregistration,
                attachment: att.clone(),
                interface: self.ifaces[*iface].name.clone(),
                // RFC 5944 §3.6.1.2: back home, Lifetime 0 and Care-of Address = home
                // address (all bindings); no flags.
                flags: RequestFlags::default(),
                lifetime: 0,
                care_of: home,
                source: home,
                destination: ha,
                delivery: Delivery::Routed { gateway: None },
                encapsulating_delivery: false,
            },
            Attachment::Foreign {
                iface,
                agent,
                care_of,
            } => {
                let a = self.ifaces[*iface].agents.get(*agent)?;
                let mut flags = RequestFlags::default();
                if !dereg {
                    flags.s = want.simultaneous_bindings;
                    flags.b = want.broadcast;
                    // Only what the agent advertises (RFC 5944 §3.6.1.1, RFC 3024 §3.1).
                    if !self.adapt.no_encapsulation {
                        if want.gre && a.flags.gre_encapsulation {
                            flags.g = true;
                        } else if want.minimal && a.flags.minimal_encapsulation {
                            flags.m = true;
                        }
                    }
                    flags.t = want_t && a.flags.reverse_tunnelling;
                }
                Template {
                    kind,
                    attachment: att.clone(),
                    interface: self.ifaces[*iface].name.clone(),
                    flags,
                    lifetime: if dereg {
                        0
                    } else {
                        cap(cfg.lifetime, a.lifetime_cap())
                    },
                    care_of: *care_of,
                    source: home,
                    destination: SocketAddrV4::new(*agent, MIP_UDP_PORT),
                    delivery: Delivery::AgentLinkLayer {
                        agent: *agent,
                        link_layer: a.link_layer,
                    },
                    encapsulating_delivery: flags.t && want.encapsulating_delivery,
                }
            }
            Attachment::Colocated {
                iface,
                address,
                gateway,
            } => {
                let mut flags = RequestFlags {
                    d: true,
                    ..RequestFlags::default()
                };
                if !dereg {
                    flags.s = want.simultaneous_bindings;
                    flags.b = want.broadcast;
                    if !self.adapt.no_encapsulation {
                        flags.g = want.gre;
                        flags.m = want.minimal && !want.gre;
                    }
                    flags.t = want_t;
                }
                Template {
                    kind,
                    attachment: att.clone(),
                    interface: self.ifaces[*iface].name.clone(),
                    flags,
                    lifetime: if dereg { 0 } else { cap(cfg.lifetime, None) },
                    care_of: *address,
                    source: *address,
                    destination: ha,
                    delivery: Delivery::Routed { gateway: *gateway },
                    encapsulating_delivery: false,
                }
            }
        };
        Some(t)
    }

    /// Starts a request (cancelling the one in flight) and sends its first transmission.
    fn start_request(&mut self, now: SystemTime, kind: RequestKind, operator: bool) {
        self.retry = None;
        let Some(att) = self.current.clone() else {
            self.pending = None;
            return;
        };
        let Some(template) = self.template(kind, &att) else {
            self.pending = None;
            return;
        };
        self.pending = Some(Pending {
            template,
            sent: Vec::new(),
            transmissions: 0,
            wait: Duration::from_millis(self.cfg.retransmission.initial_ms),
            next_at: now,
            operator,
        });
        self.transmit_pending(now);
    }

    /// A fresh Identification (RFC 5944 §5.7): timestamps strictly increasing, corrected by the
    /// offset learnt from code 133; or the home agent's last nonce and a new random one. Its
    /// low-order 32 bits differ from those of the recent requests (a timestamp is moved on by
    /// 2^-32 s if needed), so a reply matches one request only.
    fn next_id(&mut self, now: SystemTime) -> u64 {
        let timestamps = matches!(self.sa.replay(), ReplayProtection::Timestamp { .. });
        let mut id = if timestamps {
            next_identification(
                ntp::from_system_time(now),
                self.clock_offset,
                self.last_sent_id,
            )
        } else {
            nonce_request_identification(self.ha_nonce, self.random.next_u32())
        };
        let mut guard = 0;
        while self.recent_low.contains(&(id as u32)) && guard < 64 {
            id = if timestamps {
                id.wrapping_add(1)
            } else {
                (id & !0xffff_ffff) | u64::from(self.random.next_u32())
            };
            guard += 1;
        }
        if self.recent_low.len() >= RECENT_IDENTIFICATIONS {
            self.recent_low.pop_front();
        }
        self.recent_low.push_back(id as u32);
        if timestamps {
            self.last_sent_id = Some(id);
        }
        id
    }

    /// The request's bytes: fixed part, NAI (RFC 2794: before the MN-HA extension), MN-HA
    /// authentication (RFC 5944 §3.5.2), then the Encapsulating Delivery Style extension,
    /// which is for the foreign agent and comes after it (RFC 3024 §3.3).
    fn encode(&self, t: &Template, id: u64) -> Option<Vec<u8>> {
        let extensions = self
            .cfg
            .nai
            .as_ref()
            .map(|n| vec![Extension::Nai(n.as_bytes().to_vec())])
            .unwrap_or_default();
        let req = RegistrationRequest {
            flags: t.flags,
            lifetime: t.lifetime,
            home_address: self.home_address,
            home_agent: self.cfg.home_agent,
            care_of_address: t.care_of,
            identification: id,
            extensions,
        };
        let mut buf = req.to_bytes();
        let sa = &self.sa;
        append_auth_extension(&mut buf, AuthKind::MnHa, sa.spi(), AUTHENTICATOR_LEN, |c| {
            sa.authenticator(c)
        })
        .ok()?;
        if t.encapsulating_delivery {
            buf.extend_from_slice(&Extension::EncapsulatingDeliveryStyle.to_bytes());
        }
        Some(buf)
    }

    /// Sends (again) the request in flight, with a new Identification.
    fn transmit_pending(&mut self, now: SystemTime) {
        let Some(template) = self.pending.as_ref().map(|p| p.template.clone()) else {
            return;
        };
        let id = self.next_id(now);
        let Some(payload) = self.encode(&template, id) else {
            self.pending = None;
            return;
        };
        let Some(p) = &mut self.pending else {
            return;
        };
        if p.sent.len() >= SENT_HISTORY {
            p.sent.remove(0);
        }
        p.sent.push((id, now));
        let retransmission = p.transmissions;
        p.transmissions += 1;
        p.next_at = after(now, p.wait);
        self.counters.requests_sent += 1;
        if retransmission > 0 {
            self.counters.retransmissions += 1;
        }
        if template.kind == RequestKind::Deregistration {
            self.counters.deregistrations_sent += 1;
        }
        self.transmits.push_back(Transmit {
            interface: template.interface.clone(),
            source: template.source,
            destination: template.destination,
            delivery: template.delivery.clone(),
            payload,
        });
        self.events.push_back(Event::RequestSent {
            kind: template.kind,
            identification: id,
            care_of_address: template.care_of,
            lifetime: template.lifetime,
            retransmission,
        });
    }

    /// No reply after a wait of the maximum (RFC 5944 §3.6.3): report, and try again after
    /// another maximum wait — except a deregistration at home whose binding cannot exist any
    /// more.
    fn give_up(&mut self, now: SystemTime) {
        let Some(p) = self.pending.take() else {
            return;
        };
        self.counters.no_reply += 1;
        let wait = self.max_wait(p.template.lifetime);
        let binding_alive = match &self.ha_binding {
            HaBinding::Active(b) => b.expires.is_none_or(|e| e > now),
            _ => false,
        };
        let retry = if p.template.kind == RequestKind::Deregistration && !binding_alive {
            self.ha_binding = HaBinding::None;
            None
        } else {
            Some(wait)
        };
        if let Some(w) = retry {
            self.retry = Some(Retry {
                at: after(now, w),
                reason: RetryReason::NoReply,
                kind: p.template.kind,
                operator: p.operator,
            });
        }
        self.events.push_back(Event::NoReply {
            kind: p.template.kind,
            transmissions: p.transmissions,
            retry_in_ms: retry.map(millis),
        });
    }

    // ---------------------------------------------------------------------------------------
    // Replies (RFC 5944 §3.6.2)

    /// RFC 5944 §3.6.2.1: a reply is for this node when it answers a request in flight (low-
    /// order 32 bits of the Identification), names this node, and carries a valid MN-HA
    /// authenticator — except a denial by the foreign agent (codes 64–127), which has none,
    /// from the agent the request went to.
    fn check_reply(
        &self,
        source: SocketAddrV4,
        payload: &[u8],
    ) -> Result<ValidReply, DiscardReason> {
        let p =
            RegistrationReplyPacket::new_checked(payload).map_err(|_| DiscardReason::Malformed)?;
        let mut mn_ha = None;
        let mut nai = None;
        for raw in p.extensions() {
            let raw = raw.map_err(|_| DiscardReason::Malformed)?;
            // RFC 5944 §1.9.
            if !is_skippable(raw.ty) && !is_interpreted(raw.ty) {
                return Err(DiscardReason::UnknownExtension);
            }
            match raw.ty {
                types::MN_HA_AUTH if mn_ha.is_none() => {
                    mn_ha = Some(auth_region(payload, &raw).map_err(|_| DiscardReason::Malformed)?);
                }
                types::MN_NAI if mn_ha.is_none() && nai.is_none() => nai = Some(raw.body),
                _ => {}
            }
        }
        let pending = self.pending.as_ref().ok_or(DiscardReason::Unexpected)?;
        let id = p.identification();
        let &(request_id, sent_at) = pending
            .sent
            .iter()
            .rev()
            .find(|(r, _)| reply_matches_request(*r, id))
            .ok_or(DiscardReason::IdentificationMismatch)?;
        if !self.home_address.is_unspecified() && p.home_address() != self.home_address {
            return Err(DiscardReason::WrongMobileNode);
        }
        if let (Some(ours), Some(theirs)) = (&self.cfg.nai, nai) {
            if ours.as_bytes() != theirs {
                return Err(DiscardReason::WrongMobileNode);
            }
        }
        let code = p.code();
        let authenticated = match mn_ha {
            Some(r) => {
                if r.spi != self.sa.spi() || !self.sa.verify(r.covered, r.authenticator) {
                    return Err(DiscardReason::Authentication);
                }
                true
            }
            None => {
                let from_our_agent = matches!(
                    &pending.template.delivery,
                    Delivery::AgentLinkLayer { agent, .. } if agent == source.ip()
                );
                if !(code.is_from_foreign_agent() && from_our_agent) {
                    return Err(DiscardReason::Authentication);
                }
                false
            }
        };
        Ok(ValidReply {
            code,
            lifetime: p.lifetime(),
            home_address: p.home_address(),
            identification: id,
            request_id,
            sent_at,
            authenticated,
        })
    }

    fn process_reply(&mut self, now: SystemTime, v: ValidReply) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        self.last_reply = Some(v.code);
        let timestamps = matches!(self.sa.replay(), ReplayProtection::Timestamp { .. });
        if v.authenticated && !timestamps {
            // RFC 5944 §5.7.2: the next request carries the nonce of this reply.
            self.ha_nonce = Some(ntp::seconds(v.identification));
        }
        if v.code.is_accepted() {
            self.accepted(now, &pending, &v);
            return;
        }
        if v.code.is_from_foreign_agent() {
            self.counters.denied_by_foreign_agent += 1;
        } else {
            self.counters.denied_by_home_agent += 1;
        }
        let kind = pending.template.kind;
        let flags = pending.template.flags;
        let mut retry_now = false;
        match v.code {
            // RFC 5944 §5.7: resynchronise and try again at once.
            ReplyCode::HaIdentificationMismatch if v.authenticated => {
                self.counters.identification_resyncs += 1;
                if timestamps {
                    if let Some(offset) = ClockOffset::from_rejection(
                        v.request_id,
                        v.identification,
                        ntp::from_system_time(now),
                    ) {
                        self.clock_offset = offset;
                    }
                    // Later identifications count from the home agent's clock; they must
                    // exceed only what the home agent accepted.
                    self.last_sent_id = self.last_accepted_id;
                }
                self.events.push_back(Event::ClockResynchronised {
                    offset_ms: self.clock_offset.as_ntp_units().saturating_mul(1000) >> 32,
                });
                self.resyncs_in_a_row += 1;
                retry_now = self.resyncs_in_a_row <= MAX_RESYNCS_IN_A_ROW;
            }
            // The reply's Lifetime is the most the foreign agent accepts.
            ReplyCode::FaLifetimeTooLong
                if v.lifetime > 0
                    && v.lifetime < pending.template.lifetime
                    && self.adapt.lifetime_cap.is_none() =>
            {
                self.adapt.lifetime_cap = Some(v.lifetime);
                retry_now = true;
            }
            ReplyCode::FaEncapsulationUnavailable | ReplyCode::HaEncapsulationUnavailable
                if (flags.g || flags.m) && !self.adapt.no_encapsulation =>
            {
                self.adapt.no_encapsulation = true;
                retry_now = true;
            }
            ReplyCode::FaReverseTunnelUnavailable | ReplyCode::HaReverseTunnelUnavailable
                if flags.t && !self.adapt.no_reverse_tunnel =>
            {
                self.adapt.no_reverse_tunnel = true;
                retry_now = true;
            }
            ReplyCode::FaReverseTunnelMandatory | ReplyCode::HaReverseTunnelMandatory
                if !flags.t && !self.adapt.reverse_tunnel =>
            {
                self.adapt.reverse_tunnel = true;
                retry_now = true;
            }
            _ => {}
        }
        if retry_now {
            self.events.push_back(Event::Denied {
                kind,
                code: u8::from(v.code),
                name: v.code.name().to_owned(),
                retry_in_ms: 0,
            });
            let kind = self.kind_now(kind);
            self.start_request(now, kind, pending.operator);
            return;
        }
        // Any other denial: wait, doubling from twice the initial retransmission time up to
        // the maximum.
        self.denials_in_a_row = self.denials_in_a_row.saturating_add(1);
        let r = &self.cfg.retransmission;
        let factor = 1u64
            .checked_shl(self.denials_in_a_row.min(40))
            .unwrap_or(u64::MAX);
        let delay = Duration::from_millis(r.initial_ms.saturating_mul(factor).min(r.max_ms));
        self.retry = Some(Retry {
            at: after(now, delay),
            reason: RetryReason::Denied,
            kind,
            operator: pending.operator,
        });
        self.events.push_back(Event::Denied {
            kind,
            code: u8::from(v.code),
            name: v.code.name().to_owned(),
            retry_in_ms: millis(delay),
        });
    }

    /// RFC 5944 §3.6.2.2: accepted. The lifetime counts from when the request was sent.
    fn accepted(&mut self, now: SystemTime, pending: &Pending, v: &ValidReply) {
        self.denials_in_a_row = 0;
        self.resyncs_in_a_row = 0;
        if matches!(self.sa.replay(), ReplayProtection::Timestamp { .. }) {
            self.last_accepted_id = Some(v.request_id);
        }
        let t = &pending.template;
        if t.kind == RequestKind::Deregistration {
            self.ha_binding = HaBinding::None;
            self.counters.deregistrations_accepted += 1;
            self.events.push_back(Event::Deregistered);
            if pending.operator && !t.attachment.is_home() {
                self.emit_dataplane(DataPlaneRequest::Detached);
            }
            return;
        }
        let granted = v.lifetime.min(t.lifetime);
        if granted == 0 {
            // Accepted with no lifetime: no binding; try again later.
            self.ha_binding = HaBinding::None;
            self.retry = Some(Retry {
                at: after(now, self.max_wait(t.lifetime)),
                reason: RetryReason::Denied,
                kind: RequestKind::Registration,
                operator: false,
            });
            return;
        }
        if self.home_address.is_unspecified() && !v.home_address.is_unspecified() {
            // RFC 2794: the home agent assigned the home address.
            self.home_address = v.home_address;
        }
        let (expires, renew_at) = if granted == LIFETIME_INFINITE {
            (None, None)
        } else {
            let life_ms = u64::from(granted) * 1000;
            let renew_ms = life_ms * u64::from(self.cfg.renewal.at_percent) / 100;
            (
                Some(after(v.sent_at, Duration::from_millis(life_ms))),
                Some(after(v.sent_at, Duration::from_millis(renew_ms))),
            )
        };
        self.ha_binding = HaBinding::Active(Binding {
            attachment: t.attachment.clone(),
            care_of: t.care_of,
            flags: t.flags,
            requested: t.lifetime,
            granted,
            expires,
            renew_at,
        });
        self.counters.registrations_accepted += 1;
        self.events.push_back(Event::Registered {
            kind: t.kind,
            care_of_address: t.care_of,
            lifetime: granted,
            code: u8::from(v.code),
        });
        let iface = t.attachment.iface();
        let interface = self.ifaces[iface].name.clone();
        let request = match &t.attachment {
            Attachment::Foreign { agent, care_of, .. } => DataPlaneRequest::UseForeignAgent {
                interface,
                home_address: self.home_address,
                foreign_agent: *agent,
                foreign_agent_link_layer: self.ifaces[iface]
                    .agents
                    .get(*agent)
                    .and_then(|a| a.link_layer),
                care_of_address: *care_of,
                reverse_tunnel: t.flags.t,
                encapsulating_delivery: t.encapsulating_delivery,
            },
            Attachment::Colocated {
                address, gateway, ..
            } => DataPlaneRequest::UseColocated {
                interface,
                home_address: self.home_address,
                care_of_address: *address,
                gateway: *gateway,
                home_agent: self.cfg.home_agent,
                encapsulation: encapsulation_of(t.flags),
                reverse_tunnel: t.flags.t,
            },
            Attachment::Home { .. } => return,
        };
        self.emit_dataplane(request);
        self.ifaces[iface].solicitor.stop();
    }
}

impl core::fmt::Debug for MobileNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MobileNode")
            .field("home_address", &self.home_address)
            .field("home_agent", &self.cfg.home_agent)
            .field("state", &self.state())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}
