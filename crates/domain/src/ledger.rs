//! The centralized ledger: obligation categories and how a payment is split
//! across a lease's open balances.
//!
//! A week's earnings pay the lease's open balances in a fixed hierarchy
//! ([`allocate`]); whatever is left is the driver's net pay. An interim
//! payment instead pays the balances the user picked, in the amounts they
//! picked ([`allocate_chosen`]). Both are pure: the caller loads the balances
//! and stores the resulting postings.

use chrono::NaiveDate;

use crate::money::Money;
use crate::stored_words;

stored_words! {
    /// What a ledger balance or posting is for.
    pub enum Category("ledger category") {
        Taxes => "Taxes",
        EZPass => "EZPass",
        Lease => "Lease",
        Pvb => "PVB",
        Tlc => "TLC",
        Repair => "Repair",
        Loan => "Loan",
        Misc => "Misc",
        Earnings => "Earnings",
        InterimPayment => "Interim Payment",
        Deposit => "Deposit",
        CancellationFee => "Cancellation Fee",
    }

    /// What kind of entry a posting is.
    pub enum EntryType("entry type") {
        Obligation => "OBLIGATION",
        Earnings => "EARNINGS",
        InterimPayment => "INTERIM_PAYMENT",
        /// Money the fleet owes the driver back on a charge it corrects (rent for days
        /// after a lease ended): applied to balances like a payment, never paid out as cash.
        Credit => "CREDIT",
        Reversal => "REVERSAL",
    }

    pub enum PostingStatus("posting status") {
        Posted => "POSTED",
        Voided => "VOIDED",
    }

    pub enum BalanceStatus("balance status") {
        Open => "OPEN",
        Closed => "CLOSED",
        Voided => "VOIDED",
    }
}

impl EntryType {
    /// Friendly label for documents and exports; the stored word stays terse.
    pub const fn label(self) -> &'static str {
        match self {
            EntryType::Obligation => "Obligation",
            EntryType::Earnings => "Earnings",
            EntryType::InterimPayment => "Interim Payment",
            EntryType::Credit => "Credit",
            EntryType::Reversal => "Reversal",
        }
    }
}

impl PostingStatus {
    /// Friendly label for documents and exports.
    pub const fn label(self) -> &'static str {
        match self {
            PostingStatus::Posted => "Posted",
            PostingStatus::Voided => "Voided",
        }
    }
}

impl BalanceStatus {
    /// Friendly label for documents and exports.
    pub const fn label(self) -> &'static str {
        match self {
            BalanceStatus::Open => "Open",
            BalanceStatus::Closed => "Closed",
            BalanceStatus::Voided => "Voided",
        }
    }
}

impl Category {
    /// The payment hierarchy, first paid first.
    pub const HIERARCHY: [Category; 8] = [
        Category::Taxes,
        Category::EZPass,
        Category::Lease,
        Category::Pvb,
        Category::Tlc,
        Category::Repair,
        Category::Loan,
        Category::Misc,
    ];

    /// Position in the payment order: the index in [`Category::HIERARCHY`],
    /// and 8 for a cancellation fee, which is paid only after everything else.
    /// `None` for money that is not owed (earnings, interim payments,
    /// deposits), which the hierarchy never pays.
    pub fn hierarchy_rank(self) -> Option<u8> {
        use Category::*;
        match self {
            Taxes => Some(0),
            EZPass => Some(1),
            Lease => Some(2),
            Pvb => Some(3),
            Tlc => Some(4),
            Repair => Some(5),
            Loan => Some(6),
            Misc => Some(7),
            CancellationFee => Some(8),
            Earnings | InterimPayment | Deposit => None,
        }
    }

    /// Whether a balance of this category is owed by the driver, i.e. is
    /// paid by [`allocate`].
    pub fn is_obligation(self) -> bool {
        self.hierarchy_rank().is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBalance {
    pub id: i64,
    pub category: Category,
    pub due_date: NaiveDate,
    /// The amount still open.
    pub balance: Money,
}

/// `amount` of a payment applied to the balance `balance_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub balance_id: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationResult {
    /// In the order the money was applied; never a zero amount.
    pub allocations: Vec<Allocation>,
    /// The sum of `allocations`.
    pub allocated: Money,
    /// What is left of the payment: the driver's net pay.
    pub remaining: Money,
}

/// Why an interim payment cannot be applied as requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the payment must be greater than 0")]
    NonPositivePayment,
    #[error("the amount for balance {balance_id} must be greater than 0")]
    NonPositiveAmount { balance_id: i64 },
    #[error("the amount {requested} for balance {balance_id} exceeds its open amount {open}")]
    OverPayment {
        balance_id: i64,
        requested: Money,
        open: Money,
    },
    #[error("the amounts requested add up to {requested}, but the payment is {payment}")]
    AmountMismatch { payment: Money, requested: Money },
    #[error("the amounts chosen add up to {requested}, more than the payment of {payment}")]
    ChosenExceedsPayment { payment: Money, requested: Money },
    #[error("balance {balance_id} is chosen more than once")]
    DuplicateBalance { balance_id: i64 },
    #[error("balance {balance_id} is not one of the open balances")]
    UnknownBalance { balance_id: i64 },
}

/// Applies `payment` to `balances` in hierarchy order: by
/// [`Category::hierarchy_rank`], then oldest `due_date` first, then lowest id.
/// Each balance takes as much as it owes or as much as is left; the last one
/// reached may be paid in part. Balances that owe nothing and categories
/// outside the hierarchy are skipped. `remaining` is the driver's net pay.
///
/// `payment` should not be negative; if it is, nothing is allocated and it is
/// returned whole as `remaining`, so the result still accounts for every cent.
pub fn allocate(payment: Money, balances: &[OpenBalance]) -> AllocationResult {
    let mut queue: Vec<(u8, &OpenBalance)> = balances
        .iter()
        .filter(|b| b.balance.is_positive())
        .filter_map(|b| Some((b.category.hierarchy_rank()?, b)))
        .collect();
    // `balance` is the last key only so that even duplicate ids (a caller
    // bug) cannot make the result depend on input order.
    queue.sort_unstable_by_key(|&(rank, b)| (rank, b.due_date, b.id, b.balance));

    let mut remaining = payment;
    let mut allocations = Vec::new();
    for (_, b) in queue {
        if !remaining.is_positive() {
            break;
        }
        let amount = remaining.min(b.balance);
        allocations.push(Allocation {
            balance_id: b.id,
            amount,
        });
        remaining -= amount;
    }
    AllocationResult {
        allocations,
        allocated: payment - remaining,
        remaining,
    }
}

/// Applies an interim payment to the balances the user chose, in the order
/// given, each with the amount requested for it. The whole payment must be
/// used, so `remaining` is always zero. Any invalid request rejects the
/// whole payment: nothing is ever half-applied.
pub fn allocate_chosen(
    payment: Money,
    balances: &[OpenBalance],
    requested: &[(i64, Money)],
) -> Result<AllocationResult, AllocationError> {
    let total = check_chosen(payment, balances, requested)?;
    if total != Some(payment) {
        return Err(AllocationError::AmountMismatch {
            payment,
            requested: total.unwrap_or(Money::from_cents(i64::MAX)),
        });
    }
    Ok(AllocationResult {
        allocations: requested
            .iter()
            .map(|&(balance_id, amount)| Allocation { balance_id, amount })
            .collect(),
        allocated: payment,
        remaining: Money::ZERO,
    })
}

/// Applies a payment taken at the cashier's window: first the amounts the cashier chose
/// per balance (each at most what is left on it, never redirected elsewhere), then what
/// was not chosen by the hierarchy ([`allocate`]) over the balances as the chosen amounts
/// left them. `remaining` is what no open balance needed: the lease's unapplied credit.
/// One allocation per balance (a chosen balance the hierarchy reaches again is merged).
pub fn allocate_interim(
    payment: Money,
    balances: &[OpenBalance],
    requested: &[(i64, Money)],
) -> Result<AllocationResult, AllocationError> {
    let total = check_chosen(payment, balances, requested)?;
    let chosen = match total {
        Some(total) if total <= payment => total,
        _ => {
            return Err(AllocationError::ChosenExceedsPayment {
                payment,
                requested: total.unwrap_or(Money::from_cents(i64::MAX)),
            })
        }
    };
    let mut allocations: Vec<Allocation> = requested
        .iter()
        .map(|&(balance_id, amount)| Allocation { balance_id, amount })
        .collect();
    let left: Vec<OpenBalance> = balances
        .iter()
        .map(|b| {
            let taken: Money = requested.iter().filter(|r| r.0 == b.id).map(|r| r.1).sum();
            OpenBalance {
                balance: b.balance - taken,
                ..b.clone()
            }
        })
        .collect();
    let automatic = allocate(payment - chosen, &left);
    for a in automatic.allocations {
        match allocations
            .iter_mut()
            .find(|c| c.balance_id == a.balance_id)
        {
            Some(c) => c.amount += a.amount,
            None => allocations.push(a),
        }
    }
    Ok(AllocationResult {
        allocations,
        allocated: chosen + automatic.allocated,
        remaining: automatic.remaining,
    })
}

/// Checks each chosen (balance, amount) — positive, chosen once, one of the open balances,
/// no more than is left on it — in the request's order, so the user hears which line is
/// wrong first; returns their total (`None` on overflow).
fn check_chosen(
    payment: Money,
    balances: &[OpenBalance],
    requested: &[(i64, Money)],
) -> Result<Option<Money>, AllocationError> {
    use AllocationError::*;
    if !payment.is_positive() {
        return Err(NonPositivePayment);
    }
    for (i, &(balance_id, amount)) in requested.iter().enumerate() {
        if !amount.is_positive() {
            return Err(NonPositiveAmount { balance_id });
        }
        if requested[..i]
            .iter()
            .any(|&(earlier, _)| earlier == balance_id)
        {
            return Err(DuplicateBalance { balance_id });
        }
        let open = balances
            .iter()
            .find(|b| b.id == balance_id)
            .ok_or(UnknownBalance { balance_id })?
            .balance;
        if amount > open {
            return Err(OverPayment {
                balance_id,
                requested: amount,
                open,
            });
        }
    }
    // Checked, not saturating: a saturated total could equal a payment of exactly
    // i64::MAX cents and be wrongly accepted.
    Ok(requested
        .iter()
        .try_fold(Money::ZERO, |acc, &(_, amount)| acc.checked_add(amount)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn m(c: i64) -> Money {
        Money::from_cents(c)
    }

    #[test]
    fn codes_have_labels_for_people() {
        let entry: Vec<_> = EntryType::ALL.iter().map(|e| e.label()).collect();
        assert_eq!(
            entry,
            [
                "Obligation",
                "Earnings",
                "Interim Payment",
                "Credit",
                "Reversal"
            ]
        );
        assert_eq!(PostingStatus::Voided.label(), "Voided");
        assert_eq!(BalanceStatus::Open.label(), "Open");
    }

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 4).unwrap() + Days::new(n)
    }

    fn bal(id: i64, category: Category, due: u64, cents: i64) -> OpenBalance {
        OpenBalance {
            id,
            category,
            due_date: day(due),
            balance: m(cents),
        }
    }

    fn paid(r: &AllocationResult) -> Vec<(i64, i64)> {
        r.allocations
            .iter()
            .map(|a| (a.balance_id, a.amount.cents()))
            .collect()
    }

    #[test]
    fn category_words_and_ranks() {
        use Category::*;
        let words: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            words,
            [
                "Taxes",
                "EZPass",
                "Lease",
                "PVB",
                "TLC",
                "Repair",
                "Loan",
                "Misc",
                "Earnings",
                "Interim Payment",
                "Deposit",
                "Cancellation Fee"
            ]
        );
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(serde_json::from_value::<Category>(json).unwrap(), *c);
        }
        for (i, c) in Category::HIERARCHY.iter().enumerate() {
            assert_eq!(c.hierarchy_rank(), Some(i as u8));
            assert!(c.is_obligation());
        }
        assert_eq!(CancellationFee.hierarchy_rank(), Some(8));
        assert!(CancellationFee.is_obligation());
        for c in [Earnings, InterimPayment, Deposit] {
            assert_eq!(c.hierarchy_rank(), None);
            assert!(!c.is_obligation());
        }
        assert_eq!(PostingStatus::WORDS, ["POSTED", "VOIDED"]);
        assert_eq!(BalanceStatus::WORDS, ["OPEN", "CLOSED", "VOIDED"]);
        assert_eq!(
            "Open".parse::<BalanceStatus>().unwrap_err().to_string(),
            "'Open' is not a valid balance status; expected one of: 'OPEN', 'CLOSED', 'VOIDED'"
        );
    }

    #[test]
    fn category_beats_due_date() {
        // The repair is years older, but taxes come first in the hierarchy.
        let b = [
            bal(1, Category::Repair, 0, 500),
            bal(2, Category::Taxes, 900, 300),
        ];
        let r = allocate(m(400), &b);
        assert_eq!(paid(&r), [(2, 300), (1, 100)]);
        assert_eq!((r.allocated, r.remaining), (m(400), m(0)));
    }

    #[test]
    fn oldest_first_within_a_category_then_lowest_id() {
        let b = [
            bal(7, Category::Repair, 14, 100),
            bal(9, Category::Repair, 7, 100),
            bal(3, Category::Repair, 14, 100),
        ];
        assert_eq!(paid(&allocate(m(1000), &b)), [(9, 100), (3, 100), (7, 100)]);
    }

    #[test]
    fn partial_last_and_nothing_after() {
        let b = [
            bal(1, Category::Lease, 0, 400),
            bal(2, Category::Repair, 0, 400),
            bal(3, Category::Loan, 0, 400),
        ];
        let r = allocate(m(500), &b);
        assert_eq!(paid(&r), [(1, 400), (2, 100)]);
        assert_eq!(r.remaining, m(0));
    }

    #[test]
    fn leftover_is_net_pay_and_ineligible_balances_are_skipped() {
        let b = [
            bal(1, Category::Earnings, 0, 5000),
            bal(2, Category::Deposit, 0, 5000),
            bal(3, Category::Misc, 0, 0),
            bal(4, Category::Taxes, 0, -200),
            bal(5, Category::CancellationFee, 0, 150),
            bal(6, Category::Misc, 9, 100),
        ];
        let r = allocate(m(1000), &b);
        // Cancellation fee after Misc, despite the later Misc due date.
        assert_eq!(paid(&r), [(6, 100), (5, 150)]);
        assert_eq!((r.allocated, r.remaining), (m(250), m(750)));
    }

    #[test]
    fn zero_or_negative_payment_allocates_nothing() {
        let b = [bal(1, Category::Taxes, 0, 100)];
        for cents in [0, -50] {
            let r = allocate(m(cents), &b);
            assert!(r.allocations.is_empty());
            assert_eq!((r.allocated, r.remaining), (m(0), m(cents)));
        }
    }

    #[test]
    fn chosen_applies_in_the_given_order() {
        let b = [
            bal(1, Category::Taxes, 0, 300),
            bal(2, Category::Repair, 0, 500),
        ];
        let r = allocate_chosen(m(700), &b, &[(2, m(500)), (1, m(200))]).unwrap();
        assert_eq!(paid(&r), [(2, 500), (1, 200)]);
        assert_eq!((r.allocated, r.remaining), (m(700), m(0)));
    }

    #[test]
    fn chosen_errors() {
        use AllocationError::*;
        let b = [
            bal(1, Category::Taxes, 0, 300),
            bal(2, Category::Repair, 0, 500),
        ];
        let run = |payment: i64, req: &[(i64, i64)]| {
            let req: Vec<_> = req.iter().map(|&(id, c)| (id, m(c))).collect();
            allocate_chosen(m(payment), &b, &req).unwrap_err()
        };
        assert_eq!(run(0, &[]), NonPositivePayment);
        assert_eq!(run(-5, &[(1, 1)]), NonPositivePayment);
        assert_eq!(run(100, &[(1, 0)]), NonPositiveAmount { balance_id: 1 });
        assert_eq!(
            run(301, &[(1, 301)]),
            OverPayment {
                balance_id: 1,
                requested: m(301),
                open: m(300)
            }
        );
        assert_eq!(
            run(200, &[(1, 100), (1, 100)]),
            DuplicateBalance { balance_id: 1 }
        );
        assert_eq!(run(100, &[(42, 100)]), UnknownBalance { balance_id: 42 });
        assert_eq!(
            run(500, &[(1, 100), (2, 100)]),
            AmountMismatch {
                payment: m(500),
                requested: m(200)
            }
        );
        assert_eq!(
            run(100, &[]),
            AmountMismatch {
                payment: m(100),
                requested: m(0)
            }
        );
        assert_eq!(
            run(301, &[(1, 301)]).to_string(),
            "the amount 3.01 for balance 1 exceeds its open amount 3.00"
        );
        assert_eq!(
            run(500, &[(1, 100), (2, 100)]).to_string(),
            "the amounts requested add up to 2.00, but the payment is 5.00"
        );
    }

    #[test]
    fn interim_pays_the_chosen_then_the_hierarchy_then_keeps_credit() {
        let b = [
            bal(1, Category::Repair, 0, 300),
            bal(2, Category::Lease, 7, 500),
            bal(3, Category::Taxes, 14, 100),
        ];
        // 250 chosen for the repair; 400 left go to Taxes, then Lease (hierarchy).
        let r = allocate_interim(m(650), &b, &[(1, m(250))]).unwrap();
        assert_eq!(paid(&r), [(1, 250), (3, 100), (2, 300)]);
        assert_eq!((r.allocated, r.remaining), (m(650), m(0)));
        // Nothing chosen, more than everything owed: the rest is credit; the repair the
        // cashier half paid is finished by the hierarchy in one allocation.
        let r = allocate_interim(m(1000), &b, &[]).unwrap();
        assert_eq!(paid(&r), [(3, 100), (2, 500), (1, 300)]);
        assert_eq!((r.allocated, r.remaining), (m(900), m(100)));
        let r = allocate_interim(m(1000), &b, &[(1, m(100))]).unwrap();
        assert_eq!(paid(&r), [(1, 300), (3, 100), (2, 500)]);
        // A chosen amount larger than what is left is refused, never redirected.
        assert_eq!(
            allocate_interim(m(400), &b, &[(1, m(301))]).unwrap_err(),
            AllocationError::OverPayment {
                balance_id: 1,
                requested: m(301),
                open: m(300)
            }
        );
        assert_eq!(
            allocate_interim(m(100), &b, &[(1, m(200))]).unwrap_err(),
            AllocationError::ChosenExceedsPayment {
                payment: m(100),
                requested: m(200)
            }
        );
    }

    #[test]
    fn chosen_total_overflow_is_a_mismatch_not_a_panic() {
        let huge = m(i64::MAX);
        let b = [
            bal(1, Category::Misc, 0, i64::MAX),
            bal(2, Category::Misc, 0, i64::MAX),
        ];
        let err = allocate_chosen(huge, &b, &[(1, huge), (2, huge)]).unwrap_err();
        assert!(matches!(err, AllocationError::AmountMismatch { .. }));
    }

    /// Balances with unique ids, any category (eligible or not), due dates
    /// that often collide, and some balances that owe nothing.
    fn balances() -> impl Strategy<Value = Vec<OpenBalance>> {
        prop::collection::vec((0..Category::ALL.len(), 0u64..5, -1_000i64..50_000), 0..12).prop_map(
            |rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (c, due, cents))| bal(i as i64 * 3 + 1, Category::ALL[c], due, cents))
                    .collect()
            },
        )
    }

    /// The order the spec prescribes, restated independently of `allocate`.
    fn eligible_in_order(b: &[OpenBalance]) -> Vec<&OpenBalance> {
        let mut e: Vec<_> = b
            .iter()
            .filter(|b| b.category.is_obligation() && b.balance.is_positive())
            .collect();
        e.sort_by_key(|b| (b.category.hierarchy_rank(), b.due_date, b.id));
        e
    }

    proptest! {
        #[test]
        fn allocate_invariants(payment in 0i64..200_000, b in balances()) {
            let r = allocate(m(payment), &b);
            let amount_for = |id: i64| r.allocations.iter().find(|a| a.balance_id == id).map_or(m(0), |a| a.amount);

            // Every cent is accounted for, and net pay is never negative.
            let sum: Money = r.allocations.iter().map(|a| a.amount).sum();
            prop_assert_eq!(sum, r.allocated);
            prop_assert_eq!(r.allocated + r.remaining, m(payment));
            prop_assert!(!r.remaining.is_negative());

            // Only eligible balances, each at most once, never zero, never over.
            let order = eligible_in_order(&b);
            prop_assert!(r.allocations.len() <= order.len());
            for a in &r.allocations {
                prop_assert!(a.amount.is_positive());
                let target = order.iter().find(|b| b.id == a.balance_id);
                prop_assert!(target.is_some(), "paid ineligible balance {}", a.balance_id);
                // Never over-allocated, i.e. no balance is left negative.
                prop_assert!(target.unwrap().balance - a.amount >= m(0));
            }

            // Allocations follow the prescribed order ...
            let ids: Vec<_> = r.allocations.iter().map(|a| a.balance_id).collect();
            let expected: Vec<_> = order.iter().take(ids.len()).map(|b| b.id).collect();
            prop_assert_eq!(ids, expected);
            // ... and once one balance is short-paid, nothing later gets anything.
            let mut short = false;
            for b in &order {
                let got = amount_for(b.id);
                prop_assert!(!short || got.is_zero(), "balance {} paid after a short one", b.id);
                short |= got < b.balance;
            }
            // Net pay is left over only when every eligible balance is cleared.
            if r.remaining.is_positive() {
                prop_assert!(order.iter().all(|b| amount_for(b.id) == b.balance));
            }
        }

        #[test]
        fn allocate_ignores_input_order(
            payment in 0i64..200_000,
            (b, shuffled) in balances().prop_flat_map(|b| (Just(b.clone()), Just(b).prop_shuffle())),
        ) {
            prop_assert_eq!(allocate(m(payment), &b), allocate(m(payment), &shuffled));
        }

        #[test]
        fn interim_accounts_for_every_cent_and_never_overpays(
            b in balances(),
            extra in 0i64..100_000,
            picks in prop::collection::vec((any::<prop::sample::Index>(), 1i64..50_000), 0..4),
        ) {
            let payable: Vec<_> = b.iter().filter(|b| b.balance.is_positive()).collect();
            let mut req: Vec<(i64, Money)> = Vec::new();
            if !payable.is_empty() {
                for (ix, cents) in picks {
                    let target = ix.get(&payable);
                    if req.iter().all(|&(id, _)| id != target.id) {
                        req.push((target.id, m(cents).min(target.balance)));
                    }
                }
            }
            let payment: Money = req.iter().map(|r| r.1).sum::<Money>() + m(extra);
            prop_assume!(payment.is_positive());
            let r = allocate_interim(payment, &b, &req).unwrap();
            let total: Money = r.allocations.iter().map(|a| a.amount).sum();
            prop_assert_eq!(total, r.allocated);
            prop_assert_eq!(r.allocated + r.remaining, payment);
            for a in &r.allocations {
                let open = b.iter().find(|x| x.id == a.balance_id).unwrap().balance;
                prop_assert!(a.amount.is_positive() && a.amount <= open);
                prop_assert_eq!(r.allocations.iter().filter(|x| x.balance_id == a.balance_id).count(), 1);
            }
            for (id, amount) in &req {
                let got = r.allocations.iter().find(|a| a.balance_id == *id).unwrap().amount;
                prop_assert!(got >= *amount);
            }
            // Credit is kept only when every payable balance in the hierarchy is paid.
            if r.remaining.is_positive() {
                for x in b.iter().filter(|x| x.balance.is_positive() && x.category.hierarchy_rank().is_some()) {
                    let got = r.allocations.iter().find(|a| a.balance_id == x.id).map(|a| a.amount);
                    prop_assert_eq!(got, Some(x.balance));
                }
            }
        }

        fn chosen_valid_request_is_applied_exactly(
            b in balances(),
            picks in prop::collection::vec((any::<prop::sample::Index>(), 1i64..50_000), 0..6),
        ) {
            // Turn random picks into a valid request: distinct, payable balances.
            let payable: Vec<_> = b.iter().filter(|b| b.balance.is_positive()).collect();
            prop_assume!(!payable.is_empty());
            let mut req: Vec<(i64, Money)> = Vec::new();
            for (ix, cents) in picks {
                let target = ix.get(&payable);
                if req.iter().all(|&(id, _)| id != target.id) {
                    req.push((target.id, m(cents).min(target.balance)));
                }
            }
            prop_assume!(!req.is_empty());
            let payment: Money = req.iter().map(|r| r.1).sum();

            let r = allocate_chosen(payment, &b, &req).unwrap();
            let applied: Vec<_> = r.allocations.iter().map(|a| (a.balance_id, a.amount)).collect();
            prop_assert_eq!(&applied, &req);
            prop_assert_eq!((r.allocated, r.remaining), (payment, m(0)));

            // One cent more or less than the request total is rejected whole.
            for off in [1, -1] {
                let wrong = payment + m(off);
                if wrong.is_positive() {
                    let is_mismatch = matches!(
                        allocate_chosen(wrong, &b, &req),
                        Err(AllocationError::AmountMismatch { .. })
                    );
                    prop_assert!(is_mismatch);
                }
            }
        }
    }
}
