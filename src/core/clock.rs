//! What time it is for the bot's schedules (nudges, digests): the system's clock plus an offset,
//! so a test moves the bot's time together with the Orange sandbox's instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// A cheap, cloneable clock; clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let offset = TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        let real = Utc::now();
        real.checked_add_signed(offset).unwrap_or(real)
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_runs_ahead_of_the_system_clock_and_its_clones_follow() {
        let clock = Clock::default();
        let clone = clock.clone();
        clock.advance(Duration::from_secs(3_600));
        let ahead = clone.now() - Utc::now();
        assert!(
            ahead >= TimeDelta::minutes(59) && ahead <= TimeDelta::minutes(61),
            "{ahead}"
        );
    }
}
