//! The test page's remediation tab: status, owner, due date, notes and the ordered steps
//! (ATT&CK's mitigations and D3FEND's countermeasures of the technique offered as steps).
use super::detail::{Actions, TextArea, TextInput, hidden_ids};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
    action_error,
};
use crate::components::form::{PersonSelect, select_options};
use crate::domain::values::RemediationStatus;
use crate::domain::workflow::Action;
use crate::dto::admin::users::Colleague;
use crate::dto::workflow::{RemediationStepInput, TestDetail};
use leptos::prelude::*;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
struct StepRow {
    key: usize,
    input: RemediationStepInput,
}

#[component]
pub(super) fn Remediation(
    detail: TestDetail,
    actions: Actions,
    people: Vec<Colleague>,
) -> impl IntoView {
    let editable = detail.allowed_actions.contains(&Action::EditRemediation);
    let error = action_error(actions.remediation.value());
    let names: std::collections::HashMap<Uuid, String> = detail
        .remediation_steps
        .iter()
        .filter_map(|s| Some((s.assignee_id?, s.assignee_name.clone()?)))
        .collect();
    let rows = RwSignal::new(
        detail
            .remediation_steps
            .iter()
            .enumerate()
            .map(|(key, s)| StepRow {
                key,
                input: RemediationStepInput {
                    id: Some(s.id),
                    title: s.title.clone(),
                    notes: Some(s.notes.clone()),
                    status: Some(s.status.as_str().to_owned()),
                    assignee_id: s.assignee_id,
                    due_date: s.due_date,
                },
            })
            .collect::<Vec<_>>(),
    );
    let next_key = RwSignal::new(detail.remediation_steps.len());
    let steps_json = move || {
        let inputs: Vec<RemediationStepInput> = rows.get().into_iter().map(|r| r.input).collect();
        serde_json::to_string(&inputs).unwrap_or_else(|_| "[]".into())
    };
    let set_step = move |key: usize, f: Box<dyn Fn(&mut RemediationStepInput)>| {
        rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.key == key) {
                f(&mut row.input);
            }
        })
    };
    let due = detail
        .remediation_due_date
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mitigations: Vec<StepOffer> = detail
        .mitigations
        .iter()
        .map(|m| StepOffer {
            key: m.mitre_id.clone(),
            title: format!("{} {}", m.mitre_id, m.name),
            notes: m.description.clone(),
        })
        .collect();
    let countermeasures: Vec<StepOffer> = detail
        .countermeasures
        .iter()
        .map(|c| StepOffer {
            key: c.d3fend_id.clone(),
            title: format!("{} {} ({})", c.d3fend_id, c.name, c.tactic.label()),
            notes: format!(
                "{}\n\nLinked through {}. {}",
                c.definition, c.artifact, c.url
            ),
        })
        .collect();
    view! {
        <ErrorAlert error />
        <ActionForm action=actions.remediation attr:id="remediation-form">
            {hidden_ids(&detail)}
            <input type="hidden" name="steps" prop:value=steps_json />
            <div class="grid gap-4 md:grid-cols-2">
                <div>
                    <label for="field-remediation_status" class=LABEL_CLASS>"Status"</label>
                    {if editable {
                        view! { <select id="field-remediation_status" name="remediation_status" class=INPUT_CLASS>{select_options(&RemediationStatus::names(), detail.remediation_status.as_str())}</select> }.into_any()
                    } else {
                        view! { <p id="field-remediation_status" class="mt-1 text-sm">{detail.remediation_status.as_str().replace('_', " ")}</p> }.into_any()
                    }}
                    <FieldError error field="remediation_status" />
                </div>
                <TextInput name="remediation_due_date" label="Due date" value=due editable error input_type="date" />
                <PersonSelect name="remediation_owner" label="Owner" people=people.clone() team=None
                    selected=detail.remediation_owner editable current_name=detail.remediation_owner_name.clone() />
            </div>
            <div class="mt-4">
                <TextArea name="remediation_notes" label="Notes" value=detail.remediation_notes.clone() editable error />
            </div>
            <h3 class="mb-2 mt-6 font-semibold">"Steps"</h3>
            <FieldError error field="steps" />
            <ol id="remediation-steps" class="space-y-2">
                <For each=move || rows.get() key=|r| r.key let:row>
                    {
                        let key = row.key;
                        let assignee = row.input.assignee_id.and_then(|a| names.get(&a).cloned());
                        view! {
                            <li class="flex flex-wrap items-center gap-2 rounded-md border border-slate-200 p-2" data-step=row.input.title.clone()>
                                {if editable {
                                    view! {
                                        <input class=INPUT_CLASS aria-label="Step" value=row.input.title.clone()
                                            on:input=move |ev| { let v = event_target_value(&ev); set_step(key, Box::new(move |s| s.title = v.clone())) } />
                                        <select class="rounded-md border border-slate-300 px-2 py-1 text-sm" aria-label="Step status"
                                            on:change=move |ev| { let v = event_target_value(&ev); set_step(key, Box::new(move |s| s.status = Some(v.clone()))) }>
                                            {select_options(&RemediationStatus::names(), row.input.status.as_deref().unwrap_or(RemediationStatus::NotStarted.as_str()))}
                                        </select>
                                        <select class="rounded-md border border-slate-300 px-2 py-1 text-sm" aria-label="Step assignee"
                                            on:change=move |ev| { let v = Uuid::parse_str(&event_target_value(&ev)).ok(); set_step(key, Box::new(move |s| s.assignee_id = v)) }>
                                            <option value="" selected=row.input.assignee_id.is_none()>"— nobody —"</option>
                                            {people.iter().map(|p| view! {
                                                <option value=p.id.to_string() selected=row.input.assignee_id == Some(p.id)>{p.display_name.clone()}</option>
                                            }).collect_view()}
                                        </select>
                                        <button type="button" class="text-sm text-rose-700 hover:underline"
                                            on:click=move |_| rows.update(|rows| rows.retain(|r| r.key != key))>"Remove"</button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <span class="grow text-sm">{row.input.title.clone()}</span>
                                        <span class="text-xs text-slate-500">{row.input.status.clone().unwrap_or_default().replace('_', " ")}</span>
                                    }.into_any()
                                }}
                                {(!editable).then(|| assignee.map(|a| view! { <span class="text-xs text-slate-500">{format!("assigned to {a}")}</span> }))}
                            </li>
                        }
                    }
                </For>
            </ol>
            {editable.then(|| view! {
                <div class="mt-3 flex gap-2">
                    <button type="button" id="add-step" class=SECONDARY_BUTTON on:click=move |_| {
                        let key = next_key.get_untracked();
                        next_key.set(key + 1);
                        rows.update(|rows| rows.push(StepRow { key, input: RemediationStepInput { title: String::new(), ..Default::default() } }));
                    }>"Add step"</button>
                    <StepPicker id="add-mitigation" prompt="Add an ATT&CK mitigation as a step…" offers=mitigations.clone() rows next_key />
                    <StepPicker id="add-countermeasure" prompt="Add a D3FEND countermeasure as a step…" offers=countermeasures.clone() rows next_key />
                    <button type="submit" class=PRIMARY_BUTTON>"Save remediation"</button>
                </div>
            })}
        </ActionForm>
    }
}

/// A step the remediation tab offers ready-made: an ATT&CK mitigation or a D3FEND
/// countermeasure of the test's technique.
#[derive(Clone, Debug, PartialEq)]
struct StepOffer {
    key: String,
    title: String,
    notes: String,
}

/// A picker that appends the chosen offer as a new step (nothing when there is none to offer).
#[component]
fn StepPicker(
    id: &'static str,
    prompt: &'static str,
    offers: Vec<StepOffer>,
    rows: RwSignal<Vec<StepRow>>,
    next_key: RwSignal<usize>,
) -> impl IntoView {
    (!offers.is_empty()).then(|| {
        let options = offers.clone();
        view! {
            <label for=id class="sr-only">{prompt}</label>
            <select id=id class="max-w-xs rounded-md border border-slate-300 px-2 py-1 text-sm"
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    let Some(offer) = offers.iter().find(|o| o.key == chosen) else { return };
                    let key = next_key.get_untracked();
                    next_key.set(key + 1);
                    let input = RemediationStepInput { title: offer.title.clone(), notes: Some(offer.notes.clone()), ..Default::default() };
                    rows.update(|rows| rows.push(StepRow { key, input }));
                    if let Some(select) = ev.target().and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlSelectElement>(t).ok()) {
                        select.set_value("");
                    }
                }>
                <option value="">{prompt}</option>
                {options.into_iter().map(|o| view! { <option value=o.key.clone()>{o.title.clone()}</option> }).collect_view()}
            </select>
        }
    })
}
