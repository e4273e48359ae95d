//! The Orange API client: a cheap handle, the caller's [`Deadline`]s, and the one retry loop every
//! operation goes through (token, one exchange, decide, back off). The operations themselves are
//! in [`super::reads`] and [`super::writes`]; one exchange is [`super::transport`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tracing::Instrument;
use url::Url;

use super::auth::{Token, TokenCache};
use super::convert::WireError;
use super::error::{OrangeError, RequestId};
use super::retry::{RetryPolicy, backoff};
use super::transport::{Answer, Refusal, Transport, bearer, classify};
use super::{Deadline, Operation};
use crate::config::{OrangeCredentials, OrangeSettings};
use crate::domain::TicketId;
use crate::ops::Metrics;

/// A cheap, cloneable handle on the API.
#[derive(Debug, Clone)]
pub struct OrangeClient {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    transport: Transport,
    pub settings: OrangeSettings,
    auth: Arc<TokenCache>,
    application_id: Option<(HeaderName, SecretString)>,
    pub policy: RetryPolicy,
}

/// What came back from one successful exchange.
pub(super) struct Reply {
    pub headers: HeaderMap,
    pub body: String,
    pub request_id: RequestId,
}

/// A failed call, and whether the request may have been processed by Orange anyway.
pub(super) struct Failure {
    pub error: OrangeError,
    pub maybe_processed: bool,
}

/// One request to make, with its replay rule.
pub(super) struct Call<'a, B: ?Sized> {
    pub op: Operation,
    pub method: Method,
    pub url: Url,
    pub query: &'a [(String, String)],
    pub body: Option<&'a B>,
    pub replay: Replay,
}

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replay {
    Safe,
    /// Only retried when the request certainly did not reach Orange (connection refused, 429, 401).
    OnlyIfUnsent,
}

/// What one attempt came to, and so what the loop does next.
enum Step {
    Done(Reply),
    /// Try again after at least `wait`, if the attempts and the deadline allow.
    Retry {
        error: OrangeError,
        maybe_processed: bool,
        wait: Option<Duration>,
    },
    /// The API refused `token`: fetch a new one and try again, once.
    Refresh {
        error: OrangeError,
        token: Token,
    },
    Stop(Failure),
}

impl OrangeClient {
    pub fn new(
        settings: &OrangeSettings,
        credentials: OrangeCredentials,
        application_id: Option<SecretString>,
    ) -> Result<Self, reqwest::Error> {
        Self::with_metrics(settings, credentials, application_id, Metrics::new())
    }

    /// Like [`OrangeClient::new`], counting its calls, retries and token fetches in `metrics`.
    pub fn with_metrics(
        settings: &OrangeSettings,
        credentials: OrangeCredentials,
        application_id: Option<SecretString>,
        metrics: Metrics,
    ) -> Result<Self, reqwest::Error> {
        let transport = Transport::new(settings, metrics)?;
        let auth = TokenCache::new(
            transport.clone(),
            settings.token_url.clone(),
            credentials,
            settings.token_refresh_margin(),
            settings.request_timeout(),
        );
        // Header names were validated when the settings were loaded.
        let application_id = application_id.map(|id| {
            let name = HeaderName::from_bytes(settings.application_id_header.as_bytes())
                .unwrap_or_else(|_| HeaderName::from_static("x-invalid-header-name"));
            (name, id)
        });
        Ok(OrangeClient {
            inner: Arc::new(Inner {
                transport,
                auth,
                application_id,
                policy: RetryPolicy::from_settings(&settings.retry),
                settings: settings.clone(),
            }),
        })
    }

    /// The metrics this client counts in.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.transport.metrics
    }

    /// The deadline for a call a person is waiting on.
    pub fn interactive(&self) -> Deadline {
        Deadline::after(Duration::from_millis(
            self.inner.settings.retry.interactive_deadline_ms,
        ))
    }

    /// The deadline for a write (a new ticket, a comment): long enough to wait for a slow answer
    /// and to resolve an ambiguous failure.
    pub fn for_write(&self) -> Deadline {
        Deadline::after(Duration::from_millis(
            self.inner.settings.retry.write_deadline_ms,
        ))
    }

    /// The deadline for background work: it waits out an outage, retrying with capped backoff
    /// until the deadline however many attempts that takes (`orange.retry.max_attempts` is for
    /// calls someone is waiting on).
    pub fn background(&self) -> Deadline {
        Deadline::patient(Duration::from_millis(
            self.inner.settings.retry.background_deadline_ms,
        ))
    }

    /// Fetches a token (or reuses the cached one) without calling the API: `check` tells a
    /// credentials problem from an API one this way.
    pub async fn fetch_token(&self, deadline: Deadline) -> Result<(), OrangeError> {
        self.inner.auth.get(deadline).await.map(drop)
    }

    pub(super) fn url(&self, path: &str, id: Option<&TicketId>) -> Url {
        let base = self.inner.settings.base_url.as_str().trim_end_matches('/');
        let path = match id {
            // Ids are validated to URL-safe characters; encode anyway in case the rules widen.
            Some(id) => path.replace("{id}", &url_escape(id.as_str())),
            None => path.to_owned(),
        };
        Url::parse(&format!("{base}{path}"))
            .unwrap_or_else(|_| self.inner.settings.base_url.clone())
    }

    /// A GET, retried as the policy allows.
    pub(super) async fn read(
        &self,
        op: Operation,
        url: Url,
        query: &[(String, String)],
        deadline: Deadline,
    ) -> Result<Reply, OrangeError> {
        let call = Call::<()> {
            op,
            method: Method::GET,
            url,
            query,
            body: None,
            replay: Replay::Safe,
        };
        self.execute(call, deadline).await.map_err(|f| f.error)
    }

    /// One logical call: attempts until one succeeds, the answer is final, or the attempts or
    /// the deadline run out. A refused token is refreshed once.
    pub(super) async fn execute<B: Serialize + ?Sized>(
        &self,
        call: Call<'_, B>,
        deadline: Deadline,
    ) -> Result<Reply, Failure> {
        let span = tracing::info_span!("orange", op = %call.op);
        async move {
            let mut attempt = 0u32;
            let mut refreshed = false;
            loop {
                attempt += 1;
                let (error, maybe_processed, wait) = match self.attempt(&call, deadline).await {
                    Step::Done(reply) => return Ok(reply),
                    Step::Stop(failure) => return Err(failure),
                    Step::Refresh { token, .. } if !refreshed => {
                        tracing::info!("token refused; refreshing once");
                        self.inner.auth.invalidate(&token);
                        refreshed = true;
                        attempt -= 1;
                        continue;
                    }
                    Step::Refresh { error, .. } => return Err(fail(error, false)),
                    Step::Retry {
                        error,
                        maybe_processed,
                        wait,
                    } => (error, maybe_processed, wait),
                };
                tracing::warn!(attempt, error = %error, "orange call failed");
                if maybe_processed && call.replay == Replay::OnlyIfUnsent {
                    return Err(fail(error, true));
                }
                let Some(delay) = backoff(attempt, wait, deadline, &self.inner.policy) else {
                    return Err(fail(error, maybe_processed));
                };
                tracing::info!(attempt, ?delay, "retrying orange call");
                self.inner.transport.metrics.orange_retry(call.op);
                tokio::time::sleep(delay).await;
            }
        }
        .instrument(span)
        .await
    }

    /// One attempt: a token, one exchange, and what its answer means.
    async fn attempt<B: Serialize + ?Sized>(&self, call: &Call<'_, B>, deadline: Deadline) -> Step {
        let op = call.op;
        let token = match self.inner.auth.get(deadline).await {
            Ok(token) => token,
            Err(error) => return Step::Stop(fail(error, false)),
        };
        // Measured after the token: fetching it may have used part of the budget.
        let Some(remaining) = deadline.remaining() else {
            let waited = deadline.budget();
            return Step::Stop(fail(OrangeError::Timeout { op, waited }, false));
        };
        let mut timeout = remaining.min(self.inner.settings.request_timeout());
        if call.replay == Replay::OnlyIfUnsent {
            // Keep half the budget for finding out what happened if this one times out.
            timeout = timeout.min(remaining / 2);
        }
        let mut request = self
            .inner
            .transport
            .http
            .request(call.method.clone(), call.url.clone())
            .query(call.query)
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, bearer(&token.secret))
            .timeout(timeout);
        if let Some((name, value)) = &self.inner.application_id
            && let Ok(v) = HeaderValue::from_str(value.expose_secret())
        {
            request = request.header(name.clone(), v);
        }
        if let Some(b) = call.body {
            request = request.json(b);
        }
        match self.inner.transport.send(op, request).await {
            Ok(answer) => judge(op, answer, token),
            Err(lost) if !lost.retryable => Step::Stop(fail(lost.error, lost.sent)),
            Err(lost) => Step::Retry {
                error: lost.error,
                maybe_processed: lost.sent,
                wait: None,
            },
        }
    }
}

/// What the loop does with an answer.
fn judge(op: Operation, answer: Answer, token: Token) -> Step {
    let Answer {
        status,
        headers,
        body,
        request_id,
    } = answer;
    let refusal = match classify(status, &headers, &body) {
        Ok(()) => {
            return Step::Done(Reply {
                headers,
                body,
                request_id,
            });
        }
        Err(refusal) => refusal,
    };
    let retry = refusal.retry();
    let maybe_processed = refusal.maybe_processed();
    let refresh = matches!(refusal, Refusal::Unauthorized(_));
    let error = refusal.into_error(op, status, request_id);
    match retry {
        _ if refresh => Step::Refresh { error, token },
        Some(wait) => Step::Retry {
            error,
            maybe_processed,
            wait,
        },
        None => Step::Stop(fail(error, false)),
    }
}

fn fail(error: OrangeError, maybe_processed: bool) -> Failure {
    Failure {
        error,
        maybe_processed,
    }
}

pub(super) fn malformed(op: Operation, e: WireError, request_id: &RequestId) -> OrangeError {
    OrangeError::Malformed {
        op,
        // `$` is the JSON root: the document as a whole was wrong.
        path: if e.path.is_empty() {
            "$".into()
        } else {
            e.path
        },
        reason: e.reason,
        request_id: request_id.clone(),
    }
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
