//! A burst of wrong logins against the real server process (`batconnect serve --demo`, the
//! release binary, production password hashing) and what it does to the server's memory:
//! resident set before, at its peak (sampled every 5 ms from /proc) and two seconds after.
//! `cargo bench --bench login_burst`; `BENCH_LOGINS` (200). Goal: peak under 150 MiB,
//! after within 20 MiB of before. Prints one JSON document.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server's resident set in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let logins = std::env::var("BENCH_LOGINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200usize);
    let dir = std::env::temp_dir().join(format!("batconnect-bench-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["serve", "--demo"])
            .env(
                "BAT_DATABASE_URL",
                format!("sqlite://{}/login.db", dir.display()),
            )
            .env("BAT_DATA_DIR", dir.display().to_string())
            .env("BAT_LISTEN", format!("127.0.0.1:{port}"))
            .env("BAT_ADMIN_PASSWORD", "bench-admin-pass")
            .env("BAT_SCHEDULER", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the batconnect binary"),
    );
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid);

    let peak = Arc::new(AtomicU64::new(before));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let burst = Instant::now();
    let requests: Vec<_> = (0..logins)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            // Half against a real user, half against usernames that do not exist.
            let username = if i % 2 == 0 {
                "admin".to_string()
            } else {
                format!("nobody{i}")
            };
            tokio::spawn(async move {
                client
                    .post(format!("{base}/auth/login"))
                    .json(&serde_json::json!({"username": username, "password": "wrong password"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for request in requests {
        *statuses.entry(request.await.unwrap()).or_default() += 1;
    }
    let burst_seconds = burst.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    let after = rss_kib(pid);
    let peak = peak.load(Ordering::Relaxed);
    let report = serde_json::json!({
        "process": "batconnect serve --demo (release, SQLite, production argon2id)",
        "logins": logins,
        "burst_seconds": (burst_seconds * 100.0).round() / 100.0,
        "statuses": statuses,
        "rss_before_mib": mib(before),
        "rss_peak_mib": mib(peak),
        "rss_after_mib": mib(after),
        "goal_peak_under_150_mib": mib(peak) < 150.0,
        "goal_after_within_20_mib": mib(after) - mib(before) <= 20.0,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    // Every wrong login was answered, and only as a refusal: 401, or 429/503 once throttled.
    assert_eq!(statuses.values().sum::<usize>(), logins, "{statuses:?}");
    assert!(
        statuses.keys().all(|s| matches!(s, 401 | 429 | 503)),
        "a wrong login got something other than 401, 429 or 503: {statuses:?}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
