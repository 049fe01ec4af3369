//! A Distributed Map's `ResultWriter`: the children's results, written to a bucket as AWS
//! writes them.
//!
//! Under `PREFIX/RUN/` (`RUN` being the last part of the Map Run's ARN) each status that has
//! results gets one file, `SUCCEEDED_0.json`, `FAILED_0.json` or `PENDING_0.json` (a JSON array,
//! or JSON Lines with `OutputType` `JSONL`), and `manifest.json` lists them:
//! `{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [{"Key", "Size"}], "PENDING": […],
//! "SUCCEEDED": […]}}`. The reply is `{"Bucket", "Key"}` of the manifest.

use serde_json::{Map, Value, json};

use super::ObjectStore;

/// The statuses a Map Run's results are grouped by, in the order they are written.
const STATUSES: [&str; 3] = ["SUCCEEDED", "FAILED", "PENDING"];

/// Writes the results the interpreter gathered (see `TaskResource::ResultWriter`).
pub(super) async fn write(objects: &ObjectStore, payload: &Value) -> Result<Value, String> {
    let arguments = payload.get("Arguments").and_then(Value::as_object).cloned().unwrap_or_default();
    let bucket = match arguments.get("Bucket") {
        Some(Value::String(bucket)) => bucket.clone(),
        _ => return Err("The ResultWriter needs a string 'Bucket' in its Parameters or Arguments".into()),
    };
    let prefix = match arguments.get("Prefix") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(prefix)) => prefix.trim_end_matches('/').to_owned(),
        Some(_) => return Err("The ResultWriter's 'Prefix' must be a string".into()),
    };
    let map_run_arn = payload.get("MapRunArn").and_then(Value::as_str).unwrap_or_default();
    let run = map_run_arn.rsplit(':').next().filter(|run| !run.is_empty()).unwrap_or("map-run");
    let folder = if prefix.is_empty() { run.to_owned() } else { format!("{prefix}/{run}") };
    let json_lines = payload.get("OutputType").and_then(Value::as_str) == Some("JSONL");
    let mut files = Map::new();
    for status in STATUSES {
        let results = payload.pointer(&format!("/Results/{status}")).and_then(Value::as_array);
        let mut written = Vec::new();
        if let Some(results) = results.filter(|results| !results.is_empty()) {
            let extension = if json_lines { "jsonl" } else { "json" };
            let key = format!("{folder}/{status}_0.{extension}");
            let body = encode(results, json_lines);
            let size = body.len();
            objects.put(&bucket, &key, body).await.map_err(|error| error.to_string())?;
            written.push(json!({"Key": key, "Size": size}));
        }
        files.insert(status.to_owned(), Value::Array(written));
    }
    let manifest = json!({"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files});
    let key = format!("{folder}/manifest.json");
    objects.put(&bucket, &key, manifest.to_string().into_bytes()).await.map_err(|error| error.to_string())?;
    Ok(json!({"Bucket": bucket, "Key": key}))
}

fn encode(results: &[Value], json_lines: bool) -> Vec<u8> {
    if !json_lines {
        return Value::Array(results.to_vec()).to_string().into_bytes();
    }
    let mut body = Vec::new();
    for result in results {
        body.extend_from_slice(result.to_string().as_bytes());
        body.push(b'\n');
    }
    body
}

#[cfg(test)]
mod tests {
    use super::super::ObjectStoreConfig;
    use super::*;

    #[tokio::test]
    async fn results_and_their_manifest_land_under_the_prefix() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("out")).unwrap();
        let objects =
            ObjectStore::open(&ObjectStoreConfig { local_root: Some(root.path().to_owned()), s3: None }).unwrap();
        let payload = json!({
            "Arguments": {"Bucket": "out", "Prefix": "jobs/"},
            "OutputType": "JSONL",
            "MapRunArn": "arn:aws:states:us-east-1:1:mapRun:m/each:e:run-7",
            "Results": {"SUCCEEDED": [{"a": 1}, {"a": 2}], "FAILED": [], "PENDING": [{"Status": "PENDING"}]},
        });
        let reply = write(&objects, &payload).await.unwrap();
        assert_eq!(reply, json!({"Bucket": "out", "Key": "jobs/run-7/manifest.json"}));
        let read = |key: &str| std::fs::read_to_string(root.path().join("out").join(key)).unwrap();
        assert_eq!(read("jobs/run-7/SUCCEEDED_0.jsonl"), "{\"a\":1}\n{\"a\":2}\n");
        let manifest: Value = serde_json::from_str(&read("jobs/run-7/manifest.json")).unwrap();
        assert_eq!(
            manifest,
            json!({"DestinationBucket": "out", "MapRunArn": "arn:aws:states:us-east-1:1:mapRun:m/each:e:run-7",
                   "ResultFiles": {"SUCCEEDED": [{"Key": "jobs/run-7/SUCCEEDED_0.jsonl", "Size": 16}], "FAILED": [],
                                   "PENDING": [{"Key": "jobs/run-7/PENDING_0.jsonl", "Size": 21}]}})
        );
        assert!(!root.path().join("out/jobs/run-7/FAILED_0.jsonl").exists(), "no file for a status without results");

        let escape = json!({"Arguments": {"Bucket": "out", "Prefix": "../../x"}, "MapRunArn": "a:b", "Results": {"SUCCEEDED": [1]}});
        assert!(write(&objects, &escape).await.is_err(), "a prefix cannot leave the bucket");
        let missing = json!({"Arguments": {"Bucket": "nowhere"}, "MapRunArn": "a:b", "Results": {"SUCCEEDED": [1]}});
        assert!(write(&objects, &missing).await.unwrap_err().contains("nowhere"));
    }
}
