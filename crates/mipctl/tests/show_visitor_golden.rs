//! Golden text of the foreign agent and mobile node views: seed 000's two `show ip mobile
//! visitor` samples reproduced line by line from equivalent data, the pending table and the
//! summaries, the "Foreign Agent Registrations:" section of `show ip mobile traffic`, and
//! `show ip mobile node`. Also the JSON form of a visitor, field by field, for the daemon.

use mip_control::views::*;
use mipctl::show;
use serde_json::json;
use std::net::Ipv4Addr;

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
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

/// `ours` appears, line after line, in seed 000 (lines compared without their indentation:
/// the seed file indents some with no-break spaces, an artefact of the web page).
fn assert_in_seed000(ours: &str) {
    if let Some(s) = seed("000_") {
        let seed_lines: Vec<&str> = s.lines().map(|l| l.trim_matches([' ', '\u{a0}'])).collect();
        let ours: Vec<&str> = ours.lines().map(str::trim).collect();
        assert!(
            seed_lines.windows(ours.len()).any(|w| w == &ours[..]),
            "not found in seed 000:\n{}",
            ours.join("\n")
        );
    }
}

/// Seed 000's first visitor: 20.0.0.1 on Ethernet1/2.
fn seed_visitor() -> VisitorView {
    VisitorView {
        home_address: a("20.0.0.1"),
        nai: None,
        session_id: None,
        interface: "Ethernet1/2".into(),
        mac_address: Some("0060.837b.95ec".into()),
        source_address: a("20.0.0.1"),
        destination_address: a("67.0.0.31"),
        source_port: 434,
        home_agent: a("66.0.0.5"),
        care_of_address: a("68.0.0.31"),
        identification: 0xB751_0E60_6443_6B38,
        identification_text: "B7510E60.64436B38".into(),
        lifetime_granted: 30000,
        remaining_secs: Some(29956),
        tunnel: TunnelRefView {
            name: "Tunnel100".into(),
            source: a("68.0.0.31"),
            destination: a("66.0.0.5"),
        },
        reverse_allowed: true,
        flags: 0x02,
        flags_text: "sbdmgvT".into(),
        routing_options: vec![RoutingOption::ReverseTunnel],
        encapsulation: EncapsulationView::IpIp,
    }
}

/// Seed 000's second visitor: user01@cisco.com, session PDA.
fn seed_nai_visitor() -> VisitorView {
    VisitorView {
        home_address: a("100.100.100.17"),
        nai: Some("user01@cisco.com".into()),
        session_id: Some("PDA".into()),
        interface: "Ethernet3/3".into(),
        mac_address: Some("0004.6d25.b857".into()),
        source_address: a("0.0.0.0"),
        destination_address: a("100.100.100.1"),
        source_port: 434,
        home_agent: a("100.100.100.100"),
        care_of_address: a("70.70.70.2"),
        identification: 0xBC18_9864_B2FE_6CC4,
        identification_text: "BC189864.B2FE6CC4".into(),
        lifetime_granted: 2000,
        remaining_secs: Some(1986),
        tunnel: TunnelRefView {
            name: "Tunnel0".into(),
            source: a("70.70.70.2"),
            destination: a("100.100.100.100"),
        },
        reverse_allowed: true,
        flags: 0x40,
        flags_text: "sBdmgvt".into(),
        routing_options: vec![RoutingOption::Broadcast],
        encapsulation: EncapsulationView::IpIp,
    }
}

#[test]
fn seed000_visitor_sample() {
    let text = show::visitor_list(&VisitorList {
        total: 1,
        visitors: vec![seed_visitor()],
    });
    assert_eq!(
        text,
        "\
Mobile Visitor List:
Total 1
20.0.0.1:
    Interface Ethernet1/2, MAC addr 0060.837b.95ec
    IP src 20.0.0.1, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification B7510E60.64436B38
    Lifetime 08:20:00 (30000) Remaining 08:19:16
    Tunnel100 src 68.0.0.31, dest 66.0.0.5, reverse-allowed
    Routing Options - (T)Reverse-tunnel
"
    );
    assert_in_seed000(&text);
}

#[test]
fn seed000_visitor_sample_with_nai_and_session() {
    let text = show::visitor_list(&VisitorList {
        total: 1,
        visitors: vec![seed_nai_visitor()],
    });
    // The NAI title is indented and has no colon, as in the seed.
    assert_eq!(
        text,
        "\
Mobile Visitor List:
Total 1
    user01@cisco.com
    Home addr 100.100.100.17
    Interface Ethernet3/3, MAC addr 0004.6d25.b857
    IP src 0.0.0.0, dest 100.100.100.1, UDP src port 434
    HA addr 100.100.100.100, Identification BC189864.B2FE6CC4
    Lifetime 00:33:20 (2000) Remaining 00:33:06
    Tunnel0 src 70.70.70.2, dest 100.100.100.100, reverse-allowed
    Routing Options - (B)Broadcast
    Session identifier PDA
"
    );
    assert_in_seed000(&text);
}

#[test]
fn visitor_variants_infinite_no_mac_reverse_off_gre() {
    let mut v = seed_visitor();
    v.lifetime_granted = INFINITE_LIFETIME;
    v.remaining_secs = None;
    v.mac_address = None;
    v.reverse_allowed = false;
    v.flags = 0x68;
    v.flags_text = "sBDmGvt".into();
    v.routing_options = vec![
        RoutingOption::Gre,
        RoutingOption::Broadcast,
        RoutingOption::DirectToMobileNode,
    ];
    v.encapsulation = EncapsulationView::Gre;
    let text = show::visitor_list(&VisitorList {
        total: 2,
        visitors: vec![v, seed_nai_visitor()],
    });
    assert_eq!(
        text,
        "\
Mobile Visitor List:
Total 2
20.0.0.1:
    Interface Ethernet1/2
    IP src 20.0.0.1, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification B7510E60.64436B38
    Lifetime INFINITE (65535) Remaining INFINITE
    Tunnel100 src 68.0.0.31, dest 66.0.0.5, reverse-off
    Routing Options - (B)Broadcast (D)Direct-to-MN (G)GRE
    user01@cisco.com
    Home addr 100.100.100.17
    Interface Ethernet3/3, MAC addr 0004.6d25.b857
    IP src 0.0.0.0, dest 100.100.100.1, UDP src port 434
    HA addr 100.100.100.100, Identification BC189864.B2FE6CC4
    Lifetime 00:33:20 (2000) Remaining 00:33:06
    Tunnel0 src 70.70.70.2, dest 100.100.100.100, reverse-allowed
    Routing Options - (B)Broadcast
    Session identifier PDA
"
    );
    assert_eq!(
        show::visitor_list(&VisitorList::default()),
        "Mobile Visitor List:\nTotal 0\n"
    );
}

#[test]
fn visitor_json_fields() {
    let v = seed_visitor();
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({
            "home_address": "20.0.0.1",
            "nai": null,
            "session_id": null,
            "interface": "Ethernet1/2",
            "mac_address": "0060.837b.95ec",
            "source_address": "20.0.0.1",
            "destination_address": "67.0.0.31",
            "source_port": 434,
            "home_agent": "66.0.0.5",
            "care_of_address": "68.0.0.31",
            "identification": 0xB751_0E60_6443_6B38_u64,
            "identification_text": "B7510E60.64436B38",
            "lifetime_granted": 30000,
            "remaining_secs": 29956,
            "tunnel": {"name": "Tunnel100", "source": "68.0.0.31", "destination": "66.0.0.5"},
            "reverse_allowed": true,
            "flags": 2,
            "flags_text": "sbdmgvT",
            "routing_options": ["reverse-tunnel"],
            "encapsulation": "ip-ip"
        })
    );
}

fn pending(home: &str, ident: u64, remaining: u64) -> PendingView {
    PendingView {
        home_address: a(home),
        nai: None,
        session_id: None,
        interface: "Ethernet1/2".into(),
        mac_address: Some("0060.837b.95ec".into()),
        source_address: a(home),
        destination_address: a("67.0.0.31"),
        source_port: 434,
        home_agent: a("66.0.0.5"),
        care_of_address: a("68.0.0.31"),
        identification: ident,
        identification_text: format!("{:08X}.{:08X}", ident >> 32, ident & 0xffff_ffff),
        lifetime_requested: 30000,
        remaining_secs: remaining,
        flags: 0x02,
        flags_text: "sbdmgvT".into(),
    }
}

#[test]
fn pending_list_and_summaries() {
    let mut nai = pending("0.0.0.0", 0xB751_0E61_0000_0001, 3);
    nai.nai = Some("user01@cisco.com".into());
    nai.session_id = Some("PDA".into());
    nai.interface = "Ethernet3/3".into();
    nai.mac_address = None;
    nai.lifetime_requested = 0;
    nai.flags = 0x40;
    nai.flags_text = String::new();
    let list = PendingList {
        total: 2,
        pending: vec![pending("20.0.0.1", 0xB751_0E60_6443_6B38, 14), nai],
    };
    assert_eq!(
        show::pending_list(&list),
        "\
Mobile Pending List:
Total 2
20.0.0.1:
    Interface Ethernet1/2, MAC addr 0060.837b.95ec
    IP src 20.0.0.1, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification B7510E60.64436B38
    Lifetime requested 08:20:00 (30000) Remaining 00:00:14
    Care-of addr 68.0.0.31, Flags sbdmgvT
    user01@cisco.com
    Home addr 0.0.0.0
    Interface Ethernet3/3
    IP src 0.0.0.0, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification B7510E61.00000001
    Lifetime requested 00:00:00 (0) Remaining 00:00:03
    Care-of addr 68.0.0.31, Flags 40
    Session identifier PDA
"
    );
    assert_eq!(
        show::visitor_summary(&VisitorSummary {
            total: 3,
            with_nai: 1,
            reverse_tunnels: 2,
            tunnels: 2,
            pending: 1,
            interfaces: vec![
                InterfaceCountView {
                    interface: "Ethernet1/2".into(),
                    count: 2,
                    limit: Some(100),
                },
                InterfaceCountView {
                    interface: "Ethernet3/3".into(),
                    count: 1,
                    limit: None,
                },
            ],
        }),
        "\
Mobile Visitor List:
Total 3
    NAI 1, Reverse tunnels 2, Tunnels 2, Pending 1
    Ethernet1/2: 2 visitors, limit 100
    Ethernet3/3: 1 visitor
"
    );
    assert_eq!(
        show::pending_summary(&PendingSummary {
            total: 2,
            mobile_nodes: 2,
            with_nai: 1,
            deregistrations: 1,
            interfaces: vec![InterfaceCountView {
                interface: "Ethernet1/2".into(),
                count: 2,
                limit: None,
            }],
        }),
        "\
Mobile Pending List:
Total 2
    Mobile nodes 2, NAI 1, Deregister 1
    Ethernet1/2: 2 requests
"
    );
    // Sparse answers read (every field of the summaries has a default).
    let s: VisitorSummary = serde_json::from_str(r#"{"total":4}"#).unwrap();
    assert_eq!(s.total, 4);
    let p: PendingSummary = serde_json::from_str("{}").unwrap();
    assert_eq!(p, PendingSummary::default());
}

/// Every FA counter a distinct number, to pin which field goes where.
fn numbered_fa() -> FaTrafficView {
    let names = [
        "solicitations_received",
        "solicitations_ignored",
        "advertisements_sent",
        "advertisements_response_to_solicitation",
        "requests_in",
        "deregister_requests_in",
        "requests_forwarded",
        "requests_denied",
        "requests_ignored",
        "unspecified",
        "ha_unreachable",
        "administratively_prohibited",
        "no_resource",
        "bad_lifetime",
        "bad_request_form",
        "unsupported_encapsulation",
        "unsupported_reverse_tunnel",
        "reverse_tunnel_mandatory",
        "invalid_care_of_address",
        "registration_timeout",
        "unsupported_delivery_style",
        "missing_home_agent",
        "missing_nai",
        "missing_home_address",
        "cvse_not_understood",
        "unknown_challenge",
        "missing_challenge",
        "stale_challenge",
        "auth_failed_mn",
        "auth_failed_ha",
        "replies_in",
        "replies_forwarded",
        "replies_bad",
        "replies_ignored",
        "replies_no_pending",
        "ignored_service_disabled",
        "ignored_interface",
        "ignored_malformed",
        "ignored_unknown_extension",
        "other_messages_ignored",
        "visitors_added",
        "visitors_deregistered",
        "visitors_expired",
        "visitors_cleared",
    ];
    let obj: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), json!(101 + i as u64)))
        .collect();
    let v: FaTrafficView = serde_json::from_value(serde_json::Value::Object(obj.clone())).unwrap();
    // Every field named: the view serialises back to exactly these.
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        serde_json::Value::Object(obj)
    );
    v
}

#[test]
fn traffic_foreign_agent_section() {
    let mut t = TrafficView::default();
    t.add_foreign_agent(numbered_fa());
    assert_eq!(
        show::traffic(&t),
        "\
IP Mobility traffic:
Advertisements:
    Solicitations received 101
    Advertisements sent 103, response to solicitation 104
Home Agent Registrations:
    Register 0, Deregister 0 requests
    Register 0, Deregister 0 replied
    Accepted 0, No simultaneous bindings 0
    Denied 0, Ignored 0
    Unspecified 0, Unknown HA 0
    Administrative prohibited 0, No resource 0
    Authentication failed MN 0, FA 0
    Bad identification 0, Bad request form 0
    Unavailable encap 0, reverse tunnel 0
    Reverse tunnel mandatory 0
    Too many bindings 0, CVSE not understood 0
    Ignored: service disabled 0, malformed 0
    Ignored: unknown extension 0, no security association 0
    Gratuitous 0, Proxy 0 ARPs sent
    Bindings expired 0, cleared 0
Foreign Agent Registrations:
    Request in 105, Forwarded 107, Denied 108, Ignored 109
    Unspecified 110, HA unreachable 111
    Administrative prohibited 112, No resource 113
    Bad lifetime 114, Bad request form 115
    Unsupported encapsulation 116, Unsupported reverse tunnel 117
    Reply in 131, Forwarded 132, Bad 133, Ignored 134
    Authentication failed MN 129, HA 130
    Unknown challenge 126, Missing challenge 127, Stale challenge 128
    Reverse tunnel mandatory 118, Invalid care-of address 119
    Registration timeout 120, Unsupported delivery style 121
    Missing home agent 122, NAI 123, home address 124
    CVSE not understood 125, Deregister requests in 106
    Ignored: service disabled 136, interface 137, malformed 138
    Ignored: unknown extension 139, other messages 140
    Replies without pending request 135, Solicitations ignored 102
    Visitors added 141, deregistered 142, expired 143, cleared 144
"
    );
    // No foreign agent: no section, and the JSON has `"foreign_agent": null`.
    let ha_only = TrafficView::default();
    assert!(!show::traffic(&ha_only).contains("Foreign Agent"));
    let j = serde_json::to_value(&ha_only).unwrap();
    assert_eq!(j["foreign_agent"], serde_json::Value::Null);
}

fn registered_node() -> NodeView {
    NodeView {
        state: NodeStateView::Registered,
        home_address: a("20.0.0.1"),
        home_agent: a("66.0.0.5"),
        nai: Some("mn1@example.net".into()),
        interface: Some("wlan0".into()),
        attachment: Some(AttachmentView::ForeignAgent),
        agent_address: Some(a("67.0.0.31")),
        care_of_address: Some(a("68.0.0.31")),
        flags_text: Some("------T-".into()),
        lifetime_requested: Some(30000),
        lifetime_granted: Some(30000),
        remaining_secs: Some(29956),
        renewal_in_secs: Some(23956),
        last_reply_code: Some(0),
        last_reply_name: Some("registration accepted".into()),
        retransmissions: 0,
        clock_offset_ms: -1500,
        counters: NodeCountersView {
            requests_sent: 3,
            retransmissions: 1,
            deregistrations_sent: 0,
            replies_received: 2,
            registrations_accepted: 1,
            denied_by_home_agent: 1,
            identification_resyncs: 1,
            advertisements_received: 12,
            advertisements_ignored: 1,
            solicitations_sent: 2,
            moves: 1,
            ..NodeCountersView::default()
        },
        agents: vec![
            HeardAgentView {
                interface: "wlan0".into(),
                address: a("67.0.0.31"),
                flags_text: "R--F---T--".into(),
                sequence: 12,
                advertisement_lifetime: 1800,
                expires_in_secs: 1790,
                last_heard_secs_ago: 10,
                registration_lifetime: 36000,
                care_of_addresses: vec![a("68.0.0.31")],
                prefixes: vec!["67.0.0.31/8".into()],
                current: true,
            },
            HeardAgentView {
                interface: "wlan0".into(),
                address: a("67.0.0.32"),
                flags_text: "-B-F------".into(),
                sequence: 300,
                advertisement_lifetime: 30,
                expires_in_secs: 25,
                last_heard_secs_ago: 5,
                registration_lifetime: INFINITE_LIFETIME,
                care_of_addresses: vec![],
                prefixes: vec![],
                current: false,
            },
        ],
    }
}

#[test]
fn node_registered_through_a_foreign_agent() {
    assert_eq!(
        show::node(&registered_node()),
        "\
Mobile Node:
    State registered
    Home addr 20.0.0.1, HA addr 66.0.0.5
    NAI mn1@example.net
    Interface wlan0, Attachment foreign agent
    FA addr 67.0.0.31, Care-of addr 68.0.0.31
    Flags ------T-, Lifetime requested 08:20:00 (30000)
    Lifetime granted 08:20:00 (30000), remaining 08:19:16, renewal in 06:39:16
    Last reply 'registration accepted' (0), Retransmissions 0
    Clock offset -1.500 secs
Counters:
    Requests sent 3, Retransmissions 1, Deregister 0
    Replies received 2, Accepted 1, Deregister accepted 0
    Denied by FA 0, by HA 1, Identification resync 1
    Replies dropped: malformed 0, unexpected 0, identification 0
    Replies dropped: other MN 0, authentication 0, unknown extension 0
    No reply 0, Bindings expired 0, Moves 1
    Advertisements received 12, ignored 1, Solicitations sent 2
    Agent reboots 0, Agents lost 0
Agents Heard:
Total 2
67.0.0.31 (current):
    Interface wlan0, Flags R--F---T--, Sequence 12
    Lifetime 00:30:00 (1800) Remaining 00:29:50, heard 00:00:10 ago
    Registration lifetime 10:00:00 (36000)
    Care-of addr 68.0.0.31
    Prefixes 67.0.0.31/8
67.0.0.32:
    Interface wlan0, Flags -B-F------, Sequence 300
    Lifetime 00:00:30 (30) Remaining 00:00:25, heard 00:00:05 ago
    Registration lifetime INFINITE (65535)
"
    );
}

#[test]
fn node_idle_and_sparse_answers() {
    // A node that has heard nothing: absent values are -none-.
    let j = json!({"state": "idle", "home_address": "20.0.0.1", "home_agent": "66.0.0.5"});
    let n: NodeView = serde_json::from_value(j).unwrap();
    assert_eq!(
        show::node(&n),
        "\
Mobile Node:
    State idle
    Home addr 20.0.0.1, HA addr 66.0.0.5
    Interface -none-, Attachment -none-
    FA addr -none-, Care-of addr -none-
    Flags -none-, Lifetime requested -none-
    Lifetime granted -none-, remaining -none-, renewal in -none-
    Last reply -none-, Retransmissions 0
Counters:
    Requests sent 0, Retransmissions 0, Deregister 0
    Replies received 0, Accepted 0, Deregister accepted 0
    Denied by FA 0, by HA 0, Identification resync 0
    Replies dropped: malformed 0, unexpected 0, identification 0
    Replies dropped: other MN 0, authentication 0, unknown extension 0
    No reply 0, Bindings expired 0, Moves 0
    Advertisements received 0, ignored 0, Solicitations sent 0
    Agent reboots 0, Agents lost 0
Agents Heard:
Total 0
"
    );
    // At home with an infinite lifetime; a state and an attachment this console does not know.
    let mut home = registered_node();
    home.state = NodeStateView::AtHome;
    home.attachment = Some(AttachmentView::Home);
    home.lifetime_granted = Some(INFINITE_LIFETIME);
    home.remaining_secs = None;
    let text = show::node(&home);
    assert!(
        text.contains("\n    Interface wlan0, Attachment home\n"),
        "{text}"
    );
    assert!(
        text.contains("\n    Lifetime granted INFINITE (65535), remaining INFINITE, "),
        "{text}"
    );
    let j = json!({"state": "hibernating", "home_address": "20.0.0.1",
                   "home_agent": "66.0.0.5", "attachment": "satellite"});
    let n: NodeView = serde_json::from_value(j).unwrap();
    assert_eq!(n.state, NodeStateView::Unknown);
    assert_eq!(n.attachment, Some(AttachmentView::Unknown));
    // The spellings are the mobile node core's.
    assert_eq!(
        serde_json::to_value(NodeStateView::AdministrativelyDown).unwrap(),
        json!("administratively-down")
    );
    assert_eq!(
        serde_json::to_value(AttachmentView::ForeignAgent).unwrap(),
        json!("foreign-agent")
    );
    let round: NodeView =
        serde_json::from_str(&serde_json::to_string(&registered_node()).unwrap()).unwrap();
    assert_eq!(round, registered_node());
}
