//! A campaign's page: what it emulates and when, its progress by state and by tactic, its
//! tests with their state, and for leads and admins the status, "generate tests", adding
//! drafts and removing tests.
use super::{CampaignStatusBadge, ProgressBar, dates, emulates};
use crate::api::campaigns::{
    AddCampaignTests, EditCampaign, GenerateCampaignTests, RemoveCampaignTest, SetCampaignStatus,
    campaign_page,
};
use crate::components::charts::{BarRow, Segment, StackedBars};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
    action_error,
};
use crate::components::layout::{Loading, PageError, signed_in};
use crate::components::test_state::StateBadge;
use crate::domain::campaigns::{CampaignStatus, Recurrence};
use crate::domain::coverage::CoverageStatus;
use crate::domain::rbac::Permission;
use crate::domain::workflow::TestState;
use crate::domain::worklog::duration_text;
use crate::dto::campaigns::{CampaignDetail, CampaignProgress};
use crate::dto::workflow::{TestPage, TestSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

fn recurrence_text(r: Recurrence) -> String {
    match r {
        Recurrence::Weekly => "Recurs weekly".into(),
        Recurrence::Monthly => "Recurs monthly".into(),
        Recurrence::Quarterly => "Recurs quarterly".into(),
        Recurrence::Days { days } => format!("Recurs every {days} days"),
    }
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| Uuid::parse_str(&id).ok())
    };
    let status = ServerAction::<SetCampaignStatus>::new();
    let generate = ServerAction::<GenerateCampaignTests>::new();
    let add = ServerAction::<AddCampaignTests>::new();
    let remove = ServerAction::<RemoveCampaignTest>::new();
    let edit = ServerAction::<EditCampaign>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                status.version().get(),
                generate.version().get(),
                add.version().get(),
                remove.version().get(),
                edit.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => campaign_page(id).await,
                None => Err(crate::error::AppError::NotFound("No such campaign".into())),
            }
        },
    );
    let may_manage = signed_in().is_some_and(|u| u.role.can(Permission::ManageCampaigns));
    let errors = [
        action_error(status.value()),
        action_error(generate.value()),
        action_error(add.value()),
        action_error(remove.value()),
        action_error(edit.value()),
    ];
    view! {
        <a href="/campaigns" class="text-sm text-indigo-600 hover:underline">"← Campaigns"</a>
        {errors.into_iter().map(|error| view! { <div class="mt-2"><ErrorAlert error /></div> }).collect_view()}
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((detail, progress, tests, candidates)) => view! {
                        <Campaign detail progress tests candidates may_manage status generate add remove edit />
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Campaign(
    detail: CampaignDetail,
    progress: CampaignProgress,
    tests: TestPage,
    candidates: Vec<TestSummary>,
    may_manage: bool,
    status: ServerAction<SetCampaignStatus>,
    generate: ServerAction<GenerateCampaignTests>,
    add: ServerAction<AddCampaignTests>,
    remove: ServerAction<RemoveCampaignTest>,
    edit: ServerAction<EditCampaign>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let id = s.id;
    let open = s.status.is_open();
    let manage = may_manage && open;
    let by_state: Vec<(TestState, u64)> = TestState::ALL
        .iter()
        .map(|st| {
            (
                *st,
                progress
                    .tests
                    .by_state
                    .get(st.as_str())
                    .copied()
                    .unwrap_or(0),
            )
        })
        .collect();
    let tactic_rows: Vec<BarRow> = progress
        .by_tactic
        .iter()
        .map(|t| BarRow {
            label: t.name.clone(),
            href: None,
            segments: vec![
                Segment {
                    label: "Covered".into(),
                    value: t.covered as f64,
                    color: CoverageStatus::Validated.color().into(),
                },
                Segment {
                    label: "Partial".into(),
                    value: t.partial as f64,
                    color: CoverageStatus::Partial.color().into(),
                },
                Segment {
                    label: "Not covered".into(),
                    value: t.not_covered as f64,
                    color: "#cbd5e1".into(),
                },
            ],
        })
        .collect();
    view! {
        <Title text=format!("{} · Campaigns", s.name) />
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 id="campaign-title" class="text-2xl font-semibold">{s.name.clone()}</h1>
                <p class="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-600">
                    <span id="campaign-status"><CampaignStatusBadge status=s.status /></span>
                    <span>{dates(&s)}</span>
                    <span>{format!("owner {}", s.owner_name.clone().unwrap_or_else(|| "—".into()))}</span>
                    {s.recurrence.map(|r| view! { <span id="campaign-recurrence">{recurrence_text(r)}</span> })}
                </p>
                <p id="campaign-emulates" class="mt-1 text-sm text-slate-600">{emulates(&s)}</p>
                {(!detail.objective.is_empty()).then(|| view! { <p class="mt-2 text-sm"><span class="font-medium">"Objective: "</span>{detail.objective.clone()}</p> })}
                {(!detail.description.is_empty()).then(|| view! { <p class="mt-1 max-w-3xl whitespace-pre-line text-sm text-slate-700">{detail.description.clone()}</p> })}
            </div>
            {may_manage.then(|| view! {
                <ActionForm action=status attr:id="campaign-status-form" attr:class="flex items-end gap-2">
                    <input type="hidden" name="id" value=id.to_string() />
                    <div>
                        <label for="campaign-set-status" class=LABEL_CLASS>"Status"</label>
                        <select id="campaign-set-status" name="status" class=INPUT_CLASS>
                            {CampaignStatus::ALL.into_iter().map(|st| view! { <option value=st.as_str() selected=st == s.status>{st.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class=SECONDARY_BUTTON>"Set"</button>
                </ActionForm>
            })}
        </div>

        {may_manage.then(|| view! { <EditForm detail=detail.clone() edit /> })}

        <section id="campaign-progress" class="mt-6 grid gap-4 rounded-lg border border-slate-200 bg-white p-4 md:grid-cols-3"
            data-percent=progress.percent_finished>
            <div>
                <h2 class="font-semibold">"Progress"</h2>
                <ProgressBar counts=progress.tests.clone() />
                <ul id="campaign-by-state" class="mt-2 flex flex-wrap gap-1">
                    {by_state.into_iter().filter(|(_, n)| *n > 0).map(|(st, n)| view! {
                        <li class="flex items-center gap-1 text-xs" data-state=st.as_str() data-count=n><StateBadge state=st />{n}</li>
                    }).collect_view()}
                </ul>
            </div>
            <dl class="grid grid-cols-2 gap-2 text-sm">
                <dt class="text-slate-500">"Techniques covered"</dt><dd id="campaign-covered">{progress.techniques_covered}</dd>
                <dt class="text-slate-500">"Partially covered"</dt><dd id="campaign-partial">{progress.techniques_partial}</dd>
                <dt class="text-slate-500">"Not covered"</dt><dd id="campaign-not-covered">{progress.techniques_not_covered}</dd>
                <dt class="text-slate-500">"Time spent"</dt><dd id="campaign-time">{duration_text(progress.time_spent_minutes)}</dd>
                <dt class="text-slate-500">"Open remediations"</dt><dd id="campaign-remediations">{progress.open_remediations}</dd>
            </dl>
            <div id="campaign-by-tactic">
                {if tactic_rows.is_empty() {
                    view! { <p class="text-sm text-slate-500">"No tests yet."</p> }.into_any()
                } else {
                    view! { <StackedBars rows=tactic_rows caption="Techniques by tactic within the campaign" /> }.into_any()
                }}
            </div>
        </section>

        {manage.then(|| view! { <Generate id generate /> })}

        <section class="mt-6">
            <h2 class="font-semibold">{format!("Tests ({})", tests.total)}</h2>
            {if tests.items.is_empty() {
                view! { <p id="campaign-tests-empty" class="mt-2 text-sm text-slate-500">"No tests yet: generate them or add drafts."</p> }.into_any()
            } else {
                view! {
                    <table id="campaign-tests" class="mt-2 min-w-full divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
                        <tbody class="divide-y divide-slate-100">
                            {tests.items.into_iter().map(|t| view! {
                                <tr class="campaign-test" data-technique=t.technique_id.clone() data-state=t.state.as_str()>
                                    <td class="px-3 py-2 font-mono text-xs">{t.technique_id.clone()}</td>
                                    <td class="px-3 py-2"><a class="text-indigo-700 hover:underline" href=format!("/tests/{}", t.id)>{t.title.clone()}</a></td>
                                    <td class="px-3 py-2"><StateBadge state=t.state /></td>
                                    <td class="px-3 py-2 text-right">
                                        {may_manage.then(|| view! {
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="id" value=id.to_string() />
                                                <input type="hidden" name="test_id" value=t.id.to_string() />
                                                <button type="submit" class="remove-test rounded-md border border-red-200 px-2 py-1 text-xs text-red-700 hover:bg-red-50">"Remove"</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {manage.then(|| view! { <AddTests id add candidates /> })}
        {(!detail.runs.is_empty()).then(|| view! {
            <section id="campaign-runs" class="mt-6">
                <h2 class="font-semibold">"Other runs of this series"</h2>
                <ul class="mt-2 text-sm">
                    {detail.runs.iter().map(|r| view! {
                        <li class="flex items-center gap-2"><a class="text-indigo-700 hover:underline" href=format!("/campaigns/{}", r.id)>{r.name.clone()}</a><CampaignStatusBadge status=r.status /></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// "Generate tests": one draft per technique of what the campaign emulates, with what was
/// created and skipped.
#[component]
fn Generate(id: Uuid, generate: ServerAction<GenerateCampaignTests>) -> impl IntoView {
    view! {
        <section id="campaign-generate" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="font-semibold">"Generate tests"</h2>
            <p class="mt-1 text-sm text-slate-600">"One draft per technique, from the best catalog template of each (or blank); techniques already in the campaign are skipped."</p>
            <ActionForm action=generate attr:id="generate-form" attr:class="mt-2 flex flex-wrap items-end gap-2">
                <input type="hidden" name="id" value=id.to_string() />
                <div>
                    <label for="generate-from" class=LABEL_CLASS>"From"</label>
                    <select id="generate-from" name="from" class=INPUT_CLASS>
                        <option value="">"Everything it emulates"</option>
                        <option value="threat_actor">"The threat actor"</option>
                        <option value="attack_campaign">"The ATT&CK campaign"</option>
                        <option value="technique_set">"The technique set"</option>
                    </select>
                </div>
                <div>
                    <label for="generate-platform" class=LABEL_CLASS>"Platform (optional)"</label>
                    <input id="generate-platform" name="platform" placeholder="windows" class=INPUT_CLASS />
                </div>
                <button type="submit" class=PRIMARY_BUTTON>"Generate"</button>
            </ActionForm>
            {move || generate.value().get().and_then(|r| r.ok()).map(|report| {
                let (created, skipped) = (report.created.len(), report.skipped.len());
                view! {
                <div id="generate-report" class="mt-3 text-sm" data-created=created data-skipped=skipped>
                    <p>{format!("{} tests created, {} techniques skipped.", report.created.len(), report.skipped.len())}</p>
                    <ul class="mt-1 text-xs text-slate-600">
                        {report.skipped.into_iter().map(|s| view! { <li>{format!("{}: {}", s.technique_id, s.reason)}</li> }).collect_view()}
                    </ul>
                </div>
                }
            })}
        </section>
    }
}

/// Adds existing drafts: the drafts in no campaign yet, one button each, or ids typed in.
#[component]
fn AddTests(
    id: Uuid,
    add: ServerAction<AddCampaignTests>,
    candidates: Vec<TestSummary>,
) -> impl IntoView {
    view! {
        <section id="campaign-add" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <div class="flex items-center justify-between gap-2">
                <h2 class="font-semibold">"Add tests"</h2>
                <a id="campaign-new-test" class=SECONDARY_BUTTON href=format!("/tests/new?campaign={id}")>"New test in this campaign"</a>
            </div>
            {if candidates.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">"No draft outside a campaign."</p> }.into_any()
            } else {
                view! {
                    <ul id="campaign-candidates" class="mt-2 divide-y divide-slate-100 text-sm">
                        {candidates.into_iter().map(|t| view! {
                            <li class="flex items-center justify-between gap-2 py-1" data-title=t.title.clone()>
                                <span><span class="font-mono text-xs">{t.technique_id.clone()}</span>" "{t.title.clone()}</span>
                                <ActionForm action=add>
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <input type="hidden" name="test_ids" value=t.id.to_string() />
                                    <button type="submit" class="add-test rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">"Add"</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=add attr:id="add-tests-form" attr:class="mt-3 flex items-end gap-2">
                <input type="hidden" name="id" value=id.to_string() />
                <div class="grow">
                    <label for="add-test-ids" class=LABEL_CLASS>"Test ids (draft or rejected; separated by commas or spaces)"</label>
                    <input id="add-test-ids" name="test_ids" class=INPUT_CLASS />
                </div>
                <button type="submit" class=SECONDARY_BUTTON>"Add"</button>
            </ActionForm>
        </section>
    }
}

/// A lead's edit of the campaign's own fields.
#[component]
fn EditForm(detail: CampaignDetail, edit: ServerAction<EditCampaign>) -> impl IntoView {
    let s = detail.summary.clone();
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let error = action_error(edit.value());
    // After a refused save the form stays open, with the reasons beside the fields.
    let open = edit.value().get_untracked().is_some_and(|r| r.is_err());
    view! {
        <details id="campaign-edit" open=open class="mt-4 rounded-lg border border-slate-200 bg-white p-4">
            <summary class="cursor-pointer text-sm font-medium text-indigo-700">"Edit the campaign"</summary>
            <ActionForm action=edit attr:id="campaign-edit-form" attr:class="mt-3 grid gap-3 md:grid-cols-2">
                <input type="hidden" name="id" value=s.id.to_string() />
                <div>
                    <label for="edit-name" class=LABEL_CLASS>"Name"</label>
                    <input id="edit-name" name="name" required maxlength="200" value=s.name.clone() class=INPUT_CLASS />
                    <FieldError error field="name" />
                </div>
                <div>
                    <label for="edit-objective" class=LABEL_CLASS>"Objective"</label>
                    <input id="edit-objective" name="objective" value=detail.objective.clone() class=INPUT_CLASS />
                </div>
                <div>
                    <label for="edit-target" class=LABEL_CLASS>"Target environment"</label>
                    <input id="edit-target" name="target_environment" value=detail.target_environment.clone() class=INPUT_CLASS />
                </div>
                <div class="grid grid-cols-2 gap-2">
                    <div>
                        <label for="edit-start" class=LABEL_CLASS>"Start"</label>
                        <input id="edit-start" name="start_date" type="date" value=day(s.start_date) class=INPUT_CLASS />
                    </div>
                    <div>
                        <label for="edit-end" class=LABEL_CLASS>"End"</label>
                        <input id="edit-end" name="end_date" type="date" value=day(s.end_date) class=INPUT_CLASS />
                        <FieldError error field="end_date" />
                    </div>
                </div>
                <div class="md:col-span-2">
                    <label for="edit-description" class=LABEL_CLASS>"Description"</label>
                    <textarea id="edit-description" name="description" rows="2" class=INPUT_CLASS>{detail.description.clone()}</textarea>
                </div>
                <div class="md:col-span-2"><button type="submit" class=PRIMARY_BUTTON>"Save"</button></div>
            </ActionForm>
        </details>
    }
}
