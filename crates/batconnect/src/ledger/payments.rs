//! Money coming in: weekly earnings (applied by the payment hierarchy at DTR time),
//! interim payments (applied to the balances the user names), and the bookkeeping shared by
//! both: allocations, balance updates, and repair installments/invoices that pay off.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::calendar::SundayDate;
use domain::ledger::{allocate_chosen, Allocation, Category, OpenBalance};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::model::entry_type;
use super::repo::{self, PostingRow};
use crate::audit;
use crate::db::{id_list, next_sequence, text_list, timestamp, Tx};
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
    pub earnings: Vec<EarningsInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EarningsRecorded {
    pub lease_id: i64,
    pub period: String,
    pub posting_id: i64,
    #[schema(value_type = String)]
    pub amount: Money,
}

/// Lease facts a payment posting carries.
struct LeaseParties {
    driver_id: Option<i64>,
    vehicle_id: i64,
    medallion_id: i64,
}

async fn lease_parties(tx: &mut Tx, lease_id: i64) -> Result<Option<LeaseParties>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT l.vehicle_id, l.medallion_id, ld.driver_id FROM leases l \
         LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 WHERE l.id = $1",
    )
    .bind(lease_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(LeaseParties {
            driver_id: r.try_get("driver_id")?,
            vehicle_id: r.try_get("vehicle_id")?,
            medallion_id: r.try_get("medallion_id")?,
        })
    })
    .transpose()
}

fn already_recorded(lease_id: i64, period: SundayDate) -> AppError {
    AppError::Conflict(format!(
        "earnings for lease {lease_id} and week {period} are already recorded; void that posting to replace it"
    ))
}

/// Records weekly earnings as credit postings, one per lease and week. A second submission
/// for a lease and week is refused (409) while the first stands; void it to correct it.
/// All rows or none. Allocation happens when the week's DTRs are generated.
pub async fn record_earnings(
    tx: &mut Tx,
    rows: &[EarningsInput],
    actor: &str,
    now: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<Vec<EarningsRecorded>, AppError> {
    let current_week = domain::calendar::current_payment_period(now, timezone);
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
        // A week without earnings has no row: a 0.00 credit would only block the week's
        // real amount (one earnings credit per lease and week).
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
            parsed.push((i, row.lease_id, period, amount));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Set-based from here: the leases' parties and the weeks already recorded in a few
    // keyed reads, then the postings in multi-row inserts (a 10,000-row file is a handful
    // of statements, not 20,000).
    let mut lease_ids: Vec<i64> = parsed.iter().map(|(_, l, _, _)| *l).collect();
    lease_ids.sort_unstable();
    lease_ids.dedup();
    let weeks: HashSet<String> = parsed.iter().map(|(_, _, p, _)| p.to_string()).collect();
    let weeks = text_list(&weeks.into_iter().collect::<Vec<_>>());
    let mut parties: HashMap<i64, LeaseParties> = HashMap::new();
    let mut recorded_weeks: HashSet<(i64, String)> = HashSet::new();
    for chunk in lease_ids.chunks(1000) {
        let list = id_list(chunk);
        for r in sqlx::query(&format!(
            "SELECT l.id, l.vehicle_id, l.medallion_id, ld.driver_id FROM leases l \
             LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 WHERE l.id IN ({list})"
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            parties.insert(
                r.try_get("id")?,
                LeaseParties {
                    driver_id: r.try_get("driver_id")?,
                    vehicle_id: r.try_get("vehicle_id")?,
                    medallion_id: r.try_get("medallion_id")?,
                },
            );
        }
        for r in sqlx::query(&format!(
            "SELECT lease_id, payment_period FROM ledger_postings \
             WHERE entry_type = 'EARNINGS' AND status = 'POSTED' AND lease_id IN ({list}) AND payment_period IN ({weeks})"
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            recorded_weeks.insert((r.try_get("lease_id")?, r.try_get("payment_period")?));
        }
    }
    for (i, lease_id, _, _) in &parsed {
        let at = |field: &str| format!("/earnings/{i}/{field}");
        match (parties.get(lease_id), rows[*i].driver_id) {
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
    if let Some((_, lease_id, period, _)) = parsed
        .iter()
        .find(|(_, l, p, _)| recorded_weeks.contains(&(*l, p.to_string())))
    {
        return Err(already_recorded(*lease_id, *period));
    }
    let now_text = timestamp(now);
    let mut recorded = Vec::with_capacity(parsed.len());
    for batch in parsed.chunks(crate::db::rows_per_statement(crate::db::backend_of(tx), 10)) {
        let values: Vec<String> = (0..batch.len())
            .map(|n| {
                let marks: Vec<String> = (1..=10).map(|k| format!("${}", n * 10 + k)).collect();
                format!(
                    "('Earnings', {}, 'EARNINGS', 'POSTED', {})",
                    marks[0],
                    marks[1..].join(", ")
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, \
             vehicle_id, medallion_id, payment_period, description, created_by, created_on) VALUES {} \
             RETURNING id, lease_id, payment_period",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (_, lease_id, period, amount) in batch {
            let party = parties
                .get(lease_id)
                .ok_or_else(|| anyhow::anyhow!("lease {lease_id} vanished during the request"))?;
            query = query
                .bind(-amount.cents())
                .bind(format!("EARN-{lease_id}-{period}"))
                .bind(party.driver_id)
                .bind(*lease_id)
                .bind(party.vehicle_id)
                .bind(party.medallion_id)
                .bind(period.to_string())
                .bind(format!("Weekly earnings {period} – {}", period.week_end()))
                .bind(actor)
                .bind(&now_text);
        }
        let inserted = match query.fetch_all(&mut **tx).await {
            Ok(rows) => rows,
            // Another request recorded one of these weeks after the check above.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(AppError::Conflict(
                    "earnings for one of these leases and weeks were recorded meanwhile; void that posting to replace it".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let ids: HashMap<(i64, String), i64> = inserted
            .iter()
            .map(|r| {
                Ok((
                    (r.try_get("lease_id")?, r.try_get("payment_period")?),
                    r.try_get("id")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        for (_, lease_id, period, amount) in batch {
            let posting_id = ids
                .get(&(*lease_id, period.to_string()))
                .copied()
                .ok_or_else(|| {
                    anyhow::anyhow!("no posting returned for lease {lease_id}, week {period}")
                })?;
            recorded.push(EarningsRecorded {
                lease_id: *lease_id,
                period: period.to_string(),
                posting_id,
                amount: *amount,
            });
        }
    }
    let entry = audit::Entry::new(actor, "earnings_recorded", "ledger_posting", "bulk")
        .details(serde_json::json!({ "rows": recorded.len() }));
    audit::record(tx, entry, now).await?;
    Ok(recorded)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChosenBalance {
    pub balance_id: i64,
    #[schema(value_type = String, example = "100.00")]
    pub amount: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct InterimPaymentRequest {
    /// Internal lease id.
    pub lease_id: i64,
    #[schema(value_type = String, example = "150.00")]
    pub amount: serde_json::Value,
    /// The receipt handed to the driver; generated (`IP-0000001`) when omitted.
    pub receipt_number: Option<String>,
    /// cash, check, card, ach…
    pub payment_method: Option<String>,
    pub note: Option<String>,
    /// The balances to pay and how much of each (must add up to `amount`).
    pub allocations: Vec<ChosenBalance>,
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterimPaymentOutcome {
    pub posting_id: i64,
    pub receipt_number: String,
    #[schema(value_type = String)]
    pub amount: Money,
    pub allocations: Vec<AllocationView>,
}

/// The lease's open balances as the allocation rules see them, locked on PostgreSQL so
/// that a void or another payment of the same balance waits for this transaction (and the
/// amounts checked are the amounts written).
pub async fn open_balances(
    tx: &mut Tx,
    lease_id: i64,
) -> Result<Vec<(OpenBalance, String)>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT id, category, reference_id, due_date, balance_cents FROM ledger_balances \
         WHERE lease_id = $1 AND status = 'OPEN' ORDER BY id{}",
        crate::db::lock_rows(tx)
    ))
    .bind(lease_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .filter_map(|r| {
            let category: String = r.try_get("category").ok()?;
            let due: String = r.try_get("due_date").ok()?;
            Some(Ok((
                OpenBalance {
                    id: r.try_get("id").ok()?,
                    category: Category::parse(&category)?,
                    due_date: domain::calendar::parse_date(&due).ok()?,
                    balance: Money::from_cents(r.try_get("balance_cents").ok()?),
                },
                r.try_get("reference_id").ok()?,
            )))
        })
        .collect()
}

/// An interim payment applied to the balances the user chose (bypassing the hierarchy).
pub async fn interim_payment(
    tx: &mut Tx,
    request: &InterimPaymentRequest,
    actor: &str,
    now: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<InterimPaymentOutcome, AppError> {
    let amount = Money::amount_from_json(&request.amount)
        .map_err(|e| AppError::field("amount", e.to_string()))?;
    if request.allocations.is_empty() {
        return Err(AppError::field(
            "allocations",
            "name at least one balance to pay",
        ));
    }
    let mut requested = Vec::with_capacity(request.allocations.len());
    for (i, a) in request.allocations.iter().enumerate() {
        let m = Money::amount_from_json(&a.amount).map_err(|e| {
            AppError::Validation(vec![FieldError::at(
                format!("/allocations/{i}/amount"),
                e.to_string(),
            )])
        })?;
        requested.push((a.balance_id, m));
    }
    let parties = lease_parties(tx, request.lease_id).await?.ok_or_else(|| {
        AppError::field("lease_id", format!("no lease with id {}", request.lease_id))
    })?;
    let open = open_balances(tx, request.lease_id).await?;
    let balances: Vec<OpenBalance> = open.iter().map(|(b, _)| b.clone()).collect();
    let result = allocate_chosen(amount, &balances, &requested).map_err(|e| {
        AppError::field(
            "allocations",
            format!("{e} (open balances of lease {} only)", request.lease_id),
        )
    })?;
    let receipt_number = match request
        .receipt_number
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(r) if r.len() <= 64 => r.to_string(),
        Some(_) => {
            return Err(AppError::field(
                "receipt_number",
                "must be at most 64 characters",
            ))
        }
        None => format!("IP-{:07}", next_sequence(tx, "interim_payment").await?),
    };
    let now_text = timestamp(now);
    let description = [
        Some("Interim payment".to_string()),
        request.payment_method.clone(),
        request.note.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" – ");
    let posting_id = repo::insert_posting(
        tx,
        &PostingRow {
            category: Category::InterimPayment.as_str(),
            amount_cents: -amount.cents(),
            entry_type: entry_type::INTERIM_PAYMENT,
            reference_id: &receipt_number,
            reversal_for_id: None,
            driver_id: parties.driver_id,
            lease_id: Some(request.lease_id),
            vehicle_id: Some(parties.vehicle_id),
            medallion_id: Some(parties.medallion_id),
            payment_period: Some(
                domain::calendar::current_payment_period(now, timezone).to_string(),
            ),
            description: Some(&description),
            actor,
            now: &now_text,
        },
    )
    .await
    .map_err(|e| match e {
        // The receipt number is unique among interim payments (an index, so two cashiers
        // typing the same number at once cannot both record it).
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(format!(
            "receipt_number: '{receipt_number}' is already recorded"
        )),
        other => other.into(),
    })?;
    let applied = apply_allocations(tx, &[(posting_id, result.allocations)], &now_text).await?;
    let by_id: HashMap<i64, &(OpenBalance, String)> = open.iter().map(|o| (o.0.id, o)).collect();
    let allocations = applied
        .iter()
        .map(|(balance_id, amount, after)| AllocationView {
            balance_id: *balance_id,
            category: by_id
                .get(balance_id)
                .map(|o| o.0.category.as_str().to_string())
                .unwrap_or_default(),
            reference_id: by_id
                .get(balance_id)
                .map(|o| o.1.clone())
                .unwrap_or_default(),
            amount: *amount,
            balance_after: *after,
        })
        .collect();
    let entry = audit::Entry::new(actor, "interim_payment_recorded", "ledger_posting", &receipt_number)
        .details(serde_json::json!({"posting_id": posting_id, "amount": amount, "lease_id": request.lease_id}));
    audit::record(tx, entry, now).await?;
    Ok(InterimPaymentOutcome {
        posting_id,
        receipt_number,
        amount,
        allocations,
    })
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
    for chunk in all.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(p, a)| format!("({p}, {}, {}, $1, 0)", a.balance_id, a.amount.cents()))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO ledger_allocations (payment_posting_id, balance_id, amount_cents, created_on, reversed) VALUES {}",
            values.join(", ")
        )).persistent(false)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    let changes: Vec<(i64, i64)> = per_balance.into_iter().collect();
    adjust_balances(tx, &changes, now).await?;
    let ids: Vec<i64> = changes.iter().map(|(id, _)| *id).collect();
    let after: HashMap<i64, i64> = sqlx::query(&format!(
        "SELECT id, balance_cents FROM ledger_balances WHERE id IN ({})",
        id_list(&ids)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("balance_cents")?)))
    .collect::<Result<_, sqlx::Error>>()?;
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
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, delta)| format!("({id}, {delta})"))
            .collect();
        // The CHECK constraints (0 <= balance <= original) refuse any over- or under-payment.
        let updated = sqlx::query(&format!(
            "UPDATE ledger_balances SET balance_cents = balance_cents - v.column2, \
             status = CASE WHEN balance_cents - v.column2 = 0 THEN 'CLOSED' ELSE 'OPEN' END, updated_on = $1 \
             FROM (VALUES {}) AS v WHERE ledger_balances.id = v.column1 AND ledger_balances.status <> 'VOIDED'",
            values.join(", ")
        )).persistent(false)
        .bind(now)
        .execute(&mut **tx)
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
        if updated.rows_affected() != chunk.len() as u64 {
            return Err(AppError::Conflict(
                "a balance this payment would pay was voided at the same moment; nothing was recorded: reload the open balances and try again"
                    .into(),
            ));
        }
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        reconcile_repairs(tx, &id_list(&ids), now).await?;
    }
    Ok(())
}

/// Repair installments follow their balances (zero → `Paid`, reopened → `Posted`, with
/// what has been paid of them), invoices follow their installments (what has been paid of
/// them; all paid → `Closed` from `Open` or `Hold`, a `Closed` one reopened → `Open`). A
/// cancelled installment stays cancelled.
///
/// Every statement is driven by a literal key list and looks related rows up in correlated
/// scalar subqueries, which PostgreSQL never turns into joins: the plan is an index probe
/// per key whatever the statistics say. (Right after the Sunday run they lag far behind the
/// tables, and a join here was planned as a scan of every installment for each chunk.)
async fn reconcile_repairs(tx: &mut Tx, balance_ids: &str, now: &str) -> Result<(), sqlx::Error> {
    let installments: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT reference_id FROM ledger_balances WHERE id IN ({balance_ids}) AND category = 'Repair'"
    )).persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    if installments.is_empty() {
        return Ok(());
    }
    // An installment's balance is the one of its Repair obligation (one per installment).
    let obligation = "(SELECT p.id FROM ledger_postings p WHERE p.category = 'Repair' AND p.entry_type = 'OBLIGATION' \
                      AND p.reference_id = repair_installments.installment_id)";
    let mut invoices: Vec<i64> = sqlx::query_scalar(&format!(
        "UPDATE repair_installments SET \
         paid_amount_cents = (SELECT b.original_cents - b.balance_cents FROM ledger_balances b WHERE b.obligation_posting_id = {obligation}), \
         status = CASE WHEN (SELECT b.balance_cents FROM ledger_balances b WHERE b.obligation_posting_id = {obligation}) = 0 \
                  THEN 'Paid' ELSE 'Posted' END \
         WHERE installment_id IN ({}) AND status IN ('Posted', 'Paid') RETURNING invoice_id",
        text_list(&installments)
    )).persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    invoices.sort_unstable();
    invoices.dedup();
    if invoices.is_empty() {
        return Ok(());
    }
    let invoices = id_list(&invoices);
    sqlx::query(&format!(
        "INSERT INTO repair_invoice_paid (invoice_id, paid_cents) \
         SELECT i.invoice_id, CAST(SUM(i.paid_amount_cents) AS BIGINT) FROM repair_installments i \
         WHERE i.invoice_id IN ({invoices}) GROUP BY i.invoice_id \
         ON CONFLICT (invoice_id) DO UPDATE SET paid_cents = excluded.paid_cents"
    ))
    .persistent(false)
    .execute(&mut **tx)
    .await?;
    let unpaid = "(SELECT COUNT(*) FROM repair_installments i WHERE i.invoice_id = repair_invoices.id AND i.status <> 'Paid')";
    // Paid off closes an invoice whatever its state (one on Hold too); a void reopens it.
    for (from, to, condition) in [
        ("'Open', 'Hold'", "Closed", "= 0"),
        ("'Closed'", "Open", "> 0"),
    ] {
        sqlx::query(&format!(
            "UPDATE repair_invoices SET status = '{to}', updated_by = 'ledger', updated_on = $1 \
             WHERE id IN ({invoices}) AND status IN ({from}) AND {unpaid} {condition}"
        ))
        .persistent(false)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Reverses a payment's allocations (voiding it): balances reopen by what it paid.
pub async fn reverse_allocations(
    tx: &mut Tx,
    payment_posting_id: i64,
    now: &str,
) -> Result<Money, AppError> {
    let rows = sqlx::query("SELECT balance_id, amount_cents FROM ledger_allocations WHERE payment_posting_id = $1 AND reversed = 0")
        .bind(payment_posting_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut changes: Vec<(i64, i64)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let balance_id: i64 = r.try_get("balance_id")?;
        let cents: i64 = r.try_get("amount_cents")?;
        changes.push((balance_id, -cents));
    }
    sqlx::query(
        "UPDATE ledger_allocations SET reversed = 1 WHERE payment_posting_id = $1 AND reversed = 0",
    )
    .bind(payment_posting_id)
    .execute(&mut **tx)
    .await?;
    adjust_balances(tx, &changes, now).await?;
    Ok(Money::from_cents(changes.iter().map(|(_, d)| -d).sum()))
}
