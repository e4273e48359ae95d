//! The audit log keeps the newest `store.audit_keep` entries, and commands that change nothing
//! cost no fsync (their refusals and denials are still recorded).

use std::collections::BTreeSet;

use chrono::Utc;
use orange_ticket_bot::core::{AdminChange, Command, ConfigInput, Here, SearchInput};
use orange_ticket_bot::domain::{Actor, AuditEntry, Conversation, Permission, TeamId, Transport};
use orange_ticket_bot::store::{Durability, Store, StoreOptions};

use super::{conv, core_in};

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        user_key: "discord:7".into(),
        transport: Transport::Discord,
        conversation: conv(0),
        action: format!("action-{n}"),
        ticket: None,
        outcome: "ok".into(),
    }
}

async fn actions(store: &Store) -> Vec<String> {
    let log = store.audit_log(usize::MAX).await.expect("audit log");
    log.into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn the_audit_log_keeps_the_newest_entries_up_to_its_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_with(dir.path(), StoreOptions { audit_keep: 5 }).expect("opens");
        for n in 0..12 {
            let durability = if n % 2 == 0 {
                Durability::Flushed
            } else {
                Durability::Unflushed
            };
            store.audit(&entry(n), durability).await.expect("audit");
        }
        let kept: Vec<String> = (7..12).map(|n| format!("action-{n}")).collect();
        assert_eq!(actions(&store).await, kept);
        store.flush().await.expect("flush");
    }
    // A lower limit applies from the next write on, counting what the log already holds.
    let store = Store::open_with(dir.path(), StoreOptions { audit_keep: 3 }).expect("reopens");
    store
        .audit(&entry(12), Durability::Flushed)
        .await
        .expect("audit");
    assert_eq!(
        actions(&store).await,
        ["action-10", "action-11", "action-12"]
    );
}

fn actor(user: &str, roles: &[&str], admin: bool) -> Actor {
    Actor {
        user_key: format!("discord:{user}"),
        display_name: user.to_owned(),
        team: TeamId("guild-1".into()),
        conversation: Conversation::discord(100),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        is_team_admin: admin,
        link: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_change_nothing_cost_no_fsync_and_are_still_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, core, sandbox) = core_in(dir.path()).await;
    let store = core.store().clone();
    let admin = actor("admin", &[], true);
    let guest = actor("guest", &[], false);
    core.admin(
        &admin,
        AdminChange::Roles(Permission::Create, BTreeSet::from(["noc".to_owned()])),
    )
    .await
    .expect("admin sets roles");
    let audited_before = actions(&store).await.len();

    let flushes = store.flushes();
    let reads = [
        Command::Services,
        Command::Search(SearchInput::default()),
        Command::Show {
            id: Some("1234567890".into()),
        },
        Command::Status,
        Command::Profile(None),
        Command::Config(ConfigInput::default()),
    ];
    for command in reads {
        let what = format!("{command:?}");
        core.execute(&guest, command, &Here)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(store.flushes(), flushes, "{what} waited for the disk");
    }
    core.audit_refusal(&guest, "ticket show", "this server is not allowed")
        .await;
    let denied = core.may_create(&guest).await;
    assert!(denied.is_err(), "the guest may not create");
    assert_eq!(
        store.flushes(),
        flushes,
        "a refusal or a denial waited for the disk"
    );
    let audited = actions(&store).await;
    assert_eq!(
        audited[audited_before..],
        ["ticket show", "create"],
        "the refusal and the denial are audited"
    );

    // A change still waits for the disk.
    core.set_profile(&guest, "Grace", "Hopper", Some("grace@example.net"), None)
        .await
        .expect("profile");
    assert!(store.flushes() > flushes, "a change is flushed");
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
}
