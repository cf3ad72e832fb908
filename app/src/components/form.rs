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
