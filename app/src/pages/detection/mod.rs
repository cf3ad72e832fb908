//! Detection rules: the list with filters in the URL, and one rule with its query as code,
//! the techniques it maps to and the team's notes.
use crate::api::detection::{SaveRuleNotes, detection_rule, detection_rules};
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, NotFound, PageError, signed_in};
use crate::components::links::urlencode;
use crate::components::paging::Pager;
use crate::domain::detection::{RuleProof, RuleSource};
use crate::domain::rbac::Permission;
use crate::dto::detection::{RuleDetail, RuleQuery};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;
const FILTERS: [&str; 6] = [
    "search",
    "source",
    "technique",
    "platform",
    "level",
    "status",
];

#[component]
pub fn DetectionRulesPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let current = move || RuleQuery {
        source: param("source"),
        technique: param("technique"),
        platform: param("platform"),
        level: param("level"),
        status: param("status"),
        search: param("search"),
        include_inactive: param("include_inactive").map(|v| v == "true"),
        proof: param("proof"),
        validated: None,
        limit: Some(PAGE_SIZE),
        offset: param("offset").and_then(|o| o.parse().ok()),
    };
    let page = Resource::new(current, detection_rules);
    let base = move || {
        FILTERS
            .iter()
            .filter_map(|name| param(name).map(|v| format!("{name}={}", urlencode(&v))))
            .collect::<Vec<_>>()
    };
    view! {
        <Title text="Detection rules" />
        <div class="mb-4 flex flex-wrap items-center justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Detection rules"</h1>
            <p class="text-sm text-slate-500">"Sigma, Elastic and the team's own rules, with the ATT&CK techniques they map to."</p>
        </div>
        <Form method="GET" action="">
            <div id="rule-filters" class="mb-4 grid gap-2 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-8">
                <div class="lg:col-span-2">
                    <label for="rule-search" class="text-xs text-slate-600">"Search"</label>
                    <input id="rule-search" type="search" name="search" placeholder="Title, description or id" value=move || param("search").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="rule-source" class="text-xs text-slate-600">"Source"</label>
                    <select id="rule-source" name="source" class=INPUT_CLASS>
                        <option value="">"Any"</option>
                        {RuleSource::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=move || param("source").as_deref() == Some(s.as_str())>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="rule-technique" class="text-xs text-slate-600">"Technique"</label>
                    <input id="rule-technique" name="technique" placeholder="T1059" value=move || param("technique").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="rule-platform" class="text-xs text-slate-600">"Platform"</label>
                    <input id="rule-platform" name="platform" placeholder="windows" value=move || param("platform").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="rule-level" class="text-xs text-slate-600">"Level"</label>
                    <select id="rule-level" name="level" class=INPUT_CLASS>
                        <option value="">"Any"</option>
                        {["informational", "low", "medium", "high", "critical"].into_iter().map(|l| view! { <option value=l selected=move || param("level").as_deref() == Some(l)>{l}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="rule-proof-filter" class="text-xs text-slate-600">"Proven by tests"</label>
                    <select id="rule-proof-filter" name="proof" class=INPUT_CLASS>
                        <option value="">"Any"</option>
                        {RuleProof::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=move || param("proof").as_deref() == Some(p.as_str())>{p.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="flex items-end gap-2">
                    <button id="rule-filter-submit" type="submit" class=SECONDARY_BUTTON>"Filter"</button>
                    <a href="/detection-rules" class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
                </div>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p id="rules-empty" class="rounded-lg border border-dashed border-slate-300 p-8 text-center text-slate-600">
                            "No detection rule matches. An administrator imports Sigma or Elastic rules in the System panel."
                        </p>
                    }.into_any(),
                    Ok(page) => {
                        let shown = page.items.len() as u64;
                        let (offset, total) = (page.offset, page.total);
                        view! {
                            <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                                <table id="rules-table" class="min-w-full divide-y divide-slate-200 text-sm">
                                    <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                        <tr><th class="px-4 py-2">"Rule"</th><th class="px-4 py-2">"Source"</th><th class="px-4 py-2">"Level"</th><th class="px-4 py-2">"Techniques"</th><th class="px-4 py-2">"Platforms"</th><th class="px-4 py-2">"Proven by tests"</th></tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {page.items.into_iter().map(|r| view! {
                                            <tr data-rule=r.title.clone() data-source=r.source.as_str()>
                                                <td class="px-4 py-2"><a class="text-indigo-600 hover:underline" href=format!("/detection-rules/{}", r.id)>{r.title.clone()}</a>
                                                    {(!r.is_active).then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-600">"inactive"</span> })}</td>
                                                <td class="px-4 py-2 text-xs">{r.source.label()}</td>
                                                <td class="px-4 py-2 text-xs">{r.level.clone()}</td>
                                                <td class="px-4 py-2 font-mono text-xs">{r.techniques.join(", ")}</td>
                                                <td class="px-4 py-2 text-xs">{r.platforms.join(", ")}</td>
                                                <td class="px-4 py-2 text-xs" data-proof=r.proof.as_str()>{r.proof.label()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager range_id="rules-range" path="/detection-rules" filters=base() offset shown total page_size=PAGE_SIZE />
                        }.into_any()
                    }
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn DetectionRulePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| Uuid::parse_str(&id).ok())
    };
    let save = ServerAction::<SaveRuleNotes>::new();
    let rule = Resource::new(
        move || (id(), save.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => detection_rule(id).await,
                None => Err(AppError::NotFound("Detection rule not found".into())),
            }
        },
    );
    view! {
        <a href="/detection-rules" class="text-sm text-indigo-600 hover:underline">"← All detection rules"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match rule.await {
                    Ok(rule) => view! { <RuleView rule save /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RuleView(rule: RuleDetail, save: ServerAction<SaveRuleNotes>) -> impl IntoView {
    let s = rule.summary.clone();
    let may_edit = signed_in().is_some_and(|u| u.role.can(Permission::ManageDetectionRules));
    let error = action_error(save.value());
    view! {
        <Title text=s.title.clone() />
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="text-sm text-slate-500">{format!("{} rule", s.source.label())}{s.upstream_id.clone().map(|id| format!(" · {id}"))}</p>
                <h1 id="rule-title" class="text-2xl font-semibold">{s.title.clone()}</h1>
                <p class="text-sm text-slate-500">{format!("Level {} · status {} · {}", s.level, s.status, if s.is_active { "active" } else { "inactive" })}</p>
                <p id="rule-proof" class="text-sm" data-proof=s.proof.as_str()>{match s.proof {
                    RuleProof::Proven => "Proven: a validated test says it fired.",
                    RuleProof::Untested => "Untested: no validated test says it fired yet.",
                    RuleProof::Failed => "Failed: the latest validated test of its technique went undetected while it was active.",
                }}</p>
            </div>
            {rule.source_url.clone().filter(|url| crate::domain::validation::is_safe_link(url)).map(|url| view! {
                <a id="rule-source-url" href=url class=SECONDARY_BUTTON target="_blank" rel="noopener noreferrer">"View upstream ↗"</a>
            })}
        </div>
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="space-y-4 rounded-lg border border-slate-200 bg-white p-6 lg:col-span-2">
                <p class="text-sm text-slate-700">{rule.description.clone()}</p>
                <div>
                    <h2 class="mb-2 font-semibold">{format!("Query ({})", s.language)}</h2>
                    <pre id="rule-query" class="overflow-x-auto rounded-md bg-slate-900 p-4 text-xs text-slate-100"><code>{rule.query.clone()}</code></pre>
                </div>
                {(!rule.false_positives.is_empty()).then(|| view! {
                    <div><h2 class="mb-1 font-semibold">"False positives"</h2>
                    <ul class="list-disc pl-5 text-sm">{rule.false_positives.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul></div>
                })}
                {(!rule.references.is_empty()).then(|| view! {
                    <div><h2 class="mb-1 font-semibold">"References"</h2>
                    <ul class="list-disc pl-5 text-sm">{rule.references.iter().map(|r| {
                        let safe = crate::domain::validation::is_safe_link(r) && r.starts_with("http");
                        view! { <li class="break-all">{if safe { view! { <a class="text-indigo-600 hover:underline" href=r.clone() target="_blank" rel="noopener noreferrer nofollow">{r.clone()}</a> }.into_any() } else { view! { <span>{r.clone()}</span> }.into_any() }}</li> }
                    }).collect_view()}</ul></div>
                })}
            </section>
            <aside class="space-y-4">
                <section id="rule-techniques" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <h2 class="mb-2 font-semibold">"ATT&CK techniques"</h2>
                    <ul class="flex flex-wrap gap-1">
                        {s.techniques.iter().map(|t| {
                            let unknown = rule.unknown_techniques.contains(t);
                            view! { <li data-technique=t.clone()>{if unknown {
                                view! { <span class="rounded bg-amber-50 px-2 py-0.5 font-mono text-xs text-amber-800" title="Not in the knowledge base">{format!("{t}?")}</span> }.into_any()
                            } else {
                                view! { <a class="rounded bg-indigo-50 px-2 py-0.5 font-mono text-xs text-indigo-800 hover:bg-indigo-100" href=format!("/techniques/{t}")>{t.clone()}</a> }.into_any()
                            }}</li> }
                        }).collect_view()}
                    </ul>
                </section>
                <section class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <dl class="space-y-2">
                        <div><dt class="text-xs uppercase text-slate-500">"Log source"</dt><dd>{rule.log_source.clone()}</dd></div>
                        <div><dt class="text-xs uppercase text-slate-500">"Platforms"</dt><dd>{s.platforms.join(", ")}</dd></div>
                        <div><dt class="text-xs uppercase text-slate-500">"Author"</dt><dd>{rule.author.clone()}</dd></div>
                        {rule.path.clone().map(|p| view! { <div><dt class="text-xs uppercase text-slate-500">"Path"</dt><dd class="break-all font-mono text-xs">{p}</dd></div> })}
                        {(!rule.license.is_empty()).then(|| view! { <div><dt class="text-xs uppercase text-slate-500">"License"</dt><dd>{rule.license.clone()}</dd></div> })}
                    </dl>
                </section>
                <section id="rule-notes" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <h2 class="mb-2 font-semibold">"Team notes"</h2>
                    {if may_edit {
                        view! {
                            <ErrorAlert error />
                            <ActionForm action=save>
                                <input type="hidden" name="id" value=s.id.to_string() />
                                <textarea id="rule-notes-text" name="notes" rows="4" class=INPUT_CLASS>{rule.notes.clone()}</textarea>
                                <label class="mt-2 flex items-center gap-2">
                                    <input id="rule-active" type="checkbox" name="is_active" value="true" checked=s.is_active />
                                    "Active in our environment"
                                </label>
                                <button id="rule-save" type="submit" class=format!("{PRIMARY_BUTTON} mt-2")>"Save"</button>
                            </ActionForm>
                        }.into_any()
                    } else if rule.notes.is_empty() {
                        view! { <p class="text-slate-500">"No notes."</p> }.into_any()
                    } else {
                        view! { <p class="whitespace-pre-wrap">{rule.notes.clone()}</p> }.into_any()
                    }}
                </section>
            </aside>
        </div>
    }
}
