//! Self-tests of the fake Discord: the real serenity client and HTTP stack accept what it
//! answers and sends, every validation rule is caught, faults and the interaction window behave
//! like Discord, a closed gateway is reconnected, pins and channel history work, a message that
//! would ping is caught, and the interaction builders say what serenity reads.

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
async fn serenity_round_trips_messages_threads_forum_posts_and_thread_updates() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);

    let embed = CreateEmbed::new()
        .title("Ticket")
        .field("Status", "open", true);
    let msg = channel
        .send_message(&http, CreateMessage::new().content("hello").embed(embed))
        .await
        .expect("send");
    let edited = channel
        .edit_message(&http, msg.id, EditMessage::new().content("edited"))
        .await
        .expect("edit");
    assert_eq!(edited.content, "edited");

    let thread = channel
        .create_thread_from_message(&http, msg.id, CreateThread::new("Ticket 1"))
        .await
        .expect("thread from message");
    let private = channel
        .create_thread(&http, CreateThread::new("Private"))
        .await
        .expect("thread without message");
    let public = channel
        .create_thread(
            &http,
            CreateThread::new("Public").kind(ChannelType::PublicThread),
        )
        .await
        .expect("public thread");
    let first = CreateMessage::new().content("first post");
    let post = ChannelId::new(FORUM_ID)
        .create_forum_post(
            &http,
            CreateForumPost::new("Ticket 2", first)
                .add_applied_tag(ForumTagId::new(FORUM_TAG_OPEN)),
        )
        .await
        .expect("forum post");
    let closed = thread
        .id
        .edit_thread(
            &http,
            EditThread::new()
                .name("Ticket 1 (closed)")
                .archived(true)
                .locked(true),
        )
        .await
        .expect("archive");
    assert!(
        closed
            .thread_metadata
            .is_some_and(|m| m.archived && m.locked)
    );
    http.add_thread_channel_member(thread.id, UserId::new(USER_ID))
        .await
        .expect("add member");

    {
        let s = fake.state();
        assert_eq!(s.messages[&msg.id.get()].content(), "edited");
        assert_eq!(s.messages[&msg.id.get()].embeds().len(), 1);
        assert_eq!(
            thread.id.get(),
            msg.id.get(),
            "a message thread has the message's id"
        );
        let t = &s.channels[&thread.id.get()];
        assert!(t.archived && t.locked, "{t:?}");
        assert_eq!(t.name, "Ticket 1 (closed)");
        assert_eq!(t.members, vec![USER_ID]);
        assert_eq!(s.channels[&private.id.get()].kind, 12);
        assert_eq!(s.channels[&public.id.get()].kind, 11);
        assert_eq!(
            s.channels[&post.id.get()].applied_tags,
            vec![FORUM_TAG_OPEN]
        );
        assert_eq!(s.messages[&post.id.get()].content(), "first post");
    }
    let retagged = post
        .id
        .edit_thread(
            &http,
            EditThread::new().applied_tags([ForumTagId::new(FORUM_TAG_CLOSED)]),
        )
        .await
        .expect("retag");
    assert_eq!(
        retagged.applied_tags,
        vec![ForumTagId::new(FORUM_TAG_CLOSED)]
    );
}

#[tokio::test]
async fn enforce_nonce_returns_the_first_message() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);
    let send = |enforce: bool| {
        let builder = CreateMessage::new()
            .content("ticket update")
            .nonce(Nonce::String("update-1".into()))
            .enforce_nonce(enforce);
        channel.send_message(&http, builder)
    };
    let a = send(true).await.expect("first");
    let b = send(true).await.expect("retry");
    assert_eq!(
        a.id, b.id,
        "same nonce within the window: the first message"
    );
    assert_eq!(fake.state().messages.len(), 1);
    let c = send(false).await.expect("without enforce_nonce");
    assert_ne!(
        a.id, c.id,
        "without enforce_nonce Discord creates another message"
    );
}

/// One request per rule; each must be answered 400 and recorded with its path and rule.
#[tokio::test]
async fn every_validation_rule_is_caught_with_its_path() {
    let fake = FakeDiscord::start().await;
    let messages = format!("/channels/{CHANNEL_ID}/messages");
    let callback = "/interactions/1/token/callback";
    let long = |n: usize| "x".repeat(n);
    let choice = |value: &str| json!({"name": "n", "value": value});
    let text_row =
        json!({"type": 1, "components": [{"type": 4, "custom_id": "a", "label": "A", "style": 1}]});
    let mut cases = vec![
        (
            messages.as_str(),
            json!({"content": long(2001)}),
            "/content",
            "content ≤ 2000",
        ),
        (
            messages.as_str(),
            json!({"embeds": [{"description": long(3001)}, {"description": long(3000)}]}),
            "/embeds",
            "6000 characters across all embeds",
        ),
        (
            messages.as_str(),
            json!({"tts": false}),
            "/",
            "at least one of content",
        ),
        (
            callback,
            json!({"type": 9, "data": {"custom_id": "m", "title": "T",
                   "components": vec![text_row.clone(); 6]}}),
            "/data/components",
            "1 to 5 components",
        ),
        (
            callback,
            json!({"type": 8, "data": {"choices": vec![choice("v"); 26]}}),
            "/data/choices",
            "at most 25",
        ),
        (
            callback,
            json!({"type": 8, "data": {"choices": [choice(&long(101))]}}),
            "/data/choices/0/value",
            "at most 100",
        ),
        (
            callback,
            json!({"type": 4, "data": {}}),
            "/data",
            "at least one of content",
        ),
    ];
    if validate::spec_available() {
        let field = json!({"name": "Details", "value": long(1025)});
        cases.push((
            messages.as_str(),
            json!({"embeds": [{"fields": [field]}]}),
            "/embeds/0/fields/0/value",
            "maxLength",
        ));
        cases.push((
            callback,
            json!({"type": 4, "data": {"embeds": [{"title": long(257)}]}}),
            "/data/embeds/0/title",
            "maxLength",
        ));
    }
    for (path, body, at, rule) in cases {
        let (status, answer) = error_code(post(&fake, path, &body).await).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        assert_eq!(answer["code"], 50035);
        let failures = fake.take_failures();
        assert!(
            failures
                .iter()
                .any(|f| f.contains(&format!("invalid body at {at}: ")) && f.contains(rule)),
            "expected a failure at {at} naming `{rule}`, got {failures:#?}"
        );
    }
}

/// The acceptance check of the issue: a spec violation through the real serenity client fails
/// the test (when the fake is dropped) with a message naming the route, JSON path and rule.
#[tokio::test]
async fn an_embed_field_of_1025_characters_fails_the_test_naming_the_path() {
    if !validate::spec_available() {
        eprintln!("skipped: the Discord API spec is not available");
        return;
    }
    let test = async {
        let fake = FakeDiscord::start().await;
        let http = serenity_http(&fake);
        let embed = CreateEmbed::new().field("Details", "x".repeat(1025), false);
        let result = ChannelId::new(CHANNEL_ID)
            .send_message(&http, CreateMessage::new().embed(embed))
            .await;
        assert!(result.is_err(), "Discord answers 400");
        drop(fake); // panics with the recorded failures
    };
    let panic = AssertUnwindSafe(test)
        .catch_unwind()
        .await
        .expect_err("fails");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    for part in [
        "POST /channels/{channel_id}/messages",
        "invalid body at /embeds/0/fields/0/value: maxLength",
        "(schema MessageCreateRequest)",
    ] {
        assert!(message.contains(part), "{part} not in {message}");
    }
}

#[test]
fn every_builder_has_the_keys_serenity_requires() {
    let button_on_thread_message = {
        let mut state = State::new();
        let thread = state.add_thread(CHANNEL_ID, 11, "Ticket 1", Vec::new(), None);
        let id = state.add_message(thread, json!({"content": "header"}));
        InteractionPayload::button("refresh").on_message(state.message_json(id))
    };
    let guild = [
        InteractionPayload::slash("ticket")
            .sub("show")
            .option("id", "123"),
        InteractionPayload::slash("ticket").sub("status"),
        InteractionPayload::autocomplete("ticket")
            .sub("show")
            .focused("id", "12"),
        InteractionPayload::button("refresh"),
        InteractionPayload::modal_submit("create", &[("summary", "It is down")]),
        InteractionPayload::message_command("Open ticket"),
        InteractionPayload::message_command("Open ticket").target_message(7, CHANNEL_ID, "down"),
        InteractionPayload::slash("ticket").in_thread(9, CHANNEL_ID),
        InteractionPayload::slash("ticket")
            .as_admin()
            .with_roles(&[3])
            .in_guild(4),
        button_on_thread_message,
    ];
    let dm = [
        InteractionPayload::slash("ticket").sub("status").in_dm(),
        InteractionPayload::button("refresh").in_dm(),
        InteractionPayload::modal_submit("create", &[("summary", "x")]).in_dm(),
    ];
    let cases = guild
        .into_iter()
        .map(|b| (b, GUILD_KEYS, DM_KEYS))
        .chain(dm.into_iter().map(|b| (b, DM_KEYS, GUILD_KEYS)));
    for (builder, present, absent) in cases {
        let json = builder.to_json(1, "token");
        for key in REQUIRED_KEYS.iter().chain(present) {
            assert!(json.get(*key).is_some(), "{key} missing in {json}");
        }
        for key in absent {
            assert!(json.get(*key).is_none(), "{key} should be absent in {json}");
        }
        if json.get("member").is_some() {
            for key in ["user", "roles", "deaf", "mute", "flags", "permissions"] {
                assert!(json["member"].get(key).is_some(), "member.{key} missing");
            }
        }
        match json["type"].as_u64() {
            Some(2 | 4) => {
                for key in ["id", "name", "type"] {
                    assert!(json["data"].get(key).is_some(), "data.{key} missing");
                }
                if json["data"]["type"] == 1 && !json["data"]["options"][0].is_null() {
                    let sub = &json["data"]["options"][0];
                    assert!(
                        sub["options"].is_array(),
                        "sub-command without options: {json}"
                    );
                }
            }
            Some(3) => assert!(json["message"].is_object(), "a click needs its message"),
            _ => assert!(json["data"]["custom_id"].is_string()),
        }
    }
}

/// Deserializes a builder's payload as serenity does on `INTERACTION_CREATE`.
fn serenity_reads(payload: &InteractionPayload) -> Interaction {
    let json = payload.to_json(1, "token");
    serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("serenity rejects {json}: {e}"))
}

#[test]
fn serenity_reads_the_member_rights_roles_and_guild_each_builder_sets() {
    let Interaction::Command(plain) = serenity_reads(&InteractionPayload::slash("ticket")) else {
        panic!("a command");
    };
    let member = plain.member.expect("a guild member");
    let rights = member.permissions.expect("member permissions");
    assert!(
        !rights.manage_guild() && !rights.administrator(),
        "{rights:?}"
    );
    assert_eq!(plain.guild_id, Some(GuildId::new(GUILD_ID)));
    assert_eq!(plain.user.global_name.as_deref(), Some("Alice"));

    let admin = InteractionPayload::slash("ticket")
        .as_admin()
        .with_roles(&[7, 8])
        .in_guild(99);
    let Interaction::Command(admin) = serenity_reads(&admin) else {
        panic!("a command");
    };
    let member = admin.member.expect("a guild member");
    let rights = member.permissions.expect("member permissions");
    assert!(rights.manage_guild(), "{rights:?}");
    // Serenity drops permission bits it does not know, so compare what it keeps.
    let expected = Permissions::from_bits_truncate(DEFAULT_PERMISSIONS | MANAGE_GUILD);
    assert_eq!(rights, expected, "the default rights plus MANAGE_GUILD");
    assert_eq!(member.roles, [RoleId::new(7), RoleId::new(8)]);
    assert_eq!(admin.guild_id, Some(GuildId::new(99)));
    assert!(matches!(
        admin.authorizing_integration_owners.0[..],
        [AuthorizingIntegrationOwner::GuildInstall(Some(g))] if g == GuildId::new(99)
    ));

    let only = InteractionPayload::button("refresh").with_permissions(0x8);
    let Interaction::Component(only) = serenity_reads(&only) else {
        panic!("a click");
    };
    let rights = only.member.and_then(|m| m.permissions);
    assert_eq!(rights.map(|p| p.bits()), Some(0x8));
}

#[test]
fn serenity_reads_dm_thread_and_target_message_payloads() {
    let Interaction::Command(dm) = serenity_reads(&InteractionPayload::slash("ticket").in_dm())
    else {
        panic!("a command");
    };
    assert_eq!((dm.guild_id, dm.member.is_none()), (None, true));
    assert_eq!(dm.user.id, UserId::new(USER_ID), "the top-level user");
    assert_eq!(dm.channel_id, ChannelId::new(DM_CHANNEL_ID));
    assert_eq!(dm.channel.map(|c| c.kind), Some(ChannelType::Private));
    assert_eq!(dm.context, Some(InteractionContext::BotDm));
    let Interaction::Component(click) = serenity_reads(&InteractionPayload::button("r").in_dm())
    else {
        panic!("a click");
    };
    assert_eq!(
        (click.guild_id, click.user.id),
        (None, UserId::new(USER_ID))
    );

    let thread = InteractionPayload::slash("ticket").in_thread(9, CHANNEL_ID);
    let Interaction::Command(thread) = serenity_reads(&thread) else {
        panic!("a command");
    };
    let channel = thread.channel.expect("the partial channel");
    assert_eq!(thread.channel_id, ChannelId::new(9));
    assert_eq!(channel.kind, ChannelType::PublicThread);
    assert_eq!(channel.parent_id, Some(ChannelId::new(CHANNEL_ID)));
    assert!(channel.thread_metadata.is_some_and(|m| !m.archived));

    let target =
        InteractionPayload::message_command("Open ticket").target_message(5, 6, "printer down");
    let Interaction::Command(target) = serenity_reads(&target) else {
        panic!("a command");
    };
    assert_eq!(target.data.target_id.map(|t| t.get()), Some(5));
    assert_eq!(target.channel_id, ChannelId::new(6), "where the message is");
    let message = &target.data.resolved.messages[&MessageId::new(5)];
    assert_eq!(message.content, "printer down");
    assert_eq!(message.author.id, UserId::new(USER_ID));
    assert_eq!(message.author.global_name.as_deref(), Some("Alice"));
}

#[tokio::test]
async fn serenity_accepts_every_interaction_builder() {
    let fake = FakeDiscord::start().await;
    let _bot = EchoBot::start(&fake).await;
    let cases = [
        (
            InteractionPayload::slash("ticket")
                .sub("show")
                .option("id", "123")
                .option("verbose", true)
                .option("limit", 3),
            4,
        ),
        (
            InteractionPayload::autocomplete("ticket")
                .sub("show")
                .focused("id", "12"),
            8,
        ),
        (InteractionPayload::button("refresh"), 4),
        (
            InteractionPayload::modal_submit("create", &[("summary", "down"), ("details", "x")]),
            4,
        ),
        (InteractionPayload::message_command("Open ticket"), 4),
    ];
    for (payload, expected) in cases {
        let injected = fake.inject(&payload).await;
        let callback = fake.wait_for_callback(&injected).await;
        assert_eq!(callback["type"], expected, "{payload:?} -> {callback}");
    }
    let thread = fake
        .state()
        .add_thread(CHANNEL_ID, 11, "Ticket 1", Vec::new(), None);
    let click = InteractionPayload::button("refresh").in_channel(thread);
    let answer = fake
        .wait_for_response_message(&fake.inject(&click).await)
        .await;
    assert_eq!(answer.content(), "clicked refresh");
    assert_eq!(answer.channel_id, thread, "answered where it was clicked");
    assert_eq!(fake.state().message_order.last(), Some(&answer.id));

    // The new places and targets are dispatched too, and answered where they happen.
    let header = fake
        .state()
        .add_message(thread, json!({"content": "header"}));
    let cases = [
        (InteractionPayload::slash("ticket").in_dm(), DM_CHANNEL_ID),
        (
            InteractionPayload::slash("ticket").in_thread(thread, CHANNEL_ID),
            thread,
        ),
        (
            InteractionPayload::slash("ticket")
                .as_admin()
                .with_roles(&[1])
                .in_guild(2),
            CHANNEL_ID,
        ),
        (
            InteractionPayload::message_command("Open ticket").target_message(3, thread, "x"),
            thread,
        ),
        (
            InteractionPayload::button("refresh").on_message(fake.message_json(header)),
            thread,
        ),
        (InteractionPayload::button("refresh").in_dm(), DM_CHANNEL_ID),
    ];
    for (payload, channel) in cases {
        let answer = fake
            .wait_for_response_message(&fake.inject(&payload).await)
            .await;
        assert_eq!(answer.channel_id, channel, "{payload:?}");
    }
}

#[tokio::test]
async fn a_payload_serenity_drops_gets_no_callback() {
    let fake = FakeDiscord::start().await;
    let _bot = EchoBot::start(&fake).await;
    let dropped = fake
        .inject(&InteractionPayload::slash("ticket").without("attachment_size_limit"))
        .await;
    fake.assert_no_callback(&dropped, Duration::from_millis(300))
        .await;
    // The same payload with the key is answered: the missing key was the reason.
    let kept = fake.inject(&InteractionPayload::slash("ticket")).await;
    fake.wait_for_callback(&kept).await;
}

#[tokio::test]
async fn a_late_or_second_callback_is_rejected_like_discord() {
    let fake = FakeDiscord::start().await;
    let reply = json!({"type": 4, "data": {"content": "hi"}});

    let (late, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
    fake.age_interaction(&late, Duration::from_millis(3100));
    let path = format!("/interactions/{}/{}/callback", late.id, late.token);
    let (status, body) = error_code(post(&fake, &path, &reply).await).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10062)));
    let failures = fake.take_failures();
    assert!(
        failures[0].contains("past Discord's 3s window"),
        "{failures:?}"
    );

    let (twice, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
    let path = format!("/interactions/{}/{}/callback", twice.id, twice.token);
    assert_eq!(post(&fake, &path, &reply).await.status(), 204);
    let (status, body) = error_code(post(&fake, &path, &reply).await).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(40060)));
    let failures = fake.take_failures();
    assert!(failures[0].contains("second callback"), "{failures:?}");
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

#[tokio::test]
async fn pins_are_set_listed_and_cleared_with_discords_error_codes() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);
    let say = |text: &str| channel.send_message(&http, CreateMessage::new().content(text));
    let older = say("older").await.expect("send");
    let header = say("header").await.expect("send");
    channel.pin(&http, older.id).await.expect("pin");
    channel.pin(&http, header.id).await.expect("pin");
    let pins: Vec<MessageId> = channel
        .pins(&http)
        .await
        .expect("pins")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(pins, [header.id, older.id], "newest first");
    assert!(channel.message(&http, header.id).await.expect("get").pinned);
    channel.unpin(&http, older.id).await.expect("unpin");
    let pins = channel.pins(&http).await.expect("pins");
    assert_eq!(pins.iter().map(|m| m.id).collect::<Vec<_>>(), [header.id]);
    assert!(!fake.state().messages[&older.id.get()].pinned);
    let route = "PUT /channels/{channel_id}/pins/{message_id}";
    assert_eq!(fake.wait_for_request(route, 1).await.status, 204);

    let thread = channel
        .create_thread(
            &http,
            CreateThread::new("Ticket 1").kind(ChannelType::PublicThread),
        )
        .await
        .expect("thread");
    let elsewhere = thread.id.say(&http, "in the thread").await.expect("send");
    assert_eq!(
        discord_code(channel.pin(&http, elsewhere.id).await),
        Some(10008)
    );
    assert_eq!(
        discord_code(channel.pin(&http, MessageId::new(1)).await),
        Some(10008)
    );
    assert_eq!(
        discord_code(channel.unpin(&http, MessageId::new(1)).await),
        Some(10008)
    );
    let gone = ChannelId::new(1);
    assert_eq!(discord_code(gone.pin(&http, header.id).await), Some(10003));
    assert_eq!(discord_code(gone.pins(&http).await), Some(10003));

    for _ in 0..49 {
        let mut state = fake.state();
        let id = state.add_message(CHANNEL_ID, json!({"content": "pinned"}));
        state.messages.get_mut(&id).expect("just added").pinned = true;
    }
    assert_eq!(
        discord_code(channel.pin(&http, older.id).await),
        Some(30003)
    );
}

#[tokio::test]
async fn channel_history_is_newest_first_limited_and_without_ephemeral_replies() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);
    for text in ["m0", "m1", "m2"] {
        channel.say(&http, text).await.expect("send");
    }
    fake.state()
        .add_message(CHANNEL_ID, json!({"content": "only you", "flags": 64}));
    let contents = |messages: Vec<serenity::all::Message>| {
        messages.into_iter().map(|m| m.content).collect::<Vec<_>>()
    };
    let two = channel.messages(&http, GetMessages::new().limit(2)).await;
    assert_eq!(contents(two.expect("history")), ["m2", "m1"]);
    let all = channel.messages(&http, GetMessages::new()).await;
    assert_eq!(contents(all.expect("history")), ["m2", "m1", "m0"]);

    for i in 0..60 {
        fake.state()
            .add_message(CHANNEL_ID, json!({"content": format!("bulk {i}")}));
    }
    let path = format!("/channels/{CHANNEL_ID}/messages");
    let page: Value = send(&fake, Method::GET, &path, None)
        .await
        .json()
        .await
        .expect("json");
    let page = page.as_array().expect("a list");
    assert_eq!((page.len(), &page[0]["content"]), (50, &json!("bulk 59")));

    let too_many = send(&fake, Method::GET, &format!("{path}?limit=101"), None).await;
    let (status, body) = error_code(too_many).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50035)));
    let unknown = send(&fake, Method::GET, "/channels/1/messages", None).await;
    assert_eq!(error_code(unknown).await.1["code"], 10003);
    assert!(fake.take_failures().is_empty());
    send(&fake, Method::GET, &format!("{path}?before=1"), None).await;
    let failures = fake.take_failures();
    assert!(
        failures[0].contains("does not support `before`"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn callback_after_is_the_time_from_injection_to_the_first_accepted_callback() {
    let fake = FakeDiscord::start().await;
    let defer = json!({"type": 5});
    let callback_after = |id: u64| fake.state().interactions[&id].callback_after;

    let (prompt, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
    assert_eq!(callback_after(prompt.id), None, "no callback yet");
    let path = format!("/interactions/{}/{}/callback", prompt.id, prompt.token);
    post(&fake, &path, &defer).await;
    let after = callback_after(prompt.id).expect("measured");
    assert!(after < Duration::from_secs(1), "{after:?}");

    let (slow, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
    fake.age_interaction(&slow, Duration::from_secs(2));
    let path = format!("/interactions/{}/{}/callback", slow.id, slow.token);
    post(&fake, &path, &defer).await;
    let after = callback_after(slow.id).expect("measured");
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(3)).contains(&after),
        "{after:?}"
    );
    post(&fake, &path, &defer).await; // a rejected second callback changes nothing
    assert_eq!(callback_after(slow.id), Some(after));
    let failures = fake.take_failures();
    assert!(failures[0].contains("second callback"), "{failures:?}");
}

#[test]
fn mention_tokens_are_the_ones_discord_pings() {
    let content = "@here see <@1>, <@!2> and <@&3>; not <@x>, <@> or <@4 @everyone";
    assert_eq!(
        mentions::mention_tokens(content),
        ["@here", "<@1>", "<@!2>", "<@&3>", "@everyone"]
    );
    assert!(mentions::mention_tokens("printer down since 10:00").is_empty());
}

#[tokio::test]
async fn a_message_that_would_ping_is_a_failure_and_pings_off_is_recorded() {
    let fake = FakeDiscord::start().await;
    let off = json!({"parse": []});
    let messages = format!("/channels/{CHANNEL_ID}/messages");
    let callback = |fake: &FakeDiscord| {
        let (i, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
        format!("/interactions/{}/{}/callback", i.id, i.token)
    };
    let follow_up = |fake: &FakeDiscord| {
        let (i, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
        format!("/webhooks/{APPLICATION_ID}/{}", i.token)
    };
    let cases = [
        (
            messages.clone(),
            json!({"content": "@everyone printer down"}),
            true,
        ),
        (
            messages.clone(),
            json!({"content": "@everyone printer down", "allowed_mentions": off}),
            false,
        ),
        (
            messages.clone(),
            json!({"content": "hi <@123>", "allowed_mentions": {"parse": ["users"]}}),
            true,
        ),
        (
            messages.clone(),
            json!({"content": "hi <@&5>", "allowed_mentions": {"parse": [], "roles": ["5"]}}),
            true,
        ),
        (
            messages.clone(),
            json!({"content": "no one to ping"}),
            false,
        ),
        (
            callback(&fake),
            json!({"type": 4, "data": {"content": "@here"}}),
            true,
        ),
        (
            follow_up(&fake),
            json!({"content": "<@!42> see this"}),
            true,
        ),
        (
            format!("/channels/{FORUM_ID}/threads"),
            json!({"name": "T", "message": {"content": "@everyone"}}),
            true,
        ),
    ];
    for (path, body, pings) in cases {
        assert!(
            post(&fake, &path, &body).await.status().is_success(),
            "{path} {body}"
        );
        let failures = fake.take_failures();
        let caught = failures.iter().any(|f| f.contains("would ping"));
        assert_eq!(caught, pings, "{path} {body}: {failures:?}");
        assert_eq!(failures.len(), usize::from(pings), "{failures:?}");
    }

    // What serenity sends for "no pings" counts as pings off; a bare message does not.
    let http = serenity_http(&fake);
    let quiet = CreateMessage::new()
        .content("@everyone from Orange")
        .allowed_mentions(CreateAllowedMentions::new());
    ChannelId::new(CHANNEL_ID)
        .send_message(&http, quiet)
        .await
        .expect("send");
    let requests = fake.message_requests();
    let last = requests.last().expect("a message request");
    assert_eq!(last.allowed_mentions_none(), Some(true), "{:?}", last.body);
    assert_eq!(requests[0].allowed_mentions_none(), Some(false));
    assert_eq!(requests.len(), 9, "every message-carrying request");
    let defer = fake
        .register_interaction(&InteractionPayload::slash("ticket"))
        .0;
    let path = format!("/interactions/{}/{}/callback", defer.id, defer.token);
    post(&fake, &path, &json!({"type": 5})).await;
    let last = fake.requests().pop().expect("the defer");
    assert_eq!(
        last.allowed_mentions_none(),
        None,
        "a defer carries no message"
    );
}

#[tokio::test]
async fn threads_and_messages_are_listed_in_creation_order_and_waited_for() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let channel = ChannelId::new(CHANNEL_ID);
    let starter = channel.say(&http, "Ticket 1").await.expect("send");
    let a = channel
        .create_thread_from_message(&http, starter.id, CreateThread::new("Ticket 1"))
        .await
        .expect("thread");
    fake.state()
        .add_thread(CHANNEL_ID, 11, "made by the test", Vec::new(), None);
    let b = channel
        .create_thread(&http, CreateThread::new("Ticket 2"))
        .await
        .expect("thread");
    let first = CreateMessage::new().content("first post");
    let c = ChannelId::new(FORUM_ID)
        .create_forum_post(&http, CreateForumPost::new("Ticket 3", first))
        .await
        .expect("forum post");
    let threads: Vec<u64> = fake.threads().iter().map(|t| t.id).collect();
    assert_eq!(threads, [a.id.get(), b.id.get(), c.id.get()]);

    b.id.say(&http, "one").await.expect("send");
    b.id.say(&http, "two").await.expect("send");
    let in_b: Vec<String> = fake
        .messages_in(b.id.get())
        .iter()
        .map(|m| m.content().to_owned())
        .collect();
    assert_eq!(in_b, ["one", "two"]);
    assert_eq!(fake.messages_in(c.id.get())[0].content(), "first post");

    let (found, _) = tokio::join!(
        fake.wait_for_message("\"three\" in thread B", |m| m.content() == "three"),
        async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            b.id.say(&http, "three").await.expect("send")
        }
    );
    assert_eq!(found.channel_id, b.id.get());
}

#[tokio::test]
async fn the_response_message_follows_deferrals_follow_ups_and_component_replies() {
    let fake = FakeDiscord::start().await;
    let answer = |payload: InteractionPayload, body: Value| {
        let fake = &fake;
        async move {
            let (injected, _) = fake.register_interaction(&payload);
            let path = format!("/interactions/{}/{}/callback", injected.id, injected.token);
            assert_eq!(post(fake, &path, &body).await.status(), 204);
            let webhook = format!("/webhooks/{APPLICATION_ID}/{}", injected.token);
            (injected, webhook)
        }
    };
    let ephemeral_defer = json!({"type": 5, "data": {"flags": 64}});
    let quiet = |text: &str| json!({"content": text, "allowed_mentions": {"parse": []}});

    // Deferred, then PATCH @original: the edit is the response and stays ephemeral.
    let (edited, webhook) =
        answer(InteractionPayload::slash("ticket"), ephemeral_defer.clone()).await;
    let original = format!("{webhook}/messages/@original");
    send(&fake, Method::PATCH, &original, Some(&quiet("done"))).await;
    let message = fake.wait_for_response_message(&edited).await;
    assert_eq!((message.content(), message.is_ephemeral()), ("done", true));

    // Deferred, then follow-ups (what poise sends after `defer`): the first is the response.
    let (followed, webhook) = answer(InteractionPayload::slash("ticket"), ephemeral_defer).await;
    post(&fake, &webhook, &quiet("first")).await;
    post(&fake, &webhook, &quiet("second")).await;
    let message = fake.wait_for_response_message(&followed).await;
    assert_eq!((message.content(), message.is_ephemeral()), ("first", true));
    let later = fake.wait_for_message("the second follow-up", |m| m.content() == "second");
    assert!(
        !later.await.is_ephemeral(),
        "later follow-ups choose their own flags"
    );

    // A click answered with an ephemeral message (type 4).
    let reply = json!({"type": 4, "data": {"content": "only you", "flags": 64}});
    let (clicked, _) = answer(InteractionPayload::button("refresh"), reply).await;
    let message = fake.wait_for_response_message(&clicked).await;
    assert_eq!(
        (message.content(), message.is_ephemeral()),
        ("only you", true)
    );

    // A click deferred as an update (type 6): PATCH @original edits the clicked message.
    let card = fake
        .state()
        .add_message(CHANNEL_ID, json!({"content": "Ticket 1: open"}));
    let click = InteractionPayload::button("close").on_message(fake.message_json(card));
    let (updated, webhook) = answer(click, json!({"type": 6})).await;
    let original = format!("{webhook}/messages/@original");
    send(
        &fake,
        Method::PATCH,
        &original,
        Some(&quiet("Ticket 1: closed")),
    )
    .await;
    let message = fake.wait_for_response_message(&updated).await;
    assert_eq!(
        (message.id, message.content(), message.edits),
        (card, "Ticket 1: closed", 1)
    );
}
