//! Agents heard on one interface (RFC 5944 §2.4): what each advertised and until when.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use mip_wire::icmp::{
    AdvertisementFlags, AgentAdvertisement, MobilityAgentAdvertisement,
    REGISTRATION_LIFETIME_INFINITE,
};

use crate::config::mask;
use crate::output::LinkLayerAddress;

/// Agents remembered per interface; a flood of advertisements from new addresses evicts the
/// one that would expire first.
pub const MAX_AGENTS_PER_INTERFACE: usize = 16;

/// One agent heard on an interface.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    /// The IP source of its advertisements.
    pub address: Ipv4Addr,
    /// Link-layer source of its last advertisement, when the daemon gave it.
    pub link_layer: Option<LinkLayerAddress>,
    /// Router addresses with their prefix lengths (RFC 5944 §2.1.2), when advertised.
    pub routers: Vec<(Ipv4Addr, Option<u8>)>,
    /// The advertisement carried a Prefix-Lengths extension.
    pub has_prefix_lengths: bool,
    /// Sequence number of the last advertisement.
    pub sequence: u16,
    /// RFC 1256 Lifetime of the last advertisement, seconds.
    pub advertisement_lifetime: u16,
    /// Registration Lifetime the agent accepts (0xffff: infinity).
    pub registration_lifetime: u16,
    /// Flags.
    pub flags: AdvertisementFlags,
    /// Care-of addresses offered.
    pub care_of_addresses: Vec<Ipv4Addr>,
    /// First heard.
    pub first_heard: SystemTime,
    /// Last heard.
    pub last_heard: SystemTime,
    /// The advertisement lifetime runs out (RFC 5944 §2.4.2.1).
    pub expires: SystemTime,
    /// Heard before the last link change and not since.
    pub stale: bool,
    /// The node moved away from it by the network-prefix method (§2.4.2.2); it is chosen
    /// again only when no other agent is usable.
    pub superseded: bool,
}

/// What [`Agents::record`] found.
pub(crate) struct Recorded {
    /// First advertisement from this address.
    pub new: bool,
    /// The sequence number says the agent rebooted: (previous, now).
    pub reboot: Option<(u16, u16)>,
}

impl Agent {
    /// Network prefixes of the advertisement's router addresses that have a prefix length.
    pub fn prefixes(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.routers.iter().filter_map(|&(a, len)| {
            let m = mask(len?);
            Some((u32::from(a) & m, m))
        })
    }

    /// True when `a` lies in one of the agent's advertised prefixes.
    pub fn prefix_contains(&self, a: Ipv4Addr) -> bool {
        self.prefixes().any(|(net, m)| u32::from(a) & m == net)
    }

    /// True when the two agents advertised prefixes and share none (RFC 5944 §2.4.2.2).
    pub fn prefixes_differ(&self, other: &Agent) -> bool {
        if !self.has_prefix_lengths || !other.has_prefix_lengths {
            return false;
        }
        let mine: Vec<_> = self.prefixes().collect();
        let theirs: Vec<_> = other.prefixes().collect();
        if mine.is_empty() || theirs.is_empty() {
            return false;
        }
        !mine.iter().any(|p| theirs.contains(p))
    }

    /// Usable for a new registration through it: a foreign agent that offers a care-of
    /// address and a non-zero registration lifetime.
    pub fn offers_care_of(&self) -> bool {
        self.flags.foreign_agent
            && !self.care_of_addresses.is_empty()
            && self.registration_lifetime != 0
    }

    /// The registration lifetime as a cap (`None`: infinity).
    pub fn lifetime_cap(&self) -> Option<u16> {
        (self.registration_lifetime != REGISTRATION_LIFETIME_INFINITE)
            .then_some(self.registration_lifetime)
    }
}

/// The agents of one interface, in the order first heard.
#[derive(Clone, Debug, Default)]
pub(crate) struct Agents {
    list: Vec<Agent>,
}

impl Agents {
    pub fn iter(&self) -> impl Iterator<Item = &Agent> {
        self.list.iter()
    }

    pub fn get(&self, address: Ipv4Addr) -> Option<&Agent> {
        self.list.iter().find(|a| a.address == address)
    }

    pub fn get_mut(&mut self, address: Ipv4Addr) -> Option<&mut Agent> {
        self.list.iter_mut().find(|a| a.address == address)
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }

    pub fn remove(&mut self, address: Ipv4Addr) -> Option<Agent> {
        let i = self.list.iter().position(|a| a.address == address)?;
        Some(self.list.remove(i))
    }

    /// Records an advertisement (with a Mobility Agent Advertisement Extension and a non-zero
    /// lifetime) from `source`. `keep` is an agent never evicted to make room (the current
    /// one).
    pub fn record(
        &mut self,
        now: SystemTime,
        source: Ipv4Addr,
        link_layer: Option<LinkLayerAddress>,
        adv: &AgentAdvertisement,
        ma: &MobilityAgentAdvertisement,
        keep: Option<Ipv4Addr>,
    ) -> Recorded {
        let lengths = adv.prefix_lengths();
        let routers = adv
            .router_addresses
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let len = lengths.and_then(|l| l.get(i).copied()).filter(|l| *l <= 32);
                (r.address, len)
            })
            .collect();
        let expires = now
            .checked_add(Duration::from_secs(u64::from(adv.lifetime)))
            .unwrap_or(now);
        let mut out = Recorded {
            new: false,
            reboot: None,
        };
        let fresh = |previous: Option<&Agent>| Agent {
            address: source,
            link_layer: link_layer.or(previous.and_then(|p| p.link_layer)),
            routers,
            has_prefix_lengths: lengths.is_some(),
            sequence: ma.sequence,
            advertisement_lifetime: adv.lifetime,
            registration_lifetime: ma.registration_lifetime,
            flags: ma.flags,
            care_of_addresses: ma.care_of_addresses.clone(),
            first_heard: previous.map_or(now, |p| p.first_heard),
            last_heard: now,
            expires,
            stale: false,
            superseded: previous.is_some_and(|p| p.superseded),
        };
        if let Some(i) = self.list.iter().position(|a| a.address == source) {
            let previous = &self.list[i];
            if mip_wire::icmp::sequence_indicates_reboot(previous.sequence, ma.sequence) {
                out.reboot = Some((previous.sequence, ma.sequence));
            }
            let updated = fresh(Some(previous));
            self.list[i] = updated;
        } else {
            if self.list.len() >= MAX_AGENTS_PER_INTERFACE {
                let victim = self
                    .list
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| Some(a.address) != keep)
                    .min_by_key(|(_, a)| a.expires)
                    .map(|(i, _)| i);
                match victim {
                    Some(i) => {
                        self.list.remove(i);
                    }
                    None => return out,
                }
            }
            self.list.push(fresh(None));
            out.new = true;
        }
        out
    }

    /// Removes the agents whose advertisement lifetime has run out; returns their addresses.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Ipv4Addr> {
        let mut gone = Vec::new();
        self.list.retain(|a| {
            if a.expires <= now {
                gone.push(a.address);
                false
            } else {
                true
            }
        });
        gone
    }

    /// Link changed: what was heard before becomes stale and usable for at most `grace`.
    pub fn link_changed(&mut self, now: SystemTime, grace: Duration) {
        let limit = now.checked_add(grace).unwrap_or(now);
        for a in &mut self.list {
            a.stale = true;
            a.expires = a.expires.min(limit);
        }
    }

    /// A fresh advertisement arrived after a link change: drop what is still stale.
    pub fn drop_stale(&mut self) -> Vec<Ipv4Addr> {
        let mut gone = Vec::new();
        self.list.retain(|a| {
            if a.stale {
                gone.push(a.address);
                false
            } else {
                true
            }
        });
        gone
    }

    /// Earliest expiry.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.list.iter().map(|a| a.expires).min()
    }
}
