//! A ticket's home in Discord: a public thread named `<id> · <service> · <description>` (a post
//! in a forum channel) whose first message is the header card, pinned, with its buttons. The
//! core links the thread and remembers the card's message id so it can be edited in place.

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, ChannelType, CreateActionRow, CreateEmbed, CreateForumPost, CreateMessage,
    CreateThread, Http, MessageId,
};

use super::respond::no_mentions;
use super::{Data, components, embeds};
use crate::core::{Home, HomeError, Homes};
use crate::domain::{Actor, Conversation, Ticket};
use crate::render::{Banner, card};

/// The header card of `ticket`, with its buttons.
pub fn header_message(ticket: &Ticket, banner: Banner) -> (CreateEmbed, Vec<CreateActionRow>) {
    (
        embeds::embed(&banner.card(card::header(ticket, Utc::now()))),
        components::card_buttons(&ticket.id),
    )
}

/// Where a ticket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A new thread, in `discord.tickets_channel` or the channel the command was run in (its
    /// parent, when run in a thread).
    NewThread,
    /// The channel the command was run in (a thread adopting a ticket); the card is posted there.
    Here,
}

/// Opens homes for one interaction.
#[derive(Debug)]
pub struct ThreadHomes<'a> {
    http: &'a Http,
    configured: Option<ChannelId>,
    channel: ChannelId,
    placement: Placement,
    banner: Banner,
}

impl<'a> ThreadHomes<'a> {
    pub fn new(http: &'a Http, data: &Data, channel: ChannelId, placement: Placement) -> Self {
        ThreadHomes {
            http,
            configured: data.settings.discord.tickets_channel.map(ChannelId::new),
            channel,
            placement,
            banner: data.banner(),
        }
    }

    /// The channel new threads go in, and whether it is a forum.
    async fn parent(&self) -> Result<(ChannelId, bool), HomeError> {
        let fetch = |id: ChannelId| async move {
            id.to_channel(self.http)
                .await
                .map_err(|e| HomeError(format!("reading channel {id}: {e}")))?
                .guild()
                .ok_or_else(|| HomeError(format!("channel {id} is not a server channel")))
        };
        let mut channel = fetch(self.configured.unwrap_or(self.channel)).await?;
        if channel.thread_metadata.is_some() {
            let parent = channel
                .parent_id
                .ok_or_else(|| HomeError(format!("thread {} has no parent", channel.id)))?;
            channel = fetch(parent).await?;
        }
        Ok((channel.id, channel.kind == ChannelType::Forum))
    }
}

impl Homes for ThreadHomes<'_> {
    async fn open(&self, _actor: &Actor, ticket: &Ticket) -> Result<Home, HomeError> {
        let (embed, buttons) = header_message(ticket, self.banner);
        let card = CreateMessage::new()
            .embed(embed)
            .components(buttons)
            .allowed_mentions(no_mentions());
        let (thread, card) = match self.placement {
            Placement::Here => {
                let message = self
                    .channel
                    .send_message(self.http, card)
                    .await
                    .map_err(|e| HomeError(format!("posting the header card: {e}")))?;
                (self.channel, message.id)
            }
            Placement::NewThread => {
                let (parent, forum) = self.parent().await?;
                let name = card::thread_name(ticket);
                if forum {
                    let post = parent
                        .create_forum_post(self.http, CreateForumPost::new(name, card))
                        .await
                        .map_err(|e| HomeError(format!("opening a forum post: {e}")))?;
                    // A forum post's first message has the post's id.
                    (post.id, MessageId::new(post.id.get()))
                } else {
                    let thread = parent
                        .create_thread(
                            self.http,
                            CreateThread::new(name).kind(ChannelType::PublicThread),
                        )
                        .await
                        .map_err(|e| HomeError(format!("opening a thread: {e}")))?;
                    match thread.id.send_message(self.http, card).await {
                        Ok(message) => (thread.id, message.id),
                        // The thread exists: it is the ticket's home even without its card.
                        Err(e) => {
                            tracing::warn!(ticket.id = %ticket.id, error = %e, "header card not posted");
                            return Ok(Home {
                                conversation: Conversation::discord(thread.id.get()),
                                card: None,
                            });
                        }
                    }
                }
            }
        };
        // A card that is not pinned is still a card: the pin is a convenience.
        if let Err(e) = thread.pin(self.http, card).await {
            tracing::warn!(ticket.id = %ticket.id, error = %e, "header card not pinned");
        }
        Ok(Home {
            conversation: Conversation::discord(thread.get()),
            card: Some(card.get().to_string()),
        })
    }
}
