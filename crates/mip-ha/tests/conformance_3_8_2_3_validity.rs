//! RFC 5944 §3.8.2.1, §3.8.2.3 (denying an invalid request), §3.8.3.2 (136), RFC 3024 §4.3
//! (137, 138, 139), RFC 3115 §2 (140, 141), and seed 002's access lists: every home agent
//! reply code, with the counter it moves.

mod common;

use common::*;
use mip_ha::HomeAgent;
use mip_wire::extension::Extension;
use mip_wire::registration::RequestFlags as F;

fn mn() -> std::net::Ipv4Addr {
    a("11.0.0.1")
}
fn coa() -> std::net::Ipv4Addr {
    a("70.0.0.2")
}
fn mn_sa() -> mip_security::SecurityAssociation {
    sa(0x100, MN_KEY)
}
fn req(t: u64) -> Request {
    Request::new(mn(), coa(), at(t), mn_sa())
}
fn ha_with(f: impl FnOnce(&mut mip_ha::HaPolicy)) -> HomeAgent {
    let mut p = policy();
    f(&mut p);
    HomeAgent::with_options(p, &[ha_addr()], options())
}

#[test]
fn rfc5944_3_8_3_2_code_136_unknown_home_agent_carries_our_address() {
    let mut ha = home_agent();
    let mut r = req(0);
    r.ha = a("11.255.255.255"); // dynamic home agent discovery: subnet-directed broadcast
    ha.handle_request(
        at(0),
        std::net::SocketAddrV4::new(coa(), 434),
        a("11.255.255.255"),
        &r.bytes(),
    );
    let out = drain(&mut ha);
    assert_eq!(out.code(), 136);
    assert_eq!(out.reply().home_agent, ha_addr());
    assert_eq!(
        out.transmit[0].source,
        ha_addr(),
        "replies come from a unicast address"
    );
    assert!(reply_verifies(&out.transmit[0], &mn_sa(), None));
    assert_eq!(ha.counters().unknown_ha, 1);
}

#[test]
fn code_128_home_address_not_served_by_any_host_group() {
    let mut ha = ha_with(|p| {
        p.mobile_node_sas.push(mip_ha::MobileNodeSa::new(
            mip_ha::MobileNodeId::Addresses {
                lower: a("12.0.0.1"),
                upper: a("12.0.0.1"),
            },
            mn_sa(),
        ));
    });
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("12.0.0.1"), coa(), at(0), mn_sa()),
    );
    assert_eq!(out.code(), 128);
    assert_eq!(ha.counters().unspecified, 1);
}

#[test]
fn seed002_code_129_roam_access_denies_the_mobile_node() {
    let mut ha = ha_with(|p| p.roam_access = Some(deny_acl("11.0.0.1")));
    let out = send(&mut ha, at(0), &req(0));
    assert_eq!(out.code(), 129);
    assert_eq!(ha.counters().administratively_prohibited, 1);
    assert_eq!(ha.host_counters(mn()).unwrap().last_code, 129);
    // Others may roam.
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("11.0.0.2"), coa(), at(0), mn_sa()),
    );
    assert_eq!(out.code(), 0);
}

#[test]
fn seed002_code_129_care_of_access_denies_the_care_of_address() {
    let mut ha = ha_with(|p| p.care_of_access = Some(deny_acl("70.0.0.2")));
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 129);
    // The group's own list applies as well as the home agent's.
    let mut ha = ha_with(|p| {
        p.care_of_access = Some(deny_acl("70.0.0.9"));
        p.host_groups[0].care_of_access = Some(deny_acl("70.0.0.2"));
    });
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 129);
    assert_eq!(
        send(
            &mut ha,
            at(1),
            &Request::new(a("11.0.0.2"), a("70.0.0.3"), at(1), mn_sa())
        )
        .code(),
        0
    );
}

#[test]
fn code_130_binding_limit() {
    let mut ha = ha_with(|p| p.max_bindings = Some(1));
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 0);
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("11.0.0.2"), coa(), at(0), mn_sa()),
    );
    assert_eq!(out.code(), 130);
    assert_eq!(ha.counters().no_resource, 1);
    // Renewal and replacement do not add bindings.
    assert_eq!(send(&mut ha, at(1), &req(1)).code(), 0);
    assert_eq!(
        send(
            &mut ha,
            at(2),
            &Request::new(mn(), a("70.0.0.3"), at(2), mn_sa())
        )
        .code(),
        0
    );
}

#[test]
fn rfc5944_3_8_2_3_code_134_reserved_flags() {
    let mut ha = home_agent();
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::R)).code(), 134);
    assert_eq!(send(&mut ha, at(1), &req(1).flags(F::X)).code(), 134);
    assert_eq!(ha.counters().bad_request_form, 2);
    let mut ha = ha_with(|p| p.reject_reserved_flags = false);
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::R)).code(), 0);
}

#[test]
fn code_134_minimal_and_gre_both_and_unusable_care_of_addresses() {
    let mut ha = ha_with(|p| p.minimal = true);
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::M | F::G)).code(), 134);
    for (i, bad) in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1"]
        .iter()
        .enumerate()
    {
        let t = 1 + i as u64;
        let r = Request::new(mn(), a(bad), at(t), mn_sa());
        let out = send_from(&mut ha, at(t), a("70.0.0.9"), &r);
        assert_eq!(out.code(), 134, "{bad}");
    }
    assert_eq!(ha.binding_count(), 0);
}

#[test]
fn rfc5944_3_8_2_3_code_135_too_many_simultaneous_bindings() {
    let mut ha = ha_with(|p| p.simultaneous_bindings = 2);
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::S)).code(), 0);
    let r = Request::new(mn(), a("70.0.0.3"), at(1), mn_sa()).flags(F::S);
    assert_eq!(send(&mut ha, at(1), &r).code(), 0);
    let r = Request::new(mn(), a("70.0.0.4"), at(2), mn_sa()).flags(F::S);
    assert_eq!(send(&mut ha, at(2), &r).code(), 135);
}

#[test]
fn rfc3024_code_137_reverse_tunnel_unavailable() {
    let mut ha = ha_with(|p| p.reverse_tunnel = false);
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::T)).code(), 137);
    assert_eq!(ha.counters().reverse_tunnel_unavailable, 1);
    assert_eq!(send(&mut ha, at(1), &req(1)).code(), 0);
}

#[test]
fn rfc3024_code_138_reverse_tunnel_mandatory() {
    let mut ha = ha_with(|p| p.reverse_tunnel_mandatory = true);
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 138);
    assert_eq!(ha.counters().reverse_tunnel_mandatory, 1);
    assert_eq!(send(&mut ha, at(1), &req(1).flags(F::T)).code(), 0);
}

#[test]
fn rfc3024_code_139_encapsulation_unavailable() {
    // Minimal encapsulation is not offered by default (the router does not offer it).
    let mut ha = home_agent();
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::M)).code(), 139);
    let mut ha = ha_with(|p| p.gre = false);
    assert_eq!(send(&mut ha, at(0), &req(0).flags(F::G)).code(), 139);
    assert_eq!(ha.counters().encapsulation_unavailable, 1);
    let mut ha = ha_with(|p| p.minimal = true);
    let out = send(&mut ha, at(0), &req(0).flags(F::M));
    assert_eq!(out.code(), 0);
    assert_eq!(
        ha.bindings(at(0))[0].encapsulation,
        mip_wire::codes::Encapsulation::Minimal
    );
}

#[test]
fn rfc3115_codes_140_141_cvse_not_understood() {
    let mut ha = home_agent();
    let cvse = Extension::Cvse {
        reserved: 0,
        vendor_id: 9,
        vendor_type: 77,
        data: vec![1],
    };
    let mut r = req(0);
    r.before.push(cvse.clone());
    assert_eq!(send(&mut ha, at(0), &r).code(), 140);
    let mut r = req(1);
    r.after.push(cvse);
    assert_eq!(send(&mut ha, at(1), &r).code(), 141);
    assert_eq!(ha.counters().cvse_not_understood, 2);
}

#[test]
fn rejections_change_no_binding_and_reply_lifetime_zero() {
    let mut ha = ha_with(|p| p.reverse_tunnel = false);
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 0);
    let out = send(
        &mut ha,
        at(1),
        &Request::new(mn(), a("70.0.0.3"), at(1), mn_sa()).flags(F::T),
    );
    assert_eq!(out.code(), 137);
    assert_eq!(out.reply().lifetime, 0);
    assert!(out.dataplane.is_empty());
    assert_eq!(ha.bindings(at(1))[0].care_of_address, coa());
}

#[test]
fn deregistration_skips_registration_only_checks() {
    // An ACL that now denies the care-of address does not keep a mobile node from
    // deregistering.
    let mut ha = home_agent();
    assert_eq!(send(&mut ha, at(0), &req(0)).code(), 0);
    let mut p = policy();
    p.care_of_access = Some(deny_acl("70.0.0.2"));
    ha.reconfigure_policy(p, &[ha_addr()]);
    assert_eq!(send(&mut ha, at(1), &req(1).lifetime(0)).code(), 0);
    assert_eq!(ha.binding_count(), 0);
}
