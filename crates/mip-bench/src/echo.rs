//! `mip-bench echo`: the baseline. A UDP responder that answers every datagram with a
//! reply-sized one ([`write_echo_reply`]) through the home agent's own socket code
//! ([`mip_io::UdpEndpoint`]: `recvmmsg`, and `sendmmsg` with UDP GSO for runs of equal-sized
//! replies to one destination; [`mip_io::Poller`] while idle), and does nothing else: no
//! parsing beyond copying the fields the generator matches on, no authentication, no store,
//! no state. The rate the generator gets from it is what the machine's UDP path allows with
//! that I/O; a home agent is held against it.
//!
//! Bounded: it stops after `duration`, after `idle` without a datagram, or after
//! `max_packets`.

use std::io;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use serde::Serialize;

use mip_ha::Transmit;
use mip_io::{Poller, RecvBatch, UdpEndpoint, UdpOptions};

use crate::message::{write_echo_reply, REPLY_LEN};

/// Echo settings.
#[derive(Clone, Debug)]
pub struct EchoOptions {
    /// Where to listen.
    pub listen: SocketAddrV4,
    /// Threads, each with its own `SO_REUSEPORT` socket (1: a single socket).
    pub threads: usize,
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
pub fn bind(opts: &EchoOptions) -> io::Result<(Vec<UdpEndpoint>, SocketAddrV4)> {
    let threads = opts.threads.max(1);
    let options = UdpOptions {
        recv_buffer: 32 << 20,
        reuse_port: threads > 1,
        ..UdpOptions::default()
    };
    let first = UdpEndpoint::bind_with(opts.listen, &options)?;
    let addr = first.local_addr();
    let mut socks = vec![first];
    for _ in 1..threads {
        socks.push(UdpEndpoint::bind_with(addr, &options)?);
    }
    Ok((socks, addr))
}

fn serve_one(sock: &UdpEndpoint, opts: &EchoOptions) -> EchoReport {
    let start = Instant::now();
    let mut rx = RecvBatch::new();
    let mut tx: Vec<Transmit> = Vec::with_capacity(mip_io::BATCH);
    let mut rep = EchoReport::default();
    let mut last_packet = Instant::now();
    let Ok(poller) = Poller::new() else {
        return rep;
    };
    loop {
        let now = Instant::now();
        if now.duration_since(start) >= opts.duration
            || now.duration_since(last_packet) >= opts.idle
            || rep.received >= opts.max_packets
        {
            break;
        }
        let n = sock.recv_batch(&mut rx).unwrap_or_default();
        if n == 0 {
            let _ = poller.wait(sock, Some(Duration::from_millis(50)));
            continue;
        }
        last_packet = Instant::now();
        rep.received += n as u64;
        tx.clear();
        for d in rx.iter() {
            let mut payload = vec![0; REPLY_LEN];
            if let Some(len) = write_echo_reply(&mut payload, d.payload) {
                payload.truncate(len);
                tx.push(Transmit {
                    destination: d.source,
                    source: d.local,
                    payload,
                });
            }
        }
        // A full send buffer drops the rest (as a real agent's would).
        rep.sent += sock.send_batch(&tx).sent as u64;
    }
    rep.seconds = start.elapsed().as_secs_f64();
    rep
}

/// Serves on `socks` (one thread each) until a bound is reached.
pub fn serve(socks: Vec<UdpEndpoint>, opts: &EchoOptions) -> EchoReport {
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
