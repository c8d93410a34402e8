//! Mobile IPv4 wire formats.
//!
//! Every format comes as a pair, in the style of smoltcp:
//!
//! * a zero-copy *view* (`Packet<T: AsRef<[u8]>>`-like) whose constructor checks
//!   lengths once, after which no getter can panic, and
//! * an owned *representation* (`*Repr` / plain structs) with `parse`,
//!   `buffer_len` and `emit`.
//!
//! Numbers the code does not know are kept (`Unknown(u8)` variants, unknown
//! extensions kept byte for byte) so that a parse/emit round trip loses nothing.
//! Nothing in this crate performs I/O, allocates on the view path, or panics on
//! any input.

pub mod codes;
pub mod error;
pub mod extension;
pub mod icmp;
pub mod ident;
pub mod ipv4;
pub mod message;
pub mod registration;
pub mod revocation;
pub mod tunnel;
pub mod udp_tunnel;

pub use error::{Error, ErrorKind, Result};

/// The UDP port of Mobile IP registration (RFC 5944 §3.1).
pub const MIP_UDP_PORT: u16 = 434;
