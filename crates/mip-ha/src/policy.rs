//! What the home agent needs to know from its configuration, in the shape the request path
//! wants it: prepared lookups (host group of an address, host by NAI, mobile node security
//! association by address or NAI and SPI, foreign agent security association by address) and
//! the `ip mobile home-agent` settings.
//!
//! This is the adapter between the configuration model (`mip-config`) and the core: the
//! daemon builds an [`HaPolicy`] from its configuration, and tests build one directly with the
//! builder methods. Nothing here allocates on the request path.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::Ipv4Addr;

use mip_security::SecurityAssociation;

use crate::addrmap::{AddrHasher, AddrMap};
use crate::fxhash::FxHasher;

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Default registration lifetime limit of the home agent, seconds (the router's default for
/// `ip mobile home-agent lifetime`: 10 hours).
pub const DEFAULT_LIFETIME: u16 = 36_000;

/// One line of a standard access list: `permit|deny address wildcard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AclEntry {
    /// `permit` (true) or `deny`.
    pub permit: bool,
    /// The address to compare.
    pub address: Ipv4Addr,
    /// IOS wildcard bits: a set bit is "don't care" (0.0.0.0 = this host only).
    pub wildcard: Ipv4Addr,
}

impl AclEntry {
    /// Whether `addr` matches this line.
    pub fn matches(&self, addr: Ipv4Addr) -> bool {
        let care = !u32::from(self.wildcard);
        u32::from(addr) & care == u32::from(self.address) & care
    }
}

/// A standard access list: first match wins, and an address no line matches is denied
/// (the implicit `deny any` of the router's access lists).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Acl {
    /// Name or number, for logs.
    pub name: String,
    /// Lines in order.
    pub entries: Vec<AclEntry>,
}

impl Acl {
    /// An empty list with a name (denies everything until lines are added).
    pub fn new(name: impl Into<String>) -> Self {
        Acl {
            name: name.into(),
            entries: Vec::new(),
        }
    }

    /// Appends `permit address wildcard`.
    pub fn permit(mut self, address: Ipv4Addr, wildcard: Ipv4Addr) -> Self {
        self.entries.push(AclEntry {
            permit: true,
            address,
            wildcard,
        });
        self
    }

    /// Appends `deny address wildcard`.
    pub fn deny(mut self, address: Ipv4Addr, wildcard: Ipv4Addr) -> Self {
        self.entries.push(AclEntry {
            permit: false,
            address,
            wildcard,
        });
        self
    }

    /// First match wins; no match is a deny.
    pub fn permits(&self, addr: Ipv4Addr) -> bool {
        self.entries
            .iter()
            .find(|e| e.matches(addr))
            .is_some_and(|e| e.permit)
    }
}

/// Where a group of mobile nodes is at home (seed 002, `ip mobile host ... {interface name |
/// virtual-network net mask}`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum HomeLink {
    /// A physical home link: the home agent answers ARP for away mobile nodes (proxy ARP) and
    /// sends gratuitous ARP when they leave and come back (RFC 5944 §4.6).
    Interface(String),
    /// A virtual network: no physical home link, so no ARP at all (seed 002).
    VirtualNetwork {
        /// Network address.
        network: Ipv4Addr,
        /// Mask.
        mask: Ipv4Addr,
    },
}

impl HomeLink {
    /// The interface name of a physical home link.
    pub fn interface(&self) -> Option<&str> {
        match self {
            HomeLink::Interface(name) => Some(name),
            HomeLink::VirtualNetwork { .. } => None,
        }
    }
}

/// `ip mobile host lower [upper] {interface | virtual-network} [care-of-access acl] [lifetime
/// n]`: mobile nodes identified by their home address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HostGroup {
    /// First home address of the group.
    pub lower: Ipv4Addr,
    /// Last home address of the group (= `lower` for one host).
    pub upper: Ipv4Addr,
    /// Home link.
    pub home: HomeLink,
    /// Lifetime limit for this group; `None` uses the home agent's.
    pub lifetime: Option<u16>,
    /// Where this group may register from; `None` uses the home agent's.
    pub care_of_access: Option<Acl>,
}

/// `ip mobile host nai NAI {address addr | pool name} {interface | virtual-network} ...`:
/// a mobile node identified by its NAI (RFC 2794), whose home address the home agent assigns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NaiHost {
    /// The NAI (`user@realm`), compared exactly.
    pub nai: String,
    /// A static home address for this NAI (given to its first session).
    pub address: Option<Ipv4Addr>,
    /// A pool to assign further (or all) sessions from.
    pub pool: Option<String>,
    /// Home link.
    pub home: HomeLink,
    /// Lifetime limit; `None` uses the home agent's.
    pub lifetime: Option<u16>,
    /// Where this host may register from; `None` uses the home agent's.
    pub care_of_access: Option<Acl>,
}

/// `ip local pool name lower upper` (one line per range): addresses the home agent assigns
/// to NAI sessions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddressPool {
    /// Pool name.
    pub name: String,
    /// Ranges (first, last address), in configuration order.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl AddressPool {
    /// A pool of one range.
    pub fn new(name: &str, lower: Ipv4Addr, upper: Ipv4Addr) -> Self {
        AddressPool {
            name: name.to_owned(),
            ranges: vec![(lower, upper)],
        }
    }

    /// Whether `a` is in the pool.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| (u32::from(lo)..=u32::from(hi)).contains(&u32::from(a)))
    }

    /// The pool's addresses in order.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.ranges
            .iter()
            .flat_map(|&(lo, hi)| (u32::from(lo)..=u32::from(hi)).map(Ipv4Addr::from))
    }
}

/// Normalises an NAI for lookups: the realm (after the last `@`) is case-insensitive (RFC
/// 7542 §2.4), the user part is not. Borrows when nothing changes.
pub fn nai_key(nai: &str) -> std::borrow::Cow<'_, str> {
    match nai.rsplit_once('@') {
        Some((user, realm)) if realm.bytes().any(|b| b.is_ascii_uppercase()) => {
            std::borrow::Cow::Owned(format!("{user}@{}", realm.to_ascii_lowercase()))
        }
        _ => std::borrow::Cow::Borrowed(nai),
    }
}

/// Who a mobile node security association belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MobileNodeId {
    /// `ip mobile secure host lower [upper]`.
    Addresses {
        /// First home address.
        lower: Ipv4Addr,
        /// Last home address.
        upper: Ipv4Addr,
    },
    /// `ip mobile secure host nai NAI`.
    Nai(String),
}

/// A security association with a mobile node (`ip mobile secure host ... {spi spi |
/// inbound-spi in outbound-spi out} key ...`): requests are checked with `inbound` (selected by
/// the SPI of their MN-HA extension), replies are signed with `outbound`.
#[derive(Clone, Debug)]
pub struct MobileNodeSa {
    /// Whose it is.
    pub id: MobileNodeId,
    /// Verifies requests (its SPI is the inbound SPI).
    pub inbound: SecurityAssociation,
    /// Signs replies (its SPI is the outbound SPI; the same SA for `spi spi`).
    pub outbound: SecurityAssociation,
}

impl MobileNodeSa {
    /// A symmetric association (`spi spi key ...`).
    pub fn new(id: MobileNodeId, sa: SecurityAssociation) -> Self {
        MobileNodeSa {
            id,
            inbound: sa.clone(),
            outbound: sa,
        }
    }
}

/// A security association with a foreign agent (`ip mobile secure foreign-agent addr ...`).
#[derive(Clone, Debug)]
pub struct ForeignAgentSa {
    /// The foreign agent's address (matched against the request's source address, then its
    /// care-of address; seed 002).
    pub address: Ipv4Addr,
    /// Verifies the FA-HA extension of requests.
    pub inbound: SecurityAssociation,
    /// Signs the FA-HA extension of replies.
    pub outbound: SecurityAssociation,
}

/// Everything the home agent core reads from the configuration.
#[derive(Clone, Debug)]
pub struct HaPolicy {
    /// `ip mobile home-agent` present: when false every request is ignored (seed 002).
    pub enabled: bool,
    /// Home agent addresses besides the local addresses handed to [`crate::HomeAgent::new`]
    /// (e.g. a redundancy group's virtual address).
    pub addresses: Vec<Ipv4Addr>,
    /// `lifetime num`: the longest lifetime granted (a longer request is reduced, RFC 5944
    /// §3.8.2.2).
    pub lifetime: u16,
    /// `broadcast`: broadcast datagrams are forwarded to mobile nodes that set B.
    pub broadcast: bool,
    /// Reverse tunnels offered (`reverse-tunnel-off` clears it; T is then refused with 137).
    pub reverse_tunnel: bool,
    /// Reverse tunnelling mandatory: requests without T are refused with 138 (RFC 3024).
    pub reverse_tunnel_mandatory: bool,
    /// GRE encapsulation offered (G is refused with 139 otherwise).
    pub gre: bool,
    /// Minimal encapsulation offered (M is refused with 139 otherwise; the router does not
    /// offer it).
    pub minimal: bool,
    /// `roam-access acl`: which mobile nodes (home addresses) may roam (129 otherwise).
    pub roam_access: Option<Acl>,
    /// `care-of-access acl`: which care-of addresses may be registered (129 otherwise).
    pub care_of_access: Option<Acl>,
    /// Simultaneous bindings per mobile node; 0 or 1 means unsupported (S answered with
    /// code 1, RFC 5944 §3.8.2.2), more is the limit enforced with 135.
    pub simultaneous_bindings: u8,
    /// Bindings the home agent holds at most (130 beyond).
    pub max_bindings: Option<u32>,
    /// Refuse requests with the reserved r or x flag set (134, RFC 5944 §3.8.2.3 "Requests
    /// with non-zero bits in reserved fields MUST be rejected").
    pub reject_reserved_flags: bool,
    /// Mobile nodes identified by home address.
    pub host_groups: Vec<HostGroup>,
    /// Mobile nodes identified by NAI.
    pub nai_hosts: Vec<NaiHost>,
    /// Address pools for NAI hosts.
    pub pools: Vec<AddressPool>,
    /// Security associations with mobile nodes.
    pub mobile_node_sas: Vec<MobileNodeSa>,
    /// Security associations with foreign agents.
    pub foreign_agent_sas: Vec<ForeignAgentSa>,
}

impl Default for HaPolicy {
    fn default() -> Self {
        HaPolicy {
            enabled: true,
            addresses: Vec::new(),
            lifetime: DEFAULT_LIFETIME,
            broadcast: false,
            reverse_tunnel: true,
            reverse_tunnel_mandatory: false,
            gre: true,
            minimal: false,
            roam_access: None,
            care_of_access: None,
            simultaneous_bindings: 0,
            max_bindings: None,
            reject_reserved_flags: true,
            host_groups: Vec::new(),
            nai_hosts: Vec::new(),
            pools: Vec::new(),
            mobile_node_sas: Vec::new(),
            foreign_agent_sas: Vec::new(),
        }
    }
}

impl HaPolicy {
    /// Adds a host group on an interface.
    pub fn host_group_on_interface(
        mut self,
        lower: Ipv4Addr,
        upper: Ipv4Addr,
        interface: &str,
    ) -> Self {
        self.host_groups.push(HostGroup {
            lower,
            upper,
            home: HomeLink::Interface(interface.to_owned()),
            lifetime: None,
            care_of_access: None,
        });
        self
    }

    /// Adds a host group on a virtual network.
    pub fn host_group_on_virtual_network(
        mut self,
        lower: Ipv4Addr,
        upper: Ipv4Addr,
        network: Ipv4Addr,
        mask: Ipv4Addr,
    ) -> Self {
        self.host_groups.push(HostGroup {
            lower,
            upper,
            home: HomeLink::VirtualNetwork { network, mask },
            lifetime: None,
            care_of_access: None,
        });
        self
    }

    /// Adds a symmetric SA for the mobile nodes `lower..=upper`.
    pub fn mobile_node_sa(
        mut self,
        lower: Ipv4Addr,
        upper: Ipv4Addr,
        sa: SecurityAssociation,
    ) -> Self {
        self.mobile_node_sas.push(MobileNodeSa::new(
            MobileNodeId::Addresses { lower, upper },
            sa,
        ));
        self
    }

    /// Adds a symmetric SA for an NAI.
    pub fn nai_sa(mut self, nai: &str, sa: SecurityAssociation) -> Self {
        self.mobile_node_sas
            .push(MobileNodeSa::new(MobileNodeId::Nai(nai.to_owned()), sa));
        self
    }

    /// Adds a symmetric SA with a foreign agent.
    pub fn foreign_agent_sa(mut self, address: Ipv4Addr, sa: SecurityAssociation) -> Self {
        self.foreign_agent_sas.push(ForeignAgentSa {
            address,
            inbound: sa.clone(),
            outbound: sa,
        });
        self
    }
}

/// The identity a request is checked under: its NAI, or its home address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity<'a> {
    Address(Ipv4Addr),
    Nai(&'a str),
}

/// A mobile node's security associations, found for one identity.
pub(crate) struct MnSas<'p> {
    list: &'p [u32],
    all: &'p [MobileNodeSa],
}

impl<'p> MnSas<'p> {
    /// The association whose inbound SPI is `spi`.
    pub(crate) fn by_spi(&self, spi: u32) -> Option<&'p MobileNodeSa> {
        self.list
            .iter()
            .filter_map(|&i| self.all.get(i as usize))
            .find(|sa| sa.inbound.spi() == spi)
    }

    /// The first association configured (signs replies to requests whose SPI is unknown).
    pub(crate) fn first(&self) -> Option<&'p MobileNodeSa> {
        self.list.first().and_then(|&i| self.all.get(i as usize))
    }
}

#[derive(Clone, Debug)]
struct Range {
    lower: u32,
    upper: u32,
    index: u32,
}

/// Ranges sorted by lower bound, for "which range holds this address" in O(log n) (plus the
/// few overlapping ranges before the match).
#[derive(Clone, Debug, Default)]
struct RangeIndex {
    ranges: Vec<Range>,
    max_span: u32,
}

impl RangeIndex {
    fn build(mut ranges: Vec<Range>) -> Self {
        ranges.sort_by_key(|r| (r.lower, r.index));
        let max_span = ranges
            .iter()
            .map(|r| r.upper.saturating_sub(r.lower))
            .max()
            .unwrap_or(0);
        RangeIndex { ranges, max_span }
    }

    /// The ranges holding `addr`, in configuration order of their lower bound.
    fn find(&self, addr: u32) -> impl Iterator<Item = &Range> + '_ {
        let end = self.ranges.partition_point(|r| r.lower <= addr);
        let floor = addr.saturating_sub(self.max_span);
        let start = self.ranges[..end].partition_point(|r| r.lower < floor);
        self.ranges[start..end]
            .iter()
            .filter(move |r| r.lower <= addr && addr <= r.upper)
    }

    /// The range holding `addr` that was configured first.
    fn first(&self, addr: u32) -> Option<&Range> {
        self.find(addr).min_by_key(|r| r.index)
    }
}

/// `Prepared::sa_by_address` values: the index of the address's only SA, or (with this bit)
/// the index of its list in `Prepared::sa_lists`.
const SA_LIST: u32 = 1 << 31;

/// The policy with its lookup indexes.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) policy: HaPolicy,
    /// Mobile node SAs by single home address: the SA's index when the address has one (the
    /// common case: no second allocation to follow on the request path), else `SA_LIST |` the
    /// index of its list in `sa_lists`.
    sa_by_address: AddrMap<u32>,
    /// The SA lists of addresses with more than one SA, in configuration order.
    sa_lists: Vec<Vec<u32>>,
    /// Mobile node SAs by address range (ranges of more than one address).
    sa_ranges: RangeIndex,
    /// Mobile node SAs by NAI.
    sa_by_nai: HashMap<String, Vec<u32>>,
    host_groups: RangeIndex,
    nai_hosts: HashMap<String, u32>,
    fa_by_address: FxMap<u32, u32>,
    pools: HashMap<String, u32>,
}

impl Prepared {
    /// The indexes of `policy`, the address index hashing with the default (public) key.
    #[cfg(test)]
    pub(crate) fn new(policy: HaPolicy) -> Self {
        Self::with_hasher(policy, AddrHasher::default())
    }

    /// The indexes of `policy`, the address index hashing with `hasher` (a per-instance
    /// secret: the index is looked up with the Home Address field of every request).
    pub(crate) fn with_hasher(policy: HaPolicy, hasher: AddrHasher) -> Self {
        let mut by_address: FxMap<u32, Vec<u32>> = FxMap::default();
        let mut sa_by_nai: HashMap<String, Vec<u32>> = HashMap::new();
        let mut sa_ranges = Vec::new();
        for (i, sa) in policy.mobile_node_sas.iter().enumerate() {
            let index = i as u32;
            match &sa.id {
                MobileNodeId::Addresses { lower, upper } => {
                    let (lo, hi) = (u32::from(*lower), u32::from(*upper));
                    if lo == hi {
                        by_address.entry(lo).or_default().push(index);
                    } else if lo < hi {
                        sa_ranges.push(Range {
                            lower: lo,
                            upper: hi,
                            index,
                        });
                    }
                }
                MobileNodeId::Nai(nai) => sa_by_nai
                    .entry(nai_key(nai).into_owned())
                    .or_default()
                    .push(index),
            }
        }
        let mut sa_by_address: AddrMap<u32> = AddrMap::with_hasher(hasher);
        sa_by_address.reserve(by_address.len());
        let mut sa_lists = Vec::new();
        for (address, list) in by_address {
            let value = match list.as_slice() {
                [one] if one & SA_LIST == 0 => *one,
                _ => {
                    sa_lists.push(list);
                    SA_LIST | (sa_lists.len() - 1) as u32
                }
            };
            sa_by_address.insert(address, value);
        }
        let host_groups = RangeIndex::build(
            policy
                .host_groups
                .iter()
                .enumerate()
                .filter(|(_, g)| u32::from(g.lower) <= u32::from(g.upper))
                .map(|(i, g)| Range {
                    lower: u32::from(g.lower),
                    upper: u32::from(g.upper),
                    index: i as u32,
                })
                .collect(),
        );
        let nai_hosts = policy
            .nai_hosts
            .iter()
            .enumerate()
            .rev()
            .map(|(i, h)| (nai_key(&h.nai).into_owned(), i as u32))
            .collect();
        let fa_by_address = policy
            .foreign_agent_sas
            .iter()
            .enumerate()
            .rev()
            .map(|(i, f)| (u32::from(f.address), i as u32))
            .collect();
        let pools = policy
            .pools
            .iter()
            .enumerate()
            .rev()
            .map(|(i, p)| (p.name.clone(), i as u32))
            .collect();
        Prepared {
            sa_by_address,
            sa_lists,
            sa_ranges: RangeIndex::build(sa_ranges),
            sa_by_nai,
            host_groups,
            nai_hosts,
            fa_by_address,
            pools,
            policy,
        }
    }

    /// First stage of a batch warm-up: the SA index entry of a home address.
    pub(crate) fn touch_sa_index(&self, addr: u32) {
        self.sa_by_address.touch(addr);
    }

    /// Second stage (the index entry is cached by now): the SA of a home address.
    pub(crate) fn touch_sa(&self, addr: u32) {
        if let Some(v) = self.sa_by_address.get(addr) {
            if v & SA_LIST == 0 {
                if let Some(sa) = self.policy.mobile_node_sas.get(*v as usize) {
                    std::hint::black_box(sa.inbound.spi());
                    std::hint::black_box(sa.outbound.spi());
                }
            }
        }
    }

    /// The security associations of a mobile node (an NAI must be given as [`nai_key`]
    /// made it), `None` when it has none.
    pub(crate) fn mobile_node_sas(&self, id: Identity<'_>) -> Option<MnSas<'_>> {
        let list: &[u32] = match id {
            Identity::Nai(nai) => self.sa_by_nai.get(nai).map(Vec::as_slice)?,
            Identity::Address(addr) => {
                let a = u32::from(addr);
                match self.sa_by_address.get(a) {
                    Some(v) if v & SA_LIST == 0 => std::slice::from_ref(v),
                    Some(v) => self.sa_lists.get((v & !SA_LIST) as usize)?,
                    // Ranges: the first range holding the address (configuration order).
                    None => std::slice::from_ref(&self.sa_ranges.first(a)?.index),
                }
            }
        };
        if list.is_empty() {
            return None;
        }
        Some(MnSas {
            list,
            all: &self.policy.mobile_node_sas,
        })
    }

    /// The host group serving a home address (first configured match).
    pub(crate) fn host_group(&self, addr: Ipv4Addr) -> Option<&HostGroup> {
        let i = self.host_groups.first(u32::from(addr))?.index;
        self.policy.host_groups.get(i as usize)
    }

    /// The NAI host entry.
    pub(crate) fn nai_host(&self, nai: &str) -> Option<&NaiHost> {
        let i = *self.nai_hosts.get(nai)?;
        self.policy.nai_hosts.get(i as usize)
    }

    /// The SA with a foreign agent at `addr`.
    pub(crate) fn foreign_agent(&self, addr: Ipv4Addr) -> Option<&ForeignAgentSa> {
        let i = *self.fa_by_address.get(&u32::from(addr))?;
        self.policy.foreign_agent_sas.get(i as usize)
    }

    /// A pool by name.
    pub(crate) fn pool(&self, name: &str) -> Option<&AddressPool> {
        let i = *self.pools.get(name)?;
        self.policy.pools.get(i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn acl_first_match_and_implicit_deny() {
        let acl = Acl::new("1")
            .deny(a("11.0.0.5"), a("0.0.0.0"))
            .permit(a("11.0.0.0"), a("0.255.255.255"));
        assert!(!acl.permits(a("11.0.0.5")));
        assert!(acl.permits(a("11.0.0.6")));
        assert!(!acl.permits(a("12.0.0.1")));
    }

    #[test]
    fn range_lookups() {
        let key = mip_security::Key::from_hex("00112233").unwrap();
        let sa = SecurityAssociation::with_defaults(0x100, key);
        let p = HaPolicy::default()
            .host_group_on_interface(a("10.0.0.1"), a("10.0.0.10"), "eth1")
            .host_group_on_virtual_network(
                a("20.0.0.1"),
                a("20.0.0.3"),
                a("20.0.0.0"),
                a("255.0.0.0"),
            )
            .mobile_node_sa(a("10.0.0.1"), a("10.0.0.10"), sa.clone())
            .mobile_node_sa(a("10.0.0.3"), a("10.0.0.3"), sa);
        let p = Prepared::new(p);
        assert!(p.host_group(a("10.0.0.0")).is_none());
        assert_eq!(
            p.host_group(a("10.0.0.10")).unwrap().home.interface(),
            Some("eth1")
        );
        assert!(p
            .host_group(a("20.0.0.2"))
            .unwrap()
            .home
            .interface()
            .is_none());
        assert!(p.host_group(a("20.0.0.4")).is_none());
        assert!(p
            .mobile_node_sas(Identity::Address(a("10.0.0.5")))
            .is_some());
        assert!(p
            .mobile_node_sas(Identity::Address(a("10.0.0.11")))
            .is_none());
        let sas = p.mobile_node_sas(Identity::Address(a("10.0.0.3"))).unwrap();
        assert!(sas.by_spi(0x100).is_some());
        assert!(sas.by_spi(0x101).is_none());
    }
}
