//! The account's service numbers, cached with a TTL so autocomplete answers from memory, well
//! within Discord's 3-second window. One refresh at a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::Service;
use crate::orange::{Deadline, OrangeClient, OrangeError};

/// When the list was fetched, and the list.
type Entry = (Instant, Arc<Vec<Service>>);

#[derive(Debug, Clone)]
pub struct ServiceCache {
    ttl: Duration,
    current: Arc<Mutex<Option<Entry>>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
}

impl ServiceCache {
    pub fn new(ttl: Duration) -> Self {
        ServiceCache {
            ttl,
            current: Arc::new(Mutex::new(None)),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The list if it is younger than the TTL.
    pub fn fresh(&self) -> Option<Arc<Vec<Service>>> {
        let guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, s)| s.clone())
    }

    /// Whatever is cached, however old: for autocomplete, which must not wait on Orange.
    pub fn cached(&self) -> Option<Arc<Vec<Service>>> {
        let guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|(_, s)| s.clone())
    }

    /// The services, from the cache when fresh, else from Orange. If Orange fails and a stale
    /// list exists, the stale list is used (logged): a service list rarely changes.
    pub async fn get(
        &self,
        orange: &OrangeClient,
        deadline: Deadline,
    ) -> Result<Arc<Vec<Service>>, OrangeError> {
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let _one_at_a_time = self.refresh.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        match orange.service_numbers(deadline).await {
            Ok(list) => {
                let list = Arc::new(list);
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), list.clone()));
                Ok(list)
            }
            Err(e) => match self.cached() {
                Some(stale) => {
                    tracing::warn!(error = %e, "service list refresh failed; using the cached list");
                    Ok(stale)
                }
                None => Err(e),
            },
        }
    }
}
