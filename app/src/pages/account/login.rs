use crate::api::admin::auth::{Login, sign_in_options};
use crate::api::safe_next;
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::domain::sso::{PasswordSignIn, SsoFailure};
use crate::dto::admin::auth::SignInOptions;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // Why a single sign-on just failed (the callback sends the browser back here with it).
    let sso_error = move || {
        query.read().get("sso_error").map(|raw| {
            raw.parse::<SsoFailure>()
                .map_or("Single sign-on failed.", |f| f.label())
        })
    };
    // The break-glass admin's way to the password form when password sign-in is off.
    let local = move || query.read().get("local").is_some();
    let options = Resource::new(|| (), |_| sign_in_options());
    view! {
        <Title text="Sign in" />
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-2xl font-bold tracking-tight">"Aegis"</h1>
                <p class="mb-6 mt-1 text-sm text-slate-500">"Sign in to continue"</p>
                {move || sso_error().map(|message| view! {
                    <div id="sso-error" role="alert" class="alert-error mb-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                        {message}
                    </div>
                })}
                <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                    {move || {
                        let local = local();
                        Suspend::new(async move {
                            let options = options.await.unwrap_or(SignInOptions {
                                sso: None,
                                password_sign_in: PasswordSignIn::Everyone,
                            });
                            view! { <SignInChoices options next=Signal::derive(next) local /> }
                        })
                    }}
                </Suspense>
            </div>
        </main>
    }
}

/// Single sign-on (when configured) and the password form (when allowed, or asked for by the
/// break-glass admin with `?local`).
#[component]
fn SignInChoices(options: SignInOptions, next: Signal<String>, local: bool) -> impl IntoView {
    let show_password = options.password_sign_in == PasswordSignIn::Everyone || local;
    let has_sso = options.sso.is_some();
    let sso = options.sso.map(|sso| {
        let href = move || {
            let target = safe_next(Some(&next.get()));
            format!("{}?{}", sso.login_url, next_query(&target))
        };
        let label = format!("Sign in with {}", sso.label);
        // rel=external: a full navigation to the server's route, not a client-side one.
        view! {
            <a id="sso-login" rel="external" href=href class=format!("{PRIMARY_BUTTON} w-full")>{label}</a>
        }
    });
    view! {
        {sso}
        <Show when=move || has_sso && show_password>
            <p class="my-4 text-center text-xs uppercase tracking-wide text-slate-400">"or with a password"</p>
        </Show>
        <Show when=move || show_password>
            <PasswordForm next />
        </Show>
        <Show when=move || !show_password>
            <p class="mt-4 text-center text-xs text-slate-500">
                <a id="break-glass" rel="external" class="underline" href="/login?local=1">"Break-glass admin sign-in"</a>
            </p>
        </Show>
        <Show when=move || !has_sso && !show_password>
            <p class="text-sm text-slate-500">"No way to sign in is configured."</p>
        </Show>
    }
}

/// `next=<path>`, encoded for a query string.
fn next_query(target: &str) -> String {
    let mut out = String::from("next=");
    for byte in target.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[component]
fn PasswordForm(next: Signal<String>) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login.value());
    // A full page load after signing in, so every page starts from the new session.
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            let target = safe_next(Some(&next.get()));
            let _ = window().location().set_href(&target);
        }
    });
    view! {
        <ErrorAlert error />
        <ActionForm action=login>
            <input type="hidden" name="next" value=next />
            <div class="space-y-4">
                <div>
                    <label for="username" class=LABEL_CLASS>"Username"</label>
                    <input id="username" name="username" type="text" required autocomplete="username" autofocus class=INPUT_CLASS />
                </div>
                <div>
                    <label for="password" class=LABEL_CLASS>"Password"</label>
                    <input id="password" name="password" type="password" required autocomplete="current-password" class=INPUT_CLASS />
                </div>
                <button id="login-submit" type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </div>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_encoded_for_the_query() {
        assert_eq!(
            super::next_query("/tests?x=1&y=2"),
            "next=/tests%3Fx%3D1%26y%3D2"
        );
        assert_eq!(super::next_query("/"), "next=/");
    }
}
