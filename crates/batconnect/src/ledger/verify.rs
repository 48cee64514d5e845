//! The ledger's invariants (§6), checked on a live database: `batconnect ledger verify` and
//! the simulation tests run these. Each finding names the offending ids.

use sqlx::{AnyPool, Row};

/// Returns one line per violation; empty when the ledger is consistent.
pub async fn verify(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    let mut problems = Vec::new();
    // Every balance = original − what live payments applied to it, and never negative.
    for r in sqlx::query(
        "SELECT b.id, b.original_cents, b.balance_cents, b.status, \
         (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a WHERE a.balance_id = b.id AND a.reversed = 0) AS applied \
         FROM ledger_balances b",
    )
    .fetch_all(pool)
    .await?
    {
        let (id, original, balance, applied): (i64, i64, i64, i64) =
            (r.try_get("id")?, r.try_get("original_cents")?, r.try_get("balance_cents")?, r.try_get("applied")?);
        let status: String = r.try_get("status")?;
        if status != "VOIDED" && balance != original - applied {
            problems.push(format!("balance {id}: {balance} cents but original {original} − applied {applied}"));
        }
        if balance < 0 {
            problems.push(format!("balance {id}: negative ({balance} cents)"));
        }
        if (status == "CLOSED") != (balance == 0 && status != "VOIDED") && status != "VOIDED" {
            problems.push(format!("balance {id}: status {status} with {balance} cents open"));
        }
    }
    // A payment's live allocations never exceed it; a voided payment has none left.
    for r in sqlx::query(
        "SELECT p.id, -p.amount_cents AS paid, p.status, \
         (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a WHERE a.payment_posting_id = p.id AND a.reversed = 0) AS allocated \
         FROM ledger_postings p WHERE p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT')",
    )
    .fetch_all(pool)
    .await?
    {
        let (id, paid, allocated): (i64, i64, i64) = (r.try_get("id")?, r.try_get("paid")?, r.try_get("allocated")?);
        let status: String = r.try_get("status")?;
        if allocated > paid {
            problems.push(format!("payment {id}: allocations {allocated} exceed the payment {paid}"));
        }
        if status == "VOIDED" && allocated != 0 {
            problems.push(format!("payment {id}: voided but {allocated} cents still allocated"));
        }
    }
    // Per lease: sum of postings = open balances − unapplied credit.
    for r in sqlx::query(
        "SELECT l.id, \
         (SELECT CAST(COALESCE(SUM(p.amount_cents), 0) AS BIGINT) FROM ledger_postings p WHERE p.lease_id = l.id) AS postings, \
         (SELECT CAST(COALESCE(SUM(b.balance_cents), 0) AS BIGINT) FROM ledger_balances b WHERE b.lease_id = l.id AND b.status <> 'VOIDED') AS open, \
         (SELECT CAST(COALESCE(SUM(-p.amount_cents - (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a \
             WHERE a.payment_posting_id = p.id AND a.reversed = 0)), 0) AS BIGINT) \
          FROM ledger_postings p WHERE p.lease_id = l.id AND p.status = 'POSTED' AND p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT')) AS unapplied \
         FROM leases l",
    )
    .fetch_all(pool)
    .await?
    {
        let (id, postings, open, unapplied): (i64, i64, i64, i64) = (r.try_get("id")?, r.try_get("postings")?, r.try_get("open")?, r.try_get("unapplied")?);
        if postings != open - unapplied {
            problems.push(format!("lease {id}: postings sum {postings} ≠ open balances {open} − unapplied credit {unapplied}"));
        }
    }
    // Nothing posted twice; every posted installment has its one obligation.
    for r in sqlx::query(
        "SELECT category, reference_id, COUNT(*) AS n FROM ledger_postings WHERE entry_type = 'OBLIGATION' GROUP BY category, reference_id HAVING COUNT(*) > 1",
    )
    .fetch_all(pool)
    .await?
    {
        let (category, reference): (String, String) = (r.try_get("category")?, r.try_get("reference_id")?);
        problems.push(format!("{category} obligation {reference}: posted {} times", r.try_get::<i64, _>("n")?));
    }
    for r in sqlx::query(
        "SELECT i.installment_id, i.status, b.balance_cents, b.status AS balance_status FROM repair_installments i \
         LEFT JOIN ledger_postings p ON p.category = 'Repair' AND p.entry_type = 'OBLIGATION' AND p.reference_id = i.installment_id \
         LEFT JOIN ledger_balances b ON b.obligation_posting_id = p.id \
         WHERE i.status IN ('Posted', 'Paid')",
    )
    .fetch_all(pool)
    .await?
    {
        let installment: String = r.try_get("installment_id")?;
        let status: String = r.try_get("status")?;
        match r.try_get::<Option<i64>, _>("balance_cents")? {
            None => problems.push(format!("installment {installment}: {status} without a ledger obligation")),
            Some(balance) => {
                let balance_status: String = r.try_get("balance_status")?;
                if balance_status != "VOIDED" && (status == "Paid") != (balance == 0) {
                    problems.push(format!("installment {installment}: {status} but its balance is {balance} cents"));
                }
            }
        }
    }
    Ok(problems)
}
