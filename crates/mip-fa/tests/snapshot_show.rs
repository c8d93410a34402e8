//! What `show ip mobile visitor [pending]`, `show ip mobile traffic`, `show ip mobile
//! interface` and `show ip mobile violation` get from the core (seed 000's visitor sample and
//! field table), as JSON; `clear ip mobile visitor` and `clear ip mobile traffic [undo]`.

mod common;

use std::time::Duration;

use common::*;
use mip_fa::{DataPlaneRequest, FaOptions, VisitorSelector};
use serde_json::json;

const SECURE_VISITOR: &str =
    "ip mobile secure visitor 20.0.0.1 spi 101 key hex 0102030405060708090a0b0c0d0e0f10\n";

/// Seed 000's sample: 20.0.0.1 on Ethernet1/2 with MAC 0060.837b.95ec, HA 66.0.0.5,
/// identification B7510E60.64436B38, lifetime 30000, reverse-allowed, (T)Reverse-tunnel.
fn seed_000_visitor() -> Lab {
    let text = BASE
        .replace("registration-lifetime 3600", "registration-lifetime 36000")
        .replace(
            " ip mobile foreign-service\n",
            " ip mobile foreign-service reverse-tunnel\n",
        );
    let mut lab = Lab::new(&mip_config::parse_ios(&text, "t.ios").unwrap());
    let mut req = Req::new(0xB751_0E60_6443_6B38);
    req.lifetime = 30000;
    req.flags.t = true;
    let t = relay(&mut lab, &req);
    lab.ha_sends(&ha_reply(&t.payload, 0, 30000, None));
    lab.transmits();
    lab.dataplane();
    lab
}

#[test]
fn visitor_snapshot_has_the_fields_of_seed_000() {
    let mut lab = seed_000_visitor();
    lab.advance(Duration::from_secs(44));
    let v = lab.fa.visitors(lab.now);
    assert_eq!(v.len(), 1);
    let j = serde_json::to_value(&v[0]).unwrap();
    assert_eq!(
        j,
        json!({
            "home_address": "20.0.0.1",
            "nai": null,
            "session_id": null,
            "interface": "eth1",
            "mac": [0, 96, 131, 123, 149, 236],
            "mac_text": "0060.837b.95ec",
            "source": "20.0.0.1:434",
            "destination": "67.0.0.31",
            "home_agent": "66.0.0.5",
            "care_of_address": "68.0.0.31",
            "identification": 0xB751_0E60_6443_6B38_u64,
            "identification_text": "B7510E60.64436B38",
            "lifetime_granted": 30000,
            "remaining_secs": 29956,
            "tunnel_source": "68.0.0.31",
            "tunnel_destination": "66.0.0.5",
            "reverse_tunnel": true,
            "encapsulation": 4,
            "flags": 2,
            "routing_options": "T"
        })
    );
}

#[test]
fn pending_snapshot() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &Req::new(0x0102_0304_0506_0708));
    lab.advance(Duration::from_secs(4));
    let j = serde_json::to_value(lab.fa.pending(lab.now)).unwrap();
    assert_eq!(
        j,
        json!([{
            "home_address": "20.0.0.1",
            "nai": null,
            "session_id": null,
            "interface": "eth1",
            "mac_text": "0060.837b.95ec",
            "source": "20.0.0.1:434",
            "destination": "67.0.0.31",
            "home_agent": "66.0.0.5",
            "care_of_address": "68.0.0.31",
            "identification": 0x0102_0304_0506_0708_u64,
            "identification_text": "01020304.05060708",
            "lifetime_requested": 600,
            "remaining_secs": 11,
            "flags": 0
        }])
    );
}

#[test]
fn data_plane_requests_serialise() {
    let r = DataPlaneRequest::AddVisitor(mip_fa::VisitorRoute {
        home_address: MN,
        interface: "eth1".into(),
        link_layer: Some(MN_MAC),
        care_of_address: COA,
        home_agent: HA,
        reverse_tunnel: true,
        encapsulation: mip_wire::codes::Encapsulation::Gre,
        decapsulate: true,
    });
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["AddVisitor"]["encapsulation"], 47);
    assert_eq!(
        j["AddVisitor"]["link_layer"],
        json!([0, 96, 131, 123, 149, 236])
    );
}

#[test]
fn traffic_counters_as_json_and_clear_undo() {
    let mut lab = seed_000_visitor();
    let j = serde_json::to_value(lab.fa.counters()).unwrap();
    for (k, v) in [
        ("requests_in", 1),
        ("requests_forwarded", 1),
        ("replies_in", 1),
        ("replies_forwarded", 1),
        ("visitors_added", 1),
        ("requests_denied", 0),
    ] {
        assert_eq!(j[k], v, "{k}");
    }
    assert!(j.as_object().unwrap().len() >= 40);
    lab.fa.clear_counters();
    assert_eq!(lab.fa.counters().requests_in, 0);
    relay(&mut lab, &Req::new(9));
    assert!(lab.fa.undo_clear_counters());
    assert_eq!(lab.fa.counters().requests_in, 2);
    assert!(!lab.fa.undo_clear_counters());
}

#[test]
fn interfaces_view() {
    let lab = seed_000_visitor();
    let ifs = lab.fa.interfaces();
    let eth1 = ifs.iter().find(|i| i.name == "eth1").unwrap();
    assert!(eth1.foreign_service && eth1.advertising && !eth1.care_of);
    assert_eq!(eth1.visitors, 1);
    assert_eq!(eth1.registration_lifetime, 36000);
    assert_eq!(eth1.advertisement_flags & 0x1100, 0x1100, "F and T");
    let eth0 = ifs.iter().find(|i| i.name == "eth0").unwrap();
    assert!(eth0.care_of && !eth0.foreign_service && !eth0.advertising);
    assert!(lab.fa.next_advertisement("eth1").is_some());
    assert!(lab.fa.next_advertisement("eth0").is_none());
}

#[test]
fn clear_visitor_by_address_and_all() {
    let mut lab = seed_000_visitor();
    assert_eq!(
        lab.fa
            .clear_visitors(&VisitorSelector::Address(std::net::Ipv4Addr::new(
                1, 2, 3, 4
            ))),
        0
    );
    assert_eq!(lab.fa.clear_visitors(&VisitorSelector::Address(MN)), 1);
    assert!(matches!(
        &lab.dataplane()[..],
        [DataPlaneRequest::RemoveVisitor(r)] if r.home_address == MN && r.reverse_tunnel
    ));
    // Its timer went with it.
    lab.advance(Duration::from_secs(40_000));
    assert!(lab.dataplane().is_empty());
    assert_eq!(lab.fa.clear_visitors(&VisitorSelector::All), 0);
}

#[test]
fn the_violation_log_keeps_the_newest_entries() {
    let opts = FaOptions {
        violation_log_capacity: 2,
        ..FaOptions::default()
    };
    let mut lab = Lab::with_options(&config(SECURE_VISITOR), opts);
    for ident in 1..=3 {
        lab.expect_denial(&Req::new(ident).bytes(), 67);
    }
    let v: Vec<_> = lab.fa.violations().collect();
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].identification, v[1].identification), (2, 3));
    assert_eq!(lab.fa.violations_total(), 3);
    let j = serde_json::to_value(v[0]).unwrap();
    assert_eq!(j["reason"], "MissingSecurityExtension");
    assert_eq!(j["code"], 67);
    assert_eq!(j["home_agent"], false);
}
