//! Seed 002 "ip mobile home-agent" processing order, steps 1-3, and RFC 5944 §1.9, §3.8.2,
//! §3.8.2.1 (a), (c): what is discarded without a reply, foreign agent authentication (132),
//! mobile node authentication (131), placement of the MN-HA extension, violations.

mod common;

use std::net::SocketAddrV4;

use common::*;
use mip_ha::{HomeAgent, ViolationReason};
use mip_wire::extension::Extension;

fn mn() -> std::net::Ipv4Addr {
    a("10.0.0.1")
}
fn vn_sa() -> mip_security::SecurityAssociation {
    sa(0x100, VN_KEY)
}
fn fa_sa() -> mip_security::SecurityAssociation {
    sa(0x300, FA_KEY)
}

#[test]
fn seed002_service_off_ignores_without_reply() {
    let mut p = policy();
    p.enabled = false;
    let mut ha = HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), a("70.0.0.2"), at(0), vn_sa()),
    );
    assert!(out.silent() && out.store.is_empty());
    let c = ha.counters();
    assert_eq!(
        (c.register_requests, c.ignored, c.ignored_service_disabled),
        (1, 1, 1)
    );
    assert_eq!(c.register_replied, 0);
}

#[test]
fn seed002_no_security_association_ignores_without_reply() {
    let mut ha = home_agent();
    // 10.9.9.9 has no SA (and no host group).
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("10.9.9.9"), a("70.0.0.2"), at(0), vn_sa()),
    );
    assert!(out.silent() && out.store.is_empty());
    assert_eq!(ha.counters().ignored_no_security_association, 1);
    assert_eq!(ha.counters().ignored, 1);
}

#[test]
fn rfc2794_home_address_zero_without_nai_is_ignored() {
    let mut ha = home_agent();
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("0.0.0.0"), a("70.0.0.2"), at(0), vn_sa()),
    );
    assert!(out.silent());
    assert_eq!(ha.counters().ignored, 1);
}

#[test]
fn rfc5944_1_9_unknown_non_skippable_extension_is_silently_discarded() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    req.before.push(Extension::UnknownNonSkippable {
        ty: 100,
        data: vec![1, 2],
    });
    let out = send(&mut ha, at(0), &req);
    assert!(out.silent() && out.store.is_empty());
    assert_eq!(ha.counters().ignored_unknown_extension, 1);
    // An unknown skippable one is skipped and the request accepted.
    let mut req = Request::new(mn(), a("70.0.0.2"), at(1), vn_sa());
    req.before.push(Extension::UnknownSkippable {
        ty: 200,
        data: vec![1, 2],
    });
    assert_eq!(send(&mut ha, at(1), &req).code(), 0);
}

#[test]
fn rfc5944_3_8_2_truncated_and_non_request_datagrams_are_ignored_and_counted() {
    let mut ha = home_agent();
    let good = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa()).bytes();
    let src = SocketAddrV4::new(a("70.0.0.2"), 434);
    for n in 0..24 {
        ha.handle_request(at(0), src, ha_addr(), &good[..n]);
    }
    let mut reply_type = good.clone();
    reply_type[0] = 3;
    ha.handle_request(at(0), src, ha_addr(), &reply_type);
    assert!(drain(&mut ha).silent());
    assert_eq!(ha.counters().ignored_malformed, 25);
    assert_eq!(ha.counters().ignored, 25);
}

#[test]
fn rfc5944_3_8_2_broken_extensions_after_a_good_fixed_part_get_134() {
    let mut ha = home_agent();
    let mut bytes = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa()).bytes();
    bytes.truncate(bytes.len() - 3); // the MN-HA extension's length now overruns
    ha.handle_request(
        at(0),
        SocketAddrV4::new(a("70.0.0.2"), 434),
        ha_addr(),
        &bytes,
    );
    let out = drain(&mut ha);
    assert_eq!(out.code(), 134);
    assert!(reply_verifies(&out.transmit[0], &vn_sa(), None));
    assert_eq!(ha.counters().bad_request_form, 1);
    assert!(
        out.store.is_empty(),
        "no state changes before authentication"
    );
}

#[test]
fn rfc5944_3_8_2_1_a_wrong_authenticator_is_131_and_a_violation() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    req.bad_authenticator = true;
    let out = send(&mut ha, at(0), &req);
    assert_eq!(out.code(), 131);
    assert_eq!(out.reply().identification, req.ident);
    assert!(out.dataplane.is_empty() && out.store.is_empty());
    assert!(reply_verifies(&out.transmit[0], &vn_sa(), None));
    let v: Vec<_> = ha.violations().collect();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].address, mn());
    assert_eq!(v[0].spi, 0x100);
    assert_eq!(v[0].reason, ViolationReason::BadAuthenticator);
    assert_eq!(v[0].time_ms, T0 * 1000);
    assert_eq!(v[0].code, 131);
    assert_eq!(ha.counters().auth_failed_mn, 1);
    assert_eq!(ha.host_counters(mn()).unwrap().violations, 1);
}

#[test]
fn rfc5944_3_8_2_1_a_missing_or_unknown_spi_is_131() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    req.mn_sa = None;
    let out = send(&mut ha, at(0), &req);
    assert_eq!(out.code(), 131);
    let req = Request::new(mn(), a("70.0.0.2"), at(1), sa(0x999, VN_KEY));
    let out = send(&mut ha, at(1), &req);
    assert_eq!(out.code(), 131);
    let reasons: Vec<_> = ha.violations().map(|v| v.reason).collect();
    assert_eq!(
        reasons,
        vec![
            ViolationReason::MissingSecurityExtension,
            ViolationReason::BadSpi
        ]
    );
    assert_eq!(ha.violations().nth(1).unwrap().spi, 0x999);
}

#[test]
fn rfc5944_3_8_2_1_a_exactly_one_mn_ha_extension() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    req.before.push(Extension::MnHaAuth {
        spi: 0x100,
        authenticator: vec![0; 16],
    });
    assert_eq!(send(&mut ha, at(0), &req).code(), 131);
}

#[test]
fn rfc5944_3_6_1_3_mn_ha_must_be_first_authentication_extension() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    req.before.push(Extension::MnFaAuth {
        spi: 5,
        authenticator: vec![0; 16],
    });
    let out = send(&mut ha, at(0), &req);
    assert_eq!(out.code(), 134);
    assert_eq!(ha.binding_count(), 0);
}

#[test]
fn rfc5944_3_6_1_3_extensions_after_mn_ha_are_ignored() {
    let mut ha = home_agent();
    let mut req = Request::new(mn(), a("70.0.0.2"), at(0), vn_sa());
    // An NAI after the MN-HA extension is not authenticated: ignored, the home address rules.
    req.after.push(Extension::Nai(b"intruder@evil".to_vec()));
    req.after.push(Extension::MnFaAuth {
        spi: 5,
        authenticator: vec![0; 16],
    });
    let out = send(&mut ha, at(0), &req);
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().home_address, mn());
    assert_eq!(ha.bindings(at(0))[0].nai, None);
}

#[test]
fn rfc5944_3_8_2_1_c_fa_ha_checked_when_fa_sa_exists() {
    let mut ha = home_agent();
    let fa = fa_addr();
    // Good FA-HA: accepted, and the reply carries MN-HA then FA-HA.
    let out = send_from(
        &mut ha,
        at(0),
        fa,
        &Request::new(mn(), fa, at(0), vn_sa()).via_fa(),
    );
    assert_eq!(out.code(), 0);
    assert!(reply_verifies(&out.transmit[0], &vn_sa(), Some(&fa_sa())));
    // Missing FA-HA: 132 (the FA SA exists for the source address).
    let out = send_from(&mut ha, at(1), fa, &Request::new(mn(), fa, at(1), vn_sa()));
    assert_eq!(out.code(), 132);
    assert!(reply_verifies(&out.transmit[0], &vn_sa(), Some(&fa_sa())));
    // Wrong FA key: 132, violation logged against the foreign agent.
    let mut req = Request::new(mn(), fa, at(2), vn_sa());
    req.fa_sa = Some(sa(0x300, MN_KEY));
    let out = send_from(&mut ha, at(2), fa, &req);
    assert_eq!(out.code(), 132);
    // Wrong FA SPI.
    let mut req = Request::new(mn(), fa, at(3), vn_sa());
    req.fa_sa = Some(sa(0x301, FA_KEY));
    assert_eq!(send_from(&mut ha, at(3), fa, &req).code(), 132);
    let v: Vec<_> = ha.violations().collect();
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|v| v.foreign_agent && v.address == fa));
    assert_eq!(
        v.iter().map(|v| v.reason).collect::<Vec<_>>(),
        vec![
            ViolationReason::MissingSecurityExtension,
            ViolationReason::BadAuthenticator,
            ViolationReason::BadSpi
        ]
    );
    assert_eq!(ha.counters().auth_failed_fa, 3);
    // The binding from the first request is untouched.
    assert_eq!(ha.bindings(at(3))[0].identification, ntp_at(0));
}

fn ntp_at(s: u64) -> u64 {
    mip_security::ntp::from_system_time(at(s))
}

#[test]
fn seed002_fa_sa_found_by_care_of_address_too() {
    let mut ha = home_agent();
    // Relayed from another address of the foreign agent, care-of address 68.0.0.31.
    let out = send_from(
        &mut ha,
        at(0),
        a("67.0.0.31"),
        &Request::new(mn(), fa_addr(), at(0), vn_sa()),
    );
    assert_eq!(out.code(), 132);
    let out = send_from(
        &mut ha,
        at(1),
        a("67.0.0.31"),
        &Request::new(mn(), fa_addr(), at(1), vn_sa()).via_fa(),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(out.transmit[0].destination.ip(), &a("67.0.0.31"));
}

#[test]
fn seed002_fa_authenticated_before_mn() {
    // Both wrong: the foreign agent's failure is the one reported.
    let mut ha = home_agent();
    let mut req = Request::new(mn(), fa_addr(), at(0), vn_sa());
    req.bad_authenticator = true;
    assert_eq!(send_from(&mut ha, at(0), fa_addr(), &req).code(), 132);
}

#[test]
fn rfc5944_3_8_2_1_c_fa_ha_before_mn_ha_fails() {
    let mut ha = home_agent();
    let fa = fa_addr();
    let mut req = Request::new(mn(), fa, at(0), vn_sa());
    req.before.push(Extension::FaHaAuth {
        spi: 0x300,
        authenticator: vec![0; 16],
    });
    assert_eq!(send_from(&mut ha, at(0), fa, &req).code(), 132);
}

#[test]
fn hmac_md5_security_associations_work_too() {
    let mut p = policy();
    p.mobile_node_sas.clear();
    let mut ha = HomeAgent::with_options(
        p.mobile_node_sa(mn(), mn(), hmac_sa(0x200, VN_KEY)),
        &[ha_addr()],
        options(),
    );
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), a("70.0.0.2"), at(0), hmac_sa(0x200, VN_KEY)),
    );
    assert_eq!(out.code(), 0);
    assert!(reply_verifies(
        &out.transmit[0],
        &hmac_sa(0x200, VN_KEY),
        None
    ));
}

#[test]
fn seed002_inbound_and_outbound_spi_sign_the_reply_with_the_outbound_one() {
    let mut p = policy();
    p.mobile_node_sas.clear();
    p.mobile_node_sas.push(mip_ha::MobileNodeSa {
        id: mip_ha::MobileNodeId::Addresses {
            lower: mn(),
            upper: mn(),
        },
        inbound: sa(0x101, VN_KEY),
        outbound: sa(0x102, MN_KEY),
    });
    let mut ha = HomeAgent::with_options(p, &[ha_addr()], options());
    let out = send(
        &mut ha,
        at(0),
        &Request::new(mn(), a("70.0.0.2"), at(0), sa(0x101, VN_KEY)),
    );
    assert_eq!(out.code(), 0);
    assert!(reply_verifies(&out.transmit[0], &sa(0x102, MN_KEY), None));
}
