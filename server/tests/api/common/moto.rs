//! moto's S3 server, for the tests that need a real S3 API: evidence, and several replicas
//! sharing one store.
use std::path::{Path, PathBuf};

/// moto's S3 server, from `AEGIS_MOTO_SERVER` or the test command's virtualenv.
pub fn moto_server() -> Option<PathBuf> {
    let path = std::env::var_os("AEGIS_MOTO_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/aegis-moto/bin/moto_server"))
        })?;
    path.exists().then_some(path)
}

pub struct Moto {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto with `bucket` in it, or says why not: CI must have moto (the test command
    /// installs it); elsewhere the test is skipped with a printed reason.
    pub async fn start_with_bucket(test: &str, bucket: &str) -> Option<Moto> {
        let Some(binary) = moto_server() else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run {test}: install moto (scripts/test.sh does)"
            );
            eprintln!("skipping {test}: moto_server not found (set AEGIS_MOTO_SERVER)");
            return None;
        };
        let moto = start_moto(&binary).await;
        let created = reqwest::Client::new()
            .put(format!("{}/{bucket}", moto.endpoint()))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "bucket {bucket}: {created:?}"
        );
        Some(moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's settings for evidence in `bucket` on this store.
    pub fn storage_vars(&self, bucket: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AEGIS_STORAGE_URL", format!("s3://{bucket}")),
            ("AEGIS_S3_ENDPOINT", self.endpoint()),
            ("AEGIS_S3_ALLOW_HTTP", "true".into()),
            ("AEGIS_S3_ACCESS_KEY_ID", "testing".into()),
            ("AEGIS_S3_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }
}

async fn start_moto(binary: &Path) -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let moto = Moto { child, port };
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    moto
}
