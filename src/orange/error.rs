//! `OrangeError`: every way an Orange call can fail, typed so the caller can decide what to do.
//!
//! The `Display` text is for logs (it may contain Orange's own wording); users get
//! [`OrangeError::user_message`], which never contains upstream bodies, URLs or tokens.

use std::fmt;
use std::time::Duration;

use super::Operation;
use super::wire::ErrorBodyDto;

/// Orange's request id (`X-OAPI-Request-Id`), shown to users so support can trace a call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestId(pub Option<String>);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("none"))
    }
}

/// Orange's error body, when it sent one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiProblem {
    pub code: Option<i64>,
    pub message: Option<String>,
    pub description: Option<String>,
    pub info_url: Option<String>,
}

impl From<ErrorBodyDto> for ApiProblem {
    fn from(b: ErrorBodyDto) -> Self {
        ApiProblem {
            code: Some(b.code),
            message: b.message,
            description: b.description,
            info_url: b.info_url,
        }
    }
}

impl fmt::Display for ApiProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "code {code}")?,
            None => f.write_str("no error body")?,
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        if let Some(u) = &self.info_url {
            write!(f, " <{u}>")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum OrangeError {
    /// 404: the ticket (or route) does not exist for this account.
    #[error("{op}: not found (request id {request_id}; {problem})")]
    NotFound {
        op: Operation,
        problem: ApiProblem,
        request_id: RequestId,
    },
    /// 400 or 422: Orange refused the request's content.
    #[error("{op}: rejected with HTTP {status} (request id {request_id}; {problem})")]
    Rejected {
        op: Operation,
        status: u16,
        problem: ApiProblem,
        request_id: RequestId,
    },
    /// 403 other than throttling: Orange refuses this application (ApplicationID, subscription).
    #[error("{op}: forbidden (request id {request_id}; {problem})")]
    Forbidden {
        op: Operation,
        problem: ApiProblem,
        request_id: RequestId,
    },
    /// The answer's body passed `orange.max_body_bytes`; reading stopped there.
    #[error("{op}: answer larger than {limit} bytes (request id {request_id})")]
    TooLarge {
        op: Operation,
        limit: u64,
        request_id: RequestId,
    },
    /// The token endpoint refused our client id/secret: a configuration error, never retried.
    #[error("ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET rejected by the token endpoint (HTTP {status})")]
    CredentialsRejected { status: u16 },
    /// The API refused our token even after one fresh token.
    #[error("{op}: unauthorized after a token refresh (request id {request_id}; {problem})")]
    Unauthorized {
        op: Operation,
        problem: ApiProblem,
        request_id: RequestId,
    },
    /// 429 (or 403 code 53) until the deadline ran out.
    #[error("{op}: throttled by Orange (request id {request_id}; retry after {retry_after:?})")]
    Throttled {
        op: Operation,
        retry_after: Option<Duration>,
        request_id: RequestId,
    },
    /// 5xx or a connection failure until the deadline ran out.
    #[error("{op}: Orange unavailable ({detail}; request id {request_id})")]
    Unavailable {
        op: Operation,
        detail: String,
        request_id: RequestId,
    },
    /// The caller's deadline (or the per-request timeout) expired.
    #[error("{op}: no answer within {waited:?}")]
    Timeout { op: Operation, waited: Duration },
    /// A create or comment may have reached Orange but its outcome is unknown and could not be
    /// reconciled.
    #[error("{op}: outcome unknown after {detail}; not retried to avoid a duplicate")]
    Uncertain { op: Operation, detail: String },
    /// A write failed ambiguously, and reading back showed it had not been carried out: safe to
    /// send again.
    #[error("{op}: not carried out (checked after an ambiguous failure)")]
    NotApplied {
        op: Operation,
        #[source]
        cause: Box<OrangeError>,
    },
    /// A 2xx body that does not match the contract.
    #[error("{op}: malformed response at `{path}`: {reason} (request id {request_id})")]
    Malformed {
        op: Operation,
        path: String,
        reason: String,
        request_id: RequestId,
    },
    /// Any other HTTP status (405, 406, ...).
    #[error("{op}: unexpected HTTP {status} (request id {request_id}; {problem})")]
    Unexpected {
        op: Operation,
        status: u16,
        problem: ApiProblem,
        request_id: RequestId,
    },
}

impl OrangeError {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            OrangeError::NotFound { request_id, .. }
            | OrangeError::Rejected { request_id, .. }
            | OrangeError::Forbidden { request_id, .. }
            | OrangeError::TooLarge { request_id, .. }
            | OrangeError::Unauthorized { request_id, .. }
            | OrangeError::Throttled { request_id, .. }
            | OrangeError::Unavailable { request_id, .. }
            | OrangeError::Malformed { request_id, .. }
            | OrangeError::Unexpected { request_id, .. } => request_id.0.as_deref(),
            OrangeError::NotApplied { cause, .. } => cause.request_id(),
            OrangeError::CredentialsRejected { .. }
            | OrangeError::Timeout { .. }
            | OrangeError::Uncertain { .. } => None,
        }
    }

    /// One short sentence for a person, with the request id when there is one.
    pub fn user_message(&self) -> String {
        let sentence = match self {
            OrangeError::NotFound { .. } => "Orange has no such ticket for this account.".into(),
            // Orange's own wording stays in the logs: it is upstream text, not ours to show.
            OrangeError::Rejected { status: 422, .. } => {
                "Orange refused the request under its business rules.".into()
            }
            OrangeError::Rejected { .. } => "Orange found the request invalid.".into(),
            OrangeError::Forbidden { .. } => {
                "Orange refused this application (check the ApplicationID / subscription).".into()
            }
            OrangeError::TooLarge { .. } => {
                "Orange sent an answer too large to read; narrow the request.".into()
            }
            OrangeError::CredentialsRejected { .. } | OrangeError::Unauthorized { .. } => {
                "The bot's Orange credentials were refused; an administrator must check them."
                    .into()
            }
            OrangeError::Throttled { .. } => {
                "Orange is throttling requests; try again in a minute.".into()
            }
            OrangeError::Unavailable { .. } => {
                "Orange's API is unavailable right now; try again later.".into()
            }
            OrangeError::Timeout { .. } => "Orange did not answer in time; try again.".into(),
            OrangeError::Uncertain {
                op: Operation::AddComment,
                ..
            } => "Orange did not confirm the comment and it is unknown whether it was added; \
                  check the ticket before retrying."
                .into(),
            OrangeError::Uncertain { .. } => {
                "Orange did not confirm the ticket; check `/ticket search` before retrying.".into()
            }
            OrangeError::NotApplied {
                op: Operation::AddComment,
                ..
            } => "Orange failed and the comment was not added; try again.".into(),
            OrangeError::NotApplied { .. } => {
                "Orange failed and nothing was changed; try again.".into()
            }
            OrangeError::Malformed { .. } | OrangeError::Unexpected { .. } => {
                "Orange sent an answer the bot could not read.".into()
            }
        };
        match self.request_id() {
            Some(id) => format!("{sentence} (Orange request id {id})"),
            None => sentence,
        }
    }
}
