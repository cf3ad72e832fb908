//! The System panel's webhooks: the receivers with their events and what is waiting or has
//! failed, a form for a new one (its secret is never shown again), switching one off or on,
//! a test ping, and each one's latest deliveries with every attempt.
use super::system::when;
use crate::api::campaigns::{
    AddWebhook, ChangeWebhook, EditWebhook, list_webhooks, webhook_deliveries,
};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, action_error,
};
use crate::components::layout::{Loading, PageError};
use crate::domain::webhooks::{DeliveryStatus, WebhookEvent};
use crate::dto::webhooks::WebhookDto;
use leptos::prelude::*;
use uuid::Uuid;

/// The event checkboxes, by form field name.
const EVENT_BOXES: [(&str, WebhookEvent); 5] = [
    ("state_changed", WebhookEvent::TestStateChanged),
    ("validated", WebhookEvent::TestValidated),
    ("rejected", WebhookEvent::TestRejected),
    ("completed", WebhookEvent::CampaignCompleted),
    ("intel", WebhookEvent::IntelMatched),
];

fn delivery_class(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Delivered => "bg-emerald-100 text-emerald-800",
        DeliveryStatus::Pending => "bg-amber-100 text-amber-800",
        DeliveryStatus::Failed => "bg-red-100 text-red-800",
    }
}

#[component]
pub fn WebhooksPanel() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let change = ServerAction::<ChangeWebhook>::new();
    let edit = ServerAction::<EditWebhook>::new();
    let hooks = Resource::new(
        move || {
            (
                add.version().get(),
                change.version().get(),
                edit.version().get(),
            )
        },
        |_| list_webhooks(),
    );
    let add_error = action_error(add.value());
    let change_error = action_error(change.value());
    let edit_error = action_error(edit.value());
    let shown = RwSignal::new(None::<Uuid>);
    view! {
        <section id="webhooks" class="mb-8 rounded-lg border border-slate-200 bg-white p-6">
            <h2 class="text-lg font-semibold">"Webhooks"</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "Aegis posts a JSON body (event, id, time, data) to each receiver subscribed to an event, with the headers X-Aegis-Event, X-Aegis-Delivery and X-Aegis-Signature: sha256= and the HMAC-SHA256 of the body with the webhook's secret. Failed deliveries are retried with backoff."
            </p>
            <div class="mt-3"><ErrorAlert error=change_error /><ErrorAlert error=edit_error /></div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match hooks.await {
                        Ok(hooks) if hooks.is_empty() => view! { <p id="webhooks-empty" class="mt-3 text-sm text-slate-500">"No webhook yet."</p> }.into_any(),
                        Ok(hooks) => view! {
                            <ul id="webhook-list" class="mt-3 divide-y divide-slate-100">
                                {hooks.into_iter().map(|h| {
                                    let id = h.id;
                                    let events = h.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                                    view! {
                                        <li class="webhook py-3" data-url=h.url.clone() data-active=h.is_active.to_string()>
                                            <div class="flex flex-wrap items-start justify-between gap-2">
                                                <div>
                                                    <p class="break-all font-medium">{h.url.clone()}{(!h.is_active).then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-600">"off"</span> })}</p>
                                                    <p class="text-xs text-slate-500">{h.description.clone()}</p>
                                                    <p class="text-xs text-slate-600">{events}</p>
                                                    <p class="webhook-counts text-xs text-slate-500">{format!("{} waiting, {} failed", h.pending, h.failed)}</p>
                                                </div>
                                                <div class="flex gap-1">
                                                    {[("ping", "Send test ping"), (if h.is_active { "off" } else { "on" }, if h.is_active { "Switch off" } else { "Switch on" }), ("remove", "Remove")].into_iter().map(|(op, label)| view! {
                                                        <ActionForm action=change attr:class="inline">
                                                            <input type="hidden" name="id" value=id.to_string() />
                                                            <input type="hidden" name="op" value=op />
                                                            <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50" data-op=op>{label}</button>
                                                        </ActionForm>
                                                    }).collect_view()}
                                                    <button type="button" class="show-deliveries rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50"
                                                        on:click=move |_| shown.update(|s| *s = if *s == Some(id) { None } else { Some(id) })>
                                                        "Deliveries"
                                                    </button>
                                                </div>
                                            </div>
                                            <EditHook hook=h.clone() edit />
                                            {move || (shown.get() == Some(id)).then(|| view! { <Deliveries id refresh=change.version() /> })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=add attr:id="webhook-form" attr:class="mt-4 grid gap-2 md:grid-cols-2">
                <div class="md:col-span-2"><ErrorAlert error=add_error /></div>
                <div>
                    <label for="webhook-url" class=LABEL_CLASS>"Receiver URL"</label>
                    <input id="webhook-url" name="url" type="url" required placeholder="https://soar.example.com/hooks/aegis" class=INPUT_CLASS />
                    <FieldError error=add_error field="url" />
                </div>
                <div>
                    <label for="webhook-secret" class=LABEL_CLASS>"Secret (16+ characters; shown only now)"</label>
                    <input id="webhook-secret" name="secret" type="password" required minlength="16" autocomplete="off" class=INPUT_CLASS />
                    <FieldError error=add_error field="secret" />
                </div>
                <div>
                    <label for="webhook-description" class=LABEL_CLASS>"Description"</label>
                    <input id="webhook-description" name="description" maxlength="500" class=INPUT_CLASS />
                </div>
                <fieldset>
                    <legend class=LABEL_CLASS>"Events"</legend>
                    <div class="mt-1 flex flex-wrap gap-3 text-sm">
                        {EVENT_BOXES.into_iter().map(|(name, event)| view! {
                            <label class="flex items-center gap-1" title=event.label()>
                                <input type="checkbox" name=name value="on" checked=event == WebhookEvent::TestValidated />
                                {event.as_str()}
                            </label>
                        }).collect_view()}
                    </div>
                    <FieldError error=add_error field="events" />
                </fieldset>
                <div class="md:col-span-2">
                    <button type="submit" class=PRIMARY_BUTTON>"Add webhook"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// A webhook's URL, description, events and secret (a new one replaces it; blank keeps it).
#[component]
fn EditHook(hook: WebhookDto, edit: ServerAction<EditWebhook>) -> impl IntoView {
    let events = hook.events.clone();
    view! {
        <details class="webhook-edit mt-2 text-sm">
            <summary class="cursor-pointer text-xs font-medium text-indigo-700">"Edit"</summary>
            <ActionForm action=edit attr:class="mt-2 grid gap-2 md:grid-cols-2">
                <input type="hidden" name="id" value=hook.id.to_string() />
                <div>
                    <label class=LABEL_CLASS>"Receiver URL"<input name="url" type="url" required value=hook.url.clone() class=INPUT_CLASS /></label>
                </div>
                <div>
                    <label class=LABEL_CLASS>"New secret (blank keeps the current one)"<input name="secret" type="password" minlength="16" autocomplete="off" class=INPUT_CLASS /></label>
                </div>
                <div>
                    <label class=LABEL_CLASS>"Description"<input name="description" maxlength="500" value=hook.description.clone() class=INPUT_CLASS /></label>
                </div>
                <fieldset>
                    <legend class=LABEL_CLASS>"Events"</legend>
                    <div class="mt-1 flex flex-wrap gap-3">
                        {EVENT_BOXES.into_iter().map(|(name, event)| view! {
                            <label class="flex items-center gap-1" title=event.label()>
                                <input type="checkbox" name=name value="on" checked=events.contains(&event) />
                                {event.as_str()}
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <div class="md:col-span-2"><button type="submit" class="save-webhook rounded-md border border-slate-300 px-3 py-1 text-xs hover:bg-slate-50">"Save"</button></div>
            </ActionForm>
        </details>
    }
}

/// A webhook's latest deliveries, each attempt's answer.
#[component]
fn Deliveries(id: Uuid, refresh: RwSignal<usize>) -> impl IntoView {
    let deliveries = Resource::new(move || refresh.get(), move |_| webhook_deliveries(id));
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match deliveries.await {
                    Ok(list) if list.is_empty() => view! { <p class="webhook-deliveries mt-2 text-xs text-slate-500">"Nothing sent yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="webhook-deliveries mt-2 min-w-full text-xs">
                            <tbody class="divide-y divide-slate-100">
                                {list.into_iter().map(|d| {
                                    let last = d.attempt_log.last().cloned();
                                    view! {
                                        <tr class="delivery" data-event=d.event.clone() data-status=d.status.as_str()>
                                            <td class="px-2 py-1">{d.event.clone()}</td>
                                            <td class="px-2 py-1"><span class=format!("rounded px-1.5 {}", delivery_class(d.status))>{d.status.label()}</span></td>
                                            <td class="px-2 py-1">{format!("{} attempt(s)", d.attempts)}</td>
                                            <td class="px-2 py-1">{last.as_ref().map(|a| match a.status_code { Some(code) => format!("{code} in {} ms", a.duration_ms), None => format!("no answer ({} ms)", a.duration_ms) }).unwrap_or_else(|| "waiting".into())}</td>
                                            <td class="px-2 py-1 text-red-700">{d.last_error.clone().unwrap_or_default()}</td>
                                            <td class="px-2 py-1 text-slate-500">{when(Some(d.created_at))}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}
