//! The in-memory store: every trait over plain maps, for tests and `EXPRESS` executions.
//!
//! It is the reference the SQLite store is checked against: both run the same suite
//! (`suite.rs`), so ordering, pagination and the append checks live here once and the SQLite
//! store reuses them (see "Shared with the SQLite store" below).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use stepwasm_asl::HistoryEvent;

use super::{
    ActivityRecord, ActivityStore, ActivityTask, AliasRecord, AliasWrite, Append, BindingRecord, BindingStore,
    CallbackStore, Completion, Created, ExecutionFilter, ExecutionRecord, ExecutionStatus, ExecutionStore,
    FunctionRecord, FunctionStore, IssuedToken, JournalEntry, JournalStore, Lease, LeaseStore, Millis, Notice, Page,
    PageRequest, Parking, PostedSignal, PublishRequest, Published, QueueCounts, QueueMessage, QueueRecord, QueueStore,
    Redrive, StateMachineRecord, StateMachineStore, StoreError, StoreFuture, StoreResult, StoredEvent, VersionDeletion,
    VersionRecord, VersionStore, decide_alias_write, decide_publish, parse_receipt, ready,
};

/// A store that keeps everything in process memory and loses it on exit.
///
/// One lock guards all tables, so every write (an [`Append`] with its events and completion,
/// say) is atomic exactly as a SQLite transaction is. Its futures resolve at once: there is
/// nothing to wait for.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
}

/// The tables, keyed by ARN.
#[derive(Debug, Default)]
struct Tables {
    state_machines: HashMap<String, StateMachineRecord>,
    tags: HashMap<String, BTreeMap<String, String>>,
    executions: HashMap<String, ExecutionRecord>,
    /// Per execution, indexed by sequence (sequences are gap-free from 0).
    journals: HashMap<String, Vec<JournalEntry>>,
    /// Per execution, indexed by `id - 1` (ids are gap-free from 1). The events share their
    /// documents with the interpreter that produced them.
    histories: HashMap<String, Vec<HistoryEvent>>,
    leases: HashMap<String, Lease>,
    activities: HashMap<String, ActivityRecord>,
    /// Parked executions, the same in wake-up order (those with no wake-up time last), and the
    /// task tokens they wait for.
    parked: HashMap<String, Parking>,
    wake_order: BTreeSet<(Millis, String)>,
    awaited_tokens: HashMap<String, String>,
    issued_tokens: HashMap<String, IssuedToken>,
    /// Posted signals by id (ids only grow), with their ids per execution.
    signals: BTreeMap<i64, PostedSignal>,
    signals_of: HashMap<String, BTreeSet<i64>>,
    last_signal: i64,
    /// Activity tasks waiting for a worker, oldest first per activity, and the executions of
    /// every token scheduled (taken or not), so a task is queued once.
    activity_queues: HashMap<String, VecDeque<ActivityTask>>,
    scheduled_activity_tokens: HashMap<String, String>,
    /// Deployed functions by name, with their components.
    functions: BTreeMap<String, (FunctionRecord, Arc<[u8]>)>,
    /// Bound integrations by name.
    bindings: BTreeMap<String, BindingRecord>,
    /// Queues by name, and their messages by id.
    queues: BTreeMap<String, QueueRecord>,
    messages: BTreeMap<String, QueueMessage>,
    /// Versions per machine by number, the highest number each machine ever published, and
    /// aliases by ARN.
    versions: HashMap<String, BTreeMap<u64, VersionRecord>>,
    highest_published: HashMap<String, u64>,
    aliases: HashMap<String, AliasRecord>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    // A panic while holding the lock cannot leave the maps half-written (every write checks
    // before it mutates), so a poisoned lock is still safe to use.
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Tables {
    /// Checks an append against the execution's journal and history, then applies it. Nothing
    /// changes unless every check passes.
    fn append(&mut self, append: &Append) -> StoreResult<()> {
        let arn = &append.execution_arn;
        if !self.executions.contains_key(arn) {
            return Err(no_execution(arn));
        }
        let journal_len = self.journals.get(arn).map_or(0, Vec::len);
        let history_len = self.histories.get(arn).map_or(0, Vec::len);
        check_append(append, journal_len as u64, history_len as u64 + 1)?;
        self.unpark(arn);
        self.journals.entry(arn.clone()).or_default().push(append.entry.clone());
        self.histories.entry(arn.clone()).or_default().extend(append.events.iter().cloned());
        if let Some(completion) = &append.completion
            && let Some(record) = self.executions.get_mut(arn)
        {
            complete(record, completion);
        }
        Ok(())
    }
}

impl Tables {
    fn redrive(&mut self, append: &Append, redrive: &Redrive) -> StoreResult<()> {
        let arn = &append.execution_arn;
        let mut record = self.executions.get(arn).cloned().ok_or_else(|| no_execution(arn))?;
        reopen(&mut record, redrive)?;
        let journal_len = self.journals.get(arn).map_or(0, Vec::len);
        let history_len = self.histories.get(arn).map_or(0, Vec::len);
        check_append(append, journal_len as u64, history_len as u64 + 1)?;
        self.executions.insert(arn.clone(), record);
        self.append(append)
    }

    fn unpark(&mut self, arn: &str) {
        if let Some(parking) = self.parked.remove(arn) {
            self.wake_order.remove(&(parking.wake_at.unwrap_or(Millis::MAX), arn.to_owned()));
            self.wake_order.remove(&(super::SIGNALLED, arn.to_owned()));
            for callback in &parking.callbacks {
                self.awaited_tokens.remove(&callback.token);
            }
        }
    }
}

impl StateMachineStore for MemoryStore {
    fn create_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        ready(self.create_state_machine_blocking(record))
    }

    fn update_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        ready({
            let mut tables = self.write();
            match tables.state_machines.get_mut(&record.arn) {
                Some(stored) => {
                    *stored = record.clone();
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    fn state_machine(&self, arn: &str) -> StoreFuture<'_, Option<StateMachineRecord>> {
        ready(Ok(self.read().state_machines.get(arn).cloned()))
    }

    fn list_state_machines(&self, page: &PageRequest) -> StoreFuture<'_, Page<StateMachineRecord>> {
        ready({
            let tables = self.read();
            by_name(tables.state_machines.values(), page, |m| (&m.name, &m.arn))
        })
    }

    fn delete_state_machine(&self, arn: &str) -> StoreFuture<'_, bool> {
        ready({
            let mut tables = self.write();
            // A deleted resource's tags, versions and aliases go with it, as on AWS; its
            // executions stay.
            tables.tags.remove(arn);
            tables.versions.remove(arn);
            tables.highest_published.remove(arn);
            tables.aliases.retain(|_, alias| alias.machine_arn != arn);
            Ok(tables.state_machines.remove(arn).is_some())
        })
    }

    fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> StoreFuture<'_, ()> {
        ready({
            let mut tables = self.write();
            let stored = tables.tags.entry(arn.to_owned()).or_default();
            stored.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(())
        })
    }

    fn untag_resource(&self, arn: &str, keys: &[String]) -> StoreFuture<'_, ()> {
        ready({
            let mut tables = self.write();
            if let Some(stored) = tables.tags.get_mut(arn) {
                for key in keys {
                    stored.remove(key);
                }
                if stored.is_empty() {
                    tables.tags.remove(arn);
                }
            }
            Ok(())
        })
    }

    fn tags(&self, arn: &str) -> StoreFuture<'_, BTreeMap<String, String>> {
        ready(Ok(self.read().tags.get(arn).cloned().unwrap_or_default()))
    }
}

impl ExecutionStore for MemoryStore {
    fn create_execution(&self, record: &ExecutionRecord, start: &Append) -> StoreFuture<'_, Created> {
        let result = (|| {
            check_start(record, start)?;
            let mut tables = self.write();
            if let Some(existing) = tables.executions.get(&record.arn) {
                return Ok(Created::Existing(existing.clone()));
            }
            tables.executions.insert(record.arn.clone(), record.clone());
            if let Err(error) = tables.append(start) {
                // Keep creation atomic: no execution without its start entry.
                tables.executions.remove(&record.arn);
                return Err(error);
            }
            Ok(Created::New(tables.executions[&record.arn].clone()))
        })();
        Box::pin(std::future::ready(result))
    }

    fn execution(&self, arn: &str) -> StoreFuture<'_, Option<ExecutionRecord>> {
        ready(Ok(self.read().executions.get(arn).cloned()))
    }

    fn list_executions(&self, filter: &ExecutionFilter, page: &PageRequest) -> StoreFuture<'_, Page<ExecutionRecord>> {
        ready(self.list_executions_blocking(filter, page))
    }

    fn execution_counts(&self) -> StoreFuture<'_, super::ExecutionCounts> {
        ready({
            let tables = self.read();
            let mut counts = super::ExecutionCounts::default();
            for execution in tables.executions.values().filter(|e| e.status == super::ExecutionStatus::Running) {
                if tables.parked.contains_key(&execution.arn) {
                    counts.parked += 1;
                } else {
                    counts.running += 1;
                }
            }
            Ok(counts)
        })
    }

    fn running_executions(&self) -> StoreFuture<'_, Vec<String>> {
        ready({
            let tables = self.read();
            let mut arns: Vec<String> = tables
                .executions
                .values()
                .filter(|e| e.status == super::ExecutionStatus::Running && !tables.parked.contains_key(&e.arn))
                .map(|e| e.arn.clone())
                .collect();
            arns.sort();
            Ok(arns)
        })
    }

    fn park(&self, execution_arn: &str, parking: &Parking) -> StoreFuture<'_, ()> {
        let mut tables = self.write();
        let running = tables.executions.get(execution_arn).is_some_and(|e| e.status == super::ExecutionStatus::Running);
        if running {
            tables.unpark(execution_arn);
            let arn = execution_arn.to_owned();
            tables.wake_order.insert((parking.wake_at.unwrap_or(Millis::MAX), arn.clone()));
            for callback in &parking.callbacks {
                tables.awaited_tokens.insert(callback.token.clone(), arn.clone());
            }
            tables.parked.insert(arn, parking.clone());
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn parking(&self, execution_arn: &str) -> StoreFuture<'_, Option<Parking>> {
        ready(Ok(self.read().parked.get(execution_arn).cloned()))
    }

    fn execution_awaiting(&self, task_token: &str) -> StoreFuture<'_, Option<String>> {
        ready(Ok(self.read().awaited_tokens.get(task_token).cloned()))
    }

    fn due_executions(&self, now: Millis, limit: usize) -> StoreFuture<'_, Vec<String>> {
        ready({
            let tables = self.read();
            Ok(tables
                .wake_order
                .iter()
                .take_while(|(at, _)| *at <= now)
                .take(limit)
                .map(|(_, arn)| arn.clone())
                .collect())
        })
    }

    fn next_wake(&self) -> StoreFuture<'_, Option<Millis>> {
        ready(Ok(self.read().wake_order.first().map(|(at, _)| *at).filter(|at| *at != Millis::MAX)))
    }
}

impl JournalStore for MemoryStore {
    fn append(&self, append: Append) -> StoreFuture<'_, ()> {
        let result = self.write().append(&append);
        Box::pin(std::future::ready(result))
    }

    fn redrive(&self, append: Append, redrive: Redrive) -> StoreFuture<'_, ()> {
        let result = self.write().redrive(&append, &redrive);
        Box::pin(std::future::ready(result))
    }

    fn journal(&self, execution_arn: &str) -> StoreFuture<'_, Vec<JournalEntry>> {
        ready(Ok(self.read().journals.get(execution_arn).cloned().unwrap_or_default()))
    }

    fn history(&self, execution_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<StoredEvent>> {
        ready(self.history_blocking(execution_arn, page))
    }
}

impl LeaseStore for MemoryStore {
    fn claim(&self, execution_arn: &str, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        let lease =
            Lease { execution_arn: execution_arn.to_owned(), owner: owner.to_owned(), expires: now + ttl_millis };
        let held = match tables.leases.get_mut(execution_arn) {
            Some(held) if held.owner != owner && held.expires > now => false,
            Some(held) => {
                *held = lease;
                true
            }
            None => {
                tables.leases.insert(execution_arn.to_owned(), lease);
                true
            }
        };
        Box::pin(std::future::ready(Ok(held)))
    }

    fn renew_all(&self, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, Vec<String>> {
        let mut tables = self.write();
        let mut renewed = Vec::new();
        // A lapsed lease that nobody took over is renewed too: no other node has worked on
        // it, and one that did would have changed its owner.
        for (arn, lease) in tables.leases.iter_mut().filter(|(_, l)| l.owner == owner) {
            lease.expires = now + ttl_millis;
            renewed.push(arn.clone());
        }
        renewed.sort_unstable();
        Box::pin(std::future::ready(Ok(renewed)))
    }

    fn release(&self, execution_arn: &str, owner: &str) -> StoreFuture<'_, ()> {
        let mut tables = self.write();
        if tables.leases.get(execution_arn).is_some_and(|l| l.owner == owner) {
            tables.leases.remove(execution_arn);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

impl ActivityStore for MemoryStore {
    fn create_activity(&self, record: &ActivityRecord) -> StoreFuture<'_, ActivityRecord> {
        ready({
            let mut tables = self.write();
            Ok(tables.activities.entry(record.arn.clone()).or_insert_with(|| record.clone()).clone())
        })
    }

    fn activity(&self, arn: &str) -> StoreFuture<'_, Option<ActivityRecord>> {
        ready(Ok(self.read().activities.get(arn).cloned()))
    }

    fn list_activities(&self, page: &PageRequest) -> StoreFuture<'_, Page<ActivityRecord>> {
        ready({
            let tables = self.read();
            by_name(tables.activities.values(), page, |a| (&a.name, &a.arn))
        })
    }

    fn delete_activity(&self, arn: &str) -> StoreFuture<'_, bool> {
        ready({
            let mut tables = self.write();
            tables.tags.remove(arn);
            Ok(tables.activities.remove(arn).is_some())
        })
    }
}

impl CallbackStore for MemoryStore {
    fn issue_token(&self, token: &IssuedToken) -> StoreFuture<'_, ()> {
        self.write().issued_tokens.entry(token.token.clone()).or_insert_with(|| token.clone());
        ready(Ok(()))
    }

    fn token(&self, token: &str) -> StoreFuture<'_, Option<IssuedToken>> {
        ready(Ok(self.read().issued_tokens.get(token).cloned()))
    }

    fn tokens_of(&self, execution_arn: &str) -> StoreFuture<'_, Vec<IssuedToken>> {
        let mut tokens: Vec<IssuedToken> =
            self.read().issued_tokens.values().filter(|t| t.execution_arn == execution_arn).cloned().collect();
        tokens.sort_by(|a, b| (a.issued, &a.token).cmp(&(b.issued, &b.token)));
        ready(Ok(tokens))
    }

    fn post_signal(&self, execution_arn: &str, signal: &str) -> StoreFuture<'_, i64> {
        let mut tables = self.write();
        tables.last_signal += 1;
        let id = tables.last_signal;
        let posted = PostedSignal { id, execution_arn: execution_arn.to_owned(), signal: signal.to_owned() };
        tables.signals.insert(id, posted);
        tables.signals_of.entry(execution_arn.to_owned()).or_default().insert(id);
        if let Some(parking) = tables.parked.get(execution_arn) {
            let wake_at = parking.wake_at.unwrap_or(Millis::MAX);
            tables.wake_order.remove(&(wake_at, execution_arn.to_owned()));
            tables.wake_order.insert((super::SIGNALLED, execution_arn.to_owned()));
        }
        ready(Ok(id))
    }

    fn signals(&self, execution_arn: &str) -> StoreFuture<'_, Vec<PostedSignal>> {
        let tables = self.read();
        let ids = tables.signals_of.get(execution_arn).into_iter().flatten();
        ready(Ok(ids.filter_map(|id| tables.signals.get(id).cloned()).collect()))
    }

    fn delete_signals(&self, ids: &[i64]) -> StoreFuture<'_, ()> {
        let mut tables = self.write();
        for id in ids {
            if let Some(posted) = tables.signals.remove(id)
                && let Some(of) = tables.signals_of.get_mut(&posted.execution_arn)
            {
                of.remove(id);
                if of.is_empty() {
                    tables.signals_of.remove(&posted.execution_arn);
                }
            }
        }
        ready(Ok(()))
    }

    fn schedule_activity_task(&self, task: &ActivityTask) -> StoreFuture<'_, ()> {
        let mut tables = self.write();
        if !tables.scheduled_activity_tokens.contains_key(&task.token) {
            tables.scheduled_activity_tokens.insert(task.token.clone(), task.execution_arn.clone());
            tables.activity_queues.entry(task.activity_arn.clone()).or_default().push_back(task.clone());
        }
        ready(Ok(()))
    }

    fn take_activity_task(&self, activity_arn: &str) -> StoreFuture<'_, Option<ActivityTask>> {
        let mut tables = self.write();
        let Some(queue) = tables.activity_queues.get_mut(activity_arn) else { return ready(Ok(None)) };
        let task = queue.pop_front();
        if queue.is_empty() {
            tables.activity_queues.remove(activity_arn);
        }
        ready(Ok(task))
    }

    fn drop_activity_tasks(&self, execution_arn: &str) -> StoreFuture<'_, ()> {
        let mut tables = self.write();
        tables.scheduled_activity_tokens.retain(|_, of| of != execution_arn);
        tables.activity_queues.retain(|_, queue| {
            queue.retain(|task| task.execution_arn != execution_arn);
            !queue.is_empty()
        });
        ready(Ok(()))
    }

    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Notice>> {
        None
    }
}

impl FunctionStore for MemoryStore {
    fn put_function(&self, record: &FunctionRecord, component: &[u8]) -> StoreFuture<'_, ()> {
        self.write().functions.insert(record.name.clone(), (record.clone(), Arc::from(component)));
        ready(Ok(()))
    }

    fn function(&self, name: &str) -> StoreFuture<'_, Option<FunctionRecord>> {
        ready(Ok(self.read().functions.get(name).map(|(record, _)| record.clone())))
    }

    fn function_component(&self, name: &str) -> StoreFuture<'_, Option<(FunctionRecord, Vec<u8>)>> {
        let found = self.read().functions.get(name).map(|(record, component)| (record.clone(), component.to_vec()));
        ready(Ok(found))
    }

    fn list_functions(&self) -> StoreFuture<'_, Vec<FunctionRecord>> {
        ready(Ok(self.read().functions.values().map(|(record, _)| record.clone()).collect()))
    }

    fn delete_function(&self, name: &str) -> StoreFuture<'_, bool> {
        ready(Ok(self.write().functions.remove(name).is_some()))
    }
}

/// Orders records by (name, ARN) and cuts one page, as the SQLite store's keyset query does.
impl VersionStore for MemoryStore {
    fn publish_version(&self, request: &PublishRequest) -> StoreFuture<'_, Published> {
        ready({
            let mut tables = self.write();
            let arn = &request.machine_arn;
            let versions = tables.versions.get(arn);
            let decided = decide_publish(
                request,
                tables.state_machines.get(arn),
                tables.highest_published.get(arn).copied().unwrap_or(0),
                versions.and_then(|versions| versions.values().next_back()),
                versions.map_or(0, BTreeMap::len),
            );
            if let Published::New(version) = &decided {
                tables.highest_published.insert(arn.clone(), version.version);
                tables.versions.entry(arn.clone()).or_default().insert(version.version, version.clone());
            }
            Ok(decided)
        })
    }

    fn version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, Option<VersionRecord>> {
        ready(Ok(self.read().versions.get(machine_arn).and_then(|versions| versions.get(&version)).cloned()))
    }

    fn list_versions(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<VersionRecord>> {
        ready((|| {
            let after = page.after.as_deref().map(parse_version_position).transpose()?;
            let tables = self.read();
            let Some(versions) = tables.versions.get(machine_arn) else {
                return Ok(Page { items: vec![], next: None });
            };
            let newest_first = versions.range(..after.unwrap_or(u64::MAX)).rev().map(|(_, version)| version.clone());
            Ok(paginate(newest_first, page.limit, |version| version_position(version.version)))
        })())
    }

    fn delete_version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, VersionDeletion> {
        ready({
            let mut tables = self.write();
            let routed_by = tables
                .aliases
                .values()
                .filter(|alias| alias.machine_arn == machine_arn && alias.routes_to(version))
                .map(|alias| alias.arn.clone())
                .min();
            Ok(match routed_by {
                Some(alias) => VersionDeletion::RoutedBy(alias),
                None => {
                    if let Some(versions) = tables.versions.get_mut(machine_arn) {
                        versions.remove(&version);
                    }
                    VersionDeletion::Deleted
                }
            })
        })
    }

    fn put_alias(&self, alias: &AliasRecord, create: bool) -> StoreFuture<'_, AliasWrite> {
        ready({
            let mut tables = self.write();
            let machine = &alias.machine_arn;
            let versions = tables.versions.get(machine);
            let decided = decide_alias_write(
                alias,
                create,
                tables.state_machines.get(machine),
                |version| versions.is_some_and(|versions| versions.contains_key(&version)),
                tables.aliases.get(&alias.arn),
                tables.aliases.values().filter(|stored| stored.machine_arn == *machine).count(),
            );
            if let AliasWrite::Written(record) = &decided {
                tables.aliases.insert(record.arn.clone(), record.clone());
            }
            Ok(decided)
        })
    }

    fn alias(&self, arn: &str) -> StoreFuture<'_, Option<AliasRecord>> {
        ready(Ok(self.read().aliases.get(arn).cloned()))
    }

    fn list_aliases(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<AliasRecord>> {
        ready({
            let tables = self.read();
            let mut aliases: Vec<&AliasRecord> = tables
                .aliases
                .values()
                .filter(|alias| alias.machine_arn == machine_arn)
                .filter(|alias| page.after.as_ref().is_none_or(|after| alias.name > *after))
                .collect();
            aliases.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(paginate(aliases.into_iter().cloned(), page.limit, |alias| alias.name.clone()))
        })
    }

    fn delete_alias(&self, arn: &str) -> StoreFuture<'_, bool> {
        ready(Ok(self.write().aliases.remove(arn).is_some()))
    }
}

fn by_name<'a, T: Clone + 'a>(
    records: impl Iterator<Item = &'a T>,
    page: &PageRequest,
    key: impl Fn(&T) -> (&String, &String),
) -> StoreResult<Page<T>> {
    let after = page.after.as_deref().map(parse_name_position).transpose()?;
    let mut items: Vec<&T> = records
        .filter(|r| match &after {
            Some((name, arn)) if page.reverse => key(r) < (name, arn),
            Some((name, arn)) => key(r) > (name, arn),
            None => true,
        })
        .collect();
    items.sort_by(|a, b| key(a).cmp(&key(b)));
    if page.reverse {
        items.reverse();
    }
    Ok(paginate(items.into_iter().cloned(), page.limit, |r| {
        let (name, arn) = key(r);
        name_position(name, arn)
    }))
}

// ---------------------------------------------------------------------------------------------
// Shared with the SQLite store, so both behave identically.

/// Cuts the first page from `items` (already ordered and past `after`). A `limit` of 0 means no
/// limit. `next` is set only when an item follows the page, so the last page never points at an
/// empty one; callers fetch `limit + 1` items to know.
pub(super) fn paginate<T>(items: impl Iterator<Item = T>, limit: usize, position: impl Fn(&T) -> String) -> Page<T> {
    if limit == 0 {
        return Page { items: items.collect(), next: None };
    }
    let mut items: Vec<T> = items.take(limit + 1).collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(position)
    } else {
        None
    };
    Page { items, next }
}

/// The position after a record listed by name: its (name, ARN), as JSON so any text survives.
pub(super) fn name_position(name: &str, arn: &str) -> String {
    serde_json::json!([name, arn]).to_string()
}

/// Reads a [`name_position`].
pub(super) fn parse_name_position(position: &str) -> StoreResult<(String, String)> {
    serde_json::from_str(position).map_err(|_| bad_position(position))
}

/// The position after an execution in a listing: its (start date, ARN).
pub(super) fn execution_position(start_date: Millis, arn: &str) -> String {
    serde_json::json!([start_date, arn]).to_string()
}

/// Reads an [`execution_position`].
pub(super) fn parse_execution_position(position: &str) -> StoreResult<(Millis, String)> {
    serde_json::from_str(position).map_err(|_| bad_position(position))
}

/// The position after a history event: its id, as the trait documents.
pub(super) fn event_position(id: u64) -> String {
    id.to_string()
}

/// Reads an [`event_position`].
pub(super) fn parse_event_position(position: &str) -> StoreResult<u64> {
    position.parse().map_err(|_| bad_position(position))
}

/// The position after a version in a newest-first list: its number.
pub(super) fn version_position(version: u64) -> String {
    version.to_string()
}

/// Reads a [`version_position`].
pub(super) fn parse_version_position(position: &str) -> StoreResult<u64> {
    position.parse().map_err(|_| bad_position(position))
}

fn bad_position(position: &str) -> StoreError {
    StoreError::Corrupt(format!("page position {position:?} was not issued by this store"))
}

/// The error for a write to an execution that does not exist.
pub(super) fn no_execution(arn: &str) -> StoreError {
    StoreError::Refused(format!("execution {arn} does not exist, so nothing can be appended to it"))
}

/// Checks that a start append belongs to `record` and begins its journal and history.
pub(super) fn check_start(record: &ExecutionRecord, start: &Append) -> StoreResult<()> {
    if start.execution_arn != record.arn {
        return Err(StoreError::Refused(format!(
            "the start entry is for {}, not for the execution being created ({})",
            start.execution_arn, record.arn
        )));
    }
    Ok(())
}

/// Checks that `append` continues its execution's journal (whose next sequence is
/// `next_sequence`) and history (whose next event id is `next_event`) with no gap and no
/// repeat. A repeated sequence means another writer, typically another node that also believed
/// it held the lease, appended this step first: the loser must stop working on the execution.
pub(super) fn check_append(append: &Append, next_sequence: u64, next_event: u64) -> StoreResult<()> {
    let arn = &append.execution_arn;
    let sequence = append.entry.sequence;
    if sequence < next_sequence {
        return Err(StoreError::Refused(format!(
            "execution {arn} already has journal entry {sequence}: another writer appended that step first"
        )));
    }
    if sequence > next_sequence {
        return Err(StoreError::Refused(format!(
            "journal entry {sequence} of execution {arn} would leave a gap: the next entry is {next_sequence}"
        )));
    }
    for (offset, event) in (0u64..).zip(&append.events) {
        let expected = next_event + offset;
        if event.id != expected {
            return Err(StoreError::Refused(format!(
                "history event {} of execution {arn} is out of order: the next event id is {expected}",
                event.id
            )));
        }
    }
    Ok(())
}

/// Makes a finished execution RUNNING again for a redrive; refused while it runs.
pub(super) fn reopen(record: &mut ExecutionRecord, redrive: &Redrive) -> StoreResult<()> {
    if record.status == ExecutionStatus::Running {
        return Err(StoreError::Refused(format!("execution {} is running: it cannot be redriven", record.arn)));
    }
    record.status = ExecutionStatus::Running;
    record.output = None;
    record.error = None;
    record.cause = None;
    record.stop_date = None;
    record.redrive_count = redrive.count;
    record.redrive_date = Some(redrive.date);
    record.redrive_token.clone_from(&redrive.client_token);
    Ok(())
}

/// Applies a completion to an execution record.
pub(super) fn complete(record: &mut ExecutionRecord, completion: &Completion) {
    record.status = completion.status;
    record.output.clone_from(&completion.output);
    record.error.clone_from(&completion.error);
    record.cause.clone_from(&completion.cause);
    record.stop_date = Some(completion.stop_date);
}

/// The stores' answers, computed on the calling thread; the trait methods wrap them in ready futures.
impl MemoryStore {
    fn create_state_machine_blocking(&self, record: &StateMachineRecord) -> StoreResult<bool> {
        let mut tables = self.write();
        if tables.state_machines.contains_key(&record.arn) {
            return Ok(false);
        }
        tables.state_machines.insert(record.arn.clone(), record.clone());
        Ok(true)
    }

    fn list_executions_blocking(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ExecutionRecord>> {
        let after = page.after.as_deref().map(parse_execution_position).transpose()?;
        let tables = self.read();
        let mut items: Vec<&ExecutionRecord> = tables
            .executions
            .values()
            .filter(|e| filter.admits(e))
            .filter(|e| match &after {
                // Newest first by default, so "after" means an older key.
                Some((start, arn)) if page.reverse => (e.start_date, e.arn.as_str()) > (*start, arn.as_str()),
                Some((start, arn)) => (e.start_date, e.arn.as_str()) < (*start, arn.as_str()),
                None => true,
            })
            .collect();
        items.sort_by(|a, b| (b.start_date, &b.arn).cmp(&(a.start_date, &a.arn)));
        if page.reverse {
            items.reverse();
        }
        Ok(paginate(items.into_iter().cloned(), page.limit, |e| execution_position(e.start_date, &e.arn)))
    }

    fn history_blocking(&self, execution_arn: &str, page: &PageRequest) -> StoreResult<Page<StoredEvent>> {
        let after = page.after.as_deref().map(parse_event_position).transpose()?;
        let tables = self.read();
        let events = tables.histories.get(execution_arn).map_or(&[][..], Vec::as_slice);
        // Ids are gap-free from 1, so an id is its index plus one.
        let items: Box<dyn Iterator<Item = &HistoryEvent>> = match (page.reverse, after) {
            (false, None) => Box::new(events.iter()),
            (false, Some(after)) => Box::new(events.iter().skip(usize::try_from(after).unwrap_or(usize::MAX))),
            (true, None) => Box::new(events.iter().rev()),
            (true, Some(after)) => {
                let end = usize::try_from(after.saturating_sub(1)).unwrap_or(usize::MAX).min(events.len());
                Box::new(events[..end].iter().rev())
            }
        };
        Ok(paginate(items.map(StoredEvent::render), page.limit, |e| event_position(e.id)))
    }
}

impl BindingStore for MemoryStore {
    fn put_binding(&self, record: &BindingRecord) -> StoreFuture<'_, ()> {
        self.write().bindings.insert(record.integration.clone(), record.clone());
        ready(Ok(()))
    }

    fn binding(&self, integration: &str) -> StoreFuture<'_, Option<BindingRecord>> {
        ready(Ok(self.read().bindings.get(integration).cloned()))
    }

    fn list_bindings(&self) -> StoreFuture<'_, Vec<BindingRecord>> {
        ready(Ok(self.read().bindings.values().cloned().collect()))
    }

    fn delete_binding(&self, integration: &str) -> StoreFuture<'_, bool> {
        ready(Ok(self.write().bindings.remove(integration).is_some()))
    }
}

impl QueueStore for MemoryStore {
    fn create_queue(&self, record: &QueueRecord) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        if tables.queues.contains_key(&record.name) {
            return ready(Ok(false));
        }
        tables.queues.insert(record.name.clone(), record.clone());
        ready(Ok(true))
    }

    fn queue(&self, name: &str) -> StoreFuture<'_, Option<QueueRecord>> {
        ready(Ok(self.read().queues.get(name).cloned()))
    }

    fn list_queues(&self) -> StoreFuture<'_, Vec<QueueRecord>> {
        ready(Ok(self.read().queues.values().cloned().collect()))
    }

    fn delete_queue(&self, name: &str) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        tables.messages.retain(|_, message| message.queue != name);
        ready(Ok(tables.queues.remove(name).is_some()))
    }

    fn send_message(&self, message: &QueueMessage) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        if tables.messages.contains_key(&message.id) {
            return ready(Ok(false));
        }
        tables.messages.insert(message.id.clone(), message.clone());
        ready(Ok(true))
    }

    fn receive_messages(
        &self,
        queue: &str,
        now: Millis,
        max: usize,
        hidden_until: Millis,
    ) -> StoreFuture<'_, Vec<(QueueMessage, String)>> {
        let mut tables = self.write();
        let mut due: Vec<&mut QueueMessage> = tables
            .messages
            .values_mut()
            .filter(|message| message.queue == queue && message.visible_at <= now)
            .collect();
        due.sort_by(|a, b| (a.sent, &a.id).cmp(&(b.sent, &b.id)));
        let received = due
            .into_iter()
            .take(max)
            .map(|message| {
                message.visible_at = hidden_until;
                message.receive_count += 1;
                (message.clone(), super::receipt_handle(message))
            })
            .collect();
        ready(Ok(received))
    }

    fn delete_message(&self, queue: &str, receipt: &str) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        let latest =
            tables.messages.get(id).is_some_and(|message| message.queue == queue && message.receive_count == count);
        if latest {
            tables.messages.remove(id);
        }
        ready(Ok(latest))
    }

    fn change_visibility(&self, queue: &str, receipt: &str, visible_at: Millis) -> StoreFuture<'_, bool> {
        let mut tables = self.write();
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        match tables.messages.get_mut(id) {
            Some(message) if message.queue == queue && message.receive_count == count => {
                message.visible_at = visible_at;
                ready(Ok(true))
            }
            _ => ready(Ok(false)),
        }
    }

    fn purge_queue(&self, queue: &str) -> StoreFuture<'_, ()> {
        self.write().messages.retain(|_, message| message.queue != queue);
        ready(Ok(()))
    }

    fn queue_counts(&self, queue: &str, now: Millis) -> StoreFuture<'_, QueueCounts> {
        let tables = self.read();
        let mut counts = QueueCounts::default();
        for message in tables.messages.values().filter(|message| message.queue == queue) {
            if message.visible_at <= now { counts.visible += 1 } else { counts.hidden += 1 }
        }
        ready(Ok(counts))
    }
}
