//! Protocol numbers: UDP 434 message types, registration reply codes and
//! tunnel encapsulation numbers.
//!
//! Every enum keeps numbers it does not know in an `Unknown(u8)` variant, so
//! `u8 -> enum -> u8` is lossless for all 256 values.

/// Declares a `u8`-backed protocol-number enum with an `Unknown(u8)` variant,
/// lossless `From` conversions both ways, `name()` and `Display`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( #[doc = $text] $variant, )*
            /// A number this crate has no name for (kept as is).
            Unknown(u8),
        }

        impl From<u8> for $name {
            fn from(v: u8) -> Self {
                match v {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                match v {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl $name {
            /// The name the RFC (or the IANA registry) gives this number;
            /// `"unknown"` for numbers without one.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(_) => "unknown",
                }
            }

            /// The number on the wire.
            pub fn value(self) -> u8 {
                u8::from(self)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    $name::Unknown(v) => write!(f, "unknown ({})", v),
                    known => f.write_str(known.name()),
                }
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// Mobile IP message types carried on UDP port 434 (IANA "Mobile IP
    /// Message Types"; RFC 5944 §3.3–3.4, RFC 3519, RFC 3543, RFC 4881,
    /// RFC 4857, RFC 6098).
    pub enum MessageType {
        RegistrationRequest = 1 => "registration request",
        RegistrationReply = 3 => "registration reply",
        TunnelData = 4 => "UDP tunnel data",
        RegistrationRevocation = 7 => "registration revocation",
        RevocationAcknowledgement = 15 => "registration revocation acknowledgement",
        HandoffRequest = 16 => "handoff request",
        HandoffReply = 17 => "handoff reply",
        RegionalRegistrationRequest = 18 => "regional registration request",
        RegionalRegistrationReply = 19 => "regional registration reply",
        FastBindingUpdate = 20 => "fast binding update",
        FastBindingAcknowledgement = 21 => "fast binding acknowledgement",
        GenericNotification = 22 => "generic notification",
        GenericNotificationAcknowledgement = 23 => "generic notification acknowledgement",
        Experimental = 255 => "experimental message",
    }
}

code_enum! {
    /// The Code field of a Registration Reply (RFC 5944 §3.4 and the IANA
    /// "Code Values for Mobile IP Registration Reply Messages" registry).
    ///
    /// 0–1: accepted; 64–127: denied by the foreign agent; 128–192: denied by
    /// the home agent. `name()` gives the RFC wording without the
    /// "registration denied by ..." prefix; [`ReplyCode::description`] adds it.
    pub enum ReplyCode {
        Accepted = 0 => "registration accepted",
        AcceptedNoSimultaneousBindings = 1 =>
            "registration accepted, but simultaneous mobility bindings unsupported",
        FaUnspecified = 64 => "reason unspecified",
        FaAdministrativelyProhibited = 65 => "administratively prohibited",
        FaInsufficientResources = 66 => "insufficient resources",
        FaMobileNodeFailedAuthentication = 67 => "mobile node failed authentication",
        FaHomeAgentFailedAuthentication = 68 => "home agent failed authentication",
        FaLifetimeTooLong = 69 => "requested Lifetime too long",
        FaPoorlyFormedRequest = 70 => "poorly formed Request",
        FaPoorlyFormedReply = 71 => "poorly formed Reply",
        FaEncapsulationUnavailable = 72 => "requested encapsulation unavailable",
        FaReserved73 = 73 => "reserved and unavailable (was VJ compression)",
        FaReverseTunnelUnavailable = 74 => "requested reverse tunnel unavailable",
        FaReverseTunnelMandatory = 75 => "reverse tunnel is mandatory and 'T' bit not set",
        FaMobileNodeTooDistant = 76 => "mobile node too distant",
        FaInvalidCareOfAddress = 77 => "invalid care-of address",
        FaRegistrationTimeout = 78 => "registration timeout",
        FaDeliveryStyleNotSupported = 79 => "delivery style not supported",
        FaHomeNetworkUnreachable = 80 => "home network unreachable (ICMP error received)",
        FaHomeAgentHostUnreachable = 81 => "home agent host unreachable (ICMP error received)",
        FaHomeAgentPortUnreachable = 82 => "home agent port unreachable (ICMP error received)",
        FaHomeAgentUnreachable = 88 => "home agent unreachable (other ICMP error received)",
        FaVendorSpecific = 89 => "vendor-specific reason",
        FaNonZeroHomeAgentRequired = 90 => "non-zero home agent address required",
        FaNonZeroHomeAddressRequired = 96 => "non-zero home address required",
        FaMissingNai = 97 => "missing NAI",
        FaMissingHomeAgent = 98 => "missing home agent",
        FaMissingHomeAddress = 99 => "missing home address",
        FaCannotInterpretCvseFromMobileNode = 100 =>
            "unable to interpret CVSE sent by mobile node",
        FaCannotInterpretCvseFromHomeAgent = 101 =>
            "unable to interpret CVSE sent by home agent",
        FaUnknownChallenge = 104 => "unknown challenge",
        FaMissingChallenge = 105 => "missing challenge",
        FaStaleChallenge = 106 => "stale challenge",
        FaMissingKeyGenerationNonceReply = 107 =>
            "missing MN-FA key generation nonce reply extension",
        FaMobileNodeFailedAaaAuthentication = 108 => "mobile node failed AAA authentication",
        FaHomeAgentSentWrongChallenge = 109 => "home agent sent wrong challenge in reply",
        FaExperimental = 127 => "error code for experimental use",
        HaUnspecified = 128 => "reason unspecified",
        HaAdministrativelyProhibited = 129 => "administratively prohibited",
        HaInsufficientResources = 130 => "insufficient resources",
        HaMobileNodeFailedAuthentication = 131 => "mobile node failed authentication",
        HaForeignAgentFailedAuthentication = 132 => "foreign agent failed authentication",
        HaIdentificationMismatch = 133 => "registration Identification mismatch",
        HaPoorlyFormedRequest = 134 => "poorly formed Request",
        HaTooManySimultaneousBindings = 135 => "too many simultaneous mobility bindings",
        HaUnknownHomeAgentAddress = 136 => "unknown home agent address",
        HaReverseTunnelUnavailable = 137 => "requested reverse tunnel unavailable",
        HaReverseTunnelMandatory = 138 => "reverse tunnel is mandatory and 'T' bit not set",
        HaEncapsulationUnavailable = 139 => "requested encapsulation unavailable",
        HaCannotInterpretCvseFromMobileNode = 140 =>
            "unable to interpret CVSE sent by mobile node",
        HaCannotInterpretCvseFromForeignAgent = 141 =>
            "unable to interpret CVSE sent by foreign agent",
        HaUdpEncapsulationUnavailable = 142 => "UDP encapsulation unavailable",
        HaRegisterWithRedirectedHomeAgent = 143 => "register with redirected HA",
        HaMobileNodeFailedAaaAuthentication = 144 => "mobile node failed AAA authentication",
        HaExperimental = 192 => "error code for experimental use",
    }
}

impl ReplyCode {
    /// Code 0 or 1: the registration was accepted (RFC 5944 §3.4). Other
    /// values below 64 are not assigned and are *not* treated as accepted.
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            ReplyCode::Accepted | ReplyCode::AcceptedNoSimultaneousBindings
        )
    }

    /// Code 64–127: denied by the foreign agent (RFC 5944 §3.4).
    pub fn is_from_foreign_agent(self) -> bool {
        (64..=127).contains(&u8::from(self))
    }

    /// Code 128–192: denied by the home agent (RFC 5944 §3.4; 192 is the
    /// home agent's experimental code).
    pub fn is_from_home_agent(self) -> bool {
        (128..=192).contains(&u8::from(self))
    }

    /// The name prefixed with who denied the registration, for logs:
    /// `"registration denied by the home agent: poorly formed Request"`.
    pub fn description(self) -> String {
        if self.is_accepted() {
            self.name().to_string()
        } else if self.is_from_foreign_agent() {
            format!("registration denied by the foreign agent: {}", self.name())
        } else if self.is_from_home_agent() {
            format!("registration denied by the home agent: {}", self.name())
        } else {
            format!("unknown reply code {}", u8::from(self))
        }
    }
}

code_enum! {
    /// What a tunnel carries after its header: the "Encapsulation" of the UDP
    /// Tunnel Request extension and the "Next Header" of UDP tunnel data
    /// (RFC 3519 §3.1, §3.3; IP protocol numbers).
    pub enum Encapsulation {
        IpInIp = 4 => "IP in IP",
        Gre = 47 => "GRE",
        Minimal = 55 => "minimal encapsulation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code listed in WIRE-REGISTRY.md has a named variant.
    const REGISTRY_CODES: &[u8] = &[
        0, 1, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 88, 89,
        90, 96, 97, 98, 99, 100, 101, 104, 105, 106, 107, 108, 109, 127, 128, 129, 130, 131, 132,
        133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 192,
    ];

    #[test]
    fn every_registry_code_is_named() {
        for &c in REGISTRY_CODES {
            let code = ReplyCode::from(c);
            assert!(!matches!(code, ReplyCode::Unknown(_)), "code {c} unnamed");
            assert_ne!(code.name(), "unknown");
        }
        let named = (0..=255u8).filter(|&c| !matches!(ReplyCode::from(c), ReplyCode::Unknown(_)));
        assert_eq!(named.count(), REGISTRY_CODES.len());
    }

    #[test]
    fn all_values_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(ReplyCode::from(v)), v);
            assert_eq!(u8::from(MessageType::from(v)), v);
            assert_eq!(u8::from(Encapsulation::from(v)), v);
        }
    }

    #[test]
    fn names_and_ranges() {
        assert_eq!(ReplyCode::from(0).name(), "registration accepted");
        assert_eq!(ReplyCode::from(65).name(), "administratively prohibited");
        assert_eq!(ReplyCode::from(133), ReplyCode::HaIdentificationMismatch);
        assert_eq!(
            ReplyCode::from(134).description(),
            "registration denied by the home agent: poorly formed Request"
        );
        assert_eq!(
            ReplyCode::from(67).description(),
            "registration denied by the foreign agent: mobile node failed authentication"
        );
        assert!(ReplyCode::from(1).is_accepted());
        assert!(!ReplyCode::from(2).is_accepted());
        assert!(ReplyCode::from(64).is_from_foreign_agent());
        assert!(ReplyCode::from(127).is_from_foreign_agent());
        assert!(!ReplyCode::from(128).is_from_foreign_agent());
        assert!(ReplyCode::from(128).is_from_home_agent());
        assert!(ReplyCode::from(192).is_from_home_agent());
        assert!(!ReplyCode::from(193).is_from_home_agent());
        assert_eq!(ReplyCode::from(200).to_string(), "unknown (200)");
        assert_eq!(MessageType::from(1).to_string(), "registration request");
        assert_eq!(
            MessageType::from(15),
            MessageType::RevocationAcknowledgement
        );
        assert_eq!(MessageType::from(2), MessageType::Unknown(2));
        assert_eq!(Encapsulation::from(47), Encapsulation::Gre);
    }
}
