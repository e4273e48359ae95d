//! The shared harness: a sandbox on port 0, an HTTP client with a token, and request helpers.

use std::net::SocketAddr;

use orange_ticket_bot::config::Settings;
use orange_ticket_bot::domain::{Ticket, TicketId};
use orange_ticket_bot::orange::convert::{
    parse_created_body, parse_search_body, parse_services_body,
};
use orange_ticket_bot::orange::wire::{ErrorBodyDto, ErrorEnvelope};
use orange_ticket_bot::sandbox::{self, RunningSandbox, SandboxControl, SandboxOptions};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

pub fn options() -> SandboxOptions {
    SandboxOptions::from_settings(&Settings::defaults().expect("the defaults load"))
}

/// A running sandbox, an HTTP client and a valid token.
pub struct Env {
    pub sandbox: RunningSandbox,
    pub http: Client,
    pub token: String,
}

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Orange's error body, plain or wrapped; asserts the documented keys are all there.
    pub fn error(&self) -> ErrorBodyDto {
        let raw = self.json();
        let inner = raw.get("error").unwrap_or(&raw);
        for key in ["code", "message", "description", "infoURL"] {
            assert!(inner.get(key).is_some(), "`{key}` missing in {}", self.body);
        }
        serde_json::from_str::<ErrorEnvelope>(&self.body)
            .expect("an Orange error body")
            .into_body()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn http() -> Client {
    Client::builder().no_proxy().build().expect("a client")
}

impl Env {
    pub async fn start() -> Self {
        Self::with(options()).await
    }

    pub async fn with(opts: SandboxOptions) -> Self {
        let sandbox = sandbox::start(opts, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the sandbox starts");
        let http = http();
        let mut env = Self {
            sandbox,
            http,
            token: String::new(),
        };
        env.token = env.new_token().await;
        env
    }

    pub fn control(&self) -> SandboxControl {
        self.sandbox.control()
    }

    pub async fn token_request(&self, id: &str, secret: &str, grant: &str) -> Answer {
        let res = self
            .http
            .post(self.sandbox.token_url())
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", grant)])
            .send()
            .await
            .expect("token request");
        read(res).await
    }

    pub async fn new_token(&self) -> String {
        let a = self
            .token_request("sandbox-client", "sandbox-secret", "client_credentials")
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.sandbox.addr())
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_as(Some(&self.token), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn search(&self, query: &str) -> Answer {
        self.get(&format!("/troubleTicket?ctxid=TCKTNG&sctxid=wse&{query}"))
            .await
    }

    /// Every ticket, through search (one page of 100).
    pub async fn all_tickets(&self) -> Vec<Ticket> {
        let a = self.search("pageSize=100").await;
        assert_eq!(a.status, 200, "{}", a.body);
        let page = parse_search_body(&a.body).expect("a search body");
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        page.tickets
    }

    pub async fn first_service(&self) -> (String, String) {
        let a = self.get("/orangeServiceNumbers").await;
        let services = parse_services_body(&a.body).expect("services");
        (
            services[0].number.to_string(),
            services[0].technical_numbers[0].to_string(),
        )
    }

    pub async fn create(&self, body: Value) -> Answer {
        self.call(Method::POST, "/troubleTicket", Some(body)).await
    }

    pub async fn create_ok(&self) -> TicketId {
        let (service, technical) = self.first_service().await;
        let a = self.create(create_body(&service, &technical)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        parse_created_body(&a.body).expect("a created body")
    }

    pub async fn control_post(&self, path: &str, body: Value) -> Answer {
        let res = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control request");
        read(res).await
    }
}

pub async fn read(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.expect("a body");
    Answer {
        status,
        headers,
        body,
    }
}

/// The create body of Orange's page, with the given numbers.
pub fn create_body(service: &str, technical: &str) -> Value {
    json!({
        "attachment": [],
        "relatedParty": [{
            "contactMedium": [
                {"id": "email@email.com", "contactType": "email"},
                {"id": "+331234567890", "contactType": "phone"}
            ],
            "name": "John Doe",
            "role": "depositor",
            "characteristic": [
                {"id": "", "name": "firstName", "value": "John"},
                {"id": "", "name": "lastName", "value": "Doe"}
            ],
            "@type": "RelatedPartyTtContactMedium"
        }],
        "relatedEntity": [
            {"id": service, "role": "orangeServiceNumber"},
            {"id": technical, "role": "technicalNumber"}
        ],
        "externalId": "Customer Reference",
        "description": "Please describe the issue here"
    })
}

pub fn comment_body(service: &str, kind: &str, text: &str) -> Value {
    json!({
        "attachment": [],
        "note": {"date": "2023-08-28T14:40:38.041Z", "type": kind, "text": text},
        "relatedEntity": {"id": service, "role": "orangeServiceNumber"}
    })
}
