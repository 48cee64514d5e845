//! XLSX rendering, read back with calamine and checked inside the zip.

use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reports::{render_xlsx, Align, Column, ReportError};

fn columns() -> Vec<Column> {
    vec![
        Column::text("Repair ID", 12.0),
        Column::money("Amount", 12.0),
        Column::date("Invoice date", 12.0),
        Column::integer("Weeks", 6.0),
        Column::text("Driver", 24.0).with_align(Align::Center),
    ]
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn read_sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("open xlsx");
    assert_eq!(workbook.sheet_names(), vec![name.to_string()]);
    workbook.worksheet_range(name).expect("sheet")
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut file = archive.by_name(name).expect(name);
    let mut out = String::new();
    file.read_to_string(&mut out).unwrap();
    out
}

/// Excel's serial day number of 2024-06-07.
const SERIAL_2024_06_07: f64 = 45450.0;

#[test]
fn cells_are_typed_by_column_kind() {
    let rows = vec![
        row(&["RPR-000001", "1234.50", "2024-06-07", "42", "José Núñez"]),
        row(&["RPR-000002", "-12.00", "2024-02-29", "-7", "Ann"]),
        row(&["RPR-000003", "$1,000", "2024-6-7", "1,234", ""]),
    ];
    let bytes = render_xlsx("Repairs", &columns(), rows.into_iter()).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "not a zip");
    let range = read_sheet(&bytes, "Repairs");
    assert_eq!(range.get_size(), (4, 5));

    // Header row.
    let headers: Vec<&Data> = (0..5).map(|c| range.get((0, c)).unwrap()).collect();
    assert_eq!(
        headers,
        ["Repair ID", "Amount", "Invoice date", "Weeks", "Driver"]
            .map(|h| Data::String(h.into()))
            .iter()
            .collect::<Vec<_>>()
    );

    // Text stays text, including non-ASCII.
    assert_eq!(range.get((1, 0)), Some(&Data::String("RPR-000001".into())));
    assert_eq!(range.get((1, 4)), Some(&Data::String("José Núñez".into())));
    // Money is a number.
    assert_eq!(range.get((1, 1)), Some(&Data::Float(1234.5)));
    assert_eq!(range.get((2, 1)), Some(&Data::Float(-12.0)));
    assert_eq!(range.get((3, 1)), Some(&Data::Float(1000.0)));
    // Dates are date cells with the right serial number.
    match range.get((1, 2)) {
        Some(Data::DateTime(dt)) => {
            assert!(dt.is_datetime());
            assert_eq!(dt.as_f64(), SERIAL_2024_06_07);
        }
        other => panic!("expected a date, got {other:?}"),
    }
    assert!(matches!(range.get((2, 2)), Some(Data::DateTime(dt)) if dt.as_f64() == 45351.0));
    // Integers are numbers.
    assert_eq!(range.get((1, 3)), Some(&Data::Float(42.0)));
    assert_eq!(range.get((2, 3)), Some(&Data::Float(-7.0)));
    assert_eq!(range.get((3, 3)), Some(&Data::Float(1234.0)));
    // A non-strict date falls back to text; empty cells stay empty.
    assert_eq!(range.get((3, 2)), Some(&Data::String("2024-6-7".into())));
    assert_eq!(range.get((3, 4)), Some(&Data::Empty));
}

#[test]
fn unparseable_typed_cells_fall_back_to_text() {
    let rows = vec![
        row(&["x", "n/a", "2023-02-29", "12.5", "y"]),
        row(&["z", "", "", "", ""]),
    ];
    let bytes = render_xlsx("Sheet", &columns(), rows.into_iter()).unwrap();
    let range = read_sheet(&bytes, "Sheet");
    assert_eq!(range.get((1, 1)), Some(&Data::String("n/a".into())));
    assert_eq!(range.get((1, 2)), Some(&Data::String("2023-02-29".into())));
    assert_eq!(range.get((1, 3)), Some(&Data::String("12.5".into())));
    for col in 1..5 {
        assert_eq!(range.get((2, col)), Some(&Data::Empty), "col {col}");
    }
}

#[test]
fn short_rows_leave_blanks_and_extra_cells_are_ignored() {
    let rows = vec![
        row(&["only id"]),
        row(&["a", "1", "2024-01-01", "1", "b", "extra", "more"]),
    ];
    let bytes = render_xlsx("S", &columns(), rows.into_iter()).unwrap();
    let range = read_sheet(&bytes, "S");
    assert_eq!(range.get_size(), (3, 5));
    assert_eq!(range.get((1, 0)), Some(&Data::String("only id".into())));
    assert_eq!(range.get((1, 1)), Some(&Data::Empty));
}

#[test]
fn sheet_has_styled_frozen_filtered_header_and_widths() {
    let rows = (0..10).map(|i| row(&["id", &format!("{i}.00"), "2024-01-01", "1", "d"]));
    let bytes = render_xlsx("Repairs: 2024/06", &columns(), rows).unwrap();
    let range = read_sheet(&bytes, "Repairs_ 2024_06");
    assert_eq!(range.get_size(), (11, 5));

    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{sheet}"
    );
    assert!(sheet.contains(r#"<autoFilter ref="A1:E11"/>"#), "{sheet}");
    assert!(sheet.contains("<cols>"));
    assert!(
        sheet.contains(r#"width="24.7109375""#),
        "driver column ~24 chars: {sheet}"
    );

    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="$#,##0.00""#), "{styles}");
    assert!(styles.contains(r#"formatCode="yyyy-mm-dd""#), "{styles}");
    assert!(styles.contains("<b/>"), "bold header font");
    assert!(
        styles.contains(r#"<fgColor rgb="FFD9E1F2"/>"#),
        "header fill"
    );
}

#[test]
fn two_thousand_rows_round_trip() {
    let rows = (0..2000).map(|i| {
        vec![
            format!("RPR-{i:06}"),
            format!("{}.{:02}", i, i % 100),
            format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            i.to_string(),
            format!("Driver {i}"),
        ]
    });
    let bytes = render_xlsx("Export", &columns(), rows).unwrap();
    let range = read_sheet(&bytes, "Export");
    assert_eq!(range.get_size(), (2001, 5));
    assert_eq!(
        range.get((2000, 0)),
        Some(&Data::String("RPR-001999".into()))
    );
    assert_eq!(range.get((2000, 1)), Some(&Data::Float(1999.99)));
    assert_eq!(range.get((2000, 3)), Some(&Data::Float(1999.0)));
    assert!(matches!(range.get((2000, 2)), Some(Data::DateTime(_))));
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<autoFilter ref="A1:E2001"/>"#));
}

#[test]
fn header_only_and_no_columns() {
    let bytes = render_xlsx("Empty", &columns(), std::iter::empty()).unwrap();
    let range = read_sheet(&bytes, "Empty");
    assert_eq!(range.get_size(), (1, 5));

    let bytes = render_xlsx("", &[], vec![row(&["ignored"])].into_iter()).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let range = read_sheet(&bytes, "Sheet1");
    assert!(range.is_empty());
}

#[test]
fn too_many_columns_is_an_error() {
    let columns: Vec<Column> = (0..16_385)
        .map(|i| Column::text(format!("C{i}"), 8.0))
        .collect();
    let err = render_xlsx("Wide", &columns, std::iter::empty()).unwrap_err();
    assert!(matches!(err, ReportError::TooManyColumns { limit: 16_384 }));
    assert!(err.to_string().contains("16384"));
}

#[test]
fn too_many_rows_is_an_error() {
    let columns = [Column::text("Only", 8.0)];
    let rows =
        std::iter::repeat_with(|| vec![String::new()]).take(reports::MAX_XLSX_ROWS as usize + 1);
    let err = render_xlsx("Long", &columns, rows).unwrap_err();
    assert!(matches!(err, ReportError::TooManyRows { limit: 1_048_575 }));
}
