//! A control's page: its mapped techniques with their coverage and score, the ones not
//! covered, and the validated tests behind the others (with links).
use crate::api::scoring::compliance_control;
use crate::components::coverage::status_classes;
use crate::components::layout::{Loading, PageError};
use crate::dto::compliance::ControlDetail;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn ControlPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| Uuid::parse_str(&id).ok())
    };
    let detail = Resource::new(id, |id| async move {
        match id {
            Some(id) => compliance_control(id).await,
            None => Err(crate::error::AppError::NotFound("No such control".into())),
        }
    });
    view! {
        <Title text="Compliance control" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <ControlView detail /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ControlView(detail: ControlDetail) -> impl IntoView {
    let c = &detail.control;
    let title = format!("{} {}", c.control_id, c.name);
    view! {
        <a class="text-sm text-indigo-600 hover:underline" href=format!("/compliance?framework={}", detail.framework_id)>{format!("← {}", detail.framework_name)}</a>
        <h1 id="control-title" class="mt-2 text-2xl font-semibold">{title}</h1>
        <p class="text-sm text-slate-600">{format!("{} {}", c.family, detail.family_name)}</p>
        <p id="control-figures" class="mt-2 text-sm" data-coverage=c.figures.coverage_percent>
            {format!(
                "{} mapped techniques: {} validated, {} partial, {} in progress, {} not covered · {:.1}% validated · mean score {:.1}",
                c.figures.technique_count, c.figures.validated, c.figures.partial, c.figures.in_progress,
                c.figures.not_covered, c.figures.coverage_percent, c.figures.mean_score
            )}
        </p>
        {(!detail.uncovered_techniques.is_empty()).then(|| view! {
            <p id="control-not-covered" class="mt-2 text-sm text-red-700">
                {format!("Not covered: {}", detail.uncovered_techniques.join(", "))}
            </p>
        })}
        <table id="control-techniques" class="mt-4 min-w-full divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white text-sm">
            <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                <tr><th class="px-3 py-2">"Technique"</th><th class="px-3 py-2">"Coverage"</th><th class="px-3 py-2">"Score"</th><th class="px-3 py-2">"Evidence"</th></tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {detail.techniques.into_iter().map(|t| view! {
                    <tr class="mapped-technique" data-technique=t.mitre_id.clone() data-status=t.coverage_status.as_str()>
                        <td class="px-3 py-2 align-top">
                            <a class="text-indigo-700 hover:underline" href=format!("/techniques/{}", t.mitre_id)>{format!("{} {}", t.mitre_id, t.name)}</a>
                            {(!t.comments.is_empty()).then(|| view! { <p class="mt-1 max-w-xl text-xs text-slate-500">{t.comments.clone()}</p> })}
                        </td>
                        <td class="px-3 py-2 align-top"><span class=format!("rounded border px-2 py-0.5 text-xs {}", status_classes(t.coverage_status))>{t.coverage_status.label()}</span></td>
                        <td class="px-3 py-2 align-top font-mono">{format!("{:.1}", t.score)}</td>
                        <td class="px-3 py-2 align-top">
                            {if t.evidence.is_empty() {
                                view! { <span class="text-xs text-slate-400">"No validated test"</span> }.into_any()
                            } else {
                                view! {
                                    <ul class="space-y-0.5 text-xs">
                                        {t.evidence.iter().map(|e| view! {
                                            <li class="evidence-test">
                                                <a class="text-indigo-700 hover:underline" href=format!("/tests/{}", e.id)>{e.title.clone()}</a>
                                                {format!(
                                                    " · {}{}",
                                                    e.detection_result.map(|d| d.label()).unwrap_or("no result"),
                                                    e.completed_at.map(|at| at.format(" · %Y-%m-%d").to_string()).unwrap_or_default()
                                                )}
                                            </li>
                                        }).collect_view()}
                                        {(t.validated_tests > t.evidence.len() as u64).then(|| view! {
                                            <li class="text-slate-500">{format!("and {} more", t.validated_tests - t.evidence.len() as u64)}</li>
                                        })}
                                    </ul>
                                }.into_any()
                            }}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
