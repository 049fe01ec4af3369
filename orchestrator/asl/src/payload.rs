//! JSONPath payload processing: `InputPath`, `Parameters`-style templates, `ResultPath`,
//! `OutputPath`, and the roots (`$`, `$$`, `$var`) that paths read from.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::entropy::Entropy;
use crate::execution::ExecutionContext;
use crate::ir::{PathOpt, ResultPath};
use crate::jsonpath::{KeyOrIndex, Path, Roots};
use crate::template::Template;
use crate::timestamp::Timestamp;

/// AWS's limit on any state's input or output, and on a task's result: 256 KiB of JSON text.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Whether `value`, written as JSON, is longer than `limit` bytes.
///
/// Every state's output is checked, so the common case must be cheap: a generous bound, found
/// without writing anything, settles nearly every document. Only one that may be over the limit
/// is written out, and only up to the limit.
pub(crate) fn json_len_exceeds(value: &Value, limit: usize) -> bool {
    if written_len_bound(value, limit) <= limit {
        return false;
    }
    struct Counter {
        left: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.left = self.left.checked_sub(buf.len()).ok_or_else(|| std::io::Error::other("over the limit"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Serialising a `Value` fails only when the counter refuses.
    serde_json::to_writer(Counter { left: limit }, value).is_err()
}

/// At least the length of `value` as JSON; once past `cap`, any number above it.
fn written_len_bound(value: &Value, cap: usize) -> usize {
    // Each byte of a string may be written as a six-byte `\u00XX` escape; a number as at most 24
    // characters; `false` is the longest literal.
    let text = |len: usize| 2usize.saturating_add(len.saturating_mul(6));
    let mut total = 0usize;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        let own = match value {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(string) => text(string.len()),
            Value::Array(items) => {
                pending.extend(items);
                2 + items.len()
            }
            Value::Object(fields) => {
                let mut keys = 2 + fields.len();
                for (key, item) in fields {
                    keys = keys.saturating_add(text(key.len()) + 1);
                    pending.push(item);
                }
                keys
            }
        };
        total = total.saturating_add(own);
        if total > cap {
            break;
        }
    }
    total
}

impl Template {
    /// Evaluates the template; the error is a `States.Runtime` detail.
    pub(crate) fn eval(&self, roots: &dyn Roots, entropy: &mut dyn Entropy) -> Result<Value, String> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Path(p) => p.eval(roots),
            Template::Call(c) => c.eval(roots, entropy),
            Template::Array(items) => {
                items.iter().map(|t| t.eval(roots, entropy)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
            Template::Object(fields) => {
                let mut out = Map::new();
                for (k, t) in fields {
                    out.insert(k.clone(), t.eval(roots, entropy)?);
                }
                Ok(Value::Object(out))
            }
        }
    }

    /// For `Assign`: the top-level (name, template) pairs.
    pub(crate) fn fields(&self) -> Vec<(&str, &Template)> {
        match self {
            Template::Object(fields) => fields.iter().map(|(k, t)| (k.as_str(), t)).collect(),
            Template::Literal(Value::Object(_)) => Vec::new(),
            _ => Vec::new(),
        }
    }
}

/// Applies `InputPath` or `OutputPath` (callers that can share the input handle the default
/// themselves, see `states::select_shared`).
pub(crate) fn select(path: &PathOpt, roots: &dyn Roots) -> Result<Value, String> {
    match path {
        PathOpt::Default => Ok(roots.input().clone()),
        PathOpt::Null => Ok(json!({})),
        PathOpt::Path(p) => p.eval(roots),
    }
}

/// Places `result` into `input` as `ResultPath` says. The error is a
/// `States.ResultPathMatchFailure` detail.
///
/// `$`, the default, and `null` return one of the two documents unchanged. A path into the input
/// changes it in place when the caller hands over the only reference to it (see
/// [`places_into_input`]); otherwise the input is copied first, as something else still reads it
/// (a `StateEntered` event that is kept, say).
pub(crate) fn apply_result_path(rp: &ResultPath, input: Arc<Value>, result: Arc<Value>) -> Result<Arc<Value>, String> {
    let path = match rp {
        ResultPath::Default => return Ok(result),
        ResultPath::Discard => return Ok(input),
        ResultPath::Path(p) => p,
    };
    let keys = reference_keys(path)?;
    if keys.is_empty() {
        return Ok(result);
    }
    // Checked first, so that a failure leaves the input as it was.
    check_placement(path, &keys, &input)?;
    let mut doc = Arc::unwrap_or_clone(input);
    place(path, &keys, &mut doc, Arc::unwrap_or_clone(result))?;
    Ok(Arc::new(doc))
}

/// Whether `ResultPath` puts the result inside `input`, and can: then [`apply_result_path`] is
/// the input's last reader, and a caller that is done with the input can hand it over.
pub(crate) fn places_into_input(rp: &ResultPath, input: &Value) -> bool {
    let ResultPath::Path(path) = rp else { return false };
    reference_keys(path).is_ok_and(|keys| !keys.is_empty() && check_placement(path, &keys, input).is_ok())
}

fn reference_keys(path: &Path) -> Result<Vec<KeyOrIndex<'_>>, String> {
    path.keys().ok_or_else(|| format!("Unable to apply ResultPath '{path}': it is not a reference path"))
}

fn out_of_bounds(path: &Path, index: i64) -> String {
    format!("Unable to apply ResultPath '{path}': index {index} is out of bounds")
}

fn not_an_object(path: &Path, found: &Value) -> String {
    format!("Unable to apply ResultPath '{path}' to input '{found}': the input is not a JSON object")
}

fn element(items: &[Value], index: i64) -> Option<usize> {
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let idx = if index < 0 { len + index } else { index };
    usize::try_from(idx).ok().filter(|&i| i < items.len())
}

/// Finds the failure [`place`] would meet, without changing anything.
fn check_placement(path: &Path, keys: &[KeyOrIndex<'_>], input: &Value) -> Result<(), String> {
    // `None` is an object that placing would create on the way.
    let mut cur = Some(input);
    for (n, key) in keys.iter().enumerate() {
        let last = n + 1 == keys.len();
        cur = match (cur, key) {
            (None, KeyOrIndex::Key(_)) => None,
            (None, KeyOrIndex::Index(_)) => return Err(not_an_object(path, &Value::Object(Map::new()))),
            (Some(Value::Object(map)), KeyOrIndex::Key(k)) => {
                if last {
                    return Ok(());
                }
                map.get(*k).filter(|slot| slot.is_object() || slot.is_array())
            }
            (Some(Value::Array(items)), KeyOrIndex::Index(i)) => {
                let slot = element(items, *i).ok_or_else(|| out_of_bounds(path, *i))?;
                if last {
                    return Ok(());
                }
                items.get(slot)
            }
            (Some(other), _) => return Err(not_an_object(path, other)),
        };
    }
    Ok(())
}

fn place(path: &Path, keys: &[KeyOrIndex<'_>], doc: &mut Value, result: Value) -> Result<(), String> {
    let mut cur = doc;
    let mut result = Some(result);
    for (n, key) in keys.iter().enumerate() {
        let last = n + 1 == keys.len();
        cur = match (cur, key) {
            (Value::Object(map), KeyOrIndex::Key(k)) => {
                if last {
                    map.insert((*k).to_owned(), result.take().unwrap_or(Value::Null));
                    break;
                }
                let slot = map.entry((*k).to_owned()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() && !slot.is_array() {
                    *slot = Value::Object(Map::new());
                }
                slot
            }
            (Value::Array(items), KeyOrIndex::Index(i)) => {
                let Some(slot) = element(items, *i).and_then(|slot| items.get_mut(slot)) else {
                    return Err(out_of_bounds(path, *i));
                };
                if last {
                    *slot = result.take().unwrap_or(Value::Null);
                    break;
                }
                slot
            }
            (other, _) => return Err(not_an_object(path, other)),
        };
    }
    Ok(())
}

/// Workflow variables visible to a frame: the ones inherited from enclosing frames, plus its own.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub(crate) outer: Arc<BTreeMap<String, Value>>,
    pub(crate) own: BTreeMap<String, Value>,
}

impl Scope {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.own.get(name).or_else(|| self.outer.get(name))
    }

    /// Everything this frame sees, for handing down to child frames.
    pub(crate) fn flattened(&self) -> Arc<BTreeMap<String, Value>> {
        if self.own.is_empty() {
            return Arc::clone(&self.outer);
        }
        let mut all = (*self.outer).clone();
        all.extend(self.own.iter().map(|(k, v)| (k.clone(), v.clone())));
        Arc::new(all)
    }
}

/// What `$$` is built from; built only when a path reads it.
pub(crate) struct ContextSource<'a> {
    pub(crate) exec: &'a ExecutionContext,
    pub(crate) exec_input: &'a Value,
    pub(crate) state_name: &'a str,
    pub(crate) entered_time: Timestamp,
    pub(crate) retry_count: u64,
    pub(crate) map_item: Option<(u64, &'a Value)>,
    pub(crate) task_token: Option<&'a str>,
}

impl ContextSource<'_> {
    fn build(&self) -> Value {
        let e = self.exec;
        let mut ctx = json!({
            "Execution": {
                "Id": e.execution_arn,
                "Input": self.exec_input,
                "Name": e.execution_name,
                "RoleArn": e.role_arn,
                "StartTime": e.start_time.to_rfc3339(),
                "RedriveCount": e.redrive_count,
            },
            "State": {
                "EnteredTime": self.entered_time.to_rfc3339(),
                "Name": self.state_name,
                "RetryCount": self.retry_count,
            },
            "StateMachine": {"Id": e.state_machine_arn, "Name": e.state_machine_name},
        });
        if let (Some(time), Some(execution)) = (e.redrive_time, ctx["Execution"].as_object_mut()) {
            execution.insert("RedriveTime".into(), Value::String(time.to_rfc3339()));
        }
        if let Some(obj) = ctx.as_object_mut() {
            if let Some((index, value)) = self.map_item {
                obj.insert("Map".into(), json!({"Item": {"Index": index, "Value": value}}));
            }
            if let Some(token) = self.task_token {
                obj.insert("Task".into(), json!({"Token": token}));
            }
        }
        ctx
    }
}

/// The roots of one evaluation: the value `$` refers to, the lazily built context object and the
/// visible variables.
pub(crate) struct Env<'a> {
    pub(crate) input: &'a Value,
    pub(crate) source: &'a ContextSource<'a>,
    pub(crate) context: &'a OnceCell<Value>,
    pub(crate) scope: &'a Scope,
}

impl Roots for Env<'_> {
    fn input(&self) -> &Value {
        self.input
    }
    fn context(&self) -> &Value {
        self.context.get_or_init(|| self.source.build())
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.scope.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostics;
    use crate::jsonpath::Path;

    fn rp(p: &str) -> ResultPath {
        ResultPath::Path(Path::parse(p).unwrap())
    }

    #[test]
    fn the_size_bound_is_never_below_the_written_size() {
        let values = [
            json!(null),
            json!(false),
            json!(-1.234_567_890_123_456_7e-300),
            json!(u64::MAX),
            json!("\u{1}\"\\\n é 日本 🦀"),
            json!({"\u{1f}key": [1, {"nested": ["", {}, []]}], "": null}),
            json!([[[[[["deep"]]]]]]),
        ];
        for value in &values {
            let written = serde_json::to_string(value).unwrap().len();
            assert!(written_len_bound(value, usize::MAX) >= written, "{value}");
            assert!(!json_len_exceeds(value, written), "{value} fits in its own length");
            assert!(json_len_exceeds(value, written - 1), "{value} does not fit in one byte less");
        }
    }

    #[test]
    fn result_path_merges_and_creates_objects() {
        let apply = |rp: &ResultPath, input: &Value, result: Value| {
            apply_result_path(rp, Arc::new(input.clone()), Arc::new(result)).map(Arc::unwrap_or_clone)
        };
        let input = json!({"a": 1, "b": {"c": 2}});
        assert_eq!(apply(&rp("$.x.y"), &input, json!(3)).unwrap(), json!({"a": 1, "b": {"c": 2}, "x": {"y": 3}}));
        assert_eq!(apply(&rp("$.b.c"), &input, json!(9)).unwrap(), json!({"a": 1, "b": {"c": 9}}));
        assert_eq!(apply(&rp("$"), &input, json!(7)).unwrap(), json!(7));
        assert_eq!(apply(&ResultPath::Discard, &input, json!(7)).unwrap(), input);
        assert!(apply(&rp("$.x"), &json!("str"), json!(1)).is_err());
        // The input is shared, not copied, when it passes through.
        let shared = Arc::new(input);
        assert!(Arc::ptr_eq(
            &apply_result_path(&ResultPath::Discard, Arc::clone(&shared), Arc::new(json!(7))).unwrap(),
            &shared
        ));
    }

    #[test]
    fn result_path_changes_an_input_nobody_else_holds_in_place_and_copies_a_shared_one() {
        let input = Arc::new(json!({"order": {"id": "o-1"}, "items": [1, 2]}));
        let items = input["items"].as_array().unwrap().as_ptr();
        let kept = Arc::clone(&input);
        let copied = apply_result_path(&rp("$.checks"), input, Arc::new(json!({"ok": true}))).unwrap();
        assert_eq!(*kept, json!({"order": {"id": "o-1"}, "items": [1, 2]}), "a shared input is not changed");
        assert_ne!(copied["items"].as_array().unwrap().as_ptr(), items);

        let placed = apply_result_path(&rp("$.checks"), kept, Arc::new(json!({"ok": true}))).unwrap();
        assert_eq!(placed["checks"], json!({"ok": true}));
        assert_eq!(placed["items"].as_array().unwrap().as_ptr(), items, "the only reference is changed in place");
    }

    #[test]
    fn result_path_failures_are_found_before_anything_changes() {
        let cases = [
            (
                "$.a.b[0]",
                json!({"a": {}}),
                "Unable to apply ResultPath '$.a.b[0]' to input '{}': the input is not a JSON object",
            ),
            ("$.list[5].x", json!({"list": [1]}), "Unable to apply ResultPath '$.list[5].x': index 5 is out of bounds"),
            ("$.list[-2]", json!({"list": [1]}), "Unable to apply ResultPath '$.list[-2]': index -2 is out of bounds"),
            (
                "$[0]",
                json!({"a": 1}),
                "Unable to apply ResultPath '$[0]' to input '{\"a\":1}': the input is not a JSON object",
            ),
            (
                "$.s.t",
                json!("text"),
                "Unable to apply ResultPath '$.s.t' to input '\"text\"': the input is not a JSON object",
            ),
        ];
        for (path, input, expected) in cases {
            assert!(!places_into_input(&rp(path), &input), "{path}");
            let shared = Arc::new(input.clone());
            let error = apply_result_path(&rp(path), Arc::clone(&shared), Arc::new(json!(1))).unwrap_err();
            assert_eq!(error, expected);
            assert_eq!(*shared, input, "{path}: the input is unchanged");
        }
        assert!(places_into_input(&rp("$.a.new.deeper"), &json!({"a": {"n": 1}})));
        assert!(places_into_input(&rp("$.list[-1].x"), &json!({"list": [{}]})));
        assert!(!places_into_input(&rp("$"), &json!({})), "the result replaces the input");
        assert!(!places_into_input(&ResultPath::Discard, &json!({})));
    }

    #[test]
    fn templates_evaluate_only_dollar_keys() {
        let mut diags = Diagnostics::default();
        let t = Template::compile(
            &json!({"lit": "$.no", "v.$": "$.a", "nested": [{"f.$": "States.Format('{}!', $.a)"}], "Comment": "kept"}),
            "/Parameters",
            &mut diags,
        );
        assert!(diags.is_empty());
        let input = json!({"a": "x"});
        let ctx = json!({});
        let roots = crate::jsonpath::SimpleRoots { input: &input, context: &ctx };
        let out = t.eval(&roots, &mut crate::SeededEntropy::new(0)).unwrap();
        assert_eq!(out, json!({"lit": "$.no", "v": "x", "nested": [{"f": "x!"}], "Comment": "kept"}));
        Template::compile(&json!({"bad.$": 3, "worse.$": "nope"}), "/P", &mut diags);
        assert_eq!(diags.len(), 2);
    }
}
