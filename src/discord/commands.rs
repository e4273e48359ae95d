//! The slash commands. Each parses its options, calls one core use case and renders the result.

use poise::CreateReply;

use super::{CommandError, Context, Data, embeds};
use crate::render::card;

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<Data, CommandError>> {
    vec![ticket()]
}

/// Orange trouble tickets
#[poise::command(slash_command, subcommands("status"), subcommand_required)]
pub async fn ticket(_ctx: Context<'_>) -> Result<(), CommandError> {
    // Discord only invokes the sub-commands of a parent slash command.
    Ok(())
}

/// Check the Orange API status
#[poise::command(slash_command)]
pub async fn status(ctx: Context<'_>) -> Result<(), CommandError> {
    let status = ctx.data().core.api_status().await?;
    ctx.send(CreateReply::default().embed(embeds::embed(&card::api_status(&status))))
        .await?;
    Ok(())
}
