//! What changed between two snapshots of one ticket: the watcher posts these.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Note, Status, Ticket};

/// One observable change of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    StatusChanged {
        from: Status,
        to: Status,
        reason: Option<String>,
        at: Option<DateTime<Utc>>,
    },
    /// Notes present now and not before, oldest first.
    NotesAdded(Vec<Note>),
    /// A resolution date appeared or moved.
    ResolutionSet(DateTime<Utc>),
    DescriptionChanged {
        from: Option<String>,
        to: Option<String>,
    },
    /// A ticket the watcher saw for the first time, new since its last look (team feeds).
    Opened,
    /// Orange has said nothing about the ticket (no status change, no note) since `since`, for
    /// longer than the team waits in `status` (a nudge).
    Quiet {
        status: Status,
        since: DateTime<Utc>,
    },
    /// A feed channel's daily digest (not a change of one ticket; see [`Notification::digest`]).
    ///
    /// [`Notification::digest`]: super::Notification::digest
    Digest(Box<super::Digest>),
}

impl Change {
    /// A short, stable fingerprint of the change, part of its delivery key: the same change seen
    /// again (after a crash, say) gets the same key, another change another key.
    pub fn fingerprint(&self) -> String {
        match self {
            Change::StatusChanged { from, to, at, .. } => format!(
                "s:{}:{}:{}",
                from.as_wire(),
                to.as_wire(),
                at.map(|a| a.timestamp_millis()).unwrap_or_default()
            ),
            Change::NotesAdded(notes) => {
                let mut out = String::from("n");
                for n in notes {
                    out.push_str(&format!(":{}:{}", n.date.timestamp(), n.text.len()));
                    out.push_str(&n.text);
                }
                out
            }
            Change::ResolutionSet(d) => format!("r:{}", d.timestamp()),
            Change::DescriptionChanged { from, to } => format!(
                "d:{}:{}\u{0}{}",
                from.as_deref().map_or(0, str::len),
                from.as_deref().unwrap_or_default(),
                to.as_deref().unwrap_or_default()
            ),
            Change::Opened => "o".into(),
            Change::Quiet { status, since } => {
                format!("q:{}:{}", status.as_wire(), since.timestamp_millis())
            }
            Change::Digest(d) => format!("g:{}", d.day),
        }
    }
}

/// Diffs two snapshots of the same ticket, `old` first. The result is empty when nothing a person
/// would care about changed.
///
/// Notes are compared as a multiset of (date, kind, text): Orange returns them in no promised order,
/// and the same text may legitimately be posted twice. When either snapshot carries no notes (a
/// search result), no note change is inferred.
pub fn diff(old: &Ticket, new: &Ticket) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.status != new.status {
        changes.push(Change::StatusChanged {
            from: old.status.clone(),
            to: new.status.clone(),
            reason: new.status_change.reason.clone(),
            at: new.status_change.date,
        });
    }
    if let (Some(before), Some(after)) = (&old.notes, &new.notes) {
        let added = added_notes(before, after);
        if !added.is_empty() {
            changes.push(Change::NotesAdded(added));
        }
    }
    if let Some(date) = new.resolution_date
        && old.resolution_date != Some(date)
    {
        changes.push(Change::ResolutionSet(date));
    }
    if old.description != new.description {
        changes.push(Change::DescriptionChanged {
            from: old.description.clone(),
            to: new.description.clone(),
        });
    }
    changes
}

fn added_notes(before: &[Note], after: &[Note]) -> Vec<Note> {
    let mut seen: HashMap<&Note, usize> = HashMap::new();
    for n in before {
        *seen.entry(n).or_default() += 1;
    }
    let mut added: Vec<Note> = after
        .iter()
        .filter(|n| match seen.get_mut(n) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect();
    added.sort_by_key(|n| n.date);
    added
}

#[cfg(test)]
mod tests {

    use chrono::TimeZone;

    use super::*;
    use crate::domain::{NoteKind, StatusChange, TicketId};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, h, 0, 0)
            .single()
            .expect("valid date")
    }

    fn note(h: u32, text: &str) -> Note {
        Note {
            date: at(h),
            kind: NoteKind::Comments,
            text: text.into(),
        }
    }

    fn ticket(status: Status, notes: Option<Vec<Note>>) -> Ticket {
        Ticket {
            description: Some("link down".into()),
            created: Some(at(1)),
            notes,
            ..Ticket::new(TicketId::parse("1").expect("valid id"), status)
        }
    }

    #[test]
    fn identical_snapshots_have_no_changes() {
        let t = ticket(Status::Ongoing, Some(vec![note(2, "a")]));
        assert!(diff(&t, &t.clone()).is_empty());
    }

    #[test]
    fn status_notes_resolution_and_description_are_reported() {
        let old = ticket(Status::Ongoing, Some(vec![note(2, "a")]));
        let mut new = ticket(Status::Restored, Some(vec![note(3, "b"), note(2, "a")]));
        new.status_change = StatusChange {
            date: Some(at(4)),
            reason: Some("Fixed".into()),
        };
        new.resolution_date = Some(at(4));
        new.description = None;
        assert_eq!(
            diff(&old, &new),
            vec![
                Change::StatusChanged {
                    from: Status::Ongoing,
                    to: Status::Restored,
                    reason: Some("Fixed".into()),
                    at: Some(at(4)),
                },
                Change::NotesAdded(vec![note(3, "b")]),
                Change::ResolutionSet(at(4)),
                Change::DescriptionChanged {
                    from: Some("link down".into()),
                    to: None
                },
            ]
        );
    }

    #[test]
    fn reordered_notes_are_not_new_but_repeated_ones_are() {
        let old = ticket(Status::Ongoing, Some(vec![note(2, "a"), note(3, "b")]));
        let new = ticket(
            Status::Ongoing,
            Some(vec![note(3, "b"), note(2, "a"), note(3, "b")]),
        );
        assert_eq!(
            diff(&old, &new),
            vec![Change::NotesAdded(vec![note(3, "b")])]
        );
    }

    #[test]
    fn a_snapshot_without_notes_infers_no_note_change() {
        let old = ticket(Status::Ongoing, Some(vec![note(2, "a")]));
        let new = ticket(Status::Ongoing, None);
        assert!(diff(&old, &new).is_empty());
        assert!(diff(&new, &old).is_empty());
    }
}
