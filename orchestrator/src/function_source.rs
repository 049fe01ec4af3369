use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where a task function's component comes from.
#[derive(Debug, Clone)]
pub enum FunctionSource {
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
    pub fn resolve(reference: &str) -> Result<Self> {
        let path = Path::new(reference);
        if path.is_file() || reference.ends_with(".wasm") {
            let stem = path.file_stem().map(|stem| stem.to_string_lossy()).unwrap_or(Cow::Borrowed("function"));
            // File stems use '_' where package names use '-'; either is a valid function name.
            let name = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
            return Ok(Self::File { name, path: path.to_path_buf() });
        }
        stepwasm_functions::find(reference)
            .map(Self::Sample)
            .ok_or_else(|| Error::UnknownFunction(reference.to_owned()))
    }

    /// The name the function is registered under.
    pub fn name(&self) -> &str {
        match self {
            Self::File { name, .. } => name,
            Self::Sample(sample) => sample.name,
        }
    }

    /// The component's bytes.
    pub fn component(&self) -> Result<Cow<'static, [u8]>> {
        match self {
            Self::File { path, .. } => {
                std::fs::read(path).map(Cow::Owned).map_err(|source| Error::Io { path: path.clone(), source })
            }
            Self::Sample(sample) => Ok(Cow::Borrowed(sample.component)),
        }
    }
}
