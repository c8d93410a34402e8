//! The registration socket (UDP 434): bound with `SO_REUSEADDR` (and `IP_PKTINFO` on a
//! wildcard address), non-blocking, read and written in batches with `recvmmsg(2)` and
//! `sendmmsg(2)`.
//!
//! * Every received [`Datagram`] carries the local address it was sent to (`IP_PKTINFO`'s
//!   `ipi_addr`), which the home agent needs to answer from that address (RFC 5944
//!   §3.8.3.1) and to tell its own addresses from others. A socket bound to one address
//!   (not `0.0.0.0`) does without `IP_PKTINFO`: that address is the answer.
//! * Every sent datagram names its source address in an `IP_PKTINFO` control message
//!   (`ipi_spec_dst`), so that a home agent bound to `0.0.0.0` on a multi-homed host still
//!   answers from the address the mobile node wrote to. When the kernel refuses that
//!   source (an address not assigned to the host), the datagram goes out once more without
//!   it, from the address the routing table picks, and [`SendReport::without_source`]
//!   counts it.
//! * Datagrams larger than [`MAX_DATAGRAM`] are reported as truncated (never handed on cut
//!   short); datagrams the kernel dropped because the receive buffer was full are counted
//!   through `SO_RXQ_OVFL` ([`RecvBatch::kernel_drops`]).
//!
//! No buffer is allocated per datagram: a [`RecvBatch`] owns [`BATCH`] receive buffers and
//! is reused for every call.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mip_ha::Transmit;

/// Datagrams received or sent by one system call.
pub const BATCH: usize = 64;
/// Largest datagram received whole, bytes. A Registration Request with an NAI, a session
/// identifier, vendor extensions and three authentication extensions is a few hundred bytes;
/// anything above this is refused as truncated.
pub const MAX_DATAGRAM: usize = 4096;
/// Room for the control messages of one datagram (`IP_PKTINFO` 32 bytes, `SO_RXQ_OVFL` 24).
const CMSG_BUF: usize = 64;
/// How long a send waits in total for room in a full socket send buffer before it drops the
/// rest of the batch.
const SEND_WAIT: Duration = Duration::from_millis(200);

/// Control message buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct CmsgBuf([u8; CMSG_BUF]);

/// Tunables of [`UdpEndpoint::bind_with`].
#[derive(Clone, Copy, Debug)]
pub struct UdpOptions {
    /// Receive buffer asked for, bytes (`SO_RCVBUFFORCE` when privileged, else
    /// `SO_RCVBUF`, which the kernel caps at `net.core.rmem_max`).
    pub recv_buffer: usize,
    /// Send buffer asked for, bytes (same rules).
    pub send_buffer: usize,
    /// Send runs of equal-sized datagrams to one destination as one UDP GSO message
    /// (`UDP_SEGMENT`; see [`UdpEndpoint::send_batch`]). Default: on.
    pub gso: bool,
    /// `SO_REUSEPORT`: several sockets (threads) share the address. Default: off.
    pub reuse_port: bool,
}

impl Default for UdpOptions {
    fn default() -> Self {
        UdpOptions {
            recv_buffer: 8 << 20,
            send_buffer: 4 << 20,
            gso: true,
            reuse_port: false,
        }
    }
}

/// A non-blocking UDP socket for Registration Requests and Replies.
#[derive(Debug)]
pub struct UdpEndpoint {
    fd: OwnedFd,
    local: SocketAddrV4,
    /// UDP segmentation offload for runs of equal-sized datagrams to one destination; off
    /// for good after the kernel refuses it once.
    gso: std::sync::atomic::AtomicBool,
}

/// One received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The sender's address and port.
    pub source: SocketAddrV4,
    /// The address the datagram was sent to (from `IP_PKTINFO`; the bound address when the
    /// kernel gave none).
    pub local: Ipv4Addr,
    /// The payload; cut at [`MAX_DATAGRAM`] when `truncated`.
    pub payload: &'a [u8],
    /// The datagram was longer than [`MAX_DATAGRAM`].
    pub truncated: bool,
}

#[derive(Clone, Copy, Debug)]
struct Meta {
    source: SocketAddrV4,
    local: Ipv4Addr,
    len: usize,
    truncated: bool,
}

/// Reusable receive buffers for [`UdpEndpoint::recv_batch`].
pub struct RecvBatch {
    bufs: Vec<u8>,
    names: Vec<libc::sockaddr_in>,
    cmsgs: Vec<CmsgBuf>,
    meta: Vec<Meta>,
    kernel_drops: Option<u32>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("len", &self.meta.len())
            .field("kernel_drops", &self.kernel_drops)
            .finish()
    }
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RecvBatch {
    /// Buffers for [`BATCH`] datagrams of up to [`MAX_DATAGRAM`] bytes.
    pub fn new() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * MAX_DATAGRAM],
            // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
            names: vec![unsafe { zeroed() }; BATCH],
            cmsgs: vec![CmsgBuf([0; CMSG_BUF]); BATCH],
            meta: Vec::with_capacity(BATCH),
            kernel_drops: None,
        }
    }

    /// Datagrams of the last receive.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// No datagram in the last receive.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// The datagrams of the last receive, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = Datagram<'_>> + Clone + '_ {
        self.meta.iter().enumerate().map(move |(i, m)| Datagram {
            source: m.source,
            local: m.local,
            payload: &self.bufs[i * MAX_DATAGRAM..i * MAX_DATAGRAM + m.len],
            truncated: m.truncated,
        })
    }

    /// The socket's count of datagrams the kernel dropped for want of buffer space since the
    /// socket was opened (`SO_RXQ_OVFL`), as of the last datagram received; `None` until the
    /// kernel reported one.
    pub fn kernel_drops(&self) -> Option<u32> {
        self.kernel_drops
    }
}

/// What [`UdpEndpoint::send_batch`] did.
#[derive(Debug, Default)]
pub struct SendReport {
    /// Datagrams handed to the kernel.
    pub sent: usize,
    /// Of those, datagrams sent without the requested source address (the kernel refused it).
    pub without_source: usize,
    /// Datagrams that could not be sent.
    pub failed: usize,
    /// The first error met, with the destination concerned.
    pub first_error: Option<(SocketAddrV4, io::Error)>,
}

impl SendReport {
    fn fail(&mut self, to: SocketAddrV4, e: io::Error) {
        self.failed += 1;
        if self.first_error.is_none() {
            self.first_error = Some((to, e));
        }
    }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a valid c_int that outlives the call, its size is given.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are valid for writes of the sizes given.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(v)
}

fn to_sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut s: libc::sockaddr_in = unsafe { zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr = libc::in_addr {
        s_addr: u32::from(*a.ip()).to_be(),
    };
    s
}

fn from_sockaddr(s: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
        u16::from_be(s.sin_port),
    )
}

impl UdpEndpoint {
    /// Binds `addr` with the default [`UdpOptions`] (port 0 picks a free port).
    ///
    /// # Errors
    /// Socket creation, an option the kernel refuses (`SO_REUSEADDR`, `IP_PKTINFO`), or
    /// `bind(2)` (address in use, not local, port 434 without `CAP_NET_BIND_SERVICE`).
    pub fn bind(addr: SocketAddrV4) -> io::Result<UdpEndpoint> {
        Self::bind_with(addr, &UdpOptions::default())
    }

    /// Binds `addr` with `options`.
    ///
    /// # Errors
    /// As [`UdpEndpoint::bind`].
    pub fn bind_with(addr: SocketAddrV4, options: &UdpOptions) -> io::Result<UdpEndpoint> {
        // SAFETY: plain system call; the result is checked before use.
        let raw = cvt(unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        })?;
        // SAFETY: raw is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        if options.reuse_port {
            setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        // Bound to one address, every datagram arrives at that address and replies leave
        // from it: the per-datagram control message would only cost a copy each way.
        if addr.ip().is_unspecified() {
            setsockopt_int(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
        }
        // Best effort: a kernel without it just reports no drop count.
        let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1);
        let clamp = |n: usize| libc::c_int::try_from(n).unwrap_or(libc::c_int::MAX);
        if setsockopt_int(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            clamp(options.recv_buffer),
        )
        .is_err()
        {
            let _ = setsockopt_int(
                raw,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                clamp(options.recv_buffer),
            );
        }
        if setsockopt_int(
            raw,
            libc::SOL_SOCKET,
            libc::SO_SNDBUFFORCE,
            clamp(options.send_buffer),
        )
        .is_err()
        {
            let _ = setsockopt_int(
                raw,
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                clamp(options.send_buffer),
            );
        }
        let sa = to_sockaddr(addr);
        // SAFETY: sa is a valid sockaddr_in of the size given.
        cvt(unsafe {
            libc::bind(
                raw,
                (&sa as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })?;
        // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
        let mut bound: libc::sockaddr_in = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: bound and len are valid for writes of the sizes given.
        cvt(unsafe {
            libc::getsockname(raw, (&mut bound as *mut libc::sockaddr_in).cast(), &mut len)
        })?;
        Ok(UdpEndpoint {
            fd,
            local: from_sockaddr(&bound),
            gso: std::sync::atomic::AtomicBool::new(options.gso),
        })
    }

    /// The bound address and port.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// The receive buffer size the kernel granted, bytes.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        getsockopt_int(self.fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF)
            .map(|v| v.max(0) as usize)
    }

    /// Receives up to [`BATCH`] datagrams without blocking. `Ok(0)` when none is waiting.
    ///
    /// # Errors
    /// Those of `recvmmsg(2)` other than `EAGAIN` and `EINTR`.
    pub fn recv_batch(&self, b: &mut RecvBatch) -> io::Result<usize> {
        b.meta.clear();
        // SAFETY: iovec and mmsghdr are plain old data; all-zero is a valid value.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let bufs = b.bufs.as_mut_ptr();
        for i in 0..BATCH {
            iovs[i] = libc::iovec {
                // SAFETY: i * MAX_DATAGRAM + MAX_DATAGRAM <= bufs.len().
                iov_base: unsafe { bufs.add(i * MAX_DATAGRAM) }.cast(),
                iov_len: MAX_DATAGRAM,
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut b.names[i] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = b.cmsgs[i].0.as_mut_ptr().cast();
            h.msg_controllen = CMSG_BUF as _;
        }
        let n = loop {
            // SAFETY: every header points at buffers owned by `b` or this frame, which
            // outlive the call, with their true lengths.
            let r = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r >= 0 {
                break r as usize;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(0),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        };
        for (i, hdr) in hdrs.iter().enumerate().take(n) {
            let h = &hdr.msg_hdr;
            let len = (hdr.msg_len as usize).min(MAX_DATAGRAM);
            let truncated = h.msg_flags & libc::MSG_TRUNC != 0;
            let mut local = *self.local.ip();
            // SAFETY: the kernel filled msg_control/msg_controllen of this header; the CMSG_*
            // macros stay within msg_controllen, and the payloads are read unaligned with the
            // sizes the kernel defines for these message types.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(h);
                while !c.is_null() {
                    let ch = &*c;
                    if ch.cmsg_level == libc::IPPROTO_IP && ch.cmsg_type == libc::IP_PKTINFO {
                        let info: libc::in_pktinfo =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        local = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                    } else if ch.cmsg_level == libc::SOL_SOCKET && ch.cmsg_type == libc::SO_RXQ_OVFL
                    {
                        let drops: u32 = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        b.kernel_drops = Some(drops);
                    }
                    c = libc::CMSG_NXTHDR(h, c);
                }
            }
            b.meta.push(Meta {
                source: from_sockaddr(&b.names[i]),
                local,
                len,
                truncated,
            });
        }
        Ok(n)
    }

    /// Sends the datagrams, [`BATCH`] per `sendmmsg(2)`, each from its `source` address
    /// (unless that is `0.0.0.0`). Waits up to 200 ms in total for room when the send
    /// buffer is full, then gives up on the rest. A datagram the kernel refuses is retried
    /// once without its source address, then counted as failed; the others still go.
    ///
    /// Datagrams of equal length to the same destination from the same source (the replies
    /// to one foreign agent, or to one load generator socket) leave as one UDP GSO message
    /// (`UDP_SEGMENT`, Linux 4.18): the kernel builds one buffer and cuts it into the same
    /// datagrams on the wire, instead of running its whole send path once per datagram. The
    /// order of datagrams to one destination is kept; datagrams to different destinations
    /// may leave in another order. If the kernel refuses a GSO message its datagrams go one
    /// by one, and GSO stays off for this socket.
    pub fn send_batch(&self, msgs: &[Transmit]) -> SendReport {
        let mut report = SendReport::default();
        let deadline = Instant::now() + SEND_WAIT;
        for chunk in msgs.chunks(BATCH) {
            let units = if chunk.len() > 1 && self.gso.load(Ordering::Relaxed) {
                Units::gso_runs(chunk)
            } else {
                Units::singles(0..chunk.len())
            };
            self.send_units(chunk, &units, &mut report, deadline);
        }
        report
    }

    /// Sends `units` of `msgs` (at most [`BATCH`] datagrams in all), one `sendmmsg` message
    /// each, in order: a unit of several datagrams is one GSO message (see [`Units::gso_runs`]), a
    /// unit of one is a plain datagram. A GSO message the kernel refuses goes again as single
    /// datagrams; a single datagram it refuses is retried once without its source address,
    /// then counted as failed. Either way before the next unit, so that the order holds.
    fn send_units(
        &self,
        msgs: &[Transmit],
        units: &Units,
        report: &mut SendReport,
        deadline: Instant,
    ) {
        // SAFETY: plain old data; all-zero is a valid value.
        let mut names: [libc::sockaddr_in; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut cmsgs = [CmsgBuf([0; CMSG_BUF]); BATCH];
        let mut with_source = [false; BATCH];
        let mut at = 0;
        for u in 0..units.len() {
            let run = units.get(u);
            let first = &msgs[usize::from(run[0])];
            names[u] = to_sockaddr(first.destination);
            for (k, &i) in run.iter().enumerate() {
                let payload = &msgs[usize::from(i)].payload;
                iovs[at + k] = libc::iovec {
                    iov_base: payload.as_ptr() as *mut libc::c_void,
                    iov_len: payload.len(),
                };
            }
            let h = &mut hdrs[u].msg_hdr;
            h.msg_name = (&mut names[u] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovs[at];
            h.msg_iovlen = run.len() as _;
            // A socket bound to one address sends from it anyway: no control message for
            // that (the kernel would copy and parse one per datagram for nothing).
            let source = (!first.source.is_unspecified() && first.source != *self.local.ip())
                .then_some(first.source);
            with_source[u] = source.is_some();
            let segment = (run.len() > 1).then_some(first.payload.len() as u16);
            // SAFETY: the buffer is CMSG_BUF bytes, aligned for cmsghdr, and holds both
            // control messages (24 + 32 bytes); it outlives the sendmmsg below.
            unsafe { set_cmsgs(h, &mut cmsgs[u], segment, source) };
            at += run.len();
        }
        let n = units.len();
        let mut start = 0;
        while start < n {
            // SAFETY: headers [start, n) point at buffers of this frame and of `msgs`, which
            // outlive the call, with their true lengths; the kernel only reads them.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    hdrs.as_mut_ptr().add(start),
                    (n - start) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                let r = r as usize;
                report.sent += (start..start + r)
                    .map(|u| units.get(u).len())
                    .sum::<usize>();
                start += r;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => {
                    if Instant::now() >= deadline || !self.wait_writable(deadline) {
                        for u in start..n {
                            for &i in units.get(u) {
                                report.fail(
                                    msgs[usize::from(i)].destination,
                                    io::Error::from_raw_os_error(libc::EAGAIN),
                                );
                            }
                        }
                        return;
                    }
                }
                code if units.get(start).len() > 1 => {
                    // EINVAL is also how the kernel refuses a source address that is not
                    // ours: only a run without one says something about GSO. Other errors
                    // (an unreachable destination...) are the datagrams' own.
                    if !with_source[start] && gso_unsupported(code) {
                        // No UDP_SEGMENT in this kernel, a device that cannot checksum it...:
                        // later batches go without GSO.
                        self.gso.store(false, Ordering::Relaxed);
                    }
                    let singles = Units::singles(units.get(start).iter().map(|&i| usize::from(i)));
                    self.send_units(msgs, &singles, report, deadline);
                    start += 1;
                }
                _ => {
                    // This datagram is refused; try it without its source address.
                    let t = &msgs[usize::from(units.get(start)[0])];
                    let h = &mut hdrs[start].msg_hdr;
                    if !h.msg_control.is_null() {
                        h.msg_control = std::ptr::null_mut();
                        h.msg_controllen = 0;
                        // SAFETY: as for sendmmsg above, one header.
                        let r =
                            unsafe { libc::sendmsg(self.fd.as_raw_fd(), h, libc::MSG_DONTWAIT) };
                        if r >= 0 {
                            report.sent += 1;
                            report.without_source += 1;
                            if report.first_error.is_none() {
                                report.first_error = Some((t.destination, e));
                            }
                            start += 1;
                            continue;
                        }
                    }
                    report.fail(t.destination, e);
                    start += 1;
                }
            }
        }
    }

    /// Waits until the socket can take more datagrams or `deadline` passes.
    fn wait_writable(&self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        r >= 0
    }

    /// Sends one datagram (see [`UdpEndpoint::send_batch`]).
    ///
    /// # Errors
    /// The error of the datagram when it could not be sent.
    pub fn send_one(&self, t: &Transmit) -> io::Result<()> {
        // One datagram: never a GSO message.
        let mut r = self.send_batch(std::slice::from_ref(t));
        match r.first_error.take() {
            Some((_, e)) if r.failed > 0 => Err(e),
            _ => Ok(()),
        }
    }
}

/// `SOL_UDP` / `UDP_SEGMENT` (linux/udp.h), not in the libc crate for every target.
const SOL_UDP: libc::c_int = 17;
const UDP_SEGMENT: libc::c_int = 103;
/// Datagrams per GSO message (the kernel's `UDP_MAX_SEGMENTS` is 64 on older kernels).
const GSO_MAX_SEGMENTS: usize = 64;
/// Bytes per GSO message (one IPv4 datagram's worth of UDP payload, with room to spare).
const GSO_MAX_BYTES: usize = 60_000;

/// Whether a send error says that the kernel or the device cannot take a GSO message at all
/// (rather than something about its destination).
fn gso_unsupported(code: Option<i32>) -> bool {
    matches!(
        code,
        Some(libc::EINVAL | libc::EIO | libc::EOPNOTSUPP | libc::ENOPROTOOPT)
    )
}

/// The datagrams of one batch (at most [`BATCH`]) grouped into send units, without a heap
/// allocation: unit `k` is the batch indices `order[start(k)..ends[k]]`.
struct Units {
    order: [u8; BATCH],
    ends: [u8; BATCH],
    len: usize,
}

impl Units {
    /// Each of `indices` a unit of its own, in that order.
    fn singles(indices: impl IntoIterator<Item = usize>) -> Units {
        let mut u = Units {
            order: [0; BATCH],
            ends: [0; BATCH],
            len: 0,
        };
        for i in indices {
            u.order[u.len] = i as u8;
            u.len += 1;
            u.ends[u.len - 1] = u.len as u8;
        }
        u
    }

    /// Runs that can each leave as one GSO message: same destination and source, every
    /// datagram of the run's first length except possibly a shorter last one (the kernel
    /// cuts the buffer at that length), at most [`GSO_MAX_SEGMENTS`] and [`GSO_MAX_BYTES`].
    /// Runs keep the order of their datagrams and are listed in the order of their first.
    fn gso_runs(msgs: &[Transmit]) -> Units {
        debug_assert!(msgs.len() <= BATCH);
        #[derive(Clone, Copy, Default)]
        struct Run {
            first: usize,
            size: usize,
            last_len: usize,
            count: usize,
            bytes: usize,
            open: bool,
        }
        let mut runs = [Run::default(); BATCH];
        let mut nruns = 0;
        let mut run_of = [0u8; BATCH];
        for (i, t) in msgs.iter().enumerate() {
            let len = t.payload.len();
            let same_peer = |r: &Run| {
                let f = &msgs[r.first];
                r.open && f.destination == t.destination && f.source == t.source
            };
            if let Some(k) = (0..nruns).find(|&k| same_peer(&runs[k])) {
                let r = &mut runs[k];
                let fits = len > 0
                    && len <= r.size
                    && r.last_len == r.size
                    && r.count < GSO_MAX_SEGMENTS
                    && r.bytes + len <= GSO_MAX_BYTES;
                if fits {
                    r.last_len = len;
                    r.count += 1;
                    r.bytes += len;
                    run_of[i] = k as u8;
                    continue;
                }
                r.open = false;
            }
            runs[nruns] = Run {
                first: i,
                size: len,
                last_len: len,
                count: 1,
                bytes: len,
                open: true,
            };
            run_of[i] = nruns as u8;
            nruns += 1;
        }
        // Runs are numbered in the order of their first datagram: lay them out in that order.
        let mut u = Units {
            order: [0; BATCH],
            ends: [0; BATCH],
            len: nruns,
        };
        let mut next = [0u8; BATCH];
        let mut at = 0;
        for (k, r) in runs[..nruns].iter().enumerate() {
            next[k] = at as u8;
            at += r.count;
            u.ends[k] = at as u8;
        }
        for (i, &k) in run_of[..msgs.len()].iter().enumerate() {
            let k = usize::from(k);
            u.order[usize::from(next[k])] = i as u8;
            next[k] += 1;
        }
        u
    }

    /// Number of units.
    fn len(&self) -> usize {
        self.len
    }

    /// The batch indices of unit `k`.
    fn get(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.order[usize::from(start)..usize::from(self.ends[k])]
    }
}

/// [`Units::gso_runs`] as lists of indices into `msgs`, batch by batch as
/// [`UdpEndpoint::send_batch`] plans them (for tests).
#[cfg(test)]
fn gso_runs(msgs: &[Transmit]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for (c, chunk) in msgs.chunks(BATCH).enumerate() {
        let u = Units::gso_runs(chunk);
        out.extend((0..u.len()).map(|k| {
            u.get(k)
                .iter()
                .map(|&i| c * BATCH + usize::from(i))
                .collect()
        }));
    }
    out
}

/// Sets `h`'s control messages: `UDP_SEGMENT` with `segment` (a GSO message) and
/// `IP_PKTINFO` naming `source` (the address to send from), each if given; none leaves `h`
/// without control data.
///
/// # Safety
/// `buf` must outlive every use of `h`.
unsafe fn set_cmsgs(
    h: &mut libc::msghdr,
    buf: &mut CmsgBuf,
    segment: Option<u16>,
    source: Option<Ipv4Addr>,
) {
    let seg_space = libc::CMSG_SPACE(size_of::<u16>() as u32) as usize;
    let info_space = libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) as usize;
    let len = segment.map_or(0, |_| seg_space) + source.map_or(0, |_| info_space);
    if len == 0 {
        h.msg_control = std::ptr::null_mut();
        h.msg_controllen = 0;
        return;
    }
    h.msg_control = buf.0.as_mut_ptr().cast();
    h.msg_controllen = len as _;
    let mut c = libc::CMSG_FIRSTHDR(h);
    if let Some(segment) = segment {
        (*c).cmsg_level = SOL_UDP;
        (*c).cmsg_type = UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), segment);
        c = libc::CMSG_NXTHDR(h, c);
    }
    if let Some(source) = source {
        (*c).cmsg_level = libc::IPPROTO_IP;
        (*c).cmsg_type = libc::IP_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as _;
        let info = libc::in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(source).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
    }
}

impl AsRawFd for UdpEndpoint {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    fn wait_for(
        ep: &UdpEndpoint,
        b: &mut RecvBatch,
        want: usize,
    ) -> Vec<(SocketAddrV4, Ipv4Addr, Vec<u8>, bool)> {
        let mut got = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while got.len() < want && Instant::now() < until {
            let n = ep.recv_batch(b).unwrap();
            if n == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
            for d in b.iter() {
                got.push((d.source, d.local, d.payload.to_vec(), d.truncated));
            }
        }
        got
    }

    #[test]
    fn batch_round_trip_with_pktinfo() {
        let server = UdpEndpoint::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let client = UdpEndpoint::bind(lo(0)).unwrap();
        let port = server.local_addr().port();
        let msgs: Vec<Transmit> = (0..100u8)
            .map(|i| Transmit {
                destination: lo(port),
                source: Ipv4Addr::UNSPECIFIED,
                payload: vec![i; usize::from(i) + 1],
            })
            .collect();
        let r = client.send_batch(&msgs);
        assert_eq!((r.sent, r.failed), (100, 0), "{r:?}");
        let mut b = RecvBatch::new();
        let got = wait_for(&server, &mut b, 100);
        assert_eq!(got.len(), 100);
        for (i, (src, local, payload, trunc)) in got.iter().enumerate() {
            assert_eq!(*src, client.local_addr());
            assert_eq!(*local, Ipv4Addr::LOCALHOST);
            assert_eq!(payload, &vec![i as u8; i + 1]);
            assert!(!trunc);
        }
        // Replies name their source address; 127.0.0.2 is local (all of 127/8 is).
        let reply = Transmit {
            destination: client.local_addr(),
            source: Ipv4Addr::new(127, 0, 0, 2),
            payload: b"reply".to_vec(),
        };
        server.send_one(&reply).unwrap();
        let got = wait_for(&client, &mut b, 1);
        assert_eq!(got[0].0.ip(), &Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(got[0].2, b"reply");
    }

    #[test]
    fn foreign_source_falls_back_and_oversized_is_flagged() {
        let server = UdpEndpoint::bind(lo(0)).unwrap();
        let client = UdpEndpoint::bind(lo(0)).unwrap();
        // 192.0.2.1 is not ours: the kernel refuses it as a source; the datagram still goes.
        let t = Transmit {
            destination: client.local_addr(),
            source: Ipv4Addr::new(192, 0, 2, 1),
            payload: b"x".to_vec(),
        };
        let r = server.send_batch(std::slice::from_ref(&t));
        assert_eq!((r.sent, r.without_source, r.failed), (1, 1, 0), "{r:?}");
        let mut b = RecvBatch::new();
        let got = wait_for(&client, &mut b, 1);
        assert_eq!(got[0].0, server.local_addr());

        let big = Transmit {
            destination: server.local_addr(),
            source: Ipv4Addr::UNSPECIFIED,
            payload: vec![7; MAX_DATAGRAM + 10],
        };
        client.send_one(&big).unwrap();
        let got = wait_for(&server, &mut b, 1);
        assert!(got[0].3, "oversized datagram flagged");
        assert_eq!(got[0].2.len(), MAX_DATAGRAM);
    }

    #[test]
    fn empty_socket_reads_nothing() {
        let s = UdpEndpoint::bind(lo(0)).unwrap();
        let mut b = RecvBatch::new();
        assert_eq!(s.recv_batch(&mut b).unwrap(), 0);
        assert!(b.is_empty());
        assert!(s.recv_buffer_size().unwrap() > 0);
    }

    fn tx(to: SocketAddrV4, len: usize, tag: u8) -> Transmit {
        Transmit {
            destination: to,
            source: Ipv4Addr::UNSPECIFIED,
            payload: vec![tag; len],
        }
    }

    #[test]
    fn gso_runs_group_equal_lengths_per_destination_in_order() {
        let (a, b) = (lo(1000), lo(2000));
        let msgs = vec![
            tx(a, 42, 0),
            tx(b, 42, 1),
            tx(a, 42, 2),
            tx(a, 30, 3), // shorter: may end a's run
            tx(a, 42, 4), // after a shorter one: a new run
            tx(b, 50, 5), // longer than b's run: a new run
            tx(b, 42, 6),
        ];
        assert_eq!(
            gso_runs(&msgs),
            vec![vec![0, 2, 3], vec![1], vec![4], vec![5, 6]]
        );
        // At most GSO_MAX_SEGMENTS per run.
        let many: Vec<Transmit> = (0..100).map(|i| tx(a, 10, i as u8)).collect();
        let runs = gso_runs(&many);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), GSO_MAX_SEGMENTS);
        assert_eq!(runs.concat(), (0..100).collect::<Vec<_>>());
        // At most GSO_MAX_BYTES per run.
        let big: Vec<Transmit> = (0..10).map(|i| tx(a, 20_000, i as u8)).collect();
        assert!(gso_runs(&big)
            .iter()
            .all(|r| r.len() <= GSO_MAX_BYTES / 20_000));
    }

    /// Replies to three destinations, runs of equal lengths with odd ones between: every
    /// datagram arrives whole and separate, in order per destination, and is counted sent.
    #[test]
    fn gso_batches_arrive_as_the_same_datagrams() {
        let server = UdpEndpoint::bind(lo(0)).unwrap();
        let clients: Vec<UdpEndpoint> = (0..3).map(|_| UdpEndpoint::bind(lo(0)).unwrap()).collect();
        let mut msgs = Vec::new();
        let mut expect: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 3];
        for i in 0..150usize {
            let c = i % 3;
            let len = if i % 17 == 0 { 13 } else { 42 };
            let mut payload = vec![c as u8; len];
            payload[0] = i as u8;
            expect[c].push(payload.clone());
            msgs.push(Transmit {
                destination: clients[c].local_addr(),
                source: Ipv4Addr::UNSPECIFIED,
                payload,
            });
        }
        let r = server.send_batch(&msgs);
        assert_eq!((r.sent, r.failed), (150, 0), "{r:?}");
        assert!(server.gso.load(Ordering::Relaxed), "loopback takes UDP GSO");
        let mut b = RecvBatch::new();
        for (c, client) in clients.iter().enumerate() {
            let got = wait_for(client, &mut b, expect[c].len());
            let payloads: Vec<Vec<u8>> = got.iter().map(|g| g.2.clone()).collect();
            assert_eq!(payloads, expect[c], "client {c}");
            assert!(got.iter().all(|g| g.0 == server.local_addr()));
        }
    }

    /// Without GSO (the option off) the same batch gives the same datagrams.
    #[test]
    fn gso_off_sends_the_same() {
        let server = UdpEndpoint::bind_with(
            lo(0),
            &UdpOptions {
                gso: false,
                ..UdpOptions::default()
            },
        )
        .unwrap();
        let client = UdpEndpoint::bind(lo(0)).unwrap();
        let msgs: Vec<Transmit> = (0..70)
            .map(|i| tx(client.local_addr(), 42, i as u8))
            .collect();
        let r = server.send_batch(&msgs);
        assert_eq!((r.sent, r.failed), (70, 0));
        let mut b = RecvBatch::new();
        let got = wait_for(&client, &mut b, 70);
        assert_eq!(
            got.iter().map(|g| g.2[0]).collect::<Vec<_>>(),
            (0..70).collect::<Vec<u8>>()
        );
    }

    /// A run whose source address the kernel refuses (not ours) still arrives, sent one by
    /// one without it, and does not turn GSO off.
    #[test]
    fn gso_run_with_a_foreign_source_falls_back_and_keeps_gso() {
        let server = UdpEndpoint::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let client = UdpEndpoint::bind(lo(0)).unwrap();
        let msgs: Vec<Transmit> = (0..5u8)
            .map(|i| Transmit {
                destination: client.local_addr(),
                source: Ipv4Addr::new(192, 0, 2, 1),
                payload: vec![i; 20],
            })
            .collect();
        let r = server.send_batch(&msgs);
        assert_eq!((r.sent, r.failed, r.without_source), (5, 0, 5), "{r:?}");
        assert!(server.gso.load(Ordering::Relaxed));
        let mut b = RecvBatch::new();
        let got = wait_for(&client, &mut b, 5);
        assert_eq!(
            got.iter().map(|g| g.2[0]).collect::<Vec<_>>(),
            (0..5).collect::<Vec<u8>>()
        );
        // And a later batch still goes out as GSO runs (from a local source).
        let ok: Vec<Transmit> = (0..5u8).map(|i| tx(client.local_addr(), 20, i)).collect();
        assert_eq!(server.send_batch(&ok).sent, 5);
        assert_eq!(wait_for(&client, &mut b, 5).len(), 5);
        assert!(server.gso.load(Ordering::Relaxed));
    }
}
