//! Batched UDP I/O with `recvmmsg(2)` and `sendmmsg(2)`, shared by the load generator and the
//! echo responder so that the echo baseline pays exactly the generator's per-datagram costs.
//!
//! Sockets are non-blocking; [`wait_readable`] sleeps in `ppoll(2)` until one is readable or a
//! deadline passes. Buffers are allocated once per batch object and reused.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::Duration;

/// Bytes reserved per datagram in a batch (Registration messages are far smaller).
pub const SLOT: usize = 512;

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn from_sockaddr(s: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
        u16::from_be(s.sin_port),
    )
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `v` lives across the call and its size is passed.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const v).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A non-blocking UDP socket bound to `bind`, with `buffer` bytes of send and receive buffer
/// (forced past `rmem_max`/`wmem_max` when running as root) and, if asked, `SO_REUSEPORT` so
/// that several threads can each own a socket on the same port.
///
/// # Errors
/// Socket creation or bind failed.
pub fn udp_socket(bind: SocketAddrV4, buffer: usize, reuse_port: bool) -> io::Result<UdpSocket> {
    // SAFETY: plain socket(2) call; the descriptor is owned by the UdpSocket below.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let sock = unsafe { UdpSocket::from_raw_fd(fd) };
    let size = libc::c_int::try_from(buffer).unwrap_or(libc::c_int::MAX);
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if setsockopt_int(fd, libc::SOL_SOCKET, force, size).is_err() {
            // Not root: take what rmem_max/wmem_max allow.
            let _ = setsockopt_int(fd, libc::SOL_SOCKET, plain, size);
        }
    }
    if reuse_port {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    let sa = sockaddr(bind);
    // SAFETY: `sa` is a valid sockaddr_in and its size is passed.
    let r = unsafe {
        libc::bind(
            fd,
            (&raw const sa).cast(),
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sock)
}

/// Control-message room per datagram for an `SCM_TIMESTAMPNS` (a 16-byte timespec).
const CMSG_SLOT: usize = 32;

/// Control message buffer of one datagram, aligned for `cmsghdr`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct CmsgSlot([u8; CMSG_SLOT]);

/// Asks the kernel to stamp every datagram `fd` receives with the time it arrived
/// (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`), read back by [`RecvBatch::stamp_ns`].
///
/// # Errors
/// The kernel refused the option.
pub fn enable_rx_timestamps(fd: RawFd) -> io::Result<()> {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
}

/// Received datagrams: up to `capacity` per call.
pub struct RecvBatch {
    buf: Vec<u8>,
    lens: Vec<usize>,
    addrs: Vec<libc::sockaddr_in>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    cmsgs: Vec<CmsgSlot>,
    stamps: Vec<Option<u64>>,
    n: usize,
}

impl RecvBatch {
    /// Room for `capacity` datagrams of up to [`SLOT`] bytes.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, 1024);
        // SAFETY: all-zero is a valid sockaddr_in / iovec / mmsghdr (null pointers, zero
        // lengths); the pointers are set before every use.
        let zero_addr: libc::sockaddr_in = unsafe { mem::zeroed() };
        RecvBatch {
            buf: vec![0; capacity * SLOT],
            lens: vec![0; capacity],
            addrs: vec![zero_addr; capacity],
            iov: (0..capacity)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            // SAFETY: as above.
            hdrs: (0..capacity).map(|_| unsafe { mem::zeroed() }).collect(),
            cmsgs: vec![CmsgSlot([0; CMSG_SLOT]); capacity],
            stamps: vec![None; capacity],
            n: 0,
        }
    }

    /// Receives what is queued on `fd` without blocking, up to the capacity. Returns how
    /// many datagrams arrived (0 when none was waiting).
    ///
    /// # Errors
    /// Errors of `recvmmsg` other than `EAGAIN`/`EINTR` (e.g. `ECONNREFUSED` on a connected
    /// socket whose peer is not listening).
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let cap = self.lens.len();
        let base = self.buf.as_mut_ptr();
        for i in 0..cap {
            self.iov[i] = libc::iovec {
                // SAFETY: i * SLOT + SLOT <= buf.len().
                iov_base: unsafe { base.add(i * SLOT) }.cast(),
                iov_len: SLOT,
            };
            let h = &mut self.hdrs[i];
            h.msg_hdr.msg_name = (&raw mut self.addrs[i]).cast();
            h.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &raw mut self.iov[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = self.cmsgs[i].0.as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = CMSG_SLOT as _;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        self.n = 0;
        loop {
            // SAFETY: `hdrs[..cap]` point into `buf`, `iov` and `addrs`, which outlive the
            // call and are not otherwise borrowed during it.
            let r = unsafe {
                libc::recvmmsg(
                    fd,
                    self.hdrs.as_mut_ptr(),
                    cap as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r >= 0 {
                self.n = r as usize;
                for i in 0..self.n {
                    self.lens[i] = (self.hdrs[i].msg_len as usize).min(SLOT);
                    self.stamps[i] = rx_stamp(&self.hdrs[i].msg_hdr);
                }
                return Ok(self.n);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(0),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        }
    }

    /// Datagrams received by the last [`Self::recv`].
    pub fn len(&self) -> usize {
        self.n
    }

    /// None received by the last call.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// When datagram `i` of the last call arrived (`CLOCK_REALTIME`, nanoseconds), if the
    /// socket has [`enable_rx_timestamps`].
    pub fn stamp_ns(&self, i: usize) -> Option<u64> {
        self.stamps.get(i).copied().flatten()
    }

    /// Datagram `i` of the last call and its source.
    pub fn get(&self, i: usize) -> (&[u8], SocketAddrV4) {
        let start = i * SLOT;
        (
            &self.buf[start..start + self.lens[i]],
            from_sockaddr(&self.addrs[i]),
        )
    }
}

/// The `SCM_TIMESTAMPNS` of a received message header, nanoseconds since the epoch.
fn rx_stamp(h: &libc::msghdr) -> Option<u64> {
    // SAFETY: the kernel filled msg_control/msg_controllen; the CMSG_* macros stay within
    // them, and the payload is read unaligned with the size the kernel defines.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                let ns = u64::try_from(ts.tv_sec).ok()?.checked_mul(1_000_000_000)?;
                return ns.checked_add(u64::try_from(ts.tv_nsec).ok()?);
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

/// Datagrams to send in one `sendmmsg` call (or a few, if the kernel takes part of them).
pub struct SendBatch {
    buf: Vec<u8>,
    lens: Vec<usize>,
    dests: Vec<Option<libc::sockaddr_in>>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    n: usize,
}

impl SendBatch {
    /// Room for `capacity` datagrams of up to [`SLOT`] bytes.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, 1024);
        SendBatch {
            buf: vec![0; capacity * SLOT],
            lens: vec![0; capacity],
            dests: vec![None; capacity],
            iov: (0..capacity)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            // SAFETY: all-zero is a valid mmsghdr; pointers are set before use.
            hdrs: (0..capacity).map(|_| unsafe { mem::zeroed() }).collect(),
            n: 0,
        }
    }

    /// Datagrams queued.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// No room for another datagram.
    pub fn is_full(&self) -> bool {
        self.n == self.lens.len()
    }

    /// Queues a datagram written by `write` into a [`SLOT`]-byte buffer (it returns the
    /// length, or `None` to queue nothing), to `dest` (`None` on a connected socket).
    /// False when the batch is full or `write` declined.
    pub fn push_with(
        &mut self,
        dest: Option<SocketAddrV4>,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> bool {
        if self.is_full() {
            return false;
        }
        let i = self.n;
        let slot = &mut self.buf[i * SLOT..(i + 1) * SLOT];
        let Some(len) = write(slot) else {
            return false;
        };
        self.lens[i] = len.min(SLOT);
        self.dests[i] = dest.map(sockaddr);
        self.n += 1;
        true
    }

    /// Sends the queued datagrams on `fd` and empties the batch. Returns how many the kernel
    /// took, in order (the rest are dropped: the socket buffer was full).
    ///
    /// # Errors
    /// Errors of `sendmmsg` other than `EAGAIN`/`EINTR`, for the first datagram; the batch is
    /// emptied anyway.
    pub fn flush(&mut self, fd: RawFd) -> io::Result<usize> {
        let n = self.n;
        self.n = 0;
        let base = self.buf.as_mut_ptr();
        for i in 0..n {
            self.iov[i] = libc::iovec {
                // SAFETY: i * SLOT + SLOT <= buf.len().
                iov_base: unsafe { base.add(i * SLOT) }.cast(),
                iov_len: self.lens[i],
            };
            let h = &mut self.hdrs[i];
            match &mut self.dests[i] {
                Some(d) => {
                    h.msg_hdr.msg_name = (d as *mut libc::sockaddr_in).cast();
                    h.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
                }
                None => {
                    h.msg_hdr.msg_name = std::ptr::null_mut();
                    h.msg_hdr.msg_namelen = 0;
                }
            }
            h.msg_hdr.msg_iov = &raw mut self.iov[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        let mut sent = 0;
        while sent < n {
            // SAFETY: `hdrs[sent..n]` point into `buf`, `iov` and `dests`, alive and not
            // otherwise borrowed during the call.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs.as_mut_ptr().add(sent),
                    (n - sent) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                sent += r as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => break,
                _ if sent > 0 => break,
                _ => return Err(e),
            }
        }
        Ok(sent)
    }
}

/// Sleeps until one of `fds` is readable or `timeout` has passed. Returns whether one is
/// readable.
///
/// # Errors
/// `ppoll` failed (other than by a signal).
pub fn wait_readable(fds: &[RawFd], timeout: Duration) -> io::Result<bool> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `pfds` and `ts` are valid for the call; no signal mask is passed.
    let r = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            &raw const ts,
            std::ptr::null(),
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(r > 0)
}

/// CPU time (user + system) this process has used so far, seconds.
pub fn cpu_seconds() -> f64 {
    // SAFETY: all-zero is a valid rusage, filled by the call.
    let mut ru: libc::rusage = unsafe { mem::zeroed() };
    // SAFETY: `ru` is valid for writing.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut ru) } != 0 {
        return 0.0;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// The raw descriptor of a socket.
pub fn fd(s: &UdpSocket) -> RawFd {
    s.as_raw_fd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip_on_loopback() {
        let lo = Ipv4Addr::LOCALHOST;
        let a = udp_socket(SocketAddrV4::new(lo, 0), 1 << 20, false).unwrap();
        let b = udp_socket(SocketAddrV4::new(lo, 0), 1 << 20, false).unwrap();
        let b_addr = match b.local_addr().unwrap() {
            std::net::SocketAddr::V4(v) => v,
            _ => unreachable!(),
        };
        let mut tx = SendBatch::new(8);
        for i in 0..5u8 {
            assert!(tx.push_with(Some(b_addr), |s| {
                s[..3].copy_from_slice(&[i, i, i]);
                Some(3)
            }));
        }
        assert!(!tx.push_with(Some(b_addr), |_| None));
        assert_eq!(tx.len(), 5);
        assert_eq!(tx.flush(fd(&a)).unwrap(), 5);
        assert!(tx.is_empty());
        assert!(wait_readable(&[fd(&b)], Duration::from_secs(2)).unwrap());
        let mut rx = RecvBatch::new(16);
        let mut got = vec![];
        for _ in 0..100 {
            let n = rx.recv(fd(&b)).unwrap();
            for i in 0..n {
                let (d, from) = rx.get(i);
                assert_eq!(
                    from,
                    match a.local_addr().unwrap() {
                        std::net::SocketAddr::V4(v) => v,
                        _ => unreachable!(),
                    }
                );
                got.push(d.to_vec());
            }
            if got.len() == 5 {
                break;
            }
            let _ = wait_readable(&[fd(&b)], Duration::from_millis(50));
        }
        assert_eq!(got, (0..5u8).map(|i| vec![i, i, i]).collect::<Vec<_>>());
        assert_eq!(rx.recv(fd(&b)).unwrap(), 0);
        assert!(!wait_readable(&[fd(&b)], Duration::from_millis(1)).unwrap());
    }

    #[test]
    fn receive_timestamps_are_the_arrival_time() {
        let lo = Ipv4Addr::LOCALHOST;
        let a = udp_socket(SocketAddrV4::new(lo, 0), 1 << 20, false).unwrap();
        let b = udp_socket(SocketAddrV4::new(lo, 0), 1 << 20, false).unwrap();
        let b_addr = match b.local_addr().unwrap() {
            std::net::SocketAddr::V4(v) => v,
            _ => unreachable!(),
        };
        let real = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        };
        let mut rx = RecvBatch::new(4);
        // Without the option: no stamp.
        a.send_to(b"x", b_addr).unwrap();
        assert!(wait_readable(&[fd(&b)], Duration::from_secs(2)).unwrap());
        assert_eq!(rx.recv(fd(&b)).unwrap(), 1);
        assert_eq!(rx.stamp_ns(0), None);
        enable_rx_timestamps(fd(&b)).unwrap();
        // The first socket on the machine to ask for stamps turns them on in the kernel
        // through a work queue: until then datagrams are stamped when read. So a few tries:
        // at least one must show the arrival time, and every stamp must be after the send.
        let mut arrival_stamped = false;
        for _ in 0..20 {
            let before = real();
            a.send_to(b"y", b_addr).unwrap();
            // Read well after arrival: the stamp is the arrival, not the read.
            std::thread::sleep(Duration::from_millis(30));
            let read_at = real();
            assert_eq!(rx.recv(fd(&b)).unwrap(), 1);
            assert_eq!(rx.get(0).0, b"y");
            let stamp = rx.stamp_ns(0).expect("a stamp");
            assert!(stamp >= before, "{stamp} < {before}");
            if stamp + 20_000_000 < read_at {
                arrival_stamped = true;
                break;
            }
        }
        assert!(
            arrival_stamped,
            "always stamped at read time, never at arrival"
        );
    }
}
