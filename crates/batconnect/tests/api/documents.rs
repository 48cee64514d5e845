//! Invoice documents: uploads checked by content and size, linked from the case to the
//! invoice, listed and downloaded; and the S3 storage path against a local S3 server.

use reqwest::StatusCode;

use crate::both_backends;
use crate::helpers::{Setup, TestApp};

/// Small but whole files: the service checks the signature and that the file ends as its
/// kind does (`%%EOF`, a PNG's IEND chunk, a JPEG's end-of-image marker).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
/// A 1×1 PNG: signature, IHDR, IDAT, IEND.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0xFF, 0xD9,
];

both_backends! {
    async fn the_step_takes_what_the_reference_screens_send(app) {
        // A document uploaded to another case, named by its id in the step.
        let elsewhere = app.create_repair_case().await;
        let (_, doc) = app.upload("operations", &format!("/case/{elsewhere}/documents"), "invoice.pdf", PDF).await;
        let document_id = doc["document_id"].as_str().unwrap().to_string();
        let case_no = app.create_repair_case().await;
        let long_number = format!("WS-{}", "7".repeat(97));
        let mut data = app.invoice_data(1, "300.00", &long_number);
        for (field, value, message) in [
            ("start_week", serde_json::json!("2026-11-29T05:00:00Z"), "at midnight"),
            ("document_id", serde_json::json!("no-such-document"), "no document"),
            ("invoice_number", serde_json::json!(format!("{long_number}7")), "1 to 100 characters"),
        ] {
            let mut bad = data.clone();
            bad[field] = value;
            let (status, problem) = app.submit_step(&case_no, bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert!(problem.to_string().contains(message), "{field}: {problem}");
        }
        data["start_week"] = serde_json::json!("2026-11-29T00:00:00.000Z");
        data["preview_only"] = serde_json::Value::Null;
        data["document_id"] = serde_json::json!(document_id);
        let (status, created) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let repair_id = created["data"]["repair_id"].as_str().expect("created, not a preview").to_string();
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(detail["invoice"]["start_week"], "2026-11-29", "{detail}");
        assert_eq!(detail["invoice"]["invoice_number"], long_number.as_str());
        let (_, documents) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}/documents")).await;
        assert_eq!(documents[0]["document_id"], document_id.as_str(), "{documents}");
        // Attached once: another invoice cannot take it.
        let other = app.create_repair_case().await;
        let mut again = app.invoice_data(2, "150.00", "WS-OTHER");
        again["document_id"] = serde_json::json!(document_id);
        let (status, problem) = app.submit_step(&other, again).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("already attached"), "{problem}");
    }

    async fn documents_are_checked_linked_to_the_invoice_and_downloadable(app) {
        let case_no = app.create_repair_case().await;
        let path = format!("/case/{case_no}/documents");
        let (status, doc) = app.upload("operations", &path, "BAW-1187 invoice.pdf", PDF).await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        assert_eq!(doc["content_type"], "application/pdf");
        assert_eq!(doc["file_name"], "BAW-1187 invoice.pdf");
        assert_eq!(doc["size_bytes"], PDF.len());
        assert_eq!(doc["case_no"], case_no.as_str());
        assert!(doc["repair_id"].is_null());
        let document_id = doc["document_id"].as_str().unwrap().to_string();
        assert_eq!(doc["download_url"], format!("/documents/{document_id}"));
        let (status, listed) = app.get_as("viewer", &path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed.as_array().unwrap().len(), 1);

        // Refused: wrong content whatever the name, a name that lies, empty, too big, wrong role.
        let fake = b"MZ\x90\x00\x03\x00\x00\x00 this is an executable";
        for (name, bytes, expected) in [
            ("invoice.pdf", &fake[..], StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ("invoice.pdf", b"<html><script>alert(1)</script></html>".as_slice(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ("invoice.pdf", PNG, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ("invoice.svg", PDF, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ("invoice.pdf", b"".as_slice(), StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let (status, problem) = app.upload("operations", &path, name, bytes).await;
            assert_eq!(status, expected, "{name}: {problem}");
            assert_eq!(problem["status"], expected.as_u16(), "{problem}");
        }
        let (_, problem) = app.upload("operations", &path, "invoice.pdf", fake).await;
        assert!(problem["detail"].as_str().unwrap().contains("not a PDF, JPEG or PNG"), "{problem}");
        let mut big = PDF.to_vec();
        big.resize(10 * 1024 * 1024 + 1, b' ');
        let (status, problem) = app.upload("operations", &path, "huge.pdf", &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("10 MiB"), "{problem}");
        let (status, _) = app.upload("viewer", &path, "invoice.pdf", PDF).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.upload("operations", "/case/RPRINV999999/documents", "invoice.pdf", PDF).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, problem) = app.post_as("operations", &path, serde_json::json!({"file": "x"})).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM documents").await, 1);

        // The step links the case's document to the invoice it creates.
        let (status, created) = app.submit_step(&case_no, app.invoice_data(1, "1234.56", "BAW-1187")).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let repair_id = created["data"]["repair_id"].as_str().unwrap().to_string();
        let invoice_path = format!("/payments/vehicle-repairs/{repair_id}/documents");
        let (_, docs) = app.get_as("viewer", &invoice_path).await;
        assert_eq!(docs[0]["document_id"], document_id.as_str());
        assert_eq!(docs[0]["repair_id"], repair_id.as_str());
        // Later documents go to the invoice directly.
        let (status, photo) = app.upload("operations", &invoice_path, "damage photo.JPG", JPEG).await;
        assert_eq!(status, StatusCode::CREATED, "{photo}");
        assert_eq!(photo["content_type"], "image/jpeg");
        let (status, scan) = app.upload("operations", &invoice_path, "scan", PNG).await;
        assert_eq!(status, StatusCode::CREATED, "{scan}");
        assert_eq!(scan["file_name"], "scan.png");
        let (_, docs) = app.get_as("viewer", &invoice_path).await;
        assert_eq!(docs.as_array().unwrap().len(), 3);
        let (status, _) = app.get_as("viewer", "/payments/vehicle-repairs/RPR-2026-09999/documents").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Download: the same bytes, the detected type, an attachment.
        let (status, headers, body) = app.get_file("viewer", &format!("/documents/{document_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, PDF);
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(headers["content-disposition"], "attachment; filename=\"BAW-1187 invoice.pdf\"");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let (status, _, _) = app.get_file("viewer", "/documents/no-such-document").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'document_uploaded'").await, 3);
    }
}

both_backends! {
    async fn uploads_take_one_whole_file_streamed_and_keep_nothing_refused(app) {
        let case_no = app.create_repair_case().await;
        let path = format!("/case/{case_no}/documents");
        let stored_files = || {
            let dir = app.state.config.data_dir.join("files/documents");
            std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
        };
        // Exactly one part, named `file`.
        let (status, problem) = app
            .upload_parts("operations", &path, &[("file", Some("a.pdf"), PDF), ("file", Some("b.pdf"), PDF)])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
        let (status, problem) = app.upload_parts("operations", &path, &[("document", Some("a.pdf"), PDF)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "document", "{problem}");
        let (status, problem) = app
            .upload_parts("operations", &path, &[("file", Some("a.pdf"), PDF), ("note", None, b"hello")])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "note", "{problem}");
        // A signature alone is not an image; a PDF cut short is not a PDF.
        let (status, problem) = app.upload("operations", &path, "photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\0").await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("incomplete or damaged"), "{problem}");
        let (status, _) = app.upload("operations", &path, "cut.pdf", &PDF[..PDF.len() - 7]).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM documents").await, 0);
        assert_eq!(stored_files(), 0, "a refused upload left a file behind");

        // A file bigger than one storage part (5 MiB) streams through in parts, whole.
        let mut big = PDF[..9].to_vec();
        big.extend((0..7 * 1024 * 1024).map(|i| b"0123456789abcdef"[i % 16]));
        big.extend_from_slice(b"\n%%EOF\n");
        let (status, doc) = app.upload("operations", &path, "long scan.pdf", &big).await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        assert_eq!(doc["size_bytes"], big.len());
        let (status, _, body) = app.get_file("viewer", doc["download_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == big, "the downloaded file differs from the upload");
        assert_eq!(stored_files(), 1);
    }
}

/// Receipts and documents stored in S3 (a local moto server), read back through the API
/// and straight from the bucket.
async fn s3_round_trip(backend: batconnect::db::Backend) {
    let Some(moto) = crate::moto::server() else {
        return;
    };
    let bucket = format!("bat-{}", uuid::Uuid::new_v4().simple());
    moto.create_bucket(&bucket).await;
    let setup = Setup {
        env: moto.env(&bucket, "fleet/files"),
        ..Setup::default()
    };
    let Some(app) = TestApp::spawn_with(backend, setup).await else {
        return;
    };
    assert!(
        app.state.storage.location().starts_with("s3://"),
        "{}",
        app.state.storage.location()
    );
    let case_no = app.create_repair_case().await;
    let (status, doc) = app
        .upload(
            "operations",
            &format!("/case/{case_no}/documents"),
            "invoice.pdf",
            PDF,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let document_id = doc["document_id"].as_str().unwrap();
    assert_eq!(
        moto.keys(&bucket).await,
        [format!("fleet/files/documents/{document_id}")]
    );
    assert_eq!(
        moto.object(&bucket, &format!("fleet/files/documents/{document_id}"))
            .await
            .as_deref(),
        Some(PDF)
    );
    let (status, body) = app
        .submit_step(&case_no, app.invoice_data(1, "700.00", "S3-1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let repair_id = body["data"]["repair_id"].as_str().unwrap();
    let receipt_key = app
        .scalar_text(&format!(
            "SELECT receipt_ref FROM repair_invoices WHERE repair_id = '{repair_id}'"
        ))
        .await;
    assert!(receipt_key.starts_with(&format!("receipts/{repair_id}/")));
    let in_bucket = moto
        .object(&bucket, &format!("fleet/files/{receipt_key}"))
        .await
        .expect("receipt in the bucket");
    let (status, _, receipt) = app
        .get_file(
            "viewer",
            &format!("/payments/vehicle-repairs/{repair_id}/receipt"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt, in_bucket);
    let (status, _, downloaded) = app
        .get_file("viewer", &format!("/documents/{document_id}"))
        .await;
    assert_eq!((status, downloaded.as_slice()), (StatusCode::OK, PDF));
    // A file bigger than one part goes up as an S3 multipart upload and arrives whole.
    let mut big = PDF[..9].to_vec();
    big.extend((0..6 * 1024 * 1024).map(|i| (i % 251) as u8));
    big.extend_from_slice(b"\n%%EOF\n");
    let (status, doc) = app
        .upload(
            "operations",
            &format!("/payments/vehicle-repairs/{repair_id}/documents"),
            "long.pdf",
            &big,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let big_key = format!(
        "fleet/files/documents/{}",
        doc["document_id"].as_str().unwrap()
    );
    assert!(moto.object(&bucket, &big_key).await.as_deref() == Some(big.as_slice()));
    // Delete, then a missing object reads as absent.
    app.state.storage.delete(&receipt_key).await.unwrap();
    assert_eq!(
        moto.object(&bucket, &format!("fleet/files/{receipt_key}"))
            .await,
        None
    );
    assert_eq!(app.state.storage.get(&receipt_key).await.unwrap(), None);
    // The JSON never shows a storage URL.
    let (_, detail) = app
        .get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}"))
        .await;
    assert!(!detail.to_string().contains(&bucket), "{detail}");
    app.cleanup().await;
}

mod s3_storage_round_trip {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::s3_round_trip(batconnect::db::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::s3_round_trip(batconnect::db::Backend::Postgres).await;
    }
}
