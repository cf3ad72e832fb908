//! The coverage matrix: tactics as columns in ATT&CK order, techniques as cells coloured by
//! coverage, sub-techniques expandable in place (native `<details>`, so it works before
//! hydration), filters in the URL so every view can be bookmarked and shared.
use crate::api::knowledge::{MatrixData, matrix};
use crate::components::coverage::{Legend, status_classes};
use crate::components::feedback::{INPUT_CLASS, LABEL_CLASS, SECONDARY_BUTTON};
use crate::components::layout::{Loading, PageError};
use crate::domain::coverage::CoverageStatus;
use crate::domain::heat::{self, HeatMode};
use crate::dto::knowledge::{TechniqueQuery, TechniqueSummary};
use crate::dto::scoring::HeatCell;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use std::collections::HashMap;

#[component]
pub fn MatrixPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        TechniqueQuery {
            platform: text("platform"),
            status: text("status"),
            actor: text("actor"),
            search: text("search"),
            review_required: text("review_required").map(|v| v == "true"),
            technique_set: text("technique_set"),
            intel_days: text("intel_days").and_then(|d| d.parse().ok()),
            rules: text("rules"),
            ..Default::default()
        }
    });
    let mode = Memo::new(move |_| {
        query_map
            .read()
            .get("mode")
            .and_then(|m| m.parse::<HeatMode>().ok())
            .unwrap_or_default()
    });
    let data = Resource::new(move || query.get(), matrix);
    view! {
        <Title text="Coverage matrix" />
        <div class="mb-4 flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Coverage matrix"</h1>
            <div class="flex flex-wrap items-center gap-4">
                {move || match mode.get() {
                    HeatMode::Status => view! { <Legend /> }.into_any(),
                    other => view! { <HeatLegend mode=other /> }.into_any(),
                }}
                <a id="matrix-layer" class="text-sm text-indigo-600 hover:underline" download
                    href=move || format!("/api/v1/reports/navigator-layer?mode={}", mode.get().as_str())
                    title="This view as an ATT&CK Navigator layer">"Navigator layer"</a>
            </div>
        </div>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Filters data=data.clone() query=query.get_untracked() mode=mode.get_untracked() /> <Matrix data mode=mode.get_untracked() /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The gradient of a heatmap mode, low to high.
#[component]
fn HeatLegend(mode: HeatMode) -> impl IntoView {
    let stops = heat::gradient_stops(mode).join(", ");
    view! {
        <div id="heat-legend" class="flex items-center gap-2 text-xs text-slate-600" data-mode=mode.as_str()>
            <span>{mode.label()}</span>
            <span>"0"</span>
            <span class="inline-block h-3 w-40 rounded border border-slate-200" style=format!("background: linear-gradient(to right, {stops})")></span>
            <span>"100"</span>
        </div>
    }
}

#[component]
fn Filters(data: MatrixData, query: TechniqueQuery, mode: HeatMode) -> impl IntoView {
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    view! {
        <Form method="GET" action="">
            <div id="matrix-filters" class="mb-4 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-10">
                <div>
                    <label for="filter-platform" class=LABEL_CLASS>"Platform"</label>
                    <select id="filter-platform" name="platform" class=INPUT_CLASS>
                        <option value="">"All platforms"</option>
                        {data.platforms.iter().map(|p| view! { <option value=p.clone() selected=selected(&query.platform, p)>{p.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-status" class=LABEL_CLASS>"Coverage"</label>
                    <select id="filter-status" name="status" class=INPUT_CLASS>
                        <option value="">"Any status"</option>
                        {CoverageStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=selected(&query.status, s.as_str())>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-actor" class=LABEL_CLASS>"Threat actor"</label>
                    <select id="filter-actor" name="actor" class=INPUT_CLASS>
                        <option value="">"Any actor"</option>
                        {data.actors.iter().map(|a| view! { <option value=a.mitre_id.clone() selected=selected(&query.actor, &a.mitre_id)>{format!("{} ({})", a.name, a.mitre_id)}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-set" class=LABEL_CLASS>"Technique set"</label>
                    <select id="filter-set" name="technique_set" class=INPUT_CLASS>
                        <option value="">"All techniques"</option>
                        {data.technique_sets.iter().map(|s| view! { <option value=s.id.to_string() selected=selected(&query.technique_set, &s.id.to_string())>{s.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-intel" class=LABEL_CLASS>"Mentioned in intel"</label>
                    <select id="filter-intel" name="intel_days" class=INPUT_CLASS>
                        <option value="">"Any time or never"</option>
                        {[7u32, 30, 90, 365].into_iter().map(|d| view! { <option value=d.to_string() selected=query.intel_days == Some(d)>{format!("In the last {d} days")}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-rules" class=LABEL_CLASS>"Detection rules"</label>
                    <select id="filter-rules" name="rules" class=INPUT_CLASS>
                        <option value="">"With or without"</option>
                        <option value="any" selected=selected(&query.rules, "any")>"With an active rule"</option>
                        <option value="proven" selected=selected(&query.rules, "proven")>"With a rule proven by a test"</option>
                        <option value="none" selected=selected(&query.rules, "none")>"Without any rule"</option>
                    </select>
                </div>
                <div>
                    <label for="filter-mode" class=LABEL_CLASS>"Colour by"</label>
                    <select id="filter-mode" name="mode" class=INPUT_CLASS>
                        {HeatMode::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=m == mode>{m.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-search" class=LABEL_CLASS>"Search"</label>
                    <input id="filter-search" name="search" type="search" placeholder="T1059 or name" value=query.search.clone().unwrap_or_default() class=INPUT_CLASS />
                </div>
                <label class="flex items-end gap-2 pb-2 text-sm text-slate-700">
                    <input id="filter-review" name="review_required" type="checkbox" value="true" checked=query.review_required == Some(true) class="h-4 w-4 rounded border-slate-300" />
                    "Needs review only"
                </label>
                <div class="flex items-end gap-2">
                    <button id="matrix-filter-submit" type="submit" class=SECONDARY_BUTTON>"Apply"</button>
                    <a href="/matrix" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
                </div>
            </div>
        </Form>
    }
}

#[component]
fn Matrix(data: MatrixData, mode: HeatMode) -> impl IntoView {
    if data.tactics.is_empty() {
        return view! {
            <div id="matrix-empty" class="rounded-lg border border-dashed border-slate-300 p-10 text-center text-slate-600">
                <p class="font-medium">"The ATT&CK knowledge base is empty."</p>
                <p class="mt-1 text-sm">"An administrator can import the ATT&CK Enterprise bundle from the System panel."</p>
            </div>
        }
        .into_any();
    }
    let by_id: HashMap<String, TechniqueSummary> = data
        .techniques
        .iter()
        .map(|t| (t.mitre_id.clone(), t.clone()))
        .collect();
    let columns = data.tactics.len();
    let total = data.techniques.len();
    let heat = std::sync::Arc::new(data.heat.clone());
    view! {
        <p id="matrix-count" class="mb-2 text-xs text-slate-500">{format!("{total} techniques and sub-techniques shown")}</p>
        <div class="overflow-x-auto pb-4">
            <div id="matrix" class="grid gap-2" style=format!("grid-template-columns: repeat({columns}, minmax(10rem, 1fr)); min-width: {}rem", columns * 10)>
                {data
                    .tactics
                    .iter()
                    .map(|tactic| {
                        // A parent shows when it or one of its sub-techniques matches the filters.
                        let mut parents: Vec<&TechniqueSummary> = data
                            .techniques
                            .iter()
                            .filter(|t| t.tactics.contains(&tactic.shortname))
                            .filter_map(|t| match &t.parent_mitre_id {
                                Some(parent) => by_id.get(parent).or(Some(t)),
                                None => Some(t),
                            })
                            .collect();
                        parents.sort_by(|a, b| a.name.cmp(&b.name));
                        parents.dedup_by(|a, b| a.mitre_id == b.mitre_id);
                        let count = data.techniques.iter().filter(|t| t.tactics.contains(&tactic.shortname)).count();
                        let cells = parents
                            .into_iter()
                            .map(|parent| {
                                let subs: Vec<TechniqueSummary> = parent
                                    .subtechniques
                                    .iter()
                                    .filter_map(|id| by_id.get(id))
                                    .filter(|s| s.tactics.contains(&tactic.shortname))
                                    .cloned()
                                    .collect();
                                view! { <Cell technique=parent.clone() subs mode heat=heat.clone() /> }
                            })
                            .collect_view();
                        view! {
                            <section class="flex flex-col gap-1" data-tactic=tactic.shortname.clone()>
                                <header class="sticky top-0 rounded-md bg-slate-800 px-2 py-2 text-white">
                                    <h2 class="text-sm font-semibold leading-tight" title=tactic.mitre_id.clone()>{tactic.name.clone()}</h2>
                                    <span class="tactic-count text-xs text-slate-300">{format!("{count} techniques")}</span>
                                </header>
                                {cells}
                            </section>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
    .into_any()
}

fn tests_label(count: u64) -> String {
    format!("{count} test{}", if count == 1 { "" } else { "s" })
}

/// How a cell looks in a mode: its status classes, or an inline gradient colour with the
/// value; the tooltip explains the status or the score's factors.
struct Look {
    classes: String,
    style: String,
    title: String,
    value: Option<String>,
}

fn look(t: &TechniqueSummary, mode: HeatMode, heat: &HashMap<String, HeatCell>) -> Look {
    let cell = heat.get(&t.mitre_id);
    match (mode, cell.and_then(|c| c.value(mode).map(|v| (c, v)))) {
        (HeatMode::Status, _) => Look {
            classes: status_classes(t.coverage_status).to_owned(),
            style: String::new(),
            title: match cell {
                Some(c) => format!(
                    "{} · score {} · {}",
                    t.coverage_status.label(),
                    c.score,
                    c.explain
                ),
                None => t.coverage_status.label().to_owned(),
            },
            value: None,
        },
        (_, Some((c, v))) => Look {
            classes: "border-slate-300 text-slate-900".into(),
            style: format!("background-color: {}", heat::gradient(mode, v)),
            title: format!(
                "{} {v} · score {} · priority {} · gap {}{} · {}",
                mode.label(),
                c.score,
                c.priority,
                c.gap,
                c.visibility
                    .map(|v| format!(" · visibility {v}%"))
                    .unwrap_or_default(),
                c.explain
            ),
            value: Some(format!("{v:.0}")),
        },
        (_, None) => Look {
            classes: "border-dashed border-slate-300 bg-slate-50 text-slate-500".into(),
            style: String::new(),
            title: format!("No {} for this technique", mode.label().to_lowercase()),
            value: None,
        },
    }
}

#[component]
fn Cell(
    technique: TechniqueSummary,
    subs: Vec<TechniqueSummary>,
    mode: HeatMode,
    heat: std::sync::Arc<HashMap<String, HeatCell>>,
) -> impl IntoView {
    let href = format!("/techniques/{}", technique.mitre_id);
    let shown = look(&technique, mode, &heat);
    let classes = format!(
        "technique-cell block rounded border px-2 py-1 text-xs leading-snug hover:ring-2 hover:ring-indigo-400 {}{}",
        shown.classes,
        if technique.review_required {
            " outline-2 outline-dashed outline-rose-500"
        } else {
            ""
        }
    );
    let link = view! {
        <a href=href class=classes style=shown.style data-technique=technique.mitre_id.clone() data-status=technique.coverage_status.as_str() data-value=shown.value.clone() title=shown.title>
            {shown.value.clone().map(|v| view! { <span class="heat-value float-right font-mono text-[10px] font-semibold">{v}</span> })}
            <span class="font-mono text-[10px] opacity-70">{technique.mitre_id.clone()}</span>
            <span class="block">{technique.name.clone()}</span>
            {(technique.test_count > 0).then(|| view! {
                <span class="test-count block text-[10px] opacity-80">{tests_label(technique.test_count)}</span>
            })}
        </a>
    };
    if subs.is_empty() {
        return link.into_any();
    }
    let count = subs.len();
    view! {
        <details class="subtechniques group">
            <summary class="flex cursor-pointer list-none items-stretch gap-1">
                <div class="flex-1">{link}</div>
                <span class="flex w-6 items-center justify-center rounded border border-slate-200 bg-slate-100 text-[10px] text-slate-600 group-open:bg-slate-200" aria-label=format!("{count} sub-techniques")>
                    {count}
                </span>
            </summary>
            <div class="ml-3 mt-1 flex flex-col gap-1 border-l-2 border-slate-200 pl-2">
                {subs
                    .into_iter()
                    .map(|sub| {
                        let shown = look(&sub, mode, &heat);
                        let classes = format!(
                            "technique-cell block rounded border px-2 py-1 text-[11px] leading-snug hover:ring-2 hover:ring-indigo-400 {}{}",
                            shown.classes,
                            if sub.review_required { " outline-2 outline-dashed outline-rose-500" } else { "" }
                        );
                        view! {
                            <a href=format!("/techniques/{}", sub.mitre_id) class=classes style=shown.style data-technique=sub.mitre_id.clone() data-status=sub.coverage_status.as_str() data-value=shown.value.clone() title=shown.title>
                                {shown.value.clone().map(|v| view! { <span class="heat-value float-right font-mono text-[10px] font-semibold">{v}</span> })}
                                <span class="font-mono text-[10px] opacity-70">{sub.mitre_id.clone()}</span>
                                <span class="block">{sub.name.clone()}</span>
                                {(sub.test_count > 0).then(|| view! {
                                    <span class="test-count block text-[10px] opacity-80">{tests_label(sub.test_count)}</span>
                                })}
                            </a>
                        }
                    })
                    .collect_view()}
            </div>
        </details>
    }
    .into_any()
}
