//! Snapshot helpers shared by the golden-file tests: compare with a file, or rewrite it when
//! `BLESS=1` is set.

use std::fs;
use std::path::Path;

pub(crate) fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Path relative to the crate, for messages.
pub(crate) fn shown(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Compares `actual` with the snapshot at `path` (`same` decides equality), or writes it when
/// blessing. `Err` describes the mismatch.
pub(crate) fn check_snapshot(path: &Path, actual: &str, same: impl Fn(&str) -> bool) -> Result<(), String> {
    let expected = fs::read_to_string(path).ok();
    if expected.as_deref().is_some_and(&same) {
        return Ok(());
    }
    if blessing() {
        return fs::write(path, actual).map_err(|e| format!("cannot write {}: {e}", shown(path)));
    }
    Err(match expected {
        None => format!("{} is missing; it would be:\n{actual}", shown(path)),
        Some(expected) => format!("{} differs.\n--- expected\n{expected}\n+++ actual\n{actual}", shown(path)),
    })
}
