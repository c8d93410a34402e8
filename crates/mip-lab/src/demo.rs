//! `mip-lab demo`: the product's main job shown end to end. Builds the lab, starts the agents
//! (hook: [`crate::agents::start_agents`]), runs a TCP stream cn → the mobile node's home
//! address and a 100/s ping alongside, moves the mobile node, and measures each handoff.
//!
//! Per move, with the window of move k being [link down k, link down k+1):
//! * `handoff_ms`: link change (old link down) → first ping reply received at the new place
//!   (first reply after the new link is up);
//! * `stream_resume_ms`: link change → first stream bytes read by the receiver at the new
//!   place (includes TCP's retransmission timeout, ≥ 200 ms on Linux, when segments were lost);
//! * `packets_lost`: echo requests sent in the window that got no reply;
//! * `tcp_retransmits`: the sender's retransmissions during the window.

use std::net::SocketAddrV4;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agents::{self, AgentOpts, Agents, AgentsOutcome};
use crate::guard::{self, LabGuard};
use crate::plan::{Lab, Node, Place, MN_HOME, STREAM_PORT};
use crate::proc::{self_exe, Proc};
use crate::sh::mono_ns;
use crate::topology::{self, Mode, MoveTiming};

/// Options of the demo.
#[derive(Clone, Debug)]
pub struct DemoOpts {
    /// The places to move to, in order (the mobile node starts at home).
    pub moves: Vec<Place>,
    /// Mobile IP, or the harness self-test.
    pub mode: Mode,
    /// Time at each place.
    pub dwell: Duration,
    /// Stream rate, bytes per second.
    pub rate: u64,
    /// Bytes per write.
    pub chunk: usize,
    /// Ping interval.
    pub ping_interval: Duration,
    /// How long the sender waits at the end for the last bytes to be confirmed.
    pub drain: Duration,
    /// Agents hook options.
    pub agents: AgentOpts,
    /// Leave the lab up afterwards (the processes are stopped all the same).
    pub keep: bool,
    /// Called after each move's dwell, while the stream, the ping and the agents still run.
    pub after_move: Option<MoveHook>,
}

/// A check run after each move ([`DemoOpts::after_move`]): it gets the lab, the move's index
/// (0-based), the place moved to and the agents (`None` without agents).
#[derive(Clone)]
#[allow(clippy::type_complexity)]
pub struct MoveHook(pub Arc<dyn Fn(&Lab, usize, Place, Option<&Agents>) + Send + Sync>);

impl std::fmt::Debug for MoveHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MoveHook")
    }
}

impl Default for DemoOpts {
    fn default() -> Self {
        DemoOpts {
            moves: vec![
                Place::Home,
                Place::Fa1,
                Place::Fa2,
                Place::Coloc,
                Place::Home,
            ],
            mode: Mode::MobileIp,
            dwell: Duration::from_millis(1500),
            rate: 200_000,
            chunk: 1000,
            ping_interval: Duration::from_millis(10),
            drain: Duration::from_secs(15),
            agents: AgentOpts::default(),
            keep: false,
            after_move: None,
        }
    }
}

/// One move's figures.
#[derive(Clone, Debug, Serialize)]
pub struct MoveResult {
    /// Old place.
    pub from: Place,
    /// New place.
    pub to: Place,
    /// Link change → first ping reply at the new place (ms); null if none came.
    pub handoff_ms: Option<f64>,
    /// Echo requests of this move's window without reply.
    pub packets_lost: u64,
    /// Link change → first stream bytes at the new place (ms); null if none came.
    pub stream_resume_ms: Option<f64>,
    /// How long the link was down (old down → new up), ms.
    pub link_down_ms: f64,
    /// Link change → the mobile node's interface reported carrier loss, ms.
    pub carrier_lost_ms: Option<f64>,
    /// Echo requests sent in this move's window.
    pub pings_sent: u64,
    /// TCP retransmissions by the sender in this move's window.
    pub tcp_retransmits: u64,
}

/// The stream's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamResult {
    /// Bytes the sender's write() accepted.
    pub bytes_sent: u64,
    /// Bytes the receiver read.
    pub bytes_received: u64,
    /// Every byte received matched the pattern and the counts are equal.
    pub identical: bool,
    /// Offset of the first wrong byte, if any.
    pub first_mismatch: Option<u64>,
    /// The receiver confirmed the end of the stream (closed after the sender's FIN).
    pub drained: bool,
    /// TCP retransmissions in total.
    pub tcp_retransmits: u64,
}

/// The ping's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PingResult {
    /// Interval between requests, ms.
    pub interval_ms: f64,
    /// Requests sent.
    pub sent: u64,
    /// Replies received.
    pub received: u64,
    /// Requests without reply.
    pub lost: u64,
}

/// Whether agents ran.
#[derive(Clone, Debug, Serialize)]
pub struct AgentsReport {
    /// All agents started.
    pub started: bool,
    /// Why not, or where their logs are.
    pub detail: String,
}

/// The demo's result (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Run id.
    pub id: String,
    /// "mobile-ip" or "no-mip".
    pub mode: Mode,
    /// True for `--no-mip`: a harness self-test, not the product.
    pub self_test: bool,
    /// What this run shows, in words.
    pub label: String,
    /// Agents.
    pub agents: AgentsReport,
    /// Per move.
    pub moves: Vec<MoveResult>,
    /// The stream.
    pub stream: StreamResult,
    /// The ping.
    pub ping: PingResult,
    /// Everything that went wrong.
    pub errors: Vec<String>,
    /// Interrupted by a signal.
    pub interrupted: bool,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// Everything worked: stream complete and identical, every move handed off.
    pub ok: bool,
}

impl DemoReport {
    /// The exit status: 0 ok, 1 failed, 130 interrupted.
    pub fn exit_code(&self) -> i32 {
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
        let mut s = format!("mip-lab demo (run id {}): {}\n", self.id, self.label);
        s.push_str(&format!(
            "agents: {} — {}\n\n",
            if self.agents.started {
                "started"
            } else {
                "not started"
            },
            self.agents.detail
        ));
        s.push_str(
            "  #  from   to      link down   handoff (ping)   stream resume   pings lost   tcp retrans\n",
        );
        let ms = |v: Option<f64>| {
            v.map(|x| format!("{x:.1} ms"))
                .unwrap_or_else(|| "NONE".into())
        };
        for (i, m) in self.moves.iter().enumerate() {
            s.push_str(&format!(
                "  {:<2} {:<6} {:<6} {:>9.1} ms {:>16} {:>15} {:>6} of {:<4} {:>6}\n",
                i + 1,
                m.from.name(),
                m.to.name(),
                m.link_down_ms,
                ms(m.handoff_ms),
                ms(m.stream_resume_ms),
                m.packets_lost,
                m.pings_sent,
                m.tcp_retransmits
            ));
        }
        s.push_str(&format!(
            "\nstream: sent {} bytes, received {} bytes, identical: {}, end confirmed: {}\n",
            self.stream.bytes_sent,
            self.stream.bytes_received,
            if self.stream.identical { "yes" } else { "NO" },
            if self.stream.drained { "yes" } else { "NO" },
        ));
        s.push_str(&format!(
            "ping:   {} sent every {} ms, {} replies, {} lost\n",
            self.ping.sent, self.ping.interval_ms, self.ping.received, self.ping.lost
        ));
        for e in &self.errors {
            s.push_str(&format!("error: {e}\n"));
        }
        s.push_str(&format!(
            "RESULT: {}{} ({:.1} s)\n",
            if self.ok { "OK" } else { "FAILED" },
            if self.self_test {
                " — harness self-test only, NOT Mobile IP"
            } else {
                ""
            },
            self.duration_s
        ));
        s
    }
}

/// Parsed child events.
#[derive(Default)]
struct Events {
    /// (t, total bytes) per receiver read.
    reads: Vec<(u64, u64)>,
    /// Receiver DONE: (total, identical, first_mismatch, eof).
    recv_done: Option<(u64, bool, i64, bool)>,
    /// (t, sent, retrans) sender progress.
    progress: Vec<(u64, u64, u64)>,
    /// Sender DONE: (sent, retrans, drained).
    send_done: Option<(u64, u64, bool)>,
    /// Ping: seq → (sent t, reply t).
    pings: Vec<(u64, Option<u64>)>,
    errors: Vec<String>,
}

fn nums(l: &str) -> Vec<i64> {
    l.split_whitespace()
        .skip(1)
        .filter_map(|w| w.parse().ok())
        .collect()
}

fn parse_events(recv: &[String], send: &[String], ping: &[String]) -> Events {
    let mut ev = Events::default();
    for l in recv {
        let n = nums(l);
        if l.starts_with("R ") && n.len() == 2 {
            ev.reads.push((n[0] as u64, n[1] as u64));
        } else if l.starts_with("DONE ") && n.len() == 5 {
            ev.recv_done = Some((n[1] as u64, n[2] == 1, n[3], n[4] == 1));
        } else if l.starts_with("ERROR") {
            ev.errors.push(format!("receiver: {l}"));
        }
    }
    for l in send {
        let n = nums(l);
        if l.starts_with("P ") && n.len() == 3 {
            ev.progress.push((n[0] as u64, n[1] as u64, n[2] as u64));
        } else if l.starts_with("DONE ") && n.len() >= 4 {
            ev.send_done = Some((n[1] as u64, n[2] as u64, n[3] == 1));
        } else if l.starts_with("ERROR") {
            ev.errors.push(format!("sender: {l}"));
        }
    }
    for l in ping {
        let n = nums(l);
        if n.len() != 2 {
            if l.starts_with("ERROR") {
                ev.errors.push(format!("pinger: {l}"));
            }
            continue;
        }
        let seq = n[0] as usize;
        if l.starts_with("S ") {
            if ev.pings.len() <= seq {
                ev.pings.resize(seq + 1, (0, None));
            }
            ev.pings[seq].0 = n[1] as u64;
        } else if l.starts_with("R ") {
            if let Some(p) = ev.pings.get_mut(seq) {
                p.1.get_or_insert(n[1] as u64);
            }
        }
    }
    ev
}

fn ms(a: u64, b: u64) -> f64 {
    (b.saturating_sub(a)) as f64 / 1e6
}

fn retrans_at(progress: &[(u64, u64, u64)], t: u64) -> u64 {
    progress
        .iter()
        .take_while(|p| p.0 <= t)
        .last()
        .map(|p| p.2)
        .unwrap_or(0)
}

fn analyse(moves: &[MoveTiming], ev: &Events, t_stop: u64) -> Vec<MoveResult> {
    let mut out = Vec::new();
    for (k, m) in moves.iter().enumerate() {
        let end = moves.get(k + 1).map(|n| n.t_down_ns);
        let win_end = end.unwrap_or(t_stop);
        // After the last move, late arrivals still count as arriving at the new place.
        let open_end = end.unwrap_or(u64::MAX);
        let handoff = ev
            .pings
            .iter()
            .filter_map(|p| p.1)
            .filter(|&r| r >= m.t_up_ns && r < open_end)
            .min()
            .map(|r| ms(m.t_down_ns, r));
        let resume = ev
            .reads
            .iter()
            .map(|r| r.0)
            .find(|&t| t >= m.t_up_ns && t < open_end)
            .map(|t| ms(m.t_down_ns, t));
        let in_win: Vec<_> = ev
            .pings
            .iter()
            .filter(|p| p.0 >= m.t_down_ns && p.0 < win_end)
            .collect();
        out.push(MoveResult {
            from: m.from,
            to: m.to,
            handoff_ms: handoff,
            packets_lost: in_win.iter().filter(|p| p.1.is_none()).count() as u64,
            stream_resume_ms: resume,
            link_down_ms: m.link_down_ms,
            carrier_lost_ms: m.t_carrier_lost_ns.map(|t| ms(m.t_down_ns, t)),
            pings_sent: in_win.len() as u64,
            tcp_retransmits: retrans_at(&ev.progress, win_end)
                .saturating_sub(retrans_at(&ev.progress, m.t_down_ns)),
        });
    }
    out
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

/// Runs the demo. Never leaves the lab behind (unless `keep`).
pub fn demo(lab: &Lab, o: &DemoOpts, quiet: bool) -> DemoReport {
    let started = Instant::now();
    let self_test = o.mode == Mode::NoMip;
    let label = if self_test {
        "HARNESS SELF-TEST (--no-mip): the mobile node keeps its home address and plain host \
         routes follow it; no Mobile IP is involved"
            .to_string()
    } else {
        "Mobile IP: a TCP session to the mobile node's home address while it roams".to_string()
    };
    let mut report = DemoReport {
        id: lab.id().into(),
        mode: o.mode,
        self_test,
        label,
        agents: AgentsReport {
            started: false,
            detail: String::new(),
        },
        moves: Vec::new(),
        stream: StreamResult::default(),
        ping: PingResult {
            interval_ms: o.ping_interval.as_secs_f64() * 1e3,
            ..Default::default()
        },
        errors: Vec::new(),
        interrupted: false,
        duration_s: 0.0,
        ok: false,
    };
    let mut g = LabGuard::new(lab);
    if o.keep {
        g.disarm();
    }
    run(lab, o, quiet, &mut report);
    report.interrupted = guard::stop_requested();
    if report.interrupted {
        report.errors.push("interrupted by a signal".into());
    }
    drop(g);
    report.duration_s = started.elapsed().as_secs_f64();
    report.ok = report.errors.is_empty()
        && report.stream.identical
        && report.stream.bytes_sent > 0
        && report.moves.len() == o.moves.len()
        && report
            .moves
            .iter()
            .all(|m| m.handoff_ms.is_some() && m.stream_resume_ms.is_some());
    report
}

macro_rules! say {
    ($quiet:expr, $($t:tt)*) => {
        if !$quiet {
            eprintln!($($t)*);
        }
    };
}

fn run(lab: &Lab, o: &DemoOpts, quiet: bool, r: &mut DemoReport) {
    let t = Instant::now();
    if let Err(e) = topology::up(lab, o.mode) {
        r.errors.push(format!("up: {e}"));
        return;
    }
    say!(
        quiet,
        "mip-lab: lab {} up in {:.0} ms",
        lab.id(),
        t.elapsed().as_secs_f64() * 1e3
    );
    if guard::stop_requested() {
        return;
    }

    // Hook: the Mobile IP agents.
    let mut agents = if o.mode == Mode::MobileIp {
        match agents::start_agents(lab, &o.agents) {
            Ok(AgentsOutcome::Started(a)) => {
                r.agents = AgentsReport {
                    started: true,
                    detail: format!("mipd logs in {}", a.run_dir.display()),
                };
                say!(
                    quiet,
                    "mip-lab: agents started (logs in {})",
                    a.run_dir.display()
                );
                Some(a)
            }
            Ok(AgentsOutcome::Skipped(why)) => {
                eprintln!(
                    "mip-lab: *** Mobile IP agents NOT started: {why}. The demo runs without \
                     them; moves away from home will fail until mipd has its roles \
                     (use --no-mip for the harness self-test). ***"
                );
                r.agents.detail = format!("skipped: {why}");
                None
            }
            Err(e) => {
                r.agents.detail = format!("failed: {e}");
                r.errors.push(format!("agents: {e}"));
                return;
            }
        }
    } else {
        r.agents.detail = "not used: --no-mip harness self-test".into();
        None
    };
    if guard::stop_requested() {
        return;
    }

    let exe = self_exe();
    let moves_budget = o.moves.len() as f64 * (o.dwell.as_secs_f64() + 3.0);
    let budget = 10.0 + moves_budget + o.drain.as_secs_f64();
    let home = SocketAddrV4::new(MN_HOME, STREAM_PORT);
    let mut receiver = match Proc::spawn(
        "stream receiver",
        &lab.ns(Node::Mn),
        &exe,
        &[
            s("_stream-recv"),
            s("--bind"),
            s(home),
            s("--max-seconds"),
            s(budget + 10.0),
        ],
        std::process::Stdio::inherit(),
    ) {
        Ok(p) => p,
        Err(e) => {
            r.errors.push(e);
            return;
        }
    };
    match receiver.wait_line(&["LISTENING", "ERROR"], Duration::from_secs(5)) {
        Some(l) if l.starts_with("LISTENING") => {}
        other => {
            r.errors.push(format!("receiver did not start: {other:?}"));
            return;
        }
    }
    let mut sender = match Proc::spawn(
        "stream sender",
        &lab.ns(Node::Cn),
        &exe,
        &[
            s("_stream-send"),
            s("--to"),
            s(home),
            s("--rate"),
            s(o.rate),
            s("--chunk"),
            s(o.chunk),
            s("--max-seconds"),
            s(budget),
            s("--drain-seconds"),
            s(o.drain.as_secs_f64()),
        ],
        std::process::Stdio::inherit(),
    ) {
        Ok(p) => p,
        Err(e) => {
            r.errors.push(e);
            return;
        }
    };
    match sender.wait_line(&["CONNECTED", "ERROR"], Duration::from_secs(12)) {
        Some(l) if l.starts_with("CONNECTED") => {}
        other => {
            r.errors.push(format!("sender did not connect: {other:?}"));
            return;
        }
    }
    let mut pinger = match Proc::spawn(
        "pinger",
        &lab.ns(Node::Cn),
        &exe,
        &[
            s("_ping"),
            s("--to"),
            s(MN_HOME),
            s("--interval-ms"),
            s(o.ping_interval.as_secs_f64() * 1e3),
            s("--max-seconds"),
            s(budget),
        ],
        std::process::Stdio::inherit(),
    ) {
        Ok(p) => p,
        Err(e) => {
            r.errors.push(e);
            return;
        }
    };
    // Warm-up: stream and ping both flowing at home.
    let warm = receiver
        .wait_line(&["R "], Duration::from_secs(3))
        .is_some()
        && pinger.wait_line(&["R "], Duration::from_secs(3)).is_some();
    if !warm && !guard::stop_requested() {
        r.errors
            .push("no stream data or ping reply at home before the first move".into());
    }
    guard::sleep(Duration::from_millis(500));
    say!(
        quiet,
        "mip-lab: stream {} B/s and ping every {} ms running cn -> {MN_HOME}; moving {}",
        o.rate,
        o.ping_interval.as_millis(),
        o.moves
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(",")
    );

    let mut timings = Vec::new();
    for (k, &to) in o.moves.iter().enumerate() {
        if guard::stop_requested() {
            break;
        }
        match topology::move_to(lab, to, o.mode) {
            Ok(m) => {
                say!(
                    quiet,
                    "mip-lab: move {} -> {}: link down {:.1} ms (carrier loss seen after {})",
                    m.from,
                    m.to,
                    m.link_down_ms,
                    m.t_carrier_lost_ns
                        .map(|c| format!("{:.1} ms", (c - m.t_down_ns) as f64 / 1e6))
                        .unwrap_or_else(|| "NEVER".into())
                );
                timings.push(m);
            }
            Err(e) => {
                r.errors.push(format!("move to {to}: {e}"));
                break;
            }
        }
        guard::sleep(o.dwell);
        if let Some(h) = &o.after_move {
            (h.0)(lab, k, to, agents.as_ref());
        }
    }
    let t_stop = mono_ns();
    let interrupted = guard::stop_requested();
    if let Some(a) = agents.as_mut() {
        let dead = a.exited();
        if !dead.is_empty() {
            r.errors.push(format!(
                "{} exited during the demo; logs in {}",
                dead.join(", "),
                a.run_dir.display()
            ));
        }
    }

    // Stop: ping first (its linger catches the last replies), then the stream.
    pinger.close_stdin();
    sender.close_stdin();
    let drain_wait = if interrupted {
        Duration::from_millis(500)
    } else {
        o.drain + Duration::from_secs(5)
    };
    sender.finish(drain_wait);
    receiver.close_stdin();
    receiver.finish(Duration::from_secs(3));
    pinger.finish(Duration::from_secs(2));

    let ev = parse_events(&receiver.lines(), &sender.lines(), &pinger.lines());
    r.errors.extend(ev.errors.iter().cloned());
    r.moves = analyse(&timings, &ev, t_stop);
    for (i, m) in r.moves.iter().enumerate() {
        if m.handoff_ms.is_none() {
            r.errors.push(format!(
                "move {} ({} -> {}): no ping reply at the new place",
                i + 1,
                m.from,
                m.to
            ));
        }
        if m.stream_resume_ms.is_none() {
            r.errors.push(format!(
                "move {} ({} -> {}): the stream did not resume at the new place",
                i + 1,
                m.from,
                m.to
            ));
        }
    }
    let (sent, retrans, drained) = ev.send_done.unwrap_or_else(|| {
        let last = ev.progress.last().copied().unwrap_or_default();
        (last.1, last.2, false)
    });
    let (received, pattern_ok, mismatch) = match ev.recv_done {
        Some((n, ok, mm, _)) => (n, ok, mm),
        None => (ev.reads.last().map(|x| x.1).unwrap_or(0), false, -1),
    };
    if ev.send_done.is_none() {
        r.errors.push("the sender did not finish".into());
    }
    if ev.recv_done.is_none() {
        r.errors.push("the receiver did not finish".into());
    }
    if sent != received {
        r.errors
            .push(format!("stream: {sent} bytes sent but {received} received"));
    }
    if !pattern_ok {
        r.errors.push(format!(
            "stream: bytes differ from the pattern (first wrong byte at offset {mismatch})"
        ));
    }
    if !drained && ev.send_done.is_some() {
        r.errors
            .push("stream: the receiver did not confirm the end of the stream".into());
    }
    r.stream = StreamResult {
        bytes_sent: sent,
        bytes_received: received,
        identical: pattern_ok && sent == received && ev.recv_done.is_some(),
        first_mismatch: (mismatch >= 0).then_some(mismatch as u64),
        drained,
        tcp_retransmits: retrans,
    };
    let psent = ev.pings.iter().filter(|p| p.0 > 0).count() as u64;
    let precv = ev.pings.iter().filter(|p| p.1.is_some()).count() as u64;
    r.ping.sent = psent;
    r.ping.received = precv;
    r.ping.lost = psent.saturating_sub(precv);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(from: Place, to: Place, down: u64, up: u64) -> MoveTiming {
        MoveTiming {
            from,
            to,
            t_down_ns: down,
            t_carrier_lost_ns: Some(down + 1_000_000),
            t_up_ns: up,
            link_down_ms: ms(down, up),
        }
    }

    #[test]
    fn analysis_attributes_events_to_moves() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let recv = l(&[
            "R 100000000 1000",
            "R 1300000000 2000",
            "R 2250000000 3000",
            "DONE 3000000000 3000 1 -1 1",
        ]);
        let send = l(&[
            "P 900000000 1000 0",
            "P 1500000000 2000 1",
            "P 2500000000 3000 3",
            "DONE 3000000000 3000 3 1 3000",
        ]);
        let ping = l(&[
            "S 0 950000000",
            "R 0 950100000",
            "S 1 1005000000",
            "S 2 1015000000",
            "R 2 1015100000",
            "S 3 2005000000",
            "S 4 2100000000",
            "R 4 2100100000",
        ]);
        let ev = parse_events(&recv, &send, &ping);
        let moves = [
            mv(Place::Home, Place::Fa1, 1_000_000_000, 1_010_000_000),
            mv(Place::Fa1, Place::Home, 2_000_000_000, 2_010_000_000),
        ];
        let r = analyse(&moves, &ev, 2_900_000_000);
        assert_eq!(r.len(), 2);
        assert!((r[0].handoff_ms.unwrap() - 15.1).abs() < 1e-6);
        assert!((r[0].stream_resume_ms.unwrap() - 300.0).abs() < 1e-6);
        assert_eq!((r[0].pings_sent, r[0].packets_lost), (2, 1));
        assert_eq!(r[0].tcp_retransmits, 1);
        assert!((r[1].handoff_ms.unwrap() - 100.1).abs() < 1e-6);
        assert!((r[1].stream_resume_ms.unwrap() - 250.0).abs() < 1e-6);
        assert_eq!((r[1].pings_sent, r[1].packets_lost), (2, 1));
        assert_eq!(r[1].tcp_retransmits, 2);
        assert_eq!(ev.recv_done, Some((3000, true, -1, true)));
        assert_eq!(ev.send_done, Some((3000, 3, true)));
    }
}
