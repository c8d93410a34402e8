//! Lookups the agents make per registration: host group by home address, NAI host, security
//! association by (address or NAI, SPI). Built once per load ([`Config::reindex`]); each lookup
//! is a binary search over disjoint address segments (or a hash lookup for NAIs), never a scan
//! of the configuration.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;

use crate::model::{
    nai_eq, nai_key, nai_key_cow, AclId, Config, HostGroup, NaiHost, Peer, SaTarget,
    SecurityAssociation,
};

/// Address ranges (possibly overlapping) to the items covering each address.
///
/// The address space is cut at every range boundary into disjoint segments; each segment lists
/// the items that cover all of it, in configuration order. A lookup is one binary search.
#[derive(Clone, Default)]
pub(crate) struct RangeIndex {
    /// Start address of each segment, ascending.
    starts: Vec<u32>,
    /// For each segment, `members[offsets[i]..offsets[i + 1]]` are its items.
    offsets: Vec<u32>,
    members: Vec<u32>,
}

impl RangeIndex {
    /// Builds from `(lower, upper, item)` triples; triples with `lower > upper` are ignored.
    pub(crate) fn build(items: &[(u32, u32, u32)]) -> RangeIndex {
        let mut starts: Vec<u32> = Vec::with_capacity(items.len() * 2);
        for &(lo, hi, _) in items {
            if lo > hi {
                continue;
            }
            starts.push(lo);
            if let Some(next) = hi.checked_add(1) {
                starts.push(next);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for &(lo, hi, item) in items {
            if lo > hi {
                continue;
            }
            let mut seg = starts.partition_point(|&s| s < lo);
            while seg < starts.len() && starts[seg] <= hi {
                pairs.push((seg as u32, item));
                seg += 1;
            }
        }
        // Stable: items keep configuration order within a segment.
        pairs.sort_by_key(|&(seg, _)| seg);
        let mut offsets = Vec::with_capacity(starts.len() + 1);
        let mut members = Vec::with_capacity(pairs.len());
        let mut p = 0;
        for seg in 0..starts.len() as u32 {
            offsets.push(members.len() as u32);
            while p < pairs.len() && pairs[p].0 == seg {
                members.push(pairs[p].1);
                p += 1;
            }
        }
        offsets.push(members.len() as u32);
        RangeIndex {
            starts,
            offsets,
            members,
        }
    }

    /// The items covering `addr`, in configuration order.
    pub(crate) fn get(&self, addr: Ipv4Addr) -> &[u32] {
        let a = u32::from(addr);
        let after = self.starts.partition_point(|&s| s <= a);
        if after == 0 {
            return &[];
        }
        let seg = after - 1;
        let (Some(&from), Some(&to)) = (self.offsets.get(seg), self.offsets.get(seg + 1)) else {
            return &[];
        };
        self.members.get(from as usize..to as usize).unwrap_or(&[])
    }

    /// Segments `(first, last, items)` intersecting `[lo, hi]`, including empty ones.
    pub(crate) fn segments(&self, lo: u32, hi: u32) -> impl Iterator<Item = (u32, u32, &[u32])> {
        let first = self.starts.partition_point(|&s| s <= lo).saturating_sub(1);
        (first..self.starts.len())
            .map(move |seg| {
                let start = self.starts[seg];
                let end = self
                    .starts
                    .get(seg + 1)
                    .map_or(u32::MAX, |&n| n.wrapping_sub(1));
                let from = self.offsets[seg] as usize;
                let to = self.offsets[seg + 1] as usize;
                (start, end, &self.members[from..to])
            })
            .take_while(move |&(start, _, _)| start <= hi)
    }
}

/// Derived lookup structures of a [`Config`].
#[derive(Clone, Default)]
pub(crate) struct Index {
    host_groups: RangeIndex,
    nai_hosts: HashMap<String, u32>,
    /// Per [`Peer`] slot: SAs by address.
    sa_by_addr: [RangeIndex; 4],
    /// Per [`Peer`] slot: SAs by normalised NAI.
    sa_by_nai: [HashMap<String, Vec<u32>>; 4],
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Index { .. }")
    }
}

impl Index {
    pub(crate) fn build(config: &Config) -> Index {
        let groups: Vec<(u32, u32, u32)> = config
            .host_groups
            .iter()
            .enumerate()
            .map(|(i, g)| (u32::from(g.range.lower), u32::from(g.range.upper), i as u32))
            .collect();
        let mut nai_hosts = HashMap::with_capacity(config.nai_hosts.len());
        for (i, h) in config.nai_hosts.iter().enumerate() {
            nai_hosts.entry(nai_key(&h.nai)).or_insert(i as u32);
        }
        let mut by_addr: [Vec<(u32, u32, u32)>; 4] = Default::default();
        let mut sa_by_nai: [HashMap<String, Vec<u32>>; 4] = Default::default();
        for (i, sa) in config.security_associations.iter().enumerate() {
            let slot = sa.peer().slot();
            match sa.target() {
                SaTarget::Range(r) => {
                    by_addr[slot].push((u32::from(r.lower), u32::from(r.upper), i as u32));
                }
                SaTarget::Nai(n) => sa_by_nai[slot]
                    .entry(nai_key(n))
                    .or_default()
                    .push(i as u32),
            }
        }
        Index {
            host_groups: RangeIndex::build(&groups),
            nai_hosts,
            sa_by_addr: by_addr.map(|v| RangeIndex::build(&v)),
            sa_by_nai,
        }
    }

    pub(crate) fn sa_by_addr(&self, peer: Peer) -> &RangeIndex {
        &self.sa_by_addr[peer.slot()]
    }
}

/// A mobile node as the agents identify it: by home address or by NAI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MobileNodeId<'a> {
    /// Its home address.
    Address(Ipv4Addr),
    /// Its NAI (RFC 2794).
    Nai(&'a str),
}

impl From<Ipv4Addr> for MobileNodeId<'_> {
    fn from(a: Ipv4Addr) -> Self {
        MobileNodeId::Address(a)
    }
}

impl<'a> From<&'a str> for MobileNodeId<'a> {
    fn from(n: &'a str) -> Self {
        MobileNodeId::Nai(n)
    }
}

impl Config {
    /// Rebuilds the lookup index. The parsers and [`crate::load`] do this; call it after
    /// changing the fields yourself.
    pub fn reindex(&mut self) {
        self.index = Index::build(self);
    }

    /// The host group whose range holds `addr` (ranges do not overlap in a valid
    /// configuration).
    #[must_use]
    pub fn host_group_for(&self, addr: Ipv4Addr) -> Option<&HostGroup> {
        self.index
            .host_groups
            .get(addr)
            .iter()
            .filter_map(|&i| self.host_groups.get(i as usize))
            .find(|g| g.range.contains(addr))
    }

    /// The NAI host configured for `nai` (realm compared case-insensitively).
    #[must_use]
    pub fn host_by_nai(&self, nai: &str) -> Option<&NaiHost> {
        let i = *self.index.nai_hosts.get(nai_key_cow(nai).as_ref())?;
        self.nai_hosts
            .get(i as usize)
            .filter(|h| nai_eq(&h.nai, nai))
    }

    /// The association of `peer` for `node` whose inbound SPI is `spi`; with `spi` `None`, the
    /// first one configured for it. A range association applies to each address of its range.
    #[must_use]
    pub fn sa_for<'n>(
        &self,
        peer: Peer,
        node: impl Into<MobileNodeId<'n>>,
        spi: Option<u32>,
    ) -> Option<&SecurityAssociation> {
        let spi_ok = |sa: &&SecurityAssociation| spi.is_none_or(|s| sa.inbound_spi() == s);
        match node.into() {
            MobileNodeId::Address(addr) => self
                .index
                .sa_by_addr(peer)
                .get(addr)
                .iter()
                .filter_map(|&i| self.security_associations.get(i as usize))
                .filter(|sa| sa.peer() == peer && sa.covers(addr))
                .find(spi_ok),
            MobileNodeId::Nai(nai) => self.index.sa_by_nai[peer.slot()]
                .get(nai_key_cow(nai).as_ref())?
                .iter()
                .filter_map(|&i| self.security_associations.get(i as usize))
                .filter(|sa| {
                    sa.peer() == peer && matches!(sa.target(), SaTarget::Nai(n) if nai_eq(n, nai))
                })
                .find(spi_ok),
        }
    }

    /// The mobile node's association (MN-HA, `secure host`) with inbound SPI `spi`, by home
    /// address or NAI: `config.mobile_node_sa(addr, 0x100)`, `config.mobile_node_sa("a@b", 0x100)`.
    #[must_use]
    pub fn mobile_node_sa<'n>(
        &self,
        node: impl Into<MobileNodeId<'n>>,
        spi: u32,
    ) -> Option<&SecurityAssociation> {
        self.sa_for(Peer::Host, node, Some(spi))
    }

    /// The association with the foreign agent at `addr` (FA-HA at the home agent,
    /// `secure foreign-agent`); the first configured when there are several.
    #[must_use]
    pub fn foreign_agent_sa(&self, addr: Ipv4Addr) -> Option<&SecurityAssociation> {
        self.sa_for(Peer::ForeignAgent, addr, None)
    }

    /// The association with the home agent at `addr` (FA-HA at the foreign agent, or the
    /// redundant peer; `secure home-agent`).
    #[must_use]
    pub fn home_agent_sa(&self, addr: Ipv4Addr) -> Option<&SecurityAssociation> {
        self.sa_for(Peer::HomeAgent, addr, None)
    }

    /// The association with the visiting mobile node `addr` (MN-FA at the foreign agent,
    /// `secure visitor`).
    #[must_use]
    pub fn visitor_sa(&self, addr: Ipv4Addr) -> Option<&SecurityAssociation> {
        self.sa_for(Peer::Visitor, addr, None)
    }

    /// Evaluates access list `acl` for `addr`: first matching rule wins, no match denies. An
    /// undefined list denies (a loaded configuration has none: referencing one is an error).
    #[must_use]
    pub fn permits(&self, acl: AclId, addr: Ipv4Addr) -> bool {
        self.access_lists
            .get(&acl)
            .is_some_and(|list| list.permits(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().unwrap())
    }

    #[test]
    fn range_index_overlaps_and_edges() {
        let idx = RangeIndex::build(&[
            (a("10.0.0.0"), a("10.0.0.255"), 0),
            (a("10.0.0.5"), a("10.0.0.5"), 1),
            (a("255.255.255.250"), u32::MAX, 2),
            (0, 0, 3),
            (a("10.0.1.0"), a("10.0.0.1"), 4), // lower > upper: ignored
        ]);
        let g = |s: &str| idx.get(s.parse().unwrap()).to_vec();
        assert_eq!(g("10.0.0.4"), vec![0]);
        assert_eq!(g("10.0.0.5"), vec![0, 1]);
        assert_eq!(g("10.0.0.6"), vec![0]);
        assert_eq!(g("10.0.1.0"), Vec::<u32>::new());
        assert_eq!(g("9.255.255.255"), Vec::<u32>::new());
        assert_eq!(g("255.255.255.255"), vec![2]);
        assert_eq!(g("0.0.0.0"), vec![3]);
        assert_eq!(g("0.0.0.1"), Vec::<u32>::new());
        let segs: Vec<_> = idx
            .segments(a("10.0.0.4"), a("10.0.0.6"))
            .map(|(s, e, m)| (s, e, m.len()))
            .collect();
        assert_eq!(
            segs,
            vec![
                (a("10.0.0.0"), a("10.0.0.4"), 1),
                (a("10.0.0.5"), a("10.0.0.5"), 2),
                (a("10.0.0.6"), a("10.0.0.255"), 1)
            ]
        );
        assert!(RangeIndex::build(&[]).get(Ipv4Addr::LOCALHOST).is_empty());
    }
}
