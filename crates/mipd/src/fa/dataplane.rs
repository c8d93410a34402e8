//! The foreign agent's data plane: [`mip_fa::DataPlaneRequest`]s carried out with the helpers
//! of `mip_io::net::fa` around a [`TunnelEngine`] (`--dataplane tun`), or only recorded
//! (`--dataplane log`).
//!
//! | Request | What happens (`tun`) |
//! |---|---|
//! | `AddVisitor` | permanent neighbour `HoA lladdr MAC dev IF` + route `HoA/32 dev IF` ([`fa::add_visitor`]: delivery without ARP); unless the mobile node decapsulates itself, an engine tunnel care-of address ↔ home agent (one per care-of address, home agent and encapsulation, shared by its visitors) with `accept_from(home agent)`, so that what the home agent tunnels is decapsulated and the kernel forwards the inner packet to the visitor; with a reverse tunnel (T), [`fa::enable_reverse_tunnel`]: rule `from HoA iif IF lookup 434` whose table sends everything into the TUN device, and `route_source(HoA)` into the tunnel to the home agent |
//! | `RemoveVisitor` | the reverse tunnel's rule and source route, the neighbour and host route; the engine tunnel with its last visitor |
//!
//! A visitor whose MAC address is unknown gets the host route only (the kernel will ARP for
//! it, which works only if the mobile node answers for its home address on this link).
//! Stopping the daemon removes every visitor's entries (the TUN device goes with the engine).

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;

use mip_fa::{DataPlaneRequest, VisitorRoute};
use mip_io::net::fa::{self, ReverseTunnel};
use mip_io::net::{
    sysctl, Encapsulation, EngineConfig, EngineStats, Netlink, Route, TunnelEngine, TunnelId,
    TunnelSpec,
};

use crate::args::EngineTuning;

/// The routing table of reverse tunnels (its default route is the TUN device).
pub const REVERSE_TABLE: u32 = 434;
/// The priority of the reverse tunnels' `from HoA iif IF` rules (before `main`, 32766).
pub const REVERSE_RULE_PRIORITY: u32 = 4340;

/// Requests applied, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaDataPlaneCounts {
    /// `AddVisitor` requests.
    pub add_visitor: u64,
    /// `RemoveVisitor` requests.
    pub remove_visitor: u64,
    /// Of those, failed.
    pub failed: u64,
}

/// What carries out the foreign agent's requests.
pub trait FaDataPlane {
    /// Carries out one request.
    ///
    /// # Errors
    /// The kernel refused (what was done before the failure stays).
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()>;
    /// `"tun"` or `"log"`.
    fn kind(&self) -> &'static str;
    /// Requests seen.
    fn counts(&self) -> FaDataPlaneCounts;
    /// The tunnel engine (`tun` only).
    fn engine(&self) -> Option<&TunnelEngine> {
        None
    }
    /// The tunnel engine's counters (`tun` only; `None` too when the engine does not answer).
    fn engine_stats(&self) -> Option<EngineStats> {
        self.engine().and_then(|e| e.stats().ok())
    }
}

fn count(c: &mut FaDataPlaneCounts, req: &DataPlaneRequest) {
    match req {
        DataPlaneRequest::AddVisitor(_) => c.add_visitor += 1,
        DataPlaneRequest::RemoveVisitor(_) => c.remove_visitor += 1,
    }
}

/// `--dataplane log`: requests are logged and counted.
#[derive(Debug, Default)]
pub struct LogFaDataPlane {
    counts: FaDataPlaneCounts,
}

impl FaDataPlane for LogFaDataPlane {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        count(&mut self.counts, req);
        tracing::debug!(request = ?req, "data plane (logging only)");
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "log"
    }

    fn counts(&self) -> FaDataPlaneCounts {
        self.counts
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct TunnelKey {
    care_of: Ipv4Addr,
    home_agent: Ipv4Addr,
    protocol: u8,
}

#[derive(Debug)]
struct Tunnel {
    id: TunnelId,
    visitors: usize,
}

#[derive(Debug)]
struct Installed {
    ifindex: u32,
    tunnel: Option<TunnelKey>,
    reverse: Option<ReverseTunnel>,
}

/// `--dataplane tun` (see the module documentation).
#[derive(Debug)]
pub struct LinuxFaDataPlane {
    engine: TunnelEngine,
    nl: Netlink,
    tunnels: HashMap<TunnelKey, Tunnel>,
    visitors: HashMap<Ipv4Addr, Installed>,
    next_id: TunnelId,
    counts: FaDataPlaneCounts,
}

impl LinuxFaDataPlane {
    /// Sets `ip_forward=1`, starts the engine (TUN `mipfa<N>`) and opens netlink, in the
    /// calling thread's namespace.
    ///
    /// # Errors
    /// Not permitted, or the TUN device cannot be made.
    pub fn new(tuning: &EngineTuning) -> io::Result<Self> {
        sysctl::set_ip_forward(true)?;
        let mut cfg = EngineConfig {
            tun_name: "mipfa%d".into(),
            ..EngineConfig::default()
        };
        tuning.apply(&mut cfg);
        let engine = TunnelEngine::start(cfg)?;
        Ok(LinuxFaDataPlane {
            engine,
            nl: Netlink::open()?,
            tunnels: HashMap::new(),
            visitors: HashMap::new(),
            next_id: 1,
            counts: FaDataPlaneCounts::default(),
        })
    }

    /// The TUN device's name.
    pub fn tun_name(&self) -> &str {
        self.engine.tun_name()
    }

    fn tunnel_for(&mut self, v: &VisitorRoute) -> io::Result<TunnelKey> {
        let encapsulation = Encapsulation::from_wire(v.encapsulation).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!("encapsulation {} not supported", u8::from(v.encapsulation)),
            )
        })?;
        let key = TunnelKey {
            care_of: v.care_of_address,
            home_agent: v.home_agent,
            protocol: encapsulation.protocol(),
        };
        if let Some(t) = self.tunnels.get_mut(&key) {
            t.visitors += 1;
            return Ok(key);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let mtu = self.engine.add_tunnel(
            id,
            TunnelSpec {
                local: v.care_of_address,
                remote: v.home_agent,
                encapsulation,
                mtu: None,
            },
        )?;
        if let Err(e) = self.engine.accept_from(v.home_agent, id) {
            let _ = self.engine.remove_tunnel(id);
            return Err(e);
        }
        tracing::info!(
            tunnel = id,
            care_of = %v.care_of_address,
            home_agent = %v.home_agent,
            protocol = encapsulation.protocol(),
            mtu,
            "tunnel to the home agent added"
        );
        self.tunnels.insert(key, Tunnel { id, visitors: 1 });
        Ok(key)
    }

    fn release_tunnel(&mut self, key: TunnelKey) -> io::Result<()> {
        let Some(t) = self.tunnels.get_mut(&key) else {
            return Ok(());
        };
        t.visitors = t.visitors.saturating_sub(1);
        if t.visitors > 0 {
            return Ok(());
        }
        let id = t.id;
        self.tunnels.remove(&key);
        let r = match self.engine.remove_tunnel(id) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        };
        tracing::info!(tunnel = id, home_agent = %key.home_agent, "tunnel to the home agent removed");
        // Another care-of address may tunnel with the same home agent and protocol: it takes
        // the decapsulation over (accept_from is per remote and protocol).
        if let Some((_, other)) = self
            .tunnels
            .iter()
            .find(|(k, _)| k.home_agent == key.home_agent && k.protocol == key.protocol)
        {
            let _ = self.engine.accept_from(key.home_agent, other.id);
        }
        r
    }

    fn add(&mut self, v: &VisitorRoute) -> io::Result<()> {
        // A visitor already installed (the core sends Remove before a changed Add, but be
        // safe after a failure): start clean.
        if self.visitors.contains_key(&v.home_address) {
            self.remove(v)?;
        }
        let ifindex = self.nl.ifindex(&v.interface)?;
        match v.link_layer {
            Some(mac) => fa::add_visitor(&mut self.nl, ifindex, v.home_address, mac)?,
            None => {
                tracing::warn!(home = %v.home_address, interface = %v.interface, "visitor's MAC address unknown: host route only, delivery needs ARP");
                self.nl
                    .route_replace(&Route::host_via_device(v.home_address, ifindex))?;
            }
        }
        let mut installed = Installed {
            ifindex,
            tunnel: None,
            reverse: None,
        };
        if v.decapsulate {
            match self.tunnel_for(v) {
                Ok(k) => installed.tunnel = Some(k),
                Err(e) => {
                    let _ = fa::remove_visitor(&mut self.nl, ifindex, v.home_address);
                    return Err(e);
                }
            }
        }
        if v.reverse_tunnel {
            if let Some(key) = installed.tunnel {
                let rt = ReverseTunnel {
                    home_address: v.home_address,
                    visitor_interface: v.interface.clone(),
                    table: REVERSE_TABLE,
                    priority: REVERSE_RULE_PRIORITY,
                    tunnel: self.tunnels[&key].id,
                };
                // A rule left by an earlier run would make the add fail: remove it first.
                let _ = fa::disable_reverse_tunnel(&mut self.nl, &self.engine, &rt);
                match fa::enable_reverse_tunnel(&mut self.nl, &self.engine, &rt) {
                    Ok(()) => installed.reverse = Some(rt),
                    Err(e) => {
                        let _ = fa::disable_reverse_tunnel(&mut self.nl, &self.engine, &rt);
                        self.visitors.insert(v.home_address, installed);
                        return Err(e);
                    }
                }
            } else {
                tracing::warn!(home = %v.home_address, "reverse tunnel granted to a visitor that decapsulates itself: not installed");
            }
        }
        self.visitors.insert(v.home_address, installed);
        Ok(())
    }

    fn remove(&mut self, v: &VisitorRoute) -> io::Result<()> {
        let Some(inst) = self.visitors.remove(&v.home_address) else {
            // Not installed by us (e.g. an earlier Add failed): clean what may be there.
            if let Ok(ifindex) = self.nl.ifindex(&v.interface) {
                fa::remove_visitor(&mut self.nl, ifindex, v.home_address)?;
            }
            return Ok(());
        };
        self.uninstall(v.home_address, inst)
    }

    fn uninstall(&mut self, home: Ipv4Addr, inst: Installed) -> io::Result<()> {
        let mut first_err = None;
        if let Some(rt) = &inst.reverse {
            if let Err(e) = fa::disable_reverse_tunnel(&mut self.nl, &self.engine, rt) {
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = fa::remove_visitor(&mut self.nl, inst.ifindex, home) {
            first_err.get_or_insert(e);
        }
        if let Some(k) = inst.tunnel {
            if let Err(e) = self.release_tunnel(k) {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl FaDataPlane for LinuxFaDataPlane {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        count(&mut self.counts, req);
        let r = match req {
            DataPlaneRequest::AddVisitor(v) => self.add(v),
            DataPlaneRequest::RemoveVisitor(v) => self.remove(v),
        };
        match &r {
            Ok(()) => tracing::debug!(request = ?req, "data-plane request applied"),
            Err(e) => {
                self.counts.failed += 1;
                tracing::warn!(request = ?req, error = %e, "data-plane request failed");
            }
        }
        r
    }

    fn kind(&self) -> &'static str {
        "tun"
    }

    fn counts(&self) -> FaDataPlaneCounts {
        self.counts
    }

    fn engine(&self) -> Option<&TunnelEngine> {
        Some(&self.engine)
    }
}

impl Drop for LinuxFaDataPlane {
    fn drop(&mut self) {
        let all: Vec<(Ipv4Addr, Installed)> = self.visitors.drain().collect();
        for (home, inst) in all {
            let _ = self.uninstall(home, inst);
        }
        let _ = self.nl.route_delete(&Route::default_via_device(
            self.engine.tun_ifindex(),
            REVERSE_TABLE,
        ));
    }
}
