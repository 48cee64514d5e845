//! `seed --demo`: a small, realistic fleet and one user per role, loaded once.

use chrono::{DateTime, Duration, Utc};
use domain::status::Role;

use crate::auth::password::{self, HashCost};
use crate::auth::{repo as auth_repo, CurrentUser};
use crate::db::{timestamp, Db};
use crate::fleet::model::{
    DriverInput, LeaseDriverInput, LeaseInput, MedallionInput, VehicleInput,
};
use crate::fleet::service;

/// Demo users other than `admin` and their passwords (documented in the README).
pub const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("finance", "demo-finance", Role::Finance),
    ("operations", "demo-operations", Role::Operations),
    ("viewer", "demo-viewer", Role::Viewer),
];
/// `admin`'s password with `--demo` when `BAT_ADMIN_PASSWORD` is not set.
pub const DEMO_ADMIN_PASSWORD: &str = "demo-admin";

const FIRST: &[&str] = &[
    "Ahmed", "Maria", "John", "Wei", "Fatima", "Carlos", "Olga", "Kwame", "Priya", "Luis",
    "Samantha", "Mohammed", "Elena", "Jamal", "Hiroshi", "Grace", "Omar", "Ana", "Tenzin", "Yusuf",
    "Rosa", "Dmitri", "Aisha", "Brian",
];
const LAST: &[&str] = &[
    "Khan",
    "Rodriguez",
    "Smith",
    "Chen",
    "Diallo",
    "Gomez",
    "Petrova",
    "Mensah",
    "Patel",
    "Fernandez",
    "Johnson",
    "Hassan",
    "Popescu",
    "Williams",
    "Tanaka",
    "Okafor",
    "Farouk",
    "Silva",
    "Dorje",
    "Ali",
    "Martinez",
    "Ivanov",
    "Bello",
    "O'Connor",
];
const MODELS: &[(&str, &str)] = &[
    ("Toyota", "Camry Hybrid"),
    ("Toyota", "Sienna"),
    ("Ford", "Transit Connect"),
    ("Nissan", "NV200"),
    ("Toyota", "RAV4 Hybrid"),
];
const LEASE_TYPES: &[(&str, &str)] = &[
    ("dov", "350.00"),
    ("long-term", "525.00"),
    ("short-term", "600.00"),
    ("shift-lease", "280.00"),
    ("medallion-only", "225.00"),
];

/// Loads the demo fleet unless it is already there (safe to run on every start).
pub async fn demo(db: &Db, cost: HashCost, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    if !crate::db::settings::insert_setting_if_absent(&mut tx, "demo_seeded_on", &timestamp(now))
        .await?
    {
        tx.rollback().await?;
        tracing::info!("demo data already loaded");
        return Ok(());
    }
    for (username, pw, role) in DEMO_USERS {
        if auth_repo::find_by_username(db.reader(), username)
            .await?
            .is_none()
        {
            let hash = password::hash(pw.to_string(), cost).await?;
            auth_repo::insert(
                &mut tx,
                username,
                &hash,
                role.as_str(),
                "seed",
                &timestamp(now),
            )
            .await?;
        }
    }
    let actor = CurrentUser::system("seed");
    let to_anyhow = |e: crate::error::AppError| anyhow::anyhow!("demo seed: {e:?}");
    let mut driver_ids = Vec::new();
    for (i, (first, last)) in FIRST.iter().zip(LAST.iter()).enumerate() {
        let input = DriverInput {
            driver_id: None,
            first_name: first.to_string(),
            middle_name: None,
            last_name: last.to_string(),
            tlc_license_no: format!("{}", 5_100_001 + i * 137),
            phone: Some(format!("(917) 555-{:04}", 1000 + i * 7)),
            email: Some(format!(
                "{}.{}@example.com",
                first.to_lowercase(),
                last.to_lowercase().replace('\'', "")
            )),
            status: Some("Active".into()),
            pay_to: Some(if i % 3 == 0 { "Check" } else { "ACH" }.into()),
        };
        driver_ids.push(
            service::create_driver(&mut tx, &input, &actor, now)
                .await
                .map_err(to_anyhow)?,
        );
    }
    let letters = ['P', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J'];
    let start = (now - Duration::days(200)).date_naive();
    for i in 0..20usize {
        let (make, model) = MODELS[i % MODELS.len()];
        let vehicle = VehicleInput {
            vin: format!("4T1BF1FK{:09}", 500_000 + i * 7919),
            make: make.into(),
            model: model.into(),
            year: 2020 + (i % 6) as i64,
            plate_number: Some(format!("T{:06}C", 700_100 + i * 37)),
        };
        let vehicle_id = service::create_vehicle(&mut tx, &vehicle, &actor, now)
            .await
            .map_err(to_anyhow)?;
        let medallion = MedallionInput {
            medallion_number: format!("{}{}{:02}", 1 + i % 9, letters[i % letters.len()], 10 + i),
            status: Some("Assigned".into()),
        };
        let medallion_id = service::create_medallion(&mut tx, &medallion, &actor, now)
            .await
            .map_err(to_anyhow)?;
        let (lease_type, rate) = LEASE_TYPES[i % LEASE_TYPES.len()];
        let mut drivers = vec![LeaseDriverInput {
            driver_id: driver_ids[i],
            is_driver_manager: true,
            is_additional_driver: false,
        }];
        // The last four drivers co-drive a few leases as additional drivers.
        if i < 4 {
            drivers.push(LeaseDriverInput {
                driver_id: driver_ids[20 + i],
                is_driver_manager: false,
                is_additional_driver: true,
            });
        }
        let lease = LeaseInput {
            lease_id: Some(format!("LS-{:05}", 1001 + i)),
            lease_type: lease_type.into(),
            status: Some("Active".into()),
            weekly_rate: serde_json::Value::String(rate.into()),
            vehicle_id,
            medallion_id,
            start_date: (start + Duration::days(7 * (i as i64 % 10))).to_string(),
            end_date: None,
            drivers,
        };
        service::create_lease(&mut tx, &lease, &actor, now)
            .await
            .map_err(to_anyhow)?;
    }
    tx.commit().await?;
    tracing::info!("demo fleet loaded: 24 drivers, 20 vehicles, 20 medallions, 20 active leases, users finance/operations/viewer");
    Ok(())
}
