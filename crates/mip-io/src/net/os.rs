//! Small helpers shared by the socket modules of `net` (packet, ICMP/`IP_PKTINFO`, epoll,
//! link notifications): checked system calls, socket creation, socket options, socket
//! addresses and an aligned control-message buffer. Every `unsafe` block says why it is sound.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Turns a negative system-call result into the thread's `errno`.
pub(crate) fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A non-blocking, close-on-exec socket.
pub(crate) fn new_socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = cvt(unsafe {
        libc::socket(
            domain,
            ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            protocol,
        )
    })?;
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(2)` with the value `v` (its size is passed).
pub(crate) fn setsockopt<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: &T,
) -> io::Result<()> {
    // SAFETY: `v` is a live value of the size passed; the kernel copies it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `bind(2)` to the socket address `sa` (a `sockaddr_*` of the family of `fd`).
pub(crate) fn bind<T>(fd: RawFd, sa: &T) -> io::Result<()> {
    // SAFETY: `sa` is a live, initialised socket address of the size passed.
    cvt(unsafe {
        libc::bind(
            fd,
            (sa as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// An IPv4 socket address.
pub(crate) fn sockaddr_in(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all-zero is valid.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = a.port().to_be();
    sa.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    sa
}

/// The address in a `sockaddr_in`.
pub(crate) fn from_sockaddr_in(sa: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
        u16::from_be(sa.sin_port),
    )
}

/// A link-layer socket address: EtherType `protocol` (host order), interface, 6-byte address.
pub(crate) fn sockaddr_ll(protocol: u16, ifindex: u32, mac: Option<[u8; 6]>) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as i32;
    if let Some(mac) = mac {
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&mac);
    }
    sll
}

/// Room for the control messages of one datagram (`IP_PKTINFO` 12 bytes of payload,
/// `PACKET_AUXDATA` 20).
pub(crate) const CMSG_SPACE: usize = 64;

/// Control message buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
pub(crate) struct CmsgBuf(pub(crate) [u8; CMSG_SPACE]);

impl CmsgBuf {
    pub(crate) fn new() -> Self {
        CmsgBuf([0; CMSG_SPACE])
    }
}

/// Runs a receive on a non-blocking socket (`call` returns the system call's result) again
/// while a signal interrupts it: the byte count, or `None` when nothing is waiting.
pub(crate) fn recv_nonblocking(mut call: impl FnMut() -> isize) -> io::Result<Option<usize>> {
    loop {
        let r = call();
        if r >= 0 {
            return Ok(Some(r as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => return Ok(None),
            io::ErrorKind::Interrupted => continue,
            _ => return Err(e),
        }
    }
}

/// Runs a send (`call` returns the system call's result) again while a signal interrupts it.
pub(crate) fn send_retrying(mut call: impl FnMut() -> isize) -> io::Result<()> {
    loop {
        if call() >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Scratch space for `sendmmsg(2)`/`recvmmsg(2)`: the `mmsghdr`, `iovec` and address arrays,
/// kept between calls. It holds raw pointers while a call runs, so it is neither `Send` nor
/// `Sync`; make one per thread. `A` is the socket address type (`sockaddr_in` for raw IPv4
/// sockets, `sockaddr_ll` for packet sockets).
pub struct Mmsg<A> {
    pub(crate) hdrs: Vec<libc::mmsghdr>,
    pub(crate) iovs: Vec<libc::iovec>,
    pub(crate) addrs: Vec<A>,
}

impl<A> std::fmt::Debug for Mmsg<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mmsg")
            .field("capacity", &self.hdrs.capacity())
            .finish()
    }
}

impl<A> Mmsg<A> {
    /// Room for `n` messages per call (more grow the arrays).
    pub fn new(n: usize) -> Self {
        Mmsg {
            hdrs: Vec::with_capacity(n),
            iovs: Vec::with_capacity(n),
            addrs: Vec::with_capacity(n),
        }
    }

    /// Lays out one message per `(payload, destination)` and sends them all with
    /// `sendmmsg(2)` on `fd` (`flags` per call), calling again until every one went. Returns
    /// how many were sent; on a failure, how many went before it and the error of the first
    /// one that did not (the caller skips it and calls again with the rest).
    pub(crate) fn send_all<'a>(
        &mut self,
        fd: RawFd,
        flags: libc::c_int,
        msgs: impl Iterator<Item = (&'a [u8], A)>,
    ) -> Result<usize, (usize, io::Error)> {
        self.hdrs.clear();
        self.iovs.clear();
        self.addrs.clear();
        for (p, a) in msgs {
            self.iovs.push(libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            });
            self.addrs.push(a);
        }
        let total = self.iovs.len();
        for i in 0..total {
            // SAFETY: mmsghdr is plain data; all-zero is a valid value.
            let mut h: libc::mmsghdr = unsafe { zeroed() };
            h.msg_hdr.msg_name = (&mut self.addrs[i] as *mut A).cast();
            h.msg_hdr.msg_namelen = size_of::<A>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            self.hdrs.push(h);
        }
        let mut sent = 0usize;
        while sent < total {
            // SAFETY: every header points into `self` and into the payloads, which outlive
            // the call; the vectors are not resized after being filled.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs[sent..].as_mut_ptr(),
                    (total - sent) as u32,
                    flags,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err((sent, e));
            }
            if n == 0 {
                return Err((sent, io::Error::from(io::ErrorKind::WriteZero)));
            }
            sent += n as usize;
        }
        Ok(sent)
    }
}
