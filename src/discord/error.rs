//! The one place where an error is split: the user gets a short ephemeral message, the logs get
//! the cause chain. Poise's default handler would show users the whole chain, so every command
//! error, refusal and panic is handled here.

use std::sync::atomic::Ordering;

use poise::FrameworkError;
use poise::serenity_prelude as serenity;

use super::Data;
use super::actor::Refusal;
use super::respond::Interaction;
use crate::core::CoreError;
use crate::ops::Metrics;
use crate::render::{self, Reply};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The interaction comes from somewhere the bot does not serve.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Poise gave a prefix context to a slash-only command.
    #[error("not a slash command")]
    NotASlashCommand,
    /// The bot is shutting down: the interaction starts no work.
    #[error("shutting down")]
    ShuttingDown,
    /// Boxed: serenity's error is large and would bloat every command's `Result`.
    #[error("Discord request failed")]
    Discord(#[source] Box<serenity::Error>),
}

impl From<serenity::Error> for CommandError {
    fn from(e: serenity::Error) -> Self {
        CommandError::Discord(Box::new(e))
    }
}

impl CommandError {
    /// One short sentence, safe to show.
    pub fn user_message(&self) -> String {
        match self {
            CommandError::Core(e) => e.user_message(),
            CommandError::Refused(r) => r.user_message(),
            CommandError::NotASlashCommand => "Use the slash command.".into(),
            CommandError::ShuttingDown => render::reply::shutting_down(),
            CommandError::Discord(_) => render::reply::discord_refused(),
        }
    }
}

const PANIC_MESSAGE: &str = "Something went wrong; the details are in the bot's logs.";

/// Poise's `on_error`.
pub async fn on_error(error: FrameworkError<'_, Data, CommandError>) {
    match error {
        FrameworkError::Command { error, ctx, .. } => {
            tracing::warn!(
                command = %ctx.command().qualified_name,
                error = %chain(&error),
                "command failed"
            );
            if let CommandError::Discord(e) = &error {
                count(ctx.data().core.metrics(), e);
            }
            tell(ctx, &error.user_message()).await;
        }
        FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            let message = error
                .as_ref()
                .map(CommandError::user_message)
                .unwrap_or_else(|| "You may not use this command here.".into());
            tell(ctx, &message).await;
        }
        FrameworkError::CommandPanic { payload, ctx, .. } => {
            tracing::error!(
                command = %ctx.command().qualified_name,
                panic = payload.as_deref().unwrap_or("<no message>"),
                "command panicked"
            );
            tell(ctx, PANIC_MESSAGE).await;
        }
        FrameworkError::Setup { error, .. } => {
            tracing::error!(error = %chain(&error), "start-up failed");
        }
        FrameworkError::EventHandler { error, event, .. } => {
            tracing::warn!(error = %chain(&error), event = event.snake_case_name(), "event handler failed");
        }
        FrameworkError::ArgumentParse { ctx, input, .. } => {
            let message = match input {
                Some(input) => format!("`{input}` is not a valid value for that option."),
                None => "An option of this command is missing or invalid.".into(),
            };
            tell(ctx, &message).await;
        }
        other => {
            tracing::warn!(error = %other, "interaction not handled");
            if let Some(ctx) = other.ctx() {
                tell(ctx, "That did not work; the details are in the bot's logs.").await;
            }
        }
    }
}

/// Tells the user, privately: edits the deferred answer when there is one, else answers.
async fn tell(ctx: super::Context<'_>, message: &str) {
    let poise::Context::Application(app) = ctx else {
        return;
    };
    if app.interaction_type == poise::CommandInteractionType::Autocomplete {
        // An autocomplete takes choices only; Discord shows its own failure.
        return;
    }
    let interaction = Interaction::Command(app.interaction);
    let reply = Reply::text(message);
    let sent = if app.has_sent_initial_response.load(Ordering::SeqCst) {
        interaction
            .edit(ctx.http(), ctx.data().banner(), &reply, Vec::new())
            .await
    } else {
        interaction
            .answer_ephemeral(ctx.http(), ctx.data().banner(), &reply)
            .await
    };
    if let Err(e) = sent {
        tracing::error!(error = %e, "could not send the error message");
    }
}

/// Counts a failed Discord request: its HTTP status and Discord's error code when Discord
/// answered, `none` for either when it did not (the network, the gateway).
pub fn count(metrics: &Metrics, e: &serenity::Error) {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => {
            metrics.discord_error(Some(r.status_code.as_u16()), Some(r.error.code))
        }
        _ => metrics.discord_error(None, None),
    }
}

/// `error: cause: cause...` (each once), for the logs, with interaction tokens masked: an HTTP
/// error names its URL, and a webhook or callback URL carries a live token.
pub fn chain(error: &dyn std::error::Error) -> String {
    redact_tokens(&crate::telemetry::chain(error))
}

/// Replaces the token in `/webhooks/{id}/{token}` and `/interactions/{id}/{token}` with `***`.
fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["/webhooks/", "/interactions/"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        let after = at + len;
        let id_len = rest[after..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - after);
        let id_end = after + id_len;
        out.push_str(&rest[..id_end]);
        rest = &rest[id_end..];
        if id_len > 0 && rest.starts_with('/') {
            let token_len = rest[1..]
                .find(|c: char| c == '/' || c == '?' || c == ')' || c.is_whitespace())
                .unwrap_or(rest.len() - 1);
            out.push_str("/***");
            rest = &rest[1 + token_len..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_tokens;

    #[test]
    fn interaction_tokens_never_reach_the_logs() {
        assert_eq!(
            redact_tokens(
                "error sending request for url (http://x/api/v10/webhooks/123/aW50ZXJhY3Rpb24/messages/@original): timeout"
            ),
            "error sending request for url (http://x/api/v10/webhooks/123/***/messages/@original): timeout"
        );
        assert_eq!(
            redact_tokens(
                "POST /interactions/9/tok-en/callback?with_response=true and /webhooks/1/t"
            ),
            "POST /interactions/9/***/callback?with_response=true and /webhooks/1/***"
        );
        assert_eq!(redact_tokens("GET /webhooks/abc"), "GET /webhooks/abc");
        assert_eq!(redact_tokens("no url"), "no url");
    }
}
