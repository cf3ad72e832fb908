//! Fetching a threat-intel feed: a conditional GET (the feed's stored `ETag` and
//! `Last-Modified`), bounded in time and size, retried with backoff when the failure may pass
//! (timeouts, connection errors, 429, 5xx). A `304` is "nothing new", not an error.
use crate::config::IntelConfig;
use app::server::entities::intel_feed;
use app::server::intel::scan::Fetched;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use std::time::Duration;

const ACCEPTED: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
                        application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";

pub struct FeedSource {
    client: reqwest::Client,
    max_bytes: usize,
    attempts: u32,
    backoff: Duration,
}

impl FeedSource {
    pub fn new(config: &IntelConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!(
                "aegis/",
                env!("CARGO_PKG_VERSION"),
                " (intel scan)"
            ))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            max_bytes: config.max_feed_bytes,
            attempts: config.attempts.max(1),
            backoff: config.backoff,
        })
    }

    /// Fetches one feed; never an error: a failure is [`Fetched::Failed`] with what went wrong.
    pub async fn fetch(&self, feed: &intel_feed::Model) -> Fetched {
        let mut delay = self.backoff;
        let mut last_error = String::new();
        for attempt in 1..=self.attempts {
            match self.fetch_once(feed).await {
                Ok(fetched) => return fetched,
                Err((error, retryable)) => {
                    last_error = error;
                    if !retryable || attempt == self.attempts {
                        break;
                    }
                    tracing::info!(feed = %feed.url, attempt, error = %last_error, "retrying feed");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        Fetched::Failed(last_error)
    }

    async fn fetch_once(&self, feed: &intel_feed::Model) -> Result<Fetched, (String, bool)> {
        let mut request = self.client.get(&feed.url).header(ACCEPT, ACCEPTED);
        if let Some(etag) = &feed.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &feed.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            return Err((format!("HTTP {status}"), retryable));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err((self.too_large(), false));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err((self.too_large(), false));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Document {
            bytes: body,
            etag,
            last_modified,
        })
    }

    fn too_large(&self) -> String {
        format!(
            "the feed is larger than {} bytes (AEGIS_INTEL_MAX_FEED_BYTES)",
            self.max_bytes
        )
    }
}

fn describe(error: &reqwest::Error) -> (String, bool) {
    if error.is_timeout() {
        ("timed out".into(), true)
    } else if error.is_connect() {
        (format!("cannot connect: {error}"), true)
    } else if error.is_redirect() {
        (format!("too many redirects: {error}"), false)
    } else {
        (error.to_string(), true)
    }
}
