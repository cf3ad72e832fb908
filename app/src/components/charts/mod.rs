//! Charts drawn as plain SVG by our own code: they render on the server, hydrate without a chart
//! library and print. Every chart also carries its figures as an HTML table behind "Show data",
//! so the numbers stay readable without the picture (screen readers, copy and paste).
//!
//! Components take plain data (labels, numbers, CSS colours) rather than DTOs so any page can
//! use them; the geometry lives in pure functions below, unit-tested without a renderer.
use leptos::prelude::*;

/// One horizontal bar of [`StackedBars`].
#[derive(Clone, Debug, PartialEq)]
pub struct BarRow {
    pub label: String,
    pub href: Option<String>,
    pub segments: Vec<Segment>,
}

/// One part of a bar; segments sharing a label across rows share a legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub label: String,
    pub value: f64,
    /// Any CSS colour (`#10b981`, `rgb(...)`), used as the SVG fill.
    pub color: String,
}

/// One stage of a [`Funnel`]; `note` is shown under the label, in the hover text and the table.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelStage {
    pub label: String,
    pub value: u64,
    pub note: Option<String>,
}

/// One line of a [`LineChart`]; `points[i]` belongs to the chart's `x_labels[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LineSeries {
    pub label: String,
    pub color: String,
    pub points: Vec<f64>,
}

const NO_DATA_PERIOD: &str = "No data for this period";
const NO_DATA: &str = "Nothing to show yet";

const TEXT: &str = "#334155";
const TEXT_MUTED: &str = "#64748b";
const LINK: &str = "#4f46e5";
const GRID: &str = "#e2e8f0";
const TRACK: &str = "#f1f5f9";
const FUNNEL_FILL: &str = "#c7d2fe";
const FUNNEL_JOIN: &str = "#eef2ff";

const CAPTION_CLASS: &str = "mb-2 text-sm font-medium text-slate-700";
const EMPTY_CLASS: &str = "chart-empty rounded border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500";
const DETAILS_CLASS: &str = "chart-details mt-2 text-xs text-slate-600";
const SUMMARY_CLASS: &str = "cursor-pointer select-none text-indigo-600 hover:underline";
const TABLE_CLASS: &str = "chart-data mt-2 w-full border-collapse text-left text-xs";
const TH_CLASS: &str = "border-b border-slate-200 px-2 py-1 font-medium text-slate-700";
const ROW_TH_CLASS: &str = "border-b border-slate-100 px-2 py-1 font-normal text-slate-700";
const TD_CLASS: &str = "border-b border-slate-100 px-2 py-1 tabular-nums";

const BARS_WIDTH: f64 = 640.0;
const BARS_LABEL_RIGHT: f64 = 152.0;
const BARS_X: f64 = 160.0;
/// Room after the longest bar for its total.
const BARS_END_ROOM: f64 = 48.0;
const BARS_PAD: f64 = 4.0;
const BAR_ROW: f64 = 28.0;
const BAR_HEIGHT: f64 = 18.0;
/// About what fits left of the bars at font size 12; the full label is in the hover text and table.
const BAR_LABEL_CHARS: usize = 24;

const FUNNEL_WIDTH: f64 = 640.0;
/// The bars are centred in this width; the conversion rates are written to its right.
const FUNNEL_AREA: f64 = 480.0;
/// A stage with nothing in it still shows, so the funnel keeps its shape.
const FUNNEL_MIN: f64 = 4.0;
const FUNNEL_STAGE: f64 = 40.0;
const FUNNEL_GAP: f64 = 10.0;
const FUNNEL_PAD: f64 = 4.0;

const LINE_WIDTH: f64 = 640.0;
const LINE_HEIGHT: f64 = 240.0;
const LINE_LEFT: f64 = 48.0;
/// Half of a date label, so the last one is not clipped.
const LINE_RIGHT: f64 = 32.0;
const LINE_TOP: f64 = 12.0;
const LINE_BOTTOM: f64 = 28.0;
const Y_INTERVALS: usize = 4;
/// A `YYYY-MM-DD` label takes about 60 units; eight of them fit the plot without touching.
const MAX_X_LABELS: usize = 8;

const METER_SIZE: f64 = 120.0;
const METER_RADIUS: f64 = 48.0;

// ---------------------------------------------------------------------------------------------
// Pure helpers: formatting and geometry.
// ---------------------------------------------------------------------------------------------

/// Non-finite figures (a division by zero upstream) are drawn and written as zero rather than
/// breaking the SVG with `NaN` coordinates.
fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

fn is_integral(value: f64) -> bool {
    (value - value.round()).abs() < 1e-9
}

/// Integers without decimals, anything else with one: counts read `12`, averages `2.5`.
pub fn format_number(value: f64) -> String {
    let value = finite(value);
    if is_integral(value) {
        // Adding zero turns `-0` into `0`.
        format!("{:.0}", value.round() + 0.0)
    } else {
        format!("{value:.1}")
    }
}

/// Percentages always with one decimal, like the figures the server computes.
pub fn format_percent(value: f64) -> String {
    format!("{:.1}%", finite(value) + 0.0)
}

/// A value with its unit; `%` values get the one decimal percentages always have.
pub fn format_with_suffix(value: f64, suffix: &str) -> String {
    if suffix == "%" {
        format_percent(value)
    } else {
        format!("{}{suffix}", format_number(value))
    }
}

/// `part` as a percentage of `whole`; zero when there is no whole to share.
pub fn share(part: f64, whole: f64) -> f64 {
    let whole = finite(whole);
    if whole > 0.0 {
        finite(part) / whole * 100.0
    } else {
        0.0
    }
}

/// SVG coordinates with one decimal: sharp enough at any size, and short markup.
fn coord(value: f64) -> String {
    format!("{:.1}", finite(value))
}

fn points_attr(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|&(x, y)| format!("{},{}", coord(x), coord(y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The largest of `values`, and never below zero so an empty chart still has a scale.
fn largest(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().map(finite).fold(0.0, f64::max)
}

/// Negative parts cannot be drawn as a length, so they count as nothing.
fn row_total(segments: &[Segment]) -> f64 {
    segments.iter().map(|s| finite(s.value).max(0.0)).sum()
}

/// Widths of a row's segments, in the units of `full_width`, when `scale` fills the full width:
/// the largest row total for comparable bars, or the row's own total for 100 % bars.
pub fn segment_widths(values: &[f64], scale: f64, full_width: f64) -> Vec<f64> {
    let scale = finite(scale);
    if scale <= 0.0 {
        return vec![0.0; values.len()];
    }
    values
        .iter()
        .map(|&value| finite(value).max(0.0) / scale * full_width)
        .collect()
}

/// Where each segment starts, so the segments follow each other from `origin`.
pub fn segment_starts(widths: &[f64], origin: f64) -> Vec<f64> {
    widths
        .iter()
        .scan(origin, |x, &width| {
            let start = *x;
            *x += width;
            Some(start)
        })
        .collect()
}

/// Legend entries (label, colour) in first-seen order, one per segment label.
fn legend_entries(rows: &[BarRow]) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for segment in rows.iter().flat_map(|row| &row.segments) {
        if !entries.iter().any(|(label, _)| *label == segment.label) {
            entries.push((segment.label.clone(), segment.color.clone()));
        }
    }
    entries
}

/// A row's value for one legend entry; a row may lack a series (zero) or repeat one (summed).
fn series_value(segments: &[Segment], label: &str) -> f64 {
    segments
        .iter()
        .filter(|s| s.label == label)
        .map(|s| finite(s.value))
        .sum()
}

/// Stage widths: the largest stage fills `full_width`; `min_width` keeps empty stages visible.
pub fn funnel_widths(values: &[u64], full_width: f64, min_width: f64) -> Vec<f64> {
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&value| {
            if max == 0 {
                min_width
            } else {
                (value as f64 / max as f64 * full_width).max(min_width)
            }
        })
        .collect()
}

/// `current` as a percentage of `previous`; `None` when the previous stage is empty.
pub fn conversion(previous: u64, current: u64) -> Option<f64> {
    (previous > 0).then(|| current as f64 / previous as f64 * 100.0)
}

/// Conversion from the previous stage for every stage; the first has no previous one.
pub fn conversions(values: &[u64]) -> Vec<Option<f64>> {
    std::iter::once(None)
        .chain(values.windows(2).map(|pair| conversion(pair[0], pair[1])))
        .take(values.len())
        .collect()
}

/// The smallest "nice" step (1, 2, 2.5 or 5 times a power of ten) that covers `raw`; counts
/// (`integer`) only get whole steps, so no axis reads `2.5 executions`.
fn nice_step(raw: f64, integer: bool) -> f64 {
    let mut magnitude = 10f64.powi(raw.log10().floor() as i32);
    // Bounded so a degenerate input (subnormal, huge) cannot spin forever.
    for _ in 0..32 {
        for factor in [1.0, 2.0, 2.5, 5.0] {
            let step = factor * magnitude;
            let covers = step >= raw * (1.0 - 1e-9);
            let whole = !integer || (step >= 1.0 - 1e-9 && is_integral(step));
            if covers && whole {
                return if integer { step.round() } else { step };
            }
        }
        magnitude *= 10.0;
    }
    raw
}

/// Y-axis ticks from zero to the first nice number at or above `max`, at most `intervals`
/// intervals apart. An empty or all-zero chart gets `0..=intervals` so the axis still reads.
pub fn nice_ticks(max: f64, intervals: usize, integer: bool) -> Vec<f64> {
    let intervals = intervals.max(1);
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        intervals as f64
    };
    let step = nice_step(max / intervals as f64, integer);
    // The relative slack absorbs rounding (100 / 25 = 4.000…01) without adding an empty interval.
    let count = ((max / step) * (1.0 - 1e-9))
        .ceil()
        .clamp(1.0, intervals as f64) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Which of `count` x labels to write so that at most `max_labels` show, evenly spaced from the
/// first; the rest would overlap. Every point keeps its label in the hover text and the table.
pub fn label_indices(count: usize, max_labels: usize) -> Vec<usize> {
    if count == 0 || max_labels == 0 {
        return Vec::new();
    }
    (0..count).step_by(count.div_ceil(max_labels)).collect()
}

/// X of point `index` of `count` spread over the plot; a single point sits in the middle.
pub fn x_position(index: usize, count: usize, left: f64, width: f64) -> f64 {
    if count <= 1 {
        left + width / 2.0
    } else {
        left + width * index as f64 / (count - 1) as f64
    }
}

/// Y of `value` on an axis from zero (bottom) to `top_value` (top); values outside are clamped
/// to the plot so a stray figure cannot draw over the labels.
pub fn y_position(value: f64, top_value: f64, top: f64, height: f64) -> f64 {
    let ratio = if top_value > 0.0 {
        (finite(value) / top_value).clamp(0.0, 1.0)
    } else {
        0.0
    };
    top + height * (1.0 - ratio)
}

/// Filled and empty stroke lengths of a ring for `percent`, clamped to one turn.
pub fn ring_dash(percent: f64, circumference: f64) -> (f64, f64) {
    let filled = circumference * finite(percent).clamp(0.0, 100.0) / 100.0;
    (filled, circumference - filled)
}

fn truncate_label(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(max_chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces.
// ---------------------------------------------------------------------------------------------

/// `<title>` is both an HTML and an SVG tag, and `view!` picks HTML for it when it has siblings;
/// built directly it is always an SVG title, which browsers show as the shape's hover text, also
/// after client-side navigation.
fn tooltip(text: String) -> impl IntoView {
    leptos::tachys::svg::title().child(text)
}

/// An SVG link, built directly for the same reason as [`tooltip`]: `<a>` is ambiguous in `view!`.
fn svg_link(href: String, child: impl IntoView) -> impl IntoView {
    leptos::tachys::svg::a().attr("href", href).child(child)
}

fn empty_chart(root: &'static str, caption: String, message: &'static str) -> impl IntoView {
    view! {
        <figure class=root>
            <figcaption class=CAPTION_CLASS>{caption}</figcaption>
            <p class=EMPTY_CLASS>{message}</p>
        </figure>
    }
}

fn legend(entries: Vec<(String, String)>) -> impl IntoView {
    view! {
        <ul class="chart-legend mt-2 flex flex-wrap gap-3 text-xs text-slate-600">
            {entries
                .into_iter()
                .map(|(label, color)| {
                    view! {
                        <li class="flex items-center gap-1">
                            <span class="inline-block h-3 w-3 rounded-sm" style=format!("background-color: {color}") aria-hidden="true"></span>
                            {label}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

// ---------------------------------------------------------------------------------------------
// Stacked bars.
// ---------------------------------------------------------------------------------------------

mod bars;
mod funnel;
mod line;
mod meter;

pub use bars::StackedBars;
pub use funnel::Funnel;
pub use line::LineChart;
pub use meter::Meter;

#[cfg(test)]
mod tests {
    use super::funnel::stage_rate;
    use super::*;

    fn close(actual: &[f64], expected: &[f64]) -> bool {
        actual.len() == expected.len()
            && actual
                .iter()
                .zip(expected)
                .all(|(a, b)| (a - b).abs() < 1e-6)
    }

    #[test]
    fn numbers_read_as_counts_and_percentages() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(f64::NAN), "0");
        assert_eq!(format_percent(12.0 / 35.0 * 100.0), "34.3%");
        assert_eq!(format_percent(0.0), "0.0%");
        assert_eq!(format_with_suffix(4.0, ""), "4");
        assert_eq!(format_with_suffix(50.0, "%"), "50.0%");
        assert_eq!(format_with_suffix(3.0, " h"), "3 h");
        assert!((share(12.0, 35.0) - 34.285_714).abs() < 1e-3);
        assert!(close(&[share(5.0, 0.0)], &[0.0]));
    }

    #[test]
    fn segments_are_proportional_to_the_scale() {
        // Against the largest total (40): a 40 row fills the width, a 20 row half of it.
        assert!(close(
            &segment_widths(&[10.0, 30.0], 40.0, 200.0),
            &[50.0, 150.0]
        ));
        assert!(close(&segment_widths(&[20.0], 40.0, 200.0), &[100.0]));
        // Normalized: the row's own total fills the width.
        assert!(close(
            &segment_widths(&[1.0, 3.0], 4.0, 200.0),
            &[50.0, 150.0]
        ));
        // Nothing to scale against, or a negative part: nothing drawn, nothing broken.
        assert!(close(&segment_widths(&[0.0, 0.0], 0.0, 200.0), &[0.0, 0.0]));
        assert!(close(
            &segment_widths(&[-5.0, 5.0], 5.0, 100.0),
            &[0.0, 100.0]
        ));
        assert!(close(
            &segment_starts(&[50.0, 0.0, 150.0], 160.0),
            &[160.0, 210.0, 210.0]
        ));
    }

    #[test]
    fn rows_total_and_share_a_legend() {
        let segment = |label: &str, value: f64, color: &str| Segment {
            label: label.to_string(),
            value,
            color: color.to_string(),
        };
        let rows = vec![
            BarRow {
                label: "Execution".into(),
                href: None,
                segments: vec![
                    segment("Validated", 12.0, "green"),
                    segment("Partial", 3.0, "amber"),
                ],
            },
            BarRow {
                label: "Persistence".into(),
                href: Some("/matrix".into()),
                segments: vec![
                    segment("Partial", 1.0, "amber"),
                    segment("Not covered", 4.0, "grey"),
                ],
            },
        ];
        let labels: Vec<String> = legend_entries(&rows).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["Validated", "Partial", "Not covered"]);
        assert!(close(&[row_total(&rows[0].segments)], &[15.0]));
        assert!(close(
            &[series_value(&rows[1].segments, "Validated")],
            &[0.0]
        ));
        assert!(close(
            &[series_value(&rows[1].segments, "Not covered")],
            &[4.0]
        ));
    }

    #[test]
    fn funnel_stages_keep_a_visible_width() {
        assert!(close(
            &funnel_widths(&[100, 50, 0], 400.0, 4.0),
            &[400.0, 200.0, 4.0]
        ));
        assert!(close(&funnel_widths(&[0, 0], 400.0, 4.0), &[4.0, 4.0]));
        assert!(funnel_widths(&[], 400.0, 4.0).is_empty());
        assert_eq!(conversion(0, 5), None);
        assert_eq!(conversion(40, 10), Some(25.0));
        assert_eq!(
            conversions(&[40, 10, 0, 3]),
            [None, Some(25.0), Some(0.0), None]
        );
        assert!(conversions(&[]).is_empty());
        assert_eq!(stage_rate(0, Some(100.0)), None);
        assert_eq!(stage_rate(2, None).as_deref(), Some("—"));
        assert_eq!(stage_rate(1, Some(25.0)).as_deref(), Some("25.0%"));
    }

    #[test]
    fn y_ticks_are_nice_numbers() {
        assert!(close(
            &nice_ticks(100.0, 4, false),
            &[0.0, 25.0, 50.0, 75.0, 100.0]
        ));
        assert!(close(&nice_ticks(7.0, 4, true), &[0.0, 2.0, 4.0, 6.0, 8.0]));
        assert!(close(
            &nice_ticks(3.2, 4, false),
            &[0.0, 1.0, 2.0, 3.0, 4.0]
        ));
        assert!(close(
            &nice_ticks(0.8, 4, false),
            &[0.0, 0.2, 0.4, 0.6, 0.8]
        ));
        // Counts never get fractional steps.
        assert!(close(&nice_ticks(10.0, 4, true), &[0.0, 5.0, 10.0]));
        assert!(close(&nice_ticks(1.0, 4, true), &[0.0, 1.0]));
        // No data still gives a readable axis.
        assert!(close(&nice_ticks(0.0, 4, true), &[0.0, 1.0, 2.0, 3.0, 4.0]));
        assert!(close(
            &nice_ticks(f64::NAN, 4, false),
            &[0.0, 1.0, 2.0, 3.0, 4.0]
        ));
        for max in [0.3, 1.0, 9.0, 13.0, 42.0, 99.0, 101.0, 1234.0, 98_765.0] {
            for integer in [false, true] {
                let ticks = nice_ticks(max, 4, integer);
                let top = ticks.last().copied().unwrap_or_default();
                assert!(top >= max - 1e-9, "{max}: top {top} below the data");
                assert!((2..=5).contains(&ticks.len()), "{max}: {ticks:?}");
                if integer {
                    assert!(ticks.iter().all(|&t| is_integral(t)), "{max}: {ticks:?}");
                }
            }
        }
    }

    #[test]
    fn x_labels_are_thinned() {
        assert_eq!(label_indices(30, 8), [0, 4, 8, 12, 16, 20, 24, 28]);
        assert_eq!(label_indices(16, 8), [0, 2, 4, 6, 8, 10, 12, 14]);
        assert_eq!(label_indices(5, 8), [0, 1, 2, 3, 4]);
        assert_eq!(label_indices(1, 8), [0]);
        assert!(label_indices(0, 8).is_empty());
        for count in 1..200 {
            assert!(label_indices(count, 8).len() <= 8, "{count}");
        }
    }

    #[test]
    fn points_are_placed_in_the_plot() {
        let xs = [
            x_position(0, 1, 48.0, 560.0),
            x_position(0, 3, 48.0, 560.0),
            x_position(2, 3, 48.0, 560.0),
        ];
        assert!(close(&xs, &[328.0, 48.0, 608.0]));
        let ys = [
            y_position(0.0, 100.0, 12.0, 200.0),
            y_position(100.0, 100.0, 12.0, 200.0),
            y_position(25.0, 100.0, 12.0, 200.0),
            y_position(150.0, 100.0, 12.0, 200.0),
            y_position(5.0, 0.0, 12.0, 200.0),
        ];
        assert!(close(&ys, &[212.0, 12.0, 162.0, 12.0, 212.0]));
        assert_eq!(points_attr(&[(1.0, 2.24), (3.0, 4.0)]), "1.0,2.2 3.0,4.0");
    }

    #[test]
    fn ring_and_labels() {
        assert!(close(
            &[ring_dash(25.0, 200.0).0, ring_dash(25.0, 200.0).1],
            &[50.0, 150.0]
        ));
        assert!(close(&[ring_dash(140.0, 200.0).0], &[200.0]));
        assert!(close(&[ring_dash(-3.0, 200.0).0], &[0.0]));
        assert_eq!(truncate_label("Execution", 24), "Execution");
        assert_eq!(truncate_label("Command and Control", 8), "Command…");
    }
}
