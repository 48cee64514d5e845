//! Receivables aging as of any day and a lease's statement of account, rebuilt from
//! postings, allocations and voids; checked against `/ledger/balances` and the ledger's
//! own invariant (postings = open balances − unapplied credit), on both databases.

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{cents, TestApp};

async fn at(app: &TestApp, day: u32, month: u32) {
    app.set_clock(Utc.with_ymd_and_hms(2026, month, day, 16, 0, 0).unwrap())
        .await;
}

/// Sum of the open balances `/ledger/balances` lists (every page).
async fn open_balances(app: &TestApp, filter: &str) -> i64 {
    let mut total = 0;
    let mut page = 1;
    loop {
        let (status, body) = app
            .get_as(
                "finance",
                &format!("/ledger/balances?status=OPEN&per_page=100&page={page}{filter}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        total += body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| cents(&b["current_balance"]))
            .sum::<i64>();
        if page >= body["total_pages"].as_i64().unwrap() {
            return total;
        }
        page += 1;
    }
}

fn row<'a>(aging: &'a Value, category: &str) -> &'a Value {
    aging["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == category)
        .unwrap_or_else(|| panic!("no {category} row: {aging}"))
}

both_backends! {
    async fn aging_is_what_was_open_that_day_and_the_statement_explains_it(app) {
        at(app, 2, 11).await;
        let ezpass = app.obligation(2, "EZPass", "100.00", "2026-10-20").await;
        let pvb = app.obligation(2, "PVB", "50.00", "2026-11-10").await;
        at(app, 9, 11).await;
        let (status, paid) = app.pay(2, ezpass, "60.00").await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        let payment = paid["posting_id"].as_i64().unwrap();
        let (status, part) = app.pay(2, pvb, "30.00").await;
        assert_eq!(status, StatusCode::CREATED, "{part}");
        // 11/12: more than is owed; what no balance needs stays the lease's credit.
        at(app, 12, 11).await;
        let (status, credit) = app.post_as("finance", "/ledger/interim-payments", json!({"lease_id": 2, "amount": "500.00", "payment_method": "cash"})).await;
        assert_eq!(status, StatusCode::CREATED, "{credit}");
        assert_eq!(credit["unapplied"], "440.00", "{credit}");
        at(app, 16, 11).await;
        let (status, voided) = app.post_as("finance", &format!("/ledger/postings/{payment}/void"), json!({"reason": "the cash was counterfeit"})).await;
        assert_eq!(status, StatusCode::OK, "{voided}");

        // 11/02: all of it open; the EZPass 13 days past due, the PVB not yet due.
        let (status, before) = app.get_as("viewer", "/reports/aging?as_of=2026-11-02&lease_id=2").await;
        assert_eq!(status, StatusCode::OK, "{before}");
        assert_eq!(row(&before, "EZPass")["d8_28"], "100.00", "{before}");
        assert_eq!(row(&before, "PVB")["not_due"], "50.00", "{before}");
        assert_eq!(before["totals"]["total"], "150.00");
        // 11/10: the payment then still counted; the PVB due that very day is not yet due.
        let (_, paying) = app.get_as("viewer", "/reports/aging?as_of=2026-11-10&lease_id=LS-01002").await;
        assert_eq!(row(&paying, "EZPass")["total"], "40.00", "{paying}");
        assert_eq!(row(&paying, "PVB")["not_due"], "20.00", "{paying}");
        // Today: the voided payment no longer counts: its 60.00 is owed again.
        let (_, today) = app.get_as("viewer", "/reports/aging?lease_id=2").await;
        assert_eq!(today["as_of"], "2026-11-16");
        assert_eq!(row(&today, "EZPass")["d8_28"], "60.00", "{today}");
        assert_eq!(today["totals"]["total"], "60.00", "{today}");
        // The grand total of today is the open balances of the ledger, for the lease and all.
        assert_eq!(cents(&today["totals"]["total"]), open_balances(app, "&lease_id=2").await);
        let (_, all) = app.get_as("finance", "/reports/aging").await;
        assert_eq!(cents(&all["totals"]["total"]), open_balances(app, "").await);
        let (_, pvb_then) = app.get_as("viewer", "/reports/aging?category=pvb&as_of=2026-11-10").await;
        assert_eq!(pvb_then["totals"]["total"], "20.00", "{pvb_then}");

        // The statement of account: every entry with a running balance; the closing balance
        // is the open balances less the unapplied credit.
        let (status, statement) = app.get_as("viewer", "/ledger/leases/LS-01002/statement?from=2026-11-01").await;
        assert_eq!(status, StatusCode::OK, "{statement}");
        assert_eq!(statement["opening_balance"], "0.00");
        let entries = statement["entries"].as_array().unwrap();
        let mut running = 0;
        for e in entries {
            running += cents(&e["amount"]);
            assert_eq!(cents(&e["balance"]), running, "{e}");
        }
        let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds[..6], ["charge", "charge", "interim_payment", "applied", "interim_payment", "applied"], "{statement}");
        assert_eq!(kinds.last(), Some(&"void"), "{statement}");
        assert_eq!(cents(&statement["closing_balance"]), running);
        assert_eq!(statement["open_balances"], today["totals"]["total"], "{statement}");
        assert_eq!(
            cents(&statement["closing_balance"]),
            cents(&statement["open_balances"]) - cents(&statement["unapplied_credit"]),
            "{statement}"
        );
        assert_eq!(statement["unapplied_credit"], "440.00", "{statement}");
        // As it stood on 11/10: the payment not yet voided, no credit yet.
        let (_, then) = app.get_as("viewer", "/ledger/leases/2/statement?from=2026-11-01&to=2026-11-10").await;
        assert_eq!(then["open_balances"], "60.00", "{then}");
        assert_eq!(then["unapplied_credit"], "0.00");
        assert_eq!(then["closing_balance"], "60.00");
        // The files: CSV of the entries, the PDF a cashier hands the driver.
        let (status, _, csv) = app.get_file("viewer", "/ledger/leases/2/statement?from=2026-11-01&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), entries.len() + 1);
        let (status, _, pdf) = app.get_file("viewer", "/ledger/leases/2/statement?format=pdf").await;
        assert_eq!(status, StatusCode::OK);
        let text = crate::helpers::pdf_text(&pdf);
        assert!(text.contains("Statement of account") && text.contains("$440.00"), "{text}");
        let (status, _, xlsx) = app.get_file("viewer", "/reports/aging?format=excel").await;
        assert_eq!(status, StatusCode::OK);
        assert!(xlsx.starts_with(b"PK"));
        app.verify_ledger().await;
    }

    async fn bad_report_parameters_are_named(app) {
        at(app, 16, 11).await;
        for (path, status, field) in [
            ("/reports/aging?as_of=2026-11-17", StatusCode::UNPROCESSABLE_ENTITY, Some("as_of")),
            ("/reports/aging?as_of=2026-13-01", StatusCode::UNPROCESSABLE_ENTITY, Some("as_of")),
            ("/reports/aging?category=Bananas", StatusCode::UNPROCESSABLE_ENTITY, Some("category")),
            ("/reports/aging?lease_id=LS-99999", StatusCode::NOT_FOUND, None),
            ("/ledger/leases/LS-99999/statement", StatusCode::NOT_FOUND, None),
            ("/ledger/leases/1/statement?from=2026-11-10&to=2026-11-01", StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
            ("/ledger/leases/1/statement?to=2026-11-30", StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
            ("/ledger/leases/1/statement?from=2020-01-01&to=2026-11-16", StatusCode::UNPROCESSABLE_ENTITY, Some("from")),
        ] {
            let (got, body) = app.get_as("viewer", path).await;
            assert_eq!(got, status, "{path}: {body}");
            if let Some(field) = field {
                assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{path}: {body}");
            }
        }
        // A lease older than the longest range: its statement starts five years back.
        let mut tx = app.db.begin().await.unwrap();
        sqlx::query("UPDATE leases SET start_date = '2019-01-06' WHERE id = 1").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let (status, old) = app.get_as("viewer", "/ledger/leases/1/statement").await;
        assert_eq!(status, StatusCode::OK, "{old}");
        assert_eq!((old["from"].as_str(), old["to"].as_str()), (Some("2021-11-16"), Some("2026-11-16")), "{old}");
        let (_, body) = app.get_as("viewer", "/reports/aging?category=Bananas").await;
        assert!(body["detail"].as_str().unwrap().contains("EZPass"), "the known categories are listed: {body}");
    }
}

both_backends! {
    async fn a_weeks_earnings_collected_is_what_its_statements_deducted(app) {
        // The default clock: Wednesday 2026-11-25, in the week of 11/22.
        app.obligation(2, "Lease", "300.00", "2026-11-23").await;
        app.obligation(3, "EZPass", "80.00", "2026-11-24").await;
        let (status, body) = app.earnings(2, "2026-11-22", "500.00").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.earnings(3, "2026-11-22", "50.00").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, statements) = app.get_as("viewer", "/dtrs?week=2026-11-22&per_page=100").await;
        let mut deducted = 0;
        for s in statements["items"].as_array().unwrap() {
            let (_, dtr) = app.get_as("viewer", &format!("/dtrs/{}", s["id"])).await;
            deducted += cents(&dtr["content"]["total_deducted"]);
        }
        assert_eq!(deducted, 35_000, "300.00 of rent and 50.00 of the EZPass");
        let (status, report) = app.get_as("viewer", "/reports/collections?from_week=2026-11-15&to_week=2026-11-22").await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let week = report["weeks"].as_array().unwrap().iter().find(|w| w["week"] == "2026-11-22").unwrap();
        assert_eq!(cents(&week["collected_earnings"]), deducted, "{report}");
        assert_eq!(week["charged"], "380.00", "{report}");
        assert_eq!(week["collected"], "350.00");
        assert_eq!(week["rate"], json!(0.9211));
        let empty = report["weeks"].as_array().unwrap().iter().find(|w| w["week"] == "2026-11-15").unwrap();
        assert_eq!(empty["rate"], Value::Null, "nothing charged: no rate");
        let (status, _, csv) = app.get_file("viewer", "/reports/collections?from_week=2026-11-22&to_week=2026-11-22&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(String::from_utf8(csv).unwrap().lines().count() >= 3);
        for (query, field) in [("from_week=2026-11-23", "from_week"), ("to_week=2026-11-29", "to_week"), ("from_week=2026-11-22&to_week=2026-11-15", "to_week")] {
            let (status, body) = app.get_as("viewer", &format!("/reports/collections?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
            assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{query}: {body}");
        }
    }
}

crate::both_backends! {
    async fn finance_reads_aging_collections_and_a_statement_in_the_console(app) {
        app.obligation(2, "EZPass", "100.00", "2026-11-02").await;
        app.obligation(2, "PVB", "40.00", "2026-11-30").await;
        let Some(browser) = crate::browser::Browser::open(&app.address).await else { return };
        browser.goto("/app/reports/aging").await;
        browser.sign_in("finance", "demo-finance").await;
        assert_eq!(browser.title().await, "Aging");
        let table = browser.find("#aging-chart table").await.text().await.unwrap();
        assert!(table.contains("EZPass") && table.contains("$100.00"), "{table}");
        browser.find("#aging-chart svg").await;
        browser.screenshots("aging").await;
        browser.find("a[href^='/app/leases/2/statement']").await.click().await.unwrap();
        let text = browser.text_when("h1", |t| t.starts_with("Statement of account")).await;
        assert!(text.contains("LS-01002"), "{text}");
        let page = browser.text().await;
        assert!(page.contains("Closing balance") && page.contains("$140.00"), "{page}");
        browser.screenshots("statement").await;
        browser.goto("/app/reports/collections").await;
        assert_eq!(browser.title().await, "Collections");
        browser.find("#collections-chart svg").await;
        browser.screenshots("collections").await;
        browser.close().await;
    }
}
