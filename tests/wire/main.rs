//! Every JSON example of Orange's getting-started page, read by the wire layer, with the values that
//! matter asserted. The modules: `tolerant` (mistyped fields that must not cost a ticket),
//! `mutations` (property tests that mutate these fixtures), `props` (arbitrary input, round trips).

mod mutations;
mod props;
mod tolerant;

use chrono::{DateTime, Utc};
use orange_ticket_bot::domain::{
    Contact, NewComment, NewTicket, NoteKind, ServiceNumber, Status, TechnicalNumber,
};
use orange_ticket_bot::orange::convert::{
    from_str, parse_created_body, parse_search_body, parse_services_body, parse_ticket_body,
};
use orange_ticket_bot::orange::wire::{
    AddCommentRequest, ApiStatusDto, CreateTicketRequest, ErrorEnvelope,
};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn utc(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .expect("test date")
        .with_timezone(&Utc)
}

fn sn(s: &str) -> ServiceNumber {
    ServiceNumber::parse(s).expect("service number")
}

fn tn(s: &str) -> TechnicalNumber {
    TechnicalNumber::parse(s).expect("technical number")
}

#[test]
fn service_numbers_response() {
    let services = parse_services_body(&fixture("service-numbers.response.json")).expect("parses");
    assert_eq!(services.len(), 1);
    let s = &services[0];
    assert_eq!(s.number, sn("LD000000"));
    assert_eq!(s.product_type.as_deref(), Some("SERVICE_CODE"));
    assert_eq!(s.label.as_deref(), Some("Name of the service"));
    assert_eq!(s.technical_numbers, vec![tn("LD000001")]);
}

fn documented_new_ticket() -> NewTicket {
    NewTicket {
        service: sn("LD000000"),
        technical: tn("LD000001"),
        description: "Please describe the issue here".into(),
        contact: Contact {
            first_name: "John".into(),
            last_name: "Doe".into(),
            email: Some("email@email.com".into()),
            phone: Some("+331234567890".into()),
        },
        external_id: Some("Customer Reference".into()),
    }
}

#[test]
fn create_ticket_request_is_read_and_is_exactly_what_we_send() {
    let raw = fixture("create-ticket.request.json");
    let req: CreateTicketRequest = from_str(&raw).expect("parses");
    assert!(req.attachment.is_empty());
    assert_eq!(
        req.description.as_deref(),
        Some("Please describe the issue here")
    );
    assert_eq!(req.external_id.as_deref(), Some("Customer Reference"));
    let roles: Vec<_> = req
        .related_entity
        .iter()
        .map(|e| (e.id.as_deref(), e.role.as_deref()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (Some("LD000000"), Some("orangeServiceNumber")),
            (Some("LD000001"), Some("technicalNumber"))
        ]
    );
    let party = &req.related_party[0];
    assert_eq!(party.name.as_deref(), Some("John Doe"));
    assert_eq!(party.role.as_deref(), Some("depositor"));
    assert_eq!(party.kind.as_deref(), Some("RelatedPartyTtContactMedium"));
    assert_eq!(party.contact_medium.len(), 2);
    assert_eq!(party.characteristic[1].value, "Doe");

    // The body we build from the domain is, as JSON, the page's example.
    let ours = serde_json::to_value(CreateTicketRequest::from(&documented_new_ticket()))
        .expect("serializes");
    let theirs: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(ours, theirs);
}

#[test]
fn create_ticket_response_gives_the_id() {
    let id = parse_created_body(&fixture("create-ticket.response.json")).expect("parses");
    assert_eq!(id.as_str(), "1234567890");
}

#[test]
fn add_comment_request_is_read_and_is_exactly_what_we_send() {
    let raw = fixture("add-comment.request.json");
    let req: AddCommentRequest = from_str(&raw).expect("parses");
    assert_eq!(req.note.date, utc("2023-08-28T14:40:38.041Z"));
    assert_eq!(req.note.kind, "Comments");
    assert_eq!(req.note.text, "Type the new comment here");
    assert_eq!(req.related_entity.id.as_deref(), Some("LD000000"));

    let ours = serde_json::to_value(AddCommentRequest::from(&NewComment {
        service: sn("LD000000"),
        date: utc("2023-08-28T14:40:38.041Z"),
        text: "Type the new comment here".into(),
    }))
    .expect("serializes");
    let theirs: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(ours, theirs);
}

#[test]
fn get_ticket_response_with_every_quirk() {
    let t = parse_ticket_body(&fixture("get-ticket.response.json")).expect("parses");
    assert_eq!(t.id.as_str(), "1234567890");
    assert_eq!(
        t.description, None,
        "the string \"null\" means no description"
    );
    assert_eq!(t.status, Status::Ongoing);
    assert_eq!(t.created, Some(utc("2023-07-20T15:18:00.000Z")));
    assert_eq!(t.service, Some(sn("LD000000")));
    assert_eq!(t.technical, Some(tn("LD000001")));
    assert_eq!(t.resolution_date, None, "1970 sentinel");
    assert_eq!(t.status_change.date, None, "1970 sentinel");
    assert_eq!(t.status_change.reason.as_deref(), Some("Closure"));
    assert_eq!(t.external_id.as_deref(), Some("Customer reference"));
    let notes = t.notes.as_ref().expect("get returns notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].date, utc("2023-07-20T15:18:38.000Z"));
    assert_eq!(notes[0].kind, NoteKind::InwardCustomerComments);
    assert_eq!(notes[0].text, "Comment 1");
    assert_eq!(t.parties.len(), 2);
    assert_eq!(t.parties[0].role, "csc");
    assert_eq!(t.parties[0].media.len(), 6);
    assert_eq!(t.parties[0].media[4].value, "csciw@orange.com");
    assert_eq!(t.reported_by(), Some("John Doe"));
    // Null contact slots are dropped, the one filled phone is kept.
    assert_eq!(t.parties[1].media.len(), 1);
    assert_eq!(t.parties[1].media[0].kind, "phone");
    assert_eq!(t.priority, None);
    assert_eq!(t.escalation_level.as_deref(), Some("0"));
    assert_eq!(t.attachment, None, "`{{}}` means no attachment");
    assert!(
        t.extra.is_empty(),
        "every documented field is known: {:?}",
        t.extra
    );
}

#[test]
fn the_pages_search_example_is_reported_not_crashed_on() {
    let page = parse_search_body(&fixture("search.response.invalid.json")).expect("salvaged");
    assert!(page.tickets.is_empty());
    assert_eq!(page.rejected.len(), 1);
    let bad = &page.rejected[0];
    assert_eq!(bad.index, 0);
    assert_eq!(bad.id.as_deref(), Some("1234567890"));
    assert_eq!(bad.error.path, "search.tickets[0].description");
    assert!(page.truncated, "the example stops before closing the list");
}

#[test]
fn a_search_page_with_one_bad_ticket_keeps_the_others() {
    let page = parse_search_body(&fixture("search.response.mixed.txt")).expect("salvaged");
    let ids: Vec<_> = page.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec!["1000000001", "1000000003"]);
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].index, 1);
    assert_eq!(page.rejected[0].id.as_deref(), Some("1000000002"));
    assert!(!page.truncated);

    let first = &page.tickets[0];
    assert_eq!(first.status, Status::Restored);
    assert_eq!(first.resolution_date, Some(utc("2023-12-02T09:30:00.000Z")));
    assert_eq!(first.notes, None, "search results carry no notes");

    let last = &page.tickets[1];
    assert_eq!(last.status, Status::Other("pending_vendor".into()));
    assert_eq!(last.description, None);
    assert_eq!(
        last.technical,
        Some(tn("LD000001")),
        "relatedEntity spelling"
    );
    assert_eq!(
        last.extra.get("ticketCategory").map(String::as_str),
        Some("\"network\"")
    );
}

#[test]
fn a_valid_search_page_with_a_bad_ticket_names_its_path() {
    let body = r#"{"search":{"tickets":[
        {"id":"1","status":"ongoing"},
        {"id":"2","status":{"code":"ongoing"},"creationDate":"31/12/2023"},
        {"id":"3","status":"closed","creationDate":"31/12/2023"}]}}"#;
    let page = parse_search_body(body).expect("parses");
    assert_eq!(page.tickets.len(), 2);
    assert_eq!(
        page.tickets[1].created, None,
        "an unreadable date is unknown"
    );
    assert_eq!(page.rejected[0].id.as_deref(), Some("2"));
    assert_eq!(page.rejected[0].error.path, "search.tickets[1].status");
}

#[test]
fn error_body_plain_and_wrapped() {
    let plain: ErrorEnvelope = from_str(&fixture("error.response.json")).expect("parses");
    let body = plain.into_body();
    assert_eq!(body.code, 0);
    assert_eq!(body.message.as_deref(), Some("string"));
    assert_eq!(body.description.as_deref(), Some("string"));
    assert_eq!(body.info_url.as_deref(), Some("string"));

    let wrapped: ErrorEnvelope = from_str(
        r#"{"error":{"code":"42","message":"Expired credentials","description":"The access token has expired"}}"#,
    )
    .expect("parses");
    let body = wrapped.into_body();
    assert_eq!(body.code, 42);
    assert_eq!(body.message.as_deref(), Some("Expired credentials"));
}

#[test]
fn api_status_response() {
    let status: ApiStatusDto = from_str(&fixture("api-status.response.json")).expect("parses");
    assert_eq!(status.status.as_deref(), Some("ok"));
    assert_eq!(status.name.as_deref(), Some("API Ticketing WIN_BUS"));
    assert_eq!(status.version.as_deref(), Some(""));
    let component = status.components.expect("components");
    assert_eq!(component.name.as_deref(), Some("WSE"));
    assert_eq!(component.status.as_deref(), Some("ok"));
}
