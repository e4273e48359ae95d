//! The daily digest of a feed channel: what happened to the tickets the feeds see during one day
//! (a window ending at the digest's scheduled time) and where the open ones stand. Computed from
//! snapshots and status timelines only (pure; no I/O).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ServiceNumber, Status, Subscription, Ticket, TicketId};

/// At most this many tickets waiting on the customer are named; the rest are counted.
pub const WAITING_NAMED: usize = 20;

/// One day's digest for one channel, as queued (a redelivery shows the same figures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// The local day it is the digest of.
    pub day: NaiveDate,
    /// The window the counts cover: from the previous day's scheduled time to this day's.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The IANA name of the time zone the schedule is in.
    pub time_zone: String,
    /// Tickets created in the window.
    pub opened: usize,
    /// Tickets that entered `Restored` in the window.
    pub restored: usize,
    /// Tickets that entered a final status (closed, errored) in the window.
    pub closed: usize,
    /// Open tickets now, per status, in lifecycle order (statuses with none left out).
    pub open: Vec<(Status, usize)>,
    /// The open ticket created first.
    pub oldest: Option<Oldest>,
    /// Open tickets frozen (waiting on the customer), the first [`WAITING_NAMED`] by id.
    pub waiting: Vec<TicketId>,
    /// How many are frozen in all.
    pub waiting_total: usize,
}

/// The oldest open ticket of a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oldest {
    pub id: TicketId,
    pub service: Option<ServiceNumber>,
    pub created: DateTime<Utc>,
}

/// A ticket as the digest sees it: its snapshot and the statuses the watcher saw it enter.
pub type Seen<'a> = (&'a Ticket, &'a [(Status, DateTime<Utc>)]);

impl Digest {
    /// The digest of `day` over `tickets` (those of other services than `filter` names are left
    /// out), counting what happened in `from..to`.
    pub fn compute<'a>(
        day: NaiveDate,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        time_zone: &str,
        filter: &Subscription,
        tickets: impl IntoIterator<Item = Seen<'a>>,
    ) -> Self {
        let within = |at: &DateTime<Utc>| from <= *at && *at < to;
        let mut digest = Digest {
            day,
            from,
            to,
            time_zone: time_zone.to_owned(),
            opened: 0,
            restored: 0,
            closed: 0,
            open: Vec::new(),
            oldest: None,
            waiting: Vec::new(),
            waiting_total: 0,
        };
        let mut open: BTreeMap<usize, (Status, usize)> = BTreeMap::new();
        let mut waiting = Vec::new();
        for (ticket, timeline) in tickets {
            let service_ok = filter.services.is_empty()
                || ticket
                    .service
                    .as_ref()
                    .is_some_and(|s| filter.services.contains(s));
            if !service_ok {
                continue;
            }
            if ticket.created.as_ref().is_some_and(within) {
                digest.opened += 1;
            }
            let entered = |wanted: fn(&Status) -> bool| {
                timeline.iter().any(|(s, at)| wanted(s) && within(at))
                    || (wanted(&ticket.status)
                        && ticket.status_change.date.as_ref().is_some_and(within))
            };
            if entered(|s| *s == Status::Restored) {
                digest.restored += 1;
            }
            if entered(Status::is_final) {
                digest.closed += 1;
            }
            if ticket.status.is_final() {
                continue;
            }
            let rank = ticket.status.rank();
            open.entry(rank)
                .or_insert_with(|| (ticket.status.clone(), 0))
                .1 += 1;
            if ticket.status == Status::Frozen {
                waiting.push(ticket.id.clone());
            }
            if let Some(created) = ticket.created
                && digest
                    .oldest
                    .as_ref()
                    .is_none_or(|o| (created, &ticket.id) < (o.created, &o.id))
            {
                digest.oldest = Some(Oldest {
                    id: ticket.id.clone(),
                    service: ticket.service.clone(),
                    created,
                });
            }
        }
        digest.open = open.into_values().collect();
        waiting.sort();
        digest.waiting_total = waiting.len();
        waiting.truncate(WAITING_NAMED);
        digest.waiting = waiting;
        digest
    }

    /// Open tickets in all.
    pub fn open_total(&self) -> usize {
        self.open.iter().map(|(_, n)| n).sum()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default() + TimeDelta::hours(hours)
    }

    fn ticket(id: &str, service: &str, status: Status, created: i64, changed: i64) -> Ticket {
        let mut t = Ticket::new(TicketId::parse(id).expect("id"), status);
        t.service = Some(ServiceNumber::parse(service).expect("service"));
        t.created = Some(at(created));
        t.status_change.date = Some(at(changed));
        t
    }

    #[test]
    fn counts_what_happened_in_the_window_and_where_open_tickets_stand() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("day");
        let window = (at(0), at(24));
        // Opened before the window, restored in it then closed in it (seen by the watcher).
        let a = ticket("1", "LD1", Status::Closed, -30, 20);
        let a_line = vec![(Status::Restored, at(5)), (Status::Closed, at(20))];
        // Opened in the window, frozen.
        let b = ticket("2", "LD1", Status::Frozen, 3, 4);
        // Nobody follows it: its snapshot alone says it was restored in the window.
        let c = ticket("3", "LD2", Status::Restored, -50, 10);
        // Restored before the window: not counted again.
        let d = ticket("4", "LD1", Status::Restored, -80, -2);
        // Opened at the window's end: tomorrow's.
        let e = ticket("5", "LD1", Status::Submitted, 24, 24);
        let tickets: Vec<Seen> = vec![(&a, &a_line), (&b, &[]), (&c, &[]), (&d, &[]), (&e, &[])];
        let all = Digest::compute(
            day,
            window,
            "Europe/Paris",
            &Subscription::default(),
            tickets.clone(),
        );
        assert_eq!((all.opened, all.restored, all.closed), (1, 2, 1));
        assert_eq!(
            all.open,
            vec![
                (Status::Submitted, 1),
                (Status::Frozen, 1),
                (Status::Restored, 2)
            ]
        );
        assert_eq!(all.open_total(), 4);
        assert_eq!(all.oldest.as_ref().map(|o| o.id.as_str()), Some("4"));
        assert_eq!(all.waiting, vec![TicketId::parse("2").expect("id")]);

        let only_ld2 = Subscription {
            services: [ServiceNumber::parse("LD2").expect("service")].into(),
            ..Subscription::default()
        };
        let ld2 = Digest::compute(day, window, "UTC", &only_ld2, tickets);
        assert_eq!((ld2.opened, ld2.restored, ld2.closed), (0, 1, 0));
        assert_eq!(ld2.open, vec![(Status::Restored, 1)]);
        assert_eq!(ld2.waiting_total, 0);
    }

    #[test]
    fn a_digest_key_is_per_channel_and_day_whatever_it_says() {
        use crate::domain::{Conversation, Notification};
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("day");
        let quiet = Digest::compute(day, (at(0), at(24)), "UTC", &Subscription::default(), []);
        let key = |channel: u64, d: &Digest| {
            Notification::digest(Conversation::discord(channel), d.clone(), at(30)).key
        };
        let busy = Digest {
            opened: 5,
            ..quiet.clone()
        };
        assert_eq!(key(1, &quiet), key(1, &busy), "the same day's digest");
        assert_ne!(key(1, &quiet), key(2, &quiet), "per channel");
        let tomorrow = Digest {
            day: day.succ_opt().expect("day"),
            ..quiet.clone()
        };
        assert_ne!(key(1, &quiet), key(1, &tomorrow), "per day");
        // Pinned: a key queued by one build must be recognised by the next.
        assert_eq!(key(1, &quiet), "b9ycqy6l68pv2a46wyxtrvzl3");
    }
}
