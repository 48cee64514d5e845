//! The console, finished: no dead ends, lookups that forgive, every figure true, readable on
//! a phone, and the small guards — page by page over HTTP, and one walk in a real browser at
//! 390 px.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::Browser;
use crate::console::page_session;
use crate::helpers::TestApp;

/// A console client that does not follow redirects, signed in as `user`.
struct Desk {
    client: reqwest::Client,
    cookie: String,
}

impl Desk {
    async fn of(app: &TestApp, user: &str, password: &str) -> Desk {
        Desk {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: page_session(app, user, password).await.unwrap(),
        }
    }

    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String, String) {
        let response = self
            .client
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }

    async fn post(&self, app: &TestApp, path: &str, form: &str) -> (StatusCode, String, String) {
        let page = self.get(app, "/app/").await.2;
        let csrf = page
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let response = self
            .client
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}&{form}"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }
}

crate::both_backends! {
    async fn no_dead_ends_and_lookups_that_forgive(app) {
        let finance = Desk::of(app, "finance", "demo-finance").await;
        // A form's address opened as a page leads to its page.
        for (form, page) in [("/app/repairs/new", "/app/repairs"), ("/app/earnings/upload", "/app/earnings"),
                             ("/app/fleet/import", "/app/fleet/new"), ("/app/fleet/leases/1/terminate", "/app/fleet/leases/1"),
                             ("/app/admin/users/1/disable", "/app/admin/users"), ("/app/ledger/postings/1/void", "/app/ledger/postings/1")] {
            let (status, location, _) = finance.get(app, form).await;
            assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, page), "{form}");
        }
        // Error pages keep the console's navigation.
        let (status, _, page) = finance.get(app, "/app/no-such-page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("aria-label=\"Main\"") && page.contains("Vehicle Repairs"), "{page}");
        let (status, _, page) = finance.get(app, "/app/admin/users").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("aria-label=\"Main\""), "{page}");
        let deleted = finance.client.delete(app.url("/app/repairs")).header("cookie", &finance.cookie).send().await.unwrap();
        assert_eq!(deleted.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(deleted.text().await.unwrap().contains("aria-label=\"Main\""));

        // The cashier finds a lease by any case, part of it, a driver's name or TLC license.
        for typed in ["ls-01001", "LS-01001", "5100001", "ahmed khan"] {
            let (status, _, page) = finance.get(app, &format!("/app/interim-payments/new?lease={}", typed.replace(' ', "+"))).await;
            assert_eq!(status, StatusCode::OK, "{typed}");
            assert!(page.contains("Open balances of LS-01001"), "{typed}: {page}");
        }
        let (status, _, page) = finance.get(app, "/app/interim-payments/new?lease=LS-0100").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("several leases match") && page.contains("href=\"/app/interim-payments/new?lease=LS-01002\""), "{page}");
        // The leases list searches by lease id and driver.
        let (_, _, page) = finance.get(app, "/app/fleet/leases?search=ahmed").await;
        assert!(page.contains("LS-01001") && !page.contains("LS-01002"), "{page}");
        // Money as people type it.
        let (status, _, _) = finance.post(app, "/app/earnings", "lease_id=LS-01001&period=2026-11-22&amount=%241%2C234.56").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(app.scalar_i64("SELECT CAST(-SUM(amount_cents) AS BIGINT) FROM ledger_postings WHERE entry_type = 'EARNINGS'").await, 123456);
        // The API stays strict.
        let (status, _) = app.earnings(2, "2026-11-22", "$1,234.56").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // A new lease's manager by TLC license.
        let operations = Desk::of(app, "operations", "demo-operations").await;
        let (status, vehicle) = app.post_as("operations", "/fleet/vehicles", json!({"vin": "1HGCM82633A004352", "make": "Toyota", "model": "Camry", "year": 2024})).await;
        assert_eq!(status, StatusCode::CREATED, "{vehicle}");
        let (status, medallion) = app.post_as("operations", "/fleet/medallions", json!({"medallion_number": "9Q77"})).await;
        assert_eq!(status, StatusCode::CREATED, "{medallion}");
        let (status, location, page) = operations.post(app, "/app/fleet/new/lease",
            "lease_type=dov&weekly_rate=%24450&vehicle_id=1HGCM82633A004352&medallion_id=9Q77&start_date=2026-11-22&manager=5100001").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(location.starts_with("/app/fleet/leases/"), "{location}");
        // …and its medallion is assigned while the lease runs.
        let (_, medallions) = app.get_as("viewer", "/fleet/medallions?medallion_number=9Q77").await;
        assert_eq!(medallions["items"][0]["status"], "Assigned", "{medallions}");
    }

    async fn every_figure_is_the_true_one(app) {
        let viewer = Desk::of(app, "viewer", "demo-viewer").await;
        // A cancelled installment is not due.
        let repair_id = app.invoice_from_this_week(1, "100.00", "INV-DUE").await;
        let (_, _, page) = viewer.get(app, "/app/").await;
        assert!(page.contains("1 due, $"), "{page}");
        let (status, body) = app.post_as("operations", &format!("/payments/vehicle-repairs/{repair_id}/cancel"), json!({"reason": "entered twice"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, _, page) = viewer.get(app, "/app/").await;
        assert!(page.contains("0 due, $0.00"), "{page}");
        // A medallion whose only lease ended is Available again, in the API too.
        let medallion = app.scalar_i64("SELECT medallion_id FROM leases WHERE lease_id = 'LS-01004'").await;
        let (status, ended) = app.post_as("operations", "/fleet/leases/LS-01004/terminate", json!({"end_date": "2026-11-24", "reason": "completed"})).await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        let (_, found) = app.get_as("viewer", &format!("/fleet/medallions/{medallion}")).await;
        assert_eq!(found["status"], "Available", "{found}");
        // Statements list lease ids and drivers; the runs table its weeks and counts in words.
        assert_eq!(app.earnings(2, "2026-11-22", "500.00").await.0, StatusCode::CREATED);
        let (status, _) = app.post_as("finance", "/dtrs/generate", json!({"week": "2026-11-22"})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, page) = viewer.get(app, "/app/dtrs?week=2026-11-22&lease_id=LS-01002").await;
        assert!(page.contains(">LS-01002</a>"), "{page}");
        let (status, run) = app.post_as("finance", "/jobs/dtr.generate_weekly/run", json!({"as_of": "2026-11-25"})).await;
        assert!(status.is_success(), "{run}");
        let (_, _, page) = viewer.get(app, "/app/jobs").await;
        assert!(page.contains("Make the week's statements (DTRs)") && page.contains("11/15/2026 – 11/21/2026"), "{page}");
        assert!(!page.contains("created:"), "counts in words: {page}");
        // The wizard's live preview: week dates and the right plural.
        let (_, _, fragment) = viewer.get(app, "/app/repairs/schedule-preview?total_amount=%24100&start_week=2026-11-22").await;
        assert!(!fragment.contains("null") && fragment.contains("11/22/2026"), "{fragment}");
        assert!(fragment.contains("1 weekly installment of") || fragment.contains("weekly installments of"), "{fragment}");
        assert!(!fragment.contains("1 weekly installments"), "{fragment}");
    }

    async fn the_small_guards_hold(app) {
        // A hold says why in 10 to 500 characters, and the invoice shows it while held.
        let repair_id = app.invoice_from_this_week(1, "300.00", "INV-HOLD").await;
        let (status, problem) = app.post_as("operations", &format!("/payments/vehicle-repairs/{repair_id}/hold"), json!({"reason": "dispute"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("reason"), "{problem}");
        let (status, _) = app.post_as("operations", &format!("/payments/vehicle-repairs/{repair_id}/hold"), json!({"reason": "the workshop disputes the parts"})).await;
        assert_eq!(status, StatusCode::OK);
        let viewer = Desk::of(app, "viewer", "demo-viewer").await;
        let (_, _, page) = viewer.get(app, &format!("/app/repairs/{repair_id}")).await;
        assert!(page.contains("On hold: </strong>the workshop disputes the parts"), "{page}");
        // The invoice links its driver, vehicle and lease.
        for link in ["href=\"/app/fleet/drivers/", "href=\"/app/fleet/vehicles/", "href=\"/app/fleet/leases/"] {
            assert!(page.contains(link), "{link}: {page}");
        }
        // The last admin is not offered "Disable"; disabling asks for the tick.
        let admin = Desk::of(app, "admin", crate::helpers::ADMIN_PASSWORD).await;
        let (_, _, page) = admin.get(app, "/app/admin/users").await;
        assert!(page.contains("the only active admin") && !page.contains(">Disable admin<"), "{page}");
        let viewer_id = app.scalar_i64("SELECT id FROM users WHERE username = 'viewer'").await;
        let (status, _, page) = admin.post(app, &format!("/app/admin/users/{viewer_id}/disable"), "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM users WHERE id = {viewer_id} AND is_active = 1")).await, 1);
        let (status, location, _) = admin.post(app, &format!("/app/admin/users/{viewer_id}/disable"), "confirm=yes").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = admin.get(app, &location).await;
        assert!(page.contains("User viewer disabled."), "{page}");
        // Notices come from a fixed set: text in the address is never shown.
        let (_, _, page) = admin.get(app, "/app/admin/users?done=%3Cb%3EYou%20won%3C/b%3E&user=1").await;
        assert!(!page.contains("You won"), "{page}");

        // An unfinished case can be discarded, with its reason in its history.
        let operations = Desk::of(app, "operations", "demo-operations").await;
        let (_, case_page, _) = operations.post(app, "/app/repairs/new", "").await;
        let case_no = case_page.rsplit('/').next().unwrap().to_string();
        let (status, location, _) = operations.post(app, &format!("/app/cases/{case_no}/discard"), "reason=opened+by+mistake").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, list) = operations.get(app, &location).await;
        assert!(list.contains(&format!("Case {case_no} was discarded.")) && !list.contains(&format!("Resume {case_no}")), "{list}");
        let (_, history) = app.get_as("operations", &format!("/case-history/{case_no}")).await;
        assert!(history.to_string().contains("opened by mistake"), "{history}");

        // Two tabs sending other values for one case see the conflict.
        let (_, case_page, _) = operations.post(app, "/app/repairs/new", "").await;
        let (_, _, wizard) = operations.get(app, &format!("{case_page}?tlc_license_no=5100001")).await;
        let lease = wizard.split("name=\"lease\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let week = wizard.split("id=\"start_week\"").nth(1).unwrap().split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let form = |amount: &str| format!("tlc_license_no=5100001&lease={lease}&invoice_number=TAB-1&invoice_date=2026-11-20&workshop_type=Big+Apple+Workshop&total_amount={amount}&start_week={week}&action=create");
        let (status, first, page) = operations.post(app, &case_page, &form("100.00")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (status, again, _) = operations.post(app, &case_page, &form("100.00")).await;
        assert_eq!((status, again.as_str()), (StatusCode::SEE_OTHER, first.as_str()), "the same form again: the same invoice");
        let (status, _, page) = operations.post(app, &case_page, &form("200.00")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("already created invoice") && page.contains(first.trim_start_matches("/app/repairs/")), "{page}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices WHERE invoice_number = 'TAB-1'").await, 1);
    }
}

crate::both_backends! {
    async fn a_phone_reads_every_table_and_every_confirmation_passes_axe(app) {
        let Some(browser) = Browser::open(&app.address).await else { return };
        let repair_id = app.invoice_from_this_week(1, "300.00", "INV-PHONE").await;
        app.post_due("2026-11-25").await;
        browser.goto("/app/ledger").await;
        browser.sign_in("finance", "demo-finance").await;
        browser.narrow(390).await;
        // A wide table keeps its first column and says more columns are a swipe away; the
        // filters fold behind their toggle.
        browser.goto("/app/repairs").await;
        assert!(browser.text().await.contains("More columns: swipe the table sideways"), "{}", browser.text().await);
        let sticky = browser.js("return getComputedStyle(document.querySelector('.table-wrap td')).position").await;
        assert_eq!(sticky.as_str(), Some("sticky"));
        let folded = browser.js("return document.querySelector('details.filter-fold').open").await;
        assert_eq!(folded.as_bool(), Some(false));
        browser.screenshots("repairs-phone").await;
        browser.narrow(390).await;
        // No page is wider than the phone: the payment and receipt pages included.
        browser.goto("/app/interim-payments/new?lease=LS-01001").await;
        let wide = browser.js("return [document.documentElement.scrollWidth, Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391).slice(0, 1).map(e => { var out = []; for (var x = e; x; x = x.parentElement) { out.push(x.tagName + '.' + x.className + ' ' + Math.round(x.getBoundingClientRect().right) + ' ' + getComputedStyle(x).overflowX); } return out.join(' < '); })]").await;
        assert!(wide[0].as_i64().unwrap() <= 390, "{wide}");
        let balance = app.balance(&format!("{repair_id}-01")).await["id"].as_i64().unwrap();
        let (_, paid) = app.pay(1, balance, "100.00").await;
        let receipt = paid["receipt_number"].as_str().unwrap().to_string();
        browser.goto(&format!("/app/interim-payments/{receipt}")).await;
        let wide = browser.js("return [document.documentElement.scrollWidth, Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))]").await;
        assert!(wide[0].as_i64().unwrap() <= 390, "{wide}");
        // Every confirmation opened passes axe, the danger buttons' contrast included.
        browser.narrow(1280).await;
        for page in [format!("/app/repairs/{repair_id}"), "/app/fleet/leases/1".to_string(), "/app/ledger/postings/1".to_string()] {
            browser.goto(&page).await;
            browser.js("document.querySelectorAll('details').forEach(d => d.open = true); return true").await;
            browser.check_accessibility().await;
        }
        browser.close().await;
    }
}
