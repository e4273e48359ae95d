//! An Orange sandbox served by the test process on a runtime of its own, for tests that drive the
//! bot's binary synchronously (the CLI, the console on a full disk). Shared by file (`#[path]`).

use orange_ticket_bot::config::Settings;
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxControl, SandboxOptions};

pub struct StandaloneOrange {
    runtime: tokio::runtime::Runtime,
    running: Option<RunningSandbox>,
}

impl StandaloneOrange {
    /// A sandbox on loopback accepting these client credentials.
    pub fn start(client_id: &str, client_secret: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let settings = Settings::defaults().expect("defaults");
        let options = SandboxOptions {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            ..SandboxOptions::from_settings(&settings)
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let running = runtime
            .block_on(sandbox::start(options, addr))
            .expect("the sandbox starts");
        StandaloneOrange {
            runtime,
            running: Some(running),
        }
    }

    /// The variables that point the bot at this sandbox with these credentials.
    pub fn env(&self, client_id: &str, client_secret: &str) -> Vec<(String, String)> {
        let running = self.running.as_ref().expect("running");
        [
            ("ORANGE_CLIENT_ID", client_id.to_owned()),
            ("ORANGE_CLIENT_SECRET", client_secret.to_owned()),
            ("OTB__ORANGE__BASE_URL", running.base_url().to_string()),
            ("OTB__ORANGE__TOKEN_URL", running.token_url().to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec()
    }

    #[allow(dead_code)] // not every target that includes this file changes tickets
    pub fn control(&self) -> SandboxControl {
        self.running.as_ref().expect("running").control()
    }
}

impl Drop for StandaloneOrange {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
    }
}
