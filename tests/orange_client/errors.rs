//! Every typed error the sandbox can produce, what it keeps for the logs and tells users, and
//! the body cap.

use super::*;

#[tokio::test]
async fn malformed_answers_are_typed_errors_naming_the_path() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        malformed_rate: [(Op::GetTicket, 1.0), (Op::ServiceNumbers, 1.0)]
            .into_iter()
            .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let mut paths = BTreeSet::new();
    for _ in 0..12 {
        match client.get_ticket(&id, long()).await {
            Err(OrangeError::Malformed { path, reason, .. }) => {
                assert!(!path.is_empty() && !reason.is_empty());
                paths.insert(path);
            }
            other => panic!("expected a malformed error, got {other:?}"),
        }
    }
    assert!(paths.contains("$"), "{paths:?}");
    let err = client.service_numbers(long()).await.unwrap_err();
    assert!(matches!(err, OrangeError::Malformed { .. }), "{err:?}");
    println!("paths named: {paths:?}");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_rejected_request_keeps_orange_s_problem_for_the_logs_only() {
    let env = Env::start().await;
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    for status in [400u16, 422] {
        env.faults(FaultConfig {
            fail_next: vec![(Op::GetTicket, status)],
            ..FaultConfig::default()
        });
        let err = client.get_ticket(&id, long()).await.unwrap_err();
        let OrangeError::Rejected {
            status: s,
            problem,
            request_id,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*s, status);
        assert!(problem.code.is_some(), "{problem:?}");
        let message = problem.message.as_deref().expect("message");
        let description = problem.description.as_deref().expect("description");
        let info = problem.info_url.as_deref().expect("infoURL");
        assert!(info.starts_with("https://developer.orange.com/"), "{info}");
        assert!(request_id.0.is_some());
        // The log line (Display) carries all of it; the user's sentence none of it.
        let logged = err.to_string();
        for part in [message, description, info] {
            assert!(logged.contains(part), "{part} missing from {logged}");
            assert!(!err.user_message().contains(part), "{}", err.user_message());
        }
    }
    assert_eq!(env.calls(Op::GetTicket), 2, "never retried");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn throttling_as_429_or_403_code_53_ends_in_throttled() {
    let env = Env::with(|s| s.orange.retry.max_attempts = 2).await;
    let client = env.client();
    for status in [429u16, 403] {
        env.faults(always(Op::ServiceNumbers, status));
        let before = env.calls(Op::ServiceNumbers);
        let err = client.service_numbers(long()).await.unwrap_err();
        assert!(
            matches!(
                err,
                OrangeError::Throttled {
                    retry_after: Some(_),
                    ..
                }
            ),
            "{status}: {err:?}"
        );
        assert!(
            err.user_message().contains("throttling"),
            "{}",
            err.user_message()
        );
        assert_eq!(
            env.calls(Op::ServiceNumbers) - before,
            2,
            "{status}: retried"
        );
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_403_other_than_throttling_says_orange_refused_the_application() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        access_denied: vec![Op::ServiceNumbers],
        ..FaultConfig::default()
    });
    let err = env.client().service_numbers(long()).await.unwrap_err();
    let OrangeError::Forbidden { problem, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(problem.code, Some(50));
    assert!(
        err.user_message().starts_with(
            "Orange refused this application (check the ApplicationID / subscription)"
        ),
        "{}",
        err.user_message()
    );
    assert_eq!(env.calls(Op::ServiceNumbers), 1, "not retried");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_answer_over_the_body_cap_is_a_typed_error_not_read_whole() {
    let env = Env::with(|s| {
        s.orange.max_body_bytes = 2_048;
        s.orange.search.page_size = 50;
    })
    .await;
    let client = env.client();
    client
        .api_status(long())
        .await
        .expect("a small answer is read");
    let err = client
        .search(&SearchQuery::default(), 1, long())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::TooLarge {
                op: Op::Search,
                limit: 2_048,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.request_id().is_some());
    assert_eq!(
        env.calls(Op::Search),
        1,
        "a too-large answer is not asked for again"
    );
    env.sandbox.shutdown().await;
}

#[test]
fn the_body_cap_defaults_to_8_mib_and_must_not_be_zero() {
    let settings = Settings::defaults().expect("defaults");
    assert_eq!(settings.orange.max_body_bytes, 8 * 1024 * 1024);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"))
        .arg("check")
        .current_dir(dir.path())
        .env_clear()
        .env("OTB__ORANGE__MAX_BODY_BYTES", "0")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("orange.max_body_bytes"), "{text}");
}
