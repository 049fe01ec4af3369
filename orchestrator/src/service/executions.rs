//! Executions: start (idempotent by name), run durably, describe, list, stop, history,
//! callbacks, and resuming after a restart.

use serde_json::Value;
use stepwasm_asl::progress::{self, MapIteration};
use stepwasm_asl::{ExecutionContext, ExecutionOutcome, Timestamp};
use tokio::sync::mpsc;

use super::error::{ErrorKind, ServiceError};
use super::names::{ACCOUNT, Listing, REGION, check_name, execution_parts, state_machine_name};
use super::recorder::{completion, issue_tokens, to_append};
use super::versions::{MachineRef, Qualifier};
use super::{Service, ServiceResult};
use crate::engine::{Signal, StepRecord, random_uuid};
use crate::mocks::MockedExecution;
use crate::store::{
    Created, ExecutionFilter, ExecutionRecord, ExecutionStatus, IssuedToken, MachineType, PageRequest,
    StateMachineRecord, StoredEvent,
};

/// DescribeExecution's answer.
#[derive(Debug, Clone)]
pub struct ExecutionDescription {
    /// The execution: as stored, or for a Distributed Map's child, as its parent ran it.
    pub record: ExecutionRecord,
    /// The Map Run, for a Distributed Map's child.
    pub map_run_arn: Option<String>,
}

/// StartSyncExecution's answer.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The machine's ARN.
    pub state_machine_arn: String,
    /// The execution's name.
    pub name: String,
    /// SUCCEEDED, FAILED or TIMED_OUT.
    pub status: ExecutionStatus,
    /// The input, as JSON text.
    pub input: String,
    /// The output, on success.
    pub output: Option<String>,
    /// The error, on failure.
    pub error: Option<String>,
    /// The cause, on failure.
    pub cause: Option<String>,
    /// When it started, in milliseconds.
    pub start_date: i64,
    /// When it ended, in milliseconds.
    pub stop_date: i64,
}

/// What a start did.
#[derive(Debug)]
pub(super) enum Started {
    /// Started this execution.
    New {
        /// Its ARN.
        arn: String,
        /// When it started, in milliseconds.
        start_date: i64,
    },
    /// An execution of that name exists already; nothing was started.
    Existing(Box<ExecutionRecord>),
}

/// One page of GetExecutionHistory.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The events, in AWS's shape.
    pub events: Vec<Value>,
    /// The token for the next page.
    pub next_token: Option<String>,
}

/// Express executions may run for at most five minutes, as on AWS.
const EXPRESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

impl Service {
    /// StartExecution. For STANDARD machines it is idempotent by name: the same name and input
    /// while the execution runs return it again; otherwise the name is `ExecutionAlreadyExists`.
    pub async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> ServiceResult<(String, i64)> {
        let (state_machine_arn, name) = match state_machine_arn.split_once('#') {
            Some((machine_arn, test_case)) => {
                let name = self.start_test_case(machine_arn, test_case, name).await?;
                (machine_arn, Some(name))
            }
            None => (state_machine_arn, name.map(str::to_owned)),
        };
        match self.start_or_find(state_machine_arn, name.as_deref(), input).await? {
            Started::New { arn, start_date } => Ok((arn, start_date)),
            Started::Existing(existing) => repeat_start(&existing, input.unwrap_or("{}")),
        }
    }

    /// `STATE_MACHINE_ARN#TEST_CASE`: the execution about to start (named `name`, or by a fresh
    /// UUID, which is returned) has its tasks answered by the test case of the mock
    /// configuration, as on Step Functions Local.
    async fn start_test_case(&self, machine_arn: &str, test_case: &str, name: Option<&str>) -> ServiceResult<String> {
        let Some(mocked) = &self.inner.mocked else {
            return Err(ServiceError::new(
                ErrorKind::InvalidArn,
                format!(
                    "Invalid Arn: '{machine_arn}#{test_case}': a test case needs a server started with --mock-config"
                ),
            ));
        };
        let machine = state_machine_name(machine_arn)?;
        if !mocked.config().has_test_case(machine, test_case) {
            return Err(ServiceError::validation(format!(
                "The mock configuration has no test case '{test_case}' for the state machine '{machine}'"
            )));
        }
        let name = execution_name(name)?;
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}");
        let mocked_execution = MockedExecution { machine: machine.to_owned(), test_case: test_case.to_owned() };
        // Before the start, so that its first task is already answered by the test case; kept
        // in the store too, for a resume after a restart.
        let tags = std::collections::BTreeMap::from([(super::TEST_CASE_TAG.to_owned(), test_case.to_owned())]);
        self.inner.store.tag_resource(&arn, &tags).await?;
        mocked.register(&arn, mocked_execution);
        Ok(name)
    }

    /// Starts an execution, or finds the one of that name that exists already.
    pub(super) async fn start_or_find(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> ServiceResult<Started> {
        let target = self.start_target(state_machine_arn).await?;
        let machine_record = &target.machine;
        let input_text = input.unwrap_or("{}");
        let input = self.parse_input(input_text)?;
        let name = execution_name(name)?;
        let machine = self.inner.machines.get(&machine_record.definition)?;
        self.admit_start().await?;
        if machine_record.machine_type == MachineType::Express {
            let arn =
                format!("arn:aws:states:{REGION}:{ACCOUNT}:express:{}:{name}:{}", machine_record.name, random_uuid());
            let context = self.context(machine_record, &arn, &name);
            let start_date = context.start_time.0;
            let engine = self.inner.engine.clone();
            tokio::spawn(async move {
                let (_, signals) = mpsc::unbounded_channel();
                let mut ignore = |_: &stepwasm_asl::HistoryEvent| {};
                let run = engine.run(machine, input, context, signals, &mut ignore);
                let _ = tokio::time::timeout(EXPRESS_LIMIT, run).await;
            });
            return Ok(Started::New { arn, start_date });
        }

        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{}:{name}", machine_record.name);
        // A repeated name is rare: it is found by the create below, which stores nothing then.
        let context = self.context(machine_record, &arn, &name);
        let prepared = self.inner.engine.start(machine, input, context);
        let mut record = ExecutionRecord {
            arn: arn.clone(),
            state_machine_arn: target.machine_arn.clone(),
            name,
            definition: machine_record.definition.clone(),
            status: ExecutionStatus::Running,
            input: input_text.to_owned(),
            output: None,
            error: None,
            cause: None,
            start_date: prepared.start_entry().map_or(0, |(at, _)| at.0),
            stop_date: None,
            version_arn: target.version_arn.clone(),
            alias_arn: target.alias_arn.clone(),
            redrive_count: 0,
            redrive_date: None,
            redrive_token: None,
        };
        if let Some(outcome) = prepared.finished() {
            // Pass-only machines end within their first step: the row is final from the start.
            let done = completion(outcome, Timestamp(record.start_date));
            record.status = done.status;
            record.output = done.output;
            record.error = done.error;
            record.cause = done.cause;
            record.stop_date = Some(done.stop_date);
        }
        let (at, entropy) = prepared.start_entry().unwrap_or((Timestamp(record.start_date), &[]));
        let start = to_append(
            &arn,
            &StepRecord {
                sequence: 0,
                input: None,
                at,
                entropy,
                history: prepared.start_history(),
                documents: prepared.start_documents(),
                actions: prepared.start_actions(),
                outcome: prepared.finished(),
            },
        );
        // A first state that hands out a task token: answerable as soon as the start is seen.
        issue_tokens(&*self.inner.store, &arn, prepared.start_actions()).await?;
        // An execution that ended in its first step (a Pass-only machine) has nothing left to
        // drive: it needs no driver and no lease, only its row.
        let finished = prepared.finished().is_some();
        // Reserved before the row exists, so the background resumer, which drives RUNNING rows
        // nobody here drives, cannot take it up in the moment before `drive`.
        let reserved = !finished && self.reserve_driver(&arn);
        // Leased before the row exists too, so that another node's resumer cannot take it up
        // either; it would find the lease held and leave it.
        let claimed = match reserved {
            true => match self.claim_lease(&arn).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    self.cancel_reservation(&arn);
                    return Err(error);
                }
            },
            false => false,
        };
        let created = match self.inner.store.create_execution(&record, &start).await {
            Ok(Created::New(created)) if finished || claimed => Ok(created),
            Ok(Created::New(created)) => self.claim_lease(&arn).await.map(|_| created),
            Ok(Created::Existing(existing)) => {
                if reserved {
                    self.cancel_reservation(&arn);
                }
                if claimed {
                    // Not this start's to drive: whoever resumes it claims it anew.
                    let _ = self.inner.store.release(&arn, &self.inner.config.node_id).await;
                }
                return Ok(Started::Existing(Box::new(existing)));
            }
            Err(error) => Err(error.into()),
        };
        let created = match created {
            Ok(created) => created,
            Err(error) => {
                if reserved {
                    self.cancel_reservation(&arn);
                }
                return Err(error);
            }
        };
        self.publish(&arn, prepared.start_history());
        let metrics = crate::metrics::global();
        metrics.execution_started(crate::metrics::machine_of(&arn));
        metrics.states_entered(crate::metrics::states_entered(prepared.start_history()));
        if finished {
            metrics.execution_finished(crate::metrics::machine_of(&arn), created.status.as_str());
        } else {
            self.drive(arn, prepared, Vec::new());
        }
        Ok(Started::New { arn: created.arn, start_date: created.start_date })
    }

    /// StartSyncExecution: EXPRESS machines only; runs to the end and answers with the outcome.
    pub async fn start_sync_execution(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> ServiceResult<SyncOutcome> {
        let machine_record = self.start_target(state_machine_arn).await?.machine;
        if machine_record.machine_type != MachineType::Express {
            return Err(ServiceError::new(
                ErrorKind::StateMachineTypeNotSupported,
                "This operation is not supported by this type of state machine",
            ));
        }
        let input_text = input.unwrap_or("{}");
        let input = self.parse_input(input_text)?;
        let name = execution_name(name)?;
        let machine = self.inner.machines.get(&machine_record.definition)?;
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:express:{}:{name}:{}", machine_record.name, random_uuid());
        let context = self.context(&machine_record, &arn, &name);
        let start_date = context.start_time.0;
        let (_, signals) = mpsc::unbounded_channel();
        let mut ignore = |_: &stepwasm_asl::HistoryEvent| {};
        let run = self.inner.engine.run(machine, input, context, signals, &mut ignore);
        let outcome = match tokio::time::timeout(EXPRESS_LIMIT, run).await {
            Ok(record) => record.outcome,
            Err(_) => ExecutionOutcome::TimedOut,
        };
        let stop_date = self.inner.engine.clock().now().0;
        let done = completion(&outcome, Timestamp(stop_date));
        let metrics = crate::metrics::global();
        metrics.execution_started(&machine_record.name);
        metrics.execution_finished(&machine_record.name, done.status.as_str());
        Ok(SyncOutcome {
            execution_arn: arn,
            state_machine_arn: machine_record.arn,
            name,
            status: done.status,
            input: input_text.to_owned(),
            output: done.output,
            error: done.error,
            cause: done.cause,
            start_date,
            stop_date,
        })
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, arn: &str) -> ServiceResult<ExecutionRecord> {
        execution_parts(arn)?;
        self.inner.store.execution(arn).await?.ok_or_else(|| ServiceError::execution_does_not_exist(arn))
    }

    /// DescribeStateMachineForExecution: the definition the execution runs.
    pub async fn state_machine_for_execution(&self, arn: &str) -> ServiceResult<(ExecutionRecord, StateMachineRecord)> {
        let execution = self.describe_execution(arn).await?;
        let machine = match self.inner.store.state_machine(&execution.state_machine_arn).await? {
            Some(mut machine) => {
                machine.definition.clone_from(&execution.definition);
                machine
            }
            None => StateMachineRecord {
                arn: execution.state_machine_arn.clone(),
                name: state_machine_name(&execution.state_machine_arn).unwrap_or_default().to_owned(),
                definition: execution.definition.clone(),
                role_arn: String::new(),
                machine_type: MachineType::Standard,
                created: execution.start_date,
                updated: execution.start_date,
                revision_id: String::new(),
                logging_configuration: Value::Null,
                tracing_configuration: Value::Null,
            },
        };
        Ok((execution, machine))
    }

    /// ListExecutions, newest first.
    pub async fn list_executions(
        &self,
        state_machine_arn: Option<&str>,
        status: Option<ExecutionStatus>,
        redriven: Option<bool>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<ExecutionRecord>, Option<String>)> {
        let mut filter = ExecutionFilter { status, redriven, ..ExecutionFilter::default() };
        if let Some(arn) = state_machine_arn {
            let reference = MachineRef::parse(arn)?;
            if self.inner.store.state_machine(&reference.machine_arn).await?.is_none() {
                return Err(ServiceError::state_machine_does_not_exist(arn));
            }
            match reference.qualifier {
                Qualifier::None => {}
                Qualifier::Version(_) => filter.version_arn = Some(arn.to_owned()),
                Qualifier::Alias(_) => filter.alias_arn = Some(arn.to_owned()),
            }
            filter.state_machine_arn = Some(reference.machine_arn);
        }
        let scope = format!(
            "executions:{}:{}:{redriven:?}",
            state_machine_arn.unwrap_or(""),
            status.map_or("", ExecutionStatus::as_str)
        );
        let listing = Listing::new(scope);
        let page = listing.request(max_results, next_token, false)?;
        let page = self.inner.store.list_executions(&filter, &page).await?;
        Ok((page.items, listing.next_token(page.next)))
    }

    /// StopExecution: the execution ends ABORTED with the given error and cause.
    pub async fn stop_execution(&self, arn: &str, error: Option<String>, cause: Option<String>) -> ServiceResult<i64> {
        let execution = self.describe_execution(arn).await?;
        if execution.status != ExecutionStatus::Running {
            return Ok(execution.stop_date.unwrap_or(execution.start_date));
        }
        self.post_signal(arn, &Signal::Stop { error, cause }).await?;
        // Wait briefly for the abort to be journaled, so a following Describe shows it.
        for _ in 0..200 {
            if let Some(record) = self.inner.store.execution(arn).await?
                && record.status != ExecutionStatus::Running
            {
                return Ok(record.stop_date.unwrap_or(record.start_date));
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        Ok(self.inner.engine.clock().now().0)
    }

    /// Fires the execution's earliest pending timer now (a Wait, a retry's back-off, its own
    /// `TimeoutSeconds`), to step through a long workflow without waiting; an execution that
    /// waits for no timer is not changed. Not an AWS operation.
    pub async fn next_timer(&self, arn: &str) -> ServiceResult<()> {
        let execution = self.describe_execution(arn).await?;
        if execution.status != ExecutionStatus::Running {
            return Err(ServiceError::validation(format!(
                "The execution {arn} is {}: only a running execution has timers",
                execution.status.as_str()
            )));
        }
        self.post_signal(arn, &Signal::NextTimer).await
    }

    /// GetExecutionHistory.
    pub async fn history(
        &self,
        arn: &str,
        max_results: Option<i64>,
        reverse: bool,
        next_token: Option<&str>,
        include_execution_data: bool,
    ) -> ServiceResult<HistoryPage> {
        if let Err(not_found) = self.describe_execution(arn).await {
            return match self.child_history(arn, max_results, reverse, next_token, include_execution_data).await? {
                Some(page) => Ok(page),
                None => Err(not_found),
            };
        }
        let scope = format!("history:{arn}:{reverse}");
        let listing = Listing::new(scope);
        let page = listing.request(max_results, next_token, reverse)?;
        let page = self.inner.store.history(arn, &page).await?;
        let events = page
            .items
            .into_iter()
            .map(|StoredEvent { event, .. }| if include_execution_data { event } else { without_data(event) })
            .collect();
        Ok(HistoryPage { events, next_token: listing.next_token(page.next) })
    }

    /// Each state's status, input, output and failures, for the console; states waiting for a
    /// callback carry the task token that answers them, when this node issued it. With
    /// `iteration`, the states inside that Map show that one iteration.
    pub async fn execution_progress(&self, arn: &str, iteration: Option<&MapIteration>) -> ServiceResult<Value> {
        let execution = self.describe_execution(arn).await?;
        let machine = self.inner.machines.get(&execution.definition)?;
        let mut events = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.store.history(arn, &PageRequest { limit: 1000, after, reverse: false }).await?;
            events.extend(page.items.into_iter().map(|stored| stored.event));
            match page.next {
                Some(position) => after = Some(position),
                None => break,
            }
        }
        // Replaying a long history is CPU work: keep it off the threads that serve requests.
        let iteration = iteration.cloned();
        let progress = tokio::task::spawn_blocking(move || match &iteration {
            Some(iteration) => progress::project_iteration(&machine, &events, iteration),
            None => progress::project(&machine, &events),
        })
        .await
        .map_err(|error| ServiceError::internal(error.to_string()))?;
        let mut reply = serde_json::to_value(&progress)
            .map_err(|error| ServiceError::new(ErrorKind::InternalFailure, error.to_string()))?;
        let waiting: Vec<_> = progress.states.iter().filter(|(_, state)| state.awaiting_callback).collect();
        if !waiting.is_empty() {
            let tokens = self.task_tokens_of(arn).await;
            for (id, state) in waiting {
                // The token the waiting task was scheduled with. The scheduling is recorded
                // before the task is handed its token, so for a moment the request names a token
                // not yet issued: then no token is shown, never a sibling iteration's. Only a
                // request that was not recorded falls back to the state's newest token.
                let token = match state.callback_request.as_deref() {
                    Some(request) => tokens.iter().find(|issued| request.contains(issued.token.as_str())),
                    None => tokens
                        .iter()
                        .filter(|issued| issued.state_name == state.name)
                        .max_by_key(|issued| issued.issued),
                }
                .map(|issued| &issued.token);
                if let Some(token) = token {
                    reply["states"][id]["taskToken"] = Value::from(token.as_str());
                }
            }
        }
        reply["executionArn"] = Value::from(arn);
        reply["status"] = Value::from(execution.status.as_str());
        Ok(reply)
    }

    /// The task tokens issued to `arn`, and, if it is parked, the tokens of the callbacks it
    /// waits for (an execution parked by an older stepwasm has only those).
    async fn task_tokens_of(&self, arn: &str) -> Vec<IssuedToken> {
        let mut found = self.inner.store.tokens_of(arn).await.unwrap_or_default();
        if let Ok(Some(parking)) = self.inner.store.parking(arn).await {
            for callback in parking.callbacks {
                if !found.iter().any(|issued| issued.token == callback.token) {
                    found.push(IssuedToken {
                        token: callback.token,
                        execution_arn: arn.to_owned(),
                        state_name: String::new(),
                        issued: 0,
                    });
                }
            }
        }
        found
    }

    /// SendTaskSuccess.
    pub async fn send_task_success(&self, token: &str, output: &str) -> ServiceResult<()> {
        let output: Value = serde_json::from_str(output)
            .map_err(|error| ServiceError::new(ErrorKind::InvalidOutput, format!("Invalid Output: '{error}'")))?;
        self.signal_task(token, Signal::TaskSuccess { token: token.to_owned(), output }).await
    }

    /// SendTaskFailure.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> ServiceResult<()> {
        let signal = Signal::TaskFailure { token: token.to_owned(), error: error.unwrap_or_default(), cause };
        self.signal_task(token, signal).await
    }

    /// SendTaskHeartbeat.
    pub async fn send_task_heartbeat(&self, token: &str) -> ServiceResult<()> {
        self.signal_task(token, Signal::TaskHeartbeat { token: token.to_owned() }).await
    }

    /// Routes a SendTask* call to the execution whose task holds `token`, wherever it runs.
    async fn signal_task(&self, token: &str, signal: Signal) -> ServiceResult<()> {
        let execution = match self.inner.store.token(token).await? {
            Some(issued) => issued.execution_arn,
            // A token of an execution parked by an older stepwasm, which recorded no tokens.
            None => self.inner.store.execution_awaiting(token).await?.ok_or_else(ServiceError::invalid_token)?,
        };
        let running =
            self.inner.store.execution(&execution).await?.is_some_and(|e| e.status == ExecutionStatus::Running);
        if !running {
            return Err(ServiceError::new(
                ErrorKind::TaskTimedOut,
                "Task Timed Out: 'Provided task does not exist anymore'",
            ));
        }
        if matches!(signal, Signal::TaskHeartbeat { .. }) {
            return self.deliver_heartbeat(&execution, token, signal).await;
        }
        self.post_signal(&execution, &signal).await
    }

    /// SendTaskHeartbeat moves the task's heartbeat deadline. A driver on this node takes it at
    /// once; an execution parked without a heartbeat to keep needs nothing; any other is posted
    /// the heartbeat like any signal (a parked one wakes to move its deadline, and parks again).
    async fn deliver_heartbeat(&self, execution: &str, token: &str, signal: Signal) -> ServiceResult<()> {
        if self.send_to_driver(execution, &signal) {
            return Ok(());
        }
        if let Some(parking) = self.inner.store.parking(execution).await?
            && !parking.callbacks.iter().any(|callback| callback.token == token && callback.heartbeat_seconds.is_some())
        {
            return Ok(());
        }
        self.post_signal(execution, &signal).await
    }

    fn parse_input(&self, input: &str) -> ServiceResult<Value> {
        if input.len() > self.inner.config.max_payload_bytes {
            return Err(ServiceError::validation(format!(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {}",
                self.inner.config.max_payload_bytes
            )));
        }
        serde_json::from_str(input).map_err(|error| {
            ServiceError::new(
                ErrorKind::InvalidExecutionInput,
                format!("Invalid State Machine Execution Input: '{error}'"),
            )
        })
    }

    fn context(&self, machine: &StateMachineRecord, execution_arn: &str, name: &str) -> ExecutionContext {
        let mut context = ExecutionContext::new(&machine.name, name, self.inner.engine.clock().now());
        context.execution_arn = execution_arn.to_owned();
        context.state_machine_arn.clone_from(&machine.arn);
        context.role_arn.clone_from(&machine.role_arn);
        context.region = REGION.to_owned();
        context.wait_time_scale = self.inner.config.wait_time_scale;
        context
    }
}

/// The name asked for, checked, or a fresh UUID as AWS gives.
fn execution_name(name: Option<&str>) -> ServiceResult<String> {
    match name {
        Some(name) => {
            check_name(name)?;
            Ok(name.to_owned())
        }
        None => Ok(random_uuid()),
    }
}

/// The answer to a StartExecution whose name is taken.
fn repeat_start(existing: &ExecutionRecord, input: &str) -> ServiceResult<(String, i64)> {
    let same_input = serde_json::from_str::<Value>(&existing.input).ok() == serde_json::from_str::<Value>(input).ok();
    if existing.status == ExecutionStatus::Running && same_input {
        Ok((existing.arn.clone(), existing.start_date))
    } else {
        Err(ServiceError::new(
            ErrorKind::ExecutionAlreadyExists,
            format!("Execution Already Exists: '{}'", existing.arn),
        ))
    }
}

/// Removes inputs and outputs from an event's details, for `includeExecutionData: false`.
pub(super) fn without_data(mut event: Value) -> Value {
    if let Some(object) = event.as_object_mut() {
        for (key, details) in object.iter_mut() {
            if key.ends_with("EventDetails")
                && let Some(details) = details.as_object_mut()
            {
                details.remove("input");
                details.remove("output");
                details.remove("inputDetails");
                details.remove("outputDetails");
            }
        }
    }
    event
}
