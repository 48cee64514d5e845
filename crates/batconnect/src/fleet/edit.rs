//! Changing the fleet records that may change (operations): a driver's contact details and
//! status, a vehicle's plate, a lease's additional drivers. Everything else about a record
//! is its identity (TLC license, VIN, medallion, the lease's terms) and stays as created; a
//! lease ends through the lease-end flow. One transaction and one audit entry per change.

use chrono::{DateTime, Utc};
use domain::status::{DriverStatus, LeaseStatus};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit;
use crate::db::Tx;
use crate::error::{AppError, FieldError};

/// A driver's details that may change. A field left out stays as it is; `phone` or `email`
/// given as `""` is cleared; `null` is refused (leave the field out instead).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DriverUpdate {
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<String>,
    /// `In Progress`, `Registered`, `Active` or `Inactive`.
    #[serde(default, deserialize_with = "present")]
    pub status: Option<String>,
}

/// A vehicle's plate; `""` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VehicleUpdate {
    #[serde(default, deserialize_with = "present")]
    pub plate_number: Option<String>,
}

/// The lease's additional drivers, all of them (the driver manager stays): internal ids
/// (numbers) or driver ids (`DRV-000012`). An empty list removes them all.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LeaseUpdate {
    #[schema(value_type = Vec<crate::fleet::model::Named>)]
    #[serde(default, deserialize_with = "present")]
    pub additional_drivers: Option<Vec<serde_json::Value>>,
}

/// A member of a change that is there must hold a value: `null` would read as "leave it",
/// which a member left out already says (and the API document says it takes no `null`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn nothing_to_change() -> AppError {
    AppError::field("body", "names nothing to change")
}

/// `None`: leave; `Some(None)`: clear; `Some(Some(text))`: set (trimmed).
fn change_of(value: Option<&String>) -> Option<Option<String>> {
    value.map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// Changes a driver's phone, email or status.
pub async fn update_driver(
    tx: &mut Tx,
    id: i64,
    update: &DriverUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    // `Some(None)` clears; lengths count what was sent, blanks too (the API document's rule).
    let mut contact =
        |field: &str,
         value: Option<&String>,
         rule: fn(&str) -> Result<Option<String>, &'static str>| {
            value.and_then(|v| {
                rule(v)
                    .map_err(|m| errors.push(FieldError::new(field, m)))
                    .ok()
            })
        };
    let phone = contact("phone", update.phone.as_ref(), domain::input::phone);
    let email = contact("email", update.email.as_ref(), domain::input::email);
    let status = match update.status.as_deref().map(str::trim) {
        None => None,
        Some(word) => match DriverStatus::parse(word) {
            Some(s) => Some(s),
            None => {
                errors.push(FieldError::new(
                    "status",
                    format!(
                        "'{word}' is not one of: {}",
                        DriverStatus::all_words().join(", ")
                    ),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if phone.is_none() && email.is_none() && status.is_none() {
        return Err(nothing_to_change());
    }
    let before = super::repo::driver_contact(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no driver with id {id}")))?;
    let after = (
        phone.clone().unwrap_or(before.0.clone()),
        email.clone().unwrap_or(before.1.clone()),
        status.map_or(before.2.clone(), |s| s.as_str().to_string()),
    );
    super::repo::set_driver_contact(tx, id, &after).await?;
    let id_text = id.to_string();
    let entry =
        audit::Entry::new(actor, "driver_updated", "driver", &id_text).details(serde_json::json!({
            "before": {"phone": before.0, "email": before.1, "status": before.2},
            "after": {"phone": after.0, "email": after.1, "status": after.2},
        }));
    audit::record(tx, entry, now).await?;
    Ok(())
}

/// Changes (or clears) a vehicle's plate.
pub async fn update_vehicle(
    tx: &mut Tx,
    id: i64,
    update: &VehicleUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(plate) = change_of(update.plate_number.as_ref()) else {
        return Err(nothing_to_change());
    };
    let plate = super::model::normalize_plate(plate.as_deref().unwrap_or_default())
        .map_err(|m| AppError::field("plate_number", m))?;
    let before = super::repo::vehicle_plate(tx, id).await?;
    let Some(before) = before else {
        return Err(AppError::NotFound(format!("no vehicle with id {id}")));
    };
    super::repo::set_vehicle_plate(tx, id, plate.as_deref()).await?;
    let id_text = id.to_string();
    let entry = audit::Entry::new(actor, "vehicle_updated", "vehicle", &id_text)
        .details(serde_json::json!({"plate_number": {"before": before, "after": plate}}));
    audit::record(tx, entry, now).await?;
    Ok(())
}

/// Replaces a lease's additional drivers. An ended lease does not change.
pub async fn update_lease(
    tx: &mut Tx,
    lease_id: i64,
    update: &LeaseUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(named) = &update.additional_drivers else {
        return Err(nothing_to_change());
    };
    if named.len() > 10 {
        return Err(AppError::field(
            "additional_drivers",
            "give at most 10 drivers",
        ));
    }
    let status = super::repo::lock_lease_status(tx, lease_id).await?;
    let Some(status) = status else {
        return Err(AppError::NotFound(format!("no lease with id {lease_id}")));
    };
    if matches!(
        LeaseStatus::parse(&status),
        Some(LeaseStatus::Terminated | LeaseStatus::Expired | LeaseStatus::Cancelled)
    ) {
        return Err(AppError::Conflict(format!(
            "the lease is {status}: an ended lease's drivers do not change"
        )));
    }
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    for (i, value) in named.iter().enumerate() {
        let pointer = format!("/additional_drivers/{i}");
        let found: Option<i64> = match value {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(id) => super::repo::driver_id_in(tx, id).await?,
                None => None,
            },
            serde_json::Value::String(s) if !s.trim().is_empty() && s.trim().len() <= 40 => {
                super::repo::driver_by_id_or_tlc(tx, s.trim()).await?
            }
            _ => None,
        };
        match found {
            Some(id) if ids.contains(&id) => errors.push(FieldError {
                field: "additional_drivers".into(),
                pointer: Some(pointer),
                message: "names the same driver twice".into(),
            }),
            Some(id) => ids.push(id),
            None => errors.push(FieldError {
                field: "additional_drivers".into(),
                pointer: Some(pointer),
                message: format!("no driver {value}"),
            }),
        }
    }
    let manager = super::repo::lease_manager(tx, lease_id).await?;
    if manager.is_some_and(|m| ids.contains(&m)) {
        errors.push(FieldError::new(
            "additional_drivers",
            "the driver manager is not an additional driver",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let before =
        super::repo::replace_additional_drivers(tx, lease_id, &ids, &crate::db::timestamp(now))
            .await?;
    let id_text = lease_id.to_string();
    let entry = audit::Entry::new(actor, "lease_drivers_changed", "lease", &id_text)
        .details(serde_json::json!({"additional_drivers": {"before": before, "after": ids}}));
    audit::record(tx, entry, now).await?;
    Ok(())
}
