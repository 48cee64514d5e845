//! Invoice documents: uploads checked by content and size, linked from the case to the
//! invoice, listed and downloaded; and the S3 storage path against a local S3 server.

use reqwest::StatusCode;

use crate::both_backends;
use crate::helpers::{Setup, TestApp};

/// A small but real PDF header; the service only checks the signature.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01";
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];

both_backends! {
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
