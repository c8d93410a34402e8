//! Foreign-agent plumbing: what a daemon does for each visitor, around a [`TunnelEngine`].
//!
//! Once per foreign agent:
//!
//! 1. `sysctl::set_ip_forward(true)`; start a [`TunnelEngine`].
//! 2. Per home agent with visitors: `engine.add_tunnel(id, TunnelSpec { local: care-of
//!    address, remote: home agent, .. })` and `engine.accept_from(home agent, id)` so that
//!    packets tunnelled by the home agent are decapsulated; the kernel then forwards the inner
//!    packet to the visitor.
//!
//! Per accepted registration:
//!
//! 3. [`add_visitor`]: a permanent neighbour entry for the home address with the visitor's MAC
//!    and a `/32` route on the visitor interface, so that the foreign agent delivers
//!    "without ARPing" (seed 002) — a visitor's home address is not on the visited link's
//!    prefix.
//! 4. With reverse tunnelling (T bit, RFC 3024): [`enable_reverse_tunnel`]: the policy rule
//!    `from HoA iif <visitor-if> lookup TABLE` sends the visitor's packets to a table whose
//!    default route is the TUN device, and `engine.route_source(HoA, id)` sends them through
//!    the tunnel to the home agent. Packets to the foreign agent itself are not affected (the
//!    `local` table comes first).
//!
//! On deregistration or expiry: [`disable_reverse_tunnel`], [`remove_visitor`], and, with the
//! last visitor of a home agent, `engine.remove_tunnel(id)`.

use std::io;
use std::net::Ipv4Addr;

use super::engine::{TunnelEngine, TunnelId};
use super::netlink::{Netlink, Route, Rule};

/// Delivers to a visitor without ARP: permanent neighbour `home_address lladdr mac` and route
/// `home_address/32 dev ifindex` (both replace).
///
/// # Errors
/// The kernel refused.
pub fn add_visitor(
    nl: &mut Netlink,
    ifindex: u32,
    home_address: Ipv4Addr,
    mac: [u8; 6],
) -> io::Result<()> {
    nl.neigh_replace(ifindex, home_address, mac)?;
    nl.route_replace(&Route::host_via_device(home_address, ifindex))
}

/// Undoes [`add_visitor`]; entries already gone are not an error.
///
/// # Errors
/// The kernel refused.
pub fn remove_visitor(nl: &mut Netlink, ifindex: u32, home_address: Ipv4Addr) -> io::Result<()> {
    ignore_missing(nl.route_delete(&Route::host_via_device(home_address, ifindex)))?;
    ignore_missing(nl.neigh_delete(ifindex, home_address))
}

/// A visitor's reverse tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReverseTunnel {
    /// The visitor's home address.
    pub home_address: Ipv4Addr,
    /// The interface the visitor is on (the rule's `iif`).
    pub visitor_interface: String,
    /// The table whose default route is the TUN device (shared by all visitors).
    pub table: u32,
    /// The rule's priority.
    pub priority: u32,
    /// The engine tunnel to the visitor's home agent.
    pub tunnel: TunnelId,
}

/// Installs a visitor's reverse tunnel (see the module documentation).
///
/// # Errors
/// The kernel refused, or the engine has no such tunnel.
pub fn enable_reverse_tunnel(
    nl: &mut Netlink,
    engine: &TunnelEngine,
    rt: &ReverseTunnel,
) -> io::Result<()> {
    nl.route_replace(&Route::default_via_device(engine.tun_ifindex(), rt.table))?;
    engine.route_source(rt.home_address, rt.tunnel)?;
    nl.rule_add(&Rule::from_host(
        rt.home_address,
        Some(&rt.visitor_interface),
        rt.table,
        rt.priority,
    ))
}

/// Removes a visitor's reverse tunnel (the shared table's default route stays); parts already
/// gone are not an error.
///
/// # Errors
/// The kernel refused.
pub fn disable_reverse_tunnel(
    nl: &mut Netlink,
    engine: &TunnelEngine,
    rt: &ReverseTunnel,
) -> io::Result<()> {
    ignore_missing(nl.rule_delete(&Rule::from_host(
        rt.home_address,
        Some(&rt.visitor_interface),
        rt.table,
        rt.priority,
    )))?;
    ignore_missing(engine.unroute_source(rt.home_address, rt.tunnel))
}

pub(crate) fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::AddrNotAvailable
            ) =>
        {
            Ok(())
        }
        r => r,
    }
}
