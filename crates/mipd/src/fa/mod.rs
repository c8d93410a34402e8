//! The foreign agent role (`mipd --role foreign-agent`): the sans-I/O core of `mip-fa`
//! wired to its sockets, the visitor data plane and the control socket.
//!
//! # Sockets
//!
//! | socket | in | out |
//! |---|---|---|
//! | UDP `--listen` (0.0.0.0:434), `IP_PKTINFO` | Registration Replies from home agents (and requests arriving on interfaces without foreign service, which the core counts and ignores) | relayed requests, from the care-of address |
//! | `AF_PACKET`/`ETH_P_IP` per foreign-service interface, BPF "UDP to port 434" | **Registration Requests from mobile nodes**, with the sender's MAC address | — |
//! | `AF_PACKET` send-only | — | **replies to mobile nodes**, straight to the MAC address learned from the request |
//! | raw ICMP, types 3 and 10 | Agent Solicitations (interface from `IP_PKTINFO`); ICMP errors about requests relayed to home agents (codes 80–88) | Agent Advertisements, TTL 1, out of the advertising interface |
//!
//! **Why requests come from the packet socket.** The core needs the mobile node's link-layer
//! address to deliver to it without ARP (its home address is not on the visited link). A
//! UDP socket does not say which MAC sent a datagram, and learning it from a packet socket on
//! the side is racy (the kernel queues the UDP copy before the packet copy). So on a
//! foreign-service interface the packet socket is *the* source of requests: the frame gives
//! the MAC, the interface (the socket is bound to it), source and destination; the IP and UDP
//! checksums are verified here, and only datagrams the host would accept (to one of its
//! addresses, 255.255.255.255, the link's broadcast address, 224.0.0.11 or 224.0.0.1) are
//! taken. The kernel also hands the same datagram to the UDP socket; a Registration Request
//! (type 1) arriving there on a foreign-service interface is that copy and is dropped.
//!
//! **Why replies go out of a packet socket.** A reply to a mobile node goes to its home
//! address on the visited link. After an accepted registration the data plane has a permanent
//! neighbour entry and a host route for it, but a *denial* has neither, and routing would send
//! it off towards the home network. Building the IPv4/UDP header here and sending the frame
//! to the learned MAC on the visitor's interface works in every case, never ARPs, and leaves
//! no temporary state in the kernel (RFC 5944 §3.7.3.2).
//!
//! # Interfaces
//!
//! The interfaces of interest are those of the configuration's `interface` blocks and the
//! `care-of` list. Their state comes from `getifaddrs(3)` (index, `IFF_UP`+`IFF_RUNNING`,
//! MAC, IPv4 addresses: the first is the primary one), read at start and every second; a
//! change is handed to the core (`update_interface`: advertisements start or stop, care-of
//! addresses appear or vanish) and packet sockets are opened or re-opened (an interface that
//! is re-created gets a new index). On each foreign-service interface the daemon joins
//! 224.0.0.2 (solicitations) and 224.0.0.11 (all mobility agents).
//!
//! # The loop
//!
//! One thread owns the core. It waits on an epoll descriptor (all sockets) plus the waker of
//! the control server and signals, until the core's next deadline or the next interface check
//! (1 s). Every input is followed by draining the core's outputs in its order: data plane
//! (visitor entries before the reply that announces them), then datagrams, then
//! advertisements. The foreign agent keeps no state on disk: after a restart the visitors
//! register again (at their next renewal, or when they hear the new advertisement sequence
//! numbers restart below 256, RFC 5944 §2.3.2).

mod dataplane;
mod frames;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mip_config::Loaded;
use mip_control::convert::fa as conv;
use mip_control::views::{ClearView, EncapsulationView, TunnelList, TunnelView};
use mip_control::{ClearVisitor, Request, Response, VisitorFilter};
use mip_fa::{FaInterface, FaOptions, ForeignAgent, UnreachableKind, VisitorSelector};
use mip_io::net::{Epoll, IcmpSocket, InterfaceUdpSocket, PacketSocket};
use mip_io::sys::OsInterface;
use mip_io::Poller;

use self::dataplane::{FaDataPlane, LinuxFaDataPlane, LogFaDataPlane};
use crate::args::DataplaneKind;
use crate::control::{self, later, ok, Answer};
use crate::daemon::{DaemonError, Settings};
use crate::dataplane::{self as dataplane_view, Chosen};
use crate::event::Event;
use crate::signals;
use crate::views;

/// How often interfaces are read again.
const LINK_CHECK_EVERY: Duration = Duration::from_secs(1);
/// Datagrams read from one socket before the loop looks elsewhere.
const PER_SOCKET_TURN: usize = 64;
/// Receive buffer (a request with every extension is a few hundred bytes).
const BUF: usize = 4096;
/// All routers (RFC 1256): Agent Solicitations.
const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
/// All mobility agents (RFC 5944 §3.6.1.1... §2.4 / IANA): requests may be sent there.
const ALL_MOBILITY_AGENTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 11);

/// Counters of the daemon around the core.
#[derive(Debug, Default)]
struct Stats {
    udp_datagrams: u64,
    udp_request_copies: u64,
    packet_frames: u64,
    packet_frames_refused: u64,
    icmp_messages: u64,
    icmp_unreachable_matched: u64,
    replies_to_mobile_nodes: u64,
    relayed: u64,
    advertisements: u64,
    send_failures: u64,
    dataplane_failures: u64,
    core_panics: u64,
    control_requests: u64,
    reloads: u64,
}

/// A foreign-service interface's listening packet socket.
struct Listener {
    socket: PacketSocket,
    name: String,
}

struct Fa {
    settings: Settings,
    config: Arc<Loaded>,
    core: ForeignAgent,
    dp: Box<dyn FaDataPlane>,
    /// The data plane in force and why (`show ip mobile dataplane`).
    dp_choice: Chosen,
    udp: InterfaceUdpSocket,
    icmp: IcmpSocket,
    sender: PacketSocket,
    listeners: HashMap<RawFd, Listener>,
    epoll: Epoll,
    poller: Poller,
    events: Receiver<Event>,
    /// Interfaces of interest, as last read (absent: not present on the system).
    os: BTreeMap<String, OsInterface>,
    /// What the core was last told, by name.
    told: BTreeMap<String, FaInterface>,
    /// Every local address (for the destination check of packet-socket requests).
    local_addresses: Vec<Ipv4Addr>,
    /// Tunnel names of `show`: (care-of address, home agent) → number, in order of first use.
    tunnel_names: BTreeMap<(Ipv4Addr, Ipv4Addr), u32>,
    /// `--dataplane-log FILE`: every visitor request as a JSON line.
    request_log: Option<std::io::BufWriter<std::fs::File>>,
    buf: Vec<u8>,
    ip_ident: u16,
    violations_seen: u64,
    stats: Stats,
    stop: bool,
}

fn interest(config: &mip_config::Config) -> Vec<String> {
    let mut names: Vec<String> = config.interfaces.keys().cloned().collect();
    for n in &config.foreign_agent.care_of {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

fn is_foreign_service(config: &mip_config::Config, name: &str) -> bool {
    config
        .interfaces
        .get(name)
        .is_some_and(|i| i.foreign_service.is_some())
}

fn fa_interface(o: &OsInterface) -> FaInterface {
    let (address, prefix_len) = o
        .addresses
        .first()
        .copied()
        .unwrap_or((Ipv4Addr::UNSPECIFIED, 0));
    FaInterface {
        name: o.name.clone(),
        address,
        prefix_len,
        up: o.up && !address.is_unspecified(),
        link_layer: o.mac.unwrap_or([0; 6]),
    }
}

fn directed_broadcast(a: Ipv4Addr, len: u8) -> Ipv4Addr {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    };
    Ipv4Addr::from(u32::from(a) | !mask)
}

/// Runs the foreign agent until SIGTERM/SIGINT.
///
/// # Errors
/// A socket or the data plane cannot be set up.
pub fn run(settings: Settings, loaded: Loaded) -> Result<(), DaemonError> {
    control::check_free(&settings.control_socket)?;
    if !loaded.config.foreign_agent_active() {
        tracing::warn!(
            config = %settings.config_path.display(),
            "the foreign agent is not enabled in the configuration (needs 'router mobile' and \
             'ip mobile foreign-agent'): no advertisements, every request ignored"
        );
    }
    let (kind, why) = settings.dataplane;
    let (dp, dp_choice): (Box<dyn FaDataPlane>, Chosen) = match kind {
        DataplaneKind::Log => {
            tracing::info!(
                reason = why,
                "data plane: log (visitor entries are not installed)"
            );
            (
                Box::new(LogFaDataPlane::default()),
                Chosen::new(settings.dataplane),
            )
        }
        DataplaneKind::Tun => match LinuxFaDataPlane::new(&settings.engine) {
            Ok(d) => {
                tracing::info!(reason = why, tun = d.tun_name(), "data plane: tun (decapsulation, delivery to visitors without ARP, reverse tunnels)");
                (Box::new(d), Chosen::new(settings.dataplane))
            }
            Err(e) if why == "--dataplane" => {
                return Err(DaemonError::Io(
                    "cannot start the user-space data plane (--dataplane tun)".into(),
                    e,
                ))
            }
            Err(e) => {
                tracing::warn!(error = %e, "data plane: cannot start the user-space data plane; running with --dataplane log (visitors get no traffic)");
                (
                    Box::new(LogFaDataPlane::default()),
                    Chosen::fallback(why, &e),
                )
            }
        },
    };

    let mut seed = [0u8; 8];
    mip_io::sys::fill_random(&mut seed)
        .map_err(|e| DaemonError::Io("cannot read random bytes".into(), e))?;
    let core = ForeignAgent::with_options(
        &loaded.config,
        Vec::new(),
        FaOptions {
            seed: u64::from_ne_bytes(seed) | 1,
            ..FaOptions::default()
        },
    );

    let udp = InterfaceUdpSocket::bind(settings.listen)
        .map_err(|e| DaemonError::Io(format!("cannot listen on UDP {}", settings.listen), e))?;
    let icmp = IcmpSocket::open().map_err(|e| {
        DaemonError::Io(
            "cannot open the raw ICMP socket (agent advertisements need CAP_NET_RAW)".into(),
            e,
        )
    })?;
    let sender = PacketSocket::sender()
        .map_err(|e| DaemonError::Io("cannot open a packet socket (CAP_NET_RAW)".into(), e))?;
    let request_log = match &settings.dataplane_log {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    DaemonError::Io(
                        format!("cannot open the data-plane log {}", path.display()),
                        e,
                    )
                })?,
        )),
        None => None,
    };
    let epoll = Epoll::new().map_err(|e| DaemonError::Io("epoll".into(), e))?;
    for fd in [udp.as_raw_fd(), icmp.as_raw_fd()] {
        epoll
            .add(fd)
            .map_err(|e| DaemonError::Io("epoll".into(), e))?;
    }
    let listener = control::bind(&settings.control_socket)?;
    let socket_file = crate::daemon::SocketFile(settings.control_socket.clone());
    let poller =
        Poller::new().map_err(|e| DaemonError::Io("cannot create the poller".into(), e))?;
    let (events_tx, events) = mpsc::channel();
    signals::spawn(events_tx.clone(), poller.waker())
        .map_err(|e| DaemonError::Io("cannot install the signal handlers".into(), e))?;
    control::spawn(listener, events_tx, poller.waker())
        .map_err(|e| DaemonError::Io("cannot start the control server".into(), e))?;

    let mut fa = Fa {
        settings,
        config: Arc::new(loaded),
        core,
        dp,
        dp_choice,
        udp,
        icmp,
        sender,
        listeners: HashMap::new(),
        epoll,
        poller,
        events,
        os: BTreeMap::new(),
        told: BTreeMap::new(),
        local_addresses: Vec::new(),
        tunnel_names: BTreeMap::new(),
        request_log,
        buf: vec![0; BUF],
        ip_ident: (seed[0] as u16) << 8 | seed[1] as u16,
        violations_seen: 0,
        stats: Stats::default(),
        stop: false,
    };
    fa.refresh_interfaces();
    fa.core.handle_timeout(SystemTime::now());
    fa.flush();
    tracing::info!(
        listen = %fa.udp.local_addr(),
        control = %fa.settings.control_socket.display(),
        care_of = ?fa.core.care_of_addresses(),
        service = fa.core.service_enabled(),
        interfaces = ?fa.told.keys().collect::<Vec<_>>(),
        dataplane = fa.dp.kind(),
        "mipd foreign agent running"
    );
    let r = crate::daemon::pin_loop(fa.settings.cpu).and_then(|()| fa.run_loop());
    fa.shutdown();
    drop(fa);
    drop(socket_file);
    r
}

impl Fa {
    fn run_loop(&mut self) -> Result<(), DaemonError> {
        let mut next_check = Instant::now() + LINK_CHECK_EVERY;
        while !self.stop {
            let timeout = self.wait_time(next_check);
            let r = self
                .poller
                .wait(&self.epoll, Some(timeout))
                .map_err(|e| DaemonError::Io("poll".into(), e))?;
            if r.readable {
                for fd in self.epoll.ready() {
                    self.drain(fd);
                }
            }
            self.run_timers();
            self.handle_events();
            if Instant::now() >= next_check {
                self.refresh_interfaces();
                next_check = Instant::now() + LINK_CHECK_EVERY;
            }
        }
        Ok(())
    }

    fn wait_time(&self, next_check: Instant) -> Duration {
        let mut wait = next_check.saturating_duration_since(Instant::now());
        if let Some(deadline) = self.core.poll_timeout() {
            wait = wait.min(
                deadline
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            );
        }
        wait
    }

    fn run_timers(&mut self) {
        if let Some(deadline) = self.core.poll_timeout() {
            let now = SystemTime::now();
            if deadline <= now {
                self.core.handle_timeout(now);
                self.flush();
            }
        }
    }

    fn name_of(&self, ifindex: u32) -> Option<String> {
        self.os
            .values()
            .find(|o| o.index == ifindex && ifindex != 0)
            .map(|o| o.name.clone())
    }

    fn ifindex_of(&self, name: &str) -> Option<u32> {
        self.os.get(name).map(|o| o.index).filter(|&i| i != 0)
    }

    /// Runs `f` on the core; a panic (a bug) is logged with the input and the daemon goes on.
    fn guarded(&mut self, what: &str, input: &[u8], f: impl FnOnce(&mut ForeignAgent)) {
        let core = &mut self.core;
        if std::panic::catch_unwind(AssertUnwindSafe(|| f(core))).is_err() {
            self.stats.core_panics += 1;
            tracing::error!(input = %hex(input), "the foreign agent core panicked on this {what}; it was dropped");
        }
    }

    fn drain(&mut self, fd: RawFd) {
        if fd == self.udp.as_raw_fd() {
            self.drain_udp();
        } else if fd == self.icmp.as_raw_fd() {
            self.drain_icmp();
        } else if self.listeners.contains_key(&fd) {
            self.drain_listener(fd);
        }
    }

    fn drain_udp(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..PER_SOCKET_TURN {
            let d = match self.udp.recv(&mut buf) {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "UDP receive failed");
                    break;
                }
            };
            self.stats.udp_datagrams += 1;
            if d.truncated {
                tracing::debug!(from = %d.source, "oversized datagram dropped");
                continue;
            }
            let payload = &buf[..d.len];
            let iface = self.name_of(d.ifindex);
            let on_listener = iface
                .as_deref()
                .is_some_and(|n| self.listeners.values().any(|l| l.name == n));
            if payload.first() == Some(&1) && on_listener {
                // The packet socket of that interface delivered this request (with its MAC).
                self.stats.udp_request_copies += 1;
                continue;
            }
            let now = SystemTime::now();
            self.guarded("datagram", payload, |c| {
                c.handle_udp(now, iface.as_deref(), d.source, d.local, None, payload)
            });
            self.flush();
        }
        self.buf = buf;
    }

    fn destination_ok(&self, iface: &str, dst: Ipv4Addr) -> bool {
        if dst == Ipv4Addr::BROADCAST
            || dst == ALL_MOBILITY_AGENTS
            || dst == mip_fa::ALL_SYSTEMS
            || self.local_addresses.contains(&dst)
        {
            return true;
        }
        self.os.get(iface).is_some_and(|o| {
            o.addresses
                .iter()
                .any(|&(a, l)| l < 31 && directed_broadcast(a, l) == dst)
        })
    }

    fn drain_listener(&mut self, fd: RawFd) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..PER_SOCKET_TURN {
            let Some(l) = self.listeners.get(&fd) else {
                break;
            };
            let name = l.name.clone();
            let frame = match l.socket.recv(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(interface = %name, error = %e, "packet socket receive failed");
                    break;
                }
            };
            if frame.outgoing() {
                continue;
            }
            self.stats.packet_frames += 1;
            let Some(u) = frames::parse_ipv4_udp(&buf[..frame.len], !frame.checksum_trusted) else {
                self.stats.packet_frames_refused += 1;
                continue;
            };
            if u.destination.port() != self.udp.local_addr().port()
                || !self.destination_ok(&name, *u.destination.ip())
            {
                self.stats.packet_frames_refused += 1;
                continue;
            }
            let now = SystemTime::now();
            let (src, dst, payload) = (u.source, *u.destination.ip(), u.payload);
            self.guarded("request", payload, |c| {
                c.handle_udp(now, Some(&name), src, dst, frame.mac, payload)
            });
            self.flush();
        }
        self.buf = buf;
    }

    fn drain_icmp(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..PER_SOCKET_TURN {
            let m = match self.icmp.recv(&mut buf) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "ICMP receive failed");
                    break;
                }
            };
            self.stats.icmp_messages += 1;
            let p = &buf[..m.len];
            if p.len() < 20 || p[0] >> 4 != 4 {
                continue;
            }
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if p.len() < ihl + 8 {
                continue;
            }
            let source = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
            let icmp = &p[ihl..];
            let now = SystemTime::now();
            match icmp[0] {
                10 => {
                    let iface = self.name_of(m.ifindex).unwrap_or_default();
                    self.guarded("solicitation", icmp, |c| {
                        c.handle_solicitation(now, &iface, source, icmp)
                    });
                }
                3 => {
                    if let Some((ha, kind)) =
                        unreachable_home_agent(icmp, self.udp.local_addr().port())
                    {
                        let n = self.core.handle_icmp_unreachable(now, ha, kind);
                        if n > 0 {
                            self.stats.icmp_unreachable_matched += 1;
                            tracing::info!(home_agent = %ha, ?kind, pending = n, "home agent unreachable: pending requests answered");
                        }
                    }
                }
                _ => {}
            }
            self.flush();
        }
        self.buf = buf;
    }

    /// Drains the core's outputs in its order: data plane, datagrams, advertisements.
    fn flush(&mut self) {
        while let Some(req) = self.core.poll_dataplane() {
            if let mip_fa::DataPlaneRequest::AddVisitor(v) = &req {
                let n = self.tunnel_names.len() as u32;
                self.tunnel_names
                    .entry((v.care_of_address, v.home_agent))
                    .or_insert(n);
                tracing::info!(home = %v.home_address, interface = %v.interface, home_agent = %v.home_agent, care_of = %v.care_of_address, reverse_tunnel = v.reverse_tunnel, "visitor added");
            } else if let mip_fa::DataPlaneRequest::RemoveVisitor(v) = &req {
                tracing::info!(home = %v.home_address, interface = %v.interface, "visitor removed");
            }
            let r = self.dp.apply(&req);
            if r.is_err() {
                self.stats.dataplane_failures += 1;
            }
            self.log_request(&req, &r);
        }
        if let Some(w) = self.request_log.as_mut() {
            use std::io::Write as _;
            let _ = w.flush();
        }
        while let Some(t) = self.core.poll_transmit() {
            let r = match (&t.interface, t.link_layer_destination) {
                (Some(iface), Some(mac)) => match self.ifindex_of(iface) {
                    Some(ifindex) => {
                        self.ip_ident = self.ip_ident.wrapping_add(1);
                        let packet =
                            frames::ipv4_udp(t.source, t.destination, self.ip_ident, &t.payload);
                        self.stats.replies_to_mobile_nodes += 1;
                        self.sender.send(ifindex, mac, &packet)
                    }
                    None => Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("interface {iface} is gone"),
                    )),
                },
                _ => {
                    self.stats.relayed += 1;
                    self.udp
                        .send_from(*t.source.ip(), t.destination, &t.payload)
                }
            };
            log_transmit(&t);
            if let Err(e) = r {
                self.stats.send_failures += 1;
                tracing::warn!(to = %t.destination, interface = ?t.interface, error = %e, "datagram not sent");
            }
        }
        while let Some(a) = self.core.poll_advertisement() {
            let r = match self.ifindex_of(&a.interface) {
                Some(ifindex) => self.icmp.send(ifindex, a.source, a.destination, &a.payload),
                None => Err(io::Error::new(io::ErrorKind::NotFound, "interface gone")),
            };
            match r {
                Ok(()) => {
                    self.stats.advertisements += 1;
                    tracing::trace!(interface = %a.interface, to = %a.destination, solicited = a.solicited, "agent advertisement sent");
                }
                Err(e) => {
                    self.stats.send_failures += 1;
                    tracing::debug!(interface = %a.interface, error = %e, "agent advertisement not sent");
                }
            }
        }
        self.log_violations();
    }

    fn log_request(&mut self, req: &mip_fa::DataPlaneRequest, r: &io::Result<()>) {
        use std::io::Write as _;
        let Some(w) = self.request_log.as_mut() else {
            return;
        };
        let line = serde_json::json!({
            "request": req,
            "ok": r.is_ok(),
            "error": r.as_ref().err().map(ToString::to_string),
        });
        if writeln!(w, "{line}").is_err() {
            tracing::warn!("data-plane log write failed; logging to file stops");
            self.request_log = None;
        }
    }

    fn log_violations(&mut self) {
        let total = self.core.violations_total();
        if total == self.violations_seen {
            return;
        }
        let new = (total - self.violations_seen) as usize;
        self.violations_seen = total;
        let logged = self.core.violations().count();
        for v in self.core.violations().skip(logged.saturating_sub(new)) {
            tracing::warn!(
                address = %v.address,
                nai = v.nai.as_deref().unwrap_or(""),
                home_agent = v.home_agent,
                spi = format_args!("{:#x}", v.spi),
                code = v.code,
                reason = v.reason.text(),
                "security violation"
            );
        }
    }

    /// Reads the interfaces again; tells the core what changed; opens packet sockets.
    fn refresh_interfaces(&mut self) {
        let all = match mip_io::sys::interfaces() {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the interfaces");
                return;
            }
        };
        self.local_addresses = all
            .values()
            .flat_map(|o| o.addresses.iter().map(|&(a, _)| a))
            .collect();
        let names = interest(&self.config.config);
        for name in &names {
            let Some(o) = all.get(name) else {
                if self.os.remove(name).is_some() || !self.told.contains_key(name) {
                    tracing::warn!(interface = %name, "configured interface not found");
                }
                if self.told.get(name).is_some_and(|i| i.up) {
                    self.core.set_interface_up(name, false);
                    if let Some(i) = self.told.get_mut(name) {
                        i.up = false;
                    }
                }
                self.close_listener(name);
                continue;
            };
            let info = fa_interface(o);
            if self.told.get(name) != Some(&info) {
                tracing::info!(
                    interface = %name,
                    address = %info.address,
                    prefix_len = info.prefix_len,
                    up = info.up,
                    "interface {}",
                    if self.told.contains_key(name) { "changed" } else { "found" }
                );
                self.core.update_interface(info.clone());
                self.told.insert(name.clone(), info);
            }
            let index_changed = self.os.get(name).is_none_or(|p| p.index != o.index);
            self.os.insert(name.clone(), o.clone());
            if is_foreign_service(&self.config.config, name) {
                let have = self
                    .listeners
                    .values()
                    .any(|l| l.name == *name && l.socket.ifindex() == o.index);
                if index_changed || !have {
                    self.open_listener(name, o.index);
                }
            } else {
                self.close_listener(name);
            }
        }
        // Interfaces no longer of interest (after a reload).
        let stale: Vec<String> = self
            .os
            .keys()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
        for n in stale {
            self.os.remove(&n);
            self.close_listener(&n);
            if self.told.remove(&n).is_some() {
                self.core.set_interface_up(&n, false);
            }
        }
        self.flush();
    }

    fn open_listener(&mut self, name: &str, ifindex: u32) {
        self.close_listener(name);
        if ifindex == 0 {
            return;
        }
        match PacketSocket::udp_listener(ifindex, self.udp.local_addr().port()) {
            Ok(socket) => {
                let fd = socket.as_raw_fd();
                if let Err(e) = self.epoll.add(fd) {
                    tracing::warn!(interface = %name, error = %e, "epoll");
                    return;
                }
                for (what, r) in [
                    ("224.0.0.2", self.icmp.join(ALL_ROUTERS, ifindex)),
                    ("224.0.0.11", self.udp.join(ALL_MOBILITY_AGENTS, ifindex)),
                ] {
                    if let Err(e) = r {
                        tracing::warn!(interface = %name, group = what, error = %e, "cannot join the multicast group");
                    }
                }
                tracing::debug!(interface = %name, ifindex, "listening for registration requests");
                self.listeners.insert(
                    fd,
                    Listener {
                        socket,
                        name: name.to_owned(),
                    },
                );
            }
            Err(e) => {
                tracing::warn!(interface = %name, error = %e, "cannot open the packet socket: requests from mobile nodes on this interface are not served")
            }
        }
    }

    fn close_listener(&mut self, name: &str) {
        let fds: Vec<RawFd> = self
            .listeners
            .iter()
            .filter(|(_, l)| l.name == name)
            .map(|(&fd, _)| fd)
            .collect();
        for fd in fds {
            self.epoll.remove(fd);
            self.listeners.remove(&fd);
        }
    }

    fn handle_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            crate::event::dispatch(self, event);
        }
    }

    fn reload(&mut self) -> Result<Vec<String>, String> {
        match mip_config::load(&self.settings.config_path, self.settings.format) {
            Ok(loaded) => {
                let warnings: Vec<String> =
                    loaded.warnings.iter().map(ToString::to_string).collect();
                for w in &warnings {
                    tracing::warn!("{w}");
                }
                self.core.reconfigure(&loaded.config);
                self.config = Arc::new(loaded);
                self.stats.reloads += 1;
                self.told.clear();
                self.refresh_interfaces();
                tracing::info!(config = %self.settings.config_path.display(), "configuration reloaded");
                Ok(warnings)
            }
            Err(e) => {
                tracing::error!(
                    "configuration reload refused, the running configuration is kept:\n{e}"
                );
                Err(e.to_string())
            }
        }
    }

    fn tunnel_name(&self, care_of: Ipv4Addr, home_agent: Ipv4Addr) -> String {
        let n = self
            .tunnel_names
            .get(&(care_of, home_agent))
            .copied()
            .unwrap_or(0);
        format!("Tunnel{n}")
    }

    fn execute(&mut self, request: Request) -> Answer {
        let now = SystemTime::now();
        match request {
            Request::ShowVisitor { filter } => match filter {
                VisitorFilter::Summary => ok(&conv::visitor_summary(
                    &self.core.visitors(now),
                    self.core.pending_count(),
                    &self.core.interfaces(),
                )),
                VisitorFilter::Pending { address } => {
                    ok(&conv::pending_list(&self.core.pending(now), address))
                }
                VisitorFilter::PendingSummary => ok(&conv::pending_summary(
                    &self.core.pending(now),
                    &self.core.interfaces(),
                )),
                f => {
                    let mut visitors = self.core.visitors(now);
                    visitors.retain(|v| conv::visitor_matches(v, &f));
                    let list = conv::visitor_list(&visitors, |v| {
                        self.tunnel_name(v.tunnel_source, v.tunnel_destination)
                    });
                    ok(&list)
                }
            },
            Request::ClearVisitor { selector } => {
                let selector = match selector {
                    ClearVisitor::All => VisitorSelector::All,
                    ClearVisitor::Address { address } => VisitorSelector::Address(address),
                    ClearVisitor::Nai {
                        nai,
                        session_id,
                        address,
                    } => VisitorSelector::Nai {
                        nai,
                        session_id,
                        address,
                    },
                };
                let n = self.core.clear_visitors(&selector);
                self.flush();
                tracing::info!(selector = ?selector, cleared = n, "visitors cleared by the operator");
                ok(&ClearView {
                    cleared: Some(n as u64),
                    message: None,
                })
            }
            Request::ShowTraffic => ok(&conv::traffic_view(None, self.core.counters())),
            Request::ClearTraffic { undo: false } => {
                self.core.clear_counters();
                control::clear_traffic_answer(false, false)
            }
            Request::ClearTraffic { undo: true } => {
                control::clear_traffic_answer(true, self.core.undo_clear_counters())
            }
            Request::ShowViolation => ok(&conv::violation_list(
                self.core.violations_total(),
                self.core.violations(),
            )),
            Request::ShowGlobals => {
                let mut g = views::globals(&self.config.config, &[], 0, 0);
                g.foreign_agent_enabled = self.core.service_enabled();
                ok(&g)
            }
            Request::ShowTunnel => ok(&self.tunnel_list(now)),
            Request::ShowDataplane => {
                let c = self.dp.counts();
                ok(&dataplane_view::view(
                    &self.dp_choice,
                    c.add_visitor + c.remove_visitor,
                    self.dp.engine(),
                    None,
                ))
            }
            Request::ShowSecure {
                peer,
                target,
                summary: _,
                show_keys,
            } => {
                let cfg = self.config.clone();
                later(move || views::secure_list(&cfg.config, peer, &target, show_keys))
            }
            Request::ClearSecure { .. } => control::clear_secure(),
            Request::Reload => {
                let result = self.reload();
                control::reload_answer(&self.settings.config_path, result)
            }
            Request::ShowBinding { .. }
            | Request::ShowHost { .. }
            | Request::ClearBinding { .. } => Response::error(
                "this mipd runs a foreign agent: bindings and mobile hosts are kept by the \
                     home agent (see 'show ip mobile visitor')",
            )
            .into(),
            Request::ShowNode => Response::error(
                "this mipd runs a foreign agent: 'show ip mobile node' is for a mobile node",
            )
            .into(),
        }
    }

    /// `show ip mobile tunnel`: one tunnel per (care-of address, home agent) of the visitors,
    /// with the engine's counters when the data plane is `tun`.
    fn tunnel_list(&self, now: SystemTime) -> TunnelList {
        let stats = self.dp.engine_stats();
        let mut by: BTreeMap<(Ipv4Addr, Ipv4Addr), TunnelView> = BTreeMap::new();
        for v in self.core.visitors(now) {
            let e = by
                .entry((v.tunnel_source, v.tunnel_destination))
                .or_insert_with(|| TunnelView {
                    name: self.tunnel_name(v.tunnel_source, v.tunnel_destination),
                    source: v.tunnel_source,
                    destination: v.tunnel_destination,
                    encapsulation: EncapsulationView::from_protocol(u8::from(v.encapsulation))
                        .unwrap_or(EncapsulationView::IpIp),
                    reverse_allowed: false,
                    users: 0,
                    created_by_home_agent: false,
                    mtu: None,
                    interface: None,
                    packets_in: 0,
                    bytes_in: 0,
                    drops_in: 0,
                    packets_out: 0,
                    bytes_out: 0,
                });
            e.users += 1;
            e.reverse_allowed |= v.reverse_tunnel;
        }
        if let Some(s) = stats {
            for t in s.tunnels.values() {
                if let Some(view) = by.get_mut(&(t.spec.local, t.spec.remote)) {
                    let c = &t.counters;
                    view.mtu = Some(u32::from(t.mtu));
                    view.packets_in += c.rx_packets;
                    view.bytes_in += c.rx_bytes;
                    view.drops_in += c.drop_decap_error + c.drop_key_mismatch + c.drop_ttl;
                    view.packets_out += c.tx_packets;
                    view.bytes_out += c.tx_bytes;
                }
            }
        }
        let tunnels: Vec<TunnelView> = by.into_values().collect();
        TunnelList {
            total: tunnels.len() as u64,
            tunnels,
        }
    }

    fn shutdown(&mut self) {
        let dp = self.dp.counts();
        tracing::info!(
            udp_datagrams = self.stats.udp_datagrams,
            udp_request_copies = self.stats.udp_request_copies,
            packet_frames = self.stats.packet_frames,
            packet_frames_refused = self.stats.packet_frames_refused,
            icmp_messages = self.stats.icmp_messages,
            icmp_unreachable_matched = self.stats.icmp_unreachable_matched,
            relayed = self.stats.relayed,
            replies_to_mobile_nodes = self.stats.replies_to_mobile_nodes,
            advertisements = self.stats.advertisements,
            send_failures = self.stats.send_failures,
            dataplane_add_visitor = dp.add_visitor,
            dataplane_remove_visitor = dp.remove_visitor,
            dataplane_failures = self.stats.dataplane_failures,
            core_panics = self.stats.core_panics,
            control_requests = self.stats.control_requests,
            reloads = self.stats.reloads,
            visitors = self.core.visitor_count(),
            "mipd foreign agent stopped (visitor entries removed)"
        );
    }
}

/// An ICMP error (type 3) about a datagram this host sent to some home agent's port `port`:
/// the home agent and the kind.
fn unreachable_home_agent(icmp: &[u8], port: u16) -> Option<(Ipv4Addr, UnreachableKind)> {
    let inner = icmp.get(8..)?;
    if inner.len() < 28 || inner[0] >> 4 != 4 || inner[9] != 17 {
        return None;
    }
    let ihl = usize::from(inner[0] & 0x0f) * 4;
    let udp = inner.get(ihl..ihl + 8)?;
    if u16::from_be_bytes([udp[2], udp[3]]) != port {
        return None;
    }
    let ha = Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]);
    let kind = match icmp[1] {
        0 => UnreachableKind::Network,
        1 => UnreachableKind::Host,
        3 => UnreachableKind::Port,
        _ => UnreachableKind::Other,
    };
    Some((ha, kind))
}

fn log_transmit(t: &mip_fa::Transmit) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    match t.payload.first() {
        Some(1) => {
            tracing::debug!(to = %t.destination, from = %t.source, "registration request relayed")
        }
        Some(3) => {
            let code = t.payload.get(1).copied().unwrap_or(0);
            let mac = t
                .link_layer_destination
                .map(|m| mip_fa::snapshot::mac_text(&m));
            tracing::debug!(to = %t.destination, interface = ?t.interface, mac = ?mac, code, "registration reply sent to the mobile node");
        }
        _ => tracing::debug!(to = %t.destination, "datagram sent"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl crate::event::EventTarget for Fa {
    fn control(&mut self, request: Request) -> Answer {
        self.execute(request)
    }

    fn reload_config(&mut self) {
        let _ = self.reload();
    }

    fn stop_loop(&mut self) {
        self.stop = true;
    }

    fn count_control(&mut self, panicked: bool) {
        self.stats.control_requests += 1;
        if panicked {
            self.stats.core_panics += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_errors_name_the_home_agent() {
        // ICMP port unreachable quoting a UDP datagram 10.20.0.1:434 -> 10.10.0.1:434.
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        let inner = frames::ipv4_udp(
            "10.20.0.1:434".parse().unwrap(),
            "10.10.0.1:434".parse().unwrap(),
            1,
            &[1, 0, 0, 0],
        );
        icmp.extend_from_slice(&inner[..28]);
        assert_eq!(
            unreachable_home_agent(&icmp, 434),
            Some((Ipv4Addr::new(10, 10, 0, 1), UnreachableKind::Port))
        );
        assert_eq!(unreachable_home_agent(&icmp, 4434), None);
        icmp[1] = 13;
        assert_eq!(
            unreachable_home_agent(&icmp, 434).unwrap().1,
            UnreachableKind::Other
        );
        assert_eq!(unreachable_home_agent(&icmp[..20], 434), None);
    }

    #[test]
    fn broadcast_of_a_prefix() {
        let a = Ipv4Addr::new(10, 20, 0, 1);
        assert_eq!(directed_broadcast(a, 24), Ipv4Addr::new(10, 20, 0, 255));
        assert_eq!(directed_broadcast(a, 32), a);
        assert_eq!(directed_broadcast(a, 0), Ipv4Addr::BROADCAST);
    }
}
