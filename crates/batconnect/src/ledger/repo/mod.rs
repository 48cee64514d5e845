//! SQL for postings, balances and allocations.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::ledger::{Category, EntryType, OpenBalance};
use domain::money::Money;
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

mod interim;
pub use interim::{
    interim_payment, interim_payments, interim_summary_from_row, INTERIM_COLUMNS, INTERIM_FROM,
};

use super::model::{Balance, NewObligation, Posting};
use crate::db::filter::{fetch_page, Where};
use crate::db::{id_list, word, PageRequest, Tx};

pub const POSTING_COLUMNS: &str =
    "id, category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, \
     lease_id, vehicle_id, medallion_id, payment_period, description, created_by, created_on";

pub fn posting_from_row(r: &AnyRow) -> Result<Posting, sqlx::Error> {
    Ok(Posting {
        id: r.try_get("id")?,
        category: word(r, "category")?,
        amount: Money::from_cents(r.try_get("amount_cents")?),
        entry_type: word(r, "entry_type")?,
        status: word(r, "status")?,
        reference_id: r.try_get("reference_id")?,
        reversal_for_id: r.try_get("reversal_for_id")?,
        driver_id: r.try_get("driver_id")?,
        lease_id: r.try_get("lease_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
        payment_period: r.try_get("payment_period")?,
        description: r.try_get("description")?,
        created_by: r.try_get("created_by")?,
        created_on: r.try_get("created_on")?,
        lease_business_id: None,
        driver_name: None,
        medallion_number: None,
    })
}

pub const BALANCE_COLUMNS: &str =
    "id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, \
     medallion_id, original_cents, balance_cents, due_date, status";

pub fn balance_from_row(r: &AnyRow) -> Result<Balance, sqlx::Error> {
    let original: i64 = r.try_get("original_cents")?;
    let current: i64 = r.try_get("balance_cents")?;
    Ok(Balance {
        id: r.try_get("id")?,
        category: word(r, "category")?,
        reference_id: r.try_get("reference_id")?,
        obligation_posting_id: r.try_get("obligation_posting_id")?,
        driver_id: r.try_get("driver_id")?,
        lease_id: r.try_get("lease_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
        original_amount: Money::from_cents(original),
        current_balance: Money::from_cents(current),
        applied_amount: Money::from_cents(original - current),
        due_date: r.try_get("due_date")?,
        status: word(r, "status")?,
        lease_business_id: None,
        driver_name: None,
        medallion_number: None,
    })
}

pub struct PostingRow<'a> {
    pub category: Category,
    pub amount_cents: i64,
    pub entry_type: EntryType,
    pub reference_id: &'a str,
    pub reversal_for_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub lease_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub medallion_id: Option<i64>,
    pub payment_period: Option<String>,
    pub description: Option<&'a str>,
    pub actor: &'a str,
    pub now: &'a str,
}

/// What an interim payment keeps beside its posting (see migration 0019).
pub struct InterimPaymentRow<'a> {
    pub receipt_number: &'a str,
    pub posting_id: i64,
    pub lease_id: i64,
    pub driver_id: Option<i64>,
    pub payment_date: chrono::NaiveDate,
    pub method: domain::status::PaymentMethod,
    pub check_number: Option<&'a str>,
    pub memo: Option<&'a str>,
    pub amount: Money,
    pub actor: &'a str,
    pub now: &'a str,
}

pub async fn insert_interim_payment(
    tx: &mut Tx,
    p: &InterimPaymentRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO interim_payments (receipt_number, posting_id, lease_id, driver_id, payment_date, method, \
         check_number, memo, amount_cents, created_by, created_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(p.receipt_number)
    .bind(p.posting_id)
    .bind(p.lease_id)
    .bind(p.driver_id)
    .bind(p.payment_date.to_string())
    .bind(p.method.as_str())
    .bind(p.check_number)
    .bind(p.memo)
    .bind(p.amount.cents())
    .bind(p.actor)
    .bind(p.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_posting(tx: &mut Tx, p: &PostingRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, \
         lease_id, vehicle_id, medallion_id, payment_period, description, created_by, created_on) \
         VALUES ($1, $2, $3, 'POSTED', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(p.category.as_str())
    .bind(p.amount_cents)
    .bind(p.entry_type.as_str())
    .bind(p.reference_id)
    .bind(p.reversal_for_id)
    .bind(p.driver_id)
    .bind(p.lease_id)
    .bind(p.vehicle_id)
    .bind(p.medallion_id)
    .bind(&p.payment_period)
    .bind(p.description)
    .bind(p.actor)
    .bind(p.now)
    .fetch_one(&mut **tx)
    .await
}

/// Inserts the obligation posting unless one exists for (category, reference); returns the
/// posting id and whether this call created it.
pub async fn insert_obligation_once(
    tx: &mut Tx,
    o: &NewObligation,
    period: &str,
    actor: &str,
    now: &str,
) -> Result<(i64, bool), sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, \
         medallion_id, payment_period, description, created_by, created_on) \
         VALUES ($1, $2, 'OBLIGATION', 'POSTED', $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING RETURNING id",
    )
    .bind(o.category.as_str())
    .bind(o.amount.cents())
    .bind(&o.reference_id)
    .bind(o.driver_id)
    .bind(o.lease_id)
    .bind(o.vehicle_id)
    .bind(o.medallion_id)
    .bind(period)
    .bind(&o.description)
    .bind(actor)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = inserted {
        sqlx::query(
            "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id, \
             original_cents, balance_cents, due_date, status, created_on, updated_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, 'OPEN', $10, $10)",
        )
        .bind(o.category.as_str())
        .bind(&o.reference_id)
        .bind(id)
        .bind(o.driver_id)
        .bind(o.lease_id)
        .bind(o.vehicle_id)
        .bind(o.medallion_id)
        .bind(o.amount.cents())
        .bind(o.due_date.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        return Ok((id, true));
    }
    let existing: i64 = sqlx::query_scalar(
        "SELECT id FROM ledger_postings WHERE category = $1 AND reference_id = $2 AND entry_type = 'OBLIGATION'",
    )
    .bind(o.category.as_str())
    .bind(&o.reference_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((existing, false))
}

pub async fn balance_of_posting(
    tx: &mut Tx,
    posting_id: i64,
) -> Result<Option<Balance>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {BALANCE_COLUMNS} FROM ledger_balances WHERE obligation_posting_id = $1"
    ))
    .bind(posting_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| balance_from_row(&r))
    .transpose()
}

/// The lease a posting belongs to, if any (unlocked: it never changes).
pub async fn lease_of_posting(tx: &mut Tx, id: i64) -> Result<Option<i64>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT lease_id FROM ledger_postings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .flatten(),
    )
}

pub async fn posting_for_update(
    tx: &mut Tx,
    id: i64,
    postgres: bool,
) -> Result<Option<Posting>, sqlx::Error> {
    let lock = if postgres { " FOR UPDATE" } else { "" };
    sqlx::query(&format!(
        "SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| posting_from_row(&r))
    .transpose()
}

/// Flags a posting voided; false when it was not `POSTED` any more (someone else won).
pub async fn mark_voided(tx: &mut Tx, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ledger_postings SET status = 'VOIDED' WHERE id = $1 AND status = 'POSTED'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes an obligation's balance as void, only while nothing is paid of it; false when a
/// payment reached it first (on PostgreSQL this waits for a payment in flight on the same
/// balance and then sees what it did).
pub async fn close_balance_as_void(
    tx: &mut Tx,
    balance_id: i64,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ledger_balances SET status = 'VOIDED', balance_cents = 0, updated_on = $1 \
         WHERE id = $2 AND status = 'OPEN' AND balance_cents = original_cents",
    )
    .bind(now)
    .bind(balance_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_postings(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<Posting>, i64), sqlx::Error> {
    fetch_page(
        pool,
        POSTING_COLUMNS,
        "FROM ledger_postings",
        filter,
        "id DESC",
        page,
        posting_from_row,
    )
    .await
}

pub async fn list_balances(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<Balance>, i64), sqlx::Error> {
    fetch_page(
        pool,
        BALANCE_COLUMNS,
        "FROM ledger_balances",
        filter,
        "due_date, id",
        page,
        balance_from_row,
    )
    .await
}

/// Leases with a live earnings credit for `week`.
pub async fn leases_with_earnings(pool: &AnyPool, week: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT DISTINCT lease_id FROM ledger_postings WHERE entry_type = 'EARNINGS' AND status = 'POSTED' \
         AND payment_period = $1 AND lease_id IS NOT NULL",
    )
    .bind(week)
    // Streamed: the fleet's ids, never its rows, are held at once.
    .fetch(pool)
    .try_collect()
    .await
}

/// A lease's earnings credit of a week and how much of it is applied already.
pub struct WeekEarnings {
    pub posting_id: i64,
    pub lease_id: i64,
    pub gross: Money,
    pub allocated: Money,
}

/// The live earnings credits of `week` for these leases, in posting order.
pub async fn week_earnings(
    tx: &mut Tx,
    week: &str,
    leases: &[i64],
) -> Result<Vec<WeekEarnings>, sqlx::Error> {
    // The credits are locked first on PostgreSQL (a void locks its posting too, so a void
    // and a statement run take turns), then read with what is applied of them in a second
    // statement, which sees what a void that won committed: a voided credit pays nothing.
    if crate::db::backend_of(tx) == crate::db::Backend::Postgres {
        sqlx::query(&format!(
            "SELECT id FROM ledger_postings WHERE entry_type = 'EARNINGS' AND status = 'POSTED' \
             AND payment_period = $1 AND lease_id IN ({}) ORDER BY id FOR UPDATE",
            id_list(leases)
        ))
        .persistent(false)
        .bind(week)
        .fetch_all(&mut **tx)
        .await?;
    }
    sqlx::query(&format!(
        "SELECT p.id, p.lease_id, -p.amount_cents AS gross, \
         (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a WHERE a.payment_posting_id = p.id AND a.reversed = 0) AS allocated \
         FROM ledger_postings p WHERE p.entry_type = 'EARNINGS' AND p.status = 'POSTED' AND p.payment_period = $1 AND p.lease_id IN ({}) ORDER BY p.id",
        id_list(leases)
    ))
    .persistent(false)
    .bind(week)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(WeekEarnings {
            posting_id: r.try_get("id")?,
            lease_id: r.try_get("lease_id")?,
            gross: Money::from_cents(r.try_get("gross")?),
            allocated: Money::from_cents(r.try_get("allocated")?),
        })
    })
    .collect()
}

/// The open balances of these leases that fell due on or before `due_by`, by lease.
pub async fn open_balances_due_by(
    tx: &mut Tx,
    leases: &[i64],
    due_by: NaiveDate,
) -> Result<HashMap<i64, Vec<OpenBalance>>, sqlx::Error> {
    let mut open: HashMap<i64, Vec<OpenBalance>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT id, lease_id, category, due_date, balance_cents FROM ledger_balances \
         WHERE status = 'OPEN' AND due_date <= $1 AND lease_id IN ({})",
        id_list(leases)
    ))
    .persistent(false)
    .bind(due_by.to_string())
    .fetch_all(&mut **tx)
    .await?
    {
        let category: String = r.try_get("category")?;
        let due: String = r.try_get("due_date")?;
        let (Some(category), Ok(due_date)) = (
            Category::parse(&category),
            domain::calendar::parse_date(&due),
        ) else {
            continue;
        };
        open.entry(r.try_get("lease_id")?)
            .or_default()
            .push(OpenBalance {
                id: r.try_get("id")?,
                category,
                due_date,
                balance: Money::from_cents(r.try_get("balance_cents")?),
            });
    }
    Ok(open)
}

/// The unapplied credit of these leases, oldest first, as (posting, lease, what is left of
/// it): interim payments beyond what was owed and rent credits, posted and not yet
/// allocated in full. The postings are locked first on PostgreSQL (a void locks its posting
/// too, so a void and a statement run take turns), then what is left is read in a second
/// statement, which sees whatever the other committed meanwhile.
pub async fn unapplied_credits(
    tx: &mut Tx,
    leases: &[i64],
) -> Result<UnappliedCredits, sqlx::Error> {
    let credits: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT id, lease_id, -amount_cents FROM ledger_postings \
         WHERE entry_type IN ('INTERIM_PAYMENT', 'CREDIT') AND status = 'POSTED' AND lease_id IN ({}) ORDER BY id{}",
        id_list(leases),
        crate::db::lock_rows(tx)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    if credits.is_empty() {
        return Ok(UnappliedCredits::default());
    }
    let ids: Vec<i64> = credits.iter().map(|c| c.0).collect();
    let mut allocated: HashMap<i64, i64> = HashMap::new();
    let mut paid = std::collections::HashSet::new();
    for (payment, balance, amount) in live_allocations_of(tx, &ids).await? {
        *allocated.entry(payment).or_default() += amount.cents();
        paid.insert((payment, balance));
    }
    Ok(UnappliedCredits {
        credits: credits
            .into_iter()
            .filter_map(|(id, lease, amount)| {
                let left = amount - allocated.get(&id).copied().unwrap_or_default();
                (left > 0).then(|| (id, lease, Money::from_cents(left)))
            })
            .collect(),
        paid,
    })
}

/// What [`unapplied_credits`] found.
#[derive(Debug, Default)]
pub struct UnappliedCredits {
    /// (posting, lease, what is left of it), oldest first.
    pub credits: Vec<(i64, i64, Money)>,
    /// (posting, balance) pairs those postings already pay: a payment pays a balance once.
    pub paid: std::collections::HashSet<(i64, i64)>,
}

/// What these payments paid, as (payment posting, balance, amount), live allocations only.
pub async fn live_allocations_of(
    tx: &mut Tx,
    payments: &[i64],
) -> Result<Vec<(i64, i64, Money)>, sqlx::Error> {
    if payments.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT payment_posting_id, balance_id, amount_cents FROM ledger_allocations \
         WHERE payment_posting_id IN ({}) AND reversed = 0",
        id_list(payments)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("payment_posting_id")?,
            r.try_get("balance_id")?,
            Money::from_cents(r.try_get("amount_cents")?),
        ))
    })
    .collect()
}

/// The category and source reference of each of these balances.
pub async fn balance_keys(
    tx: &mut Tx,
    balances: &[i64],
) -> Result<HashMap<i64, (Category, String)>, sqlx::Error> {
    let mut keys = HashMap::new();
    for chunk in balances.chunks(5000) {
        for r in sqlx::query(&format!(
            "SELECT id, category, reference_id FROM ledger_balances WHERE id IN ({})",
            id_list(chunk)
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            let category: String = r.try_get("category")?;
            if let Some(category) = Category::parse(&category) {
                keys.insert(r.try_get("id")?, (category, r.try_get("reference_id")?));
            }
        }
    }
    Ok(keys)
}

/// What these leases still owe by category, of balances due on or before `due_by`.
pub async fn open_by_category(
    tx: &mut Tx,
    leases: &[i64],
    due_by: NaiveDate,
) -> Result<HashMap<(i64, Category), Money>, sqlx::Error> {
    let mut open = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT lease_id, category, CAST(SUM(balance_cents) AS BIGINT) AS open FROM ledger_balances \
         WHERE status = 'OPEN' AND due_date <= $1 AND lease_id IN ({}) GROUP BY lease_id, category",
        id_list(leases)
    ))
    .persistent(false)
    .bind(due_by.to_string())
    .fetch_all(&mut **tx)
    .await?
    {
        let category: String = r.try_get("category")?;
        if let Some(category) = Category::parse(&category) {
            open.insert(
                (r.try_get("lease_id")?, category),
                Money::from_cents(r.try_get("open")?),
            );
        }
    }
    Ok(open)
}

/// A week's earnings credit to record.
pub struct NewEarnings {
    pub lease_id: i64,
    pub period: domain::calendar::SundayDate,
    pub amount: Money,
    pub parties: crate::fleet::repo::LeaseParties,
}

/// Inserts earnings credits in multi-row statements; returns their posting ids by
/// (lease, week). A week already recorded fails on the unique index.
/// Inserts the rows whose lease and week have no earnings yet (the unique index decides, in
/// the same statement: no separate look-up whose cost grows with the ledger); the posting
/// ids of those inserted, by (lease, week). A row missing from the answer was recorded
/// already.
pub async fn insert_earnings(
    tx: &mut Tx,
    rows: &[NewEarnings],
    actor: &str,
    now: &str,
) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    let mut ids = HashMap::with_capacity(rows.len());
    for batch in rows.chunks(crate::db::rows_per_statement(crate::db::backend_of(tx), 10)) {
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
             ON CONFLICT (lease_id, payment_period) WHERE entry_type = 'EARNINGS' AND status = 'POSTED' DO NOTHING \
             RETURNING id, lease_id, payment_period",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for row in batch {
            query = query
                .bind(-row.amount.cents())
                .bind(format!("EARN-{}-{}", row.lease_id, row.period))
                .bind(row.parties.driver_id)
                .bind(row.lease_id)
                .bind(row.parties.vehicle_id)
                .bind(row.parties.medallion_id)
                .bind(row.period.to_string())
                .bind(format!(
                    "Weekly earnings {} – {}",
                    row.period,
                    row.period.week_end()
                ))
                .bind(actor)
                .bind(now);
        }
        for r in query.fetch_all(&mut **tx).await? {
            ids.insert(
                (r.try_get("lease_id")?, r.try_get("payment_period")?),
                r.try_get("id")?,
            );
        }
    }
    Ok(ids)
}

/// A lease's open balances with their references, locked on PostgreSQL.
pub async fn open_balances_of_lease(
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

/// Records allocations (payment posting, balance, cents), a thousand per statement. Each
/// carries what the collections report groups it by, copied from its payment and balance
/// (the payment's kind and period, whether it was applied when taken, the balance's
/// category and whether it is a correction's), so the report reads allocations alone.
pub async fn insert_allocations(
    tx: &mut Tx,
    rows: &[(i64, i64, i64)],
    now: &str,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(payment, balance, cents)| format!("({payment}, {balance}, {cents})"))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO ledger_allocations (payment_posting_id, balance_id, amount_cents, created_on, reversed, \
             payment_type, payment_period, at_once, category, adjustment) \
             SELECT v.column1, v.column2, v.column3, $1, 0, p.entry_type, p.payment_period, \
             CASE WHEN p.created_on = $1 THEN 1 ELSE 0 END, b.category, CASE WHEN b.reference_id LIKE 'ADJ-%' THEN 1 ELSE 0 END \
             FROM (VALUES {}) AS v JOIN ledger_postings p ON p.id = v.column1 JOIN ledger_balances b ON b.id = v.column2",
            values.join(", ")
        ))
        .persistent(false)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Lowers each balance by its delta (raises it for a negative one), closing or reopening
/// it; a voided balance is left alone. Returns how many balances changed.
pub async fn adjust_balance_rows(
    tx: &mut Tx,
    changes: &[(i64, i64)],
    now: &str,
) -> Result<u64, sqlx::Error> {
    let values: Vec<String> = changes
        .iter()
        .map(|(id, delta)| format!("({id}, {delta})"))
        .collect();
    let updated = sqlx::query(&format!(
        "UPDATE ledger_balances SET balance_cents = balance_cents - v.column2, \
         status = CASE WHEN balance_cents - v.column2 = 0 THEN 'CLOSED' ELSE 'OPEN' END, updated_on = $1 \
         FROM (VALUES {}) AS v WHERE ledger_balances.id = v.column1 AND ledger_balances.status <> 'VOIDED'",
        values.join(", ")
    ))
    .persistent(false)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected())
}

/// What is open of each of these balances now.
pub async fn balances_now(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    sqlx::query(&format!(
        "SELECT id, balance_cents FROM ledger_balances WHERE id IN ({})",
        id_list(ids)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("balance_cents")?)))
    .collect()
}

/// Of these balances, the live Repair ones as (installment id, paid cents, open cents).
pub async fn repair_settlements(
    tx: &mut Tx,
    balance_ids: &[i64],
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    if balance_ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT reference_id, original_cents - balance_cents AS paid, balance_cents FROM ledger_balances \
         WHERE id IN ({}) AND category = 'Repair' AND status <> 'VOIDED'",
        id_list(balance_ids)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("reference_id")?,
            r.try_get("paid")?,
            r.try_get("balance_cents")?,
        ))
    })
    .collect()
}

/// Marks a payment's allocations reversed (its void): they stay for history.
pub async fn mark_allocations_reversed(tx: &mut Tx, payment: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ledger_allocations SET reversed = 1 WHERE payment_posting_id = $1 AND reversed = 0",
    )
    .bind(payment)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One row of a batch of obligations sharing a category and a week (the rent of a week).
pub struct WeekObligation {
    pub reference_id: String,
    pub amount: Money,
    pub driver_id: Option<i64>,
    pub lease_id: i64,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub description: String,
}

/// Inserts a batch of one week's obligations in one statement, skipping those already
/// posted (same category and reference); with `returning`, the postings made as (id, cents).
/// The caller sizes the batch (`db::rows_per_statement`, 7 parameters a row).
pub async fn insert_week_obligations(
    tx: &mut Tx,
    category: Category,
    week: &str,
    rows: &[WeekObligation],
    actor: &str,
    now: &str,
    returning: bool,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // $1 category, $2 week, $3 actor, $4 time; 7 parameters a row after that.
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let marks: Vec<String> = (1..=7).map(|k| format!("${}", 4 + i * 7 + k)).collect();
            format!(
                "($1, {}, 'OBLIGATION', 'POSTED', {}, $2, {}, $3, $4)",
                marks[0],
                marks[1..6].join(", "),
                marks[6]
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, \
         medallion_id, payment_period, description, created_by, created_on) VALUES {} \
         ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING{}",
        values.join(", "),
        if returning { " RETURNING id, amount_cents" } else { "" }
    );
    let mut query = sqlx::query(&sql)
        .persistent(false)
        .bind(category.as_str())
        .bind(week)
        .bind(actor)
        .bind(now);
    for row in rows {
        query = query
            .bind(row.amount.cents())
            .bind(row.reference_id.as_str())
            .bind(row.driver_id)
            .bind(row.lease_id)
            .bind(row.vehicle_id)
            .bind(row.medallion_id)
            .bind(row.description.as_str());
    }
    if !returning {
        query.execute(&mut **tx).await?;
        return Ok(Vec::new());
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("amount_cents")?)))
        .collect()
}

/// The id of the ledger's last posting (0 on an empty ledger).
pub async fn last_posting_id(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ledger_postings")
        .fetch_one(&mut **tx)
        .await
}

/// Opens the balances of the obligation postings `ids` (those without one yet).
pub async fn open_balances_of_postings(tx: &mut Tx, ids: &[i64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    open_balances_where(tx, &format!("p.id IN ({})", id_list(ids))).await
}

/// Opens the balances of the `category` obligations posted after posting `after`.
pub async fn open_balances_posted_after(
    tx: &mut Tx,
    category: Category,
    after: i64,
) -> Result<(), sqlx::Error> {
    open_balances_where(tx, &obligations_after(category, after)).await
}

/// How many `category` obligations were posted after posting `after`, and their cents.
pub async fn obligations_posted_after(
    tx: &mut Tx,
    category: Category,
    after: i64,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(p.amount_cents), 0) AS BIGINT) FROM ledger_postings p WHERE {}",
        obligations_after(category, after)
    ))
    .persistent(false)
    .fetch_one(&mut **tx)
    .await
}

/// The condition (over `p`) selecting the `category` obligations posted after `after`;
/// both values are the service's own (an enum word and an integer), never user text.
fn obligations_after(category: Category, after: i64) -> String {
    format!(
        "p.id > {after} AND p.category = '{}' AND p.entry_type = 'OBLIGATION'",
        category.as_str()
    )
}

async fn open_balances_where(tx: &mut Tx, which: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id, \
         original_cents, balance_cents, due_date, status, created_on, updated_on) \
         SELECT p.category, p.reference_id, p.id, p.driver_id, p.lease_id, p.vehicle_id, p.medallion_id, p.amount_cents, \
         p.amount_cents, p.payment_period, 'OPEN', p.created_on, p.created_on FROM ledger_postings p WHERE {which} \
         ON CONFLICT (obligation_posting_id) DO NOTHING"
    ))
    .persistent(false)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A live obligation of a lease and its balance.
pub struct PostedObligation {
    pub posting_id: i64,
    pub balance_id: i64,
    pub reference_id: String,
    pub period: String,
    pub amount: Money,
}

/// A lease's live `category` obligations due from `from` on, in due order.
pub async fn posted_obligations_since(
    tx: &mut Tx,
    lease_id: i64,
    category: Category,
    from: &str,
) -> Result<Vec<PostedObligation>, sqlx::Error> {
    sqlx::query(
        "SELECT p.id, p.payment_period, p.amount_cents, p.reference_id, b.id AS balance_id FROM ledger_postings p \
         JOIN ledger_balances b ON b.obligation_posting_id = p.id \
         WHERE p.lease_id = $1 AND p.category = $2 AND p.entry_type = 'OBLIGATION' AND p.status = 'POSTED' \
         AND p.payment_period >= $3 ORDER BY p.payment_period",
    )
    .bind(lease_id)
    .bind(category.as_str())
    .bind(from)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(PostedObligation {
            posting_id: r.try_get("id")?,
            balance_id: r.try_get("balance_id")?,
            reference_id: r.try_get("reference_id")?,
            period: r.try_get("payment_period")?,
            amount: Money::from_cents(r.try_get("amount_cents")?),
        })
    })
    .collect()
}

/// The lease of a balance, whatever its status.
pub async fn balance_lease(tx: &mut Tx, balance_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT lease_id FROM ledger_balances WHERE id = $1")
        .bind(balance_id)
        .fetch_optional(&mut **tx)
        .await
        .map(Option::flatten)
}

/// One posting by id.
pub async fn posting(pool: &AnyPool, id: i64) -> Result<Option<Posting>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(posting_from_row)
    .transpose()
}

/// The reversal posted when this posting was voided.
pub async fn reversal_of(pool: &AnyPool, id: i64) -> Result<Option<Posting>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE reversal_for_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(posting_from_row)
    .transpose()
}

/// An allocation as a posting's page shows it: which payment paid which balance, how
/// much, and whether a void reversed it.
#[derive(Debug, Clone)]
pub struct AllocationLine {
    pub payment_posting_id: i64,
    pub obligation_posting_id: i64,
    pub balance_id: i64,
    pub reference_id: String,
    pub category: String,
    pub due_date: String,
    pub amount: Money,
    pub reversed: bool,
}

/// What a payment posting paid, or what paid an obligation posting's balance, oldest first.
pub async fn allocations_of_posting(
    pool: &AnyPool,
    id: i64,
) -> Result<Vec<AllocationLine>, sqlx::Error> {
    sqlx::query(
        "SELECT a.payment_posting_id, b.obligation_posting_id, a.balance_id, b.reference_id, b.category, \
         b.due_date, a.amount_cents, CAST(a.reversed AS BIGINT) AS reversed FROM ledger_allocations a \
         JOIN ledger_balances b ON b.id = a.balance_id \
         WHERE a.payment_posting_id = $1 OR b.obligation_posting_id = $2 ORDER BY a.id",
    )
    .bind(id)
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(AllocationLine {
            payment_posting_id: r.try_get("payment_posting_id")?,
            obligation_posting_id: r.try_get("obligation_posting_id")?,
            balance_id: r.try_get("balance_id")?,
            reference_id: r.try_get("reference_id")?,
            category: r.try_get("category")?,
            due_date: r.try_get("due_date")?,
            amount: Money::from_cents(r.try_get("amount_cents")?),
            reversed: r.try_get::<i64, _>("reversed")? != 0,
        })
    })
    .collect()
}

/// A lease's open balances with their references, as a page shows them before a payment
/// (no lock: the payment itself reads them again, locked).
pub async fn open_balances_to_show(
    pool: &AnyPool,
    lease_id: i64,
) -> Result<Vec<(OpenBalance, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, category, reference_id, due_date, balance_cents FROM ledger_balances \
         WHERE lease_id = $1 AND status = 'OPEN' ORDER BY id",
    )
    .bind(lease_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let category: String = r.try_get("category").ok()?;
            let due: String = r.try_get("due_date").ok()?;
            Some((
                OpenBalance {
                    id: r.try_get("id").ok()?,
                    category: Category::parse(&category)?,
                    due_date: domain::calendar::parse_date(&due).ok()?,
                    balance: Money::from_cents(r.try_get("balance_cents").ok()?),
                },
                r.try_get("reference_id").ok()?,
            ))
        })
        .collect())
}

/// Balances whose obligation carries one of `references` (a balance carries its obligation's
/// reference; the postings' index finds it).
pub fn balances_of_references(filter: &mut Where, references: &[String]) {
    filter.in_subquery_any_of(
        "obligation_posting_id",
        "SELECT r.id FROM ledger_postings r",
        "r.reference_id",
        references,
    );
}

/// What is still open of these obligations' balances, by obligation posting.
pub async fn open_of_obligations(
    pool: &AnyPool,
    obligations: &[i64],
) -> Result<HashMap<i64, Money>, sqlx::Error> {
    if obligations.is_empty() {
        return Ok(HashMap::new());
    }
    sqlx::query(&format!(
        "SELECT obligation_posting_id, balance_cents FROM ledger_balances \
         WHERE status = 'OPEN' AND obligation_posting_id IN ({})",
        id_list(obligations)
    ))
    .persistent(false)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("obligation_posting_id")?,
            Money::from_cents(r.try_get("balance_cents")?),
        ))
    })
    .collect()
}
