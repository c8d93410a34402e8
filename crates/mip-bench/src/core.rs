//! `mip-bench core`: the home agent core alone, in process, no sockets.
//!
//! 1. The configuration `mip-bench config` would write is parsed with
//!    [`mip_config::parse_toml`] and a [`HomeAgent`] built from it, as `mipd` does (both
//!    timed).
//! 2. One signed Registration Request per node is generated up front (not timed).
//! 3. Registration pass: every request through `handle_request`, then `poll_store`,
//!    `poll_dataplane` and `poll_transmit` drained, in the documented order. Timed as a whole
//!    and, separately, the `handle_request` calls alone. The heap growth over the pass (with
//!    the counting allocator of the `mip-bench` binary) divided by N is the memory per binding.
//! 4. Renewal pass: the same with identifications 10 s later (existing bindings).
//! 5. Restore: `records()` of the N bindings into a fresh home agent with `restore()`, and its
//!    queued data-plane requests drained (timed).
//!
//! Plus a floor: the cost of the two authenticator computations every registration needs
//! (verify the request, sign the reply), measured on the same security associations.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant, SystemTime};

use mip_ha::{HaOptions, HomeAgent};
use mip_security::{ntp, SecurityAssociation};
use serde::Serialize;

use crate::alloc::allocated;
use crate::config::config_string;
use crate::message::{write_bad_request, write_request, RequestFields, REQUEST_LEN};
use crate::population::Population;

/// Settings of the in-process benchmark.
#[derive(Clone, Debug)]
pub struct CoreOptions {
    /// The mobile nodes.
    pub population: Population,
    /// The home agent's address.
    pub home_agent: Ipv4Addr,
    /// Keep per-host counters (`HaOptions::per_host_counters`; `HomeAgent::new` keeps them).
    pub per_host_counters: bool,
    /// Lifetime requested, seconds.
    pub lifetime: u16,
    /// Renewal passes (more than one to profile the request path: each pass is 10 s later).
    pub renew_passes: u32,
}

/// One pass of requests through the core.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PassReport {
    /// Requests handled.
    pub requests: u64,
    /// Wall time of the pass (handle and drain), seconds.
    pub seconds: f64,
    /// Requests per second, handle and drain.
    pub per_s: f64,
    /// Time in `handle_request` alone, nanoseconds per request.
    pub handle_ns: f64,
    /// Time draining the three output queues, nanoseconds per request.
    pub drain_ns: f64,
    /// Replies with code 0 or 1.
    pub accepted: u64,
    /// Replies in all.
    pub replies: u64,
    /// Store operations drained.
    pub store_ops: u64,
    /// Data-plane requests drained.
    pub dataplane_ops: u64,
}

/// What `mip-bench core` reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoreReport {
    /// Mobile nodes.
    pub nodes: u32,
    /// MN-HA algorithm.
    pub algorithm: String,
    /// Size of the generated TOML configuration.
    pub config_bytes: usize,
    /// Time to write it, seconds.
    pub config_write_seconds: f64,
    /// `mip_config::parse_toml`, seconds.
    pub config_parse_seconds: f64,
    /// `HomeAgent::new` (policy and its indexes), seconds.
    pub home_agent_new_seconds: f64,
    /// Time to generate the signed requests, seconds.
    pub generate_seconds: f64,
    /// Verify-the-request plus sign-the-reply, nanoseconds (the crypto floor of a
    /// registration).
    pub crypto_floor_ns: f64,
    /// First registration of every node.
    pub register: PassReport,
    /// Renewal of every binding.
    pub renew: PassReport,
    /// One request with a wrong authenticator per node (refused with 131): the cost of a
    /// flood request.
    pub bad_auth: PassReport,
    /// Bindings after the registration pass.
    pub bindings: usize,
    /// Heap growth over the registration pass, bytes (None without the counting allocator).
    pub heap_growth_bytes: Option<i64>,
    /// `heap_growth_bytes / nodes`.
    pub bytes_per_binding: Option<f64>,
    /// `HomeAgent::table_heap_bytes()` after the registration pass (the table's own
    /// estimate).
    pub table_heap_bytes: usize,
    /// `records()`, seconds.
    pub records_seconds: f64,
    /// `restore()` into a fresh home agent, seconds.
    pub restore_seconds: f64,
    /// Draining the data-plane and store requests `restore()` queued, seconds.
    pub restore_drain_seconds: f64,
    /// Bindings restored.
    pub restored: usize,
}

fn pass(
    ha: &mut HomeAgent,
    reqs: &[u8],
    now: SystemTime,
    pop: &Population,
    ha_addr: Ipv4Addr,
) -> PassReport {
    let mut r = PassReport::default();
    let mut handle = Duration::ZERO;
    let start = Instant::now();
    for (i, req) in reqs.chunks_exact(REQUEST_LEN).enumerate() {
        // As the daemon does for each received batch of 64.
        if i % 64 == 0 {
            let end = reqs.len().min((i + 64) * REQUEST_LEN);
            let t = Instant::now();
            ha.warm(reqs[i * REQUEST_LEN..end].chunks_exact(REQUEST_LEN));
            handle += t.elapsed();
        }
        let src = SocketAddrV4::new(pop.care_of_address(i as u32), 434);
        let t = Instant::now();
        ha.handle_request(now, src, ha_addr, req);
        handle += t.elapsed();
        while ha.poll_store().is_some() {
            r.store_ops += 1;
        }
        while ha.poll_dataplane().is_some() {
            r.dataplane_ops += 1;
        }
        while let Some(tx) = ha.poll_transmit() {
            r.replies += 1;
            if tx.payload.get(1).is_some_and(|&c| c <= 1) {
                r.accepted += 1;
            }
        }
        r.requests += 1;
    }
    let total = start.elapsed();
    r.seconds = total.as_secs_f64();
    let n = r.requests.max(1) as f64;
    r.per_s = r.requests as f64 / r.seconds.max(1e-9);
    r.handle_ns = handle.as_nanos() as f64 / n;
    r.drain_ns = total.saturating_sub(handle).as_nanos() as f64 / n;
    r
}

fn generate(
    pop: &Population,
    sas: &[SecurityAssociation],
    at: SystemTime,
    o: &CoreOptions,
) -> Vec<u8> {
    let base = ntp::from_system_time(at);
    let mut out = vec![0u8; sas.len() * REQUEST_LEN];
    for (i, (sa, buf)) in sas
        .iter()
        .zip(out.chunks_exact_mut(REQUEST_LEN))
        .enumerate()
    {
        let f = RequestFields {
            flags: 0,
            lifetime: o.lifetime,
            home: pop.home_address(i as u32),
            home_agent: o.home_agent,
            care_of: pop.care_of_address(i as u32),
            identification: base + i as u64,
        };
        write_request(buf, &f, sa);
    }
    out
}

fn generate_bad(pop: &Population, at: SystemTime, o: &CoreOptions) -> Vec<u8> {
    let base = ntp::from_system_time(at);
    let mut out = vec![0u8; pop.nodes as usize * REQUEST_LEN];
    for (i, buf) in out.chunks_exact_mut(REQUEST_LEN).enumerate() {
        let f = RequestFields {
            flags: 0,
            lifetime: o.lifetime,
            home: pop.home_address(i as u32),
            home_agent: o.home_agent,
            care_of: pop.care_of_address(i as u32),
            identification: base + i as u64,
        };
        write_bad_request(buf, &f, crate::population::SPI, i as u64);
    }
    out
}

fn crypto_floor(sas: &[SecurityAssociation], reqs: &[u8]) -> f64 {
    let n = sas.len().min(200_000);
    let start = Instant::now();
    let mut ok = 0usize;
    for (sa, req) in sas[..n].iter().zip(reqs.chunks_exact(REQUEST_LEN)) {
        if sa.verify(&req[..30], &req[30..REQUEST_LEN]) {
            ok += 1;
        }
        // The reply: 20-byte fixed part plus extension header and SPI.
        let a = sa.authenticator(&req[..26]);
        ok += usize::from(a[0] == 0x5a);
    }
    std::hint::black_box(ok);
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

fn bytes_now() -> Option<i64> {
    allocated().map(|b| b as i64)
}

/// Runs the in-process benchmark.
///
/// # Errors
/// The generated configuration does not parse, or the core did not accept every node.
pub fn run_core(o: &CoreOptions) -> Result<CoreReport, String> {
    let pop = &o.population;
    let mut rep = CoreReport {
        nodes: pop.nodes,
        algorithm: pop.algorithm.toml_name().to_owned(),
        ..CoreReport::default()
    };

    let t = Instant::now();
    let text = config_string(pop, o.home_agent);
    rep.config_write_seconds = t.elapsed().as_secs_f64();
    rep.config_bytes = text.len();
    let t = Instant::now();
    let cfg = mip_config::parse_toml(&text, "mip-bench.toml").map_err(|e| e.to_string())?;
    rep.config_parse_seconds = t.elapsed().as_secs_f64();
    drop(text);

    let options = HaOptions {
        per_host_counters: o.per_host_counters,
        ..HaOptions::default()
    };
    let t = Instant::now();
    let mut ha = HomeAgent::new_with_options(&cfg, &[o.home_agent], options.clone());
    rep.home_agent_new_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let sas: Vec<SecurityAssociation> = (0..pop.nodes)
        .map(|i| pop.security_association(i))
        .collect();
    let t0 = SystemTime::now();
    let first = generate(pop, &sas, t0, o);
    let passes = o.renew_passes.max(1);
    let renewals: Vec<Vec<u8>> = (0..passes)
        .map(|k| {
            generate(
                pop,
                &sas,
                t0 + Duration::from_secs(10 * u64::from(k + 1)),
                o,
            )
        })
        .collect();
    let t1 = t0 + Duration::from_secs(10 * u64::from(passes));
    let bad = generate_bad(pop, t1, o);
    rep.generate_seconds = t.elapsed().as_secs_f64();
    rep.crypto_floor_ns = crypto_floor(&sas, &first);
    drop(sas);

    let before = bytes_now();
    rep.register = pass(&mut ha, &first, t0, pop, o.home_agent);
    let after = bytes_now();
    rep.bindings = ha.binding_count();
    rep.table_heap_bytes = ha.table_heap_bytes();
    if let (Some(b), Some(a)) = (before, after) {
        rep.heap_growth_bytes = Some(a - b);
        rep.bytes_per_binding = Some((a - b) as f64 / f64::from(pop.nodes));
    }
    drop(first);
    for (k, r) in renewals.iter().enumerate() {
        let at = t0 + Duration::from_secs(10 * (k as u64 + 1));
        let p = pass(&mut ha, r, at, pop, o.home_agent);
        // The report keeps the last pass; every pass must accept every node.
        if p.accepted != p.requests {
            rep.renew = p;
            break;
        }
        rep.renew = p;
    }
    drop(renewals);
    rep.bad_auth = pass(&mut ha, &bad, t1, pop, o.home_agent);
    drop(bad);

    let t = Instant::now();
    let records = ha.records();
    rep.records_seconds = t.elapsed().as_secs_f64();
    drop(ha);
    let mut fresh = HomeAgent::new_with_options(&cfg, &[o.home_agent], options);
    let t = Instant::now();
    let restored = fresh.restore(records, t1);
    rep.restore_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    while fresh.poll_dataplane().is_some() {}
    while fresh.poll_store().is_some() {}
    rep.restore_drain_seconds = t.elapsed().as_secs_f64();
    rep.restored = restored.bindings;

    let n = u64::from(pop.nodes);
    if rep.register.accepted != n || rep.renew.accepted != n || rep.restored != pop.nodes as usize {
        return Err(format!(
            "not every node was accepted: registered {}/{n}, renewed {}/{n}, restored {}/{n}",
            rep.register.accepted, rep.renew.accepted, rep.restored
        ));
    }
    Ok(rep)
}

/// The report as text.
pub fn format_core(r: &CoreReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "mip-bench core: {} mobile nodes, {}",
        r.nodes, r.algorithm
    );
    let _ = writeln!(
        s,
        "  configuration: {:.1} MB TOML, written in {:.2} s, parsed in {:.2} s; HomeAgent::new {:.2} s",
        r.config_bytes as f64 / 1e6,
        r.config_write_seconds,
        r.config_parse_seconds,
        r.home_agent_new_seconds
    );
    let _ = writeln!(
        s,
        "  crypto floor (verify request + sign reply): {:.0} ns per registration",
        r.crypto_floor_ns
    );
    for (name, p) in [
        ("register", &r.register),
        ("renew", &r.renew),
        ("bad auth", &r.bad_auth),
    ] {
        let _ = writeln!(
            s,
            "  {name:<8}: {:>9.0} /s ({} requests in {:.2} s; handle_request {:.0} ns, drain {:.0} ns); \
             accepted {}, store ops {}, data-plane requests {}",
            p.per_s,
            p.requests,
            p.seconds,
            p.handle_ns,
            p.drain_ns,
            p.accepted,
            p.store_ops,
            p.dataplane_ops
        );
    }
    match (r.bytes_per_binding, r.heap_growth_bytes) {
        (Some(per), Some(total)) => {
            let _ = writeln!(
                s,
                "  memory  : {per:.1} bytes per binding ({total} bytes heap growth for {} bindings; table estimate {} bytes)",
                r.bindings, r.table_heap_bytes
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "  memory  : not measured (no counting allocator); table estimate {} bytes",
                r.table_heap_bytes
            );
        }
    }
    let _ = writeln!(
        s,
        "  restore : {} bindings, records() {:.2} s, restore() {:.2} s, drain {:.2} s",
        r.restored, r.records_seconds, r.restore_seconds, r.restore_drain_seconds
    );
    s
}
