//! The API routes on good requests: payload shapes and quirks as Orange sends them.

use orange_ticket_bot::domain::{NoteKind, Status};
use orange_ticket_bot::orange::convert::{
    parse_created_body, parse_services_body, parse_ticket_body,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Env, comment_body, create_body};

#[tokio::test]
async fn service_numbers_come_in_orange_shape() {
    let env = Env::start().await;
    let a = env.get("/orangeServiceNumbers").await;
    assert_eq!(a.status, 200);
    let raw = a.json();
    let products = raw.as_array().expect("a list of products");
    assert!(products.len() >= 3);
    for p in products {
        let names: Vec<_> = p["productCharacteristic"]
            .as_array()
            .expect("characteristics")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(names, ["productType", "productTypeLabel"]);
    }
    let services = parse_services_body(&a.body).expect("the client reads it");
    assert!(services.len() >= 5);
    for s in &services {
        assert!((1..=3).contains(&s.technical_numbers.len()), "{s:?}");
        assert!(s.product_type.is_some() && s.label.is_some());
    }
    assert_eq!(
        a.header("X-OAPI-Request-Id")
            .map(|s| s.starts_with("sandbox-")),
        Some(true)
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_created_ticket_reads_back_with_every_documented_quirk() {
    let env = Env::start().await;
    let (service, technical) = env.first_service().await;
    let created = env.create(create_body(&service, &technical)).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = parse_created_body(&created.body).expect("the client reads it");
    assert_eq!(id.as_str().len(), 10);
    assert!(id.as_str().chars().all(|c| c.is_ascii_digit()));

    let a = env.get(&format!("/troubleTicket/{id}")).await;
    assert_eq!(a.status, 200);
    let raw = a.json();
    let t = &raw["ticket"];
    assert_eq!(t["@Type"], "TtEscalationLevel");
    assert_eq!(t["escalationLevel"], "0");
    assert_eq!(t["priority"], Value::Null);
    assert_eq!(t["attachment"], json!({"name": "{}"}));
    assert_eq!(t["resolutionDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(t["statusChange"]["changeDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["note"], json!([]));
    assert_eq!(
        t["relatedentity"],
        json!([
            {"id": service, "role": "product"},
            {"id": technical, "role": "additionalTechnicalInformation"}
        ])
    );
    assert!(t.get("relatedEntity").is_none());
    let depositor = &t["relatedParty"][1];
    assert_eq!(depositor["role"], "depositor");
    assert_eq!(depositor["@type"], "RelatedPartyTtContactMedium");
    assert_eq!(
        depositor["contactMedium"][0],
        json!({"id": null, "contactType": "universalPhone"})
    );
    let created_at = t["creationDate"].as_str().expect("a date");
    assert_eq!(
        created_at.len(),
        "2023-07-20T15:18:00.000Z".len(),
        "{created_at}"
    );

    let ticket = parse_ticket_body(&a.body).expect("the client reads it");
    assert_eq!(ticket.id, id);
    assert_eq!(ticket.status, Status::Submitted);
    assert_eq!(
        ticket.description.as_deref(),
        Some("Please describe the issue here")
    );
    assert_eq!(ticket.external_id.as_deref(), Some("Customer Reference"));
    assert_eq!(ticket.reported_by(), Some("John Doe"));
    assert_eq!(
        ticket.service.as_ref().map(|s| s.to_string()),
        Some(service)
    );
    assert_eq!(ticket.resolution_date, None);
    assert_eq!(ticket.notes, Some(vec![]));
    assert_eq!(env.control().ticket(&id), Some(ticket));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_comment_becomes_a_comments_note() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let (service, _) = env.first_service().await;
    let a = env
        .call(
            Method::PATCH,
            &format!("/troubleTicket/{id}"),
            Some(comment_body(&service, "Comments", "Still down")),
        )
        .await;
    assert_eq!((a.status, a.body.as_str()), (200, ""));
    let ticket =
        parse_ticket_body(&env.get(&format!("/troubleTicket/{id}")).await.body).expect("a ticket");
    let notes = ticket.notes.expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].kind.clone(), notes[0].text.as_str()),
        (NoteKind::Comments, "Still down")
    );
    let raw = env.get(&format!("/troubleTicket/{id}")).await.json();
    assert_eq!(raw["ticket"]["note"][0]["@type"], "NoteTtType");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_api_status_document_is_orange_s() {
    let env = Env::start().await;
    let a = env.get("/status").await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        json!({"status": "ok", "name": "API Ticketing WIN_BUS", "version": "",
               "components": {"status": "ok", "name": "WSE", "version": ""}})
    );
    env.sandbox.shutdown().await;
}
