//! A complete task function: prices one order line.
//!
//! Build it as a component and run it:
//!
//! ```text
//! cargo build --release --target wasm32-wasip2 -p stepwasm-guest --example price-order
//! stepwasm invoke target/wasm32-wasip2/release/examples/price_order.wasm \
//!     --input '{"sku": "MUG-1", "quantity": 3}'
//! ```

use serde::{Deserialize, Serialize};
use stepwasm_guest::{Context, ResultExt, TaskError};

/// What the workflow passes in: the state's effective input after `InputPath` and `Parameters`.
#[derive(Deserialize)]
struct Line {
    sku: String,
    quantity: u32,
}

/// What the function returns: placed into the state's output by `ResultPath`.
#[derive(Serialize)]
struct Priced {
    sku: String,
    quantity: u32,
    total_cents: u64,
}

/// Unit prices, in cents. A real function would read a granted directory or get them in its input.
const PRICE_LIST: &[(&str, &str)] = &[("MUG-1", "1299"), ("TEE-2", "1999")];

fn price(line: Line, ctx: &Context) -> Result<Priced, TaskError> {
    if line.quantity == 0 {
        // A named failure: the workflow can `Catch` "InvalidQuantity" and route the order.
        return Err(TaskError::new("InvalidQuantity", "quantity must be at least 1"));
    }
    let Some((_, unit)) = PRICE_LIST.iter().find(|(sku, _)| *sku == line.sku) else {
        return Err(TaskError::new("UnknownSku", format!("no price for {}", line.sku)));
    };
    // `err_name` names any error so that `?` can be used.
    let unit_cents: u64 = unit.parse().err_name("PriceListCorrupt")?;
    stepwasm_guest::info!("priced {} x{} on attempt {}", line.sku, line.quantity, ctx.attempt());
    Ok(Priced { total_cents: unit_cents * u64::from(line.quantity), sku: line.sku, quantity: line.quantity })
}

stepwasm_guest::export_task!(price);
