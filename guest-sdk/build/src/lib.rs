//! Build stepwasm task functions into WebAssembly components from a Cargo build script.
//!
//! A host crate that ships or tests task functions (the sample pipeline, test fixtures) needs the
//! guest crates compiled for `wasm32-wasip2` whenever it is built. This crate runs that nested
//! `cargo build` the way wasmtime's `test-programs` do: with its own target directory, so it never
//! waits on the outer build's lock, and with the outer build's compiler flags removed, since they
//! are meant for the host.
//!
//! # Core concepts
//!
//! - [`GuestBuild`]: which guest packages to build, with which profile.
//! - [`Component`]: one built component, its package name and the path of its `.wasm` file.
//!
//! ```no_run
//! // build.rs
//! let components = stepwasm_guest_build::GuestBuild::new(["validate-payment"]).build();
//! for component in &components {
//!     println!("cargo:rustc-env=WASM_{}={}", component.const_name(), component.path.display());
//! }
//! ```

#![warn(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every task function is built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// A set of guest packages to compile into components.
#[derive(Debug, Clone)]
pub struct GuestBuild {
    packages: Vec<String>,
    profile: String,
}

/// One compiled component.
#[derive(Debug, Clone)]
pub struct Component {
    /// The Cargo package name, which is also the function's default deployment name.
    pub package: String,
    /// The built `.wasm` component.
    pub path: PathBuf,
}

impl Component {
    /// The package name as a Rust constant name: `validate-payment` becomes `VALIDATE_PAYMENT`.
    pub fn const_name(&self) -> String {
        self.package.replace('-', "_").to_uppercase()
    }
}

impl GuestBuild {
    /// Builds `packages` (workspace members with a `cdylib` target) with the `guest` profile,
    /// which optimises for size.
    pub fn new<I, S>(packages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { packages: packages.into_iter().map(Into::into).collect(), profile: "guest".into() }
    }

    /// Uses another Cargo profile than `guest`.
    pub fn profile(&mut self, profile: &str) -> &mut Self {
        self.profile = profile.into();
        self
    }

    /// Runs the build and returns the components in the order the packages were given.
    ///
    /// # Panics
    ///
    /// Panics with Cargo's exit status when the build fails. This is meant to be called from a
    /// build script, where a panic is how a failure is reported.
    pub fn build(&self) -> Vec<Component> {
        let workspace = workspace_root();
        let target_dir = guest_target_dir(&workspace);
        for package in &self.packages {
            println!("cargo:rerun-if-changed={}", package_dir(&workspace, package).display());
        }
        println!("cargo:rerun-if-changed={}", workspace.join("guest-sdk/src").display());
        println!("cargo:rerun-if-changed={}", workspace.join("runtime/wit").display());
        // The guest profile and the dependency versions live in the workspace manifest and lock.
        println!("cargo:rerun-if-changed={}", workspace.join("Cargo.toml").display());
        println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());

        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(&workspace)
            .arg("build")
            .arg("--target")
            .arg(GUEST_TARGET)
            .arg("--profile")
            .arg(&self.profile)
            .arg("--target-dir")
            .arg(&target_dir);
        for package in &self.packages {
            command.arg("-p").arg(package);
        }
        // These describe the host build; passed through, they would rebuild the guests for the
        // wrong target or with host-only flags.
        for variable in [
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTC_WORKSPACE_WRAPPER",
            "CARGO_PROFILE_RELEASE_DEBUG",
        ] {
            command.env_remove(variable);
        }
        let status = command.status().expect("cargo could not be started for the guest build");
        assert!(status.success(), "building the guest components failed: {status}");

        let output_dir = target_dir.join(GUEST_TARGET).join(&self.profile);
        self.packages
            .iter()
            .map(|package| Component {
                package: package.clone(),
                path: output_dir.join(format!("{}.wasm", package.replace('-', "_"))),
            })
            .collect()
    }
}

/// The workspace root: the nearest ancestor of the calling crate whose manifest has `[workspace]`.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("run from a build script"));
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// A target directory beside the host's, shared by every build script, so guests compile once.
fn guest_target_dir(workspace: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out; the host target dir is 4 levels up.
    env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .and_then(|out| out.ancestors().nth(4).map(Path::to_path_buf))
        .unwrap_or_else(|| workspace.join("target"))
        .join("guests")
}

/// Where a package's sources live, found by its manifest's `name`, for change tracking.
fn package_dir(workspace: &Path, package: &str) -> PathBuf {
    for parent in ["functions", "functions/conformance", "tests/guests"] {
        let dir = workspace.join(parent).join(package);
        if dir.join("Cargo.toml").exists() {
            return dir;
        }
    }
    workspace.to_path_buf()
}
