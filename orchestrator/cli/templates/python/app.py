"""{{name}}: a stepwasm task function.

- Input: `{"name": "Ada"}`.
- Output: `{"greeting": "Hello, Ada!", "attempt": 1}`.
- Errors: `InvalidName` when `name` is missing or empty; its cause is JSON,
  `{"field": "name", "problem": "..."}`, so a `Catch` can read it with `States.StringToJson($.Cause)`.
"""

import stepwasm
from stepwasm import TaskError, log


@stepwasm.handler
def handle(event: dict, ctx: stepwasm.Context) -> dict:
    """Called once per Task-state attempt with the state's input; returns the state's result."""
    name = event.get("name") if isinstance(event, dict) else None
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise TaskError("InvalidName", stepwasm.details({"field": "name", "problem": "must be a non-empty string"}))
    log.info("greeting %s on attempt %d", name, ctx.attempt)
    return {"greeting": f"Hello, {name}!", "attempt": ctx.attempt}
