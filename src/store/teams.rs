//! Per team: its settings; per conversation: its feed subscription; per user: the contact Orange
//! should use for their tickets.

use super::codec::{conversation_from_bytes, decode, encode, get, put};
use super::{Store, StoreError};
use crate::domain::{Contact, Conversation, Subscription, TeamId, TeamSettings};

impl Store {
    pub fn team_settings(&self, team: &TeamId) -> Result<TeamSettings, StoreError> {
        Ok(get(&self.teams, &team.0)?.unwrap_or_default())
    }

    /// Every team with settings.
    pub async fn teams(&self) -> Result<Vec<(TeamId, TeamSettings)>, StoreError> {
        self.blocking(|store| {
            store
                .teams
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    Ok((
                        TeamId(String::from_utf8_lossy(&k).into_owned()),
                        decode(&v, "team")?,
                    ))
                })
                .collect()
        })
        .await
    }

    pub async fn set_team_settings(
        &self,
        team: &TeamId,
        settings: &TeamSettings,
    ) -> Result<(), StoreError> {
        let (key, value) = (team.0.clone(), encode(settings)?);
        self.durably(move |store| put(&store.teams, &key, value))
            .await
    }

    pub async fn subscribe(
        &self,
        conversation: &Conversation,
        subscription: &Subscription,
    ) -> Result<(), StoreError> {
        let (key, value) = (conversation.key(), encode(subscription)?);
        self.durably(move |store| put(&store.subscriptions, &key, value))
            .await
    }

    /// Returns whether there was a subscription.
    pub async fn unsubscribe(&self, conversation: &Conversation) -> Result<bool, StoreError> {
        let key = conversation.key();
        self.durably(move |store| Ok(store.subscriptions.remove(key.as_bytes())?.is_some()))
            .await
    }

    pub async fn subscriptions(&self) -> Result<Vec<(Conversation, Subscription)>, StoreError> {
        self.blocking(|store| {
            store
                .subscriptions
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    let conv = conversation_from_bytes(&k)?;
                    Ok((conv, decode(&v, "subscription")?))
                })
                .collect()
        })
        .await
    }

    pub fn profile(&self, user_key: &str) -> Result<Option<Contact>, StoreError> {
        get(&self.profiles, user_key)
    }

    pub async fn set_profile(&self, user_key: &str, contact: &Contact) -> Result<(), StoreError> {
        let (key, value) = (user_key.to_owned(), encode(contact)?);
        self.durably(move |store| put(&store.profiles, &key, value))
            .await
    }
}
