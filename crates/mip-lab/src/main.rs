//! `mip-lab`: build the Mobile IPv4 lab in network namespaces, move the mobile node, run the
//! roaming demo, the iperf3 baseline and the benchmarks (`bench-handoff`, `bench-throughput`).
//! See the library documentation for the plan.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use mip_lab::agents::AgentOpts;
use mip_lab::demo::{self, DemoOpts};
use mip_lab::guard;
use mip_lab::iperf::{self, IperfOpts};
use mip_lab::plan::{parse_moves, Lab, Place, PlanView};
use mip_lab::topology::{self, Mode};
use mip_lab::{bench, ping, sh, stream};

#[derive(Parser)]
#[command(
    name = "mip-lab",
    version,
    about = "Mobile IPv4 lab: a mobile node roams between networks in namespaces while a TCP \
             session to its home address runs",
    long_about = None
)]
struct Cli {
    /// Run id: namespaces are mip-<id>-<node>. Default: $MIP_LAB_ID, else "lab" for
    /// up/down/move/status and a fresh per-process id for demo, iperf and the benchmarks.
    #[arg(long, global = true, value_name = "ID")]
    id: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the addressing plan.
    Plan {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build the lab (removing leftovers of the same id first) and print the plan.
    Up {
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// Harness self-test mode: later moves also move plain host routes.
        #[arg(long)]
        no_mip: bool,
    },
    /// Remove the lab's namespaces and links (also after a crash).
    Down {
        /// Remove the labs of every run id.
        #[arg(long)]
        all: bool,
    },
    /// Move the mobile node's link: home, fa1, fa2 or coloc.
    Move {
        /// Where to.
        place: Place,
    },
    /// Show the lab's state.
    Status {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The roaming demo: up, agents, TCP stream + ping, moves, verdict, teardown.
    Demo {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Places to move to, in order.
        #[arg(long, default_value = "home,fa1,fa2,coloc,home")]
        moves: String,
        /// Harness self-test without Mobile IP: plain host routes follow the mobile node.
        #[arg(long)]
        no_mip: bool,
        /// Milliseconds at each place.
        #[arg(long, default_value_t = 1500)]
        dwell_ms: u64,
        /// Stream rate, bytes per second.
        #[arg(long, default_value_t = 200_000)]
        rate: u64,
        /// Ping interval, ms.
        #[arg(long, default_value_t = 10)]
        ping_interval_ms: u64,
        /// Seconds the sender waits at the end for the receiver to confirm the last byte.
        #[arg(long, default_value_t = 15)]
        drain_s: u64,
        /// Leave the lab up afterwards.
        #[arg(long)]
        keep: bool,
        #[command(flatten)]
        agents: AgentArgs,
    },
    /// iperf3 throughput cn -> mobile node: TCP, UDP 1400 B and 64 B (plain path baseline).
    Iperf {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Seconds per test.
        #[arg(long, default_value_t = 3)]
        seconds: u32,
        /// Where the mobile node is during the tests.
        #[arg(long, default_value = "home")]
        at: Place,
        /// Through Mobile IP (agents started; away from home via the home agent's tunnel).
        #[arg(long)]
        mip: bool,
        #[command(flatten)]
        agents: AgentArgs,
    },
    /// Handoff-time benchmark: one lab with agents, TCP stream + ping, home -> fa1, N handoffs
    /// fa1 <-> fa2, then -> home -> coloc -> home; p50/p90/p99/max of handoff_ms and
    /// packets_lost per kind of move (target: p99 <= 50 ms for foreign-agent handoffs).
    BenchHandoff {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Handoffs between the foreign agents (fa1 <-> fa2).
        #[arg(long, default_value_t = 24)]
        moves: usize,
        /// Milliseconds at each place.
        #[arg(long, default_value_t = 1000)]
        dwell_ms: u64,
        /// Stream rate, bytes per second.
        #[arg(long, default_value_t = 200_000)]
        rate: u64,
        /// Ping interval, ms (the resolution of handoff_ms).
        #[arg(long, default_value_t = 10)]
        ping_interval_ms: u64,
        #[command(flatten)]
        agents: AgentArgs,
    },
    /// Throughput benchmark: iperf3 (TCP, UDP 1400 B and 64 B) on the plain path and through
    /// the home agent's tunnel (`iperf` and `iperf --mip`), with the ratio and the targets.
    BenchThroughput {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Seconds per test.
        #[arg(long, default_value_t = 3)]
        seconds: u32,
        /// Where the mobile node is (on both paths).
        #[arg(long, default_value = "fa1")]
        at: Place,
        #[command(flatten)]
        agents: AgentArgs,
    },
    #[command(name = "_sysctl", hide = true)]
    Sysctl { kvs: Vec<String> },
    #[command(name = "_stream-send", hide = true)]
    StreamSend {
        #[arg(long)]
        to: SocketAddrV4,
        #[arg(long)]
        rate: u64,
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
        #[arg(long)]
        max_seconds: f64,
        #[arg(long, default_value_t = 15.0)]
        drain_seconds: f64,
    },
    #[command(name = "_stream-recv", hide = true)]
    StreamRecv {
        #[arg(long)]
        bind: SocketAddrV4,
        #[arg(long)]
        max_seconds: f64,
    },
    #[command(name = "_ping", hide = true)]
    Ping {
        #[arg(long)]
        to: Ipv4Addr,
        #[arg(long, default_value_t = 10.0)]
        interval_ms: f64,
        #[arg(long)]
        max_seconds: f64,
        #[arg(long, default_value_t = 500)]
        linger_ms: u64,
    },
}

#[derive(clap::Args)]
struct AgentArgs {
    /// The mipd binary (default: $MIP_LAB_MIPD, mipd beside mip-lab, $PATH).
    #[arg(long, value_name = "PATH")]
    mipd: Option<PathBuf>,
    /// Agent configuration directory (default: $MIP_LAB_CONFIG_DIR, examples/lab).
    #[arg(long, value_name = "DIR")]
    lab_config: Option<PathBuf>,
    /// The mobile node's configuration file (default: mn.toml in the configuration
    /// directory), e.g. a copy asking for GRE or reverse tunnelling.
    #[arg(long, value_name = "FILE")]
    mn_config: Option<PathBuf>,
    /// How the agents' tunnel engines send (mipd --tunnel-tx): raw (default) or packet.
    #[arg(long, value_name = "raw|packet", value_parser = ["raw", "packet"])]
    tunnel_tx: Option<String>,
}

impl AgentArgs {
    fn opts(self) -> AgentOpts {
        AgentOpts {
            mipd: self.mipd,
            config_dir: self.lab_config,
            mn_config: self.mn_config,
            tunnel_tx: self.tunnel_tx,
        }
    }
}

fn lab_id(cli: &Option<String>, fresh: bool) -> Result<Lab, String> {
    let id = cli
        .clone()
        .or_else(|| std::env::var("MIP_LAB_ID").ok())
        .unwrap_or_else(|| {
            if fresh {
                format!("r{}", std::process::id())
            } else {
                "lab".into()
            }
        });
    Lab::new(&id)
}

fn need_root() -> Result<(), String> {
    if sh::is_root() {
        Ok(())
    } else {
        Err("needs root (network namespaces): run as root or with sudo".into())
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("serializes")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mip-lab: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.cmd {
        Cmd::Plan { json: j } => {
            let plan = PlanView::new(&lab_id(&cli.id, false)?);
            print!("{}", if j { json(&plan) + "\n" } else { plan.text() });
            Ok(0)
        }
        Cmd::Up { json: j, no_mip } => {
            need_root()?;
            let lab = lab_id(&cli.id, false)?;
            let mode = if no_mip { Mode::NoMip } else { Mode::MobileIp };
            let took = {
                // A failed or interrupted `up` removes what it built.
                let mut g = guard::LabGuard::new(&lab);
                let took = topology::up(&lab, mode)?;
                if guard::stop_requested() {
                    return Err("interrupted".into());
                }
                g.disarm();
                took
            };
            let plan = PlanView::new(&lab);
            if j {
                let mut v = serde_json::to_value(&plan).expect("serializes");
                v["mode"] = serde_json::to_value(mode).expect("serializes");
                v["up_ms"] = (took.as_secs_f64() * 1e3).into();
                println!("{}", serde_json::to_string_pretty(&v).expect("serializes"));
            } else {
                print!("{}", plan.text());
                println!(
                    "\nlab {} is up in {:.0} ms ({}); mobile node at home. `mip-lab --id {} down` removes it.",
                    lab.id(),
                    took.as_secs_f64() * 1e3,
                    if no_mip {
                        "no-mip: moves also move plain host routes (harness self-test)"
                    } else {
                        "mobile-ip: moves change the link only; start the agents yourself"
                    },
                    lab.id()
                );
            }
            Ok(0)
        }
        Cmd::Down { all } => {
            need_root()?;
            if all {
                let removed = topology::down_all()?;
                println!("removed {} namespaces", removed.len());
            } else {
                let lab = lab_id(&cli.id, false)?;
                let n = topology::existing_namespaces(&lab).len();
                topology::down(&lab)?;
                println!("lab {}: removed {n} namespaces", lab.id());
            }
            Ok(0)
        }
        Cmd::Move { place } => {
            need_root()?;
            let lab = lab_id(&cli.id, false)?;
            if !topology::is_up(&lab) {
                return Err(format!("lab {} is not up (mip-lab up)", lab.id()));
            }
            let mode = topology::load_state(&lab)
                .map(|s| s.mode)
                .unwrap_or(Mode::MobileIp);
            let m = topology::move_to(&lab, place, mode)?;
            println!(
                "moved mobile node {} -> {}: link down for {:.1} ms (carrier loss seen on mn0 after {}){}",
                m.from,
                m.to,
                m.link_down_ms,
                m.t_carrier_lost_ns
                    .map(|c| format!("{:.1} ms", (c - m.t_down_ns) as f64 / 1e6))
                    .unwrap_or_else(|| "NEVER".into()),
                if mode == Mode::NoMip {
                    "; plain host routes moved"
                } else {
                    ""
                }
            );
            Ok(0)
        }
        Cmd::Status { json: j } => {
            let lab = lab_id(&cli.id, false)?;
            let st = topology::status(&lab);
            print!("{}", if j { json(&st) + "\n" } else { st.text() });
            Ok(0)
        }
        Cmd::Demo {
            json: j,
            moves,
            no_mip,
            dwell_ms,
            rate,
            ping_interval_ms,
            drain_s,
            keep,
            agents,
        } => {
            need_root()?;
            let lab = lab_id(&cli.id, true)?;
            guard::install();
            let opts = DemoOpts {
                moves: parse_moves(&moves)?,
                mode: if no_mip { Mode::NoMip } else { Mode::MobileIp },
                dwell: Duration::from_millis(dwell_ms),
                rate: rate.max(1000),
                ping_interval: Duration::from_millis(ping_interval_ms.max(1)),
                drain: Duration::from_secs(drain_s),
                agents: agents.opts(),
                keep,
                ..DemoOpts::default()
            };
            let report = demo::demo(&lab, &opts, false);
            if j {
                println!("{}", json(&report));
            } else {
                print!("{}", report.text());
            }
            Ok(report.exit_code() as u8)
        }
        Cmd::Iperf {
            json: j,
            seconds,
            at,
            mip,
            agents,
        } => {
            need_root()?;
            let lab = lab_id(&cli.id, true)?;
            guard::install();
            let r = iperf::iperf(
                &lab,
                &IperfOpts {
                    seconds,
                    at,
                    mip,
                    agents: agents.opts(),
                },
            )?;
            print!("{}", if j { json(&r) + "\n" } else { r.text() });
            Ok(if guard::stop_requested() { 130 } else { 0 })
        }
        Cmd::BenchHandoff {
            json: j,
            moves,
            dwell_ms,
            rate,
            ping_interval_ms,
            agents,
        } => {
            need_root()?;
            let lab = lab_id(&cli.id, true)?;
            guard::install();
            let r = bench::bench_handoff(
                &lab,
                &bench::HandoffOpts {
                    fa_moves: moves,
                    dwell: Duration::from_millis(dwell_ms),
                    rate: rate.max(1000),
                    ping_interval: Duration::from_millis(ping_interval_ms.max(1)),
                    agents: agents.opts(),
                },
                false,
            );
            print!("{}", if j { json(&r) + "\n" } else { r.text() });
            Ok(r.exit_code())
        }
        Cmd::BenchThroughput {
            json: j,
            seconds,
            at,
            agents,
        } => {
            need_root()?;
            let lab = lab_id(&cli.id, true)?;
            guard::install();
            let r = bench::bench_throughput(
                &lab,
                &bench::ThroughputOpts {
                    seconds,
                    at,
                    agents: agents.opts(),
                },
            )?;
            print!("{}", if j { json(&r) + "\n" } else { r.text() });
            Ok(if guard::stop_requested() { 130 } else { 0 })
        }
        Cmd::Sysctl { kvs } => {
            topology::write_sysctls(&kvs)?;
            Ok(0)
        }
        Cmd::StreamSend {
            to,
            rate,
            chunk,
            max_seconds,
            drain_seconds,
        } => Ok(stream::send(&stream::SendOpts {
            to,
            rate,
            chunk,
            max_seconds,
            drain_seconds,
        }) as u8),
        Cmd::StreamRecv { bind, max_seconds } => {
            Ok(stream::recv(&stream::RecvOpts { bind, max_seconds }) as u8)
        }
        Cmd::Ping {
            to,
            interval_ms,
            max_seconds,
            linger_ms,
        } => Ok(ping::ping(&ping::PingOpts {
            to,
            interval: Duration::from_secs_f64(interval_ms.max(0.1) / 1e3),
            max_seconds,
            linger: Duration::from_millis(linger_ms),
        }) as u8),
    }
}
