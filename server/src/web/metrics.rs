//! `/metrics` in the Prometheus text exposition format: HTTP requests by route and status, a
//! latency histogram by route, open streams, the live loop's counters and the ensemble
//! members' health.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Latencies of one route.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Per bucket (not cumulative), plus one for +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// HTTP request metrics, updated by a middleware on every routed request.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// (route, method, status) -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route -> latencies.
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Server-Sent Event streams open now.
    streams_open: AtomicI64,
    /// Requests that matched no route.
    unmatched: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HttpMetrics {
    /// Records one request.
    pub fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        *lock(&self.requests)
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let mut latency = lock(&self.latency);
        let h = latency.entry(route.to_string()).or_default();
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        h.counts[bucket] += 1;
        h.sum += seconds;
        h.count += 1;
    }

    /// Counts a request that matched no route.
    pub fn record_unmatched(&self) {
        self.unmatched.fetch_add(1, Ordering::Relaxed);
    }

    /// A stream opened; the guard counts it closed when dropped.
    pub(super) fn stream_opened(state: &AppState) -> StreamGuard {
        state.metrics().streams_open.fetch_add(1, Ordering::Relaxed);
        StreamGuard(state.clone())
    }

    /// The requests recorded for `route` (any method and status).
    pub fn requests_for(&self, route: &str) -> u64 {
        lock(&self.requests)
            .iter()
            .filter(|((r, _, _), _)| r == route)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Counts an open stream until dropped.
#[derive(Debug)]
pub(super) struct StreamGuard(AppState);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0
            .metrics()
            .streams_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: times each routed request and counts it by route template and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = request.method().as_str().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    state.metrics().record(
        &route,
        &method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// A label value, escaped as the exposition format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = render(&state);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response()
}

fn render(state: &AppState) -> String {
    let m = state.metrics();
    let mut out = String::with_capacity(8 << 10);
    out.push_str(
        "# HELP recsys_http_requests_total HTTP requests by route template, method and status.\n\
         # TYPE recsys_http_requests_total counter\n",
    );
    for ((route, method, status), n) in lock(&m.requests).iter() {
        let _ = writeln!(
            out,
            "recsys_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
            label(route),
            label(method)
        );
    }
    let _ = writeln!(
        out,
        "# HELP recsys_http_unmatched_requests_total Requests that matched no route (404).\n\
         # TYPE recsys_http_unmatched_requests_total counter\n\
         recsys_http_unmatched_requests_total {}",
        m.unmatched.load(Ordering::Relaxed)
    );
    out.push_str(
        "# HELP recsys_http_request_duration_seconds Time to the response head, by route.\n\
         # TYPE recsys_http_request_duration_seconds histogram\n",
    );
    for (route, h) in lock(&m.latency).iter() {
        let route = label(route);
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += h.counts[i];
            let _ = writeln!(
                out,
                "recsys_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += h.counts[BUCKETS.len()];
        let _ = writeln!(
            out,
            "recsys_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}\n\
             recsys_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
             recsys_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
            h.sum, h.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP recsys_sse_streams_open Server-Sent Event streams open now.\n\
         # TYPE recsys_sse_streams_open gauge\n\
         recsys_sse_streams_open {}",
        m.streams_open.load(Ordering::Relaxed)
    );
    let c = &state.live().counters;
    for (name, help, value) in [
        (
            "events_published",
            "Preference events produced by this process.",
            &c.events_published,
        ),
        (
            "events_handled",
            "Events handled by this process's worker.",
            &c.events_handled,
        ),
        (
            "events_duplicate",
            "Events skipped as already handled.",
            &c.events_duplicate,
        ),
        (
            "events_malformed",
            "Events that could not be parsed.",
            &c.events_malformed,
        ),
        (
            "events_failed",
            "Events the engine refused.",
            &c.events_failed,
        ),
        (
            "retries",
            "Retries while the store or bus was away.",
            &c.retries,
        ),
        (
            "recommendations_pushed",
            "Recommendation messages pushed to open streams.",
            &c.recommendations_pushed,
        ),
        (
            "event_age_ms_sum",
            "Sum of event age at handling, in milliseconds.",
            &c.event_age_ms_sum,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP recsys_live_{name}_total {help}\n\
             # TYPE recsys_live_{name}_total counter\n\
             recsys_live_{name}_total {}",
            value.load(Ordering::Relaxed)
        );
    }
    out.push_str(
        "# HELP recsys_plugin_healthy 1 while an ensemble member serves, 0 once it failed.\n\
         # TYPE recsys_plugin_healthy gauge\n",
    );
    let members = state.engine().members();
    for (name, _, failure) in &members {
        let _ = writeln!(
            out,
            "recsys_plugin_healthy{{plugin=\"{}\"}} {}",
            label(name),
            u8::from(failure.is_none())
        );
    }
    out.push_str(
        "# HELP recsys_plugin_weight Fusion weight of each ensemble member.\n\
         # TYPE recsys_plugin_weight gauge\n",
    );
    for (name, weight, _) in &members {
        let _ = writeln!(
            out,
            "recsys_plugin_weight{{plugin=\"{}\"}} {weight}",
            label(name)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_their_buckets() {
        let m = HttpMetrics::default();
        m.record("/a", "GET", 200, 0.0001);
        m.record("/a", "GET", 404, 0.003);
        m.record("/a", "GET", 200, 100.0);
        assert_eq!(m.requests_for("/a"), 3);
        let latency = lock(&m.latency);
        let h = &latency["/a"];
        assert_eq!(h.count, 3);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[3], 1);
        assert_eq!(h.counts[BUCKETS.len()], 1);
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
