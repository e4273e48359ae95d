//! The one guild the fake knows ([`GUILD_ID`]), as the bot sees it through REST: the guild list
//! (`GET /users/@me/guilds`), the bot's member object and the guild's roles, `@everyone` and the
//! bot's own managed role (the one its invite created). A test takes a permission away with
//! [`super::FakeDiscord::set_bot_permissions`].
//!
//! The answers carry every key Discord's spec requires (`MyGuildResponse`, `GuildMemberResponse`,
//! `GuildRoleResponse`); the harness checks them against it.

use serde_json::{Value, json};

use super::state::{BOT_USER_ID, GUILD_ID};

pub const GUILD_NAME: &str = "Orange NOC";
/// The managed role Discord creates for a bot invited with permissions.
pub const BOT_ROLE_ID: u64 = 1_100_000_000_000_000_010;

/// Discord's permission bits, as far as the fake's defaults need them.
pub mod bits {
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    pub const PIN_MESSAGES: u64 = 1 << 51;
}

/// What the bot's invite asks for: the bot role starts with these.
pub const INVITE_PERMISSIONS: u64 = bits::VIEW_CHANNEL
    | bits::SEND_MESSAGES
    | bits::EMBED_LINKS
    | bits::READ_MESSAGE_HISTORY
    | bits::MANAGE_THREADS
    | bits::CREATE_PUBLIC_THREADS
    | bits::SEND_MESSAGES_IN_THREADS
    | bits::PIN_MESSAGES;

/// What `@everyone` may do in a new server (a subset is enough for the fake).
pub const EVERYONE_PERMISSIONS: u64 =
    bits::VIEW_CHANNEL | bits::SEND_MESSAGES | bits::READ_MESSAGE_HISTORY;

/// The permissions of the guild's two roles.
#[derive(Debug, Clone)]
pub struct Guild {
    pub everyone_permissions: u64,
    pub bot_role_permissions: u64,
}

impl Default for Guild {
    fn default() -> Self {
        Guild {
            everyone_permissions: EVERYONE_PERMISSIONS,
            bot_role_permissions: INVITE_PERMISSIONS,
        }
    }
}

impl Guild {
    /// `GET /users/@me/guilds`: the guild, unless the page starts after it.
    pub fn my_guilds(&self, query: &[(String, String)]) -> Value {
        let after = query
            .iter()
            .find(|(k, _)| k == "after")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(0);
        if after >= GUILD_ID {
            return json!([]);
        }
        // `permissions`: what the roles grant together, as Discord computes it for this list.
        json!([{
            "id": GUILD_ID.to_string(), "name": GUILD_NAME, "icon": null, "banner": null,
            "owner": false,
            "permissions": (self.everyone_permissions | self.bot_role_permissions).to_string(),
            "features": [],
        }])
    }

    /// `GET /guilds/{guild}/members/{user}`: the bot's member object; `None` for anyone else
    /// (Unknown Member) or another guild (Unknown Guild is the caller's to tell apart).
    pub fn member(&self, user: u64) -> Option<Value> {
        (user == BOT_USER_ID).then(|| {
            json!({
                "user": {
                    "id": BOT_USER_ID.to_string(), "username": "orange-ticket-bot",
                    "discriminator": "0", "global_name": null, "avatar": null, "bot": true,
                    "public_flags": 0, "flags": 0, "primary_guild": null,
                },
                "nick": null, "avatar": null, "banner": null, "roles": [BOT_ROLE_ID.to_string()],
                "joined_at": "2026-01-01T00:00:00.000000+00:00", "premium_since": null,
                "deaf": false, "mute": false, "flags": 0, "pending": false,
                "communication_disabled_until": null,
            })
        })
    }

    /// `GET /guilds/{guild}/roles`: `@everyone` (its id is the guild's) and the bot's role.
    pub fn roles(&self) -> Value {
        json!([
            role(GUILD_ID, "@everyone", self.everyone_permissions, 0, false),
            role(
                BOT_ROLE_ID,
                "Orange Ticket Bot",
                self.bot_role_permissions,
                1,
                true
            ),
        ])
    }
}

fn role(id: u64, name: &str, permissions: u64, position: u64, managed: bool) -> Value {
    let mut role = json!({
        "id": id.to_string(), "name": name, "permissions": permissions.to_string(),
        "position": position, "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false, "managed": managed, "mentionable": false, "icon": null,
        "unicode_emoji": null, "flags": 0,
    });
    if managed {
        role["tags"] = json!({"bot_id": BOT_USER_ID.to_string()});
    }
    role
}
