//! The seeder's randomness: one fixed generator, and the skewed choice of tested techniques.
use uuid::Uuid;

/// SplitMix64: tiny, fast and fixed, so a seed means the same data in every version (a
/// library generator may change its stream between releases).
#[derive(Clone)]
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights.
    pub(super) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut draw = self.below(total.max(1) as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if draw < *w {
                return i;
            }
            draw -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Seconds, log-uniform between `lo` and `hi`: most waits are short, some are long.
    pub(super) fn wait(&mut self, lo: i64, hi: i64) -> i64 {
        let (l, h) = ((lo.max(1) as f64).ln(), (hi.max(2) as f64).ln());
        (l + (h - l) * self.unit()).exp() as i64
    }

    pub(super) fn uuid(&mut self) -> Uuid {
        let high = u128::from(self.next_u64()) << 64;
        let bytes = (high | u128::from(self.next_u64())).to_le_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Two different values of `items` (at least two): an edit that changes something.
    pub(super) fn change<T: Copy>(&mut self, items: &[T]) -> (T, T) {
        let old = self.below(items.len());
        let new = (old + 1 + self.below(items.len() - 1)) % items.len();
        (items[old], items[new])
    }

    pub(super) fn sha256_hex(&mut self) -> String {
        (0..4)
            .map(|_| format!("{:016x}", self.next_u64()))
            .collect()
    }
}

/// Picks tested techniques with a Zipf-like skew: a few are tested again and again, many a
/// handful of times, as in a real programme.
pub(super) struct Picker {
    order: Vec<usize>,
    cumulative: Vec<f64>,
}

impl Picker {
    pub(super) fn new(order: Vec<usize>) -> Self {
        let mut total = 0.0;
        let cumulative = (0..order.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0);
                total
            })
            .collect();
        Self { order, cumulative }
    }

    pub(super) fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let draw = rng.unit() * total;
        let i = self
            .cumulative
            .partition_point(|c| *c <= draw)
            .min(self.order.len().saturating_sub(1));
        self.order[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let x = a.below(10);
            assert!(x < 10);
            b.below(10);
            let w = a.wait(60, 3600);
            b.wait(60, 3600);
            assert!((59..=3600).contains(&w));
        }
        assert_eq!(Rng(1).uuid(), Rng(1).uuid());
        assert_eq!(Rng(1).uuid().get_version_num(), 4);
    }

    #[test]
    fn weights_are_respected() {
        let mut rng = Rng(3);
        let mut counts = [0; 3];
        for _ in 0..10_000 {
            counts[rng.weighted(&[0, 25, 75])] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[2] > counts[1] * 2);
    }
}
