//! The web layer of `recsys serve`: the REST API (documented in `openapi.json`, served at
//! `/api/openapi.json`), the pages (minijinja templates with autoescaping, a little plain
//! JavaScript for the live panel), Server-Sent Events, `/healthz` and `/metrics`.
//!
//! Everything hangs off an [`AppState`] built from the [`Live`] loop and a [`WebConfig`];
//! [`router`] gives the `axum::Router` to serve. The caller runs the worker and feeds
//! [`AppState::recommendations_sender`] with [`Live::run_fanout`] so that open streams get
//! their user's fresh recommendations:
//!
//! ```no_run
//! # async fn example(live: recsys::live::Live) -> std::io::Result<()> {
//! use recsys::web::{router, AppState, WebConfig};
//!
//! let state = AppState::new(live.clone(), WebConfig::default());
//! let (_stop, shutdown) = tokio::sync::watch::channel(false);
//! tokio::spawn({
//!     let sink = state.recommendations_sender();
//!     async move { live.run_fanout(sink, shutdown).await }
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, router(state)).await
//! # }
//! ```
//!
//! Routes (method, path):
//!
//! | | |
//! |---|---|
//! | API | see [`API_ROUTES`] |
//! | pages | `/`, `/products/{asin}`, `/users`, `/users/{id}`, `/evaluation`, `/eda` |
//! | sessions | `POST /session` (form: `id`, `name`), `POST /logout` |
//! | static | `/static/app.js` |
//!
//! A path that no route matches is 404, and a route asked with another method 405: as JSON
//! under `/api/` (and for `/healthz` and `/metrics`), as the HTML error page elsewhere.

mod api;
mod auth;
mod error;
mod metrics;
mod pages;
mod sse;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use tokio::sync::{broadcast, watch};

pub use auth::{valid_user_id, SESSION_COOKIE};
pub use error::{ApiError, ApiResult};
pub use metrics::HttpMetrics;

use crate::config::ServerSettings;
use crate::engine::Engine;
use crate::eval::EvalReport;
use crate::live::{Live, StoredRecommendations};

/// How many fresh recommendation lists may wait for a slow stream before it skips ahead (it
/// then recomputes its user's list).
const STREAM_BUFFER: usize = 1024;

/// What the web layer needs besides the live loop.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The key clients present as `Authorization: Bearer KEY` to act for any user; `None`
    /// accepts no key (only the user's own session).
    pub api_key: Option<String>,
    /// Secret that signs session cookies; empty = a random key per process.
    pub session_secret: String,
    /// Largest request body accepted, in bytes (larger gets 413).
    pub max_body_bytes: usize,
    /// The last evaluation, for `/api/evaluation` and `/evaluation`.
    pub evaluation: Option<Arc<EvalReport>>,
    /// The EDA report page (`recsys eda` output), for `/eda`.
    pub eda_html: Option<Arc<String>>,
    /// Plugin files that failed to load (shown by `/api/plugins`).
    pub plugin_errors: Vec<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            api_key: None,
            session_secret: String::new(),
            max_body_bytes: 64 * 1024,
            evaluation: None,
            eda_html: None,
            plugin_errors: Vec::new(),
        }
    }
}

impl WebConfig {
    /// The web settings of `[server]` (api key, session secret, body limit); the evaluation,
    /// EDA page and plugin errors are left empty for the caller to fill.
    pub fn from_settings(server: &ServerSettings) -> WebConfig {
        WebConfig {
            api_key: Some(server.api_key.clone()).filter(|k| !k.is_empty()),
            session_secret: server.session_secret.clone(),
            max_body_bytes: server.max_body_bytes,
            ..WebConfig::default()
        }
    }
}

/// Everything the handlers share. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    live: Live,
    api_key: Option<String>,
    session_key: Vec<u8>,
    max_body_bytes: usize,
    recs: broadcast::Sender<Arc<StoredRecommendations>>,
    /// Turns true when the server shuts down: open streams end.
    closing: watch::Sender<bool>,
    evaluation: Option<Arc<EvalReport>>,
    eda_html: Option<Arc<String>>,
    plugin_errors: Vec<String>,
    metrics: HttpMetrics,
    templates: minijinja::Environment<'static>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("live", &self.inner.live)
            .field("api_key", &self.inner.api_key.as_ref().map(|_| "<set>"))
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("evaluation", &self.inner.evaluation.is_some())
            .field("eda_html", &self.inner.eda_html.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state for serving `live` with `config`.
    pub fn new(live: Live, config: WebConfig) -> AppState {
        let (recs, _) = broadcast::channel(STREAM_BUFFER);
        AppState {
            inner: Arc::new(Inner {
                live,
                api_key: config.api_key.filter(|k| !k.is_empty()),
                session_key: auth::session_key(&config.session_secret),
                max_body_bytes: config.max_body_bytes,
                recs,
                closing: watch::channel(false).0,
                evaluation: config.evaluation,
                eda_html: config.eda_html,
                plugin_errors: config.plugin_errors,
                metrics: HttpMetrics::default(),
                templates: pages::templates(),
            }),
        }
    }

    /// The live loop (engine, store, bus).
    pub fn live(&self) -> &Live {
        &self.inner.live
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.live.engine
    }

    /// Where fresh recommendations go to reach the open streams: pass it to
    /// [`Live::run_fanout`].
    pub fn recommendations_sender(&self) -> broadcast::Sender<Arc<StoredRecommendations>> {
        self.inner.recs.clone()
    }

    /// Ends every open event stream (and refuses new ones): call it when shutting down, so
    /// that a graceful shutdown does not wait for browsers to close their streams.
    pub fn close_streams(&self) {
        self.inner.closing.send_replace(true);
    }

    /// The HTTP metrics.
    pub fn metrics(&self) -> &HttpMetrics {
        &self.inner.metrics
    }

    /// The session cookie value for `user` (what `POST /session` sets), for clients and tests.
    pub fn session_cookie_value(&self, user: &str) -> String {
        auth::sign(&self.inner.session_key, user)
    }

    fn api_key(&self) -> Option<&str> {
        self.inner.api_key.as_deref()
    }

    fn session_key(&self) -> &[u8] {
        &self.inner.session_key
    }
}

/// Every API route as (method, path template): the router serves exactly these and
/// `openapi.json` documents each of them.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/products"),
    ("GET", "/api/products/{asin}"),
    ("GET", "/api/products/{asin}/similar"),
    ("GET", "/api/users/{id}"),
    ("PUT", "/api/users/{id}"),
    ("POST", "/api/users/{id}/preferences"),
    ("DELETE", "/api/users/{id}/preferences/{asin}"),
    ("GET", "/api/users/{id}/recommendations"),
    ("GET", "/api/users/{id}/stream"),
    ("GET", "/api/plugins"),
    ("GET", "/api/evaluation"),
    ("GET", "/api/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
];

/// The handler of an entry of [`API_ROUTES`].
fn api_handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/api/products") => get(api::products),
        ("GET", "/api/products/{asin}") => get(api::product),
        ("GET", "/api/products/{asin}/similar") => get(api::similar),
        ("GET", "/api/users/{id}") => get(api::user),
        ("PUT", "/api/users/{id}") => axum::routing::put(api::put_user),
        ("POST", "/api/users/{id}/preferences") => post(api::add_preference),
        ("DELETE", "/api/users/{id}/preferences/{asin}") => delete(api::remove_preference),
        ("GET", "/api/users/{id}/recommendations") => get(api::recommendations),
        ("GET", "/api/users/{id}/stream") => get(sse::stream),
        ("GET", "/api/plugins") => get(api::plugins),
        ("GET", "/api/evaluation") => get(api::evaluation),
        ("GET", "/api/openapi.json") => get(api::openapi),
        ("GET", "/healthz") => get(api::healthz),
        ("GET", "/metrics") => get(metrics::metrics),
        _ => unreachable!("API_ROUTES and api_handler list the same routes"),
    }
}

/// Whether `path` is the API's: `/api` and below, and the other [`API_ROUTES`] (`/healthz`,
/// `/metrics`). Its errors are JSON; every other path is a page, whose errors are HTML.
fn is_api_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || API_ROUTES.iter().any(|&(_, route)| route == path)
}

/// An error of the router itself: JSON for the API, the HTML error page (with the site's
/// header) for any other path, whatever the client says it accepts.
async fn router_error(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    error: ApiError,
) -> Response {
    if is_api_path(uri.path()) {
        error.into_response()
    } else {
        pages::error_response(state, headers, error).await
    }
}

/// Fallback for paths that no route matches (404).
async fn no_route(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    state.metrics().record_unmatched();
    router_error(&state, &headers, &uri, api::not_found(uri.path())).await
}

/// Fallback for a known route with another method (405).
async fn wrong_method(
    State(state): State<AppState>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> Response {
    router_error(&state, &headers, &uri, api::method_not_allowed(&method)).await
}

/// The hand-written OpenAPI 3.0 document of the API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The application: API, pages, sessions, streams, health and metrics.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for &(method, path) in API_ROUTES {
        router = router.route(path, api_handler(method, path));
    }
    router
        .route("/", get(pages::catalogue))
        .route("/products/{asin}", get(pages::product))
        .route("/users", get(pages::users))
        .route("/users/{id}", get(pages::user))
        .route("/session", post(pages::session))
        .route("/logout", post(pages::logout))
        .route("/evaluation", get(pages::evaluation))
        .route("/eda", get(pages::eda))
        .route("/static/app.js", get(pages::app_js))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(state.inner.max_body_bytes))
        .with_state(state)
}
