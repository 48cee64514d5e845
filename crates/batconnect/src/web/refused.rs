//! A refused form comes back as its page with every reason beside its field and what was
//! typed in every input — refused at the console's front door ([`super::clean_forms`]: a
//! control character in a field) or by its action ([`super::action`]). The page's own code
//! does not change: while it is drawn, the inputs of [`super::layout`] read what is here.

use super::Form;
use crate::error::FieldError;

/// What was refused: the fields and why, and what was typed (control characters taken out,
/// so the form can be sent again as shown once the fields are corrected).
#[derive(Clone)]
pub struct Refused {
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
}

tokio::task_local! {
    static REFUSED: Refused;
}

impl Refused {
    /// One field refused at the front door.
    pub fn new(field: String, message: String, form: &Form) -> Refused {
        Refused::of_form(vec![FieldError::new(field, message)], form)
    }

    /// A form its action refused with `errors`.
    pub fn of_form(errors: Vec<FieldError>, form: &Form) -> Refused {
        let typed = form
            .0
            .iter()
            .filter(|(name, _)| name != super::CSRF_FIELD)
            .map(|(name, value)| {
                let shown = value
                    .chars()
                    .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                    .collect();
                (name.clone(), shown)
            })
            .collect();
        Refused { errors, typed }
    }

    /// Runs `page` (drawing the form's page) with this refusal shown on it.
    pub async fn show<F: std::future::Future>(self, page: F) -> F::Output {
        REFUSED.scope(self, page).await
    }
}

/// The reason `name` was refused, on the page of a refused form.
pub fn error_for(name: &str) -> Option<String> {
    let pointer = format!("/data/{name}");
    REFUSED
        .try_with(|r| {
            r.errors
                .iter()
                .find(|e| e.field == name || e.pointer.as_deref() == Some(pointer.as_str()))
                .map(|e| e.message.clone())
        })
        .ok()
        .flatten()
}

/// What was typed into `name` (its last value), on the page of a refused form.
pub fn typed(name: &str) -> Option<String> {
    REFUSED
        .try_with(|r| {
            r.typed
                .iter()
                .rev()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.clone())
        })
        .ok()
        .flatten()
}

/// Whether `name` was sent with `value` (a ticked box, a chosen option of several), on the
/// page of a refused form; `None` on any other page.
pub fn was_sent(name: &str, value: &str) -> Option<bool> {
    REFUSED
        .try_with(|r| r.typed.iter().any(|(k, v)| k == name && v == value))
        .ok()
}

/// The line at the top of the page of a refused form (the field may be one it does not
/// show, a hidden one say).
pub fn summary() -> Option<String> {
    REFUSED
        .try_with(|r| {
            let said: Vec<String> = r
                .errors
                .iter()
                .map(|e| match e.field.as_str() {
                    "" | "form" => e.message.clone(),
                    field => format!("{} {}", field.replace('_', " "), e.message),
                })
                .collect();
            let what = if said.len() == 1 {
                "it"
            } else {
                "what is marked"
            };
            format!(
                "Nothing was saved: {}. Correct {what} and send the form again.",
                said.join("; ")
            )
        })
        .ok()
}
