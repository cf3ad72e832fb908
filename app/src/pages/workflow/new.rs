//! The new-test form, with a technique picker that searches the knowledge base. A retest
//! arrives with `?retest_of=<id>&technique=<id>` and is linked to the test it repeats.
use crate::api::admin::users::colleagues;
use crate::api::campaigns::campaign_choices;
use crate::api::knowledge::search_techniques;
use crate::api::workflow::CreateTest;
use crate::components::coverage::StatusBadge;
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::components::form::{CampaignSelect, PersonSelect};
use crate::components::layout::signed_in;
use crate::domain::rbac::Team;
use crate::domain::values::Severity;
use crate::domain::workflow;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn NewTestPage() -> impl IntoView {
    let may_create = signed_in().is_some_and(|u| workflow::can_create(u.role));
    view! {
        <Title text="New test" />
        <a href="/tests" class="text-sm text-indigo-600 hover:underline">"← Tests"</a>
        <h1 class="mb-4 mt-2 text-2xl font-semibold">"New test"</h1>
        {if may_create {
            view! { <NewTestForm /> }.into_any()
        } else {
            view! { <p role="alert" class="alert-error rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">"Leads and admins create tests."</p> }.into_any()
        }}
    }
}

#[component]
fn NewTestForm() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let create = ServerAction::<CreateTest>::new();
    let error = action_error(create.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(test)) = create.value().get() {
            navigate(&format!("/tests/{}", test.id), Default::default());
        }
    });
    let technique = RwSignal::new(param("technique").to_uppercase());
    let search = RwSignal::new(String::new());
    let matches = Resource::new(move || search.get(), search_techniques);
    let retest_of = param("retest_of");
    let people = Resource::new(|| (), |_| colleagues());
    let campaigns = Resource::new(|| (), |_| campaign_choices());
    view! {
        <div class="max-w-3xl rounded-lg border border-slate-200 bg-white p-6">
            <ErrorAlert error />
            <ActionForm action=create attr:id="new-test-form">
                <input type="hidden" name="retest_of" value=retest_of.clone() />
                {(!retest_of.is_empty()).then(|| view! {
                    <p class="mb-4 text-sm text-slate-600">"This test is a retest of "<a class="text-indigo-600 hover:underline" href=format!("/tests/{retest_of}")>"an earlier test"</a>"."</p>
                })}
                <div class="space-y-4">
                    <div>
                        <label for="new-title" class=LABEL_CLASS>"Title"</label>
                        <input id="new-title" name="title" required class=INPUT_CLASS />
                        <FieldError error field="title" />
                    </div>
                    <div>
                        <label for="technique-search" class=LABEL_CLASS>"Technique"</label>
                        <input type="hidden" name="technique_id" prop:value=move || technique.get() />
                        <p id="chosen-technique" class="mt-1 text-sm">
                            {move || if technique.get().is_empty() { "None chosen yet: search below.".to_owned() } else { format!("Chosen: {}", technique.get()) }}
                        </p>
                        <input id="technique-search" type="search" placeholder="Search ATT&CK: T1059, PowerShell…" class=INPUT_CLASS
                            on:input=move |ev| search.set(event_target_value(&ev)) />
                        <FieldError error field="technique_id" />
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let found = matches.await.unwrap_or_default();
                                let empty = found.is_empty();
                                view! {
                                    <ul id="technique-matches" class="mt-1 max-h-64 overflow-y-auto rounded-md border border-slate-200 text-sm" class:hidden=empty>
                                        {found.into_iter().map(|t| {
                                            let id = t.mitre_id.clone();
                                            view! {
                                                <li>
                                                    <button type="button" class="flex w-full items-center justify-between gap-2 px-3 py-1 text-left hover:bg-slate-50" data-technique=t.mitre_id.clone()
                                                        on:click=move |_| { technique.set(id.clone()); search.set(String::new()); }>
                                                        <span><span class="font-mono">{t.mitre_id.clone()}</span>" "{t.name.clone()}</span>
                                                        <StatusBadge status=t.coverage_status />
                                                    </button>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }
                            })}
                        </Transition>
                    </div>
                    <div class="grid gap-4 md:grid-cols-3">
                        <div>
                            <label for="new-severity" class=LABEL_CLASS>"Severity"</label>
                            <select id="new-severity" name="severity" class=INPUT_CLASS>
                                {Severity::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=s == Severity::Medium>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div>
                            <label for="new-platform" class=LABEL_CLASS>"Platform"</label>
                            <input id="new-platform" name="platform" placeholder="windows" class=INPUT_CLASS />
                            <FieldError error field="platform" />
                        </div>
                        <div>
                            <label for="new-target" class=LABEL_CLASS>"Target environment"</label>
                            <input id="new-target" name="target_environment" class=INPUT_CLASS />
                        </div>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let choices = campaigns.await.unwrap_or_default();
                                view! { <CampaignSelect selected=param("campaign").parse().ok() current_name=None editable=true choices /> }
                            })}
                        </Transition>
                    </div>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let people = people.await.unwrap_or_default();
                            view! {
                                <div class="grid gap-4 md:grid-cols-2">
                                    <PersonSelect name="assigned_red_id" label="Red assignee (optional)" people=people.clone()
                                        team=Some(Team::Red) selected=None editable=true current_name=None />
                                    <PersonSelect name="assigned_blue_id" label="Blue assignee (optional)" people
                                        team=Some(Team::Blue) selected=None editable=true current_name=None />
                                </div>
                            }
                        })}
                    </Transition>
                    <div>
                        <label for="new-objective" class=LABEL_CLASS>"Objective"</label>
                        <input id="new-objective" name="objective" class=INPUT_CLASS />
                    </div>
                    <div>
                        <label for="new-description" class=LABEL_CLASS>"Description"</label>
                        <textarea id="new-description" name="description" rows="3" class=INPUT_CLASS></textarea>
                    </div>
                    <div>
                        <label for="new-procedure" class=LABEL_CLASS>"Attack procedure"</label>
                        <textarea id="new-procedure" name="procedure" rows="4" class=format!("{INPUT_CLASS} font-mono")></textarea>
                    </div>
                    <div>
                        <label for="new-expected" class=LABEL_CLASS>"Expected detection"</label>
                        <textarea id="new-expected" name="expected_detection" rows="2" class=INPUT_CLASS></textarea>
                    </div>
                    <button id="create-test" type="submit" class=PRIMARY_BUTTON>"Create test"</button>
                </div>
            </ActionForm>
        </div>
    }
}
