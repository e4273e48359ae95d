//! "Send to Orange" through the real bot: the message command shows exactly what Orange would
//! receive and sends nothing; Send adds one comment (author, link, signature) and the thread
//! says so; a second Send, Cancel, and Send after Cancel add none; a confirmation outlives a
//! restart; a message too long for one comment is cut as the confirmation showed; outside a
//! linked thread the command refuses. Every claim about Orange is read back from the sandbox.

use std::time::Duration;

use orange_ticket_bot::domain::TicketId;
use serde_json::{Value, json};

use crate::support::fake_discord::{CHANNEL_ID, GUILD_ID, InteractionPayload};
use crate::support::test_bot::{Answer, TestBot};
use crate::tickets::{Opened, open_ticket, set_profile};

/// The message right-clicked in the ticket's thread.
const MESSAGE: u64 = 1_100_000_000_000_000_400;
const TEXT: &str = "Customer confirms the CPE rebooted at 10:42, **still** no sync @everyone";

/// Bob wrote the message; Alice (the fake's user) sends it.
fn bob() -> Value {
    json!({"id": "1100000000000000041", "username": "bob", "discriminator": "0",
           "global_name": "Bob Builder", "avatar": null})
}

fn link(thread: u64) -> String {
    format!("https://discord.com/channels/{GUILD_ID}/{thread}/{MESSAGE}")
}

/// The comment Orange is to receive for [`TEXT`] sent by Alice.
fn expected_comment(thread: u64, text: &str) -> String {
    format!(
        "[Alice via discord] From Bob Builder on Discord ({}):\n{text}",
        link(thread)
    )
}

async fn started() -> (TestBot, Opened) {
    started_with(|_| {}).await
}

async fn started_with(
    tweak: impl FnOnce(&mut orange_ticket_bot::config::Settings),
) -> (TestBot, Opened) {
    let bot = TestBot::start_with(tweak).await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "No sync on the CPE", Duration::from_secs(5)).await;
    (bot, opened)
}

/// The message command on Bob's message in `channel` (a thread of [`CHANNEL_ID`], or a channel).
fn menu(channel: u64, in_thread: bool, text: &str) -> InteractionPayload {
    let payload = InteractionPayload::message_command("Send to Orange")
        .target_message(MESSAGE, channel, text)
        .target_author(bob());
    if in_thread {
        payload.in_thread(channel, CHANNEL_ID)
    } else {
        payload
    }
}

/// The confirmation shown for the menu in the ticket's thread: its answer, message id and the
/// custom ids of its two buttons (Send, Cancel).
async fn confirmation(bot: &TestBot, thread: u64, text: &str) -> (Answer, u64, String, String) {
    let (injected, answer) = bot.ask(&menu(thread, true, text)).await;
    assert_eq!(answer.callback["type"], 4, "answered at once: {answer:?}");
    assert!(answer.is_ephemeral());
    let message = bot.fake.state().interactions[&injected.id]
        .original_message
        .expect("the confirmation message");
    let buttons = &answer.body["components"][0]["components"];
    assert_eq!(buttons[0]["label"], "Send");
    assert_eq!(buttons[1]["label"], "Cancel");
    let id = |b: &Value| b["custom_id"].as_str().expect("custom id").to_owned();
    (answer.clone(), message, id(&buttons[0]), id(&buttons[1]))
}

/// A click on the confirmation's button `custom_id`.
fn click(custom_id: &str, bot: &TestBot, thread: u64, message: u64) -> InteractionPayload {
    InteractionPayload::button(custom_id)
        .in_thread(thread, CHANNEL_ID)
        .on_message(bot.fake.message_json(message))
}

/// The thread's public "sent" lines.
fn sent_lines(bot: &TestBot, thread: u64) -> Vec<String> {
    bot.fake
        .messages_in(thread)
        .into_iter()
        .filter(|m| m.flags() & 64 == 0 && m.content().starts_with("📨"))
        .map(|m| m.content().to_owned())
        .collect()
}

/// Notes of the ticket at Orange that mention the message's link.
fn notes_with_link(bot: &TestBot, id: &TicketId, thread: u64) -> Vec<String> {
    bot.notes(id)
        .into_iter()
        .filter(|n| n.contains(&link(thread)))
        .collect()
}

#[tokio::test]
async fn the_bot_registers_the_send_to_orange_message_command() {
    let bot = TestBot::start().await;
    let commands = bot
        .fake
        .state()
        .global_commands
        .clone()
        .expect("registered");
    let menu = commands
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "Send to Orange"))
        .unwrap_or_else(|| panic!("no Send to Orange in {commands}"));
    assert_eq!(menu["type"], 3, "a message context-menu command");
    bot.shutdown().await;
}

#[tokio::test]
async fn send_adds_exactly_one_comment_with_author_and_link_only_after_confirmation() {
    let (bot, opened) = started().await;
    let thread = opened.thread;
    let notes_before = bot.notes(&opened.id).len();
    let calls_before = bot.orange_calls();

    let (answer, message, send, _) = confirmation(&bot, thread, TEXT).await;
    let comment = expected_comment(thread, TEXT);
    assert_eq!(
        answer.content(),
        format!(
            "Send this to Orange as a comment on ticket {}? Orange receives exactly the text \
             below ({} characters). Nothing is sent until you click **Send**.",
            opened.id,
            comment.chars().count()
        )
    );
    assert_eq!(
        answer.embeds()[0]["title"],
        format!("Comment for ticket {}", opened.id)
    );
    assert_eq!(
        answer.embeds()[0]["description"],
        orange_ticket_bot::render::card::md(&comment),
        "the whole comment, as typed"
    );
    // Nothing at Orange yet: no note, not even a call.
    assert_eq!(bot.notes(&opened.id).len(), notes_before);
    assert!(notes_with_link(&bot, &opened.id, thread).is_empty());
    assert_eq!(bot.orange_calls(), calls_before, "no Orange call");
    assert!(sent_lines(&bot, thread).is_empty());

    let (_, sent) = bot.ask(&click(&send, &bot, thread, message)).await;
    assert_eq!(
        sent.callback["type"], 6,
        "the confirmation is edited in place"
    );
    assert_eq!(
        sent.content(),
        format!(
            "Sent to Orange: the message is now a comment on ticket {}.",
            opened.id
        )
    );
    assert_eq!(sent.body["components"], json!([]), "no buttons left");
    assert_eq!(bot.notes(&opened.id).len(), notes_before + 1);
    assert_eq!(
        notes_with_link(&bot, &opened.id, thread),
        std::slice::from_ref(&comment)
    );
    assert_eq!(
        sent_lines(&bot, thread),
        [format!("📨 Sent to Orange by Alice: {}", link(thread))]
    );

    // A second click on Send (a double click, a stale client) adds nothing.
    let (_, again) = bot.ask(&click(&send, &bot, thread, message)).await;
    assert_eq!(again.callback["type"], 4);
    assert!(again.is_ephemeral());
    assert_eq!(
        again.content(),
        format!("This message was already sent to ticket {}.", opened.id)
    );
    assert_eq!(notes_with_link(&bot, &opened.id, thread), [comment]);
    assert_eq!(bot.notes(&opened.id).len(), notes_before + 1);
    assert_eq!(sent_lines(&bot, thread).len(), 1);

    let audit = bot.core().store().audit_log(50).await.expect("audit");
    let sends: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "send to orange")
        .map(|e| (e.ticket.clone(), e.outcome.clone()))
        .collect();
    assert_eq!(sends, [(Some(opened.id.clone()), "ok".to_owned())]);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_confirmation_sends_nothing_even_when_send_is_clicked_after() {
    let (bot, opened) = started().await;
    let thread = opened.thread;
    let notes_before = bot.notes(&opened.id);
    let (_, message, send, cancel) = confirmation(&bot, thread, TEXT).await;

    let (_, cancelled) = bot.ask(&click(&cancel, &bot, thread, message)).await;
    assert_eq!(
        cancelled.content(),
        format!(
            "Cancelled: nothing was sent to Orange (ticket {}).",
            opened.id
        )
    );
    assert_eq!(cancelled.body["components"], json!([]));

    let (_, late) = bot.ask(&click(&send, &bot, thread, message)).await;
    assert_eq!(
        late.content(),
        "This was cancelled: nothing was sent. Use Send to Orange on the message again."
    );
    assert!(late.is_ephemeral());
    assert_eq!(
        bot.notes(&opened.id),
        notes_before,
        "Orange has no new note"
    );
    assert!(sent_lines(&bot, thread).is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_confirmation_shown_before_a_restart_still_sends_once() {
    let (mut bot, opened) = started().await;
    let thread = opened.thread;
    let (_, message, send, _) = confirmation(&bot, thread, TEXT).await;
    bot.restart().await;
    let (_, sent) = bot.ask(&click(&send, &bot, thread, message)).await;
    assert_eq!(
        sent.content(),
        format!(
            "Sent to Orange: the message is now a comment on ticket {}.",
            opened.id
        )
    );
    assert_eq!(
        notes_with_link(&bot, &opened.id, thread),
        [expected_comment(thread, TEXT)]
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_message_too_long_for_one_comment_is_cut_as_the_confirmation_shows() {
    const MAX: usize = 300;
    let (bot, opened) = started_with(|s| s.core.comment_max_chars = MAX).await;
    let thread = opened.thread;
    let long: String = (0..40).map(|i| format!("line {i:02}; ")).collect();
    let (answer, message, send, _) = confirmation(&bot, thread, &long).await;
    let shown = answer.embeds()[0]["description"]
        .as_str()
        .expect("the comment")
        .replace('\\', "");
    assert_eq!(shown.chars().count(), MAX, "exactly Orange's limit");
    assert!(shown.ends_with('…'));
    let kept = shown
        .split_once("):\n")
        .map(|(_, t)| t.trim_end_matches('…').to_owned())
        .expect("the text");
    let cut = &long.trim()[kept.len()..];
    assert!(
        answer.content().contains(&format!(
            "the message's last {} characters would be cut",
            cut.chars().count()
        )),
        "{}",
        answer.content()
    );
    assert!(
        answer.content().contains(cut),
        "shows what is cut: {}",
        answer.content()
    );

    let (_, sent) = bot.ask(&click(&send, &bot, thread, message)).await;
    assert!(
        sent.content().starts_with("Sent to Orange"),
        "{}",
        sent.content()
    );
    assert_eq!(notes_with_link(&bot, &opened.id, thread), [shown]);
    bot.shutdown().await;
}

#[tokio::test]
async fn outside_a_linked_thread_the_command_refuses_and_sends_nothing() {
    let bot = TestBot::start().await;
    let calls = bot.orange_calls();
    let (_, answer) = bot.ask(&menu(CHANNEL_ID, false, TEXT)).await;
    assert!(answer.is_ephemeral());
    assert_eq!(
        answer.content(),
        "Send to Orange works in a ticket's thread: this conversation is not linked to a ticket."
    );
    assert!(
        answer.body["components"]
            .as_array()
            .is_none_or(|c| c.is_empty()),
        "no buttons"
    );
    assert_eq!(bot.orange_calls(), calls, "no Orange call");
    let audit = bot.core().store().audit_log(10).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "send to orange" && e.outcome.starts_with("refused:")),
        "{audit:?}"
    );
    bot.shutdown().await;
}
