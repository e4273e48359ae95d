//! Card -> plain terminal text. Markdown bold markers are dropped; layout is one field a line.

use super::Card;

pub fn card(c: &Card) -> String {
    let mut out = String::new();
    out.push_str(&format!("== {} ==\n", c.title));
    if let Some(d) = &c.description {
        out.push_str(&d.replace("**", ""));
        out.push('\n');
    }
    for f in &c.fields {
        if f.value.contains('\n') || f.value.chars().count() > 60 {
            out.push_str(&format!("{}:\n", f.name));
            for line in f.value.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        } else {
            out.push_str(&format!("{}: {}\n", f.name, f.value));
        }
    }
    if let Some(footer) = &c.footer {
        out.push_str(&format!("-- {footer}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Field;

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
