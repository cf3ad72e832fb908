use crate::api::knowledge::{threat_actor, threat_actors};
use crate::components::coverage::StatusBadge;
use crate::components::feedback::{INPUT_CLASS, SECONDARY_BUTTON};
use crate::components::intel::{IntelResource, IntelSection, intel_resource};
use crate::components::layout::{Loading, NotFound, PageError};
use crate::components::markdown::Markdown;
use crate::domain::coverage::CoverageStatus;
use crate::domain::intel::MentionKind;
use crate::dto::knowledge::ThreatActorDetail;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ThreatActorsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("search").filter(|s| !s.is_empty());
    let actors = Resource::new(search, threat_actors);
    view! {
        <Title text="Threat actors" />
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Threat actors"</h1>
            <Form method="GET" action="">
                <div class="flex gap-2">
                    <label for="actor-search" class="sr-only">"Search actors"</label>
                    <input id="actor-search" type="search" name="search" placeholder="Name or alias" value=move || search().unwrap_or_default() class=INPUT_CLASS />
                    <button type="submit" class=SECONDARY_BUTTON>"Search"</button>
                </div>
            </Form>
        </div>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match actors.await {
                    Ok(list) if list.is_empty() => view! { <p class="text-slate-500">"No threat actors match. Import ATT&CK from the System panel if the list is empty."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul id="actors" class="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
                            {list.into_iter().map(|a| view! {
                                <li>
                                    <a href=format!("/threat-actors/{}", a.mitre_id) class="block rounded-lg border border-slate-200 bg-white p-4 hover:border-indigo-300">
                                        <p class="font-semibold">{a.name.clone()}" "<span class="font-mono text-xs text-slate-500">{a.mitre_id.clone()}</span></p>
                                        <p class="truncate text-xs text-slate-500">{a.aliases.join(", ")}</p>
                                        <p class="mt-1 text-xs">{format!("{} techniques", a.technique_count)}</p>
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ThreatActorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actor = Resource::new(id, threat_actor);
    let intel = intel_resource(MentionKind::Actor, move || id().to_uppercase());
    view! {
        <a href="/threat-actors" class="text-sm text-indigo-600 hover:underline">"← All threat actors"</a>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match actor.await {
                    Ok(actor) => view! { <ActorDetail actor intel /> }.into_any(),
                    Err(AppError::NotFound(_)) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActorDetail(actor: ThreatActorDetail, intel: IntelResource) -> impl IntoView {
    let total = actor.techniques.len();
    let covered = actor
        .techniques
        .iter()
        .filter(|t| t.coverage_status == CoverageStatus::Validated)
        .count();
    let partial = actor
        .techniques
        .iter()
        .filter(|t| t.coverage_status == CoverageStatus::Partial)
        .count();
    view! {
        <Title text=actor.name.clone() />
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="font-mono text-sm text-slate-500">{actor.mitre_id.clone()}</p>
                <h1 id="actor-name" class="text-2xl font-semibold">{actor.name.clone()}</h1>
                <p class="text-sm text-slate-500">{actor.aliases.join(", ")}</p>
            </div>
            <a id="actor-on-matrix" href=format!("/matrix?actor={}", actor.mitre_id) class=SECONDARY_BUTTON>"Highlight on the matrix"</a>
        </div>
        <p id="actor-coverage" class="mt-4 text-sm">
            {format!("We validate {covered} of the {total} techniques this actor uses ({partial} partially).")}
        </p>
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="rounded-lg border border-slate-200 bg-white p-6 lg:col-span-2">
                <h2 class="mb-3 text-lg font-semibold">"Techniques used"</h2>
                <ul id="actor-techniques" class="divide-y divide-slate-100 text-sm">
                    {actor.techniques.into_iter().map(|t| view! {
                        <li class="flex items-center justify-between gap-2 py-2" data-technique=t.mitre_id.clone()>
                            <a class="text-indigo-600 hover:underline" href=format!("/techniques/{}", t.mitre_id)>{format!("{} {}", t.mitre_id, t.name)}</a>
                            <StatusBadge status=t.coverage_status />
                        </li>
                    }).collect_view()}
                </ul>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-6 text-sm">
                <h2 class="mb-3 text-lg font-semibold">"About"</h2>
                <Markdown source=actor.description.clone() />
                {actor.url.clone().filter(|url| crate::domain::validation::is_safe_link(url)).map(|url| view! {
                    <a href=url class="mt-3 inline-block text-indigo-600 hover:underline" target="_blank" rel="noopener noreferrer">"View on attack.mitre.org ↗"</a>
                })}
                <div class="mt-6"><IntelSection kind=MentionKind::Actor mitre_id=actor.mitre_id.clone() items=intel /></div>
            </section>
        </div>
    }
}
