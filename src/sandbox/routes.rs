//! The API handlers: read the request, validate it as Orange does, and answer in Orange's shapes.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::bounds::{MAX_NOTE_TEXT, MAX_SHORT_TEXT, text as bounded};
use super::encode::{services_to_wire, ticket_to_wire};
use super::error::{ApiError, code, parse_json};
use super::faults::Operation;
use super::server::{AppState, Inner, Reply, gateway};
use super::state::{SandboxError, SearchQuery};
use crate::domain::SortColumn;
use crate::domain::{ContactMedium, Party, Status};
use crate::orange::wire::{
    AddCommentRequest, ApiStatusDto, ComponentStatusDto, CreateTicketRequest, CreateTicketResponse,
    SearchEnvelope, SearchTicketsDto, TicketDto, TicketEnvelope, TicketIdDto,
};

/// The longest description Orange accepts.
const MAX_DESCRIPTION: usize = 4000;
/// Contact media of one depositor.
const MAX_CONTACT_MEDIA: usize = 16;

impl From<SandboxError> for ApiError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::UnknownTicket(_) => ApiError::not_found(e.to_string()),
            _ => ApiError::business(e.to_string()),
        }
    }
}

/// `GET` service numbers.
pub(crate) async fn service_numbers(State(s): State<AppState>, headers: HeaderMap) -> Response {
    gateway(
        &s,
        Operation::ServiceNumbers,
        &headers,
        |inner: &mut Inner| Reply::json(&services_to_wire(inner.world.services())),
    )
    .await
}

/// `POST` create ticket.
pub(crate) async fn create_ticket(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    gateway(
        &s,
        Operation::CreateTicket,
        &headers,
        |inner: &mut Inner| {
            let req: CreateTicketRequest = parse_json(&body)?;
            let entity = |role: &str| {
                req.related_entity
                    .iter()
                    .find(|e| e.role.as_deref() == Some(role))
                    .and_then(|e| e.id.clone())
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("relatedEntity with role {role} is required"))
                    })
            };
            let service = entity("orangeServiceNumber")?;
            let technical = entity("technicalNumber")?;
            let description = req
                .description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("description is required"))?;
            if description.chars().count() > MAX_DESCRIPTION {
                return Err(ApiError::bad_request(format!(
                    "description is longer than {MAX_DESCRIPTION} characters"
                )));
            }
            let depositor = depositor(&req)?;
            let external_id = req.external_id.clone().filter(|e| !e.trim().is_empty());
            bounded(
                "externalId",
                external_id.as_deref().unwrap_or(""),
                MAX_SHORT_TEXT,
            )?;
            let id = inner.world.create_ticket(
                &service,
                &technical,
                description,
                depositor,
                external_id,
            )?;
            Reply::json(&CreateTicketResponse {
                ticket_id: TicketIdDto {
                    id: Some(id.to_string()),
                },
            })
        },
    )
    .await
}

/// The create request's depositor: a named party with its contact media, within bounds.
fn depositor(req: &CreateTicketRequest) -> Result<Party, ApiError> {
    let depositor = req
        .related_party
        .iter()
        .find(|p| p.role.as_deref() == Some("depositor"))
        .and_then(|p| {
            let name = p.name.clone().filter(|n| !n.trim().is_empty())?;
            let media = p
                .contact_medium
                .iter()
                .filter_map(|m| {
                    Some(ContactMedium {
                        kind: m.contact_type.clone()?,
                        value: m.id.clone().filter(|v| !v.trim().is_empty())?,
                    })
                })
                .collect();
            Some(Party {
                role: "depositor".into(),
                name,
                media,
            })
        })
        .ok_or_else(|| {
            ApiError::bad_request("relatedParty with role depositor and a name is required")
        })?;
    bounded("relatedParty.name", &depositor.name, MAX_SHORT_TEXT)?;
    if depositor.media.len() > MAX_CONTACT_MEDIA {
        return Err(ApiError::bad_request(format!(
            "relatedParty.contactMedium lists at most {MAX_CONTACT_MEDIA} entries"
        )));
    }
    for m in &depositor.media {
        bounded(
            "relatedParty.contactMedium.contactType",
            &m.kind,
            MAX_SHORT_TEXT,
        )?;
        bounded("relatedParty.contactMedium.id", &m.value, MAX_SHORT_TEXT)?;
    }
    Ok(depositor)
}

/// `PATCH` add a comment.
pub(crate) async fn add_comment(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    gateway(&s, Operation::AddComment, &headers, |inner: &mut Inner| {
        if inner.world.ticket(&id).is_none() {
            return Err(SandboxError::UnknownTicket(id.clone()).into());
        }
        let req: AddCommentRequest = parse_json(&body)?;
        if req.note.kind.trim().is_empty() {
            return Err(ApiError::bad_request("note.type is required"));
        }
        if req.note.text.trim().is_empty() {
            return Err(ApiError::bad_request("note.text is required"));
        }
        bounded("note.type", &req.note.kind, MAX_SHORT_TEXT)?;
        bounded("note.text", &req.note.text, MAX_NOTE_TEXT)?;
        let service = req.related_entity.id.clone().unwrap_or_default();
        inner.world.add_comment(&id, &service, req.note.text)?;
        Ok(Reply::empty())
    })
    .await
}

/// `GET` one ticket, notes included.
pub(crate) async fn get_ticket(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    gateway(&s, Operation::GetTicket, &headers, |inner: &mut Inner| {
        let ticket = inner
            .world
            .ticket(&id)
            .ok_or_else(|| SandboxError::UnknownTicket(id.clone()))?;
        Reply::json(&TicketEnvelope {
            ticket: ticket_to_wire(ticket),
        })
    })
    .await
}

/// `GET` search, with Orange's filters, sorting and the (inferred) paging parameters.
pub(crate) async fn search(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let shared = s.clone();
    gateway(&s, Operation::Search, &headers, |inner: &mut Inner| {
        let q = parse_search(query.as_deref().unwrap_or(""), &shared.opts)?;
        let page = inner.world.search(&q);
        let tickets = page
            .tickets
            .iter()
            .map(|t| TicketDto {
                // Search results carry no notes.
                note: None,
                ..ticket_to_wire(t)
            })
            .collect();
        let pages = page.total.div_ceil(q.page_size as usize);
        Ok(Reply::json(&SearchEnvelope {
            search: SearchTicketsDto { tickets },
        })?
        // Why `X_Page_Count` with an underscore: that is how Orange spells it.
        .with_header("X_Page_Count", pages.to_string())
        .with_header("X-Total-Count", page.total.to_string()))
    })
    .await
}

fn parse_search(raw: &str, opts: &super::SandboxOptions) -> Result<SearchQuery, ApiError> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let fixed = |name: &str, expected: &str| match get(name) {
        Some(v) if v == expected => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "{name} must be {expected}, got `{v}`"
        ))),
        None => Err(ApiError::bad_request(format!("{name} is required"))),
    };
    // Why: `reportedBy` is compared with every ticket of the account under the lock; a long one
    // would keep the sandbox busy.
    for (key, value) in &params {
        bounded("a query parameter name", key, MAX_SHORT_TEXT)?;
        bounded(key, value, MAX_SHORT_TEXT)?;
    }
    fixed("ctxid", &opts.search.ctxid)?;
    fixed("sctxid", &opts.search.sctxid)?;
    let ascending = match get("sortAsc") {
        None | Some("true") => true,
        Some("false") => false,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "sortAsc must be true or false, got `{v}`"
            )));
        }
    };
    let sort = match get("sortColumn") {
        None => SortColumn::TicketNumber,
        Some(v) => SortColumn::from_wire(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "sortColumn must be one of TICKET_NUMBER, ORANGE_SERVICE_NUMBER, STATUS, \
                 START_DATE, CUSTOMER_REF, REPORTED_BY, got `{v}`"
            ))
        })?,
    };
    let date = |name: &str| get(name).map(|v| strict_date(name, v)).transpose();
    let status = match get("status") {
        None | Some("-1") => None,
        Some(v) => Some(
            Status::KNOWN
                .iter()
                .find(|s| s.as_wire() == v)
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "status must be one of {} or -1, got `{v}`",
                        Status::KNOWN.map(|s| s.as_wire().to_owned()).join(", ")
                    ))
                })?,
        ),
    };
    let number =
        |name: &str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("{name} must be a whole number >= 1"))
            }),
        };
    let page = number(&opts.search.page_param, 1)?;
    let page_size = number(
        &opts.search.page_size_param,
        opts.search.page_size.min(opts.max_page_size),
    )?;
    if page_size > opts.max_page_size {
        return Err(ApiError::bad_request(format!(
            "{} must be at most {}",
            opts.search.page_size_param, opts.max_page_size
        )));
    }
    Ok(SearchQuery {
        created_from: date("creationDateFrom")?,
        created_to: date("creationDateTo")?,
        service: get("orangeServiceNumber").map(str::to_owned),
        reported_by: get("reportedBy").map(str::to_owned),
        id: get("id").map(str::to_owned),
        status,
        sort,
        ascending,
        page,
        page_size,
    })
}

/// Orange's search dates, strictly `YYYY-MM-DDThh:mm:ss.mssZ`.
fn strict_date(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "{name} must be formatted YYYY-MM-DDThh:mm:ss.mssZ, got `{raw}`"
        ))
    };
    if raw.len() != "2023-08-28T14:40:38.041Z".len() {
        return Err(bad());
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.3fZ")
        .map(|d| d.and_utc())
        .map_err(|_| bad())
}

/// `GET` API status.
pub(crate) async fn api_status(State(s): State<AppState>, headers: HeaderMap) -> Response {
    gateway(&s, Operation::ApiStatus, &headers, |_: &mut Inner| {
        Reply::json(&ApiStatusDto {
            status: Some("ok".into()),
            name: Some("API Ticketing WIN_BUS".into()),
            version: Some(String::new()),
            components: Some(ComponentStatusDto {
                status: Some("ok".into()),
                name: Some("WSE".into()),
                version: Some(String::new()),
            }),
        })
    })
    .await
}

/// A known path with a method it does not serve.
pub(crate) async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "The method is not allowed on this resource",
    )
    .into_response()
}

/// No such resource.
pub(crate) async fn not_found() -> Response {
    ApiError::not_found("No resource at this path").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_dates_are_strictly_orange_s_format() {
        let ok = strict_date("d", "2023-08-28T14:40:38.041Z").expect("the documented example");
        assert_eq!(
            crate::orange::quirks::format_date(&ok),
            "2023-08-28T14:40:38.041Z"
        );
        for bad in [
            "2023-08-28T14:40:38Z",
            "2023-08-28T14:40:38.04Z",
            "2023-08-28T14:40:38.0411Z",
            "2023-08-28 14:40:38.041Z",
            "2023-08-28T14:40:38.041+00",
            "2023-02-30T14:40:38.041Z",
        ] {
            assert!(strict_date("d", bad).is_err(), "{bad}");
        }
    }
}
