//! Everything about Orange's Trouble Tickets API 1.0: the client (token cache, retries, typed
//! errors), the wire models with their quirks, and their conversion into domain values.
//!
//! - `transport`: one exchange (send, read the body up to a cap) and what an answer means
//!   (`classify`, pure), for the token endpoint and the API alike.
//! - `client`: the handle, deadlines, and the one retry loop every call goes through.
//! - `reads`, `writes`: the operations; writes reconcile an ambiguous failure instead of replaying.
//! - `auth`: the token cache (one fetch at a time, failures shared and backed off).
//! - `retry`: deadlines and backoff; `error`: `OrangeError` and its user-facing sentence.

mod auth;
mod client;
pub mod convert;
mod error;
pub mod quirks;
mod reads;
mod retry;
mod transport;
pub mod wire;
mod writes;

use std::fmt;

pub use client::OrangeClient;
pub use convert::{RejectedTicket, SearchBody, WireError};
pub use error::{ApiProblem, OrangeError, RequestId};
pub use retry::{Deadline, RetryPolicy, backoff, retry_after};

/// The API's operations, for logs, errors and the sandbox's counters and faults.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Token,
    ServiceNumbers,
    CreateTicket,
    AddComment,
    GetTicket,
    Search,
    ApiStatus,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Token => "token",
            Operation::ServiceNumbers => "service_numbers",
            Operation::CreateTicket => "create_ticket",
            Operation::AddComment => "add_comment",
            Operation::GetTicket => "get_ticket",
            Operation::Search => "search",
            Operation::ApiStatus => "api_status",
        })
    }
}
