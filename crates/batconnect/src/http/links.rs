//! OpenAPI links: which answer leads to which next call, and where its identifiers come
//! from. A client reads them to chain calls (create a driver, then read it); schemathesis's
//! stateful phase follows them to reach the operations that need a real record.
//!
//! One table, written as a clerk moves through the API: from a list or a new record to
//! what can be done with it. Operations are named by method and path; the operation ids
//! are looked up when the document is built. Identifiers given to a filter (a query
//! parameter) are the business ones (`LS-…`, `DRV-…`), as the filters take them.
//!
//! `tests/api/http_surface.rs` checks every link against the document: the source answer
//! has the member the expression points at, of the type the target parameter takes.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// From `"METHOD /path STATUS"` to each target `"METHOD /path"`, with the same parameters.
type Follow = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// From `"METHOD /path STATUS"` to one target, with its parameters and a request body whose
/// members are runtime expressions (the rest of the body is the caller's).
type FollowWithBody = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const DRIVER: &[&str] = &["GET /fleet/drivers/{id}", "PATCH /fleet/drivers/{id}"];
const VEHICLE: &[&str] = &["GET /fleet/vehicles/{id}", "PATCH /fleet/vehicles/{id}"];
const LEASE: &[&str] = &[
    "GET /fleet/leases/{id}",
    "PATCH /fleet/leases/{id}",
    "POST /fleet/leases/{id}/terminate",
];
/// What is done with one lease, filtered by its business id.
const BY_LEASE: &[&str] = &[
    "GET /ledger/balances",
    "GET /ledger/postings",
    "GET /ledger/export",
    "GET /dtrs",
    "GET /ledger/interim-payments",
    "GET /ledger/interim-payments/export",
    "GET /payments/vehicle-repairs",
    "GET /payments/vehicle-repairs/list/export",
];
/// What is done with one repair invoice.
const REPAIR: &[&str] = &[
    "GET /payments/vehicle-repairs/{repair_id}",
    "POST /payments/vehicle-repairs/{repair_id}/hold",
    "POST /payments/vehicle-repairs/{repair_id}/resume",
    "POST /payments/vehicle-repairs/{repair_id}/cancel",
    "POST /payments/vehicle-repairs/{repair_id}/invoice-number",
    "GET /payments/vehicle-repairs/{repair_id}/receipt",
    "POST /payments/vehicle-repairs/{repair_id}/receipt",
    "GET /payments/vehicle-repairs/{repair_id}/documents",
    "POST /payments/vehicle-repairs/{repair_id}/documents",
    "GET /payments/vehicle-repairs/fetch/installments",
    "GET /payments/vehicle-repairs/fetch/installments/export",
];
/// What is done with one workflow case.
const CASE: &[&str] = &[
    "GET /case/{case_no}",
    "GET /case-history/{case_no}",
    "GET /case/{case_no}/documents",
    "POST /case/{case_no}/documents",
    "POST /case/{case_no}/move",
];
const STATEMENT: &[&str] = &[
    "GET /dtrs/{id}",
    "GET /dtrs/{id}/pdf",
    "POST /dtrs/{id}/finalize",
];
const RECEIPT: &[&str] = &[
    "GET /ledger/interim-payments/{receipt_number}",
    "GET /ledger/interim-payments/{receipt_number}/receipt",
];

#[rustfmt::skip]
const FOLLOWS: &[Follow] = &[
    // Fleet records: from the list's first row or a new record to the record itself.
    ("GET /fleet/drivers 200", DRIVER, &[("id", "$response.body#/items/0/id")]),
    ("POST /fleet/drivers 201", DRIVER, &[("id", "$response.body#/id")]),
    ("GET /fleet/drivers 200", &["GET /fleet/leases"], &[("driver_id", "$response.body#/items/0/driver_id")]),
    ("GET /fleet/vehicles 200", VEHICLE, &[("id", "$response.body#/items/0/id")]),
    ("POST /fleet/vehicles 201", VEHICLE, &[("id", "$response.body#/id")]),
    ("GET /fleet/medallions 200", &["GET /fleet/medallions/{id}"], &[("id", "$response.body#/items/0/id")]),
    ("POST /fleet/medallions 201", &["GET /fleet/medallions/{id}"], &[("id", "$response.body#/id")]),
    ("GET /fleet/leases 200", LEASE, &[("id", "$response.body#/items/0/id")]),
    ("POST /fleet/leases 201", LEASE, &[("id", "$response.body#/id")]),
    ("GET /fleet/leases 200", BY_LEASE, &[("lease_id", "$response.body#/items/0/lease_id")]),
    ("GET /fleet/leases/{id} 200", BY_LEASE, &[("lease_id", "$response.body#/lease_id")]),
    ("GET /fleet/leases/{id} 200", &["GET /fleet/vehicles/{id}"], &[("id", "$response.body#/vehicle_id")]),
    ("GET /fleet/leases/{id} 200", &["GET /fleet/medallions/{id}"], &[("id", "$response.body#/medallion_id")]),
    // Repair invoices: the list, the installments, one invoice and what it allows.
    ("GET /payments/vehicle-repairs 200", REPAIR, &[("repair_id", "$response.body#/items/0/repair_id")]),
    ("GET /payments/vehicle-repairs/{repair_id} 200", REPAIR, &[("repair_id", "$response.body#/repair_id")]),
    ("GET /payments/vehicle-repairs/fetch/installments 200", &["GET /payments/vehicle-repairs/{repair_id}"],
        &[("repair_id", "$response.body#/items/0/repair_id")]),
    ("POST /payments/vehicle-repairs/{repair_id}/hold 200", REPAIR, &[("repair_id", "$response.body#/repair_id")]),
    ("POST /payments/vehicle-repairs/{repair_id}/resume 200", REPAIR, &[("repair_id", "$response.body#/repair_id")]),
    ("POST /payments/vehicle-repairs/{repair_id}/invoice-number 200", &["GET /payments/vehicle-repairs"],
        &[("invoice_number", "$response.body#/invoice_number")]),
    ("GET /payments/vehicle-repairs/{repair_id}/documents 200", &["GET /documents/{document_id}"],
        &[("document_id", "$response.body#/0/document_id")]),
    ("POST /payments/vehicle-repairs/{repair_id}/documents 201", &["GET /documents/{document_id}"],
        &[("document_id", "$response.body#/document_id")]),
    ("GET /payments/vehicle-repairs/{repair_id} 200", &["GET /fleet/leases/{id}"], &[("id", "$response.body#/lease/id")]),
    // The matrix that set an invoice's weekly installment.
    ("GET /payments/vehicle-repairs/{repair_id} 200", &["GET /payments/vehicle-repairs/matrix"], &[]),
    // The repair workflow's cases.
    ("POST /payments/vehicle-repairs/create-case 201", CASE, &[("case_no", "$response.body#/case_no")]),
    // A new repair case is at its details step, among the repair cases (prefix RPRINV).
    ("POST /payments/vehicle-repairs/create-case 201", &["GET /case/{case_no}/{step_id}"],
        &[("case_no", "$response.body#/case_no"), ("step_id", "REPAIR_ENTER_DETAILS")]),
    ("POST /payments/vehicle-repairs/create-case 201", &["GET /cases/by-type/{prefix}"], &[("prefix", "RPRINV")]),
    ("POST /payments/vehicle-repairs/{repair_id}/receipt 200", &["GET /payments/vehicle-repairs/{repair_id}/receipt"],
        &[("repair_id", "$response.body#/repair_id")]),
    ("POST /case 201", CASE, &[("case_no", "$response.body#/case_no")]),
    ("GET /case/{case_no} 200", &["GET /cases/by-type/{prefix}"], &[("prefix", "$response.body#/case_info/prefix")]),
    ("GET /case/{case_no} 200", &["GET /case/{case_no}/{step_id}"],
        &[("case_no", "$response.body#/case_info/case_no"), ("step_id", "$response.body#/case_info/current_step")]),
    ("GET /cases/by-type/{prefix} 200", CASE, &[("case_no", "$response.body#/items/0/case_no")]),
    ("GET /case/{case_no}/documents 200", &["GET /documents/{document_id}"], &[("document_id", "$response.body#/0/document_id")]),
    ("POST /case/{case_no}/documents 201", &["GET /documents/{document_id}"], &[("document_id", "$response.body#/document_id")]),
    // Statements.
    ("GET /dtrs 200", STATEMENT, &[("id", "$response.body#/items/0/id")]),
    ("GET /dtrs/{id} 200", &["GET /dtrs/{id}/pdf", "POST /dtrs/{id}/finalize"], &[("id", "$response.body#/id")]),
    ("POST /dtrs/{id}/finalize 200", &["GET /dtrs/{id}/pdf"], &[("id", "$response.body#/id")]),
    ("POST /dtrs/generate 200", &["GET /dtrs"], &[("week", "$response.body#/week_start")]),
    // The ledger and the cashier.
    ("GET /ledger/postings 200", &["POST /ledger/postings/{id}/void"], &[("id", "$response.body#/items/0/id")]),
    ("POST /ledger/earnings 201", &["POST /ledger/postings/{id}/void"], &[("id", "$response.body#/0/posting_id")]),
    ("POST /ledger/obligations 201", &["POST /ledger/postings/{id}/void"], &[("id", "$response.body#/posting_id")]),
    ("POST /ledger/interim-payments 201", &["POST /ledger/postings/{id}/void"], &[("id", "$response.body#/posting_id")]),
    ("POST /ledger/interim-payments 201", RECEIPT, &[("receipt_number", "$response.body#/receipt_number")]),
    ("GET /ledger/interim-payments 200", RECEIPT, &[("receipt_number", "$response.body#/items/0/receipt_number")]),
    // Scheduled work.
    ("GET /jobs/runs 200", &["POST /jobs/{job}/run"], &[("job", "$response.body#/items/0/job_name")]),
    ("POST /jobs/{job}/run 200", &["GET /jobs/runs"], &[("job", "$response.body#/job_name"), ("period", "$response.body#/period")]),
];

#[rustfmt::skip]
const FOLLOWS_WITH_BODY: &[FollowWithBody] = &[
    // A new lease from the records it joins.
    ("POST /fleet/drivers 201", "POST /fleet/leases", &[], r#"{"drivers": [{"driver_id": "$response.body#/id"}]}"#),
    ("POST /fleet/vehicles 201", "POST /fleet/leases", &[], r#"{"vehicle_id": "$response.body#/id"}"#),
    ("POST /fleet/medallions 201", "POST /fleet/leases", &[], r#"{"medallion_id": "$response.body#/id"}"#),
    // Money on a lease.
    ("GET /fleet/leases 200", "POST /ledger/earnings", &[], r#"{"earnings": [{"lease_id": "$response.body#/items/0/id"}]}"#),
    ("GET /fleet/leases 200", "POST /ledger/obligations", &[], r#"{"lease_id": "$response.body#/items/0/id"}"#),
    ("GET /fleet/leases 200", "POST /ledger/interim-payments", &[], r#"{"lease_id": "$response.body#/items/0/lease_id"}"#),
    ("GET /ledger/balances 200", "POST /ledger/interim-payments", &[],
        r#"{"lease_id": "$response.body#/items/0/lease_id", "allocations": [{"balance_id": "$response.body#/items/0/id"}]}"#),
    ("POST /ledger/earnings 201", "POST /dtrs/generate", &[], r#"{"week": "$response.body#/0/period"}"#),
    // Installments due: posted by name.
    ("GET /payments/vehicle-repairs/fetch/installments 200", "POST /payments/vehicle-repairs/ledger/post-installment", &[],
        r#"{"installment_ids": ["$response.body#/items/0/installment_id"]}"#),
    ("GET /payments/vehicle-repairs/{repair_id} 200", "POST /payments/vehicle-repairs/ledger/post-installment", &[],
        r#"{"installment_ids": ["$response.body#/schedule/0/installment_id"]}"#),
    // The next step of a case; a new repair case's first.
    ("POST /payments/vehicle-repairs/create-case 201", "POST /case/{case_no}", &[("case_no", "$response.body#/case_no")], r#"{"step_id": "REPAIR_ENTER_DETAILS"}"#),
    ("GET /case/{case_no} 200", "POST /case/{case_no}", &[("case_no", "$response.body#/case_info/case_no")], r#"{"step_id": "$response.body#/case_info/current_step"}"#),
];

/// Writes the links into the document, given as JSON: utoipa 5 writes a link's members in
/// snake case (`operation_id`), which no client reads, so links are added after it is
/// serialized. A link naming an operation or status the document does not have is a
/// programming error: it stops a debug build (every test) at once.
pub fn document_links(document: &mut Value) {
    let ids = operation_ids(document);
    let mut links = Vec::new();
    for (from, targets, parameters) in FOLLOWS {
        for to in *targets {
            let parameters: serde_json::Map<String, Value> = parameters
                .iter()
                .map(|(name, expression)| (name.to_string(), json!(expression)))
                .collect();
            links.push((*from, *to, json!({ "parameters": parameters })));
        }
    }
    for (from, to, parameters, body) in FOLLOWS_WITH_BODY {
        let body: Value = serde_json::from_str(body).expect("a link body is JSON");
        links.push((
            *from,
            *to,
            json!({ "parameters": named(parameters), "requestBody": body }),
        ));
    }
    for (from, to, mut link) in links {
        let Some(target) = ids.get(to) else {
            debug_assert!(false, "link target {to} is not in the document");
            continue;
        };
        link["operationId"] = json!(target);
        let (source, status) = from.rsplit_once(' ').unwrap_or((from, ""));
        let response = source
            .split_once(' ')
            .and_then(|(method, path)| {
                document.pointer_mut(&format!(
                    "/paths/{}/{}/responses/{status}",
                    path.replace('~', "~0").replace('/', "~1"),
                    method.to_lowercase()
                ))
            })
            .and_then(Value::as_object_mut);
        let Some(response) = response else {
            debug_assert!(false, "link source {from} is not in the document");
            continue;
        };
        let existing = response.entry("links").or_insert_with(|| json!({}));
        let Some(existing) = existing.as_object_mut() else {
            continue;
        };
        let mut name = target.clone();
        while existing.contains_key(&name) {
            name.push('_');
        }
        existing.insert(name, link);
    }
}

/// A link's parameters: an expression (`$response.body#/…`) or a constant.
fn named(parameters: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    parameters
        .iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect()
}

/// `"METHOD /path"` → the operation's id.
fn operation_ids(document: &Value) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return ids;
    };
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(id) = item
                .pointer(&format!("/{method}/operationId"))
                .and_then(Value::as_str)
            {
                ids.insert(format!("{} {path}", method.to_uppercase()), id.to_string());
            }
        }
    }
    ids
}
