//! Facts about the host: its IPv4 addresses and random bytes.

use std::io;
use std::net::Ipv4Addr;

/// The IPv4 addresses assigned to the host's interfaces (`getifaddrs(3)`), loopback included,
/// each once, in the order the kernel lists them.
///
/// # Errors
/// `getifaddrs(3)` failed.
pub fn local_ipv4_addresses() -> io::Result<Vec<Ipv4Addr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: head is a valid out-pointer; the list is freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: p is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points at a sockaddr whose family says how to read it.
            let family = unsafe { (*ifa.ifa_addr).sa_family };
            if i32::from(family) == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                let a = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// Fills `buf` from the kernel's random source (`getrandom(2)`, blocking until it is seeded).
///
/// # Errors
/// `getrandom(2)` failed.
pub fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writes at most buf.len() - done bytes into buf[done..].
        let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        done += r as usize;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_and_random_differs() {
        let a = local_ipv4_addresses().unwrap();
        assert!(a.contains(&Ipv4Addr::LOCALHOST), "{a:?}");
        let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
        fill_random(&mut x).unwrap();
        fill_random(&mut y).unwrap();
        assert_ne!(x, y);
    }
}
