//! Replication, sync, DC choice and attribute tests on the in-memory harness.

mod replication;
mod resources;
mod safe;
