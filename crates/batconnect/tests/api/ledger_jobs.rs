use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

use batconnect::db::Db;
use batconnect::repairs::jobs::{post_due_installments, PostingOptions};

use crate::both_backends;
use crate::helpers::{join_all, TestApp};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Invoices on leases 1..=n starting in the current period (2026-11-22), so their first
/// installment is due on the run of Sunday 2026-11-22 and the next on 2026-11-29.
async fn invoices_due_now(app: &TestApp, n: i64, total: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for lease in 1..=n {
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(lease, total, &format!("INV-DUE-{lease}"));
        data["start_week"] = json!("2026-11-22");
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(body["data"]["repair_id"].as_str().unwrap().to_string());
    }
    ids
}

/// Every posting as (category, reference, cents, entry type, status), for comparing ledgers.
async fn ledger_content(db: &Db) -> BTreeMap<String, (String, i64, String, String)> {
    let rows: Vec<(String, String, i64, String, String)> =
        sqlx::query_as("SELECT reference_id, category, amount_cents, entry_type, status FROM ledger_postings WHERE entry_type = 'OBLIGATION'")
            .fetch_all(db.reader())
            .await
            .unwrap();
    let mut map = BTreeMap::new();
    for (reference, category, cents, kind, status) in rows {
        assert!(
            map.insert(reference.clone(), (category, cents, kind, status))
                .is_none(),
            "{reference} posted twice"
        );
    }
    map
}

/// What an uninterrupted run must produce: one Repair obligation per installment due.
async fn expected_ledger(db: &Db, as_of: &str) -> BTreeMap<String, (String, i64, String, String)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT i.installment_id, i.principal_amount_cents FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id \
         WHERE v.status = 'Open' AND i.week_start_date <= $1",
    )
    .bind(as_of)
    .fetch_all(db.reader())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, cents)| {
            (
                id,
                (
                    "Repair".to_string(),
                    cents,
                    "OBLIGATION".to_string(),
                    "POSTED".to_string(),
                ),
            )
        })
        .collect()
}

both_backends! {
    async fn posting_twice_creates_one_posting(app) {
        let repair_ids = invoices_due_now(app, 3, "450.00").await;
        let (status, first) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true, "as_of": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["posted"], 3);
        let (_, second) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true, "as_of": "2026-11-22"})).await;
        assert_eq!(second["posted"], 0);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 3);
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2026-11-22").await);
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{}", repair_ids[0])).await;
        let first_installment = &detail["schedule"][0];
        assert_eq!(first_installment["status"], "Posted");
        assert!(first_installment["posted_on"].is_string());
        let posting_id = first_installment["ledger_posting_ref"].as_str().unwrap().to_string();
        assert_eq!(detail["schedule"][1]["status"], "Scheduled");
        let (_, postings) = app.get_as("finance", &format!("/ledger/postings?reference_id={}-01", repair_ids[0])).await;
        assert_eq!(postings["total_items"], 1);
        let posting = &postings["items"][0];
        assert_eq!(posting["id"].to_string(), posting_id);
        assert_eq!((posting["category"].as_str(), posting["amount"].as_str(), posting["status"].as_str()), (Some("Repair"), Some("100.00"), Some("POSTED")));
        assert_eq!(posting["lease_id"], 1);
        assert_eq!(posting["payment_period"], "2026-11-22");
        let (_, balances) = app.get_as("finance", "/ledger/balances?lease_id=1&category=Repair&status=OPEN").await;
        assert_eq!(balances["total_items"], 1);
        assert_eq!(balances["items"][0]["current_balance"], "100.00");
        // By reference, alone or with other filters (found through the postings' index).
        let (status, by_reference) = app.get_as("finance", &format!("/ledger/balances?reference_id={0}-01&reference_id={0}-09&status=OPEN", repair_ids[0])).await;
        assert_eq!(status, StatusCode::OK, "{by_reference}");
        assert_eq!(by_reference["total_items"], 1, "{by_reference}");
        assert_eq!(by_reference["items"][0]["reference_id"], format!("{}-01", repair_ids[0]));
        let (_, none) = app.get_as("finance", &format!("/ledger/balances?reference_id={}-02", repair_ids[0])).await;
        assert_eq!(none["total_items"], 0, "{none}");
        assert_eq!(balances["items"][0]["due_date"], "2026-11-22");
        // The create_obligation service is idempotent on its own too.
        let obligation = batconnect::ledger::model::NewObligation {
            category: domain::ledger::Category::Repair, reference_id: format!("{}-01", repair_ids[0]), amount: domain::money::Money::from_cents(10_000),
            driver_id: Some(1), lease_id: Some(1), vehicle_id: Some(1), medallion_id: Some(1),
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), description: None,
        };
        let mut tx = app.db.begin().await.unwrap();
        let outcome = batconnect::ledger::service::create_obligation(&mut tx, &obligation, "test", crate::helpers::default_now()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(!outcome.created);
        assert_eq!(outcome.posting_id.to_string(), posting_id);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_balances").await, 3);
    }

    async fn manual_posting_reports_each_installment(app) {
        let repair_ids = invoices_due_now(app, 2, "450.00").await;
        sqlx::query("UPDATE repair_invoices SET status = 'Hold' WHERE repair_id = $1").bind(&repair_ids[1]).execute(app.db.reader()).await.unwrap();
        let ids = json!([format!("{}-01", repair_ids[0]), format!("{}-02", repair_ids[0]), format!("{}-01", repair_ids[1]), "RPR-2026-99999-01", format!("{}-01", repair_ids[0])]);
        let (status, body) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"installment_ids": ids})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results[0]["posted"], true);
        assert!(results[0]["ledger_posting_ref"].is_string());
        assert!(results[1]["reason"].as_str().unwrap().contains("not due"), "{body}");
        assert!(results[2]["reason"].as_str().unwrap().contains("Hold"), "{body}");
        assert!(results[3]["reason"].as_str().unwrap().contains("no such"), "{body}");
        assert_eq!(results[4]["reason"], "listed twice", "{body}");
        assert_eq!(body["posted"], 1);
        let (_, again) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"installment_ids": [format!("{}-01", repair_ids[0])]})).await;
        assert!(again["results"][0]["reason"].as_str().unwrap().contains("already Posted"));
        for bad in [json!({}), json!({"installment_ids": ["x"], "post_all_due": true}), json!({"installment_ids": []})] {
            let (status, problem) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", bad.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        }
        let (status, _) = app.post_as("operations", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // The held invoice is skipped by the weekly posting too.
        post_due_installments(&app.db, chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), "test", crate::helpers::default_now(), &PostingOptions::for_backend(app.db.backend())).await.unwrap();
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE '{}%'", repair_ids[1])).await, 0);
    }

    async fn ledger_postings_are_immutable_in_the_database(app) {
        let (status, created) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 1, "category": "Taxes", "amount": "42.50", "reason": "MTA tax adjustment"})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["posting_id"].as_i64().unwrap();
        for sql in [format!("DELETE FROM ledger_postings WHERE id = {id}"), format!("UPDATE ledger_postings SET amount_cents = 1 WHERE id = {id}"),
                    format!("UPDATE ledger_postings SET status = 'VOIDED', amount_cents = 1 WHERE id = {id}")] {
            let error = sqlx::query(sql.as_str()).execute(app.db.reader()).await.unwrap_err();
            assert!(error.to_string().contains("immutable"), "{sql}: {error}");
        }
        assert_eq!(app.scalar_i64(&format!("SELECT amount_cents FROM ledger_postings WHERE id = {id}")).await, 4250);
        // Balances and allocations are closed or reversed, never deleted (nothing may dangle).
        let balance = app.scalar_i64(&format!("SELECT id FROM ledger_balances WHERE obligation_posting_id = {id}")).await;
        let (status, paid) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 1, "amount": "10.00", "payment_method": "cash", "allocations": [{"balance_id": balance, "amount": "10.00"}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        for table in ["ledger_balances", "ledger_allocations"] {
            let error = sqlx::query(format!("DELETE FROM {table}").as_str()).execute(app.db.reader()).await.unwrap_err();
            assert!(error.to_string().contains("kept for history"), "{table}: {error}");
        }
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {balance}")).await, 3250);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_allocations").await, 1);
    }

    async fn voiding_an_obligation_reverses_it_once(app) {
        let (_, created) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 2, "category": "EZPass", "amount": 17.25, "due_date": "2026-11-22", "reason": "Toll 11/20"})).await;
        let id = created["posting_id"].as_i64().unwrap();
        let (status, voided) = app.post_as("finance", &format!("/ledger/postings/{id}/void"), json!({"reason": "duplicate toll charge"})).await;
        assert_eq!(status, StatusCode::OK, "{voided}");
        let reversal = voided["reversal_posting_id"].as_i64().unwrap();
        let (_, postings) = app.get_as("finance", "/ledger/postings?lease_id=2").await;
        let items = postings["items"].as_array().unwrap();
        let original = items.iter().find(|p| p["id"] == id).unwrap();
        let rev = items.iter().find(|p| p["id"] == reversal).unwrap();
        assert_eq!(original["status"], "VOIDED");
        assert_eq!(rev["amount"], "-17.25");
        assert_eq!(rev["reversal_for_id"], id);
        assert_eq!(rev["entry_type"], "REVERSAL");
        let (_, balances) = app.get_as("finance", "/ledger/balances?lease_id=2").await;
        assert_eq!(balances["items"][0]["status"], "VOIDED");
        let (status, problem) = app.post_as("finance", &format!("/ledger/postings/{id}/void"), json!({"reason": "voided a second time"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("already voided"));
        // A Repair obligation is voided by cancelling its invoice, not directly.
        invoices_due_now(app, 1, "150.00").await;
        app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true, "as_of": "2026-11-22"})).await;
        let repair_posting = app.scalar_i64("SELECT id FROM ledger_postings WHERE category = 'Repair'").await;
        let (status, problem) = app.post_as("finance", &format!("/ledger/postings/{repair_posting}/void"), json!({"reason": "repair posting voided by hand"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem["detail"].as_str().unwrap().contains("cancel its repair invoice"), "{problem}");
        let (status, problem) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 2, "category": "Repair", "amount": 5, "reason": "x"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "category");
        let (status, _) = app.post_as("operations", "/ledger/obligations", json!({"lease_id": 2, "category": "Misc", "amount": 5, "reason": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = app.get_as("viewer", "/ledger/postings?category=Food&status=OPEN").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    }

    async fn scheduler_runs_posting_then_dtr_once_per_period(app) {
        invoices_due_now(app, 2, "450.00").await;
        let scheduler = app.state.scheduler();
        // Sunday 2026-11-29 04:45 in New York: posting is due, DTRs (05:00) not yet.
        app.set_clock(at(2026, 11, 29, 9, 45)).await;
        scheduler.tick_once().await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs").await;
        assert_eq!(runs["total_items"], 2, "posting and the week's rent: {runs}");
        let run = &runs["items"][1];
        assert_eq!((run["job_name"].as_str(), run["period"].as_str(), run["status"].as_str()), (Some("repairs.post_due_installments"), Some("2026-11-29"), Some("succeeded")));
        assert_eq!(run["counts"]["posted"], 4);
        assert_eq!(runs["items"][0]["job_name"], "leases.post_weekly_rent");
        // 05:10: the DTR step follows; ticking again changes nothing.
        app.set_clock(at(2026, 11, 29, 10, 10)).await;
        scheduler.tick_once().await.unwrap();
        scheduler.tick_once().await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs").await;
        assert_eq!(runs["total_items"], 3);
        assert_eq!(runs["items"][0]["job_name"], "dtr.generate_weekly");
        assert_eq!(runs["items"][0]["period"], "2026-11-29");
        assert_eq!(runs["items"][0]["status"], "succeeded");
        // The DTRs of the week that ended: 2026-11-22 – 2026-11-28, one per active lease.
        assert_eq!(runs["items"][0]["counts"]["week_start"], "2026-11-22");
        assert_eq!(runs["items"][0]["counts"]["created"], 20);
        assert!(runs["items"][0]["id"].as_i64() > runs["items"][1]["id"].as_i64());
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 4);
    }

    async fn a_worker_down_over_sunday_catches_up(app) {
        invoices_due_now(app, 1, "450.00").await;
        // Nothing ran on 11/29 or 12/06; the worker starts on Wednesday 12/09.
        app.set_clock(at(2026, 12, 9, 15, 0)).await;
        app.state.scheduler().tick_once().await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs?job=repairs.post_due_installments").await;
        assert_eq!(runs["items"][0]["period"], "2026-12-06");
        // Installments of 11/22, 11/29 and 12/06 are all posted, once.
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 3);
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2026-12-06").await);
    }

    async fn four_schedulers_racing_run_each_period_once(app) {
        invoices_due_now(app, 8, "3000.00").await;
        app.set_clock(at(2026, 12, 27, 11, 0)).await;
        let mut handles = Vec::new();
        for _ in 0..4 {
            // Each scheduler with its own pool, as separate processes would have.
            let db = Db::connect(&app.database_url, 3).await.unwrap();
            let mut scheduler = app.state.scheduler();
            scheduler.ctx.db = db;
            scheduler.ctx.owner = batconnect::jobs::runner::owner_name();
            scheduler.ctx.posting.batch_size = 7;
            handles.push(async move {
                for _ in 0..3 {
                    scheduler.tick_once().await.unwrap();
                }
            });
        }
        join_all(handles.into_iter()).await;
        let runs = app.scalar_i64("SELECT COUNT(*) FROM job_runs WHERE trigger = 'schedule' AND period = '2026-12-27'").await;
        assert_eq!(runs, 3, "one posting run, one rent run and one DTR run");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM job_runs WHERE job_name = 'repairs.post_due_installments'").await, 1);
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2026-12-27").await);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 8 * 6);
    }

    async fn an_installment_whose_obligation_exists_is_marked_with_it(app) {
        let repair_ids = invoices_due_now(app, 2, "450.00").await;
        let installment = format!("{}-01", repair_ids[0]);
        // An obligation left behind for a still-Scheduled installment (as after a restore
        // from a backup taken between two writes): the run must not post a second one.
        sqlx::query(
            "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, lease_id, payment_period, created_by, created_on) \
             VALUES ('Repair', 10000, 'OBLIGATION', 'POSTED', $1, 1, '2026-11-22', 'test', '2026-11-22T00:00:00Z')",
        )
        .bind(&installment)
        .execute(app.db.reader())
        .await
        .unwrap();
        let existing = app.scalar_i64(&format!("SELECT id FROM ledger_postings WHERE reference_id = '{installment}'")).await;
        let (status, body) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true, "as_of": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["posted"], 2, "{body}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair'").await, 2);
        assert_eq!(
            app.scalar_text(&format!("SELECT ledger_posting_ref FROM repair_installments WHERE installment_id = '{installment}'")).await,
            existing.to_string()
        );
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments WHERE status = 'Posted'").await, 2);
        // The other installment got its own obligation and balance in the same run.
        let other = format!("{}-01", repair_ids[1]);
        assert_eq!(
            app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_balances b JOIN ledger_postings p ON p.id = b.obligation_posting_id WHERE p.reference_id = '{other}'")).await,
            1
        );
    }

    async fn an_interrupted_run_resumes_to_the_same_ledger(app) {
        invoices_due_now(app, 6, "3000.00").await;
        let as_of = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        let failing = PostingOptions { batch_size: 4, workers: 1, fail_after_batches: Some(3), pause_between_batches: None, stop: Default::default() };
        let error = post_due_installments(&app.db, as_of, "test", crate::helpers::default_now(), &failing).await.unwrap_err();
        assert!(format!("{error:?}").contains("injected failure"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 12);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments WHERE status = 'Posted'").await, 12);
        post_due_installments(&app.db, as_of, "test", crate::helpers::default_now(), &PostingOptions::for_backend(app.db.backend())).await.unwrap();
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2027-01-31").await);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments WHERE status = 'Posted' AND ledger_posting_ref IS NOT NULL").await, 6 * 11);
    }

    async fn parallel_posting_workers_post_each_installment_once(app) {
        invoices_due_now(app, 6, "3000.00").await;
        let as_of = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        // Tiny batches and four walks (one on SQLite): many batches race for the same rows.
        let options = PostingOptions { batch_size: 3, workers: 4, fail_after_batches: None, pause_between_batches: None, stop: Default::default() };
        let report = post_due_installments(&app.db, as_of, "test", crate::helpers::default_now(), &options).await.unwrap();
        assert_eq!(report.posted, 6 * 11);
        assert!(report.batches >= 22, "{report:?}");
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2027-01-31").await);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_balances").await, 6 * 11);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments WHERE status = 'Posted' AND ledger_posting_ref IS NOT NULL").await, 6 * 11);
        let again = post_due_installments(&app.db, as_of, "test", crate::helpers::default_now(), &options).await.unwrap();
        assert_eq!(again.posted, 0);
    }

    async fn a_killed_worker_process_leaves_a_ledger_the_next_run_completes(app) {
        // Invoices from August, so the 2026-11-22 run has all 11 weeks due for each.
        app.set_clock(at(2026, 8, 5, 15, 0)).await;
        for lease in 1..=12 {
            let case_no = app.create_repair_case().await;
            let mut data = app.invoice_data(lease, "3000.01", &format!("INV-KILL-{lease}"));
            data["invoice_date"] = json!("2026-08-03");
            data["start_week"] = json!("2026-08-09");
            let (status, body) = app.submit_step(&case_no, data).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let binary = env!("CARGO_BIN_EXE_batconnect");
        // The worker's clock: Sunday 2026-11-22 04:45 in New York, the posting run due.
        let test_now = "2026-11-22T09:45:00Z";
        let mut worker = std::process::Command::new(binary)
            .arg("worker")
            .env("BAT_TEST_NOW", test_now)
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .env("BAT_LISTEN", "127.0.0.1:0")
            .env("BAT_POSTING_BATCH_SIZE", "5")
            .env("BAT_TEST_POSTING_PAUSE_MS", "100")
            .env("BAT_SCHEDULER_TICK_SECONDS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the worker is part-way through, then kill -9 it.
        let mut posted = 0;
        for _ in 0..300 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            posted = app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await;
            if posted >= 20 {
                break;
            }
        }
        worker.kill().unwrap();
        worker.wait().unwrap();
        let after_kill = app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await;
        assert!((20..132).contains(&after_kill), "killed mid-run: {posted} then {after_kill} postings");
        // The CLI run finishes the job.
        let output = std::process::Command::new(binary)
            .args(["post-due-installments", "--as-of", "2026-11-22"])
            .env("BAT_TEST_NOW", test_now)
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("\"succeeded\""));
        assert_eq!(ledger_content(&app.db).await, expected_ledger(&app.db, "2026-11-22").await);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 12 * 11);
    }

    async fn jobs_can_be_run_from_the_api(app) {
        invoices_due_now(app, 1, "150.00").await;
        let (status, run) = app.post_as("finance", "/jobs/repairs.post_due_installments/run", json!({"as_of": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        assert_eq!((run["trigger"].as_str(), run["status"].as_str()), (Some("api"), Some("succeeded")));
        assert_eq!(run["counts"]["posted"], 1);
        let (status, _) = app.post_as("finance", "/jobs/nope/run", json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.post_as("viewer", "/jobs/repairs.post_due_installments/run", json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = app.send(Method::GET, "/jobs/runs?job=unknown", Some(&app.token("viewer").await), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    }
}

crate::both_backends_with! {
    setup = crate::helpers::Setup { scheduler: true, ..Default::default() };

    async fn serve_runs_the_scheduler_in_process_by_default(app) {
        let mut runs = 0;
        for _ in 0..100 {
            runs = app
                .scalar_i64(
                    "SELECT COUNT(*) FROM job_runs WHERE trigger = 'schedule' AND status = 'succeeded'",
                )
                .await;
            if runs == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // The latest Sunday (2026-11-22) chain ran at start-up: posting, rent, then DTRs.
        assert_eq!(runs, 3);
    }
}
