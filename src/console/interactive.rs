//! The console on a terminal: rustyline reads lines on a thread of its own (it blocks) and hands
//! them over one at a time. Ctrl-C clears the line being typed, Ctrl-D on an empty line or `/quit`
//! leaves, as in a shell. Each accepted line is appended to the history file at once, so a crash
//! loses none of it; the file is created readable by its owner only (it holds what was typed,
//! contacts included).

use std::path::{Path, PathBuf};

use rustyline::error::ReadlineError;

use super::{Console, Summary};

/// What the banner says before the first prompt.
const BANNER: &str = "Type /help for the commands; Ctrl-C clears the line; /quit or Ctrl-D leaves.";

const PROMPT: &str = "ticket> ";

impl Console {
    /// Runs the session on this terminal until Ctrl-D or `/quit`.
    pub(super) async fn run_interactive(&self) -> std::io::Result<Summary> {
        println!("{BANNER}");
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1);
        let (ack_tx, ack_rx) = std::sync::mpsc::channel::<()>();
        let history = self.core.settings().store.path.with_extension("history");
        let editor = std::thread::spawn(move || -> Result<(), ReadlineError> {
            let mut rl = rustyline::DefaultEditor::new()?;
            let history = History::open(history);
            if let Some(path) = &history.path {
                let _ = rl.load_history(path);
            }
            loop {
                match rl.readline(PROMPT) {
                    Ok(line) => {
                        let _ = rl.add_history_entry(line.as_str());
                        history.append(&mut rl);
                        if tx.blocking_send(line).is_err() || ack_rx.recv().is_err() {
                            return Ok(());
                        }
                    }
                    // rustyline has dropped the line; the loop shows a fresh prompt.
                    Err(ReadlineError::Interrupted) => continue,
                    Err(ReadlineError::Eof) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        });
        let mut summary = Summary {
            interactive: true,
            ..Summary::default()
        };
        while let Some(line) = rx.recv().await {
            summary.lines += 1;
            match self.execute(&line).await {
                Ok(Some(text)) => print!("{text}"),
                Ok(None) => break,
                Err(message) => {
                    summary.failed += 1;
                    println!("error: {message}");
                }
            }
            print!("{}", self.news());
            if ack_tx.send(()).is_err() {
                break;
            }
        }
        drop(ack_tx);
        drop(rx);
        if let Ok(Err(e)) = editor.join() {
            eprintln!("line editor failed: {e}");
        }
        Ok(summary)
    }
}

/// The history file, once it is known to be owner-only; `None` if it could not be made so (the
/// session then keeps its history in memory, and says so in the logs).
struct History {
    path: Option<PathBuf>,
}

impl History {
    fn open(path: PathBuf) -> Self {
        match create_owner_only(&path) {
            Ok(()) => History { path: Some(path) },
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "console history not kept on disk");
                History { path: None }
            }
        }
    }

    /// Appends the lines accepted since the last call.
    fn append(&self, rl: &mut rustyline::DefaultEditor) {
        if let Some(path) = &self.path
            && let Err(e) = rl.append_history(path)
        {
            tracing::warn!(error = %e, "console history line not written");
        }
    }
}

/// Creates `path` mode 0600 if missing (rustyline then writes into it and keeps the mode), and
/// narrows it to 0600 if an older version left it wider.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    options.open(path)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_history_file_is_created_and_narrowed_to_its_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("console.history");
        create_owner_only(&path).expect("created");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("widen");
        create_owner_only(&path).expect("narrowed");
        assert_eq!(mode(&path), 0o600);
    }
}
