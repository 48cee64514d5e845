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
        return Err(misconfigured(path, "is not a JSON Schema: it must be a JSON object"));
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map(|_| ())
        .map_err(|e| misconfigured(path, &format!("is not a valid JSON Schema: {e}")))
}

/// Every violation of `schema` by `data`, each with its JSON pointer (relative to `data`).
pub fn validate(
    path: &str,
    schema: &serde_json::Value,
    data: &serde_json::Value,
) -> Result<(), AppError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| misconfigured(path, &format!("is not a valid JSON Schema: {e}")))?;
    let errors: Vec<FieldError> = validator
        .iter_errors(data)
        .map(|e| {
            let pointer = e.instance_path.to_string();
            let mut fe = FieldError::at(format!("/data{pointer}"), e.to_string());
            if pointer.is_empty() {
                fe.field = "data".into();
            }
            fe
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
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
