//! Autocomplete suggestions, answered from memory and the store only: Discord gives 3 s and no
//! way to defer, so nothing here waits on Orange.

use super::{Core, CoreError, input};
use crate::domain::Service;

/// Discord shows at most 25 choices, each name and value at most 100 characters.
pub const MAX_SUGGESTIONS: usize = 25;
const MAX_LEN: usize = 100;

/// One choice: what the user sees, and what fills the option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub label: String,
    pub value: String,
}

fn matches(haystack: &str, partial: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(&partial.trim().to_lowercase())
}

/// At most Discord's 100 characters (a choice's name is a label, not prose: no ellipsis).
fn cut(s: &str) -> String {
    s.chars().take(MAX_LEN).collect()
}

impl Core {
    /// Service numbers whose number or label contains `partial`, from the cached list.
    pub fn suggest_services(&self, partial: &str) -> Vec<Suggestion> {
        let Some(list) = self.services_cached() else {
            return Vec::new();
        };
        list.iter()
            .filter(|s| {
                matches(s.number.as_str(), partial)
                    || s.label.as_deref().is_some_and(|l| matches(l, partial))
            })
            .take(MAX_SUGGESTIONS)
            .map(|s| Suggestion {
                label: cut(&service_label(s)),
                value: s.number.to_string(),
            })
            .collect()
    }

    /// Technical numbers containing `partial`, under `service` when it is a known service.
    pub fn suggest_technical(&self, service: Option<&str>, partial: &str) -> Vec<Suggestion> {
        let Some(list) = self.services_cached() else {
            return Vec::new();
        };
        let chosen = service.and_then(|s| input::service_number(s).ok());
        list.iter()
            .filter(|s| chosen.as_ref().is_none_or(|c| *c == s.number))
            .flat_map(|s| s.technical_numbers.iter().map(move |t| (s, t)))
            .filter(|(_, t)| matches(t.as_str(), partial))
            .take(MAX_SUGGESTIONS)
            .map(|(s, t)| Suggestion {
                label: cut(&format!("{t} (service {})", s.number)),
                value: t.to_string(),
            })
            .collect()
    }

    /// Ticket ids linked here or seen lately that contain `partial`.
    pub async fn suggest_tickets(&self, partial: &str) -> Result<Vec<Suggestion>, CoreError> {
        Ok(self
            .known_tickets()
            .await?
            .into_iter()
            .filter(|id| matches(id.as_str(), partial.trim_start_matches('#')))
            .take(MAX_SUGGESTIONS)
            .map(|id| Suggestion {
                label: id.to_string(),
                value: id.to_string(),
            })
            .collect())
    }
}

fn service_label(s: &Service) -> String {
    match (&s.label, &s.product_type) {
        (Some(l), _) => format!("{} — {l}", s.number),
        (None, Some(p)) => format!("{} — {p}", s.number),
        _ => s.number.to_string(),
    }
}
