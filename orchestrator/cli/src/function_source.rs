//! Where the function a command names comes from: a component file, or a sample built in.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// Where a task function's component comes from.
#[derive(Debug, Clone)]
pub(crate) enum FunctionSource {
    /// A `.wasm` component on disk, named after its file stem.
    File {
        /// The name derived from the file.
        name: String,
        /// The component file.
        path: PathBuf,
    },
    /// One of the sample pipeline's functions, built into the binary.
    Sample(stepwasm_functions::SampleFunction),
}

impl FunctionSource {
    /// Resolves `reference`: an existing file path (or anything ending in `.wasm`) is a file,
    /// anything else must name a sample function.
    pub(crate) fn resolve(reference: &str) -> Result<Self> {
        let path = Path::new(reference);
        if path.is_file() || reference.ends_with(".wasm") {
            let stem = path.file_stem().map(|stem| stem.to_string_lossy()).unwrap_or(Cow::Borrowed("function"));
            // File stems use '_' where package names use '-'; either is a valid function name.
            let name = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
            return Ok(Self::File { name, path: path.to_path_buf() });
        }
        match stepwasm_functions::find(reference) {
            Some(sample) => Ok(Self::Sample(sample)),
            None => {
                let samples: Vec<&str> = stepwasm_functions::ALL.iter().map(|function| function.name).collect();
                bail!("`{reference}` is neither a .wasm file nor a sample function (samples: {})", samples.join(", "))
            }
        }
    }

    /// The name the function is registered under.
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::File { name, .. } => name,
            Self::Sample(sample) => sample.name,
        }
    }

    /// The component's bytes.
    pub(crate) fn component(&self) -> Result<Cow<'static, [u8]>> {
        match self {
            Self::File { path, .. } => {
                let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                Ok(Cow::Owned(bytes))
            }
            Self::Sample(sample) => Ok(Cow::Borrowed(sample.component)),
        }
    }
}
