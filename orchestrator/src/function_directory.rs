//! Deployed functions kept as files, as releases before the functions table kept them: each
//! was `<name>.wasm` with its settings in `<name>.json`, in the data directory's `functions`.
//! On its first start, a newer server moves them into the store.

use std::fs;
use std::io;
use std::path::Path;

use stepwasm_runtime::FunctionConfig;

use crate::service::Service;

/// What moving a function directory into the store did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MovedFunctions {
    /// The functions deployed into the store from their files, by name.
    pub deployed: Vec<String>,
    /// Functions whose files were dropped because the store had a function of that name
    /// already, deployed since (through another node, say): the store's is the newer.
    pub superseded: Vec<String>,
    /// Functions that could not be moved, with why; their files stay.
    pub problems: Vec<String>,
}

/// Deploys the functions stored as files in `directory` into `service`'s store, then removes
/// the files (and the directory, once empty). A directory that does not exist moves nothing.
pub async fn move_into_store(directory: &Path, service: &Service) -> io::Result<MovedFunctions> {
    let mut moved = MovedFunctions::default();
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(moved),
        Err(error) => return Err(error),
    };
    let mut components = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|extension| extension.to_str()) == Some("wasm")
            && let Some(name) = path.file_stem().and_then(|stem| stem.to_str())
        {
            components.push((name.to_owned(), path.clone()));
        }
    }
    components.sort();
    for (name, path) in components {
        let settings = path.with_extension("json");
        let outcome = match service.function(&name).await {
            Ok(found) if found.deployed.is_some() => Ok(false),
            _ => deploy(service, &name, &path, &settings).await.map(|()| true),
        };
        match outcome {
            Ok(deployed) => {
                for file in [&path, &settings] {
                    match fs::remove_file(file) {
                        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                        _ => {}
                    }
                }
                if deployed { moved.deployed.push(name) } else { moved.superseded.push(name) }
            }
            Err(problem) => moved.problems.push(format!("{name}: {problem}")),
        }
    }
    // Whatever else is in it (files that could not be moved) keeps it.
    let _ = fs::remove_dir(directory);
    Ok(moved)
}

async fn deploy(service: &Service, name: &str, component: &Path, settings: &Path) -> Result<(), String> {
    let component = fs::read(component).map_err(|error| format!("reading {}: {error}", component.display()))?;
    let config = match fs::read(settings) {
        Ok(bytes) => serde_json::from_slice::<FunctionConfig>(&bytes)
            .map_err(|error| format!("{} is not a function's settings: {error}", settings.display()))?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => FunctionConfig::default(),
        Err(error) => return Err(format!("reading {}: {error}", settings.display())),
    };
    service.deploy_function(name, component, config).await.map(drop).map_err(|error| error.to_string())
}
