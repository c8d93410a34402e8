//! The foreign agent's sockets and interface facts: the few system calls `mip-io` does not
//! offer yet (it has the home agent's batched UDP socket, the tunnel engine and netlink).
//! Every `unsafe` block says why it is sound; every socket is non-blocking and close-on-exec.
//!
//! * [`UdpSocket434`]: UDP port 434 with `IP_PKTINFO` giving, for each datagram, the
//!   destination address **and the interface index** it arrived on; sends name their source
//!   address (`ipi_spec_dst`), so relayed requests leave from the care-of address.
//! * [`PacketSocket`]: `AF_PACKET`/`SOCK_DGRAM`/`ETH_P_IP` bound to one foreign-service
//!   interface, with a classic BPF filter that passes only unfragmented UDP to port 434. Each
//!   frame comes with the sender's MAC address: this is how Registration Requests from mobile
//!   nodes are read (see `fa/mod.rs`). The send-only form ([`PacketSocket::sender`]) sends
//!   replies to mobile nodes straight to their MAC address, without ARP.
//! * [`IcmpSocket`]: a raw ICMP socket (`ICMP_FILTER`: types 3 and 10 only) for Agent
//!   Solicitations (interface from `IP_PKTINFO`) and ICMP errors about relayed requests; it
//!   sends Agent Advertisements with TTL 1 out of a chosen interface (`IP_PKTINFO`
//!   `ipi_ifindex`), to 224.0.0.1, 255.255.255.255 or a unicast neighbour.
//! * [`Epoll`]: one descriptor that is readable when any socket is, so the daemon's
//!   [`mip_io::Poller`] (socket + waker) can wait on all of them.
//! * [`interfaces`]: name, index, flags, MAC and IPv4 addresses of every interface
//!   (`getifaddrs(3)`).

use std::collections::BTreeMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `ICMP_FILTER` (linux/icmp.h), at level `SOL_RAW`: a bit mask of ICMP types to drop.
const ICMP_FILTER: libc::c_int = 1;
/// `PACKET_OUTGOING` (linux/if_packet.h).
const PACKET_OUTGOING: u8 = 4;
/// `SOL_PACKET` / `PACKET_AUXDATA` (linux/if_packet.h): a `tpacket_auxdata` with each frame.
const SOL_PACKET: libc::c_int = 263;
const PACKET_AUXDATA: libc::c_int = 8;
/// `tp_status` bits: the checksum is not computed yet (a local sender with offload, e.g.
/// over veth) / the device verified it.
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
const TP_STATUS_CSUM_VALID: u32 = 1 << 7;

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct TpacketAuxdata {
    tp_status: u32,
    tp_len: u32,
    tp_snaplen: u32,
    tp_mac: u16,
    tp_net: u16,
    tp_vlan_tci: u16,
    tp_vlan_tpid: u16,
}
/// Control message room (`IP_PKTINFO` is 12 bytes of payload).
const CMSG_SPACE: usize = 64;

#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_SPACE]);

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn new_socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
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

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, v: &T) -> io::Result<()> {
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

fn sockaddr_in(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all-zero is valid.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = a.port().to_be();
    sa.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    sa
}

fn from_sockaddr_in(sa: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
        u16::from_be(sa.sin_port),
    )
}

fn mreqn(group: Ipv4Addr, ifindex: u32) -> libc::ip_mreqn {
    libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(group).to_be(),
        },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex as libc::c_int,
    }
}

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
    let mut cmsg = CmsgBuf([0; CMSG_SPACE]);
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
    let n = loop {
        // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
        let r = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
        if r >= 0 {
            break r as usize;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => return Ok(None),
            io::ErrorKind::Interrupted => continue,
            _ => return Err(e),
        }
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
    let mut cmsg = CmsgBuf([0; CMSG_SPACE]);
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
    loop {
        // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
        let r = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A datagram received on UDP 434.
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

/// UDP port 434 (see the module documentation).
#[derive(Debug)]
pub struct UdpSocket434 {
    fd: OwnedFd,
    local: SocketAddrV4,
}

impl UdpSocket434 {
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
        let sa = sockaddr_in(addr);
        // SAFETY: `sa` is a valid sockaddr_in of the size passed.
        cvt(unsafe {
            libc::bind(
                raw,
                (&sa as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })?;
        Ok(UdpSocket434 { fd, local: addr })
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

impl AsRawFd for UdpSocket434 {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A frame read from a [`PacketSocket`].
#[derive(Clone, Copy, Debug)]
pub struct PacketIn {
    /// Bytes of the IPv4 packet in the buffer.
    pub len: usize,
    /// The sender's link-layer address (when 6 bytes long).
    pub mac: Option<[u8; 6]>,
    /// `sll_pkttype` (host, broadcast, multicast, other host, outgoing).
    pub pkttype: u8,
    /// The transport checksum must not be checked here: not filled in yet (a local sender
    /// with checksum offload, as over veth) or already verified by the device.
    pub checksum_trusted: bool,
}

impl PacketIn {
    /// A frame this host sent (not one received).
    pub fn outgoing(&self) -> bool {
        self.pkttype == PACKET_OUTGOING
    }
}

/// `AF_PACKET` socket (see the module documentation).
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
}

fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The classic BPF program of [`PacketSocket::udp_listener`]: IPv4 (the socket's protocol),
/// UDP, not a non-first fragment, destination port `port`. Offsets are from the network
/// header (`SOCK_DGRAM`).
fn udp_port_filter(port: u16) -> [libc::sock_filter; 9] {
    const LD_B_ABS: u16 = 0x30;
    const LD_H_ABS: u16 = 0x28;
    const LD_H_IND: u16 = 0x48;
    const LDX_B_MSH: u16 = 0xb1;
    const JEQ_K: u16 = 0x15;
    const JSET_K: u16 = 0x45;
    const RET_K: u16 = 0x06;
    [
        bpf(LD_B_ABS, 0, 0, 9),            // 0: A = protocol
        bpf(JEQ_K, 0, 6, 17),              // 1: UDP? else drop (8)
        bpf(LD_H_ABS, 0, 0, 6),            // 2: A = flags + fragment offset
        bpf(JSET_K, 4, 0, 0x1fff),         // 3: a later fragment? drop (8)
        bpf(LDX_B_MSH, 0, 0, 0),           // 4: X = IP header length
        bpf(LD_H_IND, 0, 0, 2),            // 5: A = UDP destination port
        bpf(JEQ_K, 0, 1, u32::from(port)), // 6: our port? accept (7) else drop (8)
        bpf(RET_K, 0, 0, 0xffff),          // 7: accept
        bpf(RET_K, 0, 0, 0),               // 8: drop
    ]
}

impl PacketSocket {
    /// A socket on interface `ifindex` receiving only IPv4/UDP datagrams to `port`: created
    /// with protocol 0 (receiving nothing), given the filter, then bound to `ETH_P_IP` on
    /// the interface, so no other packet is ever queued.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`), or no such interface.
    pub fn udp_listener(ifindex: u32, port: u16) -> io::Result<Self> {
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        let prog = udp_port_filter(port);
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &fprog,
        )?;
        setsockopt(fd.as_raw_fd(), SOL_PACKET, PACKET_AUXDATA, &1i32)?;
        // SAFETY: plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(PacketSocket { fd, ifindex })
    }

    /// A send-only socket (protocol 0: it receives nothing).
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`).
    pub fn sender() -> io::Result<Self> {
        Ok(PacketSocket {
            fd: new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?,
            ifindex: 0,
        })
    }

    /// The interface it is bound to (0 for a sender).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// One frame, if any: the IPv4 packet in `buf`.
    ///
    /// # Errors
    /// `recvmsg(2)` failed (the interface went away: `ENETDOWN`).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<PacketIn>> {
        // SAFETY: plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut cmsg = CmsgBuf([0; CMSG_SPACE]);
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: plain old data; all-zero is valid.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg.0.as_mut_ptr().cast();
        msg.msg_controllen = CMSG_SPACE as _;
        let n = loop {
            // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
            let r = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
            if r >= 0 {
                break r as usize;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(None),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        };
        let mut status = 0u32;
        // SAFETY: the kernel filled msg_control/msg_controllen; the CMSG_* macros stay within
        // them and PACKET_AUXDATA's payload is a tpacket_auxdata, read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                    let aux: TpacketAuxdata = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    status = aux.tp_status;
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let mac = (sll.sll_halen == 6).then(|| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&sll.sll_addr[..6]);
            m
        });
        Ok(Some(PacketIn {
            len: n.min(buf.len()),
            mac,
            pkttype: sll.sll_pkttype,
            checksum_trusted: status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID) != 0,
        }))
    }

    /// Sends the IPv4 packet `packet` out of `ifindex` to link-layer address `mac` (no ARP).
    ///
    /// # Errors
    /// `sendto(2)` failed.
    pub fn send_ipv4(&self, ifindex: u32, mac: [u8; 6], packet: &[u8]) -> io::Result<()> {
        // SAFETY: plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&mac);
        loop {
            // SAFETY: `packet` and `sll` are live buffers of the lengths passed.
            let r = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    packet.as_ptr().cast(),
                    packet.len(),
                    libc::MSG_DONTWAIT,
                    (&sll as *const libc::sockaddr_ll).cast(),
                    size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            };
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl AsRawFd for PacketSocket {
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
        // SAFETY: plain system call; checked.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: fresh descriptor nothing else owns.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `fd` for input (level-triggered).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn add(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid epoll_event.
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

    /// The descriptors with input now (no waiting), at most 64.
    pub fn ready(&self) -> Vec<RawFd> {
        // SAFETY: plain old data; all-zero is valid.
        let mut evs: [libc::epoll_event; 64] = unsafe { zeroed() };
        // SAFETY: `evs` has room for the 64 events asked for.
        let n = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), evs.as_mut_ptr(), 64, 0) };
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

/// Every interface, by name.
///
/// # Errors
/// `getifaddrs(3)` failed.
pub fn interfaces() -> io::Result<BTreeMap<String, OsInterface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; the list is freed below.
    cvt(unsafe { libc::getifaddrs(&mut head) })?;
    let mut out: BTreeMap<String, OsInterface> = BTreeMap::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
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
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points at a sockaddr whose family says how to read it.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_INET {
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
            e.addresses.push((a, prefix));
        } else if family == libc::AF_PACKET {
            // SAFETY: an AF_PACKET address is a sockaddr_ll.
            let sll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
            e.index = sll.sll_ifindex as u32;
            if sll.sll_halen == 6 {
                let mut m = [0u8; 6];
                m.copy_from_slice(&sll.sll_addr[..6]);
                e.mac = Some(m);
            }
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// The Internet checksum (RFC 1071) of `data`, folded, starting from `sum`.
fn checksum(mut sum: u32, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 + UDP datagram (no options, TTL 64, DF clear), both checksums filled in.
pub fn ipv4_udp(source: SocketAddrV4, dest: SocketAddrV4, ident: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&[0, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&source.ip().octets());
    p.extend_from_slice(&dest.ip().octets());
    let ip_sum = checksum(0, &p[..20]);
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    p.extend_from_slice(&source.port().to_be_bytes());
    p.extend_from_slice(&dest.port().to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let mut pseudo = 0u32;
    for w in [source.ip().octets(), dest.ip().octets()] {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
        pseudo += u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    pseudo += 17 + udp_len as u32;
    let mut sum = checksum(pseudo, &p[20..]);
    if sum == 0 {
        sum = 0xffff;
    }
    p[26..28].copy_from_slice(&sum.to_be_bytes());
    p
}

/// A UDP datagram parsed from an IPv4 packet read on a packet socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpView<'a> {
    /// IP source and UDP source port.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// Parses an unfragmented IPv4/UDP packet and checks the IP header checksum and, when
/// `check_udp`, the UDP checksum (a zero one means "none"). `None` for anything else.
pub fn parse_ipv4_udp(p: &[u8], check_udp: bool) -> Option<UdpView<'_>> {
    if p.len() < 28 || p[0] >> 4 != 4 || p[9] != 17 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if ihl < 20 || total < ihl + 8 || total > p.len() {
        return None;
    }
    let frag = u16::from_be_bytes([p[6], p[7]]);
    if frag & 0x3fff != 0 || checksum(0, &p[..ihl]) != 0 {
        return None;
    }
    let udp = &p[ihl..total];
    let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if udp_len < 8 || udp_len > udp.len() {
        return None;
    }
    let udp = &udp[..udp_len];
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    if check_udp && (udp[6] != 0 || udp[7] != 0) {
        let mut pseudo = 0u32;
        for w in [src.octets(), dst.octets()] {
            pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
            pseudo += u32::from(u16::from_be_bytes([w[2], w[3]]));
        }
        pseudo += 17 + udp_len as u32;
        if checksum(pseudo, udp) != 0 {
            return None;
        }
    }
    Some(UdpView {
        source: SocketAddrV4::new(src, u16::from_be_bytes([udp[0], udp[1]])),
        destination: SocketAddrV4::new(dst, u16::from_be_bytes([udp[2], udp[3]])),
        payload: &udp[8..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_round_trip_with_checksums() {
        let s = SocketAddrV4::new(Ipv4Addr::new(10, 20, 0, 1), 434);
        let d = SocketAddrV4::new(Ipv4Addr::new(10, 10, 0, 10), 40000);
        let p = ipv4_udp(s, d, 7, b"hello mobile node");
        assert_eq!(p.len(), 20 + 8 + 17);
        let v = parse_ipv4_udp(&p, true).unwrap();
        assert_eq!((v.source, v.destination), (s, d));
        assert_eq!(v.payload, b"hello mobile node");
        let mut bad = p.clone();
        bad[30] ^= 1;
        assert!(
            parse_ipv4_udp(&bad, true).is_none(),
            "UDP checksum is checked"
        );
        assert!(
            parse_ipv4_udp(&bad, false).is_some(),
            "unless the kernel vouches for it"
        );
        let mut bad = p.clone();
        bad[8] ^= 1;
        assert!(
            parse_ipv4_udp(&bad, true).is_none(),
            "IP checksum is checked"
        );
        let mut frag = p.clone();
        frag[6] = 0x20; // MF
        assert!(parse_ipv4_udp(&frag, true).is_none());
        assert!(parse_ipv4_udp(&p[..27], true).is_none());
        let mut nosum = p;
        nosum[26] = 0;
        nosum[27] = 0;
        assert!(parse_ipv4_udp(&nosum, true).is_some());
    }

    #[test]
    fn filter_jumps_land_where_meant() {
        let f = udp_port_filter(434);
        let target = |i: usize, off: u8| i + 1 + usize::from(off);
        assert_eq!(target(1, f[1].jf), 8, "not UDP: drop");
        assert_eq!(target(3, f[3].jt), 8, "later fragment: drop");
        assert_eq!(target(6, f[6].jt), 7, "port 434: accept");
        assert_eq!(target(6, f[6].jf), 8, "other port: drop");
        assert_eq!(f[6].k, 434);
        assert_eq!(
            (f[7].code, f[7].k, f[8].code, f[8].k),
            (0x06, 0xffff, 0x06, 0)
        );
    }
}
