//! Shared helpers: the repository root, free ports, required services, and the `recsys`
//! binary run as a server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The directory the workspace builds the plugin libraries into (next to the test binary's
/// `deps/`).
pub fn artifact_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of `name`. Unset: under CI (`CI` set) the test fails, saying how to start the
/// service; elsewhere it is skipped with a notice on stderr (returns `None`).
pub fn required_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{name} is not set: run the tests through scripts/test.sh, which starts the test \
             services (scripts/test-services.sh up); tests that need them are never skipped in CI"
        ),
        _ => {
            eprintln!("skipped: {name} is not set; run `eval \"$(scripts/test-services.sh up)\"`");
            None
        }
    }
}

/// A plain HTTP/1.1 GET on 127.0.0.1:`port`: (status, body).
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    http(port, "GET", path, "", None)
}

/// `recsys serve` running as a child process on a small generated catalogue.
pub struct ServerProcess {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `recsys serve` on 127.0.0.1:`port` with its state in `state` and the extra
    /// environment `env`, and waits (up to 5 minutes: it generates, tunes and trains) until
    /// `/healthz` answers.
    pub fn start(env: &[(&str, &str)], port: u16, state: &Path) -> ServerProcess {
        let log = state.join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_recsys"));
        command
            .args(["serve", "--state-dir"])
            .arg(state)
            .env("RECSYS__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("RECSYS__PLUGINS__DIR", artifact_dir())
            .env("RECSYS__DEMO__USERS", "1500")
            .env("RECSYS__DEMO__ITEMS", "400")
            .env("RECSYS__DEMO__INTERACTIONS", "30000")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("recsys starts");
        let mut server = ServerProcess { child, port, log };
        let start = Instant::now();
        loop {
            if let Ok((status, _)) = http_get(port, "/healthz") {
                if status == 200 {
                    return server;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("recsys serve exited with {status}:\n{}", server.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "recsys serve did not answer /healthz in 5 minutes:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it and returns its log.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log_text()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request on 127.0.0.1:`port` with a bearer key (none when empty) and an
/// optional JSON body: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let auth = if key.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {key}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A Tansu broker of a test's own on 127.0.0.1:`port`, killed on drop.
pub struct Tansu {
    port: u16,
    advertised: u16,
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Tansu {
    /// Listens on `port` and tells clients to connect to `advertised` (a [`Proxy`] in front).
    pub fn advertising(port: u16, advertised: u16, log: std::path::PathBuf) -> Tansu {
        let mut tansu = Tansu {
            port,
            advertised,
            child: None,
            log,
        };
        tansu.spawn();
        tansu
    }

    fn spawn(&mut self) {
        let binary = std::env::var("RECSYS_TANSU").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            let installed = format!("{home}/.cargo/bin/tansu");
            if std::path::Path::new(&installed).exists() {
                installed
            } else {
                "tansu".into()
            }
        });
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised),
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start tansu (RECSYS_TANSU, ~/.cargo/bin/tansu or on PATH)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy on 127.0.0.1 that can be cut (open connections closed, new ones refused) and
/// restored on the same port: a server that goes away and comes back without losing its state.
pub struct Proxy {
    port: u16,
    upstream: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepter: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream`.
    pub fn start(port: u16, upstream: u16) -> Proxy {
        let mut proxy = Proxy {
            port,
            upstream,
            up: Default::default(),
            accepter: None,
        };
        proxy.restore();
        proxy
    }

    /// Listens again (the port is the same).
    pub fn restore(&mut self) {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        self.up.store(true, Ordering::SeqCst);
        let (up, upstream) = (self.up.clone(), self.upstream);
        self.accepter = Some(std::thread::spawn(move || {
            let mut pairs: Vec<(TcpStream, TcpStream)> = Vec::new();
            while up.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                            continue;
                        };
                        for (from, to) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap()),
                            (server.try_clone().unwrap(), client.try_clone().unwrap()),
                        ] {
                            std::thread::spawn(move || {
                                let (mut from, mut to) = (from, to);
                                let _ = std::io::copy(&mut from, &mut to);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                            });
                        }
                        pairs.push((client, server));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            // Cut: every connection closes, and the listener goes with this thread.
            for (client, server) in pairs {
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            }
        }));
    }

    /// Closes every connection and stops listening.
    pub fn cut(&mut self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}
