//! The techniques the seeded tests are about: the active ones of the imported ATT&CK.
use super::rng::Rng;
use super::vocabulary::{POORLY_SEEN, UNSEEN, WELL_SEEN};
use anyhow::bail;
use app::server::entities::technique;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

pub(super) struct Tech {
    pub(super) mitre_id: String,
    pub(super) name: String,
    pub(super) platforms: Vec<String>,
    /// Weights of detected, partial and not detected: how visible this technique is to the
    /// blue team's tooling.
    pub(super) visibility: [u32; 3],
}

/// The active (neither deprecated nor revoked) techniques, by ATT&CK id, each with a drawn
/// visibility.
pub(super) async fn load_techniques(
    db: &DatabaseConnection,
    rng: &mut Rng,
) -> anyhow::Result<Vec<Tech>> {
    let any = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .into_tuple::<String>()
        .one(db)
        .await?;
    if any.is_none() {
        bail!(
            "the techniques table is empty: import ATT&CK first (`aegis import-attack FILE` or \
             the System panel), then seed"
        );
    }
    let rows: Vec<(String, String, Value)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Name)
        .column(technique::Column::Platforms)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .order_by_asc(technique::Column::MitreId)
        .into_tuple()
        .all(db)
        .await?;
    if rows.is_empty() {
        bail!("every technique is deprecated or revoked: import a current ATT&CK release first");
    }
    Ok(rows
        .into_iter()
        .map(|(mitre_id, name, platforms)| {
            let platforms = platforms
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                // As the test form stores them.
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect();
            let visibility = [WELL_SEEN, POORLY_SEEN, UNSEEN][rng.weighted(&[45, 30, 25])];
            Tech {
                mitre_id,
                name,
                platforms,
                visibility,
            }
        })
        .collect())
}

/// The command line a technician would run for `tech` on `platform`.
pub(super) fn command_for(platform: Option<&str>, tech: &Tech) -> String {
    match platform {
        Some("windows") => format!(
            "powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{}.ps1",
            tech.mitre_id
        ),
        Some("linux") => format!("bash -c './emulate.sh {}'", tech.mitre_id),
        Some("macos") => format!(
            "osascript -e 'do shell script \"./emulate {}\"'",
            tech.mitre_id
        ),
        _ => format!("./emulate --technique {}", tech.mitre_id),
    }
}
