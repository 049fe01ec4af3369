//! End-to-end tests: one binary, so the 2-core CI links once.

mod aws_clients;
mod bindings;
mod concurrency;
mod conformance;
mod console_api;
mod distributed_map;
mod fake_invoker;
mod functions;
mod http_stub;
mod http_task;
mod mocked_executions;
mod nested_executions;
mod nodes;
mod outbound;
mod parking;
mod pipeline;
mod polyglot;
mod quota;
mod runtime;
mod support;
mod test_state;
mod traces;
