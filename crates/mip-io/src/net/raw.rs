//! Raw IPv4 sockets for the tunnel protocols.
//!
//! * [`RawSocket::receiver`]: one per protocol (4 IP-in-IP, 47 GRE, 55 minimal
//!   encapsulation). Reads return outer header + payload, after the kernel reassembled outer
//!   fragments. While one is open the kernel sends no ICMP "protocol unreachable" for the
//!   protocol. The same socket sends the rare packets the kernel must fragment: without
//!   `IP_HDRINCL`, the kernel writes the outer header (TTL, TOS and source given per packet in
//!   control messages) and, with `IP_PMTUDISC_DONT`, fragments it and clears DF.
//! * [`RawSocket::sender`]: one `IPPROTO_RAW` socket for the fast path. `IP_HDRINCL` is
//!   implied, so the engine writes the outer header itself (TTL, DF, TOS, Identification);
//!   it receives nothing. The kernel refuses (`EMSGSIZE`) a packet larger than the output
//!   device's MTU instead of fragmenting it.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::os::Mmsg;

/// A raw IPv4 socket. See the module documentation.
#[derive(Debug)]
pub struct RawSocket {
    fd: OwnedFd,
    protocol: u8,
}

fn sockaddr(addr: Ipv4Addr) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_addr.s_addr = u32::from_ne_bytes(addr.octets());
    sa
}

fn setsockopt<T>(fd: RawFd, level: i32, name: i32, v: &T) -> io::Result<()> {
    // SAFETY: `v` points to a live T and the length passed is its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn raw_socket(protocol: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            protocol,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("raw socket for IP protocol {protocol}: {e}"),
        ));
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Scratch space for [`RawSocket::send_batch`] and [`RawSocket::recv_batch`] (one per
/// thread).
pub type MmsgScratch = Mmsg<libc::sockaddr_in>;

impl RawSocket {
    /// A receive socket for IP protocol `protocol`, non-blocking, with a large receive buffer
    /// and `IP_PMTUDISC_DONT` (its sends may be fragmented by the kernel).
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_RAW`).
    pub fn receiver(protocol: u8) -> io::Result<Self> {
        let fd = raw_socket(i32::from(protocol))?;
        let big: i32 = 8 << 20;
        if setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &big).is_err() {
            let _ = setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &big);
        }
        setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            &libc::IP_PMTUDISC_DONT,
        )?;
        Ok(RawSocket { fd, protocol })
    }

    /// The `IPPROTO_RAW` send socket (header included; receives nothing).
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_RAW`).
    pub fn sender() -> io::Result<Self> {
        let fd = raw_socket(libc::IPPROTO_RAW)?;
        let big: i32 = 8 << 20;
        if setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &big).is_err() {
            let _ = setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, &big);
        }
        Ok(RawSocket {
            fd,
            protocol: libc::IPPROTO_RAW as u8,
        })
    }

    /// The IP protocol of the socket (255 for the sender).
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// Sends one datagram (whole, header included, on the [`RawSocket::sender`]; the payload
    /// after the header on a receiver) to `destination`.
    ///
    /// # Errors
    /// The kernel refused (`EMSGSIZE`, `ENETUNREACH`, `ENOBUFS`, ...).
    pub fn send_to(&self, packet: &[u8], destination: Ipv4Addr) -> io::Result<usize> {
        let sa = sockaddr(destination);
        // SAFETY: `packet` and `sa` are valid for the lengths passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Sends `payload` (what follows the IP header) on a receive socket: the kernel builds the
    /// header (this socket's protocol, source `source` through `IP_PKTINFO`, `ttl`, `tos`) and
    /// fragments the datagram if it does not fit the path (DF clear).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn send_payload(
        &self,
        payload: &[u8],
        source: Ipv4Addr,
        destination: Ipv4Addr,
        ttl: u8,
        tos: u8,
    ) -> io::Result<usize> {
        let mut sa = sockaddr(destination);
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        // Room for three control messages (each at most CMSG_SPACE(12) = 32 bytes).
        let mut control = [0u64; 16];
        // SAFETY: msghdr is plain data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_in).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: the control buffer is 8-byte aligned and large enough for the three
        // messages written; CMSG_* walk it within msg_controllen, and each data pointer is
        // written with an unaligned write of exactly the length announced in cmsg_len.
        unsafe {
            let pktinfo = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from_ne_bytes(source.octets()),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), pktinfo);
            let mut used = libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32);
            c = libc::CMSG_NXTHDR(&msg, c);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_TTL;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), i32::from(ttl));
            used += libc::CMSG_SPACE(4);
            c = libc::CMSG_NXTHDR(&msg, c);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_TOS;
            (*c).cmsg_len = libc::CMSG_LEN(1) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c), tos);
            used += libc::CMSG_SPACE(1);
            msg.msg_controllen = used as _;
        }
        // SAFETY: `msg` points to live buffers (`sa`, `iov`, `payload`, `control`).
        let n = unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Sends several whole datagrams with one `sendmmsg(2)`. Returns how many were sent; on a
    /// failure, how many went before it and the error of the first one that did not (the
    /// caller skips it and calls again with the rest).
    ///
    /// # Errors
    /// See above.
    pub fn send_batch<'a>(
        &self,
        scratch: &mut MmsgScratch,
        packets: impl IntoIterator<Item = (&'a [u8], Ipv4Addr)>,
    ) -> Result<usize, (usize, io::Error)> {
        scratch.send_all(
            self.fd.as_raw_fd(),
            0,
            packets.into_iter().map(|(p, dst)| (p, sockaddr(dst))),
        )
    }

    /// Receives up to `bufs.len()` datagrams with one non-blocking `recvmmsg(2)`; writes
    /// their lengths into `lens` and returns how many arrived (0 when none was queued).
    /// A datagram longer than its buffer is truncated (`lens` then holds the real length).
    ///
    /// # Errors
    /// A pending socket error (an ICMP error for a sent packet) or another failure.
    pub fn recv_batch(
        &self,
        scratch: &mut MmsgScratch,
        bufs: &mut [Vec<u8>],
        lens: &mut [usize],
    ) -> io::Result<usize> {
        scratch.hdrs.clear();
        scratch.iovs.clear();
        for b in bufs.iter_mut() {
            scratch.iovs.push(libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            });
        }
        for i in 0..bufs.len() {
            // SAFETY: mmsghdr is plain data; all-zero is a valid value.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = &mut scratch.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            scratch.hdrs.push(h);
        }
        // SAFETY: every header points to a live iovec over a live buffer of the length given.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                scratch.hdrs.as_mut_ptr(),
                bufs.len() as u32,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(0);
            }
            return Err(e);
        }
        let n = n as usize;
        for (l, h) in lens.iter_mut().zip(&scratch.hdrs).take(n) {
            *l = h.msg_len as usize;
        }
        Ok(n)
    }
}

impl AsRawFd for RawSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
