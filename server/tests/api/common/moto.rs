//! moto's S3 server, for the tests that need a real S3 API: evidence, and several replicas
//! sharing one store.
use std::path::PathBuf;

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
    child: Option<std::process::Child>,
    binary: PathBuf,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut moto = Moto {
            child: None,
            binary,
            port,
        };
        moto.start(bucket).await;
        Some(moto)
    }

    /// Kills the server: the store is down (and forgets everything it held).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port, with an empty `bucket`.
    pub async fn start(&mut self, bucket: &str) {
        self.stop();
        self.child = Some(
            std::process::Command::new(&self.binary)
                .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while client.get(self.endpoint()).send().await.is_err() {
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let created = client
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "bucket {bucket}: {created:?}"
        );
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
