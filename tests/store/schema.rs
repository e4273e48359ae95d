//! A crash while the first open initialises the database must not make the next open call it
//! foreign.

use std::path::Path;

use orange_ticket_bot::store::Store;

/// A sled database at `dir` holding `records` in its default tree, written by someone else.
fn sled_holding(dir: &Path, records: &[(&[u8], &[u8])]) {
    let db = sled::open(dir).expect("opens");
    for (key, value) in records {
        db.insert(key, *value).expect("write");
    }
    db.flush().expect("flush");
}

/// What an older build could leave when it crashed between writing the application marker and
/// the schema version (two separate writes, sled's background flush persisting the first).
#[test]
fn a_first_open_cut_short_is_finished_not_called_foreign() {
    let dir = tempfile::tempdir().expect("tempdir");
    sled_holding(dir.path(), &[(b"application", b"orange-ticket-bot")]);
    let opened = Store::open(dir.path());
    assert!(
        opened.is_ok(),
        "{}",
        opened.err().map(|e| e.to_string()).unwrap_or_default()
    );
    drop(opened);
    assert!(Store::open(dir.path()).is_ok(), "and stays ours");
}

/// Someone else's database that happens to hold the same marker, but other data too, is not
/// taken over.
#[test]
fn a_marker_beside_other_data_is_still_foreign() {
    let dir = tempfile::tempdir().expect("tempdir");
    sled_holding(
        dir.path(),
        &[
            (b"application", b"orange-ticket-bot"),
            (b"user:1", b"alice"),
        ],
    );
    let err = Store::open(dir.path()).err().map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("is not this bot's")),
        "{err:?}"
    );
}
