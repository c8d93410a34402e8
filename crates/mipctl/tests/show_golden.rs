//! Golden text of every `show ip mobile ...` view, and the seeds' samples reproduced from
//! equivalent data: seed 002 (`show ip mobile binding`, `traffic`, `secure host`; that file
//! lost its line breaks, so its samples are compared with our lines trimmed and joined) and
//! seed 000 (`show ip mobile binding`, line by line).

use mip_control::views::*;
use mip_control::PeerKind;
use mipctl::show;
use std::net::Ipv4Addr;

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Our lines with their indentation removed and joined without separators: the form the
/// samples of seed 002 take in that file.
fn flattened(text: &str) -> String {
    text.lines().map(str::trim).collect::<String>()
}

/// The seed file whose name starts with `prefix`, when the shared seeds are present.
fn seed(prefix: &str) -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    let entry = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))?;
    std::fs::read_to_string(entry.path()).ok()
}

/// The binding of seed 002's `clear ip mobile binding` example (and of seed 000's first
/// sample, with home address 20.0.0.1).
fn seed_binding(home: &str) -> BindingView {
    BindingView {
        home_address: a(home),
        nai: None,
        session_id: None,
        care_of_address: a("68.0.0.31"),
        source_address: a("68.0.0.31"),
        source_port: 434,
        home_agent: a("66.0.0.5"),
        lifetime_granted: 10000,
        remaining_secs: Some(9992),
        flags: 0x88,
        flags_text: "SbdmGvt".into(),
        identification: 0xB750_FAC4_C28F_56A8,
        identification_text: "B750FAC4.C28F56A8".into(),
        tunnel: TunnelRefView {
            name: "Tunnel100".into(),
            source: a("66.0.0.5"),
            destination: a("68.0.0.31"),
        },
        reverse_allowed: true,
        routing_options: vec![RoutingOption::Gre],
        encapsulation: EncapsulationView::Gre,
        interface: None,
        service_options: vec![],
        mobile_networks: vec![],
        security_associations: vec![],
    }
}

// Seed 002, `clear ip mobile binding` example, verbatim (the file lost its line breaks).
const SEED002_BINDING: &str = "Mobility Binding List:Total 110.0.0.1:Care-of Addr 68.0.0.31, Src Addr 68.0.0.31,Lifetime granted 02:46:40 (10000), remaining 02:46:32Flags SbdmGvt, Identification B750FAC4.C28F56A8,Tunnel100 src 66.0.0.5 dest 68.0.0.31 reverse-allowedRouting Options - (G)GRE";

#[test]
fn seed002_binding_sample() {
    let list = BindingList {
        total: 1,
        bindings: vec![seed_binding("10.0.0.1")],
    };
    let text = show::binding_list(&list);
    assert_eq!(
        text,
        "\
Mobility Binding List:
Total 1
10.0.0.1:
    Care-of Addr 68.0.0.31, Src Addr 68.0.0.31,
    Lifetime granted 02:46:40 (10000), remaining 02:46:32
    Flags SbdmGvt, Identification B750FAC4.C28F56A8,
    Tunnel100 src 66.0.0.5 dest 68.0.0.31 reverse-allowed
    Routing Options - (G)GRE
"
    );
    assert_eq!(flattened(&text), SEED002_BINDING);
    if let Some(s) = seed("002_") {
        assert!(s.contains(SEED002_BINDING), "the seed's sample moved");
    }
}

fn seed002_traffic_before_clear() -> TrafficView {
    TrafficView {
        register_requests: 8,
        register_replied: 7,
        accepted: 6,
        denied: 1,
        ignored: 1,
        bad_identification: 1,
        ..TrafficView::default()
    }
}

// Seed 002, `clear ip mobile traffic` example: before ("..": more lines follow) and after.
const SEED002_TRAFFIC_BEFORE: &str = "IP Mobility traffic:Advertisements:Solicitations received 0Advertisements sent 0, response to solicitation 0Home Agent Registrations:Register 8, Deregister 0 requestsRegister 7, Deregister 0 repliedAccepted 6, No simultaneous bindings 0Denied 1, Ignored 1Unspecified 0, Unknown HA 0Administrative prohibited 0, No resource 0Authentication failed MN 0, FA 0Bad identification 1, Bad request form 0";
const SEED002_TRAFFIC_AFTER: &str = "IP Mobility traffic:Advertisements:Solicitations received 0Advertisements sent 0, response to solicitation 0Home Agent Registrations:Register 0, Deregister 0 requestsRegister 0, Deregister 0 repliedAccepted 0, No simultaneous bindings 0Denied 0, Ignored 0Unspecified 0, Unknown HA 0Administrative prohibited 0, No resource 0Authentication failed MN 0, FA 0Bad identification 0, Bad request form 0";

#[test]
fn seed002_traffic_sample() {
    let text = show::traffic(&seed002_traffic_before_clear());
    let seed_lines = [
        "IP Mobility traffic:",
        "Advertisements:",
        "    Solicitations received 0",
        "    Advertisements sent 0, response to solicitation 0",
        "Home Agent Registrations:",
        "    Register 8, Deregister 0 requests",
        "    Register 7, Deregister 0 replied",
        "    Accepted 6, No simultaneous bindings 0",
        "    Denied 1, Ignored 1",
        "    Unspecified 0, Unknown HA 0",
        "    Administrative prohibited 0, No resource 0",
        "    Authentication failed MN 0, FA 0",
        "    Bad identification 1, Bad request form 0",
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..seed_lines.len()], &seed_lines[..]);
    // The seed's 13 lines, joined as the seed file has them.
    let head = lines[..seed_lines.len()].join("\n");
    assert_eq!(flattened(&head), SEED002_TRAFFIC_BEFORE);
    assert_eq!(
        flattened(
            &show::traffic(&TrafficView::default())
                .lines()
                .take(13)
                .collect::<Vec<_>>()
                .join("\n")
        ),
        SEED002_TRAFFIC_AFTER
    );
    if let Some(s) = seed("002_") {
        assert!(s.contains(&format!("{SEED002_TRAFFIC_BEFORE}..")));
        assert!(s.contains(SEED002_TRAFFIC_AFTER));
    }
}

#[test]
fn traffic_extra_counters_follow_the_seed_lines() {
    let t = TrafficView {
        solicitations_received: 1,
        advertisements_sent: 2,
        advertisements_response_to_solicitation: 3,
        register_requests: 4,
        deregister_requests: 5,
        register_replied: 6,
        deregister_replied: 7,
        accepted: 8,
        no_simultaneous_bindings: 9,
        denied: 10,
        ignored: 11,
        unspecified: 12,
        unknown_ha: 13,
        administratively_prohibited: 14,
        no_resource: 15,
        auth_failed_mn: 16,
        auth_failed_fa: 17,
        bad_identification: 18,
        bad_request_form: 19,
        too_many_bindings: 20,
        reverse_tunnel_unavailable: 21,
        reverse_tunnel_mandatory: 22,
        encapsulation_unavailable: 23,
        cvse_not_understood: 24,
        ignored_service_disabled: 25,
        ignored_malformed: 26,
        ignored_unknown_extension: 27,
        ignored_no_security_association: 28,
        gratuitous_arps: 29,
        proxy_arps: 30,
        bindings_expired: 31,
        bindings_cleared: 32,
        foreign_agent: None,
    };
    assert_eq!(
        show::traffic(&t),
        "\
IP Mobility traffic:
Advertisements:
    Solicitations received 1
    Advertisements sent 2, response to solicitation 3
Home Agent Registrations:
    Register 4, Deregister 5 requests
    Register 6, Deregister 7 replied
    Accepted 8, No simultaneous bindings 9
    Denied 10, Ignored 11
    Unspecified 12, Unknown HA 13
    Administrative prohibited 14, No resource 15
    Authentication failed MN 16, FA 17
    Bad identification 18, Bad request form 19
    Unavailable encap 23, reverse tunnel 21
    Reverse tunnel mandatory 22
    Too many bindings 20, CVSE not understood 24
    Ignored: service disabled 25, malformed 26
    Ignored: unknown extension 27, no security association 28
    Gratuitous 29, Proxy 30 ARPs sent
    Bindings expired 31, cleared 32
"
    );
}

#[test]
fn seed000_binding_samples() {
    // First sample: service options.
    let mut b = seed_binding("20.0.0.1");
    b.service_options = vec!["NAT detect".into()];
    let text = show::binding_list(&BindingList {
        total: 1,
        bindings: vec![b],
    });
    // The seed's lines end with blanks after the commas; ours do not.
    let seed_sample = "\
Mobility Binding List:
Total 1
20.0.0.1: 
    Care-of Addr 68.0.0.31, Src Addr 68.0.0.31, 
    Lifetime granted 02:46:40 (10000), remaining 02:46:32
    Flags SbdmGvt, Identification B750FAC4.C28F56A8, 
    Tunnel100 src 66.0.0.5 dest 68.0.0.31 reverse-allowed
    Routing Options - (G)GRE
    Service Options:
      NAT detect
";
    let trimmed: Vec<&str> = seed_sample.lines().map(str::trim_end).collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), trimmed);
    // In the seed file, the two Service Options lines are indented with no-break spaces
    // (an artefact of the web page): compare trimmed lines there.
    if let Some(s) = seed("000_") {
        let seed_lines: Vec<&str> = s.lines().map(|l| l.trim_matches([' ', '\u{a0}'])).collect();
        let ours: Vec<&str> = text.lines().map(str::trim).collect();
        assert!(
            seed_lines.windows(ours.len()).any(|w| w == &ours[..]),
            "seed 000's first sample not found"
        );
    }

    // Second sample: a mobile router with mobile networks (that sample indents by two and
    // drops the commas; we keep one style).
    let mr = BindingView {
        home_address: a("20.0.4.1"),
        care_of_address: a("45.0.0.5"),
        source_address: a("45.0.0.5"),
        home_agent: a("46.0.0.3"),
        lifetime_granted: 120,
        remaining_secs: Some(116),
        flags: 0x22,
        flags_text: "sbDmgvT".into(),
        identification: 0xB7A2_62C5_DE43_E6F4,
        identification_text: "B7A262C5.DE43E6F4".into(),
        tunnel: TunnelRefView {
            name: "Tunnel0".into(),
            source: a("46.0.0.3"),
            destination: a("45.0.0.5"),
        },
        routing_options: vec![
            RoutingOption::ReverseTunnel,
            RoutingOption::DirectToMobileNode,
        ],
        encapsulation: EncapsulationView::IpIp,
        mobile_networks: vec![
            MobileNetworkView {
                network: a("54.0.0.0"),
                mask: a("255.255.255.0"),
                dynamic: false,
            },
            MobileNetworkView {
                network: a("44.0.0.0"),
                mask: a("255.255.255.0"),
                dynamic: true,
            },
        ],
        ..seed_binding("20.0.4.1")
    };
    assert_eq!(
        show::binding_list(&BindingList {
            total: 1,
            bindings: vec![mr]
        }),
        "\
Mobility Binding List:
Total 1
20.0.4.1:
    Care-of Addr 45.0.0.5, Src Addr 45.0.0.5,
    Lifetime granted 00:02:00 (120), remaining 00:01:56
    Flags sbDmgvT, Identification B7A262C5.DE43E6F4,
    Tunnel0 src 46.0.0.3 dest 45.0.0.5 reverse-allowed
    Routing Options - (D)Direct-to-MN (T)Reverse-tunnel
    Mobile Networks: 54.0.0.0/255.255.255.0 (S)
                     44.0.0.0/255.255.255.0 (D)
"
    );
}

fn session_binding(show_keys: bool) -> BindingView {
    let key = |k: &str| show_keys.then(|| k.to_string());
    BindingView {
        home_address: a("100.100.100.19"),
        nai: Some("user01@cisco.com".into()),
        session_id: Some("PDA".into()),
        care_of_address: a("70.70.70.2"),
        source_address: a("100.100.100.1"),
        source_port: 434,
        home_agent: a("100.100.100.100"),
        lifetime_granted: 20000,
        remaining_secs: Some(30 * 60 + 56),
        flags: 0x88,
        flags_text: "SbdmGvt".into(),
        identification: 0xBC1C_2A04_EA42_659C,
        identification_text: "BC1C2A04.EA42659C".into(),
        tunnel: TunnelRefView {
            name: "Tunnel0".into(),
            source: a("100.100.100.100"),
            destination: a("70.70.70.2"),
        },
        reverse_allowed: true,
        routing_options: vec![],
        encapsulation: EncapsulationView::IpIp,
        interface: Some("eth1".into()),
        service_options: vec![],
        mobile_networks: vec![],
        security_associations: vec![
            BindingSaView {
                spi: 0x333,
                algorithm: AuthAlgorithm::Md5,
                mode: AuthMode::PrefixSuffix,
                replay: ReplayView::Timestamp { window_secs: 255 },
                kind: DynamicKeyKind::Root,
                key_len: 16,
                key: key("38a38987ad0a399cb80940835689da66"),
            },
            BindingSaView {
                spi: 0x334,
                algorithm: AuthAlgorithm::Md5,
                mode: AuthMode::PrefixSuffix,
                replay: ReplayView::Timestamp { window_secs: 255 },
                kind: DynamicKeyKind::Session,
                key_len: 16,
                key: key("34c7635a313038611dec8c16681b55e0"),
            },
        ],
    }
}

#[test]
fn seed000_session_sample_with_dynamic_keys() {
    let text = show::binding_list(&BindingList {
        total: 1,
        bindings: vec![session_binding(true)],
    });
    assert_eq!(
        text,
        "\
Mobility Binding List:
Total 1
user01@cisco.com:
    Home addr 100.100.100.19
    Care-of Addr 70.70.70.2, Src Addr 100.100.100.1,
    Lifetime granted 05:33:20 (20000), remaining 00:30:56
    Flags SbdmGvt, Identification BC1C2A04.EA42659C,
    Tunnel0 src 100.100.100.100 dest 70.70.70.2 reverse-allowed
    Routing Options
    Session identifier PDA
    SPI 333 (decimal 819) MD5, Prefix-suffix, Timestamp +/-255, root key
    Key 38a38987ad0a399cb80940835689da66
    SPI 334 (decimal 820) MD5, Prefix-suffix, Timestamp +/-255, session key
    Key 34c7635a313038611dec8c16681b55e0
"
    );
    // The SPI and key lines are the seed's, word for word.
    if let Some(s) = seed("000_") {
        let seed_lines: Vec<&str> = s.lines().map(str::trim).collect();
        for l in text.lines().skip(10) {
            assert!(seed_lines.contains(&l.trim()), "not in seed 000: {l}");
        }
    }
    // Without --show-keys the keys are hidden.
    let hidden = show::binding_list(&BindingList {
        total: 1,
        bindings: vec![session_binding(false)],
    });
    assert!(!hidden.contains("38a38987"));
    assert_eq!(
        hidden
            .lines()
            .filter(|l| *l == "    Key <hidden, 16 bytes>")
            .count(),
        2
    );
}

#[test]
fn binding_infinite_lifetime_reverse_off_and_empty_list() {
    let mut b = seed_binding("10.0.0.2");
    b.lifetime_granted = 65535;
    b.remaining_secs = None;
    b.reverse_allowed = false;
    b.routing_options = vec![RoutingOption::Broadcast, RoutingOption::Gre];
    let text = show::binding_list(&BindingList {
        total: 1,
        bindings: vec![b],
    });
    assert!(text.contains("\n    Lifetime granted INFINITE (65535), remaining INFINITE\n"));
    assert!(text.contains("\n    Tunnel100 src 66.0.0.5 dest 68.0.0.31 reverse-off\n"));
    assert!(text.contains("\n    Routing Options - (B)Broadcast (G)GRE\n"));
    assert_eq!(
        show::binding_list(&BindingList::default()),
        "Mobility Binding List:\nTotal 0\n"
    );
    assert_eq!(
        show::binding_summary(&BindingSummary {
            total: 3,
            mobile_nodes: 2,
            with_nai: 1,
            reverse_tunnels: 3,
            tunnels: 2
        }),
        "\
Mobility Binding List:
Total 3
    Mobile nodes 2, NAI 1, Reverse tunnels 3, Tunnels 2
"
    );
}

fn seed002_secure(show_keys: bool) -> SecureList {
    SecureList {
        peer: PeerKind::Host,
        total: 1,
        associations: vec![SecureView {
            peer: PeerKind::Host,
            address: Some(a("10.0.0.1")),
            upper: None,
            nai: None,
            inbound_spi: 0x300,
            outbound_spi: 0x300,
            algorithm: AuthAlgorithm::Md5,
            mode: AuthMode::PrefixSuffix,
            replay: ReplayView::Timestamp { window_secs: 7 },
            origin: SaOrigin::Aaa,
            key_len: 16,
            key: show_keys.then(|| "1230552d39b7c1751f86bae5205ec0c8".into()),
            key_ascii: show_keys.then(|| "oldkey".into()),
        }],
    }
}

// Seed 002, `clear ip mobile secure` example (its quote is a typographic ` ... ').
const SEED002_SECURE: &str = "Security Associations (algorithm,mode,replay protection,key):10.0.0.1:SPI 300, MD5, Prefix-suffix, Timestamp +/- 7,Key `oldkey' 1230552d39b7c1751f86bae5205ec0c8";

#[test]
fn seed002_secure_host_sample() {
    let text = show::secure_list(&seed002_secure(true), false);
    assert_eq!(
        text,
        "\
Security Associations (algorithm,mode,replay protection,key):
10.0.0.1:
    SPI 300, MD5, Prefix-suffix, Timestamp +/- 7,
    Key 'oldkey' 1230552d39b7c1751f86bae5205ec0c8
"
    );
    assert_eq!(flattened(&text), SEED002_SECURE.replace('`', "'"));
    if let Some(s) = seed("002_") {
        assert!(s.contains(SEED002_SECURE));
    }
    // Masked by default.
    assert_eq!(
        show::secure_list(&seed002_secure(false), false),
        "\
Security Associations (algorithm,mode,replay protection,key):
10.0.0.1:
    SPI 300, MD5, Prefix-suffix, Timestamp +/- 7,
    Key <hidden, 16 bytes>
"
    );
}

#[test]
fn secure_ranges_nai_split_spis_and_summary() {
    let list = SecureList {
        peer: PeerKind::Host,
        total: 2,
        associations: vec![
            SecureView {
                upper: Some(a("10.0.0.10")),
                inbound_spi: 0x100,
                outbound_spi: 0x100,
                algorithm: AuthAlgorithm::HmacMd5,
                replay: ReplayView::Nonce,
                key_ascii: None,
                key: Some("87654321876543218765432187654321".into()),
                ..seed002_secure(true).associations[0].clone()
            },
            SecureView {
                address: None,
                nai: Some("herbert@left.com".into()),
                inbound_spi: 0x1001,
                outbound_spi: 0xABC,
                key: None,
                key_ascii: None,
                ..seed002_secure(false).associations[0].clone()
            },
        ],
    };
    assert_eq!(
        show::secure_list(&list, false),
        "\
Security Associations (algorithm,mode,replay protection,key):
10.0.0.1 - 10.0.0.10:
    SPI 100, HMAC-MD5, Prefix-suffix, Nonce,
    Key 87654321876543218765432187654321
herbert@left.com:
    Inbound SPI 1001, Outbound SPI ABC, MD5, Prefix-suffix, Timestamp +/- 7,
    Key <hidden, 16 bytes>
"
    );
    assert_eq!(
        show::secure_list(&list, true),
        "\
Security Associations (algorithm,mode,replay protection,key):
Total 2 hosts
10.0.0.1 - 10.0.0.10: SPI 100, HMAC-MD5, Prefix-suffix, Nonce
herbert@left.com: Inbound SPI 1001, Outbound SPI ABC, MD5, Prefix-suffix, Timestamp +/- 7
"
    );
}

/// 2002-04-13 19:04:28 UTC.
const APRIL_2002_MS: u64 = 1_018_724_668_000;

#[test]
fn host_views() {
    let counters = HostCountersView {
        accepted: 2,
        last_accepted_ms: Some(APRIL_2002_MS),
        denied: 1,
        last_denied_ms: Some(APRIL_2002_MS + 60_000),
        last_code: Some(131),
        violations: 1,
    };
    let hosts = HostList {
        hosts: vec![
            HostView {
                home_address: a("20.0.0.1"),
                nai: None,
                allowed_lifetime: 36000,
                lifetime_is_default: true,
                registered: true,
                home_link: HomeLinkView::VirtualNetwork {
                    network: a("20.0.0.0"),
                    prefix_len: 8,
                },
                counters: counters.clone(),
            },
            HostView {
                home_address: a("11.0.0.2"),
                nai: Some("herbert@left.com".into()),
                allowed_lifetime: 600,
                lifetime_is_default: false,
                registered: false,
                home_link: HomeLinkView::Interface {
                    name: "eth1".into(),
                },
                counters: HostCountersView::default(),
            },
        ],
    };
    assert_eq!(
        show::host_list(&hosts),
        "\
20.0.0.1:
    Allowed lifetime 10:00:00 (36000/Default)
    Roaming status -Registered-, Home link on virtual network 20.0.0.0/8
    Accepted 2, Last time 04/13/02 19:04:28
    Denied 1, Last time 04/13/02 19:05:28
    Last code 'mobile node failed authentication' (131)
    Total violations 1
11.0.0.2:
    NAI herbert@left.com
    Allowed lifetime 00:10:00 (600/Group)
    Roaming status -Unregistered-, Home link on interface eth1
    Accepted 0, Last time -never-
    Denied 0, Last time -never-
    Last code -never- (0)
    Total violations 0
"
    );
    assert_eq!(
        show::host_counters(&HostCountersList {
            hosts: vec![HostCountersEntry {
                home_address: a("20.0.0.1"),
                counters
            }]
        }),
        "\
20.0.0.1:
    Accepted 2, Last time 04/13/02 19:04:28
    Denied 1, Last time 04/13/02 19:05:28
    Last code 'mobile node failed authentication' (131)
    Total violations 1
"
    );
    assert_eq!(show::host_list(&HostList::default()), "");
}

#[test]
fn host_group_view() {
    let groups = HostGroupList {
        groups: vec![
            HostGroupView {
                lower: Some(a("20.0.0.1")),
                upper: Some(a("20.0.0.20")),
                nai: None,
                pool: None,
                home_link: HomeLinkView::VirtualNetwork {
                    network: a("20.0.0.0"),
                    prefix_len: 8,
                },
                care_of_access: None,
                sa_source: SaSourceView::Local,
                allowed_lifetime: 36000,
                lifetime_is_default: true,
            },
            HostGroupView {
                lower: Some(a("11.0.0.1")),
                upper: Some(a("11.0.0.1")),
                nai: None,
                pool: None,
                home_link: HomeLinkView::Interface {
                    name: "eth1".into(),
                },
                care_of_access: Some("coa-list".into()),
                sa_source: SaSourceView::AaaLoadSa,
                allowed_lifetime: 65535,
                lifetime_is_default: false,
            },
            HostGroupView {
                lower: None,
                upper: None,
                nai: Some("herbert@left.com".into()),
                pool: Some("mobile".into()),
                home_link: HomeLinkView::Interface {
                    name: "eth1".into(),
                },
                care_of_access: None,
                sa_source: SaSourceView::Aaa,
                allowed_lifetime: 600,
                lifetime_is_default: false,
            },
        ],
    };
    assert_eq!(
        show::host_groups(&groups),
        "\
20.0.0.1 - 20.0.0.20:
    Home link on virtual network 20.0.0.0/8, Care-of ACL -none-
    Security associations on router, Allowed lifetime 10:00:00 (36000/Default)
11.0.0.1:
    Home link on interface eth1, Care-of ACL coa-list
    Security associations on AAA server, load-sa, Allowed lifetime INFINITE (65535/Group)
nai herbert@left.com:
    Home addresses from pool mobile
    Home link on interface eth1, Care-of ACL -none-
    Security associations on AAA server, Allowed lifetime 00:10:00 (600/Group)
"
    );
}

#[test]
fn violation_view_groups_by_address() {
    let v = |addr: &str, fa: bool, t: u64, reason: ViolationReasonView| ViolationView {
        address: a(addr),
        nai: None,
        foreign_agent: fa,
        home_agent: false,
        time_ms: t,
        spi: 0x300,
        identification: 0xB751_B581_77FD_0E40,
        identification_text: "B751B581.77FD0E40".into(),
        code: 131,
        reason,
    };
    let list = ViolationList {
        total: 4,
        violations: vec![
            v(
                "20.0.0.1",
                false,
                APRIL_2002_MS,
                ViolationReasonView::BadIdentifier,
            ),
            v(
                "68.0.0.31",
                true,
                APRIL_2002_MS,
                ViolationReasonView::BadSpi,
            ),
            v(
                "20.0.0.1",
                false,
                APRIL_2002_MS + 1000,
                ViolationReasonView::BadAuthenticator,
            ),
            v(
                "10.0.0.1",
                false,
                APRIL_2002_MS,
                ViolationReasonView::NoMobilitySecurityAssociation,
            ),
        ],
    };
    assert_eq!(
        show::violations(&list),
        "\
Security Violation Log:
Mobile Hosts:
10.0.0.1:
    Violations: 1, Last time: 04/13/02 19:04:28
    SPI: 300, Identification: B751B581.77FD0E40
    Security Violation reason: No mobility security association
20.0.0.1:
    Violations: 2, Last time: 04/13/02 19:04:29
    SPI: 300, Identification: B751B581.77FD0E40
    Security Violation reason: Bad authenticator
Foreign Agents:
68.0.0.31:
    Violations: 1, Last time: 04/13/02 19:04:28
    SPI: 300, Identification: B751B581.77FD0E40
    Security Violation reason: Bad SPI
"
    );
    assert_eq!(
        show::violations(&ViolationList::default()),
        "Security Violation Log:\n"
    );
}

#[test]
fn globals_view() {
    let g = GlobalsView {
        home_agent_enabled: true,
        home_agent_addresses: vec![a("66.0.0.5")],
        lifetime_secs: 36000,
        replay_secs: 7,
        broadcast: true,
        reverse_tunnel: true,
        reverse_tunnel_mandatory: false,
        icmp_unreachable: true,
        roam_access: Some("1".into()),
        care_of_access: None,
        max_bindings: Some(10000),
        simultaneous_bindings: 3,
        encapsulations: vec![EncapsulationView::IpIp, EncapsulationView::Gre],
        virtual_networks: vec![PrefixView {
            network: a("10.0.0.0"),
            prefix_len: 8,
        }],
        host_groups: 3,
        bindings: 1,
        tunnels: 1,
        redundancy_group: None,
        foreign_agent_enabled: false,
        care_of_interfaces: vec![],
        interfaces_providing_service: 0,
    };
    assert_eq!(
        show::globals(&g),
        "\
IP Mobility global information:

Home Agent

    Registration lifetime: 10:00:00 (36000 secs)
    Broadcast enabled
    Replay protection time: 7 secs
    Reverse tunnel enabled
    ICMP Unreachable enabled
    Address 66.0.0.5
    Virtual networks
        10.0.0.0/8
    Roam access list 1, Care-of access list -none-
    Simultaneous bindings up to 3
    Binding limit 10000
    Host groups 3, Bindings 1, Tunnels 1

Foreign Agent is not enabled, no care-of address

0 interfaces providing service
Encapsulations supported: IPIP and GRE
"
    );
    let off = GlobalsView {
        foreign_agent_enabled: true,
        care_of_interfaces: vec!["eth0".into()],
        interfaces_providing_service: 1,
        ..GlobalsView::default()
    };
    assert_eq!(
        show::globals(&off),
        "\
IP Mobility global information:

Home Agent is not enabled

Foreign Agent

    Care-of interfaces: eth0

1 interfaces providing service
Encapsulations supported: IPIP
"
    );
}

#[test]
fn tunnel_view() {
    let list = TunnelList {
        total: 2,
        tunnels: vec![
            TunnelView {
                name: "Tunnel0".into(),
                source: a("46.0.0.3"),
                destination: a("20.0.0.3"),
                encapsulation: EncapsulationView::IpIp,
                reverse_allowed: true,
                users: 1,
                created_by_home_agent: true,
                mtu: Some(1480),
                interface: Some("eth2".into()),
                packets_in: 10,
                bytes_in: 1000,
                drops_in: 1,
                packets_out: 20,
                bytes_out: 2000,
            },
            TunnelView {
                name: "Tunnel1".into(),
                source: a("46.0.0.3"),
                destination: a("68.0.0.31"),
                encapsulation: EncapsulationView::Gre,
                reverse_allowed: false,
                users: 2,
                created_by_home_agent: true,
                mtu: None,
                interface: None,
                packets_in: 0,
                bytes_in: 0,
                drops_in: 0,
                packets_out: 0,
                bytes_out: 0,
            },
        ],
    };
    assert_eq!(
        show::tunnels(&list),
        "\
Mobile Tunnels:
Total mobile ip tunnels 2
Tunnel0:
    src 46.0.0.3, dest 20.0.0.3
    encap IP/IP, mode reverse-allowed, tunnel-users 1
    IP MTU 1480 bytes
    outbound interface eth2
    HA created
    10 packets input, 1000 bytes, 1 drops
    20 packets output, 2000 bytes
Tunnel1:
    src 46.0.0.3, dest 68.0.0.31
    encap GRE/IP, mode reverse-off, tunnel-users 2
    HA created
    0 packets input, 0 bytes, 0 drops
    0 packets output, 0 bytes
"
    );
}

#[test]
fn every_view_round_trips_through_json() {
    let list = BindingList {
        total: 1,
        bindings: vec![session_binding(true)],
    };
    let j = serde_json::to_string(&list).unwrap();
    assert_eq!(serde_json::from_str::<BindingList>(&j).unwrap(), list);
    let t = seed002_traffic_before_clear();
    let j = serde_json::to_value(&t).unwrap();
    assert_eq!(j["register_requests"], 8);
    assert_eq!(serde_json::from_value::<TrafficView>(j).unwrap(), t);
    let s = seed002_secure(false);
    let j = serde_json::to_string(&s).unwrap();
    assert!(!j.contains("oldkey") && !j.contains("1230552d"));
    assert_eq!(serde_json::from_str::<SecureList>(&j).unwrap(), s);
}
