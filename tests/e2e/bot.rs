//! The real bot against the fake Discord: start-up, command registration (with a failing first
//! attempt), `/ticket status`, refusals (direct messages, guilds off the allowlist).

use orange_ticket_bot::config::Settings;
use serde_json::Value;

use crate::support::fake_discord::{
    APPLICATION_ID, BOT_USER_ID, Fault, GUILD_ID, InteractionPayload,
};
use crate::support::test_bot::{TestBot, closed_port_url, ticket};

fn find<'a>(commands: &'a Value, name: &str) -> &'a Value {
    commands
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no command {name} in {commands}"))
}

#[tokio::test]
async fn the_bot_registers_every_command_globally_under_the_application_id() {
    let bot = TestBot::start().await;
    let commands = bot
        .fake
        .state()
        .global_commands
        .clone()
        .expect("registered");
    let ticket = find(&commands, "ticket");
    let subs: Vec<&str> = ticket["options"]
        .as_array()
        .expect("sub-commands")
        .iter()
        .map(|o| {
            assert_eq!(o["type"], 1, "a sub-command: {o}");
            o["name"].as_str().unwrap_or("")
        })
        .collect();
    assert_eq!(
        subs,
        [
            "create", "show", "comment", "search", "link", "unlink", "services", "status",
            "follow", "unfollow", "profile", "config", "board", "notify", "report"
        ]
    );
    let status = &ticket["options"][7];
    assert_eq!(
        status["description"],
        "Check the Orange API status and the bot's own"
    );
    let menu = find(&commands, "Open Orange ticket");
    assert_eq!(menu["type"], 3, "a message context-menu command");
    let put = bot
        .fake
        .wait_for_request("PUT /applications/{application_id}/commands", 1)
        .await;
    assert_eq!(put.path, format!("/applications/{APPLICATION_ID}/commands"));
    assert_ne!(
        APPLICATION_ID, BOT_USER_ID,
        "the fake keeps the two ids apart"
    );
    assert!(
        put.headers.iter().any(|(k, _)| k == "authorization"),
        "requests are authenticated"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn with_a_guild_id_the_bot_registers_its_commands_in_that_guild() {
    let bot = TestBot::start_with(|s: &mut Settings| s.discord.guild_id = Some(GUILD_ID)).await;
    {
        let state = bot.fake.state();
        assert!(state.global_commands.is_none());
        find(&state.guild_commands[&GUILD_ID], "ticket");
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn a_failed_registration_is_retried_and_the_bot_then_answers() {
    let bot = TestBot::start_full(
        |fake| {
            fake.fail_next(
                "PUT /applications/{application_id}/commands",
                Fault::ServerError,
                1,
            )
        },
        |_| {},
    )
    .await;
    let puts: Vec<u16> = bot
        .fake
        .requests()
        .iter()
        .filter(|r| r.route == Some("PUT /applications/{application_id}/commands"))
        .map(|r| r.status)
        .collect();
    assert_eq!(puts, [500, 200], "one failure, then a retry");
    let (_, answer) = bot.ask(&ticket("status")).await;
    assert_eq!(answer.embed_title(), "Orange API: OK");
    bot.shutdown().await;
}

#[tokio::test]
async fn when_orange_is_unreachable_ticket_status_shows_a_short_private_message() {
    let bot = TestBot::start_with(|s: &mut Settings| {
        s.orange.base_url = closed_port_url().parse().expect("url");
        s.orange.retry.max_attempts = 1;
    })
    .await;
    let (_, answer) = bot.ask(&ticket("status")).await;
    assert_eq!(answer.callback["type"], 5, "deferred first");
    assert!(answer.is_ephemeral(), "{answer:?}");
    let content = answer.content();
    assert!(content.starts_with("Orange"), "a short sentence: {content}");
    assert!(content.len() < 300, "{content}");
    for leak in ["http", "127.0.0.1", "token", "error sending request"] {
        assert!(!content.contains(leak), "leaks {leak}: {content}");
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn ticket_status_shows_orange_and_the_bots_own_state() {
    let bot = TestBot::start().await;
    let (_, answer) = bot.ask(&ticket("status")).await;
    assert_eq!(answer.embed_title(), "Orange API: OK");
    let fields: Vec<(&str, &str)> = answer.embeds()[0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .take(4)
        .map(|f| {
            (
                f["name"].as_str().unwrap_or(""),
                f["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("Status", "ok"),
            ("Tracked tickets", "0"),
            ("Linked conversations", "0"),
            ("Feeds", "0")
        ]
    );
    assert!(answer.is_ephemeral());
    bot.shutdown().await;
}

#[tokio::test]
async fn direct_messages_and_other_guilds_get_one_polite_refusal_which_is_audited() {
    const OTHER_GUILD: u64 = 1_100_000_000_000_000_999;
    let bot =
        TestBot::start_with(|s: &mut Settings| s.discord.allowed_guilds = vec![GUILD_ID]).await;
    let (_, dm) = bot.ask(&ticket("status").in_dm()).await;
    assert_eq!(
        dm.content(),
        "Ticket commands work in a server's channels, not in direct messages."
    );
    assert!(dm.is_ephemeral());
    let (_, other) = bot.ask(&ticket("status").in_guild(OTHER_GUILD)).await;
    assert_eq!(other.content(), "This bot is not enabled for this server.");
    assert!(other.is_ephemeral());
    let audit = bot.core().store().audit_log(10).await.expect("audit");
    let refusals: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|a| (a.user_key.as_str(), a.action.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        refusals,
        [(
            "discord:1100000000000000008",
            "ticket status",
            "refused: This bot is not enabled for this server."
        )]
    );
    assert_eq!(
        bot.sandbox()
            .counters()
            .calls(orange_ticket_bot::sandbox::Operation::ApiStatus),
        0,
        "refused before Orange is called"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn autocomplete_for_a_refused_actor_offers_nothing_and_audits_nothing() {
    let bot =
        TestBot::start_with(|s: &mut Settings| s.discord.allowed_guilds = vec![GUILD_ID]).await;
    for payload in [
        InteractionPayload::autocomplete("ticket")
            .sub("create")
            .focused("service", "")
            .in_dm(),
        InteractionPayload::autocomplete("ticket")
            .sub("create")
            .focused("service", "")
            .in_guild(1_100_000_000_000_000_999),
    ] {
        let answer = bot.suggest(&payload).await;
        assert_eq!(answer["data"]["choices"], serde_json::json!([]));
    }
    assert!(
        bot.core()
            .store()
            .audit_log(10)
            .await
            .expect("audit")
            .is_empty()
    );
    bot.shutdown().await;
}
