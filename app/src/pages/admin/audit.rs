use crate::api::admin::audit::{audit_filter_options, list_audit};
use crate::components::feedback::{INPUT_CLASS, LABEL_CLASS, SECONDARY_BUTTON};
use crate::components::layout::{Loading, PageError, RequirePermission};
use crate::components::links::urlencode;
use crate::domain::rbac::Permission;
use crate::dto::DEFAULT_PAGE_SIZE;
use crate::dto::Page;
use crate::dto::admin::audit::{AuditEntryDto, AuditQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log" />
        <RequirePermission permission=Permission::ViewAuditLog>
            <AuditLog />
        </RequirePermission>
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        AuditQuery {
            action: text("action"),
            entity_type: text("entity_type"),
            entity_id: text("entity_id"),
            actor: text("actor"),
            date_from: text("date_from"),
            date_to: text("date_to"),
            limit: Some(DEFAULT_PAGE_SIZE),
            offset: text("offset").and_then(|v| v.parse().ok()),
        }
    });
    let entries = Resource::new(move || query.get(), list_audit);
    let options = Resource::new(|| (), |_| audit_filter_options());

    view! {
        <h1 class="mb-6 text-2xl font-semibold">"Audit log"</h1>
        <Form method="GET" action="">
            <div id="audit-filters" class="mb-6 grid gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-6">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let (actions, entity_types) = match options.await {
                            Ok(o) => (o.actions, o.entity_types),
                            Err(_) => (Vec::new(), Vec::new()),
                        };
                        let current = query.get_untracked();
                        view! {
                            <FilterSelect id="filter-action" name="action" label="Action" choices=actions selected=current.action />
                            <FilterSelect id="filter-entity-type" name="entity_type" label="Entity type" choices=entity_types selected=current.entity_type />
                        }
                    })}
                </Suspense>
                <div>
                    <label for="filter-actor" class=LABEL_CLASS>"Actor"</label>
                    <input id="filter-actor" name="actor" type="text" placeholder="username" value=move || query.get().actor.unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="filter-date-from" class=LABEL_CLASS>"From"</label>
                    <input id="filter-date-from" name="date_from" type="date" value=move || query.get().date_from.unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="filter-date-to" class=LABEL_CLASS>"To"</label>
                    <input id="filter-date-to" name="date_to" type="date" value=move || query.get().date_to.unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div class="flex items-end gap-2">
                    <button id="audit-filter-submit" type="submit" class=SECONDARY_BUTTON>"Filter"</button>
                    <a href="/admin/audit" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
                </div>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) => view! { <AuditTable page query=query.get_untracked() /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FilterSelect(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    choices: Vec<String>,
    selected: Option<String>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class=LABEL_CLASS>{label}</label>
            <select id=id name=name class=INPUT_CLASS>
                <option value="">"Any"</option>
                {choices
                    .into_iter()
                    .map(|choice| {
                        let is_selected = selected.as_deref() == Some(choice.as_str());
                        view! { <option value=choice.clone() selected=is_selected>{choice.clone()}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
fn AuditTable(page: Page<AuditEntryDto>, query: AuditQuery) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <p id="audit-empty" class="rounded-lg border border-dashed border-slate-300 p-8 text-center text-slate-500">"No audit entries match these filters."</p> }.into_any();
    }
    let first = page.offset + 1;
    let last = page.offset + page.items.len() as u64;
    let prev = (page.offset > 0).then(|| page_href(&query, page.offset.saturating_sub(page.limit)));
    let next = (last < page.total).then(|| page_href(&query, last));
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table id="audit-table" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th class="px-4 py-3">"When (UTC)"</th>
                        <th class="px-4 py-3">"Actor"</th>
                        <th class="px-4 py-3">"Action"</th>
                        <th class="px-4 py-3">"Entity"</th>
                        <th class="px-4 py-3">"Details"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 align-top">
                    {page.items.into_iter().map(|entry| view! { <AuditRow entry /> }).collect_view()}
                </tbody>
            </table>
            <div class="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-xs text-slate-500">
                <span id="audit-range">{format!("{first}–{last} of {}", page.total)}</span>
                <span class="flex gap-4">
                    {prev.map(|href| view! { <a id="audit-prev" href=href class="text-indigo-600 hover:underline">"← Newer"</a> })}
                    {next.map(|href| view! { <a id="audit-next" href=href class="text-indigo-600 hover:underline">"Older →"</a> })}
                </span>
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntryDto) -> impl IntoView {
    let pretty = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
    };
    let before = pretty(&entry.before);
    let after = pretty(&entry.after);
    let has_details = before.is_some() || after.is_some();
    view! {
        <tr data-action=entry.action.clone()>
            <td class="whitespace-nowrap px-4 py-3 text-slate-600">{entry.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td class="px-4 py-3">{entry.actor_username.clone().unwrap_or_else(|| "anonymous".into())}</td>
            <td class="px-4 py-3 font-mono text-xs">{entry.action.clone()}</td>
            <td class="px-4 py-3">
                <span class="font-mono text-xs">{entry.entity_type.clone()}</span>
                <span class="block truncate text-xs text-slate-500">{entry.entity_id.clone().unwrap_or_default()}</span>
            </td>
            <td class="px-4 py-3">
                {has_details.then(|| view! {
                    <details>
                        <summary class="cursor-pointer text-indigo-600">"Changes"</summary>
                        <div class="mt-2 grid gap-2 md:grid-cols-2">
                            {before.map(|b| view! { <div><p class="text-xs font-semibold text-slate-500">"Before"</p><pre class="overflow-x-auto rounded bg-slate-50 p-2 text-xs">{b}</pre></div> })}
                            {after.map(|a| view! { <div><p class="text-xs font-semibold text-slate-500">"After"</p><pre class="overflow-x-auto rounded bg-slate-50 p-2 text-xs">{a}</pre></div> })}
                        </div>
                    </details>
                })}
                <span class="block text-xs text-slate-400">{entry.client_ip.clone().unwrap_or_default()}</span>
            </td>
        </tr>
    }
}

fn page_href(query: &AuditQuery, offset: u64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let fields = [
        ("action", &query.action),
        ("entity_type", &query.entity_type),
        ("entity_id", &query.entity_id),
        ("actor", &query.actor),
        ("date_from", &query.date_from),
        ("date_to", &query.date_to),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            pairs.push((key, v.clone()));
        }
    }
    pairs.push(("offset", offset.to_string()));
    let encoded: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect();
    format!("/admin/audit?{}", encoded.join("&"))
}
