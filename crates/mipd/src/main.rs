//! `mipd`: the Mobile IPv4 daemon (home agent, foreign agent, mobile node,
//! proxy agent). The protocol cores are sans-I/O crates; this binary wires
//! them to `mip-io`. The home agent role arrives with the home-agent issue;
//! until then the daemon validates its arguments and refuses to start.

use std::process::ExitCode;

const USAGE: &str =
    "usage: mipd --config FILE [--format toml|ios] [--state-dir DIR] [--control-socket PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "-V" || a == "--version") {
        println!("mipd {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!("mipd: no protocol role is available in this build yet\n{USAGE}");
    ExitCode::from(2)
}
