//! "Send to Orange": a message of a ticket's conversation, sent to Orange as a comment only after
//! the person who asked confirmed exactly what Orange will receive.
//!
//! Three steps, each its own call so a transport can answer in between: [`Core::prepare_send`]
//! composes the comment and saves it as pending (a saved view, so a confirmation outlives a
//! restart); [`Core::claim_send`] moves it from pending to sending atomically (a second click, or a
//! click after Cancel, finds it claimed and sends nothing); [`Core::send_claimed`] writes it through
//! the path of `/ticket comment` (permission, signature, write deadline, reconciliation).
//! [`Core::cancel_send`] closes a pending one. Nothing here runs without a person's click.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::tickets::signature;
use super::{Core, CoreError};
use crate::domain::{Actor, Conversation, Permission, TicketId};
use crate::orange::OrangeError;
use crate::store::{Durability, StoreError};

/// The action audit entries name.
const ACTION: &str = "send to orange";
/// The name the metrics count it under.
const METRIC: &str = "send";
/// Marks the end of a message text that did not fit.
const ELLIPSIS: char = '…';

/// A message a person wants to send to Orange, as the transport read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageToSend {
    /// The display name of the message's author.
    pub author: String,
    pub text: String,
    /// A link back to the message.
    pub link: String,
}

/// What the confirmation shows: the comment exactly as Orange will receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPreview {
    /// The saved pending send the confirmation's buttons refer to.
    pub number: u64,
    pub ticket: TicketId,
    /// The whole comment, signature included.
    pub comment: String,
    /// The end of the message's text that does not fit Orange's limit (not sent).
    pub cut: Option<String>,
}

/// A comment that reached Orange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendDone {
    pub ticket: TicketId,
    /// Who confirmed it (the signature's name).
    pub by: String,
    /// The link back to the message sent.
    pub link: String,
}

/// Why a confirmed send did not complete.
#[derive(Debug)]
pub struct NotSent {
    pub error: CoreError,
    /// Still pending, with the same confirmation: the comment certainly did not reach Orange and
    /// Send may be clicked again. `None` when it may have (check the ticket) or can no longer be.
    pub retry: Option<SendPreview>,
}

/// A pending send the caller holds (it is in the sending state in the store).
#[derive(Debug, Clone)]
pub struct SendClaim {
    number: u64,
    pending: PendingSend,
}

/// Where a pending send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    Pending,
    Sending,
    Sent,
    Cancelled,
    /// Orange did not confirm it and it could not be found: it may or may not be there.
    Unknown,
}

/// A send saved between the confirmation and the click (in the store's saved views).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSend {
    /// Tells this record from the other kinds of saved views.
    kind: PendingKind,
    ticket: TicketId,
    conversation: Conversation,
    user_key: String,
    /// The name the signature carries (the one shown in the confirmation).
    signer: String,
    /// The comment without the signature.
    body: String,
    link: String,
    cut: Option<String>,
    state: SendState,
    /// When it was claimed for sending (a send that never finished is given up after a while).
    #[serde(default)]
    claimed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PendingKind {
    SendToOrange,
}

impl PendingSend {
    fn preview(&self, number: u64) -> SendPreview {
        SendPreview {
            number,
            ticket: self.ticket.clone(),
            comment: format!(
                "{}{}",
                signature(&self.signer, self.conversation.transport),
                self.body
            ),
            cut: self.cut.clone(),
        }
    }

    /// The actor as the confirmation showed them (the signature is the one previewed).
    fn signer(&self, actor: &Actor) -> Actor {
        Actor {
            display_name: self.signer.clone(),
            ..actor.clone()
        }
    }
}

impl Core {
    /// Composes the comment for `message`, sized to Orange's limit after the actor's signature,
    /// and saves it as pending. Only in a conversation linked to a ticket; nothing is sent.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key))]
    pub async fn prepare_send(
        &self,
        actor: &Actor,
        message: &MessageToSend,
    ) -> Result<SendPreview, CoreError> {
        let result = self.prepare_inner(actor, message).await;
        if let Err(e) = &result {
            self.metrics().command(METRIC, e.kind());
        }
        result
    }

    async fn prepare_inner(
        &self,
        actor: &Actor,
        message: &MessageToSend,
    ) -> Result<SendPreview, CoreError> {
        self.authorize(actor, Permission::Comment, ACTION).await?;
        let refuse = async |reason: String| {
            let outcome = format!("refused: {reason}");
            self.audit(actor, ACTION, None, &outcome, Durability::Unflushed)
                .await;
            Err(CoreError::Invalid(reason))
        };
        let Some(ticket) = self.store.ticket_for(&actor.conversation)? else {
            return refuse(
                "Send to Orange works in a ticket's thread: this conversation is not linked to a ticket."
                    .into(),
            )
            .await;
        };
        let room = self.comment_room_of(actor);
        let (body, cut) = match compose(message, room) {
            Ok(composed) => composed,
            Err(reason) => return refuse(reason).await,
        };
        let pending = PendingSend {
            kind: PendingKind::SendToOrange,
            ticket,
            conversation: actor.conversation.clone(),
            user_key: actor.user_key.clone(),
            signer: actor.display_name.clone(),
            body,
            link: message.link.clone(),
            cut,
            state: SendState::Pending,
            claimed_at: None,
        };
        let number = self.store.save_view(&pending).await?;
        Ok(pending.preview(number))
    }

    /// Takes a pending send for sending: only once, only by the person who asked. Every other
    /// state is refused with what happened to it.
    pub async fn claim_send(&self, actor: &Actor, number: u64) -> Result<SendClaim, CoreError> {
        let user = actor.user_key.clone();
        let now = self.clock.now();
        // Longer than a send can take: one still "sending" by then was cut short (the bot
        // stopped mid-way) and may or may not have reached Orange.
        let stale = TimeDelta::milliseconds(
            i64::try_from(self.settings.orange.retry.write_deadline_ms).unwrap_or(i64::MAX / 2),
        ) + TimeDelta::minutes(1);
        let changed = self
            .pending(number, move |p| match p.state {
                SendState::Pending if p.user_key == user => Some(PendingSend {
                    state: SendState::Sending,
                    claimed_at: Some(now),
                    ..p.clone()
                }),
                SendState::Sending if p.claimed_at.is_none_or(|at| now - at > stale) => {
                    Some(PendingSend {
                        state: SendState::Unknown,
                        ..p.clone()
                    })
                }
                _ => None,
            })
            .await?;
        let (pending, claimed) = changed.ok_or_else(expired)?;
        match (claimed, &pending.state) {
            (true, SendState::Pending) => {}
            (true, _) => {
                let given_up = PendingSend {
                    state: SendState::Unknown,
                    ..pending
                };
                tracing::warn!(ticket.id = %given_up.ticket, "a send cut short long ago is now unknown");
                return Err(refusal(actor, &given_up));
            }
            (false, _) => return Err(refusal(actor, &pending)),
        }
        // On disk before Orange is called: after a crash the click finds it claimed, so a
        // confirmation shown again cannot send it twice.
        self.store.flush().await?;
        Ok(SendClaim { number, pending })
    }

    /// Sends a claimed comment through the path of `/ticket comment`, and records how it went.
    #[tracing::instrument(skip_all, fields(user = %actor.user_key, ticket.id = %claim.pending.ticket))]
    pub async fn send_claimed(&self, actor: &Actor, claim: SendClaim) -> Result<SendDone, NotSent> {
        let SendClaim { number, pending } = claim;
        let signer = pending.signer(actor);
        let result = match self.store.ticket_for(&pending.conversation) {
            Ok(Some(linked)) if linked == pending.ticket => {
                self.comment_as(
                    &signer,
                    Some(pending.ticket.as_str()),
                    &pending.body,
                    ACTION,
                )
                .await
            }
            Ok(_) => Err(CoreError::Invalid(format!(
                "This conversation is no longer linked to ticket {}: nothing was sent.",
                pending.ticket
            ))),
            Err(e) => Err(e.into()),
        };
        self.metrics().command(
            METRIC,
            match &result {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            },
        );
        let uncertain = matches!(
            result,
            Err(CoreError::Orange(OrangeError::Uncertain { .. }))
        );
        let after = match (&result, uncertain) {
            (Ok(_), _) => SendState::Sent,
            (Err(_), true) => SendState::Unknown,
            // It certainly did not reach Orange: the same confirmation may be clicked again.
            (Err(_), false) => SendState::Pending,
        };
        let recorded = self
            .pending(number, move |p| {
                (p.state == SendState::Sending).then(|| PendingSend {
                    state: after,
                    ..p.clone()
                })
            })
            .await;
        if let Err(e) = &recorded {
            tracing::error!(error = %e, "the outcome of a send was not recorded");
        }
        match result {
            Ok(ticket) => Ok(SendDone {
                ticket,
                by: pending.signer,
                link: pending.link,
            }),
            Err(error) => {
                let retry = (after == SendState::Pending && recorded.is_ok())
                    .then(|| pending.preview(number));
                Err(NotSent { error, retry })
            }
        }
    }

    /// Cancels a pending send (audited); nothing reaches Orange.
    pub async fn cancel_send(&self, actor: &Actor, number: u64) -> Result<TicketId, CoreError> {
        let user = actor.user_key.clone();
        let changed = self
            .pending(number, move |p| {
                (p.state == SendState::Pending && p.user_key == user).then(|| PendingSend {
                    state: SendState::Cancelled,
                    ..p.clone()
                })
            })
            .await?;
        let (pending, cancelled) = changed.ok_or_else(expired)?;
        if !cancelled {
            return Err(refusal(actor, &pending));
        }
        self.audit(
            actor,
            ACTION,
            Some(&pending.ticket),
            "cancelled",
            Durability::Unflushed,
        )
        .await;
        Ok(pending.ticket)
    }

    /// Changes a pending send atomically; `None` when there is none with that number (too old,
    /// or another kind of saved view).
    async fn pending<F>(
        &self,
        number: u64,
        change: F,
    ) -> Result<Option<(PendingSend, bool)>, CoreError>
    where
        F: Fn(&PendingSend) -> Option<PendingSend> + Send + 'static,
    {
        match self.store.change_view(number, change).await {
            Ok(found) => Ok(found),
            Err(StoreError::Undecodable { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn expired() -> CoreError {
    CoreError::Invalid(
        "This confirmation is no longer available: nothing was sent. Use Send to Orange on the message again."
            .into(),
    )
}

/// Why a pending send could not be claimed or cancelled.
fn refusal(actor: &Actor, pending: &PendingSend) -> CoreError {
    if pending.user_key != actor.user_key {
        return CoreError::Denied("Only the person who asked may confirm or cancel this.".into());
    }
    let id = &pending.ticket;
    CoreError::Invalid(match pending.state {
        SendState::Pending => "Try again.".into(),
        SendState::Sending => format!("This message is being sent to ticket {id} already."),
        SendState::Sent => format!("This message was already sent to ticket {id}."),
        SendState::Cancelled => {
            "This was cancelled: nothing was sent. Use Send to Orange on the message again.".into()
        }
        SendState::Unknown => format!(
            "It is not known whether this reached ticket {id}: check it with `/ticket show` before sending it again."
        ),
    })
}

/// The comment's body for `message` within `room` characters: who wrote it and where, then its
/// text, cut (with `…`) when it does not fit; the part cut off is returned too.
pub fn compose(message: &MessageToSend, room: usize) -> Result<(String, Option<String>), String> {
    let text = message.text.trim();
    if text.is_empty() {
        return Err(
            "This message has no text to send (attachments and embeds are not sent).".into(),
        );
    }
    let header = format!(
        "From {} on Discord ({}):\n",
        message.author.trim(),
        message.link
    );
    let left = room.saturating_sub(header.chars().count());
    // At least a few characters of the message, or it is not worth sending.
    if left < 2 {
        return Err(format!(
            "Orange's comment limit leaves no room for this message ({room} characters after the signature)."
        ));
    }
    let length = text.chars().count();
    if length <= left {
        return Ok((format!("{header}{text}"), None));
    }
    let keep = left - 1;
    let split = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    let (kept, rest) = text.split_at(split);
    Ok((format!("{header}{kept}{ELLIPSIS}"), Some(rest.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> MessageToSend {
        MessageToSend {
            author: "Bob".into(),
            text: text.into(),
            link: "https://discord.com/channels/1/2/3".into(),
        }
    }

    #[test]
    fn a_message_that_fits_is_sent_whole_after_its_author_and_link() {
        let (body, cut) = compose(&message("  Fibre cut at PoP 3  "), 200).expect("fits");
        assert_eq!(
            body,
            "From Bob on Discord (https://discord.com/channels/1/2/3):\nFibre cut at PoP 3"
        );
        assert_eq!(cut, None);
    }

    #[test]
    fn a_long_message_is_cut_to_the_room_and_the_cut_part_is_returned() {
        let header = "From Bob on Discord (https://discord.com/channels/1/2/3):\n";
        let room = header.chars().count() + 10;
        let (body, cut) = compose(&message("0123456789ABCDEF"), room).expect("cut");
        assert_eq!(body, format!("{header}012345678…"));
        assert_eq!(body.chars().count(), room);
        assert_eq!(cut.as_deref(), Some("9ABCDEF"));
        // Exactly the room: nothing cut.
        let (body, cut) = compose(&message("0123456789"), room).expect("fits");
        assert_eq!(body.chars().count(), room);
        assert_eq!(cut, None);
    }

    #[test]
    fn an_empty_message_or_no_room_is_refused() {
        assert!(compose(&message("   "), 4000).is_err());
        assert!(compose(&message("text"), 10).is_err());
    }
}
