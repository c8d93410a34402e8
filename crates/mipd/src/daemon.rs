//! The daemon: startup, the run loop, control requests, reload, shutdown.
//!
//! # The run loop (one thread owns the home agent core)
//!
//! ```text
//! loop {
//!     wait (ppoll) for the UDP socket, the waker (control request, signal) or the next
//!         deadline (earliest binding expiry, 1 s housekeeping)   -- skipped while datagrams
//!                                                                  are known to be waiting
//!     up to 16 times: recvmmsg up to 64 datagrams, read the clock once
//!         handle_request(now, source, local, payload) for each
//!         flush:  1. every StoreOp of the batch -> ONE Store::apply (one write(2)):
//!                    durable against a crash of the process before any reply leaves
//!                 2. every DataPlaneRequest -> ONE DataPlane::apply_batch, in order
//!                 3. every reply -> ONE sendmmsg, each from the address it was sent to
//!     expired bindings: handle_timeout, flush
//!     control requests and signals from the channel: answer, flush
//!     every second: store housekeeping (background checkpoint), kernel drop count
//! }
//! ```
//!
//! Group commit: the store's own thread fdatasyncs the journal every `--fsync-interval-ms`
//! (or after every batch with 0). A control request waits at most 16 batches (about 10 ms
//! at 100 000 registrations/s); a long answer (binding lists) is serialised on the control
//! connection's thread, not here.
//!
//! If a batch cannot be stored, its replies are withheld (the mobile nodes retransmit) and
//! the failure is logged; a store that can no longer write at all (poisoned) stops the daemon
//! with an error, so that a supervisor restarts it and recovery reads back what was kept.

use crate::args::EngineTuning;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mip_config::{Format, Loaded};
use mip_control::views::ClearView;
use mip_control::{BindingFilter, ClearBinding, HostFilter, Request, Response};
use mip_ha::{BindingSelector, DataPlaneRequest, HaOptions, HomeAgent, StoreOp, Transmit};
use mip_io::{Datagram, LoggingDataPlane, Poller, RecvBatch, UdpEndpoint, UdpOptions, BATCH};

use mip_store::StoreError;
use mip_wire::registration::RegistrationReplyPacket;

use crate::args::DataplaneKind;
use crate::control::{self, later, ok, Answer, SocketError};
use crate::dataplane;
use crate::event::Event;
use crate::signals;
use crate::store_glue::StoreGlue;
use crate::views;

/// Batches of [`BATCH`] datagrams handled before the loop looks at control requests and
/// timers again.
const MAX_BATCHES_PER_TURN: usize = 16;
/// Receive buffer of the registration socket, bytes: ~40 000 queued requests, about 0.4 s
/// at 100 000/s, so that a flood or a moment without the CPU (the core is shared) costs
/// latency rather than kernel drops. Needs root or CAP_NET_ADMIN beyond `net.core.rmem_max`.
const RECV_BUFFER: usize = 32 << 20;
/// Housekeeping period.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(1);
/// Violation log lines per second before they are summarised.
const VIOLATION_LOG_PER_SEC: u32 = 20;

/// How the daemon runs (from the command line).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The configuration file.
    pub config_path: PathBuf,
    /// Its form, when forced.
    pub format: Option<Format>,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The control socket.
    pub control_socket: PathBuf,
    /// The UDP address.
    pub listen: SocketAddrV4,
    /// Group-commit interval (`None`: sync every batch).
    pub fsync_interval: Option<Duration>,
    /// Data-plane request log file.
    pub dataplane_log: Option<PathBuf>,
    /// The data plane (`tun` or `log`) and why it was chosen.
    pub dataplane: (DataplaneKind, &'static str),
    /// CPU for the registration loop (`--cpu`).
    pub cpu: Option<usize>,
    /// How the tunnel engine runs (`--tunnel-tx`, `--tunnel-queues`, `--tunnel-cpus`).
    pub engine: EngineTuning,
}

/// Pins the calling thread (the registration loop) when `--cpu` asks for it. Called after
/// every long-lived helper thread has started, so that they keep the whole CPU set.
///
/// # Errors
/// The CPU does not exist or is not allowed to this process.
pub fn pin_loop(cpu: Option<usize>) -> Result<(), DaemonError> {
    let Some(cpu) = cpu else { return Ok(()) };
    mip_io::sys::pin_current_thread(cpu).map_err(|e| {
        DaemonError::Io(
            format!("--cpu {cpu}: cannot pin the registration loop to that CPU"),
            e,
        )
    })?;
    tracing::info!(cpu, "registration loop pinned to CPU {cpu}");
    Ok(())
}

/// Why the daemon could not start or had to stop.
#[derive(Debug)]
pub enum DaemonError {
    /// The control socket.
    Socket(SocketError),
    /// The state store.
    Store(StoreError),
    /// Anything else.
    Io(String, io::Error),
}

impl std::fmt::Display for DaemonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DaemonError::Socket(e) => write!(f, "{e}"),
            DaemonError::Store(e) => write!(f, "state store: {e}"),
            DaemonError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for DaemonError {}

impl From<SocketError> for DaemonError {
    fn from(e: SocketError) -> Self {
        DaemonError::Socket(e)
    }
}

impl From<StoreError> for DaemonError {
    fn from(e: StoreError) -> Self {
        DaemonError::Store(e)
    }
}

/// Counters of the daemon itself (the core keeps the protocol's), logged at shutdown.
#[derive(Debug, Default)]
struct Stats {
    datagrams: u64,
    oversized: u64,
    replies_sent: u64,
    replies_without_source: u64,
    replies_failed: u64,
    replies_withheld: u64,
    store_batches: u64,
    store_failures: u64,
    dataplane_failures: u64,
    core_panics: u64,
    kernel_drops: u32,
    control_requests: u64,
    reloads: u64,
    reload_failures: u64,
}

/// Lets `n` events a second through, counting the rest.
struct RateLimit {
    per_sec: u32,
    window: Instant,
    used: u32,
    suppressed: u64,
}

impl RateLimit {
    fn new(per_sec: u32) -> Self {
        RateLimit {
            per_sec,
            window: Instant::now(),
            used: 0,
            suppressed: 0,
        }
    }

    /// Whether to log this one; when a new window opens, returns the count suppressed in the
    /// last one through `suppressed`.
    fn allow(&mut self, suppressed: &mut u64) -> bool {
        let now = Instant::now();
        *suppressed = 0;
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.used = 0;
            *suppressed = std::mem::take(&mut self.suppressed);
        }
        if self.used < self.per_sec {
            self.used += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }
}

/// Removes the control socket file when the daemon ends, however it ends.
pub(crate) struct SocketFile(pub(crate) PathBuf);

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

struct Daemon {
    settings: Settings,
    config: Arc<Loaded>,
    core: HomeAgent,
    store: Option<StoreGlue>,
    socket: UdpEndpoint,
    poller: Poller,
    dataplane: Box<dyn dataplane::HaDataPlane>,
    /// The data plane in force and why (`show ip mobile dataplane`).
    dataplane_choice: dataplane::Chosen,
    events: Receiver<Event>,
    recv: RecvBatch,
    ops: Vec<StoreOp>,
    tx: Vec<Transmit>,
    requests: Vec<DataPlaneRequest>,
    stats: Stats,
    violations_seen: u64,
    violation_limit: RateLimit,
    drop_limit: RateLimit,
    error_limit: RateLimit,
    stop: bool,
    fatal: Option<DaemonError>,
}

fn addresses_of(core: &HomeAgent) -> Vec<Ipv4Addr> {
    let mut out = core.local_addresses().to_vec();
    for a in &core.policy().addresses {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// Starts the daemon and runs it until SIGTERM/SIGINT (Ok) or a fatal error.
///
/// # Errors
/// The state directory, the UDP socket or the control socket cannot be set up, or the store
/// failed for good while running.
pub fn run(
    settings: Settings,
    loaded: Loaded,
    opening: Option<crate::store_glue::Opening>,
) -> Result<(), DaemonError> {
    // Refuse early, before anything is touched, when another daemon serves this socket.
    control::check_free(&settings.control_socket)?;
    if !loaded.config.home_agent_active() {
        tracing::warn!(
            config = %settings.config_path.display(),
            "the home agent is not enabled in the configuration (needs 'router mobile' and \
             'ip mobile home-agent'): every request will be ignored"
        );
    }

    let opening = opening.unwrap_or_else(|| {
        crate::store_glue::Opening::start(settings.state_dir.clone(), settings.fsync_interval)
    });
    let (store, recovery, records) = opening.finish()?;
    for w in &recovery.warnings {
        tracing::warn!("state store recovery: {w}");
    }
    tracing::info!(
        dir = %settings.state_dir.display(),
        new = recovery.created,
        journal_batches_replayed = recovery.batches_replayed,
        elapsed_ms = recovery.elapsed.as_millis() as u64,
        "state store opened"
    );

    let mut nonce_seed = [0u8; 16];
    mip_io::sys::fill_random(&mut nonce_seed)
        .map_err(|e| DaemonError::Io("cannot read random bytes for the nonce seed".into(), e))?;
    let mut locals = mip_io::sys::local_ipv4_addresses().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot list the host's addresses; using the configured ones");
        Vec::new()
    });
    if !settings.listen.ip().is_unspecified() && !locals.contains(settings.listen.ip()) {
        locals.push(*settings.listen.ip());
    }
    let mut core = HomeAgent::new_with_options(
        &loaded.config,
        &locals,
        HaOptions {
            nonce_seed,
            ..HaOptions::default()
        },
    );
    let report = core.restore(records.records, SystemTime::now());

    let socket = UdpEndpoint::bind_with(
        settings.listen,
        &UdpOptions {
            recv_buffer: RECV_BUFFER,
            ..UdpOptions::default()
        },
    )
    .map_err(|e| {
        let hint = if settings.listen.port() < 1024 && e.kind() == io::ErrorKind::PermissionDenied {
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        } else {
            ""
        };
        DaemonError::Io(format!("cannot listen on UDP {}{hint}", settings.listen), e)
    })?;
    let listener = control::bind(&settings.control_socket)?;
    let socket_file = SocketFile(settings.control_socket.clone());

    let mut log_dp = LoggingDataPlane::new(256);
    if let Some(path) = &settings.dataplane_log {
        log_dp = log_dp.with_log_file(path).map_err(|e| {
            DaemonError::Io(
                format!("cannot open the data-plane log {}", path.display()),
                e,
            )
        })?;
    }
    let (dataplane, dataplane_choice) = dataplane::home_agent(
        settings.dataplane,
        &settings.engine,
        &loaded.config,
        log_dp,
        settings.dataplane_log.is_some(),
    )?;

    let poller =
        Poller::new().map_err(|e| DaemonError::Io("cannot create the poller".into(), e))?;
    let (events_tx, events) = mpsc::channel();
    signals::spawn(events_tx.clone(), poller.waker())
        .map_err(|e| DaemonError::Io("cannot install the signal handlers".into(), e))?;
    control::spawn(listener, events_tx, poller.waker())
        .map_err(|e| DaemonError::Io("cannot start the control server".into(), e))?;

    let mut d = Daemon {
        settings,
        config: Arc::new(loaded),
        core,
        store: Some(store),
        socket,
        poller,
        dataplane,
        dataplane_choice,
        events,
        recv: RecvBatch::new(),
        ops: Vec::with_capacity(2 * BATCH),
        tx: Vec::with_capacity(BATCH),
        requests: Vec::with_capacity(4 * BATCH),
        stats: Stats::default(),
        violations_seen: 0,
        violation_limit: RateLimit::new(VIOLATION_LOG_PER_SEC),
        drop_limit: RateLimit::new(1),
        error_limit: RateLimit::new(5),
        stop: false,
        fatal: None,
    };
    d.violations_seen = d.core.violations_total();
    // Restored bindings: their data-plane requests, and deletes of the expired ones.
    d.flush();
    tracing::info!(
        bindings = report.bindings,
        expired = report.expired,
        replay_states = report.replay_states,
        undecodable = records.undecodable,
        "restored {} binding(s) ({} had expired while the daemon was down)",
        report.bindings,
        report.expired
    );
    tracing::info!(
        listen = %d.socket.local_addr(),
        control = %d.settings.control_socket.display(),
        addresses = ?addresses_of(&d.core),
        dataplane = d.dataplane.kind(),
        "mipd home agent running"
    );
    if let (Some(cpu), Some(store)) = (d.settings.cpu, d.store.as_mut()) {
        store.keep_off_cpu(cpu);
    }
    let result = pin_loop(d.settings.cpu).and_then(|()| d.run_loop());
    d.shutdown();
    drop(socket_file);
    match d.fatal.take() {
        Some(e) => Err(e),
        None => result,
    }
}

impl Daemon {
    fn run_loop(&mut self) -> Result<(), DaemonError> {
        let mut more = true;
        let mut next_maintenance = Instant::now() + MAINTENANCE_EVERY;
        while !self.stop {
            let readable = if more {
                true
            } else {
                let timeout = self.wait_time(next_maintenance);
                self.poller
                    .wait(&self.socket, Some(timeout))
                    .map_err(|e| DaemonError::Io("poll".into(), e))?
                    .readable
            };
            more = readable && self.receive_turn();
            self.run_timers();
            self.handle_events();
            if Instant::now() >= next_maintenance {
                self.maintain();
                next_maintenance = Instant::now() + MAINTENANCE_EVERY;
            }
        }
        Ok(())
    }

    fn wait_time(&mut self, next_maintenance: Instant) -> Duration {
        let mut wait = next_maintenance.saturating_duration_since(Instant::now());
        if let Some(deadline) = self.core.timeout_hint() {
            let until = deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            wait = wait.min(until);
        }
        wait
    }

    /// Reads and handles up to [`MAX_BATCHES_PER_TURN`] batches. True when datagrams are
    /// probably still waiting.
    fn receive_turn(&mut self) -> bool {
        for _ in 0..MAX_BATCHES_PER_TURN {
            let n = match self.socket.recv_batch(&mut self.recv) {
                Ok(n) => n,
                Err(e) => {
                    let mut suppressed = 0;
                    if self.error_limit.allow(&mut suppressed) {
                        tracing::warn!(error = %e, "receive failed");
                    }
                    std::thread::sleep(Duration::from_millis(1));
                    return false;
                }
            };
            if n == 0 {
                return false;
            }
            self.stats.datagrams += n as u64;
            // One clock reading per batch: the datagrams of a batch arrived together (a batch
            // is handled in well under a millisecond; lifetimes and timestamps are seconds).
            let now = SystemTime::now();
            self.core
                .warm(self.recv.iter().map(|d: Datagram<'_>| d.payload));
            for d in self.recv.iter() {
                if d.truncated {
                    self.stats.oversized += 1;
                    tracing::debug!(from = %d.source, "datagram larger than {} bytes dropped", mip_io::MAX_DATAGRAM);
                    continue;
                }
                let core = &mut self.core;
                let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    core.handle_request(now, d.source, d.local, d.payload)
                }));
                if handled.is_err() {
                    // A bug in the core; the datagram is logged so it can become a regression
                    // test. The daemon keeps serving.
                    self.stats.core_panics += 1;
                    tracing::error!(
                        from = %d.source,
                        datagram = %hex(d.payload),
                        "the home agent core panicked on this datagram; it was dropped"
                    );
                }
            }
            self.check_kernel_drops();
            self.flush();
            if self.stop || n < BATCH {
                return false;
            }
        }
        true
    }

    fn check_kernel_drops(&mut self) {
        let Some(drops) = self.recv.kernel_drops() else {
            return;
        };
        if drops != self.stats.kernel_drops {
            let new = drops.wrapping_sub(self.stats.kernel_drops);
            self.stats.kernel_drops = drops;
            let mut suppressed = 0;
            if self.drop_limit.allow(&mut suppressed) {
                tracing::warn!(
                    new,
                    total = drops,
                    "the kernel dropped registration datagrams: the receive buffer was full"
                );
            }
        }
    }

    fn run_timers(&mut self) {
        if let Some(deadline) = self.core.timeout_hint() {
            let now = SystemTime::now();
            if deadline <= now {
                self.core.handle_timeout(now);
                self.flush();
            }
        }
    }

    /// Drains the core's outputs in the documented order: store, data plane, replies.
    fn flush(&mut self) {
        self.ops.clear();
        while let Some(op) = self.core.poll_store() {
            self.ops.push(op);
        }
        let mut durable = true;
        if !self.ops.is_empty() {
            match self.store.as_mut().map(|s| s.apply(&self.ops)) {
                Some(Ok(())) => self.stats.store_batches += 1,
                Some(Err(e)) => {
                    durable = false;
                    self.stats.store_failures += 1;
                    tracing::error!(error = %e, ops = self.ops.len(), "cannot store binding changes");
                    if matches!(e, StoreError::Poisoned { .. }) {
                        tracing::error!("the state store cannot write any more: stopping");
                        self.fatal = Some(DaemonError::Store(e));
                        self.stop = true;
                    }
                }
                None => durable = false,
            }
        }
        // In the order the core emitted them, as one batch: the data plane groups the kernel
        // work (a restart restoring a million bindings re-emits a million host routes).
        self.requests.clear();
        while let Some(req) = self.core.poll_dataplane() {
            self.requests.push(req);
        }
        if !self.requests.is_empty() {
            let results = self.dataplane.apply_batch(&self.requests);
            for (req, r) in self.requests.iter().zip(&results) {
                if let Err(e) = r {
                    self.stats.dataplane_failures += 1;
                    tracing::warn!(request = ?req, error = %e, "data-plane request failed");
                }
            }
            if self.requests.len() > 4 * BATCH {
                // Do not keep a restart's million requests' worth of memory.
                self.requests = Vec::new();
            }
            if let Err(e) = self.dataplane.flush() {
                tracing::warn!(error = %e, "data-plane flush failed");
            }
        }
        self.tx.clear();
        while let Some(t) = self.core.poll_transmit() {
            self.tx.push(t);
        }
        if !self.tx.is_empty() {
            if durable {
                if tracing::enabled!(tracing::Level::DEBUG) {
                    log_replies(&self.tx);
                }
                let r = self.socket.send_batch(&self.tx);
                self.stats.replies_sent += r.sent as u64;
                self.stats.replies_without_source += r.without_source as u64;
                self.stats.replies_failed += r.failed as u64;
                if let Some((to, e)) = &r.first_error {
                    let mut suppressed = 0;
                    if self.error_limit.allow(&mut suppressed) {
                        if r.failed > 0 {
                            tracing::warn!(to = %to, error = %e, failed = r.failed, "replies not sent");
                        } else {
                            tracing::warn!(to = %to, error = %e, "reply sent from the routing table's address: the kernel refused the requested source");
                        }
                    }
                }
            } else {
                self.stats.replies_withheld += self.tx.len() as u64;
                tracing::warn!(
                    replies = self.tx.len(),
                    "replies withheld: their binding changes could not be stored (the mobile \
                     nodes will retransmit)"
                );
            }
        }
        self.log_violations();
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
            let mut suppressed = 0;
            let allow = self.violation_limit.allow(&mut suppressed);
            if suppressed > 0 {
                tracing::warn!(suppressed, "security violations not logged in the last second (see 'show ip mobile violation')");
            }
            if allow {
                tracing::warn!(
                    address = %v.address,
                    nai = v.nai.as_deref().unwrap_or(""),
                    foreign_agent = v.foreign_agent,
                    spi = format_args!("{:#x}", v.spi),
                    identification = %mip_wire::ident::Identification(v.identification),
                    code = v.code,
                    reason = v.reason.text(),
                    "security violation"
                );
            }
        }
    }

    fn handle_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            crate::event::dispatch(self, event);
        }
    }

    fn maintain(&mut self) {
        if let Some(store) = self.store.as_mut() {
            match store.maintain() {
                Ok(Some(stats)) => tracing::info!(
                    journals = stats.journals,
                    ops = stats.ops,
                    elapsed_ms = stats.elapsed.as_millis() as u64,
                    "state store checkpoint done"
                ),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "state store checkpoint failed (retried later)")
                }
            }
        }
    }

    /// Reloads the configuration file. On error the running configuration stays.
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
                self.flush();
                tracing::info!(config = %self.settings.config_path.display(), "configuration reloaded");
                Ok(warnings)
            }
            Err(e) => {
                self.stats.reload_failures += 1;
                tracing::error!(
                    "configuration reload refused, the running configuration is kept:\n{e}"
                );
                Err(e.to_string())
            }
        }
    }

    fn execute(&mut self, request: Request) -> Answer {
        let now = SystemTime::now();
        match request {
            Request::ShowBinding { filter } => {
                let bindings = match &filter {
                    BindingFilter::All | BindingFilter::Summary => self.core.bindings(now),
                    BindingFilter::Address { address } => self.core.bindings_of(*address, now),
                    BindingFilter::HomeAgent { address } => {
                        let mut b = self.core.bindings(now);
                        b.retain(|b| b.home_agent == *address);
                        b
                    }
                    BindingFilter::Nai { nai, session_id } => {
                        self.core.bindings_of_nai(nai, session_id.as_deref(), now)
                    }
                };
                if filter == BindingFilter::Summary {
                    let tunnels = self.core.tunnel_count();
                    later(move || views::binding_summary(&bindings, tunnels))
                } else {
                    later(move || views::binding_list(&bindings))
                }
            }
            Request::ShowHost { filter } => self.show_host(filter, now),
            Request::ShowSecure {
                peer,
                target,
                summary: _,
                show_keys,
            } => {
                let cfg = self.config.clone();
                later(move || views::secure_list(&cfg.config, peer, &target, show_keys))
            }
            Request::ShowTraffic => ok(&views::traffic(self.core.counters())),
            Request::ShowViolation => {
                let log: Vec<_> = self.core.violations().cloned().collect();
                let total = self.core.violations_total();
                later(move || views::violation_list(total, &log))
            }
            Request::ShowGlobals => ok(&views::globals(
                &self.config.config,
                &addresses_of(&self.core),
                self.core.binding_count(),
                self.core.tunnel_count(),
            )),
            Request::ShowTunnel => {
                let bindings = self.core.bindings(now);
                let reverse = self.config.config.home_agent.reverse_tunnel;
                let counters = self.dataplane.tunnel_counters();
                later(move || views::tunnels(&bindings, reverse, &counters))
            }
            Request::ShowDataplane => ok(&dataplane::view(
                &self.dataplane_choice,
                self.dataplane.counts().total(),
                self.dataplane.engine(),
                None,
            )),
            Request::ClearBinding { selector } => {
                let selector = match selector {
                    ClearBinding::All => BindingSelector::All,
                    ClearBinding::Address { address } => BindingSelector::Address(address),
                    ClearBinding::Nai { nai, session_id } => {
                        BindingSelector::Nai { nai, session_id }
                    }
                };
                let n = self.core.clear_bindings(&selector);
                self.flush();
                tracing::info!(selector = ?selector, cleared = n, "bindings cleared by the operator");
                ok(&ClearView {
                    cleared: Some(n as u64),
                    message: None,
                })
            }
            Request::ClearTraffic { undo: false } => {
                self.core.clear_counters();
                control::clear_traffic_answer(false, false)
            }
            Request::ClearTraffic { undo: true } => {
                control::clear_traffic_answer(true, self.core.undo_clear_counters())
            }
            Request::ShowVisitor { .. } | Request::ClearVisitor { .. } => Response::error(
                "this mipd runs the home agent: visitors are kept by a foreign agent \
                 (mipd --role foreign-agent)",
            )
            .into(),
            Request::ShowNode => Response::error(
                "this mipd runs the home agent: 'show ip mobile node' is for a mobile node \
                 (mipd --role mobile-node)",
            )
            .into(),
            Request::ClearSecure { .. } => control::clear_secure(),
            Request::Reload => {
                let result = self.reload();
                control::reload_answer(&self.settings.config_path, result)
            }
        }
    }

    fn show_host(&mut self, filter: HostFilter, now: SystemTime) -> Answer {
        let cfg = self.config.clone();
        match filter {
            HostFilter::Group => later(move || views::host_groups(&cfg.config)),
            HostFilter::All => {
                let mut bound: Vec<Ipv4Addr> = self
                    .core
                    .bindings(now)
                    .iter()
                    .map(|b| b.home_address)
                    .collect();
                bound.dedup();
                let facts: Vec<views::HostFacts> = views::host_candidates(&cfg.config, &bound)
                    .into_iter()
                    .map(|a| {
                        (
                            a,
                            self.core.host_counters(a),
                            bound.binary_search(&a).is_ok(),
                        )
                    })
                    .collect();
                later(move || views::host_list(&cfg.config, &facts, true))
            }
            HostFilter::Address { address } => {
                let registered = !self.core.bindings_of(address, now).is_empty();
                let facts = [(address, self.core.host_counters(address), registered)];
                let list = views::host_list(&cfg.config, &facts, false);
                if list.hosts.is_empty() {
                    Response::error(format!("{address} is not a mobile host of this home agent"))
                        .into()
                } else {
                    ok(&list)
                }
            }
            HostFilter::Counters { address: Some(a) } => ok(&views::host_counters_list(&[(
                a,
                self.core.host_counters(a),
            )])),
            HostFilter::Counters { address: None } => {
                let mut bound: Vec<Ipv4Addr> = self
                    .core
                    .bindings(now)
                    .iter()
                    .map(|b| b.home_address)
                    .collect();
                bound.dedup();
                let hosts: Vec<_> = views::host_candidates(&cfg.config, &bound)
                    .into_iter()
                    .filter_map(|a| self.core.host_counters(a).map(|c| (a, Some(c))))
                    .collect();
                later(move || views::host_counters_list(&hosts))
            }
        }
    }

    fn shutdown(&mut self) {
        // Stop receiving: nothing more is read; what the kernel holds is left unanswered.
        if let Some(store) = self.store.take() {
            let journal = store.journal_bytes();
            match store.close() {
                Ok(()) => tracing::info!(journal_bytes = journal, "state store synced and closed"),
                Err(e) => tracing::error!(error = %e, "state store close failed"),
            }
        }
        if let Err(e) = self.dataplane.flush() {
            tracing::warn!(error = %e, "data-plane log flush failed");
        }
        let dp = self.dataplane.counts();
        tracing::info!(
            datagrams = self.stats.datagrams,
            oversized = self.stats.oversized,
            replies_sent = self.stats.replies_sent,
            replies_failed = self.stats.replies_failed,
            replies_withheld = self.stats.replies_withheld,
            replies_without_source = self.stats.replies_without_source,
            store_batches = self.stats.store_batches,
            store_failures = self.stats.store_failures,
            dataplane_requests = dp.total(),
            dataplane_failures = self.stats.dataplane_failures,
            core_panics = self.stats.core_panics,
            kernel_drops = self.stats.kernel_drops,
            control_requests = self.stats.control_requests,
            reloads = self.stats.reloads,
            reload_failures = self.stats.reload_failures,
            bindings = self.core.binding_count(),
            "mipd stopped"
        );
    }
}

fn log_replies(tx: &[Transmit]) {
    for t in tx {
        let Ok(p) = RegistrationReplyPacket::new_checked(&t.payload[..]) else {
            continue;
        };
        let code = u8::from(p.code());
        if code < 128 {
            tracing::debug!(
                home = %p.home_address(),
                to = %t.destination,
                code,
                lifetime = p.lifetime(),
                "{}",
                if p.lifetime() == 0 { "deregistration accepted" } else { "registration accepted" }
            );
        } else {
            tracing::debug!(home = %p.home_address(), to = %t.destination, code, "registration denied");
        }
    }
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

impl crate::event::EventTarget for Daemon {
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
