//! Deadlines and backoff: how long a caller is willing to wait, and how long to wait between tries.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

use crate::config::RetrySettings;

/// The latest moment a caller wants an answer by; retries stop before it.
///
/// A deadline is either bounded by the policy's attempt limit too ([`Deadline::after`]: someone is
/// waiting, and a few quick failures say enough) or by time alone ([`Deadline::patient`]:
/// background work that should wait out an outage rather than give up after a few seconds).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
    attempts: Attempts,
}

/// What ends a retry loop besides the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempts {
    /// The policy's `max_attempts`.
    Limited,
    /// Nothing: retry, backing off up to the policy's cap, until the deadline.
    UntilDeadline,
}

impl Deadline {
    /// `budget` from now, and at most the policy's attempts within it.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now() + budget,
            budget,
            attempts: Attempts::Limited,
        }
    }

    /// `budget` from now, retrying as often as the backoff allows within it.
    pub fn patient(budget: Duration) -> Self {
        Deadline {
            attempts: Attempts::UntilDeadline,
            ..Self::after(budget)
        }
    }

    /// Whether the policy's attempt limit applies (it does not to a [`Deadline::patient`] one).
    pub fn limits_attempts(&self) -> bool {
        self.attempts == Attempts::Limited
    }

    /// Time left, or `None` once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The whole budget this deadline was created with.
    pub fn budget(&self) -> Duration {
        self.budget
    }
}

/// Bounds of the retry loop.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The token endpoint: a few tries, gently (it is rate-limited to about 50 requests a minute);
    /// for a patient deadline, as many as fit, at most one per `max_delay` once backed off.
    pub const TOKEN: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(10),
    };

    pub fn from_settings(s: &RetrySettings) -> Self {
        RetryPolicy {
            max_attempts: s.max_attempts,
            base_delay: Duration::from_millis(s.base_delay_ms),
            max_delay: Duration::from_millis(s.max_delay_ms),
        }
    }
}

/// The least time worth giving an attempt: retrying with less left is only another failure.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(100);

/// The delay before attempt `attempt + 1`, or `None` when no further attempt fits: attempts are
/// exhausted (unless the deadline is [`Deadline::patient`]), or the wait would end past the
/// deadline.
///
/// Exponential with "equal jitter" (half fixed, half random) so that retries are spread out but
/// never immediate; a server's `Retry-After` is a floor.
pub fn backoff(
    attempt: u32,
    retry_after: Option<Duration>,
    deadline: Deadline,
    policy: &RetryPolicy,
) -> Option<Duration> {
    if deadline.limits_attempts() && attempt >= policy.max_attempts {
        return None;
    }
    let exp = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(policy.max_delay);
    let half = exp / 2;
    let jitter = Duration::from_micros(fastrand::u64(0..=half.as_micros() as u64));
    let delay = (half + jitter).max(retry_after.unwrap_or_default());
    let remaining = deadline.remaining()?;
    // Leave room for the next attempt itself to get an answer.
    (delay + MIN_ATTEMPT < remaining).then_some(delay)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Orange's gateway).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        // `try_`: a value like 1e20 must not panic; anything past a day is not a real hint.
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(|d| d.min(Duration::from_secs(86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(1000),
    };

    #[tokio::test]
    async fn delays_grow_stay_jittered_and_respect_the_cap() {
        let deadline = Deadline::after(Duration::from_secs(60));
        for attempt in 1..5 {
            let exp = (100u64 << (attempt - 1)).min(1000);
            for _ in 0..50 {
                let d = backoff(attempt, None, deadline, &POLICY).expect("fits");
                assert!(d >= Duration::from_millis(exp / 2), "{attempt}: {d:?}");
                assert!(d <= Duration::from_millis(exp), "{attempt}: {d:?}");
            }
        }
        assert_eq!(
            backoff(5, None, deadline, &POLICY),
            None,
            "attempts exhausted"
        );
    }

    #[tokio::test]
    async fn retry_after_is_a_floor_and_the_deadline_a_ceiling() {
        let deadline = Deadline::after(Duration::from_secs(60));
        let d = backoff(1, Some(Duration::from_secs(3)), deadline, &POLICY).expect("fits");
        assert_eq!(d, Duration::from_secs(3));
        let short = Deadline::after(Duration::from_secs(2));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3)), short, &POLICY),
            None
        );
    }

    #[tokio::test]
    async fn a_patient_deadline_outlasts_the_attempt_limit_with_capped_delays() {
        let patient = Deadline::patient(Duration::from_secs(60));
        for attempt in [5, 6, 40, u32::MAX] {
            let d = backoff(attempt, None, patient, &POLICY).expect("time is left");
            assert!(
                d >= POLICY.max_delay / 2 && d <= POLICY.max_delay,
                "{attempt}: {d:?}"
            );
        }
        let d = backoff(9, Some(Duration::from_secs(3)), patient, &POLICY).expect("fits");
        assert_eq!(d, Duration::from_secs(3), "Retry-After still a floor");
        let nearly_over = Deadline::patient(Duration::from_millis(600));
        assert_eq!(
            backoff(9, None, nearly_over, &POLICY),
            None,
            "the deadline still ends it"
        );
    }

    #[test]
    fn retry_after_header_is_read_in_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
