//! A TUN device (`IFF_TUN | IFF_NO_PI`): every read is one IPv4 (or IPv6) packet the kernel
//! routed into the device, every write is one packet the kernel receives as if it had arrived
//! on it.
//!
//! Opened with `ioctl(TUNSETIFF)` on `/dev/net/tun` (no crate). The device is not persistent:
//! it disappears when the [`Tun`] is dropped, taking its routes with it.
//!
//! [`Tun::open_offload`] adds `IFF_VNET_HDR` and `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)`:
//! every read and write is then prefixed by a `virtio_net_hdr`
//! ([`VnetHdr`](super::offload::VnetHdr)); reads may be TCP super-segments of up to 64 KB with
//! a partial checksum, and writes may be too (see [`offload`](super::offload)).
//! [`Tun::read`] hands the header to the caller; [`Tun::write`] adds an empty one.
//!
//! [`Tun::open_queues`] makes a multi-queue device (`IFF_MULTI_QUEUE`): one descriptor per
//! queue, the kernel choosing a queue per flow, so that one thread per queue can read it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::netlink::Netlink;
use super::offload::VNET_HDR_LEN;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;
const IFNAMSIZ: usize = 16;

/// An open TUN device. See the module documentation.
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: String,
    index: u32,
    vnet: bool,
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
        Tun::create_with(name, false, false)
    }

    fn create_with(name: &str, vnet: bool, multi_queue: bool) -> io::Result<Tun> {
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
        let mut flags = (libc::IFF_TUN | libc::IFF_NO_PI) as i16;
        if vnet {
            flags |= libc::IFF_VNET_HDR as i16;
        }
        if multi_queue {
            flags |= libc::IFF_MULTI_QUEUE as i16;
        }
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
        set_txqueuelen(&name, TXQUEUELEN);
        if vnet {
            // SAFETY: TUNSETOFFLOAD takes its argument by value.
            let r = unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) };
            if r < 0 {
                let e = io::Error::last_os_error();
                return Err(io::Error::new(
                    e.kind(),
                    format!("TUNSETOFFLOAD {name}: {e}"),
                ));
            }
        }
        Ok(Tun {
            fd,
            name,
            index,
            vnet,
        })
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

    /// [`Tun::open`] with `IFF_VNET_HDR` and the checksum and TCP segmentation offloads (see
    /// the module documentation). When the kernel refuses them, falls back to [`Tun::open`]
    /// (logged); [`Tun::vnet_hdr`] tells which one it got.
    ///
    /// # Errors
    /// As [`Tun::open`].
    pub fn open_offload(name: &str, mtu: u32) -> io::Result<Tun> {
        let tun = match Tun::create_with(name, true, false) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(
                    "TUN {name}: offloads (IFF_VNET_HDR, TUN_F_CSUM|TUN_F_TSO4) not available \
                     ({e}); one packet per read and write"
                );
                return Tun::open(name, mtu);
            }
        };
        let mut nl = Netlink::open()?;
        nl.link_set_mtu(tun.index, mtu)?;
        nl.link_set_up(tun.index, true)?;
        Ok(tun)
    }

    /// A multi-queue TUN device (`IFF_MULTI_QUEUE`) with `queues` queues, MTU set and up: one
    /// [`Tun`] per queue, each its own descriptor. The kernel spreads the packets it routes
    /// into the device over the queues by flow (a flow stays on one queue); a write on any
    /// queue is received on the device. With `offload`, as [`Tun::open_offload`] (falling back
    /// to plain queues when the kernel refuses). `queues` = 1 gives a single-queue device like
    /// [`Tun::open`] / [`Tun::open_offload`].
    ///
    /// # Errors
    /// As [`Tun::open`]; `queues` = 0, or the kernel refuses a queue.
    pub fn open_queues(name: &str, mtu: u32, queues: usize, offload: bool) -> io::Result<Vec<Tun>> {
        match queues {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a TUN device needs one queue at least",
                ))
            }
            1 if offload => return Ok(vec![Tun::open_offload(name, mtu)?]),
            1 => return Ok(vec![Tun::open(name, mtu)?]),
            _ => {}
        }
        let first = match Tun::create_with(name, offload, true) {
            Ok(t) => t,
            Err(e) if offload => {
                tracing::warn!(
                    "TUN {name}: offloads (IFF_VNET_HDR, TUN_F_CSUM|TUN_F_TSO4) not available \
                     ({e}); one packet per read and write"
                );
                Tun::create_with(name, false, true)?
            }
            Err(e) => return Err(e),
        };
        let vnet = first.vnet;
        let mut all = vec![first];
        for _ in 1..queues {
            // The same name and flags attach one more queue to the device.
            let q = Tun::create_with(&all[0].name, vnet, true)?;
            all.push(q);
        }
        let mut nl = Netlink::open()?;
        nl.link_set_mtu(all[0].index, mtu)?;
        nl.link_set_up(all[0].index, true)?;
        Ok(all)
    }

    /// Whether reads and writes carry a `virtio_net_hdr` ([`Tun::open_offload`]).
    pub fn vnet_hdr(&self) -> bool {
        self.vnet
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's interface index.
    pub fn ifindex(&self) -> u32 {
        self.index
    }

    /// Reads one packet (after its `virtio_net_hdr` when [`Tun::vnet_hdr`]); `WouldBlock` when
    /// none is queued.
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
        if self.vnet {
            return self
                .write_vnet(&[0; VNET_HDR_LEN], packet)
                .map(|n| n.saturating_sub(VNET_HDR_LEN));
        }
        // SAFETY: `packet` is a valid buffer of the given length.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl Tun {
    /// Writes `packet` after the `virtio_net_hdr` `hdr` (only on a [`Tun::vnet_hdr`] device),
    /// with one `writev(2)`.
    ///
    /// # Errors
    /// As [`Tun::write`].
    pub fn write_vnet(&self, hdr: &[u8; VNET_HDR_LEN], packet: &[u8]) -> io::Result<usize> {
        let iov = [
            libc::iovec {
                iov_base: hdr.as_ptr() as *mut libc::c_void,
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: packet.as_ptr() as *mut libc::c_void,
                iov_len: packet.len(),
            },
        ];
        // SAFETY: both iovecs describe live buffers of the lengths given.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), 2) };
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

/// Packets the kernel may queue for the engine on the device (`txqueuelen`; the kernel's TUN
/// default is 500). A burst the engine has not read yet waits instead of being dropped: at
/// 500 a TCP stream into the tunnel lost packets on every burst and backed off.
const TXQUEUELEN: u32 = 4096;

/// Sets the device's `txqueuelen` (`SIOCSIFTXQLEN`). Best effort: a refusal leaves the
/// kernel's default, which only costs drops under bursts.
fn set_txqueuelen(name: &str, len: u32) {
    const SIOCSIFTXQLEN: libc::c_ulong = 0x8943;
    // SAFETY: plain socket(2); the descriptor is owned right below.
    let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if s < 0 {
        return;
    }
    // SAFETY: `s` is a fresh descriptor that nothing else owns.
    let s = unsafe { OwnedFd::from_raw_fd(s) };
    // struct ifreq: name[16], then the union, here `int ifr_qlen`.
    let mut ifr = [0u8; 40];
    let n = name.len().min(IFNAMSIZ - 1);
    ifr[..n].copy_from_slice(&name.as_bytes()[..n]);
    ifr[16..20].copy_from_slice(&(len as i32).to_ne_bytes());
    // SAFETY: `ifr` is a 40-byte buffer laid out as struct ifreq, which the ioctl reads.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), SIOCSIFTXQLEN, ifr.as_mut_ptr()) };
    if r < 0 {
        tracing::debug!(
            device = name,
            error = %io::Error::last_os_error(),
            "cannot set txqueuelen; the kernel's default stays"
        );
    }
}
