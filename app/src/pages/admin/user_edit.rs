use crate::api::admin::users::{UpdateUser, get_user};
use crate::components::api_tokens::ApiTokens;
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SuccessAlert, action_error,
};
use crate::components::form::TextField;
use crate::components::layout::{Loading, NotFound, PageError, RequirePermission};
use crate::domain::rbac::{Permission, Role};
use crate::dto::admin::users::{SignInMethod, UserDto};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn UserEditPage() -> impl IntoView {
    view! {
        <Title text="Edit user" />
        <RequirePermission permission=Permission::ManageUsers>
            <UserEditor />
        </RequirePermission>
    }
}

#[component]
fn UserEditor() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|raw| Uuid::parse_str(&raw).ok())
    };
    let update = ServerAction::<UpdateUser>::new();
    let user = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(AppError::NotFound("User not found".into())),
            }
        },
    );
    view! {
        <a href="/admin/users" class="text-sm text-indigo-600 hover:underline">"← All users"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(user) => view! { <EditForm user update /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EditForm(user: UserDto, update: ServerAction<UpdateUser>) -> impl IntoView {
    let error = action_error(update.value());
    let saved = Signal::derive(move || {
        matches!(update.value().get(), Some(Ok(_))).then(|| "Changes saved.".to_owned())
    });
    let status = if user.is_active { "active" } else { "inactive" };
    view! {
        <h1 class="mb-1 mt-2 text-2xl font-semibold">{user.display_name.clone()}</h1>
        <p class="font-mono text-sm text-slate-500" id="edit-username">{user.username.clone()}</p>
        <p class="mb-6 text-sm text-slate-500" id="edit-sign-in">{user.sign_in.label()}</p>
        <section class="max-w-xl rounded-lg border border-slate-200 bg-white p-6">
            <SuccessAlert message=saved />
            <ErrorAlert error />
            <ActionForm action=update>
                <input type="hidden" name="id" value=user.id.to_string() />
                <div id="edit-user-form" class="space-y-4">
                    <TextField id="edit-display-name" name="display_name" label="Display name" error value=user.display_name.clone() />
                    <TextField id="edit-email" name="email" label="Email" error input_type="email" value=user.email.clone().unwrap_or_default() />
                    <div>
                        <label for="edit-role" class=LABEL_CLASS>"Role"</label>
                        <select id="edit-role" name="role" class=INPUT_CLASS>
                            {Role::ALL
                                .into_iter()
                                .map(|role| view! { <option value=role.as_str() selected=role == user.role>{role.label()}</option> })
                                .collect_view()}
                        </select>
                        <FieldError error field="role" />
                    </div>
                    <div>
                        <label for="edit-status" class=LABEL_CLASS>"Status"</label>
                        <select id="edit-status" name="status" class=INPUT_CLASS>
                            <option value="active" selected=status == "active">"Active"</option>
                            <option value="inactive" selected=status == "inactive">"Inactive (cannot sign in)"</option>
                        </select>
                        <FieldError error field="status" />
                    </div>
                    <div>
                        <label for="edit-password" class=LABEL_CLASS>"Reset password"</label>
                        <input id="edit-password" name="password" type="password" autocomplete="new-password" placeholder="Leave empty to keep the current password" class=INPUT_CLASS />
                        <FieldError error field="password" />
                    </div>
                    <button id="edit-user-submit" type="submit" class=PRIMARY_BUTTON disabled=move || update.pending().get()>
                        "Save changes"
                    </button>
                </div>
            </ActionForm>
        </section>
        {(user.sign_in == SignInMethod::ServiceAccount).then(|| view! { <ApiTokens owner=Some(user.id) /> })}
    }
}
