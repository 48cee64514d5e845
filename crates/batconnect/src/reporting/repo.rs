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
    let total = sum("total_amount_cents", "cents");
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
            sum("r.total_amount_cents", "cents")
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
    let mut itemised: Vec<String> = Vec::new();
    for (kind, column) in kinds {
        itemised.push(sum(column, &format!("{kind}_cents")));
        itemised.push(sum(
            &format!("CASE WHEN {column} <> 0 THEN 1 ELSE 0 END"),
            &format!("{kind}_n"),
        ));
    }
    let all = [
        "COUNT(*) AS n".to_string(),
        sum(
            "CASE WHEN line_count = 0 THEN total_amount_cents ELSE 0 END",
            "unitemised_cents",
        ),
        sum("CASE WHEN line_count = 0 THEN 1 ELSE 0 END", "unitemised_n"),
        sum("total_amount_cents", "total_cents"),
    ];
    let sql = match backend {
        Backend::Postgres => format!(
            "SELECT {}, {} FROM repair_invoices WHERE {COVERED}",
            itemised.join(", "),
            all.join(", ")
        ),
        // One statement (one snapshot, so the kinds add up to the total), two narrow
        // indexes: the kinds of the itemised invoices (a fifth, say) from a partial index,
        // the count and totals from the date index (migration 0028).
        Backend::Sqlite => format!(
            "SELECT * FROM (SELECT {} FROM repair_invoices INDEXED BY repair_invoices_itemised_costs \
             WHERE line_count > 0 AND {COVERED}) i CROSS JOIN \
             (SELECT {} FROM repair_invoices INDEXED BY repair_invoices_date_costs WHERE {COVERED}) a",
            itemised.join(", "),
            all.join(", ")
        ),
    };
    let r = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
    let mut groups = Vec::new();
    for (kind, _) in kinds.iter().chain([("unitemised", "")].iter()) {
        let cents: i64 = r.try_get(format!("{kind}_cents").as_str())?;
        let signed = if *kind == "discounts" { -cents } else { cents };
        groups.push((*kind, r.try_get(format!("{kind}_n").as_str())?, signed));
    }
    Ok((groups, r.try_get("n")?, r.try_get("total_cents")?))
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
        sum("parts_cents", "parts"),
        sum("labour_cents", "labour")
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
/// rebuild them as they stood at `end`.
pub async fn aging(
    pool: &AnyPool,
    end: &str,
    due_bounds: [String; 4],
    filter: &AgingFilter,
    current: bool,
) -> Result<Vec<AgingRow>, sqlx::Error> {
    let open = if current {
        "b.balance_cents"
    } else {
        OPEN_AT_END
    };
    let live = if current {
        "b.status = 'OPEN' AND b.balance_cents > 0 AND $1 = $1"
    } else {
        LIVE_AT_END
    };
    let bucket = |i: usize| -> String {
        let cond = match i {
            0 => "x.due_date >= $2".to_string(),
            1 => "x.due_date < $2 AND x.due_date >= $3".to_string(),
            2 => "x.due_date < $3 AND x.due_date >= $4".to_string(),
            3 => "x.due_date < $4 AND x.due_date >= $5".to_string(),
            _ => "x.due_date < $5".to_string(),
        };
        format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN x.open_cents ELSE 0 END), 0) AS BIGINT) AS k{i}")
    };
    let sql = format!(
        "SELECT g.*, l.lease_id AS lease_ref, m.medallion_number, dm.full_name AS driver FROM \
         (SELECT x.lease_id, x.category, {}, {}, {}, {}, {} FROM \
          (SELECT b.lease_id, b.category, b.due_date, {open} AS open_cents FROM ledger_balances b \
           WHERE b.lease_id IS NOT NULL AND {live} \
           AND ($6 IS NULL OR b.category = $6) AND ($7 IS NULL OR b.lease_id = $7) \
           AND ($8 IS NULL OR b.driver_id = $8) AND ($9 IS NULL OR b.medallion_id = $9)) x \
          WHERE x.open_cents > 0 GROUP BY x.lease_id, x.category) g \
         JOIN leases l ON l.id = g.lease_id LEFT JOIN medallions m ON m.id = l.medallion_id \
         LEFT JOIN (SELECT ld.lease_id, MIN(d.full_name) AS full_name FROM lease_drivers ld JOIN drivers d ON d.id = ld.driver_id \
          WHERE ld.is_driver_manager = 1 AND ($7 IS NULL OR ld.lease_id = $7) GROUP BY ld.lease_id) dm ON dm.lease_id = g.lease_id \
         ORDER BY g.lease_id, g.category",
        bucket(0),
        bucket(1),
        bucket(2),
        bucket(3),
        bucket(4)
    );
    let [b0, b1, b2, b3] = due_bounds;
    let rows = sqlx::query(&sql)
        .bind(end)
        .bind(b0)
        .bind(b1)
        .bind(b2)
        .bind(b3)
        .bind(&filter.category)
        .bind(filter.lease_id)
        .bind(filter.driver_id)
        .bind(filter.medallion_id)
        .fetch_all(pool)
        .await?;
    // The names come with the rows (one statement): a row per lease and category, a
    // fleet of 50,000 leases gives a quarter of a million of them.
    rows.iter()
        .map(|r| {
            Ok(AgingRow {
                lease_id: r.try_get("lease_id")?,
                lease: r.try_get("lease_ref")?,
                medallion: r.try_get::<Option<String>, _>("medallion_number")?.unwrap_or_default(),
                driver: r.try_get("driver")?,
                category: r.try_get("category")?,
                buckets: [
                    r.try_get("k0")?,
                    r.try_get("k1")?,
                    r.try_get("k2")?,
                    r.try_get("k3")?,
                    r.try_get("k4")?,
                ],
            })
        })
        .collect()
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
