//! The benchmark's two actors around the watcher: a notifier that records when each change is
//! delivered, and a changer that moves tickets in the sandbox at a steady rate, as Orange would,
//! recording when it moved each.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use orange_ticket_bot::domain::{Change, Conversation, Notification, Status, Ticket, TicketId};
use orange_ticket_bot::render::notice;
use orange_ticket_bot::sandbox::SandboxControl;
use orange_ticket_bot::watcher::{DeliveryError, NON_FINAL, Notifier};
use tokio_util::sync::CancellationToken;

/// What happened to the tickets: when each was changed and when its changes were delivered.
#[derive(Debug, Default)]
pub struct Timeline {
    pub changed: HashMap<TicketId, Vec<Instant>>,
    pub delivered: HashMap<TicketId, Vec<Instant>>,
    pub deliveries: usize,
    pub duplicates: usize,
    keys: HashSet<String>,
}

/// Shared between the notifier, the changer and the report.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Timeline>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Timeline> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Delivers in process: renders the thread message (as the Discord notifier would, without
/// sending it) and records the delivery time of every status change.
#[derive(Debug, Clone)]
pub struct RecordingNotifier {
    pub timeline: Shared,
}

impl orange_ticket_bot::core::BoardSurface for RecordingNotifier {}

impl Notifier for RecordingNotifier {
    fn serves(&self, _: &Conversation) -> bool {
        true
    }

    async fn deliver(
        &self,
        n: &Notification,
        ticket: Option<&Ticket>,
    ) -> Result<(), DeliveryError> {
        let rendered = notice::thread(n, ticket, &[]);
        std::hint::black_box(rendered);
        let now = Instant::now();
        let mut t = self.timeline.lock();
        t.deliveries += 1;
        if !t.keys.insert(n.key.clone()) {
            t.duplicates += 1;
        }
        if n.changes
            .iter()
            .any(|c| matches!(c, Change::StatusChanged { .. }))
        {
            t.delivered.entry(n.ticket.clone()).or_default().push(now);
        }
        Ok(())
    }
}

/// Latency of every change: from the change to the first delivery of its ticket after it.
/// Returns the latencies and how many changes were never delivered.
pub fn latencies(t: &Timeline) -> (Vec<Duration>, usize) {
    let mut out = Vec::new();
    let mut missing = 0;
    for (id, changes) in &t.changed {
        let deliveries = t.delivered.get(id).map(Vec::as_slice).unwrap_or(&[]);
        for c in changes {
            match deliveries.iter().find(|d| *d >= c) {
                Some(d) => out.push(d.duration_since(*c)),
                None => missing += 1,
            }
        }
    }
    (out, missing)
}

/// Moves tickets in turn (each stays open: the next non-final status), `per_period` of them per
/// `period_ms`, evenly spaced, until cancelled. The period is read before each change, so the
/// caller can set it to the measured pass time plus the interval.
#[derive(Debug, Clone)]
pub struct Changer {
    pub control: SandboxControl,
    pub tickets: Arc<Vec<TicketId>>,
    pub per_period: usize,
    pub period_ms: Arc<AtomicU64>,
    pub timeline: Shared,
}

impl Changer {
    pub async fn run(self, cancel: CancellationToken) -> usize {
        let mut made = 0usize;
        if self.per_period == 0 || self.tickets.is_empty() {
            return made;
        }
        loop {
            let gap = self.period_ms.load(Ordering::Relaxed) / self.per_period as u64;
            tokio::select! {
                () = cancel.cancelled() => return made,
                () = tokio::time::sleep(Duration::from_millis(gap)) => {}
            }
            let id = &self.tickets[made % self.tickets.len()];
            made += 1;
            let Some(current) = self.control.ticket(id).map(|t| t.status) else {
                continue;
            };
            if self
                .control
                .set_status(id, next_open(&current), None)
                .is_ok()
            {
                let at = Instant::now();
                self.timeline
                    .lock()
                    .changed
                    .entry(id.clone())
                    .or_default()
                    .push(at);
            }
        }
    }
}

/// The non-final status after `s`, cycling, so a changed ticket stays tracked.
fn next_open(s: &Status) -> Status {
    let at = NON_FINAL.iter().position(|n| n == s).unwrap_or(0);
    NON_FINAL[(at + 1) % NON_FINAL.len()].clone()
}
