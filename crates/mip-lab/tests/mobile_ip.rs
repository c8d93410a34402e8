//! Mobile IP end to end in the namespace lab: the real `mipd` as home agent, foreign agents
//! and mobile node (examples/lab/*.toml, or copies of mn.toml with other flags), checked with
//! the demo's stream and ping, `mipctl --json show ip mobile ...` over the agents' control
//! sockets, `ip -n NS ...` and tshark.
//!
//! Needs root, `ip netns`, and the workspace's `mipd` and `mipctl` binaries beside `mip-lab`
//! (`cargo test --workspace` builds them; `cargo build -p mipd -p mipctl` otherwise); the
//! capture test needs tshark. Missing any of these, a test prints a loud SKIPPED line and
//! passes — except under `CI` (set), where it fails. The tests run one at a time and use their
//! own run ids.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mip_lab::agents::{self, AgentOpts};
use mip_lab::demo::{self, DemoOpts, DemoReport, MoveHook};
use mip_lab::plan::{Lab, Node, Place, FA1_VISIT, FA2_VISIT, HA_HOME, MN_COLOC, MN_HOME};
use mip_lab::session::{self, Session};
use mip_lab::topology::{self, Mode};
use serde_json::Value;

static SERIAL: Mutex<()> = Mutex::new(());

const BIN: &str = env!("CARGO_BIN_EXE_mip-lab");

/// The lab's mobile node configuration (copies are made from it).
const MN_TOML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lab/mn.toml");

/// Prints the loud skip line, or panics under CI.
fn skip(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why}, and CI is set: the Mobile IP lab tests must run in CI");
    }
    // Straight to the process's stderr: the test harness captures eprintln! of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED ({why}) *** mip-lab mobile_ip {test}\n"
    );
}

/// What the tests run.
struct Env {
    mipd: PathBuf,
    mipctl: PathBuf,
}

/// Whether the test can run here (root, `ip netns`, mipd with its roles, mipctl).
fn env(test: &str) -> Option<Env> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        skip(test, "needs root");
        return None;
    }
    let ip_netns = Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ip_netns {
        skip(test, "needs `ip netns`");
        return None;
    }
    let dir = Path::new(BIN).parent().expect("mip-lab has a directory");
    let mipd = dir.join("mipd");
    let mipctl = dir.join("mipctl");
    for b in [&mipd, &mipctl] {
        if !b.is_file() {
            skip(
                test,
                &format!(
                    "no {} (cargo test --workspace builds it; or cargo build -p mipd -p mipctl)",
                    b.display()
                ),
            );
            return None;
        }
    }
    if let Err(why) = agents::probe(&mipd) {
        // mipd is in this workspace: a mipd without its roles is a failure, not a skip.
        panic!("{test}: {why}");
    }
    mip_lab::proc::set_self_exe(BIN);
    Some(Env { mipd, mipctl })
}

fn id(tag: &str) -> String {
    format!("m{}{tag}", std::process::id() % 100_000)
}

fn lab(tag: &str) -> Lab {
    Lab::new(&id(tag)).expect("valid run id")
}

/// A change to the lab's mn.toml.
enum Edit<'a> {
    /// Replaces the line `KEY = ...` (exactly one such line) by `KEY = VALUE`.
    Set(&'a str, &'a str),
    /// Replaces the `[flags]` table by one with these flags (the others false).
    Flags(&'a [&'a str]),
}

/// A copy of the lab's mn.toml (read now: it may change while the tests are written) with
/// `edits`, in the tests' scratch directory.
fn mn_config(tag: &str, edits: &[Edit]) -> PathBuf {
    let mut text = std::fs::read_to_string(MN_TOML).expect("read examples/lab/mn.toml");
    for edit in edits {
        match edit {
            Edit::Set(key, value) => {
                let prefix = format!("{key} =");
                let hits = text.lines().filter(|l| l.starts_with(&prefix)).count();
                assert_eq!(hits, 1, "mn.toml has one `{key} = ...` line");
                text = text
                    .lines()
                    .map(|l| {
                        if l.starts_with(&prefix) {
                            format!("{key} = {value}")
                        } else {
                            l.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            Edit::Flags(on) => {
                let mut out = Vec::new();
                let mut in_flags = false;
                for l in text.lines() {
                    if l.trim_start().starts_with('[') {
                        in_flags = l.trim() == "[flags]";
                    }
                    if !in_flags {
                        out.push(l.to_string());
                    }
                }
                out.push("\n[flags]".into());
                for f in ["reverse_tunnel", "gre", "minimal"] {
                    out.push(format!("{f} = {}", on.contains(&f)));
                }
                text = out.join("\n");
            }
        }
        text.push('\n');
    }
    let dir = PathBuf::from(format!("/tmp/mip-lab-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("config directory");
    let path = dir.join(format!("mn-{tag}.toml"));
    std::fs::write(&path, text).expect("write the mn config copy");
    path
}

fn agent_opts(e: &Env, mn: Option<PathBuf>) -> AgentOpts {
    AgentOpts {
        mipd: Some(e.mipd.clone()),
        config_dir: None,
        mn_config: mn,
        tunnel_tx: None,
    }
}

/// `mipctl --socket SOCK --json show ip mobile WORDS`, parsed; `Err` with mipctl's message.
fn try_show(e: &Env, sock: &Path, words: &str) -> Result<Value, String> {
    let mut cmd = Command::new(&e.mipctl);
    cmd.arg("--socket")
        .arg(sock)
        .args(["--json", "show", "ip", "mobile"])
        .args(words.split_whitespace());
    let out = cmd.output().map_err(|err| format!("run mipctl: {err}"))?;
    if !out.status.success() {
        return Err(format!(
            "mipctl show ip mobile {words}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|err| format!("mipctl --json: {err}"))
}

fn show(e: &Env, sock: &Path, words: &str) -> Value {
    try_show(e, sock, words).unwrap_or_else(|err| panic!("{err}"))
}

/// `ip -n NS ARGS` (stdout).
fn ip(ns: &str, args: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns])
        .args(args.split_whitespace())
        .output()
        .expect("run ip");
    assert!(out.status.success(), "ip -n {ns} {args}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` every 100 ms until it returns true or `timeout` passes.
fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn array(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

/// The bindings of the home agent.
fn bindings(e: &Env, s: &Path) -> Vec<Value> {
    array(&show(e, s, "binding"), "bindings")
}

/// The visitors of a foreign agent.
fn visitors(e: &Env, s: &Path) -> Vec<Value> {
    array(&show(e, s, "visitor"), "visitors")
}

/// The IP protocol number of an `encapsulation` value of the control views.
fn encap_protocol(v: &Value) -> u8 {
    match v.as_str() {
        Some("ip-ip") => 4,
        Some("gre") => 47,
        Some("minimal") => 55,
        other => panic!("unknown encapsulation {other:?}"),
    }
}

/// The mobile node's state (`show ip mobile node`).
fn mn_state(e: &Env, s: &Session) -> Value {
    show(e, &s.socket(Node::Mn), "node")
}

/// Runs the demo in this process, calling `hook` after each move.
fn run_demo(
    e: &Env,
    lab: &Lab,
    moves: &[Place],
    mn: Option<PathBuf>,
    hook: impl Fn(&Lab, usize, Place, Option<&agents::Agents>) + Send + Sync + 'static,
) -> DemoReport {
    let opts = DemoOpts {
        moves: moves.to_vec(),
        mode: Mode::MobileIp,
        dwell: Duration::from_millis(1500),
        agents: agent_opts(e, mn),
        drain: Duration::from_secs(10),
        after_move: Some(MoveHook(Arc::new(hook))),
        ..DemoOpts::default()
    };
    let r = demo::demo(lab, &opts, false);
    eprintln!(
        "demo {}: {}",
        lab.id(),
        serde_json::to_string_pretty(&r).expect("report serializes")
    );
    r
}

/// What every Mobile IP demo must show: agents ran, each move handed off, the stream arrived
/// complete and identical, nothing left behind.
fn assert_demo_ok(r: &DemoReport, moves: &[Place]) {
    assert!(r.agents.started, "agents: {}", r.agents.detail);
    assert!(r.errors.is_empty(), "demo errors: {:?}", r.errors);
    assert_eq!(r.moves.len(), moves.len());
    for (m, want) in r.moves.iter().zip(moves) {
        assert_eq!(m.to, *want);
        assert!(
            m.handoff_ms.is_some_and(|h| h > 0.0 && h < 5000.0),
            "move {} -> {}: handoff {:?}",
            m.from,
            m.to,
            m.handoff_ms
        );
        assert!(m.stream_resume_ms.is_some(), "{} -> {}", m.from, m.to);
    }
    assert!(r.stream.bytes_sent > 100_000, "stream ran: {:?}", r.stream);
    assert_eq!(r.stream.bytes_received, r.stream.bytes_sent);
    assert!(r.stream.identical, "stream identical: {:?}", r.stream);
    assert!(r.ok, "ok");
    assert!(topology::existing_namespaces(&Lab::new(&r.id).unwrap()).is_empty());
}

/// Observations made by a demo hook, checked after the demo (a panic inside the hook would be
/// caught by nobody while the stream runs).
type Seen = Arc<Mutex<Vec<(usize, Place, Value)>>>;

fn record(seen: &Seen, k: usize, to: Place, v: Value) {
    seen.lock().unwrap().push((k, to, v));
}

fn seen_at(seen: &Seen, k: usize) -> Value {
    seen.lock()
        .unwrap()
        .iter()
        .find(|s| s.0 == k)
        .map(|s| s.2.clone())
        .unwrap_or_else(|| panic!("no observation after move {k}"))
}

/// A hook recording the home agent's bindings, tunnels and data plane and the foreign agents'
/// visitors.
fn observe(
    mipctl: PathBuf,
    seen: Seen,
) -> impl Fn(&Lab, usize, Place, Option<&agents::Agents>) + Send + Sync + 'static {
    move |_lab, k, to, agents| {
        let Some(a) = agents else { return };
        let e = Env {
            mipd: PathBuf::new(),
            mipctl: mipctl.clone(),
        };
        let q = |node: Node, words: &str| {
            try_show(&e, &a.socket(node), words).unwrap_or_else(Value::String)
        };
        let v = serde_json::json!({
            "ha_binding": q(Node::Ha, "binding"),
            "ha_tunnel": q(Node::Ha, "tunnel"),
            "ha_dataplane": q(Node::Ha, "dataplane"),
            "fa1_visitor": q(Node::Fa1, "visitor"),
            "fa1_tunnel": q(Node::Fa1, "tunnel"),
            "fa2_visitor": q(Node::Fa2, "visitor"),
            "fa2_tunnel": q(Node::Fa2, "tunnel"),
            "mn_node": q(Node::Mn, "node"),
        });
        record(&seen, k, to, v);
    }
}

fn visitors_in(v: &Value) -> Vec<Value> {
    array(v, "visitors")
}

/// Test 1 (and 4): the whole roaming demo through the agents; at each place the home agent's
/// binding points at the right care-of address with IP-in-IP, and back home the
/// deregistration removes the binding while the pings go on (plain delivery restored).
#[test]
fn demo_roams_home_fa1_fa2_coloc_home_and_deregisters() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "demo home,fa1,fa2,coloc,home";
    let Some(e) = env(test) else { return };
    let lab = lab("a");
    let moves = [
        Place::Home,
        Place::Fa1,
        Place::Fa2,
        Place::Coloc,
        Place::Home,
    ];
    let seen: Seen = Arc::default();
    let t = Instant::now();
    let r = run_demo(
        &e,
        &lab,
        &moves,
        None,
        observe(e.mipctl.clone(), seen.clone()),
    );
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
    assert_demo_ok(&r, &moves);

    for (k, coa) in [(1, FA1_VISIT), (2, FA2_VISIT), (3, MN_COLOC)] {
        let v = seen_at(&seen, k);
        let b = array(&v["ha_binding"], "bindings");
        assert_eq!(b.len(), 1, "one binding after move {k}: {v:#}");
        assert_eq!(b[0]["home_address"], MN_HOME.to_string());
        assert_eq!(b[0]["care_of_address"], coa.to_string(), "{v:#}");
        assert_eq!(encap_protocol(&b[0]["encapsulation"]), 4, "IP-in-IP");
        assert_eq!(v["mn_node"]["state"], "registered", "{v:#}");
    }
    let fa1 = visitors_in(&seen_at(&seen, 1)["fa1_visitor"]);
    assert_eq!(fa1.len(), 1, "fa1 has the visitor");
    assert_eq!(fa1[0]["home_address"], MN_HOME.to_string());
    let fa2 = visitors_in(&seen_at(&seen, 2)["fa2_visitor"]);
    assert_eq!(fa2.len(), 1, "fa2 has the visitor");

    // Test 4: back home, deregistered: no binding, no tunnel, the MN at home; the pings of
    // the last move (home) were answered, i.e. plain delivery on the home link works.
    let home = seen_at(&seen, 4);
    assert_eq!(
        array(&home["ha_binding"], "bindings"),
        Vec::<Value>::new(),
        "no binding at home: {home:#}"
    );
    assert_eq!(home["mn_node"]["state"], "at-home", "{home:#}");
    let last = r.moves.last().unwrap();
    assert!(last.handoff_ms.is_some(), "pings answered at home");
    assert!(
        last.pings_sent > 50 && last.packets_lost * 10 < last.pings_sent,
        "pings at home: {} sent, {} lost",
        last.pings_sent,
        last.packets_lost
    );
}

/// Test 2: one encapsulation through fa1 (home,fa1,home) with an identical stream, and the
/// home agent's binding (and fa1's visitor entry) shows it.
fn encapsulation(tag: &str, flags: &[&str], want: u8) {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = format!("encapsulation {want}");
    let Some(e) = env(&test) else { return };
    let mn = mn_config(tag, &[Edit::Flags(flags)]);
    let lab = lab(tag);
    let moves = [Place::Home, Place::Fa1, Place::Home];
    let seen: Seen = Arc::default();
    let t = Instant::now();
    let r = run_demo(
        &e,
        &lab,
        &moves,
        Some(mn),
        observe(e.mipctl.clone(), seen.clone()),
    );
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
    assert_demo_ok(&r, &moves);
    let v = seen_at(&seen, 1);
    let b = array(&v["ha_binding"], "bindings");
    assert_eq!(b.len(), 1, "one binding at fa1: {v:#}");
    assert_eq!(b[0]["care_of_address"], FA1_VISIT.to_string());
    assert_eq!(
        encap_protocol(&b[0]["encapsulation"]),
        want,
        "binding encapsulation: {v:#}"
    );
    let t = array(&v["ha_tunnel"], "tunnels");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(encap_protocol(&t[0]["encapsulation"]), want);
    // The foreign agent's end of the tunnel (its counters are the data plane's).
    let t = array(&v["fa1_tunnel"], "tunnels");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(encap_protocol(&t[0]["encapsulation"]), want);
    assert!(
        t[0]["packets_in"].as_u64().unwrap_or(0) > 10,
        "fa1 decapsulated the home agent's tunnel: {v:#}"
    );
    let vis = visitors_in(&v["fa1_visitor"]);
    assert_eq!(vis.len(), 1, "{v:#}");
    assert_eq!(encap_protocol(&vis[0]["encapsulation"]), want);
    // `show ip mobile dataplane --json` on the home agent: the TUN data plane, raw transmit
    // (the default), and the stream read from its TUN device.
    let dp = &v["ha_dataplane"];
    assert_eq!(dp["kind"], "tun", "{dp:#}");
    assert_eq!(dp["engine"]["tx_mode"], "raw", "{dp:#}");
    assert_eq!(dp["engine"]["tunnels"], 1, "{dp:#}");
    assert!(
        dp["engine"]["counters"]["tun_packets"]
            .as_u64()
            .unwrap_or(0)
            > 10,
        "the home agent's engine read the stream from its TUN device: {dp:#}"
    );
    assert_eq!(
        dp["engine"]["counters"]["tx_packet_socket"], 0,
        "raw mode: {dp:#}"
    );
}

#[test]
fn encapsulation_ip_in_ip() {
    encapsulation("ip", &[], 4);
}

#[test]
fn encapsulation_gre() {
    encapsulation("gre", &["gre"], 47);
}

#[test]
fn encapsulation_minimal() {
    encapsulation("min", &["minimal"], 55);
}

/// Test 3: reverse tunnelling (T): the stream is identical, binding and visitor entry are
/// reverse-allowed, and fa1's tunnel to the home agent carried the mobile node's packets (the
/// stream's ACKs, the echo replies) back home, where the home agent decapsulated them.
#[test]
fn reverse_tunnel_through_fa1() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "reverse tunnel";
    let Some(e) = env(test) else { return };
    let mn = mn_config("rt", &[Edit::Flags(&["reverse_tunnel"])]);
    let lab = lab("rt");
    let moves = [Place::Home, Place::Fa1, Place::Home];
    let seen: Seen = Arc::default();
    let t = Instant::now();
    let r = run_demo(
        &e,
        &lab,
        &moves,
        Some(mn),
        observe(e.mipctl.clone(), seen.clone()),
    );
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
    assert_demo_ok(&r, &moves);
    let v = seen_at(&seen, 1);
    let b = array(&v["ha_binding"], "bindings");
    assert_eq!(b.len(), 1, "{v:#}");
    assert_eq!(b[0]["reverse_allowed"], true, "{v:#}");
    let vis = visitors_in(&v["fa1_visitor"]);
    assert_eq!(vis.len(), 1, "{v:#}");
    assert_eq!(vis[0]["reverse_allowed"], true, "{v:#}");
    let t = array(&v["ha_tunnel"], "tunnels");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(t[0]["reverse_allowed"], true, "{v:#}");
    let t = array(&v["fa1_tunnel"], "tunnels");
    assert_eq!(t.len(), 1, "{v:#}");
    assert_eq!(t[0]["reverse_allowed"], true, "{v:#}");
    assert_eq!(t[0]["destination"], HA_HOME.to_string(), "{v:#}");
    assert!(
        t[0]["packets_out"].as_u64().unwrap_or(0) > 10,
        "fa1 reverse-tunnelled the mobile node's packets to the home agent: {v:#}"
    );
    let t = array(&v["ha_tunnel"], "tunnels");
    assert!(
        t[0]["packets_in"].as_u64().unwrap_or(0) > 10,
        "the home agent decapsulated the reverse tunnel: {v:#}"
    );
}

/// The agents' engines sending on AF_PACKET sockets (`mipd --tunnel-tx packet`): the stream
/// survives home -> fa1 -> fa2 -> home byte for byte, and both tunnels carried it.
#[test]
fn roaming_with_packet_socket_transmit() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "packet transmit";
    let Some(e) = env(test) else { return };
    let lab = lab("ptx");
    let moves = [Place::Home, Place::Fa1, Place::Fa2, Place::Home];
    let seen: Seen = Arc::default();
    let opts = DemoOpts {
        moves: moves.to_vec(),
        mode: Mode::MobileIp,
        dwell: Duration::from_millis(1500),
        agents: AgentOpts {
            tunnel_tx: Some("packet".into()),
            ..agent_opts(&e, None)
        },
        drain: Duration::from_secs(10),
        after_move: Some(MoveHook(Arc::new(observe(e.mipctl.clone(), seen.clone())))),
        ..DemoOpts::default()
    };
    let r = demo::demo(&lab, &opts, false);
    eprintln!("{test}: {}", serde_json::to_string_pretty(&r).unwrap());
    assert_demo_ok(&r, &moves);
    for (k, fa) in [(1, "fa1_tunnel"), (2, "fa2_tunnel")] {
        let v = seen_at(&seen, k);
        let t = array(&v["ha_tunnel"], "tunnels");
        assert_eq!(t.len(), 1, "{v:#}");
        assert!(
            t[0]["packets_out"].as_u64().unwrap_or(0) > 10,
            "the home agent tunnelled the stream: {v:#}"
        );
        let t = array(&v[fa], "tunnels");
        assert!(
            t[0]["packets_in"].as_u64().unwrap_or(0) > 10,
            "{fa} decapsulated it: {v:#}"
        );
        // `show ip mobile dataplane --json`: packet transmit, and the packet socket carried
        // the stream.
        let dp = &v["ha_dataplane"];
        assert_eq!(dp["kind"], "tun", "{dp:#}");
        assert_eq!(dp["engine"]["tx_mode"], "packet", "{dp:#}");
        assert!(
            dp["engine"]["counters"]["tx_packet_socket"]
                .as_u64()
                .unwrap_or(0)
                > 0,
            "the home agent sent on its packet socket: {dp:#}"
        );
    }
}

/// Starts a lab with its agents (the mobile node with `mn`), or panics with the reason.
fn start(e: &Env, tag: &str, mn: Option<PathBuf>) -> Session {
    session::start(&lab(tag), &agent_opts(e, mn)).unwrap_or_else(|err| panic!("lab: {err}"))
}

/// Moves the mobile node (the link only; the agents do the rest).
fn move_to(s: &Session, to: Place) {
    topology::move_to(&s.lab, to, Mode::MobileIp).unwrap_or_else(|err| panic!("move: {err}"));
}

/// Waits until the mobile node is registered through `coa` (state, HA binding, FA visitor).
fn wait_registered(e: &Env, s: &Session, fa: Node, coa: Ipv4Addr) {
    let ok = wait_until(Duration::from_secs(8), || {
        mn_state(e, s)["state"] == "registered"
            && bindings(e, &s.socket(Node::Ha))
                .iter()
                .any(|b| b["care_of_address"] == coa.to_string())
            && !visitors(e, &s.socket(fa)).is_empty()
    });
    assert!(
        ok,
        "not registered via {coa}: node {:#}\nbindings {:#}",
        mn_state(e, s),
        show(e, &s.socket(Node::Ha), "binding")
    );
}

/// Test 5: a mobile node with the wrong MN-HA key is refused by the home agent with 131
/// (violation logged, counted and listed), gets no binding, and stays unregistered.
#[test]
fn wrong_key_refused_with_131() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "wrong key";
    let Some(e) = env(test) else { return };
    let mn = mn_config(
        "key",
        &[Edit::Set("key_hex", "\"00112233445566778899aabbccddeeff\"")],
    );
    let t = Instant::now();
    let s = start(&e, "key", Some(mn));
    move_to(&s, Place::Fa1);
    let ha = s.socket(Node::Ha);
    let found = wait_until(Duration::from_secs(8), || {
        array(&show(&e, &ha, "violation"), "violations")
            .iter()
            .any(|v| v["code"] == 131 && v["address"] == MN_HOME.to_string())
    });
    let violations = show(&e, &ha, "violation");
    assert!(found, "no violation with code 131: {violations:#}");
    let v = &array(&violations, "violations")[0];
    assert_eq!(v["reason"], "bad-authenticator", "{violations:#}");
    assert_eq!(v["foreign_agent"], false);
    let traffic = show(&e, &ha, "traffic");
    assert!(
        traffic["auth_failed_mn"].as_u64().unwrap_or(0) >= 1,
        "{traffic:#}"
    );
    let host = show(&e, &ha, "host counters");
    let h = array(&host, "hosts");
    assert!(
        h.iter().any(|h| h["counters"]["last_code"] == 131),
        "host counters: {host:#}"
    );
    assert_eq!(bindings(&e, &ha), Vec::<Value>::new(), "no binding");
    assert!(visitors(&e, &s.socket(Node::Fa1)).is_empty(), "no visitor");
    let node = mn_state(&e, &s);
    assert_ne!(node["state"], "registered", "{node:#}");
    let c = &node["counters"];
    assert!(
        c["denied_by_home_agent"].as_u64().unwrap_or(0)
            + c["replies_failed_authentication"].as_u64().unwrap_or(0)
            >= 1,
        "the mobile node saw the refusal: {node:#}"
    );
    assert_eq!(c["registrations_accepted"], 0, "{node:#}");
    let log = std::fs::read_to_string(s.agents.log(Node::Ha)).expect("home agent log");
    assert!(
        log.lines()
            .any(|l| l.contains("security violation") && l.contains("code=131")),
        "the home agent logged the violation:\n{log}"
    );
    drop(s);
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
}

/// Runs `f` on a thread inside network namespace `ns`.
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("namespace thread")
}

/// A Registration Request (RFC 5944 §3.3) from the home address with `lifetime`, with an
/// MN-HA authentication extension (SPI 0x100) whose authenticator is zero: the foreign agent
/// checks the lifetime before it relays, and never sees the MN-HA key.
fn registration_request(lifetime: u16, care_of: Ipv4Addr, id: u64) -> Vec<u8> {
    let mut p = vec![1u8, 0];
    p.extend_from_slice(&lifetime.to_be_bytes());
    p.extend_from_slice(&MN_HOME.octets());
    p.extend_from_slice(&HA_HOME.octets());
    p.extend_from_slice(&care_of.octets());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[32, 20]);
    p.extend_from_slice(&0x100u32.to_be_bytes());
    p.extend_from_slice(&[0; 16]);
    p
}

/// Test 6: the foreign agent refuses a lifetime above its `registration_lifetime` (600) with
/// 69 and its limit in the reply. mipd's mobile node never asks for more than the advertised
/// limit (it caps its 900 s to 600 s and registers), so the over-long request is sent from the
/// mobile node's namespace by the test itself.
#[test]
fn foreign_agent_refuses_long_lifetime_with_69() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "lifetime 69";
    let Some(e) = env(test) else { return };
    let mn = mn_config("lt", &[Edit::Set("lifetime", "900")]);
    let t = Instant::now();
    let s = start(&e, "lt", Some(mn));
    move_to(&s, Place::Fa1);
    wait_registered(&e, &s, Node::Fa1, FA1_VISIT);
    let node = mn_state(&e, &s);
    let heard = array(&node, "agents");
    assert_eq!(heard[0]["registration_lifetime"], 600, "{node:#}");
    assert_eq!(
        node["lifetime_requested"], 600,
        "the mobile node caps its 900 s to the advertised 600 s: {node:#}"
    );
    assert_eq!(node["lifetime_granted"], 600, "{node:#}");
    let fa1 = s.socket(Node::Fa1);
    let denied_before = show(&e, &fa1, "traffic")["foreign_agent"]["requests_denied"]
        .as_u64()
        .unwrap_or(0);

    let id: u64 = 0x1234_5678_9abc_def0;
    let reply = in_netns(&s.ns(Node::Mn), move || {
        let sock = UdpSocket::bind(SocketAddrV4::new(MN_HOME, 0)).expect("bind home address");
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let req = registration_request(601, FA1_VISIT, id);
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            sock.send_to(&req, SocketAddrV4::new(FA1_VISIT, 434))
                .expect("send the request");
            let mut buf = [0u8; 1500];
            while let Ok((n, _)) = sock.recv_from(&mut buf) {
                if n >= 20 && buf[0] == 3 && buf[12..20] == id.to_be_bytes() {
                    return Some(buf[..n].to_vec());
                }
            }
        }
        None
    });
    let reply = reply.expect("a Registration Reply from fa1 within 5 s");
    assert_eq!(reply[1], 69, "code: reply {reply:02x?}");
    assert_eq!(
        u16::from_be_bytes([reply[2], reply[3]]),
        600,
        "the reply carries fa1's limit"
    );
    let fa = show(&e, &fa1, "traffic")["foreign_agent"].clone();
    assert!(
        fa["requests_denied"].as_u64().unwrap_or(0) > denied_before,
        "fa1 counted the denial: {fa:#}"
    );
    // The refused request changed nothing: the mobile node is still registered.
    assert_eq!(mn_state(&e, &s)["state"], "registered");
    assert_eq!(visitors(&e, &fa1).len(), 1);
    drop(s);
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
}

/// The lines of `ip -n NS route show table all` / `neigh show [proxy]` about the home address.
fn home_address_state(ns: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let about = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| l.split_whitespace().any(|w| w == MN_HOME.to_string()))
            .map(str::to_string)
            .collect()
    };
    (
        about(ip(ns, "route show table all")),
        about(ip(ns, "neigh show proxy")),
        about(ip(ns, "neigh show nud permanent")),
    )
}

/// Test 7: a registration that is not renewed (the mobile node is killed with SIGKILL, so it
/// cannot deregister) expires on both agents after its 5 s lifetime: the home agent removes
/// binding, tunnel, host route and proxy ARP entry; fa1 the visitor, its /32 route and its
/// permanent neighbour entry.
#[test]
fn expiry_removes_tunnel_route_and_arp_on_both_agents() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "expiry";
    let Some(e) = env(test) else { return };
    let mn = mn_config("exp", &[Edit::Set("lifetime", "5")]);
    let t = Instant::now();
    let mut s = start(&e, "exp", Some(mn));
    move_to(&s, Place::Fa1);
    wait_registered(&e, &s, Node::Fa1, FA1_VISIT);
    let ha = s.socket(Node::Ha);
    let fa1 = s.socket(Node::Fa1);
    let (ha_ns, fa_ns) = (s.ns(Node::Ha), s.ns(Node::Fa1));
    assert_eq!(bindings(&e, &ha)[0]["lifetime_granted"], 5);

    // While registered: everything is in place.
    let (r, proxy, _) = home_address_state(&ha_ns);
    assert!(!r.is_empty(), "home agent: host route for {MN_HOME}");
    assert!(!proxy.is_empty(), "home agent: proxy ARP for {MN_HOME}");
    assert_eq!(array(&show(&e, &ha, "tunnel"), "tunnels").len(), 1);
    let (r, _, perm) = home_address_state(&fa_ns);
    assert!(!r.is_empty(), "fa1: /32 route for {MN_HOME}");
    assert!(!perm.is_empty(), "fa1: permanent neighbour {MN_HOME}");

    assert!(
        s.agents.signal(Node::Mn, libc::SIGKILL),
        "the mobile node daemon died"
    );
    let killed = Instant::now();
    let gone = wait_until(Duration::from_secs(15), || {
        bindings(&e, &ha).is_empty()
            && visitors(&e, &fa1).is_empty()
            && array(&show(&e, &ha, "tunnel"), "tunnels").is_empty()
            && home_address_state(&ha_ns) == Default::default()
            && home_address_state(&fa_ns).0.is_empty()
            && home_address_state(&fa_ns).2.is_empty()
    });
    assert!(
        gone,
        "after {:.1} s: HA bindings {:#}, tunnels {:#}, HA {:?}; fa1 visitors {:?}, fa1 {:?}",
        killed.elapsed().as_secs_f64(),
        show(&e, &ha, "binding"),
        show(&e, &ha, "tunnel"),
        home_address_state(&ha_ns),
        visitors(&e, &fa1),
        home_address_state(&fa_ns)
    );
    let took = killed.elapsed().as_secs_f64();
    assert!(took < 12.0, "removed {took:.1} s after the kill");
    let ha_traffic = show(&e, &ha, "traffic");
    assert!(
        ha_traffic["bindings_expired"].as_u64().unwrap_or(0) >= 1,
        "{ha_traffic:#}"
    );
    let fa = show(&e, &fa1, "traffic")["foreign_agent"].clone();
    assert!(fa["visitors_expired"].as_u64().unwrap_or(0) >= 1, "{fa:#}");
    drop(s);
    eprintln!(
        "{test} took {:.1} s (expired {took:.1} s after the kill)",
        t.elapsed().as_secs_f64()
    );
}

/// A tshark capture in a namespace, stopped (SIGINT) when dropped.
struct Capture {
    child: std::process::Child,
    file: PathBuf,
}

impl Capture {
    /// Starts `tshark -i IF -w FILE` in `ns` and waits until it captures.
    fn start(ns: &str, iface: &str, file: PathBuf) -> Capture {
        let _ = std::fs::remove_file(&file);
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "tshark", "-q", "-i", iface, "-w"])
            .arg(&file)
            .args(["-a", "duration:60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tshark");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut text = String::new();
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("Capturing on") {
                    let _ = tx.send(Ok(()));
                }
                text.push_str(&line);
                text.push('\n');
            }
            let _ = tx.send(Err(text));
        });
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(())) => Capture { child, file },
            other => {
                let _ = child.kill();
                panic!("tshark on {ns}:{iface} did not start capturing: {other:?}");
            }
        }
    }

    /// Stops the capture and returns the file.
    fn stop(mut self) -> PathBuf {
        self.interrupt();
        self.file.clone()
    }

    fn interrupt(&mut self) {
        // SAFETY: signalling our own child (`ip netns exec` execs tshark: same pid).
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.interrupt();
        }
    }
}

/// Expert severities of Wireshark (`_ws.expert.severity`): warning and error.
const PI_WARN: u64 = 0x0060_0000;

/// What a capture holds, from `tshark -r FILE -T json`.
#[derive(Debug, Default)]
struct Dissected {
    frames: usize,
    icmp_types: Vec<u64>,
    mip_types: Vec<u64>,
    /// Malformed packets and expert infos of severity warning or error.
    problems: Vec<String>,
}

fn dissect(file: &Path) -> Dissected {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "json"])
        .output()
        .expect("run tshark -r");
    assert!(
        out.status.success(),
        "tshark -r {}: {out:?}",
        file.display()
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("tshark -T json");
    let mut d = Dissected::default();
    fn walk(frame: usize, v: &Value, d: &mut Dissected) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let num = || x.as_str().and_then(|s| s.parse::<u64>().ok());
                    match k.as_str() {
                        "_ws.malformed" => d.problems.push(format!("frame {frame}: malformed {x}")),
                        "_ws.expert.severity" if num().unwrap_or(0) >= PI_WARN => d
                            .problems
                            .push(format!("frame {frame}: expert {}", m_text(m))),
                        "icmp.type" => d.icmp_types.extend(num()),
                        "mip.type" => d.mip_types.extend(num()),
                        _ => walk(frame, x, d),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(frame, x, d)),
            _ => {}
        }
    }
    fn m_text(m: &serde_json::Map<String, Value>) -> String {
        Value::Object(m.clone()).to_string()
    }
    for (i, p) in v
        .as_array()
        .expect("an array of packets")
        .iter()
        .enumerate()
    {
        d.frames += 1;
        walk(i + 1, &p["_source"]["layers"], &mut d);
    }
    d
}

/// Test 8: the agents' messages on the wire, dissected by tshark: on fa1's visitor link
/// (advertisements, the mobile node's requests and fa1's replies) and on the home agent's
/// backbone (fa1's relayed requests, the home agent's replies, the tunnel) during a move to
/// fa1 and back home — no malformed packet, no expert warning or error, and advertisements,
/// requests and replies seen.
#[test]
fn tshark_dissects_advertisements_and_registrations_cleanly() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = "tshark";
    let Some(e) = env(test) else { return };
    if Command::new("tshark").arg("--version").output().is_err() {
        skip(test, "needs tshark (apt-get install tshark)");
        return;
    }
    let t = Instant::now();
    let s = start(&e, "ts", None);
    let dir = PathBuf::from(format!("/tmp/mip-lab-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let visit = Capture::start(&s.ns(Node::Fa1), "fa1-visit", dir.join("fa1-visit.pcapng"));
    let backbone = Capture::start(&s.ns(Node::Ha), "ha-bb", dir.join("ha-bb.pcapng"));
    // "Capturing on" comes a little before packets are really captured (a registration
    // relayed 30 ms after it was missed): give the captures time to go live.
    std::thread::sleep(Duration::from_secs(1));
    move_to(&s, Place::Fa1);
    wait_registered(&e, &s, Node::Fa1, FA1_VISIT);
    // Traffic through the tunnel while registered.
    let ping = Command::new("ip")
        .args([
            "netns",
            "exec",
            &s.ns(Node::Cn),
            "ping",
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "1",
        ])
        .arg(MN_HOME.to_string())
        .output();
    eprintln!("ping through the tunnel: {ping:?}");
    move_to(&s, Place::Home);
    let home = wait_until(Duration::from_secs(8), || {
        mn_state(&e, &s)["state"] == "at-home" && bindings(&e, &s.socket(Node::Ha)).is_empty()
    });
    assert!(home, "deregistered at home: {:#}", mn_state(&e, &s));
    let files = [visit.stop(), backbone.stop()];
    drop(s);
    for f in &files {
        let d = dissect(f);
        eprintln!(
            "{}: {} frames, ICMP types {:?}, Mobile IP types {:?}",
            f.display(),
            d.frames,
            d.icmp_types,
            d.mip_types
        );
        assert!(d.problems.is_empty(), "{}: {:#?}", f.display(), d.problems);
        assert!(
            d.mip_types.contains(&1),
            "{}: a Registration Request",
            f.display()
        );
        assert!(
            d.mip_types.contains(&3),
            "{}: a Registration Reply",
            f.display()
        );
    }
    let visit = dissect(&files[0]);
    assert!(
        visit.icmp_types.contains(&9),
        "fa1-visit: an Agent Advertisement (ICMP 9)"
    );
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    eprintln!("{test} took {:.1} s", t.elapsed().as_secs_f64());
}
