//! Team use cases: channel feeds (follow/unfollow), contact profiles and admin settings.

use std::collections::BTreeSet;

use super::{Core, CoreError, input};
use crate::domain::{Actor, Contact, Conversation, Permission, Subscription, TeamSettings};

/// One change an admin can make to the team's settings.
#[derive(Debug, Clone)]
pub enum AdminChange {
    /// The roles that grant a permission; empty = back to the default (everyone; admins for admin).
    Roles(Permission, BTreeSet<String>),
    /// Where the team's new and changed tickets are announced; `None` turns the feed off.
    Feed(Option<Conversation>),
    DefaultContact(Option<Contact>),
}

impl Core {
    /// Subscribes the actor's conversation to the ticket feed. Filters are comma- or
    /// space-separated lists; empty means all.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn follow(
        &self,
        actor: &Actor,
        services: &str,
        statuses: &str,
    ) -> Result<Subscription, CoreError> {
        self.authorize(actor, Permission::Admin, "follow").await?;
        let result = async {
            let services = list(services)
                .map(input::service_number)
                .collect::<Result<BTreeSet<_>, _>>()?;
            let statuses = list(statuses)
                .map(|s| match input::status_filter(s)? {
                    crate::domain::StatusFilter::Any => Ok(None),
                    crate::domain::StatusFilter::Only(st) => Ok(Some(st.as_wire().to_owned())),
                })
                .filter_map(Result::transpose)
                .collect::<Result<BTreeSet<_>, CoreError>>()?;
            let subscription = Subscription { services, statuses };
            self.store
                .subscribe(&actor.conversation, &subscription)
                .await?;
            Ok(subscription)
        }
        .await;
        self.audited(actor, "follow", None, result).await
    }

    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn unfollow(&self, actor: &Actor) -> Result<(), CoreError> {
        self.authorize(actor, Permission::Admin, "unfollow").await?;
        let result = match self.store.unsubscribe(&actor.conversation).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(CoreError::Invalid(
                "This channel does not follow the ticket feed.".into(),
            )),
            Err(e) => Err(e.into()),
        };
        self.audited(actor, "unfollow", None, result).await
    }

    /// Saves the contact Orange should use for the actor's tickets.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn set_profile(
        &self,
        actor: &Actor,
        first_name: &str,
        last_name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Contact, CoreError> {
        let result = async {
            let contact = input::contact(first_name, last_name, email, phone)?;
            self.store.set_profile(&actor.user_key, &contact).await?;
            Ok(contact)
        }
        .await;
        self.audited(actor, "profile", None, result).await
    }

    pub fn profile(&self, actor: &Actor) -> Result<Option<Contact>, CoreError> {
        Ok(self.store.profile(&actor.user_key)?)
    }

    /// Turns the actor's direct messages about their own tickets on or off (`None`: shows the
    /// setting). Only Discord has direct messages.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub(super) async fn notify(&self, actor: &Actor, on: Option<bool>) -> Result<bool, CoreError> {
        if actor.conversation.transport != crate::domain::Transport::Discord {
            return Err(CoreError::Invalid(
                "Notifications by direct message are for Discord users.".into(),
            ));
        }
        let Some(on) = on else {
            return Ok(self.store.notifies(&actor.user_key)?);
        };
        let saved = self.store.set_notify(&actor.user_key, on).await;
        let action = if on { "notify on" } else { "notify off" };
        self.audited(actor, action, None, saved.map_err(CoreError::from))
            .await?;
        Ok(on)
    }

    /// Changes a team setting (admin only).
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn admin(
        &self,
        actor: &Actor,
        change: AdminChange,
    ) -> Result<TeamSettings, CoreError> {
        self.authorize(actor, Permission::Admin, "admin").await?;
        let result = async {
            let mut settings = self.store.team_settings(&actor.team)?;
            match change {
                AdminChange::Roles(p, roles) if roles.is_empty() => {
                    settings.allowed_roles.remove(&p);
                }
                AdminChange::Roles(p, roles) => {
                    settings.allowed_roles.insert(p, roles);
                }
                AdminChange::Feed(feed) => settings.feed = feed,
                AdminChange::DefaultContact(c) => settings.default_contact = c,
            }
            self.store.set_team_settings(&actor.team, &settings).await?;
            Ok(settings)
        }
        .await;
        self.audited(actor, "admin", None, result).await
    }

    pub fn team_settings(&self, actor: &Actor) -> Result<TeamSettings, CoreError> {
        Ok(self.store.team_settings(&actor.team)?)
    }
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
