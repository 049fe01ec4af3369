//! Builds the guest fixtures the end-to-end tests run, and names each with a constant.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use stepwasm_guest_build::GuestBuild;

/// Every fixture guest, each a workspace package under `tests/guests/`.
const FIXTURES: &[&str] = &["misbehave", "outbound"];

fn main() {
    let components = GuestBuild::new(FIXTURES.iter().copied()).build();
    let mut generated = String::new();
    for component in &components {
        writeln!(
            generated,
            "/// The `{}` fixture component.\npub const {}: &str = {:?};",
            component.package,
            component.const_name(),
            component.path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("fixtures.rs"), generated).expect("OUT_DIR is writable");
}
