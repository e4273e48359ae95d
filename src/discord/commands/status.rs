//! `/ticket status`.

use super::{Placement, dispatch};
use crate::core::Command;
use crate::discord::{CommandError, Context};

/// Check the Orange API status and the bot's own
#[poise::command(slash_command)]
pub async fn status(ctx: Context<'_>) -> Result<(), CommandError> {
    dispatch(ctx, Command::Status, Placement::Here).await
}
