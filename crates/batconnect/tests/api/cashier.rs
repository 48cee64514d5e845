//! The cashier's desk: interim payments as taken at the window (payment date, method, memo,
//! chosen amounts then the hierarchy, unapplied credit), their list, export, detail and
//! receipt, and the statement that applies the credit.

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{join_all, pdf_text, TestApp};

async fn pay(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post_as("finance", "/ledger/interim-payments", body)
        .await
}

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

crate::both_backends! {
    async fn a_payment_pays_what_was_chosen_then_the_hierarchy_and_keeps_the_rest_as_credit(app) {
        let misc = app.obligation(1, "Misc", "80.00", "2026-11-15").await;
        let taxes = app.obligation(1, "Taxes", "50.00", "2026-11-22").await;
        // $200.00 by money order: $30.00 chosen for Misc; the rest by the hierarchy (Taxes,
        // then what Misc has left); $70.00 is more than the lease owes.
        let (status, paid) = pay(app, json!({"lease_id": "LS-01001", "amount": "200.00", "payment_method": "money order",
            "memo": "paid at window 2", "allocations": [{"balance_id": misc, "amount": "30.00"}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert_eq!(paid["receipt_number"], "IP-2026-000001");
        assert_eq!((paid["payment_method"].as_str(), paid["payment_date"].as_str(), paid["unapplied"].as_str()), (Some("Money order"), Some("2026-11-25"), Some("70.00")));
        let applied: Vec<(i64, &str, &str)> = paid["allocations"].as_array().unwrap().iter()
            .map(|a| (a["balance_id"].as_i64().unwrap(), a["amount"].as_str().unwrap(), a["balance_after"].as_str().unwrap())).collect();
        assert_eq!(applied, vec![(misc, "80.00", "0.00"), (taxes, "50.00", "0.00")]);
        // The detail, the list and its filters, the export.
        let (status, detail) = app.get_as("viewer", "/ledger/interim-payments/IP-2026-000001").await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!((detail["status"].as_str(), detail["applied"].as_str(), detail["unapplied"].as_str()), (Some("POSTED"), Some("130.00"), Some("70.00")));
        assert_eq!((detail["lease_id"].as_str(), detail["driver_name"].as_str(), detail["medallion_number"].is_string()), (Some("LS-01001"), Some("Ahmed Khan"), true));
        assert_eq!(detail["memo"], "paid at window 2");
        assert_eq!(detail["void"], Value::Null);
        for (query, found) in [
            ("lease_id=01001", 1), ("lease_id=1", 1), ("lease_id=ls-010", 1), ("driver_name=hmed%20k", 1), ("driver_name=nobody", 0),
            ("payment_method=MONEY_ORDER", 1), ("payment_method=Cash", 0), ("receipt_number=000001", 1),
            ("from_date=2026-11-25&to_date=2026-11-25", 1), ("from_date=2026-11-26", 0), ("status=posted", 1),
            ("sort_by=amount&sort_order=asc", 1),
        ] {
            let (status, page) = app.get_as("viewer", &format!("/ledger/interim-payments?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            assert_eq!(page["total_items"], found, "{query}: {page}");
        }
        for (query, bad) in [("payment_method=Bitcoin", "payment_method"), ("sort_by=colour", "sort_by"), ("from_date=11/25/2026", "from_date")] {
            let (status, problem) = app.get_as("viewer", &format!("/ledger/interim-payments?{query}")).await;
            assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, bad), "{problem}");
        }
        let (status, _, csv) = app.get_file("viewer", "/ledger/interim-payments/export?format=csv&driver_name=khan").await;
        assert_eq!(status, StatusCode::OK);
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("IP-2026-000001") && csv.contains("Money order") && csv.contains("70.00"), "{csv}");
        let (status, _, pdf) = app.get_file("viewer", "/ledger/interim-payments/IP-2026-000001/receipt").await;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&pdf);
        for expected in ["IP-2026-000001", "Money order", "Ahmed Khan", "$200.00", "$70.00", "paid at window 2"] {
            assert!(text.contains(expected), "{expected} not on the receipt: {text}");
        }
        // The next statement applies the credit to what fell due before the week's earnings
        // and never pays it out; a balance due later waits.
        let due_in_week = app.obligation(1, "Misc", "40.00", "2026-11-24").await;
        let due_later = app.obligation(1, "Misc", "25.00", "2026-12-01").await;
        assert_eq!(app.earnings(1, "2026-11-22", "300.00").await.0, StatusCode::CREATED);
        app.set_clock(Utc.with_ymd_and_hms(2026, 11, 29, 10, 30, 0).unwrap()).await;
        app.state.scheduler().tick_once().await.unwrap();
        let dtr = crate::statements::statement(app, 1, "2026-11-22").await;
        assert_eq!((dtr["credit_applied"].as_str(), dtr["net_pay"].as_str(), dtr["total_deducted"].as_str()), (Some("40.00"), Some("300.00"), Some("0.00")), "{dtr}");
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {due_in_week}")).await, 0);
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {due_later}")).await, 2500);
        assert_eq!(app.get_as("viewer", "/ledger/interim-payments/IP-2026-000001").await.1["unapplied"], "30.00");
        let (_, dtrs) = app.get_as("viewer", "/dtrs?lease_id=LS-01001&week=2026-11-22&status=draft").await;
        assert_eq!(dtrs["total_items"], 1, "{dtrs}");
        for format in ["excel", "pdf"] {
            let (status, headers, body) = app.get_file("viewer", &format!("/ledger/interim-payments/export?format={format}")).await;
            assert_eq!(status, StatusCode::OK, "{format}");
            assert!(headers["content-disposition"].to_str().unwrap().contains("interim_payments_"), "{format}");
            assert!(body.len() > 100, "{format}");
        }
        app.verify_ledger().await;
    }

    async fn a_cashier_gets_a_clear_answer_for_every_bad_payment(app) {
        let balance = app.obligation(2, "Taxes", "55.00", "2026-11-22").await;
        let (_, lease) = app.get_as("viewer", "/fleet/leases/2").await;
        let started = domain::calendar::parse_date(lease["start_date"].as_str().unwrap()).unwrap();
        let before_start = (started - chrono::Duration::days(1)).to_string();
        for (body, status, bad) in [
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "Cash", "payment_date": "2026-11-26"}), StatusCode::UNPROCESSABLE_ENTITY, "payment_date"),
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "Cash", "payment_date": before_start}), StatusCode::UNPROCESSABLE_ENTITY, "payment_date"),
            (json!({"lease_id": 2, "amount": "10.00"}), StatusCode::UNPROCESSABLE_ENTITY, "payment_method"),
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "IOU"}), StatusCode::UNPROCESSABLE_ENTITY, "payment_method"),
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "Check"}), StatusCode::UNPROCESSABLE_ENTITY, "check_number"),
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "Card", "check_number": "77"}), StatusCode::UNPROCESSABLE_ENTITY, "check_number"),
            (json!({"lease_id": "LS-99999", "amount": "10.00", "payment_method": "Cash"}), StatusCode::UNPROCESSABLE_ENTITY, "lease_id"),
            (json!({"lease_id": 2, "amount": "10.001", "payment_method": "Cash"}), StatusCode::UNPROCESSABLE_ENTITY, "amount"),
            (json!({"lease_id": 2, "amount": "10.00", "payment_method": "Cash", "allocations": [{"balance_id": balance, "amount": "20.00"}]}), StatusCode::UNPROCESSABLE_ENTITY, "allocations"),
            (json!({"lease_id": 2, "amount": "60.00", "payment_method": "Cash", "allocations": [{"balance_id": balance, "amount": "55.01"}]}), StatusCode::CONFLICT, ""),
        ] {
            let (got, problem) = pay(app, body.clone()).await;
            assert_eq!((got, field(&problem)), (status, bad), "{body}: {problem}");
        }
        // A check with its number, paid yesterday: the receipt says so.
        let (status, paid) = pay(app, json!({"lease_id": 2, "amount": "55.00", "payment_method": "check", "check_number": "1042", "payment_date": "2026-11-24"})).await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert_eq!((paid["payment_method"].as_str(), paid["check_number"].as_str(), paid["unapplied"].as_str()), (Some("Check"), Some("1042"), Some("0.00")));
        // Nothing was written by the refused ones.
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM interim_payments").await, 1);
        // A void shows on the detail and the receipt; its reason must say why.
        let receipt = paid["receipt_number"].as_str().unwrap();
        let posting = paid["posting_id"].as_i64().unwrap();
        let (status, problem) = app.post_as("finance", &format!("/ledger/postings/{posting}/void"), json!({"reason": "bounced"})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "reason"));
        let (status, _) = app.post_as("finance", &format!("/ledger/postings/{posting}/void"), json!({"reason": "check bounced at the bank"})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, detail) = app.get_as("viewer", &format!("/ledger/interim-payments/{receipt}")).await;
        assert_eq!((detail["status"].as_str(), detail["void"]["reason"].as_str()), (Some("VOIDED"), Some("check bounced at the bank")), "{detail}");
        assert_eq!(detail["allocations"][0]["reversed"], true);
        let text = pdf_text(&app.get_file("viewer", &format!("/ledger/interim-payments/{receipt}/receipt")).await.2);
        assert!(text.contains("VOIDED") && text.contains("1042"), "{text}");
        assert_eq!(app.get_as("viewer", "/ledger/interim-payments/IP-0000-000000").await.0, StatusCode::NOT_FOUND);
        app.verify_ledger().await;
    }

    async fn ledger_lists_filter_by_what_staff_type_and_show_who(app) {
        app.obligation(1, "Taxes", "12.00", "2026-11-22").await;
        app.obligation(2, "Misc", "34.00", "2026-11-22").await;
        let (_, lease) = app.get_as("viewer", "/fleet/leases/1").await;
        let vin = lease["vin"].as_str().unwrap().to_string();
        let medallion = lease["medallion_number"].as_str().unwrap().to_string();
        for list in ["/ledger/postings", "/ledger/balances"] {
            for (query, found) in [
                ("lease_id=1".to_string(), 1), ("lease_id=01001".to_string(), 1), ("lease_id=ls-0100".to_string(), 2),
                ("driver_name=khan".to_string(), 1), ("driver_name=KHAN,rodriguez".to_string(), 2), ("driver_name=nobody".to_string(), 0),
                (format!("vin={}", &vin[10..].to_lowercase()), 1), (format!("medallion_number={medallion}"), 1),
                ("driver_id=DRV-000001".to_string(), 1), ("lease_id=LS-99999".to_string(), 0),
            ("category=taxes".to_string(), 1),
            ] {
                let filter = if query.starts_with("category=") { String::new() } else { "&category=Taxes,Misc".to_string() };
                let (status, page) = app.get_as("viewer", &format!("{list}?{query}{filter}")).await;
                assert_eq!(status, StatusCode::OK, "{list}?{query}: {page}");
                assert_eq!(page["total_items"], found, "{list}?{query}: {page}");
            }
            // Words in any letter case; each list knows its own statuses.
            let status = if list.ends_with("postings") { "posted" } else { "open" };
            let (code, page) = app.get_as("viewer", &format!("{list}?status={status}")).await;
            assert_eq!((code, page["total_items"].as_i64()), (StatusCode::OK, Some(2)), "{list}: {page}");
            let (_, page) = app.get_as("viewer", &format!("{list}?lease_id=LS-01001")).await;
            let row = &page["items"][0];
            assert_eq!((row["lease_business_id"].as_str(), row["driver_name"].as_str(), row["medallion_number"].as_str()), (Some("LS-01001"), Some("Ahmed Khan"), Some(medallion.as_str())), "{row}");
        }
        let (status, problem) = app.get_as("viewer", "/ledger/postings?entry_type=DEBIT").await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "entry_type"));
        let (status, _, csv) = app.get_file("viewer", "/ledger/export?kind=balances&driver_name=khan").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 2);
    }

    async fn bodies_name_leases_drivers_vehicles_and_medallions_by_either_id(app) {
        let (status, body) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": "LS-01002", "category": "Misc", "amount": "5.00", "reason": "key fob"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(app.scalar_i64(&format!("SELECT lease_id FROM ledger_balances WHERE id = {}", body["balance_id"])).await, 2);
        let (status, body) = app.post_as("finance", "/ledger/earnings", json!({"earnings": [{"lease_id": "LS-01003", "period": "2026-11-22", "amount": "100.00"}, {"lease_id": 4, "period": "2026-11-22", "amount": "90.00"}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!((body[0]["lease_id"].as_i64(), body[1]["lease_id"].as_i64()), (Some(3), Some(4)));
        let (status, problem) = app.post_as("finance", "/ledger/earnings", json!({"earnings": [{"lease_id": "LS-99999", "period": "2026-11-22", "amount": "1.00"}]})).await;
        assert_eq!((status, problem["errors"][0]["pointer"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/earnings/0/lease_id")), "{problem}");
        let (status, problem) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": "LS-99999", "category": "Misc", "amount": "5.00", "reason": "x"})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "lease_id"));
        // An optional date or word left empty is a mistake, not a request for the default.
        let (status, problem) = app.post_as("finance", "/ledger/obligations", json!({"lease_id": 2, "category": "Misc", "amount": "5.00", "reason": "x", "due_date": ""})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "due_date"));
        let (status, problem) = app.post_as("operations", "/fleet/drivers", json!({"first_name": "A", "last_name": "B", "tlc_license_no": "5550001", "status": ""})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "status"));
        // A lease made from the VIN, the medallion number and the driver id.
        let (_, vehicle) = app.post_as("operations", "/fleet/vehicles", json!({"vin": "1FTBR1Y8XNKA77777", "make": "Ford", "model": "Transit", "year": 2025})).await;
        let (_, medallion) = app.post_as("operations", "/fleet/medallions", json!({"medallion_number": "9Q77"})).await;
        let (_, driver) = app.post_as("operations", "/fleet/drivers", json!({"first_name": "Đorđe", "last_name": "Petrović", "tlc_license_no": "7654321"})).await;
        let (status, lease) = app.post_as("operations", "/fleet/leases", json!({"lease_type": "dov", "weekly_rate": "300.00",
            "vehicle_id": "1ftbr1y8xnka77777", "medallion_id": "9q77", "start_date": "2026-11-23",
            "drivers": [{"driver_id": driver["driver_id"], "is_driver_manager": true}]})).await;
        assert_eq!(status, StatusCode::CREATED, "{lease}");
        assert_eq!((lease["vehicle_id"].as_i64(), lease["medallion_id"].as_i64()), (vehicle["id"].as_i64(), medallion["id"].as_i64()));
        let (status, problem) = app.post_as("operations", "/fleet/leases", json!({"lease_type": "dov", "weekly_rate": "300.00",
            "vehicle_id": "NOVIN", "medallion_id": 9999, "start_date": "2026-11-23", "drivers": [{"driver_id": "DRV-999999", "is_driver_manager": true}]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["vehicle_id", "medallion_id", "drivers"]);
        let business = driver["driver_id"].as_str().unwrap();
        let (_, leases) = app.get_as("viewer", &format!("/fleet/leases?driver_id={business}")).await;
        assert_eq!(leases["total_items"], 1, "{leases}");
    }

    async fn credit_never_pays_a_balance_twice_and_an_ended_lease_keeps_none(app) {
        // The week's earnings pay $200.00 of a $500.00 charge; a window payment of $400.00
        // pays the $300.00 left and keeps $100.00 of credit.
        let charge = app.obligation(1, "Misc", "500.00", "2026-11-22").await;
        assert_eq!(app.earnings(1, "2026-11-22", "200.00").await.0, StatusCode::CREATED);
        app.set_clock(Utc.with_ymd_and_hms(2026, 11, 29, 10, 30, 0).unwrap()).await;
        app.state.scheduler().tick_once().await.unwrap();
        let (status, paid) = pay(app, json!({"lease_id": 1, "amount": "400.00", "payment_method": "Cash"})).await;
        assert_eq!((status, paid["unapplied"].as_str()), (StatusCode::CREATED, Some("100.00")), "{paid}");
        // Finance voids the earnings to re-enter them: the charge reopens by $200.00. The
        // credit already paid that charge, so the remade statement leaves it to earnings —
        // and does not fail.
        let earnings = app.scalar_i64("SELECT id FROM ledger_postings WHERE entry_type = 'EARNINGS' AND lease_id = 1").await;
        let (status, _) = app.post_as("finance", &format!("/ledger/postings/{earnings}/void"), json!({"reason": "re-entered with the right amount"})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, report) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {charge}")).await, 20_000);
        assert_eq!(app.get_as("viewer", &format!("/ledger/interim-payments/{}", paid["receipt_number"].as_str().unwrap())).await.1["unapplied"], "100.00");
        app.verify_ledger().await;
        // A typed receipt number cannot take the form the service gives.
        let (status, problem) = pay(app, json!({"lease_id": 2, "amount": "1.00", "payment_method": "Cash", "receipt_number": "IP-2026-000042"})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "receipt_number"));
        // An ended lease: a payment pays what it owes, never more.
        let fee = app.obligation(3, "Misc", "60.00", "2026-11-22").await;
        let (status, ended) = app.post_as("operations", "/fleet/leases/LS-01003/terminate", json!({"end_date": "2026-11-28", "reason": "completed"})).await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        let (status, problem) = pay(app, json!({"lease_id": 3, "amount": "100.00", "payment_method": "Cash"})).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "amount"), "{problem}");
        let (status, paid) = pay(app, json!({"lease_id": 3, "amount": "60.00", "payment_method": "Cash"})).await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {fee}")).await, 0);
        app.verify_ledger().await;
    }

    async fn two_cashiers_paying_one_balance_at_once_cannot_both_succeed(app) {
        let token = app.token("finance").await;
        for round in 0..5 {
            let balance = app.obligation(3, "Misc", "40.00", "2026-11-22").await;
            let calls = (0..2).map(|_| {
                let request = app.client.post(app.url("/ledger/interim-payments")).bearer_auth(&token)
                    .json(&json!({"lease_id": 3, "amount": "40.00", "payment_method": "Cash", "allocations": [{"balance_id": balance, "amount": "40.00"}]})).send();
                async move { request.await.unwrap().status() }
            });
            let statuses = join_all(calls).await;
            assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "round {round}: {statuses:?}");
            assert!(statuses.contains(&StatusCode::CONFLICT), "round {round}: {statuses:?}");
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM interim_payments").await, 5);
        app.verify_ledger().await;
    }
}
