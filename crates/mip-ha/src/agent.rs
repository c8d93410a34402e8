//! The home agent state machine: registration processing (seed 002 "ip mobile home-agent",
//! RFC 5944 §3.8), mobility bindings, expiry, operator actions, persistence.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mip_security::{ntp, ReplayProtection, ReplayState, SecurityAssociation};
use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::extension::{
    append_auth_extension, auth_region, is_interpreted, is_skippable, types, AuthKind, Extensions,
    RawExtension,
};
use mip_wire::registration::{RegistrationRequestPacket, RequestFlags};

use crate::addrmap::AddrHasher;
use crate::output::{ArpReason, DataPlaneRequest, Transmit, TunnelEndpoints, TunnelId};
use crate::policy::{nai_key, HaPolicy, HomeLink, Identity, MobileNodeSa, Prepared};
use crate::rejection::{AuthFailure, Rejection};
use crate::session::{parse_session_nvse, SessionNvse};
use crate::snapshot::{flags_text, ident_text, BindingSnapshot, Counters, HostCounters, Violation};
use crate::store::{BindingRecord, MobileNodeKey, StoreOp};
use crate::table::{ip, opt, HostRecord, NewBinding, Table, TunnelRef, NEVER, NIL, NO_INTERFACE};

/// Tunables of the core that are not part of the router's configuration.
#[derive(Clone, Debug)]
pub struct HaOptions {
    /// Keep `show ip mobile host counters` per home address: 21 bytes per mobile node
    /// counted, plus its entry in the home address index (which its bindings share) while it
    /// has no binding. Counted are the mobile nodes a reply was sent for, except that a
    /// request under an NAI is counted only once its MN-HA authenticator is verified (its
    /// Home Address field is not tied to the security association before that).
    pub per_host_counters: bool,
    /// Entries kept in the violation log (oldest dropped first).
    pub violation_log_capacity: usize,
    /// Secret seed of the home agent nonces (RFC 5944 §5.7.2). The daemon must fill it from
    /// the system's random source; nonces are HMAC-MD5(seed, counter). It also keys the hash
    /// of the home address indexes (with a key derived by HMAC-MD5, so that neither use tells
    /// anything about the other): without it, nobody can choose home addresses that collide
    /// in them. The default (zero) seed is for tests.
    pub nonce_seed: [u8; 16],
}

impl Default for HaOptions {
    fn default() -> Self {
        HaOptions {
            per_host_counters: true,
            violation_log_capacity: 1024,
            nonce_seed: [0; 16],
        }
    }
}

/// Which bindings `clear ip mobile binding` removes (seed 000: `{all | ip-address | nai
/// string [session-id string]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindingSelector {
    /// Every binding.
    All,
    /// The bindings of this home address.
    Address(Ipv4Addr),
    /// The bindings of an NAI: of one session, or of all its sessions.
    Nai {
        /// The NAI.
        nai: String,
        /// Only this session.
        session_id: Option<String>,
    },
}

/// What [`HomeAgent::restore`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Bindings rebuilt.
    pub bindings: usize,
    /// Bindings whose lifetime ran out while the daemon was down (dropped, and deleted from
    /// the store).
    pub expired: usize,
    /// Replay states restored.
    pub replay_states: usize,
}

/// An NAI session holding a home address.
#[derive(Clone, Debug)]
struct NaiSession {
    nai: Box<str>,
    session: Box<str>,
    home: u32,
}

#[derive(Default)]
struct Sessions {
    slab: Vec<Option<NaiSession>>,
    free: Vec<u32>,
    by_nai: HashMap<Box<str>, Vec<u32>>,
}

impl Sessions {
    fn find(&self, nai: &str, session: &[u8]) -> Option<u32> {
        self.by_nai
            .get(nai)?
            .iter()
            .copied()
            .find(|&i| self.get(i).is_some_and(|s| s.session.as_bytes() == session))
    }

    fn get(&self, i: u32) -> Option<&NaiSession> {
        self.slab.get(i as usize).and_then(Option::as_ref)
    }

    fn insert(&mut self, nai: &str, session: &str, home: u32) -> u32 {
        let s = NaiSession {
            nai: nai.into(),
            session: session.into(),
            home,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(s);
                i
            }
            None => {
                self.slab.push(Some(s));
                (self.slab.len() - 1) as u32
            }
        };
        self.by_nai.entry(nai.into()).or_default().push(i);
        i
    }

    fn remove(&mut self, i: u32) -> Option<NaiSession> {
        let s = self.slab.get_mut(i as usize)?.take()?;
        if let Some(v) = self.by_nai.get_mut(&s.nai) {
            v.retain(|&x| x != i);
            if v.is_empty() {
                self.by_nai.remove(&s.nai);
            }
        }
        self.free.push(i);
        Some(s)
    }
}

/// Extensions of a request, found in one walk.
#[derive(Default)]
struct Scan<'a> {
    /// Framing broke, an authentication extension is shorter than its SPI, or a session
    /// identifier is malformed.
    malformed: bool,
    unknown_non_skippable: Option<u8>,
    /// NAI before the MN-HA extension.
    nai: Option<&'a [u8]>,
    /// Session identifier before the MN-HA extension.
    session: Option<&'a [u8]>,
    mn_ha: Option<RawExtension<'a>>,
    mn_ha_count: u8,
    /// Another authentication extension precedes the first MN-HA one.
    auth_before_mn_ha: bool,
    fa_ha: Option<RawExtension<'a>>,
    fa_ha_count: u8,
    /// The (first) FA-HA extension comes before the MN-HA extension.
    fa_ha_before_mn_ha: bool,
    cvse_from_mn: bool,
    cvse_from_fa: bool,
}

fn scan(message: &[u8]) -> Scan<'_> {
    let mut s = Scan::default();
    for raw in Extensions::new(message, mip_wire::registration::REQUEST_HEADER_LEN) {
        let Ok(raw) = raw else {
            s.malformed = true;
            break;
        };
        let after_mn_ha = s.mn_ha.is_some();
        match raw.ty {
            types::MN_HA_AUTH => {
                s.mn_ha_count = s.mn_ha_count.saturating_add(1);
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if s.mn_ha.is_none() {
                    s.mn_ha = Some(raw);
                }
            }
            types::FA_HA_AUTH => {
                s.fa_ha_count = s.fa_ha_count.saturating_add(1);
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if s.fa_ha.is_none() {
                    s.fa_ha = Some(raw);
                    s.fa_ha_before_mn_ha = !after_mn_ha;
                }
                if !after_mn_ha {
                    s.auth_before_mn_ha = true;
                }
            }
            types::MN_FA_AUTH | types::GENERALIZED_AUTH => {
                if raw.body.len() < 4 {
                    s.malformed = true;
                }
                if !after_mn_ha {
                    s.auth_before_mn_ha = true;
                }
            }
            // RFC 5944 §3.6.1.3: the home agent ignores what follows the MN-HA extension,
            // except the FA-HA (and MN-FA) authentication extensions.
            types::MN_NAI if !after_mn_ha && s.nai.is_none() => s.nai = Some(raw.body),
            types::NVSE if !after_mn_ha => match parse_session_nvse(raw.body) {
                SessionNvse::Session(v) => {
                    if s.session.is_none() {
                        s.session = Some(v);
                    }
                }
                SessionNvse::Malformed => s.malformed = true,
                SessionNvse::NotSession => {}
            },
            // RFC 3115 §2: no CVSE is understood by this home agent.
            types::CVSE => {
                if after_mn_ha {
                    s.cvse_from_fa = true;
                } else {
                    s.cvse_from_mn = true;
                }
            }
            ty if !is_skippable(ty) && !is_interpreted(ty) && s.unknown_non_skippable.is_none() => {
                s.unknown_non_skippable = Some(ty);
            }
            _ => {}
        }
    }
    s
}

/// The fixed fields of the request being processed.
#[derive(Clone, Copy)]
struct Req {
    flags: u8,
    lifetime: u16,
    home: Ipv4Addr,
    ha: Ipv4Addr,
    coa: Ipv4Addr,
    ident: u64,
    source: SocketAddrV4,
    local: Ipv4Addr,
    dereg: bool,
}

/// How to sign and fill a reply.
struct Reply<'p> {
    code: ReplyCode,
    lifetime: u16,
    home: Ipv4Addr,
    ha_field: Ipv4Addr,
    ident: u64,
    mn: &'p SecurityAssociation,
    fa: Option<&'p SecurityAssociation>,
    nai: Option<&'p [u8]>,
    session: Option<&'p [u8]>,
}

/// The mobile node a request is from, as found before the checks.
#[derive(Clone, Copy)]
struct Sender<'a> {
    identity: Identity<'a>,
    /// The NAI session the request names, when it exists.
    session: Option<u32>,
    /// The first binding of the mobile node's home address (address mobile nodes) or of its
    /// session's address (NAI mobile nodes with a session), if any.
    head: Option<u32>,
}

/// Where a registration is going to be held.
struct Target<'p> {
    home: Ipv4Addr,
    link: &'p HomeLink,
    lifetime_limit: u16,
    care_of_access: Option<&'p crate::policy::Acl>,
    /// Existing NAI session, or the session to create (`NIL` for address mobile nodes).
    session: Option<u32>,
    /// The first binding of `home`, if any.
    head: Option<u32>,
}

/// Why bindings are removed (decides the ARP and counters).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// Deregistration with care-of address = home address: the mobile node is back home.
    ReturnedHome,
    /// Deregistration of a care-of address, or replaced by a new one.
    Deregistered,
    Expired,
    Cleared,
}

/// Gives back the memory of a drained queue after a burst (a restore of a million bindings
/// queues a million data-plane requests).
fn shrink<T>(q: &mut VecDeque<T>) {
    if q.capacity() > 4096 {
        q.shrink_to(64);
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => u64::try_from(d.as_millis()).unwrap_or(u64::MAX - 1),
        Err(_) => 0,
    }
}

/// `t` as ms since the Unix epoch (as [`unix_ms`]) and as an NTP timestamp (as
/// [`ntp::from_system_time`]), from one reading of the duration and without its 128-bit
/// division.
fn unix_ms_and_ntp(t: SystemTime) -> (u64, u64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX - 1);
            // The offset is whole seconds: the fraction is that of the Unix time.
            let secs = d.as_secs().wrapping_add(ntp::NTP_UNIX_OFFSET_SECS) & 0xffff_ffff;
            let fraction = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
            (ms, (secs << 32) | fraction)
        }
        Err(_) => (0, ntp::from_system_time(t)),
    }
}

fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn encap_of(flags: u8) -> Encapsulation {
    if flags & RequestFlags::G != 0 {
        Encapsulation::Gre
    } else if flags & RequestFlags::M != 0 {
        Encapsulation::Minimal
    } else {
        Encapsulation::IpInIp
    }
}

/// A care-of address that cannot end a tunnel.
fn bad_care_of_address(a: Ipv4Addr) -> bool {
    a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback()
}

/// The hash of the home address indexes of a home agent: keyed with a secret derived from the
/// nonce seed.
fn address_hasher(options: &HaOptions) -> AddrHasher {
    let key = mip_security::digest::hmac_md5(&options.nonce_seed, &[b"mip-ha address index"]);
    AddrHasher::new(key)
}

fn replay_to_compact(state: &ReplayState, style: ReplayProtection) -> (u64, u8) {
    match (style, state.last_accepted, state.issued_nonce) {
        (ReplayProtection::Nonce, _, Some(n)) => (u64::from(n), opt::REPLAY_NONCE),
        (_, Some(t), _) => (t, opt::REPLAY_TS),
        (_, None, Some(n)) => (u64::from(n), opt::REPLAY_NONCE),
        _ => (0, 0),
    }
}

fn replay_from_compact(value: u64, options: u8) -> ReplayState {
    if options & opt::REPLAY_TS != 0 {
        ReplayState {
            last_accepted: Some(value),
            issued_nonce: None,
        }
    } else if options & opt::REPLAY_NONCE != 0 {
        ReplayState {
            last_accepted: None,
            issued_nonce: Some(value as u32),
        }
    } else {
        ReplayState::default()
    }
}

/// The home agent core. See the crate documentation for the input/output contract.
pub struct HomeAgent {
    policy: Arc<Prepared>,
    options: HaOptions,
    /// The keyed hash of the address indexes (binding table, policy).
    hasher: AddrHasher,
    /// Addresses this home agent answers for (local addresses, then configured ones).
    addresses: Vec<Ipv4Addr>,
    /// The local addresses given at creation.
    local: Vec<Ipv4Addr>,
    table: Table,
    sessions: Sessions,
    retired_replay: HashMap<MobileNodeKey, ReplayState>,
    interfaces: Vec<String>,
    interface_index: HashMap<String, u16>,
    counters: Counters,
    cleared_counters: Option<Counters>,
    violations: VecDeque<Violation>,
    violations_total: u64,
    nonce_counter: u64,
    store: VecDeque<StoreOp>,
    dataplane: VecDeque<DataPlaneRequest>,
    transmit: VecDeque<Transmit>,
}

impl HomeAgent {
    /// A home agent answering for `local_addresses` (and the policy's own addresses).
    pub fn with_policy(policy: HaPolicy, local_addresses: &[Ipv4Addr]) -> Self {
        Self::with_options(policy, local_addresses, HaOptions::default())
    }

    /// Same, with tunables.
    pub fn with_options(
        policy: HaPolicy,
        local_addresses: &[Ipv4Addr],
        options: HaOptions,
    ) -> Self {
        let hasher = address_hasher(&options);
        let mut ha = HomeAgent {
            policy: Arc::new(Prepared::with_hasher(HaPolicy::default(), hasher.clone())),
            options,
            hasher: hasher.clone(),
            addresses: Vec::new(),
            local: Vec::new(),
            table: Table::with_hasher(hasher),
            sessions: Sessions::default(),
            retired_replay: HashMap::new(),
            interfaces: Vec::new(),
            interface_index: HashMap::new(),
            counters: Counters::default(),
            cleared_counters: None,
            violations: VecDeque::new(),
            violations_total: 0,
            nonce_counter: 0,
            store: VecDeque::new(),
            dataplane: VecDeque::new(),
            transmit: VecDeque::new(),
        };
        ha.set_policy(policy, local_addresses.to_vec());
        ha
    }

    fn set_policy(&mut self, policy: HaPolicy, local: Vec<Ipv4Addr>) {
        self.local.clone_from(&local);
        let mut addresses = local;
        for a in &policy.addresses {
            if !addresses.contains(a) {
                addresses.push(*a);
            }
        }
        self.addresses = addresses;
        self.policy = Arc::new(Prepared::with_hasher(policy, self.hasher.clone()));
    }

    /// New configuration (SIGHUP). Bindings are kept with the settings they were granted
    /// (seed 002: "broadcast and lifetime settings for previously registered mobile nodes are
    /// unaffected"); a change of `reverse-tunnel-off` is applied to every tunnel, because
    /// tunnels are shared.
    pub fn reconfigure_policy(&mut self, policy: HaPolicy, local_addresses: &[Ipv4Addr]) {
        let was = self.policy.policy.reverse_tunnel;
        self.set_policy(policy, local_addresses.to_vec());
        let now = self.policy.policy.reverse_tunnel;
        if was != now {
            let ids: Vec<u32> = self.table.tunnel_ids().collect();
            for id in ids {
                self.dataplane
                    .push_back(DataPlaneRequest::SetTunnelReverse {
                        tunnel: TunnelId(id),
                        reverse_allowed: now,
                    });
            }
        }
    }

    /// The local addresses given at creation (or the last reconfiguration).
    pub fn local_addresses(&self) -> &[Ipv4Addr] {
        &self.local
    }

    /// The policy in force.
    pub fn policy(&self) -> &HaPolicy {
        &self.policy.policy
    }

    // ---------------------------------------------------------------------------------------
    // Outputs

    /// Next durable change. Drain this queue first, and make every op durable before sending
    /// any datagram from [`Self::poll_transmit`].
    pub fn poll_store(&mut self) -> Option<StoreOp> {
        let op = self.store.pop_front();
        if op.is_none() {
            shrink(&mut self.store);
        }
        op
    }

    /// Next data-plane change. Drain after the store, before the transmits.
    pub fn poll_dataplane(&mut self) -> Option<DataPlaneRequest> {
        let req = self.dataplane.pop_front();
        if req.is_none() {
            shrink(&mut self.dataplane);
        }
        req
    }

    /// Next datagram to send. Drain last.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmit.pop_front();
        if t.is_none() {
            shrink(&mut self.transmit);
        }
        t
    }

    /// When [`Self::handle_timeout`] must next be called: the earliest binding expiry.
    pub fn poll_timeout(&mut self) -> Option<SystemTime> {
        self.table.next_deadline().map(from_unix_ms)
    }

    /// A time no later than [`Self::poll_timeout`], in O(1) and without touching the timer
    /// heap: the old expiry of a binding renewed since may stand in for the real one. Event
    /// loops that ask after every batch should use this one: calling
    /// [`Self::handle_timeout`] at this time is always correct (it may find nothing due, and
    /// moves the hint on), while settling the exact deadline after every renewal costs a
    /// heap sift-down per renewal under round-robin load.
    pub fn timeout_hint(&self) -> Option<SystemTime> {
        self.table.deadline_hint().map(from_unix_ms)
    }

    /// Removes every binding whose lifetime has run out at `now` (RFC 5944 §3.8.2.2: "After
    /// the expiration of this registration lifetime, the home agent MUST delete its entry").
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let now_ms = unix_ms(now);
        while let Some(slot) = self.table.pop_expired(now_ms) {
            self.counters.bindings_expired += 1;
            self.remove_binding(slot, Cause::Expired);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Operator actions

    /// `clear ip mobile binding {all | addr | nai NAI [session-id ID]}`: removes bindings
    /// without telling the mobile node (seed 002). Returns how many were removed.
    pub fn clear_bindings(&mut self, selector: &BindingSelector) -> usize {
        let victims: Vec<u32> = match selector {
            BindingSelector::All => self.table.iter().collect(),
            BindingSelector::Address(a) => self.table.chain(u32::from(*a)).collect(),
            BindingSelector::Nai { nai, session_id } => {
                let homes: Vec<u32> = match session_id {
                    Some(sid) => self
                        .sessions
                        .find(nai, sid.as_bytes())
                        .and_then(|i| self.sessions.get(i))
                        .map(|s| s.home)
                        .into_iter()
                        .collect(),
                    None => self
                        .sessions
                        .by_nai
                        .get(nai.as_str())
                        .map(|v| {
                            v.iter()
                                .filter_map(|&i| self.sessions.get(i).map(|s| s.home))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                homes
                    .into_iter()
                    .flat_map(|h| self.table.chain(h).collect::<Vec<_>>())
                    .collect()
            }
        };
        for &slot in &victims {
            self.counters.bindings_cleared += 1;
            self.remove_binding(slot, Cause::Cleared);
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

    /// `show ip mobile traffic`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// `show ip mobile host counters` for one home address.
    pub fn host_counters(&self, home: Ipv4Addr) -> Option<HostCounters> {
        self.table
            .host_counters(u32::from(home))
            .map(HostRecord::snapshot)
    }

    /// `show ip mobile host counters`: every home address that has per-host counters (each
    /// one a reply was counted for since start, whether it has bindings now or not), in the
    /// order they were first counted, with the same values as [`Self::host_counters`]. Empty
    /// when [`HaOptions::per_host_counters`] is off.
    pub fn host_counters_iter(&self) -> impl Iterator<Item = (Ipv4Addr, HostCounters)> + '_ {
        self.table
            .host_counters_iter()
            .map(|(home, c)| (ip(home), c))
    }

    /// `show ip mobile violation`: the most recent violations, oldest first.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter()
    }

    /// Violations logged since start (including those dropped from the log).
    pub fn violations_total(&self) -> u64 {
        self.violations_total
    }

    /// Number of bindings.
    pub fn binding_count(&self) -> usize {
        self.table.len()
    }

    /// Number of tunnels.
    pub fn tunnel_count(&self) -> usize {
        self.table.tunnel_count()
    }

    /// Bytes allocated by the binding table (slots, index, timers, tunnels), by capacity.
    pub fn table_heap_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// `show ip mobile binding`: every binding, grouped by mobile node, remaining lifetimes at
    /// `now`.
    pub fn bindings(&self, now: SystemTime) -> Vec<BindingSnapshot> {
        let now_ms = unix_ms(now);
        let mut heads: Vec<u32> = self.table.iter().map(|i| self.table.slot(i).home).collect();
        heads.sort_unstable();
        heads.dedup();
        heads
            .into_iter()
            .flat_map(|h| self.table.chain(h).collect::<Vec<_>>())
            .map(|i| self.snapshot(i, now_ms))
            .collect()
    }

    /// The bindings of one home address.
    pub fn bindings_of(&self, home: Ipv4Addr, now: SystemTime) -> Vec<BindingSnapshot> {
        let now_ms = unix_ms(now);
        self.table
            .chain(u32::from(home))
            .map(|i| self.snapshot(i, now_ms))
            .collect()
    }

    /// The bindings of an NAI (all sessions, or one).
    pub fn bindings_of_nai(
        &self,
        nai: &str,
        session_id: Option<&str>,
        now: SystemTime,
    ) -> Vec<BindingSnapshot> {
        self.bindings(now)
            .into_iter()
            .filter(|b| {
                b.nai.as_deref() == Some(nai)
                    && session_id.is_none_or(|s| b.session_id.as_deref() == Some(s))
            })
            .collect()
    }

    fn snapshot(&self, i: u32, now_ms: u64) -> BindingSnapshot {
        let s = self.table.slot(i);
        let t = *self.table.tunnel(s.tunnel);
        let (nai, session_id) = self.nai_of(s.nai);
        BindingSnapshot {
            home_address: ip(s.home),
            care_of_address: ip(t.dst),
            source: SocketAddrV4::new(ip(s.src_addr), s.src_port),
            home_agent: ip(t.src),
            lifetime_granted: s.lifetime,
            remaining_secs: (s.expiry != NEVER).then(|| s.expiry.saturating_sub(now_ms) / 1000),
            flags: s.flags,
            flags_text: flags_text(s.flags),
            identification: s.ident,
            identification_text: ident_text(s.ident),
            nai,
            session_id,
            tunnel: TunnelId(s.tunnel),
            tunnel_endpoints: TunnelEndpoints {
                source: ip(t.src),
                destination: ip(t.dst),
            },
            encapsulation: Encapsulation::from(t.encap),
            reverse_tunnel: s.options & opt::REVERSE != 0,
            broadcast: s.options & opt::BROADCAST != 0,
            direct_to_mobile_node: s.options & opt::DIRECT != 0,
            interface: self.interface_name(s.iface).map(str::to_owned),
        }
    }

    fn nai_of(&self, session: u32) -> (Option<String>, Option<String>) {
        match self.sessions.get(session) {
            Some(s) => (
                Some(s.nai.to_string()),
                (!s.session.is_empty()).then(|| s.session.to_string()),
            ),
            None => (None, None),
        }
    }

    fn interface_name(&self, i: u16) -> Option<&str> {
        if i == NO_INTERFACE {
            None
        } else {
            self.interfaces.get(usize::from(i)).map(String::as_str)
        }
    }

    fn intern_interface(&mut self, link: &HomeLink) -> u16 {
        let Some(name) = link.interface() else {
            return NO_INTERFACE;
        };
        if let Some(&i) = self.interface_index.get(name) {
            return i;
        }
        let i = self.interfaces.len();
        if i >= usize::from(NO_INTERFACE) {
            return NO_INTERFACE;
        }
        self.interfaces.push(name.to_owned());
        self.interface_index.insert(name.to_owned(), i as u16);
        i as u16
    }

    // ---------------------------------------------------------------------------------------
    // Registration processing

    /// A hint before a batch of [`HomeAgent::handle_request`] calls: reads, for every
    /// request of the batch, the index entries and then the security association and binding
    /// its handling will read, so that the cache misses of the whole batch overlap instead of
    /// stalling each request in turn (at a million mobile nodes those misses are a large part
    /// of a renewal). No effect on results; anything unparsable is skipped.
    pub fn warm<'a>(&self, payloads: impl Iterator<Item = &'a [u8]> + Clone) {
        let home = |p: &[u8]| match p {
            [1, _, _, _, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        };
        for h in payloads.clone().filter_map(home) {
            self.policy.touch_sa_index(h);
            self.table.touch_index(h);
        }
        for h in payloads.filter_map(home) {
            self.policy.touch_sa(h);
            self.table.touch_records(h);
        }
    }

    /// A Registration Request arrived: `payload` is the UDP payload received on port 434 from
    /// `source`, sent to `local`. Outputs are queued (see the crate documentation for the
    /// order in which to drain them).
    pub fn handle_request(
        &mut self,
        now: SystemTime,
        source: SocketAddrV4,
        local: Ipv4Addr,
        payload: &[u8],
    ) {
        let pkt = match RegistrationRequestPacket::new_checked(payload) {
            Ok(p) => p,
            Err(_) => {
                self.counters.register_requests += 1;
                self.ignore(Rejection::Malformed);
                return;
            }
        };
        let req = Req {
            flags: pkt.flags_byte(),
            lifetime: pkt.lifetime(),
            home: pkt.home_address(),
            ha: pkt.home_agent(),
            coa: pkt.care_of_address(),
            ident: pkt.identification(),
            source,
            local,
            // RFC 5944 §3.8.2.2: Lifetime 0, or the home address as care-of address (a mobile
            // node back home); 0.0.0.0 = 0.0.0.0 is an NAI request, not a return home.
            dereg: pkt.lifetime() == 0
                || (pkt.care_of_address() == pkt.home_address()
                    && !pkt.home_address().is_unspecified()),
        };
        if req.dereg {
            self.counters.deregister_requests += 1;
        } else {
            self.counters.register_requests += 1;
        }
        // (1) Seed 002: "the home agent will ignore requests when home agent service is not
        // enabled".
        if !self.policy.policy.enabled {
            self.ignore(Rejection::ServiceDisabled);
            return;
        }
        let policy = Arc::clone(&self.policy);
        self.process(&policy, now, &req, payload);
    }

    fn process(&mut self, policy: &Prepared, now: SystemTime, req: &Req, payload: &[u8]) {
        let (now_ms, ntp_now) = unix_ms_and_ntp(now);
        let ext = scan(payload);

        // (1) Who is it? RFC 2794: with an NAI the home address may be 0.0.0.0.
        let nai_norm = match ext.nai.map(std::str::from_utf8) {
            Some(Ok(nai)) => Some(nai_key(nai)),
            Some(Err(_)) => return self.ignore(Rejection::NoMobileNodeSecurityAssociation),
            None => None,
        };
        let identity = match nai_norm.as_deref() {
            Some(nai) => Identity::Nai(nai),
            None if req.home.is_unspecified() => return self.ignore(Rejection::NoIdentity),
            None => Identity::Address(req.home),
        };
        // Whose per-host counters a denial before the MN-HA authenticator is verified goes
        // to: an address mobile node's, whose home address chose the security association (so
        // it is a configured one). Under an NAI the Home Address field is whatever the sender
        // wrote: nothing per host then (the global counters and the bounded violation log
        // only), or anyone knowing a configured NAI could create records at will.
        let unverified_host = match identity {
            Identity::Address(a) => Some(a),
            Identity::Nai(_) => None,
        };
        // Seed 002: ignored when "the mobile node's security association is not configured
        // ... because the security association must be available for the MH authentication
        // extension in the reply".
        let Some(sas) = policy.mobile_node_sas(identity) else {
            return self.ignore(Rejection::NoMobileNodeSecurityAssociation);
        };
        let Some(default_sa) = sas.first() else {
            return self.ignore(Rejection::NoMobileNodeSecurityAssociation);
        };
        // Seed 002: "If an security association exists for the foreign agent (IP source
        // address or care-of address in request)".
        let fa = policy.foreign_agent(*req.source.ip()).or_else(|| {
            (req.coa != *req.source.ip())
                .then(|| policy.foreign_agent(req.coa))
                .flatten()
        });
        let fa_out = fa.map(|f| &f.outbound);
        let echo = |sa| base_reply(req, sa, fa_out, ext.nai, ext.session);

        // (1) The fixed part parsed, the extensions did not: 134, unauthenticated.
        if ext.malformed {
            let reply = echo(default_sa);
            return self.reject(
                Rejection::PoorlyFormedExtensions,
                req,
                reply,
                None,
                unverified_host,
                now_ms,
            );
        }
        // (1) RFC 5944 §1.9: an unrecognised non-skippable extension: silently discard.
        if let Some(ty) = ext.unknown_non_skippable {
            return self.ignore(Rejection::UnknownNonSkippableExtension(ty));
        }

        // The mobile node's session, first binding and replay state. Only read here (used
        // from step 4 on): looked up before the authenticators are computed, the cache misses
        // of a cold binding table overlap with that work.
        let session_bytes = ext.session.unwrap_or(&[]);
        let session_idx = match identity {
            Identity::Nai(nai) => self.sessions.find(nai, session_bytes),
            Identity::Address(_) => None,
        };
        let replay_key_home = match (identity, session_idx) {
            (Identity::Address(a), _) => Some(u32::from(a)),
            (Identity::Nai(_), Some(i)) => self.sessions.get(i).map(|s| s.home),
            (Identity::Nai(_), None) => None,
        };
        let mn_key = || match identity {
            Identity::Address(a) => MobileNodeKey::Address(a),
            Identity::Nai(nai) => MobileNodeKey::Nai {
                nai: nai.to_owned(),
                session: String::from_utf8_lossy(session_bytes).into_owned(),
            },
        };
        // Found once for the replay state and the validity checks.
        let head = replay_key_home.and_then(|h| self.table.head(h));
        // The state kept in the binding now; a retired one (a map keyed by strings) only for
        // an authenticated request.
        let replay = head.map(|_| self.load_replay(head, &mn_key));

        // (2) FA-HA authentication when an SA with the foreign agent exists (RFC 5944
        // §3.8.2.1 c: exactly one FA-HA extension, covering the MN-HA one).
        if let Some(fa) = fa {
            let failure = match (&ext.fa_ha, ext.fa_ha_count) {
                (None, _) => Some((AuthFailure::MissingExtension, 0)),
                (Some(_), n) if n > 1 => Some((AuthFailure::Other, 0)),
                (Some(raw), _) => match auth_region(payload, raw) {
                    Err(_) => Some((AuthFailure::Other, 0)),
                    Ok(r) if ext.fa_ha_before_mn_ha => Some((AuthFailure::Other, r.spi)),
                    Ok(r) if r.spi != fa.inbound.spi() => Some((AuthFailure::BadSpi, r.spi)),
                    Ok(r) if !fa.inbound.verify(r.covered, r.authenticator) => {
                        Some((AuthFailure::BadAuthenticator, r.spi))
                    }
                    Ok(_) => None,
                },
            };
            if let Some((f, spi)) = failure {
                let reply = echo(default_sa);
                let violator = (fa.address, true, spi);
                return self.reject(
                    Rejection::ForeignAgentAuthentication(f),
                    req,
                    reply,
                    Some(violator),
                    unverified_host,
                    now_ms,
                );
            }
        }

        // (3) MN-HA authentication (RFC 5944 §3.8.2.1 a).
        let mn_ha = match (&ext.mn_ha, ext.mn_ha_count) {
            (None, _) => Err((AuthFailure::MissingExtension, 0, default_sa)),
            (Some(_), n) if n > 1 => Err((AuthFailure::Other, 0, default_sa)),
            (Some(raw), _) => match auth_region(payload, raw) {
                Err(_) => Err((AuthFailure::Other, 0, default_sa)),
                Ok(r) => match sas.by_spi(r.spi) {
                    None => Err((AuthFailure::BadSpi, r.spi, default_sa)),
                    Some(sa) if !sa.inbound.verify(r.covered, r.authenticator) => {
                        Err((AuthFailure::BadAuthenticator, r.spi, sa))
                    }
                    Some(sa) => Ok(sa),
                },
            },
        };
        let sa = match mn_ha {
            Ok(sa) => sa,
            Err((f, spi, sign_with)) => {
                let reply = echo(sign_with);
                let who = match identity {
                    Identity::Address(a) => a,
                    Identity::Nai(_) => req.home,
                };
                return self.reject(
                    Rejection::MobileNodeAuthentication(f),
                    req,
                    reply,
                    Some((who, false, spi)),
                    unverified_host,
                    now_ms,
                );
            }
        };
        // From here on the MN-HA authenticator is verified: the Home Address field is the
        // mobile node's word.
        let host = Some(req.home);
        // The MN-HA extension must be the first authentication extension after the data it
        // covers.
        if ext.auth_before_mn_ha {
            let reply = echo(sa);
            return self.reject(
                Rejection::AuthenticationExtensionOrder,
                req,
                reply,
                None,
                host,
                now_ms,
            );
        }

        // (4) Identification (RFC 5944 §3.8.2.1 b, §5.7).
        let mut state = replay.unwrap_or_else(|| self.load_replay(head, &mn_key));
        let style = sa.inbound.replay();
        let check = style.check_request(&state, req.ident, ntp_now);
        let fresh = match style {
            ReplayProtection::Nonce => self.fresh_nonce(),
            ReplayProtection::Timestamp { .. } => 0,
        };
        let reply_ident =
            style.reply_identification(&mut state, req.ident, check.is_ok(), ntp_now, fresh);
        self.save_replay(head, mn_key(), state, style);
        if let Err(e) = check {
            let mut reply = echo(sa);
            reply.ident = reply_ident;
            let who = match identity {
                Identity::Address(a) => a,
                Identity::Nai(_) => req.home,
            };
            return self.reject(
                Rejection::Identification(e),
                req,
                reply,
                Some((who, false, sa.inbound.spi())),
                host,
                now_ms,
            );
        }
        let mut reply = echo(sa);
        reply.ident = reply_ident;

        // (5) Validity checks (RFC 5944 §3.8.2.1, §3.8.2.3; RFC 3024; seed 002).
        let sender = Sender {
            identity,
            session: session_idx,
            head,
        };
        match self.validate(policy, req, &ext, sender, now_ms) {
            Err((rejection, ha_field)) => {
                if let Some(h) = ha_field {
                    reply.ha_field = h;
                }
                self.reject(rejection, req, reply, None, host, now_ms)
            }
            Ok(outcome) => {
                // (6) Accepted.
                reply.code = outcome.code;
                reply.lifetime = outcome.lifetime;
                reply.home = outcome.home;
                self.count_reply(req, outcome.code);
                if let Some(hc) = self.host_counter(outcome.home) {
                    hc.count_accepted(now_ms);
                }
                self.send_reply(req, &reply);
            }
        }
    }

    /// The replay state of a mobile node: in its first binding (`head`), else retired.
    fn load_replay(&self, head: Option<u32>, key: &dyn Fn() -> MobileNodeKey) -> ReplayState {
        if let Some(head) = head {
            let s = self.table.slot(head);
            return replay_from_compact(s.replay, s.options);
        }
        if self.retired_replay.is_empty() {
            return ReplayState::default();
        }
        self.retired_replay.get(&key()).copied().unwrap_or_default()
    }

    fn save_replay(
        &mut self,
        head: Option<u32>,
        key: MobileNodeKey,
        state: ReplayState,
        style: ReplayProtection,
    ) {
        match head {
            Some(head) => {
                let (value, kind) = replay_to_compact(&state, style);
                let s = self.table.slot_mut(head);
                s.replay = value;
                s.options = (s.options & opt::ROUTING) | kind;
            }
            None => {
                self.retired_replay.insert(key.clone(), state);
            }
        }
        self.store.push_back(StoreOp::PutReplay {
            mobile_node: key,
            state,
        });
    }

    fn fresh_nonce(&mut self) -> u32 {
        loop {
            self.nonce_counter = self.nonce_counter.wrapping_add(1);
            let mac = mip_security::digest::hmac_md5(
                &self.options.nonce_seed,
                &[&self.nonce_counter.to_be_bytes()],
            );
            let n = u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]);
            if n != 0 {
                return n;
            }
        }
    }

    fn is_ours(&self, a: Ipv4Addr) -> bool {
        self.addresses.contains(&a)
    }

    /// The home agent's unicast address for a reply to a request sent to `local`.
    fn own_address(&self, local: Ipv4Addr) -> Ipv4Addr {
        if self.is_ours(local) {
            local
        } else {
            self.addresses.first().copied().unwrap_or(local)
        }
    }

    /// Where the registration would be held, for a request that is not a deregistration of
    /// an unknown session.
    fn resolve_target<'p>(
        &self,
        policy: &'p Prepared,
        req: &Req,
        sender: Sender<'_>,
    ) -> Result<Option<Target<'p>>, Rejection> {
        let head = sender.head;
        match sender.identity {
            Identity::Address(home) => {
                let Some(group) = policy.host_group(home) else {
                    return Err(Rejection::HomeAddressNotServed);
                };
                // An address held by an NAI session belongs to that session.
                if let Some(head) = head {
                    if self.table.slot(head).nai != NIL {
                        return Err(Rejection::HomeAddressNotAllowed);
                    }
                }
                Ok(Some(Target {
                    home,
                    link: &group.home,
                    lifetime_limit: group.lifetime.unwrap_or(policy.policy.lifetime),
                    care_of_access: group.care_of_access.as_ref(),
                    session: None,
                    head,
                }))
            }
            Identity::Nai(nai) => {
                let Some(host) = policy.nai_host(nai) else {
                    return Err(Rejection::HomeAddressNotServed);
                };
                let target = |home: Ipv4Addr, session, head| Target {
                    home,
                    link: &host.home,
                    lifetime_limit: host.lifetime.unwrap_or(policy.policy.lifetime),
                    care_of_access: host.care_of_access.as_ref(),
                    session,
                    head,
                };
                if let Some(i) = sender.session {
                    let home = self.sessions.get(i).map_or(0, |s| s.home);
                    if !req.home.is_unspecified() && u32::from(req.home) != home {
                        return Err(Rejection::HomeAddressNotAllowed);
                    }
                    return Ok(Some(target(ip(home), Some(i), head)));
                }
                if req.dereg {
                    // Nothing registered for this session: accepted, nothing to remove.
                    return Ok(None);
                }
                let free =
                    |a: Ipv4Addr| !a.is_unspecified() && self.table.head(u32::from(a)).is_none();
                let pool = host.pool.as_deref().and_then(|p| policy.pool(p));
                let home = if !req.home.is_unspecified() {
                    // RFC 2794: a non-zero home address is the one the mobile node asks for.
                    let allowed = host.address == Some(req.home)
                        || pool.is_some_and(|p| p.contains(req.home));
                    if !allowed || !free(req.home) {
                        return Err(Rejection::HomeAddressNotAllowed);
                    }
                    req.home
                } else if let Some(a) = host.address.filter(|&a| free(a)) {
                    a
                } else if let Some(p) = pool {
                    match p.addresses().find(|&a| free(a)) {
                        Some(a) => a,
                        None => return Err(Rejection::PoolExhausted),
                    }
                } else {
                    return Err(Rejection::PoolExhausted);
                };
                // A free address: no binding yet.
                Ok(Some(target(home, None, None)))
            }
        }
    }

    fn validate(
        &mut self,
        policy: &Prepared,
        req: &Req,
        ext: &Scan<'_>,
        sender: Sender<'_>,
        now_ms: u64,
    ) -> Result<Outcome, (Rejection, Option<Ipv4Addr>)> {
        let p = &policy.policy;
        // 136: the Home Agent field must be one of ours; the reply carries our address
        // (RFC 5944 §3.8.3.2).
        if !self.is_ours(req.ha) {
            return Err((
                Rejection::UnknownHomeAgentAddress,
                Some(self.own_address(req.local)),
            ));
        }
        // RFC 5944 §3.8.2.3: non-zero reserved bits.
        if p.reject_reserved_flags && req.flags & (RequestFlags::R | RequestFlags::X) != 0 {
            return Err((Rejection::ReservedFlags, None));
        }
        // RFC 3115 §2.
        if ext.cvse_from_mn {
            return Err((Rejection::CvseFromMobileNode, None));
        }
        if ext.cvse_from_fa {
            return Err((Rejection::CvseFromForeignAgent, None));
        }
        let target = self
            .resolve_target(policy, req, sender)
            .map_err(|r| (r, None))?;
        let Some(target) = target else {
            // Deregistration of an NAI session that holds nothing.
            return Ok(Outcome {
                code: ReplyCode::Accepted,
                lifetime: 0,
                home: req.home,
            });
        };
        let home = u32::from(target.home);

        if req.dereg {
            // RFC 5944 §3.8.2.2: care-of address = home address deletes every binding;
            // otherwise only the binding of that care-of address.
            let coa = u32::from(req.coa);
            let victims: Vec<u32> = self
                .table
                .chain_from(target.head)
                .filter(|&i| req.coa == target.home || self.table.coa(i) == coa)
                .collect();
            let cause = if req.coa == target.home {
                Cause::ReturnedHome
            } else {
                Cause::Deregistered
            };
            for slot in victims {
                self.remove_binding(slot, cause);
            }
            return Ok(Outcome {
                code: ReplyCode::Accepted,
                lifetime: 0,
                home: target.home,
            });
        }

        // Seed 002: roam-access (which mobile nodes may roam) and care-of-access (where).
        if let Some(acl) = &p.roam_access {
            if !acl.permits(target.home) {
                return Err((Rejection::RoamAccessDenied, None));
            }
        }
        // The home agent's list and the host group's own list both apply.
        for acl in [p.care_of_access.as_ref(), target.care_of_access]
            .into_iter()
            .flatten()
        {
            if !acl.permits(req.coa) {
                return Err((Rejection::CareOfAccessDenied, None));
            }
        }
        if bad_care_of_address(req.coa) {
            return Err((Rejection::InvalidCareOfAddress, None));
        }
        let flags = RequestFlags::from_byte(req.flags);
        if flags.m && flags.g {
            return Err((Rejection::ConflictingEncapsulation, None));
        }
        if (flags.m && !p.minimal) || (flags.g && !p.gre) {
            return Err((Rejection::EncapsulationUnavailable, None));
        }
        if flags.t && !p.reverse_tunnel {
            return Err((Rejection::ReverseTunnelUnavailable, None));
        }
        if !flags.t && p.reverse_tunnel_mandatory {
            return Err((Rejection::ReverseTunnelMandatory, None));
        }

        // Simultaneous bindings (RFC 5944 §3.8.2.2, §3.8.2.3).
        let coa = u32::from(req.coa);
        let simultaneous = flags.s && p.simultaneous_bindings > 1;
        let (mut existing, mut count) = (None, 0usize);
        for i in self.table.chain_from(target.head) {
            if existing.is_none() && self.table.coa(i) == coa {
                existing = Some(i);
            }
            count += 1;
        }
        if simultaneous && existing.is_none() && count >= usize::from(p.simultaneous_bindings) {
            return Err((Rejection::TooManySimultaneousBindings, None));
        }
        let adds = existing.is_none() && (count == 0 || simultaneous);
        if adds {
            if let Some(max) = p.max_bindings {
                if self.table.len() as u64 >= u64::from(max) {
                    return Err((Rejection::BindingLimit, None));
                }
            }
        }

        // Accept: RFC 5944 §3.8.2.2 "the home agent simply reduces the Lifetime".
        let lifetime = req.lifetime.min(target.lifetime_limit);
        let expiry = if lifetime == u16::MAX {
            NEVER
        } else {
            now_ms.saturating_add(u64::from(lifetime) * 1000)
        };
        let mut options = 0;
        if flags.b && p.broadcast {
            options |= opt::BROADCAST;
        }
        if flags.d {
            options |= opt::DIRECT;
        }
        if flags.t {
            options |= opt::REVERSE;
        }
        let session = match (sender.identity, target.session) {
            (Identity::Nai(nai), None) => {
                let sid = String::from_utf8_lossy(ext.session.unwrap_or(&[])).into_owned();
                self.sessions.insert(nai, &sid, home)
            }
            (_, Some(i)) => i,
            (Identity::Address(_), None) => NIL,
        };
        let iface = self.intern_interface(target.link);
        let nb = NewBinding {
            home,
            coa,
            ha: u32::from(req.ha),
            encap: u8::from(encap_of(req.flags)),
            src_addr: u32::from(*req.source.ip()),
            src_port: req.source.port(),
            lifetime,
            expiry,
            flags: req.flags,
            options,
            ident: req.ident,
            iface,
            nai: session,
        };
        let keep = match existing {
            Some(slot) => {
                self.renew(slot, &nb);
                slot
            }
            None => self.add_binding(&nb),
        };
        // The chain holds `count` bindings besides a new one, `keep` among them when renewed.
        if !simultaneous && count > usize::from(existing.is_some()) {
            // RFC 5944 §3.8.2.2: without S, "the home agent removes all previous entries".
            let others: Vec<u32> = self.table.chain(home).filter(|&i| i != keep).collect();
            for slot in others {
                self.remove_binding(slot, Cause::Deregistered);
            }
        }
        let code = if flags.s && !simultaneous {
            ReplyCode::AcceptedNoSimultaneousBindings
        } else {
            ReplyCode::Accepted
        };
        Ok(Outcome {
            code,
            lifetime,
            home: target.home,
        })
    }

    // ---------------------------------------------------------------------------------------
    // Binding changes and their data-plane requests

    fn tunnel_endpoints(&self, id: u32) -> (TunnelEndpoints, Encapsulation) {
        let t = self.table.tunnel(id);
        (
            TunnelEndpoints {
                source: ip(t.src),
                destination: ip(t.dst),
            },
            Encapsulation::from(t.encap),
        )
    }

    /// The broadcast-forwarding request of a binding (B granted) on home link `iface`.
    fn broadcast_request(
        &self,
        home: u32,
        tunnel: u32,
        options: u8,
        iface: u16,
        enable: bool,
    ) -> DataPlaneRequest {
        DataPlaneRequest::BroadcastForwarding {
            home_address: ip(home),
            tunnel: TunnelId(tunnel),
            enable,
            interface: self.interface_name(iface).map(str::to_owned),
            colocated: options & opt::DIRECT != 0,
        }
    }

    fn emit_route_add(&mut self, home: u32, t: TunnelRef, options: u8, iface: u16) {
        if t.created {
            let (endpoints, encapsulation) = self.tunnel_endpoints(t.id);
            self.dataplane.push_back(DataPlaneRequest::AddTunnel {
                tunnel: TunnelId(t.id),
                endpoints,
                encapsulation,
                reverse_allowed: self.policy.policy.reverse_tunnel,
            });
        }
        self.dataplane.push_back(DataPlaneRequest::AddHostRoute {
            home_address: ip(home),
            tunnel: TunnelId(t.id),
        });
        if options & opt::BROADCAST != 0 {
            let req = self.broadcast_request(home, t.id, options, iface, true);
            self.dataplane.push_back(req);
        }
    }

    fn emit_route_remove(
        &mut self,
        home: u32,
        tunnel: u32,
        options: u8,
        iface: u16,
        released: Option<(TunnelEndpoints, Encapsulation)>,
    ) {
        if options & opt::BROADCAST != 0 {
            let req = self.broadcast_request(home, tunnel, options, iface, false);
            self.dataplane.push_back(req);
        }
        self.dataplane.push_back(DataPlaneRequest::RemoveHostRoute {
            home_address: ip(home),
            tunnel: TunnelId(tunnel),
        });
        if let Some((endpoints, encapsulation)) = released {
            self.dataplane.push_back(DataPlaneRequest::RemoveTunnel {
                tunnel: TunnelId(tunnel),
                endpoints,
                encapsulation,
            });
        }
    }

    fn record(&self, slot: u32) -> BindingRecord {
        let s = self.table.slot(slot);
        let t = self.table.tunnel(s.tunnel);
        let (nai, session_id) = self.nai_of(s.nai);
        BindingRecord {
            home_address: ip(s.home),
            care_of_address: ip(t.dst),
            source: SocketAddrV4::new(ip(s.src_addr), s.src_port),
            home_agent: ip(t.src),
            lifetime_granted: s.lifetime,
            expires_at_ms: s.expiry,
            flags: s.flags,
            options: s.options & opt::ROUTING,
            encapsulation: t.encap,
            identification: s.ident,
            interface: self.interface_name(s.iface).map(str::to_owned),
            nai,
            session_id,
        }
    }

    /// Inserts a binding: store op, then tunnel/route/broadcast, then (first binding of a
    /// mobile node on a physical home link) proxy ARP and gratuitous ARP (seed 002: "a
    /// virtual tunnel is created, a host route to the mobile node via care-of address is added
    /// to the routing table, and gratuitous ARPs are sent out").
    fn add_binding(&mut self, nb: &NewBinding) -> u32 {
        let first = self.table.head(nb.home).is_none();
        let retired = if first {
            self.take_retired_replay(nb.home, nb.nai)
        } else {
            None
        };
        let (slot, tunnel) = self.table.insert(*nb);
        if let Some((value, kind)) = retired {
            let s = self.table.slot_mut(slot);
            s.replay = value;
            s.options |= kind;
        }
        self.store.push_back(StoreOp::PutBinding(self.record(slot)));
        self.emit_route_add(nb.home, tunnel, nb.options, nb.iface);
        if first {
            if let Some(name) = self.interface_name(nb.iface).map(str::to_owned) {
                self.counters.proxy_arps += 1;
                self.counters.gratuitous_arps += 1;
                self.dataplane.push_back(DataPlaneRequest::ProxyArp {
                    address: ip(nb.home),
                    interface: name.clone(),
                    enable: true,
                });
                self.dataplane.push_back(DataPlaneRequest::GratuitousArp {
                    address: ip(nb.home),
                    interface: name,
                    reason: ArpReason::MobileNodeLeft,
                });
            }
        }
        slot
    }

    /// The replay state kept while the mobile node had no binding moves into its new first
    /// binding.
    fn take_retired_replay(&mut self, home: u32, session: u32) -> Option<(u64, u8)> {
        if self.retired_replay.is_empty() {
            return None;
        }
        let key = match self.sessions.get(session) {
            Some(s) => MobileNodeKey::Nai {
                nai: s.nai.to_string(),
                session: s.session.to_string(),
            },
            None => MobileNodeKey::Address(ip(home)),
        };
        let state = self.retired_replay.remove(&key)?;
        let style = if state.issued_nonce.is_some() && state.last_accepted.is_none() {
            ReplayProtection::Nonce
        } else {
            ReplayProtection::default()
        };
        Some(replay_to_compact(&state, style))
    }

    /// Renewal of the binding with the same care-of address: new lifetime, flags and
    /// identification; a new tunnel only if the home agent address or encapsulation changed.
    fn renew(&mut self, slot: u32, nb: &NewBinding) {
        let (old_tunnel, old_options, old_iface) = {
            let s = self.table.slot(slot);
            (s.tunnel, s.options, s.iface)
        };
        let t = *self.table.tunnel(old_tunnel);
        {
            let s = self.table.slot_mut(slot);
            s.src_addr = nb.src_addr;
            s.src_port = nb.src_port;
            s.lifetime = nb.lifetime;
            s.flags = nb.flags;
            s.options = (s.options & !opt::ROUTING) | nb.options;
            s.ident = nb.ident;
        }
        self.table.set_expiry(slot, nb.expiry);
        self.store.push_back(StoreOp::PutBinding(self.record(slot)));
        if t.src != nb.ha || t.encap != nb.encap {
            let old_ends = self.tunnel_endpoints(old_tunnel);
            let (new, old, released) = self.table.retunnel(slot, nb.ha, nb.coa, nb.encap);
            self.emit_route_add(nb.home, new, nb.options, nb.iface);
            self.emit_route_remove(
                nb.home,
                old,
                old_options,
                old_iface,
                released.then_some(old_ends),
            );
        } else if (old_options ^ nb.options) & opt::BROADCAST != 0 {
            let enable = nb.options & opt::BROADCAST != 0;
            let req = self.broadcast_request(nb.home, old_tunnel, nb.options, old_iface, enable);
            self.dataplane.push_back(req);
        }
    }

    /// Removes a binding: store op, broadcast/route/tunnel, then (last binding on a physical
    /// home link) proxy ARP off and, when the mobile node is back home, gratuitous ARP (seed
    /// 002). The NAI session and the replay state outlive nothing but the binding: the
    /// session's address goes back to its pool, the replay state is kept.
    fn remove_binding(&mut self, slot: u32, cause: Cause) {
        let (home, tunnel, options, iface, session, replay, kind) = {
            let s = self.table.slot(slot);
            (
                s.home,
                s.tunnel,
                s.options,
                s.iface,
                s.nai,
                s.replay,
                s.options & (opt::REPLAY_TS | opt::REPLAY_NONCE),
            )
        };
        let coa = self.table.coa(slot);
        let ends = self.tunnel_endpoints(tunnel);
        let was_head = self.table.head(home) == Some(slot);
        let (_, released) = self.table.remove(slot);
        self.store.push_back(StoreOp::DeleteBinding {
            home_address: ip(home),
            care_of_address: ip(coa),
        });
        self.emit_route_remove(home, tunnel, options, iface, released.then_some(ends));
        if self.table.head(home).is_some() {
            return;
        }
        // Last binding of the mobile node.
        if was_head {
            let state = replay_from_compact(replay, kind);
            if state != ReplayState::default() {
                let key = match self.sessions.get(session) {
                    Some(s) => MobileNodeKey::Nai {
                        nai: s.nai.to_string(),
                        session: s.session.to_string(),
                    },
                    None => MobileNodeKey::Address(ip(home)),
                };
                self.retired_replay.insert(key, state);
            }
        }
        if session != NIL {
            self.sessions.remove(session);
        }
        if let Some(name) = self.interface_name(iface).map(str::to_owned) {
            self.dataplane.push_back(DataPlaneRequest::ProxyArp {
                address: ip(home),
                interface: name.clone(),
                enable: false,
            });
            if cause == Cause::ReturnedHome {
                self.counters.gratuitous_arps += 1;
                self.dataplane.push_back(DataPlaneRequest::GratuitousArp {
                    address: ip(home),
                    interface: name,
                    reason: ArpReason::MobileNodeReturned,
                });
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Replies, counters, violations

    fn ignore(&mut self, rejection: Rejection) {
        let d = rejection.disposition();
        self.counters.ignored += 1;
        self.counters.bump(d.counter);
    }

    fn count_reply(&mut self, req: &Req, code: ReplyCode) {
        if req.dereg {
            self.counters.deregister_replied += 1;
        } else {
            self.counters.register_replied += 1;
        }
        match code {
            ReplyCode::Accepted => self.counters.accepted += 1,
            ReplyCode::AcceptedNoSimultaneousBindings => {
                self.counters.no_simultaneous_bindings += 1;
            }
            _ => self.counters.denied += 1,
        }
    }

    /// The per-host counters of `home`, created when missing. Only for a home address that is
    /// the mobile node's word: a configured address mobile node's, or that of a request whose
    /// MN-HA authenticator was verified.
    fn host_counter(&mut self, home: Ipv4Addr) -> Option<&mut HostRecord> {
        if !self.options.per_host_counters || home.is_unspecified() {
            return None;
        }
        Some(self.table.host_counters_mut(u32::from(home)))
    }

    /// Applies the disposition of a rejection: counters (per host under `host`, if any; see
    /// [`Self::host_counter`]), violation log, reply.
    fn reject(
        &mut self,
        rejection: Rejection,
        req: &Req,
        mut reply: Reply<'_>,
        violator: Option<(Ipv4Addr, bool, u32)>,
        host: Option<Ipv4Addr>,
        now_ms: u64,
    ) {
        let d = rejection.disposition();
        let Some(code) = d.code else {
            return self.ignore(rejection);
        };
        self.counters.bump(d.counter);
        self.count_reply(req, code);
        if let Some(hc) = host.and_then(|h| self.host_counter(h)) {
            hc.count_denied(now_ms, u8::from(code), d.violation.is_some());
        }
        if let (Some(reason), Some((address, foreign_agent, spi))) = (d.violation, violator) {
            self.violations_total += 1;
            if self.options.violation_log_capacity > 0 {
                if self.violations.len() >= self.options.violation_log_capacity {
                    self.violations.pop_front();
                }
                self.violations.push_back(Violation {
                    address,
                    nai: reply.nai.map(|n| String::from_utf8_lossy(n).into_owned()),
                    foreign_agent,
                    time_ms: now_ms,
                    spi,
                    identification: req.ident,
                    code: u8::from(code),
                    reason,
                });
            }
        }
        reply.code = code;
        reply.lifetime = 0;
        self.send_reply(req, &reply);
    }

    /// Emits and signs the reply (RFC 5944 §3.8.3): MN-HA with the outbound SA, then FA-HA
    /// when an SA with the foreign agent exists. The NAI and session identifier of the
    /// request are echoed before the MN-HA extension (RFC 2794 §2).
    fn send_reply(&mut self, req: &Req, r: &Reply<'_>) {
        let nai_len = r.nai.map_or(0, |n| 2 + n.len());
        let sid_len = r.session.map_or(0, |s| 10 + s.len());
        let mut buf = Vec::with_capacity(20 + nai_len + sid_len + 22 + 22);
        buf.push(3);
        buf.push(u8::from(r.code));
        buf.extend_from_slice(&r.lifetime.to_be_bytes());
        buf.extend_from_slice(&r.home.octets());
        buf.extend_from_slice(&r.ha_field.octets());
        buf.extend_from_slice(&r.ident.to_be_bytes());
        if let Some(nai) = r.nai {
            buf.push(types::MN_NAI);
            buf.push(nai.len() as u8);
            buf.extend_from_slice(nai);
        }
        if let Some(sid) = r.session {
            buf.push(types::NVSE);
            buf.push((8 + sid.len()) as u8);
            buf.extend_from_slice(&[0, 0]);
            buf.extend_from_slice(&crate::session::SESSION_ID_VENDOR.to_be_bytes());
            buf.extend_from_slice(&crate::session::SESSION_ID_VENDOR_TYPE.to_be_bytes());
            buf.extend_from_slice(sid);
        }
        let signed = append_auth_extension(&mut buf, AuthKind::MnHa, r.mn.spi(), 16, |c| {
            r.mn.authenticator(c)
        });
        if signed.is_err() {
            return;
        }
        if let Some(fa) = r.fa {
            if append_auth_extension(&mut buf, AuthKind::FaHa, fa.spi(), 16, |c| {
                fa.authenticator(c)
            })
            .is_err()
            {
                return;
            }
        }
        let source = self.own_address(req.local);
        self.transmit.push_back(Transmit {
            destination: req.source,
            source,
            payload: buf,
        });
    }

    // ---------------------------------------------------------------------------------------
    // Persistence

    /// Rebuilds the bindings and replay state from the records the daemon made durable (the
    /// latest value per key, or every op in order). Remaining lifetimes follow from the
    /// wall-clock expiry; bindings that expired while the daemon was down are dropped (and a
    /// delete is queued for the store). Data-plane requests are queued again for every
    /// binding, as for a new registration. Meant for a fresh home agent: bindings already in
    /// the table are dropped without data-plane requests.
    pub fn restore<I: IntoIterator<Item = StoreOp>>(
        &mut self,
        records: I,
        now: SystemTime,
    ) -> RestoreReport {
        let now_ms = unix_ms(now);
        let mut order: Vec<(u32, u32)> = Vec::new();
        let mut bindings: HashMap<(u32, u32), BindingRecord> = HashMap::new();
        let mut replay: HashMap<MobileNodeKey, ReplayState> = HashMap::new();
        for op in records {
            match op {
                StoreOp::PutBinding(b) => {
                    let key = (u32::from(b.home_address), u32::from(b.care_of_address));
                    if bindings.insert(key, b).is_none() {
                        order.push(key);
                    }
                }
                StoreOp::DeleteBinding {
                    home_address,
                    care_of_address,
                } => {
                    bindings.remove(&(u32::from(home_address), u32::from(care_of_address)));
                }
                StoreOp::PutReplay { mobile_node, state } => {
                    replay.insert(mobile_node, state);
                }
            }
        }
        self.table.clear();
        self.sessions = Sessions::default();
        self.retired_replay.clear();
        let mut report = RestoreReport::default();
        self.table.reserve(bindings.len());
        for key in order {
            let Some(b) = bindings.remove(&key) else {
                continue;
            };
            if b.expires_at_ms <= now_ms {
                report.expired += 1;
                self.store.push_back(StoreOp::DeleteBinding {
                    home_address: b.home_address,
                    care_of_address: b.care_of_address,
                });
                continue;
            }
            let home = u32::from(b.home_address);
            let session = match &b.nai {
                Some(nai) => {
                    let sid = b.session_id.as_deref().unwrap_or("");
                    match self.sessions.find(nai, sid.as_bytes()) {
                        Some(i) => i,
                        None => self.sessions.insert(nai, sid, home),
                    }
                }
                None => NIL,
            };
            let iface = match &b.interface {
                Some(name) => self.intern_interface(&HomeLink::Interface(name.clone())),
                None => NO_INTERFACE,
            };
            let nb = NewBinding {
                home,
                coa: u32::from(b.care_of_address),
                ha: u32::from(b.home_agent),
                encap: b.encapsulation,
                src_addr: u32::from(*b.source.ip()),
                src_port: b.source.port(),
                lifetime: b.lifetime_granted,
                expiry: b.expires_at_ms,
                flags: b.flags,
                options: b.options & opt::ROUTING,
                ident: b.identification,
                iface,
                nai: session,
            };
            let first = self.table.head(home).is_none();
            let (_, tunnel) = self.table.insert(nb);
            self.emit_route_add(home, tunnel, nb.options, iface);
            if first {
                if let Some(name) = self.interface_name(iface).map(str::to_owned) {
                    self.dataplane.push_back(DataPlaneRequest::ProxyArp {
                        address: ip(home),
                        interface: name.clone(),
                        enable: true,
                    });
                    self.dataplane.push_back(DataPlaneRequest::GratuitousArp {
                        address: ip(home),
                        interface: name,
                        reason: ArpReason::MobileNodeLeft,
                    });
                }
            }
            report.bindings += 1;
        }
        for (key, state) in replay {
            report.replay_states += 1;
            let home = match &key {
                MobileNodeKey::Address(a) => Some(u32::from(*a)),
                MobileNodeKey::Nai { nai, session } => self
                    .sessions
                    .find(nai, session.as_bytes())
                    .and_then(|i| self.sessions.get(i))
                    .map(|s| s.home),
            };
            match home.and_then(|h| self.table.head(h)) {
                Some(head) => {
                    let style = if state.issued_nonce.is_some() && state.last_accepted.is_none() {
                        ReplayProtection::Nonce
                    } else {
                        ReplayProtection::default()
                    };
                    let (value, kind) = replay_to_compact(&state, style);
                    let s = self.table.slot_mut(head);
                    s.replay = value;
                    s.options = (s.options & opt::ROUTING) | kind;
                }
                None => {
                    self.retired_replay.insert(key, state);
                }
            }
        }
        report
    }

    /// The durable form of every binding and replay state now (for a store compaction).
    pub fn records(&self) -> Vec<StoreOp> {
        let mut out: Vec<StoreOp> = self
            .table
            .iter()
            .map(|i| StoreOp::PutBinding(self.record(i)))
            .collect();
        for h in self.table.iter() {
            let s = self.table.slot(h);
            if self.table.head(s.home) != Some(h) {
                continue;
            }
            let state = replay_from_compact(s.replay, s.options);
            if state == ReplayState::default() {
                continue;
            }
            let mobile_node = match self.sessions.get(s.nai) {
                Some(n) => MobileNodeKey::Nai {
                    nai: n.nai.to_string(),
                    session: n.session.to_string(),
                },
                None => MobileNodeKey::Address(ip(s.home)),
            };
            out.push(StoreOp::PutReplay { mobile_node, state });
        }
        for (k, v) in &self.retired_replay {
            out.push(StoreOp::PutReplay {
                mobile_node: k.clone(),
                state: *v,
            });
        }
        out
    }
}

/// A reply echoing the request, signed with `sa` (and `fa`); the code is set later.
fn base_reply<'p>(
    req: &Req,
    sa: &'p MobileNodeSa,
    fa: Option<&'p SecurityAssociation>,
    nai: Option<&'p [u8]>,
    session: Option<&'p [u8]>,
) -> Reply<'p> {
    Reply {
        code: ReplyCode::HaUnspecified,
        lifetime: 0,
        home: req.home,
        ha_field: req.ha,
        ident: req.ident,
        mn: &sa.outbound,
        fa,
        nai,
        session,
    }
}

/// An accepted request.
struct Outcome {
    code: ReplyCode,
    lifetime: u16,
    home: Ipv4Addr,
}
