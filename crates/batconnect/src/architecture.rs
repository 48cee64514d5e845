//! Which room of the crate may import which (ARCHITECTURE.md), checked on every test run:
//! the shared pieces below the features import no feature, and nothing but the application
//! assembly imports the HTTP front door, so the two can never form a cycle again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Below every feature: each may import only others of this list.
const FOUNDATION: &[&str] = &[
    "error",
    "db",
    "config",
    "cron",
    "clock",
    "stop",
    "storage",
    "audit",
    "house_style",
];
/// What the features' HTTP handlers share; it sits on the foundation only.
const API_KIT: &str = "api";
/// The API's front door, assembled from the features' routers.
const HTTP: &str = "http";
/// The modules that may import the front door: the application assembly.
const ASSEMBLY: &[&str] = &["app"];

/// The top-level module of every source file and the crate modules it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in source_files() {
        let module = relative
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let named = found.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    named.insert(name);
                }
            }
        }
    }
    found
}

#[test]
fn the_foundation_imports_no_feature() {
    let mut wrong = Vec::new();
    for (module, names) in imports() {
        // The foundation, and the handlers' kit, sit on the foundation alone.
        if !FOUNDATION.contains(&module.as_str()) && module != API_KIT {
            continue;
        }
        let allowed = FOUNDATION;
        for name in names {
            if !allowed.contains(&name.as_str()) {
                wrong.push(format!("{module} imports {name}"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports: {wrong:#?}");
}

#[test]
fn only_the_assembly_imports_the_http_front_door() {
    let wrong: Vec<String> = imports()
        .into_iter()
        .filter(|(module, names)| {
            names.contains(HTTP) && !ASSEMBLY.contains(&module.as_str()) && module != HTTP
        })
        .map(|(module, _)| format!("{module} imports {HTTP}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The console's kit: sessions, CSRF, layout. It sits on the foundation, the API kit, the
/// shared state and `auth` (the same users and login protections), never on a feature, so
/// every feature's pages can use it.
const WEB_KIT: &str = "web";
const WEB_KIT_MAY_USE: &[&str] = &["api", "state", "auth"];

#[test]
fn the_console_kit_imports_no_feature_but_auth() {
    let found = imports();
    let wrong: Vec<String> = found
        .get(WEB_KIT)
        .expect("web found")
        .iter()
        .filter(|name| {
            !FOUNDATION.contains(&name.as_str()) && !WEB_KIT_MAY_USE.contains(&name.as_str())
        })
        .map(|name| format!("web imports {name}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A feature's pages call other features' services, never their repositories.
#[test]
fn pages_do_not_reach_into_another_features_repository() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src readable") {
        let dir = entry.expect("dir entry").path();
        let pages = dir.join("pages.rs");
        let Ok(text) = std::fs::read_to_string(&pages) else {
            continue;
        };
        let room = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        for (at, _) in text.match_indices("crate::") {
            let path: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut parts = path.split("::");
            let (feature, module) = (parts.next().unwrap_or_default(), parts.next());
            if feature != room && module == Some("repo") {
                wrong.push(format!("{room}/pages.rs uses crate::{path}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_check_sees_the_crate() {
    let found = imports();
    for module in ["repairs", "ledger", "dtr", "db", "http", "api", "error"] {
        assert!(found.contains_key(module), "{module} not found");
    }
    assert!(
        found["http"].contains("repairs"),
        "http assembles the features"
    );
}

/// Each table and the room whose repo owns it; other rooms read and write it only through
/// that room's repo or service. `None`: a foundation table anyone may use through `db`.
const TABLES: &[(&str, Option<&str>)] = &[
    ("drivers", Some("fleet")),
    ("medallions", Some("fleet")),
    ("vehicles", Some("fleet")),
    ("leases", Some("fleet")),
    ("lease_drivers", Some("fleet")),
    ("repair_invoices", Some("repairs")),
    ("repair_installments", Some("repairs")),
    ("repair_invoice_paid", Some("repairs")),
    ("repair_invoice_counts", Some("repairs")),
    ("repair_invoice_search", Some("repairs")),
    ("repair_invoice_lines", Some("repairs")),
    ("workshops", Some("workshops")),
    ("ledger_postings", Some("ledger")),
    ("ledger_balances", Some("ledger")),
    ("ledger_allocations", Some("ledger")),
    ("interim_payments", Some("ledger")),
    ("dtrs", Some("dtr")),
    ("statement_adjustments", Some("dtr")),
    ("job_runs", Some("jobs")),
    ("documents", Some("documents")),
    ("pending_uploads", Some("documents")),
    ("users", Some("auth")),
    ("console_sessions", Some("auth")),
    ("cases", Some("bpm")),
    ("case_entities", Some("bpm")),
    ("case_types", Some("bpm")),
    ("case_statuses", Some("bpm")),
    ("case_step_configs", Some("bpm")),
    ("case_step_config_paths", Some("bpm")),
    ("case_type_first_steps", Some("bpm")),
    ("app_settings", None),
    ("id_sequences", None),
    ("audit_log", None),
    ("idempotency_keys", None),
];

/// Files that name another room's tables on purpose (ARCHITECTURE.md says why).
const CROSS_TABLE_FILES: &[(&str, &str)] = &[
    (
        "repairs/jobs.rs",
        "the Sunday posting marks installments posted and writes their ledger postings and balances in one set-based statement per batch",
    ),
    (
        "ledger/verify.rs",
        "the integrity check compares the ledger with the installments and invoices it settles",
    ),
    (
        "ledger/repo/interim.rs",
        "the cashier's list shows each payment's lease id, driver and medallion and filters by them, in one paged query",
    ),
    (
        "exports/tables.rs",
        "an export is one streamed query over the list it exports",
    ),
    (
        "repairs/query.rs",
        "the invoice list filters and sorts by driver inside its one paged query",
    ),
    (
        "reporting/repo.rs",
        "a report is one aggregate query over the tables it sums, with the names of its groups",
    ),
    // Migrations, the demo seed and the integration helpers create every table.
    ("db/migrations.rs", "migrations"),
    (
        "db/invoice_numbers.rs",
        "the upgrade's data step reads the invoice numbers it re-keys (the migration needs it before any feature runs)",
    ),
    ("seed.rs", "the demo data"),
];

/// Every table a feature file names in SQL belongs to its own room, or to the foundation.
#[test]
fn features_use_other_features_tables_only_through_their_repos() {
    let mut wrong = Vec::new();
    for (relative, text) in source_files() {
        if CROSS_TABLE_FILES.iter().any(|(f, _)| *f == relative) || relative == "architecture.rs" {
            continue;
        }
        let room = relative
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        // Unit tests may set up any table they need.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for keyword in ["FROM ", "JOIN ", "INTO ", "UPDATE "] {
            for (at, _) in code.match_indices(keyword) {
                let table: String = code[at + keyword.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let Some((_, owner)) = TABLES.iter().find(|(t, _)| *t == table) else {
                    continue;
                };
                if let Some(owner) = owner {
                    if *owner != room {
                        wrong.push(format!("{relative} uses {table} (owned by {owner})"));
                    }
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "cross-room SQL: {wrong:#?}");
}

/// Every source file below `src`: its path from there (with `/`) and its text.
fn source_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                let relative = path
                    .strip_prefix(&src)
                    .expect("under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((
                    relative,
                    std::fs::read_to_string(&path).expect("source readable"),
                ));
            }
        }
    }
    files
}

/// The Sunday chain's steps are registered with `jobs` by their features, so the jobs room
/// imports none of them; and a room's `routes` (its API handlers) are assembled by `http`
/// alone, so list filters and shared helpers live elsewhere (`query.rs`, `model.rs`).
#[test]
fn jobs_know_no_step_and_routes_are_for_http_alone() {
    let all = imports();
    let jobs = &all["jobs"];
    for feature in ["repairs", "fleet", "dtr", "ledger"] {
        assert!(!jobs.contains(feature), "jobs imports {feature}");
    }
    let mut wrong = Vec::new();
    for (relative, text) in source_files() {
        if relative.starts_with("http") || relative == "architecture.rs" {
            continue;
        }
        let room = relative
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        for (at, _) in text.match_indices("::routes::") {
            let owner: String = text[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if owner != "super" && owner != room {
                wrong.push(format!("{relative} uses {owner}::routes"));
            }
        }
    }
    assert!(wrong.is_empty(), "routes used outside http: {wrong:#?}");
}

/// A feature's `query.rs` parses what a list may ask and labels its rows; its SQL is in the
/// feature's `repo.rs`. (The repairs' filters still name their search subqueries there.)
#[test]
fn query_files_hold_no_sql() {
    let mut wrong = Vec::new();
    for (relative, text) in source_files() {
        if !relative.ends_with("/query.rs") || relative.starts_with("repairs/") {
            continue;
        }
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if ["sqlx::query", "SELECT ", " FROM ", "INSERT ", "UPDATE "]
                .iter()
                .any(|sql| code.contains(sql))
            {
                wrong.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(wrong.is_empty(), "SQL in query.rs: {wrong:#?}");
}
