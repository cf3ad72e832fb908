//! Configuration from environment variables. Every default makes a fresh checkout run with no
//! database server; production refuses to start with unsafe defaults.
use app::domain::sources::CatalogImport;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub production: bool,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Longest wait for a database connection: how fast requests fail (503) while it is down.
    pub db_acquire_timeout: Duration,
    /// `None`: generate one under the data directory on first start.
    pub secret_key: Option<String>,
    pub token_ttl: Duration,
    pub storage: StorageConfig,
    pub admin_password: Option<String>,
    pub bind: SocketAddr,
    pub cookie_secure: bool,
    pub site_root: PathBuf,
    pub max_body_bytes: usize,
    /// Uploads of whole ATT&CK bundles (the Enterprise bundle is about 50 MB).
    pub max_import_bytes: usize,
    /// On SIGTERM: how long requests in flight and the running job step may take to finish.
    pub shutdown_grace: Duration,
    /// The longest an API token may live, in days.
    pub api_token_max_days: u32,
    /// Largest evidence file accepted (streamed, never buffered whole).
    pub max_evidence_bytes: u64,
    pub trust_proxy_headers: bool,
    /// With `trust_proxy_headers`: how many proxies of ours append to `X-Forwarded-For`; the
    /// client is the entry that many places from the right.
    pub trusted_proxy_hops: usize,
    /// Sign-in attempts per client and username, and per client, within `login_window`.
    pub login_attempts: usize,
    pub login_ip_attempts: usize,
    pub login_window: Duration,
    /// Structured (JSON) logs.
    pub log_json: bool,
    /// What an imported archive may unpack to (per file and in total), measured on the bytes
    /// actually inflated.
    pub archive_limits: app::server::importers::ArchiveLimits,
    pub attack_source: AttackSourceConfig,
    pub jobs: JobsConfig,
    /// The archive (a zip of the repository) each catalog source's import downloads.
    pub catalog_archives: CatalogArchives,
    pub intel: IntelConfig,
    pub webhooks: WebhookConfig,
    /// The address people reach Aegis at (`AEGIS_PUBLIC_URL`), for links back to it.
    pub public_url: String,
    /// Single sign-on through one OpenID Connect provider (`AEGIS_OIDC_*`).
    pub sso: Option<app::server::admin::sso::SsoSettings>,
    pub password_sign_in: app::domain::sso::PasswordSignIn,
    pub break_glass_admin: String,
}

/// How webhook deliveries are sent.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    /// One delivery attempt, connection included.
    pub timeout: Duration,
    /// Deliveries sent at once (a slow receiver holds only its own).
    pub concurrency: usize,
    /// The wait after the first failed attempt; four times longer after each next one.
    pub first_backoff: Duration,
}

/// How the intel scan fetches feeds and when it tells leads about a technique.
#[derive(Clone, Debug, PartialEq)]
pub struct IntelConfig {
    /// One feed request, connection included.
    pub timeout: Duration,
    /// The largest feed document read.
    pub max_feed_bytes: usize,
    /// Tries per feed (timeouts, connection errors, 429 and 5xx are retried).
    pub attempts: u32,
    /// First pause between tries; doubled each time.
    pub backoff: Duration,
    /// A mentioned technique whose last validation is older than this is flagged.
    pub stale_days: u32,
}

/// Where each catalog source's "import from GitHub" downloads its archive.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogArchives {
    pub atomics: String,
    pub caldera: String,
    pub lolbas: String,
    pub gtfobins: String,
    pub sigma: String,
    pub elastic_rules: String,
    /// The D3FEND ontology in Turtle (one file, not an archive).
    pub d3fend: String,
}

impl CatalogArchives {
    pub fn url(&self, source: CatalogImport) -> &str {
        match source {
            CatalogImport::AtomicRedTeam => &self.atomics,
            CatalogImport::Caldera => &self.caldera,
            CatalogImport::Lolbas => &self.lolbas,
            CatalogImport::Gtfobins => &self.gtfobins,
            CatalogImport::Sigma => &self.sigma,
            CatalogImport::ElasticRules => &self.elastic_rules,
        }
    }
}

/// Where the online ATT&CK sync fetches from, and how patiently.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackSourceConfig {
    /// TAXII 2.1 API root, e.g. `https://attack-taxii.mitre.org/api/v21/`.
    pub taxii_url: String,
    pub collection_id: String,
    /// Objects per TAXII page.
    pub page_size: u32,
    /// The STIX bundle used when TAXII fails.
    pub bundle_url: String,
    pub timeout: Duration,
    /// Tries per request before giving up on a source.
    pub attempts: u32,
    /// First pause between tries; doubled each time.
    pub backoff: Duration,
}

/// When the scheduled jobs run (cron expressions in UTC, with seconds; `off` disables one).
#[derive(Clone, Debug, PartialEq)]
pub struct JobsConfig {
    pub mitre_sync: Option<String>,
    pub notification_cleanup: Option<String>,
    pub weekly_snapshot: Option<String>,
    pub intel_scan: Option<String>,
    pub recurring_campaigns: Option<String>,
    pub scoring_recompute: Option<String>,
    /// First pause before retrying a failed job; doubled each retry.
    pub retry_backoff: Duration,
    /// How often the worker looks for queued jobs.
    pub poll_interval: Duration,
    /// How often a running job's process stamps its run; ten missed stamps and the run is
    /// taken to be interrupted (its process killed) and is taken up again.
    pub run_heartbeat: Duration,
    /// Whether this process works the queue (`AEGIS_JOB_WORKER=false`: a web-only replica;
    /// it still enqueues runs and fires schedules, and the workers elsewhere run them).
    pub worker: bool,
}

pub const DEFAULT_TAXII_URL: &str = "https://attack-taxii.mitre.org/api/v21/";
pub const DEFAULT_COLLECTION_ID: &str = "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019";
pub const DEFAULT_ATOMICS_ARCHIVE_URL: &str =
    "https://github.com/redcanaryco/atomic-red-team/archive/refs/heads/master.zip";
pub const DEFAULT_CALDERA_ARCHIVE_URL: &str =
    "https://github.com/mitre/stockpile/archive/refs/heads/master.zip";
pub const DEFAULT_LOLBAS_ARCHIVE_URL: &str =
    "https://github.com/LOLBAS-Project/LOLBAS/archive/refs/heads/master.zip";
pub const DEFAULT_GTFOBINS_ARCHIVE_URL: &str =
    "https://github.com/GTFOBins/GTFOBins.github.io/archive/refs/heads/master.zip";
pub const DEFAULT_SIGMA_ARCHIVE_URL: &str =
    "https://github.com/SigmaHQ/sigma/archive/refs/heads/master.zip";
pub const DEFAULT_ELASTIC_RULES_ARCHIVE_URL: &str =
    "https://github.com/elastic/detection-rules/archive/refs/heads/main.zip";
pub const DEFAULT_D3FEND_URL: &str = "https://raw.githubusercontent.com/d3fend/d3fend-ontology/master/src/ontology/d3fend-protege.ttl";
pub const DEFAULT_BUNDLE_URL: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json";

#[derive(Clone, Debug, PartialEq)]
pub enum StorageConfig {
    Local(PathBuf),
    S3 {
        bucket: String,
        endpoint: Option<String>,
        /// The endpoint browsers reach, when it differs (MinIO inside Docker): presigned
        /// download URLs are signed for this host.
        public_endpoint: Option<String>,
        region: String,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        allow_http: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set when AEGIS_ENV=production")]
    RequiredInProduction(&'static str),
    #[error("{name} has an invalid value '{value}': {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let production = match get("AEGIS_ENV").as_deref() {
            None | Some("development") | Some("dev") => false,
            Some("production") | Some("prod") => true,
            Some(other) => {
                return Err(invalid(
                    "AEGIS_ENV",
                    other,
                    "expected development or production",
                ));
            }
        };
        let data_dir = PathBuf::from(get("AEGIS_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| default_sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(invalid(
                "DATABASE_URL",
                &database_url,
                "expected a sqlite:// or postgres:// URL",
            ));
        }
        let secret_key = get("AEGIS_SECRET_KEY");
        if production && secret_key.is_none() {
            return Err(ConfigError::RequiredInProduction("AEGIS_SECRET_KEY"));
        }
        if let Some(secret) = &secret_key
            && secret.len() < 32
        {
            return Err(invalid(
                "AEGIS_SECRET_KEY",
                "<hidden>",
                "use at least 32 characters",
            ));
        }
        let ttl_minutes: u64 = parse(&get, "AEGIS_TOKEN_TTL_MINUTES", 60)?;
        if ttl_minutes == 0 {
            return Err(invalid(
                "AEGIS_TOKEN_TTL_MINUTES",
                "0",
                "must be at least 1",
            ));
        }
        let storage = storage_from(&get, &data_dir)?;
        let bind_raw = get("AEGIS_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind = bind_raw.parse().map_err(|e: std::net::AddrParseError| {
            invalid("AEGIS_BIND", &bind_raw, &e.to_string())
        })?;
        let public_url = url_from(&get, "AEGIS_PUBLIC_URL", &format!("http://{bind}"))?
            .trim_end_matches('/')
            .to_owned();
        let sso = sso_from(&get, &public_url)?;
        let password_sign_in = match get("AEGIS_PASSWORD_SIGN_IN") {
            None => app::domain::sso::PasswordSignIn::Everyone,
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: String| invalid("AEGIS_PASSWORD_SIGN_IN", &raw, &e))?,
        };
        if password_sign_in == app::domain::sso::PasswordSignIn::BreakGlass && sso.is_none() {
            return Err(invalid(
                "AEGIS_PASSWORD_SIGN_IN",
                "break-glass",
                "turning password sign-in off needs single sign-on (AEGIS_OIDC_ISSUER)",
            ));
        }
        Ok(Self {
            production,
            database_url,
            db_acquire_timeout: Duration::from_millis(
                parse(&get, "AEGIS_DB_ACQUIRE_TIMEOUT_MS", 5000u64)?.clamp(100, 120_000),
            ),
            secret_key,
            token_ttl: Duration::from_secs(ttl_minutes * 60),
            storage,
            admin_password: get("AEGIS_ADMIN_PASSWORD"),
            bind,
            cookie_secure: parse(&get, "AEGIS_COOKIE_SECURE", production)?,
            site_root: PathBuf::from(
                get("AEGIS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
            max_body_bytes: parse(&get, "AEGIS_MAX_BODY_BYTES", 1024 * 1024)?,
            max_import_bytes: parse(&get, "AEGIS_MAX_IMPORT_BYTES", 200 * 1024 * 1024)?,
            shutdown_grace: Duration::from_secs(parse(&get, "AEGIS_SHUTDOWN_GRACE_SECS", 20)?),
            api_token_max_days: parse(&get, "AEGIS_API_TOKEN_MAX_DAYS", 365)?,
            max_evidence_bytes: parse(&get, "AEGIS_MAX_EVIDENCE_BYTES", 100 * 1024 * 1024)?,
            trust_proxy_headers: parse(&get, "AEGIS_TRUST_PROXY_HEADERS", false)?,
            trusted_proxy_hops: parse(&get, "AEGIS_TRUSTED_PROXY_HOPS", 1usize)?.max(1),
            login_attempts: parse(&get, "AEGIS_LOGIN_ATTEMPTS", 5usize)?.max(1),
            login_ip_attempts: parse(&get, "AEGIS_LOGIN_IP_ATTEMPTS", 30usize)?.max(1),
            login_window: Duration::from_secs(
                parse(&get, "AEGIS_LOGIN_WINDOW_SECONDS", 60u64)?.max(1),
            ),
            log_json: match get("AEGIS_LOG_FORMAT").as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(invalid("AEGIS_LOG_FORMAT", other, "expected text or json"));
                }
            },
            archive_limits: app::server::importers::ArchiveLimits {
                per_file: parse(&get, "AEGIS_MAX_ARCHIVE_FILE_BYTES", 8 * 1024 * 1024u64)?,
                total: parse(
                    &get,
                    "AEGIS_MAX_ARCHIVE_UNPACKED_BYTES",
                    256 * 1024 * 1024u64,
                )?,
            },
            attack_source: AttackSourceConfig {
                taxii_url: url_from(&get, "AEGIS_ATTACK_TAXII_URL", DEFAULT_TAXII_URL)?,
                collection_id: get("AEGIS_ATTACK_COLLECTION_ID")
                    .unwrap_or_else(|| DEFAULT_COLLECTION_ID.into()),
                page_size: parse(&get, "AEGIS_ATTACK_TAXII_PAGE_SIZE", 5000)?,
                bundle_url: url_from(&get, "AEGIS_ATTACK_BUNDLE_URL", DEFAULT_BUNDLE_URL)?,
                timeout: Duration::from_secs(parse(&get, "AEGIS_HTTP_TIMEOUT_SECS", 60)?),
                attempts: parse(&get, "AEGIS_HTTP_ATTEMPTS", 3)?.max(1),
                backoff: Duration::from_millis(parse(&get, "AEGIS_HTTP_BACKOFF_MS", 1000)?),
            },
            catalog_archives: CatalogArchives {
                atomics: url_from(
                    &get,
                    "AEGIS_ATOMICS_ARCHIVE_URL",
                    DEFAULT_ATOMICS_ARCHIVE_URL,
                )?,
                caldera: url_from(
                    &get,
                    "AEGIS_CALDERA_ARCHIVE_URL",
                    DEFAULT_CALDERA_ARCHIVE_URL,
                )?,
                lolbas: url_from(&get, "AEGIS_LOLBAS_ARCHIVE_URL", DEFAULT_LOLBAS_ARCHIVE_URL)?,
                gtfobins: url_from(
                    &get,
                    "AEGIS_GTFOBINS_ARCHIVE_URL",
                    DEFAULT_GTFOBINS_ARCHIVE_URL,
                )?,
                sigma: url_from(&get, "AEGIS_SIGMA_ARCHIVE_URL", DEFAULT_SIGMA_ARCHIVE_URL)?,
                elastic_rules: url_from(
                    &get,
                    "AEGIS_ELASTIC_RULES_ARCHIVE_URL",
                    DEFAULT_ELASTIC_RULES_ARCHIVE_URL,
                )?,
                d3fend: url_from(&get, "AEGIS_D3FEND_URL", DEFAULT_D3FEND_URL)?,
            },
            jobs: JobsConfig {
                mitre_sync: schedule_from(&get, "AEGIS_SCHEDULE_MITRE_SYNC", "0 0 3 * * *")?,
                notification_cleanup: schedule_from(
                    &get,
                    "AEGIS_SCHEDULE_NOTIFICATION_CLEANUP",
                    "0 30 3 * * *",
                )?,
                weekly_snapshot: schedule_from(
                    &get,
                    "AEGIS_SCHEDULE_WEEKLY_SNAPSHOT",
                    "0 0 0 * * Sun",
                )?,
                intel_scan: schedule_from(&get, "AEGIS_SCHEDULE_INTEL_SCAN", "0 0 6 * * Mon")?,
                recurring_campaigns: schedule_from(
                    &get,
                    "AEGIS_SCHEDULE_RECURRING_CAMPAIGNS",
                    "0 15 0 * * *",
                )?,
                scoring_recompute: schedule_from(
                    &get,
                    "AEGIS_SCHEDULE_SCORING_RECOMPUTE",
                    "0 45 2 * * *",
                )?,
                retry_backoff: Duration::from_millis(parse(
                    &get,
                    "AEGIS_JOB_RETRY_BACKOFF_MS",
                    30_000,
                )?),
                poll_interval: Duration::from_millis(parse(
                    &get,
                    "AEGIS_JOB_POLL_INTERVAL_MS",
                    1000,
                )?),
                run_heartbeat: Duration::from_millis(
                    parse(&get, "AEGIS_JOB_HEARTBEAT_MS", 3000)?.max(100),
                ),
                worker: parse(&get, "AEGIS_JOB_WORKER", true)?,
            },
            intel: IntelConfig {
                timeout: Duration::from_secs(parse(&get, "AEGIS_INTEL_TIMEOUT_SECS", 20)?.max(1)),
                max_feed_bytes: parse(&get, "AEGIS_INTEL_MAX_FEED_BYTES", 5 * 1024 * 1024)?,
                attempts: parse(&get, "AEGIS_INTEL_ATTEMPTS", 3)?.max(1),
                backoff: Duration::from_millis(parse(&get, "AEGIS_INTEL_BACKOFF_MS", 1000)?),
                stale_days: parse(&get, "AEGIS_INTEL_STALE_DAYS", 180)?,
            },
            webhooks: WebhookConfig {
                timeout: Duration::from_secs(
                    parse(&get, "AEGIS_WEBHOOK_TIMEOUT_SECS", 10)?.clamp(1, 120),
                ),
                concurrency: parse(&get, "AEGIS_WEBHOOK_CONCURRENCY", 8)?.clamp(1, 64),
                first_backoff: Duration::from_millis(
                    parse(&get, "AEGIS_WEBHOOK_BACKOFF_MS", 30_000)?.max(10),
                ),
            },
            public_url,
            sso,
            password_sign_in,
            break_glass_admin: get("AEGIS_BREAK_GLASS_ADMIN").unwrap_or_else(|| "admin".into()),
            data_dir,
        })
    }

    /// The signing secret: configured, or generated once and kept in the data directory so
    /// sessions survive restarts.
    pub fn load_or_create_secret(&self) -> std::io::Result<Vec<u8>> {
        if let Some(secret) = &self.secret_key {
            return Ok(secret.as_bytes().to_vec());
        }
        let path = self.data_dir.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing.trim().len() >= 32 => {
                return Ok(existing.trim().as_bytes().to_vec());
            }
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is too short",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let secret = random_secret();
        write_private(&path, &secret)?;
        Ok(secret.into_bytes())
    }
}

/// Single sign-on, when `AEGIS_OIDC_ISSUER` is set: then the client id and the role map are
/// required, and every other setting has a default.
fn sso_from(
    get: &impl Fn(&str) -> Option<String>,
    public_url: &str,
) -> Result<Option<app::server::admin::sso::SsoSettings>, ConfigError> {
    let Some(issuer) = get("AEGIS_OIDC_ISSUER") else {
        return Ok(None);
    };
    let issuer = url_from(get, "AEGIS_OIDC_ISSUER", &issuer)?;
    let required = |name: &'static str| {
        get(name).ok_or_else(|| invalid(name, "", "required when AEGIS_OIDC_ISSUER is set"))
    };
    let client_id = required("AEGIS_OIDC_CLIENT_ID")?;
    let raw_map = required("AEGIS_OIDC_ROLE_MAP")?;
    let role_map = app::domain::sso::RoleMap::parse(&raw_map)
        .map_err(|e| invalid("AEGIS_OIDC_ROLE_MAP", &raw_map, &e))?;
    let scopes: Vec<String> = get("AEGIS_OIDC_SCOPES")
        .unwrap_or_else(|| "openid profile email groups".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(invalid(
            "AEGIS_OIDC_SCOPES",
            &scopes.join(" "),
            "must include openid",
        ));
    }
    Ok(Some(app::server::admin::sso::SsoSettings {
        issuer,
        client_id,
        client_secret: get("AEGIS_OIDC_CLIENT_SECRET"),
        scopes,
        groups_claim: get("AEGIS_OIDC_GROUPS_CLAIM").unwrap_or_else(|| "groups".into()),
        redirect_url: url_from(
            get,
            "AEGIS_OIDC_REDIRECT_URL",
            &format!("{public_url}/auth/oidc/callback"),
        )?,
        post_logout_redirect_url: url_from(
            get,
            "AEGIS_OIDC_POST_LOGOUT_REDIRECT_URL",
            &format!("{public_url}/login"),
        )?,
        label: get("AEGIS_OIDC_LABEL")
            .map(|l| l.trim().chars().take(60).collect())
            .unwrap_or_else(|| "SSO".into()),
        auto_create: parse(get, "AEGIS_OIDC_AUTO_CREATE", false)?,
        role_map,
        timeout: Duration::from_secs(parse(get, "AEGIS_OIDC_TIMEOUT_SECS", 10u64)?.clamp(1, 60)),
    }))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}/aegis.db?mode=rwc", data_dir.display())
}

fn storage_from(
    get: &impl Fn(&str) -> Option<String>,
    data_dir: &Path,
) -> Result<StorageConfig, ConfigError> {
    let Some(url) = get("AEGIS_STORAGE_URL") else {
        return Ok(StorageConfig::Local(data_dir.join("evidence")));
    };
    if let Some(bucket) = url.strip_prefix("s3://") {
        let bucket = bucket.trim_end_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(invalid("AEGIS_STORAGE_URL", &url, "expected s3://bucket"));
        }
        return Ok(StorageConfig::S3 {
            bucket: bucket.to_owned(),
            endpoint: get("AEGIS_S3_ENDPOINT"),
            public_endpoint: get("AEGIS_S3_PUBLIC_ENDPOINT"),
            region: get("AEGIS_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: get("AEGIS_S3_ACCESS_KEY_ID"),
            secret_access_key: get("AEGIS_S3_SECRET_ACCESS_KEY"),
            allow_http: parse(get, "AEGIS_S3_ALLOW_HTTP", false)?,
        });
    }
    let path = url.strip_prefix("file://").unwrap_or(&url);
    if path.contains("://") {
        return Err(invalid(
            "AEGIS_STORAGE_URL",
            &url,
            "expected a local path or s3://bucket",
        ));
    }
    Ok(StorageConfig::Local(PathBuf::from(path)))
}

fn url_from(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    let url = get(name).unwrap_or_else(|| default.into());
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(name, &url, "expected an http:// or https:// URL"));
    }
    Ok(url)
}

/// A cron expression (validated now, not at the first tick), or `off`.
fn schedule_from(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Option<String>, ConfigError> {
    let expr = get(name).unwrap_or_else(|| default.into());
    if matches!(expr.trim(), "off" | "disabled" | "none") {
        return Ok(None);
    }
    cron::Schedule::from_str(expr.trim()).map_err(|e| {
        invalid(
            name,
            &expr,
            &format!("not a cron expression (sec min hour day month weekday): {e}"),
        )
    })?;
    Ok(Some(expr.trim().to_owned()))
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| invalid(name, &raw, &e.to_string())),
    }
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
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
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn single_sign_on_needs_a_client_and_a_role_map() {
        assert!(config(&[]).unwrap().sso.is_none());
        let issuer = ("AEGIS_OIDC_ISSUER", "https://idp.example.org/realms/sec");
        let client = ("AEGIS_OIDC_CLIENT_ID", "aegis");
        let map = ("AEGIS_OIDC_ROLE_MAP", "admins=admin,red=red_tech");
        for missing in [vec![issuer, map], vec![issuer, client]] {
            let err = config(&missing).unwrap_err().to_string();
            assert!(
                err.contains("required when AEGIS_OIDC_ISSUER is set"),
                "{err}"
            );
        }
        let err = config(&[issuer, client, ("AEGIS_OIDC_ROLE_MAP", "admins=root")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Unknown role"), "{err}");
        let err = config(&[issuer, client, map, ("AEGIS_OIDC_SCOPES", "profile email")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("openid"), "{err}");

        let c = config(&[
            issuer,
            client,
            map,
            ("AEGIS_PUBLIC_URL", "https://aegis.example.org/"),
        ])
        .unwrap();
        let sso = c.sso.unwrap();
        assert_eq!(
            sso.redirect_url,
            "https://aegis.example.org/auth/oidc/callback"
        );
        assert_eq!(
            sso.post_logout_redirect_url,
            "https://aegis.example.org/login"
        );
        assert_eq!(sso.scopes, ["openid", "profile", "email", "groups"]);
        assert_eq!(sso.groups_claim, "groups");
        assert_eq!(sso.label, "SSO");
        assert!(!sso.auto_create);
        assert!(sso.client_secret.is_none());
        assert_eq!(
            c.password_sign_in,
            app::domain::sso::PasswordSignIn::Everyone
        );
    }

    #[test]
    fn password_sign_in_is_turned_off_only_beside_single_sign_on() {
        let off = ("AEGIS_PASSWORD_SIGN_IN", "break-glass");
        let err = config(&[off]).unwrap_err().to_string();
        assert!(err.contains("needs single sign-on"), "{err}");
        let c = config(&[
            off,
            ("AEGIS_OIDC_ISSUER", "https://idp.example.org"),
            ("AEGIS_OIDC_CLIENT_ID", "aegis"),
            ("AEGIS_OIDC_ROLE_MAP", "admins=admin"),
            ("AEGIS_BREAK_GLASS_ADMIN", "root-admin"),
        ])
        .unwrap();
        assert_eq!(
            c.password_sign_in,
            app::domain::sso::PasswordSignIn::BreakGlass
        );
        assert_eq!(c.break_glass_admin, "root-admin");
        assert!(config(&[("AEGIS_PASSWORD_SIGN_IN", "nobody")]).is_err());
    }

    #[test]
    fn defaults_are_embedded() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://./data/aegis.db?mode=rwc");
        assert_eq!(
            c.storage,
            StorageConfig::Local(PathBuf::from("./data/evidence"))
        );
        assert_eq!(c.token_ttl, Duration::from_secs(3600));
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(!c.cookie_secure);
        assert!(!c.production);
    }

    #[test]
    fn production_requires_a_secret_and_secures_cookies() {
        assert!(matches!(
            config(&[("AEGIS_ENV", "production")]),
            Err(ConfigError::RequiredInProduction("AEGIS_SECRET_KEY"))
        ));
        let c = config(&[
            ("AEGIS_ENV", "production"),
            ("AEGIS_SECRET_KEY", &"k".repeat(40)),
        ])
        .unwrap();
        assert!(c.cookie_secure);
    }

    #[test]
    fn s3_storage_and_bad_values() {
        let c = config(&[
            ("AEGIS_STORAGE_URL", "s3://evidence"),
            ("AEGIS_S3_ENDPOINT", "http://minio:9000"),
            ("AEGIS_S3_ALLOW_HTTP", "true"),
        ])
        .unwrap();
        assert!(
            matches!(c.storage, StorageConfig::S3 { ref bucket, allow_http: true, .. } if bucket == "evidence")
        );
        assert!(config(&[("AEGIS_TOKEN_TTL_MINUTES", "abc")]).is_err());
        assert!(config(&[("AEGIS_BIND", "nowhere")]).is_err());
        assert!(config(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert!(config(&[("AEGIS_SECRET_KEY", "short")]).is_err());
    }

    #[test]
    fn schedules_are_cron_or_off() {
        let c = config(&[("AEGIS_SCHEDULE_NOTIFICATION_CLEANUP", "off")]).unwrap();
        assert_eq!(c.jobs.mitre_sync.as_deref(), Some("0 0 3 * * *"));
        assert_eq!(c.jobs.weekly_snapshot.as_deref(), Some("0 0 0 * * Sun"));
        assert_eq!(c.jobs.notification_cleanup, None);
        assert!(config(&[("AEGIS_SCHEDULE_MITRE_SYNC", "every day")]).is_err());
        assert!(config(&[("AEGIS_ATTACK_TAXII_URL", "ftp://x")]).is_err());
        assert_eq!(c.attack_source.taxii_url, DEFAULT_TAXII_URL);
    }
}
