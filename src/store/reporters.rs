//! Who opened each ticket through the bot, and who asked to be told by direct message when their
//! tickets are restored or closed (`/ticket notify`).

use super::codec::{encode, get, put};
use super::{Store, StoreError};
use crate::domain::{Opener, TicketId};

impl Store {
    /// Remembers who opened `ticket`. Durable when it returns.
    pub async fn set_opener(&self, ticket: &TicketId, opener: &Opener) -> Result<(), StoreError> {
        let (key, value) = (ticket.as_str().to_owned(), encode(opener)?);
        self.durably(move |store| put(&store.openers, &key, value))
            .await
    }

    pub fn opener(&self, ticket: &TicketId) -> Result<Option<Opener>, StoreError> {
        get(&self.openers, ticket.as_str())
    }

    /// Turns direct-message notifications on or off for `user_key`. Durable when it returns.
    pub async fn set_notify(&self, user_key: &str, on: bool) -> Result<(), StoreError> {
        let key = user_key.to_owned();
        self.durably(move |store| {
            if on {
                store.notify.insert(key.as_bytes(), &[])?;
            } else {
                store.notify.remove(key.as_bytes())?;
            }
            Ok(())
        })
        .await
    }

    /// Whether `user_key` asked for direct-message notifications.
    pub fn notifies(&self, user_key: &str) -> Result<bool, StoreError> {
        Ok(self.notify.contains_key(user_key.as_bytes())?)
    }
}
