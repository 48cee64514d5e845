//! Repair business actions: preview and create an invoice with its schedule (one
//! transaction, the caller commits), and the detail view's totals.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use domain::calendar::{current_payment_period, local_date, SundayDate};
use domain::input;
use domain::matrix::{build_schedule, RepaymentMatrix, ScheduledInstallment};
use domain::money::Money;
use domain::status::{InstallmentStatus, InvoiceStatus, LeaseStatus};
use sqlx::AnyPool;

use super::model::{
    week_period, DriverCard, EnterDetails, InvoiceCreated, InvoiceDetail, LeaseCard, Preview,
    Reference, ScheduleLine, Settlement, Totals, VehicleCard,
};
use super::repo::{self, NewInstallmentRow, NewInvoiceRow};
use crate::audit;
use crate::auth::CurrentUser;
use crate::bpm::model::CaseEntity;
use crate::db::{next_sequence, timestamp, Tx};
use crate::error::{AppError, FieldError};
use crate::fleet::repo::{self as fleet_repo, LeaseFacts};

fn split(reference: &Reference) -> (Option<i64>, Option<&str>) {
    match reference {
        Reference::Internal(id) => (Some(*id), None),
        Reference::Business(text) => (None, Some(text.as_str())),
    }
}

fn describe(reference: &Reference) -> String {
    match reference {
        Reference::Internal(id) => id.to_string(),
        Reference::Business(text) => format!("'{text}'"),
    }
}

/// What the checks resolved, ready to be written.
pub struct Checked {
    pub lease: LeaseFacts,
    /// The workshop the invoice is recorded at (held until the invoice is written).
    pub workshop: crate::workshops::model::Workshop,
    pub driver_id: i64,
    pub driver_name: String,
    pub start_week: SundayDate,
    pub schedule: Vec<ScheduledInstallment>,
    pub weekly: Money,
}

/// The settings a repair invoice is checked against.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub matrix: &'a RepaymentMatrix,
    pub max_start_weeks_ahead: u32,
    pub timezone: Tz,
}

impl<'a> Rules<'a> {
    pub fn from_config(config: &'a crate::config::Config) -> Rules<'a> {
        Rules {
            matrix: &config.repayment_matrix,
            max_start_weeks_ahead: config.max_start_weeks_ahead,
            timezone: config.timezone,
        }
    }
}

/// Every business rule of §5.3, without writing anything. Every broken rule is reported
/// at once (a clerk fixes them in one round); a rule that needs a record another rule
/// could not find is skipped. An invoice number already recorded is a 409 on its own, and
/// one more field error among others.
pub async fn check(
    tx: &mut Tx,
    details: &EnterDetails,
    now: DateTime<Utc>,
    rules: Rules<'_>,
) -> Result<Checked, AppError> {
    let timezone = rules.timezone;
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: String| {
        errors.push(FieldError::at(format!("/data/{field}"), message));
    };
    let start_week = match SundayDate::new(details.start_week) {
        Ok(week) => {
            let current = current_payment_period(now, timezone);
            if let Err(e) = input::start_week(week, current, rules.max_start_weeks_ahead) {
                refuse("start_week", e.to_string());
            }
            Some(week)
        }
        Err(e) => {
            refuse("start_week", e.to_string());
            None
        }
    };
    if let Err(e) = input::invoice_date(details.invoice_date, local_date(now, timezone)) {
        refuse("invoice_date", e.to_string());
    }
    let (lease_pk, lease_bid) = split(&details.lease);
    let lease = fleet_repo::lease_facts(tx, lease_pk, lease_bid).await?;
    if lease.is_none() {
        refuse("lease_id", format!("no lease {}", describe(&details.lease)));
    }
    let (driver_pk, driver_bid) = split(&details.driver);
    let driver = fleet_repo::driver_ref(tx, driver_pk, driver_bid).await?;
    if driver.is_none() {
        refuse(
            "driver_id",
            format!("no driver {}", describe(&details.driver)),
        );
    }
    let (vehicle_pk, vin) = split(&details.vehicle);
    let vehicle_id = fleet_repo::vehicle_ref(tx, vehicle_pk, vin).await?;
    if vehicle_id.is_none() {
        refuse(
            "vehicle_id",
            format!("no vehicle {}", describe(&details.vehicle)),
        );
    }
    let (medallion_pk, number) = split(&details.medallion);
    let medallion_id = fleet_repo::medallion_ref(tx, medallion_pk, number).await?;
    if medallion_id.is_none() {
        refuse(
            "medallion_id",
            format!("no medallion {}", describe(&details.medallion)),
        );
    }
    if let Some(lease) = &lease {
        if lease.status != LeaseStatus::Active {
            refuse(
                "lease_id",
                format!(
                    "lease {} is {}; repair invoices can only be recorded against an Active lease",
                    lease.lease_id, lease.status
                ),
            );
        }
        if let Some((driver_id, driver_name)) = &driver {
            if !fleet_repo::is_driver_manager(tx, lease.id, *driver_id).await? {
                refuse(
                    "driver_id",
                    format!(
                        "{driver_name} is not the driver manager of lease {}",
                        lease.lease_id
                    ),
                );
            }
        }
        if vehicle_id.is_some_and(|v| v != lease.vehicle_id) {
            refuse(
                "vehicle_id",
                format!(
                    "the vehicle is not the one on lease {} (VIN {})",
                    lease.lease_id, lease.vin
                ),
            );
        }
        if medallion_id.is_some_and(|m| m != lease.medallion_id) {
            refuse(
                "medallion_id",
                format!(
                    "the medallion is not the one on lease {} ({})",
                    lease.lease_id, lease.medallion_number
                ),
            );
        }
    }
    let workshop = match crate::workshops::service::for_new_invoice(
        tx,
        details.workshop_id,
        details.workshop_type,
    )
    .await?
    {
        Ok(workshop) => Some(workshop),
        Err(problem) => {
            refuse(
                problem
                    .pointer
                    .as_deref()
                    .unwrap_or("/data/workshop_id")
                    .trim_start_matches("/data/"),
                problem.message,
            );
            None
        }
    };
    if let Some(document) = &details.document_id {
        match crate::documents::repo::document_invoice(tx, document).await? {
            None => refuse("document_id", format!("no document {document}")),
            Some(Some(_)) => refuse(
                "document_id",
                format!("document {document} is already attached to an invoice"),
            ),
            Some(None) => {}
        }
    }
    // A total the lines could not make is reported beside the lines already.
    let schedule = start_week
        .filter(|_| details.total_amount.is_positive())
        .and_then(|week| {
            build_schedule(details.total_amount, week, rules.matrix)
                .map_err(|e| refuse("total_amount", e.to_string()))
                .ok()
        });
    let key = input::invoice_number_key(&details.invoice_number);
    let clash = repo::invoice_number_in_use(tx, &key).await?.map(|(existing, number)| {
        format!(
            "'{}' is already recorded as {existing} (invoice number '{number}'; numbers are compared by their letters and digits only, in any case)",
            details.invoice_number
        )
    });
    match (lease, driver, start_week, schedule, workshop, clash) {
        (
            Some(lease),
            Some((driver_id, driver_name)),
            Some(start_week),
            Some(schedule),
            Some(workshop),
            None,
        ) if errors.is_empty() => Ok(Checked {
            lease,
            workshop,
            driver_id,
            driver_name,
            start_week,
            schedule,
            weekly: rules.matrix.weekly_installment(details.total_amount),
        }),
        (.., Some(clash)) if errors.is_empty() => {
            Err(AppError::Conflict(format!("invoice_number: {clash}")))
        }
        (.., clash) => {
            if let Some(clash) = clash {
                errors.push(FieldError::at("/data/invoice_number", clash));
            }
            Err(AppError::Validation(errors))
        }
    }
}

/// Whether `details` describe the invoice a case already created, compared as domain
/// values (a business id and the internal id of one lease agree; so do `baw-1187` and
/// `BAW-1187`, or 100 and "100.00").
async fn same_invoice(
    tx: &mut Tx,
    details: &EnterDetails,
    existing: &repo::ExistingInvoice,
) -> Result<bool, AppError> {
    let (lease_pk, lease_bid) = split(&details.lease);
    let lease = fleet_repo::lease_facts(tx, lease_pk, lease_bid)
        .await?
        .map(|l| l.id);
    let (driver_pk, driver_bid) = split(&details.driver);
    let driver = fleet_repo::driver_ref(tx, driver_pk, driver_bid)
        .await?
        .map(|d| d.0);
    let (vehicle_pk, vin) = split(&details.vehicle);
    let vehicle = fleet_repo::vehicle_ref(tx, vehicle_pk, vin).await?;
    let (medallion_pk, number) = split(&details.medallion);
    let medallion = fleet_repo::medallion_ref(tx, medallion_pk, number).await?;
    Ok(lease == Some(existing.lease_id)
        && driver == Some(existing.driver_id)
        && vehicle == Some(existing.vehicle_id)
        && medallion == Some(existing.medallion_id)
        && details.total_amount.cents() == existing.total_cents
        && input::invoice_number_key(&details.invoice_number)
            == input::invoice_number_key(&existing.invoice_number)
        && details.invoice_date.to_string() == existing.invoice_date
        && details
            .workshop_id
            .is_none_or(|id| id == existing.workshop_id)
        && details
            .workshop_type
            .is_none_or(|t| t == existing.workshop_type)
        && details.tax_rate.thousandths() == existing.tax_rate_thousandths
        && details.lines.len() as i64 == existing.line_count
        && details.start_week.to_string() == existing.start_week
        && details.notes.as_deref().unwrap_or_default()
            == existing.notes.as_deref().unwrap_or_default().trim())
}

pub fn preview(details: &EnterDetails, checked: &Checked) -> Preview {
    Preview {
        preview: true,
        total_amount: details.total_amount,
        weekly_installment: checked.weekly,
        installment_count: checked.schedule.len(),
        start_week: checked.start_week,
        schedule: checked
            .schedule
            .iter()
            .map(|s| ScheduleLine {
                sequence: s.sequence,
                installment_id: None,
                week_start_date: s.week_start.to_string(),
                week_end_date: s.week_end.to_string(),
                installment: s.sequence,
                week_start: s.week_start.to_string(),
                week_end: s.week_end.to_string(),
                week_period: week_period(s.week_start.date(), s.week_end),
                amount: s.amount,
                prior_balance: s.prior_balance,
                balance: s.balance,
            })
            .collect(),
    }
}

/// Creates the invoice (`Draft`), its installments (`Scheduled`), opens it, links it to the
/// case and audits it. A case that already created its invoice gets that invoice back.
pub async fn create_invoice(
    tx: &mut Tx,
    details: &EnterDetails,
    case_no: Option<&str>,
    user: &CurrentUser,
    now: DateTime<Utc>,
    rules: Rules<'_>,
) -> Result<InvoiceCreated, AppError> {
    let timezone = rules.timezone;
    if let Some(case_no) = case_no {
        if let Some(existing) = repo::invoice_of_case(tx, case_no).await? {
            if !same_invoice(tx, details, &existing).await? {
                return Err(AppError::Conflict(format!(
                    "case {case_no} already created invoice {} (invoice number '{}', total {}) from other details; \
                     this submission was not recorded. Start a new case for another invoice.",
                    existing.repair_id,
                    existing.invoice_number,
                    Money::from_cents(existing.total_cents)
                )));
            }
            return Ok(InvoiceCreated {
                repair_id: existing.repair_id,
                invoice_number: existing.invoice_number,
                total_amount: Money::from_cents(existing.total_cents),
                weekly_installment: Money::from_cents(existing.weekly_cents),
                installment_count: existing.installment_count,
                status: existing.status,
                case_no: Some(case_no.to_string()),
                already_created: true,
            });
        }
    }
    let checked = check(tx, details, now, rules).await?;
    let key = input::invoice_number_key(&details.invoice_number);
    let year = local_date(now, timezone).year();
    let seq = next_sequence(tx, &format!("repair:{year}")).await?;
    let repair_id = domain::ids::repair_id(year, seq);
    let now_text = timestamp(now);
    let invoice_id = repo::insert_invoice(
        tx,
        &NewInvoiceRow {
            repair_id: &repair_id,
            invoice_number: &details.invoice_number,
            invoice_number_key: &key,
            invoice_date: details.invoice_date.to_string(),
            driver_id: checked.driver_id,
            driver_name: &checked.driver_name,
            lease: &checked.lease,
            workshop_id: checked.workshop.id,
            workshop_type: checked.workshop.kind.workshop_type(),
            tax_rate: details.tax_rate,
            subtotals: details.subtotals,
            line_count: details.lines.len() as i64,
            notes: details.notes.as_deref(),
            total_cents: details.total_amount.cents(),
            weekly_cents: checked.weekly.cents(),
            start_week: checked.start_week.to_string(),
            status: InvoiceStatus::Draft,
            case_no,
            actor: &user.username,
            now: &now_text,
        },
    )
    .await?;
    let rows: Vec<NewInstallmentRow> = checked
        .schedule
        .iter()
        .map(|s| NewInstallmentRow {
            installment_id: domain::ids::installment_id(&repair_id, s.sequence),
            sequence: i64::from(s.sequence),
            week_start: s.week_start.to_string(),
            week_end: s.week_end.to_string(),
            amount_cents: s.amount.cents(),
        })
        .collect();
    repo::insert_lines(tx, invoice_id, &details.lines).await?;
    repo::insert_installments(
        tx,
        invoice_id,
        &rows,
        InstallmentStatus::Scheduled,
        &now_text,
    )
    .await?;
    // Draft until the whole schedule is written, then Open — all in this one transaction.
    repo::set_invoice_status(
        tx,
        invoice_id,
        InvoiceStatus::Open,
        &user.username,
        &now_text,
    )
    .await?;
    if let Some(case_no) = case_no {
        let entity = CaseEntity {
            entity_name: "repair_invoice".into(),
            identifier: "repair_id".into(),
            identifier_value: repair_id.clone(),
        };
        crate::bpm::repo::add_entity(tx, case_no, &entity, &now_text).await?;
        // The workshop's invoice file uploaded to the case before this step.
        crate::documents::repo::link_case_documents(tx, case_no, invoice_id).await?;
    }
    if let Some(document) = &details.document_id {
        // Checked above; the document may already be this case's, linked just now.
        crate::documents::repo::link_document(tx, document, invoice_id).await?;
    }
    let mut entry = audit::Entry::new(
        &user.username,
        "repair_invoice_created",
        "repair_invoice",
        &repair_id,
    )
    .details(serde_json::json!({
        "invoice_number": details.invoice_number,
        "total_amount": details.total_amount,
        "installments": rows.len(),
        "workshop_id": checked.workshop.id,
        "line_items": details.lines.len(),
    }));
    if let Some(case_no) = case_no {
        entry = entry.case(case_no, None);
    }
    audit::record(tx, entry, now).await?;
    Ok(InvoiceCreated {
        repair_id,
        invoice_number: details.invoice_number.clone(),
        total_amount: details.total_amount,
        weekly_installment: checked.weekly,
        installment_count: rows.len() as i64,
        status: InvoiceStatus::Open,
        case_no: case_no.map(str::to_string),
        already_created: false,
    })
}

pub async fn detail(pool: &AnyPool, repair_id: &str) -> Result<InvoiceDetail, AppError> {
    let parts = repo::invoice_detail(pool, repair_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
    let paid = parts
        .schedule
        .iter()
        .filter(|s| s.status == InstallmentStatus::Paid)
        .count() as i64;
    let settlement =
        Settlement::of_invoice(parts.total_cents, parts.paid_cents, parts.invoice.status);
    let (driver, vehicle, lease) = fleet_cards(pool, &parts).await?;
    let mut parts = parts;
    let workshop = crate::workshops::repo::by_id(pool, parts.invoice.workshop.id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "invoice {} names workshop {}, which does not exist",
                parts.invoice.repair_id,
                parts.invoice.workshop.id
            ))
        })?;
    parts.invoice.workshop.name = workshop.name;
    parts.invoice.workshop.kind = workshop.kind.as_str().to_string();
    Ok(InvoiceDetail {
        invoice_pk: parts.invoice_pk,
        repair_id: parts.invoice.repair_id.clone(),
        totals: Totals {
            repair_amount: Money::from_cents(parts.total_cents),
            total_paid: settlement.paid,
            remaining_balance: settlement.remaining,
            progress: format!("{paid}/{}", parts.schedule.len()),
            installments_paid: paid,
            installments_total: parts.schedule.len() as i64,
        },
        receipt_url: repo::receipt_url(&parts.invoice.repair_id),
        invoice: parts.invoice,
        driver,
        vehicle,
        lease,
        schedule: parts.schedule,
    })
}

/// The driver, vehicle and lease cards of an invoice, read through the fleet's repo.
async fn fleet_cards(
    pool: &AnyPool,
    parts: &repo::DetailParts,
) -> Result<(DriverCard, VehicleCard, LeaseCard), AppError> {
    use crate::fleet::repo as fleet;
    let missing = |what: &str, id: i64| {
        AppError::Internal(anyhow::anyhow!(
            "invoice {} names {what} {id}, which does not exist",
            parts.invoice.repair_id
        ))
    };
    let driver = fleet::driver_by_id(pool, parts.driver_id)
        .await?
        .ok_or_else(|| missing("driver", parts.driver_id))?;
    let vehicle = fleet::vehicle_by_id(pool, parts.vehicle_id)
        .await?
        .ok_or_else(|| missing("vehicle", parts.vehicle_id))?;
    let lease = fleet::lease_by_id(pool, parts.lease_id)
        .await?
        .ok_or_else(|| missing("lease", parts.lease_id))?;
    let medallion = fleet::medallion_by_id(pool, parts.medallion_id)
        .await?
        .ok_or_else(|| missing("medallion", parts.medallion_id))?;
    Ok((
        DriverCard {
            id: driver.id,
            driver_id: driver.driver_id,
            full_name: driver.full_name,
            tlc_license_no: driver.tlc_license_no,
            phone: driver.phone,
            email: driver.email,
        },
        VehicleCard {
            id: vehicle.id,
            vin: vehicle.vin,
            make: vehicle.make,
            model: vehicle.model,
            year: vehicle.year,
            plate_number: vehicle.plate_number,
        },
        LeaseCard {
            id: lease.id,
            lease_id: lease.lease_id,
            lease_type: lease.lease_type,
            lease_type_label: lease.lease_type_label,
            status: lease.status,
            medallion_id: medallion.id,
            medallion_number: medallion.medallion_number,
            weekly_rate: lease.weekly_rate,
        },
    ))
}

pub use super::repo::{HistoryOf, HistoryRow, HistoryTotals};

/// A page of the invoice list for a parsed query (the API's list and the console's).
pub async fn invoices(
    pool: &AnyPool,
    query: &super::query::InvoiceQuery,
) -> Result<(Vec<super::model::InvoiceListItem>, i64), AppError> {
    Ok(repo::list_invoices(pool, query).await?)
}

/// A vehicle's or a driver's repair invoices (the newest 200) with the totals of all of
/// them: the repair history and total repair cost the fleet pages show.
pub async fn repair_history(
    pool: &AnyPool,
    of: HistoryOf,
) -> Result<(Vec<HistoryRow>, HistoryTotals), AppError> {
    Ok(repo::history(pool, of, 200).await?)
}
