//! A map from IPv4 addresses (as `u32`) to small `Copy` values, for the lookups on the request
//! path: the binding index (home address → mobile node record) and the security associations
//! by home address.
//!
//! Open addressing with linear probing in one array of `(key, value)` entries: a lookup reads
//! the entry where the key's hash points and, usually, nothing past that cache line. A
//! general-purpose table (hashbrown) keeps its control bytes and its entries in two places,
//! so a lookup in a table too big for the caches misses twice, one miss after the other; at a
//! million bindings that second miss was the largest cost of a renewal after the
//! authenticators.
//!
//! * Key 0 marks an empty entry; the key 0.0.0.0 itself is kept aside.
//! * The hash is keyed: simple tabulation hashing (one table of 256 random 64-bit words per
//!   byte of the address, the four words xored; the top bits pick the entry), with tables
//!   drawn from a per-instance secret ([`AddrHasher::new`]; the home agent derives it from
//!   [`crate::HaOptions::nonce_seed`], which the daemon fills from the system's random
//!   source). Some keys come from outside (the Home Address field of requests, looked up on
//!   every request; the home addresses of bindings and per-host counters): without the
//!   secret, nobody can choose addresses that land on the same entries and make long runs.
//!   Simple tabulation also keeps linear probing at O(1) expected probes whatever the key set
//!   (Pătraşcu and Thorup, "The power of simple tabulation hashing"), consecutive addresses,
//!   the usual way home addresses are handed out, included. The tables (8 KiB) are shared by
//!   the maps of one home agent and stay in the L1 cache.
//! * At most 3/4 full (the capacity doubles beyond), so an entry is found within a few probes
//!   and a missing key soon meets an empty entry. With a million addresses that is 2^21
//!   entries, the same bucket count as hashbrown and fewer bytes (no control bytes).
//! * Removal shifts the entries that follow back into the hole (no tombstones), so lookups
//!   never slow down with churn.

use std::sync::{Arc, OnceLock};

/// The key of [`AddrHasher::default`] (maps built without a secret: tests, and the policy's
/// maps before the home agent gives them its own).
const DEFAULT_KEY: [u8; 16] = *b"mip-ha/addrmap/0";

/// The keyed hash of an [`AddrMap`]: the tables of simple tabulation hashing, drawn from a
/// 128-bit secret. Cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct AddrHasher(Arc<[[u64; 256]; 4]>);

impl AddrHasher {
    /// The tables for `key` (a secret: whoever knows it can choose colliding addresses).
    pub(crate) fn new(key: [u8; 16]) -> Self {
        let mut k = [0u8; 8];
        k.copy_from_slice(&key[..8]);
        let k0 = u64::from_le_bytes(k);
        k.copy_from_slice(&key[8..]);
        let k1 = u64::from_le_bytes(k);
        // SplitMix64 (Steele, Lea, Flood) from k0, its output whitened with k1 and mixed again:
        // every word depends on the whole key.
        let mut state = k0;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state ^ k1;
            for _ in 0..2 {
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
            }
            z
        };
        let mut tables = [[0u64; 256]; 4];
        for word in tables.iter_mut().flatten() {
            *word = next();
        }
        AddrHasher(Arc::new(tables))
    }

    /// The 64-bit hash of an address.
    #[inline]
    fn hash(&self, key: u32) -> u64 {
        let [b0, b1, b2, b3] = key.to_le_bytes();
        let t = &*self.0;
        t[0][usize::from(b0)]
            ^ t[1][usize::from(b1)]
            ^ t[2][usize::from(b2)]
            ^ t[3][usize::from(b3)]
    }
}

impl Default for AddrHasher {
    /// The tables of a fixed, public key.
    fn default() -> Self {
        static DEFAULT: OnceLock<AddrHasher> = OnceLock::new();
        DEFAULT.get_or_init(|| AddrHasher::new(DEFAULT_KEY)).clone()
    }
}

impl std::fmt::Debug for AddrHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddrHasher(..)")
    }
}
/// Smallest non-empty capacity.
const MIN_CAPACITY: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Entry<V> {
    /// 0 = empty.
    key: u32,
    value: V,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct AddrMap<V> {
    /// Empty, or a power-of-two number of entries.
    entries: Vec<Entry<V>>,
    /// `64 - log2(entries.len())`.
    shift: u32,
    /// Entries in use (not counting `zero`).
    used: usize,
    /// The value of key 0.
    zero: Option<V>,
    hasher: AddrHasher,
}

impl<V> Default for AddrMap<V> {
    /// An empty map with the default (unkeyed) hash: for tests and configured keys only.
    fn default() -> Self {
        Self::with_hasher(AddrHasher::default())
    }
}

impl<V> AddrMap<V> {
    /// An empty map hashing with `hasher`.
    pub(crate) fn with_hasher(hasher: AddrHasher) -> Self {
        AddrMap {
            entries: Vec::new(),
            shift: 64,
            used: 0,
            zero: None,
            hasher,
        }
    }

    /// The map's hash (for a new map keyed the same way).
    pub(crate) fn hasher(&self) -> &AddrHasher {
        &self.hasher
    }
}

/// Entries needed to hold `n` keys at most 3/4 full.
fn capacity_for(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    n.saturating_mul(4)
        .div_ceil(3)
        .max(MIN_CAPACITY)
        .next_power_of_two()
}

impl<V: Copy + Default> AddrMap<V> {
    /// Number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.used + usize::from(self.zero.is_some())
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated (for memory reports).
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry<V>>()
    }

    /// Every key and its value (key 0 first, then in entry order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &V)> + '_ {
        self.zero.iter().map(|v| (0, v)).chain(
            self.entries
                .iter()
                .filter(|e| e.key != 0)
                .map(|e| (e.key, &e.value)),
        )
    }

    #[inline]
    fn home_of(&self, key: u32) -> usize {
        (self.hasher.hash(key) >> self.shift) as usize
    }

    /// Where `key` (not 0) is, or the empty entry where it would go.
    #[inline]
    fn probe(&self, key: u32) -> Result<usize, usize> {
        let mask = self.entries.len() - 1;
        let mut i = self.home_of(key);
        loop {
            let k = self.entries[i].key;
            if k == key {
                return Ok(i);
            }
            if k == 0 {
                return Err(i);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn find(&self, key: u32) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        self.probe(key).ok()
    }

    /// Reads the entry where a lookup of `key` starts, so that the lookup itself finds it in
    /// the cache: a batch touches every key first, and the misses of the whole batch overlap
    /// instead of following one another (safe code has no prefetch instruction; a load whose
    /// value nothing waits for does the same on an out-of-order CPU).
    #[inline]
    pub(crate) fn touch(&self, key: u32) {
        if key != 0 && !self.entries.is_empty() {
            std::hint::black_box(self.entries[self.home_of(key)].key);
        }
    }

    pub(crate) fn get(&self, key: u32) -> Option<&V> {
        if key == 0 {
            return self.zero.as_ref();
        }
        self.find(key).map(|i| &self.entries[i].value)
    }

    pub(crate) fn get_mut(&mut self, key: u32) -> Option<&mut V> {
        if key == 0 {
            return self.zero.as_mut();
        }
        self.find(key).map(|i| &mut self.entries[i].value)
    }

    /// The value of `key`, inserted with `make()` when missing.
    pub(crate) fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> V) -> &mut V {
        if key == 0 {
            return self.zero.get_or_insert_with(make);
        }
        if let Some(i) = self.find(key) {
            return &mut self.entries[i].value;
        }
        if capacity_for(self.used + 1) > self.entries.len() {
            self.resize(capacity_for(self.used + 1).max(self.entries.len() * 2));
        }
        let Err(i) = self.probe(key) else {
            unreachable!("the key was not in the map")
        };
        self.entries[i] = Entry { key, value: make() };
        self.used += 1;
        &mut self.entries[i].value
    }

    /// Sets the value of `key`; returns the previous one.
    pub(crate) fn insert(&mut self, key: u32, value: V) -> Option<V> {
        if let Some(v) = self.get_mut(key) {
            return Some(std::mem::replace(v, value));
        }
        self.get_or_insert_with(key, || value);
        None
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove(&mut self, key: u32) -> Option<V> {
        if key == 0 {
            return self.zero.take();
        }
        let hole = self.find(key)?;
        let value = self.entries[hole].value;
        // Shift back the entries of the run that follows and may live in the hole.
        let mask = self.entries.len() - 1;
        let mut hole = hole;
        let mut j = (hole + 1) & mask;
        loop {
            let k = self.entries[j].key;
            if k == 0 {
                break;
            }
            let home = self.home_of(k);
            // The entry at j may move to the hole when its home is not after the hole (in
            // probe order): its distance from home is at least the hole's distance to j.
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.entries[hole] = self.entries[j];
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.entries[hole].key = 0;
        self.used -= 1;
        Some(value)
    }

    /// Room for `additional` more keys without growing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let want = capacity_for(self.used.saturating_add(additional));
        if want > self.entries.len() {
            self.resize(want);
        }
    }

    fn resize(&mut self, capacity: usize) {
        let empty = Entry {
            key: 0,
            value: V::default(),
        };
        let old = std::mem::replace(&mut self.entries, vec![empty; capacity]);
        self.shift = 64 - capacity.trailing_zeros();
        let mask = capacity - 1;
        for e in old.into_iter().filter(|e| e.key != 0) {
            let mut i = self.home_of(e.key);
            while self.entries[i].key != 0 {
                i = (i + 1) & mask;
            }
            self.entries[i] = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A small deterministic generator (xorshift), to drive the map and a reference map.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn check(m: &AddrMap<u32>, reference: &HashMap<u32, u32>) {
        assert_eq!(m.len(), reference.len());
        for (&k, &v) in reference {
            assert_eq!(m.get(k), Some(&v), "key {k:#x}");
        }
        // Every stored entry is reachable from its home without crossing an empty entry.
        for (i, e) in m.entries.iter().enumerate() {
            if e.key != 0 {
                assert_eq!(m.find(e.key), Some(i));
            }
        }
    }

    #[test]
    fn agrees_with_a_hash_map_under_churn() {
        // Narrow key spaces make long runs and many wrap-arounds; key 0 is included.
        for (seed, space) in [(1u64, 64u64), (7, 1000), (99, 1 << 20), (5, 1 << 32)] {
            let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
            let mut m = AddrMap::<u32>::default();
            let mut reference = HashMap::new();
            for step in 0..20_000u32 {
                let key = (rng.next() % space) as u32;
                match rng.next() % 4 {
                    0 | 1 => assert_eq!(m.insert(key, step), reference.insert(key, step)),
                    2 => assert_eq!(m.remove(key), reference.remove(&key)),
                    _ => {
                        let v = m.get_or_insert_with(key, || step);
                        *v = v.wrapping_add(1);
                        let r = reference.entry(key).or_insert(step);
                        *r = r.wrapping_add(1);
                    }
                }
                assert_eq!(m.get(key), reference.get(&key));
                if step % 1000 == 0 {
                    check(&m, &reference);
                }
            }
            check(&m, &reference);
            let keys: Vec<u32> = reference.keys().copied().collect();
            for k in keys {
                assert_eq!(m.remove(k), reference.remove(&k));
            }
            assert!(m.is_empty());
            assert!(m.entries.iter().all(|e| e.key == 0));
        }
    }

    /// The longest distance of an entry from where its hash points.
    fn max_displacement<V: Copy + Default>(m: &AddrMap<V>) -> usize {
        let mask = m.entries.len() - 1;
        m.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key != 0)
            .map(|(i, e)| i.wrapping_sub(m.home_of(e.key)) & mask)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn keyed_hash_spreads_addresses_chosen_to_collide_under_another_key() {
        // 500 addresses that all land on entry 0 of a 1024-entry map under the public key:
        // someone who knows the key could choose them.
        let public = AddrHasher::default();
        let colliding: Vec<u32> = (1u32..)
            .filter(|&k| public.hash(k) >> (64 - 10) == 0)
            .take(500)
            .collect();
        let mut exposed = AddrMap::<u32>::with_hasher(public);
        let mut keyed = AddrMap::<u32>::with_hasher(AddrHasher::new(*b"a secret key 128"));
        for (m, map) in [&mut exposed, &mut keyed].into_iter().enumerate() {
            map.reserve(colliding.len());
            assert_eq!(map.entries.len(), 1024, "map {m}");
            for &k in &colliding {
                map.insert(k, k);
            }
        }
        // One run of 500 under the key they were chosen for; short runs under another.
        assert_eq!(max_displacement(&exposed), 499);
        assert!(
            max_displacement(&keyed) < 40,
            "{}",
            max_displacement(&keyed)
        );
        for &k in &colliding {
            assert_eq!(keyed.get(k), Some(&k));
        }
        // The same key gives the same tables; another key, others.
        let a = AddrHasher::new([7; 16]);
        let b = AddrHasher::new([7; 16]);
        let c = AddrHasher::new([8; 16]);
        assert!((1..1000).all(|k| a.hash(k) == b.hash(k)));
        assert!((1..1000).filter(|&k| a.hash(k) == c.hash(k)).count() == 0);
    }

    #[test]
    fn iter_lists_every_key_once() {
        let mut m = AddrMap::<u32>::default();
        for k in [0, 5, 0x0a00_0001, u32::MAX] {
            m.insert(k, k ^ 1);
        }
        m.remove(5);
        let mut listed: Vec<(u32, u32)> = m.iter().map(|(k, v)| (k, *v)).collect();
        listed.sort_unstable();
        assert_eq!(
            listed,
            vec![(0, 1), (0x0a00_0001, 0x0a00_0000), (u32::MAX, u32::MAX - 1)]
        );
    }

    #[test]
    fn consecutive_addresses_and_reserve() {
        let mut m = AddrMap::<u32>::default();
        m.reserve(1000);
        let cap = m.entries.len();
        assert_eq!(cap, 2048);
        for k in 1..=1000u32 {
            assert_eq!(m.insert(0x0a00_0000 + k, k), None);
        }
        assert_eq!(m.entries.len(), cap, "reserve made room");
        assert_eq!(m.allocated_bytes(), cap * 8);
        for k in 1..=1000u32 {
            assert_eq!(m.get(0x0a00_0000 + k), Some(&k));
        }
        assert_eq!(m.get(0x0a00_0000), None);
        assert_eq!(m.get(0), None);
        assert_eq!(m.insert(0, 5), None);
        assert_eq!(m.get(0), Some(&5));
        assert_eq!(m.len(), 1001);
    }
}
