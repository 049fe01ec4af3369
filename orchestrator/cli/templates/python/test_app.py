"""Unit tests of {{name}}: `python3 -m unittest` in this directory. They call the handler
directly, natively, without building a component."""

import unittest

import stepwasm
from stepwasm import Context, TaskError

import app


class HandleTest(unittest.TestCase):
    def test_greets_by_name(self):
        result = app.handle({"name": "Ada"}, Context.for_test("Greet"))
        self.assertEqual(result, {"greeting": "Hello, Ada!", "attempt": 1})

    def test_sees_the_attempt_number(self):
        self.assertEqual(app.handle({"name": "Ada"}, Context.for_test("Greet", attempt=3))["attempt"], 3)

    def test_a_missing_name_is_a_named_error(self):
        with self.assertRaises(TaskError) as raised:
            app.handle({}, Context.for_test("Greet"))
        self.assertEqual(raised.exception.error, "InvalidName")

    def test_the_result_survives_json_as_the_host_sends_it(self):
        # run_for_test passes the input and the result through JSON, as a real invocation does.
        self.assertEqual(stepwasm.run_for_test(app.handle, {"name": " Grace "})["greeting"], "Hello, Grace!")


if __name__ == "__main__":
    unittest.main()
