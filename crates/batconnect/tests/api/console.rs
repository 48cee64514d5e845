//! The console in a real Chromium: sign-in and sign-out, the "Create Repair Invoice"
//! wizard from the button to the invoice page (a validation error corrected on the way,
//! a double submit), list filters and an export, hold and cancel, roles and CSRF.

use reqwest::StatusCode;

use crate::browser::Browser;
use crate::helpers::TestApp;

/// The demo's first driver (Ahmed Khan) and his lease.
const TLC: &str = "5100001";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn open(app: &TestApp) -> Option<Browser> {
    Browser::open(&app.address).await
}

crate::both_backends! {
    async fn the_wizard_creates_one_invoice_from_the_button_to_its_page(app) {
        let Some(browser) = open(app).await else { return };
        browser.goto("/app/repairs").await;
        assert!(browser.path().await.starts_with("/app/sign-in"), "not signed in: sent to sign-in");
        browser.sign_in("operations", "demo-operations").await;
        assert_eq!(browser.path().await, "/app/repairs");
        browser.press("Create Repair Invoice").await;
        assert_eq!(browser.title().await, "Create Repair Invoice");
        // An unfinished case can be found from the list and resumed.
        let case_no = app.scalar_text("SELECT case_no FROM cases").await;
        browser.goto("/app/repairs").await;
        browser.find(&format!("a[href='/app/cases/{case_no}']")).await.click().await.unwrap();
        browser.find("#tlc_license_no").await;
        assert_eq!(browser.path().await, format!("/app/cases/{case_no}"));
        browser.fill("TLC license number", TLC).await;
        browser.press("Find driver").await;
        assert!(browser.text().await.contains("Ahmed Khan"));
        browser.screenshots("wizard").await;
        browser.fill("Invoice number", "BAW-2001").await;
        browser.fill("Invoice date", "11202026").await;
        browser.fill("Total amount", "12.345").await;
        browser.press("Create invoice").await;
        // The error sits next to its field; nothing was written.
        let error = browser.find("#total_amount-error").await.text().await.unwrap();
        assert!(error.contains("two decimals"), "{error}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        assert_eq!(browser.find("#invoice_number").await.prop("value").await.unwrap().as_deref(), Some("BAW-2001"));
        browser.fill("Total amount", "1234.56").await;
        // The schedule follows the amount as it is typed…
        let started = std::time::Instant::now();
        loop {
            let live = browser.find("#preview").await.text().await.unwrap();
            if live.contains("5 weekly installments of $250.00") {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "no live preview: {live}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // …and the button previews it too (without JavaScript, the only way).
        browser.press("Preview schedule").await;
        let preview = browser.find("section[aria-label='Schedule preview']").await.text().await.unwrap();
        assert!(preview.contains("5 weekly installments of $250.00"), "{preview}");
        assert!(preview.contains("$234.56"), "{preview}");
        browser.screenshots("wizard-preview").await;
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        // A junk file is refused beside its field; what was typed stays, nothing is saved.
        let junk = app.data_dir().join("notes.txt");
        std::fs::write(&junk, "not an invoice").unwrap();
        browser.labelled("Workshop's invoice file (PDF, JPEG or PNG, optional)").await.send_keys(&junk.display().to_string()).await.unwrap();
        browser.press("Create invoice").await;
        let error = browser.find("#file-error").await.text().await.unwrap();
        assert!(error.contains("PDF"), "{error}");
        assert_eq!(browser.find("#total_amount").await.prop("value").await.unwrap().as_deref(), Some("1234.56"));
        assert_eq!(browser.find("#invoice_number").await.prop("value").await.unwrap().as_deref(), Some("BAW-2001"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM documents").await, 0);
        browser.screenshots("wizard-file-refused").await;
        // The workshop's file sent with a form refused for another reason is kept: shown by
        // name, it goes with the corrected form without being chosen again.
        let scan = app.data_dir().join("BAW-2001 scan.pdf");
        std::fs::write(&scan, PDF).unwrap();
        browser.labelled("Workshop's invoice file (PDF, JPEG or PNG, optional)").await.send_keys(&scan.display().to_string()).await.unwrap();
        browser.fill("Total amount", "12.345").await;
        browser.press("Create invoice").await;
        assert!(browser.find("#total_amount-error").await.text().await.unwrap().contains("two decimals"));
        let kept = browser.find(".pending-file").await.text().await.unwrap();
        assert!(kept.contains("BAW-2001 scan.pdf"), "{kept}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pending_uploads").await, 1);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 0);
        browser.screenshots("wizard-file-kept").await;
        browser.fill("Total amount", "1234.56").await;
        browser.press("Create invoice").await;
        let title = browser.title().await;
        assert!(title.starts_with("Repair invoice RPR-"), "{title}");
        let invoice_path = browser.path().await;
        let page = browser.text().await;
        assert!(page.contains("$1,234.56") && page.contains("BAW-2001") && page.contains("Ahmed Khan"), "{page}");
        assert!(page.contains("BAW-2001 scan.pdf"), "the wizard's file is on the invoice: {page}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pending_uploads").await, 0, "the kept file was claimed");
        // Another document from the invoice page, then both download.
        let photo = app.data_dir().join("damage.png");
        std::fs::write(&photo, PNG).unwrap();
        browser.labelled("Attach a document (PDF, JPEG or PNG)").await.send_keys(&photo.display().to_string()).await.unwrap();
        browser.press("Upload").await;
        assert!(browser.text().await.contains("damage.png"));
        let href = browser.find("#documents + ul a").await.attr("href").await.unwrap().unwrap();
        let cookie = browser.session_cookie().await;
        let file = reqwest::Client::new().get(app.url(&href)).header("cookie", format!("bat_session={cookie}")).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
        browser.screenshots("invoice").await;
        // The case again (another tab, a bookmark): it leads to the invoice it created.
        browser.goto(&format!("/app/cases/{case_no}")).await;
        assert_eq!(browser.path().await, invoice_path);
        // The same form posted a second time (a double click that got through, a resent
        // form): the same invoice, not a second one.
        let cookie = browser.session_cookie().await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let lease = app.scalar_i64("SELECT lease_id FROM repair_invoices").await;
        let again = client.post(app.url(&format!("/app/cases/{case_no}"))).header("cookie", format!("bat_session={cookie}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}&tlc_license_no={TLC}&lease={lease}&invoice_number=BAW-2001&invoice_date=2026-11-20&workshop_type=Big+Apple+Workshop&total_amount=1234.56&start_week=2026-11-22&action=create"))
            .send().await.unwrap();
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(again.headers()["location"].to_str().unwrap(), invoice_path);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);

        // Hold with a reason, then cancel with the confirmation ticked.
        browser.reveal("Put on hold…").await;
        browser.fill("Reason (10 to 500 characters)", "workshop dispute").await;
        browser.press("Put on hold").await;
        assert!(browser.text().await.contains("workshop dispute"));
        assert!(browser.find(".actions .badge").await.text().await.unwrap() == "Hold");
        browser.reveal("Cancel invoice…").await;
        let reason = browser.find("#reason-cancel").await;
        reason.send_keys("entered twice").await.unwrap();
        browser.find("#confirm-cancel").await.click().await.unwrap();
        browser.press("Cancel invoice").await;
        assert_eq!(browser.find(".actions .badge").await.text().await.unwrap(), "Cancelled");
        assert_eq!(app.scalar_text("SELECT status FROM repair_invoices").await, "Cancelled");
        browser.close().await;
    }
}

crate::both_backends! {
    async fn sign_in_out_roles_and_forged_forms(app) {
        let Some(browser) = open(app).await else { return };
        browser.goto("/app/").await;
        browser.fill("Username", "viewer").await;
        browser.fill("Password", "wrong password").await;
        browser.press("Sign in").await;
        let text = browser.text().await;
        assert!(text.contains("Unknown username or wrong password."), "{text} at {}", browser.path().await);
        browser.screenshots("sign-in").await;
        browser.sign_in("viewer", "demo-viewer").await;
        assert_eq!(browser.title().await, "Dashboard");
        // A viewer sees no action buttons…
        assert!(!browser.has_button("Create Repair Invoice").await);
        let cookie = browser.session_cookie().await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        // …and cannot post the form either, even with a valid token (403 page).
        let forged = client.post(app.url("/app/repairs/new")).header("cookie", format!("bat_session={cookie}"))
            .header("content-type", "application/x-www-form-urlencoded").body(format!("_csrf={csrf}")).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM cases").await, 0);

        // An operator's session: a form without the token, and one from another site, are refused.
        browser.press("Sign out").await;
        assert!(browser.path().await.starts_with("/app/sign-in"));
        browser.goto("/app/").await;
        assert!(browser.path().await.starts_with("/app/sign-in"), "the session ended at sign-out");
        // The old cookie is worthless now.
        let old = client.get(app.url("/app/")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap();
        assert_eq!(old.status(), StatusCode::SEE_OTHER);
        browser.sign_in("operations", "demo-operations").await;
        let cookie = browser.session_cookie().await;
        let no_token = client.post(app.url("/app/repairs/new")).header("cookie", format!("bat_session={cookie}"))
            .header("content-type", "application/x-www-form-urlencoded").body("").send().await.unwrap();
        assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
        let page = client.get(app.url("/app/")).header("cookie", format!("bat_session={cookie}")).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let cross_site = client.post(app.url("/app/repairs/new")).header("cookie", format!("bat_session={cookie}"))
            .header("origin", "http://evil.example").header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}")).send().await.unwrap();
        assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM cases").await, 0);
        // The same form from the console itself works.
        let own = client.post(app.url("/app/repairs/new")).header("cookie", format!("bat_session={cookie}"))
            .header("origin", app.address.clone()).header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}")).send().await.unwrap();
        assert_eq!(own.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM cases").await, 1);
        browser.close().await;
    }
}

crate::both_backends! {
    async fn the_list_filters_in_the_url_and_exports_what_is_filtered(app) {
        for (number, amount) in [("LST-1", "300.00"), ("LST-2", "150.00"), ("LST-3", "900.00")] {
            let case_no = app.create_repair_case().await;
            let (status, body) = app.submit_step(&case_no, app.invoice_data(1, amount, number)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, listed) = app.get_as("viewer", "/payments/vehicle-repairs?invoice_number=LST-2").await;
        let repair_id = listed["items"][0]["repair_id"].as_str().unwrap().to_string();
        app.post_as("finance", &format!("/payments/vehicle-repairs/{repair_id}/hold"), serde_json::json!({"reason": "disputed by the driver"})).await;
        let Some(browser) = open(app).await else { return };
        browser.sign_in("finance", "demo-finance").await;
        browser.goto("/app/repairs").await;
        assert!(browser.text().await.contains("3 invoices"));
        browser.labelled("Status").await.select_by_value("Hold").await.unwrap();
        browser.press("Apply filters").await;
        let path = browser.path().await;
        assert!(path.contains("status=Hold"), "{path}");
        let text = browser.text().await;
        assert!(text.contains("1 invoice") && text.contains("LST-2") && !text.contains("LST-3"), "{text}");
        assert!(text.contains("$150.00"));
        browser.screenshots("list").await;
        // The export button downloads exactly what is filtered.
        let href = browser.find("a[href*='format=csv']").await.attr("href").await.unwrap().unwrap();
        assert!(href.contains("status=Hold"), "{href}");
        let cookie = browser.session_cookie().await;
        let csv = reqwest::Client::new().get(app.url(&href)).header("cookie", format!("bat_session={cookie}")).send().await.unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        let body = csv.text().await.unwrap();
        assert_eq!(body.lines().count(), 2, "{body}");
        assert!(body.contains("LST-2"));
        // Bad filter input is shown at its field, not as an error page.
        browser.goto("/app/repairs?from_invoice_date=2026-13-40").await;
        assert!(browser.find("#from_invoice_date-error").await.text().await.unwrap().len() > 3);
        // Back keeps the filters (they live in the URL).
        browser.back().await;
        assert!(browser.path().await.contains("status=Hold"));
        browser.goto("/app/").await;
        browser.screenshots("dashboard").await;
        browser.goto("/app/no-such-page").await;
        assert_eq!(browser.title().await, "Not Found");
        browser.close().await;
    }
}

/// The accessibility check run on every page does see a violation when there is one. It
/// tests the test's own tool, not the service, so one database is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_sees_a_violation() {
    let app = TestApp::spawn(batconnect::db::Backend::Sqlite)
        .await
        .unwrap();
    let Some(browser) = open(&app).await else {
        return;
    };
    browser.sign_in("finance", "demo-finance").await;
    browser.goto("/app/repairs").await;
    browser
        .client
        .execute(
            "document.querySelectorAll('label').forEach(l => l.remove()); return true;",
            vec![],
        )
        .await
        .unwrap();
    let violations = browser.serious_violations().await;
    assert!(
        violations.iter().any(|v| v.contains("label")),
        "{violations:?}"
    );
    browser.close().await;
    app.cleanup().await;
}

/// Signs in through the console's form (no browser); the session cookie, or the status.
pub async fn page_session(
    app: &TestApp,
    username: &str,
    password: &str,
) -> Result<String, StatusCode> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(app.url("/app/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={username}&password={}&next=/app/",
            password.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::SEE_OTHER {
        return Err(response.status());
    }
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/app"),
        "{cookie}"
    );
    Ok(cookie.split(';').next().unwrap().to_string())
}

/// The status of the dashboard for this cookie: 200, or 303 to sign-in.
async fn dashboard(app: &TestApp, cookie: &str) -> StatusCode {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    client
        .get(app.url("/app/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

crate::both_backends! {
    async fn console_sessions_expire_and_are_revoked_like_tokens(app) {
        let cookie = page_session(app, "finance", "demo-finance").await.unwrap();
        assert_eq!(dashboard(app, &cookie).await, StatusCode::OK);
        // Expiry: after BAT_TOKEN_TTL_SECONDS the session is gone.
        let now = app.clock.now();
        app.clock.set(now + chrono::Duration::seconds(app.state.config.token_ttl_seconds + 1));
        assert_eq!(dashboard(app, &cookie).await, StatusCode::SEE_OTHER);
        app.clock.set(now);
        // A password reset ends the user's sessions.
        let cookie = page_session(app, "finance", "demo-finance").await.unwrap();
        let finance = app.scalar_i64("SELECT id FROM users WHERE username = 'finance'").await;
        let (status, body) = app
            .post_as("admin", &format!("/auth/users/{finance}/password"), serde_json::json!({"password": "a new password"}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(dashboard(app, &cookie).await, StatusCode::SEE_OTHER);
        // Disabling the user too, and a disabled user cannot sign in.
        let cookie = page_session(app, "finance", "a new password").await.unwrap();
        let (status, body) = app.post_as("admin", &format!("/auth/users/{finance}/disable"), serde_json::Value::Null).await;
        assert!(status.is_success(), "{status} {body}");
        assert_eq!(dashboard(app, &cookie).await, StatusCode::SEE_OTHER);
        assert_eq!(page_session(app, "finance", "a new password").await, Err(StatusCode::UNAUTHORIZED));
        // The API's login throttle guards the sign-in page too.
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(page_session(app, "operations", "wrong").await.unwrap_err());
        }
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        // A made-up cookie is no session.
        assert_eq!(dashboard(app, "bat_session=made-up").await, StatusCode::SEE_OTHER);
        // Page errors are pages: a missing invoice is an HTML 404, not problem+json.
        let cookie = page_session(app, "viewer", "demo-viewer").await.unwrap();
        let client = reqwest::Client::new();
        let missing = client.get(app.url("/app/repairs/RPR-2099-99999")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = missing.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'self'"), "{csp}");
    }
}

crate::both_backends! {
    async fn a_refused_wizard_form_keeps_no_file_and_sign_in_stays_on_the_console(app) {
        let cookie = page_session(app, "operations", "demo-operations").await.unwrap();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        // A form with a file, posted to a case that does not exist: 404, and nothing stored.
        let boundary = "----batconsole";
        let mut body = Vec::new();
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n").as_bytes());
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
        body.extend_from_slice(PDF);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = client.post(app.url("/app/cases/RPRINV999999")).header("cookie", &cookie)
            .header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let stored = std::fs::read_dir(app.state.config.data_dir.join("files/documents")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(stored, 0, "a refused form left its file behind");
        // Sign-in only ever sends people to a console page, and a strange `next` is no error.
        let signed = client.post(app.url("/app/sign-in")).header("content-type", "application/x-www-form-urlencoded")
            .body("username=viewer&password=demo-viewer&next=%2Fapp%2F%0Aevil").send().await.unwrap();
        assert_eq!(signed.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed.headers()["location"], "/app/");
        let signed = client.post(app.url("/app/sign-in")).header("content-type", "application/x-www-form-urlencoded")
            .body("username=viewer&password=demo-viewer&next=https%3A%2F%2Fevil.example%2F").send().await.unwrap();
        assert_eq!(signed.headers()["location"], "/app/");
    }
}

crate::both_backends_with! {
    setup = crate::helpers::Setup { env: vec![("BAT_PUBLIC_URL", "https://fleet.example".to_string())], ..Default::default() };
    async fn behind_a_proxy_the_public_url_is_the_console_origin(app) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let sign_in = |origin: &'static str| {
            client.post(app.url("/app/sign-in")).header("origin", origin)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("username=viewer&password=demo-viewer&next=/app/").send()
        };
        // The proxy's public origin is this console, whatever Host the request carries…
        let ok = sign_in("https://fleet.example").await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("; Secure"), "{cookie}");
        // …and any other origin is not.
        let refused = sign_in("https://evil.example").await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}

/// The value attribute of the input `id` on a page.
fn input_value(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let tag = &page[page[..at].rfind('<')?..];
    let tag = &tag[..tag.find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_string())
}

/// A page's CSRF token.
fn csrf_of(page: &str) -> String {
    page.split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// A multipart body of text fields and, when given, a PDF named `file_name`.
fn multipart(boundary: &str, fields: &[(&str, &str)], file_name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some(name) = file_name {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(PDF);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

crate::both_backends! {
    async fn every_list_is_drawn_by_the_kit_and_every_form_keeps_what_was_typed(app) {
        let cookie = page_session(app, "admin", crate::helpers::ADMIN_PASSWORD).await.unwrap();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let get = |path: String| client.get(app.url(&path)).header("cookie", &cookie).send();
        // Every list: its filters, its count, its table or empty state, the same way.
        for path in ["/app/repairs", "/app/installments", "/app/ledger", "/app/ledger/balances", "/app/interim-payments",
                     "/app/dtrs", "/app/fleet/drivers", "/app/fleet/leases", "/app/fleet/vehicles", "/app/fleet/medallions"] {
            let response = get(path.to_string()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let page = response.text().await.unwrap();
            assert!(page.contains(&format!("method=\"get\" action=\"{path}\" aria-label=\"Filters\"")), "{path}: {page}");
            assert!(page.contains("Apply filters"), "{path}");
            assert!(page.contains("<caption") || page.contains("class=\"empty card\""), "{path}: {page}");
        }
        // A filter that cannot be read is an error beside it, not a dead page.
        for (path, field) in [("/app/fleet/drivers?status=bogus", "status"), ("/app/ledger?from_date=soon", "from_date"),
                              ("/app/fleet/leases?page=0", "page")] {
            let page = get(path.to_string()).await.unwrap().text().await.unwrap();
            let beside = page.contains(&format!("id=\"{field}-error\""));
            let below = page.contains(&format!("role=\"alert\">{field}: "));
            assert!(beside || below, "{path}: {page}");
        }
        // Exports are exactly what is filtered.
        let ledger = get("/app/ledger?lease_id=LS-01001&page=2".into()).await.unwrap().text().await.unwrap();
        assert!(ledger.contains("/app/ledger/export?lease_id=LS-01001&amp;kind=postings&amp;format=csv"), "{ledger}");

        // A refused form shows every error beside its field and every value as typed.
        let page = get("/app/fleet/drivers/1".into()).await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let refused = client.post(app.url("/app/fleet/drivers/1")).header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}&phone=12-34&email=not+an+address&status=Active")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("id=\"phone-error\"") && page.contains("id=\"email-error\""), "{page}");
        assert_eq!(input_value(&page, "phone").as_deref(), Some("12-34"));
        assert_eq!(input_value(&page, "email").as_deref(), Some("not an address"));
        assert!(page.contains("Nothing was saved"), "{page}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM drivers WHERE email = 'not an address'").await, 0);
    }
}

crate::both_backends! {
    async fn a_file_sent_with_a_refused_form_is_kept_for_its_session_a_day_at_most(app) {
        let cookie = page_session(app, "operations", "demo-operations").await.unwrap();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(app.url("/app/repairs")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let created = client.post(app.url("/app/repairs/new")).header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded").body(format!("_csrf={csrf}")).send().await.unwrap();
        let case = created.headers()["location"].to_str().unwrap().to_string();
        let wizard = client.get(app.url(&format!("{case}?tlc_license_no={TLC}"))).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let lease = wizard.split("name=\"lease\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let week = wizard.split("id=\"start_week\"").nth(1).unwrap().split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let boundary = "----batkept";
        let send = |cookie: String, fields: Vec<(&'static str, String)>, file: Option<&'static str>| {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = multipart(boundary, &fields, file);
            client.post(app.url(&case)).header("cookie", cookie)
                .header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body).send()
        };
        let form = |csrf: &str, amount: &str, extra: &[(&'static str, String)]| {
            let mut fields = vec![("_csrf", csrf.to_string()), ("tlc_license_no", TLC.to_string()), ("lease", lease.clone()),
                ("invoice_number", "BAW-3001".to_string()), ("invoice_date", "2026-11-20".to_string()),
                ("workshop_type", "Big Apple Workshop".to_string()), ("total_amount", amount.to_string()), ("start_week", week.clone()), ("action", "create".to_string())];
            fields.extend_from_slice(extra);
            fields
        };
        let stored = || std::fs::read_dir(app.state.config.data_dir.join("files/documents")).map(|d| d.count()).unwrap_or(0);
        // Refused for its amount: the file is kept, named on the page, owned by this session.
        let refused = send(cookie.clone(), form(&csrf, "12.345", &[]), Some("kept.pdf")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("kept.pdf"), "{page}");
        let token = page.split("name=\"pending_upload\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        assert_eq!((app.scalar_i64("SELECT COUNT(*) FROM pending_uploads").await, stored()), (1, 1));
        // Another session cannot claim it (its token names nothing of theirs)…
        let other = page_session(app, "operations", "demo-operations").await.unwrap();
        let other_page = client.get(app.url("/app/repairs")).header("cookie", &other).send().await.unwrap().text().await.unwrap();
        let other_csrf = csrf_of(&other_page);
        let stolen = send(other.clone(), form(&other_csrf, "12.345", &[("pending_upload", token.clone())]), None).await.unwrap();
        assert!(!stolen.text().await.unwrap().contains("kept.pdf"));
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pending_uploads").await, 1);
        // …and taking it off the form removes it, file and all.
        let removed = send(cookie.clone(), form(&csrf, "12.345", &[("pending_upload", token.clone()), ("remove_pending", "yes".into())]), None).await.unwrap();
        assert!(!removed.text().await.unwrap().contains("kept.pdf"));
        assert_eq!((app.scalar_i64("SELECT COUNT(*) FROM pending_uploads").await, stored()), (0, 0));
        // A file no form claims is swept after a day.
        let again = send(cookie.clone(), form(&csrf, "12.345", &[]), Some("late.pdf")).await.unwrap().text().await.unwrap();
        let late = again.split("name=\"pending_upload\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let now = app.state.clock.now();
        let swept = batconnect::documents::pending::sweep(&app.state.db, &app.state.storage, now + chrono::Duration::hours(23)).await;
        assert_eq!(swept, 0, "a file younger than a day stays");
        let swept = batconnect::documents::pending::sweep(&app.state.db, &app.state.storage, now + chrono::Duration::hours(25)).await;
        assert_eq!((swept, stored()), (1, 0));
        // The form still goes through once corrected; the swept file is simply not there.
        let done = send(cookie.clone(), form(&csrf, "100.00", &[("pending_upload", late)]), None).await.unwrap();
        let status = done.status();
        assert_eq!(status, StatusCode::SEE_OTHER, "{}", done.text().await.unwrap());
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM repair_invoices").await, 1);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM documents").await, 0);
    }
}
