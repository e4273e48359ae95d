//! Fault injection (latency, error statuses, early token expiry, malformed bodies) and the
//! per-operation call counters that let a test check how a client behaved.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// Orange's gateway code for an application refused access (403).
const ACCESS_DENIED: i64 = 50;

/// How many call timestamps each operation keeps.
const KEPT_CALL_TIMES: usize = 10_000;

/// The operations counted and faulted: the client's own list, so both sides agree.
pub use crate::orange::Operation;

/// Error injection for one operation: `{"rate": 0.3, "statuses": [503, 429], "retry_after_secs": 1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorFault {
    /// Probability (0..=1) that a call fails.
    pub rate: f64,
    /// The statuses to fail with; one is picked per failure from the seeded RNG.
    #[serde(default = "default_statuses")]
    pub statuses: Vec<u16>,
    /// `Retry-After` of 429 and 503 responses.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
}

fn default_statuses() -> Vec<u16> {
    vec![503]
}

fn default_retry_after() -> u64 {
    1
}

/// What goes wrong, set at start ([`super::SandboxOptions::faults`]) or at run time
/// (`PUT /_sandbox/faults`, [`super::SandboxControl::set_faults`]). The default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Added to every API response (token endpoint included), unless `latency_ms_by_op` names
    /// the operation.
    pub latency_ms: u64,
    /// Latency of single operations, e.g. `{"get_ticket": 800}`: a slow API call behind a fast
    /// token endpoint. Overrides `latency_ms` for the operations it names.
    pub latency_ms_by_op: BTreeMap<Operation, u64>,
    /// Error rates per operation.
    pub errors: BTreeMap<Operation, ErrorFault>,
    /// Probability per operation of a 200 whose body is broken JSON or the wrong shape.
    pub malformed_rate: BTreeMap<Operation, f64>,
    /// A token is answered "expired" (401, code 42) once it has served this many calls.
    pub token_expires_after_calls: Option<u64>,
    /// A token is answered "expired" this many sandbox-clock seconds after issue.
    pub token_expires_after_secs: Option<u64>,
    /// One-shot failures: the next call of the operation fails with the status, then the entry
    /// is consumed. Checked before `errors`.
    pub fail_next: Vec<(Operation, u16)>,
    /// Operations answered 403 code 50 ("Access denied"), as Orange's gateway answers an
    /// application that is not subscribed to the API.
    pub access_denied: Vec<Operation>,
    /// One-shot failures *after* the call was carried out: the state changes (a ticket is
    /// created, a comment added) but the answer is the error status, as when Orange's gateway
    /// times out behind a backend that did the work. Tests duplicate-avoidance on create.
    pub fail_after_processing: Vec<(Operation, u16)>,
}

/// The live fault configuration with its own seeded RNG, so that fault decisions depend only on
/// the seed and the sequence of calls.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub config: FaultConfig,
    rng: fastrand::Rng,
}

impl FaultState {
    pub fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            config,
            rng: fastrand::Rng::with_seed(seed ^ 0xFA17_FA17),
        }
    }

    /// The latency to add to a call of `op`.
    pub fn latency_ms(&self, op: Operation) -> u64 {
        self.config
            .latency_ms_by_op
            .get(&op)
            .copied()
            .unwrap_or(self.config.latency_ms)
    }

    /// The error to answer this call with, if any.
    pub fn inject(&mut self, op: Operation) -> Option<ApiError> {
        if self.config.access_denied.contains(&op) {
            return Some(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                ACCESS_DENIED,
                "Access denied",
                "Injected by the sandbox fault configuration: the application is not subscribed",
            ));
        }
        if let Some(i) = self.config.fail_next.iter().position(|(o, _)| *o == op) {
            let (_, status) = self.config.fail_next.remove(i);
            return Some(ApiError::injected(status, default_retry_after()));
        }
        let fault = self.config.errors.get(&op)?;
        if fault.rate <= 0.0 || fault.statuses.is_empty() || self.rng.f64() >= fault.rate {
            return None;
        }
        let status = fault.statuses[self.rng.usize(..fault.statuses.len())];
        Some(ApiError::injected(status, fault.retry_after_secs))
    }

    /// The error to answer with although the call was carried out, if one is queued.
    pub fn fail_after_processing(&mut self, op: Operation) -> Option<ApiError> {
        let queue = &mut self.config.fail_after_processing;
        let i = queue.iter().position(|(o, _)| *o == op)?;
        let (_, status) = queue.remove(i);
        Some(ApiError::injected(status, default_retry_after()))
    }

    /// `body`, or a broken version of it when the malformed rate says so.
    pub fn malform(&mut self, op: Operation, body: String) -> String {
        let rate = self.config.malformed_rate.get(&op).copied().unwrap_or(0.0);
        if rate <= 0.0 || self.rng.f64() >= rate {
            return body;
        }
        match self.rng.u8(..3) {
            // Cut mid-document, as a dropped connection would.
            0 => {
                let cut = (body.len() / 2).max(1);
                let cut = (0..=cut.min(body.len()))
                    .rev()
                    .find(|i| body.is_char_boundary(*i))
                    .unwrap_or(0);
                let mut broken = body[..cut].to_owned();
                if broken.is_empty() {
                    broken.push('{');
                }
                broken
            }
            // Valid JSON, wrong shape.
            1 => r#"{"result":{"unexpected":true},"items":null}"#.to_owned(),
            // What a proxy in the way sends.
            _ => "<html><body><h1>502 Bad Gateway</h1></body></html>".to_owned(),
        }
    }
}

/// Calls of one operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationCounters {
    /// Every call, whatever its outcome.
    pub calls: u64,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Monotonic milliseconds since the sandbox started, one per call (the last 10,000).
    pub call_times_ms: VecDeque<u64>,
}

/// What the sandbox has served, per operation. Operations never called are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    pub operations: BTreeMap<Operation, OperationCounters>,
}

impl Counters {
    /// The counters of one operation (zero when it was never called).
    pub fn get(&self, op: Operation) -> OperationCounters {
        self.operations.get(&op).cloned().unwrap_or_default()
    }

    /// Calls of one operation.
    pub fn calls(&self, op: Operation) -> u64 {
        self.operations.get(&op).map_or(0, |c| c.calls)
    }

    /// Responses of one operation with the given status.
    pub fn responses(&self, op: Operation, status: u16) -> u64 {
        self.operations
            .get(&op)
            .and_then(|c| c.statuses.get(&status).copied())
            .unwrap_or(0)
    }

    /// Calls of every operation.
    pub fn total_calls(&self) -> u64 {
        self.operations.values().map(|c| c.calls).sum()
    }

    pub(crate) fn record_call(&mut self, op: Operation, at_ms: u64) {
        let c = self.operations.entry(op).or_default();
        c.calls += 1;
        if c.call_times_ms.len() == KEPT_CALL_TIMES {
            c.call_times_ms.pop_front();
        }
        c.call_times_ms.push_back(at_ms);
    }

    pub(crate) fn record_status(&mut self, op: Operation, status: u16) {
        *self
            .operations
            .entry(op)
            .or_default()
            .statuses
            .entry(status)
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> FaultConfig {
        FaultConfig {
            errors: [(
                Operation::Search,
                ErrorFault {
                    rate: 0.5,
                    statuses: vec![429, 503],
                    retry_after_secs: 2,
                },
            )]
            .into(),
            malformed_rate: [(Operation::GetTicket, 1.0)].into(),
            fail_next: vec![(Operation::Search, 500)],
            ..FaultConfig::default()
        }
    }

    fn decisions(seed: u64) -> Vec<Option<u16>> {
        let mut f = FaultState::new(config(), seed);
        (0..50)
            .map(|_| f.inject(Operation::Search).map(|e| e.status.as_u16()))
            .collect()
    }

    #[test]
    fn decisions_depend_only_on_the_seed_and_the_calls() {
        let a = decisions(9);
        assert_eq!(a, decisions(9));
        assert_eq!(a[0], Some(500), "the one-shot failure comes first");
        assert!(
            a[1..].contains(&None) && a[1..].contains(&Some(429)) && a[1..].contains(&Some(503))
        );
        assert!(!a[1..].contains(&Some(500)), "and only once");
    }

    #[test]
    fn a_malformed_body_is_never_the_good_one() {
        let mut f = FaultState::new(config(), 1);
        let good = r#"{"ticket":{"id":"1"}}"#.to_owned();
        for _ in 0..20 {
            assert_ne!(f.malform(Operation::GetTicket, good.clone()), good);
        }
        assert_eq!(f.malform(Operation::Search, good.clone()), good);
    }

    #[test]
    fn the_config_reads_its_documented_json() {
        let c: FaultConfig = serde_json::from_str(
            r#"{"latency_ms": 5, "latency_ms_by_op": {"get_ticket": 800}, "errors": {"search": {"rate": 0.3, "statuses": [503, 429], "retry_after_secs": 1}},
                "malformed_rate": {"get_ticket": 0.1}, "fail_next": [["token", 429]]}"#,
        )
        .expect("parses");
        assert_eq!(c.errors[&Operation::Search].statuses, vec![503, 429]);
        assert_eq!(c.fail_next, vec![(Operation::Token, 429)]);
        let f = FaultState::new(c, 1);
        assert_eq!(f.latency_ms(Operation::GetTicket), 800);
        assert_eq!(
            f.latency_ms(Operation::Token),
            5,
            "the others keep latency_ms"
        );
        assert!(serde_json::from_str::<FaultConfig>(r#"{"latency": 5}"#).is_err());
    }
}
