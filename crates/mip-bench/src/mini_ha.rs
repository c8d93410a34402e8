//! `mip-bench mini-ha`: the `mip-ha` core behind the echo responder's socket loop — one
//! thread, `recvmmsg`, `handle_request` per datagram, outputs drained (store and data-plane
//! requests are discarded: no durability, no tunnels), replies sent with `sendmmsg`.
//!
//! Not a home agent to deploy: it is the upper bound of what `mipd` can reach on this machine
//! with this core (everything `mipd` adds — the store, the data plane, the control socket —
//! only costs more), and a real signed-reply target for the generator's tests while `mipd` is
//! being written.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant, SystemTime};

use mip_ha::{HaOptions, HomeAgent};
use serde::Serialize;

use crate::udp::{fd, udp_socket, wait_readable, RecvBatch, SendBatch};

/// Settings of the minimal home agent.
#[derive(Clone, Debug)]
pub struct MiniHaOptions {
    /// Where to listen.
    pub listen: SocketAddrV4,
    /// Datagrams per batch.
    pub batch: usize,
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this long without a datagram.
    pub idle: Duration,
    /// Keep per-host counters.
    pub per_host_counters: bool,
}

/// What it did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MiniHaReport {
    /// Datagrams received.
    pub received: u64,
    /// Replies sent.
    pub sent: u64,
    /// Bindings at the end.
    pub bindings: usize,
    /// Seconds it ran.
    pub seconds: f64,
    /// CPU time used, microseconds per datagram received.
    pub cpu_us_per_datagram: f64,
}

/// Binds the socket; returns it and its address.
///
/// # Errors
/// Bind failed.
pub fn bind(listen: SocketAddrV4) -> io::Result<(std::net::UdpSocket, SocketAddrV4)> {
    let s = udp_socket(listen, 32 << 20, false)?;
    let addr = match s.local_addr()? {
        std::net::SocketAddr::V4(a) => a,
        std::net::SocketAddr::V6(_) => return Err(io::Error::other("bound to IPv6")),
    };
    Ok((s, addr))
}

/// Serves `cfg` on `sock` until a bound is reached.
pub fn serve(
    sock: &std::net::UdpSocket,
    cfg: &mip_config::Config,
    opts: &MiniHaOptions,
) -> MiniHaReport {
    let local = if opts.listen.ip().is_unspecified() {
        Ipv4Addr::LOCALHOST
    } else {
        *opts.listen.ip()
    };
    let options = HaOptions {
        per_host_counters: opts.per_host_counters,
        ..HaOptions::default()
    };
    let mut ha = HomeAgent::new_with_options(cfg, &[local], options);
    let cpu0 = crate::udp::cpu_seconds();
    let start = Instant::now();
    let mut rx = RecvBatch::new(opts.batch);
    let mut tx = SendBatch::new(opts.batch);
    let mut rep = MiniHaReport::default();
    let mut last_packet = Instant::now();
    let f = fd(sock);
    loop {
        let now = Instant::now();
        if now.duration_since(start) >= opts.duration
            || now.duration_since(last_packet) >= opts.idle
        {
            break;
        }
        let n = rx.recv(f).unwrap_or(0);
        if n == 0 {
            let _ = wait_readable(&[f], Duration::from_millis(50));
            continue;
        }
        last_packet = Instant::now();
        rep.received += n as u64;
        let wall = SystemTime::now();
        for i in 0..n {
            let (payload, from) = rx.get(i);
            ha.handle_request(wall, from, local, payload);
            while ha.poll_store().is_some() {}
            while ha.poll_dataplane().is_some() {}
            while let Some(t) = ha.poll_transmit() {
                if tx.is_full() {
                    rep.sent += tx.flush(f).unwrap_or(0) as u64;
                }
                tx.push_with(Some(t.destination), |out| {
                    let len = t.payload.len().min(out.len());
                    out[..len].copy_from_slice(&t.payload[..len]);
                    Some(len)
                });
            }
        }
        rep.sent += tx.flush(f).unwrap_or(0) as u64;
        if ha.poll_timeout().is_some_and(|t| t <= wall) {
            ha.handle_timeout(wall);
            while ha.poll_store().is_some() {}
            while ha.poll_dataplane().is_some() {}
        }
    }
    rep.bindings = ha.binding_count();
    rep.seconds = start.elapsed().as_secs_f64();
    if rep.received > 0 {
        rep.cpu_us_per_datagram = (crate::udp::cpu_seconds() - cpu0) * 1e6 / rep.received as f64;
    }
    rep
}
