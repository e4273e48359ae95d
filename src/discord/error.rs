//! The one place where an error is split: the user gets a short ephemeral message, the logs get
//! the cause chain. Poise's default handler would show users the whole chain, so every command
//! error and panic is handled here.

use std::error::Error as _;

use poise::serenity_prelude as serenity;
use poise::{CreateReply, FrameworkError};

use super::Data;
use crate::core::CoreError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] CoreError),
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
            CommandError::Discord(_) => {
                "Discord did not accept the bot's reply; please try again.".into()
            }
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
            reply_ephemeral(ctx, &error.user_message()).await;
        }
        FrameworkError::CommandPanic { payload, ctx, .. } => {
            tracing::error!(
                command = %ctx.command().qualified_name,
                panic = payload.as_deref().unwrap_or("<no message>"),
                "command panicked"
            );
            reply_ephemeral(ctx, PANIC_MESSAGE).await;
        }
        FrameworkError::Setup { error, .. } => {
            tracing::error!(error = %chain(&error), "start-up (command registration) failed");
        }
        // Argument, check and cooldown errors are about the user's input and meant for them.
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "could not report an error to the user");
            }
        }
    }
}

async fn reply_ephemeral(ctx: super::Context<'_>, message: &str) {
    let reply = CreateReply::default().content(message).ephemeral(true);
    if let Err(e) = ctx.send(reply).await {
        tracing::error!(error = %e, "could not send the error message");
    }
}

/// `error: cause: cause...`, for the logs.
fn chain(error: &CommandError) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}
