//! Per conversation: the status board it keeps ([`BoardPost`]): its message once posted and the
//! fingerprint of what that message shows. Every change is a read-modify-write of one key
//! ([`Store::update_board_post`]), so a command and the watcher changing the same board at the
//! same time cannot overwrite each other.

use super::codec::{conversation_from_bytes, decode, encode, get};
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

    /// Replaces the board of `conversation` by `change(current)` (`None`: no board) atomically:
    /// `change` may run more than once if another writer got there first. Returns the board
    /// before and after. Durable when it returns. A record that cannot be read counts as none.
    pub async fn update_board_post(
        &self,
        conversation: &Conversation,
        change: impl Fn(Option<BoardPost>) -> Option<BoardPost> + Send + 'static,
    ) -> Result<(Option<BoardPost>, Option<BoardPost>), StoreError> {
        let key = conversation.key();
        self.durably(move |store| {
            let read = |raw: Option<&[u8]>| raw.and_then(|r| decode::<BoardPost>(r, "board").ok());
            // The value the winning attempt saw (the closure runs again after a lost race).
            let mut before = None;
            let after = store.boards.update_and_fetch(key.as_bytes(), |raw| {
                before = read(raw);
                change(read(raw)).and_then(|p| encode(&p).ok())
            })?;
            Ok((before, read(after.as_deref())))
        })
        .await
    }
}
