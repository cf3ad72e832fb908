use crate::api::admin::auth::Login;
use crate::api::safe_next;
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login = ServerAction::<Login>::new();
    let error = action_error(login.value());
    // A full page load after signing in, so every page starts from the new session.
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            let target = safe_next(Some(&next()));
            let _ = window().location().set_href(&target);
        }
    });
    view! {
        <Title text="Sign in" />
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-2xl font-bold tracking-tight">"Aegis"</h1>
                <p class="mb-6 mt-1 text-sm text-slate-500">"Sign in to continue"</p>
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
            </div>
        </main>
    }
}
