//! `/ticket report`: the team's figures for a period, from the watcher's snapshots.

use super::{Placement, dispatch};
use crate::core::{Command, ReportInput};
use crate::discord::{CommandError, Context};

/// The team's figures for a period: tickets opened, median and p90 time to restore and repair
#[poise::command(slash_command)]
pub async fn report(
    ctx: Context<'_>,
    #[description = "First day, YYYY-MM-DD (UTC; default: 30 days before `to`)"] from: Option<
        String,
    >,
    #[description = "Last day, YYYY-MM-DD (UTC; default: today)"] to: Option<String>,
    #[description = "Also attach the figures and each ticket's clocks as CSV"] csv: Option<bool>,
) -> Result<(), CommandError> {
    let input = ReportInput {
        from,
        to,
        csv: csv.unwrap_or(false),
    };
    dispatch(ctx, Command::Report(input), Placement::Here).await
}
