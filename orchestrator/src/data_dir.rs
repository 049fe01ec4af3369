use std::env;
use std::path::{Path, PathBuf};

/// Where stepwasm keeps what must survive a restart.
///
/// Chosen, in order, from an explicit path, the `STEPWASM_DATA_DIR` environment variable,
/// `$XDG_DATA_HOME/stepwasm`, `~/.local/share/stepwasm`, and `./.stepwasm` as a last resort.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Uses `explicit` if given, otherwise the first of the usual locations.
    pub fn locate(explicit: Option<&Path>) -> Self {
        let root = explicit
            .map(Path::to_path_buf)
            .or_else(|| env::var_os("STEPWASM_DATA_DIR").map(PathBuf::from))
            .or_else(|| env::var_os("XDG_DATA_HOME").map(|dir| PathBuf::from(dir).join("stepwasm")))
            .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/stepwasm")))
            .unwrap_or_else(|| PathBuf::from(".stepwasm"));
        Self { root }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Compiled Wasm artifacts, keyed by component hash and engine settings.
    pub fn artifacts(&self) -> PathBuf {
        self.root.join("artifacts")
    }
}
