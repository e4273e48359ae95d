//! Files the bot writes (the store's directory and files, the embedded sandbox's world) are not
//! readable by anyone but their owner, whatever the umask the bot was started with.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the binary's console on `script` in `dir`, from a clean environment and under umask 000,
/// so only modes the bot sets itself keep others out.
fn console(dir: &Path, script: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask 000 && exec \"$0\" console"])
        .arg(env!("CARGO_BIN_EXE_orange-ticket-bot"))
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
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

/// Every path under `root` (itself included) whose mode lets its group or others in.
fn open_to_others(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            found.push((path.clone(), mode));
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                pending.push(entry.expect("entry").path());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_store_and_the_sandbox_world_are_their_owners_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net\n\
                  /ticket create service:LD000000 technical:LD000001 description:\"Link down\"\n\
                  /ticket comment text:\"Rebooted the CPE\"\n";
    for run in 1..=2 {
        let out = console(dir.path(), script);
        assert!(
            out.status.success(),
            "run {run}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let data = dir.path().join("data");
        assert!(data.join("orange-ticket-bot.sled").is_dir());
        assert!(data.join("orange-ticket-bot.sandbox.json").is_file());
        let open = open_to_others(&data);
        assert!(
            open.is_empty(),
            "run {run}: readable by others: {:#?}",
            open.iter()
                .map(|(p, m)| format!("{:o} {}", m, p.display()))
                .collect::<Vec<_>>()
        );
    }
}
