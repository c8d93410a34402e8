//! The few `net.ipv4` sysctls the data plane needs, written through `/proc/sys`.
//!
//! `/proc/sys/net` shows the network namespace of the calling *thread*, so these work from a
//! thread that has entered a namespace with `setns(2)` as well as from a whole process.

use std::io;

fn path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

fn iface_key(iface: &str, what: &str) -> String {
    // Interface names may contain dots (VLANs); build the path by hand.
    format!("/proc/sys/net/ipv4/conf/{iface}/{what}")
}

fn write_path(p: &str, value: &str) -> io::Result<()> {
    std::fs::write(p, value)
        .map_err(|e| io::Error::new(e.kind(), format!("sysctl write {p} = {value}: {e}")))
}

fn read_path(p: &str) -> io::Result<String> {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_owned())
        .map_err(|e| io::Error::new(e.kind(), format!("sysctl read {p}: {e}")))
}

/// Writes a sysctl given in dotted form (`net.ipv4.ip_forward`).
///
/// # Errors
/// No such key, or not permitted.
pub fn write(key: &str, value: &str) -> io::Result<()> {
    write_path(&path(key), value)
}

/// Reads a sysctl given in dotted form.
///
/// # Errors
/// No such key.
pub fn read(key: &str) -> io::Result<String> {
    read_path(&path(key))
}

/// Reads `net.ipv4.conf.IFACE.WHAT` (`iface` may be `all` or `default`).
///
/// # Errors
/// No such interface or key.
pub fn read_iface(iface: &str, what: &str) -> io::Result<String> {
    read_path(&iface_key(iface, what))
}

/// Writes `net.ipv4.conf.IFACE.WHAT`.
///
/// # Errors
/// No such interface or key, or not permitted.
pub fn write_iface(iface: &str, what: &str, value: &str) -> io::Result<()> {
    write_path(&iface_key(iface, what), value)
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// `net.ipv4.ip_forward`: needed by every agent (it forwards between the TUN device and its
/// links) and by proxy ARP.
///
/// # Errors
/// Not permitted.
pub fn set_ip_forward(on: bool) -> io::Result<()> {
    write("net.ipv4.ip_forward", flag(on))
}

/// `net.ipv4.conf.IFACE.proxy_arp`: answer ARP for every address routed elsewhere. The data
/// plane does not need it (it installs one proxy neighbour per home address); offered for
/// completeness.
///
/// # Errors
/// No such interface, or not permitted.
pub fn set_proxy_arp(iface: &str, on: bool) -> io::Result<()> {
    write_iface(iface, "proxy_arp", flag(on))
}

/// `net.ipv4.conf.IFACE.arp_accept`: create neighbour entries from gratuitous ARP (peers
/// otherwise only update entries they already have).
///
/// # Errors
/// No such interface, or not permitted.
pub fn set_arp_accept(iface: &str, on: bool) -> io::Result<()> {
    write_iface(iface, "arp_accept", flag(on))
}

/// `net.ipv4.conf.IFACE.rp_filter` (0 off, 1 strict, 2 loose). The kernel applies the
/// larger of `all` and the interface's value.
///
/// # Errors
/// No such interface, or not permitted.
pub fn set_rp_filter(iface: &str, mode: u8) -> io::Result<()> {
    write_iface(iface, "rp_filter", &mode.to_string())
}

/// `net.ipv4.conf.IFACE.accept_local`: accept packets whose source is a local address (the
/// engine's ICMP errors come from the tunnel's local address through the TUN device).
///
/// # Errors
/// No such interface, or not permitted.
pub fn set_accept_local(iface: &str, on: bool) -> io::Result<()> {
    write_iface(iface, "accept_local", flag(on))
}

/// `net.ipv6.conf.IFACE.disable_ipv6`: keeps the kernel from sending IPv6 router
/// solicitations and the like into a TUN device.
///
/// # Errors
/// No such interface, IPv6 compiled out, or not permitted.
pub fn set_disable_ipv6(iface: &str, on: bool) -> io::Result<()> {
    write_path(
        &format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6"),
        flag(on),
    )
}
