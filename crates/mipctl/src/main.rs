//! `mipctl`: the operator console of the Mobile IPv4 suite.

mod capture;
mod decode;

use mipctl::client;

use decode::DecodeKey;
use mip_wire::ipv4::{Ipv4Packet, Protocol};
use mip_wire::message::Transport;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  mipctl [--socket PATH] [--json] [--show-keys] show ip mobile ...
  mipctl [--socket PATH] [--json] clear ip mobile ...
  mipctl decode (--hex HEX | --pcap FILE) [--json] [--key SPI:HEXKEY[:hmac-md5|prefix-suffix]]...
  mipctl config {convert | check} FILE [--format toml|ios]

  decode   print Mobile IP messages in readable form (or one JSON object per
           message with --json). --hex takes one UDP port 434 payload or one
           ICMP agent advertisement/solicitation (told apart by the type byte);
           --pcap reads a pcap or pcapng file and decodes UDP port 434 and
           ICMP types 9 and 10. --key verifies authenticators whose SPI
           matches; the SPI is hexadecimal as in the router syntax (100 = 256).

  show     ask mipd and print in the router's style: show ip mobile
           {binding [A | home-agent A | nai NAI [session-id ID] | summary] |
           host [A | group | counters [A]] | secure {host | visitor |
           foreign-agent | home-agent} [A | nai NAI] [summary] | traffic |
           violation | globals | tunnel | visitor [[pending] [A | summary] |
           nai NAI [session-id ID]] | node | dataplane}. Words may be
           abbreviated (sh ip mob bind). `dataplane` (every role) shows the
           data plane in use and its tunnel engine's counters. --json prints
           the answer's data as indented JSON instead. Keys are hidden unless
           --show-keys. SPIs are hexadecimal; times are UTC (MM/DD/YY
           hh:mm:ss); an infinite lifetime is INFINITE.
  clear    clear ip mobile {binding {all | A | nai NAI [session-id ID]} |
           visitor [all | A | nai NAI [session-id ID] [A]] | traffic [undo] |
           secure KIND {A | nai NAI | all} [load]}; prints nothing on
           success, like a router (--json prints the answer's data). A bare
           `clear ip mobile visitor` clears every visitor, as on the router.
  reload   reload mipd's configuration (as SIGHUP does).
  config   convert: print the native TOML form of a configuration file (the
           router's `ip mobile ...` form is read from a .ios file or with
           --format ios). The output contains the keys: it is an explicit
           operator request. check: validate a file and print its warnings.

  --socket PATH   control socket (default: $MIPCTL_SOCKET, else
                  /run/mipd/control.sock)
  MIPCTL_TIMEOUT  seconds to wait for mipd's answer (default 5)

exit status: 0 success, 1 failure (mipd unreachable or refused the command),
2 malformed input, unknown or incomplete command, bad arguments";

/// Exit status for malformed input and bad arguments.
const EXIT_MALFORMED: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}

type CmdResult = Result<ExitCode, (u8, String)>;

fn usage_error(msg: impl Into<String>) -> (u8, String) {
    (EXIT_MALFORMED, format!("% {}\n{USAGE}", msg.into()))
}

fn run(args: &[String]) -> CmdResult {
    match args.first().map(String::as_str) {
        None | Some("-h") | Some("--help") | Some("help") => {
            // A closed stdout (`mipctl --help | head`) is not an error.
            let _ =
                std::io::Write::write_all(&mut std::io::stdout(), format!("{USAGE}\n").as_bytes());
            Ok(ExitCode::SUCCESS)
        }
        Some("decode") => decode_cmd(&args[1..]),
        Some("config") => config_cmd(&args[1..]),
        Some(_) => client::control_cmd(args),
    }
}

struct DecodeArgs {
    hex: Option<String>,
    pcap: Option<PathBuf>,
    json: bool,
    keys: Vec<DecodeKey>,
}

fn parse_decode_args(args: &[String]) -> Result<DecodeArgs, (u8, String)> {
    let mut d = DecodeArgs {
        hex: None,
        pcap: None,
        json: false,
        keys: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage_error(format!("{name} needs a value")))
        };
        match a.as_str() {
            "--hex" => d.hex = Some(value("--hex")?),
            "--pcap" => d.pcap = Some(PathBuf::from(value("--pcap")?)),
            "--key" => d
                .keys
                .push(DecodeKey::parse(&value("--key")?).map_err(usage_error)?),
            "--json" => d.json = true,
            other => return Err(usage_error(format!("unknown argument '{other}'"))),
        }
    }
    match (&d.hex, &d.pcap) {
        (None, None) => Err(usage_error(
            "Incomplete command: decode needs --hex HEX or --pcap FILE",
        )),
        (Some(_), Some(_)) => Err(usage_error("give either --hex or --pcap, not both")),
        _ => Ok(d),
    }
}

fn decode_cmd(args: &[String]) -> CmdResult {
    let d = parse_decode_args(args)?;
    if let Some(h) = &d.hex {
        let cleaned: String = h
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':' && *c != '-')
            .collect();
        let cleaned = cleaned.strip_prefix("0x").unwrap_or(&cleaned);
        let bytes = hex::decode(cleaned).map_err(|e| (EXIT_MALFORMED, format!("% --hex: {e}")))?;
        return match decode::decode(&bytes, None, &d.keys) {
            Ok(v) => {
                print_message(&v, d.json);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err((EXIT_MALFORMED, format!("% malformed message: {e}"))),
        };
    }
    let path = d.pcap.as_ref().expect("checked above");
    let frames = capture::read_frames(path).map_err(|e| (1, format!("% {e}")))?;
    let mut malformed = 0usize;
    let mut decoded = 0usize;
    for frame in &frames {
        let Some((transport, src, dst, payload)) = mobile_ip_payload(frame) else {
            continue;
        };
        match decode::decode(payload, Some(transport), &d.keys) {
            Ok(mut v) => {
                decoded += 1;
                if let serde_json::Value::Object(m) = &mut v {
                    m.insert("frame".into(), frame.number.into());
                    m.insert("source".into(), src.into());
                    m.insert("destination".into(), dst.into());
                }
                print_message(&v, d.json);
            }
            Err(e) => {
                malformed += 1;
                eprintln!("% frame {}: malformed message: {e}", frame.number);
            }
        }
    }
    if !d.json {
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
            "{decoded} Mobile IP message(s) decoded, {malformed} malformed, {} frame(s) read",
            frames.len()
        );
    }
    Ok(if malformed > 0 {
        ExitCode::from(EXIT_MALFORMED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The Mobile IP message in a frame: UDP port 434 (either side) or ICMP type
/// 9/10. Fragments and everything else are skipped.
fn mobile_ip_payload(frame: &capture::Frame) -> Option<(Transport, String, String, &[u8])> {
    let ip = Ipv4Packet::new_checked(capture::ipv4_of(frame)?).ok()?;
    if ip.is_fragment() {
        return None;
    }
    let (src, dst) = (ip.src_addr().to_string(), ip.dst_addr().to_string());
    let (header_len, total_len, protocol) =
        (ip.header_len(), usize::from(ip.total_len()), ip.protocol());
    // new_checked guarantees header_len <= total_len <= buffer length.
    let body = ip.into_inner().get(header_len..total_len)?;
    match protocol {
        Protocol::Udp => {
            let sport = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
            let dport = u16::from_be_bytes([*body.get(2)?, *body.get(3)?]);
            if sport != mip_wire::MIP_UDP_PORT && dport != mip_wire::MIP_UDP_PORT {
                return None;
            }
            Some((
                Transport::Udp,
                format!("{src}:{sport}"),
                format!("{dst}:{dport}"),
                body.get(8..)?,
            ))
        }
        Protocol::Icmp if matches!(body.first(), Some(9) | Some(10)) => {
            Some((Transport::Icmp, src, dst, body))
        }
        _ => None,
    }
}

/// Print one decoded message. A closed stdout (`mipctl ... | head`) ends the
/// program quietly instead of panicking.
fn print_message(v: &serde_json::Value, json: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let r = if json {
        writeln!(out, "{v}")
    } else {
        write!(out, "{}", decode::render_text(v))
    };
    if r.is_err() {
        std::process::exit(0);
    }
}

/// `mipctl config {convert | check} FILE [--format toml|ios]`.
fn config_cmd(args: &[String]) -> CmdResult {
    let mut it = args.iter();
    let verb = match it.next().map(String::as_str) {
        Some(v @ ("convert" | "check")) => v,
        Some(other) => {
            return Err(usage_error(format!(
                "Invalid input detected at '{other}' (expected: convert | check)"
            )))
        }
        None => {
            return Err(usage_error(
                "Incomplete command: config needs convert or check",
            ))
        }
    };
    let mut file = None;
    let mut format = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => {
                format = Some(match it.next().map(String::as_str) {
                    Some("ios") => mip_config::Format::Ios,
                    Some("toml") => mip_config::Format::Toml,
                    _ => return Err(usage_error("--format takes toml or ios")),
                })
            }
            f if file.is_none() && !f.starts_with("--") => file = Some(PathBuf::from(f)),
            other => return Err(usage_error(format!("unknown argument '{other}'"))),
        }
    }
    let Some(file) = file else {
        return Err(usage_error(format!(
            "Incomplete command: config {verb} needs a FILE"
        )));
    };
    let loaded = mip_config::load(&file, format).map_err(|e| (EXIT_MALFORMED, format!("% {e}")))?;
    for w in &loaded.warnings {
        eprintln!("% {w}");
    }
    use std::io::Write;
    let out = if verb == "convert" {
        mip_config::to_toml(&loaded.config)
    } else {
        format!(
            "{}: configuration is valid ({} warning(s))\n",
            file.display(),
            loaded.warnings.len()
        )
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}
