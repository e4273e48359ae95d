//! Files uploaded with a message (multipart `files[n]` parts), checked as Discord checks them:
//! each upload is declared in `payload_json`'s `attachments` with the same id and filename, and
//! each declared new attachment has its upload; at most 10 files, each under the guild's size
//! limit, with a plain file name. Accepted files are stored (see [`super::State::files`]) and the
//! message's `attachments` become full attachment objects, as Discord answers them.

use serde_json::{Value, json};

use super::state::State;

/// Discord's limits on uploads (the fake's guild has no boost: 25 MiB).
const MAX_FILES: usize = 10;
const MAX_FILE_BYTES: usize = 26_214_400;

/// One `files[n]` part of a multipart body.
#[derive(Debug, Clone)]
pub struct Upload {
    pub index: u64,
    pub filename: String,
    pub content_type: Option<String>,
    pub content: Vec<u8>,
}

/// A stored attachment: what the bot uploaded.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub filename: String,
    pub content: Vec<u8>,
}

impl StoredFile {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.content).into_owned()
    }
}

/// The `files[n]` parts of a multipart body split at `--boundary`.
pub fn parse(parts: &[&[u8]]) -> Result<Vec<Upload>, String> {
    let mut out = Vec::new();
    for part in parts {
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(name) = param(&head, "name") else {
            continue;
        };
        let Some(index) = name
            .strip_prefix("files[")
            .and_then(|n| n.strip_suffix(']'))
        else {
            continue;
        };
        let index = index
            .parse::<u64>()
            .map_err(|_| format!("upload part `{name}`: not files[<number>]"))?;
        let filename = param(&head, "filename")
            .ok_or_else(|| format!("upload part `{name}` without a filename"))?;
        let content_type = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("Content-Type:")
                    .or(l.strip_prefix("content-type:"))
            })
            .map(|v| v.trim().to_owned());
        out.push(Upload {
            index,
            filename,
            content_type,
            content: content.to_vec(),
        });
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `name="value"` in a part's `Content-Disposition`.
fn param(head: &str, key: &str) -> Option<String> {
    let pattern = format!("{key}=\"");
    let start = head
        .match_indices(&pattern)
        .find(|(i, _)| *i == 0 || matches!(head.as_bytes()[i - 1], b' ' | b';'))?
        .0
        + pattern.len();
    let end = head[start..].find('"')? + start;
    Some(head[start..end].to_owned())
}

/// Discord's own documentation ("Uploading Files") declares a new upload as `{"id": 0, ...}`, a
/// number, and serenity sends it so; the OpenAPI spec types every snowflake as a string. Discord
/// accepts both, so the fake reads a numeric attachment id as its string before the schema check.
pub fn numeric_ids_as_strings(body: &mut Value) {
    let Some(declared) = body.get_mut("attachments").and_then(Value::as_array_mut) else {
        return;
    };
    for a in declared {
        if let Some(id) = a.get("id").and_then(Value::as_u64) {
            a["id"] = Value::String(id.to_string());
        }
    }
}

/// Whether the declared attachment `a` names the upload `files[index]`.
fn names(a: &Value, index: u64) -> bool {
    a["id"].as_u64() == Some(index) || a["id"].as_str() == Some(index.to_string().as_str())
}

/// What is wrong with `uploads` given the message `body` that declares them.
pub fn check(body: &Value, uploads: &[Upload]) -> Vec<String> {
    let mut problems = Vec::new();
    let declared: Vec<&Value> = body["attachments"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if uploads.len() > MAX_FILES {
        problems.push(format!("{} files: at most {MAX_FILES}", uploads.len()));
    }
    for u in uploads {
        match declared.iter().find(|a| names(a, u.index)) {
            None => problems.push(format!("files[{}] is not declared in attachments", u.index)),
            Some(a) if a["filename"].as_str() != Some(u.filename.as_str()) => {
                problems.push(format!(
                    "files[{}]: filename `{}` differs from the declared `{}`",
                    u.index, u.filename, a["filename"]
                ))
            }
            Some(_) => {}
        }
        if u.content.len() > MAX_FILE_BYTES {
            problems.push(format!(
                "files[{}]: {} bytes, over the limit",
                u.index,
                u.content.len()
            ));
        }
        if u.content.is_empty() {
            problems.push(format!("files[{}] is empty", u.index));
        }
        if u.filename.is_empty() || u.filename.contains(['/', '\\']) {
            problems.push(format!("files[{}]: filename `{}`", u.index, u.filename));
        }
    }
    for a in &declared {
        // A small number is a new upload's index; an existing attachment is a snowflake.
        let new = a["id"].as_u64().is_some_and(|id| id < 1_000)
            || a["id"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|id| id < 1_000);
        let uploaded = uploads.iter().any(|u| names(a, u.index));
        if new && !uploaded {
            problems.push(format!(
                "attachment {} declared without its files[] part",
                a["id"]
            ));
        }
    }
    problems
}

/// Stores `uploads` and makes the body's new attachments full objects, as Discord returns them.
pub fn store(s: &mut State, base_url: &str, body: &mut Value, uploads: Vec<Upload>) {
    let Some(declared) = body.get_mut("attachments").and_then(Value::as_array_mut) else {
        return;
    };
    for a in declared.iter_mut() {
        let Some(u) = uploads.iter().find(|u| names(a, u.index)) else {
            continue;
        };
        let id = s.next_id();
        *a = json!({
            "id": id.to_string(),
            "filename": u.filename,
            "size": u.content.len(),
            "url": format!("{base_url}attachments/{id}/{}", u.filename),
            "proxy_url": format!("{base_url}attachments/{id}/{}", u.filename),
            "content_type": u.content_type,
        });
        s.files.insert(
            id,
            StoredFile {
                filename: u.filename.clone(),
                content: u.content.clone(),
            },
        );
    }
}
