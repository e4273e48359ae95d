//! Stale-ticket nudges: when Orange has been silent on a ticket for longer than the team waits in
//! its status (`[nudges]`), its thread gets one message offering to ask Orange for an update; the
//! comment is sent only when a person confirms, and once per silence.

use chrono::{DateTime, Utc};

use super::{Core, CoreError};
use crate::domain::{Actor, Ticket, TicketId, last_update};
use crate::orange::OrangeError;

/// Since when Orange has said nothing about `t`: its last update ([`last_update`]; asking for an
/// update is not an answer).
pub fn silent_since(t: &Ticket) -> Option<DateTime<Utc>> {
    last_update(t)
}

/// The watcher values nudges keep per ticket (forgotten once it is final or unfollowed).
pub const NUDGE_MARKERS: [&str; 2] = [NUDGED, ASKED];
const NUDGED: &str = "nudged:";
const ASKED: &str = "asked:";

/// The watcher value that holds the silence a ticket was last nudged for.
pub fn nudged_key(id: &TicketId) -> String {
    format!("{NUDGED}{id}")
}

/// The watcher value that holds the silence Orange was last asked about for a ticket.
fn asked_key(id: &TicketId) -> String {
    format!("{ASKED}{id}")
}

fn stamp(at: &DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

/// What "Ask Orange for an update" sends (before the author's signature).
pub fn update_request(since: &DateTime<Utc>) -> String {
    format!(
        "Could you give us an update on this ticket? We have had no news since {}.",
        since.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The outcome of asking Orange for an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// The comment was added.
    Sent(TicketId),
    /// Someone already asked about this silence; nothing was sent.
    AlreadyAsked(TicketId),
    /// Orange has given news since the confirmation was shown; nothing was sent.
    NewsSince(TicketId),
}

/// What "Ask Orange for an update" would send, for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    pub ticket: TicketId,
    /// The silence it asks about (Send refers to it, so news meanwhile cancels it).
    pub since: DateTime<Utc>,
    /// The comment exactly as Orange would receive it, signature included.
    pub text: String,
}

impl Core {
    /// The ticket linked to the actor's conversation, the silence it is in and the comment that
    /// asking would send, signed as Orange will receive it. Checks the actor may comment.
    pub async fn update_request_preview(&self, actor: &Actor) -> Result<UpdateRequest, CoreError> {
        self.comment_room(actor).await?;
        let (ticket, since) = self.silence_here(actor)?;
        let text = format!(
            "{}{}",
            super::tickets::attribution(actor),
            update_request(&since)
        );
        Ok(UpdateRequest {
            ticket,
            since,
            text,
        })
    }

    /// Sends the update request for the silence the confirmation showed (`since`), once: a
    /// second confirmation (a double click, another member) of the same silence sends nothing,
    /// and neither does one Orange has answered meanwhile.
    pub async fn ask_for_update(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
    ) -> Result<Asked, CoreError> {
        let (id, now_silent_since) = self.silence_here(actor)?;
        if now_silent_since != since {
            return Ok(Asked::NewsSince(id));
        }
        let key = asked_key(&id);
        let before = self.store.watcher_value(&key)?;
        if before.as_deref() == Some(stamp(&since).as_str()) {
            return Ok(Asked::AlreadyAsked(id));
        }
        // Claimed before sending, so two confirmations racing send one comment.
        let claimed = self
            .store
            .swap_watcher_value(&key, before.as_deref(), Some(&stamp(&since)))
            .await?;
        if !claimed {
            return Ok(Asked::AlreadyAsked(id));
        }
        match self
            .comment(actor, Some(id.as_str()), &update_request(&since))
            .await
        {
            Ok(id) => Ok(Asked::Sent(id)),
            // It may have reached Orange: the claim stays, so no second comment follows; the
            // user is told to check the ticket.
            Err(e @ CoreError::Orange(OrangeError::Uncertain { .. })) => Err(e),
            Err(e) => {
                // Certainly not sent: the next confirmation may try again.
                if let Err(undo) = self
                    .store
                    .swap_watcher_value(&key, Some(&stamp(&since)), before.as_deref())
                    .await
                {
                    tracing::error!(error = %undo, ticket.id = %id, "update request claim not released");
                }
                Err(e)
            }
        }
    }

    /// The ticket linked here and since when Orange has been silent on it (from its snapshot).
    fn silence_here(&self, actor: &Actor) -> Result<(TicketId, DateTime<Utc>), CoreError> {
        let Some(id) = self.store.ticket_for(&actor.conversation)? else {
            return Err(CoreError::Invalid(
                "This conversation is not linked to a ticket any more.".into(),
            ));
        };
        let since = self
            .store
            .snapshot(&id)?
            .as_ref()
            .and_then(silent_since)
            .ok_or_else(|| {
                CoreError::Invalid(format!("Ticket {id} has not been read from Orange yet."))
            })?;
        Ok((id, since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Note, NoteKind, Status, StatusChange};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    #[test]
    fn the_bots_own_comments_do_not_end_a_silence() {
        let mut t = Ticket {
            created: Some(at(100)),
            status_change: StatusChange {
                date: Some(at(200)),
                reason: None,
            },
            ..Ticket::new(TicketId::parse("1").expect("id"), Status::Ongoing)
        };
        assert_eq!(silent_since(&t), Some(at(200)));
        t.notes = Some(vec![Note {
            date: at(300),
            kind: NoteKind::Comments,
            text: "[Ada via discord] Could you give us an update?".into(),
        }]);
        assert_eq!(silent_since(&t), Some(at(200)), "the bot's own note");
        t.notes.get_or_insert_default().push(Note {
            date: at(400),
            kind: NoteKind::InwardCustomerComments,
            text: "Engineer on site".into(),
        });
        assert_eq!(silent_since(&t), Some(at(400)), "Orange's note");
    }
}
