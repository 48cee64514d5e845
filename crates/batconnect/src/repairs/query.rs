//! List parameters of §5.4 parsed and validated one by one (every error names its
//! parameter), then turned into a WHERE clause (see `db::filter`).

use domain::calendar::parse_date;
use domain::money::Money;
use domain::status::{InstallmentStatus, InvoiceStatus, LeaseType, WorkshopType};

use crate::repairs::repo::INVOICE_PAID;

use crate::api::extract::RawQuery;
use crate::db::filter::{escape_like, Arg, Where};
use crate::db::{Backend, PageRequest};
use crate::error::{AppError, FieldError};

/// Words of a list of allowed ones, in any letter case, as the stored word.
fn words(
    query: &RawQuery,
    name: &str,
    allowed: Vec<&'static str>,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let mut found = Vec::new();
    for v in query.list(name) {
        match allowed.iter().find(|w| w.eq_ignore_ascii_case(v.trim())) {
            Some(word) => found.push(word.to_string()),
            None => errors.push(FieldError::new(
                name,
                format!("'{v}' is not one of: {}", allowed.join(", ")),
            )),
        }
    }
    found
}

/// One term of a search on an invoice column (`alias` is the invoices' table alias, with
/// its dot): a part of the text in any letter case, served by an index — a trigram index
/// per column on PostgreSQL; on SQLite the `repair_invoice_search` full-text table
/// (trigram tokenizer), which serves terms of 3 or more characters. A shorter term matches
/// the start of the value instead.
fn search_term(w: &mut Where, backend: Backend, alias: &str, column: &str, value: &str) {
    let term = value.trim().to_lowercase();
    let short = term.chars().count() < 3;
    let escaped = escape_like(&term);
    let typed_wildcard = term.contains(['%', '_', '\\']);
    match backend {
        Backend::Sqlite if !short && !typed_wildcard => w.in_subquery_like(
            &format!("{alias}id"),
            "SELECT rowid FROM repair_invoice_search",
            column,
            format!("%{term}%"),
        ),
        _ if short => w.like(&format!("lower({alias}{column})"), format!("{escaped}%")),
        _ => w.like(&format!("lower({alias}{column})"), format!("%{escaped}%")),
    }
}

/// A search on an invoice column: any of the values (separated by commas).
fn search(filter: &mut Where, backend: Backend, alias: &str, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    filter.either(|w| {
        for v in values {
            search_term(w, backend, alias, column, v);
        }
    });
}

/// A lease, vehicle or medallion named by the one rule (see `Where::id_or_key_contains`):
/// found in its fleet table (thousands of rows, not a million) and matched by the invoice's
/// indexed id column. `table` is (table, id column on the invoice, business id column).
fn reference_search(
    filter: &mut Where,
    alias: &str,
    (table, id_column, key_column): (&str, &str, &str),
    values: &[String],
) {
    filter.in_subquery_named(
        &format!("{alias}{id_column}"),
        &format!("SELECT x.id FROM {table} x"),
        ("x.id", &format!("x.{key_column}")),
        values,
    );
}

const LEASES: (&str, &str, &str) = ("leases", "lease_id", "lease_id");
const MEDALLIONS: (&str, &str, &str) = ("medallions", "medallion_id", "medallion_number");
const VEHICLES: (&str, &str, &str) = ("vehicles", "vehicle_id", "vin");
const DRIVERS: (&str, &str, &str) = ("drivers", "driver_id", "driver_id");

fn sort_order(
    query: &RawQuery,
    errors: &mut Vec<FieldError>,
    default: &'static str,
) -> &'static str {
    match query.get("sort_order").map(|s| s.to_ascii_lowercase()) {
        None => default,
        Some(s) if s == "asc" => "ASC",
        Some(s) if s == "desc" => "DESC",
        Some(s) => {
            errors.push(FieldError::new(
                "sort_order",
                format!("'{s}' is not one of: asc, desc"),
            ));
            default
        }
    }
}

/// Parsed parameters of `GET /payments/vehicle-repairs` (and its export).
pub struct InvoiceQuery {
    pub filter: Where,
    /// Set when the only filter is by status (or there is none): the total then comes from
    /// the per-status counts instead of counting rows.
    pub status_only: Option<Vec<String>>,
    pub order_by: String,
    pub page: PageRequest,
}

pub const INVOICE_PARAMS: &[&str] = &[
    "page",
    "per_page",
    "sort_by",
    "sort_order",
    "repair_id",
    "invoice_number",
    "from_invoice_date",
    "to_invoice_date",
    "lease_type",
    "workshop_type",
    "workshop_id",
    "from_total_amount",
    "to_total_amount",
    "status",
    "driver_name",
    "tlc_license_no",
    "plate_number",
    "medallion_no",
    "lease_id",
    "vin",
];

pub const INVOICE_SORTS: &[(&str, &str)] = &[
    ("repair_id", "repair_id"),
    ("invoice_number", "invoice_number"),
    ("invoice_date", "invoice_date"),
    ("date", "invoice_date"),
    ("driver_name", "lower(driver_name)"),
    ("medallion_no", "medallion_number"),
    ("lease_type", "lease_type"),
    ("workshop_type", "workshop_type"),
    ("amount", "total_amount_cents"),
    ("status", "status"),
    ("lease_id", "lease_ref"),
    ("workshop", "workshop_type"),
    ("weekly_installment", "weekly_installment_cents"),
];

fn date_param(query: &RawQuery, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = query.get(name)?;
    match parse_date(raw) {
        Ok(d) => Some(d.to_string()),
        Err(e) => {
            errors.push(FieldError::new(name, e.to_string()));
            None
        }
    }
}

fn money_param(query: &RawQuery, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let raw = query.get(name)?;
    match Money::parse(raw) {
        Ok(m) if m.cents() >= 0 => Some(m.cents()),
        Ok(_) => {
            errors.push(FieldError::new(name, "must not be negative"));
            None
        }
        Err(e) => {
            errors.push(FieldError::new(name, e.to_string()));
            None
        }
    }
}

impl InvoiceQuery {
    pub fn parse(
        query: &RawQuery,
        paginate: bool,
        backend: Backend,
    ) -> Result<InvoiceQuery, AppError> {
        query.reject_unknown(INVOICE_PARAMS)?;
        let mut errors = Vec::new();
        let page = if paginate {
            PageRequest::parse(query.get("page"), query.get("per_page")).unwrap_or_else(|e| {
                if let AppError::Validation(mut list) = e {
                    errors.append(&mut list);
                }
                PageRequest {
                    page: 1,
                    per_page: 20,
                }
            })
        } else {
            PageRequest {
                page: 1,
                per_page: i64::MAX,
            }
        };
        let mut filter = Where::default();
        search(
            &mut filter,
            backend,
            "",
            "repair_id",
            &query.list("repair_id"),
        );
        search(
            &mut filter,
            backend,
            "",
            "invoice_number",
            &query.list("invoice_number"),
        );
        let from = date_param(query, "from_invoice_date", &mut errors);
        let to = date_param(query, "to_invoice_date", &mut errors);
        if let (Some(f), Some(t)) = (&from, &to) {
            if f > t {
                errors.push(FieldError::new(
                    "to_invoice_date",
                    "must not be before from_invoice_date",
                ));
            }
        }
        if let Some(f) = from {
            filter.compare("invoice_date", ">=", Arg::Text(f));
        }
        if let Some(t) = to {
            filter.compare("invoice_date", "<=", Arg::Text(t));
        }
        let lease_types = words(query, "lease_type", LeaseType::all_words(), &mut errors);
        filter.any_of("lease_type", &lease_types);
        let workshops = words(
            query,
            "workshop_type",
            WorkshopType::all_words(),
            &mut errors,
        );
        filter.any_of("workshop_type", &workshops);
        if let Some(raw) = query.get("workshop_id") {
            match raw.trim().parse::<i64>() {
                Ok(id) if id >= 1 => filter.compare("workshop_id", "=", Arg::Int(id)),
                _ => errors.push(FieldError::new(
                    "workshop_id",
                    format!("'{raw}' is not a workshop id (a whole number from 1)"),
                )),
            }
        }
        let min = money_param(query, "from_total_amount", &mut errors);
        let max = money_param(query, "to_total_amount", &mut errors);
        if let (Some(a), Some(b)) = (min, max) {
            if a > b {
                errors.push(FieldError::new(
                    "to_total_amount",
                    "must not be less than from_total_amount",
                ));
            }
        }
        if let Some(a) = min {
            filter.compare("total_amount_cents", ">=", Arg::Int(a));
        }
        if let Some(b) = max {
            filter.compare("total_amount_cents", "<=", Arg::Int(b));
        }
        let statuses = words(query, "status", InvoiceStatus::all_words(), &mut errors);
        filter.any_of("status", &statuses);
        // Names are searched among drivers (a small table) and matched by driver id, which
        // an index on invoices serves; the list shows the name recorded on the invoice.
        let names = query.list("driver_name");
        filter.in_subquery_containing(
            "driver_id",
            "SELECT d.id FROM drivers d",
            "d.full_name",
            &names,
        );
        // The driver's TLC license and the vehicle's plate: partial, like the name, through
        // the small fleet tables to ids an index on invoices serves.
        filter.in_subquery_containing(
            "driver_id",
            "SELECT d.id FROM drivers d",
            "d.tlc_license_no",
            &query.list("tlc_license_no"),
        );
        filter.in_subquery_containing(
            "vehicle_id",
            "SELECT v.id FROM vehicles v",
            "v.plate_number",
            &query.list("plate_number"),
        );
        reference_search(&mut filter, "", MEDALLIONS, &query.list("medallion_no"));
        reference_search(&mut filter, "", LEASES, &query.list("lease_id"));
        reference_search(&mut filter, "", VEHICLES, &query.list("vin"));
        let direction = sort_order(query, &mut errors, "DESC");
        let sort_key = query.get("sort_by").unwrap_or("invoice_date");
        // Paid and remaining are computed from the ledger's record of what was paid: every
        // filtered row is read to sort by them, so narrow the list first on a large fleet.
        let computed = match sort_key {
            "paid" => Some(INVOICE_PAID.to_string()),
            "remaining" => Some(format!("(total_amount_cents - {INVOICE_PAID})")),
            _ => None,
        };
        let column = INVOICE_SORTS
            .iter()
            .find(|(k, _)| *k == sort_key)
            .map(|(_, c)| c.to_string())
            .or(computed);
        let order_by = match column {
            Some(c) => format!("{c} {direction}, id {direction}"),
            None => {
                let mut keys: Vec<&str> = INVOICE_SORTS.iter().map(|(k, _)| *k).collect();
                keys.extend(["paid", "remaining"]);
                errors.push(FieldError::new(
                    "sort_by",
                    format!("'{sort_key}' is not one of: {}", keys.join(", ")),
                ));
                String::new()
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let filtered_by_other_than_status = query.0.iter().any(|(k, v)| {
            !v.trim().is_empty()
                && !["page", "per_page", "sort_by", "sort_order", "status"].contains(&k.as_str())
        });
        let status_only = (!filtered_by_other_than_status).then_some(statuses);
        Ok(InvoiceQuery {
            filter,
            status_only,
            order_by,
            page,
        })
    }
}

/// Parsed parameters of `GET /payments/vehicle-repairs/fetch/installments`.
pub struct InstallmentQuery {
    pub filter: Where,
    pub order_by: String,
    pub page: PageRequest,
}

pub const INSTALLMENT_PARAMS: &[&str] = &[
    "page",
    "per_page",
    "sort_order",
    "sort_by",
    "repair_id",
    "lease_id",
    "driver_id",
    "medallion_id",
    "vehicle_id",
    "status",
    "from_week",
    "to_week",
    "invoice_number",
    "medallion_no",
    "vin",
    "plate_number",
    "driver_name",
];

/// Sort keys of the installments list: every column it shows.
pub const INSTALLMENT_SORTS: &[(&str, &str)] = &[
    ("week", "i.week_start_date"),
    ("week_start_date", "i.week_start_date"),
    ("installment_id", "i.installment_id"),
    ("sequence", "i.sequence"),
    ("repair_id", "v.repair_id"),
    ("invoice_number", "v.invoice_number"),
    ("driver_name", "lower(v.driver_name)"),
    ("medallion_no", "v.medallion_number"),
    ("lease_id", "v.lease_ref"),
    ("amount", "i.principal_amount_cents"),
    ("paid", "i.paid_amount_cents"),
    (
        "remaining",
        "(i.principal_amount_cents - i.paid_amount_cents)",
    ),
    ("status", "i.status"),
    ("posted_on", "i.posted_on"),
];

impl InstallmentQuery {
    pub fn parse(query: &RawQuery, backend: Backend) -> Result<InstallmentQuery, AppError> {
        query.reject_unknown(INSTALLMENT_PARAMS)?;
        let mut errors = Vec::new();
        let page =
            PageRequest::parse(query.get("page"), query.get("per_page")).unwrap_or_else(|e| {
                if let AppError::Validation(mut list) = e {
                    errors.append(&mut list);
                }
                PageRequest {
                    page: 1,
                    per_page: 20,
                }
            });
        let mut filter = Where::default();
        search(
            &mut filter,
            backend,
            "v.",
            "repair_id",
            &query.list("repair_id"),
        );
        reference_search(&mut filter, "v.", LEASES, &query.list("lease_id"));
        reference_search(&mut filter, "v.", MEDALLIONS, &query.list("medallion_id"));
        reference_search(&mut filter, "v.", VEHICLES, &query.list("vehicle_id"));
        search(
            &mut filter,
            backend,
            "v.",
            "invoice_number",
            &query.list("invoice_number"),
        );
        reference_search(&mut filter, "v.", MEDALLIONS, &query.list("medallion_no"));
        reference_search(&mut filter, "v.", VEHICLES, &query.list("vin"));
        filter.in_subquery_containing(
            "v.driver_id",
            "SELECT d.id FROM drivers d",
            "d.full_name",
            &query.list("driver_name"),
        );
        filter.in_subquery_containing(
            "v.vehicle_id",
            "SELECT x.id FROM vehicles x",
            "x.plate_number",
            &query.list("plate_number"),
        );
        // A driver's business id is not on the invoice: found among the drivers (a small
        // table) by the one rule, matched by the indexed driver id.
        reference_search(&mut filter, "v.", DRIVERS, &query.list("driver_id"));
        let statuses = words(query, "status", InstallmentStatus::all_words(), &mut errors);
        filter.any_of("i.status", &statuses);
        if let Some(from) = date_param(query, "from_week", &mut errors) {
            filter.compare("i.week_start_date", ">=", Arg::Text(from));
        }
        if let Some(to) = date_param(query, "to_week", &mut errors) {
            filter.compare("i.week_start_date", "<=", Arg::Text(to));
        }
        let sort_key = query.get("sort_by").unwrap_or("week");
        let sort_column = match INSTALLMENT_SORTS.iter().find(|(k, _)| *k == sort_key) {
            Some((_, column)) => *column,
            None => {
                let keys: Vec<&str> = INSTALLMENT_SORTS.iter().map(|(k, _)| *k).collect();
                errors.push(FieldError::new(
                    "sort_by",
                    format!("'{sort_key}' is not one of: {}", keys.join(", ")),
                ));
                "i.week_start_date"
            }
        };
        let direction = sort_order(query, &mut errors, "ASC");
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(InstallmentQuery {
            filter,
            order_by: format!("{sort_column} {direction}, i.id {direction}"),
            page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawQuery {
        RawQuery(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn filters_number_placeholders_in_order() {
        let q = InvoiceQuery::parse(
            &raw(&[
                ("status", "Open,Hold"),
                ("driver_name", "smi"),
                ("sort_by", "amount"),
            ]),
            true,
            Backend::Postgres,
        )
        .unwrap();
        assert_eq!(
            q.filter.sql(),
            "WHERE status IN ($1, $2) AND driver_id IN (SELECT d.id FROM drivers d WHERE (lower(d.full_name) LIKE lower($3) ESCAPE '\\'))"
        );
        assert_eq!(q.order_by, "total_amount_cents DESC, id DESC");
    }

    #[test]
    fn bad_parameters_are_named() {
        let AppError::Validation(errors) = InvoiceQuery::parse(
            &raw(&[
                ("sort_by", "colour"),
                ("status", "Lost"),
                ("from_invoice_date", "yesterday"),
                ("per_page", "500"),
            ]),
            true,
            Backend::Postgres,
        )
        .err()
        .unwrap() else {
            panic!("expected validation errors")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"sort_by")
                && fields.contains(&"status")
                && fields.contains(&"from_invoice_date")
                && fields.contains(&"per_page")
        );
    }

    #[test]
    fn unknown_parameter_is_refused() {
        assert!(InvoiceQuery::parse(&raw(&[("stauts", "Open")]), true, Backend::Sqlite).is_err());
    }
}
