//! The `/ticket` sub-commands, mirroring the core's files (`tickets`, `team`, `status`), and the
//! shared steps every command takes: admit the actor, defer, run one `core::Command`, answer with
//! `render`'s words. Handlers only turn options into a `Command`. `send` is the "Send to Orange"
//! message command, which confirms before it sends.

mod report;
mod send;
mod status;
mod team;
mod tickets;

use std::sync::atomic::Ordering;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateAutocompleteResponse, Http};

use super::actor::{self, Source};
use super::respond::Interaction;
use super::threads::{Placement, ThreadHomes};
use super::{CommandError, Context, Data, components};
use crate::core::{Command, CoreError, Homes, Outcome, Suggestion};
use crate::domain::Actor;
use crate::render::{self, Reply};

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<Data, CommandError>> {
    vec![
        ticket(),
        tickets::open_from_message(),
        send::send_to_orange(),
    ]
}

/// Orange trouble tickets
#[poise::command(
    slash_command,
    subcommands(
        "tickets::create",
        "tickets::show",
        "tickets::comment",
        "tickets::search",
        "tickets::link",
        "tickets::unlink",
        "tickets::services",
        "status::status",
        "team::follow",
        "team::unfollow",
        "team::profile",
        "team::config",
        "team::board",
        "team::notify",
        "report::report"
    ),
    subcommand_required
)]
pub async fn ticket(_ctx: Context<'_>) -> Result<(), CommandError> {
    // Discord only invokes the sub-commands of a parent slash command.
    Ok(())
}

/// The global check: direct messages and guilds not on the allowlist are refused (and audited).
/// Autocomplete passes: it answers a refused actor with no choices, and a keystroke is not worth
/// an audit entry.
pub async fn check(ctx: Context<'_>) -> Result<bool, CommandError> {
    let poise::Context::Application(app) = ctx else {
        return Ok(false);
    };
    if app.interaction_type == poise::CommandInteractionType::Autocomplete {
        return Ok(true);
    }
    // Shutting down: the user hears so at once rather than "the application did not respond".
    // The pass lives with the invocation (poise drops its data after the error handler).
    let pass = ctx.data().gate.enter().ok_or(CommandError::ShuttingDown)?;
    ctx.set_invocation_data(pass).await;
    let action = ctx.command().qualified_name.clone();
    actor::admit(ctx.data(), Source::command(app.interaction), &action)
        .await
        .map(|_| true)
        .map_err(CommandError::Refused)
}

/// The application context and its actor (already admitted by [`check`]).
fn turn(
    ctx: Context<'_>,
) -> Result<(poise::ApplicationContext<'_, Data, CommandError>, Actor), CommandError> {
    let poise::Context::Application(app) = ctx else {
        return Err(CommandError::NotASlashCommand);
    };
    let actor = actor::actor(ctx.data(), Source::command(app.interaction))
        .map_err(CommandError::Refused)?;
    Ok((app, actor))
}

/// Whether the command was run in a thread (which then adopts a ticket instead of opening one).
fn in_thread(app: &poise::ApplicationContext<'_, Data, CommandError>) -> bool {
    app.interaction.channel.as_ref().is_some_and(|c| {
        matches!(
            c.kind,
            serenity::ChannelType::PublicThread
                | serenity::ChannelType::PrivateThread
                | serenity::ChannelType::NewsThread
        )
    })
}

/// A slash command's whole life: defer, run `command`, answer.
async fn dispatch(
    ctx: Context<'_>,
    command: Command,
    placement: Placement,
) -> Result<(), CommandError> {
    let (app, actor) = turn(ctx)?;
    let http = ctx.http();
    let data = ctx.data();
    let interaction = Interaction::Command(app.interaction);
    let homes = ThreadHomes::new(http, data, app.interaction.channel_id, placement);
    interaction.defer_ephemeral(http).await?;
    app.has_sent_initial_response.store(true, Ordering::SeqCst);
    let result = data.core.execute(&actor, command, &homes).await;
    finish(http, data, interaction, result).await?;
    Ok(())
}

/// Defers, runs `command` and answers (for buttons and forms).
pub async fn run(
    http: &Http,
    data: &Data,
    interaction: Interaction<'_>,
    actor: &Actor,
    command: Command,
    homes: &impl Homes,
) -> serenity::Result<()> {
    interaction.defer_ephemeral(http).await?;
    let result = data.core.execute(actor, command, homes).await;
    finish(http, data, interaction, result).await
}

/// Answers a deferred interaction with an outcome, or with the error's one sentence.
pub async fn finish(
    http: &Http,
    data: &Data,
    interaction: Interaction<'_>,
    result: Result<Outcome, CoreError>,
) -> serenity::Result<()> {
    match result {
        Ok(outcome) => {
            let components = components::for_outcome(data, &outcome);
            let reply = render::reply(&outcome, Utc::now());
            interaction
                .edit(http, data.banner(), &reply, components)
                .await
        }
        Err(e) => finish_with(http, data, interaction, Err(e), Vec::new()).await,
    }
}

/// Answers a deferred interaction with `reply`, or with the error's one sentence (the cause
/// chain goes to the logs).
pub async fn finish_with(
    http: &Http,
    data: &Data,
    interaction: Interaction<'_>,
    result: Result<Reply, CoreError>,
    components: Vec<CreateActionRow>,
) -> serenity::Result<()> {
    let reply = match result {
        Ok(reply) => reply,
        Err(e) => {
            tracing::warn!(error = %super::error::chain(&e), "command failed");
            Reply::text(e.user_message())
        }
    };
    interaction
        .edit(http, data.banner(), &reply, components)
        .await
}

/// Answers at once, only to the user (no Orange call comes first).
async fn answer_now(ctx: Context<'_>, reply: &Reply) -> Result<(), CommandError> {
    let (app, _) = turn(ctx)?;
    Interaction::Command(app.interaction)
        .answer_ephemeral(ctx.http(), ctx.data().banner(), reply)
        .await?;
    app.has_sent_initial_response.store(true, Ordering::SeqCst);
    Ok(())
}

/// Shows a form as the command's answer.
async fn show_form(ctx: Context<'_>, form: serenity::CreateModal) -> Result<(), CommandError> {
    let (app, _) = turn(ctx)?;
    Interaction::Command(app.interaction)
        .modal(ctx.http(), form)
        .await?;
    app.has_sent_initial_response.store(true, Ordering::SeqCst);
    Ok(())
}

/// Suggestions as Discord's autocomplete answer; none for a refused actor.
async fn choices(
    ctx: Context<'_>,
    suggestions: impl AsyncFnOnce(&Data) -> Vec<Suggestion>,
) -> CreateAutocompleteResponse {
    let admitted = match ctx {
        poise::Context::Application(app) => {
            actor::actor(ctx.data(), Source::command(app.interaction)).is_ok()
        }
        poise::Context::Prefix(_) => false,
    };
    let list = if admitted {
        suggestions(ctx.data()).await
    } else {
        Vec::new()
    };
    CreateAutocompleteResponse::new().set_choices(
        list.into_iter()
            .map(|s| serenity::AutocompleteChoice::new(s.label, s.value))
            .collect(),
    )
}

/// The string value of option `name` in a (possibly nested) command's options, as typed so far.
fn typed_option(options: &[serenity::CommandDataOption], name: &str) -> Option<String> {
    options.iter().find_map(|o| match &o.value {
        serenity::CommandDataOptionValue::SubCommand(inner)
        | serenity::CommandDataOptionValue::SubCommandGroup(inner) => typed_option(inner, name),
        serenity::CommandDataOptionValue::String(v) if o.name == name => Some(v.clone()),
        serenity::CommandDataOptionValue::Autocomplete { value, .. } if o.name == name => {
            Some(value.clone())
        }
        _ => None,
    })
}
