//! The write operations, which are never replayed blindly: a create or a comment that may have
//! reached Orange is looked for before anything is sent again, so nothing is done twice.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::client::{Call, OrangeClient, Replay, malformed};
use super::convert::parse_created_body;
use super::error::OrangeError;
use super::reads::has_more;
use super::retry::{MIN_ATTEMPT, backoff};
use super::wire::{AddCommentRequest, CreateTicketRequest};
use super::{Deadline, Operation};
use crate::domain::{NewComment, NewTicket, SearchQuery, TicketId};

/// How long after an ambiguous write failure a read must keep finding nothing before the write
/// is believed not to have landed (Orange may still be committing it).
pub const SETTLE: Duration = Duration::from_secs(1);
/// Pause between those reads.
const SETTLE_POLL: Duration = Duration::from_millis(300);

/// What looking for an ambiguous write found.
enum Settled<T> {
    Found(T),
    /// Still absent [`SETTLE`] after the failure: it did not land.
    Absent,
    /// No answer either way (the deadline ran out or the read failed); says why.
    Unknown(String),
}

impl OrangeClient {
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
            let started = window_start();
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
            if let Some(id) = self
                .reconcile_create(ticket, started, &failure, deadline)
                .await?
            {
                return Ok(id);
            }
            // `backoff` applies the attempt limit (for all but a patient deadline).
            let Some(delay) = backoff(attempt, None, deadline, &self.inner.policy) else {
                return Err(failure);
            };
            tracing::info!(?delay, "the create had not landed; sending it again");
            tokio::time::sleep(delay).await;
        }
    }

    /// After an ambiguous create failure: the ticket's id if it landed, `None` if it certainly
    /// did not (safe to send again), [`OrangeError::Uncertain`] if that cannot be told.
    async fn reconcile_create(
        &self,
        ticket: &NewTicket,
        started: DateTime<Utc>,
        failure: &OrangeError,
        deadline: Deadline,
    ) -> Result<Option<TicketId>, OrangeError> {
        let op = Operation::CreateTicket;
        let uncertain = |detail: &str| OrangeError::Uncertain {
            op,
            detail: format!("{failure}; {detail}"),
        };
        if ticket.external_id.is_none() {
            return Err(uncertain("no externalId to look it up by"));
        }
        tracing::warn!(error = %failure, "create outcome unknown; looking for the ticket");
        let query = SearchQuery {
            service: Some(ticket.service.clone()),
            created_from: Some(started),
            ..SearchQuery::default()
        };
        match settle(deadline, || self.find_created(&query, ticket, deadline)).await {
            Settled::Found(id) => {
                tracing::info!(ticket.id = %id, "the create had landed; found it");
                Ok(Some(id))
            }
            Settled::Absent => Ok(None),
            Settled::Unknown(detail) => Err(uncertain(&detail)),
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

    /// Adds a comment. Replaying a comment would post it twice, so it is never resent: after an
    /// ambiguous failure the ticket is read and the note looked for (same text, which the core
    /// signs, dated since just before the attempt). Found: `Ok`. Still absent [`SETTLE`] after
    /// the failure: [`OrangeError::NotApplied`], safe to send again. No answer before the
    /// deadline: [`OrangeError::Uncertain`].
    pub async fn add_comment(
        &self,
        id: &TicketId,
        comment: &NewComment,
        deadline: Deadline,
    ) -> Result<(), OrangeError> {
        let op = Operation::AddComment;
        let body = AddCommentRequest::from(comment);
        let call = Call {
            op,
            method: Method::PATCH,
            url: self.url(&self.inner.settings.paths.add_comment, Some(id)),
            query: &[],
            body: Some(&body),
            replay: Replay::OnlyIfUnsent,
        };
        let started = window_start();
        let failure = match self.execute(call, deadline).await {
            Ok(_) => return Ok(()),
            Err(f) if !f.maybe_processed => return Err(f.error),
            Err(f) => f.error,
        };
        tracing::warn!(error = %failure, ticket.id = %id, "comment outcome unknown; reading the ticket");
        let look = || self.find_comment(id, &comment.text, started, deadline);
        match settle(deadline, look).await {
            Settled::Found(()) => {
                tracing::info!(ticket.id = %id, "the comment had landed; found it");
                Ok(())
            }
            Settled::Absent => Err(OrangeError::NotApplied {
                op,
                cause: Box::new(failure),
            }),
            Settled::Unknown(detail) => Err(OrangeError::Uncertain {
                op,
                detail: format!("{failure}; {detail}"),
            }),
        }
    }

    /// `Some(())` if the ticket has a note with `text` dated `since` or later.
    async fn find_comment(
        &self,
        id: &TicketId,
        text: &str,
        since: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<Option<()>, OrangeError> {
        let ticket = self.get_ticket(id, deadline).await?;
        let found = ticket
            .notes
            .unwrap_or_default()
            .iter()
            .any(|n| n.text == text && n.date >= since);
        Ok(found.then_some(()))
    }
}

/// The start of the window a write's result is looked for in. Orange's dates have millisecond
/// precision; a minute early absorbs clock skew between us and Orange.
fn window_start() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(1)
}

/// Looks for an ambiguous write's result with `look` until it is found, has stayed absent for
/// [`SETTLE`], or the deadline leaves no time for another look.
async fn settle<T, F, Fut>(deadline: Deadline, mut look: F) -> Settled<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, OrangeError>>,
{
    let failed_at = tokio::time::Instant::now();
    loop {
        match look().await {
            Ok(Some(found)) => return Settled::Found(found),
            Ok(None) if failed_at.elapsed() >= SETTLE => return Settled::Absent,
            Ok(None) => {
                let pause = SETTLE_POLL.min(SETTLE.saturating_sub(failed_at.elapsed()));
                match deadline.remaining() {
                    Some(left) if pause + MIN_ATTEMPT < left => tokio::time::sleep(pause).await,
                    _ => return Settled::Unknown("not found yet when the deadline ran out".into()),
                }
            }
            Err(e) => return Settled::Unknown(format!("looking for it failed: {e}")),
        }
    }
}
