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
//! | co-located care-of address | `HoA/32` on the visited link, and `HoA/32` on the TUN device | via the link's router, `src HoA` | care-of address on the link; tunnel from the home agent decapsulated into the TUN device; with T, `from HoA lookup TABLE` → TUN (RFC 3024) |
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
use mip_io::net::mn::{attach_colocated, detach_colocated, ColocatedBinding};
use mip_io::net::netlink::{Netlink, Route, MAIN_TABLE};
use mip_io::net::sysctl;

/// The engine tunnel of the co-located binding.
const TUNNEL_ID: u32 = 1;
/// Reverse tunnelling of a co-located binding: the table of `from HoA` and the rule's
/// priority.
pub const REVERSE_TABLE: u32 = 434;
/// Priority of the `from HoA lookup` rule.
pub const REVERSE_PRIORITY: u32 = 434;

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
    colocated: Option<ColocatedBinding>,
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
    ) -> io::Result<Plumbing> {
        let nl = if apply { Some(Netlink::open()?) } else { None };
        let engine = if apply && tunnel {
            Some(TunnelEngine::start(EngineConfig {
                tun_name: "mipmn%d".into(),
                ..EngineConfig::default()
            })?)
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

    fn clear_default(&mut self, ifindex: Option<u32>) {
        let route = self.default_route.take().or_else(|| {
            ifindex.map(|i| Route {
                device: Some(i),
                ..Route::default_via_device(i, MAIN_TABLE)
            })
        });
        let Some(mut route) = route else {
            return;
        };
        // Delete whatever default leaves through that device.
        route.gateway = None;
        route.preferred_source = None;
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

    fn clear_agent(&mut self) {
        let Some(a) = self.agent.take() else {
            return;
        };
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

    fn clear_link_address(&mut self) {
        let Some(l) = self.link_address.take() else {
            return;
        };
        if let Some(nl) = self.nl.as_mut() {
            let r = gone_ok(nl.addr_delete(l.ifindex, l.address, l.prefix_len));
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

    fn clear_colocated(&mut self) {
        let Some(b) = self.colocated.take() else {
            return;
        };
        if let (Some(nl), Some(engine)) = (self.nl.as_mut(), self.engine.as_ref()) {
            let r = detach_colocated(nl, engine, &b);
            self.check(
                &format!("detach co-located binding {}", b.care_of_address),
                r,
            );
        } else {
            tracing::info!("data plane (log): detach co-located {}", b.care_of_address);
        }
    }

    /// The link went down: nothing of it is usable any more. The home address stays (as
    /// `/32`), everything learnt on the link goes.
    pub fn link_down(&mut self, ifindex: u32) {
        self.clear_colocated();
        self.clear_agent();
        if self.link_address.is_some_and(|l| l.ifindex == ifindex) {
            self.clear_link_address();
        }
        self.clear_default(Some(ifindex));
        if self.home_on.is_none_or(|(i, _)| i == ifindex) {
            self.home_address_on(ifindex, 32);
        }
    }

    /// The link was identified as the home link: home address with the home prefix, default
    /// route via the home gateway.
    pub fn home_link(&mut self, ifindex: u32) {
        self.clear_colocated();
        self.clear_agent();
        self.clear_link_address();
        self.home_address_on(ifindex, self.home_prefix_len);
        let r = self.default_via(ifindex, self.home_gateway, None);
        self.set_default(r);
    }

    /// The link was identified as the co-located care-of address's: address and default
    /// route via its router (what a DHCP client would do), home address kept as `/32`.
    pub fn colocated_link(
        &mut self,
        ifindex: u32,
        address: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
    ) {
        self.clear_agent();
        self.home_address_on(ifindex, 32);
        let want = LinkAddress {
            ifindex,
            address,
            prefix_len,
        };
        if self.link_address != Some(want) {
            self.clear_link_address();
            if let Some(nl) = self.nl.as_mut() {
                let r = nl.addr_add(ifindex, address, prefix_len);
                self.check(&format!("address {address}/{prefix_len} on {ifindex}"), r);
            } else {
                tracing::info!("data plane (log): address {address}/{prefix_len} on {ifindex}");
            }
            self.link_address = Some(want);
        }
        if let Some(g) = gateway {
            let src = (!self.home_address.is_unspecified()).then_some(self.home_address);
            let r = self.default_via(ifindex, g, src);
            self.set_default(r);
        }
    }

    /// Registering or registered through foreign agent `agent` (link-layer address `mac`):
    /// `FA/32 dev IF scope link`, permanent neighbour entry, default route via the agent.
    pub fn foreign_agent(&mut self, ifindex: u32, agent: Ipv4Addr, mac: Option<[u8; 6]>) {
        let want = AgentRoutes {
            ifindex,
            agent,
            mac,
        };
        self.clear_colocated();
        self.clear_link_address();
        self.home_address_on(ifindex, 32);
        if self.agent != Some(want) {
            self.clear_agent();
            if let Some(nl) = self.nl.as_mut() {
                let mut r = Ok(());
                if let Some(m) = mac {
                    r = nl.neigh_replace(ifindex, agent, m);
                }
                let mut route = Route::host_via_device(agent, ifindex);
                route.preferred_source =
                    (!self.home_address.is_unspecified()).then_some(self.home_address);
                let r = r.and_then(|()| nl.route_replace(&route));
                self.check(&format!("routes to foreign agent {agent} on {ifindex}"), r);
            } else {
                tracing::info!("data plane (log): routes to foreign agent {agent} on {ifindex}");
            }
            self.agent = Some(want);
        }
        let src = (!self.home_address.is_unspecified()).then_some(self.home_address);
        let r = self.default_via(ifindex, agent, src);
        self.set_default(r);
    }

    /// A co-located registration was accepted: the tunnel from the home agent (and back,
    /// with T).
    pub fn colocated(&mut self, c: Colocated) {
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
        if self.colocated.as_ref() == Some(&binding) {
            return;
        }
        self.clear_colocated();
        self.clear_agent();
        self.home_address_on(c.ifindex, 32);
        match (self.nl.as_mut(), self.engine.as_ref()) {
            (Some(nl), Some(engine)) => {
                let r = attach_colocated(nl, engine, &binding).map(|mtu| {
                    tracing::debug!(mtu, tun = engine.tun_name(), "co-located tunnel up");
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
        self.colocated = Some(binding);
    }

    /// At home: the home configuration, nothing of the foreign links. True when the caller
    /// should now send gratuitous ARP for the home address (`gratuitous_arp` asked and things
    /// are installed); it is sent after the deregistration, which is more urgent.
    pub fn at_home(&mut self, ifindex: u32, gratuitous_arp: bool) -> bool {
        self.home_link(ifindex);
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
        self.clear_colocated();
        self.clear_agent();
        self.clear_default(None);
    }

    /// The daemon stops: away from home, everything it installed goes (the home address
    /// stays); at home the home configuration is left as it is. `arp_announce` is restored.
    pub fn shutdown(&mut self, at_home: bool) {
        if !at_home {
            self.detached();
            self.clear_link_address();
        }
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
