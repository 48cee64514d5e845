//! Fleet master data (§3) and the validation that turns request input into records.

use chrono::NaiveDate;
use domain::calendar::parse_date;
use domain::money::Money;
use domain::status::{DriverStatus, LeaseStatus, LeaseType, MedallionStatus, PayTo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Driver {
    pub id: i64,
    pub driver_id: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub full_name: String,
    pub tlc_license_no: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = String)]
    pub status: domain::status::DriverStatus,
    pub pay_to: String,
    pub created_on: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DriverInput {
    /// Business id; generated (`DRV-000001`) when omitted.
    pub driver_id: Option<String>,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub tlc_license_no: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `In Progress`, `Registered`, `Active` (default) or `Inactive`.
    pub status: Option<String>,
    /// `ACH` (default) or `Check`.
    pub pay_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Medallion {
    pub id: i64,
    pub medallion_number: String,
    #[schema(value_type = String)]
    pub status: domain::status::MedallionStatus,
    pub created_on: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MedallionInput {
    pub medallion_number: String,
    /// `Available` (default), `Assigned` or `Retired`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Vehicle {
    pub id: i64,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i64,
    pub plate_number: Option<String>,
    pub created_on: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VehicleInput {
    pub vin: String,
    pub make: String,
    pub model: String,
    /// A whole number; `2024.0` is the same number and is taken.
    #[serde(deserialize_with = "whole_number")]
    pub year: i64,
    pub plate_number: Option<String>,
}

/// A JSON number that is whole, however it is written (`2024`, `2024.0`, `2.024e3`): JSON
/// (and the API document) make no difference between them.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    let text = number.to_string();
    if let Ok(whole) = text.parse::<i64>() {
        return Ok(whole);
    }
    match text.parse::<f64>() {
        Ok(value) if value.fract() == 0.0 && value.abs() < 1e15 => Ok(value as i64),
        _ => Err(serde::de::Error::custom(format!(
            "{text} is not a whole number"
        ))),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaseDriver {
    pub driver_id: i64,
    pub driver_business_id: String,
    pub full_name: String,
    pub tlc_license_no: String,
    pub is_driver_manager: bool,
    pub is_additional_driver: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lease {
    pub id: i64,
    pub lease_id: String,
    /// Stored word: dov, long-term, short-term, shift-lease, medallion-only.
    pub lease_type: String,
    pub lease_type_label: String,
    #[schema(value_type = String)]
    pub status: domain::status::LeaseStatus,
    #[schema(value_type = String, example = "450.00")]
    pub weekly_rate: Money,
    pub vehicle_id: i64,
    pub vin: String,
    pub plate_number: Option<String>,
    pub medallion_id: i64,
    pub medallion_number: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub drivers: Vec<LeaseDriver>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LeaseDriverInput {
    /// Internal driver id.
    pub driver_id: i64,
    #[serde(default)]
    pub is_driver_manager: bool,
    #[serde(default)]
    pub is_additional_driver: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LeaseInput {
    /// Business id; generated (`LS-000001`) when omitted.
    pub lease_id: Option<String>,
    pub lease_type: String,
    /// Default `Active`.
    pub status: Option<String>,
    #[schema(value_type = String, example = "450.00")]
    pub weekly_rate: serde_json::Value,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub start_date: String,
    pub end_date: Option<String>,
    pub drivers: Vec<LeaseDriverInput>,
}

/// A driver, vehicle or medallion named in a body: its internal id (a number) or its
/// business id (text: the driver id, the VIN, the medallion number).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Named {
    Id(i64),
    Key(String),
}

impl Named {
    /// (internal id, business id) for the repo's lookups: digits in text are the id too.
    pub fn parts(&self) -> (Option<i64>, Option<String>) {
        match self {
            Named::Id(id) => (Some(*id), None),
            Named::Key(text) => {
                let text = text.trim();
                match text.parse::<i64>() {
                    Ok(id) => (Some(id), None),
                    Err(_) => (None, Some(text.to_string())),
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Named::Id(id) => format!("with id {id}"),
            Named::Key(key) => key.trim().to_string(),
        }
    }
}

/// `POST /fleet/leases` as sent: the vehicle, medallion and drivers by internal id or
/// business id; the route resolves them to a [`LeaseInput`].
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LeaseRequest {
    /// Business id; generated (`LS-000001`) when omitted.
    pub lease_id: Option<String>,
    pub lease_type: String,
    /// Default `Active`.
    pub status: Option<String>,
    #[schema(value_type = String, example = "450.00")]
    pub weekly_rate: serde_json::Value,
    /// The vehicle's internal id or its VIN.
    pub vehicle_id: Named,
    /// The medallion's internal id or its number.
    pub medallion_id: Named,
    pub start_date: String,
    pub end_date: Option<String>,
    pub drivers: Vec<LeaseDriverRequest>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LeaseDriverRequest {
    /// The driver's internal id or driver id (`DRV-000001`).
    pub driver_id: Named,
    #[serde(default)]
    pub is_driver_manager: bool,
    #[serde(default)]
    pub is_additional_driver: bool,
}

/// A driver that passed validation.
#[derive(Debug, Clone)]
pub struct NewDriver {
    pub driver_id: Option<String>,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub tlc_license_no: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: DriverStatus,
    pub pay_to: PayTo,
}

impl NewDriver {
    pub fn full_name(&self) -> String {
        [
            Some(self.first_name.as_str()),
            self.middle_name.as_deref(),
            Some(self.last_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct NewVehicle {
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i64,
    pub plate_number: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewMedallion {
    pub medallion_number: String,
    pub status: MedallionStatus,
}

#[derive(Debug, Clone)]
pub struct NewLease {
    pub lease_id: Option<String>,
    pub lease_type: LeaseType,
    pub status: LeaseStatus,
    pub weekly_rate: Money,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub drivers: Vec<LeaseDriverInput>,
}

/// A plate as stored: upper case, at most 12 letters, digits, spaces or dashes; blank is
/// none. The same rule for a new vehicle, a changed plate and an imported one.
pub fn normalize_plate(raw: &str) -> Result<Option<String>, &'static str> {
    let plate = raw.trim().to_ascii_uppercase();
    if plate.is_empty() {
        return Ok(None);
    }
    if plate.chars().count() > 12
        || !plate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
    {
        return Err("must be at most 12 letters, digits, spaces or dashes");
    }
    Ok(Some(plate))
}

fn clean(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(value: &str, field: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    v.to_string()
}

fn word<T: Copy>(
    value: Option<&String>,
    field: &str,
    default: T,
    parse: fn(&str) -> Option<T>,
    allowed: Vec<&'static str>,
    errors: &mut Vec<FieldError>,
) -> T {
    // Left out: the default. Given, it must be one of the words (blank is a mistake).
    match value.map(|v| v.trim().to_string()) {
        None => default,
        Some(v) => parse(&v).unwrap_or_else(|| {
            errors.push(FieldError::new(
                field,
                format!("'{v}' is not one of: {}", allowed.join(", ")),
            ));
            default
        }),
    }
}

/// TLC driver licenses are numeric (typically 6–8 digits); we accept 5–10 to cover older ones.
pub fn normalize_tlc_license(value: &str) -> Result<String, &'static str> {
    let v = value.trim();
    if (5..=10).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err("must be 5 to 10 digits")
    }
}

/// A VIN is 17 characters of digits and capital letters other than I, O and Q.
pub fn normalize_vin(value: &str) -> Result<String, &'static str> {
    let v = value.trim().to_ascii_uppercase();
    if v.len() == 17
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() && !matches!(c, 'I' | 'O' | 'Q'))
    {
        Ok(v)
    } else {
        Err("must be 17 letters and digits (no I, O or Q)")
    }
}

/// NYC medallion numbers look like `1P23` or `5X67`: a digit, a letter, two digits.
pub fn normalize_medallion_number(value: &str) -> Result<String, &'static str> {
    let v = value.trim().to_ascii_uppercase();
    if (2..=8).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(v)
    } else {
        Err("must be 2 to 8 letters and digits, such as 1P23")
    }
}

impl DriverInput {
    pub fn validate(&self) -> Result<NewDriver, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first_name = required(&self.first_name, "first_name", 100, &mut errors);
        let last_name = required(&self.last_name, "last_name", 100, &mut errors);
        let tlc_license_no = normalize_tlc_license(&self.tlc_license_no).unwrap_or_else(|m| {
            errors.push(FieldError::new("tlc_license_no", m));
            String::new()
        });
        // The same rules as a change of them (`fleet::edit`), and the API document's.
        let mut contact =
            |field: &str,
             value: Option<&String>,
             rule: fn(&str) -> Result<Option<String>, &'static str>| {
                value.and_then(|v| {
                    rule(v)
                        .map_err(|m| errors.push(FieldError::new(field, m)))
                        .ok()
                        .flatten()
                })
            };
        let phone = contact("phone", self.phone.as_ref(), domain::input::phone);
        let email = contact("email", self.email.as_ref(), domain::input::email);
        let status = word(
            self.status.as_ref(),
            "status",
            DriverStatus::Active,
            DriverStatus::parse,
            DriverStatus::all_words(),
            &mut errors,
        );
        let pay_to = word(
            self.pay_to.as_ref(),
            "pay_to",
            PayTo::Ach,
            PayTo::parse,
            PayTo::all_words(),
            &mut errors,
        );
        let driver_id = clean(self.driver_id.as_ref());
        if let Some(id) = &driver_id {
            if id.len() > 40 {
                errors.push(FieldError::new(
                    "driver_id",
                    "must be at most 40 characters",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewDriver {
            driver_id,
            first_name,
            middle_name: clean(self.middle_name.as_ref()),
            last_name,
            tlc_license_no,
            phone,
            email,
            status,
            pay_to,
        })
    }
}

impl VehicleInput {
    pub fn validate(&self, this_year: i32) -> Result<NewVehicle, Vec<FieldError>> {
        let mut errors = Vec::new();
        let vin = normalize_vin(&self.vin).unwrap_or_else(|m| {
            errors.push(FieldError::new("vin", m));
            String::new()
        });
        let make = required(&self.make, "make", 60, &mut errors);
        let model = required(&self.model, "model", 60, &mut errors);
        if !(1980..=i64::from(this_year) + 2).contains(&self.year) {
            errors.push(FieldError::new(
                "year",
                format!("must be from 1980 to {}", this_year + 2),
            ));
        }
        let plate_number = normalize_plate(self.plate_number.as_deref().unwrap_or_default())
            .unwrap_or_else(|m| {
                errors.push(FieldError::new("plate_number", m));
                None
            });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewVehicle {
            vin,
            make,
            model,
            year: self.year,
            plate_number,
        })
    }
}

impl MedallionInput {
    pub fn validate(&self) -> Result<NewMedallion, Vec<FieldError>> {
        let mut errors = Vec::new();
        let medallion_number =
            normalize_medallion_number(&self.medallion_number).unwrap_or_else(|m| {
                errors.push(FieldError::new("medallion_number", m));
                String::new()
            });
        let status = word(
            self.status.as_ref(),
            "status",
            MedallionStatus::Available,
            MedallionStatus::parse,
            MedallionStatus::all_words(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewMedallion {
            medallion_number,
            status,
        })
    }
}

impl LeaseInput {
    pub fn validate(&self) -> Result<NewLease, Vec<FieldError>> {
        let mut errors = Vec::new();
        let lease_type = LeaseType::parse(self.lease_type.trim()).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "lease_type",
                format!(
                    "'{}' is not one of: {}",
                    self.lease_type,
                    LeaseType::all_words().join(", ")
                ),
            ));
            LeaseType::LongTerm
        });
        let status = word(
            self.status.as_ref(),
            "status",
            LeaseStatus::Active,
            LeaseStatus::parse,
            LeaseStatus::all_words(),
            &mut errors,
        );
        let weekly_rate = Money::amount_from_json(&self.weekly_rate).unwrap_or_else(|e| {
            errors.push(FieldError::new("weekly_rate", e.to_string()));
            Money::ZERO
        });
        let start_date = parse_date(&self.start_date).unwrap_or_else(|e| {
            errors.push(FieldError::new("start_date", e.to_string()));
            NaiveDate::MIN
        });
        // Left out: an open-ended lease. Given, it must be a date.
        let end_date = match self.end_date.as_deref().map(str::trim) {
            None => None,
            Some(text) => match parse_date(text) {
                Ok(d) if d >= start_date => Some(d),
                Ok(_) => {
                    errors.push(FieldError::new("end_date", "must not be before start_date"));
                    None
                }
                Err(e) => {
                    errors.push(FieldError::new("end_date", e.to_string()));
                    None
                }
            },
        };
        let managers = self.drivers.iter().filter(|d| d.is_driver_manager).count();
        if managers != 1 {
            errors.push(FieldError::new(
                "drivers",
                format!("a lease needs exactly one driver manager (is_driver_manager: true); found {managers}"),
            ));
        }
        if self
            .drivers
            .iter()
            .any(|d| d.is_driver_manager && d.is_additional_driver)
        {
            errors.push(FieldError::new(
                "drivers",
                "a driver is either the driver manager or an additional driver, not both",
            ));
        }
        let mut ids: Vec<i64> = self.drivers.iter().map(|d| d.driver_id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            errors.push(FieldError::new("drivers", "a driver is listed twice"));
        }
        let lease_id = clean(self.lease_id.as_ref());
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewLease {
            lease_id,
            lease_type,
            status,
            weekly_rate,
            vehicle_id: self.vehicle_id,
            medallion_id: self.medallion_id,
            start_date,
            end_date,
            drivers: self
                .drivers
                .iter()
                .map(|d| LeaseDriverInput {
                    driver_id: d.driver_id,
                    is_driver_manager: d.is_driver_manager,
                    is_additional_driver: !d.is_driver_manager,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vin_rules() {
        assert_eq!(
            normalize_vin(" 1hgcm82633a004352 ").unwrap(),
            "1HGCM82633A004352"
        );
        assert!(normalize_vin("1HGCM82633A00435").is_err());
        assert!(normalize_vin("1HGCM82633A00435O").is_err());
    }

    #[test]
    fn driver_validation_names_every_bad_field() {
        let input = DriverInput {
            first_name: " ".into(),
            last_name: "Doe".into(),
            tlc_license_no: "12ab".into(),
            status: Some("Retired".into()),
            ..Default::default()
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["first_name", "tlc_license_no", "status"]);
    }

    #[test]
    fn lease_needs_exactly_one_manager() {
        let input = LeaseInput {
            lease_id: None,
            lease_type: "dov".into(),
            status: None,
            weekly_rate: serde_json::json!("450.00"),
            vehicle_id: 1,
            medallion_id: 1,
            start_date: "2026-01-04".into(),
            end_date: None,
            drivers: vec![LeaseDriverInput {
                driver_id: 1,
                is_driver_manager: false,
                is_additional_driver: true,
            }],
        };
        let errors = input.validate().unwrap_err();
        assert_eq!(errors[0].field, "drivers");
    }
}
