//! The header card's buttons through the real bot: Refresh edits the card in place, Add comment
//! opens a form, Follow joins the thread; a card whose ticket was unlinked, an unknown button,
//! and a card posted before a restart.

use std::time::Duration;

use orange_ticket_bot::domain::Status;

use crate::support::fake_discord::{CHANNEL_ID, InteractionPayload, USER_ID};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{Opened, open_ticket, set_profile};

/// The pinned header card of a thread, as the gateway would send it with a click.
fn card(bot: &TestBot, thread: u64) -> (u64, serde_json::Value) {
    let message = bot
        .fake
        .messages_in(thread)
        .into_iter()
        .find(|m| m.pinned)
        .expect("a pinned card");
    (message.id, bot.fake.message_json(message.id))
}

fn click(custom_id: String, opened: &Opened, message: serde_json::Value) -> InteractionPayload {
    InteractionPayload::button(&custom_id)
        .in_thread(opened.thread, CHANNEL_ID)
        .on_message(message)
}

/// Clicks Refresh on the thread's card; returns the card's id and the answer's text.
async fn refresh(bot: &TestBot, opened: &Opened) -> (u64, String) {
    let (card_id, message) = card(bot, opened.thread);
    let (_, answer) = bot
        .ask(&click(
            format!("otb:refresh:{}", opened.id),
            opened,
            message,
        ))
        .await;
    assert!(answer.is_ephemeral());
    (card_id, answer.content().to_owned())
}

async fn started_with_a_ticket() -> (TestBot, Opened) {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Jitter on the backbone", Duration::from_secs(5)).await;
    (bot, opened)
}

#[tokio::test]
async fn refresh_edits_the_card_in_place() {
    let (bot, opened) = started_with_a_ticket().await;
    bot.sandbox()
        .set_status(&opened.id, Status::Ongoing, Some("Engineer on site".into()))
        .expect("status");
    let (card_id, answer) = refresh(&bot, &opened).await;
    assert_eq!(answer, format!("Ticket {} refreshed: Ongoing.", opened.id));
    let edited = bot.fake.state().messages[&card_id].clone();
    assert_eq!(edited.edits, 1);
    assert_eq!(
        edited.embeds()[0]["title"],
        format!("Ticket {} — Ongoing", opened.id)
    );
    assert_eq!(edited.embeds()[0]["color"], 0xff7900);
    assert_eq!(
        edited.body["components"][0]["components"][0]["label"], "Refresh",
        "the buttons stay"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn add_comment_opens_a_form_whose_comment_reaches_orange() {
    let (bot, opened) = started_with_a_ticket().await;
    let (_, message) = card(&bot, opened.thread);
    let injected = bot
        .fake
        .inject(&click(
            format!("otb:comment:{}", opened.id),
            &opened,
            message,
        ))
        .await;
    let form = bot.fake.wait_for_callback(&injected).await;
    assert_eq!(form["type"], 9);
    let custom_id = form["data"]["custom_id"].as_str().expect("id").to_owned();
    assert_eq!(custom_id, format!("otb:form:comment:{}", opened.id));
    // 4,000 characters reach Orange, of which "[Alice via discord] " takes 20.
    assert_eq!(
        form["data"]["components"][0]["components"][0]["max_length"],
        3980
    );
    let (_, answer) = bot
        .ask(
            &InteractionPayload::modal_submit(&custom_id, &[("text", "Swapped the SFP")])
                .in_thread(opened.thread, CHANNEL_ID),
        )
        .await;
    assert_eq!(
        answer.content(),
        format!("Comment added to ticket {}.", opened.id)
    );
    let notes = bot.notes(&opened.id);
    assert!(
        notes
            .iter()
            .any(|n| n == "[Alice via discord] Swapped the SFP")
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn follow_adds_the_user_to_the_thread() {
    let (bot, opened) = started_with_a_ticket().await;
    let (_, message) = card(&bot, opened.thread);
    let (_, answer) = bot
        .ask(&click(
            format!("otb:follow:{}", opened.id),
            &opened,
            message,
        ))
        .await;
    assert_eq!(
        answer.content(),
        format!(
            "You now follow ticket {}: Discord will notify you of new messages in this thread.",
            opened.id
        )
    );
    assert!(answer.is_ephemeral());
    assert_eq!(bot.fake.state().channels[&opened.thread].members, [USER_ID]);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_card_whose_ticket_was_unlinked_and_an_unknown_button_say_so() {
    let (bot, opened) = started_with_a_ticket().await;
    let (_, unlinked) = bot
        .ask(&ticket("unlink").in_thread(opened.thread, CHANNEL_ID))
        .await;
    assert_eq!(
        unlinked.content(),
        format!("Unlinked from ticket {}.", opened.id)
    );
    let calls = bot.orange_calls();
    let (card_id, message) = card(&bot, opened.thread);
    for action in ["refresh", "comment", "follow"] {
        let (_, answer) = bot
            .ask(&click(
                format!("otb:{action}:{}", opened.id),
                &opened,
                message.clone(),
            ))
            .await;
        assert_eq!(
            answer.content(),
            format!(
                "This card's ticket {id} is no longer linked here: `/ticket link id:{id}` links it again.",
                id = opened.id
            ),
            "{action}"
        );
        assert!(answer.is_ephemeral());
    }
    let (_, unknown) = bot
        .ask(&click("someone-elses-button".into(), &opened, message))
        .await;
    assert_eq!(
        unknown.content(),
        "This button is no longer in use: run the command again."
    );
    assert_eq!(bot.fake.state().messages[&card_id].edits, 0);
    assert_eq!(bot.orange_calls(), calls, "no Orange call");
    bot.shutdown().await;
}

#[tokio::test]
async fn a_button_on_a_card_posted_before_a_restart_still_works() {
    let (mut bot, opened) = started_with_a_ticket().await;
    bot.restart().await;
    bot.sandbox()
        .set_status(&opened.id, Status::Restored, None)
        .expect("status");
    let (card_id, answer) = refresh(&bot, &opened).await;
    assert_eq!(answer, format!("Ticket {} refreshed: Restored.", opened.id));
    assert_eq!(
        bot.fake.state().messages[&card_id].embeds()[0]["title"],
        format!("Ticket {} — Restored", opened.id)
    );
    bot.shutdown().await;
}
