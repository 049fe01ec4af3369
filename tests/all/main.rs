//! End-to-end tests: one binary, so the 2-core CI links once.

mod runtime;
