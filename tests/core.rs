//! The core use cases over a real sled store and the sandbox (through the same `build_core` the
//! binary uses): rejected input changes nothing, authorization is decided and audited in the core,
//! and data survives a restart. That the core stays transport-free is `tests/layering.rs`'s.

use std::collections::BTreeSet;
use std::path::Path;

use orange_ticket_bot::app::build_core;
use orange_ticket_bot::config::Settings;
use orange_ticket_bot::core::{AdminChange, Core, CreateInput, Here, SearchInput};
use orange_ticket_bot::domain::{Actor, Conversation, Permission, TeamId};
use orange_ticket_bot::sandbox::{Operation as Op, RunningSandbox};

struct Env {
    core: Core,
    sandbox: RunningSandbox,
}

async fn env(data: &Path) -> Env {
    let mut settings = Settings::defaults().expect("defaults");
    settings.store.path = data.join("store");
    let (core, sandbox) = build_core(&settings).await.expect("core");
    Env {
        core,
        sandbox: sandbox.expect("no credentials: the embedded sandbox"),
    }
}

fn actor(user: &str, conversation: u64, roles: &[&str]) -> Actor {
    Actor {
        user_key: format!("discord:{user}"),
        display_name: user.to_owned(),
        team: TeamId("guild-1".into()),
        conversation: Conversation::discord(conversation),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        is_team_admin: false,
        link: Some(format!("https://discord.com/channels/1/{conversation}")),
    }
}

/// `actor` with a contact saved, as creating a ticket needs.
async fn with_profile(e: &Env, actor: Actor) -> Actor {
    e.core
        .set_profile(&actor, "Ada", "Lovelace", Some("ada@example.net"), None)
        .await
        .expect("profile");
    actor
}

/// Everything a rejected input must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    links: Vec<(Conversation, orange_ticket_bot::domain::TicketId)>,
    tracked: usize,
    subscriptions: usize,
    tickets_at_orange: usize,
    creates: u64,
    comments: u64,
}

async fn snapshot(e: &Env) -> Snapshot {
    let store = e.core.store();
    let counters = e.sandbox.control().counters();
    Snapshot {
        links: store.links().await.expect("links"),
        tracked: store.tracked_tickets().await.expect("tracked").len(),
        subscriptions: store.subscriptions().await.expect("subs").len(),
        tickets_at_orange: e.sandbox.control().ticket_count(),
        creates: counters.calls(Op::CreateTicket),
        comments: counters.calls(Op::AddComment),
    }
}

fn create(service: &str, technical: &str, description: &str) -> CreateInput {
    CreateInput {
        service: service.into(),
        technical: technical.into(),
        description: description.into(),
        external_ref: None,
    }
}

#[tokio::test]
async fn rejected_inputs_say_why_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let ada = with_profile(&e, actor("ada", 100, &[])).await;
    // Warm the service cache so the snapshot below is taken after that read.
    e.core.services().await.expect("services");
    let before = snapshot(&e).await;

    let cases: Vec<(&str, CreateInput, String)> = vec![
        (
            "unknown service",
            create("LD999999", "LD000001", "Link down"),
            "Unknown service number `LD999999`: `/ticket services` lists yours.".into(),
        ),
        (
            "technical number not under the service",
            create("LD000000", "LD999998", "Link down"),
            "Technical number `LD999998` is not under service `LD000000` (its technical numbers: LD000001).".into(),
        ),
        (
            "empty description",
            create("LD000000", "LD000001", "   "),
            "The description is empty.".into(),
        ),
        (
            "description over the limit",
            create("LD000000", "LD000001", &"x".repeat(4001)),
            "The description is too long (4001 characters; at most 4000).".into(),
        ),
        (
            "malformed service number",
            create("LD 0", "LD000001", "Link down"),
            "Service number `LD 0` may only contain letters, digits, `-`, `_` and `.`.".into(),
        ),
    ];
    for (what, input, message) in cases {
        let err = e.core.create_ticket(&ada, input, &Here).await.unwrap_err();
        assert_eq!(err.user_message(), message, "{what}");
        assert_eq!(snapshot(&e).await, before, "{what} changed something");
    }

    let err = e.core.show(&ada, Some("12/34")).await.unwrap_err();
    assert_eq!(
        err.user_message(),
        "Ticket id `12/34` may only contain letters, digits, `-` and `_`."
    );
    let err = e.core.comment(&ada, None, "still down").await.unwrap_err();
    assert_eq!(
        err.user_message(),
        "This conversation is not linked to a ticket: give `id:` or use the ticket's thread."
    );
    let err = e
        .core
        .comment(&ada, Some("1234567890"), " ")
        .await
        .unwrap_err();
    assert_eq!(err.user_message(), "The comment is empty.");
    // The limit counts the attribution Orange receives ("[ada via discord] ", 18 characters).
    let err = e
        .core
        .comment(&ada, Some("1234567890"), &"y".repeat(3990))
        .await
        .unwrap_err();
    assert_eq!(
        err.user_message(),
        "The comment is too long (3990 characters; at most 3982)."
    );
    let err = e.core.link(&ada, "not an id!", &Here).await.unwrap_err();
    assert!(err.user_message().starts_with("Ticket id `not an id!`"));
    let err = e.core.unlink(&ada).await.unwrap_err();
    assert_eq!(
        err.user_message(),
        "This conversation is not linked to a ticket."
    );
    let err = e
        .core
        .search(SearchInput {
            status: Some("done".into()),
            ..SearchInput::default()
        })
        .await
        .unwrap_err();
    assert!(err.user_message().starts_with("Unknown status `done`"));
    let err = e
        .core
        .search(SearchInput {
            from: Some("2024-05-02".into()),
            to: Some("2024-05-01".into()),
            ..SearchInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.user_message(),
        "The `from` date is after the `to` date."
    );

    let nobody = actor("bob", 101, &[]);
    let err = e
        .core
        .create_ticket(&nobody, create("LD000000", "LD000001", "Link down"), &Here)
        .await
        .unwrap_err();
    assert_eq!(
        err.user_message(),
        "Orange needs a contact for the ticket: set yours first with `/ticket profile`."
    );
    assert_eq!(
        snapshot(&e).await,
        before,
        "the reads above changed something"
    );
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn orange_failures_become_one_sentence_with_the_request_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let ada = actor("ada", 100, &[]);
    let err = e.core.show(&ada, Some("9999999999")).await.unwrap_err();
    let message = err.user_message();
    assert!(
        message
            .starts_with("Orange has no such ticket for this account. (Orange request id sandbox-"),
        "{message}"
    );
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn roles_are_enforced_in_the_core_and_denials_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let mut admin = actor("root", 1, &[]);
    admin.is_team_admin = true;
    let noc = actor("noc-engineer", 2, &["noc"]);
    let guest = actor("guest", 3, &["visitor"]);

    let err = e
        .core
        .admin(&guest, AdminChange::Feed(None))
        .await
        .unwrap_err();
    assert_eq!(
        err.user_message(),
        "Only team administrators may change the bot's settings here."
    );
    e.core
        .admin(
            &admin,
            AdminChange::Roles(Permission::Link, BTreeSet::from(["noc".to_owned()])),
        )
        .await
        .expect("admin sets roles");

    let err = e.core.link(&guest, "1234567890", &Here).await.unwrap_err();
    assert_eq!(
        err.user_message(),
        "You need one of these roles to link tickets here: noc."
    );
    assert!(e.core.store().links().await.expect("links").is_empty());
    let (linked, home) = e
        .core
        .link(&noc, "1234567890", &Here)
        .await
        .expect("noc may link");
    assert_eq!(linked.id.as_str(), "1234567890");
    assert_eq!(home.conversation, noc.conversation);

    let audit = e.core.store().audit_log(10).await.expect("audit");
    let outcomes: Vec<_> = audit
        .iter()
        .map(|a| {
            (
                a.user_key.as_str(),
                a.action.as_str(),
                a.outcome.split(':').next().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("discord:guest", "admin", "denied"),
            ("discord:root", "admin", "ok"),
            ("discord:guest", "link", "denied"),
            ("discord:noc-engineer", "link", "ok"),
        ]
    );
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_restart_keeps_links_profiles_subscriptions_and_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admin = actor("root", 7, &[]);
    admin.is_team_admin = true;
    let created = {
        let e = env(dir.path()).await;
        e.core
            .set_profile(&admin, "Grace", "Hopper", None, Some("+33 1 23 45 67 89"))
            .await
            .expect("profile");
        let created = e
            .core
            .create_ticket(&admin, create("LD000000", "LD000001", "Packet loss"), &Here)
            .await
            .expect("create");
        let reference = created
            .ticket
            .as_ref()
            .and_then(|t| t.external_id.clone())
            .expect("the new ticket reads back with its reference");
        assert!(
            reference.starts_with("https://discord.com/channels/1/7#"),
            "by default the reference links back to the conversation: {reference}"
        );
        e.core
            .follow(&admin, "LD000000", "ongoing,restored")
            .await
            .expect("follow");
        e.core
            .admin(&admin, AdminChange::Feed(Some(Conversation::discord(55))))
            .await
            .expect("feed");
        e.sandbox.shutdown().await;
        created.id
    };
    let e = env(dir.path()).await;
    let store = e.core.store();
    assert_eq!(
        store.ticket_for(&admin.conversation).expect("link"),
        Some(created.clone())
    );
    assert!(store.snapshot(&created).expect("snapshot").is_some());
    assert_eq!(
        e.core
            .profile(&admin)
            .expect("profile")
            .map(|c| c.full_name()),
        Some("Grace Hopper".to_owned())
    );
    let subs = store.subscriptions().await.expect("subs");
    assert_eq!(subs.len(), 1);
    assert_eq!(
        subs[0].1.statuses,
        BTreeSet::from(["ongoing".to_owned(), "restored".to_owned()])
    );
    assert_eq!(
        e.core.team_settings(&admin).expect("settings").feed,
        Some(Conversation::discord(55))
    );
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_embedded_sandbox_remembers_its_tickets_across_runs_and_never_reuses_an_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ada = actor("ada", 9, &[]);
    let (first, seeded) = {
        let e = env(dir.path()).await;
        e.core
            .set_profile(&ada, "Ada", "Lovelace", Some("ada@example.net"), None)
            .await
            .expect("profile");
        let first = e
            .core
            .create_ticket(&ada, create("LD000000", "LD000001", "Link down"), &Here)
            .await
            .expect("create")
            .id;
        e.core
            .comment(&ada, None, "Rebooted the CPE")
            .await
            .expect("comment");
        let seeded = e.sandbox.control().ticket_count() - 1;
        e.sandbox.shutdown().await;
        (first, seeded)
    };
    assert!(
        dir.path().join("store.sandbox.json").is_file(),
        "the world is kept beside the store"
    );

    let e = env(dir.path()).await;
    let shown = e.core.show(&ada, None).await.expect("run 1's ticket");
    assert_eq!(
        shown.id, first,
        "the conversation's ticket, found at Orange"
    );
    let notes: Vec<&str> = shown
        .notes
        .iter()
        .flatten()
        .map(|n| n.text.as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.ends_with("Rebooted the CPE")),
        "with its notes: {notes:?}"
    );
    let second = e
        .core
        .create_ticket(&ada, create("LD000000", "LD000001", "Still down"), &Here)
        .await
        .expect("create")
        .id;
    assert!(second > first, "a new id: {second} after {first}");
    assert_eq!(e.sandbox.control().ticket_count(), seeded + 2);
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_embedded_sandbox_moves_tickets_on_its_own_clock_unless_turned_off() {
    for (every, moves) in [(None, true), (Some(0), false)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::defaults().expect("defaults");
        settings.store.path = dir.path().join("store");
        if let Some(every) = every {
            settings.sandbox.embedded_auto_advance_secs = every;
        }
        let period = settings.sandbox.embedded_auto_advance_secs.max(20);
        let (core, sandbox) = build_core(&settings).await.expect("core");
        let sandbox = sandbox.expect("the embedded sandbox");
        let ada = actor("ada", 9, &[]);
        core.set_profile(&ada, "Ada", "Lovelace", Some("ada@example.net"), None)
            .await
            .expect("profile");
        let id = core
            .create_ticket(&ada, create("LD000000", "LD000001", "Link down"), &Here)
            .await
            .expect("create")
            .id;
        // The sandbox's clock is real time plus an offset: moving it stands in for waiting.
        sandbox
            .control()
            .advance_clock(std::time::Duration::from_secs(period));
        let shown = core.show(&ada, None).await.expect("show");
        assert_eq!(shown.id, id);
        let status = shown.status;
        assert_eq!(
            status != orange_ticket_bot::domain::Status::Submitted,
            moves,
            "every {every:?}: {status:?}"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_comment_orange_answers_slowly_is_added_once_not_left_unknown() {
    // Commands are deferred, so a write may take longer than a read: a comment whose answer takes
    // 3 s (beyond the 2.5 s interactive deadline) is still added, once, and reported added.
    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let ada = with_profile(&e, actor("ada", 100, &[])).await;
    let created = e
        .core
        .create_ticket(&ada, create("LD000000", "LD000001", "slow comments"), &Here)
        .await
        .expect("created");
    let ticket = created.id;
    let mut faults = e.sandbox.control().faults();
    faults.latency_ms_by_op.insert(Op::AddComment, 3000);
    e.sandbox.control().set_faults(faults);

    let id = e
        .core
        .comment(&ada, Some(ticket.as_str()), "still waiting for the splice")
        .await
        .expect("added despite the slow answer");
    assert_eq!(id, ticket);
    let counters = e.sandbox.control().counters();
    assert_eq!(counters.calls(Op::AddComment), 1, "sent once");
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn send_to_orange_sends_only_a_claimed_confirmation_and_only_once() {
    use orange_ticket_bot::core::{CoreError, MessageToSend};

    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let ada = with_profile(&e, actor("ada", 100, &[])).await;
    let ticket = e
        .core
        .create_ticket(&ada, create("LD000000", "LD000001", "two-way notes"), &Here)
        .await
        .expect("created")
        .id;
    let message = MessageToSend {
        author: "Bob".into(),
        text: "Fibre spliced at 11:05".into(),
        link: "https://discord.com/channels/1/100/7".into(),
    };
    let comments = || e.sandbox.control().counters().calls(Op::AddComment);

    // Prepared: nothing reaches Orange. Two claims race: one wins.
    let preview = e.core.prepare_send(&ada, &message).await.expect("preview");
    assert_eq!(
        preview.comment,
        "[ada via discord] From Bob on Discord (https://discord.com/channels/1/100/7):\nFibre spliced at 11:05"
    );
    let (a, b) = tokio::join!(
        e.core.claim_send(&ada, preview.number),
        e.core.claim_send(&ada, preview.number)
    );
    assert_eq!(comments(), 0, "a claim sends nothing");
    let claim = match (a, b) {
        (Ok(c), Err(_)) | (Err(_), Ok(c)) => c,
        (a, b) => panic!("exactly one claim wins: {a:?} / {b:?}"),
    };
    let done = e.core.send_claimed(&ada, claim).await.expect("sent");
    assert_eq!(done.ticket, ticket);
    assert_eq!(comments(), 1);
    let notes: Vec<String> = e
        .sandbox
        .control()
        .ticket(&ticket)
        .and_then(|t| t.notes)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.text)
        .collect();
    assert_eq!(notes.iter().filter(|n| **n == preview.comment).count(), 1);
    assert!(e.core.claim_send(&ada, preview.number).await.is_err());
    assert!(e.core.cancel_send(&ada, preview.number).await.is_err());

    // Someone else cannot confirm Ada's; a refused write leaves it to be clicked again.
    let again = e.core.prepare_send(&ada, &message).await.expect("preview");
    let bob = actor("bob", 100, &[]);
    assert!(matches!(
        e.core.claim_send(&bob, again.number).await,
        Err(CoreError::Denied(_))
    ));
    let mut faults = e.sandbox.control().faults();
    faults.fail_next.push((Op::AddComment, 400));
    e.sandbox.control().set_faults(faults);
    let claim = e.core.claim_send(&ada, again.number).await.expect("claim");
    let not_sent = e.core.send_claimed(&ada, claim).await.expect_err("refused");
    assert_eq!(
        not_sent.retry.as_ref(),
        Some(&again),
        "the same confirmation"
    );
    let claim = e.core.claim_send(&ada, again.number).await.expect("again");
    e.core.send_claimed(&ada, claim).await.expect("sent");
    assert_eq!(comments(), 3, "one refused, two added");
    e.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_send_cut_short_by_a_stop_is_given_up_as_unknown_not_left_sending_for_good() {
    use orange_ticket_bot::core::{CoreError, MessageToSend};

    let dir = tempfile::tempdir().expect("tempdir");
    let e = env(dir.path()).await;
    let ada = with_profile(&e, actor("ada", 100, &[])).await;
    let ticket = e
        .core
        .create_ticket(&ada, create("LD000000", "LD000001", "cut short"), &Here)
        .await
        .expect("created")
        .id;
    let message = MessageToSend {
        author: "Bob".into(),
        text: "Power restored".into(),
        link: "https://discord.com/channels/1/100/8".into(),
    };
    let preview = e.core.prepare_send(&ada, &message).await.expect("preview");
    // Claimed, then the bot stops before sending (the claim is all that reached the disk).
    e.core
        .claim_send(&ada, preview.number)
        .await
        .expect("claimed");
    let refused = |r: Result<_, CoreError>| match r {
        Err(e) => e.user_message(),
        Ok(_) => panic!("claimed twice"),
    };
    assert_eq!(
        refused(e.core.claim_send(&ada, preview.number).await),
        format!("This message is being sent to ticket {ticket} already.")
    );
    // Long past any write deadline it is given up: maybe sent, maybe not; never sent again.
    e.core
        .clock()
        .advance(std::time::Duration::from_secs(3_600));
    let unknown = format!(
        "It is not known whether this reached ticket {ticket}: check it with `/ticket show` before sending it again."
    );
    assert_eq!(
        refused(e.core.claim_send(&ada, preview.number).await),
        unknown
    );
    assert_eq!(
        refused(e.core.claim_send(&ada, preview.number).await),
        unknown
    );
    assert_eq!(
        e.sandbox.control().counters().calls(Op::AddComment),
        0,
        "nothing was sent"
    );
}
