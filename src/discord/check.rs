//! What `orange-ticket-bot check` asks Discord (see `crate::check`, which words the answers):
//! whether the token is accepted, which guilds the bot is in, and whether its roles there grant
//! the permissions its work needs.
//!
//! The permissions are the guild-wide ones Discord computes from roles ("base permissions"):
//! `@everyone`'s, or-ed with those of each of the bot's roles; Administrator or ownership grants
//! all. A channel's overwrites may still deny one in that channel; the check does not read them.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::SecretString;
use serenity::http::{HttpError, LightMethod, Request, Route};

use crate::config::Settings;

/// Longest wait for one Discord call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Guild list pages read at most (200 guilds a page).
const MAX_GUILD_PAGES: usize = 25;
const GUILD_PAGE: u64 = 200;

/// Discord's Administrator permission: every permission, in every channel.
const ADMINISTRATOR: u64 = 1 << 3;

/// A permission the bot's work needs in a guild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    ViewChannel,
    SendMessages,
    SendMessagesInThreads,
    CreatePublicThreads,
    ManageThreads,
    PinMessages,
    EmbedLinks,
    ReadMessageHistory,
}

impl Needed {
    pub const ALL: [Needed; 8] = [
        Needed::ViewChannel,
        Needed::SendMessages,
        Needed::SendMessagesInThreads,
        Needed::CreatePublicThreads,
        Needed::ManageThreads,
        Needed::PinMessages,
        Needed::EmbedLinks,
        Needed::ReadMessageHistory,
    ];

    /// The name Discord's server settings show.
    pub fn name(self) -> &'static str {
        match self {
            Needed::ViewChannel => "View Channels",
            Needed::SendMessages => "Send Messages",
            Needed::SendMessagesInThreads => "Send Messages in Threads",
            Needed::CreatePublicThreads => "Create Public Threads",
            Needed::ManageThreads => "Manage Threads",
            Needed::PinMessages => "Pin Messages",
            Needed::EmbedLinks => "Embed Links",
            Needed::ReadMessageHistory => "Read Message History",
        }
    }

    fn bits(self) -> u64 {
        use serenity::Permissions as P;
        match self {
            Needed::ViewChannel => P::VIEW_CHANNEL.bits(),
            Needed::SendMessages => P::SEND_MESSAGES.bits(),
            Needed::SendMessagesInThreads => P::SEND_MESSAGES_IN_THREADS.bits(),
            Needed::CreatePublicThreads => P::CREATE_PUBLIC_THREADS.bits(),
            Needed::ManageThreads => P::MANAGE_THREADS.bits(),
            // Why: pinning has its own permission since 2026 (Manage Messages no longer grants
            // it); serenity 0.12 does not know the bit yet, so it is spelled out here.
            Needed::PinMessages => 1 << 51,
            Needed::EmbedLinks => P::EMBED_LINKS.bits(),
            Needed::ReadMessageHistory => P::READ_MESSAGE_HISTORY.bits(),
        }
    }

    /// The permissions integer of an invite asking for everything the bot needs.
    pub fn invite_bits() -> u64 {
        Needed::ALL.iter().fold(0, |bits, n| bits | n.bits())
    }
}

/// Why Discord did not answer a question.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// 401: the token is wrong, or was reset.
    #[error("the Discord token was refused (HTTP 401)")]
    TokenRefused,
    /// Any other error status, with Discord's code (10004 Unknown Guild, 50001 Missing Access...).
    #[error("Discord answered HTTP {status} (code {code}: {message})")]
    Refused {
        status: u16,
        code: isize,
        message: String,
    },
    #[error("Discord did not answer within {0:?}")]
    Timeout(Duration),
    /// No answer at all (connection refused, DNS, TLS) or an unreadable one.
    #[error("Discord could not be reached")]
    Unreachable(#[source] serenity::Error),
}

impl From<serenity::Error> for ProbeError {
    fn from(e: serenity::Error) -> Self {
        match e {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
                if r.status_code.as_u16() == 401 {
                    ProbeError::TokenRefused
                } else {
                    ProbeError::Refused {
                        status: r.status_code.as_u16(),
                        code: r.error.code,
                        message: r.error.message,
                    }
                }
            }
            e => ProbeError::Unreachable(e),
        }
    }
}

/// The bot's own user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotUser {
    pub id: u64,
    pub name: String,
}

/// A guild the bot is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildEntry {
    pub id: u64,
    pub name: String,
    /// The bot owns it (and so holds every permission there).
    pub owner: bool,
}

/// A role as `GET /guilds/{id}/roles` lists it. Why not serenity's `Role`: it drops the
/// permission bits it does not know (Pin Messages).
#[derive(Debug, serde::Deserialize)]
struct RawRole {
    id: serenity::RoleId,
    #[serde(deserialize_with = "permission_bits")]
    permissions: u64,
}

/// Discord sends permissions as a decimal string (they outgrew 53-bit JSON numbers).
fn permission_bits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Asks Discord, through the same HTTP client `run` uses (`discord.api_base_url`).
pub struct Probe {
    http: serenity::Http,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

impl Probe {
    pub fn new(token: &SecretString, settings: &Settings) -> Self {
        Probe {
            http: super::http_client(token, settings),
        }
    }

    /// Who the token belongs to (`GET /users/@me`): the token check.
    pub async fn bot(&self) -> Result<BotUser, ProbeError> {
        let user = bounded(self.http.get_current_user()).await?;
        Ok(BotUser {
            id: user.id.get(),
            name: user.name.clone(),
        })
    }

    /// The guilds the bot is in (`GET /users/@me/guilds`, every page up to 5,000 guilds).
    pub async fn guilds(&self) -> Result<Vec<GuildEntry>, ProbeError> {
        let mut guilds = Vec::new();
        let mut after = None;
        for _ in 0..MAX_GUILD_PAGES {
            let page = bounded(self.http.get_guilds(after, Some(GUILD_PAGE))).await?;
            let full = page.len() as u64 == GUILD_PAGE;
            after = page.last().map(|g| serenity::GuildPagination::After(g.id));
            guilds.extend(page.into_iter().map(|g| GuildEntry {
                id: g.id.get(),
                name: g.name,
                owner: g.owner,
            }));
            if !full {
                break;
            }
        }
        Ok(guilds)
    }

    /// The needed permissions the bot's roles in `guild` do not grant (`GET
    /// /guilds/{id}/members/{bot}` and `GET /guilds/{id}/roles`).
    pub async fn missing(
        &self,
        guild: &GuildEntry,
        bot: &BotUser,
    ) -> Result<Vec<Needed>, ProbeError> {
        if guild.owner {
            return Ok(Vec::new());
        }
        let guild_id = serenity::GuildId::new(guild.id);
        let member = bounded(
            self.http
                .get_member(guild_id, serenity::UserId::new(bot.id)),
        )
        .await?;
        let roles: Vec<RawRole> = bounded(self.http.fire(Request::new(
            Route::GuildRoles { guild_id },
            LightMethod::Get,
        )))
        .await?;
        let granted = base_permissions(guild.id, &member.roles, &roles);
        Ok(missing_from(granted))
    }
}

/// One call, bounded by [`CALL_TIMEOUT`].
async fn bounded<T>(
    call: impl std::future::Future<Output = serenity::Result<T>>,
) -> Result<T, ProbeError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(ProbeError::from),
        Err(_) => Err(ProbeError::Timeout(CALL_TIMEOUT)),
    }
}

/// The member's guild-wide permissions: `@everyone`'s role (its id is the guild's) or-ed with
/// each of the member's roles; Administrator means all.
fn base_permissions(guild_id: u64, member_roles: &[serenity::RoleId], roles: &[RawRole]) -> u64 {
    let bits = roles
        .iter()
        .filter(|r| r.id.get() == guild_id || member_roles.contains(&r.id))
        .fold(0, |bits, r| bits | r.permissions);
    if bits & ADMINISTRATOR != 0 {
        u64::MAX
    } else {
        bits
    }
}

/// The needed permissions `granted` lacks, in [`Needed::ALL`]'s order.
fn missing_from(granted: u64) -> Vec<Needed> {
    Needed::ALL
        .into_iter()
        .filter(|n| granted & n.bits() != n.bits())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUILD: u64 = 100;
    const BOT_ROLE: u64 = 200;
    const OTHER_ROLE: u64 = 300;

    fn role(id: u64, permissions: u64) -> RawRole {
        RawRole {
            id: serenity::RoleId::new(id),
            permissions,
        }
    }

    #[test]
    fn permissions_come_from_everyone_and_the_members_roles_only() {
        let everyone = Needed::ViewChannel.bits() | Needed::SendMessages.bits();
        let bot = Needed::invite_bits() & !Needed::PinMessages.bits();
        let roles = [
            role(GUILD, everyone),
            role(BOT_ROLE, bot),
            // A role the bot does not have grants it nothing.
            role(OTHER_ROLE, Needed::PinMessages.bits()),
        ];
        let granted = base_permissions(GUILD, &[serenity::RoleId::new(BOT_ROLE)], &roles);
        assert_eq!(missing_from(granted), [Needed::PinMessages]);
        // `@everyone` alone.
        let granted = base_permissions(GUILD, &[], &roles);
        assert_eq!(missing_from(granted).len(), Needed::ALL.len() - 2);
    }

    #[test]
    fn administrator_grants_everything_even_bits_serenity_does_not_know() {
        let roles = [role(GUILD, 0), role(BOT_ROLE, ADMINISTRATOR)];
        let granted = base_permissions(GUILD, &[serenity::RoleId::new(BOT_ROLE)], &roles);
        assert!(missing_from(granted).is_empty());
        assert_eq!(Needed::PinMessages.bits(), 2_251_799_813_685_248);
        // The integer the README gives for the invite.
        assert_eq!(Needed::invite_bits(), 2_252_126_231_284_736);
    }

    #[test]
    fn role_permissions_are_read_from_discords_decimal_strings() {
        let roles: Vec<RawRole> = serde_json::from_str(
            r#"[{"id": "200", "permissions": "2251799813685248", "name": "x"}]"#,
        )
        .expect("roles");
        assert_eq!(roles[0].permissions, Needed::PinMessages.bits());
        assert!(
            serde_json::from_str::<Vec<RawRole>>(r#"[{"id": "2", "permissions": 5}]"#).is_err()
        );
    }
}
