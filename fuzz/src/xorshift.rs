//! Deterministic pseudo-random numbers for the stable-Rust corpus tests that run the fuzz
//! properties (`crates/mip-wire/tests/corpus.rs`, `crates/mip-io/tests/offload_corpus.rs`
//! include this file). Not part of the fuzz crate's library.

/// xorshift64 (Marsaglia 2003): tiny, deterministic, good enough for inputs.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 would stay 0: it becomes 1).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next() >> 32) as u8
    }

    pub fn u16(&mut self) -> u16 {
        (self.next() >> 24) as u16
    }

    pub fn u32(&mut self) -> u32 {
        (self.next() >> 16) as u32
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}
