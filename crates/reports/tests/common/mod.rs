//! Helpers for looking inside the generated files.

#![allow(dead_code)]

use std::io::Read;

use flate2::read::ZlibDecoder;

/// Checks the outer structure of a PDF: header, trailer, and a `startxref`
/// offset that points at the cross-reference table.
pub fn assert_pdf_structure(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-"), "missing %PDF- header");
    let tail = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(64)..]).to_string();
    assert!(
        tail.trim_end().ends_with("%%EOF"),
        "missing %%EOF: {tail:?}"
    );
    let start = tail.find("startxref").expect("startxref") + "startxref".len();
    let offset: usize = tail[start..]
        .split_whitespace()
        .next()
        .expect("xref offset")
        .parse()
        .expect("numeric xref offset");
    assert!(
        pdf[offset..].starts_with(b"xref"),
        "startxref does not point at xref"
    );
}

/// Number of page objects (`/Type /Page`, not `/Type /Pages`).
pub fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// The `/Count` of the page tree.
pub fn page_tree_count(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/Count ").expect("page tree /Count") + "/Count ".len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Every string the pages show, decoded to Unicode, one `(text) Tj` line each (in file
/// order), so tests can look for [`shown`] text.
pub fn content_text(pdf: &[u8]) -> String {
    reports::inspect::shown_strings(pdf)
        .iter()
        .map(|s| format!("{} Tj\n", shown_literal(s)))
        .collect()
}

fn shown_literal(text: &str) -> String {
    format!("({text})")
}

/// All content streams, inflated and concatenated (in file order): the drawing
/// operators, for checks on coordinates.
pub fn raw_content(pdf: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"stream\n") {
        let body = &rest[start + b"stream\n".len()..];
        let end = find(body, b"\nendstream").expect("endstream");
        let mut inflated = Vec::new();
        if ZlibDecoder::new(&body[..end])
            .read_to_end(&mut inflated)
            .is_ok()
        {
            out.push_str(&String::from_utf8_lossy(&inflated));
            out.push('\n');
        }
        rest = &body[end + b"\nendstream".len()..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How often `needle` occurs in `haystack`.
pub fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// A PDF literal string as pdf-writer writes plain ASCII text.
pub fn shown(text: &str) -> String {
    format!("({text}) Tj")
}
