//! From the configuration model of `mip-config` to the [`HaPolicy`] the core reads.
//!
//! What `mip-config` has no field for is set to the RFC's or the router's behaviour:
//! reverse tunnelling is never mandatory at the home agent (138 only when the policy says so),
//! there is no global binding limit, and reserved flags are refused (RFC 5944 §3.8.2.3).
//! Host groups whose security associations come from AAA (`aaa [load-sa]`) have no local SA:
//! their requests are ignored by this core until an AAA client provides them.

use std::net::Ipv4Addr;

use mip_config::{AclAction, AclId, Config, HomeAddress, HomeLocation, Peer, SaTarget};

use crate::agent::{HaOptions, HomeAgent};
use crate::policy::{
    Acl, AclEntry, AddressPool, ForeignAgentSa, HaPolicy, HomeLink, HostGroup, MobileNodeId,
    MobileNodeSa, NaiHost,
};

/// Foreign agent SAs given for a range are expanded per address, up to this many.
const MAX_FA_RANGE: u32 = 65_536;

fn acl(cfg: &Config, id: Option<AclId>) -> Option<Acl> {
    let id = id?;
    // A list that is referenced but not defined filters nothing (the router's behaviour).
    let list = cfg.access_lists.get(&id)?;
    Some(Acl {
        name: id.to_string(),
        entries: list
            .rules
            .iter()
            .map(|r| AclEntry {
                permit: r.action == AclAction::Permit,
                address: r.address,
                wildcard: r.wildcard,
            })
            .collect(),
    })
}

fn link(l: &HomeLocation) -> HomeLink {
    match l {
        HomeLocation::Interface(name) => HomeLink::Interface(name.clone()),
        HomeLocation::VirtualNetwork(p) => HomeLink::VirtualNetwork {
            network: p.network(),
            mask: p.mask(),
        },
    }
}

impl HaPolicy {
    /// The home agent part of a configuration.
    pub fn from_config(cfg: &Config) -> HaPolicy {
        let ha = &cfg.home_agent;
        let mut addresses = ha.addresses.clone();
        for iface in cfg.interfaces.values() {
            if let Some(a) = iface.address {
                if !addresses.contains(&a.address) {
                    addresses.push(a.address);
                }
            }
        }
        let mut mobile_node_sas = Vec::new();
        let mut foreign_agent_sas = Vec::new();
        for sa in &cfg.security_associations {
            match (sa.peer(), sa.target()) {
                (Peer::Host, SaTarget::Range(r)) => mobile_node_sas.push(MobileNodeSa {
                    id: MobileNodeId::Addresses {
                        lower: r.lower,
                        upper: r.upper,
                    },
                    inbound: sa.inbound().clone(),
                    outbound: sa.outbound().clone(),
                }),
                (Peer::Host, SaTarget::Nai(nai)) => mobile_node_sas.push(MobileNodeSa {
                    id: MobileNodeId::Nai(nai.clone()),
                    inbound: sa.inbound().clone(),
                    outbound: sa.outbound().clone(),
                }),
                (Peer::ForeignAgent, SaTarget::Range(r)) => {
                    let (lo, hi) = (u32::from(r.lower), u32::from(r.upper));
                    let hi = hi.min(lo.saturating_add(MAX_FA_RANGE - 1));
                    for a in lo..=hi {
                        foreign_agent_sas.push(ForeignAgentSa {
                            address: Ipv4Addr::from(a),
                            inbound: sa.inbound().clone(),
                            outbound: sa.outbound().clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        HaPolicy {
            enabled: cfg.home_agent_active(),
            addresses,
            lifetime: ha.lifetime,
            broadcast: ha.broadcast,
            reverse_tunnel: ha.reverse_tunnel,
            reverse_tunnel_mandatory: false,
            gre: ha.encapsulations.gre,
            minimal: ha.encapsulations.minimal,
            roam_access: acl(cfg, ha.roam_access),
            care_of_access: acl(cfg, ha.care_of_access),
            simultaneous_bindings: u8::try_from(ha.max_bindings).unwrap_or(u8::MAX),
            max_bindings: None,
            reject_reserved_flags: true,
            host_groups: cfg
                .host_groups
                .iter()
                .map(|g| HostGroup {
                    lower: g.range.lower,
                    upper: g.range.upper,
                    home: link(&g.location),
                    lifetime: g.lifetime,
                    care_of_access: acl(cfg, g.care_of_access),
                })
                .collect(),
            nai_hosts: cfg
                .nai_hosts
                .iter()
                .map(|h| NaiHost {
                    nai: h.nai.clone(),
                    address: match &h.address {
                        HomeAddress::Static(a) => Some(*a),
                        HomeAddress::Pool(_) => None,
                    },
                    pool: match &h.address {
                        HomeAddress::Static(_) => None,
                        HomeAddress::Pool(p) => Some(p.clone()),
                    },
                    home: link(&h.location),
                    lifetime: h.lifetime,
                    care_of_access: acl(cfg, h.care_of_access),
                })
                .collect(),
            pools: cfg
                .address_pools
                .iter()
                .map(|(name, p)| AddressPool {
                    name: name.clone(),
                    ranges: p.ranges.iter().map(|r| (r.lower, r.upper)).collect(),
                })
                .collect(),
            mobile_node_sas,
            foreign_agent_sas,
        }
    }
}

impl HomeAgent {
    /// A home agent for `cfg`, answering for `local_addresses` (the addresses of the host's
    /// interfaces) and the configuration's own home agent addresses. Nonces (RFC 5944 §5.7.2)
    /// then come from a fixed seed: a daemon uses [`HomeAgent::new_with_options`] with a
    /// random [`HaOptions::nonce_seed`].
    pub fn new(cfg: &Config, local_addresses: &[Ipv4Addr]) -> HomeAgent {
        HomeAgent::with_options(
            HaPolicy::from_config(cfg),
            local_addresses,
            HaOptions::default(),
        )
    }

    /// Same, with tunables (the daemon passes a random nonce seed here).
    pub fn new_with_options(
        cfg: &Config,
        local_addresses: &[Ipv4Addr],
        options: HaOptions,
    ) -> HomeAgent {
        HomeAgent::with_options(HaPolicy::from_config(cfg), local_addresses, options)
    }

    /// SIGHUP: a new configuration; bindings are kept (see
    /// [`HomeAgent::reconfigure_policy`]).
    pub fn reconfigure(&mut self, cfg: &Config) {
        let local = self.local_addresses().to_vec();
        self.reconfigure_policy(HaPolicy::from_config(cfg), &local);
    }
}
