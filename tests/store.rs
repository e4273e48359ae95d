//! The sled store on a real disk: link indexes stay consistent under random operations, data
//! survives a reopen, and unusable directories give clear errors.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use orange_ticket_bot::domain::{
    AuditEntry, Contact, Conversation, Notification, Permission, Status, Subscription, TeamId,
    TeamSettings, Ticket, TicketId, Transport,
};
use orange_ticket_bot::store::Store;
use proptest::prelude::*;

fn tid(n: u8) -> TicketId {
    TicketId::parse(&format!("10000000{n:02}")).expect("id")
}

fn conv(n: u8) -> Conversation {
    if n.is_multiple_of(2) {
        Conversation::discord(900 + u64::from(n))
    } else {
        Conversation::console(&format!("session-{n}"))
    }
}

fn ticket(id: TicketId, status: Status) -> Ticket {
    Ticket {
        description: Some("Link down".into()),
        created: Some(Utc::now()),
        notes: Some(vec![]),
        ..Ticket::new(id, status)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Link(u8, u8),
    Unlink(u8),
    Snapshot(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..5).prop_map(|(c, t)| Op::Link(c, t)),
        (0u8..6).prop_map(Op::Unlink),
        (0u8..5).prop_map(Op::Snapshot),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_two_link_indexes_never_disagree(ops in prop::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        rt.block_on(async {
            let store = Store::open(dir.path()).expect("opens");
            let mut model: BTreeMap<Conversation, TicketId> = BTreeMap::new();
            for op in &ops {
                match op {
                    Op::Link(c, t) => {
                        let previous = store.link(&conv(*c), &tid(*t)).await.expect("link");
                        prop_assert_eq!(previous, model.insert(conv(*c), tid(*t)));
                    }
                    Op::Unlink(c) => {
                        let previous = store.unlink(&conv(*c)).await.expect("unlink");
                        prop_assert_eq!(previous, model.remove(&conv(*c)));
                    }
                    Op::Snapshot(t) => {
                        store.put_snapshot(&ticket(tid(*t), Status::Ongoing)).await.expect("snapshot");
                    }
                }
                let mut forward = store.links().await.expect("links");
                let mut backward = store.links_by_ticket().await.expect("links by ticket");
                forward.sort();
                backward.sort();
                prop_assert_eq!(&forward, &backward);
                let expected: Vec<_> = model.iter().map(|(c, t)| (c.clone(), t.clone())).collect();
                prop_assert_eq!(&forward, &expected);
                for (c, t) in &model {
                    prop_assert!(store.conversations_for(t).await.expect("reverse").contains(c));
                    prop_assert_eq!(store.ticket_for(c).expect("forward"), Some(t.clone()));
                }
                let tracked: BTreeSet<_> = model.values().cloned().collect();
                prop_assert_eq!(store.tracked_tickets().await.expect("tracked"), tracked.into_iter().collect::<Vec<_>>());
            }
            Ok(())
        })?;
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
            .audit(&AuditEntry {
                at: Utc::now(),
                user_key: "discord:7".into(),
                transport: Transport::Discord,
                conversation: conv(0),
                action: "link".into(),
                ticket: Some(tid(1)),
                outcome: "ok".into(),
            })
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
    let pending = store.pending().await.expect("read");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1, notification);
    store.ack(pending[0].0).await.expect("ack");
    assert!(store.pending().await.expect("read").is_empty());
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
