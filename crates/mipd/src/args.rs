//! Command line.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mip_config::Format;

/// Where the daemon keeps its bindings and replay state by default.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/mipd";

/// `mipd`: the Mobile IPv4 home agent daemon.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "mipd",
    version,
    about = "Mobile IPv4 home agent daemon (RFC 5944)",
    long_about = "Mobile IPv4 home agent daemon (RFC 5944).\n\n\
        Serves Registration Requests on UDP port 434, keeps mobility bindings and replay \
        state in a crash-safe store, and answers `mipctl` on a Unix control socket.\n\
        SIGHUP reloads the configuration (a broken one is refused and the running one \
        kept); SIGTERM or SIGINT stops the daemon cleanly."
)]
pub struct Args {
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
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for bad in [
            &[][..],
            &["--config", "x", "--format", "xml"],
            &["--config", "x", "--listen", "nowhere"],
            &["--config", "x", "--frobnicate"],
            &["--config", "x", "--fsync-interval-ms", "-1"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }
}
