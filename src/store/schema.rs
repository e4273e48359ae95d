//! Opening the database: waiting for a lock a restart still holds, and the schema version with
//! the application marker that tell this bot's database from anyone else's.

use std::path::Path;

use super::StoreError;

/// The layout this build reads and writes. Bump it with a migration when a tree's format changes.
pub const SCHEMA_VERSION: u32 = 1;
pub(super) const SCHEMA_KEY: &[u8] = b"schema_version";
const APP_KEY: &[u8] = b"application";
const APP_NAME: &[u8] = b"orange-ticket-bot";

/// Opens the database, waiting up to [`LOCK_WAIT`] for its file lock: a store closed a moment
/// ago (a restart) is still released by sled's background flusher for a little while.
pub(super) fn open_db(path: &Path) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new().path(path).open() {
            Err(sled::Error::Io(e)) if is_held_lock(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Whether opening failed because another handle holds the directory's lock. sled 0.34 reports
/// that as `ErrorKind::Other` with the OS error (`WouldBlock`) only in the text.
fn is_held_lock(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// How long opening waits for another handle on the same directory to let go.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Checks (or, on a new database, writes) the schema version and the application marker.
///
/// Both are written in one batch, before any tree is opened: a crash leaves either nothing (the
/// next open starts afresh) or both. A marker alone, in an otherwise empty database, is what an
/// older build left when it crashed between its two separate writes: that initialisation is
/// finished, not called foreign.
pub(super) fn check_schema(db: &sled::Db, path: &Path) -> Result<(), StoreError> {
    let foreign = || StoreError::Foreign {
        path: path.to_path_buf(),
    };
    match (db.get(APP_KEY)?, db.get(SCHEMA_KEY)?) {
        (None, None) => {
            if !db.is_empty() || db.tree_names().len() > 1 {
                return Err(foreign());
            }
            initialise(db)
        }
        (Some(app), None) if app.as_ref() == APP_NAME => {
            if db.len() > 1 || db.tree_names().len() > 1 {
                return Err(foreign());
            }
            initialise(db)
        }
        (Some(app), Some(version)) if app.as_ref() == APP_NAME => {
            let found = <[u8; 4]>::try_from(version.as_ref())
                .map(u32::from_be_bytes)
                .map_err(|_| foreign())?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::Newer {
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(())
        }
        _ => Err(foreign()),
    }
}

/// Writes the application marker and the schema version, in one batch, and flushes.
fn initialise(db: &sled::Db) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    batch.insert(APP_KEY, APP_NAME);
    batch.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes());
    db.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("opens");
            store
                .db
                .insert(SCHEMA_KEY, &(SCHEMA_VERSION + 1).to_be_bytes())
                .expect("write");
            store.flush().await.expect("flush");
        }
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("written by a newer version (schema 2"),
            "{err}"
        );
    }

    #[test]
    fn opening_waits_for_a_handle_that_is_about_to_let_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = sled::open(dir.path()).expect("opens");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let opened = Store::open(dir.path());
        release.join().expect("released");
        assert!(opened.is_ok(), "{:?}", opened.err());
    }

    #[tokio::test]
    async fn a_sled_database_of_another_program_is_foreign() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let other = sled::open(dir.path()).expect("opens");
            other.insert(b"user:1", b"alice").expect("write");
            other.flush().expect("flush");
        }
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not this bot's"), "{err}");
    }
}
