//! The roles end to end in network namespaces (root required): the home agent's
//! [`LinuxHaDataPlane`] driven by `DataPlaneRequest`s, with a co-located mobile node, and with
//! a foreign agent delivering to a visitor and reverse-tunnelling its packets.
//!
//! ```text
//!  home link 10.1.0.0/24            10.2.0.0/24                  visitor link 10.3.0.0/24
//!  C 10.1.0.2 --c0/a0-- A (HA) 10.1.0.1 | 10.2.0.1 --a1/b1-- B 10.2.0.2 --b2/m0-- M
//! ```
//!
//! The mobile node's home address H = 10.1.0.50 is on the home prefix: C reaches it through
//! the home agent's proxy ARP.

mod net_support;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use mip_ha::{ArpReason, DataPlaneRequest, TunnelEndpoints, TunnelId};
use mip_io::net::arp::ArpSocket;
use mip_io::net::fa::{self, ReverseTunnel};
use mip_io::net::mn::{self, ColocatedBinding};
use mip_io::net::{
    Encapsulation, EngineConfig, HaDataPlaneConfig, LinuxHaDataPlane, Netlink, TunnelEngine,
    TunnelSpec,
};
use mip_io::DataPlane;
use mip_wire::codes;
use net_support::*;

const H: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 50);
const HA: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
const COA: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
const T0: TunnelId = TunnelId(0);

fn ends() -> TunnelEndpoints {
    TunnelEndpoints {
        source: HA,
        destination: COA,
    }
}

fn home_and_transit() -> (Netns, Netns, Netns) {
    let c = Netns::new("rc");
    let a = Netns::new("ra");
    let b = Netns::new("rb");
    veth(&c, "c0", &a, "a0");
    veth(&a, "a1", &b, "b1");
    c.ip("addr add 10.1.0.2/24 dev c0");
    a.ip("addr add 10.1.0.1/24 dev a0");
    a.ip("addr add 10.2.0.1/24 dev a1");
    b.ip("addr add 10.2.0.2/24 dev b1");
    (c, a, b)
}

fn home_agent(a: &Netns) -> LinuxHaDataPlane {
    a.run(|| {
        LinuxHaDataPlane::new(HaDataPlaneConfig {
            engine: EngineConfig {
                tun_name: "mipha0".into(),
                ..EngineConfig::default()
            },
            ..HaDataPlaneConfig::default()
        })
        .expect("home agent data plane")
    })
}

fn register(dp: &mut LinuxHaDataPlane) {
    for req in [
        DataPlaneRequest::AddTunnel {
            tunnel: T0,
            endpoints: ends(),
            encapsulation: codes::Encapsulation::from(4),
            reverse_allowed: true,
        },
        DataPlaneRequest::AddHostRoute {
            home_address: H,
            tunnel: T0,
        },
        DataPlaneRequest::ProxyArp {
            address: H,
            interface: "a0".into(),
            enable: true,
        },
        DataPlaneRequest::GratuitousArp {
            address: H,
            interface: "a0".into(),
            reason: ArpReason::MobileNodeLeft,
        },
    ] {
        dp.apply(&req).unwrap_or_else(|e| panic!("{req:?}: {e}"));
    }
}

#[test]
fn home_agent_with_a_colocated_mobile_node() {
    if !require_root() {
        return;
    }
    let (c, a, b) = home_and_transit();
    let mac_a0 = mac_of(&a, "a0");

    // The co-located mobile node at B.
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
        reverse: Some((100, 1000)),
    };
    assert_eq!(mn::attach_colocated(&mut nlb, &eb, &binding).unwrap(), 1480);

    // Gratuitous ARP seen on the home link.
    let (tx, rx) = std::sync::mpsc::channel();
    let garp = c.spawn(move || {
        let s = ArpSocket::open(Netlink::open().unwrap().ifindex("c0").unwrap()).unwrap();
        tx.send(()).unwrap();
        let mut got = Vec::new();
        while let Some(p) = s.recv(Duration::from_secs(3)).unwrap() {
            if p.is_gratuitous() && p.sender_ip == H {
                got.push(p);
                if got.len() == 2 {
                    break;
                }
            }
        }
        got
    });
    rx.recv().unwrap();
    let mut dp = home_agent(&a);
    register(&mut dp);
    let got = garp.join().unwrap();
    assert_eq!(got.len(), 2, "request and reply forms: {got:?}");
    assert!(got.iter().all(|p| p.sender_mac == mac_a0));

    assert!(a.ip("route show").contains("10.1.0.50 dev mipha0"));
    assert!(a.ip("neigh show proxy").contains("10.1.0.50 dev a0"));

    // C reaches H on its own link: proxy ARP, tunnel to the care-of address, reverse tunnel.
    assert_eq!(
        c.run(|| ping_until_reply(H, 84, 5)),
        PingResult::Reply { ttl: 63 }
    );
    let neigh = c.ip("neigh show 10.1.0.50");
    assert!(
        neigh.contains(&mip_io::net::netlink::format_mac(&mac_a0)),
        "proxy ARP answered with the home agent's MAC: {neigh}"
    );
    tcp_exchange(&c, &b, SocketAddrV4::new(H, 5004), 1 << 20, 1 << 20);
    let ha = dp.engine().stats().unwrap().tunnel(0);
    assert!(ha.tx_bytes > 1 << 20 && ha.rx_bytes > 1 << 20, "{ha:?}");

    // reverse-tunnel-off: the care-of address is no longer accepted.
    let req = DataPlaneRequest::SetTunnelReverse {
        tunnel: T0,
        reverse_allowed: false,
    };
    dp.apply(&req).unwrap();
    let before = dp.engine().stats().unwrap().engine.unknown_source;
    assert_eq!(
        c.run(|| ping(H, 84, false, Duration::from_secs(1))),
        PingResult::Timeout
    );
    assert!(dp.engine().stats().unwrap().engine.unknown_source > before);
    dp.apply(&DataPlaneRequest::SetTunnelReverse {
        tunnel: T0,
        reverse_allowed: true,
    })
    .unwrap();
    assert!(matches!(
        c.run(|| ping_until_reply(H, 84, 3)),
        PingResult::Reply { .. }
    ));
    dp.apply(&DataPlaneRequest::BroadcastForwarding {
        home_address: H,
        tunnel: T0,
        enable: true,
        interface: Some("a0".into()),
        colocated: true,
    })
    .unwrap();

    // Deregistration.
    for req in [
        DataPlaneRequest::RemoveHostRoute {
            home_address: H,
            tunnel: T0,
        },
        DataPlaneRequest::ProxyArp {
            address: H,
            interface: "a0".into(),
            enable: false,
        },
        DataPlaneRequest::RemoveTunnel {
            tunnel: T0,
            endpoints: ends(),
            encapsulation: codes::Encapsulation::from(4),
        },
        DataPlaneRequest::GratuitousArp {
            address: H,
            interface: "a0".into(),
            reason: ArpReason::MobileNodeReturned,
        },
    ] {
        dp.apply(&req).unwrap_or_else(|e| panic!("{req:?}: {e}"));
    }
    assert!(dp
        .apply(&DataPlaneRequest::RemoveHostRoute {
            home_address: H,
            tunnel: T0
        })
        .is_err());
    assert!(!a.ip("route show").contains("10.1.0.50"));
    assert!(!a.ip("neigh show proxy").contains("10.1.0.50"));
    let counts = dp.counts();
    assert_eq!(
        (
            counts.add_tunnel,
            counts.remove_tunnel,
            counts.add_host_route,
            counts.remove_host_route,
            counts.proxy_arp_on,
            counts.proxy_arp_off,
            counts.gratuitous_arp,
            counts.set_tunnel_reverse,
            counts.broadcast_on,
            counts.failed
        ),
        (1, 1, 1, 2, 1, 1, 2, 2, 1, 1)
    );
    assert_eq!(dp.kind(), "tun");

    mn::detach_colocated(&mut nlb, &eb, &binding).unwrap();
    assert!(!b.ip("rule show").contains("10.1.0.50"));
    assert!(!b.ip("addr show").contains("10.1.0.50"));
    assert!(eb.stats().unwrap().tunnels.is_empty());
}

#[test]
fn foreign_agent_delivers_to_a_visitor_and_reverse_tunnels() {
    if !require_root() {
        return;
    }
    let (c, a, b) = home_and_transit();
    let m = Netns::new("rm");
    veth(&b, "b2", &m, "m0");
    b.ip("addr add 10.3.0.1/24 dev b2");
    b.sysctl("net.ipv4.ip_forward", "1");
    m.ip("addr add 10.1.0.50/32 dev m0");
    m.ip("route add default via 10.3.0.1 dev m0 onlink");
    let mac_m0 = mac_of(&m, "m0");

    let mut dp = home_agent(&a);
    register(&mut dp);

    let (eb, mut nlb, b2) = b.run(|| {
        let e = TunnelEngine::start(EngineConfig {
            tun_name: "mipfa0".into(),
            ..EngineConfig::default()
        })
        .unwrap();
        let mut nl = Netlink::open().unwrap();
        let b2 = nl.ifindex("b2").unwrap();
        (e, nl, b2)
    });
    eb.add_tunnel(
        3,
        TunnelSpec {
            local: COA,
            remote: HA,
            encapsulation: Encapsulation::IpIp,
            mtu: None,
        },
    )
    .unwrap();
    eb.accept_from(HA, 3).unwrap();
    fa::add_visitor(&mut nlb, b2, H, mac_m0).unwrap();
    let rt = ReverseTunnel {
        home_address: H,
        visitor_interface: "b2".into(),
        table: 100,
        priority: 1000,
        tunnel: 3,
    };
    fa::enable_reverse_tunnel(&mut nlb, &eb, &rt).unwrap();

    let neigh = b.ip("neigh show dev b2");
    let want = format!(
        "10.1.0.50 lladdr {} PERMANENT",
        mip_io::net::netlink::format_mac(&mac_m0)
    );
    assert!(neigh.contains(&want), "{neigh}");
    assert!(b
        .ip("rule show")
        .contains("from 10.1.0.50 iif b2 lookup 100"));

    // C -> HA -> tunnel -> FA -> M (no ARP), and M -> FA -> reverse tunnel -> HA -> C:
    // B forwards (64 -> 63 at M), A forwards the decapsulated answer (63 -> 62 at C).
    assert_eq!(
        c.run(|| ping_until_reply(H, 84, 5)),
        PingResult::Reply { ttl: 62 }
    );
    tcp_exchange(&c, &m, SocketAddrV4::new(H, 5005), 1 << 20, 1 << 20);
    let fa_t = eb.stats().unwrap().tunnel(3);
    assert!(
        fa_t.rx_bytes > 1 << 20 && fa_t.tx_bytes > 1 << 20,
        "{fa_t:?}"
    );
    assert!(
        !m.ip("neigh show").contains("10.1.0.2"),
        "M never resolves C: everything goes through the foreign agent"
    );

    fa::disable_reverse_tunnel(&mut nlb, &eb, &rt).unwrap();
    fa::remove_visitor(&mut nlb, b2, H).unwrap();
    fa::remove_visitor(&mut nlb, b2, H).unwrap(); // already gone: fine
    assert!(!b.ip("rule show").contains("10.1.0.50"));
    assert!(!b.ip("neigh show dev b2").contains("10.1.0.50"));
    assert!(eb.stats().unwrap().source_routes.is_empty());
}
