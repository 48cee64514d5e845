//! The ledger reports at fleet scale (issue: aging, collections, statement of account):
//! 50,000 leases and 1,000,000 balances over 40 weeks, most paid by a week's earnings, some
//! in part, some open. Measures over HTTP, the median of repeated calls:
//! - receivables aging as of today (goal: under 1 s), and as of a past Sunday;
//! - weekly collections over the last 12 weeks (goal: under 500 ms);
//! - a lease's statement of account over a year (goal: under 100 ms).
//!
//! The rows are made by the database itself (a recursive row generator, the same SQL on
//! both backends), so seeding a million balances takes a minute or two, not the API's
//! hours. Prints one JSON document per backend.
//! `cargo bench --bench ledger_reports`; `BENCH_LEASES` (50000), `BENCH_BALANCES_PER_LEASE`
//! (20), `BENCH_BACKENDS=sqlite|postgres`, `BENCH_CALLS` (5; statements: 4×),
//! `BENCH_REUSE=1` to measure again without seeding.

mod common;

use std::time::{Duration, Instant};

use batconnect::db::Backend;
use common::{backends, env_usize, measure, seed_fleet, start, Bench};

const FIRST_ID: usize = 1001;
/// The current week of the bench's clock (Wednesday 2026-11-25).
const THIS_WEEK: &str = "2026-11-22";
const CATEGORIES: [&str; 5] = ["Lease", "Repair", "EZPass", "PVB", "Taxes"];

/// `base` plus `days` (an SQL integer expression) as a `YYYY-MM-DD` text.
fn plus_days(backend: Backend, base: &str, days: &str) -> String {
    match backend {
        Backend::Postgres => {
            format!("to_char(DATE '{base}' + CAST({days} AS INTEGER), 'YYYY-MM-DD')")
        }
        Backend::Sqlite => format!("date('{base}', ({days}) || ' days')"),
    }
}

/// Balance `i` (0-based) belongs to lease `FIRST_ID + i % leases`, in slot `i / leases`
/// (0 = oldest): slots fall due two weeks apart, the last on this week's days. The oldest
/// slots are paid in full by the earnings of their week, three in half, three are open.
async fn seed(bench: &Bench, leases: usize, per_lease: usize) -> Duration {
    seed_fleet(bench, FIRST_ID, leases).await;
    let started = Instant::now();
    let backend = bench.db.backend();
    let total = leases * per_lease;
    let slots = per_lease as i64;
    // Row i's fields as SQL over the generator's `i`.
    let lease = format!("({FIRST_ID} + i % {leases})");
    let slot = format!("(i / {leases})");
    let sunday_days = format!("(({slot} - {}) * 14)", slots - 1);
    let sunday = plus_days(backend, THIS_WEEK, &sunday_days);
    let due = plus_days(backend, THIS_WEEK, &format!("{sunday_days} + i % 7"));
    let posted_on = format!(
        "{} || 'T12:00:00Z'",
        plus_days(backend, THIS_WEEK, &format!("{sunday_days} - 3"))
    );
    let paid_on = format!(
        "{} || 'T10:30:00Z'",
        plus_days(backend, THIS_WEEK, &format!("{sunday_days} + 7"))
    );
    let category = format!(
        "CASE {slot} % 5 {} END",
        CATEGORIES
            .iter()
            .enumerate()
            .map(|(n, c)| format!("WHEN {n} THEN '{c}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let original = "(10000 + (i * 37) % 40000)";
    let paid = format!(
        "CASE WHEN {slot} < {} THEN {original} WHEN {slot} < {} THEN {original} / 2 ELSE 0 END",
        slots - 6,
        slots - 3
    );
    let chunk = 50_000;
    for from in (0..total).step_by(chunk) {
        let to = (from + chunk).min(total) - 1;
        let rows = format!(
            "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to})"
        );
        let mut tx = bench.db.begin().await.unwrap();
        for sql in [
            format!(
                "{rows} INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, medallion_id, \
                 payment_period, description, created_by, created_on) \
                 SELECT i + 1, {category}, {original}, 'OBLIGATION', 'POSTED', 'BENCH-' || CAST(i AS TEXT), {lease}, {lease}, {lease}, {lease}, NULL, NULL, 'bench', {posted_on} FROM n"
            ),
            format!(
                "{rows} INSERT INTO ledger_balances (id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id, original_cents, \
                 balance_cents, due_date, status, created_on, updated_on) \
                 SELECT i + 1, {category}, 'BENCH-' || CAST(i AS TEXT), i + 1, {lease}, {lease}, {lease}, {lease}, {original}, {original} - ({paid}), {due}, \
                 CASE WHEN {slot} < {} THEN 'CLOSED' ELSE 'OPEN' END, {posted_on}, {posted_on} FROM n",
                slots - 6
            ),
            format!(
                "{rows} INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, medallion_id, \
                 payment_period, description, created_by, created_on) \
                 SELECT {total} + i + 1, 'Earnings', -({paid}), 'EARNINGS', 'POSTED', 'BENCH-E-' || CAST(i AS TEXT), {lease}, {lease}, {lease}, {lease}, {sunday}, NULL, 'bench', {paid_on} \
                 FROM n WHERE {slot} < {}",
                slots - 3
            ),
            format!(
                "{rows} INSERT INTO ledger_allocations (id, payment_posting_id, balance_id, amount_cents, created_on, reversed, \
                 payment_type, payment_period, at_once, category, adjustment) \
                 SELECT i + 1, {total} + i + 1, i + 1, {paid}, {paid_on}, 0, 'EARNINGS', {sunday}, 0, {category}, 0 FROM n WHERE {slot} < {}",
                slots - 3
            ),
        ] {
            // Generated text only (no user input).
            sqlx::query(sql.as_str()).persistent(false).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
        tx.commit().await.unwrap();
    }
    let mut tx = bench.db.begin().await.unwrap();
    sqlx::query("ANALYZE").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    eprintln!(
        "  {total} balances seeded in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    started.elapsed()
}

async fn run(backend: Backend) -> serde_json::Value {
    let leases = env_usize("BENCH_LEASES", 50_000);
    let per_lease = env_usize("BENCH_BALANCES_PER_LEASE", 20);
    let calls = env_usize("BENCH_CALLS", 5);
    let bench = start(backend, "ledger_reports").await;
    let seeded = if common::reuse() {
        Duration::ZERO
    } else {
        seed(&bench, leases, per_lease).await
    };
    let (aging, aging_body) = measure(&bench, 1, calls, |_| "/reports/aging".to_string()).await;
    let rows = aging_body["total_items"].as_i64().unwrap_or(0);
    assert!(rows > 0, "{}", aging_body["totals"]);
    let (aging_past, _) = measure(&bench, 1, calls, |_| {
        "/reports/aging?as_of=2026-10-04".to_string()
    })
    .await;
    let (collections, collections_body) = measure(&bench, 1, calls, |_| {
        "/reports/collections?from_week=2026-09-06&to_week=2026-11-22".to_string()
    })
    .await;
    assert_eq!(collections_body["weeks"].as_array().map_or(0, Vec::len), 12);
    let (statement, statement_body) = measure(&bench, 1, calls * 4, |i| {
        format!(
            "/ledger/leases/{}/statement?from=2025-11-26&to=2026-11-25",
            FIRST_ID + (i * 7919) % leases
        )
    })
    .await;
    serde_json::json!({
        "backend": backend.name(),
        "leases": leases,
        "balances": leases * per_lease,
        "seed_s": (seeded.as_secs_f64() * 10.0).round() / 10.0,
        "aging_today": aging,
        "aging_rows": rows,
        "aging_total": aging_body["totals"]["total"],
        "aging_as_of_2026_10_04": aging_past,
        "collections_12_weeks": collections,
        "collected_12_weeks": collections_body["totals"]["collected"],
        "statement_one_year": statement,
        "statement_entries": statement_body["entries"].as_array().map_or(0, Vec::len),
    })
}

#[tokio::main]
async fn main() {
    for backend in backends() {
        let figures = run(backend).await;
        println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    }
}
