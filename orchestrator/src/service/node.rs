//! This node's share of the work: which executions it drives, its leases on them, and taking
//! up executions after a restart or when another node's leases lapse.
//!
//! The API operations only create executions and send them signals; everything about who
//! drives an execution, and how, is here, so that another store backend or another node plugs
//! in at one place.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use serde_json::Value;
use stepwasm_asl::{ExecutionContext, Timestamp};
use tokio::sync::mpsc;

use super::names::state_machine_name;
use super::recorder::{StoreRecorder, awaited_callbacks, replay_entry};
use super::{Service, ServiceError, ServiceResult, TokenHolder};
use crate::engine::{Interrupted, Prepared, Signal};

impl Service {
    /// Resumes every RUNNING execution this node can claim, and keeps its leases alive.
    ///
    /// Call once at startup, inside the tokio runtime that serves requests.
    pub async fn start_background_work(&self) -> ServiceResult<usize> {
        let resumed = self.resume_running().await?;
        self.ensure_waker();
        let service = self.clone();
        let period =
            Duration::from_millis(u64::try_from(self.inner.config.lease_ttl_millis / 3).unwrap_or(10_000).max(100));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                let now = service.inner.engine.clock().now().0;
                let config = &service.inner.config;
                let _ = service.inner.store.renew_all(&config.node_id, now, config.lease_ttl_millis).await;
                // Executions whose node died become claimable once its leases lapse.
                let _ = service.resume_running().await;
            }
        });
        Ok(resumed)
    }

    /// This node's name in execution leases.
    pub fn node_id(&self) -> &str {
        &self.inner.config.node_id
    }

    /// How many executions this node is driving now.
    pub fn executions_in_progress(&self) -> usize {
        self.inner.live.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub(super) fn live_sender(&self, execution_arn: &str) -> Option<mpsc::UnboundedSender<Signal>> {
        self.inner.live.lock().unwrap_or_else(PoisonError::into_inner).get(execution_arn).cloned().flatten()
    }

    /// Resumes every RUNNING execution that this node can claim and is not driving already.
    async fn resume_running(&self) -> ServiceResult<usize> {
        let mut resumed = 0;
        for arn in self.inner.store.running_executions().await? {
            if !self.reserve_driver(&arn) {
                continue;
            }
            match self.resume(&arn, Vec::new()).await {
                Ok(true) => resumed += 1,
                Ok(false) => self.cancel_reservation(&arn),
                Err(error) => {
                    self.cancel_reservation(&arn);
                    return Err(error);
                }
            }
        }
        Ok(resumed)
    }

    /// Drives `arn` from its journal, if this node can claim it, with `signals` already waiting
    /// for it; `false` if it cannot.
    async fn resume(&self, arn: &str, signals: Vec<Signal>) -> ServiceResult<bool> {
        let claimed = self.claim_lease(arn).await?;
        if !claimed {
            return Ok(false);
        }
        let Some(record) = self.inner.store.execution(arn).await? else { return Ok(false) };
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
        if let Some(machine_record) = &machine_record {
            context.role_arn.clone_from(&machine_record.role_arn);
        }
        let journal = self.inner.store.journal(arn).await?.into_iter().map(replay_entry).collect();
        let awaiting =
            self.inner.store.parking(arn).await?.map(|parking| awaited_callbacks(&parking)).unwrap_or_default();
        // Once the execution's next step unparks it, the store no longer routes these tokens:
        // this node does, as for the tokens it hands out itself.
        if !awaiting.is_empty() {
            let mut tokens = self.inner.tokens.lock().unwrap_or_else(PoisonError::into_inner);
            for callback in &awaiting {
                let holder = TokenHolder { execution_arn: arn.to_owned(), state_name: String::new(), issued: 0 };
                tokens.insert(callback.token.clone(), holder);
            }
        }
        let prepared = self
            .inner
            .engine
            .resume(machine, input, context, journal)
            .map_err(ServiceError::internal)?
            .awaiting(awaiting);
        self.drive(arn.to_owned(), prepared, signals);
        Ok(true)
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
    /// `initial` signals are queued before it starts, so it handles them before it could park.
    pub(super) fn drive(&self, arn: String, prepared: Prepared, initial: Vec<Signal>) {
        let (sender, signals) = mpsc::unbounded_channel();
        for signal in initial {
            let _ = sender.send(signal);
        }
        {
            let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(live.get(&arn), Some(Some(_))) {
                return;
            }
            live.insert(arn.clone(), Some(sender));
        }
        self.ensure_waker();
        let service = self.clone();
        tokio::spawn(async move {
            let parked = {
                let service = service.clone();
                Arc::new(move || service.inner.parked.notify_one()) as Arc<dyn Fn() + Send + Sync>
            };
            let mut recorder = StoreRecorder {
                store: Arc::clone(&service.inner.store),
                execution_arn: arn.clone(),
                clock: service.inner.engine.clock(),
                park_after: service.inner.config.park_after,
                parked,
            };
            let mut observe = |event: &stepwasm_asl::HistoryEvent| {
                service.publish(&arn, std::slice::from_ref(event));
            };
            // Start step 0 was stored with the execution row already.
            let prepared = prepared.without_start();
            let driven = service.inner.engine.drive(prepared, signals, &mut observe, Some(&mut recorder)).await;
            service.inner.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn);
            service
                .inner
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, holder| holder.execution_arn != arn);
            let _ = service.inner.store.release(&arn, &service.inner.config.node_id).await;
            // Signals that raced the parking are for the execution: wake it for them.
            if let Err(Interrupted::Parked { pending }) = driven {
                for signal in pending {
                    let _ = service.signal_execution(&arn, signal).await;
                }
            }
        });
    }

    /// Sends `signal` to the execution, waking it first if it is parked (or left by a node
    /// that died). Fails if another node drives it.
    pub(super) async fn signal_execution(&self, arn: &str, mut signal: Signal) -> ServiceResult<()> {
        // A driver that is parking closes its channel and is gone moments later.
        for _ in 0..1000 {
            if let Some(sender) = self.live_sender(arn) {
                match sender.send(signal) {
                    Ok(()) => return Ok(()),
                    Err(mpsc::error::SendError(unsent)) => signal = unsent,
                }
            } else if self.reserve_driver(arn) {
                match self.resume(arn, vec![signal]).await {
                    Ok(true) => return Ok(()),
                    Ok(false) => {
                        self.cancel_reservation(arn);
                        return Err(ServiceError::internal("the execution is driven by another node; retry there"));
                    }
                    Err(error) => {
                        self.cancel_reservation(arn);
                        return Err(error);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Err(ServiceError::internal("the execution could not be woken to take the signal"))
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
        // Rebuilding an execution waits on a lease write; many wait together (group commit).
        const AT_ONCE: usize = 256;
        loop {
            let now = self.inner.engine.clock().now().0;
            let due = self.inner.store.due_executions(now, 1000).await.unwrap_or_default();
            let mut waking = tokio::task::JoinSet::new();
            for arn in due {
                if !self.reserve_driver(&arn) {
                    continue;
                }
                if waking.len() >= AT_ONCE {
                    waking.join_next().await;
                }
                let service = self.clone();
                waking.spawn(async move {
                    if !matches!(service.resume(&arn, Vec::new()).await, Ok(true)) {
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
