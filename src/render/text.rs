//! Card -> plain terminal text. Markdown bold markers and escapes are dropped; layout is one
//! field a line.

use super::{Card, Reply};

/// Markdown -> plain text: bold markers dropped, escapes undone.
pub fn plain(s: &str) -> String {
    let s = s.replace("**", "");
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
