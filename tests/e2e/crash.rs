//! Crash safety: the real bot **process** (the release-equivalent binary, `run` mode) against the
//! fake Discord and the Orange sandbox, killed with SIGKILL at random points across at least 50
//! watcher passes while the sandbox changes tickets, and restarted each time on the same sled
//! store. Afterwards every change must be in its thread exactly once: none missing, none twice.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use orange_ticket_bot::config::{OrangeCredentials, Settings};
use orange_ticket_bot::domain::{Conversation, SearchQuery, Status, TicketId};
use orange_ticket_bot::orange::OrangeClient;
use orange_ticket_bot::sandbox::{self, SandboxOptions};
use orange_ticket_bot::store::Store;

use crate::support::fake_discord::{CHANNEL_ID, FakeDiscord};

const TICKETS: usize = 12;
const MIN_PASSES: usize = 50;
/// The statuses a ticket cycles through (never a final one, so it stays followed).
const CYCLE: [Status; 4] = [
    Status::InQualification,
    Status::Ongoing,
    Status::Frozen,
    Status::Restored,
];

/// The bot process and the passes its watcher logged.
struct Bot {
    child: Child,
    passes: Arc<AtomicUsize>,
}

fn spawn_bot(env: &[(String, String)], cwd: &std::path::Path) -> Bot {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"))
        .arg("run")
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bot starts");
    let passes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&passes);
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("watcher pass") {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Bot { child, passes }
}

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
    let mut settings = Settings::defaults().expect("defaults");
    let orange = sandbox::start(
        SandboxOptions::from_settings(&settings),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .expect("sandbox");
    settings.orange.base_url = orange.base_url();
    settings.orange.token_url = orange.token_url();
    let control = orange.control();
    let client = OrangeClient::new(
        &settings.orange,
        OrangeCredentials {
            client_id: settings.sandbox.client_id.clone().into(),
            client_secret: settings.sandbox.client_secret.clone().into(),
        },
        None,
    )
    .expect("client");

    // Followed tickets: open ones from the account, each linked to a thread, with a snapshot.
    let open: Vec<_> = client
        .search_all(SearchQuery::default(), client.background())
        .try_collect::<Vec<_>>()
        .await
        .expect("search")
        .into_iter()
        .flat_map(|p| p.tickets)
        .filter(|t| !t.status.is_final())
        .take(TICKETS)
        .collect();
    assert_eq!(open.len(), TICKETS, "the seed has enough open tickets");
    let dir = tempfile::tempdir().expect("temp dir");
    let store_path = dir.path().join("bot.sled");
    let mut threads: BTreeMap<TicketId, u64> = BTreeMap::new();
    {
        let store = Store::open(&store_path).expect("store");
        for t in &open {
            let thread = fake
                .state()
                .add_thread(CHANNEL_ID, 11, t.id.as_str(), Vec::new(), None);
            let full = client
                .get_ticket(&t.id, client.background())
                .await
                .expect("get");
            store
                .link(&Conversation::discord(thread), &t.id)
                .await
                .expect("link");
            store.put_snapshot(&full).await.expect("snapshot");
            threads.insert(t.id.clone(), thread);
        }
    }

    let env: Vec<(String, String)> = [
        ("DISCORD_TOKEN", "fake-token".to_owned()),
        ("ORANGE_CLIENT_ID", settings.sandbox.client_id.clone()),
        (
            "ORANGE_CLIENT_SECRET",
            settings.sandbox.client_secret.clone(),
        ),
        ("OTB__DISCORD__API_BASE_URL", fake.base_url()),
        (
            "OTB__ORANGE__BASE_URL",
            settings.orange.base_url.to_string(),
        ),
        (
            "OTB__ORANGE__TOKEN_URL",
            settings.orange.token_url.to_string(),
        ),
        ("OTB__STORE__PATH", store_path.display().to_string()),
        ("OTB__WATCHER__INTERVAL_SECS", "1".to_owned()),
        ("RUST_LOG", "info,serenity=error".to_owned()),
        ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    // Changes: a ticket changes again only once its previous change is in its thread, so every
    // change is one the watcher can see (two between passes would show as one).
    let mut made: HashMap<TicketId, Vec<String>> = HashMap::new();
    let mut step: HashMap<TicketId, usize> = HashMap::new();
    let mut waiting: HashMap<TicketId, String> = HashMap::new();
    let mut next_change = 0usize;
    let mut change_tickets = |fake: &FakeDiscord, waiting: &mut HashMap<TicketId, String>| {
        for (id, thread) in &threads {
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
        let mut bot = spawn_bot(&env, dir.path());
        change_tickets(&fake, &mut waiting);
        tokio::time::sleep(Duration::from_millis(150 + fastrand::u64(..1400))).await;
        change_tickets(&fake, &mut waiting);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(..400))).await;
        bot.child.kill().expect("SIGKILL");
        bot.child.wait().expect("reaped");
        kills += 1;
        passes += bot.passes.load(Ordering::SeqCst);
    }

    // A last life without kills until every change is posted.
    let mut bot = spawn_bot(&env, dir.path());
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
    bot.child.kill().expect("SIGKILL");
    bot.child.wait().expect("reaped");
    passes += bot.passes.load(Ordering::SeqCst);

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
        let store = Store::open(&store_path).expect("store");
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
    orange.shutdown().await;
}
