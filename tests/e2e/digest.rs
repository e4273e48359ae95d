//! The daily digest through the real bot, the Orange sandbox (its clock and control API) and a
//! sled store on disk: one message per feed channel per day at the configured local time, its
//! figures those of what happened in the sandbox, not repeated across a restart, the next day's
//! a day later; the console's feed gets the same text.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use orange_ticket_bot::console::{Console, ConsoleNotifier};
use orange_ticket_bot::domain::{
    Contact, NewTicket, ServiceNumber, Status, TechnicalNumber, Ticket, TicketId,
};
use orange_ticket_bot::render::text;
use orange_ticket_bot::watcher::{Schedule, Watcher, WatcherOptions};

use crate::support::fake_discord::{CHANNEL_ID, state::Message};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::{open_ticket, set_profile};

const HEADING: &str = "**Daily digest · ";

fn schedule() -> Schedule {
    Schedule {
        at: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"),
        zone: chrono_tz::Europe::Paris,
    }
}

/// A bot whose feed channel (`/ticket follow` in `CHANNEL_ID`) gets a digest at 08:00 Paris time,
/// its clocks two days ahead (the sandbox's seeded history then lies before any digest's day)
/// and 30 minutes before that day's digest time. Returns the digest's time.
async fn following_bot() -> (TestBot, DateTime<Utc>) {
    let mut bot = TestBot::start_with(|s| {
        s.digest.enabled = true;
        s.digest.at = "08:00".into();
        s.digest.time_zone = "Europe/Paris".into();
    })
    .await;
    set_profile(&bot).await;
    let (_, follow) = bot.ask(&ticket("follow").as_admin()).await;
    assert!(
        follow
            .content()
            .starts_with("Following the ticket feed here"),
        "{}",
        follow.content()
    );
    bot.advance_clock(Duration::from_secs(2 * 24 * 3600));
    let now = bot.core().clock().now();
    let mut due = schedule().instant(schedule().latest_day(now).succ_opt().expect("a day"));
    if due - now < chrono::TimeDelta::minutes(40) {
        due = schedule().instant(schedule().latest_day(due).succ_opt().expect("a day"));
    }
    let before = (due - now - chrono::TimeDelta::minutes(30))
        .to_std()
        .expect("ahead");
    bot.advance_clock(before);
    (bot, due)
}

/// The digests posted in the feed channel.
fn digests(bot: &TestBot) -> Vec<Message> {
    bot.fake
        .messages_in(CHANNEL_ID)
        .into_iter()
        .filter(|m| m.content().starts_with(HEADING))
        .collect()
}

/// A ticket created at Orange directly (nobody follows it; the feed sees it).
async fn create_at_orange(bot: &TestBot, description: &str) -> TicketId {
    let orange = bot.core().orange();
    let new = NewTicket {
        service: ServiceNumber::parse("LD000000").expect("service"),
        technical: TechnicalNumber::parse("LD000001").expect("technical"),
        description: description.into(),
        contact: Contact {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: Some("ada@example.net".into()),
            phone: None,
        },
        external_id: None,
    };
    orange
        .create_ticket(&new, orange.background())
        .await
        .expect("created")
}

/// Every ticket of the sandbox's account.
fn account(bot: &TestBot) -> Vec<Ticket> {
    let sandbox = bot.sandbox();
    sandbox
        .ticket_ids()
        .iter()
        .filter_map(|id| sandbox.ticket(id))
        .collect()
}

/// The lines a digest shows about the open tickets, computed from the sandbox's account.
fn open_lines(bot: &TestBot) -> Vec<String> {
    let open: Vec<Ticket> = account(bot)
        .into_iter()
        .filter(|t| !t.status.is_final())
        .collect();
    let by_status: Vec<String> = Status::KNOWN
        .iter()
        .filter_map(|s| {
            let n = open.iter().filter(|t| t.status == *s).count();
            (n > 0).then(|| format!("{} {n}", s.label()))
        })
        .collect();
    let oldest = open
        .iter()
        .filter_map(|t| Some((t.created?, t.id.clone(), t.service.clone())))
        .min()
        .expect("open tickets");
    let mut waiting: Vec<TicketId> = open
        .iter()
        .filter(|t| t.status == Status::Frozen)
        .map(|t| t.id.clone())
        .collect();
    waiting.sort();
    let named: Vec<String> = waiting.iter().map(|id| format!("**{id}**")).collect();
    vec![
        format!("Open now: **{}** — {}", open.len(), by_status.join(" · ")),
        format!(
            "Oldest open: **{}** · {} · opened <t:{}:R>",
            oldest.1,
            oldest.2.expect("a service"),
            oldest.0.timestamp()
        ),
        format!(
            "Waiting on the customer ({}): {}",
            waiting.len(),
            named.join(", ")
        ),
    ]
}

#[tokio::test]
async fn the_digest_is_posted_once_a_day_at_its_time_with_the_days_figures_even_across_a_restart() {
    let (mut bot, due) = following_bot().await;
    let mut watcher = bot.watcher();
    let first = watcher.poll_once().await;
    assert_eq!(
        first.digests, 0,
        "a new feed starts with no digest: {first:?}"
    );

    // The day's events, 30 minutes before the digest: three tickets opened (one through the bot,
    // followed; two at Orange, seen by the feed), two restored (one followed, one nobody follows),
    // one closed, one frozen.
    let followed = open_ticket(&bot, "Fibre cut", Duration::from_secs(5)).await;
    let elsewhere = create_at_orange(&bot, "Packet loss on the backup link").await;
    let waiting = create_at_orange(&bot, "Needs access to the customer's site").await;
    let seeded_open: Vec<TicketId> = account(&bot)
        .into_iter()
        .filter(|t| t.status == Status::Ongoing && t.id != followed.id)
        .map(|t| t.id)
        .collect();
    assert!(seeded_open.len() >= 2, "{seeded_open:?}");
    let sandbox = bot.sandbox();
    sandbox
        .set_status(&followed.id, Status::Restored, Some("Rerouted".into()))
        .expect("status");
    sandbox
        .set_status(&seeded_open[0], Status::Restored, None)
        .expect("status");
    sandbox
        .set_status(&seeded_open[1], Status::Closed, Some("Fixed".into()))
        .expect("status");
    sandbox
        .set_status(&waiting, Status::Frozen, Some("Site access".into()))
        .expect("status");

    let before = watcher.poll_once().await;
    assert!(before.changes >= 5, "the feed saw the day: {before:?}");
    assert_eq!(before.digests, 0, "not before its time: {before:?}");
    assert!(digests(&bot).is_empty());

    bot.advance_clock(Duration::from_secs(31 * 60));
    let at_time = watcher.poll_once().await;
    assert_eq!(at_time.digests, 1, "{at_time:?}");
    let posted = digests(&bot);
    assert_eq!(posted.len(), 1);
    let text = posted[0].content().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let day = due.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    // 24 h, but 23 h or 25 h when the day changes to or from summer time.
    let eight = |d: chrono::NaiveDate| {
        let local = d.and_hms_opt(8, 0, 0).expect("08:00");
        chrono_tz::Europe::Paris
            .from_local_datetime(&local)
            .single()
            .expect("08:00 exists once in Paris")
    };
    let hours = (eight(day) - eight(day.pred_opt().expect("a day"))).num_hours();
    assert_eq!(
        lines[0],
        format!(
            "**Daily digest · {}** — the {hours} h to 08:00 Europe/Paris",
            day.format("%A %-d %B %Y")
        )
    );
    assert_eq!(lines[1], "Opened **3** · restored **2** · closed **1**");
    assert_eq!(lines[2..5], open_lines(&bot)[..], "{text}");
    assert!(text.contains(&format!("**{waiting}**")), "{text}");
    assert!(lines[5].starts_with("-# ref "), "{text}");
    assert_eq!(posted[0].body["nonce"].as_str().map(str::len), Some(25));
    eprintln!("discord digest:\n{text}");
    assert!(!elsewhere.as_str().is_empty());

    let later = watcher.poll_once().await;
    assert_eq!((later.digests, later.delivered), (0, 0), "{later:?}");
    bot.advance_clock(Duration::from_secs(6 * 3600));
    assert_eq!(watcher.poll_once().await.digests, 0, "later that day");

    // The store keeps the day: no second digest after a restart.
    drop(watcher); // it holds the store, which the restarted bot opens again
    bot.restart().await;
    let mut watcher = bot.watcher();
    let restarted = watcher.poll_once().await;
    assert_eq!(restarted.digests, 0, "{restarted:?}");
    assert_eq!(digests(&bot).len(), 1);

    // The next day's: a quiet day, the same open tickets.
    bot.advance_clock(Duration::from_secs(18 * 3600));
    let next = watcher.poll_once().await;
    assert_eq!(next.digests, 1, "{next:?}");
    let posted = digests(&bot);
    assert_eq!(posted.len(), 2);
    let text = posted[1].content().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let next_day = day.succ_opt().expect("a day");
    assert!(
        lines[0].contains(&next_day.format("%A %-d %B %Y").to_string()),
        "{text}"
    );
    assert_eq!(lines[1], "Opened **0** · restored **0** · closed **0**");
    assert_eq!(lines[2..5], open_lines(&bot)[..], "{text}");
    assert_eq!(watcher.poll_once().await.digests, 0);
    assert_eq!(digests(&bot).len(), 2);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_console_following_the_feed_gets_the_same_digest_as_discord() {
    let (mut bot, _) = following_bot().await;
    let core = bot.core().clone();
    let (notifier, news) = ConsoleNotifier::channel(core.store().clone());
    let console = Console::new(core.clone(), "operator", "operator").with_notices(news);
    let followed = console.execute("/ticket follow").await.expect("follows");
    assert!(
        followed
            .as_deref()
            .is_some_and(|t| t.starts_with("Following the ticket feed here")),
        "{followed:?}"
    );
    let options = WatcherOptions::from_settings(core.settings());
    let mut on_console = Watcher::new(core.clone(), notifier, options);
    let mut on_discord = bot.watcher();
    assert_eq!(on_console.poll_once().await.digests, 0);
    assert_eq!(on_discord.poll_once().await.digests, 0);

    let waiting = create_at_orange(&bot, "Needs access to the customer's site").await;
    bot.sandbox()
        .set_status(&waiting, Status::Frozen, Some("Site access".into()))
        .expect("status");
    bot.advance_clock(Duration::from_secs(31 * 60));
    // One pass sees the new ticket, then queues both channels' digests; each transport delivers
    // its own.
    // (Each also gets the new ticket's feed line.)
    let queued = on_console.poll_once().await;
    assert_eq!((queued.digests, queued.delivered), (2, 2), "{queued:?}");
    let delivered = on_discord.poll_once().await;
    assert_eq!(
        (delivered.digests, delivered.delivered),
        (0, 2),
        "{delivered:?}"
    );

    let news = console.news();
    assert_eq!(news.matches("[digest] ").count(), 1, "{news}");
    let shown = &news[news.find("[digest] ").unwrap_or_default()..];
    let posted = digests(&bot);
    assert_eq!(posted.len(), 1);
    let discord_text = text::plain(posted[0].content());
    let console_text = shown.strip_prefix("[digest] ").expect("a digest");
    // The same lines, but the reference line (each channel's delivery has its own key).
    let without_ref = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("-# ref "))
            .map(str::to_owned)
            .collect()
    };
    eprintln!("console digest:\n{shown}");
    assert_eq!(without_ref(console_text), without_ref(&discord_text));
    assert!(
        console_text
            .lines()
            .nth(1)
            .is_some_and(|l| l == "Opened 1 · restored 0 · closed 0")
    );
    assert_eq!(on_console.poll_once().await.digests, 0);
    assert!(console.news().is_empty(), "once");
    drop((on_console, on_discord));
    bot.shutdown().await;
}
