//! Fault injection (error rates, one-shot failures, malformed bodies, latency) and counters.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use orange_ticket_bot::orange::convert::{parse_services_body, parse_ticket_body};
use orange_ticket_bot::sandbox::{ErrorFault, FaultConfig, Operation};
use serde_json::json;

use crate::harness::{Env, options, read};

#[tokio::test]
async fn error_rates_answer_the_configured_statuses_with_retry_after() {
    let mut opts = options();
    opts.faults.errors.insert(
        Operation::Search,
        ErrorFault {
            rate: 1.0,
            statuses: vec![503, 429],
            retry_after_secs: 7,
        },
    );
    let env = Env::with(opts).await;
    let mut seen = BTreeSet::new();
    for _ in 0..12 {
        let a = env.search("").await;
        let e = a.error();
        match a.status {
            503 => assert_eq!(e.code, 5),
            429 => assert_eq!(e.code, 53),
            other => panic!("unexpected {other}"),
        }
        assert_eq!(a.header("Retry-After"), Some("7"));
        seen.insert(a.status);
    }
    assert_eq!(seen, BTreeSet::from([429, 503]));
    assert_eq!(
        env.get("/status").await.status,
        200,
        "other operations are untouched"
    );
    let counters = env.control().counters();
    assert_eq!(counters.calls(Operation::Search), 12);
    assert_eq!(
        counters.responses(Operation::Search, 429) + counters.responses(Operation::Search, 503),
        12
    );
    assert_eq!(counters.responses(Operation::ApiStatus, 200), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn one_shot_failures_fire_once_and_faults_can_be_set_over_http() {
    let env = Env::start().await;
    let put = read(
        env.http
            .put(env.url("/_sandbox/faults"))
            .json(&json!({"fail_next": [["get_ticket", 500], ["get_ticket", 401]]}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(put.status, 204, "{}", put.body);
    let path = format!("/troubleTicket/{}", env.all_tickets().await[0].id);
    assert_eq!(env.get(&path).await.status, 500);
    let expired = env.get(&path).await;
    assert_eq!((expired.status, expired.error().code), (401, 42));
    assert_eq!(env.get(&path).await.status, 200);
    let now: FaultConfig =
        serde_json::from_str(&env.get("/_sandbox/faults").await.body).expect("faults");
    assert!(now.fail_next.is_empty());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_are_200s_the_readers_refuse() {
    let env = Env::start().await;
    let id = env.all_tickets().await[0].id.clone();
    env.control().set_faults(FaultConfig {
        malformed_rate: [
            (Operation::GetTicket, 1.0),
            (Operation::ServiceNumbers, 1.0),
        ]
        .into(),
        ..FaultConfig::default()
    });
    for _ in 0..6 {
        let a = env.get(&format!("/troubleTicket/{id}")).await;
        assert_eq!(a.status, 200);
        assert!(parse_ticket_body(&a.body).is_err(), "{}", a.body);
        let a = env.get("/orangeServiceNumbers").await;
        assert_eq!(a.status, 200);
        assert!(parse_services_body(&a.body).is_err(), "{}", a.body);
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_response() {
    let mut opts = options();
    opts.faults.latency_ms = 150;
    let env = Env::with(opts).await;
    let started = Instant::now();
    assert_eq!(env.get("/status").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn counters_record_calls_statuses_and_spacing_and_reset_restores_the_seed() {
    let env = Env::start().await;
    let seeded = env.all_tickets().await;
    env.create_ok().await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    env.get("/troubleTicket/9999999999").await;
    let c = env.control();
    let counters = c.counters();
    assert_eq!(counters.calls(Operation::Token), 1);
    assert_eq!(counters.responses(Operation::CreateTicket, 200), 1);
    assert_eq!(counters.responses(Operation::GetTicket, 404), 1);
    let search = counters.get(Operation::Search);
    assert_eq!((search.calls, search.call_times_ms.len()), (1, 1));
    let create = counters.get(Operation::CreateTicket).call_times_ms[0];
    let get = counters.get(Operation::GetTicket).call_times_ms[0];
    assert!(
        get >= create + 30,
        "timestamps are monotonic ms: {create} then {get}"
    );
    let over_http: orange_ticket_bot::sandbox::Counters =
        serde_json::from_str(&env.get("/_sandbox/counters").await.body).expect("counters");
    assert_eq!(over_http, counters);

    assert_eq!(c.ticket_count(), seeded.len() + 1);
    assert_eq!(
        env.control_post("/_sandbox/reset", json!({})).await.status,
        204
    );
    assert_eq!(c.counters().total_calls(), 0);
    assert_eq!(c.ticket_count(), seeded.len());
    assert_eq!(
        env.all_tickets().await,
        seeded,
        "the token survives a reset"
    );
    env.sandbox.shutdown().await;
}
