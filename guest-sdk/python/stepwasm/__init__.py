"""Write stepwasm task functions in Python.

A stepwasm workflow is written in Amazon States Language; each of its `Task` states runs a *task
function*: a WebAssembly component that takes the state's JSON input and returns JSON, or fails
with a named error. This package turns a Python function into such a component, built with
componentize-py for the `stepwasm:task` world::

    import stepwasm
    from stepwasm import TaskError, log

    @stepwasm.handler
    def handle(order: dict, ctx: stepwasm.Context) -> dict:
        if not order.get("items"):
            raise TaskError("InvalidOrder", stepwasm.details({"field": "items", "problem": "empty"}))
        log.info("pricing %s on attempt %d", order["orderId"], ctx.attempt)
        return {"totalCents": sum(i["quantity"] * i["unitPriceCents"] for i in order["items"])}

What the SDK does around the handler:

======================================  ==========================================================
what happened                           the workflow sees
======================================  ==========================================================
the handler returned a value            the value, as the state's result
the handler raised ``TaskError(e, c)``  error `e`, cause `c`
the input is not JSON                   `InvalidInput`
the result is not JSON-serialisable     `InvalidOutput`
an ``HttpError`` escaped                its `Http.*` name (see :mod:`stepwasm.http`)
any other exception escaped             `Runtime.Panic`, cause = the exception and its traceback
======================================  ==========================================================

Module-level code runs once, when the component is *built*: componentize-py snapshots the
initialised interpreter, and every call starts from that snapshot in a fresh instance, so nothing
a call changes reaches the next one. Read configuration and make requests inside the handler,
where the host is there to answer. The host grants no files, network or environment variables;
outbound HTTP goes only to the origins the function was deployed with, and configuration comes
through :mod:`stepwasm.config`.
"""

from . import config, http, log
from ._task import Context, Handler, TaskError, details, handler, run_for_test
from .http import HttpError

__all__ = [
    "Context",
    "Handler",
    "HttpError",
    "TaskError",
    "config",
    "details",
    "handler",
    "http",
    "log",
    "run_for_test",
]
