//! Ticket commands: create (a form, then a thread), the "Open Orange ticket" message command,
//! show, comment, search, link, unlink, services.

use poise::serenity_prelude as serenity;
use serenity::CreateAutocompleteResponse;

use super::{Placement, answer_now, choices, dispatch, in_thread, show_form, turn, typed_option};
use crate::core::{Command, SearchInput};
use crate::discord::{CommandError, Context, modals};
use crate::domain::{ServiceNumber, SortColumn, Status, TechnicalNumber};
use crate::render::Reply;

async fn ac_service(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    choices(ctx, async |d| d.core.suggest_services(partial)).await
}

async fn ac_technical(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let service = match ctx {
        poise::Context::Application(app) => typed_option(&app.interaction.data.options, "service"),
        poise::Context::Prefix(_) => None,
    };
    choices(ctx, async |d| {
        d.core.suggest_technical(service.as_deref(), partial)
    })
    .await
}

async fn ac_ticket(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    choices(ctx, async |d| {
        d.core.suggest_tickets(partial).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ticket suggestions unavailable");
            Vec::new()
        })
    })
    .await
}

/// Open an Orange ticket: pick the service, then describe the fault in a form
#[poise::command(slash_command)]
pub async fn create(
    ctx: Context<'_>,
    #[description = "Service number (LD…)"]
    #[autocomplete = "ac_service"]
    service: String,
    #[description = "Technical number under that service"]
    #[autocomplete = "ac_technical"]
    technical: String,
) -> Result<(), CommandError> {
    let (_, actor) = turn(ctx)?;
    let data = ctx.data();
    if let Err(e) = data.core.check_create(&actor, &service, &technical).await {
        return answer_now(ctx, &Reply::text(e.user_message())).await;
    }
    let max = data.settings.core.description_max_chars;
    let form = match (
        ServiceNumber::parse(&service),
        TechnicalNumber::parse(&technical),
    ) {
        (Ok(s), Ok(t)) => modals::create(&s, &t, max),
        _ => None,
    };
    let form = form
        .unwrap_or_else(|| modals::create_full(Some(&service), Some(&technical), None, None, max));
    show_form(ctx, form).await
}

/// Open an Orange ticket from this message
#[poise::command(context_menu_command = "Open Orange ticket")]
pub async fn open_from_message(
    ctx: Context<'_>,
    message: serenity::Message,
) -> Result<(), CommandError> {
    let (app, actor) = turn(ctx)?;
    let data = ctx.data();
    if let Err(e) = data.core.may_create(&actor).await {
        return answer_now(ctx, &Reply::text(e.user_message())).await;
    }
    let link = app.interaction.guild_id.map(|guild| {
        format!(
            "https://discord.com/channels/{guild}/{}/{}",
            message.channel_id, message.id
        )
    });
    let form = modals::create_full(
        None,
        None,
        Some(&message.content),
        link.as_deref(),
        data.settings.core.description_max_chars,
    );
    show_form(ctx, form).await
}

/// Show a ticket as Orange has it now (this thread's ticket by default)
#[poise::command(slash_command)]
pub async fn show(
    ctx: Context<'_>,
    #[description = "Ticket id (default: this thread's ticket)"]
    #[autocomplete = "ac_ticket"]
    id: Option<String>,
) -> Result<(), CommandError> {
    dispatch(ctx, Command::Show { id }, Placement::Here).await
}

/// Add a comment to a ticket (this thread's ticket by default)
#[poise::command(slash_command)]
pub async fn comment(
    ctx: Context<'_>,
    #[description = "The comment; Orange sees it signed with your name"] text: String,
    #[description = "Ticket id (default: this thread's ticket)"]
    #[autocomplete = "ac_ticket"]
    id: Option<String>,
) -> Result<(), CommandError> {
    dispatch(ctx, Command::Comment { id, text }, Placement::Here).await
}

/// A ticket status, as a search filter.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum StatusChoice {
    #[name = "submitted"]
    Submitted,
    #[name = "in_qualification"]
    InQualification,
    #[name = "ongoing"]
    Ongoing,
    #[name = "frozen"]
    Frozen,
    #[name = "restored"]
    Restored,
    #[name = "repaired"]
    Repaired,
    #[name = "closed"]
    Closed,
    #[name = "errored"]
    Errored,
}

/// A column to sort by.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum SortChoice {
    #[name = "ticket number"]
    TicketNumber,
    #[name = "service number"]
    OrangeServiceNumber,
    #[name = "status"]
    Status,
    #[name = "start date"]
    StartDate,
    #[name = "customer reference"]
    CustomerRef,
    #[name = "reported by"]
    ReportedBy,
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum OrderChoice {
    #[name = "ascending"]
    Ascending,
    #[name = "descending"]
    Descending,
}

impl From<StatusChoice> for Status {
    fn from(s: StatusChoice) -> Self {
        match s {
            StatusChoice::Submitted => Status::Submitted,
            StatusChoice::InQualification => Status::InQualification,
            StatusChoice::Ongoing => Status::Ongoing,
            StatusChoice::Frozen => Status::Frozen,
            StatusChoice::Restored => Status::Restored,
            StatusChoice::Repaired => Status::Repaired,
            StatusChoice::Closed => Status::Closed,
            StatusChoice::Errored => Status::Errored,
        }
    }
}

impl From<SortChoice> for SortColumn {
    fn from(s: SortChoice) -> Self {
        match s {
            SortChoice::TicketNumber => SortColumn::TicketNumber,
            SortChoice::OrangeServiceNumber => SortColumn::OrangeServiceNumber,
            SortChoice::Status => SortColumn::Status,
            SortChoice::StartDate => SortColumn::StartDate,
            SortChoice::CustomerRef => SortColumn::CustomerRef,
            SortChoice::ReportedBy => SortColumn::ReportedBy,
        }
    }
}

/// Search the account's tickets
#[poise::command(slash_command)]
#[allow(clippy::too_many_arguments)] // reason: one argument per documented search filter
pub async fn search(
    ctx: Context<'_>,
    #[description = "Status"] status: Option<StatusChoice>,
    #[description = "Service number"]
    #[autocomplete = "ac_service"]
    service: Option<String>,
    #[description = "Reported by (name)"] reported_by: Option<String>,
    #[description = "Created from (YYYY-MM-DD, UTC)"] from: Option<String>,
    #[description = "Created until (YYYY-MM-DD, UTC)"] to: Option<String>,
    #[description = "Sort by"] sort: Option<SortChoice>,
    #[description = "Order"] order: Option<OrderChoice>,
) -> Result<(), CommandError> {
    let input = SearchInput {
        status: status.map(|s| Status::from(s).as_wire().to_owned()),
        service,
        reported_by,
        id: None,
        from,
        to,
        sort: sort.map(|s| SortColumn::from(s).as_wire().to_owned()),
        ascending: order.map(|o| matches!(o, OrderChoice::Ascending)),
        page: None,
    };
    dispatch(ctx, Command::Search(input), Placement::Here).await
}

/// Link a ticket opened elsewhere to this thread (in a channel: to a new thread)
#[poise::command(slash_command)]
pub async fn link(
    ctx: Context<'_>,
    #[description = "Ticket id"]
    #[autocomplete = "ac_ticket"]
    id: String,
) -> Result<(), CommandError> {
    let (app, _) = turn(ctx)?;
    let placement = if in_thread(&app) {
        Placement::Here
    } else {
        Placement::NewThread
    };
    dispatch(ctx, Command::Link { id }, placement).await
}

/// Unlink this thread from its ticket
#[poise::command(slash_command)]
pub async fn unlink(ctx: Context<'_>) -> Result<(), CommandError> {
    dispatch(ctx, Command::Unlink, Placement::Here).await
}

/// List the account's service numbers and technical numbers
#[poise::command(slash_command)]
pub async fn services(ctx: Context<'_>) -> Result<(), CommandError> {
    dispatch(ctx, Command::Services, Placement::Here).await
}
