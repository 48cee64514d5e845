//! A real Chromium for the console tests: Debian's `chromium` driven through
//! `chromedriver` (WebDriver) by `fantoccini`. One chromedriver per test binary, one
//! browser session per test. Where either program is missing the console tests print a
//! NOTICE and pass without running, unless `BAT_TEST_REQUIRE_BROWSER=1` (set by CI).

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
/// axe-core (vendored from npm with its licence): every page a test visits is checked.
const AXE: &str = include_str!("vendor/axe-core/axe.min.js");
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    url: String,
    _process: crate::sidecar::Sidecar,
}

fn start_driver() -> Result<Driver, String> {
    for program in [CHROMIUM, CHROMEDRIVER] {
        if !std::path::Path::new(program).exists() {
            return Err(format!(
                "{program} is not installed (apt-get install chromium chromium-driver)"
            ));
        }
    }
    let process = crate::sidecar::start(
        |port| format!("{CHROMEDRIVER} --port={port} --allowed-ips=127.0.0.1 >/dev/null 2>&1 &"),
        Duration::from_secs(20),
    )
    .map_err(|e| format!("chromedriver did not start: {e}"))?;
    Ok(Driver {
        url: format!("http://127.0.0.1:{}", process.port),
        _process: process,
    })
}

fn driver() -> Option<&'static Driver> {
    static DRIVER: OnceLock<Option<Driver>> = OnceLock::new();
    DRIVER
        .get_or_init(|| match start_driver() {
            Ok(driver) => Some(driver),
            Err(reason) => {
                if std::env::var("BAT_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("BAT_TEST_REQUIRE_BROWSER=1 but no browser can start: {reason}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: {reason}: the browser tests of the console are SKIPPED (they pass without running).\n"
                );
                None
            }
        })
        .as_ref()
}

/// One headless Chromium window on the app at `base`.
pub struct Browser {
    pub client: Client,
    pub base: String,
}

impl Browser {
    /// `None` (the test is skipped) when no browser is installed.
    pub async fn open(base: &str) -> Option<Browser> {
        let driver = driver()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900"],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a chromium session");
        Some(Browser {
            client,
            base: base.to_string(),
        })
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
        self.check_accessibility().await;
    }

    /// Runs axe-core on the page: no `serious` or `critical` violation.
    pub async fn check_accessibility(&self) {
        let violations = self.serious_violations().await;
        let path = self.path().await;
        assert!(
            violations.is_empty(),
            "accessibility of {path}: {violations:#?}"
        );
    }

    /// The page's `serious` and `critical` accessibility violations, by axe-core.
    pub async fn serious_violations(&self) -> Vec<String> {
        self.client
            .execute(&format!("{AXE}\n;return true;"), vec![])
            .await
            .expect("inject axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found.clone())
            .unwrap_or_else(|_| panic!("axe-core did not report: {found}"))
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        path
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// The text of `css` once `ready` holds for it: for parts of a page that update
    /// themselves (a running job's table). Panics with the last text after 30 s — a loaded
    /// CI machine is slow, so this waits on the page, not on a guess of how long work takes.
    pub async fn text_when(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = std::time::Instant::now();
        loop {
            // The element may be replaced by a refresh between finding it and reading it.
            let text = self.find(css).await.text().await.unwrap_or_default();
            if ready(&text) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{css} never got ready: {text}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Types into the input whose label is `label`, replacing what was there.
    pub async fn fill(&self, label: &str, text: &str) {
        let input = self.labelled(label).await;
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    /// The form control a `<label>` with exactly this text is for.
    pub async fn labelled(&self, label: &str) -> Element {
        let xpath = format!("//label[normalize-space(.)=\"{label}\"]");
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no label {label}: {e}"));
        let id = element
            .attr("for")
            .await
            .expect("for")
            .unwrap_or_else(|| panic!("label {label} has no for"));
        self.find(&format!("#{id}")).await
    }

    async fn control(&self, text: &str) -> Element {
        let xpath = format!(
            "//button[normalize-space(.)='{text}'] | //summary[normalize-space(.)='{text}']"
        );
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text}: {e}"))
    }

    /// Clicks the button with exactly this text and waits for the page it leads to.
    pub async fn press(&self, text: &str) {
        let old_page = self.find("html").await;
        self.control(text)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {text}: {e}"));
        self.wait_for_new_page(old_page).await;
    }

    /// Clicks a control that opens something on the same page (a confirmation panel).
    pub async fn reveal(&self, text: &str) {
        self.control(text)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {text}: {e}"));
    }

    /// Goes back in history and waits for the page.
    pub async fn back(&self) {
        let old_page = self.find("html").await;
        self.client.back().await.expect("back");
        self.wait_for_new_page(old_page).await;
    }

    async fn wait_for_new_page(&self, old_page: Element) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if old_page.tag_name().await.is_err() {
                self.find("h1").await;
                self.check_accessibility().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not change within 15 s");
    }

    pub async fn has_button(&self, text: &str) -> bool {
        let xpath = format!(
            "//button[normalize-space(.)='{text}'] | //summary[normalize-space(.)='{text}']"
        );
        !self
            .client
            .find_all(Locator::XPath(&xpath))
            .await
            .expect("find_all")
            .is_empty()
    }

    pub async fn text(&self) -> String {
        self.find("body").await.text().await.expect("text")
    }

    /// The window `width` px wide (a phone: 390), the page reloaded at that width so its
    /// scripts see it.
    pub async fn narrow(&self, width: u32) {
        self.client
            .set_window_size(width, 844)
            .await
            .expect("window size");
        self.client.refresh().await.expect("reload");
    }

    /// Runs `script` in the page; what it returns.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// The page's HTML as it stands.
    pub async fn html(&self) -> String {
        self.client.source().await.expect("source")
    }

    pub async fn title(&self) -> String {
        self.find("h1").await.text().await.expect("h1")
    }

    /// Signs in on the sign-in page the browser is on (keeping where it was going), or on
    /// a fresh one.
    pub async fn sign_in(&self, username: &str, password: &str) {
        if !self.path().await.starts_with("/app/sign-in") {
            self.goto("/app/sign-in").await;
        }
        self.fill("Username", username).await;
        self.fill("Password", password).await;
        self.press("Sign in").await;
    }

    /// The session cookie's value, for a request made outside the browser.
    pub async fn session_cookie(&self) -> String {
        self.client
            .get_named_cookie("bat_session")
            .await
            .expect("the session cookie")
            .value()
            .to_string()
    }

    /// Saves the page at 1280 px and 390 px wide under `BAT_TEST_KEEP_FILES`, if set.
    pub async fn screenshots(&self, name: &str) {
        let Ok(dir) = std::env::var("BAT_TEST_KEEP_FILES") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir).join("console");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        for (width, height) in [(1280, 900), (390, 844)] {
            self.client
                .set_window_size(width, height)
                .await
                .expect("window size");
            // The whole page, not only the first screen.
            let full = self
                .client
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .unwrap_or(height as u64)
                .clamp(height as u64, 5000) as u32;
            self.client
                .set_window_size(width, full + 140)
                .await
                .expect("window size");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).expect("write png");
        }
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
