"""`fraud-check`, in Python: scores an order with simple, explainable risk rules.

A port of `functions/fraud-check` (Rust) with the same contract, so either can run the
workflow's FraudCheck state. Each rule that matches adds points; an order whose score reaches
`THRESHOLD` is rejected with `FraudSuspected`:

====================  ======  ==============================================================
rule                  points  fires when
====================  ======  ==============================================================
`HIGH_AMOUNT`         25      the total is at least 1,000.00
`VERY_HIGH_AMOUNT`    50      the total is at least 5,000.00 (instead of `HIGH_AMOUNT`)
`COUNTRY_MISMATCH`    30      the billing country differs from the shipping country
`DISPOSABLE_EMAIL`    40      the email domain belongs to a throwaway-mailbox service
`BULK_QUANTITY`       20      one SKU is ordered 10 times or more (resale or card testing)
`NAME_MISMATCH`       10      the cardholder is not the customer (weak: gifts, shared cards)
====================  ======  ==============================================================

Contract:

- Input: the placed order document (`PlacedOrder`); a malformed one fails with `InvalidInput`.
- Output: `{"score", "threshold", "triggeredRules": [{"rule", "points", "detail"}]}`, filed at
  `$.checks.fraud`.
- Errors: `FraudSuspected`, cause `{"orderId", "score", "threshold", "triggeredRules"}` as JSON.
"""

from __future__ import annotations

from typing import Any

import stepwasm
from stepwasm import TaskError, log

from order_model import FRAUD_SUSPECTED, check_shape, format_money, quantities_by_sku, rust_debug, with_defaults

#: The score at which an order is rejected.
THRESHOLD = 70

HIGH_AMOUNT_CENTS = 100_000
VERY_HIGH_AMOUNT_CENTS = 500_000
BULK_QUANTITY = 10

#: Domains of well-known throwaway-mailbox services; short on purpose, as in the Rust original.
DISPOSABLE_DOMAINS = (
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "temp-mail.org",
    "yopmail.com",
    "trashmail.com",
    "sharklasers.com",
)


@stepwasm.handler
def handle(order: dict[str, Any], ctx: stepwasm.Context) -> dict[str, Any]:
    """The task function: score the order, reject it at the threshold."""
    order = with_defaults(order)
    check_shape(order)
    try:
        assessment = screen(order)
    except TaskError as rejection:
        log.warn("order %s rejected: %s", order["orderId"], rejection.cause)
        raise
    log.info("order %s scored %d/%d", order["orderId"], assessment["score"], assessment["threshold"])
    return assessment


def screen(order: dict[str, Any]) -> dict[str, Any]:
    """The whole step without logging: the assessment, or `FraudSuspected`."""
    triggered_rules = assess(order)
    score = sum(rule["points"] for rule in triggered_rules)
    if score >= THRESHOLD:
        cause = {"orderId": order["orderId"], "score": score, "threshold": THRESHOLD, "triggeredRules": triggered_rules}
        # Sorted keys, as the Rust original's `json!` value writes them, so the causes match byte for byte.
        raise TaskError(FRAUD_SUSPECTED, stepwasm.details(cause, sort_keys=True))
    return {"score": score, "threshold": THRESHOLD, "triggeredRules": triggered_rules}


def assess(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule that fires for the order, in the order of the table above."""
    fired: list[dict[str, Any]] = []

    def fire(rule: str, points: int, detail: str) -> None:
        fired.append({"rule": rule, "points": points, "detail": detail})

    currency = order["currency"]
    total_cents = order["totalCents"]
    total = format_money(total_cents, currency)

    if total_cents >= VERY_HIGH_AMOUNT_CENTS:
        fire("VERY_HIGH_AMOUNT", 50, f"total {total} is at least {format_money(VERY_HIGH_AMOUNT_CENTS, currency)}")
    elif total_cents >= HIGH_AMOUNT_CENTS:
        fire("HIGH_AMOUNT", 25, f"total {total} is at least {format_money(HIGH_AMOUNT_CENTS, currency)}")

    shipping = order["shippingAddress"]["country"]
    billing = order["payment"].get("billingCountry")
    if billing is not None and billing != shipping:
        fire("COUNTRY_MISMATCH", 30, f"billed in {billing}, shipped to {shipping}")

    email = order["customer"]["email"]
    domain = email.rpartition("@")[2] if "@" in email else ""
    # Subdomains of a disposable service are just as disposable.
    if any(domain == bad or domain.endswith("." + bad) for bad in DISPOSABLE_DOMAINS):
        fire("DISPOSABLE_EMAIL", 40, f"{domain} is a throwaway-mailbox service")

    # Per SKU, not per line: splitting 12 units over two lines must not dodge the rule.
    bulk = next(((sku, n) for sku, n in quantities_by_sku(order["items"]) if n >= BULK_QUANTITY), None)
    if bulk is not None:
        fire("BULK_QUANTITY", 20, f"{bulk[1]} units of {bulk[0]}")

    cardholder, customer = order["payment"]["cardholder"], order["customer"]["name"]
    if normalised_name(cardholder) != normalised_name(customer):
        fire("NAME_MISMATCH", 10, f"cardholder {rust_debug(cardholder)} is not customer {rust_debug(customer)}")
    return fired


def normalised_name(name: str) -> str:
    """Case and spacing do not make a different person: "ADA  LOVELACE" is "Ada Lovelace"."""
    return " ".join(name.lower().split())
