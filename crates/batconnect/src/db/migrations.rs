//! Versioned migrations, embedded in the binary, one folder per backend with the same
//! version numbers. sqlx's migrator records them and takes a lock so several instances
//! starting at once apply each migration exactly once.
//!
//! Why not `sqlx::migrate!("migrations/sqlite")`: it would embed each folder just as well,
//! but it needs sqlx's `macros` feature, which compiles sqlx a second time (with both
//! drivers) as a proc-macro for the build machine — minutes on a 2-core CI, for the thirty
//! lines below that read the same folders through `include_dir` into the same `Migrator`.

use std::borrow::Cow;

use include_dir::{include_dir, Dir};
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::{Backend, Db};

static SQLITE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/migrations/sqlite");
static POSTGRES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/migrations/postgres");

fn embedded(dir: &'static Dir<'static>) -> anyhow::Result<Vec<Migration>> {
    let mut migrations = Vec::new();
    for file in dir.files() {
        let name = file
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let (version, description) = stem.split_once('_').ok_or_else(|| {
            anyhow::anyhow!("migration {name} must be named NNNN_description.sql")
        })?;
        let version: i64 = version.parse()?;
        let sql = file
            .contents_utf8()
            .ok_or_else(|| anyhow::anyhow!("migration {name} is not UTF-8"))?;
        migrations.push(Migration::new(
            version,
            Cow::Owned(description.replace('_', " ")),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        ));
    }
    migrations.sort_by_key(|m| m.version);
    Ok(migrations)
}

/// The migration that adds `repair_invoices.invoice_number_key`; the next one makes it
/// unique, so the keys of existing rows are computed (in Rust) between the two.
const INVOICE_NUMBER_KEY_ADDED: i64 = 12;
/// The last migration before keys kept only letters and digits; the next one (0022) makes
/// the recomputed keys unique again.
const BEFORE_LETTERS_AND_DIGITS_KEY: i64 = 21;

pub async fn run(db: &Db) -> anyhow::Result<()> {
    run_up_to(db, INVOICE_NUMBER_KEY_ADDED).await?;
    rekey_invoice_numbers(db, Rekey::Missing).await?;
    run_up_to(db, BEFORE_LETTERS_AND_DIGITS_KEY).await?;
    if !applied(db, BEFORE_LETTERS_AND_DIGITS_KEY + 1).await? {
        rekey_invoice_numbers(db, Rekey::All).await?;
    }
    run_up_to(db, i64::MAX).await
}

async fn applied(db: &Db, version: i64) -> anyhow::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(&db.write)
        .await?;
    Ok(count > 0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rekey {
    /// Rows from before migration 0012, which have no key yet.
    Missing,
    /// Every row, under today's rule (before migration 0022).
    All,
}

/// Computes the key of invoice numbers (`domain::input::invoice_number_key`) and stops with
/// the list of invoices whose numbers clash on it: two open debts for one workshop invoice
/// are for a person to resolve (README, "Upgrading: invoice numbers"), not a migration.
/// Nothing is changed while any clash remains.
async fn rekey_invoice_numbers(db: &Db, which: Rekey) -> anyhow::Result<()> {
    use sqlx::Row;
    let filter = match which {
        Rekey::Missing => " WHERE invoice_number_key IS NULL",
        Rekey::All => "",
    };
    let rows = sqlx::query(&format!(
        "SELECT id, invoice_number, invoice_number_key FROM repair_invoices{filter}"
    ))
    .fetch_all(&db.write)
    .await?;
    if rows.is_empty() && which == Rekey::Missing {
        return Ok(());
    }
    let clashes = super::invoice_numbers::clashes(&db.write).await?;
    if !clashes.is_empty() {
        anyhow::bail!(
            "cannot make workshop invoice numbers unique on their letters and digits: these open invoices share a number — {}. \
             List them with `batconnect invoices clashes`; cancel or correct (`batconnect invoices renumber`) all but one of each, \
             then start again (README, \"Upgrading: invoice numbers\").",
            super::invoice_numbers::describe(&clashes).join("; ")
        );
    }
    let mut changed: Vec<(i64, String)> = Vec::new();
    for row in &rows {
        let number: String = row.try_get("invoice_number")?;
        let key = domain::input::invoice_number_key(&number);
        if row
            .try_get::<Option<String>, _>("invoice_number_key")?
            .as_deref()
            != Some(key.as_str())
        {
            changed.push((row.try_get("id")?, key));
        }
    }
    let mut tx = db.begin().await?;
    // The unique index stays in place throughout (never a moment without it, even when two
    // instances upgrade at once): the changed keys are cleared first (NULLs never clash),
    // then written, in one transaction. With no clash left (checked above) nothing can
    // collide.
    for chunk in changed.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        sqlx::query(&format!(
            "UPDATE repair_invoices SET invoice_number_key = NULL WHERE id IN ({})",
            super::id_list(&ids)
        ))
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    }
    for chunk in changed.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for (id, key) in chunk {
            values.push(format!("({id}, '{}')", key.replace('\'', "''")));
        }
        sqlx::query(&format!(
            "UPDATE repair_invoices SET invoice_number_key = v.column2 FROM (VALUES {}) AS v \
             WHERE repair_invoices.id = v.column1",
            values.join(", ")
        ))
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Applies the migrations up to and including `last` (tests upgrade from an older schema).
async fn run_up_to(db: &Db, last: i64) -> anyhow::Result<()> {
    let dir = match db.backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let mut migrations = embedded(dir)?;
    migrations.retain(|m| m.version <= last);
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        // A partial run (up to a data step) meets later versions already applied; the
        // full run still refuses a database migrated by a newer binary.
        ignore_missing: last != i64::MAX,
        locking: true,
        no_tx: false,
    };
    migrator.run(&db.write).await?;
    Ok(())
}

/// The columns that hold a stored word, with the words their migration allows: the
/// `domain` enums (kept here so a test holds the migrations to them).
#[cfg(test)]
pub(crate) fn word_columns() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    use domain::ledger::{BalanceStatus, Category, EntryType, PostingStatus};
    use domain::status::*;
    vec![
        ("drivers", "status", DriverStatus::WORDS),
        ("drivers", "pay_to", PayTo::WORDS),
        ("medallions", "status", MedallionStatus::WORDS),
        ("leases", "lease_type", LeaseType::WORDS),
        ("leases", "status", LeaseStatus::WORDS),
        ("leases", "termination_reason", TerminationReason::WORDS),
        ("cases", "status", CaseStatus::WORDS),
        ("repair_invoices", "status", InvoiceStatus::WORDS),
        ("repair_invoices", "workshop_type", WorkshopType::WORDS),
        ("repair_invoices", "lease_type", LeaseType::WORDS),
        ("repair_installments", "status", InstallmentStatus::WORDS),
        ("ledger_postings", "category", Category::WORDS),
        ("ledger_postings", "entry_type", EntryType::WORDS),
        ("ledger_postings", "status", PostingStatus::WORDS),
        ("ledger_balances", "category", Category::WORDS),
        ("ledger_balances", "status", BalanceStatus::WORDS),
        ("job_runs", "trigger", JobTrigger::WORDS),
        ("job_runs", "status", JobStatus::WORDS),
        ("dtrs", "status", DtrStatus::WORDS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word column's CHECK (PostgreSQL) and triggers (SQLite) allow exactly the words
    /// of its enum, in the enum's order: a word added to an enum needs a migration.
    #[test]
    fn the_known_words_migration_matches_the_enums() {
        let file = |dir: &'static Dir<'static>| {
            dir.files()
                .filter(|f| {
                    f.path()
                        .to_str()
                        .is_some_and(|p| p.contains("_known_words"))
                })
                .filter_map(|f| f.contents_utf8())
                .collect::<String>()
        };
        let (postgres, sqlite) = (file(&POSTGRES), file(&SQLITE));
        for (table, column, words) in word_columns() {
            let list = words
                .iter()
                .map(|w| format!("'{}'", w.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(", ");
            let check = format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_word CHECK ({column} IN ({list}));"
            );
            assert!(postgres.contains(&check), "PostgreSQL lacks: {check}");
            // SQLite: a CHECK where the migration rebuilds the table, else two triggers.
            if sqlite.contains(&format!("ALTER TABLE {table} RENAME TO {table}_old;")) {
                let rebuilt =
                    format!("CONSTRAINT {table}_{column}_word CHECK ({column} IN ({list}))");
                assert!(sqlite.contains(&rebuilt), "SQLite lacks: {rebuilt}");
                continue;
            }
            for (event, when) in [
                ("insert", "INSERT".to_string()),
                ("update", format!("UPDATE OF {column}")),
            ] {
                let trigger = format!(
                    "CREATE TRIGGER {table}_{column}_word_{event} BEFORE {when} ON {table}\nWHEN NEW.{column} NOT IN ({list})\n"
                );
                assert!(sqlite.contains(&trigger), "SQLite lacks: {trigger}");
            }
        }
    }

    async fn scratch_sqlite(name: &str) -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "batconnect-{name}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}/m.db", dir.display()), 2)
            .await
            .unwrap();
        (db, dir)
    }

    /// Invoices recorded before 0012 on a fleet, numbered as given (status in brackets).
    async fn invoices_before_keys(db: &Db, numbers: &[(&str, &str)]) {
        run_up_to(db, INVOICE_NUMBER_KEY_ADDED - 1).await.unwrap();
        for sql in [
            "INSERT INTO drivers (driver_id, first_name, last_name, full_name, tlc_license_no, status, pay_to, created_on, created_by) \
             VALUES ('DRV-1', 'A', 'B', 'A B', '5100001', 'Active', 'ACH', 't', 'a')",
            "INSERT INTO vehicles (vin, make, model, year, created_on, created_by) VALUES ('4T1BF1FK0CU000001', 'Toyota', 'Camry', 2020, 't', 'a')",
            "INSERT INTO medallions (medallion_number, status, created_on, created_by) VALUES ('1P10', 'Assigned', 't', 'a')",
            "INSERT INTO leases (lease_id, lease_type, status, weekly_rate_cents, vehicle_id, medallion_id, start_date, created_on, created_by) \
             VALUES ('LS-01001', 'dov', 'Active', 52500, 1, 1, '2026-01-04', 't', 'a')",
        ] {
            sqlx::query(sql).execute(db.reader()).await.unwrap();
        }
        for (i, (number, status)) in numbers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO repair_invoices (repair_id, invoice_number, invoice_date, driver_id, lease_id, vehicle_id, medallion_id, \
                 driver_name, lease_ref, lease_type, medallion_number, vin, workshop_type, total_amount_cents, weekly_installment_cents, \
                 start_week, status, created_by, created_on, updated_by, updated_on) \
                 VALUES ($1, $2, '2026-11-20', 1, 1, 1, 1, 'A B', 'LS-01001', 'dov', '1P10', '4T1BF1FK0CU000001', 'Big Apple Workshop', \
                 10000, 10000, '2026-11-29', $3, 'a', 't', 'a', 't')",
            )
            .bind(format!("RPR-2026-{:05}", i + 1))
            .bind(number)
            .bind(status)
            .execute(db.reader())
            .await
            .unwrap();
        }
    }

    #[tokio::test]
    async fn invoice_number_keys_are_filled_then_made_unique() {
        let (db, dir) = scratch_sqlite("keys").await;
        invoices_before_keys(
            &db,
            &[
                ("BAW-1187", "Open"),
                ("baw-1187", "Cancelled"),
                ("EXT 7", "Closed"),
            ],
        )
        .await;
        run(&db).await.unwrap();
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT repair_id, invoice_number_key FROM repair_invoices ORDER BY repair_id",
        )
        .fetch_all(db.reader())
        .await
        .unwrap();
        assert_eq!(
            keys,
            vec![
                ("RPR-2026-00001".into(), "BAW1187".into()),
                ("RPR-2026-00002".into(), "BAW1187".into()),
                ("RPR-2026-00003".into(), "EXT7".into()),
            ]
        );
        // The key is unique among open invoices from now on.
        let err = sqlx::query(
            "UPDATE repair_invoices SET status = 'Open' WHERE repair_id = 'RPR-2026-00002'",
        )
        .execute(db.reader())
        .await
        .unwrap_err();
        assert!(err.to_string().contains("UNIQUE"), "{err}");
        run(&db).await.unwrap();
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn clashing_invoice_numbers_stop_the_migration_and_are_listed() {
        let (db, dir) = scratch_sqlite("clash").await;
        invoices_before_keys(
            &db,
            &[
                ("BAW-1187", "Open"),
                ("baw-1187 ", "Open"),
                ("Ext-9", "Hold"),
                ("EXT-9", "Closed"),
                ("ok-1", "Open"),
            ],
        )
        .await;
        let err = run(&db).await.unwrap_err().to_string();
        assert!(
            err.contains(
                "BAW1187: RPR-2026-00001 'BAW-1187' (Open), RPR-2026-00002 'baw-1187 ' (Open)"
            ),
            "{err}"
        );
        assert!(
            err.contains("EXT9: RPR-2026-00003 'Ext-9' (Hold), RPR-2026-00004 'EXT-9' (Closed)"),
            "{err}"
        );
        assert!(err.contains("batconnect invoices clashes"), "{err}");
        assert!(!err.contains("ok-1"), "{err}");
        // Nothing half-done: no key written, 0013 not applied.
        let filled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM repair_invoices WHERE invoice_number_key IS NOT NULL",
        )
        .fetch_one(db.reader())
        .await
        .unwrap();
        assert_eq!(filled, 0);
        // Once an operator has resolved it, start-up goes on.
        sqlx::query("UPDATE repair_invoices SET invoice_number = 'BAW-1187-B' WHERE repair_id = 'RPR-2026-00002'")
            .execute(db.reader())
            .await
            .unwrap();
        sqlx::query(
            "UPDATE repair_invoices SET status = 'Cancelled' WHERE repair_id = 'RPR-2026-00004'",
        )
        .execute(db.reader())
        .await
        .unwrap();
        run(&db).await.unwrap();
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |d| {
            embedded(d)
                .unwrap()
                .iter()
                .map(|m| m.version)
                .collect::<Vec<_>>()
        };
        assert!(!versions(&SQLITE).is_empty());
        assert_eq!(versions(&SQLITE), versions(&POSTGRES));
    }

    /// 0011 rebuilds SQLite's ledger tables without their per-row foreign keys: every row
    /// keeps its id and values, numbering goes on after them, the guards still hold.
    #[tokio::test]
    async fn sqlite_ledger_rebuild_keeps_rows_and_guards() {
        let dir = std::env::temp_dir().join(format!(
            "batconnect-migration-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}/m.db", dir.display()), 2)
            .await
            .unwrap();
        run_up_to(&db, 10).await.unwrap();
        for sql in [
            "INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, payment_period, created_by, created_on) \
             VALUES (7, 'Lease', 50000, 'OBLIGATION', 'VOIDED', 'L-1', '2026-11-22', 'a', 't')",
            "INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, reversal_for_id, created_by, created_on) \
             VALUES (8, 'Lease', -50000, 'REVERSAL', 'POSTED', 'L-1', 7, 'a', 't')",
            "INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, created_by, created_on) \
             VALUES (9, 'Earnings', -20000, 'EARNINGS', 'POSTED', 'P-1', 'a', 't')",
            "INSERT INTO ledger_balances (id, category, reference_id, obligation_posting_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
             VALUES (3, 'Lease', 'L-1', 7, 50000, 30000, '2026-11-22', 'OPEN', 't', 't')",
            "INSERT INTO ledger_allocations (id, payment_posting_id, balance_id, amount_cents, created_on, reversed) VALUES (5, 9, 3, 20000, 't', 1)",
        ] {
            sqlx::query(sql).execute(db.reader()).await.unwrap();
        }
        run_up_to(&db, i64::MAX).await.unwrap();
        let rows: Vec<(i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, status, amount_cents, reversal_for_id FROM ledger_postings ORDER BY id",
        )
        .fetch_all(db.reader())
        .await
        .unwrap();
        assert_eq!(
            rows,
            vec![
                (7, "VOIDED".into(), 50000, None),
                (8, "POSTED".into(), -50000, Some(7)),
                (9, "POSTED".into(), -20000, None)
            ]
        );
        let balance: (i64, i64, i64) =
            sqlx::query_as("SELECT id, obligation_posting_id, balance_cents FROM ledger_balances")
                .fetch_one(db.reader())
                .await
                .unwrap();
        assert_eq!(balance, (3, 7, 30000));
        let allocation: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT payment_posting_id, balance_id, amount_cents, reversed FROM ledger_allocations WHERE id = 5",
        )
        .fetch_one(db.reader())
        .await
        .unwrap();
        assert_eq!(allocation, (9, 3, 20000, 1));
        // Numbering goes on after the kept rows.
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, created_by, created_on) \
             VALUES ('Misc', 100, 'OBLIGATION', 'POSTED', 'M-1', 'a', 't') RETURNING id",
        )
        .fetch_one(db.reader())
        .await
        .unwrap();
        assert_eq!(next, 10);
        // Guards and constraints are back on the rebuilt tables.
        for (sql, refused_because) in [
            ("DELETE FROM ledger_postings WHERE id = 9", "immutable"),
            ("UPDATE ledger_postings SET amount_cents = 1 WHERE id = 9", "immutable"),
            ("DELETE FROM ledger_balances", "kept for history"),
            ("DELETE FROM ledger_allocations", "kept for history"),
            (
                "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, created_by, created_on) \
                 VALUES ('Misc', 100, 'OBLIGATION', 'POSTED', 'M-1', 'a', 't')",
                "UNIQUE",
            ),
            (
                "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, reversal_for_id, created_by, created_on) \
                 VALUES ('Misc', -100, 'REVERSAL', 'POSTED', 'M-1', 999, 'a', 't')",
                "FOREIGN KEY",
            ),
            ("UPDATE ledger_balances SET balance_cents = 60000", "CHECK"),
            (
                "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
                 VALUES ('Lease', 'L-1', 7, 100, 100, '2026-11-22', 'OPEN', 't', 't')",
                "UNIQUE",
            ),
        ] {
            let error = sqlx::query(sql).execute(db.reader()).await.unwrap_err();
            assert!(error.to_string().contains(refused_because), "{sql}: {error}");
        }
        // The per-row master-data and ledger-link keys are gone (the point of 0011).
        sqlx::query(
            "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
             VALUES ('Misc', 'M-1', 10, 424242, 424242, 100, 100, '2026-11-22', 'OPEN', 't', 't')",
        )
        .execute(db.reader())
        .await
        .unwrap();
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
