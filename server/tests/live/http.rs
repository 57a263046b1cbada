//! The web layer: the router driven with `oneshot` (status codes, bodies, who may do what,
//! bad input, escaping, OpenAPI coverage, health, metrics, pages), and over a real socket the
//! live loop end to end: open a user's event stream, like two products, receive the
//! recommendations the worker computed for them.
//!
//! The engine (cf + mf, content for search) is trained once per test binary on a generated
//! catalogue in which the most popular product is titled `<script>alert(1)</script> ...`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use recsys::dataset::{Dataset, ItemMeta};

use crate::support::artifact_dir;
use recsys::engine::Engine;
use recsys::eval::{Comparison, EvalReport};
use recsys::live::{
    now_millis, BusError, BusResult, Change, EmbeddedStore, EventBus, Live, MemoryBus, Preference,
    PreferenceEvent, PreferenceKind, PreferenceStore, StartAt, StoreError, StoreResult,
    StoredRecommendations, Subscription, Topics, User,
};
use recsys::synth::{generate, SynthOptions};
use recsys::web::{router, AppState, WebConfig, API_ROUTES, OPENAPI_JSON, SESSION_COOKIE};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

const API_KEY: &str = "test-api-key";
const EVIL_TITLE: &str = "<script>alert(1)</script> Evil Widget";
const BODY_LIMIT: usize = 4096;

struct Fixture {
    engine: Arc<Engine>,
    /// The product with the `<script>` title (the most popular one).
    evil: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = generate(
            &SynthOptions {
                users: 1000,
                items: 300,
                interactions: 20_000,
                seed: 11,
                gzip: false,
            },
            dir.path(),
        )
        .expect("synth");
        let mut dataset = Dataset::read(&[out.reviews, out.metadata], None).expect("dataset");
        let mut counts = vec![0usize; dataset.n_items()];
        for i in &dataset.interactions {
            counts[i.item as usize] += 1;
        }
        let top = (0..counts.len())
            .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
            .unwrap();
        let categories = dataset.item_meta[top]
            .as_ref()
            .map(|m| m.categories.clone())
            .unwrap_or_default();
        dataset.item_meta[top] = Some(ItemMeta {
            title: Some(EVIL_TITLE.into()),
            brand: Some("<b>Brand</b>".into()),
            categories,
            description: Some("<img src=x onerror=alert(2)>".into()),
            price: Some(9.99),
        });
        let evil = dataset.items.id(top as u32).to_string();
        let engine = Engine::builder()
            .plugin_dir(artifact_dir())
            .expect("plugin dir")
            // cf twice (its defaults, and implicit's BM25 model by its preset): members are
            // named by label.
            .plugins("cf,cf:implicit-bm25,mf")
            .train(&dataset)
            .unwrap_or_else(|e| {
                panic!("training failed (build the plugins first: `cargo build --workspace`): {e}")
            });
        assert!(
            engine.can_search(),
            "the content plugin should be loaded for search"
        );
        Fixture {
            engine: Arc::new(engine),
            evil,
        }
    })
}

/// A running app: state, router, worker and fanout (stopped on drop).
struct App {
    state: AppState,
    router: Router,
    live: Live,
    _stop: watch::Sender<bool>,
}

async fn engine() -> Arc<Engine> {
    // Training blocks: do it (once) off the async threads.
    tokio::task::spawn_blocking(|| Arc::clone(&fixture().engine))
        .await
        .unwrap()
}

/// An app on the embedded store and the in-process bus, with its worker and fanout running.
async fn app_with(config: WebConfig) -> App {
    let live = Live {
        engine: engine().await,
        store: Arc::new(EmbeddedStore::in_memory().expect("store")),
        bus: Arc::new(MemoryBus::new()),
        topics: Topics::default(),
        k: 10,
        counters: Default::default(),
    };
    let state = AppState::new(live.clone(), config);
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn({
        let live = live.clone();
        let shutdown = shutdown.clone();
        async move { live.run_worker("recsys-workers", shutdown).await }
    });
    tokio::spawn({
        let live = live.clone();
        let sink = state.recommendations_sender();
        async move { live.run_fanout(sink, shutdown).await }
    });
    // The fanout subscribes from the latest message: wait until it sees one.
    let pushed = || {
        live.counters
            .recommendations_pushed
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let probe = json!({"user": "__probe", "items": [], "model_version": "probe", "event_id": null, "at": 0});
    for _ in 0..500 {
        live.bus
            .publish(
                &live.topics.recommendations,
                "__probe",
                probe.to_string().as_bytes(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        if pushed() > 0 {
            break;
        }
    }
    assert!(pushed() > 0, "the fanout never started");
    App {
        router: router(state.clone()),
        state,
        live,
        _stop: stop,
    }
}

async fn app() -> App {
    app_with(WebConfig {
        api_key: Some(API_KEY.into()),
        session_secret: "test-secret".into(),
        max_body_bytes: BODY_LIMIT,
        ..WebConfig::default()
    })
    .await
}

struct Reply {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        assert!(
            self.content_type.starts_with("application/json"),
            "not JSON ({}): {}",
            self.content_type,
            self.body
        );
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .expect("error message")
            .to_string()
    }
}

/// Credentials for a request.
#[derive(Clone, Copy)]
enum As<'a> {
    Nobody,
    Key(&'a str),
    Session(&'a str),
    Cookie(&'a str),
}

impl App {
    fn cookie(&self, user: &str) -> String {
        format!("{SESSION_COOKIE}={}", self.state.session_cookie_value(user))
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            content_type,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn call(&self, method: Method, uri: &str, who: As<'_>, body: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        match who {
            As::Nobody => {}
            As::Key(key) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {key}"))
            }
            As::Session(user) => request = request.header(header::COOKIE, self.cookie(user)),
            As::Cookie(raw) => request = request.header(header::COOKIE, raw),
        }
        let body = match body {
            Some(b) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    async fn get(&self, uri: &str, who: As<'_>) -> Reply {
        self.call(Method::GET, uri, who, None).await
    }

    async fn create_user(&self, id: &str, name: &str) {
        let reply = self
            .call(
                Method::PUT,
                &format!("/api/users/{id}"),
                As::Key(API_KEY),
                Some(&json!({ "name": name }).to_string()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    async fn like(&self, user: &str, asin: &str) -> Reply {
        self.call(
            Method::POST,
            &format!("/api/users/{user}/preferences"),
            As::Session(user),
            Some(&json!({ "asin": asin, "kind": "like" }).to_string()),
        )
        .await
    }
}

/// `text` as the templates escape it (minijinja's HTML escaping).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// `text` percent-encoded for a query string.
fn query_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_are_browsed_searched_and_paged() {
    let app = app().await;
    let fx = fixture();
    let first = app.get("/api/products", As::Nobody).await;
    assert_eq!(first.status, StatusCode::OK);
    let first = first.json();
    assert_eq!(first["page"], 1);
    assert_eq!(first["total"], fx.engine.catalogue().len());
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["asin"], fx.evil.as_str(), "most popular first");
    for key in ["asin", "title", "brand", "price", "categories"] {
        assert!(items[0].get(key).is_some(), "missing {key}");
    }
    let second = app.get("/api/products?page=2", As::Nobody).await.json();
    assert_eq!(second["page"], 2);
    assert_ne!(second["items"][0]["asin"], items[0]["asin"]);
    let beyond = app.get("/api/products?page=1000", As::Nobody).await.json();
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);

    // Search by a word of a title: the product is among the hits.
    let target = fx.engine.catalogue().product_at(7);
    let word = target
        .title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap()
        .to_string();
    let hits = app
        .get(&format!("/api/products?q={word}"), As::Nobody)
        .await
        .json();
    assert!(hits["total"].as_u64().unwrap() >= 1);
    let asins: Vec<&str> = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["asin"].as_str().unwrap())
        .collect();
    assert!(!asins.is_empty());

    // A category filter keeps only that category, with and without search.
    let (category, count) = fx.engine.catalogue().categories()[0].clone();
    let uri = format!(
        "/api/products?category={}",
        category.replace(' ', "%20").replace('&', "%26")
    );
    let filtered = app.get(&uri, As::Nobody).await.json();
    assert_eq!(filtered["total"].as_u64().unwrap() as usize, count);
    for item in filtered["items"].as_array().unwrap() {
        let cats: Vec<&str> = item["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            cats.contains(&category.as_str()),
            "{cats:?} lacks {category}"
        );
    }
    let searched = app.get(&format!("{uri}&q={word}"), As::Nobody).await.json();
    assert!(searched["total"].as_u64().unwrap() <= hits["total"].as_u64().unwrap());

    for bad in ["page=0", "page=abc", "page=-1"] {
        let reply = app.get(&format!("/api/products?{bad}"), As::Nobody).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.error().contains("page"), "{}", reply.body);
    }
}

/// Search totals count every match, and the category filter applies before the page: on a
/// catalogue of more than 1,000 products (the old cap), `q=*` matches all of them, and in a
/// category as many as browsing that category finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_totals_count_every_match_in_the_category() {
    let engine = tokio::task::spawn_blocking(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = generate(
            &SynthOptions {
                users: 2000,
                items: 1300,
                interactions: 40_000,
                seed: 5,
                gzip: false,
            },
            dir.path(),
        )
        .expect("synth");
        let dataset = Dataset::read(&[out.reviews, out.metadata], None).expect("dataset");
        // Popularity ranks; the content plugin is trained besides, for search.
        Engine::builder()
            .plugin_dir(artifact_dir())
            .expect("plugin dir")
            .plugins("popularity")
            .train(&dataset)
            .expect("training")
    })
    .await
    .unwrap();
    assert!(engine.can_search());
    let n = engine.catalogue().len();
    assert!(
        n > 1000,
        "the catalogue should pass the old cap: {n} products"
    );
    let live = Live {
        engine: Arc::new(engine),
        store: Arc::new(EmbeddedStore::in_memory().expect("store")),
        bus: Arc::new(MemoryBus::new()),
        topics: Topics::default(),
        k: 10,
        counters: Default::default(),
    };
    let state = AppState::new(live.clone(), WebConfig::default());
    let app = App {
        router: router(state.clone()),
        state,
        live,
        _stop: watch::channel(false).0,
    };

    let all = app.get("/api/products?q=*", As::Nobody).await.json();
    assert_eq!(
        all["total"].as_u64().unwrap() as usize,
        n,
        "{}",
        all["total"]
    );
    let last_page = n.div_ceil(20);
    let last = app
        .get(&format!("/api/products?q=*&page={last_page}"), As::Nobody)
        .await
        .json();
    assert_eq!(
        last["items"].as_array().unwrap().len(),
        n - (last_page - 1) * 20
    );

    // A top-level category and one higher up the paths (what the shop files them under).
    let top = app.live.engine.catalogue().categories()[0].0.clone();
    let root = app.live.engine.catalogue().product_at(0).categories[0].clone();
    for category in [top, root] {
        let category = query_encoded(&category);
        let browsed = app
            .get(&format!("/api/products?category={category}"), As::Nobody)
            .await
            .json();
        let searched = app
            .get(
                &format!("/api/products?q=*&category={category}"),
                As::Nobody,
            )
            .await
            .json();
        assert!(browsed["total"].as_u64().unwrap() > 0, "{category}");
        assert_eq!(searched["total"], browsed["total"], "{category}");
        let pages = (searched["total"].as_u64().unwrap() as usize).div_ceil(20);
        let last = app
            .get(
                &format!("/api/products?q=*&category={category}&page={pages}"),
                As::Nobody,
            )
            .await
            .json();
        assert!(!last["items"].as_array().unwrap().is_empty(), "{category}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_and_similar_items() {
    let app = app().await;
    let asin = fixture().engine.catalogue().asin(3).to_string();
    let product = app.get(&format!("/api/products/{asin}"), As::Nobody).await;
    assert_eq!(product.status, StatusCode::OK);
    assert_eq!(product.json()["asin"], asin.as_str());

    let unknown = app.get("/api/products/NOPE", As::Nobody).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.error().contains("NOPE"));

    let similar = app
        .get(&format!("/api/products/{asin}/similar"), As::Nobody)
        .await
        .json();
    let items = similar["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(items
        .iter()
        .all(|i| i["asin"] != asin.as_str() && i["title"].is_string()));
    let five = app
        .get(&format!("/api/products/{asin}/similar?k=5"), As::Nobody)
        .await
        .json();
    assert_eq!(five["items"].as_array().unwrap().len(), 5);
    for bad in ["k=0", "k=abc", "k=101", "k=-3"] {
        let reply = app
            .get(&format!("/api/products/{asin}/similar?{bad}"), As::Nobody)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.error().contains("`k`"), "{}", reply.body);
    }
    let unknown = app.get("/api/products/NOPE/similar", As::Nobody).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_do_what() {
    let app = app().await;
    let put = |who| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                "/api/users/ann",
                who,
                Some(r#"{"name":"Ann"}"#),
            )
            .await
            .status
        }
    };
    // Creating users takes the API key.
    assert_eq!(put(As::Nobody).await, StatusCode::UNAUTHORIZED);
    assert_eq!(put(As::Key("wrong")).await, StatusCode::FORBIDDEN);
    assert_eq!(put(As::Session("ann")).await, StatusCode::FORBIDDEN);
    assert_eq!(put(As::Key(API_KEY)).await, StatusCode::CREATED);
    assert_eq!(put(As::Key(API_KEY)).await, StatusCode::OK);
    app.create_user("bob", "Bob").await;
    let bad_id = app
        .call(
            Method::PUT,
            "/api/users/bad%20id",
            As::Key(API_KEY),
            Some(r#"{"name":"x"}"#),
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert!(bad_id.error().contains("user id"));
    let no_name = app
        .call(
            Method::PUT,
            "/api/users/bob",
            As::Key(API_KEY),
            Some(r#"{"name":"  "}"#),
        )
        .await;
    assert_eq!(no_name.status, StatusCode::BAD_REQUEST);

    let ann = app.cookie("ann");
    let tampered_tag = {
        let mut c = ann.clone();
        let last = c.pop().unwrap();
        c.push(if last == 'a' { 'b' } else { 'a' });
        c
    };
    let tampered_user = ann.replacen("=ann.", "=bob.", 1);
    let forged = format!(
        "{SESSION_COOKIE}={}",
        AppState::new(app.live.clone(), WebConfig::default()).session_cookie_value("ann")
    );
    let evil = fixture().evil.clone();
    let like = json!({"asin": evil, "kind": "like"}).to_string();
    let cases: Vec<(As<'_>, StatusCode)> = vec![
        (As::Nobody, StatusCode::UNAUTHORIZED),
        (As::Session("bob"), StatusCode::FORBIDDEN),
        (As::Cookie(&tampered_tag), StatusCode::FORBIDDEN),
        (As::Cookie(&tampered_user), StatusCode::FORBIDDEN),
        (As::Cookie(&forged), StatusCode::FORBIDDEN),
        (As::Key("wrong"), StatusCode::FORBIDDEN),
    ];
    for (who, expected) in cases {
        let endpoints = [
            (Method::GET, "/api/users/ann".to_string(), None),
            (
                Method::GET,
                "/api/users/ann/recommendations".to_string(),
                None,
            ),
            (Method::GET, "/api/users/ann/stream".to_string(), None),
            (
                Method::POST,
                "/api/users/ann/preferences".to_string(),
                Some(like.as_str()),
            ),
            (
                Method::DELETE,
                format!("/api/users/ann/preferences/{evil}"),
                None,
            ),
        ];
        for (method, uri, body) in endpoints {
            let reply = app.call(method.clone(), &uri, who, body).await;
            assert_eq!(reply.status, expected, "{method} {uri}: {}", reply.body);
            assert!(!reply.error().is_empty());
        }
    }
    // The user's own session, and the API key, may.
    for who in [As::Session("ann"), As::Key(API_KEY)] {
        assert_eq!(app.get("/api/users/ann", who).await.status, StatusCode::OK);
        let reply = app
            .call(Method::POST, "/api/users/ann/preferences", who, Some(&like))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let reply = app
            .call(
                Method::DELETE,
                &format!("/api/users/ann/preferences/{evil}"),
                who,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let reply = app.get("/api/users/ann/recommendations", who).await;
        assert_eq!(reply.status, StatusCode::OK);
    }

    // Without a configured key, no bearer token is accepted.
    let keyless = app_with(WebConfig::default()).await;
    let reply = keyless.get("/api/users/ann", As::Key("")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = keyless.get("/api/users/ann", As::Key(API_KEY)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_start_from_the_form_and_end_on_logout() {
    let app = app().await;
    let form = |body: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/session")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let reply = app.send(form("id=ann.b-1&name=%3Cb%3EAnn%3C%2Fb%3E")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], "/users/ann.b-1");
    let cookie = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = app.get("/api/users/ann.b-1", As::Cookie(&pair)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"]["name"], "<b>Ann</b>");
    // Signing in again without a name keeps the name.
    let reply = app.send(form("id=ann.b-1")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let me = app
        .get("/api/users/ann.b-1", As::Cookie(&pair))
        .await
        .json();
    assert_eq!(me["user"]["name"], "<b>Ann</b>");

    for bad in [
        "id=",
        "id=ann%20smith",
        "id=%3Cscript%3E",
        &format!("id={}", "a".repeat(65)),
        "name=x",
    ] {
        let reply = app.send(form(bad)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.body
        );
    }
    // Another site cannot sign a visitor in.
    let mut cross_site = form("id=mallory");
    cross_site
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
    cross_site
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let reply = app.send(cross_site).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    let mut same_site = form("id=mallory");
    same_site
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
    same_site
        .headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
    assert_eq!(app.send(same_site).await.status, StatusCode::SEE_OTHER);
    let logout = app.call(Method::POST, "/logout", As::Nobody, None).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    let cleared = logout.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with(&format!("{SESSION_COOKIE}=;")) && cleared.contains("Max-Age=0"));
}

/// What every route with a user id answers for a malformed one.
const USER_ID_RULE: &str = "a user id is 1 to 64 characters of letters, digits";

/// The API routes whose path holds `part` (`{id}`, or `{` for any parameter), each checked to
/// document a 400 in the OpenAPI document, with their method and the body a request needs (a
/// name for PUT, `like` for POST).
fn routes_documenting_400<'a>(
    part: &str,
    like: &'a str,
) -> Vec<(Method, &'static str, Option<&'a str>)> {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    API_ROUTES
        .iter()
        .filter(|(_, path)| path.contains(part))
        .map(|&(method, path)| {
            assert!(
                doc["paths"][path][method.to_lowercase()]["responses"]["400"].is_object(),
                "{method} {path} does not document its 400"
            );
            let body = match method {
                "PUT" => Some(r#"{"name":"X"}"#),
                "POST" => Some(like),
                _ => None,
            };
            (Method::from_bytes(method.as_bytes()).unwrap(), path, body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_user_ids_are_400_with_the_rule_on_every_route() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let evil = fixture().evil.clone();
    let like = json!({"asin": evil, "kind": "like"}).to_string();
    let too_long = "a".repeat(65);
    let bad_ids = ["bad%20id", too_long.as_str(), "%3Cb%3E", "caf%C3%A9"];
    let routes = routes_documenting_400("{id}", &like);
    assert_eq!(routes.len(), 6, "{routes:?}");
    for (method, path, body) in routes {
        for bad in bad_ids {
            let uri = path.replace("{id}", bad).replace("{asin}", &evil);
            // The same answer whoever asks: the id is checked before the credentials.
            for who in [As::Key(API_KEY), As::Nobody, As::Session("ann")] {
                let reply = app.call(method.clone(), &uri, who, body).await;
                assert_eq!(
                    reply.status,
                    StatusCode::BAD_REQUEST,
                    "{method} {uri}: {}",
                    reply.body
                );
                assert!(reply.error().contains(USER_ID_RULE), "{method} {uri}");
            }
        }
    }
    // The user's page too.
    for bad in bad_ids {
        let reply = app.get(&format!("/users/{bad}"), As::Session("ann")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "/users/{bad}");
        assert!(reply.body.contains(USER_ID_RULE), "{}", reply.body);
    }
    // Well-formed ids that nobody created are still 404, the longest allowed included.
    for unknown in ["nobody".to_string(), "a".repeat(64)] {
        let reply = app
            .get(&format!("/api/users/{unknown}"), As::Key(API_KEY))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
        assert!(reply.error().contains("unknown user"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_matches_in_any_case() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let with = |authorization: String| {
        Request::builder()
            .method(Method::GET)
            .uri("/api/users/ann")
            .header(header::AUTHORIZATION, authorization)
            .body(Body::empty())
            .unwrap()
    };
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let reply = app.send(with(format!("{scheme} {API_KEY}"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{scheme}: {}", reply.body);
    }
    // The key itself is still compared exactly, and other schemes are no key.
    let upper = API_KEY.to_uppercase();
    for wrong in [format!("Bearer {upper}"), format!("Basic {API_KEY}")] {
        let reply = app.send(with(wrong.clone())).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{wrong}: {}",
            reply.body
        );
    }
}

/// Credentials that are wrong are refused even beside valid ones: a wrong key with the user's
/// own session, or the right key with a tampered cookie, is 403 on every route that takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_credential_is_refused_beside_a_valid_one() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let evil = fixture().evil.clone();
    let like = json!({"asin": evil, "kind": "like"}).to_string();
    let tampered = {
        let mut c = app.cookie("ann");
        let last = c.pop().unwrap();
        c.push(if last == 'a' { 'b' } else { 'a' });
        c
    };
    let request = |method: &Method, uri: &str, key: &str, cookie: &str, body: Option<&str>| {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::COOKIE, cookie);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        request
            .body(Body::from(body.unwrap_or("").to_string()))
            .unwrap()
    };
    let endpoints = [
        (Method::GET, "/api/users/ann".to_string(), None),
        (Method::GET, "/api/users/ann/recommendations".into(), None),
        (Method::GET, "/api/users/ann/stream".into(), None),
        (
            Method::POST,
            "/api/users/ann/preferences".into(),
            Some(like.as_str()),
        ),
        (
            Method::DELETE,
            format!("/api/users/ann/preferences/{evil}"),
            None,
        ),
        (
            Method::PUT,
            "/api/users/ann".into(),
            Some(r#"{"name":"Ann"}"#),
        ),
    ];
    let ann = app.cookie("ann");
    for (key, cookie, wrong) in [
        ("wrong", ann.as_str(), "API key"),
        (API_KEY, tampered.as_str(), "session cookie"),
    ] {
        for (method, uri, body) in &endpoints {
            let reply = app.send(request(method, uri, key, cookie, *body)).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} {uri} with a valid credential and a wrong {wrong}: {}",
                reply.body
            );
            assert!(reply.error().contains(wrong), "{}", reply.body);
        }
    }
    // Both right: the key acts for ann.
    let reply = app
        .send(request(&Method::GET, "/api/users/ann", API_KEY, &ann, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// There are no passwords: a session is the user id a visitor picked, for any id, and it
/// reaches that user's data and nobody else's. README says exactly this.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_the_user_picked_and_reaches_only_that_user() {
    let app = app().await;
    app.create_user("alice", "Alice").await;
    app.create_user("bob", "Bob").await;
    let reply = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/session")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("id=alice"))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    let alice = cookie.split(';').next().unwrap().to_string();
    // Picking an existing user keeps its name: a session reads, it does not re-create.
    let me = app.get("/api/users/alice", As::Cookie(&alice)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"]["name"], "Alice");
    let evil = fixture().evil.clone();
    let like = json!({"asin": evil, "kind": "like"}).to_string();
    let reply = app
        .call(
            Method::POST,
            "/api/users/alice/preferences",
            As::Cookie(&alice),
            Some(&like),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    // Nobody else's data, and nothing that takes the API key.
    let reply = app.get("/api/users/bob", As::Cookie(&alice)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app.get("/users/bob", As::Cookie(&alice)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .call(
            Method::PUT,
            "/api/users/alice",
            As::Cookie(&alice),
            Some(r#"{"name":"Mallory"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_are_validated_recorded_and_removed() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let catalogue = fixture().engine.catalogue();
    let (a, b) = (
        catalogue.asin(10).to_string(),
        catalogue.asin(11).to_string(),
    );
    let post = |body: String| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/users/ann/preferences",
                As::Session("ann"),
                Some(&body),
            )
            .await
        }
    };
    let liked = post(json!({"asin": a, "kind": "like"}).to_string()).await;
    assert_eq!(liked.status, StatusCode::ACCEPTED, "{}", liked.body);
    assert!(!liked.json()["event_id"].as_str().unwrap().is_empty());
    let rated = post(json!({"asin": b, "kind": "rating", "value": 4}).to_string()).await;
    assert_eq!(rated.status, StatusCode::ACCEPTED, "{}", rated.body);
    let me = app.get("/api/users/ann", As::Session("ann")).await.json();
    let prefs = me["preferences"].as_array().unwrap();
    assert_eq!(prefs.len(), 2);
    assert_eq!(prefs[0]["asin"], a.as_str());
    assert_eq!(prefs[0]["kind"], "like");
    assert_eq!(prefs[1]["value"], 4.0);

    let bad_bodies = [
        (json!({"asin": a, "kind": "rating"}).to_string(), "value"),
        (
            json!({"asin": a, "kind": "rating", "value": 6}).to_string(),
            "value",
        ),
        (
            json!({"asin": a, "kind": "rating", "value": 0}).to_string(),
            "value",
        ),
        (
            json!({"asin": a, "kind": "like", "value": 3}).to_string(),
            "value",
        ),
        (json!({"asin": a, "kind": "love"}).to_string(), "love"),
        (json!({"kind": "like"}).to_string(), "asin"),
        (
            json!({"asin": a, "kind": "like", "extra": 1}).to_string(),
            "extra",
        ),
        ("{\"asin\": ".to_string(), "JSON"),
        ("[]".to_string(), "JSON"),
    ];
    for (body, mention) in bad_bodies {
        let reply = post(body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert!(reply.error().contains(mention), "{body}: {}", reply.body);
    }
    let unknown = post(json!({"asin": "NOPE", "kind": "like"}).to_string()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.error().contains("NOPE"));
    let ghost = app
        .call(
            Method::POST,
            "/api/users/ghost/preferences",
            As::Key(API_KEY),
            Some(&json!({"asin": a, "kind": "like"}).to_string()),
        )
        .await;
    assert_eq!(ghost.status, StatusCode::NOT_FOUND);
    assert!(ghost.error().contains("ghost"));
    assert_eq!(
        app.get("/api/users/ghost", As::Key(API_KEY)).await.status,
        StatusCode::NOT_FOUND
    );
    let plain = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/users/ann/preferences")
                .header(header::COOKIE, app.cookie("ann"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(json!({"asin": a, "kind": "like"}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(plain.error().contains("application/json"));

    let uri = format!("/api/users/ann/preferences/{a}");
    let removed = app
        .call(Method::DELETE, &uri, As::Session("ann"), None)
        .await;
    assert_eq!(removed.status, StatusCode::ACCEPTED);
    let again = app
        .call(Method::DELETE, &uri, As::Session("ann"), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let me = app.get("/api/users/ann", As::Session("ann")).await.json();
    assert_eq!(me["preferences"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_as_json() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let huge = json!({"asin": "x".repeat(BODY_LIMIT * 2), "kind": "like"}).to_string();
    for (method, uri, who) in [
        (
            Method::POST,
            "/api/users/ann/preferences",
            As::Session("ann"),
        ),
        (Method::PUT, "/api/users/ann", As::Key(API_KEY)),
    ] {
        let reply = app.call(method, uri, who, Some(&huge)).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
        assert!(reply.error().contains("larger"));
    }
    let form = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/session")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "id=ann&name={}",
                    "n".repeat(BODY_LIMIT * 2)
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(form.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_are_folded_in_and_explained() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let catalogue = fixture().engine.catalogue();
    let liked: Vec<String> = (20..23).map(|i| catalogue.asin(i).to_string()).collect();
    for asin in &liked {
        assert_eq!(app.like("ann", asin).await.status, StatusCode::ACCEPTED);
    }
    let reply = app
        .get("/api/users/ann/recommendations", As::Session("ann"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let recs = reply.json();
    assert_eq!(recs["user"], "ann");
    assert_eq!(recs["model_version"], fixture().engine.version());
    let items = recs["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for item in items {
        let asin = item["asin"].as_str().unwrap();
        assert!(
            !liked.iter().any(|l| l == asin),
            "liked item {asin} recommended"
        );
        assert!(!item["because"].as_str().unwrap().is_empty());
        assert!(item["because_items"].is_array());
        assert!(item["title"].is_string());
        let plugins: Vec<&str> = item["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["plugin"].as_str().unwrap())
            .collect();
        assert!(!plugins.is_empty());
        assert!(
            plugins
                .iter()
                .all(|p| ["cf", "cf:implicit-bm25", "mf"].contains(p)),
            "{plugins:?}"
        );
    }
    assert!(
        items
            .iter()
            .any(|i| !i["because_items"].as_array().unwrap().is_empty()),
        "some item should be explained by a liked item"
    );
    let three = app
        .get("/api/users/ann/recommendations?k=3", As::Session("ann"))
        .await
        .json();
    assert_eq!(three["items"].as_array().unwrap().len(), 3);
    for bad in ["k=0", "k=abc", "k=1000"] {
        let reply = app
            .get(
                &format!("/api/users/ann/recommendations?{bad}"),
                As::Session("ann"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let ghost = app
        .get("/api/users/ghost/recommendations", As::Key(API_KEY))
        .await;
    assert_eq!(ghost.status, StatusCode::NOT_FOUND);
}

/// The stored recommendations on the user resource have titles, as on `/recommendations` and
/// the stream (the OpenAPI `Recommendation` requires one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_resource_has_recommendations_with_titles() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let catalogue = fixture().engine.catalogue();
    assert_eq!(
        app.like("ann", catalogue.asin(40)).await.status,
        StatusCode::ACCEPTED
    );
    let mut me = Value::Null;
    for _ in 0..200 {
        me = app.get("/api/users/ann", As::Session("ann")).await.json();
        if !me["recommendations"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let items = me["recommendations"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("the worker stored no recommendations: {me}"));
    assert_eq!(items.len(), 10);
    for item in items {
        let asin = item["asin"].as_str().unwrap();
        let title = catalogue.title(asin).unwrap_or(asin);
        assert_eq!(item["title"], title, "{item}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_answer_json() {
    let app = app().await;
    let reply = app.get("/api/nothing-here", As::Nobody).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains("/api/nothing-here"));
    let reply = app
        .call(Method::PATCH, "/api/products", As::Nobody, None)
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!reply.error().is_empty());
}

/// Paths outside the API that match no route get the HTML 404 page (with the site's header),
/// whatever the client accepts; the API's stay JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_api_get_the_html_error_page() {
    let app = app().await;
    for path in [
        "/products/",
        "/users/",
        "/nope",
        "/nope/deeper",
        "/static/other.js",
    ] {
        let reply = app.get(path, As::Nobody).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            reply.content_type.starts_with("text/html"),
            "{path}: {}",
            reply.content_type
        );
        assert!(
            reply.body.contains("<h1>404 Not Found</h1>"),
            "{path}: {}",
            reply.body
        );
        assert!(reply.body.contains("id=\"error-message\""), "{path}");
        assert!(reply.body.contains("<header class=\"site\">"), "{path}");
    }
    let reply = app.call(Method::DELETE, "/", As::Nobody, None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.content_type.starts_with("text/html"));
    for path in ["/api", "/api/", "/api/nope", "/api/users/"] {
        let reply = app.get(path, As::Nobody).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.error().contains("no route"), "{path}");
    }
    let reply = app.call(Method::POST, "/healthz", As::Nobody, None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!reply.error().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_names_are_escaped_everywhere() {
    let app = app().await;
    let evil = fixture().evil.clone();
    app.create_user("ann", "<i>Ann</i>").await;
    assert_eq!(app.like("ann", &evil).await.status, StatusCode::ACCEPTED);
    let raw = "<script>alert(1)</script>";
    let escaped = "&lt;script&gt;alert(1)";
    let pages = [
        "/".to_string(),
        format!("/products/{evil}"),
        "/users/ann".to_string(),
        "/users".to_string(),
    ];
    for page in &pages {
        let reply = app.get(page, As::Session("ann")).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert!(reply.content_type.starts_with("text/html"), "{page}");
        assert!(!reply.body.contains(raw), "{page} has the raw title");
        assert!(
            !reply.body.contains("<img src=x"),
            "{page} has the raw description"
        );
        assert!(
            !reply.body.contains("<i>Ann</i>"),
            "{page} has the raw name"
        );
        assert!(
            !reply.body.contains("<b>Brand</b>"),
            "{page} has the raw brand"
        );
        assert!(
            reply.body.contains("&lt;i&gt;Ann"),
            "{page} lacks the escaped name"
        );
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{page}: {csp}");
    }
    for page in &pages[..3] {
        let reply = app.get(page, As::Session("ann")).await;
        assert!(
            reply.body.contains(escaped),
            "{page} lacks the escaped title"
        );
    }
    let product = app.get(&format!("/products/{evil}"), As::Nobody).await;
    assert!(product.body.contains("&lt;img src=x"));
    // The API returns the title as data, as JSON.
    let json = app.get(&format!("/api/products/{evil}"), As::Nobody).await;
    assert_eq!(json.content_type, "application/json");
    assert_eq!(json.json()["title"], EVIL_TITLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_with_their_hooks() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let catalogue = fixture().engine.catalogue();
    let liked = catalogue.asin(30).to_string();
    assert_eq!(app.like("ann", &liked).await.status, StatusCode::ACCEPTED);

    let signed_out = app.get("/", As::Nobody).await;
    assert_eq!(signed_out.status, StatusCode::OK);
    assert!(signed_out.body.contains("name=\"viewport\""));
    assert!(!signed_out.body.contains("class=\"like\""));
    let signed_in = app.get("/?page=2", As::Session("ann")).await;
    assert!(signed_in
        .body
        .contains("<button type=\"button\" class=\"like\" data-asin="));
    assert!(signed_in.body.contains("class=\"dislike\""));
    assert!(signed_in.body.contains("rel=\"prev\""));
    assert_eq!(
        app.get("/?page=0", As::Nobody).await.status,
        StatusCode::BAD_REQUEST
    );

    let user = app.get("/users/ann", As::Session("ann")).await;
    assert_eq!(user.status, StatusCode::OK);
    for hook in [
        "id=\"recommendations\"",
        "data-updates=\"0\"",
        "<li class=\"rec\" data-asin=",
        "class=\"because\"",
        "id=\"preferences\"",
        &format!("class=\"remove\" data-asin=\"{liked}\""),
        "src=\"/static/app.js\"",
    ] {
        assert!(user.body.contains(hook), "user page lacks {hook}");
    }
    assert_eq!(
        app.get("/users/ann", As::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/users/ann", As::Session("bob")).await.status,
        StatusCode::FORBIDDEN
    );
    // Pages are for the user's own browser: the API key does not open them.
    assert_eq!(
        app.get("/users/ann", As::Key(API_KEY)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = app.get("/products/NOPE", As::Nobody).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.content_type.starts_with("text/html"));

    let js = app.get("/static/app.js", As::Nobody).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.body.contains("EventSource") && js.body.contains("data-updates"));
    assert!(!js.body.contains("innerHTML"));

    let eda = app.get("/eda", As::Nobody).await;
    assert_eq!(eda.status, StatusCode::OK);
    assert!(eda.body.contains("recsys eda --data"));
    let evaluation = app.get("/evaluation", As::Nobody).await;
    assert_eq!(evaluation.status, StatusCode::OK);
    assert!(evaluation.body.contains("No evaluation"));
}

/// The category menu names each category with its count, and keeps the chosen one selected
/// (one deeper in the paths than the menu's included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_category_menu_names_each_category_and_keeps_the_choice() {
    let app = app().await;
    let catalogue = fixture().engine.catalogue();
    let categories = catalogue.categories();
    assert!(categories.len() > 1);
    let page = app.get("/", As::Nobody).await;
    assert!(!page.body.contains("<option value=\"\"> ()</option>"));
    for (name, count) in categories {
        let e = escaped(name);
        let option = format!("<option value=\"{e}\">{e} ({count})</option>");
        assert!(page.body.contains(&option), "the menu lacks {option}");
    }
    assert!(!page.body.contains(" selected"));

    let (name, count) = &categories[1];
    let page = app
        .get(&format!("/?category={}", query_encoded(name)), As::Nobody)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let e = escaped(name);
    let chosen = format!("<option value=\"{e}\" selected>{e} ({count})</option>");
    assert!(page.body.contains(&chosen), "{}", page.body);
    assert_eq!(page.body.matches(" selected").count(), 1);

    let root = catalogue.product_at(0).categories[0].clone();
    assert!(
        categories.iter().all(|(c, _)| *c != root),
        "{root} is listed"
    );
    let page = app
        .get(&format!("/?category={}", query_encoded(&root)), As::Nobody)
        .await;
    let e = escaped(&root);
    let chosen = format!("<option value=\"{e}\" selected>{e}</option>");
    assert!(page.body.contains(&chosen), "{}", page.body);
}

/// Every page's header leads to /users to switch user and has a sign-out button once signed
/// in; signed out, it says "Sign in".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_offers_to_switch_user_and_sign_out() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let evil = fixture().evil.clone();
    let pages = [
        "/".to_string(),
        "/?page=1000".to_string(),
        format!("/products/{evil}"),
        "/products/NOPE".to_string(),
        "/users".to_string(),
        "/users/ann".to_string(),
        "/evaluation".to_string(),
        "/eda".to_string(),
        "/nope".to_string(),
    ];
    let switch = "<a id=\"switch-user\" href=\"/users\">Switch user</a>";
    let sign_out = "<form method=\"post\" action=\"/logout\"><button type=\"submit\" id=\"sign-out\">Sign out</button></form>";
    for page in &pages {
        let reply = app.get(page, As::Session("ann")).await;
        assert!(reply.content_type.starts_with("text/html"), "{page}");
        assert!(reply.body.contains(switch), "{page} lacks {switch}");
        assert!(reply.body.contains(sign_out), "{page} lacks {sign_out}");
        assert!(
            reply
                .body
                .contains("<a id=\"me\" href=\"/users/ann\">Ann</a>"),
            "{page}"
        );
        let reply = app.get(page, As::Nobody).await;
        assert!(
            reply
                .body
                .contains("<a id=\"sign-in\" href=\"/users\">Sign in</a>"),
            "{page}"
        );
        assert!(!reply.body.contains(sign_out), "{page}");
    }
    // The sign-out button works from any page (the form posts to /logout).
    let reply = app
        .call(Method::POST, "/logout", As::Session("ann"), None)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

/// A page past the last one says so and links to the last page (404), for browsing and
/// search alike; the last page itself is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_past_the_end_says_so_and_links_to_the_last() {
    let app = app().await;
    let catalogue = fixture().engine.catalogue();
    let word = catalogue
        .product_at(7)
        .title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap()
        .to_string();
    for query in [String::new(), format!("&q={word}")] {
        let total = app
            .get(&format!("/api/products?page=1{query}"), As::Nobody)
            .await
            .json()["total"]
            .as_u64()
            .unwrap() as usize;
        let pages = total.div_ceil(20).max(1);
        let last = app.get(&format!("/?page={pages}{query}"), As::Nobody).await;
        assert_eq!(last.status, StatusCode::OK);
        assert!(!last.body.contains("id=\"past-end\""));
        assert!(last.body.contains(&format!("Page {pages} of {pages}")));

        let past = app
            .get(&format!("/?page={}{query}", pages + 1), As::Nobody)
            .await;
        assert_eq!(past.status, StatusCode::NOT_FOUND, "{query}");
        assert!(past.content_type.starts_with("text/html"));
        assert!(past.body.contains("id=\"past-end\""), "{}", past.body);
        assert!(past
            .body
            .contains(&format!("There is no page {}", pages + 1)));
        let link = format!("href=\"{}\"", escaped(&format!("/?page={pages}{query}")));
        assert!(past.body.contains(&link), "no {link} in {}", past.body);
        assert!(
            !past.body.contains(&format!("of {pages}</span>")),
            "{query}"
        );
        assert!(!past.body.contains("id=\"products\""));
    }
    let none = app.get("/?q=zzzqqqxx&page=2", As::Nobody).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.body.contains("nothing matches"), "{}", none.body);
}

/// A rating reads the same on the server-rendered page as app.js shows it from the API's JSON
/// (`String(value)`: `1★`, `3.3★`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratings_read_the_same_on_the_page_and_from_the_api() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let catalogue = fixture().engine.catalogue();
    for (i, value) in [(50, json!(1)), (51, json!(3.3)), (52, json!(4.5))] {
        let reply = app
            .call(
                Method::POST,
                "/api/users/ann/preferences",
                As::Session("ann"),
                Some(
                    &json!({"asin": catalogue.asin(i), "kind": "rating", "value": value})
                        .to_string(),
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    let me = app.get("/api/users/ann", As::Session("ann")).await.json();
    let page = app.get("/users/ann", As::Session("ann")).await;
    for preference in me["preferences"].as_array().unwrap() {
        // What app.js writes: kind, space, the JSON number as JavaScript prints it, a star
        // (Rust prints these f64 values as JavaScript does).
        let shown = format!("rating {}★", preference["value"].as_f64().unwrap());
        assert!(
            page.body.contains(&format!(">{shown}<")),
            "the page lacks {shown}: {}",
            page.body
        );
    }
    assert!(page.body.contains(">rating 1★<"));
    assert!(!page.body.contains("1.0★"));
    // The API gives the stars as they were given, not the stored f32 widened.
    let mut values: Vec<f64> = me["preferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(values, [1.0, 3.3, 4.5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_and_eda_when_present() {
    let bare = app().await;
    let reply = bare.get("/api/evaluation", As::Nobody).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().contains("evaluation"));

    let report = EvalReport {
        dataset: "synth".into(),
        protocol: "leave-last-out".into(),
        k: 10,
        users_evaluated: 1000,
        n_users: 1000,
        n_items: 300,
        train_interactions: 19_000,
        results: Vec::new(),
        tuning: Vec::new(),
        comparisons: vec![Comparison {
            plugin: "mf".into(),
            against: "cf".into(),
            difference: -0.0123,
            standard_error: 0.0045,
        }],
        ensemble: Some(fixture().engine.ensemble().clone()),
        read: None,
    };
    let app = app_with(WebConfig {
        evaluation: Some(Arc::new(report)),
        eda_html: Some(Arc::new("<!DOCTYPE html><h1>EDA of synth</h1>".into())),
        ..WebConfig::default()
    })
    .await;
    let reply = app.get("/api/evaluation", As::Nobody).await.json();
    assert_eq!(reply["dataset"], "synth");
    assert_eq!(reply["ensemble"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(reply["ensemble"]["members"][1]["preset"], "implicit-bm25");
    let page = app.get("/evaluation", As::Nobody).await;
    assert!(page.body.contains("id=\"ensemble\""));
    assert!(
        page.body.contains("<td>cf:implicit-bm25</td>"),
        "members are named by label"
    );
    assert!(
        page.body.contains("mf -0.0123 ± 0.0045"),
        "the paired comparison is on the page"
    );
    // The report as `recsys eda` wrote it, with the site's header at the top of its body.
    let eda = app.get("/eda", As::Nobody).await;
    assert_eq!(eda.status, StatusCode::OK);
    let (before, after) = eda
        .body
        .split_once("<header class=\"site\">")
        .unwrap_or_else(|| panic!("no site header on the EDA page: {}", eda.body));
    assert!(before.starts_with("<!DOCTYPE html>"), "{}", eda.body);
    assert!(
        after.contains("<a class=\"brand\" href=\"/\">"),
        "{}",
        eda.body
    );
    assert!(
        after.contains("</header>") && after.ends_with("<h1>EDA of synth</h1>"),
        "{}",
        eda.body
    );
    let csp = eda.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(!csp.contains("script-src"), "{csp}");
    let eda = app.get("/eda", As::Session("ann")).await;
    assert!(eda.body.contains("id=\"sign-out\""), "{}", eda.body);
    let full = app_with(WebConfig {
        eda_html: Some(Arc::new(
            "<!DOCTYPE html>\n<html><head><title>EDA</title></head><body><main>report</main></body></html>"
                .into(),
        )),
        ..WebConfig::default()
    })
    .await;
    let eda = full.get("/eda", As::Nobody).await;
    let (head, body) = eda.body.split_once("<body>").unwrap();
    assert!(!head.contains("<header"), "{}", eda.body);
    assert!(body.starts_with("<style>"), "{}", eda.body);
    let header_end = body.find("</header>").expect("the site header");
    assert!(
        header_end < body.find("<main>report</main>").unwrap(),
        "{}",
        eda.body
    );

    let plugins = app.get("/api/plugins", As::Nobody).await.json();
    let names: Vec<&str> = plugins["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cf", "cf:implicit-bm25", "mf"]);
    for member in plugins["members"].as_array().unwrap() {
        assert!(member["version"].is_string(), "{member}");
    }
    assert!(plugins["members"][0]["healthy"].as_bool().unwrap());
    assert!(plugins["members"][0]["weight"].as_f64().unwrap() > 0.0);
    assert_eq!(plugins["search"], true);
    assert!(plugins["load_errors"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route() {
    let app = app().await;
    let served = app.get("/api/openapi.json", As::Nobody).await;
    assert_eq!(served.status, StatusCode::OK);
    let doc = served.json();
    assert_eq!(doc, serde_json::from_str::<Value>(OPENAPI_JSON).unwrap());
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in API_ROUTES {
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
        // Each documented route is served: it is not the router's 404 or 405.
        let concrete = path.replace("{asin}", "X").replace("{id}", "nobody");
        let reply = app
            .call(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete,
                As::Nobody,
                None,
            )
            .await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        if reply.status == StatusCode::NOT_FOUND {
            assert!(
                !reply.body.contains("no route"),
                "{method} {path} is not routed"
            );
        }
    }
    // And nothing is documented that the router does not serve.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                API_ROUTES
                    .iter()
                    .any(|(m, p)| p == path && m.eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not in API_ROUTES"
            );
        }
    }
}

/// A path parameter that is not UTF-8 once decoded (`%FF`) is 400 on every route that has
/// one, whoever asks, and each such route documents its 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_path_parameters_are_400_and_documented() {
    let app = app().await;
    app.create_user("ann", "Ann").await;
    let evil = fixture().evil.clone();
    let like = json!({"asin": evil, "kind": "like"}).to_string();
    let routes = routes_documenting_400("{", &like);
    assert_eq!(routes.len(), 8, "{routes:?}");
    for (method, path, body) in routes {
        for param in ["{id}", "{asin}"].into_iter().filter(|p| path.contains(p)) {
            let uri = path
                .replace(param, "%FF")
                .replace("{id}", "ann")
                .replace("{asin}", &evil);
            for who in [As::Key(API_KEY), As::Nobody] {
                let reply = app.call(method.clone(), &uri, who, body).await;
                assert_eq!(
                    reply.status,
                    StatusCode::BAD_REQUEST,
                    "{method} {uri}: {}",
                    reply.body
                );
                assert!(!reply.error().is_empty());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let app = app().await;
    let health = app.get("/healthz", As::Nobody).await;
    assert_eq!(health.status, StatusCode::OK);
    let health = health.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"]["backend"], "embedded");
    assert_eq!(health["store"]["ok"], true);
    assert_eq!(health["bus"]["backend"], "memory");
    assert_eq!(health["bus"]["ok"], true);

    app.get("/api/products", As::Nobody).await;
    app.get("/api/products/NOPE", As::Nobody).await;
    app.get("/no/such/route", As::Nobody).await;
    let metrics = app.get("/metrics", As::Nobody).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.content_type.starts_with("text/plain"));
    for line in [
        "recsys_http_requests_total{route=\"/api/products\",method=\"GET\",status=\"200\"} 1",
        "recsys_http_requests_total{route=\"/api/products/{asin}\",method=\"GET\",status=\"404\"} 1",
        "recsys_http_request_duration_seconds_count{route=\"/api/products\"} 1",
        "recsys_http_request_duration_seconds_bucket{route=\"/api/products\",le=\"+Inf\"} 1",
        "recsys_http_unmatched_requests_total 1",
        "recsys_plugin_healthy{plugin=\"cf\"} 1",
        "recsys_plugin_healthy{plugin=\"mf\"} 1",
        "# TYPE recsys_live_events_handled_total counter",
        "recsys_sse_streams_open 0",
    ] {
        assert!(metrics.body.contains(line), "metrics lack `{line}`:\n{}", metrics.body);
    }
}

// ---- dependencies that are down --------------------------------------------------------------

/// A store whose server cannot be reached: every call is `Unavailable`, as the MongoDB store
/// answers while the database is down.
#[derive(Debug)]
struct UnreachableStore;

fn unreachable<T>() -> StoreResult<T> {
    Err(StoreError::Unavailable(
        "connection refused (mongodb://10.9.8.7:27017)".into(),
    ))
}

#[async_trait::async_trait]
impl PreferenceStore for UnreachableStore {
    fn backend(&self) -> &'static str {
        "unreachable"
    }
    async fn ping(&self) -> StoreResult<()> {
        unreachable()
    }
    async fn upsert_user(&self, _: &User) -> StoreResult<User> {
        unreachable()
    }
    async fn user(&self, _: &str) -> StoreResult<Option<User>> {
        unreachable()
    }
    async fn set_preference(&self, _: &str, _: &Preference) -> StoreResult<()> {
        unreachable()
    }
    async fn remove_preference(&self, _: &str, _: &str) -> StoreResult<bool> {
        unreachable()
    }
    async fn preferences(&self, _: &str) -> StoreResult<Vec<Preference>> {
        unreachable()
    }
    async fn save_recommendations(&self, _: &StoredRecommendations) -> StoreResult<()> {
        unreachable()
    }
    async fn recommendations(&self, _: &str) -> StoreResult<Option<StoredRecommendations>> {
        unreachable()
    }
    async fn mark_processed(&self, _: &str) -> StoreResult<bool> {
        unreachable()
    }
    async fn is_processed(&self, _: &str) -> StoreResult<bool> {
        unreachable()
    }
    async fn forget_processed(&self, _: i64) -> StoreResult<u64> {
        unreachable()
    }
    async fn add_to_outbox(&self, _: &PreferenceEvent) -> StoreResult<()> {
        unreachable()
    }
    async fn outbox(&self, _: i64, _: usize) -> StoreResult<Vec<PreferenceEvent>> {
        unreachable()
    }
    async fn remove_from_outbox(&self, _: &str) -> StoreResult<()> {
        unreachable()
    }
}

/// A bus whose broker cannot be reached.
#[derive(Debug)]
struct UnreachableBus;

fn broker_down<T>() -> BusResult<T> {
    Err(BusError::Unavailable("broker 10.9.8.7:9092 down".into()))
}

#[async_trait::async_trait]
impl EventBus for UnreachableBus {
    fn backend(&self) -> &'static str {
        "unreachable"
    }
    async fn ping(&self) -> BusResult<()> {
        broker_down()
    }
    async fn ensure_topics(&self, _: &[&str]) -> BusResult<()> {
        broker_down()
    }
    async fn publish(&self, _: &str, _: &str, _: &[u8]) -> BusResult<()> {
        broker_down()
    }
    async fn subscribe(&self, _: &str, _: &str, _: StartAt) -> BusResult<Box<dyn Subscription>> {
        broker_down()
    }
}

async fn app_on(store: Arc<dyn PreferenceStore>, bus: Arc<dyn EventBus>) -> App {
    let live = Live {
        engine: engine().await,
        store,
        bus,
        topics: Topics::default(),
        k: 10,
        counters: Default::default(),
    };
    let state = AppState::new(
        live.clone(),
        WebConfig {
            api_key: Some(API_KEY.into()),
            ..WebConfig::default()
        },
    );
    App {
        router: router(state.clone()),
        state,
        live,
        _stop: watch::channel(false).0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_gives_503_and_the_rest_keeps_working() {
    let app = app_on(Arc::new(UnreachableStore), Arc::new(MemoryBus::new())).await;
    let health = app.get("/healthz", As::Nobody).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    let health = health.json();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["store"]["ok"], false);
    assert_eq!(health["bus"]["ok"], true);
    // Why is for API-key holders: the driver's error names hosts.
    assert!(!health.to_string().contains("10.9.8.7"), "{health}");
    let detailed = app.get("/healthz", As::Key(API_KEY)).await.json();
    assert!(
        detailed["store"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("10.9.8.7")),
        "{detailed}"
    );
    let asin = fixture().engine.catalogue().asin(0).to_string();
    let like = json!({"asin": asin, "kind": "like"}).to_string();
    for (method, uri, body) in [
        (Method::GET, "/api/users/ann", None),
        (Method::PUT, "/api/users/ann", Some(r#"{"name":"Ann"}"#)),
        (
            Method::POST,
            "/api/users/ann/preferences",
            Some(like.as_str()),
        ),
        (Method::GET, "/api/users/ann/recommendations", None),
        (Method::GET, "/api/users/ann/stream", None),
    ] {
        let reply = app.call(method.clone(), uri, As::Key(API_KEY), body).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {uri}"
        );
        let error = reply.error();
        assert!(error.contains("unavailable"), "{error}");
        assert!(!error.contains("10.9.8.7"), "internals leaked: {error}");
    }
    // What does not need the store keeps working.
    assert_eq!(
        app.get("/api/products", As::Nobody).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/", As::Nobody).await.status, StatusCode::OK);
    let page = app.get("/users/ann", As::Session("ann")).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.content_type.starts_with("text/html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_that_is_down_gives_503_for_changes() {
    let store = Arc::new(EmbeddedStore::in_memory().unwrap());
    let app = app_on(store, Arc::new(UnreachableBus)).await;
    let health = app.get("/healthz", As::Nobody).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json()["bus"]["ok"], false);
    app.create_user("ann", "Ann").await;
    let asin = fixture().engine.catalogue().asin(0).to_string();
    let reply = app.like("ann", &asin).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!reply.error().contains("10.9.8.7"));
    // Reading needs only the store: it works, and the change was kept (the store is the
    // system of record; the next event recomputes from it).
    let me = app.get("/api/users/ann", As::Session("ann")).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["preferences"][0]["asin"], asin.as_str());
    let recs = app
        .get("/api/users/ann/recommendations", As::Session("ann"))
        .await;
    assert_eq!(recs.status, StatusCode::OK);
}

// ---- over a real socket ----------------------------------------------------------------------

/// A minimal HTTP/1.1 request over a new connection (`Connection: close`); returns the status
/// and the (de-chunked) body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or(""));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let (status, response_headers) = read_head(&mut reader).await;
    let mut body = Vec::new();
    if response_headers.contains("transfer-encoding: chunked") {
        while let Some(chunk) = read_chunk(&mut reader).await {
            body.extend_from_slice(&chunk);
        }
    } else {
        reader.read_to_end(&mut body).await.unwrap();
    }
    (status, String::from_utf8(body).unwrap())
}

/// The status and the (lower-cased) header block of a response.
async fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await.unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            return (status, headers.to_ascii_lowercase());
        }
        headers.push_str(&line);
    }
}

/// One chunk of a chunked body; `None` at the end.
async fn read_chunk(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut size_line = String::new();
    if reader.read_line(&mut size_line).await.unwrap() == 0 {
        return None;
    }
    let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap(), 16)
        .unwrap_or_else(|_| panic!("bad chunk size {size_line:?}"));
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).await.unwrap();
    chunk.truncate(size);
    (size > 0).then_some(chunk)
}

/// An open Server-Sent Events stream.
struct EventStream {
    reader: BufReader<TcpStream>,
    pending: String,
}

impl EventStream {
    async fn open(addr: std::net::SocketAddr, path: &str, cookie: &str) -> (u16, String, Self) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(stream);
        let (status, headers) = read_head(&mut reader).await;
        (
            status,
            headers,
            EventStream {
                reader,
                pending: String::new(),
            },
        )
    }

    /// Reads until the server ends the stream.
    async fn end(&mut self) {
        while read_chunk(&mut self.reader).await.is_some() {}
    }

    /// The next event (name, data), skipping comments.
    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return (name, data.join("\n"));
            }
            let chunk = read_chunk(&mut self.reader)
                .await
                .expect("the stream ended");
            self.pending.push_str(&String::from_utf8(chunk).unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_stream_fresh_recommendations_over_a_socket() {
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let auth = format!("Bearer {API_KEY}");
    let (status, body) = http(
        addr,
        "PUT",
        "/api/users/ann",
        &[("Authorization", &auth)],
        Some(r#"{"name":"Ann"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let cookie = app.cookie("ann");

    // An event stream for someone else's user is refused.
    let (status, _, _) = EventStream::open(addr, "/api/users/ann/stream", &app.cookie("bob")).await;
    assert_eq!(status, 403);

    let (status, headers, mut events) =
        EventStream::open(addr, "/api/users/ann/stream", &cookie).await;
    assert_eq!(status, 200);
    assert!(
        headers.contains("content-type: text/event-stream"),
        "{headers}"
    );
    let (name, data) = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the first event");
    assert_eq!(name, "recommendations");
    let first: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(first["user"], "ann");
    assert!(first["event_id"].is_null());
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    // Like the first two recommended items.
    let liked: Vec<String> = first["items"].as_array().unwrap()[..2]
        .iter()
        .map(|i| i["asin"].as_str().unwrap().to_string())
        .collect();

    let mut event_ids = Vec::new();
    for asin in &liked {
        let (status, body) = http(
            addr,
            "POST",
            "/api/users/ann/preferences",
            &[("Cookie", &cookie)],
            Some(&json!({"asin": asin, "kind": "like"}).to_string()),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        event_ids.push(body["event_id"].as_str().unwrap().to_string());
    }

    // Both events come back as fresh recommendations for ann, in order.
    let mut received = Vec::new();
    while received.len() < 2 {
        let (name, data) = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("recommendations for each like within 10 s");
        assert_eq!(name, "recommendations");
        let recs: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(recs["user"], "ann", "only ann's lists reach ann's stream");
        received.push(recs);
    }
    let received_ids: Vec<&str> = received
        .iter()
        .map(|r| r["event_id"].as_str().expect("event_id set"))
        .collect();
    assert_eq!(received_ids, event_ids);
    let last: Vec<&str> = received[1]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["asin"].as_str().unwrap())
        .collect();
    assert_eq!(last.len(), 10);
    for asin in &liked {
        assert!(
            !last.contains(&asin.as_str()),
            "liked {asin} still recommended"
        );
    }
    assert!(received[1]["items"][0]["title"].is_string());
    assert_eq!(
        app.state.metrics().requests_for("/api/users/{id}/stream"),
        2
    );
    // Shutting down ends the open streams, and refuses new ones.
    app.state.close_streams();
    tokio::time::timeout(Duration::from_secs(5), events.end())
        .await
        .expect("the stream ends on shutdown");
    let (status, _, _) = EventStream::open(addr, "/api/users/ann/stream", &cookie).await;
    assert_eq!(status, 503);
    server.abort();
}

/// A process that stops before its event is handled (here: produced to an in-process bus that
/// dies with it) leaves the event in the store's outbox; the next process's relay produces it
/// again and its worker handles it, which empties the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_lost_with_its_process_is_produced_by_the_next() {
    let engine = engine().await;
    let store: Arc<dyn PreferenceStore> = Arc::new(EmbeddedStore::in_memory().unwrap());
    let process = || Live {
        engine: Arc::clone(&engine),
        store: Arc::clone(&store),
        bus: Arc::new(MemoryBus::new()),
        topics: Topics::default(),
        k: 10,
        counters: Default::default(),
    };
    let like = |asin: &str| Change::Set {
        preference: Preference {
            asin: asin.into(),
            kind: PreferenceKind::Like,
            value: None,
            at: now_millis(),
        },
    };
    let catalogue = engine.catalogue();
    let first = process();
    let lost = first.apply("ann", like(catalogue.asin(0))).await.unwrap();
    assert_eq!(
        store.outbox(i64::MAX, 10).await.unwrap(),
        vec![lost.clone()]
    );
    drop(first);

    let next = process();
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn({
        let (next, shutdown) = (next.clone(), shutdown.clone());
        async move { next.run_worker("workers", shutdown).await.unwrap() }
    });
    tokio::spawn({
        let (next, shutdown) = (next.clone(), shutdown.clone());
        async move { next.run_outbox_relay(shutdown).await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let recs = store.recommendations("ann").await.unwrap();
        if recs.and_then(|r| r.event_id).as_deref() == Some(lost.event_id.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lost event was not handled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let empty = async {
        for _ in 0..100 {
            if store.outbox(i64::MAX, 10).await.unwrap().is_empty() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    };
    assert!(empty.await, "a handled event leaves the outbox");
    let _ = stop.send(true);

    // What a relay pass produces: events recorded at or before its time, not handled, not
    // skipped; a handled one still listed is dropped instead (its worker stopped in between).
    let idle = process();
    let pending = PreferenceEvent {
        event_id: "pending".into(),
        user: "bob".into(),
        change: like(catalogue.asin(1)),
        at: 1_000,
    };
    let handled = PreferenceEvent {
        event_id: "handled".into(),
        at: 900,
        ..pending.clone()
    };
    store.add_to_outbox(&pending).await.unwrap();
    store.add_to_outbox(&handled).await.unwrap();
    assert!(store.mark_processed("handled").await.unwrap());
    let none = Default::default();
    assert_eq!(
        idle.relay_outbox(999, &none).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.outbox(i64::MAX, 10).await.unwrap(),
        vec![pending.clone()],
        "the handled event was dropped"
    );
    let skip = ["pending".to_string()].into_iter().collect();
    assert!(idle.relay_outbox(1_000, &skip).await.unwrap().is_empty());
    assert_eq!(
        idle.relay_outbox(1_000, &none).await.unwrap(),
        vec!["pending".to_string()]
    );
    // Produced, not handled (no worker here): still in the outbox.
    assert_eq!(store.outbox(i64::MAX, 10).await.unwrap(), vec![pending]);
}

/// A second worker of a group gets no partition while the first holds the events topic's only
/// one; it keeps waiting past the bus's subscribe timeout (it gave up after it, and handled
/// nothing ever after) and takes over when the first stops.
#[cfg(feature = "kafka")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_worker_waits_past_the_subscribe_timeout_and_takes_over() {
    use recsys::live::{KafkaBus, KafkaConfig};
    use std::time::{Duration, Instant};

    let brokers = match std::env::var("RECSYS_TEST_KAFKA_BROKERS") {
        Ok(brokers) if !brokers.is_empty() => brokers,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but RECSYS_TEST_KAFKA_BROKERS is not")
        }
        _ => return eprintln!("skipped: RECSYS_TEST_KAFKA_BROKERS is not set"),
    };
    let mut config = KafkaConfig::new(brokers);
    config.subscribe_timeout = Duration::from_secs(2);
    let unique = format!("standby-{}-{}", std::process::id(), now_millis());
    let engine = engine().await;
    let store: Arc<dyn PreferenceStore> = Arc::new(EmbeddedStore::in_memory().unwrap());
    let live = Live {
        engine: Arc::clone(&engine),
        store: Arc::clone(&store),
        bus: Arc::new(KafkaBus::connect(&config).await.unwrap()),
        topics: Topics {
            events: format!("{unique}.events"),
            recommendations: format!("{unique}.recommendations"),
        },
        k: 10,
        counters: Default::default(),
    };
    let worker = |shutdown: watch::Receiver<bool>| {
        let (live, group) = (live.clone(), format!("{unique}.workers"));
        tokio::spawn(async move { live.run_worker(&group, shutdown).await })
    };
    let like = |asin: &str| Change::Set {
        preference: Preference {
            asin: asin.into(),
            kind: PreferenceKind::Like,
            value: None,
            at: now_millis(),
        },
    };
    let handled = |event_id: String| {
        let store = Arc::clone(&store);
        async move {
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline {
                let recs = store.recommendations("ann").await.unwrap();
                if recs.and_then(|r| r.event_id) == Some(event_id.clone()) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    let catalogue = engine.catalogue();
    let (stop_first, first_shutdown) = watch::channel(false);
    let first = worker(first_shutdown);
    let event = live.apply("ann", like(catalogue.asin(0))).await.unwrap();
    assert!(
        handled(event.event_id).await,
        "the first worker handled nothing"
    );

    let (stop_standby, standby_shutdown) = watch::channel(false);
    let standby = worker(standby_shutdown);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(!standby.is_finished(), "the standby gave up waiting");
    let _ = stop_first.send(true);
    first.await.unwrap().unwrap();
    let event = live.apply("ann", like(catalogue.asin(1))).await.unwrap();
    assert!(
        handled(event.event_id).await,
        "the standby did not take over"
    );
    let _ = stop_standby.send(true);
    standby.await.unwrap().unwrap();
}

/// A worker and a fanout that start while the broker is away keep trying to subscribe (they
/// returned an error at once, and the process went on without them) and stop when told to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_started_while_the_broker_is_away_wait_for_it() {
    let live = Live {
        engine: engine().await,
        store: Arc::new(EmbeddedStore::in_memory().unwrap()),
        bus: Arc::new(UnreachableBus),
        topics: Topics::default(),
        k: 10,
        counters: Default::default(),
    };
    let (stop, shutdown) = watch::channel(false);
    let worker = tokio::spawn({
        let (live, shutdown) = (live.clone(), shutdown.clone());
        async move { live.run_worker("workers", shutdown).await }
    });
    let fanout = tokio::spawn({
        let (live, sink) = (live.clone(), tokio::sync::broadcast::channel(4).0);
        async move { live.run_fanout(sink, shutdown).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(!worker.is_finished() && !fanout.is_finished());
    assert!(
        live.counters
            .retries
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
    let _ = stop.send(true);
    worker.await.unwrap().unwrap();
    fanout.await.unwrap().unwrap();
}
