"""Access to the bindings componentize-py generates for the `stepwasm:task` world.

The bindings (`wit_world`, `componentize_py_types`) only exist inside a component being built by
componentize-py. Every SDK module reaches them through this one, so that the same code also
imports natively, where a handler's unit tests run without any host.
"""

from __future__ import annotations

import importlib
from types import ModuleType

try:
    import componentize_py_types as types  # noqa: F401  (used by the other SDK modules)

    IN_WASM = True
except ImportError:
    types = None
    IN_WASM = False

# The interfaces the SDK uses, by the module name componentize-py gives them.
_INTERFACES = ("host", "store", "outgoing_handler", "wasi_http_types", "streams", "poll", "error")
_modules: dict[str, ModuleType] = {}

if IN_WASM:
    # Imported now, while componentize-py initialises the component: only modules loaded before
    # its snapshot are inside the component, so a first import during a call would fail.
    for _name in _INTERFACES:
        try:
            _modules[_name] = importlib.import_module(f"wit_world.imports.{_name}")
        except ImportError:
            pass  # A world without this interface; using it fails in `imports` with its name.
    # componentize-py names an interface's module after the interface alone (`types`) unless
    # another imported interface has the same name, as `wasi:http/types` has in the task world;
    # then it qualifies both (`stepwasm_task_types`).
    for _name in ("stepwasm_task_types", "types"):
        try:
            _modules["task_types"] = importlib.import_module(f"wit_world.imports.{_name}")
            break
        except ImportError:
            pass


def imports(name: str) -> ModuleType:
    """The generated module of one imported interface, such as `host` or `outgoing_handler`."""
    try:
        return _modules[name]
    except KeyError:
        raise RuntimeError(f"the component's world does not import the interface stepwasm needs as {name!r}") from None


def task_types() -> ModuleType:
    """The generated module of `stepwasm:task/types`."""
    return imports("task_types")
