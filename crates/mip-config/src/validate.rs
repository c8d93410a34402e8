//! From parsed parts to a checked [`Config`]: semantic validation (errors, with the line of the
//! item at fault) and lint (warnings). Shared by both syntaxes.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use crate::error::{ConfigError, Loc, Warning};
use crate::model::{
    nai_key, AccessList, AclId, AddressPool, AddressRange, Config, ForeignAgent, HomeAddress,
    HomeAgent, HomeLocation, HostGroup, Interface, NaiHost, Peer, Prefix, ReplaySetting, SaParams,
    SaSource, SaTarget, SecurityAssociation, DEFAULT_REPLAY_WINDOW_SECS, MIN_SPI,
};

/// What a parser produces before validation.
#[derive(Default)]
pub(crate) struct Parts {
    pub mobile_ip: bool,
    pub home_agent: HomeAgent,
    pub foreign_agent: ForeignAgent,
    pub virtual_networks: Vec<Prefix>,
    pub host_groups: Vec<HostGroup>,
    pub nai_hosts: Vec<NaiHost>,
    pub address_pools: BTreeMap<String, AddressPool>,
    pub sas: Vec<SaParams>,
    pub access_lists: BTreeMap<AclId, AccessList>,
    pub interfaces: BTreeMap<String, Interface>,
}

/// Where each item came from, for messages. Vectors run parallel to those of [`Parts`].
#[derive(Default)]
pub(crate) struct Origins {
    pub mobile_ip: Option<Loc>,
    /// Home agent settings by keyword (`lifetime`, `roam-access`, ...; `enabled` for the
    /// service itself).
    pub home_agent: HashMap<&'static str, Loc>,
    pub foreign_agent: HashMap<&'static str, Loc>,
    pub virtual_networks: Vec<Loc>,
    pub host_groups: Vec<Loc>,
    pub nai_hosts: Vec<Loc>,
    pub pools: BTreeMap<String, Loc>,
    pub sas: Vec<Loc>,
    pub access_lists: BTreeMap<AclId, Loc>,
    pub acl_rules: BTreeMap<AclId, Vec<Loc>>,
    pub interfaces: BTreeMap<String, Loc>,
    /// Interface settings by (interface, keyword).
    pub interface_items: BTreeMap<(String, &'static str), Loc>,
    /// Warnings the parser already found.
    pub warnings: Vec<Warning>,
}

impl Origins {
    fn ha(&self, key: &str) -> Option<Loc> {
        self.home_agent
            .get(key)
            .or_else(|| self.home_agent.get("enabled"))
            .copied()
    }

    fn fa(&self, key: &str) -> Option<Loc> {
        self.foreign_agent
            .get(key)
            .or_else(|| self.foreign_agent.get("enabled"))
            .copied()
    }

    fn iface(&self, name: &str, key: &'static str) -> Option<Loc> {
        self.interface_items
            .get(&(name.to_owned(), key))
            .or_else(|| self.interfaces.get(name))
            .copied()
    }
}

/// Builds the associations and the index, validates, lints.
pub(crate) fn finish(
    parts: Parts,
    origins: Origins,
    file: &str,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let host_window = parts.home_agent.replay_window_secs;
    let security_associations = parts
        .sas
        .into_iter()
        .map(|p| {
            let default = if p.peer == Peer::Host {
                host_window
            } else {
                DEFAULT_REPLAY_WINDOW_SECS
            };
            SecurityAssociation::new(p, default)
        })
        .collect();
    let mut config = Config {
        mobile_ip: parts.mobile_ip,
        home_agent: parts.home_agent,
        foreign_agent: parts.foreign_agent,
        virtual_networks: parts.virtual_networks,
        host_groups: parts.host_groups,
        nai_hosts: parts.nai_hosts,
        address_pools: parts.address_pools,
        security_associations,
        access_lists: parts.access_lists,
        interfaces: parts.interfaces,
        index: Default::default(),
    };
    config.reindex();
    let errors = check(&config, &origins, file);
    if let Some(e) = ConfigError::from_list(errors) {
        return Err(e);
    }
    let mut warnings = origins.warnings.clone();
    warnings.extend(lint(&config, &origins, file));
    Ok((config, warnings))
}

impl Config {
    /// Checks the semantic rules (the parsers and [`crate::load`] already do): ranges in
    /// order, no overlapping host groups, no duplicate security associations, every access
    /// list referenced is defined, lifetimes and windows in range, virtual networks defined.
    /// Returns the warnings when valid. Errors carry no line numbers here.
    ///
    /// # Errors
    /// The first problem, carrying the others.
    pub fn validate(&self) -> Result<Vec<Warning>, ConfigError> {
        let origins = Origins::default();
        let errors = check(self, &origins, "<config>");
        match ConfigError::from_list(errors) {
            Some(e) => Err(e),
            None => Ok(lint(self, &origins, "<config>")),
        }
    }
}

struct Checker<'a> {
    file: &'a str,
    config: &'a Config,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn err(&mut self, loc: Option<Loc>, message: String, hint: Option<String>) {
        let mut e = ConfigError::new(self.file, loc, message);
        e.hint = hint;
        self.errors.push(e);
    }

    fn acl(&mut self, acl: Option<AclId>, loc: Option<Loc>, used_by: &str) {
        if let Some(id) = acl {
            if !self.config.access_lists.contains_key(&id) {
                self.err(
                    loc,
                    format!("access list {id} is not defined (used by {used_by})"),
                    Some(format!(
                        "add 'access-list {id} permit ...' (or deny) lines; a list must exist to be \
                         referenced"
                    )),
                );
            }
        }
    }

    fn lifetime(&mut self, value: Option<u16>, loc: Option<Loc>, what: &str) {
        if value == Some(0) {
            self.err(
                loc,
                format!("{what} 0 is out of range"),
                Some(LIFETIME_HINT.to_owned()),
            );
        }
    }

    fn range(&mut self, r: &AddressRange, loc: Option<Loc>, what: &str) -> bool {
        if r.lower > r.upper {
            self.err(
                loc,
                format!(
                    "{what} range {} {} has the lower address above the upper",
                    r.lower, r.upper
                ),
                Some("write LOWER first, then UPPER".to_owned()),
            );
            return false;
        }
        true
    }

    fn location(&mut self, location: &HomeLocation, loc: Option<Loc>, within: &[AddressRange]) {
        let HomeLocation::VirtualNetwork(net) = location else {
            return;
        };
        if !self.config.virtual_networks.contains(net) {
            self.err(
                loc,
                format!("virtual network {net} is not defined"),
                Some(format!(
                    "add 'ip mobile virtual-network {} {}' (TOML: virtual_networks = [\"{net}\"])",
                    net.network(),
                    net.mask()
                )),
            );
            return;
        }
        let whole = net.range();
        for r in within {
            if !(whole.contains(r.lower) && whole.contains(r.upper)) {
                self.err(
                    loc,
                    format!("home address {r} is outside its virtual network {net}"),
                    Some("a mobile node's home address belongs to its home network".to_owned()),
                );
            }
        }
    }

    fn nai(&mut self, nai: &str, loc: Option<Loc>) {
        if let Some(message) = nai_problem(nai) {
            self.err(
                loc,
                message,
                Some("an NAI is user@realm (RFC 7542), at most 255 bytes".to_owned()),
            );
        }
    }
}

pub(crate) const LIFETIME_HINT: &str =
    "lifetimes are 1-65535 seconds (65535 = infinite, RFC 5944 §3.3)";

/// Why `nai` cannot be an NAI, if it cannot.
pub(crate) fn nai_problem(nai: &str) -> Option<String> {
    if nai.is_empty() {
        Some("empty NAI".to_owned())
    } else if nai.len() > 255 {
        Some(format!(
            "NAI of {} bytes is too long (the NAI extension holds at most 255)",
            nai.len()
        ))
    } else if nai.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("NAI contains a space or control character".to_owned())
    } else {
        None
    }
}

/// True for the standard access-list numbers the router accepts.
pub(crate) fn is_standard_acl(id: u32) -> bool {
    (1..=99).contains(&id) || (1300..=1999).contains(&id)
}

fn check(config: &Config, o: &Origins, file: &str) -> Vec<ConfigError> {
    let mut c = Checker {
        file,
        config,
        errors: Vec::new(),
    };
    let ha = &config.home_agent;
    c.lifetime(Some(ha.lifetime), o.ha("lifetime"), "home agent lifetime");
    if ha.replay_window_secs == 0 {
        c.err(
            o.ha("replay"),
            "home agent replay window 0 accepts no timestamp".to_owned(),
            Some("give the tolerance in seconds, e.g. 'replay 7' (the default)".to_owned()),
        );
    }
    if ha.max_bindings == 0 {
        c.err(
            o.ha("simultaneous-bindings"),
            "simultaneous-bindings 0 would refuse every registration".to_owned(),
            Some("1 turns simultaneous bindings off; the default is 5".to_owned()),
        );
    }
    c.acl(
        ha.roam_access,
        o.ha("roam-access"),
        "ip mobile home-agent roam-access",
    );
    c.acl(
        ha.care_of_access,
        o.ha("care-of-access"),
        "ip mobile home-agent care-of-access",
    );
    if let Some(r) = &ha.redundancy {
        if r.group.is_empty() {
            c.err(
                o.ha("redundancy"),
                "empty redundancy group name".to_owned(),
                None,
            );
        }
    }
    let fa = &config.foreign_agent;
    if !(5..=600).contains(&fa.reg_wait_secs) {
        c.err(
            o.fa("reg-wait"),
            format!("reg-wait {} is out of range", fa.reg_wait_secs),
            Some("the pending-registration timeout is 5-600 seconds (default 15)".to_owned()),
        );
    }

    // Virtual networks must not overlap one another.
    for (i, net) in config.virtual_networks.iter().enumerate() {
        if let Some(other) = config.virtual_networks[..i]
            .iter()
            .find(|n| n.range().overlaps(&net.range()))
        {
            c.err(
                o.virtual_networks.get(i).copied(),
                format!("virtual network {net} overlaps virtual network {other}"),
                Some("each home address must belong to exactly one virtual network".to_owned()),
            );
        }
    }

    // Host groups: ranges in order, no overlaps, homes defined, lists defined.
    let mut ordered: Vec<(AddressRange, usize)> = Vec::new();
    for (i, g) in config.host_groups.iter().enumerate() {
        let loc = o.host_groups.get(i).copied();
        if c.range(&g.range, loc, "host") {
            ordered.push((g.range, i));
            c.location(&g.location, loc, &[g.range]);
        }
        c.acl(g.care_of_access, loc, "ip mobile host care-of-access");
        c.lifetime(g.lifetime, loc, "host lifetime");
    }
    ordered.sort();
    for w in ordered.windows(2) {
        let ((a, ia), (b, ib)) = (w[0], w[1]);
        if a.overlaps(&b) {
            let (first, second) = (ia.min(ib), ia.max(ib));
            let line = o.host_groups.get(first).map(|l| l.line);
            c.err(
                o.host_groups.get(second).copied(),
                format!(
                    "host range {} overlaps host range {}{}",
                    config.host_groups[second].range,
                    config.host_groups[first].range,
                    line.map_or(String::new(), |l| format!(" (line {l})"))
                ),
                Some("a home address belongs to one host group; split the ranges".to_owned()),
            );
        }
    }

    // NAI hosts.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, h) in config.nai_hosts.iter().enumerate() {
        let loc = o.nai_hosts.get(i).copied();
        c.nai(&h.nai, loc);
        if let Some(first) = seen.insert(nai_key(&h.nai), i) {
            let line = o.nai_hosts.get(first).map(|l| l.line);
            c.err(
                loc,
                format!(
                    "NAI host {} is configured twice{}",
                    h.nai,
                    line.map_or(String::new(), |l| format!(" (first at line {l})"))
                ),
                Some("keep one 'ip mobile host nai' line per NAI".to_owned()),
            );
        }
        match &h.address {
            HomeAddress::Static(a) => c.location(&h.location, loc, &[AddressRange::single(*a)]),
            HomeAddress::Pool(name) => match config.address_pools.get(name) {
                Some(pool) => c.location(&h.location, loc, &pool.ranges),
                None => c.err(
                    loc,
                    format!("address pool '{name}' is not defined"),
                    Some(format!("add 'ip local pool {name} LOWER UPPER'")),
                ),
            },
        }
        c.acl(h.care_of_access, loc, "ip mobile host nai care-of-access");
        c.lifetime(h.lifetime, loc, "host lifetime");
    }
    for (name, pool) in &config.address_pools {
        let loc = o.pools.get(name).copied();
        if pool.ranges.is_empty() {
            c.err(loc, format!("address pool '{name}' is empty"), None);
        }
        for r in &pool.ranges {
            c.range(r, loc, "pool");
        }
    }

    // Security associations.
    let mut by_key: HashMap<(Peer, u32), Vec<(AddressRange, usize)>> = HashMap::new();
    let mut by_nai: HashMap<(Peer, String, u32), usize> = HashMap::new();
    for (i, sa) in config.security_associations.iter().enumerate() {
        let loc = o.sas.get(i).copied();
        let p = sa.params();
        for (which, spi) in [("SPI", p.inbound_spi), ("outbound SPI", p.outbound_spi)] {
            if spi < MIN_SPI {
                c.err(
                    loc,
                    spi_reserved_message(which, spi),
                    Some(SPI_HINT.to_owned()),
                );
            }
            if p.inbound_spi == p.outbound_spi {
                break;
            }
        }
        if p.replay
            == (ReplaySetting::Timestamp {
                window_secs: Some(0),
            })
        {
            c.err(
                loc,
                "replay window 0 accepts no timestamp".to_owned(),
                Some("'replay timestamp within N' takes seconds, N >= 1 (default 7)".to_owned()),
            );
        }
        match &p.target {
            SaTarget::Range(r) => {
                if c.range(r, loc, "security association") {
                    by_key
                        .entry((p.peer, p.inbound_spi))
                        .or_default()
                        .push((*r, i));
                }
            }
            SaTarget::Nai(n) => {
                c.nai(n, loc);
                if let Some(first) = by_nai.insert((p.peer, nai_key(n), p.inbound_spi), i) {
                    dup_sa(
                        &mut c,
                        o,
                        first,
                        i,
                        &format!("nai {n}"),
                        p.inbound_spi,
                        p.peer,
                    );
                }
            }
        }
    }
    let mut keys: Vec<_> = by_key.into_iter().collect();
    keys.sort_by_key(|((peer, spi), _)| (*peer, *spi));
    for ((peer, spi), mut ranges) in keys {
        ranges.sort();
        let mut widest: Option<(AddressRange, usize)> = None;
        for (r, i) in ranges {
            if let Some((w, wi)) = widest {
                if w.upper >= r.lower {
                    let shared = AddressRange {
                        lower: r.lower,
                        upper: r.upper.min(w.upper),
                    };
                    dup_sa(
                        &mut c,
                        o,
                        wi.min(i),
                        wi.max(i),
                        &shared.to_string(),
                        spi,
                        peer,
                    );
                }
            }
            if widest.is_none_or(|(w, _)| r.upper > w.upper) {
                widest = Some((r, i));
            }
        }
    }

    // Access lists.
    for id in config.access_lists.keys() {
        if !is_standard_acl(u32::from(*id)) {
            c.err(
                o.access_lists.get(id).copied(),
                format!("access list number {id} is not a standard IP list"),
                Some(ACL_NUMBER_HINT.to_owned()),
            );
        }
    }

    // Interfaces.
    for (name, iface) in &config.interfaces {
        let irdp = &iface.irdp;
        if let Some(max) = irdp.max_advert_interval {
            if !(1..=1800).contains(&max) {
                c.err(
                    o.iface(name, "maxadvertinterval"),
                    format!("interface {name}: maxadvertinterval {max} is out of range"),
                    Some(
                        "1-1800 seconds (RFC 1256 allows 4-1800; mobility agents may advertise more often)"
                            .to_owned(),
                    ),
                );
            }
        }
        if let Some(min) = irdp.min_advert_interval {
            if min == 0 || min > irdp.max_interval() {
                c.err(
                    o.iface(name, "minadvertinterval"),
                    format!(
                        "interface {name}: minadvertinterval {min} must be 1 to maxadvertinterval ({})",
                        irdp.max_interval()
                    ),
                    None,
                );
            }
        }
        if let Some(hold) = irdp.holdtime {
            if hold < irdp.max_interval() || hold > 9000 {
                c.err(
                    o.iface(name, "holdtime"),
                    format!(
                        "interface {name}: holdtime {hold} must be maxadvertinterval ({}) to 9000",
                        irdp.max_interval()
                    ),
                    Some(
                        "an advertisement must live until the next one is due (RFC 1256)"
                            .to_owned(),
                    ),
                );
            }
        }
        if let Some(fs) = &iface.foreign_service {
            let loc = o.iface(name, "foreign-service");
            c.acl(fs.home_access, loc, "ip mobile foreign-service home-access");
            if let Some(limit) = fs.limit {
                if !(1..=1000).contains(&limit) {
                    c.err(
                        loc,
                        format!("interface {name}: foreign-service limit {limit} is out of range"),
                        Some("1-1000 visitors".to_owned()),
                    );
                }
            }
        }
        c.lifetime(
            iface.registration_lifetime,
            o.iface(name, "registration-lifetime"),
            "registration-lifetime",
        );
    }
    c.errors
}

fn dup_sa(
    c: &mut Checker<'_>,
    o: &Origins,
    first: usize,
    second: usize,
    what: &str,
    spi: u32,
    peer: Peer,
) {
    let line = o.sas.get(first).map(|l| l.line);
    c.err(
        o.sas.get(second).copied(),
        format!(
            "duplicate security association: {} {what} SPI {spi:X} is already configured{}",
            peer.keyword(),
            line.map_or(String::new(), |l| format!(" at line {l}"))
        ),
        Some("one association per address and SPI; give the other one its own SPI".to_owned()),
    );
}

pub(crate) const SPI_HINT: &str = "SPIs are hexadecimal, 100-FFFFFFFF ('spi 100' is 0x100 = 256); \
     0-FF are reserved (RFC 5944 §1.6)";

pub(crate) fn spi_reserved_message(which: &str, spi: u32) -> String {
    format!("{which} {spi:X} (decimal {spi}) is reserved")
}

pub(crate) const ACL_NUMBER_HINT: &str =
    "standard access lists are numbered 1-99 and 1300-1999; extended lists are not supported";

/// True when `name` can be a Linux interface name (kernel `dev_valid_name`).
pub(crate) fn linux_ifname_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
}

fn lint(config: &Config, o: &Origins, file: &str) -> Vec<Warning> {
    let mut w = Vec::new();
    let mut warn = |loc: Option<Loc>, msg: String| w.push(Warning::new(file, loc, msg));
    let ha = &config.home_agent;
    let fa = &config.foreign_agent;
    if !config.mobile_ip && (ha.enabled || fa.enabled) {
        warn(
            o.ha("enabled").or(o.fa("enabled")),
            "no 'router mobile': Mobile IP is off, so the home and foreign agent configured here \
             serve nobody"
                .to_owned(),
        );
    }
    if ha.enabled && config.host_groups.is_empty() && config.nai_hosts.is_empty() {
        warn(
            o.ha("enabled"),
            "the home agent has no mobile hosts ('ip mobile host')".to_owned(),
        );
    }
    if ha.redundancy.is_some() {
        warn(
            o.ha("redundancy"),
            "home agent redundancy is parsed but not yet acted on (a later feature)".to_owned(),
        );
    }
    if fa.enabled && fa.care_of.is_empty() {
        warn(
            o.fa("enabled"),
            "foreign agent has no care-of interface ('ip mobile foreign-agent care-of IF'); it \
             stays off until one is configured"
                .to_owned(),
        );
    }
    for (id, list) in &config.access_lists {
        let loc = o.access_lists.get(id).copied();
        if !list.rules.is_empty()
            && list
                .rules
                .iter()
                .all(|r| r.action == crate::AclAction::Deny)
        {
            warn(
                loc,
                format!(
                    "access-list {id} has only deny rules, so it permits no address (implicit deny \
                     at the end); add 'access-list {id} permit any' to let the others through"
                ),
            );
        }
        for (k, r) in list.rules.iter().enumerate() {
            let a = u32::from(r.address);
            if r.wildcard == Ipv4Addr::UNSPECIFIED && a != 0 && a & 0xff == 0 {
                let rule_loc = o.acl_rules.get(id).and_then(|v| v.get(k)).copied().or(loc);
                let bits = a.trailing_zeros().min(24);
                let wildcard = Ipv4Addr::from((1u32 << bits) - 1);
                warn(
                    rule_loc,
                    format!(
                        "access-list {id} {} {} matches only the single address {} (no wildcard \
                         given); for the whole network write '{} {wildcard}'",
                        r.action.keyword(),
                        r.address,
                        r.address,
                        r.address
                    ),
                );
            }
        }
    }
    for (i, g) in config.host_groups.iter().enumerate() {
        let loc = o.host_groups.get(i).copied();
        match g.sa_source {
            SaSource::Local => {
                let (lo, hi) = (u32::from(g.range.lower), u32::from(g.range.upper));
                let mut covered: u64 = 0;
                let mut first_gap: Option<Ipv4Addr> = None;
                let mut next = u64::from(lo);
                for (start, end, members) in config.index.sa_by_addr(Peer::Host).segments(lo, hi) {
                    if members.is_empty() {
                        continue;
                    }
                    let (s, e) = (u64::from(start.max(lo)), u64::from(end.min(hi)));
                    if s > e {
                        continue;
                    }
                    if first_gap.is_none() && s > next {
                        first_gap = Some(Ipv4Addr::from(next as u32));
                    }
                    covered += e - s + 1;
                    next = e + 1;
                }
                let total = g.range.count();
                if covered < total {
                    let first = first_gap.unwrap_or(Ipv4Addr::from(next.min(u64::from(hi)) as u32));
                    warn(
                        loc,
                        format!(
                            "{} of the {total} hosts {} have no security association (first: {first}); \
                             the home agent ignores their registrations",
                            total - covered,
                            g.range
                        ),
                    );
                }
            }
            SaSource::Aaa | SaSource::AaaLoadSa => warn(
                loc,
                format!(
                    "hosts {}: security associations from AAA are a later feature; until then only \
                     local 'ip mobile secure host' associations are used",
                    g.range
                ),
            ),
        }
    }
    for (i, h) in config.nai_hosts.iter().enumerate() {
        let loc = o.nai_hosts.get(i).copied();
        match h.sa_source {
            SaSource::Local => {
                if config.sa_for(Peer::Host, h.nai.as_str(), None).is_none() {
                    warn(
                        loc,
                        format!(
                            "NAI host {} has no security association ('ip mobile secure host nai {}'); \
                             the home agent ignores its registrations",
                            h.nai, h.nai
                        ),
                    );
                }
            }
            SaSource::Aaa | SaSource::AaaLoadSa => warn(
                loc,
                format!(
                    "NAI host {}: security associations from AAA are a later feature; until then \
                     only local ones are used",
                    h.nai
                ),
            ),
        }
    }
    // Interface names that Linux cannot have.
    let mut names: Vec<(&str, Option<Loc>)> = Vec::new();
    for (name, loc) in &o.interfaces {
        names.push((name, Some(*loc)));
    }
    for name in config.interfaces.keys() {
        if !o.interfaces.contains_key(name) {
            names.push((name, None));
        }
    }
    for (i, g) in config.host_groups.iter().enumerate() {
        if let HomeLocation::Interface(n) = &g.location {
            names.push((n, o.host_groups.get(i).copied()));
        }
    }
    for (i, h) in config.nai_hosts.iter().enumerate() {
        if let HomeLocation::Interface(n) = &h.location {
            names.push((n, o.nai_hosts.get(i).copied()));
        }
    }
    for n in &fa.care_of {
        names.push((n, o.fa("care-of")));
    }
    let mut reported: Vec<&str> = Vec::new();
    for (name, loc) in names {
        if !linux_ifname_ok(name) && !reported.contains(&name) {
            reported.push(name);
            warn(
                loc,
                format!(
                    "'{name}' cannot be a Linux interface name (at most 15 characters, no '/', ':' \
                     or spaces); mipd will not find it — use the Linux name, e.g. eth1"
                ),
            );
        }
    }
    for (name, iface) in &config.interfaces {
        if iface.foreign_service.is_some() && !fa.enabled {
            warn(
                o.iface(name, "foreign-service"),
                format!(
                    "interface {name} has foreign-service but the foreign agent is not enabled \
                     ('ip mobile foreign-agent care-of IF')"
                ),
            );
        }
        if (iface.foreign_service.is_some() || iface.prefix_length) && !iface.irdp.enabled {
            warn(
                o.iface(name, "foreign-service").or(o.iface(name, "prefix-length")),
                format!(
                    "interface {name}: agent advertisements ride on router discovery; add 'ip irdp' \
                     or nothing is advertised there"
                ),
            );
        }
    }
    w
}
