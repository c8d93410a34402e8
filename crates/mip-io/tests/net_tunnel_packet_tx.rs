//! The tunnel engine's `TxMode::Packet` (outer packets on an `AF_PACKET` socket to a next hop
//! the engine resolves) with real traffic between two network namespaces (root required):
//!
//! ```text
//!   A (10.2.0.1, engine mipt0, UDP sender) --a1/b1-- B (10.2.0.2, engine mipt1, H = 10.9.9.9)
//! ```
//!
//! A routes H into its TUN device and tunnels it (IP in IP) to B, whose engine (raw mode)
//! decapsulates and delivers to a UDP receiver on H.

mod net_support;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mip_io::net::{
    Encapsulation, EngineConfig, EngineCounters, Netlink, Route, TunnelEngine, TunnelSpec, TxMode,
};
use net_support::*;

const A_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const B_A: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const H: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
const PORT: u16 = 5000;
const SRC_PORT: u16 = 40000;

struct Lab {
    // engines and receiver first: dropped before the namespaces
    ea: Option<TunnelEngine>,
    _eb: TunnelEngine,
    rx: Receiver,
    a: Netns,
    b: Netns,
}

/// Datagrams received: (sequence number, bytes).
type Received = Arc<Mutex<Vec<(u32, Vec<u8>)>>>;

/// Collects the sequence numbers (first 4 bytes) of the datagrams arriving at H:PORT in B.
struct Receiver {
    got: Received,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(ns: &Netns) -> Receiver {
        let got: Received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (got.clone(), stop.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = ns.spawn(move || {
            let sock = UdpSocket::bind(SocketAddrV4::new(H, PORT)).expect("bind H");
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    if n >= 4 {
                        let seq = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                        g.lock().unwrap().push((seq, buf[..n].to_vec()));
                    }
                }
            }
        });
        ready_rx.recv().unwrap();
        Receiver {
            got,
            stop,
            handle: Some(handle),
        }
    }

    fn seqs(&self) -> Vec<u32> {
        self.got.lock().unwrap().iter().map(|(s, _)| *s).collect()
    }

    fn has(&self, seq: u32) -> bool {
        self.got.lock().unwrap().iter().any(|(s, _)| *s == seq)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The payload of datagram `seq`: its number, then test bytes.
fn payload(seq: u32) -> Vec<u8> {
    let mut p = seq.to_be_bytes().to_vec();
    p.extend(pattern(60, 1));
    p
}

/// Sends datagrams `seqs` from A (source port [`SRC_PORT`]) to H:PORT, `gap` apart.
fn send_from_a(a: &Netns, seqs: std::ops::Range<u32>, gap: Duration) {
    a.run(move || {
        let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SRC_PORT)).unwrap();
        for seq in seqs {
            s.send_to(&payload(seq), SocketAddrV4::new(H, PORT))
                .expect("send");
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
        }
    });
}

fn start_a(a: &Netns, tx: TxMode) -> TunnelEngine {
    start_a_with(a, tx, Encapsulation::IpIp)
}

fn start_a_with(a: &Netns, tx: TxMode, encapsulation: Encapsulation) -> TunnelEngine {
    let ea = a.run(move || {
        let e = TunnelEngine::start(EngineConfig {
            tun_name: "mipt0".into(),
            tx,
            ..EngineConfig::default()
        })
        .expect("start engine A");
        Netlink::open()
            .unwrap()
            .route_replace(&Route::host_via_device(H, e.tun_ifindex()))
            .unwrap();
        e
    });
    ea.add_tunnel(
        1,
        TunnelSpec {
            local: A_B,
            remote: B_A,
            encapsulation,
            mtu: None,
        },
    )
    .unwrap();
    ea.route(H, 1).unwrap();
    ea
}

/// B's engine (raw transmit), decapsulating what comes from A with `encapsulation`.
fn start_b(b: &Netns, encapsulation: Encapsulation) -> TunnelEngine {
    let eb = b.run(|| {
        TunnelEngine::start(EngineConfig {
            tun_name: "mipt1".into(),
            ..EngineConfig::default()
        })
        .expect("start engine B")
    });
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
    eb
}

fn lab(tx: TxMode) -> Lab {
    lab_with(tx, Encapsulation::IpIp)
}

fn lab_with(tx: TxMode, encapsulation: Encapsulation) -> Lab {
    let a = Netns::new("pa");
    let b = Netns::new("pb");
    veth(&a, "a1", &b, "b1");
    a.ip("addr add 10.2.0.1/24 dev a1");
    b.ip("addr add 10.2.0.2/24 dev b1");
    b.ip("addr add 10.9.9.9/32 dev lo");
    let eb = start_b(&b, encapsulation);
    let rx = Receiver::start(&b);
    let ea = start_a_with(&a, tx, encapsulation);
    Lab {
        ea: Some(ea),
        _eb: eb,
        rx,
        a,
        b,
    }
}

impl Lab {
    fn ea(&self) -> &TunnelEngine {
        self.ea.as_ref().unwrap()
    }
    fn counters(&self) -> EngineCounters {
        self.ea().stats().unwrap().engine
    }
}

/// Polls `f` until it holds (at most `secs`); returns whether it did.
fn within(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// The packet with Identification and header checksum zeroed, in the outer and the inner
/// header (the inner one comes from a different send each time).
fn without_ids(p: &[u8]) -> Vec<u8> {
    let mut v = p.to_vec();
    for base in [0, 20] {
        v[base + 4..base + 6].fill(0);
        v[base + 10..base + 12].fill(0);
    }
    v
}

#[test]
fn packet_tx_sends_what_raw_tx_sends_and_counts_it() {
    if !require_root() {
        return;
    }
    const N: u32 = 40;
    let mut lab = lab(TxMode::Raw);

    // Raw mode: the reference wire bytes (this also resolves B_A in A's neighbour table).
    let cap = Capture::start(&lab.b, "b1", &[4]);
    send_from_a(&lab.a, 0..N, Duration::from_millis(1));
    assert!(within(3, || lab.rx.seqs().len() == N as usize));
    let raw_wire = cap.finish();
    let c = lab.counters();
    assert_eq!(
        (c.tx_packet_socket, c.tx_raw_fallback, c.tx_raw_refresh),
        (0, 0, 0),
        "raw mode counts nothing of the packet path"
    );

    // Packet mode, same traffic.
    drop(lab.ea.take());
    lab.ea = Some(start_a(&lab.a, TxMode::Packet));
    let cap = Capture::start(&lab.b, "b1", &[4]);
    send_from_a(&lab.a, N..2 * N, Duration::from_millis(1));
    assert!(
        within(3, || lab.rx.seqs().len() == 2 * N as usize),
        "every datagram delivered through the packet socket: got {:?}",
        lab.rx.seqs()
    );
    let packet_wire = cap.finish();

    assert_eq!(raw_wire.len(), N as usize);
    assert_eq!(packet_wire.len(), N as usize);
    for (i, (r, p)) in raw_wire.iter().zip(&packet_wire).enumerate() {
        assert_eq!(
            mip_wire::error::internet_checksum(&p[..20]),
            0,
            "packet {i}: outer header checksum verifies"
        );
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
        // The payloads differ in their sequence number (and so the UDP checksum): compare
        // the headers, and the payload after its number.
        let (r, p) = (without_ids(r), without_ids(p));
        assert_eq!(
            r[..46],
            p[..46],
            "packet {i}: IP/IP/UDP headers but the checksum"
        );
        assert_eq!(&r[52..], &p[52..], "packet {i}: payload after its number");
    }
    // The outer Identifications are the tunnel's counter, unique.
    let mut ids: Vec<u16> = packet_wire
        .iter()
        .map(|p| u16::from_be_bytes([p[4], p[5]]))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N as usize, "unique outer Identifications");
    // The inner packets arrive as sent.
    for (seq, bytes) in lab.rx.got.lock().unwrap().iter() {
        assert_eq!(bytes, &payload(*seq));
    }

    let c = lab.counters();
    assert_eq!(
        c.tx_packet_socket + c.tx_raw_fallback + c.tx_raw_refresh,
        u64::from(N),
        "{c:?}"
    );
    assert!(
        c.tx_raw_refresh >= 1,
        "the first packet goes by the raw socket"
    );
    assert!(
        c.tx_packet_socket >= u64::from(N) / 2,
        "most by the packet socket: {c:?}"
    );
    assert!(c.nexthop_resolved >= 1);
    assert_eq!(c.packet_send_errors, 0);
}

#[test]
fn packet_tx_falls_back_to_raw_until_the_neighbour_is_resolved() {
    if !require_root() {
        return;
    }
    let lab = lab(TxMode::Packet);
    // New namespaces: A has no neighbour entry for B yet.
    assert!(!lab.a.ip("neigh show dev a1").contains("10.2.0.2 "));
    send_from_a(&lab.a, 0..5, Duration::ZERO);
    assert!(within(3, || lab.rx.seqs().len() == 5), "raw delivers");
    let c = lab.counters();
    assert_eq!(c.tx_packet_socket, 0, "{c:?}");
    assert!(c.nexthop_unresolved >= 1, "{c:?}");
    assert_eq!(c.tx_raw_fallback + c.tx_raw_refresh, 5, "{c:?}");
    assert!(c.tx_raw_fallback >= 1, "{c:?}");

    // The kernel resolved B with the raw packets; the next refresh finds it.
    let mut seq = 5;
    let took_over = within(5, || {
        send_from_a(&lab.a, seq..seq + 1, Duration::ZERO);
        seq += 1;
        std::thread::sleep(Duration::from_millis(80));
        lab.counters().tx_packet_socket > 0
    });
    assert!(
        took_over,
        "packet path after resolution: {:?}",
        lab.counters()
    );
    send_from_a(&lab.a, seq..seq + 20, Duration::from_millis(1));
    seq += 20;
    assert!(
        within(3, || lab.rx.seqs().len() == seq as usize),
        "all delivered: {} of {seq}",
        lab.rx.seqs().len()
    );
    assert!(
        lab.counters().tx_packet_socket >= 10,
        "{:?}",
        lab.counters()
    );
}

#[test]
fn packet_tx_follows_a_changed_neighbour_mac() {
    if !require_root() {
        return;
    }
    let lab = lab(TxMode::Packet);
    // Resolve B, and let the packet path take over.
    let mut seq = 0;
    assert!(within(5, || {
        send_from_a(&lab.a, seq..seq + 1, Duration::ZERO);
        seq += 1;
        std::thread::sleep(Duration::from_millis(50));
        lab.counters().tx_packet_socket > 0
    }));

    // B's interface gets another MAC, and A learns it (as from a gratuitous ARP).
    let new_mac = "02:00:00:00:0b:0b";
    lab.b.ip("link set b1 down");
    lab.b.ip(&format!("link set b1 address {new_mac}"));
    lab.b.ip("link set b1 up");
    lab.a.ip(&format!(
        "neigh replace 10.2.0.2 lladdr {new_mac} dev a1 nud permanent"
    ));
    // Keep sending; after the next refresh the packet socket uses the new MAC.
    std::thread::sleep(Duration::from_millis(1300));
    let before = lab.counters();
    let first = seq;
    send_from_a(&lab.a, seq..seq + 20, Duration::from_millis(10));
    seq += 20;
    assert!(
        within(3, || (first..seq).all(|s| lab.rx.has(s))),
        "delivered after the refresh: {:?}",
        lab.rx.seqs()
    );
    let after = lab.counters();
    assert!(
        after.tx_packet_socket - before.tx_packet_socket >= 15,
        "by the packet socket: {before:?} -> {after:?}"
    );
}

/// Next-hop resolutions run in the engine thread, so they are rationed
/// (`EngineConfig::resolutions_per_second`): with a budget of one per second and three busy
/// tunnels to three remotes, one is resolved at once, the others start on the raw socket
/// (counted as deferred, their packets still delivered) and are resolved in later seconds.
#[test]
fn packet_tx_rations_next_hop_resolutions() {
    if !require_root() {
        return;
    }
    let a = Netns::new("ra");
    let b = Netns::new("rb");
    veth(&a, "a1", &b, "b1");
    a.ip("addr add 10.2.0.1/24 dev a1");
    b.ip("addr add 10.2.0.2/24 dev b1");
    let remotes = [B_A, Ipv4Addr::new(10, 2, 0, 3), Ipv4Addr::new(10, 2, 0, 4)];
    let inner = [H, Ipv4Addr::new(10, 9, 9, 10), Ipv4Addr::new(10, 9, 9, 11)];
    for (r, h) in remotes.iter().zip(&inner).skip(1) {
        b.ip(&format!("addr add {r}/24 dev b1"));
        b.ip(&format!("addr add {h}/32 dev lo"));
    }
    b.ip("addr add 10.9.9.9/32 dev lo");
    let eb = start_b(&b, Encapsulation::IpIp);
    let rx = Receiver::start(&b);
    // The kernel's neighbour entries for the three remotes exist before the engine asks.
    for r in remotes {
        a.exec(&format!("ping -c 1 -W 1 {r}"));
    }
    let ea = a.run(move || {
        let e = TunnelEngine::start(EngineConfig {
            tun_name: "mipt0".into(),
            tx: TxMode::Packet,
            resolutions_per_second: 1,
            ..EngineConfig::default()
        })
        .expect("start engine A");
        let mut nl = Netlink::open().unwrap();
        for h in inner {
            nl.route_replace(&Route::host_via_device(h, e.tun_ifindex()))
                .unwrap();
        }
        e
    });
    for (i, (r, h)) in remotes.iter().zip(&inner).enumerate() {
        let id = i as u32 + 1;
        ea.add_tunnel(
            id,
            TunnelSpec {
                local: A_B,
                remote: *r,
                encapsulation: Encapsulation::IpIp,
                mtu: None,
            },
        )
        .unwrap();
        ea.route(*h, id).unwrap();
    }
    // Traffic to all three for 4 s: one datagram each per 20 ms.
    let sender = a.spawn(move || {
        let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SRC_PORT)).unwrap();
        for seq in 0..200u32 {
            for h in inner {
                let _ = s.send_to(&payload(seq), SocketAddrV4::new(h, PORT));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let early = ea.stats().unwrap().engine;
    // One resolution per second: at most two by now (the first second's, and the next
    // one's if this machine was slow to get here), the rest deferred.
    assert!(
        early.nexthop_resolved + early.nexthop_unresolved <= 2,
        "rationed: {early:?}"
    );
    assert!(early.nexthop_deferred >= 1, "{early:?}");
    sender.join().unwrap();
    let late = ea.stats().unwrap().engine;
    assert!(
        late.nexthop_resolved >= 3,
        "every tunnel resolved within the following seconds: {late:?}"
    );
    assert!(
        late.tx_packet_socket > 0 && late.packet_send_errors == 0,
        "{late:?}"
    );
    // What went to H (the receiver's address) arrived, whichever socket carried it.
    assert!(
        within(2, || rx.seqs().len() >= 195),
        "{} of 200 delivered",
        rx.seqs().len()
    );
    drop(ea);
    drop(rx);
    drop(eb);
}

/// GRE (with key, checksum and sequence numbers) and minimal encapsulation go out through the
/// packet socket too: every datagram arrives intact at B, whose engine checks the GRE key and
/// header, and most went by the packet socket.
#[test]
fn packet_tx_carries_gre_and_minimal_encapsulation() {
    if !require_root() {
        return;
    }
    let gre = Encapsulation::Gre {
        key: Some(0x1234),
        checksum: true,
        sequence: true,
    };
    for encapsulation in [gre, Encapsulation::Minimal] {
        let lab = lab_with(TxMode::Packet, encapsulation);
        // The kernel's neighbour entry for B exists before the engine's first resolution.
        lab.a.exec("ping -c 1 -W 1 10.2.0.2");
        send_from_a(&lab.a, 0..40, Duration::from_millis(1));
        assert!(
            within(3, || lab.rx.seqs().len() == 40),
            "{encapsulation:?}: every datagram delivered: got {:?}",
            lab.rx.seqs()
        );
        for (seq, bytes) in lab.rx.got.lock().unwrap().iter() {
            assert_eq!(bytes, &payload(*seq), "{encapsulation:?}");
        }
        let c = lab.counters();
        assert!(
            c.tx_packet_socket >= 20 && c.packet_send_errors == 0,
            "{encapsulation:?}: {c:?}"
        );
    }
}
