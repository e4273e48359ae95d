//! The limits on everything the sandbox is told: its options, the control API's JSON, the API's
//! texts and query strings. Its port is open to anyone who can reach it, so no input may panic
//! it, keep it busy under its lock or make a table grow for ever. Out of bounds is refused with
//! the name of the field (a 400 over HTTP, `InvalidInput` at start).

use std::time::Duration;

use super::SandboxOptions;
use super::error::ApiError;
use super::faults::FaultConfig;
use crate::config::SandboxSettings;

/// Lifecycle steps one `advance` may ask for: every lifecycle ends within a few dozen.
pub const MAX_ADVANCE_STEPS: u32 = 100;
/// The furthest one `advance` may move the clock: ten years.
pub const MAX_CLOCK_JUMP_SECS: u64 = 10 * 365 * 24 * 3600;
/// Injected latency: a minute is longer than any client waits.
pub const MAX_LATENCY_MS: u64 = 60_000;
/// `Retry-After` of injected errors: an hour.
pub const MAX_RETRY_AFTER_SECS: u64 = 3_600;
/// Statuses one error fault picks from.
pub const MAX_FAULT_STATUSES: usize = 32;
/// One-shot failures queued at once (each of `fail_next`, `fail_after_processing`).
pub const MAX_QUEUED_FAILURES: usize = 1_000;
/// Longest note text (control API and comments), as Orange caps descriptions.
pub const MAX_NOTE_TEXT: usize = 4_000;
/// Longest short text: a note type, a status reason, a search filter, a contact field.
pub const MAX_SHORT_TEXT: usize = 256;
/// Largest control request body.
pub const MAX_CONTROL_BODY: usize = 64 * 1024;
/// Tickets the account may hold (the watcher benchmark uses 50,000).
pub const MAX_TICKETS: usize = 200_000;
/// Notes one ticket may hold.
pub const MAX_NOTES_PER_TICKET: usize = 1_000;

/// `Err` naming the first fault setting out of bounds.
pub(crate) fn check_faults(f: &FaultConfig) -> Result<(), String> {
    at_most("latency_ms", f.latency_ms, MAX_LATENCY_MS)?;
    for (op, ms) in &f.latency_ms_by_op {
        at_most(&format!("latency_ms_by_op.{op}"), *ms, MAX_LATENCY_MS)?;
    }
    if let Some(secs) = f.token_expires_after_secs {
        at_most(
            "token_expires_after_secs",
            secs,
            SandboxSettings::MAX_TOKEN_TTL_SECS,
        )?;
    }
    for (op, e) in &f.errors {
        let key = |field: &str| format!("errors.{op}.{field}");
        rate(&key("rate"), e.rate)?;
        if e.statuses.len() > MAX_FAULT_STATUSES {
            return Err(format!(
                "{} lists at most {MAX_FAULT_STATUSES} statuses",
                key("statuses")
            ));
        }
        for status in &e.statuses {
            error_status(&key("statuses"), *status)?;
        }
        at_most(
            &key("retry_after_secs"),
            e.retry_after_secs,
            MAX_RETRY_AFTER_SECS,
        )?;
    }
    for (op, r) in &f.malformed_rate {
        rate(&format!("malformed_rate.{op}"), *r)?;
    }
    for (key, queue) in [
        ("fail_next", &f.fail_next),
        ("fail_after_processing", &f.fail_after_processing),
    ] {
        if queue.len() > MAX_QUEUED_FAILURES {
            return Err(format!(
                "{key} holds at most {MAX_QUEUED_FAILURES} failures"
            ));
        }
        for (_, status) in queue {
            error_status(key, *status)?;
        }
    }
    Ok(())
}

/// `Err` naming the first option out of bounds.
pub(crate) fn check_options(o: &SandboxOptions) -> Result<(), String> {
    let max_ttl = Duration::from_secs(SandboxSettings::MAX_TOKEN_TTL_SECS);
    if o.token_ttl.is_zero() || o.token_ttl > max_ttl {
        return Err(format!(
            "token_ttl must be between 1 s and {} s",
            max_ttl.as_secs()
        ));
    }
    if let Some(every) = o.auto_advance {
        let max = Duration::from_secs(SandboxSettings::MAX_AUTO_ADVANCE_SECS);
        if every.is_zero() || every > max {
            return Err(format!(
                "auto_advance must be between 1 s and {} s",
                max.as_secs()
            ));
        }
    }
    if o.max_issued_tokens == 0 {
        return Err("max_issued_tokens must be at least 1".into());
    }
    check_faults(&o.faults).map_err(|e| format!("faults: {e}"))
}

/// A 400 naming `key` when `text` is longer than `max` characters.
pub(crate) fn text(key: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{key} is longer than {max} characters"
        )));
    }
    Ok(())
}

fn at_most(key: &str, value: u64, max: u64) -> Result<(), String> {
    if value > max {
        return Err(format!("{key} must be at most {max}, got {value}"));
    }
    Ok(())
}

fn rate(key: &str, r: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("{key} must be between 0 and 1, got {r}"));
    }
    Ok(())
}

fn error_status(key: &str, status: u16) -> Result<(), String> {
    if !(400..=599).contains(&status) {
        return Err(format!(
            "{key} must hold error statuses (400-599), got {status}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{ErrorFault, Operation};

    #[test]
    fn the_first_setting_out_of_bounds_is_named() {
        assert_eq!(check_faults(&FaultConfig::default()), Ok(()));
        let fault = |rate, statuses: Vec<u16>| FaultConfig {
            errors: [(
                Operation::Search,
                ErrorFault {
                    rate,
                    statuses,
                    retry_after_secs: 1,
                },
            )]
            .into(),
            ..FaultConfig::default()
        };
        assert_eq!(check_faults(&fault(1.0, vec![429, 503])), Ok(()));
        let err = check_faults(&fault(f64::NAN, vec![503])).unwrap_err();
        assert!(err.starts_with("errors.search.rate"), "{err}");
        let err = check_faults(&fault(0.5, vec![302])).unwrap_err();
        assert!(err.starts_with("errors.search.statuses"), "{err}");
        assert!(text("k", &"é".repeat(4), 4).is_ok());
        assert!(text("k", &"é".repeat(5), 4).is_err());
    }
}
