//! `mip-bench compare`: the same load against the echo responder (a child `mip-bench echo`
//! process, so both targets are separate processes on the same cores) and then against the
//! home agent, and the ratio of the home agent's accepted registrations per second to the
//! echo's replies per second.
//!
//! The ratio means something only when both runs saturate their target: use a closed loop
//! (`--in-flight K`, the default) or an open-loop rate above what either can answer.

use std::io::{BufRead, BufReader};
use std::net::SocketAddrV4;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::Serialize;

use crate::run::{run, RunOptions, RunReport};

/// What `compare` reports.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    /// The run against the echo responder.
    pub echo: RunReport,
    /// The run against the home agent.
    pub home_agent: RunReport,
    /// `home_agent.accepted_per_s / echo.replies_per_s`.
    pub ratio: f64,
}

/// Kills the echo child when dropped (it would stop by itself when idle anyway).
struct EchoChild(Child);

impl Drop for EchoChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `exe echo` (pinned to `cpu` if given) on an ephemeral loopback port; returns the
/// child and its address.
fn spawn_echo(
    exe: &Path,
    threads: usize,
    cpu: Option<usize>,
) -> Result<(EchoChild, SocketAddrV4), String> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--threads",
        &threads.to_string(),
        "--duration",
        "3600",
        "--idle",
        "120",
    ]);
    if let Some(c) = cpu {
        cmd.args(["--cpu", &c.to_string()]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let child = EchoChild(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("echo responder: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("echo responder said {line:?}"))?;
    Ok((child, addr))
}

/// Runs both loads; `opts.target` is the home agent.
///
/// # Errors
/// The echo responder could not be started, or a run could not open its sockets.
pub fn compare(
    opts: &RunOptions,
    exe: &Path,
    echo_threads: usize,
    echo_cpu: Option<usize>,
) -> Result<CompareReport, String> {
    let (child, echo_addr) = spawn_echo(exe, echo_threads, echo_cpu)?;
    let echo_opts = RunOptions {
        target: echo_addr,
        verify_every: 0,
        ..opts.clone()
    };
    let echo = run(&echo_opts).map_err(|e| format!("run against the echo responder: {e}"))?;
    drop(child);
    let home_agent = run(opts).map_err(|e| format!("run against {}: {e}", opts.target))?;
    let base = echo.measure.replies_per_s;
    let ratio = if base > 0.0 {
        home_agent.measure.accepted_per_s / base
    } else {
        0.0
    };
    Ok(CompareReport {
        echo,
        home_agent,
        ratio,
    })
}
