//! Repairs read/write speed over HTTP on 1,000,000 invoices (issue: list, filters, detail,
//! create). Prints one JSON document per backend. `cargo bench --bench repairs_list`;
//! `BENCH_INVOICES` (default 1000000), `BENCH_BACKENDS=sqlite|postgres`, `BENCH_CALLS` (200),
//! `BENCH_REPORT_CALLS` (15, per repair-cost grouping). A fifth of the invoices are
//! itemised (five lines and tax).

mod common;

use std::time::{Duration, Instant};

use batconnect::db::Backend;
use common::{
    backends, driver_name, env_usize, measure, seed_fleet, start, summarize, Bench, LEASE_TYPES,
};
use rand::{Rng, SeedableRng};

/// Drivers (each managing one lease) the invoices spread over.
const FLEET: usize = 20_000;
const FIRST_FLEET_ID: usize = 1001;
const STATUSES: &[&str] = &[
    "Open", "Open", "Open", "Open", "Open", "Open", "Open", "Closed", "Closed", "Hold",
];
const WORKSHOPS: &[&str] = &["Big Apple Workshop", "External Workshop"];

/// How invoice `k` of `total` cents is itemised, if it is (one in five): (lines, parts,
/// labour, fees, tax), adding up to the total.
fn itemised_split(k: usize, total: i64) -> Option<(i64, i64, i64, i64, i64)> {
    if !k.is_multiple_of(5) {
        return None;
    }
    let tax = total / 12;
    let parts = (total - tax) * 6 / 10;
    let labour = (total - tax) * 3 / 10;
    let fees = total - tax - parts - labour;
    Some((5, parts, labour, fees, tax))
}

/// Inserts `count` invoices and their installments in multi-row statements, 1,000 invoices
/// per transaction.
async fn seed(bench: &Bench, count: usize) -> Duration {
    seed_fleet(bench, FIRST_FLEET_ID, FLEET).await;
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let base_date = chrono::NaiveDate::from_ymd_opt(2024, 12, 1).unwrap();
    let batch = 1000;
    let mut next_installment_invoice = 0i64;
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let mut tx = bench.db.begin().await.unwrap();
        let mut sql = String::from(
            "INSERT INTO repair_invoices (repair_id, invoice_number, invoice_date, driver_id, lease_id, vehicle_id, medallion_id, \
             driver_name, lease_ref, lease_type, medallion_number, vin, workshop_type, notes, total_amount_cents, weekly_installment_cents, \
             start_week, status, case_no, created_by, created_on, updated_by, updated_on, invoice_number_key, workshop_id, \
             line_count, tax_rate_thousandths, parts_cents, labour_cents, fees_cents, discounts_cents, tax_cents) VALUES ",
        );
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let k = done + i + 1;
            let lease = (FIRST_FLEET_ID + rng.gen_range(0..FLEET)) as i64;
            // Most repairs are small: squaring a uniform draw skews totals low (median ≈ $760).
            let r: f64 = rng.gen();
            let total: i64 = 5_000 + (r * r * 295_000.0) as i64;
            let weekly = domain::matrix::RepaymentMatrix::default()
                .weekly_installment(domain::money::Money::from_cents(total))
                .cents();
            let date = base_date + chrono::Duration::days(rng.gen_range(0..720));
            let start = domain::calendar::week_start_of(date) + chrono::Duration::days(7);
            let name = driver_name(lease as usize);
            rows.push((k, lease, total, weekly, date, start, name.clone()));
            if i > 0 {
                sql.push(',');
            }
            // A fifth of the invoices are itemised: five lines (three parts, labour, a fee)
            // and tax, adding up to the total.
            let itemised = itemised_split(k, total);
            let (lines, parts, labour, fees, tax) = itemised.unwrap_or((0, 0, 0, 0, 0));
            sql.push_str(&format!(
                "('RPR-B-{k:07}', 'BINV-{k:07}', '{date}', {lease}, {lease}, {lease}, {lease}, '{name}', 'BL-{lease:07}', '{}', 'BM{lease:06}', 'BV{lease:015}', '{}', NULL, {total}, {weekly}, '{start}', '{}', NULL, 'bench', '2026-01-01T00:00:00Z', 'bench', '2026-01-01T00:00:00Z', 'binv-{k:07}', {}, \
                 {lines}, {}, {parts}, {labour}, {fees}, 0, {tax})",
                LEASE_TYPES[(lease as usize) % LEASE_TYPES.len()],
                WORKSHOPS[k % 2],
                STATUSES[rng.gen_range(0..STATUSES.len())],
                k % 2 + 1,
                if lines > 0 { 8875 } else { 0 },
            ));
        }
        // Generated text only (no user input): literal SQL keeps the seeding fast.
        sqlx::query(sql.as_str())
            .persistent(false)
            .execute(&mut *tx)
            .await
            .unwrap();
        let mut line_rows = Vec::new();
        for (offset, (k, _lease, total, ..)) in rows.iter().enumerate() {
            let invoice_pk = next_installment_invoice + 1 + offset as i64;
            if let Some((_, parts, labour, fees, _)) = itemised_split(*k, *total) {
                let third = parts / 3;
                let amounts = [
                    ("part", third),
                    ("part", third),
                    ("part", parts - 2 * third),
                    ("labour", labour),
                    ("fee", fees),
                ];
                for (position, (kind, cents)) in amounts.iter().enumerate() {
                    line_rows.push(format!(
                        "({invoice_pk}, {}, '{kind}', 'Bench {kind}', NULL, 1000, {cents}, 1, {cents})",
                        position + 1
                    ));
                }
            }
        }
        if !line_rows.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO repair_invoice_lines (invoice_id, position, kind, description, part_number, quantity_thousandths, \
                 unit_price_cents, taxable, amount_cents) VALUES {}",
                line_rows.join(",")
            ))
            .persistent(false)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        let mut inst = String::from(
            "INSERT INTO repair_installments (installment_id, invoice_id, sequence, week_start_date, week_end_date, principal_amount_cents, status, created_on) VALUES ",
        );
        let mut first = true;
        for (k, _lease, total, weekly, _date, start, _name) in &rows {
            next_installment_invoice += 1;
            let invoice_pk = next_installment_invoice;
            let schedule = domain::matrix::build_schedule(
                domain::money::Money::from_cents(*total),
                domain::calendar::SundayDate::new(*start).unwrap(),
                &domain::matrix::RepaymentMatrix::default(),
            )
            .unwrap();
            let _ = weekly;
            for s in schedule {
                if !first {
                    inst.push(',');
                }
                first = false;
                inst.push_str(&format!(
                    "('RPR-B-{k:07}-{:02}', {invoice_pk}, {}, '{}', '{}', {}, 'Scheduled', '2026-01-01T00:00:00Z')",
                    s.sequence, s.sequence, s.week_start, s.week_end, s.amount.cents()
                ));
            }
        }
        sqlx::query(inst.as_str())
            .persistent(false)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        done += n;
        if done % 100_000 == 0 {
            eprintln!(
                "  seeded {done} invoices in {:.0}s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    started.elapsed()
}

/// Signs in to the console as the bench's admin; the session cookie.
async fn sign_in(bench: &Bench) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/app/sign-in", bench.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=admin&password=bench-admin-pass&next=/app/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// Like `measure`, for an HTML page: the time to the whole page, and its size.
async fn measure_page(
    bench: &Bench,
    cookie: &str,
    calls: usize,
    path: impl Fn(usize) -> String,
) -> (serde_json::Value, usize) {
    let get = |i: usize| {
        let url = format!("{}{}", bench.address, path(i));
        async move {
            let started = Instant::now();
            let response = bench
                .client
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert!(status.is_success(), "GET {url}: {status}");
            (started.elapsed(), body.len())
        }
    };
    for i in 0..5 {
        get(i).await;
    }
    let mut samples = Vec::with_capacity(calls);
    let mut largest = 0;
    for i in 0..calls {
        let (elapsed, bytes) = get(i).await;
        samples.push(elapsed);
        largest = largest.max(bytes);
    }
    (summarize(samples), largest)
}

async fn run(backend: Backend) -> serde_json::Value {
    let invoices = env_usize("BENCH_INVOICES", 1_000_000);
    let calls = env_usize("BENCH_CALLS", 200);
    let bench = start(backend, "repairs").await;
    let seed_time = if common::reuse() {
        std::time::Duration::ZERO
    } else {
        seed(&bench, invoices).await
    };
    // The steady state autovacuum keeps on PostgreSQL: statistics, and a visibility map that
    // lets counts read the indexes alone (right after a bulk load every row is checked in
    // the heap).
    let analyze = match backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    sqlx::query(analyze)
        .execute(bench.db.reader())
        .await
        .unwrap();
    let base = "/payments/vehicle-repairs";
    let (a, a_body) = measure(&bench, 5, calls, |_| {
        format!("{base}?sort_by=invoice_date&sort_order=desc")
    })
    .await;
    let (b, b_body) = measure(&bench, 5, calls, |i| {
        let month = 1 + (i % 9);
        format!("{base}?status=Open&from_invoice_date=2025-{month:02}-01&to_invoice_date=2025-{:02}-28&sort_by=amount&sort_order=desc", month + 2)
    })
    .await;
    let partials = [
        "kha",
        "rodri",
        "chen",
        "tanak",
        "silv",
        "ahmed",
        "grace k. o",
    ];
    let (c, c_body) = measure(&bench, 5, calls, |i| {
        format!(
            "{base}?driver_name={}",
            partials[i % partials.len()].replace(' ', "%20")
        )
    })
    .await;
    // (i) a part of a workshop invoice number, a repair id, a lease id or a VIN, as staff
    // type it (issue 17: index-served; 3 or more characters).
    let (i_search, i_body) = measure(&bench, 5, calls, |i| {
        let k = 1 + (i * 7919) % invoices;
        match i % 4 {
            0 => format!("{base}?invoice_number=inv-{:07}", k),
            1 => format!("{base}?repair_id={:06}", k % 1_000_000),
            2 => format!("{base}?lease_id=l-{:07}", FIRST_FLEET_ID + (i * 31) % FLEET),
            _ => format!("{base}?vin={:010}", FIRST_FLEET_ID + (i * 17) % FLEET),
        }
    })
    .await;
    // (j) a filtered list: status and a lease by its lease id, newest first.
    let (j, j_body) = measure(&bench, 5, calls, |i| {
        format!(
            "{base}?status=open&lease_id=BL-{:07}&sort_by=invoice_date&sort_order=desc",
            FIRST_FLEET_ID + (i * 13) % FLEET
        )
    })
    .await;
    // (k) The clerk's most used list: Open invoices by part of a driver's name, newest
    // first, page 1 (issue 30: run with BENCH_INVOICES=100000 for its figure).
    let (k, k_body) = measure(&bench, 5, calls, |i| {
        format!(
            "{base}?status=Open&driver_name={}&sort_by=invoice_date&sort_order=desc&page=1",
            partials[i % partials.len()].replace(' ', "%20")
        )
    })
    .await;
    // (r) What repairs cost over the last 12 months, each grouping: the median of repeated
    // calls (issue 30: under 200 ms at 1,000,000 invoices).
    let report_calls = env_usize("BENCH_REPORT_CALLS", 15);
    let mut reports = serde_json::Map::new();
    for grouping in ["month", "workshop", "vehicle", "driver", "kind"] {
        let (r, r_body) = measure(&bench, 5, report_calls, |_| {
            format!("/reports/repair-costs?group_by={grouping}&from=2025-12-01&to=2026-11-30")
        })
        .await;
        assert!(r_body["invoice_count"].as_i64().unwrap() > 0, "{r_body}");
        reports.insert(
            grouping.to_string(),
            serde_json::json!({"timing": r, "groups": r_body["groups"].as_array().map_or(0, Vec::len), "invoices": r_body["invoice_count"]}),
        );
    }
    let (d, _) = measure(&bench, 5, calls, |i| {
        format!("{base}/RPR-B-{:07}", 1 + (i * 4999) % invoices)
    })
    .await;
    // (e) create through the case step: cases opened beforehand, the submit is timed.
    let mut cases = Vec::new();
    for _ in 0..calls + 5 {
        let r: serde_json::Value = bench
            .client
            .post(format!("{}{base}/create-case", bench.address))
            .bearer_auth(&bench.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        cases.push(r["case_no"].as_str().unwrap().to_string());
    }
    let run = std::process::id();
    let mut samples = Vec::new();
    for (i, case_no) in cases.iter().enumerate() {
        let lease = (i % 20) as i64 + 1;
        let body = serde_json::json!({"step_id": "REPAIR_ENTER_DETAILS", "data": {
            "driver_id": lease, "lease_id": lease, "vehicle_id": lease, "medallion_id": lease, "total_amount": "1234.56",
            "invoice_number": format!("BENCH-NEW-{run}-{i}"), "invoice_date": "2026-11-20", "workshop_type": "External Workshop", "start_week": "2026-11-29"}});
        let started = Instant::now();
        let response = bench
            .client
            .post(format!("{}/case/{case_no}", bench.address))
            .bearer_auth(&bench.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{text}");
        if i >= 5 {
            samples.push(started.elapsed());
        }
    }
    let e = summarize(samples);
    // (f–h) the console's pages for the same queries, rendered server-side, against the
    // JSON figures above: list (a's and b's query) and invoice page (d's invoices).
    let cookie = sign_in(&bench).await;
    let (f, f_bytes) = measure_page(&bench, &cookie, calls, |_| {
        "/app/repairs?sort_by=invoice_date&sort_order=desc".to_string()
    })
    .await;
    let (g, g_bytes) = measure_page(&bench, &cookie, calls, |i| {
        let month = 1 + (i % 9);
        format!("/app/repairs?status=Open&from_invoice_date=2025-{month:02}-01&to_invoice_date=2025-{:02}-28&sort_by=amount&sort_order=desc", month + 2)
    })
    .await;
    let (h, h_bytes) = measure_page(&bench, &cookie, calls, |i| {
        format!("/app/repairs/RPR-B-{:07}", 1 + (i * 4999) % invoices)
    })
    .await;
    let ratio = |page: &serde_json::Value, json: &serde_json::Value| {
        let r = page["median_ms"].as_f64().unwrap_or(0.0)
            / json["median_ms"].as_f64().unwrap_or(1.0).max(0.001);
        (r * 100.0).round() / 100.0
    };
    // What the figures are of: every seeded invoice is listed, the filters found rows.
    let installments: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM repair_installments")
        .fetch_one(bench.db.reader())
        .await
        .unwrap();
    assert!(
        a_body["total_items"].as_i64().unwrap() >= invoices as i64,
        "{a_body}"
    );
    assert!(b_body["total_items"].as_i64().unwrap() > 0, "{b_body}");
    assert!(c_body["total_items"].as_i64().unwrap() > 0, "{c_body}");
    assert!(i_body["total_items"].as_i64().unwrap() > 0, "{i_body}");
    assert!(j_body["total_items"].as_i64().unwrap() > 0, "{j_body}");
    assert!(installments >= invoices as i64);
    let lines_seeded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM repair_invoice_lines")
        .fetch_one(bench.db.reader())
        .await
        .unwrap();
    serde_json::json!({
        "backend": backend.name(),
        "invoices": invoices,
        "installments": installments,
        "seed_seconds": (seed_time.as_secs_f64() * 10.0).round() / 10.0,
        "a_first_page_by_date_desc": a, "a_total_items": a_body["total_items"],
        "b_open_date_range_by_amount": b, "b_total_items": b_body["total_items"],
        "c_driver_name_partial": c, "c_total_items": c_body["total_items"],
        "i_partial_search_number_repair_lease_vin": i_search, "i_last_total_items": i_body["total_items"],
        "j_open_by_lease_id": j, "j_last_total_items": j_body["total_items"],
        "k_open_by_driver_name_partial_newest_first": k, "k_last_total_items": k_body["total_items"],
        "r_repair_costs_last_12_months": reports,
        "lines": lines_seeded,
        "d_detail": d,
        "e_create_invoice_step": e,
        "f_list_page_by_date_desc": f, "f_page_bytes": f_bytes, "f_ratio_to_a": ratio(&f, &a),
        "g_list_page_open_date_range_by_amount": g, "g_page_bytes": g_bytes, "g_ratio_to_b": ratio(&g, &b),
        "h_invoice_page": h, "h_page_bytes": h_bytes, "h_ratio_to_d": ratio(&h, &d),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for backend in backends() {
        let result = run(backend).await;
        println!("{}", serde_json::to_string_pretty(&result).unwrap());
    }
}
