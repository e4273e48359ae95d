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

impl Inner {
    /// Registers every metric under its name and help (names get the prefix, counters `_total`).
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "commands",
            "Commands run, by outcome",
            self.commands.clone(),
        );
        let (requests, retries) = (self.orange_requests.clone(), self.orange_retries.clone());
        r.register("orange_requests", "HTTP exchanges with Orange", requests);
        r.register("orange_retries", "Orange calls sent again", retries);
        let fetches = self.token_fetches.clone();
        r.register("orange_token_fetches", "Access token fetches", fetches);
        let took = self.watcher_pass_seconds.clone();
        r.register("watcher_pass_duration_seconds", "One watcher pass", took);
        r.register(
            "watcher_passes",
            "Watcher passes",
            self.watcher_passes.clone(),
        );
        let changes = self.watcher_changes.clone();
        r.register("watcher_changes", "Ticket changes found", changes);
        let depth = self.outbox_depth.clone();
        r.register("outbox_depth", "Notifications waiting", depth);
        let age = self.outbox_oldest_age_seconds.clone();
        r.register("outbox_oldest_age_seconds", "Oldest waiting (0: none)", age);
        let errors = self.discord_errors.clone();
        r.register("discord_errors", "Failed Discord requests", errors);
        let connected = self.gateway_connected.clone();
        r.register("discord_gateway_connected", "1 while connected", connected);
        self
    }
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
        let inner = Inner {
            registry: Registry::with_prefix(PREFIX),
            commands: Family::default(),
            orange_requests: Family::default(),
            orange_retries: Family::default(),
            token_fetches: Family::default(),
            watcher_pass_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            watcher_passes: Counter::default(),
            watcher_changes: Counter::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age_seconds: Gauge::default(),
            discord_errors: Family::default(),
            gateway_connected: Gauge::default(),
            gateway: AtomicU8::new(NO_GATEWAY),
            last_pass: Mutex::new(None),
        };
        Metrics {
            inner: Arc::new(inner.registered()),
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
