//! Determinism per seed, configurable paths, and the `sandbox` mode of the binary.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use orange_ticket_bot::domain::{Ticket, TicketId};
use orange_ticket_bot::orange::convert::{parse_created_body, parse_ticket_body};
use orange_ticket_bot::sandbox::{self, ErrorFault, Operation};
use reqwest::Method;

use crate::harness::{Env, comment_body, create_body, http, options};

async fn run_script(seed: u64) -> (Vec<Ticket>, Vec<TicketId>, Vec<u16>, String) {
    let mut opts = options();
    opts.seed = seed;
    opts.faults.errors.insert(
        Operation::ApiStatus,
        ErrorFault {
            rate: 0.5,
            statuses: vec![500, 503, 429],
            retry_after_secs: 1,
        },
    );
    let env = Env::with(opts).await;
    let seeded = env.all_tickets().await;
    let created = vec![env.create_ok().await, env.create_ok().await];
    let mut statuses = Vec::new();
    for _ in 0..16 {
        statuses.push(env.get("/status").await.status);
    }
    env.control().advance(2);
    let after = env.get(&format!("/troubleTicket/{}", created[0])).await;
    let status_after = parse_ticket_body(&after.body).expect("ticket").status;
    env.sandbox.shutdown().await;
    (seeded, created, statuses, status_after.as_wire().to_owned())
}

#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let (a, b) = tokio::join!(run_script(7), run_script(7));
    assert_eq!(a, b);
    assert!(a.2.contains(&200) && a.2.iter().any(|s| *s != 200));
    let (other, _, _, _) = run_script(8).await;
    assert_ne!(a.0, other, "another seed, another account");
}

#[tokio::test]
async fn paths_and_the_token_path_follow_the_options() {
    let mut opts = options();
    opts.paths.search = "/v2/tickets".into();
    opts.paths.create_ticket = "/v2/tickets".into();
    opts.paths.get_ticket = "/v2/tickets/{id}".into();
    opts.paths.add_comment = "/v2/tickets/{id}/comments".into();
    opts.token_path = "/auth/token".into();
    let env = Env::with(opts).await;
    assert_eq!(env.sandbox.token_url().path(), "/auth/token");
    assert_eq!(
        env.sandbox.base_url().as_str(),
        format!("http://{}/", env.sandbox.addr())
    );
    let a = env.get("/v2/tickets?ctxid=TCKTNG&sctxid=wse").await;
    assert_eq!(a.status, 200);
    let (service, technical) = env.first_service().await;
    let created = env
        .call(
            Method::POST,
            "/v2/tickets",
            Some(create_body(&service, &technical)),
        )
        .await;
    let id = parse_created_body(&created.body).expect("created");
    let c = env
        .call(
            Method::PATCH,
            &format!("/v2/tickets/{id}/comments"),
            Some(comment_body(&service, "Comments", "hi")),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(env.get(&format!("/v2/tickets/{id}")).await.status, 200);
    assert_eq!(env.get("/troubleTicket/1").await.status, 404);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unusable_paths_fail_the_start_instead_of_panicking() {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut opts = options();
    opts.paths.get_ticket = "/troubleTicket".into();
    let err = sandbox::start(opts, addr).await.expect_err("no {id}");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let mut opts = options();
    opts.paths.api_status = "/orangeServiceNumbers".into();
    let err = sandbox::start(opts, addr)
        .await
        .expect_err("two GETs on one path");
    assert!(
        err.to_string().contains("GET /orangeServiceNumbers"),
        "{err}"
    );
}

#[tokio::test]
async fn the_sandbox_mode_prints_one_line_serves_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().expect("a tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    cmd.args(["sandbox", "--port", "0", "--seed", "5"])
        .current_dir(dir.path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    /// Stops the child if an assertion fails before the test stops it.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut guard = KillOnDrop(cmd.spawn().expect("the binary starts"));
    let child = &mut guard.0;
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().expect("a line").expect("text");
    let rest = line
        .strip_prefix("Orange sandbox listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{line}"));
    let port: u16 = rest
        .split(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        line.ends_with(&format!(
            "(client_id sandbox-client, token URL http://127.0.0.1:{port}/oauth/v3/token)"
        )),
        "{line}"
    );
    let token = http()
        .post(format!("http://127.0.0.1:{port}/oauth/v3/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("the sandbox answers");
    assert_eq!(token.status(), 200);

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(lines.next().is_none(), "exactly one line on stdout");
}
