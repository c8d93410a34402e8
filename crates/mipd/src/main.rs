//! `mipd`: the Mobile IPv4 daemon, in one of three roles (`--role`):
//!
//! * `home-agent` (default): the sans-I/O core of `mip-ha` wired to the registration socket
//!   of `mip-io`, the crash-safe store of `mip-store`, the data plane of `mip_io::net`
//!   ([`dataplane`]) and the control socket of `mip-control`. See [`daemon`] for the run loop.
//! * `foreign-agent`: the core of `mip-fa` with its sockets (UDP 434, packet sockets on the
//!   foreign-service interfaces, raw ICMP) and the visitor data plane. See [`fa`].
//! * `mobile-node`: the mobile node client, with its own configuration form. See [`mn`].
//!
//! Exit codes: 0 after SIGTERM/SIGINT (or a valid `--check-config`), 1 when the daemon could
//! not start or had to stop, 2 for bad arguments or a bad configuration.

mod args;
mod control;
mod daemon;
mod dataplane;
mod event;
mod fa;
mod mn;
mod signals;
mod store_glue;
mod views;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Args, Role};

fn init_logging(level: tracing::Level) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false)
        .init();
}

/// Help and version go to standard output (exit 0); any other argument error is printed with
/// the usage (exit 2).
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let text = e.render().to_string();
    eprint!("{text}");
    if !text.contains("Usage:") {
        eprintln!("\n{}", Args::command().render_usage());
    }
    std::process::exit(2);
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => usage_error(e),
    };
    if let Err(e) = mip_io::sys::allowed_cpus()
        .map_err(|e| format!("cannot read this process's CPUs: {e}"))
        .and_then(|allowed| args.check_tunnel_cpus(&allowed))
    {
        eprintln!("mipd: {e}\n{}", Args::command().render_usage());
        return ExitCode::from(2);
    }
    init_logging(args.log_level.tracing());
    if args.role == Role::MobileNode {
        // Its own configuration form (mip_mn's), its own --check-config.
        return mn::run(&args);
    }
    // On a restart (the state directory exists), the home agent's store opens (recovery,
    // reading a million bindings back) while the configuration loads (a million security
    // associations): the restart takes the longer of the two, not their sum. Not before the
    // control socket is known to be free: a second daemon touches nothing.
    let opening = if args.role == Role::HomeAgent && !args.check_config && args.state_dir.is_dir() {
        if let Err(e) = control::check_free(&args.control_socket) {
            tracing::error!("mipd: {e}");
            return ExitCode::from(1);
        }
        Some(store_glue::Opening::start(
            args.state_dir.clone(),
            args.fsync_interval(),
        ))
    } else {
        None
    };
    let loaded = match mip_config::load(&args.config, args.format) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mipd: configuration refused:\n{e}");
            return ExitCode::from(2);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    if args.check_config {
        println!(
            "{}: configuration OK ({} form, {} warning(s))",
            args.config.display(),
            loaded.format,
            loaded.warnings.len()
        );
        return ExitCode::SUCCESS;
    }
    let settings = daemon::Settings {
        config_path: args.config.clone(),
        format: args.format,
        state_dir: args.state_dir.clone(),
        control_socket: args.control_socket.clone(),
        listen: args.listen,
        fsync_interval: args.fsync_interval(),
        dataplane_log: args.dataplane_log.clone(),
        dataplane: args::choose_dataplane(args.dataplane),
        cpu: args.cpu,
        engine: args.engine_tuning(),
    };
    tracing::info!(
        role = args.role.name(),
        dataplane = settings.dataplane.0.name(),
        why = settings.dataplane.1,
        config = %args.config.display(),
        "mipd starting as {} with the {} data plane ({})",
        args.role.name(),
        settings.dataplane.0.name(),
        settings.dataplane.1
    );
    let result = match args.role {
        Role::ForeignAgent => fa::run(settings, loaded),
        _ => daemon::run(settings, loaded, opening),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("mipd: {e}");
            ExitCode::from(1)
        }
    }
}
