//! The ledger reports over a simulated quarter (13 weeks of the Sunday chain with rent,
//! repairs, a held invoice, partial payments, interim credit, statements finalized and
//! voids after them, a lease that ends), on both databases:
//! - aging as of each past Sunday equals the snapshot of `/ledger/balances` taken that
//!   Sunday after the chain, bucket by bucket, lease by lease;
//! - a lease's statement as of each Sunday closes on that snapshot less its credit;
//! - weekly collections equal the same figures computed a second way, from the raw
//!   postings and allocations, and each week's earnings collected equal what that week's
//!   statements deducted when they were made.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{cents, TestApp};

const WEEKS: i64 = 13;
const LEASES: i64 = 20;
/// The lease that ends in the middle of the quarter.
const ENDING: i64 = 20;

fn money(c: i64) -> String {
    domain::money::Money::from_cents(c).to_string()
}

fn date(text: &str) -> NaiveDate {
    domain::calendar::parse_date(text).unwrap()
}

/// Buckets in the report's order: not due, 1–7, 8–28, 29–56, 57+ days past due, total.
type Buckets = [i64; 6];
/// Open amounts per (lease, category).
type Open = BTreeMap<(i64, String), Buckets>;
/// An allocation with what collections group it by: (applied on, cents, category,
/// balance's reference, payment's kind, payment's period, payment's time).
type AllocationRow = (String, i64, String, String, String, Option<String>, String);

fn bucket(as_of: NaiveDate, due: NaiveDate) -> usize {
    match (as_of - due).num_days() {
        ..=0 => 0,
        1..=7 => 1,
        8..=28 => 2,
        29..=56 => 3,
        _ => 4,
    }
}

/// What `/ledger/balances` lists open now, per (lease, category), bucketed as of `as_of`.
async fn balances_snapshot(app: &TestApp, as_of: NaiveDate) -> BTreeMap<(i64, String), Buckets> {
    let mut snapshot: BTreeMap<(i64, String), Buckets> = BTreeMap::new();
    let mut page = 1;
    loop {
        let (status, body) = app
            .get_as(
                "finance",
                &format!("/ledger/balances?status=OPEN&per_page=100&page={page}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for b in body["items"].as_array().unwrap() {
            let key = (
                b["lease_id"].as_i64().unwrap(),
                b["category"].as_str().unwrap().to_string(),
            );
            let open = cents(&b["current_balance"]);
            let row = snapshot.entry(key).or_default();
            row[bucket(as_of, date(b["due_date"].as_str().unwrap()))] += open;
            row[5] += open;
        }
        if page >= body["total_pages"].as_i64().unwrap() {
            return snapshot;
        }
        page += 1;
    }
}

/// Every row of the aging report as of `as_of` (all its pages), and its grand total; the
/// per-category figures add up to the rows.
async fn aging_as_of(app: &TestApp, as_of: NaiveDate) -> (BTreeMap<(i64, String), Buckets>, i64) {
    let keys = ["not_due", "d1_7", "d8_28", "d29_56", "d57_plus", "total"];
    let mut rows = BTreeMap::new();
    let mut page = 1;
    loop {
        let (status, body) = app
            .get_as(
                "viewer",
                &format!("/reports/aging?as_of={as_of}&per_page=7&page={page}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for r in body["rows"].as_array().unwrap() {
            let figures: Buckets = std::array::from_fn(|i| cents(&r[keys[i]]));
            rows.insert(
                (
                    r["lease_pk"].as_i64().unwrap(),
                    r["category"].as_str().unwrap().to_string(),
                ),
                figures,
            );
        }
        if page >= body["total_pages"].as_i64().unwrap() {
            assert_eq!(
                rows.len() as i64,
                body["total_items"].as_i64().unwrap(),
                "{body}"
            );
            for c in body["by_category"].as_array().unwrap() {
                let category = c["category"].as_str().unwrap();
                for (i, key) in keys.iter().enumerate() {
                    let of_rows: i64 = rows
                        .iter()
                        .filter(|((_, k), _)| k == category)
                        .map(|(_, b)| b[i])
                        .sum();
                    assert_eq!(cents(&c[*key]), of_rows, "{category} {key} as of {as_of}");
                }
            }
            return (rows, cents(&body["totals"]["total"]));
        }
        page += 1;
    }
}

/// An open balance of the lease, if it has one: (id, open cents).
async fn an_open_balance(app: &TestApp, lease: i64, rng: &mut StdRng) -> Option<(i64, i64)> {
    let (_, body) = app
        .get_as(
            "finance",
            &format!("/ledger/balances?status=OPEN&lease_id={lease}&per_page=100"),
        )
        .await;
    let items = body["items"].as_array()?;
    if items.is_empty() {
        return None;
    }
    let b = &items[rng.gen_range(0..items.len())];
    Some((b["id"].as_i64()?, cents(&b["current_balance"])))
}

/// Weekly collections, per (week, category), computed from the raw rows with the report's
/// definitions: [charged, earnings, interim, credit applied, corrections collected, voided].
async fn collections_from_rows(
    app: &TestApp,
    first: NaiveDate,
    last: NaiveDate,
) -> BTreeMap<(String, String), [i64; 6]> {
    let tz = app.state.config.timezone;
    let local_week = |stamp: &str| {
        let at =
            chrono::DateTime::parse_from_rfc3339(stamp).unwrap_or_else(|e| panic!("{stamp}: {e}"));
        domain::calendar::week_start_of(at.with_timezone(&tz).date_naive())
    };
    let mut cells: BTreeMap<(String, String), [i64; 6]> = BTreeMap::new();
    let mut add = |week: NaiveDate, category: &str, field: usize, amount: i64| {
        if week >= first && week <= last {
            cells
                .entry((week.to_string(), category.to_string()))
                .or_default()[field] += amount;
        }
    };
    let balances: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT due_date, category, original_cents FROM ledger_balances")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    for (due, category, original) in balances {
        add(
            domain::calendar::week_start_of(date(&due)),
            &category,
            0,
            original,
        );
    }
    let allocations: Vec<AllocationRow> = sqlx::query_as(
        "SELECT a.created_on, a.amount_cents, b.category, b.reference_id, p.entry_type, p.payment_period, p.created_on \
         FROM ledger_allocations a JOIN ledger_postings p ON p.id = a.payment_posting_id JOIN ledger_balances b ON b.id = a.balance_id",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    for (applied_on, amount, category, reference, entry_type, period, paid_on) in allocations {
        let period = period.as_deref().map(date);
        let (week, field) = match entry_type.as_str() {
            "EARNINGS" => (period.unwrap(), 1),
            "INTERIM_PAYMENT" if applied_on == paid_on => (period.unwrap(), 2),
            _ => (local_week(&applied_on), 3),
        };
        let field = if reference.starts_with("ADJ-") {
            4
        } else {
            field
        };
        add(week, &category, field, amount);
    }
    let reversals: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT created_on, category, amount_cents FROM ledger_postings WHERE entry_type = 'REVERSAL'")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    for (on, category, amount) in reversals {
        add(local_week(&on), &category, 5, amount);
    }
    cells
}

crate::both_backends_with! {
    setup = crate::helpers::Setup { rent: true, ..Default::default() };

    async fn the_reports_reconcile_over_a_simulated_quarter(app) {
        let mut rng = StdRng::seed_from_u64(20_261_207);
        let first_week = date("2026-11-29");
        let scheduler = app.state.scheduler();
        let mut snapshots: Vec<(NaiveDate, Open)> = Vec::new();
        let mut deducted_when_made: BTreeMap<String, i64> = BTreeMap::new();
        let mut held: Option<String> = None;
        let mut invoices: Vec<String> = Vec::new();
        for w in 0..WEEKS {
            let week = first_week + Duration::weeks(w);
            let wednesday = week + Duration::days(3);
            app.set_clock(Utc.from_utc_datetime(&wednesday.and_hms_opt(16, 0, 0).unwrap())).await;
            let active = |lease: i64| lease != ENDING || w < 6;
            // Repairs: two invoices a week, scheduled from this week.
            for n in 0..2 {
                let lease = rng.gen_range(1..ENDING);
                let mut data = app.invoice_data(lease, &money(rng.gen_range(20_000..250_000)), &format!("Q-{w}-{n}"));
                data["invoice_date"] = json!(wednesday.to_string());
                data["start_week"] = json!(week.to_string());
                let case_no = app.create_repair_case().await;
                let (status, body) = app.submit_step(&case_no, data).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                invoices.push(body["data"]["repair_id"].as_str().unwrap().to_string());
            }
            // An invoice held in week 2 and resumed in week 6: its installments wait.
            if w == 2 {
                let repair_id = invoices[1].clone();
                let (status, body) = app.post_as("finance", &format!("/payments/vehicle-repairs/{repair_id}/hold"), json!({"reason": "disputed with the workshop"})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                held = Some(repair_id);
            }
            if w == 6 {
                let repair_id = held.take().unwrap();
                let (status, body) = app.post_as("finance", &format!("/payments/vehicle-repairs/{repair_id}/resume"), json!({"reason": "the workshop agreed the price"})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            // Other charges due in the week.
            for _ in 0..4 {
                let lease = rng.gen_range(1..=LEASES);
                if !active(lease) {
                    continue;
                }
                let category = ["EZPass", "PVB", "Taxes", "Misc"][rng.gen_range(0..4)];
                let due = week + Duration::days(rng.gen_range(0..7));
                app.obligation(lease, category, &money(rng.gen_range(1_000..30_000)), &due.to_string()).await;
            }
            // Partial interim payments on chosen balances.
            for _ in 0..3 {
                let lease = rng.gen_range(1..=LEASES);
                if let Some((balance, open)) = an_open_balance(app, lease, &mut rng).await {
                    let (status, body) = app.pay(lease, balance, &money(rng.gen_range(1..=open))).await;
                    assert_eq!(status, StatusCode::CREATED, "{body}");
                }
            }
            // A payment with no balance chosen, more than is owed some weeks: the rest is the
            // lease's credit, which a later statement applies.
            let lease = rng.gen_range(1..ENDING);
            let (status, body) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": lease, "amount": money(rng.gen_range(5_000..150_000)), "payment_method": "cash"})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            // The week's earnings, for most leases.
            let mut earnings: Vec<Value> = Vec::new();
            for lease in (1..=LEASES).filter(|l| active(*l)) {
                if rng.gen_bool(0.85) {
                    earnings.push(json!({"lease_id": lease, "period": week.to_string(), "amount": money(rng.gen_range(0..90_000))}));
                }
            }
            let (status, body) = app.post_as("finance", "/ledger/earnings", json!({"earnings": earnings})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            // The lease that ends, on the Monday of week 5: final rent, its statement.
            if w == 5 {
                let (status, body) = app.post_as("operations", &format!("/fleet/leases/{ENDING}/terminate"), json!({"end_date": (week + Duration::days(1)).to_string(), "reason": "completed"})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }

            // Sunday, after the chain: the balances as they stand, and the statements made.
            let sunday = week + Duration::days(7);
            app.set_clock(Utc.from_utc_datetime(&sunday.and_hms_opt(14, 0, 0).unwrap())).await;
            scheduler.tick_once().await.unwrap();
            snapshots.push((sunday, balances_snapshot(app, sunday).await));
            let deducted = app.scalar_i64(&format!("SELECT CAST(COALESCE(SUM(total_deducted_cents), 0) AS BIGINT) FROM dtrs WHERE week_start = '{week}'")).await;
            deducted_when_made.insert(week.to_string(), deducted);

            // Monday: three of the week's statements are finalized; one of their earnings and
            // an interim payment are voided after it (corrections carried by the next one).
            app.set_clock(Utc.from_utc_datetime(&(sunday + Duration::days(1)).and_hms_opt(15, 0, 0).unwrap())).await;
            let (_, dtrs) = app.get_as("finance", &format!("/dtrs?week={week}&per_page=100")).await;
            let dtrs = dtrs["items"].as_array().unwrap().clone();
            assert!(!dtrs.is_empty(), "the chain made week {week}'s statements");
            let mut finalized = Vec::new();
            for _ in 0..3 {
                let d = &dtrs[rng.gen_range(0..dtrs.len())];
                if d["status"] == "Finalized" || finalized.contains(&d["id"]) {
                    continue;
                }
                let (status, body) = app.post_as("finance", &format!("/dtrs/{}/finalize", d["id"]), Value::Null).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                finalized.push(d["id"].clone());
            }
            if w % 3 == 1 {
                let earned: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT p.id FROM ledger_postings p JOIN dtrs d ON d.lease_id = p.lease_id AND d.week_start = p.payment_period \
                     WHERE p.entry_type = 'EARNINGS' AND p.status = 'POSTED' AND p.payment_period = '{week}' AND d.status = 'Finalized' ORDER BY p.id"
                ))
                .fetch_all(app.db.reader())
                .await
                .unwrap();
                if let Some(id) = earned.first() {
                    let (status, body) = app.post_as("finance", &format!("/ledger/postings/{id}/void"), json!({"reason": "entered for the wrong lease"})).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
            }
            if w % 4 == 2 {
                let paid: Vec<i64> = sqlx::query_scalar("SELECT id FROM ledger_postings WHERE entry_type = 'INTERIM_PAYMENT' AND status = 'POSTED' ORDER BY id DESC")
                    .fetch_all(app.db.reader())
                    .await
                    .unwrap();
                let (status, body) = app.post_as("finance", &format!("/ledger/postings/{}/void", paid[0]), json!({"reason": "the check bounced"})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        app.verify_ledger().await;
        let rent = app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE 'RENT-%'").await;
        assert!(rent >= WEEKS * (LEASES - 1), "rent was charged every week: {rent}");
        let corrections = app.scalar_i64("SELECT COUNT(*) FROM ledger_balances WHERE reference_id LIKE 'ADJ-%'").await;
        assert!(corrections > 0, "a void after a final statement made a correction");

        // Aging as of each past Sunday is that Sunday's snapshot, rebuilt after the fact.
        for (sunday, snapshot) in &snapshots {
            let (aging, total) = aging_as_of(app, *sunday).await;
            assert_eq!(&aging, snapshot, "aging as of {sunday}");
            assert_eq!(total, snapshot.values().map(|b| b[5]).sum::<i64>(), "{sunday}");
        }
        // A lease's statement as of each Sunday closes on that Sunday's open balances less
        // its credit, and its running balance adds up.
        for lease in [1, 7, ENDING] {
            for (sunday, snapshot) in snapshots.iter().step_by(3) {
                let (status, statement) = app.get_as("viewer", &format!("/ledger/leases/{lease}/statement?from={first_week}&to={sunday}")).await;
                assert_eq!(status, StatusCode::OK, "{statement}");
                let open: i64 = snapshot.iter().filter(|((l, _), _)| *l == lease).map(|(_, b)| b[5]).sum();
                assert_eq!(cents(&statement["open_balances"]), open, "lease {lease} on {sunday}");
                assert_eq!(cents(&statement["closing_balance"]), open - cents(&statement["unapplied_credit"]), "lease {lease} on {sunday}");
                let running = statement["entries"].as_array().unwrap().iter().fold(cents(&statement["opening_balance"]), |sum, e| sum + cents(&e["amount"]));
                assert_eq!(running, cents(&statement["closing_balance"]), "lease {lease} on {sunday}");
            }
        }

        // Weekly collections over the quarter, against the raw rows.
        let last_week = first_week + Duration::weeks(WEEKS - 1);
        let (status, report) = app.get_as("viewer", &format!("/reports/collections?from_week={first_week}&to_week={last_week}")).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let fields = ["charged", "collected_earnings", "collected_interim", "credit_applied", "adjustments_collected", "voided_or_adjusted"];
        let mut reported: BTreeMap<(String, String), [i64; 6]> = BTreeMap::new();
        for r in report["rows"].as_array().unwrap() {
            let figures: [i64; 6] = std::array::from_fn(|i| cents(&r[fields[i]]));
            if figures != [0; 6] {
                reported.insert((r["week"].as_str().unwrap().to_string(), r["category"].as_str().unwrap().to_string()), figures);
            }
        }
        let mut expected = collections_from_rows(app, first_week, last_week).await;
        expected.retain(|_, f| *f != [0; 6]);
        assert_eq!(reported, expected);
        for week in report["weeks"].as_array().unwrap() {
            let name = week["week"].as_str().unwrap();
            // Earnings collected in a week are what its statements deducted when they were
            // made; voids after them show as voided in the week of the void.
            assert_eq!(cents(&week["collected_earnings"]), deducted_when_made[name], "week {name}: {week}");
            let collected = ["collected_earnings", "collected_interim", "credit_applied"].iter().map(|f| cents(&week[*f])).sum::<i64>();
            assert_eq!(cents(&week["collected"]), collected, "{week}");
        }
        assert!(cents(&report["totals"]["voided_or_adjusted"]) != 0, "{}", report["totals"]);
        assert!(cents(&report["totals"]["credit_applied"]) > 0, "{}", report["totals"]);
    }
}
