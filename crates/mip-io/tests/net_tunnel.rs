//! The tunnel engine with real traffic between network namespaces (root required):
//!
//! ```text
//!   C (10.1.0.2) --c0/a0-- A (10.1.0.1 | 10.2.0.1) --a1/b1-- B (10.2.0.2, H = 10.9.9.9 on lo)
//! ```
//!
//! A routes H into its TUN device and tunnels it to B; B decapsulates and delivers H locally,
//! and sends H's answers back through the tunnel (source route `from H`) or plainly.

mod net_support;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use mip_io::net::raw::RawSocket;
use mip_io::net::{
    Encapsulation, EngineConfig, Netlink, Route, Rule, TunnelEngine, TunnelSpec, TxMode,
};
use net_support::*;

const C: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
const A_C: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const A_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const B_A: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const H: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);

struct Lab {
    // engines first: dropped before the namespaces
    ea: TunnelEngine,
    eb: TunnelEngine,
    c: Netns,
    a: Netns,
    b: Netns,
}

fn start_engine(ns: &Netns, name: &'static str) -> TunnelEngine {
    start_engine_queues(ns, name, 1)
}

fn start_engine_queues(ns: &Netns, name: &'static str, queues: usize) -> TunnelEngine {
    start_engine_with(ns, name, queues, true, TxMode::Raw)
}

fn start_engine_with(
    ns: &Netns,
    name: &'static str,
    queues: usize,
    offload: bool,
    tx: TxMode,
) -> TunnelEngine {
    ns.run(move || {
        TunnelEngine::start(EngineConfig {
            tun_name: name.into(),
            queues,
            offload,
            tx,
            ..EngineConfig::default()
        })
        .expect("start engine")
    })
}

/// Builds the three namespaces and a tunnel A <-> B; with `reverse`, B's packets from H go
/// back through the tunnel (and B has no other route to C).
fn lab(encapsulation: Encapsulation, mtu_a: Option<u16>, reverse: bool) -> Lab {
    lab_queues(encapsulation, mtu_a, reverse, 1)
}

/// [`lab`] with `queues` TUN queues (and threads) in A's engine.
fn lab_queues(
    encapsulation: Encapsulation,
    mtu_a: Option<u16>,
    reverse: bool,
    queues: usize,
) -> Lab {
    lab_with(encapsulation, mtu_a, reverse, queues, true, TxMode::Raw)
}

/// [`lab_queues`], with B's engine opening its TUN device with offloads or without, and A's
/// engine sending with `a_tx`.
fn lab_with(
    encapsulation: Encapsulation,
    mtu_a: Option<u16>,
    reverse: bool,
    queues: usize,
    b_offload: bool,
    a_tx: TxMode,
) -> Lab {
    let c = Netns::new("c");
    let a = Netns::new("a");
    let b = Netns::new("b");
    veth(&c, "c0", &a, "a0");
    veth(&a, "a1", &b, "b1");
    c.ip("addr add 10.1.0.2/24 dev c0");
    c.ip("route add default via 10.1.0.1");
    a.ip("addr add 10.1.0.1/24 dev a0");
    a.ip("addr add 10.2.0.1/24 dev a1");
    a.sysctl("net.ipv4.ip_forward", "1");
    b.ip("addr add 10.2.0.2/24 dev b1");
    b.ip("addr add 10.9.9.9/32 dev lo");
    if !reverse {
        b.ip("route add 10.1.0.0/24 via 10.2.0.1");
    }

    let ea = start_engine_with(&a, "mipt0", queues, true, a_tx);
    ea.add_tunnel(
        1,
        TunnelSpec {
            local: A_B,
            remote: B_A,
            encapsulation,
            mtu: mtu_a,
        },
    )
    .unwrap();
    ea.route(H, 1).unwrap();
    ea.accept_from(B_A, 1).unwrap();
    let tun_a = ea.tun_ifindex();
    a.run(move || {
        Netlink::open()
            .unwrap()
            .route_replace(&Route::host_via_device(H, tun_a))
            .unwrap()
    });

    let eb = start_engine_with(&b, "mipt1", 1, b_offload, TxMode::Raw);
    eb.add_tunnel(
        1,
        TunnelSpec {
            local: B_A,
            remote: A_B,
            encapsulation,
            mtu: None,
        },
    )
    .unwrap();
    eb.accept_from(A_B, 1).unwrap();
    if reverse {
        let tun_b = eb.tun_ifindex();
        b.run(move || {
            let mut nl = Netlink::open().unwrap();
            nl.route_replace(&Route::default_via_device(tun_b, 100))
                .unwrap();
            nl.rule_add(&Rule::from_host(H, None, 100, 1000)).unwrap();
        });
        eb.route_source(H, 1).unwrap();
    }
    Lab { ea, eb, c, a, b }
}

fn ping_from(ns: &Netns, dst: Ipv4Addr, total: usize, df: bool) -> PingResult {
    ns.run(move || ping(dst, total, df, Duration::from_secs(2)))
}

#[test]
fn ipip_forward_reverse_tcp_pmtu_and_unknown_sources() {
    if !require_root() {
        return;
    }
    let lab = lab(Encapsulation::IpIp, Some(1400), true);
    assert_eq!(lab.ea.stats().unwrap().tunnels[&1].mtu, 1400);
    assert_eq!(
        lab.eb.stats().unwrap().tunnels[&1].mtu,
        1480,
        "auto MTU: 1500 - 20"
    );

    // Ping through the tunnel, both ways encapsulated on the wire.
    let cap = Capture::start(&lab.b, "b1", &[4]);
    let r = lab.c.run(|| ping_until_reply(H, 84, 5));
    let wire = cap.finish();
    // B answers with TTL 64; A's forwarding out of the tunnel takes one.
    assert_eq!(r, PingResult::Reply { ttl: 63 });
    let fwd = wire
        .iter()
        .find(|p| ip_src(p) == A_B && ip_dst(p) == B_A && ip_dst(&p[20..]) == H)
        .expect("IP-in-IP A->B on the wire");
    assert_eq!(fwd[9], 4);
    assert_eq!(fwd[8], 64, "outer TTL");
    assert_eq!(
        fwd[20 + 8],
        63,
        "inner TTL: decremented once, by A's forwarding"
    );
    assert_eq!(ip_src(&fwd[20..]), C);
    let rev = wire
        .iter()
        .find(|p| ip_src(p) == B_A && ip_dst(p) == A_B && ip_src(&p[20..]) == H)
        .expect("reverse-tunnelled IP-in-IP B->A on the wire");
    assert_eq!(ip_dst(&rev[20..]), C);

    // Larger than the tunnel MTU without DF: the kernel fragments the outer packet and B
    // reassembles it. (First: after the ICMP error below, C itself would fragment.)
    assert!(matches!(
        lab.c.run(|| ping_until_reply(H, 1460, 3)),
        PingResult::Reply { .. }
    ));
    assert!(lab.ea.stats().unwrap().tunnel(1).tx_fragmented >= 1);
    // DF and larger than the tunnel MTU: ICMP fragmentation needed with the MTU.
    assert_eq!(
        ping_from(&lab.c, H, 1460, true),
        PingResult::FragNeeded { mtu: 1400 }
    );
    // C learned the path MTU: the next DF ping that size is refused at C itself, and a
    // non-DF one leaves C in fragments that fit the tunnel.
    let r = lab.c.ip("route get 10.9.9.9");
    assert!(r.contains("mtu 1400"), "{r}");
    let s = lab.ea.stats().unwrap();
    let t = s.tunnel(1);
    assert!(t.drop_too_big >= 1 && t.tx_fragmented >= 1, "{t:?}");
    assert!(s.engine.icmp_sent >= 1, "{:?}", s.engine);

    // A few MB of TCP each way (path MTU discovery through the engine's ICMP errors).
    tcp_exchange(&lab.c, &lab.b, SocketAddrV4::new(H, 5001), 4 << 20, 2 << 20);
    let a = lab.ea.stats().unwrap().tunnel(1);
    let b = lab.eb.stats().unwrap().tunnel(1);
    assert!(a.tx_bytes > 4 << 20 && b.rx_bytes > 4 << 20, "{a:?} {b:?}");
    assert!(b.tx_bytes > 2 << 20 && a.rx_bytes > 2 << 20, "{a:?} {b:?}");
    assert_eq!(a.drop_decap_error + b.drop_decap_error, 0);

    // Tunnel packets from a source nobody accepted are dropped and counted.
    let before = lab.ea.stats().unwrap().engine.unknown_source;
    lab.c.run(|| {
        let s = RawSocket::receiver(4).unwrap();
        let mut inner = vec![0u8; 28];
        inner[0] = 0x45;
        inner[2..4].copy_from_slice(&28u16.to_be_bytes());
        inner[8] = 64;
        inner[9] = 17;
        inner[12..16].copy_from_slice(&C.octets());
        inner[16..20].copy_from_slice(&H.octets());
        let c = mip_wire::error::internet_checksum(&inner[..20]);
        inner[10..12].copy_from_slice(&c.to_be_bytes());
        for _ in 0..3 {
            s.send_payload(&inner, C, A_C, 64, 0).unwrap();
        }
    });
    let mut after = before;
    for _ in 0..50 {
        after = lab.ea.stats().unwrap().engine.unknown_source;
        if after >= before + 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(after, before + 3);

    // Without the source route, B's answers have no way back: the reverse path is the tunnel.
    lab.eb.unroute_source(H, 1).unwrap();
    assert_eq!(ping_from(&lab.c, H, 84, false), PingResult::Timeout);
    assert!(lab.eb.stats().unwrap().engine.no_route >= 1);
    let _ = (&lab.a, &lab.b);
}

/// GRO between the engines: B's interface coalesces A's IP-in-IP packets of one TCP flow
/// (veth merges when the sender has TSO off and the receiver has GRO with a flush timeout,
/// as a NIC's interrupt coalescing does), and B's raw socket receives super-segments larger
/// than its TUN MTU with partial TCP checksums. B must write them back as TCP GSO packets:
/// written as they are, the kernel would drop them and the TCP stream would stall.
#[test]
fn gro_coalesced_tunnel_packets_are_delivered() {
    if !require_root() {
        return;
    }
    // As a GSO packet (B's TUN device has offloads), and cut into segments (it has none).
    for b_offload in [true, false] {
        gro_coalesced(b_offload);
    }
}

fn gro_coalesced(b_offload: bool) {
    let lab = lab_with(Encapsulation::IpIp, None, false, 1, b_offload, TxMode::Raw);
    lab.a.exec("ethtool -K a1 tso off gso off");
    lab.b.exec("ethtool -K b1 gro off");
    lab.b.exec("ethtool -K b1 gro on");
    lab.b
        .exec("sh -c 'echo 50000 > /sys/class/net/b1/gro_flush_timeout'");
    tcp_exchange(&lab.c, &lab.b, SocketAddrV4::new(H, 5003), 8 << 20, 1 << 16);
    let s = lab.eb.stats().unwrap();
    assert!(
        s.engine.rx_coalesced > 0,
        "B's raw socket received coalesced super-segments: {:?}",
        s.engine
    );
    let t = s.tunnel(1);
    assert!(
        t.rx_packets > s.engine.raw_packets,
        "each coalesced packet counts the segments it stands for: {t:?} {:?}",
        s.engine
    );
    assert_eq!(t.drop_write_error, 0, "{t:?}");
}

#[test]
fn gre_with_key_checksum_and_sequence() {
    if !require_root() {
        return;
    }
    let gre = Encapsulation::Gre {
        key: Some(0x1234),
        checksum: true,
        sequence: true,
    };
    let lab = lab(gre, None, false);
    assert_eq!(lab.ea.stats().unwrap().tunnels[&1].mtu, 1500 - 36);
    let cap = Capture::start(&lab.b, "b1", &[47]);
    assert!(matches!(
        lab.c.run(|| ping_until_reply(H, 84, 5)),
        PingResult::Reply { .. }
    ));
    let wire = cap.finish();
    let p = wire
        .iter()
        .find(|p| ip_src(p) == A_B && ip_dst(p) == B_A)
        .expect("GRE A->B on the wire");
    let g = &p[20..];
    assert_eq!(u16::from_be_bytes([g[0], g[1]]), 0xb000, "C, K and S flags");
    assert_eq!(u16::from_be_bytes([g[2], g[3]]), 0x0800);
    assert_eq!(
        u32::from_be_bytes([g[8], g[9], g[10], g[11]]),
        0x1234,
        "key"
    );
    assert_eq!(ip_dst(&g[16..]), H);

    tcp_exchange(&lab.c, &lab.b, SocketAddrV4::new(H, 5002), 3 << 20, 1 << 20);
    let b = lab.eb.stats().unwrap().tunnel(1);
    assert!(b.rx_bytes > 3 << 20 && b.drop_key_mismatch == 0, "{b:?}");

    // B now expects another key: A's packets are dropped as key mismatches.
    lab.eb.remove_tunnel(1).unwrap();
    lab.eb
        .add_tunnel(
            1,
            TunnelSpec {
                local: B_A,
                remote: A_B,
                encapsulation: Encapsulation::Gre {
                    key: Some(0x9999),
                    checksum: false,
                    sequence: false,
                },
                mtu: None,
            },
        )
        .unwrap();
    lab.eb.accept_from(A_B, 1).unwrap();
    assert_eq!(ping_from(&lab.c, H, 84, false), PingResult::Timeout);
    assert!(lab.eb.stats().unwrap().tunnel(1).drop_key_mismatch >= 1);
    let _ = &lab.a;
}

#[test]
fn minimal_encapsulation() {
    if !require_root() {
        return;
    }
    let lab = lab(Encapsulation::Minimal, None, true);
    let cap = Capture::start(&lab.b, "b1", &[55]);
    assert_eq!(
        lab.c.run(|| ping_until_reply(H, 84, 5)),
        PingResult::Reply { ttl: 63 }
    );
    let wire = cap.finish();
    let p = wire
        .iter()
        .find(|p| ip_src(p) == A_B && ip_dst(p) == B_A)
        .unwrap_or_else(|| panic!("minimal encapsulation A->B on the wire: {wire:02x?}"));
    assert_eq!(p[8], 63, "the kept inner header: TTL decremented once by A");
    let f = &p[20..];
    assert_eq!(f[0], 1, "original protocol ICMP");
    assert_ne!(f[1] & 0x80, 0, "S: original source present");
    assert_eq!(Ipv4Addr::new(f[4], f[5], f[6], f[7]), H);
    assert_eq!(Ipv4Addr::new(f[8], f[9], f[10], f[11]), C);
    // B's own answers: it is the original source, so no S bit and an 8-byte header.
    let r = wire
        .iter()
        .find(|p| ip_src(p) == B_A && ip_dst(p) == A_B)
        .expect("minimal encapsulation B->A on the wire");
    assert_eq!(r[21] & 0x80, 0x80, "from H, not from B's address: S set");

    tcp_exchange(&lab.c, &lab.b, SocketAddrV4::new(H, 5003), 3 << 20, 1 << 20);
    let (a, b) = (
        lab.ea.stats().unwrap().tunnel(1),
        lab.eb.stats().unwrap().tunnel(1),
    );
    assert!(b.rx_bytes > 3 << 20 && a.rx_bytes > 1 << 20, "{a:?} {b:?}");
    assert_eq!(a.drop_decap_error + b.drop_decap_error, 0);
    let _ = (&lab.a, &lab.b);
}

#[test]
fn route_many_answers_each_route_in_one_request() {
    if !require_root() {
        return;
    }
    let ns = Netns::new("m");
    let e = start_engine(&ns, "mipt2");
    for (id, remote) in [(1, B_A), (2, C)] {
        e.add_tunnel(
            id,
            TunnelSpec {
                local: A_B,
                remote,
                encapsulation: Encapsulation::IpIp,
                mtu: Some(1480),
            },
        )
        .unwrap();
    }
    let (h1, h2, h3) = (
        Ipv4Addr::new(10, 9, 0, 1),
        Ipv4Addr::new(10, 9, 0, 2),
        Ipv4Addr::new(10, 9, 0, 3),
    );
    assert!(e.route_many(&[]).is_empty());

    // An unknown tunnel in the middle fails alone, with the error `route` gives; the rest
    // (a repeated route included) succeed.
    let r = e.route_many(&[(h1, 1), (h2, 99), (h3, 2), (h1, 1), (h3, 1)]);
    assert_eq!(r.len(), 5);
    assert!(
        r[0].is_ok() && r[2].is_ok() && r[3].is_ok() && r[4].is_ok(),
        "{r:?}"
    );
    let err = r[1].as_ref().unwrap_err();
    let single = e.route(h2, 99).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.kind(), single.kind());
    assert_eq!(err.to_string(), single.to_string());
    assert_eq!(
        e.stats().unwrap().routes,
        vec![(h1, 1), (h3, 1), (h3, 2)],
        "a route per success, none for the failure"
    );

    // And back: a route that is not there fails alone, like `unroute`.
    let r = e.unroute_many(&[(h1, 1), (h2, 1), (h3, 2)]);
    assert_eq!(r.len(), 3);
    assert!(r[0].is_ok() && r[2].is_ok(), "{r:?}");
    assert_eq!(
        r[1].as_ref().unwrap_err().to_string(),
        e.unroute(h2, 1).unwrap_err().to_string()
    );
    assert_eq!(e.stats().unwrap().routes, vec![(h3, 1)]);

    // Many routes in one request.
    let many: Vec<_> = (0..100_000u32)
        .map(|i| (Ipv4Addr::from(0x0a80_0000 + i), 1 + i % 2))
        .collect();
    let r = e.route_many(&many);
    assert_eq!(r.len(), many.len());
    assert!(r.iter().all(Result::is_ok));
    assert_eq!(e.stats().unwrap().routes.len(), many.len() + 1);
    assert!(e.unroute_many(&many).iter().all(Result::is_ok));
    assert_eq!(e.stats().unwrap().routes, vec![(h3, 1)]);
}

/// Sends `per_flow` UDP datagrams of `len` bytes (IP length) to `dst`:9000 from each of
/// `flows` sockets (so many flows), with DF set when `df` (and never fragmented by C itself).
/// Returns how many left C.
fn udp_flows(dst: Ipv4Addr, flows: usize, per_flow: usize, len: usize, df: bool) -> usize {
    let socks: Vec<std::net::UdpSocket> = (0..flows)
        .map(|_| {
            let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
            let v: libc::c_int = if df {
                libc::IP_PMTUDISC_PROBE
            } else {
                libc::IP_PMTUDISC_DONT
            };
            // SAFETY: `v` is a live c_int and the length passed is its size.
            let r = unsafe {
                libc::setsockopt(
                    std::os::fd::AsRawFd::as_raw_fd(&s),
                    libc::IPPROTO_IP,
                    libc::IP_MTU_DISCOVER,
                    (&v as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            assert_eq!(r, 0);
            s.connect(SocketAddrV4::new(dst, 9000)).unwrap();
            s
        })
        .collect();
    let payload = pattern(len - 28, 7);
    let mut sent = 0;
    for _ in 0..per_flow {
        for s in &socks {
            // A send fails when it picks up the ICMP error about an earlier one (DF):
            // then nothing was sent.
            if s.send(&payload).is_ok() {
                sent += 1;
            }
        }
        // Gently: the TUN queues hold 500 packets.
        std::thread::sleep(Duration::from_millis(2));
    }
    sent
}

/// Polls `f` until it holds (at most ~5 s); returns whether it did.
/// Counts the datagrams arriving at `addr` in `ns` until none came for 2 s; ready when it
/// returns.
fn count_datagrams(ns: &Netns, addr: SocketAddrV4) -> std::thread::JoinHandle<usize> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let receiver = ns.spawn(move || {
        let s = std::net::UdpSocket::bind(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 2048];
        let mut n = 0usize;
        while s.recv(&mut buf).is_ok() {
            n += 1;
        }
        n
    });
    ready_rx.recv().unwrap();
    receiver
}

fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn multi_queue_engine_spreads_flows_and_shares_tunnel_state() {
    if !require_root() {
        return;
    }
    let gre = Encapsulation::Gre {
        key: Some(0x0102_0304),
        checksum: false,
        sequence: true,
    };
    let lab = lab_queues(gre, None, false, 2);
    assert_eq!(lab.ea.queues(), 2);
    // B counts what reaches H:9000.
    let receiver = count_datagrams(&lab.b, SocketAddrV4::new(H, 9000));

    // 32 flows x 10 datagrams: the kernel spreads the flows over both queues.
    let cap = Capture::start(&lab.b, "b1", &[47]);
    let sent = lab.c.run(|| udp_flows(H, 32, 10, 200, false));
    assert!(eventually(
        || lab.ea.stats().unwrap().tunnel(1).tx_packets >= sent as u64
    ));
    let wire = cap.finish();
    let received = receiver.join().unwrap();
    assert_eq!(received, sent, "every datagram through the tunnel to H");
    let s = lab.ea.stats().unwrap();
    assert_eq!(s.queue_packets.len(), 2);
    assert!(
        s.queue_packets.iter().all(|&n| n > 0),
        "both queues carried packets: {:?}",
        s.queue_packets
    );
    assert_eq!(s.queue_packets.iter().sum::<u64>(), s.engine.tun_packets);
    assert_eq!(s.tunnel(1).tx_packets, sent as u64, "{:?}", s.tunnel(1));
    assert_eq!(lab.eb.stats().unwrap().tunnel(1).rx_packets, sent as u64);

    // On the wire: GRE with the key, sequence numbers and outer Identifications shared out
    // between the queue threads without repeats.
    let grew: Vec<&Vec<u8>> = wire
        .iter()
        .filter(|p| ip_src(p) == A_B && ip_dst(p) == B_A)
        .collect();
    assert_eq!(grew.len(), sent, "GRE packets A->B captured");
    let mut seqs = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for p in &grew {
        let g = &p[20..];
        assert_eq!(g[0], 0x30, "K and S bits");
        assert_eq!(&g[4..8], &[1, 2, 3, 4], "key");
        seqs.insert(u32::from_be_bytes([g[8], g[9], g[10], g[11]]));
        ids.insert(u16::from_be_bytes([p[4], p[5]]));
    }
    assert_eq!(seqs.len(), sent, "no GRE sequence number twice");
    assert_eq!(
        seqs.iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        (1..=sent as u32).collect(),
        "sequence numbers 1..=n"
    );
    assert_eq!(ids.len(), sent, "no outer Identification twice");

    // An MTU set through the handle holds on every queue: DF packets over it are dropped,
    // whichever queue they arrive on.
    lab.ea.set_mtu(1, 150).unwrap();
    let sent_df = lab.c.run(|| udp_flows(H, 32, 2, 200, true));
    assert!(eventually(|| lab
        .ea
        .stats()
        .unwrap()
        .tunnel(1)
        .drop_too_big
        >= sent_df as u64));
    let s = lab.ea.stats().unwrap();
    assert_eq!(
        s.tunnel(1).drop_too_big,
        sent_df as u64,
        "{:?}",
        s.tunnel(1)
    );
    assert_eq!(s.tunnel(1).tx_packets, sent as u64);
    assert_eq!(
        s.engine.icmp_sent + s.engine.icmp_suppressed,
        sent_df as u64,
        "an ICMP error (or its suppression) per packet"
    );

    // Removing the tunnel removes it (and its routes) on every queue.
    lab.ea.remove_tunnel(1).unwrap();
    let before = lab.ea.stats().unwrap().engine.no_route;
    let sent_none = lab.c.run(|| udp_flows(H, 32, 2, 200, false));
    assert!(eventually(
        || lab.ea.stats().unwrap().engine.no_route >= before + sent_none as u64
    ));
    let s = lab.ea.stats().unwrap();
    assert_eq!(s.engine.no_route, before + sent_none as u64);
    assert!(s.tunnels.is_empty());
    let _ = (&lab.a, &lab.b);
}

/// Several TUN queues with the packet transmit mode: each queue thread has its own packet
/// socket and next-hop cache; every datagram arrives, both queues sent, most packets went by
/// the packet sockets, and the outer Identifications stay unique across the threads.
#[test]
fn multi_queue_engine_with_packet_transmit() {
    if !require_root() {
        return;
    }
    let lab = lab_with(Encapsulation::IpIp, None, false, 2, true, TxMode::Packet);
    // The kernel's neighbour entry for B exists before the engine's first resolution.
    lab.a.exec("ping -c 1 -W 1 10.2.0.2");
    let receiver = count_datagrams(&lab.b, SocketAddrV4::new(H, 9000));
    let cap = Capture::start(&lab.b, "b1", &[4]);
    let sent = lab.c.run(|| udp_flows(H, 32, 10, 200, false));
    assert!(eventually(
        || lab.ea.stats().unwrap().tunnel(1).tx_packets >= sent as u64
    ));
    let wire = cap.finish();
    assert_eq!(
        receiver.join().unwrap(),
        sent,
        "every datagram through the tunnel"
    );
    let s = lab.ea.stats().unwrap();
    assert!(
        s.queue_packets.iter().all(|&n| n > 0),
        "both queues carried packets: {:?}",
        s.queue_packets
    );
    let c = &s.engine;
    assert_eq!(
        c.tx_packet_socket + c.tx_raw_fallback + c.tx_raw_refresh,
        sent as u64,
        "{c:?}"
    );
    assert!(
        c.tx_packet_socket >= sent as u64 / 2 && c.packet_send_errors == 0,
        "{c:?}"
    );
    let ids: std::collections::HashSet<u16> = wire
        .iter()
        .filter(|p| ip_src(p) == A_B && ip_dst(p) == B_A)
        .map(|p| u16::from_be_bytes([p[4], p[5]]))
        .collect();
    assert_eq!(ids.len(), sent, "no outer Identification twice");
}
