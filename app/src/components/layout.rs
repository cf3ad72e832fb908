//! The frame around every signed-in page: sidebar navigation, header, and page guards.
use crate::api::admin::auth::Logout;
use crate::api::notifications::{
    mark_all_notifications_read, mark_notification_read, recent_notifications, unread_notifications,
};
use crate::components::auth::use_auth;
use crate::components::feedback::set_page_status;
use crate::components::icons::{Icon, IconName};
use crate::domain::rbac::Permission;
use crate::dto::Page;
use crate::dto::admin::auth::UserProfile;
use crate::dto::notifications::NotificationDto;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_location;
use std::time::Duration;

#[component]
pub fn Shell() -> impl IntoView {
    let auth = use_auth();
    let collapsed = RwSignal::new(false);
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! { <Frame user collapsed /> }.into_any(),
                    Ok(None) => view! { <SignedOut /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The signed-in user, known synchronously everywhere below the frame.
#[derive(Clone, Debug)]
pub struct SignedIn(pub UserProfile);

pub fn signed_in() -> Option<UserProfile> {
    use_context::<SignedIn>().map(|s| s.0)
}

#[component]
fn Frame(user: UserProfile, collapsed: RwSignal<bool>) -> impl IntoView {
    provide_context(SignedIn(user.clone()));
    let is_admin = user.role.can(Permission::ManageUsers);
    let sees_audit = user.role.can(Permission::ViewAuditLog);
    let manages_system = user.role.can(Permission::ManageSystem);
    view! {
        <div class="flex min-h-screen">
            <aside
                id="sidebar"
                class="shrink-0 border-r border-slate-800 bg-slate-900 text-slate-100 transition-all"
                class=("w-64", move || !collapsed.get())
                class=("w-16", move || collapsed.get())
                data-collapsed=move || collapsed.get().to_string()
            >
                <div class="flex h-14 items-center justify-between px-4">
                    <span class="text-lg font-bold tracking-tight" class:hidden=move || collapsed.get()>
                        "Aegis"
                    </span>
                    <button
                        id="sidebar-toggle"
                        type="button"
                        class="rounded p-1 text-slate-300 hover:bg-slate-800"
                        aria-label="Toggle navigation"
                        on:click=move |_| collapsed.update(|c| *c = !*c)
                    >
                        <Icon name=IconName::Menu />
                    </button>
                </div>
                <nav class="space-y-1 px-2 py-4 text-sm" aria-label="Main">
                    <NavLink href="/" label="Dashboard" icon=IconName::Dashboard collapsed />
                    <NavLink href="/tests" label="Tests" icon=IconName::Tests collapsed />
                    <NavLink href="/campaigns" label="Campaigns" icon=IconName::Campaigns collapsed />
                    <NavLink href="/catalog" label="Test catalog" icon=IconName::Catalog collapsed />
                    <NavLink href="/matrix" label="Coverage matrix" icon=IconName::Matrix collapsed />
                    <NavLink href="/threat-actors" label="Threat actors" icon=IconName::Actors collapsed />
                    <NavLink href="/detection-rules" label="Detection rules" icon=IconName::Rules collapsed />
                    <NavLink href="/data-sources" label="Data sources" icon=IconName::DataSources collapsed />
                    <NavLink href="/scoring" label="Scoring" icon=IconName::Scoring collapsed />
                    <NavLink href="/compliance" label="Compliance" icon=IconName::Compliance collapsed />
                    <NavLink href="/intel" label="Threat intel" icon=IconName::Intel collapsed />
                    <NavLink href="/reports" label="Reports" icon=IconName::Reports collapsed />
                    <NavLink href="/profile" label="My profile" icon=IconName::Profile collapsed />
                    <Show when=move || is_admin || sees_audit || manages_system>
                        <div id="nav-admin" class="pt-4">
                            <p
                                class="px-3 pb-1 text-xs font-semibold uppercase tracking-wider text-slate-400"
                                class:hidden=move || collapsed.get()
                            >
                                "Administration"
                            </p>
                            <Show when=move || is_admin>
                                <NavLink href="/admin/users" label="Users" icon=IconName::Users collapsed />
                            </Show>
                            <Show when=move || sees_audit>
                                <NavLink href="/admin/audit" label="Audit log" icon=IconName::Audit collapsed />
                            </Show>
                            <Show when=move || manages_system>
                                <NavLink href="/admin/system" label="System" icon=IconName::System collapsed />
                            </Show>
                        </div>
                    </Show>
                </nav>
            </aside>
            <div class="flex min-w-0 flex-1 flex-col">
                <Header user />
                <main class="flex-1 p-6">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[component]
fn NavLink(
    href: &'static str,
    label: &'static str,
    icon: IconName,
    collapsed: RwSignal<bool>,
) -> impl IntoView {
    let location = use_location();
    // The dashboard lives at `/`, which every path starts with.
    let exact = href == "/";
    let active = move || {
        let path = location.pathname.get();
        if exact {
            path == href
        } else {
            path.starts_with(href)
        }
    };
    view! {
        <A href=href exact attr:class="flex items-center gap-3 rounded-md px-3 py-2 text-slate-200 hover:bg-slate-800 aria-[current=page]:bg-slate-800">
            <Icon name=icon />
            <span class:hidden=move || collapsed.get() class:font-semibold=active>{label}</span>
        </A>
    }
}

#[component]
fn Header(user: UserProfile) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    // A hard navigation drops every piece of client state that belonged to the session.
    Effect::new(move |_| {
        if let Some(Ok(next)) = logout.value().get() {
            let _ = window().location().set_href(&next);
        }
    });
    view! {
        <header class="flex h-14 items-center justify-between border-b border-slate-200 bg-white px-6">
            <div></div>
            <div class="flex items-center gap-4">
                <NotificationBell />
                <div class="text-right text-sm leading-tight">
                    <p id="current-user" class="font-medium">{user.display_name.clone()}</p>
                    <p id="current-role" class="text-xs text-slate-500">{user.role.label()}</p>
                </div>
                <ActionForm action=logout>
                    <button
                        id="logout"
                        type="submit"
                        class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
                    >
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </header>
    }
}

/// How often the bell asks for the unread count.
const BELL_POLL: Duration = Duration::from_secs(30);

/// The bell in the header: unread count (polled), and the latest notifications on click.
/// Everything here is fetched by the browser after hydration, so the server renders the same
/// empty bell the browser starts from.
#[component]
fn NotificationBell() -> impl IntoView {
    let unread = RwSignal::new(0u64);
    let open = RwSignal::new(false);
    let items = RwSignal::new(None::<Result<Page<NotificationDto>, AppError>>);
    let refresh_count = move || {
        spawn_local(async move {
            if let Ok(count) = unread_notifications().await {
                unread.set(count.unread);
            }
        })
    };
    let load_items = move || {
        spawn_local(async move {
            items.set(Some(recent_notifications().await));
        })
    };
    Effect::new(move |_| {
        refresh_count();
        if let Ok(handle) = set_interval_with_handle(refresh_count, BELL_POLL) {
            on_cleanup(move || handle.clear());
        }
    });
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        if opening {
            load_items();
        }
    };
    let mark_all = move |_| {
        spawn_local(async move {
            if mark_all_notifications_read().await.is_ok() {
                unread.set(0);
                items.set(Some(recent_notifications().await));
            }
        })
    };
    view! {
        <div class="relative">
            <button
                id="notification-bell"
                type="button"
                class="relative rounded-full p-2 text-slate-600 hover:bg-slate-100"
                aria-label=move || format!("Notifications ({} unread)", unread.get())
                aria-expanded=move || open.get().to_string()
                on:click=toggle
            >
                <Icon name=IconName::Bell />
                <span
                    id="notification-count"
                    class="absolute -right-0.5 -top-0.5 min-w-5 rounded-full bg-red-600 px-1 text-center text-xs font-semibold text-white"
                    class:hidden=move || unread.get() == 0
                >
                    {move || if unread.get() > 99 { "99+".to_owned() } else { unread.get().to_string() }}
                </span>
            </button>
            <div
                id="notification-panel"
                class="absolute right-0 z-20 mt-2 w-96 max-w-[90vw] rounded-lg border border-slate-200 bg-white shadow-lg"
                class:hidden=move || !open.get()
            >
                <div class="flex items-center justify-between border-b border-slate-100 px-4 py-2">
                    <p class="text-sm font-semibold">"Notifications"</p>
                    <button id="notifications-read-all" type="button" class="text-xs text-indigo-600 hover:underline" on:click=mark_all>
                        "Mark all as read"
                    </button>
                </div>
                <div class="max-h-96 overflow-y-auto">
                    {move || match items.get() {
                        None => view! { <p class="px-4 py-3 text-sm text-slate-500">"Loading…"</p> }.into_any(),
                        Some(Err(err)) => view! { <p class="px-4 py-3 text-sm text-red-700">{err.detail()}</p> }.into_any(),
                        Some(Ok(page)) if page.items.is_empty() => {
                            view! { <p class="px-4 py-3 text-sm text-slate-500">"Nothing new."</p> }.into_any()
                        }
                        Some(Ok(page)) => view! {
                            <ul class="divide-y divide-slate-100">
                                {page.items.into_iter().map(|note| view! {
                                    <NotificationItem note unread open />
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }}
                </div>
            </div>
        </div>
    }
}

#[component]
fn NotificationItem(
    note: NotificationDto,
    unread: RwSignal<u64>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let is_read = RwSignal::new(note.is_read);
    let id = note.id;
    // Following the link (or just clicking the entry) marks it read.
    let mark = move |_| {
        open.set(false);
        if !is_read.get_untracked() {
            is_read.set(true);
            unread.update(|n| *n = n.saturating_sub(1));
            spawn_local(async move {
                let _ = mark_notification_read(id).await;
            });
        }
    };
    let href = note.link.clone().unwrap_or_else(|| "#".into());
    view! {
        <li class="notification px-4 py-3 text-sm" class:bg-indigo-50=move || !is_read.get() data-read=move || is_read.get().to_string()>
            <A href=href on:click=mark attr:class="block">
                <p class="font-medium text-slate-900">{note.title.clone()}</p>
                <p class="mt-0.5 line-clamp-4 whitespace-pre-line text-xs text-slate-600">{note.body.clone()}</p>
                <p class="mt-1 text-xs text-slate-400">{note.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</p>
            </A>
        </li>
    }
}

/// Renders its children only for users holding `permission`; otherwise a 403 page. Decided
/// synchronously from the frame's user, so pages create their resources during the first
/// render on both server and browser, which hydration relies on.
#[component]
pub fn RequirePermission(permission: Permission, children: ChildrenFn) -> impl IntoView {
    match signed_in() {
        Some(user) if user.role.can(permission) => children().into_any(),
        Some(_) => view! { <Forbidden /> }.into_any(),
        None => view! { <SignedOut /> }.into_any(),
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="text-sm text-slate-500" aria-busy="true">"Loading…"</p> }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    set_page_status(403);
    view! {
        <Title text="Forbidden" />
        <section id="forbidden" class="mx-auto max-w-lg py-16 text-center">
            <p class="text-5xl font-bold text-slate-300">"403"</p>
            <h1 class="mt-4 text-2xl font-semibold">"You do not have access to this page"</h1>
            <p class="mt-2 text-slate-600">
                "Your role does not include this area. Ask an administrator if you need it."
            </p>
            <a href="/" class="mt-6 inline-block text-indigo-600 hover:underline">"Back to start"</a>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_page_status(404);
    view! {
        <Title text="Not found" />
        <section id="not-found" class="mx-auto max-w-lg py-16 text-center">
            <p class="text-5xl font-bold text-slate-300">"404"</p>
            <h1 class="mt-4 text-2xl font-semibold">"Page not found"</h1>
            <a href="/" class="mt-6 inline-block text-indigo-600 hover:underline">"Back to start"</a>
        </section>
    }
}

#[component]
fn SignedOut() -> impl IntoView {
    let location = use_location();
    let href = move || format!("/login?next={}", location.pathname.get());
    view! {
        <section id="signed-out" class="mx-auto max-w-lg py-16 text-center">
            <h1 class="text-2xl font-semibold">"Your session has ended"</h1>
            <a href=href class="mt-6 inline-block text-indigo-600 hover:underline">"Sign in again"</a>
        </section>
    }
}

#[component]
pub fn PageError(message: String) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            {message}
        </div>
    }
}
