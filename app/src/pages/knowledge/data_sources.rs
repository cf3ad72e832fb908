//! The Data sources page (DeTT&CT-style): ATT&CK's data components, which the team collects
//! and how well; each technique's visibility follows, the matrix can colour by it and the
//! scores weight it. The blue team and admins change it.
use crate::api::scoring::{SaveDataSource, data_sources_page};
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, SECONDARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, PageError};
use crate::domain::visibility::DataQuality;
use crate::dto::scoring::{DataComponentDto, DataSourceQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DataSourcesPage() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveDataSource>::new();
    let error = action_error(save.value());
    let current = move || {
        let q = query.read();
        DataSourceQuery {
            search: q.get("search").filter(|s| !s.is_empty()),
            collected: q.get("collected").and_then(|c| match c.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            }),
        }
    };
    let page = Resource::new(
        move || (current(), save.version().get()),
        |(query, _)| data_sources_page(query),
    );
    view! {
        <Title text="Data sources" />
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">"Data sources"</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">
                    "ATT&CK's data components: mark the ones your team collects and how good the data is. A technique's visibility is the share of its data components collected (weighted by quality); the matrix can colour by it and the scores weight it."
                </p>
            </div>
            <Form method="GET" action="/data-sources" attr:id="data-source-filters" attr:class="flex items-end gap-2">
                <div>
                    <label for="ds-search" class=LABEL_CLASS>"Search"</label>
                    <input id="ds-search" name="search" class=INPUT_CLASS prop:value=move || query.read().get("search").unwrap_or_default() />
                </div>
                <div>
                    <label for="ds-collected" class=LABEL_CLASS>"Collected"</label>
                    <select id="ds-collected" name="collected" class=INPUT_CLASS>
                        <option value="">"All"</option>
                        <option value="yes" selected=move || query.read().get("collected").as_deref() == Some("yes")>"Collected"</option>
                        <option value="no" selected=move || query.read().get("collected").as_deref() == Some("no")>"Not collected"</option>
                    </select>
                </div>
                <button type="submit" class=SECONDARY_BUTTON>"Filter"</button>
            </Form>
        </div>
        <div class="mt-3"><ErrorAlert error /></div>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((inventory, can_edit)) => view! {
                        <p id="visibility-summary" class="mt-4 text-sm text-slate-700" data-collected=inventory.collected data-mean=inventory.mean_visibility>
                            {format!(
                                "{} of {} data components collected · mean visibility {:.1}% over {} techniques with known data components",
                                inventory.collected,
                                inventory.items.len(),
                                inventory.mean_visibility,
                                inventory.techniques_with_components
                            )}
                        </p>
                        {inventory.items.is_empty().then(|| view! {
                            <p id="data-sources-empty" class="mt-6 text-sm text-slate-500">"No data component: import the ATT&CK bundle from the System panel."</p>
                        })}
                        <table id="data-components" class="mt-4 min-w-full divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
                            <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                <tr>
                                    <th class="px-3 py-2">"Data component"</th>
                                    <th class="px-3 py-2">"Techniques"</th>
                                    <th class="px-3 py-2">"Collected, quality, notes"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {inventory.items.into_iter().map(|c| view! { <Row component=c can_edit save /> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Row(
    component: DataComponentDto,
    can_edit: bool,
    save: ServerAction<SaveDataSource>,
) -> impl IntoView {
    let c = component;
    let form_id = format!("ds-{}", c.mitre_id);
    view! {
        <tr class="data-component" data-component=c.mitre_id.clone() data-collected=c.collected.to_string()>
            <td class="px-3 py-2 align-top">
                <p class="font-medium">
                    <span class="font-mono text-xs text-slate-500">{c.mitre_id.clone()}</span>{format!(" {}", c.name)}
                    {c.deprecated.then(|| view! { <span class="ml-1 rounded bg-slate-100 px-1 text-xs text-slate-500">"deprecated"</span> })}
                </p>
                {(!c.data_source.is_empty()).then(|| view! { <p class="text-xs text-slate-500">{c.data_source.clone()}</p> })}
                <p class="mt-1 line-clamp-2 max-w-xl text-xs text-slate-600">{c.description.clone()}</p>
            </td>
            <td class="px-3 py-2 align-top font-mono">{c.techniques}</td>
            <td class="px-3 py-2 align-top">
                {if can_edit {
                    view! {
                        <ActionForm action=save attr:id=form_id attr:class="flex flex-wrap items-center gap-2">
                            <input type="hidden" name="id" value=c.id.to_string() />
                            <label class="flex items-center gap-1">
                                <input type="checkbox" name="collected" value="on" class="ds-collected h-4 w-4" checked=c.collected />
                                "Collected"
                            </label>
                            <select name="quality" class="ds-quality rounded-md border border-slate-300 px-2 py-1 text-sm" aria-label="Quality">
                                {DataQuality::ALL.into_iter().map(|q| view! { <option value=q.as_str() selected=q == c.quality>{q.label()}</option> }).collect_view()}
                            </select>
                            <input name="notes" maxlength="2000" placeholder="Notes (source, retention…)" class="ds-notes min-w-48 flex-1 rounded-md border border-slate-300 px-2 py-1 text-sm" value=c.notes.clone() />
                            <button type="submit" class="ds-save rounded-md border border-slate-300 px-2 py-1 text-xs">"Save"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <span class="text-sm">{if c.collected { format!("Collected ({})", c.quality.label()) } else { "Not collected".to_owned() }}</span>
                        {(!c.notes.is_empty()).then(|| view! { <p class="text-xs text-slate-500">{c.notes.clone()}</p> })}
                    }.into_any()
                }}
                {c.updated_by.clone().map(|by| view! { <p class="mt-1 text-[11px] text-slate-400">{format!("by {by}{}", c.updated_at.map(|t| t.format(" on %Y-%m-%d").to_string()).unwrap_or_default())}</p> })}
            </td>
        </tr>
    }
}
