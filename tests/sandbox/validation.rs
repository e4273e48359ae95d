//! Every route refuses bad input with an Orange error body (status, code, description).

use orange_ticket_bot::orange::convert::parse_services_body;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Answer, Env, comment_body, create_body, read};

async fn expect_error(a: Answer, status: u16, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    let e = a.error();
    assert!(e.description.is_some_and(|d| !d.is_empty()), "{what}");
}

#[tokio::test]
async fn create_refuses_bad_tickets_with_orange_errors() {
    let env = Env::start().await;
    let (service, technical) = env.first_service().await;
    let services = parse_services_body(&env.get("/orangeServiceNumbers").await.body).expect("ok");
    let other_technical = services[1].technical_numbers[0].to_string();

    let unknown = env.create(create_body("LD999999999", &technical)).await;
    expect_error(unknown, 422, "unknown service").await;
    let foreign = env.create(create_body(&service, &other_technical)).await;
    expect_error(foreign, 422, "technical number of another service").await;

    let mut body = create_body(&service, &technical);
    body["description"] = json!("   ");
    expect_error(env.create(body.clone()).await, 400, "blank description").await;
    body["description"] = json!("x".repeat(4001));
    expect_error(env.create(body.clone()).await, 400, "description too long").await;
    body["description"] = json!("x".repeat(4000));
    assert_eq!(
        env.create(body).await.status,
        200,
        "4000 characters are fine"
    );

    let mut body = create_body(&service, &technical);
    body["relatedParty"][0]["name"] = json!("");
    expect_error(env.create(body).await, 400, "no depositor name").await;
    let mut body = create_body(&service, &technical);
    body["relatedEntity"] = json!([{"id": service, "role": "orangeServiceNumber"}]);
    expect_error(env.create(body).await, 400, "no technical number").await;
    let mut body = create_body(&service, &technical);
    body.as_object_mut().map(|o| o.remove("externalId"));
    assert_eq!(env.create(body).await.status, 200, "externalId is optional");

    let garbage = read(
        env.http
            .post(env.url("/troubleTicket"))
            .bearer_auth(&env.token)
            .body("{not json")
            .send()
            .await
            .expect("request"),
    )
    .await;
    expect_error(garbage, 400, "broken JSON").await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn comment_refuses_bad_comments_with_orange_errors() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let (service, _) = env.first_service().await;
    let path = format!("/troubleTicket/{id}");
    let patch = |body: Value| env.call(Method::PATCH, &path, Some(body));
    expect_error(
        patch(comment_body("LD999999", "Comments", "x")).await,
        422,
        "wrong service",
    )
    .await;
    expect_error(
        patch(comment_body(&service, "Comments", " ")).await,
        400,
        "empty text",
    )
    .await;
    expect_error(
        patch(comment_body(&service, "", "x")).await,
        400,
        "empty type",
    )
    .await;
    let missing = env
        .call(
            Method::PATCH,
            "/troubleTicket/9999999999",
            Some(comment_body(&service, "Comments", "x")),
        )
        .await;
    expect_error(missing, 404, "unknown ticket").await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_paths_and_methods_get_orange_errors() {
    let env = Env::start().await;
    expect_error(
        env.get("/troubleTicket/9999999999").await,
        404,
        "unknown id",
    )
    .await;
    expect_error(env.get("/nowhere").await, 404, "unknown path").await;
    let delete = env
        .call(Method::DELETE, "/troubleTicket/9999999999", None)
        .await;
    assert_eq!(delete.error().code, 61);
    expect_error(delete, 405, "DELETE a ticket").await;
    expect_error(
        env.call(Method::POST, "/status", None).await,
        405,
        "POST status",
    )
    .await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_refuses_bad_parameters_with_orange_errors() {
    let env = Env::start().await;
    for (query, what) in [
        ("/troubleTicket?sctxid=wse", "no ctxid"),
        ("/troubleTicket?ctxid=OTHER&sctxid=wse", "bad ctxid"),
        ("/troubleTicket?ctxid=TCKTNG&sctxid=x", "bad sctxid"),
    ] {
        expect_error(env.get(query).await, 400, what).await;
    }
    for (query, what) in [
        ("creationDateFrom=2023-08-28T14:40:38Z", "no milliseconds"),
        ("creationDateFrom=2023-08-28", "date only"),
        (
            "creationDateTo=2023-08-28T14:40:38.041%2B01:00",
            "an offset",
        ),
        ("creationDateTo=2023-13-28T14:40:38.041Z", "month 13"),
        ("status=open", "unknown status"),
        ("status=ONGOING", "status in capitals"),
        ("sortColumn=PRIORITY", "unknown column"),
        ("sortAsc=yes", "sortAsc not a boolean"),
        ("pageSize=101", "page size over the limit"),
        ("pageSize=0", "page size zero"),
        ("page=0", "page zero"),
        ("page=x", "page not a number"),
    ] {
        expect_error(env.search(query).await, 400, what).await;
    }
    assert_eq!(env.search("pageSize=100&status=-1").await.status, 200);
    env.sandbox.shutdown().await;
}
