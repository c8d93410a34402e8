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

// ---------------------------------------------------------------------------------------
// Foreign agent and mobile node commands
// ---------------------------------------------------------------------------------------

fn seed_visitor_list() -> VisitorList {
    VisitorList {
        total: 1,
        visitors: vec![VisitorView {
            home_address: a("20.0.0.1"),
            nai: None,
            session_id: None,
            interface: "Ethernet1/2".into(),
            mac_address: Some("0060.837b.95ec".into()),
            source_address: a("20.0.0.1"),
            destination_address: a("67.0.0.31"),
            source_port: 434,
            home_agent: a("66.0.0.5"),
            care_of_address: a("68.0.0.31"),
            identification: 0xB751_0E60_6443_6B38,
            identification_text: "B7510E60.64436B38".into(),
            lifetime_granted: 30000,
            remaining_secs: Some(29956),
            tunnel: TunnelRefView {
                name: "Tunnel100".into(),
                source: a("68.0.0.31"),
                destination: a("66.0.0.5"),
            },
            reverse_allowed: true,
            flags: 0x02,
            flags_text: "sbdmgvT".into(),
            routing_options: vec![RoutingOption::ReverseTunnel],
            encapsulation: EncapsulationView::IpIp,
        }],
    }
}

#[test]
fn show_visitor_forms_send_their_filter_and_print_router_text() {
    let list = seed_visitor_list();
    let data = serde_json::to_value(&list).unwrap();
    for (words, filter) in [
        (&["sh", "ip", "mob", "vis"][..], json!({"by": "all"})),
        (
            &["show", "ip", "mobile", "visitor", "20.0.0.1"][..],
            json!({"by": "address", "address": "20.0.0.1"}),
        ),
        (
            &[
                "show",
                "ip",
                "mobile",
                "visitor",
                "nai",
                "user01@cisco.com",
                "session-id",
                "PDA",
            ][..],
            json!({"by": "nai", "nai": "user01@cisco.com", "session_id": "PDA"}),
        ),
    ] {
        let d = FakeDaemon::answering(&Response::ok(data.clone()));
        let out = mipctl(Some(&d.path), words);
        assert!(out.status.success(), "{words:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), show::visitor_list(&list));
        assert!(stdout(&out).starts_with("Mobile Visitor List:\nTotal 1\n20.0.0.1:\n"));
        assert_eq!(
            d.request(),
            json!({"command": "show_visitor", "filter": filter}),
            "{words:?}"
        );
    }
}

#[test]
fn show_visitor_pending_and_summaries() {
    let pending = PendingList {
        total: 1,
        pending: vec![PendingView {
            home_address: a("20.0.0.1"),
            nai: None,
            session_id: None,
            interface: "Ethernet1/2".into(),
            mac_address: None,
            source_address: a("20.0.0.1"),
            destination_address: a("67.0.0.31"),
            source_port: 434,
            home_agent: a("66.0.0.5"),
            care_of_address: a("68.0.0.31"),
            identification: 1,
            identification_text: "00000000.00000001".into(),
            lifetime_requested: 600,
            remaining_secs: 12,
            flags: 0,
            flags_text: "sbdmgvt".into(),
        }],
    };
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&pending).unwrap()));
    let out = mipctl(
        Some(&d.path),
        &["show", "ip", "mobile", "visitor", "pending", "20.0.0.1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::pending_list(&pending));
    assert!(stdout(&out).starts_with("Mobile Pending List:\nTotal 1\n"));
    assert_eq!(
        d.request(),
        json!({"command": "show_visitor", "filter": {"by": "pending", "address": "20.0.0.1"}})
    );

    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&pending).unwrap()));
    let out = mipctl(Some(&d.path), &["sh", "ip", "mob", "vis", "pend"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        d.request(),
        json!({"command": "show_visitor", "filter": {"by": "pending", "address": null}})
    );

    let s = VisitorSummary {
        total: 1,
        reverse_tunnels: 1,
        tunnels: 1,
        ..VisitorSummary::default()
    };
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&s).unwrap()));
    let out = mipctl(
        Some(&d.path),
        &["show", "ip", "mobile", "visitor", "summary"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::visitor_summary(&s));
    assert_eq!(
        d.request(),
        json!({"command": "show_visitor", "filter": {"by": "summary"}})
    );

    let ps = PendingSummary {
        total: 2,
        mobile_nodes: 1,
        ..PendingSummary::default()
    };
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&ps).unwrap()));
    let out = mipctl(
        Some(&d.path),
        &["show", "ip", "mobile", "visitor", "pending", "summary"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::pending_summary(&ps));
    assert_eq!(
        d.request(),
        json!({"command": "show_visitor", "filter": {"by": "pending_summary"}})
    );
}

#[test]
fn show_node_text_and_json() {
    let n = NodeView {
        state: NodeStateView::AtHome,
        home_address: a("20.0.0.1"),
        home_agent: a("66.0.0.5"),
        nai: None,
        interface: Some("eth0".into()),
        attachment: Some(AttachmentView::Home),
        agent_address: None,
        care_of_address: None,
        flags_text: None,
        lifetime_requested: None,
        lifetime_granted: None,
        remaining_secs: None,
        renewal_in_secs: None,
        last_reply_code: Some(0),
        last_reply_name: Some("registration accepted".into()),
        retransmissions: 0,
        clock_offset_ms: 0,
        counters: NodeCountersView::default(),
        agents: vec![],
    };
    let data = serde_json::to_value(&n).unwrap();
    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(Some(&d.path), &["sh", "ip", "mob", "node"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::node(&n));
    assert!(stdout(&out).starts_with("Mobile Node:\n    State at home\n"));
    assert_eq!(d.request(), json!({"command": "show_node"}));

    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(Some(&d.path), &["--json", "show", "ip", "mobile", "node"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
    assert_eq!(serde_json::from_str::<NodeView>(&text).unwrap(), n);
    d.request();

    // A daemon without the mobile node role refuses: exit 1 with its message.
    let d = FakeDaemon::answering(&Response::error("mobile node not configured"));
    let out = mipctl(Some(&d.path), &["show", "ip", "mobile", "node"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "% mobile node not configured\n");
    d.request();
}

#[test]
fn show_dataplane_text_and_json() {
    let v = DataplaneView {
        kind: DataplaneKindView::Log,
        reason: Some("--dataplane".into()),
        requests: Some(3),
        engine: None,
        note: None,
    };
    let data = serde_json::to_value(&v).unwrap();
    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(Some(&d.path), &["sh", "ip", "mob", "data"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), show::dataplane(&v));
    assert!(stdout(&out).starts_with("Mobile Data Plane:\n    Data plane log (--dataplane)\n"));
    assert_eq!(d.request(), json!({"command": "show_dataplane"}));

    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(
        Some(&d.path),
        &["--json", "show", "ip", "mobile", "dataplane"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
    assert_eq!(serde_json::from_str::<DataplaneView>(&text).unwrap(), v);
    d.request();

    // Junk after the command: refused locally (exit 2), nothing sent.
    let dir = tempfile::tempdir().unwrap();
    let out = mipctl(
        Some(&dir.path().join("none.sock")),
        &["show", "ip", "mobile", "dataplane", "detail"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("% Invalid input detected at 'detail'."),
        "{}",
        stderr(&out)
    );
}

#[test]
fn visitor_json_and_traffic_with_foreign_agent() {
    let list = seed_visitor_list();
    let data = serde_json::to_value(&list).unwrap();
    let d = FakeDaemon::answering(&Response::ok(data.clone()));
    let out = mipctl(
        Some(&d.path),
        &["--json", "show", "ip", "mobile", "visitor"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<VisitorList>(&stdout(&out)).unwrap(),
        list
    );
    d.request();

    let mut t = TrafficView::default();
    t.add_foreign_agent(FaTrafficView {
        advertisements_sent: 4,
        requests_in: 2,
        requests_forwarded: 2,
        replies_in: 2,
        replies_forwarded: 2,
        ..FaTrafficView::default()
    });
    let d = FakeDaemon::answering(&Response::ok(serde_json::to_value(&t).unwrap()));
    let out = mipctl(Some(&d.path), &["show", "ip", "mobile", "traffic"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text, show::traffic(&t));
    assert!(text.contains("\n    Advertisements sent 4, response to solicitation 0\n"));
    assert!(text.contains(
        "\nForeign Agent Registrations:\n    Request in 2, Forwarded 2, Denied 0, Ignored 0\n"
    ));
    d.request();

    // An older daemon's traffic (no foreign_agent field) still prints.
    let d = FakeDaemon::answering(&Response::ok(json!({"accepted": 3})));
    let out = mipctl(Some(&d.path), &["show", "ip", "mobile", "traffic"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("Foreign Agent"));
    d.request();
}

#[test]
fn clear_visitor_forms() {
    for (words, selector) in [
        (
            &["clear", "ip", "mobile", "visitor"][..],
            json!({"by": "all"}),
        ),
        (
            &["clear", "ip", "mobile", "visitor", "all"][..],
            json!({"by": "all"}),
        ),
        (
            &["clear", "ip", "mob", "vis", "172.21.58.16"][..],
            json!({"by": "address", "address": "172.21.58.16"}),
        ),
        (
            &[
                "clear",
                "ip",
                "mobile",
                "visitor",
                "nai",
                "user01@cisco.com",
                "session-id",
                "PDA",
                "100.100.100.17",
            ][..],
            json!({"by": "nai", "nai": "user01@cisco.com", "session_id": "PDA",
                   "address": "100.100.100.17"}),
        ),
    ] {
        let d = FakeDaemon::answering(&Response::ok(json!({"cleared": 1})));
        let out = mipctl(Some(&d.path), words);
        assert!(out.status.success(), "{words:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{words:?}");
        assert_eq!(stderr(&out), "");
        assert_eq!(
            d.request(),
            json!({"command": "clear_visitor", "selector": selector}),
            "{words:?}"
        );
    }
    // --json prints the answer's data; no data gives {}.
    let d = FakeDaemon::start(Some(r#"{"ok":true}"#.into()), Duration::ZERO);
    let out = mipctl(
        Some(&d.path),
        &["--json", "clear", "ip", "mobile", "visitor", "20.0.0.1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({})
    );
    d.request();
}

#[test]
fn bad_visitor_and_node_commands_exit_2_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let listener = UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    for (words, start) in [
        (
            &["show", "ip", "mobile", "visitor", "nai"][..],
            "% Incomplete command.\n  expected: NAI",
        ),
        (
            &[
                "show",
                "ip",
                "mobile",
                "visitor",
                "nai",
                "u@r",
                "session-id",
            ][..],
            "% Incomplete command.\n  expected: ID",
        ),
        (
            &["show", "ip", "mobile", "v"][..],
            "% Ambiguous command: \"v\" could be violation, visitor",
        ),
        (
            &["show", "ip", "mobile", "visitor", "pending", "sideways"][..],
            "% Invalid input detected at 'sideways'.\n  expected: A.B.C.D | summary | <cr>",
        ),
        (
            &["show", "ip", "mobile", "visitor", "20.0.0.1", "summary"][..],
            "% Invalid input detected at 'summary'.",
        ),
        (
            &["show", "ip", "mobile", "node", "detail"][..],
            "% Invalid input detected at 'detail'.",
        ),
        (
            &["clear", "ip", "mobile", "visitor", "nai"][..],
            "% Incomplete command.",
        ),
        (
            &["clear", "ip", "mobile", "visitor", "20.0.0.300"][..],
            "% Invalid input",
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
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("mipctl connected for a bad command: {other:?}"),
    }
}
