//! Saved views: the queries behind paging buttons, so a button still works after a restart; the
//! newest [`VIEWS_KEPT`] are kept.

use super::codec::{decode, encode};
use super::{Store, StoreError};

/// How many saved views (paging buttons' queries) are kept.
pub const VIEWS_KEPT: usize = 1000;

impl Store {
    /// Saves a view (a search, say) so a button can come back to it, after a restart too;
    /// returns its number. The oldest views beyond [`VIEWS_KEPT`] are dropped: their buttons then
    /// say the search is gone.
    ///
    /// Not flushed: a search changes nothing, so it costs no fsync. sled writes the view within
    /// half a second; a crash before that only makes its buttons say the search is gone.
    pub async fn save_view<T: serde::Serialize>(&self, view: &T) -> Result<u64, StoreError> {
        let view = encode(view)?;
        self.blocking(move |store| {
            let seq = store.db.generate_id()?;
            store.views.insert(seq.to_be_bytes(), view)?;
            while store.views.len() > VIEWS_KEPT {
                if store.views.pop_min()?.is_none() {
                    break;
                }
            }
            Ok(seq)
        })
        .await
    }

    /// A saved view; `None` if there is none with that number.
    pub fn view<T: serde::de::DeserializeOwned>(
        &self,
        number: u64,
    ) -> Result<Option<T>, StoreError> {
        self.views
            .get(number.to_be_bytes())?
            .map(|v| decode(&v, "view"))
            .transpose()
    }
    /// Changes a saved view atomically: `change` gets the view as stored and returns its
    /// replacement, or `None` to leave it as it is. Returns the view as it was and whether it was
    /// replaced; `None` if there is no view with that number. Of two callers racing to change the
    /// same view, only one sees it unchanged (a confirmation clicked twice is acted on once).
    ///
    /// Not flushed: a caller that must survive a crash flushes.
    pub async fn change_view<T, F>(
        &self,
        number: u64,
        change: F,
    ) -> Result<Option<(T, bool)>, StoreError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        F: Fn(&T) -> Option<T> + Send + 'static,
    {
        self.blocking(move |store| {
            let key = number.to_be_bytes();
            loop {
                let Some(raw) = store.views.get(key)? else {
                    return Ok(None);
                };
                let current: T = decode(&raw, "view")?;
                let Some(next) = change(&current) else {
                    return Ok(Some((current, false)));
                };
                let swapped = store
                    .views
                    .compare_and_swap(key, Some(raw), Some(encode(&next)?))?;
                if swapped.is_ok() {
                    return Ok(Some((current, true)));
                }
                // Changed meanwhile: decide again on what is there now.
            }
        })
        .await
    }
}
