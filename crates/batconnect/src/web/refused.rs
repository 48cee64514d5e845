//! A form refused at the console's front door ([`super::clean_forms`]: a control character
//! in a field) comes back as the page it was sent from, with the reason beside the field and
//! the text typed into its inputs — the page's own code does not change: while that page is
//! drawn, [`super::layout::field`] and [`super::layout::text_input`] read what is here.

use super::Form;

/// What was refused: the field, why, and what was typed (control characters taken out, so
/// the form can be sent again as shown once the field is corrected).
#[derive(Clone)]
pub struct Refused {
    pub field: String,
    pub message: String,
    pub typed: Vec<(String, String)>,
}

tokio::task_local! {
    static REFUSED: Refused;
}

impl Refused {
    pub fn new(field: String, message: String, form: &Form) -> Refused {
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
        Refused {
            field,
            message,
            typed,
        }
    }

    /// Runs `page` (drawing the form's page) with this refusal shown on it.
    pub async fn show<F: std::future::Future>(self, page: F) -> F::Output {
        REFUSED.scope(self, page).await
    }
}

/// The refusal's reason, when `name` is the refused field of the page being drawn.
pub fn error_for(name: &str) -> Option<String> {
    REFUSED
        .try_with(|r| (r.field == name).then(|| r.message.clone()))
        .ok()
        .flatten()
}

/// What was typed into `name`, on the page of a refused form.
pub fn typed(name: &str) -> Option<String> {
    REFUSED
        .try_with(|r| {
            r.typed
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.clone())
        })
        .ok()
        .flatten()
}

/// The line at the top of the page of a refused form (the field may be one it does not
/// show, a hidden one say).
pub fn summary() -> Option<String> {
    REFUSED
        .try_with(|r| {
            format!(
                "Nothing was saved: {} {}. Correct it and send the form again.",
                r.field, r.message
            )
        })
        .ok()
}
