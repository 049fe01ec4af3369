"""Structured log lines, kept by the host with the invocation's report.

``print`` works too (stdout is captured, up to a size cap), but log lines keep their level::

    from stepwasm import log
    log.info("order %s scored %d", order_id, score)

Arguments are formatted with ``%``, as with the standard `logging` module, and only when the line
is sent. Outside Wasm (a handler's native unit tests) lines go to stderr.
"""

from __future__ import annotations

import sys
from typing import Any

from . import _wit

__all__ = ["trace", "debug", "info", "warn", "error"]


def _send(level: str, message: str, args: tuple[Any, ...]) -> None:
    text = message % args if args else message
    if _wit.IN_WASM:
        host = _wit.imports("host")
        host.log(host.Level[level], text)
    else:
        print(f"[{level}] {text}", file=sys.stderr)


def trace(message: str, *args: Any) -> None:
    """Logs at `trace` level: detail that is only useful while debugging the function."""
    _send("TRACE", message, args)


def debug(message: str, *args: Any) -> None:
    """Logs at `debug` level."""
    _send("DEBUG", message, args)


def info(message: str, *args: Any) -> None:
    """Logs at `info` level: what the call did."""
    _send("INFO", message, args)


def warn(message: str, *args: Any) -> None:
    """Logs at `warn` level: something a person may want to look at."""
    _send("WARN", message, args)


def error(message: str, *args: Any) -> None:
    """Logs at `error` level."""
    _send("ERROR", message, args)
