//! SQL for the fleet registry.

use chrono::NaiveDate;
use domain::money::Money;
use domain::status::{LeaseStatus, LeaseType};
use futures_util::{StreamExt, TryStreamExt};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{
    Driver, Lease, LeaseDriver, Medallion, NewDriver, NewLease, NewMedallion, NewVehicle, Vehicle,
};
use crate::db::{PageRequest, Tx};

pub const DRIVER_COLUMNS: &str =
    "id, driver_id, first_name, middle_name, last_name, full_name, tlc_license_no, \
     phone, email, status, pay_to, created_on";

pub fn driver_from_row(r: &AnyRow) -> Result<Driver, sqlx::Error> {
    Ok(Driver {
        id: r.try_get("id")?,
        driver_id: r.try_get("driver_id")?,
        first_name: r.try_get("first_name")?,
        middle_name: r.try_get("middle_name")?,
        last_name: r.try_get("last_name")?,
        full_name: r.try_get("full_name")?,
        tlc_license_no: r.try_get("tlc_license_no")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        status: crate::db::word(r, "status")?,
        pay_to: r.try_get("pay_to")?,
        created_on: r.try_get("created_on")?,
    })
}

fn medallion_from_row(r: &AnyRow) -> Result<Medallion, sqlx::Error> {
    Ok(Medallion {
        id: r.try_get("id")?,
        medallion_number: r.try_get("medallion_number")?,
        status: crate::db::word(r, "status")?,
        created_on: r.try_get("created_on")?,
    })
}

fn vehicle_from_row(r: &AnyRow) -> Result<Vehicle, sqlx::Error> {
    Ok(Vehicle {
        id: r.try_get("id")?,
        vin: r.try_get("vin")?,
        make: r.try_get("make")?,
        model: r.try_get("model")?,
        year: r.try_get("year")?,
        plate_number: r.try_get("plate_number")?,
        created_on: r.try_get("created_on")?,
    })
}

pub async fn insert_driver(
    tx: &mut Tx,
    d: &NewDriver,
    driver_id: &str,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO drivers (driver_id, first_name, middle_name, last_name, full_name, tlc_license_no, phone, email, \
         status, pay_to, created_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(driver_id)
    .bind(&d.first_name)
    .bind(&d.middle_name)
    .bind(&d.last_name)
    .bind(d.full_name())
    .bind(&d.tlc_license_no)
    .bind(&d.phone)
    .bind(&d.email)
    .bind(d.status.as_str())
    .bind(d.pay_to.as_str())
    .bind(now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await
}

pub async fn driver_by_id(pool: &AnyPool, id: i64) -> Result<Option<Driver>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DRIVER_COLUMNS} FROM drivers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|r| driver_from_row(&r))
    .transpose()
}

pub async fn driver_by_tlc(pool: &AnyPool, tlc: &str) -> Result<Option<Driver>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DRIVER_COLUMNS} FROM drivers WHERE tlc_license_no = $1"
    ))
    .bind(tlc)
    .fetch_optional(pool)
    .await?
    .map(|r| driver_from_row(&r))
    .transpose()
}

pub struct DriverFilter {
    pub tlc_license_no: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
}

pub async fn list_drivers(
    pool: &AnyPool,
    ilike: &str,
    f: &DriverFilter,
    page: PageRequest,
) -> Result<(Vec<Driver>, i64), sqlx::Error> {
    let filter = format!(
        "WHERE ($1 IS NULL OR tlc_license_no = $1) AND ($2 IS NULL OR full_name {ilike} $2 ESCAPE '\\') AND ($3 IS NULL OR status = $3)"
    );
    let name = f
        .name
        .as_ref()
        .map(|n| format!("%{}%", crate::db::filter::escape_like(n)));
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM drivers {filter}"))
        .bind(&f.tlc_license_no)
        .bind(&name)
        .bind(&f.status)
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {DRIVER_COLUMNS} FROM drivers {filter} ORDER BY full_name, id LIMIT $4 OFFSET $5"
    ))
    .bind(&f.tlc_license_no)
    .bind(&name)
    .bind(&f.status)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((
        rows.iter().map(driver_from_row).collect::<Result<_, _>>()?,
        total,
    ))
}

pub async fn insert_medallion(
    tx: &mut Tx,
    m: &NewMedallion,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO medallions (medallion_number, status, created_on, created_by) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&m.medallion_number)
    .bind(m.status.as_str())
    .bind(now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await
}

pub async fn medallion_by_id(pool: &AnyPool, id: i64) -> Result<Option<Medallion>, sqlx::Error> {
    sqlx::query("SELECT id, medallion_number, status, created_on FROM medallions WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| medallion_from_row(&r))
        .transpose()
}

pub async fn list_medallions(
    pool: &AnyPool,
    number: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<Medallion>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM medallions WHERE ($1 IS NULL OR medallion_number = $1)",
    )
    .bind(number)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query(
        "SELECT id, medallion_number, status, created_on FROM medallions WHERE ($1 IS NULL OR medallion_number = $1) \
         ORDER BY medallion_number LIMIT $2 OFFSET $3",
    )
    .bind(number)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((
        rows.iter()
            .map(medallion_from_row)
            .collect::<Result<_, _>>()?,
        total,
    ))
}

pub async fn insert_vehicle(
    tx: &mut Tx,
    v: &NewVehicle,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO vehicles (vin, make, model, year, plate_number, created_on, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&v.vin)
    .bind(&v.make)
    .bind(&v.model)
    .bind(v.year)
    .bind(&v.plate_number)
    .bind(now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await
}

const VEHICLE_COLUMNS: &str = "id, vin, make, model, year, plate_number, created_on";

pub async fn vehicle_by_id(pool: &AnyPool, id: i64) -> Result<Option<Vehicle>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|r| vehicle_from_row(&r))
    .transpose()
}

pub async fn list_vehicles(
    pool: &AnyPool,
    vin: Option<&str>,
    plate: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<Vehicle>, i64), sqlx::Error> {
    let filter = "WHERE ($1 IS NULL OR vin = $1) AND ($2 IS NULL OR plate_number = $2)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM vehicles {filter}"))
        .bind(vin)
        .bind(plate)
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicles {filter} ORDER BY vin LIMIT $3 OFFSET $4"
    ))
    .bind(vin)
    .bind(plate)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((
        rows.iter()
            .map(vehicle_from_row)
            .collect::<Result<_, _>>()?,
        total,
    ))
}

pub async fn insert_lease(
    tx: &mut Tx,
    l: &NewLease,
    lease_id: &str,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO leases (lease_id, lease_type, status, weekly_rate_cents, vehicle_id, medallion_id, start_date, \
         end_date, created_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(lease_id)
    .bind(l.lease_type.as_str())
    .bind(l.status.as_str())
    .bind(l.weekly_rate.cents())
    .bind(l.vehicle_id)
    .bind(l.medallion_id)
    .bind(l.start_date.to_string())
    .bind(l.end_date.map(|d| d.to_string()))
    .bind(now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await?;
    for d in &l.drivers {
        sqlx::query(
            "INSERT INTO lease_drivers (lease_id, driver_id, is_driver_manager, is_additional_driver, created_on) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(d.driver_id)
        .bind(i64::from(d.is_driver_manager))
        .bind(i64::from(d.is_additional_driver))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// Is the medallion already in another active lease?
pub async fn active_lease_of_medallion(
    tx: &mut Tx,
    medallion_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT lease_id FROM leases WHERE medallion_id = $1 AND status = 'Active'")
        .bind(medallion_id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn exists(tx: &mut Tx, table: &str, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

const LEASE_SELECT: &str = "SELECT l.id, l.lease_id, l.lease_type, l.status, l.weekly_rate_cents, l.vehicle_id, v.vin, \
     v.plate_number, l.medallion_id, m.medallion_number, l.start_date, l.end_date \
     FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id";

fn lease_from_row(r: &AnyRow) -> Result<Lease, sqlx::Error> {
    let lease_type: String = r.try_get("lease_type")?;
    Ok(Lease {
        id: r.try_get("id")?,
        lease_id: r.try_get("lease_id")?,
        lease_type_label: LeaseType::parse(&lease_type)
            .map(|t| t.label().to_string())
            .unwrap_or_else(|| lease_type.clone()),
        lease_type,
        status: crate::db::word(r, "status")?,
        weekly_rate: Money::from_cents(r.try_get("weekly_rate_cents")?),
        vehicle_id: r.try_get("vehicle_id")?,
        vin: r.try_get("vin")?,
        plate_number: r.try_get("plate_number")?,
        medallion_id: r.try_get("medallion_id")?,
        medallion_number: r.try_get("medallion_number")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        drivers: Vec::new(),
    })
}

/// Fills `drivers` of every lease with one query.
async fn attach_drivers(pool: &AnyPool, leases: &mut [Lease]) -> Result<(), sqlx::Error> {
    if leases.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    let rows = sqlx::query(&format!(
        "SELECT ld.lease_id, ld.driver_id, d.driver_id AS driver_business_id, d.full_name, d.tlc_license_no, \
         ld.is_driver_manager, ld.is_additional_driver FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id \
         WHERE ld.lease_id IN ({}) ORDER BY ld.is_driver_manager DESC, ld.id",
        crate::db::id_list(&ids)
    ))
    .persistent(false)
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let lease_id: i64 = r.try_get("lease_id")?;
        if let Some(lease) = leases.iter_mut().find(|l| l.id == lease_id) {
            lease.drivers.push(LeaseDriver {
                driver_id: r.try_get("driver_id")?,
                driver_business_id: r.try_get("driver_business_id")?,
                full_name: r.try_get("full_name")?,
                tlc_license_no: r.try_get("tlc_license_no")?,
                is_driver_manager: r.try_get::<i64, _>("is_driver_manager")? != 0,
                is_additional_driver: r.try_get::<i64, _>("is_additional_driver")? != 0,
            });
        }
    }
    Ok(())
}

pub async fn lease_by_id(pool: &AnyPool, id: i64) -> Result<Option<Lease>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!("{LEASE_SELECT} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let mut leases = vec![lease_from_row(&row)?];
    attach_drivers(pool, &mut leases).await?;
    Ok(leases.pop())
}

/// The internal id of a lease named by its internal id (digits) or its business id.
pub async fn lease_pk(pool: &AnyPool, reference: &str) -> Result<Option<i64>, sqlx::Error> {
    let reference = reference.trim();
    match reference.parse::<i64>() {
        Ok(id) => {
            sqlx::query_scalar("SELECT id FROM leases WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        }
        Err(_) => {
            sqlx::query_scalar("SELECT id FROM leases WHERE lease_id = $1")
                .bind(reference)
                .fetch_optional(pool)
                .await
        }
    }
}

/// A driver's internal id from its internal id or driver id (`DRV-000012`, any case).
pub async fn driver_pk(pool: &AnyPool, reference: &str) -> Result<Option<i64>, sqlx::Error> {
    named_pk(pool, "drivers", "driver_id", reference).await
}

/// A medallion's internal id from its internal id or number (`1P10`, any case).
pub async fn medallion_pk(pool: &AnyPool, reference: &str) -> Result<Option<i64>, sqlx::Error> {
    named_pk(pool, "medallions", "medallion_number", reference).await
}

async fn named_pk(
    pool: &AnyPool,
    table: &str,
    column: &str,
    reference: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let reference = reference.trim();
    match reference.parse::<i64>() {
        Ok(id) => {
            sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        }
        Err(_) => {
            sqlx::query_scalar(&format!(
                "SELECT id FROM {table} WHERE upper({column}) = $1"
            ))
            .bind(reference.to_ascii_uppercase())
            .fetch_optional(pool)
            .await
        }
    }
}

pub struct LeaseFilter {
    pub status: Option<String>,
    pub lease_type: Option<String>,
    pub medallion_number: Option<String>,
    pub driver_id: Option<i64>,
    pub managed_only: bool,
    /// Part of the lease id, or of a driver's name, or a driver's TLC license, any case.
    pub search: Option<String>,
}

pub async fn list_leases(
    pool: &AnyPool,
    f: &LeaseFilter,
    page: PageRequest,
) -> Result<(Vec<Lease>, i64), sqlx::Error> {
    let filter = "WHERE ($1 IS NULL OR l.status = $1) AND ($2 IS NULL OR l.lease_type = $2) \
         AND ($3 IS NULL OR m.medallion_number = $3) \
         AND ($4 IS NULL OR EXISTS (SELECT 1 FROM lease_drivers ld WHERE ld.lease_id = l.id AND ld.driver_id = $4 \
              AND (ld.is_driver_manager = 1 OR $5 = 0))) \
         AND ($6 IS NULL OR LOWER(l.lease_id) LIKE $6 ESCAPE '\\' OR EXISTS (SELECT 1 FROM lease_drivers sd \
              JOIN drivers d ON d.id = sd.driver_id WHERE sd.lease_id = l.id \
              AND (LOWER(d.full_name) LIKE $6 ESCAPE '\\' OR d.tlc_license_no = $7)))";
    let search = f.search.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let pattern =
        search.map(|t| format!("%{}%", crate::db::filter::escape_like(&t.to_lowercase())));
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id {filter}"
    ))
    .bind(&f.status)
    .bind(&f.lease_type)
    .bind(&f.medallion_number)
    .bind(f.driver_id)
    .bind(i64::from(f.managed_only))
    .bind(&pattern)
    .bind(search)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query(&format!(
        "{LEASE_SELECT} {filter} ORDER BY l.lease_id LIMIT $8 OFFSET $9"
    ))
    .bind(&f.status)
    .bind(&f.lease_type)
    .bind(&f.medallion_number)
    .bind(f.driver_id)
    .bind(i64::from(f.managed_only))
    .bind(&pattern)
    .bind(search)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let mut leases = rows
        .iter()
        .map(lease_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_drivers(pool, &mut leases).await?;
    Ok((leases, total))
}

pub async fn vehicle_id_by_vin(tx: &mut Tx, vin: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM vehicles WHERE vin = $1")
        .bind(vin)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn medallion_id_by_number(tx: &mut Tx, number: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM medallions WHERE medallion_number = $1")
        .bind(number)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn driver_id_by_tlc(tx: &mut Tx, tlc: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM drivers WHERE tlc_license_no = $1")
        .bind(tlc)
        .fetch_optional(&mut **tx)
        .await
}

/// Leases that get a weekly statement for `week` whatever their earnings: every active
/// lease, and one that ended during the week (its final statement).
pub async fn statement_leases(
    pool: &AnyPool,
    week: domain::calendar::SundayDate,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT id FROM leases WHERE status = 'Active' \
         UNION SELECT id FROM leases WHERE status IN ('Terminated', 'Expired') AND end_date >= $1 AND end_date <= $2",
    )
    .bind(week.to_string())
    .bind(week.week_end().to_string())
    // Streamed: the fleet's ids, never its rows, are held at once.
    .fetch(pool)
    .try_collect()
    .await
}

/// Who and what a lease's statement is addressed to.
pub struct LeaseSummary {
    pub lease_pk: i64,
    pub lease_id: String,
    pub lease_type: String,
    pub vin: String,
    pub plate_number: Option<String>,
    pub vehicle: String,
    pub medallion_number: String,
    /// The driver manager (internal id, business id, name, TLC license).
    pub driver: Option<(i64, String, String, String)>,
}

/// The summary of each of these leases, by internal id.
pub async fn lease_summaries(
    tx: &mut Tx,
    leases: &[i64],
) -> Result<std::collections::HashMap<i64, LeaseSummary>, sqlx::Error> {
    let mut found = std::collections::HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT l.id, l.lease_id, l.lease_type, v.vin, v.plate_number, v.make, v.model, v.year, m.medallion_number, \
         d.id AS driver_pk, d.driver_id, d.full_name, d.tlc_license_no \
         FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id \
         LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 LEFT JOIN drivers d ON d.id = ld.driver_id \
         WHERE l.id IN ({})",
        crate::db::id_list(leases)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?
    {
        let driver = match r.try_get::<Option<i64>, _>("driver_pk")? {
            Some(pk) => Some((
                pk,
                r.try_get("driver_id")?,
                r.try_get("full_name")?,
                r.try_get("tlc_license_no")?,
            )),
            None => None,
        };
        found.insert(
            r.try_get("id")?,
            LeaseSummary {
                lease_pk: r.try_get("id")?,
                lease_id: r.try_get("lease_id")?,
                lease_type: r.try_get("lease_type")?,
                vin: r.try_get("vin")?,
                plate_number: r.try_get("plate_number")?,
                vehicle: format!(
                    "{} {} {}",
                    r.try_get::<i64, _>("year")?,
                    r.try_get::<String, _>("make")?,
                    r.try_get::<String, _>("model")?
                ),
                medallion_number: r.try_get("medallion_number")?,
                driver,
            },
        );
    }
    Ok(found)
}

/// The parties a posting on a lease carries: its driver manager, vehicle and medallion.
#[derive(Debug, Clone, Copy)]
pub struct LeaseParties {
    pub driver_id: Option<i64>,
    pub vehicle_id: i64,
    pub medallion_id: i64,
}

/// The parties of each of these leases (those that exist), by internal id.
pub async fn lease_parties(
    tx: &mut Tx,
    leases: &[i64],
) -> Result<std::collections::HashMap<i64, LeaseParties>, sqlx::Error> {
    let mut found = std::collections::HashMap::new();
    for chunk in leases.chunks(1000) {
        for r in sqlx::query(&format!(
            "SELECT l.id, l.vehicle_id, l.medallion_id, ld.driver_id FROM leases l \
             LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 WHERE l.id IN ({})",
            crate::db::id_list(chunk)
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            found.insert(
                r.try_get("id")?,
                LeaseParties {
                    driver_id: r.try_get("driver_id")?,
                    vehicle_id: r.try_get("vehicle_id")?,
                    medallion_id: r.try_get("medallion_id")?,
                },
            );
        }
    }
    Ok(found)
}

/// A lease's status, if it exists.
pub async fn lease_status(tx: &mut Tx, lease_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM leases WHERE id = $1")
        .bind(lease_id)
        .fetch_optional(&mut **tx)
        .await
}

/// The internal id of each lease named in `keys` by its business id or its internal id
/// (both spellings map to the id), in one keyed read per thousand.
pub async fn lease_keys(
    tx: &mut Tx,
    keys: &[&str],
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let mut leases = std::collections::HashMap::new();
    for chunk in keys.chunks(1000) {
        let business = crate::db::text_list(chunk);
        // -1 (no lease) keeps the list valid when no key is numeric.
        let numeric: Vec<i64> = chunk
            .iter()
            .filter_map(|k| k.parse().ok())
            .chain(std::iter::once(-1))
            .collect();
        for r in sqlx::query(&format!(
            "SELECT id, lease_id FROM leases WHERE lease_id IN ({business}) OR id IN ({})",
            crate::db::id_list(&numeric)
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            let id: i64 = r.try_get("id")?;
            let business: String = r.try_get("lease_id")?;
            leases.insert(id.to_string(), id);
            leases.insert(business, id);
        }
    }
    Ok(leases)
}

/// An active lease a driver manages, as the repair step shows it.
pub struct ManagedLease {
    pub id: i64,
    pub lease_id: String,
    pub lease_type: String,
    pub status: String,
    pub weekly_rate: domain::money::Money,
    pub medallion_id: i64,
    pub medallion_number: String,
    pub vehicle_id: i64,
    pub vin: String,
    pub plate_number: Option<String>,
    /// "2024 Toyota Camry".
    pub vehicle: String,
}

/// The active leases `driver_id` is the driver manager of, by lease id.
pub async fn managed_active_leases(
    pool: &AnyPool,
    driver_id: i64,
) -> Result<Vec<ManagedLease>, sqlx::Error> {
    sqlx::query(
        "SELECT l.id, l.lease_id, l.lease_type, l.status, l.weekly_rate_cents, l.medallion_id, m.medallion_number, \
         l.vehicle_id, v.vin, v.plate_number, v.make, v.model, v.year \
         FROM lease_drivers ld JOIN leases l ON l.id = ld.lease_id JOIN medallions m ON m.id = l.medallion_id \
         JOIN vehicles v ON v.id = l.vehicle_id \
         WHERE ld.driver_id = $1 AND ld.is_driver_manager = 1 AND l.status = 'Active' ORDER BY l.lease_id",
    )
    .bind(driver_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(ManagedLease {
            id: r.try_get("id")?,
            lease_id: r.try_get("lease_id")?,
            lease_type: r.try_get("lease_type")?,
            status: r.try_get("status")?,
            weekly_rate: domain::money::Money::from_cents(r.try_get("weekly_rate_cents")?),
            medallion_id: r.try_get("medallion_id")?,
            medallion_number: r.try_get("medallion_number")?,
            vehicle_id: r.try_get("vehicle_id")?,
            vin: r.try_get("vin")?,
            plate_number: r.try_get("plate_number")?,
            vehicle: format!(
                "{} {} {}",
                r.try_get::<i64, _>("year")?,
                r.try_get::<String, _>("make")?,
                r.try_get::<String, _>("model")?
            ),
        })
    })
    .collect()
}

/// What the termination reads of the lease, locked.
pub struct EndingLease {
    pub id: i64,
    pub lease_id: String,
    pub status: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub reason: Option<String>,
    pub weekly: Money,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub driver_id: Option<i64>,
}

/// A lease about to end, locked on PostgreSQL, with its driver manager.
pub async fn lease_for_end(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<EndingLease>, crate::error::AppError> {
    let row = sqlx::query(&format!(
        "SELECT l.id, l.lease_id, l.status, l.start_date, l.end_date, l.termination_reason, l.weekly_rate_cents, \
         l.vehicle_id, l.medallion_id FROM leases l WHERE l.id = $1{}",
        crate::db::lock_rows(tx)
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let driver_id: Option<i64> = sqlx::query_scalar(
        "SELECT driver_id FROM lease_drivers WHERE lease_id = $1 AND is_driver_manager = 1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let date = |text: String| {
        domain::calendar::parse_date(&text).map_err(|e| anyhow::anyhow!("lease {id}: {e}"))
    };
    Ok(Some(EndingLease {
        id: r.try_get("id")?,
        lease_id: r.try_get("lease_id")?,
        status: r.try_get("status")?,
        start: date(r.try_get("start_date")?)?,
        end: r
            .try_get::<Option<String>, _>("end_date")?
            .map(date)
            .transpose()?,
        reason: r.try_get("termination_reason")?,
        weekly: domain::money::Money::from_cents(r.try_get("weekly_rate_cents")?),
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
        driver_id,
    }))
}

/// Records the end of a lease: its new status, last day, reason and who ended it.
#[allow(clippy::too_many_arguments)]
pub async fn end_lease(
    tx: &mut Tx,
    id: i64,
    status: domain::status::LeaseStatus,
    end: chrono::NaiveDate,
    reason: domain::status::TerminationReason,
    note: Option<&str>,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE leases SET status = $1, end_date = $2, termination_reason = $3, termination_note = $4, \
         terminated_by = $5, terminated_on = $6 WHERE id = $7",
    )
    .bind(status.as_str())
    .bind(end.to_string())
    .bind(reason.as_str())
    .bind(note)
    .bind(actor)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A lease's term, rate and parties, as its weekly rent needs them.
pub struct RentTerm {
    pub id: i64,
    pub lease_id: String,
    pub weekly: Money,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub parties: LeaseParties,
}

/// Leases with a rent whose term overlaps `first`..=`last`: in force (active or suspended),
/// or ended within or after it.
pub fn rent_terms<'a>(
    pool: &'a AnyPool,
    first: NaiveDate,
    last: NaiveDate,
) -> futures_util::stream::BoxStream<'a, Result<RentTerm, sqlx::Error>> {
    let date = |r: &AnyRow, column: &str| -> Result<Option<NaiveDate>, sqlx::Error> {
        let text: Option<String> = r.try_get(column)?;
        text.as_deref()
            .map(domain::calendar::parse_date)
            .transpose()
            .map_err(|e| sqlx::Error::Decode(format!("leases.{column}: {e}").into()))
    };
    // One query over the fleet (one join, planned once), read as it streams.
    sqlx::query(
        "SELECT l.id, l.lease_id, l.weekly_rate_cents, l.start_date, l.end_date, l.vehicle_id, l.medallion_id, ld.driver_id \
         FROM leases l LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 \
         WHERE l.status IN ('Active', 'Suspended', 'Terminated', 'Expired') AND l.weekly_rate_cents > 0 \
         AND l.start_date <= $1 AND (l.end_date IS NULL OR l.end_date >= $2) ORDER BY l.id",
    )
    .bind(last.to_string())
    .bind(first.to_string())
    .fetch(pool)
    .map(move |row| {
        let r = row?;
        Ok(RentTerm {
            id: r.try_get("id")?,
            lease_id: r.try_get("lease_id")?,
            weekly: Money::from_cents(r.try_get("weekly_rate_cents")?),
            start: date(&r, "start_date")?
                .ok_or_else(|| sqlx::Error::Decode("leases.start_date is empty".into()))?,
            end: date(&r, "end_date")?,
            parties: LeaseParties {
                driver_id: r.try_get("driver_id")?,
                vehicle_id: r.try_get("vehicle_id")?,
                medallion_id: r.try_get("medallion_id")?,
            },
        })
    })
    .boxed()
}

/// The lease facts an invoice is checked against and copies.
pub struct LeaseFacts {
    pub id: i64,
    pub lease_id: String,
    pub lease_type: LeaseType,
    pub status: LeaseStatus,
    pub vehicle_id: i64,
    pub vin: String,
    pub medallion_id: i64,
    pub medallion_number: String,
}

pub async fn lease_facts(
    tx: &mut Tx,
    id: Option<i64>,
    business_id: Option<&str>,
) -> Result<Option<LeaseFacts>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT l.id, l.lease_id, l.lease_type, l.status, l.vehicle_id, v.vin, l.medallion_id, m.medallion_number \
         FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id \
         WHERE l.id = $1 OR l.lease_id = $2",
    )
    .bind(id.unwrap_or(-1))
    .bind(business_id.unwrap_or(""))
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(LeaseFacts {
            id: r.try_get("id")?,
            lease_id: r.try_get("lease_id")?,
            lease_type: crate::db::word(&r, "lease_type")?,
            status: crate::db::word(&r, "status")?,
            vehicle_id: r.try_get("vehicle_id")?,
            vin: r.try_get("vin")?,
            medallion_id: r.try_get("medallion_id")?,
            medallion_number: r.try_get("medallion_number")?,
        })
    })
    .transpose()
}

/// (internal id, full name) of a driver by internal id or business id.
pub async fn driver_ref(
    tx: &mut Tx,
    id: Option<i64>,
    business_id: Option<&str>,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, full_name FROM drivers WHERE id = $1 OR driver_id = $2")
        .bind(id.unwrap_or(-1))
        .bind(business_id.unwrap_or(""))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("full_name")?)))
        .transpose()
}

pub async fn vehicle_ref(
    tx: &mut Tx,
    id: Option<i64>,
    vin: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    id_by_id_or_key(
        tx,
        "SELECT id FROM vehicles WHERE id = $1 OR vin = $2",
        id,
        vin,
    )
    .await
}

pub async fn medallion_ref(
    tx: &mut Tx,
    id: Option<i64>,
    number: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    id_by_id_or_key(
        tx,
        "SELECT id FROM medallions WHERE id = $1 OR medallion_number = $2",
        id,
        number,
    )
    .await
}

/// A record's id by its internal id or its (upper-case) business key.
async fn id_by_id_or_key(
    tx: &mut Tx,
    sql: &'static str,
    id: Option<i64>,
    key: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(sql)
        .bind(id.unwrap_or(-1))
        .bind(key.map(|v| v.to_ascii_uppercase()).unwrap_or_default())
        .fetch_optional(&mut **tx)
        .await
}

pub async fn is_driver_manager(
    tx: &mut Tx,
    lease_id: i64,
    driver_id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM lease_drivers WHERE lease_id = $1 AND driver_id = $2 AND is_driver_manager = 1",
    )
    .bind(lease_id)
    .bind(driver_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.is_some())
}

/// What an interim payment on a lease needs to know of it.
#[derive(Debug, Clone)]
pub struct LeasePaymentFacts {
    pub lease_id: String,
    /// Terminated or Expired.
    pub ended: bool,
    pub start_date: chrono::NaiveDate,
    pub driver_id: Option<i64>,
    pub vehicle_id: i64,
    pub medallion_id: i64,
}

pub async fn lease_payment_facts(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<LeasePaymentFacts>, crate::error::AppError> {
    let row = sqlx::query(
        "SELECT l.lease_id, l.status, l.start_date, l.vehicle_id, l.medallion_id, \
         (SELECT ld.driver_id FROM lease_drivers ld WHERE ld.lease_id = l.id AND ld.is_driver_manager = 1) AS driver_id \
         FROM leases l WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let start: String = r.try_get("start_date")?;
    let status: String = r.try_get("status")?;
    Ok(Some(LeasePaymentFacts {
        lease_id: r.try_get("lease_id")?,
        ended: matches!(status.as_str(), "Terminated" | "Expired"),
        start_date: domain::calendar::parse_date(&start)
            .map_err(|e| anyhow::anyhow!("lease {id}: {e}"))?,
        driver_id: r.try_get("driver_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
    }))
}

/// The internal ids of the rows of a fleet table that filter values name, by the one rule
/// for naming them (see [`crate::db::filter::Where::id_or_key_contains`]); `contains` adds
/// a column matched by a part of its text (a driver's name, a VIN).
pub async fn ids_named(
    pool: &AnyPool,
    table: FleetTable,
    values: &[String],
    contains: Option<(&str, &[String])>,
) -> Result<Vec<i64>, sqlx::Error> {
    let (name, key) = match table {
        FleetTable::Drivers => ("drivers", "driver_id"),
        FleetTable::Leases => ("leases", "lease_id"),
        FleetTable::Vehicles => ("vehicles", "vin"),
        FleetTable::Medallions => ("medallions", "medallion_number"),
    };
    let mut filter = crate::db::filter::Where::default();
    filter.id_or_key_contains("id", key, values);
    if let Some((column, parts)) = contains {
        filter.contains_any(column, parts);
    }
    let sql = format!(
        "SELECT id FROM {name} {} ORDER BY id LIMIT {}",
        filter.sql(),
        MAX_NAMED + 1
    );
    crate::db::filter::bind_all_scalar(sqlx::query_scalar(&sql), &filter.args)
        .fetch_all(pool)
        .await
}

/// How many records a filter may name (their ids go into the query of the list).
pub const MAX_NAMED: usize = 1000;

/// [`ids_named`] for a list filter: more than [`MAX_NAMED`] records is refused, naming the
/// filter, so a term like `LS` cannot put every lease id into one query.
pub async fn ids_named_for(
    pool: &AnyPool,
    table: FleetTable,
    values: &[String],
    contains: Option<(&str, &[String])>,
    field: &str,
) -> Result<Vec<i64>, crate::error::AppError> {
    let ids = ids_named(pool, table, values, contains).await?;
    if ids.len() > MAX_NAMED {
        return Err(crate::error::AppError::field(
            field,
            format!("names more than {MAX_NAMED} records; give more of the id or the name"),
        ));
    }
    Ok(ids)
}

#[derive(Debug, Clone, Copy)]
pub enum FleetTable {
    Drivers,
    Leases,
    Vehicles,
    Medallions,
}

/// What a ledger row shows of its lease: the lease id, the driver manager's name and the
/// medallion number, by internal lease id.
pub async fn lease_labels(
    pool: &AnyPool,
    leases: &[i64],
) -> Result<std::collections::HashMap<i64, (String, Option<String>, String)>, sqlx::Error> {
    if leases.is_empty() {
        return Ok(Default::default());
    }
    sqlx::query(&format!(
        "SELECT l.id, l.lease_id, m.medallion_number, \
         (SELECT d.full_name FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id \
          WHERE ld.lease_id = l.id AND ld.is_driver_manager = 1) AS driver_name \
         FROM leases l JOIN medallions m ON m.id = l.medallion_id WHERE l.id IN ({})",
        crate::db::id_list(leases)
    ))
    .persistent(false)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            (
                r.try_get("lease_id")?,
                r.try_get("driver_name")?,
                r.try_get("medallion_number")?,
            ),
        ))
    })
    .collect()
}

/// Takes the money lock of these leases (PostgreSQL; SQLite's one writer already
/// serialises): every action that moves a lease's money locks its lease row first, in id
/// order, before any invoice, posting, balance, installment or statement of it. Two such
/// actions on one lease then take turns instead of deadlocking (ARCHITECTURE.md, "Lock
/// order"). `FOR NO KEY UPDATE` leaves inserts that merely reference the lease alone.
pub async fn lock_leases(tx: &mut Tx, ids: &[i64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() || crate::db::backend_of(tx) != crate::db::Backend::Postgres {
        return Ok(());
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sqlx::query(&format!(
        "SELECT id FROM leases WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
        crate::db::id_list(&sorted)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    Ok(())
}

// Changes to fleet records (`fleet::edit`).

/// A driver's phone, e-mail and status.
pub async fn driver_contact(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<(Option<String>, Option<String>, String)>, sqlx::Error> {
    sqlx::query("SELECT phone, email, status FROM drivers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| {
            Ok((
                r.try_get("phone")?,
                r.try_get("email")?,
                r.try_get("status")?,
            ))
        })
        .transpose()
}

pub async fn set_driver_contact(
    tx: &mut Tx,
    id: i64,
    (phone, email, status): &(Option<String>, Option<String>, String),
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE drivers SET phone = $1, email = $2, status = $3 WHERE id = $4")
        .bind(phone)
        .bind(email)
        .bind(status)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A vehicle's plate (`None`: no such vehicle; `Some(None)`: no plate).
pub async fn vehicle_plate(tx: &mut Tx, id: i64) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar("SELECT plate_number FROM vehicles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn set_vehicle_plate(
    tx: &mut Tx,
    id: i64,
    plate: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE vehicles SET plate_number = $1 WHERE id = $2")
        .bind(plate)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A lease's status, its row locked for the change (the lock order's first step).
pub async fn lock_lease_status(tx: &mut Tx, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT status FROM leases WHERE id = $1{}",
        crate::db::lock_rows(tx)
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Is there a driver with this internal id (its id again, inside the change's transaction)?
pub async fn driver_id_in(tx: &mut Tx, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM drivers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// A driver by driver id (`DRV-…`) or TLC license.
pub async fn driver_by_id_or_tlc(tx: &mut Tx, key: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM drivers WHERE driver_id = $1 OR tlc_license_no = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
}

/// The driver manager of a lease.
pub async fn lease_manager(tx: &mut Tx, lease_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT driver_id FROM lease_drivers WHERE lease_id = $1 AND is_driver_manager = 1",
    )
    .bind(lease_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Puts `drivers` in place of a lease's additional drivers; returns those it had.
pub async fn replace_additional_drivers(
    tx: &mut Tx,
    lease_id: i64,
    drivers: &[i64],
    now: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let before: Vec<i64> = sqlx::query_scalar(
        "SELECT driver_id FROM lease_drivers WHERE lease_id = $1 AND is_driver_manager = 0 ORDER BY id",
    )
    .bind(lease_id)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM lease_drivers WHERE lease_id = $1 AND is_driver_manager = 0")
        .bind(lease_id)
        .execute(&mut **tx)
        .await?;
    for id in drivers {
        sqlx::query(
            "INSERT INTO lease_drivers (lease_id, driver_id, is_driver_manager, is_additional_driver, created_on) \
             VALUES ($1, $2, 0, 1, $3)",
        )
        .bind(lease_id)
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(before)
}

/// Which of `values` a record already holds in the unique column `field` (`tlc_license_no`,
/// `vin`, `medallion_number`): one keyed read per thousand, for an import's check.
pub async fn taken_values(
    tx: &mut Tx,
    field: &str,
    values: &[&str],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let table = match field {
        "tlc_license_no" => "drivers",
        "vin" => "vehicles",
        "medallion_number" => "medallions",
        _ => return Ok(Default::default()),
    };
    let mut taken = std::collections::HashSet::new();
    for chunk in values.chunks(1000) {
        let listed = crate::db::text_list(chunk);
        let found: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT {field} FROM {table} WHERE {field} IN ({listed})"
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?;
        taken.extend(found);
    }
    Ok(taken)
}

/// A medallion's status follows its leases: `Assigned` while a lease on it is open (In
/// Progress, Active or Suspended), `Available` once none is. A `Retired` medallion stays so.
pub async fn medallion_follows_leases(tx: &mut Tx, medallion_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE medallions SET status = CASE WHEN EXISTS (SELECT 1 FROM leases l WHERE l.medallion_id = medallions.id \
         AND l.status IN ('In Progress', 'Active', 'Suspended')) THEN 'Assigned' ELSE 'Available' END \
         WHERE id = $1 AND status <> 'Retired'",
    )
    .bind(medallion_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
