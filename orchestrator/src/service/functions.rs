//! Deployed task functions. The store keeps them, so a function deployed through any node runs
//! on every node; each node registers them in its own runtime, at startup, when the store
//! announces a change, and when a task names one it has not registered yet (a function deployed
//! through another node a moment ago, before its notice arrived).

use std::collections::HashSet;
use std::sync::Arc;

use stepwasm_runtime::{FunctionConfig, Runtime};
use tokio::sync::Mutex;

use super::{ErrorKind, Service, ServiceError, ServiceResult};
use crate::store::{FunctionRecord, Millis, Store};

/// A deployed function, as the functions API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDescription {
    /// Its name.
    pub name: String,
    /// The SHA-256 of its component, in hex.
    pub sha256: String,
    /// Its limits and grants.
    pub config: FunctionConfig,
    /// When it was deployed; `None` for a function registered in this process only.
    pub deployed: Option<Millis>,
}

/// Keeps this node's runtime in step with the functions in the store.
pub(crate) struct FunctionSync {
    store: Arc<dyn Store>,
    runtime: Runtime,
    /// The functions registered here from the store. The lock also puts registrations in one
    /// order, so whichever registers last read the store last: two changes announced in quick
    /// succession cannot leave the older one registered.
    from_store: Mutex<HashSet<String>>,
}

impl FunctionSync {
    pub(crate) fn new(store: Arc<dyn Store>, runtime: Runtime) -> Self {
        Self { store, runtime, from_store: Mutex::new(HashSet::new()) }
    }

    /// Whether `name` is registered here.
    pub(crate) fn is_registered(&self, name: &str) -> bool {
        self.runtime.function(name).is_some()
    }

    /// Registers the store's version of `name` here, or forgets it if the store has none.
    pub(crate) async fn sync(&self, name: &str) -> ServiceResult<()> {
        let mut from_store = self.from_store.lock().await;
        self.sync_locked(&mut from_store, name).await
    }

    async fn sync_locked(&self, from_store: &mut HashSet<String>, name: &str) -> ServiceResult<()> {
        let Some(record) = self.store.function(name).await? else {
            if from_store.remove(name) {
                self.runtime.unregister(name);
                tracing::info!(function = name, "deleted through another node: unregistered");
            }
            return Ok(());
        };
        let config = stored_config(&record)?;
        if self.runtime.function(name).is_some_and(|f| f.sha256() == record.sha256 && *f.config() == config) {
            from_store.insert(name.to_owned());
            return Ok(());
        }
        // Replaced or deleted since the first read: the notice of that change follows.
        let Some((record, component)) = self.store.function_component(name).await? else { return Ok(()) };
        let config = stored_config(&record)?;
        self.register(name, component, config).await?;
        from_store.insert(name.to_owned());
        tracing::info!(function = name, sha256 = %record.sha256, "registered from the store");
        Ok(())
    }

    /// Registers every function in the store that is not registered here as stored; with
    /// `forget_missing`, also forgets those registered from the store that it no longer has.
    /// Returns the problems of functions that could not be registered, which are skipped.
    pub(crate) async fn sync_all(&self, forget_missing: bool) -> ServiceResult<Vec<String>> {
        let mut from_store = self.from_store.lock().await;
        let stored = self.store.list_functions().await?;
        let mut problems = Vec::new();
        for record in &stored {
            if let Err(error) = self.sync_locked(&mut from_store, &record.name).await {
                problems.push(format!("{}: {}", record.name, error.message));
            }
        }
        if forget_missing {
            let kept: HashSet<&str> = stored.iter().map(|record| record.name.as_str()).collect();
            from_store.retain(|name| {
                let keep = kept.contains(name.as_str());
                if !keep {
                    self.runtime.unregister(name);
                }
                keep
            });
        }
        Ok(problems)
    }

    /// Compiles and registers on a blocking thread: compiling takes milliseconds to seconds.
    async fn register(&self, name: &str, component: Vec<u8>, config: FunctionConfig) -> ServiceResult<String> {
        let (runtime, name) = (self.runtime.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            runtime
                .register(&name, &component, config)
                .map(|function| function.sha256().to_owned())
                .map_err(|error| ServiceError::new(ErrorKind::ValidationException, error.to_string()))
        })
        .await
        .map_err(ServiceError::internal)?
    }
}

fn stored_config(record: &FunctionRecord) -> ServiceResult<FunctionConfig> {
    serde_json::from_str(&record.config).map_err(|error| {
        ServiceError::internal(format!("the stored settings of function {} cannot be read: {error}", record.name))
    })
}

fn describe(record: FunctionRecord) -> ServiceResult<FunctionDescription> {
    let config = stored_config(&record)?;
    Ok(FunctionDescription { name: record.name, sha256: record.sha256, config, deployed: Some(record.deployed) })
}

impl Service {
    /// Validates, compiles and deploys a function on every node, replacing any of its name.
    pub async fn deploy_function(
        &self,
        name: &str,
        component: Vec<u8>,
        config: FunctionConfig,
    ) -> ServiceResult<FunctionDescription> {
        let functions = &self.inner.functions;
        let mut from_store = functions.from_store.lock().await;
        // Registering first validates the component and its settings before anything is stored.
        let sha256 = functions.register(name, component.clone(), config.clone()).await?;
        let record = FunctionRecord {
            name: name.to_owned(),
            sha256,
            config: serde_json::to_string(&config).map_err(ServiceError::internal)?,
            deployed: self.inner.engine.clock().now().0,
        };
        if let Err(error) = self.inner.store.put_function(&record, &component).await {
            // Back to what the store has, which every other node runs.
            let _ = functions.sync_locked(&mut from_store, name).await;
            return Err(error.into());
        }
        from_store.insert(name.to_owned());
        tracing::info!(function = name, sha256 = %record.sha256, "deployed");
        Ok(FunctionDescription { name: record.name, sha256: record.sha256, config, deployed: Some(record.deployed) })
    }

    /// Deletes a function from every node; executions running it finish their invocations.
    pub async fn delete_function(&self, name: &str) -> ServiceResult<()> {
        let functions = &self.inner.functions;
        let mut from_store = functions.from_store.lock().await;
        let stored = self.inner.store.delete_function(name).await?;
        from_store.remove(name);
        let registered = functions.runtime.unregister(name).is_some();
        if !stored && !registered {
            return Err(function_not_found(name));
        }
        tracing::info!(function = name, "deleted");
        Ok(())
    }

    /// Every deployed function by name, with those registered in this process only.
    pub async fn functions(&self) -> ServiceResult<Vec<FunctionDescription>> {
        let mut described =
            self.inner.store.list_functions().await?.into_iter().map(describe).collect::<ServiceResult<Vec<_>>>()?;
        let stored: HashSet<String> = described.iter().map(|function| function.name.clone()).collect();
        let runtime = &self.inner.runtime;
        described.extend(
            runtime
                .function_names()
                .into_iter()
                .filter(|name| !stored.contains(name))
                .filter_map(|name| runtime.function(&name))
                .map(|function| local_description(&function)),
        );
        described.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(described)
    }

    /// One deployed function.
    pub async fn function(&self, name: &str) -> ServiceResult<FunctionDescription> {
        if let Some(record) = self.inner.store.function(name).await? {
            return describe(record);
        }
        let function = self.inner.runtime.function(name).ok_or_else(|| function_not_found(name))?;
        Ok(local_description(&function))
    }

    /// Registers what the store holds here. Called at startup; returns the problems of the
    /// functions that could not be registered.
    pub(super) async fn register_stored_functions(&self) -> ServiceResult<Vec<String>> {
        self.inner.functions.sync_all(false).await
    }
}

fn local_description(function: &stepwasm_runtime::Function) -> FunctionDescription {
    FunctionDescription {
        name: function.name().to_owned(),
        sha256: function.sha256().to_owned(),
        config: function.config().clone(),
        deployed: None,
    }
}

fn function_not_found(name: &str) -> ServiceError {
    ServiceError::new(ErrorKind::ResourceNotFound, format!("Function not found: {name}"))
}
