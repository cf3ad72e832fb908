//! A line chart of one or more series over time.
use super::*;

/// Lines over shared x labels (one per point), y from zero to a nice number at or above the
/// largest value (or `y_max`, e.g. 100 for percentages). `x_title` heads the first column of the
/// data table ("Period" by default).
#[component]
pub fn LineChart(
    series: Vec<LineSeries>,
    x_labels: Vec<String>,
    #[prop(into)] caption: String,
    #[prop(optional, into)] y_suffix: String,
    #[prop(optional)] y_max: Option<f64>,
    #[prop(optional, into)] x_title: Option<String>,
) -> impl IntoView {
    let count = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    if count == 0 {
        return empty_chart("chart-line", caption, NO_DATA_PERIOD).into_any();
    }
    let slots = count.max(x_labels.len());
    let plot_width = LINE_WIDTH - LINE_LEFT - LINE_RIGHT;
    let plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM;
    let values = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|v| v.is_finite())
    };
    let data_max = largest(values());
    let integer = y_max.is_none() && values().all(is_integral);
    let axis_max = y_max.map_or(data_max, |max| finite(max).max(data_max));
    let ticks = nice_ticks(axis_max, Y_INTERVALS, integer);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let label_at = |i: usize| {
        x_labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{}", i + 1))
    };
    let x_at = |i: usize| x_position(i, slots, LINE_LEFT, plot_width);
    let y_at = |value: f64| y_position(value, top_value, LINE_TOP, plot_height);

    let grid = ticks
        .iter()
        .map(|&tick| {
            let y = y_at(tick);
            view! {
                <line x1=coord(LINE_LEFT) x2=coord(LINE_LEFT + plot_width) y1=coord(y) y2=coord(y) stroke=GRID stroke-width="1" />
                <text x=coord(LINE_LEFT - 6.0) y=coord(y) text-anchor="end" dominant-baseline="middle" font-size="10" fill=TEXT_MUTED>
                    {format!("{}{y_suffix}", format_number(tick))}
                </text>
            }
        })
        .collect_view();

    let x_axis = label_indices(slots, MAX_X_LABELS)
        .into_iter()
        .map(|i| {
            view! {
                <text x=coord(x_at(i)) y=coord(LINE_HEIGHT - 8.0) text-anchor="middle" font-size="10" fill=TEXT_MUTED>
                    {label_at(i)}
                </text>
            }
        })
        .collect_view();

    let lines = series
        .iter()
        .map(|s| {
            let points: Vec<(usize, f64)> = s
                .points
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .collect();
            let coords: Vec<(f64, f64)> = points.iter().map(|&(i, v)| (x_at(i), y_at(v))).collect();
            let line = (coords.len() > 1).then(|| {
                view! {
                    <polyline points=points_attr(&coords) fill="none" stroke=s.color.clone() stroke-width="2" stroke-linejoin="round" stroke-linecap="round" />
                }
            });
            let dots = points
                .iter()
                .zip(&coords)
                .map(|(&(i, value), &(x, y))| {
                    let hover = format!("{} — {}: {}", label_at(i), s.label, format_with_suffix(value, &y_suffix));
                    view! {
                        <circle cx=coord(x) cy=coord(y) r="3.5" fill=s.color.clone() stroke="#ffffff" stroke-width="1">
                            {tooltip(hover)}
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <g class="chart-series" data-label=s.label.clone()>
                    {line}
                    {dots}
                </g>
            }
        })
        .collect_view();

    let header = series
        .iter()
        .map(|s| view! { <th scope="col" class=TH_CLASS>{s.label.clone()}</th> })
        .collect_view();
    let body = (0..slots)
        .map(|i| {
            let cells = series
                .iter()
                .map(|s| {
                    let text = s
                        .points
                        .get(i)
                        .map_or_else(|| "—".to_string(), |&v| format_with_suffix(v, &y_suffix));
                    view! { <td class=TD_CLASS>{text}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row" class=ROW_TH_CLASS>{label_at(i)}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    let entries: Vec<(String, String)> = series
        .iter()
        .map(|s| (s.label.clone(), s.color.clone()))
        .collect();

    view! {
        <figure class="chart-line">
            <figcaption class=CAPTION_CLASS>{caption.clone()}</figcaption>
            <svg viewBox=format!("0 0 {} {}", coord(LINE_WIDTH), coord(LINE_HEIGHT)) class="w-full h-auto" role="img" aria-label=caption.clone()>
                {grid}
                {x_axis}
                {lines}
            </svg>
            {legend(entries)}
            <details class=DETAILS_CLASS>
                <summary class=SUMMARY_CLASS>"Show data"</summary>
                <table class=TABLE_CLASS>
                    <caption class="sr-only">{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class=TH_CLASS>{x_title.unwrap_or_else(|| "Period".to_string())}</th>
                            {header}
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Meter.
// ---------------------------------------------------------------------------------------------
