//! The JSON text of documents, made once for everyone who needs it.
//!
//! A task's input is written twice as JSON text: into the journal, with the step that
//! scheduled the task, and into the function's memory, as its input. Both come from the same
//! shared document, so the engine serialises it once, before the step is recorded, and the
//! store and the task invoker take the text from here.

use std::sync::Arc;

use serde_json::Value;
use stepwasm_asl::{Action, TaskResource};

/// Documents and their JSON text, told apart by identity (the same `Arc`), as the interpreter
/// hands the same document from one event or action to the next.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentTexts(Vec<(Arc<Value>, Arc<str>)>);

impl DocumentTexts {
    /// The texts of the inputs of the function tasks `actions` schedule.
    pub(crate) fn of_task_inputs(actions: &[Action]) -> Self {
        let mut texts = Self::default();
        for action in actions {
            if let Action::InvokeTask { resource, payload, .. } = action
                && takes_json_text(resource)
            {
                texts.insert(payload);
            }
        }
        texts
    }

    /// Serialises `document`, unless its text is known already.
    pub fn insert(&mut self, document: &Arc<Value>) {
        if self.get(document).is_some() {
            return;
        }
        // A `Value` always serialises (its keys are strings); if it did not, whoever needs the
        // text serialises it and reports the error there.
        if let Ok(text) = serde_json::to_string(&**document) {
            self.0.push((Arc::clone(document), text.into()));
        }
    }

    /// The text of this very document, if it was serialised.
    pub fn get(&self, document: &Arc<Value>) -> Option<&Arc<str>> {
        self.0.iter().find(|(known, _)| Arc::ptr_eq(known, document)).map(|(_, text)| text)
    }

    /// Texts given as they are, to tell in tests that a text was used, not made again.
    #[cfg(test)]
    pub(crate) fn given(document: &Arc<Value>, text: &str) -> Self {
        Self(vec![(Arc::clone(document), text.into())])
    }
}

/// Functions take their input as JSON text; a callback task's function is invoked too, but
/// other resources (activities, service integrations) get their input otherwise.
fn takes_json_text(resource: &TaskResource) -> bool {
    matches!(resource, TaskResource::Lambda { .. } | TaskResource::LambdaInvoke { .. } | TaskResource::Wasm { .. })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_document_is_found_by_identity_not_by_value() {
        let document = Arc::new(json!({"order": "o-1", "note": "say \"hi\""}));
        let equal_copy = Arc::new(json!({"order": "o-1", "note": "say \"hi\""}));
        let mut texts = DocumentTexts::default();
        texts.insert(&document);
        texts.insert(&document);
        assert_eq!(texts.0.len(), 1, "serialised once");
        assert_eq!(texts.get(&document).map(|text| &**text), Some(r#"{"note":"say \"hi\"","order":"o-1"}"#));
        assert_eq!(texts.get(&equal_copy), None);
    }
}
