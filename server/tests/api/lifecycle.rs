use crate::common::{Backend, TestApp, json_body};
use crate::on_both_backends;
use migration::{Migrator, MigratorTrait};

on_both_backends!(migrations_roll_back_and_forward);

/// Every migration can be undone and redone: the schema is never a one-way door.
async fn migrations_roll_back_and_forward(app: TestApp) -> TestApp {
    let db = app::server::platform::db::connect(&app.config.database_url)
        .await
        .unwrap();
    let applied = Migrator::get_applied_migrations(&db).await.unwrap().len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&db, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        applied
    );
    db.close().await.unwrap();
    app
}

#[tokio::test]
async fn health_reports_a_lost_database() {
    let app = TestApp::start(Backend::Postgres).await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    crate::common::drop_pg_database(app.pg_database.as_deref().unwrap()).await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body = json_body(response).await;
    assert_eq!(body["status"], "unavailable");
    assert!(body["detail"].is_string());
    app.finish().await;
}
