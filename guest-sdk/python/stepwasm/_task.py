"""The handler contract: JSON in, JSON or a named error out."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from . import _wit

#: What a handler looks like: the parsed input and the context in, a JSON-serialisable value out.
Handler = Callable[[Any, "Context"], Any]
H = TypeVar("H", bound=Handler)

_SDK_DIR = os.path.dirname(__file__)


class TaskError(Exception):
    """A named failure, reported to the workflow.

    `error` is the name the workflow's `Retry` and `Catch` rules match in `ErrorEquals`, so pick
    names a workflow author can act on (`PaymentDeclined`, `CarrierUnavailable`) and keep them
    stable. `cause` is free text or JSON (see :func:`details`). Leave `States.` names to the
    engine (the host replaces them with `Runtime.ReservedErrorName`) and `Runtime.` names to the
    host, whose own failures they name.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(error, cause)
        self.error = error
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.error}: {self.cause}" if self.cause else self.error


def details(value: Any, *, sort_keys: bool = False) -> str:
    """`value` as compact JSON, for a :class:`TaskError` cause.

    A JSON cause lets a `Catch` handler read its fields with `States.StringToJson($.Cause)`:
    ``raise TaskError("OutOfStock", details({"sku": sku, "available": 0}))``.
    """
    return _to_json(value, sort_keys=sort_keys)


def _to_json(value: Any, sort_keys: bool = False) -> str:
    # The same bytes serde_json writes: no spaces, non-ASCII kept as is.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=sort_keys)


@dataclass(frozen=True)
class Context:
    """What an invocation is running for."""

    #: The name the function was deployed under.
    function_name: str
    #: The ARN of the workflow execution.
    execution_id: str
    #: The name of the Task state being executed.
    state_name: str
    #: 1 on the first attempt, 2 on the first retry, and so on.
    attempt: int
    #: When the host stops the call, on `time.monotonic()`'s clock.
    deadline: float = field(repr=False)

    def remaining(self) -> float:
        """Seconds left before the host stops this call with `States.Timeout`."""
        return max(0.0, self.deadline - time.monotonic())

    def remaining_millis(self) -> int:
        """Milliseconds left before the host stops this call."""
        return int(self.remaining() * 1000)

    @classmethod
    def for_test(
        cls,
        state_name: str = "Test",
        *,
        attempt: int = 1,
        remaining: float = 60.0,
        function_name: str = "test",
        execution_id: str = "arn:aws:states:local:000000000000:execution:test:test",
    ) -> "Context":
        """A context for calling a handler natively in unit tests."""
        return cls(function_name, execution_id, state_name, attempt, time.monotonic() + remaining)

    @classmethod
    def _from_wit(cls, ctx: Any) -> "Context":
        deadline = time.monotonic() + ctx.remaining_millis / 1000
        return cls(ctx.function_name, ctx.execution_id, ctx.state_name, ctx.attempt, deadline)


def handler(fn: H) -> H:
    """Exports `fn` as the component's `handle` function.

    ``fn(input, ctx)`` receives the parsed JSON input and a :class:`Context`, and returns any
    JSON-serialisable value. Raise :class:`TaskError` for a named failure. The function itself is
    returned unchanged, so unit tests call it directly with a :meth:`Context.for_test`.

    componentize-py looks for a class named `WitWorld` in the app module; the decorator defines
    it there, so a function module needs nothing but the decorated handler.
    """
    module = sys.modules[fn.__module__]
    existing = getattr(module, "WitWorld", None)
    if existing is not None and getattr(existing, "_stepwasm_handler", None) is not fn:
        raise TypeError(f"module {fn.__module__!r} already exports a handler; a component has exactly one")

    class WitWorld:
        _stepwasm_handler = fn

        def handle(self, input: str, ctx: Any) -> str:
            return _run(fn, input, ctx)

    module.WitWorld = WitWorld  # type: ignore[attr-defined]
    return fn


def _run(fn: Handler, input: str, wit_ctx: Any) -> str:
    """One call of the `handle` export: the JSON conversions, the error mapping, panic reports."""
    try:
        return _invoke(fn, input, Context._from_wit(wit_ctx))
    except TaskError as failure:
        task_error = _wit.task_types().TaskError(failure.error, failure.cause)
        raise _wit.types.Err(task_error) from None
    except BaseException as crash:
        # The call traps once this propagates; say why first, or the host sees only a trap.
        _wit.imports("host").report_panic(_panic_report(crash))
        raise


def _invoke(fn: Handler, input: str, ctx: Context) -> str:
    """Parse, call, serialise; failures of the conversions become the SDK's named errors."""
    try:
        payload = json.loads(input)
    except ValueError as err:
        raise TaskError("InvalidInput", f"the input is not JSON: {err}") from None
    output = fn(payload, ctx)
    try:
        return _to_json(output)
    except (TypeError, ValueError) as err:
        raise TaskError("InvalidOutput", f"the handler's result cannot be written as JSON: {err}") from None


def _panic_report(crash: BaseException) -> str:
    """The panic cause: the exception first (what a reader of the execution needs), then where.

    The SDK's own frames, which every trace would start with, are left out.
    """
    frames = crash.__traceback__
    while frames is not None and os.path.dirname(frames.tb_frame.f_code.co_filename) == _SDK_DIR:
        frames = frames.tb_next
    trace = "".join(traceback.format_exception(type(crash), crash, frames)).rstrip()
    message = "".join(traceback.format_exception_only(type(crash), crash)).strip()
    return f"{message}\n\n{trace}"


def run_for_test(fn: Handler, input: Any, ctx: Optional[Context] = None) -> Any:
    """Runs `fn` as the host would, natively: `input` goes through JSON and so does the result.

    Catches what a direct call would not: a result that is not JSON-serialisable
    (`InvalidOutput`), or tuples and non-string keys that JSON changes on the way.
    """
    text = _invoke(fn, _to_json(input), ctx or Context.for_test())
    return json.loads(text)
