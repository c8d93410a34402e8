//! The home agent's data plane on Linux: [`LinuxHaDataPlane`] carries out
//! [`DataPlaneRequest`]s with the [`TunnelEngine`], rtnetlink and `AF_PACKET`.
//!
//! | Request | What happens |
//! |---|---|
//! | `AddTunnel` | engine tunnel (home agent address → care-of address, the registration's encapsulation; GRE without key); with `reverse_allowed`, `accept_from(care-of address)` |
//! | `SetTunnelReverse` | `accept_from` / `stop_accepting` the care-of address |
//! | `RemoveTunnel` | engine tunnel removed (with its routes and accepts); kernel host routes left without a tunnel removed |
//! | `AddHostRoute` | engine route home address → tunnel, and the kernel host route `HoA/32 dev <tun>` (replace) |
//! | `RemoveHostRoute` | engine route removed; the kernel route too when it was the address's last tunnel |
//! | `ProxyArp` | proxy neighbour `HoA dev <home link>` added / removed (needs `ip_forward=1`, set at start) |
//! | `GratuitousArp` | `MobileNodeLeft`: both gratuitous ARP forms with the home agent's MAC on the home link. `MobileNodeReturned`: both forms with the mobile node's own MAC when the home agent's neighbour table has it (it usually does: the returning node ARPs for the home agent to deregister), else nothing (the node announces itself, RFC 5944 §4.6) |
//! | `BroadcastForwarding` | enable: the engine listens for broadcasts on the request's home link (its subnet-directed broadcast addresses read now) and sends a copy of each into the binding's tunnel, nested (IP in IP to the home address first) unless `colocated` — see [`broadcast`](super::broadcast); disable: the copies stop, and the link is no longer listened on once no binding there has B. Without an interface (virtual home network) there are no broadcasts: accepted, nothing to do |
//!
//! Requests are applied synchronously; a failure is returned (and counted) and leaves what
//! was already done in place. [`DataPlane::apply_batch`] does the same for many requests but
//! writes the kernel's part of consecutive `AddHostRoute` and `ProxyArp` (enable) requests in
//! netlink batches ([`Netlink::batch`]); the engine's part (tunnels, engine routes) is done
//! request by request in order, and any other request first waits for the kernel batch
//! queued before it, so requests take effect in the order they were emitted. Dropping the data plane stops the engine (the TUN device and
//! its routes go with it) and removes the proxy neighbours it added.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::net::Ipv4Addr;

use mip_ha::{ArpReason, DataPlaneRequest};

use super::arp::{gratuitous_arp_frame_from, ArpSocket, GratuitousArpKind};
use super::broadcast::directed_broadcast;
use super::engine::{
    BroadcastTarget, Encapsulation, EngineConfig, TunnelEngine, TunnelId, TunnelSpec,
};
use super::netlink::{Netlink, NlOp, Route};
use super::sysctl;
use crate::dataplane::{DataPlane, DataPlaneCounts, TunnelTraffic};

/// Settings of [`LinuxHaDataPlane`].
#[derive(Clone, Debug)]
pub struct HaDataPlaneConfig {
    /// The engine (TUN name, MTU, outer TTL, ...).
    pub engine: EngineConfig,
    /// Tunnel MTU; `None`: the path MTU to each care-of address less the overhead.
    pub tunnel_mtu: Option<u16>,
    /// Set `net.ipv4.ip_forward=1` at start (needed to forward into the tunnel and for proxy
    /// ARP).
    pub enable_forwarding: bool,
    /// Gratuitous ARP forms sent per request.
    pub gratuitous_arp: Vec<GratuitousArpKind>,
}

impl Default for HaDataPlaneConfig {
    fn default() -> Self {
        HaDataPlaneConfig {
            engine: EngineConfig::default(),
            tunnel_mtu: None,
            enable_forwarding: true,
            gratuitous_arp: vec![GratuitousArpKind::Request, GratuitousArpKind::Reply],
        }
    }
}

/// The home agent's data plane. See the module documentation.
#[derive(Debug)]
pub struct LinuxHaDataPlane {
    engine: TunnelEngine,
    nl: Netlink,
    arp: ArpSocket,
    cfg: HaDataPlaneConfig,
    counts: DataPlaneCounts,
    /// Home address → tunnels it is routed through (the kernel route exists while non-empty).
    routes: HashMap<Ipv4Addr, BTreeSet<TunnelId>>,
    /// Proxy neighbours installed: (address, ifindex).
    proxies: HashSet<(Ipv4Addr, u32)>,
    /// Bindings receiving home-link broadcasts: (home address, tunnel) → target.
    broadcast: HashMap<(Ipv4Addr, TunnelId), BroadcastTarget>,
}

fn count(c: &mut DataPlaneCounts, req: &DataPlaneRequest) {
    match req {
        DataPlaneRequest::AddTunnel { .. } => c.add_tunnel += 1,
        DataPlaneRequest::RemoveTunnel { .. } => c.remove_tunnel += 1,
        DataPlaneRequest::SetTunnelReverse { .. } => c.set_tunnel_reverse += 1,
        DataPlaneRequest::AddHostRoute { .. } => c.add_host_route += 1,
        DataPlaneRequest::RemoveHostRoute { .. } => c.remove_host_route += 1,
        DataPlaneRequest::ProxyArp { enable: true, .. } => c.proxy_arp_on += 1,
        DataPlaneRequest::ProxyArp { enable: false, .. } => c.proxy_arp_off += 1,
        DataPlaneRequest::GratuitousArp { .. } => c.gratuitous_arp += 1,
        DataPlaneRequest::BroadcastForwarding { enable: true, .. } => c.broadcast_on += 1,
        DataPlaneRequest::BroadcastForwarding { enable: false, .. } => c.broadcast_off += 1,
    }
}

impl LinuxHaDataPlane {
    /// Starts the engine and opens a netlink and a packet socket, in the calling thread's
    /// network namespace (every later request acts there, whichever thread calls); sets `ip_forward=1` if configured.
    ///
    /// # Errors
    /// Not permitted, or the TUN device cannot be made.
    pub fn new(cfg: HaDataPlaneConfig) -> io::Result<Self> {
        if cfg.enable_forwarding {
            sysctl::set_ip_forward(true)?;
        }
        let engine = TunnelEngine::start(cfg.engine.clone())?;
        let nl = Netlink::open()?;
        let arp = ArpSocket::sender()?;
        Ok(LinuxHaDataPlane {
            engine,
            nl,
            arp,
            cfg,
            counts: DataPlaneCounts::default(),
            routes: HashMap::new(),
            proxies: HashSet::new(),
            broadcast: HashMap::new(),
        })
    }

    /// The engine (for [`TunnelEngine::stats`]).
    pub fn engine(&self) -> &TunnelEngine {
        &self.engine
    }

    fn host_route(&self, home: Ipv4Addr) -> Route {
        Route::host_via_device(home, self.engine.tun_ifindex())
    }

    fn drop_kernel_route(&mut self, home: Ipv4Addr) -> io::Result<()> {
        match self.nl.route_delete(&self.host_route(home)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// Stops listening on `ifindex` when no binding there receives broadcasts any more.
    fn release_broadcast_link(&mut self, ifindex: u32) -> io::Result<()> {
        if self.broadcast.values().any(|t| t.ifindex == ifindex) {
            return Ok(());
        }
        match self.engine.broadcast_link(ifindex, Vec::new(), false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn carry_out(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        match req {
            DataPlaneRequest::AddTunnel {
                tunnel,
                endpoints,
                encapsulation,
                reverse_allowed,
            } => {
                let encap = Encapsulation::from_wire(*encapsulation).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::Unsupported,
                        format!("encapsulation {} not supported", u8::from(*encapsulation)),
                    )
                })?;
                self.engine.add_tunnel(
                    tunnel.0,
                    TunnelSpec {
                        local: endpoints.source,
                        remote: endpoints.destination,
                        encapsulation: encap,
                        mtu: self.cfg.tunnel_mtu,
                    },
                )?;
                if *reverse_allowed {
                    self.engine.accept_from(endpoints.destination, tunnel.0)?;
                }
                Ok(())
            }
            DataPlaneRequest::SetTunnelReverse {
                tunnel,
                reverse_allowed,
            } => {
                let stats = self.engine.stats()?;
                let t = stats.tunnels.get(&tunnel.0).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("no tunnel {}", tunnel.0))
                })?;
                if *reverse_allowed {
                    self.engine.accept_from(t.spec.remote, tunnel.0)
                } else {
                    match self.engine.stop_accepting(t.spec.remote, tunnel.0) {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                        r => r,
                    }
                }
            }
            DataPlaneRequest::RemoveTunnel { tunnel, .. } => {
                self.engine.remove_tunnel(tunnel.0)?;
                // The engine dropped the tunnel's broadcast targets with it.
                let gone: Vec<_> = self
                    .broadcast
                    .iter()
                    .filter(|(_, t)| t.tunnel == tunnel.0)
                    .map(|(k, t)| (*k, t.ifindex))
                    .collect();
                for (key, ifindex) in gone {
                    self.broadcast.remove(&key);
                    self.release_broadcast_link(ifindex)?;
                }
                let orphaned: Vec<Ipv4Addr> = self
                    .routes
                    .iter_mut()
                    .filter_map(|(home, set)| {
                        (set.remove(&tunnel.0) && set.is_empty()).then_some(*home)
                    })
                    .collect();
                for home in orphaned {
                    self.routes.remove(&home);
                    self.drop_kernel_route(home)?;
                }
                Ok(())
            }
            DataPlaneRequest::AddHostRoute {
                home_address,
                tunnel,
            } => {
                self.engine.route(*home_address, tunnel.0)?;
                self.nl.route_replace(&self.host_route(*home_address))?;
                self.routes
                    .entry(*home_address)
                    .or_default()
                    .insert(tunnel.0);
                Ok(())
            }
            DataPlaneRequest::RemoveHostRoute {
                home_address,
                tunnel,
            } => {
                self.engine.unroute(*home_address, tunnel.0)?;
                let last = match self.routes.get_mut(home_address) {
                    Some(set) => {
                        set.remove(&tunnel.0);
                        set.is_empty()
                    }
                    None => true,
                };
                if last {
                    self.routes.remove(home_address);
                    self.drop_kernel_route(*home_address)?;
                }
                Ok(())
            }
            DataPlaneRequest::ProxyArp {
                address,
                interface,
                enable,
            } => {
                let ifindex = self.nl.ifindex(interface)?;
                if *enable {
                    self.nl.proxy_add(ifindex, *address)?;
                    self.proxies.insert((*address, ifindex));
                } else {
                    self.proxies.remove(&(*address, ifindex));
                    match self.nl.proxy_delete(ifindex, *address) {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        r => r?,
                    }
                }
                Ok(())
            }
            DataPlaneRequest::GratuitousArp {
                address,
                interface,
                reason,
            } => {
                let link = self.nl.link(interface)?;
                let mac = match reason {
                    ArpReason::MobileNodeLeft => link.mac,
                    ArpReason::MobileNodeReturned => {
                        self.nl.neighbour(link.index, *address)?.and_then(|n| n.mac)
                    }
                };
                match mac {
                    Some(mac) => {
                        // The frame leaves from the home agent's own MAC even when it
                        // announces the mobile node's (see `gratuitous_arp_frame_from`).
                        let source = link.mac.unwrap_or(mac);
                        for &kind in &self.cfg.gratuitous_arp {
                            let frame = gratuitous_arp_frame_from(kind, mac, *address, source);
                            self.arp.send_on(link.index, &frame)?;
                        }
                        Ok(())
                    }
                    None => {
                        tracing::info!(
                            %address,
                            interface = %interface,
                            "mobile node's link-layer address unknown: no gratuitous ARP on its \
                             behalf (it announces itself on return, RFC 5944 §4.6)"
                        );
                        Ok(())
                    }
                }
            }
            DataPlaneRequest::BroadcastForwarding {
                home_address,
                tunnel,
                enable,
                interface,
                colocated,
            } => {
                let key = (*home_address, tunnel.0);
                if !*enable {
                    let Some(target) = self.broadcast.remove(&key) else {
                        return Ok(());
                    };
                    match self.engine.broadcast_target(target, false) {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        r => r?,
                    }
                    return self.release_broadcast_link(target.ifindex);
                }
                let Some(interface) = interface else {
                    tracing::debug!(
                        %home_address,
                        "broadcast forwarding on a virtual home network: no home link, no \
                         broadcasts"
                    );
                    return Ok(());
                };
                let ifindex = self.nl.ifindex(interface)?;
                let directed: Vec<Ipv4Addr> = self
                    .nl
                    .ipv4_addresses(Some(ifindex))?
                    .into_iter()
                    .filter_map(|(_, a, len)| directed_broadcast(a, len))
                    .collect();
                self.engine.broadcast_link(ifindex, directed, true)?;
                let target = BroadcastTarget {
                    ifindex,
                    tunnel: tunnel.0,
                    home_address: *home_address,
                    nested: !*colocated,
                };
                if let Err(e) = self.engine.broadcast_target(target, true) {
                    self.release_broadcast_link(ifindex)?;
                    return Err(e);
                }
                if let Some(old) = self.broadcast.insert(key, target) {
                    if old.ifindex != ifindex {
                        self.release_broadcast_link(old.ifindex)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Kernel requests (and engine routes) of a batch queued at most before they are carried out.
const KERNEL_BATCH: usize = 32768;

/// What to record once a queued kernel request of a batch succeeded.
enum Queued {
    /// `AddHostRoute` number `.0` of the batch: its home address went through tunnel `.2`.
    Route(usize, Ipv4Addr, TunnelId),
    /// `ProxyArp` (enable) number `.0`: proxy neighbour `(.1, .2)` installed.
    Proxy(usize, Ipv4Addr, u32),
}

/// The state of one [`DataPlane::apply_batch`].
#[derive(Default)]
struct Batch {
    /// Consecutive `AddHostRoute`s whose engine route is still to be made: (request number,
    /// home address, tunnel).
    run: Vec<(usize, Ipv4Addr, TunnelId)>,
    /// The tunnels of `run`.
    run_tunnels: HashSet<TunnelId>,
    /// Kernel requests queued, in request order, and what each settles.
    ops: Vec<NlOp>,
    queued: Vec<Queued>,
}

impl LinuxHaDataPlane {
    /// Makes the engine routes of the pending run in one engine request; queues the kernel
    /// route of each that succeeded.
    fn run_engine_routes(&mut self, b: &mut Batch, results: &mut [io::Result<()>]) {
        if b.run.is_empty() {
            return;
        }
        let routes: Vec<_> = b
            .run
            .iter()
            .map(|&(_, home, tunnel)| (home, tunnel))
            .collect();
        let answers = self.engine.route_many(&routes);
        let mut answers = answers.into_iter();
        for &(i, home, tunnel) in &b.run {
            match answers
                .next()
                .unwrap_or_else(|| Err(io::Error::other("engine route: no answer")))
            {
                Ok(()) => {
                    b.ops.push(NlOp::RouteReplace(self.host_route(home)));
                    b.queued.push(Queued::Route(i, home, tunnel));
                }
                Err(e) => results[i] = Err(e),
            }
        }
        b.run.clear();
        b.run_tunnels.clear();
    }

    /// Sends the queued kernel requests of a batch and settles their requests' results.
    fn send_queued(&mut self, b: &mut Batch, results: &mut [io::Result<()>]) {
        if b.ops.is_empty() {
            return;
        }
        let answers = self.nl.batch(&b.ops);
        for (q, answer) in b.queued.drain(..).zip(answers) {
            match (q, answer) {
                (Queued::Route(_, home, tunnel), Ok(())) => {
                    self.routes.entry(home).or_default().insert(tunnel);
                }
                (Queued::Proxy(_, address, ifindex), Ok(())) => {
                    self.proxies.insert((address, ifindex));
                }
                (Queued::Route(i, ..) | Queued::Proxy(i, ..), Err(e)) => results[i] = Err(e),
            }
        }
        b.ops.clear();
    }

    fn note(&mut self, req: &DataPlaneRequest, r: &io::Result<()>) {
        if let Err(e) = r {
            self.counts.failed += 1;
            tracing::warn!(target: "mip_io::net", request = ?req, error = %e, "data-plane request failed");
        } else {
            tracing::debug!(target: "mip_io::net", request = ?req, "data-plane request applied");
        }
    }
}

impl DataPlane for LinuxHaDataPlane {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        count(&mut self.counts, req);
        let r = self.carry_out(req);
        self.note(req, &r);
        r
    }

    fn apply_batch(&mut self, reqs: &[DataPlaneRequest]) -> Vec<io::Result<()>> {
        let mut results: Vec<io::Result<()>> = Vec::with_capacity(reqs.len());
        let mut b = Batch::default();
        // Interface names of proxy requests resolved during this batch.
        let mut ifindexes: HashMap<&str, u32> = HashMap::new();
        for (i, req) in reqs.iter().enumerate() {
            count(&mut self.counts, req);
            let r = match req {
                // Engine only. Done now, ahead of the engine routes still pending, unless one
                // of them uses this tunnel id (then it would have failed without the tunnel).
                DataPlaneRequest::AddTunnel { tunnel, .. } => {
                    if b.run_tunnels.contains(&tunnel.0) {
                        self.run_engine_routes(&mut b, &mut results);
                    }
                    self.carry_out(req)
                }
                DataPlaneRequest::AddHostRoute {
                    home_address,
                    tunnel,
                } => {
                    b.run.push((i, *home_address, tunnel.0));
                    b.run_tunnels.insert(tunnel.0);
                    Ok(()) // settled when the run and the kernel batch are done
                }
                DataPlaneRequest::ProxyArp {
                    address,
                    interface,
                    enable: true,
                } => {
                    self.run_engine_routes(&mut b, &mut results);
                    let ifindex = match ifindexes.get(interface.as_str()) {
                        Some(&x) => Ok(x),
                        None => self.nl.ifindex(interface).inspect(|&x| {
                            ifindexes.insert(interface, x);
                        }),
                    };
                    ifindex.map(|ifindex| {
                        b.ops.push(NlOp::ProxyAdd(ifindex, *address));
                        b.queued.push(Queued::Proxy(i, *address, ifindex));
                    })
                }
                // Anything else acts after everything queued before it.
                _ => {
                    self.run_engine_routes(&mut b, &mut results);
                    self.send_queued(&mut b, &mut results);
                    self.carry_out(req)
                }
            };
            results.push(r);
            if b.run.len() >= KERNEL_BATCH {
                self.run_engine_routes(&mut b, &mut results);
            }
            if b.ops.len() >= KERNEL_BATCH {
                self.send_queued(&mut b, &mut results);
            }
        }
        self.run_engine_routes(&mut b, &mut results);
        self.send_queued(&mut b, &mut results);
        for (req, r) in reqs.iter().zip(&results) {
            self.note(req, r);
        }
        results
    }

    fn kind(&self) -> &'static str {
        "tun"
    }

    fn counts(&self) -> DataPlaneCounts {
        self.counts
    }

    /// From the engine's per-tunnel counters (engine tunnel `n` is the core's `TunnelId(n)`);
    /// nothing when the engine does not answer.
    fn tunnel_counters(&self) -> Vec<(mip_ha::TunnelId, TunnelTraffic)> {
        let stats = match self.engine.stats() {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "tunnel counters: the engine did not answer");
                return Vec::new();
            }
        };
        stats
            .tunnels
            .iter()
            .map(|(id, t)| {
                let c = &t.counters;
                (
                    mip_ha::TunnelId(*id),
                    TunnelTraffic {
                        packets_in: c.rx_packets,
                        bytes_in: c.rx_bytes,
                        drops_in: c.drop_decap_error + c.drop_key_mismatch + c.drop_ttl,
                        packets_out: c.tx_packets,
                        bytes_out: c.tx_bytes,
                    },
                )
            })
            .collect()
    }
}

impl Drop for LinuxHaDataPlane {
    fn drop(&mut self) {
        for (address, ifindex) in std::mem::take(&mut self.proxies) {
            let _ = self.nl.proxy_delete(ifindex, address);
        }
    }
}
