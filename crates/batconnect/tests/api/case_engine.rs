use reqwest::StatusCode;
use serde_json::json;

use batconnect::db::Backend;

use crate::both_backends;
use crate::helpers::{join_all, Setup};

both_backends! {
    async fn case_numbers_are_prefix_and_six_digits(app) {
        assert_eq!(app.create_repair_case().await, "RPRINV000001");
        let (status, body) = app.post_as("operations", "/case", json!({"case_type": "RPRINV"})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["case_no"], "RPRINV000002");
        let (status, problem) = app.post_as("operations", "/case", json!({"case_type": "NOPE"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "case_type");
    }

    async fn parallel_case_creation_never_repeats_a_number(app) {
        let token = app.token("operations").await;
        let calls = (0..50).map(|_| {
            let request = app.client.post(app.url("/payments/vehicle-repairs/create-case")).bearer_auth(&token).send();
            async move { request.await.unwrap().json::<serde_json::Value>().await.unwrap() }
        });
        let bodies = join_all(calls).await;
        let mut numbers: Vec<String> = bodies.iter().map(|b| b["case_no"].as_str().unwrap_or_else(|| panic!("{b}")).to_string()).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 50);
        assert_eq!(app.scalar_i64("SELECT COUNT(DISTINCT case_no) FROM cases").await, 50);
    }

    async fn step_submission_checks_in_order_case_step_role_schema(app) {
        let (status, _) = app.post_as("operations", "/case/RPRINV999999", json!({"step_id": "REPAIR_ENTER_DETAILS", "data": {}})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let case_no = app.create_repair_case().await;
        let (status, problem) = app.post_as("operations", &format!("/case/{case_no}"), json!({"step_id": "NO_SUCH_STEP", "data": {}})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(problem["detail"].as_str().unwrap().contains("NO_SUCH_STEP"));
        let (status, _) = app.post_as("viewer", &format!("/case/{case_no}"), json!({"step_id": "REPAIR_ENTER_DETAILS", "data": {}})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = app.submit_step(&case_no, json!({"driver_id": "", "total_amount": -3, "workshop_type": "Garage", "invoice_date": "2026-02-30", "notes": "x".repeat(501), "extra": 1})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        for pointer in ["/data/driver_id", "/data/total_amount", "/data/workshop_type", "/data/invoice_date", "/data/notes", "/data/extra"] {
            assert!(pointers.contains(&pointer), "missing {pointer} in {pointers:?}");
        }
        // Three decimals pass the schema's number type but not the money rule.
        let mut data = app.invoice_data(1, "10", "INV-DEC");
        data["total_amount"] = json!(10.005);
        let (status, problem) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["pointer"], "/data/total_amount", "{problem}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
    }

    async fn case_view_step_fetch_history_move_and_list_by_type(app) {
        let case_no = app.create_repair_case().await;
        let (status, view) = app.get_as("viewer", &format!("/case/{case_no}?tlc_license_no=5100001")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(view["case_info"]["created_by"], "operations");
        assert_eq!(view["case_info"]["status"], "Open");
        let step = &view["steps"][0]["sub_steps"][0];
        assert_eq!(step["step_id"], "REPAIR_ENTER_DETAILS");
        assert_eq!(step["is_current_step"], true);
        assert_eq!(step["has_already_been_used"], false);
        assert_eq!(step["step_data"]["driver"]["tlc_license_no"], "5100001");
        let (status, data) = app.get_as("viewer", &format!("/case/{case_no}/REPAIR_ENTER_DETAILS?tlc_license_no=0000000")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(data["driver"], serde_json::Value::Null);
        assert_eq!(data["leases"], json!([]));
        app.create_invoice(2, "150.00", "INV-HIST").await;
        let (status, moved) = app.post_as("operations", &format!("/case/{case_no}/move"), json!({"action": "close"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(moved["status"], "Closed");
        let (status, _) = app.post_as("operations", &format!("/case/{case_no}/move"), json!({"action": "close"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, history) = app.get_as("viewer", &format!("/case-history/{case_no}")).await;
        assert_eq!(status, StatusCode::OK);
        let actions: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["case_created", "case_moved"]);
        let (_, listed) = app.get_as("viewer", "/cases/by-type/RPRINV").await;
        assert_eq!(listed["total_items"], 2);
        let (status, _) = app.get_as("viewer", "/cases/by-type/NOPE").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn the_guide_step_2_sql_relinks_the_schema_and_the_newest_link_wins(app) {
        let id = app.scalar_i64("SELECT id FROM case_step_configs WHERE step_id = 'REPAIR_ENTER_DETAILS'").await;
        let now = match app.backend { Backend::Postgres => "NOW()", Backend::Sqlite => "CURRENT_TIMESTAMP" };
        let link = |path: &str| format!("INSERT INTO case_step_config_paths (case_step_config_id, path, is_active, created_on) VALUES ({id}, '{path}', 1, {now});");
        sqlx::query(link("newrepair/schemas/missing.json").as_str()).execute(app.db.reader()).await.unwrap();
        let case_no = app.create_repair_case().await;
        let (status, problem) = app.submit_step(&case_no, app.invoice_data(1, "100.00", "INV-LINK")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(problem["detail"].as_str().unwrap().contains("newrepair/schemas/missing.json"), "{problem}");
        // The guide's statement, as written (PostgreSQL: NOW(); SQLite has no NOW()).
        sqlx::query(link("newrepair/schemas/enter_details.json").as_str()).execute(app.db.reader()).await.unwrap();
        let (status, body) = app.submit_step(&case_no, app.invoice_data(1, "100.00", "INV-LINK")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// A schema directory whose `enter_details.json` is stricter: notes become required.
fn stricter_schema_dir() -> Setup {
    let dir = std::env::temp_dir().join(format!("schemas-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("newrepair/schemas")).unwrap();
    let mut schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../src/bpm_flows/newrepair/schemas/enter_details.json"
    ))
    .unwrap();
    schema["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("notes"));
    std::fs::write(
        dir.join("newrepair/schemas/enter_details.json"),
        schema.to_string(),
    )
    .unwrap();
    Setup {
        schema_dir: Some(dir),
        ..Setup::default()
    }
}

crate::both_backends_with! {
    setup = stricter_schema_dir();

    async fn schema_dir_overrides_the_builtin_schema(app) {
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(1, "100.00", "INV-SCHEMA");
        data.as_object_mut().unwrap().remove("notes");
        let (status, problem) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"].as_str().unwrap().contains("notes"),
            "{problem}"
        );
        let dir = app.state.config.schema_dir.clone().unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
