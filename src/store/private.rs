//! The store is its owner's alone: its directory is created (and kept) `0700` and the files sled
//! wrote in it are narrowed to `0600` at each open, whatever the process's umask. Files sled
//! creates later sit inside the private directory. Directories above the store that already
//! exist are left as they are; missing ones are created `0700`.

use std::path::Path;

/// Creates the store's directory, and any missing parent, readable by the owner only; narrows
/// the store's directory if it already existed.
#[cfg(unix)]
pub(super) fn create_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Narrows everything under the store's directory: directories to `0700`, files to `0600`.
#[cfg(unix)]
pub(super) fn narrow_contents(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let mode = if kind.is_dir() {
            narrow_contents(&entry.path())?;
            0o700
        } else if kind.is_file() {
            0o600
        } else {
            continue;
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn create_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(not(unix))]
pub(super) fn narrow_contents(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn missing_directories_are_created_private_and_an_open_one_is_narrowed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("data/bot.sled");
        create_dir(&store).expect("created");
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        assert_eq!(mode(&store), 0o700);

        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).expect("widen");
        std::fs::create_dir(store.join("blobs")).expect("subdir");
        std::fs::write(store.join("db"), b"x").expect("file");
        std::fs::set_permissions(store.join("db"), std::fs::Permissions::from_mode(0o644))
            .expect("widen");
        create_dir(&store).expect("again");
        narrow_contents(&store).expect("narrowed");
        assert_eq!(mode(&store), 0o700);
        assert_eq!(mode(&store.join("blobs")), 0o700);
        assert_eq!(mode(&store.join("db")), 0o600);
    }
}
