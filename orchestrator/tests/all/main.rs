//! Integration tests of the `stepwasm` binary: one test binary, so CI links once.

mod crash;
