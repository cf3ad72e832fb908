//! A ring meter for one percentage.
use super::*;

/// A percentage as a ring with the figure in the middle; the ring is clamped to 0–100 but the
/// figure is written as given.
#[component]
pub fn Meter(
    percent: f64,
    #[prop(into)] label: String,
    #[prop(into)] color: String,
) -> impl IntoView {
    let circumference = 2.0 * std::f64::consts::PI * METER_RADIUS;
    let (filled, rest) = ring_dash(percent, circumference);
    let figure = format_percent(percent);
    let figure_cell = figure.clone();
    // Separate copies: `view!` builds children before attributes, so one value cannot be moved
    // into both without depending on that order.
    let summary = format!("{label}: {figure}");
    let hover = summary.clone();
    let label_cell = label.clone();
    let center = coord(METER_SIZE / 2.0);
    view! {
        <figure class="chart-meter flex flex-col items-center">
            <div class="w-full max-w-40">
                <svg viewBox=format!("0 0 {0} {0}", coord(METER_SIZE)) class="w-full h-auto" role="img" aria-label=summary>
                    <circle cx=center.clone() cy=center.clone() r=coord(METER_RADIUS) fill="none" stroke=GRID stroke-width="14" />
                    <circle
                        class="chart-meter-value"
                        cx=center.clone()
                        cy=center.clone()
                        r=coord(METER_RADIUS)
                        fill="none"
                        stroke=color
                        stroke-width="14"
                        stroke-dasharray=format!("{filled:.2} {rest:.2}")
                        transform=format!("rotate(-90 {center} {center})")
                    >
                        {tooltip(hover)}
                    </circle>
                    <text x=center.clone() y=center.clone() text-anchor="middle" dominant-baseline="central" font-size="22" font-weight="600" fill=TEXT>
                        {figure}
                    </text>
                </svg>
            </div>
            <figcaption class="mt-1 text-center text-sm text-slate-600">{label}</figcaption>
            <details class=DETAILS_CLASS>
                <summary class=SUMMARY_CLASS>"Show data"</summary>
                <table class=TABLE_CLASS>
                    <tbody>
                        <tr>
                            <th scope="row" class=ROW_TH_CLASS>{label_cell}</th>
                            <td class=TD_CLASS>{figure_cell}</td>
                        </tr>
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
