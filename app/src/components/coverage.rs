//! How coverage looks: one colour per status, used by the matrix, badges and the legend.
use crate::domain::coverage::CoverageStatus;
use leptos::prelude::*;

pub fn status_classes(status: CoverageStatus) -> &'static str {
    match status {
        CoverageStatus::Validated => "bg-emerald-500 text-white border-emerald-600",
        CoverageStatus::Partial => "bg-amber-300 text-amber-950 border-amber-400",
        CoverageStatus::InProgress => "bg-sky-200 text-sky-950 border-sky-300",
        CoverageStatus::NotCovered => "bg-white text-slate-800 border-slate-200",
    }
}

#[component]
pub fn StatusBadge(status: CoverageStatus) -> impl IntoView {
    view! {
        <span class=format!("inline-block rounded-full border px-2 py-0.5 text-xs font-medium {}", status_classes(status)) data-status=status.as_str()>
            {status.label()}
        </span>
    }
}

#[component]
pub fn Legend() -> impl IntoView {
    view! {
        <ul id="legend" class="flex flex-wrap items-center gap-3 text-xs text-slate-600" aria-label="Legend">
            {CoverageStatus::ALL
                .into_iter()
                .map(|status| view! {
                    <li class="flex items-center gap-1">
                        <span class=format!("inline-block h-3 w-3 rounded-sm border {}", status_classes(status))></span>
                        {status.label()}
                    </li>
                })
                .collect_view()}
            <li class="flex items-center gap-1">
                <span class="inline-block h-3 w-3 rounded-sm border-2 border-dashed border-rose-500"></span>
                "Review required"
            </li>
        </ul>
    }
}
