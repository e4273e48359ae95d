//! End-to-end tests: the real bot (serenity + poise, unmodified) against a fake Discord on
//! loopback, plus the self-tests of that fake.

mod support;

#[path = "e2e/harness.rs"]
mod harness;

#[path = "e2e/bot.rs"]
mod bot;
