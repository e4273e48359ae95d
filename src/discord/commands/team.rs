//! Team commands: this channel's ticket feed, one's Orange contact, the team's settings.

use super::{Placement, dispatch, show_form, turn};
use crate::core::{BoardAction, Command, ConfigInput, ProfileInput};
use crate::discord::{CommandError, Context, modals};
use crate::domain::Conversation;

/// Follow the team's new and changed tickets in this channel
#[poise::command(slash_command)]
pub async fn follow(
    ctx: Context<'_>,
    #[description = "Only these service numbers (comma-separated; default: all)"] services: Option<
        String,
    >,
    #[description = "Only these statuses (comma-separated; default: all)"] statuses: Option<String>,
) -> Result<(), CommandError> {
    let command = Command::Follow {
        services: services.unwrap_or_default(),
        statuses: statuses.unwrap_or_default(),
    };
    dispatch(ctx, command, Placement::Here).await
}

/// Stop following the ticket feed in this channel
#[poise::command(slash_command)]
pub async fn unfollow(ctx: Context<'_>) -> Result<(), CommandError> {
    dispatch(ctx, Command::Unfollow, Placement::Here).await
}

/// Your contact for Orange (without options: a form)
#[poise::command(slash_command)]
pub async fn profile(
    ctx: Context<'_>,
    #[description = "First name"] first_name: Option<String>,
    #[description = "Last name"] last_name: Option<String>,
    #[description = "Email"] email: Option<String>,
    #[description = "Phone"] phone: Option<String>,
) -> Result<(), CommandError> {
    if first_name.is_none() && last_name.is_none() && email.is_none() && phone.is_none() {
        let (_, actor) = turn(ctx)?;
        let current = ctx.data().core.profile(&actor).ok().flatten();
        return show_form(ctx, modals::profile(current.as_ref())).await;
    }
    let input = ProfileInput {
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        email,
        phone,
    };
    dispatch(ctx, Command::Profile(Some(input)), Placement::Here).await
}

/// What a role setting applies to.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum PermissionChoice {
    #[name = "create"]
    Create,
    #[name = "comment"]
    Comment,
    #[name = "link"]
    Link,
    #[name = "admin"]
    Admin,
}

fn permission_name(p: PermissionChoice) -> &'static str {
    match p {
        PermissionChoice::Create => "create",
        PermissionChoice::Comment => "comment",
        PermissionChoice::Link => "link",
        PermissionChoice::Admin => "admin",
    }
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum FeedChoice {
    #[name = "here"]
    Here,
    #[name = "off"]
    Off,
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ContactChoice {
    #[name = "mine"]
    Mine,
    #[name = "none"]
    None,
}

/// The team's settings (administrators): who may do what, the team feed, the default contact
#[poise::command(slash_command)]
pub async fn config(
    ctx: Context<'_>,
    #[description = "Set the roles for this permission"] permission: Option<PermissionChoice>,
    #[description = "Roles (mentions, comma-separated; empty or everyone: back to the default)"]
    roles: Option<String>,
    #[description = "Announce the team's tickets in this channel, or stop"] feed: Option<
        FeedChoice,
    >,
    #[description = "The contact for members without one"] default_contact: Option<ContactChoice>,
) -> Result<(), CommandError> {
    let (app, _) = turn(ctx)?;
    let here = Conversation::discord(app.interaction.channel_id.get());
    let change = ConfigInput {
        permission: permission.map(|p| permission_name(p).to_owned()),
        roles,
        feed: feed.map(|f| match f {
            FeedChoice::Here => Some(here),
            FeedChoice::Off => None,
        }),
        default_contact_mine: default_contact.map(|c| matches!(c, ContactChoice::Mine)),
    };
    dispatch(ctx, Command::Config(change), Placement::Here).await
}

/// Keep a live board of every open ticket in this channel, or remove it (administrators)
#[poise::command(slash_command)]
pub async fn board(
    ctx: Context<'_>,
    #[description = "Remove this channel's board"] stop: Option<bool>,
) -> Result<(), CommandError> {
    let action = match stop {
        Some(true) => BoardAction::Stop,
        _ => BoardAction::Keep,
    };
    dispatch(ctx, Command::Board(action), Placement::Here).await
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum OnOff {
    #[name = "on"]
    On,
    #[name = "off"]
    Off,
}

/// A direct message when a ticket you opened is restored or closed (without option: your setting)
#[poise::command(slash_command)]
pub async fn notify(
    ctx: Context<'_>,
    #[description = "on or off"] set: Option<OnOff>,
) -> Result<(), CommandError> {
    let on = set.map(|s| matches!(s, OnOff::On));
    dispatch(ctx, Command::Notify(on), Placement::Here).await
}
