//! Versions and aliases, against every store.

use super::{REGION, all_pages, machine, page};
use crate::store::{
    AliasRecord, AliasWrite, PublishRequest, Published, Route, StateMachineRecord, Store, VersionDeletion,
    VersionRecord,
};

fn publish_request(machine: &StateMachineRecord, expected_revision: Option<&str>, created: i64) -> PublishRequest {
    PublishRequest {
        machine_arn: machine.arn.clone(),
        expected_revision: expected_revision.map(str::to_owned),
        description: Some(format!("published at {created}")),
        created,
    }
}

async fn publish_new(store: &dyn Store, machine: &StateMachineRecord, created: i64) -> VersionRecord {
    match store.publish_version(&publish_request(machine, None, created)).await.unwrap() {
        Published::New(version) => version,
        other => panic!("expected a new version of {}, got {other:?}", machine.arn),
    }
}

/// The machine changed to a new definition and revision.
async fn change(store: &dyn Store, machine: &mut StateMachineRecord, revision: &str) {
    machine.definition = format!(r#"{{"StartAt":"{revision}","States":{{"{revision}":{{"Type":"Succeed"}}}}}}"#);
    machine.revision_id = revision.to_owned();
    assert!(store.update_state_machine(machine).await.unwrap());
}

async fn listed_versions(store: &dyn Store, machine_arn: &str, limit: usize) -> Vec<u64> {
    let versions = all_pages(
        |after| async move { store.list_versions(machine_arn, &page(limit, after, false)).await.unwrap() },
        limit,
    )
    .await;
    versions.iter().map(|version| version.version).collect()
}

pub(super) async fn versions_are_numbered_once_and_listed_newest_first(store: &dyn Store) {
    let mut orders = machine("orders", 1_000);
    assert!(store.create_state_machine(&orders).await.unwrap());
    let missing = machine("missing", 1_000);
    assert_eq!(store.publish_version(&publish_request(&missing, None, 1)).await.unwrap(), Published::NoMachine);

    let first = publish_new(store, &orders, 2_000).await;
    assert_eq!((first.version, first.arn()), (1, format!("{}:1", orders.arn)));
    assert_eq!((&first.definition, &first.revision_id), (&orders.definition, &orders.revision_id));
    assert_eq!(first.description.as_deref(), Some("published at 2000"));
    let again = store.publish_version(&publish_request(&orders, Some(&orders.revision_id), 3_000)).await.unwrap();
    assert_eq!(again, Published::Existing(first.clone()), "the same revision is published once");
    let stale = store.publish_version(&publish_request(&orders, Some("rev-old"), 3_000)).await.unwrap();
    assert_eq!(stale, Published::RevisionChanged(orders.revision_id.clone()));

    change(store, &mut orders, "rev-2").await;
    let second = publish_new(store, &orders, 4_000).await;
    assert_eq!((second.version, &second.definition), (2, &orders.definition));
    assert_eq!(store.version(&orders.arn, 1).await.unwrap(), Some(first.clone()), "a version never changes");

    change(store, &mut orders, "rev-3").await;
    assert_eq!(publish_new(store, &orders, 5_000).await.version, 3);
    assert_eq!(store.delete_version(&orders.arn, 3).await.unwrap(), VersionDeletion::Deleted);
    assert_eq!(store.delete_version(&orders.arn, 3).await.unwrap(), VersionDeletion::Deleted, "idempotent");
    assert_eq!(store.version(&orders.arn, 3).await.unwrap(), None);
    change(store, &mut orders, "rev-4").await;
    assert_eq!(publish_new(store, &orders, 6_000).await.version, 4, "a deleted version's number is not reused");

    for limit in [1, 2, 100] {
        assert_eq!(listed_versions(store, &orders.arn, limit).await, [4, 2, 1], "{limit} a page");
    }
    assert_eq!(listed_versions(store, &missing.arn, 10).await, Vec::<u64>::new());

    // A machine deleted and created again starts its versions over.
    assert!(store.delete_state_machine(&orders.arn).await.unwrap());
    assert_eq!(listed_versions(store, &orders.arn, 10).await, Vec::<u64>::new());
    assert_eq!(store.version(&orders.arn, 1).await.unwrap(), None);
    let orders = machine("orders", 7_000);
    assert!(store.create_state_machine(&orders).await.unwrap());
    assert_eq!(publish_new(store, &orders, 8_000).await.version, 1);
}

fn alias(machine: &StateMachineRecord, name: &str, routes: &[(u64, u8)], at: i64) -> AliasRecord {
    AliasRecord {
        arn: format!("{}:{name}", machine.arn),
        machine_arn: machine.arn.clone(),
        name: name.to_owned(),
        description: Some(format!("{name} at {at}")),
        routes: routes.iter().map(|&(version, weight)| Route { version, weight }).collect(),
        created: at,
        updated: at,
    }
}

pub(super) async fn aliases_route_to_versions_that_exist_and_keep_them(store: &dyn Store) {
    let mut orders = machine("orders", 1_000);
    assert!(store.create_state_machine(&orders).await.unwrap());
    publish_new(store, &orders, 2_000).await;
    change(store, &mut orders, "rev-2").await;
    publish_new(store, &orders, 3_000).await;

    let live = alias(&orders, "live", &[(1, 70), (2, 30)], 4_000);
    assert_eq!(store.put_alias(&live, true).await.unwrap(), AliasWrite::Written(live.clone()));
    assert_eq!(store.alias(&live.arn).await.unwrap(), Some(live.clone()));
    let repeated = alias(&orders, "live", &[(2, 100)], 5_000);
    assert_eq!(store.put_alias(&repeated, true).await.unwrap(), AliasWrite::Exists(live.clone()));
    let to_nothing = alias(&orders, "broken", &[(1, 50), (9, 50)], 5_000);
    assert_eq!(store.put_alias(&to_nothing, true).await.unwrap(), AliasWrite::NoVersion(9));
    assert_eq!(store.alias(&to_nothing.arn).await.unwrap(), None, "nothing is written");
    let elsewhere = alias(&machine("missing", 1), "live", &[(1, 100)], 5_000);
    assert_eq!(store.put_alias(&elsewhere, true).await.unwrap(), AliasWrite::NoMachine);
    let unknown = alias(&orders, "unknown", &[(1, 100)], 5_000);
    assert_eq!(store.put_alias(&unknown, false).await.unwrap(), AliasWrite::NoAlias, "an update needs an alias");

    assert_eq!(store.delete_version(&orders.arn, 1).await.unwrap(), VersionDeletion::RoutedBy(live.arn.clone()));
    assert!(store.version(&orders.arn, 1).await.unwrap().is_some(), "a routed version stays");

    // An update keeps the creation date and frees version 1.
    let updated = alias(&orders, "live", &[(2, 100)], 6_000);
    let expected = AliasRecord { created: live.created, ..updated.clone() };
    assert_eq!(store.put_alias(&updated, false).await.unwrap(), AliasWrite::Written(expected.clone()));
    assert_eq!(store.alias(&live.arn).await.unwrap(), Some(expected));
    assert_eq!(store.delete_version(&orders.arn, 1).await.unwrap(), VersionDeletion::Deleted);

    let beta = alias(&orders, "beta", &[(2, 100)], 7_000);
    assert_eq!(store.put_alias(&beta, true).await.unwrap(), AliasWrite::Written(beta.clone()));
    for limit in [1, 5] {
        let listed = all_pages(
            |after| async { store.list_aliases(&orders.arn, &page(limit, after, false)).await.unwrap() },
            limit,
        )
        .await;
        let names: Vec<&str> = listed.iter().map(|alias| alias.name.as_str()).collect();
        assert_eq!(names, ["beta", "live"], "by name, {limit} a page");
    }
    let other = machine("other", 1_000);
    assert!(store.create_state_machine(&other).await.unwrap());
    assert!(store.list_aliases(&other.arn, &page(10, None, false)).await.unwrap().items.is_empty());

    assert!(store.delete_alias(&beta.arn).await.unwrap());
    assert!(!store.delete_alias(&beta.arn).await.unwrap(), "a second delete finds nothing");
    assert!(store.delete_state_machine(&orders.arn).await.unwrap());
    assert_eq!(store.alias(&live.arn).await.unwrap(), None, "a machine's aliases go with it");
    assert_eq!(format!("{REGION}:stateMachine:orders:live"), live.arn);
}
