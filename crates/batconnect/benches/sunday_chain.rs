//! The Sunday chain at fleet scale: post 200,000 due installments (50,000 leases) and the
//! week's rent of the 50,000 leases, apply earnings for 50,000 leases (to last week's rent
//! and the installments) and generate 50,000 DTRs. Also measures the floor in the same
//! run: a bare batched INSERT of the same posting rows into a copy of `ledger_postings`
//! (and that again over as many connections as the posting run uses, and into a table
//! without indexes). Prints JSON.
//! `cargo bench --bench sunday_chain`; `BENCH_LEASES` (50000), `BENCH_BACKENDS`.
//! Growth: `BENCH_LEASES=50000,200000` runs the sizes one after the other (each on a fresh
//! database) and prints, after each size's figures, each step's growth from the first size:
//! a linear step grows as the work does (4× for 4× the leases). `chain_peak_rss_mb` is the
//! chain's own peak (the high-water mark is reset through `/proc/self/clear_refs` once the
//! fleet is seeded).

mod common;

use std::time::Instant;

use batconnect::db::Backend;
use common::{backends, seed_fleet, start, Bench};

const FIRST_ID: usize = 1001;
const INSTALLMENTS_DUE: usize = 4;

/// Resets the process's peak resident set size (Linux), so the next reading is the peak
/// since now.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| (kb / 1024.0 * 10.0).round() / 10.0)
        .unwrap_or(0.0)
}

/// One Open invoice per lease with `INSTALLMENTS_DUE` installments due by 2026-11-22.
async fn seed_work(bench: &Bench, leases: usize) {
    let started = Instant::now();
    let weeks = ["2026-10-25", "2026-11-01", "2026-11-08", "2026-11-15"];
    let ends = ["2026-10-31", "2026-11-07", "2026-11-14", "2026-11-21"];
    for chunk_start in (0..leases).step_by(1000) {
        let ids: Vec<usize> =
            (FIRST_ID + chunk_start..FIRST_ID + (chunk_start + 1000).min(leases)).collect();
        let mut tx = bench.db.begin().await.unwrap();
        let invoices: Vec<String> = ids
            .iter()
            .map(|k| {
                format!(
                    "('RPR-C-{k:07}', 'CINV-{k:07}', '2026-10-20', {k}, {k}, {k}, {k}, 'Driver {k}', 'BL-{k:07}', 'long-term', 'BM{k:06}', 'BV{k:015}', \
                     'Big Apple Workshop', NULL, 100000, 25000, '2026-10-25', 'Open', NULL, 'bench', 'now', 'bench', 'now', 'cinv-{k:07}', 1)"
                )
            })
            .collect();
        // Generated text only (no user input).
        sqlx::query(format!(
            "INSERT INTO repair_invoices (repair_id, invoice_number, invoice_date, driver_id, lease_id, vehicle_id, medallion_id, driver_name, lease_ref, \
             lease_type, medallion_number, vin, workshop_type, notes, total_amount_cents, weekly_installment_cents, start_week, status, case_no, \
             created_by, created_on, updated_by, updated_on, invoice_number_key, workshop_id) VALUES {}",
            invoices.join(",")
        )
        .as_str())
        .persistent(false)
        .execute(&mut *tx)
        .await
        .unwrap();
        let installments: Vec<String> = ids
            .iter()
            .flat_map(|k| {
                (0..INSTALLMENTS_DUE).map(move |n| {
                    format!(
                        "('RPR-C-{k:07}-{:02}', (SELECT id FROM repair_invoices WHERE repair_id = 'RPR-C-{k:07}'), {}, '{}', '{}', 25000, 'Scheduled', 'now')",
                        n + 1,
                        n + 1,
                        weeks[n],
                        ends[n]
                    )
                })
            })
            .collect();
        sqlx::query(format!(
            "INSERT INTO repair_installments (installment_id, invoice_id, sequence, week_start_date, week_end_date, principal_amount_cents, status, created_on) VALUES {}",
            installments.join(",")
        )
        .as_str())
        .persistent(false)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    eprintln!(
        "  {leases} invoices, {} installments seeded in {:.1}s",
        leases * INSTALLMENTS_DUE,
        started.elapsed().as_secs_f64()
    );
}

/// Where the floor's rows go.
#[derive(Clone, Copy, PartialEq)]
enum FloorTable {
    /// A copy of `ledger_postings`: its columns, constraints and indexes.
    LedgerCopy,
    /// The same columns, no index at all.
    IndexFree,
}

/// The floor: a bare batched INSERT of the posting rows the run makes — the same values,
/// in the run's order ((week, id)) and batches — and nothing else: no balance, no status
/// change, no search for what is due. The batches are spread over `connections`
/// connections inserting side by side, as the run's walks are on PostgreSQL.
async fn floor(bench: &Bench, rows: usize, kind: FloorTable, connections: usize) -> f64 {
    let table = match kind {
        FloorTable::LedgerCopy => format!("floor_ledger_{connections}"),
        FloorTable::IndexFree => format!("floor_bare_{connections}"),
    };
    for sql in floor_table_ddl(bench, &table, kind).await {
        sqlx::query(sql.as_str())
            .execute(bench.db.reader())
            .await
            .unwrap();
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM repair_installments ORDER BY week_start_date, id")
            .fetch_all(bench.db.reader())
            .await
            .unwrap();
    assert_eq!(rows, ids.len());
    let batch = batconnect::repairs::jobs::default_batch_size(bench.db.backend());
    let chunks: Vec<&[i64]> = ids.chunks(batch).collect();
    settle(bench).await;
    let started = Instant::now();
    futures_util::future::join_all((0..connections).map(|worker| {
        let chunks = chunks
            .iter()
            .skip(worker)
            .step_by(connections)
            .copied()
            .collect::<Vec<_>>();
        insert_floor_chunks(bench, &table, chunks)
    }))
    .await;
    made_durable(bench).await;
    let seconds = started.elapsed().as_secs_f64();
    // Gone before the next measurement, so that one does not pay for vacuuming it.
    sqlx::query(format!("DROP TABLE {table}").as_str())
        .execute(bench.db.reader())
        .await
        .unwrap();
    seconds
}

/// Every measured step starts from the same state: earlier writes flushed from the WAL
/// (and, on PostgreSQL, from the buffers) rather than paid for by the step being timed.
async fn settle(bench: &Bench) {
    let sql = match bench.db.backend() {
        Backend::Postgres => "CHECKPOINT",
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    sqlx::query(sql).execute(bench.db.reader()).await.unwrap();
}

/// Every measured write step ends with its rows durable. PostgreSQL's commits are (the WAL
/// is flushed at each); SQLite's in WAL mode with `synchronous = NORMAL` are once the WAL
/// is checkpointed, which the posting run's bigger WAL reaches during the run and the
/// floor's might not, so both end with a checkpoint.
async fn made_durable(bench: &Bench) {
    if bench.db.backend() == Backend::Sqlite {
        settle(bench).await;
    }
}

/// `CREATE` statements of the floor's table: for a copy, `ledger_postings`' own definition.
async fn floor_table_ddl(bench: &Bench, table: &str, kind: FloorTable) -> Vec<String> {
    match (kind, bench.db.backend()) {
        (FloorTable::IndexFree, _) => vec![format!(
            "CREATE TABLE {table} (id BIGINT, category TEXT, amount_cents BIGINT, entry_type TEXT, status TEXT, reference_id TEXT, \
             reversal_for_id BIGINT, driver_id BIGINT, lease_id BIGINT, vehicle_id BIGINT, medallion_id BIGINT, payment_period TEXT, \
             description TEXT, created_by TEXT, created_on TEXT)"
        )],
        (FloorTable::LedgerCopy, Backend::Postgres) => {
            vec![format!("CREATE TABLE {table} (LIKE ledger_postings INCLUDING ALL)")]
        }
        (FloorTable::LedgerCopy, Backend::Sqlite) => sqlx::query_scalar::<_, String>(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_postings' AND type IN ('table', 'index') \
             AND sql IS NOT NULL ORDER BY type DESC",
        )
        .fetch_all(bench.db.reader())
        .await
        .unwrap()
        .into_iter()
        .map(|sql| sql.replace("ledger_postings", table))
        .collect(),
    }
}

async fn insert_floor_chunks(bench: &Bench, table: &str, chunks: Vec<&[i64]>) {
    for chunk in chunks {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = bench.db.begin().await.unwrap();
        // The row the posting run makes (repairs::jobs), column for column.
        sqlx::query(format!(
            "INSERT INTO {table} (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, medallion_id, \
             payment_period, description, created_by, created_on) \
             SELECT 'Repair', i.principal_amount_cents, 'OBLIGATION', 'POSTED', i.installment_id, v.driver_id, v.lease_id, v.vehicle_id, \
             v.medallion_id, i.week_start_date, 'Repair installment ' || i.installment_id || ' (invoice ' || v.invoice_number || ')', \
             'bench', 'now' \
             FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE i.id IN ({list})"
        )
        .as_str())
        .persistent(false)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// The week of 2026-11-15's earnings for every lease, through the service the API and the
/// import use, in requests of 10,000 rows (its limit); returns the seconds taken.
async fn record_earnings(bench: &Bench, leases: usize) -> f64 {
    let now = bench.clock.now();
    let started = Instant::now();
    let rows: Vec<batconnect::ledger::payments::EarningsInput> = (FIRST_ID..FIRST_ID + leases)
        .map(|k| batconnect::ledger::payments::EarningsInput {
            lease_id: k as i64,
            driver_id: None,
            period: "2026-11-15".into(),
            amount: serde_json::Value::String(format!("{}.00", 600 + (k % 50) * 10)),
        })
        .collect();
    let current_week = domain::calendar::current_payment_period(now, chrono_tz::America::New_York);
    for request in rows.chunks(10_000) {
        let parsed = batconnect::ledger::payments::parse_earnings(request, current_week).unwrap();
        let mut tx = bench.db.begin().await.unwrap();
        let recorded =
            batconnect::ledger::payments::record_earnings(&mut tx, &parsed, "bench", now)
                .await
                .unwrap();
        assert_eq!(recorded.len(), request.len());
        tx.commit().await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

async fn run(backend: Backend, leases: usize) -> serde_json::Value {
    let bench = start(backend, &format!("chain{leases}")).await;
    seed_fleet(&bench, FIRST_ID, leases).await;
    seed_work(&bench, leases).await;
    let earnings_seconds = record_earnings(&bench, leases).await;
    // Last Sunday's chain posted the rent of the week of 11/15 (go-live that week).
    let rent_start = domain::calendar::SundayDate::parse("2026-11-15").unwrap();
    let last_week = batconnect::fleet::rent::post_weekly_rent(
        &bench.db,
        rent_start,
        Some(rent_start),
        "bench",
        bench.clock.now(),
    )
    .await
    .unwrap();
    // Every lease of the fleet (the benchmark's and the 20 demo leases) is billed.
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE status = 'Active'")
        .fetch_one(bench.db.reader())
        .await
        .unwrap();
    assert_eq!(last_week.posted, active);
    let maintenance = if backend == Backend::Postgres {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    };
    sqlx::query(maintenance)
        .execute(bench.db.reader())
        .await
        .unwrap();
    let rows = leases * INSTALLMENTS_DUE;
    // The posting run's own parallelism (PostgreSQL only; SQLite has one writer).
    let workers = match backend {
        Backend::Postgres => batconnect::repairs::jobs::DEFAULT_WORKERS,
        Backend::Sqlite => 1,
    };
    let floor_seconds = floor(&bench, rows, FloorTable::LedgerCopy, 1).await;
    let floor_same_connections_seconds = if workers > 1 {
        floor(&bench, rows, FloorTable::LedgerCopy, workers).await
    } else {
        floor_seconds
    };
    let floor_index_free_seconds = floor(&bench, rows, FloorTable::IndexFree, 1).await;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let now = bench.clock.now();
    settle(&bench).await;
    let seeded_rss_mb = peak_rss_mb();
    reset_peak_rss();
    let started = Instant::now();
    let report = batconnect::repairs::jobs::post_due_installments(
        &bench.db,
        as_of,
        "bench",
        now,
        &batconnect::repairs::jobs::PostingOptions::for_backend(backend),
    )
    .await
    .unwrap();
    made_durable(&bench).await;
    let posting_seconds = started.elapsed().as_secs_f64();
    let posting_peak_rss_mb = peak_rss_mb();
    reset_peak_rss();
    assert_eq!(report.posted as usize, rows);
    // The week's rent (of the week starting 11/22: next statement's), then the statements
    // of the week of 11/15, which pay that week's rent and the installments due.
    let started = Instant::now();
    let rent = batconnect::fleet::rent::post_weekly_rent(
        &bench.db,
        domain::calendar::SundayDate::containing(as_of),
        Some(rent_start),
        "bench",
        now,
    )
    .await
    .unwrap();
    let rent_seconds = started.elapsed().as_secs_f64();
    let rent_peak_rss_mb = peak_rss_mb();
    reset_peak_rss();
    assert_eq!(rent.posted, active, "{rent:?}");
    let started = Instant::now();
    let week = domain::calendar::SundayDate::parse("2026-11-15").unwrap();
    let dtrs = batconnect::dtr::service::generate(&bench.db, week, "bench", now)
        .await
        .unwrap();
    let dtr_seconds = started.elapsed().as_secs_f64();
    let dtr_peak_rss_mb = peak_rss_mb();
    // Each step's high-water mark was read and reset after it: the chain's is the highest.
    let chain_peak_rss_mb = posting_peak_rss_mb
        .max(rent_peak_rss_mb)
        .max(dtr_peak_rss_mb);
    let problems = batconnect::ledger::verify::verify(bench.db.reader())
        .await
        .unwrap();
    // What the figures are of: every lease's statement, a clean ledger, and each lease's
    // earnings applied to its week's rent ($450.00) and the four installments that fell due
    // by the week's Saturday.
    assert_eq!(dtrs.created, active, "{dtrs:?}");
    let expected_cents: i64 = (FIRST_ID..FIRST_ID + leases)
        .map(|k| (60_000 + (k as i64 % 50) * 1_000).min(45_000 + INSTALLMENTS_DUE as i64 * 25_000))
        .sum();
    assert_eq!(dtrs.allocated.cents(), expected_cents, "{dtrs:?}");
    assert!(problems.is_empty(), "ledger verify: {problems:?}");
    let round = |x: f64| (x * 100.0).round() / 100.0;
    serde_json::json!({
        "backend": backend.name(),
        "leases": leases,
        "installments_posted": report.posted,
        "posting_seconds": round(posting_seconds),
        "installments_per_second": (rows as f64 / posting_seconds).round(),
        "floor_insert_seconds": round(floor_seconds),
        "posting_to_floor_ratio": round(posting_seconds / floor_seconds),
        "posting_workers": workers,
        "floor_insert_same_connections_seconds": round(floor_same_connections_seconds),
        "posting_to_floor_same_connections_ratio": round(posting_seconds / floor_same_connections_seconds),
        "floor_index_free_insert_seconds": round(floor_index_free_seconds),
        "posting_to_index_free_floor_ratio": round(posting_seconds / floor_index_free_seconds),
        "earnings_recorded_seconds": round(earnings_seconds),
        "rent_posted": rent.posted,
        "rent_seconds": round(rent_seconds),
        "dtr_seconds": round(dtr_seconds),
        "dtrs_created": dtrs.created,
        "earnings_allocated": dtrs.allocated,
        "chain_seconds": round(posting_seconds + rent_seconds + dtr_seconds),
        "ledger_verify_problems": problems.len(),
        "chain_peak_rss_mb": chain_peak_rss_mb,
        "posting_peak_rss_mb": posting_peak_rss_mb,
        "rent_peak_rss_mb": rent_peak_rss_mb,
        "statements_peak_rss_mb": dtr_peak_rss_mb,
        "seeding_peak_rss_mb": seeded_rss_mb,
    })
}

/// Each step's growth from `first` to `then`: seconds (and the chain's memory) divided.
fn growth(first: &serde_json::Value, then: &serde_json::Value) -> serde_json::Value {
    let ratio = |key: &str| {
        let (a, b) = (
            first[key].as_f64().unwrap_or(0.0),
            then[key].as_f64().unwrap_or(0.0),
        );
        if a > 0.0 {
            serde_json::json!((b / a * 100.0).round() / 100.0)
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::json!({
        "backend": then["backend"],
        "from_leases": first["leases"],
        "to_leases": then["leases"],
        "work": ratio("leases"),
        "earnings_recorded": ratio("earnings_recorded_seconds"),
        "posting": ratio("posting_seconds"),
        "rent": ratio("rent_seconds"),
        "statements": ratio("dtr_seconds"),
        "chain": ratio("chain_seconds"),
        "chain_peak_rss": ratio("chain_peak_rss_mb"),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_LEASES")
        .unwrap_or_else(|_| "50000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    for backend in backends() {
        let mut first: Option<serde_json::Value> = None;
        for &leases in &sizes {
            let result = run(backend, leases).await;
            println!("{}", serde_json::to_string_pretty(&result).unwrap());
            match &first {
                None => first = Some(result),
                Some(first) => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"growth": growth(first, &result)})
                    )
                    .unwrap()
                ),
            }
        }
    }
}
