//! Security checks: what the bot writes to disk is its owner's alone, and no secret reaches its
//! logs, even at trace level with every dependency's events.
//!
//! A target of its own: the secrets test installs the process-wide tracing subscriber (and the
//! `log` bridge), which must neither capture nor disturb any other test binary.

// The fake Discord and `TestBot`, shared with the e2e tests.
#[path = "../support/mod.rs"]
#[allow(dead_code, unused_imports)] // this target uses a part of the shared support only
mod support;

mod files;
mod secrets;
