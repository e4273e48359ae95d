//! The domain model: tickets, statuses, identifiers and the diff of two snapshots.
//!
//! Pure data and rules. Nothing here performs I/O or knows about Discord, HTTP or sled.

mod board;
mod change;
mod clocks;
mod conversation;
mod digest;
mod ids;
mod report;
mod search;
mod status;
mod ticket;

pub use board::{Board, BoardEntry, BoardPost, last_update};
pub use change::{Change, diff};
pub use clocks::{Clocks, Timeline, clocks};
pub use conversation::{
    Actor, Audience, AuditEntry, Conversation, KEY_LEN, Notification, Opener, Permission,
    Subscription, TeamId, TeamSettings, Transport,
};
pub use digest::{Digest, Oldest, WAITING_NAMED};
pub use ids::{IdError, ServiceNumber, TechnicalNumber, TicketId};
pub use report::{Figures, Period, Report, Spread, TicketClocks, percentile, report};
pub use search::{
    ApiStatus, ComponentStatus, SearchPage, SearchQuery, SortColumn, UnreadableTicket,
};
pub use status::{Status, StatusFilter};
pub use ticket::{
    Contact, ContactMedium, NewComment, NewTicket, Note, NoteKind, Party, Service, StatusChange,
    Ticket, is_bot_note,
};
