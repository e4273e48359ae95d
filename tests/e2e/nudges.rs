//! Stale-ticket nudges through the real bot, the sandbox's clock and a sled store on disk: one
//! message once Orange has been silent past the threshold, none again for the same silence, a new
//! one after a new silence; its button sends an update request only after confirmation, once.

use std::time::Duration;

use orange_ticket_bot::domain::TicketId;

use crate::support::fake_discord::{CHANNEL_ID, Injected, InteractionPayload, state::Message};
use crate::support::test_bot::TestBot;
use crate::tickets::{open_ticket, set_profile};

const HOUR: Duration = Duration::from_secs(3_600);

/// The nudges posted in `thread`.
fn nudges(bot: &TestBot, thread: u64) -> Vec<Message> {
    bot.fake
        .messages_in(thread)
        .into_iter()
        .filter(|m| m.content().contains("No update from Orange since"))
        .collect()
}

fn notes(bot: &TestBot, id: &TicketId) -> Vec<String> {
    bot.notes(id)
}

/// Clicks `custom_id` on `message` in `thread`.
async fn click(
    bot: &TestBot,
    thread: u64,
    custom_id: &str,
    message: serde_json::Value,
) -> (Injected, crate::support::test_bot::Answer) {
    bot.ask(
        &InteractionPayload::button(custom_id)
            .in_thread(thread, CHANNEL_ID)
            .on_message(message),
    )
    .await
}

fn button(message: &serde_json::Value, row: usize, n: usize) -> String {
    message["components"][row]["components"][n]["custom_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no button {n} in {message}"))
        .to_owned()
}

#[tokio::test]
async fn a_silent_ticket_is_nudged_once_per_silence_and_asks_orange_only_when_confirmed() {
    // Submitted tickets are nudged after 4 hours of silence by default.
    let mut bot = TestBot::start().await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Silent link", Duration::from_secs(5)).await;
    let mut watcher = bot.watcher();
    assert_eq!(watcher.poll_once().await.nudges, 0);

    bot.advance_clock(3 * HOUR);
    let early = watcher.poll_once().await;
    assert_eq!(early.nudges, 0, "3 h: not yet ({early:?})");

    bot.advance_clock(2 * HOUR);
    let due = watcher.poll_once().await;
    assert_eq!((due.nudges, due.delivered), (1, 1), "5 h: {due:?}");
    let posted = nudges(&bot, opened.thread);
    assert_eq!(posted.len(), 1);
    let nudge = bot.fake.message_json(posted[0].id);
    assert!(
        posted[0]
            .content()
            .starts_with("⏰ **No update from Orange since <t:"),
        "{}",
        posted[0].content()
    );
    assert!(posted[0].content().contains("(still Submitted)"));
    let ask = button(&nudge, 0, 0);
    assert_eq!(ask, format!("otb:nudge:{}", opened.id));
    assert_eq!(
        nudge["components"][0]["components"][0]["label"],
        "Ask Orange for an update"
    );

    let again = watcher.poll_once().await;
    assert_eq!(again.nudges, 0, "the same silence: {again:?}");
    assert_eq!(nudges(&bot, opened.thread).len(), 1);

    // The confirmation shows the comment; Cancel sends nothing.
    let before = notes(&bot, &opened.id).len();
    let (shown, confirm) = click(&bot, opened.thread, &ask, nudge.clone()).await;
    assert!(confirm.is_ephemeral());
    assert!(
        confirm.content().starts_with(&format!(
            "This comment will be sent to Orange on ticket {}:\n> \\[",
            opened.id
        )),
        "{}",
        confirm.content()
    );
    assert!(
        confirm
            .content()
            .contains("Could you give us an update on this ticket?")
    );
    assert_eq!(
        notes(&bot, &opened.id).len(),
        before,
        "nothing sent by showing"
    );
    let confirmation = |injected: &Injected| {
        let id = bot.fake.state().interactions[&injected.id]
            .original_message
            .expect("the confirmation");
        bot.fake.message_json(id)
    };
    let message = confirmation(&shown);
    let (send, cancel) = (button(&message, 0, 0), button(&message, 0, 1));
    let (_, cancelled) = click(&bot, opened.thread, &cancel, message).await;
    assert_eq!(
        cancelled.content(),
        "Cancelled: nothing was sent to Orange."
    );
    assert_eq!(
        notes(&bot, &opened.id).len(),
        before,
        "nothing sent by Cancel"
    );

    // Send sends one comment; a second Send none.
    let (shown, _) = click(&bot, opened.thread, &ask, nudge.clone()).await;
    let message = confirmation(&shown);
    let (_, sent) = click(&bot, opened.thread, &send, message.clone()).await;
    assert_eq!(
        sent.content(),
        format!("Asked Orange for an update on ticket {}.", opened.id)
    );
    let after = notes(&bot, &opened.id);
    assert_eq!(after.len(), before + 1);
    let comment = after.last().expect("the comment");
    assert!(
        comment.contains(" via discord] Could you give us an update on this ticket?"),
        "{comment}"
    );
    let (_, twice) = click(&bot, opened.thread, &send, message).await;
    assert_eq!(
        twice.content(),
        format!(
            "Orange was already asked for an update on ticket {} since its last news; nothing sent.",
            opened.id
        )
    );
    assert_eq!(
        notes(&bot, &opened.id).len(),
        before + 1,
        "still one comment"
    );

    // The bot's own question does not end the silence: no new nudge, however long.
    let echoed = watcher.poll_once().await;
    assert_eq!((echoed.queued, echoed.nudges), (0, 0), "{echoed:?}");
    bot.advance_clock(10 * HOUR);
    assert_eq!(watcher.poll_once().await.nudges, 0);

    // Orange speaks: a new silence starts, and is nudged once past the threshold (after a restart:
    // what was nudged is on disk).
    bot.sandbox()
        .add_orange_note(
            &opened.id,
            "Inward customer comments".into(),
            "Investigating".into(),
        )
        .expect("note");
    let spoke = watcher.poll_once().await;
    assert_eq!((spoke.delivered, spoke.nudges), (1, 0), "{spoke:?}");
    drop(watcher); // it holds the store, which the restarted bot opens again
    bot.restart().await;
    let mut watcher = bot.watcher();
    assert_eq!(watcher.poll_once().await.nudges, 0);
    bot.advance_clock(5 * HOUR);
    let second = watcher.poll_once().await;
    assert_eq!(second.nudges, 1, "{second:?}");
    assert_eq!(watcher.poll_once().await.nudges, 0);
    assert_eq!(nudges(&bot, opened.thread).len(), 2);
    drop(watcher);
    bot.shutdown().await;
}
