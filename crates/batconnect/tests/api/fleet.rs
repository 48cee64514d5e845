use reqwest::StatusCode;
use serde_json::{json, Value};

use batconnect::auth::CurrentUser;
use batconnect::import::{self, Entity, ImportError};

use crate::both_backends;
use crate::helpers::TestApp;

fn driver(tlc: &str) -> Value {
    json!({"first_name": "Nadia", "last_name": "Boateng", "tlc_license_no": tlc, "phone": "(646) 555-0101", "email": "nadia@example.com"})
}

async fn new_vehicle_and_medallion(app: &TestApp, vin: &str, medallion: &str) -> (i64, i64) {
    let (s, v) = app.post_as("operations", "/fleet/vehicles", json!({"vin": vin, "make": "Toyota", "model": "Camry", "year": 2024, "plate_number": "T123456C"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, m) = app
        .post_as(
            "operations",
            "/fleet/medallions",
            json!({"medallion_number": medallion}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    (v["id"].as_i64().unwrap(), m["id"].as_i64().unwrap())
}

fn write_csv(app: &TestApp, name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "{}-{name}-{}.csv",
        app.backend.name(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

both_backends! {
    async fn a_plate_follows_one_rule_when_created_changed_or_imported(app) {
        // Found by schemathesis: a new vehicle took a plate the document (and a change) refuses.
        let vehicle = json!({"vin": "1HGCM82633A004353", "make": "Toyota", "model": "Camry", "year": 2024, "plate_number": "\u{e316}"});
        let (status, problem) = app.post_as("operations", "/fleet/vehicles", vehicle.clone()).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("plate_number")), "{problem}");
        let mut good = vehicle;
        good["plate_number"] = json!(" t123-45c ");
        let (status, created) = app.post_as("operations", "/fleet/vehicles", good).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["plate_number"], "T123-45C");
    }

    async fn drivers_are_created_and_found_by_tlc_license_and_name(app) {
        let (status, created) = app.post_as("operations", "/fleet/drivers", driver("7000001")).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["full_name"], "Nadia Boateng");
        assert!(created["driver_id"].as_str().unwrap().starts_with("DRV-"));
        let (_, found) = app.get_as("viewer", "/fleet/drivers?tlc_license_no=7000001").await;
        assert_eq!(found["total_items"], 1);
        assert_eq!(found["items"][0]["id"], created["id"]);
        let (_, by_name) = app.get_as("viewer", "/fleet/drivers?name=boat").await;
        assert_eq!(by_name["total_items"], 1);
        let (status, one) = app.get_as("viewer", &format!("/fleet/drivers/{}", created["id"])).await;
        assert_eq!((status, &one["tlc_license_no"]), (StatusCode::OK, &json!("7000001")));
        let (status, _) = app.get_as("viewer", "/fleet/drivers/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn duplicate_tlc_vin_and_medallion_are_409_naming_the_field(app) {
        app.post_as("operations", "/fleet/drivers", driver("7000002")).await;
        let (status, problem) = app.post_as("operations", "/fleet/drivers", driver("7000002")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("tlc_license_no"), "{problem}");
        new_vehicle_and_medallion(app, "1HGCM82633A004352", "9Z99").await;
        let (status, problem) = app.post_as("operations", "/fleet/vehicles", json!({"vin": "1hgcm82633a004352", "make": "Ford", "model": "Transit", "year": 2023})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("vin"), "{problem}");
        let (status, problem) = app.post_as("operations", "/fleet/medallions", json!({"medallion_number": "9z99"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("medallion_number"), "{problem}");
        let (status, problem) = app.post_as("operations", "/fleet/vehicles", json!({"vin": "SHORT", "make": "", "model": "X", "year": 1900})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["vin", "make", "year"]);
    }

    async fn a_medallion_is_in_one_active_lease_with_exactly_one_driver_manager(app) {
        let (_, d1) = app.post_as("operations", "/fleet/drivers", driver("7000003")).await;
        let (_, d2) = app.post_as("operations", "/fleet/drivers", driver("7000004")).await;
        let (vehicle, medallion) = new_vehicle_and_medallion(app, "2HGCM82633A004352", "8Y88").await;
        let lease = |drivers: Value| json!({"lease_type": "long-term", "weekly_rate": "525.00", "vehicle_id": vehicle, "medallion_id": medallion, "start_date": "2026-11-01", "drivers": drivers});
        let (status, problem) = app.post_as("operations", "/fleet/leases", lease(json!([{"driver_id": d1["id"], "is_additional_driver": true}]))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "drivers");
        let (status, problem) = app.post_as("operations", "/fleet/leases", lease(json!([{"driver_id": d1["id"], "is_driver_manager": true}, {"driver_id": d2["id"], "is_driver_manager": true}]))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, created) = app.post_as("operations", "/fleet/leases", lease(json!([{"driver_id": d1["id"], "is_driver_manager": true}, {"driver_id": d2["id"], "is_additional_driver": true}]))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["weekly_rate"], "525.00");
        assert_eq!(created["lease_type_label"], "Long Term");
        assert_eq!(created["drivers"].as_array().unwrap().len(), 2);
        assert_eq!(created["drivers"][0]["is_driver_manager"], true);
        let (status, problem) = app.post_as("operations", "/fleet/leases", lease(json!([{"driver_id": d2["id"], "is_driver_manager": true}]))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("medallion"), "{problem}");
        let (_, managed) = app.get_as("viewer", &format!("/fleet/leases?driver_id={}&managed_only=true", d2["id"])).await;
        assert_eq!(managed["total_items"], 0);
        let (_, all) = app.get_as("viewer", &format!("/fleet/leases?driver_id={}", d2["id"])).await;
        assert_eq!(all["total_items"], 1);
        let (status, problem) = app.get_as("viewer", "/fleet/leases?lease_type=weekly").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "lease_type");
    }

    async fn csv_import_writes_all_rows_or_none(app) {
        let actor = CurrentUser::system("test");
        let now = crate::helpers::default_now();
        let bad = write_csv(app, "drivers", "first_name,last_name,tlc_license_no,phone,email,status\nAna,Lopez,8000001,,,Active\nBo,,80x,,,Active\nCy,Diaz,8000003,,,Retired\n");
        let Err(ImportError::BadRows(rows)) = import::run(&app.db, Entity::Drivers, &bad, &actor, now, app.state.config.timezone).await else { panic!("bad rows must fail") };
        assert!(rows.iter().any(|r| r.starts_with("line 3: last_name")), "{rows:?}");
        assert!(rows.iter().any(|r| r.starts_with("line 3: tlc_license_no")), "{rows:?}");
        assert!(rows.iter().any(|r| r.starts_with("line 4: status")), "{rows:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM drivers WHERE tlc_license_no = '8000001'").await, 0);
        // Every bad line in one pass: a TLC another driver has, one repeated in the file, a bad name.
        let duplicate = write_csv(app, "dup", "first_name,last_name,tlc_license_no\nAna,Lopez,8000001\nEd,Ng,5100001\nFay,Li, 8000001\nGus,,8000009\n");
        let Err(ImportError::BadRows(rows)) = import::run(&app.db, Entity::Drivers, &duplicate, &actor, now, app.state.config.timezone).await else { panic!("duplicate must fail") };
        assert_eq!(rows, vec![
            "line 3: tlc_license_no: a record with '5100001' already exists".to_string(),
            "line 4: tlc_license_no: '8000001' is also on line 2; it is unique".to_string(),
            "line 5: last_name: is required".to_string(),
        ]);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM drivers WHERE tlc_license_no = '8000001'").await, 0);
        let good = write_csv(app, "good", "first_name,last_name,tlc_license_no\nAna,Lopez,8000001\nEd,Ng,8000002\n");
        assert_eq!(import::run(&app.db, Entity::Drivers, &good, &actor, now, app.state.config.timezone).await.unwrap(), 2);
        let vehicles = write_csv(app, "vehicles", "vin,make,model,year,plate_number\n3HGCM82633A004352,Toyota,Sienna,2025,T555555C\n");
        assert_eq!(import::run(&app.db, Entity::Vehicles, &vehicles, &actor, now, app.state.config.timezone).await.unwrap(), 1);
        let medallions = write_csv(app, "medallions", "medallion_number,status\n7K77,Assigned\n");
        assert_eq!(import::run(&app.db, Entity::Medallions, &medallions, &actor, now, app.state.config.timezone).await.unwrap(), 1);
        let leases = write_csv(app, "leases", "lease_id,lease_type,status,weekly_rate,vin,medallion_number,start_date,end_date,driver_manager_tlc,additional_driver_tlcs\nLS-IMP-1,shift-lease,Active,300.00,3HGCM82633A004352,7K77,2026-11-01,,8000001,8000002\nLS-IMP-2,dov,Active,abc,3HGCM82633A004352,0X00,2026-11-01,,8000001,\n");
        let Err(ImportError::BadRows(rows)) = import::run(&app.db, Entity::Leases, &leases, &actor, now, app.state.config.timezone).await else { panic!("bad lease row must fail") };
        assert!(rows.iter().all(|r| r.starts_with("line 3")), "{rows:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM leases WHERE lease_id LIKE 'LS-IMP%'").await, 0);
    }

    async fn earnings_import_resolves_leases_by_either_id_all_or_nothing(app) {
        let actor = CurrentUser::system("test");
        let now = crate::helpers::default_now();
        let business = app.scalar_i64("SELECT COUNT(*) FROM leases WHERE lease_id = 'LS-01002'").await;
        assert_eq!(business, 1, "demo lease LS-01002");
        let bad = write_csv(app, "earnings-bad", "lease_id,period,amount
1,2026-11-15,500.00
LS-NOPE,2026-11-15,1.00
3,2026-11-15,-4
");
        let Err(ImportError::BadRows(rows)) = import::run(&app.db, Entity::Earnings, &bad, &actor, now, app.state.config.timezone).await else { panic!("bad rows must fail") };
        // The unknown lease does not hide the bad amount on the next line.
        assert!(rows.iter().any(|r| r.starts_with("line 3: lease_id: no lease 'LS-NOPE'")), "{rows:?}");
        assert!(rows.iter().any(|r| r.starts_with("line 4: amount")), "{rows:?}");
        let unknown_and_bad = write_csv(app, "earnings-unknown", "lease_id,period,amount\nLS-NOPE,2026-11-14,1.00\n");
        let Err(ImportError::BadRows(rows)) = import::run(&app.db, Entity::Earnings, &unknown_and_bad, &actor, now, app.state.config.timezone).await else { panic!("bad rows must fail") };
        assert_eq!(rows.len(), 2, "the unknown lease and the week that is not a Sunday: {rows:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 0);
        let good = write_csv(app, "earnings", "lease_id,period,amount
1,2026-11-15,500.00
LS-01002,2026-11-15,612.34
 3 ,2026-11-22,10
");
        assert_eq!(import::run(&app.db, Entity::Earnings, &good, &actor, now, app.state.config.timezone).await.unwrap(), 3);
        assert_eq!(app.scalar_i64("SELECT -p.amount_cents FROM ledger_postings p JOIN leases l ON l.id = p.lease_id WHERE l.lease_id = 'LS-01002' AND p.entry_type = 'EARNINGS'").await, 61234);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS' AND lease_id IN (1, 3)").await, 2);
    }
}

/// `PATCH` as `user`.
async fn patch(app: &TestApp, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let token = app.token(user).await;
    app.send(reqwest::Method::PATCH, path, Some(&token), Some(body))
        .await
}

crate::both_backends! {
    async fn the_records_that_may_change_are_changed_with_patch(app) {
        // A driver's contact details and status; a field left out stays.
        let (status, driver) = patch(app, "operations", "/fleet/drivers/2", serde_json::json!({"phone": "718-555-0199", "status": "Inactive"})).await;
        assert_eq!(status, StatusCode::OK, "{driver}");
        assert_eq!((driver["phone"].as_str(), driver["status"].as_str()), (Some("718-555-0199"), Some("Inactive")));
        let (_, driver) = patch(app, "operations", "/fleet/drivers/2", serde_json::json!({"phone": ""})).await;
        assert!(driver["phone"].is_null(), "{driver}");
        assert_eq!(driver["status"], "Inactive");
        let (status, problem) = patch(app, "operations", "/fleet/drivers/2", serde_json::json!({"email": "nope", "status": "Gone"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["email", "status"]);
        assert_eq!(patch(app, "operations", "/fleet/drivers/2", serde_json::json!({})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(patch(app, "operations", "/fleet/drivers/9999", serde_json::json!({"phone": "7185550100"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(patch(app, "viewer", "/fleet/drivers/2", serde_json::json!({"phone": "7185550100"})).await.0, StatusCode::FORBIDDEN);
        // A vehicle's plate.
        let (status, vehicle) = patch(app, "operations", "/fleet/vehicles/2", serde_json::json!({"plate_number": " t700222c "})).await;
        assert_eq!((status, vehicle["plate_number"].as_str()), (StatusCode::OK, Some("T700222C")), "{vehicle}");
        assert_eq!(patch(app, "operations", "/fleet/vehicles/2", serde_json::json!({"plate_number": "WAY-TOO-LONG-PLATE"})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        // A lease's additional drivers: by driver id or TLC license; the manager cannot be one.
        let (status, lease) = patch(app, "operations", "/fleet/leases/2", serde_json::json!({"additional_drivers": ["DRV-000003", 4]})).await;
        assert_eq!(status, StatusCode::OK, "{lease}");
        let additional: Vec<i64> = lease["drivers"].as_array().unwrap().iter().filter(|d| d["is_additional_driver"] == true).map(|d| d["driver_id"].as_i64().unwrap()).collect();
        assert_eq!(additional, [3, 4]);
        let (status, problem) = patch(app, "operations", "/fleet/leases/2", serde_json::json!({"additional_drivers": [2, 2, "nobody"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("driver manager") && problem.to_string().contains("no driver"), "{problem}");
        let (_, lease) = patch(app, "operations", "/fleet/leases/2", serde_json::json!({"additional_drivers": []})).await;
        assert_eq!(lease["drivers"].as_array().unwrap().len(), 1);
        // An ended lease does not change.
        let (status, _) = app.post_as("operations", "/fleet/leases/LS-01003/terminate", serde_json::json!({"end_date": "2026-11-24", "reason": "completed"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(patch(app, "operations", "/fleet/leases/3", serde_json::json!({"additional_drivers": [5]})).await.0, StatusCode::CONFLICT);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action IN ('driver_updated', 'vehicle_updated', 'lease_drivers_changed')").await, 5);
    }
}
