//! Single sign-on against the test provider (`common::oidc`): the code flow with PKCE, state and
//! nonce; accounts matched by subject, linked by verified email or created when allowed; roles
//! from groups, re-evaluated and audited at each sign-in; every refusal a clear login page and
//! an audit entry; key rotation; RP-initiated logout; password sign-in turned off but for the
//! break-glass admin.
use crate::common::oidc::{CLIENT_ID, Key, Person, Provider};
use crate::common::{ADMIN_PASSWORD, Backend, TestApp, json_body};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

const ROLE_MAP: &str =
    "aegis-admins=admin,red=red_tech,blue=blue_tech,red-leads=red_lead,everyone=viewer";

macro_rules! sso_on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(crate::common::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(crate::common::Backend::Postgres).await;
                }
            }
        )*
    };
}

sso_on_both_backends!(
    sign_in_maps_groups_to_roles_and_re_evaluates_them,
    without_auto_create_accounts_are_linked_by_verified_email,
    tampered_or_failed_flows_are_refused_and_audited,
    rotated_keys_are_fetched_again,
    password_sign_in_can_be_left_to_the_break_glass_admin,
);

/// A browser: follows nothing by itself, keeps cookies per name.
struct Browser {
    client: Client,
    cookies: HashMap<String, String>,
}

#[derive(Debug, PartialEq)]
enum Landing {
    SignedIn { next: String },
    Refused(String),
}

impl Browser {
    fn new() -> Self {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn get(&mut self, url: &str) -> Response {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self.client.get(url);
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, val) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), val.to_owned());
            }
        }
        response
    }

    fn session(&self) -> Option<&String> {
        self.cookies.get("aegis_session")
    }
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

fn refusal(location: &str) -> Option<String> {
    location
        .strip_prefix("/login?sso_error=")
        .map(str::to_owned)
}

/// The provider's redirect back, sent to this test's server (whose public address the
/// provider cannot know: the server was bound to a free port after it was configured).
fn to_app(app: &TestApp, url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    let mut path = parsed.path().to_owned();
    if let Some(query) = parsed.query() {
        path = format!("{path}?{query}");
    }
    app.url(&path)
}

/// Starts at `/auth/oidc/login`, goes through the provider, and returns its redirect back
/// (the callback URL on this server), or the refusal at the start.
async fn to_callback(app: &TestApp, browser: &mut Browser, next: &str) -> Result<String, String> {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap();
    let start = browser
        .get(&app.url(&format!("/auth/oidc/login?{query}")))
        .await;
    assert!(start.status().is_redirection(), "{}", start.status());
    assert_eq!(start.headers()["cache-control"], "no-store");
    let to_provider = location(&start);
    if let Some(reason) = refusal(&to_provider) {
        return Err(reason);
    }
    assert!(
        browser.cookies.contains_key("aegis_sso"),
        "the flow cookie is set"
    );
    let at_provider = browser.get(&to_provider).await;
    assert_eq!(
        at_provider.status(),
        303,
        "{}",
        at_provider.text().await.unwrap()
    );
    Ok(to_app(app, &location(&at_provider)))
}

async fn come_back(browser: &mut Browser, callback: &str) -> Landing {
    let response = browser.get(callback).await;
    let status = response.status();
    if status.is_redirection() {
        let to = location(&response);
        return Landing::Refused(refusal(&to).unwrap_or_else(|| panic!("redirect to {to}")));
    }
    assert_eq!(status, 200);
    let page = response.text().await.unwrap();
    let next = page
        .split("url=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        !browser.cookies.contains_key("aegis_sso"),
        "the flow cookie is cleared"
    );
    Landing::SignedIn { next }
}

async fn sign_in(app: &TestApp, browser: &mut Browser, next: &str) -> Landing {
    match to_callback(app, browser, next).await {
        Ok(callback) => come_back(browser, &callback).await,
        Err(reason) => Landing::Refused(reason),
    }
}

async fn me(app: &TestApp, browser: &Browser) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header(
            "cookie",
            format!("aegis_session={}", browser.session().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json_body(response).await
}

async fn audit(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/audit-logs?action={action}&limit=100"),
            admin,
        )
        .await;
    assert_eq!(response.status(), 200);
    json_body(response).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The login page's choices, as anyone may read them.
async fn sign_in_options(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/auth/sign-in-options"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json_body(response).await
}

async fn start(backend: Backend, provider: &Provider, auto_create: bool) -> TestApp {
    TestApp::start_with(backend, &provider.env(ROLE_MAP, auto_create)).await
}

async fn sign_in_maps_groups_to_roles_and_re_evaluates_them(backend: Backend) {
    let provider = Provider::start(Person::new("sub-alice", "alice", &["everyone", "red"])).await;
    let app = start(backend, &provider, true).await;
    let admin = app.admin_token().await;

    // The login page's choices.
    let options = sign_in_options(&app).await;
    assert_eq!(options["sso"]["label"], "Test IdP");
    assert_eq!(options["sso"]["login_url"], "/auth/oidc/login");
    assert_eq!(options["password_sign_in"], "everyone");

    // First sign-in: the account is created with the highest mapped role.
    let mut browser = Browser::new();
    let landing = sign_in(&app, &mut browser, "/tests?state=draft").await;
    assert_eq!(
        landing,
        Landing::SignedIn {
            next: "/tests?state=draft".into()
        }
    );
    let profile = me(&app, &browser).await;
    assert_eq!(profile["username"], "alice");
    assert_eq!(profile["role"], "red_tech");
    assert_eq!(profile["email"], "alice@example.org");
    assert_eq!(profile["display_name"], "alice (SSO)");
    // PKCE S256 was sent, and the verifier matched at the token endpoint.
    assert_eq!(provider.read(|k| k.challenge_methods.clone()), ["S256"]);
    assert_eq!(provider.read(|k| k.pkce_checks.clone()), [true]);

    let users = json_body(app.get("/api/v1/users?search=alice", &admin).await).await;
    let alice = &users["items"][0];
    assert_eq!(alice["sign_in"], "sso");
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    // No password: the password form cannot sign this account in.
    assert_eq!(
        app.login_response("alice", "any-password-at-all")
            .await
            .status(),
        401
    );
    let created = audit(&app, &admin, "user.create").await;
    assert!(
        created.iter().any(
            |e| e["entity_id"] == alice_id.as_str() && e["after"]["sso_subject"] == "sub-alice"
        )
    );
    let logins = audit(&app, &admin, "auth.login").await;
    assert!(
        logins
            .iter()
            .any(|e| e["actor_username"] == "alice" && e["after"]["method"] == "sso"),
        "{logins:?}"
    );

    // The provider moves her to the admins: the next sign-in promotes her, audited.
    provider.set(|k| k.person.groups = vec!["aegis-admins".into(), "red".into()]);
    let mut again = Browser::new();
    assert!(matches!(
        sign_in(&app, &mut again, "/").await,
        Landing::SignedIn { .. }
    ));
    assert_eq!(me(&app, &again).await["role"], "admin");
    let changes = audit(&app, &admin, "user.sso_role").await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["before"]["role"], "red_tech");
    assert_eq!(changes[0]["after"]["role"], "admin");
    // The same account: matched by subject, not created twice.
    let users = json_body(app.get("/api/v1/users?search=alice", &admin).await).await;
    assert_eq!(users["total"], 1);

    // Back to red: demoted at the next sign-in.
    provider.set(|k| k.person.groups = vec!["red".into()]);
    assert!(matches!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::SignedIn { .. }
    ));
    let users = json_body(app.get(&format!("/api/v1/users/{alice_id}"), &admin).await).await;
    assert_eq!(users["role"], "red_tech");
    assert_eq!(audit(&app, &admin, "user.sso_role").await.len(), 2);

    // No mapped group: no access, with a clear page, audited.
    provider.set(|k| k.person.groups = vec!["contractors".into()]);
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("no_role".into())
    );
    let page = app
        .client
        .get(app.url("/login?sso_error=no_role"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("in no group that has access to Aegis"),
        "{html}"
    );
    let refused = audit(&app, &admin, "auth.sso_failed").await;
    assert_eq!(refused[0]["after"]["reason"], "no_role");
    assert_eq!(refused[0]["after"]["groups"], json!(["contractors"]));

    // A deactivated account cannot sign in through the provider either.
    provider.set(|k| k.person.groups = vec!["red".into()]);
    let response = app
        .patch_json(
            &format!("/api/v1/users/{alice_id}"),
            &admin,
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("deactivated".into())
    );
    assert_eq!(
        audit(&app, &admin, "auth.sso_failed").await[0]["after"]["reason"],
        "deactivated"
    );
    app.patch_json(
        &format!("/api/v1/users/{alice_id}"),
        &admin,
        json!({ "is_active": true }),
    )
    .await;

    // Signing out of an SSO session sends the browser to the provider's sign-out.
    let mut browser = Browser::new();
    assert!(matches!(
        sign_in(&app, &mut browser, "/").await,
        Landing::SignedIn { .. }
    ));
    let session = browser.session().unwrap().clone();
    let response = app
        .client
        .post(app.url("/api/fn/logout"))
        .header("cookie", format!("aegis_session={session}"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .form(&Vec::<(String, String)>::new())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let target: String = response.json().await.unwrap();
    let url = reqwest::Url::parse(&target).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!("{}/logout", provider.issuer)
    );
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert!(
        query["post_logout_redirect_uri"].ends_with("/login"),
        "{query:?}"
    );
    // The session is over.
    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("aegis_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A password session signs out to the login page as before.
    let response = app
        .client
        .post(app.url("/api/fn/logout"))
        .bearer_auth(&admin)
        .header("accept", "application/json")
        .form(&Vec::<(String, String)>::new())
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<String>().await.unwrap(), "/login");
    app.finish().await;
}

async fn without_auto_create_accounts_are_linked_by_verified_email(backend: Backend) {
    let provider = Provider::start(Person::new("sub-bob", "bob", &["blue"])).await;
    let app = start(backend, &provider, false).await;
    let admin = app.admin_token().await;

    // Nobody made an account for Bob yet.
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("no_account".into())
    );
    assert_eq!(
        audit(&app, &admin, "auth.sso_failed").await[0]["after"]["reason"],
        "no_account"
    );
    let users = json_body(app.get("/api/v1/users?search=bob", &admin).await).await;
    assert_eq!(users["total"], 0);

    // A service account with his address is not his to take over.
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "bob-bot", "service_account": true, "role": "admin", "email": "bob@example.org" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let bot = json_body(response).await["id"].as_str().unwrap().to_owned();
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("no_account".into())
    );
    let response = app
        .patch_json(
            &format!("/api/v1/users/{bot}"),
            &admin,
            json!({ "email": "bot@example.org" }),
        )
        .await;
    assert_eq!(response.status(), 200);

    // An admin creates it with his address: his first sign-in links it (audited).
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "robert", "password": "robert-password-1", "role": "viewer", "email": "bob@example.org" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let robert = json_body(response).await["id"].as_str().unwrap().to_owned();
    // An unverified address links nothing.
    provider.set(|k| k.person.email_verified = false);
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("no_account".into())
    );
    provider.set(|k| k.person.email_verified = true);
    let mut browser = Browser::new();
    assert!(matches!(
        sign_in(&app, &mut browser, "/").await,
        Landing::SignedIn { .. }
    ));
    let profile = me(&app, &browser).await;
    assert_eq!(profile["username"], "robert");
    // The mapped role replaces the one the admin chose.
    assert_eq!(profile["role"], "blue_tech");
    let linked = audit(&app, &admin, "user.sso_link").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["entity_id"], robert.as_str());
    assert_eq!(linked[0]["after"]["sso_subject"], "sub-bob");
    let user = json_body(app.get(&format!("/api/v1/users/{robert}"), &admin).await).await;
    assert_eq!(user["sign_in"], "sso");

    // Another subject with the same address cannot take the linked account over.
    provider.set(|k| k.person.sub = "sub-impostor".into());
    assert_eq!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::Refused("no_account".into())
    );
    app.finish().await;
}

/// Runs one sign-in and returns the refusal, checking it was audited with that reason.
async fn refused_with(app: &TestApp, admin: &str, expected: &str) {
    assert_eq!(
        sign_in(app, &mut Browser::new(), "/").await,
        Landing::Refused(expected.into())
    );
    let entries = audit(app, admin, "auth.sso_failed").await;
    assert_eq!(entries[0]["after"]["reason"], expected, "{:?}", entries[0]);
}

async fn tampered_or_failed_flows_are_refused_and_audited(backend: Backend) {
    let provider = Provider::start(Person::new("sub-carol", "carol", &["red"])).await;
    let app = start(backend, &provider, true).await;
    let admin = app.admin_token().await;

    // A callback without the browser's flow cookie (started elsewhere: login CSRF).
    let mut browser = Browser::new();
    let callback = to_callback(&app, &mut browser, "/").await.unwrap();
    let mut other = Browser::new();
    assert_eq!(
        come_back(&mut other, &callback).await,
        Landing::Refused("bad_state".into())
    );
    // With a cookie for another flow.
    let mut second = Browser::new();
    let _ = to_callback(&app, &mut second, "/").await.unwrap();
    assert_eq!(
        come_back(&mut second, &callback).await,
        Landing::Refused("bad_state".into())
    );
    // The right browser still finishes it; replaying the callback afterwards does not.
    let cookie = browser.cookies.clone();
    assert!(matches!(
        come_back(&mut browser, &callback).await,
        Landing::SignedIn { .. }
    ));
    browser.cookies = cookie;
    browser.cookies.remove("aegis_session");
    assert_eq!(
        come_back(&mut browser, &callback).await,
        Landing::Refused("bad_state".into())
    );
    assert!(browser.session().is_none());
    let reasons: Vec<Value> = audit(&app, &admin, "auth.sso_failed")
        .await
        .iter()
        .map(|e| e["after"]["reason"].clone())
        .collect();
    // The callback with no flow cookie at all is refused but not audited (anyone can send
    // one); the other two are.
    assert_eq!(reasons, vec![json!("bad_state"); 2]);

    // A garbled callback query, and no state at all.
    let mut browser = Browser::new();
    assert_eq!(
        come_back(&mut browser, &app.url("/auth/oidc/callback?code=x&code=y")).await,
        Landing::Refused("bad_state".into())
    );
    assert_eq!(
        come_back(&mut browser, &app.url("/auth/oidc/callback")).await,
        Landing::Refused("bad_state".into())
    );

    // The provider refused (the person cancelled).
    let mut browser = Browser::new();
    let callback = to_callback(&app, &mut browser, "/").await.unwrap();
    let state = reqwest::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let denied = app.url(&format!(
        "/auth/oidc/callback?error=access_denied&error_description=cancelled&state={state}"
    ));
    assert_eq!(
        come_back(&mut browser, &denied).await,
        Landing::Refused("provider_error".into())
    );
    assert_eq!(
        audit(&app, &admin, "auth.sso_failed").await[0]["after"]["detail"],
        "access_denied: cancelled"
    );

    // An expired (or otherwise refused) code.
    provider.set(|k| k.token_error = Some("invalid_grant"));
    refused_with(&app, &admin, "exchange_failed").await;
    provider.set(|k| k.token_error = None);
    // Another nonce, another audience, an expired token, a key the provider never published.
    provider.set(|k| k.nonce_override = Some("not-yours".into()));
    refused_with(&app, &admin, "invalid_token").await;
    provider.set(|k| {
        k.nonce_override = None;
        k.audience_override = Some("someone-else".into());
    });
    refused_with(&app, &admin, "invalid_token").await;
    provider.set(|k| {
        k.audience_override = None;
        k.expires_in = -120;
    });
    refused_with(&app, &admin, "invalid_token").await;
    provider.set(|k| {
        k.expires_in = 300;
        k.signing = Key::rogue();
    });
    refused_with(&app, &admin, "invalid_token").await;
    let detail = audit(&app, &admin, "auth.sso_failed").await[0]["after"]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("ID token"), "{detail}");
    provider.set(|k| k.signing = Key::first());
    // Nothing above opened a session or made an account but the one good sign-in.
    let users = json_body(app.get("/api/v1/users?search=carol", &admin).await).await;
    assert_eq!(users["total"], 1);
    assert!(matches!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::SignedIn { .. }
    ));
    app.finish().await;

    // A provider that is down: a clear page at the start, never a 500.
    let app = TestApp::start_with(
        backend,
        &[
            ("AEGIS_OIDC_ISSUER", "http://127.0.0.1:9".to_owned()),
            ("AEGIS_OIDC_CLIENT_ID", CLIENT_ID.to_owned()),
            ("AEGIS_OIDC_ROLE_MAP", ROLE_MAP.to_owned()),
            ("AEGIS_OIDC_TIMEOUT_SECS", "2".to_owned()),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    refused_with(&app, &admin, "provider_unreachable").await;
    app.finish().await;
}

async fn rotated_keys_are_fetched_again(backend: Backend) {
    let provider = Provider::start(Person::new("sub-dave", "dave", &["blue"])).await;
    let app = start(backend, &provider, true).await;
    assert!(matches!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::SignedIn { .. }
    ));
    assert!(matches!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::SignedIn { .. }
    ));
    // The keys are cached between sign-ins.
    assert_eq!(provider.read(|k| k.jwks_fetches), 1);
    // The provider rotates: a new key signs, the old one is withdrawn.
    provider.set(|k| {
        k.signing = Key::second();
        k.published = vec![Key::second()];
    });
    let mut browser = Browser::new();
    assert!(matches!(
        sign_in(&app, &mut browser, "/").await,
        Landing::SignedIn { .. }
    ));
    assert_eq!(me(&app, &browser).await["username"], "dave");
    assert_eq!(provider.read(|k| k.jwks_fetches), 2);
    app.finish().await;
}

async fn password_sign_in_can_be_left_to_the_break_glass_admin(backend: Backend) {
    // Without single sign-on: the page offers only passwords, the flow is not there.
    let app = TestApp::start(backend).await;
    let options = sign_in_options(&app).await;
    assert_eq!(
        options,
        json!({ "sso": null, "password_sign_in": "everyone" })
    );
    let mut browser = Browser::new();
    let start = browser.get(&app.url("/auth/oidc/login")).await;
    assert_eq!(location(&start), "/login?sso_error=not_configured");
    app.finish().await;

    let provider = Provider::start(Person::new("sub-erin", "erin", &["red"])).await;
    let mut env = provider.env(ROLE_MAP, true);
    env.push(("AEGIS_PASSWORD_SIGN_IN", "break-glass".to_owned()));
    let app = TestApp::start_with(backend, &env).await;
    let options = sign_in_options(&app).await;
    assert_eq!(options["password_sign_in"], "break-glass");
    // The break-glass admin still signs in with the password.
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    app.create_user(&admin, "frank", "admin", "frank-password-1")
        .await;
    // Nobody else does, not even another admin with the right password.
    let response = app.login_response("frank", "frank-password-1").await;
    assert_eq!(response.status(), 403);
    let detail = json_body(response).await["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("sign in with Test IdP"), "{detail}");
    // SSO works beside it.
    assert!(matches!(
        sign_in(&app, &mut Browser::new(), "/").await,
        Landing::SignedIn { .. }
    ));
    app.finish().await;
}
