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
    let dir = match db.backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let migrator = Migrator {
        migrations: Cow::Owned(embedded(dir)?),
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
}
