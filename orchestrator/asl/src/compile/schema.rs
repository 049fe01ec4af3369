//! JSON-level checks that run before a definition is deserialized into the authoring model:
//! required fields, unknown fields, field types and duplicate keys, each reported at the field it
//! concerns (`/States/A/Retry/1/MaxAttempts`) rather than at the enclosing state.
//!
//! Serde stops at the first error of a value and does not say where it was. So when an object
//! fails to deserialize, each of its fields is tried on its own (beside the type's required
//! fields) to find the ones to blame, descending into `Retry`, `Catch`, `Choices` and
//! `ProcessorConfig`.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::diagnostic::{Diagnostic, Diagnostics, escape_pointer};
use crate::model::{self, ChoiceRule, QueryLanguage};

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

const STATE_TYPES: [&str; 8] = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"];

/// Reports the fields of `machine` (the whole definition when `top`, else a Parallel branch or a
/// Map processor at `loc`) and of its states, recursively.
pub(super) fn check_machine(machine: &Value, loc: &str, top: bool, diags: &mut Diagnostics) {
    let Some(obj) = machine.as_object() else {
        diags.push(Diagnostic::new(SCHEMA, loc, "A state machine must be a JSON object"));
        return;
    };
    let allowed: &[&str] = if top {
        &["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"]
    } else {
        &["Comment", "StartAt", "States", "ProcessorConfig"]
    };
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            diags.push(Diagnostic::new(
                SCHEMA,
                &format!("{loc}/{}", escape_pointer(key)),
                format!("Field '{key}' is not supported"),
            ));
        }
    }
    if !obj.get("StartAt").is_some_and(Value::is_string) {
        diags.push(Diagnostic::new(
            SCHEMA,
            &format!("{loc}/StartAt"),
            "The field 'StartAt' is required and must be a string",
        ));
    }
    if top {
        let meta: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| allowed.contains(&k.as_str()) && !matches!(k.as_str(), "States" | "StartAt"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        check_object::<Meta>(&Value::Object(meta), &[], loc, diags, no_nesting);
    }
    let Some(states) = obj.get("States").and_then(Value::as_object) else {
        diags.push(Diagnostic::new(
            SCHEMA,
            &format!("{loc}/States"),
            "The field 'States' is required and must be an object",
        ));
        return;
    };
    for (name, state) in states {
        check_state(state, &format!("{loc}/States/{}", escape_pointer(name)), diags);
    }
}

/// The top-level fields besides `StartAt` and `States`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Meta {
    comment: Option<String>,
    timeout_seconds: Option<u64>,
    version: Option<String>,
    query_language: Option<QueryLanguage>,
}

fn check_state(state: &Value, loc: &str, diags: &mut Diagnostics) {
    let before = diags.len();
    if let Some(s) = state.as_object() {
        if let Some(Value::Array(branches)) = s.get("Branches") {
            for (i, b) in branches.iter().enumerate() {
                check_machine(b, &format!("{loc}/Branches/{i}"), false, diags);
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = s.get(key) {
                check_machine(p, &format!("{loc}/{key}"), false, diags);
            }
        }
    } else {
        diags.push(Diagnostic::new(SCHEMA, loc, "A state must be a JSON object"));
        return;
    }
    if diags.len() > before {
        // The nested problems are the interesting ones; the state's own fields would only repeat them.
        return;
    }
    match state.get("Type").and_then(Value::as_str) {
        None => diags.push(Diagnostic::new(
            SCHEMA,
            &format!("{loc}/Type"),
            "The field 'Type' is required and must be a string",
        )),
        Some(t) if !STATE_TYPES.contains(&t) => {
            diags.push(Diagnostic::new(SCHEMA, &format!("{loc}/Type"), format!("Unknown state type '{t}'")))
        }
        Some(t) => {
            check_object::<model::State>(state, &[("Type", json!(t))], loc, diags, state_field);
        }
    }
}

/// Descends into a state's fields that hold objects of their own. Returns whether it reported.
fn state_field(key: &str, value: &Value, loc: &str, diags: &mut Diagnostics) -> bool {
    match key {
        "Retry" => each::<model::Retrier>(value, &[("ErrorEquals", json!(["E"]))], loc, diags, no_nesting),
        "Catch" => each::<model::Catcher>(
            value,
            &[("ErrorEquals", json!(["E"])), ("Next", json!("N"))],
            loc,
            diags,
            no_nesting,
        ),
        "Choices" => each::<ChoiceRule>(value, &[], loc, diags, rule_field),
        "ItemProcessor" | "Iterator" => value.get("ProcessorConfig").is_some_and(|c| {
            check_object::<model::ProcessorConfig>(c, &[], &format!("{loc}/ProcessorConfig"), diags, no_nesting)
        }),
        _ => false,
    }
}

fn rule_field(key: &str, value: &Value, loc: &str, diags: &mut Diagnostics) -> bool {
    match key {
        "And" | "Or" => each::<ChoiceRule>(value, &[], loc, diags, rule_field),
        "Not" => check_object::<ChoiceRule>(value, &[], loc, diags, rule_field),
        _ => false,
    }
}

fn no_nesting(_: &str, _: &Value, _: &str, _: &mut Diagnostics) -> bool {
    false
}

type Nested = fn(&str, &Value, &str, &mut Diagnostics) -> bool;

/// [`check_object`] on each item of an array; `false` (nothing reported) when `value` is not one,
/// so that the caller reports serde's message about the type.
fn each<T: DeserializeOwned>(
    value: &Value,
    base: &[(&str, Value)],
    loc: &str,
    diags: &mut Diagnostics,
    nested: Nested,
) -> bool {
    let Some(items) = value.as_array() else {
        return false;
    };
    let before = diags.len();
    for (i, item) in items.iter().enumerate() {
        check_object::<T>(item, base, &format!("{loc}/{i}"), diags, nested);
    }
    diags.len() > before
}

/// Deserializes `value` as `T`. On failure, tries each field alone beside `base` (valid values
/// for `T`'s required fields) and reports the ones that fail, through `nested` where it knows
/// the field; when no single field is to blame (a required field is missing), reports serde's
/// error for the whole object. Returns whether it reported anything.
fn check_object<T: DeserializeOwned>(
    value: &Value,
    base: &[(&str, Value)],
    loc: &str,
    diags: &mut Diagnostics,
    nested: Nested,
) -> bool {
    let Err(whole) = T::deserialize(value) else {
        return false;
    };
    let before = diags.len();
    for (key, field) in value.as_object().into_iter().flatten() {
        let mut probe: Map<String, Value> = base.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        probe.insert(key.clone(), field.clone());
        if let Err(e) = T::deserialize(&Value::Object(probe)) {
            let floc = format!("{loc}/{}", escape_pointer(key));
            if !nested(key, field, &floc, diags) {
                diags.push(Diagnostic::new(SCHEMA, &floc, e.to_string()));
            }
        }
    }
    if diags.len() == before {
        diags.push(Diagnostic::new(SCHEMA, loc, whole.to_string()));
    }
    true
}

/// Finds keys that appear twice in one JSON object of `text`, which must be valid JSON. A state
/// defined twice is `DUPLICATE_STATE_NAME`, any other repeated field `SCHEMA_VALIDATION_FAILED`.
pub(super) fn duplicate_keys(text: &str) -> Diagnostics {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    // Syntax errors are the caller's to report; this pass only looks at keys.
    let _ = Keys { loc: String::new(), found: &mut found }.deserialize(&mut de);
    found
        .into_iter()
        .map(|(parent, key)| {
            let loc = format!("{parent}/{}", escape_pointer(&key));
            if is_states_object(&parent) {
                Diagnostic::new("DUPLICATE_STATE_NAME", &loc, format!("Duplicate State name: {key}"))
            } else {
                Diagnostic::new(SCHEMA, &loc, format!("Field '{key}' appears more than once"))
            }
        })
        .collect()
}

/// Whether `pointer` is the `States` object of the machine or of a branch or processor in it.
fn is_states_object(pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut i = 0;
    loop {
        if segments.get(i) != Some(&"States") {
            return false;
        }
        if i + 1 == segments.len() {
            return true;
        }
        // segments[i + 1] is a state name; a nested machine follows it.
        i += match segments.get(i + 2) {
            Some(&"Branches") if segments.get(i + 3).is_some_and(|n| n.parse::<usize>().is_ok()) => 4,
            Some(&"ItemProcessor" | &"Iterator") => 3,
            _ => return false,
        };
    }
}

/// Walks a JSON document, recording (pointer of the object, key) for each repeated key.
struct Keys<'a> {
    loc: String,
    found: &'a mut Vec<(String, String)>,
}

impl<'de> DeserializeSeed<'de> for Keys<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq.next_element_seed(Keys { loc: format!("{}/{i}", self.loc), found: &mut *self.found })?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = format!("{}/{}", self.loc, escape_pointer(&key));
            if !seen.insert(key.clone()) {
                self.found.push((self.loc.clone(), key));
            }
            map.next_value_seed(Keys { loc: child, found: &mut *self.found })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_objects_are_recognised_at_any_depth() {
        assert!(is_states_object("/States"));
        assert!(is_states_object("/States/P/Branches/3/States"));
        assert!(is_states_object("/States/P/Branches/0/States/M/ItemProcessor/States"));
        assert!(is_states_object("/States/M/Iterator/States"));
        assert!(!is_states_object(""));
        assert!(!is_states_object("/States/A/Parameters/States"));
        assert!(!is_states_object("/States/P/Branches/x/States"));
    }

    #[test]
    fn duplicate_keys_are_found_with_their_location() {
        let text = r#"{"a": [{"x": 1, "x": 2}], "States": {"S": {}, "S": {}}, "b": {"c": {"d~/": 1, "d~/": 2}}}"#;
        let got: Vec<(String, String)> = duplicate_keys(text).into_iter().map(|d| (d.code, d.location)).collect();
        assert_eq!(
            got,
            [
                ("SCHEMA_VALIDATION_FAILED".to_owned(), "/a/0/x".to_owned()),
                ("DUPLICATE_STATE_NAME".to_owned(), "/States/S".to_owned()),
                ("SCHEMA_VALIDATION_FAILED".to_owned(), "/b/c/d~0~1".to_owned()),
            ]
        );
        assert!(duplicate_keys(r#"{"a": {"b": 1}, "c": [{"b": 2}]}"#).is_empty());
    }
}
