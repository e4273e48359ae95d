//! Graceful shutdown: the real bot **process** gets SIGTERM while the watcher delivers a queue of
//! notifications through a slow fake Discord. The post in flight completes and is recorded, the
//! rest stays in the outbox, an interaction arriving meanwhile is told the bot is restarting,
//! and the process exits 0 within its timeout; restarted, the bot posts the rest: every
//! notification once, none lost, none sent twice. A shutdown past its timeout exits non-zero.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use orange_ticket_bot::domain::Status;
use orange_ticket_bot::store::Store;

use crate::support::bot_process::{BotProcess, Followed};
use crate::support::fake_discord::{FakeDiscord, Fault, InteractionPayload, State};

pub(crate) const CREATE_MESSAGE: &str = "POST /channels/{channel_id}/messages";
/// Generous for a loaded 2-core machine: start, connect, one pass.
pub(crate) const STARTUP: Duration = Duration::from_secs(15);

/// Waits (at most `within`) until every followed ticket's notification is posted, stops the bot
/// with SIGTERM, expects a clean exit, and checks each was posted exactly once; the posts by nonce.
pub(crate) async fn all_posted_once_then_stopped(
    fake: &FakeDiscord,
    world: &Followed,
    bot: &mut BotProcess,
    within: Duration,
) -> BTreeMap<String, usize> {
    let expected = world.threads.len();
    fake.wait_for("every notification posted", within, |s| {
        (posts_by_nonce(s, world).len() >= expected).then_some(())
    })
    .await;
    bot.signal(Signal::SIGTERM);
    let status = bot.wait_exit(Duration::from_secs(15)).await;
    assert!(status.success(), "{status}:\n{}", bot.log().join("\n"));
    let posted = posts_by_nonce(&fake.state(), world);
    assert_eq!(posted.len(), expected, "{posted:?}");
    assert!(posted.values().all(|n| *n == 1), "posted twice: {posted:?}");
    posted
}

/// A status change on every followed ticket, so the bot's first pass queues one notification per
/// thread.
pub(crate) fn change_every_ticket(world: &Followed) {
    for id in world.threads.keys() {
        let current = world.control.ticket(id).map(|t| t.status);
        let next = if current == Some(Status::Frozen) {
            Status::Ongoing
        } else {
            Status::Frozen
        };
        world
            .control
            .set_status(id, next, Some(format!("shutdown test {id}")))
            .expect("status");
    }
}

/// The watcher's posts in the followed threads (they carry the `-# ref` marker): nonce -> count.
pub(crate) fn posts_by_nonce(state: &State, world: &Followed) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for thread in world.threads.values() {
        for m in state.messages_in(*thread) {
            if m.content().contains("-# ref ") {
                let nonce = m.body["nonce"].as_str().unwrap_or_default().to_owned();
                *out.entry(nonce).or_insert(0) += 1;
            }
        }
    }
    out
}

/// Message creations the bot sent, accepted or not: nonce -> count.
pub(crate) fn sends_by_nonce(fake: &FakeDiscord) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for r in fake.requests() {
        if r.route == Some(CREATE_MESSAGE)
            && let Some(nonce) = r.body.as_ref().and_then(|b| b["nonce"].as_str())
        {
            *out.entry(nonce.to_owned()).or_insert(0) += 1;
        }
    }
    out
}

/// The keys still in the outbox (read once the process is gone and its lock released).
async fn outbox_keys(world: &Followed) -> Vec<String> {
    let store = Store::open(&world.store_path).expect("store");
    store
        .pending(0, usize::MAX)
        .await
        .expect("outbox")
        .into_iter()
        .map(|(_, n)| n.key)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_delivery_loses_nothing_and_posts_nothing_twice() {
    const TICKETS: usize = 8;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    change_every_ticket(&world);
    // Slow posts: the first two take 2 s each (the message exists at once, its answer is late).
    fake.fail_next(CREATE_MESSAGE, Fault::Delay(Duration::from_secs(2)), 2);
    let timeout = Duration::from_secs(10);
    let mut bot = world.spawn_bot(&[("OTB__APP__SHUTDOWN_TIMEOUT_SECS", "10")]);

    // The second post is in flight: stop the bot.
    fake.wait_for("the second post", STARTUP, |s| {
        (s.requests
            .iter()
            .filter(|r| r.route == Some(CREATE_MESSAGE))
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    let signalled = Instant::now();
    bot.signal(Signal::SIGTERM);

    // Meanwhile a user runs a command: told at once, no work started.
    bot.wait_for_log("stop taking commands", Duration::from_secs(5))
        .await;
    let asked = fake
        .inject(&InteractionPayload::slash("ticket").sub("status"))
        .await;
    let callback = fake.wait_for_callback(&asked).await;
    assert_eq!(callback["type"], 4, "answered at once: {callback}");
    assert_eq!(callback["data"]["flags"], 64, "ephemeral: {callback}");
    let said = callback["data"]["content"].as_str().unwrap_or_default();
    assert!(said.contains("restarting"), "{said}");

    let status = bot.wait_exit(timeout + Duration::from_secs(5)).await;
    let took = signalled.elapsed();
    let log = bot.log().join("\n");
    assert!(status.success(), "{status}:\n{log}");
    assert!(took < timeout, "the shutdown took {took:?}:\n{log}");
    for step in [
        "stop taking commands",
        "finish the watcher's pass",
        "finish the commands in progress",
        "flush the store",
        "close the gateway",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("shutdown step done") && l.contains(step)),
            "step {step:?} not logged as done:\n{log}"
        );
    }
    assert!(log.contains("shutdown complete"), "{log}");

    // The post in flight completed and left the outbox; nothing posted is still queued.
    let posted = posts_by_nonce(&fake.state(), &world);
    let queued = outbox_keys(&world).await;
    assert!(
        posted.len() >= 2,
        "the in-flight post completed: {posted:?}"
    );
    assert_eq!(
        posted.len() + queued.len(),
        TICKETS,
        "every notification posted or queued: posted {posted:?}, queued {queued:?}"
    );
    let half_posted: Vec<_> = queued.iter().filter(|k| posted.contains_key(*k)).collect();
    assert!(
        half_posted.is_empty(),
        "posted but left in the outbox: {half_posted:?}"
    );

    // Restarted, the bot posts the rest.
    let mut bot = world.spawn_bot(&[]);
    fake.wait_for("every notification posted", STARTUP, |s| {
        (posts_by_nonce(s, &world).len() >= TICKETS).then_some(())
    })
    .await;
    bot.signal(Signal::SIGTERM);
    let status = bot.wait_exit(timeout + Duration::from_secs(5)).await;
    assert!(status.success(), "{status}:\n{}", bot.log().join("\n"));

    let posted = posts_by_nonce(&fake.state(), &world);
    let sends = sends_by_nonce(&fake);
    assert_eq!(posted.len(), TICKETS, "{posted:?}");
    assert!(posted.values().all(|n| *n == 1), "posted twice: {posted:?}");
    assert!(
        posted.keys().all(|k| sends.get(k) == Some(&1)),
        "each notification sent once: {sends:?}"
    );
    assert!(outbox_keys(&world).await.is_empty());
    println!(
        "shutdown test: {TICKETS} notifications, {} sends, duplicates 0, losses 0, shutdown {took:?}",
        sends.values().sum::<usize>()
    );
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_past_its_timeout_exits_non_zero_and_a_restart_still_posts_once() {
    const TICKETS: usize = 3;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    change_every_ticket(&world);
    // The first post hangs far longer than the 1 s the shutdown may take.
    fake.fail_next(CREATE_MESSAGE, Fault::Delay(Duration::from_secs(30)), 1);
    let mut bot = world.spawn_bot(&[("OTB__APP__SHUTDOWN_TIMEOUT_SECS", "1")]);
    fake.wait_for("the first post", STARTUP, |s| {
        s.requests
            .iter()
            .any(|r| r.route == Some(CREATE_MESSAGE))
            .then_some(())
    })
    .await;
    let signalled = Instant::now();
    bot.signal(Signal::SIGTERM);
    let status = bot.wait_exit(Duration::from_secs(10)).await;
    let took = signalled.elapsed();
    let log = bot.log().join("\n");
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(took < Duration::from_secs(6), "took {took:?}:\n{log}");
    assert!(
        log.contains("shutdown cut short") && log.contains("finish the watcher's pass"),
        "the log names the step the timeout cut: {log}"
    );

    // The cut post is still queued; the next run sends it again and Discord's nonce keeps it
    // single.
    let mut bot = world.spawn_bot(&[]);
    all_posted_once_then_stopped(&fake, &world, &mut bot, STARTUP).await;
    world.orange.shutdown().await;
}
