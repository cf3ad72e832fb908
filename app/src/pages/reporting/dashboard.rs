//! The dashboard, the landing page: coverage, the test pipeline, team activity, validation
//! rates, recent tests and the signed-in user's pending tasks. Charts are our own SVG, each
//! with its numbers as a table.
use crate::api::campaigns::campaign_choices;
use crate::api::reporting::dashboard_data;
use crate::components::charts::{
    BarRow, Funnel, FunnelStage, LineChart, LineSeries, Meter, Segment, StackedBars,
};
use crate::components::feedback::{INPUT_CLASS, SECONDARY_BUTTON};
use crate::components::form::CampaignFilter;
use crate::components::layout::{Loading, PageError};
use crate::components::test_state::StateBadge;
use crate::domain::coverage::CoverageStatus;
use crate::dto::reporting::metrics::{Dashboard, MetricsQuery, StatusCounts};
use crate::dto::workflow::TestSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

const RED: &str = "#ef4444";
const BLUE: &str = "#3b82f6";
const RED_LIGHT: &str = "#fca5a5";
const BLUE_LIGHT: &str = "#93c5fd";

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query_map = use_query_map();
    let param = move |name: &str| query_map.read().get(name).filter(|v| !v.is_empty());
    let query = move || MetricsQuery {
        tactic: param("tactic"),
        platform: param("platform"),
        date_from: param("date_from"),
        date_to: param("date_to"),
        granularity: param("granularity"),
        technique_set: param("technique_set"),
        campaign: param("campaign"),
    };
    let data = Resource::new(query, dashboard_data);
    let campaigns = Resource::new(|| (), |_| campaign_choices());
    view! {
        <Title text="Dashboard" />
        <div class="mb-4 flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Dashboard"</h1>
            <Form method="GET" action="">
                <div id="dashboard-filters" class="flex flex-wrap items-end gap-2">
                    <div>
                        <label for="dash-platform" class="text-xs text-slate-600">"Platform"</label>
                        <input id="dash-platform" name="platform" placeholder="windows" class=INPUT_CLASS
                            value=move || param("platform").unwrap_or_default() />
                    </div>
                    <div>
                        <label for="dash-tactic" class="text-xs text-slate-600">"Tactic"</label>
                        <input id="dash-tactic" name="tactic" placeholder="execution or TA0002" class=INPUT_CLASS
                            value=move || param("tactic").unwrap_or_default() />
                    </div>
                    <div>
                        <label for="dash-from" class="text-xs text-slate-600">"From"</label>
                        <input id="dash-from" type="date" name="date_from" class=INPUT_CLASS
                            value=move || param("date_from").unwrap_or_default() />
                    </div>
                    <div>
                        <label for="dash-to" class="text-xs text-slate-600">"To"</label>
                        <input id="dash-to" type="date" name="date_to" class=INPUT_CLASS
                            value=move || param("date_to").unwrap_or_default() />
                    </div>
                    <CampaignFilter id="dash-campaign" selected=Signal::derive(move || param("campaign")) choices=campaigns />
                    <div>
                        <label for="dash-granularity" class="text-xs text-slate-600">"Activity by"</label>
                        <select id="dash-granularity" name="granularity" class=INPUT_CLASS>
                            <option value="day" selected=move || param("granularity").as_deref() != Some("week")>"Day"</option>
                            <option value="week" selected=move || param("granularity").as_deref() == Some("week")>"Week"</option>
                        </select>
                    </div>
                    <button type="submit" class=SECONDARY_BUTTON>"Apply"</button>
                    <a href="/" class="mb-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
                </div>
            </Form>
        </div>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Panels data /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn status_segments(counts: &StatusCounts) -> Vec<Segment> {
    CoverageStatus::ALL
        .iter()
        .map(|s| Segment {
            label: s.label().to_owned(),
            value: match s {
                CoverageStatus::Validated => counts.validated,
                CoverageStatus::Partial => counts.partial,
                CoverageStatus::InProgress => counts.in_progress,
                CoverageStatus::NotCovered => counts.not_covered,
            } as f64,
            color: s.color().to_owned(),
        })
        .collect()
}

const CARD: &str = "rounded-lg border border-slate-200 bg-white p-4 shadow-sm";

#[component]
fn Stat(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class=CARD>
            <p class="text-xs uppercase tracking-wide text-slate-500">{label}</p>
            <p id=id class="mt-1 text-2xl font-semibold">{value}</p>
        </div>
    }
}

#[component]
fn Panels(data: Dashboard) -> impl IntoView {
    let summary = data.summary.clone();
    let t = summary.techniques;
    let tactic_rows: Vec<BarRow> = data
        .by_tactic
        .iter()
        .map(|tactic| BarRow {
            label: tactic.name.clone(),
            href: Some(format!("/?tactic={}", tactic.tactic)),
            segments: status_segments(&tactic.techniques),
        })
        .collect();
    let funnel: Vec<FunnelStage> = data
        .pipeline
        .stages
        .iter()
        .map(|s| FunnelStage {
            label: s.label.clone(),
            value: s.reached,
            note: Some(format!("{} here now", s.count)),
        })
        .collect();
    let rejected = data.pipeline.rejected;
    let activity = &data.activity;
    let periods: Vec<String> = activity
        .series
        .iter()
        .map(|p| p.period.format("%Y-%m-%d").to_string())
        .collect();
    let line = |label: &str,
                color: &str,
                pick: fn(&crate::dto::reporting::metrics::ActivityCounts) -> u64| {
        LineSeries {
            label: label.to_owned(),
            color: color.to_owned(),
            points: activity
                .series
                .iter()
                .map(|p| pick(&p.counts) as f64)
                .collect(),
        }
    };
    let activity_series = vec![
        line("Red executions", RED, |c| c.red_executions),
        line("Blue evaluations", BLUE, |c| c.blue_evaluations),
        line("Red evidence", RED_LIGHT, |c| c.red_evidence_uploads),
        line("Blue evidence", BLUE_LIGHT, |c| c.blue_evidence_uploads),
    ];
    let activity_caption = format!(
        "Team activity per {} from {} to {}",
        activity.granularity, activity.date_from, activity.date_to
    );
    let validation_rows: Vec<BarRow> = data
        .validation
        .by_lead
        .iter()
        .map(|lead| BarRow {
            label: format!("{} ({} side)", lead.display_name, lead.side),
            href: None,
            segments: vec![
                Segment {
                    label: "Approved".into(),
                    value: lead.counts.approved as f64,
                    color: CoverageStatus::Validated.color().into(),
                },
                Segment {
                    label: "Rejected".into(),
                    value: lead.counts.rejected as f64,
                    color: RED.into(),
                },
            ],
        })
        .collect();
    let validation_caption = format!(
        "Votes per lead from {} to {}",
        data.validation.date_from, data.validation.date_to
    );
    let history_labels: Vec<String> = data
        .history
        .iter()
        .map(|p| p.taken_at.format("%Y-%m-%d").to_string())
        .collect();
    let mut history = vec![LineSeries {
        label: "Validated techniques (%)".into(),
        color: CoverageStatus::Validated.color().into(),
        points: data.history.iter().map(|p| p.coverage_percent).collect(),
    }];
    // Snapshots taken before scoring have no score: the line starts where scoring did.
    if data.history.iter().any(|p| p.score.is_some()) {
        history.push(LineSeries {
            label: "Score, weighted by priority".into(),
            color: "#6366f1".into(),
            points: data
                .history
                .iter()
                .map(|p| p.score.unwrap_or(0.0))
                .collect(),
        });
    }
    let side_rates = data
        .validation
        .by_side
        .iter()
        .map(|s| {
            format!(
                "{} side: {} approved, {} rejected{}",
                s.side,
                s.counts.approved,
                s.counts.rejected,
                s.counts
                    .approval_rate
                    .map(|r| format!(" ({r:.1}% approved)"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>();
    view! {
        <div id="dashboard" class="space-y-6">
            <section class="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-6" aria-label="Summary">
                <div class=CARD>
                    <Meter percent=summary.coverage_percent label="Coverage (validated)".to_string()
                        color=CoverageStatus::Validated.color().to_string() />
                    <p class="sr-only" id="dashboard-coverage-percent">{format!("{:.1}%", summary.coverage_percent)}</p>
                </div>
                <Stat id="dashboard-top-level" label="Top-level coverage"
                    value=format!("{:.1}%", summary.top_level_coverage_percent) />
                <Stat id="dashboard-validated" label="Validated techniques"
                    value=format!("{} of {}", t.validated, t.total) />
                <Stat id="dashboard-partial" label="Partially covered" value=t.partial.to_string() />
                <Stat id="dashboard-tests" label="Tests" value=summary.total_tests.to_string() />
                <Stat id="dashboard-open-remediations" label="Open remediations"
                    value=summary.open_remediations.to_string() />
            </section>

            <div class="grid gap-6 xl:grid-cols-2">
                <section class=CARD id="dashboard-by-tactic">
                    <h2 class="mb-2 font-semibold">"Coverage by tactic"</h2>
                    <StackedBars rows=tactic_rows caption="Techniques per coverage status, by tactic" normalize=true />
                </section>
                <section class=CARD id="dashboard-pipeline">
                    <h2 class="mb-2 font-semibold">"Test pipeline"</h2>
                    <Funnel stages=funnel caption="Tests that reached each stage" />
                    <p class="mt-2 text-sm text-slate-600">{format!("{rejected} rejected in review")}</p>
                </section>
                <section class=CARD id="dashboard-activity">
                    <h2 class="mb-2 font-semibold">"Team activity"</h2>
                    <LineChart series=activity_series x_labels=periods caption=activity_caption y_suffix=String::new() />
                    <ActivityTable data=data.clone() />
                </section>
                <section class=CARD id="dashboard-validation">
                    <h2 class="mb-2 font-semibold">"Validation by lead"</h2>
                    {if validation_rows.is_empty() {
                        view! { <p class="text-sm text-slate-500">"No votes in this period."</p> }.into_any()
                    } else {
                        view! { <StackedBars rows=validation_rows caption=validation_caption /> }.into_any()
                    }}
                    <ul class="mt-2 text-sm text-slate-600">
                        {side_rates.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                    </ul>
                </section>
                <section class=CARD id="dashboard-history">
                    <h2 class="mb-2 font-semibold">"Coverage over time"</h2>
                    {if data.history.is_empty() {
                        view! { <p class="text-sm text-slate-500">"No weekly snapshot yet: the first is taken by the weekly job (System panel)."</p> }.into_any()
                    } else {
                        view! { <LineChart series=history x_labels=history_labels caption="Validated techniques per weekly snapshot" y_suffix="%".to_string() y_max=100.0 /> }.into_any()
                    }}
                </section>
                <section class=CARD id="dashboard-pending">
                    <h2 class="mb-2 font-semibold">
                        {format!("My pending tasks ({})", data.pending_total)}
                    </h2>
                    <TestList tests=data.pending.clone() empty="Nothing waits for you." />
                    {(data.pending_total > data.pending.len() as u64).then(|| view! {
                        <a href="/tests?mine=true" class="text-sm text-indigo-600 hover:underline">"All my pending tasks"</a>
                    })}
                </section>
                <section class=CARD id="dashboard-recent">
                    <h2 class="mb-2 font-semibold">"Recently updated tests"</h2>
                    <TestList tests=data.recent.clone() empty="No tests yet." />
                </section>
            </div>
        </div>
    }
}

/// Who did what in the period, most active first.
#[component]
fn ActivityTable(data: Dashboard) -> impl IntoView {
    let users = data.activity.by_user;
    (!users.is_empty()).then(|| {
        view! {
            <table class="mt-3 w-full text-sm" id="dashboard-activity-users">
                <thead>
                    <tr class="text-left text-xs uppercase text-slate-500">
                        <th class="py-1">"User"</th>
                        <th class="py-1 text-right">"Red executions"</th>
                        <th class="py-1 text-right">"Blue evaluations"</th>
                        <th class="py-1 text-right">"Evidence"</th>
                    </tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| view! {
                        <tr class="border-t border-slate-100">
                            <td class="py-1">{u.display_name}</td>
                            <td class="py-1 text-right">{u.counts.red_executions}</td>
                            <td class="py-1 text-right">{u.counts.blue_evaluations}</td>
                            <td class="py-1 text-right">{u.counts.red_evidence_uploads + u.counts.blue_evidence_uploads}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    })
}

#[component]
fn TestList(tests: Vec<TestSummary>, empty: &'static str) -> impl IntoView {
    if tests.is_empty() {
        return view! { <p class="text-sm text-slate-500">{empty}</p> }.into_any();
    }
    view! {
        <ul class="divide-y divide-slate-100">
            {tests.into_iter().map(|t| {
                let state = t.state;
                view! {
                    <li class="flex items-center justify-between gap-2 py-2 text-sm">
                        <div class="min-w-0">
                            <a href=format!("/tests/{}", t.id) class="font-medium text-indigo-700 hover:underline">{t.title}</a>
                            <p class="text-xs text-slate-500">
                                {format!("{} · updated {}", t.technique_id, t.updated_at.format("%Y-%m-%d %H:%M"))}
                            </p>
                        </div>
                        <StateBadge state />
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
