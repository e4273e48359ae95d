//! The token endpoint and the bearer check.

use std::time::Duration;

use orange_ticket_bot::sandbox::FaultConfig;
use reqwest::Method;
use serde_json::json;

use crate::harness::{Env, read};

#[tokio::test]
async fn tokens_are_issued_for_good_credentials_with_expires_in_as_number_then_string() {
    let env = Env::start().await;
    let first = env
        .token_request("sandbox-client", "sandbox-secret", "client_credentials")
        .await;
    let second = env
        .token_request("sandbox-client", "sandbox-secret", "client_credentials")
        .await;
    // `Env::start` already took the first token, so these are the second and third.
    assert_eq!(first.json()["expires_in"], json!("3600"));
    assert_eq!(second.json()["expires_in"], json!(3600));
    assert_eq!(first.json()["token_type"], "Bearer");
    assert_ne!(first.json()["access_token"], second.json()["access_token"]);
    let token: orange_ticket_bot::orange::wire::TokenResponse =
        serde_json::from_str(&first.body).expect("the client's token DTO reads it");
    assert_eq!(token.expires_in, 3600);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_grant_types_are_refused() {
    let env = Env::start().await;
    let wrong = env
        .token_request("sandbox-client", "nope", "client_credentials")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error().code, 41);
    let missing = read(
        env.http
            .post(env.sandbox.token_url())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.error().code, 41);
    let grant = env
        .token_request("sandbox-client", "sandbox-secret", "password")
        .await;
    assert_eq!(grant.status, 400);
    assert_eq!(grant.error().code, 20);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn api_calls_need_a_known_bearer_token() {
    let env = Env::start().await;
    let none = env
        .call_as(None, Method::GET, "/orangeServiceNumbers", None)
        .await;
    assert_eq!(none.status, 401);
    let e = none.error();
    assert_eq!(
        (e.code, e.message.as_deref()),
        (40, Some("Missing credentials"))
    );
    let unknown = env
        .call_as(Some("forged"), Method::GET, "/orangeServiceNumbers", None)
        .await;
    assert_eq!(unknown.status, 401);
    let e = unknown.error();
    assert_eq!(
        (e.code, e.message.as_deref()),
        (41, Some("Invalid credentials"))
    );
    // Neither is the wrapped shape: only "expired" is.
    assert!(none.json().get("error").is_none() && unknown.json().get("error").is_none());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_by_call_count_by_fault_age_and_by_ttl_with_a_wrapped_42() {
    let env = Env::start().await;
    env.control().set_faults(FaultConfig {
        token_expires_after_calls: Some(2),
        ..FaultConfig::default()
    });
    assert_eq!(env.get("/status").await.status, 200);
    assert_eq!(env.get("/status").await.status, 200);
    let expired = env.get("/status").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.error().code, 42);
    assert_eq!(expired.json()["error"]["code"], 42, "42 comes wrapped");

    env.control().set_faults(FaultConfig {
        token_expires_after_secs: Some(30),
        ..FaultConfig::default()
    });
    let fresh = env.new_token().await;
    let status = |t: String| {
        let env = &env;
        async move {
            env.call_as(Some(&t), Method::GET, "/status", None)
                .await
                .status
        }
    };
    assert_eq!(status(fresh.clone()).await, 200);
    env.control().advance_clock(Duration::from_secs(31));
    assert_eq!(status(fresh).await, 401);

    env.control().set_faults(FaultConfig::default());
    let fresh = env.new_token().await;
    env.control().advance_clock(Duration::from_secs(3599));
    assert_eq!(status(fresh.clone()).await, 200);
    env.control().advance_clock(Duration::from_secs(2));
    assert_eq!(status(fresh).await, 401, "expired by the one-hour TTL");
    env.sandbox.shutdown().await;
}
