//! From the home agent's snapshots and the configuration to the `show` views of
//! `mip_control::views`. Pure functions: the loop takes the snapshots, and these run on the
//! control connection's thread. Keys appear only when the request asked for them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use mip_config::{Config, HomeAddress, HomeLocation, KeyFormat, Peer, SaSource, SaTarget};
use mip_control::views::{
    AuthAlgorithm, AuthMode, BindingList, BindingSummary, BindingView, EncapsulationView,
    GlobalsView, HomeLinkView, HostCountersEntry, HostCountersList, HostCountersView,
    HostGroupList, HostGroupView, HostList, HostView, PrefixView, ReplayView, RoutingOption,
    SaOrigin, SaSourceView, SecureList, SecureView, TrafficView, TunnelList, TunnelRefView,
    TunnelView, ViolationList, ViolationView,
};
use mip_control::{PeerKind, SecureTarget};
use mip_ha::{BindingSnapshot, Counters, HostCounters, TunnelId, Violation};
use mip_io::TunnelTraffic;
use mip_security::{Algorithm, ReplayProtection};
use mip_wire::ident::Identification;

fn encapsulation(protocol: u8) -> EncapsulationView {
    EncapsulationView::from_protocol(protocol).unwrap_or(EncapsulationView::IpIp)
}

fn tunnel_name(id: u32) -> String {
    format!("Tunnel{id}")
}

/// One binding.
pub fn binding(b: &BindingSnapshot) -> BindingView {
    let encap = u8::from(b.encapsulation);
    let mut routing_options = Vec::new();
    if b.flags & 0x80 != 0 {
        routing_options.push(RoutingOption::SimultaneousBindings);
    }
    if b.broadcast {
        routing_options.push(RoutingOption::Broadcast);
    }
    if b.direct_to_mobile_node {
        routing_options.push(RoutingOption::DirectToMobileNode);
    }
    match encap {
        55 => routing_options.push(RoutingOption::MinimalEncapsulation),
        47 => routing_options.push(RoutingOption::Gre),
        _ => {}
    }
    if b.reverse_tunnel {
        routing_options.push(RoutingOption::ReverseTunnel);
    }
    BindingView {
        home_address: b.home_address,
        nai: b.nai.clone(),
        session_id: b.session_id.clone(),
        care_of_address: b.care_of_address,
        source_address: *b.source.ip(),
        source_port: b.source.port(),
        home_agent: b.home_agent,
        lifetime_granted: u32::from(b.lifetime_granted),
        remaining_secs: b.remaining_secs,
        flags: b.flags,
        flags_text: b.flags_text.clone(),
        identification: b.identification,
        identification_text: b.identification_text.clone(),
        tunnel: TunnelRefView {
            name: tunnel_name(b.tunnel.0),
            source: b.tunnel_endpoints.source,
            destination: b.tunnel_endpoints.destination,
        },
        reverse_allowed: b.reverse_tunnel,
        routing_options,
        encapsulation: encapsulation(encap),
        interface: b.interface.clone(),
        service_options: Vec::new(),
        mobile_networks: Vec::new(),
        security_associations: Vec::new(),
    }
}

/// `show ip mobile binding [...]`.
pub fn binding_list(bindings: &[BindingSnapshot]) -> BindingList {
    BindingList {
        total: bindings.len() as u64,
        bindings: bindings.iter().map(binding).collect(),
    }
}

/// `show ip mobile binding summary`.
pub fn binding_summary(bindings: &[BindingSnapshot], tunnels: usize) -> BindingSummary {
    let mut homes: Vec<Ipv4Addr> = bindings.iter().map(|b| b.home_address).collect();
    homes.dedup();
    BindingSummary {
        total: bindings.len() as u64,
        mobile_nodes: homes.len() as u64,
        with_nai: bindings.iter().filter(|b| b.nai.is_some()).count() as u64,
        reverse_tunnels: bindings.iter().filter(|b| b.reverse_tunnel).count() as u64,
        tunnels: tunnels as u64,
    }
}

/// `show ip mobile traffic`.
pub fn traffic(c: &Counters) -> TrafficView {
    TrafficView {
        solicitations_received: 0,
        advertisements_sent: 0,
        advertisements_response_to_solicitation: 0,
        register_requests: c.register_requests,
        deregister_requests: c.deregister_requests,
        register_replied: c.register_replied,
        deregister_replied: c.deregister_replied,
        accepted: c.accepted,
        no_simultaneous_bindings: c.no_simultaneous_bindings,
        denied: c.denied,
        ignored: c.ignored,
        unspecified: c.unspecified,
        unknown_ha: c.unknown_ha,
        administratively_prohibited: c.administratively_prohibited,
        no_resource: c.no_resource,
        auth_failed_mn: c.auth_failed_mn,
        auth_failed_fa: c.auth_failed_fa,
        bad_identification: c.bad_identification,
        bad_request_form: c.bad_request_form,
        too_many_bindings: c.too_many_bindings,
        reverse_tunnel_unavailable: c.reverse_tunnel_unavailable,
        reverse_tunnel_mandatory: c.reverse_tunnel_mandatory,
        encapsulation_unavailable: c.encapsulation_unavailable,
        cvse_not_understood: c.cvse_not_understood,
        ignored_service_disabled: c.ignored_service_disabled,
        ignored_malformed: c.ignored_malformed,
        ignored_unknown_extension: c.ignored_unknown_extension,
        ignored_no_security_association: c.ignored_no_security_association,
        gratuitous_arps: c.gratuitous_arps,
        proxy_arps: c.proxy_arps,
        bindings_expired: c.bindings_expired,
        bindings_cleared: c.bindings_cleared,
        foreign_agent: None,
    }
}

/// Per-host counters.
pub fn host_counters(c: Option<&HostCounters>) -> HostCountersView {
    let Some(c) = c else {
        return HostCountersView::default();
    };
    HostCountersView {
        accepted: u64::from(c.accepted),
        last_accepted_ms: (c.last_accepted_ms != 0).then_some(c.last_accepted_ms),
        denied: u64::from(c.denied),
        last_denied_ms: (c.last_denied_ms != 0).then_some(c.last_denied_ms),
        last_code: (c.denied != 0).then_some(c.last_code),
        violations: u64::from(c.violations),
    }
}

fn home_link(l: &HomeLocation) -> HomeLinkView {
    match l {
        HomeLocation::Interface(name) => HomeLinkView::Interface { name: name.clone() },
        HomeLocation::VirtualNetwork(p) => HomeLinkView::VirtualNetwork {
            network: p.network(),
            prefix_len: p.len(),
        },
    }
}

fn sa_source(s: SaSource) -> SaSourceView {
    match s {
        SaSource::Local => SaSourceView::Local,
        SaSource::Aaa => SaSourceView::Aaa,
        SaSource::AaaLoadSa => SaSourceView::AaaLoadSa,
    }
}

/// What the configuration says about one home address: (NAI, lifetime, default?, link).
fn host_config(cfg: &Config, home: Ipv4Addr) -> Option<(Option<String>, u16, bool, HomeLinkView)> {
    if let Some(g) = cfg.host_group_for(home) {
        return Some((
            None,
            cfg.lifetime_for(g),
            g.lifetime.is_none(),
            home_link(&g.location),
        ));
    }
    cfg.nai_hosts
        .iter()
        .find(|h| match &h.address {
            HomeAddress::Static(a) => *a == home,
            HomeAddress::Pool(p) => cfg
                .address_pools
                .get(p)
                .is_some_and(|pool| pool.ranges.iter().any(|r| r.contains(home))),
        })
        .map(|h| {
            (
                Some(h.nai.clone()),
                h.lifetime.unwrap_or(cfg.home_agent.lifetime),
                h.lifetime.is_none(),
                home_link(&h.location),
            )
        })
}

/// Most addresses of configured host groups enumerated for `show ip mobile host` (beyond
/// that, only mobile nodes with a binding or counters are listed).
pub const HOST_ENUMERATION_LIMIT: u64 = 65_536;

/// Home addresses `show ip mobile host` considers: those with bindings, plus every configured
/// host address when the configuration has at most [`HOST_ENUMERATION_LIMIT`] of them.
pub fn host_candidates(cfg: &Config, bound: &[Ipv4Addr]) -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = bound.to_vec();
    let configured: u64 = cfg.host_groups.iter().map(|g| g.range.count()).sum();
    if configured <= HOST_ENUMERATION_LIMIT {
        for g in &cfg.host_groups {
            let (lo, hi) = (u32::from(g.range.lower), u32::from(g.range.upper));
            out.extend((lo..=hi).map(Ipv4Addr::from));
        }
    }
    for h in &cfg.nai_hosts {
        if let HomeAddress::Static(a) = h.address {
            out.push(a);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// One host: (home address, counters, registered).
pub type HostFacts = (Ipv4Addr, Option<HostCounters>, bool);

/// `show ip mobile host [A]`: `only_active` lists only hosts with a binding or counters.
pub fn host_list(cfg: &Config, hosts: &[HostFacts], only_active: bool) -> HostList {
    let mut out = Vec::new();
    for &(home, counters, registered) in hosts {
        if only_active && !registered && counters.is_none() {
            continue;
        }
        let (nai, lifetime, is_default, link) = match host_config(cfg, home) {
            Some(c) => c,
            None if registered => (
                None,
                cfg.home_agent.lifetime,
                true,
                HomeLinkView::Interface {
                    name: String::new(),
                },
            ),
            None => continue,
        };
        out.push(HostView {
            home_address: home,
            nai,
            allowed_lifetime: u32::from(lifetime),
            lifetime_is_default: is_default,
            registered,
            home_link: link,
            counters: host_counters(counters.as_ref()),
        });
    }
    HostList { hosts: out }
}

fn acl_name(id: Option<u16>) -> Option<String> {
    id.map(|n| n.to_string())
}

/// `show ip mobile host group`.
pub fn host_groups(cfg: &Config) -> HostGroupList {
    let mut groups: Vec<HostGroupView> = cfg
        .host_groups
        .iter()
        .map(|g| HostGroupView {
            lower: Some(g.range.lower),
            upper: Some(g.range.upper),
            nai: None,
            pool: None,
            home_link: home_link(&g.location),
            care_of_access: acl_name(g.care_of_access),
            sa_source: sa_source(g.sa_source),
            allowed_lifetime: u32::from(cfg.lifetime_for(g)),
            lifetime_is_default: g.lifetime.is_none(),
        })
        .collect();
    groups.extend(cfg.nai_hosts.iter().map(|h| {
        let (addr, pool) = match &h.address {
            HomeAddress::Static(a) => (Some(*a), None),
            HomeAddress::Pool(p) => (None, Some(p.clone())),
        };
        HostGroupView {
            lower: addr,
            upper: addr,
            nai: Some(h.nai.clone()),
            pool,
            home_link: home_link(&h.location),
            care_of_access: acl_name(h.care_of_access),
            sa_source: sa_source(h.sa_source),
            allowed_lifetime: u32::from(h.lifetime.unwrap_or(cfg.home_agent.lifetime)),
            lifetime_is_default: h.lifetime.is_none(),
        }
    }));
    HostGroupList { groups }
}

/// `show ip mobile host counters [A]`.
pub fn host_counters_list(hosts: &[(Ipv4Addr, Option<HostCounters>)]) -> HostCountersList {
    HostCountersList {
        hosts: hosts
            .iter()
            .map(|(home, c)| HostCountersEntry {
                home_address: *home,
                counters: host_counters(c.as_ref()),
            })
            .collect(),
    }
}

fn peer_of(p: PeerKind) -> Peer {
    match p {
        PeerKind::Host => Peer::Host,
        PeerKind::Visitor => Peer::Visitor,
        PeerKind::ForeignAgent => Peer::ForeignAgent,
        PeerKind::HomeAgent => Peer::HomeAgent,
    }
}

/// `show ip mobile secure KIND [A | nai NAI]`. Keys only with `show_keys`.
pub fn secure_list(
    cfg: &Config,
    peer: PeerKind,
    target: &SecureTarget,
    show_keys: bool,
) -> SecureList {
    let want = peer_of(peer);
    let associations: Vec<SecureView> = cfg
        .security_associations
        .iter()
        .filter(|sa| sa.peer() == want)
        .filter(|sa| match (target, sa.target()) {
            (SecureTarget::All, _) => true,
            (SecureTarget::Address { address }, SaTarget::Range(r)) => r.contains(*address),
            (SecureTarget::Nai { nai }, SaTarget::Nai(n)) => mip_config::nai_eq(nai, n),
            _ => false,
        })
        .map(|sa| {
            let p = sa.params();
            let (address, upper, nai) = match sa.target() {
                SaTarget::Range(r) => {
                    (Some(r.lower), (r.upper != r.lower).then_some(r.upper), None)
                }
                SaTarget::Nai(n) => (None, None, Some(n.clone())),
            };
            let key = show_keys.then(|| p.key.expose_hex().to_string());
            let key_ascii = (show_keys && p.key_format == KeyFormat::Ascii)
                .then(|| String::from_utf8_lossy(p.key.expose_secret()).into_owned());
            SecureView {
                peer,
                address,
                upper,
                nai,
                inbound_spi: sa.inbound_spi(),
                outbound_spi: sa.outbound_spi(),
                algorithm: match sa.algorithm() {
                    Algorithm::KeyedMd5PrefixSuffix => AuthAlgorithm::Md5,
                    Algorithm::HmacMd5 => AuthAlgorithm::HmacMd5,
                },
                mode: AuthMode::PrefixSuffix,
                replay: match sa.replay() {
                    ReplayProtection::Timestamp { window_secs } => {
                        ReplayView::Timestamp { window_secs }
                    }
                    ReplayProtection::Nonce => ReplayView::Nonce,
                },
                origin: SaOrigin::Configured,
                key_len: p.key.len(),
                key,
                key_ascii,
            }
        })
        .collect();
    SecureList {
        peer,
        total: associations.len() as u64,
        associations,
    }
}

/// One violation.
pub fn violation(v: &Violation) -> ViolationView {
    ViolationView {
        address: v.address,
        nai: v.nai.clone(),
        foreign_agent: v.foreign_agent,
        home_agent: false,
        time_ms: v.time_ms,
        spi: v.spi,
        identification: v.identification,
        identification_text: Identification(v.identification).to_string(),
        code: v.code,
        reason: v.reason.into(),
    }
}

/// `show ip mobile violation`.
pub fn violation_list(total: u64, log: &[Violation]) -> ViolationList {
    ViolationList {
        total,
        violations: log.iter().map(violation).collect(),
    }
}

/// `show ip mobile globals`.
pub fn globals(
    cfg: &Config,
    addresses: &[Ipv4Addr],
    bindings: usize,
    tunnels: usize,
) -> GlobalsView {
    let ha = &cfg.home_agent;
    let mut encapsulations = vec![EncapsulationView::IpIp];
    if ha.encapsulations.gre {
        encapsulations.push(EncapsulationView::Gre);
    }
    if ha.encapsulations.minimal {
        encapsulations.push(EncapsulationView::Minimal);
    }
    GlobalsView {
        home_agent_enabled: cfg.home_agent_active(),
        home_agent_addresses: addresses.to_vec(),
        lifetime_secs: u32::from(ha.lifetime),
        replay_secs: ha.replay_window_secs,
        broadcast: ha.broadcast,
        reverse_tunnel: ha.reverse_tunnel,
        reverse_tunnel_mandatory: false,
        icmp_unreachable: !ha.suppress_unreachable,
        roam_access: acl_name(ha.roam_access),
        care_of_access: acl_name(ha.care_of_access),
        max_bindings: None,
        simultaneous_bindings: if ha.max_bindings <= 1 {
            0
        } else {
            u32::from(ha.max_bindings)
        },
        encapsulations,
        virtual_networks: cfg
            .virtual_networks
            .iter()
            .map(|p| PrefixView {
                network: p.network(),
                prefix_len: p.len(),
            })
            .collect(),
        host_groups: (cfg.host_groups.len() + cfg.nai_hosts.len()) as u64,
        bindings: bindings as u64,
        tunnels: tunnels as u64,
        redundancy_group: ha.redundancy.as_ref().map(|r| r.group.clone()),
        foreign_agent_enabled: cfg.foreign_agent_active(),
        care_of_interfaces: cfg.foreign_agent.care_of.clone(),
        interfaces_providing_service: cfg
            .interfaces
            .values()
            .filter(|i| i.foreign_service.is_some())
            .count() as u64,
    }
}

/// `show ip mobile tunnel`: the tunnels in use, from the bindings, with the data plane's
/// traffic counters ([`DataPlane::tunnel_counters`](mip_io::DataPlane::tunnel_counters)) for
/// those it has; the others (all of them with `--dataplane log`) show 0.
pub fn tunnels(
    bindings: &[BindingSnapshot],
    reverse_allowed: bool,
    counters: &[(TunnelId, TunnelTraffic)],
) -> TunnelList {
    let mut by_id: BTreeMap<u32, TunnelView> = BTreeMap::new();
    for b in bindings {
        by_id
            .entry(b.tunnel.0)
            .or_insert_with(|| TunnelView {
                name: tunnel_name(b.tunnel.0),
                source: b.tunnel_endpoints.source,
                destination: b.tunnel_endpoints.destination,
                encapsulation: encapsulation(u8::from(b.encapsulation)),
                reverse_allowed,
                users: 0,
                created_by_home_agent: true,
                mtu: None,
                interface: None,
                packets_in: 0,
                bytes_in: 0,
                drops_in: 0,
                packets_out: 0,
                bytes_out: 0,
            })
            .users += 1;
    }
    for (id, c) in counters {
        if let Some(v) = by_id.get_mut(&id.0) {
            v.packets_in = c.packets_in;
            v.bytes_in = c.bytes_in;
            v.drops_in = c.drops_in;
            v.packets_out = c.packets_out;
            v.bytes_out = c.bytes_out;
        }
    }
    TunnelList {
        total: by_id.len() as u64,
        tunnels: by_id.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IOS: &str = "router mobile\n\
        ip mobile home-agent broadcast\n\
        ip mobile virtual-network 10.0.0.0 255.0.0.0\n\
        ip mobile host 10.0.0.1 10.0.0.3 virtual-network 10.0.0.0 255.0.0.0\n\
        ip mobile secure host 10.0.0.1 spi 100 key hex 12345678123456781234567812345678\n\
        ip mobile secure host 10.0.0.2 spi 100 key ascii secretsecret1234 algorithm hmac-md5\n";

    #[test]
    fn secure_keys_only_on_request() {
        let cfg = mip_config::parse_ios(IOS, "t.ios").unwrap();
        let l = secure_list(&cfg, PeerKind::Host, &SecureTarget::All, false);
        assert_eq!(l.total, 2);
        let j = serde_json::to_string(&l).unwrap();
        assert!(
            !j.contains("12345678123456781234567812345678") && !j.contains("secretsecret"),
            "{j}"
        );
        let l = secure_list(
            &cfg,
            PeerKind::Host,
            &SecureTarget::Address {
                address: "10.0.0.2".parse().unwrap(),
            },
            true,
        );
        assert_eq!(l.total, 1);
        assert_eq!(
            l.associations[0].key_ascii.as_deref(),
            Some("secretsecret1234")
        );
        assert_eq!(l.associations[0].algorithm, AuthAlgorithm::HmacMd5);
        assert_eq!(l.associations[0].inbound_spi, 0x100);
    }

    #[test]
    fn hosts_and_globals() {
        let cfg = mip_config::parse_ios(IOS, "t.ios").unwrap();
        let cands = host_candidates(&cfg, &[]);
        assert_eq!(cands.len(), 3);
        let facts: Vec<HostFacts> = cands.iter().map(|a| (*a, None, false)).collect();
        assert!(host_list(&cfg, &facts, true).hosts.is_empty());
        let l = host_list(&cfg, &facts, false);
        assert_eq!(l.hosts.len(), 3);
        assert!(matches!(
            l.hosts[0].home_link,
            HomeLinkView::VirtualNetwork { prefix_len: 8, .. }
        ));
        let g = globals(&cfg, &[Ipv4Addr::LOCALHOST], 0, 0);
        assert!(g.home_agent_enabled && g.broadcast);
        assert_eq!(g.virtual_networks.len(), 1);
        assert_eq!(host_groups(&cfg).groups.len(), 1);
    }
}
