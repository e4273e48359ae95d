//! The sled directory on a full disk, through the real binary in console mode on embedded
//! defaults: the data directory (store, the embedded sandbox's world) lives on a small tmpfs that
//! the test fills while the bot runs. Needs permission to mount (root); without it each test says
//! so on stderr and passes without running.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Size of the tmpfs the data directory lives on.
const DISK: &str = "3m";

/// A tmpfs mounted on a directory for as long as this lives (unmounted on drop, panics included).
#[path = "support/standalone_orange.rs"]
mod standalone_orange;
use standalone_orange::StandaloneOrange;

struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` on `dir`, or says why not and returns `None`.
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs {
                dir: dir.to_owned(),
            }),
            Ok(out) => {
                eprintln!(
                    "NOTICE: full-disk scenario skipped: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("NOTICE: full-disk scenario skipped: no `mount` command: {e}");
                None
            }
        }
    }

    /// Bytes a new file may still take.
    fn free(&self) -> u64 {
        let out = Command::new("stat")
            .args(["-f", "-c", "%a %S"])
            .arg(&self.dir)
            .output()
            .expect("stat runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().expect("a number"));
        let (blocks, size) = (
            fields.next().expect("free blocks"),
            fields.next().expect("block size"),
        );
        blocks * size
    }

    /// Fills the disk with a file until the kernel says ENOSPC; returns the file and its size.
    fn fill(&self) -> (PathBuf, u64) {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let mut written = 0u64;
        for chunk in [64 * 1024, 4096, 1] {
            let buf = vec![0xA5u8; chunk];
            loop {
                match file.write(&buf) {
                    Ok(0) => break,
                    Ok(n) => written += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                    Err(e) => panic!("filling the disk: {e}"),
                }
            }
        }
        (path, written)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Something still holds it (a bot that did not die yet): detach it now, freed later.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// `orange-ticket-bot console` reading its script from a pipe the test writes to over time.
struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// How much of stdout the last answer consumed.
    seen: usize,
}

/// Sent after each command: local, instant, and its last line marks the end of the answer.
const MARK: &str = "/help";
const MARK_END: &str = "Quote values with spaces";

impl Console {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Console {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
        cmd.arg("console")
            .current_dir(dir)
            .env_clear()
            .env("USER", "ada")
            // Plain log lines: the test reads them.
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        let mut child = cmd.spawn().expect("the binary runs");
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&text);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut text = sink.lock().expect("output");
                    text.push_str(&line);
                    text.push('\n');
                }
            });
            text
        };
        let stdout = collect(Box::new(child.stdout.take().expect("stdout")));
        let stderr = collect(Box::new(child.stderr.take().expect("stderr")));
        Console {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            seen: 0,
        }
    }

    /// Sends `line`; returns the bot's answer to it.
    fn ask(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}\n{MARK}").expect("line sent");
        stdin.flush().expect("line sent");
        let echo = format!("> {line}\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.stdout.lock().expect("output")[self.seen..].to_owned();
            if let Some(at) = text.find(&echo)
                && let Some(mark) = text[at..].find(&format!("> {MARK}\n"))
                && let Some(end) = text[at + mark..].find(MARK_END)
            {
                let end = at + mark + end;
                let line_end = text[end..].find('\n').map_or(text.len(), |n| end + n + 1);
                self.seen += line_end;
                return text[at + echo.len()..at + mark].to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the console ended ({status}) while answering {line:?}:\n{text}\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no answer to {line:?} within 30 s:\n{text}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Closes stdin (end of the script) and waits for the process to end; its whole stdout and
    /// stderr.
    fn finish(mut self) -> (std::process::ExitStatus, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("status") {
                break status;
            }
            assert!(Instant::now() < deadline, "the console did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads see end of file once the process is gone.
        std::thread::sleep(Duration::from_millis(100));
        let stdout = self.stdout.lock().expect("output").clone();
        (status, stdout, self.stderr())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        // A failed assertion must not leave the bot running (nor the tmpfs busy).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The id in the console's "Ticket … opened in this session." line.
fn opened_id(answer: &str) -> String {
    answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ticket ")?
                .strip_suffix(" opened in this session.")
        })
        .unwrap_or_else(|| panic!("no ticket opened:\n{answer}"))
        .to_owned()
}

/// What the bot tells a user whose change it could not save (`CoreError::user_message`).
const DISK_FULL: &str = "error: The bot's disk is full, so this was not saved; an administrator must free space on the bot's server, then restart it.";

/// The store on a disk that fills while the bot runs. sled 0.34 keeps its first failed write as
/// an error for the life of the process, so the bot cannot save again until it is restarted:
/// every change is refused with one clear sentence, reads keep answering, the process ends
/// normally, and after a restart with space freed everything acknowledged before is there.
#[test]
fn a_disk_that_fills_while_the_bot_runs_is_reported_and_nothing_is_corrupted() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = Tmpfs::mount(dir.path(), DISK) else {
        return;
    };
    // Tickets do not move by themselves: Orange's reads change nothing, so the embedded
    // sandbox (whose world is on the same disk) keeps answering them.
    let env = [("OTB__SANDBOX__EMBEDDED_AUTO_ADVANCE_SECS", "0")];
    let mut bot = Console::start(dir.path(), &env);
    let mut contact = "Ada Lovelace (ada@example.net)".to_owned();
    let saved = bot.ask("/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net");
    assert_eq!(saved.trim(), format!("Contact saved: {contact}."));
    let created = bot.ask(
        "/ticket create service:LD000000 technical:LD000001 description:\"Before the disk filled\"",
    );
    let id = opened_id(&created);

    let (filler, filled) = disk.fill();
    // Changes may still fit in the pages sled's file already has; one soon needs a new page.
    let mut refused = None;
    for n in 1..=20 {
        let free = disk.free();
        let answer = bot.ask(&format!(
            "/ticket profile first_name:Ada{n} last_name:Lovelace email:ada{n}@example.net"
        ));
        if answer.starts_with("Contact saved") {
            contact = format!("Ada{n} Lovelace (ada{n}@example.net)");
            continue;
        }
        assert_eq!(answer.trim(), DISK_FULL, "the change number {n}");
        refused = Some((n, free));
        break;
    }
    let (changes, free) = refused.expect("a change refused within 20 on a full disk");
    let link = bot.ask("/ticket link id:1234567890");
    assert_eq!(link.trim(), DISK_FULL);
    // Reads answer, from the store and from Orange; nothing refused shows as done.
    let show = bot.ask("/ticket show");
    assert!(
        show.starts_with(&format!("== Ticket {id} — Submitted ==")),
        "the session is still linked to its ticket: {show}"
    );
    let profile = bot.ask("/ticket profile");
    assert_eq!(profile.trim(), format!("Your contact: {contact}."));
    assert!(bot.ask("/ticket status").contains("Orange API: OK"));

    // Space freed: the running bot still cannot save, and keeps saying what to do.
    std::fs::remove_file(&filler).expect("filler removed");
    let after = bot.ask("/ticket link id:1234567890");
    assert_eq!(
        after.trim(),
        DISK_FULL,
        "the same answer once space is back"
    );
    let log = bot.stderr();
    let (status, _, stderr) = bot.finish();
    assert_eq!(
        status.code(),
        Some(1),
        "a script with refused lines fails: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: store failure: IO error: ")
            && last.matches("No space left on device").count() == 1,
        "the operator is told why, once: {last}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("console command failed") && l.contains("No space left on device")),
        "the detail is logged: {log}"
    );

    // A restart with space: the store opens without complaint and holds every acknowledged
    // change; the bot saves again.
    let mut bot = Console::start(dir.path(), &env);
    let show = bot.ask("/ticket show");
    assert!(
        show.starts_with(&format!("== Ticket {id} — Submitted ==")),
        "the ticket created before the disk filled is still linked: {show}"
    );
    let profile = bot.ask("/ticket profile");
    assert_eq!(profile.trim(), format!("Your contact: {contact}."));
    let link = bot.ask("/ticket link id:1234567890");
    assert!(
        link.starts_with("Ticket 1234567890 is now linked to this session."),
        "{link}"
    );
    let (status, _, stderr) = bot.finish();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");

    // Started on a full disk, the bot refuses to start and says where and why, once.
    let (filler, _) = disk.fill();
    let mut bot = Console::start(dir.path(), &env);
    drop(bot.stdin.take());
    let (status, _, stderr) = bot.finish();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let refusal = stderr.lines().last().unwrap_or_default().to_owned();
    assert!(
        refusal.starts_with("error: cannot open the store at data/orange-ticket-bot.sled: ")
            && refusal.matches("No space left on device").count() == 1,
        "{stderr}"
    );
    std::fs::remove_file(&filler).expect("filler removed");
    drop(disk);
    println!("full disk at start: {refusal:?}");
    println!(
        "full disk: tmpfs {DISK}, filled with {filled} bytes; {} change(s) saved after it filled, \
         the next refused with {free} bytes free; user saw {DISK_FULL:?}; the operator saw {last:?}; \
         took {:.1} s",
        changes - 1,
        started.elapsed().as_secs_f64()
    );
}

/// The sandbox the watcher test's bot talks to, off the full disk.
struct Orange(StandaloneOrange);

impl Orange {
    fn start() -> Orange {
        let settings = orange_ticket_bot::config::Settings::defaults().expect("defaults");
        let (id, secret) = (settings.sandbox.client_id, settings.sandbox.client_secret);
        let orange = StandaloneOrange::start(&id, &secret);
        Orange(orange)
    }

    fn env(&self) -> Vec<(String, String)> {
        let settings = orange_ticket_bot::config::Settings::defaults().expect("defaults");
        let mut env = self
            .0
            .env(&settings.sandbox.client_id, &settings.sandbox.client_secret);
        env.push(("OTB__WATCHER__INTERVAL_SECS".into(), "1".into()));
        env
    }

    fn control(&self) -> orange_ticket_bot::sandbox::SandboxControl {
        self.0.control()
    }
}

/// Waits until the bot's log holds `needle`; panics with the log after `within`.
fn wait_for_log(bot: &Console, needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !bot.stderr().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the log within {within:?}:\n{}",
            bot.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The watcher on a full disk: a change it finds but cannot save is not announced (nothing is
/// announced that a restart would announce again) and not lost: after a restart with space, the
/// next pass finds it again and announces it once.
#[test]
fn a_change_the_watcher_cannot_save_on_a_full_disk_is_announced_once_after_a_restart() {
    use orange_ticket_bot::domain::{Status, TicketId};
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = Tmpfs::mount(dir.path(), DISK) else {
        return;
    };
    let orange = Orange::start();
    let env = orange.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut bot = Console::start(dir.path(), &env);
    bot.ask("/ticket profile first_name:Ada last_name:Lovelace email:ada@example.net");
    let id = opened_id(
        &bot.ask("/ticket create service:LD000000 technical:LD000001 description:\"Watch me\""),
    );

    let (filler, _) = disk.fill();
    // Until the store refuses a change: from then on no write of this process reaches the disk.
    let refused = (1..=20).any(|n| {
        bot.ask(&format!(
            "/ticket profile first_name:Ada{n} last_name:Lovelace email:ada{n}@example.net"
        ))
        .trim()
            == DISK_FULL
    });
    assert!(refused, "a change refused within 20 on a full disk");
    let ticket = TicketId::parse(&id).expect("id");
    orange
        .control()
        .set_status(&ticket, Status::Ongoing, None)
        .expect("status set");
    wait_for_log(&bot, "watcher: store failed", Duration::from_secs(10));
    let logged = bot
        .stderr()
        .lines()
        .find(|l| l.contains("watcher: store failed"))
        .map(str::to_owned)
        .unwrap_or_default();
    let show = bot.ask("/ticket show");
    assert!(
        show.contains("Status: Ongoing"),
        "reads still answer: {show}"
    );
    std::fs::remove_file(&filler).expect("filler removed");
    let news = format!("[ticket {id}] Submitted → Ongoing");
    let (status, out, stderr) = bot.finish();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        !out.contains(&news),
        "a change that was not saved is not announced: {out}"
    );

    let mut bot = Console::start(dir.path(), &env);
    let waited = bot.ask("/wait 3");
    let (status, out, stderr) = bot.finish();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        waited.contains(&news),
        "found again after the restart: {out}"
    );
    assert_eq!(out.matches(&news).count(), 1, "announced once: {out}");
    drop(disk);
    println!(
        "full disk, watcher: logged {logged:?}; the change was found again and announced once \
         after the restart; took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
