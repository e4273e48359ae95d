//! The use cases, independent of any transport: Discord, the console and the tests all call these.
//! Each takes plain domain values and returns domain values; rendering happens elsewhere.

mod error;

use std::sync::Arc;

pub use error::CoreError;

use crate::config::Settings;
use crate::domain::ApiStatus;
use crate::orange::OrangeClient;

/// The use cases and the handles they need. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Core {
    orange: OrangeClient,
    settings: Arc<Settings>,
}

impl Core {
    pub fn new(orange: OrangeClient, settings: Arc<Settings>) -> Self {
        Core { orange, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The Orange API's health.
    #[tracing::instrument(skip_all)]
    pub async fn api_status(&self) -> Result<ApiStatus, CoreError> {
        Ok(self.orange.api_status(self.orange.interactive()).await?)
    }
}
