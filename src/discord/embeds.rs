//! Card -> Discord embed. Cards are already cut to Discord's limits by `render::card`; this only
//! changes their shape.

use poise::serenity_prelude::{Colour, CreateEmbed, CreateEmbedFooter};

use crate::render::Card;

pub fn embed(card: &Card) -> CreateEmbed {
    let mut embed = CreateEmbed::new()
        .title(&card.title)
        .colour(Colour::new(card.colour));
    if let Some(d) = &card.description {
        embed = embed.description(d);
    }
    for f in &card.fields {
        embed = embed.field(&f.name, &f.value, f.inline);
    }
    if let Some(footer) = &card.footer {
        embed = embed.footer(CreateEmbedFooter::new(footer));
    }
    embed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ApiStatus, ComponentStatus};
    use crate::render::card;

    #[test]
    fn a_card_becomes_an_embed_within_discord_limits() {
        let status = ApiStatus {
            status: "ok".into(),
            name: Some("API Ticketing WIN_BUS".into()),
            version: None,
            components: (0..40)
                .map(|i| ComponentStatus {
                    name: Some(format!("c{i}")),
                    status: "ok".into(),
                })
                .collect(),
        };
        let json = serde_json::to_value(embed(&card::api_status(&status))).expect("serializes");
        assert_eq!(json["title"], "Orange API: OK");
        assert_eq!(json["fields"][0]["name"], "Status");
        assert_eq!(json["color"], 0x2ecc71);
        let fields = json["fields"].as_array().map_or(0, Vec::len);
        assert_eq!(
            fields, 25,
            "cut to Discord's 25, the last saying what was left out"
        );
        assert_eq!(json["fields"][24]["value"], "17 more not shown");
    }
}
