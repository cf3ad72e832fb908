//! The API description (OpenAPI 3.1) and the route table that makes it.
//!
//! Every `/api/v1` route is registered with [`Api::route`], which adds the axum route, the
//! access check and the route's operation in the document from the same handler: the
//! document cannot miss a route or describe one that does not exist. Path and query
//! parameters, request bodies and responses come from the handler's signature ([`ArgDoc`],
//! [`RespDoc`], with the DTOs' `utoipa::ToSchema` schemas); what a signature cannot say
//! (the summary, who may call it, the status of a `(StatusCode, Json<T>)`, bodies read by
//! hand) comes from the route's [`Op`].
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::{Permission, Role};
use app::error::AppError;
use app::server::platform::context::Auth;
use app::server::platform::state::{AppState, SESSION_COOKIE};
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value, json};
use std::future::Future;
use utoipa::ToSchema;

/// Who may call a route. Checked before the request is read, so a caller without the right
/// learns nothing about what the body should have been.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// No sign-in (signing in itself, the document).
    Public,
    /// Any signed-in, active user.
    SignedIn,
    /// Users whose role has this permission.
    Needs(Permission),
}

/// How large a body a route accepts.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// `AEGIS_MAX_BODY_BYTES`, the server-wide default.
    Default,
    Max(usize),
    /// The handler bounds the body itself while streaming it (uploads).
    Streamed,
}

type BodyFn = fn(&mut Schemas) -> Body;
type ResponseFn = fn(&mut Schemas) -> Vec<Success>;

/// What a route's signature cannot say about it.
pub struct Op {
    summary: &'static str,
    access: Access,
    note: Option<&'static str>,
    status: Option<u16>,
    body: Option<BodyFn>,
    responses: Option<ResponseFn>,
    limit: Limit,
}

/// A route's operation: `summary` is its one-line description.
pub fn op(summary: &'static str) -> Op {
    Op {
        summary,
        access: Access::SignedIn,
        note: None,
        status: None,
        body: None,
        responses: None,
        limit: Limit::Default,
    }
}

impl Op {
    pub fn public(mut self) -> Self {
        self.access = Access::Public;
        self
    }

    pub fn needs(mut self, permission: Permission) -> Self {
        self.access = Access::Needs(permission);
        self
    }

    /// More on who may do it, where the service decides (a team, a lead, the test's state).
    pub fn note(mut self, note: &'static str) -> Self {
        self.note = Some(note);
        self
    }

    /// The status of a `(StatusCode, Json<T>)` answer, when it is not 201 Created.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The request body, for handlers that read it by hand.
    pub fn body(mut self, body: BodyFn) -> Self {
        self.body = Some(body);
        self
    }

    /// The answers, for handlers that build their response by hand.
    pub fn responses(mut self, responses: ResponseFn) -> Self {
        self.responses = Some(responses);
        self
    }

    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = limit;
        self
    }
}

/// A request body in the document.
pub struct Body {
    pub content: Vec<(&'static str, Value)>,
    pub required: bool,
}

impl Body {
    pub fn json<T: ToSchema>(schemas: &mut Schemas) -> Body {
        Body {
            content: vec![("application/json", schemas.of::<T>())],
            required: true,
        }
    }

    /// A `multipart/form-data` upload: `fields` are (name, description) of its text
    /// fields; `file` is the file part.
    pub fn upload(fields: &[(&str, &str)]) -> Body {
        let mut properties = Map::new();
        properties.insert(
            "file".into(),
            json!({ "type": "string", "contentMediaType": "application/octet-stream",
                    "description": "The file" }),
        );
        for (name, description) in fields {
            properties.insert(
                (*name).into(),
                json!({ "type": "string", "description": description }),
            );
        }
        Body {
            content: vec![(
                "multipart/form-data",
                json!({ "type": "object", "properties": properties, "required": ["file"] }),
            )],
            required: true,
        }
    }
}

/// A successful answer in the document: status, description and content (type, schema).
pub struct Success {
    pub status: u16,
    pub description: &'static str,
    pub content: Option<(&'static str, Value)>,
}

impl Success {
    pub fn json<T: ToSchema>(schemas: &mut Schemas, status: u16) -> Success {
        Success {
            status,
            description: describe(status),
            content: Some(("application/json", schemas.of::<T>())),
        }
    }

    pub fn text(status: u16, content_type: &'static str, description: &'static str) -> Success {
        Success {
            status,
            description,
            content: Some((content_type, json!({ "type": "string" }))),
        }
    }

    pub fn empty(status: u16, description: &'static str) -> Success {
        Success {
            status,
            description,
            content: None,
        }
    }
}

/// The schemas the document's components hold, collected from the types it names.
#[derive(Default)]
pub struct Schemas {
    components: Map<String, Value>,
}

impl Schemas {
    /// `T`'s schema: a `$ref` to its component for named object and enum types, inline for
    /// the rest (lists, strings, generic types whose name would not be unique).
    pub fn of<T: ToSchema>(&mut self) -> Value {
        let mut dependencies = Vec::new();
        T::schemas(&mut dependencies);
        for (name, schema) in dependencies {
            self.components
                .entry(name)
                .or_insert_with(|| to_json(&schema));
        }
        let schema = to_json(&T::schema());
        let name = T::name();
        let named = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && (schema.get("properties").is_some()
                || schema.get("enum").is_some()
                || schema.get("oneOf").is_some()
                || schema.get("allOf").is_some());
        if !named {
            return schema;
        }
        match self.components.get(name.as_ref()) {
            Some(existing) if existing != &schema => schema,
            Some(_) => reference(&name),
            None => {
                self.components.insert(name.to_string(), schema);
                reference(&name)
            }
        }
    }

    /// A schema with its `$ref`s and `allOf`s resolved to one object: a query string's
    /// fields.
    fn flatten(
        &self,
        schema: &Value,
        properties: &mut Map<String, Value>,
        required: &mut Vec<String>,
    ) {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            if let Some(found) = target
                .strip_prefix("#/components/schemas/")
                .and_then(|name| self.components.get(name))
            {
                self.flatten(&found.clone(), properties, required);
            }
            return;
        }
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.flatten(part, properties, required);
        }
        if let Some(own) = schema.get("properties").and_then(Value::as_object) {
            for (name, value) in own {
                properties.insert(name.clone(), value.clone());
            }
        }
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str() {
                required.push(name.to_owned());
            }
        }
    }
}

fn to_json(schema: &impl serde::Serialize) -> Value {
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn describe(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted: the work runs in the background",
        204 => "Done; no content",
        304 => "Not modified since the ETag sent in If-None-Match",
        _ => "Answer",
    }
}

/// The error answers every fallible route documents (`components/responses/Error<status>`).
const ERRORS: [u16; 10] = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503];

/// What a handler's signature tells the document about one operation.
#[derive(Default)]
pub struct OpDoc {
    path: Vec<Value>,
    query: Option<Value>,
    body: Option<Body>,
    success: Vec<Success>,
    /// A `(StatusCode, Json<T>)`: the status comes from the [`Op`].
    with_status: Option<Value>,
    fails: bool,
}

impl OpDoc {
    /// One more successful answer.
    pub fn answer(&mut self, success: Success) {
        self.success.push(success);
    }
}

/// A handler argument's part of the document.
pub trait ArgDoc {
    fn doc(_doc: &mut OpDoc, _schemas: &mut Schemas) {}
}

impl<S> ArgDoc for State<S> {}
impl ArgDoc for Caller {}
impl ArgDoc for HeaderMap {}
impl ArgDoc for Request {}
impl ArgDoc for axum::body::Bytes {}

impl<T: ToSchema> ArgDoc for ApiJson<T> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.body = Some(Body::json::<T>(schemas));
    }
}

impl<T: ToSchema> ArgDoc for Option<ApiJson<T>> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.body = Some(Body {
            required: false,
            ..Body::json::<T>(schemas)
        });
    }
}

impl<T: ToSchema> ArgDoc for ApiQuery<T> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.query = Some(schemas.of::<T>());
    }
}

impl<T: PathDoc> ArgDoc for ApiPath<T> {
    fn doc(doc: &mut OpDoc, _: &mut Schemas) {
        doc.path = T::schemas();
    }
}

/// The schemas of a path's parameters, in order.
pub trait PathDoc {
    fn schemas() -> Vec<Value>;
}

impl PathDoc for uuid::Uuid {
    fn schemas() -> Vec<Value> {
        vec![json!({ "type": "string", "format": "uuid" })]
    }
}

impl PathDoc for String {
    fn schemas() -> Vec<Value> {
        vec![json!({ "type": "string" })]
    }
}

impl PathDoc for i32 {
    fn schemas() -> Vec<Value> {
        vec![json!({ "type": "integer", "format": "int32" })]
    }
}

impl<A: PathDoc, B: PathDoc> PathDoc for (A, B) {
    fn schemas() -> Vec<Value> {
        let mut all = A::schemas();
        all.extend(B::schemas());
        all
    }
}

/// A handler's answer's part of the document.
pub trait RespDoc {
    fn doc(_doc: &mut OpDoc, _schemas: &mut Schemas) {}
}

impl<T: ToSchema> RespDoc for Json<T> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.success.push(Success::json::<T>(schemas, 200));
    }
}

impl<T: ToSchema> RespDoc for (StatusCode, Json<T>) {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.with_status = Some(schemas.of::<T>());
    }
}

impl RespDoc for StatusCode {
    fn doc(doc: &mut OpDoc, _: &mut Schemas) {
        doc.success.push(Success::empty(204, describe(204)));
    }
}

/// Built by hand: the route's [`Op::responses`] describes it.
impl RespDoc for Response {}

impl<T: RespDoc> RespDoc for Result<T, AppError> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        T::doc(doc, schemas);
        doc.fails = true;
    }
}

/// A handler's whole part of the document, from its arguments and answer (`M` tells the
/// arities apart, as axum's `Handler` does).
pub trait HandlerDoc<M> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas);
}

macro_rules! handler_doc {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> HandlerDoc<(R, $($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future<Output = R>,
            R: RespDoc,
            $($arg: ArgDoc,)*
        {
            fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
                $(<$arg as ArgDoc>::doc(doc, schemas);)*
                <R as RespDoc>::doc(doc, schemas);
            }
        }
    };
}

handler_doc!();
handler_doc!(A1);
handler_doc!(A1, A2);
handler_doc!(A1, A2, A3);
handler_doc!(A1, A2, A3, A4);
handler_doc!(A1, A2, A3, A4, A5);
handler_doc!(A1, A2, A3, A4, A5, A6);

/// The `/api/v1` router and its document, built route by route.
pub struct Api {
    router: Router<AppState>,
    paths: Map<String, Value>,
    schemas: Schemas,
    operations: Vec<(Method, String)>,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    pub fn new() -> Self {
        Api {
            router: Router::new(),
            paths: Map::new(),
            schemas: Schemas::default(),
            operations: Vec::new(),
        }
    }

    /// Registers `handler` for `method` on `path` (relative to `/api/v1`), and its operation.
    pub fn route<H, T, M>(mut self, method: Method, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::PATCH => MethodFilter::PATCH,
            Method::DELETE => MethodFilter::DELETE,
            other => panic!("no API route uses {other}"),
        };
        let access = op.access;
        let mut route = on(filter, handler).route_layer(axum::middleware::from_fn(
            move |request: Request, next: Next| check(access, request, next),
        ));
        route = match op.limit {
            Limit::Default => route,
            Limit::Max(bytes) => route.layer(DefaultBodyLimit::max(bytes)),
            Limit::Streamed => route.layer(DefaultBodyLimit::disable()),
        };
        self.router = self.router.route(path, route);

        let mut doc = OpDoc::default();
        <H as HandlerDoc<M>>::doc(&mut doc, &mut self.schemas);
        let operation = self.operation(&method, path, op, doc);
        let item = self
            .paths
            .entry(format!("/api/v1{path}"))
            .or_insert_with(|| json!({}));
        item[method.as_str().to_ascii_lowercase()] = operation;
        self.operations.push((method, path.to_owned()));
        self
    }

    pub fn get<H, T, M>(self, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        self.route(Method::GET, path, handler, op)
    }

    pub fn post<H, T, M>(self, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        self.route(Method::POST, path, handler, op)
    }

    pub fn put<H, T, M>(self, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        self.route(Method::PUT, path, handler, op)
    }

    pub fn patch<H, T, M>(self, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        self.route(Method::PATCH, path, handler, op)
    }

    pub fn delete<H, T, M>(self, path: &'static str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState> + HandlerDoc<M>,
        T: 'static,
    {
        self.route(Method::DELETE, path, handler, op)
    }

    fn operation(&mut self, method: &Method, path: &str, op: Op, doc: OpDoc) -> Value {
        let mut parameters = Vec::new();
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(
            names.len(),
            doc.path.len(),
            "{method} {path}: the path's parameters and the handler's ApiPath differ"
        );
        for (name, schema) in names.iter().zip(doc.path) {
            parameters
                .push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
        }
        if let Some(query) = &doc.query {
            let mut properties = Map::new();
            let mut required = Vec::new();
            self.schemas.flatten(query, &mut properties, &mut required);
            for (name, schema) in properties {
                let mut parameter = json!({
                    "name": name, "in": "query", "required": required.contains(&name),
                    "schema": schema,
                });
                if let Some(description) = parameter["schema"].get("description").cloned() {
                    parameter["description"] = description;
                }
                parameters.push(parameter);
            }
        }

        let mut success = doc.success;
        if let Some(schema) = doc.with_status {
            let status = op.status.unwrap_or(201);
            success.push(Success {
                status,
                description: describe(status),
                content: Some(("application/json", schema)),
            });
        }
        if let Some(responses) = op.responses {
            success = responses(&mut self.schemas);
        }
        assert!(
            !success.is_empty(),
            "{method} {path}: say what it answers (Op::responses)"
        );
        let mut responses = Map::new();
        for answer in success {
            let mut response = json!({ "description": answer.description });
            if let Some((content_type, schema)) = answer.content {
                let mut content = Map::new();
                content.insert(content_type.to_owned(), json!({ "schema": schema }));
                response["content"] = Value::Object(content);
            }
            responses.insert(answer.status.to_string(), response);
        }
        if doc.fails {
            for status in ERRORS {
                responses.insert(
                    status.to_string(),
                    json!({ "$ref": format!("#/components/responses/Error{status}") }),
                );
            }
        }

        let body = op.body.map(|body| body(&mut self.schemas)).or(doc.body);
        let tag = path.split('/').nth(1).unwrap_or("api").to_owned();
        let mut operation = json!({
            "tags": [tag],
            "summary": op.summary,
            "description": access_text(op.access, op.note),
            "operationId": operation_id(method, path),
            "parameters": parameters,
            "responses": responses,
        });
        match op.access {
            Access::Public => {
                operation["security"] = json!([{}, { "bearer": [] }, { "cookie": [] }])
            }
            _ => operation["security"] = json!([{ "bearer": [] }, { "cookie": [] }]),
        }
        if let Some(body) = body {
            let mut content = Map::new();
            for (content_type, schema) in body.content {
                content.insert(content_type.into(), json!({ "schema": schema }));
            }
            operation["requestBody"] = json!({ "required": body.required, "content": content });
        }
        operation
    }

    /// The router, the document and the (method, path) of every operation.
    pub fn finish(self) -> (Router<AppState>, Value) {
        let Api {
            router,
            paths,
            schemas,
            ..
        } = self;
        let mut components = schemas.components;
        components.insert(
            "Error".into(),
            json!({
                "type": "object",
                "description": "Every error: `detail` says what went wrong; `fields` (on 422) says it per field.",
                "properties": {
                    "detail": { "type": "string" },
                    "fields": { "type": "object", "additionalProperties": { "type": "string" } }
                },
                "required": ["detail"]
            }),
        );
        let mut responses = Map::new();
        for (status, text) in [
            (
                400,
                "The request could not be read (malformed JSON, bad query parameters)",
            ),
            (401, "Not signed in, or the token expired or was revoked"),
            (403, "The caller's role may not do this"),
            (404, "No such resource"),
            (
                409,
                "Conflicts with the current state (a stale version, a duplicate, a transition the state does not allow)",
            ),
            (413, "The body is larger than the route accepts"),
            (415, "The wrong Content-Type"),
            (422, "Well-formed but invalid: `fields` names each problem"),
            (429, "Too many attempts; Retry-After says when to try again"),
            (
                503,
                "The database or object store is unavailable; Retry-After says when to try again",
            ),
        ] {
            responses.insert(
                format!("Error{status}"),
                json!({
                    "description": text,
                    "content": { "application/json": { "schema": reference("Error") } }
                }),
            );
        }
        let document = json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Aegis API",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Prove, technique by technique, which MITRE ATT&CK attacks you can detect. \
                    Sign in with `POST /api/v1/auth/login` and send the `access_token` as \
                    `Authorization: Bearer …`; the browser's session cookie works too. \
                    Errors are `{\"detail\": …}`, with `fields` on validation errors.",
            },
            "servers": [{ "url": "/" }],
            "paths": paths,
            "components": {
                "schemas": components,
                "responses": responses,
                "securitySchemes": {
                    "bearer": { "type": "http", "scheme": "bearer",
                                "description": "The access_token from POST /api/v1/auth/login" },
                    "cookie": { "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                                "description": "The browser's session (set by signing in)" }
                }
            },
        });
        (router, document)
    }
}

/// The route's access check, before anything else reads the request.
async fn check(access: Access, request: Request, next: Next) -> Response {
    let auth = request
        .extensions()
        .get::<Auth>()
        .cloned()
        .unwrap_or_default();
    let outcome = match access {
        Access::Public => Ok(()),
        Access::SignedIn => auth.user().map(|_| ()),
        Access::Needs(permission) => auth.require(permission).map(|_| ()),
    };
    match outcome {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

fn access_text(access: Access, note: Option<&str>) -> String {
    let who = match access {
        Access::Public => "No sign-in needed.".to_owned(),
        Access::SignedIn => "Any signed-in user.".to_owned(),
        Access::Needs(permission) => {
            let roles: Vec<String> = Role::ALL
                .into_iter()
                .filter(|role| role.can(permission))
                .map(|role| format!("`{}`", role.as_str()))
                .collect();
            format!("Roles: {}.", roles.join(", "))
        }
    };
    match note {
        Some(note) => format!("{who} {note}"),
        None => who,
    }
}

/// `GET /tests/{id}/worklog` → `get_tests_id_worklog`.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            segment
                .trim_matches(|c| c == '{' || c == '}')
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}
