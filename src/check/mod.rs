//! `orange-ticket-bot check`: a live diagnosis of an installation, one line per check, `OK` or
//! `FAIL` with what to fix (`SKIP` when a check cannot run). First what the settings say (secrets
//! shown as set/unset only), then Orange — a token, the status endpoint, the service numbers —
//! and, with a `DISCORD_TOKEN`, Discord: the token, the guilds and the bot's permissions in each
//! ([`crate::discord::check`] asks Discord; this module words the answers).
//!
//! Without Orange credentials the embedded sandbox is checked, started as `run` starts it (same
//! settings, loopback, the world saved beside the store if there is one) but without its
//! lifecycle: a check reads, it never changes what a running bot uses.
//!
//! - `orange`: the Orange checks and what each Orange failure means for the operator;
//! - `discord`: the Discord checks (the questions are asked by `crate::discord::check`).

mod discord;
mod orange;

use std::fmt;
use std::process::ExitCode;

use secrecy::ExposeSecret;

use crate::config::Settings;

/// Service numbers and guild names shown in a line, at most.
const LISTED: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Fail,
    /// Not checked: it depends on something that failed or is not configured.
    Skip,
}

/// One line of the diagnosis: `OK   Orange token: issued by ... in 12 ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    pub subject: String,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.verdict {
            Verdict::Ok => "OK",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        };
        write!(f, "{mark:<4} {}: {}", self.subject, self.detail)
    }
}

/// Everything one run of the check found.
#[derive(Debug, Default)]
pub struct Diagnosis {
    pub findings: Vec<Finding>,
    /// The settings loaded but do not allow `run` (status 2, like any invalid setting).
    settings_unusable: bool,
}

impl Diagnosis {
    pub fn failed(&self) -> usize {
        self.count(Verdict::Fail)
    }

    /// The checks that ran (OK or FAIL).
    pub fn checked(&self) -> usize {
        self.count(Verdict::Ok) + self.failed()
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .count()
    }

    /// `Ok` when every check passed.
    pub fn outcome(&self) -> Result<(), CheckFailed> {
        if self.settings_unusable {
            return Err(CheckFailed::Settings);
        }
        match self.failed() {
            0 => Ok(()),
            failed => Err(CheckFailed::Live {
                failed,
                checked: self.checked(),
            }),
        }
    }
}

/// Why `check` exits non-zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckFailed {
    #[error("the settings do not allow `run` (see the FAIL line above)")]
    Settings,
    #[error("{failed} of {checked} checks failed; each FAIL line says what to fix")]
    Live { failed: usize, checked: usize },
}

impl CheckFailed {
    /// Invalid settings exit with 2 (as everywhere); a failed live check with 1.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CheckFailed::Settings => ExitCode::from(2),
            CheckFailed::Live { .. } => ExitCode::from(1),
        }
    }
}

/// Collects the findings and hands each line to the printer as soon as it is known, so a slow
/// answer shows where the check waits.
struct Recorder<'a> {
    diagnosis: Diagnosis,
    print: &'a mut dyn FnMut(&str),
}

impl Recorder<'_> {
    fn push(&mut self, verdict: Verdict, subject: impl Into<String>, detail: impl Into<String>) {
        let finding = Finding {
            verdict,
            subject: subject.into(),
            detail: detail.into(),
        };
        (self.print)(&finding.to_string());
        self.diagnosis.findings.push(finding);
    }

    fn ok(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Ok, subject, detail);
    }

    fn fail(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Fail, subject, detail);
    }

    fn skip(&mut self, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(Verdict::Skip, subject, detail);
    }
}

/// Runs every check against `settings`, printing each line through `print` as it is known.
pub async fn run(settings: &Settings, mut print: impl FnMut(&str)) -> Diagnosis {
    print(&settings_report(settings));
    let mut found = Recorder {
        diagnosis: Diagnosis::default(),
        print: &mut print,
    };
    check_settings(settings, &mut found);
    orange::check(settings, &mut found).await;
    discord::check(settings, &mut found).await;
    let diagnosis = found.diagnosis;
    if diagnosis.outcome().is_ok() {
        print(&format!("all {} checks OK", diagnosis.checked()));
    }
    diagnosis
}

/// What the settings say: where each part of the bot would connect, secrets only as set/unset.
pub fn settings_report(settings: &Settings) -> String {
    let set = |s: &Option<secrecy::SecretString>| if s.is_some() { "set" } else { "not set" };
    let orange = match settings.orange_credentials() {
        Some(_) => format!(
            "Orange at {} ({})",
            settings.orange.base_url.host_str().unwrap_or("?"),
            settings.orange.base_url
        ),
        None => format!(
            "embedded sandbox on 127.0.0.1, not real tickets (ORANGE_CLIENT_ID/ORANGE_CLIENT_SECRET \
             not set); Discord mode {}",
            if settings.sandbox.serve_discord {
                "serves it, every card and reply saying so (sandbox.serve_discord = true)"
            } else {
                "refuses to start (sandbox.serve_discord = false)"
            }
        ),
    };
    let s = &settings.secrets;
    let w = &settings.watcher;
    let watcher = if w.enabled {
        format!(
            "a pass every {} s, at most {} single reads a pass",
            w.interval_secs, w.max_gets_per_pass
        )
    } else {
        "off (watcher.enabled = false)".into()
    };
    format!(
        "orange:   {orange}\n\
         token:    {}\n\
         discord:  {} (DISCORD_TOKEN {})\n\
         store:    {}\n\
         watcher:  {watcher}\n\
         secrets:  ORANGE_CLIENT_ID {}, ORANGE_CLIENT_SECRET {}, ORANGE_APPLICATION_ID {}\n",
        settings.orange.token_url,
        settings.discord.api_base_url,
        set(&s.discord_token),
        settings.store.path.display(),
        set(&s.orange_client_id),
        set(&s.orange_client_secret),
        set(&s.orange_application_id),
    )
}

/// The settings loaded (or `main` stopped with status 2); with a Discord token, they must also
/// say which Orange Discord users get.
fn check_settings(settings: &Settings, found: &mut Recorder<'_>) {
    match discord_token(settings).map(|_| settings.check_orange_for_discord()) {
        Some(Err(e)) => {
            found.diagnosis.settings_unusable = true;
            found.fail("settings", e.to_string());
        }
        Some(Ok(())) | None => found.ok("settings", "valid"),
    }
}

fn discord_token(settings: &Settings) -> Option<&secrecy::SecretString> {
    settings
        .secrets
        .discord_token
        .as_ref()
        .filter(|t| !t.expose_secret().is_empty())
}

/// The first [`LISTED`] of `items`, with `…` when there are more than that.
fn listed(items: impl Iterator<Item = String>, len: usize) -> String {
    let mut text = items.take(LISTED).collect::<Vec<_>>().join(", ");
    if len > LISTED {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starts_with_its_verdict_aligned() {
        let line = |verdict| {
            Finding {
                verdict,
                subject: "Orange token".into(),
                detail: "x".into(),
            }
            .to_string()
        };
        assert_eq!(line(Verdict::Ok), "OK   Orange token: x");
        assert_eq!(line(Verdict::Fail), "FAIL Orange token: x");
        assert_eq!(line(Verdict::Skip), "SKIP Orange token: x");
    }

    #[test]
    fn the_exit_status_says_what_went_wrong() {
        let finding = |verdict| Finding {
            verdict,
            subject: String::new(),
            detail: String::new(),
        };
        let mut d = Diagnosis {
            findings: vec![finding(Verdict::Ok), finding(Verdict::Skip)],
            settings_unusable: false,
        };
        assert_eq!(d.outcome(), Ok(()));
        d.findings.push(finding(Verdict::Fail));
        let failed = d.outcome().expect_err("a failure");
        assert_eq!(failed.exit_code(), ExitCode::from(1));
        assert_eq!(
            failed.to_string(),
            "1 of 2 checks failed; each FAIL line says what to fix"
        );
        d.settings_unusable = true;
        assert_eq!(d.outcome(), Err(CheckFailed::Settings));
        assert_eq!(CheckFailed::Settings.exit_code(), ExitCode::from(2));
    }

    #[test]
    fn long_lists_are_cut_with_an_ellipsis() {
        let items = |n: usize| (0..n).map(|i| i.to_string());
        assert_eq!(listed(items(2), 2), "0, 1");
        assert_eq!(listed(items(7), 7), "0, 1, 2, 3, 4, …");
    }
}
