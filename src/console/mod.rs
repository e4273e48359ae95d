//! The terminal transport (a Hubot-style shell adapter): each line is a slash command as text, run
//! through the same core use cases as Discord, rendered as text. One session is one conversation.
//!
//! Interactive on a terminal (line editing and history via rustyline, see `interactive`); from a
//! pipe it runs the script and reports whether every line succeeded.

mod interactive;
mod notifier;
pub mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::core::{Core, CoreError, Here};
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
    /// Typed at a terminal, not read from a pipe.
    pub interactive: bool,
}

impl Summary {
    /// Whether the session failed as a whole: a script does when one of its lines failed (the
    /// exit status tells its caller); a person at a terminal has seen each error already.
    pub fn fails_the_run(&self) -> bool {
        !self.interactive && self.failed > 0
    }
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
                // The user's own mistakes are answered; the bot's failures (its store, Orange)
                // are also logged, with their causes, where the operator looks.
                match e {
                    CoreError::Invalid(_) | CoreError::Denied(_) => {
                        tracing::debug!(error = %e, "console command refused")
                    }
                    _ => tracing::warn!(error = %crate::telemetry::chain(&e), "console command failed"),
                }
                e.user_message()
            })?;
        Ok(text::reply(&render::reply(&outcome, Utc::now())))
    }

    /// Runs the session on stdin/stdout until end of input or `/quit`: interactive when stdin is a
    /// terminal, a script otherwise.
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
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn only_a_script_with_a_failed_line_fails() {
        let session = |interactive, failed| Summary {
            lines: 3,
            failed,
            interactive,
        };
        assert!(session(false, 1).fails_the_run());
        assert!(!session(false, 0).fails_the_run());
        assert!(
            !session(true, 1).fails_the_run(),
            "a person's session is not a failed script"
        );
        assert!(!session(true, 0).fails_the_run());
    }
}
