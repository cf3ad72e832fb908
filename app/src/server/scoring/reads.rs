//! Reading the scores: the paged list, the summary (overall, per tactic, the risk gap), the
//! preview of an unsaved configuration and the matrix's heat cells. The Enterprise matrix is
//! under a thousand techniques, so the stored scores are read whole and filtered in memory.
use super::compute::{self, Computed};
use super::inputs;
use crate::domain::coverage::CoverageStatus;
use crate::domain::scoring::{
    self, Contribution, PriorityFactor, RISK_GAP_LIMIT, ScoreFactor, ScoringConfig, round1,
};
use crate::dto::scoring::{
    HeatCell, RiskGapItem, ScoreQuery, ScoringPreview, ScoringSummary, TacticScore, TechniqueScore,
};
use crate::dto::{DEFAULT_PAGE_SIZE, Page};
use crate::error::{AppError, AppResult};
use crate::server::entities::{tactic, technique_score};
use crate::server::platform::db::statement;
use crate::server::platform::pagination::page_bounds;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use std::collections::HashMap;

/// A technique's stored score, with what lists show of the technique.
#[derive(Debug, Clone)]
pub struct Scored {
    pub mitre_id: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub status: CoverageStatus,
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
    pub visibility: Option<f64>,
    pub stale: bool,
    pub factors: Vec<Contribution<ScoreFactor>>,
    pub priority_factors: Vec<Contribution<PriorityFactor>>,
    pub computed_at: Option<DateTime<Utc>>,
}

impl From<Computed> for Scored {
    fn from(c: Computed) -> Self {
        Scored {
            mitre_id: c.technique.mitre_id,
            name: c.technique.name,
            tactics: c.technique.tactics,
            status: c.technique.status,
            score: c.score,
            priority: c.priority,
            gap: c.gap,
            visibility: c.visibility,
            stale: c.stale,
            factors: c.factors,
            priority_factors: c.priority_factors,
            computed_at: None,
        }
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// Every active technique's stored score (a technique never scored counts as 0).
pub async fn stored(conn: &impl ConnectionTrait) -> AppResult<Vec<Scored>> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT t.mitre_id, t.name, t.tactics, t.coverage_status, s.score, s.priority, \
             s.gap, s.visibility, s.stale, s.factors, s.computed_at \
             FROM techniques t LEFT JOIN technique_scores s ON s.technique_id = t.mitre_id \
             WHERE t.deprecated = ? AND t.revoked = ? ORDER BY t.mitre_id",
            vec![false.into(), false.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let tactics: serde_json::Value = row.try_get_by_index(2)?;
            let factors: Option<serde_json::Value> = row.try_get_by_index(9)?;
            let factors = factors.unwrap_or_default();
            Ok(Scored {
                mitre_id: row.try_get_by_index(0)?,
                name: row.try_get_by_index(1)?,
                tactics: strings(&tactics),
                status: row.try_get_by_index(3)?,
                score: row.try_get_by_index::<Option<f64>>(4)?.unwrap_or(0.0),
                priority: row.try_get_by_index::<Option<f64>>(5)?.unwrap_or(0.0),
                gap: row.try_get_by_index::<Option<f64>>(6)?.unwrap_or(0.0),
                visibility: row.try_get_by_index(7)?,
                stale: row.try_get_by_index::<Option<bool>>(8)?.unwrap_or(false),
                factors: serde_json::from_value(factors["score"].clone()).unwrap_or_default(),
                priority_factors: serde_json::from_value(factors["priority"].clone())
                    .unwrap_or_default(),
                computed_at: row.try_get_by_index(10)?,
            })
        })
        .collect()
}

fn round<F>(mut c: Vec<Contribution<F>>) -> Vec<Contribution<F>> {
    for f in &mut c {
        f.points = round1(f.points);
        f.value = (f.value * 1000.0).round() / 1000.0;
    }
    c
}

fn dto(s: Scored) -> TechniqueScore {
    TechniqueScore {
        mitre_id: s.mitre_id,
        name: s.name,
        tactics: s.tactics,
        coverage_status: s.status,
        score: round1(s.score),
        priority: round1(s.priority),
        gap: round1(s.gap),
        visibility: s.visibility.map(|v| round1(v * 100.0)),
        stale: s.stale,
        factors: round(s.factors),
        priority_factors: round(s.priority_factors),
        computed_at: s.computed_at,
    }
}

/// `GET /scoring/techniques`.
pub async fn list(
    conn: &impl ConnectionTrait,
    query: &ScoreQuery,
) -> AppResult<Page<TechniqueScore>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let tactic = match query
        .tactic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(wanted) => {
            let tactics = tactic::Entity::find().all(conn).await?;
            Some(
                tactics
                    .into_iter()
                    .find(|t| t.shortname == wanted || t.mitre_id.eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| AppError::field("tactic", format!("Unknown tactic '{wanted}'")))?
                    .shortname,
            )
        }
    };
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::field("search", "at most 200 characters"));
    }
    let mut items: Vec<Scored> = stored(conn)
        .await?
        .into_iter()
        .filter(|s| tactic.as_ref().is_none_or(|t| s.tactics.contains(t)))
        .filter(|s| query.stale.is_none_or(|stale| s.stale == stale))
        .filter(|s| {
            search.as_ref().is_none_or(|q| {
                s.mitre_id.to_lowercase().contains(q) || s.name.to_lowercase().contains(q)
            })
        })
        .collect();
    match query.sort.as_deref().unwrap_or("mitre_id") {
        "mitre_id" => {}
        "score" => items.sort_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(a.mitre_id.cmp(&b.mitre_id))
        }),
        "priority" => items.sort_by(|a, b| {
            b.priority
                .total_cmp(&a.priority)
                .then(a.mitre_id.cmp(&b.mitre_id))
        }),
        "gap" => items.sort_by(|a, b| b.gap.total_cmp(&a.gap).then(a.mitre_id.cmp(&b.mitre_id))),
        other => {
            return Err(AppError::field(
                "sort",
                format!("Unknown sort '{other}'; expected one of: mitre_id, score, priority, gap"),
            ));
        }
    }
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(dto)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// The summary of a set of scores: overall and per tactic (mean weighted by priority), and
/// the risk gap.
pub fn summarize(version: i32, items: &[Scored], tactics: &[tactic::Model]) -> ScoringSummary {
    let mut by_tactic: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for s in items {
        for t in &s.tactics {
            by_tactic.entry(t).or_default().push((s.score, s.priority));
        }
    }
    let n = items.len();
    let mean = |f: fn(&Scored) -> f64| {
        if n == 0 {
            0.0
        } else {
            round1(items.iter().map(f).sum::<f64>() / n as f64)
        }
    };
    let mut gaps: Vec<&Scored> = items.iter().filter(|s| s.gap > 0.0).collect();
    gaps.sort_by(|a, b| b.gap.total_cmp(&a.gap).then(a.mitre_id.cmp(&b.mitre_id)));
    ScoringSummary {
        config_version: version,
        techniques: n as u64,
        overall: round1(scoring::weighted_mean(
            items.iter().map(|s| (s.score, s.priority)),
        )),
        mean_score: mean(|s| s.score),
        mean_priority: mean(|s| s.priority),
        stale: items.iter().filter(|s| s.stale).count() as u64,
        by_tactic: tactics
            .iter()
            .map(|t| {
                let pairs = by_tactic
                    .get(t.shortname.as_str())
                    .cloned()
                    .unwrap_or_default();
                let count = pairs.len();
                TacticScore {
                    tactic: t.shortname.clone(),
                    name: t.name.clone(),
                    techniques: count as u64,
                    mean_priority: if count == 0 {
                        0.0
                    } else {
                        round1(pairs.iter().map(|p| p.1).sum::<f64>() / count as f64)
                    },
                    score: round1(scoring::weighted_mean(pairs)),
                }
            })
            .collect(),
        risk_gap: gaps
            .into_iter()
            .take(RISK_GAP_LIMIT)
            .map(|s| RiskGapItem {
                mitre_id: s.mitre_id.clone(),
                name: s.name.clone(),
                score: round1(s.score),
                priority: round1(s.priority),
                gap: round1(s.gap),
            })
            .collect(),
    }
}

async fn tactics(conn: &impl ConnectionTrait) -> AppResult<Vec<tactic::Model>> {
    Ok(tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .order_by_asc(tactic::Column::MitreId)
        .all(conn)
        .await?)
}

/// `GET /scoring/summary`: from the stored scores.
pub async fn summary(conn: &impl ConnectionTrait) -> AppResult<ScoringSummary> {
    let (version, _) = super::config::current(conn).await?;
    let (items, tactics) = tokio::join!(stored(conn), tactics(conn));
    Ok(summarize(version, &items?, &tactics?))
}

/// What the summary would be under `config` (checked first), beside the summary now.
pub async fn preview(
    conn: &impl ConnectionTrait,
    config: ScoringConfig,
) -> AppResult<ScoringPreview> {
    let config = config.normalised();
    super::config::check(conn, &config).await?;
    let current = summary(conn).await?;
    let inputs = inputs::load(conn, None).await?;
    let items: Vec<Scored> = compute::compute(inputs, &config, Utc::now())
        .into_iter()
        .map(Scored::from)
        .collect();
    let tactics = tactics(conn).await?;
    let preview = summarize(current.config_version, &items, &tactics);
    Ok(ScoringPreview { current, preview })
}

/// "Coverage status 30 · Detection quality 20.5 · …": each factor's points, for a tooltip.
pub fn explain(s: &Scored) -> String {
    let mut parts: Vec<String> = s
        .factors
        .iter()
        .map(|c| format!("{} {}", c.factor.label(), round1(c.points)))
        .collect();
    if s.stale {
        parts.push("stale: last validated longer ago than the half-life".into());
    }
    parts.join(" · ")
}

/// Every active technique's heat cell, by ATT&CK id.
pub async fn heat(conn: &impl ConnectionTrait) -> AppResult<HashMap<String, HeatCell>> {
    Ok(stored(conn)
        .await?
        .into_iter()
        .map(|s| {
            let cell = HeatCell {
                score: round1(s.score),
                priority: round1(s.priority),
                gap: round1(s.gap),
                visibility: s.visibility.map(|v| round1(v * 100.0)),
                stale: s.stale,
                explain: explain(&s),
            };
            (s.mitre_id, cell)
        })
        .collect())
}

/// Whether any score has been stored (a fresh install computes them on first start).
pub async fn any_stored(conn: &impl ConnectionTrait) -> AppResult<bool> {
    Ok(technique_score::Entity::find().one(conn).await?.is_some())
}
