//! The binary's front door: `--help`, the modes, and start-up failures that name the bad key.

use std::process::{Command, Output};

#[path = "support/standalone_orange.rs"]
mod standalone_orange;
use standalone_orange::StandaloneOrange as Orange;

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

/// Like [`bot`], with owned variables.
fn bot_env(args: &[&str], env: &[(String, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    bot(args, &env)
}

/// A loopback URL where nothing listens.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
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
fn each_modes_help_says_what_it_does_today() {
    let help = |mode: &str| {
        let out = bot(&[mode, "--help"], &[]);
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let console = help("console");
    for said in [
        "Ctrl-C clears the line",
        "Ctrl-D or /quit",
        "status 1 if a line failed",
    ] {
        assert!(console.contains(said), "{said:?} missing from:\n{console}");
    }
    let sandbox = help("sandbox");
    assert!(sandbox.contains("127.0.0.1"), "{sandbox}");
    assert!(help("run").contains("the watcher"));
    let check = help("check");
    for said in [
        "token",
        "status endpoint",
        "permissions",
        "status 1 when a check failed",
    ] {
        assert!(check.contains(said), "{said:?} missing from:\n{check}");
    }
    assert!(text(&bot(&["--help"], &[])).contains("exits with status 2"));
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
    assert!(text(&out).contains("embedded sandbox"), "{}", text(&out));
    assert!(
        text(&out).contains("watcher:  a pass every 60 s, at most 1000 single reads a pass"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_never_prints_secrets() {
    let orange = Orange::start("id-hunter2", "secret-hunter2");
    let closed = closed_port_url();
    let mut env = orange.env("id-hunter2", "secret-hunter2");
    env.extend([
        ("DISCORD_TOKEN".into(), "tok-hunter2".into()),
        ("OTB__DISCORD__API_BASE_URL".into(), closed.clone()),
    ]);
    let out = bot_env(&["check"], &env);
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
    assert!(
        text(&out).contains("orange:   Orange at 127.0.0.1 (http://127.0.0.1:"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("OK   Orange token: issued by"),
        "{}",
        text(&out)
    );
    // Discord at a closed port: a failed live check, status 1, and still no secret shown.
    assert!(
        text(&out).contains(&format!(
            "FAIL Discord token: Discord could not be reached at {closed}/"
        )),
        "{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn check_without_credentials_checks_the_embedded_sandbox_live_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bot_with(dir.path(), &["check"], "", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for line in [
        "OK   settings: valid",
        "OK   Orange sandbox: no ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET, so the embedded sandbox is \
         checked, started as `run` would at http://127.0.0.1:",
        "OK   Orange token: issued by http://127.0.0.1:",
        "OK   Orange API status: ok",
        "OK   Orange service numbers: ",
        "SKIP Discord: DISCORD_TOKEN is not set",
        "all 5 checks OK",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    let services = stdout
        .lines()
        .find(|l| l.starts_with("OK   Orange service numbers: "))
        .expect("the services line");
    assert!(services.contains("(LD000000, "), "{services}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(
        !dir.path().join("data").exists(),
        "a check on a fresh installation writes nothing"
    );
}

#[test]
fn check_reads_the_embedded_sandboxs_saved_world_and_names_a_corrupt_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let world = data.join("orange-ticket-bot.sandbox.json");
    std::fs::write(&world, "{\"tickets\": [").expect("written");
    let out = bot_with(dir.path(), &["check"], "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("FAIL Orange sandbox: the embedded sandbox did not start: ")
            && stdout.contains("orange-ticket-bot.sandbox.json"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&world).expect("kept"),
        "{\"tickets\": [",
        "never reseeded over"
    );
}

#[test]
fn check_with_a_wrong_orange_secret_names_the_credentials_and_exits_1() {
    let orange = Orange::start("otb-client", "the-right-secret");
    let out = bot_env(
        &["check"],
        &orange.env("otb-client", "wrong-secret-hunter2"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout.contains(
            "FAIL Orange token: Orange refused the client id/secret (HTTP 401): check \
             ORANGE_CLIENT_ID / ORANGE_CLIENT_SECRET"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIP Orange API status: needs a token"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: 1 of 2 checks failed"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[test]
fn check_with_a_discord_token_but_no_orange_for_it_is_an_invalid_setting() {
    let closed = closed_port_url();
    let out = bot(
        &["check"],
        &[
            ("DISCORD_TOKEN", "tok"),
            ("OTB__DISCORD__API_BASE_URL", closed.as_str()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("FAIL settings: no Orange credentials for Discord"),
        "{}",
        text(&out)
    );
    // The live checks still run: the whole picture in one go.
    assert!(
        text(&out).contains("OK   Orange service numbers"),
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

#[test]
fn the_metrics_listener_refuses_a_public_address_unless_allowed() {
    let public = ("OTB__OPS__LISTEN", "0.0.0.0:9464");
    let out = bot(&["check"], &[public]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("ops.listen is invalid") && text(&out).contains("ops.allow_public"),
        "{}",
        text(&out)
    );
    let out = bot(&["check"], &[public, ("OTB__OPS__ALLOW_PUBLIC", "true")]);
    assert!(!text(&out).contains("ops.listen"), "{}", text(&out));
}

#[test]
fn discord_without_orange_credentials_refuses_to_start_unless_the_sandbox_may_serve_it() {
    // Discord at a closed port: whatever gets past the check fails fast instead of connecting.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let discord = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    cmd.arg("run")
        .current_dir(dir.path())
        .env_clear()
        .env("DISCORD_TOKEN", "tok")
        .env("OTB__DISCORD__API_BASE_URL", &discord)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("waitable").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    for needle in [
        "sandbox.serve_discord",
        "ORANGE_CLIENT_ID",
        "ORANGE_CLIENT_SECRET",
    ] {
        assert!(said.contains(needle), "{needle} missing from: {said}");
    }
    assert!(
        !dir.path().join("data").exists(),
        "refused before anything was opened"
    );
}

#[test]
fn check_says_which_orange_the_bot_talks_to() {
    let out = bot(&["check"], &[]);
    assert!(
        text(&out).contains(
            "orange:   embedded sandbox on 127.0.0.1, not real tickets (ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET not set); Discord mode refuses to start (sandbox.serve_discord = false)"
        ),
        "{}",
        text(&out)
    );
    let out = bot(&["check"], &[("OTB__SANDBOX__SERVE_DISCORD", "true")]);
    assert!(
        text(&out).contains("Discord mode serves it, every card and reply saying so"),
        "{}",
        text(&out)
    );
    let out = bot(
        &["check"],
        &[
            ("ORANGE_CLIENT_ID", "id"),
            ("ORANGE_CLIENT_SECRET", "secret"),
            ("OTB__ORANGE__BASE_URL", "https://orange.example.net/tt/v1"),
            // The live check stays on loopback: nothing listens there.
            (
                "OTB__ORANGE__TOKEN_URL",
                &format!("{}/token", closed_port_url()),
            ),
        ],
    );
    assert!(
        text(&out)
            .contains("orange:   Orange at orange.example.net (https://orange.example.net/tt/v1)"),
        "{}",
        text(&out)
    );
}

#[test]
fn sandbox_settings_past_their_bounds_name_their_key() {
    // A token lifetime this long overflowed the sandbox's clock arithmetic on every API call.
    for key in [
        "TOKEN_TTL_SECS",
        "AUTO_ADVANCE_SECS",
        "EMBEDDED_AUTO_ADVANCE_SECS",
    ] {
        let out = bot(
            &["check"],
            &[(&format!("OTB__SANDBOX__{key}"), "100000000000000000")],
        );
        assert_eq!(out.status.code(), Some(2), "{key}: {}", text(&out));
        assert!(
            text(&out).contains(&format!(
                "sandbox.{} is invalid: expected at most",
                key.to_lowercase()
            )),
            "{}",
            text(&out)
        );
    }
}

/// The id in the console's "Ticket … opened in this session." line.
fn opened_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ticket ")?
                .strip_suffix(" opened in this session.")
        })
        .expect("a ticket was opened")
        .to_owned()
}

fn bot_in(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    bot_with(dir, args, stdin, &[])
}

fn bot_with(dir: &std::path::Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("script written");
    child.wait_with_output().expect("the binary ends")
}

#[test]
fn a_piped_console_script_runs_the_whole_product_on_embedded_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = r#"
# services -> profile -> create -> show -> board -> comment -> search -> link -> unlink
/ticket services
/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net
/ticket create service:LD000000 technical:LD000001 description:"Link down since 10:00"
/ticket show
/ticket board
/ticket comment text:"Rebooted the CPE, still down"
/ticket search status:submitted service:LD000000
/ticket unlink
/ticket link id:1234567890
/ticket unlink
"#;
    let out = bot_in(dir.path(), &["console"], script);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("No Orange credentials: using the embedded Orange sandbox"),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains("LD000000 — Name of the service: LD000001"),
        "{stdout}"
    );
    let id = opened_id(&stdout);
    assert!(
        stdout.contains(&format!("== Ticket {id} — Submitted ==")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "== Open tickets: 1 ==\nSubmitted · 1\n`{id}` · LD000000 · opened "
        )),
        "the board: {stdout}"
    );
    assert!(
        stdout.contains("— Link down since 10:00\n\n-- 1 open ticket, all shown"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Comment added to ticket {id}.")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{id} · Submitted · LD000000 · Link down since 10:00"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Unlinked from ticket {id}.")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ticket 1234567890 is now linked to this session."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Unlinked from ticket 1234567890."),
        "{stdout}"
    );
    assert!(!stdout.contains("error:"), "{stdout}");

    // A failing line makes the run fail, and says why.
    let out = bot_in(
        dir.path(),
        &["console"],
        "/ticket status\n/ticket show id:12/34\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("error: Ticket id `12/34` may only contain letters, digits, `-` and `_`."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("1 of 2 console line(s) failed"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_console_remembers_its_ticket_and_the_sandbox_its_tickets_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run1 = r#"
/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net
/ticket create service:LD000000 technical:LD000001 description:"Link down since 10:00"
/ticket comment text:"Rebooted the CPE, still down"
"#;
    let out = bot_in(dir.path(), &["console"], run1);
    assert!(out.status.success(), "{}", text(&out));
    let opened = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| {
                l.strip_prefix("Ticket ")?
                    .strip_suffix(" opened in this session.")
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("no ticket opened:\n{}", text(out)))
    };
    let first = opened(&out);
    assert!(
        dir.path()
            .join("data/orange-ticket-bot.sandbox.json")
            .is_file(),
        "the embedded sandbox's world is kept beside the store"
    );

    // A new process: the same conversation, the same Orange world.
    let run2 = r#"
/ticket show
/ticket create service:LD000000 technical:LD000001 description:"Second link down"
"#;
    let out = bot_in(dir.path(), &["console"], run2);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains(&format!("== Ticket {first} — ")),
        "`/ticket show` without an id shows run 1's ticket:\n{stdout}"
    );
    assert!(
        stdout.contains("Rebooted the CPE, still down"),
        "with its notes:\n{stdout}"
    );
    let second = opened(&out);
    assert!(second > first, "a new id: {second} after {first}");
}

#[test]
fn a_corrupt_sandbox_world_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(
        data.join("orange-ticket-bot.sandbox.json"),
        "{\"tickets\": [",
    )
    .expect("written");
    let out = bot_in(dir.path(), &["console"], "/ticket status\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("orange-ticket-bot.sandbox.json"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(data.join("orange-ticket-bot.sandbox.json")).expect("kept"),
        "{\"tickets\": [",
        "never reseeded over"
    );
}

#[test]
fn the_console_shows_the_watchers_news_and_a_restart_remembers_the_ticket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fast = [
        ("OTB__WATCHER__INTERVAL_SECS", "1"),
        ("OTB__SANDBOX__EMBEDDED_AUTO_ADVANCE_SECS", "1"),
        ("USER", "ada"),
    ];
    let script = r#"
/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net
/ticket create service:LD000000 technical:LD000001 description:"Watch me move"
/wait 4
"#;
    let out = bot_with(dir.path(), &["console"], script, &fast);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", text(&out));
    let id = opened_id(&stdout);
    let news = format!("[ticket {id}] Submitted → ");
    assert!(
        stdout.contains(&news),
        "the watcher's status line: {stdout}"
    );
    assert!(!stdout.contains("-# ref"), "no Discord markup: {stdout}");

    let out = bot_with(dir.path(), &["console"], "/ticket show\n", &fast);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout.contains(&format!("== Ticket {id} — ")),
        "the same ticket after a restart: {stdout}"
    );
}

/// The console on a real terminal (a pseudo-terminal from `openpty`), typed into as a person
/// would: the test waits for each prompt before it types, and reads what the bot wrote.
struct Terminal {
    child: std::process::Child,
    input: std::fs::File,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// How much of `output` the last wait consumed.
    seen: usize,
}

impl Terminal {
    fn open(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        use std::io::Read;
        let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
        let slave = std::fs::File::from(pty.slave);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("TERM", "xterm")
            .envs(env.iter().copied())
            .stdin(slave.try_clone().expect("slave fd"))
            .stdout(slave.try_clone().expect("slave fd"))
            .stderr(std::fs::File::create(dir.join("stderr.txt")).expect("stderr file"));
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        let child = cmd.spawn().expect("the binary runs");
        // Only the child holds the terminal now: the master reads end (EIO) when it exits.
        drop(cmd);
        drop(slave);
        let master = std::fs::File::from(pty.master);
        let input = master.try_clone().expect("master fd");
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&output);
        std::thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("output").extend_from_slice(&buf[..n]);
            }
        });
        Terminal {
            child,
            input,
            output,
            seen: 0,
        }
    }

    fn type_bytes(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.input.write_all(bytes).expect("typed");
        self.input.flush().expect("typed");
    }

    /// Waits (a minute at most: a loaded machine starts the sandbox slowly) until the bot has
    /// written `after` and then a fresh prompt; returns what it wrote since the last wait.
    fn wait_for_prompt_after(&mut self, after: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let text = {
                let out = self.output.lock().expect("output");
                String::from_utf8_lossy(&out[self.seen..]).into_owned()
            };
            if let Some(at) = text.find(after)
                && let Some(prompt) = text[at + after.len()..].find("ticket> ")
            {
                let end = at + after.len() + prompt + "ticket> ".len();
                self.seen += text[..end].len();
                return text[..end].to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the console ended ({status}) while waiting for {after:?}: {text}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no prompt after {after:?} within a minute: {text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("status") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the console did not end within a minute"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // A failed assertion must not leave the bot running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The history file's lines and its permission bits.
fn history(dir: &std::path::Path) -> (Vec<String>, u32) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("data/orange-ticket-bot.history");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} not written yet: {e}", path.display()));
    let mode = std::fs::metadata(&path)
        .expect("history")
        .permissions()
        .mode()
        & 0o777;
    (text.lines().map(str::to_owned).collect(), mode)
}

#[test]
fn an_interactive_console_survives_a_failed_command_and_ctrl_c_and_keeps_its_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut term = Terminal::open(dir.path(), &["console"], &[("USER", "ada")]);
    let banner = term.wait_for_prompt_after("/quit");
    assert!(
        banner.contains("Ctrl-D"),
        "the banner says how to leave: {banner}"
    );

    // A failed command: the session goes on, and the line is in the history already.
    term.type_bytes(b"/ticket show id:12/34\r");
    let shown = term.wait_for_prompt_after("error: Ticket id `12/34`");
    assert!(shown.contains("may only contain letters"), "{shown}");
    let (lines, mode) = history(dir.path());
    assert!(
        lines.iter().any(|l| l == "/ticket show id:12/34"),
        "{lines:?}"
    );
    assert_eq!(mode, 0o600, "the history is its owner's alone");

    // Ctrl-C drops the half-typed line and shows a new prompt; it does not end the session.
    term.type_bytes(b"/ticket sta\x03");
    term.wait_for_prompt_after("/ticket sta");
    assert!(
        term.child.try_wait().expect("status").is_none(),
        "Ctrl-C ended the console"
    );

    term.type_bytes(b"/ticket status\r");
    term.wait_for_prompt_after("Orange API: OK");
    let (lines, mode) = history(dir.path());
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("/ticket"))
            .collect::<Vec<_>>(),
        ["/ticket show id:12/34", "/ticket status"],
        "each accepted line, as it was accepted; not the interrupted one"
    );
    assert_eq!(mode, 0o600);

    // Ctrl-D on an empty line leaves; a person's session is not a failed script.
    term.type_bytes(b"\x04");
    let status = term.wait_for_exit();
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn the_embedded_sandbox_is_reached_even_with_a_proxy_in_the_environment() {
    // Port 9 (discard) on loopback: nothing listens, so every proxied request would fail. The
    // environment is otherwise clean: no NO_PROXY (CI exports one).
    let dead = "http://127.0.0.1:9";
    let proxies = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]
    .map(|var| (var, dead));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bot_with(dir.path(), &["console"], "/ticket services\n", &proxies);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("LD000000 — Name of the service: LD000001"),
        "{stdout}{stderr}"
    );
}
