//! Renders a 100,000-row, 12-column export PDF (the size the service caps PDF exports at)
//! and prints one JSON line: seconds, output bytes, pages and the process's peak RSS.
//!
//! ```text
//! cargo run --release -p reports --example table_bench [ROWS]
//! ```

use std::time::Instant;

use reports::{render_table_pdf, Column};

const NAMES: [&str; 6] = [
    "Zoë Łukasz-Müller",
    "José Nuñez",
    "Оксана Кузнецова",
    "Đorđe Petrović",
    "Αλέξανδρος Παπαδόπουλος",
    "Ahmed Raza",
];

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let columns = vec![
        Column::text("Repair ID", 16.0),
        Column::text("Invoice No.", 12.0),
        Column::date("Invoice Date", 11.0),
        Column::text("Status", 10.0),
        Column::text("Driver", 18.0),
        Column::text("Medallion", 9.0),
        Column::text("Lease", 10.0),
        Column::text("Lease Type", 14.0),
        Column::text("Workshop", 18.0),
        Column::money("Amount", 11.0),
        Column::money("Paid", 10.0),
        Column::money("Remaining", 11.0),
    ];
    let data = (0..rows).map(|i| {
        vec![
            format!("RPR-2026-{:05}", i + 1),
            format!("INV-{}", 10_000 + i),
            format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            ["Open", "Closed", "Hold"][i % 3].to_string(),
            NAMES[i % NAMES.len()].to_string(),
            format!(
                "{}{}{:02}",
                1 + i % 9,
                (b'A' + (i % 26) as u8) as char,
                i % 100
            ),
            format!("LS-{:05}", 1000 + i % 5000),
            ["Shift Lease", "Long Term", "Driver-Owned Vehicle"][i % 3].to_string(),
            ["Big Apple Workshop", "External Workshop"][i % 2].to_string(),
            format!("{}.{:02}", 100 + i % 9000, i % 100),
            format!("{}.00", i % 100),
            format!("{}.{:02}", i % 9000, i % 100),
        ]
    });
    let started = Instant::now();
    let pdf = render_table_pdf(
        "BAT Connect — Vehicle repair invoices",
        "Filters: none (all records)",
        "11/25/2026 10:00 AM EST",
        &columns,
        data,
    );
    let seconds = started.elapsed().as_secs_f64();
    let pages = pdf
        .windows(12)
        .filter(|w| w == b"/Type /Page\n" || w == b"/Type /Page ")
        .count();
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_default();
    assert!(pdf.starts_with(b"%PDF-"));
    if let Ok(path) = std::env::var("TABLE_BENCH_OUT") {
        std::fs::write(path, &pdf).expect("the PDF is written");
    }
    println!(
        "{{\"rows\": {rows}, \"seconds\": {seconds:.2}, \"bytes\": {}, \"pages_marker_count\": {pages}, \"peak_rss_kib\": {peak_kib}}}",
        pdf.len()
    );
}
