//! Tokens: one fetch for many callers, refresh on expiry, refresh once then stop, bad or
//! throttled credentials, a failed fetch shared by its waiters.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_a_cold_client_fetch_one_token() {
    // A thousand requests at once can take seconds on a loaded 2-core machine: a generous
    // per-request timeout keeps a slow answer from being retried, so the counts below are exact.
    let env = Env::with(|s| s.orange.request_timeout_ms = 30_000).await;
    let client = env.client();
    let calls = (0..1000).map(|_| {
        let c = client.clone();
        async move { c.api_status(long()).await }
    });
    let results = futures::future::join_all(calls).await;
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(env.calls(Op::Token), 1, "exactly one token request");
    assert_eq!(env.calls(Op::ApiStatus), 1000);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_calls_succeed() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        token_expires_after_calls: Some(5),
        ..FaultConfig::default()
    });
    let client = env.client();
    for _ in 0..8 {
        client.api_status(long()).await.expect("status");
    }
    let counters = env.sandbox.control().counters();
    assert_eq!(counters.calls(Op::Token), 2, "one refresh after the expiry");
    assert_eq!(counters.responses(Op::ApiStatus, 401), 1, "one 42 answer");
    assert_eq!(counters.responses(Op::ApiStatus, 200), 8);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_a_configuration_error_not_a_retry_loop() {
    let env = Env::start().await;
    let err = env
        .client_with("sandbox-client", "wrong")
        .api_status(long())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OrangeError::CredentialsRejected { status: 401 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET rejected by the token endpoint (HTTP 401)"
    );
    assert_eq!(env.calls(Op::Token), 1);
    assert_eq!(env.calls(Op::ApiStatus), 0);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_throttled_token_request_is_retried_not_reported_as_bad_credentials() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::Token, 403)],
        ..FaultConfig::default()
    });
    env.client()
        .api_status(Deadline::after(Duration::from_secs(5)))
        .await
        .expect("status after the 403 code 53");
    let counters = env.sandbox.control().counters();
    assert_eq!(counters.responses(Op::Token, 403), 1);
    assert_eq!(counters.responses(Op::Token, 200), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_token_fetch_fails_its_waiters_instead_of_each_fetching_again() {
    let env = Env::start().await;
    let client = env.client_with("sandbox-client", "wrong");
    let calls = (0..200).map(|_| {
        let c = client.clone();
        async move { c.api_status(long()).await }
    });
    let results = futures::future::join_all(calls).await;
    for r in &results {
        assert!(
            matches!(r, Err(OrangeError::CredentialsRejected { status: 401 })),
            "{r:?}"
        );
    }
    let fetches = env.calls(Op::Token);
    println!("200 callers with bad credentials: {fetches} token requests");
    assert!(fetches <= 2, "{fetches} token requests for 200 callers");
    assert_eq!(env.calls(Op::ApiStatus), 0);

    // Failing again at once is refused without a request: repeated failures back off.
    let err = client.api_status(long()).await.unwrap_err();
    assert!(
        matches!(err, OrangeError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert_eq!(
        env.calls(Op::Token),
        fetches,
        "no new request inside the back-off"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_refreshed_token_refused_too_ends_in_unauthorized_after_exactly_one_refresh() {
    let env = Env::start().await;
    env.faults(always(Op::ApiStatus, 401));
    let err = env.client().api_status(long()).await.unwrap_err();
    assert!(matches!(err, OrangeError::Unauthorized { .. }), "{err:?}");
    assert!(err.request_id().is_some_and(|r| r.starts_with("sandbox-")));
    assert!(
        err.user_message().contains("credentials were refused"),
        "{}",
        err.user_message()
    );
    let c = env.sandbox.control().counters();
    assert_eq!(c.calls(Op::Token), 2, "the first token and one refresh");
    assert_eq!(c.calls(Op::ApiStatus), 2, "one call per token");
    assert_eq!(c.responses(Op::ApiStatus, 401), 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn after_a_failed_token_fetch_the_next_one_waits_out_the_pause_then_recovers() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::Token, 400)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let first = client.api_status(long()).await.unwrap_err();
    assert!(
        matches!(first, OrangeError::CredentialsRejected { status: 400 }),
        "{first:?}"
    );
    let again = client.api_status(long()).await.unwrap_err();
    assert!(
        matches!(again, OrangeError::CredentialsRejected { .. }),
        "{again:?}"
    );
    assert_eq!(env.calls(Op::Token), 1, "inside the pause: no request");
    // The first pause is 1 s; half a second of slack for a loaded machine.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    client
        .api_status(long())
        .await
        .expect("the endpoint is asked again and answers");
    assert_eq!(env.calls(Op::Token), 2);
    env.sandbox.shutdown().await;
}
