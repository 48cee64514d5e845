//! Report files for the taxi-fleet back office: PDF documents and XLSX
//! workbooks built from tabular and key/value data.
//!
//! The service hands this crate plain text (already formatted dates, amounts
//! such as `"1234.50"`, names) and gets back the bytes of a finished file. The
//! crate knows nothing about the database or HTTP, does no I/O and needs no
//! font files or system libraries at run time (its fonts are compiled in).
//!
//! - [`render_pdf`] lays out a [`Document`] made of [`Block`]s (headings,
//!   key/value grids, summary boxes, tables, paragraphs) on US Letter pages,
//!   with a header, automatic page breaks, table header rows repeated on every
//!   page a table continues onto, and a "Page N of M" footer.
//! - [`render_table_pdf`] is the export flavour: one table streamed from an
//!   iterator of rows.
//! - [`render_xlsx`] writes one typed worksheet from an iterator of rows.
//!
//! ```
//! use reports::{render_pdf, render_xlsx, Block, Column, Document};
//!
//! let columns = vec![Column::text("Driver", 24.0), Column::money("Balance", 12.0)];
//! let rows = vec![vec!["Ann Lee".to_string(), "1234.50".to_string()]];
//!
//! let mut doc = Document::new("Balances");
//! doc.generated_at = "2024-06-09 14:32".into();
//! doc.blocks.push(Block::Table {
//!     columns: columns.clone(),
//!     rows: rows.clone(),
//!     total_row: Some(vec!["Total".into(), "1234.50".into()]),
//! });
//! let pdf: Vec<u8> = render_pdf(&doc);
//! assert!(pdf.starts_with(b"%PDF-"));
//!
//! let xlsx: Vec<u8> = render_xlsx("Balances", &columns, rows.into_iter())?;
//! assert!(xlsx.starts_with(b"PK"));
//! # Ok::<(), reports::ReportError>(())
//! ```
//!
//! # Cell kinds
//!
//! Every cell is text; the column's [`CellKind`] says how to read it:
//!
//! | kind | accepted text | PDF shows | XLSX cell |
//! | --- | --- | --- | --- |
//! | [`CellKind::Text`] | anything | as given | string |
//! | [`CellKind::Money`] | `1234.50`, `-12.00`, `$1,234.5` | `$1,234.50` | number, `$#,##0.00` |
//! | [`CellKind::Date`] | `YYYY-MM-DD` | `MM/DD/YYYY` | date, `yyyy-mm-dd` |
//! | [`CellKind::Integer`] | `42`, `-7`, `1,234` | as given | number |
//!
//! A typed cell whose text does not parse (for example `"n/a"` in a money
//! column) is kept verbatim as text, never dropped or zeroed. Empty cells stay
//! empty.
//!
//! # Text in PDFs
//!
//! PDFs embed subsets of DejaVu Sans Condensed and its bold (shipped with
//! their licence by the `dejavu` crate), so Latin, Latin Extended, Greek and
//! Cyrillic names and symbols such as № and € print as written and can be
//! copied or searched. A character the fonts lack prints as the visible mark
//! U+FFFD and is logged once. Cell values are wrapped to their column, never
//! cut. Dates print as `MM/DD/YYYY` and money as `$1,234.56`.

mod embed;
mod fonts;
#[doc(hidden)]
pub mod inspect;
pub mod pdf;
mod text;
mod values;
mod xlsx;

pub use pdf::{render_pdf, render_table_pdf, Bar, Block, Document};
pub use values::{group_thousands, thousands, usd};
pub use xlsx::{render_xlsx, render_xlsx_sheets, Sheet, MAX_XLSX_ROWS};

/// Horizontal alignment of a column's cells (and its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Align {
    #[default]
    Left,
    Right,
    Center,
}

/// How the text of a column's cells is interpreted. See the crate docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CellKind {
    /// Shown as given.
    #[default]
    Text,
    /// A decimal amount such as `"1234.50"` or `"-12.00"` (a leading `$` and
    /// thousands commas are accepted). XLSX: a number formatted
    /// `$#,##0.00`; PDF: shown as `$1,234.50`.
    Money,
    /// A calendar date `"YYYY-MM-DD"`. XLSX: a date cell formatted
    /// `yyyy-mm-dd`.
    Date,
    /// A whole number such as `"42"` (thousands commas accepted), within
    /// ±2^53. XLSX: a number.
    Integer,
}

impl CellKind {
    /// The alignment that suits the kind: numbers to the right, the rest to
    /// the left.
    pub fn natural_align(self) -> Align {
        match self {
            CellKind::Money | CellKind::Integer => Align::Right,
            CellKind::Text | CellKind::Date => Align::Left,
        }
    }
}

/// One column of a table or worksheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header text.
    pub header: String,
    /// How cells are interpreted.
    pub kind: CellKind,
    /// Alignment of the cells and the header.
    pub align: Align,
    /// Width, best given in characters: XLSX uses it as the column width in
    /// characters (at least the header's length plus room for the filter
    /// button); PDF uses it as a relative weight among the table's columns,
    /// so the same character counts work for both. Non-positive or
    /// non-finite widths count as 10.
    pub width: f32,
}

impl Column {
    /// A column with the kind's natural alignment (see
    /// [`CellKind::natural_align`]).
    pub fn new(header: impl Into<String>, kind: CellKind, width: f32) -> Self {
        Column {
            header: header.into(),
            kind,
            align: kind.natural_align(),
            width,
        }
    }

    /// A left-aligned text column.
    pub fn text(header: impl Into<String>, width: f32) -> Self {
        Column::new(header, CellKind::Text, width)
    }

    /// A right-aligned money column.
    pub fn money(header: impl Into<String>, width: f32) -> Self {
        Column::new(header, CellKind::Money, width)
    }

    /// A date column.
    pub fn date(header: impl Into<String>, width: f32) -> Self {
        Column::new(header, CellKind::Date, width)
    }

    /// A right-aligned integer column.
    pub fn integer(header: impl Into<String>, width: f32) -> Self {
        Column::new(header, CellKind::Integer, width)
    }

    /// The same column with another alignment.
    pub fn with_align(mut self, align: Align) -> Self {
        self.align = align;
        self
    }

    /// The width, with unusable values replaced by the default of 10.
    pub(crate) fn effective_width(&self) -> f32 {
        if self.width.is_finite() && self.width > 0.0 {
            self.width
        } else {
            10.0
        }
    }
}

/// Why a report could not be produced. PDF rendering cannot fail; XLSX
/// rendering fails only on sheet limits or a writer error.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// More data rows than one worksheet holds (see [`MAX_XLSX_ROWS`]).
    #[error("too many rows for one worksheet: at most {limit} data rows fit")]
    TooManyRows { limit: u32 },
    /// More columns than one worksheet holds.
    #[error("too many columns for one worksheet: at most {limit} columns fit")]
    TooManyColumns { limit: u16 },
    /// The XLSX writer reported an error.
    #[error("could not write the workbook: {0}")]
    Xlsx(String),
}
