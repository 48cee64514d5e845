//! Which room of the crate may import which (ARCHITECTURE.md), checked on every test run:
//! the shared pieces below the features import no feature, and nothing but the application
//! assembly imports the HTTP front door, so the two can never form a cycle again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Below every feature: each may import only others of this list.
const FOUNDATION: &[&str] = &[
    "error", "db", "config", "cron", "clock", "stop", "storage", "audit",
];
/// What the features' HTTP handlers share; it sits on the foundation only.
const API_KIT: &str = "api";
/// The API's front door, assembled from the features' routers.
const HTTP: &str = "http";
/// The modules that may import the front door: the application assembly.
const ASSEMBLY: &[&str] = &["app"];

/// The top-level module of every source file and the crate modules it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).expect("under src");
            let module = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or_default()
                .trim_end_matches(".rs")
                .to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source readable");
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
