//! The System panel's D3FEND card: import the ontology from its configured URL or an uploaded
//! Turtle file, followed live like any job, with the history of imports.
use super::system::{ImportHistory, upload_handler};
use crate::api::jobs::upload_d3fend;
use crate::components::feedback::{INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON};
use crate::dto::jobs::{EnqueuedJob, JobName, JobRunDto};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::web_sys::FormData;

#[component]
pub fn D3fendImportCard(
    watched: RwSignal<Option<JobRunDto>>,
    error: RwSignal<Option<AppError>>,
    refresh: RwSignal<u32>,
    run: Action<JobName, Result<EnqueuedJob, AppError>>,
    busy: Signal<bool>,
) -> impl IntoView {
    let upload = Action::new_local(|data: &FormData| upload_d3fend(data.clone().into()));
    let on_submit = upload_handler(upload, watched, error, refresh);
    view! {
        <div id="d3fend-import" class="mt-6 border-t border-slate-100 pt-4">
            <h3 class="font-semibold">"MITRE D3FEND"</h3>
            <p class="mt-1 text-sm text-slate-600">
                "D3FEND's defensive techniques (MIT licence) and the countermeasures of each ATT&CK technique, derived from the ontology: "
                "an ATT&CK technique and a countermeasure meet through the digital artifact one acts on and the other defends. "
                "Import from the configured URL, or upload the ontology (d3fend-protege.ttl or d3fend.ttl). Re-imports replace what changed."
            </p>
            <div class="mt-3 flex flex-wrap items-end gap-4">
                <button id="d3fend-url" type="button" class=PRIMARY_BUTTON disabled=move || busy.get()
                    on:click=move |_| { run.dispatch(JobName::D3fendImport); }>
                    "Import from D3FEND"
                </button>
                <form id="d3fend-upload-form" class="flex flex-wrap items-end gap-2" on:submit=on_submit>
                    <div>
                        <label for="d3fend-file" class=LABEL_CLASS>"Ontology (Turtle)"</label>
                        <input id="d3fend-file" name="file" type="file" accept=".ttl,text/turtle" required class=INPUT_CLASS />
                    </div>
                    <button id="d3fend-upload" type="submit" class=PRIMARY_BUTTON disabled=move || busy.get() || upload.pending().get()>
                        {move || if upload.pending().get() { "Uploading…" } else { "Upload and import" }}
                    </button>
                </form>
            </div>
            <ImportHistory job=JobName::D3fendImport slug="d3fend" refresh />
        </div>
    }
}
