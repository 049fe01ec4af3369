//! The sample order pipeline, end to end: real functions, real engine, three outcomes.

use anyhow::{Result, bail};
use serde_json::Value;
use stepwasm_asl::ExecutionOutcome;

use crate::support::{run, sample_runtime, states_entered};

fn order_input(sample: &str) -> Result<Value> {
    Ok(serde_json::from_str(sample)?)
}

#[tokio::test]
async fn a_good_order_completes_after_one_carrier_retry() -> Result<()> {
    let runtime = sample_runtime()?;
    let record =
        run(&runtime, stepwasm_functions::ORDER_PIPELINE, order_input(stepwasm_functions::samples::GOOD_ORDER)?)
            .await?;
    let ExecutionOutcome::Succeeded(output) = &record.outcome else {
        bail!("expected success, got {:?}", record.outcome)
    };
    assert_eq!(output["status"], "COMPLETED", "{output}");
    assert_eq!(output["orderId"], "ord-1000");

    let entered = states_entered(&record);
    for state in ["PlaceOrder", "ValidatePayment", "FraudCheck", "CheckInventory", "ShipOrder", "CompleteOrder"] {
        assert!(entered.iter().any(|name| name == state), "{state} never ran: {entered:?}");
    }
    assert!(!entered.iter().any(|name| name == "RefundPayment" || name == "CancelOrder"), "{entered:?}");
    let label_attempts =
        record.invocations.iter().filter(|invocation| invocation.state_name == "GenerateShippingLabel").count();
    assert_eq!(label_attempts, 2, "CarrierUnavailable on attempt 1 is retried once");
    Ok(())
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_without_a_refund() -> Result<()> {
    let runtime = sample_runtime()?;
    let record =
        run(&runtime, stepwasm_functions::ORDER_PIPELINE, order_input(stepwasm_functions::samples::DECLINED_CARD)?)
            .await?;
    let ExecutionOutcome::Failed { error, cause } = &record.outcome else {
        bail!("expected failure, got {:?}", record.outcome)
    };
    assert_eq!(error.as_deref(), Some("PaymentDeclined"));
    assert!(cause.as_deref().unwrap_or_default().contains("generic_decline"), "{cause:?}");
    let entered = states_entered(&record);
    assert!(entered.iter().any(|name| name == "CancelOrder"), "{entered:?}");
    assert!(!entered.iter().any(|name| name == "RefundPayment"), "nothing was charged: {entered:?}");
    assert!(!entered.iter().any(|name| name == "CheckInventory"), "{entered:?}");
    Ok(())
}

#[tokio::test]
async fn an_out_of_stock_item_refunds_then_cancels() -> Result<()> {
    let runtime = sample_runtime()?;
    let record =
        run(&runtime, stepwasm_functions::ORDER_PIPELINE, order_input(stepwasm_functions::samples::OUT_OF_STOCK)?)
            .await?;
    let ExecutionOutcome::Failed { error, cause } = &record.outcome else {
        bail!("expected failure, got {:?}", record.outcome)
    };
    assert_eq!(error.as_deref(), Some("OutOfStock"));
    assert!(cause.as_deref().unwrap_or_default().contains("KEYBOARD-MECH"), "{cause:?}");
    let entered = states_entered(&record);
    let refund = entered.iter().position(|name| name == "RefundPayment");
    let cancel = entered.iter().position(|name| name == "CancelOrder");
    assert!(matches!((refund, cancel), (Some(r), Some(c)) if r < c), "refund, then cancel: {entered:?}");
    assert!(!entered.iter().any(|name| name == "ShipOrder"), "{entered:?}");
    Ok(())
}
