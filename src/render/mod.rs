//! Rendering: domain values -> a neutral [`Card`] -> terminal text (here) or a Discord embed (in
//! the Discord transport).

pub mod card;
pub mod text;

pub use card::{Card, Field};
