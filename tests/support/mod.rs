//! Test support for the black-box tests: the fake Discord, a minimal serenity client for its
//! self-tests, `TestBot`, which runs the real bot against the fake and the Orange sandbox, and
//! `bot_process`, which runs it as a process; `tickets`, opening tickets as a user does.

pub mod bot_process;
pub mod echo_bot;
pub mod fake_discord;
pub mod test_bot;
pub mod tickets;
