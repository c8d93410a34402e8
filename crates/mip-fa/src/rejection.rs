//! Why the foreign agent did not relay a request or a reply, and the one place that maps each
//! reason to what it does about it: discard silently or answer the mobile node with a code,
//! which counter moves, and whether a security violation is logged (seed 002: "Security
//! violation is logged when visiting mobile node authentication fails").

use mip_wire::codes::ReplyCode;

use crate::output::UnreachableKind;

/// Why a request (or the reply to it) was not relayed. Every variant is handled by
/// [`Rejection::disposition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    // ---- requests, silently discarded -----------------------------------------------------
    /// Foreign agent service is off: no `router mobile`, no `ip mobile foreign-agent`, no
    /// care-of interface configured, or none of them up (seed 002: "the foreign agent will
    /// ignore requests when foreign agent service is not enabled on interface or no care-of
    /// address is advertised").
    ServiceDisabled,
    /// The request arrived on an interface without `ip mobile foreign-service` (or one the
    /// agent does not know, or one that is down).
    NotForeignServiceInterface,
    /// Not a Registration Request, or its fixed part is cut short: there is nobody to answer.
    Malformed,
    /// A non-skippable extension this agent does not recognise, in the part of the request
    /// meant for the foreign agent (after the MN-HA extension): RFC 5944 §1.9 silent discard.
    UnknownNonSkippableExtension(u8),

    // ---- requests, answered ---------------------------------------------------------------
    /// Extensions that do not frame, reserved flag bits set (RFC 5944 §3.7.2.1), M and G both
    /// set, or no MN-HA (or MN-AAA) authentication extension: 70.
    PoorlyFormedRequest,
    /// A visitor security association exists and the MN-FA authentication failed: 67 (RFC 5944
    /// §3.7.2.1), with a violation.
    MobileNodeAuthentication(AuthFailure),
    /// The lifetime asked is longer than the registration lifetime advertised on the link:
    /// 69.
    LifetimeTooLong,
    /// `ip mobile foreign-service home-access ACL` denies the home agent: 65.
    HomeAccessDenied,
    /// `ip mobile foreign-service limit N` visitors reached on the link: 66.
    VisitorLimit,
    /// Five requests of this mobile node already pending (seed 002: "At most, five outstanding
    /// pending requests per mobile node are allowed"): 66.
    PendingLimitPerMobileNode,
    /// The pending table is full: 66.
    PendingTableFull,
    /// M or G asked for an encapsulation this agent does not decapsulate: 72.
    EncapsulationUnavailable,
    /// T set and reverse tunnelling not offered on the link: 74 (RFC 3024 §4.2).
    ReverseTunnelUnavailable,
    /// T clear and `reverse-tunnel mandatory`: 75 (RFC 3024 §4.2).
    ReverseTunnelMandatory,
    /// The care-of address is not one this agent advertises (D clear): 77.
    InvalidCareOfAddress,
    /// An Encapsulating Delivery Style extension and the agent does not offer that style: 79
    /// (RFC 3024 §4.2).
    DeliveryStyleNotSupported,
    /// The Home Agent field is zero, broadcast or multicast and the request carries no NAI:
    /// 90 (the agent does not do dynamic home agent assignment).
    NonZeroHomeAgentRequired,
    /// Home Address 0.0.0.0 and no NAI extension: 97 (RFC 2794 §2).
    MissingNai,
    /// An NAI request whose Home Agent field is zero, broadcast or multicast: 98 (RFC 2794).
    MissingHomeAgent,
    /// A Critical Vendor/Organization Specific Extension meant for the foreign agent (after the
    /// MN-HA extension) that it does not understand: 100 (RFC 3115 §2).
    CvseFromMobileNode,
    /// The MN-FA challenge is not one this agent issued: 104 (RFC 3012 §3.2).
    UnknownChallenge,
    /// The agent advertises challenges and the request has none: 105 (RFC 3012 §3.2).
    MissingChallenge,
    /// The challenge was issued too long ago, or was already used: 106 (RFC 3012 §3.2).
    StaleChallenge,
    /// The relayed request could not be built (it would exceed the largest UDP payload once
    /// the FA-HA extension is appended): 64.
    Unspecified,

    // ---- replies and pending requests -----------------------------------------------------
    /// A security association exists with the home agent and the reply's FA-HA
    /// authentication failed: the reply is discarded and the mobile node gets 68 (RFC 5944
    /// §3.7.3.1), with a violation.
    HomeAgentAuthentication(AuthFailure),
    /// The reply's extensions do not frame: the mobile node gets 71.
    PoorlyFormedReply,
    /// A CVSE from the home agent meant for the foreign agent that it does not understand: the
    /// mobile node gets 101 (RFC 3115 §2).
    CvseFromHomeAgent,
    /// The home agent accepted an NAI registration without giving a home address: the mobile
    /// node gets 99 (RFC 2794).
    MissingHomeAddress,
    /// No reply within `reg-wait` seconds: the pending entry is dropped and the mobile node
    /// gets 78.
    RegistrationTimeout,
    /// An ICMP error came back for the relayed request: 80, 81, 82 or 88.
    HomeAgentUnreachable(UnreachableKind),
    /// A reply that matches no pending request (RFC 5944 §3.7.3.1): silently discarded.
    NoPendingRequest,
    /// A reply whose fixed part is cut short, or with an unknown non-skippable extension after
    /// the MN-HA extension: silently discarded.
    MalformedReply,
}

pub use mip_security::violation::{AuthFailure, ViolationReason};

/// The counter a rejection moves (besides the totals: denied, ignored, replies ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Ignored: service off.
    IgnoredServiceDisabled,
    /// Ignored: not a foreign-service interface.
    IgnoredInterface,
    /// Ignored: not parseable.
    IgnoredMalformed,
    /// Ignored: unknown non-skippable extension.
    IgnoredUnknownExtension,
    /// 64.
    Unspecified,
    /// 65.
    AdministrativelyProhibited,
    /// 66.
    NoResource,
    /// 67.
    AuthFailedMobileNode,
    /// 68.
    AuthFailedHomeAgent,
    /// 69.
    BadLifetime,
    /// 70.
    BadRequestForm,
    /// 71.
    BadReplyForm,
    /// 72.
    UnsupportedEncapsulation,
    /// 74.
    UnsupportedReverseTunnel,
    /// 75.
    ReverseTunnelMandatory,
    /// 77.
    InvalidCareOfAddress,
    /// 78.
    RegistrationTimeout,
    /// 79.
    UnsupportedDeliveryStyle,
    /// 80, 81, 82, 88.
    HomeAgentUnreachable,
    /// 90, 98.
    MissingHomeAgent,
    /// 97.
    MissingNai,
    /// 99.
    MissingHomeAddress,
    /// 100, 101.
    CvseNotUnderstood,
    /// 104.
    UnknownChallenge,
    /// 105.
    MissingChallenge,
    /// 106.
    StaleChallenge,
    /// Reply matching no pending request.
    ReplyNoPending,
    /// Reply not parseable or with an unknown non-skippable extension.
    ReplyMalformed,
}

/// Which side a rejection is about: the request (counted as denied or ignored requests) or the
/// reply / pending entry (counted with the replies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A Registration Request from a mobile node.
    Request,
    /// A Registration Reply from a home agent, or a pending request that got none.
    Reply,
}

/// What to do about a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disposition {
    /// `None`: discard silently; `Some(code)`: send the mobile node a reply with it.
    pub code: Option<ReplyCode>,
    /// The counter to move.
    pub counter: Counter,
    /// A security violation to log.
    pub violation: Option<ViolationReason>,
    /// The side it counts on.
    pub side: Side,
}

impl Rejection {
    /// THE mapping from rejection to reply code, counter and violation.
    pub fn disposition(self) -> Disposition {
        use Counter as C;
        use ReplyCode as R;
        use Side::{Reply, Request};
        let (code, counter, violation, side) = match self {
            Rejection::ServiceDisabled => (None, C::IgnoredServiceDisabled, None, Request),
            Rejection::NotForeignServiceInterface => (None, C::IgnoredInterface, None, Request),
            Rejection::Malformed => (None, C::IgnoredMalformed, None, Request),
            Rejection::UnknownNonSkippableExtension(_) => {
                (None, C::IgnoredUnknownExtension, None, Request)
            }
            Rejection::PoorlyFormedRequest => (
                Some(R::FaPoorlyFormedRequest),
                C::BadRequestForm,
                None,
                Request,
            ),
            Rejection::MobileNodeAuthentication(f) => (
                Some(R::FaMobileNodeFailedAuthentication),
                C::AuthFailedMobileNode,
                Some(f.into()),
                Request,
            ),
            Rejection::LifetimeTooLong => {
                (Some(R::FaLifetimeTooLong), C::BadLifetime, None, Request)
            }
            Rejection::HomeAccessDenied => (
                Some(R::FaAdministrativelyProhibited),
                C::AdministrativelyProhibited,
                None,
                Request,
            ),
            Rejection::VisitorLimit
            | Rejection::PendingLimitPerMobileNode
            | Rejection::PendingTableFull => (
                Some(R::FaInsufficientResources),
                C::NoResource,
                None,
                Request,
            ),
            Rejection::EncapsulationUnavailable => (
                Some(R::FaEncapsulationUnavailable),
                C::UnsupportedEncapsulation,
                None,
                Request,
            ),
            Rejection::ReverseTunnelUnavailable => (
                Some(R::FaReverseTunnelUnavailable),
                C::UnsupportedReverseTunnel,
                None,
                Request,
            ),
            Rejection::ReverseTunnelMandatory => (
                Some(R::FaReverseTunnelMandatory),
                C::ReverseTunnelMandatory,
                None,
                Request,
            ),
            Rejection::InvalidCareOfAddress => (
                Some(R::FaInvalidCareOfAddress),
                C::InvalidCareOfAddress,
                None,
                Request,
            ),
            Rejection::DeliveryStyleNotSupported => (
                Some(R::FaDeliveryStyleNotSupported),
                C::UnsupportedDeliveryStyle,
                None,
                Request,
            ),
            Rejection::NonZeroHomeAgentRequired => (
                Some(R::FaNonZeroHomeAgentRequired),
                C::MissingHomeAgent,
                None,
                Request,
            ),
            Rejection::MissingNai => (Some(R::FaMissingNai), C::MissingNai, None, Request),
            Rejection::MissingHomeAgent => (
                Some(R::FaMissingHomeAgent),
                C::MissingHomeAgent,
                None,
                Request,
            ),
            Rejection::CvseFromMobileNode => (
                Some(R::FaCannotInterpretCvseFromMobileNode),
                C::CvseNotUnderstood,
                None,
                Request,
            ),
            Rejection::UnknownChallenge => (
                Some(R::FaUnknownChallenge),
                C::UnknownChallenge,
                None,
                Request,
            ),
            Rejection::MissingChallenge => (
                Some(R::FaMissingChallenge),
                C::MissingChallenge,
                None,
                Request,
            ),
            Rejection::StaleChallenge => {
                (Some(R::FaStaleChallenge), C::StaleChallenge, None, Request)
            }
            Rejection::Unspecified => (Some(R::FaUnspecified), C::Unspecified, None, Request),
            Rejection::HomeAgentAuthentication(f) => (
                Some(R::FaHomeAgentFailedAuthentication),
                C::AuthFailedHomeAgent,
                Some(f.into()),
                Reply,
            ),
            Rejection::PoorlyFormedReply => {
                (Some(R::FaPoorlyFormedReply), C::BadReplyForm, None, Reply)
            }
            Rejection::CvseFromHomeAgent => (
                Some(R::FaCannotInterpretCvseFromHomeAgent),
                C::CvseNotUnderstood,
                None,
                Reply,
            ),
            Rejection::MissingHomeAddress => (
                Some(R::FaMissingHomeAddress),
                C::MissingHomeAddress,
                None,
                Reply,
            ),
            Rejection::RegistrationTimeout => (
                Some(R::FaRegistrationTimeout),
                C::RegistrationTimeout,
                None,
                Reply,
            ),
            Rejection::HomeAgentUnreachable(kind) => (
                Some(match kind {
                    UnreachableKind::Network => R::FaHomeNetworkUnreachable,
                    UnreachableKind::Host => R::FaHomeAgentHostUnreachable,
                    UnreachableKind::Port => R::FaHomeAgentPortUnreachable,
                    UnreachableKind::Other => R::FaHomeAgentUnreachable,
                }),
                C::HomeAgentUnreachable,
                None,
                Reply,
            ),
            Rejection::NoPendingRequest => (None, C::ReplyNoPending, None, Reply),
            Rejection::MalformedReply => (None, C::ReplyMalformed, None, Reply),
        };
        Disposition {
            code,
            counter,
            violation,
            side,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_is_a_foreign_agent_code() {
        let answered = [
            Rejection::PoorlyFormedRequest,
            Rejection::MobileNodeAuthentication(AuthFailure::BadSpi),
            Rejection::LifetimeTooLong,
            Rejection::HomeAccessDenied,
            Rejection::VisitorLimit,
            Rejection::PendingLimitPerMobileNode,
            Rejection::PendingTableFull,
            Rejection::EncapsulationUnavailable,
            Rejection::ReverseTunnelUnavailable,
            Rejection::ReverseTunnelMandatory,
            Rejection::InvalidCareOfAddress,
            Rejection::DeliveryStyleNotSupported,
            Rejection::NonZeroHomeAgentRequired,
            Rejection::MissingNai,
            Rejection::MissingHomeAgent,
            Rejection::CvseFromMobileNode,
            Rejection::UnknownChallenge,
            Rejection::MissingChallenge,
            Rejection::StaleChallenge,
            Rejection::Unspecified,
            Rejection::HomeAgentAuthentication(AuthFailure::BadAuthenticator),
            Rejection::PoorlyFormedReply,
            Rejection::CvseFromHomeAgent,
            Rejection::MissingHomeAddress,
            Rejection::RegistrationTimeout,
            Rejection::HomeAgentUnreachable(UnreachableKind::Network),
            Rejection::HomeAgentUnreachable(UnreachableKind::Host),
            Rejection::HomeAgentUnreachable(UnreachableKind::Port),
            Rejection::HomeAgentUnreachable(UnreachableKind::Other),
        ];
        for r in answered {
            let d = r.disposition();
            assert!(d.code.is_some_and(|c| c.is_from_foreign_agent()), "{r:?}");
        }
        for r in [
            Rejection::ServiceDisabled,
            Rejection::NotForeignServiceInterface,
            Rejection::Malformed,
            Rejection::UnknownNonSkippableExtension(99),
            Rejection::NoPendingRequest,
            Rejection::MalformedReply,
        ] {
            assert_eq!(r.disposition().code, None, "{r:?}");
            assert_eq!(r.disposition().violation, None, "{r:?}");
        }
        assert!(
            Rejection::MobileNodeAuthentication(AuthFailure::MissingExtension)
                .disposition()
                .violation
                .is_some()
        );
    }
}
