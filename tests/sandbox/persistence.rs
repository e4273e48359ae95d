//! Persistence of the bot's embedded sandbox: a world file kept across restarts.

use std::net::SocketAddr;
use std::time::Duration;

use orange_ticket_bot::domain::Status;
use orange_ticket_bot::sandbox::{self};
use reqwest::Method;

use crate::harness::{Env, comment_body, options};

#[tokio::test]
async fn with_a_world_file_a_restart_keeps_tickets_notes_clock_and_ids() {
    let dir = tempfile::tempdir().expect("a tempdir");
    let file = dir.path().join("world.json");
    let persistent = || {
        let mut opts = options();
        opts.world_file = Some(file.clone());
        opts.auto_advance = Some(Duration::from_secs(60));
        opts
    };

    let env = Env::with(persistent()).await;
    assert!(file.is_file(), "the seeded world is written at start");
    let (service, _) = env.first_service().await;
    let first = env.create_ok().await;
    let c = env
        .call(
            Method::PATCH,
            &format!("/troubleTicket/{first}"),
            Some(comment_body(&service, "Comments", "still down")),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    env.control()
        .add_orange_note(&first, "Orange comments".into(), "on it".into())
        .expect("a note");
    // One lifecycle step, on the sandbox clock.
    env.control().advance_clock(Duration::from_secs(61));
    let before = env.control().ticket(&first).expect("the ticket");
    assert_ne!(before.status, Status::Submitted, "it moved");
    let everything = env.all_tickets().await;
    env.sandbox.shutdown().await;

    let env = Env::with(persistent()).await;
    assert_eq!(
        env.control().ticket(&first),
        Some(before.clone()),
        "the ticket, its notes and its status are back"
    );
    let notes: Vec<String> = before
        .notes
        .iter()
        .flatten()
        .map(|n| n.text.clone())
        .collect();
    assert!(notes.contains(&"still down".to_owned()), "{notes:?}");
    assert!(notes.contains(&"on it".to_owned()), "{notes:?}");
    assert_eq!(env.all_tickets().await, everything);
    let second = env.create_ok().await;
    assert!(second > first, "{second} after {first}");
    let created = env.control().ticket(&second).and_then(|t| t.created);
    assert!(
        created >= before.status_change.date,
        "the clock kept its offset: {created:?} vs {:?}",
        before.status_change.date
    );
    // A reset restores the seeded account, but not the ids given out.
    env.control().reset();
    let third = env.create_ok().await;
    assert!(third > second, "{third} after {second}");
    env.sandbox.shutdown().await;

    let env = Env::with(persistent()).await;
    assert!(env.control().ticket(&first).is_none(), "the reset was kept");
    assert!(env.control().ticket(&third).is_some());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_world_file_fails_the_start_naming_it_and_stays_as_it_was() {
    let dir = tempfile::tempdir().expect("a tempdir");
    let file = dir.path().join("world.json");
    std::fs::write(&file, "{\"format\": 1, \"tickets\": [").expect("written");
    let mut opts = options();
    opts.world_file = Some(file.clone());
    let err = sandbox::start(opts, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("still there"),
        "{\"format\": 1, \"tickets\": ["
    );
}
