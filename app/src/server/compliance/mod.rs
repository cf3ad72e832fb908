//! Compliance views: per framework, family and control, what the mapped techniques' coverage
//! and scores say, the techniques not covered and the validated tests behind the rest. One
//! pass over a framework's mappings (NIST SP 800-53: about 5,000) with every technique's status
//! and score (under a thousand rows).
use crate::domain::compliance::{Figures, control_order};
use crate::domain::coverage::CoverageStatus;
use crate::domain::workflow::TestState;
use crate::dto::compliance::{
    ComplianceFigures, ControlDetail, ControlSummary, EVIDENCE_SHOWN, EvidenceTest, FamilySummary,
    FrameworkDetail, FrameworkSummary, MappedTechnique,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::{
    compliance_control, compliance_framework, compliance_mapping, security_test,
};
use crate::server::platform::db::statement;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A technique's status, score and name.
struct TechniqueState {
    name: String,
    status: CoverageStatus,
    score: f64,
}

async fn technique_states(
    conn: &impl ConnectionTrait,
) -> AppResult<HashMap<String, TechniqueState>> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT t.mitre_id, t.name, t.coverage_status, s.score FROM techniques t \
             LEFT JOIN technique_scores s ON s.technique_id = t.mitre_id \
             WHERE t.deprecated = ? AND t.revoked = ?",
            vec![false.into(), false.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get_by_index(0)?,
                TechniqueState {
                    name: row.try_get_by_index(1)?,
                    status: row.try_get_by_index(2)?,
                    score: row.try_get_by_index::<Option<f64>>(3)?.unwrap_or(0.0),
                },
            ))
        })
        .collect()
}

fn figures(f: &Figures) -> ComplianceFigures {
    ComplianceFigures {
        technique_count: u64::from(f.techniques),
        validated: u64::from(f.validated),
        partial: u64::from(f.partial),
        in_progress: u64::from(f.in_progress),
        not_covered: u64::from(f.not_covered),
        coverage_percent: f.coverage_percent(),
        mean_score: f.mean_score(),
    }
}

/// (control id → mapped ATT&CK ids) of a framework's controls.
async fn mappings(
    conn: &impl ConnectionTrait,
    framework: Uuid,
) -> AppResult<HashMap<Uuid, Vec<String>>> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT m.control_id, m.technique_id FROM compliance_mappings m \
             JOIN compliance_controls c ON c.id = m.control_id WHERE c.framework_id = ?",
            vec![framework.into()],
        ))
        .await?;
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in rows {
        let control: Uuid = row.try_get_by_index(0)?;
        let technique: String = row.try_get_by_index(1)?;
        out.entry(control).or_default().push(technique);
    }
    Ok(out)
}

/// The figures of a set of techniques (each counted once; techniques no longer active are
/// left out).
fn figures_of<'a>(
    techniques: impl IntoIterator<Item = &'a String>,
    states: &HashMap<String, TechniqueState>,
) -> Figures {
    let mut seen = std::collections::HashSet::new();
    let mut f = Figures::default();
    for t in techniques {
        if seen.insert(t.as_str())
            && let Some(s) = states.get(t)
        {
            f.add(s.status, s.score);
        }
    }
    f
}

fn summary(framework: compliance_framework::Model, controls: u64, f: &Figures) -> FrameworkSummary {
    FrameworkSummary {
        id: framework.id,
        key: framework.key,
        name: framework.name,
        version: framework.version,
        attack_version: framework.attack_version,
        domain: framework.domain,
        imported_at: framework.imported_at,
        control_count: controls,
        figures: figures(f),
    }
}

/// `GET /compliance/frameworks`: every imported framework with its overall figures.
pub async fn frameworks(conn: &impl ConnectionTrait) -> AppResult<Vec<FrameworkSummary>> {
    let frameworks = compliance_framework::Entity::find()
        .order_by_asc(compliance_framework::Column::Name)
        .order_by_desc(compliance_framework::Column::Version)
        .all(conn)
        .await?;
    if frameworks.is_empty() {
        return Ok(Vec::new());
    }
    let states = technique_states(conn).await?;
    let mut out = Vec::new();
    for framework in frameworks {
        let mapped = mappings(conn, framework.id).await?;
        let controls = compliance_control::Entity::find()
            .filter(compliance_control::Column::FrameworkId.eq(framework.id))
            .count(conn)
            .await?;
        let f = figures_of(mapped.values().flatten(), &states);
        out.push(summary(framework, controls, &f));
    }
    Ok(out)
}

/// Finds a framework by id, or by key (its newest version).
async fn find_framework(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<compliance_framework::Model> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => {
            compliance_framework::Entity::find_by_id(id)
                .one(conn)
                .await?
        }
        Err(_) => {
            compliance_framework::Entity::find()
                .filter(compliance_framework::Column::Key.eq(key.to_lowercase()))
                .order_by_desc(compliance_framework::Column::ImportedAt)
                .one(conn)
                .await?
        }
    };
    found.ok_or_else(|| AppError::NotFound(format!("No compliance framework '{key}'")))
}

/// `GET /compliance/frameworks/{id}`: the framework, its families and its controls (in id
/// order), each with its figures.
pub async fn framework(conn: &impl ConnectionTrait, key: &str) -> AppResult<FrameworkDetail> {
    let framework = find_framework(conn, key).await?;
    let (states, mapped, controls) = tokio::join!(
        technique_states(conn),
        mappings(conn, framework.id),
        compliance_control::Entity::find()
            .filter(compliance_control::Column::FrameworkId.eq(framework.id))
            .all(conn)
    );
    let (states, mapped, mut controls) = (states?, mapped?, controls?);
    controls.sort_by_key(|c| control_order(&c.control_id));
    let empty = Vec::new();
    let mut families: BTreeMap<String, (String, u64, Vec<&String>)> = BTreeMap::new();
    let rows: Vec<ControlSummary> = controls
        .iter()
        .map(|c| {
            let techniques = mapped.get(&c.id).unwrap_or(&empty);
            let family = families
                .entry(c.family.clone())
                .or_insert_with(|| (c.family_name.clone(), 0, Vec::new()));
            family.1 += 1;
            family.2.extend(techniques.iter());
            ControlSummary {
                id: c.id,
                control_id: c.control_id.clone(),
                name: c.name.clone(),
                family: c.family.clone(),
                figures: figures(&figures_of(techniques, &states)),
            }
        })
        .collect();
    let families = families
        .into_iter()
        .map(|(family, (name, count, techniques))| FamilySummary {
            family,
            name,
            control_count: count,
            figures: figures(&figures_of(techniques, &states)),
        })
        .collect();
    let overall = figures_of(mapped.values().flatten(), &states);
    Ok(FrameworkDetail {
        framework: summary(framework, rows.len() as u64, &overall),
        families,
        controls: rows,
    })
}

/// `GET /compliance/controls/{id}`: a control's techniques with their coverage, score and the
/// validated tests behind them.
pub async fn control(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<ControlDetail> {
    let control = compliance_control::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No compliance control {id}")))?;
    let framework = compliance_framework::Entity::find_by_id(control.framework_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("The control's framework is gone".into()))?;
    let mapped = compliance_mapping::Entity::find()
        .filter(compliance_mapping::Column::ControlId.eq(control.id))
        .all(conn)
        .await?;
    let states = technique_states(conn).await?;
    let ids: Vec<String> = mapped.iter().map(|m| m.technique_id.clone()).collect();
    let mut evidence: HashMap<String, (u64, Vec<EvidenceTest>)> = HashMap::new();
    for chunk in ids.chunks(200) {
        let tests = security_test::Entity::find()
            .select_only()
            .columns([
                security_test::Column::Id,
                security_test::Column::Title,
                security_test::Column::TechniqueId,
                security_test::Column::DetectionResult,
                security_test::Column::CompletedAt,
            ])
            .filter(security_test::Column::State.eq(TestState::Validated))
            .filter(security_test::Column::TechniqueId.is_in(chunk.to_vec()))
            .order_by_desc(security_test::Column::CompletedAt)
            .into_tuple::<(
                Uuid,
                String,
                String,
                Option<crate::domain::values::DetectionResult>,
                Option<chrono::DateTime<chrono::Utc>>,
            )>()
            .all(conn)
            .await?;
        for (id, title, technique, detection_result, completed_at) in tests {
            let entry = evidence.entry(technique).or_default();
            entry.0 += 1;
            if entry.1.len() < EVIDENCE_SHOWN {
                entry.1.push(EvidenceTest {
                    id,
                    title,
                    detection_result,
                    completed_at,
                });
            }
        }
    }
    let mut techniques: Vec<MappedTechnique> = mapped
        .into_iter()
        .filter_map(|m| {
            let state = states.get(&m.technique_id)?;
            let (validated_tests, evidence) = evidence.remove(&m.technique_id).unwrap_or_default();
            Some(MappedTechnique {
                name: state.name.clone(),
                coverage_status: state.status,
                score: crate::domain::scoring::round1(state.score),
                mapping_type: m.mapping_type,
                comments: m.comments,
                validated_tests,
                evidence,
                mitre_id: m.technique_id,
            })
        })
        .collect();
    techniques.sort_by(|a, b| a.mitre_id.cmp(&b.mitre_id));
    let f = figures_of(techniques.iter().map(|t| &t.mitre_id), &states);
    let uncovered_techniques = techniques
        .iter()
        .filter(|t| t.coverage_status == CoverageStatus::NotCovered)
        .map(|t| t.mitre_id.clone())
        .collect();
    Ok(ControlDetail {
        control: ControlSummary {
            id: control.id,
            control_id: control.control_id,
            name: control.name,
            family: control.family,
            figures: figures(&f),
        },
        family_name: control.family_name,
        framework_id: framework.id,
        framework_name: format!("{} {}", framework.name, framework.version),
        techniques,
        uncovered_techniques,
    })
}

/// One row per (control, technique) of a framework, for the CSV report.
pub async fn report_rows(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<(FrameworkDetail, Vec<[String; 9]>)> {
    let detail = framework(conn, key).await?;
    let states = technique_states(conn).await?;
    let mapped = mappings(conn, detail.framework.id).await?;
    let mut rows = Vec::new();
    for c in &detail.controls {
        let mut techniques: Vec<&String> = mapped.get(&c.id).into_iter().flatten().collect();
        techniques.sort();
        if techniques.is_empty() {
            rows.push([
                c.control_id.clone(),
                c.name.clone(),
                c.family.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                c.figures.coverage_percent.to_string(),
                c.figures.mean_score.to_string(),
            ]);
        }
        for t in techniques {
            let Some(s) = states.get(t) else { continue };
            rows.push([
                c.control_id.clone(),
                c.name.clone(),
                c.family.clone(),
                t.clone(),
                s.name.clone(),
                s.status.as_str().to_owned(),
                crate::domain::scoring::round1(s.score).to_string(),
                c.figures.coverage_percent.to_string(),
                c.figures.mean_score.to_string(),
            ]);
        }
    }
    Ok((detail, rows))
}

/// The CSV report's header.
pub const REPORT_HEADER: [&str; 9] = [
    "control_id",
    "control_name",
    "family",
    "technique_id",
    "technique_name",
    "coverage_status",
    "technique_score",
    "control_coverage_percent",
    "control_mean_score",
];
