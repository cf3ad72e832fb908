//! The pipeline funnel: one band per stage, narrowing with the tests that reached it.
use super::*;

/// Centred bars, widest for the largest stage, with the conversion from the previous stage
/// written beside each.
#[component]
pub fn Funnel(stages: Vec<FunnelStage>, #[prop(into)] caption: String) -> impl IntoView {
    if stages.is_empty() {
        return empty_chart("chart-funnel", caption, NO_DATA).into_any();
    }
    let values: Vec<u64> = stages.iter().map(|s| s.value).collect();
    let widths = funnel_widths(&values, FUNNEL_AREA, FUNNEL_MIN);
    let rates = conversions(&values);
    let tops: Vec<f64> = (0..stages.len())
        .map(|i| FUNNEL_PAD + i as f64 * (FUNNEL_STAGE + FUNNEL_GAP))
        .collect();
    let height = tops.last().copied().unwrap_or(FUNNEL_PAD) + FUNNEL_STAGE + FUNNEL_PAD;
    let center = FUNNEL_AREA / 2.0;
    let has_notes = stages.iter().any(|s| s.note.is_some());

    // The joins only suggest the flow; drawn first so the stages sit on top of them.
    let joins = widths
        .windows(2)
        .zip(&tops)
        .map(|(pair, &top)| {
            let (upper, lower) = (pair[0] / 2.0, pair[1] / 2.0);
            let bottom = top + FUNNEL_STAGE;
            let next = bottom + FUNNEL_GAP;
            let points = points_attr(&[
                (center - upper, bottom),
                (center + upper, bottom),
                (center + lower, next),
                (center - lower, next),
            ]);
            view! { <polygon points=points fill=FUNNEL_JOIN /> }
        })
        .collect_view();

    let bars = stages
        .iter()
        .zip(widths.iter().zip(&tops))
        .zip(&rates)
        .enumerate()
        .map(|(index, ((stage, (&width, &top)), &rate))| {
            let middle = top + FUNNEL_STAGE / 2.0;
            let mut hover = vec![format!("{}: {}", stage.label, stage.value)];
            if let Some(rate) = rate {
                hover.push(format!("{} of the previous stage", format_percent(rate)));
            }
            hover.extend(stage.note.clone());
            let label_y = if stage.note.is_some() { middle - 6.0 } else { middle };
            let note = stage.note.clone().map(|note| {
                view! {
                    <text x=coord(center) y=coord(middle + 9.0) text-anchor="middle" dominant-baseline="middle" font-size="10" fill=TEXT_MUTED>
                        {note}
                    </text>
                }
            });
            let beside = stage_rate(index, rate).map(|rate| {
                view! {
                    <text class="chart-conversion" x=coord(FUNNEL_AREA + 12.0) y=coord(middle) dominant-baseline="middle" font-size="11" fill=TEXT_MUTED>
                        {format!("{rate} of previous")}
                    </text>
                }
            });
            view! {
                <g class="chart-stage" data-label=stage.label.clone() data-value=stage.value.to_string()>
                    <rect x=coord(center - width / 2.0) y=coord(top) width=coord(width) height=coord(FUNNEL_STAGE) rx="4" fill=FUNNEL_FILL>
                        {tooltip(hover.join(" — "))}
                    </rect>
                    <text x=coord(center) y=coord(label_y) text-anchor="middle" dominant-baseline="middle" font-size="13" font-weight="600" fill=TEXT>
                        {format!("{}: {}", stage.label, stage.value)}
                    </text>
                    {note}
                    {beside}
                </g>
            }
        })
        .collect_view();

    let body = stages
        .iter()
        .zip(&rates)
        .enumerate()
        .map(|(index, (stage, &rate))| {
            let note = has_notes.then(|| {
                view! { <td class=TD_CLASS>{stage.note.clone()}</td> }
            });
            view! {
                <tr>
                    <th scope="row" class=ROW_TH_CLASS>{stage.label.clone()}</th>
                    <td class=TD_CLASS>{stage.value.to_string()}</td>
                    <td class=TD_CLASS>{stage_rate(index, rate)}</td>
                    {note}
                </tr>
            }
        })
        .collect_view();

    view! {
        <figure class="chart-funnel">
            <figcaption class=CAPTION_CLASS>{caption.clone()}</figcaption>
            <svg viewBox=format!("0 0 {} {}", coord(FUNNEL_WIDTH), coord(height)) class="w-full h-auto" role="img" aria-label=caption.clone()>
                {joins}
                {bars}
            </svg>
            <details class=DETAILS_CLASS>
                <summary class=SUMMARY_CLASS>"Show data"</summary>
                <table class=TABLE_CLASS>
                    <caption class="sr-only">{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class=TH_CLASS>"Stage"</th>
                            <th scope="col" class=TH_CLASS>"Count"</th>
                            <th scope="col" class=TH_CLASS>"From previous"</th>
                            {has_notes.then(|| view! { <th scope="col" class=TH_CLASS>"Note"</th> })}
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

/// The first stage has no previous one, so nothing; after an empty stage the rate is undefined.
/// `None` rather than an empty string, which would be a text node missing from the parsed page.
pub(super) fn stage_rate(index: usize, rate: Option<f64>) -> Option<String> {
    match (index, rate) {
        (0, _) => None,
        (_, Some(rate)) => Some(format_percent(rate)),
        (_, None) => Some("—".to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Line chart.
// ---------------------------------------------------------------------------------------------
