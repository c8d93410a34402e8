//! The mobile node's data plane: addresses, routes, neighbours and the co-located tunnel.
//!
//! # Who owns the home address
//!
//! The home address never leaves the host, so that sockets bound to it (a TCP session, a
//! listener) survive every move:
//!
//! | state | home address | default route | other |
//! |---|---|---|---|
//! | at home | `HoA/len(home network)` on the home link | via the home gateway | gratuitous ARP on arrival |
//! | through a foreign agent | `HoA/32` on the visited link | via the agent, `src HoA` | `FA/32 dev IF scope link`, permanent neighbour FA → its MAC (no ARP, RFC 5944 §4.6) |
//! | co-located care-of address | `HoA/32` on the visited link, and `HoA/32` on the TUN device | via the link's router, `src HoA` | care-of address on the link with `from CoA lookup 435` → the router (set when the link is recognised, so the registration leaves that way); tunnel from the home agent decapsulated into the TUN device; with T, `from HoA lookup 434` → TUN (RFC 3024), except the home agent itself, reached directly |
//! | link down / detached | `HoA/32` on the link | none | — |
//!
//! The home network's prefix route exists only at home: away, the home agent and the other
//! home hosts must not look on-link. Moving between `/len` and `/32` adds the new form before
//! deleting the old one, so the address is local at every instant. Packets the foreign agent
//! delivers arrive on the visited link addressed to the home address; packets the home agent
//! tunnels to a co-located care-of address are decapsulated by the tunnel engine and written
//! into the TUN device, where the home address is local too.
//!
//! ARP: `arp_announce=2` on the mobile node's interfaces makes the kernel pick, for its own
//! ARP requests, an address of the target's subnet on that interface (the care-of address),
//! never the home address (RFC 5944 §4.6: no ARP for the home address away from home).
//!
//! With `--dataplane log` nothing is installed: every step is logged instead.

use std::io;
use std::net::Ipv4Addr;

use mip_io::net::engine::{Encapsulation, EngineConfig, TunnelEngine};

use crate::args::EngineTuning;
use mip_io::net::mn::{attach_colocated, detach_colocated, ColocatedBinding};
use mip_io::net::netlink::{Netlink, Route, Rule, MAIN_TABLE};
use mip_io::net::sysctl;

/// The engine tunnel of the co-located binding.
const TUNNEL_ID: u32 = 1;
/// Reverse tunnelling of a co-located binding: the table of `from HoA` and the rule's
/// priority.
pub const REVERSE_TABLE: u32 = 434;
/// Priority of the `from HoA lookup` rule.
pub const REVERSE_PRIORITY: u32 = 434;
/// Packets from the co-located care-of address (the registration) leave through its link's
/// router whatever the main table says: `from CoA lookup SOURCE_TABLE`, default via the
/// router there.
pub const SOURCE_TABLE: u32 = 435;
/// Priority of the `from CoA lookup` rule.
pub const SOURCE_PRIORITY: u32 = 435;

fn gone_ok(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::AddrNotAvailable
            ) =>
        {
            Ok(())
        }
        r => r,
    }
}

/// With a reverse tunnel, `HA/32 via ROUTER dev IF` in the reverse tunnel's table: the node's
/// packets to the home agent itself go to it directly (the tunnel would carry them to their
/// own destination, which the tunnel engine drops as a loop).
fn home_agent_direct(b: &ColocatedBinding, ifindex: u32, gateway: Ipv4Addr) -> Route {
    Route {
        destination: b.home_agent,
        prefix_len: 32,
        table: REVERSE_TABLE,
        device: Some(ifindex),
        gateway: Some(gateway),
        preferred_source: None,
        metric: None,
    }
}

/// A foreign agent's routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AgentRoutes {
    ifindex: u32,
    agent: Ipv4Addr,
    mac: Option<[u8; 6]>,
}

/// A co-located care-of address configured on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LinkAddress {
    ifindex: u32,
    address: Ipv4Addr,
    prefix_len: u8,
    /// The link's router: `from ADDRESS lookup SOURCE_TABLE`, default via it there.
    gateway: Option<Ipv4Addr>,
}

/// What a co-located registration asks of the data plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colocated {
    /// The link.
    pub ifindex: u32,
    /// The care-of address.
    pub care_of: Ipv4Addr,
    /// The home agent.
    pub home_agent: Ipv4Addr,
    /// The encapsulation granted.
    pub encapsulation: Encapsulation,
    /// T granted.
    pub reverse_tunnel: bool,
}

/// The data plane of the mobile node (see the module documentation).
pub struct Plumbing {
    nl: Option<Netlink>,
    engine: Option<TunnelEngine>,
    home_address: Ipv4Addr,
    home_prefix_len: u8,
    home_gateway: Ipv4Addr,
    /// Where the home address is, with which prefix length.
    home_on: Option<(u32, u8)>,
    default_route: Option<Route>,
    agent: Option<AgentRoutes>,
    link_address: Option<LinkAddress>,
    /// The co-located binding, its link and router.
    colocated: Option<(u32, ColocatedBinding, Option<Ipv4Addr>)>,
    /// `arp_announce` values to restore: (interface, old value).
    sysctls: Vec<(String, String)>,
    /// Operations that failed (for the view and the log).
    pub failures: u64,
}

impl Plumbing {
    /// A data plane for `home_address/home_prefix_len` whose home gateway is
    /// `home_gateway`. `apply`: install things (else log only). `tunnel`: start the tunnel
    /// engine (a TUN device) for co-located care-of addresses.
    ///
    /// # Errors
    /// Netlink or the tunnel engine cannot be opened.
    pub fn new(
        apply: bool,
        tunnel: bool,
        home_address: Ipv4Addr,
        home_prefix_len: u8,
        home_gateway: Ipv4Addr,
        tuning: &EngineTuning,
    ) -> io::Result<Plumbing> {
        let nl = if apply { Some(Netlink::open()?) } else { None };
        let engine = if apply && tunnel {
            let mut cfg = EngineConfig {
                tun_name: "mipmn%d".into(),
                ..EngineConfig::default()
            };
            tuning.apply(&mut cfg);
            Some(TunnelEngine::start(cfg)?)
        } else {
            None
        };
        if let Some(e) = &engine {
            tracing::info!(
                tun = e.tun_name(),
                "tunnel engine started for co-located care-of addresses"
            );
        }
        Ok(Plumbing {
            nl,
            engine,
            home_address,
            home_prefix_len,
            home_gateway,
            home_on: None,
            default_route: None,
            agent: None,
            link_address: None,
            colocated: None,
            sysctls: Vec::new(),
            failures: 0,
        })
    }

    /// The home address in use changed (an NAI node got one assigned).
    pub fn set_home_address(&mut self, a: Ipv4Addr) {
        if a != self.home_address {
            self.home_address = a;
            self.home_on = None;
        }
    }

    /// The name of the TUN device, when there is one.
    pub fn tun_name(&self) -> Option<&str> {
        self.engine.as_ref().map(TunnelEngine::tun_name)
    }

    /// The tunnel engine (co-located care-of addresses with `--dataplane tun` only), for
    /// `show ip mobile dataplane`.
    pub fn engine(&self) -> Option<&TunnelEngine> {
        self.engine.as_ref()
    }

    fn check(&mut self, what: &str, r: io::Result<()>) {
        match r {
            Ok(()) => tracing::debug!("data plane: {what}"),
            Err(e) => {
                self.failures += 1;
                tracing::warn!("data plane: {what}: {e}");
            }
        }
    }

    /// `arp_announce=2` on the mobile node's interface (restored by [`Plumbing::shutdown`]).
    pub fn prepare_interface(&mut self, name: &str) {
        if self.nl.is_none() || self.sysctls.iter().any(|(n, _)| n == name) {
            return;
        }
        match sysctl::read_iface(name, "arp_announce") {
            Ok(old) => {
                if old != "2" {
                    let r = sysctl::write_iface(name, "arp_announce", "2");
                    self.check(&format!("{name}: arp_announce=2"), r);
                }
                self.sysctls.push((name.to_owned(), old));
            }
            Err(e) => tracing::debug!("{name}: arp_announce not readable yet: {e}"),
        }
    }

    /// Puts the home address on `ifindex` with `prefix_len`, adding before removing.
    fn home_address_on(&mut self, ifindex: u32, prefix_len: u8) {
        if self.home_address.is_unspecified() || self.home_on == Some((ifindex, prefix_len)) {
            return;
        }
        let hoa = self.home_address;
        if let Some(nl) = self.nl.as_mut() {
            let r = nl.addr_add(ifindex, hoa, prefix_len);
            self.check(&format!("address {hoa}/{prefix_len} on {ifindex}"), r);
        } else {
            tracing::info!("data plane (log): address {hoa}/{prefix_len} on {ifindex}");
        }
        // The other forms, wherever they were.
        let mut stale = vec![(ifindex, self.home_prefix_len), (ifindex, 32)];
        if let Some(old) = self.home_on.filter(|o| !stale.contains(o)) {
            stale.push(old);
        }
        for (i, l) in stale {
            if (i, l) == (ifindex, prefix_len) {
                continue;
            }
            if let Some(nl) = self.nl.as_mut() {
                let r = gone_ok(nl.addr_delete(i, hoa, l));
                self.check(&format!("remove address {hoa}/{l} from {i}"), r);
            }
        }
        self.home_on = Some((ifindex, prefix_len));
    }

    fn set_default(&mut self, route: Route) {
        if self.default_route.as_ref() == Some(&route) {
            return;
        }
        let what = format!(
            "default route via {} dev {}",
            route.gateway.map_or("-".into(), |g| g.to_string()),
            route.device.unwrap_or(0)
        );
        if let Some(nl) = self.nl.as_mut() {
            let r = nl.route_replace(&route);
            self.check(&what, r);
        } else {
            tracing::info!("data plane (log): {what}");
        }
        self.default_route = Some(route);
    }

    /// Removes the default route (only if it leaves through `ifindex`, when given; without
    /// one known, whatever default leaves through `ifindex`).
    fn clear_default(&mut self, ifindex: Option<u32>) {
        let route = match (self.default_route.take(), ifindex) {
            (Some(r), Some(i)) if r.device != Some(i) => {
                self.default_route = Some(r);
                return;
            }
            (Some(r), _) => r,
            (None, Some(i)) => Route::default_via_device(i, MAIN_TABLE),
            (None, None) => return,
        };
        // Delete whatever default leaves through that device.
        let route = Route {
            gateway: None,
            preferred_source: None,
            ..route
        };
        if let Some(nl) = self.nl.as_mut() {
            let r = gone_ok(nl.route_delete(&route));
            self.check("remove the default route", r);
        }
    }

    fn default_via(&self, ifindex: u32, gateway: Ipv4Addr, src: Option<Ipv4Addr>) -> Route {
        Route {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            table: MAIN_TABLE,
            device: Some(ifindex),
            gateway: Some(gateway),
            preferred_source: src,
            metric: None,
        }
    }

    fn home_src(&self) -> Option<Ipv4Addr> {
        (!self.home_address.is_unspecified()).then_some(self.home_address)
    }

    fn clear_agent(&mut self, ifindex: Option<u32>) {
        let Some(a) = self.agent.take() else {
            return;
        };
        if ifindex.is_some_and(|i| i != a.ifindex) {
            self.agent = Some(a);
            return;
        }
        if let Some(nl) = self.nl.as_mut() {
            let r = gone_ok(nl.route_delete(&Route::host_via_device(a.agent, a.ifindex)));
            let r2 = if a.mac.is_some() {
                gone_ok(nl.neigh_delete(a.ifindex, a.agent))
            } else {
                Ok(())
            };
            self.check(
                &format!("remove the routes of foreign agent {}", a.agent),
                r.and(r2),
            );
        }
    }

    fn clear_link_address(&mut self, ifindex: Option<u32>) {
        let Some(l) = self.link_address.take() else {
            return;
        };
        if ifindex.is_some_and(|i| i != l.ifindex) {
            self.link_address = Some(l);
            return;
        }
        if let Some(nl) = self.nl.as_mut() {
            let mut r = Ok(());
            if let Some(g) = l.gateway {
                r = gone_ok(nl.rule_delete(&Rule::from_host(
                    l.address,
                    None,
                    SOURCE_TABLE,
                    SOURCE_PRIORITY,
                )));
                let mut route = Route::default_via_device(l.ifindex, SOURCE_TABLE);
                route.gateway = Some(g);
                r = r.and(gone_ok(nl.route_delete(&route)));
            }
            r = r.and(gone_ok(nl.addr_delete(l.ifindex, l.address, l.prefix_len)));
            self.check(
                &format!(
                    "remove address {}/{} from {}",
                    l.address, l.prefix_len, l.ifindex
                ),
                r,
            );
        } else {
            tracing::info!("data plane (log): remove address {}", l.address);
        }
    }

    fn clear_colocated(&mut self, ifindex: Option<u32>) {
        let Some((i, b, gateway)) = self.colocated.take() else {
            return;
        };
        if ifindex.is_some_and(|x| x != i) {
            self.colocated = Some((i, b, gateway));
            return;
        }
        if let (Some(nl), Some(engine)) = (self.nl.as_mut(), self.engine.as_ref()) {
            let mut r = Ok(());
            if let (Some(g), true) = (gateway, b.reverse.is_some()) {
                r = gone_ok(nl.route_delete(&home_agent_direct(&b, i, g)));
            }
            let r = r.and(detach_colocated(nl, engine, &b));
            self.check(
                &format!("detach co-located binding {}", b.care_of_address),
                r,
            );
        } else {
            tracing::info!("data plane (log): detach co-located {}", b.care_of_address);
        }
    }

    /// Link `ifindex` went down: nothing learnt on it is usable any more. The home address
    /// stays (as `/32` if it was there); what belongs to other links stays.
    pub fn link_down(&mut self, ifindex: u32) {
        self.clear_colocated(Some(ifindex));
        self.clear_agent(Some(ifindex));
        self.clear_link_address(Some(ifindex));
        self.clear_default(Some(ifindex));
        if self.home_on.is_none_or(|(i, _)| i == ifindex) {
            self.home_address_on(ifindex, 32);
        }
    }

    /// Link `ifindex` was identified as the home link: the home address with the home prefix
    /// there (the deregistration goes out on-link). Routes follow when the node uses it
    /// ([`Plumbing::at_home`]).
    pub fn home_link(&mut self, ifindex: u32) {
        self.home_address_on(ifindex, self.home_prefix_len);
    }

    /// Link `ifindex` was identified as the co-located care-of address's: the address (what a
    /// DHCP client would do), and `from CoA` routed via the link's router so that the
    /// registration reaches the home agent whatever the main table says.
    pub fn colocated_link(
        &mut self,
        ifindex: u32,
        address: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
    ) {
        let want = LinkAddress {
            ifindex,
            address,
            prefix_len,
            gateway,
        };
        if self.link_address == Some(want) {
            return;
        }
        self.clear_link_address(None);
        if let Some(nl) = self.nl.as_mut() {
            let mut r = nl.addr_add(ifindex, address, prefix_len);
            if let Some(g) = gateway {
                let mut route = Route::default_via_device(ifindex, SOURCE_TABLE);
                route.gateway = Some(g);
                r = r.and_then(|()| nl.route_replace(&route)).and_then(|()| {
                    nl.rule_add(&Rule::from_host(
                        address,
                        None,
                        SOURCE_TABLE,
                        SOURCE_PRIORITY,
                    ))
                });
            }
            self.check(
                &format!("address {address}/{prefix_len} on {ifindex}, its source route"),
                r,
            );
        } else {
            tracing::info!("data plane (log): address {address}/{prefix_len} on {ifindex}");
        }
        self.link_address = Some(want);
    }

    /// Registering or registered through foreign agent `agent` (link-layer address `mac`):
    /// `FA/32 dev IF scope link`, permanent neighbour entry, default route via the agent.
    pub fn foreign_agent(&mut self, ifindex: u32, agent: Ipv4Addr, mac: Option<[u8; 6]>) {
        let want = AgentRoutes {
            ifindex,
            agent,
            mac,
        };
        self.clear_colocated(None);
        self.home_address_on(ifindex, 32);
        if self.agent != Some(want) {
            self.clear_agent(None);
            let src = self.home_src();
            if let Some(nl) = self.nl.as_mut() {
                let mut r = Ok(());
                if let Some(m) = mac {
                    r = nl.neigh_replace(ifindex, agent, m);
                }
                let mut route = Route::host_via_device(agent, ifindex);
                route.preferred_source = src;
                let r = r.and_then(|()| nl.route_replace(&route));
                self.check(&format!("routes to foreign agent {agent} on {ifindex}"), r);
            } else {
                tracing::info!("data plane (log): routes to foreign agent {agent} on {ifindex}");
            }
            self.agent = Some(want);
        }
        let r = self.default_via(ifindex, agent, self.home_src());
        self.set_default(r);
    }

    /// A co-located registration was accepted: default route via the link's router, the
    /// tunnel from the home agent (and back, with T).
    pub fn colocated(&mut self, c: Colocated, gateway: Option<Ipv4Addr>) {
        let binding = ColocatedBinding {
            home_address: self.home_address,
            home_agent: c.home_agent,
            care_of_address: c.care_of,
            encapsulation: c.encapsulation,
            tunnel: TUNNEL_ID,
            reverse: c
                .reverse_tunnel
                .then_some((REVERSE_TABLE, REVERSE_PRIORITY)),
        };
        self.clear_agent(None);
        self.home_address_on(c.ifindex, 32);
        if let Some(g) = gateway {
            let r = self.default_via(c.ifindex, g, self.home_src());
            self.set_default(r);
        }
        if self.colocated.as_ref() == Some(&(c.ifindex, binding.clone(), gateway)) {
            return;
        }
        self.clear_colocated(None);
        match (self.nl.as_mut(), self.engine.as_ref()) {
            (Some(nl), Some(engine)) => {
                let r = attach_colocated(nl, engine, &binding).and_then(|mtu| {
                    tracing::debug!(mtu, tun = engine.tun_name(), "co-located tunnel up");
                    match (gateway, binding.reverse.is_some()) {
                        // Packets to the home agent itself are not tunnelled to it.
                        (Some(g), true) => {
                            nl.route_replace(&home_agent_direct(&binding, c.ifindex, g))
                        }
                        _ => Ok(()),
                    }
                });
                self.check(
                    &format!(
                        "co-located binding {} <- {} ({:?}{})",
                        binding.care_of_address,
                        binding.home_agent,
                        binding.encapsulation,
                        if c.reverse_tunnel {
                            ", reverse tunnel"
                        } else {
                            ""
                        }
                    ),
                    r,
                );
            }
            (Some(_), None) => {
                self.failures += 1;
                tracing::warn!("data plane: a co-located binding but no tunnel engine");
            }
            _ => tracing::info!(
                "data plane (log): co-located binding {} <- {}",
                binding.care_of_address,
                binding.home_agent
            ),
        }
        self.colocated = Some((c.ifindex, binding, gateway));
    }

    /// At home on `ifindex`: the home configuration, default route via the home gateway,
    /// nothing of the foreign links. True when the caller should now send gratuitous ARP
    /// for the home address (`gratuitous_arp` asked and things are installed); it is sent
    /// after the deregistration, which is more urgent.
    pub fn at_home(&mut self, ifindex: u32, gratuitous_arp: bool) -> bool {
        self.clear_colocated(None);
        self.clear_agent(None);
        self.clear_link_address(Some(ifindex));
        self.home_address_on(ifindex, self.home_prefix_len);
        let r = self.default_via(ifindex, self.home_gateway, None);
        self.set_default(r);
        if !gratuitous_arp || self.home_address.is_unspecified() {
            return false;
        }
        if self.nl.is_none() {
            tracing::info!("data plane (log): gratuitous ARP for {}", self.home_address);
            return false;
        }
        true
    }

    /// Counts a failed operation of the caller's.
    pub fn failed(&mut self, what: &str, e: &io::Error) {
        self.failures += 1;
        tracing::warn!("data plane: {what}: {e}");
    }

    /// No point of attachment: routes and tunnel go, the addresses stay.
    pub fn detached(&mut self) {
        self.clear_colocated(None);
        self.clear_agent(None);
        self.clear_default(None);
    }

    /// The daemon stops: away from home, everything it installed goes (the home address
    /// stays); at home the home configuration is left as it is. `arp_announce` is restored.
    pub fn shutdown(&mut self, at_home: bool) {
        if !at_home {
            self.detached();
        }
        self.clear_link_address(None);
        for (name, old) in std::mem::take(&mut self.sysctls) {
            if old != "2" {
                let r = sysctl::write_iface(&name, "arp_announce", &old);
                self.check(&format!("{name}: arp_announce={old}"), r);
            }
        }
        // Dropping the engine removes the TUN device.
        self.engine = None;
    }
}
