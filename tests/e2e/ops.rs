//! The health and metrics listener over loopback, on the real bot (fake Discord, Orange sandbox,
//! sled on disk): `/healthz`, `/readyz` as the gateway and the watcher make it, and `/metrics`
//! counting commands, Orange calls, watcher passes, the outbox and Discord errors, with no
//! ticket data in it. Each bot has its own registry, so the counts below are exact.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use orange_ticket_bot::domain::Status;
use orange_ticket_bot::ops::{self, Probe};

use crate::support::fake_discord::{CHANNEL_ID, Fault};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{open_ticket, set_profile};

/// GET `path` on the listener: status and body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, kind, response.text().await.expect("body"))
}

/// Polls `/readyz` until it answers `status` (within 10 s); its body.
async fn readyz_becomes(addr: SocketAddr, status: u16) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (got, _, body) = get(addr, "/readyz").await;
        if got == status {
            return body;
        }
        assert!(
            Instant::now() < until,
            "/readyz still {got} (wanted {status}): {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the sample `name{labels}` in a metrics body, if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_listener_serves_health_readiness_and_command_counts_without_ticket_data() {
    let bot = TestBot::start_with(|s| {
        s.ops.listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let addr = bot.ops_addr().expect("the listener runs");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    let (status, _, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    // The watcher is off in these bots: the gateway and the store make it ready.
    assert_eq!(readyz_becomes(addr, 200).await, "ready\n");

    set_profile(&bot).await;
    let description = "Fibre cut near exchange QZX-5521";
    let opened = open_ticket(&bot, description, Duration::from_secs(5)).await;
    let comment = "Rebooted the CPE at QZX-9934";
    let (_, answer) = bot
        .ask(
            &ticket("comment")
                .option("text", comment)
                .in_thread(opened.thread, CHANNEL_ID),
        )
        .await;
    assert!(answer.content().contains("added"), "{}", answer.content());
    let (_, answer) = bot.ask(&ticket("show").option("id", "not an id!")).await;
    assert!(!answer.content().is_empty());

    let (status, kind, metrics) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    for (series, want) in [
        (r#"otb_commands_total{command="profile",outcome="ok"}"#, 1.0),
        (r#"otb_commands_total{command="create",outcome="ok"}"#, 1.0),
        (r#"otb_commands_total{command="comment",outcome="ok"}"#, 1.0),
        (
            r#"otb_commands_total{command="show",outcome="invalid"}"#,
            1.0,
        ),
        (r#"otb_orange_token_fetches_total{result="ok"}"#, 1.0),
        (
            r#"otb_orange_requests_total{operation="token",status="200"}"#,
            1.0,
        ),
        (
            r#"otb_orange_requests_total{operation="add_comment",status="200"}"#,
            1.0,
        ),
        ("otb_discord_gateway_connected", 1.0),
        ("otb_outbox_depth", 0.0),
    ] {
        assert_eq!(sample(&metrics, series), Some(want), "{series}:\n{metrics}");
    }
    let created = metrics.lines().find(|l| {
        l.starts_with(r#"otb_orange_requests_total{operation="create_ticket",status="2"#)
    });
    assert!(created.is_some(), "the creation is counted:\n{metrics}");
    for secret in [
        opened.id.as_str(),
        description,
        comment,
        "QZX",
        &opened.thread.to_string(),
    ] {
        assert!(
            !metrics.contains(secret),
            "{secret} in the metrics:\n{metrics}"
        );
    }

    // 4004 (authentication failed): serenity does not reconnect, and readiness says why.
    bot.fake.close_gateway(4004).await;
    let body = readyz_becomes(addr, 503).await;
    assert_eq!(body, "not ready:\n- the Discord gateway is not connected\n");
    let (_, _, metrics) = get(addr, "/metrics").await;
    assert_eq!(sample(&metrics, "otb_discord_gateway_connected"), Some(0.0));
    bot.shutdown().await;
}

#[tokio::test]
async fn readiness_waits_for_a_watcher_pass_and_the_pass_and_outbox_are_counted() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Watch me", Duration::from_secs(5)).await;
    // The bot's own watcher is off (tests drive passes): a listener on its core that expects
    // one, as the app starts it when `watcher.enabled`.
    let core = bot.core();
    let listener = ops::serve(
        "127.0.0.1:0".parse().expect("addr"),
        Probe {
            metrics: core.metrics().clone(),
            store: core.store().clone(),
            watcher_interval: Some(Duration::from_secs(60)),
        },
    )
    .await
    .expect("listens");
    let addr = listener.addr();
    let (status, _, body) = get(addr, "/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready:\n- no watcher pass yet\n")
    );

    bot.sandbox()
        .set_status(
            &opened.id,
            Status::Ongoing,
            Some("Engineer dispatched".into()),
        )
        .expect("status");
    bot.fake.fail_next(
        "POST /channels/{channel_id}/messages",
        Fault::ServerError,
        1,
    );
    let mut watcher = bot.watcher();
    let pass = watcher.poll_once().await;
    // The status and the note that came with it.
    assert_eq!((pass.changes, pass.postponed), (2, 1), "{pass:?}");
    let (status, _, body) = get(addr, "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));

    let (_, _, metrics) = get(addr, "/metrics").await;
    for (series, want) in [
        ("otb_watcher_passes_total", 1.0),
        ("otb_watcher_changes_total", 2.0),
        ("otb_watcher_pass_duration_seconds_count", 1.0),
        ("otb_outbox_depth", 1.0),
    ] {
        assert_eq!(sample(&metrics, series), Some(want), "{series}:\n{metrics}");
    }
    assert!(
        sample(&metrics, "otb_outbox_oldest_age_seconds").is_some(),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(r#"otb_discord_errors_total{status="500""#)),
        "the refused delivery is counted by its status:\n{metrics}"
    );
    assert!(!metrics.contains(opened.id.as_str()), "{metrics}");

    let pass = watcher.poll_once().await;
    assert_eq!(pass.delivered, 1, "{pass:?}");
    let (_, _, metrics) = get(addr, "/metrics").await;
    assert_eq!(sample(&metrics, "otb_outbox_depth"), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, "otb_watcher_passes_total"), Some(2.0));
    listener.stop().await;
    bot.shutdown().await;
}
