//! The benchmarks: `mip-lab bench-handoff` (handoff time and loss per kind of move, with the
//! demo's definitions) and `mip-lab bench-throughput` (iperf3 through the home agent's tunnel
//! against the plain path, with the ratio).
//!
//! # `bench-handoff`
//!
//! One lab, one set of agents, one TCP stream and one ping (the demo: [`crate::demo::demo`]),
//! and the moves of [`handoff_moves`]: home → fa1, then `--moves N` handoffs between the
//! foreign agents (fa1 → fa2 → fa1 …: handoff through a foreign agent, triggered by the
//! mobile node's solicitation when its link comes up), then → home, → coloc, → home. Per
//! [`MoveKind`] it prints p50/p90/p99/max of `handoff_ms` (link change → first ping reply at
//! the new place) and of `packets_lost` (echo requests of the move's window without reply),
//! as defined in [`crate::demo`], the stream check (every byte identical, end confirmed) and
//! the target: **p99 ≤ 50 ms for foreign-agent handoffs** ([`FA_HANDOFF_P99_MS`]).
//! Percentiles are nearest-rank over the moves that handed off; a move without any reply at
//! the new place is counted in `missing` and fails the run.
//!
//! # `bench-throughput`
//!
//! [`crate::iperf::iperf`] twice, each in a lab of its own: the plain path (no Mobile IP,
//! plain host routes to the mobile node at `--at`, default fa1) and Mobile IP (agents, the
//! mobile node at `--at`, traffic through the home agent's tunnel), then the ratio tunnel /
//! plain for TCP, UDP 1400 B (bit/s received) and UDP 64 B (packets/s received). Targets:
//! ≥ 2 Gbit/s at 1400 B through the tunnel ([`UDP_1400_MIN_BPS`]), ≥ 0.5 of the plain path
//! for each test ([`MIN_RATIO`]), ≥ 250 000 pkt/s of 64 B per core of the home agent's
//! tunnel engine ([`UDP_64_MIN_PPS`]: packets it encapsulated per second of its threads' CPU
//! time, see [`crate::engines`]).
//!
//! Both record the machine's load average (`/proc/loadavg`) before and after: the figures
//! depend on it.
//!
//! Exit status of both: 0 when the measurement is valid (targets missed are reported, not an
//! error), 1 when it is not (a move without handoff, a stream that differs, iperf3 failing),
//! 130 when interrupted.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agents::AgentOpts;
use crate::demo::{self, DemoOpts, MoveResult, StreamResult};
use crate::guard;
use crate::iperf::{self, IperfOpts, IperfReport};
use crate::plan::{Lab, Place};
use crate::topology::{self, Mode};

/// Target: p99 of `handoff_ms` for handoffs between foreign agents, ms.
pub const FA_HANDOFF_P99_MS: f64 = 50.0;
/// Target: UDP 1400-byte datagrams received through the tunnel, bit/s.
pub const UDP_1400_MIN_BPS: f64 = 2e9;
/// Target: UDP 64-byte datagrams encapsulated by the home agent's engine, packets per second
/// of its CPU time.
pub const UDP_64_MIN_PPS: f64 = 250_000.0;
/// Target: tunnel / plain path, for each test.
pub const MIN_RATIO: f64 = 0.5;

/// The machine's load: `/proc/loadavg` and the number of CPUs.
#[derive(Clone, Debug, Serialize)]
pub struct Load {
    /// 1, 5 and 15-minute load averages.
    pub loadavg: [f64; 3],
    /// CPUs online.
    pub cpus: usize,
}

impl Load {
    /// Now.
    pub fn now() -> Load {
        let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let mut v = text.split_whitespace().map(|w| w.parse().unwrap_or(-1.0));
        let mut next = || v.next().unwrap_or(-1.0);
        Load {
            loadavg: [next(), next(), next()],
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        }
    }

    fn text(&self) -> String {
        format!(
            "load average {:.2}, {:.2}, {:.2} on {} CPUs",
            self.loadavg[0], self.loadavg[1], self.loadavg[2], self.cpus
        )
    }
}

/// One target and whether it is met.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    /// What, in words.
    pub what: String,
    /// "<=" or ">=".
    pub op: &'static str,
    /// The limit.
    pub limit: f64,
    /// The measured value (null: not measured).
    pub value: Option<f64>,
    /// Met.
    pub met: bool,
    /// Why the figure says less than it seems, when that is known (e.g. the baseline itself
    /// is below the limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Target {
    /// With a note when `plain`, the same figure without Mobile IP, is itself below the
    /// limit: then nothing through a tunnel can meet it in this setup.
    fn baseline_below(mut self, plain: f64, fmt: impl Fn(f64) -> String) -> Target {
        if plain < self.limit {
            self.note = Some(format!(
                "the plain path itself reaches only {}: iperf3's single stream is the limit in \
                 this lab; the tunnel engine alone: cargo run --release -p mip-io --example \
                 tunnel_bench",
                fmt(plain)
            ));
        }
        self
    }

    /// With an explanation printed under the line (when the target is missed).
    fn with_note(mut self, note: &str) -> Target {
        if !self.met {
            self.note = Some(note.into());
        }
        self
    }

    fn at_most(what: impl Into<String>, limit: f64, value: Option<f64>) -> Target {
        Target {
            what: what.into(),
            op: "<=",
            limit,
            value,
            met: value.is_some_and(|v| v <= limit),
            note: None,
        }
    }

    fn at_least(what: impl Into<String>, limit: f64, value: Option<f64>) -> Target {
        Target {
            what: what.into(),
            op: ">=",
            limit,
            value,
            met: value.is_some_and(|v| v >= limit),
            note: None,
        }
    }

    fn line(&self, fmt: impl Fn(f64) -> String) -> String {
        let mut s = format!(
            "  [{}] {} {} {}: {}\n",
            if self.met { "MET" } else { "MISSED" },
            self.what,
            if self.op == "<=" { "≤" } else { "≥" },
            fmt(self.limit),
            self.value
                .map(&fmt)
                .unwrap_or_else(|| "not measured".into())
        );
        if let Some(n) = &self.note {
            s.push_str(&format!("           ({n})\n"));
        }
        s
    }
}

/// Nearest-rank percentiles of a sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Values in the sample.
    pub n: usize,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// The nearest-rank `p`-th percentile of `sorted` (ascending; `None` when empty).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl Stats {
    /// The statistics of `values`.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stats {
        let mut v: Vec<f64> = values.into_iter().collect();
        v.sort_by(f64::total_cmp);
        Stats {
            n: v.len(),
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
            max: v.last().copied(),
        }
    }
}

/// The kind of a move, for the handoff benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveKind {
    /// Between the two foreign agents (fa1 ↔ fa2): registration through the new foreign
    /// agent, triggered by the mobile node's solicitation on link up.
    ForeignAgent,
    /// Between home and a foreign agent (either way).
    Home,
    /// To or from the co-located network (registration with a co-located care-of address,
    /// or deregistration from it).
    Coloc,
}

impl MoveKind {
    /// The kind of the move `from` → `to`.
    pub fn of(from: Place, to: Place) -> MoveKind {
        if from == Place::Coloc || to == Place::Coloc {
            MoveKind::Coloc
        } else if from == Place::Home || to == Place::Home {
            MoveKind::Home
        } else {
            MoveKind::ForeignAgent
        }
    }

    fn label(self) -> &'static str {
        match self {
            MoveKind::ForeignAgent => "foreign agent (fa1 <-> fa2)",
            MoveKind::Home => "home <-> foreign agent",
            MoveKind::Coloc => "co-located (to/from coloc)",
        }
    }
}

/// The moves of the handoff benchmark, from home: → fa1, `fa_moves` handoffs between the
/// foreign agents, then → home, → coloc, → home.
pub fn handoff_moves(fa_moves: usize) -> Vec<Place> {
    let mut v = vec![Place::Fa1];
    for k in 0..fa_moves {
        v.push(if k % 2 == 0 { Place::Fa2 } else { Place::Fa1 });
    }
    v.extend([Place::Home, Place::Coloc, Place::Home]);
    v
}

/// Options of `bench-handoff`.
#[derive(Clone, Debug)]
pub struct HandoffOpts {
    /// Handoffs between the foreign agents.
    pub fa_moves: usize,
    /// Time at each place.
    pub dwell: Duration,
    /// Stream rate, bytes per second.
    pub rate: u64,
    /// Ping interval.
    pub ping_interval: Duration,
    /// Agents hook options.
    pub agents: AgentOpts,
}

impl Default for HandoffOpts {
    fn default() -> Self {
        HandoffOpts {
            fa_moves: 24,
            dwell: Duration::from_millis(1000),
            rate: 200_000,
            ping_interval: Duration::from_millis(10),
            agents: AgentOpts::default(),
        }
    }
}

/// The figures of one kind of move.
#[derive(Clone, Debug, Serialize)]
pub struct KindReport {
    /// The kind.
    pub kind: MoveKind,
    /// In words.
    pub label: &'static str,
    /// The moves of this kind ("from->to").
    pub pairs: Vec<String>,
    /// Moves of this kind.
    pub moves: usize,
    /// Moves without any ping reply at the new place.
    pub missing: usize,
    /// Link change → first ping reply at the new place, ms.
    pub handoff_ms: Stats,
    /// Echo requests of the move's window without reply.
    pub packets_lost: Stats,
}

/// The result of `bench-handoff` (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct HandoffReport {
    /// Run id.
    pub id: String,
    /// Handoffs between the foreign agents asked for.
    pub fa_moves: usize,
    /// Time at each place, ms.
    pub dwell_ms: f64,
    /// Ping interval, ms (the resolution of `handoff_ms` and the unit of `packets_lost`).
    pub ping_interval_ms: f64,
    /// Stream rate, bytes per second.
    pub rate: u64,
    /// Agents started, or why not.
    pub agents: demo::AgentsReport,
    /// Per kind of move: foreign-agent, home, coloc.
    pub kinds: Vec<KindReport>,
    /// The targets.
    pub targets: Vec<Target>,
    /// Every target met.
    pub targets_met: bool,
    /// The stream (identical: every byte arrived, in order, unchanged).
    pub stream: StreamResult,
    /// Every move, in order.
    pub moves: Vec<MoveResult>,
    /// Everything that went wrong.
    pub errors: Vec<String>,
    /// Load before the run.
    pub load_before: Load,
    /// Load after the run.
    pub load_after: Load,
    /// Interrupted by a signal.
    pub interrupted: bool,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// The measurement is valid: every move handed off, the stream identical and complete.
    pub ok: bool,
}

impl HandoffReport {
    /// The exit status: 0 valid, 1 not, 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.ok {
            0
        } else {
            1
        }
    }

    /// As text.
    pub fn text(&self) -> String {
        let mut s = format!(
            "mip-lab bench-handoff (run id {}): {} foreign-agent handoffs, {} moves in all, \
             {:.0} ms at each place, ping every {} ms, stream {} B/s\n",
            self.id,
            self.fa_moves,
            self.moves.len(),
            self.dwell_ms,
            self.ping_interval_ms,
            self.rate
        );
        s.push_str(&format!(
            "agents: {} — {}\n",
            if self.agents.started {
                "started"
            } else {
                "NOT started"
            },
            self.agents.detail
        ));
        s.push_str(&format!("before: {}\n\n", self.load_before.text()));
        let v =
            |x: Option<f64>, d: usize| x.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "-".into());
        let head = format!(
            "  {:<34}  {:^35} | {:^23}",
            "", "handoff_ms", "packets_lost"
        );
        s.push_str(head.trim_end());
        s.push('\n');
        s.push_str(&format!(
            "  {:<28} {:>5}  {:>8} {:>8} {:>8} {:>8} | {:>5} {:>5} {:>5} {:>5}\n",
            "kind", "moves", "p50", "p90", "p99", "max", "p50", "p90", "p99", "max"
        ));
        for k in &self.kinds {
            s.push_str(&format!(
                "  {:<28} {:>5}  {:>8} {:>8} {:>8} {:>8} | {:>5} {:>5} {:>5} {:>5}{}\n",
                k.label,
                k.moves,
                v(k.handoff_ms.p50, 1),
                v(k.handoff_ms.p90, 1),
                v(k.handoff_ms.p99, 1),
                v(k.handoff_ms.max, 1),
                v(k.packets_lost.p50, 0),
                v(k.packets_lost.p90, 0),
                v(k.packets_lost.p99, 0),
                v(k.packets_lost.max, 0),
                if k.missing > 0 {
                    format!("  ({} WITHOUT handoff)", k.missing)
                } else {
                    String::new()
                }
            ));
            s.push_str(&format!("    ({})\n", k.pairs.join(", ")));
        }
        s.push_str(&format!(
            "\nstream: sent {} bytes, received {} bytes, identical: {}, end confirmed: {}, \
             {} TCP retransmits\n",
            self.stream.bytes_sent,
            self.stream.bytes_received,
            if self.stream.identical { "yes" } else { "NO" },
            if self.stream.drained { "yes" } else { "NO" },
            self.stream.tcp_retransmits
        ));
        s.push_str("targets:\n");
        for t in &self.targets {
            s.push_str(&t.line(|x| format!("{x:.1} ms")));
        }
        for e in &self.errors {
            s.push_str(&format!("error: {e}\n"));
        }
        s.push_str(&format!("after: {}\n", self.load_after.text()));
        s.push_str(&format!(
            "RESULT: {}, targets {} ({:.1} s)\n",
            if self.ok { "valid" } else { "FAILED" },
            if self.targets_met { "met" } else { "MISSED" },
            self.duration_s
        ));
        s
    }
}

/// Groups the moves by kind (only the kinds that occur, foreign agent first).
pub fn kinds(moves: &[MoveResult]) -> Vec<KindReport> {
    [MoveKind::ForeignAgent, MoveKind::Home, MoveKind::Coloc]
        .into_iter()
        .filter_map(|kind| {
            let of: Vec<&MoveResult> = moves
                .iter()
                .filter(|m| MoveKind::of(m.from, m.to) == kind)
                .collect();
            if of.is_empty() {
                return None;
            }
            let mut pairs: Vec<String> = Vec::new();
            for m in &of {
                let p = format!("{}->{}", m.from, m.to);
                if !pairs.contains(&p) {
                    pairs.push(p);
                }
            }
            Some(KindReport {
                kind,
                label: kind.label(),
                pairs,
                moves: of.len(),
                missing: of.iter().filter(|m| m.handoff_ms.is_none()).count(),
                handoff_ms: Stats::of(of.iter().filter_map(|m| m.handoff_ms)),
                packets_lost: Stats::of(of.iter().map(|m| m.packets_lost as f64)),
            })
        })
        .collect()
}

/// Runs the handoff benchmark. Never leaves the lab behind.
pub fn bench_handoff(lab: &Lab, o: &HandoffOpts, quiet: bool) -> HandoffReport {
    let load_before = Load::now();
    let moves = handoff_moves(o.fa_moves);
    let opts = DemoOpts {
        moves: moves.clone(),
        mode: Mode::MobileIp,
        dwell: o.dwell,
        rate: o.rate,
        ping_interval: o.ping_interval,
        agents: o.agents.clone(),
        ..DemoOpts::default()
    };
    let r = demo::demo(lab, &opts, quiet);
    let kinds = kinds(&r.moves);
    let fa = kinds.iter().find(|k| k.kind == MoveKind::ForeignAgent);
    // A foreign-agent handoff that never completed is a miss whatever the others did.
    let fa_p99 = fa.and_then(|k| {
        if k.missing > 0 {
            None
        } else {
            k.handoff_ms.p99
        }
    });
    let targets = vec![Target::at_most(
        "p99 handoff_ms of foreign-agent handoffs",
        FA_HANDOFF_P99_MS,
        fa_p99,
    )];
    let mut errors = r.errors.clone();
    if !r.agents.started {
        errors.push(format!("agents not started: {}", r.agents.detail));
    }
    HandoffReport {
        id: r.id.clone(),
        fa_moves: o.fa_moves,
        dwell_ms: o.dwell.as_secs_f64() * 1e3,
        ping_interval_ms: o.ping_interval.as_secs_f64() * 1e3,
        rate: o.rate,
        agents: r.agents.clone(),
        targets_met: targets.iter().all(|t| t.met),
        targets,
        kinds,
        stream: r.stream.clone(),
        ok: r.ok && r.agents.started && r.moves.len() == moves.len(),
        moves: r.moves,
        errors,
        load_before,
        load_after: Load::now(),
        interrupted: r.interrupted,
        duration_s: r.duration_s,
    }
}

/// Options of `bench-throughput`.
#[derive(Clone, Debug)]
pub struct ThroughputOpts {
    /// Seconds per iperf3 test.
    pub seconds: u32,
    /// Where the mobile node is (both paths).
    pub at: Place,
    /// Agents hook options.
    pub agents: AgentOpts,
}

/// Tunnel / plain path.
#[derive(Clone, Debug, Serialize)]
pub struct Ratios {
    /// TCP, received bit/s (offload frames on the links).
    pub tcp: f64,
    /// TCP with MTU-sized frames on every link, received bit/s (`None`: not measured).
    pub tcp_wire: Option<f64>,
    /// UDP 1400 B, received bit/s.
    pub udp_1400: f64,
    /// UDP 64 B, received packets/s.
    pub udp_64: f64,
}

/// The result of `bench-throughput` (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct ThroughputReport {
    /// Run id.
    pub id: String,
    /// Where the mobile node was.
    pub at: Place,
    /// Seconds per test.
    pub seconds: u32,
    /// No Mobile IP: plain host routes to the mobile node.
    pub plain: IperfReport,
    /// Mobile IP: through the home agent's tunnel.
    pub mip: IperfReport,
    /// How the agents' engines sent (`mipd --tunnel-tx`).
    pub tunnel_tx: String,
    /// `mip / plain`.
    pub ratio: Ratios,
    /// The targets.
    pub targets: Vec<Target>,
    /// Every target met.
    pub targets_met: bool,
    /// Load before the run.
    pub load_before: Load,
    /// Load after the run.
    pub load_after: Load,
    /// Wall time, seconds.
    pub duration_s: f64,
}

impl ThroughputReport {
    /// As text.
    pub fn text(&self) -> String {
        let mbps = |b: f64| format!("{:.0} Mbit/s", b / 1e6);
        let pps = |p: f64| format!("{p:.0} pkt/s");
        let mut s = format!(
            "mip-lab bench-throughput (run id {}): iperf3 cn -> {}, mobile node at {}, {} s per \
             test, tunnel engines sending with --tunnel-tx {}\n",
            self.id,
            crate::plan::MN_HOME,
            self.at,
            self.seconds,
            self.tunnel_tx
        );
        s.push_str(&format!("before: {}\n\n", self.load_before.text()));
        s.push_str(&format!(
            "  {:<12} {:>26} {:>26} {:>7}\n",
            "test", "plain path", "through the HA tunnel", "ratio"
        ));
        let (p, m) = (&self.plain, &self.mip);
        s.push_str(&format!(
            "  {:<12} {:>26} {:>26} {:>7.2}\n",
            "TCP",
            mbps(p.tcp.received_bps),
            mbps(m.tcp.received_bps),
            self.ratio.tcp
        ));
        if let (Some(pw), Some(mw), Some(r)) = (&p.tcp_wire, &m.tcp_wire, self.ratio.tcp_wire) {
            s.push_str(&format!(
                "  {:<12} {:>26} {:>26} {:>7.2}\n",
                "TCP 1500 B",
                mbps(pw.received_bps),
                mbps(mw.received_bps),
                r
            ));
        }
        for (name, pu, mu, r) in [
            ("UDP 1400 B", &p.udp_1400, &m.udp_1400, self.ratio.udp_1400),
            ("UDP 64 B", &p.udp_64, &m.udp_64, self.ratio.udp_64),
        ] {
            s.push_str(&format!(
                "  {:<12} {:>26} {:>26} {:>7.2}\n",
                name,
                format!("{} {}", pps(pu.received_pps), mbps(pu.received_bps)),
                format!("{} {}", pps(mu.received_pps), mbps(mu.received_bps)),
                r
            ));
            s.push_str(&format!(
                "  {:<12} {:>26} {:>26}\n",
                "  lost",
                format!("{:.1}%", pu.lost_percent),
                format!("{:.1}%", mu.lost_percent)
            ));
        }
        s.push_str(
            "(ratios: TCP and UDP 1400 B in bit/s received, UDP 64 B in packets/s. \"TCP\": \
             with the offloads veth allows, 64 KB frames cross every link whole; \"TCP 1500 \
             B\": segmentation offloads off on every link, MTU-sized frames as physical links \
             carry them)\n",
        );
        let engine_tests = [
            ("TCP", m.tcp.engines.as_ref()),
            (
                "TCP 1500 B",
                m.tcp_wire.as_ref().and_then(|t| t.engines.as_ref()),
            ),
            ("UDP 1400 B", m.udp_1400.engines.as_ref()),
            ("UDP 64 B", m.udp_64.engines.as_ref()),
        ];
        if engine_tests.iter().any(|(_, e)| e.is_some()) {
            s.push_str(
                "tunnel engines during the Mobile IP tests (CPU time of their threads; on veth \
                 the kernel's work for what an engine sends -- the router's forwarding, the far \
                 agent's IP input -- is charged to the sender's CPU):\n",
            );
            for (name, e) in engine_tests {
                if let Some(e) = e {
                    s.push_str(&format!("  {name}\n{}", e.text("    ")));
                }
            }
        }
        s.push_str("targets:\n");
        for t in &self.targets {
            if t.what.contains("ratio") {
                s.push_str(&t.line(|x| format!("{x:.2}")));
            } else if t.what.contains("64 B") {
                // packets/s (received, or per core)
                s.push_str(&t.line(pps));
            } else {
                s.push_str(&t.line(|x| format!("{:.2} Gbit/s", x / 1e9)));
            }
        }
        s.push_str(&format!("after: {}\n", self.load_after.text()));
        s.push_str(&format!(
            "RESULT: targets {} ({:.1} s)\n",
            if self.targets_met { "met" } else { "MISSED" },
            self.duration_s
        ));
        s
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Runs iperf3 on the plain path, then through Mobile IP, each in a lab of its own (built and
/// removed here; `lab` must not be up).
pub fn bench_throughput(lab: &Lab, o: &ThroughputOpts) -> Result<ThroughputReport, String> {
    if topology::is_up(lab) {
        return Err(format!(
            "lab {} is up: bench-throughput builds its own labs (another --id, or mip-lab \
             --id {} down)",
            lab.id(),
            lab.id()
        ));
    }
    let started = Instant::now();
    let load_before = Load::now();
    let run = |mip: bool| {
        eprintln!(
            "mip-lab: iperf3 on the {} path, mobile node at {}",
            if mip { "Mobile IP" } else { "plain" },
            o.at
        );
        iperf::iperf(
            lab,
            &IperfOpts {
                seconds: o.seconds,
                at: o.at,
                mip,
                agents: o.agents.clone(),
            },
        )
    };
    let plain = run(false)?;
    if guard::stop_requested() {
        return Err("interrupted".into());
    }
    let mip = run(true)?;
    let ratio = Ratios {
        tcp: ratio(mip.tcp.received_bps, plain.tcp.received_bps),
        tcp_wire: match (&mip.tcp_wire, &plain.tcp_wire) {
            (Some(m), Some(p)) => Some(ratio(m.received_bps, p.received_bps)),
            _ => None,
        },
        udp_1400: ratio(mip.udp_1400.received_bps, plain.udp_1400.received_bps),
        udp_64: ratio(mip.udp_64.received_pps, plain.udp_64.received_pps),
    };
    let targets = vec![
        Target::at_least(
            "UDP 1400 B received through the tunnel",
            UDP_1400_MIN_BPS,
            Some(mip.udp_1400.received_bps),
        )
        .baseline_below(plain.udp_1400.received_bps, |b| {
            format!("{:.2} Gbit/s", b / 1e9)
        }),
        Target::at_least(
            "UDP 64 B encapsulated per core of the home agent's engine",
            UDP_64_MIN_PPS,
            mip.udp_64
                .engines
                .as_ref()
                .and_then(|e| e.home_agent.as_ref())
                .map(|l| l.packets_per_core),
        ),
        Target::at_least("TCP ratio tunnel/plain", MIN_RATIO, Some(ratio.tcp)).with_note(
            "the plain path passes 64 KB frames whole across every veth hop; a user-space \
             tunnel sends MTU-sized outer packets (the kernel takes no IP-in-IP GSO packet \
             from user space), so compare \"TCP 1500 B\"",
        ),
        Target::at_least("TCP 1500 B ratio tunnel/plain", MIN_RATIO, ratio.tcp_wire),
        Target::at_least(
            "UDP 1400 B ratio tunnel/plain",
            MIN_RATIO,
            Some(ratio.udp_1400),
        ),
        Target::at_least("UDP 64 B ratio tunnel/plain", MIN_RATIO, Some(ratio.udp_64)),
    ];
    Ok(ThroughputReport {
        id: lab.id().into(),
        at: o.at,
        seconds: plain.seconds,
        targets_met: targets.iter().all(|t| t.met),
        targets,
        ratio,
        plain,
        mip,
        tunnel_tx: o.agents.tunnel_tx.clone().unwrap_or_else(|| "raw".into()),
        load_before,
        load_after: Load::now(),
        duration_s: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_says_when_the_plain_path_itself_is_below_it() {
        let fmt = |p: f64| format!("{p:.0} pkt/s");
        let t =
            Target::at_least("UDP 64 B", 250_000.0, Some(100_000.0)).baseline_below(136_000.0, fmt);
        assert!(!t.met);
        let line = t.line(fmt);
        assert!(
            line.contains("[MISSED] UDP 64 B ≥ 250000 pkt/s: 100000 pkt/s"),
            "{line}"
        );
        assert!(
            line.contains("plain path itself reaches only 136000 pkt/s"),
            "{line}"
        );
        // A baseline above the limit: no note.
        let t =
            Target::at_least("UDP 64 B", 250_000.0, Some(100_000.0)).baseline_below(300_000.0, fmt);
        assert!(t.note.is_none());
        assert_eq!(t.line(fmt).lines().count(), 1);
    }

    #[test]
    fn a_note_is_shown_only_under_a_missed_target() {
        let missed = Target::at_least("TCP ratio", 0.5, Some(0.14)).with_note("why");
        assert_eq!(missed.note.as_deref(), Some("why"));
        assert!(missed.line(|x| format!("{x:.2}")).contains("(why)"));
        let met = Target::at_least("TCP ratio", 0.5, Some(0.6)).with_note("why");
        assert_eq!(met.note, None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(Stats::of([]), Stats::default());
        let s = Stats::of((1..=100).rev().map(f64::from));
        assert_eq!(
            (s.n, s.p50, s.p90, s.p99, s.max),
            (100, Some(50.0), Some(90.0), Some(99.0), Some(100.0))
        );
        let s = Stats::of([3.0, 1.0, 2.0]);
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max),
            (Some(2.0), Some(3.0), Some(3.0), Some(3.0))
        );
        assert_eq!(percentile(&[7.0], 0.0), Some(7.0));
    }

    #[test]
    fn moves_cycle_the_foreign_agents_then_home_and_coloc() {
        use Place::*;
        assert_eq!(
            handoff_moves(3),
            vec![Fa1, Fa2, Fa1, Fa2, Home, Coloc, Home]
        );
        let kinds: Vec<MoveKind> = [Home]
            .iter()
            .chain(&handoff_moves(2))
            .zip(&handoff_moves(2))
            .map(|(&a, &b)| MoveKind::of(a, b))
            .collect();
        assert_eq!(
            kinds,
            vec![
                MoveKind::Home,
                MoveKind::ForeignAgent,
                MoveKind::ForeignAgent,
                MoveKind::Home,
                MoveKind::Coloc,
                MoveKind::Coloc
            ]
        );
    }
}
