//! Support for other crates' tests (feature `postgres-test-server`).

pub use crate::store::postgres::test_server::{TestServer, Unavailable};
