//! The bot's Prometheus metrics: one registry per app (no process-global recorder), so two bots
//! in one process (the tests run many) count apart. Labels carry names, outcomes and codes only,
//! never ticket ids or texts.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::time::Instant;

/// The prefix of every metric name.
pub const PREFIX: &str = "otb";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrangeLabels {
    operation: String,
    /// The HTTP status code, or `none` when no answer came (connection lost, timeout).
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DiscordLabels {
    /// The HTTP status, or `none` (no answer).
    status: String,
    /// Discord's JSON error code, or `none`.
    code: String,
}

/// A cheap handle on this app's metrics and the signals `/readyz` reads.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    orange_requests: Family<OrangeLabels, Counter>,
    orange_retries: Family<OperationLabels, Counter>,
    token_fetches: Family<ResultLabels, Counter>,
    watcher_pass_seconds: Histogram,
    watcher_passes: Counter,
    watcher_changes: Counter,
    outbox_depth: Gauge,
    outbox_oldest_age_seconds: Gauge,
    discord_errors: Family<DiscordLabels, Counter>,
    gateway_connected: Gauge,
    /// `NO_GATEWAY`, `DISCONNECTED` or `CONNECTED`.
    gateway: AtomicU8,
    last_pass: Mutex<Option<Instant>>,
}

const NO_GATEWAY: u8 = 0;
const DISCONNECTED: u8 = 1;
const CONNECTED: u8 = 2;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered (at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let commands = Family::default();
        registry.register(
            "commands",
            "Commands run, by command and outcome",
            commands.clone(),
        );
        let orange_requests = Family::default();
        registry.register(
            "orange_requests",
            "HTTP exchanges with Orange (token endpoint included), by operation and status",
            orange_requests.clone(),
        );
        let orange_retries = Family::default();
        registry.register(
            "orange_retries",
            "Orange calls sent again after a retryable failure, by operation",
            orange_retries.clone(),
        );
        let token_fetches = Family::default();
        registry.register(
            "orange_token_fetches",
            "Access token fetches, by result (ok, failed)",
            token_fetches.clone(),
        );
        let watcher_pass_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "watcher_pass_duration_seconds",
            "Time one watcher pass took",
            watcher_pass_seconds.clone(),
        );
        let watcher_passes = Counter::default();
        registry.register(
            "watcher_passes",
            "Watcher passes completed",
            watcher_passes.clone(),
        );
        let watcher_changes = Counter::default();
        registry.register(
            "watcher_changes",
            "Ticket changes the watcher found",
            watcher_changes.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Notifications waiting in the outbox",
            outbox_depth.clone(),
        );
        let outbox_oldest_age_seconds = Gauge::default();
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest notification in the outbox (0 when empty)",
            outbox_oldest_age_seconds.clone(),
        );
        let discord_errors = Family::default();
        registry.register(
            "discord_errors",
            "Discord requests that failed, by HTTP status and Discord error code",
            discord_errors.clone(),
        );
        let gateway_connected = Gauge::default();
        registry.register(
            "discord_gateway_connected",
            "1 while the Discord gateway is connected",
            gateway_connected.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                commands,
                orange_requests,
                orange_retries,
                token_fetches,
                watcher_pass_seconds,
                watcher_passes,
                watcher_changes,
                outbox_depth,
                outbox_oldest_age_seconds,
                discord_errors,
                gateway_connected,
                gateway: AtomicU8::new(NO_GATEWAY),
                last_pass: Mutex::new(None),
            }),
        }
    }

    /// A command ran; `outcome` is `ok` or the kind of failure.
    pub fn command(&self, command: &'static str, outcome: &'static str) {
        self.inner
            .commands
            .get_or_create(&CommandLabels { command, outcome })
            .inc();
    }

    /// One exchange with Orange: its HTTP status, or `None` when no answer came.
    pub fn orange_request(&self, operation: impl std::fmt::Display, status: Option<u16>) {
        let labels = OrangeLabels {
            operation: operation.to_string(),
            status: status.map_or_else(|| "none".into(), |s| s.to_string()),
        };
        self.inner.orange_requests.get_or_create(&labels).inc();
    }

    /// An Orange call is sent again.
    pub fn orange_retry(&self, operation: impl std::fmt::Display) {
        let labels = OperationLabels {
            operation: operation.to_string(),
        };
        self.inner.orange_retries.get_or_create(&labels).inc();
    }

    /// A token fetch ended.
    pub fn token_fetch(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.inner
            .token_fetches
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// A watcher pass ended: how long it took and how many changes it found. `/readyz` reads
    /// when.
    pub fn watcher_pass(&self, took: Duration, changes: usize) {
        self.inner.watcher_pass_seconds.observe(took.as_secs_f64());
        self.inner.watcher_passes.inc();
        self.inner.watcher_changes.inc_by(changes as u64);
        *self
            .inner
            .last_pass
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// When the last watcher pass ended, if one did.
    pub fn last_pass(&self) -> Option<Instant> {
        *self
            .inner
            .last_pass
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The outbox as last read.
    pub fn outbox(&self, depth: usize, oldest_age: Duration) {
        self.inner
            .outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.inner
            .outbox_oldest_age_seconds
            .set(i64::try_from(oldest_age.as_secs()).unwrap_or(i64::MAX));
    }

    /// A Discord request failed: its HTTP status and Discord's error code, when known.
    pub fn discord_error(&self, status: Option<u16>, code: Option<isize>) {
        let labels = DiscordLabels {
            status: status.map_or_else(|| "none".into(), |s| s.to_string()),
            code: code.map_or_else(|| "none".into(), |c| c.to_string()),
        };
        self.inner.discord_errors.get_or_create(&labels).inc();
    }

    /// This app has a Discord gateway, now connected or not (a console app never calls this,
    /// and `/readyz` then does not ask for one).
    pub fn gateway(&self, connected: bool) {
        let state = if connected { CONNECTED } else { DISCONNECTED };
        self.inner.gateway.store(state, Ordering::SeqCst);
        self.inner.gateway_connected.set(i64::from(connected));
    }

    /// `None` without a gateway; else whether it is connected.
    pub fn gateway_state(&self) -> Option<bool> {
        match self.inner.gateway.load(Ordering::SeqCst) {
            NO_GATEWAY => None,
            state => Some(state == CONNECTED),
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_apps_count_apart_and_names_carry_the_prefix() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.command("show", "ok");
        a.command("show", "ok");
        a.orange_request("get_ticket", Some(503));
        a.token_fetch(false);
        let text = a.render();
        assert!(
            text.contains(r#"otb_commands_total{command="show",outcome="ok"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"otb_orange_requests_total{operation="get_ticket",status="503"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"otb_orange_token_fetches_total{result="failed"} 1"#),
            "{text}"
        );
        assert!(!b.render().contains("command=\"show\""), "b counted a's");
        assert_eq!(b.gateway_state(), None);
        b.gateway(true);
        assert_eq!(b.gateway_state(), Some(true));
    }
}
