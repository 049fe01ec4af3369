//! Service integration bindings: put, read, list, delete, and finding the integrations a
//! definition calls that nothing binds.

use serde_json::Value;

use super::{ErrorKind, Service, ServiceError, ServiceResult};
use crate::bindings::{Binding, Integration, Source, how_to_bind, integrations_in};
use crate::store::{BindingRecord, Millis};

/// A binding, as the bindings API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingDescription {
    /// The integration it binds (`sns:publish`).
    pub integration: String,
    /// What it runs.
    pub binding: Binding,
    /// Where it was made.
    pub source: Source,
    /// When it was put through the API; `None` for a configured one.
    pub updated: Option<Millis>,
}

/// An integration a definition calls that nothing binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnboundIntegration {
    /// The JSON pointer of the Task state's `Resource`.
    pub location: String,
    /// The integration (`sns:publish`).
    pub integration: String,
}

impl UnboundIntegration {
    /// What validation says of it.
    pub fn message(&self) -> String {
        format!("Nothing binds the integration {} on this server: {}", self.integration, how_to_bind(&self.integration))
    }
}

impl Service {
    /// Binds `integration` (`sns:publish`, or a resource that calls it) to `binding`, for every
    /// node on the store. An integration the configuration file binds cannot be changed here.
    pub async fn put_binding(&self, integration: &str, binding: Binding) -> ServiceResult<BindingDescription> {
        let integration = Integration::parse_name(integration).map_err(|error| ServiceError::validation(error.0))?;
        binding.check().map_err(|error| ServiceError::validation(error.0))?;
        self.refuse_configured(&integration)?;
        let updated = self.inner.engine.clock().now().0;
        let record = BindingRecord { integration: integration.clone(), target: binding.to_json(), updated };
        self.inner.store.put_binding(&record).await?;
        Ok(BindingDescription { integration, binding, source: Source::Api, updated: Some(updated) })
    }

    /// The binding of one integration.
    pub async fn binding(&self, integration: &str) -> ServiceResult<BindingDescription> {
        let integration = Integration::parse_name(integration).map_err(|error| ServiceError::validation(error.0))?;
        if let Some(binding) = self.inner.bindings.configured().get(&integration) {
            return Ok(configured_description(&integration, binding));
        }
        let Some(record) = self.inner.store.binding(&integration).await? else {
            return Err(not_bound(&integration));
        };
        described(record)
    }

    /// Every binding: the configuration's, then the API's, each by integration. An
    /// integration both bind appears once, as the configuration binds it, since that one wins.
    pub async fn bindings(&self) -> ServiceResult<Vec<BindingDescription>> {
        let configured = self.inner.bindings.configured();
        let mut all: Vec<BindingDescription> =
            configured.iter().map(|(integration, binding)| configured_description(integration, binding)).collect();
        for record in self.inner.store.list_bindings().await? {
            if !configured.contains_key(&record.integration) {
                all.push(described(record)?);
            }
        }
        Ok(all)
    }

    /// Unbinds an integration bound through the API.
    pub async fn delete_binding(&self, integration: &str) -> ServiceResult<()> {
        let integration = Integration::parse_name(integration).map_err(|error| ServiceError::validation(error.0))?;
        self.refuse_configured(&integration)?;
        if self.inner.store.delete_binding(&integration).await? { Ok(()) } else { Err(not_bound(&integration)) }
    }

    /// The Task states of `definition` that call an integration nothing binds here.
    pub async fn unbound_integrations(&self, definition: &str) -> ServiceResult<Vec<UnboundIntegration>> {
        let Ok(document) = serde_json::from_str::<Value>(definition) else { return Ok(Vec::new()) };
        let mut unbound = Vec::new();
        for (location, integration) in integrations_in(&document) {
            if !integration.has_fallback() && self.inner.bindings.find(&integration.name).await?.is_none() {
                unbound.push(UnboundIntegration { location, integration: integration.name });
            }
        }
        Ok(unbound)
    }

    /// Logs a warning for each integration of `definition` that nothing binds, as the machine
    /// `name` is created or updated: its executions would fail there.
    pub(crate) async fn warn_of_unbound(&self, name: &str, definition: &str) {
        match self.unbound_integrations(definition).await {
            Ok(unbound) => {
                for found in unbound {
                    tracing::warn!(state_machine = name, location = %found.location, "{}", found.message());
                }
            }
            Err(error) => tracing::warn!(state_machine = name, "the bindings could not be read: {error}"),
        }
    }

    fn refuse_configured(&self, integration: &str) -> ServiceResult<()> {
        if self.inner.bindings.configured().contains_key(integration) {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                format!("{integration} is bound by the server's configuration file, which the API cannot change"),
            ));
        }
        Ok(())
    }
}

fn configured_description(integration: &str, binding: &Binding) -> BindingDescription {
    BindingDescription {
        integration: integration.to_owned(),
        binding: binding.clone(),
        source: Source::Configuration,
        updated: None,
    }
}

fn described(record: BindingRecord) -> ServiceResult<BindingDescription> {
    let binding = Binding::from_json(&record.target).map_err(|error| {
        ServiceError::new(ErrorKind::InternalFailure, format!("The stored binding of {}: {error}", record.integration))
    })?;
    Ok(BindingDescription {
        integration: record.integration,
        binding,
        source: Source::Api,
        updated: Some(record.updated),
    })
}

fn not_bound(integration: &str) -> ServiceError {
    ServiceError::new(ErrorKind::ResourceNotFound, format!("No binding for {integration}"))
}
