//! The System panel's compliance card: upload a control framework's ATT&CK mapping (the
//! Center for Threat-Informed Defense's JSON: NIST SP 800-53, CSA CCM, …), followed live like
//! any job, with the history of imports.
use super::system::{ImportHistory, upload_handler};
use crate::api::jobs::upload_compliance;
use crate::components::feedback::{INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON};
use crate::dto::jobs::{JobName, JobRunDto};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::web_sys::FormData;

#[component]
pub fn ComplianceImportCard(
    watched: RwSignal<Option<JobRunDto>>,
    error: RwSignal<Option<AppError>>,
    refresh: RwSignal<u32>,
    busy: Signal<bool>,
) -> impl IntoView {
    let upload = Action::new_local(|data: &FormData| upload_compliance(data.clone().into()));
    let on_submit = upload_handler(upload, watched, error, refresh);
    view! {
        <div id="compliance-import" class="mt-6 border-t border-slate-100 pt-4">
            <h3 class="font-semibold">"Compliance frameworks"</h3>
            <p class="mt-1 text-sm text-slate-600">
                "A control framework's mapping onto ATT&CK in the Center for Threat-Informed Defense's JSON (Mappings Explorer: NIST SP 800-53 rev 5, CSA CCM 4.1, or any framework in the same schema). "
                "Importing the same framework and version again updates it; mappings to techniques ATT&CK has revoked move to their replacement."
            </p>
            <form id="compliance-upload-form" class="mt-3 flex flex-wrap items-end gap-2" on:submit=on_submit>
                <div>
                    <label for="compliance-file" class=LABEL_CLASS>"Mapping (JSON)"</label>
                    <input id="compliance-file" name="file" type="file" accept=".json,application/json" required class=INPUT_CLASS />
                </div>
                <button id="compliance-upload" type="submit" class=PRIMARY_BUTTON disabled=move || busy.get() || upload.pending().get()>
                    {move || if upload.pending().get() { "Uploading…" } else { "Upload and import" }}
                </button>
            </form>
            <ImportHistory job=JobName::ComplianceImport slug="compliance" refresh />
        </div>
    }
}
