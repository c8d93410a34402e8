//! The agent's only source of randomness: xorshift64* stepped from a seed the caller gives
//! ([`FaOptions::seed`](crate::FaOptions::seed)). Used for advertisement jitter (RFC 1256
//! §5.1) and FA challenges (RFC 3012 §3); the daemon seeds it from the system's random source,
//! tests from a constant so that runs repeat.

#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `[lo, hi]` (bounds swapped if given the wrong way round).
    pub(crate) fn in_range(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + self.next_u64() % (span + 1)
    }

    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_be_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_repeatability() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            let v = a.in_range(7000, 10000);
            assert!((7000..=10000).contains(&v));
            assert_eq!(v, b.in_range(7000, 10000));
        }
        assert_eq!(Rng::new(0).in_range(5, 5), 5);
        let mut buf = [0u8; 13];
        Rng::new(1).fill(&mut buf);
        assert!(buf.iter().any(|&x| x != 0));
    }
}
