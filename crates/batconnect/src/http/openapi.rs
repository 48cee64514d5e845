//! The API's error answers, documented once for every operation: each route declares its
//! success and the errors particular to it, and this pass adds the ones every route of its
//! kind can give (401 and 403 behind the bearer token, 400 and 422 for parameters and
//! bodies, 404 for a path naming something, 409 for a change, 413 and 415 for a body, 503
//! where exports shed load, 500), all as `application/problem+json`.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Ref, Schema, SchemaType, Type};
use utoipa::openapi::{Content, OpenApi, RefOr, ResponseBuilder};

const PROBLEM: &str = "application/problem+json";

/// Routes that need no token.
const PUBLIC: &[&str] = &["/healthz", "/readyz", "/auth/login"];

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM,
                Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
            )
            .build(),
    )
}

fn is_problem(content: &Content) -> bool {
    matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}

/// Adds the errors an operation can give and moves every problem body to
/// `application/problem+json`, the content type the API sends.
fn complete(path: &str, method: &str, operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            if response
                .content
                .get("application/json")
                .is_some_and(is_problem)
            {
                let content = response
                    .content
                    .shift_remove("application/json")
                    .expect("checked above");
                response.content.insert(PROBLEM.to_string(), content);
            }
        }
    }
    let public = PUBLIC.contains(&path);
    let has_body = operation.request_body.is_some();
    let changes = method != "get";
    let names_something = path.contains('{');
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    add(
        "400",
        "A parameter or the body cannot be read (the problem says which)",
    );
    add("422", "A field is invalid; `errors` names each one");
    if !public {
        add("401", "No valid bearer token (missing, expired or revoked)");
        add("403", "The caller's role may not do this");
        add(
            "429",
            "Too many requests from this client; retry after `Retry-After` seconds",
        );
    }
    if names_something {
        add("404", "What the path names does not exist");
    }
    if changes && !public {
        add(
            "409",
            "The change conflicts with the current state (the problem says how)",
        );
    }
    if has_body {
        add("413", "The body is larger than this operation accepts");
        add(
            "415",
            "The body is not of the content type this operation takes",
        );
    }
    add(
        "503",
        "The service is at capacity for this kind of request; retry after `Retry-After` seconds",
    );
    add("500", "An internal error; it has been logged");
}

/// The rules every list's query parameters follow, written into their schemas: pages from
/// 1 and at most 100 rows, the sort order and export formats by name, and no empty value
/// (an empty filter is refused, not ignored).
fn tighten_parameters(operation: &mut Operation) {
    let Some(parameters) = operation.parameters.as_mut() else {
        return;
    };
    for parameter in parameters.iter_mut() {
        if !matches!(parameter.parameter_in, ParameterIn::Query) {
            continue;
        }
        let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
            continue;
        };
        let is = |t: Type| match &schema.schema_type {
            SchemaType::Type(one) => *one == t,
            SchemaType::Array(many) => many.contains(&t),
            SchemaType::AnyValue => false,
        };
        let (is_integer, is_string) = (is(Type::Integer), is(Type::String));
        match parameter.name.as_str() {
            "page" if is_integer => {
                schema.minimum = Some(utoipa::Number::Int(1));
                schema.maximum = Some(utoipa::Number::Int(
                    (i64::MAX / crate::db::page::MAX_PER_PAGE) as isize,
                ));
            }
            "per_page" if is_integer => {
                schema.minimum = Some(utoipa::Number::Int(1));
                schema.maximum = Some(utoipa::Number::Int(crate::db::page::MAX_PER_PAGE as isize));
            }
            "workshop_id" if is_integer => {
                schema.minimum = Some(utoipa::Number::Int(1));
            }
            "sort_order" if is_string => {
                schema.enum_values = Some(vec!["asc".into(), "desc".into()]);
            }
            "format" if is_string => {
                schema.enum_values = Some(vec![
                    "csv".into(),
                    "excel".into(),
                    "xlsx".into(),
                    "pdf".into(),
                ]);
            }
            _ => {}
        }
        if is_string && schema.min_length.is_none() {
            schema.min_length = Some(1);
        }
    }
}

pub fn document_problems(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                complete(path, method, operation);
                tighten_parameters(operation);
            }
        }
    }
}
