//! Every answer the HTTP tests get from `/api/v1` is held against the API description: the
//! route and its status must be documented, and a JSON body must validate against the
//! documented schema. A [`TestApp`](super::TestApp) records what its servers answered and
//! checks it when the test finishes.
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One answer: what was asked, what came back.
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub json: Option<Value>,
}

pub type Log = Arc<Mutex<Vec<Exchange>>>;

/// A JSON body larger than this is passed through unchecked (whole Navigator layers).
const CHECKED_BYTES: usize = 16 * 1024 * 1024;

/// The recording layer: keeps each `/api/v1` answer (its JSON, when it is JSON).
pub async fn record(log: Log, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if !path.starts_with("/api/v1/") {
        return response;
    }
    let status = response.status().as_u16();
    let headers = response.headers();
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let encoded = headers.contains_key(http::header::CONTENT_ENCODING);
    let small = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_none_or(|n| n <= CHECKED_BYTES);
    if !is_json || encoded || !small {
        log.lock().unwrap().push(Exchange {
            method,
            path,
            status,
            json: None,
        });
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, CHECKED_BYTES).await else {
        panic!("{method} {path}: the answer could not be read");
    };
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: says JSON but is not ({e}): {bytes:?}"));
    log.lock().unwrap().push(Exchange {
        method,
        path,
        status,
        json: Some(json),
    });
    Response::from_parts(parts, Body::from(bytes))
}

fn document() -> &'static Value {
    server::rest::document()
}

/// The documented path template `path` matches: literal segments win over parameters.
pub fn template_of(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, template)| template.clone())
}

/// Compiled validators, by operation and status (shared by every test of the run).
fn validators() -> &'static Mutex<HashMap<String, Arc<jsonschema::Validator>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    if let Some(found) = validators().lock().unwrap().get(key) {
        return found.clone();
    }
    // The schema's `$ref`s point into the document's components: carry them along.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": document()["components"],
    });
    let compiled = Arc::new(
        jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("{key}: the documented schema does not compile: {e}")),
    );
    validators()
        .lock()
        .unwrap()
        .insert(key.to_owned(), compiled.clone());
    compiled
}

/// What is wrong with one answer, held against the document.
pub fn problems_with(exchange: &Exchange) -> Vec<String> {
    let Exchange {
        method,
        path,
        status,
        json,
    } = exchange;
    let what = format!("{method} {path} → {status}");
    let Some(template) = template_of(path) else {
        // The catch-all's answer to a route that does not exist is not a route's answer, nor
        // is the refusal of a bad token, which comes before any route is looked at.
        let unknown = (*status == 404
            && json.as_ref().and_then(|j| j["detail"].as_str()) == Some("No such API endpoint"))
            || *status == 401;
        return if unknown {
            vec![]
        } else {
            vec![format!("{what}: no documented path matches")]
        };
    };
    let Some(operation) = document()["paths"][&template].get(method.to_ascii_lowercase()) else {
        return if *status == 405 {
            vec![]
        } else {
            vec![format!("{what}: {method} {template} is not documented")]
        };
    };
    let Some(mut response) = operation["responses"].get(status.to_string()) else {
        return vec![format!(
            "{what}: status {status} is not documented for {method} {template}"
        )];
    };
    if let Some(target) = response["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/responses/");
        response = &document()["components"]["responses"][name];
    }
    let (Some(body), Some(schema)) = (json, response["content"]["application/json"].get("schema"))
    else {
        return vec![];
    };
    let key = format!("{method} {template} {status}");
    let validator = validator(&key, schema);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(5)
        .map(|e| format!("{what}: at {}: {e}", e.instance_path))
        .collect();
    errors
}

/// Panics with every problem in `log`.
pub fn check(log: &Log) {
    let exchanges = std::mem::take(&mut *log.lock().unwrap());
    let problems: Vec<String> = exchanges.iter().flat_map(problems_with).collect();
    assert!(
        problems.is_empty(),
        "answers that do not match the API description (server/src/rest/mod.rs):\n{}",
        problems.join("\n")
    );
}
