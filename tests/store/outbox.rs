//! A long outbox (after a long outage, say) is read in bounded batches, and the watcher drains it
//! through the console notifier in order, each notification once.

use chrono::Utc;
use orange_ticket_bot::console::ConsoleNotifier;
use orange_ticket_bot::domain::{Audience, Conversation, Notification, Status, TicketId};
use orange_ticket_bot::watcher::{Watcher, WatcherOptions};

use super::{core_in, ticket};

const QUEUED: u64 = 10_000;
const BATCH: usize = 100;

/// Ticket ids in queue order, so a line's order shows in the id it names.
fn queued_ticket(i: u64) -> TicketId {
    TicketId::parse(&(1_000_000_000 + i).to_string()).expect("id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outbox_is_read_in_batches_and_drained_in_order_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (settings, core, sandbox) = core_in(dir.path()).await;
    let store = core.store().clone();
    let operator = Conversation::console("operator");
    let queued: Vec<Notification> = (0..QUEUED)
        .map(|i| Notification {
            key: format!("n-{i}"),
            conversation: operator.clone(),
            ticket: queued_ticket(i),
            changes: vec![],
            created: Utc::now(),
            audience: Audience::Feed,
        })
        .collect();
    store
        .record(&ticket(queued_ticket(0), Status::Ongoing), &queued)
        .await
        .expect("queued");

    let first = store.pending(0, BATCH).await.expect("first batch");
    assert_eq!(first.len(), BATCH, "one batch, not the whole outbox");
    assert_eq!(first[0].1, queued[0]);
    let next = store
        .pending(first[BATCH - 1].0 + 1, BATCH)
        .await
        .expect("second batch");
    assert_eq!(next.len(), BATCH);
    assert_eq!(
        next[0].1, queued[BATCH],
        "the next batch starts after the first"
    );

    let (notifier, mut news) = ConsoleNotifier::channel(store.clone());
    let mut watcher = Watcher::new(
        core.clone(),
        notifier,
        WatcherOptions::from_settings(&settings),
    );
    let pass = watcher.poll_once().await;
    assert_eq!(pass.delivered as u64, QUEUED, "{pass:?}");
    assert_eq!(watcher.poll_once().await.delivered, 0, "each once");
    assert!(store.pending(0, 1).await.expect("outbox").is_empty());

    let mut shown = Vec::new();
    while let Ok(line) = news.try_recv() {
        shown.push(line);
    }
    assert_eq!(shown.len() as u64, QUEUED);
    for (i, line) in shown.iter().enumerate() {
        let expected = format!("[ticket {}]", queued_ticket(i as u64));
        assert!(line.starts_with(&expected), "line {i}: {line}");
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
}
