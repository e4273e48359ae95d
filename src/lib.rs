//! Orange Wholesale trouble tickets in Discord.
//!
//! - [`domain`]: tickets, statuses, ids and the diff of two snapshots (no I/O);
//! - [`orange`]: the Orange API wire models, their quirks and conversion to the domain;
//! - [`config`]: the one typed `Settings` (file, then environment; secrets redacted);
//! - [`telemetry`]: tracing set-up;
//! - [`discord`]: the Discord transport (poise commands, error handler);
//! - [`sandbox`]: the Orange simulator (axum) the bot and the tests run against;
//! - [`watcher`]: polls Orange and delivers each change exactly once (the outbox, a `Notifier`);
//! - [`cli`]: the command line; [`app`]: wires the parts together for each mode.

pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod core;
pub mod discord;
pub mod domain;
pub mod orange;
pub mod render;
pub mod sandbox;
pub mod store;
pub mod telemetry;
pub mod watcher;
