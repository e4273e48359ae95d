//! The team's status board: every open ticket the bot tracks, grouped by status, as the watcher's
//! snapshots last saw it; and where a transport keeps a board posted ([`BoardPost`]).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::clocks::Clocks;
use super::conversation::delivery_key;
use super::{Conversation, ServiceNumber, Status, Ticket, TicketId};

/// One open ticket on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardEntry {
    pub id: TicketId,
    pub status: Status,
    pub service: Option<ServiceNumber>,
    pub description: Option<String>,
    /// When Orange opened it.
    pub opened: Option<DateTime<Utc>>,
    /// Orange's last visible update: its last status change or its newest note.
    pub updated: Option<DateTime<Utc>>,
    /// The conversations that follow it (its thread first).
    pub homes: Vec<Conversation>,
    /// How long Orange took to restore the service, once it did (its SLA clock; the others run
    /// with time and are read from `opened`).
    #[serde(default)]
    pub restored_after: Option<TimeDelta>,
}

/// Every open tracked ticket, in status order (lifecycle order, unknown statuses last), oldest
/// first within a status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Board {
    pub entries: Vec<BoardEntry>,
}

/// Orange's last visible update of `t`: its last status change or its newest note that the bot
/// did not write (the team's own comments are not news from Orange), whichever is later; its
/// opening when it has neither.
pub fn last_update(t: &Ticket) -> Option<DateTime<Utc>> {
    let newest_note = t
        .notes
        .iter()
        .flatten()
        .filter(|n| !super::is_bot_note(&n.text))
        .map(|n| n.date)
        .max();
    [t.status_change.date, newest_note]
        .into_iter()
        .flatten()
        .max()
        .or(t.created)
}

impl Board {
    /// The board of `tickets`, each with the conversations that follow it and the statuses the
    /// watcher saw it enter; final tickets are left out.
    pub fn from_tickets(
        tickets: impl IntoIterator<Item = (Ticket, Vec<Conversation>, Vec<(Status, DateTime<Utc>)>)>,
    ) -> Self {
        let mut entries: Vec<BoardEntry> = tickets
            .into_iter()
            .filter(|(t, _, _)| !t.status.is_final())
            .map(|(t, homes, timeline)| BoardEntry {
                // The restore clock does not depend on the moment it is read at.
                restored_after: t
                    .created
                    .and_then(|opened| Clocks::of(&t, &timeline, opened))
                    .and_then(|c| c.restore),
                updated: last_update(&t),
                id: t.id,
                status: t.status,
                service: t.service,
                description: t.description,
                opened: t.created,
                homes,
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.status.rank(), a.status.as_wire(), a.opened, &a.id).cmp(&(
                b.status.rank(),
                b.status.as_wire(),
                b.opened,
                &b.id,
            ))
        });
        Board { entries }
    }

    /// The entries grouped by status, in board order.
    pub fn groups(&self) -> Vec<(&Status, &[BoardEntry])> {
        let mut out: Vec<(&Status, &[BoardEntry])> = Vec::new();
        let mut start = 0;
        for (i, e) in self.entries.iter().enumerate() {
            let next = self.entries.get(i + 1);
            if next.is_none_or(|n| n.status != e.status) {
                out.push((&e.status, &self.entries[start..=i]));
                start = i + 1;
            }
        }
        out
    }

    /// A short key that changes whenever what the board shows changes (and only then).
    pub fn fingerprint(&self) -> String {
        delivery_key(&serde_json::to_string(self).unwrap_or_default())
    }
}

/// A board a conversation keeps: the transport's id of its message once posted, and what it
/// showed last. `removing`: asked to stop; the message is deleted by the next refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardPost {
    pub since: DateTime<Utc>,
    pub message: Option<String>,
    pub fingerprint: Option<String>,
    #[serde(default)]
    pub removing: bool,
}

impl BoardPost {
    /// A board asked for at `since`, not posted yet.
    pub fn new(since: DateTime<Utc>) -> Self {
        BoardPost {
            since,
            message: None,
            fingerprint: None,
            removing: false,
        }
    }

    /// The idempotency key of its first posting (a Discord nonce).
    pub fn post_key(&self, at: &Conversation) -> String {
        delivery_key(&format!(
            "board\u{0}{}\u{0}{}",
            at.key(),
            self.since.timestamp_micros()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Note, NoteKind, StatusChange};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    fn ticket(id: &str, status: Status, opened: i64) -> Ticket {
        Ticket {
            created: Some(at(opened)),
            ..Ticket::new(TicketId::parse(id).expect("id"), status)
        }
    }

    #[test]
    fn the_board_keeps_open_tickets_grouped_in_lifecycle_order_oldest_first() {
        let board = Board::from_tickets([
            (ticket("300", Status::Ongoing, 30), vec![], vec![]),
            (ticket("100", Status::Closed, 10), vec![], vec![]),
            (ticket("200", Status::Submitted, 20), vec![], vec![]),
            (ticket("400", Status::Ongoing, 5), vec![], vec![]),
            (
                ticket("500", Status::Other("pending_vendor".into()), 1),
                vec![],
                vec![],
            ),
            (ticket("600", Status::Errored, 1), vec![], vec![]),
        ]);
        let ids: Vec<&str> = board.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["200", "400", "300", "500"]);
        let groups: Vec<(String, usize)> = board
            .groups()
            .iter()
            .map(|(s, e)| (s.as_wire().to_owned(), e.len()))
            .collect();
        assert_eq!(
            groups,
            [
                ("submitted".to_owned(), 1),
                ("ongoing".to_owned(), 2),
                ("pending_vendor".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn the_last_update_is_the_later_of_the_status_change_and_the_newest_note() {
        let mut t = ticket("1", Status::Ongoing, 100);
        assert_eq!(last_update(&t), Some(at(100)), "only opened");
        t.status_change = StatusChange {
            date: Some(at(200)),
            reason: None,
        };
        t.notes = Some(vec![
            Note {
                date: at(300),
                kind: NoteKind::Comments,
                text: "x".into(),
            },
            Note {
                date: at(150),
                kind: NoteKind::Comments,
                text: "y".into(),
            },
        ]);
        assert_eq!(last_update(&t), Some(at(300)));
    }

    #[test]
    fn the_fingerprint_changes_with_what_the_board_shows_only() {
        let a = Board::from_tickets([(ticket("1", Status::Ongoing, 1), vec![], vec![])]);
        let same = Board::from_tickets([(ticket("1", Status::Ongoing, 1), vec![], vec![])]);
        let moved = Board::from_tickets([(ticket("1", Status::Restored, 1), vec![], vec![])]);
        assert_eq!(a.fingerprint(), same.fingerprint());
        assert_ne!(a.fingerprint(), moved.fingerprint());
    }

    #[test]
    fn a_restored_ticket_carries_its_time_to_restore_and_it_does_not_move_with_time() {
        let mut t = ticket("7", Status::Restored, 1_000);
        t.status_change.date = Some(at(1_000 + 6 * 3_600));
        let timeline = vec![
            (Status::Ongoing, at(1_000 + 3_600)),
            (Status::Restored, at(1_000 + 6 * 3_600)),
        ];
        let board = Board::from_tickets([(t.clone(), vec![], timeline.clone())]);
        assert_eq!(board.entries[0].restored_after, Some(TimeDelta::hours(6)));
        let again = Board::from_tickets([(t, vec![], timeline)]);
        assert_eq!(board.fingerprint(), again.fingerprint());
        let ongoing = Board::from_tickets([(ticket("8", Status::Ongoing, 1_000), vec![], vec![])]);
        assert_eq!(ongoing.entries[0].restored_after, None);
    }
}
