//! A list page declared, not written: its title and breadcrumbs, typed filters, columns
//! (header, alignment, cell), the export links of exactly what is filtered, pagination and
//! an empty state. A feature's list handler checks the role, parses its query, calls its
//! repo through [`listed`] and declares a [`ListPage`]; everything a clerk sees around the
//! table is drawn here, the same way on every desk.

use axum::response::Response;
use domain::money::Money;
use maud::{html, Markup};

use super::layout::{badge, field, filter_footer, money_cell, pagination, text_input};
use super::{FieldErrors, Page, PageError, Signed, PREFIX};
use crate::api::extract::RawQuery;
use crate::db::Page as DbPage;
use crate::error::AppError;

/// What a list shows: a page of rows, or the filter errors that kept it from loading.
pub type Listed<T> = Result<DbPage<T>, FieldErrors>;

/// Loads a list from its parsed query: a refused query (422) becomes the errors shown
/// beside the filters; any other failure is the page's error.
pub async fn listed<Q, T>(
    parsed: Result<Q, AppError>,
    load: impl AsyncFnOnce(Q) -> Result<DbPage<T>, AppError>,
) -> Result<Listed<T>, PageError> {
    match parsed {
        Ok(query) => Ok(Ok(load(query).await?)),
        Err(error) => Ok(Err(FieldErrors::from_error(error)?)),
    }
}

enum Input {
    /// A text input of this HTML type (`search`, `date`).
    Text(&'static str),
    /// A choice of words (value, label); `any` puts "Any" first.
    Choice {
        words: Vec<(String, String)>,
        any: bool,
    },
}

/// One filter of a list's filter form.
pub struct Filter {
    name: &'static str,
    label: &'static str,
    input: Input,
}

impl Filter {
    pub fn search(name: &'static str, label: &'static str) -> Filter {
        Filter {
            name,
            label,
            input: Input::Text("search"),
        }
    }

    pub fn date(name: &'static str, label: &'static str) -> Filter {
        Filter {
            name,
            label,
            input: Input::Text("date"),
        }
    }

    /// A choice among `words` (value, label), "Any" first.
    pub fn choice<V: Into<String>, L: Into<String>>(
        name: &'static str,
        label: &'static str,
        words: impl IntoIterator<Item = (V, L)>,
    ) -> Filter {
        Filter {
            name,
            label,
            input: Input::Choice {
                words: words
                    .into_iter()
                    .map(|(v, l)| (v.into(), l.into()))
                    .collect(),
                any: true,
            },
        }
    }

    /// A choice that always has a value (a sort order): the first word is the default.
    pub fn order<V: Into<String>, L: Into<String>>(
        name: &'static str,
        label: &'static str,
        words: impl IntoIterator<Item = (V, L)>,
    ) -> Filter {
        let mut filter = Filter::choice(name, label, words);
        if let Input::Choice { any, .. } = &mut filter.input {
            *any = false;
        }
        filter
    }

    fn draw(&self, query: &RawQuery, errors: &FieldErrors) -> Markup {
        let value = query.get(self.name).unwrap_or_default();
        let error = errors.for_field(self.name);
        let input = match &self.input {
            Input::Text(kind) => text_input(self.name, value, kind, error, html! {}),
            Input::Choice { words, any } => html! {
                select id=(self.name) name=(self.name) {
                    @if *any { option value="" { "Any" } }
                    @for (word, shown) in words {
                        option value=(word) selected[value.eq_ignore_ascii_case(word)] { (shown) }
                    }
                }
            },
        };
        field(self.label, self.name, input, error)
    }
}

enum Cell<'a, T> {
    Markup(Box<dyn Fn(&T) -> Markup + 'a>),
    Money {
        amount: Box<dyn Fn(&T) -> Money + 'a>,
        totalled: bool,
    },
}

/// One column: its header and how a row's cell is drawn. Money is right-aligned.
pub struct Column<'a, T> {
    header: &'static str,
    cell: Cell<'a, T>,
}

impl<'a, T> Column<'a, T> {
    /// A cell of any markup (text is escaped).
    pub fn new(header: &'static str, cell: impl Fn(&T) -> Markup + 'a) -> Column<'a, T> {
        Column {
            header,
            cell: Cell::Markup(Box::new(cell)),
        }
    }

    /// Plain text, `—` when there is none.
    pub fn text(header: &'static str, text: impl Fn(&T) -> Option<&str> + 'a) -> Column<'a, T> {
        Column::new(header, move |row| match text(row) {
            Some(t) => html! { (t) },
            None => html! { "—" },
        })
    }

    /// Text made for the cell (a date, a week, a number).
    pub fn shown(header: &'static str, text: impl Fn(&T) -> String + 'a) -> Column<'a, T> {
        Column::new(header, move |row| html! { (text(row)) })
    }

    /// A link to a record's page (`href` under the console's prefix).
    pub fn link(header: &'static str, link: impl Fn(&T) -> (String, String) + 'a) -> Column<'a, T> {
        Column::new(header, move |row| {
            let (href, text) = link(row);
            html! { a href={ (PREFIX) (href) } { (text) } }
        })
    }

    /// A status word as a badge.
    pub fn badge<S: AsRef<str>>(
        header: &'static str,
        word: impl Fn(&T) -> S + 'a,
    ) -> Column<'a, T> {
        Column::new(header, move |row| badge(word(row).as_ref()))
    }

    /// An amount of money.
    pub fn money(header: &'static str, amount: impl Fn(&T) -> Money + 'a) -> Column<'a, T> {
        Column {
            header,
            cell: Cell::Money {
                amount: Box::new(amount),
                totalled: false,
            },
        }
    }

    /// An amount summed in the table's "This page" footer.
    pub fn money_totalled(
        header: &'static str,
        amount: impl Fn(&T) -> Money + 'a,
    ) -> Column<'a, T> {
        Column {
            header,
            cell: Cell::Money {
                amount: Box::new(amount),
                totalled: true,
            },
        }
    }

    fn head(&self) -> Markup {
        match self.cell {
            Cell::Money { .. } => html! { th.num scope="col" { (self.header) } },
            Cell::Markup(_) => html! { th scope="col" { (self.header) } },
        }
    }

    fn draw(&self, row: &T) -> Markup {
        match &self.cell {
            Cell::Markup(cell) => html! { td { (cell(row)) } },
            Cell::Money { amount, .. } => money_cell(amount(row)),
        }
    }

    fn total(&self, rows: &[T]) -> Option<Money> {
        match &self.cell {
            Cell::Money {
                amount,
                totalled: true,
            } => Some(Money::from_cents(
                rows.iter().map(|r| amount(r).cents()).sum(),
            )),
            _ => None,
        }
    }
}

/// Where a list's rows can be downloaded: an export route taking the same filters, plus
/// fixed parameters (the ledger's `kind`).
pub struct Export {
    pub path: &'static str,
    pub fixed: &'static [(&'static str, &'static str)],
    /// More CSV files of the same filters: (route, link text).
    pub also: &'static [(&'static str, &'static str)],
}

impl Export {
    pub const fn at(path: &'static str) -> Export {
        Export {
            path,
            fixed: &[],
            also: &[],
        }
    }

    /// With more CSV files of the same filters: (route, link text).
    pub const fn and_csv(mut self, also: &'static [(&'static str, &'static str)]) -> Export {
        self.also = also;
        self
    }

    /// The CSV, Excel and PDF links of exactly what is filtered (every page of it).
    fn links(&self, query: &RawQuery) -> Markup {
        let link_at = |path: &str, format: &str| {
            let pairs = query
                .0
                .iter()
                .filter(|(k, _)| k != "page" && k != "per_page")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain(self.fixed.iter().copied())
                .chain([("format", format)]);
            let encoded: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            format!("{PREFIX}{path}?{encoded}")
        };
        let link = |format: &str| link_at(self.path, format);
        html! {
            a.button href=(link("csv")) download { "Export CSV" }
            a.button href=(link("excel")) download { "Export Excel" }
            a.button href=(link("pdf")) download { "Export PDF" }
            @for (path, text) in self.also {
                a.button href=(link_at(path, "csv")) download { (text) }
            }
        }
    }
}

/// A console list page, declared.
pub struct ListPage<'a, T> {
    pub title: &'a str,
    pub crumbs: &'a [(&'a str, &'a str)],
    /// The navigation entry marked as current.
    pub section: &'a str,
    /// The list's own address under the console (`/ledger`); filters and pages stay on it.
    pub path: &'a str,
    /// What comes before the filters: tabs, a "Create" button, a notice.
    pub above: Markup,
    pub filters: Vec<Filter>,
    pub export: Option<Export>,
    /// How a row is called, one and many: "1 posting", "1,204 postings".
    pub noun: (&'a str, &'a str),
    /// What to say when no row matches.
    pub empty: &'a str,
    /// The table's caption (", page N" is added).
    pub caption: &'a str,
    pub columns: Vec<Column<'a, T>>,
}

/// "1 invoice", "1,204 invoices".
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        reports::thousands(n),
        if n == 1 { one } else { many }
    )
}

impl<T> ListPage<'_, T> {
    /// The whole page for `query` (its blank fields taken out) and what was listed.
    pub fn render(self, signed: &Signed, query: &RawQuery, listed: Listed<T>) -> Response {
        let none = FieldErrors::default();
        let (rows, errors) = match &listed {
            Ok(rows) => (Some(rows), &none),
            Err(errors) => (None, errors),
        };
        let names: Vec<&str> = self.filters.iter().map(|f| f.name).collect();
        let in_use = query
            .0
            .iter()
            .any(|(k, v)| names.contains(&k.as_str()) && !v.trim().is_empty());
        let totals: Vec<Option<Money>> = match rows {
            Some(rows) => self.columns.iter().map(|c| c.total(&rows.items)).collect(),
            None => Vec::new(),
        };
        let first_total = totals.iter().position(Option::is_some);
        let content = html! {
            (self.above)
            @if !self.filters.is_empty() {
                form.card method="get" action={ (PREFIX) (self.path) } aria-label="Filters" {
                    // Folded on a narrow screen (console.js) unless a filter is in use or
                    // refused.
                    details.filter-fold open data-fold=(if in_use || !errors.is_empty() { "no" } else { "yes" }) {
                        summary { "Filters" @if in_use { " (in use)" } }
                        div.filters {
                            @for filter in &self.filters { (filter.draw(query, errors)) }
                        }
                        (filter_footer(self.path, errors, &names))
                    }
                }
            }
            @if let Some(rows) = rows {
                div.actions {
                    span { (count(rows.total_items, self.noun.0, self.noun.1)) }
                    @if let Some(export) = &self.export { (export.links(query)) }
                }
                @if rows.items.is_empty() {
                    p.empty.card { (self.empty) }
                } @else {
                    div.table-wrap tabindex="0" role="region" aria-label=(self.title) {
                        table {
                            caption.muted { (self.caption) ", page " (rows.page) }
                            thead { tr { @for c in &self.columns { (c.head()) } } }
                            tbody {
                                @for row in &rows.items {
                                    tr { @for c in &self.columns { (c.draw(row)) } }
                                }
                            }
                            @if let Some(first) = first_total.filter(|first| *first > 0) {
                                tfoot { tr {
                                    td colspan=(first) { "This page" }
                                    @for total in &totals[first..] {
                                        @match total {
                                            Some(sum) => (money_cell(*sum)),
                                            None => td {},
                                        }
                                    }
                                } }
                            }
                        }
                    }
                    (pagination(&format!("{PREFIX}{}", self.path), &query.0, rows.page, rows.total_pages))
                }
            }
        };
        Page {
            title: self.title,
            crumbs: self.crumbs,
            signed: Some(signed),
            section: self.section,
        }
        .render(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_right() {
        assert_eq!(count(1, "invoice", "invoices"), "1 invoice");
        assert_eq!(count(0, "invoice", "invoices"), "0 invoices");
        assert_eq!(count(1204, "invoice", "invoices"), "1,204 invoices");
    }

    #[test]
    fn export_links_carry_the_filters_not_the_page() {
        let query = RawQuery(vec![
            ("lease_id".into(), "LS-01001".into()),
            ("page".into(), "3".into()),
        ]);
        let links = Export {
            also: &[],
            path: "/ledger/export",
            fixed: &[("kind", "postings")],
        }
        .links(&query)
        .into_string();
        assert!(
            links.contains("/app/ledger/export?lease_id=LS-01001&amp;kind=postings&amp;format=csv")
        );
        assert!(!links.contains("page=3"));
    }
}
