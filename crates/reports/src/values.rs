//! Parsing of cell text for the typed column kinds.
//!
//! The service hands over text; these helpers decide whether a cell really is
//! a money amount, a date or an integer. Anything that does not parse is shown
//! verbatim as text, never dropped.

/// A money amount parsed from text such as `1234.50`, `-12.00`, `$1,234.5`
/// or `-$0.99`, kept as its decimal digits so nothing is lost to floating
/// point when it is shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MoneyText {
    negative: bool,
    /// Integer digits without leading zeros ("0" for zero).
    int_digits: String,
    /// Fraction digits as written (may be empty).
    frac_digits: String,
}

impl MoneyText {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut s = text.trim();
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        }
        if let Some(rest) = s.strip_prefix('$') {
            s = rest;
        }
        if !negative {
            if let Some(rest) = s.strip_prefix('-') {
                negative = true;
                s = rest;
            }
        }
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if s.ends_with('.') && frac_part.is_empty() {
            return None;
        }
        let int_digits = strip_group_separators(int_part)?;
        let int_digits = int_digits.trim_start_matches('0');
        let int_digits = if int_digits.is_empty() {
            "0"
        } else {
            int_digits
        };
        let is_zero = int_digits == "0" && frac_part.bytes().all(|b| b == b'0');
        Some(MoneyText {
            negative: negative && !is_zero,
            int_digits: int_digits.to_string(),
            frac_digits: frac_part.to_string(),
        })
    }

    /// The amount as a float, for spreadsheet cells.
    pub(crate) fn to_f64(&self) -> f64 {
        let plain = format!(
            "{}{}.{}",
            if self.negative { "-" } else { "" },
            self.int_digits,
            if self.frac_digits.is_empty() {
                "0"
            } else {
                &self.frac_digits
            }
        );
        plain.parse().unwrap_or(0.0)
    }

    /// Display form: `$1,234.50`, `-$12.00`. At least two decimals; more are
    /// kept as written.
    pub(crate) fn display(&self) -> String {
        let mut out = String::with_capacity(self.int_digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        out.push('$');
        out.push_str(&group_thousands(&self.int_digits));
        out.push('.');
        out.push_str(&self.frac_digits);
        for _ in self.frac_digits.len()..2 {
            out.push('0');
        }
        out
    }
}

/// Removes thousands separators from an integer digit string, checking they
/// sit every three digits. Returns `None` for anything but digits and commas.
fn strip_group_separators(int_part: &str) -> Option<String> {
    if !int_part.contains(',') {
        return int_part
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| int_part.to_string());
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    let first_ok = matches!(groups[0].len(), 1..=3);
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    if !first_ok || !rest_ok || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(groups.concat())
}

/// Largest integer a spreadsheet (an f64) holds exactly.
const MAX_EXACT_INTEGER: i64 = 1 << 53;

/// Parses an integer such as `42`, `-7` or `1,234`, within ±2^53 so it
/// survives the trip through a spreadsheet's floating-point cells.
pub(crate) fn parse_integer(text: &str) -> Option<i64> {
    let s = text.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return None;
    }
    let digits = strip_group_separators(digits)?;
    let value: i64 = digits.parse().ok()?;
    if value > MAX_EXACT_INTEGER {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Parses a strict `YYYY-MM-DD` date into (year, month, day), checking the
/// day exists in that month.
pub(crate) fn parse_date(text: &str) -> Option<(u16, u8, u8)> {
    let s = text.trim().as_bytes();
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((year as u16, month as u8, day as u8))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_plain_and_formatted_amounts() {
        let m = MoneyText::parse("1234.50").unwrap();
        assert_eq!(m.display(), "$1,234.50");
        assert_eq!(m.to_f64(), 1234.5);
        assert_eq!(MoneyText::parse("-12.00").unwrap().display(), "-$12.00");
        assert_eq!(MoneyText::parse("-12.00").unwrap().to_f64(), -12.0);
        assert_eq!(
            MoneyText::parse("$1,234,567.8").unwrap().display(),
            "$1,234,567.80"
        );
        assert_eq!(MoneyText::parse("-$0.99").unwrap().display(), "-$0.99");
        assert_eq!(MoneyText::parse("$-5").unwrap().display(), "-$5.00");
        assert_eq!(MoneyText::parse(".5").unwrap().display(), "$0.50");
        assert_eq!(MoneyText::parse("007").unwrap().display(), "$7.00");
        assert_eq!(MoneyText::parse("-0.00").unwrap().display(), "$0.00");
        assert_eq!(MoneyText::parse("100").unwrap().display(), "$100.00");
        assert_eq!(MoneyText::parse("0.125").unwrap().display(), "$0.125");
    }

    #[test]
    fn money_rejects_non_amounts() {
        for bad in [
            "", "-", "$", "abc", "12.3.4", "1,23.00", "12,", "1.", "1e5", "--1", "12 USD",
        ] {
            assert!(MoneyText::parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("42"), Some(42));
        assert_eq!(parse_integer("-7"), Some(-7));
        assert_eq!(parse_integer("1,234"), Some(1234));
        assert_eq!(parse_integer(" 5 "), Some(5));
        assert_eq!(parse_integer("12.0"), None);
        assert_eq!(parse_integer("99999999999999999999"), None);
        assert_eq!(parse_integer("9007199254740993"), None);
        assert_eq!(parse_integer(""), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2024-1-01"), None);
        assert_eq!(parse_date("01/02/2024"), None);
        assert_eq!(parse_date("2024-04-31"), None);
        assert_eq!(parse_date("2024-12-31"), Some((2024, 12, 31)));
    }
}

/// A digit string grouped by thousands: `"1234567"` → `"1,234,567"`. The one place the
/// documents, exports and pages group digits.
pub fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count for people: `-1234567` → `"-1,234,567"`.
pub fn thousands(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(&n.unsigned_abs().to_string()))
}

/// Cents as dollars for people: `123450` → `"$1,234.50"`, `-1200` → `"-$12.00"`.
pub fn usd(cents: i64) -> String {
    let abs = cents.unsigned_abs();
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}${}.{:02}",
        group_thousands(&(abs / 100).to_string()),
        abs % 100
    )
}

#[cfg(test)]
mod grouping_tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(""), "");
        assert_eq!(group_thousands("999"), "999");
        assert_eq!(group_thousands("1000"), "1,000");
        assert_eq!(group_thousands("123456789"), "123,456,789");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn formats_dollars() {
        let cases: &[(i64, &str)] = &[
            (0, "$0.00"),
            (7, "$0.07"),
            (99_999, "$999.99"),
            (100_000, "$1,000.00"),
            (123_450, "$1,234.50"),
            (-1200, "-$12.00"),
            (100_000_000, "$1,000,000.00"),
            (-12_345_678_901, "-$123,456,789.01"),
            (i64::MIN, "-$92,233,720,368,547,758.08"),
        ];
        for &(cents, text) in cases {
            assert_eq!(usd(cents), text);
        }
    }
}
