"""The function's configuration: its deployed variables and the server secrets it was granted.

Both come through `wasi:config/store`, by name::

    from stepwasm import config
    api_key = config.get("PAYMENTS_API_KEY")
    if api_key is None:
        raise TaskError("NotConfigured", "PAYMENTS_API_KEY is not set")

A granted secret wins over a variable of the same name. Secret values are masked wherever the
host records text the function produced (logs, stdout, stderr, error causes and the output), so
logging one shows `***` rather than the value, but do not rely on that to hide derived values.

Outside Wasm (native unit tests) `get` reads the environment variable of the same name, so a
test can use ``unittest.mock.patch.dict(os.environ, {...})``.
"""

from __future__ import annotations

import os
from typing import Optional

from . import _wit

__all__ = ["get", "ConfigError"]


class ConfigError(RuntimeError):
    """The host could not read the configuration (not a missing name: that is `None`)."""


def get(name: str) -> Optional[str]:
    """The value of `name`, or `None` when the function has no variable or secret of that name."""
    if not _wit.IN_WASM:
        return os.environ.get(name)
    try:
        return _wit.imports("store").get(name)
    except _wit.types.Err as err:
        # A host-side failure, not something a workflow can act on: let it become a panic.
        raise ConfigError(f"reading configuration {name!r} failed: {err.value}") from None
