"""Native unit tests of the Python SDK: `python3 -m unittest discover -s tests` in guest-sdk/python.

The Wasm side (the generated bindings) is replaced by small fakes, so what is tested here is the
SDK's own logic: JSON conversions, error mapping, panic reports, redirects and `wasi:http` codes.
"""

import io
import os
import sys
import unittest
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import stepwasm  # noqa: E402
from stepwasm import Context, HttpError, TaskError, _task, _wit, config, http, log  # noqa: E402


class FakeErr(Exception):
    """Stands in for componentize_py_types.Err."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


@dataclass
class WitTaskError:
    error: str
    cause: str


def wit_context(**overrides):
    fields = dict(function_name="fn", execution_id="arn:x", state_name="State", attempt=2, remaining_millis=5000)
    fields.update(overrides)
    return SimpleNamespace(**fields)


class HandlerTest(unittest.TestCase):
    def test_details_are_compact_json_keeping_unicode(self):
        self.assertEqual(stepwasm.details({"sku": "Ü-1", "n": [1, 2]}), '{"sku":"Ü-1","n":[1,2]}')
        self.assertEqual(stepwasm.details({"b": 1, "a": 2}, sort_keys=True), '{"a":2,"b":1}')
        self.assertEqual(str(TaskError("OutOfStock", "none left")), "OutOfStock: none left")

    def test_the_decorator_exports_the_handler_and_returns_it_unchanged(self):
        def handle(input, ctx):
            return input

        exported = stepwasm.handler(handle)
        self.assertIs(exported, handle)
        world = sys.modules[__name__].WitWorld
        self.assertIs(world._stepwasm_handler, handle)
        with self.assertRaises(TypeError):
            stepwasm.handler(lambda input, ctx: None)
        del sys.modules[__name__].WitWorld

    def test_input_and_output_go_through_json(self):
        self.assertEqual(
            stepwasm.run_for_test(lambda doc, ctx: {"got": doc, "t": (1, 2)}, {"a": 1}), {"got": {"a": 1}, "t": [1, 2]}
        )
        with self.assertRaises(TaskError) as raised:
            stepwasm.run_for_test(lambda doc, ctx: {1, 2}, {})
        self.assertEqual(raised.exception.error, "InvalidOutput")
        with self.assertRaises(TaskError) as raised:
            _task._invoke(lambda doc, ctx: doc, "{not json", Context.for_test())
        self.assertEqual(raised.exception.error, "InvalidInput")
        with self.assertRaises(TaskError) as raised:
            stepwasm.run_for_test(lambda doc, ctx: float("nan"), {})
        self.assertEqual(raised.exception.error, "InvalidOutput")

    def test_context_counts_down_from_the_hosts_remaining_time(self):
        ctx = Context._from_wit(wit_context())
        self.assertEqual((ctx.function_name, ctx.state_name, ctx.attempt), ("fn", "State", 2))
        self.assertTrue(4.0 < ctx.remaining() <= 5.0)
        self.assertTrue(4000 < ctx.remaining_millis() <= 5000)
        self.assertEqual(Context.for_test("Charge", attempt=3).attempt, 3)


class WitBoundaryTest(unittest.TestCase):
    """`_run`, the code between the generated export and the handler, against fake bindings."""

    def setUp(self):
        self.panics = []
        host = SimpleNamespace(report_panic=self.panics.append)
        patches = [
            mock.patch.object(_wit, "types", SimpleNamespace(Err=FakeErr)),
            mock.patch.dict(_wit._modules, {"host": host, "task_types": SimpleNamespace(TaskError=WitTaskError)}),
        ]
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)

    def test_a_result_is_returned_as_json_text(self):
        self.assertEqual(
            _task._run(lambda doc, ctx: {"state": ctx.state_name}, "{}", wit_context()), '{"state":"State"}'
        )

    def test_a_task_error_becomes_the_err_result(self):
        def fail(doc, ctx):
            raise TaskError("PaymentDeclined", "card refused")

        with self.assertRaises(FakeErr) as raised:
            _task._run(fail, "{}", wit_context())
        self.assertEqual(raised.exception.value, WitTaskError("PaymentDeclined", "card refused"))

    def test_an_http_error_is_a_task_error_with_its_name(self):
        def fail(doc, ctx):
            raise HttpError("Http.Timeout", "GET https://x/: connection-timeout", method="GET", url="https://x/")

        with self.assertRaises(FakeErr) as raised:
            _task._run(fail, "{}", wit_context())
        self.assertEqual(raised.exception.value.error, "Http.Timeout")

    def test_any_other_exception_is_reported_as_a_panic_then_raised(self):
        def crash(doc, ctx):
            return doc["missing"]

        with self.assertRaises(KeyError):
            _task._run(crash, "{}", wit_context())
        (report,) = self.panics
        self.assertTrue(report.startswith("KeyError: 'missing'\n\nTraceback"), report)
        self.assertIn("in crash", report)
        self.assertNotIn("_task.py", report, "the SDK's own frames are left out")


class ConfigAndLogTest(unittest.TestCase):
    def test_config_reads_the_environment_outside_wasm(self):
        with mock.patch.dict(os.environ, {"API_KEY": "k-1"}):
            self.assertEqual(config.get("API_KEY"), "k-1")
        self.assertIsNone(config.get("STEPWASM_SURELY_UNSET"))

    def test_log_lines_go_to_stderr_outside_wasm(self):
        with mock.patch("sys.stderr", new_callable=io.StringIO) as stderr:
            log.info("order %s scored %d", "ord-1", 25)
            log.warn("plain 100%")
        self.assertEqual(stderr.getvalue(), "[INFO] order ord-1 scored 25\n[WARN] plain 100%\n")


class FakeServer:
    """Answers `http._send` calls from a table of (method, url) -> (status, headers, body)."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []

    def __call__(self, method, url, headers, body, timeout):
        self.requests.append(SimpleNamespace(method=method, url=url, headers=dict(headers), body=body))
        status, headers, content = self.routes[url]
        return status, [(name, value.encode("latin-1")) for name, value in headers], content


class HttpTest(unittest.TestCase):
    def serve(self, routes):
        server = FakeServer(routes)
        patch = mock.patch.object(http, "_send", server)
        patch.start()
        self.addCleanup(patch.stop)
        return server

    def test_a_response_is_read_whole(self):
        self.serve(
            {
                "https://api.example.com/r": (
                    200,
                    [("Content-Type", "application/json; charset=utf-8"), ("X-A", "1"), ("x-a", "2")],
                    b'{"rate": 1.1}',
                )
            }
        )
        response = http.get("https://api.example.com/r")
        self.assertTrue(response.ok)
        self.assertEqual(response.headers, {"content-type": "application/json; charset=utf-8", "x-a": "1, 2"})
        self.assertEqual(response.json(), {"rate": 1.1})
        self.assertEqual(response.text(), '{"rate": 1.1}')
        self.assertIs(response.raise_for_status(), response)

    def test_error_statuses_and_bad_json_have_names_when_asked(self):
        self.serve({"https://api.example.com/gone": (404, [], b"<html>gone</html>")})
        response = http.get("https://api.example.com/gone")
        self.assertFalse(response.ok)
        with self.assertRaises(HttpError) as raised:
            response.raise_for_status()
        self.assertEqual((raised.exception.error, raised.exception.cause), ("Http.StatusCode.404", "<html>gone</html>"))
        with self.assertRaises(HttpError) as raised:
            response.json()
        self.assertEqual(raised.exception.error, "Http.InvalidResponse")

    def test_json_bodies_are_declared(self):
        server = self.serve({"https://api.example.com/c": (201, [], b"")})
        self.assertEqual(http.post("https://api.example.com/c", json={"amount": "€5"}).status, 201)
        (sent,) = server.requests
        self.assertEqual(sent.body, '{"amount":"€5"}'.encode())
        self.assertEqual(sent.headers["content-type"], "application/json")
        self.assertEqual(sent.headers["content-length"], str(len(sent.body)))
        with self.assertRaises(TypeError):
            http.post("https://api.example.com/c", body="x", json={})
        with self.assertRaises(HttpError) as raised:
            http.post("https://api.example.com/c", json={1, 2})
        self.assertEqual(raised.exception.error, "Http.InvalidRequest")

    def test_methods_with_a_body_declare_its_length_even_when_empty(self):
        server = self.serve({"https://api.example.com/c": (204, [], b"")})
        http.post("https://api.example.com/c")
        http.get("https://api.example.com/c")
        self.assertEqual(server.requests[0].headers, {"content-length": "0"})
        self.assertEqual(server.requests[1].headers, {})

    def test_redirects_are_followed_and_303_becomes_a_get(self):
        server = self.serve(
            {
                "https://a.example/start": (307, [("Location", "/next")], b""),
                "https://a.example/next": (303, [("Location", "https://b.example/done")], b""),
                "https://b.example/done": (200, [], b"ok"),
            }
        )
        response = http.post(
            "https://a.example/start", body="data", headers={"Authorization": "Bearer s", "X-Trace": "t"}
        )
        self.assertEqual((response.status, response.url, response.body), (200, "https://b.example/done", b"ok"))
        first, second, third = server.requests
        self.assertEqual((first.method, second.method, third.method), ("POST", "POST", "GET"))
        self.assertEqual(second.body, b"data", "a 307 keeps the method and the body")
        self.assertIsNone(third.body)
        self.assertNotIn("content-length", third.headers)
        self.assertEqual(second.headers["authorization"], "Bearer s", "same origin keeps credentials")
        self.assertNotIn("authorization", third.headers, "another origin does not get them")
        self.assertEqual(third.headers["x-trace"], "t")

    def test_a_302_after_a_post_repeats_as_a_get_as_browsers_do(self):
        server = self.serve(
            {
                "https://a.example/form": (302, [("Location", "/thanks")], b""),
                "https://a.example/thanks": (200, [], b""),
            }
        )
        http.post("https://a.example/form", json={"a": 1})
        self.assertEqual([r.method for r in server.requests], ["POST", "GET"])
        self.assertNotIn("content-type", server.requests[1].headers)

    def test_a_redirect_to_a_non_http_url_is_an_invalid_request(self):
        self.serve({"https://a.example/x": (301, [("Location", "ftp://files.example/x")], b"")})
        with self.assertRaises(HttpError) as raised:
            http.get("https://a.example/x")
        self.assertEqual(raised.exception.error, "Http.InvalidRequest")

    def test_more_than_five_redirects_is_an_http_error(self):
        routes = {f"https://a.example/{n}": (302, [("Location", f"/{n + 1}")], b"") for n in range(10)}
        server = self.serve(routes)
        with self.assertRaises(HttpError) as raised:
            http.get("https://a.example/0")
        self.assertEqual(raised.exception.error, "Http.TooManyRedirects")
        self.assertEqual(len(server.requests), 6)
        self.assertEqual(http.get("https://a.example/0", follow_redirects=False).status, 302)

    def test_wasi_error_codes_map_to_named_errors(self):
        def case(name, value=None):
            cls = type(f"ErrorCode_{name}", (), {})
            code = cls()
            code.value = value
            return code

        @dataclass
        class DnsErrorPayload:
            rcode: object
            info_code: object

        expectations = [
            (case("HttpRequestDenied"), "Http.OriginNotAllowed", "HTTP-request-denied"),
            (case("HttpResponseBodySize", 1024), "Http.ResponseTooLarge", "HTTP-response-body-size"),
            (case("ConnectionReadTimeout"), "Http.Timeout", "connection-read-timeout"),
            (case("DnsTimeout"), "Http.Timeout", "DNS-timeout"),
            (case("DnsError", DnsErrorPayload("NXDOMAIN", None)), "Http.ConnectionFailed", "DNS-error"),
            (case("TlsCertificateError"), "Http.ConnectionFailed", "TLS-certificate-error"),
            (case("DestinationIpProhibited"), "Http.ConnectionFailed", "destination-IP-prohibited"),
            (case("HttpRequestUriInvalid"), "Http.InvalidRequest", "HTTP-request-URI-invalid"),
            (case("ConnectionLimitReached"), "Http.Error", "connection-limit-reached"),
            (case("HttpProtocolError"), "Http.Error", "HTTP-protocol-error"),
            (case("InternalError", "boom"), "Http.Error", "internal-error"),
        ]
        for code, name, wit in expectations:
            error = http._error_for(code, "GET", "https://api.example.com/x")
            self.assertIsInstance(error, TaskError)
            self.assertEqual((error.error, error.code), (name, wit))
        denied = http._error_for(case("HttpRequestDenied"), "GET", "https://api.example.com:8443/x")
        self.assertTrue(denied.cause.endswith("--allow-outbound https://api.example.com:8443"), denied.cause)
        dns = http._error_for(case("DnsError", DnsErrorPayload("NXDOMAIN", None)), "GET", "https://x.example/")
        self.assertEqual(dns.cause, 'GET https://x.example/: DNS-error (rcode="NXDOMAIN")')

    def test_bad_urls_are_invalid_requests(self):
        for url in ["ftp://x.example/", "https:///path", "not a url", "https://user:pw@x.example/"]:
            with self.assertRaises(HttpError, msg=url) as raised:
                http.get(url)
            self.assertEqual(raised.exception.error, "Http.InvalidRequest")

    def test_without_a_host_requests_fail_clearly(self):
        with self.assertRaises(RuntimeError) as raised:
            http.get("https://api.example.com/")
        self.assertIn("unittest.mock.patch", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
