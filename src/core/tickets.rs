//! Ticket use cases: services, create, comment, show, search, link, unlink.

use std::sync::Arc;

use chrono::Utc;

use serde::{Deserialize, Serialize};

use super::{Core, CoreError, Home, Homes, input};
use crate::domain::SearchPage;
use crate::domain::{
    Actor, Conversation, NewComment, NewTicket, Opener, Permission, SearchQuery, Service,
    ServiceNumber, Status, TechnicalNumber, Ticket, TicketId, Transport,
};

/// What a user gives to open a ticket (raw text, validated by the core).
#[derive(Debug, Clone, Default)]
pub struct CreateInput {
    pub service: String,
    pub technical: String,
    pub description: String,
    /// The customer reference; by default a reference back to the conversation.
    pub external_ref: Option<String>,
}

/// A ticket just opened.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: TicketId,
    /// The ticket as Orange shows it right after creation, when it could be read back.
    pub ticket: Option<Ticket>,
    /// The conversation linked to it (the console session, a new Discord thread); `None` when
    /// the transport or the store failed, which the logs explain.
    pub home: Option<Home>,
}

/// Search filters as typed by a user; each is optional. Saved with a result page so its
/// paging buttons can ask for the next one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchInput {
    pub status: Option<String>,
    pub service: Option<String>,
    pub reported_by: Option<String>,
    pub id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    pub ascending: Option<bool>,
    pub page: Option<u32>,
}

impl Core {
    /// The account's services (cached).
    #[tracing::instrument(skip_all)]
    pub async fn services(&self) -> Result<Arc<Vec<Service>>, CoreError> {
        Ok(self
            .services
            .get(&self.orange, self.orange.interactive())
            .await?)
    }

    /// The services from the cache only, however old, for autocomplete: it must answer within
    /// Discord's 3 s and never waits on Orange. `None` until [`Core::services`] has run once.
    pub fn services_cached(&self) -> Option<Arc<Vec<Service>>> {
        self.services.cached()
    }

    /// Opens a ticket. The service and technical numbers are checked against the account's
    /// services before Orange is called; the contact is the actor's profile or the team default.
    /// `homes` gives the ticket its conversation (the console session, a new Discord thread).
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn create_ticket(
        &self,
        actor: &Actor,
        input: CreateInput,
        homes: &impl Homes,
    ) -> Result<Created, CoreError> {
        self.authorize(actor, Permission::Create, "create").await?;
        let result = self.create_inner(actor, input, homes).await;
        let id = result.as_ref().ok().map(|c| c.id.clone());
        self.audited(actor, "create", id.as_ref(), result).await
    }

    async fn create_inner(
        &self,
        actor: &Actor,
        input: CreateInput,
        homes: &impl Homes,
    ) -> Result<Created, CoreError> {
        let service = input::service_number(&input.service)?;
        let technical = input::technical_number(&input.technical)?;
        let description = input::text(
            "description",
            &input.description,
            self.settings.core.description_max_chars,
        )?;
        let external_id = match input.external_ref.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => input::text("customer reference", r, 100)?,
            // A link back to the conversation, made unique per create: the uniqueness lets the
            // client recognise a create that landed despite a timeout instead of opening a
            // duplicate (a `#fragment` keeps a URL clickable).
            _ => format!(
                "{}#{}",
                actor
                    .link
                    .clone()
                    .unwrap_or_else(|| actor.conversation.key()),
                Utc::now().timestamp_millis()
            ),
        };
        let contact = match self.store.profile(&actor.user_key)? {
            Some(c) => c,
            None => self
                .store
                .team_settings(&actor.team)?
                .default_contact
                .ok_or_else(|| {
                    CoreError::Invalid(
                    "Orange needs a contact for the ticket: set yours first with `/ticket profile`."
                        .into(),
                )
                })?,
        };
        let services = self.services().await?;
        check_numbers(&services, &service, &technical)?;
        let new = NewTicket {
            service,
            technical,
            description,
            contact,
            external_id: Some(external_id),
        };
        let id = self
            .orange
            .create_ticket(&new, self.orange.for_write())
            .await?;
        tracing::info!(ticket.id = %id, "ticket created");
        let opener = Opener {
            user_key: actor.user_key.clone(),
            team: actor.team.clone(),
        };
        if let Err(e) = self.store.set_opener(&id, &opener).await {
            // Only the opener's optional direct messages depend on it.
            tracing::warn!(ticket.id = %id, error = %e, "who opened the ticket not saved");
        }
        // Reading it back is a courtesy; the ticket exists either way.
        let read = match self.orange.get_ticket(&id, self.orange.interactive()).await {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(ticket.id = %id, error = %e, "new ticket not readable yet");
                None
            }
        };
        // Not readable yet: its home is made from what was sent.
        let ticket = read.clone().unwrap_or_else(|| Ticket {
            description: Some(new.description.clone()),
            service: Some(new.service.clone()),
            technical: Some(new.technical.clone()),
            external_id: new.external_id.clone(),
            created: Some(Utc::now()),
            // Known empty, not unknown: the watcher then announces every note it finds.
            notes: Some(Vec::new()),
            ..Ticket::new(id.clone(), Status::Submitted)
        });
        // The ticket exists at Orange now: whatever happens to its home, the user must get its
        // id, or they would open it again.
        let home = match self.settle_home(actor, &ticket, homes).await {
            Ok(home) => Some(home),
            Err(e) => {
                tracing::error!(ticket.id = %id, error = %e, "new ticket has no home");
                None
            }
        };
        let ticket = read;
        Ok(Created { id, ticket, home })
    }

    /// Opens the ticket's home with the transport, links it and remembers its header card.
    async fn settle_home(
        &self,
        actor: &Actor,
        ticket: &Ticket,
        homes: &impl Homes,
    ) -> Result<Home, CoreError> {
        let home = homes
            .open(actor, ticket)
            .await
            .map_err(|e| CoreError::Home(e.0))?;
        self.link_conversation(&home.conversation, ticket).await?;
        // The link is what matters; without the card's id, the card is only not edited later.
        if let Some(card) = &home.card
            && let Err(e) = self.store.set_card(&home.conversation, card).await
        {
            tracing::warn!(ticket.id = %ticket.id, error = %e, "header card not remembered");
        }
        Ok(home)
    }

    /// What can be checked before a user fills in a ticket's form: permission, the numbers'
    /// syntax, and (from a fresh cache only, without calling Orange) that they are the account's.
    pub async fn check_create(
        &self,
        actor: &Actor,
        service: &str,
        technical: &str,
    ) -> Result<(), CoreError> {
        self.authorize(actor, Permission::Create, "create").await?;
        let service = input::service_number(service)?;
        let technical = input::technical_number(technical)?;
        // A stale list might lack a service added since: then the create itself will tell.
        match self.services.fresh() {
            Some(list) => check_numbers(&list, &service, &technical),
            None => Ok(()),
        }
    }

    /// How many characters `actor` may write in a comment (for a form's limit), if they may
    /// comment here at all (audited when not).
    pub async fn comment_room(&self, actor: &Actor) -> Result<usize, CoreError> {
        self.authorize(actor, Permission::Comment, "comment")
            .await?;
        Ok(self.comment_room_of(actor))
    }

    /// The limit applies to what Orange receives, the attribution included.
    pub(super) fn comment_room_of(&self, actor: &Actor) -> usize {
        self.settings
            .core
            .comment_max_chars
            .saturating_sub(attribution(actor).chars().count())
    }

    /// Whether `actor` may open tickets here (audited when not).
    pub async fn may_create(&self, actor: &Actor) -> Result<(), CoreError> {
        self.authorize(actor, Permission::Create, "create").await
    }

    /// Links `conversation` (a new thread, typically) to a ticket, storing its current snapshot.
    ///
    /// When nobody else follows the ticket the snapshot is taken afresh, so a (re-)link never
    /// announces old history; when others do, theirs is kept so no change is lost for them.
    pub async fn link_conversation(
        &self,
        conversation: &Conversation,
        ticket: &Ticket,
    ) -> Result<(), CoreError> {
        let others = self
            .store
            .conversations_for(&ticket.id)
            .await?
            .into_iter()
            .any(|c| c != *conversation);
        self.store.link(conversation, &ticket.id).await?;
        if !others || self.store.snapshot(&ticket.id)?.is_none() {
            self.store.put_snapshot(ticket).await?;
        }
        Ok(())
    }

    /// The ticket to act on: the one given, else the one linked from the actor's conversation.
    fn target(&self, actor: &Actor, id: Option<&str>) -> Result<TicketId, CoreError> {
        match id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => input::ticket_id(raw),
            None => self.store.ticket_for(&actor.conversation)?.ok_or_else(|| {
                CoreError::Invalid(
                    "This conversation is not linked to a ticket: give `id:` or use the ticket's thread."
                        .into(),
                )
            }),
        }
    }

    /// Adds a comment, attributed to the actor inside the text (the API has one identity).
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn comment(
        &self,
        actor: &Actor,
        id: Option<&str>,
        text: &str,
    ) -> Result<TicketId, CoreError> {
        self.comment_as(actor, id, text, "comment").await
    }

    /// [`Core::comment`], audited as `action` (a message sent with "Send to Orange", say).
    pub(super) async fn comment_as(
        &self,
        actor: &Actor,
        id: Option<&str>,
        text: &str,
        action: &str,
    ) -> Result<TicketId, CoreError> {
        self.authorize(actor, Permission::Comment, action).await?;
        let target = self.target(actor, id);
        let result = async {
            let id = target?;
            let attribution = attribution(actor);
            let text = input::text("comment", text, self.comment_room_of(actor))?;
            // The API wants the ticket's service number with the comment.
            let service = match self.store.snapshot(&id)?.and_then(|t| t.service) {
                Some(s) => s,
                None => self
                    .orange
                    .get_ticket(&id, self.orange.interactive())
                    .await?
                    .service
                    .ok_or_else(|| {
                        CoreError::Invalid(format!(
                            "Ticket {id} has no service number, so Orange cannot take a comment on it."
                        ))
                    })?,
            };
            let comment = NewComment {
                service,
                date: Utc::now(),
                text: format!("{attribution}{text}"),
            };
            self.orange
                .add_comment(&id, &comment, self.orange.for_write())
                .await?;
            Ok(id)
        }
        .await;
        let id = result.as_ref().ok().cloned();
        self.audited(actor, action, id.as_ref(), result).await
    }

    /// The ticket as Orange shows it now.
    #[tracing::instrument(skip_all)]
    pub async fn show(&self, actor: &Actor, id: Option<&str>) -> Result<Ticket, CoreError> {
        let id = self.target(actor, id)?;
        let ticket = self
            .orange
            .get_ticket(&id, self.orange.interactive())
            .await?;
        self.remember(&ticket.id);
        Ok(ticket)
    }

    /// One page of a search with the documented filters.
    #[tracing::instrument(skip_all)]
    pub async fn search(&self, input: SearchInput) -> Result<SearchPage, CoreError> {
        let query = SearchQuery {
            status: match input.status.as_deref() {
                Some(s) => input::status_filter(s)?,
                None => Default::default(),
            },
            service: input
                .service
                .as_deref()
                .map(input::service_number)
                .transpose()?,
            reported_by: input
                .reported_by
                .map(|r| input::text("reporter", &r, 100))
                .transpose()?,
            id: input.id.as_deref().map(input::ticket_id).transpose()?,
            created_from: input
                .from
                .as_deref()
                .map(|d| input::date_bound("from", d, false))
                .transpose()?,
            created_to: input
                .to
                .as_deref()
                .map(|d| input::date_bound("to", d, true))
                .transpose()?,
            sort: input.sort.as_deref().map(input::sort_column).transpose()?,
            ascending: input.ascending,
        };
        if let (Some(from), Some(to)) = (query.created_from, query.created_to)
            && from > to
        {
            return Err(CoreError::Invalid(
                "The `from` date is after the `to` date.".into(),
            ));
        }
        let page = input.page.unwrap_or(1);
        if page == 0 {
            return Err(CoreError::Invalid("Pages start at 1.".into()));
        }
        let found = self
            .orange
            .search(&query, page, self.orange.interactive())
            .await?;
        for t in &found.tickets {
            self.remember(&t.id);
        }
        Ok(found)
    }

    /// Adopts an existing ticket into the actor's conversation.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    /// Where it lives comes from `homes`: the actor's conversation, or a new one (a thread).
    pub async fn link(
        &self,
        actor: &Actor,
        id: &str,
        homes: &impl Homes,
    ) -> Result<(Ticket, Home), CoreError> {
        self.authorize(actor, Permission::Link, "link").await?;
        let parsed = input::ticket_id(id);
        let result = async {
            let id = parsed?;
            let ticket = self
                .orange
                .get_ticket(&id, self.orange.interactive())
                .await?;
            self.remember(&ticket.id);
            let home = self.settle_home(actor, &ticket, homes).await?;
            Ok((ticket, home))
        }
        .await;
        let id = result.as_ref().ok().map(|(t, _)| t.id.clone());
        self.audited(actor, "link", id.as_ref(), result).await
    }

    /// Unlinks the actor's conversation; returns the ticket it was linked to.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn unlink(&self, actor: &Actor) -> Result<TicketId, CoreError> {
        self.authorize(actor, Permission::Link, "unlink").await?;
        let result = match self.store.unlink(&actor.conversation).await {
            Ok(Some(id)) => {
                // Nobody follows it any more: a later link starts from a fresh snapshot.
                if self.store.conversations_for(&id).await?.is_empty() {
                    self.store.drop_snapshot(&id).await?;
                }
                Ok(id)
            }
            Ok(None) => Err(CoreError::Invalid(
                "This conversation is not linked to a ticket.".into(),
            )),
            Err(e) => Err(e.into()),
        };
        let id = result.as_ref().ok().cloned();
        self.audited(actor, "unlink", id.as_ref(), result).await
    }
}

/// That `service` is one of the account's and `technical` is under it.
fn check_numbers(
    services: &[Service],
    service: &ServiceNumber,
    technical: &TechnicalNumber,
) -> Result<(), CoreError> {
    let Some(found) = services.iter().find(|s| s.number == *service) else {
        return Err(CoreError::Invalid(format!(
            "Unknown service number `{service}`: `/ticket services` lists yours."
        )));
    };
    if !found.has_technical(technical) {
        let known: Vec<_> = found
            .technical_numbers
            .iter()
            .map(|t| t.to_string())
            .collect();
        return Err(CoreError::Invalid(format!(
            "Technical number `{technical}` is not under service `{service}` (its technical numbers: {}).",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(())
}

/// How a comment is signed: the API has one identity, so the author goes into the text.
pub(super) fn attribution(actor: &Actor) -> String {
    signature(&actor.display_name, actor.conversation.transport)
}

/// The signature of a comment written by `name` on `transport`.
pub(super) fn signature(name: &str, transport: Transport) -> String {
    format!("[{name} via {}] ", transport.as_str())
}
