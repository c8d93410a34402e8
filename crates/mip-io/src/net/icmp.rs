//! Sockets that report, for each message, the interface it arrived on (`IP_PKTINFO`
//! `ipi_ifindex`), and send from a chosen address and/or out of a chosen interface:
//!
//! * [`IcmpSocket`]: a raw ICMP socket (`ICMP_FILTER`: types 3 and 10 only) for Agent
//!   Solicitations and ICMP errors about relayed requests; it sends Agent Advertisements with
//!   TTL 1 out of a chosen interface, to 224.0.0.1, 255.255.255.255 or a unicast neighbour.
//! * [`InterfaceUdpSocket`]: the foreign agent's UDP port 434. Unlike
//!   [`UdpEndpoint`](crate::UdpEndpoint) (batched, for the home agent), each datagram carries
//!   the interface index it arrived on, the socket joins multicast groups per interface, and
//!   a send names its source address without falling back to another one.
//!
//! Every socket is non-blocking and close-on-exec; every `unsafe` block says why it is sound.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os::{
    bind, from_sockaddr_in, new_socket, recv_nonblocking, send_retrying, setsockopt, sockaddr_in,
    CmsgBuf, CMSG_SPACE,
};

/// `ICMP_FILTER` (linux/icmp.h), at level `SOL_RAW`: a bit mask of ICMP types to drop.
const ICMP_FILTER: libc::c_int = 1;

fn mreqn(group: Ipv4Addr, ifindex: u32) -> libc::ip_mreqn {
    libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(group).to_be(),
        },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex as libc::c_int,
    }
}

/// Joins `group` on `ifindex`; already a member is not an error.
fn join_group(fd: RawFd, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
    match setsockopt(
        fd,
        libc::IPPROTO_IP,
        libc::IP_ADD_MEMBERSHIP,
        &mreqn(group, ifindex),
    ) {
        Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
        r => r,
    }
}

/// Receives one message with `IP_PKTINFO`; `None` when nothing is waiting.
fn recv_pktinfo(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<UdpIn>> {
    // SAFETY: plain old data; all-zero is valid.
    let mut name: libc::sockaddr_in = unsafe { zeroed() };
    let mut cmsg = CmsgBuf::new();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = CMSG_SPACE as _;
    // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
    let Some(n) = recv_nonblocking(|| unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) })?
    else {
        return Ok(None);
    };
    let mut local = Ipv4Addr::UNSPECIFIED;
    let mut ifindex = 0;
    // SAFETY: the kernel filled msg_control/msg_controllen; the CMSG_* macros stay within
    // them and IP_PKTINFO's payload is an in_pktinfo, read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_PKTINFO {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                local = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                ifindex = info.ipi_ifindex as u32;
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(Some(UdpIn {
        len: n.min(buf.len()),
        source: from_sockaddr_in(&name),
        local,
        ifindex,
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
    }))
}

/// Sends `payload` to `dest` with an `IP_PKTINFO` naming the source address and/or the
/// outgoing interface (0: routing decides).
fn send_pktinfo(
    fd: RawFd,
    payload: &[u8],
    dest: SocketAddrV4,
    source: Ipv4Addr,
    ifindex: u32,
) -> io::Result<()> {
    let mut name = sockaddr_in(dest);
    let mut cmsg = CmsgBuf::new();
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) } as usize;
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer is CMSG_SPACE bytes, aligned, and at least `space` long; the
    // header and its in_pktinfo payload are written within it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::IPPROTO_IP;
        (*c).cmsg_type = libc::IP_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as _;
        let info = libc::in_pktinfo {
            ipi_ifindex: ifindex as libc::c_int,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(source).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
    }
    // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
    send_retrying(|| unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT) })
}

/// A datagram received on an [`InterfaceUdpSocket`].
#[derive(Clone, Copy, Debug)]
pub struct UdpIn {
    /// Bytes in the buffer.
    pub len: usize,
    /// Sender.
    pub source: SocketAddrV4,
    /// Destination address (`IP_PKTINFO` `ipi_addr`).
    pub local: Ipv4Addr,
    /// Interface it arrived on.
    pub ifindex: u32,
    /// Longer than the buffer.
    pub truncated: bool,
}

/// UDP with the arrival interface of each datagram (see the module documentation).
#[derive(Debug)]
pub struct InterfaceUdpSocket {
    fd: OwnedFd,
    local: SocketAddrV4,
}

impl InterfaceUdpSocket {
    /// Binds `addr` (`SO_REUSEADDR`, `IP_PKTINFO`, broadcasts allowed).
    ///
    /// # Errors
    /// The socket cannot be made or bound.
    pub fn bind(addr: SocketAddrV4) -> io::Result<Self> {
        let fd = new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
        let raw = fd.as_raw_fd();
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, &1i32)?;
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_BROADCAST, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, &1i32)?;
        bind(raw, &sockaddr_in(addr))?;
        Ok(InterfaceUdpSocket { fd, local: addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// Joins `group` on interface `ifindex` (224.0.0.11, all mobility agents).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn join(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        join_group(self.fd.as_raw_fd(), group, ifindex)
    }

    /// One datagram, if any.
    ///
    /// # Errors
    /// `recvmsg(2)` failed.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<UdpIn>> {
        recv_pktinfo(self.fd.as_raw_fd(), buf)
    }

    /// Sends `payload` to `dest` from `source` (`0.0.0.0`: the kernel chooses).
    ///
    /// # Errors
    /// `sendmsg(2)` failed.
    pub fn send_from(
        &self,
        source: Ipv4Addr,
        dest: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        send_pktinfo(self.fd.as_raw_fd(), payload, dest, source, 0)
    }
}

impl AsRawFd for InterfaceUdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// An ICMP message received (IP header included).
#[derive(Clone, Copy, Debug)]
pub struct IcmpIn {
    /// Bytes in the buffer (IP header + ICMP).
    pub len: usize,
    /// Interface it arrived on.
    pub ifindex: u32,
}

/// Raw ICMP socket (see the module documentation).
#[derive(Debug)]
pub struct IcmpSocket {
    fd: OwnedFd,
}

impl IcmpSocket {
    /// Opens it: only types 3 (unreachable) and 10 (solicitation) are received; sends carry
    /// TTL 1 (unicast, broadcast and multicast), multicast is not looped back.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`).
    pub fn open() -> io::Result<Self> {
        let fd = new_socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP)?;
        let raw = fd.as_raw_fd();
        let pass: u32 = (1 << 3) | (1 << 10);
        setsockopt(raw, libc::SOL_RAW, ICMP_FILTER, &!pass)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_TTL, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &0i32)?;
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_BROADCAST, &1i32)?;
        Ok(IcmpSocket { fd })
    }

    /// Joins `group` (224.0.0.2, all routers: solicitations) on `ifindex`.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn join(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        join_group(self.fd.as_raw_fd(), group, ifindex)
    }

    /// One message, if any.
    ///
    /// # Errors
    /// `recvmsg(2)` failed.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<IcmpIn>> {
        Ok(recv_pktinfo(self.fd.as_raw_fd(), buf)?.map(|m| IcmpIn {
            len: m.len,
            ifindex: m.ifindex,
        }))
    }

    /// Sends the ICMP message `icmp` from `source` to `dest` out of `ifindex`, TTL 1.
    ///
    /// # Errors
    /// `sendmsg(2)` failed.
    pub fn send(
        &self,
        ifindex: u32,
        source: Ipv4Addr,
        dest: Ipv4Addr,
        icmp: &[u8],
    ) -> io::Result<()> {
        send_pktinfo(
            self.fd.as_raw_fd(),
            icmp,
            SocketAddrV4::new(dest, 0),
            source,
            ifindex,
        )
    }
}

impl AsRawFd for IcmpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_reports_destination_and_interface() {
        let s = InterfaceUdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = {
            // The kernel chose the port: read it back.
            // SAFETY: plain old data; all-zero is valid.
            let mut sa: libc::sockaddr_in = unsafe { zeroed() };
            let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `sa` and `len` are valid for writes of the sizes given.
            let r = unsafe {
                libc::getsockname(
                    s.as_raw_fd(),
                    (&mut sa as *mut libc::sockaddr_in).cast(),
                    &mut len,
                )
            };
            assert_eq!(r, 0);
            from_sockaddr_in(&sa).port()
        };
        let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        c.send_to(b"hello", to).unwrap();
        let mut buf = [0u8; 64];
        let mut got = None;
        for _ in 0..100 {
            if let Some(d) = s.recv(&mut buf).unwrap() {
                got = Some(d);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let d = got.expect("datagram");
        assert_eq!(&buf[..d.len], b"hello");
        assert_eq!(d.local, Ipv4Addr::LOCALHOST);
        assert_ne!(d.ifindex, 0, "loopback has an index");
        assert!(!d.truncated);
        s.send_from(
            Ipv4Addr::LOCALHOST,
            match c.local_addr().unwrap() {
                std::net::SocketAddr::V4(a) => a,
                std::net::SocketAddr::V6(_) => unreachable!(),
            },
            b"back",
        )
        .unwrap();
        let mut b = [0u8; 8];
        c.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let (n, from) = c.recv_from(&mut b).unwrap();
        assert_eq!(
            (&b[..n], from),
            (&b"back"[..], std::net::SocketAddr::V4(to))
        );
    }
}
