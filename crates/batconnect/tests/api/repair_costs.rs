//! What repairs cost: every grouping of `/reports/repair-costs` computed a second way, from
//! the invoices themselves, on both databases; its files; its console page in a browser.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{cents, TestApp};

/// An invoice on demo lease `lease` dated `date`, at `workshop`, with `lines` (or a total).
async fn invoice(
    app: &TestApp,
    lease: i64,
    number: &str,
    date: &str,
    workshop: i64,
    lines: Option<Value>,
    total: &str,
) -> String {
    let case_no = app.create_repair_case().await;
    let mut data = json!({
        "driver_id": lease, "lease_id": lease, "vehicle_id": lease, "medallion_id": lease,
        "invoice_number": number, "invoice_date": date, "start_week": "2026-11-29", "workshop_id": workshop,
    });
    match lines {
        Some(lines) => {
            data["line_items"] = lines;
            data["tax_rate"] = json!("8.875");
        }
        None => data["total_amount"] = json!(total),
    }
    let (status, body) = app.submit_step(&case_no, data).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["repair_id"].as_str().unwrap().to_string()
}

fn part(description: &str, price: &str) -> Value {
    json!({"kind": "part", "description": description, "quantity": 1, "unit_price": price, "taxable": true})
}

fn labour(hours: &str, rate: &str) -> Value {
    json!({"kind": "labour", "description": "Labour", "quantity": hours, "unit_price": rate, "taxable": false})
}

async fn seed(app: &TestApp) -> i64 {
    let (status, body) = app
        .post_as(
            "operations",
            "/workshops",
            json!({"name": "Queens Auto Body", "kind": "external"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let queens = body["id"].as_i64().unwrap();
    invoice(
        app,
        1,
        "RC-1",
        "2026-09-14",
        queens,
        Some(json!([part("Bumper", "410.00"), labour("2.5", "95.00")])),
        "",
    )
    .await;
    invoice(app, 2, "RC-2", "2026-10-03", 1, None, "1250.00").await;
    invoice(app, 3, "RC-3", "2026-10-30", queens, Some(json!([part("Mirror", "88.40"), labour("0.75", "95.00"),
        {"kind": "fee", "description": "Disposal", "quantity": 1, "unit_price": "12.00"},
        {"kind": "discount", "description": "Fleet", "quantity": 1, "unit_price": "20.00", "taxable": true}])), "").await;
    invoice(app, 1, "RC-4", "2026-11-20", 2, None, "640.25").await;
    let cancelled = invoice(app, 2, "RC-5", "2026-11-21", queens, None, "999.99").await;
    let (status, body) = app
        .post_as(
            "operations",
            &format!("/payments/vehicle-repairs/{cancelled}/cancel"),
            json!({"reason": "entered twice"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    queens
}

/// Every invoice the report should cover, read one by one through the invoice API.
async fn covered(app: &TestApp, from: &str, to: &str) -> Vec<Value> {
    let (_, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?from_invoice_date={from}&to_invoice_date={to}&per_page=100")).await;
    let mut details = Vec::new();
    for item in list["items"].as_array().unwrap() {
        if item["status"] == "Cancelled" {
            continue;
        }
        let (_, detail) = app
            .get_as(
                "viewer",
                &format!(
                    "/payments/vehicle-repairs/{}",
                    item["repair_id"].as_str().unwrap()
                ),
            )
            .await;
        details.push(detail);
    }
    details
}

both_backends! {
    async fn every_grouping_adds_up_to_the_invoices_it_covers(app) {
        seed(app).await;
        let (from, to) = ("2026-09-01", "2026-11-30");
        let invoices = covered(app, from, to).await;
        assert_eq!(invoices.len(), 4);
        let expected_total: i64 = invoices.iter().map(|d| cents(&d["invoice"]["total_amount"])).sum();
        // The second way: from each invoice's own record and lines.
        let mut second: BTreeMap<&str, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
        for d in &invoices {
            let card = &d["invoice"];
            let total = cents(&card["total_amount"]);
            let month = card["invoice_date"].as_str().unwrap()[..7].to_string();
            let mut add = |grouping: &'static str, key: String, amount: i64| {
                let entry = second.entry(grouping).or_default().entry(key).or_default();
                entry.0 += 1;
                entry.1 += amount;
            };
            add("month", month, total);
            add("workshop", card["workshop"]["id"].to_string(), total);
            add("vehicle", d["vehicle"]["id"].to_string(), total);
            add("driver", d["driver"]["id"].to_string(), total);
            let lines = card["line_items"].as_array().unwrap();
            if lines.is_empty() {
                add("kind", "unitemised".into(), total);
            }
            for (kind, group) in [("part", "parts"), ("labour", "labour"), ("fee", "fees"), ("discount", "discounts")] {
                let sum: i64 = lines.iter().filter(|l| l["kind"] == kind).map(|l| cents(&l["amount"])).sum();
                if sum != 0 {
                    add("kind", group.into(), if kind == "discount" { -sum } else { sum });
                }
            }
            let tax = cents(&card["subtotals"]["tax"]);
            if tax != 0 {
                add("kind", "tax".into(), tax);
            }
        }
        for grouping in ["month", "workshop", "vehicle", "driver", "kind"] {
            let (status, report) = app.get_as("viewer", &format!("/reports/repair-costs?group_by={grouping}&from={from}&to={to}")).await;
            assert_eq!(status, StatusCode::OK, "{report}");
            assert_eq!(cents(&report["total"]), expected_total, "{grouping}: {report}");
            assert_eq!(report["invoice_count"], 4, "{report}");
            let groups = report["groups"].as_array().unwrap();
            let sum: i64 = groups.iter().map(|g| cents(&g["sum"])).sum();
            assert_eq!(sum, expected_total, "{grouping}: the groups add up to the total");
            let found: BTreeMap<String, (i64, i64)> = groups
                .iter()
                .filter(|g| g["count"].as_i64().unwrap() != 0)
                .map(|g| (g["key"].as_str().unwrap().to_string(), (g["count"].as_i64().unwrap(), cents(&g["sum"]))))
                .collect();
            assert_eq!(found, second[grouping], "{grouping}: {report}");
        }
        // Months: every month of the range, in order, the empty ones too.
        let (_, months) = app.get_as("finance", "/reports/repair-costs?group_by=month&from=2026-08-15&to=2026-11-30").await;
        let keys: Vec<&str> = months["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["2026-08", "2026-09", "2026-10", "2026-11"]);
        assert_eq!(months["groups"][0]["label"], "August 2026");
        assert_eq!(months["groups"][0]["sum"], "0.00");
        // Kinds in their order, discounts negative.
        let (_, kinds) = app.get_as("viewer", &format!("/reports/repair-costs?group_by=kind&from={from}&to={to}")).await;
        let keys: Vec<&str> = kinds["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["parts", "labour", "fees", "discounts", "tax", "unitemised"]);
        assert_eq!(kinds["groups"][3]["sum"], "-20.00");
    }

    async fn a_bad_range_is_refused_and_the_files_hold_the_same_figures(app) {
        seed(app).await;
        for (query, field, words) in [
            ("group_by=month&to=2026-11-30", "from", "is required"),
            ("group_by=month&from=2026-12-01&to=2026-11-30", "to", "before from"),
            ("group_by=month&from=2021-11-29&to=2026-11-30", "to", "longer than 5 years"),
            ("group_by=week&from=2026-11-01&to=2026-11-30", "group_by", "month, workshop, vehicle, driver, kind"),
            ("group_by=month&from=2026-11-31&to=2026-11-30", "from", ""),
        ] {
            let (status, body) = app.get_as("viewer", &format!("/reports/repair-costs?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
            let error = body["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).unwrap_or_else(|| panic!("{query}: {body}"));
            assert!(error["message"].as_str().unwrap().contains(words), "{query}: {body}");
        }
        let base = "/reports/repair-costs?group_by=workshop&from=2026-09-01&to=2026-11-30";
        let (_, report) = app.get_as("viewer", base).await;
        let (status, headers, csv) = app.get_file("viewer", &format!("{base}&format=csv")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-disposition"].to_str().unwrap().contains("repair_costs_workshop_"));
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "key,label,count,sum");
        let first = &report["groups"][0];
        assert_eq!(lines[1], format!("{},{},{},{}", first["key"].as_str().unwrap(), first["label"].as_str().unwrap(), first["count"], first["sum"].as_str().unwrap()));
        let (status, _, xlsx) = app.get_file("viewer", &format!("{base}&format=excel")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(xlsx.starts_with(b"PK"));
        let (status, _, pdf) = app.get_file("viewer", &format!("{base}&format=pdf")).await;
        assert_eq!(status, StatusCode::OK);
        let text = crate::helpers::pdf_text(&pdf);
        assert!(text.contains("Queens Auto Body") && text.contains("Total"), "{text}");
    }
}

crate::both_backends! {
    async fn the_repair_costs_page_shows_a_new_invoice_where_the_api_does(app) {
        let queens = seed(app).await;
        let Some(browser) = crate::browser::Browser::open(&app.address).await else { return };
        browser.goto("/app/reports/repair-costs").await;
        browser.sign_in("viewer", "demo-viewer").await;
        assert_eq!(browser.title().await, "Repair costs");
        let before = browser.find("#per-workshop").await.text().await.unwrap();
        assert!(before.contains("Queens Auto Body"), "{before}");
        // A new invoice: it shows in its month, its workshop and its vehicle.
        invoice(app, 3, "RC-NEW", "2026-11-24", queens, Some(json!([part("Door", "300.00")])), "").await;
        browser.goto("/app/reports/repair-costs?from=2026-09-01&to=2026-11-30").await;
        for (figure, grouping) in [("by-month", "month"), ("per-workshop", "workshop"), ("top-vehicles", "vehicle")] {
            let (_, report) = app.get_as("viewer", &format!("/reports/repair-costs?group_by={grouping}&from=2026-09-01&to=2026-11-30")).await;
            let table = browser.find(&format!("#{figure} table")).await.text().await.unwrap();
            for group in report["groups"].as_array().unwrap().iter().take(20) {
                let amount = cents(&group["sum"]);
                let shown = format!("${}.{:02}", reports::thousands(amount / 100), amount % 100);
                let row = table.lines().find(|l| l.starts_with(group["label"].as_str().unwrap())).unwrap_or_else(|| panic!("{figure}: no row {group} in {table}"));
                assert!(row.ends_with(&shown), "{figure}: {row} is not {shown}");
            }
            assert!(browser.find(&format!("#{figure} svg")).await.html(false).await.unwrap().contains("<rect"));
        }
        let page = browser.text().await;
        assert!(page.contains("November 2026"), "{page}");
        browser.screenshots("repair-costs").await;
        browser.goto("/app/").await;
        browser.find("#repair-weeks svg").await;
        browser.screenshots("dashboard-chart").await;
        browser.close().await;
    }
}
