//! End-to-end tests: the real bot (serenity + poise, unmodified) against a fake Discord on
//! loopback, an Orange sandbox and a sled store on disk, plus the self-tests of that fake.

// The fake Discord and the bots under test: tests/support, outside this target's directory.
#[path = "../support/mod.rs"]
mod support;

mod board;
mod bot;
mod cards;
mod changes;
mod check;
mod crash;
mod digest;
mod faults;
mod harness;
mod notify;
mod nudges;
mod ops;
mod report;
mod send_to_orange;
mod shutdown;
mod soak;
mod team;
mod tickets;
mod watcher;
