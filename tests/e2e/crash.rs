//! Crash safety: the real bot **process** (the release-equivalent binary, `run` mode) against the
//! fake Discord and the Orange sandbox, killed with SIGKILL at random points across at least 50
//! watcher passes while the sandbox changes tickets, and restarted each time on the same sled
//! store. Afterwards every change must be in its thread exactly once: none missing, none twice.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use orange_ticket_bot::domain::{Status, TicketId};
use orange_ticket_bot::store::Store;

use crate::support::bot_process::Followed;
use crate::support::fake_discord::FakeDiscord;

const TICKETS: usize = 12;
const MIN_PASSES: usize = 50;
/// The statuses a ticket cycles through (never a final one, so it stays followed).
const CYCLE: [Status; 4] = [
    Status::InQualification,
    Status::Ongoing,
    Status::Frozen,
    Status::Restored,
];

/// Every change's reason found in a thread's watcher messages (text or cards), with the number
/// of messages it appears in.
fn posted_reasons(fake: &FakeDiscord, thread: u64) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in fake.messages_in(thread) {
        if !m.content().contains("-# ref ") {
            continue;
        }
        let text = format!(
            "{} {}",
            m.content(),
            serde_json::Value::from(m.embeds().to_vec())
        );
        let reasons: std::collections::HashSet<String> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("change-"))
            .map(str::to_owned)
            .collect();
        for r in reasons {
            *out.entry(r).or_insert(0) += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_the_bot_posts_every_change_exactly_once() {
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;
    let (control, threads) = (&world.control, &world.threads);

    // Changes: a ticket changes again only once its previous change is in its thread, so every
    // change is one the watcher can see (two between passes would show as one).
    let mut made: HashMap<TicketId, Vec<String>> = HashMap::new();
    let mut step: HashMap<TicketId, usize> = HashMap::new();
    let mut waiting: HashMap<TicketId, String> = HashMap::new();
    let mut next_change = 0usize;
    let mut change_tickets = |fake: &FakeDiscord, waiting: &mut HashMap<TicketId, String>| {
        for (id, thread) in threads {
            if let Some(reason) = waiting.get(id)
                && !posted_reasons(fake, *thread).contains_key(reason)
            {
                continue;
            }
            if fastrand::u8(..3) != 0 {
                continue;
            }
            // The next status of the cycle that is not the current one: every change is a
            // status change.
            let current = control.ticket(id).map(|t| t.status);
            let k = step.entry(id.clone()).or_default();
            let mut status = CYCLE[*k % CYCLE.len()].clone();
            if Some(&status) == current.as_ref() {
                *k += 1;
                status = CYCLE[*k % CYCLE.len()].clone();
            }
            *k += 1;
            next_change += 1;
            let reason = format!("change-{next_change}");
            control
                .set_status(id, status, Some(reason.clone()))
                .expect("status");
            made.entry(id.clone()).or_default().push(reason.clone());
            waiting.insert(id.clone(), reason);
        }
    };

    let started = Instant::now();
    let (mut kills, mut passes) = (0usize, 0usize);
    while passes < MIN_PASSES {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "too slow: {passes} passes"
        );
        let mut bot = world.spawn_bot(&[]);
        change_tickets(&fake, &mut waiting);
        tokio::time::sleep(Duration::from_millis(150 + fastrand::u64(..1400))).await;
        change_tickets(&fake, &mut waiting);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(..400))).await;
        bot.kill();
        kills += 1;
        passes += bot.passes();
    }

    // A last life without kills until every change is posted.
    let mut bot = world.spawn_bot(&[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing = made.iter().any(|(id, reasons)| {
            let posted = posted_reasons(&fake, threads[id]);
            reasons.iter().any(|r| !posted.contains_key(r))
        });
        if !missing || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bot.kill();
    passes += bot.passes();

    let (mut changes, mut posts, mut duplicates, mut losses) = (0, 0, 0, 0);
    for (id, reasons) in &made {
        let posted = posted_reasons(&fake, threads[id]);
        changes += reasons.len();
        posts += posted.values().sum::<usize>();
        duplicates += posted
            .values()
            .filter(|n| **n > 1)
            .map(|n| n - 1)
            .sum::<usize>();
        losses += reasons.iter().filter(|r| !posted.contains_key(*r)).count();
        for r in posted.keys() {
            assert!(reasons.contains(r), "{r} was posted in the wrong thread");
        }
    }
    // Printed for the record (`cargo test -- --nocapture` shows it).
    println!(
        "crash test: {passes} passes, {kills} kills, {changes} changes, {posts} posts, \
         {duplicates} duplicates, {losses} losses in {:?}",
        started.elapsed()
    );
    if losses > 0 || duplicates > 0 {
        for (id, reasons) in &made {
            let posted = posted_reasons(&fake, threads[id]);
            let lost: Vec<_> = reasons
                .iter()
                .filter(|r| !posted.contains_key(*r))
                .collect();
            if !lost.is_empty() || posted.values().any(|n| *n > 1) {
                println!("ticket {id}: made {reasons:?}, lost {lost:?}, posted {posted:?}");
                for m in fake.messages_in(threads[id]) {
                    println!("  {:?} nonce={}", m.content(), m.body["nonce"]);
                }
            }
        }
        let store = Store::open(&world.store_path).expect("store");
        println!(
            "outbox: {:?}",
            store.pending(0, usize::MAX).await.expect("outbox")
        );
    }
    assert!(changes >= 20, "the test made too few changes: {changes}");
    assert_eq!(
        (duplicates, losses),
        (0, 0),
        "{posts} posts for {changes} changes"
    );
    assert_eq!(posts, changes);
    let _ = fake.take_failures();
    world.orange.shutdown().await;
}
