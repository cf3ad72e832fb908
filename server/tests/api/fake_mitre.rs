//! A stand-in for MITRE on a free local port: a TAXII 2.1 server that pages through a
//! bundle's objects (`limit`, `next`, `more`), and the GitHub bundle download. Each can be
//! told to work, fail with 500, answer 404, or hang past the client's timeout.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const COLLECTION: &str = "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019";
const TAXII: &str = "application/taxii+json;version=2.1";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Serve,
    Fail,
    Missing,
    Hang,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub query: HashMap<String, String>,
    pub accept: Option<String>,
}

struct Inner {
    objects: Vec<Value>,
    bundle: Vec<u8>,
    taxii: Mutex<Mode>,
    github: Mutex<Mode>,
    seen: Mutex<Vec<Seen>>,
}

#[derive(Clone)]
pub struct FakeMitre {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeMitre {
    pub async fn start(bundle: Vec<u8>) -> Self {
        let parsed: Value = serde_json::from_slice(&bundle).unwrap();
        let inner = Arc::new(Inner {
            objects: parsed["objects"].as_array().unwrap().clone(),
            bundle,
            taxii: Mutex::new(Mode::Serve),
            github: Mutex::new(Mode::Serve),
            seen: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route(
                &format!("/taxii/api/v21/collections/{COLLECTION}/objects/"),
                get(objects),
            )
            .route("/github/enterprise-attack.json", get(github))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeMitre {
            addr,
            inner,
            server: Arc::new(server),
        }
    }

    pub fn object_count(&self) -> usize {
        self.inner.objects.len()
    }

    pub fn set_taxii(&self, mode: Mode) {
        *self.inner.taxii.lock().unwrap() = mode;
    }

    pub fn set_github(&self, mode: Mode) {
        *self.inner.github.lock().unwrap() = mode;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// The variables that point a test server at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "AEGIS_ATTACK_TAXII_URL",
                format!("http://{}/taxii/api/v21/", self.addr),
            ),
            ("AEGIS_ATTACK_COLLECTION_ID", COLLECTION.to_owned()),
            (
                "AEGIS_ATTACK_BUNDLE_URL",
                format!("http://{}/github/enterprise-attack.json", self.addr),
            ),
        ]
    }
}

impl Drop for FakeMitre {
    fn drop(&mut self) {
        if Arc::strong_count(&self.server) == 1 {
            self.server.abort();
        }
    }
}

fn record(inner: &Inner, path: &str, query: &HashMap<String, String>, headers: &HeaderMap) {
    inner.seen.lock().unwrap().push(Seen {
        path: path.to_owned(),
        query: query.clone(),
        accept: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
}

/// Answers as `mode` says, or `None` to serve normally.
async fn misbehave(mode: Mode) -> Option<Response> {
    match mode {
        Mode::Serve => None,
        Mode::Fail => Some((StatusCode::INTERNAL_SERVER_ERROR, "upstream broke").into_response()),
        Mode::Missing => Some((StatusCode::NOT_FOUND, "no such file").into_response()),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Some(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
    }
}

async fn objects(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&inner, "taxii", &query, &headers);
    let mode = *inner.taxii.lock().unwrap();
    if let Some(response) = misbehave(mode).await {
        return response;
    }
    // A real TAXII server insists on its media type.
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("application/taxii+json") {
        return (StatusCode::NOT_ACCEPTABLE, "TAXII media type required").into_response();
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let start: usize = match query.get("next") {
        None => 0,
        Some(token) => match token.strip_prefix("offset-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return (StatusCode::BAD_REQUEST, "bad next token").into_response(),
        },
    };
    let end = (start + limit).min(inner.objects.len());
    let more = end < inner.objects.len();
    let mut envelope = json!({ "more": more, "objects": &inner.objects[start..end] });
    if more {
        envelope["next"] = json!(format!("offset-{end}"));
    }
    (
        [(header::CONTENT_TYPE, TAXII)],
        serde_json::to_vec(&envelope).unwrap(),
    )
        .into_response()
}

async fn github(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    record(&inner, "github", &query, &headers);
    let mode = *inner.github.lock().unwrap();
    if let Some(response) = misbehave(mode).await {
        return response;
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        inner.bundle.clone(),
    )
        .into_response()
}
