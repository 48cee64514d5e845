//! DTR generation for one week, set-based in chunks of leases, each chunk one transaction
//! in four named steps: leave out the leases whose statement is finalized
//! ([`skip_finalized`]); apply each lease's earnings of the week to what fell due by its
//! Saturday, by the payment hierarchy ([`apply_week_earnings`]); work out what each
//! statement shows ([`statement_contents`]); write them, replacing a `Draft`
//! ([`write_statements`]). Every read and write goes through the owning feature's
//! repository, a batch of keys at a time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Utc};
use domain::calendar::SundayDate;
use domain::ledger::{allocate, Allocation, Category};
use domain::money::Money;
use domain::status::LeaseType;

use super::model::{AdjustmentLine, CategoryLine, DtrContent, GenerationReport, Party, RepairLine};
use super::repo;
use crate::db::{timestamp, Db, Tx};
use crate::error::AppError;
use crate::ledger::repo::WeekEarnings;
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

/// This job's step of the Sunday chain: the statements of the week that ended the day
/// before the run (Sunday–Saturday).
pub const STEP: crate::jobs::registry::ChainStep = crate::jobs::registry::ChainStep {
    name: crate::jobs::model::GENERATE_DTRS,
    run: |run| {
        Box::pin(async move {
            let week = SundayDate::containing(run.as_of).previous();
            generate_until_stopped(&run.ctx.db, week, run.actor, run.ctx.clock.now(), run.stop)
                .await
                .map(crate::jobs::registry::counts)
        })
    },
};

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
    // The posting step has just added hundreds of thousands of rows.
    crate::db::refresh_statistics(
        db,
        &[
            "ledger_postings",
            "ledger_balances",
            "ledger_allocations",
            "repair_installments",
        ],
    )
    .await?;
    // Every active lease, a lease that ended in the week (its final statement, earnings or
    // not), and every lease with earnings that week.
    let mut leases = crate::fleet::repo::statement_leases(db.reader(), week).await?;
    leases.extend(crate::ledger::repo::leases_with_earnings(db.reader(), &week_text).await?);
    leases.sort_unstable();
    leases.dedup();
    let mut report = GenerationReport {
        week_start: week_text.clone(),
        leases: leases.len() as i64,
        ..Default::default()
    };
    // The statements and their allocations grow from nothing as the run goes: PostgreSQL's
    // statistics are refreshed each time they have doubled, so every chunk's look-ups keep
    // probing by key (a planner that still thinks `dtrs` empty may walk all of the week's
    // statements for each chunk, and the run grows with the square of the fleet).
    let mut refresh_at = 1;
    for (done, chunk) in leases.chunks(CHUNK).enumerate() {
        if done == refresh_at {
            crate::db::refresh_statistics(db, &["dtrs", "ledger_allocations"]).await?;
            refresh_at *= 2;
        }
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
    crate::db::prefer_index_probes(tx).await?;
    // Lock order: the leases first, so a payment, void, finalize or lease end of one of
    // them waits for the chunk (or the chunk for it) instead of deadlocking.
    crate::fleet::repo::lock_leases(tx, chunk).await?;
    let leases = skip_finalized(tx, chunk, week, report).await?;
    if leases.is_empty() {
        return Ok(());
    }
    let previous_credit = repo::draft_credit_applied(tx, &week.to_string(), &leases).await?;
    let (earnings, mut credit_applied) =
        apply_week_earnings(tx, &leases, week, now, report).await?;
    for (lease, credit) in previous_credit {
        *credit_applied.entry(lease).or_default() += credit;
    }
    let contents = statement_contents(tx, &leases, week, &earnings, &credit_applied).await?;
    write_statements(tx, week, &contents, now, report).await
}

/// The leases of the chunk whose statement of `week` may still be (re)written.
async fn skip_finalized(
    tx: &mut Tx,
    chunk: &[i64],
    week: SundayDate,
    report: &mut GenerationReport,
) -> Result<Vec<i64>, AppError> {
    let finalized = repo::finalized_leases(tx, &week.to_string(), chunk).await?;
    report.skipped_finalized += finalized.len() as i64;
    Ok(chunk
        .iter()
        .copied()
        .filter(|l| !finalized.contains(l))
        .collect())
}

/// Applies each lease's unapplied credit (oldest first), then what is left of its earnings
/// of `week`, to its open balances that fell due by the week's Saturday (arrears from
/// earlier weeks included), in the payment hierarchy; returns the week's earnings credits
/// and the credit applied by lease. The balance posted on the Sunday the chain runs is due
/// that Sunday: next week's statement's.
async fn apply_week_earnings(
    tx: &mut Tx,
    leases: &[i64],
    week: SundayDate,
    now: DateTime<Utc>,
    report: &mut GenerationReport,
) -> Result<(Vec<WeekEarnings>, HashMap<i64, Money>), AppError> {
    let earnings = crate::ledger::repo::week_earnings(tx, &week.to_string(), leases).await?;
    let mut open = crate::ledger::repo::open_balances_due_by(tx, leases, week.week_end()).await?;
    let mut payments: Vec<(i64, Vec<Allocation>)> = Vec::new();
    let mut credit_applied: HashMap<i64, Money> = HashMap::new();
    // A payment pays a balance once (one allocation row per pair): a balance the credit
    // already paid and that reopened since is left to the week's earnings.
    let crate::ledger::repo::UnappliedCredits {
        credits,
        paid: already,
    } = crate::ledger::repo::unapplied_credits(tx, leases).await?;
    for (posting, lease, left) in credits {
        let Some(balances) = open.get_mut(&lease) else {
            continue;
        };
        let payable: Vec<_> = balances
            .iter()
            .filter(|b| !already.contains(&(posting, b.id)))
            .cloned()
            .collect();
        let result = allocate(left, &payable);
        for a in &result.allocations {
            if let Some(b) = balances.iter_mut().find(|b| b.id == a.balance_id) {
                b.balance -= a.amount;
            }
        }
        if result.allocated.is_positive() {
            *credit_applied.entry(lease).or_default() += result.allocated;
            payments.push((posting, result.allocations));
        }
    }
    for credit in &earnings {
        let unapplied = credit.gross - credit.allocated;
        let Some(balances) = open.get_mut(&credit.lease_id) else {
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
        payments.push((credit.posting_id, result.allocations));
    }
    crate::ledger::payments::apply_allocations(tx, &payments, &timestamp(now)).await?;
    Ok((earnings, credit_applied))
}

/// What each lease's statement of `week` shows, in lease order.
async fn statement_contents(
    tx: &mut Tx,
    leases: &[i64],
    week: SundayDate,
    earnings: &[WeekEarnings],
    credit_applied: &HashMap<i64, Money>,
) -> Result<Vec<(i64, DtrContent)>, AppError> {
    let mut summaries = crate::fleet::repo::lease_summaries(tx, leases).await?;
    let mut gross: HashMap<i64, Money> = HashMap::new();
    for credit in earnings {
        *gross.entry(credit.lease_id).or_default() += credit.gross;
    }
    // What the week's earnings paid (this run's and any earlier run's), by category, and of
    // each repair installment.
    let lease_of_payment: HashMap<i64, i64> = earnings
        .iter()
        .map(|c| (c.posting_id, c.lease_id))
        .collect();
    let payment_ids: Vec<i64> = lease_of_payment.keys().copied().collect();
    let allocations = crate::ledger::repo::live_allocations_of(tx, &payment_ids).await?;
    let mut balance_ids: Vec<i64> = allocations.iter().map(|(_, b, _)| *b).collect();
    balance_ids.sort_unstable();
    balance_ids.dedup();
    let keys = crate::ledger::repo::balance_keys(tx, &balance_ids).await?;
    let mut deducted: HashMap<(i64, Category), Money> = HashMap::new();
    let mut paid_this_week: HashMap<String, i64> = HashMap::new();
    // What the week's earnings paid of corrections of earlier weeks, by voided posting.
    let mut adjustments_paid: HashMap<i64, Money> = HashMap::new();
    for (payment, balance, amount) in allocations {
        let (Some(lease), Some((category, reference))) =
            (lease_of_payment.get(&payment), keys.get(&balance))
        else {
            continue;
        };
        if *category == Category::Misc {
            if let Some(voided) = super::corrections::adjusted_posting(reference) {
                *adjustments_paid.entry(voided).or_default() += amount;
                continue;
            }
        }
        *deducted.entry((*lease, *category)).or_default() += amount;
        if *category == Category::Repair {
            *paid_this_week.entry(reference.clone()).or_default() += amount.cents();
        }
    }
    let outstanding = crate::ledger::repo::open_by_category(tx, leases, week.week_end()).await?;
    let also: Vec<i64> = adjustments_paid.keys().copied().collect();
    let mut adjustments: HashMap<i64, Vec<AdjustmentLine>> = HashMap::new();
    for row in repo::adjustments_for(tx, leases, &week.to_string(), &also).await? {
        adjustments
            .entry(row.lease_id)
            .or_default()
            .push(AdjustmentLine {
                paid_this_week: adjustments_paid
                    .get(&row.voided_posting_id)
                    .copied()
                    .unwrap_or_default(),
                week: row.week,
                dtr_number: row.dtr_number,
                posting_id: row.voided_posting_id,
                reason: row.reason,
                amount: Money::from_cents(row.amount_cents),
                owed_again: Money::from_cents(row.owed_again_cents),
            });
    }
    let mut repairs = repair_lines(tx, leases, week, &paid_this_week).await?;
    let categories: Vec<Category> = Category::ALL
        .iter()
        .copied()
        .filter(|c| c.is_obligation())
        .collect();
    let mut contents = Vec::with_capacity(leases.len());
    for lease in leases {
        let Some(summary) = summaries.remove(lease) else {
            continue;
        };
        let lines: Vec<CategoryLine> = categories
            .iter()
            .map(|c| CategoryLine {
                category: c.as_str().to_string(),
                deducted: deducted.get(&(*lease, *c)).copied().unwrap_or_default(),
                outstanding: outstanding.get(&(*lease, *c)).copied().unwrap_or_default(),
            })
            .collect();
        let total_deducted: Money = lines.iter().map(|l| l.deducted).sum();
        let gross_earnings = gross.get(lease).copied().unwrap_or_default();
        let adjustments = adjustments.remove(lease).unwrap_or_default();
        let total_adjustments: Money = adjustments.iter().map(|a| a.paid_this_week).sum();
        contents.push((
            *lease,
            DtrContent {
                week_start: week.to_string(),
                week_end: week.week_end().to_string(),
                party: party(summary),
                gross_earnings,
                net_pay: gross_earnings - total_deducted - total_adjustments,
                credit_applied: credit_applied.get(lease).copied().unwrap_or_default(),
                balances_carried_forward: lines.iter().map(|l| l.outstanding).sum(),
                categories: lines,
                total_deducted,
                repairs: repairs.remove(lease).unwrap_or_default(),
                adjustments,
                total_adjustments,
            },
        ));
    }
    Ok(contents)
}

fn party(summary: crate::fleet::repo::LeaseSummary) -> Party {
    let (driver_id, driver_business_id, driver_name, tlc_license_no) = match summary.driver {
        Some((pk, id, name, tlc)) => (Some(pk), Some(id), Some(name), Some(tlc)),
        None => (None, None, None, None),
    };
    Party {
        driver_id,
        driver_business_id,
        driver_name,
        tlc_license_no,
        lease_id: summary.lease_pk,
        lease_business_id: summary.lease_id,
        lease_type: LeaseType::parse(&summary.lease_type)
            .map(|t| t.label().to_string())
            .unwrap_or(summary.lease_type),
        vin: summary.vin,
        plate_number: summary.plate_number,
        vehicle: summary.vehicle,
        medallion_number: summary.medallion_number,
    }
}

/// The repairs section of each lease's statement: installments due this week, earlier ones
/// still open, and earlier ones this week's earnings finished paying; never a later week's.
async fn repair_lines(
    tx: &mut Tx,
    leases: &[i64],
    week: SundayDate,
    paid_this_week: &HashMap<String, i64>,
) -> Result<BTreeMap<i64, Vec<RepairLine>>, AppError> {
    let mut repairs: BTreeMap<i64, Vec<RepairLine>> = BTreeMap::new();
    for line in crate::repairs::repo::statement_lines(tx, leases, week, paid_this_week).await? {
        let installment =
            Settlement::of_installment(line.amount_cents, line.paid_cents, line.status);
        let invoice = Settlement::of_invoice(
            line.invoice_total_cents,
            line.invoice_paid_cents,
            line.invoice_status,
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
    Ok(repairs)
}

/// Writes the statements: a draft is replaced, a new one gets the next number of the year
/// (a block reserved at once).
async fn write_statements(
    tx: &mut Tx,
    week: SundayDate,
    contents: &[(i64, DtrContent)],
    now: DateTime<Utc>,
    report: &mut GenerationReport,
) -> Result<(), AppError> {
    let week_text = week.to_string();
    let now_text = timestamp(now);
    let leases: Vec<i64> = contents.iter().map(|(l, _)| *l).collect();
    let existing = repo::existing_statements(tx, &week_text, &leases).await?;
    let new_count = leases.iter().filter(|l| !existing.contains_key(l)).count() as i64;
    let year = week.week_end().year();
    let mut next_number = if new_count > 0 {
        crate::db::reserve_sequence(tx, &format!("dtr:{year}"), new_count).await?
    } else {
        0
    };
    let mut fresh = Vec::new();
    for (lease, content) in contents {
        let json = serde_json::to_string(content).map_err(anyhow::Error::from)?;
        match existing.get(lease) {
            Some(id) => {
                if !repo::replace_draft(tx, *id, content, &json, &now_text).await? {
                    // Finalized meanwhile: the chunk is worked out again and leaves it be.
                    return Err(AppError::Conflict(format!(
                        "the statement of lease {lease} for {week_text} was finalized meanwhile"
                    )));
                }
                report.replaced += 1;
            }
            None => {
                fresh.push(repo::NewDraft {
                    number: domain::ids::dtr_number(year, next_number),
                    lease_id: *lease,
                    content,
                    json,
                });
                next_number += 1;
            }
        }
    }
    repo::insert_drafts(tx, &week_text, &fresh, &now_text).await?;
    report.created += fresh.len() as i64;
    Ok(())
}

/// Finalizes a draft (finance); a finalized DTR is never changed again.
pub async fn finalize(
    tx: &mut Tx,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // Lock order: the statement's lease first, then the statement (a statement run of the
    // same lease takes its turn before or after, never in between).
    if let Some(lease) = repo::lease_of(tx, id).await? {
        crate::fleet::repo::lock_leases(tx, &[lease]).await?;
    }
    let status = repo::status_for_update(tx, id).await?;
    match status.as_deref() {
        None => return Err(AppError::NotFound(format!("no DTR {id}"))),
        Some("Finalized") => {
            return Err(AppError::Conflict(format!("DTR {id} is already finalized")))
        }
        _ => {}
    }
    repo::mark_finalized(tx, id, actor, &timestamp(now)).await?;
    let id_text = id.to_string();
    crate::audit::record(
        tx,
        crate::audit::Entry::new(actor, "dtr_finalized", "dtr", &id_text),
        now,
    )
    .await?;
    Ok(())
}
