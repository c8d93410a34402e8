//! Command line.

use mip_io::net::engine::{EngineConfig, TxMode};
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mip_config::Format;

/// Where the daemon keeps its bindings and replay state by default.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/mipd";

/// `mipd`: the Mobile IPv4 daemon.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "mipd",
    version,
    about = "Mobile IPv4 daemon (RFC 5944): home agent, foreign agent, mobile node",
    long_about = "Mobile IPv4 daemon (RFC 5944): home agent, foreign agent or mobile node \
        (--role home-agent | foreign-agent | mobile-node; default home-agent).\n\n\
        The home agent serves Registration Requests on UDP port 434, keeps mobility bindings \
        and replay state in a crash-safe store and tunnels to care-of addresses. The foreign \
        agent advertises on its foreign-service interfaces, relays registrations with a \
        pending table, keeps the visitor list and delivers to visitors without ARP. Both \
        answer `mipctl` on a Unix control socket.\n\
        SIGHUP reloads the configuration (a broken one is refused and the running one \
        kept); SIGTERM or SIGINT stops the daemon cleanly."
)]
pub struct Args {
    /// The role: `home-agent` (default), `foreign-agent` or `mobile-node`.
    #[arg(long, value_name = "ROLE", value_enum, default_value_t = Role::HomeAgent)]
    pub role: Role,

    /// Configuration file: TOML, or the router form (`ip mobile ...` lines) for a `.ios` name.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Configuration form, overriding the file name's: `toml` or `ios`.
    #[arg(long, value_name = "toml|ios", value_parser = parse_format)]
    pub format: Option<Format>,

    /// State directory (bindings, replay state); created 0700 and locked.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,

    /// Control socket for `mipctl` (its directory is created 0750, the socket is 0660).
    #[arg(long, value_name = "PATH", default_value = mip_control::DEFAULT_SOCKET)]
    pub control_socket: PathBuf,

    /// UDP address and port for Registration Requests.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:434")]
    pub listen: SocketAddrV4,

    /// Load and validate the configuration, print the warnings, and exit (0 when valid).
    #[arg(long)]
    pub check_config: bool,

    /// Log level on standard error.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,

    /// Group commit: the store's journal is fdatasynced every N ms (0: after every batch).
    /// A process crash loses nothing either way; a power cut loses at most N ms.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub fsync_interval_ms: u64,

    /// Also write every data-plane request (tunnels, routes, ARP) to FILE as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub dataplane_log: Option<PathBuf>,

    /// The data plane: `tun` (TUN device + raw sockets + netlink: tunnels, host routes,
    /// proxy ARP, visitor entries) or `log` (record the requests, install nothing). Default:
    /// `tun` when running as root with /dev/net/tun present, else `log`.
    #[arg(long, value_name = "tun|log", value_enum)]
    pub dataplane: Option<DataplaneKind>,

    /// Pin the registration loop (the thread that receives, authenticates, stores and
    /// answers; home agent and foreign agent) to CPU N. Its helper threads (store sync and
    /// checkpoint, tunnel engine, control socket) are not pinned. Default: not pinned.
    #[arg(long, value_name = "N")]
    pub cpu: Option<usize>,

    /// How the tunnel engine (`--dataplane tun`) sends encapsulated packets: `raw` (an
    /// IPPROTO_RAW socket: the kernel routes, filters and queues each packet) or `packet` (an
    /// AF_PACKET socket straight to the next hop's MAC address, which the engine resolves
    /// from the kernel's routes and neighbours and refreshes every second; faster, but the
    /// outer packets bypass netfilter, the qdisc and policy routing at send time).
    #[arg(long, value_name = "raw|packet", value_enum, default_value_t = TunnelTx::Raw)]
    pub tunnel_tx: TunnelTx,

    /// TUN queues of the tunnel engine, one engine thread each (1..=16): the kernel spreads
    /// the flows routed into the tunnels over them, so encapsulation can use several cores.
    /// The first thread also decapsulates.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub tunnel_queues: u16,

    /// Pin the tunnel engine's threads: the first CPU for queue 0's thread, the next for
    /// queue 1's, and so on (e.g. `2,3`); a queue without a CPU is not pinned. Default: none
    /// pinned.
    #[arg(long, value_name = "CPU,...", value_delimiter = ',')]
    pub tunnel_cpus: Vec<usize>,
}

/// How the tunnel engine runs (`--tunnel-tx`, `--tunnel-queues`, `--tunnel-cpus`), for
/// every role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineTuning {
    /// Transmit mode.
    pub tx: TxMode,
    /// TUN queues (threads).
    pub queues: usize,
    /// CPUs of the queue threads, in queue order.
    pub cpus: Vec<usize>,
}

impl Default for EngineTuning {
    /// The engine's own defaults.
    fn default() -> Self {
        let c = EngineConfig::default();
        EngineTuning {
            tx: c.tx,
            queues: c.queues,
            cpus: c.cpu.into_iter().chain(c.queue_cpus).collect(),
        }
    }
}

impl EngineTuning {
    /// Applies it to an engine configuration.
    pub fn apply(&self, cfg: &mut EngineConfig) {
        cfg.tx = self.tx;
        cfg.queues = self.queues.max(1);
        cfg.cpu = self.cpus.first().copied();
        cfg.queue_cpus = self.cpus.iter().skip(1).copied().collect();
    }
}

impl Args {
    /// Checks what clap cannot: every `--tunnel-cpus` CPU is one this process may run on
    /// (`allowed`), and there are no more of them than queues.
    ///
    /// # Errors
    /// The message for the operator.
    pub fn check_tunnel_cpus(&self, allowed: &[usize]) -> Result<(), String> {
        if self.tunnel_cpus.len() > usize::from(self.tunnel_queues) {
            return Err(format!(
                "--tunnel-cpus names {} CPUs for {} queue(s) (--tunnel-queues)",
                self.tunnel_cpus.len(),
                self.tunnel_queues
            ));
        }
        if let Some(c) = self.tunnel_cpus.iter().find(|c| !allowed.contains(c)) {
            return Err(format!(
                "--tunnel-cpus: CPU {c} is not available to this process (available: {})",
                allowed
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        Ok(())
    }

    /// The tunnel engine's settings from the command line.
    pub fn engine_tuning(&self) -> EngineTuning {
        EngineTuning {
            tx: self.tunnel_tx.mode(),
            queues: usize::from(self.tunnel_queues),
            cpus: self.tunnel_cpus.clone(),
        }
    }
}

/// `--tunnel-tx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TunnelTx {
    /// `IPPROTO_RAW` socket (the kernel routes each packet).
    Raw,
    /// `AF_PACKET` socket to the resolved next hop.
    Packet,
}

impl TunnelTx {
    /// The engine's mode.
    pub fn mode(self) -> TxMode {
        match self {
            TunnelTx::Raw => TxMode::Raw,
            TunnelTx::Packet => TxMode::Packet,
        }
    }
}

/// `--role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Home agent (RFC 5944 §3.8): bindings, tunnels to care-of addresses, proxy ARP.
    HomeAgent,
    /// Foreign agent (RFC 5944 §3.7): advertisements, relay, visitor list, delivery.
    ForeignAgent,
    /// Mobile node client (RFC 5944 §3.6): discovery, registration, moves.
    MobileNode,
}

impl Role {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::HomeAgent => "home-agent",
            Role::ForeignAgent => "foreign-agent",
            Role::MobileNode => "mobile-node",
        }
    }
}

/// `--dataplane`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataplaneKind {
    /// The user-space data plane of `mip_io::net` (needs CAP_NET_ADMIN + CAP_NET_RAW).
    Tun,
    /// Record and log the requests only.
    Log,
}

impl DataplaneKind {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DataplaneKind::Tun => "tun",
            DataplaneKind::Log => "log",
        }
    }
}

/// The data plane to use and why: `--dataplane` when given, else `tun` when the process
/// runs as root and `/dev/net/tun` exists, else `log`.
pub fn choose_dataplane(asked: Option<DataplaneKind>) -> (DataplaneKind, &'static str) {
    if let Some(k) = asked {
        return (k, "--dataplane");
    }
    if !running_as_root() {
        (DataplaneKind::Log, "default: not running as root")
    } else if !std::path::Path::new("/dev/net/tun").exists() {
        (DataplaneKind::Log, "default: /dev/net/tun is missing")
    } else {
        (DataplaneKind::Tun, "default: root with /dev/net/tun")
    }
}

fn running_as_root() -> bool {
    // The effective uid of this process, from /proc (no libc call needed).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Log levels of `--log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings (security violations, refused reloads).
    Warn,
    /// Start, stop, reloads, restored state.
    Info,
    /// Every registration accepted or denied, every data-plane request.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The `tracing` level.
    pub fn tracing(self) -> tracing::Level {
        match self {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Trace => tracing::Level::TRACE,
        }
    }
}

impl Args {
    /// The group-commit interval; `None` for a sync after every batch.
    pub fn fsync_interval(&self) -> Option<Duration> {
        (self.fsync_interval_ms > 0).then(|| Duration::from_millis(self.fsync_interval_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("mipd").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_overrides() {
        let a = parse(&["--config", "x.ios"]).unwrap();
        assert_eq!(a.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert_eq!(a.control_socket, PathBuf::from(mip_control::DEFAULT_SOCKET));
        assert_eq!(a.listen.to_string(), "0.0.0.0:434");
        assert_eq!(a.fsync_interval(), Some(Duration::from_millis(50)));
        assert_eq!(a.log_level, LogLevel::Info);
        assert_eq!(a.role, Role::HomeAgent);
        assert_eq!(a.dataplane, None);
        let a = parse(&[
            "--config",
            "x",
            "--format",
            "IOS",
            "--listen",
            "127.0.0.1:4434",
            "--fsync-interval-ms",
            "0",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert_eq!(a.format, Some(Format::Ios));
        assert_eq!(a.fsync_interval(), None);
        assert_eq!(a.log_level, LogLevel::Debug);
        for (word, role) in [
            ("home-agent", Role::HomeAgent),
            ("foreign-agent", Role::ForeignAgent),
            ("mobile-node", Role::MobileNode),
        ] {
            let a = parse(&["--config", "x", "--role", word]).unwrap();
            assert_eq!(a.role, role);
            assert_eq!(role.name(), word);
        }
        let a = parse(&["--config", "x", "--dataplane", "log"]).unwrap();
        assert_eq!(choose_dataplane(a.dataplane).0, DataplaneKind::Log);
        let a = parse(&["--config", "x", "--dataplane", "tun"]).unwrap();
        assert_eq!(
            choose_dataplane(a.dataplane),
            (DataplaneKind::Tun, "--dataplane")
        );
    }

    #[test]
    fn tunnel_queues_and_cpus_reach_the_engine_configuration() {
        let t = parse(&["--config", "x"]).unwrap().engine_tuning();
        assert_eq!(t, EngineTuning::default());
        let mut cfg = EngineConfig::default();
        t.apply(&mut cfg);
        assert_eq!((cfg.queues, cfg.cpu, cfg.queue_cpus.len()), (1, None, 0));
        let a = parse(&[
            "--config",
            "x",
            "--tunnel-queues",
            "3",
            "--tunnel-cpus",
            "1,0",
            "--tunnel-tx",
            "packet",
        ])
        .unwrap();
        let mut cfg = EngineConfig::default();
        a.engine_tuning().apply(&mut cfg);
        assert_eq!(cfg.queues, 3);
        assert_eq!(cfg.cpu, Some(1));
        assert_eq!(cfg.queue_cpus, vec![0]);
        assert_eq!(cfg.tx, TxMode::Packet);
        for bad in [
            &["--config", "x", "--tunnel-queues", "0"][..],
            &["--config", "x", "--tunnel-queues", "17"],
            &["--config", "x", "--tunnel-cpus", "a"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tunnel_cpus_must_be_available_and_not_outnumber_the_queues() {
        let a = parse(&[
            "--config",
            "x",
            "--tunnel-queues",
            "2",
            "--tunnel-cpus",
            "1,0",
        ])
        .unwrap();
        assert_eq!(a.check_tunnel_cpus(&[0, 1]), Ok(()));
        let e = a.check_tunnel_cpus(&[0]).unwrap_err();
        assert!(
            e.contains("CPU 1 is not available") && e.contains("available: 0"),
            "{e}"
        );
        let a = parse(&["--config", "x", "--tunnel-cpus", "0,1"]).unwrap();
        let e = a.check_tunnel_cpus(&[0, 1]).unwrap_err();
        assert!(e.contains("2 CPUs for 1 queue"), "{e}");
        // The real process: every CPU it may use passes.
        let allowed = mip_io::sys::allowed_cpus().unwrap();
        assert!(!allowed.is_empty());
        let list = allowed
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let n = allowed.len().min(16).to_string();
        let a = parse(&[
            "--config",
            "x",
            "--tunnel-queues",
            &n,
            "--tunnel-cpus",
            &list,
        ]);
        if allowed.len() <= 16 {
            assert_eq!(a.unwrap().check_tunnel_cpus(&allowed), Ok(()));
        }
    }

    #[test]
    fn tunnel_tx_defaults_to_raw_and_refuses_other_words() {
        assert_eq!(
            parse(&["--config", "x"]).unwrap().tunnel_tx.mode(),
            TxMode::Raw
        );
        let a = parse(&["--config", "x", "--tunnel-tx", "packet"]).unwrap();
        assert_eq!(a.tunnel_tx.mode(), TxMode::Packet);
        let a = parse(&["--config", "x", "--tunnel-tx", "raw"]).unwrap();
        assert_eq!(a.tunnel_tx.mode(), TxMode::Raw);
        assert!(parse(&["--config", "x", "--tunnel-tx", "xdp"]).is_err());
    }

    #[test]
    fn help_names_every_role() {
        use clap::CommandFactory;
        let help = Args::command().render_long_help().to_string();
        for w in [
            "--role",
            "home-agent",
            "foreign-agent",
            "mobile-node",
            "--dataplane",
        ] {
            assert!(help.contains(w), "{w} missing from --help:\n{help}");
        }
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for bad in [
            &[][..],
            &["--config", "x", "--format", "xml"],
            &["--config", "x", "--listen", "nowhere"],
            &["--config", "x", "--frobnicate"],
            &["--config", "x", "--fsync-interval-ms", "-1"],
            &["--config", "x", "--role", "proxy"],
            &["--config", "x", "--dataplane", "kernel"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }
}
