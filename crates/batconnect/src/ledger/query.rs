//! The ledger's list filters and labels, shared by its routes, pages and exports: what a
//! query may ask (`?lease_id=…&status=…`), parsed into a `Where` (no SQL of its own but the
//! filter's), and the lease, driver and medallion a person reads on each row.

use domain::calendar::parse_date;
use domain::ledger::{BalanceStatus, Category, EntryType, PostingStatus};

use super::model::{Balance, Posting};
use crate::api::extract::RawQuery;
use crate::db::filter::{Arg, Where};
use crate::db::PageRequest;
use crate::error::{AppError, FieldError};

const COMMON: &[&str] = &[
    "page",
    "per_page",
    "driver_id",
    "lease_id",
    "vehicle_id",
    "medallion_id",
    "driver_name",
    "vin",
    "medallion_number",
    "category",
    "status",
    "from_date",
    "to_date",
    "reference_id",
];

/// The values of a word filter as the stored words, in any letter case; an unknown one is
/// named (never an empty list).
fn words_any_case(
    query: &RawQuery,
    name: &str,
    allowed: &[&'static str],
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let mut found = Vec::new();
    for value in query.list(name) {
        match allowed
            .iter()
            .find(|w| w.eq_ignore_ascii_case(value.trim()))
        {
            Some(word) => found.push(word.to_string()),
            None => errors.push(FieldError::new(
                name,
                format!("'{value}' is not one of: {}", allowed.join(", ")),
            )),
        }
    }
    found
}

/// Shared ledger filters; `date_column` is what the date range applies to. A lease, driver,
/// vehicle or medallion is named by its internal id or (a part of) its business id — the
/// one rule of `Where::id_or_key_contains` — and also by driver name, VIN or medallion
/// number (parts, any case); the fleet's repo finds their internal ids, which the ledger's
/// indexes serve.
async fn ledger_filter(
    pool: &sqlx::AnyPool,
    query: &RawQuery,
    status_words: Vec<&'static str>,
    date_column: &str,
    extra: &[&str],
) -> Result<(Where, PageRequest), AppError> {
    use crate::fleet::repo::{ids_named_for, FleetTable};
    let known: Vec<&str> = COMMON.iter().chain(extra.iter()).copied().collect();
    query.reject_unknown(&known)?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let mut errors = Vec::new();
    let mut filter = Where::default();
    let named = [
        (
            "driver_id",
            FleetTable::Drivers,
            Some(("full_name", "driver_name")),
        ),
        ("lease_id", FleetTable::Leases, None),
        ("vehicle_id", FleetTable::Vehicles, Some(("vin", "vin"))),
        (
            "medallion_id",
            FleetTable::Medallions,
            Some(("medallion_number", "medallion_number")),
        ),
    ];
    for (column, table, by_text) in named {
        let ids = query.list(column);
        let texts = by_text.map(|(c, param)| (c, query.list(param)));
        let texts = texts.as_ref().filter(|(_, t)| !t.is_empty());
        if ids.is_empty() && texts.is_none() {
            continue;
        }
        let found = ids_named_for(
            pool,
            table,
            &ids,
            texts.map(|(c, t)| (*c, t.as_slice())),
            column,
        )
        .await?;
        if found.is_empty() {
            // Named, but nothing is: no rows, not every row.
            filter.nothing();
        } else {
            filter.any_of_int(column, &found);
        }
    }
    let categories = words_any_case(query, "category", &Category::all_words(), &mut errors);
    filter.any_of("category", &categories);
    let statuses = words_any_case(query, "status", &status_words, &mut errors);
    filter.any_of("status", &statuses);
    for (name, op) in [("from_date", ">="), ("to_date", "<=")] {
        if let Some(raw) = query.get(name) {
            match parse_date(raw) {
                // Timestamps are RFC 3339 text: "to" a date means up to the end of that day.
                Ok(d) if op == "<=" => filter.compare(
                    &format!("substr({date_column}, 1, 10)"),
                    op,
                    Arg::Text(d.to_string()),
                ),
                Ok(d) => filter.compare(date_column, op, Arg::Text(d.to_string())),
                Err(e) => errors.push(FieldError::new(name, e.to_string())),
            }
        }
    }
    if errors.is_empty() {
        Ok((filter, page))
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The filters of `GET /ledger/postings` (also its export).
pub async fn postings_filter(
    pool: &sqlx::AnyPool,
    query: &RawQuery,
) -> Result<(Where, PageRequest), AppError> {
    let (mut filter, page) = ledger_filter(
        pool,
        query,
        PostingStatus::all_words(),
        "created_on",
        &["entry_type"],
    )
    .await?;
    let mut errors = Vec::new();
    let entry_types = words_any_case(query, "entry_type", &EntryType::all_words(), &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    filter.any_of("entry_type", &entry_types);
    filter.any_of("reference_id", &query.list("reference_id"));
    Ok((filter, page))
}

/// The filters of `GET /ledger/balances` (also its export).
pub async fn balances_filter(
    pool: &sqlx::AnyPool,
    query: &RawQuery,
) -> Result<(Where, PageRequest), AppError> {
    let (mut filter, page) =
        ledger_filter(pool, query, BalanceStatus::all_words(), "due_date", &[]).await?;
    super::repo::balances_of_references(&mut filter, &query.list("reference_id"));
    Ok((filter, page))
}

/// Fills in what a person reads of each row's lease: its id, driver and medallion.
async fn label<T>(
    pool: &sqlx::AnyPool,
    rows: &mut [T],
    lease_of: impl Fn(&T) -> Option<i64>,
    set: impl Fn(&mut T, (String, Option<String>, String)),
) -> Result<(), AppError> {
    let mut leases: Vec<i64> = rows.iter().filter_map(&lease_of).collect();
    leases.sort_unstable();
    leases.dedup();
    let labels = crate::fleet::repo::lease_labels(pool, &leases).await?;
    for row in rows.iter_mut() {
        if let Some(found) = lease_of(row).and_then(|l| labels.get(&l)) {
            set(row, found.clone());
        }
    }
    Ok(())
}

/// Each posting's lease id, driver name and medallion number, as people read them.
pub async fn label_postings(pool: &sqlx::AnyPool, items: &mut [Posting]) -> Result<(), AppError> {
    label(
        pool,
        items,
        |p| p.lease_id,
        |p, (lease, driver, medallion)| {
            p.lease_business_id = Some(lease);
            p.driver_name = driver;
            p.medallion_number = Some(medallion);
        },
    )
    .await
}

/// Each balance's lease id, driver name and medallion number, as people read them.
pub async fn label_balances(pool: &sqlx::AnyPool, items: &mut [Balance]) -> Result<(), AppError> {
    label(
        pool,
        items,
        |b| b.lease_id,
        |b, (lease, driver, medallion)| {
            b.lease_business_id = Some(lease);
            b.driver_name = driver;
            b.medallion_number = Some(medallion);
        },
    )
    .await
}
