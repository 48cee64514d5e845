//! DTR generation for one week, set-based in chunks of leases: apply each lease's earnings
//! for the week by the payment hierarchy, then write one statement per lease (replacing a
//! `Draft`, never touching a `Finalized` one). Each chunk is one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use domain::calendar::SundayDate;
use domain::ledger::{allocate, Allocation, Category, OpenBalance};
use domain::money::Money;
use domain::status::LeaseType;
use sqlx::Row;

use super::model::{CategoryLine, DtrContent, GenerationReport, Party, RepairLine};
use crate::db::{id_list, timestamp, Backend, Db, Tx};
use crate::error::AppError;
use crate::ledger::payments::apply_allocations;
use crate::repairs::model::Settlement;

const CHUNK: usize = 1000;
/// How many times a chunk is worked out again after a concurrent payment or void.
const CHUNK_ATTEMPTS: u32 = 5;

/// Generates (or regenerates) the DTRs of the week starting `week` for every active lease
/// and every lease with earnings that week. The week's earnings pay the lease's open
/// balances that fell due by the week's Saturday (`week` + 6) — arrears from earlier weeks
/// included, in hierarchy order, oldest due first within a category — and nothing due
/// later: the installment posted on the Sunday the chain runs is next week's.
pub async fn generate(
    db: &Db,
    week: SundayDate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<GenerationReport, AppError> {
    generate_until_stopped(db, week, actor, now, &crate::stop::StopFlag::default()).await
}

/// [`generate`], stopping between chunks once `stop` is raised (its run was taken over).
#[tracing::instrument(skip_all, fields(week = %week))]
pub async fn generate_until_stopped(
    db: &Db,
    week: SundayDate,
    actor: &str,
    now: DateTime<Utc>,
    stop: &crate::stop::StopFlag,
) -> Result<GenerationReport, AppError> {
    let week_text = week.to_string();
    if db.backend() == Backend::Postgres {
        // The posting step has just added hundreds of thousands of rows; autovacuum would
        // refresh the planner's statistics only minutes later. Without them PostgreSQL
        // plans this step's lookups as if the ledger were still small (scans per chunk).
        sqlx::query(
            "ANALYZE ledger_postings, ledger_balances, ledger_allocations, repair_installments",
        )
        .execute(db.reader())
        .await?;
    }
    // Every active lease, every lease with earnings that week, and a lease that ended in
    // the week (its final statement, earnings or not).
    let leases: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM leases WHERE status = 'Active' \
         UNION SELECT lease_id FROM ledger_postings WHERE entry_type = 'EARNINGS' AND status = 'POSTED' AND payment_period = $1 AND lease_id IS NOT NULL \
         UNION SELECT id FROM leases WHERE status IN ('Terminated', 'Expired') AND end_date >= $1 AND end_date <= $2 \
         ORDER BY 1",
    )
    .bind(&week_text)
    .bind(week.week_end().to_string())
    .fetch_all(db.reader())
    .await?;
    let mut report = GenerationReport {
        week_start: week_text.clone(),
        leases: leases.len() as i64,
        ..Default::default()
    };
    for chunk in leases.chunks(CHUNK) {
        if stop.is_raised() {
            return Err(AppError::Conflict(
                "stopped: the run was taken over by another worker, which goes on from here".into(),
            ));
        }
        let mut attempt = 1;
        loop {
            let mut tx = db.begin().await?;
            let mut part = GenerationReport::default();
            match generate_chunk(&mut tx, chunk, week, now, &mut part).await {
                Ok(()) => {
                    tx.commit().await?;
                    report.created += part.created;
                    report.replaced += part.replaced;
                    report.skipped_finalized += part.skipped_finalized;
                    report.allocated += part.allocated;
                    break;
                }
                // A payment or void of one of these balances committed while the chunk was
                // being worked out: nothing of it was written; work it out again from the
                // ledger as it is now.
                Err(AppError::Conflict(reason)) if attempt < CHUNK_ATTEMPTS => {
                    tx.rollback().await?;
                    tracing::warn!(attempt, %reason, "DTR chunk met a concurrent change; retrying it");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
    tracing::info!(
        leases = report.leases,
        created = report.created,
        replaced = report.replaced,
        "DTRs generated"
    );
    let mut tx = db.begin().await?;
    let entry = crate::audit::Entry::new(actor, "dtrs_generated", "dtr_week", &report.week_start)
        .details(serde_json::to_value(&report).map_err(anyhow::Error::from)?);
    crate::audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(report)
}

/// Makes one lease's statement of `week` again inside the caller's transaction (a draft is
/// replaced, a finalized one kept), e.g. its final one after the lease ended.
pub async fn regenerate_for_lease(
    tx: &mut Tx,
    lease_id: i64,
    week: SundayDate,
    now: DateTime<Utc>,
) -> Result<GenerationReport, AppError> {
    let mut report = GenerationReport {
        week_start: week.to_string(),
        leases: 1,
        ..Default::default()
    };
    generate_chunk(tx, &[lease_id], week, now, &mut report).await?;
    Ok(report)
}

async fn generate_chunk(
    tx: &mut Tx,
    chunk: &[i64],
    week: SundayDate,
    now: DateTime<Utc>,
    report: &mut GenerationReport,
) -> Result<(), AppError> {
    if crate::db::backend_of(tx) == Backend::Postgres {
        // Every statement of a chunk is driven by a thousand keys. Judged by row estimates
        // alone, PostgreSQL scans a whole table (every installment, every balance) rather
        // than probe its index a few thousand times; for this chunk's transaction it probes.
        sqlx::query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), \
             set_config('enable_mergejoin', 'off', true)",
        )
        .execute(&mut **tx)
        .await?;
    }
    let week_text = week.to_string();
    // The statement charges what fell due by its Saturday: the installment (or any balance)
    // posted at 04:30 on the Sunday the chain runs is due that Sunday, next week's charge.
    let week_end = week.week_end().to_string();
    let finalized: HashSet<i64> = sqlx::query_scalar(&format!(
        "SELECT lease_id FROM dtrs WHERE week_start = $1 AND status = 'Finalized' AND lease_id IN ({})",
        id_list(chunk)
    )).persistent(false)
    .bind(&week_text)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let leases: Vec<i64> = chunk
        .iter()
        .copied()
        .filter(|l| !finalized.contains(l))
        .collect();
    report.skipped_finalized += (chunk.len() - leases.len()) as i64;
    if leases.is_empty() {
        return Ok(());
    }
    let ids = id_list(&leases);

    // 1. The week's earnings not yet applied, and the open balances due by the week's end
    //    (arrears from earlier weeks included).
    let earnings = sqlx::query(&format!(
        "SELECT p.id, p.lease_id, -p.amount_cents AS gross, \
         (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a WHERE a.payment_posting_id = p.id AND a.reversed = 0) AS allocated \
         FROM ledger_postings p WHERE p.entry_type = 'EARNINGS' AND p.status = 'POSTED' AND p.payment_period = $1 AND p.lease_id IN ({ids}) ORDER BY p.id"
    )).persistent(false)
    .bind(&week_text)
    .fetch_all(&mut **tx)
    .await?;
    let mut open: HashMap<i64, Vec<OpenBalance>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT id, lease_id, category, due_date, balance_cents FROM ledger_balances WHERE status = 'OPEN' AND due_date <= $1 AND lease_id IN ({ids})"
    )).persistent(false)
    .bind(&week_end)
    .fetch_all(&mut **tx)
    .await?
    {
        let category: String = r.try_get("category")?;
        let due: String = r.try_get("due_date")?;
        let (Some(category), Ok(due_date)) = (Category::parse(&category), domain::calendar::parse_date(&due)) else { continue };
        open.entry(r.try_get("lease_id")?).or_default().push(OpenBalance {
            id: r.try_get("id")?,
            category,
            due_date,
            balance: Money::from_cents(r.try_get("balance_cents")?),
        });
    }
    // 2. The hierarchy, in memory; then all allocations written at once.
    let mut payments: Vec<(i64, Vec<Allocation>)> = Vec::new();
    for r in &earnings {
        let posting: i64 = r.try_get("id")?;
        let lease: i64 = r.try_get("lease_id")?;
        let unapplied =
            Money::from_cents(r.try_get::<i64, _>("gross")? - r.try_get::<i64, _>("allocated")?);
        let Some(balances) = open.get_mut(&lease) else {
            continue;
        };
        if !unapplied.is_positive() {
            continue;
        }
        let result = allocate(unapplied, balances);
        for a in &result.allocations {
            if let Some(b) = balances.iter_mut().find(|b| b.id == a.balance_id) {
                b.balance -= a.amount;
            }
        }
        report.allocated += result.allocated;
        payments.push((posting, result.allocations));
    }
    let now_text = timestamp(now);
    apply_allocations(tx, &payments, &now_text).await?;

    // 3. What the statements show.
    let mut parties: HashMap<i64, Party> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT l.id, l.lease_id, l.lease_type, v.vin, v.plate_number, v.make, v.model, v.year, m.medallion_number, \
         d.id AS driver_pk, d.driver_id, d.full_name, d.tlc_license_no \
         FROM leases l JOIN vehicles v ON v.id = l.vehicle_id JOIN medallions m ON m.id = l.medallion_id \
         LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 LEFT JOIN drivers d ON d.id = ld.driver_id \
         WHERE l.id IN ({ids})"
    )).persistent(false)
    .fetch_all(&mut **tx)
    .await?
    {
        let lease_type: String = r.try_get("lease_type")?;
        parties.insert(
            r.try_get("id")?,
            Party {
                driver_id: r.try_get("driver_pk")?,
                driver_business_id: r.try_get("driver_id")?,
                driver_name: r.try_get("full_name")?,
                tlc_license_no: r.try_get("tlc_license_no")?,
                lease_id: r.try_get("id")?,
                lease_business_id: r.try_get("lease_id")?,
                lease_type: LeaseType::parse(&lease_type).map(|t| t.label().to_string()).unwrap_or(lease_type),
                vin: r.try_get("vin")?,
                plate_number: r.try_get("plate_number")?,
                vehicle: format!("{} {} {}", r.try_get::<i64, _>("year")?, r.try_get::<String, _>("make")?, r.try_get::<String, _>("model")?),
                medallion_number: r.try_get("medallion_number")?,
            },
        );
    }
    let mut gross: HashMap<i64, i64> = HashMap::new();
    for r in &earnings {
        *gross.entry(r.try_get("lease_id")?).or_default() += r.try_get::<i64, _>("gross")?;
    }
    // What the week's earnings paid (this run's allocations and any earlier run's), by key:
    // the allocations of these payments, then the balances they went to.
    let lease_of_payment: HashMap<i64, i64> = earnings
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("lease_id")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut deducted: HashMap<(i64, String), i64> = HashMap::new();
    let mut paid_this_week: HashMap<String, i64> = HashMap::new();
    if !lease_of_payment.is_empty() {
        let payment_ids: Vec<i64> = lease_of_payment.keys().copied().collect();
        let allocations: Vec<(i64, i64, i64)> = sqlx::query(&format!(
            "SELECT payment_posting_id, balance_id, amount_cents FROM ledger_allocations WHERE payment_posting_id IN ({}) AND reversed = 0",
            id_list(&payment_ids)
        )).persistent(false)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("payment_posting_id")?, r.try_get("balance_id")?, r.try_get("amount_cents")?)))
        .collect::<Result<_, sqlx::Error>>()?;
        let mut balance_ids: Vec<i64> = allocations.iter().map(|(_, b, _)| *b).collect();
        balance_ids.sort_unstable();
        balance_ids.dedup();
        let mut balances: HashMap<i64, (String, String)> = HashMap::new();
        for ids in balance_ids.chunks(5000) {
            for r in sqlx::query(&format!(
                "SELECT id, category, reference_id FROM ledger_balances WHERE id IN ({})",
                id_list(ids)
            ))
            .persistent(false)
            .fetch_all(&mut **tx)
            .await?
            {
                balances.insert(
                    r.try_get("id")?,
                    (r.try_get("category")?, r.try_get("reference_id")?),
                );
            }
        }
        for (payment, balance, cents) in allocations {
            let (Some(lease), Some((category, reference))) =
                (lease_of_payment.get(&payment), balances.get(&balance))
            else {
                continue;
            };
            *deducted.entry((*lease, category.clone())).or_default() += cents;
            if category == Category::Repair.as_str() {
                *paid_this_week.entry(reference.clone()).or_default() += cents;
            }
        }
    }
    let mut outstanding: HashMap<(i64, String), i64> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT lease_id, category, CAST(SUM(balance_cents) AS BIGINT) AS open FROM ledger_balances \
         WHERE status = 'OPEN' AND due_date <= $1 AND lease_id IN ({ids}) GROUP BY lease_id, category"
    )).persistent(false)
    .bind(&week_end)
    .fetch_all(&mut **tx)
    .await?
    {
        outstanding.insert((r.try_get("lease_id")?, r.try_get("category")?), r.try_get("open")?);
    }
    // The repairs section: installments due this week, earlier ones still open, and earlier
    // ones this week's earnings finished paying; never a later week's.
    let mut repairs: BTreeMap<i64, Vec<RepairLine>> = BTreeMap::new();
    for line in crate::repairs::repo::statement_lines(tx, &leases, week, &paid_this_week).await? {
        let installment =
            Settlement::of_installment(line.amount_cents, line.paid_cents, &line.status);
        let invoice = Settlement::of_invoice(
            line.invoice_total_cents,
            line.invoice_paid_cents,
            &line.invoice_status,
        );
        repairs.entry(line.lease_id).or_default().push(RepairLine {
            repair_id: line.repair_id,
            paid_this_week: Money::from_cents(
                paid_this_week
                    .get(&line.installment_id)
                    .copied()
                    .unwrap_or_default(),
            ),
            installment_id: line.installment_id,
            invoice_number: line.invoice_number,
            due_date: line.week_start,
            amount_due: Money::from_cents(line.amount_cents),
            paid: installment.paid,
            remaining: installment.remaining,
            status: line.status,
            invoice_balance_remaining: invoice.remaining,
        });
    }

    // 4. Write: replace drafts, add the rest with numbers from one block.
    let existing: HashMap<i64, i64> = sqlx::query(&format!(
        "SELECT lease_id, id FROM dtrs WHERE week_start = $1 AND lease_id IN ({ids})"
    ))
    .persistent(false)
    .bind(&week_text)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("lease_id")?, r.try_get("id")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let categories: Vec<Category> = Category::ALL
        .iter()
        .copied()
        .filter(|c| c.is_obligation())
        .collect();
    let mut rows = Vec::with_capacity(leases.len());
    for lease in &leases {
        let Some(party) = parties.remove(lease) else {
            continue;
        };
        let lines: Vec<CategoryLine> = categories
            .iter()
            .map(|c| CategoryLine {
                category: c.as_str().to_string(),
                deducted: Money::from_cents(
                    deducted
                        .get(&(*lease, c.as_str().to_string()))
                        .copied()
                        .unwrap_or_default(),
                ),
                outstanding: Money::from_cents(
                    outstanding
                        .get(&(*lease, c.as_str().to_string()))
                        .copied()
                        .unwrap_or_default(),
                ),
            })
            .collect();
        let total_deducted: Money = lines.iter().map(|l| l.deducted).sum();
        let gross_earnings = Money::from_cents(gross.get(lease).copied().unwrap_or_default());
        let content = DtrContent {
            week_start: week_text.clone(),
            week_end: week.week_end().to_string(),
            party,
            gross_earnings,
            net_pay: gross_earnings - total_deducted,
            balances_carried_forward: lines.iter().map(|l| l.outstanding).sum(),
            categories: lines,
            total_deducted,
            repairs: repairs.remove(lease).unwrap_or_default(),
        };
        rows.push((*lease, content));
    }
    let new_count = rows
        .iter()
        .filter(|(l, _)| !existing.contains_key(l))
        .count() as i64;
    let year = week.week_end().year();
    let mut next_number = if new_count > 0 {
        reserve_numbers(tx, &format!("dtr:{year}"), new_count).await?
    } else {
        0
    };
    // New statements in multi-row INSERTs ($1 week, $2 time; 8 parameters a row after that).
    let mut fresh = Vec::new();
    for (lease, content) in &rows {
        let json = serde_json::to_string(content).map_err(anyhow::Error::from)?;
        let driver_id = content.party.driver_id;
        if let Some(id) = existing.get(lease) {
            sqlx::query(
                "UPDATE dtrs SET driver_id = $1, gross_earnings_cents = $2, total_deducted_cents = $3, net_pay_cents = $4, content = $5, \
                 generated_on = $6 WHERE id = $7 AND status = 'Draft'",
            )
            .bind(driver_id)
            .bind(content.gross_earnings.cents())
            .bind(content.total_deducted.cents())
            .bind(content.net_pay.cents())
            .bind(&json)
            .bind(&now_text)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            report.replaced += 1;
        } else {
            fresh.push((
                domain::ids::dtr_number(year, next_number),
                *lease,
                driver_id,
                content,
                json,
            ));
            next_number += 1;
        }
    }
    for batch in fresh.chunks(crate::db::rows_per_statement(crate::db::backend_of(tx), 8)) {
        let values: Vec<String> = (0..batch.len())
            .map(|n| {
                let b = 2 + n * 8;
                format!(
                    "(${}, ${}, ${}, $1, ${}, 'Draft', ${}, ${}, ${}, ${}, $2)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO dtrs (dtr_number, lease_id, driver_id, week_start, week_end, status, gross_earnings_cents, total_deducted_cents, \
             net_pay_cents, content, generated_on) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(&week_text).bind(&now_text);
        for (number, lease, driver_id, content, json) in batch {
            query = query
                .bind(number)
                .bind(*lease)
                .bind(*driver_id)
                .bind(&content.week_end)
                .bind(content.gross_earnings.cents())
                .bind(content.total_deducted.cents())
                .bind(content.net_pay.cents())
                .bind(json);
        }
        query.execute(&mut **tx).await?;
        report.created += batch.len() as i64;
    }
    Ok(())
}

/// Reserves `count` consecutive numbers of a counter; returns the first.
async fn reserve_numbers(tx: &mut Tx, name: &str, count: i64) -> Result<i64, sqlx::Error> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO id_sequences (name, last_value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET last_value = id_sequences.last_value + $2 RETURNING last_value",
    )
    .bind(name)
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    Ok(last - count + 1)
}

/// Finalizes a draft (finance); a finalized DTR is never changed again.
pub async fn finalize(
    tx: &mut Tx,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM dtrs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match status.as_deref() {
        None => return Err(AppError::NotFound(format!("no DTR {id}"))),
        Some("Finalized") => {
            return Err(AppError::Conflict(format!("DTR {id} is already finalized")))
        }
        _ => {}
    }
    let now_text = timestamp(now);
    sqlx::query("UPDATE dtrs SET status = 'Finalized', finalized_by = $1, finalized_on = $2 WHERE id = $3 AND status = 'Draft'")
        .bind(actor)
        .bind(&now_text)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let id_text = id.to_string();
    crate::audit::record(
        tx,
        crate::audit::Entry::new(actor, "dtr_finalized", "dtr", &id_text),
        now,
    )
    .await?;
    Ok(())
}
