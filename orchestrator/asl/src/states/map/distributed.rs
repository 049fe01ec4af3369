//! What only a Distributed Map has: an `ItemReader` that reads the items from an object store,
//! and an `ItemBatcher` that hands them to the processor in batches.
//!
//! Reading is I/O, so the interpreter only resolves the reader's fields and asks the driver, with
//! an [`Action::InvokeTask`](crate::Action::InvokeTask) whose resource is
//! [`TaskResource::ItemReader`]; the reply (the items) is journaled like any task result, so a
//! replay never reads the object again. Batching is pure and happens here.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use crate::compile::Site;
use crate::execution::{Failure, StateCx};
use crate::ir::{NumSource, Selector};
use crate::machine::Builder;
use crate::model::QueryLanguage;
use crate::names;
use crate::payload::MAX_PAYLOAD_BYTES;
use crate::resource::TaskResource;
use crate::template::{JTemplate, Template};

/// The `InputType`s an `s3:getObject` reader can parse.
const INPUT_TYPES: [&str; 3] = ["CSV", "JSON", "JSONL"];
/// The `CSVDelimiter`s AWS defines.
const CSV_DELIMITERS: [&str; 5] = ["COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"];
/// AWS's ceiling for `MaxItems`.
const MAX_ITEMS: u64 = 100_000_000;

/// `ItemReader`: where the items come from.
#[derive(Clone, Debug)]
pub(crate) struct ItemReader {
    /// `arn:aws:states:::s3:getObject` or `arn:aws:states:::s3:listObjectsV2`, as written.
    arn: String,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata): the bucket and the key or prefix.
    arguments: Option<Selector>,
    /// `ReaderConfig` without `MaxItems`, which is resolved for each run.
    config: Map<String, Value>,
    /// `MaxItems` / `MaxItemsPath`.
    max_items: Option<NumSource>,
}

/// `ItemBatcher`: how many items each processor run gets.
#[derive(Clone, Debug)]
pub(crate) struct ItemBatcher {
    /// `MaxItemsPerBatch` / `MaxItemsPerBatchPath`.
    max_items: Option<NumSource>,
    /// `MaxInputBytesPerBatch` / `MaxInputBytesPerBatchPath`.
    max_bytes: Option<NumSource>,
    /// `BatchInput`: the same for every batch, beside its `Items`.
    batch_input: Option<Selector>,
}

pub(super) fn object<'v>(b: &mut Builder, value: &'v Value, loc: &str, field: &str) -> Option<&'v Map<String, Value>> {
    let object = value.as_object();
    if object.is_none() {
        b.diag("SCHEMA_VALIDATION_FAILED", loc, format!("'{field}' must be an object"));
    }
    object
}

pub(super) fn unknown_fields(b: &mut Builder, object: &Map<String, Value>, known: &[&str], loc: &str) {
    for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
        b.diag("SCHEMA_VALIDATION_FAILED", &format!("{loc}/{key}"), format!("Field '{key}' is not supported here"));
    }
}

/// The `Path` twin of a numeric field, if given as a string.
fn path_field<'v>(b: &mut Builder, object: &'v Map<String, Value>, field: &str, loc: &str) -> Option<&'v String> {
    match object.get(field) {
        None => None,
        Some(Value::String(path)) => Some(path),
        Some(_) => {
            b.diag("SCHEMA_VALIDATION_FAILED", &format!("{loc}/{field}"), format!("'{field}' must be a path"));
            None
        }
    }
}

/// A template field evaluated in the state's query language: `Parameters` in JSONPath states,
/// `Arguments` in JSONata ones.
pub(super) fn arguments(b: &mut Builder, object: &Map<String, Value>, loc: &str, jsonata: bool) -> Option<Selector> {
    let (field, wrong) = if jsonata { ("Arguments", "Parameters") } else { ("Parameters", "Arguments") };
    if object.contains_key(wrong) {
        let language = if jsonata { "JSONata" } else { "JSONPath" };
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &format!("{loc}/{wrong}"),
            format!("The field '{wrong}' is not supported in {language} states; use '{field}'"),
        );
    }
    let value = object.get(field)?;
    let at = format!("{loc}/{field}");
    Some(if jsonata {
        Selector::Jsonata(JTemplate::compile(value, &at, &mut b.diags))
    } else {
        Selector::JsonPath(Template::compile(value, &at, &mut b.diags))
    })
}

impl ItemReader {
    pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, own: Option<QueryLanguage>, value: &Value) -> Option<Self> {
        let loc = site.at("ItemReader");
        let reader = object(b, value, &loc, "ItemReader")?;
        unknown_fields(b, reader, &["Resource", "Parameters", "Arguments", "ReaderConfig"], &loc);
        let jsonata = site.ql(own) == QueryLanguage::JSONata;
        let arn = match reader.get("Resource") {
            Some(Value::String(arn)) => arn.clone(),
            _ => {
                b.diag("SCHEMA_VALIDATION_FAILED", &loc, "An 'ItemReader' requires a 'Resource'");
                return None;
            }
        };
        let get_object = match TaskResource::item_reader_action(&arn) {
            Some(action) => action == "getObject",
            None => {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{loc}/Resource"),
                    format!(
                        "The ItemReader resource '{arn}' is not supported: use arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2"
                    ),
                );
                return None;
            }
        };
        let arguments = arguments(b, reader, &loc, jsonata);
        if arguments.is_none() {
            let field = if jsonata { "Arguments" } else { "Parameters" };
            b.diag("SCHEMA_VALIDATION_FAILED", &loc, format!("An 'ItemReader' requires '{field}' naming the Bucket"));
        }
        let config_loc = format!("{loc}/ReaderConfig");
        let empty = Map::new();
        let config = match reader.get("ReaderConfig") {
            Some(value) => object(b, value, &config_loc, "ReaderConfig").unwrap_or(&empty),
            None => &empty,
        };
        unknown_fields(
            b,
            config,
            &["InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath"],
            &config_loc,
        );
        let input_type = config.get("InputType").and_then(Value::as_str);
        match input_type {
            None if get_object => b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &config_loc,
                "An s3:getObject ItemReader requires 'ReaderConfig.InputType' (CSV, JSON or JSONL)",
            ),
            Some(t) if !get_object => b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{config_loc}/InputType"),
                format!("'InputType' {t} reads an object; an s3:listObjectsV2 ItemReader lists objects instead"),
            ),
            Some(t) if !INPUT_TYPES.contains(&t) => b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{config_loc}/InputType"),
                format!("'InputType' {t} is not supported: use CSV, JSON or JSONL"),
            ),
            _ => {}
        }
        if config.contains_key("InputType") && input_type.is_none() {
            b.diag("SCHEMA_VALIDATION_FAILED", &format!("{config_loc}/InputType"), "'InputType' must be a string");
        }
        let csv = input_type == Some("CSV");
        for field in ["CSVHeaderLocation", "CSVHeaders", "CSVDelimiter"] {
            if config.contains_key(field) && !csv {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/{field}"),
                    format!("'{field}' applies only to the CSV InputType"),
                );
            }
        }
        if csv {
            let given = match config.get("CSVHeaderLocation").map(|v| v.as_str()) {
                None | Some(Some("FIRST_ROW")) => false,
                Some(Some("GIVEN")) => true,
                Some(_) => {
                    b.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{config_loc}/CSVHeaderLocation"),
                        "'CSVHeaderLocation' is FIRST_ROW or GIVEN",
                    );
                    false
                }
            };
            let headers = config.get("CSVHeaders");
            let headers_valid =
                headers.and_then(Value::as_array).is_some_and(|h| !h.is_empty() && h.iter().all(Value::is_string));
            match (given, headers) {
                (true, _) if !headers_valid => b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/CSVHeaders"),
                    "A GIVEN 'CSVHeaderLocation' requires 'CSVHeaders', a non-empty array of strings",
                ),
                (false, Some(_)) => b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/CSVHeaders"),
                    "'CSVHeaders' requires 'CSVHeaderLocation': GIVEN",
                ),
                _ => {}
            }
            if let Some(delimiter) = config.get("CSVDelimiter")
                && !delimiter.as_str().is_some_and(|d| CSV_DELIMITERS.contains(&d))
            {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/CSVDelimiter"),
                    "'CSVDelimiter' is COMMA, PIPE, SEMICOLON, SPACE or TAB",
                );
            }
        }
        let max_items_path = path_field(b, config, "MaxItemsPath", &config_loc);
        let nested = Site { loc: &config_loc, ..*site };
        let max_items = b.num_source(&nested, own, config.get("MaxItems"), max_items_path, "MaxItems");
        let mut config = config.clone();
        config.remove("MaxItems");
        config.remove("MaxItemsPath");
        Some(ItemReader { arn, arguments, config, max_items })
    }

    /// `MaxItems`, resolved against the state's input.
    pub(crate) fn limit(&self, sc: &mut StateCx<'_, '_>, input: &Value) -> Result<Option<u64>, Failure> {
        Ok(max_items(sc, self.max_items.as_ref(), "MaxItems", input)?.map(|max| max.min(MAX_ITEMS)))
    }

    /// What the driver is asked to read: the reader's `Arguments` and its `ReaderConfig`, with
    /// `MaxItems` resolved (0 or absent: no limit).
    pub(crate) fn request(&self, sc: &mut StateCx<'_, '_>, input: &Value) -> Result<(TaskResource, Value), Failure> {
        let arguments = match &self.arguments {
            Some(selector) => sc.select(selector, "Parameters", input, None)?,
            None => Value::Object(Map::new()),
        };
        let mut config = self.config.clone();
        if let Some(max) = self.limit(sc, input)? {
            config.insert("MaxItems".into(), max.into());
        }
        let payload = json!({"Arguments": arguments, "ReaderConfig": config});
        Ok((TaskResource::ItemReader { arn: self.arn.clone() }, payload))
    }
}

/// The items the driver read, or why the reader failed (always `States.ItemReaderFailed`, the
/// error AWS raises whatever went wrong).
pub(crate) fn items_read(
    result: Result<Value, (String, Option<String>)>,
    limit: Option<u64>,
) -> Result<Vec<Value>, Failure> {
    let failed = |cause: String| Failure::new(names::ITEM_READER_FAILED, Some(cause));
    match result {
        Ok(Value::Array(mut items)) => {
            if let Some(limit) = limit.filter(|&l| l > 0) {
                items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            }
            Ok(items)
        }
        Ok(other) => Err(failed(format!("The item reader returned {} instead of an array of items", kind(&other)))),
        Err((error, cause)) if error == names::ITEM_READER_FAILED => Err(Failure::new(&error, cause)),
        Err((error, cause)) => Err(failed(cause.map_or_else(|| error.clone(), |cause| format!("{error}: {cause}")))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A non-negative integer field of the reader or the batcher.
fn max_items(
    sc: &mut StateCx<'_, '_>,
    source: Option<&NumSource>,
    field: &str,
    input: &Value,
) -> Result<Option<u64>, Failure> {
    let Some(source) = source else {
        return Ok(None);
    };
    let value = sc.number(source, field, input)?;
    let parsed = match &value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| sc.invalid(&format!("The value of {field} must be a non-negative integer, but was: {value}")))
}

impl ItemBatcher {
    pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, own: Option<QueryLanguage>, value: &Value) -> Option<Self> {
        let loc = site.at("ItemBatcher");
        let batcher = object(b, value, &loc, "ItemBatcher")?;
        let fields = [
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
        ];
        unknown_fields(b, batcher, &fields, &loc);
        let nested = Site { loc: &loc, ..*site };
        let items_path = path_field(b, batcher, "MaxItemsPerBatchPath", &loc);
        let max_items = b.num_source(&nested, own, batcher.get("MaxItemsPerBatch"), items_path, "MaxItemsPerBatch");
        let bytes_path = path_field(b, batcher, "MaxInputBytesPerBatchPath", &loc);
        let max_bytes =
            b.num_source(&nested, own, batcher.get("MaxInputBytesPerBatch"), bytes_path, "MaxInputBytesPerBatch");
        if max_items.is_none() && max_bytes.is_none() {
            b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &loc,
                "An 'ItemBatcher' requires 'MaxItemsPerBatch' or 'MaxInputBytesPerBatch' (or their Path forms)",
            );
        }
        if let Some(NumSource::Fixed(v)) = &max_bytes
            && v.as_u64().is_some_and(|n| n > MAX_PAYLOAD_BYTES as u64)
        {
            b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{loc}/MaxInputBytesPerBatch"),
                "'MaxInputBytesPerBatch' is at most 262144 (256 KiB)",
            );
        }
        let jsonata = site.ql(own) == QueryLanguage::JSONata;
        let batch_input = batcher.get("BatchInput").map(|v| {
            let at = format!("{loc}/BatchInput");
            if jsonata {
                Selector::Jsonata(JTemplate::compile(v, &at, &mut b.diags))
            } else {
                Selector::JsonPath(Template::compile(v, &at, &mut b.diags))
            }
        });
        Some(ItemBatcher { max_items, max_bytes, batch_input })
    }

    /// Groups the selected item inputs into batches, `{"BatchInput": …, "Items": […]}` each, in
    /// item order. A batch closes at `MaxItemsPerBatch` items, or before the item that would take
    /// it past `MaxInputBytesPerBatch`; an item too large for any batch travels alone, and its
    /// processor run then meets the state size limit.
    pub(crate) fn batch(
        &self,
        sc: &mut StateCx<'_, '_>,
        input: &Value,
        items: Vec<Value>,
    ) -> Result<VecDeque<(usize, Value)>, Failure> {
        let max_items = max_items(sc, self.max_items.as_ref(), "MaxItemsPerBatch", input)?.filter(|&n| n > 0);
        let max_bytes = max_items_bytes(sc, self.max_bytes.as_ref(), input)?;
        let batch_input = match &self.batch_input {
            Some(selector) => Some(sc.select(selector, "BatchInput", input, None)?),
            None => None,
        };
        // The bytes of a batch with no items, and the comma between two items.
        let frame = batch_value(batch_input.as_ref(), Vec::new()).to_string().len();
        let mut batches = VecDeque::new();
        let mut current: Vec<Value> = Vec::new();
        let mut bytes = frame;
        for item in items {
            let size = item.to_string().len();
            let grown = bytes + usize::from(!current.is_empty()) + size;
            let full = max_items.is_some_and(|n| current.len() as u64 >= n)
                || max_bytes.is_some_and(|limit| !current.is_empty() && grown > limit);
            if full {
                let index = batches.len();
                batches.push_back((index, batch_value(batch_input.as_ref(), std::mem::take(&mut current))));
                bytes = frame;
            }
            bytes += usize::from(!current.is_empty()) + size;
            current.push(item);
        }
        if !current.is_empty() {
            let index = batches.len();
            batches.push_back((index, batch_value(batch_input.as_ref(), current)));
        }
        Ok(batches)
    }
}

fn max_items_bytes(
    sc: &mut StateCx<'_, '_>,
    source: Option<&NumSource>,
    input: &Value,
) -> Result<Option<usize>, Failure> {
    let bytes = max_items(sc, source, "MaxInputBytesPerBatch", input)?;
    Ok(bytes.filter(|&n| n > 0).map(|n| usize::try_from(n).unwrap_or(usize::MAX).min(MAX_PAYLOAD_BYTES)))
}

fn batch_value(batch_input: Option<&Value>, items: Vec<Value>) -> Value {
    let mut batch = Map::new();
    if let Some(input) = batch_input {
        batch.insert("BatchInput".into(), input.clone());
    }
    batch.insert("Items".into(), Value::Array(items));
    Value::Object(batch)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::execution::{Action, Input};
    use crate::names;
    use crate::resource::TaskResource;
    use crate::testing::run_with;
    use crate::{Diagnostic, StateMachine};

    fn distributed(fields: &str, processor: &str) -> String {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{fields}
                "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
                    "StartAt":"P","States":{{"P":{processor}}}}},"End":true}}}}}}"#
        )
    }

    fn diagnostics(def: &str) -> Vec<Diagnostic> {
        match StateMachine::from_json(def) {
            Ok(_) => Vec::new(),
            Err(crate::Error::InvalidDefinition(diagnostics)) => diagnostics,
            Err(other) => panic!("{other}"),
        }
    }

    const PASS: &str = r#"{"Type":"Pass","End":true}"#;

    #[test]
    fn the_reader_asks_the_driver_with_resolved_fields_and_iterates_what_it_read() {
        let def = distributed(
            r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject",
                "Parameters":{"Bucket.$":"$.bucket","Key":"orders.csv"},
                "ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","MaxItemsPath":"$.limit"}},
               "ItemSelector":{"order.$":"$$.Map.Item.Value.id","at.$":"$$.Map.Item.Index"},"#,
            PASS,
        );
        let mut asked = Vec::new();
        let out = run_with(&def, json!({"bucket": "in", "limit": 2}), &mut |action| {
            let Action::InvokeTask { task_id, resource, payload, .. } = action else { unreachable!() };
            asked.push((resource.clone(), Value::clone(payload)));
            // A driver may return more than MaxItems; the interpreter holds to it anyway.
            Input::TaskSucceeded { task_id: *task_id, output: json!([{"id": "a"}, {"id": "b"}, {"id": "c"}]).into() }
        });
        assert_eq!(out.output(), Some(json!([{"order": "a", "at": 0}, {"order": "b", "at": 1}])));
        assert_eq!(
            asked,
            [(
                TaskResource::ItemReader { arn: "arn:aws:states:::s3:getObject".into() },
                json!({"Arguments": {"Bucket": "in", "Key": "orders.csv"},
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2}})
            )]
        );
        let types = out.event_types();
        assert_eq!(types[..4], ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted"]);
    }

    #[test]
    fn a_failed_read_is_item_reader_failed_and_can_be_caught() {
        let def = r#"{"StartAt":"M","States":{
            "M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"}},
                 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
                 "Catch":[{"ErrorEquals":["States.ItemReaderFailed"],"Next":"Caught"}],"End":true},
            "Caught":{"Type":"Pass","End":true}}}"#;
        let out = run_with(def, json!({}), &mut |action| {
            let Action::InvokeTask { task_id, .. } = action else { unreachable!() };
            Input::TaskFailed { task_id: *task_id, error: "S3.NoSuchBucket".into(), cause: Some("no bucket b".into()) }
        });
        assert_eq!(
            out.output(),
            Some(json!({"Error": names::ITEM_READER_FAILED, "Cause": "S3.NoSuchBucket: no bucket b"}))
        );
        let uncaught = def.replace(r#"["States.ItemReaderFailed"]"#, r#"["States.Timeout"]"#);
        let not_items = run_with(&uncaught, json!({}), &mut |action| {
            let Action::InvokeTask { task_id, .. } = action else { unreachable!() };
            Input::TaskSucceeded { task_id: *task_id, output: json!({"Contents": []}).into() }
        });
        let (error, cause) = not_items.failure().expect("a failed execution");
        assert_eq!(error.as_deref(), Some(names::ITEM_READER_FAILED));
        assert_eq!(cause.as_deref(), Some("The item reader returned an object instead of an array of items"));
    }

    #[test]
    fn batches_close_at_the_item_count_or_before_the_byte_limit() {
        let def = distributed(
            r#""ItemBatcher":{"MaxItemsPerBatch":3,"BatchInput":{"run.$":"$.run"}},"ItemsPath":"$.xs",
               "ItemSelector":{"v.$":"$$.Map.Item.Value"},"#,
            r#"{"Type":"Pass","End":true}"#,
        );
        let out = run_with(&def, json!({"run": 7, "xs": [1, 2, 3, 4, 5, 6, 7]}), &mut |_| unreachable!());
        assert_eq!(
            out.output(),
            Some(json!([
                {"BatchInput": {"run": 7}, "Items": [{"v": 1}, {"v": 2}, {"v": 3}]},
                {"BatchInput": {"run": 7}, "Items": [{"v": 4}, {"v": 5}, {"v": 6}]},
                {"BatchInput": {"run": 7}, "Items": [{"v": 7}]},
            ]))
        );
        // `{"Items":[]}` is 12 bytes and each "abcd" 6, plus a comma between two: three fit in 32.
        let def = distributed(r#""ItemBatcher":{"MaxInputBytesPerBatch":32},"#, PASS);
        let out = run_with(
            &def,
            json!(["abcd", "abcd", "abcd", "abcd", "a-much-longer-item-than-fits"]),
            &mut |_| unreachable!(),
        );
        assert_eq!(
            out.output(),
            Some(json!([
                {"Items": ["abcd", "abcd", "abcd"]},
                {"Items": ["abcd"]},
                {"Items": ["a-much-longer-item-than-fits"]},
            ]))
        );
    }

    #[test]
    fn a_map_run_counts_its_children_through_failure_and_redrive() {
        use std::sync::Arc;

        use crate::{Execution, ExecutionContext, MapRunStatus, SeededEntropy, Step, TaskId, Timestamp};

        let def = distributed(
            r#""MaxConcurrency":2,"ToleratedFailureCount":1,"#,
            r#"{"Type":"Task","Resource":"wasm:work","End":true}"#,
        );
        let machine = Arc::new(StateMachine::from_json(&def).unwrap());
        let ctx = ExecutionContext::new("m", "e", Timestamp::from_millis(0));
        let entropy = &mut SeededEntropy::new(1);
        let tasks = |step: &Step| -> Vec<TaskId> {
            step.actions
                .iter()
                .filter_map(|a| match a {
                    Action::InvokeTask { task_id, .. } => Some(*task_id),
                    _ => None,
                })
                .collect()
        };
        let fail = |task_id| Input::TaskFailed { task_id, error: "Boom".into(), cause: None };
        let (mut execution, step) =
            Execution::start(machine, json!([1, 2, 3, 4]), ctx, Timestamp::from_millis(5), entropy);
        let counts = |e: &Execution| {
            let c = e.map_runs()[0].counts;
            [c.pending, c.running, c.succeeded, c.failed, c.aborted, c.total]
        };
        assert_eq!(counts(&execution), [2, 2, 0, 0, 0, 4]);
        let first = tasks(&step);
        execution.apply(
            Input::TaskSucceeded { task_id: first[0], output: json!(1).into() },
            Timestamp::from_millis(6),
            entropy,
        );
        let step = execution.apply(fail(first[1]), Timestamp::from_millis(7), entropy);
        assert_eq!(counts(&execution), [0, 2, 1, 1, 0, 4]);
        let second = tasks(&step);
        execution.apply(fail(second[0]), Timestamp::from_millis(8), entropy);
        let run = &execution.map_runs()[0];
        assert_eq!((run.status, run.stop), (MapRunStatus::Failed, Some(Timestamp::from_millis(8))));
        assert_eq!(counts(&execution), [0, 0, 1, 2, 1, 4]);
        assert!(run.arn.contains(":mapRun:m/M:e:"), "{}", run.arn);
        let step = execution.apply(Input::Redrive, Timestamp::from_millis(9), entropy);
        let types: Vec<_> = step.history.iter().map(|e| e.event_type()).collect();
        assert_eq!(types[..2], ["ExecutionRedriven", "MapRunRedriven"]);
        let run = &execution.map_runs()[0];
        assert_eq!(
            (run.status, run.redrive_count, run.redrive_date),
            (MapRunStatus::Running, 1, Some(Timestamp::from_millis(9)))
        );
        assert_eq!(counts(&execution), [0, 3, 1, 0, 0, 4]);
    }

    #[test]
    fn an_update_raises_the_concurrency_of_a_running_map_run() {
        use std::sync::Arc;

        use crate::{Execution, ExecutionContext, MapRunUpdate, SeededEntropy, Step, Timestamp};

        let def = distributed(r#""MaxConcurrency":1,"#, r#"{"Type":"Task","Resource":"wasm:work","End":true}"#);
        let machine = Arc::new(StateMachine::from_json(&def).unwrap());
        let ctx = ExecutionContext::new("m", "e", Timestamp::from_millis(0));
        let entropy = &mut SeededEntropy::new(1);
        let invoked = |step: &Step| step.actions.iter().filter(|a| matches!(a, Action::InvokeTask { .. })).count();
        let (mut execution, step) =
            Execution::start(machine, json!([1, 2, 3, 4]), ctx, Timestamp::from_millis(1), entropy);
        assert_eq!(invoked(&step), 1);
        let update = |arn: &str| {
            Input::UpdateMapRun(MapRunUpdate {
                map_run_arn: arn.to_owned(),
                max_concurrency: Some(3),
                tolerated_failure_count: Some(2),
                tolerated_failure_percentage: None,
            })
        };
        let step = execution.apply(
            update("arn:aws:states:us-east-1:1:mapRun:m/M:e:other"),
            Timestamp::from_millis(2),
            entropy,
        );
        assert_eq!(invoked(&step), 0, "another Map Run's update changes nothing");
        let arn = execution.map_runs()[0].arn.clone();
        let step = execution.apply(update(&arn), Timestamp::from_millis(3), entropy);
        assert_eq!(invoked(&step), 2, "two more children start at once");
        let run = &execution.map_runs()[0];
        assert_eq!(
            (run.max_concurrency, run.tolerated_failure_count, run.counts.running, run.counts.pending),
            (3, 2, 3, 1)
        );
    }

    #[test]
    fn faults_in_reader_and_batcher_fields_are_reported_with_their_paths() {
        let cases = [
            (
                r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},"#,
                "/States/M/ItemReader/ReaderConfig",
            ),
            (
                r#""ItemReader":{"Resource":"arn:aws:states:::dynamodb:scan","Parameters":{}},"#,
                "/States/M/ItemReader/Resource",
            ),
            (
                r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"},
                "ReaderConfig":{"InputType":"PARQUET"}},"#,
                "/States/M/ItemReader/ReaderConfig/InputType",
            ),
            (
                r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"},
                "ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"}},"#,
                "/States/M/ItemReader/ReaderConfig/CSVHeaders",
            ),
            (
                r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"},
                "ReaderConfig":{"InputType":"JSON","CSVDelimiter":"TAB"}},"#,
                "/States/M/ItemReader/ReaderConfig/CSVDelimiter",
            ),
            (r#""ItemBatcher":{"BatchInput":{}},"#, "/States/M/ItemBatcher"),
            (r#""ItemBatcher":{"MaxInputBytesPerBatch":300000},"#, "/States/M/ItemBatcher/MaxInputBytesPerBatch"),
            (r#""ResultWriter":{},"#, "/States/M/ResultWriter"),
        ];
        for (fields, pointer) in cases {
            let found = diagnostics(&distributed(fields, PASS));
            assert!(
                found.iter().any(|d| d.location == pointer),
                "{fields}: expected a fault at {pointer}, got {found:?}"
            );
        }
        let inline = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":2},
            "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#;
        assert!(diagnostics(inline).iter().any(|d| d.location == "/States/M/ItemBatcher"));
    }
}
