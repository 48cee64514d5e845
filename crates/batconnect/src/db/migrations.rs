//! Versioned migrations, embedded in the binary, one folder per backend with the same
//! version numbers. sqlx's migrator records them and takes a lock so several instances
//! starting at once apply each migration exactly once.

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

pub async fn run(db: &Db) -> anyhow::Result<()> {
    run_up_to(db, i64::MAX).await
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
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    migrator.run(&db.write).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
             VALUES (9, 'Payment', -20000, 'PAYMENT', 'POSTED', 'P-1', 'a', 't')",
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
