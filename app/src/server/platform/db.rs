//! Connecting to PostgreSQL or the embedded SQLite with the same code.
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// How long a request waits for a connection by default: while the database is down, the pool
/// keeps trying to connect until then, so this is also how fast a request fails (503).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Connects with `acquire_timeout` as the longest wait for a connection (and for a new one to
/// open).
pub async fn connect_with(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        // WAL lets readers proceed while a writer commits; the busy timeout makes writers queue
        // rather than fail when two transactions overlap.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    if url.starts_with("sqlite:") {
        options.max_connections(8);
    } else {
        options.max_connections(20);
    }
    Database::connect(options).await
}

/// Brings the schema up to date, and counts the tests once if the maintained counters are
/// new to this database (`workflow::tallies::build_if_missing`).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    crate::server::workflow::tallies::build_if_missing(db)
        .await
        .map_err(|e| DbErr::Custom(format!("counting the tests: {}", e.detail())))
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails at once with
/// `SQLITE_BUSY` when another connection (the job queue's poller, say) committed in between,
/// whereas an immediate one waits its turn under the busy timeout. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// For `LIKE … ESCAPE '\'`: `%`, `_` and the escape character itself match literally.
/// Also drops NUL characters, which no stored text can hold (PostgreSQL refuses them).
pub fn escape_like(text: &str) -> String {
    text.replace('\0', "")
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A raw statement written with `?` placeholders, numbered `$1, $2, …` for PostgreSQL. Raw SQL
/// is kept to the aggregate queries the query builder cannot express on both backends; the
/// SQL text never contains a literal `?`.
pub fn statement(
    backend: sea_orm::DbBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push('$');
                    numbered.push_str(&n.to_string());
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// SQL (and its one bound value) that is true when the JSON list of strings in `column` holds
/// `item`, compared lower-case: the list's text holds `"item"` exactly when the list does.
pub fn json_list_contains(column: &str, item: &str) -> (String, sea_orm::Value) {
    (
        format!("lower(CAST({column} AS TEXT)) LIKE ? ESCAPE '\\'"),
        format!("%\"{}\"%", escape_like(&item.to_lowercase())).into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let pg = statement(
            sea_orm::DbBackend::Postgres,
            "a = ? AND b IN (?, ?)",
            vec![1.into(), 2.into(), 3.into()],
        );
        assert_eq!(pg.sql, "a = $1 AND b IN ($2, $3)");
        let lite = statement(sea_orm::DbBackend::Sqlite, "a = ?", vec![1.into()]);
        assert_eq!(lite.sql, "a = ?");
    }
}
