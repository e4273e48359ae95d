//! The REST API under `/api/v10`: one handler that records the request, matches it to a spec
//! route, applies armed faults, validates the body, checks that no message would ping anyone
//! ([`super::mentions`]) and answers like Discord. An unknown route answers 404 and is recorded
//! as a test failure.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::{self, Fault};
use super::state::{
    APPLICATION_ID, BOT_USER_ID, EPHEMERAL, GUILD_ID, INTERACTION_WINDOW, MAX_PINS, NONCE_WINDOW,
    RecordedRequest, State, bot_user, human_user,
};
use super::validate::{self, Violation};
use super::{Shared, mentions, state, uploads};

/// Every route the fake answers, as `METHOD /spec/path`.
pub const ROUTES: &[&str] = &[
    "GET /gateway",
    "GET /gateway/bot",
    "GET /oauth2/applications/@me",
    "GET /users/@me",
    "GET /users/@me/guilds",
    "POST /users/@me/channels",
    "GET /guilds/{guild_id}/members/{user_id}",
    "GET /guilds/{guild_id}/roles",
    "GET /applications/{application_id}/commands",
    "PUT /applications/{application_id}/commands",
    "GET /applications/{application_id}/guilds/{guild_id}/commands",
    "PUT /applications/{application_id}/guilds/{guild_id}/commands",
    "POST /interactions/{interaction_id}/{interaction_token}/callback",
    "POST /webhooks/{webhook_id}/{webhook_token}",
    "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "GET /channels/{channel_id}/messages",
    "POST /channels/{channel_id}/messages",
    "GET /channels/{channel_id}/messages/{message_id}",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "DELETE /channels/{channel_id}/messages/{message_id}",
    "POST /channels/{channel_id}/threads",
    "POST /channels/{channel_id}/messages/{message_id}/threads",
    "GET /channels/{channel_id}",
    "PATCH /channels/{channel_id}",
    "PUT /channels/{channel_id}/thread-members/{user_id}",
    "DELETE /channels/{channel_id}/thread-members/{user_id}",
    "GET /channels/{channel_id}/pins",
    "PUT /channels/{channel_id}/pins/{message_id}",
    "DELETE /channels/{channel_id}/pins/{message_id}",
];

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A matched request: its spec route, the values of the path's `{...}` segments and the query.
struct Matched<'a> {
    route: &'static str,
    params: Vec<&'a str>,
    query: Vec<(String, String)>,
}

fn classify<'a>(method: &Method, path: &'a str, query: Option<&str>) -> Option<Matched<'a>> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method.as_str();
    let route = ROUTES.iter().find(|r| {
        let (rm, rp) = r.split_once(' ').expect("METHOD /path");
        let pattern: Vec<&str> = rp.trim_matches('/').split('/').collect();
        rm == m
            && pattern.len() == segs.len()
            && pattern
                .iter()
                .zip(&segs)
                .all(|(p, s)| p.starts_with('{') || p == s)
    })?;
    let pattern = route.split_once(' ').expect("METHOD /path").1;
    let params = pattern
        .trim_matches('/')
        .split('/')
        .zip(&segs)
        .filter(|(p, _)| p.starts_with('{'))
        .map(|(_, s)| *s)
        .collect();
    let query = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    Some(Matched {
        route,
        params,
        query,
    })
}

/// What the handler answers.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<Value>,
}

impl Reply {
    fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Some(body),
        }
    }

    fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    fn no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// Discord's error shape: `{"message": ..., "code": ...}`.
    fn error(status: StatusCode, code: u32, message: &str) -> Self {
        Self::json(status, json!({"message": message, "code": code}))
    }
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = shared.state().elapsed();
    let full_path = uri.path();
    let path = full_path.strip_prefix("/api/v10").unwrap_or(full_path);
    let matched = full_path
        .starts_with("/api/v10/")
        .then(|| classify(&method, path, uri.query()))
        .flatten();
    let route = matched.as_ref().map(|m| m.route);
    let label = format!("{method} {}", uri.path());

    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut files = Vec::new();
    let parsed: Result<Option<Value>, String> = if body.is_empty() {
        Ok(None)
    } else if content_type.starts_with("multipart/form-data") {
        multipart(content_type, &body)
            .map(|(json, uploads)| {
                files = uploads;
                json
            })
            .map_err(|e| format!("{label}: {e}"))
    } else {
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| format!("{label}: body is not JSON ({e})"))
    };
    let mut parsed = parsed;
    if let Ok(Some(body)) = &mut parsed {
        uploads::numeric_ids_as_strings(body);
    }
    if let (Some(route), Ok(Some(body))) = (route, &parsed) {
        guard_mentions(&shared, route, &label, body);
    }
    let revoked = bot_token(&headers).is_some_and(|t| shared.state().revoked_tokens.contains(&t));
    let fault = route
        .filter(|_| !revoked)
        .and_then(|r| faults::take(&mut shared.faults.lock().expect("faults"), r));

    let reply = match (&matched, &parsed) {
        // Discord's answer to a bot token it does not know (reset, or mistyped).
        (Some(_), _) if revoked => Reply::error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized"),
        (None, _) => {
            shared.update(|s| s.fail(format!("{label}: unknown route (answered 404)")));
            Reply::error(StatusCode::NOT_FOUND, 0, "404: Not Found")
        }
        (Some(_), Err(e)) => {
            shared.update(|s| s.fail(e.clone()));
            Reply::error(
                StatusCode::BAD_REQUEST,
                50109,
                "The request body contains invalid JSON.",
            )
        }
        (Some(m), Ok(body)) => match fault.and_then(faults::response) {
            Some((status, headers, body)) => Reply {
                status,
                headers,
                body: Some(body),
            },
            None => {
                let mut violations = validate_body(&shared, m, body.as_ref());
                if let Some(b) = body.as_ref().filter(|b| b["attachments"].is_array()) {
                    violations.extend(uploads::check(b, &files).into_iter().map(|rule| {
                        Violation {
                            path: "/attachments".into(),
                            rule,
                        }
                    }));
                } else if !files.is_empty() {
                    violations.push(Violation {
                        path: "/attachments".into(),
                        rule: "files uploaded without an attachments list".into(),
                    });
                }
                if violations.is_empty() {
                    let mut body = body.clone().unwrap_or(Value::Null);
                    shared.update(|s| {
                        uploads::store(s, CDN, &mut body, std::mem::take(&mut files));
                        answer(s, m, &body, &shared.gateway_url())
                    })
                } else {
                    shared.update(|s| {
                        for v in &violations {
                            s.fail(format!("{} ({label}): invalid body {v}", m.route));
                        }
                    });
                    invalid_form_body(&violations)
                }
            }
        },
    };

    shared.update(|s| {
        let at = s.elapsed();
        s.requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.to_owned(),
            route,
            headers: headers
                .iter()
                .map(|(k, v)| {
                    let v = if k == "authorization" {
                        "[REDACTED]"
                    } else {
                        v.to_str().unwrap_or("<binary>")
                    };
                    (k.to_string(), v.to_owned())
                })
                .collect(),
            body: parsed.clone().ok().flatten(),
            at,
            received,
            status: reply.status.as_u16(),
            injected: fault.is_some_and(|f| !matches!(f, Fault::Delay(_))),
        })
    });
    if let Some(Fault::Delay(d)) = fault {
        tokio::time::sleep(d).await;
    }
    match reply.body {
        Some(body) => (reply.status, reply.headers, axum::Json(body)).into_response(),
        None => (reply.status, reply.headers).into_response(),
    }
}

/// The token of an `Authorization: Bot <token>` header.
fn bot_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bot ").map(str::to_owned)
}

/// Records a failure when the message in `body` would ping anyone (see [`mentions`]).
fn guard_mentions(shared: &Shared, route: &str, label: &str, body: &Value) {
    let why = mentions::message_of(route, body).and_then(mentions::would_ping);
    if let Some(why) = why {
        shared.update(|s| s.fail(format!("{route} ({label}): would ping: {why}")));
    }
}

/// Where the fake says uploaded files are served (never fetched).
const CDN: &str = "https://cdn.discordapp.com/";

/// A multipart body (serenity sends one for messages with attachments and for forum posts): the
/// JSON of its `payload_json` part, and its `files[n]` uploads.
fn multipart(
    content_type: &str,
    body: &[u8],
) -> Result<(Option<Value>, Vec<uploads::Upload>), String> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_matches('"'))
        .ok_or("multipart body without a boundary")?;
    let delimiter = format!("--{boundary}");
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = body;
    while let Some(at) = rest
        .windows(delimiter.len())
        .position(|w| w == delimiter.as_bytes())
    {
        parts.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    parts.push(rest);
    let mut json = None;
    for part in &parts {
        let text = String::from_utf8_lossy(part);
        let Some((head, content)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains("name=\"payload_json\"") {
            let content = content.strip_suffix("\r\n").unwrap_or(content);
            json = Some(
                serde_json::from_str(content)
                    .map_err(|e| format!("payload_json is not JSON ({e})"))?,
            );
        }
    }
    Ok((json, uploads::parse(&parts)?))
}

/// Discord's answer to a body that breaks a rule (code 50035), with the path of each problem.
fn invalid_form_body(violations: &[Violation]) -> Reply {
    let errors: serde_json::Map<String, Value> = violations
        .iter()
        .map(|v| {
            (
                v.path.clone(),
                json!({"_errors": [{"code": "BASE_TYPE_INVALID", "message": v.rule}]}),
            )
        })
        .collect();
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
    )
}

/// Which spec schema (and hand-checked limits) apply to a request body.
fn validate_body(shared: &Shared, m: &Matched<'_>, body: Option<&Value>) -> Vec<Violation> {
    let empty = Value::Null;
    let body = body.unwrap_or(&empty);
    let schema = validate::check_schema;
    let message = validate::check_message;
    match m.route {
        "POST /interactions/{interaction_id}/{interaction_token}/callback" => {
            match body["type"].as_u64() {
                Some(4) => [
                    schema("CreateMessageInteractionCallbackRequest", body, ""),
                    message(body, "/data", true),
                ]
                .concat(),
                Some(5) => schema("CreateMessageInteractionCallbackRequest", body, ""),
                Some(6 | 7) => [
                    schema("UpdateMessageInteractionCallbackRequest", body, ""),
                    message(body, "/data", false),
                ]
                .concat(),
                Some(8) => [
                    schema("ApplicationCommandAutocompleteCallbackRequest", body, ""),
                    validate::check_autocomplete(body),
                ]
                .concat(),
                Some(9) => [
                    schema("ModalInteractionCallbackRequest", body, ""),
                    validate::check_modal(body),
                ]
                .concat(),
                other => vec![Violation {
                    path: "/type".into(),
                    rule: format!("an interaction callback type the bot should use, got {other:?}"),
                }],
            }
        }
        "POST /webhooks/{webhook_id}/{webhook_token}" => [
            schema("IncomingWebhookRequestPartial", body, ""),
            message(body, "", true),
        ]
        .concat(),
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}" => [
            schema("IncomingWebhookUpdateRequestPartial", body, ""),
            message(body, "", false),
        ]
        .concat(),
        "POST /channels/{channel_id}/messages" => [
            schema("MessageCreateRequest", body, ""),
            message(body, "", true),
        ]
        .concat(),
        "PATCH /channels/{channel_id}/messages/{message_id}" => [
            schema("MessageEditRequestPartial", body, ""),
            message(body, "", false),
        ]
        .concat(),
        "POST /channels/{channel_id}/threads" if body.get("message").is_some() => [
            schema("CreateForumThreadRequest", body, ""),
            message(body, "/message", true),
        ]
        .concat(),
        "POST /channels/{channel_id}/threads" => {
            schema("CreateTextThreadWithoutMessageRequest", body, "")
        }
        "POST /channels/{channel_id}/messages/{message_id}/threads" => {
            schema("CreateTextThreadWithMessageRequest", body, "")
        }
        "PATCH /channels/{channel_id}" => {
            let is_thread = parse_id(m.params[0])
                .and_then(|id| {
                    shared
                        .state()
                        .channels
                        .get(&id)
                        .map(|c| matches!(c.kind, 10..=12))
                })
                .unwrap_or(false);
            let name = if is_thread {
                "UpdateThreadRequestPartial"
            } else {
                "UpdateGuildChannelRequestPartial"
            };
            schema(name, body, "")
        }
        "PUT /applications/{application_id}/commands"
        | "PUT /applications/{application_id}/guilds/{guild_id}/commands" => {
            let items = body.as_array().map_or(0, Vec::len);
            (0..items)
                .flat_map(|i| schema("ApplicationCommandUpdateRequest", body, &format!("/{i}")))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn parse_id(s: &str) -> Option<u64> {
    s.parse().ok()
}

/// Answers a valid request and updates the state.
fn answer(s: &mut State, m: &Matched<'_>, body: &Value, gateway_url: &str) -> Reply {
    let p = &m.params;
    match m.route {
        "GET /gateway" => Reply::ok(json!({"url": gateway_url})),
        "GET /gateway/bot" => Reply::ok(json!({"url": gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1}})),
        "GET /oauth2/applications/@me" => Reply::ok(json!({
            "id": APPLICATION_ID.to_string(), "name": "Orange Ticket Bot", "description": "",
            "icon": null, "bot_public": false, "bot_require_code_grant": false,
            "verify_key": "0".repeat(64), "flags": 0, "owner": human_user(), "bot": bot_user(),
        })),
        "GET /users/@me" => Reply::ok(bot_user()),
        "POST /users/@me/channels" => open_dm(s, body),
        "GET /users/@me/guilds"
        | "GET /guilds/{guild_id}/members/{user_id}"
        | "GET /guilds/{guild_id}/roles" => guild_route(s, m),
        "GET /applications/{application_id}/commands" => {
            Reply::ok(s.global_commands.clone().unwrap_or(json!([])))
        }
        "GET /applications/{application_id}/guilds/{guild_id}/commands" => {
            let guild = parse_id(p[1]).unwrap_or_default();
            Reply::ok(s.guild_commands.get(&guild).cloned().unwrap_or(json!([])))
        }
        "PUT /applications/{application_id}/commands" => {
            if let Some(r) = wrong_application(p[0]) {
                return r;
            }
            let commands = registered_commands(s, body, None);
            s.global_commands = Some(commands.clone());
            Reply::ok(commands)
        }
        "PUT /applications/{application_id}/guilds/{guild_id}/commands" => {
            if let Some(r) = wrong_application(p[0]) {
                return r;
            }
            let guild = parse_id(p[1]).unwrap_or_default();
            let commands = registered_commands(s, body, Some(guild));
            s.guild_commands.insert(guild, commands.clone());
            Reply::ok(commands)
        }
        "POST /interactions/{interaction_id}/{interaction_token}/callback" => {
            interaction_callback(s, p[0], p[1], body)
        }
        "POST /webhooks/{webhook_id}/{webhook_token}" => follow_up(s, p, body),
        "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        | "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        | "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}" => {
            webhook_message(s, m.route, p, body)
        }
        "GET /channels/{channel_id}/messages" => channel_history(s, m),
        "POST /channels/{channel_id}/messages" => create_message(s, p[0], body),
        "GET /channels/{channel_id}/messages/{message_id}" => {
            match parse_id(p[1]).filter(|id| s.messages.contains_key(id)) {
                Some(id) => Reply::ok(s.message_json(id)),
                None => unknown_message(),
            }
        }
        "PATCH /channels/{channel_id}/messages/{message_id}" => {
            match parse_id(p[1]).filter(|id| s.edit_message(*id, body)) {
                Some(id) => Reply::ok(s.message_json(id)),
                None => unknown_message(),
            }
        }
        "DELETE /channels/{channel_id}/messages/{message_id}" => {
            let channel = parse_id(p[0]).unwrap_or_default();
            let id = parse_id(p[1])
                .filter(|id| s.messages.get(id).is_some_and(|m| m.channel_id == channel));
            match id {
                Some(id) => {
                    s.messages.remove(&id);
                    Reply::no_content()
                }
                None => unknown_message(),
            }
        }
        "POST /channels/{channel_id}/threads" => create_thread(s, p[0], None, body),
        "POST /channels/{channel_id}/messages/{message_id}/threads" => {
            match parse_id(p[1]).filter(|id| s.messages.contains_key(id)) {
                Some(msg) => create_thread(s, p[0], Some(msg), body),
                None => unknown_message(),
            }
        }
        "GET /channels/{channel_id}" => {
            match parse_id(p[0]).filter(|id| s.channels.contains_key(id)) {
                Some(id) => Reply::ok(s.channel_json(id)),
                None => unknown_channel(),
            }
        }
        "PATCH /channels/{channel_id}" => edit_channel(s, p[0], body),
        "PUT /channels/{channel_id}/thread-members/{user_id}"
        | "DELETE /channels/{channel_id}/thread-members/{user_id}" => {
            let Some(channel) = parse_id(p[0]).and_then(|id| s.channels.get_mut(&id)) else {
                return unknown_channel();
            };
            let user = if p[1] == "@me" {
                BOT_USER_ID
            } else {
                parse_id(p[1]).unwrap_or_default()
            };
            channel.members.retain(|u| *u != user);
            if m.route.starts_with("PUT") {
                channel.members.push(user);
            }
            Reply::no_content()
        }
        "GET /channels/{channel_id}/pins" => pinned_messages(s, p[0]),
        "PUT /channels/{channel_id}/pins/{message_id}" => set_pin(s, p[0], p[1], true),
        "DELETE /channels/{channel_id}/pins/{message_id}" => set_pin(s, p[0], p[1], false),
        other => unreachable!("route {other} listed but not answered"),
    }
}

/// The guild list, the bot's member object and the roles (see [`super::guild`]).
fn guild_route(s: &State, m: &Matched<'_>) -> Reply {
    let p = &m.params;
    if m.route == "GET /users/@me/guilds" {
        return Reply::ok(s.guild.my_guilds(&m.query));
    }
    if parse_id(p[0]) != Some(GUILD_ID) {
        return Reply::error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
    }
    if m.route == "GET /guilds/{guild_id}/roles" {
        return Reply::ok(s.guild.roles());
    }
    match parse_id(p[1]).and_then(|user| s.guild.member(user)) {
        Some(member) => Reply::ok(member),
        None => Reply::error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
    }
}

fn wrong_application(id: &str) -> Option<Reply> {
    (id != APPLICATION_ID.to_string()).then(|| {
        Reply::error(
            StatusCode::NOT_FOUND,
            10002,
            "Unknown Application (is the bot user id used as the application id?)",
        )
    })
}

fn unknown_message() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, 10008, "Unknown Message")
}

fn unknown_channel() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, 10003, "Unknown Channel")
}

fn unknown_webhook() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook")
}

/// The commands as Discord returns them after a bulk overwrite.
fn registered_commands(s: &mut State, body: &Value, guild: Option<u64>) -> Value {
    let commands = body.as_array().cloned().unwrap_or_default();
    let out: Vec<Value> = commands
        .into_iter()
        .map(|mut c| {
            let id = s.next_id().to_string();
            c["id"] = json!(id);
            c["application_id"] = json!(APPLICATION_ID.to_string());
            c["version"] = json!(id);
            if c.get("type").is_none_or(Value::is_null) {
                c["type"] = json!(1);
            }
            if c.get("description").is_none_or(Value::is_null) {
                c["description"] = json!("");
            }
            if let Some(g) = guild {
                c["guild_id"] = json!(g.to_string());
            }
            c
        })
        .collect();
    Value::Array(out)
}

fn interaction_by_token<'s>(s: &'s State, token: &str) -> Option<&'s state::Interaction> {
    s.interactions.values().find(|i| i.token == token)
}

/// The first answer to an interaction: within 3 s of injection, and only once.
fn interaction_callback(s: &mut State, id: &str, token: &str, body: &Value) -> Reply {
    let route = "POST /interactions/{id}/{token}/callback";
    let Some(interaction) = parse_id(id)
        .and_then(|id| s.interactions.get(&id))
        .filter(|i| i.token == token)
        .cloned()
    else {
        s.fail(format!(
            "{route}: unknown interaction {id} (answered 404, code 10062)"
        ));
        return Reply::error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
    };
    let age = interaction.injected_at.elapsed();
    if interaction.callback.is_some() {
        s.fail(format!(
            "{route}: second callback for interaction {id} (answered 400, code 40060)"
        ));
        return Reply::error(
            StatusCode::BAD_REQUEST,
            40060,
            "Interaction has already been acknowledged.",
        );
    }
    if age > INTERACTION_WINDOW {
        s.fail(format!(
            "{route}: callback for interaction {id} came {age:?} after it was injected, past \
             Discord's {INTERACTION_WINDOW:?} window (answered 404, code 10062)"
        ));
        return Reply::error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
    }
    let original = match body["type"].as_u64() {
        Some(4) => Some(s.add_message(interaction.channel_id, body["data"].clone())),
        Some(7) => interaction
            .message_id
            .filter(|m| s.edit_message(*m, &body["data"])),
        _ => None,
    };
    let stored = s.interactions.get_mut(&interaction.id).expect("just found");
    stored.callback = Some(body.clone());
    stored.callback_after = Some(age);
    stored.original_message = original;
    Reply::no_content()
}

/// The callback type of an answered interaction (5 = deferred message, 6 = deferred update).
fn callback_type(interaction: &state::Interaction) -> Option<u64> {
    interaction.callback.as_ref()?["type"].as_u64()
}

/// The ephemeral flag the deferral chose: the deferred response keeps it, whatever the
/// follow-up or edit that fills it in says.
fn with_deferred_visibility(interaction: &state::Interaction, body: &Value) -> Value {
    let deferred = interaction
        .callback
        .as_ref()
        .and_then(|c| c["data"]["flags"].as_u64())
        .unwrap_or(0);
    let mut body = body.clone();
    let flags = body["flags"].as_u64().unwrap_or(0);
    body["flags"] = json!((flags & !EPHEMERAL) | (deferred & EPHEMERAL));
    body
}

/// `POST /webhooks/{app}/{token}`: a follow-up message. After a type 5 deferral the first one
/// fills in the deferred response (it becomes `@original`, with the deferral's visibility).
fn follow_up(s: &mut State, p: &[&str], body: &Value) -> Reply {
    if let Some(r) = wrong_application(p[0]) {
        return r;
    }
    let Some(interaction) = interaction_by_token(s, p[1]).cloned() else {
        return unknown_webhook();
    };
    let fills_deferral =
        callback_type(&interaction) == Some(5) && interaction.original_message.is_none();
    let body = if fills_deferral {
        with_deferred_visibility(&interaction, body)
    } else {
        body.clone()
    };
    let id = s.add_message(interaction.channel_id, body);
    if fills_deferral && let Some(i) = s.interactions.get_mut(&interaction.id) {
        i.original_message = Some(id);
    }
    Reply::ok(s.message_json(id))
}

/// `GET`/`PATCH`/`DELETE /webhooks/{app}/{token}/messages/{id or @original}`.
fn webhook_message(s: &mut State, route: &str, p: &[&str], body: &Value) -> Reply {
    if let Some(r) = wrong_application(p[0]) {
        return r;
    }
    let Some(interaction) = interaction_by_token(s, p[1]).cloned() else {
        return unknown_webhook();
    };
    let original = p[2] == "@original";
    let target = if original {
        original_target(&interaction)
    } else {
        parse_id(p[2])
    }
    .filter(|id| s.messages.contains_key(id));
    match (route.split_once(' ').map_or("", |r| r.0), target) {
        ("GET", Some(id)) => Reply::ok(s.message_json(id)),
        ("DELETE", Some(id)) => {
            s.messages.remove(&id);
            s.message_order.retain(|m| *m != id);
            Reply::no_content()
        }
        ("PATCH", Some(id)) => {
            s.edit_message(id, body);
            if original && let Some(i) = s.interactions.get_mut(&interaction.id) {
                i.original_message = Some(id);
            }
            Reply::ok(s.message_json(id))
        }
        // Editing the original after a defer (type 5) creates the response message.
        ("PATCH", None) if original && callback_type(&interaction) == Some(5) => {
            let body = with_deferred_visibility(&interaction, body);
            let id = s.add_message(interaction.channel_id, body);
            if let Some(i) = s.interactions.get_mut(&interaction.id) {
                i.original_message = Some(id);
            }
            Reply::ok(s.message_json(id))
        }
        _ => unknown_message(),
    }
}

/// What `@original` names: the response message, or after a deferred update (type 6) the
/// message the clicked component is on.
fn original_target(interaction: &state::Interaction) -> Option<u64> {
    interaction.original_message.or_else(|| {
        (callback_type(interaction) == Some(6))
            .then_some(interaction.message_id)
            .flatten()
    })
}

/// Opens (or finds) the direct-message channel with `recipient_id`.
fn open_dm(s: &mut State, body: &Value) -> Reply {
    let Some(user) = body["recipient_id"]
        .as_str()
        .and_then(parse_id)
        .or_else(|| body["recipient_id"].as_u64())
    else {
        return Reply::error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
    };
    let channel = match s.dm_channels.get(&user) {
        Some(c) => *c,
        None => {
            let id = s.add_dm_channel();
            s.dm_channels.insert(user, id);
            id
        }
    };
    Reply::ok(s.channel_json(channel))
}

fn create_message(s: &mut State, channel: &str, body: &Value) -> Reply {
    let Some(channel) = parse_id(channel).filter(|id| s.channels.contains_key(id)) else {
        return unknown_channel();
    };
    let refuses = |user: &u64| s.refuses_dms.contains(user);
    if s.dm_channels
        .iter()
        .any(|(u, c)| *c == channel && refuses(u))
    {
        return Reply::error(
            StatusCode::FORBIDDEN,
            50007,
            "Cannot send messages to this user",
        );
    }
    // enforce_nonce: the same nonce from the same author within the window returns the first
    // message instead of creating a second one.
    let nonce = body["nonce"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| body["nonce"].as_u64().map(|n| n.to_string()));
    let enforce = body["enforce_nonce"].as_bool().unwrap_or(false);
    if let (Some(nonce), true) = (&nonce, enforce) {
        let key = (BOT_USER_ID, nonce.clone());
        if let Some((id, at)) = s.nonces.get(&key)
            && at.elapsed() < NONCE_WINDOW
            && s.messages.contains_key(id)
        {
            return Reply::ok(s.message_json(*id));
        }
        let id = s.add_message(channel, body.clone());
        s.nonces.insert(key, (id, Instant::now()));
        return Reply::ok(s.message_json(id));
    }
    let id = s.add_message(channel, body.clone());
    Reply::ok(s.message_json(id))
}

fn create_thread(s: &mut State, parent: &str, from_message: Option<u64>, body: &Value) -> Reply {
    let Some(parent) = parse_id(parent).filter(|id| s.channels.contains_key(id)) else {
        return unknown_channel();
    };
    let name = body["name"].as_str().unwrap_or_default();
    let forum = s.channels[&parent].kind == 15;
    let kind = if from_message.is_some() || forum {
        11
    } else {
        body["type"].as_u64().unwrap_or(12)
    };
    let tags = body["applied_tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|v| v.as_str().and_then(parse_id).or_else(|| v.as_u64()))
                .collect()
        })
        .unwrap_or_default();
    let id = s.add_thread(parent, kind, name, tags, from_message);
    s.thread_order.push(id);
    let mut out = s.channel_json(id);
    if forum {
        // A forum post starts with its first message, which has the thread's id.
        s.insert_message(id, id, body["message"].clone());
        out["message"] = s.message_json(id);
    }
    Reply::json(StatusCode::CREATED, out)
}

fn edit_channel(s: &mut State, channel: &str, body: &Value) -> Reply {
    let Some(c) = parse_id(channel).and_then(|id| s.channels.get_mut(&id)) else {
        return unknown_channel();
    };
    if let Some(name) = body["name"].as_str() {
        c.name = name.to_owned();
    }
    if let Some(archived) = body["archived"].as_bool() {
        c.archived = archived;
    }
    if let Some(locked) = body["locked"].as_bool() {
        c.locked = locked;
    }
    if let Some(tags) = body["applied_tags"].as_array() {
        c.applied_tags = tags
            .iter()
            .filter_map(|v| v.as_str().and_then(parse_id).or_else(|| v.as_u64()))
            .collect();
    }
    let id = c.id;
    Reply::ok(s.channel_json(id))
}

/// `GET /channels/{id}/messages`: the newest `limit` (1–100, default 50) messages, newest
/// first, like Discord. Ephemeral responses are not part of a channel's history.
fn channel_history(s: &mut State, m: &Matched<'_>) -> Reply {
    let Some(channel) = parse_id(m.params[0]).filter(|id| s.channels.contains_key(id)) else {
        return unknown_channel();
    };
    let mut limit = 50;
    for (key, value) in &m.query {
        match (key.as_str(), value.parse::<usize>()) {
            ("limit", Ok(n)) if (1..=100).contains(&n) => limit = n,
            ("limit", _) => {
                return invalid_form_body(&[Violation {
                    path: "limit".into(),
                    rule: format!("limit is an integer from 1 to 100 (got {value:?})"),
                }]);
            }
            _ => s.fail(format!(
                "GET /channels/{channel}/messages: the fake does not support `{key}` \
                 (only `limit`); extend it before relying on it"
            )),
        }
    }
    let ids: Vec<u64> = s
        .messages_in(channel)
        .iter()
        .rev()
        .filter(|msg| !msg.is_ephemeral())
        .take(limit)
        .map(|msg| msg.id)
        .collect();
    Reply::ok(ids.into_iter().map(|id| s.message_json(id)).collect())
}

/// `GET /channels/{id}/pins`: the pinned messages, newest first.
fn pinned_messages(s: &State, channel: &str) -> Reply {
    let Some(channel) = parse_id(channel).filter(|id| s.channels.contains_key(id)) else {
        return unknown_channel();
    };
    let pinned = s
        .messages_in(channel)
        .into_iter()
        .rev()
        .filter(|m| m.pinned);
    Reply::ok(pinned.map(|m| s.message_json(m.id)).collect())
}

/// `PUT`/`DELETE /channels/{id}/pins/{message}`: 204, or 10003 / 10008 / 30003 like Discord.
fn set_pin(s: &mut State, channel: &str, message: &str, pinned: bool) -> Reply {
    let Some(channel) = parse_id(channel).filter(|id| s.channels.contains_key(id)) else {
        return unknown_channel();
    };
    let already = s.messages_in(channel).iter().filter(|m| m.pinned).count();
    let Some(msg) = parse_id(message)
        .and_then(|id| s.messages.get_mut(&id))
        .filter(|m| m.channel_id == channel)
    else {
        return unknown_message();
    };
    if pinned && !msg.pinned && already >= MAX_PINS {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            30003,
            "Maximum number of pins reached (50)",
        );
    }
    msg.pinned = pinned;
    Reply::no_content()
}
