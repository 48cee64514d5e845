use reqwest::StatusCode;

use crate::both_backends;

both_backends! {
    async fn list_sorts_paginates_and_names_bad_parameters(app) {
        app.create_invoice(1, "150.00", "INV-A").await;
        app.create_invoice(2, "2500.00", "INV-B").await;
        app.create_invoice(3, "700.00", "INV-C").await;
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs?sort_by=amount&sort_order=asc").await;
        let amounts: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["amount"].as_str().unwrap()).collect();
        assert_eq!(amounts, vec!["150.00", "700.00", "2500.00"]);
        let (_, page) = app.get_as("viewer", "/payments/vehicle-repairs?sort_by=invoice_number&per_page=2&page=2").await;
        assert_eq!(page["total_items"], 3);
        assert_eq!(page["total_pages"], 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["items"][0]["invoice_number"], "INV-A");
        assert!(page["status_list"].as_array().unwrap().contains(&"Open".into()));
        assert!(page["installment_status_list"].as_array().unwrap().contains(&"Scheduled".into()));
        for (query, field) in [("sort_by=colour", "sort_by"), ("sort_order=up", "sort_order"), ("status=Lost", "status"), ("page=0", "page"),
                               ("per_page=101", "per_page"), ("from_invoice_date=2026-13-01", "from_invoice_date"), ("to_total_amount=abc", "to_total_amount"),
                               ("lease_type=weekly", "lease_type"), ("stauts=Open", "stauts")] {
            let (status, problem) = app.get_as("viewer", &format!("/payments/vehicle-repairs?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
        }
        let (status, _) = app.get_as("viewer", "/payments/vehicle-repairs/RPR-2026-09999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn installments_are_listed_across_invoices_by_week(app) {
        let first = app.create_invoice(1, "450.00", "INV-I1").await;
        app.create_invoice(2, "150.00", "INV-I2").await;
        let (_, all) = app.get_as("viewer", "/payments/vehicle-repairs/fetch/installments?per_page=100").await;
        assert_eq!(all["total_items"], 6);
        let weeks: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["week_start_date"].as_str().unwrap()).collect();
        let mut sorted = weeks.clone();
        sorted.sort();
        assert_eq!(weeks, sorted);
        let (_, one) = app.get_as("viewer", &format!("/payments/vehicle-repairs/fetch/installments?repair_id={first}")).await;
        assert_eq!(one["total_items"], 5);
        assert_eq!(one["items"][4]["amount"], "50.00");
        for filter in ["lease_id=2", "lease_id=LS-01002", "driver_id=2", "driver_id=DRV-000002", "medallion_id=2", "vehicle_id=2", "lease_id=2,LS-01002"] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs/fetch/installments?{filter}")).await;
            assert_eq!(status, StatusCode::OK, "{filter}");
            assert_eq!(list["total_items"], 1, "{filter}");
        }
        let (_, desc) = app.get_as("viewer", "/payments/vehicle-repairs/fetch/installments?status=Scheduled&sort_order=desc&per_page=1").await;
        assert_eq!(desc["items"][0]["week_start_date"], "2026-12-27");
        let (status, problem) = app.get_as("viewer", "/payments/vehicle-repairs/fetch/installments?status=Due").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "status");
    }
}

crate::both_backends! {
    async fn the_list_finds_invoices_by_tlc_license_and_plate(app) {
        let case_no = app.create_repair_case().await;
        let (status, body) = app.submit_step(&case_no, app.invoice_data(1, "300.00", "TLC-1")).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        let plate: String = app.scalar_text("SELECT plate_number FROM vehicles WHERE id = 1").await;
        let tlc: String = app.scalar_text("SELECT tlc_license_no FROM drivers WHERE id = 1").await;
        for query in [format!("tlc_license_no={}", &tlc[..5]), format!("plate_number={}", plate.to_lowercase())] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?{query}")).await;
            assert_eq!(status, reqwest::StatusCode::OK, "{list}");
            assert_eq!(list["total_items"], 1, "{query}: {list}");
        }
        let (_, none) = app.get_as("viewer", "/payments/vehicle-repairs?plate_number=NOPLATE").await;
        assert_eq!(none["total_items"], 0);
    }
}

crate::both_backends! {
    async fn lists_and_exports_find_what_staff_type(app) {
        let first = app.create_invoice(1, "300.00", "BAW-1187").await;
        app.create_invoice(2, "450.00", "EXT-2290").await;
        app.create_invoice(3, "150.00", "BAW-3001").await;
        let vin = app.scalar_text("SELECT vin FROM vehicles WHERE id = 1").await;
        let medallion = app.scalar_text("SELECT medallion_number FROM medallions WHERE id = 1").await;
        for (query, expected) in [
            ("invoice_number=1187".to_string(), vec!["BAW-1187"]),
            ("invoice_number=baw-".to_string(), vec!["BAW-1187", "BAW-3001"]),
            ("invoice_number=1187,2290".to_string(), vec!["BAW-1187", "EXT-2290"]),
            (format!("repair_id={}", &first[first.len() - 5..]), vec!["BAW-1187"]),
            ("repair_id=rpr".to_string(), vec!["BAW-1187", "EXT-2290", "BAW-3001"]),
            (format!("medallion_no={}", &medallion[..2].to_lowercase()), vec!["BAW-1187"]),
            (format!("medallion_no={}", medallion.to_lowercase()), vec!["BAW-1187"]),
            ("lease_id=01001".to_string(), vec!["BAW-1187"]),
            ("lease_id=ls-0100".to_string(), vec!["BAW-1187", "EXT-2290", "BAW-3001"]),
            ("lease_id=2".to_string(), vec!["EXT-2290"]),
            (format!("vin={}", vin[9..].to_lowercase()), vec!["BAW-1187"]),
            ("status=open".to_string(), vec!["BAW-1187", "EXT-2290", "BAW-3001"]),
            ("invoice_number=100%25".to_string(), vec![]),
        ] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?{query}&sort_by=invoice_number&sort_order=asc")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            let mut found: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["invoice_number"].as_str().unwrap()).collect();
            let mut expected = expected.clone();
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "{query}");
        }
        // Every column the list shows sorts.
        for key in ["repair_id", "invoice_number", "invoice_date", "status", "driver_name", "medallion_no", "lease_id", "lease_type", "workshop", "amount", "paid", "remaining", "weekly_installment"] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs?sort_by={key}")).await;
            assert_eq!((status, list["total_items"].as_i64()), (StatusCode::OK, Some(3)), "{key}: {list}");
        }
        let (_, by_remaining) = app.get_as("viewer", "/payments/vehicle-repairs?sort_by=remaining&sort_order=asc").await;
        assert_eq!(by_remaining["items"][0]["invoice_number"], "BAW-3001");
        // The installments list and the exports take the same searches.
        let plate = app.scalar_text("SELECT plate_number FROM vehicles WHERE id = 1").await;
        for (query, count) in [(format!("repair_id={}", &first[first.len() - 5..]), 3), ("lease_id=ls-01001".to_string(), 3), ("driver_id=000001".to_string(), 3),
                               ("status=scheduled".to_string(), 9), ("invoice_number=1187".to_string(), 3), (format!("medallion_no={}", medallion.to_lowercase()), 3),
                               (format!("vin={}", vin[9..].to_lowercase()), 3), (format!("plate_number={}", plate.to_lowercase()), 3), ("driver_name=khan".to_string(), 3),
                               ("sort_by=remaining&sort_order=desc".to_string(), 9), ("sort_by=invoice_number".to_string(), 9)] {
            let (status, list) = app.get_as("viewer", &format!("/payments/vehicle-repairs/fetch/installments?{query}&per_page=100")).await;
            assert_eq!((status, list["total_items"].as_i64()), (StatusCode::OK, Some(count)), "{query}: {list}");
        }
        let (status, _, csv) = app.get_file("viewer", "/payments/vehicle-repairs/list/export?format=csv&invoice_number=baw").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 3);
        let (status, _, csv) = app.get_file("viewer", "/payments/vehicle-repairs/fetch/installments/export?format=csv&lease_id=01002").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 6);
        // Renaming is followed by the search (SQLite's full-text table keeps up).
        sqlx::query("UPDATE repair_invoices SET invoice_number = 'WS-5555' WHERE invoice_number = 'EXT-2290'").execute(app.db.reader()).await.unwrap();
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs?invoice_number=5555").await;
        assert_eq!(list["total_items"], 1);
        let (_, list) = app.get_as("viewer", "/payments/vehicle-repairs?invoice_number=2290").await;
        assert_eq!(list["total_items"], 0);
    }
}

crate::both_backends! {
    async fn a_schedule_row_has_one_shape_everywhere(app) {
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(1, "300.00", "SHAPE-1");
        data["preview_only"] = serde_json::json!(true);
        let (status, preview) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        let repair_id = app.create_invoice(2, "300.00", "SHAPE-2").await;
        let (_, detail) = app.get_as("viewer", &format!("/payments/vehicle-repairs/{repair_id}")).await;
        let (_, items) = app.get_as("viewer", &format!("/payments/vehicle-repairs/fetch/installments?repair_id={repair_id}")).await;
        let rows = [&preview["data"]["schedule"][0], &detail["schedule"][0], &items["items"][0]];
        for row in rows {
            assert_eq!((row["sequence"].as_i64(), row["amount"].as_str()), (Some(1), Some("100.00")), "{row}");
            assert_eq!(row["week_start_date"], "2026-11-29", "{row}");
            assert!(row["week_end_date"].is_string() && row["week_period"].is_string(), "{row}");
            assert!(row.get("installment_id").is_some(), "{row}");
        }
        assert_eq!(rows[0]["installment_id"], serde_json::Value::Null);
        assert_eq!(rows[1]["installment_id"], format!("{repair_id}-01"));
        // The old names, kept one release with their old meanings.
        assert_eq!((rows[0]["installment"].as_i64(), rows[0]["week_start"].as_str()), (Some(1), Some("2026-11-29")));
        assert_eq!(rows[1]["installment"], "100.00");
    }
}
