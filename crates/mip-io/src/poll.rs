//! The readiness wait of the daemon's loop: `ppoll(2)` on one socket and an `eventfd(2)`
//! that other threads (the control server, the signal handler) ring through a [`Waker`] after
//! they queued work for the loop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// Wakes the loop blocked in [`Poller::wait`]. Cheap to clone; usable from any thread.
#[derive(Clone, Debug)]
pub struct Waker {
    fd: Arc<OwnedFd>,
}

impl Waker {
    /// Rings the loop. Never blocks; ringing an already rung waker is a no-op.
    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to an eventfd we own. The only failure is
        // EAGAIN when the counter is near overflow, which means it is rung already.
        unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }

    fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from a non-blocking eventfd we own.
        unsafe {
            libc::read(self.fd.as_raw_fd(), (&mut v as *mut u64).cast(), 8);
        }
    }
}

/// What [`Poller::wait`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// The socket has datagrams to read (or an error to report).
    pub readable: bool,
    /// A [`Waker`] was rung since the last wait.
    pub woken: bool,
}

/// Waits for a socket or a [`Waker`].
#[derive(Debug)]
pub struct Poller {
    waker: Waker,
}

impl Poller {
    /// A poller with its own waker.
    ///
    /// # Errors
    /// `eventfd(2)` failed (descriptor limit).
    pub fn new() -> io::Result<Poller> {
        // SAFETY: plain system call; the result is checked before use.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Poller {
            waker: Waker { fd: Arc::new(fd) },
        })
    }

    /// A handle that wakes this poller.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Blocks until `socket` is readable, the waker was rung, or `timeout` passed (`None`:
    /// no timeout). A signal interrupting the wait returns nothing ready. The waker is reset.
    ///
    /// # Errors
    /// Those of `ppoll(2)` other than `EINTR`.
    pub fn wait(&self, socket: &impl AsRawFd, timeout: Option<Duration>) -> io::Result<Readiness> {
        let mut fds = [
            libc::pollfd {
                fd: socket.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.waker.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let tsp = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: two valid pollfds; tsp is null or points at a timespec that outlives the
        // call; no signal mask is changed.
        let r = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, tsp, std::ptr::null()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(Readiness::default());
            }
            return Err(e);
        }
        let woken = fds[1].revents & libc::POLLIN != 0;
        if woken {
            self.waker.drain();
        }
        Ok(Readiness {
            readable: fds[0].revents != 0,
            woken,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udp::UdpEndpoint;
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::time::Instant;

    #[test]
    fn timeout_wake_and_readable() {
        let s = UdpEndpoint::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let p = Poller::new().unwrap();
        let t = Instant::now();
        let r = p.wait(&s, Some(Duration::from_millis(30))).unwrap();
        assert_eq!(r, Readiness::default());
        assert!(t.elapsed() >= Duration::from_millis(25));

        let w = p.waker();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            w.wake();
            w.wake();
        });
        let r = p.wait(&s, Some(Duration::from_secs(5))).unwrap();
        assert!(r.woken && !r.readable);
        // Reset: the next wait times out.
        let r = p.wait(&s, Some(Duration::from_millis(5))).unwrap();
        assert!(!r.woken);

        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        c.send_to(b"x", s.local_addr()).unwrap();
        let r = p.wait(&s, Some(Duration::from_secs(5))).unwrap();
        assert!(r.readable);
    }
}
