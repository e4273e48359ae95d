//! The read operations: service numbers, one ticket, a search page (or every page), the API's
//! health. Reads are safe to retry, so each is one [`OrangeClient::read`].

use futures::Stream;

use super::client::{OrangeClient, malformed};
use super::convert::{
    RejectedTicket, from_str, parse_search_body, parse_services_body, parse_ticket_body,
};
use super::error::{OrangeError, RequestId};
use super::wire::ApiStatusDto;
use super::{Deadline, Operation, quirks};
use crate::domain::{
    ApiStatus, ComponentStatus, SearchPage, SearchQuery, Service, StatusFilter, Ticket, TicketId,
    UnreadableTicket,
};

/// Documented search response headers (the underscore is Orange's spelling).
const PAGE_COUNT_HEADER: &str = "x_page_count";
const TOTAL_COUNT_HEADER: &str = "x-total-count";

impl OrangeClient {
    /// The account's service numbers.
    pub async fn service_numbers(&self, deadline: Deadline) -> Result<Vec<Service>, OrangeError> {
        let op = Operation::ServiceNumbers;
        let url = self.url(&self.inner.settings.paths.service_numbers, None);
        let reply = self.read(op, url, &[], deadline).await?;
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
        let reply = self.read(op, url, &[], deadline).await?;
        parse_ticket_body(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))
    }

    /// The API's health.
    pub async fn api_status(&self, deadline: Deadline) -> Result<ApiStatus, OrangeError> {
        let op = Operation::ApiStatus;
        let url = self.url(&self.inner.settings.paths.api_status, None);
        let reply = self.read(op, url, &[], deadline).await?;
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

    /// One page of a search (pages count from 1). Unreadable tickets are logged and reported in
    /// the page; the readable ones are kept.
    pub async fn search(
        &self,
        query: &SearchQuery,
        page: u32,
        deadline: Deadline,
    ) -> Result<SearchPage, OrangeError> {
        let op = Operation::Search;
        let url = self.url(&self.inner.settings.paths.search, None);
        let params = self.search_params(query, page);
        let reply = self.read(op, url, &params, deadline).await?;
        let body =
            parse_search_body(&reply.body).map_err(|e| malformed(op, e, &reply.request_id))?;
        let rejected = body
            .rejected
            .iter()
            .map(|bad| unreadable(bad, &reply.request_id))
            .collect();
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
            rejected,
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
}

/// Logs an unreadable ticket of a search page and says which it was.
fn unreadable(bad: &RejectedTicket, request_id: &RequestId) -> UnreadableTicket {
    tracing::warn!(
        request_id = %request_id,
        index = bad.index,
        ticket.id = bad.id.as_deref().unwrap_or("?"),
        path = %bad.error.path,
        reason = %bad.error.reason,
        "search returned an unreadable ticket; kept the others"
    );
    UnreadableTicket {
        index: bad.index,
        id: bad.id.clone(),
        path: bad.error.path.clone(),
        reason: bad.error.reason.clone(),
    }
}

/// Whether a page is followed by another.
pub(super) fn has_more(page: &SearchPage, page_size: u32) -> bool {
    match page.page_count {
        Some(count) => page.page < count,
        None => page.tickets.len() + page.rejected.len() >= page_size as usize,
    }
}
