//! What a pass reads, decided from what the store knows (pure; no I/O).
//!
//! Orange offers two reads (see POLLING.md): a search page returns up to `page_size` tickets
//! *without notes*, filtered by one status; a get returns one ticket *with* its notes. Status
//! changes show on search pages; new notes only on a get. So:
//! - few followed tickets: one get each is cheapest (and sees notes every pass);
//! - many: search every non-final status (one page per `page_size` open tickets, at least one
//!   per status), then get only the tickets that moved, those missing from every page (they may
//!   have become final), and a round of quiet ones within a per-pass budget, for their notes. A
//!   quiet ticket's notes are then at most `ceil(quiet / budget)` passes old.

use std::collections::HashMap;

use crate::domain::{Status, Ticket, TicketId};

/// The statuses a ticket can still leave, one search each.
pub const NON_FINAL: [Status; 6] = Status::OPEN;

/// How a pass reads the followed tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// One get per open followed ticket.
    Gets,
    /// Searches of every non-final status, then gets where needed.
    Searches,
}

/// Searches when they cost fewer calls than gets, or when team feeds need the account-wide view
/// that only searches give. Searches read every open ticket of the account, followed or not:
/// `account_open` is how many the last searches found (the followed count before any search).
pub fn strategy(
    open: usize,
    account_open: usize,
    page_size: u32,
    quiet_budget: usize,
    feeds: bool,
) -> Strategy {
    let pages = NON_FINAL.len() + account_open.div_ceil(page_size.max(1) as usize);
    if feeds || pages + quiet_budget.min(open) < open {
        Strategy::Searches
    } else {
        Strategy::Gets
    }
}

/// Whether a search result shows that a ticket moved since its snapshot: then it is read whole,
/// with its notes. Orange's 1970 "not yet" dates are already `None` here.
pub fn moved(snapshot: &Ticket, seen: &Ticket) -> bool {
    snapshot.status != seen.status
        || snapshot.status_change.date != seen.status_change.date
        || snapshot.resolution_date != seen.resolution_date
        || snapshot.description != seen.description
}

/// `t` with only what [`moved`] compares (and its id and status).
pub fn lean(t: Ticket) -> Ticket {
    Ticket {
        status_change: t.status_change,
        resolution_date: t.resolution_date,
        description: t.description,
        ..Ticket::new(t.id, t.status)
    }
}

/// The tickets to get after the searches, and where the round of quiet tickets resumes.
///
/// - moved tickets, always;
/// - tickets on no page, always: they may have become final, which only a read can tell (a page
///   that could not be read whole is no evidence either way, and reading is always safe);
/// - then up to `quiet_budget` of the others, round-robin from `cursor`.
pub fn gets_after_search(
    open: &[(TicketId, Option<Ticket>)],
    seen: &HashMap<TicketId, Ticket>,
    quiet_budget: usize,
    cursor: usize,
) -> (Vec<TicketId>, usize) {
    let mut gets = Vec::new();
    let mut quiet = Vec::new();
    for (id, snapshot) in open {
        match (snapshot, seen.get(id)) {
            (Some(s), Some(t)) if !moved(s, t) => quiet.push(id.clone()),
            _ => gets.push(id.clone()),
        }
    }
    if quiet.is_empty() {
        return (gets, 0);
    }
    let start = cursor % quiet.len();
    let take = quiet_budget.min(quiet.len());
    gets.extend(quiet.iter().cycle().skip(start).take(take).cloned());
    (gets, (start + take) % quiet.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, status: Status) -> Ticket {
        Ticket::new(TicketId::parse(id).expect("id"), status)
    }

    fn id(s: &str) -> TicketId {
        TicketId::parse(s).expect("id")
    }

    #[test]
    fn gets_for_few_tickets_searches_for_many_or_for_feeds() {
        assert_eq!(strategy(5, 5, 50, 50, false), Strategy::Gets);
        assert_eq!(strategy(5, 5, 50, 50, true), Strategy::Searches);
        // 10,000 open tickets: 6 + 200 pages + 50 quiet gets, against 10,000 gets.
        assert_eq!(strategy(10_000, 10_000, 50, 50, false), Strategy::Searches);
        // The break-even: 6 + 1 page + budget must be below the number of gets.
        assert_eq!(strategy(20, 20, 50, 10, false), Strategy::Searches);
        assert_eq!(strategy(17, 17, 50, 10, false), Strategy::Gets);
        // 100 followed in an account with 100,000 open tickets: 2,006 pages cost more.
        assert_eq!(strategy(100, 100_000, 50, 50, false), Strategy::Gets);
    }

    #[test]
    fn a_lean_snapshot_moves_exactly_when_the_whole_one_does() {
        let whole = Ticket {
            description: Some("Link down".into()),
            notes: Some(vec![crate::domain::Note {
                date: chrono::DateTime::from_timestamp(1, 0).unwrap_or_default(),
                kind: crate::domain::NoteKind::Comments,
                text: "x".repeat(1_000),
            }]),
            ..t("1", Status::Ongoing)
        };
        let lean = lean(whole.clone());
        assert!(lean.notes.is_none() && lean.parties.is_empty());
        for seen in [
            whole.clone(),
            t("1", Status::Restored),
            Ticket {
                description: None,
                ..whole.clone()
            },
        ] {
            assert_eq!(moved(&lean, &seen), moved(&whole, &seen), "{seen:?}");
        }
    }

    #[test]
    fn moved_missing_and_a_round_of_quiet_tickets_are_read() {
        let open = vec![
            (id("1"), Some(t("1", Status::Ongoing))),
            (id("2"), Some(t("2", Status::Ongoing))),
            (id("3"), Some(t("3", Status::Ongoing))),
            (id("4"), Some(t("4", Status::Ongoing))),
            (id("5"), None),
        ];
        let seen: HashMap<_, _> = [
            (id("1"), t("1", Status::Restored)),
            (id("2"), t("2", Status::Ongoing)),
            (id("3"), t("3", Status::Ongoing)),
        ]
        .into_iter()
        .collect();
        // 1 moved, 4 missing, 5 never seen; 2 and 3 quiet: one per pass, in turn.
        let (gets, cursor) = gets_after_search(&open, &seen, 1, 0);
        assert_eq!(gets, [id("1"), id("4"), id("5"), id("2")]);
        let (gets, cursor) = gets_after_search(&open, &seen, 1, cursor);
        assert_eq!(gets, [id("1"), id("4"), id("5"), id("3")]);
        assert_eq!(cursor, 0);
    }
}
