//! A console form that moves money is taken once, and "Take payment" takes what was
//! reviewed (`web::once`, the cashier's review fingerprint).

use reqwest::StatusCode;

use crate::both_backends;
use crate::helpers::TestApp;
use crate::race_kit::Console;

/// The value of a hidden field on a page.
fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_else(|| panic!("no {name} on the page"))
        .to_string()
}

async fn payments(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'INTERIM_PAYMENT'")
        .await
}

both_backends! {
    async fn a_payment_form_sent_twice_takes_one_payment(app) {
        app.obligation(2, "Misc", "700.00", "2026-11-22").await;
        let console = Console::sign_in(app, "finance").await;
        let fields = |amount: &'static str| vec![("lease", "LS-01002"), ("amount", amount), ("payment_method", "Cash")];
        // Review $5.00: nothing is taken, the page carries the form's token and what was reviewed.
        let mut review = fields("5.00");
        review.push(("action", "review"));
        let (status, _, page) = console.post(app, "/app/interim-payments/new", &review).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(payments(app).await, 0);
        let (once, reviewed) = (hidden(&page, "_once"), hidden(&page, "reviewed"));
        // Changed to $600 after the review, then "Take payment": the new review, nothing taken.
        let mut changed = fields("600.00");
        changed.extend([("action", "take"), ("_once", once.as_str()), ("reviewed", reviewed.as_str())]);
        let (status, _, page) = console.post(app, "/app/interim-payments/new", &changed).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("changed after it was reviewed"), "{page}");
        assert!(page.contains("$600.00"), "the new review shows the new amount");
        assert_eq!(payments(app).await, 0, "nothing is taken without a review of it");
        // The reviewed $5.00, taken: one payment, however often the form is sent.
        let mut take = fields("5.00");
        take.extend([("action", "take"), ("_once", once.as_str()), ("reviewed", reviewed.as_str())]);
        let (first, location, _) = console.post(app, "/app/interim-payments/new", &take).await;
        assert_eq!(first, StatusCode::SEE_OTHER);
        assert!(location.starts_with("/app/interim-payments/IP-"), "{location}");
        for _ in 0..2 {
            let (again, same, _) = console.post(app, "/app/interim-payments/new", &take).await;
            assert_eq!((again, same.as_str()), (StatusCode::SEE_OTHER, location.as_str()), "a resent form leads to the first result");
        }
        assert_eq!(payments(app).await, 1);
        assert_eq!(app.scalar_i64("SELECT -amount_cents FROM ledger_postings WHERE entry_type = 'INTERIM_PAYMENT'").await, 500);
        // Two tabs sending it at the same instant: still one payment.
        let sends = (console.post(app, "/app/interim-payments/new", &take), console.post(app, "/app/interim-payments/new", &take));
        let (a, b) = tokio::join!(sends.0, sends.1);
        assert_eq!((a.0, b.0), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
        assert_eq!(payments(app).await, 1);
        // The same token with other fields: refused, naming the first result.
        let mut other = fields("7.00");
        other.extend([("action", "take"), ("_once", once.as_str()), ("reviewed", reviewed.as_str())]);
        let (status, _, page) = console.post(app, "/app/interim-payments/new", &other).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let receipt = location.rsplit('/').next().unwrap();
        assert!(page.contains(receipt) && page.contains(&location), "the 409 page names {receipt}: {page}");
        assert_eq!(payments(app).await, 1);
        // A form opened afresh is a new form: a second payment is taken.
        let (_, _, fresh) = console.post(app, "/app/interim-payments/new", &review).await;
        let mut again = fields("5.00");
        let reviewed2 = hidden(&fresh, "reviewed");
        let page = reqwest::Client::new().get(app.url("/app/interim-payments/new?lease=LS-01002"))
            .header("cookie", format!("bat_session={}", console.cookie)).send().await.unwrap().text().await.unwrap();
        let new_once = hidden(&page, "_once");
        assert_ne!(new_once, once);
        again.extend([("action", "take"), ("_once", new_once.as_str()), ("reviewed", reviewed2.as_str())]);
        let (status, second, _) = console.post(app, "/app/interim-payments/new", &again).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_ne!(second, location);
        assert_eq!(payments(app).await, 2);
        app.verify_ledger().await;
    }

    async fn money_forms_sent_twice_act_once(app) {
        let console = Console::sign_in(app, "finance").await;
        // Earnings by form: the same token twice records once and shows the first result.
        let earnings = [("lease_id", "LS-01003"), ("period", "2026-11-22"), ("amount", "410.00"), ("_once", "tok-earnings-1")];
        let (first, location, _) = console.post(app, "/app/earnings", &earnings).await;
        assert_eq!(first, StatusCode::SEE_OTHER);
        let (again, same, _) = console.post(app, "/app/earnings", &earnings).await;
        assert_eq!((again, same), (StatusCode::SEE_OTHER, location));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 1);
        // A void sent twice: one reversal, the second send shows the voided posting.
        let posting = app.scalar_i64("SELECT id FROM ledger_postings WHERE entry_type = 'EARNINGS'").await;
        let void = [("reason", "recorded for the wrong lease"), ("confirm", "yes"), ("_once", "tok-void-1")];
        let path = format!("/app/ledger/postings/{posting}/void");
        let (first, location, _) = console.post(app, &path, &void).await;
        assert_eq!(first, StatusCode::SEE_OTHER);
        let (again, same, _) = console.post(app, &path, &void).await;
        assert_eq!((again, same), (StatusCode::SEE_OTHER, location), "not a second void's 'already voided'");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'REVERSAL'").await, 1);
        // A run sent twice starts one run.
        let run = [("as_of", "2026-11-25"), ("_once", "tok-run-1")];
        for _ in 0..2 {
            let (status, _, _) = console.post(app, "/app/jobs/repairs.post_due_installments/run", &run).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM job_runs WHERE job_name = 'repairs.post_due_installments'").await, 1);
        app.verify_ledger().await;
    }
}

both_backends! {
    async fn the_wizard_shows_an_invoice_number_clash_beside_its_field_with_a_link(app) {
        let first = app.create_invoice(1, "300.00", "BAW-5555").await;
        let case_no = app.create_repair_case().await;
        let console = Console::sign_in(app, "operations").await;
        let fields = [("tlc_license_no", "5100001"), ("lease", "1"), ("invoice_number", "baw.5555"), ("invoice_date", "2026-11-20"),
                      ("workshop_type", "Big Apple Workshop"), ("total_amount", "300.00"), ("start_week", "2026-11-29"), ("action", "preview")];
        let (status, _, page) = console.post(app, &format!("/app/cases/{case_no}"), &fields).await;
        assert!(status.is_client_error(), "{status}");
        let field = page.split("id=\"invoice_number\"").nth(1).expect("the invoice number field");
        let beside = &field[..field.find("Invoice date").unwrap_or(field.len())];
        assert!(beside.contains(&format!("already recorded as {first}")), "the clash is at its field: {beside}");
        assert!(beside.contains(&format!("href=\"/app/repairs/{first}\"")), "with a link to {first}: {beside}");
    }
}
