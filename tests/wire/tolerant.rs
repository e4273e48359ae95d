//! Tolerant parsing: a mistyped field Orange could send must not cost the whole ticket or token.
//! The cases named in issue 10, and the regressions the mutation tests found.

use orange_ticket_bot::orange::convert::{from_str, parse_search_body, parse_ticket_body};
use orange_ticket_bot::orange::wire::TokenResponse;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::fixture;

/// The get-ticket fixture with one change made to its JSON.
fn get_ticket_with(change: impl FnOnce(&mut Value)) -> String {
    let mut body: Value =
        serde_json::from_str(&fixture("get-ticket.response.json")).expect("fixture is JSON");
    change(&mut body);
    body.to_string()
}

fn at<'a>(body: &'a mut Value, pointer: &str) -> &'a mut Value {
    body.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is in the fixture"))
}

#[test]
fn a_numeric_contact_id_keeps_the_ticket() {
    let body = get_ticket_with(|b| {
        *at(b, "/ticket/relatedParty/1/contactMedium/5/id") = serde_json::json!(331234567890u64);
    });
    let t = parse_ticket_body(&body).expect("a numeric contact id is read as its digits");
    assert_eq!(t.parties[1].media.len(), 1);
    assert_eq!(t.parties[1].media[0].value, "331234567890");
}

#[test]
fn an_attachment_list_keeps_the_ticket() {
    let body = get_ticket_with(|b| *at(b, "/ticket/attachment") = serde_json::json!([]));
    let t = parse_ticket_body(&body).expect("`attachment: []` means no attachment");
    assert_eq!(t.attachment, None);
    assert_eq!(t.id.as_str(), "1234567890");

    let search = format!(r#"{{"search":{{"tickets":[{}]}}}}"#, {
        let mut v: Value = serde_json::from_str(&body).expect("json");
        v["ticket"].take()
    });
    let page = parse_search_body(&search).expect("parses");
    assert_eq!(page.tickets.len(), 1, "rejected: {:?}", page.rejected);

    // The request's shape with an entry, as a gateway echoing it would send.
    let body = get_ticket_with(|b| {
        *at(b, "/ticket/attachment") = serde_json::json!([{"name": "report.pdf"}]);
    });
    let t = parse_ticket_body(&body).expect("an attachment list keeps the ticket");
    assert_eq!(t.attachment.as_deref(), Some("report.pdf"));
}

#[test]
fn a_null_note_type_keeps_the_ticket_and_the_note() {
    let body = get_ticket_with(|b| *at(b, "/ticket/note/0/type") = Value::Null);
    let t = parse_ticket_body(&body).expect("a note without a type is still a note");
    let notes = t.notes.expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "Comment 1");
}

#[test]
fn a_token_answer_without_expires_in_is_accepted() {
    let token: TokenResponse = from_str(r#"{"token_type":"Bearer","access_token":"secret-value"}"#)
        .expect("expires_in is optional");
    // 0 is "not said": the token cache then uses its default lifetime (an hour).
    assert_eq!(token.expires_in, 0);
    assert_eq!(token.access_token.expose_secret(), "secret-value");
}

// Regressions found by the mutation tests (`mutations.rs`), each its minimal failing case.

#[test]
fn a_boolean_ticket_id_is_no_ticket() {
    // Found: `search.tickets[1].id` retyped to `true` was read as the ticket "true".
    let body = r#"{"search":{"tickets":[
        {"id":"1","status":"ongoing"},
        {"id":true,"status":"ongoing"},
        {"id":"3","status":"closed"}]}}"#;
    let page = parse_search_body(body).expect("parses");
    let ids: Vec<_> = page.tickets.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, vec!["1", "3"]);
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].error.path, "search.tickets[1].id");
    let err = parse_ticket_body(r#"{"ticket":{"id":true,"status":"ongoing"}}"#).unwrap_err();
    assert_eq!(err.path, "ticket.id");
}

#[test]
fn a_broken_page_with_a_non_ticket_entry_keeps_the_tickets_after_it() {
    // Found: in a page that is not JSON, an entry that is not an object (`null`, a bare word)
    // stopped the salvage and lost every ticket after it.
    let body = r#"{"search":{"tickets":[Description,
        {"id":"1","status":"ongoing","description": Description of the ticket},
        null,
        {"id":"2","status":"closed"}]}}"#;
    let page = parse_search_body(body).expect("salvaged");
    let ids: Vec<_> = page.tickets.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, vec!["2"]);
    let rejected: Vec<_> = page.rejected.iter().map(|r| r.index).collect();
    assert_eq!(rejected, vec![0, 1, 2]);
    assert_eq!(page.rejected[1].id.as_deref(), Some("1"));
    assert!(!page.truncated, "the list is closed");
}

/// A log sink for one test: what the readers report, as text.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_ignored_field_is_reported_in_the_logs() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let body = get_ticket_with(|b| *at(b, "/ticket/creationDate") = Value::from("yesterday"));
    let t = tracing::subscriber::with_default(subscriber, || parse_ticket_body(&body))
        .expect("an unreadable date is unknown");
    assert_eq!(t.created, None);
    let text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf-8");
    assert!(
        text.contains("WARN") && text.contains("ignored an unreadable field"),
        "{text}"
    );
    assert!(
        text.contains("`yesterday` is not an ISO-8601 date"),
        "{text}"
    );
}
