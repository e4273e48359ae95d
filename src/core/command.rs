//! The commands every transport offers, as one typed model. A transport turns its input (a
//! console line; Discord options, buttons and modals) into a [`Command`], [`Core::execute`] runs
//! it, and `render::reply` words the [`Outcome`], so the console and Discord say the same thing.
//!
//! Adding a sub-command: a variant here, its arm in [`Core::execute`] (one core call), its arm in
//! `render::reply`, a poise function in `discord/commands/`, a spec in `console/parse.rs`.

use std::sync::Arc;

use super::{
    AdminChange, BoardAction, Core, CoreError, CreateInput, Created, Home, Homes, ReportInput,
    SearchInput, input,
};
use crate::domain::SearchPage;
use crate::domain::{
    Actor, ApiStatus, Board, Clocks, Contact, Conversation, Report, Service, Subscription,
    TeamSettings, Ticket, TicketId,
};

/// A contact as typed by a user (validated by the core).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One thing a user asks of the bot.
#[derive(Debug, Clone)]
pub enum Command {
    Services,
    Create(CreateInput),
    Comment {
        id: Option<String>,
        text: String,
    },
    Show {
        id: Option<String>,
    },
    Search(SearchInput),
    Link {
        id: String,
    },
    Unlink,
    Status,
    Follow {
        services: String,
        statuses: String,
    },
    Unfollow,
    /// `None` shows the actor's contact; `Some` sets it.
    Profile(Option<ProfileInput>),
    /// No option shows the team's settings; one changes it (admins only).
    Config(ConfigInput),
    /// The team's status board: shown, kept here, or stopped.
    Board(BoardAction),
    /// Direct messages when one's own tickets are restored or closed: on, off, or `None` to show.
    Notify(Option<bool>),
    /// The team's figures for a period, from the watcher's snapshots.
    Report(ReportInput),
}

impl Command {
    /// The command's name, as the metrics count it (the sub-command's name in Discord).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Services => "services",
            Command::Create(_) => "create",
            Command::Comment { .. } => "comment",
            Command::Show { .. } => "show",
            Command::Search(_) => "search",
            Command::Link { .. } => "link",
            Command::Unlink => "unlink",
            Command::Status => "status",
            Command::Follow { .. } => "follow",
            Command::Unfollow => "unfollow",
            Command::Profile(_) => "profile",
            Command::Config(_) => "config",
            Command::Board(_) => "board",
            Command::Notify(_) => "notify",
            Command::Report(_) => "report",
        }
    }
}

/// A change to the team's settings, as typed by a user: one of the settings, or none to show
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigInput {
    /// Which permission `roles` applies to (`create`, `comment`, `link`, `admin`).
    pub permission: Option<String>,
    /// Role ids or mentions, comma- or space-separated; empty or `everyone`: back to the default.
    pub roles: Option<String>,
    /// `Some(None)` turns the team feed off; `Some(Some(c))` announces tickets in `c`.
    pub feed: Option<Option<Conversation>>,
    /// `Some(true)`: the actor's own contact becomes the team's default; `Some(false)` clears it.
    pub default_contact_mine: Option<bool>,
}

/// The bot's own state, for `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BotStatus {
    /// Tickets linked from at least one conversation.
    pub tracked_tickets: usize,
    /// Conversation ↔ ticket links.
    pub links: usize,
    /// Conversations following the ticket feed.
    pub feeds: usize,
}

/// What a command produced; `render::reply` words it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Services(Arc<Vec<Service>>),
    Created(Created),
    Commented(TicketId),
    /// A ticket as Orange has it, with its clocks (none without an opening date).
    Ticket(Ticket, Option<Clocks>),
    /// A result page; `view` is the saved query its paging buttons refer to.
    Search {
        page: SearchPage,
        view: u64,
    },
    Linked {
        ticket: Ticket,
        home: Home,
    },
    Unlinked(TicketId),
    Status {
        orange: ApiStatus,
        bot: BotStatus,
    },
    Following(Subscription),
    Unfollowed,
    Profile(Option<Contact>),
    ProfileSaved(Contact),
    Team(TeamSettings),
    Board(Board),
    /// The board is kept here from now on (`already`: it was before).
    BoardKept {
        board: Board,
        already: bool,
        watcher_on: bool,
    },
    BoardStopped,
    /// Whether the actor gets direct messages about their tickets.
    Notify(bool),
    /// The team's figures; `csv`: also as a CSV file.
    Report {
        report: Report,
        csv: bool,
    },
}

impl Core {
    /// Runs one command for `actor`; `homes` places the tickets it opens or adopts.
    pub async fn execute(
        &self,
        actor: &Actor,
        command: Command,
        homes: &impl Homes,
    ) -> Result<Outcome, CoreError> {
        let name = command.name();
        let result = self.run(actor, command, homes).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        self.metrics().command(name, outcome);
        result
    }

    /// [`Core::execute`] without the counting.
    async fn run(
        &self,
        actor: &Actor,
        command: Command,
        homes: &impl Homes,
    ) -> Result<Outcome, CoreError> {
        Ok(match command {
            Command::Services => Outcome::Services(self.services().await?),
            Command::Create(input) => {
                Outcome::Created(self.create_ticket(actor, input, homes).await?)
            }
            Command::Comment { id, text } => {
                Outcome::Commented(self.comment(actor, id.as_deref(), &text).await?)
            }
            Command::Show { id } => {
                let ticket = self.show(actor, id.as_deref()).await?;
                let clocks = self.clocks_of(&ticket, self.clock.now())?;
                Outcome::Ticket(ticket, clocks)
            }
            Command::Search(input) => self.search_page(input).await?,
            Command::Link { id } => {
                let (ticket, home) = self.link(actor, &id, homes).await?;
                Outcome::Linked { ticket, home }
            }
            Command::Unlink => Outcome::Unlinked(self.unlink(actor).await?),
            Command::Status => Outcome::Status {
                orange: self.api_status().await?,
                bot: self.bot_status().await?,
            },
            Command::Follow { services, statuses } => {
                Outcome::Following(self.follow(actor, &services, &statuses).await?)
            }
            Command::Unfollow => {
                self.unfollow(actor).await?;
                Outcome::Unfollowed
            }
            Command::Profile(None) => Outcome::Profile(self.profile(actor)?),
            Command::Profile(Some(p)) => Outcome::ProfileSaved(
                self.set_profile(
                    actor,
                    &p.first_name,
                    &p.last_name,
                    p.email.as_deref(),
                    p.phone.as_deref(),
                )
                .await?,
            ),
            Command::Config(input) => match self.admin_change(actor, input)? {
                None => Outcome::Team(self.team_settings(actor)?),
                Some(change) => Outcome::Team(self.admin(actor, change).await?),
            },
            Command::Board(BoardAction::Show) => Outcome::Board(self.board().await?),
            Command::Board(BoardAction::Keep) => {
                let (board, already) = self.keep_board(actor).await?;
                Outcome::BoardKept {
                    board,
                    already,
                    watcher_on: self.settings.watcher.enabled,
                }
            }
            Command::Board(BoardAction::Stop) => {
                self.stop_board(actor).await?;
                Outcome::BoardStopped
            }
            Command::Notify(on) => Outcome::Notify(self.notify(actor, on).await?),
            Command::Report(input) => Outcome::Report {
                report: self.report(&input, self.clock.now()).await?,
                csv: input.csv,
            },
        })
    }

    /// A search page, its query saved for the paging buttons.
    async fn search_page(&self, input: SearchInput) -> Result<Outcome, CoreError> {
        let page = self.search(input.clone()).await?;
        let view = self.store.save_view(&input).await?;
        Ok(Outcome::Search { page, view })
    }

    /// Another page of a saved search (a paging button).
    pub async fn search_view(&self, view: u64, page: u32) -> Result<Outcome, CoreError> {
        let Some(mut input) = self.store.view::<SearchInput>(view)? else {
            return Err(CoreError::Invalid(
                "This search is no longer available: run `/ticket search` again.".into(),
            ));
        };
        input.page = Some(page);
        let page = self.search(input).await?;
        Ok(Outcome::Search { page, view })
    }

    /// The one change a `config` asks for; `None` when it asks for none.
    fn admin_change(
        &self,
        actor: &Actor,
        input: ConfigInput,
    ) -> Result<Option<AdminChange>, CoreError> {
        let asked = [
            input.permission.is_some(),
            input.feed.is_some(),
            input.default_contact_mine.is_some(),
        ];
        if asked.iter().filter(|a| **a).count() > 1 {
            return Err(CoreError::Invalid(
                "Change one setting at a time: permission (with roles), feed or default contact."
                    .into(),
            ));
        }
        if input.roles.is_some() && input.permission.is_none() {
            return Err(CoreError::Invalid(
                "`roles:` goes with `permission:`.".into(),
            ));
        }
        Ok(Some(match input {
            ConfigInput {
                permission: Some(permission),
                roles,
                ..
            } => AdminChange::Roles(
                input::permission(&permission)?,
                input::roles(roles.as_deref().unwrap_or_default())?,
            ),
            ConfigInput {
                feed: Some(feed), ..
            } => AdminChange::Feed(feed),
            ConfigInput {
                default_contact_mine: Some(false),
                ..
            } => AdminChange::DefaultContact(None),
            ConfigInput {
                default_contact_mine: Some(true),
                ..
            } => match self.profile(actor)? {
                Some(c) => AdminChange::DefaultContact(Some(c)),
                None => {
                    return Err(CoreError::Invalid(
                        "Set your own contact first with `/ticket profile`.".into(),
                    ));
                }
            },
            _ => return Ok(None),
        }))
    }

    /// The bot's own counts.
    pub async fn bot_status(&self) -> Result<BotStatus, CoreError> {
        Ok(BotStatus {
            tracked_tickets: self.store.tracked_tickets().await?.len(),
            links: self.store.links().await?.len(),
            feeds: self.store.subscriptions().await?.len(),
        })
    }
}
