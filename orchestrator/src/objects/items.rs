//! A Distributed Map's `ItemReader`: one object parsed as CSV, JSON or JSON Lines, or a listing of
//! objects.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use stepwasm_asl::TaskResource;
use stepwasm_asl::names::{ITEM_READER_FAILED, RESULT_WRITER_FAILED};

use super::ObjectStore;
use crate::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};

/// The largest object a reader parses. Its items are kept in the execution's journal, so that a
/// replay never reads the object again: an object larger than this is a job for many maps, not
/// one.
pub const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;
/// The most objects a listing reads, for the same reason: about as much journal as the largest
/// object.
pub const MAX_LISTED_OBJECTS: usize = 250_000;

/// Serves a Distributed Map's `ItemReader` and `ResultWriter` from an [`ObjectStore`]; every
/// other task goes to `inner`.
pub struct BucketTasks {
    inner: Arc<dyn TaskInvoker>,
    objects: ObjectStore,
}

impl BucketTasks {
    /// Reads items from and writes results to `objects`, and hands other tasks to `inner`.
    pub fn new(inner: Arc<dyn TaskInvoker>, objects: ObjectStore) -> Self {
        BucketTasks { inner, objects }
    }
}

impl TaskInvoker for BucketTasks {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        match &call.resource {
            TaskResource::ItemReader { arn } => {
                let arn = arn.clone();
                Box::pin(async move {
                    let outcome = match read(&self.objects, &arn, &call.payload).await {
                        Ok(items) => TaskOutcome::Succeeded(Value::Array(items)),
                        Err(cause) => TaskOutcome::Failed { error: ITEM_READER_FAILED.to_owned(), cause: Some(cause) },
                    };
                    (outcome, None)
                })
            }
            TaskResource::ResultWriter { .. } => Box::pin(async move {
                let outcome = match super::results::write(&self.objects, &call.payload).await {
                    Ok(manifest) => TaskOutcome::Succeeded(manifest),
                    Err(cause) => TaskOutcome::Failed { error: RESULT_WRITER_FAILED.to_owned(), cause: Some(cause) },
                };
                (outcome, None)
            }),
            _ => self.inner.invoke(call),
        }
    }
}

/// What the interpreter asked for (see [`TaskResource::ItemReader`]).
struct Request<'a> {
    bucket: &'a str,
    arguments: &'a Map<String, Value>,
    config: &'a Map<String, Value>,
    /// 0: no limit.
    max_items: usize,
}

async fn read(objects: &ObjectStore, arn: &str, payload: &Value) -> Result<Vec<Value>, String> {
    let empty = Map::new();
    let arguments = payload.get("Arguments").and_then(Value::as_object).unwrap_or(&empty);
    let config = payload.get("ReaderConfig").and_then(Value::as_object).unwrap_or(&empty);
    let Some(bucket) = arguments.get("Bucket").and_then(Value::as_str) else {
        return Err("The ItemReader's arguments must name the 'Bucket' (a string)".to_owned());
    };
    let max_items =
        config.get("MaxItems").and_then(Value::as_u64).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let request = Request { bucket, arguments, config, max_items };
    match TaskResource::item_reader_action(arn) {
        Some("getObject") => get_object(objects, &request).await,
        Some("listObjectsV2") => list_objects(objects, &request, MAX_LISTED_OBJECTS).await,
        _ => Err(format!("The ItemReader resource {arn} is not supported")),
    }
}

async fn get_object(objects: &ObjectStore, request: &Request<'_>) -> Result<Vec<Value>, String> {
    let Some(key) = request.arguments.get("Key").and_then(Value::as_str) else {
        return Err("An s3:getObject ItemReader's arguments must name the 'Key' (a string)".to_owned());
    };
    let bytes = objects.get(request.bucket, key, MAX_OBJECT_BYTES).await.map_err(|error| error.to_string())?;
    parse_items(&bytes, request.config, request.max_items, &format!("s3://{}/{key}", request.bucket))
}

/// The items an object holds, as its `ReaderConfig` reads them (`InputType` CSV, JSON or
/// JSONL); at most `max_items` (0: all). `at` names the object in errors.
pub(crate) fn parse_items(
    bytes: &[u8],
    config: &Map<String, Value>,
    max_items: usize,
    at: &str,
) -> Result<Vec<Value>, String> {
    match config.get("InputType").and_then(Value::as_str).unwrap_or("JSON") {
        "CSV" => csv_items(bytes, config, max_items, at),
        "JSONL" => json_lines(bytes, max_items, at),
        "JSON" => json_array(bytes, max_items, at),
        other => Err(format!("The InputType {other} is not supported")),
    }
}

/// Lists at most `most` objects, failing past that unless `MaxItems` stops first.
async fn list_objects(objects: &ObjectStore, request: &Request<'_>, most: usize) -> Result<Vec<Value>, String> {
    let prefix = request.arguments.get("Prefix").and_then(Value::as_str).unwrap_or("");
    let mut items = Vec::new();
    let mut continuation = None;
    loop {
        let page = objects.list(request.bucket, prefix, continuation).await.map_err(|error| error.to_string())?;
        for object in page.objects {
            if request.max_items > 0 && items.len() >= request.max_items {
                return Ok(items);
            }
            if items.len() >= most {
                return Err(format!(
                    "s3://{}/{prefix} holds more than {most} objects, the most an ItemReader lists: \
                     narrow the Prefix or set ReaderConfig.MaxItems",
                    request.bucket
                ));
            }
            items.push(json!({
                "Etag": object.etag,
                "Key": object.key,
                "LastModified": object.last_modified,
                "Size": object.size,
                "StorageClass": object.storage_class,
            }));
        }
        match page.next {
            Some(next) if request.max_items == 0 || items.len() < request.max_items => continuation = Some(next),
            _ => return Ok(items),
        }
    }
}

fn full(items: &[Value], max_items: usize) -> bool {
    max_items > 0 && items.len() >= max_items
}

/// Each row is an object of strings keyed by the headers: the first row's, or the `CSVHeaders`
/// given.
fn csv_items(bytes: &[u8], config: &Map<String, Value>, max_items: usize, at: &str) -> Result<Vec<Value>, String> {
    let delimiter = match config.get("CSVDelimiter").and_then(Value::as_str) {
        None | Some("COMMA") => b',',
        Some("PIPE") => b'|',
        Some("SEMICOLON") => b';',
        Some("SPACE") => b' ',
        Some("TAB") => b'\t',
        Some(other) => return Err(format!("The CSVDelimiter {other} is not supported")),
    };
    let given = config.get("CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN");
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(!given).from_reader(bytes);
    let headers: Vec<String> = if given {
        let headers = config.get("CSVHeaders").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        headers.iter().filter_map(Value::as_str).map(str::to_owned).collect()
    } else {
        let row = reader.headers().map_err(|error| format!("The header row of {at} is not CSV: {error}"))?;
        row.iter().map(str::to_owned).collect()
    };
    if headers.is_empty() {
        return Err(format!("{at} has no header row"));
    }
    let mut items = Vec::new();
    for record in reader.records() {
        if full(&items, max_items) {
            break;
        }
        let record = record.map_err(|error| match error.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
                "Line {} of {at} has {len} fields, but the header has {expected_len}",
                pos.as_ref().map_or(0, csv::Position::line)
            ),
            _ => format!("{at} is not CSV: {error}"),
        })?;
        if record.len() != headers.len() {
            let line = record.position().map_or(0, csv::Position::line);
            return Err(format!(
                "Line {line} of {at} has {} fields, but the header has {}",
                record.len(),
                headers.len()
            ));
        }
        let row: Map<String, Value> =
            headers.iter().zip(record.iter()).map(|(header, field)| (header.clone(), Value::from(field))).collect();
        items.push(Value::Object(row));
    }
    Ok(items)
}

fn json_lines(bytes: &[u8], max_items: usize, at: &str) -> Result<Vec<Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|error| format!("{at} is not UTF-8: {error}"))?;
    let mut items = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if full(&items, max_items) {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let item =
            serde_json::from_str(line).map_err(|error| format!("Line {} of {at} is not JSON: {error}", number + 1))?;
        items.push(item);
    }
    Ok(items)
}

fn json_array(bytes: &[u8], max_items: usize, at: &str) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| format!("{at} is not JSON: {error}"))?;
    let Value::Array(mut items) = value else {
        return Err(format!("{at} does not hold a JSON array"));
    };
    if max_items > 0 {
        items.truncate(max_items);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config_of(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(config) => config,
            _ => Map::new(),
        }
    }

    #[test]
    fn csv_rows_become_objects_of_strings() {
        let items = csv_items(b"id,qty\na,1\n\"b,c\",2\n", &config_of(json!({})), 0, "x").unwrap();
        assert_eq!(items, [json!({"id": "a", "qty": "1"}), json!({"id": "b,c", "qty": "2"})]);
        let given = config_of(json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["k", "v"], "CSVDelimiter": "PIPE"}));
        assert_eq!(
            csv_items(b"a|1\nb|2\nc|3\n", &given, 2, "x").unwrap(),
            [json!({"k": "a", "v": "1"}), json!({"k": "b", "v": "2"})]
        );
        let ragged = csv_items(b"id,qty\na,1\nb\n", &config_of(json!({})), 0, "s3://in/o.csv").unwrap_err();
        assert_eq!(ragged, "Line 3 of s3://in/o.csv has 1 fields, but the header has 2");
    }

    #[tokio::test]
    async fn a_listing_stops_at_max_items_and_fails_past_its_ceiling() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("b/p")).unwrap();
        for name in ["x", "y", "z"] {
            std::fs::write(root.path().join("b/p").join(name), name).unwrap();
        }
        let config = super::super::ObjectStoreConfig { local_root: Some(root.path().to_owned()), s3: None };
        let objects = ObjectStore::open(&config).unwrap();
        let arguments = config_of(json!({"Bucket": "b", "Prefix": "p/"}));
        let empty = Map::new();
        let request = |max_items| Request { bucket: "b", arguments: &arguments, config: &empty, max_items };
        let keys =
            |items: Vec<Value>| items.iter().map(|item| item["Key"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(keys(list_objects(&objects, &request(0), 3).await.unwrap()), ["p/x", "p/y", "p/z"]);
        assert_eq!(keys(list_objects(&objects, &request(2), 2).await.unwrap()), ["p/x", "p/y"]);
        let refused = list_objects(&objects, &request(0), 2).await.unwrap_err();
        assert!(refused.starts_with("s3://b/p/ holds more than 2 objects"), "{refused}");
    }

    #[test]
    fn json_and_json_lines() {
        assert_eq!(json_lines(b"{\"a\":1}\n\n2\n", 0, "x").unwrap(), [json!({"a": 1}), json!(2)]);
        assert_eq!(json_lines(b"1\n{oops\n", 0, "x").unwrap_err().split(':').next(), Some("Line 2 of x is not JSON"));
        assert_eq!(json_array(b"[1,2,3]", 2, "x").unwrap(), [json!(1), json!(2)]);
        assert_eq!(json_array(b"{\"a\":1}", 0, "x").unwrap_err(), "x does not hold a JSON array");
    }
}
