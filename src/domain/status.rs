//! The ticket status: the eight values Orange documents, plus whatever it adds later.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A trouble-ticket status. Unknown values are kept verbatim in [`Status::Other`] rather than
/// failing the whole payload: Orange may add statuses without notice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Status {
    Submitted,
    InQualification,
    Ongoing,
    Restored,
    Repaired,
    Closed,
    Frozen,
    Errored,
    Other(String),
}

impl Status {
    /// The eight documented statuses, in lifecycle order.
    pub const KNOWN: [Status; 8] = [
        Status::Submitted,
        Status::InQualification,
        Status::Ongoing,
        Status::Frozen,
        Status::Restored,
        Status::Repaired,
        Status::Closed,
        Status::Errored,
    ];

    /// The documented statuses a ticket can still leave.
    pub const OPEN: [Status; 6] = [
        Status::Submitted,
        Status::InQualification,
        Status::Ongoing,
        Status::Frozen,
        Status::Restored,
        Status::Repaired,
    ];

    /// Reads a wire value. Matching is exact on Orange's spelling but tolerant of case and
    /// surrounding whitespace; anything else becomes [`Status::Other`].
    pub fn from_wire(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "submitted" => Status::Submitted,
            "in_qualification" => Status::InQualification,
            "ongoing" => Status::Ongoing,
            "restored" => Status::Restored,
            "repaired" => Status::Repaired,
            "closed" => Status::Closed,
            "frozen" => Status::Frozen,
            "errored" => Status::Errored,
            _ => Status::Other(raw.trim().to_owned()),
        }
    }

    /// Orange's spelling of the status.
    pub fn as_wire(&self) -> &str {
        match self {
            Status::Submitted => "submitted",
            Status::InQualification => "in_qualification",
            Status::Ongoing => "ongoing",
            Status::Restored => "restored",
            Status::Repaired => "repaired",
            Status::Closed => "closed",
            Status::Frozen => "frozen",
            Status::Errored => "errored",
            Status::Other(s) => s,
        }
    }

    /// A final status ends the ticket's lifecycle: nothing will change it any more.
    pub fn is_final(&self) -> bool {
        matches!(self, Status::Closed | Status::Errored)
    }

    /// Where the status comes in the lifecycle ([`Status::KNOWN`]'s order; unknown ones last),
    /// for lists grouped by status.
    pub fn rank(&self) -> usize {
        Status::KNOWN
            .iter()
            .position(|k| k == self)
            .unwrap_or(Status::KNOWN.len())
    }

    /// A label for people.
    pub fn label(&self) -> &str {
        match self {
            Status::Submitted => "Submitted",
            Status::InQualification => "In qualification",
            Status::Ongoing => "Ongoing",
            Status::Restored => "Restored",
            Status::Repaired => "Repaired",
            Status::Closed => "Closed",
            Status::Frozen => "Frozen (waiting on customer)",
            Status::Errored => "Errored",
            Status::Other(s) => s,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl From<String> for Status {
    fn from(value: String) -> Self {
        Status::from_wire(&value)
    }
}

impl From<Status> for String {
    fn from(value: Status) -> String {
        value.as_wire().to_owned()
    }
}

/// The status filter of a search: one status, or any (`-1` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Any,
    Only(Status),
}

impl StatusFilter {
    /// Parses user or query input: `-1`/`any`/`all` or one of the documented statuses. Unknown
    /// statuses are refused here (unlike on read) because Orange would reject them.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if matches!(t.to_ascii_lowercase().as_str(), "-1" | "any" | "all") {
            return Ok(StatusFilter::Any);
        }
        match Status::from_wire(t) {
            Status::Other(_) => Err(format!(
                "unknown status `{t}`: expected one of {}, or -1 for any",
                Status::KNOWN.map(|s| s.as_wire().to_owned()).join(", ")
            )),
            s => Ok(StatusFilter::Only(s)),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            StatusFilter::Any => "-1",
            StatusFilter::Only(s) => s.as_wire(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_status_round_trips_through_the_wire_spelling() {
        for s in Status::KNOWN {
            assert_eq!(Status::from_wire(s.as_wire()), s);
        }
    }

    #[test]
    fn unknown_values_are_kept() {
        assert_eq!(
            Status::from_wire("pending_vendor"),
            Status::Other("pending_vendor".into())
        );
        assert!(!Status::from_wire("pending_vendor").is_final());
        assert_eq!(Status::from_wire(" ONGOING "), Status::Ongoing);
    }

    #[test]
    fn only_closed_and_errored_are_final() {
        let finals: Vec<_> = Status::KNOWN.iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, vec![&Status::Closed, &Status::Errored]);
    }

    #[test]
    fn filter_accepts_any_and_known_statuses_only() {
        assert_eq!(StatusFilter::parse("-1"), Ok(StatusFilter::Any));
        assert_eq!(
            StatusFilter::parse("in_qualification"),
            Ok(StatusFilter::Only(Status::InQualification))
        );
        assert!(
            StatusFilter::parse("bogus")
                .unwrap_err()
                .contains("expected one of submitted")
        );
        assert_eq!(StatusFilter::Any.as_wire(), "-1");
    }
}
