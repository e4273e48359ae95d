//! The live status board through the real bot, the Orange sandbox and a sled store on disk: one
//! message per channel, posted once, edited (never re-posted) when what it shows changes, still
//! that message after a restart, within Discord's limits with 500 open tickets, removed on stop.

use std::collections::BTreeSet;
use std::time::Duration;

use orange_ticket_bot::domain::{
    Contact, Conversation, NewTicket, ServiceNumber, Status, TechnicalNumber, TicketId,
};
use serde_json::Value;

use crate::support::fake_discord::{CHANNEL_ID, Fault, InteractionPayload, state::Message};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{open_ticket, set_profile};

const POST: &str = "POST /channels/{channel_id}/messages";
const EDIT: &str = "PATCH /channels/{channel_id}/messages/{message_id}";
const DELETE: &str = "DELETE /channels/{channel_id}/messages/{message_id}";

fn is_board(embed: &Value) -> bool {
    embed["title"]
        .as_str()
        .is_some_and(|t| t.starts_with("Open tickets: "))
}

/// The board messages in the feed channel.
fn boards(bot: &TestBot) -> Vec<Message> {
    bot.fake
        .messages_in(CHANNEL_ID)
        .into_iter()
        .filter(|m| m.embeds().first().is_some_and(is_board))
        .collect()
}

/// Requests on `route` that carried a board.
fn board_requests(bot: &TestBot, route: &str) -> usize {
    bot.fake
        .requests()
        .iter()
        .filter(|r| r.route == Some(route) && r.status < 300)
        .filter(|r| {
            r.body
                .as_ref()
                .and_then(|b| b["embeds"].as_array())
                .and_then(|e| e.first())
                .is_some_and(is_board)
        })
        .count()
}

fn description(m: &Message) -> String {
    m.embeds()[0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the board messages satisfy `done`.
async fn wait_for_boards(bot: &TestBot, what: &str, done: impl Fn(&[Message]) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = boards(bot);
        if done(&now) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {now:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_board_is_one_message_edited_on_each_change_and_the_same_after_a_restart() {
    // The app's own watcher runs, with passes an hour apart: what happens at once is the board
    // request waking it; the test drives the passes in between.
    let mut bot = TestBot::start_with(|s| {
        s.watcher.enabled = true;
        s.watcher.interval_secs = 3_600;
    })
    .await;
    set_profile(&bot).await;
    let first = open_ticket(&bot, "Fibre cut", Duration::from_secs(5)).await;
    let second = open_ticket(&bot, "Packet loss", Duration::from_secs(5)).await;

    let (_, denied) = bot.ask(&ticket("board")).await;
    assert_eq!(
        denied.content(),
        "Only team administrators may change the bot's settings here."
    );
    let (_, kept) = bot.ask(&ticket("board").as_admin()).await;
    assert_eq!(
        kept.content(),
        "The board (2 open tickets) is being posted here; it is edited as tickets change."
    );
    wait_for_boards(&bot, "posted at once", |b| b.len() == 1).await;
    let board = boards(&bot).remove(0);
    recorded(&bot, board.id).await;
    let text = description(&board);
    assert!(text.starts_with("**Submitted** · 2\n"), "{text}");
    for opened in [&first, &second] {
        assert!(
            text.contains(&format!("`{}` · <#{}> · ", opened.id, opened.thread)),
            "{text}"
        );
    }
    assert_eq!(board.body["nonce"].as_str().map(str::len), Some(25));
    let (_, again) = bot.ask(&ticket("board").as_admin()).await;
    assert_eq!(
        again.content(),
        "This channel already has the board (2 open tickets); it is kept current."
    );

    // Nothing changed: no edit.
    let mut watcher = bot.watcher();
    let quiet = watcher.poll_once().await;
    assert_eq!(
        (quiet.boards.unchanged, quiet.boards.edited),
        (1, 0),
        "{quiet:?}"
    );
    assert_eq!(board_requests(&bot, EDIT), 0);

    // Two changes seen in one pass: one edit.
    for (opened, status) in [(&first, Status::Ongoing), (&second, Status::Frozen)] {
        bot.sandbox()
            .set_status(&opened.id, status, None)
            .expect("status");
    }
    let moved = watcher.poll_once().await;
    assert_eq!(moved.boards.edited, 1, "{moved:?}");
    let now = boards(&bot);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, board.id, "edited, not re-posted");
    assert_eq!(now[0].edits, 1);
    let text = description(&now[0]);
    assert!(text.contains("**Ongoing** · 1\n"), "{text}");
    assert!(
        text.contains("**Frozen (waiting on customer)** · 1\n"),
        "{text}"
    );

    // A change made while the bot is down shows on the same message after the restart (the
    // app's first pass).
    bot.sandbox()
        .set_status(&first.id, Status::Closed, Some("Fixed".into()))
        .expect("status");
    drop(watcher); // it holds the store, which the restarted bot opens again
    bot.restart().await;
    wait_for_boards(&bot, "edited after the restart", |b| {
        b.len() == 1 && b[0].edits == 2
    })
    .await;
    let now = boards(&bot);
    assert_eq!(now[0].id, board.id, "the same message after a restart");
    let text = description(&now[0]);
    assert!(
        !text.contains(first.id.as_str()),
        "closed: off the board\n{text}"
    );
    assert_eq!(now[0].embeds()[0]["title"], "Open tickets: 1");
    assert_eq!(board_requests(&bot, POST), 1, "posted once in all");

    // Stop: the message goes at once, the board is forgotten, later passes post nothing.
    let (_, stopped) = bot
        .ask(&ticket("board").option("stop", true).as_admin())
        .await;
    assert_eq!(
        stopped.content(),
        "The board here is stopped; its message is removed."
    );
    wait_for_boards(&bot, "removed", <[Message]>::is_empty).await;
    forgotten(&bot).await;
    let (_, none) = bot
        .ask(&ticket("board").option("stop", true).as_admin())
        .await;
    assert_eq!(
        none.content(),
        "There is no board here; `/ticket board` posts one."
    );
    assert_eq!(bot.watcher().poll_once().await.boards, Default::default());
    bot.shutdown().await;
}

/// An administrator changing their mind while the watcher is posting or removing the board: the
/// command wins, whichever way round, and no stray board message is left.
#[tokio::test]
async fn a_stop_or_a_keep_during_a_slow_post_or_removal_is_not_overwritten() {
    let bot = TestBot::start_with(|s| {
        s.watcher.enabled = true;
        s.watcher.interval_secs = 3_600;
    })
    .await;
    let here = Conversation::discord(CHANNEL_ID);
    let record = || bot.core().store().board_post(&here).expect("read");

    // Stopped while its first post is on its way: the post lands, then goes.
    bot.fake
        .fail_next(POST, Fault::Delay(Duration::from_millis(3_000)), 1);
    bot.ask(&ticket("board").as_admin()).await;
    // The request wakes the watcher at once: by now its post is waiting on Discord.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, stopped) = bot
        .ask(&ticket("board").option("stop", true).as_admin())
        .await;
    assert_eq!(
        stopped.content(),
        "The board here is stopped; its message is removed."
    );
    assert!(record().is_none());
    wait_for_request_count(&bot, DELETE, 1).await;
    assert!(boards(&bot).is_empty(), "the late post was removed");
    forgotten(&bot).await;

    // Kept again while its removal is on its way: it is posted anew once the removal lands.
    bot.ask(&ticket("board").as_admin()).await;
    wait_for_boards(&bot, "posted", |b| b.len() == 1).await;
    let first = boards(&bot)[0].id;
    bot.fake
        .fail_next(DELETE, Fault::Delay(Duration::from_millis(3_000)), 1);
    bot.ask(&ticket("board").option("stop", true).as_admin())
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, kept) = bot.ask(&ticket("board").as_admin()).await;
    assert!(
        kept.content()
            .starts_with("The board (0 open tickets) is being posted here"),
        "{}",
        kept.content()
    );
    wait_for_boards(&bot, "posted anew after the removal", |b| {
        b.len() == 1 && b[0].id != first
    })
    .await;
    recorded(&bot, boards(&bot)[0].id).await;
    assert!(!record().expect("kept").removing);
    bot.shutdown().await;
}

/// Waits until the bot recorded `message` as the channel's board (it does once Discord answered
/// the post, a moment after the fake shows the message).
async fn recorded(bot: &TestBot, message: u64) {
    let here = Conversation::discord(CHANNEL_ID);
    let wanted = Some(message.to_string());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let post = bot.core().store().board_post(&here).expect("read");
        if post.as_ref().and_then(|p| p.message.clone()) == wanted {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{post:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the channel's board is forgotten (the bot does once its message is deleted), and
/// checks that it stays so.
async fn forgotten(bot: &TestBot) {
    let here = Conversation::discord(CHANNEL_ID);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while let Some(post) = bot.core().store().board_post(&here).expect("read") {
        assert!(std::time::Instant::now() < deadline, "{post:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bot.core().store().board_post(&here).expect("read"), None);
}

/// Waits until `n` requests on `route` were answered.
async fn wait_for_request_count(bot: &TestBot, route: &str, n: usize) {
    bot.fake
        .wait_for(&format!("{n} {route}"), Duration::from_secs(10), |s| {
            (s.requests.iter().filter(|r| r.route == Some(route)).count() >= n).then_some(())
        })
        .await;
}

/// `count` new open tickets in the sandbox, each linked to a thread of its own with a snapshot,
/// as if opened through the bot.
async fn tracked_tickets(bot: &TestBot, count: usize) -> Vec<TicketId> {
    let core = bot.core();
    let orange = core.orange();
    let contact = Contact {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: Some("ada@example.net".into()),
        phone: None,
    };
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let new = NewTicket {
            service: ServiceNumber::parse("LD000000").expect("service"),
            technical: TechnicalNumber::parse("LD000001").expect("technical"),
            description: format!("Board load {i}: a long enough description to fill lines"),
            contact: contact.clone(),
            external_id: None,
        };
        let id = orange
            .create_ticket(&new, orange.background())
            .await
            .expect("created");
        let full = orange
            .get_ticket(&id, orange.background())
            .await
            .expect("read");
        let thread = 1_300_000_000_000_000_000 + i as u64;
        core.store()
            .link(&Conversation::discord(thread), &id)
            .await
            .expect("link");
        core.store().put_snapshot(&full).await.expect("snapshot");
        ids.push(id);
    }
    ids
}

fn page_ids(embed: &Value) -> Vec<String> {
    embed["description"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.strip_prefix('`')?
                .split_once('`')
                .map(|(id, _)| id.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn five_hundred_open_tickets_stay_within_discord_limits_and_every_one_is_on_a_page() {
    let bot = TestBot::start().await;
    let ids = tracked_tickets(&bot, 500).await;
    bot.ask(&ticket("board").as_admin()).await;
    let pass = bot.watcher().poll_once().await;
    assert_eq!(pass.boards.posted, 1, "{pass:?}");
    let board = boards(&bot).pop().expect("the board");
    let embed = &board.embeds()[0];
    assert_eq!(embed["title"], "Open tickets: 500");
    // The fake checked the body against Discord's spec; the limits it does not state:
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let total =
        chars(&embed["title"]) + chars(&embed["description"]) + chars(&embed["footer"]["text"]);
    assert!(total <= 6000, "{total} characters");
    assert!(chars(&embed["description"]) <= 4096);
    let footer = embed["footer"]["text"].as_str().expect("footer");
    let first_page = page_ids(embed);
    let pages: usize = footer
        .strip_prefix("Page 1 of ")
        .and_then(|r| r.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{footer}"));
    assert!(
        footer.ends_with(&format!(
            "{} of 500 open tickets; {} not shown on this page",
            first_page.len(),
            500 - first_page.len()
        )),
        "{footer}"
    );

    // Every other page, through the board's own buttons, to the clicker only.
    let mut seen: BTreeSet<String> = first_page.into_iter().collect();
    let message = bot.fake.message_json(board.id);
    for page in 2..=pages {
        let (_, answer) = bot
            .ask(
                &InteractionPayload::button(&format!("otb:board:{page}"))
                    .on_message(message.clone()),
            )
            .await;
        assert!(answer.is_ephemeral());
        let embed = &answer.embeds()[0];
        let footer = embed["footer"]["text"].as_str().expect("footer");
        assert!(
            footer.starts_with(&format!("Page {page} of {pages} ")),
            "{footer}"
        );
        for id in page_ids(embed) {
            assert!(seen.insert(id.clone()), "{id} on two pages");
        }
    }
    let expected: BTreeSet<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(seen, expected, "every tracked ticket on exactly one page");
    bot.shutdown().await;
}
