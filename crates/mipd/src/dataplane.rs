//! The home agent's data plane, chosen by `--dataplane`:
//!
//! * `tun`: [`LinuxHaDataPlane`] (TUN device `mipt<N>`, raw sockets for IP-in-IP / GRE /
//!   minimal encapsulation, rtnetlink host routes and proxy neighbours, `AF_PACKET`
//!   gratuitous ARP) in the daemon's network namespace. With `--dataplane-log FILE` every
//!   request is also recorded by the logging data plane (its JSON lines), while the result
//!   that counts is the real one.
//! * `log`: [`LoggingDataPlane`] alone: requests are logged, counted and modelled, nothing is
//!   installed.
//!
//! When `tun` was the default (not asked for) and the data plane cannot start (no
//! `CAP_NET_ADMIN`, no TUN), the daemon says so and runs with `log`; when `--dataplane tun` was
//! asked for, it refuses to start.
//!
//! Restored bindings (after a restart) re-emit their requests through the core, so the
//! tunnels, routes and proxy neighbours come back as soon as the store is read.
//!
//! One request is carried out here rather than by [`LinuxHaDataPlane`]: the gratuitous ARP
//! on behalf of a mobile node that returned home (`GratuitousArp { MobileNodeReturned }`). The
//! ARP payload announces the mobile node's MAC, but the Ethernet source of the frame is the
//! home agent's own: a frame sent *from* the mobile node's MAC out of the home agent's port
//! makes every learning bridge of the home link move that MAC to the home agent's port, and
//! the next frames to the mobile node (the very deregistration reply) go nowhere until the
//! node transmits again (measured in the lab: one lost reply, one second of loss).

use std::io;

use mip_config::{Config, HomeLocation};
use mip_ha::{ArpReason, DataPlaneRequest};
use mip_io::net::arp::gratuitous_arp_frame;
use mip_io::net::{ArpSocket, GratuitousArpKind, HaDataPlaneConfig, LinuxHaDataPlane, Netlink};
use mip_io::{DataPlane, DataPlaneCounts, LoggingDataPlane};

use crate::args::DataplaneKind;
use crate::daemon::DaemonError;

/// The real data plane, with the logging one recording alongside.
struct Tee {
    real: LinuxHaDataPlane,
    /// With `--dataplane-log FILE` only.
    log: Option<LoggingDataPlane>,
    nl: Netlink,
    arp: ArpSocket,
    /// Gratuitous ARPs done here (see the module documentation), and failures.
    returned_arps: u64,
    returned_failed: u64,
}

impl Tee {
    /// Gratuitous ARP (both forms) announcing `address` at the mobile node's MAC (from the
    /// neighbour table), in frames whose Ethernet source is the home link's own MAC.
    fn announce_returned(
        &mut self,
        address: std::net::Ipv4Addr,
        interface: &str,
    ) -> io::Result<()> {
        let link = self.nl.link(interface)?;
        let Some(own) = link.mac else {
            return Ok(());
        };
        let Some(mac) = self.nl.neighbour(link.index, address)?.and_then(|n| n.mac) else {
            tracing::info!(%address, interface, "mobile node's link-layer address unknown: no gratuitous ARP on its behalf (it announces itself, RFC 5944 §4.6)");
            return Ok(());
        };
        for kind in [GratuitousArpKind::Request, GratuitousArpKind::Reply] {
            let mut frame = gratuitous_arp_frame(kind, mac, address);
            frame[6..12].copy_from_slice(&own);
            self.arp.send_on(link.index, &frame)?;
        }
        Ok(())
    }
}

impl DataPlane for Tee {
    fn apply(&mut self, req: &DataPlaneRequest) -> io::Result<()> {
        // The model may disagree (it only knows what it saw): its verdict is not the answer.
        if let Some(log) = self.log.as_mut() {
            let _ = log.apply(req);
        }
        if let DataPlaneRequest::GratuitousArp {
            address,
            interface,
            reason: ArpReason::MobileNodeReturned,
        } = req
        {
            self.returned_arps += 1;
            let r = self.announce_returned(*address, interface);
            if let Err(e) = &r {
                self.returned_failed += 1;
                tracing::warn!(request = ?req, error = %e, "data-plane request failed");
            }
            return r;
        }
        self.real.apply(req)
    }

    fn kind(&self) -> &'static str {
        self.real.kind()
    }

    fn counts(&self) -> DataPlaneCounts {
        let mut c = self.real.counts();
        c.gratuitous_arp += self.returned_arps;
        c.failed += self.returned_failed;
        c
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
    let started = LinuxHaDataPlane::new(HaDataPlaneConfig::default())
        .and_then(|real| Ok((real, Netlink::open()?, ArpSocket::sender()?)));
    match started {
        Ok((real, nl, arp)) => {
            let links = home_links(config);
            tracing::info!(
                reason = why,
                tun = real.engine().tun_name(),
                home_links = ?links,
                "data plane: tun (user-space tunnels, host routes, proxy ARP)"
            );
            check_links(&links);
            Ok(Box::new(Tee {
                real,
                log: log_file.then_some(log),
                nl,
                arp,
                returned_arps: 0,
                returned_failed: 0,
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
