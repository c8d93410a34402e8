//! The tunnel engine: a thread that owns a TUN device and the raw sockets for protocols 4, 47
//! and 55, encapsulating what the kernel routes into the TUN device and decapsulating what
//! arrives from known tunnel remotes.
//!
//! # How packets flow
//!
//! * **Into a tunnel.** The daemon routes an address into the TUN device with a netlink host
//!   route ([`Route::host_via_device`](super::netlink::Route::host_via_device)) and tells the
//!   engine which tunnel it goes through ([`TunnelEngine::route`]). The engine reads the packet,
//!   looks its destination up in its own table (then, failing that, its *source* in the
//!   source table of [`TunnelEngine::route_source`], for reverse tunnelling), encapsulates it
//!   to the tunnel's remote end and sends it (outer header written by the engine), in
//!   batches with `sendmmsg(2)`, on the socket [`EngineConfig::tx`] chooses (see
//!   [below](#transmit-modes)). A destination with several tunnels (simultaneous bindings,
//!   RFC 5944 §3.6.1.3) gets a copy through each.
//! * **Out of a tunnel.** Packets arriving on the raw sockets are accepted only from a remote
//!   registered with [`TunnelEngine::accept_from`] for that protocol (others are dropped and
//!   counted as `unknown_source`); the inner packet is written to the TUN device and the
//!   kernel delivers or forwards it like any packet received on an interface.
//!
//! # Transmit modes
//!
//! * [`TxMode::Raw`] (the default): every outer packet goes to an `IPPROTO_RAW` socket. The
//!   kernel routes it (policy rules included), passes it through netfilter (`OUTPUT`,
//!   `POSTROUTING`), resolves the next hop's MAC and queues it on the device's qdisc.
//! * [`TxMode::Packet`]: outer packets go to an `AF_PACKET`/`SOCK_DGRAM` socket
//!   ([`PacketSocket::ipv4_sender`], with `PACKET_QDISC_BYPASS` when
//!   [`EngineConfig::packet_qdisc_bypass`]), the kernel adding only the Ethernet header.
//!   Faster per core, at a price: at send time the outer packets **bypass netfilter** (no
//!   firewall, NAT, conntrack or accounting rule sees them), the **qdisc** (no shaping;
//!   with the bypass) and **routing policy**: the engine resolves the next hop itself and
//!   caches it per tunnel (per thread): `route get REMOTE` (output device, gateway or
//!   on-link), then the neighbour entry of the gateway (or of the remote) on that device,
//!   usable when REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP; the device must be
//!   Ethernet (`ARPHRD_ETHER`) and up. The lookup has no source address, like the raw
//!   socket's. A packet whose tunnel has no usable next hop (unresolved neighbour, a device
//!   without MAC such as a TUN device or loopback, a packet larger than the device MTU) goes
//!   through the raw socket as in the raw mode (`tx_raw_fallback`). Every tunnel used in the
//!   last second is resolved again once a second (one lookup per remote; a tunnel idle for a
//!   second is forgotten and resolved again at its next packet), and at once after the
//!   packet socket refuses a packet (`ENXIO`, `ENODEV`, `ENETDOWN`, `EMSGSIZE`; that packet
//!   then goes on the raw socket, `EMSGSIZE` being handled as in the raw mode). The kernel
//!   never sees the packet-socket traffic and would let the neighbour entry go stale
//!   without confirming it, so the first packet of each tunnel in each one-second period
//!   goes through the raw socket (`tx_raw_refresh`): the kernel uses, and so confirms or
//!   probes, the neighbour as usual, and a changed MAC is picked up at the next refresh.
//!   Resolutions are synchronous netlink requests in the engine thread, so they are
//!   rationed ([`EngineConfig::resolutions_per_second`]): the oldest entries first; a new
//!   tunnel beyond the budget starts on the raw socket (`nexthop_deferred`).
//!   Order is kept: a batch leaves in order, in runs per socket.
//!   [`EngineCounters::tx_packet_socket`] counts what went by the packet socket.
//!
//! # Coalesced packets out of a tunnel
//!
//! When the receiving interface (or a router before it) does GRO, the kernel merges the outer
//! packets of one inner TCP flow and the raw socket hands over one packet of up to 64 KB,
//! with the TCP checksum left partial. Such a packet (IPv4/TCP, whole, larger than the TUN
//! MTU) goes back into the TUN device as a TCP GSO packet, or cut into segments when the
//! device has no offloads ([`received_super_tcp4`], `rx_coalesced`); written as it is, the
//! kernel would drop it as larger than the MTU.
//!
//! # Header rules
//!
//! * Outer TTL: [`EngineConfig::outer_ttl`] (64). Outer TOS and DF: copied from the inner
//!   header (RFC 2003 §3.1; seed 002: "If the Don't fragment bit is set in the packet, the
//!   outer IP header's bit is also set"). Outer Identification: a per-tunnel counter. The
//!   engine writes the whole outer header, total length and header checksum included
//!   (`mip_wire::tunnel::encapsulate_*`), so it is complete for the packet socket, which
//!   sends it as is; the raw socket recomputes the checksum (`IP_HDRINCL`) and would choose
//!   an Identification only where the engine's counter wrapped to 0.
//! * Inner TTL: **not** changed by the engine. RFC 2003 §3.1 wants it decremented once when
//!   the encapsulator forwards the datagram; here the kernel already did that when it
//!   forwarded the packet into the TUN device (`ip_forward` decrements before transmission),
//!   and a packet the host itself originated must not be decremented. Decapsulation leaves it
//!   alone too (the kernel decrements it again if it forwards the inner packet); an inner
//!   packet with TTL 0 is dropped (`drop_ttl`).
//! * Minimal encapsulation (RFC 2004) keeps the inner header (and so its TTL); an inner
//!   *fragment* cannot be carried that way and goes IP-in-IP instead (the receiving engine
//!   accepts protocol 4 from a minimal tunnel's remote too).
//! * GRE (RFC 2784/2890): optional checksum, key and sequence number per tunnel. On receive
//!   the key must match the tunnel's (absent if the tunnel has none): `drop_key_mismatch`.
//!   Sequence numbers are sent but not enforced on receive.
//!
//! # MTU
//!
//! Each tunnel has an MTU: the largest inner packet it carries whole. By default it is the
//! path MTU to the remote (route MTU, else the output device's MTU) less the encapsulation
//! overhead, looked up when the tunnel is added. A larger inner packet:
//!
//! * with DF set: is dropped (`drop_too_big`) and an ICMP Destination Unreachable /
//!   Fragmentation Needed (type 3 code 4) carrying the tunnel MTU as next-hop MTU goes back to
//!   the inner source (written into the TUN device; source = the tunnel's local address,
//!   hence `accept_local=1` on the TUN device) — seed 002: "Subsequent packets greater than
//!   tunnel's MTU will be dropped and ICMP Datagram Too Big message sent to the source";
//! * with DF clear: is encapsulated and sent through the protocol's receive socket *without*
//!   `IP_HDRINCL` (TTL, TOS and source passed as control messages), so that the kernel
//!   fragments the outer packet (`tx_fragmented`); the far end's kernel reassembles before its
//!   raw socket sees it.
//!
//! If the kernel refuses a fast-path packet as too big (`EMSGSIZE`: the output device MTU
//! shrank), the engine re-reads the path MTU, lowers the tunnel MTU, and handles the packet as
//! above. ICMP errors are rate-limited ([`EngineConfig::icmp_per_second`]) and never sent
//! about ICMP errors, non-first fragments or non-unicast sources.
//!
//! Not done: relaying ICMP errors from inside the tunnel back to the original source (RFC 2003
//! §4 "ICMP messages from within the tunnel"), ECN propagation (RFC 6040), GRE
//! sequence-number enforcement, checks of the inner source on decapsulation (the daemon's
//! `accept_from` per care-of address is the policy).
//!
//! # Threading
//!
//! [`TunnelEngine::start`] opens everything in the calling thread's network namespace and
//! starts the engine thread; the returned handle is `Send + Sync` and talks to the thread over
//! a channel plus an `eventfd` wake-up. Each wake-up handles at most
//! [`EngineConfig::batch`] packets per socket, with buffers allocated once.
//!
//! With [`EngineConfig::queues`] > 1 the TUN device is multi-queue and there is one thread
//! per queue, each with its own send sockets (and, in [`TxMode::Packet`], its own next-hop
//! cache); the kernel keeps a flow on one queue, so a flow's
//! packets stay in order. The first thread does everything as above; the others only
//! encapsulate what their queue reads, with copies of the tunnel and route tables that the
//! handle updates (after the first thread, before the call returns). Shared between them: a
//! tunnel's MTU (set or lowered by any), its GRE sequence numbers (one atomic counter: unique,
//! in order per thread but interleaved between threads) and the ICMP rate limit; outer
//! Identifications are interleaved (queue k of n uses k+1, k+1+n, ...). Counters are per
//! thread and summed by [`TunnelEngine::stats`] (see [`EngineStats::queue_packets`]).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use mip_wire::error::internet_checksum;
use mip_wire::ipv4::{Ipv4Packet, Protocol};
use mip_wire::tunnel::{
    decapsulate_gre, decapsulate_ipip, decapsulate_minimal_in_place, encapsulate_gre_with,
    encapsulate_ipip_with, encapsulate_minimal, GreRepr, OuterHeader,
};

use super::broadcast::{
    classify, decrement_ttl, nest_to_home, BroadcastSocket, RateLimiter, Verdict,
};
use super::netlink::Netlink;
use super::netlink::{nud_usable, ARPHRD_ETHER};
use super::offload::{
    finish_partial_checksum, received_super_tcp4, segment_tcp4, Gro, Held, Push, VnetHdr,
    F_NEEDS_CSUM, GSO_ECN, GSO_NONE, GSO_TCPV4, VNET_HDR_LEN,
};
use super::packet::{LinkScratch, PacketSocket};
use super::raw::{MmsgScratch, RawSocket};
use super::sysctl;
use super::tun::Tun;

/// A tunnel's number, chosen by the caller (the home agent's `TunnelId.0`).
pub type TunnelId = u32;

/// How packets are wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encapsulation {
    /// IP in IP (RFC 2003), protocol 4.
    IpIp,
    /// GRE (RFC 2784, key and sequence number of RFC 2890), protocol 47.
    Gre {
        /// Key sent, and required on receive.
        key: Option<u32>,
        /// Send the GRE checksum (it is verified on receive whenever present).
        checksum: bool,
        /// Send sequence numbers.
        sequence: bool,
    },
    /// Minimal encapsulation (RFC 2004), protocol 55.
    Minimal,
}

impl Encapsulation {
    /// Plain GRE: no key, checksum or sequence number (RFC 5944 §3.6.1.3's "G").
    pub const GRE: Encapsulation = Encapsulation::Gre {
        key: None,
        checksum: false,
        sequence: false,
    };

    /// The outer IP protocol number.
    pub fn protocol(&self) -> u8 {
        match self {
            Encapsulation::IpIp => 4,
            Encapsulation::Gre { .. } => 47,
            Encapsulation::Minimal => 55,
        }
    }

    /// Bytes added to an inner packet (at most; minimal encapsulation adds 8 when the
    /// encapsulator is the original source).
    pub fn overhead(&self) -> usize {
        match self {
            Encapsulation::IpIp => 20,
            Encapsulation::Gre {
                key,
                checksum,
                sequence,
            } => {
                24 + 4
                    * (usize::from(key.is_some()) + usize::from(*checksum) + usize::from(*sequence))
            }
            Encapsulation::Minimal => 12,
        }
    }

    /// The engine's form of a registration's encapsulation (IP in IP, plain GRE, minimal);
    /// `None` for an unknown number.
    pub fn from_wire(e: mip_wire::codes::Encapsulation) -> Option<Self> {
        match u8::from(e) {
            4 => Some(Encapsulation::IpIp),
            47 => Some(Encapsulation::GRE),
            55 => Some(Encapsulation::Minimal),
            _ => None,
        }
    }
}

/// A tunnel to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelSpec {
    /// Outer source (the home agent address, or the care-of address at the other end).
    pub local: Ipv4Addr,
    /// Outer destination.
    pub remote: Ipv4Addr,
    /// How packets are wrapped.
    pub encapsulation: Encapsulation,
    /// Largest inner packet carried whole; `None`: path MTU to `remote` less the overhead.
    pub mtu: Option<u16>,
}

/// Which socket carries the encapsulated (outer) packets. See the [module
/// documentation](self#transmit-modes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TxMode {
    /// An `IPPROTO_RAW` socket: the kernel routes, filters, resolves and queues each packet.
    #[default]
    Raw,
    /// An `AF_PACKET` socket to the next hop the engine resolved (netfilter, qdisc and routing
    /// policy are bypassed at send time); the raw socket when the next hop is unknown.
    Packet,
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// TUN device name (`%d` lets the kernel number it).
    pub tun_name: String,
    /// TUN device MTU: the largest packet the kernel hands the engine (larger ones the kernel
    /// fragments or answers with ICMP itself).
    pub tun_mtu: u32,
    /// Outer TTL.
    pub outer_ttl: u8,
    /// Packets handled per socket per wake-up.
    pub batch: usize,
    /// ICMP errors the engine may originate per second.
    pub icmp_per_second: u32,
    /// Set on the TUN device: `rp_filter=0` (decapsulated packets may come from anywhere),
    /// `accept_local=1` (the engine's ICMP errors come from a local address),
    /// `disable_ipv6=1` (no IPv6 chatter into the device).
    pub configure_sysctls: bool,
    /// Pin the engine thread to this CPU (`sched_setaffinity`); `None`: let the scheduler
    /// choose.
    pub cpu: Option<usize>,
    /// Home-link broadcasts forwarded into tunnels per second, at most (each may make several
    /// copies); see [`broadcast`](super::broadcast).
    pub broadcast_per_second: u32,
    /// Open the TUN device with `IFF_VNET_HDR` and the checksum/TCP segmentation offloads
    /// ([`Tun::open_offload`]): TCP super-segments are segmented by the engine before
    /// encapsulation, and consecutive decapsulated TCP segments of a flow are coalesced
    /// before they are written to the device (see [`offload`](super::offload)). Falls back
    /// to one packet per read and write when the kernel refuses.
    pub offload: bool,
    /// TUN queues, one engine thread each (`IFF_MULTI_QUEUE` when more than one): the kernel
    /// spreads what it routes into the device over the queues by flow, and each thread
    /// encapsulates its queue's packets with its own send socket, so that the engine can use
    /// several cores. The first thread also does everything else (decapsulation, broadcasts,
    /// commands). 1: a single-queue device and one thread.
    pub queues: usize,
    /// CPUs of the threads of queues 1, 2, ... (queue 0's is [`EngineConfig::cpu`]); a queue
    /// with no entry is not pinned.
    pub queue_cpus: Vec<usize>,
    /// The socket outer packets are sent on ([`TxMode::Raw`] by default).
    pub tx: TxMode,
    /// In [`TxMode::Packet`]: set `PACKET_QDISC_BYPASS` (frames skip the device's qdisc).
    pub packet_qdisc_bypass: bool,
    /// In [`TxMode::Packet`]: next-hop resolutions (three netlink requests each, run in the
    /// engine thread) per second and thread, at most. With more busy tunnels than this, the
    /// oldest entries are resolved first and the others keep their cached next hop a little
    /// longer (their first packet of each second still goes through the kernel); a new
    /// tunnel beyond it starts on the raw socket and is resolved in a later second.
    pub resolutions_per_second: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            tun_name: "mipt%d".into(),
            tun_mtu: 1500,
            outer_ttl: 64,
            batch: 64,
            icmp_per_second: 200,
            configure_sysctls: true,
            cpu: None,
            broadcast_per_second: 200,
            offload: true,
            queues: 1,
            queue_cpus: Vec::new(),
            tx: TxMode::Raw,
            packet_qdisc_bypass: true,
            resolutions_per_second: RESOLVE_BUDGET,
        }
    }
}

/// Per-tunnel counters. "out" is into the tunnel (encapsulated), "in" out of it
/// (decapsulated); bytes are inner-packet bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelCounters {
    /// Packets encapsulated and sent.
    pub tx_packets: u64,
    /// Their inner bytes.
    pub tx_bytes: u64,
    /// Of those, sent through the fragmenting path (DF clear, larger than the MTU).
    pub tx_fragmented: u64,
    /// Packets decapsulated and handed to the kernel.
    pub rx_packets: u64,
    /// Their inner bytes.
    pub rx_bytes: u64,
    /// Dropped: larger than the MTU with DF set (an ICMP error was sent unless suppressed).
    pub drop_too_big: u64,
    /// Dropped: the kernel refused to send.
    pub drop_send_error: u64,
    /// Dropped: the packet could not be encapsulated (malformed inner packet).
    pub drop_encap_error: u64,
    /// Dropped: malformed encapsulated packet (bad outer header, checksum, inner length).
    pub drop_decap_error: u64,
    /// Dropped: GRE key missing or wrong.
    pub drop_key_mismatch: u64,
    /// Dropped: inner TTL 0 after decapsulation.
    pub drop_ttl: u64,
    /// Dropped: the inner packet was addressed to the tunnel's own remote end (a loop).
    pub drop_loop: u64,
    /// Dropped: writing the inner packet to the TUN device failed.
    pub drop_write_error: u64,
    /// Of `tx_packets`, copies of home-link broadcasts (RFC 5944 §4.3).
    pub tx_broadcast: u64,
}

/// One tunnel in a [`EngineStats`] snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelStats {
    /// The tunnel as added, with the MTU in force.
    pub spec: TunnelSpec,
    /// The MTU in force.
    pub mtu: u16,
    /// Counters.
    pub counters: TunnelCounters,
}

/// Engine-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineCounters {
    /// Packets read from the TUN device.
    pub tun_packets: u64,
    /// Packets received on the raw sockets.
    pub raw_packets: u64,
    /// Of those, TCP super-segments that GRO had coalesced on the way (one raw packet for
    /// several segments), written back to the TUN device as TCP GSO packets.
    pub rx_coalesced: u64,
    /// Dropped: tunnel packet from a source with no `accept_from` for its protocol.
    pub unknown_source: u64,
    /// Dropped: packet from the TUN device with neither a destination nor a source route.
    pub no_route: u64,
    /// Dropped: not IPv4 (from the TUN device).
    pub not_ipv4: u64,
    /// Dropped: malformed or truncated packet.
    pub malformed: u64,
    /// ICMP Fragmentation Needed sent.
    pub icmp_sent: u64,
    /// ICMP errors not sent (rate limit, or about a packet that must not get one).
    pub icmp_suppressed: u64,
    /// Failed reads on the TUN device.
    pub tun_read_errors: u64,
    /// Failed receives on the raw sockets (including pending ICMP errors).
    pub raw_recv_errors: u64,
    /// Wake-ups of the engine thread.
    pub wakeups: u64,
    /// Home-link broadcasts received on the links listened on (before the checks below).
    pub broadcast_rx: u64,
    /// Home-link broadcasts forwarded (into one tunnel or more).
    pub broadcast_forwarded: u64,
    /// Dropped: a broadcast from a home address that is tunnelled (it came out of a tunnel).
    pub broadcast_loop: u64,
    /// Dropped: over [`EngineConfig::broadcast_per_second`].
    pub broadcast_rate_limited: u64,
    /// Dropped: broadcast with TTL ≤ 1.
    pub broadcast_ttl: u64,
    /// [`TxMode::Packet`]: outer packets sent on the packet socket.
    pub tx_packet_socket: u64,
    /// [`TxMode::Packet`]: outer packets sent on the raw socket because their tunnel had no
    /// usable next hop (or after the packet socket refused them).
    pub tx_raw_fallback: u64,
    /// [`TxMode::Packet`]: outer packets sent on the raw socket as the first of their
    /// tunnel's refresh period (so that the kernel keeps the neighbour entry confirmed).
    pub tx_raw_refresh: u64,
    /// [`TxMode::Packet`]: next-hop resolutions that gave a usable next hop.
    pub nexthop_resolved: u64,
    /// [`TxMode::Packet`]: next-hop resolutions that did not (no route, not Ethernet, no
    /// usable neighbour entry, netlink failure).
    pub nexthop_unresolved: u64,
    /// [`TxMode::Packet`]: packets the packet socket refused (each then went on the raw
    /// socket, or was dropped and counted by its tunnel).
    pub packet_send_errors: u64,
    /// [`TxMode::Packet`]: resolutions put off because the second's budget
    /// ([`EngineConfig::resolutions_per_second`]) was spent (the packets went on the raw
    /// socket meanwhile).
    pub nexthop_deferred: u64,
}

/// A binding that receives the broadcasts of a home link (B granted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BroadcastTarget {
    /// The home link (interface index).
    pub ifindex: u32,
    /// The tunnel the copies go through.
    pub tunnel: TunnelId,
    /// The mobile node's home address.
    pub home_address: Ipv4Addr,
    /// Encapsulate to the home address first (foreign agent care-of address, RFC 5944 §4.3);
    /// false for a co-located care-of address.
    pub nested: bool,
}

/// A snapshot of the engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Tunnels by id.
    pub tunnels: BTreeMap<TunnelId, TunnelStats>,
    /// Engine-wide counters.
    pub engine: EngineCounters,
    /// Destination routes: (destination, tunnel).
    pub routes: Vec<(Ipv4Addr, TunnelId)>,
    /// Source routes: (source, tunnel).
    pub source_routes: Vec<(Ipv4Addr, TunnelId)>,
    /// Accepted tunnel sources: (remote, protocol, tunnel).
    pub accepting: Vec<(Ipv4Addr, u8, TunnelId)>,
    /// Links listened on for broadcasts: (ifindex, subnet-directed broadcast addresses).
    pub broadcast_links: Vec<(u32, Vec<Ipv4Addr>)>,
    /// Bindings receiving broadcasts.
    pub broadcast_targets: Vec<BroadcastTarget>,
    /// Packets read from each TUN queue (one entry per queue; their sum is
    /// `engine.tun_packets`).
    pub queue_packets: Vec<u64>,
}

impl EngineStats {
    /// The counters of tunnel `id` (zero if there is no such tunnel).
    pub fn tunnel(&self, id: TunnelId) -> TunnelCounters {
        self.tunnels
            .get(&id)
            .map(|t| t.counters)
            .unwrap_or_default()
    }
}

impl TunnelCounters {
    /// Adds `o` field by field (the counters of another queue's thread).
    fn add(&mut self, o: &TunnelCounters) {
        self.tx_packets += o.tx_packets;
        self.tx_bytes += o.tx_bytes;
        self.tx_fragmented += o.tx_fragmented;
        self.rx_packets += o.rx_packets;
        self.rx_bytes += o.rx_bytes;
        self.drop_too_big += o.drop_too_big;
        self.drop_send_error += o.drop_send_error;
        self.drop_encap_error += o.drop_encap_error;
        self.drop_decap_error += o.drop_decap_error;
        self.drop_key_mismatch += o.drop_key_mismatch;
        self.drop_ttl += o.drop_ttl;
        self.drop_loop += o.drop_loop;
        self.drop_write_error += o.drop_write_error;
        self.tx_broadcast += o.tx_broadcast;
    }
}

impl EngineCounters {
    /// Adds `o` field by field (the counters of another queue's thread).
    fn add(&mut self, o: &EngineCounters) {
        self.tun_packets += o.tun_packets;
        self.raw_packets += o.raw_packets;
        self.rx_coalesced += o.rx_coalesced;
        self.unknown_source += o.unknown_source;
        self.no_route += o.no_route;
        self.not_ipv4 += o.not_ipv4;
        self.malformed += o.malformed;
        self.icmp_sent += o.icmp_sent;
        self.icmp_suppressed += o.icmp_suppressed;
        self.tun_read_errors += o.tun_read_errors;
        self.raw_recv_errors += o.raw_recv_errors;
        self.wakeups += o.wakeups;
        self.broadcast_rx += o.broadcast_rx;
        self.broadcast_forwarded += o.broadcast_forwarded;
        self.broadcast_loop += o.broadcast_loop;
        self.broadcast_rate_limited += o.broadcast_rate_limited;
        self.broadcast_ttl += o.broadcast_ttl;
        self.tx_packet_socket += o.tx_packet_socket;
        self.tx_raw_fallback += o.tx_raw_fallback;
        self.tx_raw_refresh += o.tx_raw_refresh;
        self.nexthop_resolved += o.nexthop_resolved;
        self.nexthop_unresolved += o.nexthop_unresolved;
        self.packet_send_errors += o.packet_send_errors;
        self.nexthop_deferred += o.nexthop_deferred;
    }
}

type Reply<T> = mpsc::SyncSender<io::Result<T>>;

/// A change of the encapsulation tables, copied to the threads of queues 1, 2, ... after the
/// first thread made it (they encapsulate only, so they need no more than this).
#[derive(Clone)]
enum Mirror {
    AddTunnel(TunnelId, TunnelSpec, Arc<TunnelShared>),
    RemoveTunnel(TunnelId),
    Routes(Vec<(Ipv4Addr, TunnelId)>, bool),
    SourceRoute(Ipv4Addr, TunnelId, bool),
}

/// What a queue thread other than the first reports for [`TunnelEngine::stats`].
struct QueueCounters {
    engine: EngineCounters,
    tunnels: Vec<(TunnelId, TunnelCounters)>,
}

enum Command {
    AddTunnel(TunnelId, TunnelSpec, Reply<(u16, Arc<TunnelShared>)>),
    RemoveTunnel(TunnelId, Reply<()>),
    Route(Ipv4Addr, TunnelId, bool, Reply<()>),
    /// Many `Route`s with one answer (one result per route, in order).
    Routes(
        Vec<(Ipv4Addr, TunnelId)>,
        bool,
        mpsc::SyncSender<Vec<io::Result<()>>>,
    ),
    SourceRoute(Ipv4Addr, TunnelId, bool, Reply<()>),
    Accept(Ipv4Addr, TunnelId, bool, Reply<()>),
    SetMtu(TunnelId, u16, Reply<()>),
    BroadcastLink(u32, Vec<Ipv4Addr>, bool, Reply<()>),
    BroadcastTarget(BroadcastTarget, bool, Reply<()>),
    Stats(mpsc::SyncSender<EngineStats>),
    /// For the threads of queues 1, 2, ...: apply, then answer.
    Mirror(Mirror, mpsc::SyncSender<()>),
    /// For the threads of queues 1, 2, ...: their counters.
    Counters(mpsc::SyncSender<QueueCounters>),
    Shutdown,
}

/// The handle of a running engine. Dropping it stops the engine and removes the TUN device.
#[derive(Debug)]
pub struct TunnelEngine {
    /// One per queue thread; the first thread's first.
    commands: Vec<mpsc::Sender<Command>>,
    wakers: Vec<Arc<OwnedFd>>,
    threads: Vec<JoinHandle<()>>,
    /// Held across a change and its copy to the other queue threads, so that they see the
    /// changes in the first thread's order.
    serial: Mutex<()>,
    tun_name: String,
    tun_ifindex: u32,
    /// The TUN device was opened with its offloads (`IFF_VNET_HDR`).
    offload: bool,
    /// How outer packets are sent.
    tx: TxMode,
}

fn not_found(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, what)
}

impl TunnelEngine {
    /// Opens the TUN device (MTU set, up), the raw sockets and a netlink socket in the calling
    /// thread's network namespace, and starts the engine thread.
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_ADMIN` and `CAP_NET_RAW`), or the device cannot be made.
    pub fn start(config: EngineConfig) -> io::Result<Self> {
        let queues = config.queues.clamp(1, 64);
        let tuns = Tun::open_queues(&config.tun_name, config.tun_mtu, queues, config.offload)?;
        let tun = &tuns[0];
        tracing::debug!(
            tun = tun.name(),
            offload = tun.vnet_hdr(),
            queues,
            "tunnel engine TUN device open"
        );
        if config.configure_sysctls {
            sysctl::set_rp_filter(tun.name(), 0)?;
            sysctl::set_accept_local(tun.name(), true)?;
            let _ = sysctl::set_disable_ipv6(tun.name(), true);
            if sysctl::read_iface("all", "rp_filter").is_ok_and(|v| v == "1") {
                tracing::warn!(
                    "net.ipv4.conf.all.rp_filter=1 (strict) applies to {} too: decapsulated \
                     packets whose source is not routed back through it will be dropped; use 2 \
                     (loose) or 0",
                    tun.name()
                );
            }
        }
        let tun_name = tun.name().to_owned();
        let tun_ifindex = tun.ifindex();
        let offload = tun.vnet_hdr();
        let rx = Arc::new([
            RawSocket::receiver(4)?,
            RawSocket::receiver(47)?,
            RawSocket::receiver(55)?,
        ]);
        let icmp = Arc::new(Mutex::new(IcmpLimiter {
            per_second: config.icmp_per_second,
            window_start: std::time::Instant::now(),
            sent: 0,
            identification: 0,
        }));
        // Everything is opened here, in the caller's network namespace, before any thread
        // starts.
        let mut parts = Vec::with_capacity(queues);
        for (queue, tun) in tuns.into_iter().enumerate() {
            let io = Io {
                tun,
                rx: rx.clone(),
                tx: RawSocket::sender()?,
                ptx: match config.tx {
                    TxMode::Raw => None,
                    TxMode::Packet => Some(PacketSocket::ipv4_sender(config.packet_qdisc_bypass)?),
                },
                nl: Netlink::open()?,
            };
            // SAFETY: plain eventfd(2) call; the result is checked before use.
            let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if efd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `efd` is a fresh descriptor that nothing else owns.
            let waker = Arc::new(unsafe { OwnedFd::from_raw_fd(efd) });
            parts.push((queue, io, waker));
        }
        let mut engine = TunnelEngine {
            commands: Vec::with_capacity(queues),
            wakers: Vec::with_capacity(queues),
            threads: Vec::with_capacity(queues),
            serial: Mutex::new(()),
            tun_name,
            tun_ifindex,
            offload,
            tx: config.tx,
        };
        for (queue, io, waker) in parts {
            let (commands, receiver) = mpsc::channel();
            let cpu = if queue == 0 {
                config.cpu
            } else {
                config.queue_cpus.get(queue - 1).copied()
            };
            let name = if queue == 0 {
                format!("tunnel-{}", engine.tun_name)
            } else {
                format!("tunnel-{}.{queue}", engine.tun_name)
            };
            let worker_waker = waker.clone();
            let q = QueueId {
                index: queue,
                count: queues,
            };
            let cfg = config.clone();
            let icmp = icmp.clone();
            // On failure, dropping `engine` stops the threads started so far.
            let thread = std::thread::Builder::new().name(name).spawn(move || {
                if let Some(cpu) = cpu {
                    if let Err(e) = crate::sys::pin_current_thread(cpu) {
                        tracing::warn!("tunnel engine: cannot pin queue {queue} to CPU {cpu}: {e}");
                    }
                }
                Worker::new(cfg, q, io, icmp, receiver, worker_waker).run()
            })?;
            engine.commands.push(commands);
            engine.wakers.push(waker);
            engine.threads.push(thread);
        }
        Ok(engine)
    }

    /// The TUN device's name (route home addresses here).
    pub fn tun_name(&self) -> &str {
        &self.tun_name
    }

    /// The TUN device's interface index.
    pub fn tun_ifindex(&self) -> u32 {
        self.tun_ifindex
    }

    /// The number of TUN queues (and engine threads).
    pub fn queues(&self) -> usize {
        self.commands.len()
    }

    /// Whether the TUN device runs with its offloads ([`EngineConfig::offload`] asked for
    /// them and the kernel accepted).
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// How outer packets are sent ([`EngineConfig::tx`]).
    pub fn tx_mode(&self) -> TxMode {
        self.tx
    }

    fn wake(&self, queue: usize) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes from a live buffer to our eventfd.
        unsafe {
            libc::write(self.wakers[queue].as_raw_fd(), one.as_ptr().cast(), 8);
        }
    }

    fn serial(&self) -> std::sync::MutexGuard<'_, ()> {
        self.serial.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a command on the first thread (the caller holds `serial`).
    fn call0<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> io::Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.commands[0]
            .send(make(tx))
            .map_err(|_| io::Error::other("tunnel engine stopped"))?;
        self.wake(0);
        rx.recv()
            .map_err(|_| io::Error::other("tunnel engine stopped"))?
    }

    fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> io::Result<T> {
        let _serial = self.serial();
        self.call0(make)
    }

    /// Copies a change to the other queue threads and waits until they have it (the caller
    /// holds `serial`).
    fn mirror(&self, m: Mirror) {
        let mut acks = Vec::with_capacity(self.commands.len().saturating_sub(1));
        for q in 1..self.commands.len() {
            let (tx, rx) = mpsc::sync_channel(1);
            if self.commands[q]
                .send(Command::Mirror(m.clone(), tx))
                .is_ok()
            {
                self.wake(q);
                acks.push(rx);
            }
        }
        for rx in acks {
            let _ = rx.recv();
        }
    }

    /// Adds tunnel `id`; returns the MTU in force.
    ///
    /// # Errors
    /// `AlreadyExists` if `id` is in use.
    pub fn add_tunnel(&self, id: TunnelId, spec: TunnelSpec) -> io::Result<u16> {
        let _serial = self.serial();
        let (mtu, shared) = self.call0(|r| Command::AddTunnel(id, spec, r))?;
        self.mirror(Mirror::AddTunnel(id, spec, shared));
        Ok(mtu)
    }

    /// Removes tunnel `id` and every route and `accept_from` that uses it.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn remove_tunnel(&self, id: TunnelId) -> io::Result<()> {
        let _serial = self.serial();
        self.call0(|r| Command::RemoveTunnel(id, r))?;
        self.mirror(Mirror::RemoveTunnel(id));
        Ok(())
    }

    /// Sets tunnel `id`'s MTU.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn set_mtu(&self, id: TunnelId, mtu: u16) -> io::Result<()> {
        self.call(|r| Command::SetMtu(id, mtu, r))
    }

    /// Packets for `destination` read from the TUN device go through tunnel `id` (one more
    /// tunnel if the destination has some already: each gets a copy).
    ///
    /// # Errors
    /// `NotFound` if there is no tunnel `id`.
    pub fn route(&self, destination: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        let _serial = self.serial();
        self.call0(|r| Command::Route(destination, id, true, r))?;
        self.mirror(Mirror::Routes(vec![(destination, id)], true));
        Ok(())
    }

    /// Undoes [`TunnelEngine::route`].
    ///
    /// # Errors
    /// `NotFound` if there was no such route.
    pub fn unroute(&self, destination: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        let _serial = self.serial();
        self.call0(|r| Command::Route(destination, id, false, r))?;
        self.mirror(Mirror::Routes(vec![(destination, id)], false));
        Ok(())
    }

    /// [`TunnelEngine::route`] for each of `routes`, in order, in one request to the engine
    /// thread (one wake-up, one answer): one result per route, with the errors of `route`.
    /// If the engine has stopped, every result is that error.
    pub fn route_many(&self, routes: &[(Ipv4Addr, TunnelId)]) -> Vec<io::Result<()>> {
        self.routes(routes, true)
    }

    /// [`TunnelEngine::unroute`] for each of `routes`, like [`TunnelEngine::route_many`].
    pub fn unroute_many(&self, routes: &[(Ipv4Addr, TunnelId)]) -> Vec<io::Result<()>> {
        self.routes(routes, false)
    }

    fn routes(&self, routes: &[(Ipv4Addr, TunnelId)], add: bool) -> Vec<io::Result<()>> {
        if routes.is_empty() {
            return Vec::new();
        }
        let stopped = || {
            routes
                .iter()
                .map(|_| Err(io::Error::other("tunnel engine stopped")))
                .collect()
        };
        let _serial = self.serial();
        let (tx, rx) = mpsc::sync_channel(1);
        if self.commands[0]
            .send(Command::Routes(routes.to_vec(), add, tx))
            .is_err()
        {
            return stopped();
        }
        self.wake(0);
        let results: Vec<io::Result<()>> = rx.recv().unwrap_or_else(|_| stopped());
        if self.commands.len() > 1 {
            let done: Vec<(Ipv4Addr, TunnelId)> = routes
                .iter()
                .zip(&results)
                .filter(|(_, r)| r.is_ok())
                .map(|(x, _)| *x)
                .collect();
            if !done.is_empty() {
                self.mirror(Mirror::Routes(done, add));
            }
        }
        results
    }

    /// Packets *from* `source` read from the TUN device (and with no destination route) go
    /// through tunnel `id`: reverse tunnelling (RFC 3024) at a foreign agent, or a co-located
    /// mobile node's own packets. Replaces an earlier source route for `source`.
    ///
    /// # Errors
    /// `NotFound` if there is no tunnel `id`.
    pub fn route_source(&self, source: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        let _serial = self.serial();
        self.call0(|r| Command::SourceRoute(source, id, true, r))?;
        self.mirror(Mirror::SourceRoute(source, id, true));
        Ok(())
    }

    /// Undoes [`TunnelEngine::route_source`].
    ///
    /// # Errors
    /// `NotFound` if there was no such route.
    pub fn unroute_source(&self, source: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        let _serial = self.serial();
        self.call0(|r| Command::SourceRoute(source, id, false, r))?;
        self.mirror(Mirror::SourceRoute(source, id, false));
        Ok(())
    }

    /// Decapsulate packets of tunnel `id`'s protocol arriving from `remote` (for a minimal
    /// encapsulation tunnel, IP-in-IP from `remote` too). Replaces an earlier mapping of the
    /// same remote and protocol.
    ///
    /// # Errors
    /// `NotFound` if there is no tunnel `id`.
    pub fn accept_from(&self, remote: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        self.call(|r| Command::Accept(remote, id, true, r))
    }

    /// Undoes [`TunnelEngine::accept_from`]: packets from `remote` are dropped again.
    ///
    /// # Errors
    /// `NotFound` if `remote` was not accepted for tunnel `id`.
    pub fn stop_accepting(&self, remote: Ipv4Addr, id: TunnelId) -> io::Result<()> {
        self.call(|r| Command::Accept(remote, id, false, r))
    }

    /// Listens (`add`) for broadcasts on the home link `ifindex`, whose subnet-directed
    /// broadcast addresses are `directed` (255.255.255.255 always counts), or stops. Adding a
    /// link listened on already replaces its addresses. The socket is opened by the engine
    /// thread, in the engine's network namespace. See [`broadcast`](super::broadcast).
    ///
    /// # Errors
    /// The socket cannot be opened; `NotFound` when stopping a link not listened on.
    pub fn broadcast_link(
        &self,
        ifindex: u32,
        directed: Vec<Ipv4Addr>,
        add: bool,
    ) -> io::Result<()> {
        self.call(|r| Command::BroadcastLink(ifindex, directed, add, r))
    }

    /// Sends (`add`) a copy of each broadcast heard on `target.ifindex` through
    /// `target.tunnel`, or stops. Removing the tunnel removes its targets.
    ///
    /// # Errors
    /// `NotFound`: no such tunnel (adding) or no such target (removing).
    pub fn broadcast_target(&self, target: BroadcastTarget, add: bool) -> io::Result<()> {
        self.call(|r| Command::BroadcastTarget(target, add, r))
    }

    /// A snapshot of tunnels, tables and counters.
    ///
    /// # Errors
    /// The engine thread has stopped.
    pub fn stats(&self) -> io::Result<EngineStats> {
        let stopped = || io::Error::other("tunnel engine stopped");
        let (tx, rx) = mpsc::sync_channel(1);
        self.commands[0]
            .send(Command::Stats(tx))
            .map_err(|_| stopped())?;
        self.wake(0);
        let mut stats = rx.recv().map_err(|_| stopped())?;
        for q in 1..self.commands.len() {
            let (tx, rx) = mpsc::sync_channel(1);
            self.commands[q]
                .send(Command::Counters(tx))
                .map_err(|_| stopped())?;
            self.wake(q);
            let c = rx.recv().map_err(|_| stopped())?;
            stats.engine.add(&c.engine);
            stats.queue_packets.push(c.engine.tun_packets);
            for (id, tc) in c.tunnels {
                if let Some(t) = stats.tunnels.get_mut(&id) {
                    t.counters.add(&tc);
                }
            }
        }
        Ok(stats)
    }
}

impl Drop for TunnelEngine {
    fn drop(&mut self) {
        for q in 0..self.commands.len() {
            let _ = self.commands[q].send(Command::Shutdown);
            self.wake(q);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

// ------------------------------------------------------------------------- engine thread

struct Io {
    tun: Tun,
    /// Receive (and fragmenting-send) sockets for protocols 4, 47, 55, shared by the queue
    /// threads (only the first one receives).
    rx: Arc<[RawSocket; 3]>,
    tx: RawSocket,
    /// The packet socket of [`TxMode::Packet`].
    ptx: Option<PacketSocket>,
    nl: Netlink,
}

fn rx_index(protocol: u8) -> Option<usize> {
    match protocol {
        4 => Some(0),
        47 => Some(1),
        55 => Some(2),
        _ => None,
    }
}

/// The state of a tunnel that all queue threads share.
struct TunnelShared {
    /// The MTU in force (lowered by any thread that meets a smaller path MTU).
    mtu: AtomicU16,
    /// The last GRE sequence number sent.
    seq: AtomicU32,
}

/// Which queue a worker thread serves, of how many.
#[derive(Clone, Copy)]
struct QueueId {
    index: usize,
    count: usize,
}

struct Tunnel {
    spec: TunnelSpec,
    shared: Arc<TunnelShared>,
    /// The outer Identification of the next packet; the queue threads interleave theirs
    /// (queue k of n sends k+1, k+1+n, ...), so that they do not repeat one another's.
    next_id: u16,
    id_step: u16,
    c: TunnelCounters,
    /// The cached next hop ([`TxMode::Packet`]; this thread's).
    hop: Hop,
}

/// Where the packet socket sends a tunnel's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NextHop {
    /// Output interface.
    ifindex: u32,
    /// The next hop's MAC (the gateway's, or the remote's when on-link).
    mac: [u8; 6],
    /// The output device's MTU (or the route's, when smaller): larger outer packets go by
    /// the raw socket, which handles them as in the raw mode.
    mtu: u32,
}

/// A tunnel's next-hop cache entry ([`TxMode::Packet`]).
#[derive(Clone, Copy, Debug, Default)]
struct Hop {
    /// The usable next hop, if the last resolution found one.
    via: Option<NextHop>,
    /// The next packet goes by the raw socket (the first of the refresh period).
    refresh: bool,
    /// A packet was sent since the last refresh.
    used: bool,
    /// When it was last resolved; `None`: not resolved since the tunnel was last idle
    /// (`via` means nothing yet).
    resolved_at: Option<std::time::Instant>,
}

impl Tunnel {
    fn new(spec: TunnelSpec, shared: Arc<TunnelShared>, q: QueueId) -> Tunnel {
        Tunnel {
            spec,
            shared,
            next_id: (q.index as u16).wrapping_add(1),
            id_step: q.count as u16,
            c: TunnelCounters::default(),
            hop: Hop::default(),
        }
    }

    fn mtu(&self) -> u16 {
        self.shared.mtu.load(Ordering::Relaxed)
    }

    fn take_id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(self.id_step);
        id
    }

    fn take_seq(&self) -> u32 {
        self.shared
            .seq
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }
}

#[derive(Default)]
struct Tables {
    tunnels: HashMap<TunnelId, Tunnel>,
    routes: HashMap<Ipv4Addr, Vec<TunnelId>>,
    source_routes: HashMap<Ipv4Addr, TunnelId>,
    accept: HashMap<(Ipv4Addr, u8), TunnelId>,
    broadcast: Vec<BroadcastTarget>,
}

impl Tables {
    /// Adds (`add`) or removes the route of `dst` through tunnel `id`.
    fn route(&mut self, dst: Ipv4Addr, id: TunnelId, add: bool) -> io::Result<()> {
        if add {
            if self.tunnels.contains_key(&id) {
                let v = self.routes.entry(dst).or_default();
                if !v.contains(&id) {
                    v.push(id);
                }
                Ok(())
            } else {
                Err(not_found(format!("route {dst} via missing tunnel {id}")))
            }
        } else {
            match self.routes.get_mut(&dst) {
                Some(v) if v.contains(&id) => {
                    v.retain(|x| *x != id);
                    if v.is_empty() {
                        self.routes.remove(&dst);
                    }
                    Ok(())
                }
                _ => Err(not_found(format!("no route {dst} via tunnel {id}"))),
            }
        }
    }
}

/// A home link listened on for broadcasts.
struct Link {
    socket: BroadcastSocket,
    directed: Vec<Ipv4Addr>,
}

/// A packet waiting in an output slot for the next `sendmmsg`.
#[derive(Clone, Copy)]
struct Pending {
    len: usize,
    remote: Ipv4Addr,
    tunnel: TunnelId,
    inner_len: usize,
    via: Via,
}

/// The socket a pending packet goes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// The raw socket, [`TxMode::Raw`].
    Raw,
    /// The raw socket: no usable next hop ([`EngineCounters::tx_raw_fallback`]).
    Fallback,
    /// The raw socket: first of the refresh period ([`EngineCounters::tx_raw_refresh`]).
    Refresh,
    /// The packet socket, out of this interface to this MAC.
    Packet(u32, [u8; 6]),
}

impl Via {
    fn counts(self, c: &mut EngineCounters) {
        match self {
            Via::Raw => {}
            Via::Fallback => c.tx_raw_fallback += 1,
            Via::Refresh => c.tx_raw_refresh += 1,
            Via::Packet(..) => c.tx_packet_socket += 1,
        }
    }
}

/// How often (at most) each tunnel's next hop is resolved again, [`TxMode::Packet`].
const REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Default of [`EngineConfig::resolutions_per_second`].
pub const RESOLVE_BUDGET: u32 = 256;

struct IcmpLimiter {
    per_second: u32,
    window_start: std::time::Instant,
    sent: u32,
    identification: u16,
}

impl IcmpLimiter {
    fn allow(&mut self) -> bool {
        let now = std::time::Instant::now();
        if now.duration_since(self.window_start) >= std::time::Duration::from_secs(1) {
            self.window_start = now;
            self.sent = 0;
        }
        if self.sent < self.per_second {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

const RX_BUF: usize = 65536;

struct Worker {
    cfg: EngineConfig,
    /// The queue served; queue 0's thread also decapsulates, forwards broadcasts and runs the
    /// commands.
    queue: QueueId,
    io: Io,
    commands: mpsc::Receiver<Command>,
    waker: Arc<OwnedFd>,
    t: Tables,
    c: EngineCounters,
    /// Shared by the queue threads (taken only to send an ICMP error).
    icmp: Arc<Mutex<IcmpLimiter>>,
    inbuf: Vec<u8>,
    slots: Vec<Vec<u8>>,
    pending: Vec<Pending>,
    rx_bufs: Vec<Vec<u8>>,
    rx_lens: Vec<usize>,
    scratch: MmsgScratch,
    /// For the packet socket's `sendmmsg`.
    link_scratch: LinkScratch,
    /// When the next hops are refreshed next ([`TxMode::Packet`]).
    next_refresh: std::time::Instant,
    /// Resolutions left in this refresh period ([`EngineConfig::resolutions_per_second`]).
    resolve_budget: u32,
    links: Vec<Link>,
    broadcast_limit: RateLimiter,
    /// Broadcast copies: the nested (to the home address) form, and the encapsulated one.
    nest_buf: Vec<u8>,
    bcast_buf: Vec<u8>,
    /// One segment of a TCP super-segment read from the TUN device (offload mode).
    seg_buf: Vec<u8>,
    /// Coalescing of decapsulated TCP segments (offload mode).
    gro: Gro,
}

/// The largest packet the engine can emit into an output slot.
fn slot_size(tun_mtu: u32) -> usize {
    (tun_mtu as usize).clamp(1500, 65535) + 64
}

impl Worker {
    fn new(
        cfg: EngineConfig,
        queue: QueueId,
        io: Io,
        icmp: Arc<Mutex<IcmpLimiter>>,
        commands: mpsc::Receiver<Command>,
        waker: Arc<OwnedFd>,
    ) -> Self {
        let batch = cfg.batch.clamp(1, 1024);
        // Only the first queue's thread receives from the raw sockets.
        let rx_batch = if queue.index == 0 { batch.min(32) } else { 0 };
        let slot = slot_size(cfg.tun_mtu);
        let broadcast_per_second = cfg.broadcast_per_second;
        Worker {
            icmp,
            queue,
            cfg: EngineConfig { batch, ..cfg },
            io,
            commands,
            waker,
            t: Tables::default(),
            c: EngineCounters::default(),
            inbuf: vec![0; 65536 + 64],
            slots: (0..batch).map(|_| vec![0; slot]).collect(),
            pending: Vec::with_capacity(batch),
            rx_bufs: (0..rx_batch).map(|_| vec![0; RX_BUF]).collect(),
            rx_lens: vec![0; rx_batch],
            scratch: MmsgScratch::new(batch),
            link_scratch: LinkScratch::new(batch),
            next_refresh: std::time::Instant::now() + REFRESH,
            resolve_budget: cfg.resolutions_per_second,
            links: Vec::new(),
            broadcast_limit: RateLimiter::new(broadcast_per_second),
            nest_buf: vec![0; 65536 + 64],
            bcast_buf: vec![0; 65536 + 128],
            seg_buf: Vec::with_capacity(65536),
            gro: Gro::new(),
        }
    }

    fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(8);
        // Only the first queue's thread receives from the raw sockets (poll skips fd -1).
        let primary = self.queue.index == 0;
        let rx_fd = |s: &RawSocket| if primary { s.as_raw_fd() } else { -1 };
        let rx_fds = [
            rx_fd(&self.io.rx[0]),
            rx_fd(&self.io.rx[1]),
            rx_fd(&self.io.rx[2]),
        ];
        loop {
            fds.clear();
            fds.extend([
                libc::pollfd {
                    fd: self.waker.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.io.tun.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: rx_fds[0],
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: rx_fds[1],
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: rx_fds[2],
                    events: libc::POLLIN,
                    revents: 0,
                },
            ]);
            fds.extend(self.links.iter().map(|l| libc::pollfd {
                fd: l.socket.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }));
            // SAFETY: `fds` is a live array of `fds.len()` pollfds.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
            if r < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("tunnel engine poll failed: {}", io::Error::last_os_error());
                return;
            }
            self.c.wakeups += 1;
            if fds[0].revents != 0 {
                let mut b = [0u8; 8];
                // SAFETY: reads 8 bytes into a live buffer from our eventfd.
                unsafe {
                    libc::read(self.waker.as_raw_fd(), b.as_mut_ptr().cast(), 8);
                }
            }
            if !self.commands() {
                return;
            }
            if fds[1].revents != 0 {
                self.tun_readable();
            }
            for (i, f) in fds[2..5].iter().enumerate() {
                if f.revents != 0 {
                    self.raw_readable(i);
                }
            }
            // The link list may have changed in `commands()`: match by descriptor.
            for f in &fds[5..] {
                if f.revents != 0 {
                    if let Some(i) = self.links.iter().position(|l| l.socket.as_raw_fd() == f.fd) {
                        self.broadcast_readable(i);
                    }
                }
            }
            if self.io.ptx.is_some() {
                let now = std::time::Instant::now();
                if now >= self.next_refresh {
                    self.next_refresh = now + REFRESH;
                    self.refresh_hops();
                }
            }
        }
    }

    /// Handles queued commands; false when the engine must stop.
    fn commands(&mut self) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return false,
                Err(mpsc::TryRecvError::Empty) => return true,
                Ok(cmd) => self.command(cmd),
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        let t = &mut self.t;
        match cmd {
            Command::AddTunnel(id, spec, reply) => {
                let r = match t.tunnels.entry(id) {
                    std::collections::hash_map::Entry::Occupied(_) => Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("tunnel {id} exists already"),
                    )),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let mtu = spec.mtu.unwrap_or_else(|| path_mtu(&mut self.io.nl, &spec));
                        let shared = Arc::new(TunnelShared {
                            mtu: AtomicU16::new(mtu),
                            seq: AtomicU32::new(0),
                        });
                        v.insert(Tunnel::new(spec, shared.clone(), self.queue));
                        Ok((mtu, shared))
                    }
                };
                let _ = reply.send(r);
            }
            Command::RemoveTunnel(id, reply) => {
                let r = if t.tunnels.remove(&id).is_some() {
                    t.routes.retain(|_, v| {
                        v.retain(|x| *x != id);
                        !v.is_empty()
                    });
                    t.source_routes.retain(|_, x| *x != id);
                    t.accept.retain(|_, x| *x != id);
                    t.broadcast.retain(|b| b.tunnel != id);
                    Ok(())
                } else {
                    Err(not_found(format!("no tunnel {id}")))
                };
                let _ = reply.send(r);
            }
            Command::SetMtu(id, mtu, reply) => {
                let r = match t.tunnels.get_mut(&id) {
                    Some(tun) => {
                        tun.shared.mtu.store(mtu, Ordering::Relaxed);
                        Ok(())
                    }
                    None => Err(not_found(format!("no tunnel {id}"))),
                };
                let _ = reply.send(r);
            }
            Command::Route(dst, id, add, reply) => {
                let _ = reply.send(t.route(dst, id, add));
            }
            Command::Routes(routes, add, reply) => {
                let r = routes
                    .into_iter()
                    .map(|(dst, id)| t.route(dst, id, add))
                    .collect();
                let _ = reply.send(r);
            }
            Command::SourceRoute(src, id, add, reply) => {
                let r = if add {
                    if t.tunnels.contains_key(&id) {
                        t.source_routes.insert(src, id);
                        Ok(())
                    } else {
                        Err(not_found(format!(
                            "source route {src} via missing tunnel {id}"
                        )))
                    }
                } else if t.source_routes.get(&src) == Some(&id) {
                    t.source_routes.remove(&src);
                    Ok(())
                } else {
                    Err(not_found(format!("no source route {src} via tunnel {id}")))
                };
                let _ = reply.send(r);
            }
            Command::Accept(remote, id, add, reply) => {
                let r = match t.tunnels.get(&id) {
                    None => Err(not_found(format!("accept from {remote}: no tunnel {id}"))),
                    Some(tun) => {
                        let proto = tun.spec.encapsulation.protocol();
                        if add {
                            t.accept.insert((remote, proto), id);
                            if proto == 55 {
                                t.accept.entry((remote, 4)).or_insert(id);
                            }
                            Ok(())
                        } else {
                            let before = t.accept.len();
                            t.accept.retain(|(r, _), x| !(*r == remote && *x == id));
                            if t.accept.len() < before {
                                Ok(())
                            } else {
                                Err(not_found(format!("{remote} not accepted for tunnel {id}")))
                            }
                        }
                    }
                };
                let _ = reply.send(r);
            }
            Command::BroadcastLink(ifindex, directed, add, reply) => {
                let at = self
                    .links
                    .iter()
                    .position(|l| l.socket.ifindex() == ifindex);
                let r = match (add, at) {
                    (true, Some(i)) => {
                        self.links[i].directed = directed;
                        Ok(())
                    }
                    (true, None) => BroadcastSocket::open(ifindex).map(|socket| {
                        self.links.push(Link { socket, directed });
                    }),
                    (false, Some(i)) => {
                        self.links.remove(i);
                        Ok(())
                    }
                    (false, None) => Err(not_found(format!(
                        "not listening for broadcasts on ifindex {ifindex}"
                    ))),
                };
                let _ = reply.send(r);
            }
            Command::BroadcastTarget(target, add, reply) => {
                let r = if add {
                    if t.tunnels.contains_key(&target.tunnel) {
                        t.broadcast.retain(|b| {
                            !(b.tunnel == target.tunnel && b.home_address == target.home_address)
                        });
                        t.broadcast.push(target);
                        Ok(())
                    } else {
                        Err(not_found(format!(
                            "broadcasts via missing tunnel {}",
                            target.tunnel
                        )))
                    }
                } else {
                    let before = t.broadcast.len();
                    t.broadcast.retain(|b| {
                        !(b.tunnel == target.tunnel && b.home_address == target.home_address)
                    });
                    if t.broadcast.len() < before {
                        Ok(())
                    } else {
                        Err(not_found(format!(
                            "no broadcast forwarding to {} via tunnel {}",
                            target.home_address, target.tunnel
                        )))
                    }
                };
                let _ = reply.send(r);
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Command::Mirror(m, ack) => {
                self.mirror(m);
                let _ = ack.send(());
            }
            Command::Counters(reply) => {
                let _ = reply.send(QueueCounters {
                    engine: self.c,
                    tunnels: self.t.tunnels.iter().map(|(id, t)| (*id, t.c)).collect(),
                });
            }
            Command::Shutdown => {}
        }
    }

    /// Applies a change the first queue's thread made (on the thread of another queue).
    fn mirror(&mut self, m: Mirror) {
        let t = &mut self.t;
        match m {
            Mirror::AddTunnel(id, spec, shared) => {
                t.tunnels
                    .entry(id)
                    .or_insert_with(|| Tunnel::new(spec, shared, self.queue));
            }
            Mirror::RemoveTunnel(id) => {
                t.tunnels.remove(&id);
                t.routes.retain(|_, v| {
                    v.retain(|x| *x != id);
                    !v.is_empty()
                });
                t.source_routes.retain(|_, x| *x != id);
            }
            Mirror::Routes(routes, add) => {
                for (dst, id) in routes {
                    let _ = t.route(dst, id, add);
                }
            }
            Mirror::SourceRoute(src, id, true) => {
                t.source_routes.insert(src, id);
            }
            Mirror::SourceRoute(src, id, false) => {
                if t.source_routes.get(&src) == Some(&id) {
                    t.source_routes.remove(&src);
                }
            }
        }
    }

    fn snapshot(&self) -> EngineStats {
        let mut routes: Vec<_> = self
            .t
            .routes
            .iter()
            .flat_map(|(d, v)| v.iter().map(move |id| (*d, *id)))
            .collect();
        routes.sort();
        let mut source_routes: Vec<_> =
            self.t.source_routes.iter().map(|(s, i)| (*s, *i)).collect();
        source_routes.sort();
        let mut accepting: Vec<_> = self
            .t
            .accept
            .iter()
            .map(|((r, p), i)| (*r, *p, *i))
            .collect();
        accepting.sort();
        EngineStats {
            tunnels: self
                .t
                .tunnels
                .iter()
                .map(|(id, t)| {
                    (
                        *id,
                        TunnelStats {
                            spec: t.spec,
                            mtu: t.mtu(),
                            counters: t.c,
                        },
                    )
                })
                .collect(),
            engine: self.c,
            routes,
            source_routes,
            accepting,
            broadcast_links: self
                .links
                .iter()
                .map(|l| (l.socket.ifindex(), l.directed.clone()))
                .collect(),
            broadcast_targets: {
                let mut v = self.t.broadcast.clone();
                v.sort();
                v
            },
            queue_packets: vec![self.c.tun_packets],
        }
    }

    // ------------------------------------------------------------- into the tunnels

    fn tun_readable(&mut self) {
        let vnet = self.io.tun.vnet_hdr();
        let mut buf = std::mem::take(&mut self.inbuf);
        for _ in 0..self.cfg.batch {
            let n = match self.io.tun.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.c.tun_read_errors += 1;
                    break;
                }
            };
            if !vnet {
                self.c.tun_packets += 1;
                self.encapsulate(&buf[..n]);
                continue;
            }
            let Some(h) = VnetHdr::parse(&buf[..n]) else {
                self.c.tun_packets += 1;
                self.c.malformed += 1;
                continue;
            };
            let packet = &mut buf[VNET_HDR_LEN..n];
            match h.gso_type & !GSO_ECN {
                GSO_NONE => {
                    self.c.tun_packets += 1;
                    if h.flags & F_NEEDS_CSUM != 0
                        && !finish_partial_checksum(
                            packet,
                            usize::from(h.csum_start),
                            usize::from(h.csum_offset),
                        )
                    {
                        self.c.malformed += 1;
                        continue;
                    }
                    self.encapsulate(packet);
                }
                GSO_TCPV4 => {
                    let mut seg = std::mem::take(&mut self.seg_buf);
                    let r = segment_tcp4(packet, usize::from(h.gso_size), &mut seg, |s| {
                        self.c.tun_packets += 1;
                        self.encapsulate(s);
                    });
                    self.seg_buf = seg;
                    if r.is_err() {
                        self.c.tun_packets += 1;
                        self.c.malformed += 1;
                    }
                }
                _ => {
                    self.c.tun_packets += 1;
                    self.c.malformed += 1;
                }
            }
        }
        self.inbuf = buf;
        self.flush();
    }

    /// Routes and encapsulates `packet` (read from the TUN device) into output slots.
    fn encapsulate(&mut self, packet: &[u8]) {
        let n = packet.len();
        let ip = match Ipv4Packet::new_checked(packet) {
            Ok(p) => p,
            Err(_) => {
                if n > 0 && packet[0] >> 4 == 6 {
                    self.c.not_ipv4 += 1;
                } else {
                    self.c.malformed += 1;
                }
                return;
            }
        };
        let (dst, src) = (ip.dst_addr(), ip.src_addr());
        let len = usize::from(ip.total_len());
        let df = ip.dont_fragment();
        let fragment = ip.is_fragment();
        // Up to 8 copies (simultaneous bindings); more would be an odd configuration.
        let mut ids = [0 as TunnelId; 8];
        let count = if let Some(v) = self.t.routes.get(&dst) {
            let k = v.len().min(ids.len());
            ids[..k].copy_from_slice(&v[..k]);
            k
        } else if let Some(id) = self.t.source_routes.get(&src) {
            ids[0] = *id;
            1
        } else {
            self.c.no_route += 1;
            return;
        };
        for &id in &ids[..count] {
            let Some(t) = self.t.tunnels.get_mut(&id) else {
                continue;
            };
            if dst == t.spec.remote {
                t.c.drop_loop += 1;
                continue;
            }
            let too_big = len > usize::from(t.mtu());
            if too_big && df {
                t.c.drop_too_big += 1;
                let (mtu, local) = (t.mtu(), t.spec.local);
                send_frag_needed(
                    &self.io.tun,
                    &self.icmp,
                    &mut self.c,
                    &packet[..len],
                    mtu,
                    local,
                );
                continue;
            }
            if self.pending.len() == self.slots.len() {
                self.flush();
            }
            let t = self.t.tunnels.get_mut(&id).expect("tunnel present");
            let slot = &mut self.slots[self.pending.len()];
            let inner = &packet[..len];
            let outer = OuterHeader {
                src: t.spec.local,
                dst: t.spec.remote,
                ttl: self.cfg.outer_ttl,
                identification: t.take_id(),
            };
            let r = wrap(t, &outer, inner, fragment, slot);
            let Ok(out_len) = r else {
                t.c.drop_encap_error += 1;
                continue;
            };
            if too_big {
                // DF clear: let the kernel fragment the outer packet.
                let (local, remote) = (t.spec.local, t.spec.remote);
                let ok = send_fragmenting(
                    &self.io,
                    &self.slots[self.pending.len()][..out_len],
                    local,
                    remote,
                );
                let t = self.t.tunnels.get_mut(&id).expect("tunnel present");
                if ok {
                    t.c.tx_packets += 1;
                    t.c.tx_bytes += len as u64;
                    t.c.tx_fragmented += 1;
                } else {
                    t.c.drop_send_error += 1;
                }
                continue;
            }
            let via = if self.io.ptx.is_some() {
                choose_path(
                    &mut self.io.nl,
                    &mut self.c,
                    &mut self.resolve_budget,
                    t,
                    out_len,
                )
            } else {
                Via::Raw
            };
            self.pending.push(Pending {
                len: out_len,
                remote: t.spec.remote,
                tunnel: id,
                inner_len: len,
                via,
            });
        }
    }

    /// Sends the packets waiting in the output slots, in order: runs of packets for the
    /// packet socket and runs for the raw socket alternate.
    fn flush(&mut self) {
        let mut start = 0;
        let total = self.pending.len();
        while start < total {
            let packet = matches!(self.pending[start].via, Via::Packet(..));
            let end = self.pending[start..]
                .iter()
                .position(|p| matches!(p.via, Via::Packet(..)) != packet)
                .map_or(total, |k| start + k);
            self.flush_run(start, end, packet);
            start = end;
        }
        self.pending.clear();
    }

    /// Counts `pending[start..start + sent]` as sent (engine and tunnel counters).
    fn count_sent(&mut self, start: usize, sent: usize) {
        for i in start..start + sent {
            let p = self.pending[i];
            self.count_one(&p);
        }
    }

    /// Counts `p` as sent, the way it went.
    fn count_one(&mut self, p: &Pending) {
        p.via.counts(&mut self.c);
        if let Some(t) = self.t.tunnels.get_mut(&p.tunnel) {
            t.c.tx_packets += 1;
            t.c.tx_bytes += p.inner_len as u64;
        }
    }

    /// The packet socket refused slot `slot` with `e`.
    fn packet_send_failed(&mut self, slot: usize, p: Pending, e: &io::Error) {
        self.c.packet_send_errors += 1;
        let gone = matches!(
            e.raw_os_error(),
            Some(libc::ENXIO | libc::ENODEV | libc::ENETDOWN | libc::EMSGSIZE)
        );
        if !gone {
            tracing::debug!(tunnel = p.tunnel, remote = %p.remote, "packet socket send failed: {e}");
            if let Some(t) = self.t.tunnels.get_mut(&p.tunnel) {
                t.c.drop_send_error += 1;
            }
            return;
        }
        // The device went away, went down or shrank: resolve again now, and send this packet
        // the way the raw mode would.
        if let Some(t) = self.t.tunnels.get_mut(&p.tunnel) {
            tracing::debug!(tunnel = p.tunnel, remote = %p.remote, "packet socket: {e}; resolving the next hop again");
            t.hop.via = resolve_counted(&mut self.io.nl, &mut self.c, p.remote);
            t.hop.resolved_at = Some(std::time::Instant::now());
        }
        let raw = Pending {
            via: Via::Fallback,
            ..p
        };
        match self.io.tx.send_to(&self.slots[slot][..p.len], p.remote) {
            Ok(_) => self.count_one(&raw),
            Err(e) => self.send_failed(slot, raw, &e),
        }
    }

    /// Refreshes the next hop of every tunnel used since the last refresh (one resolution per
    /// remote), forgets those of idle tunnels, and sends the next packet of each tunnel by the
    /// raw socket ([`TxMode::Packet`]).
    fn refresh_hops(&mut self) {
        self.resolve_budget = self.cfg.resolutions_per_second;
        // Busy tunnels, oldest resolution first; idle ones are forgotten.
        let mut busy: Vec<(Option<std::time::Instant>, TunnelId)> = Vec::new();
        for (&id, t) in self.t.tunnels.iter_mut() {
            if t.hop.resolved_at.is_none() {
                continue;
            }
            if !t.hop.used {
                t.hop = Hop::default();
                continue;
            }
            t.hop.used = false;
            t.hop.refresh = true;
            busy.push((t.hop.resolved_at, id));
        }
        busy.sort_unstable();
        let mut seen: HashMap<Ipv4Addr, Option<NextHop>> = HashMap::new();
        for (_, id) in busy {
            let Some(t) = self.t.tunnels.get_mut(&id) else {
                continue;
            };
            let remote = t.spec.remote;
            let via = match seen.get(&remote) {
                Some(v) => *v,
                None if self.resolve_budget > 0 => {
                    self.resolve_budget -= 1;
                    let v = resolve_counted(&mut self.io.nl, &mut self.c, remote);
                    seen.insert(remote, v);
                    v
                }
                None => {
                    self.c.nexthop_deferred += 1;
                    continue;
                }
            };
            if via != t.hop.via {
                tracing::debug!(tunnel = id, %remote, old = ?t.hop.via, new = ?via, "next hop changed");
            }
            t.hop.via = via;
            t.hop.resolved_at = Some(std::time::Instant::now());
        }
    }

    /// Sends `pending[start..end]`, one run: on the packet socket (`packet`) or the raw one.
    /// Each packet the socket refuses is handed to the failure handling of its socket and the
    /// rest of the run is sent on.
    fn flush_run(&mut self, mut start: usize, end: usize, packet: bool) {
        while start < end {
            let run = self.pending[start..end].iter().zip(&self.slots[start..end]);
            let result = match (&self.io.ptx, packet) {
                (Some(ptx), true) => ptx.send_batch(
                    &mut self.link_scratch,
                    run.map(|(p, slot)| {
                        let (ifindex, mac) = match p.via {
                            Via::Packet(i, m) => (i, m),
                            _ => (0, [0; 6]),
                        };
                        (&slot[..p.len], ifindex, mac)
                    }),
                ),
                _ => self.io.tx.send_batch(
                    &mut self.scratch,
                    run.map(|(p, slot)| (&slot[..p.len], p.remote)),
                ),
            };
            let (sent, failed) = match result {
                Ok(n) => (n, None),
                Err((n, e)) => (n, Some(e)),
            };
            self.count_sent(start, sent);
            start += sent;
            if let Some(e) = failed {
                let p = self.pending[start];
                if packet && self.io.ptx.is_some() {
                    self.packet_send_failed(start, p, &e);
                } else {
                    self.send_failed(start, p, &e);
                }
                start += 1;
            }
        }
    }

    /// A fast-path send of slot `slot` failed with `e`.
    fn send_failed(&mut self, slot: usize, p: Pending, e: &io::Error) {
        if e.raw_os_error() != Some(libc::EMSGSIZE) {
            if let Some(t) = self.t.tunnels.get_mut(&p.tunnel) {
                t.c.drop_send_error += 1;
            }
            return;
        }
        // The output device's MTU is below what the tunnel MTU assumed: re-read it.
        let Some(t) = self.t.tunnels.get_mut(&p.tunnel) else {
            return;
        };
        let fresh = path_mtu(&mut self.io.nl, &t.spec);
        let old = t.shared.mtu.fetch_min(fresh, Ordering::Relaxed);
        if fresh < old {
            tracing::info!(tunnel = p.tunnel, old, new = fresh, "tunnel MTU lowered");
        }
        let packet = &self.slots[slot][..p.len];
        let df = packet[6] & 0x40 != 0;
        if !df {
            let (local, remote) = (t.spec.local, t.spec.remote);
            if send_fragmenting(&self.io, packet, local, remote) {
                t.c.tx_packets += 1;
                t.c.tx_bytes += p.inner_len as u64;
                t.c.tx_fragmented += 1;
            } else {
                t.c.drop_send_error += 1;
            }
            return;
        }
        t.c.drop_too_big += 1;
        let (mtu, local, encap) = (t.mtu(), t.spec.local, t.spec.encapsulation);
        // Recover the inner packet to quote it in the ICMP error.
        let packet = self.slots[slot][..p.len].to_vec();
        let inner: Option<Vec<u8>> = match (encap, packet[9]) {
            (_, 4) => decapsulate_ipip(&packet).ok().map(|(_, i)| i.to_vec()),
            (_, 47) => decapsulate_gre(&packet).ok().map(|(_, _, i)| i.to_vec()),
            _ => {
                let mut b = packet.clone();
                decapsulate_minimal_in_place(&mut b)
                    .ok()
                    .map(|r| b[r].to_vec())
            }
        };
        if let Some(inner) = inner {
            send_frag_needed(&self.io.tun, &self.icmp, &mut self.c, &inner, mtu, local);
        }
    }

    // ------------------------------------------------------------ home-link broadcasts

    /// Broadcasts waiting on link `index`: each one that passes [`classify`] and the rate
    /// limit goes into every tunnel registered for the link.
    fn broadcast_readable(&mut self, index: usize) {
        for _ in 0..self.cfg.batch {
            let link = &self.links[index];
            let (n, link_broadcast) = match link.socket.recv(&mut self.inbuf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.c.raw_recv_errors += 1;
                    return;
                }
            };
            let routes = &self.t.routes;
            let verdict = classify(&self.inbuf[..n], link_broadcast, &link.directed, |src| {
                routes.contains_key(&src)
            });
            let len = match verdict {
                Verdict::Ignore => continue,
                Verdict::Loop => {
                    self.c.broadcast_rx += 1;
                    self.c.broadcast_loop += 1;
                    continue;
                }
                Verdict::Ttl => {
                    self.c.broadcast_rx += 1;
                    self.c.broadcast_ttl += 1;
                    continue;
                }
                Verdict::Forward { len } => len,
            };
            self.c.broadcast_rx += 1;
            let ifindex = link.socket.ifindex();
            if !self.t.broadcast.iter().any(|b| b.ifindex == ifindex) {
                continue;
            }
            if !self.broadcast_limit.allow() {
                self.c.broadcast_rate_limited += 1;
                continue;
            }
            self.c.broadcast_forwarded += 1;
            decrement_ttl(&mut self.inbuf[..len]);
            for k in 0..self.t.broadcast.len() {
                let target = self.t.broadcast[k];
                if target.ifindex == ifindex {
                    self.broadcast_copy(len, target);
                }
            }
        }
    }

    /// Sends one copy of the broadcast in `inbuf[..len]` to `target`.
    fn broadcast_copy(&mut self, len: usize, target: BroadcastTarget) {
        let Some(t) = self.t.tunnels.get_mut(&target.tunnel) else {
            return;
        };
        let stage: &[u8] = if target.nested {
            let id = t.take_id();
            match nest_to_home(
                &self.inbuf[..len],
                t.spec.local,
                target.home_address,
                self.cfg.outer_ttl,
                id,
                &mut self.nest_buf,
            ) {
                Ok(n) => &self.nest_buf[..n],
                Err(_) => {
                    t.c.drop_encap_error += 1;
                    return;
                }
            }
        } else {
            &self.inbuf[..len]
        };
        let df = stage[6] & 0x40 != 0;
        let fragment = stage[6] & 0x3f != 0 || stage[7] != 0; // MF or an offset
        let too_big = stage.len() > usize::from(t.mtu());
        if too_big && df {
            // No ICMP error about a broadcast (RFC 1812 §4.3.2.7).
            t.c.drop_too_big += 1;
            return;
        }
        let outer = OuterHeader {
            src: t.spec.local,
            dst: t.spec.remote,
            ttl: self.cfg.outer_ttl,
            identification: t.take_id(),
        };
        let Ok(n) = wrap(t, &outer, stage, fragment, &mut self.bcast_buf) else {
            t.c.drop_encap_error += 1;
            return;
        };
        let packet = &self.bcast_buf[..n];
        let (local, remote) = (t.spec.local, t.spec.remote);
        let sent = if too_big {
            send_fragmenting(&self.io, packet, local, remote)
        } else {
            match self.io.tx.send_to(packet, remote) {
                Ok(_) => true,
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) && !df => {
                    send_fragmenting(&self.io, packet, local, remote)
                }
                Err(_) => false,
            }
        };
        if sent {
            t.c.tx_packets += 1;
            t.c.tx_bytes += stage.len() as u64;
            t.c.tx_broadcast += 1;
            if too_big {
                t.c.tx_fragmented += 1;
            }
        } else {
            t.c.drop_send_error += 1;
        }
    }

    // ------------------------------------------------------------ out of the tunnels

    fn raw_readable(&mut self, index: usize) {
        self.raw_batches(index);
        let (tun, tunnels) = (&self.io.tun, &mut self.t.tunnels);
        self.gro.flush(|h| write_held(tun, tunnels, h));
    }

    fn raw_batches(&mut self, index: usize) {
        let mut budget = self.cfg.batch;
        while budget > 0 {
            let n = match self.io.rx[index].recv_batch(
                &mut self.scratch,
                &mut self.rx_bufs,
                &mut self.rx_lens,
            ) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // A pending error (ICMP about a packet we sent) or a real failure.
                    self.c.raw_recv_errors += 1;
                    budget = budget.saturating_sub(1);
                    continue;
                }
            };
            budget = budget.saturating_sub(n);
            self.c.raw_packets += n as u64;
            for j in 0..n {
                let len = self.rx_lens[j];
                if !(20..=RX_BUF).contains(&len) {
                    self.c.malformed += 1;
                    continue;
                }
                self.decapsulate(j, len);
            }
        }
    }

    fn decapsulate(&mut self, j: usize, len: usize) {
        let buf = &mut self.rx_bufs[j][..len];
        let proto = buf[9];
        let src = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
        let Some(&id) = self.t.accept.get(&(src, proto)) else {
            self.c.unknown_source += 1;
            return;
        };
        let Some(t) = self.t.tunnels.get_mut(&id) else {
            self.c.unknown_source += 1;
            return;
        };
        let base = buf.as_ptr() as usize;
        let range = match proto {
            4 => decapsulate_ipip(buf).map(|(_, inner)| {
                let s = inner.as_ptr() as usize - base;
                s..s + inner.len()
            }),
            47 => match decapsulate_gre(buf) {
                Ok((_, gre, inner)) => {
                    let want = match t.spec.encapsulation {
                        Encapsulation::Gre { key, .. } => key,
                        _ => None,
                    };
                    if gre.key != want {
                        t.c.drop_key_mismatch += 1;
                        return;
                    }
                    let s = inner.as_ptr() as usize - base;
                    Ok(s..s + inner.len())
                }
                Err(e) => Err(e),
            },
            _ => decapsulate_minimal_in_place(buf),
        };
        let Ok(range) = range else {
            t.c.drop_decap_error += 1;
            return;
        };
        if buf[range.start + 8] == 0 {
            t.c.drop_ttl += 1;
            return;
        }
        {
            let mtu = self.cfg.tun_mtu as usize;
            if let Some(h) = received_super_tcp4(&mut buf[range.clone()], mtu) {
                // Coalesced by GRO on the way: back in as one TCP GSO packet, after whatever
                // the coalescer holds (order).
                let (tun, tunnels) = (&self.io.tun, &mut self.t.tunnels);
                self.gro.flush(|h| write_held(tun, tunnels, h));
                self.c.rx_coalesced += 1;
                write_received_super(&self.io.tun, &mut self.t.tunnels, id, h, &buf[range]);
                return;
            }
        }
        let inner = &buf[range];
        if self.io.tun.vnet_hdr() {
            let (tun, tunnels) = (&self.io.tun, &mut self.t.tunnels);
            if self.gro.push(id, inner, |h| write_held(tun, tunnels, h)) == Push::Held {
                return;
            }
        }
        let Some(t) = self.t.tunnels.get_mut(&id) else {
            return;
        };
        match self.io.tun.write(inner) {
            Ok(_) => {
                t.c.rx_packets += 1;
                t.c.rx_bytes += inner.len() as u64;
            }
            Err(_) => t.c.drop_write_error += 1,
        }
    }
}

/// Writes a super-segment that arrived coalesced ([`received_super_tcp4`] prepared it and
/// gave `h`) and counts the segments it stands for: as one GSO packet, or, when the device
/// has no offloads or the kernel refuses it, its segments one by one.
fn write_received_super(
    tun: &Tun,
    tunnels: &mut HashMap<TunnelId, Tunnel>,
    id: TunnelId,
    h: VnetHdr,
    p: &[u8],
) {
    let payload = p.len() - usize::from(h.hdr_len);
    let segments = payload.div_ceil(usize::from(h.gso_size).max(1)).max(1) as u64;
    let mut ok = tun.vnet_hdr() && tun.write_vnet(&h.to_bytes(), p).is_ok();
    if !ok {
        let mut whole = p.to_vec();
        let mut scratch = Vec::with_capacity(2048);
        let mut written = true;
        ok = finish_partial_checksum(&mut whole, h.csum_start.into(), h.csum_offset.into())
            && segment_tcp4(&whole, h.gso_size.into(), &mut scratch, |s| {
                written &= tun.write(s).is_ok();
            })
            .is_ok()
            && written;
    }
    let Some(t) = tunnels.get_mut(&id) else {
        return;
    };
    if ok {
        t.c.rx_packets += segments;
        t.c.rx_bytes += (p.len() as u64) + (segments - 1) * u64::from(h.hdr_len);
    } else {
        t.c.drop_write_error += segments;
    }
}

/// Writes a (possibly coalesced) decapsulated packet to the TUN device and counts it.
fn write_held(tun: &Tun, tunnels: &mut HashMap<TunnelId, Tunnel>, h: &mut Held) {
    let mut ok = tun.write_vnet(&h.vnet_hdr().to_bytes(), &h.buf).is_ok();
    if !ok && h.segments > 1 {
        // The kernel refused the super-segment: write the segments one by one.
        let mut scratch = Vec::with_capacity(2048);
        ok = true;
        h.resegment(&mut scratch, |s| ok &= tun.write(s).is_ok());
    }
    if let Some(t) = tunnels.get_mut(&h.tag) {
        if ok {
            t.c.rx_packets += h.segments as u64;
            t.c.rx_bytes += h.inner_bytes() as u64;
        } else {
            t.c.drop_write_error += h.segments as u64;
        }
    }
}

/// Encapsulates `inner` (`fragment`: it is an IP fragment) with tunnel `t`'s encapsulation
/// under `outer` into `slot`.
fn wrap(
    t: &mut Tunnel,
    outer: &OuterHeader,
    inner: &[u8],
    fragment: bool,
    slot: &mut [u8],
) -> mip_wire::error::Result<usize> {
    match t.spec.encapsulation {
        Encapsulation::IpIp => encapsulate_ipip_with(outer, inner, slot),
        Encapsulation::Gre {
            key,
            checksum,
            sequence,
        } => {
            let seq = sequence.then(|| t.take_seq());
            encapsulate_gre_with(outer, &GreRepr::ipv4(checksum, key, seq), inner, slot)
        }
        Encapsulation::Minimal if fragment => encapsulate_ipip_with(outer, inner, slot),
        Encapsulation::Minimal => encapsulate_minimal(inner, t.spec.local, t.spec.remote, slot),
    }
}

/// The socket for the next packet of tunnel `t`, `out_len` bytes long, in
/// [`TxMode::Packet`]: the raw socket for the first packet of a refresh period (resolving the
/// next hop first if the tunnel was idle) and when there is no usable next hop.
fn choose_path(
    nl: &mut Netlink,
    c: &mut EngineCounters,
    budget: &mut u32,
    t: &mut Tunnel,
    out_len: usize,
) -> Via {
    let hop = &mut t.hop;
    if hop.resolved_at.is_none() {
        if *budget == 0 {
            // Resolved at a later packet, once the period's budget is back.
            c.nexthop_deferred += 1;
            return Via::Fallback;
        }
        *budget -= 1;
        hop.via = resolve_counted(nl, c, t.spec.remote);
        hop.resolved_at = Some(std::time::Instant::now());
        hop.refresh = true;
    }
    hop.used = true;
    if hop.refresh {
        hop.refresh = false;
        return Via::Refresh;
    }
    match hop.via {
        Some(h) if out_len <= h.mtu as usize => Via::Packet(h.ifindex, h.mac),
        _ => Via::Fallback,
    }
}

/// [`resolve_next_hop`], counted, and logged when it fails.
fn resolve_counted(nl: &mut Netlink, c: &mut EngineCounters, remote: Ipv4Addr) -> Option<NextHop> {
    match resolve_next_hop(nl, remote) {
        Ok(h) => {
            c.nexthop_resolved += 1;
            Some(h)
        }
        Err(why) => {
            c.nexthop_unresolved += 1;
            tracing::debug!(%remote, "no next hop for the packet socket: {why}");
            None
        }
    }
}

/// The next hop towards `remote` for the packet socket: the route's output device (up,
/// Ethernet) and the MAC of its gateway (or of `remote` itself, on-link) from a usable
/// neighbour entry.
fn resolve_next_hop(nl: &mut Netlink, remote: Ipv4Addr) -> Result<NextHop, String> {
    let r = nl.route_get(remote).map_err(|e| e.to_string())?;
    let ifindex = r.device.ok_or("route without output device")?;
    let link = nl.link_by_index(ifindex).map_err(|e| e.to_string())?;
    if link.link_type != ARPHRD_ETHER {
        return Err(format!(
            "device {} is not Ethernet (type {})",
            link.name, link.link_type
        ));
    }
    if !link.up {
        return Err(format!("device {} is down", link.name));
    }
    let hop = r.gateway.unwrap_or(remote);
    let n = nl
        .neighbour_get(ifindex, hop)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no neighbour entry for {hop} on {}", link.name))?;
    if !nud_usable(n.state) {
        return Err(format!(
            "neighbour {hop} on {} in state {:#x}",
            link.name, n.state
        ));
    }
    let mac = n
        .usable_mac()
        .ok_or_else(|| format!("neighbour {hop} on {} has no MAC", link.name))?;
    let mtu = r.mtu.map_or(link.mtu, |m| m.min(link.mtu));
    Ok(NextHop { ifindex, mac, mtu })
}

/// Sends ICMP Fragmentation Needed about `packet` back into the TUN device, from `local`, with
/// next-hop MTU `mtu`, unless rate-limited or not allowed.
fn send_frag_needed(
    tun: &Tun,
    icmp: &Mutex<IcmpLimiter>,
    c: &mut EngineCounters,
    packet: &[u8],
    mtu: u16,
    local: Ipv4Addr,
) {
    let identification = {
        let mut icmp = icmp.lock().unwrap_or_else(|e| e.into_inner());
        if !icmp.allow() {
            c.icmp_suppressed += 1;
            return;
        }
        icmp.identification = icmp.identification.wrapping_add(1);
        icmp.identification
    };
    let mut out = [0u8; 576];
    match build_frag_needed(packet, mtu, local, identification, &mut out) {
        Some(n) if tun.write(&out[..n]).is_ok() => c.icmp_sent += 1,
        _ => c.icmp_suppressed += 1,
    }
}

/// Sends an encapsulated packet through the fragmenting path: its payload after the outer
/// header on the protocol's receive socket, the kernel writing the header.
fn send_fragmenting(io: &Io, packet: &[u8], local: Ipv4Addr, remote: Ipv4Addr) -> bool {
    let hl = usize::from(packet[0] & 0x0f) * 4;
    let Some(i) = rx_index(packet[9]) else {
        return false;
    };
    io.rx[i]
        .send_payload(&packet[hl..], local, remote, packet[8], packet[1])
        .is_ok()
}

/// The path MTU towards `spec.remote` less the encapsulation overhead; 1500 less the overhead
/// when it cannot be looked up.
fn path_mtu(nl: &mut Netlink, spec: &TunnelSpec) -> u16 {
    let overhead = spec.encapsulation.overhead();
    let mtu = match nl.route_get(spec.remote) {
        Ok(r) => r.mtu.or_else(|| {
            r.device
                .and_then(|d| nl.link_by_index(d).ok())
                .map(|l| l.mtu)
        }),
        Err(e) => {
            tracing::warn!("tunnel to {}: {e}; assuming MTU 1500", spec.remote);
            None
        }
    }
    .unwrap_or(1500) as usize;
    mtu.saturating_sub(overhead).clamp(68, 65535) as u16
}

/// Builds an ICMP Destination Unreachable / Fragmentation Needed (RFC 792, RFC 1191) about
/// `inner` into `out`, from `from` to the inner source, quoting as much of `inner` as fits in
/// 576 bytes (RFC 1812 §4.3.2.3). `None` when no error may be sent: the inner packet is an
/// ICMP error, a non-first fragment, or comes from a non-unicast source.
pub fn build_frag_needed(
    inner: &[u8],
    mtu: u16,
    from: Ipv4Addr,
    identification: u16,
    out: &mut [u8; 576],
) -> Option<usize> {
    let ip = Ipv4Packet::new_checked(inner).ok()?;
    let src = ip.src_addr();
    if src.is_unspecified() || src.is_broadcast() || src.is_multicast() || src.is_loopback() {
        return None;
    }
    if ip.fragment_offset() != 0 {
        return None;
    }
    if ip.protocol() == Protocol::Icmp {
        if let Some(&ty) = ip.payload().first() {
            if matches!(ty, 3 | 4 | 5 | 11 | 12) {
                return None;
            }
        }
    }
    let datagram = &inner[..usize::from(ip.total_len())];
    let quote = datagram.len().min(576 - 28);
    let total = 28 + quote;
    let h = &mut out[..20];
    h[0] = 0x45;
    h[1] = 0xc0; // internetwork control precedence, as the kernel's ICMP errors
    h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    h[4..6].copy_from_slice(&identification.to_be_bytes());
    h[6..8].copy_from_slice(&[0, 0]);
    h[8] = 64;
    h[9] = 1;
    h[10..12].copy_from_slice(&[0, 0]);
    h[12..16].copy_from_slice(&from.octets());
    h[16..20].copy_from_slice(&src.octets());
    let c = internet_checksum(h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let icmp = &mut out[20..total];
    icmp[0] = 3;
    icmp[1] = 4;
    icmp[2..6].copy_from_slice(&[0, 0, 0, 0]);
    icmp[6..8].copy_from_slice(&mtu.to_be_bytes());
    icmp[8..].copy_from_slice(&datagram[..quote]);
    let c = internet_checksum(icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_packet(len: usize, df: bool) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        p[6] = if df { 0x40 } else { 0 };
        p[8] = 63;
        p[9] = 17;
        p[12..16].copy_from_slice(&[10, 1, 0, 2]);
        p[16..20].copy_from_slice(&[10, 9, 9, 9]);
        let c = internet_checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn frag_needed_quotes_the_packet_and_carries_the_mtu() {
        let inner = udp_packet(1460, true);
        let mut out = [0u8; 576];
        let n = build_frag_needed(&inner, 1400, Ipv4Addr::new(10, 2, 0, 1), 7, &mut out).unwrap();
        assert_eq!(n, 576);
        let ip = Ipv4Packet::new_checked(&out[..n]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(ip.dst_addr(), Ipv4Addr::new(10, 1, 0, 2));
        assert_eq!(ip.protocol(), Protocol::Icmp);
        let icmp = ip.payload();
        assert_eq!((icmp[0], icmp[1]), (3, 4));
        assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), 1400);
        assert_eq!(internet_checksum(icmp), 0);
        assert_eq!(&icmp[8..28], &inner[..20]);
        // never about an ICMP error
        let mut err = udp_packet(100, true);
        err[9] = 1;
        err[20] = 3;
        assert!(build_frag_needed(&err, 1400, Ipv4Addr::new(10, 2, 0, 1), 7, &mut out).is_none());
    }

    #[test]
    fn outer_headers_are_complete_for_the_packet_socket() {
        // The packet socket sends the outer header as written: total length, Identification
        // and checksum must all be right, for every encapsulation.
        let inner = udp_packet(100, true);
        for (k, encapsulation) in [
            Encapsulation::IpIp,
            Encapsulation::Gre {
                key: Some(9),
                checksum: true,
                sequence: true,
            },
            Encapsulation::Minimal,
        ]
        .into_iter()
        .enumerate()
        {
            let spec = TunnelSpec {
                local: Ipv4Addr::new(10, 2, 0, 1),
                remote: Ipv4Addr::new(10, 2, 0, 2),
                encapsulation,
                mtu: None,
            };
            let shared = Arc::new(TunnelShared {
                mtu: AtomicU16::new(1480),
                seq: AtomicU32::new(0),
            });
            let mut t = Tunnel::new(spec, shared, QueueId { index: 1, count: 2 });
            let mut ids = Vec::new();
            for _ in 0..3 {
                let outer = OuterHeader {
                    src: spec.local,
                    dst: spec.remote,
                    ttl: 64,
                    identification: t.take_id(),
                };
                let mut slot = vec![0u8; 256];
                let n = wrap(&mut t, &outer, &inner, false, &mut slot).unwrap();
                let ip = Ipv4Packet::new_checked(&slot[..n]).unwrap();
                assert!(ip.verify_checksum(), "{encapsulation:?}");
                assert_eq!(usize::from(ip.total_len()), n);
                assert_eq!(ip.dst_addr(), spec.remote);
                ids.push(ip.identification());
            }
            if k < 2 {
                // Queue 1 of 2: 2, 4, 6 (minimal encapsulation keeps the inner header's).
                assert_eq!(ids, vec![2, 4, 6], "{encapsulation:?}");
            }
        }
        let mut c = EngineCounters::default();
        Via::Packet(3, [2, 0, 0, 0, 0, 1]).counts(&mut c);
        Via::Fallback.counts(&mut c);
        Via::Refresh.counts(&mut c);
        Via::Raw.counts(&mut c);
        assert_eq!(
            (c.tx_packet_socket, c.tx_raw_fallback, c.tx_raw_refresh),
            (1, 1, 1)
        );
    }

    #[test]
    fn overheads() {
        assert_eq!(Encapsulation::IpIp.overhead(), 20);
        assert_eq!(Encapsulation::GRE.overhead(), 24);
        let g = Encapsulation::Gre {
            key: Some(1),
            checksum: true,
            sequence: true,
        };
        assert_eq!(g.overhead(), 36);
        assert_eq!(g.protocol(), 47);
        assert_eq!(
            Encapsulation::from_wire(mip_wire::codes::Encapsulation::from(55)),
            Some(Encapsulation::Minimal)
        );
    }
}
