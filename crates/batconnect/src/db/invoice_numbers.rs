//! Workshop invoice numbers that clash under their key (`domain::input::invoice_number_key`:
//! letters and digits only, case-folded): what an upgrade refuses while any remain, and
//! what `batconnect invoices clashes` lists. Computed here from the numbers as written, so
//! it works on a database not upgraded yet; the foundation owns it because the migration
//! step needs it.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{AnyPool, Row};

/// Invoices that are not cancelled and share one key.
#[derive(Debug, Clone, Serialize)]
pub struct Clash {
    pub key: String,
    /// (repair id, invoice number as written, status, anything posted?), oldest first.
    pub invoices: Vec<(String, String, String, bool)>,
}

/// Every key that more than one invoice that is not cancelled has, computed here from the
/// numbers as written (so it works on a database not yet upgraded).
pub async fn clashes(pool: &AnyPool) -> Result<Vec<Clash>, sqlx::Error> {
    let mut by_key: BTreeMap<String, Vec<(String, String, String, bool)>> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT i.repair_id, i.invoice_number, i.status, \
         (SELECT COUNT(*) FROM repair_installments s WHERE s.invoice_id = i.id AND s.status <> 'Scheduled' AND s.status <> 'Cancelled') AS posted \
         FROM repair_invoices i WHERE i.status <> 'Cancelled' ORDER BY i.id",
    )
    .fetch_all(pool)
    .await?
    {
        let number: String = r.try_get("invoice_number")?;
        by_key
            .entry(domain::input::invoice_number_key(&number))
            .or_default()
            .push((
                r.try_get("repair_id")?,
                number,
                r.try_get("status")?,
                r.try_get::<i64, _>("posted")? > 0,
            ));
    }
    Ok(by_key
        .into_iter()
        .filter(|(_, invoices)| invoices.len() > 1)
        .map(|(key, invoices)| Clash { key, invoices })
        .collect())
}

/// The clashes in words, one line each, for the migration's refusal and the CLI.
pub fn describe(clashes: &[Clash]) -> Vec<String> {
    clashes
        .iter()
        .map(|c| {
            let invoices: Vec<String> = c
                .invoices
                .iter()
                .map(|(repair_id, number, status, posted)| {
                    format!(
                        "{repair_id} '{number}' ({status}{})",
                        if *posted { ", posted" } else { "" }
                    )
                })
                .collect();
            format!("{}: {}", c.key, invoices.join(", "))
        })
        .collect()
}
