//! Exports (CSV, XLSX, PDF) of invoices, installments and the ledger, and the repair
//! receipt: content types, file names, contents read back, the list's filters.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reqwest::StatusCode;

use crate::both_backends;
use crate::helpers::TestApp;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const INVOICE_HEADER: [&str; 21] = [
    "repair_id",
    "invoice_number",
    "invoice_date",
    "status",
    "driver_name",
    "medallion_no",
    "lease_id",
    "lease_type",
    "workshop",
    "amount",
    "weekly_installment",
    "paid",
    "remaining",
    "workshop_name",
    "line_count",
    "tax_rate",
    "parts",
    "labour",
    "fees",
    "discounts",
    "tax",
];

/// Header and records of a CSV body, checking RFC 4180 line ends on the way.
fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(bytes).expect("CSV is UTF-8");
    assert!(text.ends_with("\r\n"), "records end with CRLF: {text:?}");
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("open xlsx");
    // The invoice export's second sheet holds the invoices' lines.
    let names = workbook.sheet_names();
    assert!(
        names == vec![name.to_string()] || names == vec![name.to_string(), "Lines".to_string()],
        "{names:?}"
    );
    workbook.worksheet_range(name).expect("sheet")
}

/// Pages of a PDF: page objects, which must agree with the page tree's /Count.
pub fn pdf_pages(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(32)..])
            .trim_end()
            .ends_with("%%EOF")
    );
    let needle = b"/Type /Page";
    let pages = pdf
        .windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count();
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/Count ").expect("page tree") + "/Count ".len();
    let count: usize = text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pages, count, "page objects vs /Count");
    pages
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

async fn three_invoices(app: &TestApp) -> Vec<String> {
    vec![
        app.create_invoice(1, "150.00", "INV-A").await,
        app.create_invoice(2, "2500.00", "INV-B").await,
        app.create_invoice(3, "700.00", "INV-C").await,
    ]
}

both_backends! {
    async fn openapi_documents_the_export_receipt_and_document_routes(app) {
        let (status, spec) = app.send(reqwest::Method::GET, "/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        let paths = &spec["paths"];
        for (path, method, tag) in [
            ("/payments/vehicle-repairs/list/export", "get", "Vehicle Repairs"),
            ("/payments/vehicle-repairs/fetch/installments/export", "get", "Vehicle Repairs"),
            ("/ledger/export", "get", "Ledger"),
            ("/payments/vehicle-repairs/{repair_id}/receipt", "get", "Vehicle Repairs"),
            ("/payments/vehicle-repairs/{repair_id}/receipt", "post", "Vehicle Repairs"),
            ("/payments/vehicle-repairs/{repair_id}/documents", "post", "Vehicle Repairs"),
            ("/case/{case_no}/documents", "post", "BPM"),
            ("/documents/{document_id}", "get", "Vehicle Repairs"),
        ] {
            assert_eq!(paths[path][method]["tags"][0], tag, "{method} {path}");
        }
        let export = &paths["/payments/vehicle-repairs/list/export"]["get"];
        assert!(export["description"].as_str().unwrap().contains("100,000"), "{export}");
        let content = export["responses"]["200"]["content"].as_object().unwrap();
        for media in ["text/csv", XLSX, "application/pdf"] {
            assert!(content.contains_key(media), "missing {media}");
        }
        assert!(paths["/case/{case_no}/documents"]["post"]["requestBody"]["content"]["multipart/form-data"].is_object());
    }

    async fn invoice_csv_export_has_the_lists_rows_filters_and_sort(app) {
        three_invoices(app).await;
        let base = "/payments/vehicle-repairs/list/export";
        let (status, headers, body) = app.get_file("viewer", &format!("{base}?format=csv&sort_by=amount&sort_order=asc")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "text/csv; charset=utf-8");
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"vehicle_repairs_2026-11-25.csv\"");
        let (head, rows) = parse_csv(&body);
        assert_eq!(head, INVOICE_HEADER);
        let amounts: Vec<&str> = rows.iter().map(|r| r[9].as_str()).collect();
        assert_eq!(amounts, ["150.00", "700.00", "2500.00"]);
        assert_eq!(rows[0][1], "INV-A");
        assert_eq!(rows[0][2], "2026-11-20");
        assert_eq!(rows[0][3], "Open");
        assert_eq!(rows[2][10], "250.00");
        // Exactly the list's rows for the same filters, in the same order.
        for query in ["status=Open&from_total_amount=500", "sort_by=invoice_number&sort_order=desc", "driver_name=a,e&sort_by=amount", "medallion_no=1P02,1P03&sort_by=repair_id&sort_order=asc"] {
            let (_, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?{query}&per_page=100")).await;
            let listed: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["repair_id"].as_str().unwrap()).collect();
            let (status, _, body) = app.get_file("viewer", &format!("{base}?{query}&format=csv")).await;
            assert_eq!(status, StatusCode::OK, "{query}");
            let (_, rows) = parse_csv(&body);
            let exported: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(exported, listed, "{query}");
        }
        // No format means CSV; page and per_page do not cut the file.
        let (_, headers, body) = app.get_file("viewer", &format!("{base}?page=2&per_page=1")).await;
        assert_eq!(header(&headers, "content-type"), "text/csv; charset=utf-8");
        assert_eq!(parse_csv(&body).1.len(), 3);
        // Nothing matches: a file with the header only.
        let (status, _, body) = app.get_file("viewer", &format!("{base}?format=csv&driver_name=nobody-at-all")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(std::str::from_utf8(&body).unwrap(), format!("{}\r\n", INVOICE_HEADER.join(",")));
        // Bad parameters are named, as in the list.
        for (query, field) in [("format=doc", "format"), ("status=Lost", "status"), ("stauts=Open", "stauts"), ("sort_by=colour", "sort_by")] {
            let (status, problem) = app.get_as("viewer", &format!("{base}?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
        }
        let (status, _) = app.send(reqwest::Method::GET, base, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    async fn invoice_xlsx_export_has_typed_cells(app) {
        three_invoices(app).await;
        let base = "/payments/vehicle-repairs/list/export";
        let (status, headers, body) = app.get_file("finance", &format!("{base}?format=excel&sort_by=amount&sort_order=asc")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), XLSX);
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"vehicle_repairs_2026-11-25.xlsx\"");
        let range = sheet(&body, "Vehicle Repairs");
        assert_eq!(range.get_size(), (4, 21));
        assert_eq!(range.get((0, 0)), Some(&Data::String("Repair ID".into())));
        assert_eq!(range.get((0, 9)), Some(&Data::String("Amount".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::String("INV-A".into())));
        // Amounts are numbers, dates are dates (2026-11-20 is Excel day 46346).
        assert_eq!(range.get((1, 9)), Some(&Data::Float(150.0)));
        assert_eq!(range.get((3, 9)), Some(&Data::Float(2500.0)));
        assert_eq!(range.get((3, 10)), Some(&Data::Float(250.0)));
        match range.get((1, 2)) {
            Some(Data::DateTime(date)) => assert_eq!(date.as_f64(), 46346.0),
            other => panic!("invoice date should be a date cell: {other:?}"),
        }
        // Empty result: only the header row.
        let (status, _, body) = app.get_file("viewer", &format!("{base}?format=xlsx&status=Cancelled")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(sheet(&body, "Vehicle Repairs").get_size(), (1, 21));
    }

    async fn invoice_pdf_export_is_a_paginated_table(app) {
        three_invoices(app).await;
        let base = "/payments/vehicle-repairs/list/export";
        let (status, headers, body) = app.get_file("viewer", &format!("{base}?format=pdf&status=Open")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "application/pdf");
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"vehicle_repairs_2026-11-25.pdf\"");
        assert_eq!(pdf_pages(&body), 1);
        let (status, _, empty) = app.get_file("viewer", &format!("{base}?format=pdf&status=Cancelled")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(pdf_pages(&empty), 1);
        // 100 weekly installments of one $30,000 invoice run over several pages.
        let repair_id = app.create_invoice(4, "30000.00", "INV-BIG").await;
        let (status, headers, body) = app.get_file("viewer", &format!("/payments/vehicle-repairs/fetch/installments/export?format=pdf&repair_id={repair_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"repair_installments_2026-11-25.pdf\"");
        assert_eq!(pdf_pages(&body), 4);
        // Its receipt carries the whole schedule, over several pages.
        let (status, _, receipt) = app.get_file("viewer", &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(pdf_pages(&receipt), 4);
        if let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(format!("{dir}/long_receipt_{}.pdf", app.backend.name()), &receipt).unwrap();
            std::fs::write(format!("{dir}/installments_{}.pdf", app.backend.name()), &body).unwrap();
            let (_, _, invoices) = app.get_file("viewer", &format!("{base}?format=pdf&sort_by=amount")).await;
            std::fs::write(format!("{dir}/invoices_{}.pdf", app.backend.name()), invoices).unwrap();
        }
    }

    async fn installment_export_takes_the_installment_filters(app) {
        let first = app.create_invoice(1, "450.00", "INV-I1").await;
        app.create_invoice(2, "150.00", "INV-I2").await;
        let base = "/payments/vehicle-repairs/fetch/installments/export";
        let (status, headers, body) = app.get_file("viewer", base).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"repair_installments_2026-11-25.csv\"");
        let (head, rows) = parse_csv(&body);
        assert_eq!(head[0], "installment_id");
        assert_eq!(rows.len(), 6);
        let (_, rows) = parse_csv(&app.get_file("viewer", &format!("{base}?repair_id={first}&sort_order=desc")).await.2);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0][0], format!("{first}-05"));
        assert_eq!(rows[0][8], "50.00");
        assert_eq!((rows[0][9].as_str(), rows[0][10].as_str()), ("0.00", "50.00"));
        assert_eq!(rows[0][11], "Scheduled");
        let (status, _, body) = app.get_file("viewer", &format!("{base}?format=excel&lease_id=LS-01002")).await;
        assert_eq!(status, StatusCode::OK);
        let range = sheet(&body, "Installments");
        assert_eq!(range.get_size(), (2, 14));
        assert!(matches!(range.get((1, 6)), Some(Data::DateTime(_))));
        assert_eq!(range.get((1, 8)), Some(&Data::Float(150.0)));
        let (status, problem) = app.get_as("viewer", &format!("{base}?status=Due")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "status");
    }

    async fn ledger_exports_postings_and_balances(app) {
        app.create_invoice(1, "450.00", "INV-L1").await;
        // The run of Sunday 2026-12-13 (the clock moves there): three installments are due.
        app.post_due("2026-12-13").await;
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings").await, 3);
        let (_, postings) = app.get_as("viewer", "/ledger/postings?per_page=100").await;
        let (status, headers, body) = app.get_file("viewer", "/ledger/export?kind=postings&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"ledger_postings_2026-12-13.csv\"");
        let (head, rows) = parse_csv(&body);
        assert_eq!(head[..6], ["id", "created_on", "category", "entry_type", "status", "amount"]);
        assert_eq!(rows.len() as i64, postings["total_items"].as_i64().unwrap());
        let listed: Vec<String> = postings["items"].as_array().unwrap().iter().map(|p| p["id"].to_string()).collect();
        let exported: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        assert_eq!(exported, listed);
        assert!(rows.iter().all(|r| r[2] == "Repair" && r[5] == "100.00"));
        let (_, rows) = parse_csv(&app.get_file("viewer", "/ledger/export?kind=postings&reference_id=RPR-2026-00001-01").await.2);
        assert_eq!(rows.len(), 1);
        let (status, headers, body) = app.get_file("viewer", "/ledger/export?kind=balances&format=excel&status=OPEN").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-disposition"), "attachment; filename=\"ledger_balances_2026-12-13.xlsx\"");
        let range = sheet(&body, "Ledger Balances");
        assert_eq!(range.get_size(), (4, 11));
        assert_eq!(range.get((1, 6)), Some(&Data::Float(100.0)));
        assert!(matches!(range.get((1, 9)), Some(Data::DateTime(_))));
        let (status, _, body) = app.get_file("viewer", "/ledger/export?kind=balances&format=pdf").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(pdf_pages(&body), 1);
        if let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(format!("{dir}/balances_{}.pdf", app.backend.name()), &body).unwrap();
            let (_, _, postings) = app.get_file("viewer", "/ledger/export?kind=postings&format=pdf&category=Repair").await;
            std::fs::write(format!("{dir}/postings_{}.pdf", app.backend.name()), postings).unwrap();
        }
        for (query, field) in [("format=csv", "kind"), ("kind=journal", "kind"), ("kind=balances&entry_type=X", "entry_type"), ("kind=postings&entry_type=DEBIT", "entry_type")] {
            let (status, problem) = app.get_as("viewer", &format!("/ledger/export?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
        }
    }

    async fn receipt_is_stored_at_creation_downloadable_and_regenerated(app) {
        let repair_id = app.create_invoice(1, "1234.56", "BAW-1187").await;
        let receipt_ref = format!("SELECT receipt_ref FROM repair_invoices WHERE repair_id = '{repair_id}'");
        let url = format!("/payments/vehicle-repairs/{repair_id}/receipt");
        // Made when the invoice was created, and stored under its version.
        let key = app.scalar_text(&receipt_ref).await;
        assert!(key.starts_with(&format!("receipts/{repair_id}/")) && key.ends_with(".pdf"), "{key}");
        let stored = app.state.storage.get(&key).await.unwrap().expect("stored receipt");
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs").await;
        assert_eq!(list["items"][0]["receipt_url"], url);
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["receipt_url"], url);
        let (status, headers, body) = app.get_file("viewer", &url).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "application/pdf");
        assert_eq!(header(&headers, "content-disposition"), format!("attachment; filename=\"receipt_{repair_id}.pdf\""));
        assert_eq!(body, stored.to_vec(), "an unchanged invoice is served its stored receipt");
        assert_eq!(pdf_pages(&body), 1);
        if let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(format!("{dir}/receipt_{}.pdf", app.backend.name()), &body).unwrap();
        }
        // Regenerate: operations may, a viewer may not.
        let (status, _) = app.post_as("viewer", &url, serde_json::Value::Null).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app.clock.set(crate::helpers::default_now() + chrono::Duration::hours(2));
        let (status, made) = app.post_as("operations", &url, serde_json::Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{made}");
        assert_eq!(made["receipt_url"], url);
        let again = app.state.storage.get(&key).await.unwrap().unwrap();
        assert_ne!(again, stored, "the new receipt has a new generated time");
        assert_eq!(app.get_file("viewer", &url).await.2, again.to_vec());
        // A receipt lost from storage, or never made, is made on download.
        app.state.storage.delete(&key).await.unwrap();
        let (status, _, body) = app.get_file("viewer", &url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with(b"%PDF-"));
        let mut tx = app.db.begin().await.unwrap();
        sqlx::query("UPDATE repair_invoices SET receipt_ref = NULL").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        app.state.storage.delete(&key).await.unwrap();
        let (status, _, body) = app.get_file("viewer", &url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with(b"%PDF-"));
        assert_eq!(app.scalar_text(&receipt_ref).await, key);
        assert!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'receipt_generated'").await >= 4);
        let (status, _, _) = app.get_file("viewer", "/payments/vehicle-repairs/RPR-2026-09999/receipt").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
