//! The Orange sandbox over real loopback HTTP: auth, every route and its validation, search
//! filters/sorting/paging, the lifecycle, fault injection, counters and determinism.
//!
//! Each test starts its own sandbox on port 0, so they run in parallel.
//!
//! One module per part of the sandbox; `harness` holds the shared set-up.

mod harness;

mod auth;
mod bounds;
mod config;
mod faults;
mod lifecycle;
mod persistence;
mod routes;
mod search;
mod validation;
