//! `mipctl [--socket PATH] [--json] [--show-keys] {show | clear} ip mobile ...` and
//! `mipctl reload`: parse the words locally (a typo never reaches the daemon), send one
//! request over the control socket, print the answer.

use crate::show;
use mip_control::views::*;
use mip_control::{
    parse_command, BindingFilter, HostFilter, Request, Response, VisitorFilter, DEFAULT_SOCKET,
};
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit status when the daemon cannot be reached or refuses the command.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for an unknown or incomplete command and bad arguments (nothing was sent).
pub const EXIT_MALFORMED: u8 = 2;

/// A failure: the exit status and the message for stderr.
pub type Failure = (u8, String);

fn usage_error(msg: String) -> Failure {
    (EXIT_MALFORMED, format!("% {msg} (see mipctl --help)"))
}
/// How long to wait for the daemon's answer (and for it to read the request), unless
/// `MIPCTL_TIMEOUT` (seconds, decimals allowed) says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

fn timeout() -> Duration {
    std::env::var("MIPCTL_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}
/// Largest answer read (a very large binding table is a few megabytes).
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

struct Options {
    socket: PathBuf,
    json: bool,
    show_keys: bool,
    words: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options {
        socket: std::env::var_os("MIPCTL_SOCKET")
            .filter(|s| !s.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from),
        json: false,
        show_keys: false,
        words: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--socket" => {
                let p = it
                    .next()
                    .ok_or_else(|| usage_error("--socket needs a value".to_string()))?;
                o.socket = PathBuf::from(p);
            }
            s if s.starts_with("--socket=") => o.socket = PathBuf::from(&s["--socket=".len()..]),
            "--json" => o.json = true,
            "--show-keys" => o.show_keys = true,
            s if s.starts_with("--") => return Err(usage_error(format!("unknown argument '{s}'"))),
            // `mipctl "show ip mobile binding"` works too.
            w => o.words.extend(w.split_whitespace().map(String::from)),
        }
    }
    Ok(o)
}

/// Runs a `show`/`clear`/`reload` command line (the program's arguments).
pub fn control_cmd(args: &[String]) -> Result<ExitCode, Failure> {
    let o = parse_options(args)?;
    let request = if o.words.len() == 1 && o.words[0].eq_ignore_ascii_case("reload") {
        Request::Reload
    } else {
        parse_command(&o.words, o.show_keys).map_err(|e| (EXIT_MALFORMED, e.to_string()))?
    };
    let response = exchange(&o.socket, &request)?;
    if !response.ok {
        let msg = response
            .error
            .unwrap_or_else(|| "mipd refused the command".to_string());
        let msg = if msg.starts_with('%') {
            msg
        } else {
            format!("% {msg}")
        };
        return Err((EXIT_FAILURE, msg));
    }
    let data = response.data.unwrap_or(serde_json::Value::Null);
    let text = if o.json {
        let v = if data.is_null() && is_clear(&request) {
            serde_json::json!({})
        } else {
            data
        };
        let mut t = serde_json::to_string_pretty(&v).expect("a JSON value serialises");
        t.push('\n');
        t
    } else {
        render(&request, data)?
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout (`mipctl ... | head`) ends quietly.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(ExitCode::SUCCESS)
}

fn is_clear(r: &Request) -> bool {
    matches!(
        r,
        Request::ClearBinding { .. }
            | Request::ClearTraffic { .. }
            | Request::ClearSecure { .. }
            | Request::ClearVisitor { .. }
            | Request::Reload
    )
}

fn view<T: DeserializeOwned>(data: serde_json::Value) -> Result<T, Failure> {
    serde_json::from_value(data)
        .map_err(|e| (EXIT_FAILURE, format!("% unexpected answer from mipd: {e}")))
}

/// The router text of an answer.
pub fn render(request: &Request, data: serde_json::Value) -> Result<String, Failure> {
    Ok(match request {
        Request::ShowBinding {
            filter: BindingFilter::Summary,
        } => show::binding_summary(&view(data)?),
        Request::ShowBinding { .. } => show::binding_list(&view(data)?),
        Request::ShowHost {
            filter: HostFilter::Group,
        } => show::host_groups(&view::<HostGroupList>(data)?),
        Request::ShowHost {
            filter: HostFilter::Counters { .. },
        } => show::host_counters(&view::<HostCountersList>(data)?),
        Request::ShowHost { .. } => show::host_list(&view::<HostList>(data)?),
        Request::ShowSecure { summary, .. } => show::secure_list(&view(data)?, *summary),
        Request::ShowTraffic => show::traffic(&view(data)?),
        Request::ShowViolation => show::violations(&view(data)?),
        Request::ShowGlobals => show::globals(&view(data)?),
        Request::ShowTunnel => show::tunnels(&view(data)?),
        Request::ShowVisitor { filter } => match filter {
            VisitorFilter::Summary => show::visitor_summary(&view(data)?),
            VisitorFilter::Pending { .. } => show::pending_list(&view(data)?),
            VisitorFilter::PendingSummary => show::pending_summary(&view(data)?),
            VisitorFilter::All | VisitorFilter::Address { .. } | VisitorFilter::Nai { .. } => {
                show::visitor_list(&view(data)?)
            }
        },
        Request::ShowNode => show::node(&view(data)?),
        Request::ShowDataplane => show::dataplane(&view(data)?),
        // Like a router: a successful clear prints nothing.
        Request::ClearBinding { .. }
        | Request::ClearTraffic { .. }
        | Request::ClearSecure { .. }
        | Request::ClearVisitor { .. }
        | Request::Reload => String::new(),
    })
}

/// Sends one request and reads the one-line answer.
fn exchange(socket: &Path, request: &Request) -> Result<Response, Failure> {
    let shown = socket.display();
    let timeout = timeout();
    let stream = UnixStream::connect(socket).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => {
                "no such socket: mipd is not running (or uses another --socket)".to_string()
            }
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused: mipd is not running".to_string()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied: run as root or as a member of the socket's group".to_string()
            }
            _ => e.to_string(),
        };
        (
            EXIT_FAILURE,
            format!("% cannot connect to mipd at {shown}: {why}"),
        )
    })?;
    let io_err = |what: &str, e: std::io::Error| {
        let why = if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            format!("no answer within {:.1} s", timeout.as_secs_f64())
        } else {
            e.to_string()
        };
        (EXIT_FAILURE, format!("% mipd at {shown}: {what}: {why}"))
    };
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| io_err("socket setup", e))?;
    let mut line = serde_json::to_string(request).expect("requests serialise");
    line.push('\n');
    (&stream)
        .write_all(line.as_bytes())
        .and_then(|()| (&stream).flush())
        .map_err(|e| io_err("sending the request", e))?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reader = BufReader::new((&stream).take(MAX_RESPONSE_BYTES));
    let mut answer = String::new();
    reader
        .read_line(&mut answer)
        .map_err(|e| io_err("reading the answer", e))?;
    if answer.trim().is_empty() {
        return Err((
            EXIT_FAILURE,
            format!("% mipd at {shown} closed the connection without an answer"),
        ));
    }
    serde_json::from_str(answer.trim_end()).map_err(|e| {
        (
            EXIT_FAILURE,
            format!("% malformed answer from mipd at {shown}: {e}"),
        )
    })
}
