//! The statements list's filters, shared by its route and page: what a query may ask,
//! parsed into a `Where`.

use domain::calendar::SundayDate;

use crate::api::extract::RawQuery;
use crate::db::filter::{Arg, Where};
use crate::db::PageRequest;
use crate::error::{AppError, FieldError};

/// The list's filters and page from its query (the API and the console share it).
pub async fn dtr_filter(
    pool: &sqlx::AnyPool,
    query: &RawQuery,
) -> Result<(Where, PageRequest), AppError> {
    query.reject_unknown(&[
        "week",
        "driver_id",
        "lease_id",
        "status",
        "page",
        "per_page",
    ])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let mut errors = Vec::new();
    let mut filter = Where::default();
    if let Some(week) = query.get("week") {
        match SundayDate::parse(week) {
            Ok(w) => filter.compare("week_start", "=", Arg::Text(w.to_string())),
            Err(e) => errors.push(FieldError::new("week", e.to_string())),
        }
    }
    // A driver or lease by internal id or (a part of) its business id: the one rule.
    for (name, table) in [
        ("driver_id", crate::fleet::repo::FleetTable::Drivers),
        ("lease_id", crate::fleet::repo::FleetTable::Leases),
    ] {
        let values = query.list(name);
        if values.is_empty() {
            continue;
        }
        let ids = crate::fleet::repo::ids_named_for(pool, table, &values, None, name).await?;
        if ids.is_empty() {
            filter.nothing();
        } else {
            filter.any_of_int(name, &ids);
        }
    }
    if let Some(word) = query.get("status") {
        match domain::status::DtrStatus::ALL
            .iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(word.trim()))
        {
            Some(status) => filter.compare("status", "=", Arg::Text(status.to_string())),
            None => errors.push(FieldError::new(
                "status",
                format!("'{word}' is not a valid statement status; expected one of: 'Draft', 'Finalized'"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok((filter, page))
}

/// Each listed statement's lease id and driver name, as people read them, by lease.
pub async fn lease_labels(
    pool: &sqlx::AnyPool,
    items: &[super::model::DtrSummary],
) -> Result<std::collections::HashMap<i64, (String, Option<String>)>, crate::error::AppError> {
    let mut leases: Vec<i64> = items.iter().map(|d| d.lease_id).collect();
    leases.sort_unstable();
    leases.dedup();
    Ok(crate::fleet::repo::lease_labels(pool, &leases)
        .await?
        .into_iter()
        .map(|(id, (lease, driver, _))| (id, (lease, driver)))
        .collect())
}
