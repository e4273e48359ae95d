//! Everything about Orange's Trouble Tickets API 1.0: wire models with their quirks, and the
//! conversion of whole response bodies into domain values.

pub mod convert;
pub mod quirks;
pub mod wire;

pub use convert::{RejectedTicket, SearchBody, WireError};
