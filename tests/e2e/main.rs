//! End-to-end tests: the real bot (serenity + poise, unmodified) against a fake Discord on
//! loopback, an Orange sandbox and a sled store on disk, plus the self-tests of that fake.

mod support;

#[path = "e2e/harness.rs"]
mod harness;

#[path = "e2e/bot.rs"]
mod bot;

#[path = "e2e/tickets.rs"]
mod tickets;

#[path = "e2e/team.rs"]
mod team;

#[path = "e2e/cards.rs"]
mod cards;

#[path = "e2e/watcher.rs"]
mod watcher;

#[path = "e2e/crash.rs"]
mod crash;
