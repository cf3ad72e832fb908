//! Evidence in the browser: the list with integrity-checked downloads, and an upload form
//! that streams the file with `XMLHttpRequest`, so the progress can be shown.
use crate::api::workflow::evidence_link;
use crate::components::feedback::{INPUT_CLASS, SECONDARY_BUTTON};
use crate::components::test_state::file_size;
use crate::domain::rbac::Team;
use crate::dto::workflow::EvidenceDto;
use leptos::prelude::*;
use uuid::Uuid;

#[component]
pub fn EvidenceList(items: Vec<EvidenceDto>, team: Team) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let download = move |id: Uuid| {
        leptos::task::spawn_local(async move {
            match evidence_link(id).await {
                Ok(link) => {
                    error.set(None);
                    #[cfg(feature = "hydrate")]
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign(&link.download_url);
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = link;
                }
                Err(err) => error.set(Some(err.detail())),
            }
        });
    };
    view! {
        <div class="evidence-list" data-team=team.as_str()>
            {move || error.get().map(|e| view! {
                <p role="alert" class="alert-error mb-2 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p>
            })}
            {if items.is_empty() {
                view! { <p class="text-sm text-slate-500">"No evidence yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100 rounded-md border border-slate-200">
                        {items.into_iter().map(|e| {
                            let id = e.id;
                            view! {
                                <li class="flex flex-wrap items-center justify-between gap-2 px-3 py-2 text-sm" data-evidence=e.filename.clone()>
                                    <div>
                                        <p class="font-medium">{e.filename.clone()}</p>
                                        <p class="text-xs text-slate-500">
                                            {format!("{} · {} · {} · {}", file_size(e.size_bytes), e.uploaded_by_name.clone().unwrap_or_default(), e.uploaded_at.format("%Y-%m-%d %H:%M"), e.description)}
                                        </p>
                                        <p class="font-mono text-[10px] text-slate-400" title="SHA-256">{e.sha256.clone()}</p>
                                    </div>
                                    <button type="button" class=SECONDARY_BUTTON on:click=move |_| download(id)>"Download"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

#[component]
pub fn EvidenceUpload(test_id: Uuid, team: Team, on_done: Callback<()>) -> impl IntoView {
    let progress = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let description = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let file = file_input
                .get()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0));
            let Some(file) = file else {
                error.set(Some("Choose a file first".into()));
                return;
            };
            let text = description.get().map(|d| d.value()).unwrap_or_default();
            error.set(None);
            progress.set(Some(0));
            let url = format!("/api/v1/tests/{test_id}/evidence");
            if let Err(e) = upload::start(&url, &file, team, &text, progress, error, on_done) {
                progress.set(None);
                error.set(Some(format!("Could not start the upload: {e:?}")));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (test_id, on_done, &file_input, &description);
    };
    let prefix = team.as_str();
    view! {
        <form class="evidence-upload mt-3 flex flex-wrap items-end gap-2" data-team=prefix on:submit=submit>
            <div>
                <label class="text-xs text-slate-600" for=format!("{prefix}-evidence-file")>"File"</label>
                <input id=format!("{prefix}-evidence-file") type="file" node_ref=file_input class="block text-sm" />
            </div>
            <div class="grow">
                <label class="text-xs text-slate-600" for=format!("{prefix}-evidence-description")>"Description"</label>
                <input id=format!("{prefix}-evidence-description") node_ref=description maxlength="2000" class=INPUT_CLASS />
            </div>
            <button type="submit" class=SECONDARY_BUTTON disabled=move || progress.get().is_some()>"Upload"</button>
            {move || progress.get().map(|p| view! {
                <div class="w-full" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=p.to_string()>
                    <div class="h-2 rounded bg-slate-200"><div class="h-2 rounded bg-indigo-600" style=format!("width: {p}%")></div></div>
                    <p class="text-xs text-slate-500">{format!("Uploading… {p}%")}</p>
                </div>
            })}
            {move || error.get().map(|e| view! {
                <p role="alert" class="alert-error w-full rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p>
            })}
        </form>
    }
}

#[cfg(feature = "hydrate")]
pub(crate) mod upload {
    use crate::domain::rbac::Team;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

    /// The server's `{"detail", "fields"}` of a failed request, as one message.
    pub fn detail(xhr: &XmlHttpRequest) -> String {
        let status = xhr.status().unwrap_or(0);
        xhr.response_text()
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|body| {
                let detail = body.get("detail")?.as_str()?.to_owned();
                let fields: Vec<String> = body
                    .get("fields")
                    .and_then(|f| f.as_object())
                    .map(|f| {
                        f.iter()
                            .filter_map(|(k, v)| Some(format!("{k}: {}", v.as_str()?)))
                            .collect()
                    })
                    .unwrap_or_default();
                Some(if fields.is_empty() {
                    detail
                } else {
                    format!("{detail} ({})", fields.join("; "))
                })
            })
            .unwrap_or_else(|| format!("The upload failed (HTTP {status})"))
    }

    pub fn start(
        url: &str,
        file: &File,
        team: Team,
        description: &str,
        progress: RwSignal<Option<u32>>,
        error: RwSignal<Option<String>>,
        on_done: Callback<()>,
    ) -> Result<(), wasm_bindgen::JsValue> {
        // Text parts first, so the server can refuse before it stores a byte.
        let form = FormData::new()?;
        form.append_with_str("team", team.as_str())?;
        form.append_with_str("description", description)?;
        form.append_with_blob_and_filename("file", file, &file.name())?;
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                progress.set(Some(((e.loaded() / e.total()) * 100.0).round() as u32));
            }
        });
        xhr.upload()?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        let done = xhr.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            progress.set(None);
            if done.status().unwrap_or(0) == 201 {
                error.set(None);
                on_done.run(());
            } else {
                error.set(Some(detail(&done)));
            }
        });
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
        let on_error = Closure::<dyn FnMut()>::new(move || {
            progress.set(None);
            error.set(Some("The upload failed: the connection was lost".into()));
        });
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        xhr.send_with_opt_form_data(Some(&form))?;
        // The request owns its handlers until it finishes; one upload at a time per form.
        on_progress.forget();
        on_load.forget();
        on_error.forget();
        Ok(())
    }
}
