//! The terminal transport (a Hubot-style shell adapter): each line is a slash command as text, run
//! through the same core use cases as Discord, rendered as text. One session is one conversation.
//!
//! Interactive on a terminal (line editing and history via rustyline); from a pipe it runs the
//! script and reports whether every line succeeded.

mod notifier;
pub mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::core::{Core, Here};
use crate::domain::{Actor, Conversation, TeamId};
use crate::render::{self, text};
use parse::Line;

pub use notifier::ConsoleNotifier;

/// A console session: the core plus who is typing and where, and the watcher's news for it.
#[derive(Debug, Clone)]
pub struct Console {
    core: Core,
    actor: Actor,
    notices: Arc<Mutex<Option<UnboundedReceiver<String>>>>,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub lines: usize,
    pub failed: usize,
}

impl Console {
    /// A new session, as the local user. The console operator owns the local "team".
    pub fn new(core: Core, user: &str, session: &str) -> Self {
        let actor = Actor {
            user_key: format!("console:{user}"),
            display_name: user.to_owned(),
            team: TeamId("console".into()),
            conversation: Conversation::console(session),
            roles: BTreeSet::new(),
            is_team_admin: true,
            link: None,
        };
        Console {
            core,
            actor,
            notices: Arc::new(Mutex::new(None)),
        }
    }

    /// Shows the watcher's news (from a [`ConsoleNotifier`]) between commands.
    pub fn with_notices(self, notices: UnboundedReceiver<String>) -> Self {
        *self.notices.lock().unwrap_or_else(|p| p.into_inner()) = Some(notices);
        self
    }

    /// The news that arrived since the last look.
    pub fn news(&self) -> String {
        let mut guard = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        if let Some(rx) = guard.as_mut() {
            while let Ok(text) = rx.try_recv() {
                out.push_str(&text);
            }
        }
        out
    }

    /// Waits `secs` seconds; returns the news that came meanwhile.
    async fn wait(&self, secs: u64) -> String {
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut out = String::new();
        while tokio::time::Instant::now() < end {
            tokio::time::sleep(
                std::time::Duration::from_millis(200).min(end - tokio::time::Instant::now()),
            )
            .await;
            out.push_str(&self.news());
        }
        out
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Runs one line. `Ok(None)` means "quit".
    pub async fn execute(&self, line: &str) -> Result<Option<String>, String> {
        match parse::parse(line)? {
            Line::Empty => Ok(Some(String::new())),
            Line::Help => Ok(Some(parse::help())),
            Line::Quit => Ok(None),
            Line::Wait(secs) => Ok(Some(self.wait(secs).await)),
            Line::Ticket { sub, options } => self.ticket(sub, options).await.map(Some),
        }
    }

    async fn ticket(&self, sub: &str, options: BTreeMap<String, String>) -> Result<String, String> {
        let command = parse::command(sub, options, &self.actor.conversation)?;
        let outcome = self
            .core
            .execute(&self.actor, command, &Here)
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "console command failed");
                e.user_message()
            })?;
        Ok(text::reply(&render::reply(&outcome, Utc::now())))
    }

    /// Runs the session on stdin/stdout until end of input or `/quit`.
    pub async fn run_stdio(&self) -> std::io::Result<Summary> {
        if std::io::stdin().is_terminal() {
            self.run_interactive().await
        } else {
            self.run_script(
                tokio::io::BufReader::new(tokio::io::stdin()),
                &mut std::io::stdout(),
            )
            .await
        }
    }

    /// Runs a script: every line is echoed with a prompt, then its output; failures are counted.
    pub async fn run_script<R, W>(&self, input: R, out: &mut W) -> std::io::Result<Summary>
    where
        R: tokio::io::AsyncBufRead + Unpin,
        W: std::io::Write,
    {
        let mut lines = input.lines();
        let mut summary = Summary::default();
        while let Some(line) = lines.next_line().await? {
            if parse::parse(&line).is_ok_and(|l| l == Line::Empty) {
                continue;
            }
            summary.lines += 1;
            writeln!(out, "> {line}")?;
            match self.execute(&line).await {
                Ok(Some(text)) => write!(out, "{text}")?,
                Ok(None) => break,
                Err(message) => {
                    summary.failed += 1;
                    writeln!(out, "error: {message}")?;
                }
            }
            write!(out, "{}", self.news())?;
            out.flush()?;
        }
        write!(out, "{}", self.news())?;
        Ok(summary)
    }

    async fn run_interactive(&self) -> std::io::Result<Summary> {
        println!("Type /help for the commands, /quit to leave.");
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1);
        let (ack_tx, ack_rx) = std::sync::mpsc::channel::<()>();
        // History holds what was typed (contacts included): it lives beside the store, which is
        // the user's own data, and is readable by its owner only.
        let history = self.core.settings().store.path.with_extension("history");
        // rustyline blocks: it lives on its own thread and hands lines over one at a time.
        let editor = std::thread::spawn(move || -> Result<(), String> {
            let mut rl = rustyline::DefaultEditor::new().map_err(|e| e.to_string())?;
            let _ = rl.load_history(&history);
            while let Ok(line) = rl.readline("ticket> ") {
                let _ = rl.add_history_entry(line.as_str());
                if tx.blocking_send(line).is_err() || ack_rx.recv().is_err() {
                    break;
                }
            }
            if rl.save_history(&history).is_ok() {
                owner_only(&history);
            }
            Ok(())
        });
        let mut summary = Summary::default();
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
            eprintln!("line editor unavailable: {e}");
        }
        Ok(summary)
    }
}

#[cfg(unix)]
fn owner_only(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, "could not restrict the console history file");
    }
}

#[cfg(not(unix))]
fn owner_only(_path: &std::path::Path) {}
