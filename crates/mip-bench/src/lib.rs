//! `mip-bench`: the load generator and benchmarks of the Mobile IPv4 home agent.
//!
//! * [`config`]: a `mipd` configuration for N simulated mobile nodes whose keys are derived
//!   from a seed ([`population`]), so the generator recomputes them instead of storing them.
//! * [`run`]: N mobile nodes over UDP — signed Registration Requests at a rate (open loop) or
//!   with K in flight (closed loop), replies matched and (sampled) verified, latency in a
//!   log-bucket [`histogram`], an optional flood of requests with bad authenticators.
//! * [`echo`]: the baseline responder, on the same batched socket code ([`udp`]).
//! * [`compare`]: echo and home agent under the same load, and their ratio.
//! * [`mini_ha`]: the `mip-ha` core behind the echo's socket loop (no store, no data
//!   plane): the upper bound for `mipd`, and a signed-reply target for tests.
//! * [`core`]: the `mip-ha` core in process: registrations/s, bytes per binding (with the
//!   counting allocator of [`alloc`]), restore time.
//!
//! Only loopback or local addresses are ever targets, and every loop is bounded in time.

pub mod alloc;
pub mod compare;
pub mod config;
pub mod core;
pub mod echo;
pub mod histogram;
pub mod message;
pub mod mini_ha;
pub mod population;
pub mod run;
pub mod udp;
