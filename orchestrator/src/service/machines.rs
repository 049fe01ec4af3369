//! State machines: create, describe, update, delete, list, validate; tags.

use std::collections::BTreeMap;

use super::compiled;
use serde_json::Value;

use super::error::{ErrorKind, ServiceError};
use super::names::{Listing, check_name, check_role_arn, state_machine_arn, state_machine_name};
use super::{Service, ServiceResult};
use crate::store::{MachineType, StateMachineRecord};

/// DescribeStateMachine's answer.
#[derive(Debug, Clone)]
pub struct StateMachineDescription {
    /// The stored record.
    pub record: StateMachineRecord,
}

/// ValidateStateMachineDefinition's answer.
#[derive(Debug, Clone)]
pub struct ValidationReport {
    /// `(code, location, message)` of each problem, at most `max_results`.
    pub diagnostics: Vec<(String, String, String)>,
    /// `(code, location, message)` of each warning (integrations nothing binds here), after
    /// the problems and within the same `max_results`.
    pub warnings: Vec<(String, String, String)>,
    /// Whether more problems were found than returned.
    pub truncated: bool,
}

impl Service {
    /// CreateStateMachine. Idempotent: the same name with the same definition and role returns
    /// the existing machine; anything else under that name is `StateMachineAlreadyExists`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        machine_type: MachineType,
        tags: &BTreeMap<String, String>,
        logging_configuration: Value,
        tracing_configuration: Value,
    ) -> ServiceResult<StateMachineRecord> {
        check_name(name)?;
        check_role_arn(role_arn)?;
        self.inner.machines.get(definition)?;
        check_express(definition, machine_type)?;
        let arn = state_machine_arn(name);
        let now = self.inner.engine.clock().now().0;
        let record = StateMachineRecord {
            arn: arn.clone(),
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            machine_type,
            created: now,
            updated: now,
            revision_id: revision_id(definition, role_arn),
            logging_configuration,
            tracing_configuration,
        };
        if !self.inner.store.create_state_machine(&record).await? {
            let existing = self
                .inner
                .store
                .state_machine(&arn)
                .await?
                .ok_or_else(|| ServiceError::internal("a state machine vanished while being created"))?;
            if existing.definition == definition
                && existing.role_arn == role_arn
                && existing.machine_type == machine_type
            {
                return Ok(existing);
            }
            return Err(ServiceError::new(
                ErrorKind::StateMachineAlreadyExists,
                format!("State Machine Already Exists: '{arn}'"),
            ));
        }
        if !tags.is_empty() {
            self.inner.store.tag_resource(&arn, tags).await?;
        }
        self.warn_of_unbound(name, definition).await;
        Ok(record)
    }

    /// DescribeStateMachine.
    pub async fn describe_state_machine(&self, arn: &str) -> ServiceResult<StateMachineRecord> {
        state_machine_name(arn)?;
        self.inner.store.state_machine(arn).await?.ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))
    }

    /// UpdateStateMachine: a new definition and/or role; running executions keep theirs.
    pub async fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
        logging_configuration: Option<Value>,
        tracing_configuration: Option<Value>,
    ) -> ServiceResult<StateMachineRecord> {
        if definition.is_none()
            && role_arn.is_none()
            && logging_configuration.is_none()
            && tracing_configuration.is_none()
        {
            return Err(ServiceError::new(
                ErrorKind::MissingRequiredParameter,
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        let mut record = self.describe_state_machine(arn).await?;
        let before = record.clone();
        if let Some(definition) = definition {
            self.inner.machines.get(definition)?;
            check_express(definition, record.machine_type)?;
            record.definition = definition.to_owned();
        }
        if let Some(role_arn) = role_arn {
            check_role_arn(role_arn)?;
            record.role_arn = role_arn.to_owned();
        }
        if let Some(logging) = logging_configuration {
            record.logging_configuration = logging;
        }
        if let Some(tracing) = tracing_configuration {
            record.tracing_configuration = tracing;
        }
        if record == before {
            // Nothing changed: the revision stays, so publishing it again finds its version.
            return Ok(record);
        }
        // Never equal to the creation date: that is how `INITIAL` knows a machine never changed.
        record.updated = self.inner.engine.clock().now().0.max(record.created + 1);
        record.revision_id = next_revision_id(&before.revision_id, &record);
        if !self.inner.store.update_state_machine(&record).await? {
            return Err(ServiceError::state_machine_does_not_exist(arn));
        }
        if definition.is_some() {
            self.warn_of_unbound(&record.name, &record.definition).await;
        }
        Ok(record)
    }

    /// DeleteStateMachine. An unknown ARN is not an error, as on AWS; executions stay readable.
    pub async fn delete_state_machine(&self, arn: &str) -> ServiceResult<()> {
        state_machine_name(arn)?;
        self.inner.store.delete_state_machine(arn).await?;
        Ok(())
    }

    /// ListStateMachines, by name.
    pub async fn list_state_machines(
        &self,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<StateMachineRecord>, Option<String>)> {
        let listing = Listing::new("state-machines");
        let page = listing.request(max_results, next_token, false)?;
        let page = self.inner.store.list_state_machines(&page).await?;
        Ok((page.items, listing.next_token(page.next)))
    }

    /// ValidateStateMachineDefinition.
    pub async fn validate_definition(
        &self,
        definition: &str,
        max_results: Option<i64>,
    ) -> ServiceResult<ValidationReport> {
        let limit = match max_results {
            None | Some(0) => 100,
            Some(n @ 1..=100) => usize::try_from(n).unwrap_or(100),
            Some(n) => {
                return Err(ServiceError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
                )));
            }
        };
        let diagnostics = stepwasm_asl::validate(definition);
        let unbound = self.unbound_integrations(definition).await?;
        let truncated = diagnostics.len() + unbound.len() > limit;
        let diagnostics: Vec<_> = diagnostics
            .into_iter()
            .take(limit)
            .map(|diagnostic| (diagnostic.code, diagnostic.location, diagnostic.message))
            .collect();
        let warnings = unbound
            .into_iter()
            .take(limit - diagnostics.len())
            .map(|found| (crate::bindings::UNBOUND_WARNING.to_owned(), found.location.clone(), found.message()))
            .collect();
        Ok(ValidationReport { diagnostics, warnings, truncated })
    }

    /// The graph of a stored definition (a machine's or an execution's), for the console: states
    /// with qualified ids, types and transitions.
    pub fn graph_of(&self, definition: &str) -> ServiceResult<Value> {
        Ok(self.inner.machines.get(definition)?.describe())
    }

    /// The graph of a definition being edited; compiled each time and not kept, since every
    /// keystroke sends another one.
    pub fn draft_graph(&self, definition: &str) -> ServiceResult<Value> {
        Ok(compiled::compile(definition)?.describe())
    }

    /// TagResource.
    pub async fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> ServiceResult<()> {
        self.require_taggable(arn).await?;
        self.inner.store.tag_resource(arn, tags).await?;
        Ok(())
    }

    /// UntagResource.
    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> ServiceResult<()> {
        self.require_taggable(arn).await?;
        self.inner.store.untag_resource(arn, keys).await?;
        Ok(())
    }

    /// ListTagsForResource.
    pub async fn list_tags(&self, arn: &str) -> ServiceResult<BTreeMap<String, String>> {
        self.require_taggable(arn).await?;
        Ok(self.inner.store.tags(arn).await?)
    }

    async fn require_taggable(&self, arn: &str) -> ServiceResult<()> {
        let exists = if arn.contains(":stateMachine:") {
            self.inner.store.state_machine(arn).await?.is_some()
        } else if arn.contains(":activity:") {
            self.inner.store.activity(arn).await?.is_some()
        } else {
            return Err(ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Invalid ARN prefix: {arn}'")));
        };
        if exists {
            Ok(())
        } else {
            Err(ServiceError::new(ErrorKind::ResourceNotFound, format!("Resource not found: '{arn}'")))
        }
    }
}

/// The revision of a new machine.
/// An EXPRESS machine runs at most five minutes and cannot be called back, so AWS refuses the
/// tasks that wait for a worker, a token or a child's end: activities, `.waitForTaskToken` and
/// `.sync`. Each is named by its path.
fn check_express(definition: &str, machine_type: MachineType) -> ServiceResult<()> {
    if machine_type != MachineType::Express {
        return Ok(());
    }
    let Ok(document) = serde_json::from_str::<Value>(definition) else { return Ok(()) };
    let mut faults = Vec::new();
    express_faults(&document, "", &mut faults);
    if faults.is_empty() {
        return Ok(());
    }
    Err(ServiceError::new(
        ErrorKind::InvalidDefinition,
        format!("Invalid State Machine Definition: '{}'", faults.join(", ")),
    ))
}

/// The Task states of the machine or branch `scope` (at JSON pointer `at`), however deeply
/// nested, that an EXPRESS machine cannot run.
fn express_faults(scope: &Value, at: &str, faults: &mut Vec<String>) {
    for (here, resource) in task_resources(scope, at) {
        let unsupported = if resource.contains(":activity:") {
            Some("an activity")
        } else if resource.ends_with(".waitForTaskToken") {
            Some("the '.waitForTaskToken' service integration pattern")
        } else if resource.contains(".sync") {
            Some("the '.sync' service integration pattern")
        } else {
            None
        };
        if let Some(what) = unsupported {
            faults.push(format!(
                "SCHEMA_VALIDATION_FAILED: Express state machines do not support {what} at {here}/Resource"
            ));
        }
    }
}

/// The JSON pointer and `Resource` of every Task state in the machine or branch `scope` (at
/// pointer `at`), however deeply nested, in the order of the document.
pub(crate) fn task_resources(scope: &Value, at: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    collect_task_resources(scope, at, &mut found);
    found
}

fn collect_task_resources(scope: &Value, at: &str, found: &mut Vec<(String, String)>) {
    let Some(states) = scope.get("States").and_then(Value::as_object) else { return };
    for (name, state) in states {
        let here = format!("{at}/States/{}", name.replace('~', "~0").replace('/', "~1"));
        if state.get("Type").and_then(Value::as_str) == Some("Task")
            && let Some(resource) = state.get("Resource").and_then(Value::as_str)
        {
            found.push((here.clone(), resource.to_owned()));
        }
        for (index, branch) in state.get("Branches").and_then(Value::as_array).into_iter().flatten().enumerate() {
            collect_task_resources(branch, &format!("{here}/Branches/{index}"), found);
        }
        for field in ["ItemProcessor", "Iterator"] {
            if let Some(processor) = state.get(field) {
                collect_task_resources(processor, &format!("{here}/{field}"), found);
            }
        }
    }
}

fn revision_id(definition: &str, role_arn: &str) -> String {
    hex_digest(&[definition, role_arn])
}

/// The revision after a change. It depends on the revision before it, so a machine changed back
/// to an earlier definition is at a new revision, which publishing makes a new version of, as on
/// AWS.
fn next_revision_id(previous: &str, record: &StateMachineRecord) -> String {
    hex_digest(&[
        previous,
        &record.definition,
        &record.role_arn,
        &record.logging_configuration.to_string(),
        &record.tracing_configuration.to_string(),
    ])
}

fn hex_digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().take(16).map(|byte| format!("{byte:02x}")).collect()
}
