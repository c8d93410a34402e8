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

use std::io;

use mip_config::{Config, HomeLocation};
use mip_ha::{DataPlaneRequest, TunnelId};
use mip_io::net::engine::TxMode;
use mip_io::net::{HaDataPlaneConfig, LinuxHaDataPlane};
use mip_io::{DataPlane, DataPlaneCounts, LoggingDataPlane, TunnelTraffic};

use crate::args::DataplaneKind;
use crate::daemon::DaemonError;

/// The real data plane, with the logging one recording alongside.
struct Tee {
    real: LinuxHaDataPlane,
    /// With `--dataplane-log FILE` only.
    log: Option<LoggingDataPlane>,
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

/// Builds the home agent's data plane (see the module documentation). `log` records the
/// requests; `log_file` says whether it writes them to a file (`--dataplane-log`).
///
/// # Errors
/// `--dataplane tun` was asked for and the user-space data plane could not start.
pub fn home_agent(
    (kind, why): (DataplaneKind, &'static str),
    tx: TxMode,
    config: &Config,
    log: LoggingDataPlane,
    log_file: bool,
) -> Result<Box<dyn DataPlane>, DaemonError> {
    if kind == DataplaneKind::Log {
        tracing::info!(
            reason = why,
            "data plane: log (requests are recorded, nothing is installed)"
        );
        return Ok(Box::new(log));
    }
    let mut plane = HaDataPlaneConfig::default();
    plane.engine.tx = tx;
    let started = LinuxHaDataPlane::new(plane);
    match started {
        Ok(real) => {
            let links = home_links(config);
            tracing::info!(
                reason = why,
                tun = real.engine().tun_name(),
                tx = ?tx,
                home_links = ?links,
                "data plane: tun (user-space tunnels, host routes, proxy ARP)"
            );
            check_links(&links);
            Ok(Box::new(Tee {
                real,
                log: log_file.then_some(log),
            }))
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
            Ok(Box::new(log))
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
