//! The System panel: offline ATT&CK import and the history of syncs and imports.
use crate::api::attack::{import_attack_bundle, sync_runs};
use crate::components::feedback::{ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON};
use crate::components::layout::{Loading, PageError, RequirePermission};
use crate::domain::rbac::Permission;
use crate::dto::attack::{ImportReport, SyncRunDto};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{FormData, HtmlFormElement, SubmitEvent};
use leptos_meta::Title;

#[component]
pub fn SystemPage() -> impl IntoView {
    view! {
        <Title text="System" />
        <RequirePermission permission=Permission::ManageSystem>
            <SystemPanel />
        </RequirePermission>
    }
}

#[component]
fn SystemPanel() -> impl IntoView {
    let import = Action::new_local(|data: &FormData| import_attack_bundle(data.clone().into()));
    let runs = Resource::new(move || import.version().get(), |_| sync_runs());
    let error = Signal::derive(move || {
        import
            .value()
            .get()
            .and_then(|r: Result<ImportReport, AppError>| r.err())
    });
    let report = Signal::derive(move || import.value().get().and_then(|r| r.ok()));
    // With JavaScript the upload stays on the page and reports back; without, the browser
    // posts the form and returns here.
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        if let Ok(data) = FormData::new_with_form(&form) {
            import.dispatch_local(data);
        }
    };
    view! {
        <div id="system-panel">
        <h1 class="mb-6 text-2xl font-semibold">"System"</h1>
        <section class="mb-8 max-w-2xl rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="text-lg font-semibold">"Import ATT&CK (offline)"</h2>
            <p class="mb-4 mt-1 text-sm text-slate-600">
                "Upload a STIX 2.0 or 2.1 bundle such as enterprise-attack.json. Existing data is updated in place; "
                "techniques whose content changed are flagged for review."
            </p>
            <div>
                <ErrorAlert error />
            </div>
            <form id="import-form" method="post" enctype="multipart/form-data" action="/api/fn/import_attack_bundle" on:submit=on_submit>
                <label for="import-file" class=LABEL_CLASS>"Bundle file"</label>
                <input id="import-file" name="file" type="file" accept=".json,application/json" required class=INPUT_CLASS />
                <button id="import-submit" type="submit" class=format!("{PRIMARY_BUTTON} mt-4") disabled=move || import.pending().get()>
                    {move || if import.pending().get() { "Importing…" } else { "Import" }}
                </button>
            </form>
            <div id="import-progress" role="status" class="mt-4 text-sm text-slate-600" class:hidden=move || !import.pending().get()>
                <div class="h-2 w-full overflow-hidden rounded bg-slate-100">
                    <div class="h-2 w-1/3 animate-pulse rounded bg-indigo-500"></div>
                </div>
                <p class="mt-1">"Importing… large bundles take a few seconds."</p>
            </div>
            <div id="import-outcome">{move || report.get().map(|r| view! { <ReportSummary report=r /> })}</div>
        </section>
        <section>
            <h2 class="mb-3 text-lg font-semibold">"Sync and import history"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(runs) => view! { <History runs /> }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        </div>
    }
}

fn summary_text(r: &ImportReport) -> String {
    format!(
        "{} techniques added, {} updated, {} unchanged, {} deprecated, {} revoked; {} tactics added; {} threat actors added, {} updated",
        r.techniques_added,
        r.techniques_updated,
        r.techniques_unchanged,
        r.techniques_deprecated,
        r.techniques_revoked,
        r.tactics_added,
        r.actors_added,
        r.actors_updated
    )
}

#[component]
fn ReportSummary(report: ImportReport) -> impl IntoView {
    view! {
        <div id="import-result" role="status" class="alert-success mt-4 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
            <p class="font-medium">"Import finished."</p>
            <p>{summary_text(&report)}</p>
            {(!report.changed.is_empty()).then(|| view! {
                <details class="mt-2">
                    <summary class="cursor-pointer">{format!("{} techniques flagged for review", report.changed.len())}</summary>
                    <ul class="mt-1 list-disc pl-5">
                        {report.changed.iter().map(|c| view! {
                            <li><a class="underline" href=format!("/techniques/{}", c.mitre_id)>{format!("{} {}", c.mitre_id, c.name)}</a>{format!(" ({})", c.fields.join(", "))}</li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
}

#[component]
fn History(runs: Vec<SyncRunDto>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="text-sm text-slate-500">"No sync or import has run yet."</p> }
            .into_any();
    }
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table id="sync-runs" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th class="px-4 py-2">"Started (UTC)"</th>
                        <th class="px-4 py-2">"Trigger"</th>
                        <th class="px-4 py-2">"Source"</th>
                        <th class="px-4 py-2">"Status"</th>
                        <th class="px-4 py-2">"Duration"</th>
                        <th class="px-4 py-2">"Result"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 align-top">
                    {runs.into_iter().map(|run| {
                        let duration = run.finished_at.map(|end| format!("{:.1} s", (end - run.started_at).num_milliseconds() as f64 / 1000.0)).unwrap_or_else(|| "running".into());
                        let result = match (&run.report, &run.error) {
                            (Some(report), _) => summary_text(report),
                            (None, Some(error)) => error.clone(),
                            (None, None) => String::new(),
                        };
                        let status_class = match run.status.as_str() {
                            "success" => "text-emerald-700",
                            "failed" => "text-red-700",
                            _ => "text-sky-700",
                        };
                        view! {
                            <tr data-status=run.status.clone()>
                                <td class="whitespace-nowrap px-4 py-2">{run.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                <td class="px-4 py-2">{format!("{} {}", run.trigger, run.triggered_by.clone().map(|u| format!("({u})")).unwrap_or_default())}</td>
                                <td class="px-4 py-2 font-mono text-xs">{run.source.clone()}</td>
                                <td class=format!("px-4 py-2 font-medium {status_class}")>{run.status.clone()}</td>
                                <td class="px-4 py-2">{duration}</td>
                                <td class="px-4 py-2 text-xs">{result}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
