//! Domain -> Orange's responses: what Orange sends, quirks included. Only the sandbox writes
//! responses; the client reads them (`orange::convert`), and the round trip is tested in `seed`.

use std::collections::BTreeMap;

use crate::domain::{Note, Party, Service, Ticket};
use crate::orange::wire::{
    AttachmentDto, ContactMediumDto, NOTE_TYPE, NoteDto, OrangeServiceNumberDto, PARTY_TYPE,
    ProductCharacteristicDto, RelatedEntityDto, RelatedPartyDto, ServiceEntryDto, StatusChangeDto,
    TicketDto,
};

/// `@Type` of a ticket in Orange's responses.
const TICKET_TYPE: &str = "TtEscalationLevel";

/// The contact slots Orange lists on every party of a ticket, filled or not.
const CONTACT_SLOTS: [&str; 6] = [
    "universalPhone",
    "usPhone",
    "frPhone",
    "directPhone",
    "email",
    "phone",
];

/// A ticket as `GET /troubleTicket/{id}` answers it, notes included.
pub(crate) fn ticket_to_wire(t: &Ticket) -> TicketDto {
    let entity = |id: &str, role: &str| RelatedEntityDto {
        id: Some(id.to_owned()),
        role: Some(role.to_owned()),
    };
    let mut related_entity = Vec::new();
    if let Some(service) = &t.service {
        related_entity.push(entity(service.as_str(), "product"));
    }
    if let Some(technical) = &t.technical {
        related_entity.push(entity(technical.as_str(), "additionalTechnicalInformation"));
    }
    TicketDto {
        id: Some(t.id.to_string()),
        // Why: Orange writes a missing description as the *string* "null".
        description: Some(t.description.clone().unwrap_or_else(|| "null".into())),
        note: t
            .notes
            .as_ref()
            .map(|notes| notes.iter().map(note_to_wire).collect()),
        creation_date: t.created,
        status: Some(t.status.as_wire().to_owned()),
        related_entity,
        resolution_date: t.resolution_date,
        status_change: Some(StatusChangeDto {
            change_date: t.status_change.date,
            change_reason: t.status_change.reason.clone(),
        }),
        external_id: t.external_id.clone(),
        related_party: t.parties.iter().map(party_to_wire).collect(),
        // Why: "no attachment" is spelled `{"name": "{}"}`.
        attachment: Some(AttachmentDto {
            name: Some(t.attachment.clone().unwrap_or_else(|| "{}".into())),
        }),
        priority: t.priority.clone(),
        escalation_level: Some(t.escalation_level.clone().unwrap_or_else(|| "0".into())),
        at_type: Some(TICKET_TYPE.into()),
        extra: BTreeMap::new(),
    }
}

/// A note as it appears inside a ticket response.
fn note_to_wire(n: &Note) -> NoteDto {
    NoteDto {
        date: n.date,
        kind: n.kind.as_wire().to_owned(),
        text: n.text.clone(),
        at_type: Some(NOTE_TYPE.into()),
    }
}

/// A party as a ticket response lists it: every contact slot, `null` where there is no value.
fn party_to_wire(p: &Party) -> RelatedPartyDto {
    let slot = |kind: &str| ContactMediumDto {
        id: p
            .media
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.value.clone()),
        contact_type: Some(kind.to_owned()),
    };
    let mut contact_medium: Vec<ContactMediumDto> = CONTACT_SLOTS.iter().map(|k| slot(k)).collect();
    contact_medium.extend(
        p.media
            .iter()
            .filter(|m| !CONTACT_SLOTS.contains(&m.kind.as_str()))
            .map(|m| ContactMediumDto {
                id: Some(m.value.clone()),
                contact_type: Some(m.kind.clone()),
            }),
    );
    RelatedPartyDto {
        contact_medium,
        name: Some(p.name.clone()),
        role: Some(p.role.clone()),
        characteristic: Vec::new(),
        kind: Some(PARTY_TYPE.into()),
    }
}

/// The service-numbers list: services grouped by product, in order of first appearance.
pub(crate) fn services_to_wire(services: &[Service]) -> Vec<ServiceEntryDto> {
    let mut entries: Vec<(Option<&str>, Option<&str>, ServiceEntryDto)> = Vec::new();
    for s in services {
        let key = (s.product_type.as_deref(), s.label.as_deref());
        let number = OrangeServiceNumberDto {
            orange_service_number: s.number.to_string(),
            technical_numbers: s.technical_numbers.iter().map(|t| t.to_string()).collect(),
        };
        match entries.iter_mut().find(|(t, l, _)| (*t, *l) == key) {
            Some((_, _, entry)) => entry.orange_service_numbers.push(number),
            None => {
                let characteristic = |name: &str, value: Option<&str>| ProductCharacteristicDto {
                    name: name.to_owned(),
                    value: value.map(str::to_owned),
                };
                let entry = ServiceEntryDto {
                    product_characteristic: vec![
                        characteristic("productType", key.0),
                        characteristic("productTypeLabel", key.1),
                    ],
                    orange_service_numbers: vec![number],
                };
                entries.push((key.0, key.1, entry));
            }
        }
    }
    entries.into_iter().map(|(_, _, e)| e).collect()
}
