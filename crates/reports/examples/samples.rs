//! Writes sample reports for eyeballing the layout:
//!
//! ```text
//! cargo run -p reports --example samples [OUT_DIR]   # default /tmp/reports-samples
//! pdftoppm -png -r 60 /tmp/reports-samples/receipt.pdf /tmp/reports-samples/receipt
//! ```

use std::path::PathBuf;

use reports::{
    render_pdf, render_table_pdf, render_xlsx, Align, Block, CellKind, Column, Document,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/reports-samples"));
    std::fs::create_dir_all(&dir)?;

    let files = [
        ("report_table.pdf", export_table()),
        ("repairs_report.pdf", render_pdf(&repairs_report())),
        ("receipt.pdf", render_pdf(&receipt())),
        ("weekly_statement.pdf", render_pdf(&weekly_statement())),
        ("all_blocks.pdf", render_pdf(&all_blocks())),
        ("edge_cases.pdf", render_pdf(&edge_cases())),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        println!("{}", path.display());
    }
    let xlsx = render_xlsx("Repairs", &export_columns(), export_rows(120))?;
    let path = dir.join("report_table.xlsx");
    std::fs::write(&path, xlsx)?;
    println!("{}", path.display());
    Ok(())
}

const DRIVERS: [&str; 8] = [
    "José Nuñez",
    "Mary O'Connor",
    "Zoë Łukasz-Müller",
    "Đorđe Petrović",
    "Оксана Кузнецова",
    "Αλέξανδρος Παπαδόπουλος",
    "Zoë Fairweather-Montgomery de la Croix",
    "Ahmed Raza",
];

const WORKSHOPS: [&str; 4] = [
    "Queens Auto Body & Paint",
    "Midtown Taxi Repair",
    "Bronx Transmission Specialists Inc.",
    "LIC Glass",
];

fn export_columns() -> Vec<Column> {
    vec![
        Column::text("Repair ID", 11.0),
        Column::text("Case No", 10.0),
        Column::text("Driver", 20.0),
        Column::text("Medallion", 9.0).with_align(Align::Center),
        Column::date("Invoice date", 11.0),
        Column::text("Workshop", 22.0),
        Column::money("Amount", 11.0),
        Column::money("Paid", 11.0),
        Column::money("Outstanding balance", 12.0),
        Column::integer("Installments", 8.0),
    ]
}

fn export_rows(n: usize) -> impl Iterator<Item = Vec<String>> {
    (0..n).map(|i| {
        let amount = 250.0 + (i as f64 * 137.35) % 4_800.0;
        let paid = (amount * ((i % 5) as f64) / 5.0 * 100.0).round() / 100.0;
        vec![
            format!("RPR-{:06}", 1000 + i),
            format!("BC-{:05}", 300 + i / 3),
            DRIVERS[i % DRIVERS.len()].to_string(),
            format!(
                "{}{}{:02}",
                1 + i % 9,
                (b'A' + (i % 26) as u8) as char,
                i % 100
            ),
            format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            WORKSHOPS[i % WORKSHOPS.len()].to_string(),
            format!("{amount:.2}"),
            format!("{paid:.2}"),
            if i % 17 == 0 {
                "n/a".to_string()
            } else {
                format!("{:.2}", amount - paid)
            },
            format!("{}", 4 + i % 20),
        ]
    })
}

fn export_table() -> Vec<u8> {
    render_table_pdf(
        "Repair invoices — outstanding balances",
        "Filters: status = open · workshop = any · invoice date 2024-01-01 to 2024-12-31",
        "06/09/2024 02:32 PM EDT",
        &export_columns(),
        export_rows(120),
    )
}

fn repairs_report() -> Document {
    let columns = vec![
        Column::text("Repair ID", 11.0),
        Column::text("Driver", 20.0),
        Column::date("Invoice date", 11.0),
        Column::money("Amount", 11.0),
        Column::money("Balance", 11.0),
        Column::integer("Weeks left", 8.0),
    ];
    let rows: Vec<Vec<String>> = export_rows(75)
        .map(|r| {
            vec![
                r[0].clone(),
                r[2].clone(),
                r[4].clone(),
                r[6].clone(),
                r[8].clone(),
                r[9].clone(),
            ]
        })
        .collect();
    Document {
        title: "Repair invoices by driver".into(),
        subtitle: vec![
            "Week of 2024-06-02 to 2024-06-08".into(),
            "All medallions, all workshops".into(),
        ],
        generated_at: "06/09/2024 02:32 PM EDT".into(),
        landscape: false,
        blocks: vec![
            Block::SummaryBox {
                items: vec![
                    ("Open invoices".into(), "75".into()),
                    ("Invoiced".into(), "$187,310.25".into()),
                    ("Collected this week".into(), "$12,904.00".into()),
                    ("Outstanding".into(), "$98,442.17".into()),
                ],
            },
            Block::Heading("Open repair invoices".into()),
            Block::Table {
                columns,
                rows,
                total_row: Some(vec![
                    "Total".into(),
                    "75 invoices".into(),
                    String::new(),
                    "187310.25".into(),
                    "98442.17".into(),
                    String::new(),
                ]),
            },
        ],
    }
}

fn receipt() -> Document {
    Document {
        title: "Payment receipt".into(),
        subtitle: vec!["BAT Connect Repairs · 31-00 47th Ave, Long Island City, NY 11101".into()],
        generated_at: "06/07/2024 10:15 AM EDT".into(),
        landscape: false,
        blocks: vec![
            Block::KeyValues {
                title: None,
                pairs: vec![
                    ("Receipt no.".into(), "RCPT-2024-004512".into()),
                    ("Date".into(), "06/07/2024".into()),
                    ("Received from".into(), "Zoë Łukasz-Müller".into()),
                    ("Invoice".into(), "ÜNÏ-ñ-№42".into()),
                    ("Memo".into(), "Оплата наличными №7 – Оксана".into()),
                    ("Medallion".into(), "5J42".into()),
                    ("Payment method".into(), "Cash".into()),
                    ("Cashier".into(), "M. O'Connor".into()),
                ],
                columns: 2,
            },
            Block::Heading("Applied to".into()),
            Block::Table {
                columns: vec![
                    Column::text("Installment", 16.0),
                    Column::text("Repair", 14.0),
                    Column::date("Due", 10.0),
                    Column::money("Amount", 10.0),
                ],
                rows: vec![
                    vec!["RPR-001234-03".into(), "Rear bumper".into(), "2024-06-01".into(), "150.00".into()],
                    vec!["RPR-001234-04".into(), "Rear bumper".into(), "2024-06-08".into(), "150.00".into()],
                    vec!["RPR-001301-01".into(), "Замена лобового стекла — windshield (Αλλαγή)".into(), "2024-06-08".into(), "87.50".into()],
                ],
                total_row: Some(vec!["Total paid".into(), String::new(), String::new(), "387.50".into()]),
            },
            Block::KeyValues {
                title: Some("Account after this payment".into()),
                pairs: vec![
                    ("Previous balance".into(), "$1,250.00".into()),
                    ("This payment".into(), "-$387.50".into()),
                    ("Remaining balance".into(), "$862.50".into()),
                ],
                columns: 1,
            },
            Block::Paragraph(
                "Thank you. Keep this receipt for your records. Installments are due every Saturday; \
                 payments received after Saturday 6 pm are applied to the following week."
                    .into(),
            ),
        ],
    }
}

fn weekly_statement() -> Document {
    Document {
        title: "Weekly driver statement".into(),
        subtitle: vec!["Payment week Sunday 2024-06-02 to Saturday 2024-06-08".into()],
        generated_at: "06/09/2024 06:00 AM EDT".into(),
        landscape: false,
        blocks: vec![
            Block::KeyValues {
                title: Some("Driver".into()),
                pairs: vec![
                    ("Name".into(), "Оксана Đorđević-Łukasz".into()),
                    ("Driver no.".into(), "D-004417".into()),
                    ("TLC licence".into(), "5123987".into()),
                    ("Medallion".into(), "7K19".into()),
                    ("Lease".into(), "Weekly, day shift".into()),
                    (
                        "Address".into(),
                        "1402 Ocean Parkway, Apt 6C, Brooklyn, NY 11230".into(),
                    ),
                ],
                columns: 3,
            },
            Block::SummaryBox {
                items: vec![
                    ("Lease charges".into(), "$525.00".into()),
                    ("Repair installments".into(), "$212.50".into()),
                    ("Credits".into(), "-$40.00".into()),
                    ("Net due this week".into(), "$697.50".into()),
                ],
            },
            Block::Heading("Charges".into()),
            Block::Table {
                columns: vec![
                    Column::date("Date", 10.0),
                    Column::text("Description", 34.0),
                    Column::text("Reference", 14.0),
                    Column::money("Amount", 10.0),
                ],
                rows: vec![
                    vec![
                        "2024-06-02".into(),
                        "Weekly lease, medallion 7K19 (day shift)".into(),
                        "LSE-7K19-23".into(),
                        "525.00".into(),
                    ],
                    vec![
                        "2024-06-08".into(),
                        "Repair installment 3 of 8 — rear quarter panel, paint and labour".into(),
                        "RPR-001877-03".into(),
                        "162.50".into(),
                    ],
                    vec![
                        "2024-06-08".into(),
                        "Repair installment 1 of 2 — mirror".into(),
                        "RPR-001990-01".into(),
                        "50.00".into(),
                    ],
                    vec![
                        "2024-06-05".into(),
                        "Credit: overpayment from previous week".into(),
                        "CR-000219".into(),
                        "-40.00".into(),
                    ],
                ],
                total_row: Some(vec![
                    String::new(),
                    "Net due".into(),
                    String::new(),
                    "697.50".into(),
                ]),
            },
            Block::KeyValues {
                title: Some("Repair balances after this week".into()),
                pairs: vec![
                    (
                        "RPR-001877 (rear quarter panel)".into(),
                        "$812.50 · 5 weeks left".into(),
                    ),
                    ("RPR-001990 (mirror)".into(), "$50.00 · 1 week left".into()),
                ],
                columns: 1,
            },
            Block::Paragraph(
                "Questions about this statement? Call the back office at (718) 555-0142 \
                 Monday to Friday, 8 am to 5 pm.\nAmounts are in US dollars."
                    .into(),
            ),
        ],
    }
}

fn all_blocks() -> Document {
    let long_text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(40);
    Document {
        title: "Every block, including awkward input: a very long title that has to wrap onto a second line because it does not fit".into(),
        subtitle: vec!["Subtitle with unicode: café, naïve, Ærø, ñ, €, “quotes”, 日本語, emoji 🚕".into()],
        generated_at: "2024-06-09".into(),
        landscape: false,
        blocks: vec![
            Block::Heading("Key/values, one column".into()),
            Block::KeyValues {
                title: Some("Receipt-like".into()),
                pairs: (1..=5).map(|i| (format!("Label {i}"), format!("Value {i}"))).collect(),
                columns: 1,
            },
            Block::KeyValues {
                title: Some("Three columns with long text".into()),
                pairs: vec![
                    ("A long label that wraps in a narrow cell".into(), "short".into()),
                    ("Key".into(), "A rather long value that needs to wrap onto several lines".into()),
                    ("Empty value".into(), String::new()),
                    (String::new(), "Value without label".into()),
                ],
                columns: 3,
            },
            Block::SummaryBox {
                items: (1..=6).map(|i| (format!("Item {i}"), format!("${},000,000.00", i * 111))).collect(),
            },
            Block::Paragraph(long_text),
            Block::Table {
                columns: vec![
                    Column::text("Narrow", 3.0),
                    Column::new("A header long enough to wrap twice or more", CellKind::Text, 6.0),
                    Column::money("Money", 5.0).with_align(Align::Center),
                ],
                rows: vec![],
                total_row: None,
            },
            Block::Heading("Heading at the end".into()),
        ],
    }
}

fn edge_cases() -> Document {
    let huge = "x".repeat(3_000);
    Document {
        title: String::new(),
        subtitle: vec![],
        generated_at: "a generated-at text that is much too long for the footer ".repeat(6),
        landscape: true,
        blocks: vec![
            Block::Heading(huge.clone()),
            Block::KeyValues {
                title: Some(huge.clone()),
                pairs: vec![(huge.clone(), huge.clone()), ("k".into(), "v".into())],
                columns: 2,
            },
            Block::SummaryBox {
                items: (0..7)
                    .map(|i| {
                        (
                            format!("Label {i}"),
                            if i == 3 {
                                huge.clone()
                            } else {
                                format!("${i}.00")
                            },
                        )
                    })
                    .collect(),
            },
            Block::Table {
                columns: vec![
                    Column::new("Huge money", CellKind::Money, 0.0).with_align(Align::Center),
                    Column::text("Supercalifragilisticexpialidocious", 1.0),
                    Column::text("B", f32::NAN),
                ],
                rows: vec![vec![
                    huge.clone(),
                    huge.clone(),
                    "tab\there\nnewline".into(),
                ]],
                total_row: Some(vec![huge.clone(), huge]),
            },
        ],
    }
}
