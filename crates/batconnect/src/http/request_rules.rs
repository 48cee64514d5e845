//! The rules the server enforces on what comes in, written into the OpenAPI document so a
//! client (or a fuzzer) can read them: words by name (from the same enums the services
//! parse with), dates, amounts, lengths, identifier shapes, and the text rule every string
//! follows (no control characters; line breaks and tabs only in free text, see
//! [`crate::api::clean`]). One table, applied to request bodies and parameters after the
//! routes have declared their types.
//!
//! What cannot be written here stays in the handlers and is refused with 422 naming the
//! field: references to rows that must exist, and rules that join two fields.

use std::collections::BTreeSet;

use domain::ledger::{BalanceStatus, Category, EntryType, PostingStatus};
use domain::status::{
    DriverStatus, DtrStatus, InstallmentStatus, InvoiceStatus, LeaseStatus, LeaseType,
    MedallionStatus, PayTo, TerminationReason, WorkshopKind, WorkshopType,
};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr};

use crate::api::clean::FREE_TEXT_FIELDS;

/// Text without control characters (`char::is_control`: C0, DEL and C1).
const IDENTIFIER_TEXT: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// Free text: line breaks and tabs allowed, no other control character.
const FREE_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
/// A positive amount with at most two decimals (surrounding spaces are ignored), small
/// enough to count in cents.
const AMOUNT: &str = r"^ *\+?[0-9]{1,15}(\.[0-9]{1,2})? *$";
/// An e-mail address as the server takes it: an `@`, no blank or control character inside,
/// blanks around it ignored; empty clears it (on a change).
const EMAIL: &str = r"^ *([^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*@[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*)? *$";
/// A phone number as the server takes it: at least 7 digits among at most 30 characters,
/// or blank (which clears it on a change).
const PHONE: &str =
    r"^ *$|^([^0-9\u0000-\u001F\u007F-\u009F]*[0-9]){7}[^\u0000-\u001F\u007F-\u009F]*$";
/// Payment methods separated by commas (a filter that takes several).
const PAYMENT_METHOD_LIST: &str = concat!(
    r"^[ ,]*([Cc][Aa][Ss][Hh]|[Cc][Hh][Ee][Cc][Kk]|[Mm][Oo][Nn][Ee][Yy][ _-][Oo][Rr][Dd][Ee][Rr]|[Cc][Aa][Rr][Dd]|[Aa][Cc][Hh])",
    r"( *,[ ,]*([Cc][Aa][Ss][Hh]|[Cc][Hh][Ee][Cc][Kk]|[Mm][Oo][Nn][Ee][Yy][ _-][Oo][Rr][Dd][Ee][Rr]|[Cc][Aa][Rr][Dd]|[Aa][Cc][Hh]))*[ ,]*$"
);
/// A record named by text (a lease id, a VIN, a driver id): 1 to 40 characters, not blank.
const NAMED_TEXT: &str = r"^ *[^\u0000-\u0020\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// `Idempotency-Key`: 1 to 200 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = r"^[!-~]([\t -~]{0,198}[!-~])?$";

/// What the server requires of one value.
enum Rule {
    Date,
    Words(Vec<&'static str>),
    /// Words separated by commas (a filter that takes several), in any letter case.
    WordList(Vec<&'static str>),
    /// One word, in any letter case.
    WordAnyCase(Vec<&'static str>),
    Amount,
    Pattern(&'static str),
    /// A pattern and a length in characters.
    PatternLength(&'static str, usize, usize),
    Length(usize, usize),
    /// At least, and at most (when bounded), this many items.
    Items(usize, Option<usize>),
    Range(i64, i64),
}

fn words(all: Vec<&'static str>) -> Rule {
    Rule::Words(all)
}

/// Manual obligations take every obligation category but Repair (installments post those).
fn manual_categories() -> Vec<&'static str> {
    Category::ALL
        .iter()
        .filter(|c| c.is_obligation() && **c != Category::Repair)
        .map(|c| c.as_str())
        .collect()
}

/// The rule for a body property, by schema and property name.
fn body_rule(schema: &str, property: &str, this_year: i64) -> Option<Rule> {
    Some(match (schema, property) {
        ("DriverInput", "status") => words(DriverStatus::all_words()),
        ("DriverInput", "pay_to") => words(PayTo::all_words()),
        ("DriverInput", "tlc_license_no") => Rule::Pattern(r"^ *[0-9]{5,10} *$"),
        ("DriverInput", "first_name" | "last_name") => Rule::Length(1, 100),
        ("DriverUpdate", "status") => words(DriverStatus::all_words()),
        ("DriverUpdate" | "DriverInput", "phone") => Rule::PatternLength(PHONE, 0, 30),
        ("DriverUpdate" | "DriverInput", "email") => Rule::PatternLength(EMAIL, 0, 254),
        ("VehicleUpdate" | "VehicleInput", "plate_number") => {
            Rule::Pattern(r"^ *[A-Za-z0-9 -]{0,12} *$")
        }
        ("LeaseUpdate", "additional_drivers") => Rule::Items(0, Some(10)),
        ("WorkshopInput" | "WorkshopUpdate", "name") => Rule::PatternLength(NAMED_TEXT, 1, 120),
        ("WorkshopInput" | "WorkshopUpdate", "kind") => words(WorkshopKind::all_words()),
        ("WorkshopInput" | "WorkshopUpdate", "address") => Rule::Length(0, 300),
        ("WorkshopInput" | "WorkshopUpdate", "tax_registration_no") => Rule::Length(0, 40),
        ("WorkshopInput" | "WorkshopUpdate", "phone") => Rule::PatternLength(PHONE, 0, 30),
        ("WorkshopInput" | "WorkshopUpdate", "email") => Rule::PatternLength(EMAIL, 0, 254),
        ("MedallionInput", "status") => words(MedallionStatus::all_words()),
        ("MedallionInput", "medallion_number") => Rule::Pattern(r"^ *[A-Za-z0-9]{2,8} *$"),
        ("VehicleInput", "vin") => Rule::Pattern(r"^ *[A-HJ-NPR-Za-hj-npr-z0-9]{17} *$"),
        ("VehicleInput", "make" | "model") => Rule::Length(1, 60),
        ("VehicleInput", "year") => Rule::Range(1980, this_year + 2),
        ("LeaseRequest", "lease_type") => words(LeaseType::all_words()),
        ("LeaseRequest", "status") => words(LeaseStatus::all_words()),
        ("LeaseRequest", "drivers") => Rule::Items(1, None),
        ("TerminateRequest", "reason") => words(TerminationReason::all_words()),
        ("ManualObligationRequest", "category") => words(manual_categories()),
        ("MoveRequest", "action") => words(vec!["next", "close"]),
        ("MoveRequest", "reason") => Rule::Length(0, 500),
        ("EarningsRequest", "earnings") => Rule::Items(1, Some(10_000)),
        ("PostInstallmentsRequest", "installment_ids") => Rule::Items(1, Some(1000)),
        ("VoidRequest" | "HoldRequest", "reason") => Rule::Length(10, 500),
        ("LifecycleRequest" | "ManualObligationRequest", "reason") => Rule::Length(1, 500),
        ("InterimPaymentRequest", "payment_method") => Rule::Pattern(
            r"^ *([Cc][Aa][Ss][Hh]|[Cc][Hh][Ee][Cc][Kk]|[Mm][Oo][Nn][Ee][Yy][ _-][Oo][Rr][Dd][Ee][Rr]|[Cc][Aa][Rr][Dd]|[Aa][Cc][Hh]) *$",
        ),
        ("InterimPaymentRequest", "payment_date") => Rule::Date,
        ("InterimPaymentRequest", "memo" | "note") => Rule::Length(0, 500),
        (_, "amount" | "weekly_rate") => Rule::Amount,
        (_, "period" | "week" | "as_of" | "due_date" | "end_date" | "start_date") => Rule::Date,
        _ => return None,
    })
}

/// The rule for a query parameter, by path and name.
fn query_rule(path: &str, name: &str) -> Option<Rule> {
    Some(match (path, name) {
        (_, "week" | "period" | "from_date" | "to_date" | "from_week" | "to_week") => Rule::Date,
        (_, "from_invoice_date" | "to_invoice_date") => Rule::Date,
        (_, "from_total_amount" | "to_total_amount") => Rule::Amount,
        ("/dtrs", "status") => Rule::WordAnyCase(DtrStatus::all_words()),
        ("/fleet/drivers", "status") => words(DriverStatus::all_words()),
        ("/workshops", "kind") => words(WorkshopKind::all_words()),
        ("/workshops", "active") => words(vec!["true", "false"]),
        ("/fleet/leases", "status") => words(LeaseStatus::all_words()),
        ("/fleet/leases", "lease_type") => words(LeaseType::all_words()),
        ("/jobs/runs", "job") => words(crate::jobs::model::CHAIN.to_vec()),
        ("/ledger/export", "kind") => words(vec!["postings", "balances"]),
        ("/ledger/postings", "status") => Rule::WordList(PostingStatus::all_words()),
        // Postings or balances, by `kind`.
        ("/ledger/export", "status") => Rule::WordList(
            PostingStatus::all_words()
                .into_iter()
                .chain(BalanceStatus::all_words())
                .collect(),
        ),
        ("/ledger/balances", "status") => Rule::WordList(BalanceStatus::all_words()),
        (p, "payment_method") if p.starts_with("/ledger/interim-payments") => {
            Rule::Pattern(PAYMENT_METHOD_LIST)
        }
        (p, "status") if p.starts_with("/ledger/interim-payments") => {
            Rule::WordList(PostingStatus::all_words())
        }
        (p, "sort_by") if p.starts_with("/ledger/interim-payments") => words(
            crate::ledger::interim_list::SORTS
                .iter()
                .map(|(k, _)| *k)
                .collect(),
        ),
        (p, _) if p.starts_with("/ledger/interim-payments") => return None,
        (
            "/payments/vehicle-repairs"
            | "/payments/vehicle-repairs/list/export"
            | "/payments/vehicle-repairs/list/export/lines",
            "sort_by",
        ) => words(
            crate::repairs::query::INVOICE_SORTS
                .iter()
                .map(|(k, _)| *k)
                .chain(["paid", "remaining"])
                .collect(),
        ),
        (p, "sort_by") if p.contains("/fetch/installments") => words(
            crate::repairs::query::INSTALLMENT_SORTS
                .iter()
                .map(|(k, _)| *k)
                .collect(),
        ),
        (p, "category") if p.starts_with("/ledger/") => Rule::WordList(Category::all_words()),
        (p, "entry_type") if p.starts_with("/ledger/") => Rule::WordList(EntryType::all_words()),
        (p, "status") if p.contains("/fetch/installments") => {
            Rule::WordList(InstallmentStatus::all_words())
        }
        (p, "status") if p.starts_with("/payments/vehicle-repairs") => {
            Rule::WordList(InvoiceStatus::all_words())
        }
        (p, "lease_type") if p.starts_with("/payments/vehicle-repairs") => {
            Rule::WordList(LeaseType::all_words())
        }
        (p, "workshop_type") if p.starts_with("/payments/vehicle-repairs") => {
            Rule::WordList(WorkshopType::all_words())
        }
        _ => return None,
    })
}

/// The words in any letter case, one of them: `(?:[Oo][Pp][Ee][Nn]|…)`.
fn any_case_alternation(words: &[&str]) -> String {
    let one = words
        .iter()
        .map(|w| {
            w.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        regex_escape(&c.to_string())
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|");
    format!("({one})")
}

/// Words in any letter case separated by commas (blanks around them and empty items are
/// ignored, as `RawQuery::list` does).
fn word_list_pattern(words: &[&str]) -> String {
    let one = any_case_alternation(words);
    format!(r"^[ ,]*{one}( *,[ ,]*{one})*[ ,]*$")
}

fn regex_escape(word: &str) -> String {
    word.chars()
        .flat_map(|c| {
            let special = "\\^$.|?*+()[]{}-".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// The control-character rule for a string: free text may hold line breaks and tabs.
fn text_rule(free_text: bool) -> &'static str {
    if free_text {
        FREE_TEXT
    } else {
        IDENTIFIER_TEXT
    }
}

fn is_type(schema_type: &SchemaType, t: Type) -> bool {
    match schema_type {
        SchemaType::Type(one) => *one == t,
        SchemaType::Array(many) => many.contains(&t),
        SchemaType::AnyValue => false,
    }
}

/// Writes `rule` (or, for a string without one, the text rule) into a value's schema.
fn apply(schema: &mut Schema, rule: Option<Rule>, free_text: bool) {
    match schema {
        Schema::Object(object) => {
            let is_string = is_type(&object.schema_type, Type::String);
            match rule {
                Some(Rule::Date) => {
                    object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Date))
                }
                Some(Rule::Words(words)) => {
                    let mut values: Vec<serde_json::Value> =
                        words.into_iter().map(Into::into).collect();
                    // An optional member takes `null` as "left out" (serde reads it as
                    // absent), so its list of words says so.
                    if is_type(&object.schema_type, Type::Null) {
                        values.push(serde_json::Value::Null);
                    }
                    object.enum_values = Some(values)
                }
                Some(Rule::WordList(words)) => object.pattern = Some(word_list_pattern(&words)),
                Some(Rule::WordAnyCase(words)) => {
                    object.pattern = Some(format!(r"^ *{} *$", any_case_alternation(&words)))
                }
                Some(Rule::Amount) if is_string => object.pattern = Some(AMOUNT.into()),
                Some(Rule::Pattern(pattern)) => object.pattern = Some(pattern.into()),
                Some(Rule::PatternLength(pattern, min, max)) => {
                    object.pattern = Some(pattern.into());
                    object.min_length = Some(min);
                    object.max_length = Some(max);
                }
                Some(Rule::Length(min, max)) => {
                    object.min_length = Some(min);
                    object.max_length = Some(max);
                    object.pattern = Some(text_rule(free_text).into());
                }
                Some(Rule::Range(min, max)) => {
                    object.minimum = Some(utoipa::Number::Int(min as isize));
                    object.maximum = Some(utoipa::Number::Int(max as isize));
                }
                Some(Rule::Amount | Rule::Items(..)) => {}
                None if is_string
                    && object.enum_values.is_none()
                    && object.format.is_none()
                    && object.pattern.is_none() =>
                {
                    object.pattern = Some(text_rule(free_text).into());
                }
                None => {}
            }
        }
        Schema::Array(array) => {
            if let Some(Rule::Items(min, max)) = rule {
                array.min_items = Some(min);
                array.max_items = max;
            } else if let ArrayItems::RefOrSchema(items) = &mut array.items {
                // An array of strings: each item follows the text rule.
                if let RefOr::T(item) = items.as_mut() {
                    apply(item, rule, free_text);
                }
            }
        }
        _ => {}
    }
}

/// The component schemas a request body reaches, by name.
fn request_schemas(openapi: &OpenApi) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    for item in openapi.paths.paths.values() {
        for operation in operations(item) {
            if let Some(body) = &operation.request_body {
                for content in body.content.values() {
                    if let Some(RefOr::Ref(r)) = &content.schema {
                        todo.push(schema_name(&r.ref_location));
                    }
                }
            }
        }
    }
    let schemas = openapi.components.as_ref().map(|c| &c.schemas);
    while let Some(name) = todo.pop() {
        if !names.insert(name.clone()) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = schemas.and_then(|s| s.get(&name)) {
            for property in object.properties.values() {
                let reached = match property {
                    RefOr::Ref(r) => Some(&r.ref_location),
                    RefOr::T(Schema::Array(array)) => match &array.items {
                        ArrayItems::RefOrSchema(items) => match items.as_ref() {
                            RefOr::Ref(r) => Some(&r.ref_location),
                            _ => None,
                        },
                        _ => None,
                    },
                    _ => None,
                };
                todo.extend(reached.map(|r| schema_name(r)));
            }
        }
    }
    names
}

fn schema_name(location: &str) -> String {
    location.rsplit('/').next().unwrap_or_default().to_string()
}

fn operations(item: &utoipa::openapi::PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.patch]
        .into_iter()
        .flatten()
}

/// The schema of a member name: the identifier rule.
fn member_name() -> Box<Schema> {
    Box::new(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(IDENTIFIER_TEXT))
            .build(),
    ))
}

/// What an unknown member may hold (the server ignores it, but reads it for the text rule):
/// any JSON whose strings and member names, however deep, hold no control character.
const CLEAN_VALUE: &str = "CleanValue";

fn clean_value() -> Schema {
    let itself = || RefOr::Ref(Ref::from_schema_name(CLEAN_VALUE));
    let mut object = ObjectBuilder::new().schema_type(Type::Object).build();
    object.property_names = Some(member_name());
    object.additional_properties = Some(Box::new(AdditionalProperties::RefOr(itself())));
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Array(vec![
                        Type::Null,
                        Type::Boolean,
                        Type::Number,
                    ]))
                    .build(),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(IDENTIFIER_TEXT))
                    .build(),
            )
            .item(ArrayBuilder::new().items(itself()).build())
            .item(object)
            .build(),
    )
}

/// A record named by its id or its business id (`Named`): the text must name something.
fn document_named(components: &mut utoipa::openapi::Components) {
    if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut("Named") {
        for item in one_of.items.iter_mut() {
            if let RefOr::T(Schema::Object(object)) = item {
                if is_type(&object.schema_type, Type::String) {
                    object.pattern = Some(NAMED_TEXT.into());
                    object.min_length = Some(1);
                    object.max_length = Some(40);
                }
            }
        }
    }
}

/// Writes the request rules into `openapi`.
pub fn document_request_rules(openapi: &mut OpenApi, this_year: i64) {
    let requests = request_schemas(openapi);
    if let Some(components) = openapi.components.as_mut() {
        components
            .schemas
            .insert(CLEAN_VALUE.to_string(), RefOr::T(clean_value()));
        document_named(components);
        for name in &requests {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) else {
                continue;
            };
            // Member names follow the identifier rule too, and an unknown member (ignored)
            // holds no control character either, however deep.
            object.property_names = Some(member_name());
            if object.additional_properties.is_none() {
                object.additional_properties = Some(Box::new(AdditionalProperties::RefOr(
                    RefOr::Ref(Ref::from_schema_name(CLEAN_VALUE)),
                )));
            }
            // A change names at least one thing to change, and null is not "leave it":
            // a member left out is.
            if name.ends_with("Update") {
                object.min_properties = Some(1);
                for schema in object.properties.values_mut() {
                    if let RefOr::T(Schema::Object(property)) = schema {
                        if let SchemaType::Array(types) = &property.schema_type {
                            let kept: Vec<Type> = types
                                .iter()
                                .filter(|t| **t != Type::Null)
                                .cloned()
                                .collect();
                            if let [one] = kept.as_slice() {
                                property.schema_type = SchemaType::Type(one.clone());
                            }
                        }
                    }
                }
            }
            for (property, schema) in object.properties.iter_mut() {
                if let RefOr::T(schema) = schema {
                    let free_text = FREE_TEXT_FIELDS.contains(&property.as_str());
                    apply(schema, body_rule(name, property, this_year), free_text);
                }
            }
        }
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                let Some(RefOr::T(schema)) = parameter.schema.as_mut() else {
                    continue;
                };
                let rule = match parameter.parameter_in {
                    ParameterIn::Query => query_rule(path, &parameter.name),
                    ParameterIn::Header if parameter.name == "Idempotency-Key" => {
                        Some(Rule::Pattern(IDEMPOTENCY_KEY))
                    }
                    _ => None,
                };
                apply(schema, rule, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_take_any_letter_case_and_escape_their_words() {
        assert_eq!(
            word_list_pattern(&["Open", "a-b"]),
            r"^[ ,]*([Oo][Pp][Ee][Nn]|[Aa]\-[Bb])( *,[ ,]*([Oo][Pp][Ee][Nn]|[Aa]\-[Bb]))*[ ,]*$"
        );
    }
}
