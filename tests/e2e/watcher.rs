//! The watcher through the real bot's Discord connection, the Orange sandbox and a sled store on
//! disk: each change reaches its thread and the matching feeds once; the header card follows;
//! Discord and Orange failures postpone, never lose or repeat; a deleted thread is let go.

use std::time::Duration;

use orange_ticket_bot::domain::{Conversation, Status, TicketId};
use orange_ticket_bot::sandbox::{ErrorFault, FaultConfig, Operation};

use crate::support::fake_discord::{CHANNEL_ID, Fault};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{Opened, open_ticket, set_profile};

const FEED: u64 = CHANNEL_ID;

async fn with_ticket(
    tweak: impl FnOnce(&mut orange_ticket_bot::config::Settings),
) -> (TestBot, Opened) {
    let bot = TestBot::start_with(tweak).await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Watch me", Duration::from_secs(5)).await;
    (bot, opened)
}

/// The watcher's messages in a channel (they end with a reference line).
fn updates(bot: &TestBot, channel: u64) -> Vec<String> {
    bot.fake
        .messages_in(channel)
        .iter()
        .filter(|m| m.content().contains("\n-# ref "))
        .map(|m| m.content().to_owned())
        .collect()
}

#[tokio::test]
async fn a_status_change_and_an_orange_note_reach_the_thread_once_and_the_card_follows() {
    let (bot, opened) = with_ticket(|_| {}).await;
    let mut watcher = bot.watcher();
    let quiet = watcher.poll_once().await;
    assert_eq!(
        (quiet.changes, quiet.queued),
        (0, 0),
        "nothing happened yet: {quiet:?}"
    );
    assert!(updates(&bot, opened.thread).is_empty());

    bot.sandbox()
        .set_status(
            &opened.id,
            Status::Ongoing,
            Some("Engineer dispatched".into()),
        )
        .expect("status");
    bot.sandbox()
        .add_orange_note(
            &opened.id,
            "Inward customer comments".into(),
            "On site at 14:00".into(),
        )
        .expect("note");
    let pass = watcher.poll_once().await;
    assert_eq!((pass.queued, pass.delivered), (1, 1), "{pass:?}");
    assert_eq!(pass.gets, 1, "one followed ticket: one read");

    let messages: Vec<_> = bot
        .fake
        .messages_in(opened.thread)
        .into_iter()
        .filter(|m| !m.pinned)
        .collect();
    assert_eq!(messages.len(), 1);
    let update = &messages[0];
    let lines: Vec<&str> = update.content().lines().collect();
    assert!(
        lines[0].starts_with("**Submitted → Ongoing** — Engineer dispatched · <t:"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("-# ref "), "{lines:?}");
    let notes = update.embeds()[0]["fields"]
        .as_array()
        .expect("notes")
        .clone();
    let note = notes
        .iter()
        .find(|f| f["name"] == "New note · Inward customer comments")
        .expect("the customer-facing note");
    assert_eq!(note["value"], "On site at 14:00");
    let nonce = update.body["nonce"].as_str().expect("a nonce");
    assert_eq!(nonce.len(), 25);
    assert_eq!(update.body["enforce_nonce"], true);
    assert_eq!(lines[1], format!("-# ref {nonce}"));

    let card = bot
        .fake
        .messages_in(opened.thread)
        .into_iter()
        .find(|m| m.pinned)
        .expect("the card");
    assert_eq!(card.edits, 1, "edited in place");
    assert_eq!(
        card.embeds()[0]["title"],
        format!("Ticket {} — Ongoing", opened.id)
    );

    // Nothing new: nothing posted. The bot's own comment is not echoed back either.
    assert_eq!(watcher.poll_once().await.queued, 0);
    let (_, commented) = bot
        .ask(
            &ticket("comment")
                .option("text", "Thanks")
                .in_thread(opened.thread, CHANNEL_ID),
        )
        .await;
    assert_eq!(
        commented.content(),
        format!("Comment added to ticket {}.", opened.id)
    );
    let after_comment = watcher.poll_once().await;
    assert_eq!(after_comment.queued, 0, "{after_comment:?}");
    assert_eq!(updates(&bot, opened.thread).len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_closed_ticket_is_posted_once_more_with_its_clock_then_no_longer_read() {
    let (bot, opened) = with_ticket(|s| s.discord.archive_closed_threads = true).await;
    let mut watcher = bot.watcher();
    bot.sandbox()
        .set_status(&opened.id, Status::Closed, Some("Fibre repaired".into()))
        .expect("status");
    let pass = watcher.poll_once().await;
    assert_eq!(pass.delivered, 1, "{pass:?}");
    let update = &updates(&bot, opened.thread)[0];
    let lines: Vec<&str> = update.lines().collect();
    assert!(
        lines[0].starts_with("**Submitted → Closed** — Fibre repaired"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("Closed after "), "{lines:?}");
    assert!(
        bot.fake.state().channels[&opened.thread].archived,
        "archived when configured"
    );
    let next = watcher.poll_once().await;
    assert_eq!(
        (next.tracked, next.gets),
        (0, 0),
        "a final ticket is not read again: {next:?}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn feeds_get_one_line_per_new_ticket_and_per_status_change() {
    let (bot, opened) = with_ticket(|_| {}).await;
    let (_, follow) = bot
        .ask(&ticket("follow").option("services", "LD000000").as_admin())
        .await;
    assert!(
        follow
            .content()
            .starts_with("Following the ticket feed here")
    );
    let mut watcher = bot.watcher();
    let baseline = watcher.poll_once().await;
    assert_eq!(
        baseline.queued, 0,
        "a feed starts from what exists: {baseline:?}"
    );

    let second = open_ticket(&bot, "Second one", Duration::from_secs(5)).await;
    let documented = TicketId::parse("1234567890").expect("id");
    bot.sandbox()
        .set_status(&documented, Status::Restored, Some("Rerouted".into()))
        .expect("status");
    bot.sandbox()
        .set_status(&opened.id, Status::Ongoing, None)
        .expect("status");
    let pass = watcher.poll_once().await;
    assert!(
        pass.search_pages > 0,
        "feeds need the account-wide view: {pass:?}"
    );

    let lines: Vec<String> = bot
        .fake
        .messages_in(FEED)
        .iter()
        .filter(|m| m.content().contains("-# ref "))
        .map(|m| m.content().lines().next().unwrap_or("").to_owned())
        .collect();
    let mut expected = vec![
        format!(
            "New ticket **{}** · LD000000 · Submitted — Second one in <#{}>",
            second.id, second.thread
        ),
        format!("Ticket **1234567890** · LD000000: **Ongoing → Restored** — Rerouted · <t:"),
        format!(
            "Ticket **{}** · LD000000: **Submitted → Ongoing** — Investigation in progress · <t:",
            opened.id
        ),
    ];
    expected.sort();
    let mut got: Vec<String> = lines.clone();
    got.sort();
    assert_eq!(got.len(), 3, "{lines:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert!(g.starts_with(e.as_str()), "{g} does not start with {e}");
    }
    assert_eq!(watcher.poll_once().await.queued, 0, "each once");

    // A ticket nobody follows leaves the open pages when it closes: a read tells the feed.
    bot.sandbox()
        .set_status(&documented, Status::Closed, Some("Done".into()))
        .expect("status");
    let pass = watcher.poll_once().await;
    assert_eq!(pass.queued, 1, "{pass:?}");
    let last = updates(&bot, FEED).pop().unwrap_or_default();
    assert!(
        last.starts_with("Ticket **1234567890** · LD000000: **Restored → Closed** — Done"),
        "{last}"
    );
    assert_eq!(watcher.poll_once().await.queued, 0, "and no more");
    bot.shutdown().await;
}

#[tokio::test]
async fn discord_errors_postpone_delivery_and_nothing_is_posted_twice() {
    let (bot, opened) = with_ticket(|_| {}).await;
    let mut watcher = bot.watcher();
    bot.sandbox()
        .set_status(&opened.id, Status::Ongoing, Some("One".into()))
        .expect("status");
    bot.fake.fail_next(
        "POST /channels/{channel_id}/messages",
        Fault::ServerError,
        1,
    );
    let failed = watcher.poll_once().await;
    assert_eq!(
        (failed.queued, failed.delivered, failed.postponed),
        (1, 0, 1),
        "{failed:?}"
    );
    let sent = bot
        .core()
        .store()
        .pending(0, usize::MAX)
        .await
        .expect("outbox")[0]
        .1
        .clone();
    bot.fake.fail_next(
        "POST /channels/{channel_id}/messages",
        Fault::RateLimited {
            retry_after: Duration::from_millis(10),
        },
        1,
    );
    let limited = watcher.poll_once().await;
    assert_eq!(
        (limited.delivered, limited.postponed),
        (0, 1),
        "{limited:?}"
    );
    let later = watcher.poll_once().await;
    assert_eq!(later.delivered, 1, "{later:?}");
    assert_eq!(updates(&bot, opened.thread).len(), 1);

    // The entry comes back as if the bot died between Discord's answer and the outbox removal:
    // within Discord's nonce window the nonce returns the first message...
    let store = bot.core().store();
    let ticket = store.snapshot(&opened.id).expect("read").expect("snapshot");
    let posted = bot
        .fake
        .messages_in(opened.thread)
        .into_iter()
        .find(|m| !m.pinned)
        .expect("posted");
    let key = posted.body["nonce"].as_str().expect("nonce").to_owned();
    let again = sent.clone();
    assert_eq!(again.key, key, "the nonce is the delivery key");
    store
        .record(&ticket, std::slice::from_ref(&again))
        .await
        .expect("record");
    assert_eq!(watcher.poll_once().await.delivered, 1);
    // ...and after it, the reference line in the channel's recent messages does.
    let old = orange_ticket_bot::domain::Notification {
        created: chrono::Utc::now() - chrono::TimeDelta::minutes(30),
        ..again
    };
    store.record(&ticket, &[old]).await.expect("record");
    assert_eq!(watcher.poll_once().await.delivered, 1);
    assert_eq!(updates(&bot, opened.thread).len(), 1, "posted once in all");
    bot.shutdown().await;
}

#[tokio::test]
async fn a_deleted_thread_is_unlinked_and_the_others_still_served() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let gone = open_ticket(&bot, "Deleted thread", Duration::from_secs(5)).await;
    let kept = open_ticket(&bot, "Kept thread", Duration::from_secs(5)).await;
    bot.fake.state().channels.remove(&gone.thread);
    let mut watcher = bot.watcher();
    for id in [&gone.id, &kept.id] {
        bot.sandbox()
            .set_status(id, Status::Ongoing, None)
            .expect("status");
    }
    let pass = watcher.poll_once().await;
    assert_eq!((pass.delivered, pass.undeliverable), (1, 1), "{pass:?}");
    let store = bot.core().store();
    assert_eq!(
        store
            .ticket_for(&Conversation::discord(gone.thread))
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .ticket_for(&Conversation::discord(kept.thread))
            .expect("read"),
        Some(kept.id.clone())
    );
    assert_eq!(updates(&bot, kept.thread).len(), 1);
    assert!(
        store
            .pending(0, usize::MAX)
            .await
            .expect("outbox")
            .is_empty()
    );
    // The deleted thread answered Unknown Channel: that is the point of the test.
    bot.shutdown_expecting(&["POST /channels/{channel_id}/messages"])
        .await;
}

#[tokio::test]
async fn an_orange_outage_loses_nothing_and_the_change_comes_after_it() {
    let (bot, opened) = with_ticket(|s| s.orange.retry.background_deadline_ms = 800).await;
    let mut watcher = bot.watcher();
    bot.sandbox()
        .set_status(
            &opened.id,
            Status::Ongoing,
            Some("During the outage".into()),
        )
        .expect("status");
    let mut storm = FaultConfig::default();
    for op in [Operation::GetTicket, Operation::Search] {
        storm.errors.insert(
            op,
            ErrorFault {
                rate: 1.0,
                statuses: vec![503],
                retry_after_secs: 0,
            },
        );
    }
    bot.sandbox().set_faults(storm);
    let before = bot.sandbox().counters().calls(Operation::GetTicket);
    for _ in 0..3 {
        let pass = watcher.poll_once().await;
        assert!(pass.orange_down, "{pass:?}");
        assert_eq!(pass.queued, 0);
    }
    // Each pass's read retried with backoff within its 800 ms deadline: a few calls, not a flood.
    let during = bot.sandbox().counters().calls(Operation::GetTicket) - before;
    assert!((3..=15).contains(&during), "{during} reads in 3 passes");
    bot.sandbox().set_faults(FaultConfig::default());
    let pass = watcher.poll_once().await;
    assert!(!pass.orange_down);
    assert_eq!(pass.delivered, 1, "{pass:?}");
    assert_eq!(updates(&bot, opened.thread).len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn the_app_runs_the_watcher_as_its_own_task() {
    let bot = TestBot::start_with(|s| {
        s.watcher.enabled = true;
        s.watcher.interval_secs = 1;
    })
    .await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Watched by the app", Duration::from_secs(5)).await;
    bot.sandbox()
        .set_status(&opened.id, Status::Ongoing, Some("By itself".into()))
        .expect("status");
    let update = bot
        .fake
        .wait_for_message("the watcher's update", |m| {
            m.channel_id == opened.thread && m.content().contains("By itself")
        })
        .await;
    assert!(update.content().starts_with("**Submitted → Ongoing**"));
    bot.shutdown().await;
}
