//! CSV import of fleet data: every row is validated first and bad rows are reported by
//! line number; then all rows are written in one transaction, or none.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::Db;
use crate::error::AppError;
use crate::fleet::model::{
    normalize_medallion_number, normalize_vin, DriverInput, LeaseDriverInput, LeaseInput,
    MedallionInput, VehicleInput,
};
use crate::fleet::{repo, service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Entity {
    Drivers,
    Vehicles,
    Medallions,
    Leases,
    /// Weekly earnings: `lease_id` (internal id or business id), `period` (the week's
    /// Sunday), `amount`.
    Earnings,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("{} bad row(s); nothing was imported:\n{}", .0.len(), .0.join("\n"))]
    BadRows(Vec<String>),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A lease row: references by business keys, since internal ids differ between systems.
#[derive(Debug, Deserialize)]
struct LeaseRow {
    lease_id: Option<String>,
    lease_type: String,
    status: Option<String>,
    weekly_rate: String,
    vin: String,
    medallion_number: String,
    start_date: String,
    end_date: Option<String>,
    driver_manager_tlc: String,
    /// TLC licenses separated by `;`.
    additional_driver_tlcs: Option<String>,
}

/// A CSV row: its line number and the record or why it could not be read.
type Row<T> = (usize, Result<T, String>);

fn read_rows_from<T: DeserializeOwned>(
    source: impl std::io::Read,
) -> Result<Vec<Row<T>>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(source);
    let mut rows = Vec::new();
    for (index, record) in reader.deserialize::<T>().enumerate() {
        // Line 1 is the header.
        rows.push((index + 2, record.map_err(|e| e.to_string())));
    }
    Ok(rows)
}

/// One message per problem, each starting with its line number.
fn describe(line: usize, error: &AppError) -> Vec<String> {
    match error {
        AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("line {line}: {}: {}", f.field, f.message))
            .collect(),
        other => vec![format!("line {line}: {other}")],
    }
}

pub async fn run(
    db: &Db,
    entity: Entity,
    path: &Path,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
) -> Result<usize, ImportError> {
    let source = std::fs::read(path)
        .map_err(|e| ImportError::Read(path.display().to_string(), e.to_string()))?;
    run_csv(db, entity, &source, actor, now, timezone).await
}

/// [`run`] on the bytes of a CSV file (the console's uploads).
pub async fn run_csv(
    db: &Db,
    entity: Entity,
    source: &[u8],
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
) -> Result<usize, ImportError> {
    match entity {
        Entity::Drivers => {
            import_simple::<DriverInput>(
                db,
                source,
                actor,
                now,
                |i| i.validate().map(|d| ("tlc_license_no", d.tlc_license_no)),
                |tx, i, a, n| {
                    Box::pin(async move { service::create_driver(tx, i, a, n).await.map(|_| ()) })
                },
            )
            .await
        }
        Entity::Vehicles => {
            import_simple::<VehicleInput>(
                db,
                source,
                actor,
                now,
                |i| {
                    i.validate(chrono::Datelike::year(&chrono::Utc::now()))
                        .map(|v| ("vin", v.vin))
                },
                |tx, i, a, n| {
                    Box::pin(async move { service::create_vehicle(tx, i, a, n).await.map(|_| ()) })
                },
            )
            .await
        }
        Entity::Medallions => {
            import_simple::<MedallionInput>(
                db,
                source,
                actor,
                now,
                |i| {
                    i.validate()
                        .map(|m| ("medallion_number", m.medallion_number))
                },
                |tx, i, a, n| {
                    Box::pin(
                        async move { service::create_medallion(tx, i, a, n).await.map(|_| ()) },
                    )
                },
            )
            .await
        }
        Entity::Leases => import_leases(db, source, actor, now).await,
        Entity::Earnings => earnings_csv(db, source, actor, now, timezone).await,
    }
}

type Insert<T> = for<'a> fn(
    &'a mut crate::db::Tx,
    &'a T,
    &'a CurrentUser,
    chrono::DateTime<chrono::Utc>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), AppError>> + Send + 'a>,
>;

/// A record's unique value, by the field that holds it (`tlc_license_no`, `vin`, …),
/// normalized as it is stored.
type UniqueKey = (&'static str, String);

/// Drivers, vehicles or medallions: every line is checked before anything is written, and
/// every bad line is reported in one pass — its format, a unique value repeated in the file,
/// or one another record already has.
async fn import_simple<T: DeserializeOwned + Sync>(
    db: &Db,
    source: &[u8],
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
    validate: fn(&T) -> Result<UniqueKey, Vec<crate::error::FieldError>>,
    insert: Insert<T>,
) -> Result<usize, ImportError> {
    let rows = read_rows_from::<T>(source)?;
    let mut problems = Vec::new();
    let mut good = Vec::new();
    let mut first_line_of = std::collections::HashMap::new();
    for (line, row) in rows {
        match row {
            Err(e) => problems.push((line, format!("line {line}: {e}"))),
            Ok(input) => match validate(&input) {
                Err(fields) => problems.extend(
                    describe(line, &AppError::Validation(fields))
                        .into_iter()
                        .map(|p| (line, p)),
                ),
                Ok((field, value)) => match first_line_of.get(&(field, value.clone())) {
                    Some(first) => problems.push((
                        line,
                        format!(
                            "line {line}: {field}: '{value}' is also on line {first}; it is unique"
                        ),
                    )),
                    None => {
                        first_line_of.insert((field, value.clone()), line);
                        good.push((line, (field, value), input));
                    }
                },
            },
        }
    }
    let mut tx = db.begin().await.map_err(anyhow::Error::from)?;
    // One field per kind of record: its values are read together.
    if let Some((_, (field, _), _)) = good.first() {
        let values: Vec<&str> = good.iter().map(|(_, (_, v), _)| v.as_str()).collect();
        let taken = repo::taken_values(&mut tx, field, &values)
            .await
            .map_err(anyhow::Error::from)?;
        for (line, (field, value), _) in &good {
            if taken.contains(value) {
                problems.push((
                    *line,
                    format!("line {line}: {field}: a record with '{value}' already exists"),
                ));
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|(line, _)| *line);
        return Err(ImportError::BadRows(
            problems.into_iter().map(|(_, p)| p).collect(),
        ));
    }
    for (line, _, input) in &good {
        if let Err(e) = insert(&mut tx, input, actor, now).await {
            // Dropping the transaction rolls it back: nothing is written.
            return Err(ImportError::BadRows(describe(*line, &e)));
        }
    }
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(good.len())
}

async fn import_leases(
    db: &Db,
    source: &[u8],
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, ImportError> {
    let rows = read_rows_from::<LeaseRow>(source)?;
    let mut problems = Vec::new();
    let mut tx = db.begin().await.map_err(anyhow::Error::from)?;
    let mut count = 0;
    for (line, row) in rows {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let mut missing = Vec::new();
        let vehicle_id = match normalize_vin(&row.vin) {
            Ok(vin) => repo::vehicle_id_by_vin(&mut tx, &vin)
                .await
                .map_err(anyhow::Error::from)?,
            Err(_) => None,
        };
        if vehicle_id.is_none() {
            missing.push(format!(
                "line {line}: vin: no vehicle with VIN '{}'",
                row.vin
            ));
        }
        let medallion_id = match normalize_medallion_number(&row.medallion_number) {
            Ok(n) => repo::medallion_id_by_number(&mut tx, &n)
                .await
                .map_err(anyhow::Error::from)?,
            Err(_) => None,
        };
        if medallion_id.is_none() {
            missing.push(format!(
                "line {line}: medallion_number: no medallion '{}'",
                row.medallion_number
            ));
        }
        let mut drivers = Vec::new();
        let mut tlcs = vec![(row.driver_manager_tlc.clone(), true)];
        tlcs.extend(
            row.additional_driver_tlcs
                .iter()
                .flat_map(|s| s.split(';'))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), false)),
        );
        for (tlc, manager) in tlcs {
            match repo::driver_id_by_tlc(&mut tx, &tlc)
                .await
                .map_err(anyhow::Error::from)?
            {
                Some(id) => drivers.push(LeaseDriverInput {
                    driver_id: id,
                    is_driver_manager: manager,
                    is_additional_driver: !manager,
                }),
                None => missing.push(format!("line {line}: no driver with TLC license '{tlc}'")),
            }
        }
        if !missing.is_empty() {
            problems.extend(missing);
            continue;
        }
        let input = LeaseInput {
            lease_id: row.lease_id,
            lease_type: row.lease_type,
            status: row.status,
            weekly_rate: serde_json::Value::String(row.weekly_rate),
            vehicle_id: vehicle_id.unwrap_or_default(),
            medallion_id: medallion_id.unwrap_or_default(),
            start_date: row.start_date,
            end_date: row.end_date,
            drivers,
        };
        if let Err(fields) = input.validate() {
            problems.extend(describe(line, &AppError::Validation(fields)));
            continue;
        }
        if problems.is_empty() {
            match service::create_lease(&mut tx, &input, actor, now).await {
                Ok(_) => count += 1,
                // PostgreSQL aborts the transaction on a failed statement; stop here.
                Err(e) => {
                    problems.extend(describe(line, &e));
                    return Err(ImportError::BadRows(problems));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::BadRows(problems));
    }
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(count)
}

#[derive(Debug, Deserialize)]
struct EarningsRow {
    lease_id: String,
    period: String,
    amount: String,
}

/// An earnings CSV (`lease_id,period,amount`), from `import earnings` or the console's
/// upload: every bad line is reported by its number and nothing is written unless every
/// line is good. Returns how many were recorded.
pub async fn earnings_csv(
    db: &Db,
    source: impl std::io::Read,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
) -> Result<usize, ImportError> {
    let mut tx = db.begin().await.map_err(anyhow::Error::from)?;
    let recorded = earnings_csv_in(&mut tx, source, actor, now, timezone).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(recorded)
}

/// [`earnings_csv`] inside the caller's transaction (the caller commits).
pub async fn earnings_csv_in(
    tx: &mut crate::db::Tx,
    source: impl std::io::Read,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
) -> Result<usize, ImportError> {
    let rows = read_rows_from::<EarningsRow>(source)?;
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    let mut lines = Vec::new();
    let mut parsed = Vec::new();
    for (line, row) in rows {
        match row {
            Ok(r) => parsed.push((line, r)),
            Err(e) => problems.push((line, format!("line {line}: {e}"))),
        }
    }
    // The file's leases in one keyed read per thousand (by business id, or internal id).
    let mut keys: Vec<&str> = parsed.iter().map(|(_, r)| r.lease_id.trim()).collect();
    keys.sort_unstable();
    keys.dedup();
    let leases = crate::fleet::repo::lease_keys(tx, &keys)
        .await
        .map_err(anyhow::Error::from)?;
    for (line, row) in parsed {
        // An unknown lease is reported, and its line is still checked for the rest (a
        // placeholder id of its own, so unknown leases never look like one lease twice).
        let lease_id = match leases.get(row.lease_id.trim()) {
            Some(id) => *id,
            None => {
                problems.push((
                    line,
                    format!("line {line}: lease_id: no lease '{}'", row.lease_id),
                ));
                -(line as i64)
            }
        };
        inputs.push(crate::ledger::payments::EarningsInput {
            lease_id,
            driver_id: None,
            period: row.period,
            amount: serde_json::Value::String(row.amount),
        });
        lines.push(line);
    }
    // Row errors point at /earnings/<index>/<field>: translated to file lines.
    let at_lines = |fields: Vec<crate::error::FieldError>| -> Vec<(usize, String)> {
        fields
            .iter()
            .map(|f| {
                let index = f
                    .pointer
                    .as_deref()
                    .and_then(|p| p.split('/').nth(2))
                    .and_then(|i| i.parse::<usize>().ok());
                let line = index.and_then(|i| lines.get(i)).copied().unwrap_or(0);
                (line, format!("line {line}: {}: {}", f.field, f.message))
            })
            .collect()
    };
    let current_week = domain::calendar::current_payment_period(now, timezone);
    let parsed = if inputs.is_empty() {
        Vec::new()
    } else {
        match crate::ledger::payments::parse_earnings(&inputs, current_week) {
            Ok(rows) => rows,
            Err(AppError::Validation(fields)) => {
                problems.extend(at_lines(fields));
                Vec::new()
            }
            Err(other) => return Err(ImportError::BadRows(vec![other.to_string()])),
        }
    };
    if !problems.is_empty() || parsed.is_empty() {
        if problems.is_empty() {
            problems.push((0, "the file has no earnings line".into()));
        }
        // Every bad line in one pass, in file order.
        problems.sort_by_key(|(line, _)| *line);
        return Err(ImportError::BadRows(
            problems.into_iter().map(|(_, p)| p).collect(),
        ));
    }
    match crate::ledger::payments::record_earnings(tx, &parsed, &actor.username, now).await {
        Ok(recorded) => Ok(recorded.len()),
        Err(AppError::Validation(fields)) => Err(ImportError::BadRows(
            at_lines(fields).into_iter().map(|(_, p)| p).collect(),
        )),
        Err(other) => Err(ImportError::BadRows(vec![other.to_string()])),
    }
}
