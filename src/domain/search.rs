//! A ticket search as the user expresses it, and the API's health.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ServiceNumber, StatusFilter, TicketId};

/// The columns Orange can sort a search by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortColumn {
    TicketNumber,
    OrangeServiceNumber,
    Status,
    StartDate,
    CustomerRef,
    ReportedBy,
}

impl SortColumn {
    pub const ALL: [SortColumn; 6] = [
        SortColumn::TicketNumber,
        SortColumn::OrangeServiceNumber,
        SortColumn::Status,
        SortColumn::StartDate,
        SortColumn::CustomerRef,
        SortColumn::ReportedBy,
    ];

    pub fn as_wire(self) -> &'static str {
        match self {
            SortColumn::TicketNumber => "TICKET_NUMBER",
            SortColumn::OrangeServiceNumber => "ORANGE_SERVICE_NUMBER",
            SortColumn::Status => "STATUS",
            SortColumn::StartDate => "START_DATE",
            SortColumn::CustomerRef => "CUSTOMER_REF",
            SortColumn::ReportedBy => "REPORTED_BY",
        }
    }

    /// The column of an exact wire name, as Orange accepts it.
    pub fn from_wire(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_wire() == raw)
    }

    /// Parses the wire name or a friendlier lower-case one (`start_date`, `status`, ...).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim().to_ascii_uppercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|c| c.as_wire() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown sort column `{}`: expected one of {}",
                    raw.trim(),
                    Self::ALL.map(|c| c.as_wire()).join(", ")
                )
            })
    }
}

impl fmt::Display for SortColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

/// Every filter Orange documents for a search. Empty means "all tickets".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub status: StatusFilter,
    pub service: Option<ServiceNumber>,
    pub reported_by: Option<String>,
    pub id: Option<TicketId>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub sort: Option<SortColumn>,
    /// Ascending when `true`; Orange's default order otherwise.
    pub ascending: Option<bool>,
}

/// The API's health, from the status document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStatus {
    pub status: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub components: Vec<ComponentStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentStatus {
    pub name: Option<String>,
    pub status: String,
}

impl ApiStatus {
    /// `ok` for the API and every component.
    pub fn is_ok(&self) -> bool {
        self.status.eq_ignore_ascii_case("ok")
            && self
                .components
                .iter()
                .all(|c| c.status.eq_ignore_ascii_case("ok"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_columns_parse_both_spellings() {
        for c in SortColumn::ALL {
            assert_eq!(SortColumn::parse(c.as_wire()), Ok(c));
        }
        assert_eq!(SortColumn::parse("start-date"), Ok(SortColumn::StartDate));
        assert!(SortColumn::parse("priority").is_err());
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub page: u32,
    pub tickets: Vec<super::Ticket>,
    /// Tickets of this page that could not be read (the details are logged).
    pub rejected: Vec<UnreadableTicket>,
    /// `X_Page_Count`, when sent.
    pub page_count: Option<u32>,
    /// `X-Total-Count`, when sent.
    pub total_count: Option<u64>,
}

/// A ticket of a search page that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableTicket {
    /// Position in the page.
    pub index: usize,
    /// The ticket's id, when it could still be made out.
    pub id: Option<String>,
    /// Where in the ticket the problem is, and what it is.
    pub path: String,
    pub reason: String,
}
