//! `mipd --role mobile-node`: the mobile node client. The sans-I/O core of `mip-mn` wired to
//! the host: link notifications, agent advertisements and solicitations, Registration
//! Requests and Replies, and the data plane that keeps the home address reachable wherever the
//! node is attached.
//!
//! Command-line options used: `--config` (the TOML form of `mip_mn::MobileNodeConfig`),
//! `--control-socket`, `--state-dir` (created; nothing is kept there yet), `--listen` (the
//! UDP 434 socket, default `0.0.0.0:434`), `--log-level`, `--check-config`, `--dataplane`
//! (`log`: install nothing, log what would be done). No extra options are needed.
//!
//! # The loop (one thread owns the core)
//!
//! ```text
//! loop {
//!     wait for any socket (one epoll set), the waker (control request, signal), or the next
//!         deadline (core timer, ARP probe)
//!     links:          rtnetlink RTMGRP_LINK -> link down: core.link_changed(down), data plane
//!                     cleaned; link up: ARP probes + core.link_changed(up) (the core solicits
//!                     at once)
//!     ARP:            an answer from the home agent identifies the home link, one from the
//!                     co-located network's router that link -> address configured,
//!                     core.link_changed(up, address)
//!     advertisements: AF_PACKET (with the agent's MAC) -> core.handle_advertisement_from
//!     replies:        UDP 434 -> core.handle_reply
//!     timers:         core.handle_timeout, probe retries
//!     control, signals
//!     after every input, drain the core: data plane, requests, solicitations, events (log)
//! }
//! ```
//!
//! # Sending
//!
//! * Solicitations: built whole (TTL 1, from the home address) and sent on `AF_PACKET` to the
//!   group's MAC: no route or address is needed on the new link.
//! * Requests through a foreign agent (`Delivery::AgentLinkLayer` with the agent's MAC): built
//!   whole and sent on `AF_PACKET` straight to that MAC — no ARP for the home address on a
//!   foreign link (RFC 5944 §4.6); then the agent's routes are installed while the request is
//!   in flight. Without a MAC: routes first, then the UDP socket.
//! * Other requests (`Delivery::Routed`): the UDP socket, from the source the core names
//!   (`IP_PKTINFO`): the co-located care-of address, or the home address at home.
//!
//! # Link identification
//!
//! A link comes up: the node does not know where it is. It asks the core to solicit (a foreign
//! agent answers at once) and, in parallel, probes with ARP (RFC 5227 form, sender address
//! 0.0.0.0) the home agent and the co-located network's router (RFC 4436 style). Whoever
//! answers names the link; probes are repeated after 20 ms, 100 ms, 500 ms, 2 s, then every 5 s
//! while the link is unidentified and no foreign agent serves it.
//!
//! See [`plumbing`] for what is installed in each state.

mod config;
mod packet;
mod plumbing;

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime};

use mip_control::{Request, Response};
use mip_io::net::engine::Encapsulation;
use mip_io::net::links::{LinkChange, LinkMonitor};
use mip_io::net::netlink::Netlink;
use mip_io::net::Epoll;
use mip_io::{Poller, RecvBatch, UdpEndpoint};
use mip_mn::{
    AttachmentKind, ColocatedAddress, DataPlaneRequest, Delivery, MobileNode, NodeState,
    Solicitation, Transmit,
};
use mip_wire::MIP_UDP_PORT;

use crate::args::{Args, DataplaneKind};
use crate::control::{self, Answer};
use crate::dataplane::{self, Chosen};
use crate::event::Event;
use crate::signals;

use self::config::{Loaded, StaticColocated};
use self::packet::{ArpSocket, IpSocket};
use self::plumbing::{Colocated, Plumbing};

/// Waits between ARP probes of a link not yet identified (the first at link up).
const PROBE_SCHEDULE: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_millis(20),
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];
/// Then every so often.
const PROBE_EVERY: Duration = Duration::from_secs(5);
/// The link state is re-read this often (netlink notifications are the fast path).
const LINK_RESYNC: Duration = Duration::from_secs(5);
/// How long a deregistration at shutdown may take.
const SHUTDOWN_DEREGISTRATION: Duration = Duration::from_millis(1500);

/// Runs the mobile node until SIGTERM/SIGINT. Exit codes: 0 after a clean stop (or a valid
/// `--check-config`), 1 when it could not start, 2 for a bad configuration.
pub fn run(args: &Args) -> ExitCode {
    let loaded = match config::load(&args.config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mipd: configuration refused:\n{e}");
            return ExitCode::from(2);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    if args.check_config {
        println!(
            "{}: mobile node configuration OK ({} warning(s))",
            args.config.display(),
            loaded.warnings.len()
        );
        return ExitCode::SUCCESS;
    }
    match Node::start(args, loaded) {
        Ok(mut node) => {
            let r = node.run();
            node.shutdown();
            match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("mipd: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            tracing::error!("mipd: {e}");
            ExitCode::from(1)
        }
    }
}

/// Removes the control socket file however the daemon ends.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => tracing::debug!(path = %self.0.display(), "control socket removed"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.0.display(), error = %e, "cannot remove the control socket")
            }
        }
    }
}

/// Where a link was found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Unknown,
    Home,
    Colocated,
}

/// A configured interface.
#[derive(Debug)]
struct Iface {
    name: String,
    ifindex: Option<u32>,
    mac: Option<[u8; 6]>,
    up: bool,
    place: Place,
    /// ARP probes sent since the link came up.
    probes: usize,
    next_probe: Option<Instant>,
    /// When the link came up (for the log).
    up_since: Option<Instant>,
}

/// Counters of the daemon (the core keeps the protocol's).
#[derive(Debug, Default)]
struct Stats {
    link_changes: u64,
    probes_sent: u64,
    links_identified: u64,
    advertisements: u64,
    advertisements_bad_ttl: u64,
    solicitations_sent: u64,
    requests_sent: u64,
    send_failures: u64,
    replies: u64,
    core_panics: u64,
    /// Data-plane requests of the core (`show ip mobile dataplane`).
    dataplane_requests: u64,
}

struct Node {
    core: MobileNode,
    home_prefix_len: u8,
    home_gateway: Ipv4Addr,
    colocated: Option<StaticColocated>,
    ifaces: Vec<Iface>,
    links: LinkMonitor,
    ip: IpSocket,
    arp: ArpSocket,
    udp: UdpEndpoint,
    recv: RecvBatch,
    plumbing: Plumbing,
    /// The data plane in force and why (`show ip mobile dataplane`).
    dataplane_choice: Chosen,
    poller: Poller,
    epoll: Epoll,
    events: Receiver<Event>,
    ip_id: u16,
    /// Gratuitous ARP to send once the core's requests are out (interface).
    gratuitous_arp: Option<usize>,
    stats: Stats,
    stop: Option<&'static str>,
    _socket_file: SocketFile,
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> io::Error {
    let what = what.into();
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// The gateway of the current default route, when it lies in the home network (the node
/// starts at home): else the home agent.
fn home_gateway(nl: Option<&mut Netlink>, cfg: &mip_mn::MobileNodeConfig) -> Ipv4Addr {
    let found = nl
        .and_then(|nl| nl.route_get(Ipv4Addr::new(192, 0, 2, 1)).ok())
        .and_then(|r| r.gateway)
        .filter(|g| cfg.home_network.contains(*g) && *g != cfg.home_address);
    found.unwrap_or(cfg.home_agent)
}

impl Node {
    fn start(args: &Args, loaded: Loaded) -> io::Result<Node> {
        control::check_free(&args.control_socket)
            .map_err(|e| io::Error::new(io::ErrorKind::AddrInUse, e.to_string()))?;
        if !args.state_dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&args.state_dir)
                .map_err(io_err(format!(
                    "cannot create the state directory {}",
                    args.state_dir.display()
                )))?;
        }
        let (dataplane, why) = crate::args::choose_dataplane(args.dataplane);
        let apply = dataplane == DataplaneKind::Tun;
        let cfg = loaded.core.clone();
        let mut seed = [0u8; 16];
        mip_io::sys::fill_random(&mut seed).map_err(io_err("random bytes"))?;
        let core = MobileNode::new(cfg.clone(), seed)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;

        let links = LinkMonitor::open(&cfg.interfaces).map_err(io_err("netlink link monitor"))?;
        let ip = IpSocket::open().map_err(io_err("AF_PACKET IPv4 socket (needs CAP_NET_RAW)"))?;
        let arp = ArpSocket::open().map_err(io_err("AF_PACKET ARP socket (needs CAP_NET_RAW)"))?;
        let udp = UdpEndpoint::bind(args.listen).map_err(io_err(format!(
            "cannot listen on UDP {} (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
            args.listen
        )))?;
        let mut probe_nl = if apply { Netlink::open().ok() } else { None };
        let home_gateway = home_gateway(probe_nl.as_mut(), &cfg);
        let tunnel = loaded.colocated.is_some();
        let mut plumbing = Plumbing::new(
            apply,
            tunnel,
            cfg.home_address,
            cfg.home_network.len(),
            home_gateway,
            &args.engine_tuning(),
        )
        .map_err(io_err("data plane"))?;
        for name in &cfg.interfaces {
            plumbing.prepare_interface(name);
        }

        let epoll = Epoll::new()?;
        for fd in [
            links.as_raw_fd(),
            ip.as_raw_fd(),
            arp.as_raw_fd(),
            udp.as_raw_fd(),
        ] {
            epoll.add(fd)?;
        }
        let poller = Poller::new()?;
        let (events_tx, events) = mpsc::channel();
        signals::spawn(events_tx.clone(), poller.waker())
            .map_err(io_err("cannot install the signal handlers"))?;
        // Last: the socket existing means the daemon is serving.
        let listener = control::bind(&args.control_socket)
            .map_err(|e| io::Error::new(io::ErrorKind::AddrInUse, e.to_string()))?;
        let socket_file = SocketFile(args.control_socket.clone());
        control::spawn(listener, events_tx, poller.waker())
            .map_err(io_err("cannot start the control server"))?;

        let mut ip_id = [0u8; 2];
        let _ = mip_io::sys::fill_random(&mut ip_id);
        tracing::info!(
            home_address = %cfg.home_address,
            home_agent = %cfg.home_agent,
            home_network = %cfg.home_network,
            home_gateway = %home_gateway,
            interfaces = ?cfg.interfaces,
            colocated = ?loaded.colocated.as_ref().map(|c| format!("{}/{} on {}", c.address, c.prefix_len, c.interface)),
            dataplane = dataplane.name(),
            dataplane_choice = why,
            tun = plumbing.tun_name().unwrap_or("-"),
            control = %args.control_socket.display(),
            "mipd mobile node running"
        );
        Ok(Node {
            home_prefix_len: cfg.home_network.len(),
            home_gateway,
            colocated: loaded.colocated,
            ifaces: cfg
                .interfaces
                .iter()
                .map(|n| Iface {
                    name: n.clone(),
                    ifindex: None,
                    mac: None,
                    up: false,
                    place: Place::Unknown,
                    probes: 0,
                    next_probe: None,
                    up_since: None,
                })
                .collect(),
            core,
            links,
            ip,
            arp,
            udp,
            recv: RecvBatch::new(),
            plumbing,
            dataplane_choice: Chosen::new((dataplane, why)),
            poller,
            epoll,
            events,
            ip_id: u16::from_ne_bytes(ip_id),
            gratuitous_arp: None,
            stats: Stats::default(),
            stop: None,
            _socket_file: socket_file,
        })
    }

    fn run(&mut self) -> io::Result<()> {
        let mut next_resync = Instant::now() + LINK_RESYNC;
        while self.stop.is_none() {
            let wait = self.wait_time(next_resync);
            self.poller
                .wait(&self.epoll, Some(wait))
                .map_err(io_err("poll"))?;
            self.turn()?;
            if Instant::now() >= next_resync {
                next_resync = Instant::now() + LINK_RESYNC;
                if let Err(e) = self.links.request_dump() {
                    tracing::warn!("cannot re-read the link state: {e}");
                }
            }
        }
        tracing::info!(reason = self.stop.unwrap_or("?"), "stopping");
        Ok(())
    }

    /// One pass over every input.
    fn turn(&mut self) -> io::Result<()> {
        let changes = self.links.poll().map_err(io_err("link notifications"))?;
        for c in changes {
            self.link_change(c);
        }
        self.receive_arp();
        self.receive_advertisements();
        self.receive_replies();
        self.timers();
        self.handle_events();
        Ok(())
    }

    fn wait_time(&self, next_resync: Instant) -> Duration {
        let mut wait = next_resync.saturating_duration_since(Instant::now());
        if let Some(t) = self.core.poll_timeout() {
            wait = wait.min(t.duration_since(now()).unwrap_or(Duration::ZERO));
        }
        for f in &self.ifaces {
            if let Some(p) = f.next_probe {
                wait = wait.min(p.saturating_duration_since(Instant::now()));
            }
        }
        wait
    }

    // -------------------------------------------------------------------------------------
    // Links

    fn iface_by_index(&self, ifindex: u32) -> Option<usize> {
        self.ifaces.iter().position(|f| f.ifindex == Some(ifindex))
    }

    fn iface_by_name(&self, name: &str) -> Option<usize> {
        self.ifaces.iter().position(|f| f.name == name)
    }

    fn link_change(&mut self, c: LinkChange) {
        self.stats.link_changes += 1;
        match c {
            LinkChange::Down(l) => {
                let Some(i) = self.iface_by_name(&l.name) else {
                    return;
                };
                let was_up = self.ifaces[i].up;
                let f = &mut self.ifaces[i];
                f.up = false;
                f.place = Place::Unknown;
                f.next_probe = None;
                f.up_since = None;
                let ifindex = f.ifindex.unwrap_or(l.ifindex);
                f.ifindex = Some(l.ifindex);
                tracing::info!(interface = %l.name, "link down");
                self.core.link_changed(now(), &l.name, false, None);
                self.drain();
                if was_up {
                    self.plumbing.link_down(ifindex);
                }
            }
            LinkChange::Up(l) => {
                let Some(i) = self.iface_by_name(&l.name) else {
                    return;
                };
                self.plumbing.prepare_interface(&l.name);
                let f = &mut self.ifaces[i];
                f.up = true;
                f.ifindex = Some(l.ifindex);
                f.mac = l.mac;
                f.place = Place::Unknown;
                f.probes = 0;
                f.next_probe = Some(Instant::now());
                f.up_since = Some(Instant::now());
                tracing::info!(interface = %l.name, ifindex = l.ifindex, "link up");
                // Probes first (answers take a round trip), then the core solicits.
                self.probe(i);
                let address = self.unprobed_colocated(i);
                if let Some(a) = address {
                    self.identified(i, Place::Colocated, Some(a));
                } else {
                    self.core.link_changed(now(), &l.name, true, None);
                    self.drain();
                }
            }
        }
    }

    /// A static co-located address without a gateway to probe: offered at once.
    fn unprobed_colocated(&self, i: usize) -> Option<ColocatedAddress> {
        let c = self.colocated.as_ref()?;
        (c.interface == self.ifaces[i].name && c.gateway.is_none())
            .then(|| ColocatedAddress::new(c.address, c.prefix_len, None))
    }

    /// The addresses probed on interface `i`, with what an answer means.
    fn probe_targets(&self, i: usize) -> Vec<(Ipv4Addr, Place)> {
        let cfg = self.core.config();
        let mut t = Vec::new();
        if cfg.home_network.contains(cfg.home_agent) {
            t.push((cfg.home_agent, Place::Home));
        }
        if self.home_gateway != cfg.home_agent {
            t.push((self.home_gateway, Place::Home));
        }
        if let Some(c) = &self.colocated {
            if c.interface == self.ifaces[i].name {
                if let Some(g) = c.gateway {
                    t.push((g, Place::Colocated));
                }
            }
        }
        t
    }

    fn probe(&mut self, i: usize) {
        let f = &self.ifaces[i];
        let (Some(ifindex), Some(mac)) = (f.ifindex, f.mac) else {
            return;
        };
        for (target, _) in self.probe_targets(i) {
            match self.arp.probe(ifindex, mac, target) {
                Ok(()) => self.stats.probes_sent += 1,
                Err(e) => {
                    self.stats.send_failures += 1;
                    tracing::debug!(interface = %self.ifaces[i].name, "ARP probe for {target}: {e}");
                }
            }
        }
        let f = &mut self.ifaces[i];
        f.probes += 1;
        let wait = PROBE_SCHEDULE.get(f.probes).copied().unwrap_or(PROBE_EVERY);
        f.next_probe = Some(Instant::now() + wait);
    }

    fn receive_arp(&mut self) {
        loop {
            let seen = match self.arp.recv() {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("ARP socket: {e}");
                    return;
                }
            };
            let Some(i) = self.iface_by_index(seen.ifindex) else {
                continue;
            };
            if !self.ifaces[i].up || self.ifaces[i].place != Place::Unknown {
                continue;
            }
            let hit = self
                .probe_targets(i)
                .into_iter()
                .find(|(t, _)| *t == seen.sender_ip);
            if let Some((target, place)) = hit {
                tracing::debug!(
                    interface = %self.ifaces[i].name,
                    "{target} answered: {}",
                    if place == Place::Home { "home link" } else { "co-located care-of address's link" }
                );
                let address = match place {
                    Place::Home => Some(ColocatedAddress::new(
                        self.core.home_address(),
                        self.home_prefix_len,
                        Some(self.home_gateway),
                    )),
                    _ => self
                        .colocated
                        .as_ref()
                        .map(|c| ColocatedAddress::new(c.address, c.prefix_len, c.gateway)),
                };
                self.identified(i, place, address);
            }
        }
    }

    /// Link `i` is `place`: configure it and tell the core.
    fn identified(&mut self, i: usize, place: Place, address: Option<ColocatedAddress>) {
        self.stats.links_identified += 1;
        let f = &mut self.ifaces[i];
        f.place = place;
        f.next_probe = None;
        let ms = f.up_since.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
        let (name, ifindex) = (f.name.clone(), f.ifindex);
        tracing::info!(
            interface = %name,
            after_ms = format!("{ms:.1}"),
            "link identified: {}",
            match place {
                Place::Home => "home link",
                Place::Colocated => "co-located care-of address's link",
                Place::Unknown => "unknown",
            }
        );
        if let Some(ifindex) = ifindex {
            match (place, address) {
                (Place::Home, _) => self.plumbing.home_link(ifindex),
                (Place::Colocated, Some(a)) => {
                    self.plumbing
                        .colocated_link(ifindex, a.address, a.prefix_len, a.gateway)
                }
                _ => {}
            }
        }
        self.core.link_changed(now(), &name, true, address);
        self.drain();
    }

    // -------------------------------------------------------------------------------------
    // Inputs

    fn receive_advertisements(&mut self) {
        loop {
            let adv = match self.ip.recv() {
                Ok(Some(a)) => a,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("advertisement socket: {e}");
                    return;
                }
            };
            let Some(i) = self.iface_by_index(adv.ifindex) else {
                continue;
            };
            self.stats.advertisements += 1;
            if adv.ttl != 1 {
                // RFC 5944 §2.3: sent with TTL 1; anything else crossed a router.
                self.stats.advertisements_bad_ttl += 1;
                tracing::debug!(from = %adv.source, ttl = adv.ttl, "advertisement with TTL other than 1 ignored");
                continue;
            }
            let name = self.ifaces[i].name.clone();
            tracing::trace!(interface = %name, from = %adv.source, "advertisement");
            let core = &mut self.core;
            let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                core.handle_advertisement_from(now(), &name, adv.source, adv.link_layer, &adv.icmp)
            }));
            if handled.is_err() {
                self.core_panic("advertisement", adv.source, &adv.icmp);
            }
            self.drain();
        }
    }

    fn receive_replies(&mut self) {
        loop {
            let n = match self.udp.recv_batch(&mut self.recv) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!("UDP 434: {e}");
                    return;
                }
            };
            if n == 0 {
                return;
            }
            let batch: Vec<(SocketAddrV4, Vec<u8>)> = self
                .recv
                .iter()
                .filter(|d| !d.truncated)
                .map(|d| (d.source, d.payload.to_vec()))
                .collect();
            for (source, payload) in batch {
                self.stats.replies += 1;
                tracing::debug!(from = %source, bytes = payload.len(), "registration reply");
                let core = &mut self.core;
                let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    core.handle_reply(now(), source, &payload)
                }));
                if handled.is_err() {
                    self.core_panic("registration reply", *source.ip(), &payload);
                }
                self.drain();
            }
        }
    }

    /// A bug in the core: the packet is logged (so it can become a regression test) and
    /// dropped; the daemon keeps serving.
    fn core_panic(&mut self, what: &str, from: Ipv4Addr, bytes: &[u8]) {
        self.stats.core_panics += 1;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        tracing::error!(
            from = %from,
            packet = %hex,
            "the mobile node core panicked on this {what}; it was dropped"
        );
    }

    fn timers(&mut self) {
        if let Some(t) = self.core.poll_timeout() {
            if t <= now() {
                self.core.handle_timeout(now());
                self.drain();
            }
        }
        let due: Vec<usize> = (0..self.ifaces.len())
            .filter(|&i| {
                let f = &self.ifaces[i];
                f.up && f.place == Place::Unknown
                    && f.next_probe.is_some_and(|t| t <= Instant::now())
            })
            .collect();
        for i in due {
            // A foreign agent serves this link: nothing to probe for.
            let snap = self.core.snapshot(now());
            let served = snap.attachment == Some(AttachmentKind::ForeignAgent)
                && snap.interface.as_deref() == Some(self.ifaces[i].name.as_str());
            if served || self.probe_targets(i).is_empty() {
                self.ifaces[i].next_probe = None;
            } else {
                self.probe(i);
            }
        }
    }

    fn handle_events(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(Event::Control { request, reply }) => {
                    let answer = self.control(request);
                    let _ = reply.send(answer);
                }
                Ok(Event::Reload) => tracing::warn!(
                    "SIGHUP: the mobile node does not reload its configuration; restart mipd"
                ),
                Ok(Event::Shutdown(why)) => self.stop = Some(why),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }

    fn control(&mut self, request: Request) -> Answer {
        match request {
            Request::ShowNode => {
                let v = mip_control::convert::mn::node_view(&self.core.snapshot(now()));
                match serde_json::to_value(&v) {
                    Ok(j) => Response::ok(j).into(),
                    Err(e) => Response::error(format!("cannot encode the view: {e}")).into(),
                }
            }
            Request::ShowDataplane => {
                // The engine exists only for a co-located care-of address.
                let note = (self.dataplane_choice.kind == DataplaneKind::Tun
                    && self.plumbing.engine().is_none())
                .then(|| {
                    "No co-located care-of address configured: the foreign agent decapsulates \
                     what the home agent tunnels to this node"
                        .to_string()
                });
                let v = dataplane::view(
                    &self.dataplane_choice,
                    self.stats.dataplane_requests,
                    self.plumbing.engine(),
                    note,
                );
                match serde_json::to_value(&v) {
                    Ok(j) => Response::ok(j).into(),
                    Err(e) => Response::error(format!("cannot encode the view: {e}")).into(),
                }
            }
            Request::Reload => {
                Response::error("the mobile node does not reload its configuration; restart mipd")
                    .into()
            }
            other => Response::error(format!(
                "not served by the mobile node (try `show ip mobile node` or `show ip mobile \
                 dataplane`): {other:?}"
            ))
            .into(),
        }
    }

    // -------------------------------------------------------------------------------------
    // Outputs

    /// Drains the core's outputs in the documented order.
    fn drain(&mut self) {
        while let Some(d) = self.core.poll_dataplane() {
            self.dataplane(d);
        }
        self.plumbing.set_home_address(self.core.home_address());
        while let Some(t) = self.core.poll_transmit() {
            self.transmit(t);
        }
        while let Some(s) = self.core.poll_solicitation() {
            self.solicit(s);
        }
        if let Some(i) = self.gratuitous_arp.take() {
            self.announce(i);
        }
        while let Some(e) = self.core.poll_event() {
            tracing::info!("{e}");
        }
    }

    fn ifindex_of(&self, name: &str) -> Option<u32> {
        self.iface_by_name(name)
            .and_then(|i| self.ifaces[i].ifindex)
    }

    fn dataplane(&mut self, d: DataPlaneRequest) {
        tracing::debug!(request = ?d, "data-plane request");
        self.stats.dataplane_requests += 1;
        match d {
            DataPlaneRequest::UseForeignAgent {
                interface,
                foreign_agent,
                foreign_agent_link_layer,
                encapsulating_delivery,
                ..
            } => {
                if encapsulating_delivery {
                    tracing::warn!(
                        "encapsulating delivery (RFC 3024 §5.2) is not done by this mobile node: \
                         its packets go to the foreign agent unencapsulated"
                    );
                }
                if let Some(ifindex) = self.ifindex_of(&interface) {
                    self.plumbing
                        .foreign_agent(ifindex, foreign_agent, foreign_agent_link_layer);
                }
            }
            DataPlaneRequest::UseColocated {
                interface,
                care_of_address,
                gateway,
                home_agent,
                encapsulation,
                reverse_tunnel,
                ..
            } => {
                let Some(ifindex) = self.ifindex_of(&interface) else {
                    return;
                };
                let prefix_len = self
                    .colocated
                    .as_ref()
                    .filter(|c| c.address == care_of_address)
                    .map_or(32, |c| c.prefix_len);
                self.plumbing
                    .colocated_link(ifindex, care_of_address, prefix_len, gateway);
                self.plumbing.colocated(
                    Colocated {
                        ifindex,
                        care_of: care_of_address,
                        home_agent,
                        encapsulation: Encapsulation::from_wire(encapsulation)
                            .unwrap_or(Encapsulation::IpIp),
                        reverse_tunnel,
                    },
                    gateway,
                );
            }
            DataPlaneRequest::AtHome {
                interface,
                gratuitous_arp,
                ..
            } => {
                let Some(i) = self.iface_by_name(&interface) else {
                    return;
                };
                if let Some(ifindex) = self.ifaces[i].ifindex {
                    if self.plumbing.at_home(ifindex, gratuitous_arp) {
                        self.gratuitous_arp = Some(i);
                    }
                }
            }
            DataPlaneRequest::Detached => self.plumbing.detached(),
        }
    }

    /// Gratuitous ARP for the home address on interface `i` (RFC 5944 §4.6, back home).
    fn announce(&mut self, i: usize) {
        let f = &self.ifaces[i];
        let (Some(ifindex), Some(mac)) = (f.ifindex, f.mac) else {
            tracing::warn!(interface = %f.name, "no link-layer address known: no gratuitous ARP");
            return;
        };
        let hoa = self.core.home_address();
        match self.arp.announce(ifindex, mac, hoa) {
            Ok(()) => tracing::debug!(interface = %f.name, "gratuitous ARP for {hoa}"),
            Err(e) => self
                .plumbing
                .failed(&format!("gratuitous ARP for {hoa}"), &e),
        }
    }

    fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    fn transmit(&mut self, t: Transmit) {
        self.stats.requests_sent += 1;
        let Some(i) = self.iface_by_name(&t.interface) else {
            return;
        };
        let ifindex = self.ifaces[i].ifindex;
        match (&t.delivery, ifindex) {
            (
                Delivery::AgentLinkLayer {
                    agent,
                    link_layer: Some(mac),
                },
                Some(ifindex),
            ) => {
                let (agent, mac) = (*agent, *mac);
                let id = self.next_ip_id();
                let packet = packet::udp_packet(
                    t.source,
                    MIP_UDP_PORT,
                    *t.destination.ip(),
                    t.destination.port(),
                    id,
                    &t.payload,
                );
                match self.ip.send(ifindex, mac, &packet) {
                    Ok(()) => tracing::debug!(
                        to = %t.destination,
                        from = %t.source,
                        mac = %mip_io::net::netlink::format_mac(&mac),
                        "registration request to the foreign agent's link-layer address"
                    ),
                    Err(e) => {
                        self.stats.send_failures += 1;
                        tracing::warn!(to = %t.destination, "registration request not sent: {e}");
                    }
                }
                // While the request is in flight: the agent's routes, so that the node's own
                // packets leave through the new agent as soon as it serves.
                self.plumbing.foreign_agent(ifindex, agent, Some(mac));
            }
            (Delivery::AgentLinkLayer { agent, .. }, Some(ifindex)) => {
                self.plumbing.foreign_agent(ifindex, *agent, None);
                self.send_udp(&t);
            }
            _ => self.send_udp(&t),
        }
    }

    fn send_udp(&mut self, t: &Transmit) {
        let m = mip_ha::Transmit {
            destination: t.destination,
            source: t.source,
            payload: t.payload.clone(),
        };
        match self.udp.send_one(&m) {
            Ok(()) => {
                tracing::debug!(to = %t.destination, from = %t.source, "registration request sent")
            }
            Err(e) => {
                self.stats.send_failures += 1;
                tracing::warn!(to = %t.destination, from = %t.source, "registration request not sent: {e}");
            }
        }
    }

    fn solicit(&mut self, s: Solicitation) {
        let Some(i) = self.iface_by_name(&s.interface) else {
            return;
        };
        let Some(ifindex) = self.ifaces[i].ifindex else {
            return;
        };
        let Some(mac) = packet::group_mac(s.destination) else {
            return;
        };
        let id = self.next_ip_id();
        let packet = packet::ipv4_packet(
            self.core.home_address(),
            s.destination,
            1,
            s.ttl,
            id,
            &s.payload,
        );
        match self.ip.send(ifindex, mac, &packet) {
            Ok(()) => {
                self.stats.solicitations_sent += 1;
                tracing::debug!(interface = %s.interface, to = %s.destination, "agent solicitation sent");
            }
            Err(e) => {
                self.stats.send_failures += 1;
                tracing::debug!(interface = %s.interface, "agent solicitation not sent: {e}");
            }
        }
    }

    // -------------------------------------------------------------------------------------
    // Stop

    /// Deregisters when registered away (best effort, short wait), then removes what the
    /// daemon installed.
    fn shutdown(&mut self) {
        let snap = self.core.snapshot(now());
        let away = matches!(
            snap.attachment,
            Some(AttachmentKind::ForeignAgent | AttachmentKind::Colocated)
        );
        let registered = matches!(
            snap.state,
            NodeState::Registered | NodeState::Renewing | NodeState::Registering
        );
        if away && registered {
            tracing::info!("deregistering before stopping");
            self.core.deregister(now());
            self.drain();
            let deadline = Instant::now() + SHUTDOWN_DEREGISTRATION;
            while Instant::now() < deadline && self.core.state() == NodeState::Deregistering {
                let wait = deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50));
                if self.poller.wait(&self.epoll, Some(wait)).is_err() {
                    break;
                }
                let _ = self.links.poll();
                self.receive_replies();
                if let Some(t) = self.core.poll_timeout() {
                    if t <= now() {
                        self.core.handle_timeout(now());
                        self.drain();
                    }
                }
            }
            if self.core.state() == NodeState::Deregistering {
                tracing::warn!("no answer to the deregistration; stopping anyway");
            }
        }
        let at_home = self.core.snapshot(now()).attachment == Some(AttachmentKind::Home);
        self.plumbing.shutdown(at_home);
        tracing::info!(
            link_changes = self.stats.link_changes,
            probes = self.stats.probes_sent,
            links_identified = self.stats.links_identified,
            advertisements = self.stats.advertisements,
            advertisements_bad_ttl = self.stats.advertisements_bad_ttl,
            solicitations = self.stats.solicitations_sent,
            requests = self.stats.requests_sent,
            replies = self.stats.replies,
            send_failures = self.stats.send_failures,
            core_panics = self.stats.core_panics,
            dataplane_failures = self.plumbing.failures,
            "mipd mobile node stopped"
        );
    }
}
