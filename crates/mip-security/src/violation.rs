//! Why a registration failed its security checks, as the home agent and the foreign agent
//! both report it in `show ip mobile violation`: the router's violation reasons and their
//! numbers (seed 002), and the authentication failure each reason comes from.

/// What went wrong with an authentication extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AuthFailure {
    /// The extension is missing.
    MissingExtension,
    /// No security context with this SPI.
    BadSpi,
    /// The authenticator does not verify.
    BadAuthenticator,
    /// More than one such extension, or one in the wrong place (an FA-HA extension that does
    /// not cover the MN-HA one).
    Other,
}

/// The violation reasons of `show ip mobile violation`, with the router's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ViolationReason {
    /// 1: no mobility security association.
    NoMobilitySecurityAssociation,
    /// 2: bad authenticator.
    BadAuthenticator,
    /// 3: bad identifier (replay check failed).
    BadIdentifier,
    /// 4: bad SPI.
    BadSpi,
    /// 5: missing security extension.
    MissingSecurityExtension,
    /// 6: other.
    Other,
}

impl ViolationReason {
    /// The router's number for the reason.
    pub fn number(self) -> u8 {
        match self {
            ViolationReason::NoMobilitySecurityAssociation => 1,
            ViolationReason::BadAuthenticator => 2,
            ViolationReason::BadIdentifier => 3,
            ViolationReason::BadSpi => 4,
            ViolationReason::MissingSecurityExtension => 5,
            ViolationReason::Other => 6,
        }
    }

    /// The router's text for the reason.
    pub fn text(self) -> &'static str {
        match self {
            ViolationReason::NoMobilitySecurityAssociation => "No mobility security association",
            ViolationReason::BadAuthenticator => "Bad authenticator",
            ViolationReason::BadIdentifier => "Bad identifier",
            ViolationReason::BadSpi => "Bad SPI",
            ViolationReason::MissingSecurityExtension => "Missing security extension",
            ViolationReason::Other => "Other",
        }
    }
}

impl From<AuthFailure> for ViolationReason {
    fn from(f: AuthFailure) -> Self {
        match f {
            AuthFailure::MissingExtension => ViolationReason::MissingSecurityExtension,
            AuthFailure::BadSpi => ViolationReason::BadSpi,
            AuthFailure::BadAuthenticator => ViolationReason::BadAuthenticator,
            AuthFailure::Other => ViolationReason::Other,
        }
    }
}
