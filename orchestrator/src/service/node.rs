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
use super::recorder::{StoreRecorder, replay_entry};
use super::{Service, ServiceError, ServiceResult};
use crate::engine::{Prepared, Signal};

impl Service {
    /// Resumes every RUNNING execution this node can claim, and keeps its leases alive.
    ///
    /// Call once at startup, inside the tokio runtime that serves requests.
    pub async fn start_background_work(&self) -> ServiceResult<usize> {
        let resumed = self.resume_running().await?;
        let service = self.clone();
        let period =
            Duration::from_millis(u64::try_from(self.inner.config.lease_ttl_millis / 3).unwrap_or(10_000).max(100));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                let now = service.inner.engine.clock().now().0;
                let (store, node, ttl) = (
                    Arc::clone(&service.inner.store),
                    service.inner.config.node_id.clone(),
                    service.inner.config.lease_ttl_millis,
                );
                let _ = tokio::task::spawn_blocking(move || store.renew_all(&node, now, ttl)).await;
                // Executions whose node died become claimable once its leases lapse.
                let _ = service.resume_running().await;
            }
        });
        Ok(resumed)
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
        for arn in self.inner.store.running_executions()? {
            if !self.reserve_driver(&arn) {
                continue;
            }
            match self.resume(&arn).await {
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

    /// Drives `arn` from its journal, if this node can claim it; `false` if it cannot.
    async fn resume(&self, arn: &str) -> ServiceResult<bool> {
        let claimed = self.claim_lease(arn).await?;
        if !claimed {
            return Ok(false);
        }
        let Some(record) = self.inner.store.execution(arn)? else { return Ok(false) };
        let machine = self.inner.machines.get(&record.definition)?;
        let machine_record = self.inner.store.state_machine(&record.state_machine_arn)?;
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
        let journal = self.inner.store.journal(arn)?.into_iter().map(replay_entry).collect();
        let prepared = self.inner.engine.resume(machine, input, context, journal).map_err(ServiceError::internal)?;
        self.drive(arn.to_owned(), prepared);
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
        // A lease write waits for a commit; keep it off the async workers.
        let now = self.inner.engine.clock().now().0;
        let (store, node, ttl, arn) = (
            Arc::clone(&self.inner.store),
            self.inner.config.node_id.clone(),
            self.inner.config.lease_ttl_millis,
            arn.to_owned(),
        );
        Ok(tokio::task::spawn_blocking(move || store.claim(&arn, &node, now, ttl))
            .await
            .map_err(ServiceError::internal)??)
    }

    /// Drives an execution in the background, journaling each step, until it ends; unless this
    /// node drives it already.
    pub(super) fn drive(&self, arn: String, prepared: Prepared) {
        let (sender, signals) = mpsc::unbounded_channel();
        {
            let mut live = self.inner.live.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(live.get(&arn), Some(Some(_))) {
                return;
            }
            live.insert(arn.clone(), Some(sender));
        }
        let service = self.clone();
        tokio::spawn(async move {
            let mut recorder = StoreRecorder { store: Arc::clone(&service.inner.store), execution_arn: arn.clone() };
            let mut observe = |event: &stepwasm_asl::HistoryEvent| {
                service.publish(&arn, std::slice::from_ref(event));
            };
            // Start step 0 was stored with the execution row already.
            let prepared = prepared.without_start();
            let _ = service.inner.engine.drive(prepared, signals, &mut observe, Some(&mut recorder)).await;
            service.inner.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&arn);
            service
                .inner
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, holder| holder.execution_arn != arn);
            let (store, node) = (Arc::clone(&service.inner.store), service.inner.config.node_id.clone());
            let _ = tokio::task::spawn_blocking(move || store.release(&arn, &node)).await;
        });
    }
}
