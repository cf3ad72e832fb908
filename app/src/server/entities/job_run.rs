use sea_orm::entity::prelude::*;

/// One run of a background job, from enqueueing to its end. `progress` is
/// `{"stage", "done", "total", "message"}` while it runs.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub job: String,
    pub trigger: String,
    pub requested_by: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub progress: Option<Json>,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub enqueued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// The job's input, for jobs that take one.
    pub params: Option<Json>,
    /// The schedule's tick (seconds since the epoch) a scheduled run was made for: one run per
    /// tick, whichever server process fires it first.
    pub scheduled_for: Option<i64>,
    /// Stamped every few seconds by the process running it: a stale stamp on a `running`
    /// run means that process is gone.
    pub heartbeat_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
