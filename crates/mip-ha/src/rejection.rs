//! Why a request was not accepted, and the one place that maps each reason to what the home
//! agent does about it: ignore or reply with a code, which counter moves, and whether a
//! security violation is logged (seed 002: "A security violation is logged when foreign agent
//! authentication, MH authentication or Identification verification fail").

use mip_security::ReplayError;
use mip_wire::codes::ReplyCode;

/// Why a request was not accepted. Every variant is handled by [`Rejection::disposition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    // ---- silently discarded (no reply) -------------------------------------------------
    /// Home agent service is off (seed 002: "the home agent will ignore requests when home
    /// agent service is not enabled").
    ServiceDisabled,
    /// Not a Registration Request, or its fixed part is cut short; or its extensions are
    /// broken and no security association exists to sign a 134 reply.
    Malformed,
    /// A non-skippable extension the home agent does not recognise (RFC 5944 §1.9, §3.8.2:
    /// the message is silently discarded).
    UnknownNonSkippableExtension(u8),
    /// Home Address 0.0.0.0 and no NAI extension: there is no mobile node to look up (RFC
    /// 2794 §2 makes the NAI mandatory when the home address is zero).
    NoIdentity,
    /// No security association with the mobile node: the reply could not be authenticated
    /// (seed 002: "the mobile node's security association is not configured").
    NoMobileNodeSecurityAssociation,

    // ---- answered ------------------------------------------------------------------------
    /// The fixed part parsed but the extensions did not (framing, an authentication extension
    /// shorter than its SPI, a malformed session identifier): 134.
    PoorlyFormedExtensions,
    /// An SA exists with the foreign agent and its FA-HA authentication failed: 132.
    ForeignAgentAuthentication(AuthFailure),
    /// The MN-HA authentication failed: 131 (RFC 5944 §3.8.2.1 a).
    MobileNodeAuthentication(AuthFailure),
    /// Another authentication extension comes before the MN-HA extension, which must be the
    /// first after the data it covers: 134.
    AuthenticationExtensionOrder,
    /// The Identification failed the replay check: 133 (RFC 5944 §3.8.2.1 b, §5.7).
    Identification(ReplayError),
    /// The Home Agent field is not one of this home agent's addresses (for example a
    /// broadcast sent for dynamic home agent discovery): 136, with the home agent's own
    /// address in the reply (RFC 5944 §3.8.3.2).
    UnknownHomeAgentAddress,
    /// The mobile node has a security association but no `ip mobile host` entry serves its
    /// home address, so there is no home link to act on: 128.
    HomeAddressNotServed,
    /// The reserved r or x flag is set: 134 (RFC 5944 §3.8.2.3).
    ReservedFlags,
    /// A CVSE from the mobile node (before the MN-HA extension) the home agent cannot
    /// interpret: 140 (RFC 3115 §2).
    CvseFromMobileNode,
    /// A CVSE added by the foreign agent (after the MN-HA extension): 141 (RFC 3115 §2).
    CvseFromForeignAgent,
    /// The roam-access list denies this mobile node: 129 (seed 002).
    RoamAccessDenied,
    /// The care-of-access list denies this care-of address: 129 (seed 002).
    CareOfAccessDenied,
    /// An NAI asked for a home address that is not its own, or one held by another mobile
    /// node: 129.
    HomeAddressNotAllowed,
    /// No address left in the NAI's pool: 130.
    PoolExhausted,
    /// The home agent holds its maximum number of bindings: 130.
    BindingLimit,
    /// The care-of address cannot be a tunnel endpoint (0.0.0.0, broadcast, multicast,
    /// loopback): 134.
    InvalidCareOfAddress,
    /// Both M and G set: 134.
    ConflictingEncapsulation,
    /// M or G asked for an encapsulation the home agent does not offer: 139 (RFC 3024 §4.3).
    EncapsulationUnavailable,
    /// T set and reverse tunnels are off: 137 (RFC 3024 §4.3).
    ReverseTunnelUnavailable,
    /// T clear and reverse tunnels are mandatory: 138 (RFC 3024 §4.3).
    ReverseTunnelMandatory,
    /// S set, simultaneous bindings supported, and the limit is reached: 135 (RFC 5944
    /// §3.8.2.3).
    TooManySimultaneousBindings,
}

pub use mip_security::violation::{AuthFailure, ViolationReason};

/// The counter a rejection moves (besides Denied / Ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Ignored: service off.
    IgnoredServiceDisabled,
    /// Ignored: malformed beyond replying.
    IgnoredMalformed,
    /// Ignored: unknown non-skippable extension.
    IgnoredUnknownExtension,
    /// Ignored: no mobile node to look up or no security association.
    IgnoredNoSecurityAssociation,
    /// 128.
    Unspecified,
    /// 129.
    AdministrativelyProhibited,
    /// 130.
    NoResource,
    /// 131.
    AuthFailedMobileNode,
    /// 132.
    AuthFailedForeignAgent,
    /// 133.
    BadIdentification,
    /// 134.
    BadRequestForm,
    /// 135.
    TooManyBindings,
    /// 136.
    UnknownHomeAgent,
    /// 137.
    ReverseTunnelUnavailable,
    /// 138.
    ReverseTunnelMandatory,
    /// 139.
    EncapsulationUnavailable,
    /// 140, 141.
    CvseNotUnderstood,
}

/// What to do about a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disposition {
    /// `None`: discard silently; `Some(code)`: reply with it.
    pub code: Option<ReplyCode>,
    /// The counter to move.
    pub counter: Counter,
    /// A security violation to log.
    pub violation: Option<ViolationReason>,
}

impl Rejection {
    /// THE mapping from rejection to reply code, counter and violation.
    pub fn disposition(self) -> Disposition {
        use Counter as C;
        use ReplyCode as R;
        let (code, counter, violation) = match self {
            Rejection::ServiceDisabled => (None, C::IgnoredServiceDisabled, None),
            Rejection::Malformed => (None, C::IgnoredMalformed, None),
            Rejection::UnknownNonSkippableExtension(_) => (None, C::IgnoredUnknownExtension, None),
            Rejection::NoIdentity | Rejection::NoMobileNodeSecurityAssociation => {
                (None, C::IgnoredNoSecurityAssociation, None)
            }
            Rejection::PoorlyFormedExtensions
            | Rejection::AuthenticationExtensionOrder
            | Rejection::ReservedFlags
            | Rejection::InvalidCareOfAddress
            | Rejection::ConflictingEncapsulation => {
                (Some(R::HaPoorlyFormedRequest), C::BadRequestForm, None)
            }
            Rejection::ForeignAgentAuthentication(f) => (
                Some(R::HaForeignAgentFailedAuthentication),
                C::AuthFailedForeignAgent,
                Some(f.into()),
            ),
            Rejection::MobileNodeAuthentication(f) => (
                Some(R::HaMobileNodeFailedAuthentication),
                C::AuthFailedMobileNode,
                Some(f.into()),
            ),
            Rejection::Identification(_) => (
                Some(R::HaIdentificationMismatch),
                C::BadIdentification,
                Some(ViolationReason::BadIdentifier),
            ),
            Rejection::UnknownHomeAgentAddress => (
                Some(R::HaUnknownHomeAgentAddress),
                C::UnknownHomeAgent,
                None,
            ),
            Rejection::HomeAddressNotServed => (Some(R::HaUnspecified), C::Unspecified, None),
            Rejection::CvseFromMobileNode => (
                Some(R::HaCannotInterpretCvseFromMobileNode),
                C::CvseNotUnderstood,
                None,
            ),
            Rejection::CvseFromForeignAgent => (
                Some(R::HaCannotInterpretCvseFromForeignAgent),
                C::CvseNotUnderstood,
                None,
            ),
            Rejection::RoamAccessDenied
            | Rejection::CareOfAccessDenied
            | Rejection::HomeAddressNotAllowed => (
                Some(R::HaAdministrativelyProhibited),
                C::AdministrativelyProhibited,
                None,
            ),
            Rejection::PoolExhausted | Rejection::BindingLimit => {
                (Some(R::HaInsufficientResources), C::NoResource, None)
            }
            Rejection::EncapsulationUnavailable => (
                Some(R::HaEncapsulationUnavailable),
                C::EncapsulationUnavailable,
                None,
            ),
            Rejection::ReverseTunnelUnavailable => (
                Some(R::HaReverseTunnelUnavailable),
                C::ReverseTunnelUnavailable,
                None,
            ),
            Rejection::ReverseTunnelMandatory => (
                Some(R::HaReverseTunnelMandatory),
                C::ReverseTunnelMandatory,
                None,
            ),
            Rejection::TooManySimultaneousBindings => (
                Some(R::HaTooManySimultaneousBindings),
                C::TooManyBindings,
                None,
            ),
        };
        Disposition {
            code,
            counter,
            violation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answered_rejection_is_a_home_agent_code() {
        let all = [
            Rejection::PoorlyFormedExtensions,
            Rejection::ForeignAgentAuthentication(AuthFailure::BadAuthenticator),
            Rejection::MobileNodeAuthentication(AuthFailure::BadSpi),
            Rejection::AuthenticationExtensionOrder,
            Rejection::Identification(ReplayError::NoNonceIssued { received: 0 }),
            Rejection::UnknownHomeAgentAddress,
            Rejection::HomeAddressNotServed,
            Rejection::ReservedFlags,
            Rejection::CvseFromMobileNode,
            Rejection::CvseFromForeignAgent,
            Rejection::RoamAccessDenied,
            Rejection::CareOfAccessDenied,
            Rejection::HomeAddressNotAllowed,
            Rejection::PoolExhausted,
            Rejection::BindingLimit,
            Rejection::InvalidCareOfAddress,
            Rejection::ConflictingEncapsulation,
            Rejection::EncapsulationUnavailable,
            Rejection::ReverseTunnelUnavailable,
            Rejection::ReverseTunnelMandatory,
            Rejection::TooManySimultaneousBindings,
        ];
        for r in all {
            let d = r.disposition();
            assert!(d.code.is_some_and(|c| c.is_from_home_agent()), "{r:?}");
        }
        for r in [
            Rejection::ServiceDisabled,
            Rejection::Malformed,
            Rejection::UnknownNonSkippableExtension(100),
            Rejection::NoIdentity,
            Rejection::NoMobileNodeSecurityAssociation,
        ] {
            assert_eq!(r.disposition().code, None, "{r:?}");
            assert_eq!(r.disposition().violation, None, "{r:?}");
        }
    }
}
