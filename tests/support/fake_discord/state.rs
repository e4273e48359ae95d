//! What the fake remembers: every request in order, the failures it saw, and the Discord objects
//! the bot created and reads back (channels, threads, messages, commands, interactions).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::guild::Guild;
use super::mentions;

/// The application id (from READY) and the bot's user id differ on purpose: a mix-up shows.
pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_002;
pub const GUILD_ID: u64 = 1_100_000_000_000_000_003;
/// A text channel that exists from the start.
pub const CHANNEL_ID: u64 = 1_100_000_000_000_000_004;
/// A forum channel (type 15) with two tags, for forum posts.
pub const FORUM_ID: u64 = 1_100_000_000_000_000_005;
pub const FORUM_TAG_OPEN: u64 = 1_100_000_000_000_000_006;
pub const FORUM_TAG_CLOSED: u64 = 1_100_000_000_000_000_007;
/// The human who clicks and types in injected interactions.
pub const USER_ID: u64 = 1_100_000_000_000_000_008;
/// The direct-message channel between the human user and the bot (type 1).
pub const DM_CHANNEL_ID: u64 = 1_100_000_000_000_000_009;

/// Message flag of an ephemeral message (seen only by the user who interacted).
pub const EPHEMERAL: u64 = 1 << 6;
/// Discord refuses a 51st pin in a channel.
pub const MAX_PINS: usize = 50;

/// Discord's window for the first answer to an interaction.
pub const INTERACTION_WINDOW: Duration = Duration::from_secs(3);
/// How long a message nonce is remembered when `enforce_nonce` is set ("the past few minutes").
pub const NONCE_WINDOW: Duration = Duration::from_secs(300);

/// One HTTP request, as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without `/api/v10`, e.g. `/channels/123/messages`.
    pub path: String,
    /// The matching spec route, e.g. `POST /channels/{channel_id}/messages`; `None` if unknown.
    pub route: Option<&'static str>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Time since the fake started, once answered.
    pub at: Duration,
    /// Time since the fake started when the request (body included) had arrived, before the
    /// fake validated and answered it: what the benchmarks time the bot's answers by.
    pub received: Duration,
    pub status: u16,
    /// Answered with a fault the test armed (not by the fake's own judgement).
    pub injected: bool,
}

impl RecordedRequest {
    /// The message this request creates or edits (a channel message, a type 4/7 callback's
    /// `data`, a webhook follow-up or edit, a forum post's first message); `None` otherwise.
    pub fn message(&self) -> Option<&Value> {
        mentions::message_of(self.route?, self.body.as_ref()?)
    }

    /// For a request carrying a message: whether its `allowed_mentions` turns every ping off
    /// (`{"parse": []}`, no `users` or `roles` listed). `None` for other requests.
    pub fn allowed_mentions_none(&self) -> Option<bool> {
        self.message().map(mentions::suppresses_all)
    }
}

/// One gateway frame, in either direction.
#[derive(Debug, Clone)]
pub struct GatewayFrame {
    pub at: Duration,
    /// `true` for frames the bot sent.
    pub from_bot: bool,
    pub op: u64,
    /// The dispatch name (`READY`, `INTERACTION_CREATE`, ...) for op 0.
    pub event: Option<String>,
    pub payload: Value,
}

/// An interaction the test injected, and how the bot answered it.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    pub injected_at: Instant,
    /// The body of the first (accepted) callback.
    pub callback: Option<Value>,
    /// How long after injection the first accepted callback came (to assert a prompt deferral).
    pub callback_after: Option<Duration>,
    /// The response message (`@original`): made by a type 4 callback, the message a type 7
    /// updated, or after a defer the first edit of `@original` or (type 5) the first follow-up.
    pub original_message: Option<u64>,
    /// For a component click: the message the component is on.
    pub message_id: Option<u64>,
}

/// A channel or thread.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: u64,
    pub kind: u64,
    pub name: String,
    pub parent_id: Option<u64>,
    pub archived: bool,
    pub locked: bool,
    pub applied_tags: Vec<u64>,
    /// Users added with `PUT /channels/{id}/thread-members/{user}`.
    pub members: Vec<u64>,
    /// For a thread started from a message: that message.
    pub starter_message: Option<u64>,
}

/// A message the bot posted (in a channel, as a follow-up or as an interaction response).
#[derive(Debug, Clone)]
pub struct Message {
    pub id: u64,
    pub channel_id: u64,
    /// The last body (create, then each edit merged over it).
    pub body: Value,
    pub edits: usize,
    pub pinned: bool,
}

impl Message {
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or("")
    }

    pub fn embeds(&self) -> &[Value] {
        self.body["embeds"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn flags(&self) -> u64 {
        self.body["flags"].as_u64().unwrap_or(0)
    }

    /// Whether only the interacting user sees it (it is then absent from the channel's history).
    pub fn is_ephemeral(&self) -> bool {
        self.flags() & EPHEMERAL != 0
    }
}

/// Everything behind the fake's mutex.
#[derive(Debug)]
pub struct State {
    pub started: Instant,
    next_id: u64,
    pub requests: Vec<RecordedRequest>,
    pub frames: Vec<GatewayFrame>,
    /// Problems that fail the test: unknown routes, invalid bodies, late or second callbacks.
    pub failures: Vec<String>,
    pub channels: HashMap<u64, Channel>,
    pub messages: HashMap<u64, Message>,
    /// Message ids in creation order.
    pub message_order: Vec<u64>,
    /// Ids of the threads the bot created through the REST API, in creation order.
    pub thread_order: Vec<u64>,
    pub interactions: HashMap<u64, Interaction>,
    /// Global commands (`None` until registered).
    pub global_commands: Option<Value>,
    pub guild_commands: HashMap<u64, Value>,
    /// `(author, nonce)` → (message id, when), for `enforce_nonce`.
    pub nonces: HashMap<(u64, String), (u64, Instant)>,
    pub identifies: usize,
    pub resumes: usize,
    /// The guild's roles and their permissions, as the REST API shows them.
    pub guild: Guild,
    /// Bot tokens the REST API answers with 401 (see [`super::FakeDiscord::revoke_token`]).
    pub revoked_tokens: Vec<String>,
    /// Direct-message channels: recipient -> channel.
    pub dm_channels: HashMap<u64, u64>,
    /// Users whose privacy settings refuse the bot's direct messages (Discord answers 50007).
    pub refuses_dms: std::collections::HashSet<u64>,
    /// Files uploaded with messages, by attachment id.
    pub files: HashMap<u64, super::uploads::StoredFile>,
}

impl State {
    pub fn new() -> Self {
        let mut state = State {
            started: Instant::now(),
            next_id: 1_200_000_000_000_000_000,
            requests: Vec::new(),
            frames: Vec::new(),
            failures: Vec::new(),
            channels: HashMap::new(),
            messages: HashMap::new(),
            message_order: Vec::new(),
            thread_order: Vec::new(),
            interactions: HashMap::new(),
            global_commands: None,
            guild_commands: HashMap::new(),
            nonces: HashMap::new(),
            identifies: 0,
            resumes: 0,
            guild: Guild::default(),
            revoked_tokens: Vec::new(),
            dm_channels: HashMap::from([(USER_ID, DM_CHANNEL_ID)]),
            refuses_dms: Default::default(),
            files: HashMap::new(),
        };
        let channels = [
            (CHANNEL_ID, 0, "tickets"),
            (FORUM_ID, 15, "ticket-forum"),
            (DM_CHANNEL_ID, 1, ""),
        ];
        for (id, kind, name) in channels {
            state.channels.insert(
                id,
                Channel {
                    id,
                    kind,
                    name: name.into(),
                    parent_id: None,
                    archived: false,
                    locked: false,
                    applied_tags: Vec::new(),
                    members: Vec::new(),
                    starter_message: None,
                },
            );
        }
        state
    }

    /// A fresh snowflake.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn fail(&mut self, failure: String) {
        self.failures.push(failure);
    }

    /// Stores a new message and returns its id.
    pub fn add_message(&mut self, channel_id: u64, body: Value) -> u64 {
        let id = self.next_id();
        self.insert_message(id, channel_id, body);
        id
    }

    /// Stores a message under a chosen id (a forum post's first message has the thread's id).
    pub fn insert_message(&mut self, id: u64, channel_id: u64, body: Value) {
        let message = Message {
            id,
            channel_id,
            body,
            edits: 0,
            pinned: false,
        };
        self.messages.insert(id, message);
        self.message_order.push(id);
    }

    /// The messages of a channel, in creation order.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Message> {
        self.message_order
            .iter()
            .filter_map(|id| self.messages.get(id))
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .collect()
    }

    /// Merges an edit over a stored message (top-level keys replace, like Discord's PATCH).
    pub fn edit_message(&mut self, id: u64, patch: &Value) -> bool {
        let Some(msg) = self.messages.get_mut(&id) else {
            return false;
        };
        if let (Some(old), Some(new)) = (msg.body.as_object_mut(), patch.as_object()) {
            for (k, v) in new {
                old.insert(k.clone(), v.clone());
            }
        }
        msg.edits += 1;
        true
    }

    /// A new direct-message channel (type 1).
    pub fn add_dm_channel(&mut self) -> u64 {
        let id = self.next_id();
        self.channels.insert(
            id,
            Channel {
                id,
                kind: 1,
                name: String::new(),
                parent_id: None,
                archived: false,
                locked: false,
                applied_tags: Vec::new(),
                members: Vec::new(),
                starter_message: None,
            },
        );
        id
    }

    pub fn add_thread(
        &mut self,
        parent: u64,
        kind: u64,
        name: &str,
        applied_tags: Vec<u64>,
        starter_message: Option<u64>,
    ) -> u64 {
        let id = starter_message.unwrap_or_else(|| self.next_id());
        self.channels.insert(
            id,
            Channel {
                id,
                kind,
                name: name.into(),
                parent_id: Some(parent),
                archived: false,
                locked: false,
                applied_tags,
                members: Vec::new(),
                starter_message,
            },
        );
        id
    }

    /// The message object Discord returns, as serenity deserializes it.
    pub fn message_json(&self, id: u64) -> Value {
        let msg = &self.messages[&id];
        let ts = "2026-01-01T00:00:00.000000+00:00";
        let or_empty = |key: &str| match &msg.body[key] {
            Value::Array(a) => Value::Array(a.clone()),
            _ => json!([]),
        };
        let mut out = json!({
            "id": id.to_string(),
            "channel_id": msg.channel_id.to_string(),
            "guild_id": GUILD_ID.to_string(),
            "author": bot_user(),
            "content": msg.body["content"].as_str().unwrap_or(""),
            "timestamp": ts,
            "edited_timestamp": if msg.edits > 0 { json!(ts) } else { Value::Null },
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": or_empty("attachments"),
            "embeds": or_empty("embeds"),
            "components": or_empty("components"),
            "pinned": msg.pinned,
            "type": 0,
            "flags": msg.flags(),
        });
        // A DM belongs to no guild.
        if self
            .channels
            .get(&msg.channel_id)
            .is_some_and(|c| c.kind == 1)
            && let Some(obj) = out.as_object_mut()
        {
            obj.remove("guild_id");
        }
        if let Some(nonce) = msg.body.get("nonce").filter(|n| !n.is_null()) {
            out["nonce"] = nonce.clone();
        }
        if let Some(thread) = self
            .channels
            .values()
            .find(|c| c.starter_message == Some(id))
        {
            out["thread"] = self.channel_json(thread.id);
        }
        out
    }

    /// The channel object Discord returns.
    pub fn channel_json(&self, id: u64) -> Value {
        let c = &self.channels[&id];
        if c.kind == 1 {
            return json!({"id": c.id.to_string(), "type": 1, "flags": 0,
                          "last_message_id": null, "recipients": [human_user()]});
        }
        let mut out = json!({
            "id": c.id.to_string(),
            "type": c.kind,
            "guild_id": GUILD_ID.to_string(),
            "name": c.name,
            "parent_id": c.parent_id.map(|p| p.to_string()),
            "position": 0,
            "permission_overwrites": [],
            "nsfw": false,
            "flags": 0,
            "applied_tags": c.applied_tags.iter().map(u64::to_string).collect::<Vec<_>>(),
        });
        if matches!(c.kind, 10..=12) {
            out["owner_id"] = json!(BOT_USER_ID.to_string());
            out["message_count"] = json!(0);
            out["member_count"] = json!(c.members.len());
            out["thread_metadata"] = json!({
                "archived": c.archived,
                "locked": c.locked,
                "auto_archive_duration": 10080,
                "archive_timestamp": "2026-01-01T00:00:00.000000+00:00",
            });
        }
        if c.kind == 15 {
            out["available_tags"] = json!([
                {"id": FORUM_TAG_OPEN.to_string(), "name": "open", "moderated": false},
                {"id": FORUM_TAG_CLOSED.to_string(), "name": "closed", "moderated": false},
            ]);
        }
        out
    }

    /// Everything the fake saw, for the panic message of a failed wait.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "--- fake Discord: {} HTTP requests",
            self.requests.len()
        );
        for r in &self.requests {
            let body = r
                .body
                .as_ref()
                .map(|b| truncate(&b.to_string(), 400))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:>8.3?} {} {} -> {} {}",
                r.at, r.method, r.path, r.status, body
            );
        }
        let _ = writeln!(out, "--- {} gateway frames", self.frames.len());
        for f in &self.frames {
            let dir = if f.from_bot { "bot ->" } else { "-> bot" };
            let name = f.event.as_deref().unwrap_or("");
            let _ = writeln!(
                out,
                "{:>8.3?} {dir} op {} {name} {}",
                f.at,
                f.op,
                truncate(&f.payload.to_string(), 200)
            );
        }
        let _ = writeln!(out, "--- {} failures", self.failures.len());
        for f in &self.failures {
            let _ = writeln!(out, "{f}");
        }
        out
    }
}

/// The bot's user object.
pub fn bot_user() -> Value {
    json!({"id": BOT_USER_ID.to_string(), "username": "orange-ticket-bot", "discriminator": "0",
           "global_name": null, "avatar": null, "bot": true})
}

/// The human user of injected interactions.
pub fn human_user() -> Value {
    json!({"id": USER_ID.to_string(), "username": "alice", "discriminator": "0",
           "global_name": "Alice", "avatar": null})
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
