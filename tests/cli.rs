//! The binary's front door: `--help`, the modes, and start-up failures that name the bad key.

use std::process::{Command, Output};

fn bot(args: &[&str], env: &[(&str, &str)]) -> Output {
    // A clean environment and an empty working directory: no `.env`, no settings file, no
    // secrets inherited from the developer's shell.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    cmd.args(args).current_dir(dir.path()).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_lists_the_modes() {
    let out = bot(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out);
    for mode in ["run", "console", "sandbox", "check"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{mode} "))),
            "{mode} missing from:\n{help}"
        );
    }
}

#[test]
fn run_without_a_discord_token_names_the_variable_and_fails() {
    let out = bot(&["run"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("DISCORD_TOKEN is not set"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_reports_the_embedded_defaults() {
    let out = bot(&["check"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("embedded Orange sandbox"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_never_prints_secrets() {
    let out = bot(
        &["check"],
        &[
            ("DISCORD_TOKEN", "tok-hunter2"),
            ("ORANGE_CLIENT_ID", "id-hunter2"),
            ("ORANGE_CLIENT_SECRET", "secret-hunter2"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
    assert!(
        text(&out).contains("Orange API at https://"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_bad_setting_names_its_key() {
    let out = bot(&["check"], &[("ORANGE_CLIENT_ID", "id-only")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("ORANGE_CLIENT_SECRET is not set"),
        "{}",
        text(&out)
    );

    let out = bot(&["check"], &[("OTB__ORANGE__REQUEST_TIMEOUT_MS", "soon")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .to_lowercase()
            .contains("orange.request_timeout_ms"),
        "{}",
        text(&out)
    );

    let out = bot(&["--config", "missing.toml", "check"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("missing.toml"), "{}", text(&out));
}
