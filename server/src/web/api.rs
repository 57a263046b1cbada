//! The REST API handlers (JSON in, JSON out); `openapi.json` documents each of them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{authorize_api_key, authorize_user, check_user_id};
use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::engine::{Catalogue, Engine, Product};
use crate::live::{now_millis, Change, Preference, PreferenceKind, StoredRecommendations, User};

/// Products per page of `/api/products` and the catalogue page.
pub(super) const PER_PAGE: usize = 20;
/// The largest `k` accepted.
const MAX_K: usize = 100;
/// The longest display name accepted.
pub(super) const MAX_NAME_CHARS: usize = 100;
/// How long `/healthz` waits for each dependency.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// A product in a list.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ProductSummary {
    pub asin: String,
    pub title: String,
    pub brand: Option<String>,
    pub price: Option<f64>,
    pub categories: Vec<String>,
}

impl From<Product> for ProductSummary {
    fn from(p: Product) -> Self {
        ProductSummary {
            asin: p.asin,
            title: p.title,
            brand: p.brand,
            price: p.price,
            categories: p.categories,
        }
    }
}

/// Parses an optional integer parameter: `default` when absent, else within `range`.
pub(super) fn parse_param(
    name: &str,
    raw: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> ApiResult<usize> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "`{name}` must be an integer from {} to {}, got `{}`",
            range.start(),
            range.end(),
            raw.chars().take(40).collect::<String>()
        ))),
    }
}

/// Runs blocking engine work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("engine task failed: {e}")))?
        .map_err(ApiError::from)
}

/// Query of `/api/products`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ProductsQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub page: Option<String>,
}

/// One page of products.
#[derive(Debug, Serialize)]
pub(super) struct ProductPage {
    pub items: Vec<ProductSummary>,
    pub page: usize,
    pub total: usize,
    pub per_page: usize,
}

/// Search (full text through the engine, or a title scan when no plugin can search) or
/// browse by popularity, optionally in one category, one page at a time. `total` counts every
/// match in the category, whatever the page.
pub(super) async fn product_page(
    engine: &Arc<Engine>,
    query: &ProductsQuery,
) -> ApiResult<ProductPage> {
    let page = parse_param("page", query.page.as_deref(), 1, 1..=1_000_000)?;
    let category = query
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let text = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    let catalogue = engine.catalogue();
    let (indices, total) = match text {
        None => catalogue.browse(category.as_deref(), page, PER_PAGE),
        Some(text) => {
            let in_category = |i: u32| {
                category
                    .as_deref()
                    .is_none_or(|c| catalogue.in_category(i, c))
            };
            let hits: Vec<u32> = if engine.can_search() {
                // Every match, so that the category filter and the total see them all: the
                // search plugin scores each matching item whatever `k` is, so asking for the
                // whole catalogue costs only their (item, score) pairs.
                let engine = Arc::clone(engine);
                let all = catalogue.len();
                blocking(move || engine.search(&text, all))
                    .await?
                    .iter()
                    .filter_map(|s| catalogue.index(&s.asin))
                    .filter(|&i| in_category(i))
                    .collect()
            } else {
                let needle = text.to_lowercase();
                (0..catalogue.len() as u32)
                    .filter(|&i| {
                        catalogue
                            .title(catalogue.asin(i))
                            .is_some_and(|t| t.to_lowercase().contains(&needle))
                    })
                    .filter(|&i| in_category(i))
                    .collect()
            };
            Catalogue::page(&hits, page, PER_PAGE)
        }
    };
    Ok(ProductPage {
        items: indices
            .into_iter()
            .map(|i| catalogue.product_at(i).into())
            .collect(),
        page,
        total,
        per_page: PER_PAGE,
    })
}

/// `GET /api/products?q=&category=&page=`.
pub async fn products(
    State(state): State<AppState>,
    query: Result<Query<ProductsQuery>, QueryRejection>,
) -> ApiResult<Json<ProductPage>> {
    let Query(query) = query?;
    Ok(Json(product_page(state.engine(), &query).await?))
}

fn known_product(engine: &Engine, asin: &str) -> ApiResult<Product> {
    engine
        .catalogue()
        .product(asin)
        .ok_or_else(|| ApiError::NotFound(format!("unknown product `{asin}`")))
}

/// `GET /api/products/{asin}`.
pub async fn product(
    State(state): State<AppState>,
    asin: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Product>> {
    let Path(asin) = asin?;
    Ok(Json(known_product(state.engine(), &asin)?))
}

/// Query with a list length.
#[derive(Debug, Default, Deserialize)]
pub(super) struct KQuery {
    pub k: Option<String>,
}

/// A similar product.
#[derive(Debug, Serialize)]
pub(super) struct SimilarItem {
    #[serde(flatten)]
    pub product: ProductSummary,
    pub score: f32,
}

/// The `k` items most similar to `asin`, with their metadata.
pub(super) async fn similar_items(
    engine: &Arc<Engine>,
    asin: &str,
    k: usize,
) -> ApiResult<Vec<SimilarItem>> {
    known_product(engine, asin)?;
    let e = Arc::clone(engine);
    let asin = asin.to_string();
    let list = blocking(move || e.similar(&asin, k)).await?;
    let catalogue = engine.catalogue();
    Ok(list
        .into_iter()
        .filter_map(|s| {
            Some(SimilarItem {
                product: catalogue.product(&s.asin)?.into(),
                score: s.score,
            })
        })
        .collect())
}

/// `GET /api/products/{asin}/similar?k=`.
pub async fn similar(
    State(state): State<AppState>,
    asin: Result<Path<String>, PathRejection>,
    query: Result<Query<KQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(asin) = asin?;
    let Query(query) = query?;
    let k = parse_param("k", query.k.as_deref(), 10, 1..=MAX_K)?;
    let items = similar_items(state.engine(), &asin, k).await?;
    Ok(Json(json!({ "asin": asin, "items": items })))
}

/// The user `id`, or 404. Every route with a user id in its path checks it first
/// ([`check_user_id`], before the credentials), so that a malformed id is 400 with the rule,
/// never 401, 403 or 404.
pub(super) async fn existing_user(state: &AppState, id: &str) -> ApiResult<User> {
    state
        .live()
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("unknown user `{id}`")))
}

/// A preference as the API and the pages show it: the stars as the decimal they were given
/// (`3.3`), not as the stored `f32` widens to JSON's `f64` (`3.299999952316284`).
#[derive(Debug, Serialize)]
pub(super) struct PreferenceJson {
    pub asin: String,
    pub kind: PreferenceKind,
    pub value: Option<f64>,
    pub at: i64,
}

impl From<Preference> for PreferenceJson {
    fn from(p: Preference) -> Self {
        PreferenceJson {
            asin: p.asin,
            kind: p.kind,
            // The shortest decimal that reads back as the same `f32`, as an `f64`.
            value: p
                .value
                .map(|v| v.to_string().parse().unwrap_or_else(|_| f64::from(v))),
            at: p.at,
        }
    }
}

/// A preference with the product's title.
#[derive(Debug, Serialize)]
pub(super) struct PreferenceView {
    #[serde(flatten)]
    pub preference: PreferenceJson,
    pub title: String,
}

/// The user's preferences, oldest first, with titles.
pub(super) async fn preference_views(state: &AppState, id: &str) -> ApiResult<Vec<PreferenceView>> {
    let catalogue = state.engine().catalogue();
    Ok(state
        .live()
        .store
        .preferences(id)
        .await?
        .into_iter()
        .map(|p| PreferenceView {
            title: catalogue
                .title(&p.asin)
                .map_or_else(|| p.asin.clone(), str::to_string),
            preference: p.into(),
        })
        .collect())
}

/// `GET /api/users/{id}`: the user, their preferences, and the latest recommendations the
/// worker stored for them (with the event that caused them, each item with its title, as on
/// `/recommendations` and the stream; `null` before the first).
pub async fn user(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    check_user_id(&id)?;
    authorize_user(state.session_key(), state.api_key(), &headers, &id)?;
    let user = existing_user(&state, &id).await?;
    let preferences = preference_views(&state, &id).await?;
    let recommendations = state
        .live()
        .store
        .recommendations(&id)
        .await?
        .map(|recs| recommendations_json(state.engine(), &recs));
    Ok(Json(
        json!({ "user": user, "preferences": preferences, "recommendations": recommendations }),
    ))
}

/// Body of `PUT /api/users/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutUser {
    /// Display name.
    pub name: String,
}

/// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
pub(super) fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "`name` must be 1 to {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

/// `PUT /api/users/{id}` (API key only): creates the user (201) or renames it (200).
pub async fn put_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<PutUser>, JsonRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    check_user_id(&id)?;
    authorize_api_key(state.session_key(), state.api_key(), &headers)?;
    let Json(body) = body?;
    let name = check_name(&body.name)?;
    let store = &state.live().store;
    let existed = store.user(&id).await?.is_some();
    let user = store
        .upsert_user(&User {
            id,
            name,
            created: now_millis(),
        })
        .await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(user)).into_response())
}

/// Body of `POST /api/users/{id}/preferences`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPreference {
    /// The product.
    pub asin: String,
    /// `like`, `dislike` or `rating`.
    pub kind: PreferenceKind,
    /// Stars (1 to 5), for ratings only.
    #[serde(default)]
    pub value: Option<f64>,
}

impl NewPreference {
    /// The stars, checked against the kind.
    fn value(&self) -> ApiResult<Option<f32>> {
        match (self.kind, self.value) {
            (PreferenceKind::Rating, Some(v)) if (1.0..=5.0).contains(&v) => Ok(Some(v as f32)),
            (PreferenceKind::Rating, _) => Err(ApiError::BadRequest(
                "a rating needs `value`, a number from 1 to 5".into(),
            )),
            (_, None) => Ok(None),
            (_, Some(_)) => Err(ApiError::BadRequest(
                "`value` is only for `kind: \"rating\"`; leave it out for likes and dislikes"
                    .into(),
            )),
        }
    }
}

/// `POST /api/users/{id}/preferences`: records the preference and produces the event (202).
pub async fn add_preference(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<NewPreference>, JsonRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    check_user_id(&id)?;
    authorize_user(state.session_key(), state.api_key(), &headers, &id)?;
    let Json(body) = body?;
    let value = body.value()?;
    existing_user(&state, &id).await?;
    known_product(state.engine(), &body.asin)?;
    let preference = Preference {
        asin: body.asin,
        kind: body.kind,
        value,
        at: now_millis(),
    };
    let event = state
        .live()
        .apply(
            &id,
            Change::Set {
                preference: preference.clone(),
            },
        )
        .await?;
    let preference = PreferenceJson::from(preference);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "event_id": event.event_id, "preference": preference })),
    )
        .into_response())
}

/// `DELETE /api/users/{id}/preferences/{asin}`: removes it and produces the event (202).
pub async fn remove_preference(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Response> {
    let Path((id, asin)) = path?;
    check_user_id(&id)?;
    authorize_user(state.session_key(), state.api_key(), &headers, &id)?;
    existing_user(&state, &id).await?;
    let preferences = state.live().store.preferences(&id).await?;
    if !preferences.iter().any(|p| p.asin == asin) {
        return Err(ApiError::NotFound(format!(
            "user `{id}` has no preference for `{asin}`"
        )));
    }
    let event = state.live().apply(&id, Change::Remove { asin }).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "event_id": event.event_id })),
    )
        .into_response())
}

/// Recommendations as JSON, each item with its product title added.
pub(super) fn recommendations_json(engine: &Engine, recs: &StoredRecommendations) -> Value {
    let mut value = serde_json::to_value(recs).expect("recommendations serialize");
    if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            let title = item
                .get("asin")
                .and_then(Value::as_str)
                .map(|a| engine.catalogue().title(a).unwrap_or(a).to_string());
            if let (Some(obj), Some(title)) = (item.as_object_mut(), title) {
                obj.insert("title".into(), Value::String(title));
            }
        }
    }
    value
}

/// Fresh recommendations for `id` (fold-in of the stored preferences), `k` items.
pub(super) async fn fresh_recommendations(
    state: &AppState,
    id: &str,
    k: usize,
) -> ApiResult<StoredRecommendations> {
    Ok(state.live().compute(id, k, None).await?)
}

/// `GET /api/users/{id}/recommendations?k=`.
pub async fn recommendations(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<KQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    check_user_id(&id)?;
    authorize_user(state.session_key(), state.api_key(), &headers, &id)?;
    let Query(query) = query?;
    let k = parse_param("k", query.k.as_deref(), state.live().k, 1..=MAX_K)?;
    existing_user(&state, &id).await?;
    let recs = fresh_recommendations(&state, &id, k).await?;
    Ok(Json(recommendations_json(state.engine(), &recs)))
}

/// `GET /api/plugins`.
pub async fn plugins(State(state): State<AppState>) -> Json<Value> {
    let engine = state.engine();
    let spec = engine.ensemble();
    let members: Vec<Value> = engine
        .members()
        .into_iter()
        .map(|(name, weight, failure)| {
            let version = spec
                .members
                .iter()
                .find(|m| m.label() == name)
                .map(|m| m.version.clone());
            json!({
                "name": name,
                "version": version,
                "weight": weight,
                "healthy": failure.is_none(),
                "failure": failure,
            })
        })
        .collect();
    Json(json!({
        "model_version": engine.version(),
        "fusion": spec.fusion,
        "rank_constant": spec.rank_constant,
        "members": members,
        "search": engine.can_search(),
        "load_errors": state.inner.plugin_errors,
    }))
}

/// `GET /api/evaluation`: the last evaluation report, else the ensemble's test metrics.
pub async fn evaluation(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    evaluation_json(&state)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no evaluation has been run for this model".into()))
}

/// The evaluation as JSON (an `EvalReport`, or one built from the ensemble's test metrics).
pub(super) fn evaluation_json(state: &AppState) -> Option<Value> {
    if let Some(report) = &state.inner.evaluation {
        return serde_json::to_value(report.as_ref()).ok();
    }
    let spec = state.engine().ensemble();
    let metrics = spec.test_metrics.as_ref()?;
    Some(json!({
        "dataset": spec.dataset,
        "k": spec.k,
        "results": [{ "plugin": "ensemble", "metrics": metrics }],
        "ensemble": spec,
    }))
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], super::OPENAPI_JSON).into_response()
}

/// `GET /healthz`: 200 when the store and the bus answer, 503 otherwise. Why one does not
/// answer (the driver's error, which names hosts) is shown to API-key holders only.
pub async fn healthz(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let detailed = authorize_api_key(state.session_key(), state.api_key(), &headers).is_ok();
    let live = state.live();
    let (store, bus) = tokio::join!(
        tokio::time::timeout(PING_TIMEOUT, live.store.ping()),
        tokio::time::timeout(PING_TIMEOUT, live.bus.ping()),
    );
    let store_error = match store {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {PING_TIMEOUT:?}")),
    };
    let bus_error = match bus {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {PING_TIMEOUT:?}")),
    };
    let ok = store_error.is_none() && bus_error.is_none();
    let shown = |error: Option<String>| {
        error.map(|e| {
            if detailed {
                e
            } else {
                "unavailable (the reason is shown with the API key)".to_string()
            }
        })
    };
    let (store_error, bus_error) = (shown(store_error), shown(bus_error));
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "store": { "backend": live.store.backend(), "ok": store_error.is_none(), "error": store_error },
        "bus": { "backend": live.bus.backend(), "ok": bus_error.is_none(), "error": bus_error },
        "model_version": state.engine().version(),
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// 404 for a path that no route matches.
pub(super) fn not_found(path: &str) -> ApiError {
    ApiError::NotFound(format!("no route for `{path}`"))
}

/// 405 for a known route with another method.
pub(super) fn method_not_allowed(method: &axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(format!("this route does not answer {method}"))
}
