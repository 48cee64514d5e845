//! Documents people read (issue 18): names in every script printed right on the repair
//! receipt, the DTR, a list export and the interim-payment receipt (checked with
//! `pdftotext`, independently of the service's own fonts); one house style; finalized DTRs
//! kept as records.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{pdf_text, pdftotext_of, TestApp};

const FIRST: &str = "Zoë";
const LAST: &str = "Łukasz-Müller";
const INVOICE_NUMBER: &str = "ÜNÏ-ñ-№42";
const NOTES: &str = "Замена бампера — Αλλαγή προφυλακτήρα — Đorđe’s pièce №7, José Nuñez";
const MEMO: &str = "Оплата наличными №7 – Оксана";

/// A driver, vehicle, medallion and shift lease of our own, with names in several scripts;
/// returns (lease id, driver id, vehicle id, medallion id).
async fn fleet_of_our_own(app: &TestApp) -> (i64, i64, i64, i64) {
    let (status, driver) = app
        .post_as(
            "operations",
            "/fleet/drivers",
            json!({"first_name": FIRST, "last_name": LAST, "tlc_license_no": "7400042"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{driver}");
    let (_, vehicle) = app
        .post_as(
            "operations",
            "/fleet/vehicles",
            json!({"vin": "1FTBR1Y8XNKA44442", "make": "Ford", "model": "Transit", "year": 2025}),
        )
        .await;
    let (_, medallion) = app
        .post_as(
            "operations",
            "/fleet/medallions",
            json!({"medallion_number": "9Q42"}),
        )
        .await;
    let (status, lease) = app
        .post_as("operations", "/fleet/leases", json!({"lease_type": "shift-lease", "weekly_rate": "300.00",
            "vehicle_id": vehicle["id"], "medallion_id": medallion["id"], "start_date": "2026-11-16",
            "drivers": [{"driver_id": driver["id"], "is_driver_manager": true}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lease}");
    (
        lease["id"].as_i64().unwrap(),
        driver["id"].as_i64().unwrap(),
        vehicle["id"].as_i64().unwrap(),
        medallion["id"].as_i64().unwrap(),
    )
}

/// Text with every run of whitespace removed: a value wrapped over several lines reads the
/// same once its lines are joined.
fn joined(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Each value appears, whole, in what `pdftotext` extracts (in drawing order, so the lines
/// of a wrapped value follow each other) and in what the service drew.
fn assert_prints(document: &str, pdf: &[u8], values: &[&str]) {
    assert!(pdf.starts_with(b"%PDF-"), "{document} is not a PDF");
    let drawn = joined(&pdf_text(pdf));
    for value in values {
        assert!(
            drawn.contains(&joined(value)),
            "{document}: {value:?} not drawn in {drawn}"
        );
    }
    if let Some(extracted) = pdftotext_of(pdf) {
        let extracted = joined(&extracted);
        assert!(
            !extracted.contains('?'),
            "{document}: a character became '?': {extracted}"
        );
        for value in values {
            assert!(
                extracted.contains(&joined(value)),
                "{document}: pdftotext lacks {value:?} in {extracted}"
            );
        }
    }
}

async fn pdf(app: &TestApp, path: &str) -> Vec<u8> {
    let (status, _, bytes) = app.get_file("finance", path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    bytes
}

async fn statement_id(app: &TestApp, lease: i64, week: &str) -> i64 {
    let (_, page) = app
        .get_as("viewer", &format!("/dtrs?week={week}&lease_id={lease}"))
        .await;
    page["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statement: {page}"))
}

both_backends! {
    async fn names_in_every_script_print_right_on_every_document(app) {
        let (lease, driver, vehicle, medallion) = fleet_of_our_own(app).await;
        let case_no = app.create_repair_case().await;
        let (status, body) = app
            .submit_step(&case_no, json!({"driver_id": driver, "lease_id": lease, "vehicle_id": vehicle, "medallion_id": medallion,
                "total_amount": "1234.56", "invoice_number": INVOICE_NUMBER, "invoice_date": "2026-11-20",
                "workshop_type": "Big Apple Workshop", "start_week": "2026-11-22", "notes": NOTES}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let repair_id = body["data"]["repair_id"].as_str().unwrap().to_string();
        let name = format!("{FIRST} {LAST}");

        // The repair receipt: names, the invoice number and the description, in house style.
        let receipt = pdf(app, &format!("/payments/vehicle-repairs/{repair_id}/receipt")).await;
        assert_prints("repair receipt", &receipt, &[&name, INVOICE_NUMBER, NOTES, "$1,234.56", "11/20/2026", "Shift Lease"]);

        // The interim-payment receipt: the driver and the memo.
        let (status, paid) = app
            .post_as("finance", "/ledger/interim-payments", json!({"lease_id": lease, "amount": "25.00", "payment_method": "Cash", "memo": MEMO}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        let number = paid["receipt_number"].as_str().unwrap();
        let interim = pdf(app, &format!("/ledger/interim-payments/{number}/receipt")).await;
        assert_prints("interim receipt", &interim, &[&name, MEMO, "$25.00"]);

        // The DTR of the week: the driver, the invoice number of its repair line, dollars in
        // the summary box, dates the US way, the lease type's label.
        app.post_due("2026-11-22").await;
        assert_eq!(app.earnings(lease, "2026-11-22", "1000.00").await.0, StatusCode::CREATED);
        let (status, report) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let id = statement_id(app, lease, "2026-11-22").await;
        let dtr = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        assert_prints("DTR", &dtr, &[&name, INVOICE_NUMBER, "$1,000.00", "11/22/2026", "Shift Lease"]);
        assert!(!joined(&pdf_text(&dtr)).contains("1000.00"), "money is always $1,234.56");

        // A list export: the invoice row and the filter that found it.
        let export = pdf(app, "/payments/vehicle-repairs/list/export?format=pdf&driver_name=%C5%81ukasz").await;
        assert_prints("list export", &export, &[&name, INVOICE_NUMBER, "Shift Lease", "11/20/2026", "$1,234.56"]);
        let text = pdf_text(&export);
        assert!(text.contains("EST"), "timestamps name the zone: {text}");
        assert!(!text.contains('…'), "values are wrapped, never cut: {text}");
        if let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in [("receipt", &receipt), ("interim_receipt", &interim), ("dtr", &dtr), ("export", &export)] {
                std::fs::write(format!("{dir}/printed_{name}_{}.pdf", app.backend.name()), bytes).unwrap();
            }
        }
    }

    async fn ledger_exports_print_labels_and_local_times_and_keep_machine_values(app) {
        app.obligation(1, "Misc", "12.34", "2026-11-22").await;
        let export = pdf(app, "/ledger/export?kind=postings&format=pdf").await;
        let text = pdf_text(&export);
        // Created 10:00 EST (15:00 UTC): the PDF prints the fleet's time, with its zone.
        assert!(text.contains("11/25/2026 10:00 AM EST"), "{text}");
        assert!(!text.contains("2026-11-25T15:00:00Z"), "{text}");
        assert!(text.contains("Obligation") && !text.contains("OBLIGATION"), "{text}");
        assert!(text.contains("Posted") && !text.contains("POSTED"), "{text}");
        // The CSV keeps ISO timestamps and plain numbers, with the same labels.
        let (status, _, csv) = app.get_file("finance", "/ledger/export?kind=postings&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("2026-11-25T15:00:00Z"), "{csv}");
        assert!(csv.contains(",Obligation,Posted,12.34,"), "{csv}");
    }

    async fn a_finalized_statement_is_a_record(app) {
        assert_eq!(app.earnings(2, "2026-11-22", "500.00").await.0, StatusCode::CREATED);
        let (status, _) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK);
        let id = statement_id(app, 2, "2026-11-22").await;
        // A draft is rendered on request and stores nothing.
        let draft = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        assert!(pdf_text(&draft).contains("Draft"));
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM dtrs WHERE id = {id} AND pdf_sha256 IS NOT NULL")).await, 0);

        let (status, finalized) = app.post_as("finance", &format!("/dtrs/{id}/finalize"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{finalized}");
        let sha = app.scalar_text(&format!("SELECT pdf_sha256 FROM dtrs WHERE id = {id}")).await;
        let key = app.scalar_text(&format!("SELECT pdf_ref FROM dtrs WHERE id = {id}")).await;
        assert!(key.starts_with("dtrs/2026-11-22/") && key.ends_with(".pdf"), "{key}");
        // Later downloads, even after the clock moved on, serve exactly the stored bytes.
        app.set_clock(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 3, 15, 0, 0).unwrap()).await;
        let first = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        let second = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        assert_eq!(first, second);
        assert_eq!(batconnect::dtr::record::sha256_hex(&first), sha);
        let stored = app.state.storage.get(&key).await.unwrap().expect("the PDF is in the file storage");
        assert_eq!(stored.as_ref(), first.as_slice());
        assert!(pdf_text(&first).contains("Finalized"));
        let verified = batconnect::dtr::record::verify(app.db.reader(), &app.state.storage).await.unwrap();
        assert_eq!((verified.checked, verified.problems.len()), (1, 0), "{:?}", verified.problems);

        // The record is never replaced, not even by SQL.
        let rewrite = sqlx::query(&format!("UPDATE dtrs SET pdf_sha256 = 'x' WHERE id = {id}")).execute(app.db.reader()).await;
        assert!(rewrite.is_err(), "a recorded hash was replaced");

        // A changed file is caught: downloads refuse it and `dtr verify` names it.
        app.state.storage.put(&key, bytes::Bytes::from_static(b"%PDF-1.7 not the statement")).await.unwrap();
        let (status, _, _) = app.get_file("finance", &format!("/dtrs/{id}/pdf")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let verified = batconnect::dtr::record::verify(app.db.reader(), &app.state.storage).await.unwrap();
        assert_eq!(verified.problems.len(), 1);
        assert!(verified.problems[0].contains(&sha), "{:?}", verified.problems);
    }

    async fn a_statement_finalized_before_records_gets_one_on_its_first_download(app) {
        assert_eq!(app.earnings(3, "2026-11-22", "500.00").await.0, StatusCode::CREATED);
        let (status, _) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK);
        let id = statement_id(app, 3, "2026-11-22").await;
        // As a statement finalized by an older release: finalized, no stored PDF.
        sqlx::query(&format!("UPDATE dtrs SET status = 'Finalized', finalized_by = 'finance', finalized_on = '2026-11-23T12:00:00Z' WHERE id = {id}"))
            .execute(app.db.reader())
            .await
            .unwrap();
        let verified = batconnect::dtr::record::verify(app.db.reader(), &app.state.storage).await.unwrap();
        assert_eq!((verified.checked, verified.not_recorded), (0, 1));
        let first = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        app.set_clock(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 3, 15, 0, 0).unwrap()).await;
        let second = pdf(app, &format!("/dtrs/{id}/pdf")).await;
        assert_eq!(first, second, "the first download's rendering is the record");
        let verified = batconnect::dtr::record::verify(app.db.reader(), &app.state.storage).await.unwrap();
        assert_eq!((verified.checked, verified.not_recorded), (1, 0));
    }
}
