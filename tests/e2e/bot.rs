//! The real bot against the fake Discord: start-up, command registration, slash commands.

use orange_ticket_bot::config::Settings;
use serde_json::Value;

use crate::support::fake_discord::{APPLICATION_ID, BOT_USER_ID, GUILD_ID, InteractionPayload};
use crate::support::test_bot::{TestBot, closed_port_url};

fn find<'a>(commands: &'a Value, name: &str) -> &'a Value {
    commands
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no command {name} in {commands}"))
}

#[tokio::test]
async fn the_bot_registers_its_commands_globally_under_the_application_id() {
    let bot = TestBot::start().await;
    let commands = bot
        .fake
        .state()
        .global_commands
        .clone()
        .expect("registered");
    let ticket = find(&commands, "ticket");
    let status = &ticket["options"][0];
    assert_eq!(status["name"], "status");
    assert_eq!(status["type"], 1, "a sub-command");
    assert_eq!(status["description"], "Check the Orange API status");
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
async fn when_orange_is_unreachable_ticket_status_shows_a_short_ephemeral_message() {
    let bot = TestBot::start_with(|s: &mut Settings| {
        s.orange.base_url = closed_port_url().parse().expect("url");
        s.orange.retry.max_attempts = 1;
    })
    .await;
    let injected = bot
        .fake
        .inject(&InteractionPayload::slash("ticket").sub("status"))
        .await;
    let callback = bot.fake.wait_for_callback(&injected).await;
    assert_eq!(callback["type"], 4);
    assert_eq!(callback["data"]["flags"], 64, "ephemeral: {callback}");
    let content = callback["data"]["content"].as_str().expect("a message");
    assert!(!content.is_empty() && content.len() < 300, "{content}");
    for leak in ["http", "127.0.0.1", "token", "error sending request"] {
        assert!(!content.contains(leak), "leaks {leak}: {content}");
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn ticket_status_replies_with_an_embed_of_the_orange_status() {
    let bot = TestBot::start().await;
    let injected = bot
        .fake
        .inject(&InteractionPayload::slash("ticket").sub("status"))
        .await;
    let callback = bot.fake.wait_for_callback(&injected).await;
    assert_eq!(callback["type"], 4, "{callback}");
    let embed = &callback["data"]["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Orange API")),
        "{callback}"
    );
    assert_eq!(embed["fields"][0]["name"], "Status");
    let message = bot.fake.wait_for_response_message(&injected).await;
    assert_eq!(message.embeds().len(), 1);
    bot.shutdown().await;
}
