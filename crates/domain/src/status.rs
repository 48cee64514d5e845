//! Status and category words exactly as they are stored.
//!
//! Each enum's variants and words are written once, in its `stored_words!`
//! invocation; parsing, display, serde and the list of allowed words all
//! derive from that single list, so they cannot drift apart.

use std::fmt;

/// A word that is not one of an enum's stored words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was being parsed, e.g. "invoice status".
    pub kind: &'static str,
    pub word: String,
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a valid {}; expected one of: ",
            self.word, self.kind
        )?;
        for (i, w) in self.allowed.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{w}'")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownWord {}

/// Declares fieldless enums whose variants map one-to-one onto stored words.
///
/// ```
/// domain::stored_words! {
///     /// Traffic light colours.
///     pub enum Light("light colour") {
///         Red => "red",
///         Green => "green",
///     }
/// }
/// assert_eq!(Light::parse("red"), Some(Light::Red));
/// assert_eq!(Light::Green.to_string(), "green");
/// assert_eq!(Light::all_words(), ["red", "green"]);
/// ```
///
/// Generates `ALL`, `WORDS`, `KIND`, `as_str`, `parse` (exact match),
/// `all_words`, `Display`, `FromStr` (error: [`UnknownWord`]) and serde
/// `Serialize`/`Deserialize` as the stored word.
#[macro_export]
macro_rules! stored_words {
    ($(
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal ),+ $(,)?
        }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = concat!("Stored as `", $word, "`.")] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every stored word, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];
            /// What this enum is called in messages.
            pub const KIND: &'static str = $kind;

            /// The word as stored.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }

            /// Exact, case-sensitive match on the stored word.
            pub fn parse(s: &str) -> ::std::option::Option<Self> {
                match s {
                    $($word => ::std::option::Option::Some(Self::$variant),)+
                    _ => ::std::option::Option::None,
                }
            }

            /// Every stored word, e.g. for a select list or an error message.
            pub fn all_words() -> ::std::vec::Vec<&'static str> {
                Self::WORDS.to_vec()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::status::UnknownWord;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::status::UnknownWord {
                    kind: $kind,
                    word: s.to_string(),
                    allowed: Self::WORDS,
                })
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct WordVisitor;

                impl $crate::__serde::de::Visitor<'_> for WordVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "a {} such as '{}'", $kind, $name::WORDS[0])
                    }

                    fn visit_str<E: $crate::__serde::de::Error>(
                        self,
                        v: &str,
                    ) -> ::std::result::Result<$name, E> {
                        v.parse::<$name>().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(WordVisitor)
            }
        }
    )+};
}

stored_words! {
    /// Lifecycle of a repair invoice.
    pub enum InvoiceStatus("invoice status") {
        Draft => "Draft",
        Open => "Open",
        Closed => "Closed",
        Hold => "Hold",
        Cancelled => "Cancelled",
    }

    /// Lifecycle of one weekly installment.
    pub enum InstallmentStatus("installment status") {
        Scheduled => "Scheduled",
        Posted => "Posted",
        Paid => "Paid",
        /// Its invoice was cancelled: never posted again, any posting voided.
        Cancelled => "Cancelled",
    }

    /// Where a repair was done.
    pub enum WorkshopType("workshop type") {
        BigApple => "Big Apple Workshop",
        External => "External Workshop",
    }

    /// Kind of a workshop in the registry: the fleet's own (Big Apple) or another's.
    pub enum WorkshopKind("workshop kind") {
        InHouse => "in_house",
        External => "external",
    }

    /// Kind of lease a driver holds.
    pub enum LeaseType("lease type") {
        Dov => "dov",
        LongTerm => "long-term",
        ShortTerm => "short-term",
        ShiftLease => "shift-lease",
        MedallionOnly => "medallion-only",
    }

    pub enum LeaseStatus("lease status") {
        InProgress => "In Progress",
        Active => "Active",
        Suspended => "Suspended",
        Terminated => "Terminated",
        Expired => "Expired",
        Cancelled => "Cancelled",
    }

    pub enum DriverStatus("driver status") {
        InProgress => "In Progress",
        Registered => "Registered",
        Active => "Active",
        Inactive => "Inactive",
    }

    /// How a driver is paid out.
    pub enum PayTo("payment method") {
        Ach => "ACH",
        Check => "Check",
    }

    /// How a driver paid at the cashier's window (an interim payment).
    pub enum PaymentMethod("interim payment method") {
        Cash => "Cash",
        Check => "Check",
        MoneyOrder => "Money order",
        Card => "Card",
        Ach => "ACH",
    }

    pub enum MedallionStatus("medallion status") {
        Available => "Available",
        Assigned => "Assigned",
        Retired => "Retired",
    }

    /// Back-office user role.
    pub enum Role("role") {
        Admin => "admin",
        Finance => "finance",
        Operations => "operations",
        Viewer => "viewer",
    }

    /// Why a lease ended.
    pub enum TerminationReason("termination reason") {
        /// Its term ran out: the lease becomes `Expired`.
        Completed => "completed",
        /// Ended early by the driver or the fleet: a fee applies.
        EarlyTermination => "early_termination",
        DriverLeft => "driver_left",
        VehicleTotalLoss => "vehicle_total_loss",
        Other => "other",
    }

    pub enum CaseStatus("case status") {
        Open => "Open",
        InProgress => "In Progress",
        Closed => "Closed",
    }

    /// A weekly driver statement: a draft is regenerated by every run, a finalized one
    /// never changes again.
    pub enum DtrStatus("statement status") {
        Draft => "Draft",
        Finalized => "Finalized",
    }

    /// Where a job run stands.
    pub enum JobStatus("job status") {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        /// Ran and did nothing on purpose (e.g. a step not available yet).
        Skipped => "skipped",
        /// A Sunday further back than the scheduler catches up on its own: not run; its
        /// row says which command fills it.
        Missed => "missed",
    }

    /// Who started a job run.
    pub enum JobTrigger("job trigger") {
        Schedule => "schedule",
        /// Asked for over the API (`POST /jobs/{job}/run`, or posting all due installments).
        Api => "api",
        Cli => "cli",
    }
}

impl TerminationReason {
    /// The status a lease takes when it ends for this reason.
    pub const fn lease_status(self) -> LeaseStatus {
        match self {
            TerminationReason::Completed => LeaseStatus::Expired,
            _ => LeaseStatus::Terminated,
        }
    }
}

impl LeaseType {
    /// Friendly label for screens and documents; the stored word stays terse.
    pub const fn label(self) -> &'static str {
        match self {
            LeaseType::Dov => "Driver-Owned Vehicle",
            LeaseType::LongTerm => "Long Term",
            LeaseType::ShortTerm => "Short Term",
            LeaseType::ShiftLease => "Shift Lease",
            LeaseType::MedallionOnly => "Medallion Only",
        }
    }
}

impl WorkshopType {
    /// The registry's kind for the guide's two workshop words.
    pub fn kind(self) -> WorkshopKind {
        match self {
            WorkshopType::BigApple => WorkshopKind::InHouse,
            WorkshopType::External => WorkshopKind::External,
        }
    }
}

impl WorkshopKind {
    /// The guide's workshop word for this kind (what `workshop_type` says of an invoice).
    pub fn workshop_type(self) -> WorkshopType {
        match self {
            WorkshopKind::InHouse => WorkshopType::BigApple,
            WorkshopKind::External => WorkshopType::External,
        }
    }

    /// "In-house" / "External", as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            WorkshopKind::InHouse => "In-house",
            WorkshopKind::External => "External",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// Checks one stored_words! enum against its expected word list.
    fn check<T>(all: &[T], words: &[&str], parse: fn(&str) -> Option<T>, expected: &[(T, &str)])
    where
        T: Copy + PartialEq + Debug + fmt::Display + Serialize + DeserializeOwned + FromStr,
        <T as FromStr>::Err: fmt::Display,
    {
        assert_eq!(all.len(), expected.len());
        assert_eq!(words.len(), expected.len());
        let distinct: HashSet<_> = words.iter().collect();
        assert_eq!(distinct.len(), words.len(), "duplicate stored word");
        for (i, &(variant, word)) in expected.iter().enumerate() {
            assert_eq!(all[i], variant);
            assert_eq!(words[i], word);
            assert_eq!(variant.to_string(), word);
            assert_eq!(parse(word), Some(variant));
            assert_eq!(word.parse::<T>().ok(), Some(variant));
            let json = serde_json::to_value(variant).unwrap();
            assert_eq!(json, serde_json::Value::from(word));
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), variant);
            // Stored words match exactly, never case-insensitively or trimmed.
            let upper = word.to_uppercase();
            if upper != word {
                assert_eq!(parse(&upper), None, "{upper}");
            }
            assert_eq!(parse(&format!(" {word}")), None);
        }
        assert_eq!(parse(""), None);
        assert_eq!(parse("no such word"), None);
        let err = serde_json::from_str::<T>("\"no such word\"")
            .unwrap_err()
            .to_string();
        for word in words {
            assert!(err.contains(&format!("'{word}'")), "{err} lacks {word}");
        }
        assert!(serde_json::from_str::<T>("1").is_err());
        let err = "bogus".parse::<T>().err().unwrap().to_string();
        assert!(err.starts_with("'bogus' is not a valid "), "{err}");
    }

    macro_rules! check_enum {
        ($ty:ident, [$($variant:ident => $word:literal),+ $(,)?]) => {
            check($ty::ALL, &$ty::all_words(), $ty::parse, &[$(($ty::$variant, $word)),+]);
            for v in $ty::ALL {
                assert_eq!($ty::parse(v.as_str()), Some(*v));
            }
        };
    }

    #[test]
    fn invoice_status() {
        check_enum!(InvoiceStatus, [
            Draft => "Draft", Open => "Open", Closed => "Closed", Hold => "Hold",
            Cancelled => "Cancelled",
        ]);
    }

    #[test]
    fn installment_status() {
        check_enum!(InstallmentStatus, [
            Scheduled => "Scheduled", Posted => "Posted", Paid => "Paid", Cancelled => "Cancelled",
        ]);
    }

    #[test]
    fn workshop_type() {
        check_enum!(WorkshopType, [
            BigApple => "Big Apple Workshop", External => "External Workshop",
        ]);
    }

    #[test]
    fn lease_type() {
        check_enum!(LeaseType, [
            Dov => "dov", LongTerm => "long-term", ShortTerm => "short-term",
            ShiftLease => "shift-lease", MedallionOnly => "medallion-only",
        ]);
        let labels: Vec<_> = LeaseType::ALL.iter().map(|t| t.label()).collect();
        assert_eq!(
            labels,
            [
                "Driver-Owned Vehicle",
                "Long Term",
                "Short Term",
                "Shift Lease",
                "Medallion Only"
            ]
        );
    }

    #[test]
    fn lease_status() {
        check_enum!(LeaseStatus, [
            InProgress => "In Progress", Active => "Active", Suspended => "Suspended",
            Terminated => "Terminated", Expired => "Expired", Cancelled => "Cancelled",
        ]);
    }

    #[test]
    fn driver_status() {
        check_enum!(DriverStatus, [
            InProgress => "In Progress", Registered => "Registered", Active => "Active",
            Inactive => "Inactive",
        ]);
    }

    #[test]
    fn pay_to() {
        check_enum!(PayTo, [Ach => "ACH", Check => "Check"]);
    }

    #[test]
    fn medallion_status() {
        check_enum!(MedallionStatus, [
            Available => "Available", Assigned => "Assigned", Retired => "Retired",
        ]);
    }

    #[test]
    fn role() {
        check_enum!(Role, [
            Admin => "admin", Finance => "finance", Operations => "operations", Viewer => "viewer",
        ]);
    }

    #[test]
    fn termination_reason() {
        check_enum!(TerminationReason, [
            Completed => "completed", EarlyTermination => "early_termination", DriverLeft => "driver_left",
            VehicleTotalLoss => "vehicle_total_loss", Other => "other",
        ]);
        assert_eq!(
            TerminationReason::Completed.lease_status(),
            LeaseStatus::Expired
        );
        assert_eq!(
            TerminationReason::DriverLeft.lease_status(),
            LeaseStatus::Terminated
        );
    }

    #[test]
    fn case_status() {
        check_enum!(CaseStatus, [Open => "Open", InProgress => "In Progress", Closed => "Closed"]);
    }

    #[test]
    fn error_message_and_kind() {
        let err = PayTo::from_str("Wire").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'Wire' is not a valid payment method; expected one of: 'ACH', 'Check'"
        );
        assert_eq!(PayTo::KIND, "payment method");
        assert_eq!(format!("[{:<7}]", PayTo::Ach), "[ACH    ]");
    }

    #[test]
    fn in_struct() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Row {
            status: InvoiceStatus,
            pay_to: Option<PayTo>,
        }
        let row: Row = serde_json::from_str(r#"{"status": "Hold", "pay_to": null}"#).unwrap();
        assert_eq!(
            row,
            Row {
                status: InvoiceStatus::Hold,
                pay_to: None
            }
        );
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"status":"Hold","pay_to":null}"#
        );
        let err = serde_json::from_str::<Row>(r#"{"status": "hold", "pay_to": null}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("'hold' is not a valid invoice status"),
            "{err}"
        );
    }
}
