"""A small blocking HTTP client over `wasi:http/outgoing-handler`.

::

    from stepwasm import http
    rate = http.get("https://api.example.com/rates/EUR").raise_for_status().json()
    receipt = http.post("https://api.example.com/charges", json={"amount": 1299})

A request reaches only the origins the function was deployed with (`--allow-outbound`). Every
failure raises :class:`HttpError`, a :class:`~stepwasm.TaskError` whose name says what went
wrong; left uncaught, it fails the task with that name, which the workflow can `Retry` or `Catch`.
The names are the Rust SDK's, so a workflow need not know which language a function is in:

=========================  ======================================================================
`Http.OriginNotAllowed`    the origin is not in the function's allow-list (`HTTP-request-denied`)
`Http.Timeout`             connecting, or waiting for the response, took too long
`Http.ConnectionFailed`    DNS, connection refused or reset, TLS
`Http.ResponseTooLarge`    the response body is larger than the host's cap
`Http.TooManyRedirects`    more than five redirects
`Http.InvalidRequest`      the URL, a header or the body cannot be sent as given
`Http.InvalidResponse`     :meth:`Response.json` on a body that is not JSON
`Http.StatusCode.NNN`      :meth:`Response.raise_for_status` on a 4xx or 5xx status
`Http.Error`               anything else; the `wasi:http` error code is in the cause
=========================  ======================================================================

A response with an error status (404, 500...) is not an exception by itself: check
`response.status`, or call `raise_for_status()`. Redirects (301, 302, 303, 307, 308) are followed,
at most five, each as a new request that the host checks against the allow-list again; a 303, or
a 301 or 302 after a POST, turns the request into a GET, as browsers do.
"""

from __future__ import annotations

import json as _json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Mapping, Optional, Union
from urllib.parse import urljoin, urlsplit

from . import _wit
from ._task import TaskError

__all__ = ["request", "get", "post", "Response", "HttpError", "MAX_REDIRECTS"]

#: Redirects followed before giving up with `Http.TooManyRedirects`.
MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Credentials meant for one origin must not be handed to another by a redirect.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# wasi:http output streams accept at most 4096 bytes per blocking write.
_WRITE_CHUNK = 4096
_READ_CHUNK = 64 * 1024

_TIMEOUT_CODES = frozenset(
    {
        "DNS-timeout",
        "connection-timeout",
        "connection-read-timeout",
        "connection-write-timeout",
        "HTTP-response-timeout",
    }
)
_CONNECTION_CODES = frozenset(
    {
        "DNS-error",
        "destination-not-found",
        "destination-unavailable",
        "destination-IP-prohibited",
        "destination-IP-unroutable",
        "connection-refused",
        "connection-terminated",
        "TLS-protocol-error",
        "TLS-certificate-error",
        "TLS-alert-received",
    }
)

_INVALID_REQUEST_CODES = frozenset(
    {
        "HTTP-request-method-invalid",
        "HTTP-request-URI-invalid",
        "HTTP-request-URI-too-long",
        "HTTP-request-header-size",
        "HTTP-request-header-section-size",
        "HTTP-request-body-size",
    }
)
# Methods that carry a body, and so a Content-Length even when it is empty: some servers refuse
# them without one (411 Length Required).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Body = Union[bytes, bytearray, str, None]
_NO_JSON = object()


class HttpError(TaskError):
    """A request that got no usable response; `error` is one of the `Http.*` names above."""

    def __init__(
        self,
        error: str,
        cause: str,
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(error, cause)
        #: The request's method and URL (the last hop's, after redirects), when there was a request.
        self.method = method
        self.url = url
        #: The `wasi:http` error code, such as `connection-refused`, when the host gave one.
        self.code = code


@dataclass
class Response:
    """A complete response: the body has been read."""

    #: The status code, such as 200.
    status: int
    #: Header names in lower case; repeated headers are joined with ", ".
    headers: dict[str, str]
    #: The body's bytes.
    body: bytes = field(repr=False)
    #: The URL that answered, after redirects.
    url: str = ""

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def text(self, encoding: Optional[str] = None) -> str:
        """The body as text, in `encoding`, else the `Content-Type` charset, else UTF-8."""
        if encoding is None:
            match = re.search(r"charset=\"?([\w.:-]+)", self.headers.get("content-type", ""), re.IGNORECASE)
            encoding = match.group(1) if match else "utf-8"
        try:
            return self.body.decode(encoding, errors="replace")
        except LookupError:  # A charset Python does not know: UTF-8 is the likeliest truth.
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; `Http.InvalidResponse` if it is not JSON."""
        try:
            return _json.loads(self.body)
        except ValueError as err:
            raise HttpError("Http.InvalidResponse", f"{self.url} answered {err}", url=self.url) from None

    def raise_for_status(self) -> "Response":
        """The response itself for a 1xx to 3xx status; `Http.StatusCode.NNN` for a 4xx or 5xx,
        with the body as cause: the names the engine's own HTTP Task uses under `States.`."""
        if self.status >= 400:
            raise HttpError(f"Http.StatusCode.{self.status}", self.text(), url=self.url)
        return self


def request(
    method: str,
    url: str,
    headers: Optional[Mapping[str, str]] = None,
    body: Body = None,
    *,
    json: Any = _NO_JSON,
    timeout: Optional[float] = None,
    follow_redirects: bool = True,
) -> Response:
    """Sends a request and reads the whole response.

    `body` is sent as is (a `str` as UTF-8); `json` is serialised and sent with
    `Content-Type: application/json` instead. `timeout`, in seconds, bounds connecting and each
    wait for data; the host also bounds every request by the time the call has left.
    Raises :class:`HttpError` for every failure, `Http.InvalidRequest` included (a URL that is
    not `http(s)://host/...`, a header the host forbids such as `Host` or `Connection`).
    """
    method = method.upper()
    header_list = [(name.lower(), str(value)) for name, value in (headers or {}).items()]
    payload = _encode_body(method, url, body, json, header_list)
    first_url = url
    for _hop in range(MAX_REDIRECTS + 1):
        _split(method, url)
        status, raw_headers, content = _send(method, url, header_list, payload, timeout)
        response = Response(status, _header_dict(raw_headers), content, url)
        location = response.headers.get("location")
        if not follow_redirects or status not in _REDIRECT_STATUSES or location is None:
            return response
        target = urljoin(url, location)
        if status == 303 or (status in (301, 302) and method == "POST"):
            if method != "HEAD":
                method, payload = "GET", None
                header_list = [(n, v) for n, v in header_list if n not in ("content-type", "content-length")]
        if _origin(target) != _origin(url):
            header_list = [(n, v) for n, v in header_list if n not in _CREDENTIAL_HEADERS]
        url = target
    cause = f"{first_url}: more than {MAX_REDIRECTS} redirects, the last to {url}"
    raise HttpError("Http.TooManyRedirects", cause, method=method, url=url)


def get(url: str, headers: Optional[Mapping[str, str]] = None, **options: Any) -> Response:
    """`request("GET", url, headers, **options)`."""
    return request("GET", url, headers, **options)


def post(
    url: str, body: Body = None, headers: Optional[Mapping[str, str]] = None, *, json: Any = _NO_JSON, **options: Any
) -> Response:
    """`request("POST", url, headers, body, json=json, **options)`."""
    return request("POST", url, headers, body, json=json, **options)


def _encode_body(
    method: str, url: str, body: Body, json_value: Any, header_list: list[tuple[str, str]]
) -> Optional[bytes]:
    """The body's bytes, adding the headers that describe them when the caller did not."""
    names = {name for name, _ in header_list}
    if json_value is not _NO_JSON:
        if body is not None:
            raise TypeError("pass either body or json, not both")
        try:
            body = _json.dumps(json_value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as err:
            raise _invalid_request(method, url, f"the JSON body cannot be written: {err}") from None
        if "content-type" not in names:
            header_list.append(("content-type", "application/json"))
    if body is None and method not in _BODY_METHODS:
        return None
    data = b"" if body is None else body.encode() if isinstance(body, str) else bytes(body)
    # A declared length lets servers that refuse chunked uploads accept the request.
    if "content-length" not in names:
        header_list.append(("content-length", str(len(data))))
    return data


def _invalid_request(method: str, url: str, why: str) -> HttpError:
    return HttpError("Http.InvalidRequest", f"{method} {url}: {why}", method=method, url=url)


def _split(method: str, url: str) -> tuple[str, str, str]:
    """(scheme, authority, path-with-query) of an http(s) URL; `Http.InvalidRequest` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid_request(method, url, "not an http:// or https:// URL with a host")
    if parts.username is not None:
        raise _invalid_request(method, url, "the URL carries credentials; send them in a header instead")
    path = parts.path or "/"
    return parts.scheme, parts.netloc, f"{path}?{parts.query}" if parts.query else path


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _origin_text(url: str) -> str:
    """`scheme://host[:port]`, as `--allow-outbound` takes it."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


def _header_dict(raw: list[tuple[str, bytes]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in raw:
        # Latin-1 maps every byte to a character, so no header value can fail to decode.
        text = value.decode("latin-1")
        key = name.lower()
        merged[key] = f"{merged[key]}, {text}" if key in merged else text
    return merged


def _error_name(code: str) -> str:
    """The `Http.*` name for a `wasi:http` error code."""
    if code == "HTTP-request-denied":
        return "Http.OriginNotAllowed"
    if code == "HTTP-response-body-size":
        return "Http.ResponseTooLarge"
    if code in _TIMEOUT_CODES:
        return "Http.Timeout"
    if code in _CONNECTION_CODES:
        return "Http.ConnectionFailed"
    if code in _INVALID_REQUEST_CODES:
        return "Http.InvalidRequest"
    return "Http.Error"


_ACRONYMS = {"dns": "DNS", "ip": "IP", "tls": "TLS", "http": "HTTP", "uri": "URI"}


def _code_name(case: Any) -> str:
    """The WIT spelling of a generated variant case: `ErrorCode_HttpRequestUriInvalid` is
    `HTTP-request-URI-invalid`, as in the WIT file and the host's messages."""
    words = re.findall(r"[A-Z][a-z]*", type(case).__name__.partition("_")[2])
    return "-".join(_ACRONYMS.get(word.lower(), word.lower()) for word in words)


def _payload_text(error_code: Any) -> str:
    value = getattr(error_code, "value", None)
    if value is None:
        return ""
    if is_dataclass(value):
        present = [(f.name, getattr(value, f.name)) for f in fields(value) if getattr(value, f.name) is not None]
        parts = [f"{name}={_json.dumps(field_value, ensure_ascii=False)}" for name, field_value in present]
        return ", ".join(parts)
    return str(value)


def _error_for(error_code: Any, method: str, url: str) -> HttpError:
    code = _code_name(error_code)
    detail = _payload_text(error_code)
    name = _error_name(code)
    cause = f"{method} {url}: {code}" + (f" ({detail})" if detail else "")
    if name == "Http.OriginNotAllowed":
        cause += f"; deploy the function with --allow-outbound {_origin_text(url)}"
    return HttpError(name, cause, method=method, url=url, code=code)


def _send(
    method: str, url: str, headers: list[tuple[str, str]], body: Optional[bytes], timeout: Optional[float]
) -> tuple[int, list[tuple[str, bytes]], bytes]:
    """One exchange, without redirects: (status, headers, body). Replaced in the SDK's tests."""
    if not _wit.IN_WASM:
        raise RuntimeError(
            "stepwasm.http needs the stepwasm host; in native tests, replace the call, for example "
            "with unittest.mock.patch('stepwasm.http.request')"
        )
    return _WasiExchange(method, url, timeout).run(headers, body)


class _WasiExchange:
    """One request and its response over `wasi:http`, dropping every resource it creates.

    WASI resources must be dropped children first (a stream before its body, a pollable before
    its future) or the host traps; hence the explicit `with` blocks rather than garbage
    collection.
    """

    def __init__(self, method: str, url: str, timeout: Optional[float]) -> None:
        self.method = method
        self.url = url
        self.timeout = timeout
        self.t = _wit.imports("wasi_http_types")
        self.Err = _wit.types.Err

    def fail(self, error_code: Any) -> HttpError:
        return _error_for(error_code, self.method, self.url)

    def run(self, headers: list[tuple[str, str]], body: Optional[bytes]) -> tuple[int, list[tuple[str, bytes]], bytes]:
        t, Err = self.t, self.Err
        scheme, authority, path = _split(self.method, self.url)
        try:
            fields_ = t.Fields.from_list([(name, value.encode()) for name, value in headers])
        except Err as err:
            why = f"the host refuses these headers ({_code_name(err.value)})"
            raise _invalid_request(self.method, self.url, why) from None
        outgoing = t.OutgoingRequest(fields_)
        try:
            outgoing.set_method(self._method())
            outgoing.set_scheme(t.Scheme_Https() if scheme == "https" else t.Scheme_Http())
            outgoing.set_authority(authority)
            outgoing.set_path_with_query(path)
        except Err:
            outgoing.__exit__(None, None, None)
            raise _invalid_request(self.method, self.url, "the method, host or path cannot be sent") from None
        # The body must be taken before `handle` consumes the request, and written after it, so
        # that a large body streams out instead of filling a buffer nobody drains yet.
        outgoing_body = outgoing.body()
        try:
            future = _wit.imports("outgoing_handler").handle(outgoing, self._options())
        except Err as err:
            raise self.fail(err.value) from None
        with future:
            write_failure = self._write(outgoing_body, body)
            with future.subscribe() as ready:
                ready.block()
            outcome = future.get()
        # option<result<result<incoming-response, error-code>>>: the outer result only fails
        # when the response was already taken, which this code never does.
        if outcome is None or isinstance(outcome, Err):
            raise HttpError("Http.Error", f"{self.method} {self.url}: no response", method=self.method, url=self.url)
        if isinstance(outcome.value, Err):
            raise self.fail(outcome.value.value)
        if write_failure is not None:
            raise write_failure
        with outcome.value.value as response:
            return self._read(response)

    def _method(self) -> Any:
        t = self.t
        known = {
            "GET": t.Method_Get,
            "HEAD": t.Method_Head,
            "POST": t.Method_Post,
            "PUT": t.Method_Put,
            "DELETE": t.Method_Delete,
            "OPTIONS": t.Method_Options,
            "PATCH": t.Method_Patch,
        }
        return known[self.method]() if self.method in known else t.Method_Other(self.method)

    def _options(self) -> Any:
        if self.timeout is None:
            return None
        options = self.t.RequestOptions()
        nanos = int(self.timeout * 1_000_000_000)
        options.set_connect_timeout(nanos)
        options.set_first_byte_timeout(nanos)
        options.set_between_bytes_timeout(nanos)
        return options

    def _write(self, outgoing_body: Any, body: Optional[bytes]) -> Optional[HttpError]:
        """Writes and finishes the request body; a failure is returned, so that the response's
        own error (an origin refused, say), which explains it better, can be raised instead."""
        t, Err = self.t, self.Err
        if body:
            try:
                with outgoing_body.write() as stream:
                    for start in range(0, len(body), _WRITE_CHUNK):
                        stream.blocking_write_and_flush(body[start : start + _WRITE_CHUNK])
            except Err as err:
                # Dropping the body unfinished tells the host the request is incomplete.
                outgoing_body.__exit__(None, None, None)
                return self._stream_failure(err.value)
        try:
            t.OutgoingBody.finish(outgoing_body, None)
        except Err as err:
            return self.fail(err.value)
        return None

    def _read(self, response: Any) -> tuple[int, list[tuple[str, bytes]], bytes]:
        t, Err = self.t, self.Err
        status = response.status()
        with response.headers() as header_fields:
            headers = header_fields.entries()
        incoming_body = response.consume()
        chunks: list[bytes] = []
        with incoming_body.stream() as stream:
            while True:
                try:
                    chunks.append(stream.blocking_read(_READ_CHUNK))
                except Err as err:
                    if type(err.value).__name__ == "StreamError_Closed":
                        break
                    raise self._stream_failure(err.value) from None
        t.IncomingBody.finish(incoming_body).__exit__(None, None, None)
        return status, headers, b"".join(chunks)

    def _stream_failure(self, stream_error: Any) -> HttpError:
        """An `HttpError` for a failed read or write, with the HTTP error code behind it if any."""
        if type(stream_error).__name__ == "StreamError_Closed":
            return HttpError(
                "Http.Error", f"{self.method} {self.url}: the connection closed early", method=self.method, url=self.url
            )
        with stream_error.value as io_error:
            error_code = self.t.http_error_code(io_error)
            if error_code is not None:
                return self.fail(error_code)
            # The debug string may go on with a host backtrace; its first line says what failed.
            message = io_error.to_debug_string().strip().partition("\n")[0]
        # wasmtime hands the error of a body cut at the host's cap over untyped (no error code);
        # its text is all there is to go on.
        if "body size exceeds limit" in message:
            return HttpError(
                "Http.ResponseTooLarge", f"{self.method} {self.url}: {message}", method=self.method, url=self.url
            )
        return HttpError("Http.Error", f"{self.method} {self.url}: {message}", method=self.method, url=self.url)
