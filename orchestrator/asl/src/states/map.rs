//! Map: runs its processor once per item, at most `MaxConcurrency` at a time (0 = unlimited); the
//! output is the array of iteration outputs in item order.
//!
//! INLINE iterations appear in the parent history (`MapIterationStarted` …); a DISTRIBUTED Map
//! appears as `MapRunStarted` → `MapRunSucceeded`, its iterations being separate child executions
//! on AWS, so their events are not recorded here. A DISTRIBUTED Map may also read its items with
//! an `ItemReader` and batch them with an `ItemBatcher` ([`distributed`]).

mod distributed;
mod results;

pub(crate) use results::ChildLog;

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::compile::{Fields, Site};
use crate::entropy;
use crate::execution::{
    Action, Children, Failure, Flow, MapRun, MapRunCounts, MapRunStatus, MapRunUpdate, StateCx, TaskCallContext,
    TaskReply, Wait,
};
use crate::history::EventKind;
use crate::ir::{NumSource, Selector};
use crate::machine::{Builder, State, StateMachine};
use crate::model::{MapState, QueryLanguage};
use crate::names;
use crate::states::Kind;
use crate::template::{JTemplate, Template};

/// A Map state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// The index of the processor's start state.
    pub(crate) processor: usize,
    /// `ItemsPath` or JSONata's `Items`; default the effective input.
    pub(crate) items: Option<Selector>,
    /// `ItemSelector` (or the legacy `Parameters`); default the item itself.
    pub(crate) item_selector: Option<Selector>,
    /// `MaxConcurrency` / `MaxConcurrencyPath`.
    pub(crate) max_concurrency: Option<NumSource>,
    /// `ToleratedFailureCount` / `ToleratedFailureCountPath`.
    pub(crate) tolerated_count: Option<NumSource>,
    /// `ToleratedFailurePercentage` / `ToleratedFailurePercentagePath`.
    pub(crate) tolerated_percentage: Option<NumSource>,
    /// `ProcessorConfig.Mode` is `DISTRIBUTED`.
    pub(crate) distributed: bool,
    /// `Label`: names the Map Runs of a distributed Map in their ARNs (default: the state name).
    pub(crate) label: Option<String>,
    /// `ItemReader`: the items come from an object store instead of the input.
    reader: Option<distributed::ItemReader>,
    /// `ItemBatcher`: each processor run gets a batch of items.
    batcher: Option<distributed::ItemBatcher>,
    /// `ResultWriter`: the results are written to a bucket, or transformed.
    writer: Option<results::ResultWriter>,
}

/// A Distributed Map whose children have ended, waiting for its `ResultWriter`.
#[derive(Clone, Debug)]
pub(crate) struct Writing {
    /// The children, kept for a redrive if the Map fails.
    children: Box<Children>,
    /// The Map fails with this once the results are written.
    failure: Option<Failure>,
}

impl Spec {
    pub(crate) fn describe(&self, machine: &StateMachine, out: &mut Map<String, Value>) {
        out.insert("processor".into(), machine.id_value(self.processor));
        out.insert("mode".into(), if self.distributed { "DISTRIBUTED" } else { "INLINE" }.into());
        if let Some(label) = &self.label {
            out.insert("label".into(), label.as_str().into());
        }
    }
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, m: &MapState) -> State {
    let loc = site.loc;
    let ql = site.ql(m.query_language);
    let jsonata = ql == QueryLanguage::JSONata;
    let (processor, field) = match (&m.item_processor, &m.iterator) {
        (Some(p), None) => (Some(p), "ItemProcessor"),
        (None, Some(p)) => (Some(p), "Iterator"),
        (Some(_), Some(_)) => {
            b.diag("SCHEMA_VALIDATION_FAILED", loc, "A Map state cannot have both 'ItemProcessor' and 'Iterator'");
            (None, "ItemProcessor")
        }
        (None, None) => {
            b.diag("SCHEMA_VALIDATION_FAILED", loc, "A Map state requires an 'ItemProcessor' (or legacy 'Iterator')");
            (None, "ItemProcessor")
        }
    };
    let mut distributed = false;
    if let Some(cfg) = processor.and_then(|p| p.processor_config.as_ref()) {
        match cfg.mode.as_deref() {
            None | Some("INLINE") => {}
            Some("DISTRIBUTED") => distributed = true,
            Some(other) => b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &site.at(&format!("{field}/ProcessorConfig/Mode")),
                format!("Unknown processor mode '{other}'"),
            ),
        }
    }
    let processor = processor.map_or(usize::MAX, |p| b.sub_scope(p, &format!("{}/", site.id), &site.at(field), ql));
    if m.item_selector.is_some() && m.parameters.is_some() {
        b.diag("SCHEMA_VALIDATION_FAILED", loc, "A Map state cannot have both 'ItemSelector' and 'Parameters'");
    }
    let (selector_value, selector_field) = match (&m.item_selector, &m.parameters) {
        (Some(v), _) => (Some(v), "ItemSelector"),
        (None, Some(v)) => (Some(v), "Parameters"),
        (None, None) => (None, "ItemSelector"),
    };
    if jsonata && m.items_path.is_some() {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at("ItemsPath"),
            "The field 'ItemsPath' is not supported in JSONata states",
        );
    }
    if !jsonata && m.items.is_some() {
        b.diag("SCHEMA_VALIDATION_FAILED", &site.at("Items"), "The field 'Items' is supported only in JSONata states");
    }
    let items_path = m.items_path.as_ref().and_then(|p| b.path(p, &site.at("ItemsPath"), true));
    let (items, item_selector) = if jsonata {
        // A JSONata Map without an ItemSelector takes its `Arguments` as one.
        let selector = selector_value.or(m.arguments.as_ref()).map(|v| {
            let field = if selector_value.is_some() { selector_field } else { "Arguments" };
            Selector::Jsonata(JTemplate::compile(v, &site.at(field), &mut b.diags))
        });
        (b.jtemplate(m.items.as_ref(), &site.at("Items")).map(Selector::Jsonata), selector)
    } else {
        let selector = b.template(selector_value, &site.at(selector_field)).map(Selector::JsonPath);
        (items_path.map(|p| Selector::JsonPath(Template::Path(p))), selector)
    };
    let own = m.query_language;
    let max_concurrency =
        b.num_source(site, own, m.max_concurrency.as_ref(), m.max_concurrency_path.as_ref(), "MaxConcurrency");
    let tolerated_count = b.num_source(
        site,
        own,
        m.tolerated_failure_count.as_ref(),
        m.tolerated_failure_count_path.as_ref(),
        "ToleratedFailureCount",
    );
    let tolerated_percentage = b.num_source(
        site,
        own,
        m.tolerated_failure_percentage.as_ref(),
        m.tolerated_failure_percentage_path.as_ref(),
        "ToleratedFailurePercentage",
    );
    let label = m.label.clone();
    if let Some(label) = &label
        && (label.is_empty() || label.chars().count() > 40 || label.contains(['/', ':', ' ']))
    {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at("Label"),
            "A Map 'Label' has 1 to 40 characters and no '/', ':' or space",
        );
    }
    let own = m.query_language;
    let reader = m.item_reader.as_ref().and_then(|v| distributed::ItemReader::compile(b, site, own, v));
    let batcher = m.item_batcher.as_ref().and_then(|v| distributed::ItemBatcher::compile(b, site, own, v));
    for (field, present) in [("ItemReader", reader.is_some()), ("ItemBatcher", batcher.is_some())] {
        if present && !distributed {
            b.diag(
                "SCHEMA_VALIDATION_FAILED",
                &site.at(field),
                format!("'{field}' requires a DISTRIBUTED 'ItemProcessor.ProcessorConfig.Mode'"),
            );
        }
    }
    if reader.is_some() && (m.items_path.is_some() || m.items.is_some()) {
        let field = if jsonata { "Items" } else { "ItemsPath" };
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at(field),
            format!("'{field}' cannot be used with an 'ItemReader': the reader gives the items"),
        );
    }
    let writer = m.result_writer.as_ref().and_then(|v| results::ResultWriter::compile(b, site, own, v));
    if writer.is_some() && !distributed {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at("ResultWriter"),
            "'ResultWriter' requires a DISTRIBUTED 'ItemProcessor.ProcessorConfig.Mode'",
        );
    }
    let spec = Spec {
        processor,
        items,
        item_selector,
        max_concurrency,
        tolerated_count,
        tolerated_percentage,
        distributed,
        label,
        reader,
        batcher,
        writer,
    };
    let fields = Fields {
        input_path: m.input_path.as_ref(),
        output_path: m.output_path.as_ref(),
        result_path: m.result_path.as_ref(),
        result_selector: m.result_selector.as_ref(),
        assign: m.assign.as_ref(),
        arguments: m.arguments.as_ref(),
        output: m.output.as_ref(),
        retry: m.retry.as_ref(),
        catch: m.catch.as_ref(),
        next: m.next.as_deref(),
        end: m.end,
        query_language: m.query_language,
        ..Fields::default()
    };
    State { common: b.common(site, &fields), kind: Kind::Map(spec) }
}

/// Reads `MaxConcurrency`, `ToleratedFailureCount` or `ToleratedFailurePercentage`; the `*Path`
/// forms accept a number or a numeric string.
fn number(
    sc: &mut StateCx<'_, '_>,
    source: Option<&NumSource>,
    field: &str,
    input: &Value,
) -> Result<Option<f64>, Failure> {
    let Some(source) = source else {
        return Ok(None);
    };
    let v = sc.number(source, field, input)?;
    let parsed = match &v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let integral = field != "ToleratedFailurePercentage";
    match parsed {
        Some(n) if n >= 0.0 && (!integral || n.fract() == 0.0) => Ok(Some(n)),
        _ => {
            let shown = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let path = match source {
                NumSource::Path(p) => p.text().to_owned(),
                _ => String::new(),
            };
            Err(sc.invalid(&format!(
                "The {field}Path field refers to value \"{shown}\" which is not a valid integer: {path}"
            )))
        }
    }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let input = match sc.input() {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    if let Some(reader) = &spec.reader {
        let (resource, payload) = match reader.request(&mut sc, &input) {
            Ok(request) => request,
            Err(failure) => return sc.fail(failure),
        };
        sc.active.effective = Arc::unwrap_or_clone(input);
        return ask_driver(sc, resource, payload);
    }
    let items = match &spec.items {
        Some(selector) => match sc.select(selector, "Items", &input, None) {
            Ok(v) => v,
            Err(failure) => return sc.fail(failure),
        },
        None => Value::clone(&input),
    };
    let Value::Array(items) = items else {
        let detail = match &spec.items {
            Some(Selector::Jsonata(JTemplate::Expr { text, .. })) => format!(
                "The JSONata expression '{text}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {items}",
                type_name(&items)
            ),
            _ => format!("Map state input must be an array but was: {items}"),
        };
        let failure = sc.invalid(&detail);
        return sc.fail(failure);
    };
    start(sc, spec, input, items)
}

/// The `ItemReader` answered.
pub(crate) fn on_items(mut sc: StateCx<'_, '_>, spec: &Spec, reply: TaskReply) -> Flow {
    if let Some(writing) = sc.active.writing.take() {
        return on_written(sc, *writing, reply);
    }
    let input = Arc::new(std::mem::take(&mut sc.active.effective));
    let result = match reply {
        TaskReply::Succeeded(items) => Ok(Arc::unwrap_or_clone(items)),
        TaskReply::Failed(error, cause) => Err((error, cause)),
        TaskReply::TimedOut | TaskReply::HeartbeatTimedOut => {
            Err((names::TIMEOUT.to_owned(), Some("The item reader timed out".to_owned())))
        }
    };
    let limit = match spec.reader.as_ref().map(|reader| reader.limit(&mut sc, &input)) {
        Some(Ok(limit)) => limit,
        Some(Err(failure)) => return sc.fail(failure),
        None => None,
    };
    match distributed::items_read(result, limit) {
        Ok(items) => start(sc, spec, input, items),
        Err(failure) => sc.fail(failure),
    }
}

/// Starts the iterations over `items`; `input` is the state's effective input.
fn start(mut sc: StateCx<'_, '_>, spec: &Spec, input: Arc<Value>, items: Vec<Value>) -> Flow {
    let max = match number(&mut sc, spec.max_concurrency.as_ref(), "MaxConcurrency", &input) {
        Ok(m) => m.unwrap_or(0.0),
        Err(failure) => return sc.fail(failure),
    };
    let fid = sc.fid;
    sc.cx.emit(fid, EventKind::MapStateStarted { length: items.len() });
    let tolerated_count = number(&mut sc, spec.tolerated_count.as_ref(), "ToleratedFailureCount", &input);
    let tolerated_percentage =
        number(&mut sc, spec.tolerated_percentage.as_ref(), "ToleratedFailurePercentage", &input);
    let (tolerated_count, tolerated_percentage) = match (tolerated_count, tolerated_percentage) {
        (Ok(c), Ok(p)) => (c.map(|c| c as u64), p),
        (Err(failure), _) | (_, Err(failure)) => return sc.fail(failure),
    };
    let pending = match &spec.batcher {
        Some(batcher) => {
            let selected = match select_all(&mut sc, spec, &input, items) {
                Ok(selected) => selected,
                Err(failure) => return sc.fail(failure),
            };
            match batcher.batch(&mut sc, &input, selected) {
                Ok(batches) => batches,
                Err(failure) => return sc.fail(failure),
            }
        }
        None => items.into_iter().enumerate().collect::<VecDeque<_>>(),
    };
    let map_run = spec.distributed.then(|| {
        let label = spec.label.as_deref().unwrap_or(&sc.st.name);
        let uuid = entropy::uuid_v4(sc.cx.entropy);
        let arn = map_run_arn(&sc.cx.ctx().execution_arn, label, &uuid);
        sc.cx.emit(fid, EventKind::MapRunStarted { map_run_arn: arn.clone() });
        let total = pending.len() as u64;
        sc.cx.map_run_started(MapRun {
            arn,
            state_name: sc.st.name.clone(),
            status: MapRunStatus::Running,
            start: sc.cx.now,
            stop: None,
            max_concurrency: max as u64,
            tolerated_failure_count: tolerated_count.unwrap_or(0),
            tolerated_failure_percentage: tolerated_percentage.unwrap_or(0.0),
            counts: MapRunCounts { pending: total, total, ..MapRunCounts::default() },
            redrive_count: 0,
            redrive_date: None,
        })
    });
    let outer = sc.cx.scope(fid).map(|s| s.flattened()).unwrap_or_default();
    let pending_len = pending.len();
    let children = Children {
        running: Vec::new(),
        results: vec![None; pending.len()],
        pending,
        max_concurrency: max as usize,
        failures: 0,
        tolerated_count,
        tolerated_percentage,
        outer,
        log: spec.writer.as_ref().map(|_| vec![None; pending_len]),
        map_run,
    };
    sc.active.effective = Arc::unwrap_or_clone(input);
    fill(sc, spec, Box::new(children))
}

/// Every item's processor input, for a batcher: `ItemSelector` applies to each item before the
/// items are grouped.
fn select_all(sc: &mut StateCx<'_, '_>, spec: &Spec, input: &Value, items: Vec<Value>) -> Result<Vec<Value>, Failure> {
    let Some(selector) = &spec.item_selector else {
        return Ok(items);
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| sc.select(selector, "ItemSelector", input, Some((index, &item))))
        .collect()
}

/// `arn:…:mapRun:MACHINE/LABEL:EXECUTION:UUID`, from the execution's
/// `arn:…:execution:MACHINE:EXECUTION`. AWS's Map Run ids are opaque; naming the execution in
/// them lets DescribeMapRun find its execution without an index.
fn map_run_arn(execution_arn: &str, label: &str, uuid: &str) -> String {
    match execution_arn.split_once(":execution:").and_then(|(prefix, rest)| Some((prefix, rest.split_once(':')?))) {
        Some((prefix, (machine, execution))) => format!("{prefix}:mapRun:{machine}/{label}:{execution}:{uuid}"),
        None => format!("{execution_arn}/{label}:{uuid}"),
    }
}

/// The execution a Map Run ARN belongs to, for the ARNs stepwasm makes
/// (`arn:…:mapRun:MACHINE/LABEL:EXECUTION:UUID`).
pub fn execution_of_map_run(map_run_arn: &str) -> Option<String> {
    let (prefix, rest) = map_run_arn.split_once(":mapRun:")?;
    let (machine, rest) = rest.split_once('/')?;
    let (_label, rest) = rest.split_once(':')?;
    let (execution, uuid) = rest.rsplit_once(':')?;
    (!machine.is_empty() && !execution.is_empty() && !execution.contains(':') && !uuid.is_empty())
        .then(|| format!("{prefix}:execution:{machine}:{execution}"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Starts iterations while there is room, or completes the state when all are done.
fn fill(mut sc: StateCx<'_, '_>, spec: &Spec, mut children: Box<Children>) -> Flow {
    let fid = sc.fid;
    while children.max_concurrency == 0 || children.running.len() < children.max_concurrency {
        let Some((index, item)) = children.pending.pop_front() else {
            break;
        };
        let input = match &spec.item_selector {
            // A batch was built from selected items already.
            Some(_) if spec.batcher.is_some() => Ok(item),
            Some(selector) => {
                let effective = std::mem::take(&mut sc.active.effective);
                let selected = sc.select(selector, "ItemSelector", &effective, Some((index, &item)));
                sc.active.effective = effective;
                selected
            }
            None => Ok(item),
        };
        let input = match input {
            Ok(v) => v,
            Err(failure) => {
                sc.cx.cancel_children(fid, sc.st, &children);
                sc.cx.map_run(children.map_run, |run, now| run.end(MapRunStatus::Failed, now));
                return sc.fail(failure);
            }
        };
        if !spec.distributed {
            sc.cx.emit(fid, EventKind::MapIterationStarted { name: sc.st.name.clone(), index });
        }
        let input = Arc::new(input);
        let child =
            sc.cx.spawn(fid, index, spec.processor, Arc::clone(&input), children.outer.clone(), spec.distributed);
        if spec.distributed {
            sc.cx.child_started(child, children.map_run, index, &input);
        }
        if let Some(entry) = children.log.as_mut().and_then(|log| log.get_mut(index)) {
            *entry = Some(ChildLog { input, start: sc.cx.now, end: None });
        }
        children.running.push((index, child));
        sc.cx.map_run(children.map_run, |run, _| {
            run.counts.pending = run.counts.pending.saturating_sub(1);
            run.counts.running += 1;
        });
    }
    if !children.running.is_empty() {
        sc.active.wait = Wait::Children(children);
        return sc.block();
    }
    if spec.distributed {
        sc.cx.emit(fid, EventKind::MapRunSucceeded);
        sc.cx.map_run(children.map_run, |run, now| run.end(MapRunStatus::Succeeded, now));
    }
    let map_run_arn = map_run_arn_of(&sc, &children);
    let outputs = match (&spec.writer, &children.log) {
        (Some(writer), _) if writer.exports() => return write_results(sc, writer, children, None),
        (Some(writer), Some(log)) => writer.output(&map_run_arn, log),
        _ => Value::Array(children.results.into_iter().map(Option::unwrap_or_default).collect()),
    };
    sc.cx.emit(fid, EventKind::MapStateSucceeded);
    sc.finish(Arc::new(outputs))
}

fn map_run_arn_of(sc: &StateCx<'_, '_>, children: &Children) -> String {
    children.map_run.and_then(|run| sc.cx.map_runs().get(run)).map(|run| run.arn.clone()).unwrap_or_default()
}

/// Asks the driver to write the children's results; the Map then ends as [`on_written`] says.
fn write_results(
    mut sc: StateCx<'_, '_>,
    writer: &results::ResultWriter,
    children: Box<Children>,
    failure: Option<Failure>,
) -> Flow {
    let map_run_arn = map_run_arn_of(&sc, &children);
    let effective = std::mem::take(&mut sc.active.effective);
    let request = writer.request(&mut sc, &effective, &map_run_arn, children.log.as_deref().unwrap_or_default());
    sc.active.effective = effective;
    let (resource, payload) = match request {
        Ok(request) => request,
        Err(failure) => return sc.fail(failure),
    };
    sc.active.writing = Some(Box::new(Writing { children, failure }));
    ask_driver(sc, resource, payload)
}

/// Asks the driver for the Map's own I/O (reading its items, writing its results), and waits
/// for the answer ([`on_items`]).
fn ask_driver(sc: StateCx<'_, '_>, resource: crate::resource::TaskResource, payload: Value) -> Flow {
    let mut sc = sc;
    let task_id = sc.cx.new_task_id(sc.fid, None);
    let context = TaskCallContext {
        state_name: sc.st.name.clone(),
        state_id: sc.st.id.clone(),
        attempt: sc.active.retry_count,
        execution_arn: sc.cx.ctx().execution_arn.clone(),
        task_token: None,
    };
    let payload = Arc::new(payload);
    sc.cx.action(Action::InvokeTask { task_id, resource, payload, timeout: None, heartbeat: None, context });
    sc.active.wait = Wait::Task(task_id);
    sc.block()
}

/// The `ResultWriter` answered: the Map's output names where the results went, or the Map fails.
fn on_written(mut sc: StateCx<'_, '_>, writing: Writing, reply: TaskReply) -> Flow {
    let Writing { children, failure } = writing;
    let map_run_arn = map_run_arn_of(&sc, &children);
    let failure = match reply {
        TaskReply::Succeeded(details) => match failure {
            None => {
                let fid = sc.fid;
                sc.cx.emit(fid, EventKind::MapStateSucceeded);
                let output = serde_json::json!({"MapRunArn": map_run_arn, "ResultWriterDetails": *details});
                return sc.finish(Arc::new(output));
            }
            Some(failure) => failure,
        },
        TaskReply::Failed(error, cause) if error == names::RESULT_WRITER_FAILED => Failure::new(&error, cause),
        TaskReply::Failed(error, cause) => {
            let cause = cause.map_or_else(|| error.clone(), |cause| format!("{error}: {cause}"));
            Failure::new(names::RESULT_WRITER_FAILED, Some(cause))
        }
        TaskReply::TimedOut | TaskReply::HeartbeatTimedOut => {
            Failure::new(names::RESULT_WRITER_FAILED, Some("The result writer timed out".into()))
        }
    };
    // As when a child fails it: a redrive runs the unsuccessful children again.
    sc.active.wait = Wait::Children(children);
    sc.active.children_failed = true;
    sc.fail(failure)
}

pub(crate) fn on_child(
    mut sc: StateCx<'_, '_>,
    spec: &Spec,
    slot: usize,
    child: usize,
    result: Result<Value, Failure>,
) -> Flow {
    let fid = sc.fid;
    let Wait::Children(mut children) = std::mem::replace(&mut sc.active.wait, Wait::None) else {
        return sc.block();
    };
    children.running.retain(|(_, f)| *f != child);
    let now = sc.cx.now;
    if let Some(ChildLog { end, .. }) = children.log.as_mut().and_then(|log| log.get_mut(slot)).and_then(Option::as_mut)
    {
        *end = Some((now, result.clone()));
    }
    match result {
        Ok(output) => {
            if let Some(r) = children.results.get_mut(slot) {
                *r = Some(output);
            }
            if !spec.distributed {
                sc.cx.emit(fid, EventKind::MapIterationSucceeded { name: sc.st.name.clone(), index: slot });
            }
            sc.cx.map_run(children.map_run, |run, _| {
                run.counts.running = run.counts.running.saturating_sub(1);
                run.counts.succeeded += 1;
            });
        }
        Err(failure) => {
            if !spec.distributed {
                sc.cx.emit(fid, EventKind::MapIterationFailed { name: sc.st.name.clone(), index: slot });
            }
            children.failures += 1;
            sc.cx.map_run(children.map_run, |run, _| {
                run.counts.running = run.counts.running.saturating_sub(1);
                run.counts.failed += 1;
            });
            let total = children.results.len().max(1) as f64;
            let tolerance_set = children.tolerated_count.is_some() || children.tolerated_percentage.is_some();
            let exceeded = !tolerance_set
                || children.tolerated_count.is_some_and(|c| children.failures > c)
                || children.tolerated_percentage.is_some_and(|p| children.failures as f64 * 100.0 / total > p);
            if exceeded {
                sc.cx.cancel_children(fid, sc.st, &children);
                let failure = if tolerance_set {
                    Failure::new(
                        names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        Some("The specified tolerated failure threshold was exceeded".into()),
                    )
                } else {
                    failure
                };
                if spec.distributed {
                    sc.cx.emit(
                        fid,
                        EventKind::MapRunFailed { error: failure.error.clone(), cause: failure.cause.clone() },
                    );
                    sc.cx.map_run(children.map_run, |run, now| run.end(MapRunStatus::Failed, now));
                }
                // The finished iterations' results stay, for a redrive.
                children.running.clear();
                if let Some(writer) = spec.writer.as_ref().filter(|writer| writer.exports()) {
                    return write_results(sc, writer, children, Some(failure));
                }
                sc.active.wait = Wait::Children(children);
                sc.active.children_failed = true;
                return sc.fail(failure);
            }
        }
    }
    fill(sc, spec, children)
}

/// UpdateMapRun: new limits for the children still to come.
pub(crate) fn update(mut sc: StateCx<'_, '_>, spec: &Spec, update: &MapRunUpdate) -> Flow {
    let Wait::Children(mut children) = std::mem::replace(&mut sc.active.wait, Wait::None) else {
        return sc.block();
    };
    if let Some(max) = update.max_concurrency {
        children.max_concurrency = usize::try_from(max).unwrap_or(usize::MAX);
    }
    if let Some(count) = update.tolerated_failure_count {
        children.tolerated_count = Some(count);
    }
    if let Some(percentage) = update.tolerated_failure_percentage {
        children.tolerated_percentage = Some(percentage);
    }
    sc.cx.map_run(children.map_run, |run, _| {
        if let Some(max) = update.max_concurrency {
            run.max_concurrency = max;
        }
        if let Some(count) = update.tolerated_failure_count {
            run.tolerated_failure_count = count;
        }
        if let Some(percentage) = update.tolerated_failure_percentage {
            run.tolerated_failure_percentage = percentage;
        }
    });
    fill(sc, spec, children)
}

/// A redrive runs the unsuccessful iterations again, then those never started.
pub(crate) fn resume(mut sc: StateCx<'_, '_>, spec: &Spec, iterations: Vec<(usize, usize)>) -> Flow {
    let Wait::Children(mut children) = std::mem::replace(&mut sc.active.wait, Wait::None) else {
        return sc.block();
    };
    let fid = sc.fid;
    children.running.clear();
    children.failures = 0;
    sc.cx.map_run(children.map_run, |run, now| run.redriven(iterations.len() as u64, now));
    if let Some(run) = children.map_run.and_then(|index| sc.cx.map_runs().get(index)) {
        let redriven = EventKind::MapRunRedriven { map_run_arn: run.arn.clone(), redrive_count: run.redrive_count };
        sc.cx.emit(fid, redriven);
    }
    for (index, iteration) in iterations {
        if !spec.distributed {
            sc.cx.emit(fid, EventKind::MapIterationStarted { name: sc.st.name.clone(), index });
        }
        if sc.cx.restore(iteration) {
            children.running.push((index, iteration));
        }
    }
    fill(sc, spec, children)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn selector_concurrency_and_events() {
        let out = run_json(
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":1,
                "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","k.$":"$.k"},
                "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ResultPath":"$.out","End":true}}}"#,
            json!({"xs": ["a", "b"], "k": 1}),
        );
        assert_eq!(
            out.output(),
            Some(json!({"xs": ["a", "b"], "k": 1, "out": [{"v": "a", "i": 0, "k": 1}, {"v": "b", "i": 1, "k": 1}]}))
        );
        assert_eq!(
            out.event_types(),
            [
                "ExecutionStarted",
                "MapStateEntered",
                "MapStateStarted",
                "MapIterationStarted",
                "PassStateEntered",
                "PassStateExited",
                "MapIterationSucceeded",
                "MapIterationStarted",
                "PassStateEntered",
                "PassStateExited",
                "MapIterationSucceeded",
                "MapStateSucceeded",
                "MapStateExited",
                "ExecutionSucceeded"
            ]
        );
    }

    #[test]
    fn a_label_names_the_map_run() {
        let map_run_arn = |label: &str| {
            let def = format!(
                r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{label}"End":true,"ItemProcessor":{{
                    "ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
                    "StartAt":"P","States":{{"P":{{"Type":"Pass","End":true}}}}}}}}}}}}"#
            );
            let out = run_json(&def, json!([1]));
            let started = out.history.iter().map(|e| e.to_aws_json()).find(|e| e["type"] == "MapRunStarted");
            started.expect("a MapRunStarted event")["mapRunStartedEventDetails"]["mapRunArn"]
                .as_str()
                .expect("a Map Run ARN")
                .to_owned()
        };
        assert!(map_run_arn(r#""Label":"ship-batch","#).contains(":mapRun:test/ship-batch:"), "{}", map_run_arn(""));
        assert!(map_run_arn("").contains(":mapRun:test/M:exec:"), "{}", map_run_arn(""));
        assert_eq!(
            super::execution_of_map_run(&map_run_arn("")).as_deref(),
            Some("arn:aws:states:us-east-1:000000000000:execution:test:exec")
        );
        assert_eq!(super::execution_of_map_run("arn:aws:states:us-east-1:1:mapRun:m/label:uuid-only"), None);
        let bad = crate::validate(
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","Label":"a/b","End":true,
                "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}"#,
        );
        assert_eq!(bad.iter().map(|d| d.location.as_str()).collect::<Vec<_>>(), ["/States/M/Label"]);
    }

    #[test]
    fn failures_tolerance_and_bad_paths() {
        let def = |extra: &str| {
            format!(
                r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{extra}"ItemProcessor":{{"StartAt":"C","States":{{
                "C":{{"Type":"Choice","Choices":[{{"Variable":"$","NumericEquals":2,"Next":"F"}}],"Default":"P"}},
                "F":{{"Type":"Fail","Error":"Two"}},"P":{{"Type":"Pass","End":true}}}}}},"End":true}}}}}}"#
            )
        };
        let out = run_json(&def(""), json!([1, 2, 3]));
        assert_eq!(out.failure(), Some((Some("Two".into()), None)));
        let out = run_json(&def(r#""ToleratedFailureCount":1,"#), json!([1, 2, 3]));
        assert_eq!(out.output(), Some(json!([1, null, 3])));
        let out = run_json(&def(r#""ToleratedFailurePercentage":10,"#), json!([1, 2, 3]));
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
        let out = run_json(&def(r#""MaxConcurrencyPath":"$$.Execution.Input.nope","#), json!([1]));
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.Runtime"));
    }
}
