//! A ticket's clocks, from Orange's dates: how long it has been (or was) open, how long Orange
//! took to restore the service and to repair the fault, and how long the ticket spent frozen
//! (waiting on the customer). Pure: the watcher's status timeline and the ticket's own dates in,
//! durations out. The watcher's closing notice, `/ticket show` and `/ticket report` all use it.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Status, Ticket};

/// The statuses a ticket entered, oldest first, each with when Orange says it entered it.
pub type Timeline = [(Status, DateTime<Utc>)];

/// A ticket's clocks, each measured from the ticket's opening.
///
/// - `restore`: to the moment the service came back (the ticket entered `restored`, or
///   `repaired`, which restores too), counted since the last reopening (a move back to
///   `ongoing` after a restoration starts the clock afresh).
/// - `repair`: to the moment it entered `repaired` (since the last reopening); a ticket closed
///   straight from `restored` counts as repaired when it closed.
/// - `frozen`: the time spent in `frozen`, summed.
/// - `open`: to the final status (`closed`, `errored`), or to now while it is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clocks {
    pub open: Option<TimeDelta>,
    /// No final status yet: `open` runs to now.
    pub still_open: bool,
    pub restore: Option<TimeDelta>,
    pub repair: Option<TimeDelta>,
    pub frozen: Option<TimeDelta>,
}

/// The clocks of a ticket opened at `opened` that went through `timeline`, measured up to `end`
/// (a frozen spell still running ends there, and so does `open` when nothing final came).
pub fn clocks(opened: DateTime<Utc>, timeline: &Timeline, end: DateTime<Utc>) -> Clocks {
    let since = |at: DateTime<Utc>| (at - opened).max(TimeDelta::zero());
    let (mut restored, mut repaired, mut closed) = (None, None, None);
    let mut frozen = TimeDelta::zero();
    let mut was_frozen = false;
    for (i, (status, at)) in timeline.iter().enumerate() {
        match status {
            Status::Restored => {
                restored.get_or_insert(*at);
            }
            Status::Repaired => {
                restored.get_or_insert(*at);
                repaired.get_or_insert(*at);
            }
            // Reopened: the earlier restoration did not hold.
            Status::Ongoing => (restored, repaired) = (None, None),
            Status::Frozen => {
                was_frozen = true;
                let until = timeline.get(i + 1).map_or(end, |(_, next)| *next);
                frozen += (until - *at).max(TimeDelta::zero());
            }
            Status::Closed => {
                closed.get_or_insert(*at);
                if restored.is_some() {
                    repaired.get_or_insert(*at);
                }
            }
            Status::Errored => {
                closed.get_or_insert(*at);
            }
            _ => {}
        }
    }
    Clocks {
        open: Some(since(closed.unwrap_or(end))),
        still_open: closed.is_none(),
        restore: restored.map(since),
        repair: repaired.map(since),
        frozen: was_frozen.then_some(frozen),
    }
}

impl Clocks {
    /// The clocks of `ticket` as Orange has it, through the statuses the watcher saw it enter
    /// (`timeline`, possibly empty for a ticket nobody follows), at `now`. The ticket's current
    /// status and its `statusChange` date complete the timeline; when neither shows a
    /// restoration since the last reopening but Orange's `resolutionDate` does (the watcher
    /// missed it, or the ticket was linked later), that date stands for it. `None` when Orange
    /// gave no opening date.
    pub fn of(ticket: &Ticket, timeline: &Timeline, now: DateTime<Utc>) -> Option<Clocks> {
        let opened = ticket.created?;
        let mut points = timeline.to_vec();
        if let Some(at) = ticket.status_change.date {
            let current = (ticket.status.clone(), at);
            if points.last() != Some(&current) && !points.contains(&current) {
                points.push(current);
                points.sort_by_key(|(_, at)| *at);
            }
        }
        let resolved = matches!(
            ticket.status,
            Status::Restored | Status::Repaired | Status::Closed
        );
        let seen = points
            .iter()
            .rev()
            .take_while(|(s, _)| *s != Status::Ongoing)
            .any(|(s, _)| matches!(s, Status::Restored | Status::Repaired));
        if resolved
            && !seen
            && let Some(at) = ticket.resolution_date
        {
            points.push((Status::Restored, at));
            points.sort_by_key(|(_, at)| *at);
        }
        Some(clocks(opened, &points, now))
    }

    /// When the service was restored, if it was.
    pub fn restored_at(&self, opened: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.restore.map(|d| opened + d)
    }

    /// When the fault was repaired, if it was.
    pub fn repaired_at(&self, opened: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.repair.map(|d| opened + d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{StatusChange, TicketId};

    fn h(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + hours * 3600, 0).unwrap_or_default()
    }

    #[test]
    fn restore_repair_frozen_and_open_come_from_the_timeline() {
        let timeline = [
            (Status::InQualification, h(1)),
            (Status::Ongoing, h(2)),
            (Status::Frozen, h(3)),
            (Status::Ongoing, h(6)),
            (Status::Restored, h(10)),
            (Status::Repaired, h(20)),
            (Status::Closed, h(30)),
        ];
        let c = clocks(h(0), &timeline, h(100));
        assert_eq!(c.restore, Some(TimeDelta::hours(10)));
        assert_eq!(c.repair, Some(TimeDelta::hours(20)));
        assert_eq!(c.frozen, Some(TimeDelta::hours(3)));
        assert_eq!((c.open, c.still_open), (Some(TimeDelta::hours(30)), false));
    }

    #[test]
    fn a_reopening_restarts_the_restore_clock_and_closing_from_restored_repairs() {
        let timeline = [
            (Status::Restored, h(4)),
            (Status::Ongoing, h(5)),
            (Status::Restored, h(9)),
            (Status::Closed, h(12)),
        ];
        let c = clocks(h(0), &timeline, h(100));
        assert_eq!(c.restore, Some(TimeDelta::hours(9)));
        assert_eq!(c.repair, Some(TimeDelta::hours(12)));
        assert_eq!(c.frozen, None);
    }

    #[test]
    fn an_open_ticket_runs_to_now_and_a_running_freeze_counts_to_now() {
        let c = clocks(h(0), &[(Status::Frozen, h(2))], h(7));
        assert_eq!((c.open, c.still_open), (Some(TimeDelta::hours(7)), true));
        assert_eq!(c.frozen, Some(TimeDelta::hours(5)));
        assert_eq!((c.restore, c.repair), (None, None));
    }

    #[test]
    fn repaired_straight_from_ongoing_is_restored_then_too() {
        let c = clocks(h(0), &[(Status::Repaired, h(8))], h(9));
        assert_eq!(
            (c.restore, c.repair),
            (Some(TimeDelta::hours(8)), Some(TimeDelta::hours(8)))
        );
    }

    #[test]
    fn the_ticket_completes_the_timeline_and_its_resolution_date_fills_a_missed_restore() {
        let id = TicketId::parse("42").expect("id");
        let ticket = Ticket {
            created: Some(h(0)),
            resolution_date: Some(h(5)),
            status_change: StatusChange {
                date: Some(h(8)),
                reason: None,
            },
            ..Ticket::new(id.clone(), Status::Closed)
        };
        // The watcher saw only `ongoing`; restored at 5 and closed at 8 happened between passes.
        let c = Clocks::of(&ticket, &[(Status::Ongoing, h(1))], h(50)).expect("clocks");
        assert_eq!(c.restore, Some(TimeDelta::hours(5)));
        assert_eq!(c.repair, Some(TimeDelta::hours(8)), "closed once restored");
        assert_eq!((c.open, c.still_open), (Some(TimeDelta::hours(8)), false));
        assert_eq!(
            Clocks::of(&Ticket::new(id, Status::Closed), &[], h(1)),
            None
        );
    }
}
