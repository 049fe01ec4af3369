//! Integration tests of the `stepwasm` binary: one test binary, so CI links once.

mod access;
mod console_browser;
mod crash;
mod demo;
mod new_function;
mod workflow_tests;
