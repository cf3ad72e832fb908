//! A real Aegis server on a free port, backed by a throwaway SQLite file or PostgreSQL
//! database, and a small HTTP client for it.
#![allow(dead_code)]

pub mod contract;
pub mod moto;
pub mod oidc;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use server::config::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub config: Config,
    pub backend: Backend,
    data_dir: PathBuf,
    pub pg_database: Option<String>,
    server: tokio::task::JoinHandle<()>,
    /// The environment this server was configured from, for a server process of its own.
    vars: HashMap<&'static str, String>,
    /// What its servers answered, checked against the API description at the end.
    log: contract::Log,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// Starts a server with extra (or overriding) environment variables.
    pub async fn start_with(backend: Backend, overrides: &[(&'static str, String)]) -> Self {
        // Server warnings and errors go to the test's captured output: shown when it fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
            )
            .with_test_writer()
            .try_init();
        let data_dir = std::env::temp_dir().join(format!("aegis-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}/aegis.db?mode=rwc", data_dir.display()),
                None,
            ),
            Backend::Postgres => {
                let name = format!("aegis_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(PG_ADMIN_URL)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL must run at {PG_ADMIN_URL} for the tests: {e}")
                    });
                sea_orm::ConnectionTrait::execute_unprepared(
                    &admin,
                    &format!("CREATE DATABASE {name}"),
                )
                .await
                .unwrap();
                admin.close().await.unwrap();
                (
                    format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    Some(name),
                )
            }
        };
        let mut vars = HashMap::new();
        vars.insert("DATABASE_URL", database_url);
        vars.insert("AEGIS_DATA_DIR", data_dir.display().to_string());
        vars.insert("AEGIS_SECRET_KEY", SECRET.to_owned());
        vars.insert("AEGIS_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned());
        vars.insert(
            "AEGIS_SITE_ROOT",
            data_dir.join("site").display().to_string(),
        );
        vars.insert("AEGIS_MAX_BODY_BYTES", "65536".to_owned());
        vars.insert("AEGIS_BIND", "127.0.0.1:0".to_owned());
        // Jobs run promptly, and no test ever reaches MITRE: port 9 (discard) refuses.
        vars.insert("AEGIS_JOB_POLL_INTERVAL_MS", "100".to_owned());
        vars.insert("AEGIS_JOB_RETRY_BACKOFF_MS", "50".to_owned());
        vars.insert("AEGIS_HTTP_BACKOFF_MS", "10".to_owned());
        vars.insert(
            "AEGIS_ATTACK_TAXII_URL",
            "http://127.0.0.1:9/api/v21/".to_owned(),
        );
        vars.insert(
            "AEGIS_ATTACK_BUNDLE_URL",
            "http://127.0.0.1:9/enterprise-attack.json".to_owned(),
        );
        for (name, value) in overrides {
            vars.insert(name, value.clone());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let log = contract::Log::default();
        let (addr, server) = spawn_server(&config, &log).await;
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A request that never answers fails its test (with the server's output) instead
            // of stalling the whole suite.
            .timeout(std::time::Duration::from_secs(90))
            .build()
            .unwrap();
        TestApp {
            addr,
            client,
            config,
            backend,
            data_dir,
            pg_database,
            server,
            vars,
            log,
        }
    }

    /// Stops this server and starts a new one on the same database and data directory, as
    /// a restart would.
    pub async fn restart(&mut self) {
        self.server.abort();
        let (addr, server) = spawn_server(&self.config, &self.log).await;
        self.addr = addr;
        self.server = server;
    }

    /// A second server on the same database and data directory, as a second process of a
    /// deployment would be: its own state and caches, nothing shared but the database.
    pub async fn twin(&self) -> Twin {
        let (addr, server) = spawn_server(&self.config, &self.log).await;
        Twin { addr, server }
    }

    /// Another server *process* (the `aegis` binary) on this database, as a second replica of
    /// a deployment runs: its own memory and data directory (another machine's), nothing
    /// shared but the database and, with `AEGIS_STORAGE_URL`, the object store. Killed
    /// (SIGKILL) when dropped.
    pub async fn spawn_process(&self, overrides: &[(&'static str, String)]) -> ServerProcess {
        let data_dir = std::env::temp_dir().join(format!("aegis-replica-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aegis"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn,sqlx=error");
        for (name, value) in &self.vars {
            command.env(name, value);
        }
        command
            .env("AEGIS_DATA_DIR", &data_dir)
            .env("AEGIS_SITE_ROOT", data_dir.join("site"))
            .env("AEGIS_BIND", "127.0.0.1:0");
        for (name, value) in overrides {
            command.env(name, value);
        }
        let mut child = command
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        // The first line names the address; the rest is drained so the child never blocks.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("Aegis is running at http://")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().to_owned());
                } else {
                    eprintln!("[replica] {line}");
                }
            }
        });
        let addr = tokio::task::spawn_blocking(move || {
            rx.recv_timeout(std::time::Duration::from_secs(60))
        })
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("the server process did not start"));
        ServerProcess {
            addr: addr.parse().unwrap(),
            child,
            data_dir,
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A POST without a body (actions such as "run now" or "mark all read").
    pub async fn post(&self, path: &str, token: &str) -> Response {
        self.request(Method::POST, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// Uploads an ATT&CK bundle through the System panel's endpoint.
    pub async fn import_bundle(&self, token: &str, name: &str, bytes: Vec<u8>) -> Response {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        self.request(
            Method::POST,
            "/api/v1/system/import-attack-bundle",
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// A direct connection to this server's database, for arranging what the API cannot
    /// (such as the age of a row).
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.config.database_url.as_str())
            .await
            .unwrap()
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self.login_response(username, password).await;
        assert_eq!(response.status(), 200, "login as {username}");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        password: &str,
    ) -> String {
        let response = self
            .post_json(
                "/api/v1/users",
                admin,
                json!({ "username": username, "password": password, "role": role, "display_name": username }),
            )
            .await;
        assert_eq!(response.status(), 201, "create {username}");
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn finish(mut self) {
        self.server.abort();
        contract::check(&self.log);
        if let Some(name) = self.pg_database.take() {
            drop_pg_database(&name).await;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl Drop for TestApp {
    /// A failed test still removes its database.
    fn drop(&mut self) {
        self.server.abort();
        if let Some(name) = self.pg_database.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_pg_database(&name));
                }
            })
            .join();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A server process of its own on a [`TestApp`]'s database; killed when dropped.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: std::process::Child,
    pub data_dir: PathBuf,
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends SIGTERM, as an orchestrator stopping the container does.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL: the process ends at once, mid-whatever.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit, up to `limit`.
    pub async fn exit_within(
        &mut self,
        limit: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Another server on a [`TestApp`]'s database; stopped when dropped.
pub struct Twin {
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Twin {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn drop_pg_database(name: &str) {
    if let Ok(admin) = sea_orm::Database::connect(PG_ADMIN_URL).await {
        let _ = sea_orm::ConnectionTrait::execute_unprepared(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
        let _ = admin.close().await;
    }
}

async fn spawn_server(
    config: &Config,
    log: &contract::Log,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let (state, _) = server::bootstrap(config).await.unwrap();
    let log = log.clone();
    let router =
        server::router(state, config).layer(axum::middleware::from_fn(move |request, next| {
            contract::record(log.clone(), request, next)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, handle)
}

pub async fn json_body(response: Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("expected JSON, got: {text}"))
}

/// Runs one async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await;
                    let app = super::$name(app).await;
                    app.finish().await;
                }

                #[tokio::test]
                async fn postgres() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Postgres).await;
                    let app = super::$name(app).await;
                    app.finish().await;
                }
            }
        )*
    };
}

/// Runs one async test body, which starts its own server(s), once per backend.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// Polls a job run until it has finished, and returns it.
pub async fn wait_for_run(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let response = app.get(&format!("/api/v1/system/jobs/{id}"), token).await;
        assert_eq!(response.status(), 200);
        let run = json_body(response).await;
        if run["status"] == "succeeded" || run["status"] == "failed" {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job run {id} did not finish: {run}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
