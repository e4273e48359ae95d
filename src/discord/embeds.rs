//! Domain values rendered as Discord embeds, within Discord's limits (field name ≤ 256, value
//! ≤ 1024 and never empty, ≤ 25 fields).

use poise::serenity_prelude::{Colour, CreateEmbed};

use crate::domain::ApiStatus;

const MAX_FIELD_NAME: usize = 256;
const MAX_FIELD_VALUE: usize = 1024;
/// Leaves room for the status and version fields within Discord's 25.
const MAX_COMPONENTS: usize = 20;

/// The Orange API status: green when it and every component are ok.
pub fn api_status(status: &ApiStatus) -> CreateEmbed {
    let (title, colour) = if status.is_ok() {
        ("Orange API: operational", Colour::DARK_GREEN)
    } else {
        ("Orange API: degraded", Colour::ORANGE)
    };
    let mut embed = CreateEmbed::new().title(title).colour(colour).field(
        "Status",
        field_value(&status.status),
        true,
    );
    if let Some(version) = &status.version {
        embed = embed.field("Version", field_value(version), true);
    }
    for component in status.components.iter().take(MAX_COMPONENTS) {
        let name = component.name.as_deref().unwrap_or("component");
        embed = embed.field(
            clip(name, MAX_FIELD_NAME),
            field_value(&component.status),
            true,
        );
    }
    if status.components.len() > MAX_COMPONENTS {
        let more = status.components.len() - MAX_COMPONENTS;
        embed = embed.footer(poise::serenity_prelude::CreateEmbedFooter::new(format!(
            "and {more} more components"
        )));
    }
    embed
}

/// A field value: clipped, and a dash when empty (Discord rejects empty values).
fn field_value(s: &str) -> String {
    if s.trim().is_empty() {
        "—".into()
    } else {
        clip(s, MAX_FIELD_VALUE)
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max - 1) {
        Some((i, _)) if s.chars().count() > max => format!("{}…", &s[..i]),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ComponentStatus;

    #[test]
    fn clipping_keeps_the_limit_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        let long = "é".repeat(1100);
        let clipped = clip(&long, MAX_FIELD_VALUE);
        assert_eq!(clipped.chars().count(), MAX_FIELD_VALUE);
        assert!(clipped.ends_with('…'));
        assert_eq!(field_value("  "), "—");
    }

    #[test]
    fn many_components_stay_within_25_fields() {
        let status = ApiStatus {
            status: "ok".into(),
            name: None,
            version: Some("1.0".into()),
            components: (0..40)
                .map(|i| ComponentStatus {
                    name: Some(format!("c{i}")),
                    status: "ok".into(),
                })
                .collect(),
        };
        let json = serde_json::to_value(api_status(&status)).expect("serializes");
        let fields = json["fields"].as_array().map_or(0, Vec::len);
        assert!(fields <= 25, "{fields}");
    }
}
