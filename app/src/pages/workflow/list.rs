//! The tests page: counters per state, filters, "my pending tasks" and the list.
use crate::api::campaigns::campaign_choices;
use crate::api::workflow::list_tests;
use crate::components::feedback::{INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::form::CampaignFilter;
use crate::components::layout::{Loading, PageError, signed_in};
use crate::components::links::urlencode;
use crate::components::test_state::StateBadge;
use crate::domain::workflow::{self, TestState};
use crate::dto::workflow::{TestPage, TestQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

const PAGE_SIZE: u64 = 25;

#[component]
pub fn TestsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let current = move || TestQuery {
        state: param("state"),
        technique: param("technique"),
        search: param("search"),
        platform: param("platform"),
        mine: param("mine").map(|v| v == "true"),
        campaign: param("campaign").and_then(|c| c.parse().ok()),
        offset: param("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
        ..Default::default()
    };
    let page = Resource::new(current, list_tests);
    let campaigns = Resource::new(|| (), |_| campaign_choices());
    let may_create = signed_in().is_some_and(|u| workflow::can_create(u.role));
    view! {
        <Title text="Tests" />
        <div class="mb-4 flex flex-wrap items-center justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Tests"</h1>
            {may_create.then(|| view! {
                <a id="new-test" href="/tests/new" class=PRIMARY_BUTTON>"New test"</a>
            })}
        </div>
        <Form method="GET" action="">
            <div id="test-filters" class="mb-4 flex flex-wrap items-end gap-2">
                <input type="hidden" name="state" value=move || param("state").unwrap_or_default() />
                <div>
                    <label for="test-search" class="text-xs text-slate-600">"Search"</label>
                    <input id="test-search" type="search" name="search" placeholder="Title or technique"
                        value=move || param("search").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="test-technique" class="text-xs text-slate-600">"Technique"</label>
                    <input id="test-technique" name="technique" placeholder="T1059.001"
                        value=move || param("technique").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="test-platform" class="text-xs text-slate-600">"Platform"</label>
                    <input id="test-platform" name="platform" placeholder="windows"
                        value=move || param("platform").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <CampaignFilter id="test-campaign" selected=Signal::derive(move || param("campaign")) choices=campaigns />
                <label class="mb-2 flex items-center gap-2 text-sm">
                    <input id="test-mine" type="checkbox" name="mine" value="true"
                        prop:checked=move || param("mine").as_deref() == Some("true") />
                    "My pending tasks"
                </label>
                <button type="submit" class=SECONDARY_BUTTON>"Filter"</button>
                <a href="/tests" class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <Results page query=current() /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The URL of this list with one parameter changed, back on the first page.
fn with_param(query: &TestQuery, name: &str, value: Option<String>) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut push = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            pairs.push((key.to_owned(), v));
        }
    };
    let pick = |key: &str, current: Option<String>| {
        if key == name { value.clone() } else { current }
    };
    push("state", pick("state", query.state.clone()));
    push("search", pick("search", query.search.clone()));
    push("technique", pick("technique", query.technique.clone()));
    push("platform", pick("platform", query.platform.clone()));
    push(
        "campaign",
        pick("campaign", query.campaign.map(|c| c.to_string())),
    );
    push(
        "mine",
        pick("mine", query.mine.filter(|m| *m).map(|_| "true".into())),
    );
    let encoded: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect();
    if encoded.is_empty() {
        "/tests".into()
    } else {
        format!("/tests?{}", encoded.join("&"))
    }
}

#[component]
fn Results(page: TestPage, query: TestQuery) -> impl IntoView {
    let selected = query.state.clone();
    let total_all: u64 = page.counts.values().sum();
    let offset = page.offset;
    let shown = page.items.len() as u64;
    let prev = (offset > 0).then(|| {
        let mut q = with_param(&query, "offset", None);
        let back = offset.saturating_sub(PAGE_SIZE);
        if back > 0 {
            q.push_str(if q.contains('?') { "&" } else { "?" });
            q.push_str(&format!("offset={back}"));
        }
        q
    });
    let next = (offset + shown < page.total).then(|| {
        let mut q = with_param(&query, "offset", None);
        q.push_str(if q.contains('?') { "&" } else { "?" });
        q.push_str(&format!("offset={}", offset + PAGE_SIZE));
        q
    });
    view! {
        <nav id="state-counters" class="mb-4 flex flex-wrap gap-2" aria-label="Tests per state">
            <a href=with_param(&query, "state", None)
                class="rounded-full border px-3 py-1 text-sm"
                class=("bg-slate-900", selected.is_none()) class=("text-white", selected.is_none())
                data-state="all">
                {format!("All {total_all}")}
            </a>
            {TestState::ALL.into_iter().map(|state| {
                let count = page.counts.get(state.as_str()).copied().unwrap_or(0);
                let active = selected.as_deref() == Some(state.as_str());
                view! {
                    <a href=with_param(&query, "state", Some(state.as_str().into()))
                        class="rounded-full border px-3 py-1 text-sm"
                        class=("bg-slate-900", active) class=("text-white", active)
                        data-state=state.as_str()>
                        {state.label()}" "<span class="font-semibold" data-count="">{count}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
        {if page.items.is_empty() {
            view! { <p id="no-tests" class="rounded-lg border border-slate-200 bg-white p-6 text-sm text-slate-500">"No tests match."</p> }.into_any()
        } else {
            view! {
                <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                    <table id="tests-table" class="min-w-full divide-y divide-slate-200 text-sm">
                        <thead class="bg-slate-50 text-left text-xs uppercase text-slate-500">
                            <tr>
                                <th class="px-4 py-2">"Title"</th>
                                <th class="px-4 py-2">"Technique"</th>
                                <th class="px-4 py-2">"State"</th>
                                <th class="px-4 py-2">"Severity"</th>
                                <th class="px-4 py-2">"Created by"</th>
                                <th class="px-4 py-2">"Updated"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {page.items.into_iter().map(|t| {
                                let state = t.state;
                                view! {
                                    <tr data-test-id=t.id.to_string()>
                                        <td class="px-4 py-2"><a class="font-medium text-indigo-600 hover:underline" href=format!("/tests/{}", t.id)>{t.title.clone()}</a></td>
                                        <td class="px-4 py-2">
                                            <a class="font-mono text-xs hover:underline" href=format!("/techniques/{}", t.technique_id)>{t.technique_id.clone()}</a>
                                            " "<span class="text-slate-500">{t.technique_name.clone().unwrap_or_default()}</span>
                                        </td>
                                        <td class="px-4 py-2"><StateBadge state /></td>
                                        <td class="px-4 py-2 capitalize">{t.severity.as_str()}</td>
                                        <td class="px-4 py-2">{t.created_by_name.clone().unwrap_or_default()}</td>
                                        <td class="px-4 py-2 text-slate-500">{t.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="mt-3 flex items-center justify-between text-sm text-slate-600">
                    <span id="tests-range">{format!("{}–{} of {}", offset + 1, offset + shown, page.total)}</span>
                    <span class="flex gap-2">
                        {prev.map(|href| view! { <a href=href class=SECONDARY_BUTTON>"Previous"</a> })}
                        {next.map(|href| view! { <a href=href class=SECONDARY_BUTTON>"Next"</a> })}
                    </span>
                </div>
            }.into_any()
        }}
    }
}
