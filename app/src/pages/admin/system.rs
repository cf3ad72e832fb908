//! The System panel: background jobs (schedules, run now, live progress), offline ATT&CK
//! import and the history of syncs and imports.
use crate::api::catalog::{SetGtfobinsMapping, gtfobins_mapping, template_stats};
use crate::api::jobs::{job_history, job_run, load_scheduler_status, run_job, upload_catalog};
use crate::api::knowledge::{import_attack_bundle, sync_runs};
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::components::layout::{Loading, PageError, RequirePermission};
use crate::domain::rbac::Permission;
use crate::domain::sources::CatalogImport;
use crate::dto::d3fend::D3fendImportReport;
use crate::dto::intel::IntelScanReport;
use crate::dto::jobs::{EnqueuedJob, JobName, JobRunDto, ScheduledJobStatus};
use crate::dto::knowledge::{ImportReport, SyncRunDto};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{FormData, HtmlFormElement, SubmitEvent};
use leptos_meta::Title;
use std::time::Duration;
use uuid::Uuid;

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
    // Bumped when a job run ends, so the history shows what it did.
    let refresh = RwSignal::new(0u32);
    let runs = Resource::new(
        move || (import.version().get(), refresh.get()),
        |_| sync_runs(),
    );
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
        <JobsSection refresh />
        <TemplateCatalogSection refresh />
        <super::webhooks::WebhooksPanel />
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

/// The template catalog at a glance, with the ways to manage it.
#[component]
fn TemplateCatalogSection(refresh: RwSignal<u32>) -> impl IntoView {
    let stats = Resource::new(move || refresh.get(), |_| template_stats());
    view! {
        <section id="template-catalog-admin" class="mb-8 rounded-lg border border-slate-200 bg-white p-6">
            <div class="flex flex-wrap items-start justify-between gap-4">
                <div>
                    <h2 class="text-lg font-semibold">"Test template catalog"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "Create custom templates, edit or deactivate any template from its page; imports keep your edits to local fields."
                    </p>
                </div>
                <div class="flex gap-2">
                    <a id="catalog-admin-browse" href="/catalog?include_inactive=true" class=SECONDARY_BUTTON>"Manage templates"</a>
                    <a id="catalog-admin-new" href="/catalog/new" class=PRIMARY_BUTTON>"New custom template"</a>
                </div>
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Ok(stats) => {
                            let counts = |map: &std::collections::BTreeMap<String, u64>| {
                                map.iter().map(|(k, v)| format!("{} {v}", k.replace('_', " "))).collect::<Vec<_>>().join(" · ")
                            };
                            view! {
                                <dl id="template-stats" class="mt-4 grid gap-3 text-sm md:grid-cols-3">
                                    <div><dt class="text-xs uppercase text-slate-500">"Templates"</dt>
                                        <dd data-stat="total">{format!("{} ({} active)", stats.total, stats.active)}</dd></div>
                                    <div><dt class="text-xs uppercase text-slate-500">"Techniques with a template"</dt>
                                        <dd data-stat="techniques">{stats.techniques_with_templates}</dd></div>
                                    <div><dt class="text-xs uppercase text-slate-500">"For unknown techniques"</dt>
                                        <dd>{stats.unknown_technique_templates}</dd></div>
                                    <div><dt class="text-xs uppercase text-slate-500">"By source"</dt><dd data-stat="sources">{counts(&stats.by_source)}</dd></div>
                                    <div><dt class="text-xs uppercase text-slate-500">"By severity"</dt><dd>{counts(&stats.by_severity)}</dd></div>
                                    <div><dt class="text-xs uppercase text-slate-500">"By platform"</dt><dd>{counts(&stats.by_platform)}</dd></div>
                                </dl>
                            }.into_any()
                        }
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// How often a running job's progress is fetched.
const POLL_EVERY: Duration = Duration::from_millis(700);

/// Follows one run until it ends: fetches it, shows it, and asks again shortly while it is
/// queued, running or retrying.
pub(super) fn follow(
    id: Uuid,
    watched: RwSignal<Option<JobRunDto>>,
    error: RwSignal<Option<AppError>>,
    refresh: RwSignal<u32>,
) {
    leptos::task::spawn_local(async move {
        match job_run(id).await {
            Ok(run) => {
                let finished = run.is_finished();
                watched.set(Some(run));
                if finished {
                    refresh.update(|n| *n += 1);
                } else {
                    set_timeout(move || follow(id, watched, error, refresh), POLL_EVERY);
                }
            }
            Err(err) => error.set(Some(err)),
        }
    });
}

#[component]
fn JobsSection(refresh: RwSignal<u32>) -> impl IntoView {
    let status = Resource::new(move || refresh.get(), |_| load_scheduler_status());
    let run = Action::new(|job: &JobName| run_job(*job));
    let watched = RwSignal::new(None::<JobRunDto>);
    let error = RwSignal::new(None::<AppError>);
    let busy = move || {
        run.pending().get() || watched.with(|w| w.as_ref().is_some_and(|r| !r.is_finished()))
    };
    Effect::new(move |_| match run.value().get() {
        Some(Ok(enqueued)) => {
            error.set(None);
            follow(enqueued.job_id, watched, error, refresh);
        }
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    // A run already under way when the page opens (a scheduled sync, another admin's) is
    // followed too.
    Effect::new(move |_| {
        if let Some(Ok(status)) = status.get()
            && watched.with_untracked(Option::is_none)
            && let Some(running) = status.jobs.iter().find(|j| j.running)
            && let Some(last) = &running.last_run
        {
            follow(last.id, watched, error, refresh);
        }
    });
    let error_signal = Signal::derive(move || error.get());
    view! {
        <section id="jobs" class="mb-8 rounded-lg border border-slate-200 bg-white p-6">
            <div class="flex flex-wrap items-start justify-between gap-4">
                <div>
                    <h2 class="text-lg font-semibold">"ATT&CK sync and scheduled jobs"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "Aegis fetches ATT&CK Enterprise from MITRE's TAXII server (or the GitHub bundle when TAXII fails) on schedule. "
                        "Run any job now to see it live."
                    </p>
                </div>
                <button
                    id="sync-now"
                    type="button"
                    class=PRIMARY_BUTTON
                    disabled=busy
                    on:click=move |_| { run.dispatch(JobName::MitreSync); }
                >
                    {move || if busy() { "Working…" } else { "Sync ATT&CK now" }}
                </button>
            </div>
            <div class="mt-4"><ErrorAlert error=error_signal /></div>
            <div id="job-run">{move || watched.get().map(|run| view! { <RunProgress run /> })}</div>
            {CatalogImport::ALL.map(|source| view! { <CatalogImportCard source watched error refresh run busy=Signal::derive(busy) /> }).collect_view()}
            <super::d3fend_import::D3fendImportCard watched error refresh run busy=Signal::derive(busy) />
            <super::compliance_import::ComplianceImportCard watched error refresh busy=Signal::derive(busy) />
            <super::intel_feeds::IntelFeeds refresh run busy=Signal::derive(busy) />
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(status) => view! { <Schedules jobs=status.jobs run busy=Signal::derive(busy) /> }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

pub(super) fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

pub(super) fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" => "bg-emerald-100 text-emerald-800",
        "failed" => "bg-red-100 text-red-800",
        "retrying" => "bg-amber-100 text-amber-800",
        _ => "bg-sky-100 text-sky-800",
    }
}

#[component]
fn Schedules(
    jobs: Vec<ScheduledJobStatus>,
    run: Action<JobName, Result<crate::dto::jobs::EnqueuedJob, AppError>>,
    busy: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="mt-4 overflow-x-auto">
            <table id="schedules" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th class="px-4 py-2">"Job"</th>
                        <th class="px-4 py-2">"Schedule"</th>
                        <th class="px-4 py-2">"Next run"</th>
                        <th class="px-4 py-2">"Last run"</th>
                        <th class="px-4 py-2"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 align-top">
                    {jobs.into_iter().map(|job| {
                        let name = job.job;
                        let last = job.last_run.clone();
                        view! {
                            <tr data-job=name.as_str()>
                                <td class="px-4 py-2">
                                    <p class="font-mono text-xs font-semibold">{name.as_str()}</p>
                                    <p class="text-xs text-slate-500">{job.description.clone()}</p>
                                </td>
                                <td class="px-4 py-2 font-mono text-xs">{job.schedule.clone().unwrap_or_else(|| if name.on_demand() { "on demand".into() } else { "disabled".into() })}</td>
                                <td class="whitespace-nowrap px-4 py-2 text-xs">{when(job.next_run)}</td>
                                <td class="px-4 py-2 text-xs">
                                    {match last {
                                        Some(last) => view! {
                                            <span class=format!("rounded px-1.5 py-0.5 font-medium {}", status_class(&last.status))>{last.status.clone()}</span>
                                            <span class="ml-2 whitespace-nowrap">{when(last.finished_at.or(last.started_at).or(Some(last.enqueued_at)))}</span>
                                            <span class="ml-1 text-slate-500">{format!("({})", last.trigger)}</span>
                                        }.into_any(),
                                        None => view! { <span class="text-slate-500">"never"</span> }.into_any(),
                                    }}
                                </td>
                                <td class="px-4 py-2 text-right">
                                    <button
                                        type="button"
                                        class="run-job rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 disabled:opacity-50"
                                        data-job=name.as_str()
                                        disabled=move || busy.get()
                                        on:click=move |_| { run.dispatch(name); }
                                    >
                                        "Run now"
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One run as it goes: stage and progress while it works, what it did or why it failed after.
#[component]
fn RunProgress(run: JobRunDto) -> impl IntoView {
    let percent = run
        .progress
        .as_ref()
        .filter(|p| p.total > 0)
        .map(|p| (p.done * 100 / p.total).min(100));
    let stage = run.progress.as_ref().map(|p| {
        let counts = if p.total > 0 {
            format!(" ({}/{})", p.done, p.total)
        } else {
            String::new()
        };
        format!("{}{counts}", p.stage)
    });
    let message = run.progress.as_ref().and_then(|p| p.message.clone());
    let outcome = match (run.status.as_str(), &run.result) {
        ("succeeded", Some(result)) => Some(outcome_text(&run.job, result)),
        _ => None,
    };
    let finished = run.is_finished();
    view! {
        <div id="job-progress" role="status" data-status=run.status.clone() class="mt-4 rounded-md border border-slate-200 bg-slate-50 p-4 text-sm">
            <p class="flex flex-wrap items-center gap-2">
                <span class="font-mono text-xs font-semibold">{run.job.clone()}</span>
                <span class=format!("rounded px-1.5 py-0.5 text-xs font-medium {}", status_class(&run.status))>{run.status.clone()}</span>
                <span class="text-xs text-slate-500">{format!("attempt {} of {}", run.attempts.max(1), run.max_attempts)}</span>
            </p>
            {(!finished).then(|| view! {
                <div class="mt-2 h-2 w-full overflow-hidden rounded bg-slate-200">
                    {match percent {
                        Some(p) => view! { <div class="h-2 rounded bg-indigo-500 transition-all" style=format!("width: {p}%")></div> }.into_any(),
                        None => view! { <div class="h-2 w-1/3 animate-pulse rounded bg-indigo-500"></div> }.into_any(),
                    }}
                </div>
            })}
            {stage.map(|s| view! { <p id="job-stage" class="mt-1 text-slate-700">{s}</p> })}
            {message.map(|m| view! { <p class="mt-1 text-xs text-slate-500">{m}</p> })}
            {outcome.map(|text| view! { <p id="job-outcome" class="mt-2 text-emerald-800">{text}</p> })}
            {run.error.clone().map(|e| view! { <p id="job-error" class="mt-2 text-red-800">{e}</p> })}
        </div>
    }
}

/// GTFOBins names no ATT&CK technique: Aegis maps each function by its table, and an admin may
/// set the installation's own techniques per function (applied by the next import).
#[component]
fn GtfobinsMapping() -> impl IntoView {
    let save = ServerAction::<SetGtfobinsMapping>::new();
    let error = Signal::derive(move || match save.value().get() {
        Some(Err(err)) => Some(err),
        _ => None,
    });
    let mapping = Resource::new(move || save.version().get(), |_| gtfobins_mapping());
    view! {
        <details id="gtfobins-mapping" class="mt-4 text-sm">
            <summary class="cursor-pointer font-semibold">"ATT&CK techniques per GTFOBins function"</summary>
            <p class="mt-1 text-slate-600">
                "The table's techniques are refined by each example's code and context (sudo, SUID, capabilities lead). "
                "Your own techniques replace the table's for a function; leave blank for the table's. The next import applies them."
            </p>
            <ErrorAlert error />
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match mapping.await {
                        Ok(functions) => view! {
                            <table class="mt-2 min-w-full divide-y divide-slate-200">
                                <thead><tr class="text-left text-xs text-slate-500">
                                    <th class="px-2 py-1">"Function"</th><th class="px-2 py-1">"Aegis's table"</th><th class="px-2 py-1">"Your techniques"</th>
                                </tr></thead>
                                <tbody class="divide-y divide-slate-100">
                                    {functions.into_iter().map(|f| {
                                        let function = f.function.clone();
                                        let local = f.local.join(", ");
                                        let aria = format!("Techniques for {}", f.label);
                                        view! {
                                        <tr data-function=f.function.clone()>
                                            <td class="px-2 py-1">{f.label.clone()}</td>
                                            <td class="px-2 py-1 font-mono text-xs">{f.defaults.join(", ")}</td>
                                            <td class="px-2 py-1">
                                                <ActionForm action=save attr:class="flex gap-2">
                                                    <input type="hidden" name="function" value=function />
                                                    <input name="techniques" value=local placeholder="T1552.001" aria-label=aria class=INPUT_CLASS />
                                                    <button type="submit" class=SECONDARY_BUTTON>"Save"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </details>
    }
}

/// An upload form's action: the form's data is sent on submit, and the import job it
/// enqueues is followed live like any run (its error shown otherwise).
pub(super) fn upload_handler(
    upload: Action<FormData, Result<EnqueuedJob, AppError>>,
    watched: RwSignal<Option<JobRunDto>>,
    error: RwSignal<Option<AppError>>,
    refresh: RwSignal<u32>,
) -> impl Fn(SubmitEvent) + Clone + 'static {
    Effect::new(move |_| match upload.value().get() {
        Some(Ok(enqueued)) => {
            error.set(None);
            follow(enqueued.job_id, watched, error, refresh);
        }
        Some(Err(err)) => error.set(Some(err)),
        None => {}
    });
    move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        if let Ok(data) = FormData::new_with_form(&form) {
            upload.dispatch_local(data);
        }
    }
}

/// What the System panel says of a catalog source's import.
fn import_help(source: CatalogImport) -> &'static str {
    match source {
        CatalogImport::AtomicRedTeam => {
            "Import the test catalog from the project's GitHub archive, or upload a zip or a folder: the repository, its atomics folder or one technique's folder. "
        }
        CatalogImport::Caldera => {
            "Abilities and adversary profiles of CALDERA's Stockpile plugin (Apache-2.0): the repository, or its data folder. Each adversary profile becomes a technique set. "
        }
        CatalogImport::Lolbas => {
            "Windows living-off-the-land binaries, scripts and libraries (GPL-3.0): the repository, or its yml folder. One template per command. "
        }
        CatalogImport::Gtfobins => {
            "Unix binaries that get around local security restrictions (GPL-3.0): the repository (its _gtfobins and _data folders). One template per example and context, mapped to ATT&CK by Aegis's GTFOBins table. "
        }
        CatalogImport::Sigma => {
            "SigmaHQ detection rules (Detection Rule License 1.1): the repository or a rules folder. One detection rule per rule file, mapped by its attack.t* tags; your notes and active flags are kept. "
        }
        CatalogImport::ElasticRules => {
            "Elastic's detection rules (Elastic License 2.0): the repository or its rules folder. One detection rule per TOML file, mapped by its [[rule.threat]] blocks; your notes and active flags are kept. "
        }
    }
}

/// A catalog source into the catalog: from the project's archive, an uploaded zip or a
/// folder, followed live like any job, with the history of imports.
#[component]
fn CatalogImportCard(
    source: CatalogImport,
    watched: RwSignal<Option<JobRunDto>>,
    error: RwSignal<Option<AppError>>,
    refresh: RwSignal<u32>,
    run: Action<JobName, Result<crate::dto::jobs::EnqueuedJob, AppError>>,
    busy: Signal<bool>,
) -> impl IntoView {
    let upload = Action::new_local(|data: &FormData| upload_catalog(data.clone().into()));
    let job = JobName::importing(source);
    let slug = source.slug();
    let id = move |suffix: &str| format!("{slug}-{suffix}");
    let wire = serde_json::to_value(source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let on_submit = upload_handler(upload, watched, error, refresh);
    let on_folder = move |ev: SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        match folder_form_data(&ev, source) {
            Ok(data) => {
                upload.dispatch_local(data);
            }
            Err(message) => error.set(Some(AppError::field("files", message))),
        }
    };
    view! {
        <div id=id("import") class="mt-6 border-t border-slate-100 pt-4">
            <h3 class="font-semibold">{source.label()}</h3>
            <p class="mt-1 text-sm text-slate-600">
                {import_help(source)}
                "Re-imports update what changed upstream and keep your edits to local fields."
            </p>
            <div class="mt-3 flex flex-wrap items-end gap-4">
                <button id=id("archive") type="button" class=PRIMARY_BUTTON disabled=move || busy.get()
                    on:click=move |_| { run.dispatch(job); }>
                    "Import from GitHub"
                </button>
                <form id=id("upload-form") class="flex flex-wrap items-end gap-2" on:submit=on_submit>
                    <input type="hidden" name="source" value=wire.clone() />
                    <div>
                        <label for=id("file") class=LABEL_CLASS>"Zip archive"</label>
                        <input id=id("file") name="file" type="file" accept=".zip,application/zip" required class=INPUT_CLASS />
                    </div>
                    <button id=id("upload") type="submit" class=PRIMARY_BUTTON disabled=move || busy.get() || upload.pending().get()>
                        {move || if upload.pending().get() { "Uploading…" } else { "Upload and import" }}
                    </button>
                </form>
                <form id=id("folder-form") class="flex flex-wrap items-end gap-2" on:submit=on_folder>
                    <div>
                        <label for=id("folder") class=LABEL_CLASS>"Folder"</label>
                        <input id=id("folder") type="file" prop:webkitdirectory=true multiple=true required class=INPUT_CLASS />
                    </div>
                    <button id=id("folder-upload") type="submit" class=SECONDARY_BUTTON disabled=move || busy.get() || upload.pending().get()>
                        "Upload folder and import"
                    </button>
                </form>
            </div>
            {(source == CatalogImport::Gtfobins).then(|| view! { <GtfobinsMapping /> })}
            <ImportHistory job slug refresh />
        </div>
    }
}

/// The latest runs of an import job, with what each did or why it failed.
#[component]
pub(super) fn ImportHistory(
    job: JobName,
    slug: &'static str,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let id = move |suffix: &str| format!("{slug}-{suffix}");
    let history = Resource::new(move || refresh.get(), move |_| job_history(job));
    view! {
        <h4 class="mb-2 mt-4 text-sm font-semibold">"Import history"</h4>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(runs) if runs.is_empty() => view! { <p class="text-sm text-slate-500">"No import yet."</p> }.into_any(),
                    Ok(runs) => view! {
                        <table id=id("history") class="min-w-full divide-y divide-slate-200 text-sm">
                            <tbody class="divide-y divide-slate-100">
                                {runs.into_iter().map(|r| {
                                    let text = match (&r.result, &r.error) {
                                        (Some(result), _) if r.status == "succeeded" => outcome_text(&r.job, result),
                                        (_, Some(error)) => error.clone(),
                                        _ => String::new(),
                                    };
                                    view! {
                                        <tr data-status=r.status.clone()>
                                            <td class="whitespace-nowrap px-2 py-1 text-xs">{when(Some(r.enqueued_at))}</td>
                                            <td class="px-2 py-1"><span class=format!("rounded px-1.5 py-0.5 text-xs font-medium {}", status_class(&r.status))>{r.status.clone()}</span></td>
                                            <td class="px-2 py-1 text-xs">{r.requested_by.clone().unwrap_or_default()}</td>
                                            <td class="px-2 py-1 text-xs">{text}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The picked folder's files of `source` as a multipart form: the `source` part, then each of
/// its files (`CatalogImport::entry`) as a `files` part named by its path in the folder.
/// Nothing else is sent: repositories also hold payloads and binaries the import never reads.
#[cfg(feature = "hydrate")]
fn folder_form_data(ev: &SubmitEvent, source: CatalogImport) -> Result<FormData, String> {
    use web_sys::js_sys::Reflect;
    let files = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        .and_then(|form| form.query_selector("input[type=file]").ok().flatten())
        .and_then(|input| input.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .filter(|files| files.length() > 0)
        .ok_or("Choose a folder first")?;
    let data = FormData::new().map_err(|_| "This browser cannot send the folder")?;
    let wire = serde_json::to_value(source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    data.append_with_str("source", &wire)
        .map_err(|_| "This browser cannot send the folder")?;
    let mut found = 0;
    for file in (0..files.length()).filter_map(|i| files.get(i)) {
        let path = Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| file.name());
        if source.entry(&path).is_none() {
            continue;
        }
        data.append_with_blob_and_filename("files", &file, &path)
            .map_err(|_| format!("{path} could not be added to the upload"))?;
        found += 1;
    }
    if found == 0 {
        return Err(format!(
            "The folder holds no {} files ({})",
            source.label(),
            source.files()
        ));
    }
    Ok(data)
}

fn outcome_text(job: &str, result: &serde_json::Value) -> String {
    if job == JobName::IntelScan.as_str()
        && let Ok(report) = serde_json::from_value::<IntelScanReport>(result.clone())
    {
        let failed = report.feeds.iter().filter(|f| f.status == "error").count();
        return format!(
            "Scanned {} feeds: {} new items, {} failed; {} techniques need attention",
            report.feeds.len(),
            report.new_items,
            failed,
            report.flagged_techniques.len()
        );
    }
    if job == JobName::D3fendImport.as_str()
        && let Ok(r) = serde_json::from_value::<D3fendImportReport>(result["report"].clone())
    {
        let techniques = r.techniques_added + r.techniques_updated + r.techniques_unchanged;
        let countermeasures =
            r.countermeasures_added + r.countermeasures_updated + r.countermeasures_unchanged;
        return format!(
            "Imported from {}: {techniques} D3FEND techniques ({} added, {} updated, {} removed); {countermeasures} countermeasures ({} added, {} updated, {} removed) for {} ATT&CK techniques",
            r.source,
            r.techniques_added,
            r.techniques_updated,
            r.techniques_removed,
            r.countermeasures_added,
            r.countermeasures_updated,
            r.countermeasures_removed,
            r.attack_ids_countered
        );
    }
    if let Some(imported) = job.parse::<JobName>().ok().and_then(JobName::imports) {
        let source = result["source"].as_str().unwrap_or(imported.label());
        let r = &result["report"];
        let sets = match r.get("technique_sets") {
            Some(sets) if sets.is_object() => format!(
                "; technique sets: {} added, {} updated, {} unchanged",
                sets["added"], sets["updated"], sets["unchanged"]
            ),
            _ => String::new(),
        };
        let flagged = r["flagged"].as_array().map(Vec::len).unwrap_or(0);
        return format!(
            "Imported from {source}: {} added, {} updated, {} unchanged, {} files skipped, {} unknown techniques{}{sets}",
            r["added"],
            r["updated"],
            r["unchanged"],
            r["skipped"].as_array().map(Vec::len).unwrap_or(0),
            r["unknown_techniques"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0),
            if flagged > 0 {
                format!(", {flagged} flagged")
            } else {
                String::new()
            },
        );
    }
    if job == JobName::MitreSync.as_str() {
        let source = result["source"].as_str().unwrap_or("MITRE");
        return match serde_json::from_value::<ImportReport>(result["report"].clone()) {
            Ok(report) => format!("Synced from {source}: {}", summary_text(&report)),
            Err(_) => format!("Synced from {source}."),
        };
    }
    match result.as_object() {
        Some(fields) => fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    k.replace('_', " "),
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => "Done.".into(),
    }
}
