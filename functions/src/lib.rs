//! The sample e-commerce order pipeline, ready to deploy.
//!
//! The pipeline's task functions live beside this crate, one package each (`functions/place-order`,
//! `functions/validate-payment`, …), written with the `stepwasm-guest` SDK. This crate's build
//! script compiles them into WebAssembly components and embeds the bytes, so the `stepwasm`
//! binary can deploy and run the sample without a separate build step. The workflows are the
//! Amazon States Language documents beside them.
//!
//! # Core concepts
//!
//! - [`SampleFunction`]: a function's deployment name and its component bytes; [`ALL`] lists them.
//! - [`ORDER_PIPELINE`]: the workflow, with Lambda-ARN task resources so it also runs on AWS.
//! - [`ORDER_PIPELINE_WITH_APPROVAL`]: the same, with a manual approval step for large orders.
//! - [`ORDER_PIPELINE_AWS`]: the same, with the confirmations sent through SES and SNS
//!   integrations, which [`INTEGRATIONS`] binds to the built-in `ses-send-email` and
//!   `sns-publish` functions.
//! - [`samples`]: example order inputs, one per outcome.
//! - [`CONFORMANCE_HANDLERS`]: Wasm stand-ins for the Lambda handlers that AWS-recorded
//!   conformance cases call (`functions/conformance/`), keyed by the handler file they replace.
//!
//! ```
//! let validate = stepwasm_functions::find("validate-payment").expect("a sample function");
//! assert!(validate.component.starts_with(b"\0asm"));
//! ```

#![warn(missing_docs)]

/// A sample task function, compiled for `wasm32-wasip2`.
#[derive(Debug, Clone, Copy)]
pub struct SampleFunction {
    /// The name it is deployed under, which Lambda ARNs in the workflows refer to.
    pub name: &'static str,
    /// The component's bytes.
    pub component: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/functions.rs"));

/// Looks a sample function up by its deployment name.
pub fn find(name: &str) -> Option<SampleFunction> {
    ALL.iter().copied().find(|function| function.name == name)
}

/// The order pipeline workflow, in Amazon States Language.
pub const ORDER_PIPELINE: &str = include_str!("../order-pipeline.asl.json");

/// The order pipeline with a manual approval step for orders above the approval threshold.
pub const ORDER_PIPELINE_WITH_APPROVAL: &str = include_str!("../order-pipeline-approval.asl.json");

/// The order pipeline as written for AWS without notification functions: the confirmations go
/// through Amazon SES (`aws-sdk:sesv2:sendEmail`) and Amazon SNS (`sns:publish`), which run here
/// through the bindings in [`INTEGRATIONS`].
pub const ORDER_PIPELINE_AWS: &str = include_str!("../order-pipeline-aws.asl.json");

/// Service integrations and the built-in function that each can be bound to: the function
/// checks the request as the service would, records the message, and delivers it to a webhook
/// when it is deployed with one (`WEBHOOK_URL`), and ses-send-email also to an SMTP relay
/// (`SMTP_SERVER`, with `--allow-tcp`).
pub const INTEGRATIONS: &[(&str, &str)] = &[
    ("sns:publish", "sns-publish"),
    ("aws-sdk:sesv2:sendEmail", "ses-send-email"),
    ("aws-sdk:ses:sendEmail", "ses-send-email"),
];

/// Example order inputs for the pipeline.
pub mod samples {
    /// Goes through every step and completes; its shipping label needs one retry.
    pub const GOOD_ORDER: &str = include_str!("../samples/good-order.json");
    /// The card is declined: the order is cancelled and the execution fails.
    pub const DECLINED_CARD: &str = include_str!("../samples/declined-card.json");
    /// An item is out of stock: the payment is refunded, the order cancelled, the execution fails.
    pub const OUT_OF_STOCK: &str = include_str!("../samples/out-of-stock.json");
    /// Above the approval threshold: waits for a person in the approval workflow.
    pub const LARGE_ORDER: &str = include_str!("../samples/large-order.json");

    /// Every sample with a short name, in the order the demo runs them.
    pub const ALL: &[(&str, &str)] = &[
        ("good-order", GOOD_ORDER),
        ("declined-card", DECLINED_CARD),
        ("out-of-stock", OUT_OF_STOCK),
        ("large-order", LARGE_ORDER),
    ];
}
