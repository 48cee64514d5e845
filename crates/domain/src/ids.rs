//! Business identifier formats.
//!
//! Sequences are zero-padded to a minimum width but never truncated: once a
//! counter outgrows the padding the id simply gets longer, so ids stay unique.
//! Sequences are expected to be positive; the database hands them out.

/// Case number: `prefix` + 6-digit sequence, e.g. `RPRINV000001`.
pub fn case_no(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:06}")
}

/// Repair id: `RPR-2026-00001`.
pub fn repair_id(year: i32, seq: i64) -> String {
    format!("RPR-{year:04}-{seq:05}")
}

/// Installment id: the repair id plus a 2-digit sequence, `RPR-2026-00001-01`.
pub fn installment_id(repair_id: &str, sequence: u32) -> String {
    format!("{repair_id}-{sequence:02}")
}

/// Driver transaction receipt number: `DTR-2026-00001`.
pub fn dtr_number(year: i32, seq: i64) -> String {
    format!("DTR-{year:04}-{seq:05}")
}

/// `RPR-YYYY-NNNNN`, with five or more sequence digits.
pub fn is_repair_id(s: &str) -> bool {
    parse_repair_id(s).is_some()
}

/// The `(year, sequence)` of a repair id, if `s` is one.
pub fn parse_repair_id(s: &str) -> Option<(i32, i64)> {
    parse_year_seq(s, "RPR-")
}

/// The `(year, sequence)` of a DTR number, if `s` is one.
pub fn parse_dtr_number(s: &str) -> Option<(i32, i64)> {
    parse_year_seq(s, "DTR-")
}

/// `(repair id, sequence)` of an installment id such as `RPR-2026-00001-01`.
pub fn parse_installment_id(s: &str) -> Option<(&str, u32)> {
    let (repair, seq) = s.rsplit_once('-')?;
    if !is_repair_id(repair) || seq.len() < 2 || !all_digits(seq) {
        return None;
    }
    Some((repair, seq.parse().ok()?))
}

/// Case prefixes are 2 to 10 uppercase ASCII letters, e.g. `RPRINV`.
pub fn is_valid_case_prefix(s: &str) -> bool {
    (2..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_year_seq(s: &str, prefix: &str) -> Option<(i32, i64)> {
    let rest = s.strip_prefix(prefix)?;
    let (year, seq) = rest.split_once('-')?;
    if year.len() != 4 || !all_digits(year) || seq.len() < 5 || !all_digits(seq) {
        return None;
    }
    // Parsing can still fail for a sequence too long for i64.
    Some((year.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(case_no("RPRINV", 1), "RPRINV000001");
        assert_eq!(case_no("RPRINV", 999_999), "RPRINV999999");
        assert_eq!(case_no("RPRINV", 1_234_567), "RPRINV1234567");
        assert_eq!(repair_id(2026, 1), "RPR-2026-00001");
        assert_eq!(repair_id(2026, 123_456), "RPR-2026-123456");
        assert_eq!(installment_id("RPR-2026-00001", 1), "RPR-2026-00001-01");
        assert_eq!(installment_id("RPR-2026-00001", 123), "RPR-2026-00001-123");
        assert_eq!(dtr_number(2026, 42), "DTR-2026-00042");
        assert_eq!(dtr_number(2026, 100_000), "DTR-2026-100000");
    }

    #[test]
    fn repair_id_recognition() {
        for ok in ["RPR-2026-00001", "RPR-2026-123456", "RPR-1999-00000"] {
            assert!(is_repair_id(ok), "{ok}");
        }
        for bad in [
            "",
            "RPR-2026-0001",
            "RPR-26-00001",
            "RPR-20260-00001",
            "rpr-2026-00001",
            "RPR_2026_00001",
            "RPR-2026-00001-01",
            "RPR-2026-0000a",
            " RPR-2026-00001",
            "RPR-2026-+0001",
            "DTR-2026-00001",
            "RPR-2026-99999999999999999999",
        ] {
            assert!(!is_repair_id(bad), "{bad}");
        }
        assert_eq!(parse_repair_id(&repair_id(2026, 77)), Some((2026, 77)));
        assert_eq!(parse_dtr_number(&dtr_number(2027, 5)), Some((2027, 5)));
        assert_eq!(parse_dtr_number("RPR-2027-00005"), None);
    }

    #[test]
    fn installment_id_parsing() {
        let id = installment_id(&repair_id(2026, 3), 7);
        assert_eq!(parse_installment_id(&id), Some(("RPR-2026-00003", 7)));
        assert_eq!(parse_installment_id("RPR-2026-00003-7"), None);
        assert_eq!(parse_installment_id("RPR-2026-00003"), None);
        assert_eq!(parse_installment_id("RPR-2026-00003-x1"), None);
    }

    #[test]
    fn case_prefixes() {
        for ok in ["RPRINV", "AB", "ABCDEFGHIJ"] {
            assert!(is_valid_case_prefix(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "ABCDEFGHIJK",
            "rprinv",
            "RPR1",
            "RPR-",
            "ÄB",
            "AB ",
        ] {
            assert!(!is_valid_case_prefix(bad), "{bad}");
        }
    }
}
