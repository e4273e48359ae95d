//! Property tests that mutate the seed fixtures the way a sloppy gateway might: a field dropped,
//! set to `null`, sent as another JSON type, or its key in another case; for a search page also a
//! ticket garbled or the body cut inside a ticket. Whatever happens, no reader panics, and every
//! ticket (service number, token) that still has what it cannot do without comes through:
//!
//! - a ticket needs an `id` (a string or number `TicketId::parse` accepts, not `"null"`) and a
//!   `status` (a non-blank string, not `"null"`), both under those exact keys;
//! - a service number needs `orangeServiceNumber`, a string `ServiceNumber::parse` accepts;
//! - a token needs `access_token`, a string.
//!
//! Everything else may be malformed: it is read as absent, never a reason to drop the ticket.

use orange_ticket_bot::domain::{ServiceNumber, TechnicalNumber, TicketId};
use orange_ticket_bot::orange::convert::{
    from_str, parse_search_body, parse_services_body, parse_ticket_body,
};
use orange_ticket_bot::orange::wire::TokenResponse;
use proptest::prelude::*;
use proptest::sample::Index;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::fixture;

/// The token answer of CONTRACT.md (not on Orange's page, so not a fixture file).
const TOKEN_SEED: &str =
    r#"{"token_type":"Bearer","access_token":"a-secret-token","expires_in":3600}"#;

// ---------------------------------------------------------------------------------------------
// Mutations

/// One step of a JSON path: an object key or an array position.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    At(usize),
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    String,
    Number,
    Bool,
    Array,
    Object,
}

#[derive(Debug, Clone, Copy)]
enum Case {
    Upper,
    Lower,
    FlipFirst,
}

#[derive(Debug, Clone)]
enum Mutation {
    Drop,
    Null,
    Retype(Kind),
    RenameCase(Case),
}

/// Where a mutation lands: anywhere in the document, or on a field of a ticket (entry, token)
/// itself, so that ids and statuses are hit often enough.
#[derive(Debug, Clone)]
enum Target {
    Anywhere(Index),
    Shallow(Index),
}

#[derive(Debug, Clone)]
struct Edit {
    target: Target,
    mutation: Mutation,
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let kind = prop_oneof![
        Just(Kind::String),
        Just(Kind::Number),
        Just(Kind::Bool),
        Just(Kind::Array),
        Just(Kind::Object),
    ];
    let case = prop_oneof![Just(Case::Upper), Just(Case::Lower), Just(Case::FlipFirst)];
    let mutation = prop_oneof![
        Just(Mutation::Drop),
        Just(Mutation::Null),
        kind.prop_map(Mutation::Retype),
        case.prop_map(Mutation::RenameCase),
    ];
    let target = prop_oneof![
        3 => any::<Index>().prop_map(Target::Anywhere),
        1 => any::<Index>().prop_map(Target::Shallow),
    ];
    (target, mutation).prop_map(|(target, mutation)| Edit { target, mutation })
}

fn arb_edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(arb_edit(), 1..6)
}

/// Every path below `value` (the root excluded), parents before children.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::At(i), v))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        prefix.push(step);
        out.push(prefix.clone());
        paths(child, prefix, out);
        prefix.pop();
    }
}

fn get_mut<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::At(i) => v.get_mut(*i),
    })
}

/// Applies `edits` in turn; each picks its path among those of the document as it is then.
/// `shallow` is the depth of a ticket's own fields (2 for `ticket.id`, 4 for
/// `search.tickets[0].id`).
fn mutate(mut doc: Value, edits: &[Edit], shallow: usize) -> Value {
    for edit in edits {
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        let candidates: Vec<_> = match &edit.target {
            Target::Anywhere(_) => all,
            Target::Shallow(_) => all.into_iter().filter(|p| p.len() == shallow).collect(),
        };
        if candidates.is_empty() {
            continue;
        }
        let index = match &edit.target {
            Target::Anywhere(i) | Target::Shallow(i) => i.index(candidates.len()),
        };
        apply(&mut doc, &candidates[index], &edit.mutation);
    }
    doc
}

fn apply(doc: &mut Value, path: &[Step], mutation: &Mutation) {
    let (last, parent_path) = path.split_last().expect("never the root");
    let Some(parent) = get_mut(doc, parent_path) else {
        return;
    };
    match (mutation, parent, last) {
        (Mutation::Drop, Value::Object(map), Step::Key(k)) => {
            map.remove(k);
        }
        (Mutation::Drop, Value::Array(items), Step::At(i)) => {
            items.remove(*i);
        }
        (Mutation::RenameCase(case), Value::Object(map), Step::Key(k)) => {
            let renamed = match case {
                Case::Upper => k.to_uppercase(),
                Case::Lower => k.to_lowercase(),
                Case::FlipFirst => flip_first(k),
            };
            if let Some(v) = map.remove(k) {
                map.insert(renamed, v);
            }
        }
        // Renaming an array element has no key to rename: leave it.
        (Mutation::RenameCase(_), _, _) => {}
        (Mutation::Null, parent, step) | (Mutation::Drop, parent, step) => {
            if let Some(v) = get_mut(parent, std::slice::from_ref(step)) {
                *v = Value::Null;
            }
        }
        (Mutation::Retype(kind), parent, step) => {
            if let Some(v) = get_mut(parent, std::slice::from_ref(step)) {
                *v = retype(v.take(), *kind);
            }
        }
    }
}

fn flip_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() => c.to_lowercase().chain(chars).collect(),
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The value as another JSON type, keeping what can be kept (`"42"` <-> `42`, `x` -> `[x]`).
fn retype(old: Value, kind: Kind) -> Value {
    match kind {
        Kind::String => match old {
            Value::String(_) => Value::String(String::new()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Null => Value::String("null".into()),
            other => Value::String(other.to_string()),
        },
        Kind::Number => match &old {
            Value::String(s) => s.trim().parse::<i64>().map_or(json!(42), Value::from),
            Value::Bool(b) => json!(u8::from(*b)),
            Value::Number(n) => json!(n.as_f64().unwrap_or(0.0) + 0.5),
            _ => json!(7),
        },
        Kind::Bool => Value::Bool(!matches!(old, Value::Bool(true))),
        Kind::Array => match old {
            // `"attachment": []` and friends.
            Value::Array(_) => Value::Array(Vec::new()),
            other => Value::Array(vec![other]),
        },
        Kind::Object => match old {
            Value::Object(_) => Value::Object(Map::new()),
            other => json!({ "value": other }),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// What "still has what it cannot do without" means

fn readable_id(ticket: &Value) -> bool {
    match ticket.get("id") {
        Some(Value::String(s)) => s != "null" && TicketId::parse(s).is_ok(),
        Some(Value::Number(n)) => TicketId::parse(&n.to_string()).is_ok(),
        _ => false,
    }
}

fn readable_status(ticket: &Value) -> bool {
    matches!(ticket.get("status"), Some(Value::String(s)) if !s.trim().is_empty() && s != "null")
}

/// A ticket that must come through.
fn readable_ticket(ticket: &Value) -> bool {
    ticket.is_object() && readable_id(ticket) && readable_status(ticket)
}

/// A ticket that must be rejected: not an object, or no id or status at all.
fn hopeless_ticket(ticket: &Value) -> bool {
    let absent = |key: &str| ticket.get(key).is_none_or(Value::is_null);
    !ticket.is_object() || absent("id") || absent("status")
}

fn seed(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("the seed is JSON")
}

fn ticket_ids(page: &[orange_ticket_bot::domain::Ticket]) -> Vec<String> {
    page.iter().map(|t| t.id.to_string()).collect()
}

fn id_of(ticket: &Value) -> String {
    let raw = match &ticket["id"] {
        Value::Number(n) => n.to_string(),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    TicketId::parse(&raw)
        .map(|id| id.to_string())
        .unwrap_or(raw)
}

// ---------------------------------------------------------------------------------------------
// Checks, shared by the property tests and the regression tests

/// Reads a mutated get-ticket body and checks the property.
pub(crate) fn check_ticket_body(doc: &Value) -> Result<(), TestCaseError> {
    let parsed = parse_ticket_body(&doc.to_string());
    let ticket = &doc["ticket"];
    if readable_ticket(ticket) {
        let t = parsed.map_err(|e| TestCaseError::fail(format!("ticket rejected: {e}")))?;
        prop_assert_eq!(t.id.to_string(), id_of(ticket));
    } else if hopeless_ticket(ticket) {
        prop_assert!(
            parsed.is_err(),
            "a ticket without id or status was accepted"
        );
    }
    Ok(())
}

/// Reads a mutated search body and checks the property.
pub(crate) fn check_search_body(doc: &Value) -> Result<(), TestCaseError> {
    let parsed = parse_search_body(&doc.to_string());
    let Some(elements) = doc.pointer("/search/tickets").and_then(Value::as_array) else {
        return Ok(());
    };
    let page = parsed.map_err(|e| TestCaseError::fail(format!("page rejected: {e}")))?;
    prop_assert_eq!(page.tickets.len() + page.rejected.len(), elements.len());
    prop_assert!(!page.truncated);
    let rejected: Vec<usize> = page.rejected.iter().map(|r| r.index).collect();
    let mut kept = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        if readable_ticket(element) {
            prop_assert!(
                !rejected.contains(&i),
                "ticket {} rejected: {:?}",
                i,
                page.rejected
            );
        } else if hopeless_ticket(element) {
            prop_assert!(
                rejected.contains(&i),
                "ticket {} without id or status kept",
                i
            );
        }
        if !rejected.contains(&i) {
            kept.push(id_of(element));
        }
    }
    prop_assert_eq!(ticket_ids(&page.tickets), kept);
    Ok(())
}

/// Reads a mutated service-numbers body and checks the property.
pub(crate) fn check_services_body(doc: &Value) -> Result<(), TestCaseError> {
    let parsed = parse_services_body(&doc.to_string());
    let Some(entries) = doc.as_array() else {
        return Ok(());
    };
    let services = parsed.map_err(|e| TestCaseError::fail(format!("list rejected: {e}")))?;
    let mut expected = Vec::new();
    for entry in entries {
        let numbers = entry.get("orangeServiceNumbers").and_then(Value::as_array);
        for number in numbers.into_iter().flatten() {
            let Some(service) = number
                .get("orangeServiceNumber")
                .and_then(Value::as_str)
                .and_then(|s| ServiceNumber::parse(s).ok())
            else {
                continue;
            };
            let technical: Vec<TechnicalNumber> = number
                .get("technicalNumbers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| TechnicalNumber::parse(t.as_str()?).ok())
                .collect();
            expected.push((service, technical));
        }
    }
    let got: Vec<_> = services
        .into_iter()
        .map(|s| (s.number, s.technical_numbers))
        .collect();
    prop_assert_eq!(got, expected);
    Ok(())
}

/// Reads a mutated token answer and checks the property.
pub(crate) fn check_token(doc: &Value) -> Result<(), TestCaseError> {
    let parsed = from_str::<TokenResponse>(&doc.to_string());
    let Some(secret) = doc.get("access_token").and_then(Value::as_str) else {
        return Ok(());
    };
    let token = parsed.map_err(|e| TestCaseError::fail(format!("token rejected: {e}")))?;
    prop_assert_eq!(token.access_token.expose_secret(), secret);
    // A lifetime that cannot be read is "not said" (0): the cache then uses its default.
    let said = match &doc["expires_in"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    prop_assert_eq!(token.expires_in, said.unwrap_or(0));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A search page as text: one ticket garbled, or the body cut inside a ticket

#[derive(Debug, Clone)]
enum Damage {
    /// The page's own defect: a bare word where a value should be.
    BareWord,
    /// The body ends at this fraction of the ticket's text.
    CutAt(Index),
}

/// The page with its tickets written one by one, ticket `k` damaged; also the element count the
/// reader must account for.
fn damaged_page(elements: &[Value], k: usize, damage: &Damage) -> (String, usize) {
    let mut body = String::from(r#"{"search":{"tickets":["#);
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let text = element.to_string();
        if i != k {
            body.push_str(&text);
            continue;
        }
        match damage {
            Damage::BareWord if text.starts_with('{') => {
                body.push_str(r#"{"description": Description of the ticket,"#);
                body.push_str(&text[1..]);
            }
            // Not an object: a bare word instead of it.
            Damage::BareWord => body.push_str("Description"),
            Damage::CutAt(at) => {
                // Cut after the first byte and before the last, on a character boundary.
                let mut end = 1 + at.index(text.len().max(2) - 1);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                body.push_str(&text[..end]);
                return (body, k + 1);
            }
        }
    }
    body.push_str("]}}");
    (body, elements.len())
}

fn check_damaged_page(doc: &Value, k: Index, damage: &Damage) -> Result<(), TestCaseError> {
    let Some(elements) = doc.pointer("/search/tickets").and_then(Value::as_array) else {
        return Ok(());
    };
    if elements.is_empty() {
        return Ok(());
    }
    let k = k.index(elements.len());
    let (body, count) = damaged_page(elements, k, damage);
    let page = parse_search_body(&body)
        .map_err(|e| TestCaseError::fail(format!("page rejected: {e}\n{body}")))?;
    prop_assert_eq!(
        page.tickets.len() + page.rejected.len(),
        count,
        "{:?}\n{}",
        page.rejected,
        body
    );
    let rejected: Vec<usize> = page.rejected.iter().map(|r| r.index).collect();
    prop_assert!(rejected.contains(&k), "the damaged ticket {} was kept", k);
    prop_assert_eq!(page.truncated, matches!(damage, Damage::CutAt(_)));
    for (i, element) in elements.iter().enumerate().take(count) {
        if i != k && readable_ticket(element) {
            prop_assert!(
                !rejected.contains(&i),
                "ticket {} rejected: {:?}",
                i,
                page.rejected
            );
        }
    }
    Ok(())
}

fn arb_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::BareWord),
        any::<Index>().prop_map(Damage::CutAt)
    ]
}

proptest! {
    #[test]
    fn a_mutated_ticket_with_id_and_status_is_read(edits in arb_edits()) {
        check_ticket_body(&mutate(seed("get-ticket.response.json"), &edits, 2))?;
    }

    #[test]
    fn every_mutated_search_ticket_with_id_and_status_is_read(edits in arb_edits()) {
        check_search_body(&mutate(seed("search.response.valid.txt"), &edits, 4))?;
    }

    #[test]
    fn a_damaged_search_ticket_costs_only_itself(
        edits in prop::collection::vec(arb_edit(), 0..4),
        k in any::<Index>(),
        damage in arb_damage(),
    ) {
        let doc = mutate(seed("search.response.valid.txt"), &edits, 4);
        check_damaged_page(&doc, k, &damage)?;
    }

    #[test]
    fn every_mutated_service_number_that_is_readable_is_read(edits in arb_edits()) {
        check_services_body(&mutate(seed("service-numbers.response.json"), &edits, 2))?;
    }

    #[test]
    fn a_mutated_token_with_its_secret_is_read(edits in arb_edits()) {
        let seed: Value = serde_json::from_str(TOKEN_SEED).expect("json");
        check_token(&mutate(seed, &edits, 1))?;
    }
}
