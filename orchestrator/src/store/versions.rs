//! Published versions of state machines, and the aliases that route executions to them.
//!
//! A version is an immutable copy of a machine's definition and settings, numbered 1, 2, … per
//! machine; a number is never used twice, even after its version is deleted. An alias names one
//! or two versions with weights that sum to 100; starting an execution through it picks one of
//! them by weight.
//!
//! The rules that decide what a write does (which number comes next, when a publish is a repeat,
//! whether a version is still routed to) live here once, as plain functions over what a store
//! has read; each backend reads inside its own transaction and applies what they decide.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Millis, Page, PageRequest, StateMachineRecord, StoreFuture};

/// The most versions a machine may have at once, as on AWS.
pub const MAX_VERSIONS: usize = 1000;

/// The most aliases a machine may have, as on AWS.
pub const MAX_ALIASES: usize = 100;

/// A published version of a state machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The state machine's ARN.
    pub machine_arn: String,
    /// 1, 2, …: never reused.
    pub version: u64,
    /// The definition, as the machine had it when this version was published.
    pub definition: String,
    /// The role, likewise.
    pub role_arn: String,
    /// The machine's revision this version was published from.
    pub revision_id: String,
    /// What the publisher said about it.
    pub description: Option<String>,
    /// When it was published.
    pub created: Millis,
    /// The machine's logging configuration, as published.
    pub logging_configuration: Value,
    /// The machine's tracing configuration, as published.
    pub tracing_configuration: Value,
}

impl VersionRecord {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:VERSION`.
    pub fn arn(&self) -> String {
        version_arn(&self.machine_arn, self.version)
    }
}

/// The ARN of a machine's version.
pub fn version_arn(machine_arn: &str, version: u64) -> String {
    format!("{machine_arn}:{version}")
}

/// A request to publish a machine's current revision.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    /// The state machine.
    pub machine_arn: String,
    /// Publish only if the machine is at this revision.
    pub expected_revision: Option<String>,
    /// The new version's description.
    pub description: Option<String>,
    /// When, if a version is made.
    pub created: Millis,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// A new version.
    New(VersionRecord),
    /// The current revision was published already: that version, unchanged.
    Existing(VersionRecord),
    /// There is no such state machine.
    NoMachine,
    /// The machine is not at the expected revision; it is at this one.
    RevisionChanged(String),
    /// The machine has [`MAX_VERSIONS`] versions.
    TooMany,
}

/// Decides a publish, from the machine, the highest number it ever published, and its newest
/// version. On [`Published::New`] the store inserts the version and records its number as the
/// highest; any other answer changes nothing.
pub fn decide_publish(
    request: &PublishRequest,
    machine: Option<&StateMachineRecord>,
    highest_published: u64,
    newest: Option<&VersionRecord>,
    versions: usize,
) -> Published {
    let Some(machine) = machine else { return Published::NoMachine };
    if let Some(expected) = &request.expected_revision
        && *expected != machine.revision_id
    {
        return Published::RevisionChanged(machine.revision_id.clone());
    }
    // Revisions are unique per change, so only the newest version can be of this revision.
    if let Some(newest) = newest
        && newest.revision_id == machine.revision_id
    {
        return Published::Existing(newest.clone());
    }
    if versions >= MAX_VERSIONS {
        return Published::TooMany;
    }
    Published::New(VersionRecord {
        machine_arn: machine.arn.clone(),
        version: highest_published + 1,
        definition: machine.definition.clone(),
        role_arn: machine.role_arn.clone(),
        revision_id: machine.revision_id.clone(),
        description: request.description.clone(),
        created: request.created,
        logging_configuration: machine.logging_configuration.clone(),
        tracing_configuration: machine.tracing_configuration.clone(),
    })
}

/// One route of an alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The version it routes to.
    pub version: u64,
    /// Its share of the executions started through the alias, in percent.
    pub weight: u8,
}

/// An alias of a state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:MACHINE:ALIAS`.
    pub arn: String,
    /// The state machine's ARN.
    pub machine_arn: String,
    /// Its name: at least one character that is not a digit, so it never reads as a version.
    pub name: String,
    /// What its creator said about it.
    pub description: Option<String>,
    /// One or two routes whose weights sum to 100.
    pub routes: Vec<Route>,
    /// When it was created.
    pub created: Millis,
    /// When its routes or description last changed.
    pub updated: Millis,
}

impl AliasRecord {
    /// Whether it routes any execution to `version`.
    pub fn routes_to(&self, version: u64) -> bool {
        self.routes.iter().any(|route| route.version == version)
    }
}

/// What writing an alias did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasWrite {
    /// It was stored.
    Written(AliasRecord),
    /// Creating: an alias of that ARN exists already; it is returned as stored.
    Exists(AliasRecord),
    /// Updating: there is no alias of that ARN.
    NoAlias,
    /// There is no such state machine.
    NoMachine,
    /// A route names a version the machine does not have.
    NoVersion(u64),
    /// Creating: the machine has [`MAX_ALIASES`] aliases.
    TooMany,
}

/// Decides an alias write, from the machine, the version numbers it has, the alias stored under
/// that ARN and how many aliases the machine has. On [`AliasWrite::Written`] the store writes the
/// record; any other answer changes nothing.
pub fn decide_alias_write(
    alias: &AliasRecord,
    create: bool,
    machine: Option<&StateMachineRecord>,
    has_version: impl Fn(u64) -> bool,
    stored: Option<&AliasRecord>,
    aliases: usize,
) -> AliasWrite {
    if machine.is_none() {
        return AliasWrite::NoMachine;
    }
    match (create, stored) {
        (true, Some(stored)) => return AliasWrite::Exists(stored.clone()),
        (false, None) => return AliasWrite::NoAlias,
        (true, None) if aliases >= MAX_ALIASES => return AliasWrite::TooMany,
        _ => {}
    }
    if let Some(missing) = alias.routes.iter().find(|route| !has_version(route.version)) {
        return AliasWrite::NoVersion(missing.version);
    }
    let mut record = alias.clone();
    if let Some(stored) = stored {
        record.created = stored.created;
    }
    AliasWrite::Written(record)
}

/// What deleting a version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionDeletion {
    /// It is gone (or never was: deleting is idempotent, as on AWS).
    Deleted,
    /// This alias still routes to it; nothing changed.
    RoutedBy(String),
}

/// Versions and aliases of state machines. Deleting a machine
/// ([`StateMachineStore::delete_state_machine`](super::StateMachineStore::delete_state_machine))
/// deletes its versions and aliases too.
pub trait VersionStore: Send + Sync {
    /// Publishes the machine's current revision, atomically with the checks [`decide_publish`]
    /// makes.
    fn publish_version(&self, request: &PublishRequest) -> StoreFuture<'_, Published>;
    /// One version of a machine.
    fn version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, Option<VersionRecord>>;
    /// A machine's versions, newest first, a page at a time (`after` is the last version seen).
    fn list_versions(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<VersionRecord>>;
    /// Deletes a version unless an alias routes to it, atomically with alias writes.
    fn delete_version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, VersionDeletion>;
    /// Creates or replaces an alias, atomically with the checks [`decide_alias_write`] makes.
    fn put_alias(&self, alias: &AliasRecord, create: bool) -> StoreFuture<'_, AliasWrite>;
    /// The alias with this ARN.
    fn alias(&self, arn: &str) -> StoreFuture<'_, Option<AliasRecord>>;
    /// A machine's aliases by name, a page at a time (`after` is the last name seen).
    fn list_aliases(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<AliasRecord>>;
    /// Deletes an alias; `false` if there was none.
    fn delete_alias(&self, arn: &str) -> StoreFuture<'_, bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MachineType;

    fn machine() -> StateMachineRecord {
        StateMachineRecord {
            arn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders".to_owned(),
            name: "orders".to_owned(),
            definition: "{}".to_owned(),
            role_arn: String::new(),
            machine_type: MachineType::Standard,
            created: 1,
            updated: 1,
            revision_id: "rev".to_owned(),
            logging_configuration: Value::Null,
            tracing_configuration: Value::Null,
        }
    }

    #[test]
    fn quotas_hold_for_new_versions_and_aliases_only() {
        let machine = machine();
        let request =
            PublishRequest { machine_arn: machine.arn.clone(), expected_revision: None, description: None, created: 2 };
        assert_eq!(decide_publish(&request, Some(&machine), 1500, None, MAX_VERSIONS), Published::TooMany);
        let Published::New(version) = decide_publish(&request, Some(&machine), 1500, None, MAX_VERSIONS - 1) else {
            panic!("one below the quota publishes");
        };
        assert_eq!(version.version, 1501, "numbers continue from the highest ever published");
        let newest = VersionRecord { version: 7, ..version };
        assert_eq!(
            decide_publish(&request, Some(&machine), 7, Some(&newest), MAX_VERSIONS),
            Published::Existing(newest.clone()),
            "a repeat is answered even at the quota"
        );

        let alias = AliasRecord {
            arn: format!("{}:live", machine.arn),
            machine_arn: machine.arn.clone(),
            name: "live".to_owned(),
            description: None,
            routes: vec![Route { version: 7, weight: 100 }],
            created: 3,
            updated: 3,
        };
        let has = |version| version == 7;
        assert_eq!(decide_alias_write(&alias, true, Some(&machine), has, None, MAX_ALIASES), AliasWrite::TooMany);
        let stored = AliasRecord { created: 1, ..alias.clone() };
        let updated = decide_alias_write(&alias, false, Some(&machine), has, Some(&stored), MAX_ALIASES);
        assert_eq!(updated, AliasWrite::Written(AliasRecord { created: 1, ..alias }), "updates are not counted");
    }
}
