//! Crash safety: the real bot **process** (the release-equivalent binary, `run` mode) against the
//! fake Discord and the Orange sandbox, killed with SIGKILL at random points across at least 50
//! watcher passes while the sandbox changes tickets, and restarted each time on the same sled
//! store. Afterwards every change must be in its thread exactly once: none missing, none twice.

use std::time::{Duration, Instant};

use orange_ticket_bot::store::Store;

use crate::changes::Changes;
use crate::support::bot_process::Followed;
use crate::support::fake_discord::FakeDiscord;

const TICKETS: usize = 12;
const MIN_PASSES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_the_bot_posts_every_change_exactly_once() {
    let fake = FakeDiscord::start().await;
    let world = Followed::start(&fake, TICKETS).await;

    // Changes: a ticket changes again only once its previous change is in its thread, so every
    // change is one the watcher can see.
    let mut changes = Changes::default();

    let started = Instant::now();
    let (mut kills, mut passes) = (0usize, 0usize);
    while passes < MIN_PASSES {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "too slow: {passes} passes"
        );
        let mut bot = world.spawn_bot(&[]);
        changes.make(&fake, &world, 3);
        tokio::time::sleep(Duration::from_millis(150 + fastrand::u64(..1400))).await;
        changes.make(&fake, &world, 3);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(..400))).await;
        bot.kill();
        kills += 1;
        passes += bot.passes();
    }

    // A last life without kills until every change is posted.
    let mut bot = world.spawn_bot(&[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !changes.all_posted(&fake, &world) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bot.kill();
    passes += bot.passes();

    let tally = changes.tally(&fake, &world);
    let (changes_made, posts) = (tally.changes, tally.posts);
    // Printed for the record (`cargo test -- --nocapture` shows it).
    println!(
        "crash test: {passes} passes, {kills} kills, {changes_made} changes, {posts} posts, \
         {} duplicates, {} losses in {:?}",
        tally.duplicates,
        tally.losses,
        started.elapsed()
    );
    if tally.losses > 0 || tally.duplicates > 0 {
        changes.explain(&fake, &world);
        let store = Store::open(&world.store_path).expect("store");
        println!(
            "outbox: {:?}",
            store.pending(0, usize::MAX).await.expect("outbox")
        );
    }
    assert!(
        changes_made >= 20,
        "the test made too few changes: {changes_made}"
    );
    assert_eq!(
        (tally.duplicates, tally.losses),
        (0, 0),
        "{posts} posts for {changes_made} changes"
    );
    assert_eq!(posts, changes_made);
    let _ = fake.take_failures();
    world.orange.shutdown().await;
}
