//! The sled store on a real disk: data survives a reopen, and unusable directories give clear
//! errors; `links`: the link indexes stay consistent under random operations.

mod audit;
mod forget;
mod links;
mod outbox;
mod schema;

use std::collections::BTreeSet;

use chrono::Utc;
use orange_ticket_bot::app::build_core;
use orange_ticket_bot::config::Settings;
use orange_ticket_bot::core::{Core, CoreError};
use orange_ticket_bot::domain::{
    AuditEntry, Contact, Conversation, Notification, Permission, Status, Subscription, TeamId,
    TeamSettings, Ticket, TicketId, Transport,
};
use orange_ticket_bot::sandbox::RunningSandbox;
use orange_ticket_bot::store::{Durability, Store, StoreError};

/// The core the binary builds (`build_core`), its store in `dir`, over the embedded sandbox.
pub async fn core_in(dir: &std::path::Path) -> (Settings, Core, Option<RunningSandbox>) {
    let mut settings = Settings::defaults().expect("defaults");
    settings.store.path = dir.join("store");
    let (core, sandbox) = build_core(&settings).await.expect("core");
    (settings, core, sandbox)
}

pub fn tid(n: u8) -> TicketId {
    TicketId::parse(&format!("10000000{n:02}")).expect("id")
}

pub fn conv(n: u8) -> Conversation {
    if n.is_multiple_of(2) {
        Conversation::discord(900 + u64::from(n))
    } else {
        Conversation::console(&format!("session-{n}"))
    }
}

pub fn ticket(id: TicketId, status: Status) -> Ticket {
    Ticket {
        description: Some("Link down".into()),
        created: Some(Utc::now()),
        notes: Some(vec![]),
        ..Ticket::new(id, status)
    }
}

#[tokio::test]
async fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let team = TeamId("guild-1".into());
    let contact = Contact {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: Some("ada@example.net".into()),
        phone: None,
    };
    let mut team_settings = TeamSettings::default();
    team_settings
        .allowed_roles
        .insert(Permission::Create, BTreeSet::from(["noc".to_owned()]));
    team_settings.feed = Some(conv(2));
    let subscription = Subscription {
        services: BTreeSet::new(),
        statuses: BTreeSet::from(["ongoing".to_owned()]),
    };
    let notification = Notification {
        key: "n-1".into(),
        conversation: conv(0),
        ticket: tid(1),
        changes: vec![],
        created: Utc::now(),
        audience: Default::default(),
    };
    {
        let store = Store::open(dir.path()).expect("opens");
        store.link(&conv(0), &tid(1)).await.expect("link");
        store.link(&conv(1), &tid(1)).await.expect("link");
        store
            .set_profile("discord:7", &contact)
            .await
            .expect("profile");
        store
            .set_team_settings(&team, &team_settings)
            .await
            .expect("team");
        store
            .subscribe(&conv(4), &subscription)
            .await
            .expect("subscribe");
        store
            .record(
                &ticket(tid(1), Status::Restored),
                std::slice::from_ref(&notification),
            )
            .await
            .expect("record");
        store
            .audit(
                &AuditEntry {
                    at: Utc::now(),
                    user_key: "discord:7".into(),
                    transport: Transport::Discord,
                    conversation: conv(0),
                    action: "link".into(),
                    ticket: Some(tid(1)),
                    outcome: "ok".into(),
                },
                Durability::Flushed,
            )
            .await
            .expect("audit");
    }
    let store = Store::open(dir.path()).expect("reopens");
    assert_eq!(store.ticket_for(&conv(0)).expect("read"), Some(tid(1)));
    assert_eq!(
        store.conversations_for(&tid(1)).await.expect("read").len(),
        2
    );
    assert_eq!(store.profile("discord:7").expect("read"), Some(contact));
    assert_eq!(store.team_settings(&team).expect("read"), team_settings);
    assert_eq!(
        store.subscriptions().await.expect("read"),
        vec![(conv(4), subscription)]
    );
    assert_eq!(
        store.snapshot(&tid(1)).expect("read").map(|t| t.status),
        Some(Status::Restored)
    );
    let pending = store.pending(0, usize::MAX).await.expect("read");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1, notification);
    store.ack(pending[0].0).await.expect("ack");
    assert!(store.pending(0, usize::MAX).await.expect("read").is_empty());
    assert_eq!(store.audit_log(10).await.expect("read").len(), 1);
}

#[test]
fn unusable_directories_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let err = Store::open(&file).unwrap_err().to_string();
    assert!(err.contains("it is a file, not a directory"), "{err}");

    let corrupt = dir.path().join("corrupt");
    std::fs::create_dir(&corrupt).expect("mkdir");
    std::fs::write(corrupt.join("conf"), b"\xff\xfe garbage").expect("write");
    std::fs::write(corrupt.join("db"), b"garbage").expect("write");
    let err = Store::open(&corrupt).unwrap_err().to_string();
    assert!(err.starts_with("cannot open the store at"), "{err}");
}

/// A store failure reaches the use cases' error with its cause attached, not flattened into
/// text: the log line can show the whole chain, and code can look at sled's own error.
#[test]
fn a_store_failure_keeps_its_cause_up_to_the_core_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("conf"), b"\xff\xfe garbage").expect("write");
    std::fs::write(dir.path().join("db"), b"garbage").expect("write");
    let err = CoreError::from(Store::open(dir.path()).unwrap_err());
    let chain: Vec<&dyn std::error::Error> =
        std::iter::successors(std::error::Error::source(&err), |e| e.source()).collect();
    assert!(
        chain.first().is_some_and(|e| e.is::<StoreError>()),
        "the core error's source is the store error: {chain:?}"
    );
    assert!(
        chain.iter().any(|e| e.is::<sled::Error>()),
        "sled's error is in the chain: {chain:?}"
    );
}

#[tokio::test]
async fn every_snapshot_comes_back_with_its_timeline_after_a_reopen() {
    let dir = tempfile::tempdir().expect("dir");
    let at = |h: i64| Utc::now() - chrono::TimeDelta::hours(h);
    {
        let store = Store::open(dir.path()).expect("opens");
        store
            .put_snapshot(&ticket(tid(2), Status::Submitted))
            .await
            .expect("baseline");
        for (status, when) in [(Status::Ongoing, at(5)), (Status::Restored, at(2))] {
            store
                .record_with_timeline(&ticket(tid(1), status.clone()), &[], Some((status, when)))
                .await
                .expect("recorded");
        }
    }
    let store = Store::open(dir.path()).expect("reopens");
    let all = store.snapshots_with_timelines().await.expect("read");
    let seen: Vec<(TicketId, Status, Vec<Status>)> = all
        .into_iter()
        .map(|(t, timeline)| {
            (
                t.id,
                t.status,
                timeline.into_iter().map(|(s, _)| s).collect(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                tid(1),
                Status::Restored,
                vec![Status::Ongoing, Status::Restored]
            ),
            (tid(2), Status::Submitted, vec![]),
        ]
    );
}
