//! The views fit the home agent core's data: a real `mip_ha::HomeAgent`, run in virtual time,
//! registers the seed 002 mobile node; its snapshots, counters, host counters and violations
//! are converted to the views (the way `mipd` does it; the conversions below are the
//! reference) and printed. The binding reproduces seed 002's sample, but for the tunnel
//! number (the core numbers tunnels from 0; the router's sample says Tunnel100).

use mip_control::views::*;
use mip_ha::{BindingSnapshot, Counters, HaPolicy, HomeAgent, HostCounters, Violation};
use mip_security::{Key, SecurityAssociation};
use mip_wire::extension::{append_auth_extension, AuthKind};
use mip_wire::registration::{RegistrationRequest, RequestFlags};
use mipctl::show;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------
// Conversions (what mipd does)
// ---------------------------------------------------------------------------------------

/// A binding snapshot as `show ip mobile binding` shows it. `tunnel_reverse_allowed` is the
/// tunnel's mode, i.e. the home agent's `reverse-tunnel` setting (`HaPolicy::reverse_tunnel`):
/// the router prints `reverse-allowed` even when the mobile node did not ask for T (seed 000).
fn binding_view(b: &BindingSnapshot, tunnel_reverse_allowed: bool) -> BindingView {
    let encapsulation = EncapsulationView::from_protocol(u8::from(b.encapsulation))
        .unwrap_or(EncapsulationView::IpIp);
    let mut routing_options = Vec::new();
    if b.broadcast {
        routing_options.push(RoutingOption::Broadcast);
    }
    if b.direct_to_mobile_node {
        routing_options.push(RoutingOption::DirectToMobileNode);
    }
    match encapsulation {
        EncapsulationView::Gre => routing_options.push(RoutingOption::Gre),
        EncapsulationView::Minimal => routing_options.push(RoutingOption::MinimalEncapsulation),
        EncapsulationView::IpIp => {}
    }
    if b.reverse_tunnel {
        routing_options.push(RoutingOption::ReverseTunnel);
    }
    BindingView {
        home_address: b.home_address,
        nai: b.nai.clone(),
        session_id: b.session_id.clone(),
        care_of_address: b.care_of_address,
        source_address: *b.source.ip(),
        source_port: b.source.port(),
        home_agent: b.home_agent,
        lifetime_granted: u32::from(b.lifetime_granted),
        remaining_secs: b.remaining_secs,
        flags: b.flags,
        flags_text: b.flags_text.clone(),
        identification: b.identification,
        identification_text: b.identification_text.clone(),
        tunnel: TunnelRefView {
            name: format!("Tunnel{}", b.tunnel.0),
            source: b.tunnel_endpoints.source,
            destination: b.tunnel_endpoints.destination,
        },
        reverse_allowed: tunnel_reverse_allowed || b.reverse_tunnel,
        routing_options,
        encapsulation,
        interface: b.interface.clone(),
        service_options: Vec::new(),
        mobile_networks: Vec::new(),
        security_associations: Vec::new(),
    }
}

/// The core's counters: same field names as the view, so JSON converts them too.
fn traffic_view(c: &Counters) -> TrafficView {
    TrafficView {
        register_requests: c.register_requests,
        deregister_requests: c.deregister_requests,
        register_replied: c.register_replied,
        deregister_replied: c.deregister_replied,
        accepted: c.accepted,
        no_simultaneous_bindings: c.no_simultaneous_bindings,
        denied: c.denied,
        ignored: c.ignored,
        unspecified: c.unspecified,
        unknown_ha: c.unknown_ha,
        administratively_prohibited: c.administratively_prohibited,
        no_resource: c.no_resource,
        auth_failed_mn: c.auth_failed_mn,
        auth_failed_fa: c.auth_failed_fa,
        bad_identification: c.bad_identification,
        bad_request_form: c.bad_request_form,
        too_many_bindings: c.too_many_bindings,
        reverse_tunnel_unavailable: c.reverse_tunnel_unavailable,
        reverse_tunnel_mandatory: c.reverse_tunnel_mandatory,
        encapsulation_unavailable: c.encapsulation_unavailable,
        cvse_not_understood: c.cvse_not_understood,
        ignored_service_disabled: c.ignored_service_disabled,
        ignored_malformed: c.ignored_malformed,
        ignored_unknown_extension: c.ignored_unknown_extension,
        ignored_no_security_association: c.ignored_no_security_association,
        gratuitous_arps: c.gratuitous_arps,
        proxy_arps: c.proxy_arps,
        bindings_expired: c.bindings_expired,
        bindings_cleared: c.bindings_cleared,
        // Agent advertisements are the foreign agent's / data plane's business.
        ..TrafficView::default()
    }
}

fn host_counters_view(h: &HostCounters) -> HostCountersView {
    let never = |ms: u64| (ms != 0).then_some(ms);
    HostCountersView {
        accepted: u64::from(h.accepted),
        last_accepted_ms: never(h.last_accepted_ms),
        denied: u64::from(h.denied),
        last_denied_ms: never(h.last_denied_ms),
        last_code: (h.denied > 0).then_some(h.last_code),
        violations: u64::from(h.violations),
    }
}

fn violation_view(v: &Violation) -> ViolationView {
    use mip_ha::ViolationReason as R;
    ViolationView {
        address: v.address,
        nai: v.nai.clone(),
        foreign_agent: v.foreign_agent,
        home_agent: false,
        time_ms: v.time_ms,
        spi: v.spi,
        identification: v.identification,
        identification_text: format!(
            "{:08X}.{:08X}",
            v.identification >> 32,
            v.identification & 0xffff_ffff
        ),
        code: v.code,
        reason: match v.reason {
            R::NoMobilitySecurityAssociation => ViolationReasonView::NoMobilitySecurityAssociation,
            R::BadAuthenticator => ViolationReasonView::BadAuthenticator,
            R::BadIdentifier => ViolationReasonView::BadIdentifier,
            R::BadSpi => ViolationReasonView::BadSpi,
            R::MissingSecurityExtension => ViolationReasonView::MissingSecurityExtension,
            R::Other => ViolationReasonView::Other,
        },
    }
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Seed 002's identification, B750FAC4.C28F56A8: an NTP timestamp of 1997-06-17.
const IDENT: u64 = 0xB750_FAC4_C28F_56A8;

/// The home agent's clock when the request arrives: the second of the identification, so
/// that the timestamp replay check accepts it.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs((IDENT >> 32) - mip_security::ntp::NTP_UNIX_OFFSET_SECS)
}

fn mn_sa() -> SecurityAssociation {
    SecurityAssociation::with_defaults(
        0x100,
        Key::from_hex("87654321876543218765432187654321").unwrap(),
    )
}

fn request(home: &str, flags: u8, lifetime: u16, ident: u64, good_key: bool) -> Vec<u8> {
    let fixed = RegistrationRequest {
        flags: RequestFlags::from_byte(flags),
        lifetime,
        home_address: a(home),
        home_agent: a("66.0.0.5"),
        care_of_address: a("68.0.0.31"),
        identification: ident,
        extensions: Vec::new(),
    };
    let mut buf = fixed.to_bytes();
    let sa = mn_sa();
    append_auth_extension(&mut buf, AuthKind::MnHa, sa.spi(), 16, |c| {
        let mut auth = sa.authenticator(c);
        if !good_key {
            auth[0] ^= 0xff;
        }
        auth
    })
    .unwrap();
    buf
}

fn home_agent() -> HomeAgent {
    let mut policy = HaPolicy::default()
        .host_group_on_virtual_network(a("10.0.0.1"), a("10.0.0.10"), a("10.0.0.0"), a("255.0.0.0"))
        .mobile_node_sa(a("10.0.0.1"), a("10.0.0.10"), mn_sa());
    // `lifetime 65535`: infinite lifetimes are granted as asked.
    policy.lifetime = 0xffff;
    HomeAgent::with_policy(policy, &[a("66.0.0.5")])
}

fn drain(ha: &mut HomeAgent) -> usize {
    while ha.poll_store().is_some() {}
    while ha.poll_dataplane().is_some() {}
    let mut replies = 0;
    while ha.poll_transmit().is_some() {
        replies += 1;
    }
    replies
}

#[test]
fn seed002_binding_from_the_core() {
    let mut ha = home_agent();
    let from_fa = SocketAddrV4::new(a("68.0.0.31"), 434);
    // Flags S and G (SbdmGvt), lifetime 10000, from the foreign agent 68.0.0.31.
    ha.handle_request(
        t0(),
        from_fa,
        a("66.0.0.5"),
        &request("10.0.0.1", 0x88, 10000, IDENT, true),
    );
    assert_eq!(drain(&mut ha), 1);

    let now = t0() + Duration::from_secs(8);
    let snaps = ha.bindings(now);
    let list = BindingList {
        total: snaps.len() as u64,
        bindings: snaps
            .iter()
            .map(|b| binding_view(b, ha.policy().reverse_tunnel))
            .collect(),
    };
    assert_eq!(
        show::binding_list(&list),
        "\
Mobility Binding List:
Total 1
10.0.0.1:
    Care-of Addr 68.0.0.31, Src Addr 68.0.0.31,
    Lifetime granted 02:46:40 (10000), remaining 02:46:32
    Flags SbdmGvt, Identification B750FAC4.C28F56A8,
    Tunnel0 src 66.0.0.5 dest 68.0.0.31 reverse-allowed
    Routing Options - (G)GRE
"
    );
    // The same through JSON, as the console receives it.
    let json = serde_json::to_string(&list).unwrap();
    assert_eq!(serde_json::from_str::<BindingList>(&json).unwrap(), list);

    // An infinite lifetime: the core reports no remaining time.
    ha.handle_request(
        t0() + Duration::from_secs(9),
        from_fa,
        a("66.0.0.5"),
        &request("10.0.0.3", 0x02, 0xffff, IDENT + (2 << 32), true),
    );
    assert_eq!(drain(&mut ha), 1);
    let b = ha.bindings_of(a("10.0.0.3"), t0() + Duration::from_secs(100));
    let v = binding_view(&b[0], true);
    assert_eq!(v.remaining_secs, None);
    let text = show::binding_list(&BindingList {
        total: 1,
        bindings: vec![v],
    });
    assert!(
        text.contains("    Lifetime granted INFINITE (65535), remaining INFINITE\n"),
        "{text}"
    );
    assert!(
        text.contains("    Routing Options - (T)Reverse-tunnel\n"),
        "{text}"
    );
}

#[test]
fn traffic_host_counters_and_violations_from_the_core() {
    let mut ha = home_agent();
    let from_fa = SocketAddrV4::new(a("68.0.0.31"), 434);
    ha.handle_request(
        t0(),
        from_fa,
        a("66.0.0.5"),
        &request("10.0.0.1", 0x08, 10000, IDENT, true),
    );
    assert_eq!(drain(&mut ha), 1);
    // A wrong authenticator: 131 and a violation.
    ha.handle_request(
        t0() + Duration::from_secs(1),
        from_fa,
        a("66.0.0.5"),
        &request("10.0.0.2", 0x08, 10000, IDENT + (1 << 32), false),
    );
    assert_eq!(drain(&mut ha), 1);

    let t = traffic_view(ha.counters());
    // The JSON route gives the same view (same field names, missing ones default).
    let via_json: TrafficView =
        serde_json::from_value(serde_json::to_value(ha.counters()).unwrap()).unwrap();
    assert_eq!(via_json, t);
    let text = show::traffic(&t);
    for line in [
        "    Register 2, Deregister 0 requests",
        "    Register 2, Deregister 0 replied",
        "    Accepted 1, No simultaneous bindings 0",
        "    Denied 1, Ignored 0",
        "    Authentication failed MN 1, FA 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }

    let hc = ha
        .host_counters(a("10.0.0.2"))
        .expect("per-host counters are on");
    let hosts = HostCountersList {
        hosts: vec![HostCountersEntry {
            home_address: a("10.0.0.2"),
            counters: host_counters_view(&hc),
        }],
    };
    assert_eq!(
        show::host_counters(&hosts),
        "\
10.0.0.2:
    Accepted 0, Last time -never-
    Denied 1, Last time 06/17/97 12:00:05
    Last code 'mobile node failed authentication' (131)
    Total violations 1
"
    );

    let list = ViolationList {
        total: ha.violations_total(),
        violations: ha.violations().map(violation_view).collect(),
    };
    assert_eq!(list.total, 1);
    assert_eq!(
        show::violations(&list),
        "\
Security Violation Log:
Mobile Hosts:
10.0.0.2:
    Violations: 1, Last time: 06/17/97 12:00:05
    SPI: 100, Identification: B750FAC5.C28F56A8
    Security Violation reason: Bad authenticator
"
    );
}
