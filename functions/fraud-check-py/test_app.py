"""Native unit tests of fraud-check-py: `python3 -m unittest` in this directory, no Wasm involved.

The same cases as the Rust original's tests, so the two implementations are held to one contract.
"""

import copy
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import stepwasm
except ImportError:
    # In the repository the SDK sits in guest-sdk/ rather than in this directory.
    sys.path.insert(0, os.path.join(HERE, "..", "..", "guest-sdk", "python"))
    import stepwasm

import app
from stepwasm import Context, TaskError


def sample(name):
    with open(os.path.join(HERE, "..", "samples", name), encoding="utf-8") as file:
        return json.load(file)


def placed(edit=lambda order: None, name="good-order.json", placed_at="2025-11-24T09:30:00Z"):
    """A sample order as place-order leaves it, after `edit`."""
    order = sample(name)
    edit(order)
    order["placedAt"] = placed_at
    order["totalCents"] = sum(item["quantity"] * item["unitPriceCents"] for item in order["items"])
    order["itemCount"] = sum(item["quantity"] for item in order["items"])
    return order


def rules(order):
    return [rule["rule"] for rule in app.assess(order)]


class FraudCheckTest(unittest.TestCase):
    def test_the_good_sample_scores_zero(self):
        assessment = app.screen(placed())
        self.assertEqual(assessment, {"score": 0, "threshold": 70, "triggeredRules": []})

    def test_amount_rules_have_thresholds_and_do_not_stack(self):
        def with_total(cents):
            def edit(order):
                order["items"] = order["items"][:1]
                order["items"][0].update(quantity=1, unitPriceCents=cents)

            return placed(edit)

        self.assertEqual(rules(with_total(99_999)), [])
        self.assertEqual(rules(with_total(100_000)), ["HIGH_AMOUNT"])
        self.assertEqual(rules(with_total(500_000)), ["VERY_HIGH_AMOUNT"])
        self.assertEqual(app.assess(with_total(500_000))[0]["detail"], "total 5,000.00 USD is at least 5,000.00 USD")

    def test_disposable_email_abroad_reaches_the_threshold(self):
        def edit(order):
            order["customer"]["email"] = "buyer@mailinator.com"
            order["payment"]["billingCountry"] = "FR"

        with self.assertRaises(TaskError) as raised:
            app.screen(placed(edit))
        self.assertEqual(raised.exception.error, "FraudSuspected")
        cause = json.loads(raised.exception.cause)
        self.assertEqual((cause["orderId"], cause["score"], cause["threshold"]), ("ord-1000", 70, 70))
        self.assertEqual([r["rule"] for r in cause["triggeredRules"]], ["COUNTRY_MISMATCH", "DISPOSABLE_EMAIL"])

    def test_several_weak_signals_stay_below_the_threshold(self):
        def edit(order):
            order["items"][0]["unitPriceCents"] = 60_000
            order["payment"]["billingCountry"] = "CA"
            order["payment"]["cardholder"] = "Charles Babbage"

        assessment = app.screen(placed(edit))
        self.assertEqual(assessment["score"], 25 + 30 + 10)
        self.assertEqual(
            assessment["triggeredRules"][2]["detail"], 'cardholder "Charles Babbage" is not customer "Ada Lovelace"'
        )

    def test_bulk_is_counted_per_sku_across_lines(self):
        def edit(order):
            order["items"][2]["quantity"] = 6
            again = copy.deepcopy(order["items"][2])
            again["quantity"] = 4
            order["items"].append(again)

        order = placed(edit)
        self.assertEqual(rules(order), ["BULK_QUANTITY"])
        self.assertIn("10 units of STICKER-FERRIS", app.assess(order)[0]["detail"])

    def test_names_match_ignoring_case_and_spacing_and_subdomains_count(self):
        self.assertEqual(rules(placed(lambda o: o["payment"].update(cardholder="ADA   LOVELACE"))), [])
        self.assertEqual(rules(placed(lambda o: o["customer"].update(email="x@eu.yopmail.com"))), ["DISPOSABLE_EMAIL"])
        self.assertEqual(rules(placed(lambda o: o["customer"].update(email="x@notyopmail.com"))), [])

    def test_the_large_sample_is_flagged_but_passes(self):
        order = placed(name="large-order.json", placed_at="2025-11-24T13:20:00Z")
        self.assertEqual(app.screen(order)["score"], 25)

    def test_the_handler_checks_the_input_like_the_rust_function(self):
        ok = stepwasm.run_for_test(app.handle, placed(), Context.for_test("FraudCheck"))
        self.assertEqual(ok["score"], 0)

        missing = placed()
        del missing["placedAt"]
        with self.assertRaises(TaskError) as raised:
            app.handle(missing, Context.for_test("FraudCheck"))
        self.assertEqual(
            (raised.exception.error, raised.exception.cause), ("InvalidInput", "$: missing field `placedAt`")
        )

        negative = placed(lambda order: order["items"][0].update(quantity=-1))
        with self.assertRaises(TaskError) as raised:
            app.handle(negative, Context.for_test("FraudCheck"))
        self.assertIn("$.items[0].quantity", raised.exception.cause)

        without_currency = placed()
        del without_currency["currency"]
        self.assertEqual(app.handle(without_currency, Context.for_test())["score"], 0)


if __name__ == "__main__":
    unittest.main()
