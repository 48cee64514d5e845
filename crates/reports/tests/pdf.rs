//! PDF rendering: every block type, long tables, page furniture, odd input.

mod common;

use common::{
    assert_pdf_structure, content_text, occurrences, page_count, page_tree_count, raw_content,
    shown,
};
use reports::{render_pdf, render_table_pdf, Align, Block, CellKind, Column, Document};

fn doc_with(blocks: Vec<Block>) -> Document {
    Document {
        title: "Test report".into(),
        subtitle: vec!["Week of 2024-06-02".into()],
        generated_at: "2024-06-09 14:32".into(),
        landscape: false,
        blocks,
    }
}

fn sample_columns() -> Vec<Column> {
    vec![
        Column::text("Repair ID", 12.0),
        Column::text("Driver", 20.0),
        Column::date("Invoice date", 11.0),
        Column::money("Amount", 11.0),
        Column::integer("Weeks", 6.0),
    ]
}

fn sample_rows(n: usize) -> impl Iterator<Item = Vec<String>> {
    (0..n).map(|i| {
        vec![
            format!("RPR-{i:06}"),
            format!("Driver {i}"),
            format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            format!("{}.{:02}", 100 + i, i % 100),
            format!("{}", i % 30),
        ]
    })
}

#[test]
fn empty_document_is_one_valid_page() {
    let pdf = render_pdf(&Document::new("Nothing here"));
    assert_pdf_structure(&pdf);
    assert_eq!(page_count(&pdf), 1);
    assert_eq!(page_tree_count(&pdf), 1);
    let text = content_text(&pdf);
    assert!(text.contains(&shown("Nothing here")));
    assert!(text.contains(&shown("Page 1 of 1")));
    // No generated-at text was given, so the footer leaves it out.
    assert!(!text.contains("Generated"));
}

#[test]
fn heading_block() {
    let pdf = render_pdf(&doc_with(vec![Block::Heading("Open repairs".into())]));
    assert_pdf_structure(&pdf);
    assert_eq!(page_count(&pdf), 1);
    let text = content_text(&pdf);
    assert!(text.contains(&shown("Open repairs")));
    assert!(text.contains(&shown("Test report")));
    assert!(text.contains(&shown("Week of 2024-06-02")));
    assert!(text.contains(&shown("Generated 2024-06-09 14:32")));
}

#[test]
fn key_values_block_in_every_grid_width() {
    for columns in [0u8, 1, 2, 3, 9] {
        let pdf = render_pdf(&doc_with(vec![Block::KeyValues {
            title: Some("Driver".into()),
            pairs: vec![
                ("Name".into(), "Mary O'Connor".into()),
                ("Medallion".into(), "5J42".into()),
                (
                    "Address".into(),
                    "1402 Ocean Parkway, Apt 6C, Brooklyn, NY 11230".into(),
                ),
                ("Empty".into(), String::new()),
            ],
            columns,
        }]));
        assert_pdf_structure(&pdf);
        assert_eq!(page_count(&pdf), 1, "columns = {columns}");
        let text = content_text(&pdf);
        assert!(text.contains(&shown("Driver")));
        assert!(text.contains(&shown("Medallion")));
        assert!(text.contains(&shown("5J42")));
    }
}

#[test]
fn summary_box_block() {
    let items: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("Item {i}"), format!("${i},000.00")))
        .collect();
    let pdf = render_pdf(&doc_with(vec![Block::SummaryBox { items }]));
    assert_pdf_structure(&pdf);
    let text = content_text(&pdf);
    for i in 1..=6 {
        assert!(text.contains(&shown(&format!("Item {i}"))));
        assert!(text.contains(&shown(&format!("${i},000.00"))));
    }
    // Big values are drawn in the bold face at the large size.
    assert!(raw_content(&pdf).contains("/F2 18 Tf"));
}

#[test]
fn table_block_with_total_row() {
    let pdf = render_pdf(&doc_with(vec![Block::Table {
        columns: sample_columns(),
        rows: vec![
            vec![
                "RPR-1".into(),
                "Ann".into(),
                "2024-06-01".into(),
                "1234.5".into(),
                "3".into(),
            ],
            vec![
                "RPR-2".into(),
                "Bob".into(),
                "not a date".into(),
                "n/a".into(),
                "x".into(),
            ],
            vec!["RPR-3".into()],
        ],
        total_row: Some(vec![
            "Total".into(),
            String::new(),
            String::new(),
            "-12.00".into(),
        ]),
    }]));
    assert_pdf_structure(&pdf);
    assert_eq!(page_count(&pdf), 1);
    let text = content_text(&pdf);
    for header in ["Repair ID", "Driver", "Invoice date", "Amount", "Weeks"] {
        assert!(text.contains(&shown(header)), "header {header}");
    }
    // Money is shown in display form; text that is not money stays as is.
    assert!(text.contains(&shown("$1,234.50")));
    assert!(text.contains(&shown("n/a")));
    assert!(text.contains(&shown("not a date")));
    assert!(text.contains(&shown("Total")));
    assert!(text.contains(&shown("-$12.00")));
}

#[test]
fn empty_table_says_so_and_table_without_columns_is_skipped() {
    let pdf = render_pdf(&doc_with(vec![
        Block::Table {
            columns: sample_columns(),
            rows: vec![],
            total_row: None,
        },
        Block::Table {
            columns: vec![],
            rows: vec![vec!["ignored".into()]],
            total_row: None,
        },
    ]));
    assert_pdf_structure(&pdf);
    let text = content_text(&pdf);
    assert!(text.contains(&shown("No rows.")));
    assert!(!text.contains("ignored"));
}

#[test]
fn paragraph_block_wraps_and_breaks_pages() {
    let short = render_pdf(&doc_with(vec![Block::Paragraph(
        "Thank you.\nSecond line.".into(),
    )]));
    assert_pdf_structure(&short);
    let text = content_text(&short);
    assert!(text.contains(&shown("Thank you.")));
    assert!(text.contains(&shown("Second line.")));

    let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(400);
    let pdf = render_pdf(&doc_with(vec![Block::Paragraph(long)]));
    assert_pdf_structure(&pdf);
    assert!(page_count(&pdf) > 1);
}

#[test]
fn long_table_breaks_pages_and_repeats_its_header() {
    let rows: Vec<Vec<String>> = sample_rows(2000).collect();
    let pdf = render_pdf(&doc_with(vec![
        Block::Heading("All repairs".into()),
        Block::Table {
            columns: sample_columns(),
            rows,
            total_row: Some(vec!["Total".into()]),
        },
    ]));
    assert_pdf_structure(&pdf);
    let pages = page_count(&pdf);
    assert!(pages > 1, "2,000 rows on {pages} page(s)");
    assert_eq!(page_tree_count(&pdf), pages);
    let text = content_text(&pdf);
    // Header row on every page, footer on every page, every row present once.
    assert_eq!(occurrences(&text, &shown("Repair ID")), pages);
    for page in 1..=pages {
        assert!(text.contains(&shown(&format!("Page {page} of {pages}"))));
    }
    assert_eq!(occurrences(&text, "(RPR-"), 2000);
    assert!(text.contains(&shown("RPR-001999")));
    // The full title only once; the running header on the other pages.
    assert_eq!(occurrences(&raw_content(&pdf), "/F2 18 Tf"), 1);
    assert_eq!(occurrences(&text, &shown("Test report")), pages);
}

#[test]
fn streamed_table_export_breaks_pages() {
    let pdf = render_table_pdf(
        "Repairs export",
        "Status: open",
        "2024-06-09 14:32",
        &sample_columns(),
        sample_rows(2000),
    );
    assert_pdf_structure(&pdf);
    let pages = page_count(&pdf);
    assert!(pages > 1);
    let text = content_text(&pdf);
    assert_eq!(occurrences(&text, &shown("Repair ID")), pages);
    assert!(text.contains(&shown("Status: open")));
    assert!(text.contains(&shown(&format!("Page {pages} of {pages}"))));
    // Five modest columns fit a portrait page.
    assert!(String::from_utf8_lossy(&pdf).contains("/MediaBox [0 0 612 792]"));
}

#[test]
fn wide_exports_and_landscape_documents_turn_the_page() {
    let columns: Vec<Column> = (0..9)
        .map(|i| Column::text(format!("C{i}"), 10.0))
        .collect();
    let pdf = render_table_pdf("Wide", "", "", &columns, std::iter::empty());
    assert_pdf_structure(&pdf);
    assert!(String::from_utf8_lossy(&pdf).contains("/MediaBox [0 0 792 612]"));

    let mut doc = doc_with(vec![]);
    doc.landscape = true;
    let pdf = render_pdf(&doc);
    assert!(String::from_utf8_lossy(&pdf).contains("/MediaBox [0 0 792 612]"));
}

#[test]
fn every_script_prints_as_written_with_embedded_fonts() {
    let pdf = render_pdf(&doc_with(vec![
        Block::Paragraph("José Núñez Łukasz Оксана Đorđe Αλέξης".into()),
        Block::Table {
            columns: vec![Column::text("Naïve (café)", 10.0)],
            rows: vec![vec!["€5 — “quoted” \\ back (paren №42".into()]],
            total_row: None,
        },
    ]));
    assert_pdf_structure(&pdf);
    let text = content_text(&pdf);
    assert!(
        text.contains(&shown("José Núñez Łukasz Оксана Đorđe Αλέξης")),
        "{text}"
    );
    assert!(text.contains(&shown("Naïve (café)")), "{text}");
    assert!(
        text.contains(&shown("€5 — “quoted” \\ back (paren №42")),
        "{text}"
    );
    // Both faces are embedded as subsets with a Unicode map; no standard font is used.
    let raw = String::from_utf8_lossy(&pdf);
    assert_eq!(occurrences(&raw, "/Subtype /Type0"), 2);
    assert_eq!(occurrences(&raw, "/FontFile2"), 2);
    assert_eq!(occurrences(&raw, "/ToUnicode"), 2);
    assert!(raw.contains("+DejaVuSansCondensed-Bold"));
    assert!(!raw.contains("Helvetica"));
    // Subsets keep the file small: far below the 740 KB of the whole regular face.
    assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
}

#[test]
fn characters_outside_the_fonts_print_as_a_visible_mark() {
    let pdf = render_pdf(&doc_with(vec![Block::Paragraph("Chen Wei 陈伟 🚕".into())]));
    let text = content_text(&pdf);
    assert!(
        text.contains(&shown("Chen Wei \u{FFFD}\u{FFFD} \u{FFFD}")),
        "{text}"
    );
}

#[test]
fn long_cell_values_wrap_instead_of_being_cut() {
    let long = "INV-2026-QUEENS-AUTO-BODY-0000012345 rear bumper, tail light, trunk lid and paint";
    let pdf = render_pdf(&doc_with(vec![Block::Table {
        columns: vec![Column::text("Invoice", 8.0), Column::text("Driver", 8.0)],
        rows: vec![vec![long.into(), "Zoë Łukasz-Müller".into()]],
        total_row: None,
    }]));
    let strings = reports::inspect::shown_strings(&pdf);
    assert!(!strings.iter().any(|s| s.contains('…')), "{strings:?}");
    let start = strings
        .iter()
        .position(|s| s.starts_with("INV-"))
        .expect("the value is shown");
    let mut joined = String::new();
    for s in &strings[start..] {
        joined.push_str(s);
        if joined.replace(' ', "").len() >= long.replace(' ', "").len() {
            break;
        }
    }
    assert_eq!(joined.replace(' ', ""), long.replace(' ', ""));
}

#[test]
fn oversized_content_terminates_and_stays_on_the_page() {
    let huge = "x".repeat(20_000);
    let pdf = render_pdf(&doc_with(vec![
        Block::Heading(huge.clone()),
        Block::KeyValues {
            title: Some(huge.clone()),
            pairs: vec![(huge.clone(), huge.clone())],
            columns: 1,
        },
        Block::SummaryBox {
            items: (0..200).map(|i| (format!("L{i}"), huge.clone())).collect(),
        },
        Block::Table {
            columns: vec![
                Column::new(huge.clone(), CellKind::Money, 0.0).with_align(Align::Center),
                Column::text("B", f32::NAN),
            ],
            rows: vec![vec![huge.clone(), huge.clone()]],
            total_row: Some(vec![huge.clone(), huge]),
        },
    ]));
    assert_pdf_structure(&pdf);
    assert!(page_count(&pdf) > 1);
    // Every drawn coordinate stays finite.
    let text = raw_content(&pdf);
    assert!(!text.contains("NaN") && !text.contains("inf"));
}
