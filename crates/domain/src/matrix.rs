//! The repayment matrix: how much of a balance is repaid each week.
//!
//! Brackets are contiguous and compared in cents, so every positive amount
//! falls in exactly one bracket: bracket `i` covers `(up_to[i-1], up_to[i]]`
//! and the first covers `(0, up_to[0]]`. The last bracket must be unbounded
//! so that no amount is left without a rule.

// Amounts are written as dollars_cents (`200_00` is 200.00), which reads
// better here than clippy's groups of three.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::SundayDate;
use crate::money::Money;

/// Guards against a mis-configured matrix (say, 0.01 a week) producing
/// millions of rows; 10,000 weeks is about 190 years.
pub const MAX_INSTALLMENTS: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bracket {
    /// Exclusive lower bound, optional in configuration: when given it must be the
    /// previous bracket's `up_to` (0 for the first), so a gap or an overlap is refused
    /// instead of silently reinterpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<Money>,
    /// Inclusive upper bound; `None` means no upper bound (last bracket only).
    pub up_to: Option<Money>,
    /// Weekly installment; `None` means the whole amount in one installment.
    pub weekly: Option<Money>,
}

/// A validated set of brackets. Deserialization validates too, so a
/// configuration file cannot smuggle in an inconsistent matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMatrix")]
pub struct RepaymentMatrix {
    brackets: Vec<Bracket>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    brackets: Vec<Bracket>,
}

impl TryFrom<RawMatrix> for RepaymentMatrix {
    type Error = MatrixError;

    fn try_from(raw: RawMatrix) -> Result<Self, MatrixError> {
        RepaymentMatrix::new(raw.brackets)
    }
}

/// Bracket numbers in errors are 1-based, as a person would count them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    #[error("the repayment matrix must have at least one bracket")]
    Empty,
    #[error("bracket {bracket}: the upper bound must be greater than 0")]
    NonPositiveBound { bracket: usize },
    #[error("bracket {bracket}: upper bounds must be strictly ascending")]
    NotAscending { bracket: usize },
    #[error("bracket {bracket}: it starts over {over} but the previous bracket ends at {previous_end}; brackets must be contiguous")]
    NotContiguous {
        bracket: usize,
        over: Money,
        previous_end: Money,
    },
    #[error("bracket {bracket}: only the last bracket may have no upper bound")]
    UnboundedBeforeLast { bracket: usize },
    #[error("the last bracket must have no upper bound so that every amount is covered")]
    LastBracketBounded,
    #[error("bracket {bracket}: the weekly installment must be greater than 0")]
    NonPositiveWeekly { bracket: usize },
    #[error("the total to repay must be greater than 0")]
    NonPositiveTotal,
    #[error("the schedule would need {count} installments; at most {max} are allowed")]
    TooManyInstallments { count: u64, max: u32 },
    #[error("the schedule runs past the last representable date")]
    DateOutOfRange,
}

impl Default for RepaymentMatrix {
    fn default() -> Self {
        let m = Money::from_cents;
        let b = |up_to: Option<i64>, weekly: Option<i64>| Bracket {
            over: None,
            up_to: up_to.map(m),
            weekly: weekly.map(m),
        };
        RepaymentMatrix {
            brackets: vec![
                b(Some(200_00), None),
                b(Some(500_00), Some(100_00)),
                b(Some(1_000_00), Some(200_00)),
                b(Some(3_000_00), Some(250_00)),
                b(None, Some(300_00)),
            ],
        }
    }
}

impl RepaymentMatrix {
    pub fn new(brackets: Vec<Bracket>) -> Result<Self, MatrixError> {
        if brackets.is_empty() {
            return Err(MatrixError::Empty);
        }
        let last = brackets.len() - 1;
        let mut previous: Option<Money> = None;
        for (i, b) in brackets.iter().enumerate() {
            let bracket = i + 1;
            let previous_end = previous.unwrap_or(Money::ZERO);
            if let Some(over) = b.over.filter(|&over| over != previous_end) {
                return Err(MatrixError::NotContiguous {
                    bracket,
                    over,
                    previous_end,
                });
            }
            match b.up_to {
                None if i != last => return Err(MatrixError::UnboundedBeforeLast { bracket }),
                None => {}
                Some(_) if i == last => return Err(MatrixError::LastBracketBounded),
                Some(up_to) if !up_to.is_positive() => {
                    return Err(MatrixError::NonPositiveBound { bracket })
                }
                Some(up_to) if previous.is_some_and(|p| up_to <= p) => {
                    return Err(MatrixError::NotAscending { bracket })
                }
                Some(up_to) => previous = Some(up_to),
            }
            if b.weekly.is_some_and(|w| !w.is_positive()) {
                return Err(MatrixError::NonPositiveWeekly { bracket });
            }
        }
        Ok(RepaymentMatrix { brackets })
    }

    pub fn brackets(&self) -> &[Bracket] {
        &self.brackets
    }

    /// The bracket whose range contains `total`.
    pub fn bracket_for(&self, total: Money) -> &Bracket {
        self.brackets
            .iter()
            .find(|b| match b.up_to {
                None => true,
                Some(up_to) => total <= up_to,
            })
            .expect("validated: the last bracket is unbounded")
    }

    /// The amount due each week for a balance of `total`, never more than
    /// `total` itself. A non-positive total owes nothing, so yields zero.
    pub fn weekly_installment(&self, total: Money) -> Money {
        if !total.is_positive() {
            return Money::ZERO;
        }
        match self.bracket_for(total).weekly {
            None => total,
            Some(weekly) => weekly.min(total),
        }
    }

    /// How many weekly installments repay `total` (zero when nothing is owed).
    pub fn installment_count(&self, total: Money) -> u64 {
        let weekly = self.weekly_installment(total);
        if weekly.is_zero() {
            return 0;
        }
        total
            .cents()
            .unsigned_abs()
            .div_ceil(weekly.cents().unsigned_abs())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledInstallment {
    /// 1-based position in the schedule.
    pub sequence: u32,
    pub week_start: SundayDate,
    pub week_end: NaiveDate,
    pub amount: Money,
    /// Balance still owed before this installment.
    pub prior_balance: Money,
    /// Balance still owed after this installment; zero after the last.
    pub balance: Money,
}

/// Splits `total` into consecutive weekly installments starting in
/// `start_week`: every installment is the bracket's weekly amount except the
/// last, which takes the remainder.
pub fn build_schedule(
    total: Money,
    start_week: SundayDate,
    matrix: &RepaymentMatrix,
) -> Result<Vec<ScheduledInstallment>, MatrixError> {
    if !total.is_positive() {
        return Err(MatrixError::NonPositiveTotal);
    }
    let weekly = matrix.weekly_installment(total);
    let count = matrix.installment_count(total);
    let count = u32::try_from(count)
        .ok()
        .filter(|&c| c <= MAX_INSTALLMENTS)
        .ok_or(MatrixError::TooManyInstallments {
            count,
            max: MAX_INSTALLMENTS,
        })?;

    let mut schedule = Vec::with_capacity(count as usize);
    let mut remaining = total;
    for sequence in 1..=count {
        let week_start = start_week
            .checked_plus_weeks(sequence - 1)
            .ok_or(MatrixError::DateOutOfRange)?;
        let week_end = week_start
            .date()
            .checked_add_days(Days::new(6))
            .ok_or(MatrixError::DateOutOfRange)?;
        let amount = weekly.min(remaining);
        let balance = remaining - amount;
        schedule.push(ScheduledInstallment {
            sequence,
            week_start,
            week_end,
            amount,
            prior_balance: remaining,
            balance,
        });
        remaining = balance;
    }
    debug_assert!(remaining.is_zero());
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn m(c: i64) -> Money {
        Money::from_cents(c)
    }

    fn bracket(up_to: Option<i64>, weekly: Option<i64>) -> Bracket {
        Bracket {
            over: None,
            up_to: up_to.map(m),
            weekly: weekly.map(m),
        }
    }

    fn week(s: &str) -> SundayDate {
        SundayDate::parse(s).unwrap()
    }

    #[test]
    fn default_matrix_table() {
        // (total cents, weekly cents, count, last cents)
        let cases: &[(i64, i64, usize, i64)] = &[
            (1, 1, 1, 1),
            (200_00, 200_00, 1, 200_00),
            (200_01, 100_00, 3, 1),
            (200_50, 100_00, 3, 50),
            (500_00, 100_00, 5, 100_00),
            (500_01, 200_00, 3, 100_01),
            (1_000_00, 200_00, 5, 200_00),
            (1_000_01, 250_00, 5, 1),
            (3_000_00, 250_00, 12, 250_00),
            (3_000_01, 300_00, 11, 1),
            (999_999_99, 300_00, 3334, 99_99),
            (1_000_000_00, 300_00, 3334, 100_00),
        ];
        let matrix = RepaymentMatrix::default();
        let start = week("2026-11-01");
        for &(total, weekly, count, last) in cases {
            assert_eq!(matrix.weekly_installment(m(total)), m(weekly), "{total}");
            let s = build_schedule(m(total), start, &matrix).unwrap();
            assert_eq!(s.len(), count, "{total}");
            assert_eq!(matrix.installment_count(m(total)), count as u64);
            assert_eq!(s.last().unwrap().amount, m(last), "{total}");
            assert!(s[..count - 1].iter().all(|i| i.amount == m(weekly)));
        }
    }

    #[test]
    fn schedule_rows() {
        let s = build_schedule(m(200_50), week("2026-12-20"), &RepaymentMatrix::default()).unwrap();
        let rows: Vec<_> = s
            .iter()
            .map(|i| {
                (
                    i.sequence,
                    i.week_start.to_string(),
                    i.week_end.to_string(),
                    i.amount.to_string(),
                    i.prior_balance.to_string(),
                    i.balance.to_string(),
                )
            })
            .collect();
        let expected = [
            (1, "2026-12-20", "2026-12-26", "100.00", "200.50", "100.50"),
            (2, "2026-12-27", "2027-01-02", "100.00", "100.50", "0.50"),
            (3, "2027-01-03", "2027-01-09", "0.50", "0.50", "0.00"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|&(n, a, b, c, d, e)| (n, a.into(), b.into(), c.into(), d.into(), e.into()))
            .collect();
        assert_eq!(rows, expected);
        let json = serde_json::to_value(&s[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "sequence": 1, "week_start": "2026-12-20", "week_end": "2026-12-26",
                "amount": "100.00", "prior_balance": "200.50", "balance": "100.50"
            })
        );
    }

    #[test]
    fn non_positive_totals() {
        let matrix = RepaymentMatrix::default();
        let start = week("2026-11-01");
        assert_eq!(
            build_schedule(m(0), start, &matrix),
            Err(MatrixError::NonPositiveTotal)
        );
        assert_eq!(
            build_schedule(m(-100), start, &matrix),
            Err(MatrixError::NonPositiveTotal)
        );
        assert_eq!(matrix.weekly_installment(m(0)), Money::ZERO);
        assert_eq!(matrix.weekly_installment(m(-5)), Money::ZERO);
        assert_eq!(matrix.installment_count(m(-5)), 0);
    }

    #[test]
    fn weekly_never_exceeds_total() {
        let matrix = RepaymentMatrix::new(vec![
            bracket(Some(100_00), Some(500_00)),
            bracket(None, None),
        ])
        .unwrap();
        assert_eq!(matrix.weekly_installment(m(50_00)), m(50_00));
        assert_eq!(matrix.weekly_installment(m(100_01)), m(100_01));
        let s = build_schedule(m(50_00), week("2026-11-01"), &matrix).unwrap();
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn too_many_installments_and_date_range() {
        let penny = RepaymentMatrix::new(vec![bracket(None, Some(1))]).unwrap();
        assert_eq!(
            build_schedule(m(1_000_000), week("2026-11-01"), &penny),
            Err(MatrixError::TooManyInstallments {
                count: 1_000_000,
                max: MAX_INSTALLMENTS
            })
        );
        assert_eq!(
            build_schedule(m(10_000), week("2026-11-01"), &penny)
                .unwrap()
                .len(),
            10_000
        );
        let late = SundayDate::containing(NaiveDate::MAX - Days::new(20));
        assert_eq!(
            build_schedule(m(1_000_00), late, &RepaymentMatrix::default()),
            Err(MatrixError::DateOutOfRange)
        );
    }

    #[test]
    fn validation() {
        use MatrixError::*;
        let cases: Vec<(Vec<Bracket>, MatrixError)> = vec![
            (vec![], Empty),
            (vec![bracket(Some(100), None)], LastBracketBounded),
            (
                vec![bracket(None, None), bracket(None, Some(1))],
                UnboundedBeforeLast { bracket: 1 },
            ),
            (
                vec![bracket(Some(0), None), bracket(None, Some(1))],
                NonPositiveBound { bracket: 1 },
            ),
            (
                vec![bracket(Some(-5), None), bracket(None, Some(1))],
                NonPositiveBound { bracket: 1 },
            ),
            (
                vec![
                    bracket(Some(500), None),
                    bracket(Some(500), Some(1)),
                    bracket(None, Some(1)),
                ],
                NotAscending { bracket: 2 },
            ),
            (
                vec![
                    bracket(Some(500), None),
                    bracket(Some(400), Some(1)),
                    bracket(None, Some(1)),
                ],
                NotAscending { bracket: 2 },
            ),
            (
                vec![bracket(Some(500), Some(0)), bracket(None, Some(1))],
                NonPositiveWeekly { bracket: 1 },
            ),
            (
                vec![bracket(None, Some(-1))],
                NonPositiveWeekly { bracket: 1 },
            ),
        ];
        for (brackets, err) in cases {
            assert_eq!(
                RepaymentMatrix::new(brackets.clone()),
                Err(err),
                "{brackets:?}"
            );
        }
        // An explicit lower bound must meet the previous bracket's upper bound.
        let from = |over: i64, up_to: Option<i64>, weekly: Option<i64>| Bracket {
            over: Some(m(over)),
            ..bracket(up_to, weekly)
        };
        assert_eq!(
            RepaymentMatrix::new(vec![
                from(0, Some(200_00), None),
                from(200_50, None, Some(1))
            ]),
            Err(NotContiguous {
                bracket: 2,
                over: m(200_50),
                previous_end: m(200_00)
            })
        );
        assert_eq!(
            RepaymentMatrix::new(vec![from(5, Some(200_00), None), bracket(None, Some(1))]),
            Err(NotContiguous {
                bracket: 1,
                over: m(5),
                previous_end: m(0)
            })
        );
        assert_eq!(
            NotContiguous { bracket: 2, over: m(200_50), previous_end: m(200_00) }.to_string(),
            "bracket 2: it starts over 200.50 but the previous bracket ends at 200.00; brackets must be contiguous"
        );
        assert!(RepaymentMatrix::new(vec![
            from(0, Some(200_00), None),
            from(200_00, None, Some(1))
        ])
        .is_ok());
        let single = RepaymentMatrix::new(vec![bracket(None, None)]).unwrap();
        assert_eq!(single.weekly_installment(m(123_456)), m(123_456));
        let default = RepaymentMatrix::default();
        assert_eq!(
            RepaymentMatrix::new(default.brackets().to_vec()),
            Ok(default)
        );
        assert_eq!(
            NotAscending { bracket: 2 }.to_string(),
            "bracket 2: upper bounds must be strictly ascending"
        );
    }

    #[test]
    fn serde_validates() {
        let default = RepaymentMatrix::default();
        let json = serde_json::to_value(&default).unwrap();
        assert_eq!(
            json["brackets"][0],
            serde_json::json!({"up_to": "200.00", "weekly": null})
        );
        assert_eq!(
            json["brackets"][4],
            serde_json::json!({"up_to": null, "weekly": "300.00"})
        );
        assert_eq!(
            serde_json::from_value::<RepaymentMatrix>(json).unwrap(),
            default
        );

        let parsed: RepaymentMatrix = serde_json::from_str(
            r#"{"brackets": [{"up_to": 100, "weekly": null}, {"up_to": null, "weekly": "25.00"}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.weekly_installment(m(100_01)), m(25_00));

        let err = serde_json::from_str::<RepaymentMatrix>(r#"{"brackets": []}"#).unwrap_err();
        assert!(err.to_string().contains("at least one bracket"), "{err}");
        let typo = r#"{"brackets": [{"up_to": null, "weeky": "25.00"}]}"#;
        assert!(serde_json::from_str::<RepaymentMatrix>(typo).is_err());
    }

    fn any_sunday() -> impl Strategy<Value = SundayDate> {
        // Sundays from 1970 through roughly 2200.
        (0u32..12_000).prop_map(|n| week("1970-01-04").plus_weeks(n))
    }

    proptest! {
        #[test]
        fn schedule_invariants(cents in 1i64..=100_000_000, start in any_sunday()) {
            let matrix = RepaymentMatrix::default();
            let total = m(cents);
            let weekly = matrix.weekly_installment(total);
            let s = build_schedule(total, start, &matrix).unwrap();

            prop_assert!(weekly.is_positive() && weekly <= total);
            prop_assert_eq!(s.iter().map(|i| i.amount).sum::<Money>(), total);
            prop_assert_eq!(s.len() as i64, (cents + weekly.cents() - 1) / weekly.cents());
            let (last, rest) = s.split_last().unwrap();
            prop_assert!(rest.iter().all(|i| i.amount == weekly));
            prop_assert!(last.amount.is_positive() && last.amount <= weekly);
            prop_assert_eq!(last.balance, Money::ZERO);
            prop_assert_eq!(s[0].prior_balance, total);
            for (idx, i) in s.iter().enumerate() {
                prop_assert_eq!(i.sequence as usize, idx + 1);
                prop_assert_eq!(i.week_start, start.plus_weeks(idx as u32));
                prop_assert_eq!(i.week_start.date().weekday(), chrono::Weekday::Sun);
                prop_assert_eq!(i.week_end, i.week_start.date() + Days::new(6));
                prop_assert_eq!(i.balance, i.prior_balance - i.amount);
            }
            for pair in s.windows(2) {
                prop_assert_eq!(pair[1].prior_balance, pair[0].balance);
                prop_assert_eq!(pair[1].week_start, pair[0].week_start.next());
            }
        }

        #[test]
        fn bracket_boundaries_are_contiguous(cents in 1i64..=100_000_000) {
            let matrix = RepaymentMatrix::default();
            let b = matrix.bracket_for(m(cents));
            let idx = matrix.brackets().iter().position(|x| x == b).unwrap();
            if let Some(up_to) = b.up_to {
                prop_assert!(m(cents) <= up_to);
            }
            if idx > 0 {
                prop_assert!(m(cents) > matrix.brackets()[idx - 1].up_to.unwrap());
            }
        }
    }
}
