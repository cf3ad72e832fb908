//! Form widgets shared by the pages: a labelled text input, the options of a fixed set of
//! values, and the choice of a colleague for a side.
use crate::components::feedback::{FieldError, INPUT_CLASS, LABEL_CLASS};
use crate::domain::rbac::Team;
use crate::domain::workflow::may_work_for;
use crate::dto::admin::users::Colleague;
use leptos::prelude::*;
use uuid::Uuid;

/// A labelled text input with its field error.
#[component]
pub fn TextField(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(into)] error: Signal<Option<crate::error::AppError>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "on")] autocomplete: &'static str,
    #[prop(optional, into)] value: Option<String>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class=LABEL_CLASS>{label}</label>
            <input id=id name=name type=input_type autocomplete=autocomplete value=value class=INPUT_CLASS />
            <FieldError error field=name />
        </div>
    }
}

/// The `<option>`s of a fixed set of values (their wire names), `selected` chosen.
pub fn select_options(options: &[&'static str], selected: &str) -> impl IntoView + use<> {
    let selected = selected.to_owned();
    options
        .iter()
        .map(|o| {
            let o = *o;
            view! { <option value=o selected=selected == o>{o.replace('_', " ")}</option> }
        })
        .collect_view()
}

/// A choice of colleague (for `team`: those who may work for it), or nobody.
#[component]
pub fn PersonSelect(
    name: &'static str,
    label: &'static str,
    people: Vec<Colleague>,
    team: Option<Team>,
    selected: Option<Uuid>,
    editable: bool,
    current_name: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div>
            <label for=id.clone() class=LABEL_CLASS>{label}</label>
            {if editable {
                view! {
                    <select id=id name=name class=INPUT_CLASS>
                        <option value="" selected=selected.is_none()>"— nobody —"</option>
                        {people
                            .into_iter()
                            .filter(|p| team.is_none_or(|team| may_work_for(p.role, team)))
                            .map(|p| view! {
                                <option value=p.id.to_string() selected=selected == Some(p.id)>
                                    {format!("{} ({})", p.display_name, p.role.label())}
                                </option>
                            })
                            .collect_view()}
                    </select>
                }.into_any()
            } else {
                view! { <p id=id class="mt-1 text-sm" data-readonly="">{current_name.unwrap_or_else(|| "—".into())}</p> }.into_any()
            }}
        </div>
    }
}

/// The campaigns that still take tests, as the pickers and filters list them.
pub type OpenCampaigns = Vec<(Uuid, String)>;

/// The test's campaign: a choice of the campaigns that still take tests (the current one kept
/// even when it no longer does), or a link to it when the test cannot change campaign.
#[component]
pub fn CampaignSelect(
    selected: Option<Uuid>,
    current_name: Option<String>,
    editable: bool,
    mut choices: OpenCampaigns,
) -> impl IntoView {
    if !editable {
        return view! {
            <div>
                <span class=LABEL_CLASS>"Campaign"</span>
                <p id="field-campaign_id" class="mt-1 text-sm" data-readonly="">
                    {match (selected, current_name) {
                        (Some(id), Some(name)) => view! { <a class="text-indigo-700 hover:underline" href=format!("/campaigns/{id}")>{name}</a> }.into_any(),
                        _ => view! { "—" }.into_any(),
                    }}
                </p>
            </div>
        }
        .into_any();
    }
    if let (Some(id), Some(name)) = (selected, current_name)
        && !choices.iter().any(|(c, _)| *c == id)
    {
        choices.insert(0, (id, name));
    }
    view! {
        <div>
            <label for="field-campaign_id" class=LABEL_CLASS>"Campaign"</label>
            <select id="field-campaign_id" name="campaign_id" class=INPUT_CLASS>
                <option value="" selected=selected.is_none()>"— none —"</option>
                {choices.into_iter().map(|(id, name)| view! {
                    <option value=id.to_string() selected=selected == Some(id)>{name}</option>
                }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

/// A list filter by campaign (`name="campaign"`): "Any", or one of the campaigns that still
/// take tests; a closed campaign already chosen (from a link) stays chosen.
#[component]
pub fn CampaignFilter(
    id: &'static str,
    #[prop(into)] selected: Signal<Option<String>>,
    choices: Resource<Result<OpenCampaigns, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="text-xs text-slate-600">"Campaign"</label>
            <Transition fallback=move || view! { <select id=id class=INPUT_CLASS disabled=true></select> }>
                {move || Suspend::new(async move {
                    let chosen = selected.get().unwrap_or_default();
                    let choices = choices.await.unwrap_or_default();
                    let known = choices.iter().any(|(c, _)| c.to_string() == chosen);
                    view! {
                        <select id=id name="campaign" class=INPUT_CLASS>
                            <option value="">"Any campaign"</option>
                            {(!chosen.is_empty() && !known).then(|| view! { <option value=chosen.clone() selected=true>"The chosen campaign"</option> })}
                            {choices.into_iter().map(|(c, name)| {
                                let c = c.to_string();
                                view! { <option value=c.clone() selected=c == chosen>{name}</option> }
                            }).collect_view()}
                        </select>
                    }
                })}
            </Transition>
        </div>
    }
}
