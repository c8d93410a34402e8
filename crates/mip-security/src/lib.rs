//! Mobility security for Mobile IPv4: security associations and their authenticators,
//! MN-AAA authentication, replay protection and NTP time. No I/O and no clock: bytes and
//! time come in as parameters.
//!
//! - [`Key`]: a shared secret, from hex or ASCII; zeroized on drop, redacted in `Debug`,
//!   compared in constant time.
//! - [`SecurityAssociation`]: SPI, [`Algorithm`] (keyed-MD5 prefix+suffix, RFC 2002 §3.5.1,
//!   the router's default; or HMAC-MD5, RFC 5944 §3.5.1), key and [`ReplayProtection`];
//!   computes and verifies the 128-bit authenticator over the covered bytes (message type
//!   byte through the SPI of the extension), with the keyed hash state prepared once.
//! - [`mn_aaa`]: the reserved MN-AAA SPIs `CHAP_SPI` and `HMAC_CHAP_SPI` (RFC 3012/4721 §8).
//! - [`replay`]: timestamp and nonce checks at the home agent, code-133 resynchronisation
//!   and identification generation at the mobile node (RFC 5944 §5.7).
//! - [`ntp`]: `SystemTime` to and from the 64-bit NTP format of the Identification field.
//! - [`violation`]: the violation reasons of `show ip mobile violation` and the
//!   authentication failures behind them, shared by the home agent and the foreign agent.
//! - [`digest`]: plain MD5 and HMAC-MD5 on the MD5 compression function, and
//!   [`digest::HmacMd5Key`], an HMAC-MD5 key prepared once for many messages (also what a
//!   RADIUS client needs).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod digest;
pub mod key;
pub mod mn_aaa;
pub mod ntp;
pub mod replay;
pub mod sa;
pub mod violation;

pub use digest::{Authenticator, AUTHENTICATOR_LEN};
pub use key::{Key, KeyError};
pub use mn_aaa::{MnAaaAlgorithm, CHAP_SPI, HMAC_CHAP_SPI};
pub use replay::{ClockOffset, ReplayError, ReplayState, IDENTIFICATION_MISMATCH};
pub use sa::{
    Algorithm, ReplayProtection, SecurityAssociation, UnknownAlgorithm,
    DEFAULT_TIMESTAMP_WINDOW_SECS,
};
