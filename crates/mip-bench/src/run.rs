//! `mip-bench run`: plays the mobile nodes of a [`Population`] against a home agent over UDP.
//!
//! One thread, a few connected UDP sockets (node `i` always uses socket `i mod S`, so the
//! requests of one node are never reordered between sockets and its strictly increasing
//! timestamps arrive in order), `sendmmsg`/`recvmmsg` batches and `ppoll` between them: the
//! generator sleeps whenever nothing is due, leaving the CPU to the home agent under test.
//!
//! * Open loop (`--rate R`): requests are due at `R`/s from the start of the phase, sent in
//!   ticks of `--tick-us` (default 200 µs), whatever the replies do. The generator sleeps
//!   from tick to tick and reads the replies that came meanwhile; each reply's latency ends
//!   at the kernel's receive timestamp (`SO_TIMESTAMPNS`), not when the generator read it,
//!   so sleeping costs no accuracy, and the target's replies do not have to wake the
//!   generator (which, over loopback, the target would pay for).
//! * Closed loop (`--in-flight K`): K requests are outstanding at all times; a reply (or a
//!   timeout) lets the next one go. A node has at most one request outstanding.
//!
//! Nodes are taken round-robin. Each request carries a fresh identification: the wall clock
//! as an NTP timestamp, or the node's previous identification + 1 if the clock has not moved
//! past it (strictly increasing per node, RFC 5944 §5.7.1). Replies are matched to requests by
//! (home address, low 32 bits of the identification), which both replay styles echo.
//!
//! Reply authenticators are verified on a sample, one reply in `--verify-every` (default 16):
//! a full HMAC-MD5 verification costs about 0.6–0.9 µs, which at 100 000 replies/s would be
//! 6–9 % of the core the home agent shares with the generator; one in 16 still catches a
//! home agent that signs wrongly (every failure is counted) for 1/16 of the cost.
//!
//! `--bad-auth-rate R2` adds requests with a wrong authenticator at R2/s from a socket of their
//! own; their replies (131 expected) are counted apart, so the latency reported is that of the
//! valid requests under the flood.
//!
//! Every phase ends by itself: sending stops after `--duration` (or `--max-requests`), then
//! the outstanding requests are waited for, at most `--timeout-ms`.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::RawFd;
use std::time::{Duration, Instant, SystemTime};

use mip_security::{ntp, SecurityAssociation};
use serde::Serialize;

use crate::histogram::Histogram;
use crate::message::{
    read_reply, verify_reply, write_bad_request, write_request, PendingTable, RequestFields,
};
use crate::population::{Population, SPI};
use crate::udp::{fd, udp_socket, RecvBatch, SendBatch};

/// How requests are paced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Load {
    /// Open loop: this many requests per second.
    Rate(f64),
    /// Closed loop: this many requests outstanding.
    InFlight(u32),
}

impl std::fmt::Display for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Load::Rate(r) => write!(f, "open loop, {r:.0} requests/s"),
            Load::InFlight(k) => write!(f, "closed loop, {k} in flight"),
        }
    }
}

/// Everything `mip-bench run` is told.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The home agent (or echo responder). Must be a loopback or local address.
    pub target: SocketAddrV4,
    /// The mobile nodes.
    pub population: Population,
    /// Home Agent field of the requests.
    pub home_agent: Ipv4Addr,
    /// Pacing.
    pub load: Load,
    /// How long requests are sent in the measured phase.
    pub duration: Duration,
    /// Requests with a wrong authenticator per second (0: none).
    pub bad_auth_rate: f64,
    /// UDP sockets for the valid requests.
    pub sockets: usize,
    /// Datagrams per `sendmmsg`/`recvmmsg`.
    pub batch: usize,
    /// A request unanswered after this long is counted as a timeout.
    pub timeout: Duration,
    /// Verify the authenticator of one reply in this many (0: never).
    pub verify_every: u32,
    /// Register every node once before the measured phase.
    pub preload: bool,
    /// Requests in flight during the preload.
    pub preload_in_flight: u32,
    /// Pause between the preload and the measured phase, so that the target's work caused
    /// by a million new registrations (host routes, the first checkpoint) does not fall into
    /// the measurement of the steady state.
    pub settle: Duration,
    /// Lifetime requested, seconds.
    pub lifetime: u16,
    /// Stop sending after this many requests in the measured phase.
    pub max_requests: u64,
    /// Open-loop send tick.
    pub tick: Duration,
}

/// Latency figures, microseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LatencySummary {
    /// Replies timed.
    pub count: u64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
}

impl LatencySummary {
    /// From a histogram of nanoseconds.
    pub fn of(h: &Histogram) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        LatencySummary {
            count: h.count(),
            p50_us: us(h.quantile(0.5)),
            p90_us: us(h.quantile(0.9)),
            p99_us: us(h.quantile(0.99)),
            p999_us: us(h.quantile(0.999)),
            max_us: us(h.max()),
            mean_us: h.mean() / 1000.0,
        }
    }
}

/// The bad-authenticator flood of a phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FloodReport {
    /// Requested rate, per second.
    pub rate: f64,
    /// Sent.
    pub sent: u64,
    /// Replies received (131 expected for each).
    pub replies: u64,
    /// Replies by code.
    pub codes: BTreeMap<u8, u64>,
}

/// What one phase measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseReport {
    /// "preload" or "measure".
    pub phase: String,
    /// Pacing, as text.
    pub load: String,
    /// From the first send to the last send or reply, seconds.
    pub seconds: f64,
    /// Requests the kernel took.
    pub sent: u64,
    /// Requests dropped because a socket's send buffer was full.
    pub send_dropped: u64,
    /// Errors of send/receive calls (e.g. ECONNREFUSED: nothing listening).
    pub io_errors: u64,
    /// Replies matched to a request.
    pub replies: u64,
    /// Replies with code 0 or 1.
    pub accepted: u64,
    /// `sent / seconds`.
    pub sent_per_s: f64,
    /// `replies / seconds`.
    pub replies_per_s: f64,
    /// `accepted / seconds`.
    pub accepted_per_s: f64,
    /// Requests unanswered after the timeout.
    pub timeouts: u64,
    /// Replies that matched no outstanding request (late, duplicated or foreign).
    pub unmatched: u64,
    /// Datagrams that are not Registration Replies.
    pub malformed: u64,
    /// Replies by code.
    pub codes: BTreeMap<u8, u64>,
    /// Reply authenticators verified (sampled).
    pub auth_checked: u64,
    /// Of those, wrong.
    pub auth_failed: u64,
    /// Latency of the valid requests.
    pub latency: LatencySummary,
    /// CPU time of the generator during the phase, microseconds per request sent (its own
    /// cost, less sensitive to other load on the machine than the rates).
    pub generator_cpu_us_per_request: f64,
    /// The flood, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flood: Option<FloodReport>,
}

/// What `mip-bench run` reports.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Target address.
    pub target: String,
    /// Mobile nodes played.
    pub nodes: u32,
    /// MN-HA algorithm.
    pub algorithm: String,
    /// Time to derive the nodes' keys and open the sockets, seconds.
    pub setup_seconds: f64,
    /// The preload phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preload: Option<PhaseReport>,
    /// The measured phase.
    pub measure: PhaseReport,
}

/// Refuses targets that are not on this host (the benchmark never sends elsewhere).
///
/// # Errors
/// The address is neither loopback nor one of `local` (the host's addresses).
pub fn check_local_target(target: Ipv4Addr, local: &[Ipv4Addr]) -> Result<(), String> {
    if target.is_loopback() || local.contains(&target) {
        Ok(())
    } else {
        Err(format!(
            "{target} is not a loopback or local address: mip-bench only loads this host"
        ))
    }
}

/// The IPv4 addresses of this host's interfaces.
pub fn local_addresses() -> Vec<Ipv4Addr> {
    let mut out = vec![];
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `ifap` with a list we walk read-only and free below.
    if unsafe { libc::getifaddrs(&raw mut ifap) } != 0 {
        return out;
    }
    let mut p = ifap;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list returned by getifaddrs.
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family says what it is.
            let family = unsafe { (*ifa.ifa_addr).sa_family };
            if i32::from(family) == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
                out.push(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: `ifap` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(ifap) };
    out
}

/// The descriptors to wait on, with which of them became readable.
struct Poller {
    pfds: Vec<libc::pollfd>,
}

impl Poller {
    fn new(fds: &[RawFd]) -> Self {
        Poller {
            pfds: fds
                .iter()
                .map(|&fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect(),
        }
    }

    /// Waits up to `timeout`; returns the number of readable descriptors.
    fn wait(&mut self, timeout: Duration) -> usize {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(3600) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        for p in &mut self.pfds {
            p.revents = 0;
        }
        // SAFETY: `pfds` and `ts` are valid for the call; no signal mask.
        let r = unsafe {
            libc::ppoll(
                self.pfds.as_mut_ptr(),
                self.pfds.len() as libc::nfds_t,
                &raw const ts,
                std::ptr::null(),
            )
        };
        usize::try_from(r).unwrap_or(0)
    }

    fn ready(&self, i: usize) -> bool {
        self.pfds[i].revents != 0
    }

    fn mark_all(&mut self) {
        for p in &mut self.pfds {
            p.revents = libc::POLLIN;
        }
    }
}

/// A phase to play.
struct Plan {
    name: &'static str,
    load: Load,
    duration: Duration,
    limit: u64,
    flood_rate: f64,
}

/// The counters of the phase being played.
#[derive(Default)]
struct Stats {
    report: PhaseReport,
    hist: Histogram,
    flood: FloodReport,
    first_send: Option<u64>,
    last_event: u64,
}

struct Generator<'a> {
    opts: &'a RunOptions,
    sockets: Vec<UdpSocket>,
    flood_socket: Option<UdpSocket>,
    poller: Poller,
    sas: Vec<SecurityAssociation>,
    last_ident: Vec<u64>,
    busy: Vec<u8>,
    pending: PendingTable,
    tx: Vec<SendBatch>,
    tx_meta: Vec<Vec<(u32, u64)>>,
    flood_tx: SendBatch,
    rx: RecvBatch,
    clock: Instant,
    /// `CLOCK_REALTIME` at `clock`, nanoseconds: turns the kernel's receive stamps into
    /// `clock` time.
    clock_real_ns: u64,
    cursor: u32,
    rng: u64,
    stats: Stats,
}

fn connected_socket(target: SocketAddrV4) -> io::Result<UdpSocket> {
    let bind_ip = if target.ip().is_loopback() {
        *target.ip()
    } else {
        Ipv4Addr::UNSPECIFIED
    };
    let s = udp_socket(SocketAddrV4::new(bind_ip, 0), 8 << 20, false)?;
    s.connect(target)?;
    Ok(s)
}

impl<'a> Generator<'a> {
    fn new(opts: &'a RunOptions) -> io::Result<Self> {
        let n = opts.population.nodes as usize;
        let sockets: Vec<UdpSocket> = (0..opts.sockets.max(1))
            .map(|_| connected_socket(opts.target))
            .collect::<io::Result<_>>()?;
        let flood_socket = if opts.bad_auth_rate > 0.0 {
            Some(connected_socket(opts.target)?)
        } else {
            None
        };
        let mut fds: Vec<RawFd> = sockets.iter().map(fd).collect();
        if let Some(f) = &flood_socket {
            fds.push(fd(f));
        }
        for &f in &fds {
            crate::udp::enable_rx_timestamps(f)?;
        }
        let sas = (0..opts.population.nodes)
            .map(|i| opts.population.security_association(i))
            .collect();
        let batch = opts.batch.clamp(1, 1024);
        Ok(Generator {
            opts,
            tx: (0..sockets.len()).map(|_| SendBatch::new(batch)).collect(),
            tx_meta: (0..sockets.len())
                .map(|_| Vec::with_capacity(batch))
                .collect(),
            sockets,
            flood_socket,
            poller: Poller::new(&fds),
            sas,
            last_ident: vec![0; n],
            busy: vec![0; n],
            pending: PendingTable::new(),
            flood_tx: SendBatch::new(batch),
            rx: RecvBatch::new(batch),
            clock: Instant::now(),
            clock_real_ns: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            cursor: 0,
            rng: 0x853c_49e6_748f_ea9b,
            stats: Stats::default(),
        })
    }

    fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Sends the queued requests of socket `s` and records those the kernel took.
    fn flush(&mut self, s: usize) {
        if self.tx[s].is_empty() {
            return;
        }
        let t = self.now_ns();
        let taken = match self.tx[s].flush(fd(&self.sockets[s])) {
            Ok(k) => k,
            Err(_) => {
                self.stats.report.io_errors += 1;
                0
            }
        };
        let meta = std::mem::take(&mut self.tx_meta[s]);
        // `queue` marked every node busy; undo that for requests not sent or not recorded.
        for (k, &(node, ident)) in meta.iter().enumerate() {
            if k >= taken || !self.pending.insert(node, ident, t) {
                let b = &mut self.busy[node as usize];
                *b = b.saturating_sub(1);
            }
        }
        self.stats.report.sent += taken as u64;
        self.stats.report.send_dropped += (meta.len() - taken) as u64;
        self.stats.first_send.get_or_insert(t);
        self.stats.last_event = self.stats.last_event.max(t);
        self.tx_meta[s] = meta;
        self.tx_meta[s].clear();
    }

    /// Queues a request of `node`; flushes its socket when the batch is full.
    fn queue(&mut self, node: u32, ntp_now: u64) {
        let i = node as usize;
        let ident = ntp_now.max(self.last_ident[i].wrapping_add(1));
        self.last_ident[i] = ident;
        let pop = &self.opts.population;
        let fields = RequestFields {
            flags: 0,
            lifetime: self.opts.lifetime,
            home: pop.home_address(node),
            home_agent: self.opts.home_agent,
            care_of: pop.care_of_address(node),
            identification: ident,
        };
        let s = i % self.sockets.len();
        self.busy[i] = self.busy[i].saturating_add(1);
        let sa = &self.sas[i];
        self.tx[s].push_with(None, |buf| Some(write_request(buf, &fields, sa)));
        self.tx_meta[s].push((node, ident));
        if self.tx[s].is_full() {
            self.flush(s);
        }
    }

    fn flush_all(&mut self) {
        for s in 0..self.sockets.len() {
            self.flush(s);
        }
    }

    /// The next node without an outstanding request, round-robin.
    fn next_idle_node(&mut self) -> Option<u32> {
        let n = self.opts.population.nodes;
        for _ in 0..n {
            let c = self.cursor;
            self.cursor = if c + 1 >= n { 0 } else { c + 1 };
            if self.busy[c as usize] == 0 {
                return Some(c);
            }
        }
        None
    }

    fn next_node(&mut self) -> u32 {
        let c = self.cursor;
        let n = self.opts.population.nodes;
        self.cursor = if c + 1 >= n { 0 } else { c + 1 };
        c
    }

    fn ntp_now() -> u64 {
        ntp::from_system_time(SystemTime::now())
    }

    /// Open loop: sends what is due by `now`. Returns the requests attempted so far.
    fn send_open(&mut self, rate: f64, start: u64, now: u64, attempted: &mut u64, limit: u64) {
        let due = ((now - start) as f64 * rate / 1e9) as u64 + 1;
        let due = due.min(limit);
        if due <= *attempted {
            return;
        }
        let todo = (due - *attempted).min(4096);
        let ntp_now = Self::ntp_now();
        for _ in 0..todo {
            let node = self.next_node();
            self.queue(node, ntp_now);
        }
        *attempted += todo;
        self.flush_all();
    }

    /// Closed loop: tops the outstanding requests up to `k`.
    fn send_closed(&mut self, k: u32, attempted: &mut u64, limit: u64) {
        let mut queued = 0u64;
        let ntp_now = Self::ntp_now();
        let outstanding = self.pending.len() as u64;
        // A node has at most one request outstanding: never look for more than are idle.
        let idle = u64::from(self.opts.population.nodes).saturating_sub(outstanding);
        let want = u64::from(k).saturating_sub(outstanding).min(idle);
        let want = want.min(limit - *attempted);
        while queued < want {
            let Some(node) = self.next_idle_node() else {
                break;
            };
            self.queue(node, ntp_now);
            queued += 1;
        }
        *attempted += queued;
        self.flush_all();
    }

    fn send_flood(&mut self, rate: f64, start: u64, now: u64) {
        let Some(sock) = self.flood_socket.as_ref().map(fd) else {
            return;
        };
        let due = ((now - start) as f64 * rate / 1e9) as u64 + 1;
        let mut todo = due.saturating_sub(self.stats.flood.sent).min(4096);
        let ntp_now = Self::ntp_now();
        while todo > 0 {
            while todo > 0 && !self.flood_tx.is_full() {
                let r = self.next_random();
                let node = (r % u64::from(self.opts.population.nodes)) as u32;
                let pop = &self.opts.population;
                let fields = RequestFields {
                    flags: 0,
                    lifetime: self.opts.lifetime,
                    home: pop.home_address(node),
                    home_agent: self.opts.home_agent,
                    care_of: pop.care_of_address(node),
                    identification: ntp_now,
                };
                self.flood_tx
                    .push_with(None, |buf| Some(write_bad_request(buf, &fields, SPI, r)));
                todo -= 1;
            }
            let n = self.flood_tx.len() as u64;
            match self.flood_tx.flush(sock) {
                // Dropped ones count as sent: the flood is best effort and not timed.
                Ok(_) => self.stats.flood.sent += n,
                Err(_) => {
                    self.stats.report.io_errors += 1;
                    self.stats.flood.sent += n;
                }
            }
        }
    }

    fn handle_reply(&mut self, i: usize, t: u64) {
        let (buf, _) = self.rx.get(i);
        let Some(r) = read_reply(buf) else {
            self.stats.report.malformed += 1;
            return;
        };
        let Some(node) = self.opts.population.index_of(r.home) else {
            self.stats.report.unmatched += 1;
            return;
        };
        let Some(sent) = self.pending.take(node, r.identification) else {
            self.stats.report.unmatched += 1;
            return;
        };
        let b = &mut self.busy[node as usize];
        *b = b.saturating_sub(1);
        let rep = &mut self.stats.report;
        rep.replies += 1;
        *rep.codes.entry(r.code).or_default() += 1;
        if r.code <= 1 {
            rep.accepted += 1;
        }
        self.stats.hist.record(t.saturating_sub(sent));
        let every = u64::from(self.opts.verify_every);
        if every > 0 && rep.replies.is_multiple_of(every) {
            rep.auth_checked += 1;
            if !verify_reply(buf, &self.sas[node as usize]) {
                rep.auth_failed += 1;
            }
        }
    }

    fn receive(&mut self) {
        for s in 0..self.sockets.len() {
            if !self.poller.ready(s) {
                continue;
            }
            for _ in 0..64 {
                let n = match self.rx.recv(fd(&self.sockets[s])) {
                    Ok(n) => n,
                    Err(_) => {
                        self.stats.report.io_errors += 1;
                        0
                    }
                };
                if n == 0 {
                    break;
                }
                let t = self.now_ns();
                self.stats.last_event = self.stats.last_event.max(t);
                for i in 0..n {
                    // When the kernel queued it, not when this loop got round to it.
                    let arrived = self
                        .rx
                        .stamp_ns(i)
                        .map_or(t, |r| r.saturating_sub(self.clock_real_ns).min(t));
                    self.handle_reply(i, arrived);
                }
            }
        }
        let fi = self.sockets.len();
        if let Some(sock) = self.flood_socket.as_ref().map(fd) {
            if !self.poller.ready(fi) {
                return;
            }
            for _ in 0..64 {
                let n = self.rx.recv(sock).unwrap_or(0);
                if n == 0 {
                    break;
                }
                for i in 0..n {
                    let (buf, _) = self.rx.get(i);
                    if let Some(r) = read_reply(buf) {
                        self.stats.flood.replies += 1;
                        *self.stats.flood.codes.entry(r.code).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Reads and discards whatever is queued on the sockets.
    fn drain_stale(&mut self) {
        for s in &self.sockets {
            while self.rx.recv(fd(s)).unwrap_or(0) > 0 {}
        }
    }

    fn expire(&mut self, now: u64) {
        let timeout = self.opts.timeout.as_nanos() as u64;
        let Some(deadline) = now.checked_sub(timeout) else {
            return;
        };
        let busy = &mut self.busy;
        let n = self.pending.expire(deadline, |node| {
            let b = &mut busy[node as usize];
            *b = b.saturating_sub(1);
        });
        self.stats.report.timeouts += n;
    }

    fn play(&mut self, plan: &Plan) -> PhaseReport {
        self.stats = Stats::default();
        self.cursor = 0;
        let cpu0 = crate::udp::cpu_seconds();
        let timeout_ns = self.opts.timeout.as_nanos() as u64;
        let tick_ns = (self.opts.tick.as_nanos() as u64).max(10_000);
        let start = self.now_ns();
        let send_end = start.saturating_add(plan.duration.as_nanos() as u64);
        let hard_end = send_end + timeout_ns + 100_000_000;
        let mut attempted = 0u64;
        self.poller.mark_all();
        loop {
            self.receive();
            let now = self.now_ns();
            self.expire(now);
            let sending = now < send_end && attempted < plan.limit;
            if !sending && self.pending.is_empty() {
                break;
            }
            if now >= hard_end {
                let n = self.pending.len() as u64;
                self.pending.expire(u64::MAX, |_| {});
                self.stats.report.timeouts += n;
                break;
            }
            if sending {
                match plan.load {
                    Load::Rate(r) => self.send_open(r, start, now, &mut attempted, plan.limit),
                    Load::InFlight(k) => self.send_closed(k, &mut attempted, plan.limit),
                }
            }
            if plan.flood_rate > 0.0 && now < send_end {
                self.send_flood(plan.flood_rate, start, now);
            }
            // Sleep until a reply arrives, the next send tick, or the oldest request's
            // timeout.
            let now = self.now_ns();
            let mut wake = match self.pending.oldest() {
                Some(t) => t + timeout_ns,
                None => now + 10_000_000,
            };
            if now < send_end && attempted < plan.limit {
                if let Load::Rate(_) = plan.load {
                    wake = wake.min(now + tick_ns);
                }
            }
            if plan.flood_rate > 0.0 && now < send_end {
                wake = wake.min(now + tick_ns);
            }
            if now < send_end {
                wake = wake.min(send_end);
            }
            let wait = Duration::from_nanos(wake.saturating_sub(now).min(10_000_000));
            if let Load::Rate(_) = plan.load {
                // Open loop: nothing waits for a reply, and replies carry their arrival
                // time: sleep to the next tick instead of waking for every reply.
                std::thread::sleep(wait);
                self.poller.mark_all();
            } else {
                self.poller.wait(wait);
            }
        }
        let mut rep = std::mem::take(&mut self.stats.report);
        let first = self.stats.first_send.unwrap_or(start);
        let secs = (self.stats.last_event.saturating_sub(first)) as f64 / 1e9;
        rep.phase = plan.name.to_owned();
        rep.load = plan.load.to_string();
        rep.seconds = secs;
        if secs > 0.0 {
            rep.sent_per_s = rep.sent as f64 / secs;
            rep.replies_per_s = rep.replies as f64 / secs;
            rep.accepted_per_s = rep.accepted as f64 / secs;
        }
        rep.latency = LatencySummary::of(&self.stats.hist);
        let sent_all = rep.sent + self.stats.flood.sent;
        if sent_all > 0 {
            rep.generator_cpu_us_per_request =
                (crate::udp::cpu_seconds() - cpu0) * 1e6 / sent_all as f64;
        }
        if plan.flood_rate > 0.0 {
            let mut f = std::mem::take(&mut self.stats.flood);
            f.rate = plan.flood_rate;
            rep.flood = Some(f);
        }
        rep
    }
}

/// Plays the preload (if asked) and the measured phase.
///
/// # Errors
/// Sockets could not be opened.
pub fn run(opts: &RunOptions) -> io::Result<RunReport> {
    let t = Instant::now();
    let mut g = Generator::new(opts)?;
    let setup_seconds = t.elapsed().as_secs_f64();
    let preload = if opts.preload {
        let n = u64::from(opts.population.nodes);
        // Bounded: at least 60 s, or 1 ms per node.
        let duration = Duration::from_secs(60).max(Duration::from_millis(n));
        Some(g.play(&Plan {
            name: "preload",
            load: Load::InFlight(opts.preload_in_flight.max(1)),
            duration,
            limit: n,
            flood_rate: 0.0,
        }))
    } else {
        None
    };
    if opts.preload && !opts.settle.is_zero() {
        std::thread::sleep(opts.settle);
        // Late replies of the preload (if any) are not the measured phase's.
        g.drain_stale();
    }
    let measure = g.play(&Plan {
        name: "measure",
        load: opts.load,
        duration: opts.duration,
        limit: opts.max_requests,
        flood_rate: opts.bad_auth_rate,
    });
    Ok(RunReport {
        target: opts.target.to_string(),
        nodes: opts.population.nodes,
        algorithm: opts.population.algorithm.toml_name().to_owned(),
        setup_seconds,
        preload,
        measure,
    })
}

fn code_name(c: u8) -> &'static str {
    mip_wire::codes::ReplyCode::from(c).name()
}

/// A phase as text.
pub fn format_phase(p: &PhaseReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "[{}] {} for {:.2} s", p.phase, p.load, p.seconds);
    let _ = writeln!(
        s,
        "  sent {} ({:.0}/s), replies {} ({:.0}/s), accepted {} ({:.0}/s)",
        p.sent, p.sent_per_s, p.replies, p.replies_per_s, p.accepted, p.accepted_per_s
    );
    let _ = writeln!(
        s,
        "  timeouts {}, unmatched {}, malformed {}, send dropped {}, I/O errors {}",
        p.timeouts, p.unmatched, p.malformed, p.send_dropped, p.io_errors
    );
    let l = &p.latency;
    let _ = writeln!(
        s,
        "  latency µs: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  mean {:.1}",
        l.p50_us, l.p90_us, l.p99_us, l.p999_us, l.max_us, l.mean_us
    );
    for (c, n) in &p.codes {
        let _ = writeln!(s, "  code {c:>3} {:<45} {n}", code_name(*c));
    }
    let _ = writeln!(
        s,
        "  reply authenticators verified: {} sampled, {} wrong; generator CPU {:.2} µs/request",
        p.auth_checked, p.auth_failed, p.generator_cpu_us_per_request
    );
    if let Some(f) = &p.flood {
        let _ = writeln!(
            s,
            "  bad-authenticator flood at {:.0}/s: sent {}, replies {}",
            f.rate, f.sent, f.replies
        );
        for (c, n) in &f.codes {
            let _ = writeln!(s, "    code {c:>3} {:<43} {n}", code_name(*c));
        }
    }
    s
}

/// The whole report as text.
pub fn format_report(r: &RunReport) -> String {
    let mut s = format!(
        "mip-bench run: {} mobile nodes ({}) against {} (setup {:.2} s)\n",
        r.nodes, r.algorithm, r.target, r.setup_seconds
    );
    if let Some(p) = &r.preload {
        s.push_str(&format_phase(p));
    }
    s.push_str(&format_phase(&r.measure));
    s
}
