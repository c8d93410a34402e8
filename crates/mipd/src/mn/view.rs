//! `show ip mobile node`: the core's [`Snapshot`] as the console's [`NodeView`].
//!
//! (`mip_control::convert::mn::node_view` does the same behind mip-control's `mn` feature;
//! this copy keeps mipd's dependency line on mip-control as it is.)

use mip_control::views::{
    AttachmentView, HeardAgentView, NodeCountersView, NodeStateView, NodeView,
};
use mip_mn::{AttachmentKind, NodeState, Snapshot};

fn state(s: NodeState) -> NodeStateView {
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

fn attachment(a: AttachmentKind) -> AttachmentView {
    match a {
        AttachmentKind::Home => AttachmentView::Home,
        AttachmentKind::ForeignAgent => AttachmentView::ForeignAgent,
        AttachmentKind::Colocated => AttachmentView::Colocated,
    }
}

/// The view of a snapshot.
pub fn node_view(s: &Snapshot) -> NodeView {
    // Same field names on both sides.
    let counters: NodeCountersView = serde_json::to_value(s.counters)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    NodeView {
        state: state(s.state),
        home_address: s.home_address,
        home_agent: s.home_agent,
        nai: s.nai.clone(),
        interface: s.interface.clone(),
        attachment: s.attachment.map(attachment),
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
        counters,
        agents: s
            .agents
            .iter()
            .map(|a| HeardAgentView {
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
            })
            .collect(),
    }
}
