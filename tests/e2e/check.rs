//! `orange-ticket-bot check`, the binary as an operator runs it, against the fake Discord and an
//! Orange sandbox on loopback: all OK; a permission the bot's role lacks named; a refused token
//! named. The configuration is the environment only, as in production.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Output};

use orange_ticket_bot::config::Settings;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxOptions};

use crate::support::fake_discord::guild::{GUILD_NAME, INVITE_PERMISSIONS, bits};
use crate::support::fake_discord::{FakeDiscord, GUILD_ID};

/// The fake Discord, an Orange sandbox, and the environment pointing `check` at both.
struct Installation {
    fake: FakeDiscord,
    orange: RunningSandbox,
    env: Vec<(String, String)>,
}

impl Installation {
    async fn start(discord_token: &str) -> Self {
        let fake = FakeDiscord::start().await;
        let settings = Settings::defaults().expect("default settings");
        let orange = sandbox::start(
            SandboxOptions::from_settings(&settings),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        )
        .await
        .expect("the Orange sandbox starts");
        let env = [
            ("DISCORD_TOKEN", discord_token.to_owned()),
            ("OTB__DISCORD__API_BASE_URL", fake.base_url()),
            ("ORANGE_CLIENT_ID", settings.sandbox.client_id.clone()),
            (
                "ORANGE_CLIENT_SECRET",
                settings.sandbox.client_secret.clone(),
            ),
            ("OTB__ORANGE__BASE_URL", orange.base_url().to_string()),
            ("OTB__ORANGE__TOKEN_URL", orange.token_url().to_string()),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec();
        Installation { fake, orange, env }
    }

    /// Runs `orange-ticket-bot check` in an empty directory with only this environment.
    async fn check(&self) -> (Option<i32>, String, String) {
        let env = self.env.clone();
        let out: Output = tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
            cmd.arg("check")
                .current_dir(dir.path())
                .env_clear()
                .envs(env);
            if let Ok(path) = std::env::var("PATH") {
                cmd.env("PATH", path);
            }
            cmd.output().expect("the binary runs")
        })
        .await
        .expect("check ran");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stdout, stderr)
    }

    async fn stop(self) {
        self.orange.shutdown().await;
    }
}

fn routes_seen(fake: &FakeDiscord) -> Vec<&'static str> {
    fake.requests().iter().filter_map(|r| r.route).collect()
}

#[tokio::test]
async fn check_against_the_fake_discord_and_a_sandbox_is_all_ok() {
    let installation = Installation::start("fake-token").await;
    let (code, stdout, stderr) = installation.check().await;
    // The operator's view, for the README's example.
    println!("{stdout}");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for line in [
        "OK   settings: valid",
        "OK   Orange token: issued by http://127.0.0.1:",
        "OK   Orange API status: ",
        "OK   Orange service numbers: ",
        "OK   Discord token: accepted: the bot is orange-ticket-bot",
        &format!("OK   Discord guilds: 1 ({GUILD_NAME})"),
        &format!(
            "OK   Discord guild \"{GUILD_NAME}\" ({GUILD_ID}): the bot has every permission it needs"
        ),
        "all 7 checks OK",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let seen = routes_seen(&installation.fake);
    for route in [
        "GET /users/@me",
        "GET /users/@me/guilds",
        "GET /guilds/{guild_id}/members/{user_id}",
        "GET /guilds/{guild_id}/roles",
    ] {
        assert!(seen.contains(&route), "{route} not asked: {seen:?}");
    }
    assert!(installation.fake.refused().is_empty());
    installation.stop().await;
}

#[tokio::test]
async fn a_permission_the_bots_role_lacks_is_named_and_fails_the_check() {
    let installation = Installation::start("fake-token").await;
    installation.fake.set_bot_permissions(
        INVITE_PERMISSIONS & !bits::CREATE_PUBLIC_THREADS & !bits::PIN_MESSAGES,
    );
    let (code, stdout, stderr) = installation.check().await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("FAIL Discord guild \"{GUILD_NAME}\"")))
        .unwrap_or_else(|| panic!("no FAIL line for the guild:\n{stdout}"));
    assert!(
        line.contains("missing Create Public Threads, Pin Messages: grant them to the bot's role"),
        "{line}"
    );
    // `@everyone` grants Send Messages: not missing, not named.
    assert!(!line.contains("Send Messages"), "{line}");
    assert!(
        stderr.contains("error: 1 of 7 checks failed"),
        "{stdout}{stderr}"
    );
    installation.stop().await;
}

#[tokio::test]
async fn a_refused_discord_token_is_named_and_never_printed() {
    let installation = Installation::start("reset-token-hunter2").await;
    installation.fake.revoke_token("reset-token-hunter2");
    let (code, stdout, stderr) = installation.check().await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "FAIL Discord token: the Discord token was refused (HTTP 401): check DISCORD_TOKEN"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("SKIP Discord guilds"), "{stdout}");
    // Orange is still checked, and fine.
    assert!(stdout.contains("OK   Orange service numbers"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains("hunter2"),
        "{stdout}{stderr}"
    );
    let refused = installation.fake.refused();
    assert_eq!(refused.len(), 1, "only the token check: {refused:?}");
    assert_eq!(refused[0].status, 401);
    installation.stop().await;
}
