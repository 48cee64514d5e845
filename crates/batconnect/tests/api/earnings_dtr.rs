use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::join_all;

both_backends! {
    async fn earnings_pay_balances_in_hierarchy_order_and_the_dtr_shows_it(app) {
        let repair_id = app.invoice_from_this_week(1, "450.00", "INV-H1").await;
        app.obligation(1, "Lease", "350.00", "2026-11-23").await;
        app.obligation(1, "Taxes", "30.00", "2026-11-25").await;
        app.post_due("2026-11-29").await;
        let (status, recorded) = app.earnings(1, "2026-11-22", "450.00").await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        let (status, report) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["allocated"], "450.00");
        // Taxes, then Lease, then Repair oldest first: 70 of the first installment.
        assert_eq!(app.balance(&format!("{repair_id}-01")).await["current_balance"], "30.00");
        assert_eq!(app.balance(&format!("{repair_id}-02")).await["current_balance"], "100.00");
        let (_, dtrs) = app.get_as("viewer", "/dtrs?week=2026-11-22&lease_id=1").await;
        assert_eq!(dtrs["total_items"], 1);
        let id = dtrs["items"][0]["id"].as_i64().unwrap();
        let number = dtrs["items"][0]["dtr_number"].as_str().unwrap().to_string();
        assert!(number.starts_with("DTR-2026-"));
        let (_, dtr) = app.get_as("viewer", &format!("/dtrs/{id}")).await;
        let content = &dtr["content"];
        assert_eq!((content["gross_earnings"].as_str(), content["total_deducted"].as_str(), content["net_pay"].as_str()), (Some("450.00"), Some("450.00"), Some("0.00")));
        let categories: Vec<(&str, &str)> = content["categories"].as_array().unwrap().iter().map(|c| (c["category"].as_str().unwrap(), c["deducted"].as_str().unwrap())).collect();
        assert_eq!(&categories[..6], &[("Taxes", "30.00"), ("EZPass", "0.00"), ("Lease", "350.00"), ("PVB", "0.00"), ("TLC", "0.00"), ("Repair", "70.00")]);
        // Only the installment due in the week: the one of 11/29 is next week's statement's.
        let repairs = content["repairs"].as_array().unwrap();
        assert_eq!(repairs.len(), 1, "{content}");
        assert_eq!(repairs[0]["installment_id"], format!("{repair_id}-01"));
        assert_eq!(repairs[0]["paid_this_week"], "70.00");
        assert_eq!(repairs[0]["invoice_balance_remaining"], "380.00");
        assert_eq!(content["party"]["driver_name"], "Ahmed Khan");
        assert_eq!(content["balances_carried_forward"], "30.00");
        // Regenerating replaces the draft: same number, no second allocation.
        let (_, again) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(again["allocated"], "0.00");
        assert!(again["replaced"].as_i64().unwrap() >= 1);
        let (_, dtrs) = app.get_as("viewer", "/dtrs?week=2026-11-22&lease_id=1").await;
        assert_eq!(dtrs["items"][0]["dtr_number"], number.as_str());
        // An interim payment finishes the first installment: it becomes Paid.
        let b1 = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        let (status, paid) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 1, "amount": "30.00", "payment_method": "cash", "allocations": [{"balance_id": b1, "amount": "30.00"}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert!(paid["receipt_number"].as_str().unwrap().starts_with("IP-"));
        assert_eq!(paid["allocations"][0]["balance_after"], "0.00");
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["schedule"][0]["status"], "Paid");
        assert_eq!(detail["totals"]["total_paid"], "100.00");
        assert_eq!(detail["totals"]["remaining_balance"], "350.00");
        assert_eq!(detail["totals"]["progress"], "1/5");
        // Over-paying a chosen balance is refused (409), never redirected elsewhere.
        let b2 = app.balance(&format!("{repair_id}-02")).await["id"].as_i64().unwrap();
        let (status, problem) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 1, "amount": "100.01", "payment_method": "Cash", "allocations": [{"balance_id": b2, "amount": "100.01"}]})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        // Finalized DTRs are never changed.
        let (status, _) = app.post_as("finance", &format!("/dtrs/{id}/finalize"), json!(null)).await;
        assert_eq!(status, StatusCode::OK);
        let (_, third) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(third["skipped_finalized"], 1);
        let (status, _) = app.post_as("finance", &format!("/dtrs/{id}/finalize"), json!(null)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let pdf = app.client.get(app.url(&format!("/dtrs/{id}/pdf"))).bearer_auth(app.token("viewer").await).send().await.unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
        app.verify_ledger().await;
    }

    async fn bulk_earnings_are_recorded_together_or_not_at_all(app) {
        // Every demo lease, two weeks each: 40 rows in one request.
        let rows: Vec<Value> = (1..=20)
            .flat_map(|lease| ["2026-11-15", "2026-11-22"].map(|week| json!({"lease_id": lease, "period": week, "amount": format!("{}.25", 400 + lease)})))
            .collect();
        let (status, body) = app.post_as("finance", "/ledger/earnings", json!({"earnings": rows})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let recorded = body.as_array().expect("the recorded rows");
        assert_eq!(recorded.len(), 40);
        for row in recorded {
            let (lease, posting) = (row["lease_id"].as_i64().unwrap(), row["posting_id"].as_i64().unwrap());
            let period = row["period"].as_str().unwrap();
            // Each returned id is the posting of that very lease and week, for that amount.
            assert_eq!(app.scalar_i64(&format!("SELECT lease_id FROM ledger_postings WHERE id = {posting} AND payment_period = '{period}' AND reference_id = 'EARN-{lease}-{period}'")).await, lease);
            assert_eq!(app.scalar_i64(&format!("SELECT -amount_cents FROM ledger_postings WHERE id = {posting}")).await, (400 + lease) * 100 + 25);
        }
        // Two unknown leases and a wrong driver: every bad row is named, nothing is written.
        let bad = json!({"earnings": [
            {"lease_id": 1, "period": "2026-11-08", "amount": "1.00"},
            {"lease_id": 9999, "period": "2026-11-08", "amount": "1.00"},
            {"lease_id": 2, "period": "2026-11-08", "amount": "1.00", "driver_id": 3},
            {"lease_id": 8888, "period": "2026-11-08", "amount": "1.00"}]});
        let (status, problem) = app.post_as("finance", "/ledger/earnings", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, ["/earnings/1/lease_id", "/earnings/2/driver_id", "/earnings/3/lease_id"]);
        // A week already recorded for one row refuses the whole request.
        let mixed = json!({"earnings": [{"lease_id": 1, "period": "2026-11-08", "amount": "1.00"}, {"lease_id": 5, "period": "2026-11-22", "amount": "1.00"}]});
        let (status, problem) = app.post_as("finance", "/ledger/earnings", mixed).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("lease 5 and week 2026-11-22"), "{problem}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 40);
    }

    async fn earnings_are_once_per_lease_and_week_and_keys_replay(app) {
        let (status, _) = app.earnings(2, "2026-11-22", "500.00").await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, problem) = app.earnings(2, "2026-11-22", "510.00").await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (status, problem) = app.earnings(2, "2026-11-24", "510.00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["pointer"], "/earnings/0/period");
        let token = app.token("finance").await;
        let send = |body: Value, key: &'static str| {
            app.client.post(app.url("/ledger/earnings")).bearer_auth(&token).header("Idempotency-Key", key).json(&body).send()
        };
        let body = json!({"earnings": [{"lease_id": 3, "period": "2026-11-22", "amount": 400}]});
        let first = send(body.clone(), "k-1").await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        let second = send(body.clone(), "k-1").await.unwrap();
        assert_eq!(second.status(), StatusCode::CREATED);
        assert_eq!(second.json::<Value>().await.unwrap(), first);
        let other = send(json!({"earnings": [{"lease_id": 3, "period": "2026-11-22", "amount": 401}]}), "k-1").await.unwrap();
        assert_eq!(other.status(), StatusCode::CONFLICT);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE lease_id = 3").await, 1);
    }

    async fn voiding_a_payment_reopens_what_it_paid(app) {
        let repair_id = app.invoice_from_this_week(4, "150.00", "INV-V1").await;
        app.post_due("2026-11-22").await;
        let b = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        let (_, paid) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 4, "amount": "150.00", "payment_method": "Cash", "receipt_number": "R-77", "allocations": [{"balance_id": b, "amount": "150.00"}]})).await;
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["status"], "Closed");
        assert_eq!(detail["schedule"][0]["status"], "Paid");
        let (status, problem) = app.post_as("finance", &format!("/payments/vehicle-repairs/{repair_id}/cancel"), json!({"reason": "x"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let posting = paid["posting_id"].as_i64().unwrap();
        let (status, _) = app.post_as("finance", &format!("/ledger/postings/{posting}/void"), json!({"reason": "bounced check returned by the bank"})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["status"], "Open");
        assert_eq!(detail["schedule"][0]["status"], "Posted");
        assert_eq!(detail["totals"]["total_paid"], "0.00");
        assert_eq!(app.balance(&format!("{repair_id}-01")).await["status"], "OPEN");
        app.verify_ledger().await;
    }

    async fn fifty_concurrent_voids_of_one_payment_give_one_success(app) {
        let repair_id = app.invoice_from_this_week(5, "450.00", "INV-C50").await;
        app.post_due("2026-11-22").await;
        let b = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        let (_, paid) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 5, "amount": "60.00", "payment_method": "Cash", "allocations": [{"balance_id": b, "amount": "60.00"}]})).await;
        let posting = paid["posting_id"].as_i64().unwrap();
        let token = app.token("finance").await;
        let calls = (0..50).map(|_| {
            let request = app.client.post(app.url(&format!("/ledger/postings/{posting}/void"))).bearer_auth(&token).json(&json!({"reason": "race with a second void"})).send();
            async move { request.await.unwrap().status() }
        });
        let statuses = join_all(calls).await;
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 49, "{statuses:?}");
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE reversal_for_id = {posting}")).await, 1);
        assert_eq!(app.balance(&format!("{repair_id}-01")).await["current_balance"], "100.00");
        app.verify_ledger().await;
    }

    async fn hold_resume_and_cancel_follow_the_rules(app) {
        let held = app.invoice_from_this_week(6, "450.00", "INV-HOLD").await;
        let (status, out) = app.post_as("operations", &format!("/payments/vehicle-repairs/{held}/hold"), json!({"reason": "disputed by the driver"})).await;
        assert_eq!((status, out["status"].as_str()), (StatusCode::OK, Some("Hold")));
        app.post_due("2026-11-29").await;
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE '{held}%'")).await, 0);
        let (status, _) = app.post_as("operations", &format!("/payments/vehicle-repairs/{held}/hold"), json!({"reason": "held once again"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        app.post_as("operations", &format!("/payments/vehicle-repairs/{held}/resume"), json!({"reason": "resolved"})).await;
        app.post_due("2026-11-29").await;
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_postings WHERE reference_id LIKE '{held}%'")).await, 2);
        let (status, cancelled) = app.post_as("finance", &format!("/payments/vehicle-repairs/{held}/cancel"), json!({"reason": "workshop refunded"})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["voided_postings"].as_array().unwrap().len(), 2);
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_balances WHERE reference_id LIKE '{held}%' AND status = 'VOIDED'")).await, 2);
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs?status=Cancelled").await;
        assert_eq!(list["total_items"], 1);
        let (_, all) = app.get_as("viewer", "/payments/vehicle-repairs").await;
        assert_eq!(all["total_items"], 1);
        // The invoice number is free again.
        app.create_invoice(6, "100.00", "INV-HOLD").await;
        let (status, _) = app.post_as("viewer", &format!("/payments/vehicle-repairs/{held}/resume"), json!({"reason": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let history = app.scalar_i64(&format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{held}' AND action LIKE 'repair_invoice_%'")).await;
        assert_eq!(history, 4);
        app.verify_ledger().await;
    }

    async fn ledger_verify_command_reports_offending_ids(app) {
        let binary = env!("CARGO_BIN_EXE_batconnect");
        let run = || std::process::Command::new(binary).args(["ledger", "verify"]).env("BAT_DATABASE_URL", &app.database_url).output().unwrap();
        app.invoice_from_this_week(7, "300.00", "INV-VER").await;
        app.post_due("2026-11-29").await;
        let ok = run();
        assert!(ok.status.success(), "{} {}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
        let id = app.scalar_i64("SELECT MIN(id) FROM ledger_balances").await;
        sqlx::query(format!("UPDATE ledger_balances SET balance_cents = balance_cents - 1 WHERE id = {id}").as_str()).execute(app.db.reader()).await.unwrap();
        let bad = run();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stdout).contains(&format!("balance {id}")), "{}", String::from_utf8_lossy(&bad.stdout));
    }
}
