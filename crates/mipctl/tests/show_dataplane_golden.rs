//! Golden text of `show ip mobile dataplane` (product-defined, every role): the home agent's
//! engine in raw and in packet transmit mode (the packet-transmit group only in the latter,
//! per-queue counts only with several queues), the `log` data plane, and a mobile node
//! without an engine. Also the JSON form's field names, which the lab tests read.

use mip_control::views::*;
use mipctl::show;

fn engine(tx_mode: TunnelTxView, queue_packets: Vec<u64>) -> EngineView {
    EngineView {
        tun: "mipt0".into(),
        queues: queue_packets.len().max(1) as u32,
        offload: Some(true),
        tx_mode,
        tunnels: 2,
        encapsulated: 5120,
        decapsulated: 2040,
        counters: EngineCountersView {
            tun_packets: 5123,
            raw_packets: 2048,
            rx_coalesced: 17,
            unknown_source: 4,
            no_route: 3,
            not_ipv4: 2,
            malformed: 1,
            icmp_sent: 6,
            icmp_suppressed: 7,
            tun_read_errors: 8,
            raw_recv_errors: 9,
            wakeups: 812,
            broadcast_rx: 11,
            broadcast_forwarded: 10,
            broadcast_loop: 12,
            broadcast_rate_limited: 13,
            broadcast_ttl: 14,
            tx_packet_socket: 5000,
            tx_raw_fallback: 21,
            tx_raw_refresh: 99,
            nexthop_resolved: 22,
            nexthop_unresolved: 23,
            packet_send_errors: 24,
            nexthop_deferred: 25,
        },
        queue_packets,
    }
}

fn tun_view(tx_mode: TunnelTxView, queue_packets: Vec<u64>) -> DataplaneView {
    DataplaneView {
        kind: DataplaneKindView::Tun,
        reason: Some("--dataplane".into()),
        requests: Some(12),
        engine: Some(engine(tx_mode, queue_packets)),
        note: None,
    }
}

#[test]
fn raw_transmit_single_queue() {
    assert_eq!(
        show::dataplane(&tun_view(TunnelTxView::Raw, vec![5123])),
        "\
Mobile Data Plane:
    Data plane tun (--dataplane)
    TUN mipt0, queues 1, offloads on
    Transmit raw, tunnels 2, wake-ups 812
Into tunnels:
    TUN packets 5123, encapsulated 5120
Out of tunnels:
    Raw packets 2048, decapsulated 2040, coalesced 17
Drops:
    No route 3, not IPv4 2, unknown source 4, malformed 1
    TUN read errors 8, raw receive errors 9
ICMP:
    Fragmentation needed sent 6, suppressed 7
Broadcasts:
    Received 11, forwarded 10
    Dropped: loop 12, rate limited 13, TTL 14
"
    );
}

#[test]
fn packet_transmit_with_two_queues() {
    let mut v = tun_view(TunnelTxView::Packet, vec![3000, 2123]);
    v.reason = Some("default: root with /dev/net/tun".into());
    v.engine.as_mut().unwrap().offload = None;
    let text = show::dataplane(&v);
    assert_eq!(
        text,
        "\
Mobile Data Plane:
    Data plane tun (default: root with /dev/net/tun)
    TUN mipt0, queues 2, offloads unknown
    Transmit packet, tunnels 2, wake-ups 812
Into tunnels:
    TUN packets 5123, encapsulated 5120
Out of tunnels:
    Raw packets 2048, decapsulated 2040, coalesced 17
Drops:
    No route 3, not IPv4 2, unknown source 4, malformed 1
    TUN read errors 8, raw receive errors 9
ICMP:
    Fragmentation needed sent 6, suppressed 7
Broadcasts:
    Received 11, forwarded 10
    Dropped: loop 12, rate limited 13, TTL 14
Packet transmit:
    Packet socket 5000, raw fallback 21, raw refresh 99, send errors 24
    Next hop resolved 22, unresolved 23, deferred 25
Queues:
    TUN packets by queue 0: 3000, 1: 2123
"
    );
    // Compact, and no trailing blanks.
    assert!(text.lines().count() <= 25);
    assert!(text.lines().all(|l| l == l.trim_end()));
}

#[test]
fn log_data_plane_installs_nothing() {
    let v = DataplaneView {
        kind: DataplaneKindView::Log,
        reason: Some("default: not running as root".into()),
        requests: Some(42),
        engine: None,
        note: None,
    };
    assert_eq!(
        show::dataplane(&v),
        "\
Mobile Data Plane:
    Data plane log (default: not running as root)
    Nothing is installed: requests are only recorded, 42 recorded
"
    );
    // A sparse answer (an older or newer daemon): the kind alone.
    let v: DataplaneView = serde_json::from_str(r#"{"kind":"log"}"#).unwrap();
    assert_eq!(
        show::dataplane(&v),
        "\
Mobile Data Plane:
    Data plane log
    Nothing is installed: requests are only recorded
"
    );
}

#[test]
fn mobile_node_without_an_engine() {
    let v = DataplaneView {
        kind: DataplaneKindView::Tun,
        reason: Some("--dataplane".into()),
        requests: Some(3),
        engine: None,
        note: Some(
            "No co-located care-of address configured: the foreign agent decapsulates".into(),
        ),
    };
    assert_eq!(
        show::dataplane(&v),
        "\
Mobile Data Plane:
    Data plane tun (--dataplane)
    No tunnel engine
    No co-located care-of address configured: the foreign agent decapsulates
"
    );
}

#[test]
fn json_field_names() {
    let j = serde_json::to_value(tun_view(TunnelTxView::Packet, vec![5123])).unwrap();
    assert_eq!(j["kind"], "tun");
    assert_eq!(j["reason"], "--dataplane");
    assert_eq!(j["engine"]["tun"], "mipt0");
    assert_eq!(j["engine"]["tx_mode"], "packet");
    assert_eq!(j["engine"]["offload"], true);
    assert_eq!(j["engine"]["counters"]["tx_packet_socket"], 5000);
    assert_eq!(j["engine"]["counters"]["tun_packets"], 5123);
    assert_eq!(j["engine"]["queue_packets"], serde_json::json!([5123]));
    // Every counter, in raw mode too.
    let j = serde_json::to_value(tun_view(TunnelTxView::Raw, vec![5123])).unwrap();
    assert_eq!(
        j["engine"]["counters"].as_object().unwrap().len(),
        24,
        "{j:#}"
    );
    assert_eq!(j["engine"]["counters"]["nexthop_deferred"], 25);
}
