//! `TestApp`: the real application on a random port over a fresh database (a new SQLite
//! file, or a new PostgreSQL schema), with a fixed clock and one helper per endpoint.

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use batconnect::app::Options;
use batconnect::auth::password::HashCost;
use batconnect::clock::Clock;
use batconnect::config::Config;
use batconnect::db::{Backend, Db};
use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin-pass-123";

/// Wednesday 2026-11-25 10:00 in New York: the current payment period starts Sunday 2026-11-22.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
}

fn postgres_url() -> String {
    std::env::var("BAT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Is PostgreSQL reachable? Asked once per test binary; prints the skip notice once,
/// straight to the terminal (test output capture would hide it otherwise).
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let url = postgres_url();
        let host_port = url.split('@').next_back().unwrap_or("").split('/').next().unwrap_or("127.0.0.1:5432").to_string();
        let reachable = std::net::ToSocketAddrs::to_socket_addrs(&host_port)
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|addr| std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok());
        if !reachable {
            if std::env::var("BAT_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("BAT_TEST_REQUIRE_POSTGRES=1 but PostgreSQL at {url} is not reachable");
            }
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTICE: PostgreSQL at {url} is not reachable: the PostgreSQL half of this suite is SKIPPED \
                 (those tests pass without running). Set BAT_TEST_POSTGRES_URL to run it.\n"
            );
        }
        reachable
    })
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub backend: Backend,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub database_url: String,
    pub state: batconnect::state::AppState,
    tokens: tokio::sync::Mutex<HashMap<String, String>>,
    pg_schema: Option<String>,
    _dir: tempdir::Dir,
}

/// A temporary directory removed on drop (tiny on purpose; no extra dependency).
pub mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path =
                std::env::temp_dir().join(format!("batconnect-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[derive(Default, Clone)]
pub struct Setup {
    pub schema_dir: Option<std::path::PathBuf>,
    pub no_demo: bool,
    /// Extra settings (e.g. `BAT_STORAGE_URL`), on top of the test defaults.
    pub env: Vec<(&'static str, String)>,
    /// Run the in-process scheduler as `serve` does by default.
    pub scheduler: bool,
    /// Post weekly lease rent from the first chain on. Off by default: the go-live week is
    /// set far ahead, so tests about other money see only what they post themselves.
    pub rent: bool,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, Setup::default()).await
    }

    /// `None` when the backend is PostgreSQL and it is not reachable (the test is skipped).
    pub async fn spawn_with(backend: Backend, setup: Setup) -> Option<TestApp> {
        let dir = tempdir::Dir::new();
        let (database_url, pg_schema) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/test.db", dir.0.display()), None),
            Backend::Postgres => {
                if !postgres_available() {
                    return None;
                }
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::connect(&postgres_url(), 1)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(format!("CREATE SCHEMA {schema}").as_str())
                    .execute(admin.reader())
                    .await
                    .expect("create schema");
                admin.close().await;
                let separator = if postgres_url().contains('?') {
                    '&'
                } else {
                    '?'
                };
                (
                    format!(
                        "{}{separator}options=-c%20search_path%3D{schema}",
                        postgres_url()
                    ),
                    Some(schema),
                )
            }
        };
        let mut env: HashMap<&str, String> = HashMap::new();
        env.insert("BAT_DATABASE_URL", database_url.clone());
        env.insert("BAT_LISTEN", "127.0.0.1:0".into());
        env.insert("BAT_DATA_DIR", dir.0.display().to_string());
        env.insert("BAT_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
        env.insert("BAT_DB_MAX_CONNECTIONS", "5".into());
        // Tests drive the scheduler themselves.
        env.insert(
            "BAT_SCHEDULER",
            if setup.scheduler { "on" } else { "off" }.into(),
        );
        env.insert("BAT_SCHEDULER_TICK_SECONDS", "1".into());
        if !setup.rent {
            env.insert("BAT_RENT_START_WEEK", "2099-12-27".into());
        }
        if let Some(schema_dir) = &setup.schema_dir {
            env.insert("BAT_SCHEMA_DIR", schema_dir.display().to_string());
        }
        for (name, value) in &setup.env {
            env.insert(name, value.clone());
        }
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let clock = Clock::fixed(default_now());
        let options = Options {
            clock: clock.clone(),
            hash_cost: Some(HashCost::FAST_FOR_TESTS),
            demo: !setup.no_demo,
        };
        let app = batconnect::Application::build(config, options)
            .await
            .expect("build app");
        let address = format!("http://{}", app.local_addr());
        let db = app.state().db.clone();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        Some(TestApp {
            address,
            db,
            backend,
            clock,
            client: reqwest::Client::new(),
            database_url,
            state,
            tokens: Default::default(),
            pg_schema,
            _dir: dir,
        })
    }

    /// Drops the PostgreSQL schema of a finished test.
    pub async fn cleanup(self) {
        if let Some(schema) = &self.pg_schema {
            self.db.close().await;
            if let Ok(admin) = Db::connect(&postgres_url(), 1).await {
                let _ = sqlx::query(format!("DROP SCHEMA {schema} CASCADE").as_str())
                    .execute(admin.reader())
                    .await;
                admin.close().await;
            }
        }
    }

    /// Moves the app's clock; cached tokens are dropped since they may have expired.
    pub async fn set_clock(&self, at: DateTime<Utc>) {
        self.clock.set(at);
        self.tokens.lock().await.clear();
    }

    /// The app's `BAT_DATA_DIR` (a temporary directory), for processes a test starts.
    pub fn data_dir(&self) -> &std::path::Path {
        &self._dir.0
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            "/auth/login",
            None,
            Some(serde_json::json!({"username": username, "password": password})),
        )
        .await
    }

    /// A bearer token for a demo user (admin, finance, operations, viewer), cached.
    pub async fn token(&self, user: &str) -> String {
        let mut tokens = self.tokens.lock().await;
        if let Some(t) = tokens.get(user) {
            return t.clone();
        }
        let password = if user == "admin" {
            ADMIN_PASSWORD.to_string()
        } else {
            format!("demo-{user}")
        };
        let (status, body) = self.login(user, &password).await;
        assert_eq!(status, StatusCode::OK, "login as {user}: {body}");
        let token = body["access_token"].as_str().unwrap().to_string();
        tokens.insert(user.to_string(), token.clone());
        token
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get_as(&self, user: &str, path: &str) -> (StatusCode, Value) {
        let token = self.token(user).await;
        self.send(reqwest::Method::GET, path, Some(&token), None)
            .await
    }

    pub async fn post_as(&self, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let token = self.token(user).await;
        self.send(reqwest::Method::POST, path, Some(&token), Some(body))
            .await
    }

    /// A GET whose body is a file: status, headers and bytes.
    pub async fn get_file(
        &self,
        user: &str,
        path: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let token = self.token(user).await;
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        (status, headers, bytes)
    }

    /// Uploads `bytes` as the multipart part `file` named `file_name`.
    pub async fn upload(
        &self,
        user: &str,
        path: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        self.upload_parts(user, path, &[("file", Some(file_name), bytes)])
            .await
    }

    /// Posts a multipart body of `(part name, file name, bytes)` parts.
    pub async fn upload_parts(
        &self,
        user: &str,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> (StatusCode, Value) {
        let token = self.token(user).await;
        let boundary = format!("----bat{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::new();
        for (name, file_name, bytes) in parts {
            let disposition = match file_name {
                Some(file_name) => format!("form-data; name=\"{name}\"; filename=\"{file_name}\""),
                None => format!("form-data; name=\"{name}\""),
            };
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.reader())
            .await
            .expect(sql)
    }

    pub async fn scalar_text(&self, sql: &str) -> String {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.reader())
            .await
            .expect(sql)
    }

    // --- repairs flow helpers ---

    pub async fn create_repair_case(&self) -> String {
        let (status, body) = self
            .post_as(
                "operations",
                "/payments/vehicle-repairs/create-case",
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["case_no"].as_str().unwrap().to_string()
    }

    pub async fn submit_step(&self, case_no: &str, data: Value) -> (StatusCode, Value) {
        self.post_as(
            "operations",
            &format!("/case/{case_no}"),
            serde_json::json!({"step_id": "REPAIR_ENTER_DETAILS", "data": data}),
        )
        .await
    }

    /// Step data for demo lease `n` (1-based: driver n manages lease n, vehicle n, medallion n).
    pub fn invoice_data(&self, n: i64, total: &str, invoice_number: &str) -> Value {
        serde_json::json!({
            "driver_id": n, "lease_id": n, "vehicle_id": n, "medallion_id": n,
            "total_amount": total, "invoice_number": invoice_number, "invoice_date": "2026-11-20",
            "workshop_type": "Big Apple Workshop", "start_week": "2026-11-29", "notes": "Front bumper and headlight"
        })
    }

    /// Invoice on lease `lease` from the current period (first installment due 2026-11-22).
    pub async fn invoice_from_this_week(&self, lease: i64, total: &str, number: &str) -> String {
        let case_no = self.create_repair_case().await;
        let mut data = self.invoice_data(lease, total, number);
        data["start_week"] = serde_json::json!("2026-11-22");
        let (status, body) = self.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["repair_id"].as_str().unwrap().to_string()
    }

    /// A manual obligation on a lease; returns its balance id.
    pub async fn obligation(&self, lease: i64, category: &str, amount: &str, due: &str) -> i64 {
        let (status, body) = self
            .post_as(
                "finance",
                "/ledger/obligations",
                serde_json::json!({"lease_id": lease, "category": category, "amount": amount, "due_date": due, "reason": "test"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["balance_id"].as_i64().unwrap()
    }

    /// Posts every installment due on or before `as_of` (finance, over the API). Nothing is
    /// posted ahead of its time, so a later `as_of` first moves the clock to that day.
    pub async fn post_due(&self, as_of: &str) {
        let date = domain::calendar::parse_date(as_of).unwrap();
        let today = domain::calendar::local_date(self.clock.now(), self.state.config.timezone);
        if date > today {
            self.set_clock(Utc.from_utc_datetime(&date.and_hms_opt(16, 0, 0).unwrap()))
                .await;
        }
        let (status, body) = self
            .post_as(
                "finance",
                "/payments/vehicle-repairs/ledger/post-installment",
                serde_json::json!({"post_all_due": true, "as_of": as_of}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn earnings(&self, lease: i64, period: &str, amount: &str) -> (StatusCode, Value) {
        self.post_as(
            "finance",
            "/ledger/earnings",
            serde_json::json!({"earnings": [{"lease_id": lease, "period": period, "amount": amount}]}),
        )
        .await
    }

    /// The balance of the obligation with this reference (e.g. an installment id).
    pub async fn balance(&self, reference: &str) -> Value {
        let (_, page) = self
            .get_as(
                "finance",
                &format!("/ledger/balances?reference_id={reference}"),
            )
            .await;
        page["items"][0].clone()
    }

    /// An interim payment of `amount` on one balance.
    pub async fn pay(&self, lease: i64, balance_id: i64, amount: &str) -> (StatusCode, Value) {
        self.post_as(
            "finance",
            "/ledger/interim-payments",
            serde_json::json!({"lease_id": lease, "amount": amount, "payment_method": "cash",
                "allocations": [{"balance_id": balance_id, "amount": amount}]}),
        )
        .await
    }

    /// `ledger verify` finds nothing.
    pub async fn verify_ledger(&self) {
        let problems = batconnect::ledger::verify::verify(self.db.reader())
            .await
            .unwrap();
        assert!(problems.is_empty(), "ledger problems: {problems:#?}");
    }

    /// Creates an invoice through the whole flow and returns its repair id.
    pub async fn create_invoice(&self, n: i64, total: &str, invoice_number: &str) -> String {
        let case_no = self.create_repair_case().await;
        let (status, body) = self
            .submit_step(&case_no, self.invoice_data(n, total, invoice_number))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["repair_id"].as_str().unwrap().to_string()
    }
}

/// Cents of a money string the API answers (`"-12.34"` → -1234).
pub fn cents(v: &serde_json::Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not money: {v}"));
    let negative = text.starts_with('-');
    let (whole, part) = text.trim_start_matches('-').split_once('.').unwrap();
    let value = whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap();
    if negative {
        -value
    } else {
        value
    }
}

/// The text strings drawn on a PDF's pages, in order, joined by spaces, decoded through the
/// fonts' Unicode maps (`reports::inspect`). Enough to check what a receipt or statement
/// says; `pdftotext_of` is the independent check.
pub fn pdf_text(pdf: &[u8]) -> String {
    reports::inspect::shown_strings(pdf).join(" ")
}

/// The text `pdftotext` (poppler) extracts from a PDF, or `None` when the tool is not
/// installed; with `BAT_TEST_REQUIRE_PDFTOTEXT=1` (CI) a missing tool fails the test.
pub fn pdftotext_of(pdf: &[u8]) -> Option<String> {
    use std::io::Write;
    let spawned = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("BAT_TEST_REQUIRE_PDFTOTEXT").ok().as_deref() != Some("1"),
                "pdftotext is required (BAT_TEST_REQUIRE_PDFTOTEXT=1) but could not run: {e}"
            );
            eprintln!("SKIPPED: the pdftotext check (install poppler-utils to run it): {e}");
            return None;
        }
    };
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("pdftotext writes UTF-8"))
}

/// Polls futures concurrently without pulling in the `futures` crate.
pub async fn join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Declares each test twice, once per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: &$crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn(batconnect::db::Backend::Sqlite).await.unwrap();
                    run(&app).await;
                    app.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = $crate::helpers::TestApp::spawn(batconnect::db::Backend::Postgres).await else { return };
                    run(&app).await;
                    app.cleanup().await;
                }
            }
        )*
    };
}

/// [`both_backends!`] for tests that need a [`Setup`]: `setup = <expression>;` first, made
/// afresh for each backend.
#[macro_export]
macro_rules! both_backends_with {
    (setup = $setup:expr; $(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: &$crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn_with(batconnect::db::Backend::Sqlite, $setup).await.unwrap();
                    run(&app).await;
                    app.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = $crate::helpers::TestApp::spawn_with(batconnect::db::Backend::Postgres, $setup).await else { return };
                    run(&app).await;
                    app.cleanup().await;
                }
            }
        )*
    };
}
