//! `GET /api/users/{id}/stream`: Server-Sent Events with the user's recommendations. The first
//! event is the current list; then every list the fanout receives from the recommendations
//! topic for this user. Event name `recommendations`, data = the stored recommendations as
//! JSON (each item with its `title` added); comments keep the connection alive.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio::sync::watch;

use super::api::{existing_user, fresh_recommendations, recommendations_json};
use super::auth::{authorize_user, check_user_id};
use super::error::{ApiError, ApiResult};
use super::metrics::{HttpMetrics, StreamGuard};
use super::AppState;
use crate::live::StoredRecommendations;

/// How often a comment goes out on an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn event(state: &AppState, recs: &StoredRecommendations) -> Event {
    let data = recommendations_json(state.engine(), recs).to_string();
    let event = Event::default().event("recommendations").data(data);
    match &recs.event_id {
        Some(id) => event.id(id.clone()),
        None => event,
    }
}

/// What a stream carries between events.
struct Cursor {
    state: AppState,
    user: String,
    rx: Receiver<Arc<StoredRecommendations>>,
    closing: watch::Receiver<bool>,
    _open: StreamGuard,
}

/// The next list for this stream's user: from the fanout, or recomputed after falling behind.
async fn next(mut cursor: Cursor) -> Option<(Result<Event, Infallible>, Cursor)> {
    loop {
        let received = tokio::select! {
            r = cursor.rx.recv() => r,
            _ = cursor.closing.wait_for(|closing| *closing) => return None,
        };
        match received {
            Ok(recs) if recs.user == cursor.user => {
                let event = event(&cursor.state, &recs);
                return Some((Ok(event), cursor));
            }
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => {
                // Lists were dropped for this slow stream: send the current one instead.
                let k = cursor.state.live().k;
                if let Ok(recs) = fresh_recommendations(&cursor.state, &cursor.user, k).await {
                    let event = event(&cursor.state, &recs);
                    return Some((Ok(event), cursor));
                }
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

/// `GET /api/users/{id}/stream`.
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let Path(id) = id?;
    check_user_id(&id)?;
    authorize_user(state.session_key(), state.api_key(), &headers, &id)?;
    existing_user(&state, &id).await?;
    if *state.inner.closing.borrow() {
        return Err(ApiError::Unavailable("the server is shutting down".into()));
    }
    // Subscribe before computing the first list, so that nothing produced meanwhile is missed.
    let rx = state.inner.recs.subscribe();
    let first = fresh_recommendations(&state, &id, state.live().k).await?;
    let first = event(&state, &first);
    let cursor = Cursor {
        _open: HttpMetrics::stream_opened(&state),
        closing: state.inner.closing.subscribe(),
        state,
        user: id,
        rx,
    };
    let events = stream::once(async move { Ok(first) }).chain(stream::unfold(cursor, next));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
