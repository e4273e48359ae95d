//! Who is acting and where: conversations (a Discord channel/thread, a console session), actors,
//! teams, and what the bot remembers about them.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Change, Contact, ServiceNumber, Status, TicketId};

/// The transport a conversation lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Discord,
    Console,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Discord => "discord",
            Transport::Console => "console",
        }
    }
}

/// A place where people talk about tickets: a Discord channel or thread, or a console session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Conversation {
    pub transport: Transport,
    /// The transport's id of the channel/thread/session.
    pub id: String,
}

impl Conversation {
    pub fn discord(channel_id: u64) -> Self {
        Conversation {
            transport: Transport::Discord,
            id: channel_id.to_string(),
        }
    }

    pub fn console(session: &str) -> Self {
        Conversation {
            transport: Transport::Console,
            id: session.to_owned(),
        }
    }

    /// A stable text key, e.g. `discord:1234`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.transport.as_str(), self.id)
    }

    /// Parses [`Conversation::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        let (transport, id) = key.split_once(':')?;
        let transport = match transport {
            "discord" => Transport::Discord,
            "console" => Transport::Console,
            _ => return None,
        };
        (!id.is_empty()).then(|| Conversation {
            transport,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A team: a Discord guild, or the local console "team".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TeamId(pub String);

/// What an actor can be allowed to do; each maps to a configurable set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Create,
    Comment,
    Link,
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Create,
        Permission::Comment,
        Permission::Link,
        Permission::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Create => "create",
            Permission::Comment => "comment",
            Permission::Link => "link",
            Permission::Admin => "admin",
        }
    }
}

/// Someone acting through a transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Stable per transport, e.g. `discord:<user id>` or `console:<login>`.
    pub user_key: String,
    pub display_name: String,
    pub team: TeamId,
    pub conversation: Conversation,
    /// Role ids (Discord) or names the transport vouches for.
    pub roles: BTreeSet<String>,
    /// The transport says this actor administers the team (e.g. Discord's Manage Server).
    pub is_team_admin: bool,
    /// A URL back to the conversation, when the transport has one (a Discord channel link).
    pub link: Option<String>,
}

/// Who opened a ticket through the bot, and in which team (for a link back to its thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opener {
    pub user_key: String,
    pub team: TeamId,
}

impl Opener {
    /// The Discord user id, for a user of Discord.
    pub fn discord_user(&self) -> Option<u64> {
        discord_id(&self.user_key)
    }

    /// The Discord server the ticket was opened in.
    pub fn discord_guild(&self) -> Option<u64> {
        discord_id(&self.team.0)
    }
}

/// The id in a `discord:<id>` key.
fn discord_id(key: &str) -> Option<u64> {
    key.strip_prefix("discord:")
        .and_then(|id| id.parse().ok())
        .filter(|id| *id != 0)
}

/// Per-team settings an admin controls.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TeamSettings {
    /// For each permission, the roles that grant it. No entry: everyone may.
    pub allowed_roles: std::collections::BTreeMap<Permission, BTreeSet<String>>,
    /// Where new and changed tickets of the team are announced.
    pub feed: Option<Conversation>,
    /// The contact used for new tickets when the actor has no profile.
    pub default_contact: Option<Contact>,
}

/// A channel's subscription to the ticket feed. Empty filters match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subscription {
    pub services: BTreeSet<ServiceNumber>,
    pub statuses: BTreeSet<String>,
}

impl Subscription {
    pub fn matches(&self, service: Option<&ServiceNumber>, status: &Status) -> bool {
        let service_ok =
            self.services.is_empty() || service.is_some_and(|s| self.services.contains(s));
        let status_ok = self.statuses.is_empty() || self.statuses.contains(status.as_wire());
        service_ok && status_ok
    }
}

/// Who a notification is for: the ticket's own conversation (its thread), or a channel following
/// the team's tickets, which gets one line per change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    #[default]
    Thread,
    Feed,
    /// The person who opened the ticket, by direct message (opt-in); the conversation's id is
    /// the user's.
    Reporter,
    /// A feed channel's daily digest.
    Digest,
}

/// A notification waiting to be delivered to a conversation. Delivery is at-least-once from the
/// outbox, made exactly-once on Discord with a nonce derived from `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per (conversation, ticket, change): the idempotency key of the delivery.
    pub key: String,
    pub conversation: Conversation,
    pub ticket: TicketId,
    pub changes: Vec<Change>,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub audience: Audience,
}

/// The longest key a delivery may carry: Discord's message nonce takes 25 characters.
pub const KEY_LEN: usize = 25;

impl Notification {
    /// A notification whose key is derived from what it says and where: the same changes of the
    /// same ticket for the same conversation always get the same key.
    pub fn new(
        conversation: Conversation,
        ticket: TicketId,
        changes: Vec<Change>,
        audience: Audience,
        created: DateTime<Utc>,
    ) -> Self {
        let audience_name = match audience {
            Audience::Thread => "thread",
            Audience::Feed => "feed",
            Audience::Reporter => "reporter",
            Audience::Digest => "digest",
        };
        let mut material = format!("{}\u{0}{ticket}\u{0}{audience_name}", conversation.key());
        for c in &changes {
            material.push('\u{0}');
            material.push_str(&c.fingerprint());
        }
        Notification {
            key: delivery_key(&material),
            conversation,
            ticket,
            changes,
            created,
            audience,
        }
    }
}

impl Notification {
    /// A feed channel's digest of one day. It concerns no one ticket: its `ticket` is the
    /// placeholder `digest-<day>` (no snapshot or thread has that id). Its key depends on the
    /// conversation and the day only, so the digest of a day is one message whatever it says.
    pub fn digest(
        conversation: Conversation,
        digest: super::Digest,
        created: DateTime<Utc>,
    ) -> Self {
        let day = digest.day;
        let key = delivery_key(&format!("{}\u{0}digest\u{0}{day}", conversation.key()));
        Notification {
            key,
            conversation,
            // A date's letters, digits and dashes always make a valid id.
            ticket: TicketId::parse(&format!("digest-{day}")).expect("a valid placeholder id"),
            changes: vec![Change::Digest(Box::new(digest))],
            created,
            audience: Audience::Digest,
        }
    }

    /// The digest this notification carries, if it is one.
    pub fn as_digest(&self) -> Option<&super::Digest> {
        self.changes.iter().find_map(|c| match c {
            Change::Digest(d) => Some(d.as_ref()),
            _ => None,
        })
    }
}

/// A 25-character key from two independent 64-bit FNV-1a hashes, in base 36: deterministic across
/// builds and platforms (std's hasher is not), which a key checked after a restart must be.
pub fn delivery_key(material: &str) -> String {
    let fnv = |seed: u64| {
        material.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hi = fnv(0xcbf2_9ce4_8422_2325);
    let lo = fnv(0x6c62_272e_07bb_0142);
    let mut n = (u128::from(hi) << 64) | u128::from(lo);
    let mut out = Vec::with_capacity(KEY_LEN);
    for _ in 0..KEY_LEN {
        let digit = (n % 36) as u8;
        out.push(if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        });
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_keys_are_stable_short_and_distinct() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let id = TicketId::parse("1234567890").expect("id");
        let key = |conv: u64, changes: Vec<Change>| {
            Notification::new(
                Conversation::discord(conv),
                id.clone(),
                changes,
                Audience::Thread,
                at,
            )
            .key
        };
        let status = Change::StatusChanged {
            from: Status::Ongoing,
            to: Status::Restored,
            reason: None,
            at: Some(at),
        };
        let a = key(1, vec![status.clone()]);
        assert_eq!(a.len(), KEY_LEN);
        assert_eq!(a, key(1, vec![status.clone()]), "deterministic");
        assert_ne!(a, key(2, vec![status.clone()]), "per conversation");
        assert_ne!(a, key(1, vec![Change::Opened]), "per change");
        // Pinned: a key written by one build must be recognised by the next.
        assert_eq!(a, "opp8dyf39x4yal9rnhgczj595");
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub user_key: String,
    pub transport: Transport,
    pub conversation: Conversation,
    pub action: String,
    pub ticket: Option<TicketId>,
    /// `ok`, or why it was denied or failed.
    pub outcome: String,
}
