use crate::api::knowledge::{MarkReviewed, technique};
use crate::components::coverage::StatusBadge;
use crate::components::feedback::{ErrorAlert, PRIMARY_BUTTON, action_error};
use crate::components::intel::{IntelResource, IntelSection, intel_resource};
use crate::components::layout::{Loading, NotFound, PageError, signed_in};
use crate::components::markdown::Markdown;
use crate::domain::d3fend::D3fendTactic;
use crate::domain::intel::MentionKind;
use crate::domain::rbac::Permission;
use crate::dto::d3fend::Countermeasure;
use crate::dto::knowledge::TechniqueDetail;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TechniquePage() -> impl IntoView {
    let params = use_params_map();
    let mitre_id = move || params.read().get("id").unwrap_or_default();
    let review = ServerAction::<MarkReviewed>::new();
    let detail = Resource::new(
        move || (mitre_id(), review.version().get()),
        |(id, _)| technique(id),
    );
    // Created here, not inside the suspended detail, so it hydrates like the detail does.
    let tests = Resource::new(
        move || crate::dto::workflow::TestQuery {
            technique: Some(mitre_id()),
            limit: Some(100),
            ..Default::default()
        },
        crate::api::workflow::list_tests,
    );
    let templates = Resource::new(
        move || crate::dto::catalog::TemplateQuery {
            mitre_technique_id: Some(mitre_id()),
            limit: Some(100),
            ..Default::default()
        },
        crate::api::catalog::list_templates,
    );
    let intel = intel_resource(MentionKind::Technique, move || mitre_id().to_uppercase());
    let rules = Resource::new(mitre_id, crate::api::detection::technique_rules);
    let can_review = signed_in().is_some_and(|u| u.role.can(Permission::ReviewTechniques));
    view! {
        <a href="/matrix" class="text-sm text-indigo-600 hover:underline">"← Coverage matrix"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Detail detail can_review review tests templates intel rules /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(
    detail: TechniqueDetail,
    can_review: bool,
    review: ServerAction<MarkReviewed>,
    tests: TestsResource,
    templates: TemplatesResource,
    intel: IntelResource,
    rules: RulesResource,
) -> impl IntoView {
    let s = detail.summary.clone();
    let error = action_error(review.value());
    view! {
        <Title text=format!("{} {}", s.mitre_id, s.name) />
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="font-mono text-sm text-slate-500">{s.mitre_id.clone()}</p>
                <h1 id="technique-name" class="text-2xl font-semibold">{s.name.clone()}</h1>
                {s.parent_mitre_id.clone().map(|p| view! {
                    <p class="text-sm">"Sub-technique of "<a class="text-indigo-600 hover:underline" href=format!("/techniques/{p}")>{p.clone()}</a></p>
                })}
            </div>
            <div id="technique-status"><StatusBadge status=s.coverage_status /></div>
        </div>
        {(s.deprecated || s.revoked).then(|| view! {
            <p class="mt-4 rounded-md border border-slate-300 bg-slate-100 px-4 py-2 text-sm">
                {if s.revoked { "MITRE has revoked this technique." } else { "MITRE has deprecated this technique." }}
            </p>
        })}
        {s.review_required.then(|| view! {
            <div id="review-banner" class="mt-4 flex flex-wrap items-center justify-between gap-3 rounded-md border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-900">
                <span>"The last ATT&CK sync changed this technique. A lead should check that its tests still fit."</span>
                {can_review.then(|| view! {
                    <ActionForm action=review>
                        <input type="hidden" name="mitre_id" value=s.mitre_id.clone() />
                        <button id="mark-reviewed" type="submit" class=PRIMARY_BUTTON>"Mark reviewed"</button>
                    </ActionForm>
                })}
            </div>
        })}
        <div class="mt-2"><ErrorAlert error /></div>
        {(!s.review_required && detail.reviewed_at.is_some()).then(|| view! {
            <p id="reviewed-note" class="mt-2 text-xs text-slate-500">
                {format!("Reviewed {}", detail.reviewed_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default())}
            </p>
        })}
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="rounded-lg border border-slate-200 bg-white p-6 lg:col-span-2">
                <h2 class="mb-3 text-lg font-semibold">"Description"</h2>
                <Markdown source=detail.description.clone() />
                {(!detail.detection.is_empty()).then(|| view! {
                    <h2 class="mb-2 mt-6 text-lg font-semibold">"Detection"</h2>
                    <Markdown source=detail.detection.clone() />
                })}
            </section>
            <aside class="space-y-4">
                <section class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <dl class="space-y-2">
                        <div><dt class="text-xs uppercase text-slate-500">"Tactics"</dt><dd>{s.tactics.join(", ")}</dd></div>
                        <div><dt class="text-xs uppercase text-slate-500">"Platforms"</dt><dd id="technique-platforms">{s.platforms.join(", ")}</dd></div>
                        {(!detail.data_sources.is_empty()).then(|| view! {
                            <div><dt class="text-xs uppercase text-slate-500">"Data sources"</dt><dd>{detail.data_sources.join(", ")}</dd></div>
                        })}
                        <div><dt class="text-xs uppercase text-slate-500">"Version"</dt><dd>{detail.version.clone().unwrap_or_else(|| "—".into())}</dd></div>
                    </dl>
                    {detail.url.clone().filter(|url| crate::domain::validation::is_safe_link(url)).map(|url| view! {
                        <a href=url class="mt-3 inline-block text-indigo-600 hover:underline" target="_blank" rel="noopener noreferrer">"View on attack.mitre.org ↗"</a>
                    })}
                </section>
                {(!detail.subtechnique_details.is_empty()).then(|| view! {
                    <section id="subtechniques" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                        <h2 class="mb-2 font-semibold">"Sub-techniques"</h2>
                        <ul class="space-y-1">
                            {detail.subtechnique_details.iter().map(|sub| view! {
                                <li class="flex items-center justify-between gap-2">
                                    <a class="text-indigo-600 hover:underline" href=format!("/techniques/{}", sub.mitre_id)>{format!("{} {}", sub.mitre_id, sub.name)}</a>
                                    <StatusBadge status=sub.coverage_status />
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })}
                <TechniqueTests mitre_id=detail.summary.mitre_id.clone() tests />
                <TechniqueRules mitre_id=detail.summary.mitre_id.clone() rules />
                <IntelSection kind=MentionKind::Technique mitre_id=detail.summary.mitre_id.clone() items=intel />
                <TechniqueTemplates templates />
                <section id="technique-mitigations" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <h2 class="mb-2 font-semibold">{format!("ATT&CK mitigations ({})", detail.mitigations.len())}</h2>
                    {if detail.mitigations.is_empty() {
                        view! { <p class="text-slate-500">"ATT&CK names no mitigation for it."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="space-y-2">
                                {detail.mitigations.iter().map(|m| view! {
                                    <li data-mitigation=m.mitre_id.clone()>
                                        <details>
                                            <summary class="cursor-pointer"><span class="font-mono text-xs text-slate-500">{m.mitre_id.clone()}</span>" "{m.name.clone()}</summary>
                                            <div class="mt-1 text-xs text-slate-700"><Markdown source=m.description.clone() /></div>
                                            {m.url.clone().filter(|url| crate::domain::validation::is_safe_link(url)).map(|url| view! {
                                                <a href=url class="text-xs text-indigo-600 hover:underline" target="_blank" rel="noopener noreferrer">"On attack.mitre.org ↗"</a>
                                            })}
                                        </details>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
                <TechniqueCountermeasures mitre_id=detail.summary.mitre_id.clone() countermeasures=detail.countermeasures.clone() />
                <section id="technique-actors" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                    <h2 class="mb-2 font-semibold">{format!("Threat actors using it ({})", detail.actors.len())}</h2>
                    {if detail.actors.is_empty() {
                        view! { <p class="text-slate-500">"No known group uses it."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="flex flex-wrap gap-1">
                                {detail.actors.iter().map(|a| view! {
                                    <li><a class="inline-block rounded bg-slate-100 px-2 py-0.5 hover:bg-slate-200" href=format!("/threat-actors/{}", a.mitre_id)>{a.name.clone()}</a></li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
            </aside>
        </div>
    }
}

/// D3FEND's countermeasures, by D3FEND tactic, each with the artifact that links it.
#[component]
fn TechniqueCountermeasures(
    mitre_id: String,
    countermeasures: Vec<Countermeasure>,
) -> impl IntoView {
    let inherited = countermeasures
        .first()
        .map(|c| c.attack_id.clone())
        .filter(|id| *id != mitre_id);
    let groups: Vec<(D3fendTactic, Vec<Countermeasure>)> = D3fendTactic::ALL
        .into_iter()
        .map(|tactic| {
            (
                tactic,
                countermeasures
                    .iter()
                    .filter(|c| c.tactic == tactic)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, list)| !list.is_empty())
        .collect();
    view! {
        <section id="technique-countermeasures" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <h2 class="mb-2 font-semibold">{format!("D3FEND countermeasures ({})", countermeasures.len())}</h2>
            {inherited.map(|parent| view! {
                <p class="mb-2 text-xs text-slate-500">{format!("D3FEND does not know this sub-technique; these counter its parent {parent}.")}</p>
            })}
            {if groups.is_empty() {
                view! { <p class="text-slate-500">"No D3FEND countermeasure is linked to it (import D3FEND from the System panel)."</p> }.into_any()
            } else {
                view! {
                    <div class="space-y-3">
                        {groups.into_iter().map(|(tactic, list)| view! {
                            <div data-tactic=tactic.as_str()>
                                <h3 class="text-xs font-semibold uppercase text-slate-500">{format!("{} ({})", tactic.label(), list.len())}</h3>
                                <ul class="mt-1 space-y-1">
                                    {list.into_iter().map(|c| view! {
                                        <li data-countermeasure=c.d3fend_id.clone()>
                                            <details>
                                                <summary class="cursor-pointer">
                                                    {c.name.clone()}" "<span class="font-mono text-xs text-slate-500">{c.d3fend_id.clone()}</span>
                                                    <span class="countermeasure-artifact block text-xs text-slate-500">{format!("via {}", c.artifact)}</span>
                                                </summary>
                                                <p class="mt-1 text-xs text-slate-700">{c.definition.clone()}</p>
                                                <ul class="mt-1 list-disc pl-4 text-xs text-slate-500">
                                                    {c.links.iter().map(|l| view! { <li>{Countermeasure::link_text(l)}</li> }).collect_view()}
                                                </ul>
                                                <a href=c.url.clone() class="text-xs text-indigo-600 hover:underline" target="_blank" rel="noopener noreferrer">"On d3fend.mitre.org ↗"</a>
                                            </details>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </div>
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}

type RulesResource = Resource<Result<Vec<crate::dto::detection::RuleSummary>, AppError>>;

/// The detection rules that map to this technique (or its sub-techniques).
#[component]
fn TechniqueRules(mitre_id: String, rules: RulesResource) -> impl IntoView {
    view! {
        <section id="technique-rules" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <div class="mb-2 flex items-center justify-between">
                <h2 class="font-semibold">"Detection rules"</h2>
                <a class="text-indigo-600 hover:underline" href=format!("/detection-rules?technique={mitre_id}")>"All"</a>
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(list) if list.is_empty() => view! { <p class="text-slate-500">"No detection rule maps to it."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="space-y-1">
                                {list.into_iter().map(|r| view! {
                                    <li class="flex items-center justify-between gap-2" data-rule=r.title.clone()>
                                        <a class="text-indigo-600 hover:underline" href=format!("/detection-rules/{}", r.id)>{r.title.clone()}</a>
                                        <span class="rule-proof whitespace-nowrap text-xs text-slate-500" data-proof=r.proof.as_str()>{format!("{} · {} · {}{}", r.source.label(), r.level, r.proof.label(), if r.is_active { "" } else { " · inactive" })}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

type TestsResource = Resource<Result<crate::dto::workflow::TestPage, AppError>>;
type TemplatesResource =
    Resource<Result<crate::dto::Page<crate::dto::catalog::TemplateSummary>, AppError>>;

/// The catalog's procedures for this technique.
#[component]
fn TechniqueTemplates(templates: TemplatesResource) -> impl IntoView {
    view! {
        <section id="technique-templates" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <h2 class="mb-2 font-semibold">"Templates"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match templates.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="text-slate-500">"No template for this technique."</p> }.into_any(),
                        Ok(page) => view! {
                            <ul class="space-y-1">
                                {page.items.into_iter().map(|t| view! {
                                    <li><a class="text-indigo-600 hover:underline" href=format!("/catalog/{}", t.id)>{t.name.clone()}</a>
                                        <span class="text-xs text-slate-500">{format!(" · {}", t.platforms.join(", "))}</span></li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The tests behind this technique's coverage status.
#[component]
fn TechniqueTests(mitre_id: String, tests: TestsResource) -> impl IntoView {
    let may_create = signed_in().is_some_and(|u| crate::domain::workflow::can_create(u.role));
    view! {
        <section id="technique-tests" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <div class="mb-2 flex items-center justify-between">
                <h2 class="font-semibold">"Tests"</h2>
                {may_create.then(|| view! {
                    <a class="text-indigo-600 hover:underline" href=format!("/tests/new?technique={mitre_id}")>"New test"</a>
                })}
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match tests.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="text-slate-500">"No tests yet."</p> }.into_any(),
                        Ok(page) => view! {
                            <ul class="space-y-1">
                                {page.items.into_iter().map(|t| {
                                    let state = t.state;
                                    view! {
                                        <li class="flex items-center justify-between gap-2">
                                            <a class="text-indigo-600 hover:underline" href=format!("/tests/{}", t.id)>{t.title.clone()}</a>
                                            <crate::components::test_state::StateBadge state />
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
