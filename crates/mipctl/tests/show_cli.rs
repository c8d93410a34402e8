//! The real `mipctl` binary against a fake daemon: a Unix listener in the test that answers
//! one canned `Response`. Checks the request it received, the text and `--json` output, and
//! the exit codes (1: daemon unreachable or refusing, 2: bad command, nothing sent).

use mip_control::views::*;
use mip_control::{Request, Response};
use mipctl::show;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// A daemon that accepts one connection, reads one request line, answers `answer` (or
/// nothing, holding the connection for `hold`), and returns the request line.
struct FakeDaemon {
    _dir: tempfile::TempDir,
    path: PathBuf,
    handle: JoinHandle<String>,
}

impl FakeDaemon {
    fn start(answer: Option<String>, hold: Duration) -> FakeDaemon {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            match answer {
                Some(a) => {
                    (&stream).write_all(a.as_bytes()).unwrap();
                    (&stream).write_all(b"\n").unwrap();
                }
                None => std::thread::sleep(hold),
            }
            line
        });
        FakeDaemon {
            _dir: dir,
            path,
            handle,
        }
    }

    fn answering(r: &Response) -> FakeDaemon {
        FakeDaemon::start(Some(serde_json::to_string(r).unwrap()), Duration::ZERO)
    }

    /// The request the daemon received, parsed.
    fn request(self) -> Value {
        let line = self.handle.join().unwrap();
        assert!(line.ends_with('\n'), "one line: {line:?}");
        assert_eq!(line.matches('\n').count(), 1);
        serde_json::from_str(&line).unwrap()
    }
}

fn mipctl(socket: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mipctl"));
    c.env_remove("MIPCTL_SOCKET").env_remove("MIPCTL_TIMEOUT");
    if let Some(s) = socket {
        c.arg("--socket").arg(s);
    }
    c.args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn seed_binding_list() -> BindingList {
    BindingList {
        total: 1,
        bindings: vec![BindingView {
            home_address: a("10.0.0.1"),
            nai: None,
            session_id: None,
            care_of_address: a("68.0.0.31"),
            source_address: a("68.0.0.31"),
            source_port: 434,
            home_agent: a("66.0.0.5"),
            lifetime_granted: 10000,
            remaining_secs: Some(9992),
            flags: 0x88,
            flags_text: "SbdmGvt".into(),
            identification: 0xB750_FAC4_C28F_56A8,
            identification_text: "B750FAC4.C28F56A8".into(),
            tunnel: TunnelRefView {
                name: "Tunnel100".into(),
                source: a("66.0.0.5"),
                destination: a("68.0.0.31"),
            },
            reverse_allowed: true,
            routing_options: vec![RoutingOption::Gre],
            encapsulation: EncapsulationView::Gre,
            interface: None,
            service_options: vec![],
            mobile_networks: vec![],
            security_associations: vec![],
        }],
    }
}

#[test]
fn show_binding_sends_the_request_and_prints_router_text() {
    let list = seed_binding_list();
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&list).unwrap()));
    let out = mipctl(Some(&d.path), &["sh", "ip", "mob", "bind"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), show::binding_list(&list));
    assert!(stdout(&out).starts_with("Mobility Binding List:\nTotal 1\n10.0.0.1:\n"));
    assert_eq!(
        d.request(),
        json!({"command": "show_binding", "filter": {"by": "all"}})
    );
}

#[test]
fn json_prints_the_view_as_is() {
    let t = TrafficView {
        register_requests: 8,
        register_replied: 7,
        accepted: 6,
        denied: 1,
        ignored: 1,
        bad_identification: 1,
        ..TrafficView::default()
    };
    let data = serde_json::to_value(&t).unwrap();
    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(
        Some(&d.path),
        &["--json", "show", "ip", "mobile", "traffic"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Indented (pretty) JSON, one document.
    assert!(text.starts_with("{\n  \""), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
    assert_eq!(
        serde_json::from_str::<TrafficView>(&text).unwrap(),
        t,
        "the view deserialises back"
    );
    assert_eq!(d.request(), json!({"command": "show_traffic"}));
}

#[test]
fn show_keys_is_carried_and_keys_printed() {
    let list = SecureList {
        peer: mip_control::PeerKind::Host,
        total: 1,
        associations: vec![SecureView {
            peer: mip_control::PeerKind::Host,
            address: Some(a("10.0.0.1")),
            upper: None,
            nai: None,
            inbound_spi: 0x300,
            outbound_spi: 0x300,
            algorithm: AuthAlgorithm::Md5,
            mode: AuthMode::PrefixSuffix,
            replay: ReplayView::Timestamp { window_secs: 7 },
            origin: SaOrigin::Configured,
            key_len: 16,
            key: Some("1230552d39b7c1751f86bae5205ec0c8".into()),
            key_ascii: None,
        }],
    };
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&list).unwrap()));
    let out = mipctl(
        Some(&d.path),
        &[
            "show",
            "ip",
            "mobile",
            "secure",
            "host",
            "10.0.0.1",
            "--show-keys",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\n    Key 1230552d39b7c1751f86bae5205ec0c8\n"));
    assert_eq!(
        d.request(),
        json!({"command": "show_secure", "peer": "host",
               "target": {"by": "address", "address": "10.0.0.1"},
               "summary": false, "show_keys": true})
    );
}

#[test]
fn socket_from_environment() {
    let g = GlobalsView {
        home_agent_enabled: true,
        lifetime_secs: 36000,
        ..GlobalsView::default()
    };
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&g).unwrap()));
    let out = Command::new(env!("CARGO_BIN_EXE_mipctl"))
        .env("MIPCTL_SOCKET", &d.path)
        .args(["show", "ip", "mobile", "globals"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::globals(&g));
    assert_eq!(d.request(), json!({"command": "show_globals"}));
}

#[test]
fn clear_prints_nothing_on_success() {
    let d = FakeDaemon::answering(&Response::ok(json!({"cleared": 1})));
    let out = mipctl(
        Some(&d.path),
        &[
            "clear",
            "ip",
            "mobile",
            "binding",
            "nai",
            "user01@cisco.com",
            "session-id",
            "PDA",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
    assert_eq!(
        d.request(),
        json!({"command": "clear_binding",
               "selector": {"by": "nai", "nai": "user01@cisco.com", "session_id": "PDA"}})
    );

    // A daemon that answers without data; --json then prints an empty object.
    let d = FakeDaemon::start(Some(r#"{"ok":true}"#.into()), Duration::ZERO);
    let out = mipctl(
        Some(&d.path),
        &["--json", "clear", "ip", "mobile", "traffic", "undo"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({})
    );
    assert_eq!(
        d.request(),
        json!({"command": "clear_traffic", "undo": true})
    );
}

#[test]
fn reload_is_a_request_too() {
    let d = FakeDaemon::start(Some(r#"{"ok":true}"#.into()), Duration::ZERO);
    let out = mipctl(Some(&d.path), &["reload"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Request = serde_json::from_value(d.request()).unwrap();
    assert_eq!(r, Request::Reload);
}

#[test]
fn daemon_error_exits_1_with_its_message() {
    let d = FakeDaemon::answering(&Response::error("no binding for 10.0.0.9"));
    let out = mipctl(
        Some(&d.path),
        &["clear", "ip", "mobile", "binding", "10.0.0.9"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "% no binding for 10.0.0.9\n");
    assert_eq!(
        d.request(),
        json!({"command": "clear_binding", "selector": {"by": "address", "address": "10.0.0.9"}})
    );
}

#[test]
fn unexpected_data_exits_1() {
    let d = FakeDaemon::answering(&Response::ok(json!({"total": "many"})));
    let out = mipctl(Some(&d.path), &["show", "ip", "mobile", "binding"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("% unexpected answer from mipd"),
        "{}",
        stderr(&out)
    );
    d.request();
}

#[test]
fn missing_socket_exits_1_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.sock");
    let out = mipctl(Some(&path), &["show", "ip", "mobile", "binding"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("mipd is not running"), "{e}");
}

#[test]
fn stale_socket_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    drop(UnixListener::bind(&path).unwrap()); // the file stays, nobody listens
    let out = mipctl(Some(&path), &["show", "ip", "mobile", "tunnel"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains(&path.display().to_string()) && e.contains("connection refused"),
        "{e}"
    );
}

#[test]
fn permission_denied_is_explained() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // root bypasses file permissions: nothing to check then.
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
        == 0
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let _l = UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = mipctl(Some(&path), &["show", "ip", "mobile", "traffic"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains(&path.display().to_string()) && e.contains("permission denied"),
        "{e}"
    );
}

#[test]
fn silent_daemon_times_out() {
    let d = FakeDaemon::start(None, Duration::from_millis(1500));
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mipctl"))
        .env("MIPCTL_TIMEOUT", "0.3")
        .args(["--socket"])
        .arg(&d.path)
        .args(["show", "ip", "mobile", "violation"])
        .output()
        .unwrap();
    assert!(
        t0.elapsed() < Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no answer within 0.3 s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(d.request(), json!({"command": "show_violation"}));
}

#[test]
fn bad_commands_exit_2_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let listener = UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    for (words, start) in [
        (&["show", "ip", "mobile"][..], "% Incomplete command."),
        (
            &["clear", "ip", "mobile", "binding"][..],
            "% Incomplete command.",
        ),
        (
            &["show", "ip", "mobile", "bindings"][..],
            "% Invalid input detected at 'bindings'.",
        ),
        (&["show", "ip", "mobile", "t"][..], "% Ambiguous command"),
        (
            &["show", "ip", "mobile", "binding", "10.0.0.300"][..],
            "% Invalid input",
        ),
        (
            &["--frobnicate", "show", "ip", "mobile", "traffic"][..],
            "% unknown argument",
        ),
    ] {
        let out = mipctl(Some(&path), words);
        assert_eq!(out.status.code(), Some(2), "{words:?}");
        assert!(
            stderr(&out).starts_with(start),
            "{words:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "");
    }
    let out = mipctl(Some(&path), &["show", "ip", "mobile"]);
    assert!(stderr(&out).contains("expected: binding | host | secure"));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("mipctl connected for a bad command: {other:?}"),
    }
}
