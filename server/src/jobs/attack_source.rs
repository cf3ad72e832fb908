//! Fetches ATT&CK Enterprise from MITRE: the TAXII 2.1 collection first, the STIX bundle on
//! GitHub when TAXII fails. Every URL comes from config; nothing here touches the database.
use crate::config::AttackSourceConfig;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Pages a TAXII server may send before we stop trusting its `more` flag.
const MAX_PAGES: usize = 10_000;

/// What was fetched, and from where.
pub struct Fetched {
    pub bundle: Vec<u8>,
    /// `taxii:<url>` or `github:<url>`, as the sync history records it.
    pub source: String,
}

/// Progress while fetching: a short text (the importer reports its own stages after).
pub type FetchProgress<'a> = &'a (dyn Fn(String) + Send + Sync);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

pub struct AttackSource {
    config: AttackSourceConfig,
    client: reqwest::Client,
    max_bytes: usize,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<Value>,
    #[serde(default)]
    objects: Vec<Value>,
}

impl AttackSource {
    pub fn new(config: AttackSourceConfig, max_bytes: usize) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("aegis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError(format!("HTTP client: {e}")))?;
        Ok(Self {
            config,
            client,
            max_bytes,
        })
    }

    /// TAXII, then GitHub. The error names both failures.
    pub async fn fetch(&self, progress: FetchProgress<'_>) -> Result<Fetched, FetchError> {
        let objects_url = self.objects_url();
        let taxii_error = match self.fetch_taxii(&objects_url, progress).await {
            Ok(bundle) => {
                return Ok(Fetched {
                    bundle,
                    source: format!("taxii:{objects_url}"),
                });
            }
            Err(e) => e,
        };
        tracing::warn!(error = %taxii_error, "ATT&CK TAXII sync failed; trying the GitHub bundle");
        progress(format!(
            "TAXII failed ({taxii_error}); downloading the GitHub bundle"
        ));
        match self.get_bytes(&self.config.bundle_url, None).await {
            Ok(bundle) => Ok(Fetched {
                bundle,
                source: format!("github:{}", self.config.bundle_url),
            }),
            Err(github_error) => Err(FetchError(format!(
                "Both ATT&CK sources failed. TAXII ({objects_url}): {taxii_error}. \
                 GitHub ({}): {github_error}. The knowledge base was not changed.",
                self.config.bundle_url
            ))),
        }
    }

    /// Both sources, as the sync history names a run that reached neither.
    pub fn describe(&self) -> String {
        format!(
            "taxii:{} | github:{}",
            self.objects_url(),
            self.config.bundle_url
        )
    }

    fn objects_url(&self) -> String {
        format!(
            "{}/collections/{}/objects/",
            self.config.taxii_url.trim_end_matches('/'),
            self.config.collection_id
        )
    }

    /// Pages through the collection's objects and wraps them in a STIX bundle.
    async fn fetch_taxii(
        &self,
        objects_url: &str,
        progress: FetchProgress<'_>,
    ) -> Result<Vec<u8>, FetchError> {
        let mut objects: Vec<Value> = Vec::new();
        let mut next: Option<String> = None;
        for page in 1..=MAX_PAGES {
            let mut url = reqwest::Url::parse(objects_url)
                .map_err(|e| FetchError(format!("bad TAXII URL: {e}")))?;
            url.query_pairs_mut()
                .append_pair("limit", &self.config.page_size.to_string());
            if let Some(token) = &next {
                url.query_pairs_mut().append_pair("next", token);
            }
            let body = self.get_bytes(url.as_str(), Some(TAXII_MEDIA_TYPE)).await?;
            let envelope: Envelope = serde_json::from_slice(&body)
                .map_err(|e| FetchError(format!("page {page} is not a TAXII envelope: {e}")))?;
            objects.extend(envelope.objects);
            progress(format!("TAXII: page {page}, {} objects", objects.len()));
            if !envelope.more {
                if objects.is_empty() {
                    return Err(FetchError("the TAXII collection is empty".into()));
                }
                let bundle = serde_json::json!({
                    "type": "bundle",
                    "id": format!("bundle--{}", uuid::Uuid::new_v4()),
                    "objects": objects,
                });
                return serde_json::to_vec(&bundle)
                    .map_err(|e| FetchError(format!("assembling the bundle: {e}")));
            }
            next = match envelope.next {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => {
                    return Err(FetchError(format!(
                        "page {page} says there is more but gives no `next`"
                    )));
                }
            };
        }
        Err(FetchError(format!("more than {MAX_PAGES} pages")))
    }

    /// GET with retries and exponential backoff for what may pass (timeouts, connection
    /// errors, 429 and 5xx); other statuses fail at once.
    async fn get_bytes(&self, url: &str, accept: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let mut delay = self.config.backoff;
        let mut last_error = String::new();
        for attempt in 1..=self.config.attempts {
            match self.get_once(url, accept).await {
                Ok(bytes) => return Ok(bytes),
                Err((error, retryable)) => {
                    last_error = error;
                    if !retryable || attempt == self.config.attempts {
                        break;
                    }
                    tracing::info!(url, attempt, error = %last_error, "retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        Err(FetchError(last_error))
    }

    async fn get_once(&self, url: &str, accept: Option<&str>) -> Result<Vec<u8>, (String, bool)> {
        let mut request = self.client.get(url);
        if let Some(accept) = accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        if !status.is_success() {
            let retryable = status.is_server_error() || status.as_u16() == 429;
            return Err((format!("HTTP {status}"), retryable));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err((
                    format!("response larger than {} bytes", self.max_bytes),
                    false,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn describe(error: &reqwest::Error) -> (String, bool) {
    if error.is_timeout() {
        ("timed out".into(), true)
    } else if error.is_connect() {
        (format!("cannot connect: {error}"), true)
    } else {
        (error.to_string(), true)
    }
}
