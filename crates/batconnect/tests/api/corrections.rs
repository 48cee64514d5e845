//! Corrections after a statement is final: the finalized statement (and its stored PDF)
//! stays exactly as handed to the driver, the void says which statement it changed, and
//! the lease's next statement carries the adjustment — its figures adding up, net pay never
//! negative, what it cannot pay left open on the lease.

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::TestApp;

const WEEK1: &str = "2026-11-22";
const WEEK2: &str = "2026-11-29";

async fn statement_id(app: &TestApp, lease: i64, week: &str) -> i64 {
    let (_, page) = app
        .get_as("viewer", &format!("/dtrs?week={week}&lease_id={lease}"))
        .await;
    page["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statement of lease {lease} for {week}: {page}"))
}

async fn content(app: &TestApp, id: i64) -> Value {
    app.get_as("viewer", &format!("/dtrs/{id}")).await.1["content"].clone()
}

async fn generate(app: &TestApp, week: &str) {
    let (status, body) = app
        .post_as("finance", "/dtrs/generate", json!({"week": week}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Finalizes the lease's statement of `week`; its id and stored PDF.
async fn finalize(app: &TestApp, lease: i64, week: &str) -> (i64, Vec<u8>) {
    let id = statement_id(app, lease, week).await;
    let (status, body) = app
        .post_as("finance", &format!("/dtrs/{id}/finalize"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, pdf(app, id).await)
}

async fn pdf(app: &TestApp, id: i64) -> Vec<u8> {
    let (status, _, bytes) = app.get_file("finance", &format!("/dtrs/{id}/pdf")).await;
    assert_eq!(status, StatusCode::OK);
    bytes
}

async fn earnings_posting(app: &TestApp, lease: i64, week: &str, amount: &str) -> i64 {
    let (status, body) = app.earnings(lease, week, amount).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body[0]["posting_id"]
        .as_i64()
        .or_else(|| body["recorded"][0]["posting_id"].as_i64())
        .or_else(|| body["items"][0]["posting_id"].as_i64())
        .unwrap_or_else(|| panic!("earnings answer: {body}"))
}

async fn void(app: &TestApp, posting: i64, reason: &str) -> Value {
    let (status, body) = app
        .post_as(
            "finance",
            &format!("/ledger/postings/{posting}/void"),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn money(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not money: {v}"));
    let (whole, cents) = text.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

/// gross − deducted − adjustments = net pay, net pay never negative, and the deductions
/// and adjustments are what their lines say.
fn adds_up(c: &Value) {
    let lines: i64 = c["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| money(&l["deducted"]))
        .sum();
    let adjustments: i64 = c["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| money(&a["paid_this_week"]))
        .sum();
    assert_eq!(lines, money(&c["total_deducted"]), "{c}");
    assert_eq!(adjustments, money(&c["total_adjustments"]), "{c}");
    assert_eq!(
        money(&c["gross_earnings"]) - money(&c["total_deducted"]) - money(&c["total_adjustments"]),
        money(&c["net_pay"]),
        "{c}"
    );
    assert!(money(&c["net_pay"]) >= 0, "{c}");
}

/// The finalized statements are their stored records still, and the ledger is whole.
async fn records_kept(app: &TestApp, finalized: &[(i64, Vec<u8>)]) {
    for (id, bytes) in finalized {
        assert_eq!(
            &pdf(app, *id).await,
            bytes,
            "the finalized PDF of statement {id} changed"
        );
    }
    let verified = batconnect::dtr::record::verify(app.db.reader(), &app.state.storage)
        .await
        .unwrap();
    assert!(verified.problems.is_empty(), "{:?}", verified.problems);
    app.verify_ledger().await;
}

fn deducted(c: &Value, category: &str) -> String {
    c["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["category"] == category)
        .unwrap()["deducted"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends! {
    async fn earnings_voided_after_finalize_are_taken_back_by_the_next_statement(app) {
        // Week 1: $500 earned, $300 of rent paid, $200 paid out; the statement is final.
        app.obligation(2, "Lease", "300.00", "2026-11-23").await;
        let earned = earnings_posting(app, 2, WEEK1, "500.00").await;
        generate(app, WEEK1).await;
        let week1 = finalize(app, 2, WEEK1).await;
        let c1 = content(app, week1.0).await;
        assert_eq!((money(&c1["total_deducted"]), money(&c1["net_pay"])), (30000, 20000), "{c1}");
        // Week 2 made as a draft before the mistake is found.
        app.set_clock(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()).await;
        app.obligation(2, "Lease", "300.00", "2026-11-30").await;
        earnings_posting(app, 2, WEEK2, "700.00").await;
        generate(app, WEEK2).await;
        let week2 = statement_id(app, 2, WEEK2).await;
        assert_eq!(money(&content(app, week2).await["net_pay"]), 40000);

        // The console's confirmation names the final statement a void would correct.
        let number = app.scalar_text(&format!("SELECT dtr_number FROM dtrs WHERE id = {}", week1.0)).await;
        let cookie = crate::console::page_session(app, "finance", "demo-finance").await.unwrap();
        let page = reqwest::Client::new().get(app.url(&format!("/app/ledger/postings/{earned}"))).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&number) && page.contains("of the week of 11/22/2026 is final"), "{page}");

        // The earnings were entered for the wrong lease: voided, the void names the final
        // statement it changes and says the next statement carries it.
        let answer = void(app, earned, "entered for the wrong lease").await;
        assert_eq!(answer["finalized_statements"].as_array().unwrap().len(), 1, "{answer}");
        assert_eq!(answer["finalized_statements"][0]["week"], WEEK1);
        assert_eq!(answer["finalized_statements"][0]["dtr_number"], number.as_str());
        assert_eq!(answer["carried_as"], "next_statement");

        // The draft of week 2 was made again: the $300 of week 1's rent is owed again and
        // paid with the deductions, the $200 paid out is owed back and paid after them.
        let c2 = content(app, week2).await;
        adds_up(&c2);
        assert_eq!(deducted(&c2, "Lease"), "600.00", "{c2}");
        let adjustments = c2["adjustments"].as_array().unwrap();
        assert_eq!(adjustments.len(), 1, "{c2}");
        let a = &adjustments[0];
        assert_eq!((a["week"].as_str(), a["posting_id"].as_i64(), a["reason"].as_str()), (Some(WEEK1), Some(earned), Some("entered for the wrong lease")));
        assert_eq!((a["owed_again"].as_str(), a["amount"].as_str(), a["paid_this_week"].as_str()), (Some("300.00"), Some("200.00"), Some("100.00")));
        assert_eq!((c2["total_adjustments"].as_str(), c2["net_pay"].as_str()), (Some("100.00"), Some("0.00")));
        // What week 2's earnings could not pay stays open on the lease.
        assert_eq!(app.balance(&format!("ADJ-{earned}")).await["current_balance"], "100.00");
        // Made again as a draft, the statement keeps its adjustment.
        generate(app, WEEK2).await;
        let again = content(app, week2).await;
        assert_eq!(again["adjustments"], c2["adjustments"]);
        assert_eq!(again["net_pay"], c2["net_pay"]);
        // The same section is on its page and its PDF.
        let printed = pdf(app, week2).await;
        if let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") {
            let dir = std::path::PathBuf::from(dir).join("documents");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("dtr-with-adjustments-{}.pdf", app.backend.name())), &printed).unwrap();
        }
        let text = crate::helpers::pdf_text(&printed);
        assert!(text.contains("Adjustments to earlier weeks") && text.contains("entered for the wrong lease"), "{text}");
        records_kept(app, &[week1]).await;
    }

    async fn an_interim_payment_voided_after_finalize_is_owed_again_on_the_next_statement(app) {
        let balance = app.obligation(3, "Lease", "300.00", "2026-11-23").await;
        let (status, paid) = app.pay(3, balance, "300.00").await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        let payment = paid["posting_id"].as_i64().unwrap();
        earnings_posting(app, 3, WEEK1, "100.00").await;
        generate(app, WEEK1).await;
        let week1 = finalize(app, 3, WEEK1).await;
        assert_eq!(money(&content(app, week1.0).await["net_pay"]), 10000);
        // A void no final statement counted says so: an empty list.
        let unpaid = app.obligation(3, "Misc", "20.00", "2026-11-23").await;
        let unpaid_posting = app.scalar_i64(&format!("SELECT obligation_posting_id FROM ledger_balances WHERE id = {unpaid}")).await;
        let plain = void(app, unpaid_posting, "charged in error, not owed").await;
        assert_eq!((plain["finalized_statements"].as_array().map(Vec::len), plain["carried_as"].is_null()), (Some(0), true), "{plain}");

        let answer = void(app, payment, "the check bounced back").await;
        assert_eq!(answer["finalized_statements"][0]["week"], WEEK1, "{answer}");
        assert_eq!(answer["carried_as"], "next_statement");
        // Next week: the rent the payment had paid is owed again and paid with the
        // deductions; a payment at the window paid nothing out, so nothing is owed back.
        app.set_clock(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()).await;
        earnings_posting(app, 3, WEEK2, "400.00").await;
        generate(app, WEEK2).await;
        let c2 = content(app, statement_id(app, 3, WEEK2).await).await;
        adds_up(&c2);
        assert_eq!(deducted(&c2, "Lease"), "300.00", "{c2}");
        let a = &c2["adjustments"][0];
        assert_eq!((a["posting_id"].as_i64(), a["owed_again"].as_str(), a["amount"].as_str()), (Some(payment), Some("300.00"), Some("0.00")), "{c2}");
        assert_eq!(c2["net_pay"], "100.00");
        records_kept(app, &[week1]).await;
    }

    async fn a_void_after_the_leases_final_statement_stays_an_open_balance(app) {
        app.obligation(4, "Lease", "100.00", "2026-11-23").await;
        let earned = earnings_posting(app, 4, WEEK1, "500.00").await;
        let (status, ended) = app.post_as("operations", "/fleet/leases/4/terminate", json!({"end_date": "2026-11-24", "reason": "completed"})).await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        generate(app, WEEK1).await;
        let last = finalize(app, 4, WEEK1).await;
        let c1 = content(app, last.0).await;
        let paid_out = money(&c1["net_pay"]);
        assert!(paid_out > 0, "{c1}");

        let answer = void(app, earned, "earnings of another driver").await;
        assert_eq!(answer["carried_as"], "open_balance", "{answer}");
        assert_eq!(answer["finalized_statements"][0]["week"], WEEK1);
        // What was paid out is owed back: an open balance of the lease, on its page.
        let open = app.balance(&format!("ADJ-{earned}")).await;
        assert_eq!(money(&open["current_balance"]), paid_out, "{open}");
        let cookie = crate::console::page_session(app, "viewer", "demo-viewer").await.unwrap();
        let page = reqwest::Client::new().get(app.url("/app/fleet/leases/4")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Corrections after final statements") && page.contains("earnings of another driver"), "{page}");
        records_kept(app, &[last]).await;
    }

    async fn two_voids_of_one_final_statement_are_both_carried(app) {
        app.obligation(5, "Lease", "300.00", "2026-11-23").await;
        let taxes = app.obligation(5, "Taxes", "50.00", "2026-11-23").await;
        let (status, paid) = app.pay(5, taxes, "50.00").await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        let payment = paid["posting_id"].as_i64().unwrap();
        let earned = earnings_posting(app, 5, WEEK1, "500.00").await;
        generate(app, WEEK1).await;
        let week1 = finalize(app, 5, WEEK1).await;
        let first = void(app, payment, "the card payment was disputed").await;
        let second = void(app, earned, "earnings recorded twice").await;
        assert_eq!(first["finalized_statements"], second["finalized_statements"]);

        app.set_clock(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()).await;
        app.obligation(5, "Lease", "300.00", "2026-11-30").await;
        earnings_posting(app, 5, WEEK2, "1000.00").await;
        generate(app, WEEK2).await;
        let c2 = content(app, statement_id(app, 5, WEEK2).await).await;
        adds_up(&c2);
        // Taxes 50 and week 1's rent 300 owed again, this week's rent 300; the 200 paid out
        // of week 1 owed back.
        assert_eq!((deducted(&c2, "Taxes"), deducted(&c2, "Lease")), ("50.00".into(), "600.00".into()), "{c2}");
        let lines: Vec<(i64, String)> = c2["adjustments"].as_array().unwrap().iter()
            .map(|a| (a["posting_id"].as_i64().unwrap(), a["amount"].as_str().unwrap().to_string())).collect();
        assert_eq!(lines, vec![(payment, "0.00".to_string()), (earned, "200.00".to_string())], "{c2}");
        assert_eq!((c2["total_adjustments"].as_str(), c2["net_pay"].as_str()), (Some("200.00"), Some("150.00")));
        records_kept(app, &[week1]).await;
    }
}
