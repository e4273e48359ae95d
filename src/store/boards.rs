//! Per conversation: the status board it keeps ([`BoardPost`]): its message once posted and the
//! fingerprint of what that message shows.

use super::codec::{conversation_from_bytes, decode, encode, get, put};
use super::{Store, StoreError};
use crate::domain::{BoardPost, Conversation};

impl Store {
    pub fn board_post(&self, conversation: &Conversation) -> Result<Option<BoardPost>, StoreError> {
        get(&self.boards, &conversation.key())
    }

    /// Every conversation keeping a board.
    pub async fn board_posts(&self) -> Result<Vec<(Conversation, BoardPost)>, StoreError> {
        self.blocking(|store| {
            store
                .boards
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    Ok((conversation_from_bytes(&k)?, decode(&v, "board")?))
                })
                .collect()
        })
        .await
    }

    /// Durable when it returns.
    pub async fn set_board_post(
        &self,
        conversation: &Conversation,
        post: &BoardPost,
    ) -> Result<(), StoreError> {
        let (key, value) = (conversation.key(), encode(post)?);
        self.durably(move |store| put(&store.boards, &key, value))
            .await
    }

    /// Forgets the board of `conversation`; durable when it returns. Returns whether there was one.
    pub async fn remove_board_post(&self, conversation: &Conversation) -> Result<bool, StoreError> {
        let key = conversation.key();
        self.durably(move |store| Ok(store.boards.remove(key.as_bytes())?.is_some()))
            .await
    }
}
