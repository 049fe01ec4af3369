//! Compiles every sample task function into a component and tells `src/lib.rs` where each is.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use stepwasm_guest_build::GuestBuild;

/// The sample functions, in pipeline order. Each is a workspace package under `functions/`.
const FUNCTIONS: &[&str] = &[
    "place-order",
    "validate-payment",
    "fraud-check",
    "check-inventory",
    "generate-shipping-label",
    "send-email",
    "send-sms",
    "ship-order",
    "complete-order",
    "refund-payment",
    "cancel-order",
    "request-approval",
    // Bound to the AWS integrations of the AWS-native variant (see `INTEGRATIONS`).
    "sns-publish",
    "ses-send-email",
];

/// Stand-ins for the Lambda handlers that AWS-recorded conformance cases call, keyed by the
/// handler file each replaces. Packages under `functions/conformance/`.
const CONFORMANCE_HANDLERS: &[(&str, &str)] = &[
    ("id_function.py", "lambda-id"),
    ("echo_function.py", "lambda-echo"),
    ("raise_exception.py", "lambda-raise-exception"),
    ("return_bytes_str.py", "lambda-return-bytes-str"),
    ("wait_60_seconds.py", "lambda-wait-60-seconds"),
    ("large_output_string.py", "lambda-large-output-string"),
];

fn main() {
    println!("cargo:rerun-if-changed=order-model");
    println!("cargo:rerun-if-changed=conformance");
    let packages = FUNCTIONS.iter().copied().chain(CONFORMANCE_HANDLERS.iter().map(|(_, package)| *package));
    let components = GuestBuild::new(packages).build();
    let (samples, handlers) = components.split_at(FUNCTIONS.len());

    let mut generated = String::from("/// Every sample function: its deployment name and its component bytes.\n");
    generated.push_str("pub const ALL: &[SampleFunction] = &[\n");
    for component in samples {
        writeln!(
            generated,
            "    SampleFunction {{ name: {:?}, component: include_bytes!({:?}) }},",
            component.package,
            component.path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    generated.push_str("];\n");
    generated.push_str(
        "/// Stand-ins for AWS-recorded Lambda handlers: the handler file each replaces, and the component.\n",
    );
    generated.push_str("pub const CONFORMANCE_HANDLERS: &[(&str, &[u8])] = &[\n");
    for ((handler, _), component) in CONFORMANCE_HANDLERS.iter().zip(handlers) {
        writeln!(generated, "    ({handler:?}, include_bytes!({:?})),", component.path.display().to_string())
            .expect("writing to a String cannot fail");
    }
    generated.push_str("];\n");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("functions.rs"), generated).expect("OUT_DIR is writable");
}
