//! The Scoring page: the overall and per-tactic score (weighted by priority), the risk gap,
//! and for admins the weights, half-life and relevant actors, with a live preview of how a
//! change moves the overall score before it is saved, and the saved versions to restore.
use crate::api::scoring::{
    ScoringPageData, preview_scoring, restore_scoring, save_scoring, scoring_page,
};
use crate::components::feedback::{
    ErrorAlert, FieldError, INPUT_CLASS, LABEL_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::components::layout::{Loading, PageError};
use crate::domain::scoring::{PriorityFactor, ScoreFactor, ScoringConfig};
use crate::dto::scoring::{ScoringPreview, ScoringSummary};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ScoringPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(move || refresh.get(), |_| scoring_page());
    view! {
        <Title text="Scoring" />
        <h1 class="text-2xl font-semibold">"Scoring"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Each technique scores 0–100 for how well and how recently it is covered (coverage status, the quality of its validated detections, their age, the platforms tested, proven detection rules, data-source visibility), and gets a priority 0–100 from the threat actors using it, chosen technique sets and threat-intel mentions. The overall score is the mean score weighted by priority."
        </p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <ScoringView data refresh /> }.into_any(),
                    Err(err) => view! { <PageError message=err.detail() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn signed(delta: f64) -> String {
    if delta > 0.0 {
        format!("+{delta:.1}")
    } else {
        format!("{delta:.1}")
    }
}

#[component]
fn SummaryView(summary: ScoringSummary) -> impl IntoView {
    view! {
        <section id="scoring-summary" class="mt-6 grid gap-6 lg:grid-cols-3">
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <p class="text-sm text-slate-500">"Overall score (weighted by priority)"</p>
                <p id="overall-score" class="text-4xl font-semibold" data-value=summary.overall>{format!("{:.1}", summary.overall)}</p>
                <p class="mt-2 text-xs text-slate-500">{format!(
                    "{} techniques · mean score {:.1} · mean priority {:.1} · {} stale · configuration v{}",
                    summary.techniques, summary.mean_score, summary.mean_priority, summary.stale, summary.config_version
                )}</p>
            </div>
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"By tactic"</h2>
                <table id="tactic-scores" class="mt-2 w-full text-sm">
                    <tbody>
                        {summary.by_tactic.iter().map(|t| view! {
                            <tr data-tactic=t.tactic.clone()>
                                <td class="py-0.5">{t.name.clone()}</td>
                                <td class="py-0.5 text-right font-mono">{format!("{:.1}", t.score)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"Risk gap"</h2>
                <p class="text-xs text-slate-500">"High priority, low score: priority × (100 − score) / 100."</p>
                <ol id="risk-gap" class="mt-2 space-y-1 text-sm">
                    {summary.risk_gap.iter().take(10).map(|g| view! {
                        <li class="flex justify-between gap-2" data-technique=g.mitre_id.clone()>
                            <a class="text-indigo-700 hover:underline" href=format!("/techniques/{}", g.mitre_id)>{format!("{} {}", g.mitre_id, g.name)}</a>
                            <span class="whitespace-nowrap font-mono text-xs">{format!("gap {:.1} (p {:.0}, s {:.0})", g.gap, g.priority, g.score)}</span>
                        </li>
                    }).collect_view()}
                </ol>
            </div>
        </section>
    }
}

/// One number of the configuration form: its input's id, label, the field its errors name,
/// and its largest value.
struct NumberField {
    id: String,
    label: String,
    field: &'static str,
    max: f64,
}

/// A whole-number setting: id, label, field, how to read and write it, its largest value.
type WholeNumber = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ScoringConfig) -> u32,
    fn(&mut ScoringConfig, u32),
    f64,
);

fn number_input(
    NumberField {
        id,
        label,
        field,
        max,
    }: NumberField,
    error: Signal<Option<AppError>>,
    value: Signal<f64>,
    set: impl Fn(f64) + Send + Sync + 'static,
    disabled: bool,
) -> impl IntoView {
    view! {
        <div>
            <label for=id.clone() class=LABEL_CLASS>{label}</label>
            <input id=id type="number" min="0" max=max step="1" class=INPUT_CLASS disabled=disabled
                prop:value=move || value.get().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        set(v);
                    }
                } />
            <FieldError error field />
        </div>
    }
}

#[component]
fn ScoringView(data: ScoringPageData, refresh: RwSignal<u32>) -> impl IntoView {
    let ScoringPageData {
        state,
        summary,
        actors,
        technique_sets,
        can_edit,
    } = data;
    let config = RwSignal::new(state.current.config.clone());
    let note = RwSignal::new(String::new());
    let preview = Action::new(|json: &String| preview_scoring(json.clone()));
    let save =
        Action::new(|(json, note): &(String, String)| save_scoring(json.clone(), note.clone()));
    let restore = Action::new(|version: &i32| restore_scoring(*version));
    let to_json = move || serde_json::to_string(&config.get()).unwrap_or_default();
    if can_edit {
        // Every change previews itself (the effect runs in the browser only).
        Effect::new(move |_| {
            let json = to_json();
            preview.dispatch(json);
        });
    }
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) || matches!(restore.value().get(), Some(Ok(_)))
        {
            refresh.update(|n| *n += 1);
        }
    });
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| restore.value().get().and_then(Result::err))
            .or_else(|| preview.value().get().and_then(Result::err))
    });
    let disabled = !can_edit;
    let weights = ScoreFactor::ALL
        .into_iter()
        .map(|f| {
            number_input(
                NumberField {
                    id: format!("weight-{f}"),
                    label: f.label().to_owned(),
                    field: match f {
                        ScoreFactor::Coverage => "weights.coverage",
                        ScoreFactor::Quality => "weights.quality",
                        ScoreFactor::Recency => "weights.recency",
                        ScoreFactor::Breadth => "weights.breadth",
                        ScoreFactor::Rules => "weights.rules",
                        ScoreFactor::Visibility => "weights.visibility",
                    },
                    max: 100.0,
                },
                error,
                Signal::derive(move || config.with(|c| c.weights.of(f))),
                move |v| config.update(|c| c.weights.set(f, v)),
                disabled,
            )
        })
        .collect_view();
    let priority_weights = PriorityFactor::ALL
        .into_iter()
        .map(|f| {
            number_input(
                NumberField {
                    id: format!("priority-weight-{f}"),
                    label: f.label().to_owned(),
                    field: match f {
                        PriorityFactor::Actors => "priority_weights.actors",
                        PriorityFactor::Sets => "priority_weights.sets",
                        PriorityFactor::Intel => "priority_weights.intel",
                    },
                    max: 100.0,
                },
                error,
                Signal::derive(move || config.with(|c| c.priority_weights.of(f))),
                move |v| config.update(|c| c.priority_weights.set(f, v)),
                disabled,
            )
        })
        .collect_view();
    let numbers: [WholeNumber; 4] = [
        (
            "half-life",
            "Half-life of a validation (days)",
            "half_life_days",
            |c| c.half_life_days,
            |c, v| c.half_life_days = v,
            3650.0,
        ),
        (
            "ttd-target",
            "Time-to-detect target (minutes)",
            "ttd_target_minutes",
            |c| c.ttd_target_minutes,
            |c, v| c.ttd_target_minutes = v,
            10080.0,
        ),
        (
            "actors-for-full",
            "Actors for full priority",
            "actors_for_full",
            |c| c.actors_for_full,
            |c, v| c.actors_for_full = v,
            1000.0,
        ),
        (
            "mentions-for-full",
            "Intel mentions for full priority",
            "mentions_for_full",
            |c| c.mentions_for_full,
            |c, v| c.mentions_for_full = v,
            1000.0,
        ),
    ];
    let numbers = numbers
        .into_iter()
        .map(|(id, label, field, get, set, max)| {
            number_input(
                NumberField {
                    id: id.to_owned(),
                    label: label.to_owned(),
                    field,
                    max,
                },
                error,
                Signal::derive(move || config.with(|c| f64::from(get(c)))),
                move |v| {
                    if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                        config.update(|c| set(c, v as u32));
                    }
                },
                disabled,
            )
        })
        .collect_view();
    let actor_names: Vec<(String, String)> = actors
        .iter()
        .map(|a| (a.mitre_id.clone(), a.name.clone()))
        .collect();
    let relevant_text = RwSignal::new(state.current.config.relevant_actors.join(", "));
    let history = state.history.clone();
    view! {
        <SummaryView summary=summary.clone() />
        <section id="scoring-config" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-lg font-semibold">{format!("Configuration (version {})", state.current.version)}</h2>
                {(!can_edit).then(|| view! { <p class="text-sm text-slate-500">"Only administrators change the scoring."</p> })}
            </div>
            <div class="mt-3"><ErrorAlert error /></div>
            <h3 class="mt-3 text-sm font-semibold text-slate-700">"Score weights"</h3>
            <div class="mt-2 grid gap-3 sm:grid-cols-3 lg:grid-cols-6">{weights}</div>
            <h3 class="mt-4 text-sm font-semibold text-slate-700">"Priority weights"</h3>
            <div class="mt-2 grid gap-3 sm:grid-cols-3">{priority_weights}</div>
            <div class="mt-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4">{numbers}</div>
            <div class="mt-4 grid gap-3 lg:grid-cols-2">
                <div>
                    <label for="relevant-actors" class=LABEL_CLASS>"Relevant threat actors (ATT&CK ids; empty: all)"</label>
                    <input id="relevant-actors" list="actor-ids" class=INPUT_CLASS disabled=disabled placeholder="G0016, G0007"
                        prop:value=move || relevant_text.get()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            relevant_text.set(text.clone());
                            let ids: Vec<String> = text
                                .split([',', ' '])
                                .map(|s| s.trim().to_uppercase())
                                .filter(|s| !s.is_empty())
                                .collect();
                            config.update(|c| c.relevant_actors = ids);
                        } />
                    <datalist id="actor-ids">
                        {actor_names.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </datalist>
                    <FieldError error field="relevant_actors" />
                </div>
                <fieldset>
                    <legend class=LABEL_CLASS>"Technique sets that raise priority"</legend>
                    <div class="mt-1 flex flex-wrap gap-3 text-sm">
                        {technique_sets.is_empty().then(|| view! { <span class="text-slate-500">"No technique set imported."</span> })}
                        {technique_sets.into_iter().map(|set| {
                            let id = set.id;
                            view! {
                                <label class="flex items-center gap-1">
                                    <input type="checkbox" class="priority-set h-4 w-4" disabled=disabled
                                        prop:checked=move || config.with(|c| c.priority_sets.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            config.update(|c| {
                                                c.priority_sets.retain(|s| *s != id);
                                                if on { c.priority_sets.push(id); }
                                            });
                                        } />
                                    {set.name.clone()}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    <FieldError error field="priority_sets" />
                </fieldset>
            </div>
            {can_edit.then(|| view! {
                <div id="scoring-preview" class="mt-4 rounded-md bg-slate-50 p-3 text-sm" aria-live="polite">
                    {move || match preview.value().get() {
                        Some(Ok(ScoringPreview { current, preview: after })) => {
                            let delta = after.overall - current.overall;
                            view! {
                                <p>
                                    "Overall score now "<span id="preview-current" class="font-mono">{format!("{:.1}", current.overall)}</span>
                                    " → with these settings "<span id="preview-overall" class="font-mono font-semibold" data-value=after.overall>{format!("{:.1}", after.overall)}</span>
                                    " ("<span id="preview-delta">{signed(delta)}</span>")"
                                </p>
                                <p class="mt-1 text-xs text-slate-500">{after.by_tactic.iter().zip(current.by_tactic.iter()).filter(|(a, c)| (a.score - c.score).abs() >= 0.05).map(|(a, c)| format!("{} {:.1} → {:.1}", a.name, c.score, a.score)).collect::<Vec<_>>().join(" · ")}</p>
                            }.into_any()
                        }
                        Some(Err(_)) => view! { <p class="text-red-700">"The preview needs a valid configuration."</p> }.into_any(),
                        None => view! { <p class="text-slate-500">{if preview.pending().get() { "Computing the preview…" } else { "Change a setting to preview its effect." }}</p> }.into_any(),
                    }}
                </div>
                <div class="mt-4 flex flex-wrap items-end gap-3">
                    <div class="min-w-64 flex-1">
                        <label for="scoring-note" class=LABEL_CLASS>"Why (kept with the version)"</label>
                        <input id="scoring-note" maxlength="500" class=INPUT_CLASS prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev)) />
                    </div>
                    <button id="scoring-save" type="button" class=PRIMARY_BUTTON disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch((to_json(), note.get_untracked())); }>
                        {move || if save.pending().get() { "Saving and recomputing…" } else { "Save and recompute" }}
                    </button>
                    <button id="scoring-defaults" type="button" class=SECONDARY_BUTTON
                        on:click=move |_| {
                            relevant_text.set(String::new());
                            config.set(ScoringConfig::default());
                        }>"Defaults"</button>
                </div>
            })}
        </section>
        <section id="scoring-history" class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="text-lg font-semibold">"Saved versions"</h2>
            {history.is_empty().then(|| view! { <p class="mt-2 text-sm text-slate-500">"None yet: the built-in defaults are in force."</p> })}
            <table class="mt-2 w-full text-sm">
                <tbody class="divide-y divide-slate-100">
                    {history.into_iter().enumerate().map(|(i, v)| {
                        let version = v.version;
                        view! {
                            <tr class="scoring-version" data-version=version>
                                <td class="py-1 font-mono">{format!("v{version}")}</td>
                                <td class="py-1">{if v.note.is_empty() { "—".to_owned() } else { v.note.clone() }}</td>
                                <td class="py-1 text-xs text-slate-500">{v.created_by.clone().unwrap_or_else(|| "system".into())}</td>
                                <td class="py-1 text-xs text-slate-500">{v.created_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}</td>
                                <td class="py-1 text-right">
                                    {if i == 0 {
                                        view! { <span class="text-xs text-emerald-700">"in force"</span> }.into_any()
                                    } else if can_edit {
                                        view! { <button type="button" class="restore-version text-xs text-indigo-700 hover:underline"
                                            on:click=move |_| { restore.dispatch(version); }>"Restore"</button> }.into_any()
                                    } else {
                                        ().into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
