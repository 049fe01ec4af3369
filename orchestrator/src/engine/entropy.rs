use stepwasm_asl::Entropy;

/// Randomness from the operating system, for task tokens, `States.UUID` and retry jitter.
///
/// Task tokens are bearer credentials for `SendTaskSuccess`, so they must be unguessable; a
/// seeded generator is only for tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        // The OS generator only fails when the process has no entropy source at all (a broken
        // sandbox); a time-derived value then keeps the engine running, with weaker tokens.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
            return (nanos as u64).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
        }
        u64::from_le_bytes(bytes)
    }
}

/// A random (version 4) UUID, as AWS names executions started without a name.
pub fn random_uuid() -> String {
    let mut entropy = SystemEntropy;
    stepwasm_asl::uuid_from_bits(entropy.next_u64(), entropy.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_version_4_shape_and_differ() {
        let (first, second) = (random_uuid(), random_uuid());
        assert_ne!(first, second);
        let groups: Vec<&str> = first.split('-').collect();
        assert_eq!(groups.iter().map(|group| group.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{first}");
        assert!(groups[2].starts_with('4'), "{first}");
        assert!(matches!(groups[3].chars().next(), Some('8' | '9' | 'a' | 'b')), "{first}");
    }
}
