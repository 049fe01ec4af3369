//! Ids derived from content.
//!
//! A step may run more than once: the workflow retries it, or an operator redrives a failed
//! execution. If each run minted a random id, a retried authorization would charge twice and a
//! retried email would arrive twice. Deriving every id from the order instead makes the second
//! run produce the *same* id, which the downstream system (the card processor, the mail service)
//! can recognise as a duplicate. Real services ask for exactly this as an "idempotency key".

/// A 64-bit fingerprint of a sequence of fields: FNV-1a, finished with SplitMix64's mixer.
///
/// Not cryptographic: anyone can compute it, so it must never stand in for a secret (the task
/// tokens of the approval workflow come from the engine, not from here). FNV-1a is a few lines
/// and has no dependency; the final mix spreads its weak low bits, which matters because
/// callers take the fingerprint modulo small numbers.
///
/// ```
/// use order_model::Fingerprint;
///
/// let id = Fingerprint::new("reservation").text("ord-1000").hex();
/// assert_eq!(id.len(), 16);
/// // Fields are separated, so moving a character between them changes the result.
/// let split = |a: &str, b: &str| Fingerprint::new("x").text(a).text(b).finish();
/// assert_ne!(split("ab", "c"), split("a", "bc"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint {
    state: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Fingerprint {
    /// Starts a fingerprint for one kind of id. The kind keeps ids of different kinds apart:
    /// a refund and a reservation for the same order must not share an id.
    pub fn new(kind: &str) -> Self {
        Self { state: FNV_OFFSET }.text(kind)
    }

    /// Adds a text field.
    pub fn text(mut self, field: &str) -> Self {
        for byte in field.bytes() {
            self.state = (self.state ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        // 0xFF never occurs in UTF-8, so it separates fields unambiguously.
        self.state = (self.state ^ 0xff).wrapping_mul(FNV_PRIME);
        self
    }

    /// Adds a number field.
    pub fn number(self, field: u64) -> Self {
        self.text(&field.to_string())
    }

    /// The 64-bit fingerprint.
    pub fn finish(&self) -> u64 {
        mix(self.state)
    }

    /// The fingerprint as 16 lower-case hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.finish())
    }

    /// A UUID-shaped id (`8-4-4-4-12` hex digits), as SES and SNS use for message ids.
    ///
    /// Marked as version 8, which RFC 9562 reserves for custom, vendor-specific UUIDs: that is
    /// what a hash-derived id is, and it cannot collide with a random (version 4) one.
    pub fn uuid(&self) -> String {
        let high = self.finish();
        let low = mix(high ^ self.state.rotate_left(32));
        let high = (high & !0xf000) | 0x8000; // version 8 in bits 48–51 of the UUID
        let low = (low & !(0b11 << 62)) | (0b10 << 62); // the RFC variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        )
    }
}

/// SplitMix64's finaliser: every input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_fields_same_id_different_fields_different_id() {
        let a = Fingerprint::new("auth").text("ord-1").number(100);
        assert_eq!(a.hex(), Fingerprint::new("auth").text("ord-1").number(100).hex());
        assert_ne!(a.hex(), Fingerprint::new("auth").text("ord-1").number(101).hex());
        assert_ne!(a.hex(), Fingerprint::new("refund").text("ord-1").number(100).hex());
    }

    #[test]
    fn uuids_have_the_right_shape_version_and_variant() {
        let uuid = Fingerprint::new("email").text("ord-1").uuid();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(groups[2].starts_with('8'), "version 8: {uuid}");
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "RFC variant: {uuid}");
    }

    #[test]
    fn low_bits_are_spread() {
        // Consecutive order ids must not all land in the same bucket of `% 4`.
        let buckets: std::collections::BTreeSet<u64> =
            (0..16).map(|n| Fingerprint::new("x").text(&format!("ord-{n}")).finish() % 4).collect();
        assert_eq!(buckets.len(), 4);
    }
}
