//! The optional HTTP listener: `/healthz`, `/readyz` and `/metrics`, served by axum as a task the
//! app owns. Answers carry no ticket data: readiness reasons are fixed sentences.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Metrics;
use crate::store::Store;

/// Slack over three watcher intervals before the last pass counts as stale (a slow pass, a
/// loaded machine).
pub const PASS_SLACK: Duration = Duration::from_secs(30);

/// What the probes read.
#[derive(Debug, Clone)]
pub struct Probe {
    pub metrics: Metrics,
    pub store: Store,
    /// The watcher's interval when it runs; `None`: no watcher, no pass required.
    pub watcher_interval: Option<Duration>,
}

/// The listener, running until [`RunningOps::stop`].
#[derive(Debug)]
pub struct RunningOps {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningOps {
    /// Where it listens (the port chosen when the setting said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits (at most 5 s) for the answers in progress.
    pub async fn stop(self) {
        self.cancel.cancel();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Binds `addr` and serves the probes in a task of its own.
pub async fn serve(addr: SocketAddr, probe: Probe) -> std::io::Result<RunningOps> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probe);
    let cancel = CancellationToken::new();
    let stopped = cancel.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the health and metrics listener failed");
        }
    });
    tracing::info!(%addr, "health and metrics listening");
    Ok(RunningOps { addr, cancel, task })
}

async fn readyz(State(probe): State<Probe>) -> impl IntoResponse {
    let store_ok = refresh_outbox(&probe).await;
    let reasons = not_ready(
        probe.metrics.gateway_state(),
        store_ok,
        probe.metrics.last_pass(),
        probe.watcher_interval,
        Instant::now(),
    );
    if reasons.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        let mut body = String::from("not ready:\n");
        for r in reasons {
            body.push_str("- ");
            body.push_str(r);
            body.push('\n');
        }
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

async fn metrics(State(probe): State<Probe>) -> impl IntoResponse {
    refresh_outbox(&probe).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        probe.metrics.render(),
    )
}

/// Reads the outbox into its gauges; whether the store answered.
async fn refresh_outbox(probe: &Probe) -> bool {
    match probe.store.outbox_stats().await {
        Ok((depth, oldest)) => {
            let age = oldest
                .and_then(|t| (chrono::Utc::now() - t).to_std().ok())
                .unwrap_or_default();
            probe.metrics.outbox(depth, age);
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store did not answer");
            false
        }
    }
}

/// Why the bot is not ready (empty: ready). Pure: `now` is given.
pub fn not_ready(
    gateway: Option<bool>,
    store_ok: bool,
    last_pass: Option<Instant>,
    watcher_interval: Option<Duration>,
    now: Instant,
) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    if gateway == Some(false) {
        reasons.push("the Discord gateway is not connected");
    }
    if !store_ok {
        reasons.push("the store does not answer");
    }
    if let Some(interval) = watcher_interval {
        let allowed = interval * 3 + PASS_SLACK;
        match last_pass {
            None => reasons.push("no watcher pass yet"),
            Some(t) if now.saturating_duration_since(t) > allowed => {
                reasons.push("the last watcher pass is too old")
            }
            Some(_) => {}
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_names_each_missing_condition() {
        let now = Instant::now();
        let minute = Some(Duration::from_secs(60));
        assert!(
            not_ready(None, true, None, None, now).is_empty(),
            "console, no watcher"
        );
        assert!(not_ready(Some(true), true, Some(now), minute, now).is_empty());
        assert_eq!(
            not_ready(Some(false), false, None, minute, now),
            [
                "the Discord gateway is not connected",
                "the store does not answer",
                "no watcher pass yet"
            ]
        );
        let fresh = now + Duration::from_secs(209);
        let stale = now + Duration::from_secs(211);
        assert!(not_ready(None, true, Some(now), minute, fresh).is_empty());
        assert_eq!(
            not_ready(None, true, Some(now), minute, stale),
            ["the last watcher pass is too old"]
        );
    }
}
