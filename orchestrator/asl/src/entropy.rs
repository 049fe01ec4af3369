//! The only source of randomness the interpreter sees.

/// Random bits for `States.UUID`, `States.MathRandom`, FULL retry jitter and task tokens.
///
/// The interpreter owns no random number generator: the caller passes one into every
/// [`Execution::apply`](crate::Execution::apply), so tests can make executions reproducible and
/// a server can use a cryptographic source.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// A deterministic [`Entropy`] (SplitMix64) for tests and reproducible runs. Not for task tokens
/// in production: anyone who knows the seed can predict them.
#[derive(Clone, Debug)]
pub struct SeededEntropy {
    state: u64,
}

impl SeededEntropy {
    /// A generator whose sequence is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        SeededEntropy { state: seed }
    }
}

impl Entropy for SeededEntropy {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A random version-4 UUID in its canonical text form.
pub(crate) fn uuid_v4(entropy: &mut dyn Entropy) -> String {
    let high = entropy.next_u64();
    uuid_from_bits(high, entropy.next_u64())
}

/// A version-4-shaped UUID made of the given 128 bits, 6 of them overwritten by the version and
/// the variant.
pub fn uuid_from_bits(high: u64, low: u64) -> String {
    let hi = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// A uniformly distributed value in `0..bound` (`bound > 0`), without modulo bias.
pub(crate) fn below(entropy: &mut dyn Entropy, bound: u64) -> u64 {
    if bound <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let v = entropy.next_u64();
        if v < zone {
            return v % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_reproducible() {
        let a = uuid_v4(&mut SeededEntropy::new(7));
        let b = uuid_v4(&mut SeededEntropy::new(7));
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        let mut e = SeededEntropy::new(1);
        assert!((0..100).all(|_| below(&mut e, 3) < 3));
    }
}
