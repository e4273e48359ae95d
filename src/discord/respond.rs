//! Answering any interaction the same way: defer first (Discord allows 3 s for the first answer;
//! Orange may take longer), then edit the deferred answer; or answer at once when nothing slow
//! comes first. Every message goes out with `allowed_mentions` that allow nothing, so an
//! `@everyone` in a note from Orange or a user never pings anyone.

use poise::serenity_prelude as serenity;
use serenity::{
    CreateActionRow, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseMessage, EditInteractionResponse, Http,
};

use super::embeds;
use crate::render::{Banner, Reply, card::cut};

/// Discord's limit on message content.
const CONTENT_MAX: usize = 2000;

/// No pings, whatever the text says.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// An interaction of any kind the bot answers.
#[derive(Debug, Clone, Copy)]
pub enum Interaction<'a> {
    Command(&'a serenity::CommandInteraction),
    Component(&'a serenity::ComponentInteraction),
    Modal(&'a serenity::ModalInteraction),
}

impl Interaction<'_> {
    async fn create(
        &self,
        http: &Http,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        match self {
            Interaction::Command(i) => i.create_response(http, response).await,
            Interaction::Component(i) => i.create_response(http, response).await,
            Interaction::Modal(i) => i.create_response(http, response).await,
        }
    }

    /// "The bot is thinking", visible to the user only; the answer comes with [`Self::edit`].
    pub async fn defer_ephemeral(&self, http: &Http) -> serenity::Result<()> {
        let message = CreateInteractionResponseMessage::new().ephemeral(true);
        self.create(http, CreateInteractionResponse::Defer(message))
            .await
    }

    /// For a click on a message that will be edited in place: acknowledge without a message.
    pub async fn defer_update(&self, http: &Http) -> serenity::Result<()> {
        self.create(http, CreateInteractionResponse::Acknowledge)
            .await
    }

    /// Answers at once with a message only the user sees.
    pub async fn answer_ephemeral(
        &self,
        http: &Http,
        banner: Banner,
        reply: &Reply,
    ) -> serenity::Result<()> {
        let message = create_message(&banner.reply(reply)).ephemeral(true);
        self.create(http, CreateInteractionResponse::Message(message))
            .await
    }

    /// A further message only the user sees (beside a message that must stay as it is).
    pub async fn followup_ephemeral(
        &self,
        http: &Http,
        banner: Banner,
        reply: &Reply,
    ) -> serenity::Result<()> {
        let reply = &banner.reply(reply);
        let mut message = serenity::CreateInteractionResponseFollowup::new()
            .ephemeral(true)
            .allowed_mentions(no_mentions())
            .embeds(reply.cards.iter().map(embeds::embed).collect());
        if reply.text.is_some() {
            message = message.content(content(reply));
        }
        match self {
            Interaction::Command(i) => i.create_followup(http, message).await.map(drop),
            Interaction::Component(i) => i.create_followup(http, message).await.map(drop),
            Interaction::Modal(i) => i.create_followup(http, message).await.map(drop),
        }
    }

    /// Shows a form.
    pub async fn modal(&self, http: &Http, modal: serenity::CreateModal) -> serenity::Result<()> {
        self.create(http, CreateInteractionResponse::Modal(modal))
            .await
    }

    /// Replaces the deferred answer (or, after [`Self::defer_update`], the clicked message).
    pub async fn edit(
        &self,
        http: &Http,
        banner: Banner,
        reply: &Reply,
        components: Vec<CreateActionRow>,
    ) -> serenity::Result<()> {
        let reply = &banner.reply(reply);
        let edit = edit_message(reply).components(components);
        match self.edit_raw(http, edit).await {
            Ok(()) => Ok(()),
            // Once more with the sentence alone: it may carry what must not be lost (a new
            // ticket's id), and the cards or buttons may be what Discord refused.
            Err(e) if reply.text.is_some() && !reply.cards.is_empty() => {
                tracing::warn!(error = %super::error::chain(&e), "answer refused; sending its sentence alone");
                let text = Reply::text(reply.text.clone().unwrap_or_default());
                self.edit_raw(http, edit_message(&text).components(Vec::new()))
                    .await
            }
            Err(e) => Err(e),
        }
    }

    async fn edit_raw(&self, http: &Http, edit: EditInteractionResponse) -> serenity::Result<()> {
        match self {
            Interaction::Command(i) => i.edit_response(http, edit).await.map(drop),
            Interaction::Component(i) => i.edit_response(http, edit).await.map(drop),
            Interaction::Modal(i) => i.edit_response(http, edit).await.map(drop),
        }
    }

    /// [`Self::answer_ephemeral`] with buttons under the message.
    pub async fn answer_ephemeral_with(
        &self,
        http: &Http,
        banner: Banner,
        reply: &Reply,
        components: Vec<CreateActionRow>,
    ) -> serenity::Result<()> {
        let message = create_message(&banner.reply(reply))
            .ephemeral(true)
            .components(components);
        self.create(http, CreateInteractionResponse::Message(message))
            .await
    }
}

fn content(reply: &Reply) -> String {
    reply
        .text
        .as_deref()
        .map(|t| cut(t, CONTENT_MAX))
        .unwrap_or_default()
}

fn create_message(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut message = CreateInteractionResponseMessage::new()
        .allowed_mentions(no_mentions())
        .embeds(reply.cards.iter().map(embeds::embed).collect());
    if reply.text.is_some() {
        message = message.content(content(reply));
    }
    for file in &reply.files {
        message = message.add_file(serenity::CreateAttachment::bytes(
            file.text.as_bytes().to_vec(),
            file.name.clone(),
        ));
    }
    message
}

fn edit_message(reply: &Reply) -> EditInteractionResponse {
    // An edit replaces content and embeds alike, so a stale card never survives a sentence.
    let mut edit = EditInteractionResponse::new()
        .allowed_mentions(no_mentions())
        .content(content(reply))
        .embeds(reply.cards.iter().map(embeds::embed).collect());
    for file in &reply.files {
        edit = edit.new_attachment(serenity::CreateAttachment::bytes(
            file.text.as_bytes().to_vec(),
            file.name.clone(),
        ));
    }
    edit
}
