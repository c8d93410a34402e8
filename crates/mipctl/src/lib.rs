//! The operator console's library part: the router-style text of every `show ip mobile ...`
//! answer ([`show`]) and the control-socket client ([`client`]). The `mipctl` binary adds
//! `decode`.

#![forbid(unsafe_code)]

pub mod client;
pub mod show;
