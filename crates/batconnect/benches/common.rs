//! Shared by the benchmarks: a running app on a chosen backend, HTTP timing, JSON output.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use batconnect::app::Options;
use batconnect::clock::Clock;
use batconnect::config::Config;
use batconnect::db::{Backend, Db};
use chrono::{TimeZone, Utc};

pub struct Bench {
    pub db: Db,
    pub address: String,
    pub client: reqwest::Client,
    pub token: String,
    pub clock: Clock,
}

pub fn backends() -> Vec<Backend> {
    match std::env::var("BENCH_BACKENDS").as_deref() {
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Postgres, Backend::Sqlite],
    }
}

/// `BENCH_REUSE=1`: keep the database a previous run seeded and skip seeding.
pub fn reuse() -> bool {
    std::env::var("BENCH_REUSE").is_ok_and(|v| v == "1")
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh database (PostgreSQL schema `bench_<name>` or a new SQLite file) and the app on it.
pub async fn start(backend: Backend, name: &str) -> Bench {
    let dir = std::env::temp_dir().join(format!("batconnect-bench-{name}"));
    if !reuse() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/bench.db", dir.display()),
        Backend::Postgres => {
            let base = std::env::var("BAT_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let admin = Db::connect(&base, 1)
                .await
                .expect("PostgreSQL for the benchmark");
            let schema = format!("bench_{name}");
            // BENCH_REUSE=1 measures again on the data a previous run seeded.
            if !reuse() {
                sqlx::query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
                    .execute(admin.reader())
                    .await
                    .unwrap();
                sqlx::query(format!("CREATE SCHEMA {schema}").as_str())
                    .execute(admin.reader())
                    .await
                    .unwrap();
            }
            admin.close().await;
            format!("{base}?options=-c%20search_path%3D{schema}")
        }
    };
    let env = [
        ("BAT_DATABASE_URL", url),
        ("BAT_LISTEN", "127.0.0.1:0".to_string()),
        ("BAT_DATA_DIR", dir.display().to_string()),
        ("BAT_ADMIN_PASSWORD", "bench-admin-pass".to_string()),
        ("BAT_DB_MAX_CONNECTIONS", "8".to_string()),
        // The benchmarks run each step themselves, on data they seeded.
        ("BAT_SCHEDULER", "off".to_string()),
    ];
    let config =
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let clock = Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap());
    let options = Options {
        clock: clock.clone(),
        hash_cost: None,
        demo: true,
    };
    let app = batconnect::Application::build(config, options)
        .await
        .expect("app");
    let address = format!("http://{}", app.local_addr());
    let db = app.state().db.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{address}/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": "bench-admin-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    Bench {
        db,
        address,
        client,
        token,
        clock,
    }
}

/// Median and p99 in milliseconds.
pub fn summarize(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let n = samples.len();
    serde_json::json!({
        "calls": n,
        "median_ms": ms(samples[n / 2]),
        "p99_ms": ms(samples[((n * 99) / 100).min(n - 1)]),
        "max_ms": ms(samples[n - 1]),
    })
}

/// `warmups` calls first (caches and prepared statements warm, as in service), then
/// `calls` timed calls of `path(i)`: their summary and the last answer.
pub async fn measure(
    bench: &Bench,
    warmups: usize,
    calls: usize,
    path: impl Fn(usize) -> String,
) -> (serde_json::Value, serde_json::Value) {
    for i in 0..warmups {
        bench.time_get(&path(i)).await;
    }
    let mut samples = Vec::with_capacity(calls);
    let mut last = serde_json::Value::Null;
    for i in 0..calls {
        let (elapsed, body) = bench.time_get(&path(i)).await;
        samples.push(elapsed);
        last = body;
    }
    (summarize(samples), last)
}

impl Bench {
    pub async fn time_get(&self, path: &str) -> (Duration, serde_json::Value) {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        // Timed to the last byte of the answer; the client's own parsing is not the
        // service's time (it is a large share of it for a report of 250,000 rows).
        let bytes = response.bytes().await.unwrap();
        let elapsed = started.elapsed();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        (elapsed, body)
    }
}

pub const FIRST: &[&str] = &[
    "Ahmed", "Maria", "John", "Wei", "Fatima", "Carlos", "Olga", "Kwame", "Priya", "Luis",
    "Samantha", "Mohammed", "Elena", "Jamal", "Hiroshi", "Grace", "Omar", "Ana", "Tenzin", "Yusuf",
    "Rosa", "Dmitri", "Aisha", "Brian",
];
pub const LAST: &[&str] = &[
    "Khan",
    "Rodriguez",
    "Smith",
    "Chen",
    "Diallo",
    "Gomez",
    "Petrova",
    "Mensah",
    "Patel",
    "Fernandez",
    "Johnson",
    "Hassan",
    "Popescu",
    "Williams",
    "Tanaka",
    "Okafor",
    "Farouk",
    "Silva",
    "Dorje",
    "Ali",
    "Martinez",
    "Ivanov",
    "Bello",
    "OConnor",
];
pub const LEASE_TYPES: &[&str] = &[
    "dov",
    "long-term",
    "short-term",
    "shift-lease",
    "medallion-only",
];

/// Name of bench driver `k`: first, middle initial, last (about 15,000 distinct names).
pub fn driver_name(k: usize) -> String {
    let middle = (b'A' + (k / (FIRST.len() * LAST.len()) % 26) as u8) as char;
    format!(
        "{} {middle}. {}",
        FIRST[k % FIRST.len()],
        LAST[(k / FIRST.len()) % LAST.len()]
    )
}

/// Inserts `n` drivers, vehicles, medallions and active leases (each driver manages the lease
/// with the same id) with explicit ids `first_id..first_id + n`, in batched statements.
pub async fn seed_fleet(bench: &Bench, first_id: usize, n: usize) {
    let started = Instant::now();
    for chunk_start in (0..n).step_by(1000) {
        let ids: Vec<usize> =
            (first_id + chunk_start..first_id + (chunk_start + 1000).min(n)).collect();
        let values =
            |f: &dyn Fn(usize) -> String| ids.iter().map(|&k| f(k)).collect::<Vec<_>>().join(",");
        let statements = [
            format!("INSERT INTO drivers (id, driver_id, first_name, middle_name, last_name, full_name, tlc_license_no, status, pay_to, created_on, created_by) VALUES {}",
                values(&|k| { let name = driver_name(k); let parts: Vec<&str> = name.split(' ').collect();
                    format!("({k}, 'BD-{k:07}', '{}', '{}', '{}', '{name}', '{}', 'Active', 'ACH', '2026-01-01T00:00:00Z', 'bench')", parts[0], parts[1], parts[2], 60_000_000 + k) })),
            format!("INSERT INTO vehicles (id, vin, make, model, year, plate_number, created_on, created_by) VALUES {}",
                values(&|k| format!("({k}, 'BV{k:015}', 'Toyota', 'Camry Hybrid', 2024, 'T{:06}C', '2026-01-01T00:00:00Z', 'bench')", k % 1_000_000))),
            format!("INSERT INTO medallions (id, medallion_number, status, created_on, created_by) VALUES {}",
                values(&|k| format!("({k}, 'BM{k:06}', 'Assigned', '2026-01-01T00:00:00Z', 'bench')"))),
            format!("INSERT INTO leases (id, lease_id, lease_type, status, weekly_rate_cents, vehicle_id, medallion_id, start_date, created_on, created_by) VALUES {}",
                values(&|k| format!("({k}, 'BL-{k:07}', '{}', 'Active', 45000, {k}, {k}, '2025-01-05', '2026-01-01T00:00:00Z', 'bench')", LEASE_TYPES[k % LEASE_TYPES.len()]))),
            format!("INSERT INTO lease_drivers (lease_id, driver_id, is_driver_manager, is_additional_driver, created_on) VALUES {}",
                values(&|k| format!("({k}, {k}, 1, 0, '2026-01-01T00:00:00Z')"))),
        ];
        let mut tx = bench.db.begin().await.unwrap();
        for sql in &statements {
            // Generated text only (no user input).
            sqlx::query(sql.as_str())
                .persistent(false)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    eprintln!(
        "  fleet of {n} leases seeded in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
