//! Reporter notifications through the real bot, the sandbox and a sled store on disk: opt-in, a
//! direct message when a ticket one opened is restored or closed (with its thread's link), none
//! for other changes or once turned off, and a refused direct message handled quietly.

use std::time::Duration;

use orange_ticket_bot::domain::Status;

use crate::support::fake_discord::{DM_CHANNEL_ID, GUILD_ID, USER_ID, state::Message};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{open_ticket, set_profile};

const OPEN_DM: &str = "POST /users/@me/channels";
const CREATE_MESSAGE: &str = "POST /channels/{channel_id}/messages";

fn direct_messages(bot: &TestBot) -> Vec<Message> {
    bot.fake.messages_in(DM_CHANNEL_ID)
}

#[tokio::test]
async fn the_opener_who_asked_gets_a_direct_message_when_their_ticket_is_restored_or_closed() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let (_, off) = bot.ask(&ticket("notify")).await;
    assert_eq!(
        off.content(),
        "No direct messages about your tickets (`/ticket notify on` starts them)."
    );
    let opened = open_ticket(&bot, "Tell me when it is back", Duration::from_secs(5)).await;
    let mut watcher = bot.watcher();
    watcher.poll_once().await;

    // Off by default: a restoration sends no direct message.
    bot.sandbox()
        .set_status(&opened.id, Status::Restored, Some("Card swapped".into()))
        .expect("status");
    let quiet = watcher.poll_once().await;
    assert_eq!(quiet.delivered, 1, "the thread only: {quiet:?}");
    assert!(direct_messages(&bot).is_empty());

    let (_, on) = bot.ask(&ticket("notify").option("set", 0)).await;
    assert_eq!(
        on.content(),
        "You get a direct message when a ticket you opened is restored or closed (`/ticket notify off` stops them)."
    );
    // Other changes: the thread only.
    bot.sandbox()
        .set_status(&opened.id, Status::Ongoing, Some("Reopened".into()))
        .expect("status");
    watcher.poll_once().await;
    assert!(direct_messages(&bot).is_empty());

    bot.sandbox()
        .set_status(
            &opened.id,
            Status::Restored,
            Some("Card swapped again".into()),
        )
        .expect("status");
    let told = watcher.poll_once().await;
    assert_eq!(told.delivered, 2, "the thread and the opener: {told:?}");
    let dms = direct_messages(&bot);
    assert_eq!(dms.len(), 1);
    let text = dms[0].content();
    assert!(
        text.starts_with(&format!(
            "Your ticket {} (Tell me when it is back) is now **Restored** — Card swapped again · <t:",
            opened.id
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\nIts thread: https://discord.com/channels/{GUILD_ID}/{}\n",
            opened.thread
        )),
        "{text}"
    );
    assert_eq!(dms[0].body["nonce"].as_str().map(str::len), Some(25));
    let opened_dm = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.route == Some(OPEN_DM))
        .map(|r| r.body.unwrap_or_default()["recipient_id"].clone())
        .collect::<Vec<_>>();
    assert_eq!(opened_dm, [serde_json::json!(USER_ID.to_string())]);

    // A person whose privacy settings refuse the bot: nothing is posted, nothing retried, the
    // rest delivered.
    bot.fake.state().refuses_dms.insert(USER_ID);
    bot.sandbox()
        .set_status(&opened.id, Status::Closed, Some("Done".into()))
        .expect("status");
    let refused = watcher.poll_once().await;
    assert_eq!(
        (refused.delivered, refused.undeliverable, refused.postponed),
        (1, 1, 0),
        "{refused:?}"
    );
    assert_eq!(direct_messages(&bot).len(), 1);
    assert_eq!(watcher.poll_once().await.undeliverable, 0, "not retried");

    // Off again: no more direct messages, though the person would accept them now.
    let (_, off) = bot.ask(&ticket("notify").option("set", 1)).await;
    assert!(off.content().starts_with("No direct messages"));
    bot.fake.state().refuses_dms.remove(&USER_ID);
    let second = open_ticket(&bot, "Another one", Duration::from_secs(5)).await;
    watcher.poll_once().await;
    bot.sandbox()
        .set_status(&second.id, Status::Closed, Some("Done".into()))
        .expect("status");
    let unsent = watcher.poll_once().await;
    assert_eq!(
        (unsent.delivered, unsent.undeliverable),
        (1, 0),
        "the thread only: {unsent:?}"
    );
    assert_eq!(direct_messages(&bot).len(), 1, "no new direct message");
    drop(watcher);
    bot.shutdown_expecting(&[CREATE_MESSAGE]).await;
}
