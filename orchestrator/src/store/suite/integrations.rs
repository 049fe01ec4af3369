//! Integration bindings and message queues, against every store.

use crate::store::{BindingRecord, Millis, QueueCounts, QueueMessage, QueueRecord, Store};

fn binding(integration: &str, target: &str, updated: Millis) -> BindingRecord {
    BindingRecord { integration: integration.to_owned(), target: target.to_owned(), updated }
}

pub(super) async fn bindings_are_replaced_by_integration(store: &dyn Store) {
    assert_eq!(store.list_bindings().await.unwrap(), vec![]);
    assert_eq!(store.binding("sns:publish").await.unwrap(), None);
    let publish = binding("sns:publish", r#"{"function":"publish"}"#, 1);
    let get_item = binding("aws-sdk:dynamodb:getItem", r#"{"url":"http://127.0.0.1:9/item"}"#, 2);
    store.put_binding(&publish).await.unwrap();
    store.put_binding(&get_item).await.unwrap();
    assert_eq!(store.list_bindings().await.unwrap(), vec![get_item.clone(), publish.clone()], "sorted");
    assert_eq!(store.binding("sns:publish").await.unwrap().as_ref(), Some(&publish));

    let replaced = binding("sns:publish", r#"{"function":"publish-v2"}"#, 3);
    store.put_binding(&replaced).await.unwrap();
    assert_eq!(store.binding("sns:publish").await.unwrap(), Some(replaced.clone()));
    assert_eq!(store.list_bindings().await.unwrap(), vec![get_item.clone(), replaced]);

    assert!(store.delete_binding("sns:publish").await.unwrap());
    assert!(!store.delete_binding("sns:publish").await.unwrap(), "a second delete finds nothing");
    assert_eq!(store.list_bindings().await.unwrap(), vec![get_item]);
}

fn message(queue: &str, id: &str, sent: Millis) -> QueueMessage {
    QueueMessage {
        id: id.to_owned(),
        queue: queue.to_owned(),
        body: format!("body of {id}"),
        attributes: "{}".to_owned(),
        sent,
        visible_at: sent,
        receive_count: 0,
    }
}

pub(super) async fn queues_hand_each_message_to_one_receiver_at_a_time(store: &dyn Store) {
    let orders =
        QueueRecord { name: "orders".to_owned(), created: 1, attributes: r#"{"VisibilityTimeout":"30"}"#.to_owned() };
    assert!(store.create_queue(&orders).await.unwrap());
    assert!(!store.create_queue(&orders).await.unwrap(), "a second create finds it");
    let audit = QueueRecord { name: "audit".to_owned(), created: 2, attributes: "{}".to_owned() };
    assert!(store.create_queue(&audit).await.unwrap());
    assert_eq!(store.list_queues().await.unwrap(), vec![audit.clone(), orders.clone()], "sorted by name");
    assert_eq!(store.queue("orders").await.unwrap(), Some(orders));

    for (id, sent) in [("m2", 20), ("m1", 10), ("m3", 30)] {
        assert!(store.send_message(&message("orders", id, sent)).await.unwrap());
    }
    assert!(!store.send_message(&message("orders", "m1", 10)).await.unwrap(), "an id is sent once");
    let delayed = QueueMessage { visible_at: 1_000, ..message("orders", "m4", 40) };
    assert!(store.send_message(&delayed).await.unwrap());
    assert!(store.send_message(&message("audit", "a1", 5)).await.unwrap());
    assert_eq!(store.queue_counts("orders", 100).await.unwrap(), QueueCounts { visible: 3, hidden: 1 });

    // Oldest first, hidden until the visibility timeout, each with its own receipt.
    let first = store.receive_messages("orders", 100, 2, 500).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|(message, _)| message.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2"]);
    assert_eq!(first[0].0.receive_count, 1);
    assert_eq!(first[0].0.body, "body of m1");
    assert_eq!(first[0].1, "m1.1");
    let second = store.receive_messages("orders", 100, 10, 500).await.unwrap();
    assert_eq!(second.iter().map(|(message, _)| message.id.as_str()).collect::<Vec<_>>(), ["m3"], "m4 is delayed");
    assert_eq!(store.queue_counts("orders", 100).await.unwrap(), QueueCounts { visible: 0, hidden: 4 });

    // A receipt deletes its message once; a message seen again has a new receipt.
    assert!(store.delete_message("orders", &first[0].1).await.unwrap());
    assert!(!store.delete_message("orders", &first[0].1).await.unwrap());
    assert!(!store.delete_message("audit", &first[1].1).await.unwrap(), "a receipt belongs to its queue");
    assert!(store.change_visibility("orders", &first[1].1, 100).await.unwrap(), "m2 back at once");
    let again = store.receive_messages("orders", 100, 10, 900).await.unwrap();
    assert_eq!(
        again.iter().map(|(message, receipt)| (message.id.as_str(), receipt.as_str())).collect::<Vec<_>>(),
        [("m2", "m2.2")]
    );
    assert!(!store.delete_message("orders", &first[1].1).await.unwrap(), "an old receipt is stale");
    assert!(!store.change_visibility("orders", "not a receipt", 0).await.unwrap());
    // Past the visibility timeout, unreceived messages come back.
    let later = store.receive_messages("orders", 1_000, 10, 2_000).await.unwrap();
    assert_eq!(later.iter().map(|(message, _)| message.id.as_str()).collect::<Vec<_>>(), ["m2", "m3", "m4"]);

    store.purge_queue("orders").await.unwrap();
    assert_eq!(store.queue_counts("orders", 5_000).await.unwrap(), QueueCounts::default());
    assert!(store.delete_queue("audit").await.unwrap());
    assert!(!store.delete_queue("audit").await.unwrap());
    assert_eq!(store.receive_messages("audit", 5_000, 10, 6_000).await.unwrap(), vec![], "its messages went with it");
    assert!(store.create_queue(&audit).await.unwrap(), "a deleted queue's name can be used again");
    assert_eq!(store.queue_counts("audit", 5_000).await.unwrap(), QueueCounts::default());
}
