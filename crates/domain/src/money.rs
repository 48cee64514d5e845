//! Exact money in integer cents.
//!
//! Amounts never pass through floating point: text is parsed digit by digit,
//! and JSON numbers are read from their exact text (the workspace builds
//! serde_json with `arbitrary_precision`, so a number keeps the digits the
//! client sent): `1234.56` arrives as exactly 123456 cents, and
//! `199.999999999999999` is refused for its decimals instead of being rounded
//! to 200.00 by a float on the way in.
//!
//! Accepted text (see [`Money::parse`]): optional surrounding whitespace, an
//! optional `+`/`-` sign, at least one ASCII digit, then optionally a `.` and
//! one or two digits. Rejected: `".5"` and `"12."` (a digit is required on both
//! sides of the point, so half-typed input is not silently completed),
//! exponents (`"1e5"`), separators (`"1,000"`), currency symbols, and more than
//! two decimal places even when they are zeros (`"12.500"`).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::de::{self, Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

/// An amount of US dollars held as integer cents.
///
/// The arithmetic operators panic on `i64` overflow. Business amounts are
/// capped at [`Money::MAX_AMOUNT`], so overflow means a bug, not bad input;
/// use [`Money::checked_add`] / [`Money::checked_sub`] where input is untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a text or JSON value is not an acceptable amount.
///
/// Messages are phrased to follow a field name ("amount must be ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must not be empty")]
    Empty,
    #[error("must be a decimal amount such as 1234.50")]
    Invalid,
    #[error("must have at most 2 decimal places")]
    TooManyDecimals,
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must not exceed 1000000.00")]
    TooLarge,
    #[error("is too large to represent")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(0);
    /// The largest invoice or payment amount accepted from users: 1,000,000.00.
    pub const MAX_AMOUNT: Money = Money(100_000_000);

    pub const fn from_cents(c: i64) -> Money {
        Money(c)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses signed decimal text such as `"12"`, `"12.5"`, `"-3.01"`, `"+4"`.
    /// See the module documentation for exactly what is accepted.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, unsigned) = split_sign(s);
        let (int, frac) = split_point(unsigned)?;
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        to_cents(negative, int, frac, 0)
    }

    /// [`Money::parse`] for a user-entered amount: must be in `0.01..=MAX_AMOUNT`.
    pub fn parse_amount(s: &str) -> Result<Money, MoneyError> {
        let negative = s.trim_start().starts_with('-');
        check_amount(Money::parse(s), negative)
    }

    /// Reads a JSON string (via [`Money::parse`]) or a JSON number, exactly.
    pub fn from_json(v: &serde_json::Value) -> Result<Money, MoneyError> {
        match v {
            serde_json::Value::String(s) => Money::parse(s),
            serde_json::Value::Number(n) => from_json_number(n),
            _ => Err(MoneyError::Invalid),
        }
    }

    /// [`Money::from_json`] for a user-entered amount: must be in `0.01..=MAX_AMOUNT`.
    pub fn amount_from_json(v: &serde_json::Value) -> Result<Money, MoneyError> {
        let negative = match v {
            serde_json::Value::String(s) => s.trim_start().starts_with('-'),
            serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f < 0.0),
            _ => false,
        };
        check_amount(Money::from_json(v), negative)
    }

    pub fn checked_add(self, o: Money) -> Option<Money> {
        self.0.checked_add(o.0).map(Money)
    }

    pub fn checked_sub(self, o: Money) -> Option<Money> {
        self.0.checked_sub(o.0).map(Money)
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn min(self, o: Money) -> Money {
        if self.0 <= o.0 {
            self
        } else {
            o
        }
    }

    pub const fn max(self, o: Money) -> Money {
        if self.0 >= o.0 {
            self
        } else {
            o
        }
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `"123.45"` into `("123", "45")`, requiring digits on both sides of
/// any point.
fn split_point(s: &str) -> Result<(&str, &str), MoneyError> {
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    if !is_digits(int) || frac.is_some_and(|f| !is_digits(f)) {
        return Err(MoneyError::Invalid);
    }
    Ok((int, frac.unwrap_or("")))
}

/// Computes `±(int.frac × 10^exp)` in cents. The caller guarantees
/// `frac.len() - exp <= 2`, so the result is a whole number of cents.
fn to_cents(negative: bool, int: &str, frac: &str, exp: i64) -> Result<Money, MoneyError> {
    // i128 leaves headroom so that i64::MIN (whose magnitude exceeds i64::MAX)
    // can be built before the sign is applied.
    let mut acc: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        acc = acc
            .checked_mul(10)
            .and_then(|a| a.checked_add(i128::from(b - b'0')))
            .ok_or(MoneyError::Overflow)?;
    }
    let decimals = i64::try_from(frac.len()).map_err(|_| MoneyError::Overflow)? - exp;
    // Zero stays zero however far it is scaled; otherwise the loop overflows
    // within ~40 steps, so a huge exponent cannot make it spin.
    if acc != 0 {
        for _ in decimals..2 {
            acc = acc.checked_mul(10).ok_or(MoneyError::Overflow)?;
        }
    }
    let signed = if negative { -acc } else { acc };
    i64::try_from(signed)
        .map(Money)
        .map_err(|_| MoneyError::Overflow)
}

fn from_json_number(n: &serde_json::Number) -> Result<Money, MoneyError> {
    if let Some(i) = n.as_i64() {
        return i.checked_mul(100).map(Money).ok_or(MoneyError::Overflow);
    }
    if n.as_u64().is_some() {
        // Only integers above i64::MAX land here; none fit once scaled to cents.
        return Err(MoneyError::Overflow);
    }
    parse_number_text(&n.to_string())
}

/// Parses the text of a JSON number as the client wrote it, which may use an
/// exponent (`"1e16"`, `"1.5e-7"`), exactly.
fn parse_number_text(s: &str) -> Result<Money, MoneyError> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], parse_exponent(&s[i + 1..])?),
        None => (s, 0),
    };
    let (negative, unsigned) = split_sign(mantissa);
    let (int, frac) = split_point(unsigned)?;
    let decimals = i64::try_from(frac.len()).map_err(|_| MoneyError::Overflow)? - exp;
    if decimals > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    to_cents(negative, int, frac, exp)
}

fn parse_exponent(s: &str) -> Result<i64, MoneyError> {
    let (negative, digits) = split_sign(s);
    if !is_digits(digits) {
        return Err(MoneyError::Invalid);
    }
    // Saturate: any exponent beyond a few hundred already overflows or leaves
    // too many decimals, so its exact size does not matter.
    let magnitude = digits
        .bytes()
        .fold(0i64, |acc, b| {
            acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        })
        .min(1_000_000);
    Ok(if negative { -magnitude } else { magnitude })
}

fn check_amount(parsed: Result<Money, MoneyError>, negative: bool) -> Result<Money, MoneyError> {
    match parsed {
        // An unrepresentable amount is still, to the user, just too big or too small.
        Err(MoneyError::Overflow) if negative => Err(MoneyError::NotPositive),
        Err(MoneyError::Overflow) => Err(MoneyError::TooLarge),
        Err(e) => Err(e),
        Ok(m) if !m.is_positive() => Err(MoneyError::NotPositive),
        Ok(m) if m > Money::MAX_AMOUNT => Err(MoneyError::TooLarge),
        Ok(m) => Ok(m),
    }
}

impl fmt::Display for Money {
    /// Always two decimals, no separators: `"0.05"`, `"-12345.50"`.
    /// Honours width/alignment flags so amounts line up in text reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        f.pad(&format!("{sign}{}.{:02}", abs / 100, abs % 100))
    }
}

impl std::str::FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Add for Money {
    type Output = Money;

    fn add(self, o: Money) -> Money {
        self.checked_add(o)
            .expect("money addition overflowed i64 cents")
    }
}

impl Sub for Money {
    type Output = Money;

    fn sub(self, o: Money) -> Money {
        self.checked_sub(o)
            .expect("money subtraction overflowed i64 cents")
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        *self = *self + o;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        *self = *self - o;
    }
}

impl Neg for Money {
    type Output = Money;

    fn neg(self) -> Money {
        Money(
            self.0
                .checked_neg()
                .expect("money negation overflowed i64 cents"),
        )
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Through a JSON value, so a JSON number arrives with its exact text (serde_json's
    /// `arbitrary_precision`): `199.999` is refused, never rounded by a float first.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(deserializer)?;
        Money::from_json(&v).map_err(|e| de::Error::custom(format_args!("amount {v} {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn m(c: i64) -> Money {
        Money::from_cents(c)
    }

    #[test]
    fn parse_accepts() {
        let cases: &[(&str, i64)] = &[
            ("12", 1200),
            ("12.5", 1250),
            ("12.50", 1250),
            ("-3.01", -301),
            ("+4", 400),
            ("  7.25 \n", 725),
            ("0", 0),
            ("-0", 0),
            ("0.00", 0),
            ("007.10", 710),
            ("0.01", 1),
            ("1000000.00", 100_000_000),
            ("92233720368547758.07", i64::MAX),
            ("-92233720368547758.08", i64::MIN),
        ];
        for &(text, cents) in cases {
            assert_eq!(Money::parse(text), Ok(m(cents)), "{text:?}");
        }
    }

    #[test]
    fn parse_rejects() {
        use MoneyError::*;
        let cases: &[(&str, MoneyError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("12.345", TooManyDecimals),
            ("12.500", TooManyDecimals),
            ("12.3a", Invalid),
            ("1e5", Invalid),
            ("1,000", Invalid),
            ("1 000", Invalid),
            ("12.", Invalid),
            (".5", Invalid),
            ("-", Invalid),
            ("+-1", Invalid),
            ("--1", Invalid),
            ("$5", Invalid),
            ("5$", Invalid),
            ("abc", Invalid),
            ("NaN", Invalid),
            ("1.2.3", Invalid),
            ("- 5", Invalid),
            ("\u{0661}\u{0662}", Invalid),
            ("92233720368547758.08", Overflow),
            ("-92233720368547758.09", Overflow),
            ("99999999999999999999999999999999999999999999", Overflow),
        ];
        for (text, err) in cases {
            assert_eq!(Money::parse(text), Err(err.clone()), "{text:?}");
        }
    }

    #[test]
    fn parse_amount_bounds() {
        use MoneyError::*;
        assert_eq!(Money::parse_amount("0.01"), Ok(m(1)));
        assert_eq!(Money::parse_amount(" 1000000.00 "), Ok(Money::MAX_AMOUNT));
        let cases: &[(&str, MoneyError)] = &[
            ("0", NotPositive),
            ("0.00", NotPositive),
            ("-1", NotPositive),
            ("1000000.01", TooLarge),
            ("99999999999999999999999", TooLarge),
            ("-99999999999999999999999", NotPositive),
            ("", Empty),
            ("1.001", TooManyDecimals),
            ("x", Invalid),
        ];
        for (text, err) in cases {
            assert_eq!(Money::parse_amount(text), Err(err.clone()), "{text:?}");
        }
    }

    #[test]
    fn from_json_cases() {
        use MoneyError::*;
        let ok: &[(serde_json::Value, i64)] = &[
            (json!("12.50"), 1250),
            (json!(" 12 "), 1200),
            (json!(12), 1200),
            (json!(-7), -700),
            (json!(1234.56), 123_456),
            (json!(0.1), 10),
            (json!(0.07), 7),
            (json!(-5.5), -550),
            (json!(-0.0), 0),
            (json!(100.0), 10_000),
            (json!(999999.99), 99_999_999),
            (json!(1e16), 1_000_000_000_000_000_000),
        ];
        for (v, cents) in ok {
            assert_eq!(Money::from_json(v), Ok(m(*cents)), "{v}");
        }
        let bad: &[(serde_json::Value, MoneyError)] = &[
            (json!(12.345), TooManyDecimals),
            (json!(0.1 + 0.2), TooManyDecimals),
            (json!(1e-7), TooManyDecimals),
            (json!(1e17), Overflow),
            (json!(1e300), Overflow),
            (json!(u64::MAX), Overflow),
            (json!(i64::MAX), Overflow),
            (json!("1e5"), Invalid),
            (json!(""), Empty),
            (json!(null), Invalid),
            (json!(true), Invalid),
            (json!([1]), Invalid),
            (json!({"amount": 1}), Invalid),
        ];
        for (v, err) in bad {
            assert_eq!(Money::from_json(v), Err(err.clone()), "{v}");
        }
    }

    /// Numbers as a client sends them: their exact text, never a float's rounding.
    #[test]
    fn json_numbers_keep_their_text() {
        let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(
            Money::from_json(&value("199.999999999999999")),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Money::from_json(&value("12.500")),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(Money::from_json(&value("12.50")), Ok(m(1250)));
        assert_eq!(Money::from_json(&value("1.5e2")), Ok(m(15_000)));
        assert!(serde_json::from_str::<Money>("199.999999999999999").is_err());
        assert_eq!(serde_json::from_str::<Money>("199.99").unwrap(), m(19_999));
        assert_eq!(serde_json::from_str::<Money>("\"7.10\"").unwrap(), m(710));
        #[derive(serde::Deserialize)]
        struct Row {
            amount: Money,
        }
        let row: Row = serde_json::from_str(r#"{"amount": 0.07}"#).unwrap();
        assert_eq!(row.amount, m(7));
        let err = serde_json::from_str::<Row>(r#"{"amount": 0.005}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("at most 2 decimal places"), "{err}");
    }

    #[test]
    fn number_text_with_exponents() {
        assert_eq!(parse_number_text("1.5e3"), Ok(m(150_000)));
        assert_eq!(parse_number_text("1.25E+1"), Ok(m(1250)));
        assert_eq!(parse_number_text("1.5e-1"), Ok(m(15)));
        assert_eq!(
            parse_number_text("1.5e-2"),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(parse_number_text("0e99999999999999999999"), Ok(Money::ZERO));
        assert_eq!(
            parse_number_text("1e99999999999999999999"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(parse_number_text("1e"), Err(MoneyError::Invalid));
    }

    #[test]
    fn amount_from_json_cases() {
        use MoneyError::*;
        assert_eq!(Money::amount_from_json(&json!(1234.5)), Ok(m(123_450)));
        assert_eq!(Money::amount_from_json(&json!("0.01")), Ok(m(1)));
        assert_eq!(
            Money::amount_from_json(&json!(1_000_000)),
            Ok(Money::MAX_AMOUNT)
        );
        let bad: &[(serde_json::Value, MoneyError)] = &[
            (json!(0), NotPositive),
            (json!(-0.5), NotPositive),
            (json!("-3"), NotPositive),
            (json!(1000000.01), TooLarge),
            (json!(1e17), TooLarge),
            (json!(-1e17), NotPositive),
            (json!(u64::MAX), TooLarge),
            (json!("abc"), Invalid),
            (json!(null), Invalid),
        ];
        for (v, err) in bad {
            assert_eq!(Money::amount_from_json(v), Err(err.clone()), "{v}");
        }
    }

    #[test]
    fn display() {
        let cases: &[(i64, &str)] = &[
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (100, "1.00"),
            (-1_234_550, "-12345.50"),
            (100_000_000, "1000000.00"),
            (i64::MIN, "-92233720368547758.08"),
        ];
        for &(cents, text) in cases {
            assert_eq!(m(cents).to_string(), text);
        }
        assert_eq!(format!("[{:>8}]", m(150)), "[    1.50]");
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            MoneyError::Invalid.to_string(),
            "must be a decimal amount such as 1234.50"
        );
        assert_eq!(
            MoneyError::TooLarge.to_string(),
            format!("must not exceed {}", Money::MAX_AMOUNT)
        );
    }

    #[test]
    fn arithmetic() {
        assert_eq!(m(150) + m(25), m(175));
        assert_eq!(m(150) - m(200), m(-50));
        assert_eq!(-m(3), m(-3));
        let mut x = m(10);
        x += m(5);
        x -= m(1);
        assert_eq!(x, m(14));
        let v = [m(1), m(2), m(3)];
        assert_eq!(v.iter().sum::<Money>(), m(6));
        assert_eq!(v.into_iter().sum::<Money>(), m(6));
        assert_eq!(m(i64::MAX).checked_add(m(1)), None);
        assert_eq!(m(i64::MIN).checked_sub(m(1)), None);
        assert_eq!(m(3).min(m(2)), m(2));
        assert_eq!(m(3).max(m(2)), m(3));
        assert!(m(1).is_positive() && !m(0).is_positive() && !m(-1).is_positive());
        assert!(m(0).is_zero() && m(-1).is_negative());
    }

    #[test]
    #[should_panic(expected = "overflowed")]
    fn add_overflow_panics() {
        let _ = m(i64::MAX) + m(1);
    }

    #[test]
    fn serde_round_trip() {
        assert_eq!(serde_json::to_string(&m(123_450)).unwrap(), "\"1234.50\"");
        assert_eq!(serde_json::to_value(m(-5)).unwrap(), json!("-0.05"));
        for text in ["\"1234.50\"", "1234.5", "\"1234.5\"", "1234.50"] {
            assert_eq!(
                serde_json::from_str::<Money>(text).unwrap(),
                m(123_450),
                "{text}"
            );
        }
        assert_eq!(serde_json::from_str::<Money>("12").unwrap(), m(1200));
        assert_eq!(serde_json::from_str::<Money>("-12").unwrap(), m(-1200));
        let err = serde_json::from_str::<Money>("\"1,000\"").unwrap_err();
        assert!(err.to_string().contains("1234.50"), "{err}");
        let err = serde_json::from_str::<Money>("1.005").unwrap_err();
        assert!(
            err.to_string().contains("at most 2 decimal places"),
            "{err}"
        );
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(c in -10_000_000_000_000i64..=10_000_000_000_000) {
            prop_assert_eq!(Money::parse(&m(c).to_string()), Ok(m(c)));
        }

        #[test]
        fn json_float_is_exact(c in 1i64..=100_000_000) {
            let text = format!("{}.{:02}", c / 100, c % 100);
            let f: f64 = text.parse().unwrap();
            let v = serde_json::Value::from(f);
            prop_assert_eq!(Money::from_json(&v), Ok(m(c)));
            prop_assert_eq!(Money::amount_from_json(&v), Ok(m(c)));
            prop_assert_eq!(serde_json::from_value::<Money>(v).unwrap(), m(c));
        }

        #[test]
        fn serde_round_trip_any(c in any::<i64>()) {
            let s = serde_json::to_string(&m(c)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&s).unwrap(), m(c));
        }
    }
}
