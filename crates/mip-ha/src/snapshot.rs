//! What operators see: counters (`show ip mobile traffic`), per-host counters (`show ip
//! mobile host counters`), the violation log (`show ip mobile violation`) and bindings (`show
//! ip mobile binding`). All serialise to JSON.

use std::net::{Ipv4Addr, SocketAddrV4};

use mip_wire::codes::Encapsulation;
use mip_wire::ident::Identification;

use crate::output::{TunnelEndpoints, TunnelId};
use crate::rejection::{Counter, ViolationReason};

/// The home agent counters of `show ip mobile traffic` (seed 002), and a few more. Every
/// datagram handed to the home agent is counted once as a register or deregister request
/// (lifetime 0 or care-of address = home address); each one is then either replied (and
/// counted as accepted or under its denial reason) or ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// "Register N ... requests".
    pub register_requests: u64,
    /// "Deregister N requests".
    pub deregister_requests: u64,
    /// "Register N ... replied".
    pub register_replied: u64,
    /// "Deregister N replied".
    pub deregister_replied: u64,
    /// "Accepted N" (code 0).
    pub accepted: u64,
    /// "No simultaneous bindings N" (code 1).
    pub no_simultaneous_bindings: u64,
    /// "Denied N": every reply with a code of 128 and above.
    pub denied: u64,
    /// "Ignored N": discarded without reply.
    pub ignored: u64,
    /// "Unspecified N" (128).
    pub unspecified: u64,
    /// "Unknown HA N" (136).
    pub unknown_ha: u64,
    /// "Administrative prohibited N" (129).
    pub administratively_prohibited: u64,
    /// "No resource N" (130).
    pub no_resource: u64,
    /// "Authentication failed MN N" (131).
    pub auth_failed_mn: u64,
    /// "Authentication failed ... FA N" (132).
    pub auth_failed_fa: u64,
    /// "Bad identification N" (133).
    pub bad_identification: u64,
    /// "Bad request form N" (134).
    pub bad_request_form: u64,
    /// Too many simultaneous bindings (135).
    pub too_many_bindings: u64,
    /// Reverse tunnel unavailable (137).
    pub reverse_tunnel_unavailable: u64,
    /// Reverse tunnel mandatory (138).
    pub reverse_tunnel_mandatory: u64,
    /// Encapsulation unavailable (139).
    pub encapsulation_unavailable: u64,
    /// CVSE not understood (140, 141).
    pub cvse_not_understood: u64,
    /// Ignored because home agent service is off.
    pub ignored_service_disabled: u64,
    /// Ignored because the datagram could not be parsed (poorly formed beyond replying).
    pub ignored_malformed: u64,
    /// Ignored because of an unknown non-skippable extension.
    pub ignored_unknown_extension: u64,
    /// Ignored because there is no security association for the mobile node.
    pub ignored_no_security_association: u64,
    /// Gratuitous ARPs requested.
    pub gratuitous_arps: u64,
    /// Proxy ARP entries started.
    pub proxy_arps: u64,
    /// Bindings removed by lifetime expiry.
    pub bindings_expired: u64,
    /// Bindings removed by `clear ip mobile binding`.
    pub bindings_cleared: u64,
}

macro_rules! counter_fields {
    ($m:ident) => {
        $m!(
            register_requests,
            deregister_requests,
            register_replied,
            deregister_replied,
            accepted,
            no_simultaneous_bindings,
            denied,
            ignored,
            unspecified,
            unknown_ha,
            administratively_prohibited,
            no_resource,
            auth_failed_mn,
            auth_failed_fa,
            bad_identification,
            bad_request_form,
            too_many_bindings,
            reverse_tunnel_unavailable,
            reverse_tunnel_mandatory,
            encapsulation_unavailable,
            cvse_not_understood,
            ignored_service_disabled,
            ignored_malformed,
            ignored_unknown_extension,
            ignored_no_security_association,
            gratuitous_arps,
            proxy_arps,
            bindings_expired,
            bindings_cleared
        )
    };
}

impl Counters {
    /// Adds `other` field by field (used by `clear ip mobile traffic undo`).
    pub fn add(&mut self, other: &Counters) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += other.$f; )* };
        }
        counter_fields!(add);
    }

    pub(crate) fn bump(&mut self, c: Counter) {
        match c {
            Counter::IgnoredServiceDisabled => self.ignored_service_disabled += 1,
            Counter::IgnoredMalformed => self.ignored_malformed += 1,
            Counter::IgnoredUnknownExtension => self.ignored_unknown_extension += 1,
            Counter::IgnoredNoSecurityAssociation => self.ignored_no_security_association += 1,
            Counter::Unspecified => self.unspecified += 1,
            Counter::AdministrativelyProhibited => self.administratively_prohibited += 1,
            Counter::NoResource => self.no_resource += 1,
            Counter::AuthFailedMobileNode => self.auth_failed_mn += 1,
            Counter::AuthFailedForeignAgent => self.auth_failed_fa += 1,
            Counter::BadIdentification => self.bad_identification += 1,
            Counter::BadRequestForm => self.bad_request_form += 1,
            Counter::TooManyBindings => self.too_many_bindings += 1,
            Counter::UnknownHomeAgent => self.unknown_ha += 1,
            Counter::ReverseTunnelUnavailable => self.reverse_tunnel_unavailable += 1,
            Counter::ReverseTunnelMandatory => self.reverse_tunnel_mandatory += 1,
            Counter::EncapsulationUnavailable => self.encapsulation_unavailable += 1,
            Counter::CvseNotUnderstood => self.cvse_not_understood += 1,
        }
    }
}

/// Per mobile node counters (`show ip mobile host counters`), by home address. The home agent
/// keeps them more compactly (21 bytes per mobile node): the counts saturate at `u32::MAX`,
/// and the times are kept to the second (the milliseconds here are always whole seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HostCounters {
    /// Accepted registrations.
    pub accepted: u32,
    /// When the last one was accepted (ms since the Unix epoch, to the second), 0 for never.
    pub last_accepted_ms: u64,
    /// Denied registrations.
    pub denied: u32,
    /// When the last one was denied (ms since the Unix epoch, to the second), 0 for never.
    pub last_denied_ms: u64,
    /// Code of the last denial.
    pub last_code: u8,
    /// Security violations.
    pub violations: u32,
}

/// One entry of the violation log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The mobile node's home address or the foreign agent's address.
    pub address: Ipv4Addr,
    /// The NAI, for a mobile node that sent one.
    pub nai: Option<String>,
    /// Whether `address` is a foreign agent.
    pub foreign_agent: bool,
    /// When (ms since the Unix epoch).
    pub time_ms: u64,
    /// The SPI of the failing extension (0 when missing).
    pub spi: u32,
    /// The request's Identification.
    pub identification: u64,
    /// The reply code sent.
    pub code: u8,
    /// Why.
    pub reason: ViolationReason,
}

/// A binding as `show ip mobile binding` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BindingSnapshot {
    /// Home address.
    pub home_address: Ipv4Addr,
    /// Care-of address.
    pub care_of_address: Ipv4Addr,
    /// Source address and port of the last accepted request ("Src Addr").
    pub source: SocketAddrV4,
    /// Home agent address.
    pub home_agent: Ipv4Addr,
    /// Lifetime granted, seconds (65535 = infinite).
    pub lifetime_granted: u16,
    /// Seconds left (rounded down); `None` for an infinite lifetime.
    pub remaining_secs: Option<u64>,
    /// Request flags byte.
    pub flags: u8,
    /// Flags in the router's notation: `SbdmGvt` (upper case = set; v is the reserved r bit).
    pub flags_text: String,
    /// Identification of the last accepted request.
    pub identification: u64,
    /// The router's notation of the identification: `B750FAC4.C28F56A8`.
    pub identification_text: String,
    /// NAI, when the mobile node registered with one.
    pub nai: Option<String>,
    /// Session identifier.
    pub session_id: Option<String>,
    /// The tunnel.
    pub tunnel: TunnelId,
    /// Its ends.
    pub tunnel_endpoints: TunnelEndpoints,
    /// Encapsulation (serialised as the IP protocol number: 4, 47, 55).
    #[serde(serialize_with = "ser_encap")]
    pub encapsulation: Encapsulation,
    /// Reverse tunnel granted ("reverse-allowed").
    pub reverse_tunnel: bool,
    /// Broadcasts forwarded.
    pub broadcast: bool,
    /// Decapsulation by the mobile node (D).
    pub direct_to_mobile_node: bool,
    /// Home link interface (`None` on a virtual network).
    pub interface: Option<String>,
}

/// The router's flag letters: upper case when set.
pub fn flags_text(flags: u8) -> String {
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

/// Serialises an [`Encapsulation`] as its IP protocol number.
pub(crate) fn ser_encap<S: serde::Serializer>(e: &Encapsulation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(u8::from(*e))
}

/// Serialises a replay state as `{last_accepted, issued_nonce}`.
pub(crate) fn ser_replay<S: serde::Serializer>(
    r: &mip_security::ReplayState,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("ReplayState", 2)?;
    st.serialize_field("last_accepted", &r.last_accepted)?;
    st.serialize_field("issued_nonce", &r.issued_nonce)?;
    st.end()
}

pub(crate) fn ident_text(id: u64) -> String {
    Identification(id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_flag_notation() {
        assert_eq!(flags_text(0x88), "SbdmGvt");
        assert_eq!(flags_text(0x22), "sbDmgvT");
    }

    #[test]
    fn add_is_field_by_field() {
        let mut a = Counters {
            accepted: 1,
            ignored: 2,
            ..Counters::default()
        };
        a.add(&Counters {
            accepted: 5,
            bindings_cleared: 1,
            ..Counters::default()
        });
        assert_eq!((a.accepted, a.ignored, a.bindings_cleared), (6, 2, 1));
    }
}
