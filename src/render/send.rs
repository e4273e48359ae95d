//! The words of "Send to Orange": the confirmation (the comment exactly as Orange will receive
//! it), what the person who confirmed sees afterwards, and the line the conversation sees.

use super::card::{Card, Field, limits, md};
use super::reply::Attachment;
use super::{Reply, card::cut};
use crate::core::{SendDone, SendPreview};
use crate::domain::TicketId;

/// Orange's colour, as on the ticket cards.
const ORANGE: u32 = 0xff7900;
/// How much of a cut-off end the confirmation quotes.
const CUT_SHOWN: usize = 600;

/// The confirmation: the question, what would be cut, and the comment as a card.
pub fn confirmation(preview: &SendPreview) -> Reply {
    let length = preview.comment.chars().count();
    let mut text = format!(
        "Send this to Orange as a comment on ticket {}? Orange receives exactly the text below \
         ({length} characters). Nothing is sent until you click **Send**.",
        preview.ticket
    );
    if let Some(rest) = &preview.cut {
        let count = rest.chars().count();
        text.push_str(&format!(
            "\n**Too long for one Orange comment:** the message's last {count} characters would \
             be cut (the comment ends with `…`). Not sent:\n>>> {}",
            md(&cut(rest, CUT_SHOWN))
        ));
    }
    // Escaped for display, a comment can outgrow an embed (a `_` shows as `\_`): then the exact
    // text goes as a file instead of a card that would have to cut it.
    if md(&preview.comment).chars().count() > SHOWN_MAX {
        let card = Card {
            title: format!("Comment for ticket {}", preview.ticket),
            colour: ORANGE,
            description: Some(format!(
                "Too long to show here with its formatting: the attached `{COMMENT_FILE}` is \
                 exactly what Orange will receive."
            )),
            ..Card::default()
        };
        return Reply {
            text: Some(text),
            cards: vec![card],
            files: vec![Attachment {
                name: COMMENT_FILE.into(),
                text: preview.comment.clone(),
            }],
        };
    }
    Reply {
        text: Some(text),
        cards: vec![comment_card(&preview.ticket, &preview.comment)],
        files: Vec::new(),
    }
}

/// The longest escaped comment a card shows whole (its title and field names stay within the
/// 6,000 characters of an embed).
const SHOWN_MAX: usize = 5_600;
const COMMENT_FILE: &str = "comment.txt";

/// The comment as a card: markdown escaped so it shows as typed, in the description and, when
/// the escapes make it longer than a description, continued in fields.
fn comment_card(ticket: &TicketId, comment: &str) -> Card {
    let shown = md(comment);
    let mut pieces = chunks(&shown, limits::DESCRIPTION).into_iter();
    let description = pieces.next();
    let rest: String = pieces.collect();
    let fields = chunks(&rest, limits::FIELD_VALUE)
        .into_iter()
        .map(|value| Field {
            name: "…".into(),
            value,
            inline: false,
        })
        .collect();
    Card {
        title: format!("Comment for ticket {ticket}"),
        colour: ORANGE,
        description,
        fields,
        footer: None,
    }
    .fit()
}

/// `s` in pieces of at most `max` characters, never splitting an escape (`\*`) from its
/// character.
fn chunks(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let pair = match (c, chars.peek()) {
            ('\\', Some(&next)) => Some(next),
            _ => None,
        };
        let width = if pair.is_some() { 2 } else { 1 };
        if count + width > max && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            count = 0;
        }
        current.push(c);
        if let Some(next) = pair {
            current.push(next);
            chars.next();
        }
        count += width;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What the person who confirmed sees once Orange has the comment.
pub fn sent(done: &SendDone) -> Reply {
    Reply::text(format!(
        "Sent to Orange: the message is now a comment on ticket {}.",
        done.ticket
    ))
}

/// ... and when the conversation could not be told.
pub fn sent_unannounced(done: &SendDone) -> Reply {
    Reply::text(format!(
        "Sent to Orange: the message is now a comment on ticket {}. The thread could not be told: \
         check the bot's permissions here.",
        done.ticket
    ))
}

/// The public line in the conversation (no one is pinged: the bot allows no mentions).
pub fn sent_notice(done: &SendDone) -> String {
    format!("📨 Sent to Orange by {}: {}", md(&done.by), done.link)
}

/// A confirmed send that did not go out: why, and (when it may be clicked again) the same
/// confirmation.
pub fn not_sent(reason: &str, retry: Option<&SendPreview>) -> Reply {
    match retry {
        Some(preview) => {
            let again = confirmation(preview);
            Reply {
                text: Some(format!(
                    "**Not sent:** {reason}\n{}",
                    again.text.unwrap_or_default()
                )),
                cards: again.cards,
                files: Vec::new(),
            }
        }
        None => Reply::text(format!("**Not sent:** {reason}")),
    }
}

/// After Cancel.
pub fn cancelled(ticket: &TicketId) -> Reply {
    Reply::text(format!(
        "Cancelled: nothing was sent to Orange (ticket {ticket})."
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_comment_whose_escapes_would_not_fit_a_card_is_attached_exactly() {
        let comment = format!("[ada via discord] {}", "_".repeat(3_900));
        let long = preview(&comment, None);
        let reply = super::confirmation(&long);
        assert_eq!(reply.files.len(), 1);
        assert_eq!(reply.files[0].text, comment, "exactly what Orange receives");
        assert!(
            reply
                .cards
                .iter()
                .all(|c| c.total_chars() <= super::limits::TOTAL)
        );
        let short = super::confirmation(&preview("[ada via discord] hi_", None));
        assert!(short.files.is_empty());
        assert!(
            short.cards[0]
                .description
                .as_deref()
                .is_some_and(|d| d.ends_with("hi\\_"))
        );
    }

    use super::*;

    fn preview(comment: &str, cut: Option<&str>) -> SendPreview {
        SendPreview {
            number: 7,
            ticket: TicketId::parse("1234567890").expect("id"),
            comment: comment.into(),
            cut: cut.map(str::to_owned),
        }
    }

    #[test]
    fn the_confirmation_shows_the_whole_comment_escaped() {
        let reply = confirmation(&preview("[Ada via discord] *bold* text", None));
        assert_eq!(
            reply.text.as_deref(),
            Some(
                "Send this to Orange as a comment on ticket 1234567890? Orange receives exactly \
                 the text below (29 characters). Nothing is sent until you click **Send**."
            )
        );
        assert_eq!(
            reply.cards[0].description.as_deref(),
            Some("\\[Ada via discord\\] \\*bold\\* text")
        );
    }

    #[test]
    fn a_comment_whose_escapes_outgrow_a_description_continues_in_fields() {
        let comment = "*".repeat(2500);
        let reply = confirmation(&preview(&comment, Some("the end")));
        let card = &reply.cards[0];
        let shown: String = card
            .description
            .iter()
            .cloned()
            .chain(card.fields.iter().map(|f| f.value.clone()))
            .collect();
        assert_eq!(shown, md(&comment), "nothing lost");
        assert!(card.total_chars() <= limits::TOTAL);
        assert!(
            reply
                .text
                .as_deref()
                .unwrap_or("")
                .contains("last 7 characters")
        );
    }
}
