//! Wire models (DTOs): Orange's JSON exactly as `getting-started.txt` shows it, quirks included.
//!
//! These types carry the serde attributes; [`super::convert`] turns them into domain types.
//! Unknown fields on tickets are kept in `extra` so nothing Orange adds is silently dropped.
//! On responses only a ticket's id and status are strict (`quirks::null_string`); every other field
//! reads a value in an unexpected shape as absent and logs it (`quirks::text`, `list`, `lenient`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::quirks;

/// `@type` of the related party on create and in tickets.
pub const PARTY_TYPE: &str = "RelatedPartyTtContactMedium";
/// `@type` of a note inside a ticket.
pub const NOTE_TYPE: &str = "NoteTtType";

/// One entry of the service-numbers list: a product and its service numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEntryDto {
    #[serde(default, deserialize_with = "quirks::list")]
    pub product_characteristic: Vec<ProductCharacteristicDto>,
    #[serde(default, deserialize_with = "quirks::list")]
    pub orange_service_numbers: Vec<OrangeServiceNumberDto>,
}

/// `{"name": "productType" | "productTypeLabel", "value": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCharacteristicDto {
    pub name: String,
    #[serde(default, deserialize_with = "quirks::text")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrangeServiceNumberDto {
    pub orange_service_number: String,
    #[serde(default, deserialize_with = "quirks::list")]
    pub technical_numbers: Vec<String>,
}

/// `{"id": ..., "role": ...}`. Roles differ by direction: `orangeServiceNumber`/`technicalNumber`
/// on requests, `product`/`additionalTechnicalInformation` on responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedEntityDto {
    #[serde(default, deserialize_with = "quirks::text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub role: Option<String>,
}

/// `{"id": "email@email.com", "contactType": "email"}`; `id` is often `null` in responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactMediumDto {
    // Why: phone numbers have been seen as JSON numbers; `text` keeps their digits.
    #[serde(default, deserialize_with = "quirks::text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub contact_type: Option<String>,
}

/// `{"id": "", "name": "firstName", "value": "John"}` inside a related party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyCharacteristicDto {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedPartyDto {
    #[serde(default, deserialize_with = "quirks::list")]
    pub contact_medium: Vec<ContactMediumDto>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub role: Option<String>,
    #[serde(
        default,
        deserialize_with = "quirks::list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub characteristic: Vec<PartyCharacteristicDto>,
    // Why both spellings: `@type` is documented on parties, `@Type` on the ticket; accept either.
    #[serde(
        rename = "@type",
        alias = "@Type",
        default,
        deserialize_with = "quirks::text"
    )]
    pub kind: Option<String>,
}

/// A note. On requests it has no `@type`; inside a ticket it carries `"@type": "NoteTtType"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteDto {
    #[serde(with = "quirks::date")]
    pub date: DateTime<Utc>,
    // Why: the type has been seen `null`; such a note is still a note (read as an empty type).
    #[serde(rename = "type", default, deserialize_with = "quirks::text_or_empty")]
    pub kind: String,
    #[serde(default, deserialize_with = "quirks::text_or_empty")]
    pub text: String,
    #[serde(
        rename = "@type",
        alias = "@Type",
        default,
        deserialize_with = "quirks::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub at_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeDto {
    #[serde(
        default,
        deserialize_with = "quirks::date_or_sentinel",
        serialize_with = "quirks::ser_date_or_sentinel"
    )]
    pub change_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub change_reason: Option<String>,
}

/// Body of "create a trouble ticket".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTicketRequest {
    /// Always empty: v1.0 does not accept attachments.
    #[serde(default)]
    pub attachment: Vec<Value>,
    #[serde(default)]
    pub related_party: Vec<RelatedPartyDto>,
    // Why: on requests the key is `relatedEntity` (camel case) and an array; responses spell it
    // `relatedentity`. Accept both so the sandbox reads what a careless client might send.
    #[serde(alias = "relatedentity", default)]
    pub related_entity: Vec<RelatedEntityDto>,
    #[serde(default, deserialize_with = "quirks::null_string")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "quirks::null_string")]
    pub description: Option<String>,
}

/// `{"ticketId": {"id": "1234567890"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTicketResponse {
    pub ticket_id: TicketIdDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketIdDto {
    // Why: ids are numeric strings, which some gateways send as numbers.
    #[serde(deserialize_with = "quirks::null_string")]
    pub id: Option<String>,
}

/// Body of "update a ticket with a new comment". `relatedEntity` is an object here, not an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddCommentRequest {
    #[serde(default)]
    pub attachment: Vec<Value>,
    pub note: NoteDto,
    #[serde(alias = "relatedentity")]
    pub related_entity: RelatedEntityDto,
}

/// `{"ticket": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketEnvelope {
    pub ticket: TicketDto,
}

/// `{"search": {"tickets": [...]}}`. Reading a search page goes through
/// [`super::convert::parse_search_body`], which tolerates bad entries; this type is for writing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchEnvelope {
    pub search: SearchTicketsDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchTicketsDto {
    pub tickets: Vec<TicketDto>,
}

/// `{"name": "{}"}` or `{"name": null}`: the ticket's (unsupported) attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentDto {
    #[serde(default, deserialize_with = "quirks::text")]
    pub name: Option<String>,
}

/// A ticket as returned by get and (without notes) by search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketDto {
    #[serde(default, deserialize_with = "quirks::null_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub description: Option<String>,
    /// Absent in search results; present (maybe empty) in get.
    #[serde(
        default,
        deserialize_with = "quirks::opt_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub note: Option<Vec<NoteDto>>,
    #[serde(
        default,
        deserialize_with = "quirks::opt_date",
        serialize_with = "quirks::ser_opt_date"
    )]
    pub creation_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "quirks::null_string")]
    pub status: Option<String>,
    // Why: responses spell it `relatedentity` (lower case), requests `relatedEntity`.
    #[serde(
        rename = "relatedentity",
        alias = "relatedEntity",
        default,
        deserialize_with = "quirks::list"
    )]
    pub related_entity: Vec<RelatedEntityDto>,
    #[serde(
        default,
        deserialize_with = "quirks::date_or_sentinel",
        serialize_with = "quirks::ser_date_or_sentinel"
    )]
    pub resolution_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "quirks::lenient")]
    pub status_change: Option<StatusChangeDto>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "quirks::list")]
    pub related_party: Vec<RelatedPartyDto>,
    #[serde(default, deserialize_with = "quirks::object_or_list")]
    pub attachment: Option<AttachmentDto>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub priority: Option<String>,
    // Why: a number carried as a string (`"0"`); `text` keeps the text of either form.
    #[serde(default, deserialize_with = "quirks::text")]
    pub escalation_level: Option<String>,
    // Why: the ticket's type key is `@Type` (capital T), unlike `@type` everywhere else.
    #[serde(
        rename = "@Type",
        alias = "@type",
        default,
        deserialize_with = "quirks::text"
    )]
    pub at_type: Option<String>,
    /// Anything this version does not know about.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The API status document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiStatusDto {
    #[serde(default, deserialize_with = "quirks::text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "quirks::lenient")]
    pub components: Option<ComponentStatusDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentStatusDto {
    #[serde(default, deserialize_with = "quirks::text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub version: Option<String>,
}

/// Orange's error body: `{"code", "message", "description", "infoURL"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBodyDto {
    #[serde(deserialize_with = "quirks::number_or_string")]
    pub code: i64,
    #[serde(default, deserialize_with = "quirks::text")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "quirks::text")]
    pub description: Option<String>,
    #[serde(
        rename = "infoURL",
        alias = "infoUrl",
        default,
        deserialize_with = "quirks::text"
    )]
    pub info_url: Option<String>,
}

/// Some gateways wrap the error body as `{"error": {...}}`; both shapes are read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorEnvelope {
    Wrapped { error: ErrorBodyDto },
    Plain(ErrorBodyDto),
}

impl ErrorEnvelope {
    pub fn into_body(self) -> ErrorBodyDto {
        match self {
            ErrorEnvelope::Wrapped { error } | ErrorEnvelope::Plain(error) => error,
        }
    }
}

/// The OAuth token response. The access token is a secret from the moment it is read.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default, deserialize_with = "quirks::text")]
    pub token_type: Option<String>,
    pub access_token: secrecy::SecretString,
    // Why: Orange's gateway sends `expires_in` as a number or as a numeric string, and some
    // answers leave it out; 0 is "not said" and the token cache uses its default lifetime.
    #[serde(default, deserialize_with = "quirks::number_or_default")]
    pub expires_in: u64,
}
