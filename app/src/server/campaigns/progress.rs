//! `GET /campaigns/{id}/progress`: tests per state, each technique's coverage within the
//! campaign (the coverage rule over the campaign's own tests), by tactic, the time its
//! worklogs hold and the gaps whose remediation is still open.
use super::{counts_of, find};
use crate::domain::campaigns::technique_coverage;
use crate::domain::coverage::CoverageStatus;
use crate::domain::values::{DetectionResult, RemediationStatus};
use crate::domain::workflow::TestState;
use crate::dto::campaigns::{CampaignProgress, CampaignTechnique, TacticProgress};
use crate::error::AppResult;
use crate::server::entities::{security_test, tactic, technique, worklog_entry};
use crate::server::workflow::reads::strings;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

type Row = (
    Uuid,
    String,
    TestState,
    Option<DetectionResult>,
    RemediationStatus,
    Option<Uuid>,
);

pub async fn progress(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<CampaignProgress> {
    find(conn, id).await?;
    let rows: Vec<Row> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::Id)
        .column(security_test::Column::TechniqueId)
        .column(security_test::Column::State)
        .column(security_test::Column::DetectionResult)
        .column(security_test::Column::RemediationStatus)
        .column(security_test::Column::RemediationOwner)
        .filter(security_test::Column::CampaignId.eq(id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut states: BTreeMap<TestState, u64> = BTreeMap::new();
    for row in &rows {
        *states.entry(row.2).or_default() += 1;
    }
    let tests = counts_of(&states);
    let open_remediations = rows
        .iter()
        // A rejected test's result does not count until it is reopened.
        .filter(|(_, _, state, detection, remediation, owner)| {
            *state != TestState::Rejected
                && (detection.is_some_and(DetectionResult::is_gap) || owner.is_some())
                && remediation.is_open()
        })
        .count() as u64;
    let coverage = technique_coverage(
        &rows
            .iter()
            .map(|(_, t, s, d, _, _)| (t.clone(), *s, *d))
            .collect::<Vec<_>>(),
    );
    let known: HashMap<String, technique::Model> = technique::Entity::find()
        .filter(technique::Column::MitreId.is_in(coverage.keys().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.mitre_id.clone(), t))
        .collect();
    let count =
        |status: CoverageStatus| coverage.values().filter(|(s, _)| *s == status).count() as u64;
    let techniques_covered = count(CoverageStatus::Validated);
    let techniques_partial = count(CoverageStatus::Partial);
    let techniques_not_covered = coverage.len() as u64 - techniques_covered - techniques_partial;
    let mut by_tactic = Vec::new();
    for tactic in tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .order_by_asc(tactic::Column::MitreId)
        .all(conn)
        .await?
    {
        let mut entry = TacticProgress {
            tactic: tactic.shortname.clone(),
            name: tactic.name.clone(),
            techniques: 0,
            covered: 0,
            partial: 0,
            not_covered: 0,
        };
        for (technique_id, (status, _)) in &coverage {
            let Some(t) = known.get(technique_id) else {
                continue;
            };
            if !strings(&t.tactics).contains(&tactic.shortname) {
                continue;
            }
            entry.techniques += 1;
            match status {
                CoverageStatus::Validated => entry.covered += 1,
                CoverageStatus::Partial => entry.partial += 1,
                _ => entry.not_covered += 1,
            }
        }
        if entry.techniques > 0 {
            by_tactic.push(entry);
        }
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let mut time_spent_minutes = 0i64;
    for chunk in ids.chunks(500) {
        let minutes: Vec<i32> = worklog_entry::Entity::find()
            .select_only()
            .column(worklog_entry::Column::Minutes)
            .filter(worklog_entry::Column::TestId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        time_spent_minutes += minutes.into_iter().map(i64::from).sum::<i64>();
    }
    let percent_finished = (tests.finished * 100)
        .checked_div(tests.total)
        .map_or(0, |p| p as u8);
    Ok(CampaignProgress {
        campaign_id: id,
        percent_finished,
        tests,
        techniques_covered,
        techniques_partial,
        techniques_not_covered,
        techniques: coverage
            .into_iter()
            .map(|(technique_id, (status, tests))| CampaignTechnique {
                name: known.get(&technique_id).map(|t| t.name.clone()),
                technique_id,
                status,
                tests,
            })
            .collect(),
        by_tactic,
        time_spent_minutes,
        open_remediations,
    })
}
