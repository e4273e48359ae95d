//! Conversation <-> ticket links, kept in two trees that always agree (one conversation links one
//! ticket; one ticket, many conversations), and each conversation's header card, forgotten with
//! its link.

use sled::Transactional;

use super::codec::{conversation_from_bytes, ticket_from_bytes};
use super::{Store, StoreError, abort};
use crate::domain::{Conversation, TicketId};

/// The `links_by_ticket` key: ticket id \0 conversation key.
fn pair_key(ticket: &TicketId, conversation: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(ticket.as_str().len() + 1 + conversation.len());
    k.extend_from_slice(ticket.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(conversation.as_bytes());
    k
}

impl Store {
    /// Links `conversation` to `ticket`, replacing (and returning) any previous link of that
    /// conversation. Durable when it returns.
    pub async fn link(
        &self,
        conversation: &Conversation,
        ticket: &TicketId,
    ) -> Result<Option<TicketId>, StoreError> {
        let conv = conversation.key();
        let ticket = ticket.clone();
        self.durably(move |store| {
            let trees = (&store.by_conversation, &store.by_ticket);
            Ok(trees.transaction(|(by_conv, by_ticket)| {
                let previous = by_conv.insert(conv.as_bytes(), ticket.as_str().as_bytes())?;
                let previous = match previous {
                    Some(raw) => Some(ticket_from_bytes(&raw).map_err(abort)?),
                    None => None,
                };
                if let Some(old) = &previous {
                    by_ticket.remove(pair_key(old, &conv))?;
                }
                by_ticket.insert(pair_key(&ticket, &conv), &[])?;
                Ok(previous)
            })?)
        })
        .await
    }

    /// Removes the link of `conversation`, returning the ticket it pointed to. Durable when it
    /// returns.
    pub async fn unlink(
        &self,
        conversation: &Conversation,
    ) -> Result<Option<TicketId>, StoreError> {
        let conv = conversation.key();
        self.durably(move |store| {
            let trees = (&store.by_conversation, &store.by_ticket, &store.cards);
            Ok(trees.transaction(|(by_conv, by_ticket, cards)| {
                let Some(raw) = by_conv.remove(conv.as_bytes())? else {
                    return Ok(None);
                };
                let old = ticket_from_bytes(&raw).map_err(abort)?;
                by_ticket.remove(pair_key(&old, &conv))?;
                cards.remove(conv.as_bytes())?;
                Ok(Some(old))
            })?)
        })
        .await
    }

    /// The ticket linked from `conversation`.
    pub fn ticket_for(&self, conversation: &Conversation) -> Result<Option<TicketId>, StoreError> {
        self.by_conversation
            .get(conversation.key().as_bytes())?
            .map(|raw| ticket_from_bytes(&raw))
            .transpose()
    }

    /// Every conversation linked to `ticket`.
    pub async fn conversations_for(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut prefix = ticket.as_str().as_bytes().to_vec();
        prefix.push(0);
        self.blocking(move |store| {
            store
                .by_ticket
                .scan_prefix(&prefix)
                .keys()
                .map(|k| conversation_from_bytes(&k?[prefix.len()..]))
                .collect()
        })
        .await
    }

    /// Every ticket linked from at least one conversation, in id order.
    pub async fn tracked_tickets(&self) -> Result<Vec<TicketId>, StoreError> {
        self.blocking(|store| {
            let mut out: Vec<TicketId> = Vec::new();
            for key in store.by_ticket.iter().keys() {
                let key = key?;
                let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
                let id = ticket_from_bytes(&key[..end])?;
                if out.last() != Some(&id) {
                    out.push(id);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Every (conversation, ticket) link, for checks and tests.
    pub async fn links(&self) -> Result<Vec<(Conversation, TicketId)>, StoreError> {
        self.blocking(|store| {
            store
                .by_conversation
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    let conv = conversation_from_bytes(&k)?;
                    Ok((conv, ticket_from_bytes(&v)?))
                })
                .collect()
        })
        .await
    }

    /// Both link indexes, read back for consistency checks: (conversation -> ticket) pairs as
    /// seen from the ticket side.
    pub async fn links_by_ticket(&self) -> Result<Vec<(Conversation, TicketId)>, StoreError> {
        self.blocking(|store| {
            let mut out = Vec::new();
            for key in store.by_ticket.iter().keys() {
                let key = key?;
                let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
                let ticket = ticket_from_bytes(&key[..end])?;
                let conv = conversation_from_bytes(key.get(end + 1..).unwrap_or_default())?;
                out.push((conv, ticket));
            }
            Ok(out)
        })
        .await
    }

    /// Every linked ticket with the conversations that follow it, in ticket order.
    pub async fn homes_by_ticket(
        &self,
    ) -> Result<std::collections::BTreeMap<TicketId, Vec<Conversation>>, StoreError> {
        let mut homes: std::collections::BTreeMap<TicketId, Vec<Conversation>> = Default::default();
        for (conversation, ticket) in self.links_by_ticket().await? {
            homes.entry(ticket).or_default().push(conversation);
        }
        Ok(homes)
    }

    /// Remembers the header card of `conversation` (e.g. a Discord message id), to edit it later.
    /// Durable when it returns. Unlinking the conversation forgets it.
    pub async fn set_card(
        &self,
        conversation: &Conversation,
        card: &str,
    ) -> Result<(), StoreError> {
        let (conv, card) = (conversation.key(), card.to_owned());
        self.durably(move |store| {
            store.cards.insert(conv.as_bytes(), card.as_bytes())?;
            Ok(())
        })
        .await
    }

    /// The header card of `conversation`, if one was posted.
    pub fn card(&self, conversation: &Conversation) -> Result<Option<String>, StoreError> {
        Ok(self
            .cards
            .get(conversation.key().as_bytes())?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }
}
