//! Tickets changed continuously in the sandbox while the bot runs, and the tally of those
//! changes in their Discord threads: what the crash test and the soak scenarios share.

use std::collections::{HashMap, HashSet};

use orange_ticket_bot::domain::{Status, TicketId};

use crate::support::bot_process::Followed;
use crate::support::fake_discord::FakeDiscord;

/// The statuses a ticket cycles through (never a final one, so it stays followed).
const CYCLE: [Status; 4] = [
    Status::InQualification,
    Status::Ongoing,
    Status::Frozen,
    Status::Restored,
];

/// Every change's reason found in a thread's watcher messages (text or cards), with the number
/// of messages it appears in.
fn posted_reasons(fake: &FakeDiscord, thread: u64) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in fake.messages_in(thread) {
        if !m.content().contains("-# ref ") {
            continue;
        }
        let text = format!(
            "{} {}",
            m.content(),
            serde_json::Value::from(m.embeds().to_vec())
        );
        let reasons: HashSet<String> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("change-"))
            .map(str::to_owned)
            .collect();
        for r in reasons {
            *out.entry(r).or_insert(0) += 1;
        }
    }
    out
}

/// The status changes made so far, each with a unique reason (`change-N`) that its notification
/// carries.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    made: HashMap<TicketId, Vec<String>>,
    step: HashMap<TicketId, usize>,
    /// The last change of each ticket, until it is seen in the ticket's thread.
    waiting: HashMap<TicketId, String>,
    next: usize,
}

/// Changes made against what their threads show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub changes: usize,
    /// Watcher messages carrying a change's reason.
    pub posts: usize,
    /// Messages beyond the first for one change.
    pub duplicates: usize,
    /// Changes no message carries.
    pub losses: usize,
}

impl Changes {
    /// Changes each followed ticket with probability 1 in `one_in`, but only a ticket whose
    /// previous change is already in its thread: two changes between watcher passes would show
    /// as one.
    pub fn make(&mut self, fake: &FakeDiscord, world: &Followed, one_in: u8) {
        for (id, thread) in &world.threads {
            if let Some(reason) = self.waiting.get(id)
                && !posted_reasons(fake, *thread).contains_key(reason)
            {
                continue;
            }
            if fastrand::u8(..one_in) != 0 {
                continue;
            }
            // The next status of the cycle that is not the current one: every change is a
            // status change.
            let current = world.control.ticket(id).map(|t| t.status);
            let k = self.step.entry(id.clone()).or_default();
            let mut status = CYCLE[*k % CYCLE.len()].clone();
            if Some(&status) == current.as_ref() {
                *k += 1;
                status = CYCLE[*k % CYCLE.len()].clone();
            }
            *k += 1;
            self.next += 1;
            let reason = format!("change-{}", self.next);
            world
                .control
                .set_status(id, status, Some(reason.clone()))
                .expect("status");
            self.made
                .entry(id.clone())
                .or_default()
                .push(reason.clone());
            self.waiting.insert(id.clone(), reason);
        }
    }

    /// Whether every change made so far is in its thread.
    pub fn all_posted(&self, fake: &FakeDiscord, world: &Followed) -> bool {
        self.made.iter().all(|(id, reasons)| {
            let posted = posted_reasons(fake, world.threads[id]);
            reasons.iter().all(|r| posted.contains_key(r))
        })
    }

    /// Counts the changes, their posts, duplicates and losses; panics on a change posted in
    /// another ticket's thread.
    pub fn tally(&self, fake: &FakeDiscord, world: &Followed) -> Tally {
        let mut tally = Tally {
            changes: 0,
            posts: 0,
            duplicates: 0,
            losses: 0,
        };
        for (id, reasons) in &self.made {
            let posted = posted_reasons(fake, world.threads[id]);
            tally.changes += reasons.len();
            tally.posts += posted.values().sum::<usize>();
            tally.duplicates += posted
                .values()
                .filter(|n| **n > 1)
                .map(|n| n - 1)
                .sum::<usize>();
            tally.losses += reasons.iter().filter(|r| !posted.contains_key(*r)).count();
            for r in posted.keys() {
                assert!(reasons.contains(r), "{r} was posted in the wrong thread");
            }
        }
        tally
    }

    /// Prints, for each ticket with a lost or repeated change, what was made and what its thread
    /// shows.
    pub fn explain(&self, fake: &FakeDiscord, world: &Followed) {
        for (id, reasons) in &self.made {
            let thread = world.threads[id];
            let posted = posted_reasons(fake, thread);
            let lost: Vec<_> = reasons
                .iter()
                .filter(|r| !posted.contains_key(*r))
                .collect();
            if !lost.is_empty() || posted.values().any(|n| *n > 1) {
                println!("ticket {id}: made {reasons:?}, lost {lost:?}, posted {posted:?}");
                for m in fake.messages_in(thread) {
                    println!("  {:?} nonce={}", m.content(), m.body["nonce"]);
                }
            }
        }
    }
}
