//! Parsing of raw user input into domain values, with the short, specific messages users see.
//! Shared by every transport so a slash command and a console line are judged alike.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::CoreError;
use crate::domain::{
    Contact, Permission, ServiceNumber, SortColumn, StatusFilter, TechnicalNumber, TicketId,
};

pub fn ticket_id(raw: &str) -> Result<TicketId, CoreError> {
    TicketId::parse_user(raw).map_err(|e| CoreError::Invalid(capitalize(&e.to_string())))
}

pub fn service_number(raw: &str) -> Result<ServiceNumber, CoreError> {
    ServiceNumber::parse(raw).map_err(|e| CoreError::Invalid(capitalize(&e.to_string())))
}

pub fn technical_number(raw: &str) -> Result<TechnicalNumber, CoreError> {
    TechnicalNumber::parse(raw).map_err(|e| CoreError::Invalid(capitalize(&e.to_string())))
}

/// Free text (a description or a comment): trimmed, not empty, bounded.
pub fn text(what: &str, raw: &str, max: usize) -> Result<String, CoreError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(CoreError::Invalid(format!("The {what} is empty.")));
    }
    // Orange reads the bare word "null" as "no value": it would be silently dropped.
    if t.eq_ignore_ascii_case("null") {
        return Err(CoreError::Invalid(format!(
            "The {what} cannot be just \"null\"."
        )));
    }
    let len = t.chars().count();
    if len > max {
        return Err(CoreError::Invalid(format!(
            "The {what} is too long ({len} characters; at most {max})."
        )));
    }
    Ok(t.to_owned())
}

pub fn status_filter(raw: &str) -> Result<StatusFilter, CoreError> {
    StatusFilter::parse(raw).map_err(|e| CoreError::Invalid(capitalize(&e)))
}

pub fn sort_column(raw: &str) -> Result<SortColumn, CoreError> {
    SortColumn::parse(raw).map_err(|e| CoreError::Invalid(capitalize(&e)))
}

/// A date bound: `2024-05-01`, `2024-05-01T10:00` or a full ISO-8601 timestamp (UTC).
/// A bare date means its start (`from`) or its end (`to`).
pub fn date_bound(what: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, CoreError> {
    let t = raw.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let time = if end_of_day {
            d.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(time) = time {
            return Ok(time.and_utc());
        }
    }
    Err(CoreError::Invalid(format!(
        "The {what} date `{t}` is not a date: use YYYY-MM-DD or YYYY-MM-DDThh:mm (UTC)."
    )))
}

/// A contact profile: names, and an email and/or a phone Orange can reach.
pub fn contact(
    first_name: &str,
    last_name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Contact, CoreError> {
    let first = text("first name", first_name, 100)?;
    let last = text("last name", last_name, 100)?;
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email {
        let valid = e.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !e.contains(char::is_whitespace)
        });
        if !valid {
            return Err(CoreError::Invalid(format!(
                "`{e}` is not an email address."
            )));
        }
    }
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let allowed = p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
        if !allowed || !(6..=20).contains(&digits) {
            return Err(CoreError::Invalid(format!(
                "`{p}` is not a phone number: use digits, spaces and a leading +."
            )));
        }
    }
    if email.is_none() && phone.is_none() {
        return Err(CoreError::Invalid(
            "Give an email or a phone number so Orange can reach you.".into(),
        ));
    }
    Ok(Contact {
        first_name: first,
        last_name: last,
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
    })
}

/// A permission name: `create`, `comment`, `link` or `admin`.
pub fn permission(raw: &str) -> Result<Permission, CoreError> {
    let wanted = raw.trim().to_ascii_lowercase();
    Permission::ALL
        .into_iter()
        .find(|p| p.as_str() == wanted)
        .ok_or_else(|| {
            CoreError::Invalid(format!(
                "Unknown permission `{}`: use create, comment, link or admin.",
                raw.trim()
            ))
        })
}

/// A list of roles: Discord role mentions (`<@&id>`) or ids, separated by commas or spaces.
/// Empty, `everyone` or `none` is the empty set (back to the default). Names are refused: they
/// would never match, since a member's roles come as ids.
pub fn roles(raw: &str) -> Result<BTreeSet<String>, CoreError> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .filter(|r| {
            !matches!(
                r.to_ascii_lowercase().as_str(),
                "everyone" | "@everyone" | "none"
            )
        })
        .map(|r| {
            let id = r
                .strip_prefix("<@&")
                .and_then(|r| r.strip_suffix('>'))
                .unwrap_or(r);
            if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
                Ok(id.to_owned())
            } else {
                Err(CoreError::Invalid(format!(
                    "`{r}` is not a role: mention it (@role) or give its id."
                )))
            }
        })
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(c.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: std::fmt::Debug>(r: Result<T, CoreError>) -> String {
        r.unwrap_err().user_message()
    }

    #[test]
    fn messages_are_short_and_specific() {
        assert_eq!(
            msg(ticket_id("12 34")),
            "Ticket id `12 34` may only contain letters, digits, `-` and `_`."
        );
        assert_eq!(
            msg(text("description", "  ", 10)),
            "The description is empty."
        );
        assert_eq!(
            msg(text("description", "abcdefghijk", 10)),
            "The description is too long (11 characters; at most 10)."
        );
        assert!(msg(status_filter("done")).starts_with("Unknown status `done`"));
        assert!(msg(date_bound("from", "yesterday", false)).contains("YYYY-MM-DD"));
        assert_eq!(
            msg(contact("Ada", "L", Some("ada"), None)),
            "`ada` is not an email address."
        );
    }

    #[test]
    fn dates_accept_friendly_forms() {
        let d = date_bound("to", "2024-05-01", true).expect("date");
        assert_eq!(d.to_rfc3339(), "2024-05-01T23:59:59.999+00:00");
        let d = date_bound("from", "2024-05-01T10:30", false).expect("date");
        assert_eq!(d.to_rfc3339(), "2024-05-01T10:30:00+00:00");
    }
}
