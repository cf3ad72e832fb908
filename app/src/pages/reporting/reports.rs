//! The Reports page: pick a report and its filters, preview it, download it as JSON or CSV,
//! download the coverage as an ATT&CK Navigator layer, and manage imported technique sets.
use crate::api::campaigns::campaign_choices;
use crate::api::reporting::{
    DeleteTechniqueSet, PREVIEW_ROWS, ReportOptions, ReportPreview, load_report_options,
    preview_report,
};
use crate::components::coverage::StatusBadge;
use crate::components::feedback::{INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::form::{CampaignFilter, OpenCampaigns};
use crate::components::layout::{Loading, PageError, signed_in};
use crate::components::links::with_query;
use crate::components::test_state::StateBadge;
use crate::domain::heat::HeatMode;
use crate::domain::rbac::Permission;
use crate::domain::values::RemediationStatus;
use crate::domain::workflow::TestState;
use crate::dto::reporting::reports::ReportQuery;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

const KINDS: [(&str, &str); 3] = [
    ("coverage", "Coverage summary"),
    ("test-results", "Test results"),
    ("remediation", "Remediation status"),
];

const TH: &str = "px-2 py-1 text-left text-xs font-semibold uppercase text-slate-500";
const TD: &str = "px-2 py-1 align-top";

#[component]
pub fn ReportsPage() -> impl IntoView {
    let query_map = use_query_map();
    let param = move |name: &str| query_map.read().get(name).filter(|v| !v.is_empty());
    let kind = move || {
        param("kind")
            .filter(|k| KINDS.iter().any(|(key, _)| key == k))
            .unwrap_or_else(|| "coverage".into())
    };
    let query = move || ReportQuery {
        tactic: param("tactic"),
        platform: param("platform"),
        technique_set: param("technique_set"),
        campaign: param("campaign"),
        state: param("state"),
        status: param("status"),
        date_from: param("date_from"),
        date_to: param("date_to"),
        format: None,
        limit: None,
        mode: param("mode"),
    };
    let options = Resource::new(|| (), |_| load_report_options());
    let campaigns = Resource::new(|| (), |_| campaign_choices());
    let preview = Resource::new(move || (kind(), query()), |(k, q)| preview_report(k, q));
    let sets_changed = RwSignal::new(0u32);
    view! {
        <Title text="Reports" />
        <h1 class="mb-4 text-2xl font-semibold">"Reports"</h1>
        <nav class="mb-4 flex gap-2" aria-label="Reports" id="report-kinds">
            {KINDS.iter().map(|(key, label)| {
                let key = *key;
                view! {
                    <a href=move || with_query("/reports", &[("kind", Some(key.to_owned()))])
                        class="rounded-md border px-3 py-1.5 text-sm"
                        class=("bg-indigo-600", move || kind() == key)
                        class=("text-white", move || kind() == key)
                        class=("border-indigo-600", move || kind() == key)
                        class=("border-slate-300", move || kind() != key)
                        aria-current=move || (kind() == key).then_some("page")>
                        {*label}
                    </a>
                }
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <Filters options kind=kind() query=query() campaigns /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
        <Downloads kind=Signal::derive(kind) query=Signal::derive(query) />
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4" id="report-preview">
            <h2 class="mb-2 font-semibold">"Preview"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(preview) => view! { <Preview preview /> }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <TechniqueSets options sets_changed />
    }
}

#[component]
fn Filters(
    options: ReportOptions,
    kind: String,
    query: ReportQuery,
    campaigns: Resource<Result<OpenCampaigns, crate::error::AppError>>,
) -> impl IntoView {
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    let tactic = query.tactic.clone();
    let platform = query.platform.clone();
    let set = query.technique_set.clone();
    let state = query.state.clone();
    let status = query.status.clone();
    let mode: HeatMode = query
        .mode
        .as_deref()
        .and_then(|m| m.parse().ok())
        .unwrap_or_default();
    let is_tests = kind == "test-results";
    let is_remediation = kind == "remediation";
    view! {
        <Form method="GET" action="">
            <div id="report-filters" class="flex flex-wrap items-end gap-2">
                <input type="hidden" name="kind" value=kind.clone() />
                <div>
                    <label for="report-tactic" class="text-xs text-slate-600">"Tactic"</label>
                    <select id="report-tactic" name="tactic" class=INPUT_CLASS>
                        <option value="">"All tactics"</option>
                        {options.tactics.iter().map(|t| view! {
                            <option value=t.shortname.clone() selected=selected(&tactic, &t.shortname)>{t.name.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="report-platform" class="text-xs text-slate-600">"Platform"</label>
                    <select id="report-platform" name="platform" class=INPUT_CLASS>
                        <option value="">"All platforms"</option>
                        {options.platforms.iter().map(|p| view! {
                            <option value=p.to_lowercase() selected=selected(&platform, &p.to_lowercase())>{p.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="report-set" class="text-xs text-slate-600">"Technique set"</label>
                    <select id="report-set" name="technique_set" class=INPUT_CLASS>
                        <option value="">"All techniques"</option>
                        {options.sets.iter().map(|s| view! {
                            <option value=s.id.to_string() selected=selected(&set, &s.id.to_string())>{s.name.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <CampaignFilter id="report-campaign" selected=Signal::stored(query.campaign.clone()) choices=campaigns />
                <div>
                    <label for="report-mode" class="text-xs text-slate-600">"Navigator layer colours"</label>
                    <select id="report-mode" name="mode" class=INPUT_CLASS>
                        {HeatMode::ALL.into_iter().map(|m| view! {
                            <option value=m.as_str() selected=mode == m>{m.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                {is_tests.then(|| view! {
                    <div>
                        <label for="report-state" class="text-xs text-slate-600">"State"</label>
                        <select id="report-state" name="state" class=INPUT_CLASS>
                            <option value="">"Any state"</option>
                            {TestState::ALL.iter().map(|s| view! {
                                <option value=s.as_str() selected=selected(&state, s.as_str())>{s.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                })}
                {is_remediation.then(|| view! {
                    <div>
                        <label for="report-status" class="text-xs text-slate-600">"Remediation status"</label>
                        <select id="report-status" name="status" class=INPUT_CLASS>
                            <option value="">"Any status"</option>
                            {RemediationStatus::ALL.iter().map(|s| view! {
                                <option value=s.as_str() selected=selected(&status, s.as_str())>{s.as_str().replace('_', " ")}</option>
                            }).collect_view()}
                        </select>
                    </div>
                })}
                {(!kind.eq("coverage")).then(|| view! {
                    <div>
                        <label for="report-from" class="text-xs text-slate-600">"Created from"</label>
                        <input id="report-from" type="date" name="date_from" class=INPUT_CLASS
                            value=query.date_from.clone().unwrap_or_default() />
                    </div>
                    <div>
                        <label for="report-to" class="text-xs text-slate-600">"Created to"</label>
                        <input id="report-to" type="date" name="date_to" class=INPUT_CLASS
                            value=query.date_to.clone().unwrap_or_default() />
                    </div>
                })}
                <button type="submit" class=SECONDARY_BUTTON>"Apply"</button>
                <a href=with_query("/reports", &[("kind", Some(kind.clone()))]) class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
            </div>
        </Form>
    }
}

/// The report's API URL for `format` with the page's filters.
fn report_url(kind: &str, query: &ReportQuery, format: &str) -> String {
    let path = match (kind, format) {
        ("coverage", "csv") => "/api/v1/reports/coverage-csv",
        ("coverage", _) => "/api/v1/reports/coverage-summary",
        ("test-results", _) => "/api/v1/reports/test-results",
        _ => "/api/v1/reports/remediation-status",
    };
    let format = (kind != "coverage").then(|| format.to_owned());
    with_query(
        path,
        &[
            ("format", format),
            ("tactic", query.tactic.clone()),
            ("platform", query.platform.clone()),
            ("technique_set", query.technique_set.clone()),
            ("campaign", query.campaign.clone()),
            ("state", query.state.clone()),
            ("status", query.status.clone()),
            ("date_from", query.date_from.clone()),
            ("date_to", query.date_to.clone()),
        ],
    )
}

#[component]
fn Downloads(kind: Signal<String>, query: Signal<ReportQuery>) -> impl IntoView {
    let layer = move || {
        let q = query.get();
        with_query(
            "/api/v1/reports/navigator-layer",
            &[
                ("tactic", q.tactic),
                ("platform", q.platform),
                ("technique_set", q.technique_set),
                ("campaign", q.campaign),
                ("mode", q.mode),
            ],
        )
    };
    view! {
        <div id="report-downloads" class="mt-4 flex flex-wrap gap-2">
            <a id="download-csv" class=PRIMARY_BUTTON download
                href=move || report_url(&kind.get(), &query.get(), "csv")>"Download CSV"</a>
            <a id="download-json" class=SECONDARY_BUTTON download
                href=move || report_url(&kind.get(), &query.get(), "json")>"Download JSON"</a>
            <a id="download-layer" class=SECONDARY_BUTTON download
                href=layer
                title="Coverage as an ATT&CK Navigator layer (format 4.5)">"Download Navigator layer"</a>
        </div>
    }
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".into())
}

#[component]
fn Preview(preview: ReportPreview) -> impl IntoView {
    match preview {
        ReportPreview::Coverage(report) => {
            let totals = report.totals;
            let shown = report.techniques.len().min(PREVIEW_ROWS as usize);
            view! {
                <p id="report-totals" class="mb-2 text-sm text-slate-600">
                    {format!(
                        "{} techniques: {} validated, {} partially covered, {} in progress, {} not covered ({:.1}% validated). First {shown} shown.",
                        totals.total, totals.validated, totals.partial, totals.in_progress, totals.not_covered, report.coverage_percent
                    )}
                </p>
                <div class="overflow-x-auto">
                    <table class="w-full text-sm">
                        <thead><tr>
                            <th class=TH>"Technique"</th><th class=TH>"Status"</th><th class=TH>"Tests"</th>
                            <th class=TH>"Validated"</th><th class=TH>"Rejected"</th><th class=TH>"Last validated"</th>
                        </tr></thead>
                        <tbody>
                            {report.techniques.into_iter().take(shown).map(|row| {
                                let status = row.coverage_status;
                                view! {
                                    <tr class="border-t border-slate-100">
                                        <td class=TD><a class="text-indigo-700 hover:underline" href=format!("/techniques/{}", row.mitre_id)>{format!("{} {}", row.mitre_id, row.name)}</a></td>
                                        <td class=TD><StatusBadge status /></td>
                                        <td class=TD>{row.tests_total}</td>
                                        <td class=TD>{row.tests_validated}</td>
                                        <td class=TD>{row.tests_rejected}</td>
                                        <td class=TD>{or_dash(row.last_validated_at.map(|t| t.format("%Y-%m-%d").to_string()))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }
        ReportPreview::TestResults(rows) => {
            if rows.is_empty() {
                return view! { <p class="text-sm text-slate-500">"No test matches these filters."</p> }.into_any();
            }
            view! {
                <p class="mb-2 text-sm text-slate-600">{format!("First {} tests (oldest first); the download holds them all.", rows.len())}</p>
                <div class="overflow-x-auto">
                    <table class="w-full text-sm">
                        <thead><tr>
                            <th class=TH>"Test"</th><th class=TH>"State"</th><th class=TH>"Detection"</th>
                            <th class=TH>"Time to detect"</th><th class=TH>"Votes (red / blue)"</th><th class=TH>"Evidence"</th><th class=TH>"Worklog"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let state = r.state;
                                view! {
                                    <tr class="border-t border-slate-100">
                                        <td class=TD><a class="text-indigo-700 hover:underline" href=format!("/tests/{}", r.id)>{r.title}</a>
                                            <span class="ml-1 text-xs text-slate-500">{r.technique_id}</span></td>
                                        <td class=TD><StateBadge state /></td>
                                        <td class=TD>{or_dash(r.detection_result.map(|d| d.as_str().replace('_', " ")))}</td>
                                        <td class=TD>{or_dash(r.time_to_detect_seconds.map(|s| format!("{s} s")))}</td>
                                        <td class=TD>{format!("{} / {}", or_dash(r.red_validation_status.map(|v| v.to_string())), or_dash(r.blue_validation_status.map(|v| v.to_string())))}</td>
                                        <td class=TD>{r.evidence_count}</td>
                                        <td class=TD>{(r.worklog_minutes > 0).then(|| crate::domain::worklog::duration_text(r.worklog_minutes as i64))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }
        ReportPreview::Remediation(rows) => {
            if rows.is_empty() {
                return view! { <p class="text-sm text-slate-500">"No remediation matches these filters."</p> }.into_any();
            }
            view! {
                <p class="mb-2 text-sm text-slate-600">{format!("First {} remediations (soonest due first).", rows.len())}</p>
                <div class="overflow-x-auto">
                    <table class="w-full text-sm">
                        <thead><tr>
                            <th class=TH>"Test"</th><th class=TH>"Detection"</th><th class=TH>"Status"</th>
                            <th class=TH>"Owner"</th><th class=TH>"Due"</th><th class=TH>"Steps done"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr class="border-t border-slate-100" class=("bg-red-50", r.overdue)>
                                    <td class=TD><a class="text-indigo-700 hover:underline" href=format!("/tests/{}", r.test_id)>{r.title}</a>
                                        <span class="ml-1 text-xs text-slate-500">{r.technique_id}</span></td>
                                    <td class=TD>{or_dash(r.detection_result.map(|d| d.as_str().replace('_', " ")))}</td>
                                    <td class=TD>{r.remediation_status.as_str().replace('_', " ")}</td>
                                    <td class=TD>{or_dash(r.owner)}</td>
                                    <td class=TD>{format!("{}{}", or_dash(r.due_date.map(|d| d.to_string())), if r.overdue { " (overdue)" } else { "" })}</td>
                                    <td class=TD>{format!("{} / {}", r.steps_done, r.steps_total)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }
    }
}

/// Imported Navigator layers: listed for everyone; imported and deleted by leads and admins.
#[component]
fn TechniqueSets(
    options: Resource<Result<ReportOptions, crate::error::AppError>>,
    sets_changed: RwSignal<u32>,
) -> impl IntoView {
    let may_manage = signed_in().is_some_and(|u| u.role.can(Permission::ManageTechniqueSets));
    let delete = ServerAction::<DeleteTechniqueSet>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            match result {
                Ok(()) => options.refetch(),
                Err(err) => error.set(Some(err.detail())),
            }
        }
    });
    Effect::new(move |_| {
        if sets_changed.get() > 0 {
            options.refetch();
        }
    });
    let name = RwSignal::new(String::new());
    let import = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let file = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
                .and_then(|form| form.query_selector("input[type=file]").ok().flatten())
                .and_then(|input| input.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|input| input.files())
                .and_then(|files| files.get(0));
            match file {
                None => error.set(Some("Choose a layer file (.json) first".into())),
                Some(file) => {
                    busy.set(true);
                    let url = crate::components::links::with_query(
                        "/api/v1/reports/navigator-layer",
                        &[("name", Some(name.get_untracked()))],
                    );
                    if let Err(err) = layer_upload::start(&url, &file, error, busy, sets_changed) {
                        busy.set(false);
                        error.set(Some(format!("The upload could not start: {err:?}")));
                    }
                }
            }
        }
    };
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" id="technique-sets">
            <h2 class="mb-1 font-semibold">"Technique sets"</h2>
            <p class="mb-3 text-sm text-slate-600">
                "Navigator layers imported as named sets of techniques (a threat-intel team's priorities, say). Filter the reports, the dashboard and the matrix by them."
            </p>
            {move || error.get().map(|e| view! {
                <p role="alert" class="alert-error mb-2 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p>
            })}
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    let sets = options.await.map(|o| o.sets).unwrap_or_default();
                    if sets.is_empty() {
                        return view! { <p class="text-sm text-slate-500">"No technique set yet."</p> }.into_any();
                    }
                    view! {
                        <ul class="divide-y divide-slate-100" id="technique-set-list">
                            {sets.into_iter().map(|s| {
                                let id = s.id.to_string();
                                view! {
                                    <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-set=s.name.clone()>
                                        <div>
                                            <a class="font-medium text-indigo-700 hover:underline"
                                                href=with_query("/matrix", &[("technique_set", Some(id.clone()))])>{s.name.clone()}</a>
                                            <span class="ml-2 text-slate-500">{format!("{} techniques", s.technique_count)}</span>
                                            <p class="text-xs text-slate-500">{format!("{} · {}", s.created_by_name.clone().unwrap_or_default(), s.updated_at.format("%Y-%m-%d %H:%M"))}</p>
                                        </div>
                                        {may_manage.then(|| view! {
                                            <button type="button" class=SECONDARY_BUTTON
                                                on:click=move |_| { delete.dispatch(DeleteTechniqueSet { id: id.clone() }); }>
                                                "Delete"
                                            </button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Transition>
            {may_manage.then(|| view! {
                <form id="layer-import" class="mt-4 flex flex-wrap items-end gap-2" on:submit=import>
                    <div>
                        <label for="layer-file" class="text-xs text-slate-600">"Navigator layer (.json)"</label>
                        <input id="layer-file" type="file" accept=".json,application/json" class=INPUT_CLASS />
                    </div>
                    <div>
                        <label for="layer-name" class="text-xs text-slate-600">"Set name (default: the layer's name)"</label>
                        <input id="layer-name" class=INPUT_CLASS
                            on:input=move |ev| name.set(event_target_value(&ev)) prop:value=move || name.get() />
                    </div>
                    <button type="submit" class=PRIMARY_BUTTON disabled=move || busy.get()>
                        {move || if busy.get() { "Importing…" } else { "Import layer" }}
                    </button>
                </form>
            })}
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod layer_upload {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{File, XmlHttpRequest};

    /// Sends the layer file as the JSON body; the server's `{"detail", "fields"}` becomes the
    /// message on failure.
    pub fn start(
        url: &str,
        file: &File,
        error: RwSignal<Option<String>>,
        busy: RwSignal<bool>,
        changed: RwSignal<u32>,
    ) -> Result<(), wasm_bindgen::JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        xhr.set_request_header("Content-Type", "application/json")?;
        let done = xhr.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            busy.set(false);
            let status = done.status().unwrap_or(0);
            let body = done
                .response_text()
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
            if status == 200 || status == 201 {
                let skipped = body
                    .as_ref()
                    .and_then(|b| b.get("skipped")?.as_array().map(Vec::len))
                    .unwrap_or(0);
                let unknown = body
                    .as_ref()
                    .and_then(|b| b.get("unknown_techniques")?.as_array().map(Vec::len))
                    .unwrap_or(0);
                error.set((skipped + unknown > 0).then(|| {
                    format!(
                        "Imported; {skipped} entries skipped, {unknown} techniques unknown to Aegis (kept)"
                    )
                }));
                changed.update(|n| *n += 1);
            } else {
                let detail = crate::components::evidence::upload::detail(&done);
                error.set(Some(detail));
            }
        });
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
        let on_error = Closure::<dyn FnMut()>::new(move || {
            busy.set(false);
            error.set(Some("The import failed: the connection was lost".into()));
        });
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(file))?;
        on_load.forget();
        on_error.forget();
        Ok(())
    }
}
