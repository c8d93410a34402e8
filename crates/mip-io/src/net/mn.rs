//! Mobile-node plumbing for a co-located care-of address: the mobile node is its own tunnel
//! end, around a [`TunnelEngine`].
//!
//! [`attach_colocated`], once the home agent accepted the registration:
//!
//! 1. an engine tunnel from the care-of address to the home agent, and `accept_from(home
//!    agent)`: packets the home agent tunnels to the care-of address are decapsulated and
//!    written to the TUN device;
//! 2. the home address on the TUN device (`/32`), so the stack delivers them locally and
//!    applications can bind to it;
//! 3. with reverse tunnelling: the rule `from HoA lookup TABLE` (priority given) and a
//!    default route into the TUN device in TABLE, plus `engine.route_source(HoA, id)`: the
//!    node's own packets from its home address go back through the tunnel (RFC 3024), while
//!    those from the care-of address (registration) go out directly.
//!
//! [`detach_colocated`] undoes it (on return home, or before attaching elsewhere).
//! Applications should send from the home address (bind to it, or a route `src`): the kernel
//! picks the care-of address otherwise.

use std::io;
use std::net::Ipv4Addr;

use super::engine::{Encapsulation, TunnelEngine, TunnelId, TunnelSpec};
use super::fa::ignore_missing;
use super::netlink::{Netlink, Route, Rule};

/// A co-located binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColocatedBinding {
    /// The home address.
    pub home_address: Ipv4Addr,
    /// The home agent (tunnel remote).
    pub home_agent: Ipv4Addr,
    /// The co-located care-of address (tunnel local).
    pub care_of_address: Ipv4Addr,
    /// The registration's encapsulation.
    pub encapsulation: Encapsulation,
    /// The engine tunnel id to use.
    pub tunnel: TunnelId,
    /// Reverse tunnelling: `(table, rule priority)`.
    pub reverse: Option<(u32, u32)>,
}

/// Sets the binding up (see the module documentation); returns the tunnel MTU.
///
/// # Errors
/// The kernel refused, or the tunnel id is in use.
pub fn attach_colocated(
    nl: &mut Netlink,
    engine: &TunnelEngine,
    b: &ColocatedBinding,
) -> io::Result<u16> {
    let mtu = engine.add_tunnel(
        b.tunnel,
        TunnelSpec {
            local: b.care_of_address,
            remote: b.home_agent,
            encapsulation: b.encapsulation,
            mtu: None,
        },
    )?;
    engine.accept_from(b.home_agent, b.tunnel)?;
    nl.addr_add(engine.tun_ifindex(), b.home_address, 32)?;
    if let Some((table, priority)) = b.reverse {
        nl.route_replace(&Route::default_via_device(engine.tun_ifindex(), table))?;
        engine.route_source(b.home_address, b.tunnel)?;
        nl.rule_add(&Rule::from_host(b.home_address, None, table, priority))?;
    }
    Ok(mtu)
}

/// Undoes [`attach_colocated`]; parts already gone are not an error.
///
/// # Errors
/// The kernel refused.
pub fn detach_colocated(
    nl: &mut Netlink,
    engine: &TunnelEngine,
    b: &ColocatedBinding,
) -> io::Result<()> {
    if let Some((table, priority)) = b.reverse {
        ignore_missing(nl.rule_delete(&Rule::from_host(b.home_address, None, table, priority)))?;
        ignore_missing(nl.route_delete(&Route::default_via_device(engine.tun_ifindex(), table)))?;
    }
    ignore_missing(nl.addr_delete(engine.tun_ifindex(), b.home_address, 32))?;
    match engine.remove_tunnel(b.tunnel) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}
