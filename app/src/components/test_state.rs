//! How a test's state looks, everywhere.
use crate::domain::workflow::TestState;
use leptos::prelude::*;

pub fn state_classes(state: TestState) -> &'static str {
    match state {
        TestState::Draft => "bg-slate-100 text-slate-700 border-slate-300",
        TestState::RedExecuting => "bg-rose-100 text-rose-800 border-rose-300",
        TestState::BlueEvaluating => "bg-sky-100 text-sky-800 border-sky-300",
        TestState::InReview => "bg-violet-100 text-violet-800 border-violet-300",
        TestState::Validated => "bg-emerald-500 text-white border-emerald-600",
        TestState::Rejected => "bg-amber-200 text-amber-950 border-amber-400",
    }
}

#[component]
pub fn StateBadge(state: TestState) -> impl IntoView {
    view! {
        <span class=format!("inline-block rounded-full border px-2 py-0.5 text-xs font-medium {}", state_classes(state)) data-state=state.as_str()>
            {state.label()}
        </span>
    }
}

/// `1h 02m 03s`, for the execution timer.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// `12.5 MB`, for file sizes.
pub fn file_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(super::duration(0), "0m 00s");
        assert_eq!(super::duration(3723), "1h 02m 03s");
        assert_eq!(super::file_size(512), "512 B");
        assert_eq!(super::file_size(2048), "2.0 KB");
        assert_eq!(super::file_size(5 * 1024 * 1024), "5.0 MB");
    }
}
