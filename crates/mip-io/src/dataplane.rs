//! Carrying out the home agent's data-plane requests.
//!
//! The core emits [`DataPlaneRequest`]s (tunnels, host routes, proxy and gratuitous ARP,
//! broadcast forwarding) in the order they must be applied; the daemon hands each one to a
//! [`DataPlane`]. The user-space data plane (TUN device, raw sockets for protocols 4/47/55,
//! rtnetlink routes and proxy-ARP neighbours, AF_PACKET gratuitous ARP) implements this same
//! trait when it arrives. Until then [`LoggingDataPlane`] stands in: it logs every request,
//! counts them by kind, keeps the recent ones, optionally appends each as a JSON line to a
//! file, and keeps a model of what would now be installed ([`DataPlaneState`]), refusing
//! requests that do not fit it (removing a tunnel that does not exist, a route through a
//! missing tunnel) exactly as a kernel would, so inconsistencies show up now.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use mip_ha::{DataPlaneRequest, TunnelEndpoints, TunnelId};

/// Something that carries out data-plane requests: the user-space data plane, or a stand-in.
pub trait DataPlane: Send {
    /// Carries out one request. The daemon applies requests in the order the core emitted
    /// them and logs a failure; it does not retry (the core's next request for the same
    /// binding supersedes it).
    ///
    /// # Errors
    /// The request could not be carried out.
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()>;

    /// Carries out `reqs` in order, as [`DataPlane::apply`] on each would, and returns one
    /// result per request. A data plane may group the work (the Linux one installs
    /// consecutive host routes and proxy neighbours with a few netlink calls), keeping the
    /// order in which requests take effect; a failure is still that request's alone.
    fn apply_batch(&mut self, reqs: &[DataPlaneRequest]) -> Vec<io::Result<()>> {
        reqs.iter().map(|r| self.apply(r)).collect()
    }

    /// A name for logs and `show` output (`"logging"`, `"tun"`).
    fn kind(&self) -> &'static str;

    /// Requests applied (successfully or not) since start, by kind.
    fn counts(&self) -> DataPlaneCounts;

    /// Makes buffered output durable (log files); called at shutdown.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Traffic through each tunnel now installed, by the core's tunnel id, for
    /// `show ip mobile tunnel`. The default (and [`LoggingDataPlane`], which carries no
    /// traffic) returns nothing: the tunnels' counters then show 0. A data plane that cannot
    /// read its counters at the moment also returns nothing.
    fn tunnel_counters(&self) -> Vec<(TunnelId, TunnelTraffic)> {
        Vec::new()
    }
}

/// Traffic through one tunnel since it was installed ([`DataPlane::tunnel_counters`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelTraffic {
    /// Packets decapsulated and delivered (reverse-tunnelled traffic).
    pub packets_in: u64,
    /// Their inner bytes.
    pub bytes_in: u64,
    /// Encapsulated packets received and dropped (malformed, wrong key, inner TTL 0).
    pub drops_in: u64,
    /// Packets encapsulated and sent.
    pub packets_out: u64,
    /// Their inner bytes.
    pub bytes_out: u64,
}

/// Requests seen, by kind, and failures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataPlaneCounts {
    /// `AddTunnel`.
    pub add_tunnel: u64,
    /// `RemoveTunnel`.
    pub remove_tunnel: u64,
    /// `SetTunnelReverse`.
    pub set_tunnel_reverse: u64,
    /// `AddHostRoute`.
    pub add_host_route: u64,
    /// `RemoveHostRoute`.
    pub remove_host_route: u64,
    /// `ProxyArp` with enable.
    pub proxy_arp_on: u64,
    /// `ProxyArp` without enable.
    pub proxy_arp_off: u64,
    /// `GratuitousArp`.
    pub gratuitous_arp: u64,
    /// `BroadcastForwarding` with enable.
    pub broadcast_on: u64,
    /// `BroadcastForwarding` without enable.
    pub broadcast_off: u64,
    /// Requests that failed.
    pub failed: u64,
}

impl DataPlaneCounts {
    /// Every request seen.
    pub fn total(&self) -> u64 {
        self.add_tunnel
            + self.remove_tunnel
            + self.set_tunnel_reverse
            + self.add_host_route
            + self.remove_host_route
            + self.proxy_arp_on
            + self.proxy_arp_off
            + self.gratuitous_arp
            + self.broadcast_on
            + self.broadcast_off
    }

    fn count(&mut self, req: &DataPlaneRequest) {
        match req {
            DataPlaneRequest::AddTunnel { .. } => self.add_tunnel += 1,
            DataPlaneRequest::RemoveTunnel { .. } => self.remove_tunnel += 1,
            DataPlaneRequest::SetTunnelReverse { .. } => self.set_tunnel_reverse += 1,
            DataPlaneRequest::AddHostRoute { .. } => self.add_host_route += 1,
            DataPlaneRequest::RemoveHostRoute { .. } => self.remove_host_route += 1,
            DataPlaneRequest::ProxyArp { enable: true, .. } => self.proxy_arp_on += 1,
            DataPlaneRequest::ProxyArp { enable: false, .. } => self.proxy_arp_off += 1,
            DataPlaneRequest::GratuitousArp { .. } => self.gratuitous_arp += 1,
            DataPlaneRequest::BroadcastForwarding { enable: true, .. } => self.broadcast_on += 1,
            DataPlaneRequest::BroadcastForwarding { enable: false, .. } => self.broadcast_off += 1,
        }
    }
}

/// One tunnel as it would be installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelTunnel {
    /// Its ends.
    pub endpoints: TunnelEndpoints,
    /// Encapsulation (IP protocol number).
    pub encapsulation: u8,
    /// Reverse-tunnelled datagrams accepted.
    pub reverse_allowed: bool,
}

/// What would be installed after the requests applied so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataPlaneState {
    /// Tunnels by id.
    pub tunnels: BTreeMap<TunnelId, ModelTunnel>,
    /// Host routes: (home address, tunnel).
    pub routes: BTreeSet<(Ipv4Addr, TunnelId)>,
    /// Proxy ARP entries: (address, interface).
    pub proxy_arp: BTreeSet<(Ipv4Addr, String)>,
    /// Broadcast forwarding: (home address, tunnel).
    pub broadcast: BTreeSet<(Ipv4Addr, TunnelId)>,
}

fn refuse(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

impl DataPlaneState {
    /// Applies `req` to the model; refuses what a kernel would refuse.
    ///
    /// # Errors
    /// The request does not fit the state (`InvalidInput`): a tunnel id in use or unknown, a
    /// route that exists or does not, a route through a missing tunnel.
    pub fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        match req {
            DataPlaneRequest::AddTunnel {
                tunnel,
                endpoints,
                encapsulation,
                reverse_allowed,
            } => {
                if self.tunnels.contains_key(tunnel) {
                    return Err(refuse(format!("tunnel {} exists already", tunnel.0)));
                }
                self.tunnels.insert(
                    *tunnel,
                    ModelTunnel {
                        endpoints: *endpoints,
                        encapsulation: u8::from(*encapsulation),
                        reverse_allowed: *reverse_allowed,
                    },
                );
            }
            DataPlaneRequest::SetTunnelReverse {
                tunnel,
                reverse_allowed,
            } => match self.tunnels.get_mut(tunnel) {
                Some(t) => t.reverse_allowed = *reverse_allowed,
                None => return Err(refuse(format!("no tunnel {}", tunnel.0))),
            },
            DataPlaneRequest::RemoveTunnel { tunnel, .. } => {
                if self.tunnels.remove(tunnel).is_none() {
                    return Err(refuse(format!("no tunnel {}", tunnel.0)));
                }
                if self.routes.iter().any(|(_, t)| t == tunnel) {
                    return Err(refuse(format!(
                        "tunnel {} removed while routes use it",
                        tunnel.0
                    )));
                }
            }
            DataPlaneRequest::AddHostRoute {
                home_address,
                tunnel,
            } => {
                if !self.tunnels.contains_key(tunnel) {
                    return Err(refuse(format!(
                        "route {home_address} via missing tunnel {}",
                        tunnel.0
                    )));
                }
                if !self.routes.insert((*home_address, *tunnel)) {
                    return Err(refuse(format!(
                        "route {home_address} via tunnel {} exists already",
                        tunnel.0
                    )));
                }
            }
            DataPlaneRequest::RemoveHostRoute {
                home_address,
                tunnel,
            } => {
                if !self.routes.remove(&(*home_address, *tunnel)) {
                    return Err(refuse(format!(
                        "no route {home_address} via tunnel {}",
                        tunnel.0
                    )));
                }
            }
            DataPlaneRequest::ProxyArp {
                address,
                interface,
                enable,
            } => {
                let key = (*address, interface.clone());
                if *enable {
                    if !self.proxy_arp.insert(key) {
                        return Err(refuse(format!(
                            "proxy ARP for {address} on {interface} exists already"
                        )));
                    }
                } else if !self.proxy_arp.remove(&key) {
                    return Err(refuse(format!("no proxy ARP for {address} on {interface}")));
                }
            }
            DataPlaneRequest::GratuitousArp { .. } => {}
            DataPlaneRequest::BroadcastForwarding {
                home_address,
                tunnel,
                enable,
                ..
            } => {
                let key = (*home_address, *tunnel);
                if *enable {
                    self.broadcast.insert(key);
                } else {
                    self.broadcast.remove(&key);
                }
            }
        }
        Ok(())
    }
}

/// The stand-in data plane: logs (at debug level), counts, records and models every request;
/// installs nothing. See the module documentation.
#[derive(Debug)]
pub struct LoggingDataPlane {
    counts: DataPlaneCounts,
    recent: VecDeque<DataPlaneRequest>,
    recent_capacity: usize,
    state: DataPlaneState,
    log: Option<BufWriter<File>>,
}

impl Default for LoggingDataPlane {
    fn default() -> Self {
        Self::new(256)
    }
}

impl LoggingDataPlane {
    /// Keeps the last `recent` requests.
    pub fn new(recent: usize) -> Self {
        LoggingDataPlane {
            counts: DataPlaneCounts::default(),
            recent: VecDeque::with_capacity(recent.min(4096)),
            recent_capacity: recent,
            state: DataPlaneState::default(),
            log: None,
        }
    }

    /// Also appends every request to `path` as one JSON line (serde form of
    /// [`DataPlaneRequest`], with `"ok"` and `"error"`), flushed after every batch.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn with_log_file(mut self, path: &Path) -> io::Result<Self> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        self.log = Some(BufWriter::new(f));
        Ok(self)
    }

    /// The last requests, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &DataPlaneRequest> {
        self.recent.iter()
    }

    /// What would be installed now.
    pub fn state(&self) -> &DataPlaneState {
        &self.state
    }

    fn write_log(&mut self, req: &DataPlaneRequest, result: &io::Result<()>) {
        let Some(w) = self.log.as_mut() else { return };
        let line = serde_json::json!({
            "request": req,
            "ok": result.is_ok(),
            "error": result.as_ref().err().map(ToString::to_string),
        });
        if writeln!(w, "{line}").is_err() {
            tracing::warn!("data-plane log write failed; logging to file stops");
            self.log = None;
        }
    }
}

impl DataPlane for LoggingDataPlane {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        self.counts.count(req);
        let result = self.state.apply(req);
        match &result {
            Ok(()) => {
                tracing::debug!(target: "mip_io::dataplane", request = ?req, "data plane (logging only)")
            }
            Err(e) => {
                self.counts.failed += 1;
                tracing::debug!(target: "mip_io::dataplane", request = ?req, error = %e, "data-plane request does not fit the installed state");
            }
        }
        self.write_log(req, &result);
        if self.recent_capacity > 0 {
            if self.recent.len() == self.recent_capacity {
                self.recent.pop_front();
            }
            self.recent.push_back(req.clone());
        }
        result
    }

    fn kind(&self) -> &'static str {
        "logging"
    }

    fn counts(&self) -> DataPlaneCounts {
        self.counts
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.log.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mip_wire::codes::Encapsulation;

    fn ends() -> TunnelEndpoints {
        TunnelEndpoints {
            source: Ipv4Addr::new(66, 0, 0, 5),
            destination: Ipv4Addr::new(68, 0, 0, 31),
        }
    }

    #[test]
    fn models_counts_and_refuses_what_does_not_fit() {
        let mut dp = LoggingDataPlane::new(2);
        let t = TunnelId(0);
        let home = Ipv4Addr::new(10, 0, 0, 1);
        let add = DataPlaneRequest::AddTunnel {
            tunnel: t,
            endpoints: ends(),
            encapsulation: Encapsulation::from(4),
            reverse_allowed: true,
        };
        dp.apply(&add).unwrap();
        dp.apply(&DataPlaneRequest::AddHostRoute {
            home_address: home,
            tunnel: t,
        })
        .unwrap();
        dp.apply(&DataPlaneRequest::ProxyArp {
            address: home,
            interface: "eth1".into(),
            enable: true,
        })
        .unwrap();
        assert_eq!(dp.state().tunnels.len(), 1);
        assert!(dp.state().routes.contains(&(home, t)));
        assert!(dp.apply(&add).is_err(), "duplicate tunnel id refused");
        assert!(dp
            .apply(&DataPlaneRequest::RemoveHostRoute {
                home_address: home,
                tunnel: TunnelId(9)
            })
            .is_err());
        dp.apply(&DataPlaneRequest::RemoveHostRoute {
            home_address: home,
            tunnel: t,
        })
        .unwrap();
        dp.apply(&DataPlaneRequest::RemoveTunnel {
            tunnel: t,
            endpoints: ends(),
            encapsulation: Encapsulation::from(4),
        })
        .unwrap();
        let c = dp.counts();
        assert_eq!(
            (c.add_tunnel, c.add_host_route, c.proxy_arp_on, c.failed),
            (2, 1, 1, 2)
        );
        assert_eq!(c.total(), 7);
        assert_eq!(dp.recent().count(), 2);
    }

    #[test]
    fn log_file_gets_one_json_line_per_request() {
        let dir = std::env::temp_dir().join(format!("mip-io-dp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dp.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut dp = LoggingDataPlane::new(0).with_log_file(&path).unwrap();
        dp.apply(&DataPlaneRequest::GratuitousArp {
            address: Ipv4Addr::new(10, 0, 0, 1),
            interface: "eth1".into(),
            reason: mip_ha::ArpReason::MobileNodeLeft,
        })
        .unwrap();
        dp.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["ok"], true);
        assert!(v["request"]["GratuitousArp"].is_object(), "{v}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
