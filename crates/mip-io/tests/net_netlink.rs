//! The rtnetlink client, sysctls and gratuitous ARP, checked against `ip` output and the wire
//! in network namespaces (root required).

mod net_support;

use std::net::Ipv4Addr;
use std::time::Duration;

use mip_io::net::arp::{send_gratuitous_arp, ArpSocket, GratuitousArpKind, BROADCAST_MAC};
use mip_io::net::{sysctl, Netlink, Route, Rule, MAIN_TABLE};
use net_support::*;

const MAC9: [u8; 6] = [0x02, 0, 0, 0, 0, 0x09];

#[test]
fn routes_rules_neighbours_addresses_links_and_sysctls() {
    if !require_root() {
        return;
    }
    let n = Netns::new("nl");
    n.ip("link add v0 type veth peer name v1");
    let h5 = Ipv4Addr::new(10, 77, 1, 5);
    let h6 = Ipv4Addr::new(10, 77, 1, 6);
    let nb = Ipv4Addr::new(10, 77, 0, 9);
    let px = Ipv4Addr::new(10, 77, 0, 10);
    let v0 = n.run(move || {
        let mut nl = Netlink::open().unwrap();
        let l = nl.link("v0").unwrap();
        assert_eq!(l.mtu, 1500);
        assert!(l.mac.is_some() && !l.up);
        assert_eq!(nl.link_by_index(l.index).unwrap().name, "v0");
        let v1 = nl.ifindex("v1").unwrap();
        nl.link_set_up(l.index, true).unwrap();
        nl.link_set_up(v1, true).unwrap();
        assert!(nl.link("v0").unwrap().up);
        nl.link_set_mtu(l.index, 1400).unwrap();
        nl.addr_add(l.index, Ipv4Addr::new(10, 77, 0, 1), 24)
            .unwrap();
        let r5 = Route::host_via_device(h5, l.index).in_table(100);
        nl.route_replace(&r5).unwrap();
        nl.route_replace(&r5).unwrap(); // replace semantics
        let e = nl.route_add(&r5).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        let s = e.to_string();
        assert!(
            s.contains("add route 10.77.1.5/32") && s.contains("os error 17"),
            "{s}"
        );
        nl.route_replace(&Route::host_via_device(h6, l.index))
            .unwrap();
        nl.neigh_replace(l.index, nb, MAC9).unwrap();
        nl.proxy_add(l.index, px).unwrap();
        let rule = Rule::from_host(h5, Some("v0"), 100, 1000);
        nl.rule_add(&rule).unwrap();
        nl.rule_add(&rule).unwrap(); // no duplicate
        let g = nl.route_get(h6).unwrap();
        assert_eq!(g.device, Some(l.index));
        assert_eq!(g.mtu, None);
        assert_eq!(nl.neighbour(l.index, nb).unwrap().unwrap().mac, Some(MAC9));
        assert!(nl
            .neighbours(Some(l.index), true)
            .unwrap()
            .iter()
            .any(|x| x.address == px && x.proxy));
        sysctl::set_ip_forward(true).unwrap();
        sysctl::set_arp_accept("v0", true).unwrap();
        sysctl::set_proxy_arp("v0", false).unwrap();
        assert_eq!(sysctl::read("net.ipv4.ip_forward").unwrap(), "1");
        let e = nl.link("nosuchlink0").unwrap_err();
        assert!(e.to_string().contains("get link nosuchlink0"), "{e}");
        l.index
    });
    assert!(n.ip("route show table 100").contains("10.77.1.5 dev v0"));
    assert!(n.ip("route show").contains("10.77.1.6 dev v0"));
    let neigh = n.ip("neigh show dev v0");
    assert!(
        neigh.contains("10.77.0.9 lladdr 02:00:00:00:00:09 PERMANENT"),
        "{neigh}"
    );
    assert!(n.ip("neigh show proxy").contains("10.77.0.10 dev v0"));
    let rules = n.ip("rule show");
    assert!(
        rules.contains("1000:\tfrom 10.77.1.5 iif v0 lookup 100"),
        "{rules}"
    );
    assert_eq!(rules.matches("10.77.1.5").count(), 1, "{rules}");
    let addr = n.ip("addr show dev v0");
    assert!(
        addr.contains("10.77.0.1/24") && addr.contains("mtu 1400") && addr.contains(",UP"),
        "{addr}"
    );
    assert_eq!(n.exec("sysctl -n net.ipv4.ip_forward").trim(), "1");
    assert_eq!(n.exec("sysctl -n net.ipv4.conf.v0.arp_accept").trim(), "1");

    n.run(move || {
        let mut nl = Netlink::open().unwrap();
        nl.route_delete(&Route::host_via_device(h5, v0).in_table(100))
            .unwrap();
        nl.route_delete(&Route::host_via_device(h6, v0).in_table(MAIN_TABLE))
            .unwrap();
        let e = nl
            .route_delete(&Route::host_via_device(h6, v0))
            .unwrap_err();
        assert!(
            e.to_string().contains("delete route 10.77.1.6/32") && e.raw_os_error().is_none(),
            "{e}"
        );
        assert!(e.to_string().contains("os error 3"), "ESRCH: {e}");
        nl.neigh_delete(v0, nb).unwrap();
        nl.proxy_delete(v0, px).unwrap();
        assert_eq!(
            nl.proxy_delete(v0, px).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        nl.rule_delete(&Rule::from_host(h5, Some("v0"), 100, 1000))
            .unwrap();
        nl.addr_delete(v0, Ipv4Addr::new(10, 77, 0, 1), 24).unwrap();
        nl.link_set_up(v0, false).unwrap();
    });
    assert!(!n.ip("route show table all").contains("10.77.1."));
    assert!(!n.ip("neigh show dev v0").contains("10.77.0.9"));
    assert!(!n.ip("neigh show proxy").contains("10.77.0.10"));
    assert!(!n.ip("rule show").contains("10.77.1.5"));
    let addr = n.ip("addr show dev v0");
    assert!(
        !addr.contains("10.77.0.1/24") && !addr.contains(",UP"),
        "{addr}"
    );
}

#[test]
fn gratuitous_arp_reaches_the_other_side() {
    if !require_root() {
        return;
    }
    let x = Netns::new("gx");
    let y = Netns::new("gy");
    veth(&x, "x0", &y, "y0");
    x.ip("addr add 10.88.0.1/24 dev x0");
    y.ip("addr add 10.88.0.2/24 dev y0");
    y.sysctl("net.ipv4.conf.y0.arp_accept", "1");
    let mac = mac_of(&x, "x0");
    let addr = Ipv4Addr::new(10, 88, 0, 50);
    let (tx, rx) = std::sync::mpsc::channel();
    let capture = y.spawn(move || {
        let s = ArpSocket::open(Netlink::open().unwrap().ifindex("y0").unwrap()).unwrap();
        tx.send(()).unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            match s.recv(Duration::from_secs(3)).unwrap() {
                Some(p) if p.is_gratuitous() => got.push(p),
                Some(_) => {}
                None => break,
            }
        }
        got
    });
    rx.recv().unwrap();
    x.run(move || {
        let idx = Netlink::open().unwrap().ifindex("x0").unwrap();
        send_gratuitous_arp(
            idx,
            addr,
            mac,
            &[GratuitousArpKind::Request, GratuitousArpKind::Reply],
        )
        .unwrap();
    });
    let got = capture.join().unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    for p in &got {
        assert_eq!((p.sender_ip, p.target_ip, p.sender_mac), (addr, addr, mac));
        assert_eq!((p.eth_destination, p.eth_source), (BROADCAST_MAC, mac));
    }
    assert_eq!((got[0].operation, got[0].target_mac), (1, [0; 6]));
    assert_eq!((got[1].operation, got[1].target_mac), (2, mac));
    // arp_accept=1: the announcement created an entry at Y.
    let want = format!("lladdr {}", mip_io::net::netlink::format_mac(&mac));
    let mut neigh = String::new();
    for _ in 0..20 {
        neigh = y.ip("neigh show 10.88.0.50");
        if neigh.contains(&want) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(neigh.contains(&want), "{neigh}");
}

#[test]
fn batched_routes_each_get_their_own_result() {
    if !require_root() {
        return;
    }
    let n = Netns::new("nlbatch");
    n.ip("link add v0 type veth peer name v1");
    n.ip("link set v0 up");
    n.ip("link set v1 up");
    const N: usize = 5000;
    const BAD: usize = 2345;
    let results = n.run(|| {
        let mut nl = Netlink::open().unwrap();
        let v0 = nl.ifindex("v0").unwrap();
        let routes: Vec<Route> = (0..N)
            .map(|i| {
                let a = Ipv4Addr::new(10, 99, (i / 250) as u8, (i % 250 + 1) as u8);
                // One request the kernel must refuse: a device that does not exist.
                Route::host_via_device(a, if i == BAD { 999_999 } else { v0 })
            })
            .collect();
        let first = nl.routes_add(&routes);
        // Again: every route but the bad one exists now (AlreadyExists), replace succeeds.
        let again = nl.routes_add(&routes[..10]);
        let replaced = nl.routes_replace(&routes[BAD - 1..=BAD + 1]);
        (first, again, replaced)
    });
    let (first, again, replaced) = results;
    assert_eq!(first.len(), N);
    for (i, r) in first.iter().enumerate() {
        if i == BAD {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("add route 10.99.9.96/32 dev 999999") && s.contains("os error 19"),
                "{s}"
            );
        } else {
            assert!(r.is_ok(), "route {i}: {r:?}");
        }
    }
    assert!(again
        .iter()
        .all(|r| r.as_ref().unwrap_err().kind() == std::io::ErrorKind::AlreadyExists));
    assert!(replaced[0].is_ok() && replaced[1].is_err() && replaced[2].is_ok());
    let table = n.ip("route show dev v0");
    let count = table.lines().filter(|l| l.starts_with("10.99.")).count();
    assert_eq!(count, N - 1, "routes in the kernel");
    assert!(table.contains("10.99.0.1 "), "{table}");
    assert!(table.contains("10.99.19.250 "), "{table}");
    assert!(!table.contains("10.99.9.96 "), "{table}");
}
