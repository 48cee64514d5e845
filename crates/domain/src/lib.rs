//! Pure business rules of BAT Connect Repairs.
//!
//! Repair invoices for the taxi fleet are repaid in weekly installments. This
//! crate holds the rules that must be exactly right and easy to test, kept free
//! of I/O so the service crate owns all storage, HTTP and clocks:
//!
//! - [`money`]: exact amounts in integer cents, parsed from text or JSON
//!   without floating-point arithmetic.
//! - [`calendar`]: Sunday..Saturday payment weeks in the fleet's local time.
//! - [`matrix`]: the configurable repayment matrix and installment schedules.
//! - [`ids`]: business identifier formats.
//! - [`invoice_lines`]: a workshop's invoice as lines, tax and the total they make.
//! - [`input`]: what people type: invoice numbers and their uniqueness key, date windows.
//! - [`ledger`]: ledger categories and how payments pay open balances.
//! - [`rent`]: weekly lease rent, and its share for a part week.
//! - [`status`]: status and category words exactly as stored.

pub mod calendar;
pub mod ids;
pub mod input;
pub mod invoice_lines;
pub mod ledger;
pub mod matrix;
pub mod money;
pub mod rent;
pub mod status;

pub use calendar::{
    current_payment_period, local_date, parse_date, week_end_of, week_start_of, weekday_name,
    CalendarError, SundayDate, DEFAULT_TIME_ZONE,
};
pub use ids::{
    case_no, dtr_number, installment_id, is_repair_id, is_valid_case_prefix, parse_dtr_number,
    parse_installment_id, parse_repair_id, repair_id,
};
pub use ledger::{
    allocate, allocate_chosen, allocate_interim, Allocation, AllocationError, AllocationResult,
    BalanceStatus, Category, OpenBalance, PostingStatus,
};
pub use matrix::{
    build_schedule, Bracket, MatrixError, RepaymentMatrix, ScheduledInstallment, MAX_INSTALLMENTS,
};
pub use money::{Money, MoneyError};
pub use status::{
    CaseStatus, DriverStatus, InstallmentStatus, InvoiceStatus, LeaseStatus, LeaseType,
    MedallionStatus, PayTo, PaymentMethod, Role, TerminationReason, UnknownWord, WorkshopKind,
    WorkshopType,
};

/// Lets `stored_words!` name serde from crates that do not depend on it.
#[doc(hidden)]
pub use serde as __serde;
