//! The pass's nudges: a followed ticket on which Orange has been silent longer than the team's
//! threshold for its status gets one message in each of its conversations, once per silence. The
//! message and the record of the silence are written in one transaction.
//!
//! Nudges start from what they find: the first pass that runs them only records the silences
//! already past their threshold (an upgrade must not flood every thread at once); those tickets
//! are nudged after their next silence.

use chrono::Utc;

use super::{Failures, Notifier, PassOutcome, Watcher};
use crate::core::{NUDGE_MARKERS, nudged_key, silent_since};
use crate::domain::{Audience, Change, Notification};

/// The watcher value set once nudges have run (see the module's doc).
const STARTED: &str = "nudges_started";

impl<N: Notifier> Watcher<N> {
    pub(super) async fn check_nudges(&self, out: &mut PassOutcome, failures: &mut Failures) {
        let store = self.core.store();
        if !self.core.settings().nudges.any() {
            // Off: no need to read every followed ticket's snapshot each pass.
            return;
        }
        let started = match store.watcher_value(STARTED) {
            Ok(v) => v.is_some(),
            Err(e) => {
                failures.store("reading whether nudges started", &e);
                return;
            }
        };
        let homes = match store.homes_by_ticket().await {
            Ok(homes) => homes,
            Err(e) => {
                failures.store("reading the links for nudges", &e);
                return;
            }
        };
        let now = self.core.clock().now();
        let thresholds = &self.core.settings().nudges;
        for (id, conversations) in homes {
            let ticket = match store.snapshot(&id) {
                Ok(Some(t)) if !t.status.is_final() => t,
                Ok(_) => continue,
                Err(e) => {
                    failures.store("reading a snapshot for nudges", &e);
                    continue;
                }
            };
            let (Some(after), Some(since)) =
                (thresholds.after(&ticket.status), silent_since(&ticket))
            else {
                continue;
            };
            if now - since < after {
                continue;
            }
            let change = Change::Quiet {
                status: ticket.status.clone(),
                since,
            };
            // `created` is real time (the delivery's nonce window is), not the schedule's clock.
            let notify = |c| {
                let changes = vec![change.clone()];
                Notification::new(c, id.clone(), changes, Audience::Thread, Utc::now())
            };
            let notifications: Vec<Notification> = match started {
                true => conversations.into_iter().map(notify).collect(),
                false => Vec::new(),
            };
            let silence = since.timestamp_millis().to_string();
            match store
                .queue_once(&nudged_key(&id), &silence, &notifications)
                .await
            {
                Ok(true) if started => {
                    out.nudges += 1;
                    out.queued += notifications.len();
                }
                Ok(true) => tracing::info!(ticket.id = %id,
                    "silent past its threshold before nudges started; nudged after its next silence"),
                Ok(false) => {}
                Err(e) => failures.store("queueing a nudge", &e),
            }
        }
        if !started && let Err(e) = store.set_watcher_value(STARTED, &now.to_rfc3339()).await {
            failures.store("recording that nudges started", &e);
        }
        match store.forget_done(&NUDGE_MARKERS).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(
                records = n,
                "forgot what closed or unfollowed tickets needed"
            ),
            Err(e) => failures.store("forgetting what finished tickets needed", &e),
        }
    }
}
