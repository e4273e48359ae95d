//! Orange Wholesale trouble tickets in Discord. Dependencies point inward: the transports
//! (`discord`, `console`) call `core`, which uses `orange`, `store` and `domain`; `render` words the
//! outcomes; `app` wires it all (`tests/layering.rs` checks the imports).
//!
//! - [`domain`]: tickets, statuses, ids, actors and the diff of two snapshots (no I/O);
//! - [`orange`]: the Orange API client (token cache, retries, typed errors), its wire models and
//!   their quirks, conversion to the domain;
//! - [`store`]: the bot's memory in sled (links, snapshots, teams, outbox, audit) behind a typed API;
//! - [`core`]: the use cases (create, comment, show, search, link, follow, ...), authorization and
//!   audit; the `Command` every transport produces and the `Outcome` it gets back;
//! - [`render`]: domain values and outcomes -> neutral cards and sentences -> terminal text;
//! - [`watcher`]: polls Orange and delivers each change exactly once (the outbox, a `Notifier`);
//! - [`discord`]: the Discord transport (poise commands, components, threads, error handler);
//! - [`console`]: the terminal transport (a line -> a `Command`; interactive or a piped script);
//! - [`sandbox`]: the Orange simulator (axum) the bot and the tests run against;
//! - [`config`]: the one typed `Settings` (file, then environment; secrets redacted);
//! - [`telemetry`]: tracing set-up; [`ops`]: Prometheus metrics and the optional `/healthz`,
//!   `/readyz`, `/metrics` listener;
//! - [`cli`]: the command line; [`app`]: wires the parts together for each mode and owns their
//!   lifetime;
//! - [`check`]: `orange-ticket-bot check`, a live diagnosis of the settings, Orange and Discord.

pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod console;
pub mod core;
pub mod discord;
pub mod domain;
pub mod ops;
pub mod orange;
pub mod render;
pub mod sandbox;
pub mod store;
pub mod telemetry;
pub mod watcher;
