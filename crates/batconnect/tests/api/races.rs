//! The race harness in CI: every pair of money-writing actions (`race_kit::Action`) sent at
//! the same instant on a fresh lease, a few trials per pair on each backend; after each
//! trial `ledger verify` is clean, no answer is a 5xx, no installment is posted twice and
//! the lease's postings, allocations and balances add up. `cargo bench --bench races` runs
//! hundreds per pair and prints the matrix (README, "Money under concurrency").

use batconnect::db::Backend;

use crate::helpers::{Setup, TestApp};
use crate::race_kit::{run_pairs, Action};

/// Trials per pair: `BAT_RACE_TRIALS`, or 2 on PostgreSQL (where transactions truly
/// interleave) and 1 on SQLite (one writer: the pair takes turns).
fn trials(backend: Backend) -> u32 {
    std::env::var("BAT_RACE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(match backend {
            Backend::Postgres => 2,
            Backend::Sqlite => 1,
        })
}

/// The pairs are split into this many tests per backend, so they run side by side.
const PARTS: usize = 6;

async fn part(backend: Backend, index: usize) {
    let Some(app) = TestApp::spawn_with(
        backend,
        Setup {
            rent: true,
            ..Default::default()
        },
    )
    .await
    else {
        return;
    };
    let pairs = Action::pairs();
    let size = pairs.len().div_ceil(PARTS);
    let mine: Vec<_> = pairs.chunks(size).nth(index).unwrap_or_default().to_vec();
    let (matrix, defects) = run_pairs(&app, &mine, trials(backend), 0).await;
    eprintln!("{}", crate::race_kit::render(backend, &matrix));
    let trials_run: u32 = matrix.values().flat_map(|m| m.values()).sum();
    assert_eq!(trials_run as usize, mine.len() * trials(backend) as usize);
    assert!(
        defects.is_empty(),
        "{} defect(s) on {}:\n{}",
        defects.len(),
        backend.name(),
        defects.join("\n")
    );
    app.cleanup().await;
}

macro_rules! parts {
    ($($name:ident = $index:expr;)*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::part(batconnect::db::Backend::Sqlite, $index).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::part(batconnect::db::Backend::Postgres, $index).await;
                }
            }
        )*
    };
}

parts! {
    pairs_1 = 0;
    pairs_2 = 1;
    pairs_3 = 2;
    pairs_4 = 3;
    pairs_5 = 4;
    pairs_6 = 5;
}

crate::both_backends! {
    async fn voided_earnings_never_pay_while_the_statements_are_made(app) {
        // Every lease's earnings of the week, voided one after another while the week's
        // statements are made: whichever wins for a lease, a voided credit pays nothing.
        let mut postings = Vec::new();
        for lease in 1..=20 {
            app.obligation(lease, "Misc", "60.00", crate::race_kit::WEEK).await;
            let (status, body) = app.earnings(lease, crate::race_kit::WEEK, "45.00").await;
            assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
            postings.push(body[0]["posting_id"].as_i64().unwrap());
        }
        let token = app.token("finance").await;
        for round in 0..3 {
            let generate = app.client.post(app.url("/dtrs/generate")).bearer_auth(&token)
                .json(&serde_json::json!({"week": crate::race_kit::WEEK})).send();
            let voids = crate::helpers::join_all(postings.iter().enumerate().filter(|(i, _)| i % 3 == round).map(|(i, p)| {
                let request = app.client.post(app.url(&format!("/ledger/postings/{p}/void"))).bearer_auth(&token)
                    .json(&serde_json::json!({"reason": "recorded for the wrong week"})).send();
                async move {
                    tokio::time::sleep(std::time::Duration::from_millis(3 * i as u64)).await;
                    request.await.unwrap().status()
                }
            }));
            let (generated, statuses) = tokio::join!(generate, voids);
            let generated = generated.unwrap().status();
            assert!(generated.is_success() || generated == reqwest::StatusCode::CONFLICT, "{generated}");
            assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
            app.verify_ledger().await;
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_allocations a JOIN ledger_postings p ON p.id = a.payment_posting_id \
            WHERE p.status = 'VOIDED' AND a.reversed = 0").await, 0);
    }
}
