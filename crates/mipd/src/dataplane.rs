//! The home agent's data plane, chosen by `--dataplane`:
//!
//! * `tun`: [`LinuxHaDataPlane`] (TUN device `mipt<N>`, raw sockets for IP-in-IP / GRE /
//!   minimal encapsulation, rtnetlink host routes and proxy neighbours, `AF_PACKET`
//!   gratuitous ARP) in the daemon's network namespace. With `--dataplane-log FILE` every
//!   request is also recorded by the logging data plane (its JSON lines), while the result
//!   that counts is the real one.
//! * `log`: [`LoggingDataPlane`] alone: requests are logged, counted and modelled, nothing is
//!   installed; no traffic is carried, so `show ip mobile tunnel` shows every counter as 0.
//!
//! When `tun` was the default (not asked for) and the data plane cannot start (no
//! `CAP_NET_ADMIN`, no TUN), the daemon says so and runs with `log`; when `--dataplane tun` was
//! asked for, it refuses to start.
//!
//! Restored bindings (after a restart) re-emit their requests through the core, so the
//! tunnels, routes and proxy neighbours come back as soon as the store is read.
//!
//! `show ip mobile dataplane` (every role): [`view`] builds the answer from the data plane
//! in force ([`Chosen`]) and its tunnel engine, when there is one (the home agent's through
//! [`HaDataPlane::engine`], the foreign agent's through `FaDataPlane::engine`, the mobile
//! node's through `Plumbing::engine`).
//!

use std::io;

use mip_config::{Config, HomeLocation};
use mip_control::views::{
    DataplaneKindView, DataplaneView, EngineCountersView, EngineView, TunnelTxView,
};
use mip_ha::{DataPlaneRequest, TunnelId};
use mip_io::net::engine::TxMode;
use mip_io::net::{EngineCounters, EngineStats, HaDataPlaneConfig, LinuxHaDataPlane, TunnelEngine};
use mip_io::{DataPlane, DataPlaneCounts, LoggingDataPlane, TunnelTraffic};

use crate::args::{DataplaneKind, EngineTuning};
use crate::daemon::DaemonError;

/// The home agent's data plane as the daemon holds it: a [`DataPlane`] that may have a tunnel
/// engine to show (`show ip mobile dataplane`).
pub trait HaDataPlane: DataPlane {
    /// The tunnel engine (`tun` only).
    fn engine(&self) -> Option<&TunnelEngine> {
        None
    }
}

/// `--dataplane log`: no engine.
impl HaDataPlane for LoggingDataPlane {}

/// The data plane in force and why (for the log and `show ip mobile dataplane`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    /// The data plane running.
    pub kind: DataplaneKind,
    /// Why: `--dataplane`, the default's reason, or why `tun` could not start.
    pub reason: String,
}

impl Chosen {
    /// As chosen by [`crate::args::choose_dataplane`].
    pub fn new((kind, why): (DataplaneKind, &'static str)) -> Chosen {
        Chosen {
            kind,
            reason: why.to_string(),
        }
    }

    /// `tun` was the default but could not start: running with `log`.
    pub fn fallback(why: &str, e: &io::Error) -> Chosen {
        Chosen {
            kind: DataplaneKind::Log,
            reason: format!("{why}; tun could not start: {e}"),
        }
    }
}

/// The real data plane, with the logging one recording alongside.
struct Tee {
    real: LinuxHaDataPlane,
    /// With `--dataplane-log FILE` only.
    log: Option<LoggingDataPlane>,
}

impl HaDataPlane for Tee {
    fn engine(&self) -> Option<&TunnelEngine> {
        Some(self.real.engine())
    }
}

impl DataPlane for Tee {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        // The model may disagree (it only knows what it saw): its verdict is not the answer.
        if let Some(log) = self.log.as_mut() {
            let _ = log.apply(req);
        }
        self.real.apply(req)
    }

    fn apply_batch(&mut self, reqs: &[DataPlaneRequest]) -> Vec<io::Result<()>> {
        if let Some(log) = self.log.as_mut() {
            for req in reqs {
                let _ = log.apply(req);
            }
        }
        self.real.apply_batch(reqs)
    }

    fn kind(&self) -> &'static str {
        self.real.kind()
    }

    fn counts(&self) -> DataPlaneCounts {
        self.real.counts()
    }

    fn tunnel_counters(&self) -> Vec<(TunnelId, TunnelTraffic)> {
        self.real.tunnel_counters()
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.log.as_mut() {
            Some(log) => log.flush(),
            None => Ok(()),
        }
    }
}

/// The home links of the configuration: interfaces named by host groups and NAI hosts.
pub fn home_links(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let locations = config
        .host_groups
        .iter()
        .map(|g| &g.location)
        .chain(config.nai_hosts.iter().map(|h| &h.location));
    for loc in locations {
        if let HomeLocation::Interface(name) = loc {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// Builds the home agent's data plane (see the module documentation) and says which one runs
/// and why. `log` records the requests; `log_file` says whether it writes them to a file
/// (`--dataplane-log`).
///
/// # Errors
/// `--dataplane tun` was asked for and the user-space data plane could not start.
pub fn home_agent(
    (kind, why): (DataplaneKind, &'static str),
    engine: &EngineTuning,
    config: &Config,
    log: LoggingDataPlane,
    log_file: bool,
) -> Result<(Box<dyn HaDataPlane>, Chosen), DaemonError> {
    if kind == DataplaneKind::Log {
        tracing::info!(
            reason = why,
            "data plane: log (requests are recorded, nothing is installed)"
        );
        return Ok((Box::new(log), Chosen::new((kind, why))));
    }
    let mut plane = HaDataPlaneConfig::default();
    engine.apply(&mut plane.engine);
    let started = LinuxHaDataPlane::new(plane);
    match started {
        Ok(real) => {
            let links = home_links(config);
            tracing::info!(
                reason = why,
                tun = real.engine().tun_name(),
                tx = ?engine.tx,
                queues = engine.queues,
                home_links = ?links,
                "data plane: tun (user-space tunnels, host routes, proxy ARP)"
            );
            check_links(&links);
            Ok((
                Box::new(Tee {
                    real,
                    log: log_file.then_some(log),
                }),
                Chosen::new((kind, why)),
            ))
        }
        Err(e) if why == "--dataplane" => Err(DaemonError::Io(
            "cannot start the user-space data plane (--dataplane tun)".into(),
            e,
        )),
        Err(e) => {
            tracing::warn!(
                error = %e,
                "data plane: cannot start the user-space data plane; running with --dataplane \
                 log (nothing is installed: mobile nodes away from home get no traffic)"
            );
            Ok((Box::new(log), Chosen::fallback(why, &e)))
        }
    }
}

/// Warns about home links that do not exist (proxy ARP on them would fail).
fn check_links(links: &[String]) {
    let Ok(mut nl) = mip_io::net::Netlink::open() else {
        return;
    };
    for l in links {
        if let Err(e) = nl.link(l) {
            tracing::warn!(
                interface = %l,
                error = %e,
                "home link not found: proxy and gratuitous ARP for its mobile nodes will fail"
            );
        }
    }
}

/// `show ip mobile dataplane`: the data plane in force, the requests it saw, and its engine
/// (`tun` with an engine; the transmit mode is the one the engine was started with). `note`
/// says why there is no engine, when that needs saying; an engine that does not answer is
/// noted too.
pub fn view(
    chosen: &Chosen,
    requests: u64,
    engine: Option<&TunnelEngine>,
    note: Option<String>,
) -> DataplaneView {
    let mut v = DataplaneView {
        kind: match chosen.kind {
            DataplaneKind::Tun => DataplaneKindView::Tun,
            DataplaneKind::Log => DataplaneKindView::Log,
        },
        reason: Some(chosen.reason.clone()),
        requests: Some(requests),
        engine: None,
        note,
    };
    if let Some(e) = engine {
        match e.stats() {
            Ok(stats) => {
                v.engine = Some(engine_view(
                    e.tun_name(),
                    e.queues(),
                    Some(e.offload()),
                    e.tx_mode(),
                    &stats,
                ));
            }
            Err(err) => v.note = Some(format!("The tunnel engine did not answer: {err}")),
        }
    }
    v
}

/// The engine part of the view, from a snapshot.
pub fn engine_view(
    tun: &str,
    queues: usize,
    offload: Option<bool>,
    tx: TxMode,
    stats: &EngineStats,
) -> EngineView {
    let (encapsulated, decapsulated) = stats.tunnels.values().fold((0u64, 0u64), |(o, i), t| {
        (
            o.saturating_add(t.counters.tx_packets),
            i.saturating_add(t.counters.rx_packets),
        )
    });
    EngineView {
        tun: tun.to_string(),
        queues: u32::try_from(queues).unwrap_or(u32::MAX),
        offload,
        tx_mode: match tx {
            TxMode::Raw => TunnelTxView::Raw,
            TxMode::Packet => TunnelTxView::Packet,
        },
        tunnels: stats.tunnels.len() as u64,
        encapsulated,
        decapsulated,
        counters: counters_view(&stats.engine),
        queue_packets: stats.queue_packets.clone(),
    }
}

/// Every field of [`EngineCounters`], by name (the pattern has no `..`: a counter added to
/// the engine does not compile until it is shown).
fn counters_view(c: &EngineCounters) -> EngineCountersView {
    let &EngineCounters {
        tun_packets,
        raw_packets,
        rx_coalesced,
        unknown_source,
        no_route,
        not_ipv4,
        malformed,
        icmp_sent,
        icmp_suppressed,
        tun_read_errors,
        raw_recv_errors,
        wakeups,
        broadcast_rx,
        broadcast_forwarded,
        broadcast_loop,
        broadcast_rate_limited,
        broadcast_ttl,
        tx_packet_socket,
        tx_raw_fallback,
        tx_raw_refresh,
        nexthop_resolved,
        nexthop_unresolved,
        packet_send_errors,
        nexthop_deferred,
    } = c;
    EngineCountersView {
        tun_packets,
        raw_packets,
        rx_coalesced,
        unknown_source,
        no_route,
        not_ipv4,
        malformed,
        icmp_sent,
        icmp_suppressed,
        tun_read_errors,
        raw_recv_errors,
        wakeups,
        broadcast_rx,
        broadcast_forwarded,
        broadcast_loop,
        broadcast_rate_limited,
        broadcast_ttl,
        tx_packet_socket,
        tx_raw_fallback,
        tx_raw_refresh,
        nexthop_resolved,
        nexthop_unresolved,
        packet_send_errors,
        nexthop_deferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mip_io::net::{Encapsulation, TunnelCounters, TunnelSpec, TunnelStats};
    use std::net::Ipv4Addr;

    fn tunnel(tx: u64, rx: u64) -> TunnelStats {
        TunnelStats {
            spec: TunnelSpec {
                local: Ipv4Addr::new(10, 0, 0, 1),
                remote: Ipv4Addr::new(10, 0, 0, 2),
                encapsulation: Encapsulation::IpIp,
                mtu: None,
            },
            mtu: 1480,
            counters: TunnelCounters {
                tx_packets: tx,
                rx_packets: rx,
                ..TunnelCounters::default()
            },
        }
    }

    #[test]
    fn engine_view_copies_every_counter_and_sums_the_tunnels() {
        let mut stats = EngineStats::default();
        stats.tunnels.insert(1, tunnel(10, 3));
        stats.tunnels.insert(2, tunnel(5, 4));
        stats.engine.tun_packets = 16;
        stats.engine.tx_packet_socket = 12;
        stats.engine.nexthop_deferred = 2;
        stats.engine.broadcast_ttl = 1;
        stats.queue_packets = vec![9, 7];
        let v = engine_view("mipt0", 2, Some(true), TxMode::Packet, &stats);
        assert_eq!(v.tun, "mipt0");
        assert_eq!((v.queues, v.tunnels), (2, 2));
        assert_eq!((v.encapsulated, v.decapsulated), (15, 7));
        assert_eq!(v.tx_mode, TunnelTxView::Packet);
        assert_eq!(v.counters.tun_packets, 16);
        assert_eq!(v.counters.tx_packet_socket, 12);
        assert_eq!(v.counters.nexthop_deferred, 2);
        assert_eq!(v.counters.broadcast_ttl, 1);
        assert_eq!(v.queue_packets, vec![9, 7]);
        let raw = engine_view("mipt0", 1, None, TxMode::Raw, &EngineStats::default());
        assert_eq!(raw.tx_mode, TunnelTxView::Raw);
        assert_eq!(raw.counters, EngineCountersView::default());
    }

    #[test]
    fn log_view_and_fallback_reason() {
        let chosen = Chosen::new((DataplaneKind::Log, "--dataplane"));
        let v = view(&chosen, 5, None, None);
        assert_eq!(v.kind, DataplaneKindView::Log);
        assert_eq!(v.reason.as_deref(), Some("--dataplane"));
        assert_eq!((v.requests, v.engine), (Some(5), None));
        let e = io::Error::from(io::ErrorKind::PermissionDenied);
        let f = Chosen::fallback("default: root with /dev/net/tun", &e);
        assert_eq!(f.kind, DataplaneKind::Log);
        assert!(
            f.reason
                .starts_with("default: root with /dev/net/tun; tun could not start: "),
            "{}",
            f.reason
        );
    }
}
