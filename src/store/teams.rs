//! Per team: its settings; per conversation: its feed subscription; per user: the contact Orange
//! should use for their tickets.

use super::codec::{conversation_from_bytes, decode, get, put};
use super::{Store, StoreError};
use crate::domain::{Contact, Conversation, Subscription, TeamId, TeamSettings};

impl Store {
    pub fn team_settings(&self, team: &TeamId) -> Result<TeamSettings, StoreError> {
        Ok(get(&self.teams, &team.0)?.unwrap_or_default())
    }

    /// Every team with settings.
    pub fn teams(&self) -> Result<Vec<(TeamId, TeamSettings)>, StoreError> {
        self.teams
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    TeamId(String::from_utf8_lossy(&k).into_owned()),
                    decode(&v, "team")?,
                ))
            })
            .collect()
    }

    pub async fn set_team_settings(
        &self,
        team: &TeamId,
        settings: &TeamSettings,
    ) -> Result<(), StoreError> {
        put(&self.teams, &team.0, settings)?;
        self.flush().await
    }

    pub async fn subscribe(
        &self,
        conversation: &Conversation,
        subscription: &Subscription,
    ) -> Result<(), StoreError> {
        put(&self.subscriptions, &conversation.key(), subscription)?;
        self.flush().await
    }

    /// Returns whether there was a subscription.
    pub async fn unsubscribe(&self, conversation: &Conversation) -> Result<bool, StoreError> {
        let removed = self.subscriptions.remove(conversation.key().as_bytes())?;
        self.flush().await?;
        Ok(removed.is_some())
    }

    pub fn subscriptions(&self) -> Result<Vec<(Conversation, Subscription)>, StoreError> {
        self.subscriptions
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let conv = conversation_from_bytes(&k)?;
                Ok((conv, decode(&v, "subscription")?))
            })
            .collect()
    }

    pub fn profile(&self, user_key: &str) -> Result<Option<Contact>, StoreError> {
        get(&self.profiles, user_key)
    }

    pub async fn set_profile(&self, user_key: &str, contact: &Contact) -> Result<(), StoreError> {
        put(&self.profiles, user_key, contact)?;
        self.flush().await
    }
}
