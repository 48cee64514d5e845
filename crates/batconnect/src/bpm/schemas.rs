//! Step schemas: resolved from `BAT_SCHEMA_DIR` when set and the file is there, otherwise
//! from the copies shipped in the binary (`src/bpm_flows/**.json`).

use std::path::{Component, Path};

use include_dir::{include_dir, Dir};

use crate::error::{AppError, FieldError};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/bpm_flows");

/// Reads the schema at `relative` (e.g. `newrepair/schemas/enter_details.json`).
pub fn load(schema_dir: Option<&Path>, relative: &str) -> Result<serde_json::Value, AppError> {
    let path = Path::new(relative);
    let safe = !relative.is_empty()
        && path.extension().is_some_and(|e| e == "json")
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(misconfigured(
            relative,
            "must be a relative path to a .json file inside the schema root",
        ));
    }
    let text = match schema_dir.map(|d| d.join(path)).filter(|p| p.is_file()) {
        Some(on_disk) => std::fs::read_to_string(&on_disk).map_err(|e| {
            misconfigured(
                relative,
                &format!("cannot be read from {}: {e}", on_disk.display()),
            )
        })?,
        None => EMBEDDED
            .get_file(path)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string)
            .ok_or_else(|| {
                misconfigured(
                    relative,
                    &format!("was not found{}", where_looked(schema_dir)),
                )
            })?,
    };
    serde_json::from_str(&text)
        .map_err(|e| misconfigured(relative, &format!("is not valid JSON: {e}")))
}

fn where_looked(schema_dir: Option<&Path>) -> String {
    match schema_dir {
        Some(d) => format!(
            " in BAT_SCHEMA_DIR ({}) nor among the built-in schemas",
            d.display()
        ),
        None => " among the built-in schemas (set BAT_SCHEMA_DIR to add your own)".into(),
    }
}

fn misconfigured(path: &str, reason: &str) -> AppError {
    AppError::Misconfigured(format!("the step's schema '{path}' {reason}"))
}

/// Whether `schema` is a JSON Schema the validator accepts (checked against its
/// meta-schema), so `link-schema` refuses a file that every later submission would fail on.
pub fn check(path: &str, schema: &serde_json::Value) -> Result<(), AppError> {
    if !schema.is_object() {
        return Err(misconfigured(
            path,
            "is not a JSON Schema: it must be a JSON object",
        ));
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map(|_| ())
        .map_err(|e| misconfigured(path, &format!("is not a valid JSON Schema: {e}")))
}

/// Every violation of `schema` by `data`, one per field, each with its JSON pointer
/// (relative to `data`, under `/data`) and a message a person can act on: the schema's own
/// `x-message` for the field when it has one, else plain words for the rule broken — never
/// a regular expression or a `oneOf`.
pub fn validate(
    path: &str,
    schema: &serde_json::Value,
    data: &serde_json::Value,
) -> Result<(), AppError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| misconfigured(path, &format!("is not a valid JSON Schema: {e}")))?;
    let mut errors: Vec<FieldError> = Vec::new();
    for e in validator.iter_errors(data) {
        for (pointer, message) in explain(schema, &e) {
            if !errors
                .iter()
                .any(|f| f.pointer.as_deref() == Some(pointer.as_str()))
            {
                let mut fe = FieldError::at(pointer.clone(), message);
                if pointer == "/data" {
                    fe.field = "data".into();
                }
                errors.push(fe);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// (pointer under `/data`, message) for one violation.
fn explain(
    schema: &serde_json::Value,
    e: &jsonschema::ValidationError<'_>,
) -> Vec<(String, String)> {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    let at = e.instance_path.to_string();
    let pointer = format!("/data{at}");
    let named = |name: &str| format!("/data{at}/{}", name.replace('~', "~0").replace('/', "~1"));
    let custom = field_schema(schema, &at)
        .and_then(|f| f.get("x-message"))
        .and_then(|m| m.as_str())
        .map(str::to_string);
    let list = |v: &serde_json::Value| match v {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let message = match &e.kind {
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            return vec![(named(name), "is required".into())];
        }
        Kind::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|name| (named(name), "is not a field of this step".into()))
                .collect();
        }
        _ if custom.is_some() => custom.unwrap_or_default(),
        Kind::Type { kind } => {
            let names = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("must be a {names}")
        }
        Kind::Enum { options } => format!("must be one of: {}", list(options)),
        Kind::Constant { expected_value } => format!("must be {}", list(expected_value)),
        Kind::Format { format } if format == "date" => "must be a date written YYYY-MM-DD".into(),
        Kind::Format { format } => format!("must be a valid {format}"),
        Kind::MinLength { limit: 1 } => "must not be empty".into(),
        Kind::MinLength { limit } => format!("must be at least {limit} characters"),
        Kind::MaxLength { limit } => format!("must be at most {limit} characters"),
        Kind::Minimum { limit } => format!("must be at least {limit}"),
        Kind::ExclusiveMinimum { limit } => format!("must be more than {limit}"),
        Kind::Maximum { limit } => format!("must be at most {limit}"),
        Kind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        Kind::Pattern { .. } => "is not written the way this field expects".into(),
        _ => "is not an accepted value here".into(),
    };
    vec![(pointer, message)]
}

/// The schema of the field at `instance` (a JSON pointer into the data), following
/// `properties`, `items` and local `$ref`s.
fn field_schema<'s>(
    schema: &'s serde_json::Value,
    instance: &str,
) -> Option<&'s serde_json::Value> {
    let resolve = |node: &'s serde_json::Value| -> &'s serde_json::Value {
        node.get("$ref")
            .and_then(|r| r.as_str())
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|r| schema.pointer(r))
            .unwrap_or(node)
    };
    let mut node = resolve(schema);
    for part in instance.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        node = match node.get("properties").and_then(|p| p.get(&part)) {
            Some(child) => resolve(child),
            None => resolve(node.get("items")?),
        };
    }
    Some(node)
}

/// Where a schema file would be read from, for messages and the CLI.
pub fn describe(schema_dir: Option<&Path>, relative: &str) -> String {
    match schema_dir.map(|d| d.join(relative)).filter(|p| p.is_file()) {
        Some(p) => p.display().to_string(),
        None => format!("built-in:{relative}"),
    }
}

pub fn exists(schema_dir: Option<&Path>, relative: &str) -> bool {
    load(schema_dir, relative).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_enter_details_schema_loads() {
        let schema = load(None, "newrepair/schemas/enter_details.json").unwrap();
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn a_file_that_is_not_a_json_schema_is_refused_before_it_is_linked() {
        let builtin = load(None, "newrepair/schemas/enter_details.json").unwrap();
        assert!(check("x.json", &builtin).is_ok());
        for bad in [
            serde_json::json!({"type": "invalid_type"}),
            serde_json::json!({"properties": {"a": {"minLength": -1}}}),
            serde_json::json!(5),
            serde_json::json!(["not", "a", "schema"]),
        ] {
            let Err(AppError::Misconfigured(message)) = check("x.json", &bad) else {
                panic!("{bad} passed");
            };
            assert!(message.contains("x.json"), "{message}");
        }
    }

    #[test]
    fn paths_escaping_the_root_are_refused() {
        assert!(load(None, "../secrets.json").is_err());
        assert!(load(None, "/etc/passwd.json").is_err());
        assert!(load(None, "missing/schema.json").is_err());
    }

    #[test]
    fn violations_carry_pointers() {
        let schema = serde_json::json!({"type": "object", "required": ["a"], "properties": {"b": {"type": "integer"}}});
        let AppError::Validation(errors) =
            validate("x.json", &schema, &serde_json::json!({"b": "no"})).unwrap_err()
        else {
            panic!("expected validation errors")
        };
        assert_eq!(errors.len(), 2);
        assert!(errors
            .iter()
            .any(|e| e.pointer.as_deref() == Some("/data/b")));
    }
}
