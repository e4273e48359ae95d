//! The fake's REST side: serenity round trips, nonces, spec validation naming the path, pins,
//! channel history, pings caught, creation order.

use super::*;

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

/// The guild routes `check` reads answer what Discord's spec says they answer, and serenity reads
/// them; the bot role's permissions are the test's to set, and a revoked token gets a 401.
#[tokio::test]
async fn the_guild_routes_answer_per_the_spec_and_follow_the_tests_settings() {
    use crate::support::fake_discord::BOT_USER_ID;
    use crate::support::fake_discord::guild::{BOT_ROLE_ID, GUILD_NAME, INVITE_PERMISSIONS};
    let fake = FakeDiscord::start().await;
    let get = |path: String| {
        let fake = &fake;
        async move {
            let response = send(fake, Method::GET, &path, None).await;
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Value>().await.expect("json")
        }
    };
    let guilds = get("/users/@me/guilds".into()).await;
    let member = get(format!("/guilds/{GUILD_ID}/members/{BOT_USER_ID}")).await;
    let roles = get(format!("/guilds/{GUILD_ID}/roles")).await;
    let answers = [
        ("MyGuildResponse", &guilds[0]),
        ("GuildMemberResponse", &member),
        ("GuildRoleResponse", &roles[0]),
        ("GuildRoleResponse", &roles[1]),
    ];
    for (schema, answer) in answers {
        let violations = validate::check_schema(schema, answer, "");
        assert!(violations.is_empty(), "{schema}: {violations:?}\n{answer}");
    }
    let page_after = get(format!("/users/@me/guilds?after={GUILD_ID}")).await;
    assert_eq!(page_after, json!([]));

    let http = serenity_http(&fake);
    let listed = http.get_guilds(None, Some(200)).await.expect("guilds");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, GUILD_NAME);
    let bot = http
        .get_member(GuildId::new(GUILD_ID), UserId::new(BOT_USER_ID))
        .await
        .expect("member");
    assert_eq!(bot.roles, [RoleId::new(BOT_ROLE_ID)]);
    let read = http
        .get_guild_roles(GuildId::new(GUILD_ID))
        .await
        .expect("roles");
    assert_eq!(read.len(), 2);

    fake.set_bot_permissions(INVITE_PERMISSIONS & !(1 << 11));
    let roles = get(format!("/guilds/{GUILD_ID}/roles")).await;
    assert_eq!(
        roles[1]["permissions"],
        (INVITE_PERMISSIONS & !(1 << 11)).to_string()
    );
    let (status, body) = error_code(send(&fake, Method::GET, "/guilds/1/roles", None).await).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10004)));

    fake.revoke_token("fake-token");
    let refused = http.get_current_user().await.expect_err("a revoked token");
    assert!(
        matches!(&refused, serenity::Error::Http(e) if e.status_code().map(|s| s.as_u16()) == Some(401)),
        "{refused:?}"
    );
}

/// A raw multipart message: `payload_json`, then one `files[n]` part per `(n, name, text)`.
async fn post_multipart(
    fake: &FakeDiscord,
    path: &str,
    payload: &Value,
    files: &[(u64, &str, &str)],
) -> reqwest::Response {
    let boundary = "fake-boundary-42";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\
         Content-Type: application/json\r\n\r\n{payload}\r\n"
    );
    for (n, name, text) in files {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files[{n}]\"; \
             filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}/api/v10{path}", fake.base_url()))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn uploaded_files_are_kept_and_checked_against_their_declarations() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let file = serenity::all::CreateAttachment::bytes(b"a,b\r\n1,2\r\n".to_vec(), "r.csv");
    let sent = ChannelId::new(CHANNEL_ID)
        .send_message(&http, CreateMessage::new().content("report").add_file(file))
        .await
        .expect("serenity sends a file");
    assert_eq!(sent.attachments.len(), 1);
    assert_eq!(sent.attachments[0].filename, "r.csv");
    assert_eq!(sent.attachments[0].size, 10);
    let kept = fake.messages_in(CHANNEL_ID);
    let files = fake.files_of(&kept[0].body);
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].filename.as_str(), files[0].text()),
        ("r.csv", "a,b\r\n1,2\r\n".to_owned())
    );
    assert!(fake.take_failures().is_empty());

    let messages = format!("/channels/{CHANNEL_ID}/messages");
    let cases = [
        // An upload nobody declared.
        (
            json!({"content": "x", "attachments": []}),
            vec![(0, "a.csv", "1")],
            "files[0] is not declared",
        ),
        // Declared under another name.
        (
            json!({"content": "x", "attachments": [{"id": 0, "filename": "b.csv"}]}),
            vec![(0, "a.csv", "1")],
            "differs from the declared",
        ),
        // Declared, never uploaded.
        (
            json!({"content": "x", "attachments": [{"id": "1", "filename": "c.csv"}]}),
            vec![],
            "declared without its files[] part",
        ),
        // An empty file.
        (
            json!({"content": "x", "attachments": [{"id": 0, "filename": "d.csv"}]}),
            vec![(0, "d.csv", "")],
            "files[0] is empty",
        ),
    ];
    for (payload, files, rule) in cases {
        let (status, answer) =
            error_code(post_multipart(&fake, &messages, &payload, &files).await).await;
        assert_eq!(status, 400, "{payload}: {answer}");
        assert_eq!(answer["code"], 50035);
        let failures = fake.take_failures();
        assert!(
            failures.iter().any(|f| f.contains(rule)),
            "expected `{rule}`, got {failures:#?}"
        );
    }
}
