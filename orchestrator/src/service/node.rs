//! This node's share of the work: which executions it drives, its leases on them, and taking
//! up executions after a restart or when another node's leases lapse.
//!
//! The API operations only create executions and send them signals; everything about who
//! drives an execution, and how, is here, so that another store backend or another node plugs
//! in at one place.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use serde_json::Value;
use stepwasm_asl::{ExecutionContext, Timestamp};
use tokio::sync::{Notify, mpsc};

use super::names::state_machine_name;
use super::recorder::{StoreRecorder, awaited_callbacks, replay_entry};
use super::{ErrorKind, LiveDriver, Service, ServiceError, ServiceResult};
use crate::engine::{Interrupted, Prepared, Signal};
use crate::store::{ExecutionRecord, ExecutionStatus, Notice, PostedSignal};

impl Service {
    /// Resumes every RUNNING execution this node can claim, and keeps its leases alive.
    ///
    /// Call once at startup, inside the tokio runtime that serves requests.
    pub async fn start_background_work(&self) -> ServiceResult<usize> {
        // Before resuming anything, so the resumed executions find their functions.
        for problem in self.register_stored_functions().await? {
            tracing::warn!(node = %self.inner.config.node_id, "a stored function could not be registered: {problem}");
        }
        self.claim_node_name().await?;
        let resumed = self.resume_running(false).await?;
        self.ensure_waker();
        if let Some(notices) = self.inner.store.watch() {
            let service = self.clone();
            tokio::spawn(async move { service.take_notices(notices).await });
        }
        let service = self.clone();
        tokio::spawn(async move { service.keep_leases().await });
        Ok(resumed)
    }

    /// The lease that says which instance runs as this node's name.
    fn name_lease(&self) -> (String, String) {
        let config = &self.inner.config;
        (format!("stepwasm:node:{}", config.node_id), format!("{}@{}", config.node_id, config.instance_id))
    }

    /// Takes this node's name on the store, unless another instance holds it: two nodes under
    /// one name would each take the other's executions for its own.
    async fn claim_node_name(&self) -> ServiceResult<()> {
        let config = &self.inner.config;
        if config.instance_id.is_empty() {
            return Ok(());
        }
        let (name, owner) = self.name_lease();
        let now = self.inner.engine.clock().now().0;
        if !self.inner.store.claim(&name, &owner, now, config.lease_ttl_millis).await? {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                format!(
                    "another node named {:?} is running on this store: give each node its own --node-id \
                     (a node that stopped frees its name within {} s)",
                    config.node_id,
                    config.lease_ttl_millis / 1000
                ),
            ));
        }
        Ok(())
    }

    /// Renews this node's leases a third of the lease time apart, and takes up executions whose
    /// node died. Stops driving what this node no longer holds: an execution another node took
    /// over, or all of them once the store has been out of reach for so long that the leases
    /// may lapse, since another node may then drive them.
    async fn keep_leases(&self) {
        let config = &self.inner.config;
        let ttl = Duration::from_millis(u64::try_from(config.lease_ttl_millis).unwrap_or(30_000).max(300));
        let period = ttl / 3;
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            ticker.tick().await;
            let driving = self.drivers();
            let attempt = tokio::time::Instant::now();
            let now = self.inner.engine.clock().now().0;
            let (_, name_owner) = self.name_lease();
            // The name's lease lapses only with the node; its loss would mean a long outage.
            if !config.instance_id.is_empty()
                && let Ok(Ok(held)) =
                    tokio::time::timeout(period, self.inner.store.renew_all(&name_owner, now, config.lease_ttl_millis))
                        .await
                && held.is_empty()
            {
                tracing::warn!(node = %config.node_id, "this node's name lapsed on the store: another node may run under it");
            }
            let renewal = self.inner.store.renew_all(&config.node_id, now, config.lease_ttl_millis);
            match tokio::time::timeout(period, renewal).await {
                Ok(Ok(held)) => {
                    last_renewed = attempt;
                    for (arn, abandon) in driving {
                        // A drive that ended meanwhile gave its lease back: no loss.
                        if held.binary_search(&arn).is_err() && self.still_driving(&arn, &abandon) {
                            tracing::warn!(node = %config.node_id, execution = %arn, "lease lost: another node drives it now");
                            abandon.notify_one();
                        }
                    }
                }
                failed => {
                    let why = match failed {
                        Ok(Err(error)) => error.to_string(),
                        _ => format!("no answer within {period:?}"),
                    };
                    if attempt - last_renewed >= ttl * 2 / 3 && !driving.is_empty() {
                        tracing::warn!(
                            node = %config.node_id,
                            executions = driving.len(),
                            "leases could not be renewed ({why}): stopping every execution, for whichever node reaches the store to take up"
                        );
                        driving.iter().for_each(|(_, abandon)| abandon.notify_one());
                    } else {
                        tracing::warn!(node = %config.node_id, "leases could not be renewed: {why}");
                    }
                    continue;
                }
            }
            // Executions whose node died become claimable once its leases lapse.
            let _ = self.resume_running(true).await;
        }
    }

    /// Whether the driver that `abandon` stops is still driving `arn`, short of ending.
    fn still_driving(&self, arn: &str, abandon: &Arc<Notify>) -> bool {
        let live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(live.get(arn), Some(Some(driver)) if !driver.ending && Arc::ptr_eq(&driver.abandon, abandon))
    }

    /// The executions this node drives, each with what stops its driver.
    fn drivers(&self) -> Vec<(String, Arc<Notify>)> {
        let live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.iter()
            .filter_map(|(arn, driver)| {
                let driver = driver.as_ref().filter(|driver| !driver.ending)?;
                Some((arn.clone(), Arc::clone(&driver.abandon)))
            })
            .collect()
    }

    /// This node's name in execution leases.
    pub fn node_id(&self) -> &str {
        &self.inner.config.node_id
    }

    /// How many executions this node is driving now.
    pub fn executions_in_progress(&self) -> usize {
        self.inner.live.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Hands posted signals to the execution's driver, if it is live on this node, skipping
    /// those it was handed before; `false` if this node does not drive it (or it is parking).
    fn hand_to_driver(&self, execution_arn: &str, posted: Vec<PostedSignal>) -> bool {
        let mut ephemeral = Vec::new();
        let handed = {
            let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(Some(driver)) = live.get_mut(execution_arn) else { return false };
            posted.into_iter().all(|posted| {
                if !driver.delivered.insert(posted.id) {
                    return true;
                }
                let Some(signal) = decode_signal(&posted) else { return true };
                if signal.is_ephemeral() {
                    ephemeral.push(posted.id);
                }
                driver.sender.send(signal).is_ok()
            })
        };
        self.forget_ephemeral(ephemeral);
        handed
    }

    /// Sends `signal` to the execution's driver if it is live on this node, without posting it.
    pub(super) fn send_to_driver(&self, execution_arn: &str, signal: &Signal) -> bool {
        let live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(live.get(execution_arn), Some(Some(driver)) if driver.sender.send(signal.clone()).is_ok())
    }

    /// Deletes [ephemeral](Signal::is_ephemeral) signals that have been handed to a driver.
    fn forget_ephemeral(&self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        let store = Arc::clone(&self.inner.store);
        tokio::spawn(async move {
            let _ = store.delete_signals(&ids).await;
        });
    }

    /// Wakes this node for signals posted by any node: the driver of their execution, if it is
    /// here, takes them; an execution nobody drives is resumed here, if this node can claim it.
    async fn take_notices(&self, mut notices: mpsc::UnboundedReceiver<Notice>) {
        while let Some(notice) = notices.recv().await {
            let arns = match notice {
                Notice::Signal(arn) => vec![arn],
                Notice::ActivityTask(activity_arn) => {
                    self.inner.activities.wake(&activity_arn);
                    continue;
                }
                Notice::Function(name) => {
                    self.sync_functions(Some(name));
                    continue;
                }
                Notice::MaybeMissed => {
                    self.sync_functions(None);
                    self.inner.activities.wake_all();
                    self.inner.live.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
                }
            };
            for arn in arns {
                self.take_signals(&arn).await;
            }
        }
    }

    /// Registers the store's version of a function here (of each, for `None`), beside the
    /// signals: compiling a component must not hold up a callback.
    fn sync_functions(&self, name: Option<String>) {
        let service = self.clone();
        tokio::spawn(async move {
            let functions = &service.inner.functions;
            let problems = match &name {
                Some(name) => functions.sync(name).await.err().map(|error| vec![format!("{name}: {error}")]),
                None => functions.sync_all(true).await.map_or_else(|error| Some(vec![error.to_string()]), Some),
            };
            for problem in problems.into_iter().flatten() {
                tracing::warn!(node = %service.inner.config.node_id, "a deployed function could not be registered: {problem}");
            }
        });
    }

    /// Delivers what was posted for `arn`: to its driver here, or by resuming it here when no
    /// node drives it. Failures are left for the next notice or resume: the signals stay posted.
    pub(super) async fn take_signals(&self, arn: &str) {
        // A resume on this node that has reserved the execution may have read the signals just
        // before this one was posted: wait for it to be live, then hand this one over.
        for _ in 0..500 {
            if self.live_here(arn) {
                if let Ok(posted) = self.inner.store.signals(arn).await {
                    self.hand_to_driver(arn, posted);
                }
                return;
            }
            if self.reserve_driver(arn) {
                if !matches!(self.resume(arn).await, Ok(true)) {
                    self.cancel_reservation(arn);
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn live_here(&self, arn: &str) -> bool {
        matches!(self.inner.live.lock().unwrap_or_else(PoisonError::into_inner).get(arn), Some(Some(_)))
    }

    /// Resumes every RUNNING execution that this node can claim and is not driving already,
    /// logging each when it is a takeover rather than this node's own restart.
    async fn resume_running(&self, takeover: bool) -> ServiceResult<usize> {
        let mut resumed = 0;
        for arn in self.inner.store.running_executions().await? {
            if !self.reserve_driver(&arn) {
                continue;
            }
            match self.resume(&arn).await {
                Ok(true) => {
                    resumed += 1;
                    if takeover {
                        tracing::info!(node = %self.inner.config.node_id, execution = %arn, "took over: resumed from its journal");
                    }
                }
                Ok(false) => self.cancel_reservation(&arn),
                Err(error) => {
                    self.cancel_reservation(&arn);
                    return Err(error);
                }
            }
        }
        Ok(resumed)
    }

    /// Drives `arn` from its journal, with the signals posted for it, if this node can claim
    /// it; `false` if it cannot.
    async fn resume(&self, arn: &str) -> ServiceResult<bool> {
        let claimed = self.claim_lease(arn).await?;
        if !claimed {
            return Ok(false);
        }
        let record = match self.inner.store.execution(arn).await? {
            Some(record) if record.status == ExecutionStatus::Running => record,
            // Ended already (a late signal): there is nothing to drive.
            _ => {
                let _ = self.inner.store.release(arn, &self.inner.config.node_id).await;
                return Ok(false);
            }
        };
        let awaiting =
            self.inner.store.parking(arn).await?.map(|parking| awaited_callbacks(&parking)).unwrap_or_default();
        let posted = self.inner.store.signals(arn).await?;
        let prepared = self.rebuild(&record).await?.awaiting(awaiting);
        self.drive(arn.to_owned(), prepared, posted);
        Ok(true)
    }

    /// Rebuilds an execution from its journal.
    pub(super) async fn rebuild(&self, record: &ExecutionRecord) -> ServiceResult<Prepared> {
        self.rebuild_as(record, false).await
    }

    /// Rebuilds an execution from its journal, keeping its Distributed Map children's
    /// executions too if `child_executions`, to inspect them.
    pub(super) async fn rebuild_as(&self, record: &ExecutionRecord, child_executions: bool) -> ServiceResult<Prepared> {
        let arn = &record.arn;
        let machine = self.inner.machines.get(&record.definition)?;
        let machine_record = self.inner.store.state_machine(&record.state_machine_arn).await?;
        let input: Value = serde_json::from_str(&record.input).unwrap_or(Value::Null);
        let mut context = ExecutionContext::new(
            state_machine_name(&record.state_machine_arn).unwrap_or_default(),
            &record.name,
            Timestamp(record.start_date),
        );
        arn.clone_into(&mut context.execution_arn);
        context.state_machine_arn.clone_from(&record.state_machine_arn);
        context.child_executions = child_executions;
        context.wait_time_scale = self.inner.config.wait_time_scale;
        if let Some(machine_record) = &machine_record {
            context.role_arn.clone_from(&machine_record.role_arn);
        }
        let journal = self.inner.store.journal(arn).await?.into_iter().map(replay_entry).collect();
        self.inner.engine.resume(machine, input, context, journal).map_err(ServiceError::internal)
    }

    /// Marks `arn` as about to be driven by this node: `false` when this node drives it already
    /// or another task here has reserved it. With [`Service::drive`], this keeps one node from
    /// ever driving an execution twice (a start racing the background resumer, say), which
    /// would run its tasks twice.
    pub(super) fn reserve_driver(&self, arn: &str) -> bool {
        let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.contains_key(arn) {
            return false;
        }
        live.insert(arn.to_owned(), None);
        true
    }

    /// Withdraws a reservation that did not lead to driving.
    pub(super) fn cancel_reservation(&self, arn: &str) {
        let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(live.get(arn), Some(None)) {
            live.remove(arn);
        }
    }

    /// Claims (or renews) this node's lease on an execution; `false` if another node holds it.
    pub(super) async fn claim_lease(&self, arn: &str) -> ServiceResult<bool> {
        let now = self.inner.engine.clock().now().0;
        let config = &self.inner.config;
        Ok(self.inner.store.claim(arn, &config.node_id, now, config.lease_ttl_millis).await?)
    }

    /// Drives an execution in the background, journaling each step, until it ends or parks;
    /// unless this node drives it already.
    ///
    /// `posted` signals are queued before it starts, so it handles them before it could park.
    pub(super) fn drive(&self, arn: String, prepared: Prepared, posted: Vec<PostedSignal>) {
        let (sender, signals) = mpsc::unbounded_channel();
        let abandon = Arc::new(Notify::new());
        let mut delivered = HashSet::new();
        let mut ephemeral = Vec::new();
        for posted in posted {
            delivered.insert(posted.id);
            if let Some(signal) = decode_signal(&posted) {
                if signal.is_ephemeral() {
                    ephemeral.push(posted.id);
                }
                let _ = sender.send(signal);
            }
        }
        {
            let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(live.get(&arn), Some(Some(_))) {
                return;
            }
            live.insert(
                arn.clone(),
                Some(LiveDriver { sender, delivered, abandon: Arc::clone(&abandon), ending: false }),
            );
        }
        self.ensure_waker();
        let service = self.clone();
        tokio::spawn(async move {
            // Before driving, so that the parking that may follow cannot find them again.
            if !ephemeral.is_empty() {
                let _ = service.inner.store.delete_signals(&ephemeral).await;
            }
            let parked = {
                let service = service.clone();
                Arc::new(move || service.inner.parked.notify_one()) as Arc<dyn Fn() + Send + Sync>
            };
            let mut recorder = StoreRecorder {
                store: Arc::clone(&service.inner.store),
                execution_arn: arn.clone(),
                clock: service.inner.engine.clock().clone(),
                park_after: service.inner.config.park_after,
                parked,
            };
            let mut observe = |event: &stepwasm_asl::HistoryEvent| {
                service.publish(&arn, std::slice::from_ref(event));
            };
            // Start step 0 was stored with the execution row already.
            let prepared = prepared.without_start();
            // The store has every event; only a trace exporter wants them back at the end.
            let prepared = if service.inner.config.traces.is_some() { prepared } else { prepared.forget_history() };
            let drive = service.inner.engine.drive(prepared, signals, &mut observe, Some(&mut recorder));
            let driven = tokio::select! {
                // A drive that has just ended is not abandoned: what follows it must run.
                biased;
                driven = drive => driven,
                () = abandon.notified() => {
                    // Another node holds it, or may: what this node did not journal is redone
                    // there, and nothing this node journals from now on could stand.
                    service.inner.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn);
                    service.inner.activity_executions.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn);
                    return;
                }
            };
            // The lease goes first, so that once this node no longer counts the execution as
            // live, a resume here (for a signal, say) claims it anew and keeps its lease.
            if let Some(Some(driver)) = service.inner.live.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&arn)
            {
                driver.ending = true;
            }
            let _ = service.inner.store.release(&arn, &service.inner.config.node_id).await;
            let driver = service.inner.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn).flatten();
            match driven {
                Ok(record) => {
                    if let Some(traces) = &service.inner.config.traces {
                        traces.export(&arn, &record.history);
                    }
                    // Only parents waiting on a child listen; with none, nothing is sent.
                    let _ = service.inner.endings.send(arn.clone());
                    if driver.is_some_and(|driver| !driver.delivered.is_empty()) {
                        service.forget_signals(&arn).await;
                    }
                    service.forget_activity_tasks(&arn).await;
                }
                Err(interrupted) => {
                    // Its tasks stay queued for the node that drives it next.
                    service.inner.activity_executions.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn);
                    if let Interrupted::Parked { pending } = interrupted {
                        // Heartbeats go to a live driver without being posted, and a timer nudge
                        // is deleted once handed over: those it got as it parked are posted
                        // (again), for the parked execution to take.
                        for heartbeat in pending.iter().filter(|signal| signal.is_ephemeral()) {
                            if let Ok(encoded) = serde_json::to_string(heartbeat) {
                                let _ = service.inner.store.post_signal(&arn, &encoded).await;
                            }
                        }
                        service.after_parking(&arn).await;
                    }
                }
            }
        });
    }

    /// Deletes what was posted for an execution that has ended.
    async fn forget_signals(&self, arn: &str) {
        if let Ok(posted) = self.inner.store.signals(arn).await {
            let ids: Vec<i64> = posted.iter().map(|posted| posted.id).collect();
            let _ = self.inner.store.delete_signals(&ids).await;
        }
    }

    /// Deletes the activity tasks of an execution that has ended, if this node queued any.
    async fn forget_activity_tasks(&self, arn: &str) {
        let queued = self.inner.activity_executions.lock().unwrap_or_else(PoisonError::into_inner).remove(arn);
        if queued {
            let _ = self.inner.store.drop_activity_tasks(arn).await;
        }
    }

    /// A signal posted while the execution was parking found no driver: wake the execution for
    /// it. Signals for tokens it no longer waits for have been applied or are stale: delete them.
    async fn after_parking(&self, arn: &str) {
        let Ok(posted) = self.inner.store.signals(arn).await else { return };
        if posted.is_empty() {
            return;
        }
        let (awaited, beating): (HashSet<String>, HashSet<String>) = match self.inner.store.parking(arn).await {
            Ok(Some(parking)) => (
                parking.callbacks.iter().map(|callback| callback.token.clone()).collect(),
                parking
                    .callbacks
                    .into_iter()
                    .filter(|callback| callback.heartbeat_seconds.is_some())
                    .map(|callback| callback.token)
                    .collect(),
            ),
            // Woken already, by another node or a timer: its driver reads the signals.
            Ok(None) | Err(_) => return,
        };
        let (wanted, stale): (Vec<_>, Vec<_>) = posted.iter().partition(|posted| match decode_signal(posted) {
            Some(Signal::TaskSuccess { token, .. } | Signal::TaskFailure { token, .. }) => awaited.contains(&token),
            Some(Signal::TaskHeartbeat { token }) => beating.contains(&token),
            Some(Signal::Stop { .. } | Signal::UpdateMapRun { .. } | Signal::NextTimer) => true,
            None => false,
        });
        let stale: Vec<i64> = stale.iter().map(|posted| posted.id).collect();
        let _ = self.inner.store.delete_signals(&stale).await;
        if !wanted.is_empty() {
            self.take_signals(arn).await;
        }
    }

    /// Posts `signal` for the execution, durably, and sees that it is delivered: by this node's
    /// driver, by resuming the execution here if no node drives it, or by the node that drives
    /// it, which the store notifies.
    ///
    /// Returns once the signal is durable, as AWS answers SendTaskSuccess once it has accepted
    /// it; the resume goes on in the background. The store has made a parked execution due with
    /// the same write, so if this node stops first, the next node to look for due executions
    /// (this one after a restart, or any other) resumes it.
    pub(super) async fn post_signal(&self, arn: &str, signal: &Signal) -> ServiceResult<()> {
        let encoded = serde_json::to_string(signal).map_err(ServiceError::internal)?;
        let id = self.inner.store.post_signal(arn, &encoded).await?;
        let posted = PostedSignal { id, execution_arn: arn.to_owned(), signal: encoded };
        if !self.hand_to_driver(arn, vec![posted]) {
            let service = self.clone();
            let arn = arn.to_owned();
            tokio::spawn(async move {
                let Ok(_permit) = service.inner.resuming.acquire().await else { return };
                service.take_signals(&arn).await;
            });
        }
        Ok(())
    }

    /// Starts waking parked executions, once: before anything can be parked, so that nothing
    /// parked is forgotten, and at startup, for what was parked before a restart.
    fn ensure_waker(&self) {
        if !self.inner.waking.swap(true, std::sync::atomic::Ordering::AcqRel) {
            let waker = self.clone();
            tokio::spawn(async move { waker.wake_parked().await });
        }
    }

    /// Wakes parked executions when they are due, for as long as the service runs.
    async fn wake_parked(&self) {
        // Bounds how late a wake-up parked by another node can be seen.
        const LONGEST_SLEEP: Duration = Duration::from_secs(1);
        // A due execution that cannot be woken (its node holds the lease) is retried, not spun on.
        const SHORTEST_SLEEP: Duration = Duration::from_millis(20);
        loop {
            let now = self.inner.engine.clock().now().0;
            let due = self.inner.store.due_executions(now, 1000).await.unwrap_or_default();
            let mut waking = tokio::task::JoinSet::new();
            for arn in due {
                if !self.reserve_driver(&arn) {
                    continue;
                }
                if waking.len() >= super::RESUMED_AT_ONCE {
                    waking.join_next().await;
                }
                let service = self.clone();
                waking.spawn(async move {
                    if !matches!(service.resume(&arn).await, Ok(true)) {
                        service.cancel_reservation(&arn);
                    }
                });
            }
            while waking.join_next().await.is_some() {}
            let next = self.inner.store.next_wake().await.unwrap_or(None);
            let sleep = next
                .map_or(LONGEST_SLEEP, |at| self.inner.engine.clock().until(stepwasm_asl::Timestamp(at)))
                .clamp(SHORTEST_SLEEP, LONGEST_SLEEP);
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = self.inner.parked.notified() => {}
            }
        }
    }
}

/// A posted signal, decoded; `None` (and ignored) if it was written by an incompatible build.
fn decode_signal(posted: &PostedSignal) -> Option<Signal> {
    serde_json::from_str(&posted.signal).ok()
}
