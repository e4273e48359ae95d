//! Console line syntax: the slash commands as text, with the same option names.
//!
//! `/ticket create service:LD000000 technical:LD000001 description:"Link down since 10:00"`
//! Quotes group words (shell rules, via `shlex`); every option is `name:value`.

use std::collections::BTreeMap;

use crate::core::{
    BoardAction, Command, ConfigInput, CreateInput, ProfileInput, ReportInput, SearchInput,
};
use crate::domain::Conversation;

/// A sub-command of `/ticket`, and its required and optional options.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub help: &'static str,
}

pub const SPECS: &[Spec] = &[
    Spec {
        name: "services",
        required: &[],
        optional: &[],
        help: "list the account's service numbers and technical numbers",
    },
    Spec {
        name: "create",
        required: &["service", "technical", "description"],
        optional: &["reference"],
        help: "open a ticket and link this session to it",
    },
    Spec {
        name: "comment",
        required: &["text"],
        optional: &["id"],
        help: "add a comment to the linked ticket (or to id:)",
    },
    Spec {
        name: "show",
        required: &[],
        optional: &["id"],
        help: "show the linked ticket (or id:) as Orange has it now",
    },
    Spec {
        name: "search",
        required: &[],
        optional: &[
            "status",
            "service",
            "reported_by",
            "id",
            "from",
            "to",
            "sort",
            "order",
            "page",
        ],
        help: "search tickets (status: any documented status or -1; from:/to: YYYY-MM-DD; order: asc|desc)",
    },
    Spec {
        name: "link",
        required: &["id"],
        optional: &[],
        help: "link this session to an existing ticket",
    },
    Spec {
        name: "unlink",
        required: &[],
        optional: &[],
        help: "unlink this session from its ticket",
    },
    Spec {
        name: "status",
        required: &[],
        optional: &[],
        help: "check the Orange API status",
    },
    Spec {
        name: "follow",
        required: &[],
        optional: &["services", "statuses"],
        help: "subscribe this session to the team's ticket feed (filters: comma-separated)",
    },
    Spec {
        name: "unfollow",
        required: &[],
        optional: &[],
        help: "stop following the ticket feed",
    },
    Spec {
        name: "profile",
        required: &[],
        optional: &["first_name", "last_name", "email", "phone"],
        help: "show, or set, the contact Orange uses for your tickets",
    },
    Spec {
        name: "config",
        required: &[],
        optional: &["permission", "roles", "feed", "default_contact"],
        help: "show or change the team's settings (permission: + roles:, feed:here|off, default_contact:mine|none)",
    },
    Spec {
        name: "board",
        required: &[],
        optional: &[],
        help: "show the board of every open ticket the bot tracks, grouped by status",
    },
    Spec {
        name: "report",
        required: &[],
        optional: &["from", "to", "csv"],
        help: "the team's figures for a period (from:/to: YYYY-MM-DD, UTC; default the last 30 days; csv:true prints them as CSV too)",
    },
];

/// A parsed console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Empty,
    Help,
    Quit,
    /// Wait this many seconds, showing the watcher's news as it comes.
    Wait(u64),
    Ticket {
        sub: &'static str,
        options: BTreeMap<String, String>,
    },
}

/// The command a `/ticket` line stands for; the error is the message to print.
pub fn command(
    sub: &str,
    mut o: BTreeMap<String, String>,
    here: &Conversation,
) -> Result<Command, String> {
    let show_only = o.is_empty();
    let mut take = |k: &str| o.remove(k);
    Ok(match sub {
        "services" => Command::Services,
        "create" => Command::Create(CreateInput {
            service: take("service").unwrap_or_default(),
            technical: take("technical").unwrap_or_default(),
            description: take("description").unwrap_or_default(),
            external_ref: take("reference"),
        }),
        "comment" => Command::Comment {
            id: take("id"),
            text: take("text").unwrap_or_default(),
        },
        "show" => Command::Show { id: take("id") },
        "search" => Command::Search(search_input(&mut o)?),
        "link" => Command::Link {
            id: take("id").unwrap_or_default(),
        },
        "unlink" => Command::Unlink,
        "status" => Command::Status,
        "follow" => Command::Follow {
            services: take("services").unwrap_or_default(),
            statuses: take("statuses").unwrap_or_default(),
        },
        "unfollow" => Command::Unfollow,
        "profile" if show_only => Command::Profile(None),
        "profile" => Command::Profile(Some(ProfileInput {
            first_name: take("first_name").unwrap_or_default(),
            last_name: take("last_name").unwrap_or_default(),
            email: take("email"),
            phone: take("phone"),
        })),
        "config" => Command::Config(config_input(&mut o, here)?),
        "board" => Command::Board(BoardAction::Show),
        "report" => Command::Report(ReportInput {
            from: take("from"),
            to: take("to"),
            csv: match take("csv").as_deref().map(str::trim) {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => return Err(format!("csv:{other} is neither true nor false.")),
            },
        }),
        other => return Err(format!("unknown command `/ticket {other}`: try /help")),
    })
}

/// `/ticket search`'s options.
fn search_input(o: &mut BTreeMap<String, String>) -> Result<SearchInput, String> {
    let ascending = match o.remove("order").as_deref() {
        None => None,
        Some("asc") => Some(true),
        Some("desc") => Some(false),
        Some(other) => return Err(format!("Order `{other}` is neither asc nor desc.")),
    };
    let page = match o.remove("page") {
        None => None,
        Some(p) => Some(
            p.trim()
                .parse::<u32>()
                .map_err(|_| format!("Page `{p}` is not a number."))?,
        ),
    };
    Ok(SearchInput {
        status: o.remove("status"),
        service: o.remove("service"),
        reported_by: o.remove("reported_by"),
        id: o.remove("id"),
        from: o.remove("from"),
        to: o.remove("to"),
        sort: o.remove("sort"),
        ascending,
        page,
    })
}

/// `/ticket config`'s options: `feed:here|off`, `default_contact:mine|none`.
fn config_input(
    o: &mut BTreeMap<String, String>,
    here: &Conversation,
) -> Result<ConfigInput, String> {
    Ok(ConfigInput {
        permission: o.remove("permission"),
        roles: o.remove("roles"),
        feed: match o.remove("feed").as_deref() {
            None => None,
            Some("here") => Some(Some(here.clone())),
            Some("off") => Some(None),
            Some(other) => return Err(format!("Feed `{other}` is neither here nor off.")),
        },
        default_contact_mine: match o.remove("default_contact").as_deref() {
            None => None,
            Some("mine") => Some(true),
            Some("none") => Some(false),
            Some(other) => {
                return Err(format!(
                    "Default contact `{other}` is neither mine nor none."
                ));
            }
        },
    })
}

/// How long a bare `/wait` waits, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 10;

/// Parses one line; the error is the message to print.
pub fn parse(line: &str) -> Result<Line, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Line::Empty);
    }
    let tokens = shlex::split(trimmed).ok_or("unbalanced quotes")?;
    let mut tokens = tokens.into_iter();
    match tokens.next().as_deref() {
        Some("/help" | "help") => return Ok(Line::Help),
        Some("/quit" | "/exit" | "quit" | "exit") => return Ok(Line::Quit),
        Some("/wait") => {
            return match tokens.next() {
                None => Ok(Line::Wait(DEFAULT_WAIT_SECS)),
                Some(n) => n
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=3600).contains(n))
                    .map(Line::Wait)
                    .ok_or_else(|| format!("`/wait {n}`: give seconds, from 1 to 3600")),
            };
        }
        Some("/ticket") => {}
        Some(other) => return Err(format!("unknown command `{other}`: try /help")),
        None => return Ok(Line::Empty),
    }
    let Some(sub) = tokens.next() else {
        return Err("which /ticket command? try /help".into());
    };
    let spec = SPECS
        .iter()
        .find(|s| s.name == sub)
        .ok_or_else(|| format!("unknown command `/ticket {sub}`: try /help"))?;
    let mut options = BTreeMap::new();
    for token in tokens {
        let Some((name, value)) = token.split_once(':') else {
            return Err(format!("`{token}` is not an option: write name:value"));
        };
        if !spec.required.contains(&name) && !spec.optional.contains(&name) {
            let known: Vec<_> = spec.required.iter().chain(spec.optional).copied().collect();
            return Err(format!(
                "unknown option `{name}` for /ticket {} (options: {})",
                spec.name,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ));
        }
        if options.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(format!("option `{name}` given twice"));
        }
    }
    if let Some(missing) = spec.required.iter().find(|r| !options.contains_key(**r)) {
        return Err(format!("/ticket {} needs `{missing}:`", spec.name));
    }
    Ok(Line::Ticket {
        sub: spec.name,
        options,
    })
}

/// The help text.
pub fn help() -> String {
    let mut out = String::from("Commands (same options as the Discord slash commands):\n");
    for s in SPECS {
        let mut usage = format!("/ticket {}", s.name);
        for r in s.required {
            usage.push_str(&format!(" {r}:…"));
        }
        for o in s.optional {
            usage.push_str(&format!(" [{o}:…]"));
        }
        out.push_str(&format!("  {usage}\n      {}\n", s.help));
    }
    out.push_str(
        "  /wait [seconds]    wait (default 10 s), showing the watcher's news as it comes\n",
    );
    out.push_str("  /help    this text\n  /quit    leave (or Ctrl-D at the prompt; Ctrl-C clears the line)\nQuote values with spaces: description:\"Link down since 10:00\"\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_quotes() {
        let line = parse(r#"/ticket create service:LD000000 technical:LD000001 description:"Link down since 10:00""#)
            .expect("parses");
        let Line::Ticket { sub, options } = line else {
            panic!("not a ticket command");
        };
        assert_eq!(sub, "create");
        assert_eq!(options["description"], "Link down since 10:00");
        assert_eq!(options["service"], "LD000000");
    }

    #[test]
    fn mistakes_are_explained() {
        assert_eq!(
            parse("/ticket show id:1 color:red").unwrap_err(),
            "unknown option `color` for /ticket show (options: id)"
        );
        assert_eq!(
            parse("/ticket comment").unwrap_err(),
            "/ticket comment needs `text:`"
        );
        assert_eq!(
            parse("/ticket frobnicate").unwrap_err(),
            "unknown command `/ticket frobnicate`: try /help"
        );
        assert_eq!(
            parse("/ticket show 123").unwrap_err(),
            "`123` is not an option: write name:value"
        );
        assert_eq!(
            parse("/ticket comment text:\"oops").unwrap_err(),
            "unbalanced quotes"
        );
        assert_eq!(parse("  # a comment").expect("ok"), Line::Empty);
    }

    #[test]
    fn a_report_takes_a_period_and_csv_true_or_false() {
        let here = Conversation::console("s");
        let report = |line: &str| match parse(line)? {
            Line::Ticket { sub, options } => command(sub, options, &here),
            other => panic!("not a ticket command: {other:?}"),
        };
        let Ok(Command::Report(input)) =
            report("/ticket report from:2026-11-01 to:2026-11-30 csv:true")
        else {
            panic!("a report");
        };
        assert_eq!(
            input,
            ReportInput {
                from: Some("2026-11-01".into()),
                to: Some("2026-11-30".into()),
                csv: true
            }
        );
        assert!(matches!(
            report("/ticket report"),
            Ok(Command::Report(ReportInput { csv: false, .. }))
        ));
        assert_eq!(
            report("/ticket report csv:maybe").err().as_deref(),
            Some("csv:maybe is neither true nor false.")
        );
    }
}
