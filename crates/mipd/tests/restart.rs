//! Nothing is lost across a crash: mobile nodes register, the daemon is killed with SIGKILL
//! right after the last reply, and a new daemon on the same state directory has every
//! binding back (remaining lifetimes as expected, without any re-registration) and still
//! refuses replayed identifications (the replay state survived, including that of a
//! deregistered node). Then the same after a clean stop.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use mip_control::{BindingFilter, Request};

const CONFIG: &str = "\
router mobile
ip mobile home-agent replay 300
ip mobile virtual-network 10.0.0.0 255.0.0.0
ip mobile host 10.0.0.1 10.0.0.100 virtual-network 10.0.0.0 255.0.0.0
ip mobile secure host 10.0.0.1 10.0.0.100 spi 100 key hex 00112233445566778899aabbccddeeff algorithm hmac-md5
";

/// (home, care-of) -> (lifetime granted, when the reply arrived).
type Expected = HashMap<(String, String), (u64, Instant)>;

fn check_bindings(d: &Daemon, expected: &Expected) {
    let v = d.show(&Request::ShowBinding {
        filter: BindingFilter::All,
    });
    let list = v["bindings"].as_array().unwrap();
    assert_eq!(list.len(), expected.len(), "every binding is back: {v}");
    for b in list {
        let key = (
            b["home_address"].as_str().unwrap().to_string(),
            b["care_of_address"].as_str().unwrap().to_string(),
        );
        let (lifetime, at) = expected
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected {key:?}"));
        assert_eq!(b["lifetime_granted"].as_u64().unwrap(), *lifetime);
        let want = lifetime.saturating_sub(at.elapsed().as_secs());
        let got = b["remaining_secs"].as_u64().unwrap();
        assert!(
            got.abs_diff(want) <= 2,
            "{key:?}: {got} s left, expected about {want}"
        );
    }
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn bindings_and_replay_state_survive_kill_9() {
    const N: usize = 40;
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path(), "ha.ios", CONFIG, &[]);
    let mut cap = Capture::default();
    let sa = hmac_sa(0x100, KEY_B);
    let mut expected: Expected = HashMap::new();
    let mut nodes: Vec<MobileNode> = Vec::new();
    for i in 0..N {
        let home = Ipv4Addr::new(10, 0, 0, 1 + i as u8);
        let coa = Ipv4Addr::new(192, 0, 2, 1 + i as u8);
        let mut mn = MobileNode::new(home, sa.clone(), d.addr());
        let lifetime = 1000 + 20 * i as u16;
        let req = mn.registration(0, lifetime, coa);
        let r = mn.exchange(&req, &mut cap);
        assert_eq!((r.code, r.lifetime), (0, lifetime));
        assert!(r.verifies(&sa));
        expected.insert(
            (home.to_string(), coa.to_string()),
            (u64::from(lifetime), Instant::now()),
        );
        nodes.push(mn);
    }
    // Node 0: a simultaneous binding (S) and a renewal; keep both of its older requests.
    let mn0 = &mut nodes[0];
    let older = mn0.registration(0x80, 1000, a("192.0.2.1"));
    let r = mn0.exchange(&older, &mut cap);
    assert_eq!(r.code, 0);
    let second_coa = a("192.0.2.201");
    let newest = mn0.registration(0x80, 500, second_coa);
    let r = mn0.exchange(&newest, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 500));
    expected.insert(
        ("10.0.0.1".into(), "192.0.2.1".into()),
        (1000, Instant::now()),
    );
    expected.insert(
        ("10.0.0.1".into(), second_coa.to_string()),
        (500, Instant::now()),
    );
    // Node 99: registered, then deregistered; its replay state must survive too.
    let mut gone = MobileNode::new(a("10.0.0.99"), sa.clone(), d.addr());
    let gone_reg = gone.registration(0, 1000, a("192.0.2.99"));
    assert_eq!(gone.exchange(&gone_reg, &mut cap).code, 0);
    let gone_dereg = gone.registration(0, 0, gone.home);
    assert_eq!(gone.exchange(&gone_dereg, &mut cap).code, 0);
    check_bindings(&d, &expected);
    // Node 60: a 2-second binding that runs out while the daemon is down.
    let mut brief = MobileNode::new(a("10.0.0.60"), sa.clone(), d.addr());
    let req = brief.registration(0, 2, a("192.0.2.60"));
    let r = brief.exchange(&req, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 2));
    let brief_at = Instant::now();
    let dp_before = std::fs::read_to_string(&d.dataplane_log).unwrap();

    // Crash: no chance to sync or clean up.
    d.kill9();
    std::thread::sleep(Duration::from_millis(2500).saturating_sub(brief_at.elapsed()));
    assert!(d.socket.exists(), "a stale socket file is left behind");
    d.launch();

    // Every binding is back, before any mobile node says anything.
    check_bindings(&d, &expected);
    let t = d.show(&Request::ShowTraffic);
    assert_eq!(t["register_requests"], 0, "no re-registration happened");
    let log = d.log_text();
    assert!(
        log.contains(&format!(
            "restored {} binding(s) (1 had expired",
            expected.len()
        )),
        "{log}"
    );
    assert!(log.contains("replaced a stale control socket"), "{log}");
    // The data plane got its tunnels and routes again.
    let dp = std::fs::read_to_string(&d.dataplane_log).unwrap();
    assert_eq!(
        count(&dp, "AddHostRoute") - count(&dp_before, "AddHostRoute"),
        expected.len()
    );

    // Replayed identifications are still refused: the older request of node 0 (within the
    // 300 s window, so only the remembered last identification stops it), its newest one,
    // and the deregistered node's requests.
    let mn0 = &mut nodes[0];
    for (what, req) in [("older", &older), ("newest", &newest)] {
        let r = mn0.exchange(req, &mut cap);
        assert_eq!(r.code, 133, "replay of node 0's {what} request");
        assert!(r.verifies(&sa));
    }
    let r = gone.exchange(&gone_reg, &mut cap);
    assert_eq!(r.code, 133, "replay of the deregistered node's request");
    check_bindings(&d, &expected);

    // A fresh request goes through and changes the binding.
    let fresh = mn0.registration(0x80, 300, second_coa);
    let r = mn0.exchange(&fresh, &mut cap);
    assert_eq!((r.code, r.lifetime), (0, 300));
    expected.insert(
        ("10.0.0.1".into(), second_coa.to_string()),
        (300, Instant::now()),
    );

    // A clean stop and another start: the same again.
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(10)).success());
    let seen = d.log_text().len();
    d.launch();
    check_bindings(&d, &expected);
    let log = d.log_text()[seen..].to_string();
    assert!(
        log.contains(&format!(
            "restored {} binding(s) (0 had expired",
            expected.len()
        )),
        "the expired binding was deleted from the store at the first restart: {log}"
    );
    let r = nodes[0].exchange(&fresh, &mut cap);
    assert_eq!(r.code, 133);

    let pcap = tmp.path().join("restart.pcap");
    write_pcap(&pcap, &cap);
    tshark_check(&pcap, d.port, &cap);
}
