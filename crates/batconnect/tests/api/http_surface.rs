use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn health_and_readiness_need_no_token(app) {
        let (status, body) = app.send(Method::GET, "/healthz", None, None).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
        let (status, body) = app.send(Method::GET, "/readyz", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["database"], app.backend.name());
    }

    async fn every_error_is_problem_json(app) {
        let response = app.client.get(app.url("/no/such/route")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let (status, body) = app.send(Method::DELETE, "/healthz", None, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["status"], 405);
        let token = app.token("operations").await;
        let response = app.client.post(app.url("/fleet/drivers")).bearer_auth(&token)
            .header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("not valid JSON"), "{body}");
        let (status, body) = app.post_as("operations", "/fleet/drivers", json!({"first_name": "A"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "last_name", "{body}");
    }

    async fn openapi_lists_every_tag_and_the_repairs_endpoints(app) {
        let (status, spec) = app.send(Method::GET, "/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        let tags: Vec<&str> = spec["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        for tag in ["Vehicle Repairs", "BPM", "Ledger", "DTR", "Fleet", "Auth", "Jobs"] {
            assert!(tags.contains(&tag), "missing tag {tag}");
        }
        let paths = spec["paths"].as_object().unwrap();
        for path in ["/payments/vehicle-repairs", "/payments/vehicle-repairs/create-case", "/payments/vehicle-repairs/{repair_id}",
                     "/payments/vehicle-repairs/fetch/installments", "/case/{case_no}", "/case", "/case-history/{case_no}"] {
            assert!(paths.contains_key(path), "missing path {path}");
        }
        assert_eq!(spec["paths"]["/payments/vehicle-repairs"]["get"]["tags"][0], "Vehicle Repairs");
        let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        assert!(docs.text().await.unwrap().contains("swagger"));
    }

    async fn the_document_carries_the_rules_the_server_enforces(app) {
        let (_, spec) = app.send(Method::GET, "/openapi.json", None, None).await;
        let schema = |name: &str, property: &str| spec["components"]["schemas"][name]["properties"][property].clone();
        assert_eq!(schema("LeaseRequest", "lease_type")["enum"], json!(["dov", "long-term", "short-term", "shift-lease", "medallion-only"]));
        assert_eq!(schema("TerminateRequest", "reason")["enum"].as_array().unwrap().len(), 5);
        assert_eq!(schema("TerminateRequest", "end_date")["format"], "date");
        assert_eq!(schema("MoveRequest", "action")["enum"], json!(["next", "close"]));
        assert_eq!(schema("VehicleInput", "vin")["pattern"], r"^ *[A-HJ-NPR-Za-hj-npr-z0-9]{17} *$");
        assert_eq!(schema("VehicleInput", "year")["minimum"], 1980);
        assert_eq!(schema("DriverInput", "tlc_license_no")["pattern"], r"^ *[0-9]{5,10} *$");
        assert_eq!(schema("EarningsRequest", "earnings")["maxItems"], 10_000);
        assert_eq!(schema("VoidRequest", "reason")["minLength"], 10);
        assert!(schema("InterimPaymentRequest", "amount")["pattern"].as_str().unwrap().contains("[0-9]{1,2}"));
        // Every other string refuses control characters; free text keeps line breaks.
        assert!(schema("DriverInput", "email")["pattern"].as_str().unwrap().contains("@"));
        assert_eq!(schema("DriverInput", "first_name")["pattern"], r"^[^\u0000-\u001F\u007F-\u009F]*$");
        assert_eq!(schema("TerminateRequest", "note")["pattern"], r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$");
        let params = spec["paths"]["/fleet/drivers"]["get"]["parameters"].as_array().unwrap().clone();
        let status = params.iter().find(|p| p["name"] == "status").unwrap();
        assert_eq!(status["schema"]["enum"], json!(["In Progress", "Registered", "Active", "Inactive"]));
        let ledger = spec["paths"]["/ledger/postings"]["get"]["parameters"].as_array().unwrap().clone();
        let entry_type = ledger.iter().find(|p| p["name"] == "entry_type").unwrap();
        assert!(entry_type["schema"]["pattern"].as_str().unwrap().contains("[Oo][Bb][Ll][Ii][Gg][Aa][Tt][Ii][Oo][Nn]|[Ee][Aa]"), "{entry_type}");
        // Sort keys, the interim list's words, a change that names something and takes no
        // null, a named record that is not blank, unknown members without control characters.
        let repairs = spec["paths"]["/payments/vehicle-repairs"]["get"]["parameters"].as_array().unwrap().clone();
        let sort_by = repairs.iter().find(|p| p["name"] == "sort_by").unwrap();
        assert!(sort_by["schema"]["enum"].as_array().unwrap().contains(&json!("remaining")), "{sort_by}");
        let interim = spec["paths"]["/ledger/interim-payments"]["get"]["parameters"].as_array().unwrap().clone();
        for name in ["payment_method", "status"] {
            let p = interim.iter().find(|p| p["name"] == name).unwrap();
            assert!(p["schema"]["pattern"].as_str().is_some(), "{p}");
        }
        assert_eq!(spec["components"]["schemas"]["VehicleUpdate"]["minProperties"], 1);
        assert_eq!(schema("VehicleUpdate", "plate_number")["type"], "string");
        let named = &spec["components"]["schemas"]["Named"];
        assert!(named.to_string().contains("\"minLength\":1"), "{named}");
        assert_eq!(spec["components"]["schemas"]["TerminateRequest"]["additionalProperties"]["$ref"], "#/components/schemas/CleanValue");
        assert!(!spec.to_string().contains(r"\\s"), "no pattern takes \\s (it admits control characters)");
        let token = app.token("operations").await;
        let (status, problem) = app.send(Method::PATCH, "/fleet/vehicles/1", Some(&token), Some(json!({"plate_number": null}))).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("plate_number")), "{problem}");
        // And an unknown entry type is refused, not an empty list.
        let (status, problem) = app.get_as("viewer", "/ledger/postings?entry_type=DEBIT").await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("entry_type")));
    }

    async fn every_link_in_the_document_leads_somewhere_real(app) {
        let (_, spec) = app.send(Method::GET, "/openapi.json", None, None).await;
        let operations = operations_by_id(&spec);
        let mut checked = 0;
        let mut reached = std::collections::BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    let Some(links) = response["links"].as_object() else { continue };
                    let source = format!("{} {path} {status}", method.to_uppercase());
                    let answer = &response["content"]["application/json"]["schema"];
                    for (name, link) in links {
                        let label = format!("{source} → {name}");
                        assert!(link.get("operation_id").is_none(), "{label}: members are camelCase: {link}");
                        let target = operations.get(link["operationId"].as_str().unwrap_or_default())
                            .unwrap_or_else(|| panic!("{label}: no operation {}", link["operationId"]));
                        reached.insert(link["operationId"].as_str().unwrap().to_string());
                        for (parameter, expression) in link["parameters"].as_object().into_iter().flatten() {
                            let declared = target["parameters"].as_array().into_iter().flatten()
                                .find(|p| p["name"] == parameter.as_str())
                                .unwrap_or_else(|| panic!("{label}: the target has no parameter {parameter}"));
                            // A path or query value is text: a number is written as one.
                            let expression = expression.as_str().unwrap();
                            // A constant (a step's id, a case type's prefix) is text.
                            let given = if expression.starts_with('$') { member_type(&spec, answer, expression, &label) } else { "string".into() };
                            let wanted = json_type(&spec, &declared["schema"]);
                            assert!(given == wanted || wanted == "string" && given == "integer",
                                "{label}: {parameter} takes {wanted}, given {given} from {expression}");
                        }
                        if let Some(body) = link.get("requestBody") {
                            let schema = &target["requestBody"]["content"]["application/json"]["schema"];
                            for (at, expression) in leaves(body, String::new()) {
                                let wanted = schema_at(&spec, schema, &at).unwrap_or_else(|| panic!("{label}: the target body has no {at}"));
                                let given = if expression.starts_with('$') { member_type(&spec, answer, &expression, &label) } else { "string".into() };
                                let wanted = json_type(&spec, &wanted);
                                assert!(wanted == given || wanted == "any", "{label}: body {at} takes {wanted}, given {given}");
                            }
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= 100, "only {checked} links");
        assert!(reached.len() >= 45, "links lead to only {} operations", reached.len());
    }

    async fn migrations_apply_once_and_are_recorded(app) {
        let applied = app.scalar_i64("SELECT COUNT(*) FROM _sqlx_migrations").await;
        assert!(applied >= 2);
        // Running them again (a second instance starting) changes nothing.
        app.db.migrate().await.unwrap();
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM _sqlx_migrations").await, applied);
        // Demo seeding on a second start loads nothing twice.
        batconnect::seed::demo(&app.db, batconnect::auth::password::HashCost::FAST_FOR_TESTS, crate::helpers::default_now()).await.unwrap();
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM drivers").await, 24);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users").await, 4);
    }
}

/// Every operation of the document by its id; ids are unique.
fn operations_by_id(
    spec: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut all = std::collections::BTreeMap::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation["operationId"].as_str() {
                assert!(
                    all.insert(id.to_string(), operation.clone()).is_none(),
                    "operationId {id} twice"
                );
            }
        }
    }
    all
}

/// The runtime expressions of a link body, by JSON pointer into the body.
fn leaves(value: &serde_json::Value, at: String) -> Vec<(String, String)> {
    match value {
        serde_json::Value::Object(members) => members
            .iter()
            .flat_map(|(k, v)| leaves(v, format!("{at}/{k}")))
            .collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| leaves(v, format!("{at}/{i}")))
            .collect(),
        serde_json::Value::String(expression) => vec![(at, expression.clone())],
        _ => Vec::new(),
    }
}

/// The type of what `$response.body#/…` points at in the answer's schema.
fn member_type(
    spec: &serde_json::Value,
    answer: &serde_json::Value,
    expression: &str,
    label: &str,
) -> String {
    let pointer = expression
        .strip_prefix("$response.body#")
        .unwrap_or_else(|| panic!("{label}: {expression} is not from the body"));
    let schema = schema_at(spec, answer, pointer)
        .unwrap_or_else(|| panic!("{label}: the answer has no {pointer}"));
    json_type(spec, &schema)
}

fn resolve<'a>(
    spec: &'a serde_json::Value,
    schema: &'a serde_json::Value,
) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(reference) => resolve(
            spec,
            spec.pointer(reference.trim_start_matches('#'))
                .expect("a reference resolves"),
        ),
        None => schema,
    }
}

/// The schema of the member at `pointer` (`/items/0/id`), through references, arrays and
/// combined schemas.
fn schema_at(
    spec: &serde_json::Value,
    schema: &serde_json::Value,
    pointer: &str,
) -> Option<serde_json::Value> {
    let schema = resolve(spec, schema);
    let Some((segment, rest)) = pointer
        .strip_prefix('/')
        .map(|p| p.split_once('/').map_or((p, ""), |(a, b)| (a, b)))
    else {
        return Some(schema.clone());
    };
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!("/{rest}")
    };
    for combined in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combined].as_array() {
            return parts
                .iter()
                .find_map(|part| schema_at(spec, part, &format!("/{segment}{rest}")));
        }
    }
    if segment.parse::<usize>().is_ok() && schema.get("items").is_some() {
        return schema_at(spec, &schema["items"], &rest);
    }
    schema["properties"]
        .get(segment)
        .and_then(|member| schema_at(spec, member, &rest))
}

/// A schema's type, `null` aside (`any` when it takes several).
fn json_type(spec: &serde_json::Value, schema: &serde_json::Value) -> String {
    let schema = resolve(spec, schema);
    match &schema["type"] {
        serde_json::Value::String(one) => one.clone(),
        serde_json::Value::Array(several) => {
            let types: Vec<_> = several.iter().filter(|t| *t != "null").collect();
            if types.len() == 1 {
                types[0].as_str().unwrap().to_string()
            } else {
                "any".into()
            }
        }
        _ => {
            let parts = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
            match parts.map(|p| {
                p.iter()
                    .map(|s| json_type(spec, s))
                    .filter(|t| t != "null")
                    .collect::<std::collections::BTreeSet<_>>()
            }) {
                Some(types) if types.len() == 1 => types.into_iter().next().unwrap(),
                _ => "any".into(),
            }
        }
    }
}
