//! Memory per binding and throughput.
//!
//! * `memory_per_binding_1m` (runs always): one million bindings rebuilt through `restore`,
//!   memory measured with a counting global allocator; asserts ≤ 128 bytes per binding.
//! * `throughput_*` (ignored; run in release):
//!   `cargo test --release -p mip-ha --test perf_memory -- --ignored --nocapture`
//!   prints registrations per second through `handle_request` (HMAC-MD5 verification and
//!   signing included) and the memory per binding reached by organic growth.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use common::*;
use mip_ha::{BindingRecord, HaOptions, HaPolicy, HomeAgent, StoreOp};

struct Counting;

static ALLOCATED: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated() -> isize {
    ALLOCATED.load(Ordering::Relaxed)
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
