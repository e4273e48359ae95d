//! Everything about Orange's Trouble Tickets API 1.0: the client (token cache, retries, typed
//! errors), the wire models with their quirks, and their conversion into domain values.

mod auth;
mod client;
pub mod convert;
mod error;
pub mod quirks;
mod retry;
pub mod wire;

use std::fmt;

pub use client::{OrangeClient, SearchPage};
pub use convert::{RejectedTicket, SearchBody, WireError};
pub use error::{ApiProblem, OrangeError, RequestId};
pub use retry::{Deadline, RetryPolicy, backoff, retry_after};

/// The API's operations, for logs and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
