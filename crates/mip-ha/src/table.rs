//! The mobility binding table (RFC 5944 §3.8.1): bindings, the tunnels they share, and the
//! expiry timers. Sized for a million bindings.
//!
//! # Layout and memory
//!
//! * `slots: Chunked<Slot>`: one 64-byte [`Slot`] per binding (free slots are reused through
//!   a free list), in chunks of 4096 (see [`crate::chunked`]: no power-of-two slack, no copy
//!   as the table grows). The care-of address and home agent address are not stored in the
//!   slot: they are the endpoints of the binding's tunnel.
//! * `by_home: AddrMap<Node>`: home address to the mobile node's record: its first binding
//!   (the other simultaneous bindings of the same mobile node are chained through
//!   `Slot::next`) and its per-host counters. 12 bytes per entry, at most 3/4 full; one cache
//!   miss per lookup in a cold table (see [`crate::addrmap`]). A record without bindings stays
//!   while it holds counters (they outlive the bindings, as on the router).
//! * `hosts`: the per-host counters (`show ip mobile host counters`), one 21-byte
//!   [`HostRecord`] per mobile node counted (counts saturate at `u32::MAX`, times are whole
//!   seconds in a `u32`; [`HostRecord::snapshot`] gives operators the wider
//!   [`HostCounters`]), found through the mobile node's record: the request path reaches
//!   them with the lookup it does anyway for the bindings, not a map of their own. Kept in
//!   chunks of 4096 records, as the slots. The home address
//!   of a record is not stored: the listing finds it in `by_home` (each record has exactly one
//!   entry there, whose `counters` is the record's index, the order in which they were first
//!   counted).
//! * `timers: BinaryHeap<Timer>`: 16 bytes per binding. Exactly one live entry per binding:
//!   a renewal that pushes the expiry later does not touch the heap (O(1)); the stale entry
//!   is re-armed in place at the binding's current expiry when its old deadline comes ("lazy
//!   deletion": one sift-down, no pop and push, once per lifetime at most). `deadline_hint`
//!   (what the daemon waits for) is the top as it stands: O(1), never later than the true
//!   earliest expiry; `next_deadline` settles the top first and is exact.
//! * `tunnels`: one 16-byte entry per distinct (home agent, care-of address, encapsulation)
//!   plus its index; shared by every binding with the same endpoints and removed with the
//!   last one (seed 002: "Tunnels are shared by mobile nodes registered with the same
//!   endpoints").
//!
//! With 1 000 000 bindings the slots take 64.2 MB (245 chunks), the index 25.2 MB (2^21
//! entries), the heap 16 MB (16.8 MB grown one registration at a time, at the Vec's
//! power-of-two capacity): 105.5 bytes per binding restored (`restore` reserves the heap),
//! 106.3 grown, without per-host counters; with them (one record per mobile node) 21 bytes
//! more: 126.5 and 127.3. The tests `memory_per_binding_1m` and
//! `memory_per_binding_1m_with_host_counters` measure it with a counting allocator (the
//! throughput benchmarks print the figures by growth). Tunnels add ~45 bytes per binding only when every binding has its own
//! care-of address (co-located care-of addresses); behind foreign agents they are shared.

use std::cmp::Reverse;
use std::collections::binary_heap::{BinaryHeap, PeekMut};
use std::net::Ipv4Addr;

use crate::addrmap::{AddrHasher, AddrMap};
use crate::chunked::Chunked;
use crate::policy::FxMap;
use crate::snapshot::HostCounters;

/// "No slot" in the `next`, `nai` and free-list links.
pub(crate) const NIL: u32 = u32::MAX;
/// "No interface": a virtual-network home (no ARP).
pub(crate) const NO_INTERFACE: u16 = u16::MAX;
/// Expiry of a binding granted the infinite lifetime (0xffff, RFC 5944 §3.3).
pub(crate) const NEVER: u64 = u64::MAX;

/// Granted routing options, in `Slot::options`.
pub(crate) mod opt {
    /// Broadcast datagrams forwarded (B granted).
    pub const BROADCAST: u8 = 0x01;
    /// Decapsulation by the mobile node (D).
    pub const DIRECT: u8 = 0x02;
    /// Reverse tunnel (T granted).
    pub const REVERSE: u8 = 0x04;
    /// Replay state holds a timestamp (`Slot::replay` is the last accepted identification).
    pub const REPLAY_TS: u8 = 0x10;
    /// Replay state holds a nonce (`Slot::replay` low 32 bits is the issued nonce).
    pub const REPLAY_NONCE: u8 = 0x20;
    /// The routing-option bits (not the replay bits).
    pub const ROUTING: u8 = 0x0f;
}

/// One binding. 64 bytes.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    /// Home address (0 = free slot).
    pub home: u32,
    /// Source address of the last accepted request.
    pub src_addr: u32,
    /// Source port of the last accepted request.
    pub src_port: u16,
    /// Lifetime granted, seconds.
    pub lifetime: u16,
    /// The tunnel (index into the tunnel slab).
    pub tunnel: u32,
    /// Next binding of the same mobile node, or the next free slot.
    pub next: u32,
    /// NAI session (index into the session slab), or NIL.
    pub nai: u32,
    /// Generation of the slot, bumped on every reuse (timers of a freed slot die).
    pub gen: u32,
    /// Home interface (interned), or NO_INTERFACE.
    pub iface: u16,
    /// Flags byte of the last accepted request.
    pub flags: u8,
    /// Granted options and replay kind (`opt`).
    pub options: u8,
    /// Expiry, ms since the Unix epoch (NEVER for infinite).
    pub expiry: u64,
    /// Deadline of this binding's one live timer entry.
    pub timer_at: u64,
    /// Identification of the last accepted request.
    pub ident: u64,
    /// Replay state of the mobile node (kept in its first binding, see `opt::REPLAY_*`).
    pub replay: u64,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 64);

/// A tunnel shared by bindings with the same endpoints and encapsulation. 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tunnel {
    pub src: u32,
    pub dst: u32,
    /// Bindings using it (0 = free entry).
    pub refs: u32,
    pub encap: u8,
}

/// A mobile node's record in `Table::by_home`. 8 bytes.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// First binding, or NIL (the record then only holds counters).
    head: u32,
    /// Per-host counters (index into `Table::hosts`), or NIL.
    counters: u32,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            head: NIL,
            counters: NIL,
        }
    }
}

/// The per-host counters of one mobile node as kept: 21 bytes (packed; fields are only read
/// and written by value). [`HostCounters`] is what operators see.
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HostRecord {
    /// Accepted registrations (saturating).
    pub accepted: u32,
    /// Denied registrations (saturating).
    pub denied: u32,
    /// Security violations (saturating).
    pub violations: u32,
    /// When the last registration was accepted, whole seconds since the Unix epoch, 0 for
    /// never.
    pub last_accepted_s: u32,
    /// When the last registration was denied, as `last_accepted_s`.
    pub last_denied_s: u32,
    /// Code of the last denial.
    pub last_code: u8,
}

const _: () = assert!(std::mem::size_of::<HostRecord>() == 21);

/// Whole seconds of a time in ms since the Unix epoch, as kept in a [`HostRecord`] (the
/// largest value from 2106 on).
fn host_secs(ms: u64) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

impl HostRecord {
    /// Counts an accepted registration at `now_ms`.
    pub(crate) fn count_accepted(&mut self, now_ms: u64) {
        self.accepted = self.accepted.saturating_add(1);
        self.last_accepted_s = host_secs(now_ms);
    }

    /// Counts a denial with `code` at `now_ms`, and a security violation if `violation`.
    pub(crate) fn count_denied(&mut self, now_ms: u64, code: u8, violation: bool) {
        self.denied = self.denied.saturating_add(1);
        self.last_denied_s = host_secs(now_ms);
        self.last_code = code;
        if violation {
            self.violations = self.violations.saturating_add(1);
        }
    }

    /// As operators see it (times in ms, to the second).
    pub(crate) fn snapshot(&self) -> HostCounters {
        HostCounters {
            accepted: self.accepted,
            last_accepted_ms: u64::from(self.last_accepted_s) * 1000,
            denied: self.denied,
            last_denied_ms: u64::from(self.last_denied_s) * 1000,
            last_code: self.last_code,
            violations: self.violations,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    deadline: u64,
    slot: u32,
    gen: u32,
}

/// What a new binding is made of.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewBinding {
    pub home: u32,
    pub coa: u32,
    pub ha: u32,
    pub encap: u8,
    pub src_addr: u32,
    pub src_port: u16,
    pub lifetime: u16,
    pub expiry: u64,
    pub flags: u8,
    pub options: u8,
    pub ident: u64,
    pub iface: u16,
    pub nai: u32,
}

/// Result of taking a tunnel reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TunnelRef {
    pub id: u32,
    /// The tunnel did not exist before (the data plane must create it).
    pub created: bool,
}

#[derive(Default)]
pub(crate) struct Table {
    slots: Chunked<Slot>,
    free: u32,
    by_home: AddrMap<Node>,
    hosts: Chunked<HostRecord>,
    timers: BinaryHeap<Reverse<Timer>>,
    tunnels: Vec<Tunnel>,
    tunnel_free: Vec<u32>,
    tunnel_index: FxMap<(u64, u8), u32>,
    len: usize,
}

impl Table {
    /// A table whose home address index hashes with the default (public) key.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_hasher(AddrHasher::default())
    }

    /// A table whose home address index hashes with `hasher` (a per-instance secret).
    pub(crate) fn with_hasher(hasher: AddrHasher) -> Self {
        Table {
            free: NIL,
            by_home: AddrMap::with_hasher(hasher),
            ..Table::default()
        }
    }

    /// Reserves room for `n` more bindings.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
        self.by_home.reserve(n);
        self.timers.reserve(n);
    }

    /// Number of bindings.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of live tunnels.
    pub(crate) fn tunnel_count(&self) -> usize {
        self.tunnel_index.len()
    }

    pub(crate) fn slot(&self, i: u32) -> &Slot {
        &self.slots[i as usize]
    }

    pub(crate) fn slot_mut(&mut self, i: u32) -> &mut Slot {
        &mut self.slots[i as usize]
    }

    pub(crate) fn tunnel(&self, id: u32) -> &Tunnel {
        &self.tunnels[id as usize]
    }

    /// Every live tunnel id.
    pub(crate) fn tunnel_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.tunnels
            .iter()
            .enumerate()
            .filter(|(_, t)| t.refs > 0)
            .map(|(i, _)| i as u32)
    }

    /// The care-of address of a binding.
    pub(crate) fn coa(&self, i: u32) -> u32 {
        self.tunnels[self.slots[i as usize].tunnel as usize].dst
    }

    /// First stage of a batch warm-up: the index entry of `home`.
    pub(crate) fn touch_index(&self, home: u32) {
        self.by_home.touch(home);
    }

    /// Second stage (the index entry is cached by now): the first binding and the per-host
    /// counters of `home`.
    pub(crate) fn touch_records(&self, home: u32) {
        if let Some(n) = self.by_home.get(home) {
            if let Some(slot) = self.slots.get(n.head as usize) {
                std::hint::black_box(slot.home);
            }
            if let Some(h) = self.hosts.get(n.counters as usize) {
                std::hint::black_box(h);
            }
        }
    }

    /// First binding of the mobile node with this home address.
    pub(crate) fn head(&self, home: u32) -> Option<u32> {
        match self.by_home.get(home) {
            Some(n) if n.head != NIL => Some(n.head),
            _ => None,
        }
    }

    /// The bindings of a mobile node, first one first.
    pub(crate) fn chain(&self, home: u32) -> ChainIter<'_> {
        self.chain_from(self.head(home))
    }

    /// The bindings of a chain whose first binding (`head`) is known.
    pub(crate) fn chain_from(&self, head: Option<u32>) -> ChainIter<'_> {
        ChainIter {
            table: self,
            at: head.unwrap_or(NIL),
        }
    }

    /// The per-host counters of a home address, if it has any.
    pub(crate) fn host_counters(&self, home: u32) -> Option<&HostRecord> {
        let n = self.by_home.get(home)?;
        self.hosts.get(n.counters as usize)
    }

    /// The per-host counters of a home address, created (zero) when it has none.
    pub(crate) fn host_counters_mut(&mut self, home: u32) -> &mut HostRecord {
        let node = self.by_home.get_or_insert_with(home, Node::default);
        if node.counters == NIL {
            node.counters = self.hosts.push(HostRecord::default()) as u32;
        }
        let i = node.counters as usize;
        &mut self.hosts[i]
    }

    /// The home address of every per-host counters record, by record index.
    fn host_homes(&self) -> Vec<u32> {
        let mut homes = vec![0; self.hosts.len()];
        for (home, n) in self.by_home.iter() {
            if let Some(h) = homes.get_mut(n.counters as usize) {
                *h = home;
            }
        }
        homes
    }

    /// Every home address with per-host counters, in the order they were first counted.
    pub(crate) fn host_counters_iter(&self) -> impl Iterator<Item = (u32, HostCounters)> + '_ {
        self.host_homes()
            .into_iter()
            .zip(self.hosts.iter())
            .map(|(home, r)| (home, r.snapshot()))
    }

    /// Live bindings, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.home != 0)
            .map(|(i, _)| i as u32)
    }

    fn take_tunnel(&mut self, src: u32, dst: u32, encap: u8) -> TunnelRef {
        let key = ((u64::from(src) << 32) | u64::from(dst), encap);
        if let Some(&id) = self.tunnel_index.get(&key) {
            self.tunnels[id as usize].refs += 1;
            return TunnelRef { id, created: false };
        }
        let t = Tunnel {
            src,
            dst,
            refs: 1,
            encap,
        };
        let id = match self.tunnel_free.pop() {
            Some(id) => {
                self.tunnels[id as usize] = t;
                id
            }
            None => {
                self.tunnels.push(t);
                (self.tunnels.len() - 1) as u32
            }
        };
        self.tunnel_index.insert(key, id);
        TunnelRef { id, created: true }
    }

    /// Drops a tunnel reference; true when it was the last (the data plane must remove it).
    fn put_tunnel(&mut self, id: u32) -> bool {
        let t = &mut self.tunnels[id as usize];
        t.refs = t.refs.saturating_sub(1);
        if t.refs > 0 {
            return false;
        }
        let key = ((u64::from(t.src) << 32) | u64::from(t.dst), t.encap);
        self.tunnel_index.remove(&key);
        self.tunnel_free.push(id);
        true
    }

    /// Adds a binding at the end of its mobile node's chain. Returns the slot and the tunnel
    /// reference taken.
    pub(crate) fn insert(&mut self, b: NewBinding) -> (u32, TunnelRef) {
        let tunnel = self.take_tunnel(b.ha, b.coa, b.encap);
        let slot = Slot {
            home: b.home,
            src_addr: b.src_addr,
            src_port: b.src_port,
            lifetime: b.lifetime,
            tunnel: tunnel.id,
            next: NIL,
            nai: b.nai,
            gen: 0,
            iface: b.iface,
            flags: b.flags,
            options: b.options & opt::ROUTING,
            expiry: b.expiry,
            timer_at: b.expiry,
            ident: b.ident,
            replay: 0,
        };
        let i = if self.free != NIL {
            let i = self.free;
            let s = &mut self.slots[i as usize];
            self.free = s.next;
            let gen = s.gen.wrapping_add(1);
            *s = Slot { gen, ..slot };
            i
        } else {
            self.slots.push(slot) as u32
        };
        let node = self.by_home.get_or_insert_with(b.home, Node::default);
        if node.head == NIL {
            node.head = i;
        } else {
            let mut at = node.head;
            loop {
                let next = self.slots[at as usize].next;
                if next == NIL {
                    self.slots[at as usize].next = i;
                    break;
                }
                at = next;
            }
        }
        if b.expiry != NEVER {
            let gen = self.slots[i as usize].gen;
            self.timers.push(Reverse(Timer {
                deadline: b.expiry,
                slot: i,
                gen,
            }));
        }
        self.len += 1;
        (i, tunnel)
    }

    /// Moves a binding to another tunnel (new care-of address, home agent address or
    /// encapsulation). Returns the new reference and whether the old tunnel was released for
    /// good, with its id.
    pub(crate) fn retunnel(
        &mut self,
        i: u32,
        ha: u32,
        coa: u32,
        encap: u8,
    ) -> (TunnelRef, u32, bool) {
        let new = self.take_tunnel(ha, coa, encap);
        let old = self.slots[i as usize].tunnel;
        self.slots[i as usize].tunnel = new.id;
        let last = self.put_tunnel(old);
        (new, old, last)
    }

    /// Sets a new expiry (renewal). The heap is touched only when the expiry moves earlier
    /// than the live timer entry.
    pub(crate) fn set_expiry(&mut self, i: u32, expiry: u64) {
        let s = &mut self.slots[i as usize];
        s.expiry = expiry;
        if expiry == NEVER {
            // The live entry (if any) will find the binding unexpired and not re-arm.
            return;
        }
        if s.timer_at == NEVER || expiry < s.timer_at {
            s.timer_at = expiry;
            let gen = s.gen;
            self.timers.push(Reverse(Timer {
                deadline: expiry,
                slot: i,
                gen,
            }));
        }
    }

    /// Removes a binding. Returns its tunnel id and whether the tunnel was released.
    pub(crate) fn remove(&mut self, i: u32) -> (u32, bool) {
        let (home, next, tunnel) = {
            let s = &self.slots[i as usize];
            (s.home, s.next, s.tunnel)
        };
        // Unlink from the mobile node's chain.
        match self.by_home.get(home).copied() {
            Some(n) if n.head == i => {
                if next == NIL {
                    // The record stays while it holds counters.
                    if n.counters == NIL {
                        self.by_home.remove(home);
                    } else if let Some(n) = self.by_home.get_mut(home) {
                        n.head = NIL;
                    }
                } else {
                    // The replay state lives in the first binding: hand it on.
                    let (replay, kind) = {
                        let s = &self.slots[i as usize];
                        (s.replay, s.options & (opt::REPLAY_TS | opt::REPLAY_NONCE))
                    };
                    let n = &mut self.slots[next as usize];
                    n.replay = replay;
                    n.options = (n.options & opt::ROUTING) | kind;
                    if let Some(n) = self.by_home.get_mut(home) {
                        n.head = next;
                    }
                }
            }
            Some(Node { head: mut at, .. }) => {
                while at != NIL {
                    let n = self.slots[at as usize].next;
                    if n == i {
                        self.slots[at as usize].next = next;
                        break;
                    }
                    at = n;
                }
            }
            None => {}
        }
        let released = self.put_tunnel(tunnel);
        let s = &mut self.slots[i as usize];
        s.home = 0;
        s.nai = NIL;
        s.next = self.free;
        s.timer_at = NEVER;
        s.gen = s.gen.wrapping_add(1);
        self.free = i;
        self.len -= 1;
        (tunnel, released)
    }

    /// Settles the heap top while its deadline is at or before `limit`: dead entries are
    /// dropped, renewed ones re-armed in place at their binding's expiry. Afterwards the top
    /// is live and exact, or later than `limit`, or the heap is empty.
    fn settle_through(&mut self, limit: u64) {
        while let Some(mut top) = self.timers.peek_mut() {
            let t = top.0;
            if t.deadline > limit {
                return;
            }
            let s = &mut self.slots[t.slot as usize];
            let live = s.home != 0 && s.gen == t.gen && s.timer_at == t.deadline;
            if !live {
                PeekMut::pop(top);
                continue;
            }
            if s.expiry == t.deadline {
                return;
            }
            if s.expiry == NEVER {
                s.timer_at = NEVER;
                PeekMut::pop(top);
                continue;
            }
            // Renewed since: re-arm at the real expiry, in place (the entry sinks when `top`
            // is dropped).
            s.timer_at = s.expiry;
            top.0.deadline = s.expiry;
        }
    }

    /// The earliest expiry, exact (settles the whole top of the heap).
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        self.settle_through(u64::MAX);
        self.timers.peek().map(|Reverse(t)| t.deadline)
    }

    /// The heap top's deadline without settling it: no later than [`Table::next_deadline`]
    /// (a renewed binding's old expiry may still be on top), and O(1) without touching the
    /// heap. A caller that wakes at this time and finds nothing due lets `pop_expired`
    /// re-arm the renewed entries that came due, each once per lifetime.
    pub(crate) fn deadline_hint(&self) -> Option<u64> {
        self.timers.peek().map(|Reverse(t)| t.deadline)
    }

    /// A binding whose expiry is at or before `now`, if any. Only entries due at `now` are
    /// settled: a renewal costs the heap nothing until its old expiry comes.
    pub(crate) fn pop_expired(&mut self, now: u64) -> Option<u32> {
        self.settle_through(now);
        match self.timers.peek_mut() {
            Some(top) if top.0.deadline <= now => {
                let Reverse(t) = PeekMut::pop(top);
                self.slots[t.slot as usize].timer_at = NEVER;
                Some(t.slot)
            }
            _ => None,
        }
    }

    /// Removes every binding (the tunnels too). The per-host counters stay.
    pub(crate) fn clear(&mut self) {
        let host_homes = self.host_homes();
        let hosts = std::mem::take(&mut self.hosts);
        *self = Table::with_hasher(self.by_home.hasher().clone());
        self.by_home.reserve(host_homes.len());
        for (i, &home) in host_homes.iter().enumerate() {
            self.by_home.insert(
                home,
                Node {
                    head: NIL,
                    counters: i as u32,
                },
            );
        }
        self.hosts = hosts;
    }

    /// Bytes the table's own allocations take (capacity, not length), for reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        let map = |cap: usize, entry: usize| {
            if cap == 0 {
                0
            } else {
                // hashbrown: buckets = next_power_of_two(cap * 8 / 7), one control byte each.
                let buckets = (cap * 8 / 7).next_power_of_two();
                buckets * (entry + 1)
            }
        };
        self.slots.allocated_bytes()
            + self.by_home.allocated_bytes()
            + self.hosts.allocated_bytes()
            + self.timers.capacity() * std::mem::size_of::<Timer>()
            + self.tunnels.capacity() * std::mem::size_of::<Tunnel>()
            + map(self.tunnel_index.capacity(), 24)
    }
}

/// Iterator over the bindings of one mobile node.
pub(crate) struct ChainIter<'a> {
    table: &'a Table,
    at: u32,
}

impl Iterator for ChainIter<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.at == NIL {
            return None;
        }
        let i = self.at;
        self.at = self.table.slots[i as usize].next;
        Some(i)
    }
}

/// Addresses as u32 and back.
pub(crate) fn ip(a: u32) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nb(home: u32, coa: u32, expiry: u64) -> NewBinding {
        NewBinding {
            home,
            coa,
            ha: 1,
            encap: 4,
            src_addr: coa,
            src_port: 434,
            lifetime: 10,
            expiry,
            flags: 0,
            options: 0,
            ident: 0,
            iface: NO_INTERFACE,
            nai: NIL,
        }
    }

    #[test]
    fn tunnels_are_shared_and_released_with_the_last_binding() {
        let mut t = Table::new();
        let (a, ta) = t.insert(nb(10, 100, 1000));
        let (b, tb) = t.insert(nb(11, 100, 1000));
        assert!(ta.created && !tb.created && ta.id == tb.id);
        assert_eq!(t.tunnel_count(), 1);
        assert_eq!(t.remove(a), (ta.id, false));
        assert_eq!(t.remove(b), (ta.id, true));
        assert_eq!(t.tunnel_count(), 0);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn chains_keep_order_and_hand_on_replay() {
        let mut t = Table::new();
        let (a, _) = t.insert(nb(10, 100, 1000));
        let (b, _) = t.insert(nb(10, 101, 1000));
        let (c, _) = t.insert(nb(10, 102, 1000));
        t.slot_mut(a).replay = 77;
        t.slot_mut(a).options |= opt::REPLAY_TS;
        assert_eq!(t.chain(10).collect::<Vec<_>>(), vec![a, b, c]);
        t.remove(b);
        assert_eq!(t.chain(10).collect::<Vec<_>>(), vec![a, c]);
        t.remove(a);
        assert_eq!(t.chain(10).collect::<Vec<_>>(), vec![c]);
        assert_eq!(t.slot(c).replay, 77);
        assert_eq!(t.slot(c).options & opt::REPLAY_TS, opt::REPLAY_TS);
    }

    #[test]
    fn timers_lazy_renewal_and_exact_deadline() {
        let mut t = Table::new();
        let (a, _) = t.insert(nb(10, 100, 1000));
        let (b, _) = t.insert(nb(11, 100, 2000));
        assert_eq!(t.next_deadline(), Some(1000));
        t.set_expiry(a, 3000); // later: no push
        assert_eq!(t.next_deadline(), Some(2000));
        assert_eq!(t.pop_expired(1999), None);
        assert_eq!(t.pop_expired(2000), Some(b));
        t.remove(b);
        assert_eq!(t.next_deadline(), Some(3000));
        t.set_expiry(a, 500); // earlier: push
        assert_eq!(t.next_deadline(), Some(500));
        assert_eq!(t.pop_expired(500), Some(a));
        t.remove(a);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn host_counters_outlive_bindings_and_clear() {
        let mut t = Table::new();
        t.host_counters_mut(10).accepted = 1;
        let (a, _) = t.insert(nb(10, 100, 1000));
        let (b, _) = t.insert(nb(10, 101, 1000));
        t.host_counters_mut(10).accepted += 1;
        t.host_counters_mut(11).denied = 1;
        assert_eq!(t.chain(10).collect::<Vec<_>>(), vec![a, b]);
        t.remove(a);
        t.remove(b);
        assert_eq!(t.head(10), None);
        assert_eq!(t.chain(10).count(), 0);
        assert_eq!(t.host_counters(10).map(|c| c.accepted), Some(2));
        // A new binding takes the record again.
        let (c, _) = t.insert(nb(10, 102, 1000));
        assert_eq!(t.head(10), Some(c));
        t.clear();
        assert_eq!((t.len(), t.head(10)), (0, None));
        let list: Vec<(u32, u32, u32)> = t
            .host_counters_iter()
            .map(|(h, c)| (h, c.accepted, c.denied))
            .collect();
        assert_eq!(list, vec![(10, 2, 0), (11, 0, 1)]);
        assert_eq!(t.host_counters(12), None);
        // Without counters the record goes with the last binding.
        let (d, _) = t.insert(nb(12, 100, 1000));
        t.remove(d);
        assert_eq!(t.by_home.get(12).map(|n| n.head), None);
    }

    #[test]
    fn host_records_are_compact_saturate_and_keep_seconds() {
        let mut r = HostRecord {
            accepted: u32::MAX - 1,
            ..HostRecord::default()
        };
        r.count_accepted(1_700_000_000_999);
        r.count_accepted(1_700_000_001_000);
        r.count_denied(1_700_000_002_500, 131, true);
        r.count_denied(1_700_000_003_000, 133, false);
        let c = r.snapshot();
        assert_eq!(
            (c.accepted, c.last_accepted_ms),
            (u32::MAX, 1_700_000_001_000)
        );
        assert_eq!(
            (c.denied, c.last_denied_ms, c.last_code, c.violations),
            (2, 1_700_000_003_000, 133, 1)
        );
        // Milliseconds are dropped; past 2106 the time stays at the largest value.
        r.count_accepted(1_700_000_004_321);
        assert_eq!(r.snapshot().last_accepted_ms, 1_700_000_004_000);
        r.count_accepted(u64::MAX);
        assert_eq!(r.snapshot().last_accepted_ms, u64::from(u32::MAX) * 1000);
        assert_eq!(HostRecord::default().snapshot(), HostCounters::default());
    }

    #[test]
    fn deadline_hint_is_early_never_late_and_renewals_cost_nothing_until_due() {
        let mut t = Table::new();
        let (a, _) = t.insert(nb(10, 100, 1000));
        let (b, _) = t.insert(nb(11, 100, 2000));
        t.set_expiry(a, 3000);
        // The hint is the renewed binding's old expiry: early, never late.
        assert_eq!(t.deadline_hint(), Some(1000));
        // Nothing due before 1000: the heap is not touched (the stale entry stays on top).
        assert_eq!(t.pop_expired(999), None);
        assert_eq!(t.deadline_hint(), Some(1000));
        // At 1000 the stale entry is re-armed at 3000; b (2000) is now first.
        assert_eq!(t.pop_expired(1000), None);
        assert_eq!(t.deadline_hint(), Some(2000));
        assert_eq!(t.pop_expired(2500), Some(b));
        t.remove(b);
        assert_eq!(t.pop_expired(2999), None);
        assert_eq!(t.pop_expired(3000), Some(a));
        t.remove(a);
        assert_eq!(t.deadline_hint(), None);
        // Renewed to never: the old entry dies when it comes due.
        let (c, _) = t.insert(nb(12, 100, 500));
        t.set_expiry(c, NEVER);
        assert_eq!(t.pop_expired(10_000), None);
        assert_eq!(t.deadline_hint(), None);
    }

    #[test]
    fn freed_slots_are_reused_and_old_timers_die() {
        let mut t = Table::new();
        let (a, _) = t.insert(nb(10, 100, 1000));
        t.remove(a);
        let (b, _) = t.insert(nb(12, 100, 5000));
        assert_eq!(a, b);
        assert_eq!(t.next_deadline(), Some(5000));
        assert_eq!(t.pop_expired(1000), None);
    }
}
