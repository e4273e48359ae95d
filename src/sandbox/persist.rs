//! The sandbox's memory, when it is given a file: the world (account, tickets with their notes,
//! the next id, the clock and the RNG states) saved as JSON after every change and read back at
//! start, so a restarted sandbox answers for every ticket it opened and never reuses an id.
//!
//! Saves are atomic: a temporary file in the same directory, synced, then renamed over the old
//! one, so a crash leaves the previous world or the new one, never half of one. A file that exists
//! but cannot be read is an error naming it; the sandbox never reseeds over it. Faults, counters
//! and tokens are not saved: they belong to a run, not to the account. The file is its owner's
//! alone (`0600`, a missing directory `0700`), whatever the umask: it holds the account's tickets.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::World;
use crate::domain::{Service, Ticket};

/// Version of the file's layout; a file of another version is refused, not guessed at.
pub(crate) const FORMAT: u32 = 1;

/// Why the world could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read the sandbox's saved world {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the sandbox's saved world {} is unreadable ({reason}); repair it, or move it away to start again from the seed",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot save the sandbox's world to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The world as it is written down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedWorld {
    pub format: u32,
    /// The seed the world was generated from (a changed `sandbox.seed` does not regenerate it).
    pub seed: u64,
    pub services: Vec<Service>,
    pub tickets: Vec<Ticket>,
    pub next_id: u64,
    /// States of the id-gap and lifecycle RNGs, so a restart continues the same sequences.
    pub id_rng: u64,
    pub lifecycle_rng: u64,
    /// Sandbox time minus real time, in milliseconds.
    pub clock_offset_ms: i64,
    /// Sandbox time of the last automatic lifecycle step: the steps due while the sandbox was
    /// stopped run when it starts again, as if it had kept running.
    pub last_auto_step: DateTime<Utc>,
}

/// The file a world lives in, and the revision of the world last written to it.
#[derive(Debug)]
pub(crate) struct WorldFile {
    path: PathBuf,
    saved_revision: u64,
}

impl WorldFile {
    /// The world saved at `path`, or, when there is no file yet, the world of `seed`, written
    /// there at once (so a directory that cannot be written is a start-up error).
    pub fn open(path: &Path, seed: u64) -> Result<(World, WorldFile), PersistError> {
        let world = match std::fs::read(path) {
            Ok(raw) => {
                let world = parse(&raw).map_err(|reason| PersistError::Corrupt {
                    path: path.to_owned(),
                    reason,
                })?;
                tracing::info!(path = %path.display(), tickets = world.ticket_count(), "sandbox world loaded");
                Some(world)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(PersistError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let loaded = world.is_some();
        let world = world.unwrap_or_else(|| World::seeded(seed));
        let file = WorldFile {
            path: path.to_owned(),
            saved_revision: world.revision(),
        };
        if world.seed() != seed {
            tracing::warn!(
                path = %path.display(),
                saved = world.seed(),
                configured = seed,
                "the saved sandbox world was generated from another seed; keeping it"
            );
        }
        if !loaded {
            file.write(&world)?;
        }
        Ok((world, file))
    }

    /// Writes `world` unless this revision is already on disk.
    pub fn save_if_changed(&mut self, world: &World) -> Result<(), PersistError> {
        if world.revision() == self.saved_revision {
            return Ok(());
        }
        self.write(world)?;
        self.saved_revision = world.revision();
        Ok(())
    }

    fn write(&self, world: &World) -> Result<(), PersistError> {
        let saved = world.saved();
        let write_err = |source| PersistError::Write {
            path: self.path.clone(),
            source,
        };
        // Pretty: the file is also for a person wondering what the sandbox holds.
        let json = serde_json::to_vec_pretty(&saved).map_err(|e| write_err(e.into()))?;
        write_atomically(&self.path, &json).map_err(write_err)
    }
}

fn parse(raw: &[u8]) -> Result<World, String> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let saved: SavedWorld = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        format!("at `{path}`: {}", e.into_inner())
    })?;
    if saved.format != FORMAT {
        return Err(format!(
            "format {} where this version reads format {FORMAT}",
            saved.format
        ));
    }
    World::from_saved(saved)
}

/// Replaces `path` with `bytes` so that a reader (or a crash) sees the old file or the new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    private_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sandbox".into());
    // One writer per file: saves are made under the sandbox's lock, and the bot's store lock
    // keeps a second bot off the same data directory. The pid keeps apart other processes.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` and its missing parents, readable by the owner only (existing ones are left).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates (or truncates) `path` for writing, readable by the owner only.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // A leftover file of the same name keeps its mode through `open`: narrow it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    #[test]
    fn a_world_survives_a_save_and_a_load_exactly() {
        let dir = temp_dir();
        let path = dir.path().join("nested").join("world.json");
        let (mut world, mut file) = WorldFile::open(&path, 5).expect("seeded and written");
        assert!(path.is_file(), "a new world is written at once");
        world.advance(3);
        file.save_if_changed(&world).expect("saved");
        let (again, _) = WorldFile::open(&path, 5).expect("loaded");
        assert_eq!(again.saved(), world.saved());
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_is_left_alone() {
        let dir = temp_dir();
        let path = dir.path().join("world.json");
        for (content, says) in [
            (&b"{\"format\": 1, \"seed\": "[..], "line 1"),
            (&b"{\"format\": 1, \"seed\": \"x\"}"[..], "at `seed`"),
            (&b"{\"format\": 99}"[..], "missing field"),
            (&b"\xff\xfe"[..], "line 1"),
        ] {
            std::fs::write(&path, content).expect("written");
            let err = WorldFile::open(&path, 5).expect_err("refused").to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains(says), "{err}");
            assert!(err.contains("move it away"), "{err}");
            assert_eq!(
                std::fs::read(&path).expect("still there"),
                content,
                "never reseeded over"
            );
        }
    }

    #[test]
    fn another_format_is_refused() {
        let dir = temp_dir();
        let path = dir.path().join("world.json");
        let (world, _) = WorldFile::open(&path, 5).expect("written");
        let mut saved = world.saved();
        saved.format = FORMAT + 1;
        std::fs::write(&path, serde_json::to_vec(&saved).expect("json")).expect("written");
        let err = WorldFile::open(&path, 5).expect_err("refused").to_string();
        assert!(
            err.contains("format 2 where this version reads format 1"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_path_is_a_read_error() {
        let dir = temp_dir();
        // A directory where the file should be.
        let err = WorldFile::open(dir.path(), 5).expect_err("refused");
        assert!(matches!(err, PersistError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }
}
