//! The Orange checks: a token, the status endpoint, the service numbers, against Orange or the
//! embedded sandbox; and what each Orange failure means for the operator.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use url::Url;

use super::{Recorder, listed};
use crate::config::{OrangeCredentials, Settings};
use crate::domain::Service;
use crate::orange::{Operation, OrangeClient, OrangeError};
use crate::sandbox::{self, RunningSandbox, SandboxOptions};

/// The Orange the bot would use, and the sandbox started for it (the caller stops it).
struct OrangeTarget {
    client: OrangeClient,
    token_url: Url,
    sandbox: Option<RunningSandbox>,
}

/// A token first: without one the other calls would only repeat its failure.
pub(super) async fn check(settings: &Settings, found: &mut Recorder<'_>) {
    let Some(target) = orange_target(settings, found).await else {
        return;
    };
    if check_token(&target, found).await {
        check_status(&target.client, found).await;
        check_services(&target.client, found).await;
    } else {
        found.skip("Orange API status", "needs a token");
        found.skip("Orange service numbers", "needs a token");
    }
    if let Some(sandbox) = target.sandbox {
        sandbox.shutdown().await;
    }
}

/// The client for Orange, or for the embedded sandbox started here when no credentials are set.
async fn orange_target(settings: &Settings, found: &mut Recorder<'_>) -> Option<OrangeTarget> {
    let mut orange = settings.orange.clone();
    let (credentials, sandbox) = match settings.orange_credentials() {
        Some(credentials) => (credentials, None),
        None => {
            let running = match start_sandbox(settings).await {
                Ok(running) => running,
                Err(e) => {
                    found.fail(
                        "Orange sandbox",
                        format!("the embedded sandbox did not start: {e}"),
                    );
                    return None;
                }
            };
            orange.base_url = running.base_url();
            orange.token_url = running.token_url();
            found.ok(
                "Orange sandbox",
                format!(
                    "no ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET, so the embedded sandbox is checked, \
                     started as `run` would at {} (not real tickets)",
                    running.base_url()
                ),
            );
            let credentials = OrangeCredentials {
                client_id: settings.sandbox.client_id.clone().into(),
                client_secret: settings.sandbox.client_secret.clone().into(),
            };
            (credentials, Some(running))
        }
    };
    let application_id = settings.secrets.orange_application_id.clone();
    match OrangeClient::new(&orange, credentials, application_id) {
        Ok(client) => Some(OrangeTarget {
            client,
            token_url: orange.token_url,
            sandbox,
        }),
        Err(e) => {
            found.fail(
                "Orange client",
                format!("the HTTP client could not be built: {e}"),
            );
            if let Some(sandbox) = sandbox {
                sandbox.shutdown().await;
            }
            None
        }
    }
}

/// The embedded sandbox as `run` starts it, minus its lifecycle (which would change tickets)
/// and minus a new world file (a fresh installation is left as it was).
async fn start_sandbox(settings: &Settings) -> std::io::Result<RunningSandbox> {
    let world = crate::app::embedded_world_file(&settings.store.path);
    let options = SandboxOptions {
        world_file: world.exists().then_some(world),
        auto_advance: None,
        ..SandboxOptions::from_settings(settings)
    };
    sandbox::start(options, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
}

/// Whether a token was issued.
async fn check_token(target: &OrangeTarget, found: &mut Recorder<'_>) -> bool {
    let started = Instant::now();
    match target.client.fetch_token(target.client.interactive()).await {
        Ok(()) => {
            let url = &target.token_url;
            found.ok(
                "Orange token",
                format!("issued by {url} in {}", ms(started)),
            );
            true
        }
        Err(e) => {
            found.fail("Orange token", orange_fix(&e));
            false
        }
    }
}

async fn check_status(client: &OrangeClient, found: &mut Recorder<'_>) {
    let started = Instant::now();
    match client.api_status(client.interactive()).await {
        Ok(status) if status.is_ok() => {
            let name = [status.name.as_deref(), status.version.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            found.ok(
                "Orange API status",
                format!("{}{name} in {}", status.status, ms(started)),
            );
        }
        Ok(status) => {
            let down: Vec<String> = status
                .components
                .iter()
                .filter(|c| !c.status.eq_ignore_ascii_case("ok"))
                .map(|c| format!("{} {}", c.name.as_deref().unwrap_or("?"), c.status))
                .collect();
            found.fail(
                "Orange API status",
                format!(
                    "Orange reports \"{}\"{}: commands may fail until Orange recovers; nothing to \
                     fix here",
                    status.status,
                    if down.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", down.join(", "))
                    }
                ),
            );
        }
        Err(e) => found.fail("Orange API status", orange_fix(&e)),
    }
}

async fn check_services(client: &OrangeClient, found: &mut Recorder<'_>) {
    match client.service_numbers(client.interactive()).await {
        Ok(services) if services.is_empty() => found.fail(
            "Orange service numbers",
            "none on this account, so no ticket can be opened: ask Orange to attach the service \
             numbers to this API account",
        ),
        Ok(services) => found.ok(
            "Orange service numbers",
            format!("{} ({})", services.len(), first_services(&services)),
        ),
        Err(e) => found.fail("Orange service numbers", orange_fix(&e)),
    }
}

fn first_services(services: &[Service]) -> String {
    listed(
        services.iter().map(|s| s.number.to_string()),
        services.len(),
    )
}

fn ms(since: Instant) -> String {
    format!("{} ms", since.elapsed().as_millis())
}

/// What an Orange failure means for the operator, and what to change.
fn orange_fix(e: &OrangeError) -> String {
    match e {
        OrangeError::CredentialsRejected { status } => format!(
            "Orange refused the client id/secret (HTTP {status}): check ORANGE_CLIENT_ID / \
             ORANGE_CLIENT_SECRET"
        ),
        OrangeError::Unauthorized { .. } => "Orange refused the token its own token endpoint \
             issued (HTTP 401): check that orange.token_url and orange.base_url are the same \
             Orange environment"
            .into(),
        OrangeError::Forbidden { problem, .. } => format!(
            "Orange refused this application (HTTP 403, {problem}): check ORANGE_APPLICATION_ID \
             and the account's API subscription"
        ),
        OrangeError::NotFound { op, .. } => {
            format!("no such endpoint (HTTP 404): check {}", setting_of(*op))
        }
        OrangeError::Timeout { op, waited } => format!(
            "no answer within {} ms: check that {} is reachable from here (network, proxy, \
             firewall)",
            waited.as_millis(),
            setting_of(*op)
        ),
        OrangeError::Unavailable { op, detail, .. } => format!(
            "unreachable or failing ({detail}): check {} and the network, or retry later",
            setting_of(*op)
        ),
        OrangeError::Throttled { .. } => {
            "Orange is throttling this account: retry in a minute".into()
        }
        OrangeError::Malformed { op, .. }
        | OrangeError::Unexpected { op, .. }
        | OrangeError::TooLarge { op, .. } => format!(
            "{e}: check that {} points at Orange's Trouble Tickets API",
            setting_of(*op)
        ),
        OrangeError::Rejected { .. }
        | OrangeError::Uncertain { .. }
        | OrangeError::NotApplied { .. } => e.to_string(),
    }
}

/// The settings that decide where `op` goes.
fn setting_of(op: Operation) -> &'static str {
    match op {
        Operation::Token => "orange.token_url",
        Operation::ApiStatus => "orange.base_url and orange.paths.api_status",
        Operation::ServiceNumbers => "orange.base_url and orange.paths.service_numbers",
        _ => "orange.base_url",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_credentials_name_the_variables() {
        let fix = orange_fix(&OrangeError::CredentialsRejected { status: 401 });
        assert_eq!(
            fix,
            "Orange refused the client id/secret (HTTP 401): check ORANGE_CLIENT_ID / \
             ORANGE_CLIENT_SECRET"
        );
    }
}
