//! "1–25 of 120" with Previous and Next links that keep a list's filters.
use crate::components::feedback::SECONDARY_BUTTON;
use leptos::prelude::*;

/// `path` with the list's `filters` (`name=value`, already encoded) and `offset`.
fn link(path: &str, filters: &[String], offset: u64) -> String {
    let mut query = filters.to_vec();
    query.push(format!("offset={offset}"));
    format!("{path}?{}", query.join("&"))
}

#[component]
pub fn Pager(
    /// The id of the "1–25 of 120" text.
    range_id: &'static str,
    path: &'static str,
    filters: Vec<String>,
    offset: u64,
    shown: u64,
    total: u64,
    page_size: u64,
) -> impl IntoView {
    let prev = (offset > 0).then(|| link(path, &filters, offset.saturating_sub(page_size)));
    let next = (offset + shown < total).then(|| link(path, &filters, offset + page_size));
    view! {
        <div class="mt-4 flex items-center justify-between text-sm text-slate-600">
            <span id=range_id>{format!("{}–{} of {}", offset + 1, offset + shown, total)}</span>
            <div class="flex gap-2">
                {prev.map(|href| view! { <a href=href class=SECONDARY_BUTTON>"Previous"</a> })}
                {next.map(|href| view! { <a href=href class=SECONDARY_BUTTON>"Next"</a> })}
            </div>
        </div>
    }
}
