//! Export speed and memory over HTTP on 1,000,000 invoices: the CSV export streams every
//! row; XLSX and PDF render their first 100,000.
//!
//! The parent process seeds the database, then runs each export in a fresh child process
//! (this same binary) that starts the service on the seeded database and downloads the
//! file, reading the body chunk by chunk. Its peak RSS (`VmHWM`, server and client
//! together, reset after start-up and login) is therefore the download's own, not
//! inflated by the seeding. Prints one JSON document per backend. A child alone can be
//! run on an already seeded database with `BENCH_CHILD_BACKEND=sqlite|postgres` and
//! `BENCH_CHILD_QUERY=format=csv`.
//!
//! `cargo bench --bench exports`; `BENCH_INVOICES` (default 1000000),
//! `BENCH_BACKENDS=sqlite|postgres`, `BENCH_FORMATS` (default `csv,excel,pdf`).

mod common;

use std::time::{Duration, Instant};

use batconnect::app::Options;
use batconnect::clock::Clock;
use batconnect::config::Config;
use batconnect::db::Backend;
use chrono::{TimeZone, Utc};
use common::{backends, env_usize, start, Bench};
use rand::{Rng, SeedableRng};

const NAMES: &[&str] = &[
    "Ahmed Khan",
    "Maria Rodriguez",
    "John Smith",
    "Wei Chen",
    "Fatima Diallo",
    "Carlos Gomez",
    "Olga Petrova",
    "Kwame Mensah",
    "Priya Patel",
    "José Núñez",
    "Mary O'Connor",
    "Grace Okafor",
];
const STATUSES: &[&str] = &["Open", "Open", "Open", "Open", "Closed", "Hold"];
const WORKSHOPS: &[&str] = &["Big Apple Workshop", "External Workshop"];
const LEASE_TYPES: &[&str] = &[
    "dov",
    "long-term",
    "short-term",
    "shift-lease",
    "medallion-only",
];

/// Inserts `count` invoices in multi-row literal INSERTs (generated text only), 1,000 a
/// statement, 10 statements a transaction.
async fn seed(bench: &Bench, count: usize) -> Duration {
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let base_date = chrono::NaiveDate::from_ymd_opt(2024, 12, 1).unwrap();
    let mut done = 0;
    while done < count {
        let mut tx = bench.db.begin().await.unwrap();
        for _ in 0..10 {
            let n = 1000.min(count - done);
            if n == 0 {
                break;
            }
            let mut sql = String::with_capacity(n * 420);
            sql.push_str(
                "INSERT INTO repair_invoices (repair_id, invoice_number, invoice_date, driver_id, lease_id, vehicle_id, medallion_id, \
                 driver_name, lease_ref, lease_type, medallion_number, vin, workshop_type, notes, total_amount_cents, weekly_installment_cents, \
                 start_week, status, case_no, created_by, created_on, updated_by, updated_on, invoice_number_key, workshop_id) VALUES ",
            );
            for i in 0..n {
                let k = done + i + 1;
                let lease = (k % 20) + 1;
                let r: f64 = rng.gen();
                let total: i64 = 5_000 + (r * r * 295_000.0) as i64;
                let weekly = domain::matrix::RepaymentMatrix::default()
                    .weekly_installment(domain::money::Money::from_cents(total))
                    .cents();
                let date = base_date + chrono::Duration::days(rng.gen_range(0..720));
                let start = domain::calendar::week_start_of(date) + chrono::Duration::days(7);
                let name = NAMES[rng.gen_range(0..NAMES.len())].replace('\'', "''");
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "('RPR-X-{k:07}', 'XINV-{k:07}', '{date}', {lease}, {lease}, {lease}, {lease}, '{name}', 'LS-{:05}', '{}', 'M{lease:02}', \
                     'VIN{lease:014}', '{}', NULL, {total}, {weekly}, '{start}', '{}', NULL, 'bench', '2026-01-01T00:00:00Z', 'bench', '2026-01-01T00:00:00Z', 'xinv-{k:07}', {})",
                    1000 + lease,
                    LEASE_TYPES[lease % LEASE_TYPES.len()],
                    WORKSHOPS[k % 2],
                    STATUSES[rng.gen_range(0..STATUSES.len())],
                    k % 2 + 1,
                ));
            }
            sqlx::query(sql.as_str()).execute(&mut *tx).await.unwrap();
            done += n;
        }
        tx.commit().await.unwrap();
        if done % 100_000 == 0 {
            eprintln!(
                "  seeded {done} invoices in {:.0}s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    started.elapsed()
}

/// (VmRSS, VmHWM) of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

/// Child process: starts the service on the database the parent seeded and downloads one
/// export, reading the body chunk by chunk (never holding it); prints what it measured.
async fn child(backend: Backend, query: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join("batconnect-bench-exports");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/bench.db", dir.display()),
        Backend::Postgres => format!(
            "{}?options=-c%20search_path%3Dbench_exports",
            std::env::var("BAT_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
        ),
    };
    let env = [
        ("BAT_DATABASE_URL", url),
        ("BAT_LISTEN", "127.0.0.1:0".to_string()),
        ("BAT_DATA_DIR", dir.display().to_string()),
        ("BAT_ADMIN_PASSWORD", "bench-admin-pass".to_string()),
        ("BAT_DB_MAX_CONNECTIONS", "8".to_string()),
        ("BAT_SCHEDULER", "off".to_string()),
    ];
    let config =
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let options = Options {
        clock: Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()),
        hash_cost: None,
        demo: false,
    };
    let app = batconnect::Application::build(config, options)
        .await
        .expect("app");
    let address = format!("http://{}", app.local_addr());
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
    // Start-up and the login's Argon2 hash (19 MiB) set a peak of their own; reset it
    // (Linux: "5" to clear_refs) so the peak below is the download's.
    let (_, startup_peak) = memory_kib();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let (rss_before, peak_before) = memory_kib();
    let started = Instant::now();
    let mut response = client
        .get(format!(
            "{address}/payments/vehicle-repairs/list/export?{query}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let first_byte = started.elapsed();
    assert!(status.is_success(), "{query}: {status}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let mut bytes: u64 = 0;
    let mut newlines: u64 = 0;
    let mut head = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if head.len() < 5 {
            head.extend_from_slice(&chunk[..chunk.len().min(5)]);
        }
    }
    let total = started.elapsed();
    let (rss_after, peak) = memory_kib();
    let mut result = serde_json::json!({
        "query": query,
        "content_type": content_type,
        "starts_with": String::from_utf8_lossy(&head[..head.len().min(5)]),
        "time_to_first_byte_ms": (first_byte.as_secs_f64() * 1000.0).round(),
        "seconds": (total.as_secs_f64() * 100.0).round() / 100.0,
        "bytes": bytes,
        "mib_per_second": ((bytes as f64 / 1_048_576.0) / total.as_secs_f64() * 10.0).round() / 10.0,
        "process_startup_peak_mib": mib(startup_peak),
        "peak_reset_before_download": reset,
        "process_rss_before_mib": mib(rss_before),
        "process_peak_before_mib": mib(peak_before),
        "process_rss_after_mib": mib(rss_after),
        "process_peak_rss_mib": mib(peak),
    });
    if content_type.starts_with("text/csv") {
        result["csv_rows_without_header"] = (newlines - 1).into();
    }
    result
}

/// Runs one export in a fresh process of this benchmark and returns its measurements.
fn export(backend: Backend, query: &str) -> serde_json::Value {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_CHILD_BACKEND", backend.name())
        .env("BENCH_CHILD_QUERY", query)
        .output()
        .expect("run the export child");
    assert!(
        output.status.success(),
        "export child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("child JSON")
}

async fn run(backend: Backend) -> serde_json::Value {
    let invoices = env_usize("BENCH_INVOICES", 1_000_000);
    let formats = std::env::var("BENCH_FORMATS").unwrap_or_else(|_| "csv,excel,pdf".into());
    let bench = start(backend, "exports").await;
    let seed_time = seed(&bench, invoices).await;
    sqlx::query("ANALYZE")
        .execute(bench.db.reader())
        .await
        .unwrap();
    bench.db.close().await;
    let mut results = serde_json::Map::new();
    for format in formats.split(',') {
        eprintln!("  exporting {format}…");
        results.insert(
            format!("{format}_all"),
            export(backend, &format!("format={format}")),
        );
    }
    // What the figures are of: the CSV holds every invoice (a row each), XLSX and PDF the
    // first 100,000 (and the cut-short line).
    if let Some(csv) = results.get("csv_all") {
        assert_eq!(csv["csv_rows_without_header"], invoices as u64, "{csv}");
    }
    for format in ["excel", "pdf"] {
        if let Some(file) = results.get(&format!("{format}_all")) {
            assert!(file["bytes"].as_u64().unwrap() > 0, "{file}");
        }
    }
    if formats.contains("csv") {
        results.insert(
            "csv_open_by_amount".into(),
            export(
                backend,
                "format=csv&status=Open&sort_by=amount&sort_order=asc",
            ),
        );
    }
    serde_json::json!({
        "backend": backend.name(),
        "invoices": invoices,
        "seed_seconds": (seed_time.as_secs_f64() * 10.0).round() / 10.0,
        "exports": results,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let (Ok(backend), Ok(query)) = (
        std::env::var("BENCH_CHILD_BACKEND"),
        std::env::var("BENCH_CHILD_QUERY"),
    ) {
        let backend = if backend == "postgres" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let result = child(backend, &query).await;
        println!("{result}");
        return;
    }
    for backend in backends() {
        let result = run(backend).await;
        println!("{}", serde_json::to_string_pretty(&result).unwrap());
    }
}
