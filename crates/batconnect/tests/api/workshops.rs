//! The workshops registry and invoices written as workshops write them: line items, a tax
//! rate and the total they make, on every surface (detail, receipt, exports).

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{pdf_text, TestApp};

/// Step data for demo lease 1 with lines (no total), at `workshop`.
fn itemised(number: &str, workshop: i64, lines: Value, tax_rate: &str) -> Value {
    json!({
        "driver_id": 1, "lease_id": 1, "vehicle_id": 1, "medallion_id": 1,
        "invoice_number": number, "invoice_date": "2026-11-20", "start_week": "2026-11-29",
        "workshop_id": workshop, "line_items": lines, "tax_rate": tax_rate,
    })
}

/// Two parts, one labour line, 8.875 % on the parts: 91.00 + 120.00 + 142.50 + 18.73.
fn brake_job() -> Value {
    json!([
        {"kind": "part", "description": "Brake pads (front)", "part_number": "BP-4471", "quantity": 2, "unit_price": "45.50", "taxable": true},
        {"kind": "part", "description": "Brake rotor", "part_number": "BR-220", "quantity": "1", "unit_price": 120, "taxable": true},
        {"kind": "labour", "description": "Brake service", "quantity": "1.5", "unit_price": "95.00", "taxable": false},
    ])
}

async fn register(app: &TestApp, name: &str, kind: &str) -> i64 {
    let (status, body) = app
        .post_as(
            "operations",
            "/workshops",
            json!({"name": name, "kind": kind, "address": "12 Pier Rd, Queens, NY", "phone": "(718) 555-0101",
                   "email": "desk@example.com", "tax_registration_no": "NY-112233"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn patch(app: &TestApp, user: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let token = app.token(user).await;
    app.send(reqwest::Method::PATCH, path, Some(&token), body)
        .await
}

async fn create(app: &TestApp, data: Value) -> (StatusCode, Value) {
    let case_no = app.create_repair_case().await;
    app.submit_step(&case_no, data).await
}

fn pointers(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["pointer"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn message_at(body: &Value, pointer: &str) -> String {
    body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["pointer"] == pointer))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error at {pointer}: {body}"))
        .to_string()
}

both_backends! {
    async fn the_registry_is_read_by_everyone_changed_by_operations_and_audited(app) {
        // The two workshop words are the two default workshops.
        let (status, page) = app.get_as("viewer", "/workshops").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total_items"], 2, "{page}");
        assert_eq!(page["items"][0]["name"], "Big Apple Workshop");
        assert_eq!(page["items"][0]["kind"], "in_house");
        assert_eq!(page["items"][0]["is_default"], true);
        assert_eq!(page["items"][1]["kind"], "external");

        // Finance and viewers read; only admin and operations change.
        let body = json!({"name": "Queens Auto Body", "kind": "external"});
        assert_eq!(app.post_as("viewer", "/workshops", body.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.post_as("finance", "/workshops", body.clone()).await.0, StatusCode::FORBIDDEN);
        let id = register(app, "Queens Auto Body", "external").await;
        let (status, again) = app.post_as("admin", "/workshops", json!({"name": "  queens  AUTO body ", "kind": "external"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert!(again["detail"].as_str().unwrap().contains("already called 'Queens Auto Body'"), "{again}");

        // Every problem at once, each beside its field.
        let (status, refused) = app.post_as("operations", "/workshops", json!({"name": " ", "kind": "garage", "phone": "12", "email": "no-at-sign"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let fields: Vec<&str> = refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "kind", "phone", "email"], "{refused}");

        let (status, found) = app.get_as("finance", "/workshops?search=queens&kind=external&active=true").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["total_items"], 1, "{found}");
        let (status, bad) = app.get_as("viewer", "/workshops?kind=garage").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

        let (status, changed) = patch(app, "operations", &format!("/workshops/{id}"), Some(json!({"phone": "", "address": "14 Pier Rd"}))).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["phone"], Value::Null);
        assert_eq!(changed["address"], "14 Pier Rd");
        assert_eq!(changed["spend"]["invoice_count"], 0);
        let (status, _) = patch(app, "viewer", &format!("/workshops/{id}"), Some(json!({"phone": ""}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A default workshop stays active; another one is deactivated and back.
        let (status, body) = app.post_as("operations", "/workshops/1/deactivate", Value::Null).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("stays active"), "{body}");
        let (status, body) = app.post_as("operations", &format!("/workshops/{id}/deactivate"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);

        // An inactive workshop cannot be chosen for a new invoice.
        let (status, body) = create(app, itemised("QAB-1", id, brake_job(), "8.875")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/workshop_id").contains("inactive"), "{body}");
        let (status, _) = app.post_as("admin", &format!("/workshops/{id}/activate"), Value::Null).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = create(app, itemised("QAB-1", id, brake_job(), "8.875")).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // With an invoice, its kind does not change; its page counts the spend.
        let (status, body) = patch(app, "operations", &format!("/workshops/{id}"), Some(json!({"kind": "in_house"}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (_, detail) = app.get_as("viewer", &format!("/workshops/{id}")).await;
        assert_eq!(detail["spend"]["invoice_count"], 1, "{detail}");
        assert_eq!(detail["spend"]["total"], "372.23", "{detail}");
        assert_eq!(detail["spend"]["parts"], "211.00");
        assert_eq!(detail["spend"]["labour"], "142.50");
        assert_eq!(detail["spend"]["tax"], "18.73");
        assert_eq!(detail["spend"]["unitemised"], "0.00");
        let (_, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?workshop_id={id}")).await;
        assert_eq!(list["total_items"], 1, "{list}");
        assert_eq!(list["items"][0]["workshop"], "External Workshop");

        let audited = app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'workshop'").await;
        // created, updated, deactivated, activated (refused changes are not audited).
        assert_eq!(audited, 4);
    }

    async fn an_itemised_invoice_is_shown_the_same_everywhere(app) {
        let workshop = register(app, "Queens Auto Body", "external").await;
        let (status, body) = create(app, itemised("QAB-77", workshop, brake_job(), "8.875")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let repair_id = body["data"]["repair_id"].as_str().unwrap().to_string();
        assert_eq!(body["data"]["total_amount"], "372.23", "{body}");

        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        let card = &detail["invoice"];
        assert_eq!(card["total_amount"], "372.23", "{detail}");
        assert_eq!(card["tax_rate"], "8.875");
        assert_eq!(card["workshop"]["id"], workshop);
        assert_eq!(card["workshop"]["name"], "Queens Auto Body");
        assert_eq!(card["workshop_type"], "External Workshop");
        assert_eq!(card["subtotals"], json!({"parts": "211.00", "labour": "142.50", "fees": "0.00", "discounts": "0.00", "tax": "18.73"}));
        let lines = card["line_items"].as_array().unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], json!({"position": 1, "kind": "part", "description": "Brake pads (front)", "part_number": "BP-4471",
            "quantity": "2", "unit_price": "45.50", "taxable": true, "amount": "91.00"}));
        assert_eq!(lines[2]["quantity"], "1.5");
        assert_eq!(lines[2]["amount"], "142.50");
        assert_eq!(detail["totals"]["repair_amount"], "372.23");

        // The receipt: the lines, the subtotals, the tax and the workshop.
        let (status, _, pdf) = app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&pdf);
        for shown in ["Queens Auto Body", "Brake pads (front)", "BP-4471", "Brake service", "1.5", "$142.50", "Tax (8.875 %)", "$18.73", "$372.23"] {
            assert!(text.contains(shown), "the receipt lacks {shown}: {text}");
        }

        // The exports: the lines CSV, and the Excel file's second sheet.
        let (status, headers, csv) = app.get_file("viewer", &format!("/payments/vehicle-repairs/list/export/lines?repair_id={repair_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-disposition"].to_str().unwrap().contains("vehicle_repair_lines_"));
        let csv = String::from_utf8(csv).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows[0], "repair_id,invoice_number,invoice_date,workshop_name,position,kind,description,part_number,quantity,unit_price,taxable,amount,tax_rate");
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(rows[3].ends_with(",3,labour,Brake service,,1.5,95.00,no,142.50,8.875"), "{csv}");
        let (status, _, invoices_csv) = app.get_file("viewer", &format!("/payments/vehicle-repairs/list/export?repair_id={repair_id}")).await;
        assert_eq!(status, StatusCode::OK);
        let invoices_csv = String::from_utf8(invoices_csv).unwrap();
        assert!(invoices_csv.lines().next().unwrap().ends_with(",workshop_name,line_count,tax_rate,parts,labour,fees,discounts,tax"), "{invoices_csv}");
        assert!(invoices_csv.lines().nth(1).unwrap().ends_with(",Queens Auto Body,3,8.875,211.00,142.50,0.00,0.00,18.73"), "{invoices_csv}");
        let (status, _, xlsx) = app.get_file("viewer", &format!("/payments/vehicle-repairs/list/export?repair_id={repair_id}&format=excel")).await;
        assert_eq!(status, StatusCode::OK);
        let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
        assert_eq!(workbook.sheet_names(), ["Vehicle Repairs", "Lines"]);
        let lines_sheet = workbook.worksheet_range("Lines").unwrap();
        assert_eq!(lines_sheet.get_size().0, 4);
        assert_eq!(lines_sheet.get((1, 6)), Some(&Data::String("Brake pads (front)".into())));
        assert_eq!(lines_sheet.get((3, 11)), Some(&Data::Float(142.5)));
        let sum: f64 = (1..4).map(|r| match lines_sheet.get((r, 11)) { Some(Data::Float(f)) => *f, other => panic!("{other:?}") }).sum();
        assert!((sum + 18.73 - 372.23).abs() < 0.001, "lines {sum} + tax = total");
    }

    async fn lines_round_half_up_and_a_taxable_discount_lowers_the_tax(app) {
        // 0.5 × 0.01 = 0.005 → 0.01; 2.5 × 0.03 = 0.075 → 0.08; 1.005 × 10.00 = 10.05.
        let lines = json!([
            {"kind": "part", "description": "Washer", "quantity": "0.5", "unit_price": "0.01", "taxable": true},
            {"kind": "part", "description": "Clip", "quantity": "2.5", "unit_price": "0.03", "taxable": true},
            {"kind": "fee", "description": "Disposal", "quantity": "1.005", "unit_price": "10.00", "taxable": false},
            {"kind": "part", "description": "Bumper", "quantity": 1, "unit_price": "200.00", "taxable": true},
            {"kind": "discount", "description": "Fleet discount", "quantity": 1, "unit_price": "50.00", "taxable": true},
        ]);
        let (status, body) = create(app, itemised("HALF-1", 2, lines, "10")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let repair_id = body["data"]["repair_id"].as_str().unwrap().to_string();
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        let card = &detail["invoice"];
        let amounts: Vec<&str> = card["line_items"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
        assert_eq!(amounts, ["0.01", "0.08", "10.05", "200.00", "50.00"]);
        // Taxable base 200.09 − 50.00 = 150.09; 10 % = 15.009 → 15.01.
        assert_eq!(card["subtotals"]["tax"], "15.01", "{card}");
        assert_eq!(card["subtotals"]["discounts"], "50.00");
        assert_eq!(card["total_amount"], "175.15", "{card}");
        // The schedule comes from that total, through the matrix: every cent of it.
        let scheduled: i64 = detail["schedule"].as_array().unwrap().iter()
            .map(|s| { let (w, c) = s["amount"].as_str().unwrap().split_once('.').unwrap(); w.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap() })
            .sum();
        assert_eq!(scheduled, 17_515);

        // 8.875 % of 100.00 is 8.875: half a cent, up to 8.88. A typed total must agree.
        let one = json!([{"kind": "part", "description": "Mirror", "quantity": 1, "unit_price": "100.00", "taxable": true}]);
        let mut data = itemised("HALF-2", 2, one.clone(), "8.875");
        data["total_amount"] = json!("108.87");
        let (status, body) = create(app, data.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = message_at(&body, "/data/total_amount");
        assert!(message.contains("108.87") && message.contains("108.88"), "{message}");
        data["total_amount"] = json!(108.88);
        let (status, body) = create(app, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn what_cannot_make_an_invoice_is_refused_beside_its_field(app) {
        let part = json!({"kind": "part", "description": "Mirror", "quantity": 1, "unit_price": "100.00", "taxable": false});
        // A tax rate with no taxable line.
        let (status, body) = create(app, itemised("BAD-1", 2, json!([part.clone()]), "8.875")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/tax_rate").contains("no line is taxable"), "{body}");
        // A quantity of 0, and a negative one.
        let mut zero = part.clone();
        zero["quantity"] = json!("0");
        let mut negative = part.clone();
        negative["quantity"] = json!(-1);
        let (status, body) = create(app, itemised("BAD-2", 2, json!([part.clone(), zero]), "0")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/line_items/1/quantity").contains("greater than 0"), "{body}");
        let (status, body) = create(app, itemised("BAD-2", 2, json!([negative]), "0")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/line_items/0/quantity").contains("greater than 0"), "{body}");
        // Discounts larger than the other lines.
        let discount = json!({"kind": "discount", "description": "Goodwill", "quantity": 1, "unit_price": "100.01"});
        let (status, body) = create(app, itemised("BAD-3", 2, json!([part.clone(), discount]), "0")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/line_items").contains("larger than the other lines"), "{body}");
        // More than 200 lines.
        let many: Vec<Value> = (0..201).map(|_| part.clone()).collect();
        let (status, body) = create(app, itemised("BAD-4", 2, json!(many), "0")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(pointers(&body).contains(&"/data/line_items".to_string()), "{body}");
        let two_hundred: Vec<Value> = (0..200).map(|_| part.clone()).collect();
        let (status, body) = create(app, itemised("OK-200", 2, json!(two_hundred), "0")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["total_amount"], "20000.00");
        // A workshop_type that disagrees with the workshop: both named.
        let mut data = itemised("BAD-5", 2, json!([part.clone()]), "0");
        data["workshop_type"] = json!("Big Apple Workshop");
        let (status, body) = create(app, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = message_at(&body, "/data/workshop_type");
        assert!(message.contains("Big Apple Workshop") && message.contains("External Workshop"), "{message}");
        // No workshop at all, no total at all.
        let (status, body) = create(app, json!({"driver_id": 1, "lease_id": 1, "vehicle_id": 1, "medallion_id": 1,
            "invoice_number": "BAD-6", "invoice_date": "2026-11-20", "start_week": "2026-11-29"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let at = pointers(&body);
        assert!(at.contains(&"/data/total_amount".to_string()) && at.contains(&"/data/workshop_type".to_string()), "{body}");
        let (status, body) = create(app, itemised("BAD-7", 999, json!([part]), "0")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message_at(&body, "/data/workshop_id").contains("no workshop with id 999"), "{body}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices WHERE invoice_number LIKE 'BAD-%'").await, 0);
    }

    async fn the_guides_payload_records_at_the_default_workshop_without_lines(app) {
        // Step 5 as the guide writes it: workshop_type and total_amount, no lines.
        let repair_id = app.create_invoice(1, "1250.00", "BAW-1187").await;
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        let card = &detail["invoice"];
        assert_eq!(card["workshop_type"], "Big Apple Workshop");
        assert_eq!(card["workshop"]["id"], 1);
        assert_eq!(card["workshop"]["kind"], "in_house");
        assert_eq!(card["total_amount"], "1250.00");
        assert_eq!(card["tax_rate"], "0");
        assert_eq!(card["line_items"], json!([]));
        assert_eq!(card["subtotals"]["parts"], "0.00");
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs?workshop_type=Big%20Apple%20Workshop").await;
        assert_eq!(list["items"][0]["workshop"], "Big Apple Workshop");
        let (_, spend) = app.get_as("viewer", "/workshops/1").await;
        assert_eq!(spend["spend"]["unitemised"], "1250.00", "{spend}");
    }
}

/// Waits until `css`'s text is `expected` (the page's script computing as typed).
async fn shows(browser: &crate::browser::Browser, css: &str, expected: &str) {
    let text = browser.text_when(css, |t| t.trim() == expected).await;
    assert_eq!(text.trim(), expected);
}

crate::both_backends! {
    async fn a_clerk_records_an_itemised_invoice_at_a_registered_workshop(app) {
        let Some(browser) = crate::browser::Browser::open(&app.address).await else { return };
        browser.goto("/app/workshops").await;
        browser.sign_in("operations", "demo-operations").await;
        assert_eq!(browser.path().await, "/app/workshops");
        browser.find("a[href='/app/workshops/new']").await;
        browser.goto("/app/workshops/new").await;
        browser.fill("Name", "Queens Auto Body").await;
        browser.js("document.getElementById('kind').value = 'external'").await;
        browser.fill("Phone", "(718) 555-0101").await;
        browser.press("Register workshop").await;
        assert!(browser.text().await.contains("The workshop is registered."));
        let workshop = app.scalar_i64("SELECT id FROM workshops WHERE name = 'Queens Auto Body'").await;
        browser.screenshots("workshop").await;

        // The wizard: the workshop from the registry, lines added in place, the figures
        // following what is typed.
        browser.goto("/app/repairs").await;
        browser.press("Create Repair Invoice").await;
        browser.fill("TLC license number", "5100001").await;
        browser.press("Find driver").await;
        browser.fill("Invoice number", "QAB-3001").await;
        browser.fill("Invoice date", "11202026").await;
        browser.js(&format!("document.getElementById('workshop_id').value = '{workshop}'")).await;
        let rows = [
            ("part", "Brake pads (front)", "BP-4471", "2", "45.50", true),
            ("part", "Brake rotor", "BR-220", "1", "120.00", true),
            ("labour", "Brake service", "", "1.5", "95.00", false),
        ];
        for (row, (kind, description, part, quantity, price, taxable)) in rows.iter().enumerate() {
            browser.reveal("Add a line").await;
            browser.find(&format!("#line_description_{row}")).await;
            browser.js(&format!("document.getElementById('line_kind_{row}').value = '{kind}'")).await;
            browser.find(&format!("#line_description_{row}")).await.send_keys(description).await.unwrap();
            browser.find(&format!("#line_part_number_{row}")).await.send_keys(part).await.unwrap();
            let quantity_input = browser.find(&format!("#line_quantity_{row}")).await;
            quantity_input.clear().await.unwrap();
            quantity_input.send_keys(quantity).await.unwrap();
            browser.find(&format!("#line_unit_price_{row}")).await.send_keys(price).await.unwrap();
            if *taxable {
                browser.find(&format!("#line_taxable_{row}")).await.click().await.unwrap();
            }
        }
        // A fourth row, then removed: nothing of it remains.
        browser.reveal("Add a line").await;
        browser.find("#line_description_3").await.send_keys("Wrong line").await.unwrap();
        browser.find("button[value='remove_line_3']").await.click().await.unwrap();
        browser.fill("Tax rate (%)", "8.875").await;
        shows(&browser, "[data-total='parts']", "$211.00").await;
        shows(&browser, "[data-total='labour']", "$142.50").await;
        shows(&browser, "[data-total='tax']", "$18.73").await;
        shows(&browser, "[data-total='total']", "$372.23").await;
        // The schedule follows the lines' total with no total typed.
        browser.text_when("#preview", |t| t.contains("for $372.23")).await;
        // The button previews it too, from the server (the way without JavaScript).
        browser.press("Preview schedule").await;
        let preview = browser.find("section[aria-label='Schedule preview']").await.text().await.unwrap();
        assert!(preview.contains("$372.23"), "{preview}");
        assert_eq!(browser.find("[data-total='total']").await.text().await.unwrap().trim(), "$372.23");
        assert!(!browser.text().await.contains("Wrong line"));
        browser.screenshots("wizard-lines").await;
        browser.press("Create invoice").await;
        let repair_id = app.scalar_text("SELECT repair_id FROM repair_invoices WHERE invoice_number = 'QAB-3001'").await;
        assert_eq!(browser.path().await, format!("/app/repairs/{repair_id}"));
        let page = browser.text().await;
        for shown in ["Queens Auto Body", "Brake pads (front)", "BP-4471", "Brake service", "1.5", "$142.50", "Tax (8.875 %)", "$18.73", "$372.23"] {
            assert!(page.contains(shown), "the invoice page lacks {shown}: {page}");
        }
        browser.screenshots("invoice-lines").await;

        // The receipt and the export say the same.
        let (_, _, pdf) = app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await;
        let receipt = pdf_text(&pdf);
        for shown in ["Queens Auto Body", "Brake pads (front)", "Brake rotor", "Brake service", "$18.73", "$372.23"] {
            assert!(receipt.contains(shown), "the receipt lacks {shown}: {receipt}");
        }
        if let Some(dir) = std::env::var_os("BAT_TEST_KEEP_FILES") {
            let dir = std::path::Path::new(&dir).join("documents");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("receipt-with-lines-{}.pdf", app.backend.name())), &pdf).unwrap();
        }
        let (_, _, csv) = app.get_file("viewer", &format!("/payments/vehicle-repairs/list/export/lines?repair_id={repair_id}")).await;
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[0].contains(",Queens Auto Body,1,part,Brake pads (front),BP-4471,2,45.50,yes,91.00,8.875"), "{csv}");
        assert!(lines[2].contains(",3,labour,Brake service,,1.5,95.00,no,142.50,8.875"), "{csv}");
        browser.close().await;
    }
}

both_backends! {
    async fn without_javascript_lines_are_added_removed_and_previewed_by_the_server(app) {
        let case_no = app.create_repair_case().await;
        let console = crate::race_kit::Console::sign_in(app, "operations").await;
        let path = format!("/app/cases/{case_no}");
        let base = [("tlc_license_no", "5100001"), ("lease", "1"), ("invoice_number", "NOJS-1"), ("invoice_date", "2026-11-20"),
                    ("workshop_id", "2"), ("start_week", "2026-11-29"), ("tax_rate", "10")];
        // "Add a line": the form comes back with one more row; nothing is saved.
        let mut fields: Vec<(&str, &str)> = base.to_vec();
        fields.extend([("line_kind_0", "part"), ("line_description_0", "Bumper"), ("line_quantity_0", "1"), ("line_unit_price_0", "200.00"),
                       ("line_taxable_0", "yes"), ("action", "add_line")]);
        let (status, _, page) = console.post(app, &path, &fields).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("name=\"line_description_1\""), "a new row");
        assert!(page.contains("value=\"Bumper\""), "what was typed stays");
        // "Remove": the row goes.
        let mut removing = fields.clone();
        removing.retain(|(k, _)| *k != "action");
        removing.extend([("line_kind_1", "labour"), ("line_description_1", "Fitting"), ("line_quantity_1", "2"), ("line_unit_price_1", "50.00"),
                         ("action", "remove_line_0")]);
        let (_, _, page) = console.post(app, &path, &removing).await;
        assert!(!page.contains("value=\"Bumper\"") && page.contains("value=\"Fitting\""), "row 0 removed");
        // "Preview schedule": the server computes the lines, the tax and the schedule.
        let mut preview = fields.clone();
        preview.retain(|(k, _)| *k != "action");
        preview.push(("action", "preview"));
        let (status, _, page) = console.post(app, &path, &preview).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("for $220.00"), "200.00 + 10 % tax: {page}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        // A refused line comes back beside its row.
        let mut bad = preview.clone();
        bad.retain(|(k, _)| *k != "line_quantity_0");
        bad.push(("line_quantity_0", "0"));
        let (status, _, page) = console.post(app, &path, &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let row = page.split("id=\"line_quantity_0\"").nth(1).unwrap();
        assert!(row[..row.find("</td>").unwrap()].contains("greater than 0"), "{row}");
    }
}
