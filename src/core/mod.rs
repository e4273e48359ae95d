//! The use cases, independent of any transport: Discord, the console and the tests all call these.
//! Each takes an [`Actor`] and raw user input, decides authorization, validates, calls Orange and
//! the store, audits, and returns domain values; rendering happens elsewhere.

mod board;
mod clock;
mod command;
mod error;
mod home;
pub mod input;
mod nudge;
mod report;
mod send;
mod services;
mod suggest;
mod team;
mod tickets;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;

pub use crate::domain::is_bot_note;
pub use board::{BoardAction, BoardRefresh, BoardSurface};
pub use clock::Clock;
pub use command::{BotStatus, Command, ConfigInput, Outcome, ProfileInput};
pub use error::CoreError;
pub use home::{DeliveryError, Here, Home, HomeError, Homes};
pub use nudge::{Asked, NUDGE_MARKERS, UpdateRequest, nudged_key, silent_since, update_request};
pub use report::{REPORT_DAYS, ReportInput};
pub use send::{MessageToSend, NotSent, SendClaim, SendDone, SendPreview};
pub use services::ServiceCache;
pub use suggest::{MAX_SUGGESTIONS, Suggestion};
pub use team::AdminChange;
pub use tickets::{CreateInput, Created, SearchInput};

use crate::config::Settings;
use crate::domain::{Actor, ApiStatus, AuditEntry, Permission, TicketId};
use crate::orange::OrangeClient;
use crate::store::{Durability, Store};

/// The use cases and the handles they need. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Core {
    orange: OrangeClient,
    store: Store,
    settings: Arc<Settings>,
    services: ServiceCache,
    /// Tickets shown or found lately, newest first, for autocomplete.
    recent: Arc<Mutex<VecDeque<TicketId>>>,
    /// Woken when a board is asked for or stopped (see [`Core::board_requests`]).
    board_requests: Arc<tokio::sync::Notify>,
    /// The time schedules (nudges, digests) go by.
    clock: Clock,
}

/// How many recently seen tickets autocomplete remembers.
const RECENT: usize = 100;

impl Core {
    pub fn new(orange: OrangeClient, store: Store, settings: Arc<Settings>) -> Self {
        let services = ServiceCache::new(std::time::Duration::from_secs(
            settings.core.services_ttl_secs,
        ));
        Core {
            orange,
            store,
            settings,
            services,
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(RECENT))),
            board_requests: Arc::default(),
            clock: Clock::default(),
        }
    }

    /// Notes a ticket someone looked at, for autocomplete.
    fn remember(&self, id: &TicketId) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|r| r != id);
        recent.push_front(id.clone());
        recent.truncate(RECENT);
    }

    /// Ticket ids to suggest: those linked to conversations, then those seen lately; each once.
    /// From memory and the store only (autocomplete must not wait on Orange).
    pub async fn known_tickets(&self) -> Result<Vec<TicketId>, CoreError> {
        let mut out = self.store.tracked_tickets().await?;
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        for id in recent.iter() {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The time schedules go by (tests move it with the sandbox's clock).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn orange(&self) -> &OrangeClient {
        &self.orange
    }

    /// The app's metrics (those its Orange client counts in).
    pub fn metrics(&self) -> &crate::ops::Metrics {
        self.orange.metrics()
    }

    /// The Orange API's health.
    #[tracing::instrument(skip_all)]
    pub async fn api_status(&self) -> Result<ApiStatus, CoreError> {
        Ok(self.orange.api_status(self.orange.interactive()).await?)
    }

    /// Allows or denies `permission` for `actor`; a denial is audited and says which roles would do.
    async fn authorize(
        &self,
        actor: &Actor,
        permission: Permission,
        action: &str,
    ) -> Result<(), CoreError> {
        let team = self.store.team_settings(&actor.team)?;
        let allowed = match team.allowed_roles.get(&permission) {
            // Team admins may always administer; with no roles configured, nobody else may.
            None if permission == Permission::Admin => actor.is_team_admin,
            None => true,
            Some(roles) => actor.is_team_admin || roles.iter().any(|r| actor.roles.contains(r)),
        };
        if allowed {
            return Ok(());
        }
        let reason = match team.allowed_roles.get(&permission) {
            Some(roles) if !roles.is_empty() => format!(
                "You need one of these roles to {} here: {}.",
                permission_verb(permission),
                roles
                    .iter()
                    .map(|r| role_label(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!(
                "Only team administrators may {} here.",
                permission_verb(permission)
            ),
        };
        let outcome = format!("denied: {reason}");
        self.audit(actor, action, None, &outcome, Durability::Unflushed)
            .await;
        Err(CoreError::Denied(reason))
    }

    /// Audits an interaction the transport refused (e.g. from a guild that is not allowed).
    pub async fn audit_refusal(&self, actor: &Actor, action: &str, reason: &str) {
        let outcome = format!("refused: {reason}");
        self.audit(actor, action, None, &outcome, Durability::Unflushed)
            .await;
    }

    /// Appends to the audit log. An audit failure is logged, not shown: the action itself happened.
    /// Only entries of changes wait for the disk (`durability`): a refusal or a denial changed
    /// nothing, and must not cost an fsync each.
    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        ticket: Option<&TicketId>,
        outcome: &str,
        durability: Durability,
    ) {
        let entry = AuditEntry {
            at: Utc::now(),
            user_key: actor.user_key.clone(),
            transport: actor.conversation.transport,
            conversation: actor.conversation.clone(),
            action: action.to_owned(),
            ticket: ticket.cloned(),
            outcome: outcome.to_owned(),
        };
        if let Err(e) = self.store.audit(&entry, durability).await {
            tracing::error!(error = %e, action, "audit write failed");
        }
    }

    /// Audits the outcome of a change (on disk before it returns) and passes it through.
    async fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        ticket: Option<&TicketId>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        self.audit(actor, action, ticket, &outcome, Durability::Flushed)
            .await;
        result
    }
}

/// How a stored role reads in a sentence: a Discord role id (all digits) as a role mention, which
/// Discord shows as the role's name (and which never pings: the bot allows no mentions).
pub fn role_label(role: &str) -> String {
    if !role.is_empty() && role.chars().all(|c| c.is_ascii_digit()) {
        format!("<@&{role}>")
    } else {
        role.to_owned()
    }
}

fn permission_verb(p: Permission) -> &'static str {
    match p {
        Permission::Create => "open tickets",
        Permission::Comment => "comment on tickets",
        Permission::Link => "link tickets",
        Permission::Admin => "change the bot's settings",
    }
}
