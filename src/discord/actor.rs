//! Who is acting, from an interaction: the user (id, display name), the member's roles, the guild
//! as the team, Manage Server as team administrator; and whether the bot serves them at all
//! (guild interactions only, from allowed guilds).

use poise::serenity_prelude as serenity;

use super::Data;
use crate::domain::{Actor, Conversation, TeamId};
use crate::render;

/// The parts of an interaction an actor is made from (every interaction kind has them).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub user: &'a serenity::User,
    pub member: Option<&'a serenity::Member>,
    pub guild_id: Option<serenity::GuildId>,
    pub channel_id: serenity::ChannelId,
}

impl<'a> Source<'a> {
    pub fn command(i: &'a serenity::CommandInteraction) -> Self {
        Source {
            user: &i.user,
            member: i.member.as_deref(),
            guild_id: i.guild_id,
            channel_id: i.channel_id,
        }
    }

    pub fn component(i: &'a serenity::ComponentInteraction) -> Self {
        Source {
            user: &i.user,
            member: i.member.as_ref(),
            guild_id: i.guild_id,
            channel_id: i.channel_id,
        }
    }

    pub fn modal(i: &'a serenity::ModalInteraction) -> Self {
        Source {
            user: &i.user,
            member: i.member.as_ref(),
            guild_id: i.guild_id,
            channel_id: i.channel_id,
        }
    }
}

/// Why the bot does not serve an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("direct message")]
    DirectMessage,
    #[error("guild not on the allowlist")]
    GuildNotAllowed,
}

impl Refusal {
    /// What the user is told.
    pub fn user_message(self) -> String {
        match self {
            Refusal::DirectMessage => render::reply::refused_direct_message(),
            Refusal::GuildNotAllowed => render::reply::refused_guild(),
        }
    }
}

/// The actor of a guild interaction; `None` in direct messages.
fn build(source: Source<'_>) -> Option<Actor> {
    let guild = source.guild_id?;
    let permissions = source.member.and_then(|m| m.permissions);
    Some(Actor {
        user_key: format!("discord:{}", source.user.id),
        display_name: source
            .member
            .map(|m| m.display_name().to_owned())
            .unwrap_or_else(|| source.user.display_name().to_owned()),
        team: TeamId(format!("discord:{guild}")),
        conversation: Conversation::discord(source.channel_id.get()),
        roles: source
            .member
            .map(|m| m.roles.iter().map(|r| r.get().to_string()).collect())
            .unwrap_or_default(),
        is_team_admin: permissions.is_some_and(|p| p.manage_guild() || p.administrator()),
        link: Some(format!(
            "https://discord.com/channels/{guild}/{}",
            source.channel_id
        )),
    })
}

/// The actor of an interaction, or why it is refused.
pub fn actor(data: &Data, source: Source<'_>) -> Result<Actor, Refusal> {
    let actor = build(source).ok_or(Refusal::DirectMessage)?;
    let allowed = &data.settings.discord.allowed_guilds;
    match source.guild_id {
        Some(guild) if !allowed.is_empty() && !allowed.contains(&guild.get()) => {
            Err(Refusal::GuildNotAllowed)
        }
        _ => Ok(actor),
    }
}

/// The actor, or the refusal after auditing it (for a guild); the error is the sentence to show.
pub async fn admit(data: &Data, source: Source<'_>, action: &str) -> Result<Actor, Refusal> {
    let refusal = match actor(data, source) {
        Ok(actor) => return Ok(actor),
        Err(refusal) => refusal,
    };
    if let Some(actor) = build(source) {
        data.core
            .audit_refusal(&actor, action, &refusal.user_message())
            .await;
    }
    tracing::info!(user = %source.user.id, guild = ?source.guild_id, %refusal, action, "interaction refused");
    Err(refusal)
}
