//! Versions and aliases: publish, list, describe and delete versions; create, describe,
//! update, list and delete aliases; and what a state machine ARN qualified by either names.

use super::error::{ErrorKind, ServiceError};
use super::names::{Listing, state_machine_qualified};
use super::{Service, ServiceResult};
use crate::engine::SystemEntropy;
use crate::store::{
    AliasRecord, AliasWrite, PublishRequest, Published, Route, StateMachineRecord, VersionDeletion, VersionRecord,
    version_arn,
};
use stepwasm_asl::Entropy as _;

/// What a state machine ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// The machine itself, at its current revision.
    None,
    /// One of its versions.
    Version(u64),
    /// One of its aliases, by name.
    Alias(String),
}

/// A state machine ARN, split into the machine's own ARN and what qualifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MachineRef {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`.
    pub(crate) machine_arn: String,
    /// What follows the name, if anything.
    pub(crate) qualifier: Qualifier,
}

impl MachineRef {
    /// Parses a state machine, version or alias ARN.
    pub(crate) fn parse(arn: &str) -> ServiceResult<Self> {
        let (machine_arn, qualifier) = state_machine_qualified(arn)?;
        let qualifier = match qualifier {
            None => Qualifier::None,
            Some(text) if text.bytes().all(|byte| byte.is_ascii_digit()) => {
                Qualifier::Version(text.parse().map_err(|_| invalid_qualified_arn(arn))?)
            }
            Some(name) => Qualifier::Alias(name.to_owned()),
        };
        Ok(Self { machine_arn: machine_arn.to_owned(), qualifier })
    }
}

/// What a StartExecution runs: the definition and settings to run, and which version and alias
/// it was started through.
#[derive(Debug, Clone)]
pub(crate) struct StartTarget {
    /// The machine's own ARN.
    pub(crate) machine_arn: String,
    /// The machine, with the definition and role of the version when started through one.
    pub(crate) machine: StateMachineRecord,
    /// The version's ARN, when started through a version or an alias.
    pub(crate) version_arn: Option<String>,
    /// The alias's ARN, when started through one.
    pub(crate) alias_arn: Option<String>,
}

/// DescribeStateMachine's answer: the machine, or one of its versions seen as a machine.
#[derive(Debug, Clone)]
pub struct MachineView {
    /// The machine; for a version, its ARN is the version's, and its definition, role,
    /// revision and creation date are the version's.
    pub record: StateMachineRecord,
    /// A version's description.
    pub description: Option<String>,
}

/// An alias's route as a caller gives it: a version ARN and a weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRequest {
    /// The version's ARN.
    pub version_arn: String,
    /// Its weight, 0 to 100.
    pub weight: i64,
}

const MAX_DESCRIPTION: usize = 256;

impl Service {
    /// PublishStateMachineVersion. Idempotent: publishing a revision that is published already
    /// returns its version. `revision_id` guards against publishing a revision other than the
    /// one the caller saw; `INITIAL` stands for a machine never updated.
    pub async fn publish_state_machine_version(
        &self,
        arn: &str,
        revision_id: Option<&str>,
        description: Option<&str>,
    ) -> ServiceResult<VersionRecord> {
        let machine_arn = unqualified(arn)?;
        check_description(description, "description")?;
        let machine = self.describe_state_machine(&machine_arn).await?;
        let expected = match revision_id {
            Some("INITIAL") if machine.updated == machine.created => Some(machine.revision_id.clone()),
            Some("INITIAL") => return Err(revision_conflict("INITIAL", &machine.revision_id)),
            other => other.map(str::to_owned),
        };
        let request = PublishRequest {
            machine_arn: machine_arn.clone(),
            expected_revision: expected.clone(),
            description: description.map(str::to_owned),
            created: self.inner.engine.clock().now().0,
        };
        match self.inner.store.publish_version(&request).await? {
            Published::New(version) | Published::Existing(version) => Ok(version),
            Published::NoMachine => Err(ServiceError::state_machine_does_not_exist(&machine_arn)),
            Published::RevisionChanged(current) => {
                Err(revision_conflict(revision_id.or(expected.as_deref()).unwrap_or_default(), &current))
            }
            Published::TooMany => Err(ServiceError::new(
                ErrorKind::ServiceQuotaExceeded,
                format!(
                    "The maximum number of versions ({}) for state machine '{machine_arn}' has been reached",
                    crate::store::MAX_VERSIONS
                ),
            )),
        }
    }

    /// ListStateMachineVersions, newest first. A machine that does not exist has none.
    pub async fn list_state_machine_versions(
        &self,
        arn: &str,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<VersionRecord>, Option<String>)> {
        let machine_arn = unqualified(arn)?;
        let scope = format!("versions:{machine_arn}");
        let listing = Listing::new(scope);
        let page = listing.request(max_results, next_token, false)?;
        let page = self.inner.store.list_versions(&machine_arn, &page).await?;
        Ok((page.items, listing.next_token(page.next)))
    }

    /// DeleteStateMachineVersion. Refused while an alias routes to the version; a version that
    /// does not exist is not an error, as on AWS.
    pub async fn delete_state_machine_version(&self, arn: &str) -> ServiceResult<()> {
        let MachineRef { machine_arn, qualifier: Qualifier::Version(version) } = MachineRef::parse(arn)? else {
            return Err(ServiceError::new(
                ErrorKind::InvalidArn,
                format!("Invalid Arn: 'Expected a state machine version ARN: {arn}'"),
            ));
        };
        match self.inner.store.delete_version(&machine_arn, version).await? {
            VersionDeletion::Deleted => Ok(()),
            VersionDeletion::RoutedBy(alias) => Err(ServiceError::new(
                ErrorKind::Conflict,
                format!(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{alias}]"
                ),
            )),
        }
    }

    /// DescribeStateMachine on a machine or version ARN.
    pub async fn describe_machine_or_version(&self, arn: &str) -> ServiceResult<MachineView> {
        let reference = MachineRef::parse(arn)?;
        match reference.qualifier {
            Qualifier::None => Ok(MachineView { record: self.describe_state_machine(arn).await?, description: None }),
            Qualifier::Version(number) => {
                let machine = self.describe_state_machine(&reference.machine_arn).await?;
                let version = self
                    .inner
                    .store
                    .version(&reference.machine_arn, number)
                    .await?
                    .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
                Ok(MachineView { record: as_machine(machine, &version), description: version.description })
            }
            Qualifier::Alias(_) => Err(ServiceError::validation(format!(
                "'{arn}' is a state machine alias ARN: describe it with DescribeStateMachineAlias"
            ))),
        }
    }

    /// CreateStateMachineAlias. Idempotent: the same name, description and routes return the
    /// alias as it is; anything else under that name is a ConflictException.
    pub async fn create_state_machine_alias(
        &self,
        name: &str,
        description: Option<&str>,
        routing: &[RouteRequest],
    ) -> ServiceResult<AliasRecord> {
        check_alias_name(name)?;
        check_description(description, "description")?;
        let (machine_arn, routes) = routes_of(routing, None)?;
        let now = self.inner.engine.clock().now().0;
        let alias = AliasRecord {
            arn: format!("{machine_arn}:{name}"),
            machine_arn,
            name: name.to_owned(),
            description: description.map(str::to_owned),
            routes,
            created: now,
            updated: now,
        };
        match self.inner.store.put_alias(&alias, true).await? {
            AliasWrite::Written(record) => Ok(record),
            AliasWrite::Exists(stored) if stored.description == alias.description && stored.routes == alias.routes => {
                Ok(stored)
            }
            AliasWrite::Exists(stored) => Err(ServiceError::new(
                ErrorKind::Conflict,
                format!(
                    "Failed to create alias because an alias with the same name and a different routing configuration already exists: '{}'",
                    stored.arn
                ),
            )),
            other => Err(alias_write_error(&other, &alias)),
        }
    }

    /// DescribeStateMachineAlias.
    pub async fn describe_state_machine_alias(&self, arn: &str) -> ServiceResult<AliasRecord> {
        alias_ref(arn)?;
        self.inner.store.alias(arn).await?.ok_or_else(|| resource_not_found(arn))
    }

    /// UpdateStateMachineAlias: a new description, new routes, or both.
    pub async fn update_state_machine_alias(
        &self,
        arn: &str,
        description: Option<&str>,
        routing: Option<&[RouteRequest]>,
    ) -> ServiceResult<AliasRecord> {
        let machine_arn = alias_ref(arn)?;
        if description.is_none() && routing.is_none() {
            return Err(ServiceError::validation(
                "Either the description or the RoutingConfiguration must be specified",
            ));
        }
        check_description(description, "description")?;
        let mut alias = self.describe_state_machine_alias(arn).await?;
        if let Some(description) = description {
            alias.description = Some(description.to_owned());
        }
        if let Some(routing) = routing {
            alias.routes = routes_of(routing, Some(&machine_arn))?.1;
        }
        alias.updated = self.inner.engine.clock().now().0;
        match self.inner.store.put_alias(&alias, false).await? {
            AliasWrite::Written(record) => Ok(record),
            other => Err(alias_write_error(&other, &alias)),
        }
    }

    /// DeleteStateMachineAlias.
    pub async fn delete_state_machine_alias(&self, arn: &str) -> ServiceResult<()> {
        alias_ref(arn)?;
        if self.inner.store.delete_alias(arn).await? { Ok(()) } else { Err(resource_not_found(arn)) }
    }

    /// ListStateMachineAliases, by name.
    pub async fn list_state_machine_aliases(
        &self,
        arn: &str,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<AliasRecord>, Option<String>)> {
        let machine_arn = unqualified(arn)?;
        if self.inner.store.state_machine(&machine_arn).await?.is_none() {
            return Err(resource_not_found(&machine_arn));
        }
        let scope = format!("aliases:{machine_arn}");
        let listing = Listing::new(scope);
        let page = listing.request(max_results, next_token, false)?;
        let page = self.inner.store.list_aliases(&machine_arn, &page).await?;
        Ok((page.items, listing.next_token(page.next)))
    }

    /// What a StartExecution on `arn` runs: the machine, a version, or a version an alias picks
    /// by weight.
    pub(crate) async fn start_target(&self, arn: &str) -> ServiceResult<StartTarget> {
        let reference = MachineRef::parse(arn)?;
        let machine = self
            .inner
            .store
            .state_machine(&reference.machine_arn)
            .await?
            .ok_or_else(|| ServiceError::state_machine_does_not_exist(arn))?;
        let (number, alias_arn) = match reference.qualifier {
            Qualifier::None => {
                return Ok(StartTarget {
                    machine_arn: reference.machine_arn,
                    machine,
                    version_arn: None,
                    alias_arn: None,
                });
            }
            Qualifier::Version(number) => (number, None),
            Qualifier::Alias(_) => {
                let alias = self.inner.store.alias(arn).await?.ok_or_else(|| resource_not_found(arn))?;
                (pick_route(&alias.routes, SystemEntropy.next_u64()), Some(alias.arn))
            }
        };
        let version =
            self.inner.store.version(&reference.machine_arn, number).await?.ok_or_else(|| {
                ServiceError::state_machine_does_not_exist(&version_arn(&reference.machine_arn, number))
            })?;
        Ok(StartTarget {
            machine_arn: reference.machine_arn,
            machine: as_machine(machine, &version),
            version_arn: Some(version.arn()),
            alias_arn,
        })
    }
}

/// The machine as a version has it: the version's definition, role and revision, under the
/// version's ARN.
fn as_machine(machine: StateMachineRecord, version: &VersionRecord) -> StateMachineRecord {
    StateMachineRecord {
        arn: version.arn(),
        definition: version.definition.clone(),
        role_arn: version.role_arn.clone(),
        created: version.created,
        updated: version.created,
        revision_id: version.revision_id.clone(),
        logging_configuration: version.logging_configuration.clone(),
        tracing_configuration: version.tracing_configuration.clone(),
        ..machine
    }
}

/// The version a draw in `0..u64::MAX` lands on, each route taking its weight's share.
pub(crate) fn pick_route(routes: &[Route], draw: u64) -> u64 {
    let point = draw % 100;
    let mut below = 0u64;
    for route in routes {
        below += u64::from(route.weight);
        if point < below {
            return route.version;
        }
    }
    // Weights sum to 100, so this is reached only by a route list stored by a broken build.
    routes.last().map_or(0, |route| route.version)
}

/// The machine ARN of an ARN that must not be qualified.
fn unqualified(arn: &str) -> ServiceResult<String> {
    let reference = MachineRef::parse(arn)?;
    if reference.qualifier != Qualifier::None {
        return Err(ServiceError::new(
            ErrorKind::InvalidArn,
            format!("Invalid Arn: 'Expected a state machine ARN without a version or alias: {arn}'"),
        ));
    }
    Ok(reference.machine_arn)
}

/// The machine ARN of an alias ARN.
fn alias_ref(arn: &str) -> ServiceResult<String> {
    match MachineRef::parse(arn)? {
        MachineRef { machine_arn, qualifier: Qualifier::Alias(_) } => Ok(machine_arn),
        _ => Err(ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Expected an alias ARN: {arn}'"))),
    }
}

/// Checks a routing configuration: one or two distinct versions of one machine (`machine`, if
/// given), with weights that sum to 100. Returns the machine and the routes.
fn routes_of(routing: &[RouteRequest], machine: Option<&str>) -> ServiceResult<(String, Vec<Route>)> {
    if routing.is_empty() || routing.len() > 2 {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at 'routingConfiguration' failed to satisfy constraint: Member must have length between 1 and 2, but has {}",
            routing.len()
        )));
    }
    let mut machine_arn = machine.map(str::to_owned);
    let mut routes = Vec::with_capacity(routing.len());
    for route in routing {
        let MachineRef { machine_arn: of, qualifier: Qualifier::Version(version) } =
            MachineRef::parse(&route.version_arn)?
        else {
            return Err(ServiceError::validation(format!(
                "Routing configuration must contain state machine version ARNs: '{}'",
                route.version_arn
            )));
        };
        match &machine_arn {
            Some(expected) if *expected != of => {
                return Err(ServiceError::validation(format!(
                    "Routing configuration must contain versions of state machine '{expected}': '{}'",
                    route.version_arn
                )));
            }
            Some(_) => {}
            None => machine_arn = Some(of),
        }
        let weight = u8::try_from(route.weight).ok().filter(|weight| *weight <= 100).ok_or_else(|| {
            ServiceError::validation(format!(
                "1 validation error detected: Value '{}' at 'routingConfiguration.member.weight' failed to satisfy constraint: Member must have value between 0 and 100",
                route.weight
            ))
        })?;
        if routes.iter().any(|existing: &Route| existing.version == version) {
            return Err(ServiceError::validation(format!(
                "Routing configuration must contain distinct versions: '{}' appears twice",
                route.version_arn
            )));
        }
        routes.push(Route { version, weight });
    }
    let total: u32 = routes.iter().map(|route| u32::from(route.weight)).sum();
    if total != 100 {
        return Err(ServiceError::validation(format!(
            "Sum of routing configuration weights must be equal to 100, but was {total}"
        )));
    }
    Ok((machine_arn.unwrap_or_default(), routes))
}

fn alias_write_error(outcome: &AliasWrite, alias: &AliasRecord) -> ServiceError {
    match outcome {
        AliasWrite::NoMachine => ServiceError::state_machine_does_not_exist(&alias.machine_arn),
        AliasWrite::NoVersion(version) => resource_not_found(&version_arn(&alias.machine_arn, *version)),
        AliasWrite::NoAlias => resource_not_found(&alias.arn),
        AliasWrite::TooMany => ServiceError::new(
            ErrorKind::ServiceQuotaExceeded,
            format!(
                "The maximum number of aliases ({}) for state machine '{}' has been reached",
                crate::store::MAX_ALIASES,
                alias.machine_arn
            ),
        ),
        AliasWrite::Written(_) | AliasWrite::Exists(_) => ServiceError::internal("an alias write was misreported"),
    }
}

/// An alias name: a state machine name's characters, limited to letters, digits, `-`, `_` and
/// `.`, with at least one that is not a digit, so that it never reads as a version.
fn check_alias_name(name: &str) -> ServiceResult<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if (1..=80).contains(&name.len()) && name.chars().all(allowed) && !name.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ServiceError::new(ErrorKind::InvalidName, format!("Invalid Name: '{name}'")))
    }
}

/// Checks a version or alias description: at most 256 characters.
pub fn check_description(description: Option<&str>, member: &str) -> ServiceResult<()> {
    match description {
        Some(text) if text.chars().count() > MAX_DESCRIPTION => Err(ServiceError::validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {MAX_DESCRIPTION}"
        ))),
        _ => Ok(()),
    }
}

fn revision_conflict(expected: &str, current: &str) -> ServiceError {
    ServiceError::new(
        ErrorKind::Conflict,
        format!(
            "Failed to publish the State Machine version for revision {expected}. The current State Machine revision is {current}."
        ),
    )
}

fn resource_not_found(arn: &str) -> ServiceError {
    ServiceError::new(ErrorKind::ResourceNotFound, format!("Resource not found: '{arn}'"))
}

fn invalid_qualified_arn(arn: &str) -> ServiceError {
    ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_arns_name_versions_and_aliases() {
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        let parse = |arn: &str| MachineRef::parse(arn).map(|reference| reference.qualifier);
        assert_eq!(parse(machine), Ok(Qualifier::None));
        assert_eq!(parse(&format!("{machine}:12")), Ok(Qualifier::Version(12)));
        assert_eq!(parse(&format!("{machine}:live")), Ok(Qualifier::Alias("live".to_owned())));
        assert_eq!(parse(&format!("{machine}:v2")), Ok(Qualifier::Alias("v2".to_owned())));
        assert!(parse(&format!("{machine}:live:extra")).is_err());
        assert!(parse(&format!("{machine}:")).is_err());
        assert!(parse(&format!("{machine}:99999999999999999999999")).is_err());
    }

    #[test]
    fn routes_take_their_weights_share_of_draws() {
        let routes = [Route { version: 1, weight: 70 }, Route { version: 2, weight: 30 }];
        let firsts = (0..1000u64).filter(|draw| pick_route(&routes, *draw) == 1).count();
        assert_eq!(firsts, 700);
        assert_eq!(pick_route(&[Route { version: 4, weight: 100 }], u64::MAX), 4);
        let all_to_second = [Route { version: 1, weight: 0 }, Route { version: 2, weight: 100 }];
        assert!((0..100).all(|draw| pick_route(&all_to_second, draw) == 2));
    }

    #[test]
    fn routing_configurations_are_checked_as_on_aws() {
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        let route = |version: &str, weight| RouteRequest { version_arn: format!("{machine}:{version}"), weight };
        assert_eq!(
            routes_of(&[route("1", 70), route("2", 30)], None),
            Ok((machine.to_owned(), vec![Route { version: 1, weight: 70 }, Route { version: 2, weight: 30 }]))
        );
        for bad in [
            vec![],
            vec![route("1", 50), route("2", 30)],
            vec![route("1", 50), route("1", 50)],
            vec![route("1", 101)],
            vec![route("1", -1)],
            vec![route("live", 100)],
            vec![route("1", 40), route("2", 30), route("3", 30)],
        ] {
            assert!(routes_of(&bad, None).is_err(), "{bad:?}");
        }
        let other = RouteRequest { version_arn: format!("{machine}-other:1"), weight: 100 };
        assert!(routes_of(&[other], Some(machine)).is_err(), "versions of another machine");
    }

    #[test]
    fn alias_names_cannot_read_as_versions() {
        assert!(check_alias_name("live").is_ok());
        assert!(check_alias_name("v1.2_beta-3").is_ok());
        for bad in ["", "123", "has space", "a:b", &"x".repeat(81)] {
            assert!(check_alias_name(bad).is_err(), "{bad:?}");
        }
    }
}
