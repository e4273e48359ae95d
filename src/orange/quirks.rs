//! Serde helpers for the oddities Orange's real payloads show (see `CONTRACT.md`, "Quirks").
//!
//! Each helper is small and named after the quirk it absorbs, so a DTO field reads as documentation.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// Orange's date format: ISO-8601 UTC with milliseconds, e.g. `2023-08-28T14:40:38.041Z`.
pub fn format_date(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses Orange's date format (any RFC 3339 timestamp is accepted and normalised to UTC).
pub fn parse_date(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("`{raw}` is not an ISO-8601 date ({e})"))
}

/// Serde `with` module for a required date in Orange's format.
pub mod date {
    use super::*;

    pub fn serialize<S: Serializer>(date: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_date(date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        parse_date(&raw).map_err(D::Error::custom)
    }
}

/// An optional date. `null`, `""` and the string `"null"` mean "absent".
///
/// Why lenient: no date of a ticket is worth the whole ticket; one we cannot read is logged and
/// shown as unknown.
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match text(d)? {
        None => None,
        Some(raw) => parse_date(&raw).map_or_else(ignored, Some),
    })
}

/// Why: `resolutionDate` and `statusChange.changeDate` carry `1970-01-01T00:00:00.000Z` when there is
/// no such date yet. Reading it as a date would show "resolved in 1970".
pub fn date_or_sentinel<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(opt_date(d)?.filter(|date| date.timestamp() != 0))
}

/// Writes an optional date in Orange's format, `null` when absent (the sandbox writes tickets).
pub fn ser_opt_date<S: Serializer>(date: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => s.serialize_str(&format_date(d)),
        None => s.serialize_none(),
    }
}

/// The writing side of [`date_or_sentinel`]: "not yet" goes out as `1970-01-01T00:00:00.000Z`,
/// as Orange sends it.
pub fn ser_date_or_sentinel<S: Serializer>(
    date: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_date(&date.unwrap_or(DateTime::UNIX_EPOCH)))
}

/// Why: Orange writes "no value" as JSON `null` *and* as the string `"null"` (see the get-ticket
/// example's `"description": "null"`); both are read as absent. For the fields a ticket cannot do
/// without (its id and status): a string or a number, anything else is an error (`true` is no id).
pub fn null_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(_) => Err(D::Error::custom("expected a string, found a boolean")),
        value => scalar_text(value).map_err(|other| D::Error::custom(expected("a string", &other))),
    }
}

/// [`null_string`] for a field the ticket can do without: a list or an object there is logged and
/// read as absent instead of costing the whole ticket.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?)
        .unwrap_or_else(|other| ignored(expected("a string", &other))))
}

/// Why: a note's `type` has been seen `null` and ids travel as numbers; a required text field reads
/// `null` (or a list, logged) as empty and a number as its digits. `"null"` stays literal here: it
/// is a comment someone may really write.
pub fn text_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        other => scalar_text(other)
            .unwrap_or_else(|other| ignored(expected("a string", &other)))
            .unwrap_or_default(),
    })
}

/// The text of a scalar (`null` and `"null"` are absent); a list or an object is handed back.
fn scalar_text(value: Value) -> Result<Option<String>, Value> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s == "null" => Ok(None),
        Value::String(s) => Ok(Some(s)),
        // Why: numeric strings travel as numbers on some gateways; keep their text.
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(other),
    }
}

/// Why: numbers travel as strings (`"expires_in": "3600"`, `"code": "40"`) or as numbers,
/// depending on the gateway. Accepts both and returns the number.
pub fn number_or_string<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    number(Value::deserialize(d)?).map_err(D::Error::custom)
}

/// [`number_or_string`] for a number that has a fallback: absent, `null` or unreadable (logged)
/// reads as the default (a token's `expires_in`: 0, "not said").
pub fn number_or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + Default,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => T::default(),
        value => number(value).unwrap_or_else(ignored),
    })
}

fn number<T: std::str::FromStr>(value: Value) -> Result<T, String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        other => return Err(expected("a number", &other)),
    };
    text.parse()
        .map_err(|_| format!("expected a whole number, found \"{text}\""))
}

/// Why: a part of a ticket it can do without (`statusChange`, `components`) must not cost the whole
/// ticket when a gateway sends it in another shape: it is logged and read as absent.
pub fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => T::default(),
        value => read_or_ignore(value).unwrap_or_default(),
    })
}

/// Why: one unreadable entry of a list (a note, a party, a contact slot) must not cost the others
/// or the ticket: it is logged and skipped. `null` (sometimes sent for `[]`) is an empty list;
/// anything else is logged.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(opt_list(d)?.unwrap_or_default())
}

/// [`list`] where "no list" differs from an empty one (a ticket's notes: absent in search results).
pub fn opt_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::Array(items) => Some(items.into_iter().filter_map(read_or_ignore).collect()),
        other => ignored(expected("a list", &other)),
    })
}

/// Why: `attachment` is an object in responses but a list (`[]`) in requests, and gateways echo
/// the request's shape: an empty list is none, a list is read as its first entry.
pub fn object_or_list<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::Array(items) => items.into_iter().next().and_then(read_or_ignore),
        value => read_or_ignore(value),
    })
}

/// Reads `T` from `value`, or logs why not and gives `None`.
fn read_or_ignore<T: DeserializeOwned>(value: Value) -> Option<T> {
    T::deserialize(value).map_err(ignored::<()>).ok()
}

/// The one place an unreadable optional value is reported: a warning (the enclosing span says
/// which ticket), then the value is read as absent.
fn ignored<T: Default>(why: impl std::fmt::Display) -> T {
    tracing::warn!(%why, "ignored an unreadable field of Orange's answer");
    T::default()
}

fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", kind_of(found))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "null_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "date_or_sentinel")]
        d: Option<DateTime<Utc>>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).expect("probe parses")
    }

    #[test]
    fn the_string_null_is_absent() {
        assert_eq!(probe(r#"{"s":"null"}"#).s, None);
        assert_eq!(probe(r#"{"s":null}"#).s, None);
        assert_eq!(probe(r#"{}"#).s, None);
        assert_eq!(
            probe(r#"{"s":"Null value"}"#).s.as_deref(),
            Some("Null value")
        );
        assert_eq!(probe(r#"{"s":7}"#).s.as_deref(), Some("7"));
        assert!(serde_json::from_str::<Probe>(r#"{"s":true}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"s":["1"]}"#).is_err());
    }

    #[test]
    fn the_1970_sentinel_is_absent_but_real_dates_are_kept() {
        assert_eq!(probe(r#"{"d":"1970-01-01T00:00:00.000Z"}"#).d, None);
        let d = probe(r#"{"d":"2023-07-20T15:18:38.000Z"}"#)
            .d
            .expect("date");
        assert_eq!(format_date(&d), "2023-07-20T15:18:38.000Z");
        // An unreadable date is unknown (and logged), not a reason to drop what holds it.
        assert_eq!(probe(r#"{"d":"yesterday"}"#).d, None);
    }
}
