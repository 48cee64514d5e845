//! Database access shared by every feature: one pool type for SQLite and PostgreSQL
//! (sqlx `Any`), embedded per-backend migrations, and the few dialect differences.

pub mod filter;
pub mod invoice_numbers;
mod migrations;
pub mod page;
pub mod settings;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor};

pub use page::{Page, PageRequest};

/// A write transaction; every business action takes one and the caller commits.
pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pools. On SQLite all writes go through a single connection (SQLite allows one
/// writer; queuing in the pool beats `SQLITE_BUSY` retries), reads use the rest. On
/// PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        match backend {
            Backend::Sqlite => {
                let write = sqlite_pool(1).connect_with(options.clone()).await?;
                let read = sqlite_pool(max_connections.max(2))
                    .connect_with(options)
                    .await?;
                Ok(Db {
                    read,
                    write,
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // sqlx prepares every statement; after five runs PostgreSQL may
                            // switch to a generic plan that ignores the bound LIMIT and
                            // filter values (a full sort instead of an index scan for the
                            // first page of a million invoices). Plan each execution.
                            conn.execute("SET plan_cache_mode = force_custom_plan")
                                .await?;
                            // Key-driven statements over big tables get high cost estimates
                            // and then pay tens of milliseconds of JIT compilation for a
                            // few milliseconds of work (seen in the DTR step).
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails at once with
    /// `SQLITE_BUSY` when another process (a `worker` beside `serve`) committed in between,
    /// whereas waiting for the lock is covered by the busy timeout.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        migrations::run(self).await
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// `LIKE` that ignores case on both backends (SQLite's `LIKE` already does for ASCII).
    pub fn ilike(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }
}

/// The backend a transaction runs on, so a business action taking only its transaction
/// still picks the right dialect.
pub fn backend_of(tx: &Tx) -> Backend {
    if tx.backend_name() == "SQLite" {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// ` FOR UPDATE` on PostgreSQL, where rows another transaction is changing must be locked
/// before they are read and checked; nothing on SQLite, whose write transactions hold the
/// database's one write lock from their first statement (`BEGIN IMMEDIATE`).
pub fn lock_rows(tx: &Tx) -> &'static str {
    match backend_of(tx) {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// How many rows a multi-row INSERT with `params_per_row` bound parameters a row should
/// hold. SQLite looks each numbered parameter's name up in a list (`$1`, `$2`, …), so binding
/// costs grow with the square of a statement's parameters: 7,000 parameters took 200 ms to
/// bind, the same rows in statements of 175 took 9 ms each. PostgreSQL takes up to 65,535.
pub fn rows_per_statement(backend: Backend, params_per_row: usize) -> usize {
    let params = match backend {
        Backend::Sqlite => 180,
        Backend::Postgres => 30_000,
    };
    (params / params_per_row.max(1)).clamp(1, 1000)
}

/// Keys written into a statement's text as an `IN (…)` list (a bound list would take one
/// parameter per key). Such statements run with `.persistent(false)`: each text is used
/// once and must not pile up in the connections' prepared-statement caches.
pub fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `'a','b'`: identifiers or dates this service generated or validated, for an `IN (…)`
/// list as [`id_list`] (quotes doubled all the same).
pub fn text_list<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.as_ref().replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers proceed while the single writer works. The WAL is
                // copied back into the database every 16,384 pages (64 MiB) rather than
                // SQLite's 1,000: a posting batch of 5,000 installments writes a few
                // thousand pages, so the default checkpointed at nearly every commit and
                // copied the same index pages over and over.
                // recursive_triggers: without it the row that `INSERT OR REPLACE` deletes
                // goes without its DELETE triggers, so a REPLACE could rewrite or remove a
                // ledger posting past the guards that keep the ledger immutable.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                     PRAGMA wal_autocheckpoint = 16384; PRAGMA recursive_triggers = ON;",
                )
                .await?;
                Ok(())
            })
        })
}

/// Creates the parent directory of a SQLite file and asks SQLite to create the file.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    anyhow::anyhow!("cannot create database directory {}: {e}", parent.display())
                })?;
            }
        }
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}

/// A stored word (a status, a category) read as its `domain` enum: services work with the
/// enum, and an unknown word is a decode error naming the column, not a silent string.
pub fn word<T>(row: &sqlx::any::AnyRow, column: &str) -> Result<T, sqlx::Error>
where
    T: FromStr<Err = domain::status::UnknownWord>,
{
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: domain::status::UnknownWord| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: Box::new(e),
        })
}

/// The current time as stored in the database: RFC 3339 UTC text, which sorts correctly.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Reserves `count` consecutive values of a named counter; returns the first.
pub async fn reserve_sequence(tx: &mut Tx, name: &str, count: i64) -> Result<i64, sqlx::Error> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO id_sequences (name, last_value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET last_value = id_sequences.last_value + $2 RETURNING last_value",
    )
    .bind(name)
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    Ok(last - count + 1)
}

/// PostgreSQL: has the planner's statistics of `tables` brought up to date (a bulk step
/// such as the Sunday posting adds hundreds of thousands of rows; autovacuum would notice
/// only minutes later, and plans made from the old figures scan instead of probe).
/// SQLite: nothing.
pub async fn refresh_statistics(db: &Db, tables: &[&str]) -> Result<(), sqlx::Error> {
    if db.backend() == Backend::Postgres && !tables.is_empty() {
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .persistent(false)
            .execute(db.reader())
            .await?;
    }
    Ok(())
}

/// PostgreSQL: for the rest of this transaction, the planner probes indexes instead of
/// scanning whole tables. For a transaction whose statements are each driven by a few
/// thousand keys: from row estimates alone PostgreSQL would rather scan every installment
/// or balance than probe an index a few thousand times. SQLite: nothing.
pub async fn prefer_index_probes(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if backend_of(tx) == Backend::Postgres {
        sqlx::query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), \
             set_config('enable_mergejoin', 'off', true)",
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Next value of a named counter, atomically (used for case numbers, repair ids...).
/// Numbers may skip on rollback but are never handed out twice.
pub async fn next_sequence(tx: &mut Tx, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO id_sequences (name, last_value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET last_value = id_sequences.last_value + 1 \
         RETURNING last_value",
    )
    .bind(name)
    .fetch_one(&mut **tx)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = std::env::temp_dir().join(format!("bat-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let prepared = prepare_sqlite_url(&url).unwrap();
        assert!(prepared.ends_with("?mode=rwc"));
        assert!(dir.is_dir());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
