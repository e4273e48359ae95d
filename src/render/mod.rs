//! Rendering: domain values and command outcomes -> a neutral [`Card`] and sentences ([`Reply`])
//! -> terminal text (here) or a Discord embed (in the Discord transport).

pub mod banner;
pub mod board;
pub mod card;
pub mod digest;
pub mod notice;
pub mod reply;
pub mod report;
pub mod send;
pub mod text;

pub use banner::{Banner, SANDBOX_BANNER};
pub use card::{Card, Field};
pub use reply::{Attachment, Reply, reply};
