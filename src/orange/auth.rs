//! OAuth 2.0 client-credentials tokens: fetched once, cached, refreshed a margin before expiry,
//! one refresh at a time (concurrent callers wait for the same refresh), and dropped on a 401.
//!
//! A failed refresh is shared too: the callers that waited for it get its error rather than each
//! asking again, and after a failure no request is made for a while (1 s, doubling on each
//! further failure up to a minute; a success resets it). The endpoint allows about 50 requests a
//! minute, and bad credentials must not turn a burst of calls into a burst of token requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use url::Url;

use super::convert::from_str;
use super::error::OrangeError;
use super::retry::{RetryPolicy, backoff};
use super::transport::{Answer, Refusal, Transport, classify};
use super::wire::TokenResponse;
use super::{Deadline, Operation};
use crate::config::OrangeCredentials;

/// A bearer token and when to stop using it. `generation` tells tokens apart, so a 401 for an old
/// token does not throw away a newer one fetched meanwhile.
#[derive(Clone)]
pub struct Token {
    pub secret: SecretString,
    pub generation: u64,
    refresh_at: Instant,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Token lifetimes accepted from the endpoint, in seconds; 0 means "not said".
const DEFAULT_LIFETIME_SECS: u64 = 3600;
const MIN_LIFETIME_SECS: u64 = 30;
const MAX_LIFETIME_SECS: u64 = 86_400;

#[derive(Debug)]
pub struct TokenCache {
    transport: Transport,
    token_url: Url,
    credentials: OrangeCredentials,
    margin: Duration,
    /// Longest wait for one token request (the deadline may cut it shorter).
    request_timeout: Duration,
    current: RwLock<Option<Token>>,
    /// Held while fetching: the one refresh everybody waits for.
    refresh: tokio::sync::Mutex<Refresh>,
    /// Fetches finished so far, successful or not: a caller that saw `n` before waiting for the
    /// lock knows a fetch ended while it waited when it reads more.
    fetches: AtomicU64,
}

/// What the refresh lock guards.
#[derive(Debug, Default)]
struct Refresh {
    /// The generation of the last token fetched.
    generation: u64,
    failed: Option<Failed>,
}

/// The last fetch failed.
#[derive(Debug)]
struct Failed {
    error: OrangeError,
    at: Instant,
    /// Failures in a row.
    streak: u32,
    /// The value of `fetches` once it had failed.
    seq: u64,
}

/// The pause after the first failed fetch, doubled per further failure, and its cap.
const FAILED_FETCH_PAUSE: Duration = Duration::from_secs(1);
const FAILED_FETCH_PAUSE_MAX: Duration = Duration::from_secs(60);

impl Failed {
    /// No fetch before this moment.
    fn pause_ends(&self) -> Instant {
        let pause = FAILED_FETCH_PAUSE
            .saturating_mul(2u32.saturating_pow(self.streak.saturating_sub(1)))
            .min(FAILED_FETCH_PAUSE_MAX);
        self.at + pause
    }
}

impl TokenCache {
    pub fn new(
        transport: Transport,
        token_url: Url,
        credentials: OrangeCredentials,
        margin: Duration,
        request_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(TokenCache {
            transport,
            token_url,
            credentials,
            margin,
            request_timeout,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(Refresh::default()),
            fetches: AtomicU64::new(0),
        })
    }

    fn cached(&self) -> Option<Token> {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .cloned()
    }

    /// A valid token, fetching one if none is cached or the cached one is about to expire. Fails
    /// without a request when a fetch failed while this caller waited, or too recently.
    pub async fn get(&self, deadline: Deadline) -> Result<Token, OrangeError> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let seen = self.fetches.load(Ordering::Acquire);
        // Wait for a refresh under way, but no longer than this caller may: an interactive call
        // must not hang on a slow refresh started by background work.
        let timed_out = || OrangeError::Timeout {
            op: Operation::Token,
            waited: deadline.budget(),
        };
        let wait = deadline.remaining().ok_or_else(timed_out)?;
        let mut refresh = tokio::time::timeout(wait, self.refresh.lock())
            .await
            .map_err(|_| timed_out())?;
        // Someone else may have refreshed while we waited for the lock.
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        if let Some(failed) = &refresh.failed
            && (failed.seq > seen || Instant::now() < failed.pause_ends())
        {
            tracing::debug!(error = %failed.error, "token fetch failed recently; not asking again yet");
            return Err(failed.error.clone());
        }
        let generation = refresh.generation + 1;
        let result = self.fetch(generation, deadline).await;
        let seq = self.fetches.fetch_add(1, Ordering::AcqRel) + 1;
        self.transport.metrics.token_fetch(result.is_ok());
        match result {
            Ok(token) => {
                *refresh = Refresh {
                    generation,
                    failed: None,
                };
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
                Ok(token)
            }
            Err(error) => {
                let streak = refresh.failed.as_ref().map_or(0, |f| f.streak) + 1;
                refresh.failed = Some(Failed {
                    error: error.clone(),
                    at: Instant::now(),
                    streak,
                    seq,
                });
                Err(error)
            }
        }
    }

    /// Forgets `token` after the API refused it (401), unless a newer one is already cached.
    pub fn invalidate(&self, token: &Token) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        if guard
            .as_ref()
            .is_some_and(|t| t.generation == token.generation)
        {
            *guard = None;
        }
    }

    /// Asks the token endpoint, retrying throttling, outages and lost requests within the
    /// deadline (gently: the endpoint allows about 50 requests a minute).
    async fn fetch(&self, generation: u64, deadline: Deadline) -> Result<Token, OrangeError> {
        let op = Operation::Token;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let Some(remaining) = deadline.remaining() else {
                return Err(OrangeError::Timeout {
                    op,
                    waited: deadline.budget(),
                });
            };
            let request = self
                .transport
                .http
                .post(self.token_url.clone())
                .basic_auth(
                    self.credentials.client_id.expose_secret(),
                    Some(self.credentials.client_secret.expose_secret()),
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&[("grant_type", "client_credentials")])
                .timeout(remaining.min(self.request_timeout));
            let (error, wait) = match self.transport.send(op, request).await {
                Ok(answer) => match self.token_of(answer, generation) {
                    Ok(token) => return Ok(token),
                    Err(Retry::Never(error)) => return Err(*error),
                    Err(Retry::After(error, wait)) => (*error, wait),
                },
                Err(lost) if !lost.retryable => return Err(lost.error),
                Err(lost) => {
                    tracing::warn!(error = %lost.error, attempt, "orange token request failed");
                    (lost.error, None)
                }
            };
            let Some(delay) = backoff(attempt, wait, deadline, &RetryPolicy::TOKEN) else {
                return Err(match error {
                    e @ OrangeError::Timeout { .. } => e,
                    e => OrangeError::Unavailable {
                        op,
                        detail: format!("token endpoint failing after {attempt} attempts: {e}"),
                        request_id: Default::default(),
                    },
                });
            };
            self.transport.metrics.orange_retry(op);
            tokio::time::sleep(delay).await;
        }
    }

    /// The token in an answer of the token endpoint, or whether to ask again.
    fn token_of(&self, answer: Answer, generation: u64) -> Result<Token, Retry> {
        let op = Operation::Token;
        let status = answer.status;
        match classify(status, &answer.headers, &answer.body) {
            Ok(()) => {}
            // Rate-limited (sometimes as 403 code 53) or down: wait as told, then ask again.
            Err(refusal) if refusal.retry().is_some() => {
                let wait = refusal.retry().flatten();
                return Err(Retry::After(
                    Box::new(refusal.into_error(op, status, answer.request_id)),
                    wait,
                ));
            }
            Err(Refusal::Unauthorized(_) | Refusal::Rejected(_) | Refusal::Forbidden(_)) => {
                return Err(Retry::Never(Box::new(OrangeError::CredentialsRejected {
                    status: status.as_u16(),
                })));
            }
            Err(refusal) => {
                return Err(Retry::Never(Box::new(OrangeError::Unexpected {
                    op,
                    status: status.as_u16(),
                    problem: match refusal {
                        Refusal::NotFound(p) | Refusal::Unexpected(p) => p,
                        _ => Default::default(),
                    },
                    request_id: answer.request_id,
                })));
            }
        }
        let parsed: TokenResponse = from_str(&answer.body).map_err(|e| {
            Retry::Never(Box::new(OrangeError::Malformed {
                op,
                path: e.path,
                reason: e.reason,
                request_id: answer.request_id.clone(),
            }))
        })?;
        tracing::info!(
            generation,
            expires_in = parsed.expires_in,
            "orange token acquired"
        );
        Ok(Token {
            secret: parsed.access_token,
            generation,
            refresh_at: Instant::now() + self.usable_for(parsed.expires_in),
        })
    }

    /// How long a token said to last `expires_in` seconds is used before refreshing.
    fn usable_for(&self, expires_in: u64) -> Duration {
        // A lifetime outside reason (0, or centuries) would mean a token request per call or an
        // overflow; Orange's tokens last an hour.
        let lifetime = Duration::from_secs(match expires_in {
            0 => DEFAULT_LIFETIME_SECS,
            n => n.clamp(MIN_LIFETIME_SECS, MAX_LIFETIME_SECS),
        });
        // Refresh a margin before expiry, but never use a token for less than half its life: a
        // short-lived token must not cause a refresh on every call.
        lifetime.saturating_sub(self.margin).max(lifetime / 2)
    }
}

/// A token request that did not give a token.
enum Retry {
    /// Asking again would get the same answer.
    Never(Box<OrangeError>),
    /// Ask again after at least this wait.
    After(Box<OrangeError>, Option<Duration>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pause_after_failed_fetches_doubles_up_to_its_cap() {
        let at = Instant::now();
        let pause = |streak| {
            Failed {
                error: OrangeError::CredentialsRejected { status: 401 },
                at,
                streak,
                seq: 1,
            }
            .pause_ends()
                - at
        };
        assert_eq!(pause(1), Duration::from_secs(1));
        assert_eq!(pause(2), Duration::from_secs(2));
        assert_eq!(pause(4), Duration::from_secs(8));
        assert_eq!(pause(7), Duration::from_secs(60));
        assert_eq!(pause(u32::MAX), Duration::from_secs(60));
    }
}
