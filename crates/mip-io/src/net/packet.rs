//! `AF_PACKET`/`SOCK_DGRAM` sockets (the kernel adds and strips the Ethernet header; the socket
//! address carries the peer's link-layer address), non-blocking and close-on-exec:
//!
//! * [`PacketSocket::udp_listener`] (foreign agent): bound to `ETH_P_IP` on one
//!   foreign-service interface, with a classic BPF filter that passes only unfragmented UDP
//!   to one port (434). Each frame comes with the sender's MAC address: this is how
//!   Registration Requests from mobile nodes are read. `PACKET_AUXDATA` says whether the
//!   transport checksum can be trusted without checking.
//! * [`PacketSocket::sender`] (foreign agent): send-only; replies to mobile nodes go straight
//!   to their MAC address, without ARP.
//! * [`PacketSocket::icmp_listener`] (mobile node): `ETH_P_IP` on every interface, filtered to
//!   unfragmented ICMP of one type (9, Agent Advertisements), with the link-layer source the
//!   node needs to send Registration Requests to the foreign agent without ARP (RFC 5944
//!   §4.6); also sends whole IPv4 packets to a given link-layer address.
//! * [`PacketSocket::all_interfaces`] (mobile node): one EtherType (ARP) on every interface.
//! * [`PacketSocket::ipv4_sender`] (tunnel engine, [`TxMode::Packet`](super::engine::TxMode)):
//!   send-only, whole IPv4 packets to a given interface and MAC, batched with `sendmmsg`
//!   ([`PacketSocket::send_batch`]), optionally past the qdisc (`PACKET_QDISC_BYPASS`).
//!
//! Frames are attributed by interface index ([`PacketIn::ifindex`]).

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os::{
    bind, new_socket, recv_nonblocking, send_retrying, setsockopt, sockaddr_ll, CmsgBuf, Mmsg,
    CMSG_SPACE,
};

/// EtherType of IPv4.
pub const ETH_P_IP: u16 = 0x0800;
/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// `PACKET_OUTGOING` (linux/if_packet.h): a frame this host sent.
pub const PACKET_OUTGOING: u8 = 4;
/// `SOL_PACKET` / `PACKET_AUXDATA` (linux/if_packet.h): a `tpacket_auxdata` with each frame.
const SOL_PACKET: libc::c_int = 263;
const PACKET_AUXDATA: libc::c_int = 8;
/// `PACKET_QDISC_BYPASS` (linux/if_packet.h): hand frames to the driver, skipping the qdisc.
const PACKET_QDISC_BYPASS: libc::c_int = 20;
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

/// A frame read from a [`PacketSocket`].
#[derive(Clone, Copy, Debug)]
pub struct PacketIn {
    /// Bytes of the packet in the buffer (without the Ethernet header).
    pub len: usize,
    /// Interface it arrived on (or left by, for an outgoing frame).
    pub ifindex: u32,
    /// The sender's link-layer address (when 6 bytes long).
    pub mac: Option<[u8; 6]>,
    /// `sll_pkttype` (host, broadcast, multicast, other host, outgoing).
    pub pkttype: u8,
    /// The transport checksum must not be checked here: not filled in yet (a local sender
    /// with checksum offload, as over veth) or already verified by the device. Only reported
    /// by [`PacketSocket::udp_listener`] sockets (`PACKET_AUXDATA`); `false` otherwise.
    pub checksum_trusted: bool,
}

impl PacketIn {
    /// A frame this host sent (not one received).
    pub fn outgoing(&self) -> bool {
        self.pkttype == PACKET_OUTGOING
    }
}

/// Scratch space for [`PacketSocket::send_batch`] (one per thread).
pub type LinkScratch = Mmsg<libc::sockaddr_ll>;

/// An `AF_PACKET` socket (see the module documentation).
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    /// The interface it is bound to (0: all, or a sender).
    ifindex: u32,
    /// EtherType of what it sends.
    protocol: u16,
}

/// One classic BPF instruction.
fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

const LD_B_ABS: u16 = 0x30;
const LD_H_ABS: u16 = 0x28;
const LD_H_IND: u16 = 0x48;
const LD_B_IND: u16 = 0x50;
const LDX_B_MSH: u16 = 0xb1;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

/// The classic BPF program of [`PacketSocket::udp_listener`]: IPv4 (the socket's protocol),
/// UDP, not a non-first fragment, destination port `port`. Offsets are from the network
/// header (`SOCK_DGRAM`).
fn udp_port_filter(port: u16) -> [libc::sock_filter; 9] {
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

/// Classic BPF of [`PacketSocket::icmp_listener`], run on the IPv4 header: ICMP, not a
/// fragment, type `icmp_type`.
fn icmp_type_filter(icmp_type: u8) -> [libc::sock_filter; 9] {
    [
        bpf(LD_B_ABS, 0, 0, 9),                 // ldb [9]            protocol
        bpf(JEQ_K, 0, 6, 1),                    // jeq #1 ? next : drop
        bpf(LD_H_ABS, 0, 0, 6),                 // ldh [6]            flags + fragment offset
        bpf(JSET_K, 4, 0, 0x1fff),              // jset #0x1fff ? drop : next
        bpf(LDX_B_MSH, 0, 0, 0),                // ldxb 4*([0]&0xf)   header length
        bpf(LD_B_IND, 0, 0, 0),                 // ldb [x+0]          ICMP type
        bpf(JEQ_K, 0, 1, u32::from(icmp_type)), // jeq #type ? accept : drop
        bpf(RET_K, 0, 0, 0xffff),               // accept
        bpf(RET_K, 0, 0, 0),                    // drop
    ]
}

fn attach_filter(fd: RawFd, prog: &[libc::sock_filter]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr().cast_mut(),
    };
    // `fprog` points at `prog`, which outlives the call; the kernel copies the program.
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

fn with_context(what: &str) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl PacketSocket {
    /// A socket on interface `ifindex` receiving only IPv4/UDP datagrams to `port`: created
    /// with protocol 0 (receiving nothing), given the filter, then bound to `ETH_P_IP` on
    /// the interface, so no other packet is ever queued. Sends IPv4.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`), or no such interface.
    pub fn udp_listener(ifindex: u32, port: u16) -> io::Result<Self> {
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        attach_filter(fd.as_raw_fd(), &udp_port_filter(port))?;
        setsockopt(fd.as_raw_fd(), SOL_PACKET, PACKET_AUXDATA, &1i32)?;
        bind(fd.as_raw_fd(), &sockaddr_ll(ETH_P_IP, ifindex, None))?;
        Ok(PacketSocket {
            fd,
            ifindex,
            protocol: ETH_P_IP,
        })
    }

    /// A send-only IPv4 socket (protocol 0: it receives nothing), not bound to an interface.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`).
    pub fn sender() -> io::Result<Self> {
        Ok(PacketSocket {
            fd: new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?,
            ifindex: 0,
            protocol: ETH_P_IP,
        })
    }

    /// The tunnel engine's send-only IPv4 socket (protocol 0: it receives nothing), with a
    /// large send buffer; `qdisc_bypass`: `PACKET_QDISC_BYPASS` (frames go straight to the
    /// driver; if the kernel refuses the option the socket works without it).
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`).
    pub fn ipv4_sender(qdisc_bypass: bool) -> io::Result<Self> {
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)
            .map_err(with_context("AF_PACKET send socket"))?;
        let big: i32 = 8 << 20;
        if setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &big).is_err() {
            let _ = setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, &big);
        }
        if qdisc_bypass {
            if let Err(e) = setsockopt(fd.as_raw_fd(), SOL_PACKET, PACKET_QDISC_BYPASS, &1i32) {
                tracing::warn!("PACKET_QDISC_BYPASS refused, sending through the qdisc: {e}");
            }
        }
        Ok(PacketSocket {
            fd,
            ifindex: 0,
            protocol: ETH_P_IP,
        })
    }

    /// Sends whole packets of the socket's EtherType, each out of its interface to its MAC,
    /// with one `sendmmsg(2)` (more if the kernel takes only part). Returns how many were
    /// sent; on a failure, how many went before it and the error of the first one that did
    /// not (the caller skips it and calls again with the rest).
    ///
    /// # Errors
    /// See above (`ENXIO`/`ENODEV`: no such interface, `ENETDOWN`: it is down, `EMSGSIZE`:
    /// larger than its MTU, `ENOBUFS`/`EAGAIN`: no room).
    pub fn send_batch<'a>(
        &self,
        scratch: &mut LinkScratch,
        packets: impl IntoIterator<Item = (&'a [u8], u32, [u8; 6])>,
    ) -> Result<usize, (usize, io::Error)> {
        let protocol = self.protocol;
        scratch.send_all(
            self.fd.as_raw_fd(),
            libc::MSG_DONTWAIT,
            packets
                .into_iter()
                .map(|(p, ifindex, mac)| (p, sockaddr_ll(protocol, ifindex, Some(mac)))),
        )
    }

    /// IPv4 on every interface, only unfragmented ICMP messages of type `icmp_type` (the
    /// filter is attached before the socket is bound). Sends IPv4.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`), or the kernel refused the filter.
    pub fn icmp_listener(icmp_type: u8) -> io::Result<Self> {
        Self::open_all(ETH_P_IP, Some(&icmp_type_filter(icmp_type)))
    }

    /// EtherType `protocol` (e.g. [`ETH_P_ARP`]) on every interface, unfiltered.
    ///
    /// # Errors
    /// Not permitted (`CAP_NET_RAW`).
    pub fn all_interfaces(protocol: u16) -> io::Result<Self> {
        Self::open_all(protocol, None)
    }

    fn open_all(protocol: u16, filter: Option<&[libc::sock_filter]>) -> io::Result<Self> {
        let fd = new_socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM,
            i32::from(protocol.to_be()),
        )
        .map_err(with_context("AF_PACKET socket"))?;
        if let Some(prog) = filter {
            attach_filter(fd.as_raw_fd(), prog).map_err(with_context("SO_ATTACH_FILTER"))?;
        }
        bind(fd.as_raw_fd(), &sockaddr_ll(protocol, 0, Some([0; 6])))
            .map_err(with_context("bind AF_PACKET"))?;
        Ok(PacketSocket {
            fd,
            ifindex: 0,
            protocol,
        })
    }

    /// The interface it is bound to (0: all interfaces, or a sender).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// One frame, if any: the packet (without link-layer header) in `buf`.
    ///
    /// # Errors
    /// `recvmsg(2)` failed (the interface went away: `ENETDOWN`).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<PacketIn>> {
        // SAFETY: plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut cmsg = CmsgBuf::new();
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
        // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
        let Some(n) = recv_nonblocking(|| unsafe {
            libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT)
        })?
        else {
            return Ok(None);
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
            ifindex: sll.sll_ifindex as u32,
            mac,
            pkttype: sll.sll_pkttype,
            checksum_trusted: status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID) != 0,
        }))
    }

    /// Sends `packet` (of the socket's EtherType) out of `ifindex` to link-layer address
    /// `mac` (no ARP).
    ///
    /// # Errors
    /// `sendto(2)` failed (the interface is down, or the kernel refused).
    pub fn send(&self, ifindex: u32, mac: [u8; 6], packet: &[u8]) -> io::Result<()> {
        let sll = sockaddr_ll(self.protocol, ifindex, Some(mac));
        // SAFETY: `packet` and `sll` are live buffers of the lengths passed.
        send_retrying(|| unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                libc::MSG_DONTWAIT,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_filter_jumps_land_where_meant() {
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

    #[test]
    fn icmp_filter_matches_the_advertisement_program() {
        // The program the mobile node used before it moved here, instruction for instruction.
        let want: [(u16, u8, u8, u32); 9] = [
            (0x30, 0, 0, 9),
            (0x15, 0, 6, 1),
            (0x28, 0, 0, 6),
            (0x45, 4, 0, 0x1fff),
            (0xb1, 0, 0, 0),
            (0x50, 0, 0, 0),
            (0x15, 0, 1, 9),
            (0x06, 0, 0, 0xffff),
            (0x06, 0, 0, 0),
        ];
        let got: Vec<_> = icmp_type_filter(9)
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect();
        assert_eq!(got, want);
    }
}
