//! Compiled state machines, kept per definition so that a definition is compiled once, not on
//! every StartExecution, resume, progress or graph request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use stepwasm_asl::StateMachine;

use super::ServiceResult;
use super::error::{ErrorKind, ServiceError};

/// How many compiled definitions are kept. A definition is a machine's revision (or an older
/// one that a running execution still uses), so a node rarely needs more; past this, one entry
/// makes room for the next, bounding memory whatever the callers send.
const CAPACITY: usize = 256;

/// Definition text → its compiled machine.
///
/// Keyed by the text itself, not by machine ARN: an execution runs the definition it started
/// with, and a revision never changes, so equal text is the same machine.
#[derive(Default)]
pub(crate) struct CompiledMachines {
    machines: Mutex<HashMap<Arc<str>, Arc<StateMachine>>>,
}

impl CompiledMachines {
    /// The compiled form of `definition`, compiling it on first use.
    pub(crate) fn get(&self, definition: &str) -> ServiceResult<Arc<StateMachine>> {
        if let Some(machine) = self.machines.lock().unwrap_or_else(PoisonError::into_inner).get(definition) {
            return Ok(Arc::clone(machine));
        }
        // Compiled outside the lock: other definitions need not wait for this one.
        let machine = Arc::new(compile(definition)?);
        let mut machines = self.machines.lock().unwrap_or_else(PoisonError::into_inner);
        if machines.len() >= CAPACITY
            && let Some(evicted) = machines.keys().next().cloned()
        {
            machines.remove(&evicted);
        }
        machines.insert(Arc::from(definition), Arc::clone(&machine));
        Ok(machine)
    }
}

/// Compiles a definition, with AWS's error for an invalid one.
pub(crate) fn compile(definition: &str) -> ServiceResult<StateMachine> {
    StateMachine::from_json(definition).map_err(|error| match error {
        stepwasm_asl::Error::InvalidDefinition(diagnostics) => {
            let details: Vec<String> = diagnostics
                .iter()
                .map(|diagnostic| format!("{}: {} at {}", diagnostic.code, diagnostic.message, diagnostic.location))
                .collect();
            ServiceError::new(
                ErrorKind::InvalidDefinition,
                format!("Invalid State Machine Definition: '{}'", details.join(", ")),
            )
        }
        other => {
            ServiceError::new(ErrorKind::InvalidDefinition, format!("Invalid State Machine Definition: '{other}'"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

    #[test]
    fn a_definition_is_compiled_once_and_the_cache_stays_bounded() {
        let cache = CompiledMachines::default();
        let first = cache.get(PASS).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get(PASS).unwrap()));
        for i in 0..CAPACITY + 10 {
            cache
                .get(&format!(r#"{{"Comment":"{i}","StartAt":"A","States":{{"A":{{"Type":"Pass","End":true}}}}}}"#))
                .unwrap();
        }
        assert_eq!(cache.machines.lock().unwrap().len(), CAPACITY);
        let error = cache.get(r#"{"StartAt":"Nope","States":{}}"#).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidDefinition);
    }
}
