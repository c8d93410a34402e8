//! RFC 5944 §3.7.2 (receiving Registration Requests: validity checks, invalid requests, relay
//! of valid ones) and seed 002 `ip mobile foreign-agent`: every code the foreign agent gives a
//! request, the relay with FA-HA, the pending table.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use common::*;
use mip_fa::{FaOptions, ViolationReason};
use mip_wire::extension::{AuthKind, Extension};
use mip_wire::registration::{RegistrationReply, RegistrationRequest, REQUEST_HEADER_LEN};

const SECURE_VISITOR: &str =
    "ip mobile secure visitor 20.0.0.1 spi 101 key hex 0102030405060708090a0b0c0d0e0f10\n";
const SECURE_HA: &str =
    "ip mobile secure home-agent 66.0.0.5 spi 102 key hex a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n";

#[test]
fn a_valid_request_is_relayed_from_the_care_of_address_to_the_home_agent() {
    let mut lab = Lab::new(&config(""));
    let req = Req::new(0x0102_0304_0506_0708);
    let t = relay(&mut lab, &req);
    assert_eq!(t.source, SocketAddrV4::new(COA, 434));
    assert_eq!(t.destination, SocketAddrV4::new(HA, 434));
    assert_eq!(t.link_layer_destination, None);
    // Unchanged through the MN-HA extension; no FA-HA without an SA.
    assert_eq!(t.payload, req.bytes());
    assert!(verifies(
        &t.payload,
        REQUEST_HEADER_LEN,
        AuthKind::MnHa,
        0x100,
        MN_HA_KEY
    ));
    let c = lab.fa.counters();
    assert_eq!((c.requests_in, c.requests_forwarded), (1, 1));
    assert_eq!(lab.fa.pending_count(), 1);
    let p = &lab.fa.pending(lab.now)[0];
    assert_eq!(p.home_address, MN);
    assert_eq!(p.remaining_secs, 15);
    assert_eq!(p.mac_text.as_deref(), Some("0060.837b.95ec"));
    assert_eq!(p.identification_text, "01020304.05060708");
}

#[test]
fn fa_ha_is_appended_and_verifiable_and_what_follows_mn_ha_is_removed() {
    let mut lab = Lab::new(&config(&format!("{SECURE_VISITOR}{SECURE_HA}")));
    let mut req = Req::new(7);
    req.mn_fa = Some((0x101, key(MN_FA_KEY)));
    req.after = vec![Extension::UnknownSkippable {
        ty: 200,
        data: vec![1, 2, 3],
    }];
    let t = relay(&mut lab, &req);
    let mut plain = req.clone();
    plain.mn_fa = None;
    plain.after.clear();
    let upto_mn_ha = plain.bytes();
    assert_eq!(&t.payload[..upto_mn_ha.len()], &upto_mn_ha[..]);
    // Then exactly one FA-HA extension (type 34, SPI 0x102), valid under the shared key.
    assert_eq!(t.payload.len(), upto_mn_ha.len() + 2 + 4 + 16);
    assert_eq!(t.payload[upto_mn_ha.len()], 34);
    assert!(verifies(
        &t.payload,
        REQUEST_HEADER_LEN,
        AuthKind::FaHa,
        0x102,
        FA_HA_KEY
    ));
    let parsed = RegistrationRequest::from_bytes(&t.payload).unwrap();
    assert!(!parsed
        .extensions
        .iter()
        .any(|e| matches!(e, Extension::MnFaAuth { .. })));
}

#[test]
fn relay_with_co_located_care_of_address_goes_out_from_our_care_of_address() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.flags.d = true;
    req.coa = Ipv4Addr::new(67, 0, 0, 77);
    let t = relay(&mut lab, &req);
    assert_eq!(t.source, SocketAddrV4::new(COA, 434));
}

// ---- ignored requests ------------------------------------------------------------------

#[test]
fn ignored_when_service_is_off_or_not_a_foreign_service_interface() {
    // No care-of address up.
    let mut lab = Lab::new(&config(""));
    lab.fa.set_interface_up("eth0", false);
    lab.mn_sends(&Req::new(1).bytes());
    assert!(lab.transmits().is_empty());
    lab.fa.set_interface_up("eth0", true);
    // On eth0 (no foreign-service), on an unknown interface, without interface.
    for iface in [Some("eth0"), Some("eth9"), None] {
        lab.fa.handle_udp(
            lab.now,
            iface,
            SocketAddrV4::new(MN, 434),
            COA,
            Some(MN_MAC),
            &Req::new(2).bytes(),
        );
    }
    assert!(lab.transmits().is_empty());
    let c = lab.fa.counters();
    assert_eq!(c.requests_in, 4);
    assert_eq!(c.requests_ignored, 4);
    assert_eq!(c.ignored_service_disabled, 1);
    assert_eq!(c.ignored_interface, 3);
    // Without `router mobile` nothing is served at all.
    let mut off =
        Lab::new(&mip_config::parse_ios(&BASE.replace("router mobile\n", ""), "t").unwrap());
    off.mn_sends(&Req::new(1).bytes());
    assert!(off.transmits().is_empty());
}

#[test]
fn ignored_when_cut_short_or_with_an_unknown_non_skippable_extension_for_the_fa() {
    let mut lab = Lab::new(&config(""));
    let bytes = Req::new(1).bytes();
    lab.mn_sends(&bytes[..20]);
    let mut req = Req::new(2);
    req.after = vec![Extension::UnknownNonSkippable {
        ty: 120,
        data: vec![0; 4],
    }];
    lab.mn_sends(&req.bytes());
    assert!(lab.transmits().is_empty());
    let c = lab.fa.counters();
    assert_eq!((c.ignored_malformed, c.ignored_unknown_extension), (1, 1));
    // An unknown non-skippable extension before MN-HA is for the home agent: relayed.
    let mut req = Req::new(3);
    req.before = vec![Extension::UnknownNonSkippable {
        ty: 120,
        data: vec![0; 4],
    }];
    relay(&mut lab, &req);
}

// ---- every code -------------------------------------------------------------------------

#[test]
fn code_70_poorly_formed() {
    let mut lab = Lab::new(&config(""));
    // Extensions that do not frame.
    let mut bytes = Req::new(1).bytes();
    bytes.extend_from_slice(&[131, 40, 1]);
    let r = lab.expect_denial(&bytes, 70);
    assert_eq!((r.home_address, r.home_agent), (MN, HA));
    assert_eq!(r.identification, 1);
    // Reserved r and x bits.
    for bit in [0x04u8, 0x01] {
        let mut req = Req::new(2);
        req.flags = mip_wire::registration::RequestFlags::from_byte(bit);
        lab.expect_denial(&req.bytes(), 70);
    }
    // M and G together.
    let mut req = Req::new(3);
    req.flags.m = true;
    req.flags.g = true;
    lab.expect_denial(&req.bytes(), 70);
    // No MN-HA extension.
    let mut req = Req::new(4);
    req.mn_ha = None;
    lab.expect_denial(&req.bytes(), 70);
    assert_eq!(lab.fa.counters().bad_request_form, 5);
    assert_eq!(lab.fa.counters().requests_denied, 5);
}

#[test]
fn the_denial_goes_to_the_mobile_node_without_arp() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(9);
    req.lifetime = 7200;
    lab.mn_sends(&req.bytes());
    let t = lab.transmits().remove(0);
    assert_eq!(t.interface.as_deref(), Some("eth1"));
    assert_eq!(t.link_layer_destination, Some(MN_MAC));
    assert_eq!(t.destination, SocketAddrV4::new(MN, MN_PORT));
    // Source: the request's destination (ours, unicast).
    assert_eq!(t.source, SocketAddrV4::new(FA_LINK, 434));
    let r = RegistrationReply::from_bytes(&t.payload).unwrap();
    assert_eq!(u8::from(r.code), 69);
    assert_eq!(
        r.lifetime, 3600,
        "69 tells the longest lifetime the link allows"
    );
    // A request sent to the all-mobility-agents group is answered from the interface address.
    lab.fa.handle_udp(
        lab.now,
        Some("eth1"),
        SocketAddrV4::new(MN, 5000),
        Ipv4Addr::new(224, 0, 0, 11),
        Some(MN_MAC),
        &req.bytes(),
    );
    let t = lab.transmits().remove(0);
    assert_eq!(t.source, SocketAddrV4::new(FA_LINK, 434));
    assert_eq!(t.destination, SocketAddrV4::new(MN, 5000));
}

#[test]
fn code_67_visitor_authentication_and_violations() {
    let mut lab = Lab::new(&config(SECURE_VISITOR));
    // Missing MN-FA.
    lab.expect_denial(&Req::new(1).bytes(), 67);
    // Wrong key.
    let mut req = Req::new(2);
    req.mn_fa = Some((0x101, key(FA_HA_KEY)));
    lab.expect_denial(&req.bytes(), 67);
    // Unknown SPI.
    req.mn_fa = Some((0x999, key(MN_FA_KEY)));
    lab.expect_denial(&req.bytes(), 67);
    // Right: relayed.
    req.mn_fa = Some((0x101, key(MN_FA_KEY)));
    relay(&mut lab, &req);
    let v: Vec<_> = lab.fa.violations().cloned().collect();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].reason, ViolationReason::MissingSecurityExtension);
    assert_eq!(v[1].reason, ViolationReason::BadAuthenticator);
    assert_eq!((v[2].reason, v[2].spi), (ViolationReason::BadSpi, 0x999));
    assert!(v
        .iter()
        .all(|v| v.address == MN && !v.home_agent && v.code == 67));
    assert_eq!(lab.fa.counters().auth_failed_mn, 3);
    assert_eq!(lab.fa.violations_total(), 3);
}

#[test]
fn denials_to_a_visitor_with_an_sa_carry_mn_fa() {
    let mut lab = Lab::new(&config(SECURE_VISITOR));
    let mut req = Req::new(2);
    req.mn_fa = Some((0x101, key(MN_FA_KEY)));
    req.lifetime = 9999;
    let t = lab.one_transmit(&req.bytes());
    assert!(verifies(&t.payload, 20, AuthKind::MnFa, 0x101, MN_FA_KEY));
}

#[test]
fn code_69_lifetime_too_long() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.lifetime = 3601;
    lab.expect_denial(&req.bytes(), 69);
    req.lifetime = 3600;
    relay(&mut lab, &req);
    req.lifetime = 0xffff;
    req.ident = 2;
    lab.expect_denial(&req.bytes(), 69);
    assert_eq!(lab.fa.counters().bad_lifetime, 2);
}

#[test]
fn code_77_invalid_care_of_address() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.coa = FA_LINK; // an address of ours, but not an advertised care-of address
    lab.expect_denial(&req.bytes(), 77);
    assert_eq!(lab.fa.counters().invalid_care_of_address, 1);
}

#[test]
fn code_65_home_access_denies_the_home_agent() {
    let cfg = config_with_interface_lines(
        "access-list 5 deny host 66.0.0.5\naccess-list 5 permit any\n",
        " home-access 5",
    );
    let mut lab = Lab::new(&cfg);
    lab.expect_denial(&Req::new(1).bytes(), 65);
    let mut req = Req::new(2);
    req.ha = Ipv4Addr::new(66, 0, 0, 6);
    relay(&mut lab, &req);
    assert_eq!(lab.fa.counters().administratively_prohibited, 1);
}

#[test]
fn code_72_encapsulation_unavailable() {
    let mut opts = FaOptions::default();
    opts.encapsulations.gre = false;
    let mut lab = Lab::with_options(&config(""), opts);
    let mut req = Req::new(1);
    req.flags.g = true;
    lab.expect_denial(&req.bytes(), 72);
    req.flags.g = false;
    req.flags.m = true;
    relay(&mut lab, &req);
    assert_eq!(lab.fa.counters().unsupported_encapsulation, 1);
}

#[test]
fn code_66_visitor_limit_and_five_pending_per_mobile_node() {
    let mut lab = Lab::new(&config(""));
    for ident in 1..=5u64 {
        relay(&mut lab, &Req::new(ident));
    }
    // The sixth outstanding request of this mobile node.
    lab.expect_denial(&Req::new(6).bytes(), 66);
    // A retransmission of a pending one is not a new entry.
    relay(&mut lab, &Req::new(3));
    assert_eq!(lab.fa.pending_count(), 5);
    // Another mobile node is not affected.
    let mut other = Req::new(1);
    other.home = Ipv4Addr::new(20, 0, 0, 2);
    relay(&mut lab, &other);
    assert_eq!(lab.fa.counters().no_resource, 1);

    // The link's visitor limit (seed 002 `limit N`).
    let mut lab = Lab::new(&config_with_interface_lines("", " limit 1"));
    let t = relay(&mut lab, &Req::new(1));
    lab.ha_sends(&ha_reply(&t.payload, 0, 600, None));
    lab.transmits();
    let mut other = Req::new(1);
    other.home = Ipv4Addr::new(20, 0, 0, 2);
    lab.expect_denial(&other.bytes(), 66);
    // The visitor itself may renew, and a deregistration always passes.
    relay(&mut lab, &Req::new(2));
    other.lifetime = 0;
    relay(&mut lab, &other);

    // The pending table's size.
    let opts = FaOptions {
        max_pending: 1,
        ..FaOptions::default()
    };
    let mut lab = Lab::with_options(&config(""), opts);
    relay(&mut lab, &Req::new(1));
    let mut other = Req::new(1);
    other.home = Ipv4Addr::new(20, 0, 0, 2);
    lab.expect_denial(&other.bytes(), 66);
}

#[test]
fn codes_90_97_98_identity() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.home = Ipv4Addr::UNSPECIFIED;
    let r = lab.expect_denial(&req.bytes(), 97);
    // Home address 0: the reply goes to the limited broadcast, unicast on the link layer.
    assert_eq!(r.home_address, Ipv4Addr::UNSPECIFIED);
    let mut req = Req::new(2);
    req.ha = Ipv4Addr::UNSPECIFIED;
    lab.expect_denial(&req.bytes(), 90);
    req.ha = Ipv4Addr::BROADCAST;
    lab.expect_denial(&req.bytes(), 90);
    req.before = vec![Extension::Nai(b"mn@example.com".to_vec())];
    let r = lab.expect_denial(&req.bytes(), 98);
    // RFC 2794: the NAI is echoed.
    assert!(r
        .extensions
        .iter()
        .any(|e| e.nai().as_deref() == Some("mn@example.com")));
    let c = lab.fa.counters();
    assert_eq!((c.missing_nai, c.missing_home_agent), (1, 3));
}

#[test]
fn code_100_cvse_for_the_foreign_agent() {
    let mut lab = Lab::new(&config(""));
    let cvse = Extension::Cvse {
        reserved: 0,
        vendor_id: 9,
        vendor_type: 77,
        data: vec![1],
    };
    let mut req = Req::new(1);
    req.after = vec![cvse.clone()];
    lab.expect_denial(&req.bytes(), 100);
    // Before MN-HA it is for the home agent: relayed.
    let mut req = Req::new(2);
    req.before = vec![cvse];
    relay(&mut lab, &req);
}

#[test]
fn code_64_when_the_relayed_request_would_not_fit() {
    let mut lab = Lab::new(&config(SECURE_HA));
    let mut req = Req::new(1);
    // Vendor extensions before MN-HA up to the largest UDP payload.
    let mut size = REQUEST_HEADER_LEN + 22;
    while size + 14 + 200 <= mip_fa::MAX_UDP_PAYLOAD {
        req.before.push(Extension::Nvse {
            reserved: 0,
            vendor_id: 5535,
            vendor_type: 1,
            data: vec![0; 200],
        });
        size += 210;
    }
    let pad = mip_fa::MAX_UDP_PAYLOAD - size;
    req.before.extend(std::iter::repeat_n(Extension::Pad, pad));
    assert_eq!(req.bytes().len(), mip_fa::MAX_UDP_PAYLOAD);
    lab.expect_denial(&req.bytes(), 64);
    assert_eq!(lab.fa.counters().unspecified, 1);
}

// ---- the pending table -------------------------------------------------------------------

#[test]
fn a_pending_request_times_out_after_exactly_15_seconds_with_code_78() {
    let mut lab = Lab::new(&config(""));
    let start = lab.now;
    relay(&mut lab, &Req::new(42));
    lab.advance(Duration::from_millis(14_999));
    assert_eq!(lab.fa.pending_count(), 1);
    assert!(lab.transmits().is_empty());
    lab.advance(Duration::from_millis(1));
    assert_eq!(
        lab.now.duration_since(start).unwrap(),
        Duration::from_secs(15)
    );
    assert_eq!(lab.fa.pending_count(), 0);
    let t = lab.transmits();
    assert_eq!(t.len(), 1);
    let r = RegistrationReply::from_bytes(&t[0].payload).unwrap();
    assert_eq!(u8::from(r.code), 78);
    assert_eq!(r.identification, 42);
    assert_eq!(t[0].link_layer_destination, Some(MN_MAC));
    assert_eq!(lab.fa.counters().registration_timeout, 1);
    // A late reply now matches nothing.
    lab.ha_sends(&ha_reply_for(MN, 42, 0, 600, None, &[]));
    assert!(lab.transmits().is_empty());
    assert_eq!(lab.fa.counters().replies_no_pending, 1);
}

#[test]
fn reg_wait_and_the_silent_timeout_option() {
    let cfg = config("ip mobile foreign-agent reg-wait 20\n");
    let opts = FaOptions {
        reply_on_pending_timeout: false,
        ..FaOptions::default()
    };
    let mut lab = Lab::with_options(&cfg, opts);
    relay(&mut lab, &Req::new(1));
    assert_eq!(lab.fa.pending(lab.now)[0].remaining_secs, 20);
    lab.advance(Duration::from_secs(19));
    assert_eq!(lab.fa.pending_count(), 1);
    lab.advance(Duration::from_secs(1));
    assert_eq!(lab.fa.pending_count(), 0);
    assert!(lab.transmits().is_empty());
    assert_eq!(lab.fa.counters().registration_timeout, 1);
}

#[test]
fn a_retransmission_restarts_the_pending_timer() {
    let mut lab = Lab::new(&config(""));
    relay(&mut lab, &Req::new(5));
    lab.advance(Duration::from_secs(10));
    relay(&mut lab, &Req::new(5));
    lab.advance(Duration::from_secs(10));
    assert_eq!(lab.fa.pending_count(), 1);
    lab.advance(Duration::from_secs(5));
    assert_eq!(lab.fa.pending_count(), 0);
}
