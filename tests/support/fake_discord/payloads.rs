//! Builders of `INTERACTION_CREATE` payloads that serenity deserializes: slash commands with
//! sub-commands and options, autocomplete, button clicks, modal submits and message context-menu
//! commands. Each is a guild interaction from the fake's human user in [`CHANNEL_ID`].
//!
//! Serenity silently drops an interaction that lacks a required key (only a log warning), so the
//! keys in [`REQUIRED_KEYS`] are always present; the self-tests check each builder against them.

use serde_json::{Value, json};

use super::state::{APPLICATION_ID, BOT_USER_ID, CHANNEL_ID, GUILD_ID, human_user};

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
    // Poise panics on a permission check of a guild interaction without these.
    "guild_id",
    "member",
    "app_permissions",
];

/// The id Discord gives the registered command; poise matches by name, so any id works.
const COMMAND_ID: u64 = 1_100_000_000_000_000_100;
/// A message already in [`CHANNEL_ID`], for buttons and context menus.
pub const EXISTING_MESSAGE_ID: u64 = 1_100_000_000_000_000_200;

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

    /// Sends the interaction from another channel (e.g. a ticket thread).
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.channel_id = channel_id;
        self
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
            "guild_id": GUILD_ID.to_string(),
            "channel_id": self.channel_id.to_string(),
            "channel": {"id": self.channel_id.to_string(), "type": 0},
            "member": {
                "user": human_user(),
                "roles": [],
                "joined_at": "2025-01-01T00:00:00.000000+00:00",
                "deaf": false,
                "mute": false,
                "flags": 0,
                "permissions": "2248473465835073",
            },
            "token": token,
            "version": 1,
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
            "context": 0,
            "attachment_size_limit": 26_214_400,
            "app_permissions": "2248473465835073",
        });
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
}

/// A message of the bot in [`CHANNEL_ID`] with one button, as the gateway sends it.
fn existing_message() -> Value {
    json!({
        "id": EXISTING_MESSAGE_ID.to_string(),
        "channel_id": CHANNEL_ID.to_string(),
        "author": {"id": BOT_USER_ID.to_string(), "username": "orange-ticket-bot",
                   "discriminator": "0", "global_name": null, "avatar": null, "bot": true},
        "content": "Ticket 12345",
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Refresh", "custom_id": "refresh"}]}],
        "pinned": false,
        "type": 0,
        "flags": 0,
    })
}
