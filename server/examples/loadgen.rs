//! An open-loop HTTP load generator for `recsys serve`, for the serving benchmarks
//! (`scripts/bench-serve.sh`).
//!
//! ```text
//! loadgen rate URL --rate 1000 --seconds 20 [--connections 32] [--header 'Name: value']
//! loadgen sse BASE_URL --user ID --key API_KEY --asins A,B,C,... [--events 200]
//! ```
//!
//! `rate` sends GET requests on a fixed schedule (not "as fast as the server answers"), and
//! measures each latency from the time the request was *due*, so a stalled server shows up in
//! the tail instead of slowing the load down (no coordinated omission). It prints achieved
//! throughput, p50 / p90 / p99 / p99.9 / max and the non-2xx count.
//!
//! `sse` opens the user's Server-Sent-Events stream, then sets preferences one at a time and
//! measures from the POST to the arrival of the recommendations caused by that event (matched
//! by its `event_id`): the event -> store -> bus -> worker -> bus -> page path.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Target {
    host: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok(Target {
        host: host.to_string(),
        path: path.to_string(),
    })
}

/// Reads one HTTP/1.1 response (Content-Length bodies only); returns the status.
async fn read_response(reader: &mut BufReader<TcpStream>) -> Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    if line.is_empty() {
        bail!("connection closed");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .context("bad status line")?
        .parse()?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(status)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn rate(
    url: &str,
    rate: f64,
    seconds: f64,
    connections: usize,
    headers: &[String],
) -> Result<()> {
    let target = parse_url(url)?;
    let mut request = format!("GET {} HTTP/1.1\r\nHost: {}\r\n", target.path, target.host);
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let total = (rate * seconds).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let host = target.host.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&host).await?;
            stream.set_nodelay(true)?;
            let mut stream = BufReader::new(stream);
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            // Connection c sends requests c, c + connections, ... at their due times.
            let mut i = c;
            while i < total {
                let due = start + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                stream.get_mut().write_all(request.as_bytes()).await?;
                let status = read_response(&mut stream).await?;
                latencies.push(due.elapsed());
                if !(200..300).contains(&status) {
                    errors += 1;
                }
                i += connections;
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    println!(
        "{{\"mode\":\"rate\",\"target_rate\":{rate},\"requests\":{},\"achieved_rate\":{:.1},\"non_2xx\":{errors},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"max_ms\":{:.3}}}",
        all.len(),
        all.len() as f64 / elapsed,
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 90.0)),
        ms(percentile(&all, 99.0)),
        ms(percentile(&all, 99.9)),
        ms(all.last().copied().unwrap_or_default()),
    );
    Ok(())
}

async fn post(host: &str, path: &str, key: &str, body: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(host).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split_whitespace()
        .nth(1)
        .context("bad response")?
        .parse()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

async fn sse(base: &str, user: &str, key: &str, asins: &[String], events: usize) -> Result<()> {
    let target = parse_url(base)?;
    let host = target.host.clone();
    let stream = TcpStream::connect(&host).await?;
    let mut stream = BufReader::new(stream);
    let request = format!(
        "GET /api/users/{user}/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.get_mut().write_all(request.as_bytes()).await?;
    // Lines of the stream go to a channel; the measuring loop looks for each event id.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    tokio::spawn(async move {
        let mut line = String::new();
        loop {
            line.clear();
            match stream.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx.send((Instant::now(), line.clone())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    // Wait for the first (current) recommendations.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some((_, line)) = rx.recv().await {
            if line.starts_with("data:") {
                return true;
            }
        }
        false
    })
    .await?;
    if !first {
        bail!("the stream closed before the first recommendations");
    }
    let mut latencies = Vec::new();
    for i in 0..events {
        let asin = &asins[i % asins.len()];
        // Alternate like and dislike so that every event changes something.
        let kind = if (i / asins.len()) % 2 == 0 {
            "like"
        } else {
            "dislike"
        };
        let body = format!("{{\"asin\":\"{asin}\",\"kind\":\"{kind}\"}}");
        let sent = Instant::now();
        let (status, response) =
            post(&host, &format!("/api/users/{user}/preferences"), key, &body).await?;
        if status != 202 {
            bail!("POST preferences answered {status}: {response}");
        }
        let value: serde_json::Value = serde_json::from_str(&response)?;
        let id = value["event_id"]
            .as_str()
            .context("no event_id")?
            .to_string();
        let arrived = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some((at, line)) = rx.recv().await {
                if line.starts_with("data:") && line.contains(&id) {
                    return Some(at);
                }
            }
            None
        })
        .await?
        .context("the stream closed")?;
        latencies.push(arrived - sent);
    }
    latencies.sort();
    println!(
        "{{\"mode\":\"sse\",\"events\":{},\"p50_ms\":{:.2},\"p90_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    Ok(())
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("rate") => {
            let url = args.get(1).context("loadgen rate URL")?;
            let r: f64 = flag(&args, "--rate").unwrap_or("1000".into()).parse()?;
            let s: f64 = flag(&args, "--seconds").unwrap_or("20".into()).parse()?;
            let c: usize = flag(&args, "--connections").unwrap_or("32".into()).parse()?;
            let headers: Vec<String> = args
                .windows(2)
                .filter(|w| w[0] == "--header")
                .map(|w| w[1].clone())
                .collect();
            runtime.block_on(rate(url, r, s, c, &headers))
        }
        Some("sse") => {
            let base = args.get(1).context("loadgen sse BASE_URL")?;
            let user = flag(&args, "--user").context("--user")?;
            let key = flag(&args, "--key").context("--key")?;
            let asins: Vec<String> = flag(&args, "--asins")
                .context("--asins")?
                .split(',')
                .map(str::to_string)
                .collect();
            let events: usize = flag(&args, "--events").unwrap_or("200".into()).parse()?;
            runtime.block_on(sse(base, &user, &key, &asins, events))
        }
        _ => bail!("usage: loadgen rate URL [--rate R --seconds S --connections C --header H] | loadgen sse BASE_URL --user ID --key KEY --asins A,B [--events N]"),
    }
}
