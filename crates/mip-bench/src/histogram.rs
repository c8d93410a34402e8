//! A latency histogram with logarithmic buckets, in the manner of HdrHistogram.
//!
//! Values (nanoseconds, or any `u64`) below 256 are counted exactly. Above, each power of two
//! is split into 128 linear sub-buckets, so a recorded value is known to within 1/128 (0.8 %)
//! of itself. The whole `u64` range fits in 7 424 counters (58 KiB); recording is a few
//! integer operations and never allocates.
//!
//! Percentiles return the highest value of the bucket that holds the requested rank (as
//! HdrHistogram's "highest equivalent value"), clamped to the largest value recorded, so a
//! reported p99 is never below the true one by more than the bucket width.

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this are their own bucket.
const EXACT: u64 = SUB * 2;
/// Number of buckets: exact ones, then `SUB` per power of two from 2^(SUB_BITS+1) to 2^63.
const BUCKETS: usize = ((64 - SUB_BITS) as usize) * SUB as usize + SUB as usize;

/// See the module documentation.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .field("min", &self.min())
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

/// The bucket of `v`.
fn index(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    let mantissa = (v >> shift) - SUB;
    ((u64::from(shift) + 1) * SUB + mantissa) as usize
}

/// The lowest and highest value of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < EXACT {
        return (i, i);
    }
    let shift = i / SUB - 1;
    let mantissa = i % SUB + SUB;
    let low = mantissa << shift;
    let high = low.saturating_add((1u64 << shift) - 1);
    (low, high)
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Counts one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Counts `n` occurrences of `v`.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.counts[index(v)] += n;
        self.total += n;
        self.sum += u128::from(v) * u128::from(n);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.total = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Smallest value recorded (0 when empty).
    pub fn min(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            self.min
        }
    }

    /// Largest value recorded (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Arithmetic mean (exact; 0 when empty).
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The value at quantile `q` (0.0–1.0): the smallest bucket whose cumulative count
    /// reaches `ceil(q × count)` (at least 1), reported as that bucket's highest value and
    /// clamped to [min, max]. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (_, high) = bounds(i);
                return high.clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        let mut expected_low = 0u64;
        for i in 0..BUCKETS {
            let (low, high) = bounds(i);
            assert_eq!(low, expected_low, "bucket {i}");
            assert!(high >= low);
            assert_eq!(index(low), i);
            assert_eq!(index(high), i);
            if high == u64::MAX {
                assert_eq!(i, BUCKETS - 1);
                return;
            }
            expected_low = high + 1;
        }
        panic!("the buckets do not reach u64::MAX");
    }

    #[test]
    fn relative_error_is_below_one_percent() {
        for v in [
            300u64,
            1_000,
            12_345,
            999_999,
            5_000_000,
            1 << 40,
            u64::MAX / 3,
        ] {
            let (low, high) = bounds(index(v));
            assert!(low <= v && v <= high);
            assert!(
                (high - low) as f64 <= v as f64 / 128.0,
                "{v}: {low}..{high}"
            );
        }
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.min(), 1);
        assert_eq!(h.max(), 100);
        assert_eq!(h.quantile(0.5), 50);
        assert_eq!(h.quantile(0.99), 99);
        assert_eq!(h.quantile(0.999), 100);
        assert_eq!(h.quantile(1.0), 100);
        assert_eq!(h.quantile(0.0), 1);
        assert!((h.mean() - 50.5).abs() < 1e-9);
    }

    /// 1..=1 000 000 ns: the true p50 is 500 000, p99 990 000, p99.9 999 000.
    #[test]
    fn percentiles_of_a_uniform_range() {
        let mut h = Histogram::new();
        for v in 1..=1_000_000u64 {
            h.record(v);
        }
        for (q, truth) in [(0.5, 500_000u64), (0.99, 990_000), (0.999, 999_000)] {
            let got = h.quantile(q);
            assert!(got >= truth, "q{q}: {got} < {truth}");
            assert!(
                (got - truth) as f64 <= truth as f64 / 128.0,
                "q{q}: {got} vs {truth}"
            );
        }
        assert_eq!(h.quantile(1.0), 1_000_000);
    }

    /// 990 fast values and 10 slow ones: p99 is fast, p99.9 is slow.
    #[test]
    fn tail_is_found() {
        let mut h = Histogram::new();
        h.record_n(20_000, 990);
        h.record_n(5_000_000, 10);
        let p99 = h.quantile(0.99);
        assert!((20_000..=20_000 + 20_000 / 128).contains(&p99), "{p99}");
        assert_eq!(h.quantile(0.999), 5_000_000);
        assert_eq!(h.quantile(0.5), p99, "same bucket");
    }

    #[test]
    fn merge_and_clear() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(10);
        b.record(1_000);
        b.record(7);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.min(), 7);
        assert_eq!(a.max(), 1_000);
        a.clear();
        assert_eq!(a.count(), 0);
        assert_eq!(a.quantile(0.5), 0);
        assert_eq!(a.min(), 0);
    }
}
