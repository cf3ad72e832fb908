use crate::api::admin::users::{CreateUser, list_users};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
    SuccessAlert, action_error,
};
use crate::components::form::TextField;
use crate::components::layout::{Loading, PageError, RequirePermission};
use crate::domain::rbac::{Permission, Role};
use crate::dto::admin::users::{SignInMethod, UserDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <RequirePermission permission=Permission::ManageUsers>
            <UsersAdmin />
        </RequirePermission>
    }
}

#[component]
fn UsersAdmin() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("search").filter(|s| !s.is_empty());
    let create = ServerAction::<CreateUser>::new();
    let users = Resource::new(
        move || (search(), create.version().get()),
        |(search, _)| list_users(search),
    );
    let error = action_error(create.value());
    let created = Signal::derive(move || match create.value().get() {
        Some(Ok(user)) => Some(format!("User {} created.", user.username)),
        _ => None,
    });
    view! {
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Users"</h1>
            <Form method="GET" action="">
                <div class="flex items-end gap-2">
                    <div>
                        <label for="user-search" class="sr-only">"Search users"</label>
                        <input
                            id="user-search"
                            type="search"
                            name="search"
                            placeholder="Search name, username, email"
                            value=move || search().unwrap_or_default()
                            class=INPUT_CLASS
                        />
                    </div>
                    <button type="submit" class=SECONDARY_BUTTON>"Search"</button>
                </div>
            </Form>
        </div>
        <div class="grid gap-6 xl:grid-cols-3">
            <div class="xl:col-span-2">
                <Transition fallback=|| view! { <Loading /> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(page) => view! { <UserTable users=page.items total=page.total /> }.into_any(),
                            Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <section class="rounded-lg border border-slate-200 bg-white p-6" aria-labelledby="create-user-title">
                <h2 id="create-user-title" class="mb-4 text-lg font-semibold">"Create user"</h2>
                <SuccessAlert message=created />
                <ErrorAlert error />
                <ActionForm action=create>
                    <div id="create-user-form" class="space-y-4">
                        <TextField id="new-username" name="username" label="Username" error autocomplete="off" />
                        <TextField id="new-display-name" name="display_name" label="Display name" error autocomplete="off" />
                        <TextField id="new-email" name="email" label="Email (optional)" error input_type="email" autocomplete="off" />
                        <div>
                            <label for="new-role" class=LABEL_CLASS>"Role"</label>
                            <select id="new-role" name="role" class=INPUT_CLASS>
                                {Role::ALL
                                    .into_iter()
                                    .map(|role| view! { <option value=role.as_str() selected=role == Role::Viewer>{role.label()}</option> })
                                    .collect_view()}
                            </select>
                            <FieldError error field="role" />
                        </div>
                        <TextField id="new-password" name="password" label="Initial password" error input_type="password" autocomplete="new-password" />
                        <label class="flex items-start gap-2 text-sm">
                            <input id="new-service-account" type="checkbox" name="service_account" class="mt-1" />
                            <span>"Service account: no password, signs in only with API tokens an admin creates (on its page)"</span>
                        </label>
                        <button id="create-user-submit" type="submit" class=PRIMARY_BUTTON disabled=move || create.pending().get()>
                            "Create user"
                        </button>
                    </div>
                </ActionForm>
            </section>
        </div>
    }
}

#[component]
fn UserTable(users: Vec<UserDto>, total: u64) -> impl IntoView {
    if users.is_empty() {
        return view! { <p class="rounded-lg border border-dashed border-slate-300 p-8 text-center text-slate-500">"No users match."</p> }.into_any();
    }
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table id="users-table" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th class="px-4 py-3">"Username"</th>
                        <th class="px-4 py-3">"Name"</th>
                        <th class="px-4 py-3">"Role"</th>
                        <th class="px-4 py-3">"Status"</th>
                        <th class="px-4 py-3">"Last sign-in"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {users
                        .into_iter()
                        .map(|user| {
                            let href = format!("/admin/users/{}", user.id);
                            view! {
                                <tr data-username=user.username.clone()>
                                    <td class="px-4 py-3 font-mono">
                                        <a href=href class="text-indigo-600 hover:underline">{user.username.clone()}</a>
                                    </td>
                                    <td class="px-4 py-3">{user.display_name.clone()}</td>
                                    <td class="px-4 py-3">
                                        {user.role.label()}
                                        {(user.sign_in != SignInMethod::Password).then(|| view! {
                                            <span class="sign-in ml-2 rounded-full bg-indigo-50 px-2 py-0.5 text-xs text-indigo-700">
                                                {if user.sign_in == SignInMethod::ServiceAccount { "Service account" } else { "SSO" }}
                                            </span>
                                        })}
                                    </td>
                                    <td class="px-4 py-3">
                                        {if user.is_active {
                                            view! { <span class="rounded-full bg-emerald-100 px-2 py-0.5 text-xs text-emerald-800">"Active"</span> }
                                        } else {
                                            view! { <span class="rounded-full bg-slate-200 px-2 py-0.5 text-xs text-slate-700">"Inactive"</span> }
                                        }}
                                    </td>
                                    <td class="px-4 py-3 text-slate-500">
                                        {user.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "Never".into())}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <p class="border-t border-slate-100 px-4 py-2 text-xs text-slate-500">{format!("{total} user(s)")}</p>
        </div>
    }
    .into_any()
}
