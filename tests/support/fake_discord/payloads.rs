//! Builders of `INTERACTION_CREATE` payloads that serenity deserializes: slash commands with
//! sub-commands and options, autocomplete, button clicks, modal submits and message context-menu
//! commands. By default each is a guild interaction from the fake's human user (no admin) in
//! [`CHANNEL_ID`]; the methods move it to another channel, thread, guild or a DM, and set the
//! member's permissions and roles.
//!
//! Serenity silently drops an interaction that lacks a required key (only a log warning), so the
//! keys in [`REQUIRED_KEYS`] (and [`GUILD_KEYS`] or [`DM_KEYS`]) are always present; the
//! self-tests check each builder against them.

use serde_json::{Value, json};

use super::state::{APPLICATION_ID, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID, bot_user, human_user};

/// Keys serenity requires on every interaction (component clicks also need `message`).
pub const REQUIRED_KEYS: &[&str] = &[
    "id",
    "application_id",
    "type",
    "data",
    "channel_id",
    "token",
    "version",
    "locale",
    "entitlements",
    "attachment_size_limit",
    // Discord always sends it; poise panics on a permission check without it.
    "app_permissions",
];

/// Keys of a guild interaction: poise panics on a permission check without them.
pub const GUILD_KEYS: &[&str] = &["guild_id", "member"];

/// Keys of a DM interaction: no guild, no member, the user at the top level.
pub const DM_KEYS: &[&str] = &["user"];

/// The member permissions of the default user: everyday rights, neither ADMINISTRATOR nor
/// MANAGE_GUILD, so the default user is not an admin.
pub const DEFAULT_PERMISSIONS: u64 = 2_248_473_465_835_073;
/// The permission that makes the user an admin of the bot (MANAGE_GUILD).
pub const MANAGE_GUILD: u64 = 1 << 5;
/// What the bot may do in the channel (`app_permissions`).
const APP_PERMISSIONS: &str = "2248473465835073";
const TIMESTAMP: &str = "2026-01-01T00:00:00.000000+00:00";

/// The id Discord gives the registered command; poise matches by name, so any id works.
const COMMAND_ID: u64 = 1_100_000_000_000_000_100;
/// A message already in [`CHANNEL_ID`], for buttons and context menus.
pub const EXISTING_MESSAGE_ID: u64 = 1_100_000_000_000_000_200;

/// Where the interaction happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A guild text channel (type 0).
    Text,
    /// A public thread (type 11) of `parent_id`.
    Thread { parent_id: u64 },
    /// The DM between the user and the bot (type 1): no guild, no member.
    Dm,
}

/// One interaction to inject; build it with the constructors, refine it with the methods.
#[derive(Debug, Clone)]
pub struct InteractionPayload {
    kind: u8,
    data: Value,
    /// Sub-command (and group) names, outermost first.
    path: Vec<String>,
    options: Vec<Value>,
    message: Option<Value>,
    pub channel_id: u64,
    place: Place,
    guild_id: u64,
    permissions: u64,
    roles: Vec<u64>,
    /// Keys to leave out, to prove the harness notices a payload serenity drops.
    without: Vec<String>,
}

impl InteractionPayload {
    fn new(kind: u8, data: Value) -> Self {
        InteractionPayload {
            kind,
            data,
            path: Vec::new(),
            options: Vec::new(),
            message: None,
            channel_id: CHANNEL_ID,
            place: Place::Text,
            guild_id: GUILD_ID,
            permissions: DEFAULT_PERMISSIONS,
            roles: Vec::new(),
            without: Vec::new(),
        }
    }

    /// `/name` (type 2, chat input).
    pub fn slash(name: &str) -> Self {
        Self::new(
            2,
            json!({"id": COMMAND_ID.to_string(), "name": name, "type": 1}),
        )
    }

    /// Autocomplete (type 4) of `/name`; mark the typed option with [`Self::focused`].
    pub fn autocomplete(name: &str) -> Self {
        Self::new(
            4,
            json!({"id": COMMAND_ID.to_string(), "name": name, "type": 1}),
        )
    }

    /// A click (type 3) on a button with `custom_id`, on a message of the bot.
    pub fn button(custom_id: &str) -> Self {
        let mut p = Self::new(3, json!({"custom_id": custom_id, "component_type": 2}));
        p.message = Some(existing_message());
        p
    }

    /// A modal submit (type 5) with text inputs `(custom_id, value)`, one per action row.
    pub fn modal_submit(custom_id: &str, fields: &[(&str, &str)]) -> Self {
        let rows: Vec<Value> = fields
            .iter()
            .map(|(id, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
            })
            .collect();
        Self::new(5, json!({"custom_id": custom_id, "components": rows}))
    }

    /// A message context-menu command (type 2, command type 3) on an existing message.
    pub fn message_command(name: &str) -> Self {
        let id = EXISTING_MESSAGE_ID.to_string();
        Self::new(
            2,
            json!({"id": COMMAND_ID.to_string(), "name": name, "type": 3, "target_id": id,
                   "resolved": {"messages": {id.clone(): existing_message()}}}),
        )
    }

    /// Adds a sub-command level (call twice for a group and its sub-command).
    pub fn sub(mut self, name: &str) -> Self {
        self.path.push(name.to_owned());
        self
    }

    /// Adds an option; its type follows the JSON value (string 3, integer 4, boolean 5, number 10).
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        let kind = match &value {
            Value::Bool(_) => 5,
            Value::Number(n) if n.is_f64() => 10,
            Value::Number(_) => 4,
            _ => 3,
        };
        self.options
            .push(json!({"name": name, "type": kind, "value": value}));
        self
    }

    /// Adds the string option the user is typing in (autocomplete).
    pub fn focused(mut self, name: &str, partial: &str) -> Self {
        self.options
            .push(json!({"name": name, "type": 3, "value": partial, "focused": true}));
        self
    }

    /// Sends the interaction from another text channel (type 0) of the guild.
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.channel_id = channel_id;
        self.place = Place::Text;
        self
    }

    /// Sends the interaction from a public thread (type 11) of `parent_id`.
    pub fn in_thread(mut self, thread_id: u64, parent_id: u64) -> Self {
        self.channel_id = thread_id;
        self.place = Place::Thread { parent_id };
        self
    }

    /// Sends the interaction from the user's DM with the bot, as Discord does: no `guild_id`,
    /// no `member`, the user at the top level, a type 1 channel, `context` 1.
    pub fn in_dm(mut self) -> Self {
        self.channel_id = DM_CHANNEL_ID;
        self.place = Place::Dm;
        self
    }

    /// Sends the interaction from another guild (one the bot is not configured for).
    pub fn in_guild(mut self, guild_id: u64) -> Self {
        self.guild_id = guild_id;
        self
    }

    /// Sets the member's permissions in the channel (`member.permissions`).
    pub fn with_permissions(mut self, bits: u64) -> Self {
        self.permissions = bits;
        self
    }

    /// Gives the member MANAGE_GUILD on top of its permissions: an admin of the bot.
    #[expect(
        clippy::wrong_self_convention,
        reason = "a builder step that reads as \"the user, as an admin\", not a conversion"
    )]
    pub fn as_admin(mut self) -> Self {
        self.permissions |= MANAGE_GUILD;
        self
    }

    /// Sets the member's role ids (`member.roles`).
    pub fn with_roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    /// For [`Self::message_command`]: targets message `message_id` in `channel_id`, written by
    /// the human user with `content`. The interaction moves to that channel (where the user
    /// right-clicked), unless it is there already.
    pub fn target_message(mut self, message_id: u64, channel_id: u64, content: &str) -> Self {
        let id = message_id.to_string();
        let message = message(message_id, channel_id, human_user(), content, json!([]));
        self.data["target_id"] = json!(id);
        self.data["resolved"] = json!({"messages": {id: message}});
        self.follow_channel(channel_id);
        self
    }

    /// For [`Self::button`]: the click is on `message` (e.g. [`super::FakeDiscord::message_json`]
    /// of a message the bot posted). The interaction moves to the message's channel, unless it
    /// is there already (so `.in_thread(..)` before or after keeps the thread).
    pub fn on_message(mut self, message: Value) -> Self {
        let channel = message["channel_id"].as_str().and_then(|c| c.parse().ok());
        self.message = Some(message);
        if let Some(channel) = channel {
            self.follow_channel(channel);
        }
        self
    }

    fn follow_channel(&mut self, channel_id: u64) {
        if self.channel_id != channel_id {
            self.channel_id = channel_id;
            self.place = Place::Text;
        }
    }

    /// Whether the payload is a DM interaction (no guild, no member).
    pub fn is_dm(&self) -> bool {
        self.place == Place::Dm
    }

    /// Leaves out a top-level key (to test that a payload serenity drops gets no answer).
    pub fn without(mut self, key: &str) -> Self {
        self.without.push(key.to_owned());
        self
    }

    /// The message a component click is on.
    pub fn message_id(&self) -> Option<u64> {
        self.message.as_ref()?["id"].as_str()?.parse().ok()
    }

    /// The payload of `INTERACTION_CREATE`.
    pub fn to_json(&self, id: u64, token: &str) -> Value {
        let mut data = self.data.clone();
        if matches!(self.kind, 2 | 4) && data["type"] == 1 {
            // Nest the options in the sub-commands: innermost level gets the options.
            let mut options = Value::Array(self.options.clone());
            for (depth, name) in self.path.iter().enumerate().rev() {
                let kind = if depth + 1 < self.path.len() { 2 } else { 1 };
                options = json!([{"name": name, "type": kind, "options": options}]);
            }
            data["options"] = options;
        }
        let mut out = json!({
            "id": id.to_string(),
            "application_id": APPLICATION_ID.to_string(),
            "type": self.kind,
            "data": data,
            "channel_id": self.channel_id.to_string(),
            "channel": self.channel_json(),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 26_214_400,
            "app_permissions": APP_PERMISSIONS,
        });
        self.add_invoker(&mut out);
        if let Some(message) = &self.message {
            out["message"] = message.clone();
        }
        if let Some(obj) = out.as_object_mut() {
            for key in &self.without {
                obj.remove(key);
            }
        }
        out
    }

    /// The partial channel Discord sends with the interaction.
    fn channel_json(&self) -> Value {
        let id = self.channel_id.to_string();
        match self.place {
            Place::Text => json!({"id": id, "type": 0}),
            Place::Thread { parent_id } => json!({
                "id": id,
                "type": 11,
                "guild_id": self.guild_id.to_string(),
                "name": "ticket thread",
                "parent_id": parent_id.to_string(),
                "thread_metadata": {"archived": false, "locked": false,
                    "auto_archive_duration": 10080, "archive_timestamp": TIMESTAMP,
                    "create_timestamp": TIMESTAMP},
            }),
            Place::Dm => json!({"id": id, "type": 1, "flags": 0, "recipients": [human_user()]}),
        }
    }

    /// Who interacted: a guild member, or in a DM the bare user.
    fn add_invoker(&self, out: &mut Value) {
        if self.is_dm() {
            out["user"] = human_user();
            // "0": installed to a guild, invoked in the bot's DM.
            out["authorizing_integration_owners"] = json!({"0": "0"});
            out["context"] = json!(1);
            return;
        }
        let guild = self.guild_id.to_string();
        out["guild_id"] = json!(guild);
        out["guild_locale"] = json!("en-US");
        out["authorizing_integration_owners"] = json!({"0": guild});
        out["context"] = json!(0);
        out["member"] = json!({
            "user": human_user(),
            "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "deaf": false,
            "mute": false,
            "flags": 0,
            "permissions": self.permissions.to_string(),
        });
    }

    /// For [`Self::target_message`]: the targeted message was written by `author` (a user
    /// object as the gateway sends it), not by the user who right-clicks it.
    pub fn target_author(mut self, author: Value) -> Self {
        if let Some(target) = self.data["target_id"].as_str().map(str::to_owned) {
            self.data["resolved"]["messages"][target.as_str()]["author"] = author;
        }
        self
    }
}

/// A message of the bot in [`CHANNEL_ID`] with one button, as the gateway sends it.
fn existing_message() -> Value {
    let components = json!([{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Refresh", "custom_id": "refresh"}]}]);
    message(
        EXISTING_MESSAGE_ID,
        CHANNEL_ID,
        bot_user(),
        "Ticket 12345",
        components,
    )
}

/// A message object as the gateway sends it.
fn message(id: u64, channel_id: u64, author: Value, content: &str, components: Value) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": components,
        "pinned": false,
        "type": 0,
        "flags": 0,
    })
}
