//! The team's live status board: built from the watcher's snapshots (no Orange call), shown on
//! request, and kept by conversations that asked for it. The watcher posts, edits and removes
//! those through a [`BoardSurface`] — one edit per board per pass at most, and only when what it
//! shows changed.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Core, CoreError, DeliveryError};
use crate::domain::{Actor, Board, BoardPost, Conversation, Permission};

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

    /// Posts `board` in `at`; returns the message's id. `key` makes a repeated post harmless;
    /// `first_tried` is when the board was asked for (a post that may have landed before a crash
    /// long ago is looked for first).
    fn post_board(
        &self,
        _at: &Conversation,
        _board: &Board,
        _key: &str,
        _first_tried: DateTime<Utc>,
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
        let homes = self.store.homes_by_ticket().await?;
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
        let since = Utc::now();
        // A board being removed is kept instead (its message stays, or is posted again if the
        // removal got there first).
        let kept = self
            .store
            .update_board_post(&actor.conversation, move |current| {
                Some(match current {
                    Some(post) => BoardPost {
                        removing: false,
                        ..post
                    },
                    None => BoardPost::new(since),
                })
            })
            .await;
        let already = matches!(&kept, Ok((Some(before), _)) if !before.removing);
        if !already {
            self.audited(actor, "board", None, kept.map_err(CoreError::from))
                .await?;
        }
        self.board_requests.notify_one();
        Ok((self.board().await?, already))
    }

    /// Stops keeping the board in the actor's conversation (administrators); the watcher removes
    /// its message (a board not posted yet is forgotten at once).
    pub(super) async fn stop_board(&self, actor: &Actor) -> Result<(), CoreError> {
        self.authorize(actor, Permission::Admin, "board stop")
            .await?;
        let stopped = self
            .store
            .update_board_post(&actor.conversation, |current| match current {
                Some(post) if post.message.is_some() => Some(BoardPost {
                    removing: true,
                    ..post
                }),
                _ => None,
            })
            .await;
        if matches!(
            &stopped,
            Ok((None, _)) | Ok((Some(BoardPost { removing: true, .. }), _))
        ) {
            return Err(CoreError::Invalid(
                "There is no board here; `/ticket board` posts one.".into(),
            ));
        }
        self.audited(actor, "board stop", None, stopped.map_err(CoreError::from))
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
    /// next refresh; one whose channel or message is gone is forgotten. What a step learnt is
    /// merged into the board as it is by then (a command may have changed it meanwhile).
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
        let mut built: Option<(Board, String)> = None;
        for (at, post) in posts {
            if !surface.keeps_boards(&at) {
                continue;
            }
            if !post.removing && built.is_none() {
                match self.board().await {
                    Ok(b) => {
                        let print = b.fingerprint();
                        built = Some((b, print));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "board not built");
                        out.postponed += 1;
                        continue;
                    }
                }
            }
            let print = built.as_ref().map(|(_, p)| p.as_str());
            let step = next_step(&post, print);
            let result = match (&step, &built) {
                (BoardStep::Nothing, _) => {
                    out.unchanged += 1;
                    continue;
                }
                (BoardStep::Post, Some((board, _))) => surface
                    .post_board(&at, board, &post.post_key(&at), post.since)
                    .await
                    .map(Some),
                (BoardStep::Edit(message), Some((board, _))) => {
                    surface.edit_board(&at, message, board).await.map(|()| None)
                }
                (BoardStep::Remove(message), _) => {
                    surface.remove_board(&at, message).await.map(|()| None)
                }
                (BoardStep::Forget, _) => Ok(None),
                (BoardStep::Post | BoardStep::Edit(_), None) => continue,
            };
            self.record_step(surface, &at, &post, step, print, result, &mut out)
                .await;
        }
        out
    }

    /// Merges what a step did into the board as it is now, and counts it.
    #[allow(clippy::too_many_arguments)] // one call site; the parts are all different
    async fn record_step(
        &self,
        surface: &impl BoardSurface,
        at: &Conversation,
        read: &BoardPost,
        step: BoardStep,
        print: Option<&str>,
        result: Result<Option<String>, DeliveryError>,
        out: &mut BoardRefresh,
    ) {
        let since = read.since;
        let same = move |p: &BoardPost| p.since == since;
        let merge: Box<dyn Fn(Option<BoardPost>) -> Option<BoardPost> + Send> = match (step, result)
        {
            (BoardStep::Post, Ok(Some(message))) => {
                out.posted += 1;
                let print = print.map(str::to_owned);
                let posted = message.clone();
                let merged = self
                    .store
                    .update_board_post(at, move |current| match current {
                        Some(p) if same(&p) => Some(BoardPost {
                            message: Some(posted.clone()),
                            fingerprint: print.clone(),
                            ..p
                        }),
                        other => other,
                    })
                    .await;
                // Stopped (or replaced) while it was being posted: the message is not wanted.
                let wanted = |after: &Option<BoardPost>| {
                    after
                        .as_ref()
                        .is_some_and(|p| p.message.as_ref() == Some(&message))
                };
                if let Ok((_, after)) = &merged
                    && !wanted(after)
                    && let Err(e) = surface.remove_board(at, &message).await
                {
                    tracing::warn!(conversation = %at, error = %e, "unwanted board message not removed");
                }
                if let Err(e) = merged {
                    tracing::error!(conversation = %at, error = %e, "board state not saved");
                }
                return;
            }
            (BoardStep::Edit(_), Ok(_)) => {
                out.edited += 1;
                let print = print.map(str::to_owned);
                Box::new(move |current| match current {
                    Some(p) if same(&p) => Some(BoardPost {
                        fingerprint: print.clone(),
                        ..p
                    }),
                    other => other,
                })
            }
            (BoardStep::Remove(message), Ok(_) | Err(DeliveryError::Gone(_))) => {
                out.removed += 1;
                // Kept again meanwhile: its message is gone, so it is posted anew.
                Box::new(move |current| match current {
                    Some(p) if same(&p) && p.removing => None,
                    Some(p) if p.message.as_ref() == Some(&message) => Some(BoardPost {
                        message: None,
                        fingerprint: None,
                        ..p
                    }),
                    other => other,
                })
            }
            (BoardStep::Forget, _) | (_, Err(DeliveryError::Gone(_))) => {
                out.removed += 1;
                tracing::info!(conversation = %at, "board's channel or message gone; board forgotten");
                Box::new(move |current| current.filter(|p| !same(p)))
            }
            (_, Err(DeliveryError::Retry(why))) => {
                out.postponed += 1;
                tracing::warn!(conversation = %at, why, "board not updated; retried next pass");
                return;
            }
            (_, Err(DeliveryError::Refused(why))) => {
                // Not retried until the board changes again (no edit storm on a lost permission).
                out.postponed += 1;
                tracing::warn!(conversation = %at, why, "board refused by the transport");
                let print = print.map(str::to_owned);
                Box::new(move |current| match current {
                    Some(p) if same(&p) && p.message.is_some() && !p.removing => Some(BoardPost {
                        fingerprint: print.clone(),
                        ..p
                    }),
                    other => other,
                })
            }
            (BoardStep::Nothing | BoardStep::Post, Ok(_)) => return,
        };
        if let Err(e) = self.store.update_board_post(at, merge).await {
            tracing::error!(conversation = %at, error = %e, "board state not saved");
        }
    }
}

/// What a board needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BoardStep {
    Post,
    Edit(String),
    Remove(String),
    /// Stopped before it was ever posted.
    Forget,
    Nothing,
}

/// The next step for `post`, given the fingerprint of the board as it is now (`None` when it is
/// being removed and was not built).
fn next_step(post: &BoardPost, print: Option<&str>) -> BoardStep {
    match (&post.message, post.removing) {
        (Some(m), true) => BoardStep::Remove(m.clone()),
        (None, true) => BoardStep::Forget,
        (None, false) => BoardStep::Post,
        (Some(_), false) if post.fingerprint.as_deref() == print => BoardStep::Nothing,
        (Some(m), false) => BoardStep::Edit(m.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(message: Option<&str>, print: Option<&str>, removing: bool) -> BoardPost {
        BoardPost {
            since: chrono::DateTime::from_timestamp(1, 0).unwrap_or_default(),
            message: message.map(str::to_owned),
            fingerprint: print.map(str::to_owned),
            removing,
        }
    }

    #[test]
    fn a_board_is_posted_once_edited_only_when_it_changed_and_removed_when_stopped() {
        let now = Some("b");
        assert_eq!(next_step(&post(None, None, false), now), BoardStep::Post);
        assert_eq!(
            next_step(&post(Some("1"), Some("b"), false), now),
            BoardStep::Nothing
        );
        assert_eq!(
            next_step(&post(Some("1"), Some("a"), false), now),
            BoardStep::Edit("1".into())
        );
        assert_eq!(
            next_step(&post(Some("1"), Some("b"), true), None),
            BoardStep::Remove("1".into())
        );
        assert_eq!(next_step(&post(None, None, true), None), BoardStep::Forget);
    }
}
