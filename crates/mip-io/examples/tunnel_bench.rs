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
//!    packets leave `a1` directly; rate read from `a1`'s counters). Also the CPU time the
//!    engine threads used (and `ksoftirqd` on their CPUs), hence packets/s per busy core,
//!    which other load on the machine disturbs much less than packets/s.
//!    Twice: "B receives" (B's receive work -- IP input and, once its never-read sink socket
//!    is full, attempted ICMP errors -- runs on the sending CPU, because veth delivers in the
//!    sender's context) and "wire only" (the outer destination is a neighbour with a MAC
//!    nobody has: B drops the frames as not for it, so only the sending side is measured,
//!    for the engine and the plain path alike). Each table measures both transmit modes:
//!    "engine (raw tx)" (`TxMode::Raw`, an `IPPROTO_RAW` socket) and "engine (packet tx)"
//!    (`TxMode::Packet`, an `AF_PACKET` socket to the resolved next hop; a second engine, on
//!    its own TUN device, same CPU), with the ratio packet/raw of packets/s per busy core.
//!    `MIP_TUN_QUEUES=N`: N TUN queues and engine threads (both engines); the sender uses 8
//!    flows so that they spread. `MIP_TUN_OFFLOAD=0`: no offloads.
//! 2. **TCP, iperf3** (if installed) — C to H through A's engine and B's engine (decapsulation
//!    into B's TUN device), against C to B's address over the same two hops without a tunnel.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use mip_io::net::{Encapsulation, EngineConfig, Netlink, Route, TunnelEngine, TunnelSpec, TxMode};

const A_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const B_A: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const H: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
/// Routed into engine A's tunnel 2, whose remote is NOWHERE.
const H2: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 10);
/// Routed into the packet-tx engine's tunnel 1 (to B) and tunnel 2 (to NOWHERE).
const H3: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 11);
const H4: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 12);
/// A neighbour of A on a1 that does not exist (static ARP entry, unused MAC).
const NOWHERE: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 3);
/// The name prefix of engine A's threads (raw tx).
const ENGINE_THREAD: &str = "tunnel-mipt0";
/// The name prefix of the packet-tx engine's threads.
const PACKET_ENGINE_THREAD: &str = "tunnel-mipt2";

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

/// `MIP_TUN_QUEUES=N` gives engine A N TUN queues and threads (queue 0 on CPU 1, the others
/// on CPU 0, 1, 0, ...).
fn queues() -> usize {
    std::env::var("MIP_TUN_QUEUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// Flows (source ports) the sender uses in turn: a multi-queue TUN device spreads by flow.
const FLOWS: usize = 8;

/// Sends UDP datagrams of `ip_len` IP bytes to `dst` for `secs` seconds, in batches of 64,
/// from [`FLOWS`] sockets in turn.
fn blast(dst: Ipv4Addr, ip_len: usize, secs: f64) -> u64 {
    let _ = mip_io::sys::pin_current_thread(0);
    let socks: Vec<UdpSocket> = (0..FLOWS)
        .map(|_| {
            let s = UdpSocket::bind("0.0.0.0:0").unwrap();
            s.connect(SocketAddrV4::new(dst, 9)).unwrap();
            s
        })
        .collect();
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
    let mut i = 0;
    while Instant::now() < end {
        let s = &socks[i % FLOWS];
        i += 1;
        // SAFETY: the headers point to live buffers.
        let n = unsafe { libc::sendmmsg(s.as_raw_fd(), hdrs.as_mut_ptr(), 64, 0) };
        if n > 0 {
            sent += n as u64;
        }
    }
    sent
}

/// CPU time (seconds) used so far by this process's threads whose name starts with `prefix`
/// (the engine threads), from `/proc/self/task/*/schedstat`. Without IRQ time accounting (as
/// here) this includes the softirq work run on those threads' behalf (veth delivers the
/// packets the engine sends in the sender's context, so B's receive work counts too).
fn thread_cpu(prefix: &str) -> f64 {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        ns += schedstat_ns(&t.path());
    }
    ns as f64 / 1e9
}

/// Nanoseconds on CPU so far of the task at `dir` (`/proc/.../schedstat`, first field; 0 if
/// unreadable).
fn schedstat_ns(dir: &std::path::Path) -> u64 {
    let st = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
    st.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (seconds) used so far by the `ksoftirqd` threads of `cpus` (softirq work deferred
/// from the engine's CPUs).
fn ksoftirqd_cpu(cpus: &[usize]) -> f64 {
    let mut ns = 0u64;
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
        let Some(n) = comm.trim().strip_prefix("ksoftirqd/") else {
            continue;
        };
        if !n.parse().is_ok_and(|n: usize| cpus.contains(&n)) {
            continue;
        }
        ns += schedstat_ns(&p.path());
    }
    ns as f64 / 1e9
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

    // The engine gets CPU 1, the traffic generator CPU 0 (and further queues CPU 0, 1, ...).
    let nq = queues();
    let queue_cpus: Vec<usize> = (1..nq).map(|q| (q + 1) % 2).collect();
    let mut engine_cpus = vec![1usize];
    engine_cpus.extend(queue_cpus.iter().copied());
    engine_cpus.sort_unstable();
    engine_cpus.dedup();
    // Two engines in A, one per transmit mode, on the same CPUs (measured one at a time).
    let start = |tun: &'static str, tx: TxMode, dsts: [Ipv4Addr; 2]| {
        let queue_cpus = queue_cpus.clone();
        let e = a.run(move || {
            let e = TunnelEngine::start(EngineConfig {
                tun_name: tun.into(),
                cpu: Some(1),
                offload: offload(),
                queues: nq,
                queue_cpus,
                tx,
                ..EngineConfig::default()
            })
            .unwrap();
            let mut nl = Netlink::open().unwrap();
            for d in dsts {
                nl.route_replace(&Route::host_via_device(d, e.tun_ifindex()))
                    .unwrap();
            }
            e
        });
        for (id, remote) in [(1, B_A), (2, NOWHERE)] {
            e.add_tunnel(
                id,
                TunnelSpec {
                    local: A_B,
                    remote,
                    encapsulation: Encapsulation::IpIp,
                    mtu: None,
                },
            )
            .unwrap();
        }
        e.route(dsts[0], 1).unwrap();
        e.route(dsts[1], 2).unwrap();
        e
    };
    let ea = start("mipt0", TxMode::Raw, [H, H2]);
    let ep = start("mipt2", TxMode::Packet, [H3, H4]);
    // B: a protocol-4 socket that never reads, so that B drops the tunnelled packets quietly
    // (no ICMP protocol unreachable) -- until its receive buffer is full: from then on the
    // kernel counts them as an unknown protocol and tries to answer with ICMP (rate-limited,
    // but after a route lookup), on the engine's CPU (veth delivers in the sender's context).
    let sink = b.run(|| mip_io::net::raw::RawSocket::receiver(4).unwrap());
    // "Wire only": NOWHERE is a neighbour on a1 with a MAC nobody has; B's b1 gets the frames
    // and drops them as PACKET_OTHERHOST at once. Measures the sending side alone.
    a.ip(&format!(
        "neigh replace {NOWHERE} lladdr 02:00:00:00:99:99 dev a1 nud permanent"
    ));

    println!(
        "UDP blast from A, {secs} s each, {FLOWS} flows (sender pinned to CPU 0, engine to CPU 1; \
         {nq} TUN queue(s) on CPUs {engine_cpus:?}; other load on the machine counts)"
    );
    println!(
        "(engine: `cores` = CPU time of the engine threads, and of ksoftirqd on their CPUs, per \
         second; the last two columns are per busy core)"
    );
    for (mode, plain_dst, inner_dst, packet_dst, id) in [
        (
            "B receives (its receive work runs on the sender's CPU)",
            B_A,
            H,
            H3,
            1,
        ),
        (
            "wire only (B drops the frames at once: the sending side alone)",
            NOWHERE,
            H2,
            H4,
            2,
        ),
    ] {
        println!("-- {mode}");
        println!(
            "{:<34} {:>6} {:>12} {:>9} {:>6} {:>12} {:>9}",
            "path", "bytes", "packets/s", "Gb/s", "cores", "pkt/s/core", "Gb/s/core"
        );
        for size in [64usize, 1400] {
            // Plain: straight to the outer destination.
            let before = a.tx_packets("a1");
            let t0 = Instant::now();
            a.run(move || blast(plain_dst, size, secs));
            let plain_pps = (a.tx_packets("a1") - before) as f64 / t0.elapsed().as_secs_f64();
            let plain_gbps = plain_pps * size as f64 * 8.0 / 1e9;
            println!(
                "{:<34} {:>6} {:>12.0} {:>9.2}",
                "plain (A -> B, no tunnel)", size, plain_pps, plain_gbps
            );
            // Through each engine.
            let mut per_core = [0.0f64; 2];
            for (k, (label, engine, threads, dst)) in [
                ("engine (raw tx)", &ea, ENGINE_THREAD, inner_dst),
                ("engine (packet tx)", &ep, PACKET_ENGINE_THREAD, packet_dst),
            ]
            .into_iter()
            .enumerate()
            {
                let s0 = engine.stats().unwrap();
                let cpu0 = thread_cpu(threads) + ksoftirqd_cpu(&engine_cpus);
                let t0 = Instant::now();
                let offered = a.run(move || blast(dst, size, secs));
                std::thread::sleep(Duration::from_millis(100));
                let s1 = engine.stats().unwrap();
                let el = t0.elapsed().as_secs_f64();
                let cores = (thread_cpu(threads) + ksoftirqd_cpu(&engine_cpus) - cpu0) / el;
                let (t0c, t1c) = (s0.tunnel(id), s1.tunnel(id));
                let pps = (t1c.tx_packets - t0c.tx_packets) as f64 / el;
                let gbps = (t1c.tx_bytes - t0c.tx_bytes) as f64 * 8.0 / el / 1e9;
                per_core[k] = pps / cores.max(1e-9);
                let via = if k == 1 {
                    let (e0, e1) = (s0.engine, s1.engine);
                    format!(
                        "; by packet socket {:.1}%",
                        100.0 * (e1.tx_packet_socket - e0.tx_packet_socket) as f64
                            / (t1c.tx_packets - t0c.tx_packets).max(1) as f64
                    )
                } else {
                    String::new()
                };
                println!(
                    "{:<34} {:>6} {:>12.0} {:>9.2} {:>6.2} {:>12.0} {:>9.2}   ({:.0}% of plain; offered {:.0}/s{via})",
                    label,
                    size,
                    pps,
                    gbps,
                    cores,
                    per_core[k],
                    gbps / cores.max(1e-9),
                    100.0 * pps / plain_pps,
                    offered as f64 / el
                );
            }
            println!(
                "{:<34} {:>6} {:>12} {:>9} {:>6} {:>12.2}x",
                "ratio packet/raw (per core)",
                size,
                "",
                "",
                "",
                per_core[1] / per_core[0].max(1e-9)
            );
        }
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
        "engine A: wakeups {}, TUN packets {} (per queue {:?}), send errors {}, too big {}",
        s.engine.wakeups,
        s.engine.tun_packets,
        s.queue_packets,
        s.tunnel(1).drop_send_error + s.tunnel(2).drop_send_error,
        s.tunnel(1).drop_too_big + s.tunnel(2).drop_too_big
    );
    let p = ep.stats().unwrap();
    println!(
        "packet-tx engine: by packet socket {}, raw fallback {}, raw refresh {}, next hops \
         resolved {} / unresolved {}, packet socket errors {}",
        p.engine.tx_packet_socket,
        p.engine.tx_raw_fallback,
        p.engine.tx_raw_refresh,
        p.engine.nexthop_resolved,
        p.engine.nexthop_unresolved,
        p.engine.packet_send_errors
    );
    drop((ea, ep, eb));
}
