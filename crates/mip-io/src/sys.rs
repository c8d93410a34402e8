//! Facts about the host: its interfaces and IPv4 addresses, and random bytes.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;

/// Calls `f` on every entry `getifaddrs(3)` lists, in the kernel's order.
fn for_each_ifaddr(mut f: impl FnMut(&libc::ifaddrs)) -> io::Result<()> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: head is a valid out-pointer; the list is freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut p = head;
    while !p.is_null() {
        // SAFETY: p is a node of the list getifaddrs returned, not yet freed; the reference
        // does not outlive this iteration (`f` cannot keep it).
        let ifa = unsafe { &*p };
        f(ifa);
        p = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(())
}

/// The IPv4 address (and prefix length, from the netmask; 32 without one) of an entry.
fn entry_ipv4(ifa: &libc::ifaddrs) -> Option<(Ipv4Addr, u8)> {
    if ifa.ifa_addr.is_null() {
        return None;
    }
    // SAFETY: ifa_addr points at a sockaddr whose family says how to read it.
    let family = unsafe { (*ifa.ifa_addr).sa_family };
    if i32::from(family) != libc::AF_INET {
        return None;
    }
    // SAFETY: an AF_INET address is a sockaddr_in.
    let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
    let a = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
    let prefix = if ifa.ifa_netmask.is_null() {
        32
    } else {
        // SAFETY: the netmask of an AF_INET entry is a sockaddr_in.
        let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) };
        u32::from_be(m.sin_addr.s_addr).count_ones() as u8
    };
    Some((a, prefix))
}

/// The IPv4 addresses assigned to the host's interfaces (`getifaddrs(3)`), loopback included,
/// each once, in the order the kernel lists them.
///
/// # Errors
/// `getifaddrs(3)` failed.
pub fn local_ipv4_addresses() -> io::Result<Vec<Ipv4Addr>> {
    let mut out = Vec::new();
    for_each_ifaddr(|ifa| {
        if let Some((a, _)) = entry_ipv4(ifa) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    })?;
    Ok(out)
}

/// An interface as `getifaddrs(3)` lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsInterface {
    /// Name.
    pub name: String,
    /// Index (0 when the kernel gave no link entry).
    pub index: u32,
    /// `IFF_UP` and `IFF_RUNNING` (administratively up with carrier).
    pub up: bool,
    /// Link-layer address, when 6 bytes.
    pub mac: Option<[u8; 6]>,
    /// IPv4 addresses with their prefix lengths, in the kernel's order (primary first).
    pub addresses: Vec<(Ipv4Addr, u8)>,
}

/// Every interface, by name: index, flags, MAC and IPv4 addresses (`getifaddrs(3)`).
///
/// # Errors
/// `getifaddrs(3)` failed.
pub fn interfaces() -> io::Result<BTreeMap<String, OsInterface>> {
    let mut out: BTreeMap<String, OsInterface> = BTreeMap::new();
    for_each_ifaddr(|ifa| {
        if ifa.ifa_name.is_null() {
            return;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let e = out.entry(name.clone()).or_insert_with(|| OsInterface {
            name,
            ..OsInterface::default()
        });
        let flags = ifa.ifa_flags;
        e.up = flags & libc::IFF_UP as u32 != 0 && flags & libc::IFF_RUNNING as u32 != 0;
        if let Some(a) = entry_ipv4(ifa) {
            e.addresses.push(a);
            return;
        }
        if ifa.ifa_addr.is_null() {
            return;
        }
        // SAFETY: ifa_addr points at a sockaddr whose family says how to read it.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_PACKET {
            // SAFETY: an AF_PACKET address is a sockaddr_ll.
            let sll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
            e.index = sll.sll_ifindex as u32;
            if sll.sll_halen == 6 {
                let mut m = [0u8; 6];
                m.copy_from_slice(&sll.sll_addr[..6]);
                e.mac = Some(m);
            }
        }
    })?;
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

/// The CPUs this process may run on (`sched_getaffinity(2)` of the calling thread), in
/// increasing order.
///
/// # Errors
/// The kernel refused (not expected).
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; sched_getaffinity writes at most
    // size_of::<cpu_set_t>() bytes into it; CPU_ISSET reads inside it (i < CPU_SETSIZE).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            .filter(|&i| libc::CPU_ISSET(i, &set))
            .collect())
    }
}

/// Pins the calling thread to CPU `cpu` (`sched_setaffinity(2)` on this thread only; threads
/// it starts afterwards inherit the pin, threads started before keep their own mask).
///
/// # Errors
/// `cpu` is beyond what the kernel's CPU set can name, or the CPU is not online or not
/// allowed to this process (cgroup cpuset): the kernel's `EINVAL`.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "CPU {cpu} is beyond the {} CPUs Linux can name",
                libc::CPU_SETSIZE
            ),
        ));
    }
    // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET writes inside it (cpu is
    // below CPU_SETSIZE); sched_setaffinity reads size_of::<cpu_set_t>() bytes of it.
    let r = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_to_an_allowed_cpu_and_refuse_a_missing_one() {
        // Run in a thread of its own: the pin must not leak into the test harness.
        std::thread::spawn(|| {
            // SAFETY: zeroed cpu_set_t is valid; sched_getaffinity fills it.
            let allowed = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(
                    libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                    0
                );
                (0..libc::CPU_SETSIZE as usize)
                    .find(|&c| libc::CPU_ISSET(c, &set))
                    .expect("some CPU is allowed")
            };
            pin_current_thread(allowed).expect("pin to an allowed CPU");
            // SAFETY: sched_getcpu has no preconditions.
            assert_eq!(unsafe { libc::sched_getcpu() }, allowed as i32);
            assert!(pin_current_thread(libc::CPU_SETSIZE as usize).is_err());
            assert!(pin_current_thread(libc::CPU_SETSIZE as usize - 1).is_err());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn loopback_is_listed_and_random_differs() {
        let a = local_ipv4_addresses().unwrap();
        assert!(a.contains(&Ipv4Addr::LOCALHOST), "{a:?}");
        let all = interfaces().unwrap();
        let lo = all
            .values()
            .find(|i| i.addresses.contains(&(Ipv4Addr::LOCALHOST, 8)))
            .unwrap_or_else(|| panic!("{all:?}"));
        assert_ne!(lo.index, 0);
        let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
        fill_random(&mut x).unwrap();
        fill_random(&mut y).unwrap();
        assert_ne!(x, y);
    }
}
