//! One test: its state and timer, the buttons the workflow allows this user now, and tabs for
//! the general fields, the red and blue sides with their evidence, the validation panel,
//! remediation with its steps, and the timeline with the retest chain. Which fields are
//! editable comes from `allowed_actions`, computed by the same rules the server enforces.
use crate::api::admin::users::colleagues;
use crate::api::campaigns::campaign_choices;
use crate::api::workflow::{
    TestAction, UpdateTest, UpdateTestBlue, UpdateTestRed, UpdateTestRemediation, VoteTest,
    get_test, test_history,
};
use crate::components::evidence::{EvidenceList, EvidenceUpload};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
    action_error,
};
use crate::components::form::{CampaignSelect, OpenCampaigns, PersonSelect, select_options};
use crate::components::layout::{Loading, NotFound, PageError, signed_in};
use crate::components::test_state::{StateBadge, duration};
use crate::domain::rbac::Team;
use crate::domain::values::{DetectionResult, Severity};
use crate::domain::workflow::{self, Action, TestState, Vote};
use crate::dto::admin::users::Colleague;
use crate::dto::workflow::TestDetail;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Red,
    Blue,
    Validation,
    Remediation,
    Worklog,
    Timeline,
}

impl Tab {
    const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Red,
        Tab::Blue,
        Tab::Validation,
        Tab::Remediation,
        Tab::Worklog,
        Tab::Timeline,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Red => "Red team",
            Tab::Blue => "Blue team",
            Tab::Validation => "Validation",
            Tab::Remediation => "Remediation",
            Tab::Worklog => "Worklog",
            Tab::Timeline => "Timeline",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Red => "red",
            Tab::Blue => "blue",
            Tab::Validation => "validation",
            Tab::Remediation => "remediation",
            Tab::Worklog => "worklog",
            Tab::Timeline => "timeline",
        }
    }

    /// Where the work is in this state.
    fn for_state(state: TestState) -> Tab {
        match state {
            TestState::Draft => Tab::Overview,
            TestState::RedExecuting => Tab::Red,
            TestState::BlueEvaluating => Tab::Blue,
            TestState::InReview | TestState::Validated | TestState::Rejected => Tab::Validation,
        }
    }
}

/// Every action of the page, so any success reloads the test.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    transition: ServerAction<TestAction>,
    vote: ServerAction<VoteTest>,
    general: ServerAction<UpdateTest>,
    red: ServerAction<UpdateTestRed>,
    blue: ServerAction<UpdateTestBlue>,
    pub(super) remediation: ServerAction<UpdateTestRemediation>,
    pub(super) log_work: ServerAction<crate::api::workflow::LogWork>,
    pub(super) delete_worklog: ServerAction<crate::api::workflow::DeleteWorklog>,
    pub(super) edit_worklog: ServerAction<crate::api::workflow::EditWorklog>,
    uploads: RwSignal<u32>,
}

impl Actions {
    fn new() -> Self {
        Self {
            transition: ServerAction::new(),
            vote: ServerAction::new(),
            general: ServerAction::new(),
            red: ServerAction::new(),
            blue: ServerAction::new(),
            remediation: ServerAction::new(),
            log_work: ServerAction::new(),
            delete_worklog: ServerAction::new(),
            edit_worklog: ServerAction::new(),
            uploads: RwSignal::new(0),
        }
    }

    fn versions(&self) -> (usize, usize, usize, usize, usize, usize, usize, u32) {
        (
            self.transition.version().get(),
            self.vote.version().get(),
            self.general.version().get(),
            self.red.version().get(),
            self.blue.version().get(),
            self.remediation.version().get(),
            self.log_work.version().get()
                + self.delete_worklog.version().get()
                + self.edit_worklog.version().get(),
            self.uploads.get(),
        )
    }
}

#[component]
pub fn TestDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| Uuid::parse_str(&id).ok())
    };
    let actions = Actions::new();
    let test = Resource::new(
        move || (id(), actions.versions()),
        |(id, _)| async move {
            match id {
                Some(id) => get_test(id).await,
                None => Err(AppError::NotFound("No such test".into())),
            }
        },
    );
    let history = Resource::new(
        move || (id(), actions.versions()),
        |(id, _)| async move {
            match id {
                Some(id) => test_history(id).await,
                None => Err(AppError::NotFound("No such test".into())),
            }
        },
    );
    let people = Resource::new(|| (), |_| colleagues());
    let campaigns = Resource::new(|| (), |_| campaign_choices());
    let tab = RwSignal::new(None::<Tab>);
    view! {
        <a href="/tests" class="text-sm text-indigo-600 hover:underline">"← Tests"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let people = people.await.unwrap_or_default();
                let campaigns = campaigns.await.unwrap_or_default();
                match test.await {
                    Ok(detail) => view! { <Detail detail actions tab history people campaigns /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

type History = Resource<
    Result<
        (
            Vec<crate::dto::workflow::TimelineEntry>,
            Vec<crate::dto::workflow::TestSummary>,
        ),
        AppError,
    >,
>;

#[component]
fn Detail(
    detail: TestDetail,
    actions: Actions,
    tab: RwSignal<Option<Tab>>,
    history: History,
    people: Vec<Colleague>,
    campaigns: OpenCampaigns,
) -> impl IntoView {
    let state = detail.state;
    let allowed = detail.allowed_actions.clone();
    let may = move |action: Action| allowed.contains(&action);
    let current = move || tab.get().unwrap_or(Tab::for_state(state));
    let errors = [
        action_error(actions.transition.value()),
        action_error(actions.vote.value()),
    ];
    let d = detail.clone();
    view! {
        <Title text=format!("{} · Tests", detail.title) />
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="text-sm text-slate-500">
                    <a class="font-mono hover:underline" href=format!("/techniques/{}", detail.technique_id)>{detail.technique_id.clone()}</a>
                    " "{detail.technique_name.clone().unwrap_or_default()}
                </p>
                <h1 id="test-title" class="text-2xl font-semibold">{detail.title.clone()}</h1>
                <p class="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-600">
                    <span id="test-state"><StateBadge state /></span>
                    <span class="capitalize">{format!("{} severity", detail.severity)}</span>
                    <span>{format!("created by {}", detail.created_by_name.clone().unwrap_or_default())}</span>
                    <span id="test-version" class="text-xs text-slate-400" data-version=detail.version>{format!("version {}", detail.version)}</span>
                </p>
            </div>
            <TimerView detail=d.clone() actions may_pause=may(Action::PauseTimer) may_resume=may(Action::ResumeTimer) />
        </div>
        <div class="mt-4">
            {errors.into_iter().map(|error| view! { <ErrorAlert error /> }).collect_view()}
        </div>
        <div id="test-actions" class="mt-2 flex flex-wrap gap-2">
            {[
                (Action::StartExecution, "Start execution"),
                (Action::SubmitRed, "Submit red results"),
                (Action::SubmitBlue, "Submit blue results"),
                (Action::Reopen, "Reopen"),
            ]
                .into_iter()
                .filter(|(action, _)| may(*action))
                .map(|(action, label)| view! {
                    <ActionForm action=actions.transition>
                        <input type="hidden" name="id" value=detail.id.to_string() />
                        <input type="hidden" name="version" value=detail.version />
                        <input type="hidden" name="action" value=action.slug() />
                        <button type="submit" class=PRIMARY_BUTTON data-action=action.slug()>{label}</button>
                    </ActionForm>
                })
                .collect_view()}
            {(matches!(state, TestState::Validated | TestState::Rejected)
                && signed_in().is_some_and(|u| workflow::can_create(u.role)))
                .then(|| view! {
                    <a id="create-retest" class=SECONDARY_BUTTON
                        href=format!("/tests/new?retest_of={}&technique={}", detail.id, detail.technique_id)>
                        "Create a retest"
                    </a>
                })}
        </div>
        <nav class="mt-6 flex flex-wrap gap-1 border-b border-slate-200" role="tablist">
            {Tab::ALL.into_iter().map(|t| view! {
                <button type="button" role="tab" id=format!("tab-{}", t.id())
                    aria-selected=move || (current() == t).to_string()
                    class="-mb-px border-b-2 px-4 py-2 text-sm"
                    class=("border-indigo-600", move || current() == t)
                    class=("font-semibold", move || current() == t)
                    class=("border-transparent", move || current() != t)
                    on:click=move |_| tab.set(Some(t))>
                    {t.label()}
                </button>
            }).collect_view()}
        </nav>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-6" role="tabpanel" id="tab-panel" data-tab=move || current().id()>
            {move || match current() {
                Tab::Overview => view! { <Overview detail=detail.clone() actions people=people.clone() campaigns=campaigns.clone() /> }.into_any(),
                Tab::Red => view! { <RedSide detail=detail.clone() actions /> }.into_any(),
                Tab::Blue => view! { <BlueSide detail=detail.clone() actions /> }.into_any(),
                Tab::Validation => view! { <Validation detail=detail.clone() actions /> }.into_any(),
                Tab::Remediation => view! { <super::remediation::Remediation detail=detail.clone() actions people=people.clone() /> }.into_any(),
                Tab::Worklog => view! { <super::worklog::Worklog detail=detail.clone() actions /> }.into_any(),
                Tab::Timeline => view! { <Timeline history /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn TimerView(
    detail: TestDetail,
    actions: Actions,
    may_pause: bool,
    may_resume: bool,
) -> impl IntoView {
    let timer = detail.timer.clone();
    let loaded = Utc::now();
    let now = RwSignal::new(loaded);
    #[cfg(feature = "hydrate")]
    if timer.running
        && let Ok(handle) = set_interval_with_handle(
            move || now.set(Utc::now()),
            std::time::Duration::from_secs(1),
        )
    {
        on_cleanup(move || handle.clear());
    }
    let running = timer.running;
    let base = timer.elapsed_seconds;
    let elapsed = move || {
        if running {
            base + (now.get() - loaded).num_seconds().max(0)
        } else {
            base
        }
    };
    let status = if timer.started_at.is_none() {
        "not started"
    } else if timer.stopped_at.is_some() {
        "stopped"
    } else if timer.paused_at.is_some() {
        "paused"
    } else {
        "running"
    };
    view! {
        <div id="test-timer" class="rounded-lg border border-slate-200 bg-white px-4 py-3 text-right" data-status=status>
            <p class="text-xs uppercase text-slate-500">{format!("Execution time ({status})")}</p>
            <p class="font-mono text-xl" id="timer-elapsed">{move || duration(elapsed())}</p>
            <div class="mt-1 flex justify-end gap-2">
                {[(may_pause && timer.paused_at.is_none() && running, "pause_timer", "Pause"),
                  (may_resume && timer.paused_at.is_some(), "resume_timer", "Resume")]
                    .into_iter()
                    .filter(|(show, _, _)| *show)
                    .map(|(_, slug, label)| view! {
                        <ActionForm action=actions.transition>
                            <input type="hidden" name="id" value=detail.id.to_string() />
                            <input type="hidden" name="version" value=detail.version />
                            <input type="hidden" name="action" value=slug />
                            <button type="submit" class=SECONDARY_BUTTON data-action=slug>{label}</button>
                        </ActionForm>
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// A labelled text input, or the value as text when the user may not edit it.
#[component]
pub(super) fn TextInput(
    name: &'static str,
    label: &'static str,
    value: String,
    editable: bool,
    error: Signal<Option<AppError>>,
    #[prop(optional)] input_type: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div>
            <label for=id.clone() class=LABEL_CLASS>{label}</label>
            {if editable {
                view! { <input id=id name=name type=input_type.unwrap_or("text") value=value class=INPUT_CLASS /> }.into_any()
            } else {
                view! { <p id=id class="mt-1 text-sm text-slate-800" data-readonly="">{if value.is_empty() { "—".to_owned() } else { value }}</p> }.into_any()
            }}
            <FieldError error field=name />
        </div>
    }
}

#[component]
pub(super) fn TextArea(
    name: &'static str,
    label: &'static str,
    value: String,
    editable: bool,
    error: Signal<Option<AppError>>,
    #[prop(optional)] mono: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let class = if mono {
        format!("{INPUT_CLASS} font-mono")
    } else {
        INPUT_CLASS.to_owned()
    };
    view! {
        <div>
            <label for=id.clone() class=LABEL_CLASS>{label}</label>
            {if editable {
                view! { <textarea id=id name=name rows="3" class=class>{value}</textarea> }.into_any()
            } else if mono && !value.is_empty() {
                view! { <pre id=id class="mt-1 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100" data-readonly="">{value}</pre> }.into_any()
            } else {
                view! { <p id=id class="mt-1 whitespace-pre-wrap text-sm text-slate-800" data-readonly="">{if value.is_empty() { "—".to_owned() } else { value }}</p> }.into_any()
            }}
            <FieldError error field=name />
        </div>
    }
}

pub(super) fn hidden_ids(detail: &TestDetail) -> impl IntoView + use<> {
    view! {
        <input type="hidden" name="id" value=detail.id.to_string() />
        <input type="hidden" name="version" value=detail.version />
    }
}

#[component]
fn Overview(
    detail: TestDetail,
    actions: Actions,
    people: Vec<Colleague>,
    campaigns: OpenCampaigns,
) -> impl IntoView {
    let editable = detail.allowed_actions.contains(&Action::EditGeneral);
    let error = action_error(actions.general.value());
    let fields = view! {
        {hidden_ids(&detail)}
        <div class="grid gap-4 md:grid-cols-2">
            <TextInput name="title" label="Title" value=detail.title.clone() editable error />
            <div>
                <label for="field-severity" class=LABEL_CLASS>"Severity"</label>
                {if editable {
                    view! { <select id="field-severity" name="severity" class=INPUT_CLASS>{select_options(&Severity::names(), detail.severity.as_str())}</select> }.into_any()
                } else {
                    view! { <p id="field-severity" class="mt-1 text-sm capitalize">{detail.severity.as_str()}</p> }.into_any()
                }}
            </div>
            <TextInput name="objective" label="Objective" value=detail.objective.clone() editable error />
            <TextInput name="target_environment" label="Target environment" value=detail.target_environment.clone() editable error />
            <TextInput name="platform" label="Platform" value=detail.platform.clone().unwrap_or_default() editable error />
            <div class="grid grid-cols-2 gap-2">
                <PersonSelect name="assigned_red_id" label="Red assignee" people=people.clone() team=Some(Team::Red)
                    selected=detail.assigned_red_id editable current_name=detail.assigned_red_name.clone() />
                <PersonSelect name="assigned_blue_id" label="Blue assignee" people=people.clone() team=Some(Team::Blue)
                    selected=detail.assigned_blue_id editable current_name=detail.assigned_blue_name.clone() />
            </div>
            <CampaignSelect selected=detail.campaign_id current_name=detail.campaign_name.clone() editable choices=campaigns />
        </div>
        <div class="mt-4 grid gap-4">
            <TextArea name="description" label="Description" value=detail.description.clone() editable error />
            <TextArea name="procedure" label="Attack procedure" value=detail.procedure.clone() editable error mono=true />
            <TextArea name="expected_detection" label="Expected detection" value=detail.expected_detection.clone() editable error />
        </div>
    };
    view! {
        <ErrorAlert error />
        {if editable {
            view! {
                <ActionForm action=actions.general attr:id="general-form">
                    {fields}
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-4")>"Save"</button>
                </ActionForm>
            }.into_any()
        } else {
            fields.into_any()
        }}
        {(!detail.suggested_tools.is_empty()).then(|| view! {
            <p class="mt-4 text-sm"><span class="font-medium">"Suggested tools: "</span>{detail.suggested_tools.join(", ")}</p>
        })}
    }
}

fn time_value(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

#[component]
fn RedSide(detail: TestDetail, actions: Actions) -> impl IntoView {
    let editable = detail.allowed_actions.contains(&Action::EditRed);
    let may_upload = detail
        .allowed_actions
        .contains(&Action::UploadEvidence(Team::Red));
    let error = action_error(actions.red.value());
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let fields = view! {
        {hidden_ids(&detail)}
        <div class="grid gap-4 md:grid-cols-2">
            <TextInput name="tool_used" label="Tool used" value=v(&detail.tool_used) editable error />
            <div class="grid grid-cols-2 gap-2">
                <TextInput name="attacker_ip" label="Attacker IP" value=v(&detail.attacker_ip) editable error />
                <TextInput name="target_ip" label="Target IP" value=v(&detail.target_ip) editable error />
            </div>
            <TextInput name="start_time" label="Start (UTC)" value=time_value(detail.start_time) editable error input_type="datetime-local" />
            <TextInput name="end_time" label="End (UTC)" value=time_value(detail.end_time) editable error input_type="datetime-local" />
        </div>
        <div class="mt-4 grid gap-4">
            <TextArea name="command_executed" label="Command executed" value=v(&detail.command_executed) editable error mono=true />
            <TextArea name="output_observed" label="Output observed" value=v(&detail.output_observed) editable error />
            <TextArea name="red_notes" label="Red team notes" value=v(&detail.red_notes) editable error />
        </div>
    };
    view! {
        <ErrorAlert error />
        {(!detail.procedure.is_empty()).then(|| view! {
            <div class="mb-4">
                <p class=LABEL_CLASS>"Planned procedure"</p>
                <pre id="red-procedure" class="mt-1 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{detail.procedure.clone()}</pre>
            </div>
        })}
        {if editable {
            view! {
                <ActionForm action=actions.red attr:id="red-form">
                    {fields}
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-4")>"Save red fields"</button>
                </ActionForm>
            }.into_any()
        } else {
            fields.into_any()
        }}
        <EvidenceSection detail=detail.clone() team=Team::Red may_upload actions />
    }
}

#[component]
fn BlueSide(detail: TestDetail, actions: Actions) -> impl IntoView {
    let editable = detail.allowed_actions.contains(&Action::EditBlue);
    let may_upload = detail
        .allowed_actions
        .contains(&Action::UploadEvidence(Team::Blue));
    let error = action_error(actions.blue.value());
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let result = detail
        .detection_result
        .map(|r| r.as_str().to_owned())
        .unwrap_or_default();
    let fired = match detail.alert_fired {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let fields = view! {
        {hidden_ids(&detail)}
        <div class="grid gap-4 md:grid-cols-2">
            <div>
                <label for="field-detection_result" class=LABEL_CLASS>"Detection result"</label>
                {if editable {
                    view! {
                        <select id="field-detection_result" name="detection_result" class=INPUT_CLASS>
                            <option value="" selected=result.is_empty()>"— not recorded —"</option>
                            {select_options(&DetectionResult::names(), &result)}
                        </select>
                    }.into_any()
                } else {
                    view! { <p id="field-detection_result" class="mt-1 text-sm">{if result.is_empty() { "—".to_owned() } else { result.replace('_', " ") }}</p> }.into_any()
                }}
                <FieldError error field="detection_result" />
            </div>
            <div>
                <label for="field-alert_fired" class=LABEL_CLASS>"Alert fired"</label>
                {if editable {
                    view! {
                        <select id="field-alert_fired" name="alert_fired" class=INPUT_CLASS>
                            <option value="" selected=fired.is_empty()>"—"</option>
                            <option value="yes" selected=fired == "yes">"yes"</option>
                            <option value="no" selected=fired == "no">"no"</option>
                        </select>
                    }.into_any()
                } else {
                    view! { <p id="field-alert_fired" class="mt-1 text-sm">{if fired.is_empty() { "—" } else { fired }}</p> }.into_any()
                }}
            </div>
            <TextInput name="alert_name" label="Alert name" value=v(&detail.alert_name) editable error />
            <TextInput name="time_to_detect_seconds" label="Time to detect (seconds)" value=detail.time_to_detect_seconds.map(|s| s.to_string()).unwrap_or_default() editable error input_type="number" />
        </div>
        <div class="mt-4 grid gap-4">
            <TextArea name="detection_notes" label="Detection notes" value=v(&detail.detection_notes) editable error />
            <TextArea name="response_action" label="Response action" value=v(&detail.response_action) editable error />
            <TextArea name="blue_notes" label="Blue team notes" value=v(&detail.blue_notes) editable error />
        </div>
        <super::fired_rules::FiredRules detail=detail.clone() editable error />
    };
    view! {
        <ErrorAlert error />
        {(!detail.expected_detection.is_empty()).then(|| view! {
            <p class="mb-4 text-sm"><span class="font-medium">"Expected detection: "</span>{detail.expected_detection.clone()}</p>
        })}
        {if editable {
            view! {
                <ActionForm action=actions.blue attr:id="blue-form">
                    {fields}
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-4")>"Save blue fields"</button>
                </ActionForm>
            }.into_any()
        } else {
            fields.into_any()
        }}
        <EvidenceSection detail=detail.clone() team=Team::Blue may_upload actions />
    }
}

#[component]
fn EvidenceSection(
    detail: TestDetail,
    team: Team,
    may_upload: bool,
    actions: Actions,
) -> impl IntoView {
    let items = match team {
        Team::Red => detail.red_evidence.clone(),
        Team::Blue => detail.blue_evidence.clone(),
    };
    let on_done = Callback::new(move |_| actions.uploads.update(|n| *n += 1));
    view! {
        <div class="mt-6" id=format!("{}-evidence", team.as_str())>
            <h3 class="mb-2 font-semibold">{format!("{} evidence ({})", if team == Team::Red { "Red" } else { "Blue" }, items.len())}</h3>
            <EvidenceList items team />
            {may_upload.then(|| view! { <EvidenceUpload test_id=detail.id team on_done /> })}
        </div>
    }
}

#[component]
fn Validation(detail: TestDetail, actions: Actions) -> impl IntoView {
    let error = action_error(actions.vote.value());
    let sides = [
        (
            Team::Red,
            detail.red_validation_status,
            detail.red_validation_notes.clone(),
            detail.red_validated_at,
            detail.allowed_actions.contains(&Action::ValidateRed),
        ),
        (
            Team::Blue,
            detail.blue_validation_status,
            detail.blue_validation_notes.clone(),
            detail.blue_validated_at,
            detail.allowed_actions.contains(&Action::ValidateBlue),
        ),
    ];
    let id = detail.id;
    view! {
        <ErrorAlert error />
        <p class="mb-4 text-sm text-slate-600">"Both leads validate their side independently. Both approved: validated. Either rejected: rejected, until a lead reopens it."</p>
        <div class="grid gap-4 md:grid-cols-2">
            {sides.into_iter().map(|(team, status, notes, at, may_vote)| {
                let name = if team == Team::Red { "Red lead" } else { "Blue lead" };
                view! {
                    <div class="rounded-md border border-slate-200 p-4" id=format!("{}-validation", team.as_str())>
                        <h3 class="font-semibold">{name}</h3>
                        <p class="mt-1 text-sm" data-vote=status.map_or("pending", Vote::as_str)>
                            {match &status {
                                Some(s) => format!("{s}{}", at.map(|t| format!(" on {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default()),
                                None => "Pending".into(),
                            }}
                        </p>
                        {notes.map(|n| view! { <p class="mt-1 whitespace-pre-wrap text-sm text-slate-600">{n}</p> })}
                        {may_vote.then(|| view! {
                            <ActionForm action=actions.vote attr:class="mt-3 space-y-2">
                                <input type="hidden" name="id" value=id.to_string() />
                                <input type="hidden" name="team" value=team.as_str() />
                                <label class=LABEL_CLASS for=format!("{}-vote-notes", team.as_str())>"Notes"</label>
                                <textarea id=format!("{}-vote-notes", team.as_str()) name="notes" rows="2" class=INPUT_CLASS></textarea>
                                <div class="flex gap-2">
                                    <button type="submit" name="status" value=Vote::Approved.as_str() class=PRIMARY_BUTTON data-vote-action="approve">"Approve"</button>
                                    <button type="submit" name="status" value=Vote::Rejected.as_str() class=SECONDARY_BUTTON data-vote-action="reject">"Reject"</button>
                                </div>
                            </ActionForm>
                        })}
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn Timeline(history: History) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok((entries, chain)) => view! {
                        <ol id="timeline" class="space-y-3">
                            {entries.into_iter().map(|e| view! {
                                <li class="border-l-2 border-slate-200 pl-3" data-action=e.action.clone()>
                                    <p class="text-sm">{e.summary.clone()}</p>
                                    <p class="text-xs text-slate-500">
                                        {format!("{} · {}", e.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"), e.actor_username.clone().unwrap_or_else(|| "system".into()))}
                                    </p>
                                </li>
                            }).collect_view()}
                        </ol>
                        {(chain.len() > 1).then(|| view! {
                            <h3 class="mb-2 mt-6 font-semibold">"Retest chain (oldest first)"</h3>
                            <ol id="retest-chain" class="list-decimal space-y-1 pl-5 text-sm">
                                {chain.into_iter().map(|t| {
                                    let state = t.state;
                                    view! {
                                        <li><a class="text-indigo-600 hover:underline" href=format!("/tests/{}", t.id)>{t.title.clone()}</a>" "<StateBadge state /></li>
                                    }
                                }).collect_view()}
                            </ol>
                        })}
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}
