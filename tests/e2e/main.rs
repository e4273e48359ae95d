//! End-to-end tests: the real bot (serenity + poise, unmodified) against a fake Discord on
//! loopback, an Orange sandbox and a sled store on disk, plus the self-tests of that fake.

// The fake Discord and the bots under test: tests/support, outside this target's directory.
#[path = "../support/mod.rs"]
mod support;

mod board;
mod bot;
mod cards;
mod check;
mod crash;
mod digest;
mod faults;
mod harness;
mod ops;
mod shutdown;
mod team;
mod tickets;
mod watcher;
