//! Throughput of the tunnel engine against the plain path, between network namespaces.
//! Needs root; `cargo run --release -p mip-io --example tunnel_bench [-- SECONDS]`.
//!
//! ```text
//!   C (10.1.0.2) --c0/a0-- A (10.1.0.1 | 10.2.0.1) --a1/b1-- B (10.2.0.2, H = 10.9.9.9 on lo)
//! ```
//!
//! 1. **Engine, UDP blast** — a sender in A pushes UDP packets of 64 and 1400 bytes (IP
//!    length) with `sendmmsg` to H, which A routes into its TUN device; the engine reads,
//!    encapsulates (IP in IP) and sends to B. Reported: packets/s and Gb/s (inner bytes) the
//!    engine sent. Compared with the same sender aimed at B's own address (plain path: the
//!    packets leave `a1` directly; rate read from `a1`'s counters).
//! 2. **TCP, iperf3** (if installed) — C to H through A's engine and B's engine (decapsulation
//!    into B's TUN device), against C to B's address over the same two hops without a tunnel.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use mip_io::net::{Encapsulation, EngineConfig, Netlink, Route, TunnelEngine, TunnelSpec};

const A_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const B_A: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const H: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    if !out.status.success() {
        panic!("{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `MIP_TUN_OFFLOAD=0` runs the engines without the TUN offloads (one packet per read/write).
fn offload() -> bool {
    std::env::var("MIP_TUN_OFFLOAD").map_or(true, |v| v != "0")
}

struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Ns {
        let n = format!("mipbench-{tag}-{}", std::process::id());
        sh(&format!("ip netns add {n}"));
        sh(&format!("ip -n {n} link set lo up"));
        Ns(n)
    }
    fn ip(&self, args: &str) -> String {
        sh(&format!("ip -n {} {args}", self.0))
    }
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let f2 = std::fs::File::open(path).expect("netns");
            // SAFETY: setns on a namespace descriptor; affects only this thread.
            let r = unsafe { libc::setns(f2.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns");
            f()
        })
        .join()
        .expect("thread in namespace")
    }
    fn tx_packets(&self, dev: &str) -> u64 {
        let j = self.ip(&format!("-s -j link show dev {dev}"));
        let v: serde_json::Value = serde_json::from_str(&j).expect("ip -j");
        v[0]["stats64"]["tx"]["packets"].as_u64().unwrap_or(0)
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Sends UDP datagrams of `ip_len` IP bytes to `dst` for `secs` seconds, in batches of 64.
fn blast(dst: Ipv4Addr, ip_len: usize, secs: f64) -> u64 {
    let _ = mip_io::net::engine::pin_to_cpu(0);
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.connect(SocketAddrV4::new(dst, 9)).unwrap();
    let payload = vec![0x5au8; ip_len - 28];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut _,
        iov_len: payload.len(),
    };
    // SAFETY: plain data; every header points at the same live iovec.
    let mut hdrs: Vec<libc::mmsghdr> = (0..64)
        .map(|_| {
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = &mut iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut sent = 0u64;
    while Instant::now() < end {
        // SAFETY: the headers point to live buffers.
        let n = unsafe { libc::sendmmsg(s.as_raw_fd(), hdrs.as_mut_ptr(), 64, 0) };
        if n > 0 {
            sent += n as u64;
        }
    }
    sent
}

fn iperf3(client: &Ns, server: &Ns, addr: Ipv4Addr, secs: u32) -> Option<f64> {
    let srv = Command::new("ip")
        .args([
            "netns",
            "exec",
            &server.0,
            "iperf3",
            "-s",
            "-1",
            "-B",
            &addr.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &client.0,
            "iperf3",
            "-c",
            &addr.to_string(),
            "-t",
            &secs.to_string(),
            "-J",
        ])
        .output()
        .ok()?;
    let mut srv = srv;
    let _ = srv.wait();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["end"]["sum_received"]["bits_per_second"].as_f64()
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("*** SKIPPED (needs root) ***");
        return;
    }
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let c = Ns::new("c");
    let a = Ns::new("a");
    let b = Ns::new("b");
    sh(&format!(
        "ip link add c0 netns {} type veth peer name a0 netns {}",
        c.0, a.0
    ));
    sh(&format!(
        "ip link add a1 netns {} type veth peer name b1 netns {}",
        a.0, b.0
    ));
    for (ns, dev, addr) in [
        (&c, "c0", "10.1.0.2/24"),
        (&a, "a0", "10.1.0.1/24"),
        (&a, "a1", "10.2.0.1/24"),
        (&b, "b1", "10.2.0.2/24"),
    ] {
        ns.ip(&format!("addr add {addr} dev {dev}"));
        ns.ip(&format!("link set {dev} up"));
    }
    b.ip("addr add 10.9.9.9/32 dev lo");
    c.ip("route add default via 10.1.0.1");
    b.ip("route add 10.1.0.0/24 via 10.2.0.1");
    sh(&format!(
        "ip netns exec {} sysctl -qw net.ipv4.ip_forward=1",
        a.0
    ));

    // The engine gets CPU 1, the traffic generator CPU 0.
    let ea = a.run(|| {
        let e = TunnelEngine::start(EngineConfig {
            tun_name: "mipt0".into(),
            cpu: Some(1),
            offload: offload(),
            ..EngineConfig::default()
        })
        .unwrap();
        let mut nl = Netlink::open().unwrap();
        nl.route_replace(&Route::host_via_device(H, e.tun_ifindex()))
            .unwrap();
        e
    });
    ea.add_tunnel(
        1,
        TunnelSpec {
            local: A_B,
            remote: B_A,
            encapsulation: Encapsulation::IpIp,
            mtu: None,
        },
    )
    .unwrap();
    ea.route(H, 1).unwrap();
    // B: a protocol-4 socket that never reads, so that B drops the tunnelled packets quietly
    // (no ICMP protocol unreachable).
    let sink = b.run(|| mip_io::net::raw::RawSocket::receiver(4).unwrap());

    println!("UDP blast from A, {secs} s each (sender pinned to CPU 0, engine to CPU 1; other load on the machine counts)");
    println!(
        "{:<34} {:>6} {:>12} {:>9}",
        "path", "bytes", "packets/s", "Gb/s"
    );
    let mut results = Vec::new();
    for size in [64usize, 1400] {
        // Plain: straight to B's address.
        let before = a.tx_packets("a1");
        let t0 = Instant::now();
        a.run(move || blast(B_A, size, secs));
        let plain_pps = (a.tx_packets("a1") - before) as f64 / t0.elapsed().as_secs_f64();
        // Through the engine.
        let s0 = ea.stats().unwrap().tunnel(1);
        let t0 = Instant::now();
        let offered = a.run(move || blast(H, size, secs));
        std::thread::sleep(Duration::from_millis(100));
        let s1 = ea.stats().unwrap().tunnel(1);
        let el = t0.elapsed().as_secs_f64();
        let pps = (s1.tx_packets - s0.tx_packets) as f64 / el;
        let gbps = (s1.tx_bytes - s0.tx_bytes) as f64 * 8.0 / el / 1e9;
        let plain_gbps = plain_pps * size as f64 * 8.0 / 1e9;
        println!(
            "{:<34} {:>6} {:>12.0} {:>9.2}",
            "plain (A -> B, no tunnel)", size, plain_pps, plain_gbps
        );
        println!(
            "{:<34} {:>6} {:>12.0} {:>9.2}   ({:.0}% of plain; offered {:.0}/s)",
            "engine (TUN -> IP-in-IP -> raw)",
            size,
            pps,
            gbps,
            100.0 * pps / plain_pps,
            offered as f64 / el
        );
        results.push((size, pps, gbps, plain_pps));
    }

    drop(sink);
    // TCP: iperf3 C -> H through both engines vs C -> B plainly.
    let eb = b.run(|| {
        TunnelEngine::start(EngineConfig {
            tun_name: "mipt1".into(),
            offload: offload(),
            ..EngineConfig::default()
        })
        .unwrap()
    });
    eb.add_tunnel(
        1,
        TunnelSpec {
            local: B_A,
            remote: A_B,
            encapsulation: Encapsulation::IpIp,
            mtu: None,
        },
    )
    .unwrap();
    eb.accept_from(A_B, 1).unwrap();
    let t = secs.ceil() as u32;
    match (iperf3(&c, &b, B_A, t), iperf3(&c, &b, H, t)) {
        (Some(plain), Some(tunnel)) => {
            println!(
                "TCP iperf3 C -> B plain:                 {:.2} Gb/s",
                plain / 1e9
            );
            println!(
                "TCP iperf3 C -> H through the tunnel:    {:.2} Gb/s ({:.0}% of plain)",
                tunnel / 1e9,
                100.0 * tunnel / plain
            );
        }
        _ => println!("iperf3 not installed or failed: TCP comparison skipped"),
    }
    let s = ea.stats().unwrap();
    println!(
        "engine A: wakeups {}, TUN packets {}, send errors {}, too big {}",
        s.engine.wakeups,
        s.engine.tun_packets,
        s.tunnel(1).drop_send_error,
        s.tunnel(1).drop_too_big
    );
    drop((ea, eb));
}
