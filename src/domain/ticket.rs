//! A trouble ticket as the bot understands it, independent of how Orange spells it on the wire.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ServiceNumber, Status, TechnicalNumber, TicketId};

/// The kind of a note. `Comments` is what customers add through the API; Orange staff use others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum NoteKind {
    Comments,
    InwardCustomerComments,
    Other(String),
}

impl NoteKind {
    pub fn from_wire(raw: &str) -> Self {
        match raw {
            "Comments" => NoteKind::Comments,
            "Inward customer comments" => NoteKind::InwardCustomerComments,
            other => NoteKind::Other(other.to_owned()),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            NoteKind::Comments => "Comments",
            NoteKind::InwardCustomerComments => "Inward customer comments",
            NoteKind::Other(s) => s,
        }
    }
}

impl From<String> for NoteKind {
    fn from(value: String) -> Self {
        NoteKind::from_wire(&value)
    }
}

impl From<NoteKind> for String {
    fn from(value: NoteKind) -> String {
        value.as_wire().to_owned()
    }
}

/// One note of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Note {
    pub date: DateTime<Utc>,
    pub kind: NoteKind,
    pub text: String,
}

/// Whether a note's text is a comment the bot wrote (signed `[Name via discord] `), so the
/// watcher does not echo it back and it does not count as news from Orange.
pub fn is_bot_note(text: &str) -> bool {
    text.strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .is_some_and(|(sign, _)| {
            [" via discord", " via console"]
                .iter()
                .any(|via| sign.ends_with(via) && sign.len() > via.len())
        })
}

/// The last status transition. Orange sends a 1970 sentinel for "none yet", read as `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusChange {
    pub date: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// One way to reach a party (`email`, `phone`, `usPhone`, ...). Orange sends slots with no value;
/// those are dropped on conversion, so `value` is always present here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactMedium {
    pub kind: String,
    pub value: String,
}

/// A party on a ticket: the depositor (the customer's contact) or Orange's service centre (`csc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub role: String,
    pub name: String,
    pub media: Vec<ContactMedium>,
}

/// The person Orange should contact about a new ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Contact {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// A trouble ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub status: Status,
    pub description: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub service: Option<ServiceNumber>,
    pub technical: Option<TechnicalNumber>,
    pub resolution_date: Option<DateTime<Utc>>,
    pub status_change: StatusChange,
    pub external_id: Option<String>,
    pub parties: Vec<Party>,
    /// `None` when the payload carried no notes at all (search results), as opposed to an empty
    /// history; a diff must not read "notes absent" as "notes removed".
    pub notes: Option<Vec<Note>>,
    pub priority: Option<String>,
    pub escalation_level: Option<String>,
    pub attachment: Option<String>,
    /// Fields Orange sent that this version does not know, kept verbatim (JSON text).
    pub extra: BTreeMap<String, String>,
}

impl Ticket {
    /// A ticket with only an id and a status, every other field empty; fill the rest with struct
    /// update syntax (`Ticket { description: ..., ..Ticket::new(id, status) }`).
    pub fn new(id: TicketId, status: Status) -> Self {
        Ticket {
            id,
            status,
            description: None,
            created: None,
            service: None,
            technical: None,
            resolution_date: None,
            status_change: StatusChange::default(),
            external_id: None,
            parties: Vec::new(),
            notes: None,
            priority: None,
            escalation_level: None,
            attachment: None,
            extra: BTreeMap::new(),
        }
    }

    /// The name on the depositor party, which is what search's `reportedBy` matches.
    pub fn reported_by(&self) -> Option<&str> {
        self.parties
            .iter()
            .find(|p| p.role == "depositor")
            .map(|p| p.name.as_str())
    }
}

/// A service of the account: a service number with its product and technical numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub number: ServiceNumber,
    pub product_type: Option<String>,
    pub label: Option<String>,
    pub technical_numbers: Vec<TechnicalNumber>,
}

impl Service {
    pub fn has_technical(&self, technical: &TechnicalNumber) -> bool {
        self.technical_numbers.contains(technical)
    }
}

/// What a user asks for when opening a ticket; validated before it reaches the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    pub service: ServiceNumber,
    pub technical: TechnicalNumber,
    pub description: String,
    pub contact: Contact,
    /// The customer's own reference (Orange's `externalId`), e.g. a link back to the conversation.
    pub external_id: Option<String>,
}

/// A comment to add to a ticket. The API needs the ticket's service number alongside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    pub service: ServiceNumber,
    pub date: DateTime<Utc>,
    pub text: String,
}
