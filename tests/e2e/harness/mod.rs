//! Self-tests of the fake Discord: the real serenity client and HTTP stack accept what it
//! answers and sends, every validation rule is caught, faults and the interaction window behave
//! like Discord, a closed gateway is reconnected, pins and channel history work, a message that
//! would ping is caught, and the interaction builders say what serenity reads.

mod interactions;
mod rest;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt;
use reqwest::Method;
use serde_json::{Value, json};
use serenity::all::{
    AuthorizingIntegrationOwner, ChannelId, ChannelType, CreateAllowedMentions, CreateEmbed,
    CreateForumPost, CreateMessage, CreateThread, EditMessage, EditThread, ForumTagId, GetMessages,
    GuildId, Http, HttpBuilder, Interaction, InteractionContext, MessageId, Nonce, Permissions,
    RoleId, UserId,
};

use crate::support::echo_bot::EchoBot;
use crate::support::fake_discord::payloads::{
    DEFAULT_PERMISSIONS, DM_KEYS, GUILD_KEYS, MANAGE_GUILD, REQUIRED_KEYS,
};
use crate::support::fake_discord::{
    APPLICATION_ID, CHANNEL_ID, DM_CHANNEL_ID, FORUM_ID, FORUM_TAG_CLOSED, FORUM_TAG_OPEN,
    FakeDiscord, Fault, GUILD_ID, InteractionPayload, State, USER_ID, mentions, validate,
};

fn serenity_http(fake: &FakeDiscord) -> Http {
    HttpBuilder::new("fake-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build()
}

/// Sends a raw request to the fake, as a buggy client would.
async fn send(
    fake: &FakeDiscord,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut request = client.request(method, format!("{}/api/v10{path}", fake.base_url()));
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

/// Posts raw JSON to the fake.
async fn post(fake: &FakeDiscord, path: &str, body: &Value) -> reqwest::Response {
    send(fake, Method::POST, path, Some(body)).await
}

/// Discord's JSON error code of a failed serenity call.
fn discord_code<T: std::fmt::Debug>(result: serenity::Result<T>) -> Option<isize> {
    match result.expect_err("Discord answers an error") {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(e)) => {
            Some(e.error.code)
        }
        _ => None,
    }
}

async fn error_code(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_unknown_route_answers_404_and_is_a_failure() {
    let fake = FakeDiscord::start().await;
    let (status, _) = error_code(post(&fake, "/guilds/1/bans", &json!({})).await).await;
    assert_eq!(status, 404);
    let failures = fake.take_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("POST /api/v10/guilds/1/bans: unknown route"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn faults_answer_errors_for_the_next_calls_then_recover() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);
    let route = "POST /channels/{channel_id}/messages";
    let send = || channel.send_message(&http, CreateMessage::new().content("hi"));

    fake.fail_next(route, Fault::ServerError, 1);
    fake.fail_next(route, Fault::Unavailable, 1);
    let status = |e: serenity::Error| match e {
        serenity::Error::Http(e) => e.status_code().map(|s| s.as_u16()),
        _ => None,
    };
    assert_eq!(status(send().await.expect_err("500")), Some(500));
    assert_eq!(status(send().await.expect_err("503")), Some(503));
    send().await.expect("recovered");

    fake.fail_next(
        route,
        Fault::RateLimited {
            retry_after: Duration::from_millis(1500),
        },
        1,
    );
    let limited = post(
        &fake,
        &format!("/channels/{CHANNEL_ID}/messages"),
        &json!({"content": "x"}),
    )
    .await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["retry_after"], 1.5);

    fake.fail_next(route, Fault::Delay(Duration::from_millis(200)), 1);
    let start = Instant::now();
    send().await.expect("delayed");
    assert!(start.elapsed() >= Duration::from_millis(200));
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 503, 200, 429, 200]);
}

#[tokio::test]
async fn a_closed_gateway_is_reconnected_and_interactions_still_answered() {
    let fake = FakeDiscord::start().await;
    let _bot = EchoBot::start(&fake).await;
    let first = fake.inject(&InteractionPayload::slash("ticket")).await;
    fake.wait_for_callback(&first).await;

    fake.close_gateway(4000).await;
    fake.wait_for(
        "a second session (RESUME or IDENTIFY)",
        Duration::from_secs(10),
        |s| (s.identifies + s.resumes >= 2).then_some(()),
    )
    .await;
    let later = fake.inject(&InteractionPayload::slash("ticket")).await;
    assert_eq!(fake.wait_for_callback(&later).await["type"], 4);
}

#[tokio::test]
async fn a_timed_out_wait_prints_everything_the_fake_saw() {
    let fake = FakeDiscord::start().await;
    let _ = post(
        &fake,
        &format!("/channels/{CHANNEL_ID}/messages"),
        &json!({"content": "seen"}),
    )
    .await;
    let wait = fake.wait_for(
        "something that never happens",
        Duration::from_millis(50),
        |_| None::<()>,
    );
    let panic = AssertUnwindSafe(wait)
        .catch_unwind()
        .await
        .expect_err("times out");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("waiting for something that never happens"),
        "{message}"
    );
    assert!(message.contains("POST /channels/"), "{message}");
    assert!(message.contains("\"seen\""), "{message}");
}
