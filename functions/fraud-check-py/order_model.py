"""The pieces of the Rust `order-model` crate that fraud-check needs, ported to Python.

Kept byte-for-byte compatible with the Rust originals (money formatting, the `{:?}` quoting of
names), because fraud-check's output must be the same whichever language produced it.
"""

from __future__ import annotations

from typing import Any

from stepwasm import TaskError

#: Error names the workflow's Retry and Catch rules match (order_model::errors).
FRAUD_SUSPECTED = "FraudSuspected"

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1


def format_money(cents: int, currency: str) -> str:
    """`123456, "USD"` -> `1,234.56 USD`: two decimals, thousands grouped with commas."""
    return f"{cents // 100:,}.{cents % 100:02} {currency}"


def quantities_by_sku(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Quantities added up per SKU, in the order SKUs first appear (dicts keep insertion order)."""
    totals: dict[str, int] = {}
    for item in items:
        totals[item["sku"]] = totals.get(item["sku"], 0) + item["quantity"]
    return list(totals.items())


def rust_debug(text: str) -> str:
    """`text` quoted as Rust's `{:?}` prints a string, which the Rust rules use in their details."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# The shape of a placed order (`order_model::PlacedOrder`), checked the way serde checks it when
# the Rust function deserialises its input: every field present with its type, unknown keys
# ignored. Leaves are "string", "u32" and "u64"; a trailing "?" marks a Rust `Option`, which may
# be absent or null. `currency` has a serde default instead: see `with_defaults`.
ADDRESS = {"line1": "string", "line2": "string?", "city": "string", "postalCode": "string", "country": "string"}
PLACED_ORDER: dict[str, Any] = {
    "orderId": "string",
    "customer": {"id": "string", "name": "string", "email": "string", "phone": "string"},
    "items": [{"sku": "string", "quantity": "u32", "unitPriceCents": "u64"}],
    "payment": {
        "cardNumber": "string",
        "expiry": "string",
        "cvv": "string",
        "cardholder": "string",
        "billingCountry": "string?",
    },
    "shippingAddress": ADDRESS,
    "currency": "string",
    "submittedAt": "string?",
    "placedAt": "string",
    "totalCents": "u64",
    "itemCount": "u64",
}


def with_defaults(order: dict[str, Any]) -> dict[str, Any]:
    """Fills in what serde's defaults fill in: `currency` is `USD` when the order has none."""
    if isinstance(order, dict) and "currency" not in order:
        order = {**order, "currency": "USD"}
    return order


_INTEGER_MAX = {"u32": U32_MAX, "u64": U64_MAX}


def check_shape(value: Any, shape: Any = PLACED_ORDER, path: str = "$") -> None:
    """Raises `InvalidInput` naming the first field of `value` that does not fit `shape`."""

    def invalid(expected: str) -> TaskError:
        return TaskError("InvalidInput", f"{path}: expected {expected}, found {json_type(value)}")

    if isinstance(shape, str):
        leaf = shape.rstrip("?")
        if value is None and shape.endswith("?"):
            return
        if leaf == "string" and not isinstance(value, str):
            raise invalid("a string")
        if leaf in _INTEGER_MAX:
            maximum = _INTEGER_MAX[leaf]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
                raise invalid(f"an integer from 0 to {maximum}")
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise invalid("an array")
        for index, element in enumerate(value):
            check_shape(element, shape[0], f"{path}[{index}]")
    else:
        if not isinstance(value, dict):
            raise invalid("an object")
        for key, field_shape in shape.items():
            optional = isinstance(field_shape, str) and field_shape.endswith("?")
            if key not in value and not optional:
                raise TaskError("InvalidInput", f"{path}: missing field `{key}`")
            check_shape(value.get(key), field_shape, f"{path}.{key}")


def json_type(value: Any) -> str:
    """How a JSON value is described in an `InvalidInput` cause."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
