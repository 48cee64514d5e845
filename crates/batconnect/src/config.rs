//! Settings read from the environment (`BAT_*`), validated once at start-up so a bad value
//! stops the process with one line naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;

use crate::db::Backend;

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub admin_password: Option<String>,
    /// Where `admin_password` came from, for the start-up log.
    pub admin_password_source: &'static str,
    pub timezone: Tz,
    pub data_dir: PathBuf,
    pub token_secret: Option<String>,
    pub token_ttl_seconds: i64,
    pub schema_dir: Option<PathBuf>,
    pub db_max_connections: u32,
    /// Cron schedule of `repairs.post_due_installments` (default Sunday 04:30).
    pub post_schedule: crate::cron::CronSchedule,
    /// Cron schedule of DTR generation (default Sunday 05:00); always after posting.
    pub dtr_schedule: crate::cron::CronSchedule,
    /// Whether `serve` runs the scheduler in-process.
    pub scheduler_enabled: bool,
    pub scheduler_tick_seconds: u64,
    /// Missed Sundays the scheduler catches up on its own (`BAT_CATCH_UP_WEEKS`).
    pub catch_up_weeks: u32,
    pub posting_batch_size: usize,
    /// Connections posting side by side on PostgreSQL (`BAT_POSTING_WORKERS`).
    pub posting_workers: usize,
    /// Test hook (`BAT_TEST_POSTING_PAUSE_MS`): pause between posting batches, so a test can
    /// kill a worker in the middle of a run.
    pub posting_pause_ms: Option<u64>,
    /// Where files (receipts, uploaded documents) go: `None` is the local directory
    /// `<data_dir>/files`; `Some("s3://bucket/prefix")` is S3-compatible object storage.
    pub storage_url: Option<String>,
    /// The standard `AWS_*` settings (credentials, region, endpoint…) read for S3 storage,
    /// as (lower-case name, value) pairs.
    pub aws_settings: Vec<(String, String)>,
    /// Largest uploaded document accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Shown at the top of receipts and exports.
    pub fleet_name: String,
    /// Where people reach the service (`BAT_PUBLIC_URL`); when it is https the console's
    /// session cookie is marked `Secure`.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`BAT_TRUSTED_PROXIES`, a
    /// comma-separated list of addresses; empty by default: the peer's address is the
    /// client's). The sign-in throttle then counts per real client, not per proxy.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Seconds a connection may take to send a request's headers, and may stay idle
    /// between requests before its next headers start (`BAT_HEADER_TIMEOUT_SECONDS`,
    /// 1 to 60, default 10).
    pub header_timeout_seconds: u64,
    /// Seconds a kept-alive connection may wait idle for its next request
    /// (`BAT_KEEP_ALIVE_SECONDS`, 1 to 3600, default 60).
    pub keep_alive_seconds: u64,
    /// Seconds a request's whole body may take to arrive once its headers have
    /// (`BAT_BODY_TIMEOUT_SECONDS`, 1 to 3600, default 120: a 10 MiB upload at 1 Mbit/s).
    pub body_timeout_seconds: u64,
    /// Open connections at most (`BAT_MAX_CONNECTIONS`, 16 to 1,000,000, default 4,096);
    /// at the cap the oldest connection still sending its headers is closed for a new one.
    pub max_connections: usize,
    /// Weekly installment by invoice total (`BAT_REPAYMENT_MATRIX`); an invoice keeps the
    /// schedule it was created with.
    pub repayment_matrix: domain::matrix::RepaymentMatrix,
    /// How many weeks after the current payment week a schedule may start
    /// (`BAT_MAX_START_WEEKS_AHEAD`).
    pub max_start_weeks_ahead: u32,
    /// The go-live week of weekly rent (`BAT_RENT_START_WEEK`): no rent is posted for an
    /// earlier week. Unset: the first week the chain posts rent on the database.
    pub rent_start_week: Option<domain::calendar::SundayDate>,
    /// Charged when a lease ends early (`BAT_EARLY_TERMINATION_FEE`, default 500.00).
    pub early_termination_fee: domain::money::Money,
    /// Test hook (`BAT_TEST_NOW`, RFC 3339): the process's clock stands still at this
    /// time, so a test can drive a separate `worker` or CLI process through a chosen week.
    pub test_now: Option<chrono::DateTime<chrono::Utc>>,
}

/// Connections posting due installments side by side on PostgreSQL unless configured
/// (`BAT_POSTING_WORKERS`).
pub const DEFAULT_POSTING_WORKERS: usize = 2;

/// Installments per posting transaction unless configured (`BAT_POSTING_BATCH_SIZE`).
/// SQLite's one writer takes 20,000: every commit writes the batch's pages to the WAL, so
/// fewer, bigger commits post faster (200,000 installments: 2.65 s against 2.84 s with
/// 5,000). PostgreSQL's walks take 5,000 each: bigger batches were no faster there and keep
/// more rows locked per walk.
pub fn default_posting_batch_size(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 20_000,
        Backend::Postgres => 5_000,
    }
}

/// The `AWS_*` variables passed to S3 storage (those object_store understands).
pub const AWS_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_METADATA_ENDPOINT",
    "AWS_IMDSV1_FALLBACK",
    "AWS_SKIP_SIGNATURE",
    "AWS_SERVER_SIDE_ENCRYPTION",
    "AWS_SSE_KMS_KEY_ID",
    "AWS_SSE_BUCKET_KEY_ENABLED",
    "AWS_REQUEST_PAYER",
];

// Secrets never reach logs.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .field("timezone", &self.timezone)
            .field("data_dir", &self.data_dir)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("schema_dir", &self.schema_dir)
            .field("db_max_connections", &self.db_max_connections)
            .field("post_schedule", &self.post_schedule.expression)
            .field("dtr_schedule", &self.dtr_schedule.expression)
            .field("scheduler_enabled", &self.scheduler_enabled)
            .field("catch_up_weeks", &self.catch_up_weeks)
            .field("storage_url", &self.storage_url)
            .field(
                "aws_settings",
                &self
                    .aws_settings
                    .iter()
                    .map(|(k, v)| {
                        let secret = k.contains("secret") || k.contains("token");
                        (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
                    })
                    .collect::<Vec<_>>(),
            )
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("fleet_name", &self.fleet_name)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("header_timeout_seconds", &self.header_timeout_seconds)
            .field("keep_alive_seconds", &self.keep_alive_seconds)
            .field("body_timeout_seconds", &self.body_timeout_seconds)
            .field("max_connections", &self.max_connections)
            .field("repayment_matrix", &self.repayment_matrix)
            .field("max_start_weeks_ahead", &self.max_start_weeks_ahead)
            .field("test_now", &self.test_now)
            .field("rent_start_week", &self.rent_start_week)
            .field("early_termination_fee", &self.early_termination_fee)
            .finish()
    }
}

fn redact_url(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => match head.rsplit_once(':') {
            Some((user, _password)) if user.contains("//") && !user.ends_with('/') => {
                format!("{user}:<redacted>@{tail}")
            }
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Config {
    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(get("BAT_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("BAT_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/batconnect.db", data_dir.display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                name: "BAT_DATABASE_URL",
                reason: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        let listen = get("BAT_LISTEN").unwrap_or_else(|| "127.0.0.1:8000".into());
        let listen = listen.parse().map_err(|_| ConfigError {
            name: "BAT_LISTEN",
            reason: format!("'{listen}' is not an address such as 127.0.0.1:8000"),
        })?;
        let tz_name = get("BAT_TIMEZONE").unwrap_or_else(|| "America/New_York".into());
        let timezone = tz_name.parse::<Tz>().map_err(|_| ConfigError {
            name: "BAT_TIMEZONE",
            reason: format!("'{tz_name}' is not an IANA time zone such as America/New_York"),
        })?;
        let token_secret = get("BAT_TOKEN_SECRET");
        if let Some(secret) = &token_secret {
            if secret.len() < 32 {
                return Err(ConfigError {
                    name: "BAT_TOKEN_SECRET",
                    reason: "must be at least 32 characters".into(),
                });
            }
        }
        let token_ttl_seconds =
            parse_number(&get, "BAT_TOKEN_TTL_SECONDS", 8 * 3600, 60, 30 * 86400)?;
        let db_max_connections = parse_number(&get, "BAT_DB_MAX_CONNECTIONS", 10, 1, 200)? as u32;
        let admin_password = get("BAT_ADMIN_PASSWORD");
        if let Some(p) = &admin_password {
            if p.len() < 8 {
                return Err(ConfigError {
                    name: "BAT_ADMIN_PASSWORD",
                    reason: "must be at least 8 characters".into(),
                });
            }
        }
        let schema_dir = get("BAT_SCHEMA_DIR").map(PathBuf::from);
        if let Some(dir) = &schema_dir {
            if !dir.is_dir() {
                return Err(ConfigError {
                    name: "BAT_SCHEMA_DIR",
                    reason: format!("'{}' is not a directory", dir.display()),
                });
            }
        }
        let schedule = |name: &'static str, default: &str| {
            let text = get(name).unwrap_or_else(|| default.to_string());
            crate::cron::CronSchedule::parse(&text).map_err(|reason| ConfigError { name, reason })
        };
        let post_schedule = schedule("BAT_SCHEDULE_POST_INSTALLMENTS", "30 4 * * Sun")?;
        let dtr_schedule = schedule("BAT_SCHEDULE_DTR", "0 5 * * Sun")?;
        let scheduler_enabled = match get("BAT_SCHEDULER").as_deref().map(str::trim) {
            None | Some("on") | Some("true") | Some("1") => true,
            Some("off") | Some("false") | Some("0") => false,
            Some(other) => {
                return Err(ConfigError {
                    name: "BAT_SCHEDULER",
                    reason: format!("'{other}' must be on or off"),
                });
            }
        };
        let scheduler_tick_seconds =
            parse_number(&get, "BAT_SCHEDULER_TICK_SECONDS", 30, 1, 3600)? as u64;
        let catch_up_weeks = parse_number(&get, "BAT_CATCH_UP_WEEKS", 8, 1, 104)? as u32;
        let posting_batch_size = parse_number(
            &get,
            "BAT_POSTING_BATCH_SIZE",
            default_posting_batch_size(Backend::from_url(&database_url)) as i64,
            1,
            20000,
        )? as usize;
        let posting_workers = parse_number(
            &get,
            "BAT_POSTING_WORKERS",
            DEFAULT_POSTING_WORKERS as i64,
            1,
            16,
        )? as usize;
        let posting_pause_ms = match get("BAT_TEST_POSTING_PAUSE_MS") {
            None => None,
            Some(_) => Some(parse_number(&get, "BAT_TEST_POSTING_PAUSE_MS", 0, 0, 60_000)? as u64),
        };
        let storage_url = get("BAT_STORAGE_URL").map(|u| u.trim().to_string());
        if let Some(url) = &storage_url {
            let bucket = url
                .strip_prefix("s3://")
                .map(|rest| rest.split('/').next().unwrap_or_default())
                .unwrap_or_default();
            if bucket.is_empty() {
                return Err(ConfigError {
                    name: "BAT_STORAGE_URL",
                    reason: format!(
                        "'{url}' must be s3://bucket or s3://bucket/prefix (unset it to keep files under BAT_DATA_DIR)"
                    ),
                });
            }
        }
        let aws_settings = AWS_VARIABLES
            .iter()
            .filter_map(|name| get(name).map(|v| (name.to_ascii_lowercase(), v)))
            .collect();
        // A scanned workshop invoice is a few MiB; 100 MiB is room for a long photographed
        // one while keeping a single request from filling the disk or the S3 bill.
        let max_upload_bytes = parse_number(
            &get,
            "BAT_MAX_UPLOAD_BYTES",
            10 * 1024 * 1024,
            1024,
            100 * 1024 * 1024,
        )? as usize;
        let fleet_name = get("BAT_FLEET_NAME")
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "BAT Connect".to_string());
        let public_url = get("BAT_PUBLIC_URL").map(|u| u.trim().trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError {
                    name: "BAT_PUBLIC_URL",
                    reason: format!("'{url}' must start with http:// or https://"),
                });
            }
        }
        let mut trusted_proxies = Vec::new();
        for item in get("BAT_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            trusted_proxies.push(item.parse().map_err(|_| ConfigError {
                name: "BAT_TRUSTED_PROXIES",
                reason: format!(
                    "'{item}' is not an IP address (give the proxies' addresses, comma-separated)"
                ),
            })?);
        }
        let header_timeout_seconds =
            parse_number(&get, "BAT_HEADER_TIMEOUT_SECONDS", 10, 1, 60)? as u64;
        let keep_alive_seconds = parse_number(&get, "BAT_KEEP_ALIVE_SECONDS", 60, 1, 3600)? as u64;
        let body_timeout_seconds =
            parse_number(&get, "BAT_BODY_TIMEOUT_SECONDS", 120, 1, 3600)? as u64;
        let max_connections =
            parse_number(&get, "BAT_MAX_CONNECTIONS", 4096, 16, 1_000_000)? as usize;
        let repayment_matrix = match get("BAT_REPAYMENT_MATRIX") {
            None => domain::matrix::RepaymentMatrix::default(),
            Some(value) => parse_matrix(&value).map_err(|reason| ConfigError {
                name: "BAT_REPAYMENT_MATRIX",
                reason,
            })?,
        };
        let max_start_weeks_ahead = parse_number(
            &get,
            "BAT_MAX_START_WEEKS_AHEAD",
            i64::from(domain::input::DEFAULT_MAX_START_WEEKS_AHEAD),
            0,
            520,
        )? as u32;
        let test_now = match get("BAT_TEST_NOW") {
            None => None,
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(text.trim())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| ConfigError {
                        name: "BAT_TEST_NOW",
                        reason: format!(
                            "'{text}' is not an RFC 3339 time such as 2026-11-29T10:00:00Z"
                        ),
                    })?,
            ),
        };
        let rent_start_week = match get("BAT_RENT_START_WEEK") {
            None => None,
            Some(text) => Some(
                domain::calendar::SundayDate::parse(text.trim()).map_err(|e| ConfigError {
                    name: "BAT_RENT_START_WEEK",
                    reason: format!(
                        "{e}; it must be the Sunday of the first week rent is posted for"
                    ),
                })?,
            ),
        };
        let early_termination_fee = match get("BAT_EARLY_TERMINATION_FEE") {
            None => domain::money::Money::from_cents(50_000),
            Some(text) => domain::money::Money::parse(&text)
                .ok()
                .filter(|m| !m.is_negative() && *m <= domain::money::Money::MAX_AMOUNT)
                .ok_or_else(|| ConfigError {
                    name: "BAT_EARLY_TERMINATION_FEE",
                    reason: format!("'{text}' must be an amount from 0.00 to 1000000.00"),
                })?,
        };
        Ok(Config {
            rent_start_week,
            early_termination_fee,
            test_now,
            repayment_matrix,
            max_start_weeks_ahead,
            storage_url,
            aws_settings,
            max_upload_bytes,
            fleet_name,
            public_url,
            trusted_proxies,
            header_timeout_seconds,
            keep_alive_seconds,
            body_timeout_seconds,
            max_connections,
            posting_pause_ms,
            post_schedule,
            dtr_schedule,
            scheduler_enabled,
            scheduler_tick_seconds,
            catch_up_weeks,
            posting_batch_size,
            posting_workers,
            database_url,
            listen,
            admin_password,
            admin_password_source: "the password from BAT_ADMIN_PASSWORD",
            timezone,
            data_dir,
            token_secret,
            token_ttl_seconds,
            schema_dir,
            db_max_connections,
        })
    }
}

/// `BAT_REPAYMENT_MATRIX`: the matrix as JSON, or the path of a JSON file holding it.
/// Either `{"brackets": [...]}` or the bracket list alone; each bracket is
/// `{"over": "200.00", "up_to": "500.00", "weekly": "100.00"}` (`over` optional, `up_to`
/// null on the last bracket only, `weekly` null for "the whole amount at once").
fn parse_matrix(value: &str) -> Result<domain::matrix::RepaymentMatrix, String> {
    let text = value.trim();
    let json = if text.starts_with('{') || text.starts_with('[') {
        text.to_string()
    } else {
        std::fs::read_to_string(text)
            .map_err(|e| format!("cannot read the matrix file '{text}': {e}"))?
    };
    let json = json.trim();
    let document = if json.starts_with('[') {
        format!("{{\"brackets\": {json}}}")
    } else {
        json.to_string()
    };
    serde_json::from_str(&document).map_err(|e| {
        // serde's "at line 1 column 80" means nothing to an operator; the bracket does.
        let message = e.to_string();
        message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string()
    })
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError {
                name,
                reason: format!("'{raw}' must be a whole number from {min} to {max}"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_use_sqlite_under_data_dir_and_new_york() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://./data/batconnect.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(c.timezone, chrono_tz::America::New_York);
    }

    #[test]
    fn bad_settings_name_the_setting() {
        for bad in ["0", "17", "two"] {
            assert_eq!(
                config(&[("BAT_POSTING_WORKERS", bad)]).unwrap_err().name,
                "BAT_POSTING_WORKERS"
            );
        }
        assert_eq!(config(&[]).unwrap().posting_workers, 2);
        // One batch size per backend unless set.
        assert_eq!(config(&[]).unwrap().posting_batch_size, 20_000);
        assert_eq!(
            config(&[("BAT_DATABASE_URL", "postgres://db/prod")])
                .unwrap()
                .posting_batch_size,
            5_000
        );
        assert_eq!(
            config(&[("BAT_POSTING_BATCH_SIZE", "700")])
                .unwrap()
                .posting_batch_size,
            700
        );
        assert_eq!(
            config(&[("BAT_POSTING_BATCH_SIZE", "20001")])
                .unwrap_err()
                .name,
            "BAT_POSTING_BATCH_SIZE"
        );
        assert_eq!(
            config(&[("BAT_LISTEN", "nowhere")]).unwrap_err().name,
            "BAT_LISTEN"
        );
        assert_eq!(
            config(&[("BAT_TIMEZONE", "Mars/Base")]).unwrap_err().name,
            "BAT_TIMEZONE"
        );
        assert_eq!(
            config(&[("BAT_DATABASE_URL", "mysql://x")])
                .unwrap_err()
                .name,
            "BAT_DATABASE_URL"
        );
        assert_eq!(
            config(&[("BAT_TOKEN_SECRET", "short")]).unwrap_err().name,
            "BAT_TOKEN_SECRET"
        );
        assert_eq!(
            config(&[("BAT_TOKEN_TTL_SECONDS", "abc")])
                .unwrap_err()
                .name,
            "BAT_TOKEN_TTL_SECONDS"
        );
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let c = config(&[
            ("BAT_DATABASE_URL", "postgres://bat:hunter22@db/prod"),
            ("BAT_ADMIN_PASSWORD", "supersecret"),
            ("AWS_SECRET_ACCESS_KEY", "awssecret42"),
            ("AWS_REGION", "us-east-2"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter22"));
        assert!(!shown.contains("supersecret"));
        assert!(!shown.contains("awssecret42"));
        assert!(shown.contains("us-east-2"));
    }

    #[test]
    fn the_repayment_matrix_is_configurable_and_checked() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.repayment_matrix,
            domain::matrix::RepaymentMatrix::default()
        );
        assert_eq!(c.max_start_weeks_ahead, 8);
        let c = config(&[(
            "BAT_REPAYMENT_MATRIX",
            r#"[{"up_to": "100.00", "weekly": null}, {"over": "100.00", "up_to": null, "weekly": "50.00"}]"#,
        )])
        .unwrap();
        let weekly = c
            .repayment_matrix
            .weekly_installment(domain::money::Money::from_cents(30_000));
        assert_eq!(weekly, domain::money::Money::from_cents(5_000));
        for (bad, says) in [
            (
                r#"[{"up_to": "200.00", "weekly": null}, {"over": "250.00", "up_to": null, "weekly": "10"}]"#,
                "bracket 2: it starts over 250.00 but the previous bracket ends at 200.00",
            ),
            (
                r#"{"brackets": [{"up_to": "500.00", "weekly": "1"}, {"up_to": "400.00", "weekly": "1"}, {"up_to": null, "weekly": "1"}]}"#,
                "bracket 2: upper bounds must be strictly ascending",
            ),
            (
                r#"[{"up_to": "5.00", "weekly": null}]"#,
                "the last bracket must have no upper bound",
            ),
            ("/no/such/matrix.json", "cannot read the matrix file"),
        ] {
            let err = config(&[("BAT_REPAYMENT_MATRIX", bad)]).unwrap_err();
            assert_eq!(err.name, "BAT_REPAYMENT_MATRIX");
            assert!(err.reason.contains(says), "{bad}: {}", err.reason);
            assert!(!err.reason.contains("line 1"), "{}", err.reason);
        }
        let file = std::env::temp_dir().join(format!("matrix-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(
            &file,
            r#"{"brackets": [{"up_to": null, "weekly": "25.00"}]}"#,
        )
        .unwrap();
        let c = config(&[("BAT_REPAYMENT_MATRIX", file.to_str().unwrap())]).unwrap();
        assert_eq!(c.repayment_matrix.brackets().len(), 1);
        std::fs::remove_file(file).unwrap();
        assert_eq!(
            config(&[("BAT_MAX_START_WEEKS_AHEAD", "-1")])
                .unwrap_err()
                .name,
            "BAT_MAX_START_WEEKS_AHEAD"
        );
    }

    #[test]
    fn storage_settings_are_checked() {
        let c = config(&[]).unwrap();
        assert_eq!(c.storage_url, None);
        assert_eq!(c.max_upload_bytes, 10 * 1024 * 1024);
        let c = config(&[("BAT_STORAGE_URL", "s3://bucket/receipts")]).unwrap();
        assert_eq!(c.storage_url.as_deref(), Some("s3://bucket/receipts"));
        for bad in ["s3://", "/var/files", "gs://bucket"] {
            assert_eq!(
                config(&[("BAT_STORAGE_URL", bad)]).unwrap_err().name,
                "BAT_STORAGE_URL"
            );
        }
        assert_eq!(
            config(&[("BAT_MAX_UPLOAD_BYTES", "lots")])
                .unwrap_err()
                .name,
            "BAT_MAX_UPLOAD_BYTES"
        );
    }
}
