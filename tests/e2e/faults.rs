//! Fast fault scenarios through the real bot **process** (the slow and long ones are elsewhere:
//! `crash.rs` kills it at random, `watcher.rs` storms Discord with 429/5xx and Orange with 503,
//! `soak.rs` keeps these faults up for minutes):
//! each asserts nothing lost, nothing duplicated, and that commands keep getting clear answers.

use std::time::Duration;

use crate::shutdown::{
    CREATE_MESSAGE, STARTUP, all_posted_once_then_stopped, change_every_ticket, sends_by_nonce,
};
use crate::support::bot_process::Followed;
use crate::support::fake_discord::{FakeDiscord, Fault, InteractionPayload};
use orange_ticket_bot::sandbox::{ErrorFault, FaultConfig, Operation};

/// `/ticket status` gets an answer: a result or a short error, never silence.
async fn a_command_is_answered(fake: &FakeDiscord) {
    let asked = fake
        .inject(&InteractionPayload::slash("ticket").sub("status"))
        .await;
    let answer = fake.wait_for_response_message(&asked).await;
    assert!(!answer.content().is_empty() || !answer.embeds().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_dropped_mid_delivery_is_resumed_and_every_notification_posted_once() {
    const TICKETS: usize = 6;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    change_every_ticket(&world);
    // Slow first posts, so the gateway drops while the queue is being delivered.
    fake.fail_next(CREATE_MESSAGE, Fault::Delay(Duration::from_millis(800)), 2);
    let mut bot = world.spawn_bot(&[]);
    fake.wait_for("the first post", STARTUP, |s| {
        s.requests
            .iter()
            .any(|r| r.route == Some(CREATE_MESSAGE))
            .then_some(())
    })
    .await;
    let sessions = |s: &crate::support::fake_discord::State| s.identifies + s.resumes;
    let before = sessions(&fake.state());
    fake.close_gateway(4000).await;
    fake.wait_for("a new session", Duration::from_secs(15), |s| {
        (sessions(s) > before).then_some(())
    })
    .await;

    // Commands are answered on the new session.
    a_command_is_answered(&fake).await;

    let posted = all_posted_once_then_stopped(&fake, &world, &mut bot, STARTUP).await;
    let sends = sends_by_nonce(&fake);
    assert!(
        posted.keys().all(|k| sends.get(k) == Some(&1)),
        "each sent once: {sends:?}"
    );
    let (requests, sessions) = {
        let state = fake.state();
        (state.requests.len(), state.identifies + state.resumes)
    };
    println!(
        "gateway fault: {} requests, 1 gateway close, {} sessions, {TICKETS} notifications \
         delivered, duplicates 0, losses 0",
        requests, sessions
    );
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orange_slower_than_the_timeout_gets_clear_answers_and_loses_no_change() {
    const TICKETS: usize = 4;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    // Every Orange answer takes longer than the bot waits for one (1 s here).
    world.control.set_faults(FaultConfig {
        latency_ms: 1_500,
        ..FaultConfig::default()
    });
    let mut bot = world.spawn_bot(&[
        ("OTB__ORANGE__REQUEST_TIMEOUT_MS", "1000"),
        ("OTB__WATCHER__MAX_BACKOFF_SECS", "2"),
    ]);
    // Changes Orange makes while it is slow.
    change_every_ticket(&world);
    bot.wait_for_log("watcher: Orange call failed", STARTUP)
        .await;

    // A command gets a clear answer in time (not Discord's "did not respond").
    let asked = fake
        .inject(&InteractionPayload::slash("ticket").sub("status"))
        .await;
    let answer = fake.wait_for_response_message(&asked).await;
    let said = format!("{} {:?}", answer.content(), answer.embeds());
    assert!(said.contains("Orange did not answer in time"), "{said}");
    println!("slow Orange: the command said {said}");

    // Orange answers again: every change reaches its thread once.
    world.control.set_faults(FaultConfig::default());
    all_posted_once_then_stopped(&fake, &world, &mut bot, Duration::from_secs(20)).await;
    let counters = world.control.counters();
    println!(
        "slow Orange: {TICKETS} changes delivered, duplicates 0, losses 0, Orange calls {counters:?}"
    );
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_storms_and_malformed_bodies_lose_and_repeat_nothing() {
    const TICKETS: usize = 4;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    // Each token expires after two calls; half the reads come back broken or the wrong shape.
    world.control.set_faults(FaultConfig {
        token_expires_after_calls: Some(2),
        malformed_rate: [(Operation::GetTicket, 0.5), (Operation::Search, 0.5)]
            .into_iter()
            .collect(),
        ..FaultConfig::default()
    });
    let mut bot = world.spawn_bot(&[("OTB__WATCHER__MAX_BACKOFF_SECS", "2")]);
    change_every_ticket(&world);
    bot.wait_for_log("watcher: Orange call failed", STARTUP)
        .await;

    // Commands get an answer meanwhile (a result or a short error, never silence).
    for _ in 0..3 {
        a_command_is_answered(&fake).await;
    }
    let during = world.control.counters();

    world.control.set_faults(FaultConfig::default());
    all_posted_once_then_stopped(&fake, &world, &mut bot, Duration::from_secs(20)).await;
    let count = |op: Operation| during.operations.get(&op).map_or(0, |c| c.calls);
    println!(
        "Orange storms: {} token fetches, {} reads during the faults, {TICKETS} changes \
         delivered, duplicates 0, losses 0",
        count(Operation::Token),
        count(Operation::GetTicket) + count(Operation::Search)
    );
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_message_creation_posts_every_change_once() {
    const TICKETS: usize = 6;
    const STORM: usize = 15;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    // The next 15 message creations are refused with 429, as Discord does under a burst.
    fake.fail_next(
        CREATE_MESSAGE,
        Fault::RateLimited {
            retry_after: Duration::from_millis(200),
        },
        STORM,
    );
    let mut bot = world.spawn_bot(&[]);
    change_every_ticket(&world);

    // Commands get an answer meanwhile.
    a_command_is_answered(&fake).await;

    all_posted_once_then_stopped(&fake, &world, &mut bot, Duration::from_secs(40)).await;
    let sends: usize = sends_by_nonce(&fake).values().sum();
    let refused = fake
        .requests()
        .iter()
        .filter(|r| r.route == Some(CREATE_MESSAGE) && r.status == 429)
        .count();
    assert_eq!(refused, STORM, "every armed 429 was met");
    println!(
        "Discord 429 storm: {refused} creations refused with 429, {sends} sent in all, {TICKETS} \
         notifications delivered, duplicates 0, losses 0"
    );
    world.orange.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_of_orange_s_answers_503_and_nothing_is_lost_or_repeated() {
    const TICKETS: usize = 6;
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    let half = ErrorFault {
        rate: 0.5,
        statuses: vec![503],
        retry_after_secs: 0,
    };
    world.control.set_faults(FaultConfig {
        errors: [
            (Operation::GetTicket, half.clone()),
            (Operation::Search, half),
        ]
        .into_iter()
        .collect(),
        ..FaultConfig::default()
    });
    let mut bot = world.spawn_bot(&[("OTB__WATCHER__MAX_BACKOFF_SECS", "2")]);
    change_every_ticket(&world);

    // Commands keep getting an answer: a result or a short error, never silence.
    for _ in 0..3 {
        a_command_is_answered(&fake).await;
    }
    // The faults stay on: retries alone must get every change through.
    let during = world.control.counters();
    all_posted_once_then_stopped(&fake, &world, &mut bot, Duration::from_secs(40)).await;
    let refused = |op: Operation| during.responses(op, 503);
    let reads = |op: Operation| during.operations.get(&op).map_or(0, |c| c.calls);
    let (failed, total) = (
        refused(Operation::GetTicket) + refused(Operation::Search),
        reads(Operation::GetTicket) + reads(Operation::Search),
    );
    assert!(failed > 0, "no 503 was answered in {total} reads");
    println!(
        "Orange 50 % 503: {failed} of {total} reads refused, {TICKETS} notifications delivered, \
         duplicates 0, losses 0"
    );
    world.orange.shutdown().await;
}
