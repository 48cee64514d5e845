//! The race harness at length: every pair of money-writing actions, `BENCH_TRIALS` trials
//! each (default 100), on each backend in `BENCH_BACKENDS` (default `sqlite,postgres`), a
//! fresh service per pair. Prints the matrix of pairs × outcomes as Markdown, every defect
//! found, then one JSON line of totals; exits non-zero when any trial was a defect.
//!
//! `cargo bench --bench races` (README, "Money under concurrency").

#[allow(dead_code)]
#[path = "../tests/api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../tests/api/race_kit.rs"]
mod race_kit;

use batconnect::db::Backend;
use race_kit::{render, run_pairs, Action, Matrix, Outcome};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let trials: u32 = std::env::var("BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let mut totals = serde_json::Map::new();
    let mut failed = false;
    for name in backends.split(',').map(str::trim) {
        let backend = match name {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("BENCH_BACKENDS: unknown backend {other}"),
        };
        let started = std::time::Instant::now();
        let mut matrix = Matrix::new();
        let mut defects = Vec::new();
        for pair in Action::pairs() {
            let Some(app) = helpers::TestApp::spawn_with(
                backend,
                helpers::Setup {
                    rent: true,
                    ..Default::default()
                },
            )
            .await
            else {
                eprintln!("{name}: not reachable, skipped");
                break;
            };
            let (part, found) = run_pairs(&app, &[pair], trials, 0).await;
            matrix.extend(part);
            defects.extend(found);
            app.cleanup().await;
        }
        println!("{}", render(backend, &matrix));
        for d in &defects {
            println!("DEFECT {name}: {d}");
        }
        let mut counts = serde_json::Map::new();
        for outcome in Outcome::ALL {
            let n: u32 = matrix
                .values()
                .map(|m| m.get(&outcome).copied().unwrap_or(0))
                .sum();
            counts.insert(outcome.name().into(), n.into());
        }
        counts.insert("pairs".into(), matrix.len().into());
        counts.insert("trials_per_pair".into(), trials.into());
        counts.insert("seconds".into(), started.elapsed().as_secs().into());
        totals.insert(name.into(), counts.into());
        failed |= !defects.is_empty();
    }
    println!("{}", serde_json::Value::Object(totals));
    if failed {
        std::process::exit(1);
    }
}
