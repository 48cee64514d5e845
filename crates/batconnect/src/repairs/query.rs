//! List parameters of §5.4 parsed and validated one by one (every error names its
//! parameter), then turned into a WHERE clause (see `db::filter`).

use domain::calendar::parse_date;
use domain::money::Money;
use domain::status::{InstallmentStatus, InvoiceStatus, LeaseType, WorkshopType};

use crate::api::extract::RawQuery;
use crate::db::filter::{Arg, Where};
use crate::db::PageRequest;
use crate::error::{AppError, FieldError};

fn words<T>(
    query: &RawQuery,
    name: &str,
    parse: fn(&str) -> Option<T>,
    allowed: Vec<&'static str>,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let values = query.list(name);
    for v in &values {
        if parse(v).is_none() {
            errors.push(FieldError::new(
                name,
                format!("'{v}' is not one of: {}", allowed.join(", ")),
            ));
        }
    }
    values
}

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

const INVOICE_SORTS: &[(&str, &str)] = &[
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
    pub fn parse(query: &RawQuery, paginate: bool) -> Result<InvoiceQuery, AppError> {
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
        filter.any_of("repair_id", &query.list("repair_id"));
        filter.any_of("invoice_number", &query.list("invoice_number"));
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
        let lease_types = words(
            query,
            "lease_type",
            LeaseType::parse,
            LeaseType::all_words(),
            &mut errors,
        );
        filter.any_of("lease_type", &lease_types);
        let workshops = words(
            query,
            "workshop_type",
            WorkshopType::parse,
            WorkshopType::all_words(),
            &mut errors,
        );
        filter.any_of("workshop_type", &workshops);
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
        let statuses = words(
            query,
            "status",
            InvoiceStatus::parse,
            InvoiceStatus::all_words(),
            &mut errors,
        );
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
        let medallions: Vec<String> = query
            .list("medallion_no")
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        filter.any_of("medallion_number", &medallions);
        filter.any_of("lease_ref", &query.list("lease_id"));
        let vins: Vec<String> = query
            .list("vin")
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        filter.any_of("vin", &vins);
        let direction = sort_order(query, &mut errors, "DESC");
        let sort_key = query.get("sort_by").unwrap_or("invoice_date");
        let column = INVOICE_SORTS
            .iter()
            .find(|(k, _)| *k == sort_key)
            .map(|(_, c)| *c);
        let order_by = match column {
            Some(c) => format!("{c} {direction}, id {direction}"),
            None => {
                let keys: Vec<&str> = INVOICE_SORTS.iter().map(|(k, _)| *k).collect();
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
];

impl InstallmentQuery {
    pub fn parse(query: &RawQuery) -> Result<InstallmentQuery, AppError> {
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
        filter.any_of("v.repair_id", &query.list("repair_id"));
        // Ids accept the internal number or the business id.
        reference_filter(&mut filter, query, "lease_id", "v.lease_id", "v.lease_ref");
        reference_filter(
            &mut filter,
            query,
            "driver_id",
            "v.driver_id",
            "(SELECT d.driver_id FROM drivers d WHERE d.id = v.driver_id)",
        );
        reference_filter(
            &mut filter,
            query,
            "medallion_id",
            "v.medallion_id",
            "v.medallion_number",
        );
        reference_filter(&mut filter, query, "vehicle_id", "v.vehicle_id", "v.vin");
        let statuses = words(
            query,
            "status",
            InstallmentStatus::parse,
            InstallmentStatus::all_words(),
            &mut errors,
        );
        filter.any_of("i.status", &statuses);
        if let Some(from) = date_param(query, "from_week", &mut errors) {
            filter.compare("i.week_start_date", ">=", Arg::Text(from));
        }
        if let Some(to) = date_param(query, "to_week", &mut errors) {
            filter.compare("i.week_start_date", "<=", Arg::Text(to));
        }
        match query.get("sort_by") {
            None | Some("week") | Some("week_start_date") => {}
            Some(other) => errors.push(FieldError::new(
                "sort_by",
                format!("'{other}' is not one of: week, week_start_date"),
            )),
        }
        let direction = sort_order(query, &mut errors, "ASC");
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(InstallmentQuery {
            filter,
            order_by: format!("i.week_start_date {direction}, i.id {direction}"),
            page,
        })
    }
}

fn reference_filter(
    filter: &mut Where,
    query: &RawQuery,
    name: &str,
    id_column: &str,
    business_column: &str,
) {
    let values = query.list(name);
    let (ids, business): (Vec<String>, Vec<String>) = values
        .into_iter()
        .partition(|v| v.chars().all(|c| c.is_ascii_digit()));
    let ids: Vec<i64> = ids.iter().filter_map(|v| v.parse().ok()).collect();
    match (ids.is_empty(), business.is_empty()) {
        (true, true) => {}
        (false, true) => filter.any_of_int(id_column, &ids),
        (true, false) => filter.any_of(business_column, &business),
        (false, false) => {
            filter.either(|w| {
                w.any_of_int(id_column, &ids);
                w.any_of(business_column, &business);
            });
        }
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
        )
        .unwrap();
        assert_eq!(
            q.filter.sql(),
            "WHERE status IN ($1, $2) AND driver_id IN (SELECT d.id FROM drivers d WHERE (lower(d.full_name) LIKE $3 ESCAPE '\\'))"
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
        assert!(InvoiceQuery::parse(&raw(&[("stauts", "Open")]), true).is_err());
    }
}
