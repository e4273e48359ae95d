//! The OAuth token endpoint (client credentials) and the bearer check of every API call.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};

use super::error::{ApiError, code};
use super::faults::{FaultConfig, Operation};
use super::server::{AppState, Inner, Reply, gateway};

/// The tokens the sandbox has issued.
#[derive(Debug)]
pub(crate) struct Tokens {
    issued: HashMap<String, TokenRecord>,
    rng: fastrand::Rng,
    count: u64,
}

#[derive(Debug)]
struct TokenRecord {
    issued_at: DateTime<Utc>,
    calls: u64,
}

impl Tokens {
    pub fn new(seed: u64) -> Self {
        Self {
            issued: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x70CE),
            count: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.issued.len()
    }

    /// Issues a token, first dropping the expired ones and, when `max` are still kept, the oldest.
    fn issue(&mut self, now: DateTime<Utc>, ttl: Duration, max: usize) -> serde_json::Value {
        self.issued
            .retain(|_, r| !older_than(now - r.issued_at, ttl.as_secs()));
        while self.issued.len() >= max.max(1) {
            let Some(oldest) = self
                .issued
                .iter()
                .min_by_key(|(_, r)| r.issued_at)
                .map(|(t, _)| t.clone())
            else {
                break;
            };
            self.issued.remove(&oldest);
        }
        let token: String = (0..40).map(|_| self.rng.alphanumeric()).collect();
        self.issued.insert(
            token.clone(),
            TokenRecord {
                issued_at: now,
                calls: 0,
            },
        );
        let secs = ttl.as_secs();
        // Why: the real gateway sends `expires_in` as a number or as a numeric string; clients
        // must read both, so the sandbox alternates.
        let expires_in = if self.count.is_multiple_of(2) {
            serde_json::json!(secs)
        } else {
            serde_json::json!(secs.to_string())
        };
        self.count += 1;
        serde_json::json!({
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": expires_in,
        })
    }

    /// Checks a bearer token and counts the call against it.
    pub fn check(
        &mut self,
        headers: &HeaderMap,
        now: DateTime<Utc>,
        ttl: Duration,
        faults: &FaultConfig,
    ) -> Result<(), ApiError> {
        let unauthorized = |code, message: &str, description: &str| {
            ApiError::new(StatusCode::UNAUTHORIZED, code, message, description)
        };
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(unauthorized(
                code::MISSING_CREDENTIALS,
                "Missing credentials",
                "The request omitted the Authorization: Bearer header",
            ));
        };
        let Some(record) = self.issued.get_mut(token) else {
            return Err(unauthorized(
                code::INVALID_CREDENTIALS,
                "Invalid credentials",
                "The access token is unknown",
            ));
        };
        let age = now - record.issued_at;
        let expired = older_than(age, ttl.as_secs())
            || faults
                .token_expires_after_secs
                .is_some_and(|secs| older_than(age, secs))
            || faults
                .token_expires_after_calls
                .is_some_and(|n| record.calls >= n);
        if expired {
            // Why: the gateway wraps this one error as `{"error": {...}}`; clients read both shapes.
            return Err(ApiError {
                wrapped: true,
                ..unauthorized(
                    code::EXPIRED_CREDENTIALS,
                    "Expired credentials",
                    "The access token has expired",
                )
            });
        }
        record.calls += 1;
        Ok(())
    }
}

/// Whether `age` has reached `secs`; a lifetime too long for chrono never has (no panic).
fn older_than(age: TimeDelta, secs: u64) -> bool {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .is_some_and(|limit| age >= limit)
}

/// `POST {token_path}`: Basic client credentials, form body `grant_type=client_credentials`.
pub(crate) async fn token(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client_id, client_secret, ttl, max) = (
        shared.opts.client_id.clone(),
        shared.opts.client_secret.clone(),
        shared.opts.token_ttl,
        shared.opts.max_issued_tokens,
    );
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok());
    gateway(
        &shared,
        Operation::Token,
        &headers,
        move |inner: &mut Inner| {
            let valid = credentials
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .is_some_and(|(id, secret)| id == client_id && secret == client_secret);
            if !valid {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    code::INVALID_CREDENTIALS,
                    "Invalid credentials",
                    "Basic authentication with a valid client_id:client_secret is required",
                ));
            }
            let grant = url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "grant_type")
                .map(|(_, v)| v.into_owned());
            if grant.as_deref() != Some("client_credentials") {
                return Err(ApiError::bad_request(
                    "grant_type must be client_credentials",
                ));
            }
            let now = inner.world.now();
            Ok(Reply::json_value(&inner.tokens.issue(now, ttl, max)))
        },
    )
    .await
}
