use crate::api::admin::auth::ChangePassword;
use crate::components::api_tokens::ApiTokens;
use crate::components::auth::use_auth;
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SuccessAlert, action_error,
};
use crate::components::layout::{Loading, PageError};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change.value());
    let success = Signal::derive(move || {
        matches!(change.value().get(), Some(Ok(())))
            .then(|| "Password changed. Other sessions have been signed out.".to_owned())
    });
    view! {
        <Title text="My profile" />
        <h1 class="mb-6 text-2xl font-semibold">"My profile"</h1>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! {
                        <dl id="profile" class="mb-8 grid max-w-xl grid-cols-3 gap-y-2 rounded-lg border border-slate-200 bg-white p-6 text-sm">
                            <dt class="text-slate-500">"Username"</dt>
                            <dd class="col-span-2 font-mono">{user.username.clone()}</dd>
                            <dt class="text-slate-500">"Name"</dt>
                            <dd class="col-span-2">{user.display_name.clone()}</dd>
                            <dt class="text-slate-500">"Email"</dt>
                            <dd class="col-span-2">{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt class="text-slate-500">"Role"</dt>
                            <dd class="col-span-2" id="profile-role">{user.role.label()}</dd>
                        </dl>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Suspense>
        <section class="max-w-xl rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="mb-4 text-lg font-semibold">"Change password"</h2>
            <SuccessAlert message=success />
            <ErrorAlert error />
            <ActionForm action=change>
                <div class="space-y-4">
                    <div>
                        <label for="current_password" class=LABEL_CLASS>"Current password"</label>
                        <input id="current_password" name="current_password" type="password" required autocomplete="current-password" class=INPUT_CLASS />
                        <FieldError error field="current_password" />
                    </div>
                    <div>
                        <label for="new_password" class=LABEL_CLASS>"New password"</label>
                        <input id="new_password" name="new_password" type="password" required minlength="10" autocomplete="new-password" class=INPUT_CLASS />
                        <FieldError error field="new_password" />
                    </div>
                    <button id="change-password-submit" type="submit" class=PRIMARY_BUTTON>"Change password"</button>
                </div>
            </ActionForm>
        </section>
        <ApiTokens owner=None />
    }
}
