//! The console's layout and the formats people read: money right-aligned as `$1,234.56`,
//! dates `MM/DD/YYYY`, times in `BAT_TIMEZONE`, status badges, fields with their error
//! beside them, pagination that keeps the filters in the URL.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use domain::money::Money;
use maud::{html, Markup, DOCTYPE};

use super::{FieldErrors, Signed, CSRF_FIELD, PREFIX};
use crate::auth::model::{ADMINS, OPERATORS};
use crate::error::AppError;

/// One page: its title, its breadcrumbs (label, link) and who is looking.
pub struct Page<'a> {
    pub title: &'a str,
    pub crumbs: &'a [(&'a str, &'a str)],
    pub signed: Option<&'a Signed>,
    /// The navigation entry to mark as current.
    pub section: &'a str,
}

impl Page<'_> {
    /// The whole HTML document around `content`.
    pub fn render(&self, content: Markup) -> Response {
        self.render_with(StatusCode::OK, content)
    }

    pub fn render_with(&self, status: StatusCode, content: Markup) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · BAT Connect" }
                    link rel="stylesheet" href={ (PREFIX) "/assets/console.css" };
                    script src={ (PREFIX) "/assets/console.js" } defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href={ (PREFIX) "/" } { "BAT Connect" }
                        @if let Some(signed) = self.signed {
                            (main_nav(self.section, signed.user().has_any(ADMINS)))
                            form.signout method="post" action={ (PREFIX) "/sign-out" } {
                                (csrf(signed))
                                span.who { (signed.user().username) }
                                button.link type="submit" { "Sign out" }
                            }
                        } @else if self.section == ERROR_SECTION {
                            // An error page knows no session: the way on is the same
                            // navigation (a page needing sign-in asks for it).
                            (main_nav(self.section, false))
                        }
                    }
                    main #main {
                        @if !self.crumbs.is_empty() {
                            nav.crumbs aria-label="Breadcrumb" {
                                ol {
                                    @for (label, link) in self.crumbs {
                                        li { a href=(link) { (label) } }
                                    }
                                    li aria-current="page" { (self.title) }
                                }
                            }
                        }
                        h1 { (self.title) }
                        @if let Some(said) = super::refused::summary() {
                            p.notice.error role="alert" { (said) }
                        }
                        (content)
                    }
                }
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            markup.into_string(),
        )
            .into_response()
    }
}

/// The section of error pages: shown with the navigation even without a session.
const ERROR_SECTION: &str = "error";

/// The console's main navigation, `section` marked as current.
fn main_nav(section: &str, admin: bool) -> Markup {
    html! {
        nav aria-label="Main" {
            ul {
                (nav_link("Dashboard", &format!("{PREFIX}/"), section == "dashboard"))
                (nav_link("Vehicle Repairs", &format!("{PREFIX}/repairs"), section == "repairs"))
                (nav_link("Installments", &format!("{PREFIX}/installments"), section == "installments"))
                (nav_link("Ledger", &format!("{PREFIX}/ledger"), section == "ledger"))
                (nav_link("DTRs", &format!("{PREFIX}/dtrs"), section == "dtrs"))
                (nav_link("Weekly run", &format!("{PREFIX}/jobs"), section == "jobs"))
                (nav_link("Fleet", &format!("{PREFIX}/fleet/drivers"), section == "fleet"))
                (nav_link("Workshops", &format!("{PREFIX}/workshops"), section == "workshops"))
                (nav_link("Reports", &format!("{PREFIX}/reports/repair-costs"), section == "reports"))
                @if admin {
                    (nav_link("Users", &format!("{PREFIX}/admin/users"), section == "admin"))
                }
            }
        }
    }
}

fn nav_link(label: &str, href: &str, current: bool) -> Markup {
    html! {
        li {
            @if current { a href=(href) aria-current="page" { (label) } }
            @else { a href=(href) { (label) } }
        }
    }
}

/// The hidden field every state-changing form carries.
pub fn csrf(signed: &Signed) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(signed.0.csrf_token); }
}

/// An error as a page: the status, what happened in words, and where to go from here.
pub fn error_page(error: AppError) -> Response {
    error_page_with(error, None)
}

/// [`error_page`] with a link to the record it is about, `(href, label)`.
pub fn error_page_with(error: AppError, record: Option<(&str, &str)>) -> Response {
    let error = error.settled();
    let status = error.status();
    let message = match &error {
        AppError::Internal(cause) => {
            tracing::error!(error = ?cause, "internal error on a console page");
            "Something went wrong on our side; it has been logged. Try again, or tell an administrator.".to_string()
        }
        AppError::Forbidden(_) => format!("You do not have the rights for this: {error}."),
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    let title = status.canonical_reason().unwrap_or("Error");
    Page {
        title,
        crumbs: &[],
        signed: None,
        section: ERROR_SECTION,
    }
    .render_with(
        status,
        html! {
            p.notice.error role="alert" { (message) }
            @if let Some((href, label)) = record { p { a href=(href) { "Open " (label) } } }
            p { a href={ (PREFIX) "/" } { "Back to the dashboard" } }
        },
    )
}

/// `$1,234.56` (the house style, as in the PDFs).
pub fn money(amount: Money) -> String {
    crate::house_style::usd(amount)
}

/// A money cell: right-aligned, tabular figures.
pub fn money_cell(amount: Money) -> Markup {
    html! { td.num { (money(amount)) } }
}

/// `2026-11-29` → `11/29/2026` (anything else is shown as it is).
pub fn date(iso: &str) -> String {
    crate::house_style::us_date(iso)
}

/// A stored RFC 3339 time in the fleet's time zone: `11/29/2026 4:30 AM EST`.
pub fn time(rfc3339: &str, timezone: Tz) -> String {
    crate::house_style::stored_timestamp(rfc3339, timezone)
}

/// A status word as a badge (its colour by class, its word always written out).
pub fn badge(word: &str) -> Markup {
    let class = format!(
        "badge badge-{}",
        word.to_ascii_lowercase().replace(' ', "-")
    );
    html! { span class=(class) { (word) } }
}

/// A labelled input with its error beside it (and `aria-invalid`/`aria-describedby`).
pub fn field(label: &str, name: &str, input: Markup, error: Option<&str>) -> Markup {
    let error_id = format!("{name}-error");
    let refused = error
        .is_none()
        .then(|| super::refused::error_for(name))
        .flatten();
    let error = error.or(refused.as_deref());
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) }
            (input)
            @if let Some(message) = error {
                p.field-error id=(error_id) { (message) }
            }
        }
    }
}

/// A labelled text input of `kind` with its value and, from the form's errors, its error.
pub fn input_field(
    label: &str,
    name: &str,
    value: &str,
    kind: &str,
    errors: &FieldErrors,
) -> Markup {
    let error = errors.for_field(name);
    field(
        label,
        name,
        text_input(name, value, kind, error, html! {}),
        error,
    )
}

/// A text input carrying its error state.
pub fn text_input(
    name: &str,
    value: &str,
    kind: &str,
    error: Option<&str>,
    extra: Markup,
) -> Markup {
    let described = format!("{name}-error");
    // A form refused at the front door comes back with what was typed (never a password).
    let typed = (kind != "password")
        .then(|| super::refused::typed(name))
        .flatten();
    let value = typed.as_deref().unwrap_or(value);
    let refused = error
        .is_none()
        .then(|| super::refused::error_for(name))
        .flatten();
    let error = error.or(refused.as_deref());
    html! {
        input id=(name) name=(name) type=(kind) value=(value)
            aria-invalid=[error.map(|_| "true")]
            aria-describedby=[error.map(|_| described.as_str())]
            { (extra) }
    }
}

/// A `select` of (value, label) with `chosen` selected — on a refused form's page, what was
/// sent — carrying its error state.
pub fn select<V: AsRef<str>, L: AsRef<str>>(
    name: &str,
    options: impl IntoIterator<Item = (V, L)>,
    chosen: &str,
    error: Option<&str>,
) -> Markup {
    let typed = super::refused::typed(name);
    let chosen = typed.as_deref().unwrap_or(chosen);
    let described = format!("{name}-error");
    let error = error
        .map(str::to_string)
        .or_else(|| super::refused::error_for(name));
    html! {
        select id=(name) name=(name)
            aria-invalid=[error.as_ref().map(|_| "true")]
            aria-describedby=[error.as_ref().map(|_| described.as_str())] {
            @for (value, label) in options {
                option value=(value.as_ref()) selected[value.as_ref().eq_ignore_ascii_case(chosen)] { (label.as_ref()) }
            }
        }
    }
}

/// A `textarea` holding `value` — on a refused form's page, what was typed — of a length in
/// `length` characters (required when it may not be empty).
pub fn textarea(
    name: &str,
    value: &str,
    error: Option<&str>,
    length: std::ops::RangeInclusive<usize>,
) -> Markup {
    let typed = super::refused::typed(name);
    let value = typed.as_deref().unwrap_or(value);
    let described = format!("{name}-error");
    let error = error
        .map(str::to_string)
        .or_else(|| super::refused::error_for(name));
    html! {
        textarea id=(name) name=(name) required[*length.start() > 0]
            minlength=[(*length.start() > 0).then_some(length.start())] maxlength=(length.end())
            aria-invalid=[error.as_ref().map(|_| "true")]
            aria-describedby=[error.as_ref().map(|_| described.as_str())] { (value) }
    }
}

/// A checkbox sending `value`, ticked by default when `checked` — on a refused form's page,
/// ticked exactly when it was sent ticked. A `required` one must be ticked to send the form
/// (a confirmation).
pub fn checkbox(name: &str, value: &str, checked: bool, required: bool) -> Markup {
    let checked = super::refused::was_sent(name, value).unwrap_or(checked);
    html! { input type="checkbox" id=(name) name=(name) value=(value) checked[checked] required[required]; }
}

/// A filter form's buttons, and the errors that belong to no input on it (an unknown
/// parameter, a bad sort or page).
pub fn filter_footer(path: &str, errors: &FieldErrors, shown: &[&str]) -> Markup {
    html! {
        div.actions {
            button.primary type="submit" { "Apply filters" }
            a.button href={ (PREFIX) (path) } { "Clear" }
        }
        @for e in errors.general(shown) {
            p.notice.error role="alert" { (e.field) ": " (e.message) }
        }
    }
}

/// Whether this user may change repair invoices (create, upload, hold, resume, cancel).
pub fn may_operate(signed: &Signed) -> bool {
    signed.user().has_any(OPERATORS)
}

/// "Page 2 of 7" with previous/next links that keep every other query parameter.
pub fn pagination(base: &str, query: &[(String, String)], page: i64, total_pages: i64) -> Markup {
    let link = |target: i64| {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(k, v)| k != "page" && !v.trim().is_empty())
            .cloned()
            .collect();
        pairs.push(("page".into(), target.to_string()));
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{base}?{encoded}")
    };
    html! {
        nav.pagination aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← Previous" } }
            span { "Page " (page) " of " (total_pages.max(1)) }
            @if page < total_pages { a rel="next" href=(link(page + 1)) { "Next →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_people_read() {
        assert_eq!(money(Money::from_cents(123456)), "$1,234.56");
        assert_eq!(date("2026-11-29"), "11/29/2026");
        assert_eq!(date("not a date"), "not a date");
        assert_eq!(
            time("2026-11-29T09:30:00Z", chrono_tz::America::New_York),
            "11/29/2026 4:30 AM EST"
        );
    }

    #[test]
    fn text_is_escaped() {
        let markup = badge("<script>");
        assert!(!markup.into_string().contains("<script>"));
    }
}
