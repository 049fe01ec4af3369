use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};

/// Where a function's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactSource {
    /// Compiled from the component's bytes during registration.
    Compiled,
    /// Loaded from the artifact cache, skipping compilation.
    Cached,
}

/// Compiled components on disk, so a restart does not recompile.
///
/// An artifact's file name is the SHA-256 of the component bytes and of the engine's
/// compatibility hash (wasmtime version and every setting that changes generated code), so a
/// changed component or an upgraded engine never loads stale code.
#[derive(Debug)]
pub(crate) struct ArtifactCache {
    directory: PathBuf,
    engine_fingerprint: [u8; 32],
}

impl ArtifactCache {
    pub(crate) fn open(directory: &Path, engine: &Engine) -> Result<Self> {
        fs::create_dir_all(directory).map_err(|source| Error::Cache { path: directory.to_path_buf(), source })?;
        let mut fingerprint = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut fingerprint);
        Ok(Self { directory: directory.to_path_buf(), engine_fingerprint: fingerprint.0.finalize().into() })
    }

    /// Loads the component from its cached artifact, or compiles it and stores the artifact.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        component_sha256: &str,
        wasm: &[u8],
    ) -> Result<(Component, ArtifactSource), CompileFailure> {
        let path = self.artifact_path(component_sha256);
        if path.exists() {
            // A file that no longer loads (truncated by a crash, written by another wasmtime)
            // is simply replaced below.
            if let Ok(component) = load_artifact(engine, &path) {
                return Ok((component, ArtifactSource::Cached));
            }
        }
        let component = Component::new(engine, wasm).map_err(CompileFailure::Invalid)?;
        let artifact = component.serialize().map_err(CompileFailure::Invalid)?;
        self.store(&path, &artifact).map_err(CompileFailure::Cache)?;
        Ok((component, ArtifactSource::Compiled))
    }

    pub(crate) fn artifact_path(&self, component_sha256: &str) -> PathBuf {
        let mut key = Sha256::new();
        key.update(component_sha256.as_bytes());
        key.update(self.engine_fingerprint);
        self.directory.join(format!("{}.cwasm", hex(&key.finalize())))
    }

    /// Writes through a temporary file and a rename, so a crash never leaves a torn artifact
    /// under the final name.
    fn store(&self, path: &Path, artifact: &[u8]) -> Result<()> {
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let cache_error = |source: io::Error| Error::Cache { path: path.to_path_buf(), source };
        fs::write(&temporary, artifact).map_err(cache_error)?;
        fs::rename(&temporary, path).map_err(cache_error)
    }
}

/// Why a component could not be made ready.
#[derive(Debug)]
pub(crate) enum CompileFailure {
    /// wasmtime rejected the bytes.
    Invalid(wasmtime::Error),
    /// The cache directory failed.
    Cache(Error),
}

#[allow(unsafe_code)]
fn load_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // Read into memory rather than `deserialize_file`'s mmap: a mapped artifact that is truncated
    // or rewritten underneath the process (by an operator, a full disk, another node sharing the
    // directory) kills it with SIGBUS. The copy costs about 0.1 ms, once per registration.
    let artifact = fs::read(path)?;
    // SAFETY: `deserialize` trusts the bytes to be an artifact produced by wasmtime. Only this
    // cache writes into its directory, under names derived from the engine's compatibility hash,
    // and wasmtime itself rejects artifacts of another version or configuration. The directory
    // must not be writable by anyone not trusted to run native code as this process, as the
    // documentation of `RuntimeConfig::artifact_cache` states.
    unsafe { Component::deserialize(engine, &artifact) }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Feeds `Hash` output into SHA-256, for a fingerprint that is stable across processes.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        // Never called: the digest is read from the inner state.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
