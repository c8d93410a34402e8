//! The socket modes end to end on 127.0.0.1: `mip-bench run` against `mip-bench echo` (the
//! baseline) and against `mip-bench mini-ha` (the mip-ha core answering with signed replies).
//! Each run is about a second at a small rate.

use std::io::{BufRead, BufReader};
use std::net::SocketAddrV4;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mip-bench");

/// A server child, killed when dropped.
struct Server(Child, SocketAddrV4);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Server(child, addr)
}

fn run(target: SocketAddrV4, extra: &[&str]) -> Value {
    let target = target.to_string();
    let mut args = vec!["run", "--target", &target, "--json"];
    args.extend_from_slice(extra);
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn u(v: &Value, path: &[&str]) -> u64 {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

#[test]
fn open_loop_against_echo_gets_every_reply() {
    let echo = start(&[
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--idle",
        "20",
        "--duration",
        "120",
    ]);
    let r = run(
        echo.1,
        &[
            "--nodes",
            "500",
            "--rate",
            "3000",
            "--duration",
            "1",
            "--verify-every",
            "0",
        ],
    );
    let sent = u(&r, &["measure", "sent"]);
    assert!((2900..=3100).contains(&sent), "sent {sent}");
    assert_eq!(u(&r, &["measure", "replies"]), sent);
    assert_eq!(u(&r, &["measure", "accepted"]), sent);
    assert_eq!(u(&r, &["measure", "timeouts"]), 0);
    assert_eq!(u(&r, &["measure", "unmatched"]), 0);
    assert_eq!(u(&r, &["measure", "latency", "count"]), sent);
    assert!(r["measure"]["latency"]["p99_us"].as_f64().unwrap() > 0.0);
}

#[test]
fn closed_loop_with_preload_and_flood_against_echo() {
    let echo = start(&[
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--idle",
        "20",
        "--duration",
        "120",
    ]);
    let r = run(
        echo.1,
        &[
            "--nodes",
            "300",
            "--in-flight",
            "8",
            "--duration",
            "1",
            "--max-requests",
            "2000",
            "--preload",
            "--bad-auth-rate",
            "500",
            "--verify-every",
            "0",
        ],
    );
    assert_eq!(u(&r, &["preload", "sent"]), 300);
    assert_eq!(u(&r, &["preload", "replies"]), 300);
    let sent = u(&r, &["measure", "sent"]);
    assert!(sent > 0 && sent <= 2000);
    assert_eq!(u(&r, &["measure", "replies"]), sent);
    assert_eq!(u(&r, &["measure", "timeouts"]), 0);
    let flood_sent = u(&r, &["measure", "flood", "sent"]);
    assert!(flood_sent > 0);
    // Echo answers the flood too; those replies are not counted as valid ones.
    assert_eq!(u(&r, &["measure", "flood", "replies"]), flood_sent);
}

/// The generator's requests are accepted by the real core, its sampled verification of the
/// signed replies finds nothing wrong, and the flood is refused with 131.
#[test]
fn against_the_mip_ha_core_every_request_is_accepted() {
    let dir = std::env::temp_dir().join(format!("mip-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("ha.toml");
    let status = Command::new(BIN)
        .args([
            "config",
            "--nodes",
            "200",
            "--seed",
            "t",
            "--home-agent",
            "127.0.0.1",
        ])
        .arg("--output")
        .arg(&cfg)
        .status()
        .unwrap();
    assert!(status.success());
    let ha = start(&[
        "mini-ha",
        "--config",
        cfg.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--idle",
        "20",
        "--duration",
        "120",
    ]);
    let r = run(
        ha.1,
        &[
            "--nodes",
            "200",
            "--seed",
            "t",
            "--rate",
            "2000",
            "--duration",
            "1",
            "--preload",
            "--verify-every",
            "4",
            "--bad-auth-rate",
            "300",
        ],
    );
    assert_eq!(u(&r, &["preload", "accepted"]), 200);
    let sent = u(&r, &["measure", "sent"]);
    assert!(sent >= 1900, "sent {sent}");
    assert_eq!(u(&r, &["measure", "replies"]), sent);
    assert_eq!(u(&r, &["measure", "accepted"]), sent, "{r}");
    assert!(u(&r, &["measure", "auth_checked"]) >= sent / 4 - 1);
    assert_eq!(u(&r, &["measure", "auth_failed"]), 0);
    let flood = u(&r, &["measure", "flood", "sent"]);
    assert_eq!(u(&r, &["measure", "flood", "codes", "131"]), flood);

    // A wrong seed: every request fails authentication (131), signed with the HA's key,
    // which the generator's verification (with the wrong key) refuses.
    let r = run(
        ha.1,
        &[
            "--nodes",
            "200",
            "--seed",
            "other",
            "--in-flight",
            "4",
            "--duration",
            "0.3",
            "--verify-every",
            "1",
        ],
    );
    let replies = u(&r, &["measure", "replies"]);
    assert!(replies > 0);
    assert_eq!(u(&r, &["measure", "codes", "131"]), replies);
    assert_eq!(u(&r, &["measure", "accepted"]), 0);
    assert_eq!(u(&r, &["measure", "auth_failed"]), replies);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_local_targets_are_refused() {
    let out = Command::new(BIN)
        .args(["run", "--target", "192.0.2.1:434", "--duration", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback or local address"));
}
