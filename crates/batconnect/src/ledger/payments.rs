//! Money coming in: weekly earnings (applied by the payment hierarchy at DTR time),
//! interim payments (applied to the balances the user names), and the bookkeeping shared by
//! both: allocations, balance updates, and repair installments/invoices that pay off.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::calendar::SundayDate;
use domain::ledger::{Allocation, OpenBalance};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo;
use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::{AppError, FieldError};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EarningsInput {
    /// Internal lease id.
    pub lease_id: i64,
    /// Optional check: the lease's driver manager (internal id).
    pub driver_id: Option<i64>,
    /// The week's Sunday (YYYY-MM-DD).
    pub period: String,
    #[schema(value_type = String, example = "812.40")]
    pub amount: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EarningsRequest {
    pub earnings: Vec<EarningsRequestRow>,
}

/// A row of `POST /ledger/earnings`: the lease by its internal id or its lease id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EarningsRequestRow {
    /// The lease's internal id (a number) or its lease id (`LS-01001`).
    #[schema(value_type = crate::fleet::model::Named, example = "LS-01001")]
    pub lease_id: serde_json::Value,
    /// Optional check: the lease's driver manager (internal id).
    pub driver_id: Option<i64>,
    /// The week's Sunday (YYYY-MM-DD).
    pub period: String,
    #[schema(value_type = String, example = "812.40")]
    pub amount: serde_json::Value,
}

/// A lease named in a body by a number (its internal id) or text (its lease id, or the
/// internal id in digits): the text to look up, or why it cannot name one.
pub fn lease_key(value: &serde_json::Value) -> Result<String, &'static str> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .filter(|id| *id > 0)
            .map(|id| id.to_string())
            .ok_or("must be a lease's id (a positive whole number) or its lease id"),
        serde_json::Value::String(text) if !text.trim().is_empty() && text.trim().len() <= 40 => {
            Ok(text.trim().to_string())
        }
        _ => Err("must be a lease's id or its lease id"),
    }
}

/// The request's rows with each lease's internal id, found in one keyed read. A lease that
/// does not exist keeps its number (or 0 for a lease id), so the checks that follow name it
/// with every other bad row; the returned messages say what each such row named.
pub async fn resolve_earnings_leases(
    tx: &mut Tx,
    rows: &[EarningsRequestRow],
) -> Result<(Vec<EarningsInput>, HashMap<usize, String>), AppError> {
    let mut unknown = HashMap::new();
    let keys: Vec<Option<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            lease_key(&row.lease_id)
                .map_err(|m| unknown.insert(i, m.to_string()))
                .ok()
        })
        .collect();
    let mut wanted: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let leases = crate::fleet::repo::lease_keys(tx, &wanted).await?;
    let inputs = rows
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (row, key))| {
            let lease_id = match key.as_deref() {
                Some(key) => match (leases.get(key), key.parse::<i64>()) {
                    (Some(id), _) => *id,
                    (None, Ok(number)) => number,
                    (None, Err(_)) => {
                        unknown.insert(i, format!("no lease {key}"));
                        0
                    }
                },
                None => 0,
            };
            EarningsInput {
                lease_id,
                driver_id: row.driver_id,
                period: row.period.clone(),
                amount: row.amount.clone(),
            }
        })
        .collect();
    Ok((inputs, unknown))
}

/// Puts what a row named in place of "no lease with id 0" (see
/// [`resolve_earnings_leases`]).
pub fn name_unknown_leases(error: AppError, unknown: &HashMap<usize, String>) -> AppError {
    match error {
        AppError::Validation(mut errors) => {
            let mut added = false;
            for (i, message) in unknown {
                let pointer = format!("/earnings/{i}/lease_id");
                match errors
                    .iter_mut()
                    .find(|e| e.pointer.as_deref() == Some(&pointer))
                {
                    Some(e) => e.message = message.clone(),
                    None => {
                        errors.push(FieldError::at(pointer, message.clone()));
                        added = true;
                    }
                }
            }
            if added {
                // In row order, as the checks name them.
                errors.sort_by_key(|e| {
                    e.pointer
                        .as_deref()
                        .and_then(|p| p.split('/').nth(2))
                        .and_then(|n| n.parse::<usize>().ok())
                });
            }
            AppError::Validation(errors)
        }
        other => other,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EarningsRecorded {
    pub lease_id: i64,
    pub period: String,
    pub posting_id: i64,
    #[schema(value_type = String)]
    pub amount: Money,
}

fn already_recorded(lease_id: i64, period: SundayDate) -> AppError {
    AppError::Conflict(format!(
        "earnings for lease {lease_id} and week {period} are already recorded; void that posting to replace it"
    ))
}

/// The whole "record these earnings" action that the API, the console and
/// `import earnings` share: leases found by id or lease id, every row checked (all bad
/// rows named, by their position), then recorded — all rows or none.
pub async fn record_earnings_rows(
    tx: &mut Tx,
    rows: &[EarningsRequestRow],
    actor: &str,
    now: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<Vec<EarningsRecorded>, AppError> {
    let (inputs, unknown) = resolve_earnings_leases(tx, rows).await?;
    let named = |e| name_unknown_leases(e, &unknown);
    let parsed = parse_earnings(
        &inputs,
        domain::calendar::current_payment_period(now, timezone),
    )
    .map_err(named)?;
    record_earnings(tx, &parsed, actor, now)
        .await
        .map_err(named)
}

/// Records weekly earnings as credit postings, one per lease and week. A second submission
/// for a lease and week is refused (409) while the first stands; void it to correct it.
/// All rows or none. Allocation happens when the week's DTRs are generated.
pub async fn record_earnings(
    tx: &mut Tx,
    rows: &[EarningsRow],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<EarningsRecorded>, AppError> {
    // Each statement probes by a batch of keys: the index, never a scan of the ledger.
    crate::db::prefer_index_probes(tx).await?;
    let new = check_earnings_leases(tx, rows).await?;
    let ids = repo::insert_earnings(tx, &new, actor, &timestamp(now))
        .await
        .map_err(|e| match e {
            // Another request recorded one of these weeks after the check.
            sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(
                "earnings for one of these leases and weeks were recorded meanwhile; void that posting to replace it".into(),
            ),
            other => other.into(),
        })?;
    // A lease and week with earnings already: refused, and nothing of the request stays
    // (the caller's transaction is not committed).
    if let Some(row) = new
        .iter()
        .find(|row| !ids.contains_key(&(row.lease_id, row.period.to_string())))
    {
        return Err(already_recorded(row.lease_id, row.period));
    }
    let recorded = new
        .iter()
        .map(|row| {
            let posting_id = ids
                .get(&(row.lease_id, row.period.to_string()))
                .copied()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no posting returned for lease {}, week {}",
                        row.lease_id,
                        row.period
                    )
                })?;
            Ok(EarningsRecorded {
                lease_id: row.lease_id,
                period: row.period.to_string(),
                posting_id,
                amount: row.amount,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let entry = audit::Entry::new(actor, "earnings_recorded", "ledger_posting", "bulk")
        .details(serde_json::json!({ "rows": recorded.len() }));
    audit::record(tx, entry, now).await?;
    Ok(recorded)
}

/// An earnings row that parsed; its position is the request row's.
#[derive(Debug, Clone, Copy)]
pub struct EarningsRow {
    pub lease_id: i64,
    /// The lease's driver manager, when the request names one to check.
    pub driver_id: Option<i64>,
    pub period: SundayDate,
    pub amount: Money,
}

/// Every row's week (one that has begun by `current_week`) and amount (more than zero: a
/// week without earnings has no row, and a 0.00 credit would only block the week's real
/// amount), no lease and week twice; every bad row is named.
pub fn parse_earnings(
    rows: &[EarningsInput],
    current_week: SundayDate,
) -> Result<Vec<EarningsRow>, AppError> {
    if rows.is_empty() || rows.len() > 10_000 {
        return Err(AppError::field("earnings", "give 1 to 10000 rows"));
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let at = |field: &str| format!("/earnings/{i}/{field}");
        let period = SundayDate::parse(row.period.trim())
            .map_err(|e| e.to_string())
            .and_then(|p| domain::input::earnings_period(p, current_week).map(|_| p))
            .map_err(|e| errors.push(FieldError::at(at("period"), e)))
            .ok();
        let amount = Money::amount_from_json(&row.amount)
            .map_err(|e| errors.push(FieldError::at(at("amount"), e.to_string())))
            .ok();
        if let Some(period) = period {
            if !seen.insert((row.lease_id, period)) {
                errors.push(FieldError::at(
                    at("lease_id"),
                    "this lease and week appear twice in the request",
                ));
            }
        }
        if let (Some(period), Some(amount)) = (period, amount) {
            parsed.push(EarningsRow {
                lease_id: row.lease_id,
                driver_id: row.driver_id,
                period,
                amount,
            });
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Every lease exists (and has the driver manager a row names), and no week is recorded
/// already; a few keyed reads for the whole request. Returns the credits to record.
async fn check_earnings_leases(
    tx: &mut Tx,
    rows: &[EarningsRow],
) -> Result<Vec<repo::NewEarnings>, AppError> {
    let mut lease_ids: Vec<i64> = rows.iter().map(|r| r.lease_id).collect();
    lease_ids.sort_unstable();
    lease_ids.dedup();
    let parties = crate::fleet::repo::lease_parties(tx, &lease_ids).await?;
    let mut errors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let lease_id = row.lease_id;
        let at = |field: &str| format!("/earnings/{i}/{field}");
        match (parties.get(&lease_id), row.driver_id) {
            (None, _) => errors.push(FieldError::at(
                at("lease_id"),
                format!("no lease with id {lease_id}"),
            )),
            (Some(p), Some(expected)) if p.driver_id != Some(expected) => {
                errors.push(FieldError::at(
                    at("driver_id"),
                    format!("driver {expected} is not the driver manager of lease {lease_id}"),
                ))
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(repo::NewEarnings {
                lease_id: row.lease_id,
                period: row.period,
                amount: row.amount,
                parties: *parties.get(&row.lease_id)?,
            })
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChosenBalance {
    pub balance_id: i64,
    #[schema(value_type = String, example = "100.00")]
    pub amount: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationView {
    pub balance_id: i64,
    pub category: String,
    pub reference_id: String,
    #[schema(value_type = String)]
    pub amount: Money,
    #[schema(value_type = String)]
    pub balance_after: Money,
}

/// The lease's open balances as the allocation rules see them, locked on PostgreSQL so
/// that a void or another payment of the same balance waits for this transaction (and the
/// amounts checked are the amounts written).
pub async fn open_balances(
    tx: &mut Tx,
    lease_id: i64,
) -> Result<Vec<(OpenBalance, String)>, sqlx::Error> {
    repo::open_balances_of_lease(tx, lease_id).await
}

/// Records allocations of payment postings and lowers the balances they pay; returns
/// (balance id, amount, balance after). Balances reaching zero close; repair installments
/// and invoices follow. Set-based: a few statements whatever the number of allocations.
pub async fn apply_allocations(
    tx: &mut Tx,
    payments: &[(i64, Vec<Allocation>)],
    now: &str,
) -> Result<Vec<(i64, Money, Money)>, AppError> {
    let all: Vec<(i64, &Allocation)> = payments
        .iter()
        .flat_map(|(p, list)| list.iter().map(move |a| (*p, a)))
        .collect();
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let mut per_balance: HashMap<i64, i64> = HashMap::new();
    for (_, a) in &all {
        *per_balance.entry(a.balance_id).or_default() += a.amount.cents();
    }
    let rows: Vec<(i64, i64, i64)> = all
        .iter()
        .map(|(p, a)| (*p, a.balance_id, a.amount.cents()))
        .collect();
    repo::insert_allocations(tx, &rows, now).await?;
    let changes: Vec<(i64, i64)> = per_balance.into_iter().collect();
    adjust_balances(tx, &changes, now).await?;
    let ids: Vec<i64> = changes.iter().map(|(id, _)| *id).collect();
    let after = repo::balances_now(tx, &ids).await?;
    Ok(all
        .iter()
        .map(|(_, a)| {
            (
                a.balance_id,
                a.amount,
                Money::from_cents(after.get(&a.balance_id).copied().unwrap_or_default()),
            )
        })
        .collect())
}

/// Lowers (positive delta) or raises (negative delta) balances by cents, opening or closing
/// them accordingly, then brings repair installments and invoices in line.
///
/// Safe against a concurrent void or payment of the same balances on PostgreSQL: a balance
/// voided meanwhile is not updated (and the whole action is refused with 409), and one paid
/// meanwhile would go below zero, which the balance's CHECK refuses (also 409). Either way
/// the caller's transaction is rolled back, so nothing is half-recorded.
pub async fn adjust_balances(
    tx: &mut Tx,
    changes: &[(i64, i64)],
    now: &str,
) -> Result<(), AppError> {
    for chunk in changes.chunks(1000) {
        // The CHECK constraints (0 <= balance <= original) refuse any over- or under-payment.
        let updated = repo::adjust_balance_rows(tx, chunk, now)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::CheckViolation => {
                    AppError::Conflict(
                        "a balance was paid by another payment at the same moment and has less left than this one would pay; \
                         nothing was recorded: reload the open balances and try again"
                            .into(),
                    )
                }
                other => other.into(),
            })?;
        if updated != chunk.len() as u64 {
            return Err(AppError::Conflict(
                "a balance this payment would pay was voided at the same moment; nothing was recorded: reload the open balances and try again"
                    .into(),
            ));
        }
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        reconcile_repairs(tx, &ids, now).await?;
    }
    Ok(())
}

/// Repair installments follow their balances (zero → `Paid`, reopened → `Posted`, with
/// what has been paid of them) and invoices their installments: the ledger reads what its
/// Repair balances stand at, repairs bring their records in line.
async fn reconcile_repairs(tx: &mut Tx, balance_ids: &[i64], now: &str) -> Result<(), sqlx::Error> {
    let settlements = repo::repair_settlements(tx, balance_ids).await?;
    crate::repairs::repo::follow_ledger(tx, &settlements, now).await
}

/// Reverses a payment's allocations (voiding it): balances reopen by what it paid.
pub async fn reverse_allocations(
    tx: &mut Tx,
    payment_posting_id: i64,
    now: &str,
) -> Result<Money, AppError> {
    let changes: Vec<(i64, i64)> = repo::live_allocations_of(tx, &[payment_posting_id])
        .await?
        .into_iter()
        .map(|(_, balance_id, amount)| (balance_id, -amount.cents()))
        .collect();
    repo::mark_allocations_reversed(tx, payment_posting_id).await?;
    adjust_balances(tx, &changes, now).await?;
    Ok(Money::from_cents(changes.iter().map(|(_, d)| -d).sum()))
}
