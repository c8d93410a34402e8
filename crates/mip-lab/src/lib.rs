//! `mip-lab`: the lab of the Mobile IPv4 suite. It shows the product's main job — a mobile
//! node roams between networks while a TCP session to its home address survives — in Linux
//! network namespaces on one machine, and measures each handoff.
//!
//! # Topology and addressing plan
//!
//! Every namespace is `mip-<id>-<node>` (`<id>`: 1–12 of `[a-z0-9]`, so two runs never
//! collide). All addresses are private 10.x ranges that exist only inside the namespaces.
//!
//! ```text
//!                          cn 10.0.1.2
//!                           | cn0
//!                           | 10.0.1.0/24
//!                           | r-cn 10.0.1.1
//!   +-----------------------rtr------------------------------+
//!   | r-ha 10.0.2.1       | r-fa1 10.0.3.1    | r-fa2 10.0.4.1   | r-coloc 10.40.0.1
//!   | 10.0.2.0/24         | 10.0.3.0/24       | 10.0.4.0/24      |
//!   | ha-bb 10.0.2.2      | fa1-bb 10.0.3.2   | fa2-bb 10.0.4.2  |
//!  ha                    fa1                 fa2                 |
//!   | ha-home 10.10.0.1   | fa1-visit         | fa2-visit        |
//!   |                     |   10.20.0.1       |   10.30.0.1      |
//! ==+== br-home ====   ===+== br-fa1 ===   ===+== br-fa2 ===  ===+== br-coloc ===   (in sw)
//!   home 10.10.0.0/24     10.20.0.0/24        10.30.0.0/24       10.40.0.0/24
//!         \__________________ sw:p-mn is enslaved to one of them ______/
//!                                  |
//!                                  | mn0 10.10.0.10/24 (home address, always)
//!                                 mn
//! ```
//!
//! | what | address |
//! |---|---|
//! | correspondent node `cn` | 10.0.1.2 (default via rtr 10.0.1.1) |
//! | home agent `ha` | 10.10.0.1 on the home link (the address the MN registers with), 10.0.2.2 on the backbone |
//! | mobile node home address | 10.10.0.10/24 on `mn:mn0`, home network 10.10.0.0/24 |
//! | foreign agent 1 `fa1` | care-of address 10.20.0.1 on its visitor link 10.20.0.0/24; 10.0.3.2 backbone |
//! | foreign agent 2 `fa2` | care-of address 10.30.0.1 on its visitor link 10.30.0.0/24; 10.0.4.2 backbone |
//! | co-located network | 10.40.0.0/24, no foreign agent; gateway rtr 10.40.0.1; the MN's co-located care-of address is 10.40.0.10 (static, no DHCP) |
//! | rtr routes | 10.10.0.0/24 via 10.0.2.2, 10.20.0.0/24 via 10.0.3.2, 10.30.0.0/24 via 10.0.4.2; 10.40.0.0/24 connected |
//! | ha, fa1, fa2 | default via rtr; IPv4 forwarding on (also in rtr) |
//! | demo stream / iperf3 | TCP cn → 10.10.0.10:5001 / 10.10.0.10:5201 |
//!
//! rp_filter is off and IPv6 is disabled in every namespace; rtr, ha and the foreign agents do
//! not send ICMP redirects.
//!
//! # A move
//!
//! The mobile node has one interface, `mn0`, whose veth peer `p-mn` sits in the `sw` namespace
//! and is a port of one of four bridges (one per service link). [`topology::move_to`] takes
//! `p-mn` down (the MN loses carrier: the link change), waits until the loss is visible on
//! `mn0` (operstate DOWN, so an MN daemon gets the rtnetlink event), enslaves `p-mn` to the new
//! bridge and brings it up. In Mobile IP mode nothing else changes: the agents do the rest. In
//! the `--no-mip` harness self-test, plain host routes for 10.10.0.10/32 follow the MN (rtr →
//! the foreign agent → its visitor link, or rtr's co-located interface) and the MN's default
//! route points at the gateway of the new link.
//!
//! # Where the agents plug in
//!
//! [`agents::start_agents`] (called by `demo`, and by `iperf --mip`), configured by
//! `examples/lab/{ha,fa1,fa2,mn}.toml` (`--mn-config FILE`: another mobile node configuration);
//! the `mipd` command line is built by [`agents::mipd_args`]. [`session::start`] brings a lab
//! and its agents up for callers that drive the moves themselves, and
//! [`demo::DemoOpts::after_move`] runs checks while the demo's agents run (both used by
//! `tests/mobile_ip.rs`, which pass the `mip-lab` binary with [`proc::set_self_exe`]).
//!
//! # Benchmarks
//!
//! [`mod@bench`]: `mip-lab bench-handoff [--moves N] [--json]` brings the lab and its agents
//! up once, runs the demo's TCP stream and ping, and moves home → fa1, then N times between the
//! foreign agents (fa1 ↔ fa2, default 24: handoff through a foreign agent, triggered by the
//! mobile node's solicitation on link up), then → home → coloc → home; it prints
//! p50/p90/p99/max of `handoff_ms` and `packets_lost` (the demo's definitions) per kind of
//! move (foreign agent, home, coloc), the stream check, and the target p99 ≤ 50 ms for
//! foreign-agent handoffs. `mip-lab bench-throughput [--at PLACE] [--json]` runs `iperf`
//! on the plain path and `iperf --mip` (through the home agent's tunnel), the mobile node at
//! fa1 by default, and prints both, the ratio and the targets (≥ 2 Gbit/s UDP 1400 B and
//! ≥ 250 000 pkt/s UDP 64 B through the tunnel, ≥ 0.5 of the plain path).

pub mod agents;
pub mod bench;
pub mod demo;
pub mod engines;
pub mod guard;
pub mod iperf;
pub mod ping;
pub mod plan;
pub mod proc;
pub mod session;
pub mod sh;
pub mod stream;
pub mod topology;
