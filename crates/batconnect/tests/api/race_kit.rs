//! The race harness's kit: every money-writing action, a fresh lease set up so that each of
//! them has work to do, two actions fired at the same instant, and the checks that must
//! hold after any trial. Shared by the test module `races` (a few trials per pair, in CI)
//! and the bench binary `races` (hundreds per pair, printing the matrix).

use std::collections::BTreeMap;
use std::fmt;

use batconnect::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// The week the trials act in: the clock's current payment period (see `default_now`).
pub const WEEK: &str = "2026-11-22";
/// An earlier week whose statement is final before the trial.
pub const FINAL_WEEK: &str = "2026-11-01";

/// Every action that writes money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    RecordEarnings,
    RecordEarningsFile,
    VoidEarnings,
    VoidFinalizedEarnings,
    InterimPayment,
    VoidInterim,
    ManualObligation,
    VoidObligation,
    PostingRun,
    RentRun,
    GenerateStatements,
    FinalizeStatement,
    HoldInvoice,
    ResumeInvoice,
    CancelInvoice,
    EndLease,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::RecordEarnings,
        Action::RecordEarningsFile,
        Action::VoidEarnings,
        Action::VoidFinalizedEarnings,
        Action::InterimPayment,
        Action::VoidInterim,
        Action::ManualObligation,
        Action::VoidObligation,
        Action::PostingRun,
        Action::RentRun,
        Action::GenerateStatements,
        Action::FinalizeStatement,
        Action::HoldInvoice,
        Action::ResumeInvoice,
        Action::CancelInvoice,
        Action::EndLease,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::RecordEarnings => "earnings",
            Action::RecordEarningsFile => "earnings-file",
            Action::VoidEarnings => "void-earnings",
            Action::VoidFinalizedEarnings => "void-final-earnings",
            Action::InterimPayment => "interim",
            Action::VoidInterim => "void-interim",
            Action::ManualObligation => "obligation",
            Action::VoidObligation => "void-obligation",
            Action::PostingRun => "posting-run",
            Action::RentRun => "rent-run",
            Action::GenerateStatements => "statements",
            Action::FinalizeStatement => "finalize",
            Action::HoldInvoice => "hold",
            Action::ResumeInvoice => "resume",
            Action::CancelInvoice => "cancel",
            Action::EndLease => "end-lease",
        }
    }

    /// Every unordered pair, an action with itself included.
    pub fn pairs() -> Vec<(Action, Action)> {
        let mut pairs = Vec::new();
        for (i, a) in Action::ALL.iter().enumerate() {
            for b in &Action::ALL[i..] {
                pairs.push((*a, *b));
            }
        }
        pairs
    }
}

/// A lease with something for every action to do.
pub struct World {
    pub lease: i64,
    pub lease_code: String,
    /// Open, first installment due and not posted: the posting run's, hold's and cancel's.
    pub due_invoice: String,
    /// On hold, an installment due: resume's.
    pub held_invoice: String,
    /// An open Misc balance the interim payment pays.
    pub open_balance: i64,
    /// A Misc obligation nothing paid: the void's.
    pub obligation_posting: i64,
    /// The week's earnings credit: the void's.
    pub earnings_posting: i64,
    /// Earnings of an earlier week whose statement is final: the correction's.
    pub finalized_earnings_posting: i64,
    /// An interim payment: the void's.
    pub interim_posting: i64,
    /// The lease's draft statement of the week: finalize's.
    pub statement: i64,
}

/// What became of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Both actions succeeded.
    BothDone,
    /// One was refused (4xx, in words), the other done.
    OneRefused,
    /// Both were refused.
    BothRefused,
    /// A 5xx answered: a defect.
    ServerError,
    /// A check failed after the trial: a defect.
    Broken,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::BothDone,
        Outcome::OneRefused,
        Outcome::BothRefused,
        Outcome::ServerError,
        Outcome::Broken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::BothDone => "both done",
            Outcome::OneRefused => "one refused",
            Outcome::BothRefused => "both refused",
            Outcome::ServerError => "5xx",
            Outcome::Broken => "broken",
        }
    }

    pub fn is_defect(self) -> bool {
        matches!(self, Outcome::ServerError | Outcome::Broken)
    }
}

/// A trial's result with what went wrong, for the report.
pub struct TrialResult {
    pub outcome: Outcome,
    pub detail: String,
}

impl fmt::Display for TrialResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.outcome.name(), self.detail)
    }
}

/// A signed-in console session (the earnings file is uploaded the way a clerk does it).
pub struct Console {
    pub cookie: String,
    pub csrf: String,
}

impl Console {
    pub async fn sign_in(app: &TestApp, user: &str) -> Console {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(app.url("/app/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={user}&password=demo-{user}"))
            .send()
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("bat_session="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_string();
        let page = client
            .get(app.url("/app/earnings"))
            .header("cookie", format!("bat_session={cookie}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = page
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .expect("a CSRF token")
            .to_string();
        Console { cookie, csrf }
    }

    /// Posts a form (`application/x-www-form-urlencoded`, the CSRF token added); the
    /// status, the `Location` and the page.
    pub async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("_csrf", &self.csrf);
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(app.url(path))
            .header("cookie", format!("bat_session={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, location, response.text().await.unwrap_or_default())
    }

    fn upload(&self, app: &TestApp, path: &str, file: &[u8]) -> reqwest::RequestBuilder {
        let boundary = "----batrace";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n",
                self.csrf
            )
            .as_bytes(),
        );
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"earnings.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(app.url(path))
            .header("cookie", format!("bat_session={}", self.cookie))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
    }
}

async fn created(app: &TestApp, user: &str, path: &str, body: Value) -> Value {
    let (status, answer) = app.post_as(user, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// A fresh lease (`n` makes its driver, vehicle and medallion unique) with work for every
/// action.
pub async fn prepare(app: &TestApp, n: u32) -> World {
    let driver = created(
        app,
        "operations",
        "/fleet/drivers",
        json!({"first_name": "Race", "last_name": format!("Driver {n}"), "tlc_license_no": format!("{}", 80_000_000 + n)}),
    )
    .await;
    let vehicle = created(
        app,
        "operations",
        "/fleet/vehicles",
        json!({"vin": format!("1RACE{:012}", n), "make": "Toyota", "model": "Camry", "year": 2024}),
    )
    .await;
    let medallion = created(
        app,
        "operations",
        "/fleet/medallions",
        json!({"medallion_number": format!("R{n}")}),
    )
    .await;
    let lease = created(
        app,
        "operations",
        "/fleet/leases",
        json!({"lease_type": "dov", "weekly_rate": "300.00", "vehicle_id": vehicle["id"], "medallion_id": medallion["id"],
               "start_date": "2026-11-01", "drivers": [{"driver_id": driver["driver_id"], "is_driver_manager": true}]}),
    )
    .await;
    let lease_id = lease["id"].as_i64().unwrap();
    let invoice = |number: String| {
        json!({"driver_id": driver["id"], "lease_id": lease_id, "vehicle_id": vehicle["id"], "medallion_id": medallion["id"],
               "total_amount": "900.00", "invoice_number": number, "invoice_date": "2026-11-20",
               "workshop_type": "Big Apple Workshop", "start_week": WEEK, "notes": "race"})
    };
    let mut invoices = Vec::new();
    for which in ["A", "B", "C"] {
        let case_no = app.create_repair_case().await;
        let (status, body) = app
            .submit_step(&case_no, invoice(format!("RACE-{n}-{which}")))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        invoices.push(body["data"]["repair_id"].as_str().unwrap().to_string());
    }
    created(
        app,
        "finance",
        "/payments/vehicle-repairs/ledger/post-installment",
        json!({"installment_ids": [format!("{}-01", invoices[0])]}),
    )
    .await;
    created(
        app,
        "operations",
        &format!("/payments/vehicle-repairs/{}/hold", invoices[2]),
        json!({"reason": "disputed by the driver"}),
    )
    .await;
    let open = created(app, "finance", "/ledger/obligations", json!({"lease_id": lease_id, "category": "Misc", "amount": "80.00", "due_date": WEEK, "reason": "race"})).await;
    let void_me = created(app, "finance", "/ledger/obligations", json!({"lease_id": lease_id, "category": "Misc", "amount": "25.00", "due_date": WEEK, "reason": "race"})).await;
    let earnings = created(
        app,
        "finance",
        "/ledger/earnings",
        json!({"earnings": [{"lease_id": lease_id, "period": WEEK, "amount": "150.00"}]}),
    )
    .await;
    let paid = created(
        app,
        "finance",
        "/ledger/interim-payments",
        json!({"lease_id": lease_id, "amount": "30.00", "payment_method": "cash",
               "allocations": [{"balance_id": open["balance_id"], "amount": "30.00"}]}),
    )
    .await;
    // An earlier week's statement, final, counting earnings a void will correct.
    let earlier = created(
        app,
        "finance",
        "/ledger/earnings",
        json!({"earnings": [{"lease_id": lease_id, "period": FINAL_WEEK, "amount": "60.00"}]}),
    )
    .await;
    let mut tx = app.db.begin().await.unwrap();
    batconnect::dtr::service::regenerate_for_lease(
        &mut tx,
        lease_id,
        domain::calendar::SundayDate::parse(FINAL_WEEK).unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let final_statement = app
        .scalar_i64(&format!(
            "SELECT id FROM dtrs WHERE lease_id = {lease_id} AND week_start = '{FINAL_WEEK}'"
        ))
        .await;
    created(
        app,
        "finance",
        &format!("/dtrs/{final_statement}/finalize"),
        Value::Null,
    )
    .await;
    // The lease's draft statement of the week, made the way a lease end makes one.
    let mut tx = app.db.begin().await.unwrap();
    batconnect::dtr::service::regenerate_for_lease(
        &mut tx,
        lease_id,
        domain::calendar::SundayDate::parse(WEEK).unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let statement = app
        .scalar_i64(&format!(
            "SELECT id FROM dtrs WHERE lease_id = {lease_id} AND week_start = '{WEEK}'"
        ))
        .await;
    World {
        lease: lease_id,
        lease_code: lease["lease_id"].as_str().unwrap().to_string(),
        due_invoice: invoices[1].clone(),
        held_invoice: invoices[2].clone(),
        open_balance: open["balance_id"].as_i64().unwrap(),
        obligation_posting: void_me["posting_id"].as_i64().unwrap(),
        earnings_posting: posting_of(&earnings),
        interim_posting: paid["posting_id"].as_i64().unwrap(),
        finalized_earnings_posting: posting_of(&earlier),
        statement,
    }
}

/// The posting an earnings answer recorded.
fn posting_of(earnings: &Value) -> i64 {
    earnings[0]["posting_id"]
        .as_i64()
        .or_else(|| earnings["recorded"][0]["posting_id"].as_i64())
        .or_else(|| earnings["items"][0]["posting_id"].as_i64())
        .unwrap_or_else(|| panic!("earnings answer: {earnings}"))
}

/// The request an action sends for `world`.
async fn request(
    app: &TestApp,
    console: &Console,
    world: &World,
    action: Action,
) -> reqwest::RequestBuilder {
    let finance = app.token("finance").await;
    let operations = app.token("operations").await;
    let post = |path: String, token: &str, body: Value| {
        app.client
            .post(app.url(&path))
            .bearer_auth(token)
            .json(&body)
    };
    let lease = world.lease;
    match action {
        Action::RecordEarnings => post(
            "/ledger/earnings".into(),
            &finance,
            json!({"earnings": [{"lease_id": lease, "period": "2026-11-15", "amount": "40.00"}]}),
        ),
        Action::RecordEarningsFile => console.upload(
            app,
            "/app/earnings/upload",
            format!(
                "lease_id,period,amount\n{},2026-11-08,35.00\n",
                world.lease_code
            )
            .as_bytes(),
        ),
        Action::VoidEarnings => post(
            format!("/ledger/postings/{}/void", world.earnings_posting),
            &finance,
            json!({"reason": "entered for the wrong lease"}),
        ),
        Action::VoidFinalizedEarnings => post(
            format!("/ledger/postings/{}/void", world.finalized_earnings_posting),
            &finance,
            json!({"reason": "entered for the wrong week"}),
        ),
        Action::InterimPayment => post(
            "/ledger/interim-payments".into(),
            &finance,
            json!({"lease_id": lease, "amount": "20.00", "payment_method": "cash",
                   "allocations": [{"balance_id": world.open_balance, "amount": "20.00"}]}),
        ),
        Action::VoidInterim => post(
            format!("/ledger/postings/{}/void", world.interim_posting),
            &finance,
            json!({"reason": "the check bounced back"}),
        ),
        Action::ManualObligation => post(
            "/ledger/obligations".into(),
            &finance,
            json!({"lease_id": lease, "category": "Misc", "amount": "15.00", "due_date": WEEK, "reason": "race"}),
        ),
        Action::VoidObligation => post(
            format!("/ledger/postings/{}/void", world.obligation_posting),
            &finance,
            json!({"reason": "charged in error"}),
        ),
        Action::PostingRun => post(
            "/payments/vehicle-repairs/ledger/post-installment".into(),
            &finance,
            json!({"post_all_due": true, "as_of": "2026-11-25"}),
        ),
        Action::RentRun => post(
            "/jobs/leases.post_weekly_rent/run".into(),
            &finance,
            json!({"as_of": "2026-11-25"}),
        ),
        Action::GenerateStatements => {
            post("/dtrs/generate".into(), &finance, json!({"week": WEEK}))
        }
        Action::FinalizeStatement => post(
            format!("/dtrs/{}/finalize", world.statement),
            &finance,
            Value::Null,
        ),
        Action::HoldInvoice => post(
            format!("/payments/vehicle-repairs/{}/hold", world.due_invoice),
            &operations,
            json!({"reason": "waiting for the workshop"}),
        ),
        Action::ResumeInvoice => post(
            format!("/payments/vehicle-repairs/{}/resume", world.held_invoice),
            &operations,
            json!({"reason": "dispute settled"}),
        ),
        Action::CancelInvoice => post(
            format!("/payments/vehicle-repairs/{}/cancel", world.due_invoice),
            &operations,
            json!({"reason": "entered twice"}),
        ),
        Action::EndLease => post(
            format!("/fleet/leases/{lease}/terminate"),
            &operations,
            json!({"end_date": "2026-11-24", "reason": "early_termination", "note": "race"}),
        ),
    }
}

/// How much later one of the two requests of trial `n` is sent, and which: trial 1 sends
/// both at the same instant, later trials spread one side over 0–40 ms, so the harness
/// meets the other action early, in the middle and late in its work.
fn stagger(n: u32) -> (std::time::Duration, std::time::Duration) {
    let later = std::time::Duration::from_millis(u64::from((n * 7) % 41));
    match n % 3 {
        0 => (std::time::Duration::ZERO, std::time::Duration::ZERO),
        1 => (std::time::Duration::ZERO, later),
        _ => (later, std::time::Duration::ZERO),
    }
}

/// Sends the two actions' requests (at the same instant, or one a few milliseconds after
/// the other); their statuses and bodies.
async fn fire(
    app: &TestApp,
    console: &Console,
    world: &World,
    (a, b): (Action, Action),
    n: u32,
) -> [(StatusCode, String); 2] {
    let (ra, rb) = (
        request(app, console, world, a).await,
        request(app, console, world, b).await,
    );
    let (delay_a, delay_b) = stagger(n);
    let send = |r: reqwest::RequestBuilder, delay: std::time::Duration| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let response = r.send().await.expect("request");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    };
    let (x, y) = tokio::join!(send(ra, delay_a), send(rb, delay_b));
    [x, y]
}

/// A console form's answer: a 303 is its success, a page with an error its refusal.
fn done(action: Action, status: StatusCode) -> bool {
    match action {
        Action::RecordEarningsFile => status == StatusCode::SEE_OTHER,
        _ => status.is_success(),
    }
}

/// What must hold after any trial; the first thing that does not, in words.
pub async fn check(app: &TestApp, world: &World) -> Result<(), String> {
    let problems = batconnect::ledger::verify::verify(app.db.reader())
        .await
        .map_err(|e| e.to_string())?;
    if !problems.is_empty() {
        return Err(format!("ledger verify: {problems:?}"));
    }
    let twice = app
        .scalar_i64(
            "SELECT COUNT(*) FROM (SELECT reference_id FROM ledger_postings WHERE category = 'Repair' \
             AND entry_type = 'OBLIGATION' GROUP BY reference_id HAVING COUNT(*) > 1) x",
        )
        .await;
    if twice > 0 {
        return Err(format!("{twice} installment(s) posted more than once"));
    }
    // The lease adds up: what its postings come to (obligations less payments, reversals
    // included) is what its balances leave open less the credit nothing has used.
    let lease = world.lease;
    let net = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM ledger_postings WHERE lease_id = {lease}"
        ))
        .await;
    let open = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(balance_cents), 0) AS BIGINT) FROM ledger_balances WHERE lease_id = {lease}"
        ))
        .await;
    let unused = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(-p.amount_cents - (SELECT COALESCE(SUM(a.amount_cents), 0) FROM ledger_allocations a \
             WHERE a.payment_posting_id = p.id AND a.reversed = 0)), 0) AS BIGINT) FROM ledger_postings p \
             WHERE p.lease_id = {lease} AND p.status = 'POSTED' AND p.entry_type IN ('EARNINGS', 'INTERIM_PAYMENT', 'CREDIT')"
        ))
        .await;
    if net != open - unused {
        return Err(format!(
            "lease {lease}: postings come to {net} cents, balances leave {open} open less {unused} unused credit"
        ));
    }
    // A finalized statement is never changed by a run that came after it.
    let rewritten = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM dtrs WHERE lease_id = {lease} AND status = 'Finalized' AND finalized_on < generated_on"
        ))
        .await;
    if rewritten > 0 {
        return Err(format!(
            "lease {lease}: a finalized statement was rewritten"
        ));
    }
    // Every statement adds up: gross − deducted − adjustments = net pay, never negative.
    let contents: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT content FROM dtrs WHERE lease_id = {lease}"
    ))
    .fetch_all(app.db.reader())
    .await
    .map_err(|e| e.to_string())?;
    for content in contents {
        let c: Value = serde_json::from_str(&content).map_err(|e| e.to_string())?;
        let cents = |name: &str| {
            let text = c[name].as_str().unwrap_or("0.00");
            let (whole, part) = text.split_once('.').unwrap_or((text, "0"));
            whole.parse::<i64>().unwrap_or(0) * 100 + part.parse::<i64>().unwrap_or(0)
        };
        let net = cents("gross_earnings") - cents("total_deducted") - cents("total_adjustments");
        if net != cents("net_pay") || net < 0 {
            return Err(format!("lease {lease}: a statement does not add up: {c}"));
        }
    }
    Ok(())
}

/// One trial of `a` against `b` on a fresh lease.
pub async fn trial(app: &TestApp, console: &Console, n: u32, a: Action, b: Action) -> TrialResult {
    let world = prepare(app, n).await;
    let answers = fire(app, console, &world, (a, b), n).await;
    if let Some((status, body)) = answers.iter().find(|(s, _)| s.is_server_error()) {
        return TrialResult {
            outcome: Outcome::ServerError,
            detail: format!(
                "{} × {}: {status} {}",
                a.name(),
                b.name(),
                body.chars().take(300).collect::<String>()
            ),
        };
    }
    if let Err(problem) = check(app, &world).await {
        return TrialResult {
            outcome: Outcome::Broken,
            detail: format!("{} × {}: {problem}", a.name(), b.name()),
        };
    }
    let done = [done(a, answers[0].0), done(b, answers[1].0)];
    let outcome = match done {
        [true, true] => Outcome::BothDone,
        [false, false] => Outcome::BothRefused,
        _ => Outcome::OneRefused,
    };
    TrialResult {
        outcome,
        detail: format!(
            "{} {} × {} {}",
            a.name(),
            answers[0].0.as_u16(),
            b.name(),
            answers[1].0.as_u16()
        ),
    }
}

/// Counts of outcomes per pair.
pub type Matrix = BTreeMap<(Action, Action), BTreeMap<Outcome, u32>>;

/// Runs `trials` trials of each pair on `app`, numbering leases from `first`; the matrix
/// and every defect found.
pub async fn run_pairs(
    app: &TestApp,
    pairs: &[(Action, Action)],
    trials: u32,
    first: u32,
) -> (Matrix, Vec<String>) {
    let console = Console::sign_in(app, "finance").await;
    let mut matrix = Matrix::new();
    let mut defects = Vec::new();
    let mut n = first;
    for &(a, b) in pairs {
        for _ in 0..trials {
            n += 1;
            let result = trial(app, &console, n, a, b).await;
            *matrix
                .entry((a, b))
                .or_default()
                .entry(result.outcome)
                .or_default() += 1;
            if result.outcome.is_defect() {
                defects.push(result.to_string());
            }
        }
    }
    (matrix, defects)
}

/// The matrix as a Markdown table (pairs × outcomes).
pub fn render(backend: Backend, matrix: &Matrix) -> String {
    let mut out = format!(
        "| {} pair | {} |\n|---|{}\n",
        backend.name(),
        Outcome::ALL.map(Outcome::name).join(" | "),
        "---:|".repeat(Outcome::ALL.len())
    );
    for ((a, b), counts) in matrix {
        let cells: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| counts.get(o).copied().unwrap_or(0).to_string())
            .collect();
        out.push_str(&format!(
            "| {} × {} | {} |\n",
            a.name(),
            b.name(),
            cells.join(" | ")
        ));
    }
    out
}
