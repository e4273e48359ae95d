//! Card -> plain terminal text. Markdown bold markers and escapes are dropped; layout is one
//! field a line.

use super::{Card, Reply};

/// Markdown -> plain text: bold markers dropped, escapes undone, Discord timestamps written as
/// dates, reference lines (`-# ref …`) dropped.
pub fn plain(s: &str) -> String {
    let lines: Vec<String> = s
        .lines()
        .filter(|l| !l.starts_with("-# ref "))
        .map(|l| timestamps(&unescape(&l.replace("**", ""))))
        .collect();
    let mut out = lines.join("\n");
    if s.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `<t:1700000000:R>` -> `2023-11-14 22:13 UTC`.
fn timestamps(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("<t:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let parsed = after.split_once('>').and_then(|(inside, tail)| {
            let secs = inside.split(':').next()?.parse::<i64>().ok()?;
            let at = chrono::DateTime::from_timestamp(secs, 0)?;
            Some((at.format("%Y-%m-%d %H:%M UTC").to_string(), tail))
        });
        match parsed {
            Some((date, tail)) => {
                out.push_str(&date);
                rest = tail;
            }
            None => {
                out.push_str("<t:");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A reply: its sentence on a line, then its cards.
pub fn reply(r: &Reply) -> String {
    let mut out = String::new();
    if let Some(t) = &r.text {
        out.push_str(&plain(t));
        out.push('\n');
    }
    for c in &r.cards {
        out.push_str(&card(c));
    }
    // A file is printed whole after a header line, so a script's output can be cut there.
    for f in &r.files {
        out.push_str(&format!("--- {} ---\n", f.name));
        out.push_str(&f.text);
        if !f.text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

pub fn card(c: &Card) -> String {
    let mut out = String::new();
    out.push_str(&format!("== {} ==\n", plain(&c.title)));
    if let Some(d) = &c.description {
        out.push_str(&plain(d));
        out.push('\n');
    }
    for f in &c.fields {
        let (name, value) = (plain(&f.name), plain(&f.value));
        if value.contains('\n') || value.chars().count() > 60 {
            out.push_str(&format!("{name}:\n"));
            for line in value.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        } else {
            out.push_str(&format!("{name}: {value}\n"));
        }
    }
    if let Some(footer) = &c.footer {
        out.push_str(&format!("-- {}\n", plain(footer)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Field;

    #[test]
    fn timestamps_become_dates_and_reference_lines_go() {
        assert_eq!(
            plain("**A → B** · <t:1700000000:R>\n-# ref abc"),
            "A → B · 2023-11-14 22:13 UTC"
        );
        assert_eq!(plain("<t:x> <t:"), "<t:x> <t:");
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(plain(r"**1** \*not bold\* a\\b"), r"1 *not bold* a\b");
    }

    #[test]
    fn renders_title_fields_and_footer() {
        let c = Card {
            title: "Ticket 1 — Ongoing".into(),
            description: Some("**1** · link down".into()),
            fields: vec![Field {
                name: "Status".into(),
                value: "Ongoing".into(),
                inline: true,
            }],
            footer: Some("synced".into()),
            colour: 0,
        };
        assert_eq!(
            card(&c),
            "== Ticket 1 — Ongoing ==\n1 · link down\nStatus: Ongoing\n-- synced\n"
        );
    }
}
