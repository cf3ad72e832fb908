//! The interface's icons, as inline SVG drawn with `currentColor` strokes: they render the same
//! in every browser and need no icon font (Debian's Chromium has none of the emoji glyphs the
//! first version used, which showed as empty boxes).
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconName {
    Dashboard,
    Tests,
    Catalog,
    Matrix,
    Actors,
    Intel,
    Campaigns,
    Rules,
    DataSources,
    Scoring,
    Compliance,
    Reports,
    Profile,
    Users,
    Audit,
    System,
    Menu,
    Bell,
}

impl IconName {
    /// The icon's strokes, on a 24 × 24 grid.
    fn paths(self) -> &'static [&'static str] {
        match self {
            IconName::Dashboard => &[
                "M4.5 17a8.5 8.5 0 1 1 15 0",
                "M12 14l4-5",
                "M12 14a1 1 0 1 0 0.01 0",
            ],
            IconName::Tests => &[
                "M9 3h6",
                "M10 3v6l-5.5 9.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3",
                "M7.5 15h9",
            ],
            IconName::Intel => &[
                "M12 12m-8.5 0a8.5 8.5 0 1 0 17 0a8.5 8.5 0 1 0 -17 0",
                "M12 12m-4.5 0a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0 -9 0",
                "M12 12l6-6",
            ],
            IconName::Campaigns => &["M5 21V4", "M5 4h12l-2.5 4 2.5 4H5"],
            IconName::DataSources => &[
                "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3z",
                "M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6",
                "M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3",
            ],
            IconName::Scoring => &["M4 20h16", "M7 16v-5", "M12 16V6", "M17 16v-8"],
            IconName::Compliance => &["M6 3h9l4 4v14H6z", "M15 3v4h4", "M9 13l2 2 4-4"],
            IconName::Rules => &[
                "M12 3l7 3v5c0 4.5-3 8.5-7 10-4-1.5-7-5.5-7-10V6z",
                "M9 12l2 2 4-4",
            ],
            IconName::Catalog => &[
                "M5 4.5A1.5 1.5 0 0 1 6.5 3H19v15H6.5A1.5 1.5 0 0 0 5 19.5z",
                "M5 19.5A1.5 1.5 0 0 0 6.5 21H19",
                "M9 7h6",
            ],
            IconName::Matrix => &[
                "M4 4h6v6H4z",
                "M14 4h6v6h-6z",
                "M4 14h6v6H4z",
                "M14 14h6v6h-6z",
            ],
            IconName::Actors => &[
                "M12 3a9 9 0 1 0 0.01 0",
                "M12 7a5 5 0 1 0 0.01 0",
                "M12 11a1 1 0 1 0 0.01 0",
            ],
            IconName::Reports => &["M6 3h8l4 4v14H6z", "M14 3v4h4", "M9 12h6", "M9 16h6"],
            IconName::Profile => &["M12 4a4 4 0 1 0 0.01 0", "M4 21a8 8 0 0 1 16 0"],
            IconName::Users => &[
                "M9 5a3.5 3.5 0 1 0 0.01 0",
                "M2.5 20a6.5 6.5 0 0 1 13 0",
                "M16 5.5a3 3 0 0 1 0 6",
                "M18 14.5a6 6 0 0 1 3.5 5.5",
            ],
            IconName::Audit => &[
                "M9 6h11", "M9 12h11", "M9 18h11", "M4 6h1", "M4 12h1", "M4 18h1",
            ],
            IconName::System => &[
                "M12 9a3 3 0 1 0 0.01 0",
                "M12 2.5v3",
                "M12 18.5v3",
                "M2.5 12h3",
                "M18.5 12h3",
                "M5.3 5.3l2.1 2.1",
                "M16.6 16.6l2.1 2.1",
                "M5.3 18.7l2.1-2.1",
                "M16.6 7.4l2.1-2.1",
            ],
            IconName::Menu => &["M4 6h16", "M4 12h16", "M4 18h16"],
            IconName::Bell => &["M6 16v-5a6 6 0 1 1 12 0v5l2 2H4z", "M10 20a2 2 0 0 0 4 0"],
        }
    }
}

/// One icon, sized by `class` (default 1.25 rem), decorative (`aria-hidden`): the control it
/// sits in carries the accessible name.
#[component]
pub fn Icon(name: IconName, #[prop(default = "h-5 w-5")] class: &'static str) -> impl IntoView {
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
            data-icon=format!("{name:?}").to_lowercase()
        >
            {name.paths().iter().map(|d| view! { <path d=*d /> }).collect_view()}
        </svg>
    }
}
