//! The team's live status board: built from the watcher's snapshots (no Orange call), shown on
//! request, and kept by conversations that asked for it. The watcher posts, edits and removes
//! those through a [`BoardSurface`] — one edit per board per pass at most, and only when what it
//! shows changed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use chrono::Utc;

use super::{Core, CoreError, DeliveryError};
use crate::domain::{Actor, Board, BoardPost, Conversation, Permission, TicketId};

/// What a `board` command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardAction {
    /// Show the board once (the console).
    Show,
    /// Keep the board posted in this conversation.
    Keep,
    /// Stop keeping it; its message is removed.
    Stop,
}

/// Where boards are posted: a transport's channels.
/// A transport that keeps none (the console shows the board on request) takes the defaults.
pub trait BoardSurface: Sync {
    /// Whether this transport keeps boards in `at`.
    fn keeps_boards(&self, _at: &Conversation) -> bool {
        false
    }

    /// Posts `board` in `at`; returns the message's id. `key` makes a repeated post harmless.
    fn post_board(
        &self,
        _at: &Conversation,
        _board: &Board,
        _key: &str,
    ) -> impl Future<Output = Result<String, DeliveryError>> + Send {
        async { Err(no_boards()) }
    }

    /// Replaces the board shown by `message` in `at`.
    fn edit_board(
        &self,
        _at: &Conversation,
        _message: &str,
        _board: &Board,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        async { Err(no_boards()) }
    }

    /// Removes the board's message.
    fn remove_board(
        &self,
        _at: &Conversation,
        _message: &str,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        async { Err(no_boards()) }
    }
}

fn no_boards() -> DeliveryError {
    DeliveryError::Refused("this transport keeps no boards".into())
}

/// What one refresh of the kept boards did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardRefresh {
    pub posted: usize,
    pub edited: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Left for the next refresh (the transport failed for now).
    pub postponed: usize,
}

impl Core {
    /// The board of every open ticket the bot tracks, from the store alone.
    pub async fn board(&self) -> Result<Board, CoreError> {
        let mut homes: BTreeMap<TicketId, Vec<Conversation>> = BTreeMap::new();
        for (conversation, ticket) in self.store.links_by_ticket().await? {
            homes.entry(ticket).or_default().push(conversation);
        }
        let mut tickets = Vec::with_capacity(homes.len());
        for (id, conversations) in homes {
            if let Some(ticket) = self.store.snapshot(&id)? {
                let timeline = self.store.timeline(&id)?;
                tickets.push((ticket, conversations, timeline));
            }
        }
        Ok(Board::from_tickets(tickets))
    }

    /// Starts keeping the board in the actor's conversation (administrators); the watcher posts
    /// it at once. Returns the board and whether the conversation already kept one.
    pub(super) async fn keep_board(&self, actor: &Actor) -> Result<(Board, bool), CoreError> {
        self.authorize(actor, Permission::Admin, "board").await?;
        let here = &actor.conversation;
        let kept = self.store.board_post(here)?.filter(|p| !p.removing);
        let already = kept.is_some();
        if !already {
            let post = BoardPost {
                since: Utc::now(),
                message: None,
                fingerprint: None,
                removing: false,
            };
            let stored = self.store.set_board_post(here, &post).await;
            self.audited(actor, "board", None, stored.map_err(CoreError::from))
                .await?;
        }
        self.board_requests.notify_one();
        Ok((self.board().await?, already))
    }

    /// Stops keeping the board in the actor's conversation (administrators); the watcher removes
    /// its message.
    pub(super) async fn stop_board(&self, actor: &Actor) -> Result<(), CoreError> {
        self.authorize(actor, Permission::Admin, "board stop")
            .await?;
        let here = &actor.conversation;
        let Some(mut post) = self.store.board_post(here)?.filter(|p| !p.removing) else {
            return Err(CoreError::Invalid(
                "There is no board here; `/ticket board` posts one.".into(),
            ));
        };
        let stored = if post.message.is_some() {
            post.removing = true;
            self.store.set_board_post(here, &post).await
        } else {
            self.store.remove_board_post(here).await.map(|_| ())
        };
        self.audited(actor, "board stop", None, stored.map_err(CoreError::from))
            .await?;
        self.board_requests.notify_one();
        Ok(())
    }

    /// Woken when a board is asked for or stopped, so the watcher acts at once.
    pub fn board_requests(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.board_requests)
    }

    /// Brings every board `surface` keeps up to date: posts new ones, edits those whose content
    /// changed, removes stopped ones. A board the transport cannot reach for now waits for the
    /// next refresh; one whose channel or message is gone is forgotten.
    #[tracing::instrument(skip_all)]
    pub async fn refresh_boards(&self, surface: &impl BoardSurface) -> BoardRefresh {
        let mut out = BoardRefresh::default();
        let posts = match self.store.board_posts().await {
            Ok(posts) => posts,
            Err(e) => {
                tracing::error!(error = %e, "boards unreadable");
                return out;
            }
        };
        let mut board: Option<(Board, String)> = None;
        for (at, post) in posts {
            if !surface.keeps_boards(&at) {
                continue;
            }
            if !post.removing && board.is_none() {
                match self.board().await {
                    Ok(b) => {
                        let print = b.fingerprint();
                        board = Some((b, print));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "board not built");
                        out.postponed += 1;
                        continue;
                    }
                }
            }
            self.refresh_one(surface, &at, post, board.as_ref(), &mut out)
                .await;
        }
        out
    }

    async fn refresh_one(
        &self,
        surface: &impl BoardSurface,
        at: &Conversation,
        mut post: BoardPost,
        board: Option<&(Board, String)>,
        out: &mut BoardRefresh,
    ) {
        let result = match (&post.message, board) {
            (Some(message), _) if post.removing => match surface.remove_board(at, message).await {
                Ok(()) | Err(DeliveryError::Gone(_)) => {
                    out.removed += 1;
                    self.forget_board(at).await;
                    return;
                }
                Err(e) => Err(e),
            },
            (_, None) => return,
            (None, Some((board, print))) => {
                match surface.post_board(at, board, &post.post_key(at)).await {
                    Ok(message) => {
                        out.posted += 1;
                        post.message = Some(message);
                        post.fingerprint = Some(print.clone());
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            (Some(_), Some((_, print))) if post.fingerprint.as_ref() == Some(print) => {
                out.unchanged += 1;
                return;
            }
            (Some(message), Some((board, print))) => {
                match surface.edit_board(at, message, board).await {
                    Ok(()) => {
                        out.edited += 1;
                        post.fingerprint = Some(print.clone());
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(()) => {
                if let Err(e) = self.store.set_board_post(at, &post).await {
                    tracing::error!(conversation = %at, error = %e, "board state not saved");
                }
            }
            Err(DeliveryError::Retry(why)) => {
                out.postponed += 1;
                tracing::warn!(conversation = %at, why, "board not updated; retried next pass");
            }
            Err(DeliveryError::Gone(why)) => {
                out.removed += 1;
                tracing::info!(conversation = %at, why, "board's channel or message gone; board forgotten");
                self.forget_board(at).await;
            }
            Err(DeliveryError::Refused(why)) => {
                // Not retried until the board changes again (no edit storm on a lost permission).
                out.postponed += 1;
                tracing::warn!(conversation = %at, why, "board refused by the transport");
                if let Some((_, print)) = board {
                    post.fingerprint = Some(print.clone());
                    if post.message.is_some()
                        && let Err(e) = self.store.set_board_post(at, &post).await
                    {
                        tracing::error!(conversation = %at, error = %e, "board state not saved");
                    }
                }
            }
        }
    }

    async fn forget_board(&self, at: &Conversation) {
        if let Err(e) = self.store.remove_board_post(at).await {
            tracing::error!(conversation = %at, error = %e, "board not forgotten");
        }
    }
}
