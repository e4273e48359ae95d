//! The watcher's Discord side: posts each notification into its thread or feed channel, edits
//! the thread's pinned header card, and archives a closed ticket's thread when configured.
//!
//! Exactly once, as users see it: every message carries a nonce derived from its delivery key
//! with `enforce_nonce`, so a resend within Discord's nonce window returns the first message; an
//! entry older than that window is first looked for among the channel's recent messages (its
//! reference line carries the key).

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, CreateMessage, EditMessage, EditThread, GetMessages, Http, MessageId, UserId,
};

use super::respond::no_mentions;
use super::{embeds, threads};
use crate::core::Core;
use crate::domain::{Audience, Conversation, Notification, Ticket, Transport};
use crate::render::{Banner, Reply, notice};
use crate::watcher::{DeliveryError, Notifier};

/// Discord keeps a nonce "for a few minutes"; entries older than this are checked for first.
pub(super) const NONCE_TRUSTED: TimeDelta = TimeDelta::minutes(2);
/// How many recent messages are searched for an old entry's reference line.
const LOOK_BACK: u8 = 50;

/// Delivers to Discord channels and threads.
#[derive(Debug, Clone)]
pub struct DiscordNotifier {
    http: Arc<Http>,
    core: Core,
    archive_closed: bool,
}

impl DiscordNotifier {
    pub(super) fn http(&self) -> &Http {
        self.http.as_ref()
    }

    pub(super) fn core(&self) -> &Core {
        &self.core
    }

    /// The label this bot's messages carry (a sandbox must never pass for Orange).
    pub(super) fn banner(&self) -> Banner {
        Banner::for_sandbox(self.core.settings().orange.is_sandbox)
    }

    pub fn new(http: Arc<Http>, core: Core, archive_closed: bool) -> Self {
        DiscordNotifier {
            http,
            core,
            archive_closed,
        }
    }

    /// A link to the ticket's thread, for a direct message (a channel mention may not show there).
    async fn thread_link(&self, n: &Notification) -> Option<String> {
        let store = self.core.store();
        let guild = store.opener(&n.ticket).ok().flatten()?.discord_guild()?;
        let thread = store
            .conversations_for(&n.ticket)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.transport == Transport::Discord)?;
        Some(format!(
            "https://discord.com/channels/{guild}/{}",
            thread.id
        ))
    }

    /// Whether a message with `key` is among the channel's recent ones.
    async fn already_posted(&self, channel: ChannelId, key: &str) -> Result<bool, DeliveryError> {
        Ok(self.posted_with(channel, key).await?.is_some())
    }

    /// The recent message of the channel that carries `key`'s reference line, if any.
    pub(super) async fn posted_with(
        &self,
        channel: ChannelId,
        key: &str,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let recent = channel
            .messages(self.http.as_ref(), GetMessages::new().limit(LOOK_BACK))
            .await
            .map_err(|e| classify(self.core.metrics(), e))?;
        Ok(recent
            .iter()
            .find(|m| notice::has_marker(&m.content, key))
            .map(|m| m.id))
    }

    /// Edits the thread's header card to the ticket as just seen. A card that cannot be edited
    /// is only logged: the update itself was posted.
    async fn refresh_card(&self, conversation: &Conversation, channel: ChannelId, ticket: &Ticket) {
        let card = match self.core.store().card(conversation) {
            Ok(Some(card)) => card,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "header card unknown");
                return;
            }
        };
        let Some(message) = card.parse::<u64>().ok().filter(|id| *id != 0) else {
            return;
        };
        let (embed, buttons) = threads::header_message(ticket, self.banner());
        let edit = EditMessage::new()
            .embed(embed)
            .components(buttons)
            .allowed_mentions(no_mentions());
        if let Err(e) = channel
            .edit_message(self.http.as_ref(), MessageId::new(message), edit)
            .await
        {
            tracing::warn!(ticket.id = %ticket.id, error = %super::error::chain(&e), "header card not edited");
        }
    }
}

impl Notifier for DiscordNotifier {
    fn serves(&self, conversation: &Conversation) -> bool {
        conversation.transport == Transport::Discord
    }

    async fn deliver(
        &self,
        n: &Notification,
        ticket: Option<&Ticket>,
    ) -> Result<(), DeliveryError> {
        let id = n
            .conversation
            .id
            .parse::<u64>()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| {
                DeliveryError::Refused(format!("not a Discord id: {}", n.conversation.id))
            })?;
        let channel = match n.audience {
            // A reporter's id is the user's: their direct-message channel is opened (or found).
            Audience::Reporter => {
                UserId::new(id)
                    .create_dm_channel(self.http.as_ref())
                    .await
                    .map_err(|e| classify(self.core.metrics(), e))?
                    .id
            }
            Audience::Thread | Audience::Feed | Audience::Digest => ChannelId::new(id),
        };
        // Past the nonce window only the reference line tells; a channel whose history the bot
        // may not read gets the message again rather than never.
        let posted_before = Utc::now() - n.created > NONCE_TRUSTED
            && match self.already_posted(channel, &n.key).await {
                Ok(found) => found,
                Err(DeliveryError::Retry(why)) => return Err(DeliveryError::Retry(why)),
                Err(e) => {
                    tracing::warn!(error = %e, "recent messages unreadable; posting");
                    false
                }
            };
        if !posted_before {
            let reply = match n.audience {
                Audience::Thread => {
                    let timeline = self.core.store().timeline(&n.ticket).unwrap_or_default();
                    notice::thread(n, ticket, &timeline)
                }
                Audience::Reporter => {
                    let link = self.thread_link(n).await;
                    notice::reporter(n, ticket, link.as_deref())
                }
                Audience::Feed => {
                    let home = self
                        .core
                        .store()
                        .conversations_for(&n.ticket)
                        .await
                        .ok()
                        .and_then(|c| c.into_iter().find(|c| c.transport == Transport::Discord));
                    notice::feed(n, ticket, home.as_ref())
                }
                Audience::Digest => crate::render::digest::notice(n),
            };
            let mut message = message(&self.banner().reply(&reply), &n.key);
            if notice::is_nudge(n) {
                message = message.components(super::nudge::button(&n.ticket));
            }
            channel
                .send_message(self.http.as_ref(), message)
                .await
                .map_err(|e| classify(self.core.metrics(), e))?;
        }
        if n.audience == Audience::Thread
            && let Some(t) = ticket
        {
            self.refresh_card(&n.conversation, channel, t).await;
            if self.archive_closed && t.status.is_final() {
                let archive = channel
                    .edit_thread(self.http.as_ref(), EditThread::new().archived(true))
                    .await;
                if let Err(e) = archive {
                    tracing::warn!(ticket.id = %t.id, error = %super::error::chain(&e), "closed ticket's thread not archived");
                }
            }
        }
        Ok(())
    }
}

fn message(reply: &Reply, key: &str) -> CreateMessage {
    CreateMessage::new()
        .content(reply.text.clone().unwrap_or_default())
        .embeds(reply.cards.iter().map(embeds::embed).collect())
        .allowed_mentions(no_mentions())
        .nonce(serenity::Nonce::String(key.to_owned()))
        .enforce_nonce(true)
}

/// Sorts Discord's answers: gone (Unknown Channel, Unknown Message), refused for good (no access, no permission,
/// a locked thread, a bad request), or worth retrying (rate limits, server errors, the network).
pub(super) fn classify(metrics: &crate::ops::Metrics, e: serenity::Error) -> DeliveryError {
    super::error::count(metrics, &e);
    let why = super::error::chain(&e);
    match &e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => {
            match (r.status_code.as_u16(), r.error.code) {
                // Unknown Channel / Message / User: nothing to deliver to any more.
                (_, 10003 | 10008 | 10013) => DeliveryError::Gone(why),
                (429, _) | (500..=599, _) => DeliveryError::Retry(why),
                _ => DeliveryError::Refused(why),
            }
        }
        _ => DeliveryError::Retry(why),
    }
}
