//! Memory per binding and throughput.
//!
//! * `memory_per_binding_1m` (runs always): one million bindings rebuilt through `restore`,
//!   memory measured with a counting global allocator; asserts ≤ 128 bytes per binding.
//! * `memory_per_binding_1m_with_host_counters` (runs always): the same, then every mobile
//!   node renews through `handle_request` with per-host counters on (the default, which `show
//!   ip mobile host counters` needs), so each binding also has its counters; prints the figure
//!   and asserts ≤ 128 bytes per binding.
//! * `throughput_*` (ignored; run in release):
//!   `cargo test --release -p mip-ha --test perf_memory -- --ignored --nocapture`
//!   prints registrations per second through `handle_request` (HMAC-MD5 verification and
//!   signing included) and the memory per binding reached by organic growth, with per-host
//!   counters off and on.
//!
//! The allocator counts per thread, so that the memory tests, run in parallel by the test
//! harness, do not see each other's allocations.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use common::*;
use mip_ha::{BindingRecord, HaOptions, HaPolicy, HomeAgent, StoreOp};

struct Counting;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (a constant initialiser without
    /// destructor: usable from inside the allocator).
    static ALLOCATED: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: nothing to count once the thread's locals are gone.
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + delta));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Net bytes allocated by the calling thread.
fn allocated() -> isize {
    ALLOCATED.with(Cell::get)
}

const N: u32 = 1_000_000;

fn home(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + i)
}

/// 1000 care-of addresses (foreign agents), shared by the mobile nodes.
fn coa(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(70, 0, 0, 1)) + i % 1000)
}

fn big_policy() -> HaPolicy {
    let mut p = HaPolicy::default()
        .host_group_on_virtual_network(home(0), home(N + 10), a("10.0.0.0"), a("255.0.0.0"))
        .mobile_node_sa(home(0), home(N + 10), hmac_sa(0x100, VN_KEY));
    p.lifetime = 36_000;
    p
}

fn quiet_options() -> HaOptions {
    HaOptions {
        per_host_counters: false,
        ..options()
    }
}

#[test]
fn memory_per_binding_1m() {
    let mut ha = HomeAgent::with_options(big_policy(), &[ha_addr()], quiet_options());
    // The records are consumed (and freed) by `restore`: measure from before they exist.
    let before = allocated();
    let records: Vec<StoreOp> = (0..N)
        .map(|i| {
            StoreOp::PutBinding(BindingRecord {
                home_address: home(i),
                care_of_address: coa(i),
                source: SocketAddrV4::new(coa(i), 434),
                home_agent: ha_addr(),
                lifetime_granted: 36_000,
                expires_at_ms: (T0 + 36_000) * 1000 + u64::from(i),
                flags: 0,
                options: 0,
                encapsulation: 4,
                identification: u64::from(i),
                interface: None,
                nai: None,
                session_id: None,
            })
        })
        .collect();
    let report = ha.restore(records, at(0));
    while ha.poll_dataplane().is_some() {}
    while ha.poll_store().is_some() {}
    assert_eq!(report.bindings, N as usize);
    let bytes = allocated() - before;
    let per = bytes as f64 / f64::from(N);
    println!(
        "{N} bindings: {bytes} bytes allocated, {per:.1} bytes per binding (table estimate {})",
        ha.table_heap_bytes()
    );
    assert!(per <= 128.0, "{per} bytes per binding");
    assert_eq!(ha.poll_timeout(), Some(at(36_000)));
}

/// The records of `memory_per_binding_1m`.
fn binding_records() -> Vec<StoreOp> {
    (0..N)
        .map(|i| {
            StoreOp::PutBinding(BindingRecord {
                home_address: home(i),
                care_of_address: coa(i),
                source: SocketAddrV4::new(coa(i), 434),
                home_agent: ha_addr(),
                lifetime_granted: 36_000,
                expires_at_ms: (T0 + 36_000) * 1000 + u64::from(i),
                flags: 0,
                options: 0,
                encapsulation: 4,
                identification: u64::from(i),
                interface: None,
                nai: None,
                session_id: None,
            })
        })
        .collect()
}

/// Sends one request and drains the outputs; true when it was answered.
fn exchange(ha: &mut HomeAgent, source: Ipv4Addr, request: &[u8], t: u64) -> bool {
    ha.handle_request(at(t), SocketAddrV4::new(source, 434), ha_addr(), request);
    while ha.poll_store().is_some() {}
    while ha.poll_dataplane().is_some() {}
    let mut replied = false;
    while ha.poll_transmit().is_some() {
        replied = true;
    }
    replied
}

#[test]
fn memory_per_binding_1m_with_host_counters() {
    // Per-host counters on, as by default.
    let mut ha = HomeAgent::with_options(big_policy(), &[ha_addr()], options());
    let before = allocated();
    let report = ha.restore(binding_records(), at(0));
    while ha.poll_dataplane().is_some() {}
    while ha.poll_store().is_some() {}
    assert_eq!(report.bindings, N as usize);
    let without_counters = allocated() - before;
    // Every mobile node renews: each one gets its per-host counters. The requests are built
    // one at a time (and freed) so that only the home agent's growth is measured. Renewed at
    // `T`, the expiries move later (the restored ones end by 37 000 s), as in steady state:
    // the timer heap is not touched.
    const T: u64 = 1_000;
    let sa = hmac_sa(0x100, VN_KEY);
    for i in 0..N {
        let request = Request::new(home(i), coa(i), at(T), sa.clone())
            .lifetime(36_000)
            .bytes();
        assert!(exchange(&mut ha, coa(i), &request, T));
    }
    assert_eq!(ha.binding_count(), N as usize);
    assert_eq!(ha.counters().accepted, u64::from(N));
    assert_eq!(ha.host_counters_iter().count(), N as usize);
    let last = ha.host_counters(home(N - 1)).expect("counted");
    assert_eq!((last.accepted, last.last_accepted_ms), (1, (T0 + T) * 1000));
    let bytes = allocated() - before;
    let per = bytes as f64 / f64::from(N);
    println!(
        "{N} bindings with per-host counters: {bytes} bytes allocated, {per:.1} bytes per \
         binding ({:.1} without the counters; table estimate {})",
        without_counters as f64 / f64::from(N),
        ha.table_heap_bytes()
    );
    assert!(
        per <= 128.0,
        "{per} bytes per binding with per-host counters"
    );
}

fn requests(n: u32, t: u64) -> Vec<Vec<u8>> {
    let sa = hmac_sa(0x100, VN_KEY);
    (0..n)
        .map(|i| {
            Request::new(home(i), coa(i), at(t), sa.clone())
                .lifetime(36_000)
                .bytes()
        })
        .collect()
}

fn run(ha: &mut HomeAgent, reqs: &[Vec<u8>], t: u64) -> f64 {
    let start = Instant::now();
    let mut replies = 0usize;
    for (i, r) in reqs.iter().enumerate() {
        let src = SocketAddrV4::new(coa(i as u32), 434);
        ha.handle_request(at(t), src, ha_addr(), r);
        while ha.poll_store().is_some() {}
        while ha.poll_dataplane().is_some() {}
        while let Some(tx) = ha.poll_transmit() {
            replies += tx.payload.len().min(1);
        }
    }
    assert_eq!(replies, reqs.len());
    reqs.len() as f64 / start.elapsed().as_secs_f64()
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn throughput_registrations_and_renewals() {
    let n = N;
    let reqs = requests(n, 0);
    let renewals = requests(n, 5);
    let before = allocated();
    let mut ha = HomeAgent::with_options(big_policy(), &[ha_addr()], quiet_options());
    let rate = run(&mut ha, &reqs, 0);
    let bytes = allocated() - before;
    println!("new registrations: {rate:.0}/s");
    println!(
        "{} bindings by organic growth: {:.1} bytes per binding",
        ha.binding_count(),
        bytes as f64 / f64::from(n)
    );
    assert_eq!(ha.binding_count(), n as usize);
    let rate = run(&mut ha, &renewals, 5);
    println!("renewals: {rate:.0}/s");
    assert_eq!(ha.counters().accepted, 2 * u64::from(n));
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn throughput_with_host_counters() {
    // As `throughput_registrations_and_renewals`, with per-host counters on (the default):
    // every mobile node gets its record with its first registration.
    let n = N;
    let reqs = requests(n, 0);
    let renewals = requests(n, 5);
    let before = allocated();
    let mut ha = HomeAgent::with_options(big_policy(), &[ha_addr()], options());
    let rate = run(&mut ha, &reqs, 0);
    let bytes = allocated() - before;
    println!("new registrations, per-host counters on: {rate:.0}/s");
    println!(
        "{} bindings by organic growth, per-host counters on: {:.1} bytes per binding",
        ha.binding_count(),
        bytes as f64 / f64::from(n)
    );
    assert_eq!(ha.binding_count(), n as usize);
    assert_eq!(ha.host_counters_iter().count(), n as usize);
    let rate = run(&mut ha, &renewals, 5);
    println!("renewals, per-host counters on: {rate:.0}/s");
    assert_eq!(ha.counters().accepted, 2 * u64::from(n));
}
