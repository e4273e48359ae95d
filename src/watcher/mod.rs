//! The watcher: finds every change Orange makes to the tickets people follow, and new and changed
//! tickets for the team feeds, and delivers each exactly once.
//!
//! - [`Watcher::poll_once`] does one pass and returns what it did ([`PassOutcome`]); [`Watcher::run`]
//!   repeats it until cancelled, backing off while Orange is down. The app starts it once, as an
//!   owned task.
//! - `plan`: what to read in a pass (pure, tested): searches cover many tickets per call but carry
//!   no notes; a get reads one ticket with its notes.
//! - `tickets`: the pass over followed tickets; `feeds`: the pass for team feeds;
//! - `nudges`: one message per silence on a ticket Orange has not updated for too long;
//! - `deliver`: the outbox to a [`Notifier`] (Discord threads and channels, the console).
//! - `digest`: each feed channel's daily digest, queued when due (schedule decision pure, tested).
//!
//! Exactly once: a pass diffs a ticket against its stored snapshot and writes the notifications
//! and the new snapshot in one transaction; the deliverer removes an entry only after the notifier
//! delivered it, and the notifier makes a repeated delivery harmless (a Discord nonce, a marker).

mod deliver;
mod digest;
mod feeds;
mod nudges;
mod plan;
mod tickets;

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::core::{BoardRefresh, BoardSurface, Core};
use crate::domain::{Conversation, Notification, Ticket};
use crate::orange::OrangeError;

pub use crate::core::DeliveryError;
pub use digest::{Due, Schedule, due};
pub use plan::NON_FINAL;

/// Delivers notifications to the conversations of one transport, and keeps its status boards.
pub trait Notifier: BoardSurface + Send + Sync {
    /// Whether this notifier delivers to `conversation` (others wait for theirs).
    fn serves(&self, conversation: &Conversation) -> bool;

    /// Delivers one notification; `ticket` is the ticket as last seen. Delivering the same
    /// notification twice must show it once.
    fn deliver(
        &self,
        notification: &Notification,
        ticket: Option<&Ticket>,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// Followed tickets not yet final.
    pub tracked: usize,
    /// Search pages read.
    pub search_pages: u64,
    /// Single tickets read.
    pub gets: u64,
    /// Changes found (a ticket's status, notes, resolution, description; new tickets for feeds).
    pub changes: usize,
    /// Notifications written to the outbox.
    pub queued: usize,
    /// Notifications delivered and removed from the outbox.
    pub delivered: usize,
    /// Notifications left for a later pass (their conversation's transport failed, or serves
    /// elsewhere).
    pub postponed: usize,
    /// Notifications dropped: their conversation is gone or refuses the bot.
    pub undeliverable: usize,
    /// Orange failures that made the pass skip something (retried next pass).
    pub orange_errors: usize,
    /// Whether every Orange call of the pass failed for want of Orange (it looks down).
    pub orange_down: bool,
    /// Failures of the bot's own storage.
    pub store_errors: usize,
    /// Tickets nudged (Orange silent past the team's threshold), once per silence.
    pub nudges: usize,
    /// What the pass did to the status boards (after the outbox).
    pub boards: BoardRefresh,
    /// Daily digests queued (counted in `queued` too).
    pub digests: usize,
}

impl PassOutcome {
    /// Orange calls the pass made.
    pub fn orange_calls(&self) -> u64 {
        self.search_pages + self.gets
    }
}

/// Tuning of a watcher; `from_settings` reads `[watcher]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatcherOptions {
    pub interval: Duration,
    /// Gets a pass spends on tickets that did not visibly move, to see their new notes.
    pub quiet_gets_per_pass: usize,
    /// Orange calls at most in flight.
    pub concurrency: usize,
    /// Single reads at most per pass.
    pub max_gets_per_pass: usize,
    /// Longest wait between passes while Orange is down.
    pub max_backoff: Duration,
}

impl WatcherOptions {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let w = &settings.watcher;
        WatcherOptions {
            interval: Duration::from_secs(w.interval_secs),
            quiet_gets_per_pass: w.quiet_gets_per_pass,
            concurrency: w.concurrency.max(1),
            max_gets_per_pass: w.max_gets_per_pass.max(1),
            max_backoff: Duration::from_secs(w.max_backoff_secs.max(w.interval_secs)),
        }
    }
}

/// Polls Orange and delivers through `N`.
#[derive(Debug)]
pub struct Watcher<N> {
    core: Core,
    notifier: N,
    options: WatcherOptions,
    /// Where the round of quiet tickets resumes next pass.
    cursor: usize,
    /// Open tickets in the account, as the last complete searches counted them.
    account_open: Option<usize>,
}

impl<N: Notifier> Watcher<N> {
    pub fn new(core: Core, notifier: N, options: WatcherOptions) -> Self {
        let cursor = core
            .store()
            .watcher_value(tickets::CURSOR)
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Watcher {
            core,
            notifier,
            options,
            cursor,
            account_open: None,
        }
    }

    /// One pass: followed tickets, team feeds, the daily digests due, then the outbox.
    pub async fn poll_once(&mut self) -> PassOutcome {
        self.pass(&CancellationToken::new()).await
    }

    /// One pass that `stop` cuts short at a safe point: the reads are abandoned (each write of
    /// theirs is a transaction, and what they did not reach the next pass reads again), the
    /// delivery in progress completes and the rest stays in the outbox.
    #[tracing::instrument(skip_all, name = "watcher_pass")]
    async fn pass(&mut self, stop: &CancellationToken) -> PassOutcome {
        let started = tokio::time::Instant::now();
        let mut out = PassOutcome::default();
        let mut failures = Failures::default();
        let seen = tokio::select! {
            biased;
            _ = stop.cancelled() => None,
            seen = self.check_tickets(&mut out, &mut failures) => Some(seen),
        };
        if let Some(seen) = seen {
            tokio::select! {
                biased;
                _ = stop.cancelled() => {}
                _ = self.check_feeds(&seen, &mut out, &mut failures) => {}
            }
        }
        if !stop.is_cancelled() {
            self.check_nudges(&mut out, &mut failures).await;
            self.queue_digests(&mut out, &mut failures).await;
        }
        self.deliver(&mut out, stop).await;
        if !stop.is_cancelled() {
            out.boards = self.core.refresh_boards(&self.notifier).await;
        }
        out.orange_errors = failures.orange;
        out.orange_down = failures.orange > 0 && failures.orange_ok == 0 && failures.down;
        out.store_errors = failures.store;
        self.core
            .metrics()
            .watcher_pass(started.elapsed(), out.changes);
        out
    }

    /// Repeats passes every `interval` (with jitter) until `stop`; while Orange looks down,
    /// waits longer each time and asks its status endpoint before the next full pass. Stopped
    /// during a pass, it returns once the pass reached a safe point (see [`Self::pass`]).
    pub async fn run(mut self, stop: CancellationToken) {
        let mut wait = Duration::ZERO;
        let mut down = false;
        loop {
            if self.wait_serving_boards(wait, &stop).await {
                return;
            }
            if down {
                let back = tokio::select! {
                    _ = stop.cancelled() => return,
                    back = self.orange_is_back() => back,
                };
                if !back {
                    // Discord may be fine: what is already in the outbox still goes out, and
                    // a digest due now (built from the store alone) with it.
                    let mut out = PassOutcome::default();
                    self.queue_digests(&mut out, &mut Failures::default()).await;
                    self.deliver(&mut out, &stop).await;
                    if stop.is_cancelled() {
                        log_stopped(&out);
                        return;
                    }
                    wait = next_wait(wait, true, &self.options);
                    tracing::warn!(retry_in = ?wait, delivered = out.delivered, "Orange still looks down; no pass");
                    continue;
                }
            }
            let started = tokio::time::Instant::now();
            let outcome = self.pass(&stop).await;
            if stop.is_cancelled() {
                log_stopped(&outcome);
                return;
            }
            log_pass(&outcome);
            down = outcome.orange_down;
            // Passes start an interval apart (not an interval after the last one ended), so a
            // change waits at most about one interval plus the time a pass takes to reach it.
            wait = match down {
                true => next_wait(wait, true, &self.options),
                false => next_wait(wait, false, &self.options).saturating_sub(started.elapsed()),
            };
        }
    }

    /// Waits `wait` (returns `true` if stopped meanwhile), refreshing the boards whenever one is
    /// asked for or stopped, so a new board appears at once rather than at the next pass.
    async fn wait_serving_boards(&self, wait: Duration, stop: &CancellationToken) -> bool {
        let requests = self.core.board_requests();
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return true,
                _ = tokio::time::sleep_until(until) => return false,
                _ = requests.notified() => {
                    let boards = self.core.refresh_boards(&self.notifier).await;
                    tracing::info!(?boards, "boards refreshed on request");
                }
            }
        }
    }

    async fn orange_is_back(&self) -> bool {
        let orange = self.core.orange();
        matches!(orange.api_status(orange.interactive()).await, Ok(s) if s.is_ok())
    }
}

/// Failures counted during a pass.
#[derive(Debug, Default)]
struct Failures {
    orange: usize,
    orange_ok: usize,
    /// Whether the Orange failures say Orange is unreachable (not "this ticket is bad").
    down: bool,
    store: usize,
}

impl Failures {
    /// Every Orange call so far failed for want of Orange: the rest of the pass would too.
    fn looks_down(&self) -> bool {
        self.down && self.orange_ok == 0
    }

    fn orange(&mut self, what: &str, e: &OrangeError) {
        self.orange += 1;
        if matches!(
            e,
            OrangeError::Unavailable { .. }
                | OrangeError::Timeout { .. }
                | OrangeError::Throttled { .. }
        ) {
            self.down = true;
        }
        tracing::warn!(error = %e, what, "watcher: Orange call failed");
    }

    fn store(&mut self, what: &str, e: &dyn std::fmt::Display) {
        self.store += 1;
        tracing::error!(error = %e, what, "watcher: store failed");
    }
}

fn log_pass(o: &PassOutcome) {
    tracing::info!(
        tracked = o.tracked,
        search_pages = o.search_pages,
        gets = o.gets,
        changes = o.changes,
        queued = o.queued,
        delivered = o.delivered,
        postponed = o.postponed,
        undeliverable = o.undeliverable,
        orange_errors = o.orange_errors,
        orange_down = o.orange_down,
        nudges = o.nudges,
        boards_posted = o.boards.posted,
        boards_edited = o.boards.edited,
        digests = o.digests,
        "watcher pass"
    );
}

/// A pass stopped by the shutdown: what it delivered, and what it left in the outbox.
fn log_stopped(o: &PassOutcome) {
    tracing::info!(
        queued = o.queued,
        delivered = o.delivered,
        postponed = o.postponed,
        "watcher stopped mid-pass at a safe point"
    );
}

/// The wait before the next attempt: the interval (with jitter) while Orange answers; while it
/// looks down, twice the last wait (at least the interval), up to `max_backoff`.
fn next_wait(last: Duration, down: bool, options: &WatcherOptions) -> Duration {
    if down {
        (last.max(options.interval) * 2).min(options.max_backoff)
    } else {
        jitter(options.interval)
    }
}

/// `d` ± 10 % (at most ± 1 s), so bots do not poll Orange in step, nor drift far from the
/// interval.
fn jitter(d: Duration) -> Duration {
    let ms = d.as_millis().min(u128::from(u64::MAX)) as u64;
    let spread = (ms / 10).min(1000);
    Duration::from_millis(ms - spread + fastrand::u64(0..=spread * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_while_orange_is_down_and_reset_when_it_is_back() {
        let options = WatcherOptions {
            interval: Duration::from_secs(60),
            quiet_gets_per_pass: 50,
            concurrency: 8,
            max_gets_per_pass: 1000,
            max_backoff: Duration::from_secs(600),
        };
        let mut wait = Duration::ZERO;
        let mut waits = Vec::new();
        for _ in 0..5 {
            wait = next_wait(wait, true, &options);
            waits.push(wait.as_secs());
        }
        assert_eq!(waits, [120, 240, 480, 600, 600]);
        let back = next_wait(wait, false, &options);
        assert!((59_000..=61_000).contains(&back.as_millis()), "{back:?}");
    }
}
