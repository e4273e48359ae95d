//! The watcher's digest step: each feed channel gets one digest a day at the configured local
//! time, built from the store (snapshots, timelines, what the feeds saw), no Orange call.
//!
//! Exactly once: the digest is enqueued in the same transaction that records its day for the
//! channel (see `Store::queue_digest`), then delivered like every notification (nonce, reference
//! line). A digest whose time passed while the bot was down goes out at the next pass; after
//! several missed days, only the latest. A channel's first pass only notes the day (like a feed's
//! baseline): its first digest comes at the next scheduled time.

use std::collections::BTreeSet;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Failures, Notifier, PassOutcome, Watcher};
use crate::config::DigestSettings;
use crate::domain::{Digest, Notification, Status, Ticket, TicketId};
use crate::store::{Store, StoreError};

/// When digests are due: a local time of day in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub at: NaiveTime,
    pub zone: Tz,
}

impl Schedule {
    /// The schedule `[digest]` sets; `None` while digests are off.
    pub fn from_settings(settings: &DigestSettings) -> Option<Self> {
        if !settings.enabled {
            return None;
        }
        // Both were checked when the settings were loaded.
        match (settings.local_time(), settings.zone()) {
            (Ok(at), Ok(zone)) => Some(Schedule { at, zone }),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "digests off");
                None
            }
        }
    }

    /// When the digest of local `day` is due. A time the day skips (a spring-forward gap) is
    /// taken with the offset before the jump, i.e. as late after it as it was after the gap's
    /// start (02:30 -> 03:30); a time the day repeats (fall back), at its first occurrence.
    pub fn instant(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_time(self.at);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // A day earlier no transition is near (zones change at most twice a year).
                let before = self
                    .zone
                    .offset_from_utc_datetime(&(local - TimeDelta::days(1)))
                    .fix();
                (local - before).and_utc()
            }
        }
    }

    /// The window the digest of `day` covers: from the previous day's time to this day's (24 h,
    /// or 23 h / 25 h across a daylight-saving change), so no event is in two digests.
    pub fn window(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let previous = day
            .pred_opt()
            .map_or(self.instant(day) - TimeDelta::days(1), |d| self.instant(d));
        (previous, self.instant(day))
    }

    /// The latest local day whose digest time is at or before `now`.
    pub fn latest_day(&self, now: DateTime<Utc>) -> NaiveDate {
        let today = now.with_timezone(&self.zone).date_naive();
        match self.instant(today) <= now {
            true => today,
            false => today.pred_opt().unwrap_or(today),
        }
    }
}

/// What a channel needs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing: today's digest is queued, or its time has not come.
    Nothing,
    /// A channel seen for the first time: note this day, post nothing.
    Start(NaiveDate),
    /// The digest of this day (the latest due; missed days before it are not posted).
    Post(NaiveDate),
}

/// Whether a digest is due for a channel whose last digest was of `last`, at `now`.
pub fn due(last: Option<NaiveDate>, now: DateTime<Utc>, schedule: &Schedule) -> Due {
    let latest = schedule.latest_day(now);
    match last {
        None => Due::Start(latest),
        Some(last) if last >= latest => Due::Nothing,
        Some(_) => Due::Post(latest),
    }
}

/// A ticket's snapshot and the statuses the watcher saw it enter.
type Known = (Ticket, Vec<(Status, DateTime<Utc>)>);

impl<N: Notifier> Watcher<N> {
    /// Queues the digests due now (the pass delivers them next).
    pub(super) async fn queue_digests(&self, out: &mut PassOutcome, failures: &mut Failures) {
        let Some(schedule) = Schedule::from_settings(&self.core.settings().digest) else {
            return;
        };
        if let Err(e) = self.queue_digests_inner(&schedule, out).await {
            failures.store("the daily digests", &e);
        }
    }

    async fn queue_digests_inner(
        &self,
        schedule: &Schedule,
        out: &mut PassOutcome,
    ) -> Result<(), StoreError> {
        let store = self.core.store();
        let feeds = super::feeds::feeds(store).await?;
        let here: Vec<_> = feeds.iter().map(|(c, _)| c.clone()).collect();
        store.forget_digests_except(&here).await?;
        let now = self.core.clock().now();
        let mut known: Option<Vec<Known>> = None;
        for (conversation, filter) in &feeds {
            let day = match due(store.digest_day(conversation)?, now, schedule) {
                Due::Nothing => continue,
                Due::Start(day) => {
                    store.queue_digest(conversation, day, None).await?;
                    continue;
                }
                Due::Post(day) => day,
            };
            let tickets = match &mut known {
                Some(k) => k,
                None => known.insert(known_tickets(store).await?),
            };
            let digest = Digest::compute(
                day,
                schedule.window(day),
                schedule.zone.name(),
                filter,
                tickets.iter().map(|(t, line)| (t, line.as_slice())),
            );
            // `created` is real time: it dates the entry for the nonce window and the outbox age.
            let n = Notification::digest(conversation.clone(), digest, Utc::now());
            if store.queue_digest(conversation, day, Some(n)).await? {
                tracing::info!(%conversation, %day, "daily digest queued");
                out.digests += 1;
                out.queued += 1;
            }
        }
        Ok(())
    }
}

/// Every ticket the feeds have seen or someone follows, with its snapshot and timeline.
async fn known_tickets(store: &Store) -> Result<Vec<Known>, StoreError> {
    let mut ids: BTreeSet<TicketId> = store
        .feed_seen_all()
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    ids.extend(store.tracked_tickets().await?);
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(ticket) = store.snapshot(&id)? {
            let timeline = store.timeline(&id)?;
            out.push((ticket, timeline));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(at: &str) -> Schedule {
        Schedule {
            at: NaiveTime::parse_from_str(at, "%H:%M").expect("time"),
            zone: chrono_tz::Europe::Paris,
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("day")
    }

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0)
            .single()
            .expect("instant")
    }

    #[test]
    fn one_digest_a_day_at_the_local_time() {
        let s = paris("08:00");
        // 28 November: Paris is UTC+1, 08:00 there is 07:00 UTC.
        assert_eq!(s.instant(day(11, 28)), utc(11, 28, 7, 0));
        let last = Some(day(11, 27));
        assert_eq!(due(last, utc(11, 28, 6, 59), &s), Due::Nothing);
        assert_eq!(due(last, utc(11, 28, 7, 0), &s), Due::Post(day(11, 28)));
        let last = Some(day(11, 28));
        assert_eq!(due(last, utc(11, 28, 7, 1), &s), Due::Nothing);
        assert_eq!(due(last, utc(11, 28, 23, 59), &s), Due::Nothing);
        assert_eq!(due(last, utc(11, 29, 7, 0), &s), Due::Post(day(11, 29)));
        assert_eq!(
            s.window(day(11, 28)),
            (utc(11, 27, 7, 0), utc(11, 28, 7, 0))
        );
    }

    #[test]
    fn a_new_channel_starts_without_a_message_and_late_digests_collapse_to_the_latest() {
        let s = paris("08:00");
        assert_eq!(due(None, utc(11, 28, 6, 0), &s), Due::Start(day(11, 27)));
        assert_eq!(due(None, utc(11, 28, 9, 0), &s), Due::Start(day(11, 28)));
        // Down from before the 25th's digest to after the 28th's: only the 28th's.
        assert_eq!(
            due(Some(day(11, 24)), utc(11, 28, 10, 0), &s),
            Due::Post(day(11, 28))
        );
        // Down across one digest time, back before the next: that one, late.
        assert_eq!(
            due(Some(day(11, 26)), utc(11, 28, 6, 0), &s),
            Due::Post(day(11, 27))
        );
    }

    #[test]
    fn a_time_skipped_by_spring_forward_comes_after_the_jump_and_only_once() {
        // 29 March 2026: Paris jumps from 02:00 (UTC+1) to 03:00 (UTC+2); 02:30 does not exist.
        let s = paris("02:30");
        let spring = s.instant(day(3, 29));
        assert_eq!(spring, utc(3, 29, 1, 30), "03:30 local, after the jump");
        assert_eq!(s.instant(day(3, 28)), utc(3, 28, 1, 30), "02:30 UTC+1");
        assert_eq!(s.instant(day(3, 30)), utc(3, 30, 0, 30), "02:30 UTC+2");
        let last = Some(day(3, 28));
        assert_eq!(due(last, utc(3, 29, 1, 29), &s), Due::Nothing);
        assert_eq!(due(last, spring, &s), Due::Post(day(3, 29)));
        assert_eq!(due(Some(day(3, 29)), utc(3, 29, 2, 30), &s), Due::Nothing);
        assert_eq!(
            due(Some(day(3, 29)), utc(3, 30, 0, 30), &s),
            Due::Post(day(3, 30))
        );
        // The day of the jump is 23 hours long at 08:00.
        let (from, to) = paris("08:00").window(day(3, 29));
        assert_eq!(to - from, TimeDelta::hours(23));
    }

    #[test]
    fn a_time_repeated_by_fall_back_is_taken_once_at_its_first_occurrence() {
        // 25 October 2026: Paris goes back from 03:00 (UTC+2) to 02:00 (UTC+1); 02:30 happens twice.
        let s = paris("02:30");
        assert_eq!(s.instant(day(10, 25)), utc(10, 25, 0, 30));
        assert_eq!(
            due(Some(day(10, 24)), utc(10, 25, 0, 30), &s),
            Due::Post(day(10, 25))
        );
        // The second 02:30 (01:30 UTC) is the same day: nothing more.
        assert_eq!(due(Some(day(10, 25)), utc(10, 25, 1, 30), &s), Due::Nothing);
        let (from, to) = paris("08:00").window(day(10, 25));
        assert_eq!(to - from, TimeDelta::hours(25));
    }
}
