//! **The hook where the Mobile IP agents plug in.**
//!
//! [`start_agents`] starts one `mipd` per agent namespace with its configuration from
//! `examples/lab/` ([`AGENTS`]): the home agent in `ha`, foreign agents in `fa1` and `fa2`, the
//! mobile node client in `mn`. The command line is built in one place, [`mipd_args`]:
//!
//! ```text
//! ip netns exec mip-<id>-<node> mipd --role <role> --config examples/lab/<node>.toml \
//!     --state-dir <run>/<node>/state --control-socket <run>/<node>/mipd.sock \
//!     --log-level debug          (stdout+stderr -> <run>/<node>/mipd.log)
//! ```
//!
//! where `<run>` is `/tmp/mip-lab-<id>`. Until `mipd --help` mentions `--role` and all
//! three role names ([`ROLES_NEEDED`]), the agents are skipped with a clear message and the
//! demo runs on (moves away from home then fail, which is the truth). `--mipd PATH` or
//! `MIP_LAB_MIPD` choose the binary (default: `mipd` next to `mip-lab`, then `$PATH`);
//! `--lab-config DIR` or `MIP_LAB_CONFIG_DIR` the configuration directory, `--mn-config FILE`
//! another mobile node configuration (flags, lifetime, key).
//!
//! After starting, [`start_agents`] waits until every control socket exists (the daemon is
//! serving) and [`AGENT_SETTLE`] more; [`Agents`] stops them with SIGTERM on drop (and the
//! lab guard kills whatever is left before the namespaces go).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::plan::{Lab, Node};
use crate::proc::Proc;

/// One agent the lab starts.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AgentSpec {
    /// Namespace.
    pub node: Node,
    /// `mipd --role` value.
    pub role: &'static str,
    /// Configuration file name in the lab configuration directory.
    pub config: &'static str,
}

/// The agents, in start order (home agent first, mobile node last).
pub const AGENTS: [AgentSpec; 4] = [
    AgentSpec {
        node: Node::Ha,
        role: "home-agent",
        config: "ha.toml",
    },
    AgentSpec {
        node: Node::Fa1,
        role: "foreign-agent",
        config: "fa1.toml",
    },
    AgentSpec {
        node: Node::Fa2,
        role: "foreign-agent",
        config: "fa2.toml",
    },
    AgentSpec {
        node: Node::Mn,
        role: "mobile-node",
        config: "mn.toml",
    },
];

/// What `mipd --help` must mention for the lab to start agents.
pub const ROLES_NEEDED: [&str; 4] = ["--role", "home-agent", "foreign-agent", "mobile-node"];

/// Extra time after the control sockets appear, for the first advertisements.
pub const AGENT_SETTLE: Duration = Duration::from_millis(500);

/// Options of the agents hook.
#[derive(Clone, Debug, Default)]
pub struct AgentOpts {
    /// The `mipd` binary (else `MIP_LAB_MIPD`, `mipd` beside this executable, `$PATH`).
    pub mipd: Option<PathBuf>,
    /// The configuration directory (else `MIP_LAB_CONFIG_DIR`, the workspace's
    /// `examples/lab`, `./examples/lab`).
    pub config_dir: Option<PathBuf>,
    /// The mobile node's configuration file, instead of `mn.toml` in the configuration
    /// directory (`--mn-config`: a copy with other flags, lifetime or key).
    pub mn_config: Option<PathBuf>,
    /// `mipd --tunnel-tx` for every agent (`raw` or `packet`); `None`: mipd's default.
    pub tunnel_tx: Option<String>,
}

/// The result of [`start_agents`].
pub enum AgentsOutcome {
    /// All agents run.
    Started(Agents),
    /// Not started; the reason, for the operator.
    Skipped(String),
}

/// The running agents.
pub struct Agents {
    procs: Vec<Proc>,
    /// The node of each entry of `procs`.
    nodes: Vec<Node>,
    /// Where their logs are.
    pub run_dir: PathBuf,
}

impl Agents {
    /// Stops every agent (SIGTERM, then SIGKILL after 2 s).
    pub fn stop(&mut self) {
        for p in &mut self.procs {
            crate::sh::signal(p.pid(), libc::SIGTERM);
        }
        for p in &mut self.procs {
            p.finish(Duration::from_secs(2));
        }
    }

    /// The control socket of the agent in `node` (for `mipctl --socket`).
    pub fn socket(&self, node: Node) -> PathBuf {
        self.run_dir.join(node.name()).join("mipd.sock")
    }

    /// The log (stdout and stderr) of the agent in `node`.
    pub fn log(&self, node: Node) -> PathBuf {
        self.run_dir.join(node.name()).join("mipd.log")
    }

    /// The pid of the agent in `node`, if the lab started one there.
    pub fn pid(&self, node: Node) -> Option<i32> {
        let i = self.nodes.iter().position(|&n| n == node)?;
        Some(self.procs[i].pid())
    }

    /// Sends `sig` to the agent in `node` and, unless it is caught (SIGKILL, SIGTERM), waits
    /// up to 2 s for it to exit. Returns whether it has exited.
    pub fn signal(&mut self, node: Node, sig: i32) -> bool {
        let Some(i) = self.nodes.iter().position(|&n| n == node) else {
            return false;
        };
        let p = &mut self.procs[i];
        crate::sh::signal(p.pid(), sig);
        let deadline = Instant::now() + Duration::from_secs(2);
        while !p.has_exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        p.has_exited()
    }

    /// The agents that have exited (a daemon that exits early is an error for the demo).
    pub fn exited(&mut self) -> Vec<String> {
        self.procs
            .iter_mut()
            .filter_map(|p| p.has_exited().then(|| p.name().to_string()))
            .collect()
    }
}

impl Drop for Agents {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Finds the `mipd` binary.
pub fn find_mipd(opts: &AgentOpts) -> Option<PathBuf> {
    if let Some(p) = &opts.mipd {
        return Some(p.clone());
    }
    if let Some(p) = std::env::var_os("MIP_LAB_MIPD") {
        return Some(PathBuf::from(p));
    }
    if let Ok(me) = std::env::current_exe() {
        // target/<profile>/mip-lab, or target/<profile>/deps/<test> under cargo test.
        for dir in me.ancestors().skip(1).take(2) {
            let c = dir.join("mipd");
            if c.is_file() {
                return Some(c);
            }
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("mipd"))
            .find(|p| p.is_file())
    })
}

/// The lab configuration directory.
pub fn config_dir(opts: &AgentOpts) -> PathBuf {
    if let Some(d) = &opts.config_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("MIP_LAB_CONFIG_DIR") {
        return PathBuf::from(d);
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab");
    if ws.is_dir() {
        return ws;
    }
    PathBuf::from("examples/lab")
}

/// Checks that `mipd` has the roles: `Err(reason)` otherwise.
pub fn probe(mipd: &Path) -> Result<(), String> {
    let out = Command::new(mipd)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", mipd.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let missing: Vec<&str> = ROLES_NEEDED
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} --help does not offer {} yet",
            mipd.display(),
            missing.join(", ")
        ))
    }
}

/// The run directory of a lab's agents.
pub fn run_dir(lab: &Lab) -> PathBuf {
    PathBuf::from(format!("/tmp/mip-lab-{}", lab.id()))
}

/// The `mipd` arguments for one agent: **the contract with `mipd`**.
pub fn mipd_args(spec: &AgentSpec, config_dir: &Path, run_dir: &Path) -> Vec<String> {
    let dir = run_dir.join(spec.node.name());
    vec![
        "--role".into(),
        spec.role.into(),
        "--config".into(),
        config_dir.join(spec.config).display().to_string(),
        "--state-dir".into(),
        dir.join("state").display().to_string(),
        "--control-socket".into(),
        dir.join("mipd.sock").display().to_string(),
        "--log-level".into(),
        "debug".into(),
    ]
}

/// **Hook: starts the Mobile IP agents in their namespaces**, or says why not.
pub fn start_agents(lab: &Lab, opts: &AgentOpts) -> Result<AgentsOutcome, String> {
    let Some(mipd) = find_mipd(opts) else {
        return Ok(AgentsOutcome::Skipped(
            "no mipd binary found (build it: cargo build --release -p mipd; or pass --mipd PATH)"
                .into(),
        ));
    };
    if let Err(why) = probe(&mipd) {
        return Ok(AgentsOutcome::Skipped(format!(
            "{why}: mipd lacks the home-agent/foreign-agent/mobile-node roles"
        )));
    }
    let cfg = config_dir(opts);
    let run = run_dir(lab);
    let mut procs = Vec::new();
    let mut nodes = Vec::new();
    let mipd_os: OsString = mipd.clone().into_os_string();
    for spec in &AGENTS {
        let dir = run.join(spec.node.name());
        // A fresh start: no bindings, replay state or stale socket of an earlier run.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("mipd.log"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut args = mipd_args(spec, &cfg, &run);
        if let Some(tx) = &opts.tunnel_tx {
            args.extend(["--tunnel-tx".to_string(), tx.clone()]);
        }
        if let (Node::Mn, Some(mn)) = (spec.node, &opts.mn_config) {
            if let Some(i) = args.iter().position(|a| a == "--config") {
                args[i + 1] = mn.display().to_string();
            }
        }
        let p = Proc::spawn(
            &format!("mipd {} in {}", spec.role, spec.node),
            &lab.ns(spec.node),
            &mipd_os,
            &args,
            Stdio::from(log),
        )?;
        procs.push(p);
        nodes.push(spec.node);
    }
    let mut agents = Agents {
        procs,
        nodes,
        run_dir: run.clone(),
    };
    // Ready when every control socket exists.
    let deadline = Instant::now() + Duration::from_secs(10);
    for spec in &AGENTS {
        let sock = run.join(spec.node.name()).join("mipd.sock");
        while !sock.exists() {
            let dead = agents.exited();
            if !dead.is_empty() {
                return Err(format!(
                    "{} exited at start; logs in {}",
                    dead.join(", "),
                    run.display()
                ));
            }
            if Instant::now() > deadline || crate::guard::stop_requested() {
                return Err(format!(
                    "{} did not open {} within 10 s; logs in {}",
                    spec.role,
                    sock.display(),
                    run.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    crate::guard::sleep(AGENT_SETTLE);
    Ok(AgentsOutcome::Started(agents))
}
