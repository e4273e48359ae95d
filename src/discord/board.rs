//! The status board in Discord: one message per channel that keeps it (posted, edited and removed
//! by the watcher through [`DiscordNotifier`]'s [`BoardSurface`]), its first page with buttons
//! that show the other pages to whoever clicks, only to them.

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ChannelId, CreateActionRow, CreateButton, CreateEmbed, CreateMessage, EditMessage,
    Http, MessageId,
};

use super::components::CustomId;
use chrono::{DateTime, Utc};

use super::notifier::{DiscordNotifier, NONCE_TRUSTED, classify};
use super::respond::{Interaction, no_mentions};
use super::{Data, embeds, error};
use crate::core::{BoardSurface, DeliveryError};
use crate::domain::{Board, Conversation, Transport};
use crate::render::board::{Times, pages};
use crate::render::{Banner, Reply, notice};

/// Page `page` (1-based, clamped) of `board` with its paging buttons.
pub fn board_message(
    board: &Board,
    page: usize,
    banner: Banner,
) -> (CreateEmbed, Vec<CreateActionRow>) {
    let (card, buttons) = page_of(board, page);
    (embeds::embed(&banner.card(card)), buttons)
}

/// Page `page` (1-based, clamped) of `board` and its paging buttons.
fn page_of(board: &Board, page: usize) -> (crate::render::Card, Vec<CreateActionRow>) {
    let cards = pages(board, Times::Relative);
    let count = cards.len();
    let page = page.clamp(1, count);
    let card = cards.into_iter().nth(page - 1).unwrap_or_default();
    (card, page_buttons(page, count))
}

/// Previous/Next between the board's pages; none when it has one page.
fn page_buttons(page: usize, count: usize) -> Vec<CreateActionRow> {
    if count <= 1 {
        return Vec::new();
    }
    let to = |n: usize| CustomId::BoardPage(u32::try_from(n).unwrap_or(u32::MAX)).encode();
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(to(page.saturating_sub(1).max(1)))
            .label("Previous page")
            .style(ButtonStyle::Secondary)
            .disabled(page <= 1),
        CreateButton::new(to(page + 1))
            .label("Next page")
            .style(ButtonStyle::Secondary)
            .disabled(page >= count),
    ])]
}

/// A paging button: that page of the board as it is now, for the clicker only.
pub async fn show_page(
    http: &Http,
    data: &Data,
    reply: Interaction<'_>,
    page: u32,
) -> serenity::Result<()> {
    reply.defer_ephemeral(http).await?;
    match data.core.board().await {
        Ok(board) => {
            let (card, buttons) = page_of(&board, usize::try_from(page).unwrap_or(usize::MAX));
            reply
                .edit(http, data.banner(), &Reply::card(card), buttons)
                .await
        }
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "board page not built");
            reply
                .edit(
                    http,
                    data.banner(),
                    &Reply::text(e.user_message()),
                    Vec::new(),
                )
                .await
        }
    }
}

fn channel(at: &Conversation) -> Result<ChannelId, DeliveryError> {
    at.id
        .parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(ChannelId::new)
        .ok_or_else(|| DeliveryError::Refused(format!("not a channel id: {}", at.id)))
}

fn message_id(raw: &str) -> Result<MessageId, DeliveryError> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(MessageId::new)
        .ok_or_else(|| DeliveryError::Gone(format!("not a message id: {raw}")))
}

impl BoardSurface for DiscordNotifier {
    fn keeps_boards(&self, at: &Conversation) -> bool {
        at.transport == Transport::Discord
    }

    async fn post_board(
        &self,
        at: &Conversation,
        board: &Board,
        key: &str,
        first_tried: DateTime<Utc>,
    ) -> Result<String, DeliveryError> {
        let channel = channel(at)?;
        // Past the nonce window, a post that landed before a crash is only found by its line.
        if Utc::now() - first_tried > NONCE_TRUSTED
            && let Some(posted) = self.posted_with(channel, key).await?
        {
            return Ok(posted.to_string());
        }
        let (embed, buttons) = board_message(board, 1, self.banner());
        let message = CreateMessage::new()
            .content(notice::marker(key))
            .embed(embed)
            .components(buttons)
            .allowed_mentions(no_mentions())
            .nonce(serenity::Nonce::String(key.to_owned()))
            .enforce_nonce(true);
        let posted = channel
            .send_message(self.http(), message)
            .await
            .map_err(|e| classify(self.core().metrics(), e))?;
        Ok(posted.id.to_string())
    }

    async fn edit_board(
        &self,
        at: &Conversation,
        message: &str,
        board: &Board,
    ) -> Result<(), DeliveryError> {
        let (embed, buttons) = board_message(board, 1, self.banner());
        let edit = EditMessage::new()
            .embed(embed)
            .components(buttons)
            .allowed_mentions(no_mentions());
        channel(at)?
            .edit_message(self.http(), message_id(message)?, edit)
            .await
            .map(drop)
            .map_err(|e| classify(self.core().metrics(), e))
    }

    async fn remove_board(&self, at: &Conversation, message: &str) -> Result<(), DeliveryError> {
        channel(at)?
            .delete_message(self.http(), message_id(message)?)
            .await
            .map_err(|e| classify(self.core().metrics(), e))
    }
}
