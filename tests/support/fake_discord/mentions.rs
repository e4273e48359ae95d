//! The mention guard: Discord pings whoever the `content` of a message names (`@everyone`,
//! `@here`, `<@user>`, `<@&role>`) unless the body's `allowed_mentions` says otherwise. A ticket
//! note copied from Orange can contain any of these, so every message the bot sends must turn
//! pings off; the fake records a failure for a body that would ping.

use serde_json::Value;

/// The message object inside a request body on `route`, for the routes that create or edit one.
pub fn message_of<'b>(route: &str, body: &'b Value) -> Option<&'b Value> {
    match route {
        "POST /channels/{channel_id}/messages"
        | "PATCH /channels/{channel_id}/messages/{message_id}"
        | "POST /webhooks/{webhook_id}/{webhook_token}"
        | "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}" => Some(body),
        "POST /interactions/{interaction_id}/{interaction_token}/callback" => {
            matches!(body["type"].as_u64(), Some(4 | 7)).then(|| &body["data"])
        }
        "POST /channels/{channel_id}/threads" => body.get("message"),
        _ => None,
    }
}

/// Why `message` would ping someone, or `None` when it pings nobody.
///
/// Stricter than Discord on purpose: once the content names anyone, any `parse` value or any
/// listed user or role counts as a ping, so the only safe shape is "pings off".
pub fn would_ping(message: &Value) -> Option<String> {
    let content = message["content"].as_str().unwrap_or_default();
    let tokens = mention_tokens(content);
    if tokens.is_empty() {
        return None;
    }
    let allowed = &message["allowed_mentions"];
    if allowed.is_null() {
        return Some(format!(
            "content mentions {tokens:?} and the body has no allowed_mentions"
        ));
    }
    (!suppresses_all(message)).then(|| {
        format!("content mentions {tokens:?} and allowed_mentions {allowed} lets them ping")
    })
}

/// Whether `allowed_mentions` turns every ping off: present, `parse` empty (or absent, which
/// Discord reads the same) and no `users` or `roles` listed.
pub fn suppresses_all(message: &Value) -> bool {
    let allowed = &message["allowed_mentions"];
    let empty = |key: &str| match &allowed[key] {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    allowed.is_object() && empty("parse") && empty("users") && empty("roles")
}

/// The mentions in `content` that Discord turns into pings, in order.
pub fn mention_tokens(content: &str) -> Vec<String> {
    let mut out: Vec<(usize, String)> = ["@everyone", "@here"]
        .iter()
        .flat_map(|t| content.match_indices(t))
        .map(|(at, t)| (at, t.to_owned()))
        .collect();
    for (at, _) in content.match_indices("<@") {
        if let Some(token) = id_mention(&content[at..]) {
            out.push((at, token.to_owned()));
        }
    }
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

/// The `<@id>`, `<@!id>` or `<@&id>` at the start of `s`, if it is one.
fn id_mention(s: &str) -> Option<&str> {
    let rest = &s[2..];
    let digits_at = usize::from(rest.starts_with(['!', '&']));
    let digits = rest[digits_at..]
        .find(|c: char| !c.is_ascii_digit())
        .filter(|n| *n > 0)?;
    let end = 2 + digits_at + digits;
    (s[end..].starts_with('>')).then(|| &s[..=end])
}
