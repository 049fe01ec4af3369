use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use stepwasm_runtime::{FunctionConfig, Runtime};

/// Deployed task functions on disk, so a restarted server has them again.
///
/// Each function is `<name>.wasm` and `<name>.json` (its limits) in one directory, written
/// through a temporary file and a rename so a crash never leaves half a component.
#[derive(Debug, Clone)]
pub struct FunctionDirectory {
    directory: PathBuf,
}

impl FunctionDirectory {
    /// Uses `directory`, creating it if needed.
    pub fn open(directory: &Path) -> io::Result<Self> {
        fs::create_dir_all(directory)?;
        Ok(Self { directory: directory.to_path_buf() })
    }

    /// Stores a deployed function.
    pub fn save(&self, name: &str, component: &[u8], config: &FunctionConfig) -> io::Result<()> {
        let config = serde_json::to_vec_pretty(config).map_err(io::Error::other)?;
        write_atomically(&self.directory.join(format!("{name}.json")), &config)?;
        write_atomically(&self.directory.join(format!("{name}.wasm")), component)
    }

    /// Forgets a function.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        for extension in ["wasm", "json"] {
            match fs::remove_file(self.directory.join(format!("{name}.{extension}"))) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }

    /// Registers every stored function in `runtime`; returns the names, and the problems of
    /// those that could not be registered (they are skipped, not fatal).
    pub fn load_into(&self, runtime: &Runtime) -> io::Result<(Vec<String>, Vec<String>)> {
        let (mut loaded, mut problems) = (Vec::new(), Vec::new());
        for entry in fs::read_dir(&self.directory)? {
            let path = entry?.path();
            if path.extension().and_then(|extension| extension.to_str()) != Some("wasm") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|stem| stem.to_str()).map(str::to_owned) else { continue };
            let config = fs::read(path.with_extension("json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<FunctionConfig>(&bytes).ok())
                .unwrap_or_default();
            match fs::read(&path)
                .map_err(|error| error.to_string())
                .and_then(|component| runtime.register(&name, &component, config).map_err(|error| error.to_string()))
            {
                Ok(_) => loaded.push(name),
                Err(problem) => problems.push(format!("{name}: {problem}")),
            }
        }
        loaded.sort();
        Ok((loaded, problems))
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&temporary, bytes)?;
    fs::rename(&temporary, path)
}
