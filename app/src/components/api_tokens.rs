use crate::api::admin::auth::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, PageError};
use crate::domain::rbac::Role;
use leptos::prelude::*;
use uuid::Uuid;

/// API tokens for scripts and CI: create (the secret shown once), list, revoke. `owner`: the
/// signed-in user's own (`None`), or a service account's, managed by an admin.
#[component]
pub fn ApiTokens(owner: Option<Uuid>) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| list_api_tokens(owner),
    );
    let create_error = action_error(create.value());
    let revoke_error = action_error(revoke.value());
    let day = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d").to_string();
    view! {
        <section id="api-tokens" class="mt-8 max-w-3xl rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="text-lg font-semibold">"API tokens"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {if owner.is_none() {
                    "For scripts and CI pipelines: send a token as Authorization: Bearer aegis_pat_…. It acts as you (or with a lower role), every action with it is audited with its name, and revoking it stops it at once."
                } else {
                    "This service account signs in only with these tokens: send one as Authorization: Bearer aegis_pat_…. Every action with it is audited as the account, with the token's name; revoking it stops it at once."
                }}
            </p>
            {move || match create.value().get() {
                Some(Ok(created)) => view! {
                    <div id="new-token" class="mt-3 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm">
                        <p class="font-medium">{format!("Token \"{}\" created. Copy it now: it is not shown again.", created.details.name)}</p>
                        <code id="new-token-secret" class="mt-1 block break-all font-mono">{created.token.clone()}</code>
                    </div>
                }.into_any(),
                _ => ().into_any(),
            }}
            <div class="mt-3"><ErrorAlert error=revoke_error /></div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p id="tokens-empty" class="mt-3 text-sm text-slate-500">"No API token yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table id="token-list" class="mt-3 w-full text-left text-sm">
                                <thead class="text-xs text-slate-500">
                                    <tr><th>"Name"</th><th>"Role"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {list.into_iter().map(|t| view! {
                                        <tr class="api-token" data-name=t.name.clone()>
                                            <td class="py-2 font-medium">{t.name.clone()}</td>
                                            <td>{t.role.map(|r| r.label()).unwrap_or(if owner.is_none() { "Mine" } else { "The account's" })}</td>
                                            <td>{day(t.created_at)}</td>
                                            <td>{day(t.expires_at)}</td>
                                            <td class="last-used">{t.last_used_at.map(day).unwrap_or_else(|| "Never".into())}</td>
                                            <td class="text-right">
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="id" value=t.id.to_string() />
                                                    {owner.map(|o| view! { <input type="hidden" name="owner" value=o.to_string() /> })}
                                                    <button type="submit" class="revoke-token rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">"Revoke"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create attr:id="token-form" attr:class="mt-4 grid gap-3 md:grid-cols-3">
                <div class="md:col-span-3"><ErrorAlert error=create_error /></div>
                {owner.map(|o| view! { <input type="hidden" name="owner" value=o.to_string() /> })}
                <div>
                    <label for="token-name" class=LABEL_CLASS>"Name"</label>
                    <input id="token-name" name="name" required maxlength="100" placeholder="nightly CI" class=INPUT_CLASS />
                    <FieldError error=create_error field="name" />
                </div>
                <div>
                    <label for="token-days" class=LABEL_CLASS>"Expires in (days)"</label>
                    <input id="token-days" name="expires_in_days" type="number" min="1" value="90" class=INPUT_CLASS />
                    <FieldError error=create_error field="expires_in_days" />
                </div>
                <div>
                    <label for="token-role" class=LABEL_CLASS>"Acts as"</label>
                    <select id="token-role" name="role" class=INPUT_CLASS>
                        <option value="">{if owner.is_none() { "My role" } else { "The account's role" }}</option>
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                    <FieldError error=create_error field="role" />
                </div>
                <div class="md:col-span-3">
                    <button id="token-submit" type="submit" class=PRIMARY_BUTTON>"Create token"</button>
                </div>
            </ActionForm>
        </section>
    }
}
