//! Horizontal stacked bars, one row per item, with a legend and a data table.
use super::*;

/// Horizontal stacked bars, one per row, longest total = full width (or every bar full width
/// when `normalize`, to compare shares). `label_title` heads the label column of the data table.
#[component]
pub fn StackedBars(
    rows: Vec<BarRow>,
    #[prop(into)] caption: String,
    #[prop(optional)] normalize: bool,
    #[prop(optional, into)] label_title: Option<String>,
) -> impl IntoView {
    if rows.is_empty() {
        return empty_chart("chart-bars", caption, NO_DATA).into_any();
    }
    let totals: Vec<f64> = rows.iter().map(|row| row_total(&row.segments)).collect();
    let largest_total = largest(totals.iter().copied());
    let bar_width = BARS_WIDTH - BARS_X - BARS_END_ROOM;
    let height = rows.len() as f64 * BAR_ROW + 2.0 * BARS_PAD;
    let entries = legend_entries(&rows);

    let bars = rows
        .iter()
        .zip(&totals)
        .enumerate()
        .map(|(index, (row, &total))| {
            let middle = BARS_PAD + index as f64 * BAR_ROW + BAR_ROW / 2.0;
            let bar_top = middle - BAR_HEIGHT / 2.0;
            let scale = if normalize { total } else { largest_total };
            let values: Vec<f64> = row.segments.iter().map(|s| s.value).collect();
            let widths = segment_widths(&values, scale, bar_width);
            let starts = segment_starts(&widths, BARS_X);
            let end = BARS_X + widths.iter().sum::<f64>();
            let segments = row
                .segments
                .iter()
                .zip(widths.iter().zip(starts))
                .filter(|(_, (width, _))| **width > 0.0)
                .map(|(segment, (&width, x))| {
                    {
                        let hover = format!(
                            "{} — {}: {} ({})",
                            row.label,
                            segment.label,
                            format_number(segment.value),
                            format_percent(share(segment.value, total))
                        );
                        view! {
                            <rect
                                class="chart-segment"
                                x=coord(x)
                                y=coord(bar_top)
                                width=coord(width)
                                height=coord(BAR_HEIGHT)
                                fill=segment.color.clone()
                                data-value=format_number(segment.value)
                            >
                                {tooltip(hover)}
                            </rect>
                        }
                    }
                })
                .collect_view();
            let track = normalize.then(|| {
                view! { <rect x=coord(BARS_X) y=coord(bar_top) width=coord(bar_width) height=coord(BAR_HEIGHT) fill=TRACK /> }
            });
            view! {
                <g class="chart-row" data-label=row.label.clone()>
                    {bar_label(row, middle)}
                    {track}
                    {segments}
                    <text x=coord(end + 6.0) y=coord(middle) dominant-baseline="middle" font-size="11" fill=TEXT_MUTED>
                        {format_number(total)}
                    </text>
                </g>
            }
        })
        .collect_view();

    let header = entries
        .iter()
        .map(|(label, _)| view! { <th scope="col" class=TH_CLASS>{label.clone()}</th> })
        .collect_view();
    let body = rows
        .iter()
        .zip(&totals)
        .map(|(row, &total)| {
            let cells = entries
                .iter()
                .map(|(label, _)| {
                    let value = series_value(&row.segments, label);
                    let text = if normalize {
                        format!(
                            "{} ({})",
                            format_number(value),
                            format_percent(share(value, total))
                        )
                    } else {
                        format_number(value)
                    };
                    view! { <td class=TD_CLASS>{text}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row" class=ROW_TH_CLASS>{row.label.clone()}</th>
                    {cells}
                    <td class=TD_CLASS>{format_number(total)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <figure class="chart-bars">
            <figcaption class=CAPTION_CLASS>{caption.clone()}</figcaption>
            <svg viewBox=format!("0 0 {} {}", coord(BARS_WIDTH), coord(height)) class="w-full h-auto" role="img" aria-label=caption.clone()>
                {bars}
            </svg>
            {legend(entries)}
            <details class=DETAILS_CLASS>
                <summary class=SUMMARY_CLASS>"Show data"</summary>
                <table class=TABLE_CLASS>
                    <caption class="sr-only">{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class=TH_CLASS>{label_title.unwrap_or_else(|| "Name".to_string())}</th>
                            {header}
                            <th scope="col" class=TH_CLASS>"Total"</th>
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

fn bar_label(row: &BarRow, middle: f64) -> AnyView {
    let fill = if row.href.is_some() { LINK } else { TEXT };
    let text = view! {
        <text x=coord(BARS_LABEL_RIGHT) y=coord(middle) text-anchor="end" dominant-baseline="middle" font-size="12" fill=fill>
            {tooltip(row.label.clone())}
            {truncate_label(&row.label, BAR_LABEL_CHARS)}
        </text>
    };
    match &row.href {
        Some(href) => svg_link(href.clone(), text).into_any(),
        None => text.into_any(),
    }
}

// ---------------------------------------------------------------------------------------------
// Funnel.
// ---------------------------------------------------------------------------------------------
