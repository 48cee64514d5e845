//! Money stays right: partial payments on every surface, receipts that follow the invoice,
//! races on PostgreSQL, tampering, cancelled invoices, exact input, the configured matrix.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{join_all, pdf_text, TestApp};

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn column<'a>(rows: &'a [Vec<String>], row: usize, name: &str) -> &'a str {
    let at = rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &rows[row][at]
}

/// A $300.00 invoice on lease 1 (three $100.00 installments from 2026-11-22), its first
/// installment posted and paid $40.00 by an interim payment.
async fn forty_paid_of_three_hundred(app: &TestApp) -> String {
    let repair_id = app.invoice_from_this_week(1, "300.00", "INV-P40").await;
    app.post_due("2026-11-22").await;
    let balance = app.balance(&format!("{repair_id}-01")).await["id"]
        .as_i64()
        .unwrap();
    let (status, paid) = app.pay(1, balance, "40.00").await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    repair_id
}

both_backends! {
    async fn partial_payments_show_in_the_detail_and_the_lists(app) {
        let repair_id = forty_paid_of_three_hundred(app).await;
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["totals"]["total_paid"], "40.00", "{detail}");
        assert_eq!(detail["totals"]["remaining_balance"], "260.00");
        assert_eq!(detail["totals"]["progress"], "0/3");
        assert_eq!((detail["schedule"][0]["paid"].as_str(), detail["schedule"][0]["remaining"].as_str()), (Some("40.00"), Some("60.00")));
        assert_eq!((detail["schedule"][1]["paid"].as_str(), detail["schedule"][1]["remaining"].as_str()), (Some("0.00"), Some("100.00")));
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs").await;
        let item = &list["items"][0];
        assert_eq!((item["paid"].as_str(), item["remaining"].as_str()), (Some("40.00"), Some("260.00")), "{item}");
        let (_, installments) = app.get_as("viewer", &format!("/payments/vehicle-repairs/fetch/installments?repair_id={repair_id}")).await;
        let first = &installments["items"][0];
        assert_eq!((first["paid"].as_str(), first["remaining"].as_str(), first["status"].as_str()), (Some("40.00"), Some("60.00"), Some("Posted")));
    }

    async fn partial_payments_show_in_the_exports(app) {
        let repair_id = forty_paid_of_three_hundred(app).await;
        let (status, _, body) = app.get_file("viewer", "/payments/vehicle-repairs/list/export?format=csv").await;
        assert_eq!(status, StatusCode::OK);
        let rows = csv_rows(&body);
        assert_eq!((column(&rows, 1, "paid"), column(&rows, 1, "remaining")), ("40.00", "260.00"));
        let (_, _, body) = app.get_file("viewer", &format!("/payments/vehicle-repairs/fetch/installments/export?repair_id={repair_id}")).await;
        let rows = csv_rows(&body);
        assert_eq!((column(&rows, 1, "paid"), column(&rows, 1, "remaining")), ("40.00", "60.00"));
        assert_eq!((column(&rows, 2, "paid"), column(&rows, 2, "remaining")), ("0.00", "100.00"));
    }

    async fn partial_payments_show_on_the_receipt(app) {
        let repair_id = forty_paid_of_three_hundred(app).await;
        let (status, _, pdf) = app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&pdf);
        assert!(text.contains("Paid to date $40.00") || (text.contains("Paid to date") && text.contains("$40.00")), "{text}");
        assert!(text.contains("$260.00"), "remaining balance: {text}");
    }

    async fn partial_payments_show_on_the_statement(app) {
        let repair_id = forty_paid_of_three_hundred(app).await;
        let (status, report) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let (_, dtrs) = app.get_as("viewer", "/dtrs?week=2026-11-22&lease_id=1").await;
        let id = dtrs["items"][0]["id"].as_i64().unwrap();
        let (_, dtr) = app.get_as("viewer", &format!("/dtrs/{id}")).await;
        let row = dtr["content"]["repairs"].as_array().unwrap().iter()
            .find(|r| r["installment_id"] == format!("{repair_id}-01")).cloned().expect("the first installment");
        assert_eq!((row["paid"].as_str(), row["remaining"].as_str()), (Some("40.00"), Some("60.00")), "{row}");
        assert_eq!(row["invoice_balance_remaining"], "260.00");
    }

    async fn the_receipt_always_shows_the_invoice_as_it_is(app) {
        let repair_id = app.invoice_from_this_week(2, "150.00", "INV-RCPT").await;
        let url = format!("/payments/vehicle-repairs/{repair_id}/receipt");
        let (_, _, first) = app.get_file("viewer", &url).await;
        let text = pdf_text(&first);
        assert!(text.contains("Open") && text.contains("Scheduled"), "{text}");
        // Paid in full: the invoice closes, and the next download says so.
        app.post_due("2026-11-22").await;
        let balance = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        assert_eq!(app.pay(2, balance, "150.00").await.0, StatusCode::CREATED);
        let (status, _, second) = app.get_file("viewer", &url).await;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&second);
        assert!(text.contains("Closed") && text.contains("Paid"), "{text}");
        assert!(text.contains("$150.00") && !text.contains("Scheduled"), "{text}");
        // Stored per version: the same state is served from storage, byte for byte.
        assert_eq!(app.get_file("viewer", &url).await.2, second);
        let key = app.scalar_text(&format!("SELECT receipt_ref FROM repair_invoices WHERE repair_id = '{repair_id}'")).await;
        assert_eq!(app.state.storage.get(&key).await.unwrap().unwrap().to_vec(), second);
    }

    async fn a_void_and_a_payment_of_one_obligation_never_both_win(app) {
        let token = app.token("finance").await;
        for round in 0..15 {
            let balance = app.obligation(3, "Misc", "80.00", "2026-11-22").await;
            let posting = app.scalar_i64(&format!("SELECT obligation_posting_id FROM ledger_balances WHERE id = {balance}")).await;
            let pay = app.client.post(app.url("/ledger/interim-payments")).bearer_auth(&token)
                .json(&json!({"lease_id": 3, "amount": "30.00", "payment_method": "Cash", "allocations": [{"balance_id": balance, "amount": "30.00"}]})).send();
            let void = app.client.post(app.url(&format!("/ledger/postings/{posting}/void"))).bearer_auth(&token)
                .json(&json!({"reason": "race with a payment"})).send();
            let (paid, voided) = tokio::join!(pay, void);
            let (paid, voided) = (paid.unwrap().status(), voided.unwrap().status());
            assert!(!(paid.is_success() && voided.is_success()), "round {round}: both the payment and the void succeeded");
            assert!(paid.is_success() || voided.is_success(), "round {round}: neither succeeded ({paid}, {voided})");
            assert!(paid != StatusCode::INTERNAL_SERVER_ERROR && voided != StatusCode::INTERNAL_SERVER_ERROR);
        }
        app.verify_ledger().await;
    }

    async fn a_void_while_the_statement_step_allocates_keeps_the_ledger_right(app) {
        // Many obligations due in the week, earnings to pay them, voids fired while the
        // DTR step allocates: whatever wins, nothing is both voided and paid.
        let mut postings = Vec::new();
        for lease in 1..=10 {
            for n in 0..3 {
                let balance = app.obligation(lease, "Misc", "20.00", &format!("2026-11-{}", 22 + n)).await;
                postings.push(app.scalar_i64(&format!("SELECT obligation_posting_id FROM ledger_balances WHERE id = {balance}")).await);
            }
            assert_eq!(app.earnings(lease, "2026-11-22", "45.00").await.0, StatusCode::CREATED);
        }
        let token = app.token("finance").await;
        let generate = app.client.post(app.url("/dtrs/generate")).bearer_auth(&token).json(&json!({"week": "2026-11-22"})).send();
        let voids = join_all(postings.iter().map(|p| {
            let request = app.client.post(app.url(&format!("/ledger/postings/{p}/void"))).bearer_auth(&token).json(&json!({"reason": "race with a payment"})).send();
            async move { request.await.unwrap().status() }
        }));
        let (generated, statuses) = tokio::join!(generate, voids);
        assert_eq!(generated.unwrap().status(), StatusCode::OK);
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
        app.verify_ledger().await;
        // A voided obligation was never paid, a paid one never voided.
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_balances b WHERE b.status = 'VOIDED' AND EXISTS \
            (SELECT 1 FROM ledger_allocations a WHERE a.balance_id = b.id AND a.reversed = 0)").await, 0);
    }

    async fn twenty_payments_of_one_whole_balance_give_one_success(app) {
        let balance = app.obligation(4, "Taxes", "55.00", "2026-11-22").await;
        let token = app.token("finance").await;
        let calls = (0..20).map(|_| {
            let request = app.client.post(app.url("/ledger/interim-payments")).bearer_auth(&token)
                .json(&json!({"lease_id": 4, "amount": "55.00", "payment_method": "Cash", "allocations": [{"balance_id": balance, "amount": "55.00"}]})).send();
            async move { request.await.unwrap().status() }
        });
        let statuses = join_all(calls).await;
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| [StatusCode::CREATED, StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(s)), "{statuses:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'INTERIM_PAYMENT'").await, 1);
        app.verify_ledger().await;
    }

    async fn an_interim_receipt_number_is_recorded_once_under_concurrency(app) {
        let balance = app.obligation(5, "Misc", "100.00", "2026-11-22").await;
        let token = app.token("finance").await;
        let calls = (0..10).map(|_| {
            let request = app.client.post(app.url("/ledger/interim-payments")).bearer_auth(&token)
                .json(&json!({"lease_id": 5, "amount": "1.00", "payment_method": "Cash", "receipt_number": "R-SAME", "allocations": [{"balance_id": balance, "amount": "1.00"}]})).send();
            async move {
                let response = request.await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            }
        });
        let answers = join_all(calls).await;
        assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert!(body["detail"].as_str().unwrap().contains("receipt_number"), "{body}");
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE reference_id = 'R-SAME'").await, 1);
        app.verify_ledger().await;
    }

    async fn nothing_posts_for_an_invoice_after_its_hold_or_cancel(app) {
        // 12 invoices with 11 installments each, all due; a slow posting run (batches of 2)
        // while half of them are held or cancelled one by one.
        let mut invoices = Vec::new();
        for lease in 1..=12 {
            invoices.push(app.invoice_from_this_week(lease, "3000.01", &format!("INV-RACE-{lease}")).await);
        }
        let as_of = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        let options = batconnect::repairs::jobs::PostingOptions {
            batch_size: 2, workers: 2, fail_after_batches: None, pause_between_batches: Some(std::time::Duration::from_millis(3)), stop: Default::default(),
        };
        let db = app.db.clone();
        let run = tokio::spawn(async move {
            batconnect::repairs::jobs::post_due_installments(&db, as_of, "test", crate::helpers::default_now(), &options).await
        });
        let mut held = Vec::new();
        let mut cancelled = Vec::new();
        for (n, repair_id) in invoices.iter().enumerate().take(6) {
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            let action = if n % 2 == 0 { "hold" } else { "cancel" };
            let (status, body) = app.post_as("finance", &format!("/payments/vehicle-repairs/{repair_id}/{action}"), json!({"reason": "race with the run"})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            // What was posted when the hold committed; nothing may be added later.
            let posted = app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair' AND reference_id LIKE '{repair_id}-%'")).await;
            if action == "hold" { held.push((repair_id.clone(), posted)) } else { cancelled.push(repair_id.clone()) }
        }
        run.await.unwrap().unwrap();
        for (repair_id, posted_at_hold) in &held {
            let posted = app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair' AND reference_id LIKE '{repair_id}-%'")).await;
            assert_eq!(posted, *posted_at_hold, "{repair_id} was posted after its hold");
        }
        for repair_id in &cancelled {
            assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair' AND entry_type = 'OBLIGATION' AND status = 'POSTED' AND reference_id LIKE '{repair_id}-%'")).await, 0, "{repair_id}");
            assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_balances WHERE status = 'OPEN' AND reference_id LIKE '{repair_id}-%'")).await, 0, "{repair_id} has an open balance");
            assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE v.repair_id = '{repair_id}' AND i.status <> 'Cancelled'")).await, 0);
        }
        // The untouched invoices were posted in full.
        for repair_id in &invoices[6..] {
            assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE category = 'Repair' AND reference_id LIKE '{repair_id}-%'")).await, 11);
        }
        app.verify_ledger().await;
    }

    async fn a_step_is_never_recorded_on_a_case_closed_meanwhile(app) {
        for round in 0..8 {
            let case_no = app.create_repair_case().await;
            let move_path = format!("/case/{case_no}/move");
            let submit = app.submit_step(&case_no, app.invoice_data(round % 20 + 1, "150.00", &format!("INV-CLOSE-{round}")));
            let close = app.post_as("operations", &move_path, json!({"action": "close"}));
            let ((submitted, _), (closed, _)) = tokio::join!(submit, close);
            if submitted == StatusCode::OK && closed == StatusCode::OK {
                // Both may succeed only one after the other: the step before the close.
                let order = app.scalar_text(&format!(
                    "SELECT action FROM audit_log WHERE case_no = '{case_no}' AND action IN ('step_submitted', 'case_moved') ORDER BY id LIMIT 1")).await;
                assert_eq!(order, "step_submitted", "round {round}: a step was recorded on a closed case");
            } else {
                assert!([submitted, closed].iter().all(|s| [StatusCode::OK, StatusCode::CONFLICT].contains(s)), "{submitted} {closed}");
            }
        }
    }

    async fn voided_without_reversal_and_false_reversals_are_reported(app) {
        let balance = app.obligation(6, "EZPass", "12.00", "2026-11-22").await;
        let posting = app.scalar_i64(&format!("SELECT obligation_posting_id FROM ledger_balances WHERE id = {balance}")).await;
        app.verify_ledger().await;
        // A bare status change is the one change the triggers allow; verify catches it.
        sqlx::query(&format!("UPDATE ledger_postings SET status = 'VOIDED' WHERE id = {posting}")).execute(app.db.reader()).await.unwrap();
        let problems = batconnect::ledger::verify::verify(app.db.reader()).await.unwrap();
        assert!(problems.iter().any(|p| p == &format!("posting {posting}: VOIDED without a reversal posting")), "{problems:#?}");
        // A "reversal" for another amount.
        sqlx::query(&format!("INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, reversal_for_id, lease_id, created_by, created_on) \
            SELECT category, -1, 'REVERSAL', 'POSTED', reference_id, id, lease_id, 'x', 't' FROM ledger_postings WHERE id = {posting}")).execute(app.db.reader()).await.unwrap();
        let problems = batconnect::ledger::verify::verify(app.db.reader()).await.unwrap();
        assert!(problems.iter().any(|p| p.ends_with(&format!("does not mirror the posting {posting} it reverses"))), "{problems:#?}");
    }

    async fn the_ledger_refuses_rewrites_on_each_backend(app) {
        let balance = app.obligation(7, "PVB", "65.00", "2026-11-22").await;
        let id = app.scalar_i64(&format!("SELECT obligation_posting_id FROM ledger_postings p JOIN ledger_balances b ON b.obligation_posting_id = p.id WHERE b.id = {balance}")).await;
        let copy = "category, amount_cents, entry_type, status, reference_id, lease_id, created_by, created_on";
        let attempts: Vec<String> = match app.backend {
            batconnect::db::Backend::Sqlite => vec![
                // REPLACE deletes the row it replaces: the guards see that delete.
                format!("INSERT OR REPLACE INTO ledger_postings (id, {copy}) SELECT id, category, 1, entry_type, status, reference_id, lease_id, created_by, created_on FROM ledger_postings WHERE id = {id}"),
                format!("REPLACE INTO ledger_postings ({copy}) SELECT category, 99, entry_type, status, reference_id, lease_id, created_by, created_on FROM ledger_postings WHERE id = {id}"),
                format!("INSERT OR REPLACE INTO ledger_balances (id, category, reference_id, obligation_posting_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
                         SELECT id, category, reference_id, obligation_posting_id, original_cents, 1, due_date, status, created_on, updated_on FROM ledger_balances WHERE id = {balance}"),
                format!("DELETE FROM ledger_postings WHERE id = {id}"),
                format!("UPDATE ledger_postings SET amount_cents = 1 WHERE id = {id}"),
            ],
            batconnect::db::Backend::Postgres => vec![
                format!("UPDATE ledger_postings SET amount_cents = 1 WHERE id = {id}"),
                format!("DELETE FROM ledger_postings WHERE id = {id}"),
                "TRUNCATE ledger_postings CASCADE".to_string(),
                format!("INSERT INTO ledger_postings (id, {copy}) SELECT id, category, 1, entry_type, status, reference_id, lease_id, created_by, created_on \
                         FROM ledger_postings WHERE id = {id} ON CONFLICT (id) DO UPDATE SET amount_cents = EXCLUDED.amount_cents"),
            ],
        };
        for sql in attempts {
            let error = sqlx::query(&sql).execute(app.db.reader()).await.expect_err(&sql).to_string();
            assert!(error.contains("immutable") || error.contains("kept for history"), "{sql}: {error}");
        }
        assert_eq!(app.scalar_i64(&format!("SELECT amount_cents FROM ledger_postings WHERE id = {id}")).await, 6500);
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {balance}")).await, 6500);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 1);
        app.verify_ledger().await;
    }

    async fn a_cancelled_invoice_is_cancelled_everywhere(app) {
        let repair_id = app.invoice_from_this_week(8, "450.00", "INV-CXL").await;
        app.post_due("2026-11-29").await;
        let (status, body) = app.post_as("operations", &format!("/payments/vehicle-repairs/{repair_id}/cancel"), json!({"reason": "workshop refunded"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["status"], "Cancelled");
        assert_eq!(detail["totals"]["remaining_balance"], "0.00");
        let statuses: Vec<&str> = detail["schedule"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["Cancelled"; 5]);
        let query = |status: &str| format!("/payments/vehicle-repairs/fetch/installments?repair_id={repair_id}&status={status}");
        assert_eq!(app.get_as("viewer", &query("Cancelled")).await.1["total_items"], 5);
        for status in ["Scheduled", "Posted", "Paid"] {
            assert_eq!(app.get_as("viewer", &query(status)).await.1["total_items"], 0, "{status}");
        }
        let (_, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?repair_id={repair_id}")).await;
        assert_eq!(list["items"][0]["remaining"], "0.00");
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_balances WHERE status = 'OPEN' AND reference_id LIKE '{repair_id}-%'")).await, 0);
        // The next run posts nothing more for it.
        app.post_due("2027-01-31").await;
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'OBLIGATION' AND reference_id LIKE '{repair_id}-%'")).await, 2);
        let text = pdf_text(&app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await.2);
        assert!(text.contains("Cancelled") && !text.contains("Scheduled"), "{text}");
        app.verify_ledger().await;
    }

    async fn amounts_are_exact_to_the_cent(app) {
        let case_no = app.create_repair_case().await;
        // A JSON number, as sent: not rounded to 200.00 on the way in.
        let body = r#"{"step_id": "REPAIR_ENTER_DETAILS", "data": {"driver_id": 1, "lease_id": 1, "vehicle_id": 1, "medallion_id": 1,
            "total_amount": 199.999999999999999, "invoice_number": "INV-EXACT", "invoice_date": "2026-11-20",
            "workshop_type": "Big Apple Workshop", "start_week": "2026-11-29"}}"#;
        let response = app.client.post(app.url(&format!("/case/{case_no}"))).bearer_auth(app.token("operations").await)
            .header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["pointer"], "/data/total_amount", "{problem}");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("at most 2 decimal places"), "{problem}");
        let body = body.replace("199.999999999999999", "199.99");
        let response = app.client.post(app.url(&format!("/case/{case_no}"))).bearer_auth(app.token("operations").await)
            .header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["data"]["total_amount"], "199.99");
        // Interim payments and manual obligations read amounts the same way.
        let (status, problem) = app.post_as("finance", "/ledger/obligations", serde_json::from_str(
            r#"{"lease_id": 1, "category": "Misc", "amount": 10.005, "reason": "x"}"#).unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "amount");
    }

    async fn invoice_numbers_are_unique_on_their_letters_and_digits(app) {
        let first = app.create_invoice(1, "300.00", "BAW-77123").await;
        for clash in ["baw 77123", " BAW_77123 ", "baw.77123", "BAW77123", "Baw-77123"] {
            let case_no = app.create_repair_case().await;
            let (status, problem) = app.submit_step(&case_no, app.invoice_data(2, "300.00", clash)).await;
            assert_eq!(status, StatusCode::CONFLICT, "{clash}: {problem}");
            assert!(problem["detail"].as_str().unwrap().contains(&first), "{problem}");
        }
        // A number with no letter or digit names no invoice.
        let case_no = app.create_repair_case().await;
        let (status, problem) = app.submit_step(&case_no, app.invoice_data(2, "300.00", "--/--")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        // Another number (or the same once the first is cancelled) is fine.
        app.create_invoice(2, "300.00", "BAW-77124").await;
        app.post_as("operations", &format!("/payments/vehicle-repairs/{first}/cancel"), json!({"reason": "entered twice"})).await;
        app.create_invoice(3, "300.00", "baw_77123").await;
    }

    async fn a_number_is_corrected_until_anything_is_posted_and_an_upgrade_waits_for_clashes(app) {
        let typo = app.create_invoice(1, "300.00", "BAW-9001").await;
        let other = app.invoice_from_this_week(2, "300.00", "BAW-9002").await;
        let path = format!("/payments/vehicle-repairs/{typo}/invoice-number");
        // Another open invoice's number, a short reason: refused at their fields.
        let (status, problem) = app.post_as("operations", &path, json!({"invoice_number": "baw 9002", "reason": "x"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["reason"]);
        let (status, problem) = app.post_as("operations", &path, json!({"invoice_number": "baw 9002", "reason": "the workshop's number was misread"})).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invoice_number")), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(&other), "{problem}");
        // Corrected, audited.
        let (status, done) = app.post_as("operations", &path, json!({"invoice_number": "BAW-9010", "reason": "the workshop's number was misread"})).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!((done["previous_invoice_number"].as_str(), done["invoice_number"].as_str()), (Some("BAW-9001"), Some("BAW-9010")));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'repair_invoice_renumbered'").await, 1);
        // Once an installment is posted, the number is what the ledger and statements carry.
        let (status, posted) = app.post_as("finance", "/payments/vehicle-repairs/ledger/post-installment", json!({"installment_ids": [format!("{other}-01")]})).await;
        assert_eq!((status, posted["posted"].as_i64()), (StatusCode::OK, Some(1)), "{posted}");
        let (status, problem) = app.post_as("operations", &format!("/payments/vehicle-repairs/{other}/invoice-number"),
            json!({"invoice_number": "BAW-9020", "reason": "the workshop's number was misread"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        // Rows that clash under the key (written before it dropped punctuation): the
        // upgrade refuses and names them, the command lists them, and a correction lets it on.
        sqlx::query("UPDATE repair_invoices SET invoice_number = 'BAW 9010' WHERE repair_id = $1").bind(&other).execute(app.db.reader()).await.unwrap();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 22").execute(app.db.reader()).await.unwrap();
        let refused = app.db.migrate().await.expect_err("the upgrade waits for the clash");
        let said = refused.to_string();
        assert!(said.contains(&typo) && said.contains(&other) && said.contains("batconnect invoices clashes"), "{said}");
        let listed = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["invoices", "clashes"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .output()
            .unwrap();
        assert!(!listed.status.success());
        let out = String::from_utf8_lossy(&listed.stdout);
        assert!(out.contains("BAW9010") && out.contains(&typo) && out.contains(&other), "{out}");
        let fixed = std::process::Command::new(env!("CARGO_BIN_EXE_batconnect"))
            .args(["invoices", "renumber", &typo, "BAW-9011", "--reason", "clash found before the upgrade"])
            .env("BAT_DATABASE_URL", &app.database_url)
            .env("BAT_DATA_DIR", app.data_dir())
            .output()
            .unwrap();
        assert!(fixed.status.success(), "{}", String::from_utf8_lossy(&fixed.stderr));
        app.db.migrate().await.expect("the upgrade goes on once the clash is resolved");
        assert_eq!(app.scalar_text(&format!("SELECT invoice_number_key FROM repair_invoices WHERE repair_id = '{other}'")).await, "BAW9010");
    }

    async fn a_completed_step_resubmitted_with_other_data_is_refused(app) {
        let case_no = app.create_repair_case().await;
        let data = app.invoice_data(1, "1234.56", "INV-TWICE");
        let (status, created) = app.submit_step(&case_no, data.clone()).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let repair_id = created["data"]["repair_id"].as_str().unwrap().to_string();
        // The same invoice, written differently: business ids, a number, another case.
        let mut same = data.clone();
        same["lease_id"] = json!("LS-01001");
        same["driver_id"] = json!("DRV-000001");
        same["total_amount"] = json!(1234.56);
        same["invoice_number"] = json!("inv-twice");
        let (status, again) = app.submit_step(&case_no, same).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!((again["data"]["repair_id"].as_str(), again["data"]["already_created"].as_bool()), (Some(repair_id.as_str()), Some(true)));
        for (field, value) in [("total_amount", json!("1234.57")), ("lease_id", json!(2)), ("start_week", json!("2026-12-06")), ("notes", json!("other"))] {
            let mut other = data.clone();
            other[field] = value;
            let (status, problem) = app.submit_step(&case_no, other).await;
            assert_eq!(status, StatusCode::CONFLICT, "{field}: {problem}");
            assert!(problem["detail"].as_str().unwrap().contains(&repair_id), "{problem}");
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);
    }

    async fn earnings_of_zero_or_for_a_future_week_are_refused(app) {
        let (status, problem) = app.earnings(1, "2026-11-22", "0.00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/earnings/0/amount");
        let (status, problem) = app.earnings(1, "2026-11-29", "900.00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/earnings/0/period");
        // The real amount for the week is still accepted.
        assert_eq!(app.earnings(1, "2026-11-22", "900.00").await.0, StatusCode::CREATED);
    }

    async fn dates_stay_within_sane_windows(app) {
        let submit = |field: &'static str, value: &'static str| async move {
            let case_no = app.create_repair_case().await;
            let mut data = app.invoice_data(1, "300.00", &format!("INV-DATE-{field}-{value}"));
            data[field] = json!(value);
            app.submit_step(&case_no, data).await
        };
        for (field, value) in [("invoice_date", "1999-12-31"), ("invoice_date", "2026-11-26"), ("start_week", "2027-01-24"), ("start_week", "2026-11-15")] {
            let (status, problem) = submit(field, value).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} {value}: {problem}");
            assert_eq!(problem["errors"][0]["pointer"], format!("/data/{field}"), "{problem}");
        }
        // Eight weeks after the current one (2026-11-22) is the last allowed first week.
        let (status, body) = submit("start_week", "2027-01-17").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, problem) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 1, "category": "Misc", "amount": "5.00", "due_date": "2027-11-26", "reason": "too far"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "due_date");
        let (status, _) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 1, "category": "Misc", "amount": "5.00", "due_date": "2027-11-25", "reason": "a year ahead"})).await;
        assert_eq!(status, StatusCode::CREATED);
    }

    async fn the_matrix_in_force_is_shown_and_kept_by_each_invoice(app) {
        let (status, matrix) = app.get_as("viewer", "/payments/vehicle-repairs/matrix").await;
        assert_eq!(status, StatusCode::OK, "{matrix}");
        assert_eq!(matrix["configured"], false);
        let brackets = matrix["brackets"].as_array().unwrap();
        assert_eq!(brackets.len(), 5);
        assert_eq!((brackets[1]["over"].as_str(), brackets[1]["up_to"].as_str(), brackets[1]["weekly"].as_str()), (Some("200.00"), Some("500.00"), Some("100.00")));
        assert_eq!(brackets[4]["up_to"], Value::Null);
        assert_eq!(brackets[0]["description"], "up to $200.00: the whole amount in one installment");
        let old = app.create_invoice(1, "450.00", "INV-OLD-MATRIX").await;
        // Another matrix in force (as after a restart with BAT_REPAYMENT_MATRIX): new invoices
        // follow it; the earlier invoice keeps its schedule.
        let mut config = (*app.state.config).clone();
        config.repayment_matrix = serde_json::from_str(r#"{"brackets": [{"up_to": null, "weekly": "50.00"}]}"#).unwrap();
        let rules = batconnect::repairs::service::Rules::from_config(&config);
        let details = batconnect::repairs::model::EnterDetails::parse(&app.invoice_data(2, "450.00", "INV-NEW-MATRIX")).unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let created = batconnect::repairs::service::create_invoice(&mut tx, &details, None, &batconnect::auth::CurrentUser::system("test"), crate::helpers::default_now(), rules).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((created.installment_count, created.weekly_installment.to_string()), (9, "50.00".to_string()));
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{old}")).await;
        assert_eq!(detail["schedule"].as_array().unwrap().len(), 5);
        assert_eq!(detail["invoice"]["weekly_installment"], "100.00");
    }
}
