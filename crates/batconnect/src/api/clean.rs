//! The one rule for text that comes in — JSON bodies, paths, query strings, form fields:
//! a NUL byte or any other control character is refused, naming the field; free-text
//! fields (notes, reasons, descriptions) may carry line breaks and tabs, nothing else.
//! PostgreSQL refuses NUL in text (a 500 before this rule) and SQLite would store it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::{AppError, FieldError};

/// Fields whose text is written by a person for a person: line breaks and tabs allowed.
pub const FREE_TEXT_FIELDS: &[&str] = &[
    "notes",
    "note",
    "reason",
    "description",
    "memo",
    "termination_note",
    "comment",
];

/// What is wrong with `value` as the text of `field`, if anything.
pub fn check_text(field: &str, value: &str) -> Result<(), String> {
    let free_text = FREE_TEXT_FIELDS.contains(&field);
    for c in value.chars() {
        if c == '\0' {
            return Err("must not contain a NUL character".into());
        }
        if c.is_control() && !(free_text && matches!(c, '\n' | '\r' | '\t')) {
            return Err(if free_text {
                format!(
                    "must not contain control characters other than line breaks and tabs (found U+{:04X})",
                    u32::from(c)
                )
            } else {
                format!(
                    "must not contain control characters such as line breaks or tabs (found U+{:04X})",
                    u32::from(c)
                )
            });
        }
    }
    Ok(())
}

/// Every string (and key) of a JSON document that breaks the rule, by JSON pointer; the
/// field of a string is the key it sits under (an array's items take the array's key).
pub fn check_json(value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk(value, "", "body", &mut errors);
    errors
}

fn walk(value: &Value, pointer: &str, field: &str, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(text) => {
            if let Err(message) = check_text(field, text) {
                errors.push(FieldError::at(pointer_or_root(pointer), message).named(field));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{pointer}/{i}"), field, errors);
            }
        }
        Value::Object(members) => {
            for (key, item) in members {
                let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                if let Err(message) = check_text("name", key) {
                    errors.push(FieldError::at(
                        at.clone(),
                        format!("a field name {message}"),
                    ));
                }
                walk(item, &at, key, errors);
            }
        }
        _ => {}
    }
}

fn pointer_or_root(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer.into()
    }
}

/// Middleware: a path whose decoded text breaks the rule is refused with 400, a query
/// parameter with 422 naming it, before any route sees them.
pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
    if let Err(message) = check_text("path", &path) {
        return AppError::BadRequest(format!("the path {message}")).into_response();
    }
    if let Some(query) = uri.query() {
        // Each name and value must decode to UTF-8: `%FF` or an overlong `%C0%80` is a
        // 400 naming the parameter, never replaced by U+FFFD and taken.
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(&text.replace('+', " "))
                    .decode_utf8()
                    .map(|t| t.into_owned())
            };
            let shown = decode(name).unwrap_or_else(|_| {
                percent_encoding::percent_decode_str(name)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            if decode(name).is_err() || decode(value).is_err() {
                return AppError::BadRequest(format!(
                    "query parameter '{shown}': its value is not valid UTF-8 text (percent-encode UTF-8 bytes only)"
                ))
                .into_response();
            }
        }
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let problem = check_text("name", &name)
                .map_err(|m| format!("a query parameter name {m}"))
                .and_then(|_| check_text(&name, &value).map_err(|m| m.to_string()));
            if let Err(message) = problem {
                return AppError::Validation(vec![FieldError::new(name.to_string(), message)])
                    .into_response();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_take_no_control_characters_free_text_takes_line_breaks() {
        assert!(check_text("invoice_number", "BAW-1187").is_ok());
        assert!(check_text("invoice_number", "BAW\t1187").is_err());
        assert!(check_text("first_name", "Zoë\u{7f}").is_err());
        assert!(check_text("notes", "line one\nline two\ttabbed").is_ok());
        assert_eq!(
            check_text("notes", "a\0b").unwrap_err(),
            "must not contain a NUL character"
        );
        assert!(check_text("notes", "bell\u{7}").is_err());
        assert!(check_text("reason", "C1 \u{85} control").is_err());
    }

    #[test]
    fn json_errors_point_at_the_string() {
        let errors = check_json(&json!({
            "earnings": [{"lease_id": 1, "period": "2026-11-22\u{0}"}],
            "data": {"notes": "fine\nhere", "invoice_number": "X\nY"},
            "bad\u{0}key": 1
        }));
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.clone()).collect();
        assert_eq!(
            pointers,
            vec!["/bad\u{0}key", "/data/invoice_number", "/earnings/0/period"]
        );
        assert_eq!(errors[1].field, "invoice_number");
        assert_eq!(errors[2].field, "period");
    }
}
