//! Sunday runs that never silently miss: catch-up after downtime in order and within a
//! bound, runs taken over or failed visibly, manual runs on record. All on a test clock.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::TestApp;

/// `h:m` in UTC on a day of 2026 or 2027 (New York is UTC-5 in these weeks).
fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The scheduled runs as (job, period, status, attempts), in the order they were made.
async fn scheduled_runs(app: &TestApp) -> Vec<(String, String, String, i64)> {
    sqlx::query_as("SELECT job_name, period, status, attempts FROM job_runs WHERE trigger = 'schedule' ORDER BY id")
        .fetch_all(app.db.reader())
        .await
        .unwrap()
}

fn chain(periods: &[&str]) -> Vec<(String, String, String, i64)> {
    periods
        .iter()
        .flat_map(|p| {
            [
                "repairs.post_due_installments",
                "leases.post_weekly_rent",
                "dtr.generate_weekly",
            ]
            .map(|job| (job.to_string(), p.to_string(), "succeeded".to_string(), 1))
        })
        .collect()
}

/// A lease 1 statement of the week starting `week`.
async fn statement(app: &TestApp, week: &str) -> Option<Value> {
    let (_, page) = app
        .get_as("viewer", &format!("/dtrs?week={week}&lease_id=1"))
        .await;
    let id = page["items"][0]["id"].as_i64()?;
    Some(app.get_as("viewer", &format!("/dtrs/{id}")).await.1)
}

/// What the earnings of `week` on lease 1 paid.
async fn paid_by_earnings_of(app: &TestApp, week: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a JOIN ledger_postings p ON p.id = a.payment_posting_id \
         WHERE p.entry_type = 'EARNINGS' AND p.lease_id = 1 AND p.payment_period = '{week}' AND a.reversed = 0"
    ))
    .await
}

/// Wednesday 2026-11-25 (the default clock): the scheduler's first tick runs the chain of
/// Sunday 2026-11-22, the only one on a fresh database.
async fn first_chain(app: &TestApp) {
    app.state.scheduler().tick_once().await.unwrap();
    assert_eq!(scheduled_runs(app).await, chain(&["2026-11-22"]));
}

both_backends! {
    async fn downtime_over_three_sundays_is_caught_up_in_order(app) {
        // A $300.00 repair from 11/22 and earnings for the three weeks the worker misses.
        app.invoice_from_this_week(1, "300.00", "INV-DOWN").await;
        first_chain(app).await;
        assert_eq!(app.earnings(1, "2026-11-22", "150.00").await.0, StatusCode::CREATED);
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        assert_eq!(app.earnings(1, "2026-11-29", "130.00").await.0, StatusCode::CREATED);
        app.set_clock(at(2026, 12, 9, 15, 0)).await;
        assert_eq!(app.earnings(1, "2026-12-06", "120.00").await.0, StatusCode::CREATED);
        // The worker was down over Sundays 11/29, 12/06 and 12/13; it comes back on 12/15.
        app.set_clock(at(2026, 12, 15, 15, 0)).await;
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(scheduled_runs(app).await, chain(&["2026-11-22", "2026-11-29", "2026-12-06", "2026-12-13"]));
        // Each week has its statement, with that week's earnings applied to it.
        for (week, gross) in [("2026-11-22", "150.00"), ("2026-11-29", "130.00"), ("2026-12-06", "120.00")] {
            let dtr = statement(app, week).await.unwrap_or_else(|| panic!("no statement for the week of {week}"));
            assert_eq!(dtr["content"]["gross_earnings"], gross, "{week}");
            let deducted = domain::money::Money::parse(dtr["content"]["total_deducted"].as_str().unwrap()).unwrap();
            assert!(deducted.is_positive(), "{week}: {dtr}");
            assert_eq!(paid_by_earnings_of(app, week).await, deducted.cents(), "{week}");
        }
        // The three installments are posted once each; nothing more to do at the next tick.
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair'").await, 3);
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(scheduled_runs(app).await.len(), 12);
        app.verify_ledger().await;
    }

    async fn a_fresh_database_runs_the_current_week_only(app) {
        app.set_clock(at(2026, 12, 15, 15, 0)).await;
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(scheduled_runs(app).await, chain(&["2026-12-13"]));
    }

    async fn a_run_taken_over_from_a_dead_worker_finishes_once(app) {
        app.invoice_from_this_week(2, "450.00", "INV-DEAD").await;
        // A worker died two minutes into the 11/22 posting run (its heartbeat is stale).
        sqlx::query("INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
                     VALUES ('repairs.post_due_installments', '2026-11-22', 'schedule', 'running', 'dead-host:1:0000', 1, \
                     '2026-11-25T14:55:00Z', '2026-11-25T14:57:00Z')")
            .execute(app.db.reader()).await.unwrap();
        let id = app.scalar_i64("SELECT id FROM job_runs").await;
        // 30 seconds later it is not stale yet: nobody takes it.
        app.set_clock(at(2026, 11, 25, 14, 57) + chrono::Duration::seconds(30)).await;
        let scheduler = app.state.scheduler();
        scheduler.tick_once().await.unwrap();
        assert_eq!(app.scalar_text(&format!("SELECT status FROM job_runs WHERE id = {id}")).await, "running");
        // Past the 60-second timeout the next tick takes it over, visibly, and finishes it.
        app.set_clock(at(2026, 11, 25, 15, 0)).await;
        scheduler.tick_once().await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs?job=repairs.post_due_installments").await;
        let run = &runs["items"][0];
        assert_eq!((run["id"].as_i64(), run["status"].as_str(), run["attempts"].as_i64()), (Some(id), Some("succeeded"), Some(2)), "{run}");
        assert_eq!(run["owner"], scheduler.ctx.owner.as_str());
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair'").await, 1);
        // The dead worker, were it to wake up, can neither heartbeat nor record an outcome.
        assert!(!batconnect::jobs::repo::heartbeat(&app.db, id, "dead-host:1:0000", "2026-11-25T15:01:00Z").await.unwrap());
        assert!(!batconnect::jobs::repo::finish(&app.db, id, "dead-host:1:0000", domain::status::JobStatus::Failed, None, Some("late"), "2026-11-25T15:01:00Z").await.unwrap());
        assert_eq!(app.scalar_text(&format!("SELECT status FROM job_runs WHERE id = {id}")).await, "succeeded");
        // A second scheduler racing for it finds it done.
        let mut other = app.state.scheduler();
        other.ctx.owner = batconnect::jobs::runner::owner_name();
        other.tick_once().await.unwrap();
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair'").await, 1);
        app.verify_ledger().await;
    }

    async fn a_worker_whose_run_was_taken_over_stops_posting_after_the_batch_in_hand(app) {
        for n in 1..=4 {
            app.invoice_from_this_week(n, "450.00", &format!("INV-STOP-{n}")).await;
        }
        // The worker's heartbeat found its run taken over: the flag is raised mid-run.
        let stop = batconnect::stop::StopFlag::default();
        stop.raise();
        let options = batconnect::repairs::jobs::PostingOptions { batch_size: 1, workers: 1, fail_after_batches: None, pause_between_batches: None, stop };
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let outcome = batconnect::repairs::jobs::post_due_installments(&app.db, as_of, "old-owner", crate::helpers::default_now(), &options).await;
        let error = outcome.expect_err("a taken-over run must stop");
        assert!(format!("{error:?}").contains("taken over"), "{error:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair'").await, 1);
        // The new owner goes on from there and posts the rest once.
        let options = batconnect::repairs::jobs::PostingOptions::for_backend(app.db.backend());
        let report = batconnect::repairs::jobs::post_due_installments(&app.db, as_of, "new-owner", crate::helpers::default_now(), &options).await.unwrap();
        assert_eq!(report.posted, 3);
        app.verify_ledger().await;
    }

    async fn a_run_that_fails_every_attempt_stays_failed_with_its_error(app) {
        app.invoice_from_this_week(3, "450.00", "INV-FAIL").await;
        let mut scheduler = app.state.scheduler();
        scheduler.ctx.posting.fail_after_batches = Some(0);
        for _ in 0..7 {
            scheduler.tick_once().await.unwrap();
        }
        let (_, runs) = app.get_as("viewer", "/jobs/runs").await;
        assert_eq!(runs["total_items"], 1, "the chain waits: no statements after a failed posting");
        let run = &runs["items"][0];
        assert_eq!((run["status"].as_str(), run["attempts"].as_i64()), (Some("failed"), Some(5)), "{run}");
        assert!(run["error"].as_str().unwrap().contains("injected failure"), "{run}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 0);
        // The operator's command fills it (and the statements after it).
        let week = domain::calendar::SundayDate::parse("2026-11-22").unwrap();
        let made = batconnect::jobs::runner::run_chain(&app.state.job_context(), week, week, "cli:ops").await.unwrap();
        assert_eq!(made.len(), 3);
        assert_eq!(scheduled_runs(app).await, vec![
            ("repairs.post_due_installments".to_string(), "2026-11-22".to_string(), "succeeded".to_string(), 6),
            ("leases.post_weekly_rent".to_string(), "2026-11-22".to_string(), "succeeded".to_string(), 1),
            ("dtr.generate_weekly".to_string(), "2026-11-22".to_string(), "succeeded".to_string(), 1),
        ]);
        assert_eq!(app.scalar_text("SELECT requested_by FROM job_runs WHERE job_name = 'repairs.post_due_installments'").await, "cli:ops");
    }

    async fn manual_runs_are_on_record_with_who_asked(app) {
        app.invoice_from_this_week(4, "150.00", "INV-MAN").await;
        let (status, body) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["posted"], 1);
        let run_id = body["run_id"].as_i64().unwrap();
        let (status, run) = app.post_as("finance", "/jobs/dtr.generate_weekly/run", json!({"as_of": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        let (_, runs) = app.get_as("viewer", "/jobs/runs").await;
        let listed: Vec<(i64, &str, &str, &str, &str)> = runs["items"].as_array().unwrap().iter()
            .map(|r| (r["id"].as_i64().unwrap(), r["job_name"].as_str().unwrap(), r["trigger"].as_str().unwrap(), r["requested_by"].as_str().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(listed, vec![
            (run["id"].as_i64().unwrap(), "dtr.generate_weekly", "api", "finance", "succeeded"),
            (run_id, "repairs.post_due_installments", "api", "finance", "succeeded"),
        ]);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'job_run_requested' AND actor = 'finance'").await, 2);
        // Nothing is posted ahead of its time.
        for (path, body) in [
            ("/payments/vehicle-repairs/ledger/post-installment", json!({"post_all_due": true, "as_of": "2026-11-26"})),
            ("/payments/vehicle-repairs/ledger/post-installment", json!({"installment_ids": ["RPR-2026-00001-01"], "as_of": "2026-12-20"})),
            ("/jobs/repairs.post_due_installments/run", json!({"as_of": "2026-12-06"})),
        ] {
            let (status, problem) = app.post_as("finance", path, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "as_of");
        }
        // The CLI records its runs with the operator's login.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["post-due-installments", "--as-of", "2026-11-22"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .env("BAT_TEST_NOW", "2026-11-25T15:00:00Z")
            .env("USER", "ops-night")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(app.scalar_text("SELECT requested_by FROM job_runs WHERE trigger = 'cli'").await, "cli:ops-night");
        let dtrs = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["generate-dtrs", "--week", "2026-11-15"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .env("BAT_TEST_NOW", "2026-11-25T15:00:00Z")
            .env("USER", "ops-night")
            .output()
            .unwrap();
        assert!(dtrs.status.success(), "{}", String::from_utf8_lossy(&dtrs.stderr));
        let cli_runs: Vec<(String, String, String)> = sqlx::query_as("SELECT job_name, period, status FROM job_runs WHERE trigger = 'cli' ORDER BY id")
            .fetch_all(app.db.reader()).await.unwrap();
        assert_eq!(cli_runs, vec![
            ("repairs.post_due_installments".to_string(), "2026-11-22".to_string(), "succeeded".to_string()),
            ("dtr.generate_weekly".to_string(), "2026-11-22".to_string(), "succeeded".to_string()),
        ]);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'job_run_requested' AND actor = 'cli:ops-night'").await, 2);
        let future = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["post-due-installments", "--as-of", "2026-11-29"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .env("BAT_TEST_NOW", "2026-11-25T15:00:00Z")
            .output()
            .unwrap();
        assert!(!future.status.success());
        assert!(String::from_utf8_lossy(&future.stderr).contains("later than today"), "{}", String::from_utf8_lossy(&future.stderr));
    }

    async fn a_run_killed_with_no_scheduler_is_failed_by_whoever_reads_the_runs(app) {
        // A CLI posting run and a scheduled one whose processes were killed (`kill -9`):
        // no scheduler runs here, yet the next read of the runs marks both failed.
        for (trigger, period) in [("cli", "2026-11-24"), ("schedule", "2026-11-22")] {
            sqlx::query(&format!("INSERT INTO job_runs (job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on) \
                         VALUES ('repairs.post_due_installments', '{period}', '{trigger}', 'ops', 'running', 'killed:1:0', 1, \
                         '2026-11-25T14:00:00Z', '2026-11-25T14:01:00Z')"))
                .execute(app.db.reader()).await.unwrap();
        }
        let (_, runs) = app.get_as("viewer", "/jobs/runs").await;
        for run in runs["items"].as_array().unwrap() {
            assert_eq!(run["status"], "failed", "{run}");
            assert!(run["error"].as_str().unwrap().starts_with("abandoned:"), "{run}");
        }
        assert_eq!(runs["items"].as_array().unwrap().len(), 2);
        // A run still heart-beating is left alone.
        sqlx::query("INSERT INTO job_runs (job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on) \
                     VALUES ('dtr.generate_weekly', '2026-11-25', 'api', 'finance', 'running', 'alive:1:0', 1, \
                     '2026-11-25T14:59:30Z', '2026-11-25T14:59:50Z')")
            .execute(app.db.reader()).await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs?job=dtr.generate_weekly").await;
        assert_eq!(runs["items"][0]["status"], "running");
    }

    async fn a_manual_run_whose_process_died_is_marked_failed(app) {
        sqlx::query("INSERT INTO job_runs (job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on) \
                     VALUES ('repairs.post_due_installments', '2026-11-25', 'api', 'finance', 'running', 'gone:1:0', 1, \
                     '2026-11-25T14:00:00Z', '2026-11-25T14:01:00Z')")
            .execute(app.db.reader()).await.unwrap();
        app.state.scheduler().tick_once().await.unwrap();
        let (_, runs) = app.get_as("viewer", "/jobs/runs?period=2026-11-25").await;
        assert_eq!(runs["items"][0]["status"], "failed");
        assert!(runs["items"][0]["error"].as_str().unwrap().starts_with("abandoned"), "{runs}");
    }
}

crate::both_backends_with! {
    setup = crate::helpers::Setup { env: vec![("BAT_CATCH_UP_WEEKS", "2".to_string())], ..Default::default() };

    async fn sundays_beyond_the_catch_up_bound_are_recorded_with_the_command_that_fills_them(app) {
        first_chain(app).await;
        // Down from 11/25 to Wednesday 12/30: five Sundays missed, two caught up on their own.
        app.set_clock(at(2026, 12, 30, 15, 0)).await;
        app.state.scheduler().tick_once().await.unwrap();
        let runs = scheduled_runs(app).await;
        let status_of = |job: &str, period: &str| runs.iter().find(|r| r.0 == job && r.1 == period).map(|r| r.2.clone());
        for period in ["2026-11-29", "2026-12-06", "2026-12-13"] {
            assert_eq!(status_of("dtr.generate_weekly", period).as_deref(), Some("missed"), "{period}");
        }
        for period in ["2026-12-20", "2026-12-27"] {
            assert_eq!(status_of("dtr.generate_weekly", period).as_deref(), Some("succeeded"), "{period}");
        }
        let (_, missed) = app.get_as("viewer", "/jobs/runs?period=2026-12-06").await;
        let command = "batconnect run-chain --from 2026-11-29 --to 2026-12-13";
        assert!(missed["items"][0]["error"].as_str().unwrap().contains(command), "{missed}");
        assert!(statement(app, "2026-12-06").await.is_none());
        // The operator runs the command; the missed weeks get their statements.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["run-chain", "--from", "2026-11-29", "--to", "2026-12-13"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .env("BAT_TEST_NOW", "2026-12-30T15:00:00Z")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("9 run(s)"), "{}", String::from_utf8_lossy(&output.stdout));
        assert!(scheduled_runs(app).await.iter().all(|r| r.2 == "succeeded"));
        for week in ["2026-11-22", "2026-11-29", "2026-12-06", "2026-12-13", "2026-12-20"] {
            assert!(statement(app, week).await.is_some(), "{week}");
        }
    }
}
