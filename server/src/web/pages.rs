//! The pages: minijinja templates (compiled in with `include_str!`, autoescaped because their
//! names end in `.html`), the session form, and the page script `/static/app.js`.
//!
//! Pages send a Content-Security-Policy that allows only the server's own script, so even a
//! title that slipped through escaping could not run.

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Environment, Value};
use serde::{Deserialize, Serialize};

use super::api::{
    evaluation_json, existing_user, fresh_recommendations, preference_views, product_page,
    recommendations_json, similar_items, ProductsQuery, PER_PAGE,
};
use super::auth::{self, session_user};
use super::error::ApiError;
use super::AppState;
use crate::live::{now_millis, User};

/// What the pages may load: their own script, inline styles, nothing else.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";
/// The EDA report is self-contained: inline styles and `data:` images only (and the sign-out
/// form of the site's header).
const EDA_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'";
/// Similar items on a product page.
const SIMILAR_ON_PAGE: usize = 8;

const APP_JS: &str = include_str!("app.js");

/// The templates, compiled in.
pub(super) fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("header.html", include_str!("templates/header.html")),
        ("header.css", include_str!("templates/header.css")),
        ("eda_header.html", include_str!("templates/eda_header.html")),
        ("macros.html", include_str!("templates/macros.html")),
        ("catalogue.html", include_str!("templates/catalogue.html")),
        ("product.html", include_str!("templates/product.html")),
        ("users.html", include_str!("templates/users.html")),
        ("user.html", include_str!("templates/user.html")),
        ("evaluation.html", include_str!("templates/evaluation.html")),
        (
            "eda_missing.html",
            include_str!("templates/eda_missing.html"),
        ),
        ("error.html", include_str!("templates/error.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
    }
    env.add_filter("stars", stars);
    env
}

/// A rating's stars as `app.js` shows the API's number (`1`, `3.5`): as JavaScript prints a
/// number, which for these is Rust's shortest decimal (the templates would print `1.0`).
fn stars(value: f64) -> String {
    value.to_string()
}

/// Who is signed in (for the header and the like buttons).
#[derive(Debug, Default, Serialize)]
struct Session {
    session_user: Option<String>,
    session_name: Option<String>,
}

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Session {
    let Some(user) = session_user(state.session_key(), headers) else {
        return Session::default();
    };
    // The name is decoration: a store that does not answer leaves the id.
    let name = match state.live().store.user(&user).await {
        Ok(Some(u)) => Some(u.name),
        _ => None,
    };
    Session {
        session_user: Some(user),
        session_name: name,
    }
}

fn html(status: StatusCode, csp: &'static str, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, csp),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn render_string(state: &AppState, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    state
        .inner
        .templates
        .get_template(name)
        .and_then(|t| t.render(ctx))
}

fn render(state: &AppState, name: &str, status: StatusCode, ctx: Value) -> Response {
    match render_string(state, name, ctx) {
        Ok(body) => html(status, PAGE_CSP, body),
        Err(e) => {
            eprintln!("web: rendering {name} failed: {e:#}");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                PAGE_CSP,
                "<!DOCTYPE html><title>Error</title><p>Internal error (see the server log).</p>"
                    .into(),
            )
        }
    }
}

fn error_page(state: &AppState, session: &Session, error: ApiError) -> Response {
    let status = error.status();
    render(
        state,
        "error.html",
        status,
        context! {
            status => format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
            message => error.message(),
            ..Value::from_serialize(session)
        },
    )
}

/// The HTML error page for `error`, for a request the router answers itself (no route, a
/// wrong method) on a page's path.
pub(super) async fn error_response(
    state: &AppState,
    headers: &HeaderMap,
    error: ApiError,
) -> Response {
    let session = signed_in(state, headers).await;
    error_page(state, &session, error)
}

/// Percent-encodes a query parameter value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn page_href(q: &str, category: &str, page: usize) -> String {
    let mut href = format!("/?page={page}");
    if !q.is_empty() {
        href.push_str(&format!("&q={}", encode(q)));
    }
    if !category.is_empty() {
        href.push_str(&format!("&category={}", encode(category)));
    }
    href
}

/// A category with its item count.
#[derive(Debug, Serialize)]
struct CategoryView<'a> {
    name: &'a str,
    count: usize,
}

/// `GET /`: the catalogue, with search, category filter and pages. A page past the last one
/// is 404, saying so and linking to the last page.
pub async fn catalogue(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ProductsQuery>, QueryRejection>,
) -> Response {
    let session = signed_in(&state, &headers).await;
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&state, &session, e.into()),
    };
    let page = match product_page(state.engine(), &query).await {
        Ok(p) => p,
        Err(e) => return error_page(&state, &session, e),
    };
    let q = query.q.as_deref().unwrap_or("").trim().to_string();
    let category = query.category.as_deref().unwrap_or("").trim().to_string();
    let pages = page.total.div_ceil(PER_PAGE).max(1);
    let past_end = page.page > pages;
    let categories: Vec<CategoryView<'_>> = state
        .engine()
        .catalogue()
        .categories()
        .iter()
        .map(|(name, count)| CategoryView {
            name,
            count: *count,
        })
        .collect();
    // A category given in the URL that is not a top-level one (the filter matches anywhere in
    // a product's path) still shows as chosen.
    let category_listed = category.is_empty() || categories.iter().any(|c| c.name == category);
    let status = if past_end {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render(
        &state,
        "catalogue.html",
        status,
        context! {
            items => page.items,
            total => page.total,
            page => page.page,
            pages => pages,
            prev_href => (page.page > 1).then(|| page_href(&q, &category, page.page - 1)),
            next_href => (page.page < pages).then(|| page_href(&q, &category, page.page + 1)),
            last_href => past_end.then(|| page_href(&q, &category, pages)),
            categories => categories,
            category_listed => category_listed,
            q => q,
            category => category,
            ..Value::from_serialize(&session)
        },
    )
}

/// `GET /products/{asin}`: details and similar items.
pub async fn product(
    State(state): State<AppState>,
    headers: HeaderMap,
    asin: Result<Path<String>, PathRejection>,
) -> Response {
    let session = signed_in(&state, &headers).await;
    let asin = match asin {
        Ok(Path(a)) => a,
        Err(e) => return error_page(&state, &session, e.into()),
    };
    let Some(product) = state.engine().catalogue().product(&asin) else {
        return error_page(
            &state,
            &session,
            ApiError::NotFound(format!("unknown product `{asin}`")),
        );
    };
    let similar = match similar_items(state.engine(), &asin, SIMILAR_ON_PAGE).await {
        Ok(list) => list.into_iter().map(|s| s.product).collect(),
        Err(e) => {
            eprintln!("web: similar items of {asin}: {e}");
            Vec::new()
        }
    };
    render(
        &state,
        "product.html",
        StatusCode::OK,
        context! {
            product => product,
            similar => similar,
            ..Value::from_serialize(&session)
        },
    )
}

/// `GET /users`: pick or create a user.
pub async fn users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = signed_in(&state, &headers).await;
    render(
        &state,
        "users.html",
        StatusCode::OK,
        Value::from_serialize(&session),
    )
}

/// `GET /users/{id}`: the user's preferences and the live recommendations panel. Only for
/// that user's session.
pub async fn user(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let session = signed_in(&state, &headers).await;
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return error_page(&state, &session, e.into()),
    };
    if let Err(e) = auth::check_user_id(&id) {
        return error_page(&state, &session, e);
    }
    // Pages are for browsers: the session cookie only, never the API key.
    let allowed = match &session.session_user {
        Some(u) if *u == id => Ok(()),
        Some(_) => Err(ApiError::Forbidden(format!(
            "you are signed in as someone else; sign in as `{id}` on /users to see this page"
        ))),
        None if auth::has_session_cookie(&headers) => Err(ApiError::Forbidden(
            "the session cookie is not valid; sign in again on /users".into(),
        )),
        None => Err(ApiError::Unauthorized(format!(
            "sign in as `{id}` on /users to see this page"
        ))),
    };
    if let Err(e) = allowed {
        return error_page(&state, &session, e);
    }
    let result = async {
        let user = existing_user(&state, &id).await?;
        let preferences = preference_views(&state, &id).await?;
        let recs = fresh_recommendations(&state, &id, state.live().k).await?;
        Ok::<_, ApiError>((user, preferences, recs))
    }
    .await;
    match result {
        Ok((user, preferences, recs)) => render(
            &state,
            "user.html",
            StatusCode::OK,
            context! {
                user => user,
                preferences => preferences,
                recs => recommendations_json(state.engine(), &recs),
                ..Value::from_serialize(&session)
            },
        ),
        Err(e) => error_page(&state, &session, e),
    }
}

/// The form of `POST /session`.
#[derive(Debug, Deserialize)]
pub struct SessionForm {
    /// The user id.
    pub id: String,
    /// A display name (optional; the id when a new user gives none).
    #[serde(default)]
    pub name: Option<String>,
}

/// Signs in as (and creates, if needed) the user of the form.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<SessionForm>, FormRejection>,
) -> Result<Response, ApiError> {
    if !auth::same_origin(headers) {
        return Err(ApiError::Forbidden(
            "sign in from this site's own /users page".into(),
        ));
    }
    let Form(form) = form?;
    let id = form.id.trim().to_string();
    auth::check_user_id(&id)?;
    let name = match form
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => Some(super::api::check_name(n)?),
        None => None,
    };
    let store = &state.live().store;
    if name.is_some() || store.user(&id).await?.is_none() {
        store
            .upsert_user(&User {
                id: id.clone(),
                name: name.unwrap_or_else(|| id.clone()),
                created: now_millis(),
            })
            .await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (LOCATION, format!("/users/{id}")),
            (SET_COOKIE, auth::session_cookie(state.session_key(), &id)),
        ],
    )
        .into_response())
}

/// `POST /session` (form fields `id` and optional `name`): signs in as that user, creating it
/// when new; sets the session cookie and goes to the user's page (303).
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<SessionForm>, FormRejection>,
) -> Response {
    match start_session(&state, &headers, form).await {
        Ok(response) => response,
        Err(e) => {
            let session = signed_in(&state, &headers).await;
            error_page(&state, &session, e)
        }
    }
}

/// `POST /logout`: clears the session cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !auth::same_origin(&headers) {
        let session = signed_in(&state, &headers).await;
        return error_page(
            &state,
            &session,
            ApiError::Forbidden("sign out from this site's own pages".into()),
        );
    }
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/users".to_string()),
            (SET_COOKIE, auth::clear_session_cookie()),
        ],
    )
        .into_response()
}

/// `GET /evaluation`: the metrics table.
pub async fn evaluation(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = signed_in(&state, &headers).await;
    render(
        &state,
        "evaluation.html",
        StatusCode::OK,
        context! {
            report => evaluation_json(&state),
            ..Value::from_serialize(&session)
        },
    )
}

/// `GET /eda`: the EDA report when loaded, with the site's header put at the top of its body
/// (the report is `recsys eda`'s standalone page; served here, it leads back to the shop),
/// else how to make one.
pub async fn eda(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = signed_in(&state, &headers).await;
    if let Some(page) = &state.inner.eda_html {
        let page = match render_string(&state, "eda_header.html", Value::from_serialize(&session)) {
            Ok(header) => with_header(page, &header),
            Err(e) => {
                eprintln!("web: rendering eda_header.html failed: {e:#}");
                page.as_ref().clone()
            }
        };
        return html(StatusCode::OK, EDA_CSP, page);
    }
    render(
        &state,
        "eda_missing.html",
        StatusCode::OK,
        Value::from_serialize(&session),
    )
}

/// `page` with `header` at the start of its body: after the `<body>` tag, else after the
/// doctype, else first.
fn with_header(page: &str, header: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let after_tag = |tag: &str| {
        let start = lower.find(tag)?;
        lower[start..].find('>').map(|end| start + end + 1)
    };
    let at = after_tag("<body")
        .or_else(|| after_tag("<!doctype"))
        .unwrap_or(0);
    let mut out = String::with_capacity(page.len() + header.len());
    out.push_str(&page[..at]);
    out.push_str(header);
    out.push_str(&page[at..]);
    out
}

/// `GET /static/app.js`.
pub async fn app_js() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_escape() {
        let env = templates();
        let out = env
            .get_template("error.html")
            .unwrap()
            .render(context! { status => "404", message => "<script>x</script>" })
            .unwrap();
        assert!(out.contains("&lt;script&gt;x"));
        assert!(!out.contains("<script>x"));
    }

    #[test]
    fn the_header_goes_at_the_start_of_the_body() {
        let header = "<header>H</header>";
        assert_eq!(
            with_header(
                "<!DOCTYPE html><html><head></head><BODY class=x><main>",
                header
            ),
            "<!DOCTYPE html><html><head></head><BODY class=x><header>H</header><main>"
        );
        assert_eq!(
            with_header("<!DOCTYPE html><h1>EDA</h1>", header),
            "<!DOCTYPE html><header>H</header><h1>EDA</h1>"
        );
        assert_eq!(
            with_header("<h1>EDA</h1>", header),
            "<header>H</header><h1>EDA</h1>"
        );
    }

    #[test]
    fn stars_read_as_in_javascript() {
        assert_eq!(stars(1.0), "1");
        assert_eq!(stars(3.5), "3.5");
        assert_eq!(stars(3.3), "3.3");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(page_href("a b&c", "", 2), "/?page=2&q=a%20b%26c");
        assert_eq!(encode("Toys & Games"), "Toys%20%26%20Games");
    }
}
