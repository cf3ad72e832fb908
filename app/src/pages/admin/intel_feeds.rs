//! The System panel's threat-intel feeds: the subscribed feeds with what their last fetch
//! said, the README's seed list (one click each), a form for any other feed, and "Scan feeds
//! now" (which the panel's job runner follows like any other run).
use crate::api::intel::{AddIntelFeed, ChangeIntelFeed, intel_feeds};
use crate::components::feedback::{
    ErrorAlert, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::components::layout::{Loading, PageError};
use crate::domain::intel::FeedKind;
use crate::dto::jobs::{EnqueuedJob, JobName};
use crate::error::AppError;
use leptos::prelude::*;

use super::system::when;

/// The threat-intel feeds: subscribed ones with what their last fetch said, the README's seed
/// list (one click each), a form for any other feed, and "Scan feeds now".
#[component]
pub fn IntelFeeds(
    refresh: RwSignal<u32>,
    run: Action<JobName, Result<EnqueuedJob, AppError>>,
    busy: Signal<bool>,
) -> impl IntoView {
    let add = ServerAction::<AddIntelFeed>::new();
    let change = ServerAction::<ChangeIntelFeed>::new();
    let feeds = Resource::new(
        move || (add.version().get(), change.version().get(), refresh.get()),
        |_| intel_feeds(),
    );
    let error = Signal::derive(move || {
        add.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| change.value().get().and_then(|r| r.err()))
    });
    view! {
        <section id="intel-feeds" class="mt-6 rounded-md border border-slate-200 p-4">
            <div class="flex flex-wrap items-start justify-between gap-4">
                <div>
                    <h3 class="font-semibold">"Threat-intel feeds"</h3>
                    <p class="mt-1 max-w-2xl text-sm text-slate-600">
                        "RSS, Atom and JSON feeds the weekly intel scan reads. New items are matched against ATT&CK techniques, threat actors and software; leads hear about mentioned techniques that are not covered or not validated lately."
                    </p>
                </div>
                <button id="intel-scan-now" type="button" class=PRIMARY_BUTTON disabled=move || busy.get()
                    on:click=move |_| { run.dispatch(JobName::IntelScan); }>
                    "Scan feeds now"
                </button>
            </div>
            <div class="mt-3"><ErrorAlert error /></div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match feeds.await {
                        Ok((feeds, seeds)) => view! {
                            {if feeds.is_empty() {
                                view! { <p id="intel-feeds-empty" class="mt-3 text-sm text-slate-500">"No feed yet: add one from the list below or by URL."</p> }.into_any()
                            } else {
                                view! {
                                    <table id="intel-feed-list" class="mt-3 min-w-full divide-y divide-slate-200 text-sm">
                                        <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                            <tr><th class="px-3 py-2">"Feed"</th><th class="px-3 py-2">"Last fetch"</th><th class="px-3 py-2">"Items"</th><th class="px-3 py-2"><span class="sr-only">"Actions"</span></th></tr>
                                        </thead>
                                        <tbody class="divide-y divide-slate-100 align-top">
                                            {feeds.into_iter().map(|f| {
                                                let id = f.id.to_string();
                                                let remove_id = id.clone();
                                                let status = f.last_status.clone().unwrap_or_else(|| "never fetched".into());
                                                view! {
                                                    <tr class="intel-feed" data-feed=f.name.clone() data-status=status.clone()>
                                                        <td class="px-3 py-2">
                                                            <p class="font-medium">{f.name.clone()}{(!f.is_active).then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-600">"off"</span> })}</p>
                                                            <p class="break-all text-xs text-slate-500">{f.url.clone()}</p>
                                                            <p class="text-xs text-slate-500">{f.kind.map(|k| k.label()).unwrap_or("format detected on first fetch")}</p>
                                                        </td>
                                                        <td class="px-3 py-2 text-xs">
                                                            <p class="feed-status">{format!("{status} · {}", when(f.last_fetched_at))}</p>
                                                            {f.last_error.clone().map(|e| view! { <p class="feed-error text-red-700">{e}</p> })}
                                                        </td>
                                                        <td class="px-3 py-2 text-xs">{format!("{} ({} new last time)", f.item_count, f.last_new_items)}</td>
                                                        <td class="whitespace-nowrap px-3 py-2 text-right">
                                                            <ActionForm action=change attr:class="inline">
                                                                <input type="hidden" name="id" value=id />
                                                                <input type="hidden" name="active" value=(!f.is_active).to_string() />
                                                                <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">{if f.is_active { "Switch off" } else { "Switch on" }}</button>
                                                            </ActionForm>
                                                            <ActionForm action=change attr:class="ml-1 inline">
                                                                <input type="hidden" name="id" value=remove_id />
                                                                <input type="hidden" name="remove" value="true" />
                                                                <button type="submit" class="remove-feed rounded-md border border-red-200 px-2 py-1 text-xs text-red-700 hover:bg-red-50">"Remove"</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <details id="intel-seeds" class="mt-4 text-sm">
                                <summary class="cursor-pointer font-medium text-indigo-700">"Suggested feeds (README seed list)"</summary>
                                <ul class="mt-2 divide-y divide-slate-100">
                                    {seeds.into_iter().map(|seed| {
                                        let (name, url) = (seed.name.clone(), seed.url.clone());
                                        let tags = seed.tags.join(",");
                                        view! {
                                        <li class="flex items-center justify-between gap-2 py-1" data-seed=seed.name.clone()>
                                            <span>{seed.name.clone()}<span class="ml-2 text-xs text-slate-500">{seed.url.clone()}</span></span>
                                            {if seed.added {
                                                view! { <span class="text-xs text-emerald-700">"added"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=add>
                                                        <input type="hidden" name="name" value=name />
                                                        <input type="hidden" name="url" value=url />
                                                        <input type="hidden" name="kind" value=seed.kind.as_str() />
                                                        <input type="hidden" name="tags" value=tags />
                                                        <button type="submit" class="add-seed rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">"Add"</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}
                                        </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </details>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=add attr:id="intel-feed-form" attr:class="mt-4 grid gap-2 sm:grid-cols-4">
                <div>
                    <label for="feed-name" class=LABEL_CLASS>"Name"</label>
                    <input id="feed-name" name="name" required maxlength="200" class=INPUT_CLASS />
                </div>
                <div class="sm:col-span-2">
                    <label for="feed-url" class=LABEL_CLASS>"Feed URL"</label>
                    <input id="feed-url" name="url" type="url" required placeholder="https://example.com/feed.xml" class=INPUT_CLASS />
                </div>
                <div>
                    <label for="feed-kind" class=LABEL_CLASS>"Format"</label>
                    <select id="feed-kind" name="kind" class=INPUT_CLASS>
                        <option value="">"Detect"</option>
                        {FeedKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="sm:col-span-3">
                    <label for="feed-tags" class=LABEL_CLASS>"Tags (comma-separated, optional)"</label>
                    <input id="feed-tags" name="tags" class=INPUT_CLASS />
                </div>
                <div class="flex items-end">
                    <button id="feed-add" type="submit" class=SECONDARY_BUTTON>"Add feed"</button>
                </div>
            </ActionForm>
        </section>
    }
}
