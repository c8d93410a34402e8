//! Broadcast forwarding at the home agent (RFC 5944 §4.3) in network namespaces (root
//! required; skipped loudly otherwise, and a failure when `CI` is set).
//!
//! ```text
//!  home link 10.1.0.0/24            10.2.0.0/24
//!  C 10.1.0.2 --c0/a0-- A (HA) 10.1.0.1 | 10.2.0.1 --a1/b1-- B 10.2.0.2 (care-of address)
//! ```
//!
//! The mobile node's home address H = 10.1.0.50. C sends UDP broadcasts to 255.255.255.255
//! and to 10.1.0.255 on the home link.

mod net_support;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mip_ha::{DataPlaneRequest, TunnelEndpoints, TunnelId};
use mip_io::net::mn::{self, ColocatedBinding};
use mip_io::net::{
    BroadcastTarget, Encapsulation, EngineConfig, HaDataPlaneConfig, LinuxHaDataPlane, Netlink,
    TunnelEngine,
};
use mip_io::DataPlane;
use mip_wire::codes;
use net_support::*;

const H: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 50);
const C: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
const HA: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const COA: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const DIRECTED: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 255);
const PORT: u16 = 5300;
const T0: TunnelId = TunnelId(0);

fn topology() -> (Netns, Netns, Netns) {
    let c = Netns::new("bc");
    let a = Netns::new("ba");
    let b = Netns::new("bb");
    veth(&c, "c0", &a, "a0");
    veth(&a, "a1", &b, "b1");
    c.ip("addr add 10.1.0.2/24 dev c0");
    a.ip("addr add 10.1.0.1/24 dev a0");
    a.ip("addr add 10.2.0.1/24 dev a1");
    b.ip("addr add 10.2.0.2/24 dev b1");
    (c, a, b)
}

fn home_agent(a: &Netns) -> LinuxHaDataPlane {
    let mut dp = a.run(|| {
        LinuxHaDataPlane::new(HaDataPlaneConfig {
            engine: EngineConfig {
                tun_name: "mipha0".into(),
                ..EngineConfig::default()
            },
            ..HaDataPlaneConfig::default()
        })
        .expect("home agent data plane")
    });
    for req in [
        DataPlaneRequest::AddTunnel {
            tunnel: T0,
            endpoints: TunnelEndpoints {
                source: HA,
                destination: COA,
            },
            encapsulation: codes::Encapsulation::from(4),
            reverse_allowed: true,
        },
        DataPlaneRequest::AddHostRoute {
            home_address: H,
            tunnel: T0,
        },
    ] {
        dp.apply(&req).unwrap_or_else(|e| panic!("{req:?}: {e}"));
    }
    dp
}

fn broadcast(enable: bool, colocated: bool) -> DataPlaneRequest {
    DataPlaneRequest::BroadcastForwarding {
        home_address: H,
        tunnel: T0,
        enable,
        interface: Some("a0".into()),
        colocated,
    }
}

/// Sends `tag` from `from` on the home link to 255.255.255.255 and to 10.1.0.255.
fn send_both(c: &Netns, from: Ipv4Addr, tag: &'static str) {
    c.run(move || {
        let s = UdpSocket::bind(SocketAddrV4::new(from, 0)).unwrap();
        s.set_broadcast(true).unwrap();
        for dst in [Ipv4Addr::BROADCAST, DIRECTED] {
            let msg = format!("{tag} {dst}");
            s.send_to(msg.as_bytes(), SocketAddrV4::new(dst, PORT))
                .unwrap();
        }
    });
}

/// A UDP receiver on port 5300 in `ns`, streaming what it gets.
struct Receiver {
    stop: Arc<AtomicBool>,
    rx: mpsc::Receiver<String>,
    got: Vec<String>,
}

impl Receiver {
    fn start(ns: &Netns) -> Receiver {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        ns.spawn(move || {
            let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).unwrap();
            s.set_broadcast(true).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 1500];
            while !stop2.load(Ordering::Relaxed) {
                if let Ok(n) = s.recv(&mut buf) {
                    let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
        });
        ready_rx.recv().unwrap();
        Receiver {
            stop,
            rx,
            got: Vec::new(),
        }
    }

    /// Waits until `want` arrived (true) or `timeout` passed.
    fn wait_for(&mut self, want: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if self.got.iter().any(|g| g == want) {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) => self.got.push(m),
                Err(_) => return false,
            }
        }
    }

    fn drain(&mut self, grace: Duration) -> &[String] {
        let end = Instant::now() + grace;
        while let Ok(m) = self
            .rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.got.push(m);
        }
        &self.got
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn colocated_mobile_node_gets_home_link_broadcasts_only_while_b_is_on() {
    if !require_root() {
        return;
    }
    let (c, a, b) = topology();

    // The co-located mobile node at B; 10.1.0.255 is a broadcast address there too (its
    // home subnet), so the stack delivers the subnet-directed broadcast locally.
    let (eb, mut nlb) = b.run(|| {
        let e = TunnelEngine::start(EngineConfig {
            tun_name: "mipmn0".into(),
            ..EngineConfig::default()
        })
        .unwrap();
        (e, Netlink::open().unwrap())
    });
    let binding = ColocatedBinding {
        home_address: H,
        home_agent: HA,
        care_of_address: COA,
        encapsulation: Encapsulation::IpIp,
        tunnel: 7,
        reverse: None,
    };
    mn::attach_colocated(&mut nlb, &eb, &binding).unwrap();
    b.ip("route add broadcast 10.1.0.255 dev mipmn0 table local");

    let mut dp = home_agent(&a);
    let mut rx = Receiver::start(&b);

    // B not granted: nothing is forwarded.
    send_both(&c, C, "before");

    dp.apply(&broadcast(true, true)).unwrap();
    let stats = dp.engine().stats().unwrap();
    assert_eq!(stats.broadcast_links.len(), 1, "{stats:?}");
    assert!(
        stats.broadcast_links[0].1.contains(&DIRECTED),
        "{:?}",
        stats.broadcast_links
    );
    assert_eq!(
        stats.broadcast_targets,
        vec![BroadcastTarget {
            ifindex: stats.broadcast_links[0].0,
            tunnel: 0,
            home_address: H,
            nested: false,
        }]
    );

    send_both(&c, C, "on");
    let wait = Duration::from_secs(3);
    assert!(rx.wait_for("on 255.255.255.255", wait), "{:?}", rx.got);
    assert!(rx.wait_for("on 10.1.0.255", wait), "{:?}", rx.got);
    let ha = dp.engine().stats().unwrap();
    assert_eq!(ha.tunnel(0).tx_broadcast, 2, "{:?}", ha.tunnel(0));
    assert_eq!(ha.engine.broadcast_forwarded, 2, "{:?}", ha.engine);
    let mn_t = eb.stats().unwrap().tunnel(7);
    assert!(mn_t.rx_packets >= 2, "{mn_t:?}");

    // A broadcast from the home address itself (it can only have come out of a tunnel) is
    // not sent back.
    c.ip("addr add 10.1.0.50/32 dev c0");
    send_both(&c, H, "loop");
    c.ip("addr del 10.1.0.50/32 dev c0");

    // B withdrawn: nothing any more, and the link is no longer listened on.
    dp.apply(&broadcast(false, true)).unwrap();
    let stats = dp.engine().stats().unwrap();
    assert!(stats.broadcast_links.is_empty() && stats.broadcast_targets.is_empty());
    send_both(&c, C, "after");

    let got = rx.drain(Duration::from_millis(400)).to_vec();
    assert!(
        got.iter().all(|m| m.starts_with("on ")),
        "only the broadcasts sent while B was on arrive: {got:?}"
    );
    let ha = dp.engine().stats().unwrap();
    assert_eq!(ha.tunnel(0).tx_broadcast, 2);
    assert_eq!(ha.engine.broadcast_loop, 2, "{:?}", ha.engine);
    assert_eq!(dp.counts().failed, 0);

    drop(rx);
    mn::detach_colocated(&mut nlb, &eb, &binding).unwrap();
}

#[test]
fn foreign_agent_care_of_address_gets_nested_copies() {
    if !require_root() {
        return;
    }
    let (c, a, b) = topology();
    let mut dp = home_agent(&a);
    dp.apply(&broadcast(true, false)).unwrap();

    let cap = Capture::start(&b, "b1", &[4]);
    send_both(&c, C, "nest");
    let deadline = Instant::now() + Duration::from_secs(3);
    while dp.engine().stats().unwrap().tunnel(0).tx_broadcast < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let got = cap.finish();
    let mut inner_dsts = Vec::new();
    for p in &got {
        // outer: HA -> care-of address, IP in IP; middle: HA -> home address, IP in IP;
        // inner: C -> broadcast, UDP, TTL decremented once.
        assert_eq!((ip_src(p), ip_dst(p)), (HA, COA));
        let mid = &p[20..];
        assert_eq!((ip_src(mid), ip_dst(mid), mid[9]), (HA, H, 4));
        let inner = &mid[20..];
        assert_eq!((ip_src(inner), inner[9], inner[8]), (C, 17, 63));
        inner_dsts.push(ip_dst(inner));
    }
    inner_dsts.sort();
    assert_eq!(inner_dsts, vec![DIRECTED, Ipv4Addr::BROADCAST], "{got:?}");

    // Removing the tunnel takes its broadcast forwarding with it.
    dp.apply(&DataPlaneRequest::RemoveHostRoute {
        home_address: H,
        tunnel: T0,
    })
    .unwrap();
    dp.apply(&DataPlaneRequest::RemoveTunnel {
        tunnel: T0,
        endpoints: TunnelEndpoints {
            source: HA,
            destination: COA,
        },
        encapsulation: codes::Encapsulation::from(4),
    })
    .unwrap();
    let stats = dp.engine().stats().unwrap();
    assert!(stats.broadcast_links.is_empty() && stats.broadcast_targets.is_empty());
    // A late disable for the gone binding is harmless.
    dp.apply(&broadcast(false, false)).unwrap();
}
