//! Conversions from the protocol cores' snapshots to the views, for `mipd`.
//!
//! Behind cargo features so that `mipctl` (and anything else that only speaks the protocol)
//! does not pull the cores in:
//!
//! * `fa` (optional dependency on `mip-fa`): [`fa::visitor_view`], [`fa::visitor_list`],
//!   [`fa::pending_view`], [`fa::pending_list`], [`fa::visitor_summary`],
//!   [`fa::pending_summary`], [`fa::traffic_view`], [`fa::violation_view`].
//! * `mn` (optional dependency on `mip-mn`): [`mn::node_view`].
//!
//! No cycle: neither core depends on `mip-control`. `mipd` enables the features it needs:
//! `mip-control = { workspace = true, features = ["fa", "mn"] }`. The same conversions are
//! exercised against real cores in `crates/mipctl/tests/show_fa_mn_core.rs`.
//!
//! The always-available helpers ([`request_flags_text`], [`routing_options_from_flags`]) need
//! no core.

use crate::views::RoutingOption;

/// The router's flag letters of a Registration Request flags byte, upper case when set:
/// `SbdmGvt` (S B D M G V T; the same as `mip_ha::snapshot::flags_text`).
pub fn request_flags_text(flags: u8) -> String {
    const LETTERS: [(u8, char); 7] = [
        (0x80, 'S'),
        (0x40, 'B'),
        (0x20, 'D'),
        (0x10, 'M'),
        (0x08, 'G'),
        (0x04, 'V'),
        (0x02, 'T'),
    ];
    LETTERS
        .iter()
        .map(|&(bit, c)| {
            if flags & bit != 0 {
                c
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The router's notation of an Identification: `B7510E60.64436B38` (as
/// `mip_wire::ident::Identification`'s `Display`).
pub fn identification_text(id: u64) -> String {
    format!("{:08X}.{:08X}", id >> 32, id & 0xffff_ffff)
}

/// The routing options of a visitor: S B D M G from the request flags (as the foreign agent
/// core's `routing_options` letters), T when the reverse tunnel was granted.
pub fn routing_options_from_flags(flags: u8, reverse_tunnel: bool) -> Vec<RoutingOption> {
    const OPTIONS: [(u8, RoutingOption); 5] = [
        (0x80, RoutingOption::SimultaneousBindings),
        (0x40, RoutingOption::Broadcast),
        (0x20, RoutingOption::DirectToMobileNode),
        (0x10, RoutingOption::MinimalEncapsulation),
        (0x08, RoutingOption::Gre),
    ];
    let mut v: Vec<RoutingOption> = OPTIONS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, o)| o)
        .collect();
    if reverse_tunnel {
        v.push(RoutingOption::ReverseTunnel);
    }
    v
}

/// Foreign agent: `mip_fa` snapshots to views.
#[cfg(feature = "fa")]
pub mod fa {
    use super::{request_flags_text, routing_options_from_flags};
    use crate::views::*;
    use mip_fa::{Counters, PendingSnapshot, Violation, VisitorSnapshot};
    use std::collections::BTreeSet;

    /// One visitor. `tunnel_name` is the name of the daemon's tunnel interface from the
    /// care-of address to the home agent (`Tunnel0`; the core does not name tunnels).
    pub fn visitor_view(v: &VisitorSnapshot, tunnel_name: &str) -> VisitorView {
        VisitorView {
            home_address: v.home_address,
            nai: v.nai.clone(),
            session_id: v.session_id.clone(),
            interface: v.interface.clone(),
            mac_address: v.mac_text.clone(),
            source_address: *v.source.ip(),
            destination_address: v.destination,
            source_port: v.source.port(),
            home_agent: v.home_agent,
            care_of_address: v.care_of_address,
            identification: v.identification,
            identification_text: v.identification_text.clone(),
            lifetime_granted: u32::from(v.lifetime_granted),
            remaining_secs: v.remaining_secs,
            tunnel: TunnelRefView {
                name: tunnel_name.to_string(),
                source: v.tunnel_source,
                destination: v.tunnel_destination,
            },
            reverse_allowed: v.reverse_tunnel,
            flags: v.flags,
            flags_text: request_flags_text(v.flags),
            routing_options: routing_options_from_flags(v.flags, v.reverse_tunnel),
            encapsulation: EncapsulationView::from_protocol(u8::from(v.encapsulation))
                .unwrap_or(EncapsulationView::IpIp),
        }
    }

    /// `show ip mobile visitor [...]`: the visitors given (already filtered), in home address
    /// order. `tunnel_name` names the tunnel of a visitor (see [`visitor_view`]).
    pub fn visitor_list(
        visitors: &[VisitorSnapshot],
        tunnel_name: impl Fn(&VisitorSnapshot) -> String,
    ) -> VisitorList {
        let mut list: Vec<VisitorView> = visitors
            .iter()
            .map(|v| visitor_view(v, &tunnel_name(v)))
            .collect();
        list.sort_by(|a, b| {
            (a.home_address, &a.nai, &a.session_id).cmp(&(b.home_address, &b.nai, &b.session_id))
        });
        VisitorList {
            total: list.len() as u64,
            visitors: list,
        }
    }

    /// The filter of `show ip mobile visitor` on the core's visitors (for `All`, `Address`
    /// and `Nai`; the other filters answer other views).
    pub fn visitor_matches(v: &VisitorSnapshot, filter: &crate::VisitorFilter) -> bool {
        use crate::VisitorFilter as F;
        match filter {
            F::All | F::Summary => true,
            F::Address { address } => v.home_address == *address,
            F::Nai { nai, session_id } => {
                v.nai.as_deref() == Some(nai.as_str())
                    && session_id
                        .as_ref()
                        .is_none_or(|s| v.session_id.as_deref() == Some(s.as_str()))
            }
            F::Pending { .. } | F::PendingSummary => false,
        }
    }

    /// One pending request.
    pub fn pending_view(p: &PendingSnapshot) -> PendingView {
        PendingView {
            home_address: p.home_address,
            nai: p.nai.clone(),
            session_id: p.session_id.clone(),
            interface: p.interface.clone(),
            mac_address: p.mac_text.clone(),
            source_address: *p.source.ip(),
            destination_address: p.destination,
            source_port: p.source.port(),
            home_agent: p.home_agent,
            care_of_address: p.care_of_address,
            identification: p.identification,
            identification_text: p.identification_text.clone(),
            lifetime_requested: u32::from(p.lifetime_requested),
            remaining_secs: p.remaining_secs,
            flags: p.flags,
            flags_text: request_flags_text(p.flags),
        }
    }

    /// `show ip mobile visitor pending [A]`: the pending requests, those of home address
    /// `address` when given, in the core's order (oldest first).
    pub fn pending_list(
        pending: &[PendingSnapshot],
        address: Option<std::net::Ipv4Addr>,
    ) -> PendingList {
        let list: Vec<PendingView> = pending
            .iter()
            .filter(|p| address.is_none_or(|a| p.home_address == a))
            .map(pending_view)
            .collect();
        PendingList {
            total: list.len() as u64,
            pending: list,
        }
    }

    fn per_interface<'a>(
        names: impl Iterator<Item = &'a str>,
        interfaces: &[mip_fa::InterfaceSnapshot],
    ) -> Vec<InterfaceCountView> {
        let mut out: Vec<InterfaceCountView> = Vec::new();
        for n in names {
            match out.iter_mut().find(|c| c.interface == n) {
                Some(c) => c.count += 1,
                None => out.push(InterfaceCountView {
                    interface: n.to_string(),
                    count: 1,
                    limit: interfaces
                        .iter()
                        .find(|i| i.name == n)
                        .and_then(|i| i.visitor_limit),
                }),
            }
        }
        out.sort_by(|a, b| a.interface.cmp(&b.interface));
        out
    }

    /// `show ip mobile visitor summary`. `interfaces` (`ForeignAgent::interfaces`) gives the
    /// limits; `pending` is `ForeignAgent::pending_count`.
    pub fn visitor_summary(
        visitors: &[VisitorSnapshot],
        pending: usize,
        interfaces: &[mip_fa::InterfaceSnapshot],
    ) -> VisitorSummary {
        let tunnels: BTreeSet<_> = visitors
            .iter()
            .map(|v| (v.tunnel_source, v.tunnel_destination))
            .collect();
        VisitorSummary {
            total: visitors.len() as u64,
            with_nai: visitors.iter().filter(|v| v.nai.is_some()).count() as u64,
            reverse_tunnels: visitors.iter().filter(|v| v.reverse_tunnel).count() as u64,
            tunnels: tunnels.len() as u64,
            pending: pending as u64,
            interfaces: per_interface(visitors.iter().map(|v| v.interface.as_str()), interfaces),
        }
    }

    /// `show ip mobile visitor pending summary`.
    pub fn pending_summary(
        pending: &[PendingSnapshot],
        interfaces: &[mip_fa::InterfaceSnapshot],
    ) -> PendingSummary {
        let nodes: BTreeSet<_> = pending
            .iter()
            .map(|p| (p.nai.clone(), p.home_address))
            .map(|(nai, h)| match nai {
                Some(n) => (Some(n), None),
                None => (None, Some(h)),
            })
            .collect();
        PendingSummary {
            total: pending.len() as u64,
            mobile_nodes: nodes.len() as u64,
            with_nai: pending.iter().filter(|p| p.nai.is_some()).count() as u64,
            deregistrations: pending.iter().filter(|p| p.lifetime_requested == 0).count() as u64,
            interfaces: per_interface(pending.iter().map(|p| p.interface.as_str()), interfaces),
        }
    }

    /// The foreign agent's counters (same field names).
    pub fn fa_traffic_view(c: &Counters) -> FaTrafficView {
        FaTrafficView {
            solicitations_received: c.solicitations_received,
            solicitations_ignored: c.solicitations_ignored,
            advertisements_sent: c.advertisements_sent,
            advertisements_response_to_solicitation: c.advertisements_response_to_solicitation,
            requests_in: c.requests_in,
            deregister_requests_in: c.deregister_requests_in,
            requests_forwarded: c.requests_forwarded,
            requests_denied: c.requests_denied,
            requests_ignored: c.requests_ignored,
            unspecified: c.unspecified,
            ha_unreachable: c.ha_unreachable,
            administratively_prohibited: c.administratively_prohibited,
            no_resource: c.no_resource,
            bad_lifetime: c.bad_lifetime,
            bad_request_form: c.bad_request_form,
            unsupported_encapsulation: c.unsupported_encapsulation,
            unsupported_reverse_tunnel: c.unsupported_reverse_tunnel,
            reverse_tunnel_mandatory: c.reverse_tunnel_mandatory,
            invalid_care_of_address: c.invalid_care_of_address,
            registration_timeout: c.registration_timeout,
            unsupported_delivery_style: c.unsupported_delivery_style,
            missing_home_agent: c.missing_home_agent,
            missing_nai: c.missing_nai,
            missing_home_address: c.missing_home_address,
            cvse_not_understood: c.cvse_not_understood,
            unknown_challenge: c.unknown_challenge,
            missing_challenge: c.missing_challenge,
            stale_challenge: c.stale_challenge,
            auth_failed_mn: c.auth_failed_mn,
            auth_failed_ha: c.auth_failed_ha,
            replies_in: c.replies_in,
            replies_forwarded: c.replies_forwarded,
            replies_bad: c.replies_bad,
            replies_ignored: c.replies_ignored,
            replies_no_pending: c.replies_no_pending,
            ignored_service_disabled: c.ignored_service_disabled,
            ignored_interface: c.ignored_interface,
            ignored_malformed: c.ignored_malformed,
            ignored_unknown_extension: c.ignored_unknown_extension,
            other_messages_ignored: c.other_messages_ignored,
            visitors_added: c.visitors_added,
            visitors_deregistered: c.visitors_deregistered,
            visitors_expired: c.visitors_expired,
            visitors_cleared: c.visitors_cleared,
        }
    }

    /// `show ip mobile traffic` with the foreign agent's counters: `home_agent` is the home
    /// agent's part when the daemon runs one (else the default, zeros), to which the foreign
    /// agent's section and its solicitation/advertisement counts are added.
    pub fn traffic_view(home_agent: Option<TrafficView>, c: &Counters) -> TrafficView {
        let mut t = home_agent.unwrap_or_default();
        t.add_foreign_agent(fa_traffic_view(c));
        t
    }

    /// One entry of the foreign agent's violation log.
    pub fn violation_view(v: &Violation) -> ViolationView {
        ViolationView {
            address: v.address,
            nai: v.nai.clone(),
            foreign_agent: false,
            home_agent: v.home_agent,
            time_ms: v.time_ms,
            spi: v.spi,
            identification: v.identification,
            identification_text: super::identification_text(v.identification),
            code: v.code,
            reason: v.reason.into(),
        }
    }

    /// `show ip mobile violation` of a foreign agent (`ForeignAgent::violations`,
    /// `violations_total`).
    pub fn violation_list<'a>(
        total: u64,
        log: impl IntoIterator<Item = &'a Violation>,
    ) -> ViolationList {
        ViolationList {
            total,
            violations: log.into_iter().map(violation_view).collect(),
        }
    }
}

/// Mobile node: `mip_mn::Snapshot` to [`NodeView`](crate::views::NodeView).
#[cfg(feature = "mn")]
pub mod mn {
    use crate::views::*;
    use mip_mn::{AgentSnapshot, AttachmentKind, Counters, NodeState, Snapshot};

    /// The state.
    pub fn state_view(s: NodeState) -> NodeStateView {
        match s {
            NodeState::Idle => NodeStateView::Idle,
            NodeState::Discovering => NodeStateView::Discovering,
            NodeState::Registering => NodeStateView::Registering,
            NodeState::Registered => NodeStateView::Registered,
            NodeState::Renewing => NodeStateView::Renewing,
            NodeState::Denied => NodeStateView::Denied,
            NodeState::NoReply => NodeStateView::NoReply,
            NodeState::Deregistering => NodeStateView::Deregistering,
            NodeState::AtHome => NodeStateView::AtHome,
            NodeState::AdministrativelyDown => NodeStateView::AdministrativelyDown,
        }
    }

    /// The attachment.
    pub fn attachment_view(a: AttachmentKind) -> AttachmentView {
        match a {
            AttachmentKind::Home => AttachmentView::Home,
            AttachmentKind::ForeignAgent => AttachmentView::ForeignAgent,
            AttachmentKind::Colocated => AttachmentView::Colocated,
        }
    }

    /// The counters (same field names).
    pub fn counters_view(c: &Counters) -> NodeCountersView {
        NodeCountersView {
            requests_sent: c.requests_sent,
            retransmissions: c.retransmissions,
            deregistrations_sent: c.deregistrations_sent,
            replies_received: c.replies_received,
            registrations_accepted: c.registrations_accepted,
            deregistrations_accepted: c.deregistrations_accepted,
            denied_by_foreign_agent: c.denied_by_foreign_agent,
            denied_by_home_agent: c.denied_by_home_agent,
            identification_resyncs: c.identification_resyncs,
            replies_malformed: c.replies_malformed,
            replies_unexpected: c.replies_unexpected,
            replies_identification_mismatch: c.replies_identification_mismatch,
            replies_wrong_mobile_node: c.replies_wrong_mobile_node,
            replies_failed_authentication: c.replies_failed_authentication,
            replies_unknown_extension: c.replies_unknown_extension,
            no_reply: c.no_reply,
            bindings_expired: c.bindings_expired,
            advertisements_received: c.advertisements_received,
            advertisements_ignored: c.advertisements_ignored,
            agent_reboots: c.agent_reboots,
            agents_lost: c.agents_lost,
            solicitations_sent: c.solicitations_sent,
            moves: c.moves,
        }
    }

    /// An agent heard.
    pub fn agent_view(a: &AgentSnapshot) -> HeardAgentView {
        HeardAgentView {
            interface: a.interface.clone(),
            address: a.address,
            flags_text: a.flags.clone(),
            sequence: a.sequence,
            advertisement_lifetime: u32::from(a.advertisement_lifetime),
            expires_in_secs: a.expires_in_secs,
            last_heard_secs_ago: a.last_heard_secs_ago,
            registration_lifetime: u32::from(a.registration_lifetime),
            care_of_addresses: a.care_of_addresses.clone(),
            prefixes: a.prefixes.clone(),
            current: a.current,
        }
    }

    /// `show ip mobile node` (`MobileNode::snapshot(now)`).
    pub fn node_view(s: &Snapshot) -> NodeView {
        NodeView {
            state: state_view(s.state),
            home_address: s.home_address,
            home_agent: s.home_agent,
            nai: s.nai.clone(),
            interface: s.interface.clone(),
            attachment: s.attachment.map(attachment_view),
            agent_address: s.foreign_agent,
            care_of_address: s.care_of_address,
            flags_text: s.flags.clone(),
            lifetime_requested: s.lifetime_requested.map(u32::from),
            lifetime_granted: s.lifetime_granted.map(u32::from),
            remaining_secs: s.lifetime_remaining_secs,
            renewal_in_secs: s.renewal_in_secs,
            last_reply_code: s.last_reply_code,
            last_reply_name: s.last_reply_name.clone(),
            retransmissions: s.retransmissions,
            clock_offset_ms: if s.clock_offset_secs.is_finite() {
                (s.clock_offset_secs * 1000.0).round() as i64
            } else {
                0
            },
            counters: counters_view(&s.counters),
            agents: s.agents.iter().map(agent_view).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_notations() {
        assert_eq!(request_flags_text(0x88), "SbdmGvt");
        assert_eq!(request_flags_text(0x02), "sbdmgvT");
        assert_eq!(
            identification_text(0xB751_0E60_6443_6B38),
            "B7510E60.64436B38"
        );
        assert_eq!(
            routing_options_from_flags(0x48, true),
            vec![
                RoutingOption::Broadcast,
                RoutingOption::Gre,
                RoutingOption::ReverseTunnel
            ]
        );
        assert!(routing_options_from_flags(0x02, false).is_empty());
    }
}
