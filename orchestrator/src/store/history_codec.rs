//! How a durable store writes the history events of one step: the step's distinct documents
//! once, as plain JSON, and each event with references to them.
//!
//! AWS's event shape embeds every input and output as an escaped JSON string, and a state's
//! output is usually the next state's input, so writing events in that shape copies and escapes
//! each document two or three times. Here a document shared by several events of the step (the
//! interpreter hands the same value along) is written once, unescaped. AWS's shape is rendered
//! when the history is read.
//!
//! The text is JSON: `{"documents": [...], "events": [{"previous": …, "at": …, "kind": …}]}`,
//! `kind` being [`EventKind`]'s serde form with document positions for documents. Event ids are
//! not stored: the step's events are consecutive from its first event id.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwasm_asl::{EventKind, HistoryEvent, Timestamp};

use super::{StoreError, StoreResult};
use crate::engine::DocumentTexts;

#[derive(Deserialize)]
struct DecodedStep {
    documents: Vec<Value>,
    events: Vec<EncodedEvent>,
}

#[derive(Serialize, Deserialize)]
struct EncodedEvent {
    previous: u64,
    at: i64,
    kind: EventKind<u32>,
}

/// The stored text of `events`, which continue one another. A document whose text is in
/// `texts` is written as that text.
pub(crate) fn encode(events: &[HistoryEvent], texts: &DocumentTexts) -> StoreResult<String> {
    let mut documents: Vec<&Arc<Value>> = Vec::new();
    // The same value, shared: documents are told apart by address, which is enough to find
    // what the interpreter passed from one event to the next without comparing contents.
    let mut positions: HashMap<*const Value, u32> = HashMap::new();
    let mut encoded = Vec::with_capacity(events.len());
    for event in events {
        let mut overflow = false;
        let kind = event.kind.map_documents(|document: &Arc<Value>| {
            *positions.entry(Arc::as_ptr(document)).or_insert_with(|| {
                documents.push(document);
                u32::try_from(documents.len() - 1).unwrap_or_else(|_| {
                    overflow = true;
                    0
                })
            })
        });
        if overflow {
            return Err(StoreError::Refused("a step has more than 4 billion documents".into()));
        }
        encoded.push(EncodedEvent { previous: event.previous_event_id, at: event.timestamp.0, kind });
    }
    let refused = |error: serde_json::Error| StoreError::Refused(format!("a history event cannot be encoded: {error}"));
    // `{"documents": [...], "events": [...]}`, written by hand so that known texts go in as
    // they are.
    let mut text = Vec::with_capacity(256);
    text.extend_from_slice(br#"{"documents":["#);
    for (index, document) in documents.into_iter().enumerate() {
        if index > 0 {
            text.push(b',');
        }
        match texts.get(document) {
            Some(known) => text.extend_from_slice(known.as_bytes()),
            None => serde_json::to_writer(&mut text, &**document).map_err(refused)?,
        }
    }
    text.extend_from_slice(br#"],"events":"#);
    serde_json::to_writer(&mut text, &encoded).map_err(refused)?;
    text.push(b'}');
    String::from_utf8(text).map_err(|_| StoreError::Refused("a history event encoded to text that is not UTF-8".into()))
}

/// The events stored as `text`, numbered from `first_id`.
pub(crate) fn decode(text: &str, first_id: u64) -> StoreResult<Vec<HistoryEvent>> {
    let step: DecodedStep =
        serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("stored history events: {error}")))?;
    let documents: Vec<Arc<Value>> = step.documents.into_iter().map(Arc::new).collect();
    let mut missing = None;
    let events = (first_id..)
        .zip(step.events)
        .map(|(id, event)| {
            let kind = event.kind.map_documents(|&position| {
                documents.get(position as usize).cloned().unwrap_or_else(|| {
                    missing = Some(position);
                    Arc::new(Value::Null)
                })
            });
            HistoryEvent { id, previous_event_id: event.previous, timestamp: Timestamp(event.at), kind }
        })
        .collect();
    match missing {
        Some(position) => {
            Err(StoreError::Corrupt(format!("stored history events refer to missing document {position}")))
        }
        None => Ok(events),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stepwasm_asl::StateType;

    use super::*;

    fn entered(id: u64, document: &Arc<Value>) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_event_id: id - 1,
            timestamp: Timestamp(1_000 + id as i64),
            kind: EventKind::StateEntered {
                state_type: StateType::Pass,
                name: format!("S{id}"),
                input: Arc::clone(document),
            },
        }
    }

    #[test]
    fn a_document_shared_by_events_is_written_once_and_read_back_for_each() {
        let shared = Arc::new(json!({"order": {"id": "o-1", "note": "say \"hi\""}}));
        let other = Arc::new(json!([1, 2, 3]));
        let exited = HistoryEvent {
            id: 8,
            previous_event_id: 7,
            timestamp: Timestamp(1_008),
            kind: EventKind::StateExited {
                state_type: StateType::Pass,
                name: "S7".into(),
                output: Arc::clone(&shared),
                assigned_variables: None,
            },
        };
        let events = vec![entered(7, &shared), exited, entered(9, &other)];
        let text = encode(&events, &DocumentTexts::default()).unwrap();
        assert_eq!(text.matches("o-1").count(), 1, "{text}");
        assert!(!text.contains(r#"\""#) || text.contains(r#"say \"hi\""#), "documents are not escaped twice: {text}");
        let decoded = decode(&text, 7).unwrap();
        assert_eq!(decoded, events);
        // What GetExecutionHistory renders is the same as from the interpreter's own events.
        let rendered: Vec<Value> = decoded.iter().map(HistoryEvent::to_aws_json).collect();
        let expected: Vec<Value> = events.iter().map(HistoryEvent::to_aws_json).collect();
        assert_eq!(rendered, expected);
    }

    #[test]
    fn a_document_serialised_already_is_written_as_its_text() {
        let document = Arc::new(json!({"id": "o-1"}));
        let events = vec![entered(3, &document)];
        // Spaced unlike serde_json would write it, so the test tells which text went in.
        let text = encode(&events, &DocumentTexts::given(&document, r#"{ "id": "o-1" }"#)).unwrap();
        assert!(text.starts_with(r#"{"documents":[{ "id": "o-1" }],"events":["#), "{text}");
        assert_eq!(decode(&text, 3).unwrap(), events);
        let fresh = encode(&events, &DocumentTexts::default()).unwrap();
        assert!(fresh.starts_with(r#"{"documents":[{"id":"o-1"}],"events":["#), "{fresh}");
    }

    #[test]
    fn corrupt_text_is_a_corrupt_error_not_a_panic() {
        for text in [
            "",
            "{",
            r#"{"documents": [], "events": [{"previous": 0, "at": 1, "kind": {"ExecutionSucceeded": {"output": 3}}}]}"#,
        ] {
            assert!(matches!(decode(text, 1), Err(StoreError::Corrupt(_))), "{text}");
        }
    }
}
