//! The "Send to Orange" confirmation's buttons. Their custom ids carry only the number of the
//! pending send saved in the store, so a confirmation shown before a restart still works (or
//! says clearly that it no longer does). Send: claim it (once), defer, send it through the core,
//! edit the confirmation and tell the thread. Cancel: close it, edit the confirmation.

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, CreateMessage, Http};

use super::components::CustomId;
use super::respond::{Interaction, no_mentions};
use super::{Data, error};
use crate::core::{SendDone, SendPreview};
use crate::domain::Actor;
use crate::render::{self, Reply};

/// Send and Cancel under a confirmation.
pub fn buttons(preview: &SendPreview) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(CustomId::SendConfirm(preview.number).encode())
            .label("Send")
            .style(ButtonStyle::Primary),
        CreateButton::new(CustomId::SendCancel(preview.number).encode())
            .label("Cancel")
            .style(ButtonStyle::Secondary),
    ])]
}

/// A click on Send or Cancel.
pub async fn on_click(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
    actor: &Actor,
    custom: &CustomId,
) -> serenity::Result<()> {
    match *custom {
        CustomId::SendConfirm(number) => confirm(http, data, click, actor, number).await,
        CustomId::SendCancel(number) => cancel(http, data, click, actor, number).await,
        _ => Ok(()),
    }
}

async fn confirm(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
    actor: &Actor,
    number: u64,
) -> serenity::Result<()> {
    let reply = Interaction::Component(click);
    // Claimed before anything is answered: a second click is told at once, in a message of its
    // own, and the confirmation keeps saying what became of the first.
    let claim = match data.core.claim_send(actor, number).await {
        Ok(claim) => claim,
        Err(e) => {
            tracing::info!(error = %error::chain(&e), "send not claimed");
            return reply
                .answer_ephemeral(http, data.banner(), &Reply::text(e.user_message()))
                .await;
        }
    };
    // Claimed: the send goes ahead even if Discord no longer takes an answer (the claim took
    // too long), or it would stay "being sent" for good; the thread still hears of it.
    if let Err(e) = reply.defer_update(http).await {
        tracing::warn!(error = %error::chain(&e), "send confirmation not acknowledged; sending anyway");
    }
    match data.core.send_claimed(actor, claim).await {
        Ok(done) => {
            let answer = if announce(http, data, click.channel_id, &done).await {
                render::send::sent(&done)
            } else {
                render::send::sent_unannounced(&done)
            };
            reply.edit(http, data.banner(), &answer, Vec::new()).await
        }
        Err(not_sent) => {
            tracing::warn!(error = %error::chain(&not_sent.error), "send to Orange failed");
            let answer =
                render::send::not_sent(&not_sent.error.user_message(), not_sent.retry.as_ref());
            let components = not_sent.retry.as_ref().map(buttons).unwrap_or_default();
            reply.edit(http, data.banner(), &answer, components).await
        }
    }
}

/// The thread's public line; whether it was posted.
async fn announce(http: &Http, data: &Data, channel: serenity::ChannelId, done: &SendDone) -> bool {
    let text = data
        .banner()
        .reply(&Reply::text(render::send::sent_notice(done)))
        .text
        .unwrap_or_default();
    let message = CreateMessage::new()
        .content(text)
        .allowed_mentions(no_mentions());
    match channel.send_message(http, message).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "the thread was not told of a send");
            false
        }
    }
}

async fn cancel(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
    actor: &Actor,
    number: u64,
) -> serenity::Result<()> {
    let reply = Interaction::Component(click);
    match data.core.cancel_send(actor, number).await {
        Ok(ticket) => {
            reply.defer_update(http).await?;
            let answer = render::send::cancelled(&ticket);
            reply.edit(http, data.banner(), &answer, Vec::new()).await
        }
        Err(e) => {
            reply
                .answer_ephemeral(http, data.banner(), &Reply::text(e.user_message()))
                .await
        }
    }
}
