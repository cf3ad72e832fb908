//! The Intel page: what the feeds published that mentions the knowledge base, filtered in the
//! URL (technique, actor, feed, status, dates, text), triaged by leads.
use crate::api::intel::{TriageIntel, intel_items};
use crate::components::feedback::{ErrorAlert, INPUT_CLASS, SECONDARY_BUTTON, action_error};
use crate::components::intel::{IntelCard, may_triage};
use crate::components::layout::{Loading, PageError};
use crate::components::links::urlencode;
use crate::components::paging::Pager;
use crate::domain::intel::IntelStatus;
use crate::dto::intel::IntelQuery;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

const PAGE_SIZE: u64 = 25;

/// The filters of the URL, as (name, value), for links that change one of them.
const FILTERS: [&str; 8] = [
    "technique",
    "actor",
    "source",
    "status",
    "since",
    "until",
    "search",
    "matched",
];

#[component]
pub fn IntelPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let current = move || IntelQuery {
        technique: param("technique"),
        actor: param("actor"),
        source: param("source"),
        status: param("status"),
        since: param("since").and_then(|d| d.parse().ok()),
        until: param("until").and_then(|d| d.parse().ok()),
        search: param("search"),
        matched: param("matched").map(|v| v == "true"),
        offset: param("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
    };
    let triage = ServerAction::<TriageIntel>::new();
    let page = Resource::new(
        move || (current(), triage.version().get()),
        |(q, _)| intel_items(q),
    );
    let error = action_error(triage.value());
    let base = move || {
        FILTERS
            .iter()
            .filter_map(|name| param(name).map(|v| format!("{name}={}", urlencode(&v))))
            .collect::<Vec<_>>()
    };
    let can_triage = may_triage();
    view! {
        <Title text="Threat intel" />
        <div class="mb-4 flex flex-wrap items-center justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Threat intel"</h1>
            <p class="text-sm text-slate-500">"Items from the subscribed feeds, matched against ATT&CK techniques, threat actors and software."</p>
        </div>
        <Form method="GET" action="">
            <div id="intel-filters" class="mb-4 grid gap-2 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-8">
                <div class="lg:col-span-2">
                    <label for="intel-search" class="text-xs text-slate-600">"Search"</label>
                    <input id="intel-search" type="search" name="search" placeholder="Title or summary" value=move || param("search").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="intel-technique" class="text-xs text-slate-600">"Technique"</label>
                    <input id="intel-technique" name="technique" placeholder="T1059" value=move || param("technique").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="intel-actor" class="text-xs text-slate-600">"Actor"</label>
                    <input id="intel-actor" name="actor" placeholder="G0016" value=move || param("actor").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="intel-status" class="text-xs text-slate-600">"Status"</label>
                    <select id="intel-status" name="status" class=INPUT_CLASS>
                        <option value="">"Any"</option>
                        {IntelStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=move || param("status").as_deref() == Some(s.as_str())>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="intel-since" class="text-xs text-slate-600">"Since"</label>
                    <input id="intel-since" type="date" name="since" value=move || param("since").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="intel-until" class="text-xs text-slate-600">"Until"</label>
                    <input id="intel-until" type="date" name="until" value=move || param("until").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div class="flex items-end gap-2">
                    <label class="mb-2 flex items-center gap-1 text-xs">
                        <input id="intel-matched" type="checkbox" name="matched" value="true" prop:checked=move || param("matched").as_deref() == Some("true") />
                        "Matched only"
                    </label>
                </div>
                <input type="hidden" name="source" value=move || param("source").unwrap_or_default() />
                <div class="flex items-end gap-2 lg:col-span-8">
                    <button id="intel-filter-submit" type="submit" class=SECONDARY_BUTTON>"Filter"</button>
                    <a href="/intel" class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
                </div>
            </div>
        </Form>
        <div class="mb-2"><ErrorAlert error /></div>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p id="intel-empty" class="rounded-lg border border-dashed border-slate-300 p-8 text-center text-slate-600">
                            "No intel matches. An administrator subscribes to feeds in the System panel; the weekly scan (or \"Scan feeds now\") fills this page."
                        </p>
                    }.into_any(),
                    Ok(page) => {
                        let shown = page.items.len() as u64;
                        view! {
                            <ul id="intel-items" class="space-y-3">
                                {page.items.into_iter().map(|item| view! { <IntelCard item triage=can_triage.then_some(triage) /> }).collect_view()}
                            </ul>
                            <Pager range_id="intel-range" path="/intel" filters=base() offset=page.offset shown total=page.total page_size=PAGE_SIZE />
                        }.into_any()
                    }
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}
