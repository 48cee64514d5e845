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
         FROM ledger_postings p WHERE p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT', 'CREDIT')",
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
          FROM ledger_postings p WHERE p.lease_id = l.id AND p.status = 'POSTED' AND p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT', 'CREDIT')) AS unapplied \
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
    // A void is a flag and a reversal: every VOIDED posting has exactly one reversal that
    // mirrors it (same category, reference and parties, opposite amount), and every
    // reversal reverses a VOIDED posting. A bare status change passes the triggers (it is
    // the one change they allow) but not this.
    for r in sqlx::query(
        "SELECT p.id, p.status, p.category, p.amount_cents, p.reference_id, p.driver_id, p.lease_id, p.vehicle_id, p.medallion_id, \
         r.id AS r_id, r.entry_type AS r_entry_type, r.status AS r_status, r.category AS r_category, r.amount_cents AS r_amount, \
         r.reference_id AS r_reference, r.driver_id AS r_driver, r.lease_id AS r_lease, r.vehicle_id AS r_vehicle, r.medallion_id AS r_medallion \
         FROM ledger_postings p LEFT JOIN ledger_postings r ON r.reversal_for_id = p.id \
         WHERE p.status = 'VOIDED' OR r.id IS NOT NULL",
    )
    .fetch_all(pool)
    .await?
    {
        let id: i64 = r.try_get("id")?;
        let status: String = r.try_get("status")?;
        let Some(reversal) = r.try_get::<Option<i64>, _>("r_id")? else {
            problems.push(format!("posting {id}: VOIDED without a reversal posting"));
            continue;
        };
        if status != "VOIDED" {
            problems.push(format!("posting {id}: {status} but reversed by posting {reversal}"));
        }
        let parties = |columns: [&str; 4]| -> Result<Vec<Option<i64>>, sqlx::Error> {
            columns.iter().map(|c| r.try_get(*c)).collect()
        };
        let same_parties = parties(["driver_id", "lease_id", "vehicle_id", "medallion_id"])?
            == parties(["r_driver", "r_lease", "r_vehicle", "r_medallion"])?;
        let mirrors = r.try_get::<String, _>("r_entry_type")? == "REVERSAL"
            && r.try_get::<String, _>("r_status")? == "POSTED"
            && r.try_get::<String, _>("r_category")? == r.try_get::<String, _>("category")?
            && r.try_get::<i64, _>("r_amount")? == -r.try_get::<i64, _>("amount_cents")?
            && r.try_get::<String, _>("r_reference")? == r.try_get::<String, _>("reference_id")?
            && same_parties;
        if !mirrors {
            problems.push(format!("posting {reversal}: does not mirror the posting {id} it reverses"));
        }
    }
    for r in sqlx::query(
        "SELECT id FROM ledger_postings WHERE entry_type = 'REVERSAL' AND reversal_for_id IS NULL",
    )
    .fetch_all(pool)
    .await?
    {
        problems.push(format!(
            "posting {}: a REVERSAL that reverses nothing",
            r.try_get::<i64, _>("id")?
        ));
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
    // A cancelled installment owes nothing: its obligation, if it was posted, is voided.
    for r in sqlx::query(
        "SELECT i.installment_id, p.id FROM repair_installments i \
         JOIN ledger_postings p ON p.category = 'Repair' AND p.entry_type = 'OBLIGATION' AND p.reference_id = i.installment_id \
         WHERE i.status = 'Cancelled' AND p.status = 'POSTED'",
    )
    .fetch_all(pool)
    .await?
    {
        problems.push(format!(
            "installment {}: Cancelled but its obligation {} is still POSTED",
            r.try_get::<String, _>("installment_id")?,
            r.try_get::<i64, _>("id")?
        ));
    }
    // An invoice's paid amount is what its installments' balances were paid.
    for r in sqlx::query(
        "SELECT v.repair_id, COALESCE(p.paid_cents, 0) AS paid, \
         (SELECT CAST(COALESCE(SUM(i.paid_amount_cents), 0) AS BIGINT) FROM repair_installments i WHERE i.invoice_id = v.id) AS installments_paid \
         FROM repair_invoices v LEFT JOIN repair_invoice_paid p ON p.invoice_id = v.id",
    )
    .fetch_all(pool)
    .await?
    {
        let (paid, installments_paid): (i64, i64) = (r.try_get("paid")?, r.try_get("installments_paid")?);
        if paid != installments_paid {
            problems.push(format!(
                "invoice {}: paid {paid} cents but its installments were paid {installments_paid}",
                r.try_get::<String, _>("repair_id")?
            ));
        }
    }
    Ok(problems)
}
