//! The terminal transport (a Hubot-style shell adapter): each line is a slash command as text, run
//! through the same core use cases as Discord, rendered as text. One session is one conversation.
//!
//! Interactive on a terminal (line editing and history via rustyline); from a pipe it runs the
//! script and reports whether every line succeeded.

pub mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;

use chrono::Utc;
use tokio::io::AsyncBufReadExt;

use crate::core::Core;
use crate::core::{CoreError, CreateInput, SearchInput};
use crate::domain::{Actor, Conversation, TeamId};
use crate::render::{card, text};
use parse::Line;

/// A console session: the core plus who is typing and where.
#[derive(Debug, Clone)]
pub struct Console {
    core: Core,
    actor: Actor,
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
        Console { core, actor }
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
            Line::Ticket { sub, options } => {
                self.ticket(sub, options).await.map(Some).map_err(|e| {
                    tracing::debug!(error = %e, "console command failed");
                    e.user_message()
                })
            }
        }
    }

    async fn ticket(
        &self,
        sub: &str,
        mut o: BTreeMap<String, String>,
    ) -> Result<String, CoreError> {
        let core = &self.core;
        let actor = &self.actor;
        let show_profile = o.is_empty();
        let mut take = |k: &str| o.remove(k);
        let out = match sub {
            "services" => text::card(&card::services(&core.services().await?)),
            "create" => {
                let created = core
                    .create_ticket(
                        actor,
                        CreateInput {
                            service: take("service").unwrap_or_default(),
                            technical: take("technical").unwrap_or_default(),
                            description: take("description").unwrap_or_default(),
                            external_ref: take("reference"),
                        },
                        true,
                    )
                    .await?;
                let mut out = if created.linked {
                    format!("Ticket {} opened and linked to this session.\n", created.id)
                } else {
                    format!(
                        "Ticket {} opened, but this session could not be linked to it: use /ticket link id:{}.\n",
                        created.id, created.id
                    )
                };
                if let Some(t) = &created.ticket {
                    out.push_str(&text::card(&card::ticket(t, Utc::now())));
                }
                out
            }
            "comment" => {
                let id = core
                    .comment(
                        actor,
                        take("id").as_deref(),
                        &take("text").unwrap_or_default(),
                    )
                    .await?;
                format!("Comment added to ticket {id}.\n")
            }
            "show" => {
                let t = core.show(actor, take("id").as_deref()).await?;
                text::card(&card::ticket(&t, Utc::now()))
            }
            "search" => {
                let ascending = match take("order").as_deref() {
                    None => None,
                    Some("asc") => Some(true),
                    Some("desc") => Some(false),
                    Some(other) => {
                        return Err(CoreError::Invalid(format!(
                            "Order `{other}` is neither asc nor desc."
                        )));
                    }
                };
                let page =
                    match take("page") {
                        None => None,
                        Some(p) => Some(p.trim().parse::<u32>().map_err(|_| {
                            CoreError::Invalid(format!("Page `{p}` is not a number."))
                        })?),
                    };
                let input = SearchInput {
                    status: take("status"),
                    service: take("service"),
                    reported_by: take("reported_by"),
                    id: take("id"),
                    from: take("from"),
                    to: take("to"),
                    sort: take("sort"),
                    ascending,
                    page,
                };
                text::card(&card::search(&core.search(input).await?))
            }
            "link" => {
                let t = core.link(actor, &take("id").unwrap_or_default()).await?;
                format!(
                    "This session is now linked to ticket {}.\n{}",
                    t.id,
                    text::card(&card::ticket(&t, Utc::now()))
                )
            }
            "unlink" => format!("Unlinked from ticket {}.\n", core.unlink(actor).await?),
            "status" => text::card(&card::api_status(&core.api_status().await?)),
            "follow" => {
                let s = core
                    .follow(
                        actor,
                        &take("services").unwrap_or_default(),
                        &take("statuses").unwrap_or_default(),
                    )
                    .await?;
                let all = |set: &BTreeSet<String>| {
                    if set.is_empty() {
                        "all".to_owned()
                    } else {
                        set.iter().cloned().collect::<Vec<_>>().join(", ")
                    }
                };
                let services: BTreeSet<String> =
                    s.services.iter().map(ToString::to_string).collect();
                format!(
                    "This session follows the ticket feed (services: {}; statuses: {}).\n",
                    all(&services),
                    all(&s.statuses)
                )
            }
            "unfollow" => {
                core.unfollow(actor).await?;
                "This session no longer follows the ticket feed.\n".into()
            }
            "profile" if show_profile => match core.profile(actor)? {
                Some(c) => format!(
                    "Your contact: {} ({})\n",
                    c.full_name(),
                    [c.email.clone(), c.phone.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => {
                    "No contact set: /ticket profile first_name:… last_name:… email:… phone:…\n"
                        .into()
                }
            },
            "profile" => {
                let c = core
                    .set_profile(
                        actor,
                        &take("first_name").unwrap_or_default(),
                        &take("last_name").unwrap_or_default(),
                        take("email").as_deref(),
                        take("phone").as_deref(),
                    )
                    .await?;
                format!("Contact saved: {}.\n", c.full_name())
            }
            other => return Err(CoreError::Invalid(format!("Unknown command `{other}`."))),
        };
        Ok(out)
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
            out.flush()?;
        }
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
