//! A workshop's invoice as it is written: line items (parts, labour, fees, discounts), a tax
//! rate, and the total they make.
//!
//! - A line's amount is quantity × unit price, rounded half-up to the cent.
//! - A discount's amount is subtracted; a taxable discount also lowers the taxable base.
//! - Tax is computed once, on the taxable base, rounded half-up to the cent.
//! - The total is the lines plus the tax.
//!
//! Quantities and tax rates are decimals with at most three places, held as integer
//! thousandths (1.5 hours is 1500; 8.875 % is 8875), so nothing passes through floating
//! point. Products are taken in `i128`, where no allowed input can overflow.

use crate::money::Money;

crate::stored_words! {
    /// What a line of a workshop's invoice is for.
    pub enum LineKind("line kind") {
        Part => "part",
        Labour => "labour",
        Fee => "fee",
        Discount => "discount",
    }
}

/// At most this many lines on one invoice.
pub const MAX_LINES: usize = 200;
/// The largest quantity of one line: 100,000 (three decimals).
pub const MAX_QUANTITY_THOUSANDTHS: i64 = 100_000_000;
/// The largest tax rate: 25 %.
pub const MAX_TAX_RATE_THOUSANDTHS: i64 = 25_000;

/// Why a decimal (a quantity or a tax rate) was refused. Phrased to follow a field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("must be a decimal number such as 1.5")]
    Invalid,
    #[error("must have at most 3 decimal places")]
    TooManyDecimals,
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must be at most {max}")]
    TooLarge { max: &'static str },
}

/// Parses unsigned decimal text with at most three places (`"1"`, `"1.5"`, `"8.875"`) into
/// thousandths. A leading `-` reads as "not positive", so a negative quantity is refused for
/// what it is rather than as gibberish.
fn thousandths(text: &str) -> Result<i64, DecimalError> {
    let text = text.trim();
    if text.starts_with('-') && thousandths(&text[1..]).is_ok() {
        return Err(DecimalError::NotPositive);
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (text.contains('.') && !digits(frac)) {
        return Err(DecimalError::Invalid);
    }
    if frac.len() > 3 {
        return Err(DecimalError::TooManyDecimals);
    }
    let int = int.trim_start_matches('0');
    // Anything over 15 integer digits is far above every maximum here; the caller's
    // bound names the maximum.
    if int.len() > 15 {
        return Ok(i64::MAX);
    }
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| DecimalError::Invalid)?
    };
    let mut fraction: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| DecimalError::Invalid)?
    };
    for _ in frac.len()..3 {
        fraction *= 10;
    }
    Ok(whole * 1000 + fraction)
}

/// Reads a JSON string or number as thousandths, from the number's exact text.
fn thousandths_from_json(value: &serde_json::Value) -> Result<i64, DecimalError> {
    match value {
        serde_json::Value::String(s) => thousandths(s),
        serde_json::Value::Number(n) => thousandths(&n.to_string()),
        _ => Err(DecimalError::Invalid),
    }
}

/// Writes thousandths as a decimal without trailing zeros: 1500 → "1.5", 8875 → "8.875",
/// 2000 → "2".
fn thousandths_text(value: i64) -> String {
    let whole = value / 1000;
    let fraction = value % 1000;
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// How many of a part, how many hours of labour: greater than 0, at most three decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, DecimalError> {
        Quantity::checked(thousandths(text)?)
    }

    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, DecimalError> {
        Quantity::checked(thousandths_from_json(value)?)
    }

    pub fn from_thousandths(value: i64) -> Result<Quantity, DecimalError> {
        Quantity::checked(value)
    }

    fn checked(value: i64) -> Result<Quantity, DecimalError> {
        match value {
            v if v <= 0 => Err(DecimalError::NotPositive),
            v if v > MAX_QUANTITY_THOUSANDTHS => Err(DecimalError::TooLarge { max: "100000" }),
            v => Ok(Quantity(v)),
        }
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&thousandths_text(self.0))
    }
}

/// A sales-tax rate in percent, from 0 to 25 with at most three decimals (`8.875`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TaxRate(i64);

impl TaxRate {
    pub const ZERO: TaxRate = TaxRate(0);

    pub fn parse(text: &str) -> Result<TaxRate, DecimalError> {
        TaxRate::checked(thousandths(text)?)
    }

    pub fn from_json(value: &serde_json::Value) -> Result<TaxRate, DecimalError> {
        TaxRate::checked(thousandths_from_json(value)?)
    }

    pub fn from_thousandths(value: i64) -> Result<TaxRate, DecimalError> {
        TaxRate::checked(value)
    }

    fn checked(value: i64) -> Result<TaxRate, DecimalError> {
        match value {
            v if v < 0 => Err(DecimalError::NotPositive),
            v if v > MAX_TAX_RATE_THOUSANDTHS => Err(DecimalError::TooLarge { max: "25" }),
            v => Ok(TaxRate(v)),
        }
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The tax on `base`, rounded half-up to the cent (a base of zero or less owes none).
    pub fn tax_on(self, base: Money) -> Money {
        if !base.is_positive() {
            return Money::ZERO;
        }
        // base (cents) × rate (thousandths of a percent) / 100,000, half-up.
        let product = i128::from(base.cents()) * i128::from(self.0);
        Money::from_cents(half_up(product, 100_000))
    }
}

impl std::fmt::Display for TaxRate {
    /// `"8.875"`, `"8"`, `"0"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&thousandths_text(self.0))
    }
}

/// Quantities and rates are written as decimal strings ("1.5", "8.875"), like money.
impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl serde::Serialize for TaxRate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// `numerator / denominator` for a non-negative numerator, halves rounded up.
fn half_up(numerator: i128, denominator: i128) -> i64 {
    let rounded = (numerator + denominator / 2) / denominator;
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// One line of a workshop's invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub part_number: Option<String>,
    pub quantity: Quantity,
    /// The price of one unit: positive, in dollars and cents.
    pub unit_price: Money,
    pub taxable: bool,
}

impl Line {
    /// Quantity × unit price, rounded half-up to the cent; positive for a discount too
    /// (the totals subtract it).
    pub fn amount(&self) -> Money {
        let product = i128::from(self.quantity.0) * i128::from(self.unit_price.cents());
        Money::from_cents(half_up(product, 1000))
    }
}

/// What an invoice's lines add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Subtotals {
    pub parts: Money,
    pub labour: Money,
    pub fees: Money,
    /// The discounts, as a positive amount that is subtracted.
    pub discounts: Money,
    /// Taxable lines less taxable discounts.
    pub taxable_base: Money,
    pub tax: Money,
    /// Parts + labour + fees − discounts + tax.
    pub total: Money,
}

impl Subtotals {
    /// Lines before discounts and tax.
    pub fn charged(&self) -> Money {
        self.parts + self.labour + self.fees
    }
}

/// Why a set of lines cannot make an invoice. `line` is the 0-based position of the line a
/// problem belongs to; the rest concern the invoice as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinesError {
    #[error("has {count} lines; an invoice has at most {MAX_LINES}")]
    TooMany { count: usize },
    #[error("line {}: quantity × unit price rounds to 0.00", line + 1)]
    ZeroAmount { line: usize },
    #[error("discounts of {discounts} are larger than the other lines ({charged})")]
    DiscountsTooLarge { discounts: Money, charged: Money },
    #[error("taxable discounts of {discounts} are larger than the taxable lines ({taxable})")]
    TaxableDiscountsTooLarge { discounts: Money, taxable: Money },
    #[error("is {rate} % but no line is taxable; send tax_rate 0 or mark the taxed lines taxable")]
    TaxWithoutTaxableLine { rate: TaxRate },
    #[error("the lines and tax come to {total}, more than 1000000.00")]
    TotalTooLarge { total: Money },
}

impl LinesError {
    /// The field the problem is reported beside: `tax_rate`, `line_items`, or one line.
    pub fn field(&self) -> LinesField {
        match self {
            LinesError::ZeroAmount { line } => LinesField::Line(*line),
            LinesError::TaxWithoutTaxableLine { .. } => LinesField::TaxRate,
            _ => LinesField::Lines,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinesField {
    Lines,
    Line(usize),
    TaxRate,
}

/// The subtotals, tax and total of `lines` at `rate`, or every reason they cannot make an
/// invoice. An empty set of lines is the caller's business (an invoice without lines has a
/// typed total instead).
pub fn totals(lines: &[Line], rate: TaxRate) -> Result<Subtotals, Vec<LinesError>> {
    let mut errors = Vec::new();
    if lines.len() > MAX_LINES {
        errors.push(LinesError::TooMany { count: lines.len() });
        return Err(errors);
    }
    let mut sums = Subtotals::default();
    let mut taxable_lines = Money::ZERO;
    let mut taxable_discounts = Money::ZERO;
    for (index, line) in lines.iter().enumerate() {
        let amount = line.amount();
        if amount.is_zero() {
            errors.push(LinesError::ZeroAmount { line: index });
        }
        match line.kind {
            LineKind::Part => sums.parts += amount,
            LineKind::Labour => sums.labour += amount,
            LineKind::Fee => sums.fees += amount,
            LineKind::Discount => sums.discounts += amount,
        }
        match (line.taxable, line.kind) {
            (true, LineKind::Discount) => taxable_discounts += amount,
            (true, _) => taxable_lines += amount,
            (false, _) => {}
        }
    }
    let charged = sums.charged();
    if sums.discounts > charged {
        errors.push(LinesError::DiscountsTooLarge {
            discounts: sums.discounts,
            charged,
        });
    } else if taxable_discounts > taxable_lines {
        errors.push(LinesError::TaxableDiscountsTooLarge {
            discounts: taxable_discounts,
            taxable: taxable_lines,
        });
    }
    if !rate.is_zero() && taxable_lines.is_zero() {
        errors.push(LinesError::TaxWithoutTaxableLine { rate });
    }
    sums.taxable_base = (taxable_lines - taxable_discounts).max(Money::ZERO);
    sums.tax = rate.tax_on(sums.taxable_base);
    sums.total = charged - sums.discounts + sums.tax;
    if sums.total > Money::MAX_AMOUNT {
        errors.push(LinesError::TotalTooLarge { total: sums.total });
    }
    if errors.is_empty() {
        Ok(sums)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(kind: LineKind, quantity: &str, price: &str, taxable: bool) -> Line {
        Line {
            kind,
            description: format!("{kind}"),
            part_number: None,
            quantity: Quantity::parse(quantity).unwrap(),
            unit_price: Money::parse(price).unwrap(),
            taxable,
        }
    }

    fn cents(m: Money) -> i64 {
        m.cents()
    }

    #[test]
    fn quantities_and_rates_parse_exactly() {
        assert_eq!(Quantity::parse("1.5").unwrap().thousandths(), 1500);
        assert_eq!(Quantity::parse("0.001").unwrap().thousandths(), 1);
        assert_eq!(Quantity::parse("2").unwrap().to_string(), "2");
        assert_eq!(Quantity::parse("1.250").unwrap().to_string(), "1.25");
        assert_eq!(Quantity::parse("0"), Err(DecimalError::NotPositive));
        assert_eq!(Quantity::parse("-1"), Err(DecimalError::NotPositive));
        assert_eq!(
            Quantity::parse("1.2345"),
            Err(DecimalError::TooManyDecimals)
        );
        assert_eq!(Quantity::parse("1e3"), Err(DecimalError::Invalid));
        assert_eq!(Quantity::parse(".5"), Err(DecimalError::Invalid));
        assert_eq!(Quantity::parse("5."), Err(DecimalError::Invalid));
        assert!(matches!(
            Quantity::parse("100000.001"),
            Err(DecimalError::TooLarge { .. })
        ));
        assert!(matches!(
            Quantity::parse("99999999999999999999"),
            Err(DecimalError::TooLarge { .. })
        ));
        assert_eq!(TaxRate::parse("8.875").unwrap().thousandths(), 8875);
        assert_eq!(TaxRate::parse("0").unwrap(), TaxRate::ZERO);
        assert_eq!(TaxRate::parse("25").unwrap().to_string(), "25");
        assert!(matches!(
            TaxRate::parse("25.001"),
            Err(DecimalError::TooLarge { .. })
        ));
        assert_eq!(TaxRate::parse("-1"), Err(DecimalError::NotPositive));
        let json: serde_json::Value = serde_json::from_str(r#"{"q": 1.5, "r": "8.875"}"#).unwrap();
        assert_eq!(Quantity::from_json(&json["q"]).unwrap().thousandths(), 1500);
        assert_eq!(TaxRate::from_json(&json["r"]).unwrap().thousandths(), 8875);
        assert_eq!(
            Quantity::from_json(&serde_json::Value::Bool(true)),
            Err(DecimalError::Invalid)
        );
    }

    #[test]
    fn a_line_rounds_half_up_to_the_cent() {
        // 1.5 × 45.50 = 68.25 exactly.
        assert_eq!(
            cents(line(LineKind::Labour, "1.5", "45.50", false).amount()),
            6825
        );
        // 0.5 × 0.01 = 0.005 → 0.01 (half-up), 0.499 × 0.01 → 0.00.
        assert_eq!(
            cents(line(LineKind::Part, "0.5", "0.01", false).amount()),
            1
        );
        assert_eq!(
            cents(line(LineKind::Part, "0.499", "0.01", false).amount()),
            0
        );
        // 3 × 3.335 is not possible (2 decimals); 1.005 × 10.00 = 10.05; 0.125 × 0.99 = 0.12375 → 0.12.
        assert_eq!(
            cents(line(LineKind::Part, "1.005", "10.00", false).amount()),
            1005
        );
        assert_eq!(
            cents(line(LineKind::Part, "0.125", "0.99", false).amount()),
            12
        );
        // 2.5 × 0.03 = 0.075 → 0.08.
        assert_eq!(
            cents(line(LineKind::Part, "2.5", "0.03", false).amount()),
            8
        );
    }

    #[test]
    fn tax_is_computed_once_on_the_base_half_up() {
        let rate = TaxRate::parse("8.875").unwrap();
        // 100.00 × 8.875 % = 8.875 → 8.88.
        assert_eq!(cents(rate.tax_on(Money::from_cents(10_000))), 888);
        // 40.00 × 8.875 % = 3.55 exactly.
        assert_eq!(cents(rate.tax_on(Money::from_cents(4_000))), 355);
        // Once on the base, not per line: two taxable lines of 0.06 at 8.875 % are 0.01 of tax
        // on 0.12 (0.01065), where per line they would be 0.01 + 0.01.
        let lines = [
            line(LineKind::Part, "1", "0.06", true),
            line(LineKind::Part, "1", "0.06", true),
        ];
        let sums = totals(&lines, rate).unwrap();
        assert_eq!(cents(sums.tax), 1);
        assert_eq!(cents(sums.total), 13);
    }

    #[test]
    fn the_guide_style_invoice_adds_up() {
        // Two parts, one labour line, 8.875 % on the taxable parts.
        let lines = [
            line(LineKind::Part, "2", "45.50", true),
            line(LineKind::Part, "1", "120.00", true),
            line(LineKind::Labour, "1.5", "95.00", false),
        ];
        let sums = totals(&lines, TaxRate::parse("8.875").unwrap()).unwrap();
        assert_eq!(cents(sums.parts), 21_100);
        assert_eq!(cents(sums.labour), 14_250);
        assert_eq!(cents(sums.taxable_base), 21_100);
        // 211.00 × 8.875 % = 18.72625 → 18.73.
        assert_eq!(cents(sums.tax), 1_873);
        assert_eq!(cents(sums.total), 21_100 + 14_250 + 1_873);
    }

    #[test]
    fn a_taxable_discount_lowers_the_base_and_an_untaxed_one_does_not() {
        let rate = TaxRate::parse("10").unwrap();
        let base = [
            line(LineKind::Part, "1", "200.00", true),
            line(LineKind::Labour, "1", "100.00", false),
        ];
        let mut taxed = base.to_vec();
        taxed.push(line(LineKind::Discount, "1", "50.00", true));
        let sums = totals(&taxed, rate).unwrap();
        assert_eq!(cents(sums.discounts), 5_000);
        assert_eq!(cents(sums.taxable_base), 15_000);
        assert_eq!(cents(sums.tax), 1_500);
        assert_eq!(cents(sums.total), 30_000 - 5_000 + 1_500);
        let mut untaxed = base.to_vec();
        untaxed.push(line(LineKind::Discount, "1", "50.00", false));
        let sums = totals(&untaxed, rate).unwrap();
        assert_eq!(cents(sums.taxable_base), 20_000);
        assert_eq!(cents(sums.tax), 2_000);
        assert_eq!(cents(sums.total), 30_000 - 5_000 + 2_000);
    }

    #[test]
    fn what_cannot_make_an_invoice_is_named() {
        let part = line(LineKind::Part, "1", "10.00", false);
        let errors = totals(
            std::slice::from_ref(&part),
            TaxRate::parse("8.875").unwrap(),
        )
        .unwrap_err();
        assert_eq!(errors[0].field(), LinesField::TaxRate);
        assert!(
            errors[0].to_string().contains("no line is taxable"),
            "{}",
            errors[0]
        );
        let errors = totals(
            &[part.clone(), line(LineKind::Discount, "1", "10.01", false)],
            TaxRate::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![LinesError::DiscountsTooLarge {
                discounts: Money::from_cents(1001),
                charged: Money::from_cents(1000)
            }]
        );
        assert!(errors[0].to_string().contains("10.01"));
        let errors = totals(
            &[
                part.clone(),
                line(LineKind::Part, "1", "5.00", true),
                line(LineKind::Discount, "1", "6.00", true),
            ],
            TaxRate::ZERO,
        )
        .unwrap_err();
        assert!(matches!(
            errors[0],
            LinesError::TaxableDiscountsTooLarge { .. }
        ));
        let many = vec![part.clone(); MAX_LINES + 1];
        assert_eq!(
            totals(&many, TaxRate::ZERO).unwrap_err()[0],
            LinesError::TooMany { count: 201 }
        );
        assert!(totals(&vec![part.clone(); MAX_LINES], TaxRate::ZERO).is_ok());
        let tiny = line(LineKind::Part, "0.001", "0.01", false);
        assert_eq!(
            totals(&[part.clone(), tiny], TaxRate::ZERO).unwrap_err()[0].field(),
            LinesField::Line(1)
        );
        let huge = line(LineKind::Part, "2", "600000.00", false);
        assert!(matches!(
            totals(&[huge], TaxRate::ZERO).unwrap_err()[0],
            LinesError::TotalTooLarge { .. }
        ));
    }

    fn any_line() -> impl Strategy<Value = Line> {
        (0usize..4, 1i64..=20_000, 1i64..=500_000, any::<bool>()).prop_map(|(k, q, p, taxable)| {
            Line {
                kind: LineKind::ALL[k],
                description: "x".into(),
                part_number: None,
                quantity: Quantity::from_thousandths(q).unwrap(),
                unit_price: Money::from_cents(p),
                taxable,
            }
        })
    }

    proptest! {
        /// Whatever the lines, the parts add up: the total is the subtotals plus tax, and
        /// the tax is within half a cent of the exact rate on the base.
        #[test]
        fn the_total_is_its_parts(lines in prop::collection::vec(any_line(), 1..30), rate in 0i64..=25_000) {
            let rate = TaxRate::from_thousandths(rate).unwrap();
            if let Ok(sums) = totals(&lines, rate) {
                let line_sum: i64 = lines.iter().map(|l| match l.kind {
                    LineKind::Discount => -l.amount().cents(),
                    _ => l.amount().cents(),
                }).sum();
                prop_assert_eq!(sums.total.cents(), line_sum + sums.tax.cents());
                prop_assert_eq!(
                    sums.total,
                    sums.parts + sums.labour + sums.fees - sums.discounts + sums.tax
                );
                prop_assert!(sums.total >= Money::ZERO);
                let exact = i128::from(sums.taxable_base.cents()) * i128::from(rate.thousandths());
                let tax = i128::from(sums.tax.cents()) * 100_000;
                prop_assert!((tax - exact).abs() <= 50_000);
                for l in &lines {
                    let exact = i128::from(l.quantity.thousandths()) * i128::from(l.unit_price.cents());
                    prop_assert!((i128::from(l.amount().cents()) * 1000 - exact).abs() <= 500);
                }
            }
        }
    }
}
