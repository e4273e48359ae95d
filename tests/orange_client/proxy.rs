//! Loopback is never proxied: the binary reaches its embedded sandbox with a dead proxy set.

/// Runs the binary's console on its embedded sandbox with a dead proxy in the environment.
fn console_behind_a_dead_proxy(script: &str) -> std::process::Output {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    // A clean environment: no NO_PROXY (CI exports one), no secrets from the developer's shell.
    cmd.arg("console")
        .current_dir(dir.path())
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    // Port 9 (discard) on loopback: nothing listens, every proxied request fails.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(var, "http://127.0.0.1:9");
    }
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    child.wait_with_output().expect("the binary ends")
}

#[test]
fn the_embedded_sandbox_is_reached_even_with_a_proxy_in_the_environment() {
    let out = console_behind_a_dead_proxy("/ticket services\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("LD000000 — Name of the service: LD000001"),
        "{stdout}{stderr}"
    );
}
