//! `request-approval`: asks a person to approve a large order.
//!
//! Used by the approval workflow (`order-pipeline-approval.asl.json`) for orders above
//! [`APPROVAL_THRESHOLD_CENTS`]. The Task state uses the *callback* pattern,
//! `arn:aws:states:::lambda:invoke.waitForTaskToken`: the engine invokes this function with the
//! order and a task token, then pauses the execution until someone answers with that token.
//! This function only *asks*: it renders the request a reviewer receives, including the exact
//! commands to approve or reject. Its own return value is not the state's result; the answer is:
//!
//! - approve: `SendTaskSuccess` with output `{"approved": true, "approvedBy": "<who>"}`, which
//!   the workflow files at `$.approval` and continues;
//! - reject: `SendTaskFailure` with error `ApprovalRejected`, which the workflow catches and
//!   cancels the order (so does `{"approved": false}`, or no answer within the state's timeout).
//!
//! The task token is a capability: whoever holds it decides the order. It goes only to the
//! approvers' mailbox, never to logs.
//!
//! # Contract
//!
//! - Input: `{"order": <order document>, "taskToken": "<token>"}` (the state's `Payload`).
//! - Output: [`ApprovalRequest`] (recorded in the history; not the state's result).
//! - Errors: `InvalidInput` when the token is empty (the request could never be answered).

use serde::{Deserialize, Serialize};
use stepwasm_guest::{Context, TaskError};

use order_model::{APPROVAL_THRESHOLD_CENTS, Fingerprint, PlacedOrder, format_money, product};

/// Who reviews large orders.
const APPROVERS: &str = "order-approvals@shop.example";

/// The state's `Payload`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalInput {
    /// The order document at the time of the request.
    pub order: PlacedOrder,
    /// `$$.Task.Token`: the handle the answer must quote.
    pub task_token: String,
}

/// The request sent to the approvers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    /// Derived from the order, so a retried request is recognisably the same request.
    pub message_id: String,
    /// The order to decide on.
    pub order_id: String,
    /// The approvers' mailbox.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The request, with the order's details and the commands to answer it.
    pub text_body: String,
    /// The AWS CLI command that approves (point `--endpoint-url` at stepwasm).
    pub approve_command: String,
    /// The AWS CLI command that rejects.
    pub reject_command: String,
}

/// The task function: render the request.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(input: ApprovalInput, _ctx: &Context) -> Result<ApprovalRequest, TaskError> {
    let request = render(&input)?;
    // The subject, not the body: the body holds the token.
    stepwasm_guest::info!("approval requested from {}: {}", request.to, request.subject);
    Ok(request)
}

/// Renders the approval request.
pub fn render(input: &ApprovalInput) -> Result<ApprovalRequest, TaskError> {
    let token = input.task_token.trim();
    if token.is_empty() {
        return Err(TaskError::new("InvalidInput", "taskToken is empty: nobody could answer this request"));
    }
    let order = &input.order;
    let money = |cents: u64| format_money(cents, &order.currency);

    let quoted = shell_quote(token);
    let approve_command = format!(
        "aws stepfunctions send-task-success --task-token {quoted} \
         --task-output '{{\"approved\": true, \"approvedBy\": \"you@shop.example\"}}'"
    );
    let reject_command = format!(
        "aws stepfunctions send-task-failure --task-token {quoted} \
         --error ApprovalRejected --cause 'reason for the customer'"
    );

    let mut body = format!(
        "Order {} from {} <{}> totals {}, above the {} that needs approval.\n\n",
        order.order_id,
        order.customer.name,
        order.customer.email,
        money(order.total_cents),
        money(APPROVAL_THRESHOLD_CENTS)
    );
    for item in &order.items {
        let name = product(&item.sku).map_or(item.sku.as_str(), |product| product.name);
        body.push_str(&format!("  {} x {name} at {}\n", item.quantity, money(item.unit_price_cents)));
    }
    body.push_str(&format!(
        "\nShips to {}, {}. Placed {}.\n\nTo approve:\n  {approve_command}\n\nTo reject:\n  {reject_command}\n\n\
         Add --endpoint-url with the stepwasm address when not running on AWS. Unanswered requests \
         expire and the order is cancelled.\n",
        order.shipping_address.city, order.shipping_address.country, order.placed_at
    ));

    Ok(ApprovalRequest {
        message_id: Fingerprint::new("approval-request").text(&order.order_id).uuid(),
        order_id: order.order_id.clone(),
        to: APPROVERS.to_owned(),
        subject: format!("Approve order {} ({})?", order.order_id, money(order.total_cents)),
        text_body: body,
        approve_command,
        reject_command,
    })
}

/// Quotes a value for a POSIX shell: single quotes, with embedded single quotes spliced in as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(token: &str) -> ApprovalInput {
        let mut order: serde_json::Value =
            serde_json::from_str(include_str!("../../samples/large-order.json")).unwrap();
        order["placedAt"] = json!("2025-11-24T13:20:00Z");
        order["totalCents"] = json!(190_700);
        order["itemCount"] = json!(3);
        serde_json::from_value(json!({"order": order, "taskToken": token})).unwrap()
    }

    #[test]
    fn renders_the_order_and_the_answers() {
        let request = render(&input("AAAA-token-1")).unwrap();
        assert_eq!(request.to, APPROVERS);
        assert_eq!(request.subject, "Approve order ord-1003 (1,907.00 EUR)?");
        assert!(request.text_body.contains("above the 1,000.00 EUR that needs approval"), "{}", request.text_body);
        assert!(request.text_body.contains("1 x 14-inch laptop at 1,499.00 EUR"));
        assert!(request.approve_command.contains("send-task-success --task-token 'AAAA-token-1'"));
        assert!(request.reject_command.contains("--error ApprovalRejected"));
        assert!(request.text_body.contains(&request.approve_command));
    }

    #[test]
    fn tokens_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        let request = render(&input("it's")).unwrap();
        assert!(request.approve_command.contains(r"'it'\''s'"));
    }

    #[test]
    fn an_empty_token_cannot_be_answered() {
        assert_eq!(render(&input("  ")).unwrap_err().error, "InvalidInput");
    }
}
