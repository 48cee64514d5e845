//! The weekly statement charges what the driver owes: lease rent every week (posted by
//! the Sunday chain, prorated for part weeks), and a lease that ends (final rent, fee,
//! accelerated repairs, final statement).

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{join_all, TestApp};
use crate::statements::statement;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Sunday 05:30 in New York (10:30 UTC in these weeks): that Sunday's chain has come due.
async fn sunday_chain(app: &TestApp, m: u32, d: u32) {
    app.set_clock(at(2026, m, d, 10, 30)).await;
    app.state.scheduler().tick_once().await.unwrap();
}

/// Records a week's earnings on Wednesday of the week after it started.
async fn earnings_in(app: &TestApp, lease: i64, week: &str, amount: &str) {
    let (status, body) = app.earnings(lease, week, amount).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

fn deducted(content: &Value, category: &str) -> String {
    content["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == category)
        .map(|c| c["deducted"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

fn rent_of(app: &TestApp, lease: &str, week: &str) -> String {
    let _ = app;
    format!("SELECT amount_cents FROM ledger_postings WHERE category = 'Lease' AND entry_type = 'OBLIGATION' AND reference_id = 'RENT-{lease}-{week}'")
}

/// A new lease starting `start` at `rate` a week, with its own driver, vehicle and medallion.
async fn new_lease(app: &TestApp, n: u32, rate: &str, start: &str) -> (i64, String) {
    let (s, driver) = app.post_as("operations", "/fleet/drivers", json!({"first_name": "Zoë", "last_name": format!("Driver{n}"), "tlc_license_no": format!("88000{n:02}")})).await;
    assert_eq!(s, StatusCode::CREATED, "{driver}");
    let (s, vehicle) = app.post_as("operations", "/fleet/vehicles", json!({"vin": format!("1FTBR1Y8XNKA{n:05}"), "make": "Ford", "model": "Transit", "year": 2025})).await;
    assert_eq!(s, StatusCode::CREATED, "{vehicle}");
    let (s, medallion) = app
        .post_as(
            "operations",
            "/fleet/medallions",
            json!({"medallion_number": format!("9Z{n:02}")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{medallion}");
    let (s, lease) = app
        .post_as(
            "operations",
            "/fleet/leases",
            json!({"lease_type": "short-term", "weekly_rate": rate,
        "vehicle_id": vehicle["id"], "medallion_id": medallion["id"], "start_date": start,
        "drivers": [{"driver_id": driver["id"], "is_driver_manager": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{lease}");
    (
        lease["id"].as_i64().unwrap(),
        lease["lease_id"].as_str().unwrap().to_string(),
    )
}

async fn terminate(app: &TestApp, lease: &str, end: &str, reason: &str) -> (StatusCode, Value) {
    app.post_as(
        "operations",
        &format!("/fleet/leases/{lease}/terminate"),
        json!({"end_date": end, "reason": reason, "note": "keys returned"}),
    )
    .await
}

crate::both_backends_with! {
    setup = crate::helpers::Setup { rent: true, ..Default::default() };

    async fn rent_comes_before_repairs_and_arrears_carry_over_four_weeks(app) {
        // Lease 1 pays $350.00 a week; a $300.00 repair in three weeks from 11/22.
        let repair_id = app.invoice_from_this_week(1, "300.00", "INV-RENT").await;
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(app.scalar_i64(&rent_of(app, "LS-01001", "2026-11-22")).await, 35_000);
        // The go-live week is the first the chain ran: nothing for earlier weeks.
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE 'RENT-%-2026-11-15'").await, 0);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE 'RENT-%-2026-11-22'").await, 20);
        earnings_in(app, 1, "2026-11-22", "500.00").await;
        sunday_chain(app, 11, 29).await;
        let w1 = statement(app, 1, "2026-11-22").await;
        assert_eq!((deducted(&w1, "Lease"), deducted(&w1, "Repair"), w1["net_pay"].as_str().unwrap()), ("350.00".into(), "100.00".into(), "50.00"));
        // Too little in the week of 11/29: rent is paid first, the repair waits.
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        earnings_in(app, 1, "2026-11-29", "300.00").await;
        sunday_chain(app, 12, 6).await;
        let w2 = statement(app, 1, "2026-11-29").await;
        assert_eq!((deducted(&w2, "Lease"), deducted(&w2, "Repair"), w2["net_pay"].as_str().unwrap()), ("300.00".into(), "0.00".into(), "0.00"));
        assert_eq!(w2["balances_carried_forward"], "150.00");
        // The week of 12/06 pays the arrears first (rent before repairs, oldest first).
        app.set_clock(at(2026, 12, 9, 15, 0)).await;
        earnings_in(app, 1, "2026-12-06", "700.00").await;
        sunday_chain(app, 12, 13).await;
        let w3 = statement(app, 1, "2026-12-06").await;
        assert_eq!((deducted(&w3, "Lease"), deducted(&w3, "Repair"), w3["net_pay"].as_str().unwrap()), ("400.00".into(), "200.00".into(), "100.00"));
        assert_eq!(app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await.1["invoice"]["status"], "Closed");
        app.set_clock(at(2026, 12, 16, 15, 0)).await;
        earnings_in(app, 1, "2026-12-13", "400.00").await;
        sunday_chain(app, 12, 20).await;
        let w4 = statement(app, 1, "2026-12-13").await;
        assert_eq!((deducted(&w4, "Lease"), w4["net_pay"].as_str().unwrap()), ("350.00".into(), "50.00"));
        app.verify_ledger().await;
    }

    async fn a_lease_starting_and_ending_mid_week_pays_its_days(app) {
        // Starts Wednesday 11/25 at $450.00: 4 of 7 days, $257.14 (rounded down).
        let (_, lease) = new_lease(app, 1, "450.00", "2026-11-25").await;
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(app.scalar_i64(&rent_of(app, &lease, "2026-11-22")).await, 25_714);
        sunday_chain(app, 11, 29).await;
        assert_eq!(app.scalar_i64(&rent_of(app, &lease, "2026-11-29")).await, 45_000);
        // It ends Tuesday 12/01: 3 of 7 days, $192.85; the $450.00 posted is corrected by a
        // credit of $257.15, no ledger entry edited.
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        let (status, ended) = terminate(app, &lease, "2026-12-01", "driver_left").await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["status"], "Terminated");
        assert_eq!(ended["rent_corrections"][0]["corrected_to"], "192.85", "{ended}");
        assert_eq!(app.balance(&format!("RENT-{lease}-2026-11-29")).await["current_balance"], "192.85");
        assert_eq!(app.scalar_i64(&rent_of(app, &lease, "2026-11-29")).await, 45_000);
        assert_eq!(ended["early_termination_fee"], Value::Null);
        // The next chain makes its final statement (no earnings) and posts no more rent.
        sunday_chain(app, 12, 6).await;
        let final_statement = statement(app, ended_lease_pk(app, &lease).await, "2026-11-29").await;
        assert_eq!(final_statement["gross_earnings"], "0.00");
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE reference_id = 'RENT-{lease}-2026-12-06'")).await, 0);
        let (status, again) = terminate(app, &lease, "2026-12-01", "other").await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        app.verify_ledger().await;
    }

    async fn an_early_termination_charges_the_fee_and_accelerates_the_repairs(app) {
        // Lease 2 ($525.00 a week) with a $1,000.00 repair: five $200.00 installments.
        let repair_id = app.invoice_from_this_week(2, "1000.00", "INV-EARLY").await;
        app.state.scheduler().tick_once().await.unwrap();
        for (end, says) in [("2026-11-26", "future"), ("2020-01-01", "before the lease started")] {
            let (status, problem) = terminate(app, "LS-01002", end, "early_termination").await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert!(problem["detail"].as_str().unwrap().contains(says), "{problem}");
        }
        let (status, problem) = terminate(app, "LS-01002", "2026-11-25", "bankrupt").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "reason");
        let (status, ended) = terminate(app, "LS-01002", "2026-11-25", "early_termination").await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        // Sunday to Wednesday: $300.00 of the $525.00 rent.
        assert_eq!(ended["rent_corrections"][0]["corrected_to"], "300.00");
        assert_eq!(ended["early_termination_fee"], "500.00");
        assert_eq!(ended["accelerated_invoices"], json!([{"repair_id": repair_id, "installments": 4}]));
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["accelerated_on"], "2026-11-25");
        assert!(detail["schedule"].as_array().unwrap().iter().all(|s| s["status"] == "Posted"), "{detail}");
        assert_eq!(app.balance("ETF-LS-01002").await["category"], "Cancellation Fee");
        let receipt = crate::helpers::pdf_text(&app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await.2);
        assert!(receipt.contains("Accelerated at lease end"), "{receipt}");
        // The medallion is free for a new lease.
        let (status, lease) = app.post_as("operations", "/fleet/leases", json!({"lease_type": "long-term", "weekly_rate": "500.00",
            "vehicle_id": 2, "medallion_id": 2, "start_date": "2026-11-26", "drivers": [{"driver_id": 2, "is_driver_manager": true}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{lease}");
        // The final statement deducts what the week's earnings allow; the rest stays owed.
        earnings_in(app, 2, "2026-11-22", "1000.00").await;
        sunday_chain(app, 11, 29).await;
        let last = statement(app, 2, "2026-11-22").await;
        assert_eq!((deducted(&last, "Lease"), deducted(&last, "Repair"), deducted(&last, "Cancellation Fee")), ("300.00".into(), "700.00".into(), "0.00".into()));
        assert_eq!(last["net_pay"], "0.00");
        assert_eq!(last["balances_carried_forward"], "800.00");
        app.verify_ledger().await;
    }

    async fn an_end_in_a_finalized_week_is_refused_and_a_statemented_week_is_made_again(app) {
        let repair_id = app.invoice_from_this_week(5, "300.00", "INV-REMADE").await;
        app.state.scheduler().tick_once().await.unwrap();
        earnings_in(app, 4, "2026-11-22", "900.00").await;
        earnings_in(app, 5, "2026-11-22", "900.00").await;
        sunday_chain(app, 11, 29).await;
        // Lease 4's statement of the week of 11/22 is finalized: the lease cannot end in it.
        let finalized = app.scalar_i64("SELECT id FROM dtrs WHERE lease_id = 4 AND week_start = '2026-11-22'").await;
        let (status, _) = app.post_as("finance", &format!("/dtrs/{finalized}/finalize"), json!(null)).await;
        assert_eq!(status, StatusCode::OK);
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        let (status, problem) = terminate(app, "LS-01004", "2026-11-24", "driver_left").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "end_date", "{problem}");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("finalized"), "{problem}");
        assert_eq!(app.scalar_text("SELECT status FROM leases WHERE id = 4").await, "Active");
        // Lease 5's draft of that week is made again at once. Its earnings had paid the week's
        // $225.00 rent; the rent is corrected to Sunday to Tuesday (3 of 7 days: $96.42) and
        // the $128.58 credit pays the repair by the hierarchy: the accelerated third
        // installment (due 11/24) whole, then $28.58 of the second (posted 11/29, due 11/29:
        // not this week's), which keeps $71.42 owed.
        let before = statement(app, 5, "2026-11-22").await;
        assert_eq!(before["repairs"][0]["invoice_balance_remaining"], "200.00", "{before}");
        let (status, ended) = terminate(app, "LS-01005", "2026-11-24", "driver_left").await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["rent_corrections"][0]["corrected_to"], "96.42", "{ended}");
        assert_eq!(ended["credit_applied_elsewhere"], "128.58", "{ended}");
        assert_eq!(ended["accelerated_invoices"], json!([{"repair_id": repair_id, "installments": 1}]));
        let remade = statement(app, 5, "2026-11-22").await;
        assert_eq!(remade["repairs"][0]["invoice_balance_remaining"], "71.42", "{remade}");
        assert_eq!((deducted(&remade, "Lease"), deducted(&remade, "Repair"), remade["net_pay"].as_str().unwrap()), ("225.00".into(), "100.00".into(), "575.00"));
        assert_eq!(app.balance(&format!("{repair_id}-02")).await["current_balance"], "71.42");
        // Everything is on the audit trail.
        for (action, entity) in [("lease_terminated", "LS-01005".to_string()), ("repair_invoice_accelerated", repair_id.clone())] {
            let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND entity_id = '{entity}' AND actor = 'operations'");
            assert_eq!(app.scalar_i64(&sql).await, 1, "{action}");
        }
        app.verify_ledger().await;
    }

    async fn a_held_invoice_on_an_ended_lease_is_accelerated_when_resumed(app) {
        let held = app.invoice_from_this_week(3, "450.00", "INV-HELD").await;
        app.state.scheduler().tick_once().await.unwrap();
        app.post_as("operations", &format!("/payments/vehicle-repairs/{held}/hold"), json!({"reason": "disputed by the driver"})).await;
        let (status, ended) = terminate(app, "LS-01003", "2026-11-25", "completed").await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["status"], "Expired");
        assert_eq!(ended["accelerated_invoices"], json!([]));
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE v.repair_id = '{held}' AND i.status = 'Scheduled'")).await, 4);
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        let (status, resumed) = app.post_as("operations", &format!("/payments/vehicle-repairs/{held}/resume"), json!({"reason": "resolved"})).await;
        assert_eq!(status, StatusCode::OK, "{resumed}");
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{held}")).await;
        assert_eq!(detail["invoice"]["accelerated_on"], "2026-12-02");
        assert!(detail["schedule"].as_array().unwrap().iter().all(|s| s["status"] == "Posted"), "{detail}");
        app.verify_ledger().await;
    }

    async fn a_paid_off_invoice_closes_from_hold(app) {
        let repair_id = app.invoice_from_this_week(4, "150.00", "INV-HOLD-PAID").await;
        app.state.scheduler().tick_once().await.unwrap();
        app.post_as("operations", &format!("/payments/vehicle-repairs/{repair_id}/hold"), json!({"reason": "disputed by the driver"})).await;
        let balance = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        assert_eq!(app.pay(4, balance, "150.00").await.0, StatusCode::CREATED);
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["status"], "Closed");
        // One left on Hold by an earlier version is closed by the posting run's sweep.
        sqlx::query(&format!("UPDATE repair_invoices SET status = 'Hold' WHERE repair_id = '{repair_id}'")).execute(app.db.reader()).await.unwrap();
        let report = batconnect::repairs::jobs::post_due_installments(&app.db, chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), "test",
            crate::helpers::default_now(), &batconnect::repairs::jobs::PostingOptions::for_backend(app.db.backend())).await.unwrap();
        assert_eq!(report.closed, 1);
        assert_eq!(app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await.1["invoice"]["status"], "Closed");
    app.verify_ledger().await;
    }

    async fn rent_of_missed_sundays_is_caught_up_and_charged_week_by_week(app) {
        app.state.scheduler().tick_once().await.unwrap();
        earnings_in(app, 1, "2026-11-22", "400.00").await;
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        earnings_in(app, 1, "2026-11-29", "400.00").await;
        app.set_clock(at(2026, 12, 9, 15, 0)).await;
        earnings_in(app, 1, "2026-12-06", "400.00").await;
        // Down over Sundays 11/29, 12/06 and 12/13; back on Tuesday 12/15.
        app.set_clock(at(2026, 12, 15, 15, 0)).await;
        app.state.scheduler().tick_once().await.unwrap();
        for week in ["2026-11-22", "2026-11-29", "2026-12-06", "2026-12-13"] {
            assert_eq!(app.scalar_i64(&rent_of(app, "LS-01001", week)).await, 35_000, "{week}");
        }
        // Each week's statement pays that week's rent from that week's earnings; the rent of
        // the week of 12/13 (due 12/13) waits for its own statement.
        for week in ["2026-11-22", "2026-11-29", "2026-12-06"] {
            let dtr = statement(app, 1, week).await;
            assert_eq!((deducted(&dtr, "Lease"), dtr["net_pay"].as_str().unwrap()), ("350.00".into(), "50.00"), "{week}");
        }
        assert_eq!(app.balance("RENT-LS-01001-2026-12-13").await["current_balance"], "350.00");
        app.verify_ledger().await;
    }

    async fn two_workers_racing_post_each_lease_rent_once(app) {
        let week = domain::calendar::SundayDate::parse("2026-11-22").unwrap();
        let runs = (0..4).map(|_| {
            let url = app.database_url.clone();
            async move {
                let db = batconnect::db::Db::connect(&url, 3).await.unwrap();
                let report = batconnect::fleet::rent::post_weekly_rent(&db, week, None, "race", crate::helpers::default_now()).await.unwrap();
                db.close().await;
                report.posted
            }
        });
        let posted: i64 = join_all(runs).await.into_iter().sum();
        assert_eq!(posted, 20);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE 'RENT-%'").await, 20);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_balances WHERE reference_id LIKE 'RENT-%'").await, 20);
        app.verify_ledger().await;
    }
}

/// The internal id of a lease by its business id.
async fn ended_lease_pk(app: &TestApp, lease: &str) -> i64 {
    app.scalar_i64(&format!("SELECT id FROM leases WHERE lease_id = '{lease}'"))
        .await
}
