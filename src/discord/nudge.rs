//! A nudge's button in Discord: "Ask Orange for an update" shows, only to the clicker, exactly the
//! comment that would be sent, with Send and Cancel; only Send sends it (once per silence).

use chrono::DateTime;
use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, Http};

use super::commands::finish_with;
use super::components::CustomId;
use super::respond::Interaction;
use super::{Data, error};
use crate::core::Asked;
use crate::domain::{Actor, TicketId};
use crate::render::{self, Reply};

/// The button under a nudge.
pub fn button(id: &TicketId) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(CustomId::Nudge(id.clone()).encode())
            .label("Ask Orange for an update")
            .style(ButtonStyle::Primary),
    ])]
}

/// The confirmation: the comment as Orange would receive it, with Send and Cancel.
pub async fn confirm(
    http: &Http,
    data: &Data,
    reply: Interaction<'_>,
    actor: &Actor,
) -> serenity::Result<()> {
    reply.defer_ephemeral(http).await?;
    let request = match data.core.update_request_preview(actor).await {
        Ok(request) => request,
        Err(e) => return finish_with(http, data, reply, Err(e), Vec::new()).await,
    };
    let id = &request.ticket;
    let send = CustomId::NudgeSend {
        id: id.clone(),
        since: request.since.timestamp_millis(),
    };
    let buttons = vec![CreateActionRow::Buttons(vec![
        CreateButton::new(send.encode())
            .label("Send")
            .style(ButtonStyle::Primary),
        CreateButton::new(CustomId::NudgeCancel(id.clone()).encode())
            .label("Cancel")
            .style(ButtonStyle::Secondary),
    ])];
    let words = Reply::text(render::reply::update_request_confirm(id, &request.text));
    finish_with(http, data, reply, Ok(words), buttons).await
}

/// Send: the comment goes to Orange (unless this silence was already asked about); the
/// confirmation is replaced by what happened.
pub async fn send(
    http: &Http,
    data: &Data,
    reply: Interaction<'_>,
    actor: &Actor,
    since_ms: i64,
) -> serenity::Result<()> {
    reply.defer_update(http).await?;
    let Some(since) = DateTime::from_timestamp_millis(since_ms) else {
        let text = Reply::text(render::reply::unknown_button());
        return finish_with(http, data, reply, Ok(text), Vec::new()).await;
    };
    let result = match data.core.ask_for_update(actor, since).await {
        Ok(Asked::Sent(id)) => Ok(Reply::text(render::reply::update_requested(&id))),
        Ok(Asked::AlreadyAsked(id)) => {
            Ok(Reply::text(render::reply::update_already_requested(&id)))
        }
        Ok(Asked::NewsSince(id)) => Ok(Reply::text(render::reply::news_since_confirmation(&id))),
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "update request failed");
            Err(e)
        }
    };
    finish_with(http, data, reply, result, Vec::new()).await
}

/// Cancel: nothing is sent.
pub async fn cancel(http: &Http, data: &Data, reply: Interaction<'_>) -> serenity::Result<()> {
    reply.defer_update(http).await?;
    let text = Reply::text(render::reply::nothing_sent());
    finish_with(http, data, reply, Ok(text), Vec::new()).await
}
