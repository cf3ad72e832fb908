//! Intel items as the Intel page and the technique and actor pages show them: title, source,
//! date, the plain-text summary, and a chip per mention linking into the knowledge base.
use crate::api::intel::{TriageIntel, intel_about};
use crate::components::layout::{Loading, PageError, signed_in};
use crate::domain::intel::{IntelMatch, IntelStatus, MentionKind};
use crate::domain::rbac::Permission;
use crate::dto::intel::IntelItemDto;
use leptos::prelude::*;

fn chip_class(kind: MentionKind) -> &'static str {
    match kind {
        MentionKind::Technique => "bg-indigo-50 text-indigo-800 hover:bg-indigo-100",
        MentionKind::Actor => "bg-rose-50 text-rose-800 hover:bg-rose-100",
        MentionKind::Software => "bg-slate-100 text-slate-700",
    }
}

/// One chip per mention: techniques and actors link to their pages.
#[component]
pub fn MentionChips(matches: Vec<IntelMatch>) -> impl IntoView {
    view! {
        <ul class="intel-chips mt-2 flex flex-wrap gap-1">
            {matches.into_iter().map(|m| {
                let title = format!("{}: {} — matched {} in {}", m.kind.label(), m.name, m.matched.join(", "),
                    m.fields.iter().map(|f| f.label().to_lowercase()).collect::<Vec<_>>().join(", "));
                let text = match m.kind {
                    MentionKind::Technique => m.mitre_id.clone(),
                    _ => m.name.clone(),
                };
                let href = match m.kind {
                    MentionKind::Technique => Some(format!("/techniques/{}", m.mitre_id)),
                    MentionKind::Actor => Some(format!("/threat-actors/{}", m.mitre_id)),
                    MentionKind::Software => None,
                };
                let class = format!("inline-block rounded px-2 py-0.5 text-xs font-medium {}", chip_class(m.kind));
                view! {
                    <li data-kind=m.kind.as_str() data-mention=m.mitre_id.clone()>
                        {match href {
                            Some(href) => view! { <a class=class href=href title=title>{text}</a> }.into_any(),
                            None => view! { <span class=class title=title>{text}</span> }.into_any(),
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

pub fn status_badge_class(status: IntelStatus) -> &'static str {
    match status {
        IntelStatus::New => "bg-sky-100 text-sky-800",
        IntelStatus::Relevant => "bg-emerald-100 text-emerald-800",
        IntelStatus::Dismissed => "bg-slate-100 text-slate-600",
    }
}

/// One item: a card with its triage buttons for those who may triage.
#[component]
pub fn IntelCard(item: IntelItemDto, triage: Option<ServerAction<TriageIntel>>) -> impl IntoView {
    let when = item
        .published_at
        .unwrap_or(item.first_seen_at)
        .format("%Y-%m-%d")
        .to_string();
    let link = item
        .link
        .clone()
        .filter(|l| crate::domain::validation::is_safe_link(l));
    let id = item.id;
    let status = item.status;
    view! {
        <li class="intel-item rounded-lg border border-slate-200 bg-white p-4" data-id=id.to_string() data-status=status.as_str()>
            <div class="flex flex-wrap items-start justify-between gap-2">
                <div class="min-w-0">
                    {match link {
                        Some(href) => view! { <a class="intel-title font-semibold text-indigo-700 hover:underline" href=href target="_blank" rel="noopener noreferrer nofollow">{item.title.clone()}</a> }.into_any(),
                        None => view! { <span class="intel-title font-semibold">{item.title.clone()}</span> }.into_any(),
                    }}
                    <p class="text-xs text-slate-500">{format!("{} · {when}", item.source)}</p>
                </div>
                <span class=format!("intel-status rounded px-1.5 py-0.5 text-xs font-medium {}", status_badge_class(status))>{status.label()}</span>
            </div>
            {(!item.summary.is_empty()).then(|| view! { <p class="intel-summary mt-2 line-clamp-3 text-sm text-slate-700">{item.summary.clone()}</p> })}
            <MentionChips matches=item.matches.clone() />
            {(!item.notes.is_empty()).then(|| view! { <p class="mt-2 text-xs italic text-slate-600">{format!("Notes: {}", item.notes)}</p> })}
            {triage.map(|action| view! {
                <div class="mt-3 flex flex-wrap gap-2">
                    {[IntelStatus::Relevant, IntelStatus::Dismissed, IntelStatus::New].into_iter().filter(|s| *s != status).map(|target| view! {
                        <ActionForm action>
                            <input type="hidden" name="id" value=id.to_string() />
                            <input type="hidden" name="status" value=target.as_str() />
                            <button type="submit" class="triage rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50" data-status=target.as_str()>
                                {match target {
                                    IntelStatus::Relevant => "Mark relevant",
                                    IntelStatus::Dismissed => "Dismiss",
                                    IntelStatus::New => "Back to new",
                                }}
                            </button>
                        </ActionForm>
                    }).collect_view()}
                </div>
            })}
        </li>
    }
}

pub type IntelResource = Resource<Result<crate::dto::intel::IntelMentions, crate::error::AppError>>;

/// The latest items about what `id` names; create it with the page (outside its suspended
/// detail) so it hydrates like the page does.
pub fn intel_resource(
    kind: MentionKind,
    id: impl Fn() -> String + Send + Sync + 'static,
) -> IntelResource {
    Resource::new(id, move |id| intel_about(kind.as_str().to_owned(), id))
}

/// The "Intel" section of a technique's or an actor's page: the latest items about it.
#[component]
pub fn IntelSection(kind: MentionKind, mitre_id: String, items: IntelResource) -> impl IntoView {
    let param = match kind {
        MentionKind::Actor => "actor",
        _ => "technique",
    };
    let all = format!("/intel?{param}={mitre_id}");
    view! {
        <section id="intel-section" class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <div class="mb-2 flex items-center justify-between">
                <h2 class="font-semibold">"Intel"</h2>
                <a class="text-indigo-600 hover:underline" href=all>"All intel"</a>
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(found) if found.items.is_empty() => view! { <p class="text-slate-500">"No intel mentions it yet."</p> }.into_any(),
                        Ok(found) => view! {
                            <p class="mb-2 text-xs text-slate-500">{format!("{} item{} mention it", found.total, if found.total == 1 { "" } else { "s" })}</p>
                            <ul class="space-y-2">
                                {found.items.into_iter().map(|item| {
                                    let link = item.link.clone().filter(|l| crate::domain::validation::is_safe_link(l));
                                    view! {
                                        <li class="intel-mention" data-status=item.status.as_str()>
                                            {match link {
                                                Some(href) => view! { <a class="text-indigo-600 hover:underline" href=href target="_blank" rel="noopener noreferrer nofollow">{item.title.clone()}</a> }.into_any(),
                                                None => view! { <span>{item.title.clone()}</span> }.into_any(),
                                            }}
                                            <span class="block text-xs text-slate-500">{format!("{} · {} · {}", item.source, item.published_at.unwrap_or(item.first_seen_at).format("%Y-%m-%d"), item.status.label())}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Whether the signed-in user may triage.
pub fn may_triage() -> bool {
    signed_in().is_some_and(|u| u.role.can(Permission::TriageIntel))
}
