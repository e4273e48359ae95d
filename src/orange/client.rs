//! The Orange API client: one method per documented operation, each bounded by a caller's
//! [`Deadline`], retrying what is safe to retry and turning every failure into an [`OrangeError`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::Stream;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tracing::Instrument;
use url::Url;

use super::auth::TokenCache;
use super::convert::{
    WireError, from_str, parse_created_body, parse_search_body, parse_services_body,
    parse_ticket_body,
};
use super::error::{ApiProblem, OrangeError, RequestId};
use super::retry::{MIN_ATTEMPT, RetryPolicy, backoff, retry_after};
use super::wire::{AddCommentRequest, ApiStatusDto, CreateTicketRequest, ErrorEnvelope};
use super::{Deadline, Operation, RejectedTicket, quirks};
use crate::config::{OrangeCredentials, OrangeSettings};
use crate::domain::{
    ApiStatus, ComponentStatus, NewComment, NewTicket, SearchQuery, Service, StatusFilter, Ticket,
    TicketId,
};

/// Documented search response headers (the underscore is Orange's spelling).
const PAGE_COUNT_HEADER: &str = "x_page_count";
const TOTAL_COUNT_HEADER: &str = "x-total-count";

/// How long after an ambiguous create failure a search must keep finding nothing before the
/// create is believed not to have landed (Orange may still be committing it).
pub const SETTLE: Duration = Duration::from_secs(1);
/// Pause between those searches.
const SETTLE_POLL: Duration = Duration::from_millis(300);

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub page: u32,
    pub tickets: Vec<Ticket>,
    /// Tickets of this page that could not be read (already logged).
    pub rejected: Vec<RejectedTicket>,
    /// `X_Page_Count`, when sent.
    pub page_count: Option<u32>,
    /// `X-Total-Count`, when sent.
    pub total_count: Option<u64>,
}

/// A cheap, cloneable handle on the API.
#[derive(Debug, Clone)]
pub struct OrangeClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    settings: OrangeSettings,
    auth: Arc<TokenCache>,
    application_id: Option<(HeaderName, SecretString)>,
    request_id_header: HeaderName,
    policy: RetryPolicy,
}

/// What came back from one successful exchange.
struct Reply {
    headers: HeaderMap,
    body: String,
    request_id: RequestId,
}

/// A failed exchange, and whether the request may have been processed by Orange anyway.
struct Failure {
    error: OrangeError,
    maybe_processed: bool,
}

/// One request to make, with its replay rule.
struct Call<'a, B: ?Sized> {
    op: Operation,
    method: Method,
    url: Url,
    query: &'a [(String, String)],
    body: Option<&'a B>,
    replay: Replay,
}

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    Safe,
    /// Only retried when the request certainly did not reach Orange (connection refused, 429, 401).
    OnlyIfUnsent,
}

impl OrangeClient {
    pub fn new(
        settings: &OrangeSettings,
        credentials: OrangeCredentials,
        application_id: Option<SecretString>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orange-ticket-bot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let auth = TokenCache::new(
            http.clone(),
            settings.token_url.clone(),
            credentials,
            settings.token_refresh_margin(),
            settings.request_timeout(),
        );
        // Header names were validated when the settings were loaded.
        let header = |name: &str| {
            HeaderName::from_bytes(name.as_bytes())
                .unwrap_or_else(|_| HeaderName::from_static("x-invalid-header-name"))
        };
        Ok(OrangeClient {
            inner: Arc::new(Inner {
                auth,
                application_id: application_id
                    .map(|id| (header(&settings.application_id_header), id)),
                request_id_header: header(&settings.request_id_header),
                policy: RetryPolicy::from_settings(&settings.retry),
                settings: settings.clone(),
                http,
            }),
        })
    }

    /// The deadline for a call a person is waiting on.
    pub fn interactive(&self) -> Deadline {
        Deadline::after(Duration::from_millis(
            self.inner.settings.retry.interactive_deadline_ms,
        ))
    }

    /// The deadline for opening a ticket: long enough to resolve an ambiguous failure.
    pub fn for_create(&self) -> Deadline {
        Deadline::after(Duration::from_millis(
            self.inner.settings.retry.create_deadline_ms,
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

    fn url(&self, path: &str, id: Option<&TicketId>) -> Url {
        let base = self.inner.settings.base_url.as_str().trim_end_matches('/');
        let path = match id {
            // Ids are validated to URL-safe characters; encode anyway in case the rules widen.
            Some(id) => path.replace("{id}", &url_escape(id.as_str())),
            None => path.to_owned(),
        };
        Url::parse(&format!("{base}{path}"))
            .unwrap_or_else(|_| self.inner.settings.base_url.clone())
    }

    /// The account's service numbers.
    pub async fn service_numbers(&self, deadline: Deadline) -> Result<Vec<Service>, OrangeError> {
        let op = Operation::ServiceNumbers;
        let url = self.url(&self.inner.settings.paths.service_numbers, None);
        let reply = self.read(op, Method::GET, url, &[], deadline).await?;
        parse_services_body(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))
    }

    /// One ticket with its notes.
    pub async fn get_ticket(
        &self,
        id: &TicketId,
        deadline: Deadline,
    ) -> Result<Ticket, OrangeError> {
        let op = Operation::GetTicket;
        let url = self.url(&self.inner.settings.paths.get_ticket, Some(id));
        let reply = self.read(op, Method::GET, url, &[], deadline).await?;
        parse_ticket_body(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))
    }

    /// The API's health.
    pub async fn api_status(&self, deadline: Deadline) -> Result<ApiStatus, OrangeError> {
        let op = Operation::ApiStatus;
        let url = self.url(&self.inner.settings.paths.api_status, None);
        let reply = self.read(op, Method::GET, url, &[], deadline).await?;
        let dto: ApiStatusDto =
            from_str(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))?;
        Ok(ApiStatus {
            status: dto.status.unwrap_or_else(|| "unknown".into()),
            name: dto.name,
            version: dto.version.filter(|v| !v.is_empty()),
            components: dto
                .components
                .into_iter()
                .map(|c| ComponentStatus {
                    name: c.name,
                    status: c.status.unwrap_or_else(|| "unknown".into()),
                })
                .collect(),
        })
    }

    /// Adds a comment. Replaying a comment would post it twice, so an ambiguous failure is
    /// reported, not retried.
    pub async fn add_comment(
        &self,
        id: &TicketId,
        comment: &NewComment,
        deadline: Deadline,
    ) -> Result<(), OrangeError> {
        let op = Operation::AddComment;
        let url = self.url(&self.inner.settings.paths.add_comment, Some(id));
        let body = AddCommentRequest::from(comment);
        let call = Call {
            op,
            method: Method::PATCH,
            url,
            query: &[],
            body: Some(&body),
            replay: Replay::OnlyIfUnsent,
        };
        self.execute(call, deadline)
            .await
            .map(|_| ())
            .map_err(|f| f.error)
    }

    /// Creates a ticket and returns its id.
    ///
    /// A create is never replayed blindly: if the request may have reached Orange (a timeout, a
    /// reset connection or a 5xx after sending), sending it again could open a duplicate ticket.
    /// Instead the client looks for the ticket: same `externalId` (the core makes it unique),
    /// description and technical number, on that service, created since just before the attempt.
    /// Found means the create landed and its id is returned. Because Orange may still be
    /// committing a ticket when its gateway gives up, "not found" is only believed after
    /// searching for [`SETTLE`] since the failure; only then is the create sent again. If the
    /// deadline ends first, or the search fails, the outcome is [`OrangeError::Uncertain`] and
    /// nothing is resent. Failures that certainly never reached Orange (connection refused, 429,
    /// a refused token) are retried like any call.
    pub async fn create_ticket(
        &self,
        ticket: &NewTicket,
        deadline: Deadline,
    ) -> Result<TicketId, OrangeError> {
        let op = Operation::CreateTicket;
        let url = self.url(&self.inner.settings.paths.create_ticket, None);
        let body = CreateTicketRequest::from(ticket);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // Orange's dates have millisecond precision; start the window a minute early to
            // absorb clock skew between us and Orange.
            let started = Utc::now() - chrono::Duration::minutes(1);
            let call = Call {
                op,
                method: Method::POST,
                url: url.clone(),
                query: &[],
                body: Some(&body),
                replay: Replay::OnlyIfUnsent,
            };
            let failure = match self.execute(call, deadline).await {
                Ok(reply) => {
                    return parse_created_body(&reply.body)
                        .map_err(|e| malformed(op, e, &reply.request_id));
                }
                Err(f) if !f.maybe_processed => return Err(f.error),
                Err(f) => f.error,
            };
            let uncertain = |detail: String| OrangeError::Uncertain {
                op,
                detail: format!("{failure}; {detail}"),
            };
            if ticket.external_id.is_none() {
                return Err(uncertain("no externalId to look it up by".into()));
            }
            tracing::warn!(error = %failure, "create outcome unknown; looking for the ticket");
            let failed_at = tokio::time::Instant::now();
            let query = SearchQuery {
                service: Some(ticket.service.clone()),
                created_from: Some(started),
                ..SearchQuery::default()
            };
            loop {
                match self.find_created(&query, ticket, deadline).await {
                    Ok(Some(id)) => {
                        tracing::info!(ticket.id = %id, "the create had landed; found it");
                        return Ok(id);
                    }
                    Ok(None) if failed_at.elapsed() >= SETTLE => break,
                    Ok(None) => {
                        let pause = SETTLE_POLL.min(SETTLE.saturating_sub(failed_at.elapsed()));
                        match deadline.remaining() {
                            Some(left) if pause + MIN_ATTEMPT < left => {
                                tokio::time::sleep(pause).await;
                            }
                            _ => {
                                return Err(uncertain(
                                    "not found yet when the deadline ran out".into(),
                                ));
                            }
                        }
                    }
                    Err(search_error) => {
                        return Err(uncertain(format!("looking for it failed: {search_error}")));
                    }
                }
            }
            // `backoff` applies the attempt limit (for all but a patient deadline).
            let Some(delay) = backoff(attempt, None, deadline, &self.inner.policy) else {
                return Err(failure);
            };
            tracing::info!(?delay, "the create had not landed; sending it again");
            tokio::time::sleep(delay).await;
        }
    }

    /// The ticket `new` opened, if a search shows it.
    async fn find_created(
        &self,
        query: &SearchQuery,
        new: &NewTicket,
        deadline: Deadline,
    ) -> Result<Option<TicketId>, OrangeError> {
        let mut page = 1;
        loop {
            let result = self.search(query, page, deadline).await?;
            let found = result.tickets.iter().find(|t| {
                t.external_id == new.external_id
                    && t.description.as_deref() == Some(new.description.as_str())
                    && t.technical.as_ref() == Some(&new.technical)
            });
            if let Some(t) = found {
                return Ok(Some(t.id.clone()));
            }
            if !has_more(&result, self.inner.settings.search.page_size) {
                return Ok(None);
            }
            page += 1;
        }
    }

    /// One page (1-based) of a search.
    pub async fn search(
        &self,
        query: &SearchQuery,
        page: u32,
        deadline: Deadline,
    ) -> Result<SearchPage, OrangeError> {
        let op = Operation::Search;
        let url = self.url(&self.inner.settings.paths.search, None);
        let params = self.search_params(query, page);
        let reply = self.read(op, Method::GET, url, &params, deadline).await?;
        let body =
            parse_search_body(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))?;
        for bad in &body.rejected {
            tracing::warn!(
                request_id = %reply.request_id,
                index = bad.index,
                ticket.id = bad.id.as_deref().unwrap_or("?"),
                path = %bad.error.path,
                reason = %bad.error.reason,
                "search returned an unreadable ticket; kept the others"
            );
        }
        if body.truncated {
            tracing::warn!(request_id = %reply.request_id, page, "search body ended early");
        }
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Ok(SearchPage {
            page,
            tickets: body.tickets,
            rejected: body.rejected,
            page_count: header(PAGE_COUNT_HEADER).and_then(|n| u32::try_from(n).ok()),
            total_count: header(TOTAL_COUNT_HEADER),
        })
    }

    /// Every page of a search, in order, each within `deadline`. Stops after the last page
    /// (by `X_Page_Count`, or a short page when the header is missing) or the first error.
    pub fn search_all(
        &self,
        query: SearchQuery,
        deadline: Deadline,
    ) -> impl Stream<Item = Result<SearchPage, OrangeError>> + Send + 'static {
        let client = self.clone();
        futures::stream::try_unfold(Some(1u32), move |next| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let Some(page) = next else {
                    return Ok(None);
                };
                let result = client.search(&query, page, deadline).await?;
                let more = has_more(&result, client.inner.settings.search.page_size);
                Ok(Some((result, more.then_some(page + 1))))
            }
        })
    }

    fn search_params(&self, q: &SearchQuery, page: u32) -> Vec<(String, String)> {
        let s = &self.inner.settings.search;
        let mut p = vec![
            ("ctxid".to_owned(), s.ctxid.clone()),
            ("sctxid".to_owned(), s.sctxid.clone()),
        ];
        let mut push = |k: &str, v: String| p.push((k.to_owned(), v));
        if q.status != StatusFilter::Any {
            push("status", q.status.as_wire().to_owned());
        }
        if let Some(v) = &q.service {
            push("orangeServiceNumber", v.to_string());
        }
        if let Some(v) = &q.reported_by {
            push("reportedBy", v.clone());
        }
        if let Some(v) = &q.id {
            push("id", v.to_string());
        }
        if let Some(v) = &q.created_from {
            push("creationDateFrom", quirks::format_date(v));
        }
        if let Some(v) = &q.created_to {
            push("creationDateTo", quirks::format_date(v));
        }
        if let Some(v) = q.sort {
            push("sortColumn", v.as_wire().to_owned());
        }
        if let Some(v) = q.ascending {
            push("sortAsc", v.to_string());
        }
        push(&s.page_param, page.to_string());
        push(&s.page_size_param, s.page_size.to_string());
        p
    }

    async fn read(
        &self,
        op: Operation,
        method: Method,
        url: Url,
        query: &[(String, String)],
        deadline: Deadline,
    ) -> Result<Reply, OrangeError> {
        let call = Call::<()> {
            op,
            method,
            url,
            query,
            body: None,
            replay: Replay::Safe,
        };
        self.execute(call, deadline).await.map_err(|f| f.error)
    }

    /// One logical call: token, request, retries within the deadline, error mapping.
    async fn execute<B: Serialize + ?Sized>(
        &self,
        call: Call<'_, B>,
        deadline: Deadline,
    ) -> Result<Reply, Failure> {
        let Call {
            op,
            method,
            url,
            query,
            body,
            replay,
        } = call;
        let span = tracing::info_span!("orange", %op);
        async move {
            let mut attempt = 0u32;
            let mut refreshed = false;
            loop {
                attempt += 1;
                let fail = |error, maybe_processed| Failure {
                    error,
                    maybe_processed,
                };
                let timed_out = || {
                    fail(
                        OrangeError::Timeout {
                            op,
                            waited: deadline.budget(),
                        },
                        false,
                    )
                };
                let token = self
                    .inner
                    .auth
                    .get(deadline)
                    .await
                    .map_err(|e| fail(e, false))?;
                // Measured after the token: fetching it may have used part of the budget.
                let remaining = deadline.remaining().ok_or_else(timed_out)?;
                let mut timeout = remaining.min(self.inner.settings.request_timeout());
                if replay == Replay::OnlyIfUnsent {
                    // Keep half the budget for finding out what happened if this one times out.
                    timeout = timeout.min(remaining / 2);
                }
                let mut request = self
                    .inner
                    .http
                    .request(method.clone(), url.clone())
                    .query(query)
                    .header(ACCEPT, "application/json")
                    .header(AUTHORIZATION, bearer(&token.secret))
                    .timeout(timeout);
                if let Some((name, value)) = &self.inner.application_id
                    && let Ok(v) = HeaderValue::from_str(value.expose_secret())
                {
                    request = request.header(name.clone(), v);
                }
                if let Some(b) = body {
                    request = request.json(b);
                }
                let started = tokio::time::Instant::now();
                let outcome = request.send().await;
                let (error, maybe_processed, wait) = match outcome {
                    Err(e) => {
                        // A refused connection never reached Orange; anything later might have.
                        let unsent = e.is_connect();
                        let error = if e.is_timeout() {
                            OrangeError::Timeout {
                                op,
                                waited: started.elapsed(),
                            }
                        } else {
                            OrangeError::Unavailable {
                                op,
                                detail: without_url(&e),
                                request_id: RequestId::default(),
                            }
                        };
                        tracing::warn!(attempt, error = %error, "orange call failed");
                        if !unsent && replay == Replay::OnlyIfUnsent {
                            return Err(fail(error, true));
                        }
                        (error, !unsent, None)
                    }
                    Ok(resp) => {
                        let status = resp.status();
                        let headers = resp.headers().clone();
                        let request_id = RequestId(
                            headers
                                .get(&self.inner.request_id_header)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                        );
                        tracing::debug!(
                            attempt,
                            status = status.as_u16(),
                            request_id = %request_id,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "orange call"
                        );
                        let text = match resp.text().await {
                            Ok(text) => text,
                            Err(e) if status.is_success() => {
                                let error = OrangeError::Unavailable {
                                    op,
                                    detail: format!("body unreadable: {}", without_url(&e)),
                                    request_id,
                                };
                                if replay == Replay::OnlyIfUnsent {
                                    return Err(fail(error, true));
                                }
                                let delay = backoff(attempt, None, deadline, &self.inner.policy);
                                let Some(delay) = delay else {
                                    return Err(fail(error, true));
                                };
                                tokio::time::sleep(delay).await;
                                continue;
                            }
                            // An error status with an unreadable body: the status says enough.
                            Err(_) => String::new(),
                        };
                        if status.is_success() {
                            return Ok(Reply {
                                headers,
                                body: text,
                                request_id,
                            });
                        }
                        let problem = problem_of(&text);
                        match classify(status, &problem) {
                            Class::Auth if !refreshed => {
                                // Drop the refused token, fetch a new one, and retry once.
                                tracing::info!(request_id = %request_id, "token refused; refreshing once");
                                self.inner.auth.invalidate(&token);
                                refreshed = true;
                                attempt -= 1;
                                continue;
                            }
                            Class::Auth => {
                                return Err(fail(
                                    OrangeError::Unauthorized {
                                        op,
                                        problem,
                                        request_id,
                                    },
                                    false,
                                ));
                            }
                            Class::Throttled => {
                                let wait = retry_after(&headers);
                                let error = OrangeError::Throttled {
                                    op,
                                    retry_after: wait,
                                    request_id,
                                };
                                tracing::warn!(attempt, error = %error, "orange throttled");
                                (error, false, wait)
                            }
                            Class::Unavailable => {
                                let error = OrangeError::Unavailable {
                                    op,
                                    detail: format!("HTTP {}, {problem}", status.as_u16()),
                                    request_id,
                                };
                                tracing::warn!(attempt, error = %error, "orange unavailable");
                                if replay == Replay::OnlyIfUnsent {
                                    return Err(fail(error, true));
                                }
                                (error, true, retry_after(&headers))
                            }
                            Class::Final => {
                                let status = status.as_u16();
                                let error = match status {
                                    404 => OrangeError::NotFound {
                                        op,
                                        problem,
                                        request_id,
                                    },
                                    400 | 422 => OrangeError::Rejected {
                                        op,
                                        status,
                                        problem,
                                        request_id,
                                    },
                                    _ => OrangeError::Unexpected {
                                        op,
                                        status,
                                        problem,
                                        request_id,
                                    },
                                };
                                return Err(fail(error, false));
                            }
                        }
                    }
                };
                match backoff(attempt, wait, deadline, &self.inner.policy) {
                    Some(delay) => {
                        tracing::info!(attempt, ?delay, "retrying orange call");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(fail(error, maybe_processed)),
                }
            }
        }
        .instrument(span)
        .await
    }
}

enum Class {
    Auth,
    Throttled,
    Unavailable,
    Final,
}

fn classify(status: StatusCode, problem: &ApiProblem) -> Class {
    match status.as_u16() {
        401 => Class::Auth,
        429 => Class::Throttled,
        // Some Orange gateways throttle with 403 code 53.
        403 if problem.code == Some(53) => Class::Throttled,
        500 | 502 | 503 | 504 => Class::Unavailable,
        _ => Class::Final,
    }
}

pub(super) fn problem_of(body: &str) -> ApiProblem {
    from_str::<ErrorEnvelope>(body)
        .map(|e| ApiProblem::from(e.into_body()))
        .unwrap_or_default()
}

fn malformed(op: Operation, e: WireError, request_id: &RequestId) -> OrangeError {
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

fn bearer(token: &SecretString) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
    v.set_sensitive(true);
    v
}

/// reqwest's error text includes the URL; the URL may carry query values we'd rather not log.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), url.path());
    }
    text
}

fn has_more(page: &SearchPage, page_size: u32) -> bool {
    match page.page_count {
        Some(count) => page.page < count,
        None => page.tickets.len() + page.rejected.len() >= page_size as usize,
    }
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
