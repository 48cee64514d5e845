//! What a week's statement charges: what fell due by its Saturday, arrears first, never a
//! later week's installment.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::TestApp;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The lease's statement of the week starting `week`.
pub async fn statement(app: &TestApp, lease: i64, week: &str) -> Value {
    let (_, page) = app
        .get_as("viewer", &format!("/dtrs?week={week}&lease_id={lease}"))
        .await;
    let id = page["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statement of lease {lease} for the week of {week}"));
    app.get_as("viewer", &format!("/dtrs/{id}")).await.1["content"].clone()
}

/// The statement's repairs rows as (installment sequence, paid this week, remaining).
fn repair_rows(content: &Value) -> Vec<(String, String, String)> {
    content["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["installment_id"].as_str().unwrap();
            (
                id[id.len() - 2..].to_string(),
                r["paid_this_week"].as_str().unwrap().to_string(),
                r["remaining"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(n: &str, paid: &str, remaining: &str) -> (String, String, String) {
    (n.into(), paid.into(), remaining.into())
}

/// Sunday `d` 05:30 in New York: that Sunday's chain (posting at 04:30, statements at 05:00)
/// has come due.
async fn sunday_chain(app: &TestApp, m: u32, d: u32) {
    app.set_clock(at(2026, m, d, 10, 30)).await;
    app.state.scheduler().tick_once().await.unwrap();
}

async fn invoice_status(app: &TestApp, repair_id: &str) -> String {
    app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}"))
        .await
        .1["invoice"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends! {
    async fn each_statement_charges_what_fell_due_in_its_week_arrears_first(app) {
        // $300.00 in three installments, for the weeks of 11/22, 11/29 and 12/06.
        let repair_id = app.invoice_from_this_week(1, "300.00", "INV-WEEKS").await;
        app.state.scheduler().tick_once().await.unwrap();
        assert_eq!(app.earnings(1, "2026-11-22", "500.00").await.0, StatusCode::CREATED);

        // Sunday 11/29: the 11/29 installment is posted at 04:30, and the statement of the
        // week 11/22–11/28 takes only the one that fell due in it.
        sunday_chain(app, 11, 29).await;
        let week1 = statement(app, 1, "2026-11-22").await;
        assert_eq!((week1["gross_earnings"].as_str(), week1["total_deducted"].as_str(), week1["net_pay"].as_str()),
                   (Some("500.00"), Some("100.00"), Some("400.00")), "{week1}");
        assert_eq!(repair_rows(&week1), vec![row("01", "100.00", "0.00")]);
        assert_eq!(app.balance(&format!("{repair_id}-02")).await["current_balance"], "100.00");

        // Too little earnings in the week of 11/29: the rest stays open.
        app.set_clock(at(2026, 12, 2, 15, 0)).await;
        assert_eq!(app.earnings(1, "2026-11-29", "60.00").await.0, StatusCode::CREATED);
        sunday_chain(app, 12, 6).await;
        let week2 = statement(app, 1, "2026-11-29").await;
        assert_eq!((week2["total_deducted"].as_str(), week2["net_pay"].as_str()), (Some("60.00"), Some("0.00")));
        assert_eq!(repair_rows(&week2), vec![row("02", "60.00", "40.00")], "not the 12/06 installment: {week2}");
        assert_eq!(week2["balances_carried_forward"], "40.00");
        assert_eq!(invoice_status(app, &repair_id).await, "Open");

        // The week of 12/06 takes the arrears first, then its own installment; the invoice
        // closes only once its last installment's week is statemented.
        app.set_clock(at(2026, 12, 9, 15, 0)).await;
        assert_eq!(app.earnings(1, "2026-12-06", "500.00").await.0, StatusCode::CREATED);
        assert_eq!(invoice_status(app, &repair_id).await, "Open");
        sunday_chain(app, 12, 13).await;
        let week3 = statement(app, 1, "2026-12-06").await;
        assert_eq!((week3["total_deducted"].as_str(), week3["net_pay"].as_str()), (Some("140.00"), Some("360.00")), "{week3}");
        assert_eq!(repair_rows(&week3), vec![row("02", "40.00", "0.00"), row("03", "100.00", "0.00")]);
        assert_eq!(invoice_status(app, &repair_id).await, "Closed");
        app.verify_ledger().await;
    }

    async fn every_category_waits_for_its_due_week(app) {
        // A toll due on the Sunday the chain runs is next week's, like an installment.
        app.state.scheduler().tick_once().await.unwrap();
        app.obligation(2, "EZPass", "25.00", "2026-11-28").await;
        app.obligation(2, "Misc", "40.00", "2026-11-29").await;
        assert_eq!(app.earnings(2, "2026-11-22", "100.00").await.0, StatusCode::CREATED);
        sunday_chain(app, 11, 29).await;
        let week = statement(app, 2, "2026-11-22").await;
        let deducted: Vec<(&str, &str)> = week["categories"].as_array().unwrap().iter()
            .filter(|c| c["deducted"] != "0.00").map(|c| (c["category"].as_str().unwrap(), c["deducted"].as_str().unwrap())).collect();
        assert_eq!(deducted, vec![("EZPass", "25.00")], "{week}");
        assert_eq!(week["net_pay"], "75.00");
        // An interim payment still pays whatever balance the cashier names.
        let misc = app.scalar_i64("SELECT id FROM ledger_balances WHERE category = 'Misc'").await;
        assert_eq!(app.pay(2, misc, "40.00").await.0, StatusCode::CREATED);
        app.verify_ledger().await;
    }
}
