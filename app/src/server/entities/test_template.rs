use crate::domain::values::{Severity, TemplateSource};
use sea_orm::entity::prelude::*;

/// A procedure teams can instantiate as a test, from one of the `TemplateSource`s; `external_id` is the upstream key (an atomic's GUID). `content_hash` covers the
/// upstream-owned fields, so a re-import knows what changed without comparing each one.
/// `input_arguments` is `[{"name", "description", "type", "default"}]`; `dependencies` is
/// `[{"description", "prereq_command", "get_prereq_command"}]`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "test_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source: TemplateSource,
    pub external_id: Option<String>,
    pub technique_id: String,
    pub name: String,
    pub description: String,
    pub platforms: Json,
    pub executor_name: Option<String>,
    pub command: String,
    pub cleanup_command: Option<String>,
    pub elevation_required: bool,
    pub input_arguments: Json,
    pub dependencies: Json,
    pub dependency_executor_name: Option<String>,
    pub expected_detection: String,
    pub suggested_tools: Json,
    pub severity: Severity,
    pub remediation_steps: Json,
    pub is_active: bool,
    pub content_hash: String,
    /// The upstream licence (SPDX id, or the terms it is published under).
    pub license: Option<String>,
    /// Where the upstream entry is read.
    pub source_url: Option<String>,
    /// The fields only the template's source has (`dto::catalog::SourceDetails`).
    pub details: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
