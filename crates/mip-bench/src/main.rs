//! `mip-bench`: see the crate documentation and `mip-bench --help`.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use mip_bench::alloc::CountingAllocator;
use mip_bench::compare::compare;
use mip_bench::config::write_config_as;
use mip_bench::core::{format_core, run_core, CoreOptions};
use mip_bench::echo::{self, EchoOptions};
use mip_bench::mini_ha::{self, MiniHaOptions};
use mip_bench::population::{AuthAlgorithm, Network, Population};
use mip_bench::run::{
    check_local_target, format_phase, format_report, local_addresses, run, Load, RunOptions,
};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Load generator and benchmarks for the Mobile IPv4 home agent.
#[derive(Parser)]
#[command(name = "mip-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a mipd TOML configuration for N mobile nodes (to stdout, or --output).
    Config(ConfigArgs),
    /// Play N mobile nodes against a home agent (or `mip-bench echo`) over UDP.
    Run(RunArgs),
    /// Answer every datagram with a reply-sized one: the baseline for `run`.
    Echo(EchoArgs),
    /// Run the same load against `mip-bench echo` and against --target; print the ratio.
    Compare(CompareArgs),
    /// The mip-ha core behind the echo's socket loop (no store, no data plane): an upper
    /// bound for mipd, not a home agent to deploy.
    MiniHa(MiniHaArgs),
    /// Drive the home agent core in process (no sockets): registrations/s, bytes per
    /// binding, restore time.
    Core(CoreArgs),
}

#[derive(Args, Clone)]
struct PopulationArgs {
    /// Number of mobile nodes.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=16_000_000))]
    nodes: u32,
    /// Seed of the keys: node i's key is HMAC-MD5(seed, i as 4 bytes big-endian).
    #[arg(long, default_value = "mip-bench")]
    seed: String,
    /// MN-HA authentication algorithm.
    #[arg(long, value_enum, default_value_t = AuthAlgorithm::HmacMd5)]
    algorithm: AuthAlgorithm,
    /// Home network (a virtual network of the home agent); node i is network + 1 + i.
    #[arg(long, default_value = "10.0.0.0/8")]
    network: Network,
}

impl PopulationArgs {
    fn population(&self) -> Result<Population, String> {
        Population::new(self.network, self.nodes, &self.seed, self.algorithm)
    }
}

#[derive(Args)]
struct ConfigArgs {
    #[command(flatten)]
    population: PopulationArgs,
    /// The home agent's address (the Home Agent field of the requests).
    #[arg(long, default_value = "127.0.0.1")]
    home_agent: Ipv4Addr,
    /// Write here (mode 0600) instead of stdout.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    /// Form of the configuration: toml or ios (the router form, `ip mobile ...` lines;
    /// loads ~4x faster, use it for large populations). Default: ios for an --output ending
    /// in .ios (as mipd decides), toml otherwise.
    #[arg(long)]
    format: Option<mip_config::Format>,
}

#[derive(Args, Clone)]
struct LoadArgs {
    /// The home agent, HOST:PORT (loopback or a local address only).
    #[arg(long)]
    target: SocketAddrV4,
    #[command(flatten)]
    population: PopulationArgs,
    /// Home Agent field of the requests (default: the target's address).
    #[arg(long)]
    home_agent: Option<Ipv4Addr>,
    /// Open loop: requests per second.
    #[arg(long, conflicts_with = "in_flight")]
    rate: Option<f64>,
    /// Pin the generator to this CPU (default: not pinned). With `compare`, see also
    /// `--echo-cpu`.
    #[arg(long, value_name = "N")]
    cpu: Option<usize>,
    /// Closed loop: requests outstanding (default 256 when no --rate).
    #[arg(long)]
    in_flight: Option<u32>,
    /// Seconds of sending in the measured phase (at most 3600).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Also send this many requests per second with a wrong authenticator.
    #[arg(long, default_value_t = 0.0)]
    bad_auth_rate: f64,
    /// First register every node once (bindings resident), then measure.
    #[arg(long)]
    preload: bool,
    /// Requests in flight during the preload.
    #[arg(long, default_value_t = 256)]
    preload_in_flight: u32,
    /// Seconds to wait after the preload before measuring (steady state rather than the
    /// target's catching up with a million new bindings).
    #[arg(long, default_value_t = 0.0)]
    settle: f64,
    /// UDP sockets for the valid requests (node i uses socket i mod S).
    #[arg(long, default_value_t = 4)]
    sockets: usize,
    /// Datagrams per sendmmsg/recvmmsg.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// A request unanswered after this many milliseconds is a timeout.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Verify the MN-HA authenticator of one reply in this many (0: never).
    #[arg(long, default_value_t = 16)]
    verify_every: u32,
    /// Lifetime requested, seconds.
    #[arg(long, default_value_t = 3600)]
    lifetime: u16,
    /// Stop the measured phase after this many requests.
    #[arg(long)]
    max_requests: Option<u64>,
    /// Open-loop send tick, microseconds.
    #[arg(long, default_value_t = 200)]
    tick_us: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl LoadArgs {
    fn options(&self) -> Result<RunOptions, String> {
        check_local_target(*self.target.ip(), &local_addresses())?;
        if !(self.duration > 0.0 && self.duration <= 3600.0) {
            return Err("--duration must be in (0, 3600] seconds".into());
        }
        let load = match (self.rate, self.in_flight) {
            (Some(r), _) if !(r > 0.0 && r <= 10_000_000.0) => {
                return Err("--rate must be in (0, 10 000 000]".into())
            }
            (Some(r), _) => Load::Rate(r),
            (None, Some(0)) => return Err("--in-flight must be at least 1".into()),
            (None, Some(k)) => Load::InFlight(k),
            (None, None) => Load::InFlight(256),
        };
        if !(0.0..=10_000_000.0).contains(&self.bad_auth_rate) {
            return Err("--bad-auth-rate must be in [0, 10 000 000]".into());
        }
        if !(1..=64).contains(&self.sockets) {
            return Err("--sockets must be 1-64".into());
        }
        Ok(RunOptions {
            target: self.target,
            population: self.population.population()?,
            home_agent: self.home_agent.unwrap_or(*self.target.ip()),
            load,
            duration: Duration::from_secs_f64(self.duration),
            bad_auth_rate: self.bad_auth_rate,
            sockets: self.sockets,
            batch: self.batch.clamp(1, 1024),
            timeout: Duration::from_millis(self.timeout_ms.clamp(1, 60_000)),
            verify_every: self.verify_every,
            preload: self.preload,
            preload_in_flight: self.preload_in_flight.max(1),
            settle: Duration::from_secs_f64(self.settle.clamp(0.0, 600.0)),
            lifetime: self.lifetime,
            max_requests: self.max_requests.unwrap_or(u64::MAX),
            tick: Duration::from_micros(self.tick_us.clamp(10, 100_000)),
        })
    }
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Threads of the echo responder.
    #[arg(long, default_value_t = 1)]
    echo_threads: usize,
    /// Pin the echo responder to this CPU (give it the CPU the home agent is pinned to,
    /// `mipd --cpu`, so that both targets run under the same conditions).
    #[arg(long, value_name = "N")]
    echo_cpu: Option<usize>,
}

#[derive(Args)]
struct EchoArgs {
    /// ADDR:PORT to listen on (loopback or local; port 0 picks one, printed on stdout).
    #[arg(long)]
    listen: SocketAddrV4,
    /// Threads, each with its own SO_REUSEPORT socket.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Pin the responder (all its threads) to this CPU.
    #[arg(long, value_name = "N")]
    cpu: Option<usize>,
    /// Stop after this many seconds (at most 86400).
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Stop after this many seconds without a datagram.
    #[arg(long, default_value_t = 60)]
    idle: u64,
    /// Stop after this many datagrams.
    #[arg(long)]
    max_packets: Option<u64>,
    /// Print the final report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct MiniHaArgs {
    /// The configuration (TOML, e.g. from `mip-bench config`).
    #[arg(long)]
    config: std::path::PathBuf,
    /// ADDR:PORT to listen on (loopback or local; port 0 picks one, printed on stdout).
    #[arg(long)]
    listen: SocketAddrV4,
    /// Datagrams per recvmmsg/sendmmsg.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Stop after this many seconds (at most 86400).
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Stop after this many seconds without a datagram.
    #[arg(long, default_value_t = 60)]
    idle: u64,
    /// Turn off the per-host counters.
    #[arg(long)]
    no_host_counters: bool,
    /// Print the final report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CoreArgs {
    #[command(flatten)]
    population: PopulationArgs,
    /// The home agent's address.
    #[arg(long, default_value = "127.0.0.1")]
    home_agent: Ipv4Addr,
    /// Turn off the per-host counters (`show ip mobile host counters`).
    #[arg(long)]
    no_host_counters: bool,
    /// Lifetime requested, seconds.
    #[arg(long, default_value_t = 3600)]
    lifetime: u16,
    /// Renewal passes (the report shows the last; more make the request path dominate a
    /// profile).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    renew_passes: u32,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    println!("{s}");
    Ok(())
}

fn cmd_config(a: &ConfigArgs) -> Result<(), String> {
    let pop = a.population.population()?;
    let format = a.format.unwrap_or_else(|| match &a.output {
        Some(path) => mip_config::Format::for_path(path),
        None => mip_config::Format::Toml,
    });
    match &a.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let mut w = io::BufWriter::with_capacity(1 << 20, f);
            write_config_as(&mut w, &pop, a.home_agent, format)
                .and_then(|()| w.flush())
                .map_err(|e| format!("{}: {e}", path.display()))
        }
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::with_capacity(1 << 20, stdout.lock());
            write_config_as(&mut w, &pop, a.home_agent, format)
                .and_then(|()| w.flush())
                .map_err(|e| e.to_string())
        }
    }
}

/// `--cpu`: pins the calling thread, or says why not.
fn pin(cpu: Option<usize>, what: &str) -> Result<(), String> {
    match cpu {
        Some(c) => mip_io::sys::pin_current_thread(c)
            .map_err(|e| format!("cannot pin the {what} to CPU {c}: {e}")),
        None => Ok(()),
    }
}

fn cmd_run(a: &RunArgs) -> Result<(), String> {
    let opts = a.load.options()?;
    pin(a.load.cpu, "generator")?;
    let report = run(&opts).map_err(|e| e.to_string())?;
    if a.load.json {
        print_json(&report)
    } else {
        print!("{}", format_report(&report));
        Ok(())
    }
}

fn cmd_compare(a: &CompareArgs) -> Result<(), String> {
    let opts = a.load.options()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    pin(a.load.cpu, "generator")?;
    let r = compare(&opts, &exe, a.echo_threads.clamp(1, 16), a.echo_cpu)?;
    if a.load.json {
        return print_json(&r);
    }
    println!("== echo responder {} ==", r.echo.target);
    if let Some(p) = &r.echo.preload {
        print!("{}", format_phase(p));
    }
    print!("{}", format_phase(&r.echo.measure));
    println!("== home agent {} ==", r.home_agent.target);
    if let Some(p) = &r.home_agent.preload {
        print!("{}", format_phase(p));
    }
    print!("{}", format_phase(&r.home_agent.measure));
    println!(
        "ratio: home agent {:.0} accepted/s / echo {:.0} replies/s = {:.3} (target >= 0.8)",
        r.home_agent.measure.accepted_per_s, r.echo.measure.replies_per_s, r.ratio
    );
    Ok(())
}

fn cmd_echo(a: &EchoArgs) -> Result<(), String> {
    check_local_target(*a.listen.ip(), &local_addresses()).or_else(|e| {
        if a.listen.ip().is_unspecified() {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    let opts = EchoOptions {
        listen: a.listen,
        threads: a.threads.clamp(1, 16),
        duration: Duration::from_secs(a.duration.clamp(1, 86_400)),
        idle: Duration::from_secs(a.idle.max(1)),
        max_packets: a.max_packets.unwrap_or(u64::MAX),
    };
    pin(a.cpu, "echo responder")?;
    let (socks, addr) = echo::bind(&opts).map_err(|e| format!("{}: {e}", a.listen))?;
    println!("listening on {addr}");
    let _ = io::stdout().flush();
    let r = echo::serve(socks, &opts);
    if a.json {
        print_json(&r)
    } else {
        println!(
            "echo: received {}, sent {} in {:.2} s, {:.2} µs CPU per datagram",
            r.received, r.sent, r.seconds, r.cpu_us_per_datagram
        );
        Ok(())
    }
}

fn cmd_mini_ha(a: &MiniHaArgs) -> Result<(), String> {
    check_local_target(*a.listen.ip(), &local_addresses())?;
    let loaded = mip_config::load(&a.config, None).map_err(|e| e.to_string())?;
    let opts = MiniHaOptions {
        listen: a.listen,
        batch: a.batch.clamp(1, 1024),
        duration: Duration::from_secs(a.duration.clamp(1, 86_400)),
        idle: Duration::from_secs(a.idle.max(1)),
        per_host_counters: !a.no_host_counters,
    };
    let (sock, addr) = mini_ha::bind(a.listen).map_err(|e| format!("{}: {e}", a.listen))?;
    println!("listening on {addr}");
    let _ = io::stdout().flush();
    let r = mini_ha::serve(&sock, &loaded.config, &opts);
    if a.json {
        print_json(&r)
    } else {
        println!(
            "mini-ha: received {}, sent {}, {} bindings, {:.2} s, {:.2} µs CPU per datagram",
            r.received, r.sent, r.bindings, r.seconds, r.cpu_us_per_datagram
        );
        Ok(())
    }
}

fn cmd_core(a: &CoreArgs) -> Result<(), String> {
    let opts = CoreOptions {
        population: a.population.population()?,
        home_agent: a.home_agent,
        per_host_counters: !a.no_host_counters,
        lifetime: a.lifetime,
        renew_passes: a.renew_passes,
    };
    let r = run_core(&opts)?;
    if a.json {
        print_json(&r)
    } else {
        print!("{}", format_core(&r));
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match &cli.command {
        Cmd::Config(a) => cmd_config(a),
        Cmd::Run(a) => cmd_run(a),
        Cmd::Echo(a) => cmd_echo(a),
        Cmd::Compare(a) => cmd_compare(a),
        Cmd::MiniHa(a) => cmd_mini_ha(a),
        Cmd::Core(a) => cmd_core(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mip-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
