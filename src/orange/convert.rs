//! Wire <-> domain conversion, and the readers for whole response bodies.
//!
//! Every failure names the JSON path that failed, so a log line says exactly what Orange sent wrong.
//! A search page is read ticket by ticket: one bad ticket is reported, the others are kept.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire::{
    AddCommentRequest, ContactMediumDto, CreateTicketRequest, CreateTicketResponse, NoteDto,
    PARTY_TYPE, PartyCharacteristicDto, RelatedEntityDto, RelatedPartyDto, ServiceEntryDto,
    TicketDto, TicketEnvelope,
};
use crate::domain::{
    ContactMedium, IdError, NewComment, NewTicket, Note, NoteKind, Party, Service, ServiceNumber,
    Status, StatusChange, TechnicalNumber, Ticket, TicketId,
};

/// A payload that could not be read: where (a JSON path such as `ticket.note[0].date`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at `{path}`: {reason}")]
pub struct WireError {
    pub path: String,
    pub reason: String,
}

impl WireError {
    pub fn new(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// Prefixes the path, e.g. `note[0].date` under `ticket` becomes `ticket.note[0].date`.
    fn under(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty() || path == ".") {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

fn id_error(path: &str, e: IdError) -> WireError {
    WireError::new(path, e)
}

/// Deserializes `T` from a JSON value, keeping the path of the first failure.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, WireError> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// Deserializes `T` from JSON text, keeping the path of the first failure.
pub fn from_str<T: DeserializeOwned>(body: &str) -> Result<T, WireError> {
    let mut de = serde_json::Deserializer::from_str(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end().map_err(|e| WireError::new("", e))?;
    Ok(value)
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> WireError {
    let path = e.path().to_string();
    WireError::new(if path == "." { String::new() } else { path }, e.inner())
}

// ---------------------------------------------------------------------------------------------
// Responses -> domain

impl TryFrom<TicketDto> for Ticket {
    type Error = WireError;

    fn try_from(dto: TicketDto) -> Result<Self, WireError> {
        let id = dto
            .id
            .ok_or_else(|| WireError::new("id", "missing"))
            .and_then(|id| TicketId::parse(&id).map_err(|e| id_error("id", e)))?;
        let status = dto
            .status
            .filter(|s| !s.trim().is_empty())
            .map(|s| Status::from_wire(&s))
            .ok_or_else(|| WireError::new("status", "missing"))?;

        let (service, technical) = numbers_from_wire(&dto.related_entity);
        let notes = dto
            .note
            .map(|notes| notes.into_iter().map(note_from_wire).collect());
        let parties = dto.related_party.into_iter().map(party_from_wire).collect();

        let status_change = dto
            .status_change
            .map(|s| StatusChange {
                date: s.change_date,
                reason: s.change_reason,
            })
            .unwrap_or_default();

        Ok(Ticket {
            id,
            status,
            description: dto.description,
            created: dto.creation_date,
            service,
            technical,
            resolution_date: dto.resolution_date,
            status_change,
            external_id: dto.external_id,
            parties,
            notes,
            priority: dto.priority,
            escalation_level: dto.escalation_level,
            // Why: "no attachment" is spelled `{"name": "{}"}` or `{"name": null}`.
            attachment: dto
                .attachment
                .and_then(|a| a.name)
                .filter(|n| !matches!(n.trim(), "" | "{}")),
            extra: dto
                .extra
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
        })
    }
}

/// The ticket's service and technical numbers, from its related entities.
fn numbers_from_wire(
    entities: &[RelatedEntityDto],
) -> (Option<ServiceNumber>, Option<TechnicalNumber>) {
    let mut service = None;
    let mut technical = None;
    for (i, entity) in entities.iter().enumerate() {
        let Some(value) = entity.id.as_deref() else {
            continue;
        };
        // An unreadable number is logged and left out: the ticket is still worth showing.
        let path = || format!("relatedentity[{i}].id");
        match entity.role.as_deref() {
            // Read roles first; the create roles are accepted too, for gateways that echo them.
            Some("product" | "orangeServiceNumber") if service.is_none() => {
                service = readable(path, ServiceNumber::parse(value));
            }
            Some("additionalTechnicalInformation" | "technicalNumber") if technical.is_none() => {
                technical = readable(path, TechnicalNumber::parse(value));
            }
            _ => {}
        }
    }
    (service, technical)
}

fn note_from_wire(n: NoteDto) -> Note {
    Note {
        date: n.date,
        kind: NoteKind::from_wire(&n.kind),
        text: n.text,
    }
}

fn party_from_wire(p: RelatedPartyDto) -> Party {
    Party {
        role: p.role.unwrap_or_default(),
        name: p.name.unwrap_or_default(),
        // Why: Orange lists every contact slot, most with a null value; keep the filled ones.
        media: p
            .contact_medium
            .into_iter()
            .filter_map(|m| {
                let value = m.id.filter(|v| !v.trim().is_empty())?;
                Some(ContactMedium {
                    kind: m.contact_type.unwrap_or_default(),
                    value,
                })
            })
            .collect(),
    }
}

/// An id read where its absence is tolerable: unreadable is logged and `None`.
fn readable<T>(path: impl FnOnce() -> String, parsed: Result<T, IdError>) -> Option<T> {
    parsed.map_err(|e| ignored(&id_error(&path(), e))).ok()
}

/// Reports a part of an answer that was left out so that the rest could be kept.
fn ignored(error: &WireError) {
    tracing::warn!(path = %error.path, reason = %error.reason, "ignored an unreadable part of Orange's answer");
}

/// Reads a get-ticket body `{"ticket": {...}}`. Only the id and the status are required: any
/// other field that cannot be read is logged and left out (see `quirks`).
pub fn parse_ticket_body(body: &str) -> Result<Ticket, WireError> {
    let _span = tracing::info_span!("ticket").entered();
    let envelope: TicketEnvelope = from_str(body)?;
    Ticket::try_from(envelope.ticket).map_err(|e| e.under("ticket"))
}

/// Reads a service-numbers body: one [`Service`] per service number, carrying its product.
/// An entry or a number that cannot be read is logged and left out; only a body that is not a
/// list is an error.
pub fn parse_services_body(body: &str) -> Result<Vec<Service>, WireError> {
    let entries: Vec<Value> = from_str(body)?;
    let entries = entries.into_iter().enumerate().filter_map(|(i, entry)| {
        from_value::<ServiceEntryDto>(entry)
            .map_err(|e| ignored(&e.under(&format!("[{i}]"))))
            .ok()
            .map(|entry| (i, entry))
    });
    Ok(services_from_wire(entries))
}

fn services_from_wire(entries: impl Iterator<Item = (usize, ServiceEntryDto)>) -> Vec<Service> {
    let mut services = Vec::new();
    for (i, entry) in entries {
        let characteristic = |name: &str| {
            entry
                .product_characteristic
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.value.clone())
        };
        let product_type = characteristic("productType");
        let label = characteristic("productTypeLabel");
        for (j, number) in entry.orange_service_numbers.iter().enumerate() {
            let path = format!("[{i}].orangeServiceNumbers[{j}]");
            let service = match ServiceNumber::parse(&number.orange_service_number) {
                Ok(service) => service,
                Err(e) => {
                    ignored(&id_error(&format!("{path}.orangeServiceNumber"), e));
                    continue;
                }
            };
            let technical_numbers = number
                .technical_numbers
                .iter()
                .enumerate()
                .filter_map(|(k, t)| {
                    TechnicalNumber::parse(t)
                        .map_err(|e| {
                            ignored(&id_error(&format!("{path}.technicalNumbers[{k}]"), e))
                        })
                        .ok()
                })
                .collect();
            services.push(Service {
                number: service,
                product_type: product_type.clone(),
                label: label.clone(),
                technical_numbers,
            });
        }
    }
    services
}

/// Reads a create-ticket response body and returns the new id.
pub fn parse_created_body(body: &str) -> Result<TicketId, WireError> {
    let created: CreateTicketResponse = from_str(body)?;
    let id = created
        .ticket_id
        .id
        .ok_or_else(|| WireError::new("ticketId.id", "missing"))?;
    TicketId::parse(&id).map_err(|e| id_error("ticketId.id", e))
}

// ---------------------------------------------------------------------------------------------
// Search: tolerant, ticket by ticket

/// A ticket of a search page that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTicket {
    /// Position in `search.tickets`.
    pub index: usize,
    /// The ticket's id, when it could still be made out.
    pub id: Option<String>,
    pub error: WireError,
}

/// The tickets of one search page: the good ones, and a report for each bad one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchBody {
    pub tickets: Vec<Ticket>,
    pub rejected: Vec<RejectedTicket>,
    /// The body ended before the ticket list was closed: more tickets may have been lost.
    pub truncated: bool,
}

/// Reads a search body `{"search": {"tickets": [...]}}`.
///
/// A ticket that fails to parse or convert is reported in `rejected` and the rest are kept. When the
/// body is not valid JSON at all (Orange's own example is not), the ticket list is cut into its
/// elements by bracket matching and each element is read on its own. Only a body with no
/// recognisable ticket list is an error.
pub fn parse_search_body(body: &str) -> Result<SearchBody, WireError> {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => {
            let tickets = match value {
                Value::Object(mut top) => match top.remove("search") {
                    Some(Value::Object(mut search)) => search.remove("tickets"),
                    Some(Value::Null) | None => {
                        return Err(WireError::new("search", "missing"));
                    }
                    Some(_) => return Err(WireError::new("search", "expected an object")),
                },
                _ => return Err(WireError::new("", "expected an object with `search`")),
            };
            let elements = match tickets {
                // Why: an empty result may come as `null` or without the key.
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(_) => {
                    return Err(WireError::new("search.tickets", "expected an array"));
                }
            };
            let mut out = SearchBody::default();
            for (index, element) in elements.into_iter().enumerate() {
                let id = element.get("id").and_then(id_text);
                let _span = tracing::info_span!("search_ticket", index, id).entered();
                let read = from_value::<TicketDto>(element).and_then(Ticket::try_from);
                push_read(&mut out, index, id, read);
            }
            Ok(out)
        }
        Err(syntax) => salvage_search(body, &syntax),
    }
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn push_read(
    out: &mut SearchBody,
    index: usize,
    id: Option<String>,
    read: Result<Ticket, WireError>,
) {
    match read {
        Ok(ticket) => out.tickets.push(ticket),
        Err(error) => out.rejected.push(RejectedTicket {
            index,
            id,
            error: error.under(&format!("search.tickets[{index}]")),
        }),
    }
}

/// The fallback for a body that is not JSON: find the `"tickets": [` list and read each element.
fn salvage_search(body: &str, syntax: &serde_json::Error) -> Result<SearchBody, WireError> {
    let Some(start) = find_tickets_array(body) else {
        return Err(WireError::new("", syntax));
    };
    let mut out = SearchBody::default();
    let bytes = body.as_bytes();
    let mut pos = start;
    let mut index = 0;
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b',') {
            pos += 1;
        }
        match bytes.get(pos) {
            None => {
                out.truncated = true;
                break;
            }
            Some(b']') => break,
            Some(_) => {
                let reject = |out: &mut SearchBody, id, reason: &str| {
                    out.rejected.push(RejectedTicket {
                        index,
                        id,
                        error: WireError::new(format!("search.tickets[{index}]"), reason),
                    });
                };
                let Some(end) = element_end(bytes, pos) else {
                    out.truncated = true;
                    reject(
                        &mut out,
                        sniff_id(&body[pos..]),
                        "the body ends inside this ticket",
                    );
                    break;
                };
                if end == pos {
                    // A stray `}`: no element to step over, so nothing after it can be trusted.
                    out.truncated = true;
                    reject(&mut out, None, "the rest of the list is unreadable");
                    break;
                }
                let element = &body[pos..end];
                let id = sniff_id(element);
                if element.starts_with('{') {
                    let _span = tracing::info_span!("search_ticket", index, id).entered();
                    let read = from_str::<TicketDto>(element).and_then(Ticket::try_from);
                    push_read(&mut out, index, id, read);
                } else {
                    // Not a ticket (`null`, a bare word): reported, and the list goes on after it.
                    reject(&mut out, id, "expected a ticket object");
                }
                pos = end;
                index += 1;
            }
        }
    }
    Ok(out)
}

/// Position just after the `[` of `"tickets": [`, if present.
fn find_tickets_array(body: &str) -> Option<usize> {
    let key = body.find("\"tickets\"")?;
    let rest = &body[key + "\"tickets\"".len()..];
    let colon = rest.find(|c: char| !c.is_whitespace())?;
    if !rest[colon..].starts_with(':') {
        return None;
    }
    let after_colon = &rest[colon + 1..];
    let bracket = after_colon.find(|c: char| !c.is_whitespace())?;
    after_colon[bracket..]
        .starts_with('[')
        .then(|| body.len() - after_colon.len() + bracket + 1)
}

/// End (exclusive) of the list element that starts at `start`: the `,`, `]` or stray `}` that
/// follows it at its own depth, brackets and strings inside it skipped. `None` when the body ends
/// first.
fn element_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => depth -= 1,
            b',' | b'}' | b']' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Best effort: the first `"id": "..."` of a ticket text that is not valid JSON.
fn sniff_id(text: &str) -> Option<String> {
    let key = text.find("\"id\"")?;
    let rest = text[key + 4..].trim_start().strip_prefix(':')?.trim_start();
    let value = rest.strip_prefix('"')?;
    let end = value.find('"')?;
    Some(value[..end].to_owned())
}

// ---------------------------------------------------------------------------------------------
// Domain -> requests

impl From<&NewTicket> for CreateTicketRequest {
    fn from(t: &NewTicket) -> Self {
        let mut media = Vec::new();
        if let Some(email) = &t.contact.email {
            media.push(ContactMediumDto {
                id: Some(email.clone()),
                contact_type: Some("email".into()),
            });
        }
        if let Some(phone) = &t.contact.phone {
            media.push(ContactMediumDto {
                id: Some(phone.clone()),
                contact_type: Some("phone".into()),
            });
        }
        let characteristic = |name: &str, value: &str| PartyCharacteristicDto {
            id: String::new(),
            name: name.into(),
            value: value.into(),
        };
        CreateTicketRequest {
            attachment: Vec::new(),
            related_party: vec![RelatedPartyDto {
                contact_medium: media,
                name: Some(t.contact.full_name()),
                role: Some("depositor".into()),
                characteristic: vec![
                    characteristic("firstName", &t.contact.first_name),
                    characteristic("lastName", &t.contact.last_name),
                ],
                kind: Some(PARTY_TYPE.into()),
            }],
            related_entity: vec![
                RelatedEntityDto {
                    id: Some(t.service.to_string()),
                    role: Some("orangeServiceNumber".into()),
                },
                RelatedEntityDto {
                    id: Some(t.technical.to_string()),
                    role: Some("technicalNumber".into()),
                },
            ],
            external_id: t.external_id.clone(),
            description: Some(t.description.clone()),
        }
    }
}

impl From<&NewComment> for AddCommentRequest {
    fn from(c: &NewComment) -> Self {
        AddCommentRequest {
            attachment: Vec::new(),
            note: NoteDto {
                date: c.date,
                kind: NoteKind::Comments.as_wire().to_owned(),
                text: c.text.clone(),
                at_type: None,
            },
            related_entity: RelatedEntityDto {
                id: Some(c.service.to_string()),
                role: Some("orangeServiceNumber".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_like_json_paths() {
        assert_eq!(join_path("ticket", "note[0].date"), "ticket.note[0].date");
        assert_eq!(join_path("search.tickets[2]", "id"), "search.tickets[2].id");
        assert_eq!(join_path("search.tickets[2]", ""), "search.tickets[2]");
        assert_eq!(join_path("", "[1].x"), "[1].x");
    }

    #[test]
    fn an_element_ends_at_its_own_depth_ignoring_brackets_in_strings() {
        let text = br#"{"a":"}{,","b":{"c":[1,{"d":2}]}} ,tail"#;
        assert_eq!(element_end(text, 0), Some(34));
        assert_eq!(element_end(br#"{"a":1"#, 0), None);
        assert_eq!(element_end(b"null, {}", 0), Some(4));
        assert_eq!(element_end(b"bare words]", 0), Some(10));
        assert_eq!(element_end(br#""a\"],", 1"#, 0), Some(7));
    }

    #[test]
    fn a_ticket_without_a_readable_id_or_status_names_its_path() {
        let body = r#"{"ticket":{"id":"bad id!","status":"ongoing"}}"#;
        assert_eq!(parse_ticket_body(body).unwrap_err().path, "ticket.id");
        let body = r#"{"ticket":{"id":"1","status":["ongoing"]}}"#;
        assert_eq!(parse_ticket_body(body).unwrap_err().path, "ticket.status");
        let body = r#"{"ticket":{"id":"1","status":" "}}"#;
        assert_eq!(parse_ticket_body(body).unwrap_err().path, "ticket.status");
    }

    #[test]
    fn an_unreadable_note_is_left_out_and_the_others_kept() {
        let body = r#"{"ticket":{"id":"1","status":"ongoing","note":[
            {"date":"soon","type":"x","text":"lost"},
            {"date":"2023-07-20T15:18:38.000Z","type":"x","text":"kept"}]}}"#;
        let notes = parse_ticket_body(body)
            .expect("parses")
            .notes
            .expect("notes");
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].text, "kept");
    }

    #[test]
    fn a_search_body_without_a_ticket_list_is_an_error() {
        assert!(parse_search_body("<html>502 Bad Gateway</html>").is_err());
        assert_eq!(
            parse_search_body(r#"{"foo":1}"#).unwrap_err().path,
            "search"
        );
        let empty = parse_search_body(r#"{"search":{"tickets":[]}}"#).expect("empty page");
        assert!(empty.tickets.is_empty() && empty.rejected.is_empty() && !empty.truncated);
    }
}
