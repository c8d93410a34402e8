//! A TUN device (`IFF_TUN | IFF_NO_PI`): every read is one IPv4 (or IPv6) packet the kernel
//! routed into the device, every write is one packet the kernel receives as if it had arrived
//! on it.
//!
//! Opened with `ioctl(TUNSETIFF)` on `/dev/net/tun` (no crate). The device is not persistent:
//! it disappears when the [`Tun`] is dropped, taking its routes with it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::netlink::Netlink;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFNAMSIZ: usize = 16;

/// An open TUN device. See the module documentation.
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: String,
    index: u32,
}

impl Tun {
    /// Creates the TUN device `name` (or a kernel-chosen name when `name` contains `%d`, e.g.
    /// `mip%d`) in the calling thread's network namespace, non-blocking. The device is down
    /// and has the default MTU (1500); see [`Tun::open`].
    ///
    /// # Errors
    /// `/dev/net/tun` is missing, the name is too long or taken by another kind of device, or
    /// not permitted.
    pub fn create(name: &str) -> io::Result<Tun> {
        if name.len() >= IFNAMSIZ || name.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("TUN device name {name:?}: 1 to 15 bytes"),
            ));
        }
        // SAFETY: the path is a NUL-terminated literal.
        let fd = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("open /dev/net/tun: {e}")));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // struct ifreq: name[16], then a union whose first member here is `short ifr_flags`.
        let mut ifr = [0u8; 40];
        ifr[..name.len()].copy_from_slice(name.as_bytes());
        let flags = (libc::IFF_TUN | libc::IFF_NO_PI) as i16;
        ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
        // SAFETY: `ifr` is a 40-byte buffer laid out as struct ifreq, which TUNSETIFF reads and
        // writes (the kernel writes back the chosen name).
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, ifr.as_mut_ptr()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}")));
        }
        let end = ifr[..IFNAMSIZ]
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(IFNAMSIZ);
        let name = String::from_utf8_lossy(&ifr[..end]).into_owned();
        let cname = std::ffi::CString::new(name.clone()).map_err(io::Error::other)?;
        // SAFETY: `cname` is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if index == 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("if_nametoindex {name}: {e}"),
            ));
        }
        Ok(Tun { fd, name, index })
    }

    /// [`Tun::create`], then sets the MTU and brings the device up.
    ///
    /// # Errors
    /// As [`Tun::create`], or the MTU or up change is refused.
    pub fn open(name: &str, mtu: u32) -> io::Result<Tun> {
        let tun = Tun::create(name)?;
        let mut nl = Netlink::open()?;
        nl.link_set_mtu(tun.index, mtu)?;
        nl.link_set_up(tun.index, true)?;
        Ok(tun)
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's interface index.
    pub fn ifindex(&self) -> u32 {
        self.index
    }

    /// Reads one packet; `WouldBlock` when none is queued.
    ///
    /// # Errors
    /// `WouldBlock`, or the device is gone.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is a valid writable buffer of the given length.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Writes one packet: the kernel receives it on the device (and routes, forwards or
    /// delivers it).
    ///
    /// # Errors
    /// The packet is malformed (`EINVAL`) or the device is down (`EIO`).
    pub fn write(&self, packet: &[u8]) -> io::Result<usize> {
        // SAFETY: `packet` is a valid buffer of the given length.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
