//! The Orange sandbox over real loopback HTTP: auth, every route and its validation, search
//! filters/sorting/paging, the lifecycle, fault injection, counters and determinism.
//!
//! Each test starts its own sandbox on port 0, so they run in parallel.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use orange_ticket_bot::config::Settings;
use orange_ticket_bot::domain::{NoteKind, Status, Ticket, TicketId};
use orange_ticket_bot::orange::convert::{
    parse_created_body, parse_search_body, parse_services_body, parse_ticket_body,
};
use orange_ticket_bot::orange::quirks::format_date;
use orange_ticket_bot::orange::wire::{ErrorBodyDto, ErrorEnvelope};
use orange_ticket_bot::sandbox::{
    self, ErrorFault, FaultConfig, Operation, RunningSandbox, SandboxControl, SandboxOptions,
};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

fn options() -> SandboxOptions {
    SandboxOptions::from_settings(&Settings::defaults().expect("the defaults load"))
}

/// A running sandbox, an HTTP client and a valid token.
struct Env {
    sandbox: RunningSandbox,
    http: Client,
    token: String,
}

/// One HTTP answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Orange's error body, plain or wrapped; asserts the documented keys are all there.
    fn error(&self) -> ErrorBodyDto {
        let raw = self.json();
        let inner = raw.get("error").unwrap_or(&raw);
        for key in ["code", "message", "description", "infoURL"] {
            assert!(inner.get(key).is_some(), "`{key}` missing in {}", self.body);
        }
        serde_json::from_str::<ErrorEnvelope>(&self.body)
            .expect("an Orange error body")
            .into_body()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn http() -> Client {
    Client::builder().no_proxy().build().expect("a client")
}

impl Env {
    async fn start() -> Self {
        Self::with(options()).await
    }

    async fn with(opts: SandboxOptions) -> Self {
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

    fn control(&self) -> SandboxControl {
        self.sandbox.control()
    }

    async fn token_request(&self, id: &str, secret: &str, grant: &str) -> Answer {
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

    async fn new_token(&self) -> String {
        let a = self
            .token_request("sandbox-client", "sandbox-secret", "client_credentials")
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.sandbox.addr())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_as(Some(&self.token), method, path, body).await
    }

    async fn call_as(
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

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn search(&self, query: &str) -> Answer {
        self.get(&format!("/troubleTicket?ctxid=TCKTNG&sctxid=wse&{query}"))
            .await
    }

    /// Every ticket, through search (one page of 100).
    async fn all_tickets(&self) -> Vec<Ticket> {
        let a = self.search("pageSize=100").await;
        assert_eq!(a.status, 200, "{}", a.body);
        let page = parse_search_body(&a.body).expect("a search body");
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        page.tickets
    }

    async fn first_service(&self) -> (String, String) {
        let a = self.get("/orangeServiceNumbers").await;
        let services = parse_services_body(&a.body).expect("services");
        (
            services[0].number.to_string(),
            services[0].technical_numbers[0].to_string(),
        )
    }

    async fn create(&self, body: Value) -> Answer {
        self.call(Method::POST, "/troubleTicket", Some(body)).await
    }

    async fn create_ok(&self) -> TicketId {
        let (service, technical) = self.first_service().await;
        let a = self.create(create_body(&service, &technical)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        parse_created_body(&a.body).expect("a created body")
    }

    async fn control_post(&self, path: &str, body: Value) -> Answer {
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

async fn read(res: reqwest::Response) -> Answer {
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
fn create_body(service: &str, technical: &str) -> Value {
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

fn comment_body(service: &str, kind: &str, text: &str) -> Value {
    json!({
        "attachment": [],
        "note": {"date": "2023-08-28T14:40:38.041Z", "type": kind, "text": text},
        "relatedEntity": {"id": service, "role": "orangeServiceNumber"}
    })
}

// -------------------------------------------------------------------------------------------
// Auth

#[tokio::test]
async fn tokens_are_issued_for_good_credentials_with_expires_in_as_number_then_string() {
    let env = Env::start().await;
    let first = env
        .token_request("sandbox-client", "sandbox-secret", "client_credentials")
        .await;
    let second = env
        .token_request("sandbox-client", "sandbox-secret", "client_credentials")
        .await;
    // `Env::start` already took the first token, so these are the second and third.
    assert_eq!(first.json()["expires_in"], json!("3600"));
    assert_eq!(second.json()["expires_in"], json!(3600));
    assert_eq!(first.json()["token_type"], "Bearer");
    assert_ne!(first.json()["access_token"], second.json()["access_token"]);
    let token: orange_ticket_bot::orange::wire::TokenResponse =
        serde_json::from_str(&first.body).expect("the client's token DTO reads it");
    assert_eq!(token.expires_in, 3600);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_grant_types_are_refused() {
    let env = Env::start().await;
    let wrong = env
        .token_request("sandbox-client", "nope", "client_credentials")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error().code, 41);
    let missing = read(
        env.http
            .post(env.sandbox.token_url())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.error().code, 41);
    let grant = env
        .token_request("sandbox-client", "sandbox-secret", "password")
        .await;
    assert_eq!(grant.status, 400);
    assert_eq!(grant.error().code, 20);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn api_calls_need_a_known_bearer_token() {
    let env = Env::start().await;
    let none = env
        .call_as(None, Method::GET, "/orangeServiceNumbers", None)
        .await;
    assert_eq!(none.status, 401);
    let e = none.error();
    assert_eq!(
        (e.code, e.message.as_deref()),
        (40, Some("Missing credentials"))
    );
    let unknown = env
        .call_as(Some("forged"), Method::GET, "/orangeServiceNumbers", None)
        .await;
    assert_eq!(unknown.status, 401);
    let e = unknown.error();
    assert_eq!(
        (e.code, e.message.as_deref()),
        (41, Some("Invalid credentials"))
    );
    // Neither is the wrapped shape: only "expired" is.
    assert!(none.json().get("error").is_none() && unknown.json().get("error").is_none());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_by_call_count_by_fault_age_and_by_ttl_with_a_wrapped_42() {
    let env = Env::start().await;
    env.control().set_faults(FaultConfig {
        token_expires_after_calls: Some(2),
        ..FaultConfig::default()
    });
    assert_eq!(env.get("/status").await.status, 200);
    assert_eq!(env.get("/status").await.status, 200);
    let expired = env.get("/status").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.error().code, 42);
    assert_eq!(expired.json()["error"]["code"], 42, "42 comes wrapped");

    env.control().set_faults(FaultConfig {
        token_expires_after_secs: Some(30),
        ..FaultConfig::default()
    });
    let fresh = env.new_token().await;
    let status = |t: String| {
        let env = &env;
        async move {
            env.call_as(Some(&t), Method::GET, "/status", None)
                .await
                .status
        }
    };
    assert_eq!(status(fresh.clone()).await, 200);
    env.control().advance_clock(Duration::from_secs(31));
    assert_eq!(status(fresh).await, 401);

    env.control().set_faults(FaultConfig::default());
    let fresh = env.new_token().await;
    env.control().advance_clock(Duration::from_secs(3599));
    assert_eq!(status(fresh.clone()).await, 200);
    env.control().advance_clock(Duration::from_secs(2));
    assert_eq!(status(fresh).await, 401, "expired by the one-hour TTL");
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Routes: happy paths and payload shapes

#[tokio::test]
async fn service_numbers_come_in_orange_shape() {
    let env = Env::start().await;
    let a = env.get("/orangeServiceNumbers").await;
    assert_eq!(a.status, 200);
    let raw = a.json();
    let products = raw.as_array().expect("a list of products");
    assert!(products.len() >= 3);
    for p in products {
        let names: Vec<_> = p["productCharacteristic"]
            .as_array()
            .expect("characteristics")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(names, ["productType", "productTypeLabel"]);
    }
    let services = parse_services_body(&a.body).expect("the client reads it");
    assert!(services.len() >= 5);
    for s in &services {
        assert!((1..=3).contains(&s.technical_numbers.len()), "{s:?}");
        assert!(s.product_type.is_some() && s.label.is_some());
    }
    assert_eq!(
        a.header("X-OAPI-Request-Id")
            .map(|s| s.starts_with("sandbox-")),
        Some(true)
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_created_ticket_reads_back_with_every_documented_quirk() {
    let env = Env::start().await;
    let (service, technical) = env.first_service().await;
    let created = env.create(create_body(&service, &technical)).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = parse_created_body(&created.body).expect("the client reads it");
    assert_eq!(id.as_str().len(), 10);
    assert!(id.as_str().chars().all(|c| c.is_ascii_digit()));

    let a = env.get(&format!("/troubleTicket/{id}")).await;
    assert_eq!(a.status, 200);
    let raw = a.json();
    let t = &raw["ticket"];
    assert_eq!(t["@Type"], "TtEscalationLevel");
    assert_eq!(t["escalationLevel"], "0");
    assert_eq!(t["priority"], Value::Null);
    assert_eq!(t["attachment"], json!({"name": "{}"}));
    assert_eq!(t["resolutionDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(t["statusChange"]["changeDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["note"], json!([]));
    assert_eq!(
        t["relatedentity"],
        json!([
            {"id": service, "role": "product"},
            {"id": technical, "role": "additionalTechnicalInformation"}
        ])
    );
    assert!(t.get("relatedEntity").is_none());
    let depositor = &t["relatedParty"][1];
    assert_eq!(depositor["role"], "depositor");
    assert_eq!(depositor["@type"], "RelatedPartyTtContactMedium");
    assert_eq!(
        depositor["contactMedium"][0],
        json!({"id": null, "contactType": "universalPhone"})
    );
    let created_at = t["creationDate"].as_str().expect("a date");
    assert_eq!(
        created_at.len(),
        "2023-07-20T15:18:00.000Z".len(),
        "{created_at}"
    );

    let ticket = parse_ticket_body(&a.body).expect("the client reads it");
    assert_eq!(ticket.id, id);
    assert_eq!(ticket.status, Status::Submitted);
    assert_eq!(
        ticket.description.as_deref(),
        Some("Please describe the issue here")
    );
    assert_eq!(ticket.external_id.as_deref(), Some("Customer Reference"));
    assert_eq!(ticket.reported_by(), Some("John Doe"));
    assert_eq!(
        ticket.service.as_ref().map(|s| s.to_string()),
        Some(service)
    );
    assert_eq!(ticket.resolution_date, None);
    assert_eq!(ticket.notes, Some(vec![]));
    assert_eq!(env.control().ticket(&id), Some(ticket));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_comment_becomes_a_comments_note() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let (service, _) = env.first_service().await;
    let a = env
        .call(
            Method::PATCH,
            &format!("/troubleTicket/{id}"),
            Some(comment_body(&service, "Comments", "Still down")),
        )
        .await;
    assert_eq!((a.status, a.body.as_str()), (200, ""));
    let ticket =
        parse_ticket_body(&env.get(&format!("/troubleTicket/{id}")).await.body).expect("a ticket");
    let notes = ticket.notes.expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].kind.clone(), notes[0].text.as_str()),
        (NoteKind::Comments, "Still down")
    );
    let raw = env.get(&format!("/troubleTicket/{id}")).await.json();
    assert_eq!(raw["ticket"]["note"][0]["@type"], "NoteTtType");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_api_status_document_is_orange_s() {
    let env = Env::start().await;
    let a = env.get("/status").await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        json!({"status": "ok", "name": "API Ticketing WIN_BUS", "version": "",
               "components": {"status": "ok", "name": "WSE", "version": ""}})
    );
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Validation

async fn expect_error(a: Answer, status: u16, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    let e = a.error();
    assert!(e.description.is_some_and(|d| !d.is_empty()), "{what}");
}

#[tokio::test]
async fn create_refuses_bad_tickets_with_orange_errors() {
    let env = Env::start().await;
    let (service, technical) = env.first_service().await;
    let services = parse_services_body(&env.get("/orangeServiceNumbers").await.body).expect("ok");
    let other_technical = services[1].technical_numbers[0].to_string();

    let unknown = env.create(create_body("LD999999999", &technical)).await;
    expect_error(unknown, 422, "unknown service").await;
    let foreign = env.create(create_body(&service, &other_technical)).await;
    expect_error(foreign, 422, "technical number of another service").await;

    let mut body = create_body(&service, &technical);
    body["description"] = json!("   ");
    expect_error(env.create(body.clone()).await, 400, "blank description").await;
    body["description"] = json!("x".repeat(4001));
    expect_error(env.create(body.clone()).await, 400, "description too long").await;
    body["description"] = json!("x".repeat(4000));
    assert_eq!(
        env.create(body).await.status,
        200,
        "4000 characters are fine"
    );

    let mut body = create_body(&service, &technical);
    body["relatedParty"][0]["name"] = json!("");
    expect_error(env.create(body).await, 400, "no depositor name").await;
    let mut body = create_body(&service, &technical);
    body["relatedEntity"] = json!([{"id": service, "role": "orangeServiceNumber"}]);
    expect_error(env.create(body).await, 400, "no technical number").await;
    let mut body = create_body(&service, &technical);
    body.as_object_mut().map(|o| o.remove("externalId"));
    assert_eq!(env.create(body).await.status, 200, "externalId is optional");

    let garbage = read(
        env.http
            .post(env.url("/troubleTicket"))
            .bearer_auth(&env.token)
            .body("{not json")
            .send()
            .await
            .expect("request"),
    )
    .await;
    expect_error(garbage, 400, "broken JSON").await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn comment_refuses_bad_comments_with_orange_errors() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let (service, _) = env.first_service().await;
    let path = format!("/troubleTicket/{id}");
    let patch = |body: Value| env.call(Method::PATCH, &path, Some(body));
    expect_error(
        patch(comment_body("LD999999", "Comments", "x")).await,
        422,
        "wrong service",
    )
    .await;
    expect_error(
        patch(comment_body(&service, "Comments", " ")).await,
        400,
        "empty text",
    )
    .await;
    expect_error(
        patch(comment_body(&service, "", "x")).await,
        400,
        "empty type",
    )
    .await;
    let missing = env
        .call(
            Method::PATCH,
            "/troubleTicket/9999999999",
            Some(comment_body(&service, "Comments", "x")),
        )
        .await;
    expect_error(missing, 404, "unknown ticket").await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_paths_and_methods_get_orange_errors() {
    let env = Env::start().await;
    expect_error(
        env.get("/troubleTicket/9999999999").await,
        404,
        "unknown id",
    )
    .await;
    expect_error(env.get("/nowhere").await, 404, "unknown path").await;
    let delete = env
        .call(Method::DELETE, "/troubleTicket/9999999999", None)
        .await;
    assert_eq!(delete.error().code, 61);
    expect_error(delete, 405, "DELETE a ticket").await;
    expect_error(
        env.call(Method::POST, "/status", None).await,
        405,
        "POST status",
    )
    .await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_refuses_bad_parameters_with_orange_errors() {
    let env = Env::start().await;
    for (query, what) in [
        ("/troubleTicket?sctxid=wse", "no ctxid"),
        ("/troubleTicket?ctxid=OTHER&sctxid=wse", "bad ctxid"),
        ("/troubleTicket?ctxid=TCKTNG&sctxid=x", "bad sctxid"),
    ] {
        expect_error(env.get(query).await, 400, what).await;
    }
    for (query, what) in [
        ("creationDateFrom=2023-08-28T14:40:38Z", "no milliseconds"),
        ("creationDateFrom=2023-08-28", "date only"),
        (
            "creationDateTo=2023-08-28T14:40:38.041%2B01:00",
            "an offset",
        ),
        ("creationDateTo=2023-13-28T14:40:38.041Z", "month 13"),
        ("status=open", "unknown status"),
        ("status=ONGOING", "status in capitals"),
        ("sortColumn=PRIORITY", "unknown column"),
        ("sortAsc=yes", "sortAsc not a boolean"),
        ("pageSize=101", "page size over the limit"),
        ("pageSize=0", "page size zero"),
        ("page=0", "page zero"),
        ("page=x", "page not a number"),
    ] {
        expect_error(env.search(query).await, 400, what).await;
    }
    assert_eq!(env.search("pageSize=100&status=-1").await.status, 200);
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Search

#[tokio::test]
async fn search_pages_carry_both_count_headers_and_no_notes() {
    let env = Env::start().await;
    let total = env.control().ticket_count();
    assert!(total >= 12);
    let mut seen = BTreeSet::new();
    let pages = total.div_ceil(5);
    for page in 1..=pages + 1 {
        let a = env.search(&format!("pageSize=5&page={page}")).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("X_Page_Count"), Some(pages.to_string().as_str()));
        assert_eq!(a.header("X-Total-Count"), Some(total.to_string().as_str()));
        let raw = a.json();
        let tickets = raw["search"]["tickets"].as_array().expect("tickets");
        assert!(
            tickets.iter().all(|t| t.get("note").is_none()),
            "search has no notes"
        );
        let expected = if page <= pages {
            (total - (page - 1) * 5).min(5)
        } else {
            0
        };
        assert_eq!(tickets.len(), expected, "page {page}");
        for t in parse_search_body(&a.body).expect("a page").tickets {
            assert!(t.notes.is_none());
            assert!(seen.insert(t.id), "no ticket on two pages");
        }
    }
    assert_eq!(seen.len(), total);
    // Without paging parameters: the configured default page size.
    let a = env.search("").await;
    assert_eq!(a.header("X-Total-Count"), Some(total.to_string().as_str()));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_filters_by_every_criterion() {
    let env = Env::start().await;
    let all = env.all_tickets().await;
    let ids = |a: Answer| -> BTreeSet<String> {
        parse_search_body(&a.body)
            .expect("a page")
            .tickets
            .into_iter()
            .map(|t| t.id.to_string())
            .collect()
    };
    let expect = |pred: &dyn Fn(&Ticket) -> bool| -> BTreeSet<String> {
        all.iter()
            .filter(|t| pred(t))
            .map(|t| t.id.to_string())
            .collect()
    };

    for status in Status::KNOWN {
        let found = ids(env
            .search(&format!("pageSize=100&status={}", status.as_wire()))
            .await);
        assert!(!found.is_empty(), "the seed has a {status:?} ticket");
        assert_eq!(found, expect(&|t| t.status == status), "{status:?}");
    }
    assert_eq!(
        ids(env.search("pageSize=100&status=-1").await).len(),
        all.len()
    );

    let service = all[0].service.clone().expect("a service");
    assert_eq!(
        ids(env
            .search(&format!("pageSize=100&orangeServiceNumber={service}"))
            .await),
        expect(&|t| t.service.as_ref() == Some(&service))
    );

    let reporter = all[0].reported_by().expect("a reporter").to_owned();
    let found = ids(env
        .search(&format!(
            "pageSize=100&reportedBy={}",
            reporter.replace(' ', "%20")
        ))
        .await);
    assert_eq!(
        found,
        expect(&|t| t.reported_by() == Some(reporter.as_str()))
    );
    assert!(!found.is_empty());

    let id = all[3].id.to_string();
    assert_eq!(
        ids(env.search(&format!("id={id}")).await),
        BTreeSet::from([id])
    );
    assert!(ids(env.search("id=0000000001").await).is_empty());

    let mut dates: Vec<_> = all.iter().filter_map(|t| t.created).collect();
    dates.sort();
    let (from, to) = (dates[2], dates[dates.len() - 3]);
    let q = format!(
        "pageSize=100&creationDateFrom={}&creationDateTo={}",
        format_date(&from),
        format_date(&to)
    );
    let found = ids(env.search(&q).await);
    assert_eq!(
        found,
        expect(&|t| t.created.is_some_and(|c| c >= from && c <= to))
    );
    assert_eq!(found.len(), dates.len() - 4, "both bounds are inclusive");

    let combined = format!(
        "pageSize=100&orangeServiceNumber={service}&status={}",
        all[0].status.as_wire()
    );
    assert_eq!(
        ids(env.search(&combined).await),
        expect(&|t| t.service.as_ref() == Some(&service) && t.status == all[0].status)
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_sorts_on_every_column_both_ways() {
    let env = Env::start().await;
    let key = |column: &str, t: &Ticket| -> Option<String> {
        match column {
            "TICKET_NUMBER" => Some(t.id.to_string()),
            "ORANGE_SERVICE_NUMBER" => t.service.as_ref().map(|s| s.to_string()),
            "STATUS" => Some(t.status.as_wire().to_owned()),
            "START_DATE" => t.created.as_ref().map(format_date),
            "CUSTOMER_REF" => t.external_id.clone(),
            "REPORTED_BY" => t.reported_by().map(str::to_owned),
            other => panic!("{other}"),
        }
    };
    for column in [
        "TICKET_NUMBER",
        "ORANGE_SERVICE_NUMBER",
        "STATUS",
        "START_DATE",
        "CUSTOMER_REF",
        "REPORTED_BY",
    ] {
        for ascending in [true, false] {
            let a = env
                .search(&format!(
                    "pageSize=100&sortColumn={column}&sortAsc={ascending}"
                ))
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
            let keys: Vec<_> = parse_search_body(&a.body)
                .expect("a page")
                .tickets
                .iter()
                .map(|t| key(column, t))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if !ascending {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{column} ascending={ascending}");
            let distinct: BTreeSet<_> = keys.iter().collect();
            assert!(distinct.len() > 1, "{column} sorts something");
        }
    }
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Lifecycle and the control API

#[tokio::test]
async fn the_control_api_sets_statuses_and_adds_notes() {
    let env = Env::start().await;
    let id = env.create_ok().await;
    let a = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/status"),
            json!({"status": "restored", "reason": "Fibre spliced"}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let a = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/notes"),
            json!({"type": "Inward customer comments", "text": "Customer confirms"}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);

    let t = parse_ticket_body(&env.get(&format!("/troubleTicket/{id}")).await.body).expect("ok");
    assert_eq!(t.status, Status::Restored);
    assert_eq!(t.status_change.reason.as_deref(), Some("Fibre spliced"));
    assert!(t.status_change.date.is_some());
    assert!(
        t.resolution_date.is_some(),
        "restored sets the resolution date"
    );
    let notes = t.notes.expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NoteKind::InwardCustomerComments && n.text == "Customer confirms")
    );
    assert!(
        notes.iter().any(|n| n.text.contains("Fibre spliced")),
        "Orange notes the change"
    );

    let unknown = env
        .control_post(
            "/_sandbox/tickets/9999999999/status",
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let bad = env
        .control_post(
            &format!("/_sandbox/tickets/{id}/status"),
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn advancing_moves_every_open_ticket_along_the_lifecycle_and_never_a_final_one() {
    let env = Env::start().await;
    let c = env.control();
    let before: Vec<Ticket> = env
        .all_tickets()
        .await
        .iter()
        .filter_map(|t| c.ticket(&t.id))
        .collect();
    let allowed = |from: &Status, to: &Status| {
        use Status::*;
        matches!(
            (from, to),
            (Submitted, InQualification | Errored)
                | (InQualification, Ongoing | Errored)
                | (Ongoing, Frozen | Restored | Repaired)
                | (Frozen, Ongoing)
                | (Restored, Repaired | Closed | Ongoing)
                | (Repaired, Closed | Ongoing)
        )
    };
    let a = env
        .control_post("/_sandbox/advance", json!({"steps": 1}))
        .await;
    assert_eq!(a.status, 204);
    for old in &before {
        let new = c.ticket(&old.id).expect("still there");
        if old.status.is_final() {
            assert_eq!(&new, old, "a final ticket does not change at all");
        } else {
            assert!(
                allowed(&old.status, &new.status),
                "{:?} -> {:?}",
                old.status,
                new.status
            );
            assert!(new.status_change.date > old.status_change.date);
            let (was, now) = (
                old.notes.as_ref().map_or(0, Vec::len),
                new.notes.as_ref().map_or(0, Vec::len),
            );
            assert!(now > was, "a note comes with the change");
            if matches!(new.status, Status::Restored | Status::Repaired) {
                assert!(new.resolution_date.is_some());
            }
        }
    }
    c.advance(30);
    for t in env.all_tickets().await {
        assert!(
            t.status.is_final(),
            "30 more steps end every lifecycle: {:?}",
            t.status
        );
    }
    let finals = env.all_tickets().await;
    c.advance(3);
    assert_eq!(env.all_tickets().await, finals, "final tickets never move");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn auto_advance_follows_the_sandbox_clock() {
    let mut opts = options();
    opts.auto_advance = Some(Duration::from_secs(3600));
    let env = Env::with(opts).await;
    let id = env.create_ok().await;
    let c = env.control();
    assert_eq!(c.ticket(&id).map(|t| t.status), Some(Status::Submitted));
    let a = env
        .control_post("/_sandbox/advance", json!({"seconds": 3600}))
        .await;
    assert_eq!(a.status, 204);
    let status = c.ticket(&id).map(|t| t.status).expect("ticket");
    assert!(
        matches!(status, Status::InQualification | Status::Errored),
        "{status:?}"
    );
    let moved = c.ticket(&id);
    c.advance_clock(Duration::from_secs(1800));
    assert_eq!(c.ticket(&id), moved, "half a period is not a step");
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Faults and counters

#[tokio::test]
async fn error_rates_answer_the_configured_statuses_with_retry_after() {
    let mut opts = options();
    opts.faults.errors.insert(
        Operation::Search,
        ErrorFault {
            rate: 1.0,
            statuses: vec![503, 429],
            retry_after_secs: 7,
        },
    );
    let env = Env::with(opts).await;
    let mut seen = BTreeSet::new();
    for _ in 0..12 {
        let a = env.search("").await;
        let e = a.error();
        match a.status {
            503 => assert_eq!(e.code, 5),
            429 => assert_eq!(e.code, 53),
            other => panic!("unexpected {other}"),
        }
        assert_eq!(a.header("Retry-After"), Some("7"));
        seen.insert(a.status);
    }
    assert_eq!(seen, BTreeSet::from([429, 503]));
    assert_eq!(
        env.get("/status").await.status,
        200,
        "other operations are untouched"
    );
    let counters = env.control().counters();
    assert_eq!(counters.calls(Operation::Search), 12);
    assert_eq!(
        counters.responses(Operation::Search, 429) + counters.responses(Operation::Search, 503),
        12
    );
    assert_eq!(counters.responses(Operation::ApiStatus, 200), 1);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn one_shot_failures_fire_once_and_faults_can_be_set_over_http() {
    let env = Env::start().await;
    let put = read(
        env.http
            .put(env.url("/_sandbox/faults"))
            .json(&json!({"fail_next": [["get_ticket", 500], ["get_ticket", 401]]}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(put.status, 204, "{}", put.body);
    let path = format!("/troubleTicket/{}", env.all_tickets().await[0].id);
    assert_eq!(env.get(&path).await.status, 500);
    let expired = env.get(&path).await;
    assert_eq!((expired.status, expired.error().code), (401, 42));
    assert_eq!(env.get(&path).await.status, 200);
    let now: FaultConfig =
        serde_json::from_str(&env.get("/_sandbox/faults").await.body).expect("faults");
    assert!(now.fail_next.is_empty());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_are_200s_the_readers_refuse() {
    let env = Env::start().await;
    let id = env.all_tickets().await[0].id.clone();
    env.control().set_faults(FaultConfig {
        malformed_rate: [
            (Operation::GetTicket, 1.0),
            (Operation::ServiceNumbers, 1.0),
        ]
        .into(),
        ..FaultConfig::default()
    });
    for _ in 0..6 {
        let a = env.get(&format!("/troubleTicket/{id}")).await;
        assert_eq!(a.status, 200);
        assert!(parse_ticket_body(&a.body).is_err(), "{}", a.body);
        let a = env.get("/orangeServiceNumbers").await;
        assert_eq!(a.status, 200);
        assert!(parse_services_body(&a.body).is_err(), "{}", a.body);
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_response() {
    let mut opts = options();
    opts.faults.latency_ms = 150;
    let env = Env::with(opts).await;
    let started = Instant::now();
    assert_eq!(env.get("/status").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn counters_record_calls_statuses_and_spacing_and_reset_restores_the_seed() {
    let env = Env::start().await;
    let seeded = env.all_tickets().await;
    env.create_ok().await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    env.get("/troubleTicket/9999999999").await;
    let c = env.control();
    let counters = c.counters();
    assert_eq!(counters.calls(Operation::Token), 1);
    assert_eq!(counters.responses(Operation::CreateTicket, 200), 1);
    assert_eq!(counters.responses(Operation::GetTicket, 404), 1);
    let search = counters.get(Operation::Search);
    assert_eq!((search.calls, search.call_times_ms.len()), (1, 1));
    let create = counters.get(Operation::CreateTicket).call_times_ms[0];
    let get = counters.get(Operation::GetTicket).call_times_ms[0];
    assert!(
        get >= create + 30,
        "timestamps are monotonic ms: {create} then {get}"
    );
    let over_http: orange_ticket_bot::sandbox::Counters =
        serde_json::from_str(&env.get("/_sandbox/counters").await.body).expect("counters");
    assert_eq!(over_http, counters);

    assert_eq!(c.ticket_count(), seeded.len() + 1);
    assert_eq!(
        env.control_post("/_sandbox/reset", json!({})).await.status,
        204
    );
    assert_eq!(c.counters().total_calls(), 0);
    assert_eq!(c.ticket_count(), seeded.len());
    assert_eq!(
        env.all_tickets().await,
        seeded,
        "the token survives a reset"
    );
    env.sandbox.shutdown().await;
}

// -------------------------------------------------------------------------------------------
// Determinism and configuration

async fn run_script(seed: u64) -> (Vec<Ticket>, Vec<TicketId>, Vec<u16>, String) {
    let mut opts = options();
    opts.seed = seed;
    opts.faults.errors.insert(
        Operation::ApiStatus,
        ErrorFault {
            rate: 0.5,
            statuses: vec![500, 503, 429],
            retry_after_secs: 1,
        },
    );
    let env = Env::with(opts).await;
    let seeded = env.all_tickets().await;
    let created = vec![env.create_ok().await, env.create_ok().await];
    let mut statuses = Vec::new();
    for _ in 0..16 {
        statuses.push(env.get("/status").await.status);
    }
    env.control().advance(2);
    let after = env.get(&format!("/troubleTicket/{}", created[0])).await;
    let status_after = parse_ticket_body(&after.body).expect("ticket").status;
    env.sandbox.shutdown().await;
    (seeded, created, statuses, status_after.as_wire().to_owned())
}

#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let (a, b) = tokio::join!(run_script(7), run_script(7));
    assert_eq!(a, b);
    assert!(a.2.contains(&200) && a.2.iter().any(|s| *s != 200));
    let (other, _, _, _) = run_script(8).await;
    assert_ne!(a.0, other, "another seed, another account");
}

#[tokio::test]
async fn paths_and_the_token_path_follow_the_options() {
    let mut opts = options();
    opts.paths.search = "/v2/tickets".into();
    opts.paths.create_ticket = "/v2/tickets".into();
    opts.paths.get_ticket = "/v2/tickets/{id}".into();
    opts.paths.add_comment = "/v2/tickets/{id}/comments".into();
    opts.token_path = "/auth/token".into();
    let env = Env::with(opts).await;
    assert_eq!(env.sandbox.token_url().path(), "/auth/token");
    assert_eq!(
        env.sandbox.base_url().as_str(),
        format!("http://{}/", env.sandbox.addr())
    );
    let a = env.get("/v2/tickets?ctxid=TCKTNG&sctxid=wse").await;
    assert_eq!(a.status, 200);
    let (service, technical) = env.first_service().await;
    let created = env
        .call(
            Method::POST,
            "/v2/tickets",
            Some(create_body(&service, &technical)),
        )
        .await;
    let id = parse_created_body(&created.body).expect("created");
    let c = env
        .call(
            Method::PATCH,
            &format!("/v2/tickets/{id}/comments"),
            Some(comment_body(&service, "Comments", "hi")),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(env.get(&format!("/v2/tickets/{id}")).await.status, 200);
    assert_eq!(env.get("/troubleTicket/1").await.status, 404);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn unusable_paths_fail_the_start_instead_of_panicking() {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut opts = options();
    opts.paths.get_ticket = "/troubleTicket".into();
    let err = sandbox::start(opts, addr).await.expect_err("no {id}");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let mut opts = options();
    opts.paths.api_status = "/orangeServiceNumbers".into();
    let err = sandbox::start(opts, addr)
        .await
        .expect_err("two GETs on one path");
    assert!(
        err.to_string().contains("GET /orangeServiceNumbers"),
        "{err}"
    );
}

#[tokio::test]
async fn the_sandbox_mode_prints_one_line_serves_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().expect("a tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orange-ticket-bot"));
    cmd.args(["sandbox", "--port", "0", "--seed", "5"])
        .current_dir(dir.path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    /// Stops the child if an assertion fails before the test stops it.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut guard = KillOnDrop(cmd.spawn().expect("the binary starts"));
    let child = &mut guard.0;
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().expect("a line").expect("text");
    let rest = line
        .strip_prefix("Orange sandbox listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{line}"));
    let port: u16 = rest
        .split(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        line.ends_with(&format!(
            "(client_id sandbox-client, token URL http://127.0.0.1:{port}/oauth/v3/token)"
        )),
        "{line}"
    );
    let token = http()
        .post(format!("http://127.0.0.1:{port}/oauth/v3/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("the sandbox answers");
    assert_eq!(token.status(), 200);

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(lines.next().is_none(), "exactly one line on stdout");
}

// -------------------------------------------------------------------------------------------
// Persistence (the bot's embedded sandbox)

#[tokio::test]
async fn with_a_world_file_a_restart_keeps_tickets_notes_clock_and_ids() {
    let dir = tempfile::tempdir().expect("a tempdir");
    let file = dir.path().join("world.json");
    let persistent = || {
        let mut opts = options();
        opts.world_file = Some(file.clone());
        opts.auto_advance = Some(Duration::from_secs(60));
        opts
    };

    let env = Env::with(persistent()).await;
    assert!(file.is_file(), "the seeded world is written at start");
    let (service, _) = env.first_service().await;
    let first = env.create_ok().await;
    let c = env
        .call(
            Method::PATCH,
            &format!("/troubleTicket/{first}"),
            Some(comment_body(&service, "Comments", "still down")),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    env.control()
        .add_orange_note(&first, "Orange comments".into(), "on it".into())
        .expect("a note");
    // One lifecycle step, on the sandbox clock.
    env.control().advance_clock(Duration::from_secs(61));
    let before = env.control().ticket(&first).expect("the ticket");
    assert_ne!(before.status, Status::Submitted, "it moved");
    let everything = env.all_tickets().await;
    env.sandbox.shutdown().await;

    let env = Env::with(persistent()).await;
    assert_eq!(
        env.control().ticket(&first),
        Some(before.clone()),
        "the ticket, its notes and its status are back"
    );
    let notes: Vec<String> = before
        .notes
        .iter()
        .flatten()
        .map(|n| n.text.clone())
        .collect();
    assert!(notes.contains(&"still down".to_owned()), "{notes:?}");
    assert!(notes.contains(&"on it".to_owned()), "{notes:?}");
    assert_eq!(env.all_tickets().await, everything);
    let second = env.create_ok().await;
    assert!(second > first, "{second} after {first}");
    let created = env.control().ticket(&second).and_then(|t| t.created);
    assert!(
        created >= before.status_change.date,
        "the clock kept its offset: {created:?} vs {:?}",
        before.status_change.date
    );
    // A reset restores the seeded account, but not the ids given out.
    env.control().reset();
    let third = env.create_ok().await;
    assert!(third > second, "{third} after {second}");
    env.sandbox.shutdown().await;

    let env = Env::with(persistent()).await;
    assert!(env.control().ticket(&first).is_none(), "the reset was kept");
    assert!(env.control().ticket(&third).is_some());
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_world_file_fails_the_start_naming_it_and_stays_as_it_was() {
    let dir = tempfile::tempdir().expect("a tempdir");
    let file = dir.path().join("world.json");
    std::fs::write(&file, "{\"format\": 1, \"tickets\": [").expect("written");
    let mut opts = options();
    opts.world_file = Some(file.clone());
    let err = sandbox::start(opts, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("still there"),
        "{\"format\": 1, \"tickets\": ["
    );
}
