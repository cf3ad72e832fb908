//! The test page's worklog tab: who worked on the test, when and for how long, the total, a
//! form to log time, and editing or deleting one's own entries while the test is active.
use super::detail::Actions;
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::components::layout::signed_in;
use crate::domain::worklog::{self, MINUTES_MAX, NOTE_MAX};
use crate::dto::workflow::TestDetail;
use leptos::prelude::*;

#[component]
pub(super) fn Worklog(detail: TestDetail, actions: Actions) -> impl IntoView {
    let me = signed_in();
    let may_log = me
        .as_ref()
        .is_some_and(|u| worklog::may_log(u.role, detail.state).is_ok());
    let my_id = me.map(|u| u.id);
    let active = detail.state.is_active();
    let error = action_error(actions.log_work.value());
    let delete_error = action_error(actions.delete_worklog.value());
    let edit_error = action_error(actions.edit_worklog.value());
    let test_id = detail.id.to_string();
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h2 class="font-semibold">"Worklog"</h2>
            <p id="worklog-total" class="text-sm text-slate-600" data-minutes=detail.worklog_minutes>
                {format!("{} logged in {} entries", worklog::duration_text(detail.worklog_minutes), detail.worklog.len())}
            </p>
        </div>
        <ErrorAlert error=delete_error />
        <ErrorAlert error=edit_error />
        {if detail.worklog.is_empty() {
            view! { <p id="worklog-empty" class="mt-3 text-sm text-slate-500">"Nobody has logged work on this test yet."</p> }.into_any()
        } else {
            view! {
                <ul id="worklog" class="mt-3 divide-y divide-slate-100 text-sm">
                    {detail.worklog.clone().into_iter().map(|e| {
                        let mine = my_id == Some(e.author_id);
                        let when = e.started_at.unwrap_or(e.created_at).format("%Y-%m-%d %H:%M UTC").to_string();
                        view! {
                            <li class="flex flex-wrap items-start justify-between gap-2 py-2" data-worklog=e.id.to_string() data-minutes=e.minutes>
                                <div>
                                    <p><span class="font-medium">{e.author_name.clone().unwrap_or_default()}</span>
                                        <span class="text-slate-500">{format!(" · {when} · {}", worklog::duration_text(e.minutes))}</span></p>
                                    {(!e.note.is_empty()).then(|| view! { <p class="whitespace-pre-line text-slate-700">{e.note.clone()}</p> })}
                                </div>
                                {(mine && active).then(move || {
                                    let editing = RwSignal::new(false);
                                    let started = e.started_at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default();
                                    let (test_id, entry_id) = (e.test_id.to_string(), e.id.to_string());
                                    let (edit_test_id, edit_entry_id, minutes, note) =
                                        (test_id.clone(), entry_id.clone(), e.minutes, e.note.clone());
                                    view! {
                                        <div class="flex gap-3">
                                            <button type="button" class="text-xs text-indigo-700 hover:underline" on:click=move |_| editing.update(|v| *v = !*v)>"Edit"</button>
                                            <ActionForm action=actions.delete_worklog>
                                                <input type="hidden" name="test_id" value=test_id />
                                                <input type="hidden" name="entry_id" value=entry_id />
                                                <button type="submit" class="text-xs text-rose-700 hover:underline">"Delete"</button>
                                            </ActionForm>
                                        </div>
                                        {move || editing.get().then(|| {
                                            let (edit_test_id, edit_entry_id, note, started) =
                                                (edit_test_id.clone(), edit_entry_id.clone(), note.clone(), started.clone());
                                            view! {
                                            <ActionForm action=actions.edit_worklog attr:class="worklog-edit mt-2 flex w-full flex-wrap items-end gap-2">
                                                <input type="hidden" name="test_id" value=edit_test_id />
                                                <input type="hidden" name="entry_id" value=edit_entry_id />
                                                <label class="text-xs">"Minutes"<input name="minutes" type="number" min="1" max=MINUTES_MAX required value=minutes class=INPUT_CLASS /></label>
                                                <label class="text-xs">"Started (UTC)"<input name="started_at" type="datetime-local" value=started class=INPUT_CLASS /></label>
                                                <label class="text-xs">"What you did"<input name="note" type="text" maxlength=NOTE_MAX value=note class=INPUT_CLASS /></label>
                                                <button type="submit" class=PRIMARY_BUTTON>"Save"</button>
                                            </ActionForm>
                                            }
                                        })}
                                    }
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {may_log.then(|| view! {
            <ActionForm action=actions.log_work attr:id="worklog-form" attr:class="mt-4 grid gap-3 rounded-md border border-slate-200 p-4 md:grid-cols-4">
                <input type="hidden" name="test_id" value=test_id.clone() />
                <div>
                    <label for="worklog-minutes" class=LABEL_CLASS>"Minutes"</label>
                    <input id="worklog-minutes" name="minutes" type="number" min="1" max=MINUTES_MAX required class=INPUT_CLASS />
                    <FieldError error field="minutes" />
                </div>
                <div>
                    <label for="worklog-started" class=LABEL_CLASS>"Started (UTC, optional)"</label>
                    <input id="worklog-started" name="started_at" type="datetime-local" class=INPUT_CLASS />
                    <FieldError error field="started_at" />
                </div>
                <div class="md:col-span-2">
                    <label for="worklog-note" class=LABEL_CLASS>"What you did"</label>
                    <input id="worklog-note" name="note" type="text" maxlength=NOTE_MAX class=INPUT_CLASS />
                    <FieldError error field="note" />
                </div>
                <div class="md:col-span-4 flex items-center gap-3">
                    <button id="worklog-submit" type="submit" class=PRIMARY_BUTTON>"Log work"</button>
                    <ErrorAlert error />
                </div>
            </ActionForm>
        })}
        {(!active).then(|| view! { <p class="mt-3 text-xs text-slate-500">"The test is closed: its worklog can no longer change."</p> })}
    }
}
