//! End-to-end tests of stepwasm live in `all/`; this library only names the guest fixtures that
//! the build script compiled for them.

/// Paths of the compiled fixture components.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}
