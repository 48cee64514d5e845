//! Hostile traffic, round two: limits that hold when requests arrive together, one text
//! rule at every front door, early refusals of what will not be read.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{join_all, Setup, TestApp};
use crate::race_kit::Console;

/// Sends the same login `n` times at once; the statuses.
async fn burst(
    app: &TestApp,
    n: usize,
    login: impl Fn(usize) -> serde_json::Value,
) -> Vec<StatusCode> {
    join_all((0..n).map(|i| {
        let request = app
            .client
            .post(app.url("/auth/login"))
            .json(&login(i))
            .send();
        async move { request.await.unwrap().status() }
    }))
    .await
}

both_backends! {
    async fn twenty_guesses_at_once_check_five_and_the_rest_wait(app) {
        let hashes = app.state.login_guard.verifications();
        let statuses = burst(app, 20, |_| json!({"username": "finance", "password": "a wrong guess"})).await;
        let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
        let waiting = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((checked, waiting), (5, 15), "{statuses:?}");
        assert_eq!(app.state.login_guard.verifications() - hashes, 5, "only the admitted attempts ran a hash");
        // Once the limit is reached, even the right password waits, with Retry-After.
        let response = app.client.post(app.url("/auth/login")).json(&json!({"username": "finance", "password": "demo-finance"})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
        // The console's sign-in shares the counters.
        let page = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
            .post(app.url("/app/sign-in")).header("content-type", "application/x-www-form-urlencoded")
            .body("username=finance&password=demo-finance").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    async fn two_hundred_unknown_usernames_from_one_address_check_twenty(app) {
        let statuses = burst(app, 200, |i| json!({"username": format!("nobody-{i}"), "password": "whatever it is"})).await;
        let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
        assert_eq!(checked, 20, "the per-address limit holds for unknown usernames too");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 180);
        // Fifty wrong console sign-ins at once from the same place: all refused, none checked.
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let console = join_all((0..50).map(|i| {
            let request = client.post(app.url("/app/sign-in")).header("content-type", "application/x-www-form-urlencoded")
                .body(format!("username=someone-{i}&password=wrong")).send();
            async move { request.await.unwrap().status() }
        })).await;
        assert!(console.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{console:?}");
    }

    async fn nul_and_control_characters_in_any_console_form_are_refused_by_name(app) {
        let repair_id = app.create_invoice(1, "300.00", "INV-NUL").await;
        let case_no = app.create_repair_case().await;
        let console = Console::sign_in(app, "finance").await;
        let forms = console_forms();
        assert!(forms.len() >= 20, "the console's POST routes, read from its routers: {forms:?}");
        for form in &forms {
            let path = form.replace("{repair_id}", &repair_id).replace("{case_no}", &case_no)
                .replace("{job}", "repairs.post_due_installments").replace("{action}", "hold")
                .replace("{kind}", "drivers");
            let path = fill_ids(&path);
            for bad in ["x\u{0}y", "x\u{1b}[31my", "x\u{7f}"] {
                let fields = [("username", bad), ("reason", bad), ("lease", bad), ("amount", bad), ("note", bad)];
                let (status, _, page) = console.post(app, &path, &fields).await;
                assert!(!status.is_server_error(), "{path}: {status}");
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {page}");
                assert!(page.contains("control character") || page.contains("NUL"), "{path}: {page}");
            }
        }
        // The sign-in form says it beside its fields.
        let page = reqwest::Client::new().post(app.url("/app/sign-in")).header("content-type", "application/x-www-form-urlencoded")
            .body("username=%00&password=x").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text().await.unwrap().contains("Username must not contain a NUL character"));
    }

    async fn what_will_not_be_read_is_refused_first(app) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A declared body over the limit: 413 at once, with none of the body sent.
        let address = app.address.trim_start_matches("http://").to_string();
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(b"POST /ledger/earnings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n").await.unwrap();
        let mut answer = vec![0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer)).await
            .expect("answered without waiting for the body").unwrap();
        let head = String::from_utf8_lossy(&answer[..n]).to_string();
        assert!(head.starts_with("HTTP/1.1 413"), "{head}");
        // Invalid UTF-8 in a query value: 400 naming the parameter, problem+json for the
        // API and the console's page under /app.
        for (path, query) in [("/ledger/postings", "status=%FF"), ("/payments/vehicle-repairs", "search=%C0%80")] {
            let (status, body) = app.get_as("viewer", &format!("{path}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            let name = query.split('=').next().unwrap();
            assert!(body["detail"].as_str().unwrap().contains(&format!("'{name}'")), "{body}");
        }
        let console = Console::sign_in(app, "viewer").await;
        let page = reqwest::Client::new().get(app.url("/app/repairs?search=%FF"))
            .header("cookie", format!("bat_session={}", console.cookie)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let text = page.text().await.unwrap();
        assert!(text.contains("search") && text.contains("not valid UTF-8"), "the console's page names it: {text}");
    }
}

crate::both_backends_with! {
    setup = Setup { env: vec![("BAT_TRUSTED_PROXIES", "127.0.0.1".to_string())], ..Default::default() };

    async fn behind_a_trusted_proxy_each_client_has_its_own_count(app) {
        // One person's typos at the office behind the proxy...
        for _ in 0..5 {
            let response = app.client.post(app.url("/auth/login")).header("x-forwarded-for", "203.0.113.7")
                .json(&json!({"username": "finance", "password": "typo"})).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let typist = app.client.post(app.url("/auth/login")).header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "finance", "password": "demo-finance"})).send().await.unwrap();
        assert_eq!(typist.status(), StatusCode::TOO_MANY_REQUESTS);
        // ...do not lock out a colleague at another desk; a forged left-hand entry is not believed.
        let colleague = app.client.post(app.url("/auth/login")).header("x-forwarded-for", "203.0.113.7, 198.51.100.20")
            .json(&json!({"username": "finance", "password": "demo-finance"})).send().await.unwrap();
        assert_eq!(colleague.status(), StatusCode::OK);
    }
}

/// Every console route that takes a POST, read from the routers' source, so a form added
/// later is covered without touching this test.
fn console_forms() -> Vec<String> {
    let mut forms = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("web/mod.rs")];
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        for name in ["pages.rs", "cashier_pages.rs"] {
            if dir.join(name).exists() {
                files.push(dir.join(name));
            }
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for route in text.split(".route(").skip(1) {
            let Some(path) = route
                .trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
            else {
                continue;
            };
            let call = route.split(".route(").next().unwrap_or_default();
            let call = call.split("\n}").next().unwrap_or_default();
            if path.starts_with("/app") && call.contains("post(") {
                forms.push(path.to_string());
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Path parameters not named by the test are record ids: the first of each.
fn fill_ids(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push('1');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The service on a fresh SQLite file, no demo data, with these settings.
async fn bare_app(env: Vec<(&'static str, String)>) -> TestApp {
    let setup = Setup {
        env,
        no_demo: true,
        ..Default::default()
    };
    TestApp::spawn_with(batconnect::db::Backend::Sqlite, setup)
        .await
        .unwrap()
}

/// Opens `n` connections that each send half a request's headers and stop.
async fn half_open(address: &str, n: usize) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half: ")
            .await
            .unwrap();
        held.push(stream);
    }
    held
}

/// `/healthz` over a fresh connection: its status and how long it took.
async fn health(app: &TestApp) -> (StatusCode, std::time::Duration) {
    let started = std::time::Instant::now();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let status = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("/healthz answers")
        .status();
    (status, started.elapsed())
}

/// Enough open files for a test holding `n` connections (both ends live in this process);
/// false when the machine's hard limit does not allow it.
fn files_for(n: u64) -> bool {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    let enough = limit >= 2 * n + 512;
    if !enough {
        eprintln!("NOTICE: the open-file limit {limit} is too low to hold {n} connections here; this check is SKIPPED");
    }
    enough
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_half_open_connections_neither_starve_nor_stay() {
    use tokio::io::AsyncReadExt;
    if !files_for(3000) {
        return;
    }
    let app = bare_app(vec![("BAT_HEADER_TIMEOUT_SECONDS", "2".to_string())]).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut held = half_open(&address, 3000).await;
    let (status, took) = health(&app).await;
    assert_eq!(status, StatusCode::OK);
    eprintln!("/healthz with 3,000 half-open connections held: {took:?}");
    // Past the header timeout the server has closed every one of them.
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let mut closed = 0;
    for stream in held.iter_mut() {
        let mut byte = [0u8; 64];
        if let Ok(Ok(_)) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            stream.read(&mut byte),
        )
        .await
        {
            closed += 1;
        }
    }
    assert_eq!(
        closed,
        held.len(),
        "connections still open past the header timeout"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_half_open_connections_than_the_cap_still_leave_room_for_a_request() {
    if !files_for(400) {
        return;
    }
    let app = bare_app(vec![("BAT_MAX_CONNECTIONS", "64".to_string())]).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let _held = half_open(&address, 300).await;
    let (status, took) = health(&app).await;
    assert_eq!(status, StatusCode::OK);
    eprintln!("/healthz with 300 half-open connections against a cap of 64: {took:?}");
    // A kept-alive client's next request is served too.
    let client = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            client
                .get(app.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = bare_app(vec![
        ("BAT_KEEP_ALIVE_SECONDS", "1".to_string()),
        ("BAT_HEADER_TIMEOUT_SECONDS", "10".to_string()),
    ])
    .await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    for _ in 0..2 {
        // Two requests on one kept-alive connection, the second after a pause shorter
        // than the keep-alive timeout.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    // Idle past it: the server closes the connection (the client reads its end).
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer)).await;
    assert!(matches!(read, Ok(Ok(0))), "closed by the server: {read:?}");
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dripped_slowly_does_not_hold_its_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = bare_app(vec![("BAT_BODY_TIMEOUT_SECONDS", "1".to_string())]).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // The headers promise 100 bytes; 10 come, then nothing.
    stream.write_all(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"usernam").await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server let the connection hang");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("did not arrive in time"), "{text}");
    app.cleanup().await;
}
