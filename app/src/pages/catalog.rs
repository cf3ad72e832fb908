//! The test template catalog: search and filters, a template's procedure shown as code, and
//! "Create test from this template" with its input arguments filled in.
use crate::api::templates::{TestFromTemplate, get_template, list_templates};
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, NotFound, PageError, signed_in};
use crate::components::markdown::Markdown;
use crate::domain::workflow;
use crate::dto::templates::{SEVERITIES, TEMPLATE_SOURCES, TemplateDetail, TemplateQuery};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::BTreeMap;
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;

fn source_label(source: &str) -> &'static str {
    match source {
        "atomic_red_team" => "Atomic Red Team",
        "mitre" => "ATT&CK procedure",
        _ => "Custom",
    }
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let current = move || TemplateQuery {
        search: param("search"),
        source: param("source"),
        platform: param("platform"),
        severity: param("severity"),
        mitre_technique_id: param("technique"),
        offset: param("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
        ..Default::default()
    };
    let page = Resource::new(current, list_templates);
    let select = move |name: &'static str,
                       id: &'static str,
                       label: &'static str,
                       options: &'static [&'static str]| {
        view! {
            <div>
                <label for=id class="text-xs text-slate-600">{label}</label>
                <select id=id name=name class=INPUT_CLASS>
                    <option value="">"Any"</option>
                    {options.iter().map(|o| view! {
                        <option value=*o selected=move || param(name).as_deref() == Some(*o)>{o.replace('_', " ")}</option>
                    }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <Title text="Test catalog" />
        <h1 class="mb-4 text-2xl font-semibold">"Test catalog"</h1>
        <Form method="GET" action="">
            <div id="catalog-filters" class="mb-4 flex flex-wrap items-end gap-2">
                <div>
                    <label for="catalog-search" class="text-xs text-slate-600">"Search"</label>
                    <input id="catalog-search" type="search" name="search" placeholder="Name, command, technique…"
                        value=move || param("search").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="catalog-technique" class="text-xs text-slate-600">"Technique"</label>
                    <input id="catalog-technique" name="technique" placeholder="T1059.001"
                        value=move || param("technique").unwrap_or_default() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="catalog-platform" class="text-xs text-slate-600">"Platform"</label>
                    <input id="catalog-platform" name="platform" placeholder="windows"
                        value=move || param("platform").unwrap_or_default() class=INPUT_CLASS />
                </div>
                {select("source", "catalog-source", "Source", &TEMPLATE_SOURCES)}
                {select("severity", "catalog-severity", "Severity", &SEVERITIES)}
                <button id="catalog-filter" type="submit" class=SECONDARY_BUTTON>"Filter"</button>
                <a href="/catalog" class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p id="catalog-empty" class="rounded-lg border border-slate-200 bg-white p-6 text-sm text-slate-500">
                            "No template matches. Admins import Atomic Red Team or write templates in the System panel."
                        </p>
                    }.into_any(),
                    Ok(page) => view! {
                        <p id="catalog-count" class="mb-2 text-sm text-slate-600">{format!("{} templates", page.total)}</p>
                        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                            <table id="catalog-table" class="min-w-full divide-y divide-slate-200 text-sm">
                                <thead class="bg-slate-50 text-left text-xs uppercase text-slate-500">
                                    <tr>
                                        <th class="px-4 py-2">"Template"</th>
                                        <th class="px-4 py-2">"Technique"</th>
                                        <th class="px-4 py-2">"Source"</th>
                                        <th class="px-4 py-2">"Platforms"</th>
                                        <th class="px-4 py-2">"Severity"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {page.items.into_iter().map(|t| view! {
                                        <tr data-template=t.name.clone()>
                                            <td class="px-4 py-2"><a class="font-medium text-indigo-600 hover:underline" href=format!("/catalog/{}", t.id)>{t.name.clone()}</a></td>
                                            <td class="px-4 py-2 font-mono text-xs">{t.technique_id.clone()}</td>
                                            <td class="px-4 py-2">{source_label(&t.source)}</td>
                                            <td class="px-4 py-2">{t.platforms.join(", ")}</td>
                                            <td class="px-4 py-2 capitalize">{t.severity.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn TemplatePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| Uuid::parse_str(&id).ok())
    };
    let template = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_template(id).await,
            None => Err(AppError::NotFound("No such template".into())),
        }
    });
    view! {
        <a href="/catalog" class="text-sm text-indigo-600 hover:underline">"← Test catalog"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok(detail) => view! { <TemplateView detail /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateView(detail: TemplateDetail) -> impl IntoView {
    let s = detail.summary.clone();
    let may_create = signed_in().is_some_and(|u| workflow::can_create_from_template(u.role));
    view! {
        <Title text=format!("{} · Test catalog", s.name) />
        <div class="mt-2">
            <p class="text-sm text-slate-500">
                <a class="font-mono hover:underline" href=format!("/techniques/{}", s.technique_id)>{s.technique_id.clone()}</a>
                " · "{source_label(&s.source)}" · "<span class="capitalize">{s.severity.clone()}</span>
                {(!s.platforms.is_empty()).then(|| format!(" · {}", s.platforms.join(", ")))}
            </p>
            <h1 id="template-name" class="text-2xl font-semibold">{s.name.clone()}</h1>
            {(!s.is_active).then(|| view! { <p class="text-sm text-amber-700">"Deactivated: not offered to teams."</p> })}
        </div>
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="space-y-4 rounded-lg border border-slate-200 bg-white p-6 lg:col-span-2">
                <Markdown source=detail.description.clone() />
                {(!detail.command.is_empty()).then(|| view! {
                    <div>
                        <h2 class="mb-1 font-semibold">
                            {format!("Procedure{}{}", detail.summary.executor_name.as_ref().map(|e| format!(" ({e})")).unwrap_or_default(), if detail.elevation_required { ", elevation required" } else { "" })}
                        </h2>
                        <pre id="template-command" class="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{detail.command.clone()}</pre>
                    </div>
                })}
                {detail.cleanup_command.clone().filter(|c| !c.is_empty()).map(|c| view! {
                    <div>
                        <h2 class="mb-1 font-semibold">"Cleanup"</h2>
                        <pre class="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{c}</pre>
                    </div>
                })}
                {(!detail.dependencies.is_empty()).then(|| view! {
                    <div>
                        <h2 class="mb-1 font-semibold">"Prerequisites"</h2>
                        <ul class="space-y-2 text-sm">
                            {detail.dependencies.iter().map(|d| view! {
                                <li>
                                    <p>{d.description.clone()}</p>
                                    <pre class="overflow-x-auto rounded bg-slate-100 p-2 text-xs">{d.prereq_command.clone()}</pre>
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                })}
                {(!detail.expected_detection.is_empty()).then(|| view! {
                    <p class="text-sm"><span class="font-medium">"Expected detection: "</span>{detail.expected_detection.clone()}</p>
                })}
                {(!detail.suggested_tools.is_empty()).then(|| view! {
                    <p class="text-sm"><span class="font-medium">"Suggested tools: "</span>{detail.suggested_tools.join(", ")}</p>
                })}
                {(!detail.remediation_steps.is_empty()).then(|| view! {
                    <div>
                        <h2 class="mb-1 font-semibold">"Suggested remediation"</h2>
                        <ol class="list-decimal pl-5 text-sm">
                            {detail.remediation_steps.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}
                        </ol>
                    </div>
                })}
            </section>
            {(may_create && s.is_active).then(|| view! { <CreateFromTemplate detail=detail.clone() /> })}
        </div>
    }
}

#[component]
fn CreateFromTemplate(detail: TemplateDetail) -> impl IntoView {
    let create = ServerAction::<TestFromTemplate>::new();
    let error = action_error(create.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(test)) = create.value().get() {
            navigate(&format!("/tests/{}", test.id), Default::default());
        }
    });
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let arguments = move || serde_json::to_string(&values.get()).unwrap_or_else(|_| "{}".into());
    view! {
        <section id="create-from-template" class="h-fit rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="mb-3 text-lg font-semibold">"Create test from this template"</h2>
            <ErrorAlert error />
            <ActionForm action=create>
                <input type="hidden" name="template_id" value=detail.summary.id.to_string() />
                <input type="hidden" name="arguments" prop:value=arguments />
                <div class="space-y-3">
                    <div>
                        <label for="from-template-title" class=LABEL_CLASS>"Title"</label>
                        <input id="from-template-title" name="title" value=detail.summary.name.clone() class=INPUT_CLASS />
                    </div>
                    {detail.input_arguments.iter().map(|a| {
                        let name = a.name.clone();
                        view! {
                            <div>
                                <label for=format!("argument-{}", a.name) class=LABEL_CLASS>{format!("{} ({})", a.name, a.kind)}</label>
                                <input id=format!("argument-{}", a.name) placeholder=a.default.clone() class=INPUT_CLASS
                                    on:input=move |ev| {
                                        let value = event_target_value(&ev);
                                        let name = name.clone();
                                        values.update(|v| { v.insert(name, value); });
                                    } />
                                <p class="mt-1 text-xs text-slate-500">{a.description.clone()}</p>
                            </div>
                        }
                    }).collect_view()}
                    <button id="create-from-template-submit" type="submit" class=PRIMARY_BUTTON>"Create test"</button>
                </div>
            </ActionForm>
        </section>
    }
}
