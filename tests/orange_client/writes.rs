//! Writes are never done twice: ambiguous creates and comments are reconciled, not replayed.

use super::*;

#[tokio::test]
async fn a_create_that_landed_despite_an_error_is_found_not_duplicated() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::CreateTicket, 503)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = client
        .create_ticket(&new_ticket("ref-landed-1"), long())
        .await
        .expect("reconciled");
    assert_eq!(
        env.sandbox.control().ticket_count(),
        before + 1,
        "no duplicate"
    );
    assert_eq!(env.calls(Op::CreateTicket), 1, "not sent twice");
    assert!(env.calls(Op::Search) >= 1, "reconciled by search");
    let t = client.get_ticket(&id, long()).await.expect("get");
    assert_eq!(t.external_id.as_deref(), Some("ref-landed-1"));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_that_did_not_land_is_sent_again_once() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 500)],
        ..FaultConfig::default()
    });
    let client = env.client();
    client
        .create_ticket(&new_ticket("ref-retried-1"), long())
        .await
        .expect("created on the second try");
    assert_eq!(env.sandbox.control().ticket_count(), before + 1);
    assert_eq!(env.calls(Op::CreateTicket), 2);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_is_retried_after_throttling_which_never_reaches_orange() {
    let env = Env::start().await;
    let before = env.sandbox.control().ticket_count();
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 429)],
        ..FaultConfig::default()
    });
    env.client()
        .create_ticket(&new_ticket("ref-throttled"), long())
        .await
        .expect("created after the 429");
    assert_eq!(env.sandbox.control().ticket_count(), before + 1);
    assert_eq!(env.calls(Op::CreateTicket), 2);
    assert_eq!(env.calls(Op::Search), 0, "a 429 needs no reconciliation");
    env.sandbox.shutdown().await;
}

fn comment(text: &str) -> NewComment {
    NewComment {
        service: sn("LD000000"),
        date: Utc::now(),
        text: text.into(),
    }
}

async fn copies_of(env: &Env, id: &TicketId, text: &str) -> usize {
    let t = env.client().get_ticket(id, long()).await.expect("get");
    t.notes
        .unwrap_or_default()
        .iter()
        .filter(|n| n.text == text)
        .count()
}

#[tokio::test]
async fn a_comment_that_landed_despite_an_error_is_found_and_reported_added() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::AddComment, 503)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    client
        .add_comment(&id, &comment("— Ada: only once"), long())
        .await
        .expect("reconciled: the comment is there");
    assert_eq!(env.calls(Op::AddComment), 1, "never replayed");
    assert!(
        env.calls(Op::GetTicket) >= 1,
        "reconciled by reading the ticket"
    );
    assert_eq!(copies_of(&env, &id, "— Ada: only once").await, 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_comment_that_did_not_land_is_reported_not_added_and_not_resent() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::AddComment, 500)],
        ..FaultConfig::default()
    });
    let client = env.client();
    let id = TicketId::parse("1234567890").expect("id");
    let err = client
        .add_comment(&id, &comment("— Ada: lost"), long())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::NotApplied {
                op: Op::AddComment,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.user_message();
    assert!(
        message.contains("not added") && message.contains("try again"),
        "{message}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the ambiguous failure is kept as the source"
    );
    assert_eq!(env.calls(Op::AddComment), 1, "not resent by the client");
    assert_eq!(copies_of(&env, &id, "— Ada: lost").await, 0);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_ambiguous_comment_with_no_time_left_is_unknown_and_says_check_the_ticket() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::AddComment, 500)],
        ..FaultConfig::default()
    });
    let id = TicketId::parse("1234567890").expect("id");
    let err = env
        .client()
        .add_comment(
            &id,
            &comment("— Ada: unsure"),
            Deadline::after(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OrangeError::Uncertain {
                op: Op::AddComment,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.user_message();
    assert!(
        message.contains("check the ticket before retrying"),
        "{message}"
    );
    assert_eq!(env.calls(Op::AddComment), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_ambiguous_create_with_no_time_left_is_uncertain_and_not_resent() {
    let env = Env::start().await;
    env.faults(FaultConfig {
        fail_next: vec![(Op::CreateTicket, 500)],
        ..FaultConfig::default()
    });
    let before = env.sandbox.control().ticket_count();
    let err = env
        .client()
        .create_ticket(
            &new_ticket("ref-uncertain"),
            Deadline::after(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OrangeError::Uncertain { .. }), "{err:?}");
    assert!(
        err.user_message()
            .contains("check `/ticket search` before retrying")
    );
    assert_eq!(env.calls(Op::CreateTicket), 1, "never resent while unsure");
    assert_eq!(env.sandbox.control().ticket_count(), before);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn reconciliation_does_not_mistake_an_older_ticket_with_the_same_reference() {
    let env = Env::start().await;
    let client = env.client();
    let older = client
        .create_ticket(&new_ticket("PO-1"), long())
        .await
        .expect("first ticket");
    env.faults(FaultConfig {
        fail_after_processing: vec![(Op::CreateTicket, 503)],
        ..FaultConfig::default()
    });
    let newer = client
        .create_ticket(
            &NewTicket {
                description: "Second incident, same purchase order".into(),
                ..new_ticket("PO-1")
            },
            long(),
        )
        .await
        .expect("reconciled");
    assert_ne!(
        newer, older,
        "the older ticket with the same reference is not the new one"
    );
    assert_eq!(env.calls(Op::CreateTicket), 2);
    env.sandbox.shutdown().await;
}
