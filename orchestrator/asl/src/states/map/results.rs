//! A Distributed Map's `ResultWriter`: what becomes of the children's results.
//!
//! With a `Resource` (`arn:aws:states:::s3:putObject`) the results are exported to a bucket: the
//! interpreter groups them by status and asks the driver to write them, with an
//! [`Action::InvokeTask`](crate::Action::InvokeTask) of [`TaskResource::ResultWriter`], and the
//! Map's output is `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`, the key of the
//! manifest the driver wrote. With only a `WriterConfig`, the results stay the Map's output,
//! transformed: `NONE` gives each child's whole record, `COMPACT` its output, `FLATTEN` its output
//! with arrays flattened.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::distributed::{arguments, object, unknown_fields};
use crate::compile::Site;
use crate::execution::{Failure, StateCx, child_names};
use crate::ir::Selector;
use crate::machine::Builder;
use crate::model::QueryLanguage;
use crate::resource::TaskResource;
use crate::timestamp::Timestamp;

/// The only resource a `ResultWriter` can use.
const PUT_OBJECT: &str = "putObject";

/// How each child's result is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transformation {
    /// The child's whole record: ARN, name, input, output, status, dates.
    None,
    /// The child's output.
    Compact,
    /// The child's output, an array's elements each on their own.
    Flatten,
}

/// `ResultWriter`.
#[derive(Clone, Debug)]
pub(crate) struct ResultWriter {
    /// `Resource`, when the results are exported.
    arn: Option<String>,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata): `Bucket` and `Prefix`.
    arguments: Option<Selector>,
    transformation: Transformation,
    /// `WriterConfig.OutputType` is `JSONL` rather than `JSON`.
    json_lines: bool,
}

/// What the interpreter knows of one child, for a `ResultWriter`.
#[derive(Clone, Debug)]
pub(crate) struct ChildLog {
    pub(crate) input: Arc<Value>,
    pub(crate) start: Timestamp,
    /// When it ended, and how.
    pub(crate) end: Option<(Timestamp, Result<Value, Failure>)>,
}

impl ResultWriter {
    pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, own: Option<QueryLanguage>, value: &Value) -> Option<Self> {
        let loc = site.at("ResultWriter");
        let writer = object(b, value, &loc, "ResultWriter")?;
        unknown_fields(b, writer, &["Resource", "Parameters", "Arguments", "WriterConfig"], &loc);
        let jsonata = site.ql(own) == QueryLanguage::JSONata;
        let arn = match writer.get("Resource") {
            None => None,
            Some(Value::String(arn)) if TaskResource::result_writer_action(arn) == Some(PUT_OBJECT) => {
                Some(arn.clone())
            }
            Some(other) => {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{loc}/Resource"),
                    format!("The ResultWriter resource {other} is not supported: use arn:aws:states:::s3:putObject"),
                );
                None
            }
        };
        let arguments = arguments(b, writer, &loc, jsonata);
        let config_loc = format!("{loc}/WriterConfig");
        let config = writer.get("WriterConfig").and_then(|value| object(b, value, &config_loc, "WriterConfig"));
        if let Some(config) = config {
            unknown_fields(b, config, &["Transformation", "OutputType"], &config_loc);
        }
        let field = |name: &str| config.and_then(|config| config.get(name));
        let transformation = match field("Transformation").map(|v| v.as_str()) {
            None if arn.is_some() => Transformation::None,
            None => Transformation::Compact,
            Some(Some("NONE")) => Transformation::None,
            Some(Some("COMPACT")) => Transformation::Compact,
            Some(Some("FLATTEN")) => Transformation::Flatten,
            Some(_) => {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/Transformation"),
                    "'Transformation' is NONE, COMPACT or FLATTEN",
                );
                Transformation::None
            }
        };
        let json_lines = match field("OutputType").map(|v| v.as_str()) {
            None | Some(Some("JSON")) => false,
            Some(Some("JSONL")) => true,
            Some(_) => {
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{config_loc}/OutputType"),
                    "'OutputType' is JSON or JSONL",
                );
                false
            }
        };
        match (writer.contains_key("Resource"), arguments.is_some(), config.is_some()) {
            (true, false, _) => {
                let field = if jsonata { "Arguments" } else { "Parameters" };
                b.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &loc,
                    format!("A ResultWriter 'Resource' requires '{field}' naming the Bucket"),
                );
            }
            (false, true, _) => {
                b.diag("SCHEMA_VALIDATION_FAILED", &loc, "A ResultWriter that names a bucket requires a 'Resource'")
            }
            (false, false, false) => b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &loc,
                "A ResultWriter requires a 'WriterConfig', or a 'Resource' with its bucket, or both",
            ),
            _ => {}
        }
        Some(ResultWriter { arn, arguments, transformation, json_lines })
    }

    /// Whether the results go to a bucket, rather than into the Map's output.
    pub(crate) fn exports(&self) -> bool {
        self.arn.is_some()
    }

    /// The Map's output when the results are not exported: each succeeded child's result, in
    /// item order, transformed.
    pub(crate) fn output(&self, map_run_arn: &str, log: &[Option<ChildLog>]) -> Value {
        let mut results = Vec::new();
        for (index, child) in log.iter().enumerate() {
            let Some(ChildLog { end: Some((_, Ok(output))), .. }) = child else { continue };
            match self.transformation {
                Transformation::None => results.push(record(map_run_arn, index, child.as_ref())),
                Transformation::Compact => results.push(output.clone()),
                Transformation::Flatten => match output {
                    Value::Array(items) => results.extend(items.iter().cloned()),
                    other => results.push(other.clone()),
                },
            }
        }
        Value::Array(results)
    }

    /// What the driver is asked to write: the writer's `Arguments` (`Bucket`, `Prefix`), the
    /// output type, and the children's results by status.
    pub(crate) fn request(
        &self,
        sc: &mut StateCx<'_, '_>,
        input: &Value,
        map_run_arn: &str,
        log: &[Option<ChildLog>],
    ) -> Result<(TaskResource, Value), Failure> {
        let arguments = match &self.arguments {
            Some(selector) => sc.select(selector, "Parameters", input, None)?,
            None => Value::Object(Map::new()),
        };
        let (mut succeeded, mut failed, mut pending) = (Vec::new(), Vec::new(), Vec::new());
        for (index, child) in log.iter().enumerate() {
            let Some(child) = child else {
                pending.push(record(map_run_arn, index, None));
                continue;
            };
            match &child.end {
                Some((_, Ok(output))) => match self.transformation {
                    Transformation::None => succeeded.push(record(map_run_arn, index, Some(child))),
                    Transformation::Compact => succeeded.push(output.clone()),
                    Transformation::Flatten => match output {
                        Value::Array(items) => succeeded.extend(items.iter().cloned()),
                        other => succeeded.push(other.clone()),
                    },
                },
                // A failed or aborted child is written whole whatever the transformation, as on
                // AWS.
                Some((_, Err(_))) | None => failed.push(record(map_run_arn, index, Some(child))),
            }
        }
        let payload = json!({
            "Arguments": arguments,
            "OutputType": if self.json_lines { "JSONL" } else { "JSON" },
            "MapRunArn": map_run_arn,
            "Results": {"SUCCEEDED": succeeded, "FAILED": failed, "PENDING": pending},
        });
        let arn = self.arn.clone().unwrap_or_default();
        Ok((TaskResource::ResultWriter { arn }, payload))
    }
}

/// A child's record, as DescribeExecution's SDK shape gives it.
fn record(map_run_arn: &str, index: usize, child: Option<&ChildLog>) -> Value {
    let mut record = Map::new();
    if let Some((arn, state_machine_arn, name)) = child_names(map_run_arn, index) {
        record.insert("ExecutionArn".into(), arn.into());
        record.insert("Name".into(), name.into());
        record.insert("StateMachineArn".into(), state_machine_arn.into());
    }
    let Some(child) = child else {
        record.insert("Status".into(), "PENDING".into());
        return Value::Object(record);
    };
    record.insert("Input".into(), child.input.to_string().into());
    record.insert("InputDetails".into(), json!({"Included": true}));
    record.insert("StartDate".into(), child.start.to_rfc3339().into());
    record.insert("RedriveCount".into(), 0.into());
    let status = match &child.end {
        // Results are written once no child runs: one without an end was stopped.
        None => "ABORTED",
        Some((stop, result)) => {
            record.insert("StopDate".into(), stop.to_rfc3339().into());
            match result {
                Ok(output) => {
                    record.insert("Output".into(), output.to_string().into());
                    record.insert("OutputDetails".into(), json!({"Included": true}));
                    record.insert("RedriveStatus".into(), "NOT_REDRIVABLE".into());
                    record.insert("RedriveStatusReason".into(), "Execution is SUCCEEDED and cannot be redriven".into());
                    "SUCCEEDED"
                }
                Err(failure) => {
                    if let Some(error) = &failure.error {
                        record.insert("Error".into(), error.as_str().into());
                    }
                    if let Some(cause) = &failure.cause {
                        record.insert("Cause".into(), cause.as_str().into());
                    }
                    record.insert("RedriveStatus".into(), "REDRIVABLE_BY_MAP_RUN".into());
                    "FAILED"
                }
            }
        }
    };
    record.insert("Status".into(), status.into());
    Value::Object(record)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::execution::{Action, Input};
    use crate::resource::TaskResource;
    use crate::testing::run_with;
    use crate::{Diagnostic, StateMachine};

    fn machine(writer: &str, processor: &str, tolerated: &str) -> String {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","Label":"each",{tolerated}"ResultWriter":{writer},
                "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
                    "StartAt":"P","States":{{"P":{processor}}}}},
                "Catch":[{{"ErrorEquals":["States.ALL"],"Next":"Caught"}}],"End":true}},
                "Caught":{{"Type":"Pass","End":true}}}}}}"#
        )
    }

    const EXPORT: &str =
        r#"{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix.$":"$.prefix"}}"#;
    const DOUBLE: &str = r#"{"Type":"Pass","Parameters":{"twice.$":"States.MathAdd($.n, $.n)"},"End":true}"#;

    fn items() -> Value {
        json!({"prefix": "runs", "items": [{"n": 1}, {"n": 2}, {"n": 3}]})
    }

    #[test]
    fn exported_results_are_grouped_by_status_and_the_output_names_the_manifest() {
        let def = machine(EXPORT, DOUBLE, "").replace(r#""Label":"each","#, r#""Label":"each","ItemsPath":"$.items","#);
        let mut written = None;
        let out = run_with(&def, items(), &mut |action| {
            let Action::InvokeTask { task_id, resource, payload, .. } = action else { unreachable!() };
            assert_eq!(resource, &TaskResource::ResultWriter { arn: "arn:aws:states:::s3:putObject".into() });
            written = Some(Value::clone(payload));
            Input::TaskSucceeded {
                task_id: *task_id,
                output: json!({"Bucket": "out", "Key": "runs/r/manifest.json"}).into(),
            }
        });
        let written = written.expect("the results were written");
        assert_eq!(written["Arguments"], json!({"Bucket": "out", "Prefix": "runs"}));
        assert_eq!(written["OutputType"], "JSON");
        let succeeded = written["Results"]["SUCCEEDED"].as_array().unwrap();
        assert_eq!(succeeded.len(), 3);
        assert_eq!(
            (written["Results"]["FAILED"].clone(), written["Results"]["PENDING"].clone()),
            (json!([]), json!([]))
        );
        let first = &succeeded[0];
        assert_eq!(
            (&first["Status"], &first["Input"], &first["Output"]),
            (&json!("SUCCEEDED"), &json!(r#"{"n":1}"#), &json!(r#"{"twice":2}"#))
        );
        assert!(first["ExecutionArn"].as_str().is_some_and(|arn| arn.contains(":execution:test/each:")), "{first}");
        let output = out.output().unwrap();
        assert_eq!(output["ResultWriterDetails"], json!({"Bucket": "out", "Key": "runs/r/manifest.json"}));
        assert!(output["MapRunArn"].as_str().is_some_and(|arn| arn.contains(":mapRun:test/each:")));
        let types = out.event_types();
        let tail: Vec<&str> = types.iter().rev().take(4).rev().map(String::as_str).collect();
        assert_eq!(tail, ["MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]);
    }

    #[test]
    fn a_writer_config_alone_shapes_the_output() {
        let pairs =
            r#"{"Type":"Pass","Parameters":{"pair.$":"States.Array($.n, $.n)"},"OutputPath":"$.pair","End":true}"#;
        let run = |config: &str| {
            let def = machine(&format!(r#"{{"WriterConfig":{config}}}"#), pairs, "")
                .replace(r#""Label":"each","#, r#""Label":"each","ItemsPath":"$.items","#);
            run_with(&def, items(), &mut |_| unreachable!("nothing is written")).output().unwrap()
        };
        assert_eq!(run(r#"{"Transformation":"FLATTEN"}"#), json!([1, 1, 2, 2, 3, 3]));
        assert_eq!(run(r#"{"Transformation":"COMPACT","OutputType":"JSON"}"#), json!([[1, 1], [2, 2], [3, 3]]));
        let whole = run(r#"{"Transformation":"NONE"}"#);
        assert_eq!(whole[2]["Output"], json!("[3,3]"));
        assert_eq!(whole[2]["Status"], "SUCCEEDED");
    }

    #[test]
    fn a_failed_run_writes_its_results_then_fails_and_a_failed_write_is_result_writer_failed() {
        let picky = r#"{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":2,"Next":"Bad"}],"Default":"Good"},
            "Bad":{"Type":"Fail","Error":"Two","Cause":"n is 2"},"Good":{"Type":"Pass","End":true"#;
        let def = machine(EXPORT, &format!("{picky}}}"), r#""ToleratedFailureCount":0,"MaxConcurrency":1,"#)
            .replace(r#""Label":"each","#, r#""Label":"each","ItemsPath":"$.items","#);
        let mut written = None;
        let out = run_with(&def, items(), &mut |action| {
            let Action::InvokeTask { task_id, payload, .. } = action else { unreachable!() };
            written = Some(Value::clone(payload));
            Input::TaskSucceeded { task_id: *task_id, output: json!({"Bucket": "out", "Key": "k"}).into() }
        });
        let written = written.expect("a failed run still writes its results");
        let results = &written["Results"];
        assert_eq!(
            [&results["SUCCEEDED"], &results["FAILED"], &results["PENDING"]].map(|r| r.as_array().unwrap().len()),
            [1, 1, 1]
        );
        assert_eq!((&results["FAILED"][0]["Error"], &results["FAILED"][0]["Cause"]), (&json!("Two"), &json!("n is 2")));
        assert_eq!(results["PENDING"][0]["Status"], "PENDING");
        assert_eq!(out.output().unwrap()["Error"], "States.ExceedToleratedFailureThreshold", "then the Map fails");

        let def = machine(EXPORT, DOUBLE, "").replace(r#""Label":"each","#, r#""Label":"each","ItemsPath":"$.items","#);
        let out = run_with(&def, items(), &mut |action| {
            let Action::InvokeTask { task_id, .. } = action else { unreachable!() };
            Input::TaskFailed {
                task_id: *task_id,
                error: "S3.NoSuchBucket".into(),
                cause: Some("no bucket out".into()),
            }
        });
        assert_eq!(
            out.output(),
            Some(json!({"Error": "States.ResultWriterFailed", "Cause": "S3.NoSuchBucket: no bucket out"})),
            "caught"
        );
    }

    fn diagnostics(def: &str) -> Vec<String> {
        match StateMachine::from_json(def) {
            Ok(_) => Vec::new(),
            Err(crate::Error::InvalidDefinition(diagnostics)) => {
                diagnostics.iter().map(|d: &Diagnostic| format!("{} {}", d.location, d.message)).collect()
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn writers_are_checked_with_paths() {
        let wrong = |writer: &str| diagnostics(&machine(writer, DOUBLE, ""));
        assert!(wrong(EXPORT).is_empty());
        assert!(wrong(r#"{"WriterConfig":{"Transformation":"FLATTEN","OutputType":"JSONL"}}"#).is_empty());
        let bad_transformation = wrong(r#"{"WriterConfig":{"Transformation":"SQUASH"}}"#);
        assert!(
            bad_transformation[0].starts_with("/States/M/ResultWriter/WriterConfig/Transformation "),
            "{bad_transformation:?}"
        );
        let bad_resource = wrong(r#"{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b"}}"#);
        assert!(bad_resource[0].starts_with("/States/M/ResultWriter/Resource "), "{bad_resource:?}");
        let no_bucket = wrong(r#"{"Resource":"arn:aws:states:::s3:putObject"}"#);
        assert!(no_bucket[0].contains("requires 'Parameters'"), "{no_bucket:?}");
        assert!(!wrong("{}").is_empty());
        let inline = machine(EXPORT, DOUBLE, "")
            .replace(r#""Mode":"DISTRIBUTED","ExecutionType":"STANDARD""#, r#""Mode":"INLINE""#);
        assert!(
            diagnostics(&inline).iter().any(|d| d.starts_with("/States/M/ResultWriter ") && d.contains("DISTRIBUTED"))
        );
    }
}
