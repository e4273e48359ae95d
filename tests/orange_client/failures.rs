//! Retries under injected faults, deadlines, and timeouts where they happen.

use super::*;

#[tokio::test]
async fn reads_survive_thirty_percent_503_and_429_with_backoff() {
    let env = Env::start().await;
    let fault = ErrorFault {
        rate: 0.3,
        statuses: vec![503, 429],
        retry_after_secs: 1,
    };
    env.faults(FaultConfig {
        errors: [(Op::GetTicket, fault.clone()), (Op::Search, fault)]
            .into_iter()
            .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let reads = 12;
    for i in 0..reads {
        let deadline = Deadline::after(Duration::from_secs(15));
        if i % 2 == 0 {
            client
                .get_ticket(&id, deadline)
                .await
                .expect("get succeeds in the end");
        } else {
            client
                .search(&SearchQuery::default(), 1, deadline)
                .await
                .expect("search succeeds in the end");
        }
    }
    let counters = env.sandbox.control().counters();
    for op in [Op::GetTicket, Op::Search] {
        let c = counters.get(op);
        let failures: u64 = [429u16, 503]
            .iter()
            .map(|s| counters.responses(op, *s))
            .sum();
        assert_eq!(counters.responses(op, 200), reads / 2, "{op:?}");
        assert_eq!(c.calls, reads / 2 + failures, "{op:?}");
        // Every failure was followed by a wait of at least its Retry-After (1 s) before the
        // next call of that operation: no hot retry loop.
        let gaps = c
            .call_times_ms
            .iter()
            .zip(c.call_times_ms.iter().skip(1))
            .filter(|(a, b)| **b - **a >= 990)
            .count() as u64;
        assert!(
            gaps >= failures,
            "{op:?}: {gaps} long gaps for {failures} failures"
        );
        println!(
            "{op:?}: {} calls, {failures} injected failures, {gaps} gaps >= 1 s",
            c.calls
        );
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_background_read_waits_out_an_outage_that_outlasts_the_attempt_limit() {
    // Three attempts, one second apart (Retry-After), would give up after about 2 s.
    let env = Env::with(|s| s.orange.retry.max_attempts = 3).await;
    let outage = FaultConfig {
        errors: [(
            Op::GetTicket,
            ErrorFault {
                rate: 1.0,
                statuses: vec![503],
                retry_after_secs: 1,
            },
        )]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    };
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    client.api_status(long()).await.expect("a token first");

    env.faults(outage.clone());
    let window = Duration::from_secs(4);
    let control = env.sandbox.control();
    let ends = tokio::spawn(async move {
        tokio::time::sleep(window).await;
        control.set_faults(FaultConfig::default());
    });
    let started = std::time::Instant::now();
    let ticket = client
        .get_ticket(&id, client.background())
        .await
        .expect("the background read outlasts the outage");
    let took = started.elapsed();
    ends.await.expect("the outage ended");
    assert_eq!(ticket.id, id);
    let c = env.sandbox.control().counters();
    let (calls, failed) = (c.calls(Op::GetTicket), c.responses(Op::GetTicket, 503));
    println!("background read: {calls} calls, {failed} answered 503, {took:?}");
    assert!(took >= window, "it waited for the end: {took:?}");
    assert!(took < window + Duration::from_secs(3), "{took:?}");
    assert_eq!(c.responses(Op::GetTicket, 200), 1);
    assert!(failed > 3, "more failures than max_attempts: {failed}");
    // Retry-After (1 s) is a floor between calls: at most one call per second of outage, plus
    // the one that succeeds.
    assert!(calls <= 4 + 1 + 1, "{calls} calls: backed off");
    let times = c.get(Op::GetTicket).call_times_ms;
    assert!(
        times
            .iter()
            .zip(times.iter().skip(1))
            .all(|(a, b)| b - a >= 990),
        "no call less than Retry-After after the one before: {times:?}"
    );

    // A call someone waits on still stops at the attempt limit, deadline or not.
    env.faults(outage);
    let before = env.calls(Op::GetTicket);
    let err = client
        .get_ticket(&id, Deadline::after(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(matches!(err, OrangeError::Unavailable { .. }), "{err:?}");
    assert_eq!(env.calls(Op::GetTicket) - before, 3, "max_attempts calls");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_interactive_deadline_is_kept_even_when_orange_keeps_failing() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        errors: [(
            Op::ApiStatus,
            ErrorFault {
                rate: 1.0,
                statuses: vec![503],
                retry_after_secs: 0,
            },
        )]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let started = std::time::Instant::now();
    let err = client
        .api_status(Deadline::after(Duration::from_millis(800)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, OrangeError::Unavailable { .. }), "{err:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
    let calls = env.calls(Op::ApiStatus);
    assert!(
        (2..=6).contains(&calls),
        "{calls} calls: bounded, backed off"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_answers_time_out() {
    let env = Env::with(|s| s.orange.request_timeout_ms = 150).await;
    env.faults(FaultConfig {
        latency_ms: 400,
        ..FaultConfig::default()
    });
    let err = env
        .client()
        .api_status(Deadline::after(Duration::from_millis(1200)))
        .await
        .unwrap_err();
    // `latency_ms` slows every route, so this is the token request timing out; the API call's
    // own timeout is tested with `latency_ms_by_op` below.
    assert!(
        matches!(err, OrangeError::Timeout { op: Op::Token, .. }),
        "{err:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_slow_api_call_behind_a_fast_token_endpoint_times_out_as_that_call() {
    let env = Env::with(|s| s.orange.request_timeout_ms = 300).await;
    env.faults(FaultConfig {
        latency_ms_by_op: [(Op::GetTicket, 1_500)].into_iter().collect(),
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let started = std::time::Instant::now();
    let err = client
        .get_ticket(&id, Deadline::after(Duration::from_secs(10)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            OrangeError::Timeout {
                op: Op::GetTicket,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        took < Duration::from_secs(8),
        "per request, not the deadline: {took:?}"
    );
    let c = env.sandbox.control().counters();
    assert_eq!(c.responses(Op::Token, 200), 1, "the token came at once");
    assert!(
        c.calls(Op::GetTicket) >= 2,
        "each timed-out read was retried"
    );
    // Other operations are not slowed down.
    client.api_status(long()).await.expect("api status is fast");
    env.sandbox.shutdown().await;
}
