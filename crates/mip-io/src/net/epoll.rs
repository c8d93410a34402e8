//! An epoll set: one descriptor that is readable when any of its sockets is, so that one
//! [`Poller`](crate::Poller) (socket + waker of the control and signal threads) waits for all
//! of a role's sockets.

use std::io;
use std::mem::zeroed;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::os::cvt;

/// Most descriptors [`Epoll::ready`] reports at once.
pub const READY_MAX: usize = 64;

/// An epoll instance: readable when one of its descriptors is.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// A new instance.
    ///
    /// # Errors
    /// Descriptor limit.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain epoll_create1(2) call; the result is checked before use.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for input (level-triggered). The caller keeps `fd` open while it is
    /// watched (or [`Epoll::remove`]s it first); a closed descriptor is dropped from the set
    /// by the kernel.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn add(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid epoll_event; the kernel only reads it.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })
            .map(drop)
    }

    /// Stops watching `fd` (before it is closed).
    pub fn remove(&self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL.
        unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            );
        }
    }

    /// The descriptors with input now (no waiting), at most [`READY_MAX`].
    pub fn ready(&self) -> Vec<RawFd> {
        // SAFETY: plain old data; all-zero is valid.
        let mut evs: [libc::epoll_event; READY_MAX] = unsafe { zeroed() };
        // SAFETY: `evs` has room for the READY_MAX events asked for.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                evs.as_mut_ptr(),
                READY_MAX as libc::c_int,
                0,
            )
        };
        if n <= 0 {
            return Vec::new();
        }
        evs[..n as usize].iter().map(|e| e.u64 as RawFd).collect()
    }
}

impl AsRawFd for Epoll {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_member_is_reported() {
        let e = Epoll::new().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        e.add(a.as_raw_fd()).unwrap();
        e.add(b.as_raw_fd()).unwrap();
        assert!(e.ready().is_empty());
        b.send_to(b"x", a.local_addr().unwrap()).unwrap();
        let mut r = Vec::new();
        for _ in 0..100 {
            r = e.ready();
            if !r.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(r, vec![a.as_raw_fd()]);
        e.remove(a.as_raw_fd());
        assert!(e.ready().is_empty());
    }
}
