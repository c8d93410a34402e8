//! The real `mipd` binary, end to end over UDP and the control socket, from a router-form
//! (IOS) configuration and from the same configuration in TOML: registration, renewal,
//! replay (133), wrong key (131), deregistration, operator clear, malformed input, reloads
//! (broken and good, by SIGHUP and by the control socket), clean stop; every reply checked
//! by its authenticator here and by tshark as an independent dissector.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use mip_control::{BindingFilter, ClearBinding, HostFilter, PeerKind, Request, SecureTarget};
use serde_json::Value;

const IOS: &str = "\
! mipd test configuration (router form)
router mobile
ip mobile home-agent replay 30
ip mobile virtual-network 10.0.0.0 255.0.0.0
ip mobile host 10.0.0.1 10.0.0.100 virtual-network 10.0.0.0 255.0.0.0
ip mobile host 11.0.0.1 11.0.0.5 interface eth1 lifetime 3600
ip mobile secure host 10.0.0.1 10.0.0.99 spi 100 key hex 12345678123456781234567812345678
ip mobile secure host 10.0.0.100 spi 200 key hex 00112233445566778899aabbccddeeff algorithm hmac-md5
ip mobile secure host 11.0.0.1 11.0.0.5 spi 300 key hex 73839303313233343536313233343536
";

const TOML: &str = r#"# mipd test configuration (native form): the same as the router form
mobile_ip = true
virtual_networks = ["10.0.0.0/8"]

[home_agent]
enabled = true
replay_window_secs = 30

[[host_group]]
lower = "10.0.0.1"
upper = "10.0.0.100"
virtual_network = "10.0.0.0/8"

[[host_group]]
lower = "11.0.0.1"
upper = "11.0.0.5"
interface = "eth1"
lifetime = 3600

[[security_association]]
peer = "host"
lower = "10.0.0.1"
upper = "10.0.0.99"
spi = 0x100
key_hex = "12345678123456781234567812345678"

[[security_association]]
peer = "host"
address = "10.0.0.100"
spi = 0x200
key_hex = "00112233445566778899aabbccddeeff"
algorithm = "hmac-md5"

[[security_association]]
peer = "host"
lower = "11.0.0.1"
upper = "11.0.0.5"
spi = 0x300
key_hex = "73839303313233343536313233343536"
"#;

struct Form {
    name: &'static str,
    file: &'static str,
    text: &'static str,
    /// A broken version (must be refused with file:line).
    broken: String,
    /// A good version that lowers the home agent's lifetime to 600 s.
    lifetime_600: String,
}

fn ios() -> Form {
    Form {
        name: "ios",
        file: "mipd.ios",
        text: IOS,
        broken: format!("{IOS}ip mobile frobnicate 7\n"),
        lifetime_600: IOS.replace("replay 30", "replay 30 lifetime 600"),
    }
}

fn toml() -> Form {
    Form {
        name: "toml",
        file: "mipd.toml",
        text: TOML,
        broken: TOML.replace("[[host_group]]", "[[host_group]\n"),
        lifetime_600: TOML.replace(
            "replay_window_secs = 30",
            "replay_window_secs = 30\nlifetime = 600",
        ),
    }
}

fn bindings(d: &Daemon) -> Vec<Value> {
    let v = d.show(&Request::ShowBinding {
        filter: BindingFilter::All,
    });
    assert_eq!(
        v["total"].as_u64().unwrap() as usize,
        v["bindings"].as_array().unwrap().len()
    );
    v["bindings"].as_array().unwrap().clone()
}

fn traffic(d: &Daemon) -> Value {
    d.show(&Request::ShowTraffic)
}

/// Waits until `f` holds (the daemon acts on signals asynchronously).
fn eventually(what: &str, d: &Daemon, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scenario(form: Form) {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path(), form.file, form.text, &["--log-level", "debug"]);
    let mut cap = Capture::default();
    let coa = a("192.0.2.10");

    // --- registration, renewal (RFC 5944 §3.8.2, §3.8.3) ---------------------------------
    let mut mn1 = MobileNode::new(a("10.0.0.1"), md5_sa(0x100, KEY_A), d.addr());
    let first = mn1.registration(0, 1800, coa);
    let r = mn1.exchange(&first, &mut cap);
    assert_eq!(r.code, 0, "registration accepted");
    assert_eq!(r.lifetime, 1800);
    assert_eq!(r.home, mn1.home);
    assert_eq!(r.home_agent, Ipv4Addr::LOCALHOST);
    assert_eq!(r.ident, mn1.last_ident, "identification echoed");
    assert!(r.verifies(&mn1.sa), "MN-HA authenticator of the reply");
    assert_eq!(
        *r.from.ip(),
        Ipv4Addr::LOCALHOST,
        "reply from the address asked"
    );
    assert_eq!(r.from.port(), d.port);

    let renewal = mn1.registration(0, 1800, coa);
    let r = mn1.exchange(&renewal, &mut cap);
    assert_eq!((r.code, r.lifetime, r.ident), (0, 1800, mn1.last_ident));
    assert!(r.verifies(&mn1.sa));

    // --- replayed identification: 133 with the home agent's time (RFC 5944 §5.7.1) ------
    let r = mn1.exchange(&first, &mut cap);
    assert_eq!(r.code, 133, "replay refused");
    let first_ident = u64::from_be_bytes(first[16..24].try_into().unwrap());
    assert_eq!(
        r.ident & 0xffff_ffff,
        first_ident & 0xffff_ffff,
        "low 32 bits echoed"
    );
    assert!(r.verifies(&mn1.sa));

    // --- wrong key: 131 --------------------------------------------------------------------
    let id = mn1.next_ident();
    let wrong = mn1.build(0, 1800, coa, id, &md5_sa(0x100, KEY_B));
    let r = mn1.exchange(&wrong, &mut cap);
    assert_eq!(r.code, 131, "authentication failed");
    assert!(
        r.verifies(&mn1.sa),
        "the 131 reply is signed with the configured key"
    );

    // --- a second node (HMAC-MD5), a third on the eth1 link ------------------------------
    let mut mn2 = MobileNode::new(a("10.0.0.100"), hmac_sa(0x200, KEY_B), d.addr());
    let reg = mn2.registration(0x02, 600, a("192.0.2.20")); // T: reverse tunnel
    let r = mn2.exchange(&reg, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 600));
    assert!(r.verifies(&mn2.sa));
    let mut mn3 = MobileNode::new(a("11.0.0.2"), md5_sa(0x300, KEY_C), d.addr());
    let reg = mn3.registration(0, 9000, a("192.0.2.30"));
    let r = mn3.exchange(&reg, &mut cap);
    assert_eq!(
        (r.code, r.lifetime),
        (0, 3600),
        "the group's lifetime limit"
    );
    assert!(r.verifies(&mn3.sa));

    // --- a binding that runs out while the daemon runs (RFC 5944 §3.8.2.2) -----------------
    let mut brief = MobileNode::new(a("11.0.0.4"), md5_sa(0x300, KEY_C), d.addr());
    let reg = brief.registration(0, 1, a("192.0.2.40"));
    let r = brief.exchange(&reg, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 1));
    eventually("the 1-second binding to expire", &d, || {
        traffic(&d)["bindings_expired"] == 1
    });

    // --- state through the control socket -------------------------------------------------
    let b = bindings(&d);
    assert_eq!(b.len(), 3, "{b:#?}");
    let b1 = &b[0];
    assert_eq!(b1["home_address"], "10.0.0.1");
    assert_eq!(b1["care_of_address"], "192.0.2.10");
    assert_eq!(b1["lifetime_granted"], 1800);
    let left = b1["remaining_secs"].as_u64().unwrap();
    assert!((1795..=1800).contains(&left), "remaining {left}");
    assert_eq!(b1["identification"].as_u64().unwrap(), {
        // the renewal's
        u64::from_be_bytes(renewal[16..24].try_into().unwrap())
    });
    assert_eq!(
        b1["source_port"].as_u64().unwrap(),
        mn1.sock.local_addr().unwrap().port() as u64
    );
    let one = d.show(&Request::ShowBinding {
        filter: BindingFilter::Address {
            address: a("10.0.0.100"),
        },
    });
    assert_eq!(one["total"], 1);
    assert_eq!(one["bindings"][0]["reverse_allowed"], true);
    assert_eq!(one["bindings"][0]["tunnel"]["destination"], "192.0.2.20");
    let summary = d.show(&Request::ShowBinding {
        filter: BindingFilter::Summary,
    });
    assert_eq!(
        (summary["total"].as_u64(), summary["mobile_nodes"].as_u64()),
        (Some(3), Some(3))
    );
    let tunnels = d.show(&Request::ShowTunnel);
    assert_eq!(tunnels["total"], 3);
    // `--dataplane log`: the data plane says so, with the requests it recorded and no engine.
    let dp = d.show(&Request::ShowDataplane);
    assert_eq!(dp["kind"], "log", "{dp:#}");
    assert_eq!(dp["reason"], "--dataplane", "{dp:#}");
    assert!(dp["engine"].is_null(), "{dp:#}");
    assert!(dp["requests"].as_u64().unwrap_or(0) >= 3, "{dp:#}");
    let t = traffic(&d);
    assert_eq!(t["accepted"], 5);
    assert_eq!(t["bad_identification"], 1);
    assert_eq!(t["auth_failed_mn"], 1);
    assert_eq!(t["denied"], 2);
    let v = d.show(&Request::ShowViolation);
    let reasons: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"bad-authenticator"), "{v}");
    assert!(reasons.contains(&"bad-identifier"), "{v}");
    let hc = d.show(&Request::ShowHost {
        filter: HostFilter::Counters {
            address: Some(a("10.0.0.1")),
        },
    });
    assert_eq!(hc["hosts"][0]["counters"]["accepted"], 2);
    assert_eq!(hc["hosts"][0]["counters"]["denied"], 2);
    let hosts = d.show(&Request::ShowHost {
        filter: HostFilter::All,
    });
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 4, "{hosts}");
    let groups = d.show(&Request::ShowHost {
        filter: HostFilter::Group,
    });
    assert_eq!(groups["groups"].as_array().unwrap().len(), 2);
    let g = d.show(&Request::ShowGlobals);
    assert_eq!(
        (g["home_agent_enabled"].as_bool(), g["bindings"].as_u64()),
        (Some(true), Some(3))
    );
    assert_eq!(g["replay_secs"], 30);
    // Keys only when asked for.
    let secure = |show_keys| {
        d.show(&Request::ShowSecure {
            peer: PeerKind::Host,
            target: SecureTarget::All,
            summary: false,
            show_keys,
        })
    };
    let hidden = secure(false);
    assert_eq!(hidden["total"], 3);
    assert!(!hidden.to_string().contains(KEY_A));
    assert!(secure(true).to_string().contains(KEY_A));

    // --- deregistration (lifetime 0, care-of address = home address) ---------------------
    let dereg = mn2.registration(0, 0, mn2.home);
    let r = mn2.exchange(&dereg, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 0), "deregistered");
    assert!(r.verifies(&mn2.sa));
    assert_eq!(bindings(&d).len(), 2);

    // --- the operator clears a binding -----------------------------------------------------
    let c = d.show(&Request::ClearBinding {
        selector: ClearBinding::Address {
            address: a("11.0.0.2"),
        },
    });
    assert_eq!(c["cleared"], 1);
    let b = bindings(&d);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["home_address"], "10.0.0.1");
    assert_eq!(traffic(&d)["bindings_cleared"], 1);

    // --- malformed, truncated, garbage, oversized: no reply, counted, daemon alive -------
    let before = traffic(&d);
    let probe = MobileNode::new(a("10.0.0.1"), md5_sa(0x100, KEY_A), d.addr());
    let good = mn1.registration(0, 1800, coa);
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![1],
        good[..10].to_vec(),
        good[..23].to_vec(),
        vec![3; 40], // a "reply" sent to the home agent
        vec![0xff; 300],
        vec![0; 5000], // larger than the receive buffer
    ];
    let mut seed = 0x1234_5678_9abc_def0u64;
    for len in [24usize, 25, 31, 64, 200, 1400] {
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v.push(seed as u8);
        }
        v[0] = 1; // looks like a request: the core must look deeper
        junk.push(v);
    }
    for j in &junk {
        assert!(
            probe.send_silent(j, Duration::from_millis(30)),
            "no reply to {j:02x?}"
        );
    }
    assert!(d.running(), "mipd survived the junk:\n{}", d.log_text());
    let after = traffic(&d);
    let ignored = after["ignored"].as_u64().unwrap() - before["ignored"].as_u64().unwrap();
    assert!(
        ignored >= 10,
        "junk counted as ignored: {before} -> {after}"
    );
    let malformed = after["ignored_malformed"].as_u64().unwrap();
    assert!(malformed >= 4, "malformed counted: {after}");
    // Still serving.
    let r = mn1.exchange(&good, &mut cap);
    assert_eq!(r.code, 0);

    // --- control socket abuse --------------------------------------------------------------
    let big = vec![b'x'; mip_control::MAX_REQUEST_BYTES + 100];
    let text = d.control_raw(&big).unwrap();
    let resp: mip_control::Response = serde_json::from_str(text.trim()).unwrap();
    assert!(
        !resp.ok && resp.error.as_deref().unwrap().contains("too large"),
        "{text}"
    );
    let text = d.control_raw(b"{\"command\": 42}\n").unwrap();
    let resp: mip_control::Response = serde_json::from_str(text.trim()).unwrap();
    assert!(
        !resp.ok && resp.error.as_deref().unwrap().contains("invalid request"),
        "{text}"
    );
    let text = d.control_raw(b"\n").unwrap();
    assert!(text.contains("\"ok\":false"), "{text}");

    // --- reload: broken config by SIGHUP and by the control socket, then a good one ------
    write_config(&d.config, &form.broken);
    d.signal(libc::SIGHUP);
    eventually("the refused reload in the log", &d, || {
        d.log_text().contains("configuration reload refused")
    });
    let log = d.log_text();
    let needle = format!("{}:", d.config.display());
    assert!(
        log.contains(&needle),
        "error names the file and line: {log}"
    );
    let r = d.try_control(&Request::Reload).unwrap();
    assert!(!r.ok);
    let err = r.error.unwrap();
    assert!(
        err.contains("running configuration is kept") && err.contains(&needle),
        "{err}"
    );
    // The old configuration still serves: lifetime 1800 granted.
    let reg = mn1.registration(0, 1800, coa);
    assert_eq!(mn1.exchange(&reg, &mut cap).lifetime, 1800);

    write_config(&d.config, &form.lifetime_600);
    d.signal(libc::SIGHUP);
    eventually("the new lifetime", &d, || {
        d.show(&Request::ShowGlobals)["lifetime_secs"] == 600
    });
    let reg = mn1.registration(0, 1800, coa);
    let r = mn1.exchange(&reg, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 600), "new configuration in force");
    assert!(r.verifies(&mn1.sa));
    let r = d.try_control(&Request::Reload).unwrap();
    assert!(r.ok, "{r:?}");

    // --- counters clear / undo ------------------------------------------------------------
    let accepted = traffic(&d)["accepted"].as_u64().unwrap();
    d.show(&Request::ClearTraffic { undo: false });
    assert_eq!(traffic(&d)["accepted"], 0);
    d.show(&Request::ClearTraffic { undo: true });
    assert_eq!(traffic(&d)["accepted"].as_u64().unwrap(), accepted);

    // --- logs: registrations at debug, violations at warn, never a key --------------------
    let log = d.log_text();
    assert!(log.contains("registration accepted"), "{log}");
    assert!(log.contains("registration denied"));
    assert!(log.contains("security violation"));
    for k in [KEY_A, KEY_B, KEY_C] {
        assert!(!log.contains(k), "a key in the log");
    }

    // --- data plane (logging stand-in): what would have been installed --------------------
    let dp = std::fs::read_to_string(&d.dataplane_log).unwrap_or_default();
    for kind in [
        "AddTunnel",
        "AddHostRoute",
        "RemoveHostRoute",
        "RemoveTunnel",
        "ProxyArp",
        "GratuitousArp",
    ] {
        assert!(dp.contains(kind), "{kind} in the data-plane log:\n{dp}");
    }
    assert!(
        !dp.contains("\"ok\":false"),
        "every data-plane request fit:\n{dp}"
    );

    // --- clean stop: exit 0, socket file removed -------------------------------------------
    d.signal(libc::SIGTERM);
    let st = d.wait_exit(Duration::from_secs(10));
    assert!(st.success(), "exit status {st}:\n{}", d.log_text());
    assert!(!d.socket.exists(), "control socket removed");

    // --- the wire oracle ---------------------------------------------------------------------
    let pcap = tmp.path().join(format!("replies-{}.pcap", form.name));
    write_pcap(&pcap, &cap);
    tshark_check(&pcap, d.port, &cap);
    if let Ok(keep) = std::env::var("MIPD_TEST_KEEP_PCAP") {
        let _ = std::fs::copy(&pcap, format!("{keep}/replies-{}.pcap", form.name));
    }
}

#[test]
fn home_agent_from_router_form_config() {
    scenario(ios());
}

#[test]
fn home_agent_from_toml_config() {
    scenario(toml());
}

#[test]
fn bad_arguments_and_bad_config_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mipd"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["--config"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Usage"));
    let o = run(&["--config", "x.toml", "--listen", "not-an-address"]);
    assert_eq!(o.status.code(), Some(2));

    let bad = tmp.path().join("bad.ios");
    write_config(&bad, "router mobile\nip mobile host 10.0.0.1 frob\n");
    let o = run(&["--config", bad.to_str().unwrap(), "--check-config"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}:2", bad.display())),
        "file:line in {err}"
    );
    // The same file read as TOML by --format fails too, with its own line.
    let o = run(&[
        "--config",
        bad.to_str().unwrap(),
        "--format",
        "toml",
        "--check-config",
    ]);
    assert_eq!(o.status.code(), Some(2));

    let good = tmp.path().join("good.conf");
    write_config(&good, IOS);
    std::fs::set_permissions(&good, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let o = run(&[
        "--config",
        good.to_str().unwrap(),
        "--format",
        "ios",
        "--check-config",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("WARN") && err.contains("chmod 600"),
        "world-readable keys warned: {err}"
    );
}

#[test]
fn second_daemon_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path(), "mipd.ios", IOS, &[]);
    // Same control socket, other state directory: refused, the socket left alone.
    let other = tmp.path().join("other-state");
    let o = d
        .command_with(&other, &d.socket, free_port())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("in use by a running daemon"), "{err}");
    assert!(!other.exists(), "nothing touched before the refusal");
    // Same state directory, other socket: the store's lock refuses it.
    let sock = tmp.path().join("other.sock");
    let o = d
        .command_with(&d.state, &sock, free_port())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("in use by another process"), "{err}");
    assert!(!sock.exists());
    // The first one is unharmed.
    assert!(d.show(&Request::ShowGlobals)["home_agent_enabled"]
        .as_bool()
        .unwrap());
}
