//! Buttons and modal submits. Poise dispatches only commands, so these arrive through the event
//! handler and are routed here by custom id. Custom ids are namespaced (`otb:`) and carry what the
//! handler needs (a ticket id, a saved search and a page), so a click on a card posted before a
//! restart still works.

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, EditMessage, Http};

use super::actor::{self, Source};
use super::respond::{Interaction, no_mentions};
use super::threads::{self, Placement, ThreadHomes};
use super::{Data, error, modals};
use crate::core::{Command, CreateInput, Outcome, ProfileInput};
use crate::domain::{Actor, Conversation, SearchPage, ServiceNumber, TechnicalNumber, TicketId};
use crate::render::{self, Reply};

/// Discord's limit on a custom id.
const CUSTOM_ID_MAX: usize = 100;
const PREFIX: &str = "otb";

/// What a button or a form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomId {
    /// Header card: re-read the ticket and edit the card in place.
    Refresh(TicketId),
    /// Header card: open the comment form.
    Comment(TicketId),
    /// Header card: add the user to the ticket's thread, so Discord notifies them.
    Follow(TicketId),
    /// Search result: another page of a saved search.
    Page { view: u64, page: u32 },
    /// Form: a ticket's description, its service and technical numbers already chosen.
    CreateForm {
        service: ServiceNumber,
        technical: TechnicalNumber,
    },
    /// Form: every field of a new ticket.
    CreateFullForm,
    /// Form: a comment on a ticket.
    CommentForm(TicketId),
    /// Form: the user's contact.
    ProfileForm,
    /// Status board: this page of the board, for the clicker only.
    BoardPage(u32),
    /// Nudge: show the update request that would be sent, with Send and Cancel.
    Nudge(TicketId),
    /// Nudge confirmation: send the update request for the silence since `since` (ms).
    NudgeSend { id: TicketId, since: i64 },
    /// Nudge confirmation: send nothing.
    NudgeCancel(TicketId),
    /// "Send to Orange" confirmation: send the pending comment saved as view `n`.
    SendConfirm(u64),
    /// "Send to Orange" confirmation: cancel it.
    SendCancel(u64),
}

impl CustomId {
    pub fn encode(&self) -> String {
        match self {
            CustomId::Refresh(id) => format!("{PREFIX}:refresh:{id}"),
            CustomId::Comment(id) => format!("{PREFIX}:comment:{id}"),
            CustomId::Follow(id) => format!("{PREFIX}:follow:{id}"),
            CustomId::Page { view, page } => format!("{PREFIX}:page:{view}:{page}"),
            CustomId::CreateForm { service, technical } => {
                format!("{PREFIX}:form:create:{service}:{technical}")
            }
            CustomId::CreateFullForm => format!("{PREFIX}:form:create"),
            CustomId::CommentForm(id) => format!("{PREFIX}:form:comment:{id}"),
            CustomId::ProfileForm => format!("{PREFIX}:form:profile"),
            CustomId::BoardPage(page) => format!("{PREFIX}:board:{page}"),
            CustomId::Nudge(id) => format!("{PREFIX}:nudge:{id}"),
            CustomId::NudgeSend { id, since } => format!("{PREFIX}:nudge:send:{id}:{since}"),
            CustomId::NudgeCancel(id) => format!("{PREFIX}:nudge:cancel:{id}"),
            CustomId::SendConfirm(n) => format!("{PREFIX}:send:go:{n}"),
            CustomId::SendCancel(n) => format!("{PREFIX}:send:cancel:{n}"),
        }
    }

    /// The encoding, if it fits Discord's 100 characters.
    pub fn checked(&self) -> Option<String> {
        Some(self.encode()).filter(|id| id.chars().count() <= CUSTOM_ID_MAX)
    }

    /// Reads a custom id; `None` for one that is not the bot's (or from a future version).
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split(':').collect();
        let ticket = |s: &str| TicketId::parse(s).ok();
        Some(match parts.as_slice() {
            [PREFIX, "refresh", id] => CustomId::Refresh(ticket(id)?),
            [PREFIX, "comment", id] => CustomId::Comment(ticket(id)?),
            [PREFIX, "follow", id] => CustomId::Follow(ticket(id)?),
            [PREFIX, "page", view, page] => CustomId::Page {
                view: view.parse().ok()?,
                page: page.parse().ok()?,
            },
            [PREFIX, "form", "create", service, technical] => CustomId::CreateForm {
                service: ServiceNumber::parse(service).ok()?,
                technical: TechnicalNumber::parse(technical).ok()?,
            },
            [PREFIX, "form", "create"] => CustomId::CreateFullForm,
            [PREFIX, "form", "comment", id] => CustomId::CommentForm(ticket(id)?),
            [PREFIX, "form", "profile"] => CustomId::ProfileForm,
            [PREFIX, "board", page] => CustomId::BoardPage(page.parse().ok()?),
            [PREFIX, "nudge", id] => CustomId::Nudge(ticket(id)?),
            [PREFIX, "nudge", "send", id, since] => CustomId::NudgeSend {
                id: ticket(id)?,
                since: since.parse().ok()?,
            },
            [PREFIX, "nudge", "cancel", id] => CustomId::NudgeCancel(ticket(id)?),
            [PREFIX, "send", "go", n] => CustomId::SendConfirm(n.parse().ok()?),
            [PREFIX, "send", "cancel", n] => CustomId::SendCancel(n.parse().ok()?),
            _ => return None,
        })
    }
}

/// The buttons under a header card.
pub fn card_buttons(id: &TicketId) -> Vec<CreateActionRow> {
    let button = |custom: CustomId, label: &str, style: ButtonStyle| {
        CreateButton::new(custom.encode()).label(label).style(style)
    };
    vec![CreateActionRow::Buttons(vec![
        button(
            CustomId::Refresh(id.clone()),
            "Refresh",
            ButtonStyle::Secondary,
        ),
        button(
            CustomId::Comment(id.clone()),
            "Add comment",
            ButtonStyle::Primary,
        ),
        button(
            CustomId::Follow(id.clone()),
            "Follow",
            ButtonStyle::Secondary,
        ),
    ])]
}

/// Previous/Next under a search page; none when everything fits one page.
pub fn page_buttons(page: &SearchPage, view: u64, page_size: u32) -> Vec<CreateActionRow> {
    let has_next = match page.page_count {
        Some(count) => page.page < count,
        None => page.tickets.len() + page.rejected.len() >= page_size as usize,
    };
    if page.page <= 1 && !has_next {
        return Vec::new();
    }
    let to = |n: u32| CustomId::Page { view, page: n }.encode();
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(to(page.page.saturating_sub(1).max(1)))
            .label("Previous")
            .style(ButtonStyle::Secondary)
            .disabled(page.page <= 1),
        CreateButton::new(to(page.page.saturating_add(1)))
            .label("Next")
            .style(ButtonStyle::Secondary)
            .disabled(!has_next),
    ])]
}

/// The components that go with an outcome (paging buttons for a search).
pub fn for_outcome(data: &Data, outcome: &Outcome) -> Vec<CreateActionRow> {
    match outcome {
        Outcome::Search { page, view } => {
            page_buttons(page, *view, data.settings.orange.search.page_size)
        }
        _ => Vec::new(),
    }
}

/// Routes a gateway event: component clicks and modal submits; everything else is ignored.
pub async fn on_event(ctx: &serenity::Context, event: &serenity::FullEvent, data: &Data) {
    let serenity::FullEvent::InteractionCreate { interaction } = event else {
        return;
    };
    let http = ctx.http.as_ref();
    let reply = match interaction {
        serenity::Interaction::Component(click) => Interaction::Component(click),
        serenity::Interaction::Modal(submit) => Interaction::Modal(submit),
        _ => return,
    };
    let Some(_pass) = data.gate.enter() else {
        let text = Reply::text(render::reply::shutting_down());
        if let Err(e) = reply.answer_ephemeral(http, data.banner(), &text).await {
            tracing::warn!(error = %error::chain(&e), "could not answer an interaction");
        }
        return;
    };
    let result = match interaction {
        serenity::Interaction::Component(click) => on_click(http, data, click).await,
        serenity::Interaction::Modal(submit) => on_submit(http, data, submit).await,
        _ => Ok(()),
    };
    if let Err(e) = result {
        error::count(data.core.metrics(), &e);
        tracing::warn!(error = %error::chain(&e), "could not answer an interaction");
    }
}

async fn on_click(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
) -> serenity::Result<()> {
    let reply = Interaction::Component(click);
    let Some(custom) = CustomId::parse(&click.data.custom_id) else {
        tracing::info!(custom_id = %click.data.custom_id, "click on an unknown component");
        return reply
            .answer_ephemeral(
                http,
                data.banner(),
                &Reply::text(render::reply::unknown_button()),
            )
            .await;
    };
    let actor = match actor::admit(data, Source::component(click), "button").await {
        Ok(actor) => actor,
        Err(refusal) => {
            return reply
                .answer_ephemeral(http, data.banner(), &Reply::text(refusal.user_message()))
                .await;
        }
    };
    if let CustomId::Page { view, page } = custom {
        return turn_page(http, data, reply, view, page).await;
    }
    if let CustomId::BoardPage(page) = custom {
        return super::board::show_page(http, data, reply, page).await;
    }
    if let CustomId::SendConfirm(_) | CustomId::SendCancel(_) = custom {
        return super::send::on_click(http, data, click, &actor, &custom).await;
    }
    let ticket = match &custom {
        CustomId::Refresh(id)
        | CustomId::Comment(id)
        | CustomId::Follow(id)
        | CustomId::Nudge(id)
        | CustomId::NudgeSend { id, .. }
        | CustomId::NudgeCancel(id) => id.clone(),
        _ => {
            return reply
                .answer_ephemeral(
                    http,
                    data.banner(),
                    &Reply::text(render::reply::unknown_button()),
                )
                .await;
        }
    };
    // A card is only live where its ticket is still linked.
    let here = Conversation::discord(click.channel_id.get());
    let linked = data.core.store().ticket_for(&here).ok().flatten();
    if linked.as_ref() != Some(&ticket) {
        return reply
            .answer_ephemeral(
                http,
                data.banner(),
                &Reply::text(render::reply::card_not_linked(&ticket)),
            )
            .await;
    }
    match custom {
        CustomId::Refresh(id) => refresh_card(http, data, click, &actor, &id).await,
        CustomId::Comment(id) => comment_form(http, data, reply, &actor, &id).await,
        CustomId::Follow(id) => follow_thread(http, data, click, &id).await,
        CustomId::Nudge(_) => super::nudge::confirm(http, data, reply, &actor).await,
        CustomId::NudgeSend { since, .. } => {
            super::nudge::send(http, data, reply, &actor, since).await
        }
        CustomId::NudgeCancel(_) => super::nudge::cancel(http, data, reply).await,
        _ => Ok(()),
    }
}

/// Previous/Next on a search page: the page the user has stays when the next one fails.
async fn turn_page(
    http: &Http,
    data: &Data,
    reply: Interaction<'_>,
    view: u64,
    page: u32,
) -> serenity::Result<()> {
    reply.defer_update(http).await?;
    match data.core.search_view(view, page).await {
        Ok(outcome) => super::commands::finish(http, data, reply, Ok(outcome)).await,
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "search page failed");
            reply
                .followup_ephemeral(http, data.banner(), &Reply::text(e.user_message()))
                .await
        }
    }
}

/// Refresh: reads the ticket again and edits the header card in place.
async fn refresh_card(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
    actor: &Actor,
    id: &TicketId,
) -> serenity::Result<()> {
    let reply = Interaction::Component(click);
    reply.defer_ephemeral(http).await?;
    let ticket = match data.core.show(actor, Some(id.as_str())).await {
        Ok(t) => t,
        Err(e) => return super::commands::finish_with(http, data, reply, Err(e), Vec::new()).await,
    };
    let (embed, buttons) = threads::header_message(&ticket, data.banner());
    let edit = EditMessage::new()
        .embed(embed)
        .components(buttons)
        .allowed_mentions(no_mentions());
    let result = match click
        .channel_id
        .edit_message(http, click.message.id, edit)
        .await
    {
        Ok(_) => render::reply::refreshed(&ticket),
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "header card not edited");
            Reply::text(render::reply::card_not_edited())
        }
    };
    super::commands::finish_with(http, data, reply, Ok(result), Vec::new()).await
}

/// Add comment: a form sized to what Orange accepts after the signature.
async fn comment_form(
    http: &Http,
    data: &Data,
    reply: Interaction<'_>,
    actor: &Actor,
    id: &TicketId,
) -> serenity::Result<()> {
    let form = data
        .core
        .comment_room(actor)
        .await
        .map(|room| modals::comment(id, room));
    match form {
        Ok(Some(form)) => reply.modal(http, form).await,
        Ok(None) => {
            reply
                .answer_ephemeral(
                    http,
                    data.banner(),
                    &Reply::text(render::reply::unknown_button()),
                )
                .await
        }
        Err(e) => {
            reply
                .answer_ephemeral(http, data.banner(), &Reply::text(e.user_message()))
                .await
        }
    }
}

/// Follow: adds the user to the thread.
async fn follow_thread(
    http: &Http,
    data: &Data,
    click: &serenity::ComponentInteraction,
    id: &TicketId,
) -> serenity::Result<()> {
    let text = match click
        .channel_id
        .add_thread_member(http, click.user.id)
        .await
    {
        Ok(()) => render::reply::following_thread(id),
        Err(e) => {
            tracing::warn!(error = %error::chain(&e), "could not add a thread member");
            render::reply::follow_failed()
        }
    };
    Interaction::Component(click)
        .answer_ephemeral(http, data.banner(), &Reply::text(text))
        .await
}

async fn on_submit(
    http: &Http,
    data: &Data,
    submit: &serenity::ModalInteraction,
) -> serenity::Result<()> {
    let reply = Interaction::Modal(submit);
    let actor = match actor::admit(data, Source::modal(submit), "form").await {
        Ok(actor) => actor,
        Err(refusal) => {
            return reply
                .answer_ephemeral(http, data.banner(), &Reply::text(refusal.user_message()))
                .await;
        }
    };
    let command = match CustomId::parse(&submit.data.custom_id) {
        Some(CustomId::CreateForm { service, technical }) => Command::Create(CreateInput {
            service: service.to_string(),
            technical: technical.to_string(),
            description: modals::value(submit, "description"),
            external_ref: modals::optional(submit, "reference"),
        }),
        Some(CustomId::CreateFullForm) => Command::Create(CreateInput {
            service: modals::value(submit, "service"),
            technical: modals::value(submit, "technical"),
            description: modals::value(submit, "description"),
            external_ref: modals::optional(submit, "reference"),
        }),
        Some(CustomId::CommentForm(id)) => Command::Comment {
            id: Some(id.to_string()),
            text: modals::value(submit, "text"),
        },
        Some(CustomId::ProfileForm) => Command::Profile(Some(ProfileInput {
            first_name: modals::value(submit, "first_name"),
            last_name: modals::value(submit, "last_name"),
            email: modals::optional(submit, "email"),
            phone: modals::optional(submit, "phone"),
        })),
        _ => {
            return reply
                .answer_ephemeral(
                    http,
                    data.banner(),
                    &Reply::text(render::reply::unknown_button()),
                )
                .await;
        }
    };
    let homes = ThreadHomes::new(http, data, submit.channel_id, Placement::NewThread);
    super::commands::run(http, data, reply, &actor, command, &homes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_stay_within_discord_limits() {
        let id = TicketId::parse("1234567890").expect("id");
        let all = [
            CustomId::Refresh(id.clone()),
            CustomId::Comment(id.clone()),
            CustomId::Follow(id.clone()),
            CustomId::Page {
                view: u64::MAX,
                page: u32::MAX,
            },
            CustomId::CreateForm {
                service: ServiceNumber::parse("LD000000").expect("service"),
                technical: TechnicalNumber::parse("LD000001/A").expect("technical"),
            },
            CustomId::CreateFullForm,
            CustomId::CommentForm(id.clone()),
            CustomId::ProfileForm,
            CustomId::BoardPage(u32::MAX),
            CustomId::Nudge(id.clone()),
            CustomId::NudgeSend {
                id: id.clone(),
                since: i64::MIN,
            },
            CustomId::NudgeCancel(id.clone()),
            CustomId::SendConfirm(u64::MAX),
            CustomId::SendCancel(u64::MAX),
        ];
        for custom in all {
            let encoded = custom.checked().expect("fits 100 characters");
            assert_eq!(CustomId::parse(&encoded), Some(custom), "{encoded}");
        }
        assert_eq!(CustomId::parse("refresh"), None, "not namespaced");
        assert_eq!(
            CustomId::parse("otb:refresh:12/34"),
            None,
            "not a ticket id"
        );
        assert_eq!(CustomId::parse("otb:page:x:1"), None);
        let long = CustomId::CommentForm(TicketId::parse(&"9".repeat(64)).expect("id"));
        assert!(long.checked().is_some());
        let too_long = CustomId::CreateForm {
            service: ServiceNumber::parse(&"S".repeat(32)).expect("service"),
            technical: TechnicalNumber::parse(&"T".repeat(64)).expect("technical"),
        };
        assert_eq!(too_long.checked(), None);
    }
}
