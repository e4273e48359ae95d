//! The fake's interactions: the builders carry what serenity reads, callbacks and their window,
//! the response message across deferrals and follow-ups.

use super::*;

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

#[tokio::test]
async fn a_request_is_stamped_when_it_arrived_and_when_it_was_answered() {
    let fake = FakeDiscord::start().await;
    let (prompt, _) = fake.register_interaction(&InteractionPayload::slash("ticket"));
    let before = fake.state().elapsed();
    let path = format!("/interactions/{}/{}/callback", prompt.id, prompt.token);
    post(&fake, &path, &json!({"type": 5})).await;
    let after = fake.state().elapsed();
    let route = "POST /interactions/{interaction_id}/{interaction_token}/callback";
    let request = fake.wait_for_request(route, 1).await;
    // The benchmarks time the bot's answers by `received`: it comes first.
    assert!(
        before <= request.received && request.received <= request.at && request.at <= after,
        "{before:?} <= {:?} <= {:?} <= {after:?}",
        request.received,
        request.at
    );
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
