//! The door interactions come through: open while the bot serves, closed once it is shutting
//! down. An interaction let in holds a [`Pass`] until its handler ends, so the shutdown can wait
//! for the commands in progress (a ticket half opened, its thread not yet made, helps nobody).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// A cheap handle; clones share the door.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Held while one interaction is handled; dropping it lets the shutdown go on.
#[derive(Debug)]
pub struct Pass {
    inner: Arc<Inner>,
}

impl Gate {
    /// A pass for one interaction, or `None` once the door is closed.
    pub fn enter(&self) -> Option<Pass> {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let pass = Pass {
            inner: Arc::clone(&self.inner),
        };
        // Checked after counting in: `close` then either sees this pass or refuses it.
        (!self.inner.closed.load(Ordering::SeqCst)).then_some(pass)
    }

    /// Closes the door: later interactions get no pass.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
    }

    /// Interactions still being handled.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no interaction is being handled.
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if self.inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_closed_gate_refuses_and_waits_for_the_passes_it_gave() {
        let gate = Gate::default();
        let pass = gate.enter().expect("open");
        gate.close();
        assert!(gate.enter().is_none(), "closed: no new pass");
        assert_eq!(gate.in_flight(), 1);
        let idle = tokio::time::timeout(Duration::from_millis(50), gate.idle()).await;
        assert!(idle.is_err(), "a pass is still held");
        drop(pass);
        tokio::time::timeout(Duration::from_secs(5), gate.idle())
            .await
            .expect("idle once the pass is dropped");
    }
}
