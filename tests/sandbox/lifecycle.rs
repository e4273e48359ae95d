//! The lifecycle, by hand and on the sandbox clock, and the control API that drives it.

use std::time::Duration;

use orange_ticket_bot::domain::{NoteKind, Status, Ticket};
use orange_ticket_bot::orange::convert::parse_ticket_body;
use serde_json::json;

use crate::harness::{Env, options};

#[tokio::test]
async fn the_control_api_sets_statuses_and_adds_notes() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let a = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/status"),
            json!({"status": "restored", "reason": "Fibre spliced"}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let a = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/notes"),
            json!({"type": "Inward customer comments", "text": "Customer confirms"}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);

    let t = parse_ticket_body(&env.get(&format!("/troubleTicket/{id}")).await.body).expect("ok");
    assert_eq!(t.status, Status::Restored);
    assert_eq!(t.status_change.reason.as_deref(), Some("Fibre spliced"));
    assert!(t.status_change.date.is_some());
    assert!(
        t.resolution_date.is_some(),
        "restored sets the resolution date"
    );
    let notes = t.notes.expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NoteKind::InwardCustomerComments && n.text == "Customer confirms")
    );
    assert!(
        notes.iter().any(|n| n.text.contains("Fibre spliced")),
        "Orange notes the change"
    );

    let unknown = env
        .control_post(
            "/_sandbox/tickets/9999999999/status",
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let bad = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/status"),
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn advancing_moves_every_open_ticket_along_the_lifecycle_and_never_a_final_one() {
    let env = Env::start().await;
    let c = env.control();
    let before: Vec<Ticket> = env
        .all_tickets()
        .await
        .iter()
        .filter_map(|t| c.ticket(&t.id))
        .collect();
    let allowed = |from: &Status, to: &Status| {
        use Status::*;
        matches!(
            (from, to),
            (Submitted, InQualification | Errored)
                | (InQualification, Ongoing | Errored)
                | (Ongoing, Frozen | Restored | Repaired)
                | (Frozen, Ongoing)
                | (Restored, Repaired | Closed | Ongoing)
                | (Repaired, Closed | Ongoing)
        )
    };
    let a = env
        .control_post("/_sandbox/advance", json!({"steps": 1}))
        .await;
    assert_eq!(a.status, 204);
    for old in &before {
        let new = c.ticket(&old.id).expect("still there");
        if old.status.is_final() {
            assert_eq!(&new, old, "a final ticket does not change at all");
        } else {
            assert!(
                allowed(&old.status, &new.status),
                "{:?} -> {:?}",
                old.status,
                new.status
            );
            assert!(new.status_change.date > old.status_change.date);
            let (was, now) = (
                old.notes.as_ref().map_or(0, Vec::len),
                new.notes.as_ref().map_or(0, Vec::len),
            );
            assert!(now > was, "a note comes with the change");
            if matches!(new.status, Status::Restored | Status::Repaired) {
                assert!(new.resolution_date.is_some());
            }
        }
    }
    c.advance(30);
    for t in env.all_tickets().await {
        assert!(
            t.status.is_final(),
            "30 more steps end every lifecycle: {:?}",
            t.status
        );
    }
    let finals = env.all_tickets().await;
    c.advance(3);
    assert_eq!(env.all_tickets().await, finals, "final tickets never move");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn auto_advance_follows_the_sandbox_clock() {
    let mut opts = options();
    opts.auto_advance = Some(Duration::from_secs(3600));
    let env = Env::with(opts).await;
    let id = env.create_ok().await;
    let c = env.control();
    assert_eq!(c.ticket(&id).map(|t| t.status), Some(Status::Submitted));
    let a = env
        .control_post("/_sandbox/advance", json!({"seconds": 3600}))
        .await;
    assert_eq!(a.status, 204);
    let status = c.ticket(&id).map(|t| t.status).expect("ticket");
    assert!(
        matches!(status, Status::InQualification | Status::Errored),
        "{status:?}"
    );
    let moved = c.ticket(&id);
    c.advance_clock(Duration::from_secs(1800));
    assert_eq!(c.ticket(&id), moved, "half a period is not a step");
    env.sandbox.shutdown().await;
}
