//! Fleet business actions, one transaction each (the caller commits).

use chrono::{DateTime, Datelike, Utc};

use super::model::{DriverInput, LeaseInput, MedallionInput, VehicleInput};
use super::repo;
use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{next_sequence, timestamp, Tx};
use crate::error::{AppError, FieldError};

pub async fn create_driver(
    tx: &mut Tx,
    input: &DriverInput,
    actor: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let driver = input.validate().map_err(AppError::Validation)?;
    let business_id = match &driver.driver_id {
        Some(id) => id.clone(),
        None => format!("DRV-{:06}", next_sequence(tx, "driver").await?),
    };
    let id =
        repo::insert_driver(tx, &driver, &business_id, &actor.username, &timestamp(now)).await?;
    audit::record(
        tx,
        audit::Entry::new(&actor.username, "driver_created", "driver", &business_id),
        now,
    )
    .await?;
    Ok(id)
}

pub async fn create_medallion(
    tx: &mut Tx,
    input: &MedallionInput,
    actor: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let medallion = input.validate().map_err(AppError::Validation)?;
    let id = repo::insert_medallion(tx, &medallion, &actor.username, &timestamp(now)).await?;
    audit::record(
        tx,
        audit::Entry::new(
            &actor.username,
            "medallion_created",
            "medallion",
            &medallion.medallion_number,
        ),
        now,
    )
    .await?;
    Ok(id)
}

pub async fn create_vehicle(
    tx: &mut Tx,
    input: &VehicleInput,
    actor: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let vehicle = input.validate(now.year()).map_err(AppError::Validation)?;
    let id = repo::insert_vehicle(tx, &vehicle, &actor.username, &timestamp(now)).await?;
    audit::record(
        tx,
        audit::Entry::new(&actor.username, "vehicle_created", "vehicle", &vehicle.vin),
        now,
    )
    .await?;
    Ok(id)
}

pub async fn create_lease(
    tx: &mut Tx,
    input: &LeaseInput,
    actor: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let lease = input.validate().map_err(AppError::Validation)?;
    let mut missing = Vec::new();
    if !repo::exists(tx, "vehicles", lease.vehicle_id).await? {
        missing.push(FieldError::new(
            "vehicle_id",
            format!("no vehicle with id {}", lease.vehicle_id),
        ));
    }
    if !repo::exists(tx, "medallions", lease.medallion_id).await? {
        missing.push(FieldError::new(
            "medallion_id",
            format!("no medallion with id {}", lease.medallion_id),
        ));
    }
    for d in &lease.drivers {
        if !repo::exists(tx, "drivers", d.driver_id).await? {
            missing.push(FieldError::new(
                "drivers",
                format!("no driver with id {}", d.driver_id),
            ));
        }
    }
    if !missing.is_empty() {
        return Err(AppError::Validation(missing));
    }
    if lease.status == domain::status::LeaseStatus::Active {
        if let Some(other) = repo::active_lease_of_medallion(tx, lease.medallion_id).await? {
            return Err(AppError::Conflict(format!(
                "medallion_id: medallion {} is already in active lease {other}; a medallion is in at most one active lease",
                lease.medallion_id
            )));
        }
    }
    let business_id = match &lease.lease_id {
        Some(id) => id.clone(),
        None => format!("LS-{:06}", next_sequence(tx, "lease").await?),
    };
    let id = repo::insert_lease(tx, &lease, &business_id, &actor.username, &timestamp(now)).await?;
    repo::medallion_follows_leases(tx, lease.medallion_id).await?;
    audit::record(
        tx,
        audit::Entry::new(&actor.username, "lease_created", "lease", &business_id),
        now,
    )
    .await?;
    Ok(id)
}

/// A lease request with its vehicle, medallion and drivers found by internal id or business
/// id; each one that does not exist is named.
pub async fn resolve_lease_request(
    tx: &mut Tx,
    request: &crate::fleet::model::LeaseRequest,
) -> Result<LeaseInput, AppError> {
    let mut missing = Vec::new();
    // VINs and medallion numbers are stored in capitals; driver ids as they were given.
    let (id, vin) = request.vehicle_id.parts();
    let vin = vin.map(|v| v.to_ascii_uppercase());
    let vehicle = repo::vehicle_ref(tx, id, vin.as_deref()).await?;
    if vehicle.is_none() {
        missing.push(FieldError::new(
            "vehicle_id",
            format!("no vehicle {}", request.vehicle_id.describe()),
        ));
    }
    let (id, number) = request.medallion_id.parts();
    let number = number.map(|n| n.to_ascii_uppercase());
    let medallion = repo::medallion_ref(tx, id, number.as_deref()).await?;
    if medallion.is_none() {
        missing.push(FieldError::new(
            "medallion_id",
            format!("no medallion {}", request.medallion_id.describe()),
        ));
    }
    let mut drivers = Vec::with_capacity(request.drivers.len());
    for d in &request.drivers {
        let (id, business) = d.driver_id.parts();
        match repo::driver_ref(tx, id, business.as_deref()).await? {
            Some((driver_id, _)) => drivers.push(crate::fleet::model::LeaseDriverInput {
                driver_id,
                is_driver_manager: d.is_driver_manager,
                is_additional_driver: d.is_additional_driver,
            }),
            None => missing.push(FieldError::new(
                "drivers",
                format!("no driver {}", d.driver_id.describe()),
            )),
        }
    }
    match (vehicle, medallion) {
        (Some(vehicle_id), Some(medallion_id)) if missing.is_empty() => Ok(LeaseInput {
            lease_id: request.lease_id.clone(),
            lease_type: request.lease_type.clone(),
            status: request.status.clone(),
            weekly_rate: request.weekly_rate.clone(),
            vehicle_id,
            medallion_id,
            start_date: request.start_date.clone(),
            end_date: request.end_date.clone(),
            drivers,
        }),
        _ => Err(AppError::Validation(missing)),
    }
}

/// The internal id of a lease named by its internal id (digits) or its lease id (any
/// letter case).
pub async fn lease_named(pool: &sqlx::AnyPool, named: &str) -> Result<Option<i64>, AppError> {
    match repo::lease_pk(pool, named).await? {
        Some(id) => Ok(Some(id)),
        None => Ok(repo::lease_pk(pool, &named.trim().to_ascii_uppercase()).await?),
    }
}

/// A driver by internal id or driver id.
pub async fn driver_named(pool: &sqlx::AnyPool, named: &str) -> Result<Option<i64>, AppError> {
    Ok(repo::driver_pk(pool, named).await?)
}

/// A medallion by internal id or number.
pub async fn medallion_named(pool: &sqlx::AnyPool, named: &str) -> Result<Option<i64>, AppError> {
    Ok(repo::medallion_pk(pool, named).await?)
}

/// A lease's id as people read it (`LS-01001`).
pub async fn lease_business_id(pool: &sqlx::AnyPool, id: i64) -> Result<Option<String>, AppError> {
    Ok(repo::lease_by_id(pool, id).await?.map(|l| l.lease_id))
}

/// The leases a person may mean by `text`: part of a lease id, part of a driver's name or a
/// TLC license, any letter case; at most `limit`, by lease id.
pub async fn leases_matching(
    pool: &sqlx::AnyPool,
    text: &str,
    limit: i64,
) -> Result<Vec<super::model::Lease>, AppError> {
    let filter = repo::LeaseFilter {
        status: None,
        lease_type: None,
        medallion_number: None,
        driver_id: None,
        managed_only: false,
        search: Some(text.to_string()),
    };
    let page = crate::db::PageRequest::parse(None, Some(&limit.to_string()))?;
    Ok(repo::list_leases(pool, &filter, page).await?.0)
}
