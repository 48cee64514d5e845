//! The finance desk in a real Chromium: earnings by CSV (a bad line fixed on the second
//! try), the week's statements regenerated, an installment paid and its invoice closed,
//! the earnings voided and what they paid reopened; the weekly run's "Run now"; a viewer
//! who can read every page and change nothing.

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;

use crate::browser::Browser;
use crate::helpers::TestApp;

async fn invoice_status(app: &TestApp, repair_id: &str) -> String {
    app.scalar_text(&format!(
        "SELECT status FROM repair_invoices WHERE repair_id = '{repair_id}'"
    ))
    .await
}

/// An invoice of one installment on lease 1, due in the week of 2026-11-22 and posted; the
/// clock then moves to Monday 2026-11-30, so that week is the last finished one.
async fn one_installment_due_last_week(app: &TestApp) -> String {
    let repair_id = app.invoice_from_this_week(1, "100.00", "FIN-100").await;
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE v.repair_id = '{repair_id}'"
        ))
        .await,
        1
    );
    app.post_due("2026-11-22").await;
    app.set_clock(Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap())
        .await;
    repair_id
}

crate::both_backends! {
    async fn a_finance_clerk_records_earnings_makes_statements_and_voids(app) {
        let repair_id = one_installment_due_last_week(app).await;
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/earnings").await;
        browser.sign_in("finance", "demo-finance").await;
        assert_eq!(browser.title().await, "Record earnings");

        // The file has a bad line: every problem is listed by line, nothing is written.
        let file = app.data_dir().join("earnings-week-47.csv");
        std::fs::write(&file, "lease_id,period,amount\nLS-01001,2026-11-22,500.00\nLS-99999,2026-11-22,10.00\n").unwrap();
        browser.labelled("Earnings CSV").await.send_keys(&file.display().to_string()).await.unwrap();
        browser.press("Upload and record").await;
        let problems = browser.find("section[aria-label='Problems in the file']").await.text().await.unwrap();
        assert!(problems.contains("line 3") && problems.contains("LS-99999"), "{problems}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 0);
        browser.screenshots("earnings-refused").await;
        // Fixed and sent again: recorded, and the page says what happens next.
        std::fs::write(&file, "lease_id,period,amount\nLS-01001,2026-11-22,500.00\n").unwrap();
        browser.labelled("Earnings CSV").await.send_keys(&file.display().to_string()).await.unwrap();
        browser.press("Upload and record").await;
        assert!(browser.text().await.contains("1 earnings row recorded."));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 1);

        // The week's statements, by default the last finished week.
        browser.goto("/app/dtrs").await;
        assert!(browser.text().await.contains("11/22/2026"));
        browser.reveal("Regenerate this week’s drafts…").await;
        browser.press("Regenerate drafts").await;
        assert!(browser.text().await.contains("made,") && browser.text().await.contains("replaced"), "{}", browser.text().await);
        browser.find("a[href^='/app/dtrs/']").await.click().await.unwrap();
        browser.find("section[aria-label='Summary']").await;
        let statement = browser.text().await;
        assert!(statement.contains("$500.00") && statement.contains(&repair_id), "{statement}");
        browser.screenshots("dtr").await;
        // The installment is paid and its invoice closed.
        assert_eq!(invoice_status(app, &repair_id).await, "Closed");
        browser.goto(&format!("/app/repairs/{repair_id}")).await;
        assert!(browser.text().await.contains("Paid"));

        // Voiding the earnings reopens what they paid.
        browser.goto("/app/ledger?entry_type=EARNINGS").await;
        browser.screenshots("ledger").await;
        browser.find("tbody a[href^='/app/ledger/postings/']").await.click().await.unwrap();
        browser.find("h1").await;
        let posting = browser.text().await;
        assert!(posting.contains("What it paid") && posting.contains(&repair_id), "{posting}");
        browser.reveal("Void this posting…").await;
        let consequence = browser.find("details.confirm p").await.text().await.unwrap();
        assert!(consequence.contains("reopens") && consequence.contains(&repair_id), "{consequence}");
        browser.fill("Reason (10 to 500 characters)", "entered for the wrong week").await;
        browser.find("#confirm").await.click().await.unwrap();
        browser.press("Void posting").await;
        let voided = browser.find("section[aria-label='Reversal']").await.text().await.unwrap();
        assert!(voided.contains("entered for the wrong week"), "{voided}");
        assert!(browser.text().await.contains("Reversed"));
        browser.screenshots("posting-voided").await;
        assert_eq!(invoice_status(app, &repair_id).await, "Open");
        app.verify_ledger().await;
        browser.close().await;
    }

    async fn the_weekly_run_page_runs_a_job_now(app) {
        app.invoice_from_this_week(2, "250.00", "RUN-1").await;
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/jobs").await;
        browser.sign_in("finance", "demo-finance").await;
        let schedule = browser.find("section[aria-label='Schedule']").await.text().await.unwrap();
        assert!(schedule.contains("EST"), "times name the zone: {schedule}");
        browser.reveal("Post due repair installments…").await;
        browser.press("Run now").await;
        // The page waits a moment for a short run; a slow machine may show it running first.
        let runs = browser.text_when("#runs", |runs| !runs.contains("running")).await;
        assert!(runs.contains("Post due repair installments") && runs.contains("succeeded") && runs.contains("finance"), "{runs}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_installments WHERE status = 'Posted'").await, 1);
        browser.screenshots("weekly-run").await;
        // A run going on elsewhere (a worker): the table follows it without a reload.
        let run = batconnect::jobs::repo::start_unscheduled(&app.db, "dtr.generate_weekly", "2026-11-15",
            domain::status::JobTrigger::Cli, "night-shift", "worker-7", "2026-11-25T15:00:00Z").await.unwrap();
        browser.goto("/app/jobs").await;
        assert_eq!(browser.find("#runs").await.attr("data-running").await.unwrap().as_deref(), Some("yes"));
        sqlx::query(&format!("UPDATE job_runs SET status = 'succeeded', heartbeat_on = '2026-11-25T15:00:07Z', finished_on = '2026-11-25T15:00:07Z' WHERE id = {run}"))
            .execute(app.db.reader()).await.unwrap();
        let text = browser.text_when("#runs", |text| text.contains("night-shift") && !text.contains("running")).await;
        assert!(text.contains("7 s"), "{text}");
        assert_eq!(browser.find("#runs").await.attr("data-running").await.unwrap().as_deref(), Some("no"));
        browser.close().await;
    }

    async fn a_viewer_reads_the_finance_pages_and_changes_nothing(app) {
        let repair_id = one_installment_due_last_week(app).await;
        assert_eq!(app.earnings(1, "2026-11-22", "500.00").await.0, StatusCode::CREATED);
        let (status, _) = app.post_as("finance", "/dtrs/generate", serde_json::json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK);
        let posting = app.scalar_i64("SELECT id FROM ledger_postings WHERE entry_type = 'EARNINGS'").await;
        let dtr = app.scalar_i64("SELECT id FROM dtrs WHERE lease_id = 1").await;
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/ledger").await;
        browser.sign_in("viewer", "demo-viewer").await;
        for page in ["/app/ledger".to_string(), "/app/ledger/balances".into(), format!("/app/ledger/postings/{posting}"),
                     "/app/earnings".into(), "/app/dtrs".into(), format!("/app/dtrs/{dtr}"), "/app/jobs".into(), "/app/interim-payments".into()] {
            browser.goto(&page).await;
            assert_eq!(browser.path().await, page);
            for action in ["Void this posting…", "Record earnings", "Upload and record", "Finalize this statement…",
                           "Regenerate this week’s drafts…", "Run now"] {
                assert!(!browser.has_button(action).await, "{page} offers a viewer {action}");
            }
        }
        assert!(!browser.text().await.contains("Take a payment"), "a viewer is not offered the cashier's window");
        // A form sent anyway (a crafted request with the viewer's own session) is refused.
        let cookie = browser.session_cookie().await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/ledger")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        for (path, body) in [
            (format!("/app/ledger/postings/{posting}/void"), format!("_csrf={csrf}&reason=not+allowed+at+all&confirm=yes")),
            (format!("/app/dtrs/{dtr}/finalize"), format!("_csrf={csrf}&confirm=yes")),
            ("/app/dtrs/generate".to_string(), format!("_csrf={csrf}&week=2026-11-22")),
            ("/app/earnings".to_string(), format!("_csrf={csrf}&lease_id=2&period=2026-11-22&amount=5.00")),
            ("/app/jobs/repairs.post_due_installments/run".to_string(), format!("_csrf={csrf}&as_of=2026-11-30")),
            ("/app/interim-payments/new".to_string(), format!("_csrf={csrf}&lease=LS-01001&amount=5.00&payment_method=Cash&action=take")),
        ] {
            let answer = client.post(app.url(&path)).header("cookie", format!("bat_session={cookie}"))
                .header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(app.scalar_text(&format!("SELECT status FROM ledger_postings WHERE id = {posting}")).await, "POSTED");
        assert_eq!(app.scalar_text(&format!("SELECT status FROM dtrs WHERE id = {dtr}")).await, "Draft");
        assert_eq!(invoice_status(app, &repair_id).await, "Closed");
        browser.close().await;
    }
}

crate::both_backends! {
    async fn an_operations_clerk_keeps_the_fleet_records(app) {
        let repair_id = app.create_invoice(1, "900.00", "FLT-1").await;
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/fleet/leases").await;
        browser.sign_in("operations", "demo-operations").await;
        browser.find("a[href='/app/fleet/leases/1']").await.click().await.unwrap();
        browser.find("form[aria-label='Additional drivers']").await;
        assert_eq!(browser.title().await, "Lease LS-01001");
        // A driver who does not exist is named at the field; the right one is saved.
        browser.fill("Additional drivers (driver ids or TLC licenses, separated by commas)", "DRV-999999").await;
        browser.press("Save drivers").await;
        assert!(browser.text().await.contains("no driver"), "{}", browser.text().await);
        // The demo lease has one additional driver; she is replaced by driver 2.
        browser.fill("Additional drivers (driver ids or TLC licenses, separated by commas)", "DRV-000002").await;
        browser.press("Save drivers").await;
        let drivers = browser.find("section[aria-label='Drivers']").await.text().await.unwrap();
        assert!(drivers.contains("DRV-000002") && !drivers.contains("DRV-000021"), "{drivers}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM lease_drivers WHERE lease_id = 1 AND is_additional_driver = 1").await, 1);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'lease_drivers_changed'").await, 1);
        browser.screenshots("lease").await;
        // A driver's phone: a bad one is refused at the field, a good one saved.
        browser.goto("/app/fleet/drivers/1").await;
        browser.fill("Phone", "12").await;
        browser.press("Save driver").await;
        assert!(browser.find("#phone-error").await.text().await.unwrap().contains("7 digits"));
        // A control character (pasted from elsewhere) is refused beside its field, what was typed kept.
        let phone_before = app.scalar_text("SELECT COALESCE(phone, '') FROM drivers WHERE id = 1").await;
        browser.client.execute("document.querySelector('#phone').value = '(718) 555\\u0001-0142'", vec![]).await.unwrap();
        browser.press("Save driver").await;
        let page = browser.text().await;
        assert!(page.contains("Nothing was saved"), "{} {page}", browser.path().await);
        let error = browser.find("#phone-error").await.text().await.unwrap();
        assert!(error.contains("control character"), "{error}");
        assert_eq!(browser.find("#phone").await.prop("value").await.unwrap().as_deref(), Some("(718) 555-0142"));
        assert!(browser.text().await.contains("Nothing was saved"));
        browser.screenshots("driver-refused").await;
        assert_eq!(app.scalar_text("SELECT COALESCE(phone, '') FROM drivers WHERE id = 1").await, phone_before, "nothing was saved");
        browser.press("Save driver").await;
        assert_eq!(app.scalar_text("SELECT phone FROM drivers WHERE id = 1").await, "(718) 555-0142");
        // The session ends while a form that posts to its own page is open: back to that page.
        sqlx::query("DELETE FROM console_sessions").execute(app.db.reader()).await.unwrap();
        browser.fill("Phone", "(718) 555-0199").await;
        browser.press("Save driver").await;
        assert!(browser.text().await.contains("nothing was saved"), "{}", browser.text().await);
        browser.sign_in("operations", "demo-operations").await;
        assert_eq!(browser.path().await, "/app/fleet/drivers/1");
        assert_eq!(app.scalar_text("SELECT phone FROM drivers WHERE id = 1").await, "(718) 555-0142");
        // The vehicle's page: its repair history with the total repair cost.
        browser.goto("/app/fleet/vehicles/1").await;
        let history = browser.find("section[aria-label='Repair history']").await.text().await.unwrap();
        assert!(history.contains(&repair_id) && history.contains("$900.00"), "{history}");
        browser.fill("Plate number", "t700999c").await;
        browser.press("Save plate").await;
        assert_eq!(app.scalar_text("SELECT plate_number FROM vehicles WHERE id = 1").await, "T700999C");
        browser.screenshots("vehicle").await;
        // A lease ends through the lease-end flow, with its confirmation.
        // A refused end comes back as it was typed: sent again as shown, it does what was asked.
        browser.goto("/app/fleet/leases/3").await;
        browser.reveal("End this lease…").await;
        browser.client.execute("document.querySelector('#end_date').value = '2020-01-02'", vec![]).await.unwrap();
        browser.find("#reason option[value='completed']").await.click().await.unwrap();
        browser.fill("Note", "term over, keys returned").await;
        browser.find("#confirm").await.click().await.unwrap();
        browser.press("End lease").await;
        assert!(browser.find("#end_date-error").await.text().await.unwrap().contains("before the lease started"));
        assert_eq!(browser.find("#end_date").await.prop("value").await.unwrap().as_deref(), Some("2020-01-02"));
        assert_eq!(browser.find("#reason").await.prop("value").await.unwrap().as_deref(), Some("completed"));
        assert_eq!(browser.find("#note").await.prop("value").await.unwrap().as_deref(), Some("term over, keys returned"));
        assert_eq!(browser.find("#confirm").await.prop("checked").await.unwrap().as_deref(), Some("true"));
        browser.screenshots("lease-end-refused").await;
        assert_eq!(app.scalar_text("SELECT status FROM leases WHERE id = 3").await, "Active");
        // The session ends while the form is open: sign-in says nothing was saved, then leads back to it.
        browser.goto("/app/fleet/leases/3").await;
        browser.reveal("End this lease…").await;
        sqlx::query("DELETE FROM console_sessions").execute(app.db.reader()).await.unwrap();
        browser.find("#confirm").await.click().await.unwrap();
        browser.press("End lease").await;
        assert!(browser.path().await.starts_with("/app/sign-in"), "{}", browser.path().await);
        assert!(browser.text().await.contains("nothing was saved"), "{}", browser.text().await);
        browser.sign_in("operations", "demo-operations").await;
        assert_eq!(browser.path().await, "/app/fleet/leases/3");
        assert_eq!(app.scalar_text("SELECT status FROM leases WHERE id = 3").await, "Active");
        browser.reveal("End this lease…").await;
        browser.client.execute("document.querySelector('#end_date').value = '2026-11-25'", vec![]).await.unwrap();
        browser.find("#reason option[value='completed']").await.click().await.unwrap();
        browser.fill("Note", "term over, keys returned").await;
        browser.find("#confirm").await.click().await.unwrap();
        browser.press("End lease").await;
        assert!(browser.text().await.contains("The lease ended on 11/25/2026"), "{}", browser.text().await);
        assert_eq!(app.scalar_text("SELECT status FROM leases WHERE id = 3").await, "Expired");
        assert_eq!(app.scalar_text("SELECT termination_note FROM leases WHERE id = 3").await, "term over, keys returned");
        browser.close().await;
    }

    async fn a_viewer_reads_the_fleet_pages_and_changes_nothing(app) {
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/fleet/drivers").await;
        browser.sign_in("viewer", "demo-viewer").await;
        for page in ["/app/fleet/drivers", "/app/fleet/drivers/1", "/app/fleet/leases", "/app/fleet/leases/1",
                     "/app/fleet/vehicles", "/app/fleet/vehicles/1", "/app/fleet/medallions", "/app/fleet/medallions/1"] {
            browser.goto(page).await;
            assert_eq!(browser.path().await, page);
            for action in ["Save drivers", "Save driver", "Save plate", "End this lease…"] {
                assert!(!browser.has_button(action).await, "{page} offers a viewer {action}");
            }
        }
        let cookie = browser.session_cookie().await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/fleet/leases/1")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        for (path, body) in [
            ("/app/fleet/leases/1/drivers", format!("_csrf={csrf}&additional_drivers=DRV-000002")),
            ("/app/fleet/drivers/1", format!("_csrf={csrf}&phone=7185550142")),
            ("/app/fleet/vehicles/1", format!("_csrf={csrf}&plate_number=X1")),
            ("/app/fleet/leases/1/terminate", format!("_csrf={csrf}&end_date=2026-11-25&reason=other&confirm=yes")),
        ] {
            let answer = client.post(app.url(path)).header("cookie", format!("bat_session={cookie}"))
                .header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(app.scalar_text("SELECT status FROM leases WHERE id = 1").await, "Active");
        browser.close().await;
    }
}

crate::both_backends! {
    async fn an_admin_manages_users_and_cannot_lock_everyone_out(app) {
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/admin/users").await;
        browser.sign_in("admin", crate::helpers::ADMIN_PASSWORD).await;
        assert_eq!(browser.title().await, "Users");
        // A weak password is refused beside its field; the name and roles stay as typed.
        browser.fill("Username", "clerk2").await;
        browser.fill("Password", "short").await;
        browser.find("#new-role-finance").await.click().await.unwrap();
        browser.press("Create user").await;
        assert!(browser.find("#password-error").await.text().await.unwrap().contains("at least 8"), "{}", browser.text().await);
        assert_eq!(browser.labelled("Username").await.prop("value").await.unwrap().as_deref(), Some("clerk2"));
        assert_eq!(browser.find("#new-role-finance").await.prop("checked").await.unwrap().as_deref(), Some("true"));
        assert_eq!(browser.find("#new-role-viewer").await.prop("checked").await.unwrap().as_deref(), Some("true"));
        browser.screenshots("user-refused").await;
        browser.fill("Password", "a-long-enough-pass").await;
        browser.press("Create user").await;
        assert!(browser.text().await.contains("User clerk2 created."));
        let id = app.scalar_i64("SELECT id FROM users WHERE username = 'clerk2'").await;
        browser.reveal("Change clerk2…").await;
        // Disabling asks for the tick first.
        browser.labelled("Yes, disable clerk2").await.click().await.unwrap();
        browser.press("Disable clerk2").await;
        assert!(browser.text().await.contains("User clerk2 disabled."), "{}", browser.text().await);
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM users WHERE id = {id} AND is_active = 0")).await, 1);
        // The only admin is not offered "Disable"; the page says why.
        let admin = app.scalar_i64("SELECT id FROM users WHERE username = 'admin'").await;
        browser.reveal("Change admin…").await;
        assert!(browser.text().await.contains("admin is the only active admin and cannot be disabled"), "{}", browser.text().await);
        assert!(!browser.html().await.contains("Disable admin"));
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM users WHERE id = {admin} AND is_active = 1")).await, 1);
        browser.screenshots("users").await;
        browser.close().await;
        // Nobody but an admin sees the page.
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/admin/users").await;
        browser.sign_in("finance", "demo-finance").await;
        assert!(browser.text().await.contains("You do not have the rights"), "{}", browser.text().await);
        browser.close().await;
    }
}

crate::both_backends! {
    async fn a_cashier_takes_an_interim_payment_after_reviewing_it(app) {
        let misc = app.obligation(2, "Misc", "50.00", "2026-11-15").await;
        let taxes = app.obligation(2, "Taxes", "30.00", "2026-11-22").await;
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/interim-payments").await;
        browser.sign_in("finance", "demo-finance").await;
        browser.find("a[href='/app/interim-payments/new']").await.click().await.unwrap();
        browser.fill("Lease (its id or part of it, a driver's name or TLC license)", "LS-01002").await;
        browser.press("Show open balances").await;
        // The hierarchy's order: Taxes before Misc, whatever their due dates.
        let rows = browser.find("div[aria-label='Open balances'] tbody").await.text().await.unwrap();
        assert!(rows.find("Taxes").unwrap() < rows.find("Misc").unwrap(), "{rows}");
        browser.fill("Amount paid ($)", "100.00").await;
        browser.press("Review").await;
        let review = browser.find("section[aria-label='Review']").await.text().await.unwrap();
        assert!(review.contains("$80.00") && review.contains("$20.00"), "{review}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM interim_payments").await, 0, "a review writes nothing");
        browser.screenshots("interim-review").await;
        browser.press("Take payment").await;
        let title = browser.title().await;
        assert!(title.starts_with("Receipt IP-2026-"), "{title}");
        let payment = browser.find("section[aria-label='Payment']").await.text().await.unwrap();
        assert!(payment.contains("$100.00") && payment.contains("$20.00"), "{payment}");
        for balance in [misc, taxes] {
            assert_eq!(app.scalar_i64(&format!("SELECT balance_cents FROM ledger_balances WHERE id = {balance}")).await, 0);
        }
        let href = browser.find("a[href$='/receipt']").await.attr("href").await.unwrap().unwrap();
        let cookie = browser.session_cookie().await;
        let pdf = reqwest::Client::new().get(app.url(&href)).header("cookie", format!("bat_session={cookie}")).send().await.unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
        browser.goto("/app/interim-payments").await;
        assert!(browser.text().await.contains(title.trim_start_matches("Receipt ")));
        browser.close().await;
    }
}

crate::both_backends! {
    async fn an_operations_clerk_creates_and_imports_fleet_records(app) {
        let Some(browser) = Browser::open(&app.address).await else { return };
        browser.goto("/app/fleet/new").await;
        browser.sign_in("operations", "demo-operations").await;
        // A VIN that is not one is refused at its field; nothing is written.
        browser.fill("VIN", "NOT-A-VIN").await;
        browser.fill("Make", "Ford").await;
        browser.fill("Model", "Transit").await;
        browser.fill("Year", "2025").await;
        browser.press("Create vehicle").await;
        assert!(browser.find("#vin-error").await.text().await.unwrap().contains("17"));
        assert_eq!(browser.find("#make").await.prop("value").await.unwrap().as_deref(), Some("Ford"));
        browser.fill("VIN", "1FTBR1Y8XNKA55555").await;
        browser.press("Create vehicle").await;
        assert!(browser.title().await.contains("1FTBR1Y8XNKA55555"));
        // Medallions from a file: a bad line is listed, the fixed file imports.
        browser.goto("/app/fleet/new").await;
        let file = app.data_dir().join("medallions.csv");
        std::fs::write(&file, "medallion_number\n9Z11\nnot a medallion!\n").unwrap();
        browser.labelled("CSV file").await.send_keys(&file.display().to_string()).await.unwrap();
        browser.find("#entity option[value='medallions']").await.click().await.unwrap();
        browser.press("Import").await;
        let problems = browser.find("section[aria-label='Problems in the file']").await.text().await.unwrap();
        assert!(problems.contains("line 3"), "{problems}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM medallions WHERE medallion_number = '9Z11'").await, 0);
        std::fs::write(&file, "medallion_number\n9Z11\n").unwrap();
        browser.labelled("CSV file").await.send_keys(&file.display().to_string()).await.unwrap();
        browser.find("#entity option[value='medallions']").await.click().await.unwrap();
        browser.press("Import").await;
        assert!(browser.text().await.contains("1 medallion imported."), "{}", browser.text().await);
        // A lease on them, managed by a demo driver.
        browser.find("#lease_type option[value='shift-lease']").await.click().await.unwrap();
        browser.fill("Weekly rate ($)", "350.00").await;
        browser.fill("Vehicle (VIN)", "1FTBR1Y8XNKA55555").await;
        browser.fill("Medallion (its number)", "9Z11").await;
        browser.fill("Driver manager (driver id or TLC license)", "DRV-000002").await;
        browser.press("Create lease").await;
        let title = browser.title().await;
        assert!(title.starts_with("Lease LS-"), "{title}: {}", browser.text().await);
        assert!(browser.find("section[aria-label='Drivers']").await.text().await.unwrap().contains("driver manager"));
        browser.screenshots("new-lease").await;
        browser.close().await;
    }
}
