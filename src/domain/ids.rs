//! Validated identifiers: a ticket id, an Orange service number ("LD number") and a technical number.
//!
//! Each is parsed once at the edge (user input or wire payload) and is then known to be well formed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused; the message is safe to show to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is too long ({len} characters, at most {max})")]
    TooLong {
        kind: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{kind} `{value}` may only contain {allowed}")]
    BadCharacter {
        kind: &'static str,
        value: String,
        allowed: &'static str,
    },
}

/// Shared rules: trimmed, non-empty, bounded, and made of an allowed alphabet.
fn validate(
    kind: &'static str,
    raw: &str,
    max: usize,
    allowed: &'static str,
    ok: fn(char) -> bool,
) -> Result<String, IdError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = value.chars().count();
    if len > max {
        return Err(IdError::TooLong { kind, len, max });
    }
    if !value.chars().all(ok) {
        return Err(IdError::BadCharacter {
            kind,
            value: value.chars().take(40).collect(),
            allowed,
        });
    }
    Ok(value.to_owned())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr, $allowed:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates user or wire input (surrounding whitespace is ignored).
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                validate($kind, raw, $max, $allowed, $ok).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// An Orange trouble-ticket id, e.g. `1234567890`. Orange's examples are numeric; letters, `-` and
    /// `_` are tolerated so that an id format change upstream does not make tickets unreadable.
    TicketId,
    "ticket id",
    64,
    "letters, digits, `-` and `_`",
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_'
);

id_type!(
    /// An Orange service number (the "LD number"), e.g. `LD000000`.
    ServiceNumber,
    "service number",
    32,
    "letters, digits, `-`, `_` and `.`",
    |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
);

id_type!(
    /// A technical number under a service, e.g. `LD000001`.
    TechnicalNumber,
    "technical number",
    64,
    "letters, digits, `-`, `_`, `.` and `/`",
    |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
);

impl TicketId {
    /// Like [`TicketId::parse`] but forgiving what people type in chat: a leading `#`.
    pub fn parse_user(raw: &str) -> Result<Self, IdError> {
        Self::parse(raw.trim().trim_start_matches('#'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_are_trimmed_and_validated() {
        assert_eq!(
            TicketId::parse(" 1234567890 ").map(|t| t.to_string()),
            Ok("1234567890".to_owned())
        );
        assert_eq!(
            TicketId::parse_user("#42").map(|t| t.to_string()),
            Ok("42".to_owned())
        );
        assert_eq!(
            TicketId::parse("  "),
            Err(IdError::Empty { kind: "ticket id" })
        );
        assert!(matches!(
            TicketId::parse("12 34"),
            Err(IdError::BadCharacter { .. })
        ));
        assert!(matches!(
            TicketId::parse(&"9".repeat(65)),
            Err(IdError::TooLong { len: 65, .. })
        ));
    }

    #[test]
    fn error_messages_name_the_kind() {
        let err = ServiceNumber::parse("LD 0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "service number `LD 0` may only contain letters, digits, `-`, `_` and `.`"
        );
    }

    #[test]
    fn serde_validates_on_the_way_in() {
        let ok: Result<TechnicalNumber, _> = serde_json::from_str("\"LD000001\"");
        assert_eq!(ok.ok().map(String::from), Some("LD000001".to_owned()));
        let bad: Result<TechnicalNumber, _> = serde_json::from_str("\"\"");
        assert!(bad.is_err());
    }
}
