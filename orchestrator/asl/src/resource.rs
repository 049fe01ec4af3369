//! What a Task state runs: its `Resource`, parsed once when the definition is compiled.

use crate::history::TaskFamily;

/// What a Task state runs, parsed from its `Resource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskResource {
    /// A plain Lambda function ARN, `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:alias]`.
    /// Produces `LambdaFunction*` events; the payload is the effective input.
    Lambda {
        /// The full ARN, as written.
        arn: String,
        /// `NAME` or `NAME:alias`.
        function: String,
    },
    /// `arn:aws:states:::lambda:invoke` (optionally `.waitForTaskToken`). The function comes from
    /// `Parameters.FunctionName` (a name or ARN, reduced to the name) and the payload from
    /// `Parameters.Payload`; the result is wrapped like Lambda's Invoke response
    /// (`{"Payload": …, "StatusCode": 200, …}`) unless the task waits for a token.
    LambdaInvoke {
        /// The function name; empty in the compiled machine, filled in when invoked.
        function: String,
        /// Whether the task completes only when its task token is sent back.
        wait_for_task_token: bool,
    },
    /// An activity, `arn:aws:states:REGION:ACCOUNT:activity:NAME`; produces `Activity*` events.
    Activity {
        /// The activity ARN.
        arn: String,
    },
    /// stepwasm's native form `wasm:NAME`: runs the Wasm function `NAME` directly, with the same
    /// semantics and events as a plain Lambda ARN.
    Wasm {
        /// The function name.
        name: String,
    },
    /// A Distributed Map's `ItemReader` (`arn:aws:states:::s3:getObject` or
    /// `arn:aws:states:::s3:listObjectsV2`): not a Task state, but work for the driver all the
    /// same. The payload is `{"Arguments": {"Bucket": …, "Key" or "Prefix": …}, "ReaderConfig":
    /// {…}}` (`MaxItems` resolved to a number); the reply is the array of items, or a failure
    /// named `States.ItemReaderFailed`.
    ItemReader {
        /// The reader's `Resource`, as written.
        arn: String,
    },
    /// A Distributed Map's `ResultWriter` (`arn:aws:states:::s3:putObject`): writes the
    /// children's results to a bucket. The payload is `{"Arguments": {"Bucket", "Prefix"},
    /// "OutputType": "JSON" | "JSONL", "MapRunArn", "Results": {"SUCCEEDED": […], "FAILED": […],
    /// "PENDING": […]}}`; the reply is `{"Bucket", "Key"}` of the manifest written, or a failure
    /// named `States.ResultWriterFailed`.
    ResultWriter {
        /// The writer's `Resource`, as written.
        arn: String,
    },
    /// Any other service integration (`arn:aws:states:::sqs:sendMessage`, …), passed to the driver
    /// as written; produces `Task*` events.
    Other(String),
}

impl TaskResource {
    /// Parses a `Resource` string.
    pub fn parse(resource: &str) -> Result<TaskResource, String> {
        if let Some(name) = resource.strip_prefix("wasm:") {
            if name.is_empty() {
                return Err("The resource 'wasm:' must name a function (wasm:NAME)".into());
            }
            return Ok(TaskResource::Wasm { name: name.to_owned() });
        }
        let parts: Vec<&str> = resource.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "function", name @ ..] if !name.is_empty() && !name[0].is_empty() => {
                Ok(TaskResource::Lambda { arn: resource.to_owned(), function: name.join(":") })
            }
            ["arn", _, "states", _, _, "activity", name] if !name.is_empty() => {
                Ok(TaskResource::Activity { arn: resource.to_owned() })
            }
            ["arn", _, "states", "", "", "lambda", action] if action.starts_with("invoke") => {
                Ok(TaskResource::LambdaInvoke {
                    function: String::new(),
                    wait_for_task_token: action.ends_with(".waitForTaskToken"),
                })
            }
            ["arn", _, _, ..] if parts.len() >= 6 => Ok(TaskResource::Other(resource.to_owned())),
            _ => Err(format!("Invalid resource '{resource}': expected an ARN or wasm:NAME")),
        }
    }

    /// `putObject`, when `arn` names the S3 action a `ResultWriter` uses.
    pub fn result_writer_action(arn: &str) -> Option<&str> {
        match arn.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", partition, "states", "", "", "s3", action @ "putObject"] if partition.starts_with("aws") => {
                Some(action)
            }
            _ => None,
        }
    }

    /// `getObject` or `listObjectsV2`, when `arn` names one of the S3 actions an `ItemReader`
    /// can use.
    pub fn item_reader_action(arn: &str) -> Option<&str> {
        match arn.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", partition, "states", "", "", "s3", action @ ("getObject" | "listObjectsV2")]
                if partition.starts_with("aws") =>
            {
                Some(action)
            }
            _ => None,
        }
    }

    pub(crate) fn family(&self) -> TaskFamily {
        match self {
            TaskResource::Lambda { .. } | TaskResource::Wasm { .. } => TaskFamily::Lambda,
            TaskResource::Activity { .. } => TaskFamily::Activity,
            TaskResource::LambdaInvoke { .. }
            | TaskResource::ItemReader { .. }
            | TaskResource::ResultWriter { .. }
            | TaskResource::Other(_) => TaskFamily::Service,
        }
    }

    /// (resourceType, resource) as `TaskScheduled` reports them, or the ARN for other families.
    pub(crate) fn names(&self) -> (String, String) {
        match self {
            TaskResource::Lambda { arn, .. } | TaskResource::Activity { arn } => (String::new(), arn.clone()),
            TaskResource::Wasm { name } => (String::new(), format!("wasm:{name}")),
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
                ("lambda".into(), if *wait_for_task_token { "invoke.waitForTaskToken".into() } else { "invoke".into() })
            }
            TaskResource::ItemReader { arn } | TaskResource::ResultWriter { arn } | TaskResource::Other(arn) => {
                let parts: Vec<&str> = arn.splitn(7, ':').collect();
                (
                    parts.get(5).copied().unwrap_or_default().to_owned(),
                    parts.get(6).copied().unwrap_or_default().to_owned(),
                )
            }
        }
    }

    /// Whether the task gets a task token (`$$.Task.Token`) to complete it by.
    pub(crate) fn uses_token(&self) -> bool {
        match self {
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => *wait_for_task_token,
            TaskResource::Activity { .. } => true,
            TaskResource::Other(arn) => arn.ends_with(".waitForTaskToken"),
            _ => false,
        }
    }
}

/// The resource as an ARN (or `wasm:NAME`). `lambda:invoke` is shown in the `aws` partition, since
/// the parsed form does not keep the partition it was written with.
impl std::fmt::Display for TaskResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskResource::Lambda { arn, .. }
            | TaskResource::Activity { arn }
            | TaskResource::ItemReader { arn }
            | TaskResource::ResultWriter { arn }
            | TaskResource::Other(arn) => f.write_str(arn),
            TaskResource::Wasm { name } => write!(f, "wasm:{name}"),
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
                let suffix = if *wait_for_task_token { ".waitForTaskToken" } else { "" };
                write!(f, "arn:aws:states:::lambda:invoke{suffix}")
            }
        }
    }
}

/// Reduces a `FunctionName` (name, partial or full ARN) to `NAME[:alias]`.
pub(crate) fn function_name(v: &str) -> String {
    match v.split_once(":function:") {
        Some((_, name)) => name.to_owned(),
        None => v.to_owned(),
    }
}
