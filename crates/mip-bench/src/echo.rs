//! `mip-bench echo`: the baseline. A UDP responder that answers every datagram with a
//! reply-sized one ([`write_echo_reply`]) through the same batched I/O as the generator
//! ([`RecvBatch`], [`SendBatch`], `ppoll`), and does nothing else: no parsing beyond copying
//! the fields the generator matches on, no authentication, no state. The rate the generator
//! gets from it is what the machine's UDP path allows; a home agent is held against it.
//!
//! Bounded: it stops after `duration`, after `idle` without a datagram, or after
//! `max_packets`.

use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::message::write_echo_reply;
use crate::udp::{fd, udp_socket, wait_readable, RecvBatch, SendBatch};

/// Echo settings.
#[derive(Clone, Debug)]
pub struct EchoOptions {
    /// Where to listen.
    pub listen: SocketAddrV4,
    /// Threads, each with its own `SO_REUSEPORT` socket (1: a single socket).
    pub threads: usize,
    /// Datagrams per batch.
    pub batch: usize,
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this long without a datagram.
    pub idle: Duration,
    /// Stop after answering this many.
    pub max_packets: u64,
}

/// What the responder did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EchoReport {
    /// Datagrams received.
    pub received: u64,
    /// Replies the kernel took.
    pub sent: u64,
    /// Seconds it ran.
    pub seconds: f64,
    /// CPU time used, microseconds per datagram received.
    pub cpu_us_per_datagram: f64,
}

/// Binds the sockets (so the caller can print the port before serving).
///
/// # Errors
/// A socket could not be bound.
pub fn bind(opts: &EchoOptions) -> io::Result<(Vec<std::net::UdpSocket>, SocketAddrV4)> {
    let threads = opts.threads.max(1);
    let first = udp_socket(opts.listen, 32 << 20, threads > 1)?;
    let addr = match first.local_addr()? {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => return Err(io::Error::other("bound to IPv6")),
    };
    let mut socks = vec![first];
    for _ in 1..threads {
        socks.push(udp_socket(addr, 32 << 20, true)?);
    }
    Ok((socks, addr))
}

fn serve_one(sock: &std::net::UdpSocket, opts: &EchoOptions) -> EchoReport {
    let start = Instant::now();
    let mut rx = RecvBatch::new(opts.batch);
    let mut tx = SendBatch::new(opts.batch);
    let mut rep = EchoReport::default();
    let mut last_packet = Instant::now();
    let f = fd(sock);
    loop {
        let now = Instant::now();
        if now.duration_since(start) >= opts.duration
            || now.duration_since(last_packet) >= opts.idle
            || rep.received >= opts.max_packets
        {
            break;
        }
        let n = rx.recv(f).unwrap_or_default();
        if n == 0 {
            let _ = wait_readable(&[f], Duration::from_millis(50));
            continue;
        }
        last_packet = Instant::now();
        rep.received += n as u64;
        for i in 0..n {
            let (req, from) = rx.get(i);
            tx.push_with(Some(from), |out| write_echo_reply(out, req));
        }
        // A full send buffer drops the rest (as a real agent's would).
        let sent = tx.flush(f).unwrap_or(0);
        rep.sent += sent as u64;
    }
    rep.seconds = start.elapsed().as_secs_f64();
    rep
}

/// Serves on `socks` (one thread each) until a bound is reached.
pub fn serve(socks: Vec<std::net::UdpSocket>, opts: &EchoOptions) -> EchoReport {
    let cpu0 = crate::udp::cpu_seconds();
    let mut total = if socks.len() == 1 {
        serve_one(&socks[0], opts)
    } else {
        let reports: Vec<EchoReport> = std::thread::scope(|s| {
            let handles: Vec<_> = socks
                .iter()
                .map(|sock| s.spawn(move || serve_one(sock, opts)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut total = EchoReport::default();
        for r in reports {
            total.received += r.received;
            total.sent += r.sent;
            total.seconds = total.seconds.max(r.seconds);
        }
        total
    };
    if total.received > 0 {
        total.cpu_us_per_datagram =
            (crate::udp::cpu_seconds() - cpu0) * 1e6 / total.received as f64;
    }
    total
}
