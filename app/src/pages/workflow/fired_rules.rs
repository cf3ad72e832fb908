//! The test page's "Detection rules that fired": a picker while the blue side is edited.
use crate::components::feedback::{FieldError, LABEL_CLASS};
use crate::dto::workflow::TestDetail;
use leptos::prelude::*;
use uuid::Uuid;

/// The detection rules that fired: a picker of the rules the test may name while the blue
/// side is edited (kept as a JSON list in `fired_rules`), the list with each rule's proof after.
#[component]
pub fn FiredRules(
    detail: TestDetail,
    editable: bool,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let chosen = RwSignal::new(
        detail
            .fired_rules
            .iter()
            .map(|r| r.id)
            .collect::<Vec<Uuid>>(),
    );
    let json = move || serde_json::to_string(&chosen.get()).unwrap_or_else(|_| "[]".into());
    let body = if editable && detail.rule_choices.is_empty() {
        view! { <p class="text-sm text-slate-500">"No active detection rule maps to this technique or its parent yet."</p> }.into_any()
    } else if editable {
        view! {
            <input type="hidden" name="fired_rules" prop:value=json />
            <ul class="mt-1 space-y-1">
                {detail.rule_choices.iter().map(|r| {
                    let id = r.id;
                    let checked = chosen.get_untracked().contains(&id);
                    view! {
                        <li>
                            <label class="flex items-center gap-2 text-sm" data-rule=r.title.clone()>
                                <input type="checkbox" class="fired-rule" value=id.to_string() checked=checked
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|ids| {
                                            ids.retain(|x| *x != id);
                                            if on { ids.push(id); }
                                        });
                                    } />
                                {r.title.clone()}
                                <span class="text-xs text-slate-500">{format!("{} · {}", r.source.label(), r.techniques.join(", "))}</span>
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    } else if detail.fired_rules.is_empty() {
        view! { <p class="text-sm text-slate-500">"—"</p> }.into_any()
    } else {
        view! {
            <ul class="mt-1 space-y-1">
                {detail.fired_rules.iter().map(|r| view! {
                    <li class="text-sm" data-rule=r.title.clone()>
                        <a class="text-indigo-600 hover:underline" href=format!("/detection-rules/{}", r.id)>{r.title.clone()}</a>
                        <span class="ml-2 text-xs text-slate-500">{r.proof.label()}</span>
                    </li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <fieldset id="fired-rules" class="mt-4">
            <legend class=LABEL_CLASS>"Detection rules that fired"</legend>
            {body}
            <FieldError error field="fired_rule_ids" />
        </fieldset>
    }
}
