//! File exports of the lists (§5.4 `list/export`, installments, ledger): the same filters
//! and sorts as the list endpoint, written as CSV (streamed row by row), XLSX or PDF.
//! Each export is a SELECT plus columns; `stream` turns it into a download.

pub mod routes;
pub mod stream;
pub mod tables;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::any::AnyRow;

use crate::api::extract::RawQuery;
use crate::db::filter::Arg;
use crate::error::AppError;

/// Most rows an XLSX or PDF export holds; past it the file says it was cut short and
/// points to CSV, which has no limit (it is streamed).
pub const MAX_XLSX_ROWS: i64 = 100_000;
pub const MAX_PDF_ROWS: i64 = 100_000;

/// The file format asked for with `format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Excel,
    Pdf,
}

impl Format {
    /// `format` (csv, excel or xlsx, pdf); CSV when absent.
    pub fn parse(query: &RawQuery) -> Result<Format, AppError> {
        if query
            .0
            .iter()
            .any(|(k, v)| k == "format" && v.trim().is_empty())
        {
            return Err(AppError::field(
                "format",
                "is empty; give csv, excel or pdf, or leave the parameter out",
            ));
        }
        match query
            .get("format")
            .map(|f| f.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("csv") => Ok(Format::Csv),
            Some("excel") | Some("xlsx") => Ok(Format::Excel),
            Some("pdf") => Ok(Format::Pdf),
            Some(other) => Err(AppError::field(
                "format",
                format!("'{other}' is not one of: csv, excel, pdf"),
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Excel => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Excel => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }
}

/// The query without the export's own parameters, so the list's parser (which rejects
/// unknown names) sees exactly the list's parameters.
pub fn list_params(query: &RawQuery, export_only: &[&str]) -> RawQuery {
    RawQuery(
        query
            .0
            .iter()
            .filter(|(k, _)| !export_only.contains(&k.as_str()))
            .cloned()
            .collect(),
    )
}

/// "Filters: status=Open, driver_name=ahmed · sorted by amount asc" for the PDF header;
/// paging is left out because an export holds every matching row.
pub fn describe_filters(query: &RawQuery) -> String {
    let shown: Vec<String> = query
        .0
        .iter()
        .filter(|(k, v)| {
            !matches!(
                k.as_str(),
                "format" | "kind" | "page" | "per_page" | "sort_by" | "sort_order"
            ) && !v.trim().is_empty()
        })
        .map(|(k, v)| format!("{k}={}", v.trim()))
        .collect();
    let mut text = if shown.is_empty() {
        "Filters: none (all records)".to_string()
    } else {
        format!("Filters: {}", shown.join(", "))
    };
    match (query.get("sort_by"), query.get("sort_order")) {
        (None, None) => {}
        (by, order) => {
            text.push_str(" · sorted by ");
            text.push_str(by.unwrap_or("default order"));
            if let Some(order) = order {
                text.push(' ');
                text.push_str(&order.to_ascii_lowercase());
            }
        }
    }
    text
}

/// One column: its CSV header (a stable machine name) and its XLSX/PDF column.
pub struct ExportColumn {
    pub key: &'static str,
    pub column: reports::Column,
    /// Also in the PDF (a landscape page holds about 700 points of table; internal ids and
    /// secondary columns stay in CSV and XLSX only).
    pub in_pdf: bool,
    /// Holds stored RFC 3339 timestamps: CSV and XLSX keep them, the PDF prints them in
    /// the fleet's time zone ([`crate::house_style::stored_timestamp`]).
    pub timestamp: bool,
}

impl ExportColumn {
    pub fn new(key: &'static str, column: reports::Column) -> ExportColumn {
        ExportColumn {
            key,
            column,
            in_pdf: true,
            timestamp: false,
        }
    }

    /// The same column, holding timestamps (see [`ExportColumn::timestamp`]).
    pub fn of_timestamps(self) -> ExportColumn {
        ExportColumn {
            timestamp: true,
            ..self
        }
    }

    /// A column of the CSV and XLSX files only.
    pub fn data_only(key: &'static str, column: reports::Column) -> ExportColumn {
        ExportColumn {
            key,
            column,
            in_pdf: false,
            timestamp: false,
        }
    }
}

/// Turns one database row into the export's cells, in column order.
pub type RowFn = fn(&AnyRow) -> Result<Vec<String>, sqlx::Error>;

/// What an export writes: a query, its columns and how the file is titled.
pub struct Export {
    /// File names are `<stem>_YYYY-MM-DD.<ext>`.
    pub file_stem: &'static str,
    /// PDF title.
    pub title: String,
    /// XLSX worksheet name (at most 31 characters).
    pub sheet: &'static str,
    /// What one row is ("invoices"), for the PDF header's count.
    pub noun: &'static str,
    pub columns: Vec<ExportColumn>,
    /// The full SELECT with WHERE and ORDER BY, numbered placeholders for `args`.
    pub select_sql: String,
    /// `SELECT COUNT(*) …` with the same WHERE.
    pub count_sql: String,
    pub args: Vec<Arg>,
    pub row: RowFn,
    /// The filters line of the PDF header.
    pub filters: String,
    /// A second worksheet of the Excel file (CSV and PDF hold this export alone).
    pub also: Option<Box<Export>>,
}

/// When and in which time zone the file was made: for its name and its footer.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub now: DateTime<Utc>,
    pub timezone: Tz,
}

impl Stamp {
    /// Now, in the fleet's time zone.
    pub fn now(state: &crate::state::AppState) -> Stamp {
        Stamp {
            now: state.clock.now(),
            timezone: state.config.timezone,
        }
    }

    pub fn file_date(&self) -> String {
        self.now
            .with_timezone(&self.timezone)
            .format("%Y-%m-%d")
            .to_string()
    }

    /// "11/25/2026 10:00 AM EST".
    pub fn generated_at(&self) -> String {
        crate::house_style::timestamp(self.now, self.timezone)
    }
}

/// Money in exports: "1234.50" (the API's convention; XLSX makes it a number).
pub fn money(cents: i64) -> String {
    domain::money::Money::from_cents(cents).to_string()
}

/// The invoice export for the list's filters and sort plus `format`; the console's export
/// buttons download the same file.
pub async fn invoices_file(
    state: &crate::state::AppState,
    query: &RawQuery,
) -> Result<axum::response::Response, AppError> {
    let format = Format::parse(query)?;
    // The file holds every row; page and per_page are accepted as the list's, so checked.
    crate::db::PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let q = crate::repairs::query::InvoiceQuery::parse(
        &list_params(query, &["format"]),
        false,
        state.db.backend(),
    )?;
    let lines = tables::invoice_lines(
        q.filter.clone(),
        format!("{} — Vehicle repair invoice lines", state.config.fleet_name),
        describe_filters(query),
    );
    let mut export = tables::invoices(
        q.filter,
        &q.order_by,
        format!("{} — Vehicle repair invoices", state.config.fleet_name),
        describe_filters(query),
    );
    // The Excel file carries the invoices' lines on a second sheet.
    export.also = Some(Box::new(lines));
    let slot = stream::take_slot(&state.export_slots)?;
    stream::respond(state.db.reader(), export, format, Stamp::now(state), slot).await
}

/// The lines of the invoices the list's filters select, as a file of its own (CSV by
/// default, also Excel or PDF).
pub async fn invoice_lines_file(
    state: &crate::state::AppState,
    query: &RawQuery,
) -> Result<axum::response::Response, AppError> {
    let format = Format::parse(query)?;
    crate::db::PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let q = crate::repairs::query::InvoiceQuery::parse(
        &list_params(query, &["format"]),
        false,
        state.db.backend(),
    )?;
    let export = tables::invoice_lines(
        q.filter,
        format!("{} — Vehicle repair invoice lines", state.config.fleet_name),
        describe_filters(query),
    );
    let slot = stream::take_slot(&state.export_slots)?;
    stream::respond(state.db.reader(), export, format, Stamp::now(state), slot).await
}

/// The ledger export (`kind=postings` or `kind=balances`) for the lists' filters plus
/// `format`; the console's ledger pages download the same file.
pub async fn ledger_file(
    state: &crate::state::AppState,
    query: &RawQuery,
) -> Result<axum::response::Response, AppError> {
    let format = Format::parse(query)?;
    let list = list_params(query, &["format", "kind"]);
    let fleet = &state.config.fleet_name;
    let export = match query.get("kind") {
        Some("postings") => {
            let (filter, _) =
                crate::ledger::query::postings_filter(state.db.reader(), &list).await?;
            tables::postings(
                filter,
                format!("{fleet} — Ledger postings"),
                describe_filters(query),
            )
        }
        Some("balances") => {
            let (filter, _) =
                crate::ledger::query::balances_filter(state.db.reader(), &list).await?;
            tables::balances(
                filter,
                format!("{fleet} — Ledger balances"),
                describe_filters(query),
            )
        }
        Some(other) => {
            return Err(AppError::field(
                "kind",
                format!("'{other}' is not one of: postings, balances"),
            ))
        }
        None => return Err(AppError::field("kind", "is required: postings or balances")),
    };
    let slot = stream::take_slot(&state.export_slots)?;
    stream::respond(state.db.reader(), export, format, Stamp::now(state), slot).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawQuery {
        RawQuery(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn format_defaults_to_csv_and_names_the_parameter() {
        assert_eq!(Format::parse(&raw(&[])).unwrap(), Format::Csv);
        assert_eq!(
            Format::parse(&raw(&[("format", "EXCEL")])).unwrap(),
            Format::Excel
        );
        assert_eq!(
            Format::parse(&raw(&[("format", "xlsx")])).unwrap(),
            Format::Excel
        );
        assert_eq!(
            Format::parse(&raw(&[("format", "pdf")])).unwrap(),
            Format::Pdf
        );
        let AppError::Validation(errors) = Format::parse(&raw(&[("format", "doc")])).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(errors[0].field, "format");
    }

    #[test]
    fn export_parameters_are_removed_for_the_list_parser() {
        let q = raw(&[("format", "pdf"), ("status", "Open"), ("kind", "postings")]);
        let list = list_params(&q, &["format", "kind"]);
        assert_eq!(list.0, vec![("status".to_string(), "Open".to_string())]);
        assert_eq!(describe_filters(&q), "Filters: status=Open");
        assert_eq!(
            describe_filters(&raw(&[("page", "2")])),
            "Filters: none (all records)"
        );
        assert_eq!(
            describe_filters(&raw(&[
                ("sort_by", "amount"),
                ("sort_order", "ASC"),
                ("vin", "1")
            ])),
            "Filters: vin=1 · sorted by amount asc"
        );
    }

    #[test]
    fn stamps_use_the_fleet_time_zone() {
        use chrono::TimeZone;
        let stamp = Stamp {
            // 02:30 UTC on the 26th is still the 25th in New York.
            now: Utc.with_ymd_and_hms(2026, 11, 26, 2, 30, 0).unwrap(),
            timezone: chrono_tz::America::New_York,
        };
        assert_eq!(stamp.file_date(), "2026-11-25");
        assert_eq!(stamp.generated_at(), "11/25/2026 9:30 PM EST");
    }
}
