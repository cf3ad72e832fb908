//! The Campaigns page: every campaign with its status, dates, what it emulates and a progress
//! bar, filtered by status in the URL; leads and admins plan a new one here.
pub mod detail;

use crate::api::campaigns::{CreateCampaign, campaign_sources, list_campaigns};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, PageError, signed_in};
use crate::components::links::urlencode;
use crate::components::paging::Pager;
use crate::domain::campaigns::CampaignStatus;
use crate::domain::rbac::Permission;
use crate::dto::campaigns::{CampaignQuery, CampaignSummary, StateCounts};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

const PAGE_SIZE: u64 = 25;

/// The badge classes of a status.
pub fn status_classes(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Planned => "bg-slate-100 text-slate-700",
        CampaignStatus::Active => "bg-sky-100 text-sky-800",
        CampaignStatus::Completed => "bg-emerald-100 text-emerald-800",
        CampaignStatus::Cancelled => "bg-red-50 text-red-700",
    }
}

#[component]
pub fn CampaignStatusBadge(status: CampaignStatus) -> impl IntoView {
    view! {
        <span class=format!("campaign-status rounded px-2 py-0.5 text-xs font-medium {}", status_classes(status))
            data-status=status.as_str()>{status.label()}</span>
    }
}

/// Finished tests (validated or rejected) out of all, as a bar.
#[component]
pub fn ProgressBar(counts: StateCounts) -> impl IntoView {
    let percent = (counts.finished * 100)
        .checked_div(counts.total)
        .unwrap_or(0);
    let validated = counts.by_state.get("validated").copied().unwrap_or(0);
    let validated_percent = (validated * 100).checked_div(counts.total).unwrap_or(0);
    view! {
        <div class="campaign-progress" data-finished=counts.finished data-total=counts.total>
            <div class="h-2 w-40 overflow-hidden rounded bg-slate-100" role="progressbar"
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent
                aria-label=format!("{} of {} tests finished", counts.finished, counts.total)>
                <div class="flex h-2">
                    <div class="h-2 bg-emerald-500" style=format!("width: {validated_percent}%")></div>
                    <div class="h-2 bg-slate-400" style=format!("width: {}%", percent - validated_percent)></div>
                </div>
            </div>
            <p class="mt-1 text-xs text-slate-500">{format!("{} of {} finished", counts.finished, counts.total)}</p>
        </div>
    }
}

fn dates(c: &CampaignSummary) -> String {
    match (c.start_date, c.end_date) {
        (Some(s), Some(e)) => format!("{s} – {e}"),
        (Some(s), None) => format!("from {s}"),
        (None, Some(e)) => format!("until {e}"),
        (None, None) => "no dates".into(),
    }
}

fn emulates(c: &CampaignSummary) -> String {
    let mut parts = Vec::new();
    for r in [&c.threat_actor, &c.attack_campaign].into_iter().flatten() {
        parts.push(match &r.mitre_id {
            Some(id) => format!("{id} {}", r.name),
            None => r.name.clone(),
        });
    }
    if let Some(set) = &c.technique_set {
        parts.push(format!("set “{}”", set.name));
    }
    parts.join(" · ")
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let current = move || CampaignQuery {
        status: param("status"),
        search: param("search"),
        offset: param("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
    };
    let page = Resource::new(current, list_campaigns);
    let may_plan = signed_in().is_some_and(|u| u.role.can(Permission::ManageCampaigns));
    view! {
        <Title text="Campaigns" />
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">"Campaigns"</h1>
                <p class="mt-1 text-sm text-slate-600">"Plans of tests that emulate a threat actor, one of ATT&CK's campaigns or a technique set."</p>
            </div>
            <Form method="GET" action="/campaigns" attr:class="flex items-end gap-2" attr:id="campaign-filters">
                <div>
                    <label for="campaign-status-filter" class=LABEL_CLASS>"Status"</label>
                    <select id="campaign-status-filter" name="status" class=INPUT_CLASS>
                        <option value="">"All"</option>
                        {CampaignStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || param("status").as_deref() == Some(s.as_str())>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="campaign-search" class=LABEL_CLASS>"Name"</label>
                    <input id="campaign-search" name="search" class=INPUT_CLASS prop:value=move || param("search").unwrap_or_default() />
                </div>
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-2 text-sm">"Filter"</button>
            </Form>
        </div>
        {may_plan.then(|| view! { <NewCampaign /> })}
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p id="campaigns-empty" class="mt-6 text-sm text-slate-500">"No campaign yet."</p>
                    }.into_any(),
                    Ok(page) => {
                        let (total, offset, shown) = (page.total, page.offset, page.items.len() as u64);
                        let filters: Vec<String> = ["status", "search"]
                            .iter()
                            .filter_map(|name| param(name).map(|v| format!("{name}={}", urlencode(&v))))
                            .collect();
                        view! {
                            <table id="campaign-list" class="mt-6 min-w-full divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
                                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                    <tr>
                                        <th class="px-3 py-2">"Campaign"</th>
                                        <th class="px-3 py-2">"Status"</th>
                                        <th class="px-3 py-2">"Dates"</th>
                                        <th class="px-3 py-2">"Owner"</th>
                                        <th class="px-3 py-2">"Progress"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {page.items.into_iter().map(|c| view! {
                                        <tr class="campaign-row" data-name=c.name.clone()>
                                            <td class="px-3 py-2">
                                                <a class="font-medium text-indigo-700 hover:underline" href=format!("/campaigns/{}", c.id)>{c.name.clone()}</a>
                                                <p class="text-xs text-slate-500">{emulates(&c)}</p>
                                                {c.recurrence.map(|_| view! { <p class="text-xs text-slate-500">"recurring"</p> })}
                                            </td>
                                            <td class="px-3 py-2"><CampaignStatusBadge status=c.status /></td>
                                            <td class="whitespace-nowrap px-3 py-2 text-xs">{dates(&c)}</td>
                                            <td class="px-3 py-2 text-xs">{c.owner_name.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="px-3 py-2"><ProgressBar counts=c.tests.clone() /></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager range_id="campaign-range" path="/campaigns" filters offset shown total page_size=PAGE_SIZE />
                        }.into_any()
                    }
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The plan-a-campaign form: name, objective, what it emulates, dates, status, recurrence.
#[component]
fn NewCampaign() -> impl IntoView {
    let create = ServerAction::<CreateCampaign>::new();
    let error = action_error(create.value());
    let sources = Resource::new(|| (), |_| campaign_sources());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(c)) = create.value().get() {
            navigate(&format!("/campaigns/{}", c.summary.id), Default::default());
        }
    });
    let every = RwSignal::new(String::new());
    view! {
        <details id="new-campaign" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <summary class="cursor-pointer font-medium text-indigo-700">"Plan a campaign"</summary>
            <div class="mt-3"><ErrorAlert error /></div>
            <ActionForm action=create attr:id="new-campaign-form" attr:class="mt-3 grid gap-3 md:grid-cols-2">
                <div>
                    <label for="campaign-name" class=LABEL_CLASS>"Name"</label>
                    <input id="campaign-name" name="name" required maxlength="200" class=INPUT_CLASS />
                    <FieldError error field="name" />
                </div>
                <div>
                    <label for="campaign-objective" class=LABEL_CLASS>"Objective"</label>
                    <input id="campaign-objective" name="objective" class=INPUT_CLASS />
                </div>
                <Transition fallback=|| view! { <Loading /> }>
                    {move || Suspend::new(async move {
                        let (actors, attack, sets) = sources.await.unwrap_or_default();
                        view! {
                            <div>
                                <label for="campaign-actor" class=LABEL_CLASS>"Threat actor"</label>
                                <select id="campaign-actor" name="threat_actor" class=INPUT_CLASS>
                                    <option value="">"— none —"</option>
                                    {actors.into_iter().map(|a| view! { <option value=a.mitre_id.clone()>{format!("{} {} ({} techniques)", a.mitre_id, a.name, a.technique_count)}</option> }).collect_view()}
                                </select>
                                <FieldError error field="threat_actor" />
                            </div>
                            <div>
                                <label for="campaign-attack" class=LABEL_CLASS>"ATT&CK campaign"</label>
                                <select id="campaign-attack" name="attack_campaign" class=INPUT_CLASS>
                                    <option value="">"— none —"</option>
                                    {attack.into_iter().map(|c| view! { <option value=c.mitre_id.clone()>{format!("{} {} ({} techniques)", c.mitre_id, c.name, c.techniques.len())}</option> }).collect_view()}
                                </select>
                            </div>
                            <div>
                                <label for="campaign-set" class=LABEL_CLASS>"Technique set"</label>
                                <select id="campaign-set" name="technique_set" class=INPUT_CLASS>
                                    <option value="">"— none —"</option>
                                    {sets.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                                </select>
                            </div>
                        }
                    })}
                </Transition>
                <div>
                    <label for="campaign-target" class=LABEL_CLASS>"Target environment"</label>
                    <input id="campaign-target" name="target_environment" class=INPUT_CLASS />
                </div>
                <div class="grid grid-cols-2 gap-2">
                    <div>
                        <label for="campaign-start" class=LABEL_CLASS>"Start"</label>
                        <input id="campaign-start" name="start_date" type="date" class=INPUT_CLASS />
                        <FieldError error field="start_date" />
                    </div>
                    <div>
                        <label for="campaign-end" class=LABEL_CLASS>"End"</label>
                        <input id="campaign-end" name="end_date" type="date" class=INPUT_CLASS />
                        <FieldError error field="end_date" />
                    </div>
                </div>
                <div>
                    <label for="campaign-new-status" class=LABEL_CLASS>"Status"</label>
                    <select id="campaign-new-status" name="status" class=INPUT_CLASS>
                        {[CampaignStatus::Planned, CampaignStatus::Active].into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="grid grid-cols-2 gap-2">
                    <div>
                        <label for="campaign-every" class=LABEL_CLASS>"Recurs"</label>
                        <select id="campaign-every" name="every" class=INPUT_CLASS on:change=move |ev| every.set(event_target_value(&ev))>
                            <option value="">"Once"</option>
                            <option value="weekly">"Weekly"</option>
                            <option value="monthly">"Monthly"</option>
                            <option value="quarterly">"Quarterly"</option>
                            <option value="days">"Every N days"</option>
                        </select>
                        <FieldError error field="recurrence" />
                    </div>
                    <div class:hidden=move || every.get() != "days">
                        <label for="campaign-days" class=LABEL_CLASS>"Days"</label>
                        <input id="campaign-days" name="days" type="number" min="1" max="366" class=INPUT_CLASS />
                    </div>
                </div>
                <div class="md:col-span-2">
                    <label for="campaign-description" class=LABEL_CLASS>"Description"</label>
                    <textarea id="campaign-description" name="description" rows="2" class=INPUT_CLASS></textarea>
                </div>
                <div class="md:col-span-2">
                    <button type="submit" class=PRIMARY_BUTTON>"Create campaign"</button>
                </div>
            </ActionForm>
        </details>
    }
}
