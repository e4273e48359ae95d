//! What only matters while a ticket is followed and open is forgotten once it is not, so the
//! trees do not grow for ever.

use orange_ticket_bot::domain::{Conversation, Opener, Status, TeamId, Ticket};
use orange_ticket_bot::store::Store;

use crate::tid;

#[tokio::test]
async fn markers_and_openers_of_final_or_unfollowed_tickets_are_forgotten_and_the_rest_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("store");
    let (open, closed, unlinked) = (tid(1), tid(2), tid(3));
    for (n, id, status) in [
        (1, &open, Status::Ongoing),
        (2, &closed, Status::Closed),
        (3, &unlinked, Status::Ongoing),
    ] {
        store
            .link(&Conversation::discord(n), id)
            .await
            .expect("link");
        store
            .put_snapshot(&Ticket::new(id.clone(), status))
            .await
            .expect("snapshot");
        for prefix in ["nudged:", "asked:"] {
            store
                .set_watcher_value(&format!("{prefix}{id}"), "1")
                .await
                .expect("marker");
        }
        let opener = Opener {
            user_key: "discord:42".into(),
            team: TeamId("discord:7".into()),
        };
        store.set_opener(id, &opener).await.expect("opener");
    }
    store
        .unlink(&Conversation::discord(3))
        .await
        .expect("unlinked");

    let gone = store
        .forget_done(&["nudged:", "asked:"])
        .await
        .expect("forgotten");
    assert_eq!(
        gone,
        2 + 2 + 1,
        "two markers each of closed and unlinked, closed's opener"
    );
    let marker = |prefix: &str, id| {
        store
            .watcher_value(&format!("{prefix}{id}"))
            .expect("read")
            .is_some()
    };
    assert!(marker("nudged:", &open) && marker("asked:", &open));
    assert!(!marker("nudged:", &closed) && !marker("asked:", &closed));
    assert!(!marker("nudged:", &unlinked) && !marker("asked:", &unlinked));
    assert!(store.opener(&open).expect("read").is_some());
    assert!(store.opener(&closed).expect("read").is_none());
    assert!(
        store.opener(&unlinked).expect("read").is_some(),
        "still open: it may be restored or closed later"
    );
    assert_eq!(
        store
            .forget_done(&["nudged:", "asked:"])
            .await
            .expect("again"),
        0
    );
}
