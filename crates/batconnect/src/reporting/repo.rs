//! The reports' SQL: each report is one aggregate query over the tables it sums (repair
//! invoices, and the fleet's and registry's names for their groups).

use sqlx::{AnyPool, Row};

use super::model::CostGrouping;
use crate::db::Backend;

/// Invoices a repair-cost report covers: not cancelled, invoice date in `$1..=$2`.
const COVERED: &str = "status <> 'Cancelled' AND invoice_date >= $1 AND invoice_date <= $2";

/// `SUM` of an amount in cents as a BIGINT. Each summed value fits 32 bits (amounts are at
/// most 1,000,000.00, parts of an invoice at most twice that), so they are summed as
/// integers: PostgreSQL adds integers into a 64-bit total, where a BIGINT column would be
/// added as NUMERIC (a 12-month grouping of 500,000 invoices: 228 ms of SQL → 138 ms).
fn sum(expression: &str, name: &str) -> String {
    format!("CAST(COALESCE(SUM(CAST({expression} AS INTEGER)), 0) AS BIGINT) AS {name}")
}

/// [`sum`] where the database needs it: SQLite adds integers in 64 bits already, and the
/// casts cost per row (a tenth of a grouping's time over half a million invoices).
fn sum_in(backend: Backend, expression: &str, name: &str) -> String {
    match backend {
        Backend::Postgres => sum(expression, name),
        Backend::Sqlite => format!("COALESCE(SUM({expression}), 0) AS {name}"),
    }
}

/// A group as the database sums it.
pub struct CostRow {
    pub key: String,
    pub label: String,
    pub count: i64,
    pub cents: i64,
}

/// The groups of a month, workshop, vehicle or driver grouping (not kind), largest first
/// (months in order; the service fills in empty months).
///
/// Months are summed per invoice date, the order the date index already gives, and folded
/// into months here: grouping by a month expression made SQLite sort every covered row.
/// Workshops, vehicles and drivers are summed differently per database. PostgreSQL
/// aggregates the date range in a hash table. SQLite has no hash aggregate and would sort
/// the range (half a million rows: about a second), so it walks the named table in id order
/// and reads each one's invoices of the range from its own covering index (migration 0028):
/// the groups come out in order and nothing is sorted but the groups themselves.
pub async fn cost_groups(
    pool: &AnyPool,
    backend: Backend,
    grouping: CostGrouping,
    from: &str,
    to: &str,
) -> Result<Vec<CostRow>, sqlx::Error> {
    let total = sum_in(backend, "total_amount_cents", "cents");
    let named = |column: &str, table: &str, label: &str| {
        match backend {
        Backend::Postgres => format!(
            "SELECT CAST(g.{column} AS TEXT) AS key, {label} AS label, g.n, g.cents FROM \
             (SELECT {column}, COUNT(*) AS n, {total} FROM repair_invoices WHERE {COVERED} GROUP BY {column}) g \
             JOIN {table} t ON t.id = g.{column} ORDER BY g.cents DESC, g.{column}"
        ),
        // CROSS JOIN makes SQLite keep `t` as the outer loop (its documented join-order rule).
        Backend::Sqlite => format!(
            "SELECT CAST(t.id AS TEXT) AS key, {label} AS label, COUNT(*) AS n, {} \
             FROM {table} t CROSS JOIN repair_invoices r INDEXED BY repair_invoices_{column}_costs \
             WHERE r.{column} = t.id AND r.status <> 'Cancelled' AND r.invoice_date >= $1 AND r.invoice_date <= $2 \
             GROUP BY t.id ORDER BY cents DESC, t.id",
            sum_in(backend, "r.total_amount_cents", "cents")
        ),
    }
    };
    let sql = match grouping {
        CostGrouping::Month => format!(
            "SELECT invoice_date AS key, invoice_date AS label, COUNT(*) AS n, {total} \
             FROM repair_invoices WHERE {COVERED} GROUP BY invoice_date ORDER BY invoice_date"
        ),
        CostGrouping::Workshop => named("workshop_id", "workshops", "t.name"),
        CostGrouping::Vehicle => named(
            "vehicle_id",
            "vehicles",
            "t.vin || ' (' || CAST(t.year AS TEXT) || ' ' || t.make || ' ' || t.model || ')'",
        ),
        CostGrouping::Driver => named("driver_id", "drivers", "t.full_name"),
        CostGrouping::Kind => unreachable!("kinds are summed by cost_kinds"),
    };
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    let rows = rows.iter().map(|r| {
        Ok(CostRow {
            key: r.try_get("key")?,
            label: r.try_get("label")?,
            count: r.try_get("n")?,
            cents: r.try_get("cents")?,
        })
    });
    if grouping != CostGrouping::Month {
        return rows.collect();
    }
    let mut months: Vec<CostRow> = Vec::new();
    for row in rows {
        let day: CostRow = row?;
        let month = day.key.get(..7).unwrap_or(&day.key).to_string();
        match months.last_mut() {
            Some(last) if last.key == month => {
                last.count += day.count;
                last.cents += day.cents;
            }
            _ => months.push(CostRow {
                key: month.clone(),
                label: month,
                count: day.count,
                cents: day.cents,
            }),
        }
    }
    Ok(months)
}

/// The covered invoices by kind of cost: (kind, invoices with an amount of it, cents), in
/// the report's order; discounts negative. Also the count and sum of the invoices.
pub async fn cost_kinds(
    pool: &AnyPool,
    backend: Backend,
    from: &str,
    to: &str,
) -> Result<(Vec<(&'static str, i64, i64)>, i64, i64), sqlx::Error> {
    let kinds = [
        ("parts", "parts_cents"),
        ("labour", "labour_cents"),
        ("fees", "fees_cents"),
        ("discounts", "discounts_cents"),
        ("tax", "tax_cents"),
    ];
    let sql = match backend {
        Backend::Postgres => {
            let mut columns: Vec<String> = Vec::new();
            for (kind, column) in kinds {
                columns.push(sum(column, &format!("{kind}_cents")));
                columns.push(format!("COUNT(NULLIF({column}, 0)) AS {kind}_n"));
            }
            columns.push(sum(
                "CASE WHEN line_count = 0 THEN total_amount_cents ELSE 0 END",
                "unitemised_cents",
            ));
            columns.push("COUNT(NULLIF(line_count, 0)) AS itemised_n".into());
            format!(
                "SELECT COUNT(*) AS n, {}, {} FROM repair_invoices WHERE {COVERED}",
                columns.join(", "),
                sum("total_amount_cents", "total_cents")
            )
        }
        // One statement (one snapshot, so the kinds add up to the total), two narrow
        // indexes: the kinds of the itemised invoices (a fifth, say) from a partial index,
        // the count and total of all from the date index (migration 0028). SQLite sums
        // integers as 64-bit integers already: no casts, which cost per row. Unitemised is
        // the rest: an itemised invoice's total is its kinds' (lines, less discounts, plus
        // tax), which the invoice's own check keeps.
        Backend::Sqlite => {
            let mut columns: Vec<String> = Vec::new();
            for (kind, column) in kinds {
                columns.push(format!("COALESCE(SUM({column}), 0) AS {kind}_cents"));
                columns.push(format!("COUNT(NULLIF({column}, 0)) AS {kind}_n"));
            }
            format!(
                "SELECT * FROM (SELECT COUNT(*) AS itemised_n, {} FROM repair_invoices INDEXED BY repair_invoices_itemised_costs \
                 WHERE line_count > 0 AND {COVERED}) i CROSS JOIN \
                 (SELECT COUNT(*) AS n, COALESCE(SUM(total_amount_cents), 0) AS total_cents \
                 FROM repair_invoices INDEXED BY repair_invoices_date_costs WHERE {COVERED}) a",
                columns.join(", ")
            )
        }
    };
    let r = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
    let (n, total): (i64, i64) = (r.try_get("n")?, r.try_get("total_cents")?);
    let mut groups = Vec::new();
    let mut itemised_cents = 0;
    for (kind, _) in kinds {
        let cents: i64 = r.try_get(format!("{kind}_cents").as_str())?;
        let signed = if kind == "discounts" { -cents } else { cents };
        itemised_cents += signed;
        groups.push((kind, r.try_get(format!("{kind}_n").as_str())?, signed));
    }
    let unitemised_cents = match backend {
        Backend::Postgres => r.try_get("unitemised_cents")?,
        Backend::Sqlite => total - itemised_cents,
    };
    let itemised_n: i64 = r.try_get("itemised_n")?;
    groups.push(("unitemised", n - itemised_n, unitemised_cents));
    Ok((groups, n, total))
}

/// Parts and labour of the covered invoices, by month: (`2026-11`, parts, labour). Only
/// itemised invoices have either; they are summed per day (the index's order, no sort) and
/// folded into months here.
pub async fn parts_and_labour_by_month(
    pool: &AnyPool,
    backend: Backend,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let index = match backend {
        Backend::Postgres => "",
        Backend::Sqlite => " INDEXED BY repair_invoices_itemised_costs",
    };
    let sql = format!(
        "SELECT invoice_date, {}, {} FROM repair_invoices{index} WHERE line_count > 0 AND {COVERED} \
         GROUP BY invoice_date ORDER BY invoice_date",
        sum_in(backend, "parts_cents", "parts"),
        sum_in(backend, "labour_cents", "labour")
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    let mut months: Vec<(String, i64, i64)> = Vec::new();
    for r in &rows {
        let day: String = r.try_get("invoice_date")?;
        let month = day.get(..7).unwrap_or(&day).to_string();
        let (parts, labour): (i64, i64) = (r.try_get("parts")?, r.try_get("labour")?);
        match months.last_mut() {
            Some(last) if last.0 == month => {
                last.1 += parts;
                last.2 += labour;
            }
            _ => months.push((month, parts, labour)),
        }
    }
    Ok(months)
}

/// Repair installments falling due by week (`week_start_date` in `from..=to`), not
/// cancelled: (Sunday, cents).
pub async fn repair_due_by_week(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT week_start_date, {} FROM repair_installments WHERE status <> 'Cancelled' \
         AND week_start_date >= $1 AND week_start_date <= $2 GROUP BY week_start_date",
        sum("principal_amount_cents", "cents")
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("week_start_date")?, r.try_get("cents")?)))
        .collect()
}

/// What payments paid of Repair balances, by the day they count for: the payment's period
/// (earnings and the credit a statement applies) or, for the rest, the day it was
/// allocated (UTC date of the record); reversed allocations left out. (date, cents).
/// Nothing allocated before `from` counts for a day from `from` on, so the allocations'
/// time index narrows the scan.
pub async fn repair_collected_by_day(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let day = "COALESCE(p.payment_period, substr(a.created_on, 1, 10))";
    let sql = format!(
        "SELECT {day} AS day, {} FROM ledger_allocations a \
         JOIN ledger_balances b ON b.id = a.balance_id \
         JOIN ledger_postings p ON p.id = a.payment_posting_id \
         WHERE a.created_on >= $1 AND b.category = 'Repair' AND a.reversed = 0 AND {day} >= $1 AND {day} <= $2 \
         GROUP BY {day}",
        sum("a.amount_cents", "cents")
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("day")?, r.try_get("cents")?)))
        .collect()
}

// --- The ledger as it stood: aging, a lease's statement of account. ---------------------
//
// "As it stood at `end`" (a UTC timestamp): a posting counts once created before `end`; an
// obligation's balance is open from its posting until the reversal of that posting; an
// allocation pays its balance from its creation until the reversal of its payment (a void
// leaves no other trace of when an allocation stopped counting).

/// A balance's open amount at `$1` (end, exclusive), for the balance `b`.
const OPEN_AT_END: &str = "b.original_cents - COALESCE((SELECT SUM(a.amount_cents) FROM ledger_allocations a \
     WHERE a.balance_id = b.id AND a.created_on < $1 AND NOT EXISTS (SELECT 1 FROM ledger_postings r \
     WHERE r.reversal_for_id = a.payment_posting_id AND r.created_on < $1)), 0)";

/// The balance `b` existed and was not voided at `$1`.
const LIVE_AT_END: &str = "EXISTS (SELECT 1 FROM ledger_postings o WHERE o.id = b.obligation_posting_id AND o.created_on < $1) \
     AND NOT EXISTS (SELECT 1 FROM ledger_postings r WHERE r.reversal_for_id = b.obligation_posting_id AND r.created_on < $1)";

/// One line of an aging report: a lease and category, its open amounts by bucket (cents).
pub struct AgingRow {
    pub lease_id: i64,
    pub lease: String,
    pub medallion: String,
    pub driver: Option<String>,
    pub category: String,
    pub buckets: [i64; 5],
}

/// Filters of an aging report (internal ids; the service resolves business ids).
#[derive(Default, Clone)]
pub struct AgingFilter {
    pub category: Option<String>,
    pub lease_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub medallion_id: Option<i64>,
}

/// Open amounts per lease and category at `end`, bucketed by due date: `due_bounds` are the
/// first due dates of [not due, 1–7, 8–28, 29–56] days past due (`as_of`, `as_of`−7, −28,
/// −56); older is 57+. `current`: read today's balances as they are (the fast way), else
/// rebuild them as they stood at `end`. A page of the rows (`limit`, `offset`) in lease and
/// category order.
pub async fn aging(
    pool: &AnyPool,
    end: &str,
    due_bounds: &[String; 4],
    filter: &AgingFilter,
    current: bool,
    (limit, offset): (i64, i64),
) -> Result<Vec<AgingRow>, sqlx::Error> {
    // The page is cut from the groups in (lease, category) order before any name is read:
    // today's open balances come in that order from their partial index (migration
    // 0029), so a page reads its own balances, not the fleet's; the names are looked up
    // for the page's rows only.
    let sql = format!(
        "SELECT g.*, l.lease_id AS lease_ref, m.medallion_number, \
         (SELECT MIN(d.full_name) FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id \
          WHERE ld.lease_id = g.lease_id AND ld.is_driver_manager = 1) AS driver FROM \
         (SELECT x.lease_id, x.category, {} FROM {} GROUP BY x.lease_id, x.category \
          ORDER BY x.lease_id, x.category LIMIT $10 OFFSET $11) g \
         JOIN leases l ON l.id = g.lease_id LEFT JOIN medallions m ON m.id = l.medallion_id \
         ORDER BY g.lease_id, g.category",
        bucket_sums(),
        open_amounts(current),
    );
    let rows = bind_aging(sqlx::query(&sql), end, due_bounds, filter)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AgingRow {
                lease_id: r.try_get("lease_id")?,
                lease: r.try_get("lease_ref")?,
                medallion: r
                    .try_get::<Option<String>, _>("medallion_number")?
                    .unwrap_or_default(),
                driver: r.try_get("driver")?,
                category: r.try_get("category")?,
                buckets: buckets_of(r)?,
            })
        })
        .collect()
}

/// The open amounts of an aging report per category (every lease): (category, how many
/// leases have some open, buckets), in category order.
pub async fn aging_by_category(
    pool: &AnyPool,
    end: &str,
    due_bounds: &[String; 4],
    filter: &AgingFilter,
    current: bool,
) -> Result<Vec<(String, i64, [i64; 5])>, sqlx::Error> {
    let sql = format!(
        "SELECT x.category, COUNT(DISTINCT x.lease_id) AS leases, {} FROM {} GROUP BY x.category ORDER BY x.category",
        bucket_sums(),
        open_amounts(current),
    );
    let rows = bind_aging(sqlx::query(&sql), end, due_bounds, filter)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("category")?, r.try_get("leases")?, buckets_of(r)?)))
        .collect()
}

/// The open amounts `x` (lease, category, due date, open cents) an aging report sums, with
/// its filters (`$1` the end, `$6`..`$9` category, lease, driver, medallion). `current`:
/// today's balances as they are (the fast way), else rebuilt as they stood at `$1`.
fn open_amounts(current: bool) -> String {
    // Every change of a balance (an allocation, its reversal, a void) sets its `updated_on`,
    // so a balance last changed before the end stood then as it stands now: only the ones
    // changed since are rebuilt from their postings and allocations, and the ones closed or
    // voided before the end are skipped. A past day costs what changed after it.
    let rebuilt_open =
        format!("CASE WHEN b.updated_on < $1 THEN b.balance_cents ELSE {OPEN_AT_END} END");
    let rebuilt_live = format!(
        "((b.updated_on < $1 AND b.status = 'OPEN') OR (b.updated_on >= $1 AND {LIVE_AT_END}))"
    );
    let (open, live) = if current {
        (
            "b.balance_cents",
            "b.status = 'OPEN' AND b.balance_cents > 0 AND $1 = $1",
        )
    } else {
        (rebuilt_open.as_str(), rebuilt_live.as_str())
    };
    format!(
        "(SELECT b.lease_id, b.category, b.due_date, {open} AS open_cents FROM ledger_balances b \
         WHERE b.lease_id IS NOT NULL AND {live} \
         AND ($6 IS NULL OR b.category = $6) AND ($7 IS NULL OR b.lease_id = $7) \
         AND ($8 IS NULL OR b.driver_id = $8) AND ($9 IS NULL OR b.medallion_id = $9)) x WHERE x.open_cents > 0"
    )
}

/// The five buckets' sums `k0`..`k4` over `x`, by due date against `$2`..`$5`.
fn bucket_sums() -> String {
    let conditions = [
        "x.due_date >= $2",
        "x.due_date < $2 AND x.due_date >= $3",
        "x.due_date < $3 AND x.due_date >= $4",
        "x.due_date < $4 AND x.due_date >= $5",
        "x.due_date < $5",
    ];
    conditions
        .iter()
        .enumerate()
        // Each open amount fits 32 bits (obligations are at most 1,000,000.00), so
        // PostgreSQL adds them as integers, not NUMERIC (see `sum`).
        .map(|(i, cond)| {
            sum(
                &format!("CASE WHEN {cond} THEN x.open_cents ELSE 0 END"),
                &format!("k{i}"),
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bind_aging<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    end: &str,
    [b0, b1, b2, b3]: &[String; 4],
    filter: &AgingFilter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(end.to_string())
        .bind(b0.clone())
        .bind(b1.clone())
        .bind(b2.clone())
        .bind(b3.clone())
        .bind(filter.category.clone())
        .bind(filter.lease_id)
        .bind(filter.driver_id)
        .bind(filter.medallion_id)
}

fn buckets_of(r: &sqlx::any::AnyRow) -> Result<[i64; 5], sqlx::Error> {
    Ok([
        r.try_get("k0")?,
        r.try_get("k1")?,
        r.try_get("k2")?,
        r.try_get("k3")?,
        r.try_get("k4")?,
    ])
}

/// A posting of a lease, for its statement of account.
pub struct PostingLine {
    pub id: i64,
    pub created_on: String,
    pub entry_type: String,
    pub category: String,
    pub reference: String,
    pub description: Option<String>,
    pub amount_cents: i64,
    pub reversal_for: Option<i64>,
}

/// Every posting of the lease created before `end`, in the order they were made.
pub async fn lease_postings(
    pool: &AnyPool,
    lease_id: i64,
    end: &str,
) -> Result<Vec<PostingLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, created_on, entry_type, category, reference_id, description, amount_cents, reversal_for_id \
         FROM ledger_postings WHERE lease_id = $1 AND created_on < $2 ORDER BY created_on, id",
    )
    .bind(lease_id)
    .bind(end)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PostingLine {
                id: r.try_get("id")?,
                created_on: r.try_get("created_on")?,
                entry_type: r.try_get("entry_type")?,
                category: r.try_get("category")?,
                reference: r.try_get("reference_id")?,
                description: r.try_get("description")?,
                amount_cents: r.try_get("amount_cents")?,
                reversal_for: r.try_get("reversal_for_id")?,
            })
        })
        .collect()
}

/// An allocation to one of the lease's balances: (created_on, payment posting, balance's
/// category, balance's reference, cents), made in `[start, end)`.
pub async fn lease_allocations(
    pool: &AnyPool,
    lease_id: i64,
    start: &str,
    end: &str,
) -> Result<Vec<(String, i64, String, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.created_on, a.payment_posting_id, b.category, b.reference_id, a.amount_cents FROM ledger_allocations a \
         JOIN ledger_balances b ON b.id = a.balance_id WHERE b.lease_id = $1 AND a.created_on >= $2 AND a.created_on < $3 \
         ORDER BY a.created_on, a.id",
    )
    .bind(lease_id)
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("created_on")?,
                r.try_get("payment_posting_id")?,
                r.try_get("category")?,
                r.try_get("reference_id")?,
                r.try_get("amount_cents")?,
            ))
        })
        .collect()
}

/// The lease's open balances and unapplied credit as they stood at `end` (cents).
pub async fn lease_position(
    pool: &AnyPool,
    lease_id: i64,
    end: &str,
) -> Result<(i64, i64), sqlx::Error> {
    let open: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(COALESCE(SUM({OPEN_AT_END}), 0) AS BIGINT) FROM ledger_balances b WHERE b.lease_id = $2 AND {LIVE_AT_END}"
    ))
    .bind(end)
    .bind(lease_id)
    .fetch_one(pool)
    .await?;
    let unapplied: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(-p.amount_cents - COALESCE((SELECT SUM(a.amount_cents) FROM ledger_allocations a \
         WHERE a.payment_posting_id = p.id AND a.created_on < $1), 0)), 0) AS BIGINT) FROM ledger_postings p \
         WHERE p.lease_id = $2 AND p.created_on < $1 AND p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT', 'CREDIT') \
         AND NOT EXISTS (SELECT 1 FROM ledger_postings r WHERE r.reversal_for_id = p.id AND r.created_on < $1)",
    )
    .bind(end)
    .bind(lease_id)
    .fetch_one(pool)
    .await?;
    Ok((open, unapplied))
}

/// Obligations falling due on days of `[$1, $2]`: (due date, category, cents).
pub async fn charged_by_day(
    pool: &AnyPool,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT due_date, category, {} FROM ledger_balances WHERE due_date >= $1 AND due_date <= $2 GROUP BY due_date, category",
        sum("original_cents", "cents")
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("due_date")?,
                r.try_get("category")?,
                r.try_get("cents")?,
            ))
        })
        .collect()
}

/// One group of what payments paid: the payment's kind and period, whether it was applied
/// when the payment was taken, the UTC hour it was applied, the balance's category,
/// whether that balance is a correction's (`ADJ-`), and cents.
pub struct Collected {
    pub entry_type: String,
    pub period: Option<String>,
    pub at_once: bool,
    pub hour: String,
    pub category: String,
    pub adjustment: bool,
    pub cents: i64,
}

/// What payments paid (every allocation, voided later or not) whose payment's period is in
/// `[$1, $2]` or that was applied in `[$3, $4)` (UTC timestamps).
pub async fn collected(
    pool: &AnyPool,
    (first_week, last_week): (&str, &str),
    (start, end): (&str, &str),
) -> Result<Vec<Collected>, sqlx::Error> {
    // Two walks of covering indexes of the allocations (each carries its payment's kind,
    // period and timing and its balance's category: migration 0029) whose rows never
    // overlap: payments of the weeks' periods, whenever applied; then what was applied in
    // the time range by payments of other periods or of none.
    let columns = "payment_type, payment_period, at_once, substr(created_on, 1, 13) AS hour, category, adjustment, amount_cents";
    let sql = format!(
        "SELECT payment_type AS entry_type, payment_period, at_once, hour, category, adjustment AS adj, {} FROM ( \
         SELECT {columns} FROM ledger_allocations WHERE payment_period >= $1 AND payment_period <= $2 \
         UNION ALL \
         SELECT {columns} FROM ledger_allocations WHERE created_on >= $3 AND created_on < $4 \
         AND (payment_period IS NULL OR payment_period < $1 OR payment_period > $2)) x \
         GROUP BY payment_type, payment_period, at_once, hour, category, adjustment",
        sum("amount_cents", "cents")
    );
    let rows = sqlx::query(&sql)
        .bind(first_week)
        .bind(last_week)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Collected {
                entry_type: r.try_get("entry_type")?,
                period: r.try_get("payment_period")?,
                at_once: r.try_get::<i64, _>("at_once")? == 1,
                hour: r.try_get("hour")?,
                category: r.try_get("category")?,
                adjustment: r.try_get::<i64, _>("adj")? == 1,
                cents: r.try_get("cents")?,
            })
        })
        .collect()
}

/// Reversals (voids) posted in `[$1, $2)`: (UTC hour, category, cents as posted).
pub async fn reversals(
    pool: &AnyPool,
    start: &str,
    end: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT substr(created_on, 1, 13) AS hour, category, {} FROM ledger_postings \
         WHERE entry_type = 'REVERSAL' AND created_on >= $1 AND created_on < $2 GROUP BY substr(created_on, 1, 13), category",
        sum("amount_cents", "cents")
    );
    let rows = sqlx::query(&sql)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("hour")?,
                r.try_get("category")?,
                r.try_get("cents")?,
            ))
        })
        .collect()
}
