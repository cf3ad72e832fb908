//! The Compliance pages: pick an imported framework (NIST SP 800-53, CSA CCM, …) and see, per
//! control family and per control, the coverage and mean score of the mapped ATT&CK
//! techniques; a control's page lists its techniques, those not covered, and the validated
//! tests behind the rest.
pub mod control;

use crate::api::scoring::compliance_page;
use crate::components::charts::{BarRow, Segment, StackedBars};
use crate::components::feedback::{INPUT_CLASS, LABEL_CLASS, SECONDARY_BUTTON};
use crate::components::layout::{Loading, PageError};
use crate::domain::coverage::CoverageStatus;
use crate::dto::compliance::{ComplianceFigures, FrameworkDetail};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

/// The status segments of a set of figures, for a bar.
pub fn segments(f: &ComplianceFigures) -> Vec<Segment> {
    [
        (CoverageStatus::Validated, f.validated),
        (CoverageStatus::Partial, f.partial),
        (CoverageStatus::InProgress, f.in_progress),
        (CoverageStatus::NotCovered, f.not_covered),
    ]
    .into_iter()
    .map(|(status, n)| Segment {
        label: status.label().to_owned(),
        value: n as f64,
        color: status.color().to_owned(),
    })
    .collect()
}

#[component]
pub fn CompliancePage() -> impl IntoView {
    let query = use_query_map();
    let chosen = move || query.read().get("framework").filter(|f| !f.is_empty());
    let data = Resource::new(chosen, compliance_page);
    view! {
        <Title text="Compliance" />
        <h1 class="text-2xl font-semibold">"Compliance"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Control frameworks mapped onto ATT&CK (the Center for Threat-Informed Defense's mappings): what your validated detections say about each control. Administrators import mappings in the System panel."
        </p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((list, Some(detail))) => view! {
                        <Picker list current=detail.framework.id.to_string() />
                        <FrameworkView detail />
                    }.into_any(),
                    Ok((_, None)) => view! {
                        <p id="compliance-empty" class="mt-6 rounded-lg border border-dashed border-slate-300 p-8 text-center text-sm text-slate-600">
                            "No framework imported yet. An administrator can import NIST SP 800-53 or CSA CCM mappings in the System panel."
                        </p>
                    }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Picker(list: Vec<crate::dto::compliance::FrameworkSummary>, current: String) -> impl IntoView {
    view! {
        <Form method="GET" action="/compliance" attr:id="framework-picker" attr:class="mt-4 flex items-end gap-2">
            <div>
                <label for="framework" class=LABEL_CLASS>"Framework"</label>
                <select id="framework" name="framework" class=INPUT_CLASS>
                    {list.into_iter().map(|f| {
                        let id = f.id.to_string();
                        let selected = id == current;
                        view! { <option value=id selected=selected>{format!("{} {} (ATT&CK {})", f.name, f.version, f.attack_version)}</option> }
                    }).collect_view()}
                </select>
            </div>
            <button id="framework-show" type="submit" class=SECONDARY_BUTTON>"Show"</button>
        </Form>
    }
}

#[component]
fn FrameworkView(detail: FrameworkDetail) -> impl IntoView {
    let f = &detail.framework;
    let rows: Vec<BarRow> = detail
        .families
        .iter()
        .map(|family| BarRow {
            label: format!("{} {}", family.family, family.name),
            href: None,
            segments: segments(&family.figures),
        })
        .collect();
    let report = format!("/api/v1/compliance/frameworks/{}/report?format=csv", f.id);
    view! {
        <section id="framework-summary" class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-framework=f.key.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-lg font-semibold">{format!("{} {}", f.name, f.version)}</h2>
                <a id="compliance-csv" class="text-sm text-indigo-600 hover:underline" href=report download>"Download CSV"</a>
            </div>
            <p id="framework-figures" class="mt-1 text-sm text-slate-600" data-coverage=f.figures.coverage_percent data-score=f.figures.mean_score>
                {format!(
                    "{} controls mapped to {} techniques · {:.1}% validated · mean score {:.1} · ATT&CK {} mapping, imported {}",
                    f.control_count, f.figures.technique_count, f.figures.coverage_percent, f.figures.mean_score,
                    f.attack_version, f.imported_at.format("%Y-%m-%d")
                )}
            </p>
        </section>
        <section id="family-chart" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="mb-2 font-semibold">"Coverage by control family"</h2>
            <StackedBars rows caption="Mapped techniques per coverage status, by control family" normalize=true label_title="Family" />
            <table id="family-table" class="mt-3 w-full text-sm">
                <thead class="text-left text-xs uppercase text-slate-500">
                    <tr><th class="py-1">"Family"</th><th>"Controls"</th><th>"Techniques"</th><th>"Validated"</th><th>"Mean score"</th></tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {detail.families.iter().map(|family| view! {
                        <tr class="family-row" data-family=family.family.clone() data-coverage=family.figures.coverage_percent>
                            <td class="py-1">{format!("{} {}", family.family, family.name)}</td>
                            <td>{family.control_count}</td>
                            <td>{family.figures.technique_count}</td>
                            <td>{format!("{:.1}%", family.figures.coverage_percent)}</td>
                            <td>{format!("{:.1}", family.figures.mean_score)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="mb-2 font-semibold">"Controls"</h2>
            <table id="control-table" class="min-w-full text-sm">
                <thead class="text-left text-xs uppercase text-slate-500">
                    <tr><th class="py-1">"Control"</th><th>"Techniques"</th><th>"Validated"</th><th>"Partial"</th><th>"Not covered"</th><th>"Coverage"</th><th>"Mean score"</th></tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {detail.controls.iter().map(|c| view! {
                        <tr class="control-row" data-control=c.control_id.clone() data-coverage=c.figures.coverage_percent>
                            <td class="py-1">
                                <a class="text-indigo-700 hover:underline" href=format!("/compliance/controls/{}", c.id)>
                                    <span class="font-mono">{c.control_id.clone()}</span>{format!(" {}", c.name)}
                                </a>
                            </td>
                            <td>{c.figures.technique_count}</td>
                            <td>{c.figures.validated}</td>
                            <td>{c.figures.partial}</td>
                            <td>{c.figures.not_covered}</td>
                            <td>{format!("{:.1}%", c.figures.coverage_percent)}</td>
                            <td>{format!("{:.1}", c.figures.mean_score)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
