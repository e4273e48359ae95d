//! Operations: the bot's Prometheus metrics ([`Metrics`], a handle every layer may count
//! through) and the optional HTTP listener with `/healthz`, `/readyz` and `/metrics`
//! (`[ops]` settings; off by default).
//!
//! - `metrics`: the registry, one per app, and the readiness signals (gateway, last pass);
//! - `server`: the axum listener and the readiness decision (pure, tested).

mod metrics;
mod server;

pub use metrics::{Metrics, PREFIX};
pub use server::{PASS_SLACK, Probe, RunningOps, not_ready, serve};
