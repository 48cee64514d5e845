//! XLSX export with `rust_xlsxwriter` (pure Rust) in constant-memory mode: rows
//! are streamed to a temporary file as they are written, the zip is built in
//! memory.

use rust_xlsxwriter::{
    Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::values::{parse_date, parse_integer, MoneyText};
use crate::{Align, CellKind, Column, ReportError};

/// Most data rows one worksheet holds (Excel's 1,048,576 rows less the
/// header row).
pub const MAX_XLSX_ROWS: u32 = 1_048_575;

/// Most columns one worksheet holds.
const MAX_XLSX_COLUMNS: u16 = 16_384;

/// Longest text Excel keeps in one cell, in characters.
const MAX_CELL_CHARS: usize = 32_767;

/// Excel number format for money cells.
const MONEY_FORMAT: &str = "$#,##0.00";
/// Excel number format for date cells.
const DATE_FORMAT: &str = "yyyy-mm-dd";

impl From<XlsxError> for ReportError {
    fn from(err: XlsxError) -> Self {
        ReportError::Xlsx(err.to_string())
    }
}

/// Writes one worksheet named `sheet_name` with a header row and one row per
/// item of `rows`, and returns the `.xlsx` file's bytes.
///
/// - The header row is bold on a light fill, frozen, and carries an
///   autofilter over all columns and rows.
/// - Column widths come from [`Column::width`] in characters (never narrower
///   than the header plus room for the filter button).
/// - Cells are typed by [`Column::kind`]: money becomes a number formatted
///   `$#,##0.00`, dates a date formatted `yyyy-mm-dd`, integers a number. A
///   typed cell that does not parse is written as text; empty cells stay
///   blank. Cells beyond the last column are ignored; short rows leave the
///   rest blank.
/// - `sheet_name` is made valid for Excel: `[]:*?/\` become `_`, it is cut to
///   31 characters and an empty name becomes `Sheet1`.
///
/// Fails with [`ReportError::TooManyRows`] past [`MAX_XLSX_ROWS`] rows and
/// [`ReportError::TooManyColumns`] past 16,384 columns.
pub fn render_xlsx(
    sheet_name: &str,
    columns: &[Column],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>, ReportError> {
    let mut workbook = Workbook::new();
    write_sheet(&mut workbook, sheet_name, columns, rows)?;
    Ok(workbook.save_to_buffer()?)
}

/// One worksheet of a workbook of several: its name, columns and rows.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub columns: &'a [Column],
    pub rows: Box<dyn Iterator<Item = Vec<String>> + 'a>,
}

/// [`render_xlsx`] for several worksheets, written one after the other in the order given
/// (each sheet's rows are read only once the sheet before it is done).
pub fn render_xlsx_sheets(sheets: Vec<Sheet<'_>>) -> Result<Vec<u8>, ReportError> {
    let mut workbook = Workbook::new();
    for sheet in sheets {
        write_sheet(&mut workbook, sheet.name, sheet.columns, sheet.rows)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(
    workbook: &mut Workbook,
    sheet_name: &str,
    columns: &[Column],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), ReportError> {
    if columns.len() > usize::from(MAX_XLSX_COLUMNS) {
        return Err(ReportError::TooManyColumns {
            limit: MAX_XLSX_COLUMNS,
        });
    }
    // Constant memory: each finished row goes to a temporary file, so a sheet of a
    // million rows costs about the size of the finished file, not the cells' structures.
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(sanitize_sheet_name(sheet_name))?;

    let formats: Vec<ColumnFormats> = columns.iter().map(ColumnFormats::new).collect();
    let header_format = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border_bottom(FormatBorder::Thin)
        .set_border_bottom_color(Color::RGB(0x8EA9DB));

    for (col, (column, formats)) in columns.iter().zip(&formats).enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(
            0,
            col,
            clip(&column.header),
            &formats.header(&header_format),
        )?;
        sheet.set_column_width(col, xlsx_width(column))?;
    }

    let mut written: u32 = 0;
    for row in rows {
        if written == MAX_XLSX_ROWS {
            return Err(ReportError::TooManyRows {
                limit: MAX_XLSX_ROWS,
            });
        }
        written += 1;
        for (col, (cell, (column, formats))) in
            row.iter().zip(columns.iter().zip(&formats)).enumerate()
        {
            write_cell(sheet, written, col as u16, cell, column.kind, formats)?;
        }
    }

    if !columns.is_empty() {
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, written, (columns.len() - 1) as u16)?;
    }
    Ok(())
}

/// The formats one column needs, built once.
struct ColumnFormats {
    align: FormatAlign,
    /// For cells that parsed as the column's kind.
    typed: Format,
    /// For text cells and typed cells that did not parse.
    text: Format,
}

impl ColumnFormats {
    fn new(column: &Column) -> Self {
        let align = match column.align {
            Align::Left => FormatAlign::Left,
            Align::Right => FormatAlign::Right,
            Align::Center => FormatAlign::Center,
        };
        let text = Format::new().set_align(align);
        let typed = match column.kind {
            CellKind::Text => text.clone(),
            CellKind::Money => text.clone().set_num_format(MONEY_FORMAT),
            CellKind::Date => text.clone().set_num_format(DATE_FORMAT),
            CellKind::Integer => text.clone().set_num_format("0"),
        };
        ColumnFormats { align, typed, text }
    }

    fn header(&self, base: &Format) -> Format {
        base.clone().set_align(self.align)
    }
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &str,
    kind: CellKind,
    formats: &ColumnFormats,
) -> Result<(), XlsxError> {
    if cell.trim().is_empty() {
        return Ok(());
    }
    match kind {
        CellKind::Money => {
            if let Some(money) = MoneyText::parse(cell) {
                sheet.write_number_with_format(row, col, money.to_f64(), &formats.typed)?;
                return Ok(());
            }
        }
        CellKind::Date => {
            if let Some(date) =
                parse_date(cell).and_then(|(y, m, d)| ExcelDateTime::from_ymd(y, m, d).ok())
            {
                sheet.write_datetime_with_format(row, col, date, &formats.typed)?;
                return Ok(());
            }
        }
        CellKind::Integer => {
            if let Some(n) = parse_integer(cell) {
                sheet.write_number_with_format(row, col, n as f64, &formats.typed)?;
                return Ok(());
            }
        }
        CellKind::Text => {}
    }
    sheet.write_string_with_format(row, col, clip(cell), &formats.text)?;
    Ok(())
}

/// Cuts text to the most characters one cell keeps.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Column width in characters: the requested width, but room for the header
/// and its filter button, within Excel's 255.
fn xlsx_width(column: &Column) -> f64 {
    let header = column.header.chars().count() as f64 + 4.0;
    f64::from(column.effective_width())
        .max(header)
        .clamp(4.0, 255.0)
}

/// Makes a worksheet name Excel accepts.
fn sanitize_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(31)
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'').trim();
    if cleaned.is_empty() || cleaned.eq_ignore_ascii_case("history") {
        "Sheet1".to_string()
    } else {
        cleaned.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sanitize_sheet_name("Weekly: 2024/05"), "Weekly_ 2024_05");
        assert_eq!(sanitize_sheet_name(""), "Sheet1");
        assert_eq!(sanitize_sheet_name("'quoted'"), "quoted");
        assert_eq!(sanitize_sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(sanitize_sheet_name("History"), "Sheet1");
    }

    #[test]
    fn widths_leave_room_for_the_header() {
        assert_eq!(xlsx_width(&Column::text("Driver", 30.0)), 30.0);
        assert_eq!(xlsx_width(&Column::text("A long header name", 2.0)), 22.0);
        assert_eq!(xlsx_width(&Column::text("X", f32::NAN)), 10.0);
        assert_eq!(xlsx_width(&Column::text("X", 1000.0)), 255.0);
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text() {
        assert_eq!(clip("abc"), "abc");
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(clip(&long).chars().count(), MAX_CELL_CHARS);
    }
}
