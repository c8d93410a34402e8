//! What the agents' tunnel engines did during a measurement: the CPU time of their threads
//! (named `tunnel-<device>` by `mip_io::net::engine`) and their packet counters (`show ip
//! mobile tunnel` over the agent's control socket; the TUN devices' `tx_dropped` for what
//! the kernel dropped in front of an engine), sampled before and after a test. Their quotient is the engine's rate **per
//! core**: packets handled per second of CPU time its threads used, which is what the
//! data-plane target ("≥ 250 000 packets/s of 64 bytes per core") is about. On veth the
//! kernel's work for a packet the engine sends (forwarding in the router's namespace, IP
//! input at the far agent) runs on the sending thread's CPU and is charged to it, so the
//! figure is a lower bound for an engine sending onto a physical link.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mip_control::views::TunnelList;
use mip_control::{Request, Response};
use serde::Serialize;

use crate::sh;

/// One agent's engine at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineSample {
    /// utime + stime of the engine threads, in clock ticks.
    pub cpu_ticks: u64,
    /// Packets encapsulated and sent, summed over the agent's tunnels (`packets_out`).
    pub encapsulated: u64,
    /// Packets decapsulated (`packets_in`).
    pub decapsulated: u64,
    /// Packets the kernel routed into the agent's TUN devices and dropped because the engine
    /// had not read the queue in time (the devices' `tx_dropped`).
    pub dropped: u64,
}

/// utime + stime (fields 14 and 15 of `/proc/PID/task/TID/stat`) of the threads of `pid`
/// whose name starts with `tunnel-`. `None` when the process is gone.
pub fn engine_cpu_ticks(pid: i32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ticks = 0;
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        if let Some((comm, utime, stime)) = parse_task_stat(&stat) {
            if comm.starts_with("tunnel-") {
                ticks += utime + stime;
            }
        }
    }
    Some(ticks)
}

/// `(comm, utime, stime)` of a `/proc/PID/task/TID/stat` line. The name is between the first
/// `(` and the last `)` (it may contain both); utime and stime are the 12th and 13th fields
/// after it.
pub fn parse_task_stat(stat: &str) -> Option<(&str, u64, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let mut rest = stat.get(close + 1..)?.split_whitespace().skip(11);
    let utime = rest.next()?.parse().ok()?;
    let stime = rest.next()?.parse().ok()?;
    Some((comm, utime, stime))
}

/// `tx_dropped` summed over the TUN devices of namespace `ns` (devices with a `tun_flags`
/// attribute), read with `ip netns exec` (sysfs shows the namespace of its mounter).
fn tun_dropped(ns: &str) -> Option<u64> {
    let script = "for d in /sys/class/net/*; do [ -e \"$d/tun_flags\" ] && \
                  cat $d/statistics/tx_dropped; done";
    let out = sh::netns_command(ns, "sh".as_ref())
        .args(["-c", script])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .sum(),
    )
}

/// `(packets_out, packets_in)` summed over the tunnels of a `show ip mobile tunnel` answer.
fn sum_tunnels(list: &TunnelList) -> (u64, u64) {
    list.tunnels
        .iter()
        .fold((0, 0), |(o, i), t| (o + t.packets_out, i + t.packets_in))
}

/// `show ip mobile tunnel` from the agent's control socket.
fn show_tunnel(socket: &Path) -> Option<TunnelList> {
    let stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut line = serde_json::to_string(&Request::ShowTunnel).ok()?;
    line.push('\n');
    (&stream).write_all(line.as_bytes()).ok()?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).ok()?;
    let r: Response = serde_json::from_str(answer.trim_end()).ok()?;
    serde_json::from_value(r.data?).ok()
}

/// Samples the engine of an agent.
pub fn sample(a: &Watched) -> Option<EngineSample> {
    let cpu_ticks = engine_cpu_ticks(a.pid)?;
    let (encapsulated, decapsulated) = sum_tunnels(&show_tunnel(&a.socket)?);
    Some(EngineSample {
        cpu_ticks,
        encapsulated,
        decapsulated,
        dropped: tun_dropped(&a.ns).unwrap_or(0),
    })
}

/// What one engine did between two samples.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EngineLoad {
    /// Packets per second, in the direction that matters for the agent (home agent: into
    /// the tunnel, encapsulated; foreign agent: out of it, decapsulated).
    pub packets_per_s: f64,
    /// CPU seconds per second the engine threads used (1.0: one whole core).
    pub cores: f64,
    /// `packets_per_s / cores`: packets per second of one core's time.
    pub packets_per_core: f64,
    /// Packets the kernel dropped in front of the engine (its TUN queue was full).
    pub dropped: u64,
}

/// Which counter a role's rate is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Routed into the TUN device and encapsulated by the engine (home agent).
    Encapsulated,
    /// Decapsulated and written into the TUN device (foreign agent).
    Decapsulated,
}

/// The load between `a` (taken at `ta`) and `b` (at `tb`); `None` if the engine used no
/// measurable CPU time (less than a tick) or the interval is empty.
pub fn load(
    a: EngineSample,
    b: EngineSample,
    seconds: f64,
    ticks_per_second: f64,
    dir: Direction,
) -> Option<EngineLoad> {
    if seconds <= 0.0 || ticks_per_second <= 0.0 {
        return None;
    }
    let packets = match dir {
        Direction::Encapsulated => b.encapsulated.saturating_sub(a.encapsulated),
        Direction::Decapsulated => b.decapsulated.saturating_sub(a.decapsulated),
    } as f64;
    let ticks = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64;
    if ticks == 0.0 {
        return None;
    }
    let cores = ticks / ticks_per_second / seconds;
    let packets_per_s = packets / seconds;
    Some(EngineLoad {
        packets_per_s,
        cores,
        packets_per_core: packets_per_s / cores,
        dropped: b.dropped.saturating_sub(a.dropped),
    })
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// An agent whose engine is watched: its namespace and pid.
#[derive(Clone, Debug)]
pub struct Watched {
    /// Namespace.
    pub ns: String,
    /// Process id of its `mipd`.
    pub pid: i32,
    /// Its control socket.
    pub socket: PathBuf,
}

/// Samples of the home agent's engine and of the engine at the tunnel's far end (the
/// foreign agent's, or the mobile node's own with a co-located care-of address) around one
/// test.
pub struct Watch {
    ha: Watched,
    far: Watched,
    start: Instant,
    before: (Option<EngineSample>, Option<EngineSample>),
}

/// Both engines' load during one test.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AgentsLoad {
    /// The home agent's engine: packets encapsulated into the tunnel.
    pub home_agent: Option<EngineLoad>,
    /// The engine at the far end (foreign agent or mobile node): packets decapsulated.
    pub far_end: Option<EngineLoad>,
}

impl Watch {
    /// Starts watching the home agent's engine and the far end's.
    pub fn start(ha: Watched, far: Watched) -> Watch {
        let before = (sample(&ha), sample(&far));
        Watch {
            ha,
            far,
            start: Instant::now(),
            before,
        }
    }

    /// The load since [`Watch::start`].
    pub fn finish(self) -> AgentsLoad {
        let after = (sample(&self.ha), sample(&self.far));
        let secs = self.start.elapsed().as_secs_f64();
        let tps = ticks_per_second();
        let pair = |a: Option<EngineSample>, b: Option<EngineSample>, d| load(a?, b?, secs, tps, d);
        AgentsLoad {
            home_agent: pair(self.before.0, after.0, Direction::Encapsulated),
            far_end: pair(self.before.1, after.1, Direction::Decapsulated),
        }
    }
}

impl AgentsLoad {
    /// One line per engine, for the reports.
    pub fn text(&self, indent: &str) -> String {
        let mut s = String::new();
        for (who, what, l) in [
            ("home agent", "encapsulated", &self.home_agent),
            ("far end", "decapsulated", &self.far_end),
        ] {
            match l {
                Some(l) => s.push_str(&format!(
                    "{indent}{who} engine: {:.0} pkt/s {what} on {:.2} cores = {:.0} pkt/s per \
                     core{}\n",
                    l.packets_per_s,
                    l.cores,
                    l.packets_per_core,
                    if l.dropped > 0 {
                        format!(" ({} dropped in front of it)", l.dropped)
                    } else {
                        String::new()
                    }
                )),
                None => s.push_str(&format!("{indent}{who} engine: not measured\n")),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_stat_fields_after_a_name_with_parentheses() {
        // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
        // cmajflt utime stime ...
        let line = "4242 (tunnel-mi) x) S 1 4242 4242 0 -1 4194368 10 0 0 0 1234 567 0 0 20 0";
        assert_eq!(parse_task_stat(line), Some(("tunnel-mi) x", 1234, 567)));
        assert_eq!(parse_task_stat("4242 (x) S 1 2"), None);
        assert_eq!(parse_task_stat("garbage"), None);
    }

    #[test]
    fn this_threads_stat_parses() {
        let me = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let (comm, _, _) = parse_task_stat(&me).unwrap();
        assert!(!comm.is_empty());
    }

    #[test]
    fn tunnel_counters_are_summed() {
        let list: TunnelList = serde_json::from_value(serde_json::json!({
            "total": 2,
            "tunnels": [
                {"name": "Tunnel0", "source": "10.0.2.2", "destination": "10.20.0.1",
                 "encapsulation": "ip-ip", "reverse_allowed": true, "users": 1,
                 "packets_in": 5, "packets_out": 100},
                {"name": "Tunnel1", "source": "10.0.2.2", "destination": "10.30.0.1",
                 "encapsulation": "ip-ip", "reverse_allowed": false, "users": 1,
                 "packets_in": 7, "packets_out": 20}
            ]
        }))
        .unwrap();
        assert_eq!(sum_tunnels(&list), (120, 12));
    }

    #[test]
    fn load_is_packets_per_cpu_second() {
        let a = EngineSample {
            cpu_ticks: 100,
            encapsulated: 1_000,
            decapsulated: 50,
            dropped: 3,
        };
        let b = EngineSample {
            cpu_ticks: 250, // 1.5 s of CPU at 100 ticks/s
            encapsulated: 601_000,
            decapsulated: 60,
            dropped: 10,
        };
        let l = load(a, b, 3.0, 100.0, Direction::Encapsulated).unwrap();
        assert_eq!(l.packets_per_s, 200_000.0);
        assert_eq!(l.cores, 0.5);
        assert_eq!(l.packets_per_core, 400_000.0);
        assert_eq!(l.dropped, 7);
        let l = load(a, b, 2.0, 100.0, Direction::Decapsulated).unwrap();
        assert_eq!(l.packets_per_s, 5.0);
        // No CPU time, or no interval: nothing to say.
        assert_eq!(load(a, a, 3.0, 100.0, Direction::Encapsulated), None);
        assert_eq!(load(a, b, 0.0, 100.0, Direction::Encapsulated), None);
    }
}
