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

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh database (PostgreSQL schema `bench_<name>` or a new SQLite file) and the app on it.
pub async fn start(backend: Backend, name: &str) -> Bench {
    let dir = std::env::temp_dir().join(format!("batconnect-bench-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
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
            sqlx::query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
                .execute(admin.reader())
                .await
                .unwrap();
            sqlx::query(format!("CREATE SCHEMA {schema}").as_str())
                .execute(admin.reader())
                .await
                .unwrap();
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
        let body: serde_json::Value = response.json().await.unwrap();
        let elapsed = started.elapsed();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        (elapsed, body)
    }
}
