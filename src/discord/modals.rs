//! The forms: open a ticket (from `/ticket create`, or pre-filled from a message), add a comment,
//! set one's contact. Each carries what it needs in its custom id (see `components`), so a form
//! submitted after a restart still works; submitted values are read back by input id.

use poise::serenity_prelude as serenity;
use serenity::{ActionRowComponent, CreateActionRow, CreateInputText, CreateModal, InputTextStyle};

use super::components::CustomId;
use crate::domain::{Contact, ServiceNumber, TechnicalNumber, TicketId};
use crate::render::card::cut;

/// Discord's cap on a text input.
pub const INPUT_MAX: usize = 4000;
/// Orange's customer reference (`externalId`) as the core accepts it.
const REFERENCE_MAX: usize = 100;

fn input(style: InputTextStyle, label: &str, id: &str, max: usize) -> CreateInputText {
    // Within Discord's cap: `max` is at most INPUT_MAX.
    let max = u16::try_from(max.min(INPUT_MAX)).unwrap_or(u16::MAX);
    CreateInputText::new(style, label, id).max_length(max)
}

fn row(input: CreateInputText) -> CreateActionRow {
    CreateActionRow::InputText(input)
}

fn prefilled(input: CreateInputText, value: Option<&str>, max: usize) -> CreateInputText {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => input.value(cut(v, max.min(INPUT_MAX))),
        None => input,
    }
}

/// The description and optional customer reference of a ticket whose service and technical
/// numbers were chosen in the slash command. `None` when they do not fit a custom id; then
/// [`create_full`] asks for everything.
pub fn create(
    service: &ServiceNumber,
    technical: &TechnicalNumber,
    description_max: usize,
) -> Option<CreateModal> {
    let id = CustomId::CreateForm {
        service: service.clone(),
        technical: technical.clone(),
    }
    .checked()?;
    Some(
        CreateModal::new(id, cut(&format!("Open a ticket on {service}"), 45)).components(vec![
            row(input(
                InputTextStyle::Paragraph,
                "What is wrong?",
                "description",
                description_max,
            )
            .placeholder("Symptoms, since when, what was tried")),
            row(input(
                InputTextStyle::Short,
                "Your reference (optional)",
                "reference",
                REFERENCE_MAX,
            )
            .required(false)),
        ]),
    )
}

/// Every field of a new ticket, pre-filled where something is known (the context-menu command
/// fills the description from a message and links back to it as the reference).
pub fn create_full(
    service: Option<&str>,
    technical: Option<&str>,
    description: Option<&str>,
    reference: Option<&str>,
    description_max: usize,
) -> CreateModal {
    CreateModal::new(CustomId::CreateFullForm.encode(), "Open an Orange ticket").components(vec![
        row(prefilled(
            input(InputTextStyle::Short, "Service number", "service", 32).placeholder("LD000000"),
            service,
            32,
        )),
        row(prefilled(
            input(InputTextStyle::Short, "Technical number", "technical", 64)
                .placeholder("LD000001"),
            technical,
            64,
        )),
        row(prefilled(
            input(
                InputTextStyle::Paragraph,
                "What is wrong?",
                "description",
                description_max,
            ),
            description,
            description_max,
        )),
        row(prefilled(
            input(
                InputTextStyle::Short,
                "Your reference (optional)",
                "reference",
                REFERENCE_MAX,
            )
            .required(false),
            reference,
            REFERENCE_MAX,
        )),
    ])
}

/// A comment on `ticket` (from the card's "Add comment" button).
pub fn comment(ticket: &TicketId, max: usize) -> Option<CreateModal> {
    let id = CustomId::CommentForm(ticket.clone()).checked()?;
    Some(
        CreateModal::new(id, cut(&format!("Comment on ticket {ticket}"), 45)).components(vec![
            row(input(InputTextStyle::Paragraph, "Comment", "text", max)),
        ]),
    )
}

/// The user's contact, pre-filled with the current one.
pub fn profile(current: Option<&Contact>) -> CreateModal {
    let value = |f: fn(&Contact) -> Option<&str>| current.and_then(f);
    CreateModal::new(CustomId::ProfileForm.encode(), "Your contact for Orange").components(vec![
        row(prefilled(
            input(InputTextStyle::Short, "First name", "first_name", 100),
            value(|c| Some(c.first_name.as_str())),
            100,
        )),
        row(prefilled(
            input(InputTextStyle::Short, "Last name", "last_name", 100),
            value(|c| Some(c.last_name.as_str())),
            100,
        )),
        row(prefilled(
            input(InputTextStyle::Short, "Email", "email", 254).required(false),
            value(|c| c.email.as_deref()),
            254,
        )),
        row(prefilled(
            input(InputTextStyle::Short, "Phone", "phone", 32).required(false),
            value(|c| c.phone.as_deref()),
            32,
        )),
    ])
}

/// The submitted value of input `id` (empty when absent).
pub fn value(submit: &serenity::ModalInteraction, id: &str) -> String {
    submit
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .find_map(|c| match c {
            ActionRowComponent::InputText(t) if t.custom_id == id => t.value.clone(),
            _ => None,
        })
        .unwrap_or_default()
}

/// Like [`value`], `None` when empty.
pub fn optional(submit: &serenity::ModalInteraction, id: &str) -> Option<String> {
    Some(value(submit, id)).filter(|v| !v.trim().is_empty())
}
