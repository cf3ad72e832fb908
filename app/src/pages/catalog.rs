//! The test template catalog: search and filters, a template's procedure shown as code, and
//! "Create test from this template" with its input arguments filled in.
use crate::api::catalog::{
    CreateTemplate, TestFromTemplate, ToggleTemplate, UpdateTemplate, get_template, list_templates,
};
use crate::components::feedback::FieldError;
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, NotFound, PageError, signed_in};
use crate::components::markdown::Markdown;
use crate::domain::rbac::Permission;
use crate::domain::values::{Severity, TemplateSource};
use crate::domain::workflow;
use crate::dto::catalog::{TemplateDetail, TemplateQuery};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::BTreeMap;
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;

fn source_label(source: &TemplateSource) -> &'static str {
    match source {
        TemplateSource::Mitre => "ATT&CK procedure",
        other => other.label(),
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
        include_inactive: param("include_inactive").map(|v| v == "true"),
        offset: param("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
    };
    let page = Resource::new(current, list_templates);
    let admin = signed_in().is_some_and(|u| u.role.can(Permission::ManageTemplates));
    let select = move |name: &'static str,
                       id: &'static str,
                       label: &'static str,
                       options: Vec<&'static str>| {
        view! {
            <div>
                <label for=id class="text-xs text-slate-600">{label}</label>
                <select id=id name=name class=INPUT_CLASS>
                    <option value="">"Any"</option>
                    {options.into_iter().map(|o| view! {
                        <option value=o selected=move || param(name).as_deref() == Some(o)>{o.replace('_', " ")}</option>
                    }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <Title text="Test catalog" />
        <div class="mb-4 flex flex-wrap items-center justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Test catalog"</h1>
            {admin.then(|| view! { <a id="new-template" href="/catalog/new" class=PRIMARY_BUTTON>"New custom template"</a> })}
        </div>
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
                {select("source", "catalog-source", "Source", TemplateSource::names())}
                {select("severity", "catalog-severity", "Severity", Severity::names())}
                {admin.then(|| view! {
                    <label class="mb-2 flex items-center gap-2 text-sm">
                        <input id="catalog-inactive" type="checkbox" name="include_inactive" value="true"
                            prop:checked=move || param("include_inactive").as_deref() == Some("true") />
                        "Include inactive"
                    </label>
                })}
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
                                            <td class="px-4 py-2">
                                                <a class="font-medium text-indigo-600 hover:underline" href=format!("/catalog/{}", t.id)>{t.name.clone()}</a>
                                                {(!t.is_active).then(|| view! { <span class="ml-2 rounded bg-slate-200 px-1.5 text-xs">"inactive"</span> })}
                                            </td>
                                            <td class="px-4 py-2 font-mono text-xs">{t.technique_id.clone()}</td>
                                            <td class="px-4 py-2">{source_label(&t.source)}</td>
                                            <td class="px-4 py-2">{t.platforms.join(", ")}</td>
                                            <td class="px-4 py-2 capitalize">{t.severity.as_str()}</td>
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
    let toggle = ServerAction::<ToggleTemplate>::new();
    let update = ServerAction::<UpdateTemplate>::new();
    let template = Resource::new(
        move || (id(), toggle.version().get(), update.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_template(id).await,
                None => Err(AppError::NotFound("No such template".into())),
            }
        },
    );
    view! {
        <a href="/catalog" class="text-sm text-indigo-600 hover:underline">"← Test catalog"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok(detail) => view! { <TemplateView detail toggle update /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateView(
    detail: TemplateDetail,
    toggle: ServerAction<ToggleTemplate>,
    update: ServerAction<UpdateTemplate>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let may_create = signed_in().is_some_and(|u| workflow::can_create_from_template(u.role));
    let admin = signed_in().is_some_and(|u| u.role.can(Permission::ManageTemplates));
    view! {
        <Title text=format!("{} · Test catalog", s.name) />
        <div class="mt-2">
            <p class="text-sm text-slate-500">
                <a class="font-mono hover:underline" href=format!("/techniques/{}", s.technique_id)>{s.technique_id.clone()}</a>
                " · "{source_label(&s.source)}" · "<span class="capitalize">{s.severity.as_str()}</span>
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
            <div class="space-y-6">
                <SourcePanel detail=detail.clone() />
                {(may_create && s.is_active).then(|| view! { <CreateFromTemplate detail=detail.clone() /> })}
                {admin.then(|| view! { <AdminTemplate detail=detail.clone() toggle update /> })}
            </div>
        </div>
    }
}

/// A labelled line of the source panel; nothing when the value is empty.
fn fact(label: &'static str, value: String) -> Option<impl IntoView> {
    (!value.trim().is_empty()).then(|| {
        view! {
            <div class="flex gap-2">
                <dt class="w-28 shrink-0 text-slate-500">{label}</dt>
                <dd class="min-w-0 break-words">{value}</dd>
            </div>
        }
    })
}

/// Links as a list, each only when safe to show as a link.
fn links(items: &[String]) -> impl IntoView + use<> {
    let items: Vec<String> = items.to_vec();
    view! {
        <ul class="list-disc space-y-1 pl-5">
            {items.into_iter().map(|item| {
                if crate::domain::validation::is_safe_link(&item) {
                    let text = item.clone();
                    view! { <li class="break-all"><a class="text-indigo-600 hover:underline" href=item rel="noopener noreferrer" target="_blank">{text}</a></li> }.into_any()
                } else {
                    view! { <li class="break-all">{item}</li> }.into_any()
                }
            }).collect_view()}
        </ul>
    }
}

/// Where the template comes from (licence, upstream page), its caveats, and the fields only
/// its source has: CALDERA's executors, LOLBAS's paths and detection hints, GTFOBins'
/// function, context and mapping.
#[component]
fn SourcePanel(detail: TemplateDetail) -> impl IntoView {
    use crate::dto::catalog::SourceDetails;
    let s = detail.summary.clone();
    let specific = match detail.source_details.clone() {
        Some(SourceDetails::Caldera(c)) => view! {
            <dl class="space-y-1">
                {fact("Ability", s.external_id.clone().unwrap_or_default())}
                {fact("Tactic", c.tactic.clone())}
                {fact("CALDERA's name", c.technique_name.clone())}
                {fact("Privilege", c.privilege.clone().unwrap_or_default())}
                {fact("Requirements", c.requirements.join(", "))}
                {fact("Adversaries", c.adversaries.join(", "))}
            </dl>
            <h3 class="mt-3 font-medium">"Executors"</h3>
            <ul id="caldera-executors" class="mt-1 space-y-2">
                {c.executors.into_iter().map(|e| view! {
                    <li>
                        <p class="text-xs text-slate-600">
                            {format!("{} · {}", e.platform, e.executor)}
                            {e.timeout.map(|t| format!(" · timeout {t}s"))}
                            {(!e.payloads.is_empty()).then(|| format!(" · payloads: {}", e.payloads.join(", ")))}
                            {(!e.parsers.is_empty()).then(|| format!(" · parsers: {}", e.parsers.join(", ")))}
                        </p>
                        <pre class="overflow-x-auto rounded bg-slate-100 p-2 text-xs">{e.command}</pre>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any(),
        Some(SourceDetails::Lolbas(l)) => view! {
            <dl class="space-y-1">
                {fact("Binary", l.binary.clone())}
                {fact("Category", l.category.clone())}
                {fact("Use case", l.usecase.clone())}
                {fact("Privileges", l.privileges.clone())}
                {fact("Windows", l.operating_system.clone())}
                {fact("Author", l.author.clone())}
                {fact("Tags", l.tags.join(", "))}
            </dl>
            {(!l.full_paths.is_empty()).then(|| view! {
                <h3 class="mt-3 font-medium">"Paths"</h3>
                <ul id="lolbas-paths" class="font-mono text-xs">{l.full_paths.iter().map(|p| view! { <li class="break-all">{p.clone()}</li> }).collect_view()}</ul>
            })}
            {(!l.detections.is_empty()).then(|| view! {
                <h3 class="mt-3 font-medium">"Detection hints"</h3>
                <ul id="lolbas-detections" class="space-y-1 text-xs">
                    {l.detections.iter().map(|d| {
                        let value = if crate::domain::validation::is_safe_link(&d.value) {
                            view! { <a class="break-all text-indigo-600 hover:underline" href=d.value.clone() rel="noopener noreferrer" target="_blank">{d.value.clone()}</a> }.into_any()
                        } else {
                            view! { <span>{d.value.clone()}</span> }.into_any()
                        };
                        view! { <li><span class="font-medium">{format!("{}: ", d.kind)}</span>{value}</li> }
                    }).collect_view()}
                </ul>
            })}
            {(!l.resources.is_empty()).then(|| view! {
                <h3 class="mt-3 font-medium">"Resources"</h3>
                <div class="text-xs">{links(&l.resources)}</div>
            })}
        }
        .into_any(),
        Some(SourceDetails::Gtfobins(g)) => view! {
            <dl class="space-y-1">
                {fact("Binary", g.binary.clone())}
                {fact("Function", g.function_label.clone())}
                {fact("Context", g.context.clone())}
                {fact("Techniques", g.techniques.join(", "))}
                {fact("Mapping", g.mapping.replace('_', " "))}
                {fact("Capabilities", g.capabilities.join(", "))}
                {fact("Inherits", g.inherits_from.clone().unwrap_or_default())}
                {fact("Aliases", g.aliases.join(", "))}
            </dl>
        }
        .into_any(),
        None => ().into_any(),
    };
    view! {
        <section id="template-source" class="h-fit rounded-lg border border-slate-200 bg-white p-6 text-sm">
            <h2 class="mb-3 text-lg font-semibold">"Source"</h2>
            <dl class="space-y-1">
                {fact("Source", source_label(&s.source).to_owned())}
                {fact("Licence", detail.license.clone().unwrap_or_default())}
            </dl>
            {detail.source_url.clone().filter(|u| crate::domain::validation::is_safe_link(u)).map(|url| view! {
                <p class="mt-2"><a id="template-source-url" class="break-all text-indigo-600 hover:underline" href=url.clone() rel="noopener noreferrer" target="_blank">{url.clone()}</a></p>
            })}
            {(!detail.flags.is_empty()).then(|| view! {
                <ul id="template-flags" class="mt-3 space-y-1">
                    {detail.flags.iter().map(|f| view! { <li class="rounded bg-amber-50 px-2 py-1 text-amber-800">{f.clone()}</li> }).collect_view()}
                </ul>
            })}
            <div class="mt-3">{specific}</div>
        </section>
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
                    {(detail.summary.platforms.len() > 1).then(|| view! {
                        <div>
                            <label for="from-template-platform" class=LABEL_CLASS>"Platform"</label>
                            <select id="from-template-platform" name="platform" class=INPUT_CLASS>
                                {detail.summary.platforms.iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                    })}
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

/// Admins deactivate or reactivate a template and edit it: every field of a custom template,
/// the local fields of an imported one (which re-imports keep).
#[component]
fn AdminTemplate(
    detail: TemplateDetail,
    toggle: ServerAction<ToggleTemplate>,
    update: ServerAction<UpdateTemplate>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let custom = s.source == TemplateSource::Custom;
    let toggle_error = action_error(toggle.value());
    let error = action_error(update.value());
    let saved = Signal::derive(move || matches!(update.value().get(), Some(Ok(_))));
    view! {
        <section id="template-admin" class="h-fit rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="mb-3 text-lg font-semibold">"Administration"</h2>
            <ErrorAlert error=toggle_error />
            <ActionForm action=toggle>
                <input type="hidden" name="id" value=s.id.to_string() />
                <button id="toggle-template" type="submit" class=SECONDARY_BUTTON>
                    {if s.is_active { "Deactivate" } else { "Reactivate" }}
                </button>
            </ActionForm>
            <ErrorAlert error />
            {move || saved.get().then(|| view! { <p role="status" class="mt-3 text-sm text-emerald-700">"Saved."</p> })}
            <ActionForm action=update attr:id="template-edit-form" attr:class="mt-4 space-y-3">
                <input type="hidden" name="id" value=s.id.to_string() />
                {custom.then(|| view! {
                    <div>
                        <label for="edit-name" class=LABEL_CLASS>"Name"</label>
                        <input id="edit-name" name="name" value=s.name.clone() class=INPUT_CLASS />
                        <FieldError error field="name" />
                    </div>
                    <div>
                        <label for="edit-description" class=LABEL_CLASS>"Description"</label>
                        <textarea id="edit-description" name="description" rows="3" class=INPUT_CLASS>{detail.description.clone()}</textarea>
                    </div>
                    <div>
                        <label for="edit-command" class=LABEL_CLASS>"Command"</label>
                        <textarea id="edit-command" name="command" rows="3" class=format!("{INPUT_CLASS} font-mono")>{detail.command.clone()}</textarea>
                    </div>
                })}
                <div>
                    <label for="edit-severity" class=LABEL_CLASS>"Severity"</label>
                    <select id="edit-severity" name="severity" class=INPUT_CLASS>
                        {Severity::ALL.into_iter().map(|v| view! { <option value=v.as_str() selected=v == s.severity>{v.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="edit-expected" class=LABEL_CLASS>"Expected detection"</label>
                    <textarea id="edit-expected" name="expected_detection" rows="2" class=INPUT_CLASS>{detail.expected_detection.clone()}</textarea>
                </div>
                <div>
                    <label for="edit-tools" class=LABEL_CLASS>"Suggested tools (comma-separated)"</label>
                    <input id="edit-tools" name="suggested_tools" value=detail.suggested_tools.join(", ") class=INPUT_CLASS />
                </div>
                <div>
                    <label for="edit-remediation" class=LABEL_CLASS>"Suggested remediation (one step per line)"</label>
                    <textarea id="edit-remediation" name="remediation_steps" rows="3" class=INPUT_CLASS>{detail.remediation_steps.join("\n")}</textarea>
                </div>
                <button id="save-template" type="submit" class=PRIMARY_BUTTON>"Save"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn NewTemplatePage() -> impl IntoView {
    view! {
        <Title text="New template" />
        <crate::components::layout::RequirePermission permission=Permission::ManageTemplates>
            <NewTemplateForm />
        </crate::components::layout::RequirePermission>
    }
}

#[component]
fn NewTemplateForm() -> impl IntoView {
    let create = ServerAction::<CreateTemplate>::new();
    let error = action_error(create.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(template)) = create.value().get() {
            navigate(
                &format!("/catalog/{}", template.summary.id),
                Default::default(),
            );
        }
    });
    let field = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      placeholder: &'static str| {
        view! {
            <div>
                <label for=id class=LABEL_CLASS>{label}</label>
                <input id=id name=name placeholder=placeholder class=INPUT_CLASS />
                <FieldError error field=name />
            </div>
        }
    };
    let area = move |id: &'static str, name: &'static str, label: &'static str, mono: bool| {
        view! {
            <div>
                <label for=id class=LABEL_CLASS>{label}</label>
                <textarea id=id name=name rows="3" class=if mono { format!("{INPUT_CLASS} font-mono") } else { INPUT_CLASS.to_owned() }></textarea>
                <FieldError error field=name />
            </div>
        }
    };
    view! {
        <a href="/catalog" class="text-sm text-indigo-600 hover:underline">"← Test catalog"</a>
        <h1 class="mb-4 mt-2 text-2xl font-semibold">"New custom template"</h1>
        <div class="max-w-3xl rounded-lg border border-slate-200 bg-white p-6">
            <ErrorAlert error />
            <ActionForm action=create attr:id="new-template-form">
                <div class="space-y-4">
                    <div class="grid gap-4 md:grid-cols-2">
                        {field("template-technique", "technique_id", "Technique", "T1059.001")}
                        {field("template-name", "name", "Name", "")}
                        {field("template-platforms", "platforms", "Platforms (comma-separated)", "windows, linux")}
                        {field("template-executor", "executor_name", "Executor", "powershell")}
                    </div>
                    <div>
                        <label for="template-severity" class=LABEL_CLASS>"Severity"</label>
                        <select id="template-severity" name="severity" class=INPUT_CLASS>
                            {Severity::ALL.into_iter().map(|v| view! { <option value=v.as_str() selected=v == Severity::Medium>{v.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    {area("template-description", "description", "Description", false)}
                    {area("template-command", "command", "Command", true)}
                    {area("template-cleanup", "cleanup_command", "Cleanup command", true)}
                    {area("template-expected", "expected_detection", "Expected detection", false)}
                    {field("template-tools", "suggested_tools", "Suggested tools (comma-separated)", "")}
                    {area("template-remediation", "remediation_steps", "Suggested remediation (one step per line)", false)}
                    <button id="create-template" type="submit" class=PRIMARY_BUTTON>"Create template"</button>
                </div>
            </ActionForm>
        </div>
    }
}
