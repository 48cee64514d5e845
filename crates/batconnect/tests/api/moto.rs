//! A local S3-compatible server (moto, from PyPI) for the S3 storage tests: started once
//! per test binary on a free port, stopped when the binary exits. Where it cannot start
//! (moto not installed), the S3 tests print a notice and pass without running, unless
//! `BAT_TEST_REQUIRE_S3=1` (set by CI once it has installed moto).

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

pub struct Moto {
    pub endpoint: String,
    _process: crate::sidecar::Sidecar,
}

fn start() -> Result<Moto, String> {
    let process = crate::sidecar::start(
        |port| {
            format!(
                "if command -v moto_server >/dev/null 2>&1; then moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & \
                 else python3 -m moto.server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & fi;"
            )
        },
        Duration::from_secs(30),
    )
    .map_err(|e| format!("moto_server did not start ({e}); install it with: python3 -m pip install 'moto[server]'"))?;
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{}", process.port),
        _process: process,
    })
}

/// The running server, or `None` (with a notice printed once) when it cannot start.
pub fn server() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(|| match start() {
        Ok(moto) => Some(moto),
        Err(reason) => {
            if std::env::var("BAT_TEST_REQUIRE_S3").is_ok_and(|v| v == "1") {
                panic!("BAT_TEST_REQUIRE_S3=1 but the local S3 server cannot start: {reason}");
            }
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTICE: local S3 server (moto) not available: {reason}. The S3 storage tests are SKIPPED.\n"
            );
            None
        }
    })
    .as_ref()
}

impl Moto {
    /// Creates a bucket (moto takes unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(
            response.status().is_success(),
            "create bucket: {}",
            response.status()
        );
    }

    /// The keys in a bucket, from the server's own listing (moto lists without signing).
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let xml = reqwest::Client::new()
            .get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .send()
            .await
            .expect("list bucket")
            .text()
            .await
            .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }

    /// An object's bytes read by a second, independent client of the bucket.
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let settings: Vec<(String, String)> = self
            .env(bucket, "")
            .into_iter()
            .filter(|(name, _)| name.starts_with("AWS_"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let reader =
            batconnect::storage::Storage::s3(&format!("s3://{bucket}"), &settings).unwrap();
        reader.get(key).await.unwrap().map(|b| b.to_vec())
    }

    /// The settings that point the service at this server.
    pub fn env(&self, bucket: &str, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("BAT_STORAGE_URL", format!("s3://{bucket}/{prefix}")),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}
