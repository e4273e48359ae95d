//! Serde helpers for the oddities Orange's real payloads show (see `CONTRACT.md`, "Quirks").
//!
//! Each helper is small and named after the quirk it absorbs, so a DTO field reads as documentation.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
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
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match null_string(d)? {
        None => Ok(None),
        Some(raw) => parse_date(&raw).map(Some).map_err(D::Error::custom),
    }
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
/// example's `"description": "null"`); both are read as absent.
pub fn null_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "null" => None,
        Some(Value::String(s)) => Some(s),
        // Why: numeric strings travel as numbers on some gateways; keep their text.
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => {
            return Err(D::Error::custom(format!(
                "expected a string, found {}",
                kind_of(&other)
            )));
        }
    })
}

/// Why: numbers travel as strings (`"expires_in": "3600"`, `"code": "40"`) or as numbers,
/// depending on the gateway. Accepts both and returns the number.
pub fn number_or_string<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    let text = match Value::deserialize(d)? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        other => {
            return Err(D::Error::custom(format!(
                "expected a number, found {}",
                kind_of(&other)
            )));
        }
    };
    text.parse()
        .map_err(|_| D::Error::custom(format!("expected a whole number, found \"{text}\"")))
}

/// Why: lists are sometimes `null` instead of `[]` in Orange's responses; both mean empty.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
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
    }

    #[test]
    fn the_1970_sentinel_is_absent_but_real_dates_are_kept() {
        assert_eq!(probe(r#"{"d":"1970-01-01T00:00:00.000Z"}"#).d, None);
        let d = probe(r#"{"d":"2023-07-20T15:18:38.000Z"}"#)
            .d
            .expect("date");
        assert_eq!(format_date(&d), "2023-07-20T15:18:38.000Z");
        assert!(serde_json::from_str::<Probe>(r#"{"d":"yesterday"}"#).is_err());
    }
}
