use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::join_all;

both_backends! {
    async fn the_wizard_names_every_broken_rule_in_one_round(app) {
        app.create_invoice(1, "500.00", "BAW-ONE").await;
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(1, "800.00", "baw one");
        data["invoice_date"] = serde_json::json!("2027-03-01");
        data["vehicle_id"] = serde_json::json!(99_999);
        data["medallion_id"] = serde_json::json!(2);
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["invoice_date", "invoice_number", "medallion_id", "vehicle_id"], "{body}");
        // The number clash alone is still a conflict.
        let (status, body) = app.submit_step(&case_no, app.invoice_data(1, "800.00", "baw one")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);
    }

    async fn the_guides_step_5_verification_passes_end_to_end(app) {
        // 3. Test manual creation: start the workflow.
        let (status, created) = app.post_as("operations", "/payments/vehicle-repairs/create-case", json!(null)).await;
        assert_eq!(status, StatusCode::CREATED);
        let case_no = created["case_no"].as_str().unwrap().to_string();
        assert!(case_no.starts_with("RPRINV") && case_no.len() == 12);
        // See the workflow steps, with the driver found by TLC license.
        let (status, view) = app.get_as("operations", &format!("/case/{case_no}?tlc_license_no=5100001")).await;
        assert_eq!(status, StatusCode::OK);
        let data = &view["steps"][0]["sub_steps"][0]["step_data"];
        assert_eq!(data["driver"]["full_name"], "Ahmed Khan");
        let lease = &data["leases"][0];
        assert_eq!(data["leases"].as_array().unwrap().len(), 1);
        assert_eq!(lease["lease_id"], "LS-01001");
        assert_eq!(lease["weekly_amount"], "350.00");
        let step_data = json!({
            "driver_id": data["driver"]["id"], "lease_id": lease["id"], "vehicle_id": lease["vehicle_id"], "medallion_id": lease["medallion_id"],
            "total_amount": 1234.56, "invoice_number": "BAW-2026-1187", "invoice_date": "2026-11-20",
            "workshop_type": "Big Apple Workshop", "start_week": "2026-11-29", "notes": "Rear bumper, tail light"
        });
        // Preview: the full schedule, nothing written.
        let mut preview_data = step_data.clone();
        preview_data["preview_only"] = json!(true);
        let (status, preview) = app.submit_step(&case_no, preview_data).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["message"], "OK");
        let schedule = preview["data"]["schedule"].as_array().unwrap();
        assert_eq!(schedule.len(), 5);
        assert_eq!(schedule[0]["week_period"], "11/29/2026 - 12/05/2026");
        assert_eq!(schedule[0]["prior_balance"], "1234.56");
        assert_eq!(schedule[4]["amount"], "234.56");
        assert_eq!(schedule[4]["balance"], "0.00");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'step_submitted'").await, 0);
        // Submit valid data: the invoice is created.
        let (status, body) = app.submit_step(&case_no, step_data.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["message"], "OK");
        let repair_id = body["data"]["repair_id"].as_str().unwrap().to_string();
        assert_eq!(repair_id, "RPR-2026-00001");
        assert_eq!(body["data"]["invoice_number"], "BAW-2026-1187");
        assert_eq!(body["data"]["total_amount"], "1234.56");
        assert_eq!(body["data"]["installment_count"], 5);
        // 4. Verify the database.
        assert_eq!(app.scalar_text("SELECT status FROM repair_invoices WHERE repair_id = 'RPR-2026-00001'").await, "Open");
        assert_eq!(app.scalar_i64("SELECT total_amount_cents FROM repair_invoices WHERE repair_id = 'RPR-2026-00001'").await, 123_456);
        let rows: Vec<(String, String, i64, String, String)> = sqlx::query_as(
            "SELECT i.installment_id, i.status, i.principal_amount_cents, i.week_start_date, i.week_end_date FROM repair_installments i \
             JOIN repair_invoices v ON v.id = i.invoice_id WHERE v.repair_id = 'RPR-2026-00001' ORDER BY i.sequence",
        ).fetch_all(app.db.reader()).await.unwrap();
        let expected = [(25_000, "2026-11-29", "2026-12-05"), (25_000, "2026-12-06", "2026-12-12"), (25_000, "2026-12-13", "2026-12-19"), (25_000, "2026-12-20", "2026-12-26"), (23_456, "2026-12-27", "2027-01-02")];
        assert_eq!(rows.len(), 5);
        for (n, (row, (cents, start, end))) in rows.iter().zip(expected).enumerate() {
            assert_eq!(row.0, format!("RPR-2026-00001-{:02}", n + 1));
            assert_eq!(row.1, "Scheduled");
            assert_eq!((row.2, row.3.as_str(), row.4.as_str()), (cents, start, end));
        }
        assert_eq!(app.scalar_text(&format!("SELECT identifier_value FROM case_entities WHERE case_no = '{case_no}'")).await, repair_id);
        // 5. The list shows it, with filters and sorts.
        for query in ["", "?status=Open", "?driver_name=ahmed", "?medallion_no=1p10", "?lease_id=LS-01001", "?workshop_type=Big%20Apple%20Workshop",
                      "?from_invoice_date=2026-11-01&to_invoice_date=2026-11-30", "?from_total_amount=1000&to_total_amount=1234.56",
                      "?lease_type=dov,long-term", "?repair_id=RPR-2026-00001", "?invoice_number=BAW-2026-1187,OTHER", "?vin=4T1BF1FK000500000",
                      "?sort_by=amount&sort_order=asc", "?sort_by=driver_name", "?sort_by=date&sort_order=desc&page=1&per_page=5"] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            assert_eq!(list["total_items"], 1, "{query}");
            let item = &list["items"][0];
            assert_eq!(item["repair_id"], "RPR-2026-00001");
            assert_eq!((item["status"].as_str(), item["amount"].as_str(), item["medallion_no"].as_str()), (Some("Open"), Some("1234.56"), Some("1P10")));
            assert_eq!(item["driver_name"], "Ahmed Khan");
            assert_eq!(item["workshop"], "Big Apple Workshop");
        }
        for query in ["?status=Closed", "?driver_name=zzz", "?to_total_amount=1000"] {
            let (_, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs{query}")).await;
            assert_eq!(list["total_items"], 0, "{query}");
        }
        // The detail.
        let (status, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["totals"]["repair_amount"], "1234.56");
        assert_eq!(detail["totals"]["remaining_balance"], "1234.56");
        assert_eq!(detail["totals"]["progress"], "0/5");
        assert_eq!(detail["driver"]["tlc_license_no"], "5100001");
        assert_eq!(detail["lease"]["lease_id"], "LS-01001");
        assert_eq!(detail["vehicle"]["vin"], "4T1BF1FK000500000");
        assert_eq!(detail["schedule"][1]["prior_balance"], "984.56");
        assert_eq!(detail["schedule"][1]["balance"], "734.56");
        assert_eq!(detail["schedule"][4]["status"], "Scheduled");
        // The step is now marked as used.
        let (_, view) = app.get_as("operations", &format!("/case/{case_no}")).await;
        assert_eq!(view["steps"][0]["sub_steps"][0]["has_already_been_used"], true);
        assert_eq!(view["steps"][0]["sub_steps"][0]["step_data"]["repair_id"], repair_id);
    }

    async fn resubmitting_the_step_returns_the_same_invoice(app) {
        let case_no = app.create_repair_case().await;
        let data = app.invoice_data(3, "450.00", "INV-RESUBMIT");
        let (_, first) = app.submit_step(&case_no, data.clone()).await;
        let (status, second) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        assert_eq!(second["data"]["repair_id"], first["data"]["repair_id"]);
        assert_eq!(second["data"]["already_created"], true);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments").await, 5);
    }

    async fn business_rules_refuse_with_a_clear_message(app) {
        let case_no = app.create_repair_case().await;
        let cases = [
            (json!({"start_week": "2026-11-24"}), StatusCode::UNPROCESSABLE_ENTITY, "Tuesday"),
            (json!({"start_week": "2026-11-15"}), StatusCode::UNPROCESSABLE_ENTITY, "before the current payment period"),
            (json!({"driver_id": 2}), StatusCode::UNPROCESSABLE_ENTITY, "not the driver manager"),
            (json!({"driver_id": 21}), StatusCode::UNPROCESSABLE_ENTITY, "not the driver manager"),
            (json!({"vehicle_id": 2}), StatusCode::UNPROCESSABLE_ENTITY, "vehicle"),
            (json!({"medallion_id": 2}), StatusCode::UNPROCESSABLE_ENTITY, "medallion"),
            (json!({"lease_id": 9999}), StatusCode::UNPROCESSABLE_ENTITY, "no lease"),
            (json!({"driver_id": "DRV-999999"}), StatusCode::UNPROCESSABLE_ENTITY, "no driver"),
            (json!({"invoice_date": "2026-12-24"}), StatusCode::UNPROCESSABLE_ENTITY, "future"),
            (json!({"total_amount": "1000000.01"}), StatusCode::UNPROCESSABLE_ENTITY, "total_amount"),
        ];
        for (change, expected, words) in cases {
            let mut data = app.invoice_data(1, "500.00", "INV-RULES");
            for (k, v) in change.as_object().unwrap() {
                data[k] = v.clone();
            }
            let (status, problem) = app.submit_step(&case_no, data).await;
            assert_eq!(status, expected, "{change}: {problem}");
            assert!(problem.to_string().contains(words), "{change}: {problem}");
        }
        // Lease not active.
        sqlx::query("UPDATE leases SET status = 'Suspended' WHERE id = 5").execute(app.db.reader()).await.unwrap();
        let (status, problem) = app.submit_step(&case_no, app.invoice_data(5, "500.00", "INV-RULES")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem["detail"].as_str().unwrap().contains("Suspended"), "{problem}");
        // Business ids work as well as internal ids.
        let mut data = app.invoice_data(1, "500.00", "INV-DUP");
        data["driver_id"] = json!("DRV-000001");
        data["lease_id"] = json!("LS-01001");
        data["vehicle_id"] = json!("4T1BF1FK000500000");
        data["medallion_id"] = json!("1P10");
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Duplicate invoice number on another case.
        let other = app.create_repair_case().await;
        let (status, problem) = app.submit_step(&other, app.invoice_data(2, "80.00", "INV-DUP")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("invoice_number"), "{problem}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);
        // The payment period follows the clock in New York: Sunday 00:30 local is the new week.
        app.set_clock(chrono::DateTime::parse_from_rfc3339("2026-11-29T05:30:00Z").unwrap().into()).await;
        let mut data = app.invoice_data(2, "80.00", "INV-CLOCK");
        data["start_week"] = json!("2026-11-22");
        let (status, problem) = app.submit_step(&other, data.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        data["start_week"] = json!("2026-11-29");
        let (status, body) = app.submit_step(&other, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn concurrent_submissions_get_distinct_repair_ids(app) {
        let mut cases = Vec::new();
        for _ in 0..12 {
            cases.push(app.create_repair_case().await);
        }
        let token = app.token("operations").await;
        let calls = cases.iter().enumerate().map(|(i, case_no)| {
            let data = app.invoice_data((i % 20) as i64 + 1, "650.00", &format!("INV-PAR-{i}"));
            let request = app.client.post(app.url(&format!("/case/{case_no}"))).bearer_auth(&token)
                .json(&json!({"step_id": "REPAIR_ENTER_DETAILS", "data": data})).send();
            async move { request.await.unwrap().json::<serde_json::Value>().await.unwrap() }
        });
        let results = join_all(calls).await;
        let mut ids: Vec<String> = results.iter().map(|r| r["data"]["repair_id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments").await, 12 * 4);
    }
}
